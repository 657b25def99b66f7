"""Agents that model their world and are driven by it: curiosity and its test environments.

Modules:

* `rnnai.agents.curiosity`: intrinsic rewards for a learner with a world model: learning
  (compression) progress (Schmidhuber 1991, 2010) and the raw prediction error bonus (Pathak et
  al. 2017), an online linear world model that reports both, and an epsilon-greedy chooser;
* `rnnai.agents.regions`: `CuriosityRegionsEnv`, a learnable region, a noise region and a
  trivial region to choose between;
* `rnnai.agents.maze`: `NoisyTVMazeEnv`, a four-room gridworld with a noisy TV, a tabular world
  model that reports raw error and learning progress, and a tabular Q-learner.

Examples:
    >>> from rnnai.agents import CuriosityRegionsEnv, LinearWorldModel
    >>> env = CuriosityRegionsEnv(n_dims=2)
    >>> model = LinearWorldModel(n_in=2, n_out=2, lr=0.1, history=8)
    >>> obs, _ = env.reset(seed=0)
    >>> obs, *_ = env.step(0)
    >>> model.observe(obs[3:5], obs[5:7]).progress > 0
    True
"""

from rnnai.agents.curiosity import (
    EpsilonGreedyChooser,
    LinearWorldModel,
    Observation,
    compression_progress,
    prediction_error_reward,
    windowed_progress,
)
from rnnai.agents.maze import MOVES, NoisyTVMazeEnv, QLearner, TabularWorldModel, maze_layout
from rnnai.agents.regions import LEARNABLE, NOISE, REGION_NAMES, TRIVIAL, CuriosityRegionsEnv

__all__ = [
    "LEARNABLE",
    "MOVES",
    "NOISE",
    "REGION_NAMES",
    "TRIVIAL",
    "CuriosityRegionsEnv",
    "EpsilonGreedyChooser",
    "LinearWorldModel",
    "NoisyTVMazeEnv",
    "Observation",
    "QLearner",
    "TabularWorldModel",
    "compression_progress",
    "maze_layout",
    "prediction_error_reward",
    "windowed_progress",
]
