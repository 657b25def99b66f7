"""Tests of memory.chunker_22 and memory.chunker_deep: streams, criterion, verdict, smoke runs."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from rnnai.cli import main
from rnnai.experiments import memory_chunker
from rnnai.experiments.base import RunContext
from rnnai.experiments.memory_chunker import (
    NAME_22,
    NAME_DEEP,
    RunSpec,
    chunker_judgement,
    data_streams,
    make_model,
    make_task,
    right_answers,
    run_all,
    run_key,
    solved_at,
    stream_chunk,
    test_accuracy,
    warm_and_cold,
)
from rnnai.runtime.testing import Killed, KillingCheckpointer

test_accuracy.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


def test_stream_chunks_join_without_a_break_and_targets_name_their_a_or_x() -> None:
    spec = RunSpec(lag=4)
    task = make_task(spec)
    rng = np.random.default_rng(0)
    phase = np.array([0, 1, 3, 4])
    parts = [stream_chunk(task, rng, phase, 3) for _ in range(3)]
    x = torch.cat([p[0] for p in parts], 1).argmax(-1).numpy()  # (B, T) symbols
    y = torch.cat([p[1] for p in parts], 1).argmax(-1).numpy()
    mask = torch.cat([p[2] for p in parts], 1).numpy()
    for i, p in enumerate(phase):
        pos = (p + np.arange(x.shape[1])) % 5  # the position within the subsequence
        assert ((x[i] >= 2) == (pos > 0)).all() and (x[i][pos > 0] == pos[pos > 0] + 1).all()
        counted = np.nonzero(mask[i])[0]
        assert (pos[counted] == 4).all()
        # every counted target is the symbol that began its subsequence in the joined stream
        assert (y[i, counted] == x[i, counted - 4]).all()
        # only the subsequence cut at each chunk's start goes uncounted (none at phase 0)
        assert len(counted) == (9 if p == 0 else 6)


def test_training_and_test_streams_are_separate_and_never_repeat() -> None:
    train, test = data_streams(0, "compressor/run0")
    a = train.integers(0, 2, 1000)
    b = test.integers(0, 2, 1000)
    assert not np.array_equal(a, b)
    again, _ = data_streams(0, "compressor/run0")
    other, _ = data_streams(0, "compressor/run1")
    assert np.array_equal(again.integers(0, 2, 1000), a)
    assert not np.array_equal(other.integers(0, 2, 1000), a)


def test_right_answers_needs_both_units_within_the_tolerance() -> None:
    y = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]])
    y_hat = torch.tensor([[[0.8, 0.1], [0.2, 0.6], [0.0, 0.0]]])
    mask = torch.tensor([[True, True, False]])
    assert right_answers(y_hat, y, mask).tolist() == [True, False]


def test_test_answers_after_the_warm_up_are_judged_apart_from_the_cold_start_ones() -> None:
    lag = 4
    task = make_task(RunSpec(lag=lag), random_phase=True, n=7)
    b = task.sample(np.random.default_rng(2), 64)
    warm, cold = warm_and_cold(torch.from_numpy(b.mask), lag)
    # one cold answer per stream, two where the stream starts at a subsequence's start
    assert (cold.sum(1).numpy() == 1 + (b.info["phase"] == 0)).all()
    assert (b.info["phase"] == 0).any() and not (warm & cold).any()
    assert (warm | cold).sum() == b.mask.sum() and (warm.sum(1) >= 4).all()
    assert not warm[:, : 2 * (lag + 1)].any()


def test_solved_at_is_the_first_count_with_enough_recent_right_answers() -> None:
    right = [False, True, True, True, False, True]
    counts = [1, 2, 3, 4, 5, 6]
    assert solved_at(right, counts, window=3, fraction=1.0) == 4
    assert solved_at(right, counts, window=3, fraction=0.6) == 3
    assert solved_at(right, counts, window=7, fraction=0.1) is None


def test_the_two_systems_are_the_compressor_and_a_single_net() -> None:
    spec = RunSpec(lag=3)
    comp, rnn = make_model("compressor", spec, 0), make_model("rnn", spec, 0)
    assert comp.config.levels == 2 and comp.config.target_surprise
    assert comp.config.bptt_ticks == 3 and rnn.config.bptt_ticks is None
    assert rnn.config.levels == 1 and comp.config.input_size == 5
    with pytest.raises(Exception, match="system"):
        make_model("lstm", spec, 0)


def _cfg(runs: int, budget: int = 5_000) -> dict:
    return {
        "spec": {"lag": 20, "lr": 0.01, "streams": 32, "hidden": 16},
        "runs": {"compressor": runs, "rnn": runs},
        "budget": {"compressor": budget, "rnn": budget},
    }


def _done(comp: list, rnn: list, acc_c: float = 1.0, acc_r: float = 0.0) -> dict:
    done = {}
    for i, s in enumerate(comp):
        done[run_key("compressor", i)] = {"solved_at": s, "test_accuracy": acc_c - 0.01 * i}
    for i, s in enumerate(rnn):
        done[run_key("rnn", i)] = {"solved_at": s, "test_accuracy": acc_r + 0.01 * i}
    return done


def test_the_verdict_is_partial_when_the_compressor_wins_and_never_reproduced() -> None:
    j = chunker_judgement(_cfg(17, 35_000), _done([3_000] * 17, [None] * 17), deep=False)
    assert j.verdict == "partial" and all(e.passed for e in j.evidence)
    assert len(j.evidence) == 4 and any("setup" in r for r in j.reasons)


def test_the_verdict_fails_when_the_compressor_does_not_learn() -> None:
    done = _done([None] * 3, [None] * 3, acc_c=0.0, acc_r=0.0)
    j = chunker_judgement(_cfg(3), done, deep=False)
    assert [e.passed for e in j.evidence] == [False, False, True] and j.verdict == "partial"
    done = _done([None] * 3, [100] * 3, acc_c=0.0, acc_r=1.0)
    assert chunker_judgement(_cfg(3), done, deep=False).verdict == "not_reproduced"
    deep = chunker_judgement(_cfg(2), _done([500, None], [None] * 2), deep=True)
    assert not deep.evidence[0].passed and deep.verdict == "partial"


@pytest.mark.parametrize("name", [NAME_22, NAME_DEEP])
def test_smoke_run_through_the_cli_writes_a_consistent_result(tmp_path: Path, name: str) -> None:
    r = CliRunner().invoke(
        main, ["run", name, "--scale", "smoke", "--out", str(tmp_path), "--quiet"]
    )
    assert r.exit_code == 0, r.output
    res = json.loads((tmp_path / name / "result.json").read_text())
    assert res["verdict"] in ("partial", "not_reproduced")
    comp = res["metrics"]["compressor"]
    assert comp["runs"] == 1 and len(res["metrics"]["rnn"]["test_accuracy"]) == 1
    assert 0.0 <= comp["test_accuracy"][0] <= 1.0
    assert (tmp_path / name / "learning_curves.png").stat().st_size > 1000


def _tiny_cfg() -> dict:
    spec = {k: v for k, v in asdict(RunSpec(lag=3, streams=4, test_streams=4)).items()}
    del spec["budget"]
    return {
        "spec": spec,
        "runs": {"compressor": 1, "rnn": 1},
        "budget": {"compressor": 40, "rnn": 40},
    }


def _context(folder: Path, checkpointer=None) -> RunContext:
    return RunContext(
        name=NAME_22, scale="smoke", seed=3, out_dir=folder, config=_tiny_cfg(),
        checkpointer=checkpointer,
    )  # fmt: skip


def test_a_killed_run_resumes_from_the_finished_runs_to_the_same_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference = run_all(_tiny_cfg(), 3, _context(tmp_path / "ref"))
    assert set(reference) == {"compressor/run0", "rnn/run0"}
    fp = {"experiment": NAME_22, "scale": "smoke", "seed": 3}
    killer = KillingCheckpointer(tmp_path / "run" / "checkpoint.safetensors", fp, 1)
    with pytest.raises(Killed):
        run_all(_tiny_cfg(), 3, _context(tmp_path / "run", killer))
    calls: list[str] = []
    original = memory_chunker.train_run

    def counted(system: str, *args: object) -> dict:
        calls.append(system)
        return original(system, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(memory_chunker, "train_run", counted)
    assert run_all(_tiny_cfg(), 3, _context(tmp_path / "run")) == reference
    assert calls == ["rnn"]  # the finished compressor run came from the checkpoint
