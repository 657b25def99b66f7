"""The ask/tell core: evaluator checks, searcher protocol, kernels against their twins, resume."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from rnnai.envs.pole import DOUBLE_POLE, DOUBLE_POLE_NONMARKOV, SINGLE_POLE
from rnnai.evolution import (
    CMAES,
    ESP,
    CoSyNE,
    CoSyNEConfig,
    ESPConfig,
    EvaluationError,
    Evaluator,
    LocalEvaluator,
    Problem,
    RecurrentNetSpec,
    Searcher,
    rollout,
)
from rnnai.runtime.checkpoint import Checkpointer, pack_state, unpack_state
from rnnai.runtime.errors import RnnaiError


class Sphere(Problem):
    """Fitness -|x - 0.5|^2 (maximum 0 at x = 0.5)."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.target_fitness = -1e-3

    def evaluate(self, genomes: np.ndarray) -> np.ndarray:
        return -np.sum((genomes - 0.5) ** 2, axis=1)


class BadShape(Sphere):
    def evaluate(self, genomes: np.ndarray) -> np.ndarray:
        return np.zeros(genomes.shape[0] + 1)


class ReturnsNaN(Sphere):
    def evaluate(self, genomes: np.ndarray) -> np.ndarray:
        out = np.zeros(genomes.shape[0])
        out[1] = np.nan
        return out


def make(name: str, dim: int, seed: int) -> Searcher:
    rng = np.random.default_rng(seed)
    if name == "cosyne":
        return CoSyNE(dim, CoSyNEConfig(population=12), rng=rng)
    if name == "esp":
        return ESP(dim, 2, ESPConfig(subpopulation=8, trials=2, stagnation=3), rng=rng)
    return CMAES(dim, rng=rng)


SEARCHERS = ["cosyne", "esp", "cmaes"]


def test_local_evaluator_returns_the_problems_fitness() -> None:
    p = Sphere(3)
    g = np.zeros((4, 3))
    assert isinstance(LocalEvaluator(), Evaluator)
    np.testing.assert_array_equal(LocalEvaluator()(p, g), -0.75 * np.ones(4))


def test_local_evaluator_names_wrong_genome_shape() -> None:
    with pytest.raises(EvaluationError, match=r"shape \(P, 3\)"):
        LocalEvaluator()(Sphere(3), np.zeros((4, 2)))


def test_local_evaluator_rejects_nonfinite_genomes() -> None:
    g = np.zeros((3, 3))
    g[2, 0] = np.inf
    with pytest.raises(EvaluationError, match="genome 2"):
        LocalEvaluator()(Sphere(3), g)


def test_local_evaluator_rejects_wrong_fitness_shape_and_nan() -> None:
    with pytest.raises(EvaluationError, match=r"shape \(4,\)"):
        LocalEvaluator()(BadShape(3), np.zeros((4, 3)))
    with pytest.raises(EvaluationError, match="fitness 1 is NaN"):
        LocalEvaluator()(ReturnsNaN(3), np.zeros((4, 3)))


def test_default_solved_uses_the_target_fitness() -> None:
    p = Sphere(2)
    assert p.solved(np.array([0.5, 0.5])) and not p.solved(np.zeros(2))


@pytest.mark.parametrize("name", SEARCHERS)
def test_tell_before_ask_and_double_ask_are_errors(name: str) -> None:
    s = make(name, 4, 0)
    with pytest.raises(RnnaiError, match="ask"):
        s.tell(np.zeros(3))
    g = s.ask()
    with pytest.raises(RnnaiError, match="tell"):
        s.ask()
    with pytest.raises(RnnaiError, match="shape"):
        s.tell(np.zeros(g.shape[0] + 1))


@pytest.mark.parametrize("name", SEARCHERS)
def test_searchers_improve_on_the_sphere(name: str) -> None:
    p = Sphere(4)
    s = make(name, 4, 1)
    first = s.step(p)
    for _ in range(60):
        s.step(p)
    assert s.best_fitness > first and s.best_fitness > -0.05
    assert s.evaluations == s.generation * s.last_fitness.shape[0]
    np.testing.assert_allclose(p.evaluate(s.best_genome[None])[0], s.best_fitness)


@pytest.mark.parametrize("name", SEARCHERS)
def test_same_seed_same_run_other_seed_differs(name: str) -> None:
    p = Sphere(4)
    runs = []
    for seed in (3, 3, 4):
        s = make(name, 4, seed)
        runs.append([s.step(p) for _ in range(5)])
    assert runs[0] == runs[1] and runs[0] != runs[2]


@pytest.mark.parametrize("name", SEARCHERS)
@pytest.mark.parametrize("pending", [False, True])
def test_state_dict_through_a_checkpoint_resumes_identically(
    tmp_path: Path, name: str, pending: bool
) -> None:
    p = Sphere(6)
    ref = make(name, 6, 7)
    for _ in range(6):
        ref.step(p)
    expected = [ref.step(p) for _ in range(4)]

    s = make(name, 6, 7)
    for _ in range(6):
        s.step(p)
    asked = s.ask() if pending else None  # killed between ask and tell
    tensors, skeleton = pack_state(s.state_dict())
    ckpt = Checkpointer(tmp_path / "c.safetensors", {"t": 1})
    ckpt.save(tensors, {"searcher": skeleton})
    loaded_tensors, state = ckpt.load()
    fresh = make(name, 6, 99)  # another seed: everything must come from the state
    fresh.load_state_dict(unpack_state(state["searcher"], loaded_tensors))
    got = []
    if asked is not None:
        f = p.evaluate(asked)
        fresh.tell(f)
        got.append(float(f.max()))
    got += [fresh.step(p) for _ in range(4 - len(got))]
    assert got == expected
    assert fresh.generation == ref.generation and fresh.evaluations == ref.evaluations
    np.testing.assert_array_equal(fresh.best_genome, ref.best_genome)


@pytest.mark.parametrize("name", SEARCHERS)
def test_state_of_another_searcher_is_refused(name: str) -> None:
    other = "esp" if name != "esp" else "cosyne"
    with pytest.raises(RnnaiError, match="state"):
        make(name, 4, 0).load_state_dict(make(other, 4, 0).state_dict())


def test_problems_pickle_and_evaluate_identically_after() -> None:
    from rnnai.evolution import DoublePoleNonMarkov

    p = pickle.loads(pickle.dumps(DoublePoleNonMarkov()))
    g = np.random.default_rng(0).normal(size=(3, p.dim))
    np.testing.assert_array_equal(p.evaluate(g), DoublePoleNonMarkov().evaluate(g))


@pytest.mark.parametrize(
    ("config", "neurons", "activation"),
    [(SINGLE_POLE, 1, "sigmoid"), (DOUBLE_POLE, 2, "tanh"), (DOUBLE_POLE_NONMARKOV, 3, "sigmoid")],
)
def test_rollout_kernel_matches_its_python_twin(config, neurons: int, activation: str) -> None:
    spec = RecurrentNetSpec(n_inputs=config.obs_dim, n_neurons=neurons, activation=activation)
    rng = np.random.default_rng(neurons)
    genomes = rng.normal(scale=2.0, size=(6, spec.dim))
    starts = np.zeros((6, 6))
    starts[:, 2] = rng.uniform(-0.1, 0.1, 6)
    starts[:, 0] = rng.uniform(-0.5, 0.5, 6)
    for damping in (False, True):
        a = rollout(spec, genomes, config, starts, 150, damping=damping)
        b = rollout(spec, genomes, config, starts, 150, damping=damping, python=True)
        np.testing.assert_array_equal(a.steps, b.steps)
        np.testing.assert_allclose(a.damping_sum, b.damping_sum, rtol=1e-12, atol=1e-12)
    assert a.damping_sum.max() > 0


@pytest.mark.parametrize("kind", ["cosyne", "esp", "cmaes"])
def test_searchers_require_their_generator(kind: str) -> None:
    build = {
        "cosyne": lambda **kw: CoSyNE(4, **kw),
        "esp": lambda **kw: ESP(4, 2, **kw),
        "cmaes": lambda **kw: CMAES(4, **kw),
    }[kind]
    with pytest.raises(TypeError, match="rng"):
        build()  # no silent default generator
    with pytest.raises(RnnaiError, match="numpy.random.Generator"):
        build(rng=None)
    with pytest.raises(RnnaiError, match="numpy.random.Generator"):
        build(rng=0)


@pytest.mark.parametrize("kind", ["cosyne", "esp", "cmaes"])
def test_tell_sets_the_last_generation(kind: str) -> None:
    s = make(kind, 4, 0)
    assert s.last_genomes is None and s.last_fitness is None
    genomes = s.ask()
    fitness = -np.sum(genomes**2, axis=1)
    s.tell(fitness)  # by hand, without step()
    np.testing.assert_array_equal(s.last_genomes, genomes)
    np.testing.assert_array_equal(s.last_fitness, fitness)
    genomes[0] += 1.0  # the caller's copy does not alias the searcher's record
    assert not np.array_equal(s.last_genomes, genomes)
