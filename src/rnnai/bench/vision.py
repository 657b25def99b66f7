"""`rnnai bench vision`: MD-LSTM vs a per-pixel loop, PyraMiD-LSTM vs MD-LSTM, MPCNN training.

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

* ``mpcnn training``: training images per second of the MNIST column
  (1x29x29-20C4-MP2-40C5-MP3-150N-10N) as `rnnai.nn.mpcnn.train_column` trains it: one epoch over
  ``MPCNN_IMAGES`` 29x29 images including everything the function does per epoch (width
  normalization, a fresh elastic distortion of every image with rotation and scaling, the
  shuffle, conversion of each batch to a tensor, forward, backward and the SGD step), against
  `sequential_mpcnn`, the same layers written as a plain ``nn.Sequential`` with torch's default
  initialization and ``nn.Tanh``, trained by ``torch.optim.SGD`` on images already stacked in one
  tensor (no distortion). One row for online training (batch 1, the papers' setting) and one for
  minibatches of 10 (the quick scale's setting), where the pipeline's share is larger. A ratio
  near 1 means the data pipeline and the distortions are not the bottleneck.

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

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnai.bench import BenchRow, register_bench, round_robin_medians
from rnnai.nn.mdlstm import MDLSTM, PyraMiDLSTM
from rnnai.nn.mpcnn import MNIST_MPCNN, ColumnTrainConfig, MPCNNConfig, train_column
from rnnai.runtime.progress import Progress

__all__ = ["bench_vision", "per_pixel_mdlstm", "sequential_mpcnn"]

BATCH, CHANNELS, HIDDEN = 2, 3, 16
IMAGE = 64
"""Side of the square images of the 2-D rows."""
VOLUME = 12
"""Side of the cubic volume of the 3-D rows."""
MPCNN_IMAGES = 256
"""Training images per timed epoch of the MPCNN rows (64 with ``quick``)."""
MPCNN_BATCHES = (1, 10)
"""Minibatch sizes of the MPCNN rows (1: online)."""
MPCNN_LR = 0.01
"""Learning rate of both MPCNN trainers (it does not change the cost of a step)."""


def sequential_mpcnn(config: MPCNNConfig = MNIST_MPCNN) -> nn.Sequential:
    """The MPCNN's layers as a plain ``nn.Sequential``: torch's default init, ``nn.Tanh``.

    Examples:
        >>> net = sequential_mpcnn()
        >>> sum(p.numel() for p in net.parameters())
        76040
        >>> tuple(net(torch.zeros(2, 1, 29, 29)).shape)
        (2, 10)
    """
    layers: list[nn.Module] = []
    prev = config.in_channels
    for m, k, p in zip(config.maps, config.kernels, config.pools, strict=True):
        layers += [nn.Conv2d(prev, m, k), nn.Tanh(), nn.MaxPool2d(p)]
        prev = m
    side = config.map_sides()[-1] if config.maps else config.input_size
    width = prev * side * side
    layers.append(nn.Flatten())
    for h in config.hidden:
        layers += [nn.Linear(width, h), nn.Tanh()]
        width = h
    layers.append(nn.Linear(width, config.classes))
    return nn.Sequential(*layers)


def _mpcnn_steps(
    images: np.ndarray, labels: np.ndarray, batch: int
) -> tuple[Callable[[], None], Callable[[], None]]:
    """One training epoch each: ours (`train_column`, distorted) and the plain Sequential's."""
    config = ColumnTrainConfig(epochs=1, lr=MPCNN_LR, lr_decay=1.0, batch=batch)

    def ours() -> None:
        train_column(images, labels, config=config, seed=0)

    torch.manual_seed(0)
    seq = sequential_mpcnn()
    opt = torch.optim.SGD(seq.parameters(), lr=MPCNN_LR)
    x = torch.from_numpy(images).unsqueeze(1)  # (N, 1, 29, 29), made once
    y = torch.from_numpy(labels)

    def anchor() -> None:
        for i in range(0, len(x), batch):
            loss = F.cross_entropy(seq(x[i : i + batch]), y[i : i + batch])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

    return ours, anchor


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
    """Time MD-LSTM's wavefront against a per-pixel loop (2-D and 3-D), PyraMiD-LSTM against
    MD-LSTM (3-D), fwd+bwd, and MPCNN training images/s (ours with distortions against a plain
    Sequential on pre-made tensors), each pair alternating in one process."""
    repeats = 3 if quick else 7
    gen = torch.Generator().manual_seed(0)
    image = torch.randn(BATCH, CHANNELS, IMAGE, IMAGE, generator=gen)
    volume = torch.randn(BATCH, CHANNELS, VOLUME, VOLUME, VOLUME, generator=gen)
    torch.manual_seed(0)
    md2 = MDLSTM(CHANNELS, HIDDEN, ndim=2)
    md3 = MDLSTM(CHANNELS, HIDDEN, ndim=3)
    pyramid = PyraMiDLSTM(CHANNELS, HIDDEN, ndim=3)
    sizes = f"N={BATCH} C={CHANNELS} H={HIDDEN}"
    n_images = min(MPCNN_IMAGES, 64) if quick else MPCNN_IMAGES
    rng = np.random.default_rng(0)
    mpcnn_images = rng.random((n_images, 29, 29), dtype=np.float32)
    mpcnn_labels = rng.integers(0, 10, size=n_images).astype(np.int64)
    rows: list[BenchRow] = []
    with progress.task(3 + len(MPCNN_BATCHES), "vision") as task:

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
        for batch in MPCNN_BATCHES:
            ours, anchor = _mpcnn_steps(mpcnn_images, mpcnn_labels, batch)
            t_ours, t_anchor = _ab_medians(ours, anchor, repeats)
            kind = "online (batch 1)" if batch == 1 else f"minibatch {batch}"
            rows.append(
                BenchRow.compare(
                    f"mpcnn training {kind}, {MNIST_MPCNN.name}: train_column with elastic "
                    f"distortions vs plain nn.Sequential on pre-made tensors, {n_images} images",
                    n_images / t_ours,
                    n_images / t_anchor,
                    "images/s",
                )
            )
            task.advance()
    return rows
