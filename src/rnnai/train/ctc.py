"""Train a (B)LSTM-CTC network on your own (features, labels): network, training, decoding aids.

Papers:

* A. Graves, S. Fernandez, F. Gomez & J. Schmidhuber, "Connectionist Temporal Classification:
  Labelling Unsegmented Sequence Data with Recurrent Neural Networks", ICML 2006, pp. 369-376.
* A. Graves, M. Liwicki, S. Fernandez, R. Bertolami, H. Bunke & J. Schmidhuber, "A Novel
  Connectionist System for Unconstrained Handwriting Recognition", IEEE TPAMI 31(5):855-868, 2009.
* S. Fernandez, A. Graves & J. Schmidhuber, "An Application of Recurrent Neural Networks to
  Discriminative Keyword Spotting", ICANN 2007, LNCS 4669, pp. 220-229.

The network (`CTCNet`) maps input frames x = (x_1, ..., x_T) to per-frame label distributions
y^t_k over the alphabet L' = L + {blank} (blank = label 0): an optional linear+tanh input
projection, a stack of (bidirectional) LSTM layers (`rnnai.nn.lstm.LSTM`), and a linear layer to
|L'| units followed by a log-softmax, so the network emits ln y^t_k. CTC (Graves et al. 2006,
Eqs. 2-3) defines

    p(pi | x) = prod_t y^t_{pi_t},        p(l | x) = sum_{pi in B^-1(l)} p(pi | x),

with B the map that removes repeats and then blanks, and training minimizes
O = -sum_{(x, z) in S} ln p(z | x) (Eq. 12), here `torch.nn.functional.ctc_loss` summed over the
minibatch and divided by its size. The label error rate (Sec. 2.1) is
LER = sum ED(h(x), z) / sum |z| over the test set (`rnnai.ctc.label_error_rate`).

Training (`train_ctc`) runs the library's one training loop, `rnnai.train.loop.run_trials`, with
a CTC data source and evaluation hook: Adam (`rnnai.train.loop.make_optimizer`), minibatches of
sequences of similar length (sorted by length with a random jitter per epoch, then the batches
shuffled), padded batches run with their true lengths (the LSTM packs them), gradient-norm
clipping, optional Gaussian input noise (Graves et al. 2006 add noise of standard deviation 0.6 to
the TIMIT inputs), inputs normalized per dimension with the training set's mean and standard
deviation (`Normalizer`). After every epoch the validation set is decoded by best path; the
weights with the lowest validation LER are kept ("early stopping" in the papers, here over a fixed
number of epochs, so every run has the same budget). Torch runs on one thread inside `train_ctc`
and `posteriors` (the result does not depend on the machine's core count).

Deviations from the papers: Adam by default (``CTCTrainConfig(optimizer="sgd", momentum=0.9,
lr=1e-4)`` is the 2006 setup); all weights drawn uniformly from [-init_range, init_range] (the
papers: [-0.1, 0.1]); torch.nn.LSTM's cell (forget gate, no peepholes: the 2006 and 2009 BLSTMs
had peepholes) unless the config names another variant; optional frame stacking
(`CTCNetConfig.stack` concatenates k consecutive frames, making the sequence k times shorter, a
speed measure the papers do not use).

Checkpoints: with a checkpointer in the `rnnai.train.hooks.Hooks`, one after every epoch (network,
optimizer, the best weights so far, the learning curve, written by the loop); the data order and
the noise of an epoch come from generators derived from the seed and the epoch number, so a run
killed at any moment and started again with the same checkpointer ends with exactly the same
numbers. Several networks
trained in one run (distinct ``label`` s) share the checkpoint; finished ones are kept in it.

Any network that maps (N, L, F) frames and (N,) lengths to ``((N, L', C) ln y^t_k, (N,) output
lengths)`` with L' = ceil(L / stride) can be trained and decoded the same way (`CTCModel`; the
MD-LSTM reader of ``vision.mdlstm_ctc`` is one): `train_ctc_model` takes a factory of such nets.

Any data set with ``features`` (per sequence a (T_i, F) float array), ``labels`` (per sequence an
int array of labels in 1..C-1), ``texts`` and ``alphabet`` (``alphabet[0]`` the blank) can be used
(`LabelledData`; `rnnai.data.LabelledSequences` is one).

Examples:
    Train a small BLSTM-CTC on your own data and decode it:

    >>> import numpy as np
    >>> from rnnai.ctc import best_path
    >>> from rnnai.data import LabelledSequences
    >>> from rnnai.train.ctc import CTCNetConfig, CTCTrainConfig, posteriors, train_ctc
    >>> rng = np.random.default_rng(0)
    >>> alphabet = ("<blank>", "a", "b")
    >>> def utterance():
    ...     z = rng.integers(1, 3, size=3)
    ...     x = np.repeat(np.eye(3, dtype=np.float32)[z], 3, axis=0)  # 3 frames per label
    ...     return x + rng.normal(0, 0.1, x.shape).astype(np.float32), z
    >>> def make(n):
    ...     xs, zs = zip(*[utterance() for _ in range(n)])
    ...     texts = ["".join(alphabet[k] for k in z) for z in zs]
    ...     return LabelledSequences(list(xs), list(zs), texts, alphabet, None, {})
    >>> train, valid = make(32), make(8)
    >>> model = train_ctc(
    ...     train, valid, CTCNetConfig(hidden=8, layers=1), CTCTrainConfig(epochs=2, lr=0.03),
    ...     seed=0,
    ... )
    >>> len(model.curve), model.best_epoch in (1, 2)
    (2, True)
    >>> post = posteriors(model.net, valid, model.norm)
    >>> post.log_probs.shape[0], len(best_path(post.log_probs, post.lengths))
    (8, 8)
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol, cast, runtime_checkable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from rnnai.ctc import best_path, label_error_rate
from rnnai.nn.lstm import LSTM, VARIANTS
from rnnai.runtime.errors import RnnaiError
from rnnai.train.hooks import Hooks, SilentHooks
from rnnai.train.loop import (
    Check,
    Seeds,
    TrainConfig,
    TrialData,
    TrialResult,
    TrialStreams,
    run_trials,
)

__all__ = [
    "CTCDataError",
    "CTCNet",
    "CTCModel",
    "CTCNetConfig",
    "CTCTrainConfig",
    "LabelledData",
    "Normalizer",
    "Posteriors",
    "TrainedCTC",
    "check_ctc_data",
    "count_params",
    "ctc_objective",
    "length_batches",
    "matched_unidirectional",
    "pad_batch",
    "posteriors",
    "spike_alignment",
    "spikes",
    "train_ctc",
    "train_ctc_model",
    "valid_ler",
]


class CTCDataError(RnnaiError):
    """Training or test data that CTC cannot use (the message names the utterance and why)."""


class LabelledData(Protocol):
    """What training and evaluation read from a data set (`rnnai.data.LabelledSequences` is one).

    Any object with these read-only attributes will do (a frozen dataclass, a named tuple).
    """

    @property
    def features(self) -> Sequence[np.ndarray]:
        """Per utterance a (T_i, F) float array of input frames."""
        ...

    @property
    def labels(self) -> Sequence[np.ndarray]:
        """Per utterance a (L_i,) int array of labels in 1..C-1 (0 is the blank)."""
        ...

    @property
    def texts(self) -> Sequence[str]:
        """Per utterance its transcript."""
        ...

    @property
    def alphabet(self) -> Sequence[str]:
        """The label names, ``alphabet[0]`` the blank; C = len(alphabet)."""
        ...


# ----------------------------------------------------------------------------- configuration
@dataclass(frozen=True, kw_only=True)
class CTCNetConfig:
    """The network of one CTC reproduction."""

    hidden: int = 64
    """LSTM cells per layer and direction."""
    layers: int = 2
    """Stacked LSTM layers (the 2006 TIMIT net had one BLSTM layer of 100 cells per direction;
    the 2009 handwriting net one hidden BLSTM layer)."""
    bidirectional: bool = True
    """BLSTM (True) or a unidirectional, forward-in-time LSTM (False)."""
    projection: int = 0
    """Units of a linear+tanh input projection before the LSTM (0: none)."""
    variant: str = "torch"
    """`rnnai.nn.lstm.VARIANTS` preset; "torch" runs the fused kernel, "vanilla" has peepholes."""
    stack: int = 1
    """Concatenate this many consecutive input frames into one (1: none); the output sequence is
    ceil(T / stack) frames long."""
    init_range: float = 0.1
    """Every weight uniform in [-init_range, init_range] (the papers' 0.1)."""

    def __post_init__(self) -> None:
        if self.hidden < 1 or self.layers < 1 or self.stack < 1 or self.projection < 0:
            raise RnnaiError(
                "hidden, layers and stack must be >= 1 and projection >= 0; got "
                f"hidden={self.hidden}, layers={self.layers}, stack={self.stack}, "
                f"projection={self.projection}"
            )
        if self.variant not in VARIANTS:
            raise RnnaiError(f"unknown LSTM variant {self.variant!r}; one of {sorted(VARIANTS)}")
        if not self.init_range > 0:
            raise RnnaiError(f"init_range must be > 0, got {self.init_range}")

    @property
    def describe(self) -> str:
        """One line naming the architecture."""
        kind = "BLSTM" if self.bidirectional else "LSTM"
        proj = f"tanh projection {self.projection} -> " if self.projection else ""
        stack = f", {self.stack} frames stacked" if self.stack > 1 else ""
        return (
            f"{proj}{self.layers} x {kind} {self.hidden} cells/direction "
            f"(variant {self.variant}){stack}"
        )


@dataclass(frozen=True, kw_only=True)
class CTCTrainConfig:
    """How a CTC network is trained."""

    epochs: int = 20
    """Passes over the training set (the budget; the best validation epoch is kept)."""
    batch: int = 16
    """Sequences per minibatch."""
    lr: float = 1e-3
    """Learning rate."""
    grad_clip: float = 10.0
    """Clip the gradient's global norm to this (<= 0: no clipping)."""
    input_noise: float = 0.0
    """Standard deviation of Gaussian noise added to the normalized inputs while training."""
    length_jitter: float = 0.1
    """Relative random jitter of the lengths before sorting them into batches (0: the batches are
    the same every epoch, only their order changes)."""
    optimizer: Literal["adam", "sgd"] = "adam"
    """"adam", or "sgd" with ``momentum`` (Graves et al. 2006: momentum 0.9, lr 1e-4)."""
    momentum: float = 0.0
    """SGD momentum in [0, 1) (0 for Adam)."""

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch < 1:
            raise RnnaiError(f"epochs and batch must be >= 1; got {self.epochs}, {self.batch}")
        if not self.lr > 0:
            raise RnnaiError(f"lr must be > 0, got {self.lr}")
        if self.input_noise < 0 or self.length_jitter < 0:
            raise RnnaiError("input_noise and length_jitter must be >= 0")
        if self.optimizer not in ("adam", "sgd"):
            raise RnnaiError(f"optimizer must be 'adam' or 'sgd', got {self.optimizer!r}")
        if not 0.0 <= self.momentum < 1.0 or (self.optimizer == "adam" and self.momentum):
            raise RnnaiError(
                f"momentum must be in [0, 1) and 0 for Adam; got {self.momentum} with "
                f"{self.optimizer!r}"
            )

    @property
    def describe(self) -> str:
        """One line naming the learning setup."""
        noise = f", input noise {self.input_noise}" if self.input_noise else ""
        if self.optimizer == "adam":
            opt = f"Adam lr {self.lr}"
        else:
            opt = f"SGD lr {self.lr}" + (f" momentum {self.momentum}" if self.momentum else "")
        return f"{opt}, batch {self.batch}, {self.epochs} epochs, clip {self.grad_clip}{noise}"


# ----------------------------------------------------------------------------- data helpers
def check_ctc_data(data: LabelledData, stack: int = 1, what: str = "data") -> None:
    """Check that every utterance can be labelled by CTC.

    A labelling l needs at least |l| + (number of repeated neighbours) output frames (a blank
    must separate repeats).

    Args:
        data: The data set.
        stack: Frames stacked by the network (output frames = ceil(T / stack)).
        what: The data set's name for messages.

    Raises:
        CTCDataError: For empty data, mismatched counts, features that are not 2-D float arrays of
            one width, labels outside 1..C-1, or an utterance too short for its labelling.
    """
    n = len(data.features)
    if n == 0:
        raise CTCDataError(f"{what} is empty")
    if len(data.labels) != n:
        raise CTCDataError(f"{what} has {n} feature arrays but {len(data.labels)} labellings")
    C = len(data.alphabet)
    width = None
    for i, (x, z) in enumerate(zip(data.features, data.labels, strict=True)):
        if x.ndim != 2 or not np.issubdtype(x.dtype, np.floating):
            raise CTCDataError(
                f"{what}[{i}]: features must be a 2-D float array (T, F); got {x.dtype} "
                f"{tuple(x.shape)}"
            )
        width = x.shape[1] if width is None else width
        if x.shape[1] != width:
            raise CTCDataError(f"{what}[{i}]: {x.shape[1]} features per frame, expected {width}")
        if z.size and (z.min() < 1 or z.max() >= C):
            raise CTCDataError(f"{what}[{i}]: labels must lie in 1..{C - 1}; got {z.tolist()}")
        need = len(z) + int((z[1:] == z[:-1]).sum())
        frames = -(-x.shape[0] // stack)
        if frames < need:
            raise CTCDataError(
                f"{what}[{i}]: {frames} output frames cannot emit its {len(z)} labels "
                f"({need} frames needed)"
            )


@dataclass(frozen=True)
class Normalizer:
    """Per-dimension input normalization, (x - mean) / std, fitted on the training set.

    Attributes:
        mean: (F,) float32 mean over all training frames.
        std: (F,) float32 standard deviation (floored at 1e-5).
    """

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, features: Sequence[np.ndarray]) -> Normalizer:
        """Fit on a list of (T_i, F) arrays.

        Args:
            features: The training utterances.

        Returns:
            The fitted normalizer.
        """
        frames = np.concatenate([np.asarray(x, np.float64) for x in features], axis=0)  # (N, F)
        mean = frames.mean(0)
        std = np.maximum(frames.std(0), 1e-5)
        return cls(mean.astype(np.float32), std.astype(np.float32))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Normalize a (T, F) array; returns float32."""
        return ((x - self.mean) / self.std).astype(np.float32)


def length_batches(
    lengths: Sequence[int], batch: int, rng: np.random.Generator, jitter: float = 0.1
) -> list[np.ndarray]:
    """Minibatches of utterances of similar length, in random order.

    Args:
        lengths: Length of each utterance.
        batch: Utterances per batch (the last may be smaller).
        rng: Draws the jitter and the batch order.
        jitter: Relative random jitter added to the lengths before sorting.

    Returns:
        Index arrays, one per batch; together they cover every utterance once.
    """
    lens = np.asarray(lengths, dtype=np.float64)
    key = lens * (1.0 + jitter * rng.random(len(lens)))
    order = np.argsort(key, kind="stable")
    chunks = [order[i : i + batch] for i in range(0, len(order), batch)]
    return [chunks[k] for k in rng.permutation(len(chunks))]


def pad_batch(
    data: LabelledData, idx: Sequence[int] | np.ndarray, norm: Normalizer
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Normalized, zero-padded inputs and concatenated targets for `F.ctc_loss`.

    Args:
        data: The data set.
        idx: The utterances of the batch.
        norm: The input normalizer.

    Returns:
        ``x`` (B, T_max, F) float32, ``lengths`` (B,) int64, ``targets`` (sum L_i,) int64,
        ``target_lengths`` (B,) int64.
    """
    xs = [norm(data.features[i]) for i in idx]
    lengths = torch.tensor([len(x) for x in xs], dtype=torch.long)
    x = torch.zeros(len(xs), int(lengths.max()), xs[0].shape[1])  # (B, T_max, F)
    for b, xb in enumerate(xs):
        x[b, : len(xb)] = torch.from_numpy(xb)
    zs = [np.asarray(data.labels[i], dtype=np.int64) for i in idx]
    targets = torch.from_numpy(np.concatenate(zs)) if zs else torch.zeros(0, dtype=torch.long)
    target_lengths = torch.tensor([len(z) for z in zs], dtype=torch.long)
    return x, lengths, targets, target_lengths


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """Run torch on one thread inside the block (results then do not depend on the machine)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


# ----------------------------------------------------------------------------- the network
@runtime_checkable
class CTCModel(Protocol):
    """What `train_ctc_model`, `posteriors` and `TrainedCTC` need of a CTC network.

    Called as ``net(x, lengths)`` with ``x`` (N, L, F) and ``lengths`` (N,), it returns
    ``(log_probs, out_lengths)``: ln y^t_k as (N, L', C) with L' = ceil(L / stride) and the (N,)
    output lengths ceil(lengths / stride). `CTCNet` is one.
    """

    n_classes: int
    """C, the output labels including the blank (label 0)."""
    training: bool

    @property
    def stride(self) -> int:
        """Input frames per output frame."""
        ...

    @property
    def n_params(self) -> int:
        """Number of trainable weights."""
        ...

    @property
    def describe(self) -> str:
        """The architecture in a line."""
        ...

    def __call__(
        self, x: torch.Tensor, lengths: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]: ...

    def train(self, mode: bool = True) -> Any: ...

    def eval(self) -> Any: ...

    def parameters(self, recurse: bool = True) -> Iterator[nn.Parameter]: ...

    def state_dict(self, *args: Any, **kwargs: Any) -> dict[str, Any]: ...

    def load_state_dict(
        self, state_dict: Any, strict: bool = True, assign: bool = False
    ) -> Any: ...


class CTCNet(nn.Module):
    """(B)LSTM-CTC: optional tanh input projection, stacked (B)LSTM, linear layer, log-softmax.

    Args:
        n_in: Input features per frame (F).
        n_classes: Output labels C including the blank (label 0).
        cfg: The architecture.
        generator: Draws the initial weights.

    Inputs: ``x`` (N, L, F) padded batch, ``lengths`` (N,) true lengths (None: all L).
    Outputs: ``(log_probs, out_lengths)``: ln y^t_k as (N, L', C) with L' = ceil(L / stack),
    and (N,) output lengths ceil(lengths / stack).
    """

    def __init__(
        self, n_in: int, n_classes: int, cfg: CTCNetConfig, generator: torch.Generator
    ) -> None:
        super().__init__()
        if n_in < 1 or n_classes < 2:
            raise RnnaiError(
                f"CTCNet needs n_in >= 1 and n_classes >= 2 (blank + a label); got {n_in}, "
                f"{n_classes}"
            )
        self.cfg = cfg
        self.n_in = n_in
        self.n_classes = n_classes
        width = n_in * cfg.stack
        self.proj = nn.Linear(width, cfg.projection) if cfg.projection else None
        self.lstm = LSTM(
            cfg.projection or width,
            cfg.hidden,
            num_layers=cfg.layers,
            batch_first=True,
            bidirectional=cfg.bidirectional,
            variant=cfg.variant,
        )
        self.head = nn.Linear(cfg.hidden * (2 if cfg.bidirectional else 1), n_classes)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_((torch.rand(p.shape, generator=generator) * 2 - 1) * cfg.init_range)

    @property
    def n_params(self) -> int:
        """Number of trainable weights."""
        return sum(p.numel() for p in self.parameters())

    @property
    def stride(self) -> int:
        """Input frames per output frame (the config's ``stack``)."""
        return self.cfg.stack

    @property
    def describe(self) -> str:
        """The architecture in a line (the config's ``describe``)."""
        return self.cfg.describe

    def forward(
        self, x: torch.Tensor, lengths: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(N, L, F) -> ((N, L', C) log-probabilities, (N,) output lengths)."""
        if x.dim() != 3 or x.shape[2] != self.n_in:
            raise RnnaiError(f"CTCNet expected input (N, L, {self.n_in}), got {tuple(x.shape)}")
        N, L, _ = x.shape
        if lengths is None:
            lengths = torch.full((N,), L, dtype=torch.long)
        k = self.cfg.stack
        if k > 1:
            pad = (-L) % k
            if pad:
                x = F.pad(x, (0, 0, 0, pad))  # (N, L + pad, F)
            x = x.reshape(N, (L + pad) // k, k * self.n_in)  # (N, L', k F)
            lengths = (lengths + k - 1) // k
        if self.proj is not None:
            x = torch.tanh(self.proj(x))  # (N, L', P)
        h, _ = self.lstm(x, lengths=lengths)  # (N, L', D H)
        return F.log_softmax(self.head(h), dim=-1), lengths  # ln y^t_k, (N, L', C)


def count_params(cfg: CTCNetConfig, n_in: int, n_classes: int) -> int:
    """The number of weights `CTCNet` has for a config, without building it.

    Per LSTM layer and direction G H (I_k + H) weights and 2 G H biases (two bias vectors, as
    torch), with G the variant's gate blocks and I_k the layer's input width, plus peepholes and
    gate recurrence where the variant has them; plus the projection and the output layer.
    """
    v = VARIANTS[cfg.variant]
    width = n_in * cfg.stack
    D = 2 if cfg.bidirectional else 1
    H, G = cfg.hidden, len(v.gates)
    total = cfg.projection * (width + 1) if cfg.projection else 0
    extra = len(v.peephole_gates) * H  # peephole weights
    if v.full_gate_recurrence:
        extra += (len(v.sigmoid_gates) * H) ** 2
    for k in range(cfg.layers):
        in_k = (cfg.projection or width) if k == 0 else D * H
        total += D * (G * H * (in_k + H) + 2 * G * H + extra)
    return total + (D * H + 1) * n_classes


def matched_unidirectional(cfg: CTCNetConfig, n_in: int, n_classes: int) -> CTCNetConfig:
    """A unidirectional config like ``cfg`` whose cell count gives the closest number of weights.

    Args:
        cfg: The bidirectional config.
        n_in: Input features per frame.
        n_classes: Output labels including the blank.

    Returns:
        ``cfg`` with ``bidirectional=False`` and ``hidden`` chosen to match `count_params`.
    """
    target = count_params(cfg, n_in, n_classes)
    best = min(
        range(1, 4 * cfg.hidden + 1),
        key=lambda h: abs(
            count_params(replace(cfg, hidden=h, bidirectional=False), n_in, n_classes) - target
        ),
    )
    return replace(cfg, hidden=best, bidirectional=False)


def ctc_objective(
    net: CTCModel,
    x: torch.Tensor,
    lengths: torch.Tensor,
    targets: torch.Tensor,
    target_lengths: torch.Tensor,
) -> torch.Tensor:
    """O = -sum ln p(z | x) over the batch, divided by the batch size (Graves et al. 2006, Eq. 12).

    Args:
        net: The network.
        x: (B, T, F) padded inputs.
        lengths: (B,) input lengths.
        targets: (sum L_i,) concatenated labellings.
        target_lengths: (B,) labelling lengths.

    Returns:
        The scalar loss.
    """
    logp, out_lengths = net(x, lengths)
    loss = F.ctc_loss(
        logp.transpose(0, 1),  # (T, B, C), as ctc_loss wants
        targets,
        out_lengths,
        target_lengths,
        blank=0,
        reduction="sum",
        zero_infinity=True,
    )
    return loss / x.shape[0]


# ----------------------------------------------------------------------------- evaluation
@dataclass
class Posteriors:
    """The network's outputs on a data set.

    Attributes:
        log_probs: (N, T_max, C) float32 ln y^t_k, zero-padded past each utterance's length.
        lengths: (N,) int64 output frames per utterance.
        loss: Mean CTC loss -ln p(z | x) per utterance.
    """

    log_probs: np.ndarray
    lengths: np.ndarray
    loss: float

    def utterance(self, i: int) -> np.ndarray:
        """(T_i, C) log-probabilities of utterance ``i``."""
        return self.log_probs[i, : self.lengths[i]]


@torch.no_grad()
def posteriors(
    net: CTCModel, data: LabelledData, norm: Normalizer, batch: int = 32
) -> Posteriors:
    """Run the network over a data set (in length-sorted batches) and collect ln y^t_k.

    Args:
        net: The trained network (`CTCNet` or any `CTCModel`).
        data: The data set.
        norm: The training set's normalizer.
        batch: Utterances per forward pass (for a net that reads its inputs' padding, as the
            MD-LSTM's right-to-left sweeps do, the outputs depend on it).

    Returns:
        The posteriors, in the data set's order, and the mean CTC loss.
    """
    was_training = net.training
    net.eval()
    n = len(data.features)
    stack = net.stride
    out_len = np.array([-(-len(x) // stack) for x in data.features], dtype=np.int64)
    out = np.zeros((n, int(out_len.max()), net.n_classes), dtype=np.float32)
    order = np.argsort([len(x) for x in data.features], kind="stable")
    total = 0.0
    with _one_thread():
        for start in range(0, n, batch):
            idx = order[start : start + batch]
            x, lengths, targets, target_lengths = pad_batch(data, idx, norm)
            logp, ol = net(x, lengths)
            total += float(
                F.ctc_loss(
                    logp.transpose(0, 1), targets, ol, target_lengths, 0, "sum", zero_infinity=True
                )
            )
            for b, i in enumerate(idx):
                out[i, : int(ol[b])] = logp[b, : int(ol[b])].numpy()
    net.train(was_training)
    return Posteriors(out, out_len, total / n)


def spikes(log_probs: np.ndarray, blank: int = 0) -> list[tuple[int, int]]:
    """Where the network fires: (frame, label) at the first frame of every run of one non-blank
    argmax label (the frames that best path keeps).

    Args:
        log_probs: (T, C) ln y^t_k.
        blank: The blank label.

    Returns:
        (frame, label) pairs in time order.
    """
    path = log_probs.argmax(-1)  # (T,)
    out = []
    for t, k in enumerate(path):
        if k != blank and (t == 0 or path[t - 1] != k):
            out.append((t, int(k)))
    return out


def spike_alignment(
    post: Posteriors,
    data: LabelledData,
    spans: Sequence[Sequence[tuple[str, int, int]]],
    stack: int,
) -> tuple[float | None, int]:
    """How often CTC's spikes fall inside the reference segment of the label they emit.

    Only for word labels with known word segments: over the utterances whose best-path decoding
    equals the reference, the k-th spike should lie inside the k-th word's frames
    [first, end) (the output frame covers input frames [t stack, (t+1) stack)). The network was
    never shown these segments: a high fraction shows that CTC found the alignment itself.

    Args:
        post: The posteriors on ``data``.
        data: The data set (word labels).
        spans: Per utterance the reference (word, first_frame, end_frame) segments.
        stack: Input frames per output frame.

    Returns:
        (fraction of spikes inside their word's segment or None when no utterance was decoded
        exactly, number of spikes judged).
    """
    inside = judged = 0
    for i in range(len(data.labels)):
        sp = spikes(post.utterance(i))
        z = data.labels[i].tolist()
        if [k for _, k in sp] != z or len(spans[i]) != len(z):
            continue
        for (t, _), (_, first, end) in zip(sp, spans[i], strict=True):
            judged += 1
            inside += int(t * stack < end and (t + 1) * stack > first)
    return (inside / judged if judged else None), judged


# ----------------------------------------------------------------------------- training
@dataclass
class TrainedCTC:
    """A trained network and its history.

    Attributes:
        label: The name it was trained under.
        net: The network with the weights of its best validation epoch.
        norm: The input normalizer (fitted on the training set).
        curve: Rows [epoch, mean training loss, validation loss, validation best-path LER].
        best_epoch: The epoch (1-based) whose weights ``net`` holds.
    """

    label: str
    net: CTCModel
    norm: Normalizer
    curve: list[list[float]] = field(default_factory=list)
    best_epoch: int = 0

    @property
    def best_valid_ler(self) -> float:
        """Validation LER (best path) of the kept weights."""
        return self.curve[self.best_epoch - 1][3] if self.best_epoch else math.nan

    def summary(self) -> dict[str, Any]:
        """JSON-able facts: parameters, best epoch, validation LER, the curve."""
        return {
            "params": self.net.n_params,
            "net": self.net.describe,
            "best_epoch": self.best_epoch,
            "best_valid_ler": self.best_valid_ler,
            "curve": self.curve,
        }


class _Epochs:
    """One trial's training data for `rnnai.train.loop.run_trials`: epochs of minibatches.

    Epoch e draws its batches (`length_batches`) from the stream ``(label, "epoch", e)`` and its
    input noise from the torch stream ``(label, "noise", e)``; the loop counts utterances, and
    `due` asks for an evaluation at the end of every epoch. The best validation weights so far
    (kept by `_BestValidation`) travel in this object's checkpoint state.
    """

    def __init__(
        self,
        data: LabelledData,
        norm: Normalizer,
        cfg: CTCTrainConfig,
        seeds: Seeds,
        label: str,
    ) -> None:
        self.data, self.norm, self.cfg, self.seeds, self.label = data, norm, cfg, seeds, label
        self.lengths = [len(x) for x in data.features]
        self.epoch = 0  # epochs started
        self.batches: list[np.ndarray] = []
        self.pos = 0
        self.noise: torch.Generator | None = None
        self.best_state: dict[str, torch.Tensor] = {}
        self.best_epoch = 0
        self.best_ler = math.inf

    def next_loss(self, net: nn.Module) -> tuple[torch.Tensor, int]:
        """The CTC objective of the next minibatch (`ctc_objective`) and its utterance count."""
        if self.pos == len(self.batches):  # a new epoch
            rng = self.seeds.rng(self.label, "epoch", self.epoch)
            self.batches = length_batches(self.lengths, self.cfg.batch, rng, self.cfg.length_jitter)
            self.noise = self.seeds.torch_generator(self.label, "noise", self.epoch)
            self.epoch, self.pos = self.epoch + 1, 0
        idx = self.batches[self.pos]
        self.pos += 1
        net.train()
        x, lengths, targets, target_lengths = pad_batch(self.data, idx, self.norm)
        if self.cfg.input_noise > 0:
            x = x + self.cfg.input_noise * torch.randn(x.shape, generator=self.noise)
            x = x * (torch.arange(x.shape[1])[None, :, None] < lengths[:, None, None])
        return ctc_objective(cast(CTCModel, net), x, lengths, targets, target_lengths), len(idx)

    def due(self) -> bool:
        """True at the end of an epoch."""
        return self.pos == len(self.batches)

    def state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """The best weights, and the epoch counters (checkpoints fall on epoch ends)."""
        if self.pos != len(self.batches):
            raise RnnaiError(f"CTC training checkpoints at epoch ends, not at batch {self.pos}")
        return dict(self.best_state), {
            "epoch": self.epoch,
            "best_epoch": self.best_epoch,
            "best_ler": self.best_ler,
        }

    def restore(self, tensors: dict[str, torch.Tensor], state: dict[str, Any]) -> None:
        """Continue after the epoch a checkpoint was written at."""
        self.epoch, self.batches, self.pos = state["epoch"], [], 0
        self.best_state = dict(tensors)
        self.best_epoch, self.best_ler = state["best_epoch"], state["best_ler"]


@dataclass(frozen=True)
class _EpochSource:
    """The `rnnai.train.loop.DataSource` of `train_ctc` (one trial); remembers what it opened."""

    data: LabelledData
    norm: Normalizer
    cfg: CTCTrainConfig
    seeds: Seeds
    label: str
    opened: list[_Epochs] = field(default_factory=list)

    def open(self, streams: TrialStreams) -> _Epochs:
        """Fresh epochs; the streams come from ``seeds`` under ``label`` (one trial)."""
        self.opened.append(_Epochs(self.data, self.norm, self.cfg, self.seeds, self.label))
        return self.opened[-1]


@dataclass(frozen=True)
class _BestValidation:
    """The `rnnai.train.loop.Evaluation` of `train_ctc`: best-path LER on the validation set.

    Never stops a trial (a fixed epoch budget); keeps the weights of the lowest validation LER
    in the trial's `_Epochs` (the first such epoch on ties). The curve row is (mean training
    loss, mean validation loss, validation LER); ``wrong`` counts the validation utterances not
    decoded exactly.
    """

    valid: LabelledData
    batch: int = 32

    def open(self, streams: TrialStreams, data: TrialData) -> Callable[[nn.Module, float], Check]:
        """The judge of one trial."""
        assert isinstance(data, _Epochs)
        epochs = data
        refs = [z.tolist() for z in self.valid.labels]

        def judge(net: nn.Module, train_loss: float) -> Check:
            post = posteriors(cast(CTCModel, net), self.valid, epochs.norm, self.batch)
            hyps = _best_path_labels(post)
            ler = label_error_rate(refs, hyps)
            if ler < epochs.best_ler:
                epochs.best_ler, epochs.best_epoch = ler, epochs.epoch
                epochs.best_state = {k: v.clone() for k, v in net.state_dict().items()}
            return Check(
                solved=False,
                row=(train_loss, post.loss, ler),
                wrong=sum(h != r for h, r in zip(hyps, refs, strict=True)),
                size=len(refs),
                error=ler,
            )

        return judge


def _best_path_labels(post: Posteriors) -> list[list[int]]:
    hyps = best_path(post.log_probs, post.lengths)
    assert isinstance(hyps, list), "a batch of posteriors decodes to a list"
    return [h.labels for h in hyps]


def valid_ler(post: Posteriors, data: LabelledData) -> float:
    """Best-path label error rate of posteriors against the data's labellings."""
    return label_error_rate([z.tolist() for z in data.labels], _best_path_labels(post))


def train_ctc(
    train: LabelledData,
    valid: LabelledData,
    net_cfg: CTCNetConfig,
    train_cfg: CTCTrainConfig,
    *,
    seed: int,
    label: str = "blstm",
    hooks: Hooks | None = None,
    seed_keys: Sequence[int | str] = (),
) -> TrainedCTC:
    """Train a (B)LSTM-CTC network (`CTCNet`), checkpointing every epoch; keep the best
    validation weights.

    `train_ctc_model` with the factory ``lambda gen: CTCNet(F, C, net_cfg, gen)``.

    Args:
        train: Training data (`LabelledData`).
        valid: Validation data (decoded by best path after every epoch).
        net_cfg: The architecture.
        train_cfg: The learning setup.
        seed: The seed every random stream derives from (``rnnai.runtime.seeding.derive_seed``):
            the initial weights, each epoch's batches and input noise.
        label: A name unique among the networks sharing one checkpointer; also a random stream
            name, so two labels trained with one seed start from different weights.
        hooks: Checkpointer, progress and log (`rnnai.train.hooks.Hooks`; an experiment's run
            context is one); None: `rnnai.train.hooks.SilentHooks` (no checkpoints, no output).
        seed_keys: Stream names put before every stream's own (the runner passes the
            experiment's name): the initial weights use the torch stream
            ``derive_seed(seed, *seed_keys, "torch", label, "init")``, epoch e's batches
            ``derive_seed(seed, *seed_keys, label, "epoch", e)`` (`rnnai.train.loop.Seeds`).

    Returns:
        The network with its best validation weights, and the learning curve.

    Raises:
        CTCDataError: If an utterance cannot be labelled by CTC or the data sets disagree.
    """
    n_in, C = train.features[0].shape[1], len(train.alphabet)
    return train_ctc_model(
        train,
        valid,
        lambda gen: CTCNet(n_in, C, net_cfg, gen),
        train_cfg,
        stride=net_cfg.stack,
        seed=seed,
        label=label,
        hooks=hooks,
        seed_keys=seed_keys,
    )


def train_ctc_model(
    train: LabelledData,
    valid: LabelledData,
    make_net: Callable[[torch.Generator], CTCModel],
    train_cfg: CTCTrainConfig,
    *,
    stride: int,
    seed: int,
    label: str = "net",
    hooks: Hooks | None = None,
    seed_keys: Sequence[int | str] = (),
    eval_batch: int = 32,
) -> TrainedCTC:
    """Train any CTC network (`CTCModel`), checkpointing every epoch; keep the best validation
    weights.

    Runs the library's one training loop (`rnnai.train.loop.run_trials`, one trial) with an
    epoch data source (length-sorted minibatches, `ctc_objective`) and a validation hook
    (best-path LER after every epoch, the best weights kept), the optimizer from
    `rnnai.train.loop.make_optimizer`.

    Args:
        train: Training data (`LabelledData`).
        valid: Validation data (decoded by best path after every epoch).
        make_net: Builds the network, drawing its initial weights from the generator it is
            given (the torch stream ``(label, "init")``).
        train_cfg: The learning setup.
        stride: Input frames per output frame of the network (checked against every labelling:
            CTC needs enough output frames).
        seed: The seed every random stream derives from (see `train_ctc`).
        label: A name unique among the networks sharing one checkpointer; also a stream name.
        hooks: Checkpointer, progress and log; None: `rnnai.train.hooks.SilentHooks`.
        seed_keys: Stream names put before every stream's own (see `train_ctc`).
        eval_batch: Utterances per forward pass when decoding the validation set (`posteriors`).

    Returns:
        The network with its best validation weights, and the learning curve.

    Raises:
        CTCDataError: If an utterance cannot be labelled by CTC or the data sets disagree.
        RnnaiError: If ``make_net`` builds a network whose ``stride`` is not ``stride``.
    """
    check_ctc_data(train, stride, "training data")
    check_ctc_data(valid, stride, "validation data")
    if tuple(train.alphabet) != tuple(valid.alphabet):
        raise CTCDataError("training and validation data have different alphabets")
    hooks = SilentHooks() if hooks is None else hooks
    norm = Normalizer.fit(train.features)
    N = len(train.features)
    seeds = Seeds(seed, tuple(seed_keys))
    source = _EpochSource(train, norm, train_cfg, seeds, label)

    def build(gen: torch.Generator) -> nn.Module:
        net = make_net(gen)
        if net.stride != stride:
            raise RnnaiError(f"make_net built a net of stride {net.stride}, expected {stride}")
        return cast(nn.Module, net)

    def keep_best(net: nn.Module, result: TrialResult) -> dict[str, Any]:
        epochs = source.opened[-1]
        net.load_state_dict(epochs.best_state)
        return {"best_epoch": epochs.best_epoch}

    budget = train_cfg.epochs * N
    config = TrainConfig(
        optimizer=train_cfg.optimizer,
        lr=train_cfg.lr,
        momentum=train_cfg.momentum,
        batch=train_cfg.batch,
        max_sequences=budget,
        eval_every=budget,  # and at every epoch end, when the data says so
        grad_clip=train_cfg.grad_clip if train_cfg.grad_clip > 0 else None,
    )
    with _one_thread():
        run = run_trials(
            make_net=build,
            data=source,
            evaluation=_BestValidation(valid, eval_batch),
            config=config,
            trials=1,
            seeds=seeds,
            hooks=hooks,
            label=label,
            keys=lambda purpose, trial: (label, purpose),
            on_trial_end=keep_best,
        )
    assert run.net is not None
    net = cast(CTCModel, run.net)
    result = run.results[0]
    curve = [[int(row[0]) // N, *row[1:]] for row in result.curve]  # units -> epochs
    model = TrainedCTC(label, net, norm, curve, result.extra["best_epoch"])
    hooks.log(
        f"{label}: {net.describe}, {net.n_params:,} weights; best validation LER "
        f"{model.best_valid_ler:.4f} at epoch {model.best_epoch}/{train_cfg.epochs} "
        f"({train_cfg.describe})"
    )
    return model
