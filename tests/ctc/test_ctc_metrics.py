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
