"""lstm.odyssey: the smoke run through the CLI and the verdict rule on hand-made numbers."""

from __future__ import annotations

import json

from click.testing import CliRunner

from rnnai.cli import main
from rnnai.experiments.lstm_odyssey import compare_to_vanilla, odyssey_verdict


def test_smoke_run_writes_consistent_result(tmp_path):
    res = CliRunner().invoke(
        main, ["run", "lstm.odyssey", "--scale", "smoke", "--out", str(tmp_path), "--quiet"]
    )
    assert res.exit_code == 0, res.output
    out = tmp_path / "lstm.odyssey"
    r = json.loads((out / "result.json").read_text())
    assert r["paper"]["value"] == 4
    assert r["verdict"] in ("reproduced", "partial", "not_reproduced")
    checks = r["metrics"]["checks"]
    held = sum(checks.values())
    assert r["headline"]["value"] == held
    expected = "reproduced" if held == 4 else "partial" if held >= 2 else "not_reproduced"
    assert r["verdict"] == expected
    assert set(r["metrics"]["variants"]) == {"vanilla", "nfg", "noaf"}
    for plot in r["plots"]:
        assert (out / plot).is_file()


def _scores(**shift):
    base = [0.10, 0.11, 0.12, 0.13, 0.14, 0.15]
    names = ("vanilla", "nfg", "noaf", "cifg", "np", "fgr")
    return {n: [s + shift.get(n, 0.0) for s in base] for n in names}


def test_verdict_reproduced_when_nfg_noaf_clearly_worse():
    stats = compare_to_vanilla(_scores(nfg=1.0, noaf=1.0))
    assert stats["nfg"]["worse"] and stats["noaf"]["worse"]
    verdict, checks = odyssey_verdict(stats)
    assert verdict == "reproduced" and all(checks.values())


def test_verdict_partial_when_a_variant_is_significantly_better():
    stats = compare_to_vanilla(_scores(nfg=1.0, noaf=1.0, fgr=-1.0))
    assert stats["fgr"]["better"]
    verdict, checks = odyssey_verdict(stats)
    assert not checks["none_significantly_better"]
    assert verdict == "partial"


def test_verdict_not_reproduced_when_only_one_conclusion_holds():
    stats = compare_to_vanilla(_scores(cifg=1.0, fgr=-1.0))
    verdict, checks = odyssey_verdict(stats)
    assert sum(checks.values()) == 0 or verdict == "not_reproduced"
    assert verdict == "not_reproduced"


def test_small_samples_cannot_be_significant():
    stats = compare_to_vanilla({"vanilla": [0.1, 0.11, 0.12], "nfg": [0.9, 0.91, 0.92]})
    assert stats["nfg"]["p"] >= 0.05 and not stats["nfg"]["worse"]
