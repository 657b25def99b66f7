"""Differentiable stacks: Joulin & Mikolov's stack RNN, Grefenstette et al.'s neural stack, NNPDA.

Papers (read this module beside them):

* A. Joulin & T. Mikolov, "Inferring algorithmic patterns with stack-augmented recurrent nets",
  NeurIPS 2015 (arXiv:1503.01007). A stack of p cells s_t[0..p-1] (cell 0 is the top); the
  controller emits action probabilities a_t = softmax(A h_t) over PUSH, POP, NO-OP and a value
  sigma(D h_t) to push; every cell is updated continuously::

      s_t[0] = a_t[PUSH] sigma(D h_t) + a_t[POP] s_{t-1}[1] + a_t[NO-OP] s_{t-1}[0]   (Eq. 1)
      s_t[i] = a_t[PUSH] s_{t-1}[i-1] + a_t[POP] s_{t-1}[i+1] + a_t[NO-OP] s_{t-1}[i] (Eq. 2)
      h_t    = sigma(U x_t + R h_{t-1} + P s_{t-1}^k)   s^k: the top k cells          (Eq. 3)

* E. Grefenstette, K. M. Hermann, M. Suleyman & P. Blunsom, "Learning to transduce with unbounded
  memory", NeurIPS 2015 (arXiv:1506.02516). The neural stack keeps every pushed value V_t[i] with
  a strength s_t[i]; the controller emits a push strength d_t, a pop strength u_t (both in
  (0, 1)) and a value v_t; for i = 1..t (1-based, i = t is the newest)::

      V_t[i] = V_{t-1}[i] if i < t;  V_t[t] = v_t                                       (Eq. 1)
      s_t[i] = max(0, s_{t-1}[i] - max(0, u_t - sum_{j=i+1}^{t-1} s_{t-1}[j])) if i < t;
      s_t[t] = d_t                                                                       (Eq. 2)
      r_t    = sum_{i=1}^{t} min(s_t[i], max(0, 1 - sum_{j=i+1}^{t} s_t[j])) V_t[i]      (Eq. 3)

  The controller (an RNN) reads [x_t, r_{t-1}] and emits o'_t, from which
  d_t = sigmoid(W_d o'_t + b_d), u_t = sigmoid(W_u o'_t + b_u), v_t = tanh(W_v o'_t + b_v) and
  the output o_t = tanh(W_o o'_t + b_o).

* The 1992-1993 neural network pushdown automaton (NNPDA): G. Z. Sun, C. L. Giles, H. H. Chen &
  Y. C. Lee, "The neural network pushdown automaton: model, stack and learning simulations",
  1993, and S. Das, C. L. Giles & G. Z. Sun, "Learning context-free grammars", 1992; M. C. Mozer &
  S. Das, "A connectionist symbol manipulator that discovers the structure of context-free
  languages", NIPS 1993. Their "continuous stack" holds symbols with real-valued lengths; one
  action a_t in [-1, 1] pushes the current symbol with length a_t (a_t > 0) or removes total
  length |a_t| from the top (a_t < 0), and the read is the length-weighted mixture of the
  symbols within depth 1 from the top. That is Grefenstette et al.'s stack with
  d_t = max(0, a_t) and u_t = max(0, -a_t) (Grefenstette et al. say their stack follows this
  line of work); `nnpda_strengths` maps an NNPDA action onto (u_t, d_t) and `neural_stack_step`
  does the rest, so no third update is implemented.

Deviations and choices: Joulin & Mikolov's cells hold vectors of size m here (their paper uses
m = 1 mostly); the value below the bottom cell (read by POP) is ``bottom`` (default 0; the paper's
value for the empty stack was not checked against its text); the controller is any of rnnai's
LSTM variants (`rnnai.nn.LSTMCell`) instead of their simple sigmoid RNN (Eq. 3 is realised by
feeding the top k cells as extra input); NO-OP can be switched off (``no_op=False``) as in the
paper's two-action variant. The neural stack keeps at most ``max_steps`` entries preallocated
(one per time step, so the full sequence length), which is Grefenstette et al.'s unbounded stack
for sequences of that length; strengths of the unused entries are 0 and contribute nothing.

Examples:
    >>> import torch
    >>> from rnnai.nn.stack import NeuralStackRNN, StackRNN, neural_stack_step
    >>> V, s = torch.zeros(1, 3, 1), torch.zeros(1, 3)
    >>> for t, (v, u, d) in enumerate([(1.0, 0.0, 1.0), (2.0, 0.0, 1.0), (0.0, 1.0, 0.0)]):
    ...     V, s, r = neural_stack_step(V, s, t, torch.tensor([[v]]), torch.tensor([u]),
    ...                                 torch.tensor([d]))
    ...     print(float(r))
    1.0
    2.0
    1.0
    >>> y, _ = StackRNN(3, 8, 2, stack_size=5)(torch.randn(4, 7, 3))   # (N, L, H_in)
    >>> tuple(y.shape)
    (4, 7, 2)
    >>> y, _ = NeuralStackRNN(3, 8, 2, value_size=4)(torch.randn(4, 7, 3))
    >>> tuple(y.shape)
    (4, 7, 2)
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rnnai.nn.lstm import LSTMCell, LSTMVariant
from rnnai.runtime.errors import RnnaiError

__all__ = [
    "NeuralStackRNN",
    "StackRNN",
    "jm_stack_step",
    "neural_stack_read",
    "neural_stack_step",
    "nnpda_strengths",
]

PUSH, POP, NO_OP = 0, 1, 2
"""Indices of the actions in Joulin & Mikolov's action probabilities a_t."""


def _check_positive(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise RnnaiError(f"{name} must be a positive int, got {value!r}")
    return value


# --------------------------------------------------------------------------------------------
# Joulin & Mikolov 2015
# --------------------------------------------------------------------------------------------


def jm_stack_step(s: Tensor, a: Tensor, v: Tensor, bottom: float = 0.0) -> Tensor:
    """One continuous update of Joulin & Mikolov's stack (Eqs. 1-2).

    Args:
        s: s_{t-1}, (N, p, m): p cells of size m, cell 0 is the top.
        a: a_t, (N, 2) or (N, 3): probabilities of PUSH, POP (and NO-OP), rows summing to 1.
        v: the pushed value sigma(D h_t), (N, m).
        bottom: the value read from below the last cell when popping.

    Returns:
        s_t, (N, p, m).
    """
    if s.ndim != 3 or v.shape != (s.shape[0], s.shape[2]) or a.shape[0] != s.shape[0]:
        raise RnnaiError(
            f"jm_stack_step expected s (N, p, m), a (N, 2|3), v (N, m), got {tuple(s.shape)}, "
            f"{tuple(a.shape)}, {tuple(v.shape)}"
        )
    below = torch.full_like(s[:, :1], bottom)  # (N, 1, m)
    pushed = torch.cat([v[:, None], s[:, :-1]], dim=1)  # (N, p, m): s_{t-1}[i-1], v at the top
    popped = torch.cat([s[:, 1:], below], dim=1)  # (N, p, m): s_{t-1}[i+1]
    s_t = a[:, PUSH, None, None] * pushed + a[:, POP, None, None] * popped  # Eqs. 1-2
    if a.shape[1] == 3:
        s_t = s_t + a[:, NO_OP, None, None] * s
    return s_t


class StackRNN(nn.Module):
    """Joulin & Mikolov's stack-augmented RNN with an LSTM controller.

    At each step the controller reads [x_t, the top k cells of s_{t-1}] (Eq. 3), emits the action
    probabilities a_t = softmax(A h_t), the value sigma(D h_t), and the output y_t = W_y h_t; then
    the stack is updated by `jm_stack_step`.

    Args:
        input_size: H_in.
        hidden_size: H, the controller's cells.
        output_size: H_out.
        stack_size: p, the number of stack cells.
        cell_size: m, the size of one cell.
        read_depth: k, the top cells the controller reads.
        no_op: whether NO-OP is an action (three actions) or not (two).
        bottom: the value below the bottom cell.
        variant: the controller's LSTM variant (`rnnai.nn.lstm.VARIANTS`).

    Inputs: ``x, state``
        * x: (N, L, H_in) if ``batch_first`` else (L, N, H_in).
        * state: ``(h, c, s)`` from a previous call, or None (zeros; the stack holds ``bottom``).

    Outputs: ``y, state``
        * y: (N, L, H_out) (or (L, N, H_out)), linear outputs.
        * state: ``(h, c, s)`` with s (N, p, m).

    Attributes:
        last_actions: a_t of the last call, (N, L, 2|3) (detached), for analyses.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        output_size: int,
        *,
        stack_size: int = 32,
        cell_size: int = 1,
        read_depth: int = 2,
        no_op: bool = True,
        bottom: float = 0.0,
        batch_first: bool = True,
        variant: str | LSTMVariant = "vanilla",
    ) -> None:
        super().__init__()
        for name, value in (
            ("input_size", input_size),
            ("hidden_size", hidden_size),
            ("output_size", output_size),
            ("stack_size", stack_size),
            ("cell_size", cell_size),
            ("read_depth", read_depth),
        ):
            _check_positive(name, value)
        if read_depth > stack_size:
            raise RnnaiError(f"read_depth must be <= stack_size={stack_size}, got {read_depth}")
        self.stack_size, self.cell_size, self.read_depth = stack_size, cell_size, read_depth
        self.bottom, self.batch_first = float(bottom), batch_first
        self.controller = LSTMCell(
            input_size + read_depth * cell_size, hidden_size, variant=variant
        )
        self.action = nn.Linear(hidden_size, 3 if no_op else 2)  # A
        self.push_value = nn.Linear(hidden_size, cell_size)  # D
        self.readout = nn.Linear(hidden_size, output_size)
        self.last_actions: Tensor | None = None

    def forward(
        self, x: Tensor, state: tuple[Tensor, Tensor, Tensor] | None = None
    ) -> tuple[Tensor, tuple[Tensor, Tensor, Tensor]]:
        in_size = self.controller.input_size - self.read_depth * self.cell_size
        if x.ndim != 3 or x.shape[-1] != in_size:
            raise RnnaiError(
                f"StackRNN expected x of shape (N, L, {in_size}), got {tuple(x.shape)}"
            )
        if not self.batch_first:
            x = x.transpose(0, 1)  # (N, L, H_in)
        n = x.shape[0]
        if state is None:
            h = x.new_zeros(n, self.controller.hidden_size)
            c = x.new_zeros(n, self.controller.hidden_size)
            s = x.new_full((n, self.stack_size, self.cell_size), self.bottom)
        else:
            h, c, s = state
        ys, actions = [], []
        for t in range(x.shape[1]):
            top = s[:, : self.read_depth].reshape(n, -1)  # (N, k m): s_{t-1}^k
            h, c = self.controller(torch.cat([x[:, t], top], dim=1), (h, c))[:2]  # Eq. 3
            a = torch.softmax(self.action(h), dim=-1)  # a_t
            s = jm_stack_step(s, a, torch.sigmoid(self.push_value(h)), self.bottom)
            ys.append(self.readout(h))
            actions.append(a.detach())
        y = torch.stack(ys, dim=1)  # (N, L, H_out)
        self.last_actions = torch.stack(actions, dim=1)
        return (y if self.batch_first else y.transpose(0, 1)), (h, c, s)


# --------------------------------------------------------------------------------------------
# Grefenstette et al. 2015
# --------------------------------------------------------------------------------------------


def _strictly_above(s: Tensor) -> Tensor:
    """sum_{j > i} s[j] along the last dimension, (N, T) -> (N, T)."""
    return s.flip(-1).cumsum(-1).flip(-1) - s


def neural_stack_read(V: Tensor, s: Tensor) -> Tensor:
    """r_t = sum_i min(s_t[i], max(0, 1 - sum_{j>i} s_t[j])) V_t[i] (Eq. 3).

    Args:
        V: (N, T, m) values, index T-1 the newest slot.
        s: (N, T) strengths (0 in unused slots).

    Returns:
        r_t, (N, m).
    """
    weight = torch.minimum(s, torch.relu(1.0 - _strictly_above(s)))  # (N, T)
    return torch.einsum("nt,ntm->nm", weight, V)


def neural_stack_step(
    V: Tensor, s: Tensor, t: int, v: Tensor, u: Tensor, d: Tensor
) -> tuple[Tensor, Tensor, Tensor]:
    """One step of Grefenstette et al.'s neural stack (Eqs. 1-3) on preallocated storage.

    Args:
        V: V_{t-1}, (N, T_max, m); slots >= t are unused.
        s: s_{t-1}, (N, T_max); zero in slots >= t.
        t: the 0-based step; the new value goes to slot t (the paper's index t + 1).
        v: v_t, (N, m).
        u: u_t, the pop strength, (N,).
        d: d_t, the push strength, (N,).

    Returns:
        (V_t, s_t, r_t) with r_t (N, m).
    """
    if V.ndim != 3 or s.shape != V.shape[:2] or not 0 <= t < V.shape[1]:
        raise RnnaiError(
            f"neural_stack_step expected V (N, T_max, m), s (N, T_max) and 0 <= t < T_max, got "
            f"{tuple(V.shape)}, {tuple(s.shape)}, t={t}"
        )
    slot = torch.zeros(V.shape[1], dtype=torch.bool, device=V.device)
    slot[t] = True
    V_t = torch.where(slot[None, :, None], v[:, None, :], V)  # Eq. 1
    # Eq. 2: the slots above i, among the old ones (slots >= t hold zero strength)
    popped = torch.relu(s - torch.relu(u[:, None] - _strictly_above(s)))  # (N, T_max)
    s_t = torch.where(slot[None, :], d[:, None], popped)  # Eq. 2, s_t[t] = d_t
    return V_t, s_t, neural_stack_read(V_t, s_t)  # Eq. 3


def nnpda_strengths(a: Tensor) -> tuple[Tensor, Tensor]:
    """Map an NNPDA continuous-stack action a_t in [-1, 1] onto (u_t, d_t).

    a_t > 0 pushes with length a_t, a_t < 0 pops length |a_t|: u_t = max(0, -a_t),
    d_t = max(0, a_t); `neural_stack_step` then performs the NNPDA's continuous stack update.
    """
    return torch.relu(-a), torch.relu(a)


class NeuralStackRNN(nn.Module):
    """Grefenstette et al.'s neural stack with an LSTM controller.

    The controller reads [x_t, r_{t-1}] and emits o'_t = h_t; then
    d_t = sigmoid(W_d o'_t + b_d), u_t = sigmoid(W_u o'_t + b_u), v_t = tanh(W_v o'_t + b_v),
    the stack steps (`neural_stack_step`) and o_t = W_o [o'_t, r_t] + b_o (linear; the paper
    applies tanh to W_o o'_t + b_o and reads r_t at the next step).

    Args:
        input_size: H_in.
        hidden_size: H.
        output_size: H_out.
        value_size: m, the size of a stack value.
        variant: the controller's LSTM variant.
        nnpda: if true, one action a_t = tanh(W_a o'_t) replaces (u_t, d_t) via
            `nnpda_strengths` (the 1992-1993 continuous stack).

    Inputs: ``x`` (N, L, H_in) (or (L, N, H_in) without ``batch_first``).

    Outputs: ``y, (V, s)``: y (N, L, H_out); the final stack, V (N, L, m) and s (N, L).

    Attributes:
        last_strengths: (N, L, 2) detached (u_t, d_t) of the last call, for analyses.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        output_size: int,
        *,
        value_size: int = 8,
        batch_first: bool = True,
        variant: str | LSTMVariant = "vanilla",
        nnpda: bool = False,
    ) -> None:
        super().__init__()
        for name, value in (
            ("input_size", input_size),
            ("hidden_size", hidden_size),
            ("output_size", output_size),
            ("value_size", value_size),
        ):
            _check_positive(name, value)
        self.input_size, self.value_size = input_size, value_size
        self.batch_first, self.nnpda = batch_first, nnpda
        self.controller = LSTMCell(input_size + value_size, hidden_size, variant=variant)
        self.strengths = nn.Linear(hidden_size, 1 if nnpda else 2)  # W_u, W_d (or W_a)
        self.value = nn.Linear(hidden_size, value_size)  # W_v
        self.readout = nn.Linear(hidden_size + value_size, output_size)  # W_o
        self.last_strengths: Tensor | None = None

    def forward(self, x: Tensor) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        if x.ndim != 3 or x.shape[-1] != self.input_size:
            raise RnnaiError(
                f"NeuralStackRNN expected x of shape (N, L, {self.input_size}), got "
                f"{tuple(x.shape)}"
            )
        if not self.batch_first:
            x = x.transpose(0, 1)  # (N, L, H_in)
        n, steps = x.shape[:2]
        h = x.new_zeros(n, self.controller.hidden_size)
        c = x.new_zeros(n, self.controller.hidden_size)
        V = x.new_zeros(n, steps, self.value_size)
        s = x.new_zeros(n, steps)
        r = x.new_zeros(n, self.value_size)
        ys, strengths = [], []
        for t in range(steps):
            h, c = self.controller(torch.cat([x[:, t], r], dim=1), (h, c))[:2]
            if self.nnpda:
                u, d = nnpda_strengths(torch.tanh(self.strengths(h))[:, 0])
            else:
                u, d = torch.sigmoid(self.strengths(h)).unbind(-1)
            V, s, r = neural_stack_step(V, s, t, torch.tanh(self.value(h)), u, d)
            ys.append(self.readout(torch.cat([h, r], dim=1)))
            strengths.append(torch.stack([u, d], -1).detach())
        y = torch.stack(ys, dim=1)  # (N, L, H_out)
        self.last_strengths = torch.stack(strengths, dim=1)
        return (y if self.batch_first else y.transpose(0, 1)), (V, s)
