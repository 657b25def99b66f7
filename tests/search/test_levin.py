"""Levin search: hand-computed phases on a textbook language, the search order, Kraft's time
bound, compiled and Python phases identical, and exact resume from any checkpoint."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest

from rnnai.runtime.errors import RnnaiError
from rnnai.search.levin import (
    BUDGET,
    STOP,
    LevinConfig,
    LevinError,
    LevinResult,
    LinearOutputTask,
    SearchState,
    levin_search,
    run_phase_py,
)
from rnnai.search.levin_language import Language1997
from rnnai.search.levin_tasks import (
    IncDoubleLanguage,
    PerceptronConfig,
    PerceptronTask,
    output_sequence_task,
    reach_task,
)

HALT, INC, DBL = 0, 1, 2


def test_phase_counts_match_a_hand_computation() -> None:
    # T = 32: the root request gives each token 32 // 3 = 10 steps. HALT: 1 step. INC (DBL): 1
    # step, then a request whose children get 32 // 9 = 3 steps: HALT finishes (2 steps), INC and
    # DBL run a 2nd step and request again, but 32 // 27 = 1 step cannot pay a 3rd: cut there.
    chunk = run_phase_py(IncDoubleLanguage(), reach_task(99), 5, False, 1)
    assert chunk.code == 0 and chunk.path == ()
    assert chunk.programs == 1 + 3 + 3
    assert chunk.steps == 1 + (1 + 1 + 1 + 1) * 2
    assert chunk.status_counts[STOP] == 3 and chunk.status_counts[BUDGET] == 4


def test_levin_search_finds_the_hand_optimal_program_in_the_predicted_phase() -> None:
    # acc = 4 needs 3 operations + HALT: P = 3^-4, t = 4, so phase ceil(log2(4 * 81)) = 9
    result = levin_search(IncDoubleLanguage(), reach_task(4), LevinConfig(max_phase=20))
    first = result.first
    assert first is not None
    assert first.program == (INC, INC, DBL, HALT)  # the lexicographically first of the two
    assert (first.denominator, first.steps, first.phase) == (81, 4, 9)
    assert first.phase == math.ceil(math.log2(first.steps * first.denominator))
    assert [p.phase for p in result.phases] == list(range(10))
    assert all(p.complete for p in result.phases[:-1]) and not result.phases[-1].complete


def test_the_more_probable_program_is_found_before_an_earlier_enumerated_longer_one() -> None:
    # depth first, INC INC INC INC HALT comes before INC INC DBL HALT; Levin's phases reverse that
    longer = (INC, INC, INC, INC, HALT)
    shorter = (INC, INC, DBL, HALT)
    assert longer < shorter
    result = levin_search(IncDoubleLanguage(), reach_task(4), LevinConfig(solutions=4))
    found = [s.program for s in result.solutions]
    assert found.index(shorter) < found.index(longer)
    assert [s.phase for s in result.solutions] == sorted(s.phase for s in result.solutions)
    assert len(set(found)) == len(found)  # later phases report only programs new to them


def test_each_phase_spends_at_most_its_total_time() -> None:
    # sum_p P(p) <= 1 over self-delimiting programs, so phase i executes at most 2^i steps
    result = levin_search(
        Language1997(),
        output_sequence_task([1, 1, 1]),
        LevinConfig(max_phase=18, solutions=50, use_kernel=True),
    )
    assert result.phases
    for p in result.phases:
        assert p.steps <= 2**p.phase
        assert p.programs <= 2**p.phase + 1


def test_counts_are_deterministic() -> None:
    a = levin_search(Language1997(), output_sequence_task([1, 2]), LevinConfig(max_phase=16))
    b = levin_search(Language1997(), output_sequence_task([1, 2]), LevinConfig(max_phase=16))
    assert a == b


@pytest.mark.parametrize(
    "task",
    [output_sequence_task([1, 1]), output_sequence_task([0, 1]), reach_task(1)],
    ids=["ones", "count", "reach"],
)
def test_compiled_phase_equals_the_python_phase(task: LinearOutputTask) -> None:
    cfg = LevinConfig(max_phase=19, solutions=4, chunk_programs=777)
    fast = levin_search(Language1997(), task, cfg)
    slow = levin_search(Language1997(), task, dataclasses.replace(cfg, use_kernel=False))
    assert fast == slow
    assert len(fast.solutions) == 4 and fast.programs > 100


def test_compiled_phase_equals_the_python_phase_on_the_counting_perceptron() -> None:
    task = PerceptronTask(PerceptronConfig(kind="counting"))
    cfg = LevinConfig(max_phase=19)
    fast = levin_search(Language1997(), task, cfg)
    slow = levin_search(Language1997(), task, LevinConfig(max_phase=19, use_kernel=False))
    assert fast == slow
    assert fast.first is not None and fast.first.phase == 19
    assert task.generalization(fast.first.output).perfect


def _run_with_states(cfg: LevinConfig, task: LinearOutputTask) -> tuple[LevinResult, list[str]]:
    states: list[str] = []
    result = levin_search(
        Language1997(), task, cfg, on_chunk=lambda s: states.append(json.dumps(s.to_dict()))
    )
    return result, states


@pytest.mark.parametrize("use_kernel", [True, False], ids=["kernel", "python"])
def test_resuming_from_any_saved_state_ends_with_identical_counts(use_kernel: bool) -> None:
    task = output_sequence_task([1, 2])
    cfg = LevinConfig(max_phase=17, solutions=3, chunk_programs=500, use_kernel=use_kernel)
    reference, states = _run_with_states(cfg, task)
    assert len(states) > 10
    assert any(json.loads(s)["path"] for s in states)  # some saves are inside a phase
    for saved in states[1 :: max(1, len(states) // 7)]:
        state = SearchState.from_dict(json.loads(saved))
        assert levin_search(Language1997(), task, cfg, state) == reference


def test_chunk_size_does_not_change_the_result() -> None:
    task = output_sequence_task([2])
    a = levin_search(Language1997(), task, LevinConfig(max_phase=16, solutions=5))
    b = levin_search(
        Language1997(), task, LevinConfig(max_phase=16, solutions=5, chunk_programs=37)
    )
    assert a == b


def test_an_unreachable_task_exhausts_the_phases() -> None:
    result = levin_search(IncDoubleLanguage(), reach_task(1000), LevinConfig(max_phase=8))
    assert result.exhausted and result.first is None
    assert [p.phase for p in result.phases] == list(range(9))


def test_bad_configs_and_states_are_refused() -> None:
    with pytest.raises(LevinError, match="max_phase"):
        LevinConfig(max_phase=63)
    with pytest.raises(LevinError, match="solutions"):
        LevinConfig(solutions=0)
    with pytest.raises(LevinError, match="malformed"):
        SearchState.from_dict({"phase": 3})
    with pytest.raises(LevinError, match="outside"):
        levin_search(
            IncDoubleLanguage(), reach_task(2), LevinConfig(max_phase=4), SearchState(phase=9)
        )
    with pytest.raises(LevinError, match="does not replay"):
        run_phase_py(IncDoubleLanguage(), reach_task(2), 3, False, 1, path=(2, 2, 2, 2, 2))
    with pytest.raises(LevinError, match="X"):
        LinearOutputTask("bad", [[1.5]], [1])
    with pytest.raises(LevinError, match="Language"):
        levin_search("not a language", reach_task(2))  # type: ignore[arg-type]


def test_levin_errors_are_one_line_user_errors() -> None:
    """A bad search input is an RnnaiError: the CLI shows it as one ``error:`` line."""
    with pytest.raises(RnnaiError) as info:
        LevinConfig(min_phase=5, max_phase=3)
    assert isinstance(info.value, LevinError) and "\n" not in str(info.value)
    assert "min_phase=5, max_phase=3" in str(info.value)
    with pytest.raises(TypeError):  # configs are keyword-only
        LevinConfig(20)  # type: ignore[misc]
