"""The experiment registry: what a paper reproduction declares and what it is given to run.

An experiment is a subclass of `Experiment` decorated with `register`. It declares the paper's claim
(`PaperClaim`), a config per scale (`SCALES`), and a `run` method that receives a `RunContext` and
returns an `Outcome`; `rnnai.experiments.runner` turns that into ``OUT/<name>/result.json``::

    @register
    class AddingExperiment(Experiment):
        \"\"\"LSTM on the adding problem (Hochreiter & Schmidhuber 1997, Exp. 4). ...\"\"\"

        name = "lstm.adding"
        system = "LSTM (1997)"
        claim = PaperClaim(citation="Hochreiter & Schmidhuber 1997, Exp. 4",
                           metric="training sequences until stop criterion, T=100", value=74_000)
        headline_metric = "training sequences until stop criterion, T=100"
        tour = True

        def config(self, scale: str) -> dict: ...
        def run(self, ctx: RunContext) -> Outcome: ...

Names are dotted (``family.task``); names starting with ``_`` are hidden (tests only).

An experiment that evaluates populations through ``ctx.evaluator()`` or runs threads from
``ctx.workers`` sets ``uses_workers = True``; for the others the runner warns that ``--workers``
and ``--ray-address`` are ignored.

Examples:
    >>> from rnnai.experiments.base import PaperClaim, check_scale
    >>> check_scale("smoke")
    'smoke'
    >>> claim = PaperClaim(citation="Hochreiter & Schmidhuber 1997, Exp. 4",
    ...                    metric="training sequences until stop criterion, T=100", value=74_000)
    >>> claim.lower_is_better
    True
    >>> check_scale("huge")
    Traceback (most recent call last):
    ...
    rnnai.runtime.errors.RnnaiError: unknown scale 'huge'; choose one of smoke, quick, paper
"""

from __future__ import annotations

import abc
import difflib
import re
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import numpy as np
import torch

from rnnai.runtime.checkpoint import Checkpointer
from rnnai.runtime.errors import RnnaiError
from rnnai.runtime.progress import Progress, TaskHandle
from rnnai.runtime.results import check_verdict
from rnnai.runtime.seeding import derive_seed, make_rng
from rnnai.runtime.seeding import torch_generator as _torch_generator
from rnnai.runtime.verdict import Judgement

__all__ = [
    "SCALES",
    "Experiment",
    "Outcome",
    "PaperClaim",
    "RunContext",
    "all_experiments",
    "check_scale",
    "get_experiment",
    "register",
    "unregister",
]

SCALES: tuple[str, ...] = ("smoke", "quick", "paper")
"""Run scales: ``smoke`` (seconds, CI), ``quick`` (minutes on 2 cores, the default) and ``paper``
(the paper's own budget; may take hours, checkpoints and resumes)."""

_NAME_RE = re.compile(r"^_?[a-z][a-z0-9_]*(\.[a-z0-9][a-z0-9_]*)+$")


def check_scale(scale: str) -> str:
    """Return ``scale`` if it is one of `SCALES`.

    Args:
        scale: The scale to check.

    Returns:
        The scale unchanged.

    Raises:
        RnnaiError: Naming the valid scales.
    """
    if scale not in SCALES:
        raise RnnaiError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    return scale


@dataclass(frozen=True, kw_only=True)
class PaperClaim:
    """The paper's number that an experiment reproduces.

    Attributes:
        citation: Short citation with the place of the claim, e.g.
            ``"Hochreiter & Schmidhuber 1997, Exp. 4"``.
        metric: What the number measures, with its conditions.
        value: The paper's number (None when the claim is qualitative).
        lower_is_better: Whether a smaller value is a better result.
        note: Anything a reader needs to compare the numbers fairly.
    """

    citation: str
    metric: str
    value: float | int | None
    lower_is_better: bool = True
    note: str = ""


@dataclass
class Outcome:
    """What an experiment's `Experiment.run` returns.

    Attributes:
        headline: Our number comparable to the paper's (`Experiment.headline_metric`), or None.
        metrics: Deterministic measured values for the seed (no timings: the runner records wall
            time separately).
        verdict: ``reproduced``, ``partial`` or ``not_reproduced``, computed from the measured
            numbers by the shared rule (`rnnai.runtime.verdict.judge`); pass the `Judgement`
            itself so that its evidence (tests, n, intervals) reaches result.json and the report.
        judgement: Set from ``verdict`` when a `Judgement` was given (None otherwise).
        plots: File names of plots written into ``ctx.out_dir``.
        notes: Markdown shown under the experiment in REPORT.md.
    """

    headline: float | int | None
    metrics: dict[str, Any]
    verdict: str | Judgement
    plots: list[str] = field(default_factory=list)
    notes: str = ""
    judgement: Judgement | None = None

    def __post_init__(self) -> None:
        if isinstance(self.verdict, Judgement):
            self.judgement = self.verdict
            self.verdict = self.verdict.verdict
        check_verdict(self.verdict)


@dataclass(kw_only=True)
class RunContext:
    """Everything an experiment's `Experiment.run` gets from the runner.

    Attributes:
        name: The experiment's registered name.
        scale: The run scale (one of `SCALES`).
        seed: The run seed; derive every random stream from it (`rng`, `torch_generator`).
        out_dir: ``OUT/<name>``: write plots here.
        config: The experiment's config at this scale.
        quiet: Whether output is silenced (progress and `log` already obey it).
        resume: Whether the user asked to resume. The runner deletes any old checkpoint on a fresh
            run, so ``ctx.checkpointer.load()`` returns None then; calling it unconditionally is
            correct.
        checkpointer: Saves/loads this run's checkpoint (default: ``out_dir/checkpoint.safetensors``
            fingerprinted with name, scale and seed). Save often (every step or every few
            seconds): a killed run resumes from the last save and must end with the same result.
        display: The shared progress display (use `progress` instead).
        log_file: Where `log` appends its messages (None: nowhere).
        workers: Ray workers for population evaluation, or threads of an OOPS search
            (``--workers``; None/1: in-process, one thread).
        ray_address: An existing Ray cluster to evaluate on (``--ray-address``).
    """

    name: str
    scale: str
    seed: int
    out_dir: Path
    config: dict[str, Any]
    quiet: bool = True
    resume: bool = False
    # None is replaced in __post_init__, so both are always set on a built context.
    checkpointer: Checkpointer = None  # type: ignore[assignment]
    display: Progress = None  # type: ignore[assignment]
    log_file: Path | None = None
    workers: int | None = None
    ray_address: str | None = None
    _evaluator: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.out_dir = Path(self.out_dir)
        if self.checkpointer is None:
            self.checkpointer = Checkpointer(
                self.out_dir / "checkpoint.safetensors",
                {"experiment": self.name, "scale": self.scale, "seed": self.seed},
            )
        if self.display is None:
            self.display = Progress(quiet=self.quiet)

    def progress(
        self, total: int | float | None, description: str
    ) -> AbstractContextManager[TaskHandle]:
        """Open a progress bar for the duration of a ``with`` block.

        Args:
            total: Units of work (None when unknown).
            description: What is being done; the experiment's name is prepended.

        Returns:
            A context manager yielding a handle with ``.advance(n=1)`` and
            ``.update(description=None, **fields)`` (e.g. ``status="loss 0.03"``).
        """
        return self.display.task(total, f"{self.name}: {description}")

    def evaluator(self) -> Any:
        """The population evaluator the user asked for (`rnnai.evolution.distributed`).

        In-process by default; on Ray with ``--workers N`` (N >= 2) or ``--ray-address``. The
        results are identical either way, so neither option enters the config or the
        checkpoint's fingerprint. Built once per run; the runner shuts it down (`close`).

        Returns:
            An `rnnai.evolution.core.Evaluator`.
        """
        if self._evaluator is None:
            from rnnai.evolution.distributed import make_evaluator

            self._evaluator = make_evaluator(self.workers, self.ray_address, quiet=self.quiet)
        return self._evaluator

    def close(self) -> None:
        """Release what the run opened (a local Ray cluster started by `evaluator`)."""
        if self._evaluator is not None:
            self._evaluator.shutdown()
            self._evaluator = None

    def log(self, message: str) -> None:
        """Print a line (unless quiet) and append it to ``OUT/<name>/log.txt``.

        Args:
            message: Plain text.
        """
        self.display.log(f"{self.name}: {message}")
        if self.log_file is not None:
            with open(self.log_file, "a", encoding="utf-8") as f:
                f.write(message + "\n")

    def rng(self, *keys: int | str) -> np.random.Generator:
        """Return a numpy generator for the stream ``keys`` of this run's seed.

        Args:
            *keys: Stream names, e.g. ``"data"``; different keys give independent streams.

        Returns:
            ``make_rng(derive_seed(seed, name, *keys))``.
        """
        return make_rng(derive_seed(self.seed, self.name, *keys))

    def torch_generator(self, *keys: int | str) -> torch.Generator:
        """Return a CPU ``torch.Generator`` for the stream ``keys`` of this run's seed.

        Args:
            *keys: Stream names, e.g. ``"init"``.

        Returns:
            A generator seeded with ``derive_seed(seed, name, "torch", *keys)``.
        """
        return _torch_generator(derive_seed(self.seed, self.name, "torch", *keys))


class Experiment(abc.ABC):
    """Base class of a paper reproduction; subclass it and decorate the subclass with `register`.

    The class docstring's first line is the description shown by ``rnnai list --json``; the rest
    should give the full citation, what is reproduced, every deviation from the paper and the
    verdict rule.

    Attributes:
        name: Dotted registry name, ``family.task``; a leading ``_`` hides it.
        system: The system being reproduced, e.g. ``"LSTM (1997)"``.
        claim: The paper's claim.
        headline_metric: What our headline number measures (defaults to ``claim.metric``).
        tour: Whether ``rnnai reproduce`` runs it by default (at quick scale the whole tour should
            take about 15 minutes on 2 cores).
        uses_workers: Whether ``run`` uses ``ctx.evaluator()`` or ``ctx.workers``; when False the
            runner ignores ``--workers``/``--ray-address`` with a warning.
    """

    name: ClassVar[str]
    system: ClassVar[str]
    claim: ClassVar[PaperClaim]
    headline_metric: ClassVar[str] = ""
    tour: ClassVar[bool] = False
    uses_workers: ClassVar[bool] = False

    @property
    def description(self) -> str:
        """The first line of the class docstring."""
        doc = (type(self).__doc__ or "").strip()
        return doc.splitlines()[0].strip() if doc else ""

    @property
    def hidden(self) -> bool:
        """Whether the experiment is hidden (its name starts with ``_``)."""
        return self.name.startswith("_")

    @property
    def headline(self) -> str:
        """What our headline number measures: `headline_metric`, else the claim's metric."""
        return self.headline_metric or self.claim.metric

    @abc.abstractmethod
    def config(self, scale: str) -> dict[str, Any]:
        """Return the JSON-able config for a scale.

        Args:
            scale: One of `SCALES`.

        Returns:
            The config; it is saved in config.json and result.json and hashed into the checkpoint
            fingerprint, so only put settings that change the result in it.
        """

    @abc.abstractmethod
    def run(self, ctx: RunContext) -> Outcome:
        """Run the experiment.

        Args:
            ctx: The run context (config, seed, checkpointer, progress, output folder).

        Returns:
            The measured outcome.
        """


_REGISTRY: dict[str, Experiment] = {}

E = TypeVar("E", bound=type[Experiment])


def register(cls: E) -> E:
    """Class decorator: instantiate ``cls`` and add it to the registry.

    Args:
        cls: An `Experiment` subclass with ``name``, ``system`` and ``claim`` set.

    Returns:
        ``cls`` unchanged.

    Raises:
        TypeError: If ``cls`` is not a concrete `Experiment` subclass or lacks an attribute.
        ValueError: If the name is malformed or already registered by another class.
    """
    if not (isinstance(cls, type) and issubclass(cls, Experiment)):
        raise TypeError(f"@register expects an Experiment subclass, got {cls!r}")
    for attr, kind in (("name", str), ("system", str), ("claim", PaperClaim)):
        if not isinstance(getattr(cls, attr, None), kind):
            raise TypeError(f"{cls.__qualname__}.{attr} must be a {kind.__name__}")
    name = cls.name
    if not _NAME_RE.match(name):
        raise ValueError(f"experiment name {name!r} must be dotted lowercase, e.g. 'lstm.adding'")
    previous = _REGISTRY.get(name)
    if previous is not None:
        same = (type(previous).__module__, type(previous).__qualname__) == (
            cls.__module__,
            cls.__qualname__,
        )
        if not same:  # re-registering the same class (a module reload) replaces it
            raise ValueError(
                f"experiment {name!r} is registered twice: by "
                f"{type(previous).__module__}.{type(previous).__qualname__} and "
                f"{cls.__module__}.{cls.__qualname__}"
            )
    _REGISTRY[name] = cls()
    return cls


def unregister(name: str) -> None:
    """Remove an experiment from the registry (for tests that register temporary ones).

    Args:
        name: The registered name; unknown names are ignored.
    """
    _REGISTRY.pop(name, None)


def _load() -> None:
    from rnnai.experiments import load_all  # the package imports this module

    load_all()


def get_experiment(name: str) -> Experiment:
    """Return the registered experiment called ``name`` (importing all experiment modules first).

    Args:
        name: The dotted name.

    Returns:
        The experiment instance.

    Raises:
        RnnaiError: If there is no such experiment; the message suggests close names.
    """
    _load()
    try:
        return _REGISTRY[name]
    except KeyError:
        pass
    candidates = [n for n in _REGISTRY if name.startswith("_") or not n.startswith("_")]
    close = difflib.get_close_matches(name, candidates, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise RnnaiError(f"unknown experiment {name!r}{hint} (`rnnai list` shows all)") from None


def all_experiments(include_hidden: bool = False) -> list[Experiment]:
    """Return the registered experiments sorted by name (importing all modules first).

    Args:
        include_hidden: Include hidden (``_``-prefixed) experiments.

    Returns:
        The experiment instances.
    """
    _load()
    return [_REGISTRY[n] for n in sorted(_REGISTRY) if include_hidden or not n.startswith("_")]
