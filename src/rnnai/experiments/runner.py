"""Running experiments: one (`run_experiment`) or a selection with a report (`reproduce`).

`run_experiment` is what ``rnnai run`` does: check the scale and the output folder, build the
run's checkpointer (``OUT/<name>/checkpoint.safetensors``, fingerprinted with experiment, scale,
seed and a hash of the config), save ``config.json`` (config, seed, versions), run the experiment,
write ``result.json`` atomically and delete the checkpoint. With ``resume=True`` a checkpoint is
checked before anything runs (a corrupt or foreign one is an `RnnaiError`) and the experiment
continues from it; without it an old checkpoint is deleted and the run starts fresh.

Wall time survives resumption: every save through ``ctx.checkpointer`` also stores the wall time so
far under the reserved state key ``_wall_s``, and a resumed run adds it to its own.

One run per folder: while a run writes into ``OUT/<name>`` it holds an exclusive lock
(``fcntl.flock``) on ``OUT/<name>/run.lock``, and a second run into the same folder is refused
before it touches anything (`RunLockedError`). The lock dies with its process, so a killed run
never leaves a stale lock behind. (Where ``fcntl`` does not exist, on Windows, runs are not
guarded.)

Options an experiment cannot use are not silently accepted: ``workers``/``ray_address`` given to
an experiment whose class does not set ``uses_workers = True`` raise an `RnnaiWarning` and are
dropped, and ``workers`` above the CPUs this process may use
(`rnnai.evolution.distributed.usable_cpus`) is capped to them with a warning, so
``--workers 10000`` does not start thousands of processes.

`reproduce` is what ``rnnai reproduce`` does: run a selection one after another under one progress
display, keep going when one fails, then write ``OUT/REPORT.md``.

Examples:
    >>> from rnnai.experiments.runner import config_hash
    >>> config_hash({"b": 1, "a": [1, 2]}) == config_hash({"a": [1, 2], "b": 1})
    True
    >>> len(config_hash({}))
    16
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import json
import os
import shlex
import tempfile
import time
import traceback
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import torch

from rnnai.evolution.distributed import check_address, usable_cpus
from rnnai.experiments.base import (
    Experiment,
    Outcome,
    RunContext,
    all_experiments,
    check_scale,
    get_experiment,
)
from rnnai.runtime.checkpoint import Checkpointer, atomic_write_json
from rnnai.runtime.errors import RnnaiError, RnnaiWarning
from rnnai.runtime.progress import Progress, format_duration
from rnnai.runtime.report import UnreadableResultsError, format_number, write_report
from rnnai.runtime.results import build_result, read_result, to_jsonable, versions, write_result

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; runs into one folder are not guarded there
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "LOCK_NAME",
    "ReproduceError",
    "RunLockedError",
    "config_hash",
    "reproduce",
    "run_experiment",
    "select_experiments",
]

WALL_KEY = "_wall_s"
"""Reserved checkpoint-state key holding the wall time spent before the save."""

LOCK_NAME = "run.lock"
"""The lock file a run holds in its folder, ``OUT/<name>/run.lock`` (it holds the owner's pid)."""


class RunLockedError(RnnaiError):
    """Another run is writing into the same ``OUT/<name>`` folder (it holds ``run.lock``)."""


class ReproduceError(RnnaiError):
    """Some experiments of a `reproduce` call failed; the report was still written.

    Attributes:
        failures: Experiment name -> one-line reason.
        report: The path of the report.
    """

    def __init__(self, message: str, failures: dict[str, str], report: Path) -> None:
        super().__init__(message)
        self.failures = failures
        self.report = report


class _RunCheckpointer(Checkpointer):
    """A `Checkpointer` that records the run's wall time in every save.

    The runner loads (and so validates) the checkpoint before the experiment starts; the
    experiment's first `load` gets that same result without reading the file again.
    """

    def __init__(self, path: Path, fingerprint: Mapping[str, Any]) -> None:
        super().__init__(path, fingerprint)
        self.wall_before = 0.0
        self.started = time.perf_counter()
        self._preloaded: tuple[dict[str, torch.Tensor], dict[str, Any]] | None = None

    def wall_s(self) -> float:
        """Wall time of the run so far, including the time recorded by a resumed checkpoint."""
        return self.wall_before + time.perf_counter() - self.started

    def preload(self) -> bool:
        """Load and validate the checkpoint for a resumed run; return whether there was one."""
        loaded = super().load()
        if loaded is None:
            return False
        tensors, state = loaded
        self.wall_before = float(state.pop(WALL_KEY, 0.0) or 0.0)
        self._preloaded = (tensors, state)
        return True

    def save(self, tensors: Mapping[str, torch.Tensor], state: Mapping[str, Any]) -> None:
        if WALL_KEY in state:
            raise RnnaiError(f"checkpoint state key {WALL_KEY!r} is reserved for the runner")
        super().save(tensors, {**state, WALL_KEY: self.wall_s()})

    def load(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]] | None:
        if self._preloaded is not None:
            preloaded, self._preloaded = self._preloaded, None
            return preloaded
        loaded = super().load()
        if loaded is not None:
            loaded[1].pop(WALL_KEY, None)
        return loaded


def config_hash(config: Mapping[str, Any]) -> str:
    """Return a short stable hash of a JSON-able config (key order does not matter).

    Args:
        config: The config.

    Returns:
        16 hex digits of a SHA-256.
    """
    text = json.dumps(to_jsonable(dict(config)), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _out_path(out: Path | str) -> Path:
    """``out`` as a Path; an empty string is refused (it would mean the current folder)."""
    if isinstance(out, str) and not out.strip():
        raise RnnaiError("the output folder must not be empty; give a folder such as 'results'")
    return Path(out)


@contextlib.contextmanager
def _run_lock(folder: Path) -> Iterator[None]:
    """Hold the exclusive lock of the run folder ``folder`` (see `LOCK_NAME`) for a block.

    Raises:
        RunLockedError: If another process holds it (naming that process's pid).
        RnnaiError: If the lock file cannot be created.
    """
    if fcntl is None:
        yield
        return
    path = folder / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as e:
        raise RnnaiError(f"cannot write to output folder {folder}: {e.strerror or e}") from e
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:  # BlockingIOError: someone holds it
            owner = os.read(fd, 32).decode("ascii", "replace").strip() or "unknown"
            raise RunLockedError(
                f"another rnnai run (pid {owner}) is writing to {folder}; wait for it to end "
                "or choose another --out"
            ) from e
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        yield
    finally:
        os.close(fd)  # releases the lock; the file stays (deleting it would race a new owner)


def _check_parallel_args(workers: int | None, ray_address: str | None) -> None:
    """Refuse a negative or non-integer ``workers`` and a malformed ``ray_address``."""
    if workers is not None and (
        isinstance(workers, bool) or not isinstance(workers, int) or workers < 0
    ):
        raise RnnaiError(f"workers must be a non-negative integer or None, got {workers!r}")
    if ray_address is not None:
        if not isinstance(ray_address, str) or not ray_address.strip():
            raise RnnaiError(f"the Ray address must be a non-empty string, got {ray_address!r}")
        check_address(ray_address)


def _parallel_options(
    exp: Experiment, workers: int | None, ray_address: str | None
) -> tuple[int | None, str | None]:
    """Check ``workers``/``ray_address`` for ``exp``: drop unused ones, cap workers at the CPUs."""
    _check_parallel_args(workers, ray_address)
    if not exp.uses_workers:
        given = [
            option
            for option, value in (("--workers", workers), ("--ray-address", ray_address))
            if value is not None
        ]
        if given:
            warnings.warn(
                f"{exp.name} does not use {' or '.join(given)}; ignored",
                RnnaiWarning,
                stacklevel=3,
            )
        return None, None
    cpus = usable_cpus()
    if workers is not None and workers > cpus and ray_address is None:
        warnings.warn(
            f"--workers {workers} is more than the {cpus} CPU{'s' if cpus != 1 else ''} here; "
            f"using {cpus}",
            RnnaiWarning,
            stacklevel=3,
        )
        workers = cpus
    return workers, ray_address


def _prepare_out(folder: Path) -> None:
    """Create ``folder`` and prove it writable, or raise a one-line RnnaiError."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as e:
        raise RnnaiError(f"cannot write to output folder {folder}: {e.strerror or e}") from e


def _experiment_config(exp: Experiment, scale: str) -> dict[str, Any]:
    config = exp.config(scale)
    if not isinstance(config, Mapping):
        raise TypeError(f"{exp.name}.config({scale!r}) returned {type(config).__name__}, not dict")
    return to_jsonable(dict(config))


def _check_plots(ctx: RunContext, plots: list[str]) -> tuple[list[str], list[str]]:
    kept: list[str] = []
    missing: list[str] = []
    for plot in plots:
        path = Path(plot)
        if path.is_absolute():
            try:
                path = path.relative_to(ctx.out_dir)
            except ValueError:
                missing.append(str(plot))
                continue
        (kept if (ctx.out_dir / path).is_file() else missing).append(path.as_posix())
    return kept, missing


def run_experiment(
    name: str,
    scale: str = "quick",
    seed: int = 0,
    out: Path | str = Path("results"),
    resume: bool = False,
    quiet: bool = False,
    display: Progress | None = None,
    workers: int | None = None,
    ray_address: str | None = None,
) -> dict[str, Any]:
    """Run one experiment and write ``OUT/<name>/result.json``.

    Args:
        name: The experiment's registered name.
        scale: One of ``smoke``, ``quick``, ``paper``.
        seed: The run seed (non-negative).
        out: The results folder; the experiment writes into ``out/<name>``.
        resume: Continue from ``out/<name>/checkpoint.safetensors`` if it exists.
        quiet: Print nothing.
        display: A progress display to share (`reproduce` passes its own); default: a new one.
        workers: Ray workers for population evaluation, or threads of an OOPS search (None/1:
            in-process); results do not depend on it. Capped at the usable CPUs (without
            ``ray_address``), with an `RnnaiWarning`.
        ray_address: An existing Ray cluster for population evaluation.

    Returns:
        The result, as written to result.json.

    Raises:
        RnnaiError: Unknown experiment or scale, negative seed, empty or unwritable folder, or
            (with ``resume``) a corrupt or foreign checkpoint; all are raised before the
            experiment runs.
        RunLockedError: If another run is writing into the same folder.

    Warns:
        RnnaiWarning: When ``workers``/``ray_address`` are given to an experiment that does not
            use them (they are ignored), or ``workers`` is capped at the CPUs.
    """
    check_scale(scale)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise RnnaiError(f"seed must be a non-negative integer, got {seed!r}")
    exp = get_experiment(name)
    out_dir = _out_path(out) / exp.name
    workers, ray_address = _parallel_options(exp, workers, ray_address)
    _prepare_out(out_dir)
    with _run_lock(out_dir):
        return _run_locked(exp, scale, seed, out_dir, resume, quiet, display, workers, ray_address)


def _run_locked(
    exp: Experiment,
    scale: str,
    seed: int,
    out_dir: Path,
    resume: bool,
    quiet: bool,
    display: Progress | None,
    workers: int | None,
    ray_address: str | None,
) -> dict[str, Any]:
    """The body of `run_experiment`, run while holding the folder's lock."""
    config = _experiment_config(exp, scale)
    fingerprint = {
        "experiment": exp.name,
        "scale": scale,
        "seed": seed,
        "config_hash": config_hash(config),
    }
    ckpt = _RunCheckpointer(out_dir / "checkpoint.safetensors", fingerprint)
    resumed = ckpt.preload() if resume else False
    if not resume:
        ckpt.clear()
    (out_dir / "result.json").unlink(missing_ok=True)  # a new run invalidates the old result

    own_display = display is None
    display = display if display is not None else Progress(quiet=quiet)
    log_file = out_dir / "log.txt"
    if not resumed:
        log_file.write_text("", encoding="utf-8")
    ctx = RunContext(
        name=exp.name,
        scale=scale,
        seed=seed,
        out_dir=out_dir,
        config=config,
        quiet=quiet,
        resume=resume,
        checkpointer=ckpt,
        display=display,
        log_file=log_file,
        workers=workers,
        ray_address=ray_address,
    )
    run_versions = versions()
    run_info = {
        "experiment": exp.name,
        "scale": scale,
        "seed": seed,
        "config": config,
        "versions": run_versions,
        "resumed": resumed,
    }
    atomic_write_json(out_dir / "config.json", run_info)
    with display if own_display else contextlib.nullcontext():
        ctx.log(f"scale {scale}, seed {seed}, writing to {out_dir}")
        ctx.log("config " + json.dumps(config, sort_keys=True))
        ctx.log("versions " + ", ".join(f"{k} {v}" for k, v in run_versions.items()))
        if resume:
            ctx.log(
                f"resuming from {ckpt.path} ({format_duration(ckpt.wall_before)} already spent)"
                if resumed
                else "no checkpoint to resume from; starting fresh"
            )
        try:
            outcome = exp.run(ctx)
        finally:
            ctx.close()
        if not isinstance(outcome, Outcome):
            raise TypeError(f"{exp.name}.run returned {type(outcome).__name__}, not Outcome")
        wall = ckpt.wall_s()
        plots, missing = _check_plots(ctx, list(outcome.plots))
        notes = outcome.notes
        if missing:
            notes += ("\n\n" if notes else "") + "Missing plots: " + ", ".join(missing) + "."
        result = build_result(
            experiment=exp.name,
            scale=scale,
            seed=seed,
            paper={
                "citation": exp.claim.citation,
                "metric": exp.claim.metric,
                "value": exp.claim.value,
            },
            headline_metric=exp.headline,
            headline_value=outcome.headline,
            metrics=outcome.metrics,
            verdict=str(outcome.verdict),
            wall_s=wall,
            config=config,
            plots=plots,
            notes=notes,
            judgement=None if outcome.judgement is None else outcome.judgement.to_dict(),
        )
        write_result(out_dir / "result.json", result)
        ckpt.clear()
        ctx.log(
            f"{result['verdict'].replace('_', ' ')}: {exp.headline} = "
            f"{format_number(result['headline']['value'])} "
            f"(paper: {format_number(exp.claim.value)}) in {format_duration(wall)}"
        )
    return result


def select_experiments(only: str | None = None, all_: bool = False) -> list[Experiment]:
    """Choose the experiments of a `reproduce` call.

    Args:
        only: Comma-separated glob patterns on names (``"lstm.*,ctc.*"``); hidden experiments
            match only patterns that themselves start with ``_``.
        all_: Every non-hidden experiment.

    Returns:
        The selection sorted by name; by default, the tour (experiments with ``tour = True``).

    Raises:
        RnnaiError: If both ``only`` and ``all_`` are given or the selection is empty.
    """
    if only is not None and all_:
        raise RnnaiError("use either --only or --all, not both")
    if all_:
        chosen = all_experiments()
        if not chosen:
            raise RnnaiError("no experiments are registered")
        return chosen
    if only is not None:
        patterns = [p.strip() for p in only.split(",") if p.strip()]
        chosen = [
            exp
            for exp in all_experiments(include_hidden=True)
            if any(
                fnmatch.fnmatchcase(exp.name, p) and (not exp.hidden or p.startswith("_"))
                for p in patterns
            )
        ]
        if not chosen:
            names = ", ".join(e.name for e in all_experiments()) or "none"
            raise RnnaiError(f"--only {only!r} matches no experiment (available: {names})")
        return chosen
    chosen = [exp for exp in all_experiments() if exp.tour]
    if not chosen:
        raise RnnaiError("no experiment is part of the tour yet; use --all or --only GLOB")
    return chosen


def _is_done(exp: Experiment, out: Path, scale: str, seed: int) -> bool:
    path = out / exp.name / "result.json"
    if not path.is_file():
        return False
    try:
        done = read_result(path)
    except RnnaiError:
        return False
    return (
        done["scale"] == scale
        and done["seed"] == seed
        and done["config"] == _experiment_config(exp, scale)
    )


def reproduce(
    scale: str = "quick",
    only: str | None = None,
    all_: bool = False,
    out: Path | str = Path("results"),
    seed: int = 0,
    quiet: bool = False,
    resume: bool = False,
    workers: int | None = None,
    ray_address: str | None = None,
) -> Path:
    """Run a selection of experiments one after another and write ``OUT/REPORT.md``.

    Args:
        scale: One of ``smoke``, ``quick``, ``paper``.
        only: Comma-separated glob patterns on names (see `select_experiments`).
        all_: Run every non-hidden experiment.
        out: The results folder.
        seed: The seed of every run.
        quiet: Print nothing.
        resume: Skip experiments whose result for this scale, seed and config already exists, and
            resume the others from their checkpoints.
        workers: Ray workers for population evaluation (see `run_experiment`).
        ray_address: An existing Ray cluster for population evaluation.

    Returns:
        The path of REPORT.md.

    Raises:
        RnnaiError: For a bad scale, selection, output folder, ``workers`` or ``ray_address``
            (before anything runs).
        ReproduceError: If some experiments failed or some results in ``out`` are unreadable;
            the others' results and the report are written, each failure's traceback is in
            ``OUT/<name>/error.txt``.
    """
    check_scale(scale)
    _check_parallel_args(workers, ray_address)
    chosen = select_experiments(only, all_)
    out = _out_path(out)
    _prepare_out(out)
    command = ["rnnai", "reproduce", "--scale", scale, "--seed", str(seed), "--out", str(out)]
    if only is not None:
        command += ["--only", only]
    elif all_:
        command.append("--all")
    failures: dict[str, str] = {}
    with Progress(quiet=quiet) as display:
        with display.task(len(chosen), f"reproduce ({scale})") as overall:
            for exp in chosen:
                overall.update(status=exp.name)
                if resume and _is_done(exp, out, scale, seed):
                    display.log(f"{exp.name}: already done, skipped (--resume)")
                else:
                    try:
                        run_experiment(
                            exp.name,
                            scale=scale,
                            seed=seed,
                            out=out,
                            resume=resume,
                            quiet=quiet,
                            display=display,
                            workers=workers,
                            ray_address=ray_address,
                        )
                    except Exception as e:  # one failure must not lose the other experiments
                        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
                        failures[exp.name] = f"{type(e).__name__}: {first}".rstrip(": ")
                        error_file = out / exp.name / "error.txt"
                        if error_file.parent.is_dir() and not isinstance(e, RunLockedError):
                            error_file.write_text(traceback.format_exc(), encoding="utf-8")
                        display.log(f"{exp.name}: FAILED ({failures[exp.name]})")
                overall.advance()
    present = {p.parent.name for p in out.glob("*/result.json")}
    regenerates = present <= {exp.name for exp in chosen}
    unreadable: list[str] = []
    try:
        report = write_report(
            out, command=shlex.join(command) if regenerates else None, failures=failures
        )
    except UnreadableResultsError as e:
        report, unreadable = e.report, e.unreadable
    if failures or unreadable:
        parts = []
        if failures:
            listed = "; ".join(f"{name} ({why})" for name, why in failures.items())
            parts.append(f"{len(failures)} of {len(chosen)} experiments failed: {listed}")
        if unreadable:
            parts.append(f"unreadable results: {'; '.join(unreadable)}")
        raise ReproduceError(f"{'; '.join(parts)}; report: {report}", failures, report)
    return report
