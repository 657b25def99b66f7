"""A four-room gridworld with a noisy TV, a tabular world model and a Q-learner for curiosity.

The "noisy TV" argument against raw-error curiosity (J. Schmidhuber, "Curious model-building
control systems", Proc. IJCNN 1991, vol. 2, pp. 1458-1463; "Formal theory of creativity, fun, and
intrinsic motivation (1990-2010)", IEEE Trans. Autonomous Mental Development 2(3):230-247, 2010;
the name is from Y. Burda et al., "Large-scale study of curiosity-driven learning", ICLR 2019):
an agent rewarded by its world model's raw prediction error (D. Pathak et al., "Curiosity-driven
exploration by self-supervised prediction", ICML 2017, Eq. 6, ``r = eta/2 |phi_hat - phi|^2``)
is drawn to a source of unpredictable observations and stays there; an agent rewarded by the
model's learning progress ``C(p_old, h) - C(p_new, h)`` (2010, Sec. II) is not.

Description (`NoisyTVMazeEnv`, our own environment):
    Four square rooms of ``room x room`` cells (default 7) in a 2 x 2 arrangement, separated by
    one-cell walls, each wall between two rooms pierced by one door at its middle; the grid is
    ``(2 room + 3)`` cells square including the outer wall. The agent starts in the top-left
    corner of the top-left room. The noisy TV is a ``tv x tv`` block of cells (default 2) in the
    top-right corner of the same room: whenever the agent stands on it, the ``screen`` part of
    its observation is fresh uniform noise in [0, 1) (unlearnable); everywhere else the screen
    is all zeros.

Action Space:
    ``Discrete(4)``: up, right, down, left; a move into a wall leaves the agent where it is.

Observation Space:
    ``Box(0, 1, (2 + 8 + screen,), float64)`` (screen = 16 by default): row / (size - 1),
    column / (size - 1), the 8 neighbouring cells (1 = wall, row-major, the centre left out),
    then the TV screen.

Rewards:
    Always 0: no extrinsic reward; curiosity supplies the intrinsic one.

Starting State:
    The top-left cell of the top-left room.

Episode End:
    Never terminates; truncated after ``max_steps`` steps. ``info["cell"]`` is the agent's flat
    cell index ``row * size + column``, ``info["tv"]`` whether it stands on the TV.

Version History:
    * v0: first version.

Also here (the pieces of a curious agent on a discrete world):

* `TabularWorldModel`: for each (cell, action) a prediction of the next observation, moved by
  the delta rule ``y_hat <- y_hat + lr (y - y_hat)``; it keeps the last ``history`` targets of
  each pair and reports, per transition, the raw error ``1/2 |y - y_hat|^2`` before the update and
  the compression progress of the update, the mean of that error over the pair's stored targets
  before minus after the update (as `rnnai.agents.curiosity.LinearWorldModel` does for a linear
  model). On a deterministic transition the error halves (lr = 1/2 gives ``(1 - lr)^2 = 1/4``)
  at each visit, so the progress is positive and falls to zero (boredom); on noise each update
  chases the last sample and the progress averages about zero once the pair's history is full
  (measured on the TV with lr 1/2 and history 8: |mean| < 0.05 against a raw error of about 0.9).
* `QLearner`: tabular Q-learning, ``Q(s, a) <- Q(s, a) + alpha (r + gamma max_a' Q(s', a') -
  Q(s, a))``, epsilon-greedy with ties broken at random.

Choices where the papers are silent: the maze, the TV's size and place, the observation (a
position code and a local view, not pixels), a tabular model instead of a neural network, and the
controller (tabular Q-learning, not the 1991 recurrent controller).

Examples:
    >>> env = NoisyTVMazeEnv(max_steps=5)
    >>> obs, info = env.reset(seed=0)
    >>> obs.shape, info["cell"], info["tv"]
    ((26,), 18, False)
    >>> obs, reward, terminated, truncated, info = env.step(UP)  # into the outer wall
    >>> info["cell"], reward, float(obs[10:].sum())
    (18, 0.0, 0.0)
    >>> model = TabularWorldModel(n_cells=4, n_actions=1, n_out=1, lr=0.5, history=4)
    >>> step = model.observe(0, 0, np.array([2.0]))
    >>> step.error, step.progress
    (2.0, 1.5)
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from rnnai.agents.curiosity import Observation
from rnnai.runtime.errors import RnnaiError

__all__ = [
    "DOWN",
    "LEFT",
    "MOVES",
    "RIGHT",
    "UP",
    "NoisyTVMazeEnv",
    "QLearner",
    "TabularWorldModel",
    "maze_layout",
]

UP, RIGHT, DOWN, LEFT = 0, 1, 2, 3
"""The actions."""
MOVES = np.array([[-1, 0], [0, 1], [1, 0], [0, -1]])
"""(row, column) change of each action."""


def maze_layout(room: int = 7, tv: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """The four-room grid and the TV cells.

    Args:
        room: Side of a room in cells (>= 3, odd so that the doors sit in the middle).
        tv: Side of the TV block (1 <= tv < room).

    Returns:
        ``walls`` (size, size) bool, True on walls; ``tv_cells`` (size, size) bool.

    Raises:
        RnnaiError: If ``room`` or ``tv`` is out of range.

    Examples:
        >>> walls, tv_cells = maze_layout(3, 1)
        >>> int((~walls).sum()), int(tv_cells.sum()), walls.shape
        (40, 1, (9, 9))
    """
    if room < 3 or room % 2 == 0 or not 1 <= tv < room:
        raise RnnaiError(f"need an odd room >= 3 and 1 <= tv < room, got room {room}, tv {tv}")
    size = 2 * room + 3
    walls = np.zeros((size, size), dtype=bool)
    walls[[0, room + 1, size - 1], :] = True
    walls[:, [0, room + 1, size - 1]] = True
    mid = (room + 1) // 2
    for d in (mid, room + 1 + mid):  # one door in each of the four inner wall segments
        walls[room + 1, d] = False
        walls[d, room + 1] = False
    tv_cells = np.zeros_like(walls)
    tv_cells[1 : 1 + tv, room + 1 - tv : room + 1] = True
    return walls, tv_cells


class NoisyTVMazeEnv(gym.Env[np.ndarray, np.int64]):
    """Four rooms with a noisy TV in the start room (see module).

    Args:
        room: Side of a room (odd, >= 3).
        tv: Side of the TV block.
        screen: Number of TV screen values in the observation (>= 1).
        max_steps: Steps until truncation (>= 1).
    """

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(
        self, *, room: int = 7, tv: int = 2, screen: int = 16, max_steps: int = 1000
    ) -> None:
        if screen < 1 or max_steps < 1:
            raise RnnaiError(f"screen and max_steps must be >= 1, got {screen} and {max_steps}")
        self.walls, self.tv_cells = maze_layout(room, tv)
        self.size = len(self.walls)
        self.screen, self.max_steps = int(screen), int(max_steps)
        self.start = (1, 1)
        self.action_space = spaces.Discrete(4)
        self.observation_space = spaces.Box(0.0, 1.0, (10 + self.screen,), np.float64)
        padded = np.pad(self.walls, 1, constant_values=True)
        offsets = [(dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1) if (dr, dc) != (0, 0)]
        r, c = np.indices(self.walls.shape)
        # (size, size, 8): the neighbourhood of every cell, computed once
        self._views = np.stack([padded[r + 1 + dr, c + 1 + dc] for dr, dc in offsets], -1)
        self._pos = self.start
        self._t = 0

    @property
    def n_cells(self) -> int:
        """Number of cells of the grid (walls included): the range of ``info["cell"]``."""
        return self.size * self.size

    def _observe(self) -> tuple[np.ndarray, dict[str, Any]]:
        r, c = self._pos
        on_tv = bool(self.tv_cells[r, c])
        screen = self.np_random.random(self.screen) if on_tv else np.zeros(self.screen)
        head = np.array([r / (self.size - 1), c / (self.size - 1)])
        obs = np.concatenate([head, self._views[r, c].astype(np.float64), screen])
        return obs, {"cell": r * self.size + c, "tv": on_tv}

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Put the agent on the start cell."""
        super().reset(seed=seed)
        self._pos, self._t = self.start, 0
        return self._observe()

    def step(self, action: np.int64 | int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Move (walls block), observe."""
        if not self.action_space.contains(action):
            raise RnnaiError(
                f"action must be 0 (up), 1 (right), 2 (down) or 3 (left), got {action!r}"
            )
        r, c = self._pos[0] + MOVES[int(action), 0], self._pos[1] + MOVES[int(action), 1]
        if not self.walls[r, c]:
            self._pos = (int(r), int(c))
        self._t += 1
        obs, info = self._observe()
        return obs, 0.0, False, self._t >= self.max_steps, info


class TabularWorldModel:
    """Per (cell, action) a delta-rule prediction of the next observation, with its history.

    Args:
        n_cells: Number of cells (states).
        n_actions: Number of actions.
        n_out: Size of the observation to predict.
        lr: Delta-rule step in (0, 1].
        history: Targets kept per (cell, action) to measure progress on (>= 1).
    """

    def __init__(
        self, *, n_cells: int, n_actions: int, n_out: int, lr: float, history: int
    ) -> None:
        if n_cells < 1 or n_actions < 1 or n_out < 1:
            raise RnnaiError(f"sizes must be >= 1, got {n_cells}, {n_actions}, {n_out}")
        if not 0 < lr <= 1 or history < 1:
            raise RnnaiError(f"need 0 < lr <= 1 and history >= 1, got {lr} and {history}")
        self.lr = float(lr)
        self.pred = np.zeros((n_cells, n_actions, n_out))
        self._buf = np.zeros((n_cells, n_actions, history, n_out))
        self.count = np.zeros((n_cells, n_actions), dtype=np.int64)

    def _history_error(self, s: int, a: int, pred: np.ndarray) -> float:
        n = min(int(self.count[s, a]), self._buf.shape[2])
        r = self._buf[s, a, :n] - pred
        return float(np.mean(0.5 * np.sum(r * r, axis=1)))

    def observe(self, s: int, a: int, y: np.ndarray) -> Observation:
        """Store y as a target of (s, a), take one delta-rule step, report error and progress."""
        y = np.asarray(y, dtype=np.float64).reshape(-1)
        old = self.pred[s, a].copy()
        residual = y - old
        self._buf[s, a, self.count[s, a] % self._buf.shape[2]] = y
        self.count[s, a] += 1
        self.pred[s, a] = old + self.lr * residual
        before, after = self._history_error(s, a, old), self._history_error(s, a, self.pred[s, a])
        return Observation(error=0.5 * float(residual @ residual), progress=before - after)


class QLearner:
    """Tabular one-step Q-learning with epsilon-greedy action choice.

    Args:
        n_states: Number of states.
        n_actions: Number of actions.
        alpha: Step size in (0, 1].
        gamma: Discount in [0, 1).
        epsilon: Exploration probability in [0, 1].
        rng: The generator of every random choice.
    """

    def __init__(self, *, n_states: int, n_actions: int, alpha: float, gamma: float,
                 epsilon: float, rng: np.random.Generator) -> None:  # fmt: skip
        if not 0 < alpha <= 1 or not 0 <= gamma < 1 or not 0 <= epsilon <= 1:
            raise RnnaiError(
                f"need 0 < alpha <= 1, 0 <= gamma < 1, 0 <= epsilon <= 1; got {alpha}, {gamma}, "
                f"{epsilon}"
            )
        self.alpha, self.gamma, self.epsilon = float(alpha), float(gamma), float(epsilon)
        self.rng = rng
        self.Q = np.zeros((n_states, n_actions))

    def act(self, s: int) -> int:
        """Epsilon-greedy action in state s (ties at random)."""
        q = self.Q[s]
        if self.rng.random() < self.epsilon:
            return int(self.rng.integers(len(q)))
        best = np.flatnonzero(q == q.max())
        return int(best[self.rng.integers(len(best))])

    def update(self, s: int, a: int, r: float, s_next: int) -> None:
        """One Q-learning step on the transition (s, a, r, s_next)."""
        target = float(r) + self.gamma * float(self.Q[s_next].max())
        self.Q[s, a] += self.alpha * (target - self.Q[s, a])
