"""Numba kernel of one Levin-search phase over maze programs with position-dependent probabilities.

The machine, the instruction set and the phase are documented in `rnnai.selfmod.adaptive_levin`
(`levin_phase_py` there is this kernel's plain-Python twin: same order, same counts).

Program cells: ``prog[k] = (op, address, times)``; ops 0..7 are the REPEAT-UNTIL-THEN primitives,
op 8 is Jump(address, times). Status codes: `SUCCESS`, `BUDGET` (time ran out), `NEED` (the
instruction pointer reached the end of the written program: an oracle request), `FULL` (a request
at the longest allowed program).
"""

from __future__ import annotations

import math

import numpy as np

from rnnai.runtime.jit import njit

__all__ = ["BUDGET", "DX", "DY", "FULL", "JUMP", "NEED", "N_PRIM", "SUCCESS", "levin_phase"]

SUCCESS, BUDGET, NEED, FULL = 0, 1, 2, 3
N_PRIM = 8
"""Primitives 0..7 (REPEAT step forward UNTIL condition, THEN rotate)."""
JUMP = 8
"""Op number of Jump(address, times)."""
DX = np.array([0, 1, 0, -1], dtype=np.int64)  # headings N, E, S, W
DY = np.array([-1, 0, 1, 0], dtype=np.int64)
# per primitive: condition (0 front blocked, 1 left free, 2 right free), rotation (-1, +1, 0)
COND = np.array([0, 0, 1, 1, 1, 2, 2, 2], dtype=np.int64)
TURN = np.array([-1, 1, -1, 1, 0, -1, 1, 0], dtype=np.int64)


@njit(cache=True)
def _free(grid: np.ndarray, x: int, y: int, d: int) -> bool:
    return grid[y + DY[d], x + DX[d]] != 0


@njit(cache=True)
def _run(grid, gx, gy, prog, depth, st, to_go, budget):
    """Run from ``st = [x, y, d, ip, steps, moves]`` until success, budget or a request."""
    x, y, d, ip, steps, moves = st[0], st[1], st[2], st[3], st[4], st[5]
    status = NEED
    while True:
        if ip == depth:
            status = NEED
            break
        op = prog[ip, 0]
        if op == JUMP:
            if steps >= budget:
                status = BUDGET
                break
            steps += 1
            if to_go[ip] > 0:
                to_go[ip] -= 1
                ip = prog[ip, 1]
            else:
                to_go[ip] = prog[ip, 2]
                ip += 1
            continue
        cond = COND[op]
        done = False
        while _free(grid, x, y, d):  # REPEAT step forward (a blocked front ends the loop)
            if steps >= budget:
                status = BUDGET
                done = True
                break
            steps += 1
            moves += 1
            x += DX[d]
            y += DY[d]
            if x == gx and y == gy:
                status = SUCCESS
                done = True
                break
            if cond == 1 and _free(grid, x, y, (d + 3) % 4):  # UNTIL left field is free
                break
            if cond == 2 and _free(grid, x, y, (d + 1) % 4):  # UNTIL right field is free
                break
        if done:
            break
        if steps >= budget:
            status = BUDGET
            break
        steps += 1  # THEN rotate (one time step, also for "none")
        d = (d + TURN[op] + 4) % 4
        ip += 1
    st[0], st[1], st[2], st[3], st[4], st[5] = x, y, d, ip, steps, moves
    return status


@njit(cache=True)
def _child_p(P, Pbar, Phat, k, c, maxr):
    if c < N_PRIM:
        return P[k, c]
    j = c - N_PRIM
    return P[k, JUMP] * Pbar[k, j // maxr] * Phat[k, j % maxr]


@njit(cache=True)
def levin_phase(grid, sx, sy, sd, gx, gy, P, Pbar, Phat, maxr, t_total, prog_out, info):
    """One phase (total time ``t_total``) of depth-first Levin search; stops at the first success.

    Returns:
        (found, steps executed, programs finished); on success ``prog_out[:length]`` holds the
        program and ``info = [length, steps of the solution, forward moves, 0]``.
    """
    max_len = P.shape[0]
    prog = np.zeros((max_len, 3), dtype=np.int64)
    to_go = np.zeros(max_len, dtype=np.int64)
    st = np.zeros(6, dtype=np.int64)
    st[0], st[1], st[2] = sx, sy, sd
    lvl_st = np.zeros((max_len, 6), dtype=np.int64)
    lvl_go = np.zeros((max_len, max_len), dtype=np.int64)
    lvl_p = np.zeros(max_len, dtype=np.float64)
    lvl_c = np.zeros(max_len, dtype=np.int64)
    n_lvl = 0
    depth = 0
    p = 1.0
    steps_total = 0
    programs = 0
    while True:
        before = st[4]
        budget = math.floor(p * t_total)
        status = _run(grid, gx, gy, prog, depth, st, to_go, budget)
        steps_total += st[4] - before
        if status == NEED and depth == max_len:
            status = FULL
        if status == NEED:
            lvl_st[n_lvl, :] = st
            lvl_go[n_lvl, :] = to_go
            lvl_p[n_lvl] = p
            lvl_c[n_lvl] = -1
            n_lvl += 1
        else:
            programs += 1
            if status == SUCCESS:
                prog_out[:depth, :] = prog[:depth, :]
                info[0], info[1], info[2], info[3] = depth, st[4], st[5], 0
                return True, steps_total, programs
        moved = False
        while n_lvl > 0 and not moved:  # next affordable child of the deepest open request
            k = n_lvl - 1
            n_child = N_PRIM + (k + 1) * maxr
            used = lvl_st[k, 4]
            c = lvl_c[k] + 1
            while c < n_child:
                pc = lvl_p[k] * _child_p(P, Pbar, Phat, k, c, maxr)
                if math.floor(pc * t_total) > used:
                    break
                c += 1
            if c < n_child:
                lvl_c[k] = c
                st[:] = lvl_st[k, :]
                to_go[:] = lvl_go[k, :]
                if c < N_PRIM:
                    prog[k, 0], prog[k, 1], prog[k, 2] = c, 0, 0
                else:
                    j = c - N_PRIM
                    prog[k, 0], prog[k, 1], prog[k, 2] = JUMP, j // maxr, j % maxr + 1
                    to_go[k] = j % maxr + 1
                depth = k + 1
                p = lvl_p[k] * _child_p(P, Pbar, Phat, k, c, maxr)
                moved = True
            else:
                n_lvl -= 1
        if not moved:
            return False, steps_total, programs
