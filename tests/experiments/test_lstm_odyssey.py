"""lstm.odyssey: the smoke run through the CLI and the verdict rule on hand-made numbers."""

from __future__ import annotations

import json

from click.testing import CliRunner

from rnnai.cli import main
from rnnai.experiments.lstm_odyssey import compare_to_vanilla, odyssey_checks, odyssey_judgement


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
    # smoke runs 3 variants: the "no variant helps, CIFG/NP no harm" evidence cannot hold
    any_worse = checks["nfg_significantly_worse"] or checks["noaf_significantly_worse"]
    assert r["verdict"] == ("partial" if any_worse else "not_reproduced")
    assert set(r["metrics"]["variants"]) == {"vanilla", "nfg", "noaf"}
    for plot in r["plots"]:
        assert (out / plot).is_file()


def _scores(**shift):
    base = [0.10, 0.11, 0.12, 0.13, 0.14, 0.15]
    names = ("vanilla", "nfg", "noaf", "cifg", "np", "fgr")
    return {n: [s + shift.get(n, 0.0) for s in base] for n in names}


def _judge(stats, seeds=6):
    return odyssey_judgement(stats, seeds, "Adam").verdict, odyssey_checks(stats)


def test_all_conclusions_hold_but_the_setup_is_never_the_papers():
    stats = compare_to_vanilla(_scores(nfg=1.0, noaf=1.0))
    assert stats["nfg"]["worse"] and stats["noaf"]["worse"]
    verdict, checks = _judge(stats, seeds=20)
    assert all(checks.values())
    assert verdict == "partial"  # another task and Adam: never "reproduced"
    j = odyssey_judgement(stats, 20, "Adam")
    assert any("not the paper's setup" in r for r in j.reasons) and len(j.evidence) == 3


def test_verdict_partial_when_a_variant_is_significantly_better():
    stats = compare_to_vanilla(_scores(nfg=1.0, noaf=1.0, fgr=-1.0))
    assert stats["fgr"]["better"]
    verdict, checks = _judge(stats)
    assert not checks["none_significantly_better"]
    assert verdict == "partial"


def test_verdict_not_reproduced_when_no_evidence_holds():
    stats = compare_to_vanilla(_scores(cifg=1.0, fgr=-1.0))
    verdict, checks = _judge(stats)
    assert not checks["nfg_significantly_worse"] and not checks["none_significantly_better"]
    assert verdict == "not_reproduced"


def test_small_samples_cannot_be_significant():
    stats = compare_to_vanilla({"vanilla": [0.1, 0.11, 0.12], "nfg": [0.9, 0.91, 0.92]})
    assert stats["nfg"]["p"] >= 0.05 and not stats["nfg"]["worse"]
