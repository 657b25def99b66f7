"""Multi-dimensional LSTM (MD-LSTM) by anti-diagonal wavefronts, and PyraMiD-LSTM.

Papers (read this module beside them):

* A. Graves, S. Fernandez & J. Schmidhuber, "Multi-dimensional recurrent neural networks",
  ICANN 2007 (arXiv:0705.2011). MD-RNNs and MD-LSTM: one recurrent connection and one forget
  gate per dimension; 2^d hidden layers, one per sweep direction, for a d-dimensional input.
* A. Graves & J. Schmidhuber, "Offline handwriting recognition with multidimensional recurrent
  neural networks", NIPS 2008 (NIPS 21, 2009). Hierarchies of MD-LSTM layers trained with CTC.
* M. F. Stollenga, W. Byeon, M. Liwicki & J. Schmidhuber, "Parallel multi-dimensional LSTM, with
  application to fast biomedical volumetric image segmentation", NIPS 2015 (arXiv:1506.07452).
  PyraMiD-LSTM: 2d convolutional LSTMs, each sweeping along one axis in one direction.

MD-LSTM. For a cell at position p of a d-dimensional grid, p^-_k is the position one step back
along axis k (in the sweep's direction); states at positions outside the grid are zero. With
x the input at p, (h_k, c_k) = (h, c) at p^-_k, sigma the logistic function and (.) the
elementwise product, each sweep direction has its own weights and computes::

    i   = sigma(W_i x + sum_k U_{i,k} h_k + sum_k p_{i,k} (.) c_k + b_i)          (Eq. 1)
    f_l = sigma(W_{f_l} x + sum_k U_{f_l,k} h_k + p_{f_l} (.) c_l + b_{f_l})   l = 1..d   (Eq. 2)
    g   = tanh(W_g x + sum_k U_{g,k} h_k + b_g)                                  (Eq. 3)
    c   = sum_l f_l (.) c_l + i (.) g                                            (Eq. 4)
    o   = sigma(W_o x + sum_k U_{o,k} h_k + p_o (.) c + b_o)                      (Eq. 5)
    h   = o (.) tanh(c)                                                          (Eq. 6)

The peephole weights p (diagonal, as in Graves's formulation: the input gate sees every
predecessor's cell, forget gate l only the cell along axis l, the output gate the new cell) are
optional (``peepholes=False`` drops them). The 2^d directions are the 2^d corners a sweep can start
from; direction j flips the axes whose bit is set in j (`sweep_directions`). Their outputs are
concatenated along the channel axis (``combine="concat"``, the papers' layout: the next layer
sees all of them) or summed (``combine="sum"``).

Computation. Every cell depends only on cells whose index sum is one less, so all cells of one
anti-diagonal (positions with the same i+j, or i+j+k in 3-D) are computed in one batched step:
the input projections W x of all cells are one matrix product up front; each of the
sum_k (S_k - 1) + 1 steps gathers the d predecessors of its cells from the previous diagonal (a
zero row stands for positions outside the grid), multiplies them by all U_k at once and applies
Eqs. 1-6. All 2^d directions run in the same steps (one batched matrix product over directions;
each direction sees its input flipped so that every sweep starts at the origin). There is no
per-cell Python loop; autograd differentiates the wavefront.

PyraMiD-LSTM. For each axis a and each direction (increasing or decreasing index), a
convolutional LSTM (C-LSTM) runs along a over the (d-1)-dimensional planes x_t orthogonal to a;
``*`` is a convolution with a kernel of size ``kernel_size`` in every plane dimension and
zero padding that keeps the plane's size::

    i_t = sigma(x_t * W_i + h_{t-1} * U_i + b_i)                                   (Eq. 7)
    f_t = sigma(x_t * W_f + h_{t-1} * U_f + b_f)                                   (Eq. 8)
    g_t = tanh(x_t * W_g + h_{t-1} * U_g + b_g)                                    (Eq. 9)
    o_t = sigma(x_t * W_o + h_{t-1} * U_o + b_o)                                   (Eq. 10)
    c_t = f_t (.) c_{t-1} + i_t (.) g_t,   h_t = o_t (.) tanh(c_t)                  (Eq. 11)
    m   = sum over the 2d sweeps of h                                              (Eq. 12)

with h_0 = c_0 = 0. Each step's recurrence reaches one pixel further in the plane, so the
context of a cell is a pyramid with its apex at the cell; the 2d pyramids together cover the whole
volume. Every plane is one convolution, so a sweep costs S_a convolutions, not prod(S) cell
updates. The two sweeps along one axis run as one grouped convolution.

Deviations and choices: the papers' "convolution" is written with torch's cross-correlation
(the same model, with mirrored kernels). Gate order inside the weights is (i, f_1..f_d, g, o) for
MD-LSTM and (i, f, g, o) for PyraMiD-LSTM. Initialization is uniform in [-1/sqrt(H), 1/sqrt(H)]
for all weights and biases (torch.nn.LSTM's), not the papers' schemes. PyraMiD-LSTM returns the sum
m of Eq. 12 (or the concatenation, ``combine="concat"``); the fully connected layer the paper puts
after it is left to the caller (a 1x1 convolution). With d forget gates that may all be open, an
MD-LSTM cell state can grow like the number of paths to the cell; the module does not bound it.
Only 2-D and 3-D inputs are supported.

`MDLSTMCTCNet` (with `MDCTCConfig`) is the hierarchy of Graves & Schmidhuber, "Offline
handwriting recognition with multidimensional recurrent neural networks", NIPS 21, 2009: pixel
blocks, three MD-LSTM levels (4 sweep directions) with tanh subsampling layers between them, and
an output layer summed over the remaining rows, so the network emits one CTC distribution per
group of image columns (a `rnnai.train.ctc.CTCModel`, trained by
`rnnai.train.ctc.train_ctc_model`; ``vision.mdlstm_ctc`` documents its choices).

Examples:
    >>> import torch
    >>> from rnnai.nn.mdlstm import MDLSTM, PyraMiDLSTM, sweep_directions
    >>> sweep_directions(2)
    [(), (0,), (1,), (0, 1)]
    >>> _ = torch.manual_seed(0)
    >>> md = MDLSTM(3, 4, ndim=2)                       # 4 directions x 4 hidden
    >>> y = md(torch.randn(2, 3, 5, 6))                 # (N, C, H, W)
    >>> tuple(y.shape)                                  # (N, 2^d * hidden, H, W)
    (2, 16, 5, 6)
    >>> md3 = MDLSTM(1, 2, ndim=3, combine="sum")
    >>> tuple(md3(torch.randn(1, 1, 3, 4, 5)).shape)    # (N, C, D, H, W) -> (N, hidden, D, H, W)
    (1, 2, 3, 4, 5)
    >>> pm = PyraMiDLSTM(1, 4, ndim=3)                  # 6 sweeps, summed
    >>> tuple(pm(torch.randn(2, 1, 4, 5, 6)).shape)
    (2, 4, 4, 5, 6)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnai.runtime.errors import RnnaiError

__all__ = [
    "MDCTCConfig",
    "MDLSTM",
    "MDLSTMCTCNet",
    "PyraMiDLSTM",
    "WavefrontPlan",
    "mdlstm_wavefront",
    "sweep_directions",
    "wavefront_plan",
]

Combine = Literal["concat", "sum"]


def sweep_directions(ndim: int) -> list[tuple[int, ...]]:
    """The 2^d sweep directions of a d-dimensional MD-LSTM, as the axes each one flips.

    Args:
        ndim: The number of spatial dimensions d.

    Returns:
        A list of 2^d tuples; entry j holds the axes a (0-based, spatial) with bit a of j set,
        so entry 0 is the sweep from the origin corner.
    """
    return [tuple(a for a in range(ndim) if (j >> a) & 1) for j in range(2**ndim)]


@dataclass(frozen=True, kw_only=True)
class WavefrontPlan:
    """Index tables of the anti-diagonal wavefront over a grid (see `wavefront_plan`).

    Attributes:
        order: (P,) raster index of each cell, cells listed diagonal by diagonal.
        inverse: (P,) position in that listing of each raster cell (the inverse permutation).
        bounds: (start, end) of each diagonal in the listing.
        predecessors: Per diagonal, (n_t * d,) indices into the previous diagonal (cell-major,
            then axis); the index n_{t-1} (one past the end) stands for "outside the grid".
    """

    order: Tensor
    inverse: Tensor
    bounds: tuple[tuple[int, int], ...]
    predecessors: tuple[Tensor, ...]


@lru_cache(maxsize=32)
def wavefront_plan(shape: tuple[int, ...], device: str = "cpu") -> WavefrontPlan:
    """Compute which cells form each anti-diagonal and where their predecessors are.

    Args:
        shape: The grid's spatial shape (S_1, ..., S_d).
        device: Where the index tensors live.

    Returns:
        The plan (cached per shape and device).

    Raises:
        RnnaiError: If a dimension is not positive.
    """
    if not shape or min(shape) < 1:
        raise RnnaiError(f"expected a grid shape of positive sizes, got {shape}")
    d = len(shape)
    P = math.prod(shape)
    grids = torch.meshgrid(*[torch.arange(s) for s in shape], indexing="ij")
    coords = torch.stack([g.reshape(-1) for g in grids], dim=1)  # (P, d), raster order
    diag = coords.sum(1)  # (P,) index sum = diagonal number
    order = torch.argsort(diag, stable=True)
    counts = torch.bincount(diag, minlength=sum(shape) - d + 1)
    starts = torch.cumsum(counts, 0) - counts
    pos = torch.empty(P, dtype=torch.long)
    pos[order] = torch.arange(P) - starts[diag[order]]  # position of each cell in its diagonal
    n_prev = torch.where(diag > 0, counts[(diag - 1).clamp(min=0)], 0)  # (P,) zero-row index
    strides = [math.prod(shape[k + 1 :]) for k in range(d)]
    raster = torch.arange(P)
    preds = []
    for k in range(d):
        inside = coords[:, k] > 0
        prev = (raster - strides[k]).clamp(min=0)
        preds.append(torch.where(inside, pos[prev], n_prev))
    pred = torch.stack(preds, dim=1)[order]  # (P, d), diagonal order
    bounds = []
    tables = []
    for t in range(len(counts)):
        start, end = int(starts[t]), int(starts[t] + counts[t])
        bounds.append((start, end))
        tables.append(pred[start:end].reshape(-1).to(device))
    inverse = torch.empty(P, dtype=torch.long)
    inverse[order] = torch.arange(P)
    return WavefrontPlan(
        order=order.to(device),
        inverse=inverse.to(device),
        bounds=tuple(bounds),
        predecessors=tuple(tables),
    )


def mdlstm_wavefront(
    x: Tensor,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias: Tensor,
    peepholes: tuple[Tensor, Tensor, Tensor] | None = None,
) -> Tensor:
    """Run D MD-LSTM sweeps from the origin corner by anti-diagonal wavefronts (Eqs. 1-6).

    Args:
        x: (D, N, C, *S) input, one copy per direction, each already oriented so that its sweep
            starts at index 0 of every axis.
        weight_ih: (D, C, G) input weights, G = (3 + d) H, gates (i, f_1..f_d, g, o).
        weight_hh: (D, d H, G) recurrent weights; rows k H .. (k+1) H - 1 are U_k.
        bias: (D, G).
        peepholes: None, or (p_i, p_f, p_o) of shapes (D, d, H), (D, d, H), (D, H).

    Returns:
        (D, N, H, *S) hidden states h.
    """
    D, N, C = x.shape[:3]
    S = tuple(x.shape[3:])
    d = len(S)
    H = weight_hh.shape[1] // d
    G = weight_ih.shape[2]
    P = math.prod(S)
    plan = wavefront_plan(S, str(x.device))
    x_seq = x.reshape(D, N, C, P).permute(0, 3, 1, 2).index_select(1, plan.order)  # (D, P, N, C)
    xw = torch.baddbmm(bias.unsqueeze(1), x_seq.reshape(D, P * N, C), weight_ih)  # W x + b
    # split once (not sliced per step: the backward of each slice would zero-fill all of xw)
    xw_diagonals = xw.view(D, P, N, G).split([end - start for start, end in plan.bounds], 1)
    zero = x.new_zeros(D, 1, N, H)
    h_prev, c_prev = zero, zero  # the previous diagonal plus a zero row (outside the grid)
    outs = []
    for xw_t, pred in zip(xw_diagonals, plan.predecessors, strict=True):
        n = xw_t.shape[1]
        h_k = h_prev.index_select(1, pred).view(D, n, d, N, H).transpose(2, 3)  # (D, n, N, d, H)
        c_k = c_prev.index_select(1, pred).view(D, n, d, N, H).transpose(2, 3)  # (D, n, N, d, H)
        a = torch.baddbmm(xw_t.reshape(D, n * N, G), h_k.reshape(D, n * N, d * H), weight_hh)
        a = a.view(D, n, N, 3 + d, H)  # gate pre-activations, (D, n, N, gates, H)
        a_i, a_f, a_g, a_o = a[..., 0, :], a[..., 1 : 1 + d, :], a[..., 1 + d, :], a[..., 2 + d, :]
        if peepholes is not None:
            p_i, p_f, p_o = peepholes
            a_i = a_i + (p_i[:, None, None] * c_k).sum(3)
            a_f = a_f + p_f[:, None, None] * c_k
        i = torch.sigmoid(a_i)  # Eq. 1
        f = torch.sigmoid(a_f)  # Eq. 2, (D, n, N, d, H)
        g = torch.tanh(a_g)  # Eq. 3
        c = (f * c_k).sum(3) + i * g  # Eq. 4
        if peepholes is not None:
            a_o = a_o + peepholes[2][:, None, None] * c
        o = torch.sigmoid(a_o)  # Eq. 5
        h = o * torch.tanh(c)  # Eq. 6, (D, n, N, H)
        outs.append(h)
        h_prev = torch.cat([h, zero], 1)
        c_prev = torch.cat([c, zero], 1)
    hs = torch.cat(outs, 1).index_select(1, plan.inverse)  # (D, P, N, H), raster order
    return hs.permute(0, 2, 3, 1).reshape(D, N, H, *S)


def _check_input(x: Tensor, ndim: int, channels: int, name: str) -> None:
    if x.dim() != ndim + 2:
        raise RnnaiError(
            f"{name} expects input (N, C, {'D, H, W' if ndim == 3 else 'H, W'}) with "
            f"{ndim + 2} dimensions, got shape {tuple(x.shape)}"
        )
    if x.shape[1] != channels:
        raise RnnaiError(f"{name} expects {channels} input channels, got {x.shape[1]}")
    if x.numel() == 0:
        raise RnnaiError(f"{name} expects a non-empty input, got shape {tuple(x.shape)}")


def _check_args(input_size: int, hidden_size: int, ndim: int, combine: str, name: str) -> None:
    if ndim not in (2, 3):
        raise RnnaiError(f"{name} supports ndim 2 or 3, got {ndim}")
    if input_size < 1 or hidden_size < 1:
        raise RnnaiError(
            f"{name} needs input_size and hidden_size >= 1, got {input_size} and {hidden_size}"
        )
    if combine not in ("concat", "sum"):
        raise RnnaiError(f"combine must be 'concat' or 'sum', got {combine!r}")


def _within_reversal(lengths: Tensor, n: int, width: int) -> Tensor:
    """(N, W) column indices reversing each sample's first ``lengths[i]`` columns (an involution).

    Raises:
        RnnaiError: If ``lengths`` is not N integers in [1, W].
    """
    if lengths.shape != (n,) or lengths.dtype.is_floating_point or lengths.dtype == torch.bool:
        raise RnnaiError(
            f"MDLSTM lengths must be {n} integers (one per sample), got dtype {lengths.dtype} "
            f"and shape {tuple(lengths.shape)}"
        )
    if n and (int(lengths.min()) < 1 or int(lengths.max()) > width):
        raise RnnaiError(
            f"MDLSTM lengths must lie in [1, {width}] (the last axis), got "
            f"{int(lengths.min())}..{int(lengths.max())}"
        )
    cols = torch.arange(width, device=lengths.device)
    lens = lengths.to(cols.device).long().unsqueeze(1)
    return torch.where(cols < lens, lens - 1 - cols, cols)


class MDLSTM(nn.Module):
    """One MD-LSTM layer with all 2^d sweep directions (Eqs. 1-6), computed by wavefronts.

    Args:
        input_size: Input channels C.
        hidden_size: Cells H per direction.
        ndim: Spatial dimensions d (2 for images, 3 for volumes).
        combine: ``"concat"`` (output channels 2^d H, directions in `sweep_directions` order) or
            ``"sum"`` (output channels H).
        peepholes: Use the peephole weights of Eqs. 1, 2 and 5.

    Inputs: x of shape (N, C, H_in, W_in) for d = 2 or (N, C, D_in, H_in, W_in) for d = 3;
    optionally ``lengths`` (N,), each sample's extent along the last axis of a right-padded
    batch (see `forward`).

    Outputs: (N, 2^d hidden_size, *spatial) or (N, hidden_size, *spatial).

    Attributes:
        weight_ih: (2^d, C, (3 + d) H). weight_hh: (2^d, d H, (3 + d) H). bias: (2^d, (3 + d) H).
        peep_i, peep_f: (2^d, d, H); peep_o: (2^d, H) (only with ``peepholes=True``).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        *,
        ndim: int = 2,
        combine: Combine = "concat",
        peepholes: bool = True,
    ) -> None:
        super().__init__()
        _check_args(input_size, hidden_size, ndim, combine, "MDLSTM")
        self.input_size, self.hidden_size, self.ndim = input_size, hidden_size, ndim
        self.combine: Combine = combine
        self.directions = sweep_directions(ndim)
        D, d, H = len(self.directions), ndim, hidden_size
        G = (3 + d) * H
        self.weight_ih = nn.Parameter(torch.empty(D, input_size, G))
        self.weight_hh = nn.Parameter(torch.empty(D, d * H, G))
        self.bias = nn.Parameter(torch.empty(D, G))
        self.peep_i: nn.Parameter | None = None
        self.peep_f: nn.Parameter | None = None
        self.peep_o: nn.Parameter | None = None
        if peepholes:
            self.peep_i = nn.Parameter(torch.empty(D, d, H))
            self.peep_f = nn.Parameter(torch.empty(D, d, H))
            self.peep_o = nn.Parameter(torch.empty(D, H))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw every parameter uniformly from [-1/sqrt(H), 1/sqrt(H)]."""
        k = self.hidden_size**-0.5
        for p in self.parameters():
            nn.init.uniform_(p, -k, k)

    def _peepholes(self) -> tuple[Tensor, Tensor, Tensor] | None:
        if self.peep_i is None or self.peep_f is None or self.peep_o is None:
            return None
        return self.peep_i, self.peep_f, self.peep_o

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        """Run all sweeps over x and combine them.

        Args:
            x: (N, C, *spatial) input.
            lengths: None (every sample fills the grid), or (N,) integer extents along the last
                axis: sample n occupies ``x[n, ..., :lengths[n]]`` and the rest is padding. A
                sweep that runs backwards along that axis then starts at the sample's own last
                column (its reversal is taken within ``lengths[n]``, padding left in place), so
                no output inside a sample's extent depends on its padding, and a padded batch
                gives the outputs each sample gives alone. Outputs in the padding are undefined.

        Returns:
            (N, 2^d H, *spatial) for ``combine="concat"``, (N, H, *spatial) for ``"sum"``.

        Raises:
            RnnaiError: For an input of the wrong rank or channel count, or bad ``lengths``.
        """
        _check_input(x, self.ndim, self.input_size, "MDLSTM")
        last = self.ndim - 1  # the axis ``lengths`` measures, as an index into a direction
        index = None if lengths is None else _within_reversal(lengths, x.shape[0], x.shape[-1])

        def orient(t: Tensor, f: tuple[int, ...]) -> Tensor:
            """Flip t (N, ., *spatial) along the axes of f; the last within each sample's extent."""
            if index is not None and last in f:
                f = tuple(a for a in f if a != last)
                shape = (t.shape[0],) + (1,) * (t.dim() - 2) + (t.shape[-1],)
                t = t.gather(-1, index.view(shape).expand(t.shape))
            return t.flip([2 + a for a in f]) if f else t

        xs = torch.stack([orient(x, f) for f in self.directions])
        y = mdlstm_wavefront(xs, self.weight_ih, self.weight_hh, self.bias, self._peepholes())
        outs = [orient(y[j], f) for j, f in enumerate(self.directions)]
        if self.combine == "sum":
            return torch.stack(outs).sum(0)
        return torch.cat(outs, 1)

    def extra_repr(self) -> str:
        """Sizes and options, for ``print(module)``."""
        return (
            f"{self.input_size}, {self.hidden_size}, ndim={self.ndim}, combine={self.combine!r}, "
            f"peepholes={self.peep_i is not None}"
        )


class PyraMiDLSTM(nn.Module):
    """PyraMiD-LSTM: 2d convolutional LSTM sweeps (Eqs. 7-12), each plane one convolution.

    Args:
        input_size: Input channels C.
        hidden_size: Cells H per sweep (and per plane position).
        ndim: Spatial dimensions d (3: six sweeps, 2: four sweeps).
        kernel_size: Odd kernel size of the plane convolutions (input and recurrent), default 3.
        combine: ``"sum"`` (Eq. 12, output channels H) or ``"concat"`` (2d H, sweeps in the order
            axis 0 forward, axis 0 backward, axis 1 forward, ...).

    Inputs: x of shape (N, C, H_in, W_in) for d = 2 or (N, C, D_in, H_in, W_in) for d = 3.

    Outputs: (N, hidden_size, *spatial) or (N, 2d hidden_size, *spatial).

    Attributes:
        weight_x: (2d, 4H, C, k, ...) input kernels; weight_h: (2d, 4H, H, k, ...) recurrent
            kernels (d - 1 kernel dimensions), gates (i, f, g, o); bias: (2d, 4H).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        *,
        ndim: int = 3,
        kernel_size: int = 3,
        combine: Combine = "sum",
    ) -> None:
        super().__init__()
        _check_args(input_size, hidden_size, ndim, combine, "PyraMiDLSTM")
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise RnnaiError(f"kernel_size must be odd and positive, got {kernel_size}")
        self.input_size, self.hidden_size, self.ndim = input_size, hidden_size, ndim
        self.kernel_size = kernel_size
        self.combine: Combine = combine
        kernel = (kernel_size,) * (ndim - 1)
        sweeps, H = 2 * ndim, hidden_size
        self.weight_x = nn.Parameter(torch.empty(sweeps, 4 * H, input_size, *kernel))
        self.weight_h = nn.Parameter(torch.empty(sweeps, 4 * H, H, *kernel))
        self.bias = nn.Parameter(torch.empty(sweeps, 4 * H))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw every parameter uniformly from [-1/sqrt(H), 1/sqrt(H)]."""
        k = self.hidden_size**-0.5
        for p in self.parameters():
            nn.init.uniform_(p, -k, k)

    def _conv(self, x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        conv = F.conv1d if self.ndim == 2 else F.conv2d
        return conv(x, weight, bias, padding=self.kernel_size // 2, groups=2)

    def forward(self, x: Tensor) -> Tensor:
        """Run the 2d sweeps over x and combine them.

        Args:
            x: (N, C, *spatial) input.

        Returns:
            (N, H, *spatial) for ``combine="sum"``, (N, 2d H, *spatial) for ``"concat"``.

        Raises:
            RnnaiError: For an input of the wrong rank or channel count.
        """
        _check_input(x, self.ndim, self.input_size, "PyraMiDLSTM")
        N, C, H = x.shape[0], self.input_size, self.hidden_size
        outs: list[Tensor] = []
        for a in range(self.ndim):
            s = slice(2 * a, 2 * a + 2)  # the forward and the backward sweep along axis a
            x_a = x.movedim(2 + a, 0)  # (T, N, C, *plane)
            T, plane = x_a.shape[0], tuple(x_a.shape[3:])
            x_a = torch.cat([x_a, x_a.flip(0)], 2)  # (T, N, 2C, *plane): one group per sweep
            a_x = self._conv(  # x_t * W + b for all planes at once
                x_a.reshape(T * N, 2 * C, *plane),
                self.weight_x[s].reshape(8 * H, C, *self.weight_x.shape[3:]),
                self.bias[s].reshape(8 * H),
            ).view(T, N, 8 * H, *plane)
            U = self.weight_h[s].reshape(8 * H, H, *self.weight_h.shape[3:])
            h = c = x.new_zeros(N, 2 * H, *plane)
            hs = []
            for t, a_x_t in enumerate(a_x.unbind(0)):  # unbind: one backward for all planes
                pre = a_x_t + self._conv(h, U, None) if t else a_x_t
                pre = pre.view(N, 2, 4, H, *plane)  # (N, sweep, gate, H, *plane)
                i = torch.sigmoid(pre[:, :, 0])  # Eq. 7
                f = torch.sigmoid(pre[:, :, 1])  # Eq. 8
                g = torch.tanh(pre[:, :, 2])  # Eq. 9
                o = torch.sigmoid(pre[:, :, 3])  # Eq. 10
                c_t = f * c.view_as(f) + i * g  # Eq. 11
                h_t = o * torch.tanh(c_t)
                hs.append(h_t)
                h, c = h_t.reshape(N, 2 * H, *plane), c_t.reshape(N, 2 * H, *plane)
            h_all = torch.stack(hs)  # (T, N, 2, H, *plane)
            outs.append(h_all[:, :, 0].movedim(0, 2 + a))
            outs.append(h_all[:, :, 1].flip(0).movedim(0, 2 + a))
        if self.combine == "sum":
            return torch.stack(outs).sum(0)  # Eq. 12
        return torch.cat(outs, 1)

    def extra_repr(self) -> str:
        """Sizes and options, for ``print(module)``."""
        return (
            f"{self.input_size}, {self.hidden_size}, ndim={self.ndim}, "
            f"kernel_size={self.kernel_size}, combine={self.combine!r}"
        )


# ----------------------------------------------------------------------------- MD-LSTM + CTC
@dataclass(frozen=True, kw_only=True)
class MDCTCConfig:
    """The MD-LSTM hierarchy (defaults: the paper's sizes, our blocks for 32-pixel lines)."""

    input_block: tuple[int, int] = (4, 2)
    """(rows, columns) of the pixel blocks that form one input vector."""
    hidden: tuple[int, int, int] = (2, 10, 50)
    """MD-LSTM cells per direction of the three levels (the paper's IFN/ENIT net)."""
    subsample: tuple[int, int] = (6, 20)
    """Units of the two tanh subsampling layers (the paper's IFN/ENIT net)."""
    subsample_blocks: tuple[tuple[int, int], tuple[int, int]] = ((2, 2), (2, 1))
    """(rows, columns) of the blocks each subsampling layer reads."""

    def __post_init__(self) -> None:
        for name in ("input_block", "hidden", "subsample"):  # JSON gives lists
            object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(self, "subsample_blocks", tuple(tuple(b) for b in self.subsample_blocks))
        blocks = (self.input_block, *self.subsample_blocks)
        sizes = (*self.hidden, *self.subsample)
        if len(self.hidden) != 3 or len(self.subsample) != 2 or len(self.subsample_blocks) != 2:
            raise RnnaiError(
                "MDCTCConfig needs 3 hidden sizes, 2 subsample sizes and 2 subsample blocks; got "
                f"{self.hidden}, {self.subsample}, {self.subsample_blocks}"
            )
        if min(sizes) < 1 or any(len(b) != 2 or min(b) < 1 for b in blocks):
            raise RnnaiError(
                f"MDCTCConfig sizes and blocks must be >= 1; got sizes {sizes}, blocks {blocks}"
            )

    @property
    def stride(self) -> int:
        """Image columns per output frame."""
        return self.input_block[1] * self.subsample_blocks[0][1] * self.subsample_blocks[1][1]

    def rows(self, height: int) -> int:
        """Rows of the top level for images of ``height`` rows (which must divide evenly)."""
        ry = self.input_block[0] * self.subsample_blocks[0][0] * self.subsample_blocks[1][0]
        if height % ry:
            raise RnnaiError(
                f"image height {height} is not a multiple of the blocks' total height {ry}"
            )
        return height // ry

    @property
    def describe(self) -> str:
        """One line naming the architecture."""
        h, s, (b0, b1) = self.hidden, self.subsample, self.subsample_blocks
        return (
            f"blocks {self.input_block[0]}x{self.input_block[1]} -> MDLSTM {h[0]} -> tanh {s[0]} "
            f"({b0[0]}x{b0[1]}) -> MDLSTM {h[1]} -> tanh {s[1]} ({b1[0]}x{b1[1]}) -> MDLSTM "
            f"{h[2]} -> collapse (4 directions, cells per direction)"
        )


class MDLSTMCTCNet(nn.Module):
    """Graves & Schmidhuber's MD-LSTM hierarchy with the vertically collapsed CTC output layer.

    Args:
        height: Rows of the input images (the feature size F of the column sequences).
        n_classes: Output labels C including the blank (label 0).
        cfg: The architecture.
        generator: Draws the initial weights: uniform in [-1/sqrt(H), 1/sqrt(H)] for an MD-LSTM
            level of H cells, in [-1/sqrt(fan_in), 1/sqrt(fan_in)] for the subsampling and
            output layers (torch's default ranges).

    Inputs: ``x`` (N, L, F) padded batch of column sequences (column t of image i is x[i, t]),
    ``lengths`` (N,) true lengths (None: all L). Every MD-LSTM level is told each line's own
    extent (its length rounded up to the stride) and the columns past a line's length are read
    as zeros, so a line's outputs do not depend on the batch it is padded in, nor on the padding.

    Outputs: ``(log_probs, out_lengths)``: ln y^t_k as (N, L', C), L' = ceil(L / stride), and
    the (N,) output lengths ceil(lengths / stride).
    """

    def __init__(
        self, height: int, n_classes: int, cfg: MDCTCConfig, generator: torch.Generator
    ) -> None:
        super().__init__()
        if n_classes < 2:
            raise RnnaiError(
                f"MDLSTMCTCNet needs n_classes >= 2 (blank + a label), got {n_classes}"
            )
        cfg.rows(height)  # checks that the blocks tile the height
        self.cfg, self.height, self.n_classes = cfg, height, n_classes
        h, s, b = cfg.hidden, cfg.subsample, cfg.subsample_blocks
        self.level1 = MDLSTM(cfg.input_block[0] * cfg.input_block[1], h[0])
        self.sub1 = nn.Conv2d(4 * h[0], s[0], b[0], stride=b[0])
        self.level2 = MDLSTM(s[0], h[1])
        self.sub2 = nn.Conv2d(4 * h[1], s[1], b[1], stride=b[1])
        self.level3 = MDLSTM(s[1], h[2])
        self.head = nn.Conv2d(4 * h[2], n_classes, 1)
        with torch.no_grad():  # torch's default ranges, drawn from ``generator``
            for layer in (self.level1, self.sub1, self.level2, self.sub2, self.level3, self.head):
                if isinstance(layer, MDLSTM):
                    bound = layer.hidden_size**-0.5  # 1/sqrt(H), as MDLSTM.reset_parameters
                else:
                    bound = (layer.in_channels * math.prod(layer.kernel_size)) ** -0.5
                for p in layer.parameters():
                    p.copy_((torch.rand(p.shape, generator=generator) * 2 - 1) * bound)

    @property
    def n_params(self) -> int:
        """Number of trainable weights."""
        return sum(p.numel() for p in self.parameters())

    @property
    def stride(self) -> int:
        """Image columns per output frame (the config's ``stride``)."""
        return self.cfg.stride

    @property
    def describe(self) -> str:
        """The architecture in a line (the config's ``describe``)."""
        return self.cfg.describe

    def forward(
        self, x: torch.Tensor, lengths: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(N, L, F) -> ((N, L', C) log-probabilities, (N,) output lengths)."""
        if x.dim() != 3 or x.shape[2] != self.height:
            raise RnnaiError(
                f"MDLSTMCTCNet expected input (N, L, {self.height}), got {tuple(x.shape)}"
            )
        N, L, Fh = x.shape
        k = self.cfg.stride
        if lengths is None:
            lengths = torch.full((N,), L, dtype=torch.long)
        pad = (-L) % k
        x = x * (torch.arange(L, device=x.device) < lengths.unsqueeze(1)).unsqueeze(2).to(x.dtype)
        image = F.pad(x, (0, 0, 0, pad)).transpose(1, 2).unsqueeze(1)  # (N, 1, F, L + pad)
        by, bx = self.cfg.input_block
        blocks = F.unfold(image, (by, bx), stride=(by, bx))  # (N, by bx, F/by * (L+pad)/bx)
        h = blocks.view(N, by * bx, Fh // by, (L + pad) // bx)  # (N, by bx, rows, cols)
        # Each line's extent as if it were alone (its length rounded up to the stride), per level:
        # the backward sweeps start there, so no output of a line depends on the batch's padding.
        own = (lengths.to(torch.long) + k - 1) // k * k
        (_, sx1), (_, sx2) = self.cfg.subsample_blocks
        h = torch.tanh(self.sub1(self.level1(h, own // bx)))  # (N, s_1, rows', cols')
        h = torch.tanh(self.sub2(self.level2(h, own // (bx * sx1))))  # (N, s_2, rows'', cols'')
        a = self.head(self.level3(h, own // (bx * sx1 * sx2))).sum(2)  # collapse: (N, C, L')
        return F.log_softmax(a.transpose(1, 2), dim=-1), (lengths + k - 1) // k  # (N, L', C)
