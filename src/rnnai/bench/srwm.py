"""`rnnai bench srwm`: the SRWM's memory-efficient backward against a per-step autograd loop.

Setting: batch N = 4, 4 heads of d_head = 32 (each head's W is (3 * 32 + 4) x 32, four learning
rates), inputs through the softmax, float32, torch on 1 thread; one step = forward, the sum of
the outputs plus the sum of the final matrices, backward to x and W_0. Two computations of
`rnnai.nn.srwm.srwm` over a sequence of length T:

* ``efficient``: ``mode="efficient"``, the custom autograd function (W updated in place, W_{t-1}
  recovered in the backward pass by undoing the rank-1 update);
* ``autograd``: ``mode="autograd"``, the equations transcribed step by step under autograd (one
  new W per step, kept for the backward pass).

The efficient form's gain has three sources: no autograd graph per step (a hand-written backward
with the per-step bookkeeping batched), in-place updates of W instead of a new matrix per step,
and matrix-vector products written as v^T W^T, a form in which torch's CPU ``bmm`` is several
times faster than W v on these shapes (the transcription keeps the plain W v of the equations).

T = 64, 256 and 1,024 (``--quick``: 64). The two are timed round-robin in the same process (one
untimed warm-up call each, then alternating repeats) and each row reports medians; ``speedup`` =
the autograd loop's time / the efficient form's time. Memory rows report the bytes autograd saves
for the backward pass (`rnnai.bench.memory.saved_bytes`; the efficient form saves W_0, W_T and
O(T) vectors, the loop one matrix per step), unit ``MiB``, no speedup.

The goal for the time rows is a speedup of at least 5 on one CPU thread. Both sides are the same
equations in float32 (the tests of `rnnai.nn.srwm` hold them equal), so the rows measure only
the cost of the computation form, fwd+bwd, not of any model around it; they are wall-clock
medians and move with the machine's load.

Examples:
    >>> BATCH * HEADS * (3 * D_HEAD + 4) * D_HEAD * 4  # bytes of all heads' W, float32
    204800
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from rnnai.bench import BenchRow, register_bench, round_robin_medians
from rnnai.bench.memory import saved_bytes
from rnnai.nn.srwm import srwm, srwm_rows
from rnnai.runtime.progress import Progress

__all__ = ["bench_srwm"]

BATCH, HEADS, D_HEAD, NUM_BETAS = 4, 4, 32, 4
SIZES, QUICK_SIZES = (64, 256, 1024), (64,)
REPEATS, QUICK_REPEATS = 3, 1
MIB = float(2**20)
MODES = ("efficient", "autograd")


def _leaves(T: int) -> tuple[Tensor, Tensor]:
    gen = torch.Generator().manual_seed(T)
    x = torch.softmax(torch.randn(BATCH, HEADS, T, D_HEAD, generator=gen), dim=-1)
    D = srwm_rows(D_HEAD, D_HEAD, NUM_BETAS)
    W0 = torch.randn(1, HEADS, D, D_HEAD, generator=gen) / D_HEAD**0.5
    return x.requires_grad_(), W0.requires_grad_()


def _forward(x: Tensor, W0: Tensor, mode: str) -> Callable[[], Tensor]:
    def run() -> Tensor:
        y, W = srwm(x, W0, d_out=D_HEAD, num_betas=NUM_BETAS, mode=mode)
        return y.sum() + W.sum()

    return run


def _step(forward: Callable[[], Tensor], leaves: tuple[Tensor, Tensor]) -> Callable[[], None]:
    def step() -> None:
        for t in leaves:
            t.grad = None
        forward().backward()

    return step


@register_bench("srwm")
def bench_srwm(quick: bool, progress: Progress) -> list[BenchRow]:
    """Time and saved memory of the SRWM's efficient backward against the autograd step loop.

    Args:
        quick: One length (T = 64) and one timed repeat.
        progress: The progress display.

    Returns:
        Per length: a time row (ms, fwd+bwd) and a memory row (MiB saved for backward).
    """
    sizes = QUICK_SIZES if quick else SIZES
    repeats = QUICK_REPEATS if quick else REPEATS
    setting = f"N={BATCH} heads={HEADS} d_head={D_HEAD} float32 1 thread"
    rows: list[BenchRow] = []
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with progress.task(len(sizes), "srwm: efficient vs autograd fwd+bwd") as task:
            for T in sizes:
                leaves = _leaves(T)
                forwards = {m: _forward(*leaves, m) for m in MODES}
                med = round_robin_medians(
                    {m: _step(f, leaves) for m, f in forwards.items()}, repeats
                )
                mem = {m: saved_bytes(f) / MIB for m, f in forwards.items()}
                rows.append(
                    BenchRow.compare(
                        f"SRWM efficient backward vs per-step autograd, fwd+bwd T={T} {setting}",
                        med["efficient"] * 1e3,
                        med["autograd"] * 1e3,
                        "ms",
                    )
                )
                rows.append(
                    BenchRow(
                        name=f"memory: SRWM efficient backward vs per-step autograd T={T}",
                        ours=mem["efficient"],
                        anchor=mem["autograd"],
                        unit="MiB",
                        speedup=None,
                    )
                )
                task.advance()
    finally:
        torch.set_num_threads(threads)
    return rows
