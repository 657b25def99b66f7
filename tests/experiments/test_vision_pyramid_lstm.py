"""vision.pyramid_lstm: size matching, disjoint volumes, resume, and a smoke run through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from rnnai.cli import main
from rnnai.data.images import content_hashes
from rnnai.data.segmentation import SPLITS, MembraneConfig, segmentation_splits
from rnnai.experiments import RunContext, get_experiment
from rnnai.experiments.vision_mdlstm_segmentation import (
    DilatedCNN,
    MDLSTMSegmenter,
    count_params,
    matched_width,
)
from rnnai.experiments.vision_pyramid_lstm import PyraMiDSegmenter, matched_mdlstm_hidden
from rnnai.runtime.errors import RnnaiError


def test_matched_mdlstm_hidden_counts_parameters_exactly() -> None:
    for h in (1, 3, 6):
        n = count_params(MDLSTMSegmenter(h, ndim=3))
        assert matched_mdlstm_hidden(n) == h  # the formula equals the module's count
    with pytest.raises(RnnaiError):
        matched_mdlstm_hidden(0)


def test_the_quick_scale_nets_have_similar_sizes() -> None:
    cfg = get_experiment("vision.pyramid_lstm").config("quick")
    target = count_params(PyraMiDSegmenter(cfg["hidden"]))
    md = count_params(MDLSTMSegmenter(matched_mdlstm_hidden(target), ndim=3))
    cnn = count_params(DilatedCNN(matched_width(target, ndim=3), ndim=3))
    assert abs(md - target) / target < 0.25 and abs(cnn - target) / target < 0.1


def test_the_pyramid_net_sees_the_whole_volume() -> None:
    torch.manual_seed(0)
    x = torch.randn(1, 1, 5, 5, 5).requires_grad_()
    PyraMiDSegmenter(2)(x)[0, 0, 2, 2, 2].backward()
    assert x.grad is not None and bool((x.grad != 0).all())


def test_the_experiments_volumes_come_from_disjoint_streams() -> None:
    cfg = get_experiment("vision.pyramid_lstm").config("smoke")
    side = cfg["side"]
    parts = segmentation_splits(
        "membranes", cfg["sizes"], seed=cfg["data_seed"],
        membrane=MembraneConfig(shape=(side,) * 3, cells=cfg["cells"], wall_width=(1.0, 2.0)),
    )  # fmt: skip
    seeds = {p: set(parts[p].ids.tolist()) for p in SPLITS}
    hashes = {p: set(content_hashes(parts[p].images.reshape(len(parts[p]), side, -1)))
              for p in SPLITS}  # fmt: skip
    assert not seeds["train"] & seeds["test"] and not hashes["train"] & hashes["test"]
    assert not seeds["train"] & seeds["valid"] and not hashes["valid"] & hashes["test"]
    assert not seeds["valid"] & seeds["test"]  # the learning rate is chosen on unseen volumes


def test_smoke_run_writes_a_consistent_result(tmp_path: Path) -> None:
    r = CliRunner().invoke(
        main, ["run", "vision.pyramid_lstm", "--scale", "smoke", "--out", str(tmp_path), "--quiet"]
    )
    assert r.exit_code == 0, r.output
    out = tmp_path / "vision.pyramid_lstm"
    res = json.loads((out / "result.json").read_text())
    assert res["verdict"] in ("partial", "not_reproduced")
    m = res["metrics"]
    assert set(m["parameters"]) == {"PyraMiD-LSTM", "MD-LSTM", "CNN"}
    assert m["pyramid_vs_mdlstm"]["n"] == m["test_volumes"] * m["seeds"]
    assert "PyraMiD-LSTM" in res["judgement"]["evidence"][0]["claim"]
    rates = {f"{r:g}" for r in get_experiment("vision.pyramid_lstm").config("smoke")["rates"]}
    for choice in m["lr_search"].values():
        assert set(choice["valid_error_and_loss"]) == rates and f"{choice['lr']:g}" in rates
    for plot in ("segmentations.png", "learning_curves.png"):
        assert plot in res["plots"] and (out / plot).stat().st_size > 1000


def test_a_finished_run_resumes_from_its_checkpoint_with_the_same_result(tmp_path: Path) -> None:
    exp = get_experiment("vision.pyramid_lstm")

    def ctx() -> RunContext:
        return RunContext(name=exp.name, scale="smoke", seed=0, out_dir=tmp_path,
                          config=exp.config("smoke"))  # fmt: skip

    first = ctx()
    full = exp.run(first).metrics
    loaded = first.checkpointer.load()
    assert loaded is not None
    tensors, state = loaded
    del state["runs"]["CNN/0"]  # as if killed before the last net finished ...
    del state["search"]["CNN"]["0.03"]  # ... and before the CNN's last search run
    first.checkpointer.save(tensors, state)
    assert exp.run(ctx()).metrics == full
