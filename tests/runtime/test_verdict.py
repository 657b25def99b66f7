"""The shared verdict rule: each test on constructed data, and the rule's three outcomes."""

import math

import numpy as np
import pytest

from rnnai.experiments.base import Outcome
from rnnai.runtime.errors import RnnaiError
from rnnai.runtime.verdict import (
    bootstrap_interval,
    check,
    comparison,
    judge,
    location,
    required_trials,
    success_rate,
)


def test_success_rate_at_paper_rate_100_fails_on_one_failure():
    assert success_rate(successes=10, n=10, paper_rate=1.0).passed
    assert not success_rate(successes=9, n=10, paper_rate=1.0).passed


def test_success_rate_p_value_is_the_binomial_lower_tail():
    e = success_rate(successes=3, n=10, paper_rate=0.5)
    # P(X <= 3 | 10, 0.5) = (1 + 10 + 45 + 120) / 1024
    assert e.p_value == pytest.approx(176 / 1024)
    assert e.passed
    assert not success_rate(successes=1, n=10, paper_rate=0.5).passed  # 11/1024 < 0.05


def test_success_rate_of_zero_never_supports_a_positive_paper_rate():
    e = success_rate(successes=0, n=2, paper_rate=0.18)
    assert e.p_value == pytest.approx(0.82**2) and not e.passed
    assert success_rate(successes=0, n=10, paper_rate=0.0).passed


def test_success_rate_rejects_impossible_counts():
    with pytest.raises(RnnaiError, match="successes"):
        success_rate(successes=11, n=10, paper_rate=0.5)


def test_location_passes_when_paper_value_inside_interval_or_we_are_better():
    rng = np.random.default_rng(0)
    values = rng.normal(8_000, 500, size=30)
    assert location(values, paper_value=8_000, lower_is_better=True, statistic="mean").passed
    assert location(values, paper_value=20_000, lower_is_better=True, statistic="mean").passed
    assert not location(values, paper_value=1_000, lower_is_better=True, statistic="mean").passed
    # higher is better: a paper value far above ours fails
    assert not location(values, paper_value=20_000, lower_is_better=False).passed


def test_location_with_unsolved_trials_has_an_unbounded_interval():
    e = location([1.0, 2.0, math.inf, math.inf, math.inf], paper_value=1.5, lower_is_better=True)
    assert e.interval is not None and math.isinf(e.interval[1])
    assert e.to_dict()["interval"][1] == "inf"


def test_bootstrap_interval_is_deterministic():
    x = np.arange(20.0)
    f = lambda a: a.mean(axis=-1)  # noqa: E731
    assert bootstrap_interval(x, f) == bootstrap_interval(x, f)


def test_comparison_paired_detects_a_consistent_improvement_only():
    a = np.full(50, 0.1)
    b = np.full(50, 0.3)
    assert comparison(a, b, lower_is_better=True, paired=True, claim="a lower").passed
    assert not comparison(b, a, lower_is_better=True, paired=True, claim="b lower").passed
    noise = np.random.default_rng(1).normal(0, 1, size=(2, 50))
    assert not comparison(noise[0], noise[0], lower_is_better=True, paired=True, claim="x").passed


def test_required_trials_is_at_least_ten_for_statistical_claims():
    assert required_trials(1, statistical=True) == 10
    assert required_trials(100, statistical=True) == 100
    assert required_trials(None, statistical=False) == 1


def test_judge_reproduced_needs_paper_setup_and_enough_trials():
    ok = check("it works", True, n=5)
    assert judge([ok], paper_setup=True, setup="s", trials=10, required=10).verdict == "reproduced"
    j = judge([ok], paper_setup=True, setup="s", trials=3, required=10)
    assert j.verdict == "partial" and "fewer than the 10 required" in j.reasons[0]
    j = judge([ok], paper_setup=False, setup="Adam", trials=10, required=10)
    assert j.verdict == "partial" and "Adam" in j.reasons[0]


def test_judge_partial_when_some_tests_fail_and_not_reproduced_when_all_fail():
    ok, bad = check("a", True, n=1), check("b", False, n=1)
    assert judge([ok, bad], paper_setup=True, setup="s", trials=10, required=1).verdict == "partial"
    assert (
        judge([bad], paper_setup=True, setup="s", trials=10, required=1).verdict == "not_reproduced"
    )
    with pytest.raises(RnnaiError):
        judge([], paper_setup=True, setup="s", trials=1, required=1)


def test_outcome_takes_a_judgement_and_keeps_its_evidence():
    j = judge([check("a", True, n=1)], paper_setup=False, setup="s", trials=1, required=1)
    out = Outcome(headline=1, metrics={}, verdict=j)
    assert out.verdict == "partial" and out.judgement is j
    assert "Verdict **partial**" in j.markdown()
