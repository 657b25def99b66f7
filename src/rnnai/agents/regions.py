"""Three regions to look at: a learnable one, pure noise and a trivial one (a curiosity test bed).

The environment of the "noisy TV" argument against raw-error curiosity (Schmidhuber 1991, "Curious
model-building control systems"; 2010, "Formal theory of creativity, fun, and intrinsic
motivation (1990-2010)", IEEE TAMD 2(3), Sec. on noise): an agent that can choose where to look
and is rewarded by its world model's raw prediction error is drawn to unpredictable noise; one
rewarded by the model's learning progress prefers the learnable and leaves it once it is learned.

Description:
    Each step the agent chooses one of three regions and sees one pair (x, y) there: a cue x and
    the consequence y that a world model should learn to predict from x.

    * ``LEARNABLE`` (0): x ~ N(0, I_d) fresh, ``y = A x`` with a fixed random matrix A
      (entries N(0, 1/d), drawn at `reset` from the seed): deterministic, initially unknown,
      learnable by a linear model.
    * ``NOISE`` (1): x ~ N(0, I_d) and y ~ N(0, I_d) fresh and independent: nothing to learn.
    * ``TRIVIAL`` (2): x = 0 and y = 0: the same observation every time, already predicted by a
      model that starts from zero weights (an already learned region).

Action Space:
    ``Discrete(3)``: the region to visit this step.

Observation Space:
    ``Box(-inf, inf, (3 + 2 d,), float64)``: the one-hot code of the visited region, then x,
    then y. After `reset` it is all zeros (no region visited yet).

Rewards:
    Always 0: the environment has no external reward; curiosity supplies the intrinsic one.

Starting State:
    A drawn from the seed; no region visited.

Episode End:
    Never terminates; truncated after ``max_steps`` steps.

Version History:
    * v0: first version.

`sample` draws pairs of a region from a caller's generator without touching the environment's own
stream, for measuring a model's error on data it was never trained on.

Examples:
    >>> env = CuriosityRegionsEnv(n_dims=2, max_steps=5)
    >>> obs, info = env.reset(seed=0)
    >>> obs.shape, float(abs(obs).sum())
    ((7,), 0.0)
    >>> obs, reward, terminated, truncated, info = env.step(TRIVIAL)
    >>> obs[:3].tolist(), reward, info["region"]
    ([0.0, 0.0, 1.0], 0.0, 2)
    >>> bool(np.allclose(env.step(TRIVIAL)[0], obs))
    True
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from rnnai.runtime.errors import RnnaiError

__all__ = ["LEARNABLE", "NOISE", "REGION_NAMES", "TRIVIAL", "CuriosityRegionsEnv"]

LEARNABLE, NOISE, TRIVIAL = 0, 1, 2
"""The regions (actions)."""
REGION_NAMES = ("learnable", "noise", "trivial")
"""The regions' names, indexed by region."""


class CuriosityRegionsEnv(gym.Env[np.ndarray, np.int64]):
    """A learnable region, a noise region and a trivial region to choose between (see module).

    Args:
        n_dims: d, the size of x and y (>= 1).
        max_steps: Steps until the episode is truncated (>= 1).
    """

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(self, *, n_dims: int = 8, max_steps: int = 1000) -> None:
        if n_dims < 1 or max_steps < 1:
            raise RnnaiError(f"n_dims and max_steps must be >= 1, got {n_dims} and {max_steps}")
        self.n_dims, self.max_steps = int(n_dims), int(max_steps)
        self.action_space = spaces.Discrete(3)
        self.observation_space = spaces.Box(-np.inf, np.inf, (3 + 2 * n_dims,), np.float64)
        self.A = np.zeros((n_dims, n_dims))
        self._t = 0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Draw A from the seed; return the all-zero observation."""
        super().reset(seed=seed)
        d = self.n_dims
        self.A = self.np_random.normal(0.0, 1.0 / np.sqrt(d), size=(d, d))
        self._t = 0
        return np.zeros(3 + 2 * d), {"region": None}

    def sample(
        self, region: int, n: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """n pairs (x, y) of ``region``, each of shape (n, d), drawn from ``rng``.

        Raises:
            RnnaiError: If the region is not 0, 1 or 2.
        """
        d = self.n_dims
        if region == LEARNABLE:
            x = rng.normal(size=(n, d))
            return x, x @ self.A.T
        if region == NOISE:
            return rng.normal(size=(n, d)), rng.normal(size=(n, d))
        if region == TRIVIAL:
            return np.zeros((n, d)), np.zeros((n, d))
        raise RnnaiError(f"region must be 0 (learnable), 1 (noise) or 2 (trivial), got {region!r}")

    def step(self, action: np.int64 | int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Visit region ``action``; observe its one-hot code, x and y."""
        if not self.action_space.contains(action):
            raise RnnaiError(f"action must be 0, 1 or 2, got {action!r}")
        a = int(action)
        x, y = self.sample(a, 1, self.np_random)
        self._t += 1
        obs = np.concatenate([np.eye(3)[a], x[0], y[0]])
        return obs, 0.0, False, self._t >= self.max_steps, {"region": a}
