"""The papers' own LSTM learner: truncated RTRL forward in time, one sequence (or step) at a time.

Papers:

* S. Hochreiter & J. Schmidhuber, "Long Short-Term Memory", Neural Computation 9(8):1735-1780,
  1997; the learning algorithm is its appendix A.1-A.2 (truncated backprop computed forward in
  time with the partial derivatives d s_c / d w kept per weight).
* F. A. Gers, J. Schmidhuber & F. Cummins, "Learning to Forget: Continual Prediction with LSTM",
  Neural Computation 12(10):2451-2471, 2000 (forget gates; the algorithm in its appendix).
* F. A. Gers, N. N. Schraudolph & J. Schmidhuber, "Learning Precise Timing with LSTM Recurrent
  Networks", JMLR 3:115-143, 2002 (peephole connections from the cells to their block's gates;
  the algorithm in its appendix; momentum).

The net (batch 1, float64): input units x, B memory blocks of S cells each (C = B S cells), each
block with an input gate "in", an output gate "out" and, optionally, a forget gate "phi" shared
by its cells, and K output units. Every cell and gate sees the source vector

    u(t) = (1, x(t), y^c(t-1) [, y^in(t-1), y^out(t-1), y^phi(t-1)])

(the bracket: ``gate_recurrence``, the 1997 nets' fully connected hidden layer). For block j and
its cell c = (j, v), with f the logistic sigmoid, g and h the cell input and output squashing::

    y^in_j(t)  = f(sum_m w_{in_j m} u_m(t) + sum_v' p^in_{j v'} s_{j v'}(t-1))     input gate
    y^phi_j(t) = f(sum_m w_{phi_j m} u_m(t) + sum_v' p^phi_{j v'} s_{j v'}(t-1))   forget gate
    s_c(t)     = y^phi_j(t) s_c(t-1) + y^in_j(t) g(sum_m w_{c m} u_m(t))    CEC (1997: phi = 1)
    y^out_j(t) = f(sum_m w_{out_j m} u_m(t) + sum_v' p^out_{j v'} s_{j v'}(t))     output gate
    y^c(t)     = y^out_j(t) h(s_c(t))
    y^k(t)     = f_k(w_{k 0} + sum_c w_{k c} y^c(t) [+ sum_i w_{k i} x_i(t)])     output units

(p: peephole weights, with ``peepholes``; the bracket in y^k: ``shortcuts``, input-to-output
connections; f_k the logistic sigmoid or the identity). The error is
E(t) = 1/2 sum_k mask(t) (y^k(t) - t^k(t))^2.

The truncated gradient. As in the 1997 appendix, errors arriving at the net inputs of cells and
gates are not propagated back in time: u(t) counts as a constant, and only the CEC carries error
backwards. Then dE(t)/dw needs, for every weight w into a cell or a gate that changes s, the
partial derivative dS_{v,w}(t) = d s_v(t) / d w (``traces``), updated forward in time::

    dS_{c, w_cm}(t)     = y^phi dS_{c, w_cm}(t-1)     + g'(net_c) y^in u_m(t)
    dS_{c, w_in m}(t)   = y^phi dS_{c, w_in m}(t-1)   + g(net_c) f'(net_in) u_m(t)
    dS_{c, w_phi m}(t)  = y^phi dS_{c, w_phi m}(t-1)  + s_c(t-1) f'(net_phi) u_m(t)

(peephole weights into the input and forget gates likewise, with s_{v'}(t-1) in place of u_m).
With e_s_c(t) = y^out h'(s_c) sum_k w_{k c} delta_k and delta_k = f_k'(net_k)(y^k - t^k), the
gradient at time t is dE/dw = sum_v e_s_v(t) dS_{v,w}(t) for those weights; backprop gives the
rest: dE/dw_{out_j m} = f'(net_out) (sum_v h(s_v) sum_k w_{k v} delta_k) u_m, dE/dp^out_{j v} the
same with s_v(t) in place of u_m, dE/dw_{k m} = delta_k z_m. Summed over a sequence with the
weights held fixed, this is exactly the gradient of sum_t E(t) when u(t) and the peephole inputs
are cut from the graph (torch's ``detach``); the tests hold it to a float64 autograd graph built
that way and to `rnnai.nn.lstm` (variants ``lstm1997``, forget gates, peepholes) to 1e-10.

Peephole errors. Gers et al. 2002 do not propagate errors from the gates back to the cells
through the peephole connections (our reading of their appendix; see below). That is the default
(``peephole_error=False``): peephole inputs are constants like u(t). With ``peephole_error=True``
errors do flow through the peepholes: e_s gains delta_out p^out, and the traces mix the cells of
a block, dS_v(t) = sum_v' M_{v v'} dS_v'(t-1) + local terms with M_{v v'} = y^phi [v = v'] +
(d s_v / d net_in) p^in_{v'} + (d s_v / d net_phi) p^phi_{v'} -- the gradient `rnnai.nn.lstm`
computes with ``truncate_gradient=True`` and peepholes (its truncation cuts only R y(t-1)).

Updates: ``update="sequence"`` accumulates the gradient over a sequence and changes the weights
at its end; ``update="step"`` changes them after every time step while the traces run on (the
RTRL way: traces computed under older weights are kept). Delta w(t) = momentum Delta w(t-1) -
lr dE/dw (plain SGD for momentum 0). ``reset=True`` zeroes the cell states, the last outputs and
gates and the traces before each sequence; ``reset=False`` carries them on (continual streams).

Initialization: every weight uniform in [-init_range, init_range]; then the gate biases (the
weights from the bias source u_0 = 1) are set per block from ``input_gate_bias``,
``output_gate_bias``, ``forget_gate_bias`` when given (cycled over the blocks): the 1997 paper
gives output gates (and sometimes input gates) negative initial biases, block by block, and
Gers et al. 2000 positive forget-gate biases.

Sources checked, and what could not be. The equations above are those of the 1997 appendix, the
2000 appendix and the 2002 paper as we transcribe them; the papers' own text was not at hand when
this module was written (only their abstracts and secondary summaries were), so four details
rest on our reading and are recorded as such: (1) that the 2002 algorithm sends no error through
the peepholes (the default here; ``peephole_error=True`` is the alternative); (2) the momentum
form Delta w(t) = m Delta w(t-1) - lr dE/dw; (3) which experiment updates per step and which per
sequence (left to the caller; both are provided); (4) which sources the 1997 nets' cells and
gates see (``gate_recurrence`` adds the gates' previous activations, a fully connected hidden
layer). What the tests do establish is independent of those readings: the online gradient is the
exact gradient of the graph cut as stated. Conventional hidden units (used in a few 1997
experiments) are not provided.

Speed: one numba kernel (`rnnai.nn._lstm_online_kernels.run_sequences`) runs whole sequences,
and `OnlineLSTM.train_sequences` many of them, in a single call; cost per step is
O(C U (1 + S [peephole_error])) for the traces. Meant for the papers' nets (up to ~32 cells).

Examples:
    The 1997 embedded-Reber net (3 blocks of 2 cells, negative output-gate biases), one
    training sequence with an update at its end:

    >>> import numpy as np
    >>> cfg = OnlineLSTMConfig(input_size=7, output_size=7, blocks=3, cells_per_block=2,
    ...                        init_range=0.2, output_gate_bias=(-1.0, -2.0, -3.0))
    >>> net = OnlineLSTM(cfg, seed=0)
    >>> net.params["W_out"][:, 0]  # the output gates' biases
    array([-1., -2., -3.])
    >>> rng = np.random.default_rng(0)
    >>> x = np.eye(7)[rng.integers(0, 7, 12)]  # (T, I) one-hot inputs
    >>> loss0 = net.train_sequence(x, x, lr=0.5)
    >>> loss1 = net.train_sequence(x, x, lr=0.5)
    >>> loss1 < loss0
    True

    The gradient of one sequence (weights unchanged), and forget gates with peepholes:

    >>> loss, grads = net.gradient(x, x)
    >>> grads["W_c"].shape  # (C, U): C = 6 cells, U = 1 + 7 + 6 sources
    (6, 14)
    >>> gers = OnlineLSTM(OnlineLSTMConfig(input_size=1, output_size=1, forget_gate=True,
    ...                                    peepholes=True, cell_output="identity"), seed=1)
    >>> sorted(gers.params)
    ['W_c', 'W_in', 'W_k', 'W_out', 'W_phi', 'p_in', 'p_out', 'p_phi']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnai.nn._lstm_online_kernels import (
    MODE_FORWARD,
    MODE_GRADIENT,
    MODE_SEQUENCE,
    MODE_STEP,
    run_sequences,
    state_size,
)
from rnnai.nn.lstm import ACTIVATIONS
from rnnai.runtime.errors import RnnaiError

__all__ = ["OnlineLSTM", "OnlineLSTMConfig", "PARAM_NAMES"]

PARAM_NAMES = ("W_c", "W_in", "W_phi", "W_out", "p_in", "p_phi", "p_out", "W_k")
"""The parameter blocks, in their order in the flat vector (those a net has)."""

_OUTPUT_SQUASHING = ("sigmoid", "identity")
_UPDATES = ("sequence", "step")


@dataclass(frozen=True, kw_only=True)
class OnlineLSTMConfig:
    """An LSTM net of the 1997-2002 papers and what its learner computes.

    Examples:
        >>> OnlineLSTMConfig(input_size=7, output_size=7, blocks=3, cells_per_block=2).cells
        6
    """

    input_size: int
    """Input units I."""
    output_size: int
    """Output units K."""
    blocks: int = 1
    """Memory blocks B."""
    cells_per_block: int = 1
    """Cells S per block, sharing the block's gates."""
    forget_gate: bool = False
    """Forget gates (Gers et al. 2000); False: the 1997 CEC with self-weight 1."""
    peepholes: bool = False
    """Peephole weights from a block's cells to its gates (Gers et al. 2002)."""
    peephole_error: bool = False
    """Propagate errors through the peepholes (False: Gers et al. 2002; see the module)."""
    gate_recurrence: bool = False
    """The gates' previous activations are sources of every cell and gate (1997)."""
    shortcuts: bool = False
    """Input-to-output connections."""
    cell_input: str = "g1997"
    """g: "g1997" (4 sigma - 2), "tanh" or "identity" (`rnnai.nn.lstm.ACTIVATIONS`)."""
    cell_output: str = "h1997"
    """h: "h1997" (2 sigma - 1), "tanh" or "identity"."""
    output_squashing: str = "sigmoid"
    """Output units f_k: "sigmoid" (the papers' classification tasks) or "identity"."""
    init_range: float = 0.1
    """Weights uniform in [-init_range, init_range]."""
    input_gate_bias: tuple[float, ...] = ()
    """Initial input-gate biases per block, cycled; () keeps the random draw."""
    output_gate_bias: tuple[float, ...] = ()
    """Initial output-gate biases per block, cycled (1997: negative, e.g. -1, -2, -3)."""
    forget_gate_bias: tuple[float, ...] = ()
    """Initial forget-gate biases per block, cycled (2000: positive)."""

    def __post_init__(self) -> None:
        for name in ("input_size", "output_size", "blocks", "cells_per_block"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise RnnaiError(f"OnlineLSTMConfig {name} must be a positive int, got {value!r}")
        for name in ("cell_input", "cell_output"):
            value = getattr(self, name)
            if value not in ACTIVATIONS:
                raise RnnaiError(
                    f"OnlineLSTMConfig {name} must be one of {sorted(ACTIVATIONS)}, got {value!r}"
                )
        if self.output_squashing not in _OUTPUT_SQUASHING:
            raise RnnaiError(
                f"OnlineLSTMConfig output_squashing must be one of {list(_OUTPUT_SQUASHING)}, "
                f"got {self.output_squashing!r}"
            )
        if not (isinstance(self.init_range, int | float) and self.init_range > 0):
            raise RnnaiError(f"OnlineLSTMConfig init_range must be > 0, got {self.init_range!r}")
        for name in ("input_gate_bias", "output_gate_bias", "forget_gate_bias"):
            values = getattr(self, name)
            if not isinstance(values, tuple) or not all(
                isinstance(b, int | float) and np.isfinite(b) for b in values
            ):
                raise RnnaiError(
                    f"OnlineLSTMConfig {name} must be a tuple of finite numbers, got {values!r}"
                )
        if self.forget_gate_bias and not self.forget_gate:
            raise RnnaiError("OnlineLSTMConfig forget_gate_bias needs forget_gate=True")
        if self.peephole_error and not self.peepholes:
            raise RnnaiError("OnlineLSTMConfig peephole_error needs peepholes=True")

    @property
    def cells(self) -> int:
        """C = blocks x cells_per_block."""
        return self.blocks * self.cells_per_block

    @property
    def sources(self) -> int:
        """U: bias, inputs, cell outputs (and the gates' previous activations)."""
        gates = (2 + int(self.forget_gate)) * self.blocks if self.gate_recurrence else 0
        return 1 + self.input_size + self.cells + gates

    @property
    def output_fan_in(self) -> int:
        """Z: bias, cell outputs (and inputs with shortcuts)."""
        return 1 + self.cells + (self.input_size if self.shortcuts else 0)

    def shapes(self) -> dict[str, tuple[int, int]]:
        """The parameter blocks this net has, by name, with their shapes (in flat order)."""
        B, S, U = self.blocks, self.cells_per_block, self.sources
        out: dict[str, tuple[int, int]] = {"W_c": (self.cells, U), "W_in": (B, U)}
        if self.forget_gate:
            out["W_phi"] = (B, U)
        out["W_out"] = (B, U)
        if self.peepholes:
            out["p_in"] = (B, S)
            if self.forget_gate:
                out["p_phi"] = (B, S)
            out["p_out"] = (B, S)
        out["W_k"] = (self.output_size, self.output_fan_in)
        return out


def _alpha_beta(name: str) -> tuple[float, float]:
    ab = ACTIVATIONS[name]
    return (0.0, 0.0) if ab is None else ab


def _as_2d(name: str, a: Any, width: int) -> np.ndarray:
    """A C-contiguous (T, width) float64 array (finiteness is checked by the kernel)."""
    if not (isinstance(a, np.ndarray) and a.dtype == np.float64 and a.flags.c_contiguous):
        try:
            a = np.ascontiguousarray(a, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise RnnaiError(
                f"{name} must be a (T, {width}) array of real numbers: {err}"
            ) from None
    if a.ndim != 2 or a.shape[1] != width or a.shape[0] < 1:
        raise RnnaiError(f"{name} must have shape (T, {width}) with T >= 1, got {a.shape}")
    return a


_KERNEL_ERRORS = {
    1: "inputs x must be finite, got NaN or inf",
    2: "targets must be finite, got NaN or inf",
    3: "masks must be finite and >= 0",
}


class OnlineLSTM:
    """An LSTM net trained online by the papers' truncated RTRL (see the module docstring).

    Args:
        config: The net and its gradient.
        seed: An int seed or a ``numpy.random.Generator`` for the initial weights.

    Attributes:
        config: The configuration.
        theta: All parameters, one flat float64 vector (order: `PARAM_NAMES`).
        velocity: The momentum buffer Delta w (same layout).
    """

    def __init__(self, config: OnlineLSTMConfig, seed: int | np.random.Generator = 0) -> None:
        if not isinstance(config, OnlineLSTMConfig):
            raise RnnaiError(
                f"OnlineLSTM expected an OnlineLSTMConfig, got {type(config).__name__}"
            )
        if isinstance(seed, np.random.Generator):
            rng = seed
        elif isinstance(seed, int | np.integer) and not isinstance(seed, bool):
            rng = np.random.default_rng(int(seed))
        else:
            raise RnnaiError(f"seed must be an int or a numpy Generator, got {seed!r}")
        self.config = config
        c = config
        self._dims = np.array(
            [c.input_size, c.output_size, c.blocks, c.cells_per_block, c.forget_gate,
             c.peepholes, c.peephole_error, c.gate_recurrence, c.shortcuts,
             c.output_squashing == "sigmoid"],
            dtype=np.int64,
        )  # fmt: skip
        self._acts = np.array([*_alpha_beta(c.cell_input), *_alpha_beta(c.cell_output)])
        self._slices: dict[str, tuple[slice, tuple[int, int]]] = {}
        start = 0
        for name, shape in c.shapes().items():
            self._slices[name] = (slice(start, start + shape[0] * shape[1]), shape)
            start += shape[0] * shape[1]
        self.theta = rng.uniform(-c.init_range, c.init_range, start)
        self.velocity = np.zeros(start)
        self._grad = np.zeros(start)
        self._state = np.zeros(int(state_size(self._dims)))
        p = self.params
        for name, values in (
            ("W_in", c.input_gate_bias),
            ("W_out", c.output_gate_bias),
            ("W_phi", c.forget_gate_bias),
        ):
            if values:
                p[name][:, 0] = [values[j % len(values)] for j in range(c.blocks)]

    # ------------------------------------------------------------------ parameters and state
    @property
    def params(self) -> dict[str, np.ndarray]:
        """The parameter blocks as writable views of `theta` (see `OnlineLSTMConfig.shapes`).

        Columns of W_c, W_in, W_phi, W_out follow u = (1, x, y^c(t-1), [y^in, y^out, y^phi]);
        columns of W_k follow (1, y^c, [x]); p_*[j, v] is the peephole from cell v of block j.
        """
        return {n: self.theta[s].reshape(shape) for n, (s, shape) in self._slices.items()}

    def _unflatten(self, flat: np.ndarray) -> dict[str, np.ndarray]:
        return {n: flat[s].reshape(shape).copy() for n, (s, shape) in self._slices.items()}

    def reset_state(self) -> None:
        """Zero the cell states, last outputs and gates, and the traces."""
        self._state[:] = 0.0

    @property
    def cell_state(self) -> np.ndarray:
        """s_c after the last step, (C,) (a copy)."""
        return self._state[: self.config.cells].copy()

    def state_dict(self) -> dict[str, np.ndarray]:
        """Parameters, momentum buffer and recurrent state/traces as arrays (for safetensors)."""
        return {
            "theta": self.theta.copy(),
            "velocity": self.velocity.copy(),
            "state": self._state.copy(),
        }

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Restore what `state_dict` returned (shapes must match this config)."""
        for key, own in (
            ("theta", self.theta),
            ("velocity", self.velocity),
            ("state", self._state),
        ):
            if key not in state:
                raise RnnaiError(f"state dict lacks {key!r}; expected theta, velocity, state")
            arr = np.asarray(state[key], dtype=np.float64)
            if arr.shape != own.shape:
                raise RnnaiError(f"state dict {key} must have shape {own.shape}, got {arr.shape}")
            own[:] = arr

    # ------------------------------------------------------------------ running
    def _check_sequences(
        self,
        xs: Sequence[Any],
        targets: Sequence[Any] | None,
        masks: Sequence[Any] | None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        c = self.config
        if isinstance(xs, np.ndarray) or not isinstance(xs, Sequence) or len(xs) == 0:
            raise RnnaiError("expected a non-empty list of (T, I) input arrays")
        n = len(xs)
        if targets is not None and len(targets) != n:
            raise RnnaiError(f"expected {n} target arrays (one per sequence), got {len(targets)}")
        if masks is not None and len(masks) != n:
            raise RnnaiError(f"expected {n} masks (one per sequence), got {len(masks)}")
        x_list = [_as_2d(f"x[{k}]", a, c.input_size) for k, a in enumerate(xs)]
        lengths = np.array([a.shape[0] for a in x_list], dtype=np.int64)
        starts = np.zeros(n, dtype=np.int64)
        if n > 1:
            starts[1:] = np.cumsum(lengths)[:-1]
        total = int(lengths.sum())
        x = np.concatenate(x_list) if n > 1 else x_list[0]
        if targets is None:
            y = np.zeros((total, c.output_size))
        else:
            y_list = [_as_2d(f"target[{k}]", a, c.output_size) for k, a in enumerate(targets)]
            for k, (a, T) in enumerate(zip(y_list, lengths, strict=True)):
                if a.shape[0] != T:
                    raise RnnaiError(
                        f"target[{k}] must have {T} steps like its input, got {a.shape[0]}"
                    )
            y = np.concatenate(y_list) if n > 1 else y_list[0]
        if masks is None:
            mask = np.ones(total)
        else:
            m_list = []
            for k, (a, T) in enumerate(zip(masks, lengths, strict=True)):
                m = np.asarray(a, dtype=np.float64)
                if m.shape != (T,):
                    raise RnnaiError(f"mask[{k}] must have shape ({T},), got {np.shape(a)}")
                m_list.append(m)
            mask = np.concatenate(m_list) if n > 1 else np.ascontiguousarray(m_list[0])
        return x, y, mask, starts, lengths

    def _check_one(
        self, x: Any, target: Any, mask: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """`_check_sequences` for one sequence, with less Python per call (the common case)."""
        c = self.config
        xa = _as_2d("x", x, c.input_size)
        T = xa.shape[0]
        if target is None:
            y = np.zeros((T, c.output_size))
        else:
            y = _as_2d("target", target, c.output_size)
            if y.shape[0] != T:
                raise RnnaiError(f"target must have {T} steps like its input, got {y.shape[0]}")
        if mask is None:
            m = np.ones(T)
        else:
            m = np.ascontiguousarray(mask, dtype=np.float64)
            if m.shape != (T,):
                raise RnnaiError(f"mask must have shape ({T},), got {np.shape(mask)}")
        return xa, y, m, np.zeros(1, dtype=np.int64), np.array([T], dtype=np.int64)

    def _run(
        self,
        data: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
        mode: int,
        reset: bool,
        lr: float = 0.0,
        momentum: float = 0.0,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        x, y, mask, starts, lengths = data
        out = np.empty((x.shape[0], self.config.output_size))
        losses = np.empty(len(lengths))
        code = run_sequences(
            self.theta, self._grad, self.velocity, self._dims, self._acts, self._state,
            x, y, mask, starts, lengths, mode, bool(reset), float(lr), float(momentum),
            out, losses,
        )  # fmt: skip
        if code:
            raise RnnaiError(_KERNEL_ERRORS[code])
        return out, losses, starts

    def predict(self, x: Any, *, reset: bool = True) -> np.ndarray:
        """Outputs y^k(t), (T, K), for inputs (T, I); the weights are not changed."""
        out, _, _ = self._run(self._check_one(x, None, None), MODE_FORWARD, reset)
        return out

    def predict_sequences(self, xs: Sequence[Any], *, reset: bool = True) -> list[np.ndarray]:
        """Outputs of many sequences in one kernel call, [(T_n, K)]; weights unchanged.

        With ``reset`` every sequence starts from the zero state (a test set); without it the
        sequences continue one another (a stream cut into pieces).
        """
        out, _, starts = self._run(self._check_sequences(xs, None, None), MODE_FORWARD, reset)
        ends = [*starts[1:].tolist(), out.shape[0]]
        return [out[a:b] for a, b in zip(starts.tolist(), ends, strict=True)]

    def gradient(
        self, x: Any, target: Any, mask: Any = None, *, reset: bool = True
    ) -> tuple[float, dict[str, np.ndarray]]:
        """The truncated gradient dE/dw of one sequence, computed online, weights unchanged.

        Args:
            x: Inputs (T, I).
            target: Targets (T, K).
            mask: (T,) weights of the steps' errors (default: all 1).
            reset: Start from the zero state (False: continue the current one).

        Returns:
            E = 1/2 sum_t mask(t) |y(t) - target(t)|^2 and dE/dw by parameter block.
        """
        self._grad[:] = 0.0
        _, losses, _ = self._run(self._check_one(x, target, mask), MODE_GRADIENT, reset)
        grads = self._unflatten(self._grad)
        self._grad[:] = 0.0
        return float(losses[0]), grads

    def train_sequence(
        self,
        x: Any,
        target: Any,
        mask: Any = None,
        *,
        lr: float,
        momentum: float = 0.0,
        update: str = "sequence",
        reset: bool = True,
    ) -> float:
        """Train on one sequence; see `train_sequences`. Returns its error E (before updates)."""
        mode = self._check_training(lr, momentum, update)
        data = self._check_one(x, target, mask)
        return float(self._run(data, mode, reset, lr, momentum)[1][0])

    @staticmethod
    def _check_training(lr: Any, momentum: Any, update: Any) -> int:
        """The kernel mode for `update`, after checking lr and momentum."""
        if update not in _UPDATES:
            raise RnnaiError(f"update must be one of {list(_UPDATES)}, got {update!r}")
        if not (isinstance(lr, int | float) and np.isfinite(lr) and lr >= 0):
            raise RnnaiError(f"lr must be a finite number >= 0, got {lr!r}")
        if not (isinstance(momentum, int | float) and 0 <= momentum < 1):
            raise RnnaiError(f"momentum must be in [0, 1), got {momentum!r}")
        return MODE_SEQUENCE if update == "sequence" else MODE_STEP

    def train_sequences(
        self,
        xs: Sequence[Any],
        targets: Sequence[Any],
        masks: Sequence[Any] | None = None,
        *,
        lr: float,
        momentum: float = 0.0,
        update: str = "sequence",
        reset: bool = True,
    ) -> np.ndarray:
        """Train online on sequences one after another, in one kernel call.

        Args:
            xs: Inputs, one (T_n, I) array per sequence.
            targets: Targets, one (T_n, K) array per sequence.
            masks: Optional (T_n,) weights of the steps' errors (0: no target at that step).
            lr: Learning rate (>= 0).
            momentum: Momentum in [0, 1) (0: plain SGD).
            update: "sequence" (weights change at each sequence's end) or "step" (after every
                time step).
            reset: Zero state and traces at the start of every sequence.

        Returns:
            (N,) each sequence's error E, summed over its steps while it was trained.
        """
        mode = self._check_training(lr, momentum, update)
        data = self._check_sequences(xs, targets, masks)
        return self._run(data, mode, reset, lr, momentum)[1]
