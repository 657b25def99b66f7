"""Reinforcement learning with recurrent networks.

`rnnai.rl.advantage`: RL-LSTM, Advantage(lambda) learning with an LSTM function approximator
(Bakker, NIPS 14, 2002), and its memoryless baseline (the same learner with ``cells = 0``).
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
