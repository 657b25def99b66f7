"""The ``rnnai`` command line: listing, running, errors as one line with exit code 2."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from click.testing import CliRunner, Result

from rnnai import __version__
from rnnai.bench import BenchRow, register_bench
from rnnai.cli import main
from rnnai.experiments import Experiment, Outcome, PaperClaim, RunContext, register, unregister
from rnnai.experiments.runner import config_hash
from rnnai.runtime.checkpoint import Checkpointer

TOY = "_toy.counter"


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def assert_one_line_error(result: Result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0]
    assert "Traceback" not in result.output


@pytest.fixture
def listed() -> Iterator[str]:
    """A visible experiment registered for the duration of a test."""

    @register
    class Listed(Experiment):
        """Visible in `rnnai list`."""

        name = "zztest.listed"
        system = "Test system (2024)"
        claim = PaperClaim(citation="Tester 2024, Table 1", metric="error rate", value=12_345)

        def config(self, scale: str) -> dict[str, Any]:
            return {}

        def run(self, ctx: RunContext) -> Outcome:
            return Outcome(headline=1, metrics={}, verdict="reproduced")

    yield Listed.name
    unregister(Listed.name)


def test_version_prints_the_package_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0 and __version__ in result.output


def test_bare_command_shows_help() -> None:
    result = invoke()
    assert result.exit_code == 0 and "reproduce" in result.stdout


@pytest.mark.parametrize("command", ["list", "run", "reproduce", "bench", "report"])
def test_every_command_has_help_text(command: str) -> None:
    result = invoke(command, "--help")
    assert result.exit_code == 0
    assert len(result.output.splitlines()) > 3


def test_list_shows_experiments_but_not_hidden_ones(listed: str) -> None:
    result = invoke("list")
    assert result.exit_code == 0
    assert listed in result.output and "Tester 2024, Table 1" in result.output
    assert "12,345" in result.output
    assert TOY not in result.output


def test_list_json_gives_name_and_claim(listed: str) -> None:
    rows = json.loads(invoke("list", "--json").stdout)
    row = next(r for r in rows if r["name"] == listed)
    assert row["citation"] == "Tester 2024, Table 1" and row["value"] == 12_345
    assert TOY not in [r["name"] for r in rows]


def test_run_writes_result_and_prints_its_path(tmp_path: Path) -> None:
    result = invoke("run", TOY, "--scale", "smoke", "--out", str(tmp_path), "--quiet")
    assert result.exit_code == 0, result.output
    assert f"result: {tmp_path / TOY / 'result.json'}" in result.stdout
    assert json.loads((tmp_path / TOY / "result.json").read_text())["scale"] == "smoke"
    assert result.stderr == ""  # --quiet


def test_run_unknown_experiment_is_a_one_line_error() -> None:
    assert_one_line_error(invoke("run", "no.such_experiment"), "unknown experiment")


def test_run_bad_scale_is_a_one_line_error(tmp_path: Path) -> None:
    result = invoke("run", TOY, "--scale", "huge", "--out", str(tmp_path))
    assert_one_line_error(result, "--scale", "smoke", "quick", "paper")


def test_run_negative_seed_is_a_one_line_error(tmp_path: Path) -> None:
    assert_one_line_error(invoke("run", TOY, "--seed", "-1", "--out", str(tmp_path)), "--seed")


def test_run_unwritable_output_folder_is_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "a_file").write_text("not a folder")
    result = invoke("run", TOY, "--scale", "smoke", "--out", str(tmp_path / "a_file" / "out"))
    assert_one_line_error(result, "cannot write to output folder")


def test_resume_with_corrupt_checkpoint_is_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / TOY).mkdir()
    (tmp_path / TOY / "checkpoint.safetensors").write_bytes(b"\x10\x00\x00garbage")
    result = invoke("run", TOY, "--scale", "smoke", "--out", str(tmp_path), "--resume")
    assert_one_line_error(result, "corrupt")


def test_resume_with_foreign_checkpoint_is_a_one_line_error(tmp_path: Path) -> None:
    from rnnai.experiments import get_experiment

    fingerprint = {
        "experiment": TOY,
        "scale": "smoke",
        "seed": 7,
        "config_hash": config_hash(get_experiment(TOY).config("smoke")),
    }
    Checkpointer(tmp_path / TOY / "checkpoint.safetensors", fingerprint).save(
        {"w": torch.zeros(1)}, {"step": 1}
    )
    result = invoke("run", TOY, "--scale", "smoke", "--out", str(tmp_path), "--resume")
    assert_one_line_error(result, "seed 7", "differs in seed")


def test_reproduce_writes_report_and_prints_its_path(tmp_path: Path) -> None:
    result = invoke("reproduce", "--scale", "smoke", "--only", TOY, "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert f"report: {tmp_path / 'REPORT.md'}" in result.stdout
    assert "| `_toy.counter` | smoke | 0 |" in (tmp_path / "REPORT.md").read_text()


def test_reproduce_only_matching_nothing_is_a_one_line_error(tmp_path: Path) -> None:
    result = invoke("reproduce", "--only", "zz.nothing*", "--out", str(tmp_path))
    assert_one_line_error(result, "matches no experiment")


def test_report_rebuilds_report_from_existing_results(tmp_path: Path) -> None:
    invoke("run", TOY, "--scale", "smoke", "--out", str(tmp_path), "--quiet")
    result = invoke("report", str(tmp_path))
    assert result.exit_code == 0
    assert result.stdout.strip() == f"report: {tmp_path / 'REPORT.md'}"
    assert "`_toy.counter`" in (tmp_path / "REPORT.md").read_text()


def test_report_of_empty_folder_is_a_one_line_error(tmp_path: Path) -> None:
    assert_one_line_error(invoke("report", str(tmp_path)), "no results")


@pytest.fixture
def fake_bench(monkeypatch: pytest.MonkeyPatch) -> str:
    import rnnai.bench as bench

    monkeypatch.setattr(bench, "_BENCHES", dict(bench.all_benches()))

    @register_bench("_fake")
    def fake(quick: bool, progress: Any) -> list[BenchRow]:
        with progress.task(1, "fake") as task:
            task.advance()
        return [
            BenchRow.compare("fake step", 2.0, 6.0, "ms"),
            BenchRow.compare("agreement", 0.99, None, "fraction"),
        ]

    return "_fake"


def test_bench_prints_table_and_writes_json_rows(tmp_path: Path, fake_bench: str) -> None:
    result = invoke("bench", fake_bench, "--quick", "--json", str(tmp_path / "b.json"))
    assert result.exit_code == 0, result.output
    assert "fake step" in result.stdout and "3×" in result.stdout
    rows = json.loads((tmp_path / "b.json").read_text())
    assert rows[0] == {
        "name": "fake step",
        "ours": 2.0,
        "anchor": 6.0,
        "unit": "ms",
        "speedup": 3.0,
    }
    assert rows[1]["anchor"] is None and rows[1]["speedup"] is None


def test_bench_unknown_name_is_a_one_line_error(fake_bench: str) -> None:
    assert_one_line_error(invoke("bench", "no_such_bench"), "unknown benchmark", fake_bench)


def test_report_and_bench_write_their_readme_sections(tmp_path: Path, monkeypatch) -> None:
    from click.testing import CliRunner

    from rnnai.cli import main

    readme = tmp_path / "README.md"
    readme.write_text(
        "# x\n<!-- rnnai:results -->\nold\n<!-- /rnnai:results -->\nkeep\n"
        "<!-- rnnai:bench -->\nold\n<!-- /rnnai:bench -->\n"
    )
    out = tmp_path / "out"
    runner = CliRunner()
    r = runner.invoke(
        main, ["run", "_toy.counter", "--scale", "smoke", "--out", str(out), "--quiet"]
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(main, ["report", str(out), "--readme", str(readme)])
    assert r.exit_code == 0, r.output
    text = readme.read_text()
    assert "`_toy.counter`" in text and "old" in text.split("keep")[1] and "keep" in text

    import rnnai.bench as bench

    monkeypatch.setitem(
        bench._BENCHES,
        "fake",
        lambda quick, progress: [bench.BenchRow.compare("fake row", 1.0, 2.0, "ms")],
    )
    r = runner.invoke(main, ["bench", "fake", "--readme", str(readme), "--quiet"])
    assert r.exit_code == 0, r.output
    text = readme.read_text()
    assert "| fake row | 1 | 2 | ms | 2× |" in text and "old" not in text
    assert "Generated by `rnnai bench fake --readme README.md`" in text

    # the same-run C anchor of `bench search` is named in the generated line when it was set
    import rnnai.bench.search  # noqa: F401 (registers the real one first)

    fake = bench._BENCHES["fake"]
    monkeypatch.setitem(bench._BENCHES, "search", fake)
    monkeypatch.setenv("RNNAI_OOPS_C_PROGRAM", "/some/oops")
    r = runner.invoke(main, ["bench", "search", "--quick", "--readme", str(readme), "--quiet"])
    assert r.exit_code == 0, r.output
    generated = "Generated by `RNNAI_OOPS_C_PROGRAM=<oopscode.c build> rnnai bench search --quick"
    assert generated in readme.read_text()


def test_readme_without_markers_is_a_clear_error(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from rnnai.cli import main

    readme = tmp_path / "README.md"
    readme.write_text("# no markers\n")
    out = str(tmp_path / "out")
    runner = CliRunner()
    r = runner.invoke(main, ["run", "_toy.counter", "--scale", "smoke", "--out", out, "--quiet"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(main, ["report", out, "--readme", str(readme)])
    assert r.exit_code == 2 and "no section markers" in r.output


# ------------------------------------------------------------------ bad input, command by command
BAD_INPUTS: list[tuple[str, ...]] = [
    ("list", "--bogus"),
    ("list", "extra"),
    ("run",),
    ("run", "no.such_experiment"),
    ("run", TOY, "--scale", "huge"),
    ("run", TOY, "--seed", "-1"),
    ("run", TOY, "--seed", "many"),
    ("run", TOY, "--out", ""),
    ("run", TOY, "--out", "  "),
    ("run", TOY, "--out", "{file}/sub"),
    ("run", TOY, "--workers", "-2"),
    ("run", TOY, "--workers", "lots"),
    ("run", TOY, "--ray-address", "garbage", "--out", "{tmp}"),
    ("run", TOY, "--ray-address", "", "--out", "{tmp}"),
    ("run", TOY, "--ray-address", "host:99999", "--out", "{tmp}"),
    ("run", TOY, "--resume", "--out", "{corrupt}"),
    ("run", TOY, "--bogus"),
    ("reproduce", "--only", "zz.nothing*", "--out", "{tmp}"),
    ("reproduce", "--only", TOY, "--all", "--out", "{tmp}"),
    ("reproduce", "--scale", "huge"),
    ("reproduce", "--out", ""),
    ("reproduce", "--seed", "-1"),
    ("reproduce", "--workers", "-1"),
    ("reproduce", "--ray-address", "garbage", "--only", TOY, "--out", "{tmp}"),
    ("reproduce", "extra"),
    ("bench", "no_such_bench"),
    ("bench", "--json", ""),
    ("bench", "--json", "{tmp}/missing/rows.json"),
    ("bench", "--readme", ""),
    ("bench", "--readme", "{tmp}/missing.md"),
    ("bench", "--readme", "{file}"),
    ("bench", "--bogus"),
    ("report",),
    ("report", ""),
    ("report", "{tmp}/missing"),
    ("report", "{file}"),
    ("report", "{tmp}"),
    ("report", "{tmp}", "--readme", ""),
    ("report", "{tmp}", "--readme", "{file}"),
    ("report", "{tmp}", "--bogus"),
]


@pytest.mark.parametrize("args", BAD_INPUTS, ids=" ".join)
def test_every_command_answers_bad_input_with_one_error_line(
    args: tuple[str, ...], tmp_path: Path
) -> None:
    (tmp_path / "a_file").write_text("# no markers\n")
    corrupt = tmp_path / "corrupt"
    (corrupt / TOY).mkdir(parents=True)
    (corrupt / TOY / "checkpoint.safetensors").write_bytes(b"\x10\x00\x00garbage")
    empty = tmp_path / "empty"
    empty.mkdir()
    places = {"{tmp}": str(empty), "{file}": str(tmp_path / "a_file"), "{corrupt}": str(corrupt)}
    filled = []
    for arg in args:
        for key, value in places.items():
            arg = arg.replace(key, value)
        filled.append(arg)
    result = invoke(*filled)
    assert_one_line_error(result)
    assert not list(Path.cwd().glob(f"{TOY}*")), "an empty --out wrote into the current folder"


def _valid_result_text(tmp_path: Path) -> str:
    out = tmp_path / "good"
    assert invoke("run", TOY, "--scale", "smoke", "--out", str(out), "--quiet").exit_code == 0
    return (out / TOY / "result.json").read_text()


def _wrong_types(text: str) -> bytes:
    result = json.loads(text)
    result.update(seed="zero", plots="loss.png", headline={"metric": 1, "value": "low"})
    return json.dumps(result).encode()


def _bad_judgement(text: str) -> bytes:
    result = json.loads(text)
    result["judgement"] = {"evidence": [{"n": "many", "interval": "wide"}]}
    return json.dumps(result).encode()


BROKEN_RESULTS = {
    "not utf-8": lambda text: b"\xff\xfe\x00" + text.encode()[3:],
    "random bytes": lambda text: __import__("random").Random(0).randbytes(300),
    "truncated json": lambda text: text.encode()[: len(text) // 2],
    "wrong types": _wrong_types,
    "malformed judgement": _bad_judgement,
    "a json list": lambda text: b"[1, 2]",
    "deeply nested": lambda text: b"[" * 100_000,
}


@pytest.mark.parametrize("kind", sorted(BROKEN_RESULTS))
def test_report_names_each_unreadable_result_and_fails_but_reports_the_rest(
    kind: str, tmp_path: Path
) -> None:
    text = _valid_result_text(tmp_path)
    out = tmp_path / "good"
    for name in ("broken.one", "broken.two"):
        (out / name).mkdir()
        (out / name / "result.json").write_bytes(BROKEN_RESULTS[kind](text))
    result = invoke("report", str(out))
    assert_one_line_error(result, "2 unreadable results")
    for name in ("broken.one", "broken.two"):
        assert str(out / name / "result.json") in result.stderr
    report = (out / "REPORT.md").read_text()
    assert f"`{TOY}`" in report and "unreadable result" in report


def test_report_into_a_folder_it_cannot_write_is_one_error_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _valid_result_text(tmp_path)
    import rnnai.runtime.report as report

    def refuse(path: Any, text: str) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(report, "atomic_write_text", refuse)
    assert_one_line_error(invoke("report", str(tmp_path / "good")), "cannot write", "REPORT.md")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores permissions")
def test_report_into_a_read_only_folder_is_one_error_line(tmp_path: Path) -> None:
    _valid_result_text(tmp_path)
    out = tmp_path / "good"
    out.chmod(0o555)
    try:
        assert_one_line_error(invoke("report", str(out)), "cannot write")
    finally:
        out.chmod(0o755)


def test_a_second_run_into_the_same_folder_is_refused_with_one_line(tmp_path: Path) -> None:
    import fcntl

    from rnnai.experiments.runner import LOCK_NAME

    (tmp_path / TOY).mkdir()
    with open(tmp_path / TOY / LOCK_NAME, "w") as holder:
        fcntl.flock(holder, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = invoke("run", TOY, "--scale", "smoke", "--out", str(tmp_path), "--quiet")
    assert_one_line_error(result, "another rnnai run", str(tmp_path / TOY))


def test_workers_for_an_experiment_that_ignores_them_is_one_warning_line_even_quiet(
    tmp_path: Path,
) -> None:
    result = invoke(
        "run", TOY, "--scale", "smoke", "--out", str(tmp_path), "--workers", "4", "--quiet"
    )
    assert result.exit_code == 0, result.output
    assert result.stderr == f"warning: {TOY} does not use --workers; ignored\n"


@pytest.fixture
def parallel() -> Iterator[list[Any]]:
    """A hidden experiment that uses workers and records the ones it got (Ray is not started)."""
    seen: list[Any] = []

    @register
    class Parallel(Experiment):
        """Records ctx.workers."""

        name = "_test.cli_parallel"
        system = "test"
        claim = PaperClaim(citation="nobody", metric="nothing", value=None)
        uses_workers = True

        def config(self, scale: str) -> dict[str, Any]:
            return {}

        def run(self, ctx: RunContext) -> Outcome:
            seen.append(ctx.workers)
            return Outcome(headline=None, metrics={}, verdict="partial")

    yield seen
    unregister(Parallel.name)


def test_workers_above_the_cpus_are_capped_and_said_so(tmp_path: Path, parallel: list) -> None:
    from rnnai.evolution.distributed import usable_cpus

    cpus = usable_cpus()
    result = invoke("run", "_test.cli_parallel", "--out", str(tmp_path), "--workers", "10000")
    assert result.exit_code == 0, result.output
    assert f"warning: --workers 10000 is more than the {cpus} CPU" in result.stderr
    assert parallel == [cpus]


def test_a_lost_ray_cluster_is_one_error_line(tmp_path: Path) -> None:
    from rnnai.evolution.distributed import WorkerLostError

    @register
    class Lost(Experiment):
        """Its cluster dies."""

        name = "_test.cli_lost"
        system = "test"
        claim = PaperClaim(citation="nobody", metric="nothing", value=None)

        def config(self, scale: str) -> dict[str, Any]:
            return {}

        def run(self, ctx: RunContext) -> Outcome:
            raise WorkerLostError("the Ray cluster failed while evaluating 9 genomes (NodeDied)")

    try:
        result = invoke("run", Lost.name, "--out", str(tmp_path), "--quiet")
    finally:
        unregister(Lost.name)
    assert_one_line_error(result, "the Ray cluster failed")


@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="Ray is not installed")
def test_ray_address_that_accepts_but_never_answers_fails_fast_with_one_line(
    tmp_path: Path, silent_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rnnai.evolution.distributed as distributed

    monkeypatch.setattr(distributed, "PROBE_ANSWER_S", 1.0)  # the default 10 s: test_distributed
    start = time.perf_counter()
    result = invoke(
        "run", "_toy.parallel", "--out", str(tmp_path), "--ray-address", silent_server, "--quiet"
    )
    assert_one_line_error(result, "sent nothing within 1 s", silent_server)
    assert time.perf_counter() - start < 15


@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="Ray is not installed")
@pytest.mark.slow  # a Ray cluster in a second process: 30-80 s on the shared 2-core machine
def test_quiet_run_on_local_ray_workers_prints_nothing_and_matches_in_process(
    tmp_path: Path,
) -> None:
    from toy_experiment import CLI_WITH_TOY

    tests = str(Path(__file__).parent)
    path = os.pathsep.join([tests, *filter(None, [os.environ.get("PYTHONPATH")])])
    env = {**os.environ, "PYTHONPATH": path, "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-c", CLI_WITH_TOY, "run", "_toy.parallel", "--quiet"]
    done = subprocess.run(
        [*command, "--workers", "2", "--out", str(tmp_path / "ray")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no Ray warnings (token authentication, ...) under --quiet
    assert (
        invoke("run", "_toy.parallel", "--out", str(tmp_path / "local"), "--quiet").exit_code == 0
    )
    ray_result, local = (
        json.loads((tmp_path / where / "_toy.parallel" / "result.json").read_text())
        for where in ("ray", "local")
    )
    assert ray_result["metrics"] == local["metrics"]
