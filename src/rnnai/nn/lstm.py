"""The LSTM family as PyTorch modules: 1997 LSTM, forget gates, peepholes, Greff's variants.

Papers (read this module beside them):

* S. Hochreiter & J. Schmidhuber, "Long Short-Term Memory", Neural Computation 9(8):1735-1780,
  1997. Input and output gates, a constant error carousel (CEC), no forget gate; squashing
  functions g(x) = 4 sigma(x) - 2 on the cell input and h(x) = 2 sigma(x) - 1 on the cell output;
  the gradient is truncated so that errors arriving at the net inputs of cells and gates are not
  propagated back in time through the recurrent connections (only the CEC carries error back).
* F. Gers, J. Schmidhuber & F. Cummins, "Learning to Forget: Continual Prediction with LSTM",
  Neural Computation 12(10):2451-2471, 2000. The forget gate f scales the CEC's self-connection.
* F. Gers, N. Schraudolph & J. Schmidhuber, "Learning Precise Timing with LSTM Recurrent
  Networks", JMLR 3:115-143, 2002. Peephole connections from the cell state to the gates.
* K. Greff, R. K. Srivastava, J. Koutnik, B. R. Steunebrink & J. Schmidhuber, "LSTM: A Search
  Space Odyssey", IEEE TNNLS 28(10):2222-2232, 2017 (arXiv:1503.04069, 2015). The "vanilla" LSTM
  (forget gate and peepholes) and eight variants: NIG, NFG, NOG, NIAF, NOAF, NP, CIFG, FGR.

One time step of the general cell (Greff's notation; x^t input, y^{t-1} previous output, c cell
state, p peephole weight vectors, W input weights, R recurrent weights, b biases)::

    z-bar = W_z x + R_z y^{t-1} + b_z              z = g(z-bar)         block input    (Eq. 1)
    i-bar = W_i x + R_i y^{t-1} + p_i . c^{t-1} + b_i    i = sigma(i-bar)  input gate     (Eq. 2)
    f-bar = W_f x + R_f y^{t-1} + p_f . c^{t-1} + b_f    f = sigma(f-bar)  forget gate    (Eq. 3)
    c^t   = z . i + c^{t-1} . f                                             cell           (Eq. 4)
    o-bar = W_o x + R_o y^{t-1} + p_o . c^t + b_o        o = sigma(o-bar)  output gate    (Eq. 5)
    y^t   = h(c^t) . o                                                      block output   (Eq. 6)

The variants change one piece each: NIG i = 1, NFG f = 1, NOG o = 1, NIAF g = identity,
NOAF h = identity, NP no peepholes, CIFG f = 1 - i, FGR adds R_gg . [i, f, o]^{t-1} to the gate
pre-activations (full gate recurrence). The 1997 LSTM is NFG + NP with the 1997 squashing
functions; torch.nn.LSTM is NP (Gers 2000 without peepholes).

Recurrent state. `LSTM` and `LSTMCell` carry ``(h, c)`` from call to call, exactly as
torch.nn.LSTM and torch.nn.LSTMCell, for every variant but FGR. FGR's gates read the previous
step's gate activations, so these are part of its state: FGR's state is ``(h, c, g)``, where g
holds the activated gates of the last step that have weights, concatenated in the order i, f, o
(S * H features, S the number of such gates; CIFG's f = 1 - i is not among them). A call with no
state, or with ``(h, c)`` only, starts from g = 0: the first step has no gate recurrence, as at the
start of a whole sequence. Handing the returned state to the next call continues the sequence
exactly, for every variant: a sequence split over several calls gives the outputs of one call.

Speed. Where the configuration is exactly torch.nn.LSTM's math (`variant="torch"`), the module runs
on torch's fused kernel (`torch._VF.lstm`, what `nn.LSTM` itself calls; `LSTMCell` uses
`torch._VF.lstm_cell`). Every other variant runs on `_Recurrence`, a custom autograd function: the
input projections of all time steps are one matrix product, the per-step loop does only the
recurrent product and a handful of in-place element-wise ops into preallocated buffers, and the
backward pass is written by hand (BPTT) with the weight gradients computed after the loop as
single large matrix products (as cuDNN does). This keeps every variant within a small factor of
the fused kernel; `rnnai bench lstm` measures it. `LSTMCell` computes one step with plain autograd
(`_cell_step`, the equations as written).

Deviations: none in the math. Two biases per gate (`bias_ih`, `bias_hh`) are kept for every variant
so that `nn.LSTM` state dicts load directly; their sum is the paper's single bias.

Examples:
    >>> import torch
    >>> from rnnai.nn import LSTM, LSTMCell
    >>> _ = torch.manual_seed(0)
    >>> lstm = LSTM(3, 8, variant="vanilla")  # Greff's vanilla: forget gate and peepholes
    >>> x = torch.randn(10, 2, 3)  # (L, N, H_in)
    >>> y, (h, c) = lstm(x)
    >>> tuple(y.shape), tuple(h.shape)
    ((10, 2, 8), (1, 2, 8))

    A sequence split over two calls, the state handed on (FGR's state has three parts):

    >>> fgr = LSTM(3, 8, variant="fgr")
    >>> y_all, state = fgr(x)
    >>> len(state)
    3
    >>> y1, state = fgr(x[:5])
    >>> y2, _ = fgr(x[5:], state)
    >>> torch.allclose(torch.cat([y1, y2]), y_all, atol=1e-6)
    True

    One step at a time with the same weights (reinforcement learning, free-running generation):

    >>> cell = LSTMCell.from_lstm(lstm)
    >>> state = None
    >>> for x_t in x:
    ...     state = cell(x_t, state)
    >>> torch.allclose(state[0], h[0], atol=1e-6)
    True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, cast

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from rnnai.runtime.errors import RnnaiError

__all__ = [
    "ACTIVATIONS",
    "LSTM",
    "LSTMCell",
    "LSTMVariant",
    "VARIANTS",
    "get_variant",
]

# --------------------------------------------------------------------------------------------
# Squashing functions. Each is alpha * tanh(beta * x); the derivative is written from the output
# y so that the backward pass needs only what the forward pass stored:
#   d/dx alpha tanh(beta x) = alpha beta (1 - (y / alpha)^2).
# The 1997 paper's g(x) = 4 sigma(x) - 2 = 2 tanh(x / 2) and h(x) = 2 sigma(x) - 1 = tanh(x / 2).
# --------------------------------------------------------------------------------------------

ACTIVATIONS: dict[str, tuple[float, float] | None] = {
    "tanh": (1.0, 1.0),
    "identity": None,
    "g1997": (2.0, 0.5),  # 4 sigma(x) - 2, range [-2, 2] (1997 cell input squashing g)
    "h1997": (1.0, 0.5),  # 2 sigma(x) - 1, range [-1, 1] (1997 cell output squashing h)
}
"""Squashing functions by name: (alpha, beta) of alpha * tanh(beta * x), None for the identity."""


def _act(x: Tensor, name: str, out: Tensor | None = None) -> Tensor:
    """Apply squashing function `name` (see ACTIVATIONS), optionally into `out`."""
    ab = ACTIVATIONS[name]
    if ab is None:
        if out is None:
            return x
        return out.copy_(x)
    alpha, beta = ab
    if alpha == 1.0 and beta == 1.0:
        return torch.tanh(x, out=out) if out is not None else torch.tanh(x)
    if out is None:  # out of place, so that autograd can differentiate it (LSTMCell)
        return torch.tanh(x * beta) * alpha
    return torch.tanh(x * beta, out=out).mul_(alpha)


def _act_fn(name: str) -> Callable[[Tensor, Tensor], Tensor]:
    """Squashing function `name` as a callable (x, out) -> out, resolved once per loop."""
    ab = ACTIVATIONS[name]
    if ab is None:
        return lambda x, out: out.copy_(x)
    if ab == (1.0, 1.0):
        return lambda x, out: torch.tanh(x, out=out)
    return lambda x, out: _act(x, name, out=out)


def _act_grad(y: Tensor, name: str) -> Tensor | None:
    """Derivative of squashing function `name` at the point whose output is `y` (None: 1)."""
    ab = ACTIVATIONS[name]
    if ab is None:
        return None
    alpha, beta = ab
    if alpha == 1.0:
        d = 1.0 - y * y
    else:
        d = 1.0 - (y / alpha) ** 2
    return d.mul_(alpha * beta) if alpha * beta != 1.0 else d


# --------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class LSTMVariant:
    """Which pieces of the LSTM block are present, and how gradients flow.

    The default is Greff et al.'s "vanilla" LSTM (forget gate and peepholes).
    """

    input_gate: bool = True
    """Input gate i (False: i = 1, Greff's NIG)."""
    forget_gate: bool = True
    """Forget gate f (False: f = 1, the 1997 LSTM and Greff's NFG)."""
    output_gate: bool = True
    """Output gate o (False: o = 1, Greff's NOG)."""
    peepholes: bool = True
    """Peephole weights from the cell state to the gates (Gers et al. 2002; False: Greff's NP)."""
    coupled_input_forget: bool = False
    """CIFG: f = 1 - i (needs input_gate=True and forget_gate=False: f has no weights)."""
    full_gate_recurrence: bool = False
    """FGR: the gates also receive the previous step's gate activations [i, f, o]."""
    input_activation: str = "tanh"
    """Cell input squashing g: "tanh", "identity" (NIAF) or "g1997" (4 sigma - 2)."""
    output_activation: str = "tanh"
    """Cell output squashing h: "tanh", "identity" (NOAF) or "h1997" (2 sigma - 1)."""
    truncate_gradient: bool = False
    """1997 truncated gradient: no error flows back in time through the recurrent weights R
    (nor, with FGR, through R_gg); only the cell state carries it. The gradients of R and R_gg
    themselves are still computed."""

    def __post_init__(self) -> None:
        for field in ("input_activation", "output_activation"):
            value = getattr(self, field)
            if value not in ACTIVATIONS:
                raise RnnaiError(
                    f"unknown {field} {value!r}; expected one of {sorted(ACTIVATIONS)}"
                )
        if self.coupled_input_forget and not (self.input_gate and not self.forget_gate):
            raise RnnaiError(
                "coupled_input_forget (CIFG) computes f = 1 - i: it needs input_gate=True and "
                f"forget_gate=False, got input_gate={self.input_gate}, "
                f"forget_gate={self.forget_gate}"
            )
        if self.full_gate_recurrence and not self.sigmoid_gates:
            raise RnnaiError(
                "full_gate_recurrence needs at least one of input_gate, forget_gate, "
                "output_gate; got none"
            )

    @property
    def gates(self) -> tuple[str, ...]:
        """Pre-activation blocks with weights, in torch.nn.LSTM's order (i, f, g, o)."""
        names = []
        if self.input_gate:
            names.append("i")
        if self.forget_gate:
            names.append("f")
        names.append("g")
        if self.output_gate:
            names.append("o")
        return tuple(names)

    @property
    def sigmoid_gates(self) -> tuple[str, ...]:
        """The gates (i, f, o) that have weights; FGR's state g holds them in this order."""
        return tuple(g for g in self.gates if g != "g")

    @property
    def peephole_gates(self) -> tuple[str, ...]:
        """The gates that get a peephole weight vector."""
        return self.sigmoid_gates if self.peepholes else ()

    @property
    def is_torch_lstm(self) -> bool:
        """True when the math is exactly torch.nn.LSTM's (then the fused kernel runs)."""
        return self == VARIANTS["torch"]


VARIANTS: dict[str, LSTMVariant] = {
    # Greff et al. (2015): vanilla = forget gate + peepholes, and the eight one-change variants.
    "vanilla": LSTMVariant(),
    "nig": LSTMVariant(input_gate=False),
    "nfg": LSTMVariant(forget_gate=False),
    "nog": LSTMVariant(output_gate=False),
    "niaf": LSTMVariant(input_activation="identity"),
    "noaf": LSTMVariant(output_activation="identity"),
    "np": LSTMVariant(peepholes=False),
    "cifg": LSTMVariant(forget_gate=False, coupled_input_forget=True),
    "fgr": LSTMVariant(full_gate_recurrence=True),
    # The historical line.
    "lstm1997": LSTMVariant(
        forget_gate=False,
        peepholes=False,
        input_activation="g1997",
        output_activation="h1997",
        truncate_gradient=True,
    ),
    "lstm1997_full_gradient": LSTMVariant(
        forget_gate=False,
        peepholes=False,
        input_activation="g1997",
        output_activation="h1997",
    ),
    "gers2000": LSTMVariant(peepholes=False),  # forget gate, no peepholes
    "gers2002": LSTMVariant(),  # forget gate and peepholes (= Greff's vanilla)
    "torch": LSTMVariant(peepholes=False),  # torch.nn.LSTM's math (fused kernel)
}
"""Named presets. `torch`, `gers2000` and `np` are the same math (and all run fused)."""


def get_variant(variant: str | LSTMVariant) -> LSTMVariant:
    """Resolve a preset name (case-insensitive) or pass an `LSTMVariant` through."""
    if isinstance(variant, LSTMVariant):
        return variant
    if not isinstance(variant, str):
        raise RnnaiError(
            f"variant must be a preset name or an LSTMVariant, got {type(variant).__name__}"
        )
    key = variant.lower()
    if key not in VARIANTS:
        raise RnnaiError(f"unknown LSTM variant {variant!r}; expected one of {sorted(VARIANTS)}")
    return VARIANTS[key]


# --------------------------------------------------------------------------------------------
# One time step, as the equations are written (LSTMCell; the reference for the fast loop below)
# --------------------------------------------------------------------------------------------


class _LayerWeights(NamedTuple):
    """One layer's (one direction's) parameters as the equations use them."""

    W: Tensor  # input weights W        (G*H, H_in)
    R: Tensor  # recurrent weights R    (G*H, H)
    b: Tensor | None  # bias_ih + bias_hh, the paper's single bias   (G*H,)
    P: Tensor  # peephole vectors p      (number of peephole gates, H); empty without peepholes
    Rg: Tensor  # FGR weights R_gg       (S*H, S*H); empty without FGR


def _cell_step(
    v: LSTMVariant, x: Tensor, y: Tensor, c: Tensor, g: Tensor | None, w: _LayerWeights
) -> tuple[Tensor, Tensor, Tensor | None]:
    """One time step (Eqs. 1-6) with plain tensor ops; autograd differentiates it.

    Args:
        v: the variant.
        x: input x^t (N, H_in).
        y: previous output y^{t-1} (N, H).
        c: previous cell state c^{t-1} (N, H).
        g: FGR's previous gate activations [i, f, o]^{t-1} (N, S*H); None = 0 (and not FGR).
        w: the layer's weights.

    Returns:
        y^t, c^t and, for FGR, [i, f, o]^t (None otherwise).
    """
    H = y.shape[1]
    # 1997 truncated gradient: y^{t-1} (and FGR's gates) reach the gates through R (R_gg), and
    # no error flows back in time through those connections.
    y_rec = y.detach() if v.truncate_gradient else y
    a = x @ w.W.t() + y_rec @ w.R.t()  # W x + R y^{t-1}   (N, G*H)
    if w.b is not None:
        a = a + w.b
    pre = dict(zip(v.gates, a.split(H, dim=1), strict=True))  # block name -> (N, H)
    if v.full_gate_recurrence and g is not None:  # FGR: + R_gg [i, f, o]^{t-1}
        g_rec = g.detach() if v.truncate_gradient else g
        for name, r in zip(v.sigmoid_gates, (g_rec @ w.Rg.t()).split(H, dim=1), strict=True):
            pre[name] = pre[name] + r
    peep = dict(zip(v.peephole_gates, w.P.unbind(0), strict=True))  # gate -> p (H,)

    def gate(name: str, cell: Tensor) -> Tensor:
        a_k = pre[name] + peep[name] * cell if name in peep else pre[name]
        return torch.sigmoid(a_k)

    z = _act(pre["g"], v.input_activation)  # Eq. 1
    i = gate("i", c) if v.input_gate else None  # Eq. 2
    f = gate("f", c) if v.forget_gate else None  # Eq. 3
    c_new = z if i is None else z * i  # Eq. 4: z . i
    if f is not None:
        c_new = c_new + c * f  # Eq. 4: + c^{t-1} . f
    elif v.coupled_input_forget and i is not None:
        c_new = c_new + c * (1.0 - i)  # CIFG: f = 1 - i
    else:
        c_new = c_new + c  # f = 1 (CEC)
    o = gate("o", c_new) if v.output_gate else None  # Eq. 5
    y_new = _act(c_new, v.output_activation)  # Eq. 6 ...
    if o is not None:
        y_new = y_new * o  # ... times o
    g_new = None
    if v.full_gate_recurrence:
        g_new = torch.cat([u for u in (i, f, o) if u is not None], dim=1)  # (N, S*H)
    return y_new, c_new, g_new


# --------------------------------------------------------------------------------------------
# The recurrence of one layer in one direction, with a hand-written backward pass (BPTT).
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class _Plan:
    """Static facts of a layer that the recurrence needs (derived once from the variant)."""

    variant: LSTMVariant
    hidden: int
    slices: dict[str, slice]  # gate name -> columns of the (G*H) pre-activation
    sig_slice: slice | None  # columns of the leading contiguous sigmoid gates before g (i, f)

    @staticmethod
    def make(variant: LSTMVariant, hidden: int) -> _Plan:
        slices = {g: slice(k * hidden, (k + 1) * hidden) for k, g in enumerate(variant.gates)}
        lead = [g for g in variant.gates if g in ("i", "f")]
        sig = slice(0, len(lead) * hidden) if lead else None
        return _Plan(variant=variant, hidden=hidden, slices=slices, sig_slice=sig)


def _rows(u: Tensor, n: int) -> Tensor:
    """The first n rows of a per-step view (the active sequences), without a slice if all are."""
    return u if u.shape[0] == n else u[:n]


def _recurrence_forward(
    xw: Tensor,
    h0: Tensor,
    c0: Tensor,
    g0: Tensor,
    R: Tensor,
    P: Tensor,
    Rg: Tensor,
    lengths: Tensor,
    batch_sizes: list[int],
    plan: _Plan,
) -> tuple[Tensor, Tensor, Tensor, Tensor | None, Tensor, Tensor, Tensor]:
    """The forward loop (Eqs. 1-6); returns the buffers Y, C, A, HC and the final y, c, g.

    Shapes: Y, C (T+1, B, H) with Y[t+1] = y^t; A (T, B, G*H) the activated gates and block
    input; HC (T, B, H) = h(c^t) (None without an output gate); g0 and the final g (B, S*H) are
    FGR's gate activations [i, f, o] before the first and at the last step (g0 empty: zero; the
    final g is (B, 0) without FGR).
    """
    v: LSTMVariant = plan.variant
    T, B, GH = xw.shape  # (T, B, G*H)
    H = plan.hidden
    s = plan.slices
    # Rows past their sequence's end stay zero (the backward pass sums over every row), so
    # the buffers need zero-filling only when the batch has padding.
    padded = batch_sizes[-1] != B

    def buffer(*shape: int) -> Tensor:
        if padded:
            return torch.zeros(shape, dtype=xw.dtype, device=xw.device)
        return torch.empty(shape, dtype=xw.dtype, device=xw.device)

    Y = buffer(T + 1, B, H)  # Y[t+1] = y^t, Y[0] = y^{-1}   (T+1, B, H)
    C = buffer(T + 1, B, H)  # C[t+1] = c^t                  (T+1, B, H)
    A = buffer(T, B, GH)  # activated gates / block input  (T, B, G*H)
    HC = buffer(T, B, H) if v.output_gate else None  # h(c^t)
    Y[0] = h0
    C[0] = c0
    peep = {g: P[k] for k, g in enumerate(v.peephole_gates)}
    n_if = sum(g in peep for g in ("i", "f"))
    peep_if = P[:n_if] if n_if else None  # (n_if, H): peepholes of i and f (first in P)
    sig_names = v.sigmoid_gates
    Rt = R.t()
    Rgt = Rg.t() if v.full_gate_recurrence else None
    has_g0 = g0.numel() > 0
    # Per-step views made once (unbind is one C++ call); `_rows` cuts them to the active rows.
    xs, Ys, Cs = xw.unbind(0), Y.unbind(0), C.unbind(0)
    Cu = C.unsqueeze(2).unbind(0)  # c^{t-1} as (B, 1, H), for the i/f peepholes in one op
    act_g, act_h = _act_fn(v.input_activation), _act_fn(v.output_activation)
    Ag = {g: A[..., s[g]].unbind(0) for g in v.gates}
    Asig = A[..., plan.sig_slice].unbind(0) if plan.sig_slice is not None else ()
    HCs = HC.unbind(0) if HC is not None else ()
    abuf = torch.empty(B, GH, dtype=xw.dtype, device=xw.device)  # pre-activations (B, G*H)
    a_g = {g: abuf[:, s[g]] for g in v.gates}
    a_sig = abuf[:, plan.sig_slice] if plan.sig_slice is not None else None
    a_sig3 = a_sig.view(B, -1, H) if a_sig is not None else None  # (B, n_if, H)
    for t in range(T):
        n = batch_sizes[t]
        y_prev, c_prev = _rows(Ys[t], n), _rows(Cs[t], n)
        torch.addmm(_rows(xs[t], n), y_prev, Rt, out=_rows(abuf, n))  # W x + R y + b
        if Rgt is not None and (t > 0 or has_g0):  # FGR: gates see [i, f, o]^{t-1}
            if t == 0:
                g_prev = _rows(g0, n)  # (n, S*H)
            else:
                g_prev = torch.cat([_rows(Ag[g][t - 1], n) for g in sig_names], dim=1)
            fgr = torch.mm(g_prev, Rgt)
            for k, g in enumerate(sig_names):
                _rows(a_g[g], n).add_(fgr[:, k * H : (k + 1) * H])
        if peep_if is not None and a_sig3 is not None:  # Eqs. 2-3 peepholes p . c^{t-1}
            _rows(a_sig3, n).addcmul_(_rows(Cu[t], n), peep_if)  # i and f in one op
        if a_sig is not None:
            torch.sigmoid(_rows(a_sig, n), out=_rows(Asig[t], n))  # Eqs. 2-3
        z = act_g(_rows(a_g["g"], n), _rows(Ag["g"][t], n))  # Eq. 1
        c = _rows(Cs[t + 1], n)
        if v.input_gate:
            torch.mul(_rows(Ag["i"][t], n), z, out=c)  # Eq. 4: z . i
        else:
            c.copy_(z)
        if v.forget_gate:
            c.addcmul_(_rows(Ag["f"][t], n), c_prev)  # Eq. 4: + c^{t-1} . f
        elif v.coupled_input_forget:
            c.add_(c_prev).addcmul_(_rows(Ag["i"][t], n), c_prev, value=-1.0)  # f = 1 - i
        else:
            c.add_(c_prev)  # f = 1 (CEC)
        y = _rows(Ys[t + 1], n)
        if v.output_gate:
            a_o = _rows(a_g["o"], n)
            if "o" in peep:
                a_o.addcmul_(c, peep["o"])  # Eq. 5 peephole: p_o . c^t
            o = torch.sigmoid(a_o, out=_rows(Ag["o"][t], n))  # Eq. 5
            hc = act_h(c, _rows(HCs[t], n))
            torch.mul(o, hc, out=y)  # Eq. 6
        else:
            act_h(c, y)  # Eq. 6 with o = 1
    # Final state of each row: the step of its last element.
    rows = torch.arange(B, device=xw.device)
    y_last = Y[lengths, rows]
    c_last = C[lengths, rows]
    if v.full_gate_recurrence:
        a_last = A[lengths - 1, rows]  # (B, G*H)
        g_last = torch.cat([a_last[:, s[g]] for g in sig_names], dim=1)  # (B, S*H)
    else:
        g_last = A.new_empty(B, 0)
    return Y, C, A, HC, y_last, c_last, g_last


class _Recurrence(torch.autograd.Function):
    """LSTM recurrence over T steps given the input projections xw = W x + b.

    Inputs: xw (T, B, G*H), h0 (B, H), c0 (B, H), g0 (B, S*H) or empty (FGR's previous gates;
    S = number of sigmoid gates), R (G*H, H), P (n_peep, H) or empty, Rg (S*H, S*H) or empty
    (FGR), lengths (B,), batch_sizes (list of T ints, non-increasing: rows [0, batch_sizes[t]) are
    active at step t; rows are sorted by length).
    Outputs: y (T, B, H) (zero where a row is inactive), y_last (B, H), c_last (B, H),
    g_last (B, S*H) (FGR; (B, 0) otherwise).
    """

    @staticmethod
    def forward(
        ctx: Any,
        xw: Tensor,
        h0: Tensor,
        c0: Tensor,
        g0: Tensor,
        R: Tensor,
        P: Tensor,
        Rg: Tensor,
        lengths: Tensor,
        batch_sizes: list[int],
        plan: _Plan,
    ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        Y, C, A, HC, y_last, c_last, g_last = _recurrence_forward(
            xw, h0, c0, g0, R, P, Rg, lengths, batch_sizes, plan
        )
        HC_saved = HC if HC is not None else torch.empty(0)
        ctx.save_for_backward(R, P, Rg, g0, Y, C, A, HC_saved, lengths)
        ctx.batch_sizes = batch_sizes
        ctx.plan = plan
        # Outputs that no loss uses arrive in backward as None (not as zeros to multiply).
        ctx.set_materialize_grads(False)
        if not plan.variant.full_gate_recurrence:
            ctx.mark_non_differentiable(g_last)
        return Y[1:], y_last, c_last, g_last

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(
        ctx: Any,
        dY: Tensor | None,
        dy_last: Tensor | None,
        dc_last: Tensor | None,
        dg_last: Tensor | None,
    ) -> tuple[Tensor | None, ...]:
        R, P, Rg, g0, Y, C, A, HC, lengths = ctx.saved_tensors
        plan: _Plan = ctx.plan
        v = plan.variant
        batch_sizes: list[int] = ctx.batch_sizes
        s = plan.slices
        H = plan.hidden
        T1, B, _ = Y.shape
        T = T1 - 1
        GH = A.shape[2]
        has_g0 = g0.numel() > 0
        dY = dY if dY is not None else torch.zeros_like(Y[1:])

        # ---- Quantities of every step at once (one big element-wise op each, not T small ones).
        # Derivatives of the gate nonlinearities, written from their outputs.
        def dsig(g: str) -> Tensor:
            a = A[..., s[g]]
            return a * (1.0 - a)

        Cprev, Ccur = C[:-1], C[1:]  # c^{t-1}, c^t   (T, B, H)
        i = A[..., s["i"]] if v.input_gate else None
        f = A[..., s["f"]] if v.forget_gate else None
        z = A[..., s["g"]]
        dz = _act_grad(z, v.input_activation)  # g'(z-bar), None = 1
        # dL/dc^t gets dL/dy^t times Kc = o . h'(c^t).
        Ko: Tensor | None = None
        if v.output_gate:
            o = A[..., s["o"]]
            dh = _act_grad(HC, v.output_activation)
            Kc = o if dh is None else o * dh
            Ko = HC * dsig("o")  # dL/do-bar = dL/dy . h(c) . o (1 - o)
        else:
            Kc = _act_grad(_act(Ccur, v.output_activation), v.output_activation)  # None = 1
        # dL/d(i,f,g)-bar = dL/dc^t times K (stacked in gate order, o excluded).
        m = len(v.gates) - int(v.output_gate)
        K = torch.empty(T, B, m, H, dtype=A.dtype, device=A.device)  # (T, B, m, H)
        for j, g in enumerate(v.gates[:m]):
            if g == "i":
                src = z - Cprev if v.coupled_input_forget else z  # dc/di = z (- c^{t-1} for CIFG)
                torch.mul(src, dsig("i"), out=K[:, :, j])
            elif g == "f":
                torch.mul(Cprev, dsig("f"), out=K[:, :, j])  # dc/df = c^{t-1}
            elif i is None:  # g, NIG: dc/dz = 1
                K[:, :, j] = 1.0 if dz is None else dz
            elif dz is not None:  # g: dc/dz = i
                torch.mul(i, dz, out=K[:, :, j])
            else:
                K[:, :, j].copy_(i)
        # dL/dc^{t-1} = dL/dc^t . Fm (+ peephole terms).
        Fm: Tensor | None = None
        if f is not None:
            Fm = f
        elif v.coupled_input_forget and i is not None:
            Fm = 1.0 - i
        # FGR needs the bare derivatives of the gates (o's is also in Ko).
        Dsig = {g: dsig(g) for g in v.sigmoid_gates} if v.full_gate_recurrence else {}
        peep = {g: P[k] for k, g in enumerate(v.peephole_gates)}

        # ---- The backward loop over time.
        if batch_sizes[-1] != B:  # padding: inactive rows must hold zeros
            dA = torch.zeros(T, B, GH, dtype=A.dtype, device=A.device)
        else:
            dA = torch.empty(T, B, GH, dtype=A.dtype, device=A.device)
        dy_rec = dy_last.clone() if dy_last is not None else A.new_zeros(B, H)
        dc_rec = dc_last.clone() if dc_last is not None else A.new_zeros(B, H)
        sig_names = v.sigmoid_gates
        # FGR: dL/d[i, f, o]^t arriving from step t+1 (or, at a row's last step, from g_last).
        # Rows are written only while active, so a row keeps g_last's error until its last step.
        carry_buf: Tensor | None = None
        carry: dict[str, Tensor] | None = None
        if v.full_gate_recurrence:
            carry_buf = (
                dg_last.clone() if dg_last is not None else A.new_zeros(B, len(sig_names) * H)
            )
            if dg_last is not None:
                carry = {g: carry_buf[:, k * H : (k + 1) * H] for k, g in enumerate(sig_names)}
        # Per-step views made once; `_rows` cuts them to the active rows.
        dYs, dAs = dY.unbind(0), dA.unbind(0)
        dAg = {g: dA[..., s[g]].unbind(0) for g in v.gates}
        dAm = dA[..., : m * H].view(T, B, m, H).unbind(0)  # i, f, z blocks   (B, m, H) each
        Ks = K.unbind(0)
        Kcs = Kc.unbind(0) if Kc is not None else None
        Kos = Ko.unbind(0) if Ko is not None else ()
        Fms = Fm.unbind(0) if Fm is not None else None
        dybuf = torch.empty(B, H, dtype=A.dtype, device=A.device)
        dcbuf = torch.empty(B, H, dtype=A.dtype, device=A.device)
        dcbuf_u = dcbuf.unsqueeze(1)  # (B, 1, H) view, broadcast over the i, f, z blocks
        for t in range(T - 1, -1, -1):
            n = batch_sizes[t]
            dy = torch.add(_rows(dYs[t], n), _rows(dy_rec, n), out=_rows(dybuf, n))  # dL/dy^t
            dc_prev = _rows(dc_rec, n)
            if Kcs is None:
                dc = torch.add(dc_prev, dy, out=_rows(dcbuf, n))
            else:
                dc = torch.addcmul(dc_prev, dy, _rows(Kcs[t], n), out=_rows(dcbuf, n))  # Eq. 6
            if v.output_gate:
                da_o = _rows(dAg["o"][t], n)
                torch.mul(dy, _rows(Kos[t], n), out=da_o)  # Eq. 5
                if carry is not None:
                    da_o.addcmul_(_rows(carry["o"], n), _rows(Dsig["o"][t], n))
                if "o" in peep:
                    dc.addcmul_(da_o, peep["o"])  # o-bar depends on c^t
            # Eq. 4 -> i, f, z pre-activations (one op for all of them).
            torch.mul(_rows(dcbuf_u, n), _rows(Ks[t], n), out=_rows(dAm[t], n))
            if carry is not None:
                for g in ("i", "f"):
                    if g in carry:
                        _rows(dAg[g][t], n).addcmul_(_rows(carry[g], n), _rows(Dsig[g][t], n))
            # dL/dc^{t-1}
            if Fms is None:
                dc_prev.copy_(dc)
            else:
                torch.mul(dc, _rows(Fms[t], n), out=dc_prev)
            for g in ("i", "f"):
                if g in peep:
                    dc_prev.addcmul_(_rows(dAg[g][t], n), peep[g])
            # dL/dy^{t-1} through R (cut in the 1997 truncated gradient).
            dAt = _rows(dAs[t], n)
            if not v.truncate_gradient:
                torch.mm(dAt, R, out=_rows(dy_rec, n))
            else:
                _rows(dy_rec, n).zero_()
            if carry_buf is not None and (t > 0 or has_g0):
                # dL/d[i, f, o]^{t-1} through R_gg (cut in the 1997 truncated gradient).
                if not v.truncate_gradient:
                    d_sig = torch.cat([_rows(dAg[g][t], n) for g in sig_names], dim=1)
                    torch.mm(d_sig, Rg, out=_rows(carry_buf, n))
                    carry = {g: carry_buf[:, k * H : (k + 1) * H] for k, g in enumerate(sig_names)}
                elif carry is not None:
                    _rows(carry_buf, n).zero_()

        # ---- Weight gradients: one large product each.
        dA2 = dA.view(T * B, GH)  # (T*B, G*H)
        dR = dA2.t().mm(Y[:-1].reshape(T * B, H))  # sum_t da^t y^{t-1 T}   (G*H, H)
        dP = torch.zeros_like(P)
        for k, g in enumerate(v.peephole_gates):
            src = Ccur if g == "o" else Cprev
            dP[k] = (dA[..., s[g]] * src).sum(dim=(0, 1))
        dRg = torch.zeros_like(Rg)
        if v.full_gate_recurrence and T > 1:
            Gs = torch.cat([A[:-1, :, s[g]] for g in sig_names], dim=2)  # [i,f,o]^{t-1}
            dGs = torch.cat([dA[1:, :, s[g]] for g in sig_names], dim=2)
            S = Gs.shape[2]
            dRg = dGs.reshape(-1, S).t().mm(Gs.reshape(-1, S))
        dg0 = None
        if has_g0 and carry_buf is not None:
            dG0 = torch.cat([dA[0, :, s[g]] for g in sig_names], dim=1)  # (B, S*H)
            dRg = dRg.addmm_(dG0.t(), g0)  # step 0 sees g0 through R_gg
            dg0 = carry_buf if not v.truncate_gradient else torch.zeros_like(g0)
        return dA, dy_rec, dc_rec, dg0, dR, dP, dRg, None, None, None


# --------------------------------------------------------------------------------------------
# Parameters, inputs and states shared by LSTM and LSTMCell
# --------------------------------------------------------------------------------------------


def _register_parameters(
    module: nn.Module,
    variant: LSTMVariant,
    suffix: str,
    input_size: int,
    hidden_size: int,
    bias: bool,
    device: torch.device | str | None,
    dtype: torch.dtype | None,
) -> list[str]:
    """Create one layer's (one direction's) parameters, named as torch.nn.LSTM's plus the
    variant's peephole and FGR weights; return the names torch's fused kernel takes, in order."""
    G, S, H = len(variant.gates), len(variant.sigmoid_gates), hidden_size
    shapes: dict[str, tuple[int, ...]] = {
        f"weight_ih_{suffix}": (G * H, input_size),
        f"weight_hh_{suffix}": (G * H, H),
    }
    if bias:
        shapes[f"bias_ih_{suffix}"] = (G * H,)
        shapes[f"bias_hh_{suffix}"] = (G * H,)
    fused = list(shapes)
    if variant.peephole_gates:
        shapes[f"weight_peep_{suffix}"] = (len(variant.peephole_gates), H)
    if variant.full_gate_recurrence:
        shapes[f"weight_gg_{suffix}"] = (S * H, S * H)
    for name, shape in shapes.items():
        module.register_parameter(
            name, nn.Parameter(torch.empty(shape, device=device, dtype=dtype))
        )
    return fused


def _reset_uniform(module: nn.Module, hidden_size: int) -> None:
    """Uniform(-1/sqrt(H), 1/sqrt(H)) for every parameter, as torch.nn.LSTM."""
    k = 1.0 / math.sqrt(hidden_size)
    for p in module.parameters():
        nn.init.uniform_(p, -k, k)


def _weight(module: nn.Module, name: str) -> Tensor:
    return cast(Tensor, getattr(module, name))


def _layer_weights(module: nn.Module, suffix: str) -> _LayerWeights:
    """The parameters of layer-direction `suffix` ("l0", "l1_reverse", ...) as `_LayerWeights`."""
    R = _weight(module, f"weight_hh_{suffix}")
    b = None
    if hasattr(module, f"bias_ih_{suffix}"):
        b = _weight(module, f"bias_ih_{suffix}") + _weight(module, f"bias_hh_{suffix}")
    empty = R.new_empty(0)
    return _LayerWeights(
        W=_weight(module, f"weight_ih_{suffix}"),
        R=R,
        b=b,
        P=getattr(module, f"weight_peep_{suffix}", empty),
        Rg=getattr(module, f"weight_gg_{suffix}", empty),
    )


def _check_sizes(name: str, input_size: int, hidden_size: int) -> None:
    for field, value in (("input_size", input_size), ("hidden_size", hidden_size)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise RnnaiError(f"{name} {field} must be a positive int, got {value!r}")


def _check_features(who: str, x: Tensor, size: int, expected: str, dtype: torch.dtype) -> None:
    """The input's last dimension, floating point and dtype (that of the parameters)."""
    if x.shape[-1] != size:
        raise RnnaiError(
            f"{who} expected input of shape {expected} with H_in={size}, got shape {tuple(x.shape)}"
        )
    if not x.is_floating_point():
        raise RnnaiError(f"{who} expected a floating-point input, got dtype {x.dtype}")
    if x.dtype != dtype:
        raise RnnaiError(
            f"{who} input dtype {x.dtype} differs from the parameters' dtype {dtype}; convert "
            f"one of them (e.g. module.to({x.dtype}))"
        )


def _check_state(
    who: str, hx: object, variant: LSTMVariant, lead: tuple[int, ...], hidden: int
) -> tuple[Tensor, Tensor, Tensor | None]:
    """Split a state (h, c) or FGR's (h, c, g) after checking each part's shape (lead + width)."""
    fgr = variant.full_gate_recurrence
    want = "(h, c) or (h, c, g)" if fgr else "(h, c)"
    if not isinstance(hx, (tuple, list)) or not all(isinstance(t, Tensor) for t in hx):
        raise RnnaiError(f"{who} expected a state {want} of tensors, got {type(hx).__name__}")
    if len(hx) not in ((2, 3) if fgr else (2,)):
        raise RnnaiError(f"{who} expected a state {want} of tensors, got {len(hx)} of them")
    widths = (hidden, hidden, len(variant.sigmoid_gates) * hidden)
    for name, t, width in zip(("h_0", "c_0", "g_0"), hx, widths, strict=False):
        shape = (*lead, width)
        if tuple(t.shape) != shape:
            raise RnnaiError(f"{who} expected {name} of shape {shape}, got {tuple(t.shape)}")
    return hx[0], hx[1], (hx[2] if len(hx) == 3 else None)


def _state_tuple(h: Tensor, c: Tensor, g: Tensor | None) -> tuple[Tensor, ...]:
    """The state handed back: (h, c), or (h, c, g) for FGR."""
    return (h, c) if g is None else (h, c, g)


def _variant_name(variant: LSTMVariant) -> str:
    name = next((n for n, val in VARIANTS.items() if val == variant), None)
    return name if name is not None else repr(variant)


# --------------------------------------------------------------------------------------------
# The modules
# --------------------------------------------------------------------------------------------


class LSTM(nn.Module):
    r"""Multi-layer LSTM of any variant, a drop-in for :class:`torch.nn.LSTM`.

    Args:
        input_size: features of the input x (H_in).
        hidden_size: memory blocks (cells) per layer and direction (H).
        num_layers: stacked layers.
        bias: whether the pre-activations have biases.
        batch_first: inputs and outputs are (N, L, H) instead of (L, N, H).
        dropout: dropout on the outputs of every layer but the last (as nn.LSTM).
        bidirectional: run a second recurrence backwards in time and concatenate.
        variant: a preset name from :data:`VARIANTS` ("vanilla", "lstm1997", "cifg", ...) or an
            :class:`LSTMVariant`.
        device: where the parameters live.
        dtype: the parameters' floating-point type.

    Inputs: ``input, hx``, optional ``lengths``
        * input: (L, N, H_in), (N, L, H_in) if batch_first, (L, H_in) unbatched, or a
          PackedSequence.
        * hx: the state ``(h_0, c_0)``; h_0, c_0 are (D * num_layers, N, H) (or
          (D * num_layers, H) unbatched); zeros if omitted. FGR also takes ``(h_0, c_0, g_0)``
          with g_0 (D * num_layers, N, S * H), the previous step's gates (module docstring);
          g_0 = 0 when left out.
        * lengths: (N,) true lengths of a padded batch (1 <= length <= L); padded steps give zero
          outputs and the final state is taken at each sequence's last element.

    Outputs: ``output, (h_n, c_n)`` as :class:`torch.nn.LSTM`, ``output, (h_n, c_n, g_n)`` for
    FGR; output is (L, N, D * H) (or batch-first), a PackedSequence for packed input. Handing the
    state to the next call continues the sequences exactly.

    Parameters per layer k and direction (suffix "_reverse"): ``weight_ih_l{k}`` (G*H, H_in_k),
    ``weight_hh_l{k}`` (G*H, H), ``bias_ih_l{k}``, ``bias_hh_l{k}`` (G*H), with G the number of
    blocks among (i, f, g, o) in that order; ``weight_peep_l{k}`` (number of peephole gates, H);
    ``weight_gg_l{k}`` (S*H, S*H) for FGR (S = number of gates among i, f, o).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        variant: str | LSTMVariant = "vanilla",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        _check_sizes("LSTM", input_size, hidden_size)
        if not isinstance(num_layers, int) or num_layers < 1:
            raise RnnaiError(f"LSTM num_layers must be a positive int, got {num_layers!r}")
        if not 0.0 <= float(dropout) < 1.0:
            raise RnnaiError(f"LSTM dropout must be in [0, 1), got {dropout!r}")
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.variant = get_variant(variant)
        self._plan = _Plan.make(self.variant, hidden_size)
        self._suffixes = ["", "_reverse"] if bidirectional else [""]
        self._flat_names: list[str] = []  # the fused kernel's weights, in its order
        for layer in range(num_layers):
            in_k = input_size if layer == 0 else hidden_size * len(self._suffixes)
            for sfx in self._suffixes:
                self._flat_names += _register_parameters(
                    self, self.variant, f"l{layer}{sfx}", in_k, hidden_size, bias, device, dtype
                )
        self.reset_parameters()

    @property
    def gate_slices(self) -> dict[str, slice]:
        """Rows of each block (i, f, g, o; those with weights) in weight_ih, weight_hh, biases."""
        return dict(self._plan.slices)

    def reset_parameters(self) -> None:
        """Uniform(-1/sqrt(H), 1/sqrt(H)) for every weight, as torch.nn.LSTM."""
        _reset_uniform(self, self.hidden_size)

    def extra_repr(self) -> str:
        """Summary shown by print(module)."""
        s = (
            f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, "
            f"variant={_variant_name(self.variant)}"
        )
        if self.batch_first:
            s += ", batch_first=True"
        if self.bidirectional:
            s += ", bidirectional=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if not self.bias:
            s += ", bias=False"
        return s

    # ---------------------------------------------------------------- input checking
    def _check_input(self, x: Tensor, batched: bool) -> None:
        expected = "(L, N, H_in)" if not self.batch_first else "(N, L, H_in)"
        if not batched:
            expected = "(L, H_in)"
        _check_features("LSTM", x, self.input_size, expected, _weight(self, "weight_ih_l0").dtype)

    def _check_state(
        self, hx: object, batch: int, batched: bool
    ) -> tuple[Tensor, Tensor, Tensor | None]:
        """The state as (h, c, g or None), each (D * num_layers, N, width)."""
        lead = (len(self._suffixes) * self.num_layers,) + ((batch,) if batched else ())
        h, c, g = _check_state("LSTM", hx, self.variant, lead, self.hidden_size)
        if not batched:
            return h.unsqueeze(1), c.unsqueeze(1), (g.unsqueeze(1) if g is not None else None)
        return h, c, g

    def _check_lengths(self, lengths: Tensor | Sequence[int], L: int, N: int) -> Tensor:
        lengths_t = torch.as_tensor(lengths, dtype=torch.long).flatten().cpu()
        if lengths_t.numel() != N:
            raise RnnaiError(f"lengths must have shape ({N},), got {tuple(lengths_t.shape)}")
        if N and (int(lengths_t.min()) < 1 or int(lengths_t.max()) > L):
            raise RnnaiError(
                f"lengths must lie in [1, {L}] (the padded length), got "
                f"min {int(lengths_t.min())} and max {int(lengths_t.max())}"
            )
        return lengths_t

    # ---------------------------------------------------------------- forward
    def forward(
        self,
        input: Tensor | PackedSequence,
        hx: Sequence[Tensor] | None = None,
        lengths: Tensor | Sequence[int] | None = None,
    ) -> tuple[Tensor | PackedSequence, tuple[Tensor, ...]]:
        """Run the LSTM over whole sequences; see the class docstring for shapes and state."""
        lengths_t: Tensor | None = None
        if isinstance(input, PackedSequence):
            if lengths is not None:
                raise RnnaiError("LSTM takes lengths or a PackedSequence input, got both")
            x, lens = pad_packed_sequence(input, batch_first=False)  # (L, N, H_in), input order
            batched = True
            self._check_input(x, batched)
            lengths_t = lens.to(torch.long)
        else:
            if not isinstance(input, Tensor):
                raise RnnaiError(
                    f"LSTM input must be a Tensor or PackedSequence, got {type(input).__name__}"
                )
            if input.dim() not in (2, 3):
                raise RnnaiError(
                    f"LSTM expected a 2-D (L, H_in) or 3-D input, got shape {tuple(input.shape)}"
                )
            batched = input.dim() == 3
            self._check_input(input, batched)
            x = input if batched else input.unsqueeze(1)
            if batched and self.batch_first:
                x = x.transpose(0, 1)  # (L, N, H_in)
            if lengths is not None:
                lengths_t = self._check_lengths(lengths, x.shape[0], x.shape[1])
        state = None if hx is None else self._check_state(hx, x.shape[1], batched)
        if self.variant.is_torch_lstm:
            out, h_n, c_n, g_n = self._forward_fused(x, state, lengths_t)
        else:
            out, h_n, c_n, g_n = self._forward_generic(x, state, lengths_t)
        if isinstance(input, PackedSequence) and lengths_t is not None:
            out_p = pack_padded_sequence(out, lengths_t, enforce_sorted=False)
            return out_p, _state_tuple(h_n, c_n, g_n)
        if not batched:
            final = (h_n.squeeze(1), c_n.squeeze(1), g_n.squeeze(1) if g_n is not None else None)
            return out.squeeze(1), _state_tuple(*final)
        if self.batch_first:
            out = out.transpose(0, 1)
        return out, _state_tuple(h_n, c_n, g_n)

    @torch.no_grad()
    def trace(self, input: Tensor, hx: Sequence[Tensor] | None = None) -> dict[str, Tensor]:
        """Internal activity of the first layer's forward direction, for plots and analysis.

        Args:
            input: (L, N, H_in) (or (N, L, H_in) if batch_first); no padding.
            hx: optional initial state as in `forward`.

        Returns:
            A dict of (L, N, H) tensors in time-major order: "z" block input, "c" cell state,
            "y" block output, and "i", "f", "o" for the gates the variant has ("f" is 1 - i for
            CIFG). The time-major layout holds whatever `batch_first` says.
        """
        if not isinstance(input, Tensor) or input.dim() != 3:
            shape = tuple(input.shape) if isinstance(input, Tensor) else type(input).__name__
            raise RnnaiError(f"trace expected a 3-D input, got {shape}")
        self._check_input(input, True)
        x = input.transpose(0, 1) if self.batch_first else input  # (L, N, H_in)
        L, N, _ = x.shape
        h0, c0 = self._zeros_state(x)
        g0 = None
        if hx is not None:
            h0, c0, g0 = self._check_state(hx, N, True)
        w = _layer_weights(self, "l0")
        xw = x.reshape(L * N, -1) @ w.W.t()  # (L*N, G*H)
        if self.bias:
            xw = xw + _weight(self, "bias_ih_l0") + _weight(self, "bias_hh_l0")
        lens = torch.full((N,), L, dtype=torch.long, device=x.device)
        g0_0 = g0[0] if g0 is not None else w.R.new_empty(0)
        Y, C, A, *_ = _recurrence_forward(
            xw.view(L, N, -1), h0[0], c0[0], g0_0, w.R, w.P, w.Rg, lens, [N] * L, self._plan
        )
        s = self._plan.slices
        out = {"z": A[..., s["g"]], "c": C[1:], "y": Y[1:]}
        for g in ("i", "f", "o"):
            if g in s:
                out[g] = A[..., s[g]]
        if self.variant.coupled_input_forget:
            out["f"] = 1.0 - out["i"]
        return out

    def _zeros_state(self, x: Tensor) -> tuple[Tensor, Tensor]:
        shape = (len(self._suffixes) * self.num_layers, x.shape[1], self.hidden_size)
        z = torch.zeros(shape, dtype=x.dtype, device=x.device)
        return z, z

    def _forward_fused(
        self, x: Tensor, state: tuple[Tensor, Tensor, Tensor | None] | None, lengths: Tensor | None
    ) -> tuple[Tensor, Tensor, Tensor, None]:
        """torch.nn.LSTM's own fused kernel (the math is identical for variant "torch")."""
        hx = self._zeros_state(x) if state is None else (state[0], state[1])
        weights = [_weight(self, n) for n in self._flat_names]
        if lengths is None:
            out, h_n, c_n = torch._VF.lstm(
                x,
                hx,
                weights,
                self.bias,
                self.num_layers,
                self.dropout,
                self.training,
                self.bidirectional,
                False,
            )
            return out, h_n, c_n, None
        pk = pack_padded_sequence(x, lengths, enforce_sorted=False)
        assert pk.sorted_indices is not None and pk.unsorted_indices is not None  # enforce_sorted
        h0 = hx[0].index_select(1, pk.sorted_indices)
        c0 = hx[1].index_select(1, pk.sorted_indices)
        data, h_n, c_n = torch._VF.lstm(
            pk.data,
            pk.batch_sizes,
            (h0, c0),
            weights,
            self.bias,
            self.num_layers,
            self.dropout,
            self.training,
            self.bidirectional,
        )
        out, _ = pad_packed_sequence(
            PackedSequence(data, pk.batch_sizes, pk.sorted_indices, pk.unsorted_indices),
            total_length=x.shape[0],
        )
        h_n = h_n.index_select(1, pk.unsorted_indices)
        c_n = c_n.index_select(1, pk.unsorted_indices)
        return out, h_n, c_n, None

    def _forward_generic(
        self, x: Tensor, state: tuple[Tensor, Tensor, Tensor | None] | None, lengths: Tensor | None
    ) -> tuple[Tensor, Tensor, Tensor, Tensor | None]:
        """Any variant, through `_Recurrence`."""
        L, N, _ = x.shape  # (L, N, H_in)
        if state is None:
            h0_all, c0_all = self._zeros_state(x)
            g0_all = None
        else:
            h0_all, c0_all, g0_all = state
        order = None
        if lengths is None:
            lens = torch.full((N,), L, dtype=torch.long)
            batch_sizes = [N] * L
        else:
            lens, order = torch.sort(lengths, descending=True)
            # sorted rows: row r holds sequence order[r]
            order_dev = order.to(x.device)
            x = x.index_select(1, order_dev)
            h0_all = h0_all.index_select(1, order_dev)
            c0_all = c0_all.index_select(1, order_dev)
            if g0_all is not None:
                g0_all = g0_all.index_select(1, order_dev)
            counts = torch.bincount(lens, minlength=L + 1)  # how many end at each length
            alive = N - torch.cumsum(counts, 0)[:-1]  # rows with length > t
            batch_sizes = alive.tolist()
        lens_dev = lens.to(x.device)
        rev_idx = x.new_empty(0, dtype=torch.long)
        if self.bidirectional:
            t = torch.arange(L, device=x.device).unsqueeze(1)  # (L, 1)
            rev = lens_dev.unsqueeze(0) - 1 - t  # (L, N)
            rev_idx = torch.where(rev >= 0, rev, t.expand(L, N))  # padded steps stay put
        layer_in = x
        h_n, c_n, g_n = [], [], []
        D = len(self._suffixes)
        for layer in range(self.num_layers):
            outs = []
            for d, sfx in enumerate(self._suffixes):
                w = _layer_weights(self, f"l{layer}{sfx}")
                xin = layer_in
                if d == 1:  # reverse each sequence within its length
                    xin = layer_in.gather(0, rev_idx.unsqueeze(-1).expand_as(layer_in))
                Lx, Nx, Ix = xin.shape
                if w.b is not None:
                    xw = torch.addmm(w.b, xin.reshape(Lx * Nx, Ix), w.W.t())  # (L*N, G*H)
                else:
                    xw = torch.mm(xin.reshape(Lx * Nx, Ix), w.W.t())
                xw = xw.view(Lx, Nx, -1)  # (L, N, G*H)
                k = layer * D + d
                g0 = g0_all[k] if g0_all is not None else w.R.new_empty(0)
                y, y_last, c_last, g_last = _Recurrence.apply(
                    xw, h0_all[k], c0_all[k], g0, w.R, w.P, w.Rg, lens_dev, batch_sizes, self._plan
                )
                if d == 1:
                    y = y.gather(0, rev_idx.unsqueeze(-1).expand_as(y))
                outs.append(y)
                h_n.append(y_last)
                c_n.append(c_last)
                g_n.append(g_last)
            layer_in = outs[0] if D == 1 else torch.cat(outs, dim=2)  # (L, N, D*H)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_in = nn.functional.dropout(layer_in, self.dropout, True)
        out = layer_in
        hn = torch.stack(h_n, 0)  # (D*num_layers, N, H)
        cn = torch.stack(c_n, 0)
        gn = torch.stack(g_n, 0) if self.variant.full_gate_recurrence else None  # (D*nl, N, S*H)
        if order is not None:
            inv = torch.empty_like(order)
            inv[order] = torch.arange(N)
            inv = inv.to(x.device)
            out = out.index_select(1, inv)
            hn = hn.index_select(1, inv)
            cn = cn.index_select(1, inv)
            gn = gn.index_select(1, inv) if gn is not None else None
        return out, hn, cn, gn


class LSTMCell(nn.Module):
    r"""One time step of an LSTM of any variant, a drop-in for :class:`torch.nn.LSTMCell`.

    The parameters are those of a one-layer, one-direction :class:`LSTM`, with the same names and
    shapes (``weight_ih_l0``, ``weight_hh_l0``, ``bias_ih_l0``, ``bias_hh_l0``,
    ``weight_peep_l0``, ``weight_gg_l0``), so state dicts load either way and :meth:`from_lstm`
    copies an LSTM's; the same seed gives both the same initial weights. Stepping the cell along a
    sequence gives the LSTM's outputs, states and gradients, for every variant (with the 1997
    truncated gradient no error flows back through R y^{t-1}, as in the LSTM). torch.nn.LSTMCell
    names its parameters without the ``_l0`` suffix.

    Args:
        input_size: features of the input x (H_in).
        hidden_size: memory blocks (cells) (H).
        bias: whether the pre-activations have biases.
        variant: a preset name from :data:`VARIANTS` or an :class:`LSTMVariant`.
        device: where the parameters live.
        dtype: the parameters' floating-point type.

    Inputs: ``input, hx``
        * input: (N, H_in), or (H_in) unbatched.
        * hx: the state ``(h, c)``, each (N, H) (or (H) unbatched); zeros if omitted. FGR also
          takes ``(h, c, g)`` with g (N, S * H), the previous step's gates; g = 0 when left out.

    Outputs: the new state, ``(h_1, c_1)`` as :class:`torch.nn.LSTMCell`, ``(h_1, c_1, g_1)`` for
    FGR; h_1 = y^t is the cell's output.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        variant: str | LSTMVariant = "vanilla",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        _check_sizes("LSTMCell", input_size, hidden_size)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.variant = get_variant(variant)
        _register_parameters(self, self.variant, "l0", input_size, hidden_size, bias, device, dtype)
        self.reset_parameters()

    @classmethod
    def from_lstm(cls, lstm: LSTM) -> LSTMCell:
        """A cell with a copy of a one-layer, one-direction LSTM's variant and parameters."""
        if lstm.num_layers != 1 or lstm.bidirectional:
            raise RnnaiError(
                "LSTMCell.from_lstm expected a one-layer unidirectional LSTM, got "
                f"num_layers={lstm.num_layers}, bidirectional={lstm.bidirectional}"
            )
        w = _weight(lstm, "weight_ih_l0")
        cell = cls(
            lstm.input_size,
            lstm.hidden_size,
            bias=lstm.bias,
            variant=lstm.variant,
            device=w.device,
            dtype=w.dtype,
        )
        cell.load_state_dict(lstm.state_dict())
        return cell

    @property
    def gate_slices(self) -> dict[str, slice]:
        """Rows of each block (i, f, g, o; those with weights) in weight_ih, weight_hh, biases."""
        H = self.hidden_size
        return {g: slice(k * H, (k + 1) * H) for k, g in enumerate(self.variant.gates)}

    def reset_parameters(self) -> None:
        """Uniform(-1/sqrt(H), 1/sqrt(H)) for every weight, as torch.nn.LSTMCell."""
        _reset_uniform(self, self.hidden_size)

    def extra_repr(self) -> str:
        """Summary shown by print(module)."""
        s = f"{self.input_size}, {self.hidden_size}, variant={_variant_name(self.variant)}"
        return s if self.bias else s + ", bias=False"

    def forward(self, input: Tensor, hx: Sequence[Tensor] | None = None) -> tuple[Tensor, ...]:
        """One step; see the class docstring for shapes and state."""
        if not isinstance(input, Tensor) or input.dim() not in (1, 2):
            got = f"shape {tuple(input.shape)}" if isinstance(input, Tensor) else type(input)
            raise RnnaiError(f"LSTMCell expected a 1-D (H_in) or 2-D (N, H_in) input, got {got}")
        batched = input.dim() == 2
        expected = "(N, H_in)" if batched else "(H_in)"
        _check_features(
            "LSTMCell", input, self.input_size, expected, _weight(self, "weight_ih_l0").dtype
        )
        x = input if batched else input.unsqueeze(0)  # (N, H_in)
        if hx is None:
            h = c = x.new_zeros(x.shape[0], self.hidden_size)
            g = None
        else:
            lead = (x.shape[0],) if batched else ()
            h, c, g = _check_state("LSTMCell", hx, self.variant, lead, self.hidden_size)
            if not batched:
                h, c = h.unsqueeze(0), c.unsqueeze(0)
                g = g.unsqueeze(0) if g is not None else None
        if self.variant.is_torch_lstm:  # torch.nn.LSTMCell's own fused kernel
            W, R = _weight(self, "weight_ih_l0"), _weight(self, "weight_hh_l0")
            b_ih = _weight(self, "bias_ih_l0") if self.bias else None
            b_hh = _weight(self, "bias_hh_l0") if self.bias else None
            h1, c1 = torch._VF.lstm_cell(x, (h, c), W, R, b_ih, b_hh)
            g1 = None
        else:
            h1, c1, g1 = _cell_step(self.variant, x, h, c, g, _layer_weights(self, "l0"))
        if not batched:
            h1, c1 = h1.squeeze(0), c1.squeeze(0)
            g1 = g1.squeeze(0) if g1 is not None else None
        return _state_tuple(h1, c1, g1)
