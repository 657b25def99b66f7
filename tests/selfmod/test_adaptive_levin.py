"""Adaptive Levin search on mazes: Adapt against its equation, the kernel against the Python
twin, Levin's phase bound, the instruction semantics on hand-built corridors, SSA undoing a
modification, checkpoint round trips, and the maze and goal generators."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from rnnai.runtime.errors import RnnaiError
from rnnai.selfmod.adaptive_levin import (
    BUDGET,
    NEED,
    SUCCESS,
    AdaptiveLevin,
    ALSConfig,
    MazeTask,
    adapt,
    describe,
    goal_sequence,
    levin_search_maze,
    make_maze,
    maze_hash,
    parse_maze,
    program_probability,
    run_program,
    uniform_policy,
)

LOOP = ["#######", "#.....#", "#.###.#", "#.....#", "#######"]


def _loop_task(goal: tuple[int, int] = (5, 3)) -> MazeTask:
    return MazeTask(grid=parse_maze(LOOP), start=(1, 1), heading=1, goal=goal)


def _random_policy(rng: np.random.Generator, cfg: ALSConfig) -> tuple[np.ndarray, ...]:
    L = cfg.max_len
    P = rng.dirichlet(np.ones(9), size=L)
    Pbar = np.zeros((L, L))
    for k in range(L):
        Pbar[k, : k + 1] = rng.dirichlet(np.ones(k + 1))
    Phat = rng.dirichlet(np.ones(cfg.maxr), size=L)
    return P, Pbar, Phat


def test_adapt_matches_the_equation_row_by_row() -> None:
    cfg = ALSConfig(max_len=5, maxr=3)
    rng = np.random.default_rng(0)
    policy = _random_policy(rng, cfg)
    q = ((2, 0, 0), (8, 1, 3), (6, 0, 0))
    g = 0.3
    P, Pbar, Phat = adapt(q, policy, gamma=g)
    P0, Pbar0, Phat0 = policy
    for k in range(5):
        for j in range(9):
            if k < len(q):
                want = P0[k, j] + g * (1 - P0[k, j]) if q[k][0] == j else (1 - g) * P0[k, j]
            else:
                want = P0[k, j]
            assert abs(P[k, j] - want) < 1e-12
    assert abs(Pbar[1, 1] - (Pbar0[1, 1] + g * (1 - Pbar0[1, 1]))) < 1e-12
    assert abs(Pbar[1, 0] - (1 - g) * Pbar0[1, 0]) < 1e-12
    assert abs(Phat[1, 2] - (Phat0[1, 2] + g * (1 - Phat0[1, 2]))) < 1e-12
    np.testing.assert_array_equal(Pbar[[0, 2, 3, 4]], Pbar0[[0, 2, 3, 4]])  # no Jump there
    np.testing.assert_allclose(P.sum(1), 1.0, atol=1e-12)
    np.testing.assert_allclose(Pbar.sum(1), 1.0, atol=1e-12)
    np.testing.assert_array_equal(P0, policy[0])  # the input is not modified
    same = adapt((), policy, gamma=g)
    for a, b in zip(same, policy, strict=True):
        np.testing.assert_array_equal(a, b)


def test_the_uniform_policy_is_the_maximum_entropy_start() -> None:
    P, Pbar, Phat = uniform_policy(ALSConfig(max_len=4, maxr=5))
    assert np.all(P == 1 / 9) and np.all(Phat == 1 / 5)
    assert Pbar[2].tolist() == [1 / 3, 1 / 3, 1 / 3, 0.0]


@pytest.mark.parametrize("seed", range(6))
def test_the_kernel_and_the_python_twin_agree_exactly(seed: int) -> None:
    rng = np.random.default_rng(seed)
    cfg = ALSConfig(max_len=6, maxr=3, max_steps=200_000)
    grid = make_maze(rng, 9, loops=0.3)
    goal = goal_sequence(grid, (1, 1), 3, 100, rng)[int(rng.integers(3))]
    task = MazeTask(grid=grid, start=(1, 1), heading=int(rng.integers(4)), goal=goal)
    policy = uniform_policy(cfg) if seed % 2 else _random_policy(rng, cfg)
    a = levin_search_maze(task, policy, cfg, use_kernel=True)
    b = levin_search_maze(task, policy, cfg, use_kernel=False)
    assert a == b


def test_the_first_solution_comes_in_levins_phase() -> None:
    cfg = ALSConfig(max_len=6, maxr=3)
    r = levin_search_maze(_loop_task(), uniform_policy(cfg), cfg)
    assert describe(r.program) == "R-UNTIL-BLOCKED; L-UNTIL-BLOCKED"
    assert r.solution_steps == 7 and r.path_length == 6
    assert r.log2_probability == pytest.approx(-2 * math.log2(9), abs=1e-12)
    assert r.phase == math.ceil(math.log2(7 * 81))  # P(q) T >= t(q) first at T = 1024
    for seed in range(4):
        rng = np.random.default_rng(10 + seed)
        grid = make_maze(rng, 11)
        goal = goal_sequence(grid, (1, 1), 4, 100, rng)[2]
        task = MazeTask(grid=grid, start=(1, 1), heading=1, goal=goal)
        res = levin_search_maze(task, uniform_policy(ALSConfig()), ALSConfig())
        assert res.found
        bound = math.ceil(math.log2(res.solution_steps) - res.log2_probability)
        assert res.phase <= bound
        status, steps, moves, cell = run_program(task, res.program)
        assert (status, steps, moves, cell) == (SUCCESS, res.solution_steps, res.path_length, goal)
        assert res.log2_probability == pytest.approx(
            program_probability(res.program, uniform_policy(ALSConfig())), abs=1e-12
        )


def test_jump_repeats_its_target_times_plus_one_then_falls_through() -> None:
    rows = ["#############", "#...........#", "###.#.#.#.#.#", "#############"]
    grid = parse_maze(rows)
    task = MazeTask(grid=grid, start=(1, 1), heading=1, goal=(11, 1))
    # N-UNTIL-RIGHT walks to the next opening on the right (south): 2 moves + 1 rotation step
    status, steps, moves, cell = run_program(task, ((7, 0, 0), (8, 0, 2)))
    assert (status, steps, moves, cell) == (NEED, 3 * 3 + 3, 6, (7, 1))
    status, steps, _, _ = run_program(task, ((7, 0, 0), (8, 0, 2)), limit=5)
    assert (status, steps) == (BUDGET, 5)
    # a blocked front ends the REPEAT: R-UNTIL-BLOCKED at the east wall only rotates
    t2 = MazeTask(grid=grid, start=(11, 1), heading=1, goal=(1, 1))
    assert run_program(t2, ((1, 0, 0),))[:3] == (NEED, 1, 0)


def test_ssa_undoes_a_modification_not_followed_by_a_speed_up() -> None:
    grid = parse_maze(["#########", "#.....#.#", "#.###.#.#", "#.....#.#", "#########"])
    easy = MazeTask(grid=grid, start=(1, 1), heading=1, goal=(5, 3))
    unreachable = MazeTask(grid=grid, start=(1, 1), heading=1, goal=(7, 2))
    cfg = ALSConfig(max_len=6, maxr=3, max_phase=14, gamma=0.4)
    learner = AdaptiveLevin("als+ssa", cfg)
    rec = learner.solve(easy)
    assert rec.found and rec.stack == 1 and rec.popped == 0
    assert learner.policy[0][0, 1] > 1 / 9  # Adapt raised R-UNTIL-BLOCKED at address 0
    rec = learner.solve(unreachable)  # reward 0 since the tag: slower than the lifetime average
    assert not rec.found and rec.popped == 1 and rec.stack == 0
    for a, b in zip(learner.policy, uniform_policy(cfg), strict=True):
        np.testing.assert_array_equal(a, b)
    als = AdaptiveLevin("als", cfg)
    als.solve(easy)
    als.solve(unreachable)
    assert als.policy[0][0, 1] > 1 / 9  # ALS keeps it
    ls = AdaptiveLevin("ls", cfg)
    ls.solve(easy)
    for a, b in zip(ls.policy, uniform_policy(cfg), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_learner_state_survives_json_and_continues_identically() -> None:
    rng = np.random.default_rng(3)
    grid = make_maze(rng, 11)
    goals = goal_sequence(grid, (1, 1), 4, 100, rng)
    tasks = [MazeTask(grid=grid, start=(1, 1), heading=1, goal=g) for g in goals]
    cfg = ALSConfig(max_len=8, maxr=3, gamma=0.3)
    a = AdaptiveLevin("als+ssa", cfg)
    for t in tasks[:3]:
        a.solve(t)
    b = AdaptiveLevin("als+ssa", cfg)
    b.load_state_dict(json.loads(json.dumps(a.state_dict())))
    assert a.solve(tasks[3]) == b.solve(tasks[3])
    assert a.state_dict() == b.state_dict()
    with pytest.raises(RnnaiError, match="mode"):
        AdaptiveLevin("als", cfg).load_state_dict(a.state_dict())
    with pytest.raises(RnnaiError, match="mode"):
        AdaptiveLevin("q", cfg)


def test_generated_mazes_are_connected_walled_and_seeded() -> None:
    for seed in range(5):
        g = make_maze(np.random.default_rng(seed), 15, loops=0.0)
        assert not g[0].any() and not g[-1].any() and not g[:, 0].any() and not g[:, -1].any()
        assert int(g.sum()) == 7 * 7 + (7 * 7 - 1)  # a spanning tree: cells + connectors
        far = goal_sequence(g, (1, 1), 1, 10_000)[0]
        assert g[far[1], far[0]] == 1
        assert maze_hash(g) == maze_hash(make_maze(np.random.default_rng(seed), 15, loops=0.0))
    assert maze_hash(make_maze(np.random.default_rng(0), 15)) != maze_hash(
        make_maze(np.random.default_rng(1), 15)
    )
    with pytest.raises(RnnaiError, match="odd"):
        make_maze(np.random.default_rng(0), 14)


def test_goals_lie_strictly_further_away_one_after_another() -> None:
    from collections import deque

    g = make_maze(np.random.default_rng(7), 15)
    goals = goal_sequence(g, (1, 1), 5, 30, np.random.default_rng(1))
    dist = {(1, 1): 0}
    queue = deque([(1, 1)])
    while queue:
        x, y = queue.popleft()
        for dx, dy in ((0, 1), (1, 0), (0, -1), (-1, 0)):
            if g[y + dy, x + dx] and (x + dx, y + dy) not in dist:
                dist[(x + dx, y + dy)] = dist[(x, y)] + 1
                queue.append((x + dx, y + dy))
    d = [dist[c] for c in goals]
    assert d == sorted(d) and len(set(d)) == 5 and max(d) == min(30, max(dist.values()))
    with pytest.raises(RnnaiError, match="need"):
        goal_sequence(g, (1, 1), 5, 3)


def test_bad_inputs_raise_rnnai_errors() -> None:
    with pytest.raises(RnnaiError, match="gamma"):
        ALSConfig(gamma=1.0)
    with pytest.raises(RnnaiError, match="max_len"):
        ALSConfig(max_len=0)
    grid = parse_maze(LOOP)
    with pytest.raises(RnnaiError, match="free cell"):
        MazeTask(grid=grid, start=(0, 0), heading=1, goal=(5, 3))
    with pytest.raises(RnnaiError, match="border"):
        MazeTask(grid=np.ones((5, 5), np.uint8), start=(1, 1), heading=1, goal=(2, 2))
    with pytest.raises(RnnaiError, match="do not fit"):
        levin_search_maze(_loop_task(), uniform_policy(ALSConfig(max_len=5)), ALSConfig())
