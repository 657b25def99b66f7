"""vision.mdlstm_ctc: the net, held-out data, the verdict on constructed lines, a smoke CLI run."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner

from rnnai.cli import main
from rnnai.data import LabelledSequences
from rnnai.experiments import RunContext, get_experiment
from rnnai.experiments.vision_mdlstm_ctc import (
    TEST_FONTS,
    TRAIN_FONTS,
    held_out_lines,
    make_data,
    matched_blstm,
    mdctc_judgement,
    subset,
)
from rnnai.nn.mdlstm import MDCTCConfig, MDLSTMCTCNet
from rnnai.runtime.errors import RnnaiError
from rnnai.train.ctc import CTCNetConfig, count_params

SMALL = MDCTCConfig(input_block=(2, 2), hidden=(2, 3, 4), subsample=(3, 4),
                    subsample_blocks=((2, 2), (2, 1)))  # fmt: skip


def _net(height: int = 16, classes: int = 5) -> MDLSTMCTCNet:
    return MDLSTMCTCNet(height, classes, SMALL, torch.Generator().manual_seed(0))


def test_held_out_lines_drop_seen_texts_and_repeats() -> None:
    assert held_out_lines(["a b", "c", "a b", "d", "c"], {"c"}) == [0, 3]
    assert held_out_lines(["x"], {"x"}) == []


def test_subset_keeps_lines_aligned() -> None:
    feats = [np.full((4 + i, 3), i, np.float32) for i in range(3)]
    data = LabelledSequences(feats, [np.array([1 + i]) for i in range(3)], ["a", "b", "c"],
                             ("<blank>", "a", "b", "c"), None, {})  # fmt: skip
    part = subset(data, [2, 0])
    assert part.texts == ["c", "a"] and part.labels[0].tolist() == [3]
    assert float(part.features[0][0, 0]) == 2.0 and part.meta["kept"] == [2, 0]
    with pytest.raises(RnnaiError):
        subset(data, [])


def test_the_config_knows_its_stride_and_rejects_bad_blocks() -> None:
    assert MDCTCConfig().stride == 4 and MDCTCConfig().rows(32) == 2
    assert MDCTCConfig(subsample_blocks=((2, 2), (2, 2))).stride == 8
    assert SMALL.stride == 4 and SMALL.rows(16) == 2
    assert MDCTCConfig(**json.loads(json.dumps(asdict(SMALL)))) == SMALL  # from a JSON config
    with pytest.raises(RnnaiError):
        SMALL.rows(12)  # 12 rows are not a multiple of 2 * 2 * 2
    with pytest.raises(RnnaiError):
        MDCTCConfig(hidden=(2, 0, 5))
    with pytest.raises(RnnaiError):
        MDLSTMCTCNet(12, 5, SMALL, torch.Generator())


def test_the_net_reads_pixel_blocks_and_collapses_the_rows() -> None:
    net = _net()
    x = torch.randn(2, 10, 16)  # (N, L, F): 10 columns of 16 pixels
    seen: dict[str, torch.Tensor] = {}
    net.level1.register_forward_pre_hook(lambda m, a: seen.__setitem__("in", a[0]))
    net.level3.register_forward_hook(lambda m, a, out: seen.__setitem__("top", out))
    logp, lengths = net(x, torch.tensor([10, 7]))
    assert tuple(logp.shape) == (2, 3, 5) and lengths.tolist() == [3, 2]  # ceil(L / 4)
    # input vector at block (r, c) = the 2x2 pixels image[2r:2r+2, 2c:2c+2], row-major
    image = F.pad(x, (0, 0, 0, 2)).transpose(1, 2)  # (N, F, L + pad)
    for r, c in ((0, 0), (3, 2), (7, 5)):
        block = image[:, 2 * r : 2 * r + 2, 2 * c : 2 * c + 2].reshape(2, 4)
        torch.testing.assert_close(seen["in"][:, :, r, c], block, rtol=0, atol=0)
    # output = log-softmax over labels of the head summed over the top level's rows
    a = net.head(seen["top"]).sum(2).transpose(1, 2)  # (N, L', C)
    torch.testing.assert_close(logp, torch.log_softmax(a, -1))
    torch.testing.assert_close(logp.exp().sum(-1), torch.ones(2, 3))


def test_a_lines_outputs_do_not_depend_on_the_batch_it_is_padded_in() -> None:
    net = _net().double()
    x = torch.randn(3, 13, 16, dtype=torch.float64)
    lengths = torch.tensor([13, 5, 9])
    logp, out_lengths = net(x, lengths)
    for n, w in enumerate(lengths.tolist()):
        alone, alone_len = net(x[n : n + 1, :w], lengths[n : n + 1])
        assert out_lengths[n] == alone_len[0] == alone.shape[1]
        torch.testing.assert_close(logp[n : n + 1, : alone.shape[1]], alone, rtol=0, atol=1e-12)


def test_every_weight_gets_a_gradient_from_the_ctc_loss() -> None:
    net = _net()
    logp, lengths = net(torch.randn(2, 12, 16), torch.tensor([12, 12]))
    loss = F.ctc_loss(logp.transpose(0, 1), torch.tensor([1, 2, 3, 4]), lengths,
                      torch.tensor([2, 2]))  # fmt: skip
    loss.backward()
    for name, p in net.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name


def test_the_same_generator_gives_the_same_net() -> None:
    a, b = _net(), _net()
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(pa, pb)
    with torch.no_grad():
        w1, w3 = a.level1.weight_hh.abs().max(), a.level3.weight_hh.abs().max()
        assert 0.5 < float(w1) <= 2**-0.5 and float(w3) <= 4**-0.5  # 1/sqrt(H), H = 2 and 4
        assert float(a.head.weight.abs().max()) <= (4 * 4) ** -0.5  # 1/sqrt(fan_in)


def test_the_blstm_is_matched_to_the_md_lstms_weight_count() -> None:
    target = _net(classes=28).n_params
    cfg = matched_blstm(target, CTCNetConfig(layers=2, stack=4), 16, 28)
    best = count_params(cfg, 16, 28)
    for h in (cfg.hidden - 1, cfg.hidden + 1):
        other = count_params(CTCNetConfig(layers=2, stack=4, hidden=h), 16, 28)
        assert abs(best - target) <= abs(other - target)
    with pytest.raises(RnnaiError):
        matched_blstm(0, cfg, 16, 28)


@pytest.fixture(scope="module")
def smoke_data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, LabelledSequences]:
    d = get_experiment("vision.mdlstm_ctc").config("smoke")["data"]
    return make_data(d, cache_dir=tmp_path_factory.mktemp("lines"))


def test_test_lines_share_no_text_and_no_font_with_training(
    smoke_data: dict[str, LabelledSequences],
) -> None:
    seen = set(smoke_data["train"].texts) | set(smoke_data["valid"].texts)
    test = smoke_data["test"]
    assert test.texts and not seen & set(test.texts)
    assert len(set(test.texts)) == len(test.texts)
    assert not set(TRAIN_FONTS) & set(TEST_FONTS)
    assert tuple(test.meta["config"]["fonts"]) == TEST_FONTS
    for k in ("train", "valid"):
        assert tuple(smoke_data[k].meta["config"]["fonts"]) == TRAIN_FONTS
    d = get_experiment("vision.mdlstm_ctc").config("quick")["data"]
    assert len({d["seeds"][k] for k in ("train", "valid", "test")}) == 3
    with pytest.raises(RnnaiError):
        make_data({**d, "test_fonts": [TRAIN_FONTS[0]]})


def test_every_verdict_is_reachable() -> None:
    refs = [f"word{'s' * (i % 3)} here" for i in range(40)]
    garbled = ["xx" for _ in refs]
    both = mdctc_judgement(refs, refs, garbled, refs)
    assert both.verdict == "partial" and all(e.passed for e in both.evidence)
    one = mdctc_judgement(refs, refs, garbled, garbled)
    assert one.verdict == "partial" and [e.passed for e in one.evidence] == [True, False]
    none = mdctc_judgement(refs, garbled, refs, garbled)
    assert none.verdict == "not_reproduced"


def _ctx(out: Path) -> RunContext:
    exp = get_experiment("vision.mdlstm_ctc")
    return RunContext(name=exp.name, scale="smoke", seed=0, out_dir=out,
                      config=exp.config("smoke"))  # fmt: skip


def test_smoke_run_writes_a_consistent_result(tmp_path: Path) -> None:
    r = CliRunner().invoke(
        main, ["run", "vision.mdlstm_ctc", "--scale", "smoke", "--out", str(tmp_path), "--quiet"]
    )
    assert r.exit_code == 0, r.output
    out = tmp_path / "vision.mdlstm_ctc"
    res = json.loads((out / "result.json").read_text())
    assert res["verdict"] in ("partial", "not_reproduced")
    m = res["metrics"]
    data = m["data"]
    assert data["n_test"] + data["n_test_dropped_seen_text"] == data["n_test_rendered"]
    for k in ("mdlstm", "blstm"):
        lo, hi = m[k]["test_ler_interval"]
        assert lo <= m[k]["test_ler"] <= hi and len(m[k]["curve"]) == 1
    ratio = m["blstm"]["params"] / m["mdlstm"]["params"]
    assert 0.8 < ratio < 1.25  # similar size
    assert [e["n"] for e in res["judgement"]["evidence"]] == [m["data"]["n_test"]] * 2
    for plot in ("learning_curves.png", "examples.png"):
        assert plot in res["plots"] and (out / plot).stat().st_size > 1000


def test_a_run_killed_between_the_two_nets_resumes_with_the_same_result(tmp_path: Path) -> None:
    exp = get_experiment("vision.mdlstm_ctc")
    full = exp.run(_ctx(tmp_path / "full")).metrics

    class Killed(Exception):
        pass

    killed = _ctx(tmp_path / "killed")
    save = killed.checkpointer.save

    def save_then_die(tensors: Any, state: Any) -> None:
        save(tensors, state)
        if "mdlstm" in state.get("train_loop", {}).get("done", {}):
            raise Killed  # the MD-LSTM is trained and in the checkpoint, the BLSTM is not

    killed.checkpointer.save = save_then_die  # type: ignore[method-assign]
    with pytest.raises(Killed):
        exp.run(killed)
    assert exp.run(_ctx(tmp_path / "killed")).metrics == full
