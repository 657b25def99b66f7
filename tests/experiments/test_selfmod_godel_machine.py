"""Tests of selfmod.godel_machine and selfmod.godel_searcher: pure functions, verdict outcomes,
separate random streams, smoke runs through the CLI with their proof logs."""

from __future__ import annotations

import json
from fractions import Fraction as F
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from rnnai.cli import main
from rnnai.experiments import get_experiment
from rnnai.experiments.selfmod_godel_machine import (
    draw_means,
    godel_judgement,
    live_instance,
    target_true,
    uniform_policy,
)
from rnnai.runtime.errors import RnnaiError
from rnnai.runtime.seeding import derive_seed
from rnnai.selfmod.godel import GodelConfig, arm_switchprogs

MEANS = (F(3, 20), F(13, 20), F(9, 20))


def test_draw_means_gives_distinct_twentieths_and_rejects_bad_sizes() -> None:
    rng = np.random.default_rng(4)
    for k in (2, 5, 19):
        m = draw_means(rng, k)
        assert len(set(m)) == k and all(0 < v < 1 and (20 * v).denominator == 1 for v in m)
    with pytest.raises(RnnaiError, match="n_arms"):
        draw_means(rng, 1)
    assert sum(uniform_policy(7)) == 1


def test_instances_and_the_two_lives_use_different_random_streams() -> None:
    name = "selfmod.godel_machine"
    seeds = {derive_seed(0, name, "bandit", i) for i in range(50)}
    seeds |= {
        derive_seed(0, name, "rewards", i, w) for i in range(50) for w in ("switch", "no_switch")
    }
    assert len(seeds) == 150
    bandits = {
        draw_means(np.random.default_rng(derive_seed(0, name, "bandit", i)), 4) for i in range(50)
    }
    assert len(bandits) > 40


def test_live_instance_switches_and_its_target_is_true_of_the_life() -> None:
    cfg = GodelConfig(T=100_000, c=50, c_s=1, share=50)
    run, rec = live_instance(
        cfg,
        MEANS,
        uniform_policy(3),
        arm_switchprogs(3),
        np.random.default_rng(0),
        np.random.default_rng(1),
    )
    assert run.switched and rec["target_true"] and target_true(run, MEANS, uniform_policy(3))
    assert rec["switchprog"] == {"arm": 1, "share": 0}
    assert rec["reward_switch"] > rec["reward_no_switch"]
    assert rec["expected_oracle"] == float(F(13, 20) * 2000)
    # a target theorem that overstates the switch's value is not true of the life
    assert run.target is not None
    fake = run.__class__(
        **{
            **run.__dict__,
            "target": run.target.__class__(
                t1=run.target.t1,
                switchprog=run.target.switchprog,
                u_switch=run.target.u_switch + 1,
                u_continue=run.target.u_continue,
            ),
        }
    )
    assert not target_true(fake, MEANS, uniform_policy(3))


def test_every_verdict_is_reachable_and_reproduced_is_not() -> None:
    good = godel_judgement([True] * 4, [True] * 4, [9.0, 8, 7, 9], [1.0, 2, 1, 2], setup="s")
    assert good.verdict == "partial" and all(e.passed for e in good.evidence)
    mixed = godel_judgement([True, False], [True], [9.0, 8], [1.0, 2], setup="s")
    assert mixed.verdict == "partial" and not mixed.evidence[0].passed
    bad = godel_judgement([False, False], [], [1.0, 2], [9.0, 8], setup="s")
    assert bad.verdict == "not_reproduced"


def test_the_scales_grow_instances_arms_and_life() -> None:
    for name in ("selfmod.godel_machine", "selfmod.godel_searcher"):
        exp = get_experiment(name)
        s, q, p = (exp.config(x) for x in ("smoke", "quick", "paper"))
        assert s["instances"] < q["instances"] < p["instances"]
        assert s["arms"] < q["arms"] < p["arms"] and s["T"] < q["T"] < p["T"]


@pytest.mark.parametrize("name", ["selfmod.godel_machine", "selfmod.godel_searcher"])
def test_smoke_run_writes_a_consistent_result_and_logs_every_proof_step(
    tmp_path: Path, name: str
) -> None:
    r = CliRunner().invoke(
        main, ["run", name, "--scale", "smoke", "--out", str(tmp_path), "--quiet"]
    )
    assert r.exit_code == 0, r.output
    out = tmp_path / name
    res = json.loads((out / "result.json").read_text())
    assert res["verdict"] in ("partial", "not_reproduced")
    m = res["metrics"]
    assert m["instances"] == 3 and m["switched"] == 3 and m["as_expected"] == 3
    want_arm = None if name.endswith("searcher") else "best"
    for run in m["runs"]:
        assert run["target_true"] and run["switchprog"]["share"] == 0
        if want_arm == "best":
            means = [F(v) for v in run["means"]]
            assert run["switchprog"]["arm"] == means.index(max(means))
        else:
            assert run["switchprog"]["arm"] is None
    steps = [json.loads(x) for x in (out / "proof_steps.jsonl").read_text().splitlines()]
    assert {s["instance"] for s in steps} == {0, 1, 2}
    assert all(s["checker"] == "accepted" for s in steps)
    assert [s["kind"] for s in steps].count("check") == 3
    assert res["headline"]["value"] == pytest.approx(m["mean_gain"])
    for plot in ("rewards.png", "life.png"):
        assert plot in res["plots"] and (out / plot).stat().st_size > 1000


def test_a_killed_run_resumes_from_its_checkpoint_with_the_same_result(tmp_path: Path) -> None:
    from rnnai.experiments import RunContext

    exp = get_experiment("selfmod.godel_searcher")

    def ctx() -> RunContext:
        return RunContext(
            name=exp.name, scale="smoke", seed=0, out_dir=tmp_path, config=exp.config("smoke")
        )

    first = ctx()
    full = exp.run(first).metrics
    loaded = first.checkpointer.load()
    assert loaded is not None
    state = loaded[1]
    del state["recs"][-1]  # as if killed before the last instance finished
    first.checkpointer.save({}, state)
    assert exp.run(ctx()).metrics == full
