"""The Neural Turing Machine: content and location addressing, erase/add writes, LSTM controller.

Paper: A. Graves, G. Wayne & I. Danihelka, "Neural Turing Machines", arXiv:1410.5401, 2014
(Section 3). Stabilizers from M. Collier & J. Beel, "Implementing Neural Turing Machines",
ICANN 2018 (arXiv:1807.08518): a small constant memory initialisation and learned initial read
vectors and weightings.

The memory M_t is N x M. Each head emits a key k_t (M), a key strength beta_t > 0, an interpolation
gate g_t in (0, 1), a shift weighting s_t (a distribution over the allowed integer shifts) and a
sharpening gamma_t >= 1; a write head also emits an erase vector e_t in (0, 1)^M and an add
vector a_t::

    K[u, v]    = u . v / (|u| |v|)                                   cosine similarity  (Eq. 6)
    w^c_t(i)   = exp(beta_t K[k_t, M_t(i)]) / sum_j exp(beta_t K[k_t, M_t(j)])          (Eq. 5)
    w^g_t      = g_t w^c_t + (1 - g_t) w_{t-1}                                          (Eq. 7)
    w~_t(i)    = sum_{j=0}^{N-1} w^g_t(j) s_t(i - j)     indices modulo N               (Eq. 8)
    w_t(i)     = w~_t(i)^gamma_t / sum_j w~_t(j)^gamma_t                                (Eq. 9)
    r_t        = sum_i w_t(i) M_t(i)                                     read           (Eq. 2)
    M~_t(i)    = M_{t-1}(i) [1 - w_t(i) e_t]                             erase          (Eq. 3)
    M_t(i)     = M~_t(i) + w_t(i) a_t                                    add            (Eq. 4)

Activations of the head parameters (the paper does not fix them; these are Collier & Beel's):
k_t = tanh, beta_t = softplus, g_t = sigmoid, s_t = softmax, gamma_t = 1 + softplus,
e_t = sigmoid, a_t = tanh.

Choices and deviations: the cosine similarity has eps = 1e-8 added to the norm product (an all-zero
memory row would give 0/0); the initial memory is the constant ``memory_init`` (default 1e-6,
Collier & Beel's constant initialisation, instead of a learned or random one); the initial read
vectors are learned, the initial weightings are softmax(learned logits) per head; within a step
all write heads write (in order) before the read heads read, so the reads see this step's writes;
the controller (an `rnnai.nn.LSTMCell`) reads [x_t, r_{t-1}] and the output is a linear map of
[h_t, r_t].

Examples:
    >>> import torch
    >>> from rnnai.nn.ntm import NTM, content_addressing, shift_weighting
    >>> M = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]])
    >>> content_addressing(M, torch.tensor([[1.0, 0.0]]), torch.tensor([50.0])).argmax().item()
    0
    >>> shift_weighting(torch.tensor([[1.0, 0.0, 0.0]]), torch.tensor([[0.0, 0.0, 1.0]]),
    ...                 (-1, 0, 1)).tolist()
    [[0.0, 1.0, 0.0]]
    >>> ntm = NTM(9, 8, hidden_size=32, memory_size=16, memory_width=8)
    >>> y, state = ntm(torch.randn(2, 5, 9))                          # (N, L, H_in)
    >>> tuple(y.shape), tuple(state.memory.shape)
    ((2, 5, 8), (2, 16, 8))
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnai.nn.lstm import LSTMCell, LSTMVariant
from rnnai.runtime.errors import RnnaiError

__all__ = [
    "NTM",
    "NTMState",
    "address",
    "content_addressing",
    "cosine_similarity",
    "erase_add_write",
    "interpolate",
    "read_memory",
    "sharpen",
    "shift_weighting",
]

EPS = 1e-8
"""Added to the norm product of the cosine similarity."""


def cosine_similarity(k: Tensor, M: Tensor) -> Tensor:
    """K[k, M(i)] for every row i (Eq. 6): k (B, M), M (B, N, M) -> (B, N)."""
    dot = torch.einsum("bm,bnm->bn", k, M)
    return dot / (k.norm(dim=-1, keepdim=True) * M.norm(dim=-1) + EPS)


def content_addressing(M: Tensor, k: Tensor, beta: Tensor) -> Tensor:
    """w^c_t = softmax_i(beta_t K[k_t, M_t(i)]) (Eq. 5): M (B, N, M), k (B, M), beta (B,)."""
    return torch.softmax(beta[:, None] * cosine_similarity(k, M), dim=-1)


def interpolate(w_c: Tensor, w_prev: Tensor, g: Tensor) -> Tensor:
    """w^g_t = g_t w^c_t + (1 - g_t) w_{t-1} (Eq. 7): weightings (B, N), g (B,)."""
    return g[:, None] * w_c + (1.0 - g[:, None]) * w_prev


def shift_weighting(w_g: Tensor, s: Tensor, shifts: tuple[int, ...]) -> Tensor:
    """w~_t(i) = sum_j w^g_t(j) s_t(i - j) mod N (Eq. 8).

    Args:
        w_g: (B, N).
        s: (B, S), the weight of each allowed shift.
        shifts: the S integer shifts, e.g. (-1, 0, 1); shift +1 moves the focus to the next row.
    """
    if s.shape[-1] != len(shifts):
        raise RnnaiError(f"s must have {len(shifts)} entries (one per shift), got {s.shape[-1]}")
    # w.roll(k)[i] = w[i - k]: the term j = i - k of Eq. 8 with s_t(k)
    rolled = torch.stack([w_g.roll(k, dims=-1) for k in shifts], dim=-1)  # (B, N, S)
    return torch.einsum("bns,bs->bn", rolled, s)


def sharpen(w: Tensor, gamma: Tensor) -> Tensor:
    """w_t(i) = w~_t(i)^gamma_t / sum_j w~_t(j)^gamma_t (Eq. 9): w (B, N), gamma (B,) >= 1."""
    powered = w.clamp_min(0.0) ** gamma[:, None]
    return powered / powered.sum(dim=-1, keepdim=True).clamp_min(1e-30)


def address(
    M: Tensor,
    w_prev: Tensor,
    k: Tensor,
    beta: Tensor,
    g: Tensor,
    s: Tensor,
    gamma: Tensor,
    shifts: tuple[int, ...],
) -> Tensor:
    """The full addressing of one head (Eqs. 5-9): returns w_t, (B, N)."""
    w_c = content_addressing(M, k, beta)  # Eq. 5
    w_g = interpolate(w_c, w_prev, g)  # Eq. 7
    return sharpen(shift_weighting(w_g, s, shifts), gamma)  # Eqs. 8-9


def read_memory(M: Tensor, w: Tensor) -> Tensor:
    """r_t = sum_i w_t(i) M_t(i) (Eq. 2): M (B, N, M), w (B, N) -> (B, M)."""
    return torch.einsum("bn,bnm->bm", w, M)


def erase_add_write(M: Tensor, w: Tensor, e: Tensor, a: Tensor) -> Tensor:
    """M_t(i) = M_{t-1}(i) [1 - w_t(i) e_t] + w_t(i) a_t (Eqs. 3-4): e, a (B, M)."""
    M_tilde = M * (1.0 - w[:, :, None] * e[:, None, :])  # Eq. 3
    return M_tilde + w[:, :, None] * a[:, None, :]  # Eq. 4


class NTMState(NamedTuple):
    """The recurrent state of an `NTM`."""

    h: Tensor
    """Controller output, (B, H)."""
    c: Tensor
    """Controller cell state, (B, H)."""
    memory: Tensor
    """M_t, (B, N, M)."""
    read_vectors: Tensor
    """r_t of every read head, (B, R, M)."""
    weights: Tensor
    """w_t of every head (read heads first, then write heads), (B, R + W, N)."""


class NTM(nn.Module):
    """A Neural Turing Machine with an LSTM controller, R read heads and W write heads.

    Args:
        input_size: H_in.
        output_size: H_out (linear outputs).
        hidden_size: the controller's LSTM cells.
        memory_size: N, the memory rows.
        memory_width: M, the row size.
        num_read_heads: R.
        num_write_heads: W.
        shifts: the allowed integer shifts of Eq. 8.
        memory_init: the constant initial memory (the stabilizer; 1e-6).
        batch_first: inputs and outputs (N, L, .) if true, else (L, N, .).
        variant: the controller's LSTM variant (`rnnai.nn.lstm.VARIANTS`).

    Inputs: ``x, state``: x (N, L, H_in); state an `NTMState` or None (the learned initial one).

    Outputs: ``y, state``: y (N, L, H_out); the final `NTMState`.

    Attributes:
        last_weights: the heads' weightings of the last call, (N, L, R + W, memory_size),
            detached, for analyses.
    """

    def __init__(
        self,
        input_size: int,
        output_size: int,
        *,
        hidden_size: int = 100,
        memory_size: int = 128,
        memory_width: int = 20,
        num_read_heads: int = 1,
        num_write_heads: int = 1,
        shifts: tuple[int, ...] = (-1, 0, 1),
        memory_init: float = 1e-6,
        batch_first: bool = True,
        variant: str | LSTMVariant = "vanilla",
    ) -> None:
        super().__init__()
        for name, value in (
            ("input_size", input_size),
            ("output_size", output_size),
            ("hidden_size", hidden_size),
            ("memory_size", memory_size),
            ("memory_width", memory_width),
            ("num_read_heads", num_read_heads),
            ("num_write_heads", num_write_heads),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise RnnaiError(f"{name} must be a positive int, got {value!r}")
        if not shifts or len(set(shifts)) != len(shifts):
            raise RnnaiError(f"shifts must be distinct integers, got {shifts!r}")
        self.input_size, self.memory_size, self.memory_width = input_size, memory_size, memory_width
        self.num_read_heads, self.num_write_heads = num_read_heads, num_write_heads
        self.shifts, self.memory_init = tuple(shifts), float(memory_init)
        self.batch_first = batch_first
        R, W, Mw, S = num_read_heads, num_write_heads, memory_width, len(shifts)
        self.controller = LSTMCell(input_size + R * Mw, hidden_size, variant=variant)
        self.address_size = Mw + 3 + S  # k, beta, g, gamma, s
        self.heads = nn.Linear(hidden_size, (R + W) * self.address_size + W * 2 * Mw)
        self.readout = nn.Linear(hidden_size + R * Mw, output_size)
        self.initial_reads = nn.Parameter(torch.randn(R, Mw) * 0.01)
        self.initial_weight_logits = nn.Parameter(torch.zeros(R + W, memory_size))
        self.last_weights: Tensor | None = None

    def initial_state(self, batch: int, like: Tensor) -> NTMState:
        """The learned initial state for ``batch`` sequences, with ``like``'s dtype and device."""
        H = self.controller.hidden_size
        zeros = like.new_zeros(batch, H)
        M0 = like.new_full((batch, self.memory_size, self.memory_width), self.memory_init)
        r0 = self.initial_reads.to(like)[None].expand(batch, -1, -1)
        w0 = torch.softmax(self.initial_weight_logits.to(like), dim=-1)[None].expand(batch, -1, -1)
        return NTMState(zeros, zeros, M0, r0, w0)

    def _head_params(self, p: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
        """k, beta, g, s, gamma from one head's raw outputs (B, M + 3 + S)."""
        Mw = self.memory_width
        k = torch.tanh(p[:, :Mw])
        beta = F.softplus(p[:, Mw])
        g = torch.sigmoid(p[:, Mw + 1])
        gamma = 1.0 + F.softplus(p[:, Mw + 2])
        s = torch.softmax(p[:, Mw + 3 :], dim=-1)
        return k, beta, g, s, gamma

    def step(self, x: Tensor, state: NTMState) -> tuple[Tensor, NTMState]:
        """One time step: x (B, H_in) -> (y (B, H_out), the new state)."""
        B = x.shape[0]
        R, W, Mw, A = (
            self.num_read_heads,
            self.num_write_heads,
            self.memory_width,
            self.address_size,
        )
        h, c = self.controller(
            torch.cat([x, state.read_vectors.reshape(B, R * Mw)], dim=1), (state.h, state.c)
        )[:2]
        out = self.heads(h)
        addr = out[:, : (R + W) * A].reshape(B, R + W, A)  # (B, heads, A)
        erase_add = out[:, (R + W) * A :].reshape(B, W, 2, Mw)  # (B, W, 2, M)
        M = state.memory
        weights = [torch.empty(0)] * (R + W)
        for j in range(W):
            i = R + j
            w = address(M, state.weights[:, i], *self._head_params(addr[:, i]), self.shifts)
            e = torch.sigmoid(erase_add[:, j, 0])
            a = torch.tanh(erase_add[:, j, 1])
            M = erase_add_write(M, w, e, a)  # Eqs. 3-4
            weights[i] = w
        reads = []
        for i in range(R):
            w = address(M, state.weights[:, i], *self._head_params(addr[:, i]), self.shifts)
            reads.append(read_memory(M, w))  # Eq. 2
            weights[i] = w
        r = torch.stack(reads, dim=1)  # (B, R, M)
        y = self.readout(torch.cat([h, r.reshape(B, R * Mw)], dim=1))
        return y, NTMState(h, c, M, r, torch.stack(weights, dim=1))

    def forward(self, x: Tensor, state: NTMState | None = None) -> tuple[Tensor, NTMState]:
        if x.ndim != 3 or x.shape[-1] != self.input_size:
            raise RnnaiError(
                f"NTM expected x of shape (N, L, {self.input_size}), got {tuple(x.shape)}"
            )
        if not self.batch_first:
            x = x.transpose(0, 1)  # (N, L, H_in)
        if state is None:
            state = self.initial_state(x.shape[0], x)
        ys, ws = [], []
        for t in range(x.shape[1]):
            y, state = self.step(x[:, t], state)
            ys.append(y)
            ws.append(state.weights.detach())
        self.last_weights = torch.stack(ws, dim=1)
        y_all = torch.stack(ys, dim=1)  # (N, L, H_out)
        return (y_all if self.batch_first else y_all.transpose(0, 1)), state
