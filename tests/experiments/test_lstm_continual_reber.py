"""lstm.continual_reber: smoke run through the CLI, exact resume, the verdict rule, helpers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from rnnai.cli import main
from rnnai.experiments.base import RunContext
from rnnai.experiments.lstm_continual_reber import (
    PAPER_FRACTION,
    PAPER_TARGET,
    StreamTrainConfig,
    StreamTrial,
    continual_judgement,
    measure_run_length,
    net_config,
    run_length_from_start,
    train_net,
)
from rnnai.runtime.errors import RnnaiError
from rnnai.runtime.testing import Killed, KillingCheckpointer
from rnnai.train.sequence import SequenceNet

NAME = "lstm.continual_reber"


def test_smoke_run_writes_consistent_result(tmp_path: Path) -> None:
    res = CliRunner().invoke(
        main, ["run", NAME, "--scale", "smoke", "--out", str(tmp_path), "--quiet"]
    )
    assert res.exit_code == 0, res.output
    result = json.loads((tmp_path / NAME / "result.json").read_text())
    assert result["paper"]["value"] == PAPER_FRACTION == 0.18
    m = result["metrics"]
    for kind in ("forget", "no_forget"):
        assert m[kind]["nets"] == 1
        runs = m[kind]["run_lengths"]
        assert m[kind]["perfect"] == sum(r >= m["target_run"] for r in runs)
    assert result["verdict"] != "reproduced"  # a shortened test can be at most partial
    assert result["judgement"]["required_trials"] == 100 and result["judgement"]["trials"] == 1
    assert result["headline"]["value"] == m["forget"]["fraction_perfect"]
    for plot in ("learning_curve.png", "cell_states.png"):
        assert plot in result["plots"]
        assert (tmp_path / NAME / plot).is_file()


def _trials(forget: int, none: int, n: int, target: int) -> list[StreamTrial]:
    out = []
    for kind, perfect in (("forget", forget), ("no_forget", none)):
        for i in range(n):
            run = target if i < perfect else 10
            out.append(StreamTrial(kind=kind, trial=i, symbols=1, stopped=False, run_length=run,
                                   perfect=run >= target))  # fmt: skip
    return out


PAPER_CFG = StreamTrainConfig(
    optimizer="sgd", lr=0.5, streams=1, chunk=10, max_symbols=3_000_000, stop_run=100_000,
    check_every=10_000, target_run=PAPER_TARGET,
)  # fmt: skip


def test_verdict_rule() -> None:
    def verdict(forget: int, none: int, n: int = 100, cfg: StreamTrainConfig = PAPER_CFG) -> str:
        return continual_judgement(_trials(forget, none, n, cfg.target_run), cfg).verdict

    assert verdict(20, 0) == "reproduced"
    assert verdict(100, 0) == "reproduced"
    assert verdict(5, 0) == "partial"  # significantly below 18%
    assert verdict(50, 10) == "partial"  # some nets without forget gates are perfect
    assert verdict(10, 1, n=10) == "partial"  # fewer nets than the paper's 100
    short = StreamTrainConfig(optimizer="sgd", lr=0.5, streams=1, chunk=10, target_run=100_000)
    assert verdict(100, 0, cfg=short) == "partial"  # shortened test
    assert verdict(0, 30) == "not_reproduced"
    assert verdict(0, 0, n=2) == "not_reproduced"  # nothing learned shows nothing of the claim


def test_bad_stream_config_is_one_error() -> None:
    with pytest.raises(RnnaiError, match="check_every"):
        StreamTrainConfig(chunk=30, check_every=100)
    with pytest.raises(RnnaiError, match="optimizer"):
        StreamTrainConfig(optimizer="rmsprop")


def test_run_length_counts_until_the_first_error() -> None:
    assert run_length_from_start(np.array([True, True, False, True])) == 2
    assert run_length_from_start(np.array([False, True])) == 0
    assert run_length_from_start(np.ones(5, dtype=bool)) == 5


def test_untrained_net_fails_the_test_stream_early() -> None:
    net = SequenceNet(7, 7, net_config("forget"), torch.Generator().manual_seed(0))
    run = measure_run_length(net, np.random.default_rng(0), 1_000, chunk=100)
    assert 0 <= run < 10


def test_nets_differ_only_in_the_forget_gate() -> None:
    a, b = net_config("forget"), net_config("no_forget")
    assert a.variant.forget_gate and not b.variant.forget_gate
    assert a.variant.input_activation == b.variant.input_activation
    assert a.variant.peepholes == b.variant.peepholes == False  # noqa: E712
    assert a.hidden == b.hidden and a.output_gate_bias == b.output_gate_bias


@pytest.mark.parametrize("kind", ["no_forget"])
def test_killed_training_resumes_identically(tmp_path: Path, kind: str) -> None:
    cfg = StreamTrainConfig(
        optimizer="adam", lr=0.01, streams=2, chunk=10, max_symbols=60, stop_run=10_000,
        check_every=20, target_run=100, test_chunk=50,
    )  # fmt: skip

    def ctx(path: Path) -> RunContext:
        return RunContext(name=NAME, scale="smoke", seed=1, out_dir=path, config={}, quiet=True)

    a = train_net(kind, 0, cfg, seeds=ctx(tmp_path / "a"), hooks=ctx(tmp_path / "a"))

    c = ctx(tmp_path / "b")
    c.checkpointer = KillingCheckpointer(c.checkpointer.path, c.checkpointer.fingerprint, 1)
    with pytest.raises(Killed):
        train_net(kind, 0, cfg, seeds=c, hooks=c)
    _, state = ctx(tmp_path / "b").checkpointer.load()
    assert state["train_loop"]["current"]["seen"] == 20
    b = train_net(kind, 0, cfg, seeds=ctx(tmp_path / "b"), hooks=ctx(tmp_path / "b"))
    assert [r.to_dict() for r in a.results] == [r.to_dict() for r in b.results]
    assert "run_length" in b.results[0].extra
    assert a.net is not None and b.net is not None
    for (k, va), vb in zip(a.net.state_dict().items(), b.net.state_dict().values(), strict=True):
        assert torch.equal(va, vb), k
