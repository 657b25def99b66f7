"""selfmod.ssa_keys: the pure functions, the verdict on constructed numbers, resuming after a
kill, and one smoke run through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import rnnai.experiments.selfmod_ssa_keys as mod
from rnnai.cli import main
from rnnai.experiments import RunContext, get_experiment
from rnnai.runtime.errors import RnnaiError
from rnnai.selfmod.policy import SMPConfig


def test_drop_factor_averages_the_first_and_last_window() -> None:
    lengths = [400.0, 200.0, 300.0, 100.0, 10.0, 30.0, 20.0, 20.0]
    assert mod.drop_factor(lengths, window=2) == (300.0, 20.0, 15.0)
    assert mod.drop_factor(lengths, window=100) == (300.0, 20.0, 15.0)  # at most a quarter
    assert mod.drop_factor(lengths, window=1) == (400.0, 20.0, 20.0)
    with pytest.raises(RnnaiError, match="2 finished"):
        mod.drop_factor([5.0], window=1)


def test_runs_use_distinct_random_streams() -> None:
    seeds = {mod.run_seed(0, s, r) for s in ("ssa", "q") for r in range(4)}
    assert len(seeds) == 8
    assert mod.run_seed(0, "ssa", 0) != mod.run_seed(1, "ssa", 0)


def test_a_newborn_life_has_uniform_policies_and_empty_stacks() -> None:
    a = mod.start_life("ssa", 3, SMPConfig())
    assert np.all(a["P"] == a["P"][0, 0, 0]) and a["ist"].sum() == 0 and a["clk"].sum() == 0
    np.testing.assert_array_equal(a["c"][:, :5], a["obs"])
    q = mod.start_life("q", 3, SMPConfig())
    assert q["Q"].sum() == 0 and q["cur"].shape == (2, 2)
    with pytest.raises(RnnaiError, match="system"):
        mod.start_life("sarsa", 3, SMPConfig())


def test_every_verdict_is_reachable_and_reproduced_is_not() -> None:
    good = mod.ssa_judgement([55.0, 62.0, 70.0, 58.0], ssa_final=[5e3] * 4, q_final=[3e5] * 4,
                             initial=[3e5, 2.5e5, 3.5e5, 3e5], setup="x")  # fmt: skip
    assert good.verdict == "partial" and all(e.passed for e in good.evidence)
    some = mod.ssa_judgement([1.2, 1.1, 1.3, 1.0], ssa_final=[3e5] * 4, q_final=[3e5] * 4,
                             initial=[3e5] * 4, setup="x")  # fmt: skip
    assert some.verdict == "partial" and [e.passed for e in some.evidence] == [False, False, True]
    none = mod.ssa_judgement([1.2, 1.1], ssa_final=[3e6, 3e6], q_final=[3e5, 3e5],
                             initial=[5e6, 5e6], setup="x")  # fmt: skip
    assert none.verdict == "not_reproduced"


def test_the_paper_scale_runs_the_papers_trials_and_runs() -> None:
    cfg = get_experiment("selfmod.ssa_keys").config("paper")
    assert cfg["runs"] == 4 and cfg["max_trials"] == 130_000


def _ctx(tmp_path: Path, resume: bool = False) -> RunContext:
    exp = get_experiment("selfmod.ssa_keys")
    cfg = {"runs": 1, "ssa_ticks": 900_000, "q_ticks": 300_000, "max_trials": 130_000,
           "window": 10}  # fmt: skip
    return RunContext(name=exp.name, scale="smoke", seed=0, out_dir=tmp_path, config=cfg,
                      resume=resume)  # fmt: skip


def test_a_killed_run_resumes_from_its_checkpoint_with_the_same_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exp = get_experiment("selfmod.ssa_keys")
    monkeypatch.setattr(mod, "CHUNK", 200_000)
    full = exp.run(_ctx(tmp_path / "a")).metrics
    calls = {"n": 0}
    real = mod._advance

    def dying(*args: object, **kwargs: object) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(mod, "_advance", dying)
    with pytest.raises(KeyboardInterrupt):
        exp.run(_ctx(tmp_path / "b"))
    monkeypatch.setattr(mod, "_advance", real)
    assert exp.run(_ctx(tmp_path / "b", resume=True)).metrics == full


def test_smoke_run_writes_a_consistent_result(tmp_path: Path) -> None:
    r = CliRunner().invoke(
        main, ["run", "selfmod.ssa_keys", "--scale", "smoke", "--out", str(tmp_path), "--quiet"]
    )
    assert r.exit_code == 0, r.output
    out = tmp_path / "selfmod.ssa_keys"
    res = json.loads((out / "result.json").read_text())
    assert res["verdict"] in ("partial", "not_reproduced")
    m = res["metrics"]
    assert m["ssa"]["ticks"] == [2_000_000.0] and m["q_lambda"]["ticks"] == [2_000_000.0]
    assert len(res["judgement"]["evidence"]) == 3
    for plot in ("trial_length.png", "ssa_stack.png"):
        assert plot in res["plots"] and (out / plot).stat().st_size > 1000
