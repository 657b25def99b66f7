"""`rnnai bench search`: the OOPS search in the numba kernel against its plain-Python twin.

Both run the same search in the same process: the paper's machine on 1^n2^n, stage 2 (after stage
1 is solved and frozen, which the benchmark does first with the kernel), from the same state, for
the same number of instructions (``WORK`` for the kernel, ``TWIN_WORK`` for the twin: the twin is
slow, its rate is measured on a shorter piece of the same search). Rows: instructions per CPU
second and prefixes per CPU second (``time.process_time``, so that other processes on the shared
machine count less); the prefixes row names the undo stack's peak height during the kernel's run
(entries; the memory the search needs beyond the fixed tapes is 16 bytes per entry).

The issue's anchor is the original C program (oopscode.c), measured on this machine kind by the
issue's author at about 1.8e7 prefixes and 4e7 instructions per CPU-second; it is not run here
(it is not part of this package). ``C_PREFIXES_PER_S`` / ``C_INSTRUCTIONS_PER_S`` give those
numbers for the table's notes and the report.
"""

from __future__ import annotations

import time

from rnnai.bench import BenchRow, register_bench
from rnnai.runtime.progress import Progress
from rnnai.search.oops import OOPS, OOPSConfig

WORK = 20_000_000
"""Instructions of the kernel's timed piece."""
TWIN_WORK = 200_000
"""Instructions of the twin's timed piece."""
C_PREFIXES_PER_S = 1.8e7
"""The original C program's prefixes per CPU-second on this machine kind (from the issue)."""
C_INSTRUCTIONS_PER_S = 4e7
"""The original C program's instructions per CPU-second on this machine kind (from the issue)."""


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


@register_bench("search")
def bench_search(quick: bool, progress: Progress) -> list[BenchRow]:
    """Instructions and prefixes per CPU-second, kernel vs twin, same search and process."""
    work = WORK // 4 if quick else WORK
    twin_work = TWIN_WORK // 4 if quick else TWIN_WORK
    with progress.task(2, "search: OOPS 1^n2^n stage 2") as t:
        ours = _stage2_machine("numba")
        _rate(ours, 10_000)  # warm up (compiled code loaded from the cache)
        o_ips, o_pps = _rate(ours, work)
        t.advance()
        twin = _stage2_machine("python")
        t_ips, t_pps = _rate(twin, twin_work)
        t.advance()
    return [
        BenchRow.compare(
            "OOPS search, numba vs Python twin: instructions", o_ips, t_ips, "instr/s"
        ),
        BenchRow.compare(
            f"OOPS search, numba vs Python twin: prefixes (undo peak {ours.peak_undo} entries)",
            o_pps,
            t_pps,
            "prefixes/s",
        ),
        BenchRow.compare(
            "OOPS search, numba vs the C program's 4e7 instr/CPU-s (issue)",
            o_ips,
            C_INSTRUCTIONS_PER_S,
            "instr/s",
        ),
        BenchRow.compare(
            "OOPS search, numba vs the C program's 1.8e7 prefixes/CPU-s (issue)",
            o_pps,
            C_PREFIXES_PER_S,
            "prefixes/s",
        ),
    ]
