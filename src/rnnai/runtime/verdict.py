"""The one verdict rule every reproduction uses.

A reproduction compares its measurements with a paper's claim through one or more statistical
tests (`Evidence`), then `judge` turns them into the verdict with the reasons:

* **reproduced**: every test passes, the run used the paper's own setup (task, learning algorithm,
  network, budget), and it has at least `required_trials` independent trials: the paper's number
  of trials, and at least `MIN_STATISTICAL_TRIALS` (10) where the claim is a success rate, a mean
  or a median;
* **partial**: every test passes but the setup differs from the paper's or there are fewer trials
  than required; or some tests pass and others do not;
* **not reproduced**: no test passes.

The tests, each stated in the `Evidence` it returns (test name, n, interval, p-value):

* `success_rate`: the success rate is not significantly below the paper's (one-sided exact
  binomial test at level `ALPHA` = 5%; the interval is the Clopper-Pearson 95% interval);
* `location`: the paper's mean or median lies inside our 95% bootstrap interval (percentile
  bootstrap, `N_BOOTSTRAP` resamples from a fixed generator, so the same data give the same
  interval), or the whole interval is on the better side of it;
* `comparison`: one system beats another: the 95% bootstrap interval of the mean difference
  (paired per item where the items are paired) lies entirely on the better side of zero;
* `check`: a deterministic yes/no fact (a found program generalizes to every unseen input), stated
  with the number of cases behind it.

Examples:
    >>> from rnnai.runtime.verdict import judge, location, required_trials, success_rate
    >>> rate = success_rate(successes=10, n=10, paper_rate=1.0)
    >>> speed = location([8000, 9100, 7600, 12000, 8500, 6900, 9900, 8800, 10400, 7300],
    ...                  paper_value=8440, lower_is_better=True, statistic="mean")
    >>> j = judge([rate, speed], paper_setup=True, setup="online SGD, lr 0.5", trials=10,
    ...           required=required_trials(10, statistical=True))
    >>> j.verdict
    'reproduced'
    >>> judge([rate, speed], paper_setup=False, setup="Adam", trials=10, required=10).verdict
    'partial'
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from scipy import stats

from rnnai.runtime.errors import RnnaiError

__all__ = [
    "ALPHA",
    "MIN_STATISTICAL_TRIALS",
    "N_BOOTSTRAP",
    "Evidence",
    "Judgement",
    "bootstrap_interval",
    "check",
    "comparison",
    "judge",
    "location",
    "required_trials",
    "success_rate",
]

ALPHA = 0.05
"""Significance level of every test (one-sided where the claim has a direction)."""
MIN_STATISTICAL_TRIALS = 10
"""The fewest independent trials behind a "reproduced" rate, mean or median."""
N_BOOTSTRAP = 10_000
"""Bootstrap resamples per interval."""
BOOTSTRAP_SEED = 20_240_601
"""Seed of the bootstrap's own generator: the same data always give the same interval."""

VERDICTS = ("reproduced", "partial", "not_reproduced")


@dataclass(frozen=True, kw_only=True)
class Evidence:
    """One statistical comparison of our measurements with the paper's claim.

    Attributes:
        claim: What is tested, in words (e.g. "success rate not below the paper's 100%").
        passed: Whether the test supports the claim.
        test: The test, named so a reader can redo it (e.g. "one-sided exact binomial, 5%").
        n: The number of independent observations behind it (trials, test items).
        ours: Our estimate (rate, mean, median, difference), or None.
        paper: The paper's value, or None for a qualitative claim.
        interval: Our 95% interval, or None.
        p_value: The test's p-value, or None.
    """

    claim: str
    passed: bool
    test: str
    n: int
    ours: float | None = None
    paper: float | None = None
    interval: tuple[float, float] | None = None
    p_value: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (non-finite numbers as the strings "inf", "-inf", "nan")."""
        return {
            "claim": self.claim,
            "passed": bool(self.passed),
            "test": self.test,
            "n": int(self.n),
            "ours": _finite(self.ours),
            "paper": _finite(self.paper),
            "interval": None if self.interval is None else [_finite(v) for v in self.interval],
            "p_value": _finite(self.p_value),
        }

    def markdown(self) -> str:
        """One line for a report: the claim, the numbers, n, the interval and the test."""
        parts = [f"{'passed' if self.passed else 'failed'}: {self.claim}"]
        nums = []
        if self.ours is not None:
            nums.append(f"ours {_fmt(self.ours)}")
        if self.interval is not None:
            nums.append(f"95% interval [{_fmt(self.interval[0])}, {_fmt(self.interval[1])}]")
        if self.paper is not None:
            nums.append(f"paper {_fmt(self.paper)}")
        nums.append(f"n = {self.n}")
        if self.p_value is not None:
            nums.append(f"p = {self.p_value:.3g}")
        return f"{parts[0]} ({'; '.join(nums)}; {self.test})"


@dataclass(frozen=True, kw_only=True)
class Judgement:
    """The verdict, the evidence behind it and the reasons it is not stronger.

    Attributes:
        verdict: ``reproduced``, ``partial`` or ``not_reproduced``.
        evidence: The tests, in the order given.
        reasons: Why the verdict is not "reproduced" (empty when it is).
        setup: The learning setup that ran, in words.
        trials: Independent trials behind the evidence.
        required: Trials a "reproduced" needs.
    """

    verdict: str
    evidence: tuple[Evidence, ...]
    reasons: tuple[str, ...] = field(default_factory=tuple)
    setup: str = ""
    trials: int = 0
    required: int = 1

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form, stored in ``result.json`` under ``judgement``."""
        return {
            "verdict": self.verdict,
            "setup": self.setup,
            "trials": int(self.trials),
            "required_trials": int(self.required),
            "reasons": list(self.reasons),
            "evidence": [e.to_dict() for e in self.evidence],
        }

    def markdown(self) -> str:
        """The verdict's explanation for a report: the reasons, then one line per test."""
        head = f"Verdict **{self.verdict.replace('_', ' ')}** ({self.trials} trial"
        head += f"{'s' if self.trials != 1 else ''}; {self.required} required; {self.setup})"
        lines = [head + (": " + "; ".join(self.reasons) + "." if self.reasons else ".")]
        lines += [f"- {e.markdown()}" for e in self.evidence]
        return "\n".join(lines)


# ----------------------------------------------------------------------------- the tests
def success_rate(
    *, successes: int, n: int, paper_rate: float, claim: str | None = None
) -> Evidence:
    """Is our success rate not significantly below the paper's?

    One-sided exact binomial test of H0 "our rate >= the paper's": it is rejected (the test
    fails) when P(X <= successes | n, paper_rate) < `ALPHA`. At a paper rate of 100% a single
    failure fails the test. No success at all never supports a positive paper rate: with few
    trials zero successes are not significantly below, say, 18%, but they show nothing of the
    claim, so the test fails (the p-value is still reported).

    Args:
        successes: Successful trials.
        n: All trials (>= 1).
        paper_rate: The paper's success rate in [0, 1].
        claim: The claim in words (default: "success rate not below the paper's X%").

    Returns:
        The evidence, with the Clopper-Pearson 95% interval of our rate.

    Raises:
        RnnaiError: If the counts or the rate are out of range.
    """
    if n < 1 or not 0 <= successes <= n:
        raise RnnaiError(f"success_rate needs 0 <= successes <= n and n >= 1, got {successes}/{n}")
    if not 0.0 <= paper_rate <= 1.0:
        raise RnnaiError(f"paper_rate must be in [0, 1], got {paper_rate}")
    p = float(stats.binom.cdf(successes, n, paper_rate))
    ci = stats.binomtest(successes, n).proportion_ci(confidence_level=0.95, method="exact")
    return Evidence(
        claim=claim or f"success rate not below the paper's {100 * paper_rate:g}%",
        passed=p >= ALPHA and (successes > 0 or paper_rate == 0.0),
        test="one-sided exact binomial test, 5%"
        + (", and at least one success" if paper_rate > 0 else ""),
        n=n,
        ours=successes / n,
        paper=paper_rate,
        interval=(float(ci.low), float(ci.high)),
        p_value=p,
    )


def bootstrap_interval(
    values: Sequence[float] | np.ndarray,
    statistic: Callable[[np.ndarray], np.ndarray],
    *,
    level: float = 0.95,
    resamples: int = N_BOOTSTRAP,
) -> tuple[float, float]:
    """Percentile bootstrap interval of a statistic, from a fixed generator.

    Args:
        values: The observations, shape (n,) or (n, k) for paired rows (resampled together).
        statistic: Maps resamples of shape (resamples, n[, k]) to (resamples,) statistics.
        level: Coverage of the interval.
        resamples: Bootstrap resamples.

    Returns:
        (low, high). Infinite values (e.g. unsolved trials counted as never) pass through.
    """
    x = np.asarray(values, dtype=np.float64)
    if len(x) == 0:
        raise RnnaiError("a bootstrap interval needs at least one value")
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    idx = rng.integers(0, len(x), size=(resamples, len(x)))
    boots = np.sort(statistic(x[idx]))
    lo_q, hi_q = (1 - level) / 2, 1 - (1 - level) / 2
    # "lower" / "higher" quantiles never interpolate between a finite value and infinity
    return (
        float(np.quantile(boots, lo_q, method="lower")),
        float(np.quantile(boots, hi_q, method="higher")),
    )


def _stat(name: str) -> Callable[[np.ndarray], np.ndarray]:
    if name == "mean":
        return lambda a: np.mean(a, axis=-1)
    if name == "median":
        return lambda a: np.median(a, axis=-1)
    raise RnnaiError(f"statistic must be 'mean' or 'median', got {name!r}")


def location(
    values: Sequence[float] | np.ndarray,
    *,
    paper_value: float,
    lower_is_better: bool,
    statistic: Literal["mean", "median"] = "median",
    claim: str | None = None,
) -> Evidence:
    """Is the paper's mean or median inside our 95% bootstrap interval, or are we better?

    Args:
        values: One number per independent trial (``inf`` for a trial that never reached the
            criterion when lower is better, ``-inf`` when higher is better).
        paper_value: The paper's mean or median.
        lower_is_better: Whether smaller is better (sequences to solve, error).
        statistic: ``mean`` or ``median`` (the paper's own statistic).
        claim: The claim in words.

    Returns:
        The evidence: passed when the paper's value is inside the interval or the interval lies
        entirely on the better side of it.
    """
    x = np.asarray(values, dtype=np.float64)
    fn = _stat(statistic)
    ours = float(fn(x[None, :])[0])
    lo, hi = bootstrap_interval(x, fn)
    better = hi < paper_value if lower_is_better else lo > paper_value
    return Evidence(
        claim=claim
        or f"{statistic} {'at or below' if lower_is_better else 'at or above'} "
        f"the paper's {_fmt(paper_value)} (or the paper's value inside our interval)",
        passed=bool(lo <= paper_value <= hi or better),
        test=f"95% percentile bootstrap of the {statistic}",
        n=len(x),
        ours=ours,
        paper=float(paper_value),
        interval=(lo, hi),
    )


def comparison(
    ours: Sequence[float] | np.ndarray,
    other: Sequence[float] | np.ndarray,
    *,
    lower_is_better: bool,
    paired: bool,
    claim: str,
) -> Evidence:
    """Does one system beat another? The 95% bootstrap interval of the mean difference.

    Args:
        ours: Per-item (or per-trial) values of the system the claim favours.
        other: The same for the system it is compared with.
        lower_is_better: Whether smaller values are better (errors).
        paired: Whether item i of both was measured on the same input (resampled together).
        claim: The claim in words (e.g. "dictionary + LM decoding lowers the word error").

    Returns:
        The evidence; ``ours`` is the mean difference (ours - other), passed when the whole
        interval is on the better side of zero.
    """
    a, b = np.asarray(ours, dtype=np.float64), np.asarray(other, dtype=np.float64)
    if paired:
        if a.shape != b.shape:
            raise RnnaiError(f"paired comparison needs equal lengths, got {len(a)} and {len(b)}")
        diff = float(np.mean(a - b))
        lo, hi = bootstrap_interval(a - b, lambda s: np.mean(s, axis=-1))
        n = len(a)
    else:
        diff = float(np.mean(a) - np.mean(b))
        la, ha = _split_boot(a, b)
        lo, hi = la, ha
        n = min(len(a), len(b))
    passed = hi < 0 if lower_is_better else lo > 0
    return Evidence(
        claim=claim,
        passed=bool(passed),
        test="95% bootstrap interval of the mean difference"
        + (" (paired)" if paired else " (independent samples)"),
        n=n,
        ours=diff,
        paper=None,
        interval=(lo, hi),
    )


def _split_boot(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    ia = rng.integers(0, len(a), size=(N_BOOTSTRAP, len(a)))
    ib = rng.integers(0, len(b), size=(N_BOOTSTRAP, len(b)))
    d = np.sort(a[ia].mean(axis=1) - b[ib].mean(axis=1))
    return float(np.quantile(d, 0.025, method="lower")), float(
        np.quantile(d, 0.975, method="higher")
    )


def check(
    claim: str,
    passed: bool,
    *,
    n: int,
    test: str = "deterministic check",
    ours: float | None = None,
    paper: float | None = None,
) -> Evidence:
    """A yes/no fact measured exactly (no sampling error), with the cases behind it.

    Args:
        claim: The fact in words ("the found program solves all 161,697 unseen inputs").
        passed: Whether it holds.
        n: The number of cases it was checked on.
        test: How it was checked.
        ours: Our number, if any.
        paper: The paper's number, if any.

    Returns:
        The evidence.
    """
    return Evidence(claim=claim, passed=bool(passed), test=test, n=int(n), ours=ours, paper=paper)


# ----------------------------------------------------------------------------- the rule
def required_trials(paper_trials: int | None, *, statistical: bool) -> int:
    """Trials a "reproduced" needs: the paper's count, and at least 10 for a rate/mean/median.

    Args:
        paper_trials: The paper's number of trials (None when it does not say: taken as 1).
        statistical: Whether the claim is a success rate, a mean or a median.

    Returns:
        The required number of independent trials.
    """
    base = max(1, int(paper_trials or 1))
    return max(base, MIN_STATISTICAL_TRIALS) if statistical else base


def judge(
    evidence: Sequence[Evidence],
    *,
    paper_setup: bool,
    setup: str,
    trials: int,
    required: int,
) -> Judgement:
    """Apply the rule of the module docstring.

    Args:
        evidence: The tests (at least one).
        paper_setup: Whether the run used the paper's own setup.
        setup: The setup that ran, in words (shown in the report).
        trials: Independent trials behind the evidence.
        required: Trials needed for "reproduced" (`required_trials`).

    Returns:
        The judgement.

    Raises:
        RnnaiError: If no evidence is given.
    """
    if not evidence:
        raise RnnaiError("a verdict needs at least one test")
    failed = [e for e in evidence if not e.passed]
    reasons: list[str] = []
    if not failed:
        if not paper_setup:
            reasons.append(f"not the paper's setup ({setup})")
        if trials < required:
            reasons.append(
                f"{trials} trial{'s' if trials != 1 else ''}, fewer than the {required} required"
            )
        verdict = "partial" if reasons else "reproduced"
    elif len(failed) < len(evidence):
        verdict = "partial"
        reasons.append("failed: " + "; ".join(e.claim for e in failed))
    else:
        verdict = "not_reproduced"
        reasons.append("failed: " + "; ".join(e.claim for e in failed))
    return Judgement(
        verdict=verdict,
        evidence=tuple(evidence),
        reasons=tuple(reasons),
        setup=setup,
        trials=int(trials),
        required=int(required),
    )


def _finite(v: float | None) -> float | str | None:
    if v is None:
        return None
    v = float(v)
    return v if math.isfinite(v) else str(v)


def _fmt(v: float) -> str:
    if not math.isfinite(v):
        return "never" if v > 0 else "-inf"
    if v == int(v) and abs(v) >= 1:
        return f"{int(v):,}"
    return f"{v:.4g}"
