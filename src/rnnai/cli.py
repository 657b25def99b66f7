"""The ``rnnai`` command: ``list``, ``run``, ``reproduce``, ``bench`` and ``report``.

Every user error (an `RnnaiError`, a bad option, an unreadable result) is printed as one line,
``error: <message>``, on stderr and exits with code 2; any other exception is a bug and keeps its
traceback. An accepted but adjusted or ignored request (an `RnnaiWarning`: ``--workers`` above
the CPUs, ``--workers`` for an experiment that does not use it) is printed as one line,
``warning: <message>``, also under ``--quiet``. Progress goes to stderr, results to stdout.
Empty paths (``--out ''``) are refused: they would silently mean the current folder.

Examples:
    >>> from click.testing import CliRunner
    >>> from rnnai.cli import main
    >>> result = CliRunner().invoke(main, ["run", "lstm.adding", "--scale", "huge"])
    >>> result.exit_code
    2
    >>> print(result.stderr.strip())  # doctest: +ELLIPSIS
    error: Invalid value for '--scale': 'huge' is not one of 'smoke', 'quick', 'paper'.
    >>> CliRunner().invoke(main, ["report", ""]).stderr.startswith("error: ")
    True
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

import rnnai
from rnnai.runtime.errors import RnnaiError, RnnaiWarning

__all__ = ["main"]

_SCALES = ("smoke", "quick", "paper")  # = rnnai.experiments.SCALES, kept here so --help is fast


_NO_ARGS: type[click.ClickException] | None = getattr(click.exceptions, "NoArgsIsHelpError", None)


def _one_line(message: str) -> str:
    return " ".join(message.split())


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    """``warnings.showwarning`` for the CLI: an `RnnaiWarning` as one ``warning:`` line."""
    if issubclass(category, RnnaiWarning):
        click.echo(f"warning: {_one_line(str(message))}", err=True)
    else:
        _original_showwarning(message, category, filename, lineno, file, line)


_original_showwarning = warnings.showwarning


class _Path(click.Path):
    """``click.Path`` that refuses an empty string (which would mean the current folder)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and not value.strip():
            self.fail("must not be empty", param, ctx)
        return super().convert(value, param, ctx)


class _Group(click.Group):
    """A click group that turns user errors into one ``error:`` line and exit code 2."""

    def main(
        self,
        args: Any = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("always", RnnaiWarning)
                warnings.showwarning = _show_warning
                rv = super().main(
                    args=args,
                    prog_name=prog_name,
                    complete_var=complete_var,
                    standalone_mode=False,
                    **extra,
                )
            code = rv if isinstance(rv, int) else 0
        except click.ClickException as e:
            if _NO_ARGS is not None and isinstance(e, _NO_ARGS):  # bare `rnnai`: show the help
                click.echo(e.format_message())
                code = 0
            else:
                click.echo(f"error: {_one_line(e.format_message())}", err=True)
                code = e.exit_code
        except RnnaiError as e:
            click.echo(f"error: {_one_line(str(e))}", err=True)
            code = 2
        except click.Abort:
            click.echo("error: aborted", err=True)
            code = 130
        if standalone_mode:
            sys.exit(code)
        return code


def _check_readme(readme: Path, key: str) -> None:
    """Refuse, before any work, a README that cannot be read or lacks the section's markers."""
    start, end = f"<!-- rnnai:{key} -->", f"<!-- /rnnai:{key} -->"
    try:
        text = readme.read_text(encoding="utf-8")
    except OSError as e:
        raise RnnaiError(f"cannot read {readme}: {e.strerror or e}") from e
    except UnicodeDecodeError as e:
        raise RnnaiError(f"{readme} is not UTF-8 text (byte {e.start})") from e
    i, j = text.find(start), text.find(end)
    if i < 0 or j < i:
        raise RnnaiError(f"{readme} has no section markers {start} ... {end}")


def _stdout() -> Console:
    # Wide enough that names are never cut when stdout is not a terminal (pipes, CI, tests).
    console = Console()
    if not console.is_terminal:
        console = Console(width=200, soft_wrap=True)
    return console


_scale_option = click.option(
    "--scale",
    type=click.Choice(_SCALES),
    default="quick",
    show_default=True,
    help="smoke: seconds (CI); quick: minutes on 2 cores; paper: the paper's own budget.",
)
_seed_option = click.option(
    "--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Run seed."
)
_quiet_option = click.option("--quiet", is_flag=True, help="No progress output.")


def _workers_options(fn: Any) -> Any:
    fn = click.option(
        "--ray-address",
        default=None,
        metavar="ADDR",
        help="Evaluate populations on this existing Ray cluster: auto, HOST:PORT or "
        "ray://HOST:PORT (ray.init(address=ADDR)).",
    )(fn)
    return click.option(
        "--workers",
        type=click.IntRange(min=0),
        default=None,
        help="Evaluate populations on N local Ray workers (needs rnnai[distributed]); OOPS "
        "searches: N threads. At most the CPUs there are. The results are the same as "
        "in-process. Experiments that cannot use it say so and ignore it.",
    )(fn)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(rnnai.__version__, "--version", prog_name="rnnai")
def main() -> None:
    """rnnai: the "RNNs are general computers" line of AI research, runnable and tested.

    Reproduce papers with `rnnai run NAME` or `rnnai reproduce`, see them with `rnnai list`,
    time the library with `rnnai bench`.
    """


@main.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list instead of a table.")
def list_cmd(as_json: bool) -> None:
    """List the paper reproductions: name, system, paper, claim and the paper's value."""
    from rnnai.experiments import all_experiments
    from rnnai.runtime.report import format_number

    experiments = all_experiments()
    if as_json:
        rows = [
            {
                "name": e.name,
                "system": e.system,
                "description": e.description,
                "citation": e.claim.citation,
                "metric": e.claim.metric,
                "value": e.claim.value,
                "lower_is_better": e.claim.lower_is_better,
                "tour": e.tour,
            }
            for e in experiments
        ]
        click.echo(json.dumps(rows, indent=2))
        return
    table = Table(title=f"{len(experiments)} experiments (* = in the default tour)")
    table.add_column("name", no_wrap=True)
    table.add_column("system")
    table.add_column("paper")
    table.add_column("claim")
    table.add_column("paper value", justify="right")
    for e in experiments:
        table.add_row(
            e.name + (" *" if e.tour else ""),
            e.system,
            e.claim.citation,
            e.claim.metric,
            format_number(e.claim.value),
        )
    _stdout().print(table)


@main.command("run")
@click.argument("name")
@_scale_option
@_seed_option
@click.option(
    "--out",
    type=_Path(path_type=Path),
    default=Path("results"),
    show_default=True,
    help="Results folder; the run writes OUT/NAME/result.json and its plots.",
)
@click.option("--resume", is_flag=True, help="Continue from OUT/NAME/checkpoint.safetensors.")
@_workers_options
@_quiet_option
def run_cmd(
    name: str,
    scale: str,
    seed: int,
    out: Path,
    resume: bool,
    workers: int | None,
    ray_address: str | None,
    quiet: bool,
) -> None:
    """Run one reproduction NAME and write OUT/NAME/result.json."""
    from rnnai.experiments.runner import run_experiment
    from rnnai.runtime.progress import format_duration
    from rnnai.runtime.report import format_number

    result = run_experiment(
        name,
        scale=scale,
        seed=seed,
        out=out,
        resume=resume,
        quiet=quiet,
        workers=workers,
        ray_address=ray_address,
    )
    click.echo(
        f"{result['experiment']}: {result['verdict'].replace('_', ' ')}; "
        f"{result['headline']['metric']} = {format_number(result['headline']['value'])} "
        f"(paper: {format_number(result['paper']['value'])}); "
        f"{format_duration(result['wall_s'])}"
    )
    click.echo(f"result: {Path(out) / result['experiment'] / 'result.json'}")


@main.command("reproduce")
@_scale_option
@click.option(
    "--only",
    metavar="GLOB",
    default=None,
    help="Run the experiments whose names match GLOB (comma-separate several: 'lstm.*,ctc.*').",
)
@click.option("--all", "all_", is_flag=True, help="Run every experiment.")
@click.option(
    "--out",
    type=_Path(path_type=Path),
    default=Path("results"),
    show_default=True,
    help="Results folder; REPORT.md is written there.",
)
@_seed_option
@click.option(
    "--resume",
    is_flag=True,
    help="Skip experiments already done with this scale/seed/config; resume the others.",
)
@_workers_options
@_quiet_option
def reproduce_cmd(
    scale: str,
    only: str | None,
    all_: bool,
    out: Path,
    seed: int,
    resume: bool,
    workers: int | None,
    ray_address: str | None,
    quiet: bool,
) -> None:
    """Run many reproductions and write OUT/REPORT.md.

    By default runs the tour: a selection of quick runs that takes about 15 minutes on 2 cores.
    """
    from rnnai.experiments.runner import reproduce

    report = reproduce(
        scale=scale,
        only=only,
        all_=all_,
        out=out,
        seed=seed,
        quiet=quiet,
        resume=resume,
        workers=workers,
        ray_address=ray_address,
    )
    click.echo(f"report: {report}")


@main.command("bench")
@click.argument("name", required=False)
@click.option(
    "--json",
    "json_file",
    type=_Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the rows as a JSON list to this file.",
)
@click.option("--quick", is_flag=True, help="Fewer sizes and repeats, for a fast look.")
@click.option(
    "--readme",
    type=_Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the table into this README's <!-- rnnai:bench --> section.",
)
@_quiet_option
def bench_cmd(
    name: str | None, json_file: Path | None, quick: bool, readme: Path | None, quiet: bool
) -> None:
    """Time the library against its anchors (all benchmarks, or only NAME)."""
    from rnnai.bench import run_benches
    from rnnai.runtime.checkpoint import atomic_write_json
    from rnnai.runtime.report import format_number

    if json_file is not None and not json_file.parent.is_dir():
        raise RnnaiError(f"cannot write {json_file}: folder {json_file.parent} does not exist")
    if readme is not None:
        _check_readme(readme, "bench")
    rows = run_benches([name] if name else None, quick=quick, quiet=quiet)
    import torch

    omp = os.environ.get("OMP_NUM_THREADS", "unset")
    threads = f"torch threads {torch.get_num_threads()}, OMP_NUM_THREADS={omp}"
    table = Table(title="speed (speedup > 1: ours is faster)", caption=threads)
    table.add_column("benchmark")
    for column in ("ours", "anchor"):
        table.add_column(column, justify="right")
    table.add_column("unit")
    table.add_column("speedup", justify="right")
    for row in rows:
        table.add_row(
            row.name,
            format_number(row.ours),
            format_number(row.anchor),
            row.unit,
            "—" if row.speedup is None else f"{format_number(row.speedup)}×",
        )
    _stdout().print(table)
    if json_file is not None:
        try:
            atomic_write_json(json_file, [row.to_dict() for row in rows])
        except OSError as e:
            raise RnnaiError(f"cannot write {json_file}: {e.strerror or e}") from e
        click.echo(f"rows: {json_file}")
    if readme is not None:
        from rnnai.bench import bench_table_markdown
        from rnnai.runtime.report import update_readme_section

        cmd = "rnnai bench" + (f" {name}" if name else "") + (" --quick" if quick else "")
        from rnnai.bench.search import C_PROGRAM_ENV

        if os.environ.get(C_PROGRAM_ENV) and name in (None, "search"):
            cmd = f"{C_PROGRAM_ENV}=<oopscode.c build> " + cmd  # the same-run C anchor
        body = (
            f"Generated by `{cmd} --readme README.md` ({threads}; speedup > 1: ours is "
            f"faster).\n\n" + bench_table_markdown(rows)
        )
        update_readme_section(readme, "bench", body)
        click.echo(f"updated: {readme}")


@main.command("report")
@click.argument("directory", type=_Path(path_type=Path))
@click.option(
    "--readme",
    type=_Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the results table into this README's <!-- rnnai:results --> section.",
)
def report_cmd(directory: Path, readme: Path | None) -> None:
    """Write DIRECTORY/REPORT.md from the results already in DIRECTORY."""
    from rnnai.runtime.report import (
        UnreadableResultsError,
        results_table_markdown,
        update_readme_section,
        write_report,
    )
    from rnnai.runtime.results import read_result

    if readme is not None:
        _check_readme(readme, "results")
    unreadable: UnreadableResultsError | None = None
    try:
        report = write_report(directory)
    except UnreadableResultsError as e:  # the report holds the readable ones: finish, then fail
        report, unreadable = e.report, e
    click.echo(f"report: {report}")
    if readme is not None:
        results = []
        for path in sorted(Path(directory).glob("*/result.json")):
            try:
                results.append(read_result(path))
            except RnnaiError:
                pass  # named in the error below
        body = (
            f"Generated by `rnnai report {directory} --readme README.md` from the runs in "
            f"`{directory}` (full report with plots: `{directory}/REPORT.md`).\n\n"
            + results_table_markdown(results)
        )
        update_readme_section(readme, "results", body)
        click.echo(f"updated: {readme}")
    if unreadable is not None:
        raise unreadable
