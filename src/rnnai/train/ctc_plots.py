"""Plots of a CTC network: learning curves, and its output spikes aligned with the input.

`plot_learning_curves` draws the training loss and the validation label error rate of
`rnnai.train.ctc.train_ctc` runs against the epochs; `plot_alignment` draws the input (a
spectrogram or a text-line image) under the network's per-frame outputs y^t_k, with a label at
every spike (Graves et al. 2006, Fig. 1 shows this view: CTC emits each label as a spike and the
blank in between).

Examples:
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from rnnai.train.ctc_plots import plot_alignment
    >>> logp = np.log(np.full((6, 3), 0.05))
    >>> logp[[0, 2, 3, 5], 0] = logp[1, 1] = logp[4, 2] = np.log(0.9)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     plot_alignment(np.zeros((6, 4)), logp, ("<blank>", "a", "b"),
    ...                    Path(tmp) / "view.png", "a view", reference="ab", decoded="ab")
    'view.png'
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rnnai.train.ctc import TrainedCTC, spikes

__all__ = ["plot_alignment", "plot_learning_curves"]


def plot_learning_curves(
    models: Sequence[TrainedCTC], path: Path, title: str, paper: float | None = None
) -> str:
    """Training loss and validation label error rate against epochs, one line per network.

    Args:
        models: The trained networks.
        path: Where to write the PNG.
        title: The figure title.
        paper: A paper's error rate to mark on the LER axis (a fraction), or None.

    Returns:
        The file name.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 3.4))
    ax_loss, ax_ler = fig.subplots(1, 2)
    for k, m in enumerate(models):
        c = np.asarray(m.curve, dtype=np.float64)
        if not len(c):
            continue
        ax_loss.plot(c[:, 0], c[:, 1], color=f"C{k}", label=f"{m.label} train")
        ax_loss.plot(c[:, 0], c[:, 2], color=f"C{k}", ls="--", label=f"{m.label} valid")
        ax_ler.plot(c[:, 0], c[:, 3], color=f"C{k}", label=m.label)
        ax_ler.plot([m.best_epoch], [m.best_valid_ler], "o", color=f"C{k}", ms=5)
    if paper is not None:
        ax_ler.axhline(paper, color="k", ls=":", lw=1, label="paper (other data)")
    ax_loss.set_yscale("log")
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("CTC loss per utterance")
    ax_ler.set_xlabel("epoch")
    ax_ler.set_ylabel("validation LER (best path)")
    ax_ler.set_ylim(bottom=0)
    ax_loss.legend(fontsize=7)
    ax_ler.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    return path.name


def plot_alignment(
    features: np.ndarray,
    log_probs: np.ndarray,
    alphabet: Sequence[str],
    path: Path,
    title: str,
    *,
    reference: str,
    decoded: str,
    stack: int = 1,
    image: bool = False,
    spans: Sequence[tuple[str, int, int]] | None = None,
    highlight: tuple[int, int] | None = None,
) -> str:
    """The aligned view: the input, and above it the CTC output spikes with their labels.

    Args:
        features: (T, F) input frames (unnormalized).
        log_probs: (T', C) the network's ln y^t_k for the same utterance.
        alphabet: Label names (index 0 is the blank).
        path: Where to write the PNG.
        title: The figure title.
        reference: The true transcript.
        decoded: The decoded transcript.
        stack: Input frames per output frame.
        image: Draw the features as an image (row 0 at the top: text lines), else as a
            spectrogram (row 0 at the bottom).
        spans: Reference (word, first_frame, end_frame) segments to mark, or None.
        highlight: Input frames [first, end) to shade over the outputs (e.g. a spotted
            keyword), or None.

    Returns:
        The file name.
    """
    from matplotlib.figure import Figure

    T = features.shape[0]
    probs = np.exp(log_probs)  # (T', C)
    t_in = (np.arange(probs.shape[0]) + 0.5) * stack  # output frame -> input frame centre
    fig = Figure(figsize=(10, 5.2))
    ax_y, ax_x = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [1.1, 1.0]})
    ax_y.plot(t_in, probs[:, 0], color="0.7", ls="--", lw=1, label="blank")
    for t, k in spikes(log_probs):
        ax_y.plot(t_in, probs[:, k], color=f"C{k % 10}", lw=1)
        ax_y.annotate(
            alphabet[k] if alphabet[k] != " " else "_",
            (t_in[t], min(probs[t, k] + 0.04, 1.08)),
            ha="center",
            fontsize=8,
            color=f"C{k % 10}",
        )
        ax_x.axvline(t_in[t], color="r", lw=0.6, alpha=0.6)
    if highlight is not None:
        ax_y.axvspan(*highlight, color="gold", alpha=0.3, label="highlighted segment")
    ax_y.set_ylim(0, 1.15)
    ax_y.set_ylabel("output y_k^t")
    ax_y.legend(fontsize=7, loc="upper right")
    ax_y.set_title(f"{title}\nreference: {reference!r}\ndecoded:   {decoded!r}", fontsize=9)
    ax_x.imshow(
        features.T,
        aspect="auto",
        interpolation="nearest",
        cmap="Greys" if image else "viridis",
        origin="upper" if image else "lower",
        extent=(0, T, features.shape[1], 0) if image else (0, T, 0, features.shape[1]),
    )
    if spans:
        for word, a, b in spans:
            ax_x.axvspan(a, b, ymin=0.0, ymax=0.06, color="orange", alpha=0.8)
            ax_x.text((a + b) / 2, features.shape[1] * (0.02 if image else 0.98), word,
                      ha="center", va="top", fontsize=7, color="orange")  # fmt: skip
    ax_x.set_xlabel("input frame (red: output spikes; orange: reference word segments)")
    ax_x.set_ylabel("input feature")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    return path.name
