"""lstm.adding: smoke run through the CLI, result.json consistent with the verdict rule."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from rnnai.cli import main
from rnnai.experiments import get_experiment


def test_adding_smoke_run_writes_a_consistent_result(tmp_path: Path) -> None:
    r = CliRunner().invoke(
        main, ["run", "lstm.adding", "--scale", "smoke", "--out", str(tmp_path), "--quiet"]
    )
    assert r.exit_code == 0, r.output
    res = json.loads((tmp_path / "lstm.adding" / "result.json").read_text())
    assert res["paper"]["value"] == 74_000
    assert res["verdict"] in ("reproduced", "partial", "not_reproduced")
    m = res["metrics"]["T20"]
    # smoke runs T=20, not the paper's task: the rule never says "reproduced" for it
    assert res["verdict"] == ("partial" if m["solved"] else "not_reproduced")
    assert "modern setup" in m["setup"]
    for plot in res["plots"]:
        assert (tmp_path / "lstm.adding" / plot).stat().st_size > 1000
    assert "learning_curve.png" in res["plots"]


def test_adding_paper_scale_uses_the_1997_setup() -> None:
    cfg = get_experiment("lstm.adding").config("paper")
    assert [r["T"] for r in cfg["runs"]] == [100, 500, 1000]
    first = cfg["runs"][0]
    assert first["trials"] == 10 and first["train"]["optimizer"] == "sgd"
    assert first["train"]["batch"] == 1 and cfg["net"]["variant"] == "lstm1997"
