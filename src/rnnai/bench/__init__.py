"""Speed benchmarks, each measured against its anchor in the same process.

A benchmark module in this package registers a function with `register_bench`::

    @register_bench("lstm")
    def bench_lstm(quick: bool, progress: Progress) -> list[BenchRow]:
        with progress.task(2, "lstm") as t:
            ours = median_time(lambda: step(ours_model), repeats=5, warmup=1) * 1e3
            t.advance()
            anchor = median_time(lambda: step(torch_lstm), repeats=5, warmup=1) * 1e3
            t.advance()
        return [BenchRow.compare("lstm fwd+bwd, B=32 T=100 H=128", ours, anchor, "ms")]

Units: a time (``s``, ``ms``, ``us``, ``ns``; lower is better) or a rate ending in ``/s`` (higher
is better); ``speedup`` is how many times faster ours is than the anchor (>1 = faster). Non-speed
rows (an agreement rate, say) use unit ``fraction`` and no anchor. Benchmarks should set torch's
thread count deliberately (the machine has 2 shared cores) and say so in the row name or docs.

Examples:
    >>> from rnnai.bench import BenchRow, bench_table_markdown, speedup
    >>> speedup(2.0, 6.0, "ms"), speedup(300.0, 100.0, "steps/s")
    (3.0, 3.0)
    >>> row = BenchRow.compare("lstm step", ours=2.0, anchor=6.0, unit="ms")
    >>> print(bench_table_markdown([row]).splitlines()[-1])
    | lstm step | 2 | 6 | ms | 3× |
"""

from __future__ import annotations

import difflib
import importlib
import math
import pkgutil
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from rnnai.runtime.errors import RnnaiError
from rnnai.runtime.progress import Progress
from rnnai.runtime.report import format_number

__all__ = [
    "BenchFn",
    "BenchRow",
    "all_benches",
    "bench_table_markdown",
    "get_bench",
    "load_all",
    "median_time",
    "round_robin_medians",
    "register_bench",
    "run_benches",
    "speedup",
]

TIME_UNITS: tuple[str, ...] = ("s", "ms", "us", "ns")
"""Units of time (lower is better)."""


def _is_rate(unit: str) -> bool:
    return unit.endswith("/s") and len(unit) > 2


def speedup(ours: float, anchor: float | None, unit: str) -> float | None:
    """How many times faster ours is than the anchor (>1 = faster).

    Args:
        ours: Our measurement.
        anchor: The anchor's measurement in the same unit (None when there is none).
        unit: A time unit (``anchor / ours``) or a rate ending in ``/s`` (``ours / anchor``).

    Returns:
        The speedup, or None without an anchor, for ``fraction`` and ``MiB`` rows or non-positive
        values.

    Raises:
        RnnaiError: For an unknown unit.
    """
    if unit not in TIME_UNITS and not _is_rate(unit) and unit not in ("fraction", "MiB"):
        raise RnnaiError(
            f"unit must be one of {', '.join(TIME_UNITS)}, '<x>/s', 'MiB' or 'fraction', "
            f"got {unit!r}"
        )
    if anchor is None or unit in ("fraction", "MiB"):
        return None
    if not (ours > 0 and anchor > 0 and math.isfinite(ours) and math.isfinite(anchor)):
        return None
    return anchor / ours if unit in TIME_UNITS else ours / anchor


@dataclass(frozen=True, kw_only=True)
class BenchRow:
    """One benchmark measurement.

    Attributes:
        name: What was measured, with its sizes.
        ours: Our measurement.
        anchor: The anchor's measurement in the same unit, or None.
        unit: ``s``/``ms``/``us``/``ns`` (lower is better), ``<x>/s`` (higher is better),
            ``MiB`` (memory, lower is better; no speedup) or ``fraction``.
        speedup: How many times faster ours is (>1 = faster), None without an anchor and for
            memory and fraction rows.
    """

    name: str
    ours: float
    anchor: float | None
    unit: str
    speedup: float | None

    @classmethod
    def compare(cls, name: str, ours: float, anchor: float | None, unit: str) -> BenchRow:
        """Build a row, computing ``speedup`` from ``ours``, ``anchor`` and ``unit``.

        Args:
            name: What was measured.
            ours: Our measurement.
            anchor: The anchor's measurement, or None.
            unit: The unit of both.

        Returns:
            The row.
        """
        return cls(
            name=name,
            ours=float(ours),
            anchor=None if anchor is None else float(anchor),
            unit=unit,
            speedup=speedup(ours, anchor, unit),
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the row as a JSON-able dict (non-finite numbers become None)."""
        row = asdict(self)
        for key in ("ours", "anchor", "speedup"):
            value = row[key]
            if isinstance(value, float) and not math.isfinite(value):
                row[key] = None
        return row


BenchFn = Callable[[bool, Progress], list[BenchRow]]
"""A benchmark: ``fn(quick, progress) -> rows``."""

_BENCHES: dict[str, BenchFn] = {}
_loaded = False


def register_bench(name: str) -> Callable[[BenchFn], BenchFn]:
    """Decorator registering a benchmark function under ``name``.

    Args:
        name: The benchmark's name, as given to ``rnnai bench NAME``.

    Returns:
        The decorator (it returns the function unchanged).

    Raises:
        ValueError: If another function already uses the name.
    """

    def decorate(fn: BenchFn) -> BenchFn:
        previous = _BENCHES.get(name)
        if previous is not None and (previous.__module__, previous.__qualname__) != (
            fn.__module__,
            fn.__qualname__,
        ):
            raise ValueError(f"benchmark {name!r} is registered twice")
        _BENCHES[name] = fn
        return fn

    return decorate


def load_all() -> None:
    """Import every module of ``rnnai.bench`` so that their benchmarks register."""
    global _loaded
    if _loaded:
        return
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        importlib.import_module(f"{__name__}.{module.name}")
    _loaded = True


def all_benches() -> dict[str, BenchFn]:
    """Return the registered benchmarks by name, sorted (importing all modules first)."""
    load_all()
    return {name: _BENCHES[name] for name in sorted(_BENCHES)}


def get_bench(name: str) -> BenchFn:
    """Return the benchmark called ``name``.

    Args:
        name: The benchmark's name.

    Returns:
        The benchmark function.

    Raises:
        RnnaiError: For an unknown name, listing the available ones.
    """
    benches = all_benches()
    if name in benches:
        return benches[name]
    close = difflib.get_close_matches(name, list(benches), n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(close)}? " if close else ""
    available = ", ".join(benches) or "none"
    raise RnnaiError(f"unknown benchmark {name!r}; {hint}available: {available}")


def run_benches(
    names: Sequence[str] | None = None, quick: bool = False, quiet: bool = False
) -> list[BenchRow]:
    """Run benchmarks one after another.

    Args:
        names: Benchmark names (None or empty: all of them).
        quick: Fewer sizes/repeats, for a fast look (and for tests).
        quiet: Print nothing.

    Returns:
        All rows, in benchmark order.

    Raises:
        RnnaiError: For an unknown name (before anything runs) or when no benchmark exists.
    """
    chosen = {n: get_bench(n) for n in names} if names else all_benches()
    if not chosen:
        raise RnnaiError("no benchmarks are registered")
    rows: list[BenchRow] = []
    with Progress(quiet=quiet) as display:
        for name, fn in chosen.items():
            result = fn(quick, display)
            for row in result:
                if not isinstance(row, BenchRow):
                    raise TypeError(
                        f"benchmark {name!r} returned {type(row).__name__}, not BenchRow"
                    )
            rows.extend(result)
    return rows


def median_time(fn: Callable[[], Any], repeats: int = 5, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` in seconds.

    Args:
        fn: The work to time (it should synchronize any asynchronous device work itself).
        repeats: Timed calls (at least 1).
        warmup: Untimed calls first (caches, lazy initialization).

    Returns:
        The median of ``repeats`` ``time.perf_counter`` measurements, in seconds.

    Raises:
        RnnaiError: If ``repeats`` < 1 or ``warmup`` < 0.
    """
    if repeats < 1 or warmup < 0:
        raise RnnaiError(f"need repeats >= 1 and warmup >= 0, got {repeats} and {warmup}")
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def round_robin_medians(
    steps: dict[str, Callable[[], Any]], repeats: int, warmup: int = 1
) -> dict[str, float]:
    """Median wall seconds of each step, the steps timed in turn (interleaved) in the same run.

    Interleaving puts ours and the anchor under the same machine load; that is why a benchmark
    compares them this way rather than timing one after the other.

    Args:
        steps: Name -> the work to time (in the order they are timed within a round).
        repeats: Rounds (at least 1).
        warmup: Untimed calls of each step first.

    Returns:
        Name -> median seconds.

    Raises:
        RnnaiError: If ``repeats`` < 1 or ``warmup`` < 0.
    """
    if repeats < 1 or warmup < 0:
        raise RnnaiError(f"need repeats >= 1 and warmup >= 0, got {repeats} and {warmup}")
    for _ in range(warmup):
        for step in steps.values():
            step()
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(ts) for name, ts in times.items()}


def bench_table_markdown(rows: Sequence[BenchRow]) -> str:
    """Render rows as a markdown table (benchmark, ours, anchor, unit, speedup).

    Args:
        rows: The rows, in the order to show.

    Returns:
        The table, ending with a newline.
    """
    lines = ["| benchmark | ours | anchor | unit | speedup |", "|---|---:|---:|---|---:|"]
    for row in rows:
        shown = "—" if row.speedup is None else f"{format_number(row.speedup)}×"
        cells = [row.name, format_number(row.ours), format_number(row.anchor), row.unit, shown]
        lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"
