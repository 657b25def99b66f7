"""`rnnai bench lstm`: forward+backward time of every LSTM variant against torch.nn.LSTM.

The setting: batch 32, length 100, input 32, hidden 128 and 256, one layer, float32 on the CPU,
with torch's thread count left as the process has it (the Makefile and CI set OMP_NUM_THREADS=2
and OMP_WAIT_POLICY=PASSIVE). One step = forward, sum of the outputs, backward.

The shared machine is noisy, so anchor and variant are timed alternately (ABAB...) and each row
reports the medians; `speedup` = anchor time / our time (>1 = faster than the anchor).
After the variants, per hidden size: a plain per-step autograd loop of the peephole LSTM (the
straightforward way to write a variant in PyTorch) against torch.nn.LSTM, to show what the
hand-written backward buys; and `LSTMCell` stepped along the sequence (variants in
CELL_VARIANTS) against torch.nn.LSTMCell stepped the same way.

Examples:
    Time 5 steps of a tiny LSTMCell against torch.nn.LSTMCell (the names are this module's):

    >>> import torch
    >>> from rnnai.nn import LSTMCell
    >>> BENCH_VARIANTS[:3], CELL_VARIANTS
    (('torch', 'vanilla', 'lstm1997'), ('torch', 'vanilla'))
    >>> x = torch.randn(5, 2, 32)  # (L, N, H_in)
    >>> ours = _cell_loop(LSTMCell(32, 8, variant="vanilla"), x)
    >>> anchor = _cell_loop(torch.nn.LSTMCell(32, 8), x)
    >>> t_ours, t_anchor = _ab_medians(ours, anchor, repeats=3)
    >>> t_ours > 0 and t_anchor > 0
    True
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from rnnai.bench import BenchRow, register_bench, round_robin_medians
from rnnai.runtime.progress import Progress

BATCH, LENGTH, INPUT = 32, 100, 32
HIDDEN_SIZES = (128, 256)
BENCH_VARIANTS = (
    "torch",
    "vanilla",
    "lstm1997",
    "nig",
    "nfg",
    "nog",
    "niaf",
    "noaf",
    "np",
    "cifg",
    "fgr",
)
CELL_VARIANTS = ("torch", "vanilla")
"""Variants of `LSTMCell` stepped against torch.nn.LSTMCell."""


def _step_fn(module: torch.nn.Module, x: torch.Tensor) -> Callable[[], None]:
    def step() -> None:
        module.zero_grad(set_to_none=True)
        y, _ = module(x)
        y.sum().backward()

    return step


def _cell_loop(cell: torch.nn.Module, x: torch.Tensor) -> Callable[[], None]:
    """Step a cell (ours or torch.nn.LSTMCell: both return (h, c, ...)) along x, then backward."""

    def step() -> None:
        cell.zero_grad(set_to_none=True)
        state = None
        outs = []
        for x_t in x.unbind(0):
            state = cell(x_t, state)
            outs.append(state[0])
        torch.stack(outs).sum().backward()

    return step


def _naive_peephole_loop(hidden: int, x: torch.Tensor) -> Callable[[], None]:
    """Per-step autograd peephole LSTM, the way one writes it without a custom backward."""
    gen = torch.Generator().manual_seed(0)
    k = hidden**-0.5
    W = ((torch.rand(4 * hidden, INPUT, generator=gen) * 2 - 1) * k).requires_grad_()
    R = ((torch.rand(4 * hidden, hidden, generator=gen) * 2 - 1) * k).requires_grad_()
    b = torch.zeros(4 * hidden, requires_grad=True)
    p = torch.zeros(3, hidden, requires_grad=True)

    def step() -> None:
        T, B, _ = x.shape
        xw = torch.addmm(b, x.reshape(T * B, INPUT), W.t()).view(T, B, 4 * hidden)
        h = x.new_zeros(B, hidden)
        c = x.new_zeros(B, hidden)
        outs = []
        for xt in xw.unbind(0):
            a_i, a_f, a_g, a_o = torch.addmm(xt, h, R.t()).chunk(4, 1)
            i = torch.sigmoid(a_i + p[0] * c)
            f = torch.sigmoid(a_f + p[1] * c)
            c = f * c + i * torch.tanh(a_g)
            o = torch.sigmoid(a_o + p[2] * c)
            h = o * torch.tanh(c)
            outs.append(h)
        torch.stack(outs).sum().backward()

    return step


def _ab_medians(
    ours: Callable[[], None], anchor: Callable[[], None], repeats: int
) -> tuple[float, float]:
    """Median seconds of `ours` and `anchor`, timed alternately after one warm-up call each."""
    med = round_robin_medians({"anchor": anchor, "ours": ours}, repeats)
    return med["ours"], med["anchor"]


@register_bench("lstm")
def bench_lstm(quick: bool, progress: Progress) -> list[BenchRow]:
    """Time fwd+bwd of each variant against torch.nn.LSTM, and of LSTMCell stepping against
    torch.nn.LSTMCell (same process, alternating)."""
    from rnnai.nn.lstm import LSTM, LSTMCell

    repeats = 5 if quick else 15
    rows: list[BenchRow] = []
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(LENGTH, BATCH, INPUT, generator=gen)
    per_size = len(BENCH_VARIANTS) + 1 + len(CELL_VARIANTS)
    with progress.task(len(HIDDEN_SIZES) * per_size, "lstm fwd+bwd") as task:
        for hidden in HIDDEN_SIZES:
            torch.manual_seed(0)
            anchor_mod = torch.nn.LSTM(INPUT, hidden)
            anchor = _step_fn(anchor_mod, x)
            for name in BENCH_VARIANTS:
                ours = _step_fn(LSTM(INPUT, hidden, variant=name), x)
                t_ours, t_anchor = _ab_medians(ours, anchor, repeats)
                rows.append(
                    BenchRow.compare(
                        f"lstm {name} fwd+bwd B={BATCH} T={LENGTH} I={INPUT} H={hidden}",
                        t_ours * 1e3,
                        t_anchor * 1e3,
                        "ms",
                    )
                )
                task.advance()
            t_ours, t_anchor = _ab_medians(_naive_peephole_loop(hidden, x), anchor, repeats)
            rows.append(
                BenchRow.compare(
                    f"reference: per-step autograd peephole loop H={hidden}",
                    t_ours * 1e3,
                    t_anchor * 1e3,
                    "ms",
                )
            )
            task.advance()
            torch.manual_seed(0)
            cell_anchor = _cell_loop(torch.nn.LSTMCell(INPUT, hidden), x)
            for name in CELL_VARIANTS:
                cell = _cell_loop(LSTMCell(INPUT, hidden, variant=name), x)
                t_ours, t_anchor = _ab_medians(cell, cell_anchor, repeats)
                rows.append(
                    BenchRow.compare(
                        f"lstmcell {name} {LENGTH} steps fwd+bwd B={BATCH} I={INPUT} H={hidden} "
                        "vs torch.nn.LSTMCell",
                        t_ours * 1e3,
                        t_anchor * 1e3,
                        "ms",
                    )
                )
                task.advance()
    return rows
