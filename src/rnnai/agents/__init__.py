"""Agents that model their world and are driven by it: world models, curiosity, attention.

Modules:

* `rnnai.agents.curiosity`: intrinsic rewards for a learner with a world model: learning
  (compression) progress (Schmidhuber 1991, 2010) and the raw prediction error bonus (Pathak et
  al. 2017), an online linear world model that reports both, and an epsilon-greedy chooser;
* `rnnai.agents.regions`: `CuriosityRegionsEnv`, a learnable region, a noise region and a
  trivial region to choose between;
* `rnnai.agents.maze`: `NoisyTVMazeEnv`, a four-room gridworld with a noisy TV, a tabular world
  model that reports raw error and learning progress, and a tabular Q-learner;
* `rnnai.agents.world_model`: the 1990 recurrent world model M, a controller C trained by
  backpropagation through the frozen M, and planning by imagined rollouts;
* `rnnai.agents.think`: learning to think (2015): a controller that reads and queries a frozen
  world model, searched by CMA-ES that counts every environment step;
* `rnnai.agents.world_models`: World Models (2018): the convolutional VAE V, the MDN-RNN M, the
  linear controller C, batched rollouts and a batched dream, and `DodgeEnv`, a small pixel task;
* `rnnai.agents.fovea`: a multi-resolution fovea, the 1991 saccade controller trained through a
  model of the fovea's input, and the recurrent attention model (2014).

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
from rnnai.agents.fovea import (
    RAM,
    FoveaController,
    FoveaModel,
    FoveaNetConfig,
    RAMConfig,
    RAMOutput,
    glimpse,
    model_rollout,
    ram_loss,
    saccade,
)
from rnnai.agents.maze import MOVES, NoisyTVMazeEnv, QLearner, TabularWorldModel, maze_layout
from rnnai.agents.regions import LEARNABLE, NOISE, REGION_NAMES, TRIVIAL, CuriosityRegionsEnv
from rnnai.agents.think import ModelQueryPolicy, RecurrentPolicy, search_until
from rnnai.agents.world_model import (
    Imagined,
    RecurrentController,
    RecurrentWorldModel,
    imagine,
    plan_first_actions,
    train_controller_through_model,
    train_model,
)
from rnnai.agents.world_models import (
    MDNRNN,
    ConvVAE,
    DodgeEnv,
    DreamEnv,
    MDNRNNConfig,
    VAEConfig,
    controller_dim,
    sample_mdn,
)

__all__ = [
    "RAM",
    "FoveaController",
    "FoveaModel",
    "FoveaNetConfig",
    "RAMConfig",
    "RAMOutput",
    "glimpse",
    "model_rollout",
    "ram_loss",
    "saccade",
    "ModelQueryPolicy",
    "RecurrentPolicy",
    "search_until",
    "Imagined",
    "RecurrentController",
    "RecurrentWorldModel",
    "imagine",
    "plan_first_actions",
    "train_controller_through_model",
    "train_model",
    "MDNRNN",
    "ConvVAE",
    "DodgeEnv",
    "DreamEnv",
    "MDNRNNConfig",
    "VAEConfig",
    "controller_dim",
    "sample_mdn",
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
