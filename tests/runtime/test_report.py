"""REPORT.md: one table with the numbers of every result, then notes and plots."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rnnai.runtime.errors import RnnaiError
from rnnai.runtime.report import (
    UnreadableResultsError,
    format_number,
    results_table_markdown,
    write_report,
)
from rnnai.runtime.results import write_result


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (74000, "74,000"),
        (74000.0, "74,000"),
        (51234.5, "51,230"),
        (0.123456, "0.1235"),
        (1234.56, "1235"),
        (1.2345e-05, "1.234e-05"),
        (None, "—"),
        ("n/a", "n/a"),
    ],
)
def test_format_number_is_readable(value: object, shown: str) -> None:
    assert format_number(value) == shown


MakeResult = Callable[..., dict[str, Any]]


def _write(out: Path, name: str, make_result: MakeResult, **overrides: object) -> None:
    (out / name).mkdir(parents=True)
    write_result(out / name / "result.json", make_result(experiment=name, **overrides))


def test_report_table_row_holds_the_numbers_of_the_result(
    tmp_path: Path, make_result: MakeResult
) -> None:
    _write(tmp_path, "lstm.adding", make_result)
    text = write_report(tmp_path).read_text()
    row = (
        "| `lstm.adding` | quick | 0 | Hochreiter & Schmidhuber 1997, Exp. 4 | seqs | 74,000 "
        "| 51,230 | reproduced | 12.3 s |"
    )
    assert row in text


def test_report_has_one_table_sorted_by_name(tmp_path: Path, make_result: MakeResult) -> None:
    for name in ("zeta.task", "alpha.task", "mid.task"):
        _write(tmp_path, name, make_result)
    text = (write_report(tmp_path)).read_text()
    assert text.count("| experiment |") == 1
    assert text.index("`alpha.task`") < text.index("`mid.task`") < text.index("`zeta.task`")


def test_report_embeds_plots_with_relative_paths_and_notes(
    tmp_path: Path, make_result: MakeResult
) -> None:
    _write(tmp_path, "lstm.adding", make_result, notes="Converged after **3** restarts.")
    text = write_report(tmp_path).read_text()
    assert "](lstm.adding/curve.png)" in text
    assert "Converged after **3** restarts." in text


def test_report_states_the_command_that_regenerates_it(
    tmp_path: Path, make_result: MakeResult
) -> None:
    _write(tmp_path, "lstm.adding", make_result)
    text = write_report(tmp_path, command="rnnai reproduce --scale quick").read_text()
    assert "`rnnai reproduce --scale quick`" in text
    assert f"`rnnai report {tmp_path}`" in text


def test_report_lists_failures_and_unreadable_results(
    tmp_path: Path, make_result: MakeResult
) -> None:
    _write(tmp_path, "lstm.adding", make_result)
    (tmp_path / "broken.task").mkdir()
    (tmp_path / "broken.task" / "result.json").write_text("{")
    with pytest.raises(UnreadableResultsError, match="1 unreadable result") as info:
        write_report(tmp_path, failures={"ctc.digits": "RuntimeError: boom"})
    assert info.value.unreadable == [
        f"{tmp_path / 'broken.task' / 'result.json'} is not valid JSON: "
        "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"
    ]
    text = info.value.report.read_text()
    assert "## Failed runs" in text
    assert "`ctc.digits`: RuntimeError: boom" in text
    assert "broken.task" in text


def test_report_of_a_folder_without_results_raises_rnnai_error(tmp_path: Path) -> None:
    with pytest.raises(RnnaiError, match="no results"):
        write_report(tmp_path)


def test_results_table_escapes_pipes(make_result: MakeResult) -> None:
    table = results_table_markdown(
        [make_result(paper={"citation": "A|B", "metric": "m", "value": 1})]
    )
    assert "A\\|B" in table
