"""The neural history compressor: an automatizer, chunkers that tick only at surprises, collapse.

Paper: J. Schmidhuber, "Learning complex, extended sequences using the principle of history
compression", Neural Computation 4(2):234-242, 1992 (also "Neural sequence chunkers", TR
FKI-148-91, TU Munich, 1991).

Principle: only unexpected inputs carry information. Level 0, the automatizer A, is a recurrent net
that sees every input x_t and predicts the next one. Level 1, the chunker C, sees only the inputs
that A failed to predict, together with a time code, so it ticks only at A's surprises and works
on a compressed, much shorter history; C in turn predicts its own next input, and the inputs C
fails to predict go to level 2, and so on (a stack of more than two levels). A third error term
("collapsing" the hierarchy) trains A to predict C's internal state too, so C's knowledge moves
into A and the next level's work shrinks. Per level l = 0..L-1 (level 0 ticks at every step);
h^l_{t-1} is the level's state before x_t, i.e. after its last tick::

    tick^0_t    = 1
    tick^l_t    = tick^{l-1}_t and surprise^{l-1}_t                    (l >= 1)
    p^l_t       = sigmoid(W^l_p h^l_{t-1})   the level's guess of its next input
    y^l_t       = sigmoid(W^l_y h^l_{t-1})   its answer to the target d_t
    surprise^l_t= tick^l_t and (first tick of level l
                                or max_i |p^l_{t,i} - x_{t,i}| > threshold
                                or (target_surprise and mask_t and max_j |y^l_{t,j} - d_{t,j}|
                                    > threshold))
    z^l_t       = [x_t, tau^l_t]        tau: the time code (below)       the level's input
    h^l_t       = f^l(z^l_t, h^l_{t-1}) if tick^l_t else h^l_{t-1}       the level's state
    y_t         = y^l_t of the highest level that ticked at t (level 0 only without
                  ``target_surprise``)                                   the system's answer
    q^l_t       = W^l_q h^l_t           (l < L-1) level l's guess of level l+1's state h^{l+1}_t

As in the paper, a level's guesses at t are made before it sees x_t and d_t: A's p^0_t and
y^0_t come from h^0_{t-1}, and C's from its state after its previous tick, which may lie many
steps back. So in the 22-symbol task C, ticking at a or x and again where A fails the target,
answers from a state one tick old.

Error terms (squared errors, as in the paper), summed over the steps where level l ticks:
prediction |p^l_t - x_t|^2 (not at the level's first tick), target |y^l_t - d_t|^2 where the
target mask is true, and collapse |q^l_t - h^{l+1}_t|^2 (h^{l+1}_t detached: A learns to predict
C, C is not pulled towards A). `train_step` runs them online on a window of the stream with
truncated backpropagation through time: the state is detached at the window's start, and the
gradient of a guess made from a state carried over from an earlier window reaches only the
output weights. With ``bptt_ticks=k`` the truncation is counted in each level's own ticks
instead (the paper's runs propagated errors at most 3 steps back): at every step h^l_{t-1} is
recomputed from the level's detached state before its last k - 1 inputs, so the guesses at a
tick pass their gradient back over the level's k - 1 previous ticks and its new state over k,
across windows: a chunker whose ticks lie 20 stream steps apart still learns what to keep from
its previous tick.

Time code tau^l_t (``time_code``): ``"delta"`` (default) the number of steps since level l last
ticked (t + 1 at its first tick), ``"step"`` the step index t + 1, ``"none"`` no time code; the
number is divided by ``time_scale``.

Checked against the paper (its 2-net description, as published on its author's site): A's
error has three terms (targets, its next non-target input, C's state); A's outputs at t are
computed without knowledge of x(t) and d(t); if and only if A errs on a target or on its input,
the input goes to C with a unique representation of the time step; before processing it, C is
trained to predict it from its current state, and to predict the target where A failed it; A
is trained to predict C's state, of which C's output units are a part.

Choices and deviations: the paper does not fix the surprise test for real-valued predictions; here
an input is unpredicted when any unit's absolute error exceeds ``threshold`` (for one-hot inputs
and a threshold below 0.5 this means the predicted symbol is wrong or uncertain). In the paper a
target, once given, becomes part of the next input; here targets are not inputs. A predicts
C's hidden state h^1 (not C's output units too). Every level's input is the original input x_t
(plus its own time code), not the lower level's internal code; in the paper C's time input is
a unique code of t, which it also says the 22-symbol task did not need (``time_code``). The
levels' recurrent nets are ``cell="rnn"`` (tanh RNN, the paper's conventional recurrent nets)
or ``cell="lstm"`` (`rnnai.nn.LSTMCell`). The paper's automatizer does not read the chunker's
state; with ``feed_down=True`` every level also reads the state of the level above (detached).

Examples:
    >>> import torch
    >>> from rnnai.nn.chunker import HistoryCompressor, HistoryCompressorConfig
    >>> cfg = HistoryCompressorConfig(input_size=4, target_size=2, hidden_sizes=(8, 8, 8))
    >>> hc = HistoryCompressor(cfg)
    >>> out = hc(torch.eye(4)[torch.randint(0, 4, (3, 10))])          # (N, L, I)
    >>> tuple(out.y.shape), tuple(out.ticks.shape), bool(out.ticks[:, :, 0].all())
    ((3, 10, 2), (3, 10, 3), True)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, NamedTuple

import torch
from torch import Tensor, nn

from rnnai.nn.lstm import LSTMCell
from rnnai.runtime.errors import RnnaiError

__all__ = [
    "CompressorOutput",
    "CompressorState",
    "HistoryCompressor",
    "HistoryCompressorConfig",
    "TrainStepResult",
    "surprise_mask",
    "time_code",
    "train_step",
]

TimeCode = Literal["delta", "step", "none"]


@dataclass(frozen=True, kw_only=True)
class HistoryCompressorConfig:
    """Sizes and rules of a `HistoryCompressor`."""

    input_size: int
    """I, the size of an input x_t (one-hot symbols in the paper's tasks)."""
    target_size: int = 0
    """Size of the automatizer's target output y_t (0: prediction only)."""
    hidden_sizes: tuple[int, ...] = (16, 16)
    """One recurrent net per level: level 0 is the automatizer, level 1 the chunker, ..."""
    cell: Literal["rnn", "lstm"] = "rnn"
    """The levels' recurrent nets: a tanh RNN (the paper's) or an LSTM."""
    threshold: float = 0.3
    """An input is unpredicted when any unit's |prediction - input| exceeds this."""
    time_code: TimeCode = "delta"
    """What tells a level when its input arrived (see the module docstring)."""
    time_scale: float = 20.0
    """The time code is divided by this."""
    collapse_weight: float = 1.0
    """Weight of the collapse term (level l predicts level l + 1's state); 0 switches it off."""
    target_weight: float = 1.0
    """Weight of the automatizer's target error."""
    bptt_ticks: int | None = None
    """None: the gradient spans the window given to `forward` (in stream steps). An int k: each
    level's state before its input is recomputed from its last k - 1 inputs, starting from a
    detached state, so the gradient spans at most k of that level's own ticks, across windows
    (the paper's truncation, at most 3 steps): a chunker that ticks 20 steps apart still learns
    over its last ticks."""
    target_surprise: bool = False
    """If true, every level answers the targets too (from its state before the input); a wrong
    answer at a masked step (a unit off by more than ``threshold``) is a surprise that passes the
    step up, and the system's answer is that of the highest level that ticked."""
    feed_down: bool = False
    """If true, level l also reads level l + 1's state h^{l+1}_{t-1} (detached) as input."""

    def __post_init__(self) -> None:
        for name in ("input_size", "target_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise RnnaiError(f"{name} must be a non-negative int, got {value!r}")
        if self.input_size < 1:
            raise RnnaiError(f"input_size must be >= 1, got {self.input_size}")
        sizes = tuple(self.hidden_sizes)
        if not sizes or any(isinstance(h, bool) or not isinstance(h, int) or h < 1 for h in sizes):
            raise RnnaiError(f"hidden_sizes must be positive ints, one per level, got {sizes!r}")
        if self.cell not in ("rnn", "lstm"):
            raise RnnaiError(f"cell must be 'rnn' or 'lstm', got {self.cell!r}")
        if self.time_code not in ("delta", "step", "none"):
            raise RnnaiError(f"time_code must be 'delta', 'step' or 'none', got {self.time_code!r}")
        if not 0 < self.threshold < 1:
            raise RnnaiError(f"threshold must lie in (0, 1), got {self.threshold!r}")
        if self.bptt_ticks is not None and (
            isinstance(self.bptt_ticks, bool)
            or not isinstance(self.bptt_ticks, int)
            or self.bptt_ticks < 1
        ):
            raise RnnaiError(f"bptt_ticks must be None or an int >= 1, got {self.bptt_ticks!r}")
        if self.time_scale <= 0 or self.collapse_weight < 0 or self.target_weight < 0:
            raise RnnaiError(
                "time_scale must be > 0 and the weights >= 0, got "
                f"{self.time_scale}, {self.collapse_weight}, {self.target_weight}"
            )

    @property
    def levels(self) -> int:
        """L, the number of levels."""
        return len(self.hidden_sizes)


def surprise_mask(prediction: Tensor, x: Tensor, threshold: float) -> Tensor:
    """(B,) bool: max_i |prediction_i - x_i| > threshold (the input was not predicted)."""
    return (prediction - x).abs().amax(dim=-1) > threshold


def time_code(kind: TimeCode, t: int, last_tick: Tensor, scale: float) -> Tensor:
    """tau_t, (B, 1) float64 (or (B, 0) for ``"none"``): steps since the last tick or the step
    index, over ``scale``.

    ``last_tick`` (B,) holds the step of the level's previous tick, -1 before the first.
    """
    if kind == "none":
        return last_tick.new_zeros(last_tick.shape[0], 0, dtype=torch.float64)
    if kind == "delta":
        value = (t - last_tick).to(torch.float64)
    else:
        value = torch.full(last_tick.shape, float(t + 1), dtype=torch.float64)
    return (value / scale)[:, None]  # float64: the caller casts it to the input's dtype


@dataclass
class CompressorState:
    """The state of every level, carried along the stream."""

    t: int
    """The number of steps processed."""
    hidden: list[tuple[Tensor, ...]]
    """Per level: (h,) for the RNN, (h, c) for the LSTM, each (B, H_l)."""
    last_tick: list[Tensor]
    """Per level: the step of its last tick, (B,) int64, -1 before the first."""
    ticked: list[Tensor] = field(default_factory=list)
    """Per level: whether it has ticked yet, (B,) bool."""
    buffer: list[Tensor] = field(default_factory=list)
    """With ``bptt_ticks`` = k: per level, its last k - 1 inputs, (B, k - 1, in_l), newest last."""
    buffered: list[Tensor] = field(default_factory=list)
    """With ``bptt_ticks``: per level, how many buffer rows are filled, (B,) int64."""
    start: list[tuple[Tensor, ...]] = field(default_factory=list)
    """With ``bptt_ticks``: per level, its (detached) state before the oldest buffered input."""

    def detach(self) -> CompressorState:
        """The same state cut from the graph (truncated BPTT starts here)."""
        return CompressorState(
            t=self.t,
            hidden=[tuple(x.detach() for x in h) for h in self.hidden],
            last_tick=list(self.last_tick),
            ticked=list(self.ticked),
            buffer=list(self.buffer),
            buffered=list(self.buffered),
            start=[tuple(x.detach() for x in h) for h in self.start],
        )


class CompressorOutput(NamedTuple):
    """What `HistoryCompressor.forward` returns."""

    y: Tensor
    """The system's answers y_t (guesses made before x_t), (B, T, target_size)."""
    ticks: Tensor
    """(B, T, L) bool: which levels ticked (received x_t) at each step."""
    surprises: Tensor
    """(B, T, L) bool: where level l failed to predict its input (it then goes to level l+1)."""
    prediction_error: Tensor
    """(B, T, L): the summed squared prediction error of each level at its ticks (0 elsewhere)."""
    collapse_error: Tensor
    """(B, T, L - 1): |q^l_t - h^{l+1}_t|^2 at level l's ticks (0 elsewhere)."""
    target_error: Tensor
    """(B, T, answering levels): each answering level's squared target error at its ticks where
    ``mask`` is true; (B, T, 0) when no targets were given to forward."""
    level_inputs: list[Tensor]
    """Per level: z^l_t = [x_t, tau^l_t] where it ticked, zeros elsewhere, (B, T, I + 1|0)."""
    states: list[Tensor]
    """Per level: h^l_t at every step, (B, T, H_l)."""
    state: CompressorState
    """The state after the last step."""


class HistoryCompressor(nn.Module):
    """Stacked predictors; each level sees only the inputs the level below failed to predict.

    Args:
        config: a `HistoryCompressorConfig`.

    Inputs: ``x, state, y, mask``
        * x: (N, L, I), batch first.
        * state: a `CompressorState` from a previous call (the stream continues) or None.
        * y: targets (N, L, target_size) or None; needed for the target error (and for
          ``target_surprise``).
        * mask: (N, L) bool, where the targets count (default: everywhere).

    Outputs: a `CompressorOutput`.
    """

    def __init__(self, config: HistoryCompressorConfig) -> None:
        super().__init__()
        if not isinstance(config, HistoryCompressorConfig):
            raise RnnaiError(
                f"config must be a HistoryCompressorConfig, got {type(config).__name__}"
            )
        self.config = config
        c = config
        extra = 0 if c.time_code == "none" else 1
        self.cells = nn.ModuleList()
        self.predictors = nn.ModuleList()
        self.collapsers = nn.ModuleList()
        self.level_input_sizes: list[int] = []
        """Per level, the size of its net's input."""
        for level, H in enumerate(c.hidden_sizes):
            in_size = c.input_size + (extra if level > 0 else 0)
            if c.feed_down and level + 1 < c.levels:
                in_size += c.hidden_sizes[level + 1]
            self.level_input_sizes.append(in_size)
            cell: nn.Module = nn.RNNCell(in_size, H) if c.cell == "rnn" else LSTMCell(in_size, H)
            self.cells.append(cell)
            self.predictors.append(nn.Linear(H, c.input_size))  # W^l_p
            if level + 1 < c.levels:
                self.collapsers.append(nn.Linear(H, c.hidden_sizes[level + 1]))  # W^l_q
        answering = c.levels if c.target_surprise else 1
        self.target_heads = nn.ModuleList(
            nn.Linear(H, c.target_size) for H in c.hidden_sizes[:answering] if c.target_size
        )

    def initial_state(self, batch: int, like: Tensor) -> CompressorState:
        """All-zero states, no tick yet."""
        c = self.config
        n_parts = 1 if c.cell == "rnn" else 2
        zeros = [tuple(like.new_zeros(batch, H) for _ in range(n_parts)) for H in c.hidden_sizes]
        k = c.bptt_ticks
        return CompressorState(
            t=0,
            hidden=zeros,
            last_tick=[torch.full((batch,), -1, dtype=torch.long) for _ in c.hidden_sizes],
            ticked=[torch.zeros(batch, dtype=torch.bool) for _ in c.hidden_sizes],
            buffer=[]
            if k is None
            else [like.new_zeros(batch, k - 1, n) for n in self.level_input_sizes],
            buffered=[] if k is None else [torch.zeros(batch, dtype=torch.long) for _ in zeros],
            start=[] if k is None else list(zeros),
        )

    def _cell(self, level: int, z: Tensor, hx: tuple[Tensor, ...]) -> tuple[Tensor, ...]:
        """One step of level ``level``'s recurrent net on the state tuple."""
        new = self.cells[level](z, hx[0] if self.config.cell == "rnn" else hx)
        return (new,) if isinstance(new, Tensor) else tuple(new[:2])

    def _previous(
        self,
        level: int,
        hidden: list[tuple[Tensor, ...]],
        buffer: list[Tensor],
        buffered: list[Tensor],
        start: list[tuple[Tensor, ...]],
    ) -> tuple[Tensor, ...]:
        """h^l before this step's input: as carried, or (bptt_ticks = k) recomputed from the
        level's detached start over its last k - 1 inputs, so that its guesses p^l and y^l
        made from it pass their gradient back over k - 1 of the level's own ticks."""
        if self.config.bptt_ticks is None:
            return hidden[level]
        k1 = buffer[level].shape[1]  # k - 1
        h = start[level]
        for j in range(k1):  # the buffer is right-aligned: row j is valid if j >= k - 1 - n
            valid = (j >= k1 - buffered[level])[:, None]
            h = tuple(
                torch.where(valid, n, o)
                for n, o in zip(self._cell(level, buffer[level][:, j], h), h, strict=True)
            )
        return h

    def _slide(
        self,
        level: int,
        z: Tensor,
        tick: Tensor,
        buffer: list[Tensor],
        buffered: list[Tensor],
        start: list[tuple[Tensor, ...]],
    ) -> None:
        """Append z to the level's input window where it ticked (bptt_ticks), advancing the
        detached start state past the oldest input once the window is full."""
        k1 = buffer[level].shape[1]  # k - 1
        window = torch.cat([buffer[level], z.detach()[:, None]], dim=1)  # (B, k, in)
        full = tick & (buffered[level] == k1)
        advanced = tuple(v.detach() for v in self._cell(level, window[:, 0], start[level]))
        start[level] = tuple(
            torch.where(full[:, None], a, o) for a, o in zip(advanced, start[level], strict=True)
        )
        shifted = torch.where(full[:, None, None], window[:, 1:], window[:, :k1])
        if k1:
            grown = window[:, :k1].roll(-1, dims=1)  # not full: the input goes in at the end
            grown[:, -1] = z.detach()
            shifted = torch.where(full[:, None, None], window[:, 1:], grown)
        buffer[level] = torch.where(tick[:, None, None], shifted, buffer[level])
        buffered[level] = torch.where(tick, (buffered[level] + 1).clamp_max(k1), buffered[level])

    def forward(
        self,
        x: Tensor,
        state: CompressorState | None = None,
        y: Tensor | None = None,
        mask: Tensor | None = None,
    ) -> CompressorOutput:
        c = self.config
        if x.ndim != 3 or x.shape[-1] != c.input_size:
            raise RnnaiError(
                f"HistoryCompressor expected x of shape (N, L, {c.input_size}), got "
                f"{tuple(x.shape)}"
            )
        B, T = x.shape[:2]
        if state is None:
            state = self.initial_state(B, x)
        hidden = list(state.hidden)
        buffer, buffered, start = list(state.buffer), list(state.buffered), list(state.start)
        L = c.levels
        last_tick, ticked = list(state.last_tick), list(state.ticked)
        if y is not None and (y.shape != (B, T, c.target_size)):
            raise RnnaiError(f"y must have shape {(B, T, c.target_size)}, got {tuple(y.shape)}")
        if mask is None:
            mask = torch.ones(B, T, dtype=torch.bool)
        ys, ticks_all, surprises_all, pred_err, col_err, tgt_err = [], [], [], [], [], []
        level_inputs: list[list[Tensor]] = [[] for _ in range(L)]
        states: list[list[Tensor]] = [[] for _ in range(L)]
        for step in range(T):
            t = state.t + step
            x_t = x[:, step]
            tick = torch.ones(B, dtype=torch.bool)
            ticks, surprises, errors, t_errors = [], [], [], []
            answer = x.new_zeros(B, c.target_size)
            for level in range(L):
                # h^l before x_t: p^l and y^l are guesses made at the level's previous tick
                h_prev = self._previous(level, hidden, buffer, buffered, start)
                p = torch.sigmoid(self.predictors[level](h_prev[0]))  # p^l, (B, I)
                err = ((p - x_t) ** 2).sum(-1) * (tick & ticked[level])
                surprise = tick & (~ticked[level] | surprise_mask(p, x_t, c.threshold))
                if level < len(self.target_heads):
                    y_hat = torch.sigmoid(self.target_heads[level](h_prev[0]))  # y^l_t
                    answer = torch.where(tick[:, None], y_hat, answer)
                    if y is not None:
                        counts = tick & mask[:, step]
                        t_errors.append(((y_hat - y[:, step]) ** 2).sum(-1) * counts)
                        if c.target_surprise:
                            wrong = surprise_mask(y_hat, y[:, step], c.threshold)
                            surprise = surprise | (counts & wrong)
                if level == 0:
                    z = x_t
                else:
                    tau = time_code(c.time_code, t, last_tick[level], c.time_scale).to(x)
                    z = torch.cat([x_t, tau], dim=-1) * tick[:, None].to(x)  # (B, I + 1)
                level_inputs[level].append(z)
                if c.feed_down and level + 1 < L:
                    z = torch.cat([z, hidden[level + 1][0].detach()], dim=-1)
                new = self._cell(level, z, h_prev)  # h^l_t = f^l(z^l_t, h^l_{t-1})
                if c.bptt_ticks is not None:
                    self._slide(level, z, tick, buffer, buffered, start)
                m = tick[:, None]
                hidden[level] = tuple(
                    torch.where(m, n, o) for n, o in zip(new, hidden[level], strict=True)
                )
                last_tick[level] = torch.where(
                    tick, torch.full_like(last_tick[level], t), last_tick[level]
                )
                ticked[level] = ticked[level] | tick
                states[level].append(hidden[level][0])
                ticks.append(tick)
                surprises.append(surprise)
                errors.append(err)
                tick = surprise
            collapse = []
            for level in range(L - 1):
                q = self.collapsers[level](hidden[level][0])
                target = hidden[level + 1][0].detach()
                collapse.append(((q - target) ** 2).sum(-1) * ticks[level])
            ticks_all.append(torch.stack(ticks, -1))
            surprises_all.append(torch.stack(surprises, -1))
            pred_err.append(torch.stack(errors, -1))
            col_err.append(torch.stack(collapse, -1) if collapse else x.new_zeros(B, 0))
            ys.append(answer)
            tgt_err.append(torch.stack(t_errors, -1) if t_errors else x.new_zeros(B, 0))
        new_state = CompressorState(
            t=state.t + T,
            hidden=hidden,
            last_tick=last_tick,
            ticked=ticked,
            buffer=buffer,
            buffered=buffered,
            start=start,
        )
        return CompressorOutput(
            y=torch.stack(ys, 1),
            ticks=torch.stack(ticks_all, 1),
            surprises=torch.stack(surprises_all, 1),
            prediction_error=torch.stack(pred_err, 1),
            collapse_error=torch.stack(col_err, 1),
            target_error=torch.stack(tgt_err, 1),
            level_inputs=[torch.stack(z, 1) for z in level_inputs],
            states=[torch.stack(h, 1) for h in states],
            state=new_state,
        )

    def loss(self, out: CompressorOutput) -> tuple[Tensor, dict[str, float]]:
        """The summed error terms of a forward pass, averaged over the batch.

        The target term is there only if the targets were given to `forward`.

        Returns:
            (the loss to minimise, its terms as floats: ``prediction``, ``collapse``, ``target``).
        """
        c = self.config
        B = out.y.shape[0]
        prediction = out.prediction_error.sum() / B
        collapse = out.collapse_error.sum() / B
        target = out.target_error.sum() / B
        total = prediction + c.collapse_weight * collapse + c.target_weight * target
        return total, {
            "prediction": float(prediction.detach()),
            "collapse": float(collapse.detach()),
            "target": float(target.detach()),
        }


class TrainStepResult(NamedTuple):
    """What `train_step` returns."""

    losses: dict[str, float]
    """The error terms of this window (``prediction``, ``collapse``, ``target``, ``total``)."""
    output: CompressorOutput
    """The window's forward pass (detached state inside)."""
    state: CompressorState
    """The detached state to pass to the next window."""


def train_step(
    model: HistoryCompressor,
    optimizer: torch.optim.Optimizer,
    x: Tensor,
    y: Tensor | None = None,
    mask: Tensor | None = None,
    state: CompressorState | None = None,
) -> TrainStepResult:
    """One online update on a window of the stream, by truncated BPTT over the window.

    Call it on consecutive windows of at most a few steps (the paper: at most 3), passing the
    returned state on; gradients never cross a window boundary.

    Args:
        model: the compressor.
        optimizer: over ``model.parameters()``.
        x: the window's inputs, (B, k, I).
        y: its targets, (B, k, target_size), or None.
        mask: (B, k) bool, where targets count.
        state: the state after the previous window (None: the stream starts).
    """
    if state is not None:
        state = state.detach()
    out = model(x, state, y, mask)
    total, terms = model.loss(out)
    optimizer.zero_grad()
    total.backward()
    optimizer.step()
    terms["total"] = float(total.detach())
    return TrainStepResult(losses=terms, output=out, state=out.state.detach())
