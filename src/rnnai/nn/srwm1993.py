"""Schmidhuber's 1993 self-referential weight matrix: a recurrent net that rewrites its weights.

Paper (read this module beside it):

* J. Schmidhuber, "A 'self-referential' weight matrix", ICANN '93, pp. 446-451 (also "An
  'introspective' network that can learn to run its own weight change algorithm", ANN '93).

The net is a fully recurrent net whose activations can address its own connections. Units
(Sec. 2): the input units are the normal inputs x, the ``eval`` units (performance information,
one per normal output), the ``val`` unit (the weight just read) and, our addition, a constant bias
unit; the non-input units are the normal outputs o, hidden units, the ``ana`` units (which
connection to read), the ``mod`` units (which connection to change) and the Delta unit (by how
much). Every input unit feeds every non-input unit and every non-input unit feeds every non-input
unit: n_conn connections w_ij, each with a binary address adr(w_ij) of ceil(log2 n_conn) bits,
and as many ana units and mod units as address bits. With l(t) all units' activations::

    net_{y_k}(1) = 0,  y_k(t) = f_{y_k}(net_{y_k}(t)),
    net_{y_k}(t) = sum_l w_{y_k l}(t - 1) l(t - 1)                          (t > 1)          (1)
    val(1) = 0,  val(t + 1) = sum_{i,j} g[||ana(t) - adr(w_ij)||^2] w_ij(t)                 (2)
    w_ij(t + 1) = w_ij(t) + Delta(t) g[||mod(t) - adr(w_ij)||^2]                             (3)
    eval_k(t + 1) = d_k(t) - o_k(t) if the target d_k(t) exists, else 0
    E^total = sum_t E(t),  E(t) = 1/2 sum_k (d_k(t) - o_k(t))^2 over the targets that exist

g is differentiable, in [0, 1], with a narrow peak g(0) = 1: it picks out one connection without
cross-talk from the others. Only the initial weights w_ij(1) are trained, by the exact gradient of
E^total; everything after t = 1, including every change to the weights that compute the changes,
is the net's own doing.

Where Eq. 3 comes from. Every copy of the paper we could read (the IDSIA HTML version,
people.idsia.ch/~juergen/selfref/, and LaTeX transcriptions of the text) breaks off inside the
modification equation ("the network can quickly modify its current weights using mod(t) and
Delta(t) according to w_ij(t+1) = w_ij(t ..."). Its Sec. 3, which is readable, derives the
learning algorithm with q^{ij}_{ab}(t) = d w_ij(t) / d w_ab(1) and states::

    q^{ij}_{ab}(t) = q^{ij}_{ab}(t-1) + p^{Delta}_{ab}(t-1) g(||mod(t-1) - adr(w_ij)||^2) + ...

(p^u_{ab}(t) = d u(t) / d w_ab(1)): the derivative of exactly Eq. 3 above (the elided terms are
those of g's argument, through p^{mod_m}). Eq. 3 is therefore read off the paper's own derivative,
not guessed from Eq. 2; the eval units and E^total likewise from its "p^{eval_k}_{ab}(t + 1) =
-p^{o_k}_{ab}(t) if d_k(t) exists, and 0 otherwise" and the gradient sum_k eval_k(t+1) p^{o_k}.

Choices where the text is silent (ours):

* g(s) = exp(-s / ``width``), ``width`` = 0.1 by default: distinct binary addresses are at least 1
  apart, so a read at an exact address picks up exp(-10) ~ 4.5e-5 of each nearest neighbour.
* f: the logistic sigmoid for the outputs, hidden, ana and mod units (ana and mod then lie in the
  addresses' range [0, 1]); tanh for Delta, so that a change has either sign and is bounded.
* A constant bias input unit (``bias=True``); the paper lists no bias.
* Address of w_{y_k l}: the binary code of its raster index k * n_units + l, most significant bit
  first; connections are rows (non-input unit k) by columns (any unit l, inputs first).
* The gradient is computed by backpropagation through time (autograd) instead of the paper's
  forward recursion of p and q: the same exact gradient of E^total with respect to w(1), in
  O(n_conn log n_conn) time per step (the paper's figure for its algorithm) but with memory
  growing with the sequence length. The paper holds each input pattern for n_r steps to give the
  net time for reading and writing; `hold` repeats the inputs of a sequence so.

The paper reports no experiment (its point is that such a net and its exact gradient exist, and
it warns of a complex error surface with many local minima); none is reproduced here.

Examples:
    >>> import torch
    >>> from rnnai.nn.srwm1993 import SelfReferentialNet1993, hold
    >>> net = SelfReferentialNet1993(2, 1, n_hidden=3, generator=torch.Generator().manual_seed(0))
    >>> net.n_address_bits, net.n_connections          # 10 address bits for 750 connections
    (10, 750)
    >>> x = hold(torch.rand(4, 5, 2), 3)                # (N, T, inputs), each step held 3 times
    >>> out = net(x, targets=torch.rand(4, 15, 1))
    >>> tuple(out.outputs.shape), tuple(out.weights.shape)
    ((4, 15, 1), (4, 25, 30))
    >>> bool(out.error > 0)
    True
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from rnnai.runtime.errors import RnnaiError

__all__ = [
    "SRWM1993Layout",
    "SRWM1993Output",
    "SelfReferentialNet1993",
    "address_bits",
    "hold",
    "srwm1993_layout",
]


@dataclass(frozen=True)
class SRWM1993Layout:
    """Where each kind of unit sits (column indices of the weight matrix; see `srwm1993_layout`)."""

    n_inputs: int
    """Normal input units x."""
    n_outputs: int
    """Normal output units o (and eval units, one per output)."""
    n_hidden: int
    """Hidden non-input units."""
    n_bits: int
    """Address bits = ana units = mod units = ceil(log2 n_conn)."""
    bias: bool
    """Whether a constant bias input unit is present."""

    @property
    def n_input_units(self) -> int:
        """Input units: x, the bias unit, eval, val."""
        return self.n_inputs + int(self.bias) + self.n_outputs + 1

    @property
    def n_noninput_units(self) -> int:
        """Non-input units: o, hidden, ana, mod, Delta."""
        return self.n_outputs + self.n_hidden + 2 * self.n_bits + 1

    @property
    def n_units(self) -> int:
        """All units (the columns of the weight matrix)."""
        return self.n_input_units + self.n_noninput_units

    @property
    def n_connections(self) -> int:
        """n_conn: every unit to every non-input unit."""
        return self.n_noninput_units * self.n_units

    def noninput_slices(self) -> dict[str, slice]:
        """Row ranges (among the non-input units) of o, hidden, ana, mod and Delta."""
        o, h, b = self.n_outputs, self.n_hidden, self.n_bits
        return {
            "o": slice(0, o),
            "hidden": slice(o, o + h),
            "ana": slice(o + h, o + h + b),
            "mod": slice(o + h + b, o + h + 2 * b),
            "delta": slice(o + h + 2 * b, o + h + 2 * b + 1),
        }


def srwm1993_layout(
    n_inputs: int, n_outputs: int, n_hidden: int, bias: bool = True
) -> SRWM1993Layout:
    """Lay out the units and find the address width b = ceil(log2 n_conn), which n_conn depends on.

    Args:
        n_inputs: Normal input units.
        n_outputs: Normal output units.
        n_hidden: Hidden units.
        bias: Add a constant bias input unit.

    Returns:
        The layout with the smallest b such that 2^b >= n_conn(b).

    Raises:
        RnnaiError: If a size is negative or there are no inputs or outputs.
    """
    if n_inputs < 1 or n_outputs < 1 or n_hidden < 0:
        raise RnnaiError(
            "SelfReferentialNet1993 needs n_inputs >= 1, n_outputs >= 1 and n_hidden >= 0, got "
            f"{n_inputs}, {n_outputs} and {n_hidden}"
        )
    bits = 1
    while True:
        layout = SRWM1993Layout(n_inputs, n_outputs, n_hidden, bits, bias)
        if 2**bits >= layout.n_connections:
            return layout
        bits += 1


def address_bits(n_connections: int, n_bits: int) -> Tensor:
    """(n_connections, n_bits) float64 binary codes of 0 .. n_connections - 1, MSB first."""
    if n_connections < 1 or 2**n_bits < n_connections:
        raise RnnaiError(f"{n_bits} bits cannot address {n_connections} connections")
    index = torch.arange(n_connections).unsqueeze(1)
    shifts = torch.arange(n_bits - 1, -1, -1)
    return ((index >> shifts) & 1).to(torch.float64)


def hold(x: Tensor, n_r: int) -> Tensor:
    """Hold each step of x (N, T, F) for n_r steps: (N, T n_r, F), the paper's input timing."""
    if x.dim() != 3 or n_r < 1:
        raise RnnaiError(f"hold expects x (N, T, F) and n_r >= 1, got {tuple(x.shape)} and {n_r}")
    return x.repeat_interleave(n_r, dim=1)


@dataclass(frozen=True)
class SRWM1993Output:
    """What `SelfReferentialNet1993.forward` returns.

    Attributes:
        outputs: (N, T, n_outputs) o(t) for t = 1 .. T.
        weights: (N, n_noninput, n_units) w(T + 1), the weights after the last step's change.
        error: E^total summed over the batch (0 without targets).
        val: (N, T) val(t), the weight read at each step.
    """

    outputs: Tensor
    weights: Tensor
    error: Tensor
    val: Tensor


class SelfReferentialNet1993(nn.Module):
    """The 1993 self-referential recurrent net (Eqs. 1-3 and the eval units; see module docstring).

    Args:
        n_inputs: Normal input units.
        n_outputs: Normal output units (eval units: as many).
        n_hidden: Hidden units.
        width: g(s) = exp(-s / width).
        bias: Add a constant bias input unit.
        init_scale: Initial weights w(1) uniform in [-init_scale, init_scale].
        generator: Draws w(1) (default: torch's global generator).

    Attributes:
        weight: (n_noninput, n_units) the trainable initial weights w(1); column order x, bias,
            eval, val, then the non-input units o, hidden, ana, mod, Delta (as the rows).
        layout: The unit layout; n_address_bits, n_connections: its b and n_conn.
    """

    address: Tensor

    def __init__(
        self,
        n_inputs: int,
        n_outputs: int,
        *,
        n_hidden: int = 0,
        width: float = 0.1,
        bias: bool = True,
        init_scale: float = 0.5,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        if not width > 0 or not init_scale >= 0:
            raise RnnaiError(f"width must be > 0 and init_scale >= 0, got {width} and {init_scale}")
        self.layout = srwm1993_layout(n_inputs, n_outputs, n_hidden, bias)
        self.width = float(width)
        lay = self.layout
        w = (
            torch.rand(lay.n_noninput_units, lay.n_units, generator=generator) * 2 - 1
        ) * init_scale
        self.weight = nn.Parameter(w)
        self.register_buffer(
            "address", address_bits(lay.n_connections, lay.n_bits).to(torch.get_default_dtype())
        )

    @property
    def n_address_bits(self) -> int:
        """b, the number of ana units, of mod units and of address bits."""
        return self.layout.n_bits

    @property
    def n_connections(self) -> int:
        """n_conn."""
        return self.layout.n_connections

    def g(self, sq_dist: Tensor) -> Tensor:
        """The address-matching function g(s) = exp(-s / width), g(0) = 1."""
        return torch.exp(-sq_dist / self.width)

    def _match(self, code: Tensor, address: Tensor) -> Tensor:
        """g(||code - adr(w_ij)||^2) for every connection: (N, b) -> (N, n_conn)."""
        return self.g(torch.cdist(code, address).square())

    def forward(
        self, x: Tensor, targets: Tensor | None = None, mask: Tensor | None = None
    ) -> SRWM1993Output:
        """Run the net over a sequence, feeding each output's error back through the eval units.

        Args:
            x: (N, T, n_inputs) inputs x(1) .. x(T).
            targets: (N, T, n_outputs) d(t), or None (no targets: eval stays 0).
            mask: (N, T) bool, whether d(t) exists (default: wherever targets are given).

        Returns:
            `SRWM1993Output` (outputs o(1..T), w(T + 1), E^total, val).

        Raises:
            RnnaiError: If the shapes do not fit the net.
        """
        lay = self.layout
        if x.dim() != 3 or x.shape[2] != lay.n_inputs or x.shape[1] < 1:
            raise RnnaiError(
                f"SelfReferentialNet1993 expects x (N, T >= 1, {lay.n_inputs}), "
                f"got {tuple(x.shape)}"
            )
        N, T, _ = x.shape
        if targets is not None and tuple(targets.shape) != (N, T, lay.n_outputs):
            raise RnnaiError(
                f"targets must have shape {(N, T, lay.n_outputs)}, got {tuple(targets.shape)}"
            )
        if mask is not None and (targets is None or tuple(mask.shape) != (N, T)):
            raise RnnaiError(f"mask needs targets and shape {(N, T)}, got {tuple(mask.shape)}")
        sl = lay.noninput_slices()
        address = self.address.to(x.dtype)
        w = self.weight.to(x.dtype).unsqueeze(0).expand(N, -1, -1)  # w(1), (N, n_Y, n_U)
        y = torch.sigmoid(x.new_zeros(N, lay.n_noninput_units))  # net(1) = 0
        y = torch.cat([y[:, : sl["delta"].start], torch.tanh(x.new_zeros(N, 1))], 1)
        ones = x.new_ones(N, int(lay.bias))
        eval_t = x.new_zeros(N, lay.n_outputs)
        val_t = x.new_zeros(N, 1)
        present = (
            None
            if targets is None
            else (
                torch.ones(N, T, dtype=torch.bool, device=x.device) if mask is None else mask.bool()
            )
        )
        outputs, vals = [], []
        error = x.new_zeros(())
        for t in range(T):
            units = torch.cat([x[:, t], ones, eval_t, val_t, y], 1)  # l(t), (N, n_U)
            o_t = y[:, sl["o"]]
            outputs.append(o_t)
            vals.append(val_t[:, 0])
            ana, mod, delta = y[:, sl["ana"]], y[:, sl["mod"]], y[:, sl["delta"]]
            net = torch.bmm(w, units.unsqueeze(2)).squeeze(2)  # Eq. 1: net(t + 1) = w(t) l(t)
            w_flat = w.reshape(N, -1)
            val_t = (self._match(ana, address) * w_flat).sum(1, keepdim=True)  # Eq. 2
            w = (w_flat + delta * self._match(mod, address)).view_as(w)  # Eq. 3
            if targets is not None and present is not None:
                e = (targets[:, t] - o_t) * present[:, t, None].to(x.dtype)
                eval_t = e  # eval(t + 1) = d(t) - o(t) where d(t) exists
                error = error + 0.5 * e.square().sum()
            y = torch.cat(
                [torch.sigmoid(net[:, : sl["delta"].start]), torch.tanh(net[:, sl["delta"]])], 1
            )
        return SRWM1993Output(
            outputs=torch.stack(outputs, 1), weights=w, error=error, val=torch.stack(vals, 1)
        )

    def extra_repr(self) -> str:
        """Sizes, for ``print(module)``."""
        lay = self.layout
        return (
            f"inputs={lay.n_inputs}, outputs={lay.n_outputs}, hidden={lay.n_hidden}, "
            f"address_bits={lay.n_bits}, connections={lay.n_connections}, width={self.width}"
        )
