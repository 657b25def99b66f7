"""Gymnasium environments of the neuroevolution papers, registered as ``rnnai/<Name>-v0``.

Pole balancing after Wieland (ESP, CoSyNE), `rnnai.envs.pole.PoleBalancingEnv`:

| id                               | poles | observation                         | fails at   |
|----------------------------------|-------|-------------------------------------|------------|
| ``rnnai/CartPoleWieland-v0``     | 1     | x, x', theta1, theta1'              | 12 degrees |
| ``rnnai/DoublePole-v0``          | 2     | x, x', theta1, theta1', theta2, ... | 36 degrees |
| ``rnnai/DoublePoleNonMarkov-v0`` | 2     | x, theta1, theta2 (no velocities)   | 36 degrees |

Any `PoleConfig` field can be passed to ``gym.make``, e.g.
``gym.make("rnnai/DoublePole-v0", markov=False, initial_angle_deg=1.0)`` or
``gym.make("rnnai/CartPoleWieland-v0", markov=False)``. Fitness functions (steps balanced,
Gruau's damping fitness, the 625-start generalization test) on the vectorized numba twin are in
`rnnai.envs.fitness`.

The long-term dependency T-maze of Bakker's RL-LSTM paper (NIPS 14, 2002),
`rnnai.envs.tmaze.TMazeEnv`:

| id                  | observation                                        | episode ends        |
|---------------------|----------------------------------------------------|---------------------|
| ``rnnai/TMaze-v0``  | 3 bits: road sign at the start, corridor, junction | an arm is entered   |

Any `TMazeConfig` field can be passed, e.g. ``gym.make("rnnai/TMaze-v0", corridor_length=70)``;
`rnnai.envs.tmaze.TMazeBatch` steps many mazes at once on the numba twin.

Pole balancing in 3D (poles on ball joints on a cart that moves in the plane; Gomez & Schmidhuber
2005), `rnnai.envs.pole3d.Pole3DEnv`, two force components:

| id                                  | poles | observation                              |
|-------------------------------------|-------|------------------------------------------|
| ``rnnai/Pole3D-v0``                 | 1     | x, y, x', y', theta_x, theta_y and rates |
| ``rnnai/DoublePole3D-v0``           | 2     | the same for both poles (12 values)      |
| ``rnnai/DoublePole3DNonMarkov-v0``  | 2     | x, y and the four angles (no rates)      |

The octopus arm of the RL competitions (after Yekutieli et al. 2005: 10 compartments with
dorsal, ventral and transverse muscles; 82 observations, 32 actions), ``rnnai/OctopusArm-v0``,
`rnnai.envs.octopus.OctopusArmEnv` (any `OctopusConfig` field can be passed, e.g. ``food_x=6.0``).

Vision-based driving on gymnasium's ``CarRacing-v3`` (no id of ours): `PixelCarRacing`, built by
`make_car_racing` (`rnnai.envs.car_racing`).

Importing this package registers the ids (idempotently). Every env hands out float32
observations (its physics run in float64). Every id has a ``vector_entry_point``:
``gym.make_vec(id, num_envs=N, vectorization_mode="vector_entry_point")`` steps N episodes
together on the numba kernels (`PoleBalancingVectorEnv`, `Pole3DVectorEnv`, `TMazeVectorEnv`,
`OctopusArmVectorEnv`), with gymnasium's next-step autoreset. The pole, 3D pole, octopus and T-maze
envs render with ``render_mode="rgb_array"`` (frames) or ``"human"`` (a pygame window).

Examples:
    >>> import gymnasium as gym
    >>> import numpy as np
    >>> import rnnai.envs
    >>> env = gym.make("rnnai/CartPoleWieland-v0")
    >>> obs, info = env.reset(seed=0)
    >>> obs.dtype, obs.shape
    (dtype('float32'), (4,))
    >>> vec = gym.make_vec(
    ...     "rnnai/DoublePole-v0", num_envs=8, vectorization_mode="vector_entry_point"
    ... )
    >>> obs, info = vec.reset(seed=0)
    >>> obs.shape, info["state"].shape
    ((8, 6), (8, 6))
    >>> obs, rewards, terminated, truncated, info = vec.step(np.zeros((8, 1)))
    >>> float(rewards.sum())
    8.0
    >>> maze = gym.make("rnnai/TMaze-v0", render_mode="rgb_array")
    >>> _ = maze.reset(seed=0)
    >>> maze.render().shape
    (120, 440, 3)
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from rnnai.envs.car_racing import CarRacingConfig, PixelCarRacing, make_car_racing
from rnnai.envs.octopus import OctopusArmEnv, OctopusArmVectorEnv, OctopusConfig
from rnnai.envs.pole import (
    DOUBLE_POLE,
    DOUBLE_POLE_NONMARKOV,
    SINGLE_POLE,
    PoleBalancingEnv,
    PoleBalancingVectorEnv,
    PoleConfig,
)
from rnnai.envs.pole3d import (
    DOUBLE_POLE_3D,
    DOUBLE_POLE_3D_NONMARKOV,
    SINGLE_POLE_3D,
    Pole3DConfig,
    Pole3DEnv,
    Pole3DVectorEnv,
)
from rnnai.envs.tmaze import TMazeBatch, TMazeConfig, TMazeEnv, TMazeVectorEnv

__all__ = [
    "DOUBLE_POLE",
    "DOUBLE_POLE_3D",
    "DOUBLE_POLE_3D_NONMARKOV",
    "DOUBLE_POLE_NONMARKOV",
    "ENV_IDS",
    "OCTOPUS_ENV_IDS",
    "POLE3D_ENV_IDS",
    "SINGLE_POLE",
    "SINGLE_POLE_3D",
    "TMAZE_ENV_IDS",
    "CarRacingConfig",
    "OctopusArmEnv",
    "OctopusArmVectorEnv",
    "OctopusConfig",
    "PixelCarRacing",
    "Pole3DConfig",
    "Pole3DEnv",
    "Pole3DVectorEnv",
    "PoleBalancingEnv",
    "PoleBalancingVectorEnv",
    "PoleConfig",
    "TMazeBatch",
    "TMazeConfig",
    "TMazeEnv",
    "TMazeVectorEnv",
    "make_car_racing",
    "register_envs",
]

ENV_IDS: dict[str, dict[str, Any]] = {
    "rnnai/CartPoleWieland-v0": {"n_poles": 1, "failure_angle_deg": 12.0},
    "rnnai/DoublePole-v0": {"n_poles": 2, "markov": True},
    "rnnai/DoublePoleNonMarkov-v0": {"n_poles": 2, "markov": False},
}
"""Registered ids and the `PoleConfig` fields each sets (the rest keep their defaults)."""

TMAZE_ENV_IDS: dict[str, dict[str, Any]] = {"rnnai/TMaze-v0": {}}
"""Registered T-maze ids and the `TMazeConfig` fields each sets (N = 10 by default)."""


POLE3D_ENV_IDS: dict[str, dict[str, Any]] = {
    "rnnai/Pole3D-v0": {"n_poles": 1, "failure_angle_deg": 12.0},
    "rnnai/DoublePole3D-v0": {"n_poles": 2, "markov": True},
    "rnnai/DoublePole3DNonMarkov-v0": {"n_poles": 2, "markov": False},
}
"""Registered 3D pole ids and the `Pole3DConfig` fields each sets."""

OCTOPUS_ENV_IDS: dict[str, dict[str, Any]] = {"rnnai/OctopusArm-v0": {}}
"""Registered octopus-arm ids and the `OctopusConfig` fields each sets."""

_ENTRY_POINTS: tuple[tuple[dict[str, dict[str, Any]], str, str | None], ...] = (
    (ENV_IDS, "rnnai.envs.pole:PoleBalancingEnv", "rnnai.envs.pole:PoleBalancingVectorEnv"),
    (TMAZE_ENV_IDS, "rnnai.envs.tmaze:TMazeEnv", "rnnai.envs.tmaze:TMazeVectorEnv"),
    (POLE3D_ENV_IDS, "rnnai.envs.pole3d:Pole3DEnv", "rnnai.envs.pole3d:Pole3DVectorEnv"),
    (OCTOPUS_ENV_IDS, "rnnai.envs.octopus:OctopusArmEnv", "rnnai.envs.octopus:OctopusArmVectorEnv"),
)
"""(id table, entry point, vector entry point or None) for every family of ids."""


def register_envs() -> None:
    """Register every id of the tables above with gymnasium (idempotently).

    Episodes are truncated by each config's ``max_steps``, not by a gymnasium TimeLimit. Ids
    with a numba batch twin also get a ``vector_entry_point`` for ``gym.make_vec``.
    """
    for table, entry_point, vector_entry_point in _ENTRY_POINTS:
        for env_id, kwargs in table.items():
            if env_id in gym.registry:
                continue
            gym.register(
                id=env_id,
                entry_point=entry_point,
                vector_entry_point=vector_entry_point,
                kwargs=dict(kwargs),
                max_episode_steps=None,
                disable_env_checker=False,
            )


register_envs()
