"""The sequence network of the LSTM reproductions, its loss and the paper-style criterion.

`SequenceNet` is one `rnnai.nn.lstm.LSTM` layer and a fully connected output layer with the
task's output squashing (sigmoid for the 1997-2002 tasks), as in Hochreiter & Schmidhuber 1997,
Gers et al. 2000 and 2002 and Greff et al. 2015. Deliberate deviations from the 1997
architecture, for every network built here:

* one cell per memory block (the 1997 paper also uses blocks of 2 cells sharing their gates);
  `NetConfig.hidden` counts cells, each with its own gates;
* the output layer sees the cell outputs (and, with ``input_to_output``, the inputs) only; the
  1997 nets' gates and cells also receive the gates' previous outputs;
* weights are drawn uniformly from [-init_range, init_range] and the papers' negative
  output-gate (and input-gate) biases are set per cell, cycling through the given values.

`masked_sse` is the papers' squared error at the judged steps; `evaluate` applies a task's
per-sequence criterion (`rnnai.tasks.base.SequenceTask.correct`) to a fixed batch.

Examples:
    >>> import numpy as np, torch
    >>> from rnnai.tasks import AddingTask
    >>> from rnnai.train.sequence import NetConfig, SequenceNet, evaluate
    >>> task = AddingTask()
    >>> net = SequenceNet(task.input_size, task.output_size, NetConfig(hidden=4),
    ...                   torch.Generator().manual_seed(0))
    >>> batch = task.sample(np.random.default_rng(0), 8)
    >>> tuple(net(torch.from_numpy(batch.x)).shape) == batch.y.shape
    True
    >>> wrong, error, outputs = evaluate(net, task, batch)
    >>> 0 <= wrong <= 8
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from torch import nn

from rnnai.nn.lstm import LSTM, VARIANTS, LSTMVariant
from rnnai.runtime.errors import RnnaiError
from rnnai.tasks.base import SequenceBatch, SequenceTask

__all__ = [
    "NetConfig",
    "SequenceNet",
    "evaluate",
    "masked_sse",
    "slice_batch",
    "to_torch",
    "variant_name",
]


@dataclass(frozen=True, kw_only=True)
class NetConfig:
    """The network of one reproduction.

    Examples:
        >>> NetConfig(hidden=6, init_range=0.2, output_gate_bias=(-1.0, -2.0)).hidden
        6
    """

    variant: str | LSTMVariant = "lstm1997"
    """An `rnnai.nn.lstm.VARIANTS` preset name, or an `LSTMVariant` (e.g. a preset changed with
    `dataclasses.replace`)."""
    hidden: int = 4
    """Memory cells (one per block)."""
    init_range: float = 0.1
    """Weights uniform in [-init_range, init_range] (1997: 0.1 or 0.2)."""
    output_gate_bias: tuple[float, ...] = ()
    """Output-gate biases per cell, cycled (1997: e.g. -1, -2, -3, -4); () keeps the draw."""
    input_gate_bias: tuple[float, ...] = ()
    """Input-gate biases per cell, cycled; () keeps the draw."""
    forget_gate_bias: float | None = None
    """Forget-gate bias (Gers 2000 start with open forget gates, e.g. +1); None keeps the draw."""
    output: Literal["sigmoid", "linear"] = "sigmoid"
    """Output units' squashing: "sigmoid" or "linear"."""
    input_to_output: bool = False
    """Also connect the input units directly to the output units (some 1997 nets, e.g. Exp. 2a,
    where the local next-symbol predictions need no memory)."""

    def __post_init__(self) -> None:
        if self.output not in ("sigmoid", "linear"):
            raise RnnaiError(f"output must be 'sigmoid' or 'linear', got {self.output!r}")
        if self.hidden < 1:
            raise RnnaiError(f"hidden must be >= 1, got {self.hidden}")
        if self.init_range <= 0:
            raise RnnaiError(f"init_range must be > 0, got {self.init_range}")
        if isinstance(self.variant, str) and self.variant not in VARIANTS:
            raise RnnaiError(f"variant must be one of {sorted(VARIANTS)}, got {self.variant!r}")


def variant_name(variant: str | LSTMVariant) -> str:
    """The preset name of a variant, or "custom-variant" for one that is no preset.

    Examples:
        >>> import dataclasses
        >>> variant_name("lstm1997"), variant_name(VARIANTS["vanilla"])
        ('lstm1997', 'vanilla')
        >>> variant_name(dataclasses.replace(VARIANTS["vanilla"], truncate_gradient=True))
        'custom-variant'
    """
    if isinstance(variant, str):
        return variant
    return next((k for k, v in VARIANTS.items() if v == variant), "custom-variant")


class SequenceNet(nn.Module):
    """LSTM layer + fully connected output layer with the task's squashing.

    Input (B, T, I), output (B, T, O) after the output squashing. Every weight is drawn from
    ``generator`` (never from torch's global generator), then the configured gate biases are set.

    Args:
        n_in: Input units I.
        n_out: Output units O.
        cfg: The network's configuration.
        generator: The CPU generator of the initial weights.
    """

    def __init__(self, n_in: int, n_out: int, cfg: NetConfig, generator: torch.Generator):
        super().__init__()
        self.cfg = cfg
        self.lstm = LSTM(n_in, cfg.hidden, batch_first=True, variant=cfg.variant)
        self.head = nn.Linear(cfg.hidden + (n_in if cfg.input_to_output else 0), n_out)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_((torch.rand(p.shape, generator=generator) * 2 - 1) * cfg.init_range)
            self._set_gate_biases()

    def _set_gate_biases(self) -> None:
        lstm, cfg, H = self.lstm, self.cfg, self.cfg.hidden
        slices = lstm.gate_slices
        b_ih, b_hh = lstm.get_parameter("bias_ih_l0"), lstm.get_parameter("bias_hh_l0")
        for gate, values in (("o", cfg.output_gate_bias), ("i", cfg.input_gate_bias)):
            if values and gate in slices:
                b = torch.tensor([values[k % len(values)] for k in range(H)], dtype=torch.float32)
                b_ih[slices[gate]] = b
                b_hh[slices[gate]] = 0.0
        if cfg.forget_gate_bias is not None and "f" in slices:
            b_ih[slices["f"]] = cfg.forget_gate_bias
            b_hh[slices["f"]] = 0.0

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """(B, T, I) -> (B, T, O), from the zero state.

        `lengths` is accepted for symmetry but not used: the net is causal, so the outputs at a
        sequence's real steps do not depend on its padding, and padded steps are masked out of the
        loss and the criterion (this keeps the fused kernel off its slow packed path).
        """
        del lengths
        out, _ = self.step(x, None)
        return out

    def step(
        self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """One chunk (B, K, I) from a carried LSTM state: outputs (B, K, O) and the new state.

        Reading a stream chunk by chunk with the state carried gives the same outputs as one
        call on the whole stream; ``state`` None is the zero state.
        """
        y, new_state = self.lstm(x, state)
        if self.cfg.input_to_output:
            y = torch.cat([y, x], dim=-1)  # (B, K, H + I)
        out = self.head(y)
        return (torch.sigmoid(out) if self.cfg.output == "sigmoid" else out), new_state


def to_torch(
    batch: SequenceBatch,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """x, y, mask as tensors sharing the batch's memory, and lengths (None when all are full)."""
    x = torch.from_numpy(batch.x)
    y = torch.from_numpy(batch.y)
    mask = torch.from_numpy(batch.mask)
    lengths = None
    if (batch.lengths != batch.x.shape[1]).any():
        lengths = torch.from_numpy(batch.lengths)
    return x, y, mask, lengths


def masked_sse(out: torch.Tensor, y: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Half the squared error summed over judged steps and outputs, averaged over sequences.

    Examples:
        >>> out, y = torch.zeros(2, 3, 1), torch.ones(2, 3, 1)
        >>> float(masked_sse(out, y, torch.tensor([[True, False, False], [True, True, False]])))
        0.75
    """
    err = (out - y) ** 2 * mask.unsqueeze(-1)  # (B, T, O)
    return 0.5 * err.sum() / out.shape[0]


def slice_batch(batch: SequenceBatch, a: int, b: int) -> SequenceBatch:
    """Sequences ``a:b`` of a batch (``info`` arrays with one row per sequence are sliced too)."""
    info = {
        k: v[a:b]
        for k, v in batch.info.items()
        if hasattr(v, "__len__") and len(v) == batch.batch_size
    }
    return SequenceBatch(batch.x[a:b], batch.y[a:b], batch.mask[a:b], batch.lengths[a:b], info)


@torch.no_grad()
def evaluate(
    net: nn.Module, task: SequenceTask, batch: SequenceBatch, chunk: int = 512
) -> tuple[int, float, np.ndarray]:
    """Judge a network on a fixed batch by the task's per-sequence criterion.

    Args:
        net: Maps (B, T, I) inputs (and optional lengths) to (B, T, O) outputs.
        task: The task whose `correct` judges each sequence.
        batch: The fixed evaluation batch.
        chunk: Sequences per forward pass.

    Returns:
        (number of wrong sequences, mean absolute error at judged steps, outputs (B, T, O)).
    """
    was_training = net.training
    net.eval()
    outs = []
    for start in range(0, batch.batch_size, chunk):
        sub = slice_batch(batch, start, start + chunk)
        x, _, _, lengths = to_torch(sub)
        outs.append(net(x, lengths).numpy())
    net.train(was_training)
    out = np.concatenate(outs, axis=0)
    ok = task.correct(out, batch)
    err = np.abs(out - batch.y)[batch.mask].mean() if batch.mask.any() else 0.0
    return int((~ok).sum()), float(err), out
