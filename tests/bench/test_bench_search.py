"""`rnnai bench search`: well-formed rate rows on a tiny piece of the search; the same-run anchor
against an external C program (here a stand-in script printing the original's summary format)."""

from __future__ import annotations

import stat
import time
from pathlib import Path

import pytest

import rnnai.bench.search as bs
from rnnai.runtime.errors import RnnaiError
from rnnai.runtime.progress import Progress


def _rows(monkeypatch: pytest.MonkeyPatch) -> list[bs.BenchRow]:
    monkeypatch.setattr(bs, "WORK", 400_000)
    monkeypatch.setattr(bs, "TWIN_WORK", 8_000)
    monkeypatch.setattr(bs, "PAR_STAGES_QUICK", 1)
    monkeypatch.setattr(bs, "PAR_REPEATS", 1)
    with Progress(quiet=True) as progress:
        return bs.bench_search(quick=True, progress=progress)


def test_bench_search_rows_are_rates_with_speedups(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(bs.C_PROGRAM_ENV, raising=False)
    rows = _rows(monkeypatch)
    assert len(rows) == 5
    for row in rows:
        assert row.unit.endswith("/s") and row.ours > 0 and row.anchor > 0
        assert abs(row.speedup - row.ours / row.anchor) < 1e-9
    assert rows[0].speedup > 1  # the kernel beats the Python twin
    assert "undo peak" in rows[1].name
    assert all("not measured" in r.name for r in rows[2:4])  # quoted figures are labelled
    assert "2 threads vs one" in rows[4].name and "424,770 instructions" in rows[4].name


def test_threads_row_refuses_a_different_search(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(bs.C_PROGRAM_ENV, raising=False)
    real = bs.stages_wall

    def skewed(stages: int, workers: int) -> tuple[float, list]:
        seconds, rows = real(stages, workers)
        return seconds, rows if workers == 1 else [(*rows[0][:-1], rows[0][-1] + 1)]

    monkeypatch.setattr(bs, "stages_wall", skewed)
    with pytest.raises(RnnaiError, match="not the same search"):
        _rows(monkeypatch)


def test_stages_wall_gives_the_same_stages_on_two_threads() -> None:
    _, one = bs.stages_wall(1, 1)
    _, two = bs.stages_wall(1, 2)
    assert one == two == [("defnp 2toD", 362_367, 424_770, 478_354, 36)]


def _fake_c_program(tmp_path: Path, prefs: int, insts: int) -> Path:
    """A stand-in printing, like oopscode.c, an 'ALL SOLVED!' summary with its counts, then
    spinning (the benchmark must stop it)."""
    script = tmp_path / "oops"
    script.write_text(
        "#!/bin/sh\n"
        "i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done\n"  # some CPU time before the summary
        "printf 'T:1\\tinsts:0\\tprefs:0\\ttotalt:0\\t\\n'\n"
        "printf ' ALL SOLVED! \\n------------ SHOW START ----------------\\n'\n"
        f"printf 'T:4194304\\tprefs:{prefs}\\tinsts:{insts}\\ttotalt:478354\\ttopt:29\\t\\n'\n"
        "while :; do :; done\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_c_anchor_same_work_rows(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(bs, "C_STAGES", 1)  # stage 1: 362,367 prefixes, 424,770 instructions
    fake = _fake_c_program(tmp_path, 362_367, 424_770)
    monkeypatch.setenv(bs.C_PROGRAM_ENV, str(fake))
    rows = _rows(monkeypatch)
    assert len(rows) == 5
    assert "original C program" in rows[2].name and "424,770 instructions" in rows[2].name
    assert rows[2].ours > 0 and rows[2].anchor > 0 and rows[3].unit == "prefixes/s"


def test_c_anchor_refuses_a_different_search(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(bs, "C_STAGES", 1)
    monkeypatch.setenv(bs.C_PROGRAM_ENV, str(_fake_c_program(tmp_path, 362_368, 424_770)))
    with pytest.raises(RnnaiError, match="differs from ours"):
        _rows(monkeypatch)


def test_c_anchor_errors_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(RnnaiError, match="not an executable"):
        bs.c_program_stages_cpu(str(tmp_path / "missing"), 1)
    quits = tmp_path / "quits"
    quits.write_text("#!/bin/sh\necho hello\n")
    quits.chmod(quits.stat().st_mode | stat.S_IXUSR)
    with pytest.raises(RnnaiError, match="exited"):
        bs.c_program_stages_cpu(str(quits), 1)
    silent = tmp_path / "silent"
    silent.write_text("#!/bin/sh\nsleep 30\n")
    silent.chmod(silent.stat().st_mode | stat.S_IXUSR)
    t0 = time.monotonic()
    with pytest.raises(RnnaiError, match="did not solve 1 stages in 0.5 s"):
        bs.c_program_stages_cpu(str(silent), 1, timeout_s=0.5)
    assert time.monotonic() - t0 < 10  # a silent program cannot hang the benchmark


def test_kernel_stages_cpu_counts_match_the_paper() -> None:
    cpu, insts, prefs = bs.kernel_stages_cpu(1)
    assert (prefs, insts) == (362_367, 424_770) and cpu >= 0


def test_c_anchor_needs_stdbuf(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = _fake_c_program(tmp_path, 362_367, 424_770)
    real_which = bs.shutil.which
    monkeypatch.setattr(bs.shutil, "which", lambda n: None if n == "stdbuf" else real_which(n))
    with pytest.raises(RnnaiError, match="stdbuf"):
        bs.c_program_stages_cpu(str(fake), 1)
