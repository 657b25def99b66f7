"""`rnnai bench world_models`: steps per second in M's dream against real CarRacing steps.

World Models (Ha & Schmidhuber 2018) trains its controller inside M's dream, which is only worth
it if dreaming is cheaper than the real environment. Ours: `rnnai.agents.world_models.DreamEnv`
at the paper's CarRacing size of M (z 32, 256 LSTM units, 5 Gaussians per dimension), rolling
`DREAMS` dreams at once (a CMA-ES population of 64 x 16 rollouts), with a random linear
controller, for `DREAM_STEPS` steps per call; anchor: one gymnasium ``CarRacing-v3`` with
random actions, each frame drawn (V's input needs every frame), `REAL_STEPS` steps per call. Both
run in one process with one torch thread and are timed alternately
(`rnnai.bench.round_robin_medians`); the row reports dream steps per second (one step of one
dream) and the speedup. Population evaluation on two Ray workers against one is measured by
``rnnai bench evolution``; it is not repeated here.

Examples:
    >>> dream_steps_per_call(4, 3)
    12
"""

from __future__ import annotations

import numpy as np
import torch

from rnnai.agents.world_models import (
    MDNRNN,
    DreamEnv,
    DreamNoise,
    MDNRNNConfig,
    controller_actions,
    controller_dim,
)
from rnnai.bench import BenchRow, register_bench, round_robin_medians
from rnnai.runtime.progress import Progress

__all__ = ["DREAMS", "DREAM_STEPS", "REAL_STEPS", "bench_world_models", "dream_steps_per_call"]

DREAMS = 1024
"""Dreams rolled out at once (population 64 x 16 rollouts)."""
DREAM_STEPS = 50
"""Dream steps per timed call."""
REAL_STEPS = 20
"""Real CarRacing steps per timed call."""
REPEATS = 5
"""Timed rounds (``--quick``: 3)."""


def dream_steps_per_call(dreams: int, steps: int) -> int:
    """Single-dream steps done by one call: ``dreams * steps``."""
    return dreams * steps


@register_bench("world_models")
def bench_world_models(quick: bool, progress: Progress) -> list[BenchRow]:
    """Dream steps/s of the batched dream against real CarRacing steps/s (module docs)."""
    from rnnai.envs.car_racing import CarRacingConfig, make_car_racing

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.random.fork_rng():
            torch.manual_seed(0)
            model = MDNRNN(MDNRNNConfig()).eval()
        genomes = np.random.default_rng(0).normal(0, 0.1, (DREAMS, controller_dim(32, 256, 3)))
        seeds = np.arange(DREAMS)
        noise = DreamNoise.draw(seeds, DREAM_STEPS, 32)
        z0 = torch.zeros(DREAMS, 32)
        env = make_car_racing(CarRacingConfig(size=8, frame_skip=1, max_frames=10**6))
        env.reset(seed=0)
        actions = np.random.default_rng(1).uniform([-1, 0, 0], [1, 1, 0.2], (REAL_STEPS, 3))

        def dream() -> None:
            d = DreamEnv(model, z0, 1.0, noise, DREAM_STEPS)
            for _ in range(DREAM_STEPS):
                d.step(controller_actions(genomes, d.features, "car"))

        def real() -> None:
            for a in actions:
                env.step(a.astype(np.float32))

        with progress.task(1, "world_models dream vs CarRacing") as t:
            med = round_robin_medians({"dream": dream, "real": real},
                                      repeats=3 if quick else REPEATS)  # fmt: skip
            t.advance()
        env.close()
    finally:
        torch.set_num_threads(before)
    ours = dream_steps_per_call(DREAMS, DREAM_STEPS) / med["dream"]
    anchor = REAL_STEPS / med["real"]
    name = (
        f"World Models: dream steps/s (M 256 units, {DREAMS:,} dreams at once) vs real "
        "CarRacing-v3 steps/s (every frame drawn), 1 thread"
    )
    return [BenchRow.compare(name, ours, anchor, "steps/s")]
