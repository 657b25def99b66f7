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
`rnnai.envs.fitness`. Importing this package registers the ids (idempotently).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from rnnai.envs.pole import (
    DOUBLE_POLE,
    DOUBLE_POLE_NONMARKOV,
    SINGLE_POLE,
    PoleBalancingEnv,
    PoleConfig,
)

__all__ = [
    "DOUBLE_POLE",
    "DOUBLE_POLE_NONMARKOV",
    "ENV_IDS",
    "SINGLE_POLE",
    "PoleBalancingEnv",
    "PoleConfig",
    "register_envs",
]

ENV_IDS: dict[str, dict[str, Any]] = {
    "rnnai/CartPoleWieland-v0": {"n_poles": 1, "failure_angle_deg": 12.0},
    "rnnai/DoublePole-v0": {"n_poles": 2, "markov": True},
    "rnnai/DoublePoleNonMarkov-v0": {"n_poles": 2, "markov": False},
}
"""Registered ids and the `PoleConfig` fields each sets (the rest keep their defaults)."""


def register_envs() -> None:
    """Register every id in `ENV_IDS` with gymnasium (a no-op for ids already registered)."""
    for env_id, kwargs in ENV_IDS.items():
        if env_id in gym.registry:
            continue
        gym.register(
            id=env_id,
            entry_point="rnnai.envs.pole:PoleBalancingEnv",
            kwargs=dict(kwargs),
            max_episode_steps=None,
            disable_env_checker=False,
        )


register_envs()
