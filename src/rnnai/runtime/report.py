"""``REPORT.md``: one table of all results in a folder, then each experiment's notes and plots.

`write_report` reads every ``OUT/*/result.json``; `results_table_markdown` renders the table alone
(the README's results table is the same table). Rows are ordered by experiment name, numbers are
formatted for reading: integers with thousands separators, other numbers to 4 significant digits.

A ``result.json`` that cannot be read (not UTF-8, not strict JSON, a missing key, a value of the
wrong type) does not stop the report: it is listed under "Failed runs", and `write_report` then
raises `UnreadableResultsError` naming every such file, so that ``rnnai report`` exits nonzero.

Examples:
    >>> from rnnai.runtime.report import format_number
    >>> format_number(74000), format_number(0.123456), format_number(51234.5), format_number(None)
    ('74,000', '0.1235', '51,230', '—')
"""

from __future__ import annotations

import math
import shlex
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from rnnai.runtime.checkpoint import atomic_write_text
from rnnai.runtime.errors import RnnaiError
from rnnai.runtime.progress import format_duration
from rnnai.runtime.results import read_result

__all__ = [
    "REPORT_NAME",
    "UnreadableResultsError",
    "format_number",
    "results_table_markdown",
    "update_readme_section",
    "write_report",
]

REPORT_NAME = "REPORT.md"
"""The report's file name inside the results folder."""

_COLUMNS = (
    "experiment",
    "scale",
    "seed",
    "paper",
    "metric",
    "paper value",
    "ours",
    "verdict",
    "time",
)
_ALIGN = ("---", "---", "---:", "---", "---", "---:", "---:", "---", "---:")


def format_number(value: Any) -> str:
    """Format a number for a table.

    Args:
        value: An int, float, None or anything else.

    Returns:
        Integers (and integral floats) with thousands separators (``74,000``), other floats to 4
        significant digits (``0.1235``, ``51,230``, ``1.235e-05``), None as an em dash, anything
        else as ``str(value)``.
    """
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value.is_integer() and abs(value) < 1e15:
            return f"{int(value):,}"
        short = f"{value:.4g}"
        rounded = float(short)
        if 1e4 <= abs(rounded) < 1e15:
            return f"{int(rounded):,}"
        return short
    return str(value)


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _sort_key(result: Mapping[str, Any]) -> tuple[str, str, int]:
    return (str(result["experiment"]), str(result["scale"]), int(result["seed"]))


def results_table_markdown(results: Iterable[Mapping[str, Any]]) -> str:
    """Render results as one markdown table, ordered by experiment name.

    Args:
        results: Result dicts (as read by `rnnai.runtime.results.read_result`).

    Returns:
        The table (header, separator, one row per result), ending with a newline.
    """
    lines = [
        "| " + " | ".join(_COLUMNS) + " |",
        "|" + "|".join(_ALIGN) + "|",
    ]
    for r in sorted(results, key=_sort_key):
        row = [
            f"`{r['experiment']}`",
            r["scale"],
            r["seed"],
            r["paper"]["citation"],
            r["paper"]["metric"],
            format_number(r["paper"]["value"]),
            format_number(r["headline"]["value"]),
            str(r["verdict"]).replace("_", " "),
            format_duration(float(r["wall_s"])) if r.get("wall_s") is not None else "—",
        ]
        lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
    return "\n".join(lines) + "\n"


def _default_command(out_dir: Path, results: list[dict[str, Any]]) -> str:
    parts = ["rnnai", "reproduce"]
    scales = {r["scale"] for r in results}
    seeds = {r["seed"] for r in results}
    if len(scales) == 1:
        parts += ["--scale", scales.pop()]
    if len(seeds) == 1:
        parts += ["--seed", str(seeds.pop())]
    parts += ["--out", str(out_dir)]
    names = sorted(r["experiment"] for r in results)
    if names:
        parts += ["--only", ",".join(names)]
    return shlex.join(parts)


class UnreadableResultsError(RnnaiError):
    """Some ``result.json`` files could not be read; the report was written without them.

    Attributes:
        report: The path of the report.
        unreadable: One line per unreadable file, each naming the file and why.
    """

    def __init__(self, report: Path, unreadable: list[str]) -> None:
        super().__init__(
            f"{len(unreadable)} unreadable result{'s' if len(unreadable) != 1 else ''} "
            f"(left out of {report}): " + "; ".join(unreadable)
        )
        self.report = report
        self.unreadable = unreadable


def _collect(out_dir: Path) -> tuple[list[tuple[Path, dict[str, Any]]], list[str]]:
    found: list[tuple[Path, dict[str, Any]]] = []
    broken: list[str] = []
    for path in sorted(out_dir.glob("*/result.json")):
        try:
            result = read_result(path)
            if "judgement" in result:
                _judgement_markdown(result["judgement"])
        except RnnaiError as e:
            broken.append(str(e))
        except (TypeError, ValueError, KeyError, IndexError, AttributeError) as e:
            broken.append(f"{path} is not a result: malformed 'judgement' ({e})")
        else:
            found.append((path.parent, result))
    found.sort(key=lambda item: _sort_key(item[1]))
    return found, broken


def write_report(
    out_dir: Path | str,
    *,
    command: str | None = None,
    failures: Mapping[str, str] | None = None,
) -> Path:
    """Write ``out_dir/REPORT.md`` from the results found in ``out_dir/*/result.json``.

    Args:
        out_dir: The results folder.
        command: The command that regenerates the results (default: a ``rnnai reproduce`` line
            inferred from the results).
        failures: Experiments that failed, name -> one-line reason, listed in their own section.

    Returns:
        The path of the report.

    Raises:
        RnnaiError: If ``out_dir`` is not a folder, it holds no results and no failures were
            given, or the report cannot be written.
        UnreadableResultsError: After writing the report, if some ``result.json`` could not be
            read (they are listed in the report and in the message).
    """
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        what = "is not a folder" if out_dir.exists() else "does not exist"
        raise RnnaiError(f"results folder {out_dir} {what}")
    found, broken = _collect(out_dir)
    failures = dict(failures or {})
    if not found and not failures and not broken:
        raise RnnaiError(f"no results in {out_dir} (expected {out_dir}/<experiment>/result.json)")
    results = [r for _, r in found]
    command = command or _default_command(out_dir, results)

    lines = [
        "# rnnai: reproduction report",
        "",
        f"Regenerate the results: `{command}`  ",
        f"Rebuild this report from them: `{shlex.join(['rnnai', 'report', str(out_dir)])}`",
        "",
    ]
    if results:
        total = sum(float(r["wall_s"]) for r in results if r.get("wall_s") is not None)
        counts = {v: sum(r["verdict"] == v for r in results) for v in ("reproduced", "partial")}
        lines += [
            f"{len(results)} experiment{'s' if len(results) != 1 else ''}: "
            f"{counts['reproduced']} reproduced, "
            f"{counts['partial']} partial, "
            f"{len(results) - counts['reproduced'] - counts['partial']} not reproduced; "
            f"total time {format_duration(total)}.",
            "",
            results_table_markdown(results),
        ]
        v = results[0]["versions"]
        lines += [
            "Versions: " + ", ".join(f"{k} {v[k]}" for k in sorted(v)) + ".",
            "",
        ]
    if failures or broken:
        lines += ["## Failed runs", ""]
        lines += [f"- `{name}`: {_cell(reason)}" for name, reason in sorted(failures.items())]
        lines += [f"- unreadable result: {_cell(reason)}" for reason in broken]
        lines.append("")
    for folder, r in found:
        rel = folder.relative_to(out_dir).as_posix()
        paper, head = r["paper"], r["headline"]
        lines += [
            f"## {r['experiment']}",
            "",
            f"**Paper** ({paper['citation']}): {paper['metric']} = "
            f"{format_number(paper['value'])}.  ",
            f"**Ours** (scale {r['scale']}, seed {r['seed']}): {head['metric']} = "
            f"{format_number(head['value'])}; verdict **{r['verdict'].replace('_', ' ')}**.",
            "",
        ]
        judgement = r.get("judgement")
        if isinstance(judgement, dict):
            lines += [_judgement_markdown(judgement), ""]
        if r.get("notes"):
            lines += [str(r["notes"]).strip(), ""]
        for plot in r.get("plots", []):
            lines += [f"![{r['experiment']}: {Path(plot).stem}]({rel}/{plot})", ""]
    path = out_dir / REPORT_NAME
    try:
        atomic_write_text(path, "\n".join(lines).rstrip("\n") + "\n")
    except OSError as e:
        raise RnnaiError(f"cannot write {path}: {e.strerror or e}") from e
    if broken:
        raise UnreadableResultsError(path, broken)
    return path


def _judgement_markdown(j: dict[str, Any]) -> str:
    """The stored `rnnai.runtime.verdict.Judgement` as report lines (reasons, then each test)."""
    from rnnai.runtime.verdict import Evidence, Judgement

    evidence = []
    for e in j.get("evidence", []):
        interval = e.get("interval")
        evidence.append(
            Evidence(
                claim=str(e.get("claim", "")),
                passed=bool(e.get("passed")),
                test=str(e.get("test", "")),
                n=int(e.get("n", 0)),
                ours=_num(e.get("ours")),
                paper=_num(e.get("paper")),
                interval=None if interval is None else (float(interval[0]), float(interval[1])),
                p_value=_num(e.get("p_value")),
            )
        )
    return Judgement(
        verdict=str(j.get("verdict", "")),
        evidence=tuple(evidence),
        reasons=tuple(str(x) for x in j.get("reasons", [])),
        setup=str(j.get("setup", "")),
        trials=int(j.get("trials", 0)),
        required=int(j.get("required_trials", 1)),
    ).markdown()


def _num(v: Any) -> float | None:
    """A stored number (non-finite ones are stored as strings such as "inf"), or None."""
    return None if v is None else float(v)


def update_readme_section(readme: Path | str, key: str, content: str) -> None:
    """Replace the generated section ``key`` of a README between its two marker comments.

    The markers are ``<!-- rnnai:KEY -->`` and ``<!-- /rnnai:KEY -->``; everything between them
    is replaced by ``content``; the rest of the file is kept byte for byte.

    Args:
        readme: The markdown file.
        key: The section name (``results`` or ``bench``).
        content: The new markdown.

    Raises:
        RnnaiError: If the file is missing, not UTF-8, lacks either marker or cannot be
            written.
    """
    path = Path(readme)
    start, end = f"<!-- rnnai:{key} -->", f"<!-- /rnnai:{key} -->"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise RnnaiError(f"cannot read {path}: {e.strerror or e}") from e
    except UnicodeDecodeError as e:
        raise RnnaiError(f"{path} is not UTF-8 text (byte {e.start})") from e
    i, j = text.find(start), text.find(end)
    if i < 0 or j < i:
        raise RnnaiError(f"{path} has no section markers {start} ... {end}")
    new = text[: i + len(start)] + "\n" + content.rstrip("\n") + "\n" + text[j:]
    try:
        atomic_write_text(path, new)
    except OSError as e:
        raise RnnaiError(f"cannot write {path}: {e.strerror or e}") from e
