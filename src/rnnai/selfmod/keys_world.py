"""Two agents, two keys, two doors: the partially observable world of the SSA papers' hardest task.

Papers: J. Schmidhuber, J. Zhao & M. Wiering, "Shifting inductive bias with success-story
algorithm, adaptive Levin search, and incremental self-improvement", Machine Learning 28:105-130
(1997), and J. Schmidhuber, J. Zhao & N. N. Schraudolph, "Reinforcement learning with
self-modifying policies", in Learning to Learn, Kluwer 1997 (the two-agent task).

Description:
    A continuous plane of 600 x 500 pixels (x to the east, y to the south, origin in the north-west
    corner) with walls, two rooms and two locked doors. Room A (north-east) is entered only through
    door A, room B (south-west) only through door B. Key A lies in the south-east corner, key B
    inside room A, the goal inside room B. Agent A must take key A and open door A; agent B then
    enters room A, takes key B and opens door B; either agent may then reach the goal. Each agent
    is a disc of diameter 30 with one of eight headings (multiples of 45 degrees).

Action Space:
    Per agent ``Discrete(9)``: 0 moves 10 pixels forward (no move if the disc would touch a wall,
    a closed door or the border); k = 1..7 turns by k x 45 degrees clockwise; 8 does nothing.

Observation Space:
    Per agent ``Box(0, 1, (5,), float32)``, what the agent's short sight shows in front of it
    (within `SIGHT` pixels of its rim, +-45 degrees): [obstacle ahead, own key ahead (not yet
    taken), own door ahead (closed), goal ahead, own key held]. No position, no heading: the world
    is partially observable.

Rewards:
    -0.0001 for every move or turn (nothing for action 8); when an agent touches the goal it gets
    5.0 and the other agent 3.0, and the trial ends.

Starting State:
    Both agents at uniformly random positions near the north-west corner (centres in
    [`START_LO`, `START_HI`]^2) with uniformly random headings; doors closed; keys in place.

Episode End:
    Termination when an agent reaches the goal. There is no maximal trial length in the paper;
    ``max_steps`` (default None) truncates for testing only.

Version History:
    v0: first version.

Verified from the papers' text: two agents, two keys and two doors in the order above, the
rewards 5.0 / 3.0 and the per-move penalty -0.0001, discs of diameter 30, eight headings, key A in
the south-east corner and key B in room A, agents start near the north-west corner with random
rotations, no maximal trial length and no trial boundaries known to the learner. The plane's size
is 600 x 500 in one account and 600 x 800 in another; we use 600 x 500. Not verified (the
papers' figure and code were not available): the exact wall layout (ours: `WALLS`, `DOORS`), the
step length, the sensors (the papers' agents look actively with instructions; here the
observation is refreshed after every step and the learner reads it from its work cells), the
reach needed to take a key or open a door, and agent-agent collisions (ignored here).

The physics is a set of pure scalar functions on small arrays (`place_agents`, `world_step`,
`observe`); the numba twin in `rnnai.selfmod._kernels` compiles these same functions unchanged,
so the twin and this environment produce identical floats.

Examples:
    >>> env = KeysWorldEnv()
    >>> obs, infos = env.reset(seed=0)
    >>> sorted(obs), obs["agent_a"].shape
    (['agent_a', 'agent_b'], (5,))
    >>> obs, rewards, terms, truncs, infos = env.step({"agent_a": 1, "agent_b": 8})
    >>> rewards["agent_a"], rewards["agent_b"], terms["agent_a"]
    (-0.0001, 0.0, False)
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from rnnai.runtime.errors import RnnaiError

__all__ = [
    "AGENTS",
    "DOORS",
    "GOAL",
    "HEIGHT",
    "KEYS",
    "N_ACTIONS",
    "N_OBS",
    "WALLS",
    "WIDTH",
    "KeysWorldConfig",
    "KeysWorldEnv",
    "blocked",
    "new_state",
    "observe",
    "place_agents",
    "sees",
    "world_step",
]

WIDTH = 600.0
"""Width of the plane in pixels (x to the east)."""
HEIGHT = 500.0
"""Height of the plane in pixels (y to the south)."""
RADIUS = 15.0
"""An agent's radius (diameter 30)."""
STEP = 10.0
"""Pixels moved by one forward move."""
SIGHT = 50.0
"""How far in front of its rim an agent sees."""
REACH_KEY = 25.0
"""Centre distance at which an agent takes its key."""
REACH_DOOR = 40.0
"""Centre distance to its door's centre at which an agent holding its key opens it."""
REACH_GOAL = 30.0
"""Centre distance at which an agent reaches the goal."""
PENALTY = -0.0001
"""Reward for every move or turn."""
GOAL_REWARD = 5.0
"""Reward of the agent that reaches the goal."""
HELPER_REWARD = 3.0
"""Reward of the other agent when the goal is reached."""
START_LO = 30.0
"""Smallest starting coordinate (x and y) of an agent's centre."""
START_HI = 100.0
"""Largest starting coordinate of an agent's centre."""
N_ACTIONS = 9
"""0 forward, 1..7 turn k x 45 degrees clockwise, 8 no-op."""
N_OBS = 5
"""Observation size: obstacle, own key, own door, goal ahead; own key held."""
NOOP = 8
"""The action that does nothing."""
AGENTS = ("agent_a", "agent_b")
"""Agent names; index 0 is agent A, 1 agent B."""

WALLS = np.array(
    [
        [395.0, 0.0, 405.0, 200.0],  # room A, west wall
        [400.0, 195.0, 470.0, 205.0],  # room A, south wall left of door A
        [530.0, 195.0, 600.0, 205.0],  # room A, south wall right of door A
        [0.0, 295.0, 200.0, 305.0],  # room B, north wall
        [195.0, 300.0, 205.0, 370.0],  # room B, east wall above door B
        [195.0, 430.0, 205.0, 500.0],  # room B, east wall below door B
        [280.0, 220.0, 330.0, 280.0],  # a block in the middle
    ]
)
"""Walls as axis-aligned rectangles (x0, y0, x1, y1)."""
DOORS = np.array([[470.0, 195.0, 530.0, 205.0], [195.0, 370.0, 205.0, 430.0]])
"""Door A and door B as rectangles; a closed door is a wall."""
KEYS = np.array([[550.0, 450.0], [500.0, 80.0]])
"""Key A (south-east corner) and key B (inside room A)."""
GOAL = np.array([60.0, 450.0])
"""The goal, inside room B."""
HEADING_DX = np.array([math.cos(k * math.pi / 4) for k in range(8)])
"""x step of each heading (heading k points k x 45 degrees clockwise from east)."""
HEADING_DY = np.array([math.sin(k * math.pi / 4) for k in range(8)])
"""y step of each heading (y to the south)."""
COS_VIEW = math.cos(math.pi / 4)
"""An object is ahead when it is within +-45 degrees of the heading."""


def blocked(x: float, y: float, radius: float, door_a_open: int, door_b_open: int) -> bool:
    """Whether a disc at (x, y) touches the border, a wall or a closed door.

    Examples:
        >>> blocked(50.0, 50.0, RADIUS, 0, 0), blocked(10.0, 50.0, RADIUS, 0, 0)
        (False, True)
    """
    if x - radius < 0.0 or x + radius > WIDTH or y - radius < 0.0 or y + radius > HEIGHT:
        return True
    for k in range(WALLS.shape[0] + 2):
        if k < WALLS.shape[0]:
            x0, y0, x1, y1 = WALLS[k, 0], WALLS[k, 1], WALLS[k, 2], WALLS[k, 3]
        else:
            d = k - WALLS.shape[0]
            if (door_a_open if d == 0 else door_b_open) != 0:
                continue
            x0, y0, x1, y1 = DOORS[d, 0], DOORS[d, 1], DOORS[d, 2], DOORS[d, 3]
        cx = min(max(x, x0), x1)  # closest point of the rectangle
        cy = min(max(y, y0), y1)
        if (x - cx) * (x - cx) + (y - cy) * (y - cy) <= radius * radius:
            return True
    return False


def sees(x: float, y: float, heading: int, tx: float, ty: float) -> bool:
    """Whether the point (tx, ty) lies within sight in front of an agent at (x, y).

    Examples:
        >>> sees(100.0, 100.0, 0, 150.0, 100.0), sees(100.0, 100.0, 4, 150.0, 100.0)
        (True, False)
    """
    dx, dy = tx - x, ty - y
    dist = math.sqrt(dx * dx + dy * dy)
    if dist > RADIUS + SIGHT:
        return False
    if dist < 1e-9:
        return True
    return bool((dx * HEADING_DX[heading] + dy * HEADING_DY[heading]) / dist >= COS_VIEW)


def observe(
    pos: np.ndarray, heading: np.ndarray, has_key: np.ndarray, door_open: np.ndarray,
    obs: np.ndarray,
) -> None:  # fmt: skip
    """Write both agents' observations into ``obs`` (2, `N_OBS`) float64, in place.

    Args:
        pos: (2, 2) agent centres.
        heading: (2,) headings 0..7.
        has_key: (2,) 1 where the agent holds its key.
        door_open: (2,) 1 where door A / door B is open.
        obs: (2, N_OBS) output.
    """
    for i in range(2):
        x, y, h = pos[i, 0], pos[i, 1], heading[i]
        obstacle = 0.0
        for k in range(3):  # three points on the line of sight
            d = RADIUS + 10.0 + 20.0 * k
            if blocked(x + d * HEADING_DX[h], y + d * HEADING_DY[h], 0.0,
                       door_open[0], door_open[1]):  # fmt: skip
                obstacle = 1.0
                break
        obs[i, 0] = obstacle
        obs[i, 1] = 1.0 if has_key[i] == 0 and sees(x, y, h, KEYS[i, 0], KEYS[i, 1]) else 0.0
        dcx = 0.5 * (DOORS[i, 0] + DOORS[i, 2])
        dcy = 0.5 * (DOORS[i, 1] + DOORS[i, 3])
        obs[i, 2] = 1.0 if door_open[i] == 0 and sees(x, y, h, dcx, dcy) else 0.0
        obs[i, 3] = 1.0 if sees(x, y, h, GOAL[0], GOAL[1]) else 0.0
        obs[i, 4] = 1.0 if has_key[i] != 0 else 0.0


def place_agents(
    pos: np.ndarray, heading: np.ndarray, has_key: np.ndarray, door_open: np.ndarray,
    u: np.ndarray,
) -> None:  # fmt: skip
    """Start a trial in place: agents near the north-west corner, doors closed, keys back.

    Args:
        pos: (2, 2) output centres.
        heading: (2,) output headings.
        has_key: (2,) output, zeroed.
        door_open: (2,) output, zeroed.
        u: (2, 3) uniforms in [0, 1): x, y and heading of each agent.
    """
    for i in range(2):
        pos[i, 0] = START_LO + u[i, 0] * (START_HI - START_LO)
        pos[i, 1] = START_LO + u[i, 1] * (START_HI - START_LO)
        heading[i] = min(int(u[i, 2] * 8.0), 7)
        has_key[i] = 0
        door_open[i] = 0


def world_step(
    pos: np.ndarray, heading: np.ndarray, has_key: np.ndarray, door_open: np.ndarray,
    actions: np.ndarray, reward: np.ndarray,
) -> int:  # fmt: skip
    """Advance the world by one step of both agents (A first, then B), in place.

    Args:
        pos: (2, 2) agent positions (the state, see `observe`), changed in place.
        heading: (2,) headings 0..7, changed in place.
        has_key: (2,) whether each agent holds its key, changed in place.
        door_open: (2,) whether doors A and B are open, changed in place.
        actions: (2,) actions 0..8.
        reward: (2,) output rewards of this step.

    Returns:
        The index of the agent that reached the goal (its move ends the trial and the other
        agent's action is not executed), or -1.
    """
    reward[0] = 0.0
    reward[1] = 0.0
    for i in range(2):
        a = actions[i]
        if a == 0:
            nx = pos[i, 0] + STEP * HEADING_DX[heading[i]]
            ny = pos[i, 1] + STEP * HEADING_DY[heading[i]]
            if not blocked(nx, ny, RADIUS, door_open[0], door_open[1]):
                pos[i, 0] = nx
                pos[i, 1] = ny
            reward[i] += PENALTY
        elif a < NOOP:
            heading[i] = (heading[i] + a) % 8
            reward[i] += PENALTY
        x, y = pos[i, 0], pos[i, 1]
        if has_key[i] == 0:
            dx, dy = x - KEYS[i, 0], y - KEYS[i, 1]
            if dx * dx + dy * dy <= REACH_KEY * REACH_KEY:
                has_key[i] = 1
        if has_key[i] != 0 and door_open[i] == 0:
            dx = x - 0.5 * (DOORS[i, 0] + DOORS[i, 2])
            dy = y - 0.5 * (DOORS[i, 1] + DOORS[i, 3])
            if dx * dx + dy * dy <= REACH_DOOR * REACH_DOOR:
                door_open[i] = 1
        dx, dy = x - GOAL[0], y - GOAL[1]
        if dx * dx + dy * dy <= REACH_GOAL * REACH_GOAL:
            reward[i] += GOAL_REWARD
            reward[1 - i] += HELPER_REWARD
            return i
    return -1


def new_state() -> dict[str, np.ndarray]:
    """Empty state arrays: ``pos`` (2, 2), ``heading``, ``has_key``, ``door_open`` (2,) int64."""
    return {
        "pos": np.zeros((2, 2)),
        "heading": np.zeros(2, dtype=np.int64),
        "has_key": np.zeros(2, dtype=np.int64),
        "door_open": np.zeros(2, dtype=np.int64),
    }


@dataclass(frozen=True, kw_only=True)
class KeysWorldConfig:
    """Options of `KeysWorldEnv`.

    Attributes:
        max_steps: Truncate a trial after this many steps (None: never, as in the paper).
    """

    max_steps: int | None = None


class KeysWorldEnv(ParallelEnv):
    """The two-agent keys-and-doors world as a PettingZoo parallel environment (module docs)."""

    metadata = {"name": "keys_world_v0", "render_modes": [], "is_parallelizable": True}

    def __init__(self, config: KeysWorldConfig | None = None) -> None:
        """Store the config; call `reset` before stepping."""
        self.config = config or KeysWorldConfig()
        if self.config.max_steps is not None and self.config.max_steps < 1:
            raise RnnaiError(f"max_steps must be >= 1 or None, got {self.config.max_steps}")
        self.possible_agents = list(AGENTS)
        self.agents: list[str] = []
        self.render_mode = None
        self.state_arrays = new_state()
        self._obs = np.zeros((2, N_OBS))
        self._reward = np.zeros(2)
        self._rng = np.random.default_rng()
        self.steps = 0

    @functools.cache  # noqa: B019  # the PettingZoo idiom: one space per agent
    def observation_space(self, agent: str) -> spaces.Box:
        """``Box(0, 1, (5,), float32)`` for either agent."""
        return spaces.Box(0.0, 1.0, (N_OBS,), np.float32)

    @functools.cache  # noqa: B019
    def action_space(self, agent: str) -> spaces.Discrete:
        """``Discrete(9)`` for either agent."""
        return spaces.Discrete(N_ACTIONS)

    def _observations(self) -> dict[str, np.ndarray]:
        s = self.state_arrays
        observe(s["pos"], s["heading"], s["has_key"], s["door_open"], self._obs)
        return {a: self._obs[i].astype(np.float32) for i, a in enumerate(AGENTS)}

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, dict[str, Any]]]:
        """Start a trial (random start positions and headings from ``seed``'s generator)."""
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        s = self.state_arrays
        place_agents(s["pos"], s["heading"], s["has_key"], s["door_open"],
                     self._rng.random((2, 3)))  # fmt: skip
        self.agents = list(AGENTS)
        self.steps = 0
        return self._observations(), {a: {} for a in AGENTS}

    def step(self, actions: dict[str, Any]) -> tuple[
        dict[str, np.ndarray], dict[str, float], dict[str, bool], dict[str, bool],
        dict[str, dict[str, Any]],
    ]:  # fmt: skip
        """Both agents act (module docs); returns the PettingZoo parallel 5-tuple."""
        if not self.agents:
            raise RnnaiError("step called on a finished trial; call reset first, got no agents")
        acts = np.full(2, NOOP, dtype=np.int64)
        for i, a in enumerate(AGENTS):
            if a in actions:
                act = int(actions[a])
                if not 0 <= act < N_ACTIONS:
                    raise RnnaiError(f"action of {a} must be in 0..{N_ACTIONS - 1}, got {act}")
                acts[i] = act
        s = self.state_arrays
        winner = world_step(s["pos"], s["heading"], s["has_key"], s["door_open"], acts,
                            self._reward)  # fmt: skip
        self.steps += 1
        obs = self._observations()
        done = winner >= 0
        trunc = (
            not done and self.config.max_steps is not None and self.steps >= self.config.max_steps
        )
        rewards = {a: float(self._reward[i]) for i, a in enumerate(AGENTS)}
        terms = {a: done for a in AGENTS}
        truncs = {a: bool(trunc) for a in AGENTS}
        infos = {a: {"winner": AGENTS[winner] if done else None} for a in AGENTS}
        if done or trunc:
            self.agents = []
        return obs, rewards, terms, truncs, infos

    def state(self) -> np.ndarray:
        """The full state as a flat float64 vector: positions, headings, keys held, doors open."""
        s = self.state_arrays
        return np.concatenate([s["pos"].ravel(), s["heading"], s["has_key"], s["door_open"]]
                              ).astype(np.float64)  # fmt: skip
