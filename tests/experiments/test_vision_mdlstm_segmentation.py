"""vision.mdlstm_segmentation: size matching, exact resume, disjoint data, verdict, smoke run."""

from __future__ import annotations

import dataclasses
import inspect
import json
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import torch
from click.testing import CliRunner

from rnnai.cli import main
from rnnai.data.images import content_hashes, load_digits_images, split_images
from rnnai.data.segmentation import SPLITS, DigitSceneConfig, MembraneConfig, segmentation_splits
from rnnai.experiments import RunContext, get_experiment
from rnnai.experiments import vision_mdlstm_segmentation as module
from rnnai.experiments.vision_mdlstm_segmentation import (
    DilatedCNN,
    MDLSTMSegmenter,
    SegTrainConfig,
    choose_rate,
    collapsed_note,
    count_params,
    evaluate_segmenter,
    matched_width,
    pairwise_judgement,
    predict_proba,
    search_rate,
    train_segmenter,
)
from rnnai.runtime.checkpoint import Checkpointer
from rnnai.runtime.errors import RnnaiError
from rnnai.train.hooks import SilentHooks


@pytest.mark.parametrize("ndim", [2, 3])
def test_matched_width_is_the_closest_parameter_count(ndim: int) -> None:
    for target in (500, 3073, 9000):
        w = matched_width(target, ndim=ndim)
        best = abs(count_params(DilatedCNN(w, ndim=ndim)) - target)
        for other in (w - 1, w + 1):
            if other >= 1:
                assert abs(count_params(DilatedCNN(other, ndim=ndim)) - target) >= best
    with pytest.raises(RnnaiError):
        matched_width(0, ndim=2)


def test_the_cnn_sees_the_whole_canvas_and_the_mdlstm_every_pixel() -> None:
    torch.manual_seed(0)
    x = torch.randn(1, 1, 33, 33).requires_grad_()
    DilatedCNN(16, ndim=2)(x)[0, 0, 16, 16].backward()
    assert x.grad is not None
    assert (x.grad[0, 0, [0, 32]] != 0).any() and (x.grad[0, 0, :, [0, 32]] != 0).any()
    x2 = torch.randn(1, 1, 35, 35).requires_grad_()
    DilatedCNN(16, ndim=2)(x2)[0, 0, 17, 17].backward()
    assert x2.grad is not None and not (x2.grad[0, 0, 0] != 0).any()  # 33 pixels, no more
    y = torch.zeros(1, 1, 6, 7, requires_grad=True)
    MDLSTMSegmenter(2, ndim=2)(y)[0, 0, 0, 0].backward()
    assert y.grad is not None and bool((y.grad != 0).all())  # 4 sweeps reach every pixel


class _Kill(Exception):
    pass


class _KillingHooks(SilentHooks):
    """Hooks whose progress bar raises after ``after`` steps (a killed process)."""

    def __init__(self, checkpointer: Checkpointer, after: int) -> None:
        super().__init__(checkpointer=checkpointer)
        self.after = after

    @contextmanager  # type: ignore[override]
    def progress(self, total: Any, description: str) -> Any:
        hooks = self

        class Bar:
            n = 0

            def advance(self, n: int | float = 1) -> None:
                Bar.n += 1
                if Bar.n >= hooks.after:
                    raise _Kill

            def update(self, description: str | None = None, **fields: Any) -> None:
                pass

        yield Bar()


def _tiny_data() -> dict:
    return segmentation_splits(
        "membranes", {"train": 6, "valid": 2, "test": 3}, seed=0,
        membrane=MembraneConfig(shape=(6, 6), cells=3),
    )  # fmt: skip


def test_a_killed_training_resumes_exactly_from_its_checkpoint(tmp_path: Path) -> None:
    data = _tiny_data()
    cfg = SegTrainConfig(steps=7, batch=2, lr=0.01, eval_every=3, save_every=2)

    def fresh() -> MDLSTMSegmenter:
        torch.manual_seed(1)
        return MDLSTMSegmenter(2, ndim=2)

    ref = fresh()
    ref_curve = train_segmenter(ref, data["train"], data["valid"], cfg, seed=3,
                                hooks=SilentHooks(), key="k", state={}, tensors=None)  # fmt: skip
    ckpt = Checkpointer(tmp_path / "c.safetensors", {"t": 1})
    state: dict[str, Any] = {"runs": {}}
    with pytest.raises(_Kill):
        train_segmenter(fresh(), data["train"], data["valid"], cfg, seed=3,
                        hooks=_KillingHooks(ckpt, after=5), key="k", state=state,
                        tensors=None)  # fmt: skip
    loaded = ckpt.load()
    assert loaded is not None and loaded[1]["partial"]["step"] == 4
    resumed = fresh()
    curve = train_segmenter(resumed, data["train"], data["valid"], cfg, seed=3,
                            hooks=SilentHooks(checkpointer=ckpt), key="k", state=loaded[1],
                            tensors=loaded[0])  # fmt: skip
    assert json.dumps(curve) == json.dumps(ref_curve)
    for a, b in zip(ref.parameters(), resumed.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert "partial" not in loaded[1]


def test_evaluation_scores_every_test_image() -> None:
    data = _tiny_data()
    net = DilatedCNN(2, ndim=2)
    s = evaluate_segmenter(net, data["test"], batch=2)
    assert {k: len(v) for k, v in s.items()} == {"pixel_error": 3, "f1": 3, "iou": 3}
    p = predict_proba(net, data["test"].images)
    assert p.shape == (3, 6, 6) and ((p >= 0) & (p <= 1)).all()


def test_the_experiments_scenes_share_no_digit_between_splits() -> None:
    cfg = get_experiment("vision.mdlstm_segmentation").config("smoke")
    scene = DigitSceneConfig(canvas=cfg["canvas"], box=cfg["box"], fragment=cfg["fragment"],
                             fragments=cfg["fragments"], noise=cfg["noise"])  # fmt: skip
    parts = segmentation_splits("digits", cfg["sizes"], seed=cfg["data_seed"], digits=scene,
                                source=cfg["source"])  # fmt: skip
    src = split_images(load_digits_images(), valid=0.1, test=0.2, seed=cfg["data_seed"])
    used = {p: set(content_hashes(src[p].images[parts[p].info["used"]])) for p in SPLITS}
    assert not used["train"] & used["test"] and not used["train"] & used["valid"]
    assert not used["valid"] & used["test"]  # the rate chosen on valid has not seen a test digit
    hashes = {p: set(content_hashes(parts[p].images)) for p in SPLITS}
    assert not hashes["valid"] & hashes["test"] and not hashes["train"] & hashes["test"]


def test_choose_rate_takes_the_lowest_validation_error() -> None:
    assert choose_rate({"0.003": [0.2, 0.1], "0.01": [0.1, 0.5], "0.03": [0.3, 0.0]}) == 0.01
    assert choose_rate({"0.003": [0.3, 0.6], "0.01": [0.3, 0.5], "0.03": [0.3, 0.7]}) == 0.01
    assert choose_rate({"0.03": [0.1, 0.2], "0.003": [0.1, 0.2]}) == 0.03  # all tie: first
    assert choose_rate({"0.001": [0.4, 0.9]}) == 0.001
    with pytest.raises(RnnaiError):
        choose_rate({})


def test_the_rate_search_cannot_see_the_test_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "test" not in inspect.signature(search_rate).parameters
    exp = get_experiment("vision.mdlstm_segmentation")

    def run(out: Path) -> dict[str, Any]:
        ctx = RunContext(name=exp.name, scale="smoke", seed=0, out_dir=out,
                         config=exp.config("smoke"))  # fmt: skip
        return exp.run(ctx).metrics

    honest = run(tmp_path / "a")
    real = module.segmentation_splits

    def scrambled(*args: Any, **kwargs: Any) -> dict:
        parts = real(*args, **kwargs)
        t = parts["test"]
        parts["test"] = dataclasses.replace(t, images=1 - t.images, masks=~t.masks)
        return parts

    monkeypatch.setattr(module, "segmentation_splits", scrambled)
    other = run(tmp_path / "b")
    assert other["mean"] != honest["mean"]  # the test set did change ...
    assert other["lr_search"] == honest["lr_search"]  # ... and the choice did not
    rates = exp.config("smoke")["rates"]
    for choice in honest["lr_search"].values():
        scores = choice["valid_error_and_loss"]
        assert choice["lr"] in rates and set(scores) == {f"{r:g}" for r in rates}
        assert scores[f"{choice['lr']:g}"] == min(scores.values())


def test_collapsed_note_names_only_runs_without_any_foreground() -> None:
    res = {"A": {0: {"f1": [0.0, 0.0]}, 1: {"f1": [0.0, 0.2]}}, "B": {0: {"f1": [0.0]}}}
    note = collapsed_note(res)
    assert "A seed 0" in note and "B seed 0" in note and "A seed 1" not in note
    assert collapsed_note({"A": {0: {"f1": [0.1]}}}) == ""


def _scores(err: list[float], f1: list[float], seeds: int = 2) -> dict:
    return {"pixel_error": {s: err for s in range(seeds)}, "f1": {s: f1 for s in range(seeds)}}


def test_every_verdict_is_reachable() -> None:
    good = _scores([0.01, 0.02, 0.015, 0.012], [0.9, 0.8, 0.85, 0.9])
    bad = _scores([0.05, 0.06, 0.055, 0.07], [0.5, 0.4, 0.45, 0.5])
    both = pairwise_judgement(good, bad, ours_name="A", other_name="B", setup="toy")
    assert both.verdict == "partial" and all(e.passed for e in both.evidence)
    assert any("not the paper's setup" in r for r in both.reasons)
    mixed = _scores([0.01, 0.02, 0.015, 0.012], [0.4, 0.3, 0.35, 0.4])
    some = pairwise_judgement(mixed, bad, ours_name="A", other_name="B", setup="toy")
    assert some.verdict == "partial" and [e.passed for e in some.evidence] == [True, False, True]
    none = pairwise_judgement(bad, good, ours_name="A", other_name="B", setup="toy")
    assert none.verdict == "not_reproduced"
    assert none.evidence[0].n == 8 and none.evidence[2].n == 2
    with pytest.raises(RnnaiError, match="same seeds"):
        pairwise_judgement(good, _scores([0.1], [0.1], seeds=1), ours_name="A", other_name="B",
                           setup="toy")  # fmt: skip


def test_the_quick_scale_matches_sizes_and_trains_on_mnist_scenes() -> None:
    cfg = get_experiment("vision.mdlstm_segmentation").config("quick")
    assert cfg["source"] == "mnist" and cfg["seeds"] >= 2 and cfg["sizes"]["test"] >= 50
    md = count_params(MDLSTMSegmenter(cfg["hidden"], ndim=2))
    cnn = count_params(DilatedCNN(matched_width(md, ndim=2), ndim=2))
    assert abs(md - cnn) / md < 0.1


def test_smoke_run_writes_a_consistent_result(tmp_path: Path) -> None:
    r = CliRunner().invoke(
        main,
        ["run", "vision.mdlstm_segmentation", "--scale", "smoke", "--out", str(tmp_path),
         "--quiet"],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    out = tmp_path / "vision.mdlstm_segmentation"
    res = json.loads((out / "result.json").read_text())
    assert res["verdict"] in ("partial", "not_reproduced")
    m = res["metrics"]
    assert set(m["parameters"]) == {"MD-LSTM", "CNN"}
    assert 0.0 <= m["mean"]["MD-LSTM"]["pixel_error"] <= 1.0
    assert res["judgement"]["evidence"][0]["n"] == m["test_scenes"] * m["seeds"]
    for plot in ("segmentations.png", "learning_curves.png"):
        assert plot in res["plots"] and (out / plot).stat().st_size > 1000
    assert res["headline"]["value"] == pytest.approx(100 * m["mean"]["MD-LSTM"]["pixel_error"])
    assert set(m["lr_search"]) == {"MD-LSTM", "CNN"}
