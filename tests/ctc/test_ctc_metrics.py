"""rnnai.ctc.metrics: label and word error rates."""

from __future__ import annotations

import pytest

from rnnai.ctc import CTCInputError, edit_distance, label_error_rate, word_error_rate


def test_edit_distance_counts_insertions_deletions_substitutions():
    assert edit_distance([1, 2, 3], [1, 3]) == 1
    assert edit_distance([1, 2, 3], [4, 2, 3, 5]) == 2
    assert edit_distance("kitten", "sitting") == 3


def test_label_error_rate_divides_total_edits_by_total_reference_labels():
    assert label_error_rate([[1, 2, 3], [1]], [[1, 3], [2, 2]]) == pytest.approx(3 / 4)


def test_word_error_rate_on_strings_and_on_labels():
    assert word_error_rate(["the cat sat"], ["the bat sat down"]) == pytest.approx(2 / 3)
    assert word_error_rate([[1, 2, 9, 3]], [[1, 2, 9, 4]], separator=9) == pytest.approx(1 / 2)


def test_error_rate_without_reference_labels_is_an_error():
    with pytest.raises(CTCInputError, match="no labels"):
        label_error_rate([[]], [[1]])


def test_error_counts_give_per_item_edits_and_reference_lengths():
    import numpy as np

    from rnnai.ctc import error_counts

    errors, lengths = error_counts([[1, 2, 3], [1], "ab"], [[1, 3], [2, 2], "ab"])
    assert errors.tolist() == [1, 2, 0] and lengths.tolist() == [3, 1, 2]
    assert errors.dtype == np.int64
    with pytest.raises(CTCInputError, match="same length"):
        error_counts([[1]], [])


def test_error_rate_interval_brackets_the_rate_and_narrows_with_more_items():
    import numpy as np

    from rnnai.ctc import error_rate_interval

    errors, lengths = np.tile([0, 1, 2, 3], 10), np.full(40, 10)  # rate 15%
    lo, hi = error_rate_interval(errors, lengths)
    assert lo < 0.15 < hi
    lo4, hi4 = error_rate_interval(np.tile(errors, 4), np.tile(lengths, 4))
    assert hi4 - lo4 < hi - lo
    assert error_rate_interval(errors, lengths) == (lo, hi)  # a fixed bootstrap generator
    assert error_rate_interval([0, 0], [3, 4]) == (0.0, 0.0)
    with pytest.raises(CTCInputError, match="non-empty"):
        error_rate_interval([], [])
