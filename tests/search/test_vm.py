"""The instruction table, the tape layout and program parsing of the OOPS machine."""

from __future__ import annotations

import pytest

from rnnai.search.tasks import HANOI, SYMMETRY, get_suite
from rnnai.search.vm import (
    A_MIN,
    FROZEN_PROGRAMS,
    INSTRUCTIONS,
    MAX_TASK,
    InstructionSet,
    Layout,
    MachineError,
    instruction_table_markdown,
)


def test_instruction_set_has_61_general_5_task_and_7_frozen_instructions() -> None:
    groups = [i.group for i in INSTRUCTIONS]
    assert groups.count("general") == 61
    assert groups.count("task") == 5
    assert groups.count("frozen") == 7
    assert len({i.name for i in INSTRUCTIONS}) == 73


def test_every_instruction_is_documented() -> None:
    for inst in INSTRUCTIONS:
        assert inst.effect and inst.cost and inst.c_name
    table = instruction_table_markdown()
    assert table.count("\n") == 74 and "boostq" in table and "oldSQ" in table


def test_search_order_follows_the_original_numbering() -> None:
    iset = InstructionSet()
    assert iset.encode("1toD 2toD mvdsk") == [1, 2, 3]
    assert iset.encode("c0 c5 exec qot nop") == [58, 63, 64, 65, 66]
    assert iset.encode([f.name for f in FROZEN_PROGRAMS]) == list(range(67, 74))


def test_encode_and_decode_are_inverse() -> None:
    iset = InstructionSet()
    prog = "defnp c1 calltp c2 endnp"
    assert iset.decode(iset.encode(prog)) == prog


def test_c_names_are_accepted_as_aliases() -> None:
    iset = InstructionSet()
    assert iset.encode("oldSQ twotoD") == iset.encode("boostq 2toD")


def test_unknown_instruction_names_the_word_and_close_matches() -> None:
    with pytest.raises(MachineError, match="unknown instruction 'calltq'.*calltp"):
        InstructionSet().encode("defnp calltq")


def test_decode_marks_numbers_out_of_range() -> None:
    assert InstructionSet().decode([1, 0, 99]) == "1toD ?0 ?99"


def test_layout_matches_the_original_address_map() -> None:
    lay = Layout(73)
    assert lay.acp == -3000 and lay.adp == -2699 and lay.aDp == -2498
    assert lay.afnp == -2297 and lay.atask == -995 and lay.acurp == -993
    assert lay.aendpats == -168 and lay.aquote == -167 and lay.aenv == -166


def test_too_many_instructions_for_the_tape_are_rejected() -> None:
    with pytest.raises(MachineError, match="do not fit the tape"):
        Layout(400).array(quote=1, up=1, cap=10, kind=0, ndecl=0)


def test_suites_boost_the_papers_instructions() -> None:
    assert SYMMETRY.boosted == ("c1", "c2", "dec", "by2", "boostq")
    assert HANOI.boosted == ("c3", "c4", "c5", "dec", "by2", "boostq")


def test_unknown_suite_is_rejected_by_name() -> None:
    with pytest.raises(MachineError, match="unknown task suite 'maze'"):
        get_suite("maze")


def test_suite_init_writes_stack_pegs_and_weights() -> None:
    import numpy as np

    iset, lay = InstructionSet(), Layout(73)
    w = -A_MIN + 1
    tape = np.zeros((MAX_TASK + 1) * w, dtype=np.int64)
    HANOI.init_tapes(tape, iset, lay)
    row = tape[3 * w : 4 * w]
    assert row[-lay.adp] == 4 and [row[-(lay.adp + i)] for i in (1, 2, 3, 4)] == [1, 2, 3, 3]
    assert row[-lay.aenv] == 3 and [row[-(lay.aenv + i)] for i in (1, 2, 3)] == [3, 2, 1]
    assert row[-(lay.acurp + 1)] == 73 + 6 * 73  # sum of weights
    assert row[-(lay.acurp + 2)] == 74  # max weight
    assert row[-(lay.acurp + 2 + iset.encode("c4")[0])] == 74


def test_wrong_tape_shape_is_rejected() -> None:
    import numpy as np

    with pytest.raises(MachineError, match="tape must have shape"):
        SYMMETRY.init_tapes(np.zeros(10, dtype=np.int64), InstructionSet(), Layout(73))
