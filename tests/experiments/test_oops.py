"""oops.1n2n and oops.hanoi: smoke runs through the CLI, consistent verdicts, exact resume."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from rnnai.cli import main
from rnnai.experiments import get_experiment


def _run(tmp_path: Path, name: str, *extra: str) -> dict:
    r = CliRunner().invoke(
        main, ["run", name, "--scale", "smoke", "--out", str(tmp_path), "--quiet", *extra]
    )
    assert r.exit_code == 0, r.output
    return json.loads((tmp_path / name / "result.json").read_text())


def test_1n2n_smoke_reproduces_stage1_exactly(tmp_path: Path) -> None:
    res = _run(tmp_path, "oops.1n2n")
    assert res["paper"]["value"] == 362_367
    assert res["headline"]["value"] == 362_367
    (stage,) = res["metrics"]["stages"]
    assert stage["program"] == "defnp 2toD" and stage["matches_paper"]
    assert res["metrics"]["stage1_time_steps"] == 478_354
    assert res["verdict"] == "reproduced"
    assert (tmp_path / "oops.1n2n" / "counts.png").stat().st_size > 1000


def test_1n2n_resume_after_the_run_gives_the_same_metrics(tmp_path: Path) -> None:
    first = _run(tmp_path, "oops.1n2n")
    again = _run(tmp_path, "oops.1n2n", "--resume")
    assert again["metrics"] == first["metrics"]


def test_hanoi_smoke_reuses_the_1n2n_code_and_reports_its_budget(tmp_path: Path) -> None:
    res = _run(tmp_path, "oops.hanoi")
    m = res["metrics"]
    assert m["stages"][0]["program"] == "defnp 2toD"
    assert m["symmetry_programs_match_paper"]
    assert m["instructions"] >= 5_000_000 or m["hanoi_stages_solved"] >= 1
    assert res["verdict"] == ("partial" if m["hanoi_stages_solved"] else "not_reproduced")


def test_paper_scale_runs_the_whole_curriculum() -> None:
    cfg = get_experiment("oops.hanoi").config("paper")
    assert cfg["plan"] == [["1n2n", 30], ["hanoi", 30]]
    assert cfg["max_instructions"] is None and cfg["undo_capacity"] == 6_000_000
    assert get_experiment("oops.1n2n").config("quick")["plan"] == [["1n2n", 3]]
