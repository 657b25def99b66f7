"""Population evaluation on Ray workers, with the same numbers as in-process evaluation.

Neuroevolution spends nearly all its time evaluating populations (ESP, CoSyNE and compressed
network search evaluate thousands of controllers per generation, each for up to 100,000
pole-balancing steps), and the genomes of a population are independent of one another, so their
evaluation parallelizes over processes and machines. This module spreads one population over Ray
(P. Moritz, R. Nishihara, S. Wang et al. Ray: a distributed framework for emerging AI
applications. OSDI 2018): either a local cluster that it starts itself (``--workers N``) or an
existing cluster (``ray.init(address=...)``).

How a population is evaluated (`RayEvaluator.__call__`)::

    G (P, dim)  ->  G[s_0:s_1], G[s_1:s_2], ..., G[s_{k-1}:s_k]      (k contiguous chunks)
                ->  problem.evaluate(G[s_j:s_{j+1}])  on the workers   (one Ray task per chunk)
                ->  f = concat(f_0, ..., f_{k-1})   (P,)               (in the chunks' order)

The problem is put into Ray's object store once (and again only when another problem object
comes), so a generation sends only genomes. Chunk sizes differ by at most one genome
(`split_rows`); by default there are as many chunks as CPUs in the cluster (at most ``workers``).

Same results either way. `rnnai.evolution.core.Problem` promises a deterministic fitness without
hidden randomness; a searcher draws every random number from its own generator in the driver.
If moreover the fitness of a genome does not depend on which other genomes share its batch (true
of every problem in this package: each row is simulated on its own), then the concatenated
chunks are bit-for-bit the array that `LocalEvaluator` returns, and a run with the same seed
gives the same result in-process, on 1 worker or on 100. The tests check this.

Failures. A worker process that dies in the middle of a chunk (killed, out of memory, its node
lost) is a *system* failure: Ray re-runs that chunk's task, up to ``max_retries`` times, and the
generation completes with the same numbers. An exception raised by ``problem.evaluate`` itself is
not retried (it would fail again); it reaches the caller with its own type. Running out of
retries, or any other Ray system error during an evaluation (a lost node, a lost connection to
the cluster), raises `WorkerLostError`, an `RnnaiError` (the CLI prints it as one ``error:``
line); ``timeout_s`` bounds the wait for one population. One case stays outside Python's
reach: if the raylet on the driver's own machine dies, Ray's core worker ends the driver process
itself (exit status 1, after Ray's own "Raylet is terminated" message) and no exception is ever
raised; a lost *remote* node or worker is reported as above.

Connecting. An address must be ``"auto"``, ``"HOST:PORT"`` or ``"ray://HOST:PORT"``; anything
else is an `RnnaiError` before Ray is touched. Before ``ray.init`` is called on ``HOST:PORT``,
a probe opens a TCP connection (5 s) and sends the HTTP/2 connection preface that gRPC (and so
Ray's GCS and client servers) answers with its SETTINGS frame; a host that accepts the connection
but sends nothing within 10 s is refused with one line, instead of ``ray.init`` waiting for
minutes. Any error of ``ray.init`` itself is reported as an `RnnaiError` naming the address.

Deviations from a plain ``ray.init()``: a local cluster is started without the dashboard,
without forwarding worker logs to the driver (a problem's prints stay in Ray's log files), with
its session files in a private, short folder under ``/tmp`` (Ray's socket paths must stay under
107 characters) that `RayEvaluator.shutdown` removes, with at most `usable_cpus` CPUs (more
``workers`` are capped, with an `RnnaiWarning`), and with the driver's import folders
(``sys.path`` beyond the interpreter's own) on the workers' ``PYTHONPATH`` through Ray's job
``runtime_env`` (``env_vars``; the driver's own environment is not touched), so that a problem
class the driver can import, the workers can too (Ray itself adds only the script's folder and
the working directory). On an existing cluster the problem's module must be importable there
(installed there, or shipped with the ``runtime_env`` argument).
With ``quiet=True`` Ray logs only errors (its warnings, such as the one about token
authentication, are silenced).
Measured on this project's 2-core machine (Ray 2.60): starting a 2-CPU local cluster takes
3-8 s and about 490 MiB when the machine is quiet; see ``rnnai bench evolution`` for the cost of
a population's round trip and the break-even against one worker.

Usage::

    with make_evaluator(workers=2) as evaluate:          # a RayEvaluator (a LocalEvaluator for 1)
        best = searcher.step(problem, evaluate)

Examples:
    >>> from rnnai.evolution.distributed import make_evaluator, split_rows
    >>> split_rows(7, 3)
    [(0, 3), (3, 5), (5, 7)]
    >>> with make_evaluator(workers=1) as evaluate:  # in-process: Ray is not started
    ...     type(evaluate).__name__
    '_LocalContext'
    >>> RayEvaluator(address="garbage")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    rnnai.runtime.errors.RnnaiError: Ray address must be 'auto', 'HOST:PORT' or ..., got 'garbage'
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import socket
import sys
import tempfile
import warnings
from types import ModuleType
from typing import Any, Protocol, Self, runtime_checkable

import numpy as np

from rnnai.evolution.core import (
    Evaluator,
    LocalEvaluator,
    Problem,
    check_fitness,
    check_genomes,
)
from rnnai.runtime.errors import RnnaiError, RnnaiWarning

__all__ = [
    "INSTALL_HINT",
    "ClosableEvaluator",
    "RayEvaluator",
    "WorkerLostError",
    "check_address",
    "import_ray",
    "make_evaluator",
    "split_rows",
    "usable_cpus",
]

INSTALL_HINT = "pip install 'rnnai[distributed]'"
"""How to install the optional dependency (Ray)."""


@runtime_checkable
class ClosableEvaluator(Evaluator, Protocol):
    """An `Evaluator` that holds resources: release them with `shutdown` or a ``with`` block."""

    def shutdown(self) -> None:
        """Release the resources (a later evaluation acquires them again)."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc: object) -> None: ...


class WorkerLostError(RnnaiError, RuntimeError):
    """Ray workers kept dying on a chunk until its retries ran out, or the cluster was lost.

    An `RnnaiError` (so the CLI reports it as one ``error:`` line with exit code 2) and a
    ``RuntimeError``.
    """


def usable_cpus() -> int:
    """The number of CPUs this process may run on (its affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def import_ray() -> ModuleType:
    """Import Ray, the optional dependency of distributed evaluation.

    Returns:
        The ``ray`` module.

    Raises:
        RnnaiError: If Ray is not installed, saying how to install it.
    """
    try:
        import ray
    except ImportError as err:
        raise RnnaiError(
            f"distributed evaluation needs Ray, which is not installed: {INSTALL_HINT}"
        ) from err
    return ray


def _positive_int(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise RnnaiError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def split_rows(n: int, chunks: int) -> list[tuple[int, int]]:
    """Split ``range(n)`` into ``min(chunks, n)`` contiguous slices of near-equal size.

    The first ``n % k`` slices hold one row more than the others (k the number of slices).

    Args:
        n: Number of rows (>= 1).
        chunks: Wanted number of slices (>= 1).

    Returns:
        ``[(start, stop), ...]`` in order, covering ``0..n`` without gaps.

    Raises:
        RnnaiError: If ``n`` or ``chunks`` is not an int >= 1.
    """
    n = _positive_int(n, "n", 1)
    k = min(_positive_int(chunks, "chunks", 1), n)
    size, extra = divmod(n, k)
    bounds, start = [], 0
    for j in range(k):
        stop = start + size + (1 if j < extra else 0)
        bounds.append((start, stop))
        start = stop
    return bounds


def _evaluate_chunk(problem: Problem, genomes: np.ndarray) -> np.ndarray:
    """Runs in a Ray worker: the fitness of one chunk (checked there, so a bad one names it)."""
    if not genomes.flags.writeable:  # arrays from the object store are read-only views
        genomes = genomes.copy()
    return check_fitness(problem.evaluate(genomes), genomes.shape[0])


def _first_line(err: BaseException) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0]


def _short_temp_dir() -> str:
    # Ray's Unix sockets live under the session folder: keep the prefix short.
    base = "/tmp" if os.path.isdir("/tmp") and os.access("/tmp", os.W_OK) else None
    return tempfile.mkdtemp(prefix="rnnai-ray-", dir=base)


_ADDRESS_RE = re.compile(
    r"^(ray://)?(?P<host>\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):(?P<port>\d{1,5})$"
)

# The HTTP/2 client connection preface followed by an empty SETTINGS frame (RFC 9113, 3.4 and
# 6.5): a gRPC server answers it with its own SETTINGS frame.
_H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])


def check_address(address: str) -> tuple[str, int] | None:
    """Check the form of a Ray address before anything connects.

    Args:
        address: ``"auto"``, ``"HOST:PORT"`` or ``"ray://HOST:PORT"`` (an IPv6 host in brackets).

    Returns:
        ``(host, port)``, or None for ``"auto"`` (Ray finds the cluster itself).

    Raises:
        RnnaiError: For any other form, or a port outside 1..65535.
    """
    if address.strip() == "auto":
        return None
    match = _ADDRESS_RE.match(address.strip())
    if match is None or not 0 < int(match["port"]) < 65536:
        raise RnnaiError(
            f"Ray address must be 'auto', 'HOST:PORT' or 'ray://HOST:PORT', got {address!r}"
        )
    return match["host"].strip("[]"), int(match["port"])


PROBE_CONNECT_S = 5.0
"""Longest wait for the TCP connection to a cluster's address, in seconds."""

PROBE_ANSWER_S = 10.0
"""Longest wait for a cluster's first answer after the HTTP/2 preface, in seconds."""


def _check_reachable(
    address: str, connect_s: float | None = None, answer_s: float | None = None
) -> None:
    """Fail fast unless a gRPC server answers at ``address`` (Ray would wait for minutes).

    Args:
        address: A Ray address (``auto`` is not probed: Ray finds the cluster itself).
        connect_s: Longest wait for the TCP connection (default `PROBE_CONNECT_S`).
        answer_s: Longest wait for the server's first bytes after the HTTP/2 preface (default
            `PROBE_ANSWER_S`).

    Raises:
        RnnaiError: If the connection is refused or times out, or the server stays silent or
            closes the connection without answering.
    """
    parsed = check_address(address)
    if parsed is None:
        return
    host, port = parsed
    connect_s = PROBE_CONNECT_S if connect_s is None else connect_s
    answer_s = PROBE_ANSWER_S if answer_s is None else answer_s
    hint = "start one with `ray start --head` or leave out the address to start a local cluster"
    try:
        conn = socket.create_connection((host, port), connect_s)
    except OSError as err:
        raise RnnaiError(f"no Ray cluster answers at {address!r} ({err}); {hint}") from err
    with conn:
        try:
            conn.settimeout(answer_s)
            conn.sendall(_H2_PREFACE)
            answer = conn.recv(9)
        except TimeoutError as err:
            raise RnnaiError(
                f"no Ray cluster answers at {address!r}: the host accepted the connection but "
                f"sent nothing within {answer_s:g} s; {hint}"
            ) from err
        except OSError as err:
            raise RnnaiError(f"no Ray cluster answers at {address!r} ({err}); {hint}") from err
    if not answer:
        raise RnnaiError(
            f"no Ray cluster answers at {address!r}: the host closed the connection without "
            f"answering; {hint}"
        )


def _driver_path() -> str:
    """The driver's own import folders (not the interpreter's), for a local cluster's workers.

    Ray workers import the problem's class by name; with the driver's ``sys.path`` (the folders
    that a test runner or a script inserted) a class that the driver can import, they can too.
    """
    system = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    folders = []
    for entry in sys.path:
        path = os.path.realpath(entry or os.curdir)
        if os.path.isdir(path) and not any(path.startswith(s + os.sep) for s in system):
            folders.append(path)
    inherited = os.environ.get("PYTHONPATH", "")
    return os.pathsep.join(dict.fromkeys(folders + ([inherited] if inherited else [])))


class RayEvaluator:
    """Evaluates populations on Ray workers; the results equal `LocalEvaluator`'s.

    Ray is started lazily, at the first evaluation: if this process is already connected to a
    Ray cluster (someone called ``ray.init``), that cluster is used and left alone; otherwise the
    evaluator connects to ``address`` or, without one, starts a local cluster with ``workers``
    CPUs. `shutdown` (or leaving a ``with`` block) stops that local cluster, or disconnects from
    the cluster at ``address`` (which keeps running). Evaluators that find Ray running share it,
    so several of them (say, with different ``chunks``) cost one cluster.

    Args:
        workers: Worker processes that evaluate at once. Without ``address`` it is also the size
            (CPUs) of the local cluster started here (None: all CPUs of the machine). With an
            existing cluster it only caps the default number of chunks.
        address: Address of an existing Ray cluster (``"auto"``, ``"host:6379"`` or
            ``"ray://host:10001"``), or None for a local cluster.
        chunks: Tasks per population (None: ``min(workers, CPUs in the cluster)``). ``chunks=1``
            evaluates each population in one worker.
        max_retries: How many times a chunk is re-run after its worker process died.
        timeout_s: Longest wait for one population in seconds (None: no limit).
        quiet: Let Ray log only errors (by default it also logs warnings).
        runtime_env: Ray's runtime environment for this driver's job, e.g.
            ``{"env_vars": {"PYTHONPATH": "/shared/code"}}`` or ``{"py_modules": [...]}`` so that
            a cluster's workers can import the problem's module. Default: for a local cluster,
            the driver's import folders on ``PYTHONPATH``; for an address, none.

    Raises:
        RnnaiError: For a bad argument (an address not of the form ``auto``, ``HOST:PORT`` or
            ``ray://HOST:PORT``), or if Ray is not installed.
    """

    def __init__(
        self,
        workers: int | None = None,
        address: str | None = None,
        chunks: int | None = None,
        max_retries: int = 3,
        timeout_s: float | None = None,
        quiet: bool = False,
        runtime_env: dict[str, Any] | None = None,
    ) -> None:
        self.workers = None if workers is None else _positive_int(workers, "workers", 1)
        if address is not None and (not isinstance(address, str) or not address.strip()):
            raise RnnaiError(f"address must be a non-empty string or None, got {address!r}")
        if address is not None:
            check_address(address)
        self.address = address
        self.quiet = bool(quiet)
        if runtime_env is not None and not isinstance(runtime_env, dict):
            raise RnnaiError(f"runtime_env must be a dict or None, got {runtime_env!r}")
        self.runtime_env = runtime_env
        self.chunks = None if chunks is None else _positive_int(chunks, "chunks", 1)
        self.max_retries = _positive_int(max_retries, "max_retries", 0)
        if timeout_s is not None and (
            isinstance(timeout_s, bool)
            or not isinstance(timeout_s, int | float)
            or not timeout_s > 0
        ):
            raise RnnaiError(f"timeout_s must be a number > 0 or None, got {timeout_s!r}")
        self.timeout_s = None if timeout_s is None else float(timeout_s)
        self._ray = import_ray()
        self._owner = False  # whether this evaluator called ray.init (and so may shut it down)
        self._temp_dir: str | None = None
        self._remote: Any = None
        self._cpus = 1
        self._problem: Problem | None = None  # the problem whose object ref is cached
        self._problem_ref: Any = None
        self._job: str | None = None  # the Ray session the cached refs belong to

    # ------------------------------------------------------------------ connection
    def _connect(self) -> None:
        ray = self._ray
        if not ray.is_initialized():
            self._clear()
            if self.address is None:
                self._start_local()
            else:
                self._connect_address(self.address)
            self._owner = True
        context = ray.get_runtime_context()
        # Job ids restart at 1 in every new cluster; the driver's node id does not repeat.
        job = f"{context.gcs_address}/{context.get_node_id()}/{context.get_job_id()}"
        if job != self._job:  # a new cluster or connection: refs from an old one are void
            self._problem, self._problem_ref = None, None
            self._cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
            self._remote = ray.remote(num_cpus=1, max_retries=self.max_retries)(_evaluate_chunk)
            self._job = job
            if self.workers is not None and self.workers > self._cpus and self.chunks is None:
                warnings.warn(
                    f"workers={self.workers} is more than the {self._cpus} CPUs of the Ray "
                    f"cluster; each population is split into at most {self._cpus} tasks",
                    RnnaiWarning,
                    stacklevel=4,
                )

    def _log_level(self) -> int:
        return logging.ERROR if self.quiet else logging.WARNING

    def _connect_address(self, address: str) -> None:
        _check_reachable(address)
        try:
            self._ray.init(
                address=address,
                log_to_driver=False,
                logging_level=self._log_level(),
                runtime_env=self.runtime_env,
            )
        except Exception as err:  # Ray raises many types here; all mean "cannot connect"
            first = (str(err).strip().splitlines() or [type(err).__name__])[0]
            raise RnnaiError(f"cannot connect to the Ray cluster at {address!r}: {first}") from err

    def _start_local(self) -> None:
        ray = self._ray
        cpus = usable_cpus()
        num_cpus = self.workers
        if num_cpus is not None and num_cpus > cpus:
            warnings.warn(
                f"workers={num_cpus} is more than the {cpus} CPUs here; starting {cpus}",
                RnnaiWarning,
                stacklevel=5,
            )
            num_cpus = cpus
        self._temp_dir = _short_temp_dir()
        try:
            ray.init(
                num_cpus=num_cpus,
                include_dashboard=False,
                log_to_driver=False,
                logging_level=self._log_level(),
                _temp_dir=self._temp_dir,
                # The job's workers get the driver's import folders (see the module docstring).
                runtime_env=self.runtime_env or {"env_vars": {"PYTHONPATH": _driver_path()}},
            )
        except BaseException:
            shutil.rmtree(self._temp_dir, ignore_errors=True)
            self._temp_dir = None
            raise

    def _put(self, problem: Problem) -> Any:
        if problem is not self._problem:
            try:
                self._problem_ref = self._ray.put(problem)
            except Exception as err:  # pickling errors come in many types
                raise RnnaiError(
                    f"problem {type(problem).__name__} cannot be sent to Ray workers "
                    f"(it must be picklable): {err}"
                ) from err
            self._problem = problem
        return self._problem_ref

    def chunk_count(self, n: int) -> int:
        """Number of tasks a population of ``n`` genomes is split into (after connecting)."""
        if self.chunks is not None:
            k = self.chunks
        else:
            k = self._cpus if self.workers is None else min(self.workers, self._cpus)
        return max(1, min(k, n))

    # ------------------------------------------------------------------ evaluation
    def __call__(self, problem: Problem, genomes: np.ndarray) -> np.ndarray:
        """Evaluate a population on the Ray workers.

        Args:
            problem: The problem (picklable; evaluated in other processes). It is sent to the
                workers the first time it is seen; do not change it between calls.
            genomes: (P, problem.dim) genomes.

        Returns:
            (P,) float64 fitness in the genomes' order, equal to
            ``LocalEvaluator()(problem, genomes)``.

        Raises:
            EvaluationError: If the genomes or the returned fitness are malformed.
            RnnaiError: If the problem cannot be pickled.
            WorkerLostError: If a chunk's worker died more than ``max_retries`` times, or the
                cluster failed otherwise (a lost node or connection).
            TimeoutError: If the population took longer than ``timeout_s`` (its unfinished
                chunks are cancelled, killing their worker processes).
            Exception: Whatever ``problem.evaluate`` raised, with its own type.
        """
        g = check_genomes(genomes, problem.dim)
        self._connect()
        ray = self._ray
        refs: list[Any] = []
        try:
            problem_ref = self._put(problem)
            bounds = split_rows(g.shape[0], self.chunk_count(g.shape[0]))
            refs = [self._remote.remote(problem_ref, g[a:b]) for a, b in bounds]
            parts = ray.get(refs, timeout=self.timeout_s)
        except ray.exceptions.GetTimeoutError as err:
            for ref in refs:
                ray.cancel(ref, force=True)
            raise TimeoutError(
                f"evaluating {g.shape[0]} genomes in {len(refs)} chunks took longer than "
                f"timeout_s={self.timeout_s}"
            ) from err
        except ray.exceptions.RayTaskError:
            raise  # problem.evaluate raised: the error keeps its own type
        except (
            ray.exceptions.WorkerCrashedError,
            ray.exceptions.NodeDiedError,
            ray.exceptions.LocalRayletDiedError,
            ray.exceptions.OutOfMemoryError,
        ) as err:
            raise WorkerLostError(
                f"Ray workers died {self.max_retries + 1} times on one chunk of a population of "
                f"{g.shape[0]} genomes (max_retries={self.max_retries}): {_first_line(err)}"
            ) from err
        except (ray.exceptions.RayError, ConnectionError) as err:  # a lost node or cluster
            raise WorkerLostError(
                f"the Ray cluster failed while evaluating {g.shape[0]} genomes "
                f"({type(err).__name__}): {_first_line(err)}"
            ) from err
        fitness = np.concatenate(parts) if len(parts) > 1 else parts[0]
        return check_fitness(fitness, g.shape[0])

    # ------------------------------------------------------------------ lifecycle
    def _clear(self) -> None:
        self._problem, self._problem_ref, self._remote, self._job = None, None, None, None

    def shutdown(self) -> None:
        """Stop the local cluster this evaluator started, or disconnect from ``address``.

        A no-op when the evaluator found Ray already running. A later evaluation starts or
        connects again.
        """
        if self._owner and self._ray.is_initialized():
            self._ray.shutdown()
        self._owner = False
        self._clear()
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)
            self._temp_dir = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    def __repr__(self) -> str:
        return (
            f"RayEvaluator(workers={self.workers}, address={self.address!r}, "
            f"chunks={self.chunks}, max_retries={self.max_retries}, timeout_s={self.timeout_s})"
        )


class _LocalContext(LocalEvaluator):
    """`LocalEvaluator` with the no-op lifecycle of `RayEvaluator` (``with``, `shutdown`)."""

    def shutdown(self) -> None:
        """Nothing to release."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()


def make_evaluator(
    workers: int | None = None, address: str | None = None, *, quiet: bool = False, **options: Any
) -> ClosableEvaluator:
    """The evaluator that ``--workers N`` / ``--address A`` ask for.

    Args:
        workers: Worker processes (None, 0 or 1 without ``address``: evaluate in-process).
        address: An existing Ray cluster to use (then Ray is used whatever ``workers`` says).
        quiet: Let Ray log only errors.
        **options: Further `RayEvaluator` arguments (``chunks``, ``max_retries``,
            ``timeout_s``, ``runtime_env``).

    Returns:
        An in-process `LocalEvaluator` (with a no-op ``shutdown``) or a `RayEvaluator`; use it
        in a ``with`` block so that a local Ray cluster stops at the end.

    Raises:
        RnnaiError: For a negative or non-integer ``workers``, or if Ray is needed but not
            installed (saying ``pip install 'rnnai[distributed]'``).
    """
    if workers is not None:
        workers = _positive_int(workers, "workers", 0)
    if address is None and (workers is None or workers <= 1):
        if options:
            raise RnnaiError(
                f"{', '.join(sorted(options))} only apply to Ray evaluation (workers >= 2 or "
                "an address)"
            )
        return _LocalContext()
    return RayEvaluator(workers=workers or None, address=address, quiet=quiet, **options)
