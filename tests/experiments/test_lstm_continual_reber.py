"""lstm.continual_reber: smoke run through the CLI, exact resume, the verdict rule, helpers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from rnnai.cli import main
from rnnai.experiments._lstm_common import SequenceNet
from rnnai.experiments.base import RunContext
from rnnai.experiments.lstm_continual_reber import (
    PAPER_FRACTION,
    PAPER_TARGET,
    StreamTrainConfig,
    continual_verdict,
    measure_run_length,
    net_config,
    run_length_from_start,
    train_on_stream,
)
from rnnai.runtime.testing import Killed, KillingCheckpointer

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
    expected, _ = continual_verdict(
        m["forget"]["fraction_perfect"], m["no_forget"]["fraction_perfect"], m["target_run"]
    )
    assert result["verdict"] == expected
    assert result["verdict"] != "reproduced"  # a shortened test can be at most partial
    assert result["headline"]["value"] == m["forget"]["fraction_perfect"]
    for plot in ("learning_curve.png", "cell_states.png"):
        assert plot in result["plots"]
        assert (tmp_path / NAME / plot).is_file()


def test_verdict_rule() -> None:
    assert continual_verdict(0.2, 0.0, PAPER_TARGET)[0] == "reproduced"
    assert continual_verdict(1.0, 0.0, PAPER_TARGET)[0] == "reproduced"
    assert continual_verdict(0.1, 0.0, PAPER_TARGET)[0] == "partial"  # below 18%
    assert continual_verdict(0.5, 0.1, PAPER_TARGET)[0] == "partial"  # no-forget not 0%
    assert continual_verdict(1.0, 0.0, 100_000)[0] == "partial"  # shortened test
    assert continual_verdict(0.0, 0.0, PAPER_TARGET)[0] == "not_reproduced"
    assert continual_verdict(0.3, 0.3, PAPER_TARGET)[0] == "not_reproduced"


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
    cfg = StreamTrainConfig("adam", 0.01, 2, 10, 60, 10_000, 20, 100, 50)

    def ctx(path: Path) -> RunContext:
        return RunContext(NAME, "smoke", 1, path, {}, quiet=True)

    net_a, seen_a, _, curve_a = train_on_stream(ctx(tmp_path / "a"), kind, 0, cfg)

    c = ctx(tmp_path / "b")
    c.checkpointer = KillingCheckpointer(c.checkpointer.path, c.checkpointer.fingerprint, 1)
    with pytest.raises(Killed):
        train_on_stream(c, kind, 0, cfg)
    tensors, state = ctx(tmp_path / "b").checkpointer.load()
    assert state["seen"] == 20
    st = {"tensors": tensors, "state": state, "current": state["current"]}
    net_b, seen_b, _, curve_b = train_on_stream(ctx(tmp_path / "b"), kind, 0, cfg, st)
    assert (seen_a, curve_a) == (seen_b, curve_b)
    for (k, va), vb in zip(net_a.state_dict().items(), net_b.state_dict().values(), strict=True):
        assert torch.equal(va, vb), k
