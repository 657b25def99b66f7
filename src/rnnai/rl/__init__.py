"""Reinforcement learning with recurrent networks.

`rnnai.rl.advantage`: RL-LSTM, Advantage(lambda) learning with an LSTM function approximator
(Bakker, NIPS 14, 2002), and its memoryless baseline (the same learner with ``cells = 0``).

Examples:
    >>> import torch
    >>> from rnnai.rl import AdvantageConfig, AdvantageNet, NetConfig
    >>> net = AdvantageNet(3, 4, NetConfig(cells=3, hidden=12), torch.Generator().manual_seed(0))
    >>> net(torch.zeros(5, 2, 3)).shape  # (L, N, n_obs) -> (L, N, n_actions)
    torch.Size([5, 2, 4])
    >>> AdvantageConfig(kappa=0.1).optimizer
    'adam'
"""

from __future__ import annotations

from rnnai.rl.advantage import (
    AdvantageConfig,
    AdvantageLearner,
    AdvantageNet,
    BatchEnv,
    Episodes,
    NetConfig,
    advantage_errors,
    boltzmann_sample,
    trace_weights,
)

__all__ = [
    "AdvantageConfig",
    "AdvantageLearner",
    "AdvantageNet",
    "BatchEnv",
    "Episodes",
    "NetConfig",
    "advantage_errors",
    "boltzmann_sample",
    "trace_weights",
]
