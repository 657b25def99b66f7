"""A hidden toy experiment for testing the runner, checkpoints and resumption.

It lives in the tests, not in the library: ``tests/conftest.py`` imports this module, which
registers ``_toy.counter``; a test that starts ``rnnai`` in a subprocess imports it there first
(see `CLI_WITH_TOY`).

``_toy.counter`` fits a linear regression ``y = x·w* + 0.1·ε`` with SGD with momentum, drawing
each batch from the run's seeded numpy generator and the noise from a seeded torch generator. It
checkpoints after every step everything the rest of the run depends on: the model and optimizer
state, the torch generator state, the numpy generator state, the step and the loss history. A run
killed at any point and resumed with ``--resume`` therefore ends with exactly the metrics of an
uninterrupted run with the same seed; ``metrics["loss_history_sha256"]`` makes that easy to check.

It also shows the pattern real experiments should follow (`pack_state` / `unpack_state`,
``ctx.checkpointer``, ``ctx.progress``).

Environment:
    RNNAI_TOY_STEP_SLEEP: seconds to sleep after each step (default 0), so that a test can kill the
        process in the middle of a run. It does not change the result and is not part of the
        config.

Verdict rule: ``reproduced`` if the final loss is below 0.05 (the noise floor is 0.01),
``partial`` below 0.5, else ``not_reproduced``.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from rnnai.evolution.core import Problem
from rnnai.experiments.base import Experiment, Outcome, PaperClaim, RunContext, register
from rnnai.runtime.checkpoint import pack_state, unpack_state
from rnnai.runtime.seeding import numpy_rng_state, set_numpy_rng_state

STEPS = {"smoke": 20, "quick": 200, "paper": 2000}

CLI_WITH_TOY = "import toy_experiment; from rnnai.cli import main; main(prog_name='rnnai')"
"""``python -c`` code that runs the ``rnnai`` command with ``_toy.counter`` registered (put this
folder on ``PYTHONPATH``)."""


@register
class ToyCounter(Experiment):
    """Toy SGD regression that checkpoints every step (hidden; for runner tests)."""

    name = "_toy.counter"
    system = "toy linear regression"
    claim = PaperClaim(citation="toy (tests only)", metric="final training MSE", value=0.01)
    headline_metric = "final training MSE"

    def config(self, scale: str) -> dict[str, Any]:
        """Return the config: steps by scale; the rest is fixed."""
        return {
            "steps": STEPS[scale],
            "dim": 8,
            "batch": 16,
            "lr": 0.05,
            "momentum": 0.9,
            "noise": 0.1,
        }

    def run(self, ctx: RunContext) -> Outcome:
        """Train, checkpointing after every step; resume from the checkpoint if there is one."""
        cfg = ctx.config
        sleep_s = float(os.environ.get("RNNAI_TOY_STEP_SLEEP", "0") or 0)
        w_true = torch.from_numpy(ctx.rng("target").standard_normal(cfg["dim"]).astype(np.float32))
        data_rng = ctx.rng("data")
        noise_gen = ctx.torch_generator("noise")
        model = torch.nn.Linear(cfg["dim"], 1)
        with torch.no_grad():
            model.weight.copy_(
                0.1 * torch.randn(1, cfg["dim"], generator=ctx.torch_generator("init"))
            )
            model.bias.zero_()
        # Plain SGD with momentum, v <- mu v + g, w <- w - lr v. (torch.optim would do the same,
        # but its first use imports torch._dynamo, about 3 s, which the kill test pays 3 times.)
        velocity = [torch.zeros_like(p) for p in model.parameters()]
        step, losses, resumed_at = 0, [], None

        loaded = ctx.checkpointer.load()  # None on a fresh run
        if loaded is not None:
            tensors, state = loaded
            nets = unpack_state(state["nets"], tensors)
            model.load_state_dict(nets["model"])
            velocity = nets["velocity"]
            noise_gen.set_state(nets["noise_gen"])
            set_numpy_rng_state(data_rng, state["data_rng"])
            step, losses, resumed_at = state["step"], state["losses"], state["step"]
            ctx.log(f"resumed at step {step}")

        with ctx.progress(cfg["steps"], "training") as bar:
            bar.advance(step)
            while step < cfg["steps"]:
                x = torch.from_numpy(data_rng.standard_normal((cfg["batch"], cfg["dim"])))
                x = x.float()  # (B, D)
                noise = torch.randn(cfg["batch"], generator=noise_gen)
                y = x @ w_true + cfg["noise"] * noise  # (B,)
                loss = F.mse_loss(model(x).squeeze(-1), y)
                model.zero_grad()
                loss.backward()
                with torch.no_grad():
                    for p, v in zip(model.parameters(), velocity, strict=True):
                        v.mul_(cfg["momentum"]).add_(p.grad)
                        p.sub_(cfg["lr"] * v)
                losses.append(loss.item())
                step += 1
                tensors, skeleton = pack_state(
                    {
                        "model": model.state_dict(),
                        "velocity": velocity,
                        "noise_gen": noise_gen.get_state(),
                    }
                )
                ctx.checkpointer.save(
                    tensors,
                    {
                        "step": step,
                        "losses": losses,
                        "data_rng": numpy_rng_state(data_rng),
                        "nets": skeleton,
                    },
                )
                bar.advance()
                bar.update(loss=losses[-1])
                if sleep_s:
                    time.sleep(sleep_s)

        from matplotlib.figure import Figure  # lazy: `rnnai list` imports every experiment module

        fig = Figure(figsize=(5, 3))
        ax = fig.subplots()
        ax.semilogy(np.arange(1, len(losses) + 1), losses)
        ax.set_xlabel("step")
        ax.set_ylabel("training MSE")
        fig.tight_layout()
        fig.savefig(ctx.out_dir / "loss.png", dpi=80)

        final = losses[-1]
        verdict = "reproduced" if final < 0.05 else "partial" if final < 0.5 else "not_reproduced"
        digest = hashlib.sha256(json.dumps(losses).encode()).hexdigest()
        notes = "Toy run for tests."
        if resumed_at is not None:
            notes += f" Resumed from a checkpoint at step {resumed_at}."
        return Outcome(
            headline=final,
            metrics={
                "final_loss": final,
                "first_loss": losses[0],
                "steps": step,
                "loss_history_sha256": digest,
            },
            verdict=verdict,
            plots=["loss.png"],
            notes=notes,
        )


class NegSquares(Problem):
    """Fitness ``-sum(g**2)`` of each genome (deterministic, picklable)."""

    def __init__(self, dim: int) -> None:
        self.dim = dim

    def evaluate(self, genomes: np.ndarray) -> np.ndarray:
        """Return ``-sum(genomes**2, axis=1)``."""
        return -np.sum(genomes**2, axis=1)


@register
class ToyParallel(Experiment):
    """Evaluates one random population through ``ctx.evaluator()`` (hidden; for --workers)."""

    name = "_toy.parallel"
    system = "toy population evaluation"
    claim = PaperClaim(citation="toy (tests only)", metric="best fitness", value=0.0)
    uses_workers = True

    def config(self, scale: str) -> dict[str, Any]:
        """Return the config: a population of 6 genomes of 3 genes at every scale."""
        return {"popsize": 6, "dim": 3}

    def run(self, ctx: RunContext) -> Outcome:
        """Evaluate the population on the evaluator the user asked for."""
        cfg = ctx.config
        genomes = ctx.rng("population").standard_normal((cfg["popsize"], cfg["dim"]))
        fitness = ctx.evaluator()(NegSquares(cfg["dim"]), genomes)
        return Outcome(
            headline=float(fitness.max()),
            metrics={"fitness": fitness.tolist()},
            verdict="partial",
        )
