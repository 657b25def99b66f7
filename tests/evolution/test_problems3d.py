"""3D pole problem: kernel vs twin vs the gymnasium env, fitness semantics, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from rnnai.envs.pole3d import DOUBLE_POLE_3D, SINGLE_POLE_3D
from rnnai.evolution import _kernels
from rnnai.evolution.core import EvaluationError
from rnnai.evolution.problems3d import Pole3DProblem
from rnnai.runtime.errors import RnnaiError


@pytest.mark.parametrize("config", [SINGLE_POLE_3D, DOUBLE_POLE_3D])
def test_rollout_kernel_matches_its_python_twin(config: object) -> None:
    problem = Pole3DProblem(config, n_modules=2, success_steps=300)
    genomes = np.random.default_rng(0).normal(scale=0.5, size=(6, problem.dim))
    args = problem._rollout_args()
    k_steps = np.zeros(6, dtype=np.int64)
    t_steps = np.zeros(6, dtype=np.int64)
    _kernels.rollout_fastweight_pole3d(genomes, *args, k_steps)
    _kernels.rollout_fastweight_pole3d_py(genomes, *args, t_steps)
    np.testing.assert_array_equal(k_steps, t_steps)
    assert k_steps.min() < 300  # random controllers fail: the failure path is exercised


def test_fitness_equals_the_steps_balanced_in_the_gym_env() -> None:
    problem = Pole3DProblem(SINGLE_POLE_3D, n_modules=2, success_steps=500)
    genomes = np.random.default_rng(1).normal(scale=0.5, size=(4, problem.dim))
    fitness = problem.evaluate(genomes)
    for g, f in zip(genomes, fitness, strict=True):
        record = problem.trajectory(g, max_steps=500)
        balanced = len(record["action"]) - (1 if len(record["action"]) < 500 else 0)
        assert f == balanced


def test_a_zero_controller_is_deterministic_and_fails_like_the_uncontrolled_pole() -> None:
    problem = Pole3DProblem(SINGLE_POLE_3D, n_modules=1, recurrent_gate=False, success_steps=1000)
    zero = np.zeros((2, problem.dim))
    fitness = problem.evaluate(zero)
    assert fitness[0] == fitness[1] and 10 < fitness[0] < 200


def test_bad_problem_arguments_and_genomes_are_rejected() -> None:
    with pytest.raises(RnnaiError, match="success_steps"):
        Pole3DProblem(success_steps=0)
    with pytest.raises(RnnaiError, match="n_modules"):
        Pole3DProblem(n_modules=0)
    problem = Pole3DProblem()
    with pytest.raises(EvaluationError, match="shape"):
        problem.evaluate(np.zeros((2, problem.dim + 1)))
