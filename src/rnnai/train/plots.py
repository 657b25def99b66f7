"""Plots of trained sequence networks: learning curves and a network's internals on one sequence.

Both write a PNG with matplotlib's object API (no global pyplot state) and return its file name.

Examples:
    >>> import tempfile, numpy as np, torch
    >>> from pathlib import Path
    >>> from rnnai.tasks import AddingTask
    >>> from rnnai.train.loop import TrialResult
    >>> from rnnai.train.sequence import NetConfig, SequenceNet
    >>> folder = Path(tempfile.mkdtemp())
    >>> r = TrialResult(trial=0, solved=False, sequences=20, eval_wrong=3, eval_size=8,
    ...                 eval_error=0.2, curve=[[10, 0.5, 0.5, 0.3], [20, 0.4, 0.375, 0.2]])
    >>> plot_learning_curves({"adam": [r]}, folder / "curve.png", "Adding")
    'curve.png'
    >>> net = SequenceNet(2, 1, NetConfig(hidden=2), torch.Generator().manual_seed(0))
    >>> batch = AddingTask().sample(np.random.default_rng(0), 1)
    >>> plot_internals(net, batch, folder / "inside.png", "Adding")
    'inside.png'
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from rnnai.tasks.base import SequenceBatch
from rnnai.train.loop import TrialResult
from rnnai.train.sequence import SequenceNet

__all__ = ["plot_internals", "plot_learning_curves"]


def plot_learning_curves(
    groups: dict[str, list[TrialResult]], path: Path, title: str, paper: float | None = None
) -> str:
    """Evaluation error fraction against training sequences, one line per trial."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 3.6))
    ax = fig.subplots()
    colors = ["C0", "C1", "C2", "C3", "C4", "C5", "C6", "C7"]
    for k, (name, results) in enumerate(groups.items()):
        for j, r in enumerate(results):
            if not r.curve:
                continue
            c = np.asarray(r.curve)
            ax.plot(
                c[:, 0],
                np.maximum(c[:, 2], 1e-4),
                color=colors[k % 8],
                alpha=0.8,
                label=name if j == 0 else None,
            )
    if paper is not None:
        ax.axvline(paper, color="k", ls="--", lw=1, label="paper: sequences to solve")
    ax.set_yscale("log")
    ax.set_xlabel("training sequences")
    ax.set_ylabel("fraction of evaluation sequences wrong")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    return path.name


def plot_internals(
    net: SequenceNet,
    batch: SequenceBatch,
    path: Path,
    title: str,
    index: int = 0,
    symbols: list[str] | None = None,
    max_cells: int = 4,
) -> str:
    """One sequence: inputs, cell states, gate activity and output vs. target over time."""
    from matplotlib.figure import Figure

    L = int(batch.lengths[index])
    x = torch.from_numpy(batch.x[index : index + 1, :L])
    tr = net.lstm.trace(x)
    with torch.no_grad():
        out = net(x)[0].numpy()
    fig = Figure(figsize=(9, 7.5))
    axes = fig.subplots(4, 1, sharex=True)
    axes[0].imshow(batch.x[index, :L].T, aspect="auto", interpolation="nearest", cmap="Greys")
    axes[0].set_ylabel("input unit")
    if symbols is not None and len(symbols) == batch.x.shape[2]:
        axes[0].set_yticks(range(len(symbols)), symbols, fontsize=6)
    n_cells = min(max_cells, net.cfg.hidden)
    t = np.arange(L)
    for k in range(n_cells):
        axes[1].plot(t, tr["c"][:, 0, k].numpy(), label=f"cell {k}")
    axes[1].set_ylabel("cell state c")
    axes[1].legend(fontsize=7, ncol=n_cells)
    styles = {"i": "-", "o": "--", "f": ":"}
    for g, ls in styles.items():
        if g in tr:
            for k in range(n_cells):
                axes[2].plot(
                    t,
                    tr[g][:, 0, k].numpy(),
                    ls=ls,
                    color=f"C{k}",
                    label=f"{g} gate" if k == 0 else None,
                )
    axes[2].set_ylabel("gate activation")
    axes[2].set_ylim(-0.05, 1.05)
    axes[2].legend(fontsize=7, ncol=3)
    m = batch.mask[index, :L]
    for o in range(out.shape[1]):
        axes[3].plot(t, out[:, o], color=f"C{o % 10}", lw=1)
        axes[3].plot(t[m], batch.y[index, :L, o][m], "o", color=f"C{o % 10}", ms=3)
    axes[3].set_ylabel("output (dots: targets)")
    axes[3].set_xlabel("time step")
    axes[0].set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    return path.name
