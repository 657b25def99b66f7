"""`rnnai bench vision`: MD-LSTM's wavefront against a per-pixel loop, PyraMiD-LSTM against MD-LSTM.

Rows (float32 on the CPU, forward + sum of the outputs + backward, torch's thread count left as
the process has it: the Makefile sets OMP_NUM_THREADS=1 unless the environment overrides it):

* ``mdlstm 2-D``: `rnnai.nn.mdlstm.MDLSTM` (anti-diagonal wavefronts, 2 S - 1 batched steps) on
  S x S images against `per_pixel_mdlstm` below, the same layer with the same weights stepped
  cell by cell in raster order (S^2 steps). The loop is the straightforward way to write
  MD-LSTM in PyTorch and is not handicapped: like the wavefront it computes the input projections
  of all cells in one product up front and runs all 2^d directions in each step as one batched
  product; only the order of the recurrence differs. Goal: >= 10x at 64 x 64.
* ``mdlstm 3-D``: the same comparison on a small volume (8 directions).
* ``pyramid-lstm 3-D``: `PyraMiDLSTM` (6 sweeps of 3x3 convolutional LSTMs, sum_a S_a steps)
  against the wavefront `MDLSTM` (8 directions) with the same input and hidden sizes on the
  same volume. The two are different models (PyraMiD-LSTM has fewer directions but convolutions
  over planes); the row says what each costs at equal width.

Ours and the anchor are timed alternately (ABAB...) in the same process and the rows report the
medians; `speedup` = anchor time / our time. The machine these numbers are usually taken on is
shared and has two cores: ratios move by tens of percent between runs; trust their order of
magnitude.

Examples:
    The per-pixel loop computes the same outputs as the wavefront:

    >>> import torch
    >>> from rnnai.nn.mdlstm import MDLSTM
    >>> _ = torch.manual_seed(0)
    >>> model = MDLSTM(2, 3, ndim=2)
    >>> x = torch.randn(1, 2, 4, 5)                    # (N, C, H, W)
    >>> torch.allclose(per_pixel_mdlstm(model, x), model(x), atol=1e-6)
    True
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import torch
from torch import Tensor, nn

from rnnai.bench import BenchRow, register_bench, round_robin_medians
from rnnai.nn.mdlstm import MDLSTM, PyraMiDLSTM
from rnnai.runtime.progress import Progress

__all__ = ["bench_vision", "per_pixel_mdlstm"]

BATCH, CHANNELS, HIDDEN = 2, 3, 16
IMAGE = 64
"""Side of the square images of the 2-D rows."""
VOLUME = 12
"""Side of the cubic volume of the 3-D rows."""


def per_pixel_mdlstm(model: MDLSTM, x: Tensor) -> Tensor:
    """Compute `model`'s output one cell at a time, in raster order (all directions per step).

    Args:
        model: The MD-LSTM layer whose weights to use.
        x: (N, C, *spatial) input.

    Returns:
        The same as ``model(x)``.
    """
    directions = model.directions
    D, d, H = len(directions), model.ndim, model.hidden_size
    N, C, *S = x.shape
    P, G = math.prod(S), (3 + d) * H
    xs = torch.stack([x.flip([2 + a for a in f]) if f else x for f in directions])
    x_seq = xs.reshape(D, N, C, P).permute(0, 3, 1, 2)  # (D, P, N, C), raster order
    xw = torch.baddbmm(model.bias.unsqueeze(1), x_seq.reshape(D, P * N, C), model.weight_ih)
    xw = xw.view(D, P, N, G)
    strides = [math.prod(S[k + 1 :]) for k in range(d)]
    zero = x.new_zeros(D, N, H)
    hs: list[Tensor] = []
    cs: list[Tensor] = []
    for p, coords in enumerate(itertools.product(*[range(s) for s in S])):
        h_k = [hs[p - strides[k]] if coords[k] else zero for k in range(d)]
        c_k = torch.stack([cs[p - strides[k]] if coords[k] else zero for k in range(d)], 2)
        a = torch.baddbmm(xw[:, p], torch.cat(h_k, -1), model.weight_hh).view(D, N, 3 + d, H)
        a_i, a_f, a_g, a_o = a[:, :, 0], a[:, :, 1 : 1 + d], a[:, :, 1 + d], a[:, :, 2 + d]
        if model.peep_i is not None and model.peep_f is not None:
            a_i = a_i + (model.peep_i[:, None] * c_k).sum(2)
            a_f = a_f + model.peep_f[:, None] * c_k
        c = (torch.sigmoid(a_f) * c_k).sum(2) + torch.sigmoid(a_i) * torch.tanh(a_g)
        if model.peep_o is not None:
            a_o = a_o + model.peep_o[:, None] * c
        hs.append(torch.sigmoid(a_o) * torch.tanh(c))  # (D, N, H)
        cs.append(c)
    y = torch.stack(hs, 1).permute(0, 2, 3, 1).reshape(D, N, H, *S)
    outs = [y[j].flip([2 + a for a in f]) if f else y[j] for j, f in enumerate(directions)]
    if model.combine == "sum":
        return torch.stack(outs).sum(0)
    return torch.cat(outs, 1)


def _step(forward: Callable[[Tensor], Tensor], params: nn.Module, x: Tensor) -> Callable[[], None]:
    def step() -> None:
        params.zero_grad(set_to_none=True)
        forward(x).sum().backward()

    return step


def _ab_medians(
    ours: Callable[[], None], anchor: Callable[[], None], repeats: int
) -> tuple[float, float]:
    """Median seconds of `ours` and `anchor`, timed alternately after one warm-up call each."""
    med = round_robin_medians({"anchor": anchor, "ours": ours}, repeats)
    return med["ours"], med["anchor"]


@register_bench("vision")
def bench_vision(quick: bool, progress: Progress) -> list[BenchRow]:
    """Time MD-LSTM's wavefront against a per-pixel loop (2-D and 3-D) and PyraMiD-LSTM against
    MD-LSTM (3-D), fwd+bwd, alternating in one process."""
    repeats = 3 if quick else 7
    gen = torch.Generator().manual_seed(0)
    image = torch.randn(BATCH, CHANNELS, IMAGE, IMAGE, generator=gen)
    volume = torch.randn(BATCH, CHANNELS, VOLUME, VOLUME, VOLUME, generator=gen)
    torch.manual_seed(0)
    md2 = MDLSTM(CHANNELS, HIDDEN, ndim=2)
    md3 = MDLSTM(CHANNELS, HIDDEN, ndim=3)
    pyramid = PyraMiDLSTM(CHANNELS, HIDDEN, ndim=3)
    sizes = f"N={BATCH} C={CHANNELS} H={HIDDEN}"
    rows: list[BenchRow] = []
    with progress.task(3, "vision fwd+bwd") as task:

        def loop2(x: Tensor) -> Tensor:
            return per_pixel_mdlstm(md2, x)

        def loop3(x: Tensor) -> Tensor:
            return per_pixel_mdlstm(md3, x)

        t_ours, t_anchor = _ab_medians(_step(md2, md2, image), _step(loop2, md2, image), repeats)
        rows.append(
            BenchRow.compare(
                f"mdlstm 2-D wavefront vs per-pixel loop, 4 directions, {IMAGE}x{IMAGE} {sizes}",
                t_ours * 1e3,
                t_anchor * 1e3,
                "ms",
            )
        )
        task.advance()
        t_ours, t_anchor = _ab_medians(_step(md3, md3, volume), _step(loop3, md3, volume), repeats)
        side = f"{VOLUME}x{VOLUME}x{VOLUME}"
        rows.append(
            BenchRow.compare(
                f"mdlstm 3-D wavefront vs per-voxel loop, 8 directions, {side} {sizes}",
                t_ours * 1e3,
                t_anchor * 1e3,
                "ms",
            )
        )
        task.advance()
        t_ours, t_anchor = _ab_medians(
            _step(pyramid, pyramid, volume), _step(md3, md3, volume), repeats
        )
        rows.append(
            BenchRow.compare(
                f"pyramid-lstm 3-D (6 sweeps, 3x3) vs mdlstm wavefront (8 directions), {side} "
                f"{sizes}",
                t_ours * 1e3,
                t_anchor * 1e3,
                "ms",
            )
        )
        task.advance()
    return rows
