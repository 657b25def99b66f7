"""`rnnai bench search`: the OOPS search in the numba kernel against its Python twin and against
the original C program.

Rows:

* **numba vs Python twin** (same process, same search): the paper's machine on 1^n2^n, stage 2
  (after stage 1 is solved and frozen, which the benchmark does first with the kernel), from the
  same state, for ``WORK`` instructions (kernel) and ``TWIN_WORK`` (the twin is slow; its rate is
  measured on a shorter piece of the same search). Instructions and prefixes per CPU second
  (``time.process_time``, so other processes on the shared machine count less); the prefixes row
  names the undo stack's peak height (16 bytes per entry beyond the fixed tapes).
* **numba vs the original C program** (same run, same work), only when the environment variable
  ``RNNAI_OOPS_C_PROGRAM`` names an executable built from Schmidhuber's ``oopscode.c`` (GPL; not
  part of this package: compile it yourself, e.g. ``gcc -O2 -o oops oopscode.c -lm``). Both solve
  stages 1..3 of 1^n2^n from scratch: the identical search (80,568,452 instructions, 35,574,057
  prefixes; the benchmark checks that the C program's printed counts equal ours and refuses to
  compare otherwise). The C program's CPU time is read from ``/proc/<pid>/stat`` at the moment it
  prints its stage-3 summary (it runs line-buffered through ``stdbuf -oL``), then it is stopped.
  Kernel and C program run alternately ``C_REPEATS`` times (the shared machine's speed drifts
  over seconds); the rows give the median rates.
  Without the variable these rows compare against reference figures quoted for the C program
  (``C_INSTRUCTIONS_PER_S``, ``C_PREFIXES_PER_S``; docs/DESIGN-NOTES.md), which were not measured
  here (the C program does 1.5-1.8e7 instructions per CPU-second on this project's machines); the
  row names say so.
* **THREADS threads vs one** (same run, same search): stages 1..``PAR_STAGES`` of 1^n2^n from
  scratch with search phases side by side (`rnnai.search._parallel`) and on one thread,
  alternately ``PAR_REPEATS`` times; wall-clock medians (threads share the process's CPU time).
  The benchmark refuses to compare unless both found the same programs with the same counts.

Examples:
    Stage 1 of 1^n2^n on one thread (about a second): the new code and the counts are the same
    on any number of threads.

    >>> seconds, rows = stages_wall(1, workers=1)
    >>> rows
    [('defnp 2toD', 362367, 424770, 478354, 36)]
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import statistics
import subprocess
import threading
import time
from pathlib import Path

from rnnai.bench import BenchRow, register_bench
from rnnai.runtime.errors import RnnaiError
from rnnai.runtime.progress import Progress
from rnnai.search.oops import OOPS, OOPSConfig

WORK = 20_000_000
"""Instructions of the kernel's timed piece (numba vs twin)."""
TWIN_WORK = 200_000
"""Instructions of the twin's timed piece."""
C_STAGES = 3
"""Stages of 1^n2^n both programs solve in the same-work comparison."""
C_REPEATS = 5
"""Interleaved repetitions (kernel, C program) of the same-work comparison; medians are reported."""
C_REPEATS_QUICK = 3
"""The same for ``--quick``."""
C_PREFIXES_PER_S = 1.8e7
"""Prefixes per CPU-second of the C program, a quoted reference figure (not measured here)."""
C_INSTRUCTIONS_PER_S = 4e7
"""Instructions per CPU-second of the C program, a quoted reference figure (not measured here)."""
THREADS = 2
"""Threads of the parallel row (this project's machines have 2 cores)."""
PAR_STAGES = 4
"""Stages of 1^n2^n in the threads row (1.6e9 instructions; ``--quick``: `PAR_STAGES_QUICK`)."""
PAR_STAGES_QUICK = 3
"""The same for ``--quick`` (8.1e7 instructions: small phases, less to overlap)."""
PAR_REPEATS = 3
"""Interleaved repetitions (threads, one) of the threads row (also with ``--quick``)."""
C_PROGRAM_ENV = "RNNAI_OOPS_C_PROGRAM"
"""Environment variable naming a compiled ``oopscode.c`` for the same-run anchor."""

_SHOW_COUNTS = re.compile(r"^T:(\d+)\tprefs:(\d+)\tinsts:(\d+)\ttotalt:(\d+)")


def _stage2_machine(engine: str) -> OOPS:
    o = OOPS(OOPSConfig(undo_capacity=200_000, engine="numba"))
    o.solve_stage(1)
    o.config = OOPSConfig(undo_capacity=200_000, engine=engine)
    o.start_stage(2)
    return o


def _rate(o: OOPS, work: int) -> tuple[float, float]:
    i0, p0 = o.instructions, o.prefixes
    c0 = time.process_time()
    while o.instructions - i0 < work:
        if o.advance(work - (o.instructions - i0)) != 0:
            break
    dt = max(time.process_time() - c0, 1e-9)
    return (o.instructions - i0) / dt, (o.prefixes - p0) / dt


def kernel_stages_cpu(stages: int) -> tuple[float, int, int]:
    """Solve 1^n2^n stages 1..``stages`` from scratch with the kernel.

    Returns:
        (CPU seconds, instructions, prefixes), the counts cumulative as the C program prints them.
    """
    o = OOPS(OOPSConfig(undo_capacity=200_000, chunk=10**15))
    c0 = time.process_time()
    for n in range(1, stages + 1):
        o.solve_stage(n)
    return time.process_time() - c0, o.instructions, o.prefixes


def stages_wall(stages: int, workers: int) -> tuple[float, list[tuple[str, int, int, int, int]]]:
    """Solve 1^n2^n stages 1..``stages`` from scratch on ``workers`` threads.

    Returns:
        (wall seconds, per stage: new code, prefixes, instructions, time steps, undo peak).
    """
    o = OOPS(OOPSConfig(undo_capacity=200_000, chunk=20_000_000, workers=workers))
    t0 = time.perf_counter()
    try:
        rows = []
        for n in range(1, stages + 1):
            r = o.solve_stage(n)
            assert r is not None
            rows.append((r.new_code, r.prefixes, r.instructions, r.time_steps, r.peak_undo))
    finally:
        o.close()
    return time.perf_counter() - t0, rows


def _proc_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def c_program_stages_cpu(
    program: str, stages: int, timeout_s: float = 600.0
) -> tuple[float, int, int]:
    """Run the original C program until it has solved 1^n2^n stage ``stages``; stop it.

    Args:
        program: Path of an executable built from ``oopscode.c``.
        stages: How many "ALL SOLVED" summaries to wait for.
        timeout_s: Give up (and raise) after this many wall seconds.

    Returns:
        (its CPU seconds at its ``stages``-th summary, instructions, prefixes as it printed them).

    Raises:
        RnnaiError: If the program is missing, exits early, prints no counts, or is too slow,
            or if /proc or stdbuf is missing.
    """
    path = shutil.which(program) or program
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise RnnaiError(f"{C_PROGRAM_ENV}={program!r} is not an executable file")
    if not Path("/proc/self/stat").exists():
        raise RnnaiError("measuring the C program needs Linux /proc (its CPU time is read there)")
    stdbuf = shutil.which("stdbuf")
    if stdbuf is None:  # block-buffered, its summary would arrive late: CPU time read too high
        raise RnnaiError("measuring the C program needs coreutils' stdbuf (to line-buffer it)")
    cmd = [stdbuf, "-oL", path]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:  # a thread, so that a silent program cannot block us past the deadline
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + timeout_s
    solved = 0
    try:
        while True:
            try:
                line = lines.get(timeout=max(deadline - time.monotonic(), 0.0))
            except queue.Empty:
                raise RnnaiError(
                    f"the C program did not solve {stages} stages in {timeout_s:g} s"
                ) from None
            if line is None:
                raise RnnaiError(
                    f"the C program exited (code {proc.wait()}) after {solved} of {stages} "
                    "stages; is it oopscode.c?"
                )
            if "ALL SOLVED" in line:
                solved += 1
            elif solved == stages and (m := _SHOW_COUNTS.match(line)):
                cpu = _proc_cpu_seconds(proc.pid)
                return cpu, int(m.group(3)), int(m.group(2))
    finally:
        proc.kill()
        proc.wait()


@register_bench("search")
def bench_search(quick: bool, progress: Progress) -> list[BenchRow]:
    """Instructions and prefixes per CPU-second: kernel vs twin, and kernel vs the C program."""
    work = WORK // 4 if quick else WORK
    twin_work = TWIN_WORK // 4 if quick else TWIN_WORK
    c_program = os.environ.get(C_PROGRAM_ENV)
    with progress.task(4 if c_program else 3, "search: OOPS 1^n2^n") as t:
        ours = _stage2_machine("numba")
        _rate(ours, 10_000)  # warm up (compiled code loaded from the cache)
        o_ips, o_pps = _rate(ours, work)
        t.advance()
        twin = _stage2_machine("python")
        t_ips, t_pps = _rate(twin, twin_work)
        t.advance()
        rows = [
            BenchRow.compare(
                "OOPS search, numba vs Python twin: instructions", o_ips, t_ips, "instr/s"
            ),
            BenchRow.compare(
                f"OOPS search, numba vs Python twin: prefixes (undo peak {ours.peak_undo} entries)",
                o_pps,
                t_pps,
                "prefixes/s",
            ),
        ]
        if c_program:
            k_rates, c_rates = [], []
            for _ in range(C_REPEATS_QUICK if quick else C_REPEATS):  # interleaved: the shared
                k_cpu, k_ins, k_pre = kernel_stages_cpu(C_STAGES)  # machine's speed drifts
                c_cpu, c_ins, c_pre = c_program_stages_cpu(c_program, C_STAGES)
                if (c_ins, c_pre) != (k_ins, k_pre):
                    raise RnnaiError(
                        f"the C program's search differs from ours: it printed {c_ins:,} "
                        f"instructions and {c_pre:,} prefixes after stage {C_STAGES}, we counted "
                        f"{k_ins:,} and {k_pre:,}; not the same work, so no speed comparison"
                    )
                if c_cpu <= 0:
                    raise RnnaiError(
                        f"the C program used no measurable CPU time in {C_STAGES} stages"
                    )
                k_rates.append(1.0 / max(k_cpu, 1e-9))
                c_rates.append(1.0 / c_cpu)
            k_rate, c_rate = statistics.median(k_rates), statistics.median(c_rates)
            t.advance()
            what = f"1^n2^n stages 1-{C_STAGES}, {k_ins:,} instructions, same run"
            rows += [
                BenchRow.compare(
                    f"OOPS search, numba vs the original C program: instructions ({what})",
                    k_ins * k_rate,
                    c_ins * c_rate,
                    "instr/s",
                ),
                BenchRow.compare(
                    f"OOPS search, numba vs the original C program: prefixes ({what})",
                    k_pre * k_rate,
                    c_pre * c_rate,
                    "prefixes/s",
                ),
            ]
        else:
            rows += [
                BenchRow.compare(
                    "OOPS search, numba vs a quoted 4e7 instr/CPU-s for the C program "
                    f"(not measured; set {C_PROGRAM_ENV})",
                    o_ips,
                    C_INSTRUCTIONS_PER_S,
                    "instr/s",
                ),
                BenchRow.compare(
                    "OOPS search, numba vs a quoted 1.8e7 prefixes/CPU-s for the C program "
                    f"(not measured; set {C_PROGRAM_ENV})",
                    o_pps,
                    C_PREFIXES_PER_S,
                    "prefixes/s",
                ),
            ]
        stages_wall(1, THREADS)  # warm up the threads' kernels
        par, one = [], []
        stages = PAR_STAGES_QUICK if quick else PAR_STAGES
        for _ in range(PAR_REPEATS):
            p_s, p_rows = stages_wall(stages, THREADS)
            o_s, o_rows = stages_wall(stages, 1)
            if p_rows != o_rows:
                raise RnnaiError(
                    f"{THREADS} threads found {p_rows}, one thread {o_rows}: not the same "
                    "search, so no speed comparison"
                )
            par.append(o_rows[-1][2] / p_s)
            one.append(o_rows[-1][2] / o_s)
        t.advance()
        rows.append(
            BenchRow.compare(
                f"OOPS search, {THREADS} threads vs one (wall time; 1^n2^n stages 1-{stages}, "
                f"{o_rows[-1][2]:,} instructions, same programs and counts)",
                statistics.median(par),
                statistics.median(one),
                "instr/s",
            )
        )
    return rows
