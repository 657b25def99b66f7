"""evolution.cns_driving: the network and its coding, the problem, exact resume, verdict, CLI."""

from __future__ import annotations

import json
import pickle
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("Box2D")
pytest.importorskip("pygame")

from click.testing import CliRunner  # noqa: E402

from rnnai.cli import main  # noqa: E402
from rnnai.envs.car_racing import CarRacingConfig, make_car_racing  # noqa: E402
from rnnai.evolution import CoSyNEConfig, DCTCoding, LocalEvaluator  # noqa: E402
from rnnai.experiments.base import RunContext  # noqa: E402
from rnnai.experiments.evolution_cns_driving import (  # noqa: E402
    PAPER_COEFFICIENTS,
    PAPER_WEIGHTS,
    CachedEvaluator,
    CarRacingCNSProblem,
    DrivingConfig,
    ElmanDriver,
    NetConfig,
    cns_verdict,
    drive,
    run_search,
    weight_shapes,
)
from rnnai.runtime.checkpoint import Checkpointer  # noqa: E402
from rnnai.runtime.errors import RnnaiError  # noqa: E402
from rnnai.runtime.testing import Killed, KillingCheckpointer  # noqa: E402

TINY_NET = NetConfig(image=16, hidden=8, coefficients=(6, 3, 3))
TINY_DRIVE = DrivingConfig(tracks=(0,), frame_skip=4, max_frames=8, patience=None)
CFG = {
    "net": asdict(TINY_NET) | {"coefficients": list(TINY_NET.coefficients)},
    "driving": asdict(TINY_DRIVE) | {"tracks": [0]},
    "cosyne": asdict(CoSyNEConfig(population=4, init_range=1.0)),
    "generations": 3,
    "test_tracks": [],
    "test_frames": 8,
}
FP = {"experiment": "evolution.test_cns", "scale": "smoke", "seed": 2}


def test_default_net_has_the_papers_weight_count_and_compression() -> None:
    coding = DCTCoding(weight_shapes(NetConfig()), list(NetConfig().coefficients))
    assert coding.n_weights == PAPER_WEIGHTS == 1_115_139
    assert coding.dim == PAPER_COEFFICIENTS
    assert coding.compression == pytest.approx(5575.695)


def test_driver_step_follows_the_elman_equations() -> None:
    rng = np.random.default_rng(0)
    w_in, w_rec, w_out = (rng.normal(size=s) for s in [(5, 4, 4), (5, 6), (3, 6)])
    driver = ElmanDriver([w_in, w_rec, w_out])
    h = np.zeros(5)
    for _ in range(3):
        img = rng.uniform(size=(4, 4)).astype(np.float32)
        a = driver.act(img)
        h = np.tanh(w_in.reshape(5, -1) @ (img.ravel() - 0.5) + w_rec[:, :5] @ h + w_rec[:, 5])
        y = np.tanh(w_out[:, :5] @ h + w_out[:, 5])
        np.testing.assert_allclose(a, [y[0], (1 + y[1]) / 2, max(0.0, y[2])], atol=1e-5)


def test_driver_reset_clears_the_recurrent_state() -> None:
    rng = np.random.default_rng(1)
    driver = ElmanDriver([rng.normal(size=s) for s in [(4, 3, 3), (4, 5), (3, 5)]])
    img = rng.uniform(size=(3, 3)).astype(np.float32)
    first = driver.act(img)
    assert not np.allclose(driver.act(img), first)  # h_{t-1} changes the answer
    driver.reset()
    np.testing.assert_array_equal(driver.act(img), first)


def test_driver_rejects_mismatched_weight_shapes() -> None:
    with pytest.raises(RnnaiError, match="W_rec must be"):
        ElmanDriver([np.zeros((4, 3, 3)), np.zeros((4, 4)), np.zeros((3, 5))])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"outputs": 2}, "outputs"),
        ({"coefficients": (1, 2)}, "coefficients"),
        ({"hidden": 0}, "hidden"),
    ],
)
def test_net_config_rejects_bad_fields(kwargs: dict, message: str) -> None:
    with pytest.raises(RnnaiError, match=message):
        NetConfig(**kwargs)


def test_driving_config_rejects_an_empty_track_list() -> None:
    with pytest.raises(RnnaiError, match="tracks"):
        DrivingConfig(tracks=())


def test_problem_is_deterministic_and_survives_pickling() -> None:
    problem = CarRacingCNSProblem(TINY_NET, TINY_DRIVE)
    genomes = np.random.default_rng(4).uniform(-2, 2, (2, problem.dim))
    first = problem.evaluate(genomes)
    clone = pickle.loads(pickle.dumps(problem))
    assert clone._envs == {}
    np.testing.assert_array_equal(clone.evaluate(genomes), first)
    np.testing.assert_array_equal(problem.evaluate(genomes[::-1]), first[::-1])


class _Braking:
    """A driver that only brakes: the car never leaves its start."""

    def reset(self) -> None:
        pass

    def act(self, image: np.ndarray) -> np.ndarray:
        return np.array([0.0, 0.0, 1.0], np.float32)


def test_stall_cut_charges_the_frames_left() -> None:
    env = make_car_racing(CarRacingConfig(frame_skip=4, max_frames=200))
    ep = drive(_Braking(), env, patience=2)  # type: ignore[arg-type]
    env.close()
    assert ep.cut and ep.frames == 8  # 2 actions without a new tile
    # CarRacing's reward over all 200 frames had no further tile been reached (the tiles under
    # the car at the start count, 1000/N each):
    assert ep.reward == pytest.approx(1000.0 * ep.tiles / ep.n_tiles - 0.1 * 200, abs=1e-6)


class _Counting:
    dim = 3

    def __init__(self) -> None:
        self.rows = 0

    def evaluate(self, genomes: np.ndarray) -> np.ndarray:
        self.rows += genomes.shape[0]
        return genomes.sum(axis=1)


def test_cached_evaluator_drives_only_unseen_genomes() -> None:
    problem = _Counting()
    ev = CachedEvaluator(LocalEvaluator())
    g = np.arange(12.0).reshape(4, 3)
    np.testing.assert_array_equal(ev(problem, g), g.sum(axis=1))  # type: ignore[arg-type]
    again = np.vstack([g[2], g[2] + 1, g[0]])
    np.testing.assert_array_equal(ev(problem, again), again.sum(axis=1))  # type: ignore[arg-type]
    assert problem.rows == 5 and ev.drives == 5
    copy = CachedEvaluator(LocalEvaluator())
    copy.load_state_dict(ev.state_dict())
    assert copy.cache == ev.cache and copy.drives == 5
    copy(problem, g)  # type: ignore[arg-type]
    assert problem.rows == 5  # every genome was in the restored cache


def _ctx(folder: Path, checkpointer: Checkpointer | None = None) -> RunContext:
    return RunContext(
        name="evolution.test_cns",
        scale="smoke",
        seed=2,
        out_dir=folder,
        config=CFG,
        checkpointer=checkpointer,
    )


def _plain(result: dict) -> dict:
    return result | {"best_genome": result["best_genome"].tolist()}


@pytest.mark.parametrize("kill_after", [1, 2])
def test_killed_search_resumes_to_identical_results(tmp_path: Path, kill_after: int) -> None:
    reference = _plain(run_search(_ctx(tmp_path / "ref"), CFG))
    assert reference["generations"] == 3 and reference["evaluations"] == 12
    run_dir = tmp_path / "run"
    killer = KillingCheckpointer(run_dir / "checkpoint.safetensors", FP, kill_after)
    with pytest.raises(Killed):
        run_search(_ctx(run_dir, killer), CFG)
    assert _plain(run_search(_ctx(run_dir), CFG)) == reference


@pytest.mark.parametrize(
    ("full", "compression", "train", "heldout", "verdict"),
    [
        (True, 5575.7, 950.0, [910.0 + i % 7 for i in range(100)], "reproduced"),
        (True, 5575.7, 950.0, [910.0] * 10, "partial"),  # 10 tracks, 100 required
        (False, 5575.7, 950.0, [910.0] * 100, "partial"),  # short episodes never reproduce
        (True, 500.0, 950.0, [910.0] * 100, "partial"),  # too little compression
        (True, 5575.7, 850.0, [700.0 + i for i in range(100)], "partial"),  # below 900
        (True, 5575.7, 300.0, [], "partial"),  # no held-out tracks: only the training check
        (True, 5575.7, 299.9, [600.0 + i for i in range(100)], "not_reproduced"),
    ],
)
def test_verdict_rule(
    full: bool, compression: float, train: float, heldout: list[float], verdict: str
) -> None:
    j = cns_verdict(full_episodes=full, compression=compression, train_score=train, heldout=heldout)
    assert j.verdict == verdict
    assert j.required == 100 and j.trials == len(heldout)


def test_smoke_run_through_the_cli_writes_result_and_plots(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["run", "evolution.cns_driving", "--scale", "smoke", "--out", str(tmp_path), "--quiet"],
    )
    assert result.exit_code == 0, result.output
    folder = tmp_path / "evolution.cns_driving"
    data = json.loads((folder / "result.json").read_text())
    assert data["metrics"]["weights"] == PAPER_WEIGHTS
    assert data["metrics"]["compression_ratio"] == pytest.approx(5575.695)
    assert data["verdict"] in {"partial", "not_reproduced"}  # 24-frame episodes never reproduce
    for name in ("learning_curve.png", "trajectory.png", "frames.png"):
        assert (folder / name).stat().st_size > 1000
