"""The benchmark registry and its helpers: speedups, timing, the table."""

from __future__ import annotations

import pytest

import rnnai.bench as bench
from rnnai.bench import (
    BenchRow,
    bench_table_markdown,
    get_bench,
    median_time,
    register_bench,
    run_benches,
    speedup,
)
from rnnai.runtime.errors import RnnaiError


def test_speedup_of_times_is_anchor_over_ours() -> None:
    assert speedup(2.0, 6.0, "ms") == 3.0


def test_speedup_of_rates_is_ours_over_anchor() -> None:
    assert speedup(6e6, 2e6, "programs/s") == 3.0


def test_speedup_is_none_without_anchor_or_for_fractions() -> None:
    assert speedup(2.0, None, "ms") is None
    assert speedup(0.9, 0.8, "fraction") is None


def test_speedup_rejects_unknown_units() -> None:
    with pytest.raises(ValueError, match="unit"):
        speedup(1.0, 2.0, "furlongs")


def test_median_time_returns_the_median_of_repeats() -> None:
    calls = []
    assert median_time(lambda: calls.append(1), repeats=3, warmup=2) >= 0
    assert len(calls) == 5


def test_bench_row_to_dict_has_the_json_keys() -> None:
    row = BenchRow.compare("x", 1.0, 2.0, "s").to_dict()
    assert row == {"name": "x", "ours": 1.0, "anchor": 2.0, "unit": "s", "speedup": 2.0}


def test_bench_table_shows_speedup_and_dash_without_anchor() -> None:
    table = bench_table_markdown(
        [BenchRow.compare("lstm", 2.0, 5.0, "ms"), BenchRow.compare("agree", 1.0, None, "fraction")]
    )
    assert "| lstm | 2 | 5 | ms | 2.5× |" in table and "| agree | 1 | — | fraction | — |" in table


def test_registered_bench_runs_and_unknown_names_list_the_available_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bench, "_BENCHES", dict(bench.all_benches()))

    @register_bench("_unit")
    def unit(quick: bool, progress: object) -> list[BenchRow]:
        return [BenchRow.compare("unit", 1.0, 1.0, "s")]

    assert get_bench("_unit") is unit
    assert run_benches(["_unit"], quick=True, quiet=True)[0].speedup == 1.0
    with pytest.raises(RnnaiError, match="available: .*_unit"):
        get_bench("nope")


def test_round_robin_medians_times_every_step_in_turn():
    from rnnai.bench import round_robin_medians

    calls: list[str] = []
    med = round_robin_medians(
        {"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, repeats=3
    )
    assert calls == ["a", "b"] * 4  # one warm-up round, then three timed rounds, interleaved
    assert set(med) == {"a", "b"} and all(v >= 0 for v in med.values())
    with pytest.raises(RnnaiError):
        round_robin_medians({"a": lambda: None}, repeats=0)
