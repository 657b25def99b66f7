"""Synthesized speech: espeak-ng synthesis, features, noise, labels, determinism, errors."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest

from rnnai.data import (
    DIGITS,
    WORDS,
    LabelledSequences,
    log_mel,
    make_speech,
    require_espeak,
    speech_alphabet,
    synthesize,
    text_corpus,
)
from rnnai.data import speech as speech_module
from rnnai.data.speech import add_noise, deltas
from rnnai.runtime.errors import RnnaiError

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng")

# Short utterances keep the tests fast: at most 3 digits, quiet edges.
SHORT = dataclasses.replace(DIGITS, max_words=3, edge_silence_s=(0.02, 0.05))


def check_sanity(data: LabelledSequences, F: int) -> None:
    C = len(data.alphabet)
    for i in range(len(data)):
        x, y = data.features[i], data.labels[i]
        assert x.dtype == np.float32 and x.ndim == 2 and x.shape[1] == F
        assert np.isfinite(x).all()
        assert y.dtype == np.int64 and y.min() >= 1 and y.max() < C
        assert data.decode_labels(y) == data.texts[i]
        spans = data.word_spans[i]
        assert [w for w, _, _ in spans] == data.texts[i].split()
        ends = [0] + [e for _, _, e in spans]
        for (_, a, e), prev_end in zip(spans, ends, strict=False):
            assert prev_end <= a < e <= x.shape[0]


# --------------------------------------------------------------------------- signal processing


def test_log_mel_gives_one_frame_per_hop() -> None:
    wave = np.sin(np.arange(16_000) * 0.3).astype(np.float32)
    S = log_mel(wave, 16_000, n_mels=40, win_ms=25, hop_ms=10)
    assert S.shape == (1 + 16_000 // 160, 40) and S.dtype == np.float32
    assert np.isfinite(S).all()
    silent = log_mel(np.zeros(800), 16_000, n_mels=8, win_ms=25, hop_ms=10)
    assert np.isfinite(silent).all()


@pytest.mark.parametrize(
    ("wave", "message"),
    [(np.zeros((10, 2)), "1-D"), (np.array([0.0, np.nan]), "NaN"), (np.zeros(0), "non-empty")],
)
def test_log_mel_rejects_bad_waves(wave: np.ndarray, message: str) -> None:
    with pytest.raises(RnnaiError, match=message):
        log_mel(wave, 16_000, n_mels=40, win_ms=25, hop_ms=10)


def test_log_mel_rejects_a_hop_longer_than_the_window() -> None:
    with pytest.raises(RnnaiError, match="hop_ms"):
        log_mel(np.zeros(100), 16_000, n_mels=40, win_ms=10, hop_ms=25)


def test_deltas_of_a_ramp_equal_its_slope_away_from_the_edges() -> None:
    c = 3.0 * np.arange(10, dtype=np.float64)[:, None] * np.ones((1, 2))
    d = deltas(c)
    np.testing.assert_allclose(d[2:-2], 3.0, rtol=1e-6)
    # With replicated edges: d_0 = (1*(c1-c0) + 2*(c2-c0)) / 10 = (3 + 12) / 10.
    np.testing.assert_allclose(d[0], 1.5, rtol=1e-6)


@pytest.mark.parametrize("color", ["white", "pink"])
def test_add_noise_reaches_the_requested_snr(color: str) -> None:
    x = np.zeros(48_000, dtype=np.float32)
    noisy = add_noise(x, 20.0, color, np.random.default_rng(0), speech_power=0.01)
    snr = 10 * np.log10(0.01 / np.mean(noisy.astype(np.float64) ** 2))
    assert abs(snr - 20.0) < 0.3


def test_pink_noise_has_more_low_than_high_frequency_power() -> None:
    def band_ratio(color: str) -> float:
        n = add_noise(np.zeros(32_768), 0.0, color, np.random.default_rng(1), 1.0)
        P = np.abs(np.fft.rfft(n)) ** 2
        return float(P[10:200].mean() / P[-2000:].mean())

    assert band_ratio("pink") > 100.0
    assert 0.5 < band_ratio("white") < 2.0


def test_add_noise_names_an_unknown_color() -> None:
    with pytest.raises(RnnaiError, match="'brown'"):
        add_noise(np.zeros(10), 10.0, "brown", np.random.default_rng(0), 1.0)


# --------------------------------------------------------------------------- espeak-ng


def test_require_espeak_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(speech_module.shutil, "which", lambda name: None)
    with pytest.raises(RnnaiError, match="sudo apt-get install espeak-ng"):
        require_espeak()


@needs_espeak
def test_synthesize_returns_a_plausible_waveform_at_the_requested_rate() -> None:
    x = synthesize("seven", voice="en-us", speed=175, pitch=50, sample_rate=16_000)
    assert x.dtype == np.float32 and x.ndim == 1
    assert 0.2 < x.size / 16_000 < 2.0
    assert 0.05 < np.abs(x).max() <= 1.0
    slow = synthesize("seven", voice="en-us", speed=90, pitch=50, sample_rate=16_000)
    assert slow.size > 1.3 * x.size


@needs_espeak
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"voice": "xx-nowhere"}, "unknown espeak-ng voice 'xx-nowhere'"),
        ({"voice": "en+nosuchvariant"}, "unknown espeak-ng voice variant 'nosuchvariant'"),
        ({"speed": 20}, "speed must be an int in 80..450"),
        ({"pitch": 120}, "pitch must be an int in 0..99"),
        ({"text": "   "}, "non-empty"),
    ],
)
def test_synthesize_rejects_bad_input_by_name(kwargs: dict, message: str) -> None:
    args = {"text": "one", "voice": "en", "speed": 175, "pitch": 50, "sample_rate": 16_000}
    args.update(kwargs)
    text = args.pop("text")
    with pytest.raises(RnnaiError, match=message):
        synthesize(text, **args)


@needs_espeak
@pytest.mark.parametrize(("speed", "voice"), [(80, "en-us"), (450, "en+f2"), (260, "en+whisper")])
def test_one_espeak_call_is_cut_into_one_piece_per_word(speed: int, voice: str) -> None:
    words = ["six", "eight", "seven", "two"]
    x, rate = speech_module._espeak_wave(
        " ".join(words), voice, speed, 50, speech_module._split_gap(speed)
    )
    pieces = speech_module._cut_words(x, len(words), rate)
    assert pieces is not None and len(pieces) == 4
    alone = [speech_module._espeak_wave(w, voice, speed, 50, 0)[0] for w in words]
    for piece, single in zip(pieces, alone, strict=True):
        a, e = speech_module._voiced_extent(single)
        assert 0.6 < piece.size / (e - a) < 1.6  # about as long as the word said alone


# --------------------------------------------------------------------------- data sets


@needs_espeak
def test_digit_utterances_are_sane_with_word_labels() -> None:
    data = make_speech(SHORT, 3, seed=0, cache=False)
    check_sanity(data, F=2 * SHORT.n_mels)
    assert data.alphabet == speech_alphabet(SHORT) == ("<blank>", *SHORT.vocabulary)
    assert all(len(y) == len(t.split()) for y, t in zip(data.labels, data.texts, strict=True))
    assert data.meta["versions"]["espeak-ng"] and data.meta["seed"] == 0
    assert {"voice", "speed", "pitch", "snr_db", "noise"} <= set(data.meta["items"][0])
    assert all(item["one_call"] for item in data.meta["items"])  # the cut at the pauses worked
    # Per-utterance normalization: every feature has mean 0 and std 1 over the utterance.
    x = data.features[0]
    np.testing.assert_allclose(x.mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(x.std(axis=0), 1.0, atol=1e-2)


@needs_espeak
def test_word_utterances_have_character_labels() -> None:
    cfg = dataclasses.replace(WORDS, max_words=2, deltas=False, normalize=False, snr_db=None)
    data = make_speech(cfg, 2, seed=1, cache=False)
    check_sanity(data, F=cfg.n_mels)
    assert data.alphabet[:2] == ("<blank>", " ") and not data.word_labels
    assert all(len(y) == len(t) for y, t in zip(data.labels, data.texts, strict=True))


@needs_espeak
def test_speech_is_deterministic_and_item_i_does_not_depend_on_n() -> None:
    a = make_speech(SHORT, 3, seed=5, cache=False)
    b = make_speech(SHORT, 2, seed=5, cache=False)
    for i in range(2):
        np.testing.assert_array_equal(a.features[i], b.features[i])
        np.testing.assert_array_equal(a.labels[i], b.labels[i])
    assert a.word_spans[:2] == b.word_spans and a.meta["items"][:2] == b.meta["items"]
    other = make_speech(SHORT, 2, seed=6, cache=False)
    assert other.texts != b.texts or not all(
        np.array_equal(x, y) for x, y in zip(other.features, b.features, strict=True)
    )


@needs_espeak
def test_speech_is_the_same_with_several_worker_threads() -> None:
    one = make_speech(SHORT, 3, seed=7, cache=False)
    three = make_speech(SHORT, 3, seed=7, cache=False, workers=3)
    for x, y in zip(one.features, three.features, strict=True):
        np.testing.assert_array_equal(x, y)
    assert one.texts == three.texts and one.meta["items"] == three.meta["items"]


@needs_espeak
def test_speech_texts_equal_the_text_corpus_of_the_same_seed() -> None:
    assert make_speech(SHORT, 2, seed=9, cache=False).texts == text_corpus(SHORT, 2, seed=9)


@needs_espeak
def test_speech_falls_back_to_one_call_per_word_when_the_cut_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(speech_module, "_cut_words", lambda x, n, rate: None)
    cfg = dataclasses.replace(SHORT, min_words=3)
    data = make_speech(cfg, 1, seed=0, cache=False)
    check_sanity(data, F=2 * cfg.n_mels)
    assert data.meta["items"][0]["one_call"] is False


@needs_espeak
def test_speech_is_read_back_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = make_speech(SHORT, 2, seed=0, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("speech-*.npz"))) == 1

    def refuse(*args: object) -> None:
        raise AssertionError("synthesized although cached")

    monkeypatch.setattr(speech_module, "_make_utterance", refuse)
    back = make_speech(SHORT, 2, seed=0, cache_dir=tmp_path)
    for x, y in zip(made.features, back.features, strict=True):
        np.testing.assert_array_equal(x, y)
    assert back.word_spans == made.word_spans and back.meta == made.meta


@needs_espeak
def test_make_speech_names_an_unknown_voice_in_the_config() -> None:
    cfg = dataclasses.replace(SHORT, voices=("en-us", "en+zz9"))
    with pytest.raises(RnnaiError, match="'zz9'"):
        make_speech(cfg, 1, seed=0, cache=False)


@pytest.mark.parametrize(("n", "seed", "message"), [(0, 0, "n must be >= 1"), (1, -1, "seed")])
def test_make_speech_rejects_bad_counts_and_seeds(n: int, seed: int, message: str) -> None:
    with pytest.raises(RnnaiError, match=message):
        make_speech(SHORT, n, seed, cache=False)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"vocabulary": ()}, "vocabulary is empty"),
        ({"vocabulary": ("One",)}, "'O'"),
        ({"vocabulary": ("one", "one")}, "repeats"),
        ({"min_words": 4, "max_words": 2}, "exceeds max_words"),
        ({"label_unit": "phone"}, "label_unit"),
        ({"voices": ()}, "voices"),
        ({"speed_wpm": (60, 200)}, "speed_wpm"),
        ({"pitch": (50, 20)}, "pitch"),
        ({"snr_db": (10.0,)}, "snr_db"),
        ({"noise_colors": ("blue",)}, "noise_colors"),
        ({"successors": 99}, "successors"),
        ({"hop_ms": 30.0}, "hop_ms"),
    ],
)
def test_speech_config_rejects_bad_fields_by_name(change: dict, message: str) -> None:
    with pytest.raises(RnnaiError, match=message):
        dataclasses.replace(DIGITS, **change)
