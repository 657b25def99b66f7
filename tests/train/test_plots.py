"""Plots of trained networks: files are written and the curve plot needs curves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from rnnai.tasks import ReberTask
from rnnai.train.loop import TrialResult
from rnnai.train.plots import plot_internals, plot_learning_curves
from rnnai.train.sequence import NetConfig, SequenceNet


def test_plots_write_png_files(tmp_path: Path) -> None:
    r = TrialResult(trial=0, solved=True, sequences=20, eval_wrong=0, eval_size=8, eval_error=0.1,
                    curve=[[10, 0.5, 0.5, 0.3], [20, 0.4, 0.0, 0.1]])  # fmt: skip
    name = plot_learning_curves({"a": [r], "b": [r]}, tmp_path / "c.png", "t", paper=15)
    assert name == "c.png" and (tmp_path / name).stat().st_size > 1000
    net = SequenceNet(7, 7, NetConfig(variant="gers2000", hidden=3),
                      torch.Generator().manual_seed(0))  # fmt: skip
    batch = ReberTask().sample(np.random.default_rng(0), 2)
    name = plot_internals(net, batch, tmp_path / "i.png", "t", index=1, symbols=list("BTPSXVE"))
    assert (tmp_path / name).stat().st_size > 1000
