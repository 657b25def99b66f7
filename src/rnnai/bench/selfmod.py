"""`rnnai bench selfmod`: the keys world's numba twin against its PettingZoo environment loop.

Both step the same world from the same start with the same pre-drawn random actions (half of them
forward moves), one process, one thread; the twin (`rnnai.selfmod._kernels.twin_rollout`) runs
`TWIN_STEPS` steps per call, the environment loop (`rnnai.selfmod.keys_world.KeysWorldEnv`,
a Python ``step`` with dict actions, observations and rewards) `ENV_STEPS` steps per call. The two
are timed alternately (`rnnai.bench.round_robin_medians`) so that both see the same machine load;
the row reports steps per second (both agents act in a step) and the speedup. The goal of this
benchmark is a speedup of at least 100.

Examples:
    >>> bench_actions(3, seed=0).shape
    (3, 2)
"""

from __future__ import annotations

import numpy as np

from rnnai.bench import BenchRow, register_bench, round_robin_medians
from rnnai.runtime.progress import Progress
from rnnai.selfmod import _kernels as K
from rnnai.selfmod.keys_world import AGENTS, N_ACTIONS, N_OBS, KeysWorldEnv

__all__ = ["ENV_STEPS", "TWIN_STEPS", "bench_actions", "bench_selfmod"]

TWIN_STEPS = 1_000_000
"""Steps per timed call of the twin."""
ENV_STEPS = 20_000
"""Steps per timed call of the PettingZoo loop."""
REPEATS = 5
"""Timed rounds (``--quick``: 3)."""


def bench_actions(n: int, seed: int = 0) -> np.ndarray:
    """(n, 2) random actions, half of the steps forward moves of both agents."""
    rng = np.random.default_rng(seed)
    actions = rng.integers(0, N_ACTIONS, size=(n, 2))
    actions[rng.random(n) < 0.5, :] = 0
    return actions


@register_bench("selfmod")
def bench_selfmod(quick: bool, progress: Progress) -> list[BenchRow]:
    """Steps per second of the keys-world twin against the PettingZoo env loop (module docs)."""
    env = KeysWorldEnv()
    env.reset(seed=0)
    start = {k: v.copy() for k, v in env.state_arrays.items()}
    twin_actions = bench_actions(TWIN_STEPS)
    env_actions = bench_actions(ENV_STEPS)
    rewards = np.zeros((TWIN_STEPS, 2))
    observations = np.zeros((TWIN_STEPS, 2, N_OBS))
    done = {"twin": 0, "env": 0}

    def twin() -> None:
        s = {k: v.copy() for k, v in start.items()}
        done["twin"] = K.twin_rollout(s["pos"], s["heading"], s["has_key"], s["door_open"],
                                      twin_actions, rewards, observations)  # fmt: skip

    def loop() -> None:
        for k, v in start.items():
            env.state_arrays[k][...] = v
        env.agents = list(AGENTS)
        n = 0
        for a0, a1 in env_actions:
            _, _, terms, _, _ = env.step({"agent_a": int(a0), "agent_b": int(a1)})
            n += 1
            if terms["agent_a"]:
                break
        done["env"] = n

    with progress.task(1, "selfmod keys world") as t:
        med = round_robin_medians({"twin": twin, "env": loop}, repeats=3 if quick else REPEATS)
        t.advance()
    ours = done["twin"] / med["twin"]
    anchor = done["env"] / med["env"]
    name = (
        f"keys world twin vs PettingZoo loop, steps/s (2 agents, random actions, "
        f"{TWIN_STEPS:,} / {ENV_STEPS:,} steps per call, 1 thread)"
    )
    return [BenchRow.compare(name, ours, anchor, "steps/s")]
