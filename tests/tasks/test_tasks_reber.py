"""Reber grammar tasks, checked against a hand-written walk of the grammar."""

from __future__ import annotations

import numpy as np
import pytest

from rnnai.tasks.reber import (
    SYMBOLS,
    ContinualEmbeddedReber,
    ContinualReberConfig,
    ContinualReberStream,
    ReberConfig,
    ReberTask,
    count_consecutive_correct,
    reber_datasets,
    sample_reber_strings,
    strings_to_batch,
)

# Reber's automaton written out independently of the module: state -> {symbol: next state}.
GRAMMAR = {
    0: {"B": 1},
    1: {"T": 2, "P": 3},
    2: {"S": 2, "X": 4},
    3: {"T": 3, "V": 5},
    4: {"X": 3, "S": 6},
    5: {"P": 4, "V": 6},
    6: {"E": "end"},
}


def reber_successors(string: str) -> list[set[str]]:
    """Legal next symbols after each prefix of a plain Reber string (raises if illegal)."""
    state, out = 0, []
    for char in string:
        state = GRAMMAR[state][char]
        out.append(set(GRAMMAR[state]) if state != "end" else set())
    assert state == "end"
    return out


def embedded_successors(string: str) -> list[set[str]]:
    """Legal next symbols after each prefix of B c <Reber> c E."""
    assert string[0] == "B" and string[1] in "TP" and string[-2] == string[1] and string[-1] == "E"
    inner = reber_successors(string[2:-2])
    return [{"T", "P"}, {"B"}, *inner[:-1], {string[1]}, {"E"}, set()]


def as_sets(rows: np.ndarray) -> list[set[str]]:
    return [{SYMBOLS[i] for i in np.flatnonzero(row > 0.5)} for row in rows]


def decode(batch, i: int) -> str:
    return "".join(SYMBOLS[s] for s in batch.info["symbols"][i] if s >= 0)


def test_known_strings_are_accepted_and_bad_ones_rejected():
    batch = strings_to_batch(["BTSSXXTVVE", "BPVVE", "BPVPXVPXVPXVVE"], embedded=False)
    assert batch.lengths.tolist() == [9, 4, 13]
    for bad in ("BTSSPXSE", "BPTVVB", "BTXXVVSE", "BTSSSE", "BTX"):
        with pytest.raises(ValueError, match="not an? Reber string"):
            strings_to_batch([bad], embedded=False)
    with pytest.raises(ValueError, match="embedded Reber"):
        strings_to_batch(["BTBPVVEPE"])  # outer T ... P mismatch


@pytest.mark.parametrize("embedded", [False, True])
def test_targets_are_the_legal_successors_of_a_direct_grammar_walk(embedded):
    task = ReberTask(ReberConfig(embedded=embedded))
    batch = task.sample(np.random.default_rng(0), 200)
    successors = embedded_successors if embedded else reber_successors
    for i in range(200):
        string = decode(batch, i)
        legal = successors(string)
        n = len(string) - 1
        assert batch.lengths[i] == n
        assert as_sets(batch.y[i, :n]) == legal[:n]
        assert "".join(SYMBOLS[k] for k in batch.x[i, :n].argmax(-1)) == string[:-1]
        assert batch.x[i, :n].sum() == n  # one-hot inputs


def test_embedded_strings_choose_the_outer_symbol_evenly():
    strings = sample_reber_strings(np.random.default_rng(3), 4000)
    frac_t = np.mean([s[1] == "T" for s in strings])
    assert abs(frac_t - 0.5) < 0.03
    assert all(s[1] == s[-2] and s[2] == "B" for s in strings)


def test_datasets_have_256_strings_each_and_test_strings_are_unseen():
    train, test = reber_datasets(5)
    assert train.batch_size == 256 and test.batch_size == 256
    train_strings = {decode(train, i) for i in range(256)}
    assert not train_strings & {decode(test, i) for i in range(256)}
    again, _ = reber_datasets(5)
    np.testing.assert_array_equal(train.x, again.x)


def test_threshold_criterion_accepts_targets_and_rejects_one_wrong_unit():
    task = ReberTask()
    batch = task.sample(np.random.default_rng(1), 4)
    out = np.where(batch.y > 0.5, 0.9, 0.1)
    assert task.correct(out, batch).all()
    out[2, batch.lengths[2] - 2, 0] = 0.9 - out[2, batch.lengths[2] - 2, 0] + 0.1  # flip one unit
    assert task.correct(out, batch).tolist() == [True, True, False, True]


def test_most_active_criterion_compares_legal_with_illegal_units():
    batch = ReberTask().sample(np.random.default_rng(1), 4)
    low = np.where(batch.y > 0.5, 0.3, 0.1)  # legal units below 0.5 but the most active
    assert ReberTask(ReberConfig(criterion="most_active")).correct(low, batch).all()
    assert not ReberTask().correct(low, batch).any()


def test_continual_stream_chunks_join_into_valid_embedded_strings():
    stream = ContinualReberStream(np.random.default_rng(4), batch=2)
    chunks = [stream.next(n) for n in (7, 50, 300)]
    whole = ContinualReberStream(np.random.default_rng(4), batch=2).next(357)
    for field in ("x", "y"):
        np.testing.assert_array_equal(
            np.concatenate([getattr(c, field) for c in chunks], 1), getattr(whole, field)
        )
    assert stream.position == 357
    text = "".join(SYMBOLS[s] for s in whole.info["symbols"][0])
    strings = [s + "E" for s in text.split("EB") if s]  # cut after each string's final E
    strings = ["B" + s if not s.startswith("B") else s for s in strings]
    complete = strings[:-1]  # the last string may be cut by the chunk end
    position = 0
    for string in complete:
        legal = embedded_successors(string)
        legal[-1] = {"B"}  # the stream goes on with the next string
        assert as_sets(whole.y[0, position : position + len(string)]) == legal
        position += len(string)


def test_continual_task_samples_fixed_length_streams():
    task = ContinualEmbeddedReber(ContinualReberConfig(length=123))
    batch = task.sample(np.random.default_rng(0), 3)
    assert batch.x.shape == (3, 123, 7) and batch.mask.all()
    with pytest.raises(ValueError, match="length"):
        ContinualReberConfig(length=0)


def test_count_consecutive_correct_stops_at_the_first_error():
    batch = ContinualReberStream(np.random.default_rng(2), batch=3).next(40)
    out = batch.y.copy()
    out[1, 17] = 1.0 - out[1, 17]
    out[2, 0, 0] = 1.0 - out[2, 0, 0]
    assert count_consecutive_correct(out, batch).tolist() == [40, 17, 0]


def test_bad_criterion_is_rejected():
    with pytest.raises(ValueError, match="criterion must be one of"):
        ReberConfig(criterion="argmax")
