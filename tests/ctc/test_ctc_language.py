"""LM and lexicon in beam search, token passing with a dictionary, keyword spotting."""

from __future__ import annotations

import numpy as np
import pytest

from rnnai.ctc import (
    CharNgramLM,
    Lexicon,
    WordBigramLM,
    beam_search,
    encode,
    spot_keywords,
    token_passing,
)

ALPHABET = "_abc "  # label 0 is the blank, 4 the space


def rows(*dists: dict[str, float]) -> np.ndarray:
    """Log-probabilities (T, 5) from per-frame {char: prob} dicts; leftover mass on the blank."""
    y = np.full((len(dists), len(ALPHABET)), 1e-4)
    for t, d in enumerate(dists):
        for ch, p in d.items():
            y[t, ALPHABET.index(ch)] = p
        y[t, 0] += 1 - y[t].sum()
    return np.log(y)


def text(labels: list[int]) -> str:
    return "".join(ALPHABET[k] for k in labels)


def test_char_lm_rows_are_distributions():
    lm = CharNgramLM(order=2, k=0.1).fit_text(["ab", "ac"], ALPHABET)
    np.testing.assert_allclose(np.exp(lm.table_).sum(1), 1.0)
    assert lm.log_prob(encode("ab", ALPHABET)) > lm.log_prob(encode("bb", ALPHABET))


def test_char_lm_flips_an_acoustically_ambiguous_label():
    y = rows({"a": 0.95}, {}, {"b": 0.5, "c": 0.45})
    assert text(beam_search(y, beam=8).labels) == "ab"
    lm = CharNgramLM(order=2, k=0.01).fit_text(["ac", "cac", "acca"], ALPHABET)
    assert text(beam_search(y, beam=8, lm=lm, alpha=1.0).labels) == "ac"


def test_insertion_bonus_lengthens_the_output():
    y = rows({"a": 0.45})
    assert beam_search(y, beam=8).labels == []
    assert text(beam_search(y, beam=8, beta=1.0).labels) == "a"


def test_lexicon_keeps_only_dictionary_words():
    y = rows({"a": 0.9}, {"b": 0.6, "c": 0.35}, {}, {" ": 0.9}, {"c": 0.9})
    assert text(beam_search(y, beam=8).labels) == "ab c"
    lex = Lexicon.from_text(["ac", "c"], ALPHABET, separator=" ")
    assert text(beam_search(y, beam=8, lexicon=lex).labels) == "ac c"


def test_lexicon_result_ends_on_a_complete_word():
    y = rows({"a": 0.9}, {"b": 0.9})  # "ab" is a prefix of "abc" but not a word
    lex = Lexicon.from_text(["abc", "a"], ALPHABET)
    assert text(beam_search(y, beam=8, lexicon=lex).labels) == "a"


def test_lexicon_membership():
    lex = Lexicon.from_text(["ab"], ALPHABET)
    assert encode("ab", ALPHABET) in lex and encode("a", ALPHABET) not in lex


def test_token_passing_picks_the_dictionary_word_sequence():
    words = [encode(w, ALPHABET) for w in ["ab", "c", "ba"]]
    y = rows({"a": 0.9}, {}, {"b": 0.8}, {"c": 0.7}, {})
    h = token_passing(y, words)
    assert h.words == [0, 1] and text(h.labels) == "abc"
    assert h.score == pytest.approx(h.log_prob)


def test_token_passing_word_bigram_breaks_a_segmentation_tie():
    words = [encode(w, ALPHABET) for w in ["a", "ab", "bc", "c"]]
    y = rows({"a": 0.9}, {"b": 0.9}, {"c": 0.9})
    lm = WordBigramLM(k=0.1).fit([[0, 2]], num_words=4)
    assert token_passing(y, words, lm=lm).words == [0, 2]
    lm = WordBigramLM(k=0.1).fit([[1, 3]], num_words=4)
    assert token_passing(y, words, lm=lm).words == [1, 3]


def test_token_passing_needs_a_blank_between_words_that_repeat_a_label():
    words = [encode(w, ALPHABET) for w in ["a", "aa"]]
    y = rows({"a": 0.9}, {"a": 0.9})  # one spike run: "a", not "a a"
    assert token_passing(y, words).words == [0]


def test_token_passing_with_separator_spells_spaces_between_words():
    words = [encode(w, ALPHABET) for w in ["ab", "c"]]
    y = rows({"a": 0.9}, {"b": 0.9}, {" ": 0.9}, {"c": 0.9})
    h = token_passing(y, words, separator=ALPHABET.index(" "))
    assert h.words == [0, 1] and text(h.labels) == "ab c"


def test_token_passing_of_all_blank_input_is_the_empty_sequence():
    assert token_passing(rows({}, {}), [encode("a", ALPHABET)]).words == []


def test_keyword_present_is_found_at_its_frames_and_absent_one_scores_low():
    y = rows({}, {"c": 0.9}, {}, {}, {"a": 0.9}, {"b": 0.9}, {}, {})
    present, absent = spot_keywords(y, [encode("ab", ALPHABET), encode("ba", ALPHABET)])
    assert (present.start, present.end) == (4, 5)
    assert present.confidence > 0.7
    assert absent.confidence < 1e-3


def test_keyword_longer_than_the_utterance_cannot_fit():
    (hit,) = spot_keywords(rows({"a": 0.9}), [encode("aa", ALPHABET)])
    assert hit.log_prob == -np.inf and hit.start == hit.end == -1
