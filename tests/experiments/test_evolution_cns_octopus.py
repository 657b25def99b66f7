"""evolution.cns_octopus: network and codings, exact resume, the verdict rule, a CLI smoke run."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from rnnai.cli import main
from rnnai.evolution import CoSyNEConfig
from rnnai.evolution.dct import CompressedProblem
from rnnai.experiments.base import RunContext
from rnnai.experiments.evolution_cns_octopus import (
    OctopusReachProblem,
    cns_verdict,
    input_order,
    make_problem,
    output_order,
    replay,
    run_comparison,
    summarize,
)
from rnnai.runtime.checkpoint import Checkpointer
from rnnai.runtime.errors import RnnaiError
from rnnai.runtime.testing import Killed, KillingCheckpointer

CFG = {
    "codings": ["dct_20", "direct"],
    "runs": 2,
    "max_evaluations": 24,
    "n_steps": 8,
    "arm": {},
    "cosyne": {
        "dct": asdict(CoSyNEConfig(population=6, init_range=20.0, mutation_scale=5.0)),
        "direct": asdict(CoSyNEConfig(population=6, init_range=1.0, mutation_scale=0.3)),
    },
}
FP = {"experiment": "evolution.test", "scale": "smoke", "seed": 5}


def _ctx(folder: Path, checkpointer: Checkpointer | None = None, seed: int = 5) -> RunContext:
    return RunContext(
        name="evolution.test",
        scale="smoke",
        seed=seed,
        out_dir=folder,
        config=CFG,
        checkpointer=checkpointer,
    )


def test_network_has_the_papers_3680_weights_and_dct20_compresses_1_to_184() -> None:
    inner = OctopusReachProblem(10)
    assert inner.shape == (32, 115) and inner.dim == 3_680
    coded = make_problem(CFG, "dct_20")
    assert isinstance(coded, CompressedProblem)
    assert coded.dim == 20 and coded.coding.compression == pytest.approx(184.0)


def test_orders_are_permutations_of_observations_and_actions() -> None:
    assert sorted(input_order(10).tolist()) == list(range(82))
    assert sorted(output_order(10).tolist()) == list(range(32))
    assert output_order(10)[:3].tolist() == [0, 3, 6]  # dorsal muscles of compartments 1..3


def test_unknown_coding_raises_a_clear_error() -> None:
    with pytest.raises(RnnaiError, match="unknown coding 'fft_20'"):
        make_problem(CFG, "fft_20")


def test_kernel_rollout_agrees_with_the_gymnasium_replay() -> None:
    # a hand-made network: transverse muscles on (the arm lengthens), distal dorsal muscles
    # a little (it aims up), the rest off; with a slightly larger food it touches
    problem = OctopusReachProblem(100, {"food_radius": 0.65})
    W = np.random.default_rng(0).normal(0.0, 0.05, problem.shape)
    W[:, 82] = -6.0  # biases: muscles off...
    W[10:20, 82] = 6.0  # ...but the transverse ones (neurons 10..19)
    W[5:10, 82] = -0.5  # dorsal muscles of compartments 6..10
    fitness, touch, gap = problem.rollout(W.reshape(1, -1))
    frames, touched = replay(problem, W.reshape(-1))
    assert touched > 0 and touched == int(touch[0])
    assert len(frames) == touched + 1
    assert gap[0] <= 0 and fitness[0] == pytest.approx(1 + (100 - touched) / 100)


def test_evaluation_is_deterministic() -> None:
    problem = make_problem(CFG, "dct_20")
    g = np.random.default_rng(1).uniform(-20, 20, (3, 20))
    np.testing.assert_array_equal(problem.evaluate(g), problem.evaluate(g))


@pytest.mark.parametrize("kill_after", [1, 3, 6])
def test_killed_comparison_resumes_to_identical_results(tmp_path: Path, kill_after: int) -> None:
    reference = run_comparison(_ctx(tmp_path / "ref"), CFG)
    assert [r["coding"] for r in reference] == ["dct_20", "dct_20", "direct", "direct"]
    run_dir = tmp_path / "run"
    killer = KillingCheckpointer(run_dir / "checkpoint.safetensors", FP, kill_after)
    with pytest.raises(Killed):
        run_comparison(_ctx(run_dir, killer), CFG)
    resumed = run_comparison(_ctx(run_dir), CFG)  # a fresh process builds the same context
    assert resumed == reference


def test_other_seed_gives_other_runs(tmp_path: Path) -> None:
    a = run_comparison(_ctx(tmp_path / "a"), CFG)
    assert run_comparison(_ctx(tmp_path / "b", seed=6), CFG) != a


def _summary(coding: str, evaluations: list[int | None]) -> dict:
    results = [
        {"coding": coding, "solved": e is not None, "evaluations": e or 10**6, "best_fitness": 1.0}
        for e in evaluations
    ]
    return summarize(results, coding)


def test_summary_counts_unsolved_runs_in_the_median() -> None:
    s = _summary("dct_20", [100, None, None])
    assert s["solved"] == 1 and s["median_evaluations"] is None  # under half reached
    assert _summary("dct_20", [100, 300, None])["median_evaluations"] == 300


def _runs(coding: str, evaluations: list[int | None]) -> list[dict]:
    return [{"coding": coding, "solved": e is not None, "evaluations": e or 0} for e in evaluations]


def test_verdict_rule() -> None:
    fast = _runs("dct_20", [100, 200, 300, 150, 250, 120, 180, 220, 260, 140])
    slow = _runs("direct", [900, 1000, None, 800, 950, None, 1200, 700, 1100, 990])

    def verdict(coded: list[dict], direct: list[dict], paper_setup: bool = True) -> str:
        return cns_verdict(coded + direct, budget=3_000, paper_setup=paper_setup).verdict

    assert verdict(fast, slow) == "reproduced"
    assert verdict(fast, _runs("direct", [None] * 10)) == "reproduced"
    assert verdict(fast, slow, paper_setup=False) == "partial"  # smoke scale
    assert verdict(fast[:3], slow[:3]) == "partial"  # 3 runs, fewer than 10
    assert verdict(_runs("dct_20", [2000] * 10), slow) == "partial"  # reaches, but slower
    under_half = _runs("dct_20", [100, 200, 300, 400] + [None] * 6)
    assert verdict(under_half, _runs("direct", [None] * 10)) == "partial"  # cheaper, under half
    assert verdict(_runs("dct_20", [100, 200] + [None] * 8), slow) == "not_reproduced"
    assert verdict(_runs("dct_20", [None] * 10), slow) == "not_reproduced"
    j = cns_verdict(fast + slow, budget=3_000, paper_setup=True)
    assert j.evidence[0].n == 10 and j.evidence[0].interval is not None
    with pytest.raises(RnnaiError, match="direct"):
        cns_verdict(fast, budget=3_000, paper_setup=True)


def test_smoke_run_writes_a_consistent_result(tmp_path: Path) -> None:
    r = CliRunner().invoke(
        main,
        ["run", "evolution.cns_octopus", "--scale", "smoke", "--out", str(tmp_path), "--quiet"],
    )
    assert r.exit_code == 0, r.output
    out = tmp_path / "evolution.cns_octopus"
    res = json.loads((out / "result.json").read_text())
    assert res["paper"]["value"] is None  # qualitative claim: fewer evaluations than direct
    m = res["metrics"]
    assert m["dct_20"]["compression"] == pytest.approx(184.0)
    assert m["n_weights"] == 3_680 and m["dct_20"]["genes"] == 20 and m["direct"]["genes"] == 3_680
    assert res["verdict"] != "reproduced"  # smoke: short episodes, 1 run per coding
    assert res["judgement"]["trials"] == 1 and res["judgement"]["required_trials"] == 10
    for plot in ("learning_curve.png", "frames.png"):
        assert plot in res["plots"]
        assert (out / plot).stat().st_size > 1000


def test_headline_ratio_needs_both_searches_to_reach_in_most_runs() -> None:
    from rnnai.experiments.evolution_cns_octopus import _evaluations_ratio

    coded = {"solved": 3, "runs": 3, "median_evaluations": 310.0}
    direct = {"solved": 2, "runs": 3, "median_evaluations": 2_787.0}
    assert _evaluations_ratio(direct, coded) == pytest.approx(8.99)
    assert _evaluations_ratio({**direct, "solved": 1}, coded) is None
    assert _evaluations_ratio(direct, {**coded, "solved": 1}) is None
