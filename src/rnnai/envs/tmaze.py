"""The long-term dependency T-maze of Bakker's RL-LSTM paper, with a configurable corridor length.

Citation:
    B. Bakker. Reinforcement learning with Long Short-Term Memory. In T. G. Dietterich,
    S. Becker and Z. Ghahramani (eds.), Advances in Neural Information Processing Systems 14
    (NIPS 2001), pp. 1475-1482. MIT Press, 2002. Section 4, Figure 2 (the T-maze).

Task. The agent starts at the west end S of a corridor of N cells that ends in a T-junction with
a north and a south arm. Exactly one arm holds the goal G; which one is drawn at random at the
start of every episode and is shown to the agent only by a "road sign" at S. Everywhere in the
corridor the agent sees the same corridor code, and at the junction a junction code: to choose
the right arm it has to carry the road sign across N steps, a long-term dependency that a
memoryless (reactive) agent cannot solve: it picks the right arm at most half the time.

Geometry here: positions x = 0 (S) ... N (the junction); the agent must make N east moves to
reach the junction, so the cue has to be remembered for at least N steps (PyBrain's ``TMaze``
task, written at IDSIA, counts the same way: ``length`` corridor cells from the start, the
junction one further; its default length is 10).

Constants and what we could check (``search`` of public copies, 2026-11):

- Verified against the paper's abstract: model-free RL-LSTM, Advantage(lambda) learning and
  directed exploration solve "a T-maze task" with long-term dependencies.
- Verified against PyBrain's ``TMaze`` and ``MazeTask``
  (``pybrain/rl/environments/mazes/tasks/{tmaze,maze}.py``): +4 for the goal arm; -0.1 for the
  wrong arm, which also ends the episode; -0.1 for a move into a wall; 0 for any other move;
  discount 0.98; default length 10; the road sign is shown whenever the agent stands at the
  start position (also after walking back). PyBrain codes the observations 1-of-4.
- Taken from independent re-implementations and our reading of the paper, *not verified against
  its own text* here: Bakker's 3-bit observations 011 (road sign "goal north") and 110 ("goal
  south") at S, 101 in the corridor and 010 at the junction; N = 10 in the paper's Figure 2;
  N varied from 5 to 70 in its experiments.

Choice of ours, configurable: episodes are truncated after ``max_steps`` steps (whether the
paper used a limit we could not check).

The numba twin for many mazes at once is `TMazeBatch` (kernels in `rnnai.envs._kernels`, float64
observations); ``tests/envs/test_tmaze.py`` holds it, its plain-Python twin and `TMazeEnv`
together step by step. `TMazeEnv` hands out float32 observations (the bits are exact in either);
`TMazeVectorEnv` runs the twin behind gymnasium's vector API, as
``gym.make_vec("rnnai/TMaze-v0", num_envs=N, vectorization_mode="vector_entry_point")``.

Examples:
    >>> env = TMazeEnv(corridor_length=2)
    >>> obs, info = env.reset(seed=0, options={"goal": "south"})
    >>> obs.tolist(), obs.dtype
    ([1.0, 1.0, 0.0], dtype('float32'))
    >>> for action in (EAST, EAST, SOUTH):
    ...     obs, reward, terminated, truncated, info = env.step(action)
    >>> reward, terminated, info["outcome"] == OUTCOME_GOAL
    (4.0, True, True)
    >>> vec = TMazeVectorEnv(4, corridor_length=2)
    >>> obs, info = vec.reset(seed=0)
    >>> obs.shape, info["goal"].shape
    ((4, 3), (4,))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from rnnai.envs._config import check_num_envs, with_overrides
from rnnai.envs._render import Canvas, FrameRendering, Window, check_render_mode
from rnnai.runtime.errors import RnnaiError

__all__ = [
    "ACTION_NAMES",
    "EAST",
    "GOAL_NAMES",
    "NORTH",
    "OBS_CODES",
    "OUTCOME_GOAL",
    "OUTCOME_RUNNING",
    "OUTCOME_TRUNCATED",
    "OUTCOME_WRONG",
    "SOUTH",
    "WEST",
    "TMazeBatch",
    "TMazeConfig",
    "TMazeEnv",
    "TMazeVectorEnv",
    "check_tmaze_action",
    "draw_maze",
    "observation_index",
    "transition",
]

NORTH, EAST, SOUTH, WEST = 0, 1, 2, 3
"""Action indices (Bakker's four compass moves)."""
ACTION_NAMES: tuple[str, ...] = ("north", "east", "south", "west")
"""Names of the actions, by index."""
GOAL_NAMES: tuple[str, ...] = ("north", "south")
"""Names of the goal arms: goal 0 is the north arm, goal 1 the south arm."""

OBS_CODES = np.array(
    [
        [0.0, 1.0, 1.0],  # 0: at S, road sign "goal north"
        [1.0, 1.0, 0.0],  # 1: at S, road sign "goal south"
        [1.0, 0.0, 1.0],  # 2: in the corridor
        [0.0, 1.0, 0.0],  # 3: at the T-junction
    ],
    dtype=np.float64,
)
"""The four 3-bit observations, indexed by `observation_index`."""

OUTCOME_RUNNING, OUTCOME_GOAL, OUTCOME_WRONG, OUTCOME_TRUNCATED = 0, 1, -1, 2
"""How an episode stands: running, ended in the goal arm, ended in the wrong arm, truncated."""


@dataclass(frozen=True, kw_only=True)
class TMazeConfig:
    """The T-maze's size and rewards (defaults: Bakker's task with PyBrain's length 10)."""

    corridor_length: int = 10
    """N: east moves from the start S to the junction (the cue must be held >= N steps)."""
    goal_reward: float = 4.0
    """Reward for entering the goal arm (ends the episode)."""
    wrong_reward: float = -0.1
    """Reward for entering the wrong arm (also ends the episode)."""
    still_penalty: float = -0.1
    """Reward for a move into a wall, which leaves the agent where it stands."""
    step_reward: float = 0.0
    """Reward for a move along the corridor."""
    max_steps: int = 1000
    """Episodes are truncated after this many steps."""

    def __post_init__(self) -> None:
        """Validate the fields and raise `RnnaiError` naming a bad one."""
        n = self.corridor_length
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
            raise RnnaiError(f"corridor_length must be an int >= 1, got {n!r}")
        m = self.max_steps
        if isinstance(m, bool) or not isinstance(m, int | np.integer) or m < 1:
            raise RnnaiError(f"max_steps must be an int >= 1, got {m!r}")
        for name in ("goal_reward", "wrong_reward", "still_penalty", "step_reward"):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not np.isfinite(value)
            ):
                raise RnnaiError(f"{name} must be a finite number, got {value!r}")

    def with_overrides(self, **overrides: Any) -> TMazeConfig:
        """Return a copy with some fields replaced; unknown names raise `RnnaiError`."""
        return with_overrides(self, overrides)


def transition(
    position: int,
    goal: int,
    action: int,
    corridor_length: int,
    goal_reward: float,
    wrong_reward: float,
    still_penalty: float,
    step_reward: float,
) -> tuple[int, float, int]:
    """One move in the T-maze (pure scalar code, compiled unchanged by numba in `_kernels`).

    Args:
        position: x in [0, N] (N = the junction).
        goal: 0 (north arm) or 1 (south arm).
        action: 0 north, 1 east, 2 south, 3 west (validated by the caller).
        corridor_length: N.
        goal_reward: Reward for the goal arm.
        wrong_reward: Reward for the wrong arm.
        still_penalty: Reward for a move into a wall.
        step_reward: Reward for a move along the corridor.

    Returns:
        (new position, reward, outcome) with outcome `OUTCOME_GOAL`, `OUTCOME_WRONG` (the
        position is then left unchanged: the agent is in an arm) or `OUTCOME_RUNNING`.
    """
    if action == 0 or action == 2:  # north / south: an arm at the junction, a wall elsewhere
        if position == corridor_length:
            arm = 0 if action == 0 else 1
            if arm == goal:
                return position, goal_reward, 1
            return position, wrong_reward, -1
        return position, still_penalty, 0
    if action == 1:  # east
        if position == corridor_length:
            return position, still_penalty, 0
        return position + 1, step_reward, 0
    if position == 0:  # west at the start: a wall
        return position, still_penalty, 0
    return position - 1, step_reward, 0


def observation_index(position: int, goal: int, corridor_length: int) -> int:
    """Row of `OBS_CODES` seen at ``position``: 0/1 the road sign at S, 2 corridor, 3 junction."""
    if position == 0:
        return goal
    if position == corridor_length:
        return 3
    return 2


def check_tmaze_action(action: Any) -> int:
    """Validate one action and return it as an int in {0, 1, 2, 3}.

    Args:
        action: A Python or numpy integer (or a 0-d integer array).

    Raises:
        RnnaiError: If the action is not an integer (floats and bools are refused) or outside
            {0, 1, 2, 3}.
    """
    if isinstance(action, np.ndarray) and action.shape == ():
        action = action[()]
    if isinstance(action, bool | np.bool_) or not isinstance(action, int | np.integer):
        raise RnnaiError(
            f"T-maze action must be an int in {{0, 1, 2, 3}} (north, east, south, west), "
            f"got {action!r} of type {type(action).__name__}"
        )
    if not 0 <= int(action) <= 3:
        raise RnnaiError(
            f"T-maze action must be in {{0, 1, 2, 3}} (north, east, south, west), got {action}"
        )
    return int(action)


def _check_goal(goal: Any) -> int:
    if isinstance(goal, str):
        if goal not in GOAL_NAMES:
            raise RnnaiError(f"goal must be one of {GOAL_NAMES} or 0/1, got {goal!r}")
        return GOAL_NAMES.index(goal)
    if isinstance(goal, bool | np.bool_) or not isinstance(goal, int | np.integer):
        raise RnnaiError(f"goal must be 0 (north), 1 (south) or a name, got {goal!r}")
    if goal not in (0, 1):
        raise RnnaiError(f"goal must be 0 (north) or 1 (south), got {goal}")
    return int(goal)


_FLOOR, _WALL, _GOAL, _AGENT = (225, 225, 225), (60, 60, 60), (70, 170, 70), (200, 40, 40)
_SIGN = ((70, 120, 200), (230, 160, 40))  # road sign at S: goal north, goal south


def draw_maze(position: int, goal: int, corridor_length: int, cell: int = 0) -> np.ndarray:
    """A top view of the maze as an (3 c, (N + 1) c, 3) uint8 picture (c the cell size).

    The corridor runs left to right from S to the junction, the north arm above and the south
    arm below it; the goal arm is green, the start cell shows the road sign's colour (blue:
    goal north, orange: goal south), the agent is a red disc.

    Args:
        position: The agent's x (0 = S, N = the junction).
        goal: 0 (north) or 1 (south).
        corridor_length: N.
        cell: Cell size in pixels; 0 picks one that keeps the picture about 1000 pixels wide
            at most (between 4 and 40).

    Returns:
        The picture.
    """
    n = corridor_length
    c = cell if cell > 0 else max(4, min(40, 1000 // (n + 1)))
    canvas = Canvas((n + 1) * c, 3 * c, background=_WALL)
    view = canvas.view(c, (0, 1.5 * c))

    def square(x: float, y: float, color: tuple[int, int, int]) -> None:
        pad = 0.06
        view.polygon(
            [
                (x + pad, y - 0.5 + pad),
                (x + 1 - pad, y - 0.5 + pad),
                (x + 1 - pad, y + 0.5 - pad),
                (x + pad, y + 0.5 - pad),
            ],
            color,
        )

    for x in range(n + 1):
        square(x, 0.0, _SIGN[goal] if x == 0 else _FLOOR)
    square(n, 1.0, _GOAL if goal == 0 else _FLOOR)  # north arm
    square(n, -1.0, _GOAL if goal == 1 else _FLOOR)  # south arm
    view.circle((position + 0.5, 0.0), 0.3, _AGENT)
    return canvas.frame()


class TMazeEnv(FrameRendering, gym.Env[np.ndarray, np.int64]):
    """Bakker's long-term dependency T-maze (RL-LSTM, NIPS 14, 2002).

    ## Description

    A corridor of N cells leads east from the start S to a T-junction with a north and a south
    arm. One arm, drawn at random each episode, holds the goal. The only hint is a road sign at
    S; the corridor cells all look alike, so the agent must remember the sign for at least N
    steps and turn the right way at the junction. The module docstring lists which constants are
    verified against which source. Registered as ``rnnai/TMaze-v0``; any `TMazeConfig` field can
    be given to ``gym.make``, e.g. ``gym.make("rnnai/TMaze-v0", corridor_length=70)``, and
    ``gym.make_vec("rnnai/TMaze-v0", num_envs=N, vectorization_mode="vector_entry_point")``
    gives `TMazeVectorEnv`, N mazes on the numba twin.

    ```
        x = 0   1   2  ...  N
                            [N]     north arm (goal 0)
        [S] [ ] [ ] ... [ ] [T]
                            [S]     south arm (goal 1)
    ```

    ## Action Space

    ``Discrete(4)``: 0 north, 1 east, 2 south, 3 west. North/south enter an arm at the junction
    and bump into a wall elsewhere; east at the junction and west at S bump too (the agent
    stays). Actions that are not integers in {0, 1, 2, 3} raise `RnnaiError`.

    ## Observation Space

    ``Box(0, 1, (3,), float32)``, one of four bit patterns:

    | where                          | observation |
    |--------------------------------|-------------|
    | at S, goal in the north arm    | 0 1 1       |
    | at S, goal in the south arm    | 1 1 0       |
    | corridor (0 < x < N)           | 1 0 1       |
    | T-junction (x = N)             | 0 1 0       |

    ``info`` holds ``position`` (x), ``goal`` (0 north, 1 south) and ``steps``.

    ## Rewards

    +4 for entering the goal arm, -0.1 for entering the wrong arm, -0.1 for every move into a
    wall (standing still), 0 for a move along the corridor. With discount 0.98 the optimal
    return from S is 4 * 0.98^N.

    ## Starting State

    x = 0 (at S); the goal arm is drawn uniformly from ``self.np_random`` (seeded by
    ``reset(seed=...)``), or set with ``reset(options={"goal": 0 | 1 | "north" | "south"})``.

    ## Episode End

    Termination: the agent enters either arm. Truncation: after ``max_steps`` steps (default
    1000). Stepping a finished episode raises `RnnaiError`.

    ## Rendering

    ``"ansi"``: a text picture; ``"rgb_array"``: a top view (`draw_maze`) as (H, W, 3) uint8;
    ``"human"``: that view in a pygame window at 4 frames per second.

    ## Version History

    * v0 (revised): float32 observations; ``rgb_array`` and ``human`` rendering; a
      ``vector_entry_point`` (`TMazeVectorEnv`).
    * v0: initial version (Bakker's 3-bit observations and rewards; road sign shown at S).
    """

    metadata: dict[str, Any] = {"render_modes": ["ansi", "rgb_array", "human"], "render_fps": 4}

    def __init__(
        self, config: TMazeConfig | None = None, render_mode: str | None = None, **overrides: Any
    ) -> None:
        """Build the environment.

        Args:
            config: The maze; `TMazeConfig()` (N = 10) when None.
            render_mode: None, ``"ansi"``, ``"rgb_array"`` or ``"human"``.
            **overrides: `TMazeConfig` fields replacing those of ``config``.

        Raises:
            RnnaiError: On an unknown field, a bad value or an unknown render mode.
        """
        check_render_mode(render_mode, self.metadata["render_modes"], "TMazeEnv")
        self.render_mode = render_mode
        self.config = (config if config is not None else TMazeConfig()).with_overrides(**overrides)
        self.action_space = spaces.Discrete(4)
        self.observation_space = spaces.Box(0.0, 1.0, shape=(3,), dtype=np.float32)
        self._position = 0
        self._goal = 0
        self._steps = 0
        self._done = True
        self._window: Window | None = None

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start an episode at S with a random (or given) goal arm.

        Args:
            seed: Seeds ``self.np_random``, which draws the goal arm.
            options: Optional ``{"goal": 0 | 1 | "north" | "south"}``.

        Returns:
            The road-sign observation and ``info``.
        """
        super().reset(seed=seed)
        goal = int(self.np_random.integers(2))  # drawn even when given: same stream either way
        if options and options.get("goal") is not None:
            goal = _check_goal(options["goal"])
        self._goal = goal
        self._position = 0
        self._steps = 0
        self._done = False
        if self.render_mode == "human":
            self.render()
        return self._observe(), self._info()

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Move once.

        Args:
            action: 0 north, 1 east, 2 south, 3 west.

        Returns:
            (observation, reward, terminated, truncated, info) as in the class docstring.

        Raises:
            RnnaiError: On a bad action or when the episode is over (call ``reset``).
        """
        if self._done:
            raise RnnaiError("the episode is over (or never started): call reset() first")
        a = check_tmaze_action(action)
        c = self.config
        self._position, reward, outcome = transition(
            self._position,
            self._goal,
            a,
            c.corridor_length,
            c.goal_reward,
            c.wrong_reward,
            c.still_penalty,
            c.step_reward,
        )
        self._steps += 1
        terminated = outcome != OUTCOME_RUNNING
        truncated = (not terminated) and self._steps >= c.max_steps
        self._done = terminated or truncated
        info = self._info()
        info["outcome"] = outcome if not truncated else OUTCOME_TRUNCATED
        if self.render_mode == "human":
            self.render()
        return self._observe(), float(reward), bool(terminated), bool(truncated), info

    def render(self) -> Any:
        """``ansi``: a text picture (``A`` the agent, ``G`` the goal arm); ``rgb_array``: an
        (H, W, 3) uint8 top view; ``human``: show that view (returns None)."""
        if self.render_mode == "ansi":
            n = self.config.corridor_length
            row = ["A" if x == self._position else "." for x in range(n + 1)]
            north = " " * n + ("G" if self._goal == 0 else "#")
            south = " " * n + ("G" if self._goal == 1 else "#")
            return f"{north}\n{''.join(row)}\n{south}\n"
        return super().render()

    def _frame(self) -> np.ndarray:
        """The top view as an (H, W, 3) uint8 image."""
        return draw_maze(self._position, self._goal, self.config.corridor_length)

    def _observe(self) -> np.ndarray:
        k = observation_index(self._position, self._goal, self.config.corridor_length)
        return OBS_CODES[k].astype(np.float32)

    def _info(self) -> dict[str, Any]:
        return {"position": self._position, "goal": self._goal, "steps": self._steps}


class TMazeBatch:
    """P T-mazes stepped together by the numba kernel (for populations and batched agents).

    The same task as `TMazeEnv` (the kernel compiles `transition` unchanged). Finished episodes
    stay frozen: their reward is 0 and their actions are ignored, so a batched recurrent policy
    keeps its row layout.

    Attributes:
        config: The maze.
        position: (P,) int64 positions x.
        goal: (P,) int64 goal arms (0 north, 1 south).
        alive: (P,) bool, False once an episode ended.
        steps: (P,) int64 steps taken.
        outcome: (P,) int64, one of the ``OUTCOME_*`` constants.
    """

    def __init__(self, config: TMazeConfig, size: int) -> None:
        """Allocate ``size`` mazes (call `reset` before stepping).

        Args:
            config: The maze.
            size: P >= 1.

        Raises:
            RnnaiError: If ``size`` is not a positive int.
        """
        if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 1:
            raise RnnaiError(f"size must be an int >= 1, got {size!r}")
        self.config = config
        self.position = np.zeros(size, dtype=np.int64)
        self.goal = np.zeros(size, dtype=np.int64)
        self.alive = np.zeros(size, dtype=np.bool_)
        self.steps = np.zeros(size, dtype=np.int64)
        self.outcome = np.zeros(size, dtype=np.int64)
        self._reward = np.zeros(size, dtype=np.float64)
        self._obs = np.zeros((size, 3), dtype=np.float64)

    @property
    def size(self) -> int:
        """P, the number of mazes."""
        return int(self.position.shape[0])

    def reset(
        self, goals: np.ndarray | None = None, rng: np.random.Generator | None = None
    ) -> np.ndarray:
        """Start every episode at S.

        Args:
            goals: (P,) goal arms in {0, 1}; drawn from ``rng`` when None.
            rng: Draws the goals when ``goals`` is None.

        Returns:
            The observations, (P, 3) float64.

        Raises:
            RnnaiError: If neither is given, or ``goals`` has another shape or a value outside
                {0, 1}.
        """
        if goals is None:
            if rng is None:
                raise RnnaiError("TMazeBatch.reset needs goals or a numpy Generator rng")
            goals = rng.integers(2, size=self.size)
        g = np.asarray(goals)
        if g.shape != (self.size,) or not np.issubdtype(g.dtype, np.integer):
            raise RnnaiError(
                f"goals must be ({self.size},) integers in {{0, 1}}, got {g.dtype} {g.shape}"
            )
        if np.any((g != 0) & (g != 1)):
            raise RnnaiError(f"goals must lie in {{0, 1}}, got {np.unique(g).tolist()}")
        self.goal[:] = g
        self.position[:] = 0
        self.alive[:] = True
        self.steps[:] = 0
        self.outcome[:] = OUTCOME_RUNNING
        return self.observe()

    def observe(self) -> np.ndarray:
        """The current observations, (P, 3) float64 (a fresh array)."""
        from rnnai.envs import _kernels

        _kernels.tmaze_observe_batch(
            self.position, self.goal, self.config.corridor_length, OBS_CODES, self._obs
        )
        return self._obs.copy()

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Apply one action to every running episode.

        Args:
            actions: (P,) integers in {0, 1, 2, 3} (those of finished episodes are ignored).

        Returns:
            (observations (P, 3), rewards (P,), terminated (P,) bool, truncated (P,) bool); the
            flags are True only on the step at which an episode ends.

        Raises:
            RnnaiError: On a wrong shape or dtype, or an action outside {0, 1, 2, 3} for a
                running episode (naming its index).
        """
        from rnnai.envs import _kernels

        a = np.asarray(actions)
        if a.shape != (self.size,) or not np.issubdtype(a.dtype, np.integer):
            raise RnnaiError(
                f"actions must be ({self.size},) integers in {{0..3}}, got {a.dtype} {a.shape}"
            )
        a = a.astype(np.int64, copy=False)
        bad = _kernels.tmaze_first_bad_action(a, self.alive)
        if bad >= 0:
            raise RnnaiError(
                f"action {int(a[bad])} of maze {bad} is outside {{0, 1, 2, 3}} "
                "(north, east, south, west)"
            )
        was_alive = self.alive.copy()
        c = self.config
        _kernels.tmaze_step_batch(
            self.position,
            self.goal,
            a,
            self.alive,
            self.steps,
            self._reward,
            self.outcome,
            c.corridor_length,
            c.goal_reward,
            c.wrong_reward,
            c.still_penalty,
            c.step_reward,
            c.max_steps,
        )
        ended = was_alive & ~self.alive
        terminated = ended & (self.outcome != OUTCOME_TRUNCATED)
        truncated = ended & (self.outcome == OUTCOME_TRUNCATED)
        return self.observe(), self._reward.copy(), terminated, truncated


class TMazeVectorEnv(VectorEnv[np.ndarray, np.ndarray, np.ndarray]):
    """N `TMazeEnv` mazes stepped together by the numba twin (gymnasium's vector API).

    What ``gym.make_vec("rnnai/TMaze-v0", num_envs=N, vectorization_mode="vector_entry_point")``
    builds. Maze i has its own random generator, seeded as gymnasium's ``SyncVectorEnv`` seeds
    its copies (``reset(seed=s)`` gives maze i the seed s + i, a list gives one seed per maze),
    so that it draws the same goals as a `TMazeEnv` reset with that seed, also across
    autoresets. Autoreset follows gymnasium's ``NEXT_STEP`` mode: the step after an episode
    ended starts a new one at S (a new goal drawn), ignores its action and returns the road sign
    with reward 0 and both flags False. ``info`` holds ``position``, ``goal``, ``steps`` and
    ``outcome`` (the ``OUTCOME_*`` of each maze) as (N,) arrays. Spaces: ``MultiDiscrete``
    actions (4 per maze), ``Box(0, 1, (N, 3), float32)`` observations.
    """

    metadata: dict[str, Any] = {
        "render_modes": [],
        "render_fps": 4,
        "autoreset_mode": AutoresetMode.NEXT_STEP,
    }

    def __init__(
        self,
        num_envs: int = 1,
        config: TMazeConfig | None = None,
        render_mode: str | None = None,
        **overrides: Any,
    ) -> None:
        """Build N mazes of one configuration.

        Args:
            num_envs: N >= 1.
            config: The maze; `TMazeConfig()` when None.
            render_mode: Must be None (render single environments instead).
            **overrides: `TMazeConfig` fields replacing those of ``config``.

        Raises:
            RnnaiError: On a bad ``num_envs``, an unknown field, a bad value or a render mode.
        """
        check_render_mode(render_mode, [], "TMazeVectorEnv")
        self.render_mode = render_mode
        self.num_envs = check_num_envs(num_envs)
        self.config = (config if config is not None else TMazeConfig()).with_overrides(**overrides)
        self.single_action_space = spaces.Discrete(4)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.single_observation_space = spaces.Box(0.0, 1.0, shape=(3,), dtype=np.float32)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        n = self.num_envs
        self._position = np.zeros(n, dtype=np.int64)
        self._goal = np.zeros(n, dtype=np.int64)
        self._steps = np.zeros(n, dtype=np.int64)
        self._outcome = np.zeros(n, dtype=np.int64)
        self._reward = np.zeros(n, dtype=np.float64)
        self._obs = np.zeros((n, 3), dtype=np.float64)
        self._autoreset = np.zeros(n, dtype=np.bool_)
        self._rngs: list[np.random.Generator] | None = None

    def reset(
        self, *, seed: int | list[int] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start every maze at S with a goal drawn from its generator (or given).

        Args:
            seed: None (keep the generators; fresh random ones the first time), an int s
                (maze i gets s + i) or a list of N ints.
            options: Optional ``{"goal": g}`` with g one goal (0, 1, "north", "south") for every
                maze or a sequence of N goals; the generators draw a goal anyway, as `TMazeEnv`.

        Returns:
            (N, 3) float32 road-sign observations and ``info``.

        Raises:
            RnnaiError: On a seed list of the wrong length or a bad goal.
        """
        n = self.num_envs
        if isinstance(seed, list | tuple):
            if len(seed) != n:
                raise RnnaiError(f"seed must be an int or a list of {n} ints, got {seed!r}")
            seeds: list[int | None] = list(seed)
        elif seed is None:
            seeds = [None] * n
        else:
            seeds = [int(seed) + i for i in range(n)]
        super().reset(seed=seeds[0])
        if self._rngs is None or seed is not None:
            self._rngs = [seeding.np_random(s)[0] for s in seeds]
        goals = np.array([int(rng.integers(2)) for rng in self._rngs], dtype=np.int64)
        if options and options.get("goal") is not None:
            given = options["goal"]
            if isinstance(given, list | tuple | np.ndarray):
                if len(given) != n:
                    raise RnnaiError(f"options['goal'] must hold {n} goals, got {len(given)}")
                goals = np.array([_check_goal(g) for g in given], dtype=np.int64)
            else:
                goals[:] = _check_goal(given)
        self._goal[:] = goals
        self._position[:] = 0
        self._steps[:] = 0
        self._outcome[:] = OUTCOME_RUNNING
        self._autoreset[:] = False
        return self._observe(), self._info()

    def step(
        self, actions: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Move every maze once (restarting those that ended at the last step).

        Args:
            actions: (N,) integers in {0, 1, 2, 3} (ignored for mazes being restarted).

        Returns:
            (observations (N, 3) float32, rewards (N,) float64, terminated (N,) bool,
            truncated (N,) bool, info).

        Raises:
            RnnaiError: Before `reset`, or on a wrong shape or dtype or an action outside
                {0, 1, 2, 3} (naming the maze).
        """
        from rnnai.envs import _kernels

        if self._rngs is None:
            raise RnnaiError("call reset() before step()")
        n = self.num_envs
        a = np.asarray(actions)
        if a.shape != (n,) or not np.issubdtype(a.dtype, np.integer):
            raise RnnaiError(
                f"actions must be ({n},) integers in {{0..3}}, got {a.dtype} {a.shape}"
            )
        a = np.ascontiguousarray(a, dtype=np.int64)
        running = ~self._autoreset
        bad = _kernels.tmaze_first_bad_action(a, running)
        if bad >= 0:
            raise RnnaiError(
                f"action {int(a[bad])} of maze {bad} is outside {{0, 1, 2, 3}} "
                "(north, east, south, west)"
            )
        c = self.config
        alive = running.copy()
        _kernels.tmaze_step_batch(
            self._position,
            self._goal,
            a,
            alive,
            self._steps,
            self._reward,
            self._outcome,
            c.corridor_length,
            c.goal_reward,
            c.wrong_reward,
            c.still_penalty,
            c.step_reward,
            c.max_steps,
        )
        ended = running & ~alive
        terminated = ended & (self._outcome != OUTCOME_TRUNCATED)
        truncated = ended & (self._outcome == OUTCOME_TRUNCATED)
        rewards = self._reward.copy()
        for i in np.flatnonzero(self._autoreset):
            self._goal[i] = int(self._rngs[i].integers(2))
            self._position[i] = 0
            self._steps[i] = 0
            self._outcome[i] = OUTCOME_RUNNING
        self._autoreset = ended
        return self._observe(), rewards, terminated, truncated, self._info()

    def _observe(self) -> np.ndarray:
        from rnnai.envs import _kernels

        _kernels.tmaze_observe_batch(
            self._position, self._goal, self.config.corridor_length, OBS_CODES, self._obs
        )
        return self._obs.astype(np.float32)

    def _info(self) -> dict[str, Any]:
        return {
            "position": self._position.copy(),
            "goal": self._goal.copy(),
            "steps": self._steps.copy(),
            "outcome": self._outcome.copy(),
        }
