"""Synthesized speech for CTC experiments: espeak-ng utterances, log-mel features, CTC labels.

Stands in for the corpora of

    A. Graves, S. Fernandez, F. Gomez and J. Schmidhuber. Connectionist temporal classification:
    labelling unsegmented sequence data with recurrent neural networks. In Proc. ICML 2006,
    pp. 369-376 (TIMIT phoneme recognition with BLSTM-CTC), and
    S. Fernandez, A. Graves and J. Schmidhuber. An application of recurrent neural networks to
    discriminative keyword spotting. In Proc. ICANN 2007, LNCS 4669, pp. 220-229,

which this project cannot ship (TIMIT and the Verbmobil/keyword corpora are licensed). Speech is
made on the machine with the espeak-ng formant synthesizer (Debian package ``espeak-ng``), with
variation over voices (languages/accents and voice variants such as ``en+m3``, ``en+f2``),
speaking rate, pitch, pauses and additive noise. The presets:

* `DIGITS`: connected digit strings, 1-7 words over "zero".."nine" and "oh", word labels
  (TIDIGITS-like; 11 labels plus the blank).
* `WORDS`: 1-5 words from a 52-word vocabulary (`rnnai.data.words.SPOKEN_WORDS`, with keyword
  candidates `rnnai.data.words.KEYWORDS`) drawn from a word-bigram chain, character labels
  (letters plus space), for CTC with language models, dictionary decoding and keyword spotting.

Pipeline for item i of seed s (its own random streams, so item i does not depend on n):

1. Words from ``item_rng(s, "text", i)`` (see `rnnai.data.words`); voice, rate (wpm), pitch,
   pauses, SNR and noise colour from ``item_rng(s, "speech", i)``.
2. ``espeak-ng --stdout`` (no shell; text on stdin) says the words with a long pause between them
   (``-g``, chosen by rate so the pause is >= 0.2 s; 4x longer on a retry); the WAV on stdout is
   parsed with the stdlib ``wave`` module. The words are cut at the pauses (runs of near-silence,
   |x| <= 64/32768, longer than 0.2 s; espeak's longest pause inside an English word is under
   0.09 s at 80 wpm). When neither try gives exactly one piece per word, each word is synthesized
   on its own (``meta["items"][i]["one_call"]`` is then False). With the presets' rates every
   multi-word utterance of 200 was cut from one call; over 80-450 wpm, too (after the retry).
3. The trimmed words are joined with random pauses (``word_gap_s``) and random leading/trailing
   silence (``edge_silence_s``), which gives exact word boundaries: ground truth for keyword
   spotting (presence and position) and for aligned plots. **Deviation (documented choice):**
   natural connected speech has coarticulation across word boundaries; these utterances have
   none, as if spoken with short pauses (each word keeps espeak's sentence-internal prosody).
4. Resampled from espeak's 22,050 Hz to ``sample_rate`` (soxr, librosa's resampler); white or
   pink noise added at a random SNR (the speech power is measured over the word samples only):
   ``sigma_n^2 = P_speech / 10^(SNR/10)``.
5. Features (`log_mel`): log mel power spectrogram, Hann window ``win_ms``, hop ``hop_ms``,
   frame t centred on sample ``t * hop`` (T = 1 + len // hop), optional first-order deltas
   (Graves et al. 2006 used MFCCs plus energy and their first derivatives; we keep log-mel, which
   LSTMs use well, and the delta regression of HTK):

       d_t = sum_{theta=1..Theta} theta (c_{t+theta} - c_{t-theta}) / (2 sum_theta theta^2),
       Theta = 2, edge frames replicated,

   then (``normalize``) per-utterance mean and variance normalization of every feature
   (Graves et al. normalized over the training set; per utterance also removes level
   differences between voices).
6. Word spans: frame t belongs to the word whose sample interval [a, e) holds its centre
   ``t * hop``: first = ceil(a / hop), end = ceil(e / hop) (exclusive).

Results are cached on disk (`rnnai.data._cache`), keyed by config, seed, n, the data-format version
and the espeak-ng, librosa, soxr and numpy versions.

Examples:
    >>> import numpy as np
    >>> from rnnai.data import DIGITS, log_mel, speech_alphabet
    >>> speech_alphabet(DIGITS)[:3]
    ('<blank>', 'zero', 'one')
    >>> t = np.arange(16000) / 16000
    >>> log_mel(np.sin(2 * np.pi * 440 * t), 16000, n_mels=20, win_ms=25, hop_ms=10).shape
    (101, 20)
"""

from __future__ import annotations

import functools
import io
import math
import re
import shutil
import subprocess
import wave
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from rnnai.data._cache import FORMAT_VERSION, cached
from rnnai.data.sequences import BLANK, LabelledSequences
from rnnai.data.words import (
    DIGIT_WORDS,
    SPOKEN_WORDS,
    check_count,
    check_range,
    check_seed,
    check_text_fields,
    item_rng,
    item_words,
)
from rnnai.runtime.errors import RnnaiError

__all__ = [
    "DIGITS",
    "WORDS",
    "SpeechConfig",
    "add_noise",
    "deltas",
    "espeak_version",
    "installed_voices",
    "log_mel",
    "make_speech",
    "require_espeak",
    "speech_alphabet",
    "synthesize",
]

_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_SPEED_LIMITS = (80, 450)  # espeak-ng's -s range (words per minute)
_PITCH_LIMITS = (0, 99)  # espeak-ng's -p range
_ESPEAK_TIMEOUT_S = 60.0
_SILENCE_LEVEL = 64  # |x| <= this (int16) counts as silence: espeak's breathy voices hiss below it
_MIN_CUT_S = 0.2  # a silence this long separates words; espeak pauses inside words are < 0.09 s
_DELTA_THETA = 2


class _Progress(Protocol):
    def advance(self, n: int = 1) -> None: ...


# --------------------------------------------------------------------------- config


def _check_frames(sample_rate: int, win_ms: float, hop_ms: float, n_mels: int, what: str) -> None:
    for name, v in (("win_ms", win_ms), ("hop_ms", hop_ms)):
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v <= 0:
            raise RnnaiError(f"{what}: {name} must be a positive number, got {v!r}")
    if hop_ms > win_ms:
        raise RnnaiError(f"{what}: hop_ms ({hop_ms}) exceeds win_ms ({win_ms})")
    win = round(win_ms * sample_rate / 1000)
    if round(hop_ms * sample_rate / 1000) < 1 or win < 4:
        raise RnnaiError(
            f"{what}: win_ms {win_ms} / hop_ms {hop_ms} give windows of {win} samples at "
            f"{sample_rate} Hz; need at least 4 samples and a hop of 1"
        )
    if isinstance(n_mels, bool) or not isinstance(n_mels, int) or n_mels < 1:
        raise RnnaiError(f"{what}: n_mels must be an int >= 1, got {n_mels!r}")


@dataclass(frozen=True, kw_only=True)
class SpeechConfig:
    """What to say and how: vocabulary, voices, prosody, noise and features.

    The constructor checks every field and raises `RnnaiError` naming the bad one; voice names
    are checked against the installed espeak-ng when data is made (`make_speech`).
    """

    vocabulary: tuple[str, ...]
    """The words (lowercase a-z); for word labels, label k is ``vocabulary[k - 1]``."""
    min_words: int = 1
    """The fewest words per utterance."""
    max_words: int = 7
    """The most words per utterance (the count is uniform in min..max)."""
    label_unit: Literal["word", "char"] = "word"
    """``"word"``: one label per word; ``"char"``: one label per letter plus a space label."""
    successors: int | None = None
    """Word-bigram chain: preferred successors per word (None: i.i.d. uniform words)."""
    bigram_smoothing: float = 0.05
    """Probability of a uniform next word instead of a preferred successor."""
    grammar_seed: int = 0
    """Seed of the bigram table (the "language"); independent of the data seed."""
    voices: tuple[str, ...] = (
        "en-us",
        "en",
        "en-gb-scotland",
        "en-gb-x-rp",
        "en-029",
        "en-us+m1",
        "en-us+m3",
        "en+m2",
        "en+m4",
        "en+m7",
        "en-us+f1",
        "en-us+f2",
        "en+f3",
        "en+f4",
        "en-gb-x-rp+f5",
        "en+klatt",
        "en+croak",
    )
    """espeak-ng voices, ``language[+variant]`` (see ``espeak-ng --voices`` and
    ``espeak-ng --voices=variant``); one is drawn uniformly per utterance."""
    speed_wpm: tuple[int, int] = (130, 220)
    """Speaking rate range in words per minute (espeak-ng ``-s``, 80..450), uniform integers."""
    pitch: tuple[int, int] = (25, 75)
    """Pitch range (espeak-ng ``-p``, 0..99), uniform integers."""
    word_gap_s: tuple[float, float] = (0.02, 0.15)
    """Pause between words in seconds, uniform per gap."""
    edge_silence_s: tuple[float, float] = (0.05, 0.25)
    """Silence before the first and after the last word in seconds, uniform per edge."""
    snr_db: tuple[float, float] | None = (10.0, 30.0)
    """Signal-to-noise ratio range in dB, uniform per utterance; None adds no noise."""
    noise_colors: tuple[str, ...] = ("white", "pink")
    """Noise spectra drawn from per utterance: ``"white"`` (flat) or ``"pink"`` (1/f power)."""
    sample_rate: int = 16_000
    """Sample rate of the waveform the features are computed from, in Hz."""
    n_mels: int = 40
    """Mel bands."""
    win_ms: float = 25.0
    """Analysis window length in milliseconds (Hann)."""
    hop_ms: float = 10.0
    """Frame shift in milliseconds (one feature frame per hop)."""
    deltas: bool = True
    """Append first-order deltas (F = 2 n_mels) or not (F = n_mels)."""
    normalize: bool = True
    """Normalize every feature to zero mean and unit variance over each utterance."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "vocabulary", tuple(self.vocabulary))
        object.__setattr__(self, "voices", tuple(self.voices))
        object.__setattr__(self, "noise_colors", tuple(self.noise_colors))
        check_text_fields(self, _LETTERS, "SpeechConfig")
        if self.label_unit not in ("word", "char"):
            raise RnnaiError(
                f"SpeechConfig.label_unit must be 'word' or 'char', got {self.label_unit!r}"
            )
        if not self.voices or not all(isinstance(v, str) and v for v in self.voices):
            raise RnnaiError(f"SpeechConfig.voices must be non-empty names, got {self.voices!r}")
        check_range(self.speed_wpm, "SpeechConfig.speed_wpm", *_SPEED_LIMITS, integer=True)
        check_range(self.pitch, "SpeechConfig.pitch", *_PITCH_LIMITS, integer=True)
        check_range(self.word_gap_s, "SpeechConfig.word_gap_s", 0.0, 10.0)
        check_range(self.edge_silence_s, "SpeechConfig.edge_silence_s", 0.0, 10.0)
        if self.snr_db is not None:
            check_range(self.snr_db, "SpeechConfig.snr_db", -30.0, 120.0)
        if not self.noise_colors or any(c not in ("white", "pink") for c in self.noise_colors):
            raise RnnaiError(
                "SpeechConfig.noise_colors must be a non-empty tuple of 'white'/'pink', got "
                f"{self.noise_colors!r}"
            )
        for name in ("sample_rate", "n_mels"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise RnnaiError(f"SpeechConfig.{name} must be an int >= 1, got {v!r}")
        if self.sample_rate < 4000:
            raise RnnaiError(f"SpeechConfig.sample_rate must be >= 4000 Hz, got {self.sample_rate}")
        _check_frames(self.sample_rate, self.win_ms, self.hop_ms, self.n_mels, "SpeechConfig")


DIGITS = SpeechConfig(vocabulary=DIGIT_WORDS, min_words=1, max_words=7, label_unit="word")
"""Connected digit strings (TIDIGITS-like): 1-7 of zero..nine/oh, word labels, 17 voices."""

WORDS = SpeechConfig(
    vocabulary=SPOKEN_WORDS,
    min_words=1,
    max_words=5,
    label_unit="char",
    successors=6,
)
"""Word sequences from `SPOKEN_WORDS` (a bigram chain, 6 preferred successors), char labels."""


def speech_alphabet(config: SpeechConfig) -> tuple[str, ...]:
    """Return the label alphabet of a config.

    Args:
        config: The config.

    Returns:
        ``("<blank>", *vocabulary)`` for word labels; ``("<blank>", " ", *letters)`` for
        character labels, with the letters that occur in the vocabulary, sorted.
    """
    if config.label_unit == "word":
        return (BLANK, *config.vocabulary)
    return (BLANK, " ", *sorted({c for w in config.vocabulary for c in w}))


# --------------------------------------------------------------------------- espeak-ng


def require_espeak() -> str:
    """Return the path of the ``espeak-ng`` program.

    Returns:
        The executable's path.

    Raises:
        RnnaiError: If espeak-ng is not on the PATH (the message says how to install it).
    """
    path = shutil.which("espeak-ng")
    if path is None:
        raise RnnaiError(
            "espeak-ng is not installed (needed to synthesize speech); "
            "install it: sudo apt-get install espeak-ng"
        )
    return path


def _run_espeak(args: list[str], stdin: bytes | None = None) -> bytes:
    exe = require_espeak()
    try:
        done = subprocess.run(
            [exe, *args],
            input=stdin,
            capture_output=True,
            timeout=_ESPEAK_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as e:
        raise RnnaiError(
            f"espeak-ng {' '.join(args)} did not finish in {_ESPEAK_TIMEOUT_S} s"
        ) from e
    if done.returncode != 0:
        err = done.stderr.decode("utf-8", "replace").strip() or f"exit code {done.returncode}"
        raise RnnaiError(f"espeak-ng {' '.join(args)} failed: {err}")
    return done.stdout


@functools.lru_cache(maxsize=4)
def _espeak_version(exe: str) -> str:
    out = _run_espeak(["--version"]).decode("utf-8", "replace")
    m = re.search(r"text-to-speech:\s*(\S+)", out)
    return m.group(1) if m else out.strip()


def espeak_version() -> str:
    """Return the installed espeak-ng version (e.g. ``"1.51"``).

    Raises:
        RnnaiError: If espeak-ng is missing.
    """
    return _espeak_version(require_espeak())


@functools.lru_cache(maxsize=4)
def _installed_voices(exe: str) -> tuple[frozenset[str], frozenset[str]]:
    languages: set[str] = set()
    for line in _run_espeak(["--voices"]).decode("utf-8", "replace").splitlines()[1:]:
        cols = line.split()
        if len(cols) < 5:
            continue
        # Pty Language Age/Gender VoiceName File [Other languages]
        lang, name, file = cols[1], cols[3], cols[4]
        if file.startswith("mb/") and shutil.which("mbrola") is None:
            continue  # MBROLA voices need the separate mbrola program
        languages.update(
            {lang.lower(), name.lower(), file.lower(), file.rsplit("/", 1)[-1].lower()}
        )
    variants: set[str] = set()
    for line in _run_espeak(["--voices=variant"]).decode("utf-8", "replace").splitlines()[1:]:
        cols = line.split()
        if len(cols) < 5:
            continue
        variants.add(cols[3].lower())
        if cols[4].startswith("!v/"):
            variants.add(cols[4][3:].lower())
    return frozenset(languages), frozenset(variants)


def installed_voices() -> tuple[frozenset[str], frozenset[str]]:
    """Return the voice names and variant names the installed espeak-ng knows (lowercase).

    Returns:
        ``(voices, variants)``: languages, voice names and voice files from
        ``espeak-ng --voices`` (MBROLA voices only if ``mbrola`` is installed), and variant
        names and files from ``espeak-ng --voices=variant``.

    Raises:
        RnnaiError: If espeak-ng is missing.
    """
    return _installed_voices(require_espeak())


def _check_voice(voice: str) -> str:
    if not isinstance(voice, str) or not voice.strip():
        raise RnnaiError(f"voice must be a non-empty string, got {voice!r}")
    voices, variants = installed_voices()
    base, _, variant = voice.partition("+")
    if base.lower() not in voices:
        close = sorted(v for v in voices if v.startswith(base.lower()[:2]))[:12]
        raise RnnaiError(
            f"unknown espeak-ng voice {base!r} in {voice!r} (see `espeak-ng --voices`); "
            f"similar installed voices: {', '.join(close) or 'none'}"
        )
    if variant and variant.lower() not in variants:
        raise RnnaiError(
            f"unknown espeak-ng voice variant {variant!r} in {voice!r} "
            f"(see `espeak-ng --voices=variant`; e.g. m1..m8, f1..f5, klatt, croak, whisper)"
        )
    return voice


def _check_prosody(speed: int, pitch: int) -> None:
    for name, v, (lo, hi) in (("speed", speed, _SPEED_LIMITS), ("pitch", pitch, _PITCH_LIMITS)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or not lo <= v <= hi:
            raise RnnaiError(f"{name} must be an int in {lo}..{hi}, got {v!r}")


def _espeak_wave(text: str, voice: str, speed: int, pitch: int, gap: int) -> tuple[np.ndarray, int]:
    """Say ``text``; return the int16 samples (as int32) and espeak's sample rate."""
    args = ["--stdout", "--stdin", "-v", voice, "-s", str(int(speed)), "-p", str(int(pitch))]
    if gap:
        args += ["-g", str(gap)]
    data = _run_espeak(args, stdin=text.encode("utf-8"))
    try:
        with wave.open(io.BytesIO(data), "rb") as w:
            if w.getnchannels() != 1 or w.getsampwidth() != 2:
                raise RnnaiError(
                    f"espeak-ng wrote {w.getnchannels()} channel(s) of {8 * w.getsampwidth()} "
                    "bits; expected mono 16-bit"
                )
            rate = w.getframerate()
            # espeak-ng streams to stdout, so its header's frame count is a placeholder: read all.
            frames = w.readframes(w.getnframes())
    except (wave.Error, EOFError) as e:
        raise RnnaiError(f"espeak-ng did not write a WAV file for {text!r}: {e}") from e
    x = np.frombuffer(frames[: len(frames) // 2 * 2], dtype="<i2").astype(np.int32)
    return x, rate


def synthesize(text: str, *, voice: str, speed: int, pitch: int, sample_rate: int) -> np.ndarray:
    """Say ``text`` with espeak-ng and return the waveform.

    Args:
        text: What to say (non-empty; passed on stdin, never through a shell).
        voice: An espeak-ng voice, ``language[+variant]`` (e.g. ``"en-us"``, ``"en+f2"``).
        speed: Words per minute, 80..450.
        pitch: 0..99.
        sample_rate: The output sample rate in Hz (resampled from espeak's 22,050 Hz with
            soxr, librosa's resampler, when different).

    Returns:
        (N,) float32 samples in [-1, 1].

    Raises:
        RnnaiError: If espeak-ng is missing, the voice unknown, speed/pitch out of range, the
            text empty or the sample rate not a positive int.
    """
    if not isinstance(text, str) or not text.strip():
        raise RnnaiError(f"text must be a non-empty string, got {text!r}")
    _check_voice(voice)
    _check_prosody(speed, pitch)
    _check_rate(sample_rate)
    x, rate = _espeak_wave(text, voice, speed, pitch, 0)
    return _resample(x.astype(np.float32) / 32768.0, rate, sample_rate)


def _check_rate(sample_rate: int) -> None:
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, int) or sample_rate < 1:
        raise RnnaiError(f"sample_rate must be an int >= 1, got {sample_rate!r}")


def _resample(x: np.ndarray, rate: int, sample_rate: int) -> np.ndarray:
    if rate == sample_rate:
        return x.astype(np.float32)
    # soxr (librosa's default resampler) called directly: librosa.resample's first call spends
    # about 10 s on lazy imports.
    import soxr

    y = soxr.resample(x.astype(np.float32), rate, sample_rate, quality="HQ")
    return np.asarray(y, dtype=np.float32)


def _voiced_extent(x: np.ndarray) -> tuple[int, int]:
    loud = np.flatnonzero(np.abs(x) > _SILENCE_LEVEL)
    if loud.size == 0:
        return 0, 0
    return int(loud[0]), int(loud[-1]) + 1


def _split_gap(speed: int) -> int:
    # espeak-ng's -g pause (10 ms units at 175 wpm) shrinks faster than 1/rate above ~200 wpm
    # and not monotonically above 320 wpm; these values keep it >= 0.28 s up to 320 wpm and
    # >= 0.2 s above (measured with espeak-ng 1.51); `_say_words` retries with 4x if needed.
    return 50 if speed <= 200 else 100 if speed <= 260 else 200 if speed <= 320 else 400


def _cut_words(x: np.ndarray, n_words: int, rate: int) -> list[np.ndarray] | None:
    """Cut a word-by-word utterance at its long pauses; None unless there are n_words pieces."""
    a, e = _voiced_extent(x)
    x = x[a:e]
    quiet = np.abs(x) <= _SILENCE_LEVEL
    edges = np.diff(np.concatenate([[0], quiet.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    long = (ends - starts) >= _MIN_CUT_S * rate
    starts, ends = starts[long], ends[long]
    if len(starts) != n_words - 1:
        return None
    bounds = [0, *[b for pair in zip(starts, ends, strict=True) for b in pair], len(x)]
    pieces = [x[bounds[2 * k] : bounds[2 * k + 1]] for k in range(n_words)]
    trimmed = []
    for p in pieces:
        pa, pe = _voiced_extent(p)
        if pe <= pa:
            return None
        trimmed.append(p[pa:pe])
    return trimmed


def _say_words(
    words: list[str], voice: str, speed: int, pitch: int
) -> tuple[list[np.ndarray], int, bool]:
    """Each word's trimmed int samples, espeak's rate, and whether one call (and a cut) did it."""
    if len(words) > 1:
        for gap in (_split_gap(speed), 4 * _split_gap(speed)):  # a longer pause if the cut fails
            x, rate = _espeak_wave(" ".join(words), voice, speed, pitch, gap)
            cut = _cut_words(x, len(words), rate)
            if cut is not None:
                return cut, rate, True
    pieces = []
    for w in words:
        y, rate = _espeak_wave(w, voice, speed, pitch, 0)
        a, e = _voiced_extent(y)
        if e <= a:
            raise RnnaiError(f"espeak-ng voice {voice!r} produced silence for {w!r}")
        pieces.append(y[a:e])
    return pieces, rate, len(words) == 1


# --------------------------------------------------------------------------- signal processing


def log_mel(
    wave: np.ndarray, sample_rate: int, *, n_mels: int, win_ms: float, hop_ms: float
) -> np.ndarray:
    """Log mel power spectrogram, one frame per hop (librosa).

    ``S = mel(|STFT(x)|^2)`` with a Hann window of ``win_ms`` (FFT size the next power of two),
    frames centred on samples ``t * hop`` (zero padding at the ends), mel bands from 0 Hz to
    ``sample_rate / 2``; the result is ``log(max(S, 1e-8 max S))`` (an 80 dB floor below the
    loudest bin, so digital silence stays finite).

    Args:
        wave: (N,) finite samples, N >= 1.
        sample_rate: Its sample rate in Hz.
        n_mels: Mel bands.
        win_ms: Window length in milliseconds.
        hop_ms: Frame shift in milliseconds.

    Returns:
        (T, n_mels) float32 with T = 1 + N // hop.

    Raises:
        RnnaiError: If ``wave`` is not a non-empty finite 1-D array or a parameter is invalid.
    """
    x = np.asarray(wave)
    if x.ndim != 1 or x.size == 0 or not np.issubdtype(x.dtype, np.number):
        raise RnnaiError(
            f"log_mel: wave must be a non-empty 1-D numeric array, got {x.dtype} of shape {x.shape}"
        )
    if not np.isfinite(x).all():
        raise RnnaiError("log_mel: wave holds NaN or infinity")
    _check_rate(sample_rate)
    _check_frames(sample_rate, win_ms, hop_ms, n_mels, "log_mel")
    import librosa  # heavy import, deferred

    win = round(win_ms * sample_rate / 1000)
    hop = round(hop_ms * sample_rate / 1000)
    n_fft = 1 << (win - 1).bit_length()
    S = librosa.feature.melspectrogram(
        y=x.astype(np.float32),
        sr=sample_rate,
        n_fft=n_fft,
        hop_length=hop,
        win_length=win,
        window="hann",
        center=True,
        pad_mode="constant",
        power=2.0,
        n_mels=n_mels,
        fmin=0.0,
        fmax=sample_rate / 2,
    )  # (n_mels, T)
    floor = max(float(S.max()), 1e-12) * 1e-8
    return np.log(np.maximum(S, floor)).T.astype(np.float32)  # (T, n_mels)


def deltas(c: np.ndarray, theta: int = _DELTA_THETA) -> np.ndarray:
    """First-order delta features by the HTK regression formula (see the module docstring).

    Args:
        c: (T, F) features.
        theta: Theta, the half width of the regression window.

    Returns:
        (T, F) float32 deltas; edge frames are replicated beyond the ends.
    """
    c = np.asarray(c, dtype=np.float64)
    T = c.shape[0]
    padded = np.concatenate([np.repeat(c[:1], theta, 0), c, np.repeat(c[-1:], theta, 0)])
    d = np.zeros_like(c)
    for th in range(1, theta + 1):
        d += th * (padded[theta + th : theta + th + T] - padded[theta - th : theta - th + T])
    return (d / (2 * sum(th * th for th in range(1, theta + 1)))).astype(np.float32)


def add_noise(
    x: np.ndarray, snr_db: float, color: str, rng: np.random.Generator, speech_power: float
) -> np.ndarray:
    """Add white or pink Gaussian noise at a given SNR.

    Args:
        x: (N,) waveform.
        snr_db: The SNR in dB: ``sigma_n^2 = speech_power / 10^(snr_db / 10)``.
        color: ``"white"`` (flat spectrum) or ``"pink"`` (power ~ 1/f, by shaping white noise's
            spectrum with 1/sqrt(f), then rescaling to unit variance).
        rng: The generator.
        speech_power: P_speech, the mean square of the speech samples.

    Returns:
        (N,) float32 noisy waveform.

    Raises:
        RnnaiError: If ``color`` is unknown.
    """
    if color not in ("white", "pink"):
        raise RnnaiError(f"noise color must be 'white' or 'pink', got {color!r}")
    N = x.shape[0]
    if color == "pink":
        import scipy.fft

        M = scipy.fft.next_fast_len(N, real=True)  # an FFT-friendly length; cut back to N below
        spectrum = scipy.fft.rfft(rng.standard_normal(M))
        f = np.arange(spectrum.shape[0], dtype=np.float64)
        f[0] = 1.0  # no DC boost
        n = scipy.fft.irfft(spectrum / np.sqrt(f), n=M)[:N]  # power ~ 1/f
        n /= max(float(n.std()), 1e-12)
    else:
        n = rng.standard_normal(N)
    sigma = math.sqrt(speech_power / 10.0 ** (snr_db / 10.0))
    return (x + sigma * n).astype(np.float32)


# --------------------------------------------------------------------------- data set


@dataclass
class _Utterance:
    """One made utterance: features (T, F), its words, their frame spans, its random draws."""

    features: np.ndarray
    words: list[str]
    spans: list[tuple[str, int, int]]
    info: dict[str, Any] = field(default_factory=dict)


def _frame_span(word: str, a: int, e: int, hop: int, T: int) -> tuple[str, int, int]:
    """Frames whose centres t * hop lie in the samples [a, e): ceil(a / hop) .. ceil(e / hop)."""
    first = min(-(-a // hop), T - 1)
    end = min(max(-(-e // hop), first + 1), T)
    return (word, first, end)


def _make_utterance(config: SpeechConfig, seed: int, i: int) -> _Utterance:
    words = item_words(config, seed, i)
    rng = item_rng(seed, "speech", i)
    voice = config.voices[int(rng.integers(len(config.voices)))]
    speed = int(rng.integers(config.speed_wpm[0], config.speed_wpm[1] + 1))
    pitch = int(rng.integers(config.pitch[0], config.pitch[1] + 1))
    gaps = rng.uniform(*config.word_gap_s, size=len(words) - 1)
    edges = rng.uniform(*config.edge_silence_s, size=2)
    snr = float(rng.uniform(*config.snr_db)) if config.snr_db is not None else None
    color = config.noise_colors[int(rng.integers(len(config.noise_colors)))]

    pieces, rate, one_call = _say_words(words, voice, speed, pitch)
    # Assemble at espeak's rate: silence, word, gap, word, ..., silence; word k covers [a_k, e_k).
    parts: list[np.ndarray] = [np.zeros(round(edges[0] * rate), dtype=np.int32)]
    bounds: list[tuple[int, int]] = []
    pos = parts[0].size
    for k, p in enumerate(pieces):
        if k:
            gap = np.zeros(round(gaps[k - 1] * rate), dtype=np.int32)
            parts.append(gap)
            pos += gap.size
        bounds.append((pos, pos + p.size))
        parts.append(p)
        pos += p.size
    parts.append(np.zeros(round(edges[1] * rate), dtype=np.int32))
    x = _resample(np.concatenate(parts).astype(np.float32) / 32768.0, rate, config.sample_rate)
    scale = config.sample_rate / rate
    bounds = [(round(a * scale), min(round(e * scale), x.size)) for a, e in bounds]
    if snr is not None:
        power = float(np.mean(np.concatenate([x[a:e] for a, e in bounds]) ** 2))
        x = add_noise(x, snr, color, rng, power)

    feats = log_mel(
        x, config.sample_rate, n_mels=config.n_mels, win_ms=config.win_ms, hop_ms=config.hop_ms
    )  # (T, n_mels)
    if config.deltas:
        feats = np.concatenate([feats, deltas(feats)], axis=1)  # (T, 2 n_mels)
    if config.normalize:
        mu = feats.mean(axis=0, keepdims=True)
        sd = feats.std(axis=0, keepdims=True)
        feats = ((feats - mu) / np.maximum(sd, 1e-5)).astype(np.float32)
    T = feats.shape[0]
    hop = round(config.hop_ms * config.sample_rate / 1000)
    spans = [_frame_span(w, a, e, hop, T) for w, (a, e) in zip(words, bounds, strict=True)]
    info = {
        "voice": voice,
        "speed": speed,
        "pitch": pitch,
        "snr_db": snr,
        "noise": color,
        "one_call": one_call,
    }
    return _Utterance(np.ascontiguousarray(feats, dtype=np.float32), words, spans, info)


def make_speech(
    config: SpeechConfig,
    n: int,
    seed: int,
    *,
    cache_dir: str | Path | None = None,
    cache: bool = True,
    progress: _Progress | None = None,
    workers: int = 1,
) -> LabelledSequences:
    """Make (or load from the cache) n synthesized utterances with CTC labels.

    Args:
        config: What to say and how (`DIGITS`, `WORDS` or your own).
        n: How many utterances (>= 1).
        seed: The data seed (>= 0); item i depends only on (config, seed, i).
        cache_dir: The cache folder (None: `rnnai.data.default_cache_dir`).
        cache: If False, neither read nor write the cache.
        progress: An object with ``advance(n=1)``, advanced once per utterance made (e.g. the one
            ``ctx.progress(...)`` yields); not advanced when the data come from the cache.
        workers: Threads that make utterances at once (each runs espeak-ng as a subprocess; the
            result is the same for any number).

    Returns:
        The data set: features (T, F) float32 (F = n_mels, doubled with deltas), labels over
        `speech_alphabet`, texts, exact word spans in frames, and ``meta`` with the config,
        seed, n, format version and tool versions; ``meta["items"]`` lists each utterance's
        voice, speed, pitch, SNR, noise colour and ``one_call`` (False where the words had to be
        synthesized one by one because the cut at the pauses failed).

    Raises:
        RnnaiError: If espeak-ng is missing, a voice is unknown, n < 1 or seed < 0.
    """
    if not isinstance(config, SpeechConfig):
        raise RnnaiError(f"config must be a SpeechConfig, got {type(config).__name__}")
    n = check_count(n)
    seed = check_seed(seed)
    workers = check_count(workers, "workers")
    require_espeak()
    for v in config.voices:
        _check_voice(v)
    import librosa
    import soxr

    payload = {
        "config": asdict(config),
        "seed": seed,
        "n": n,
        "format": FORMAT_VERSION,
        "versions": {
            "espeak-ng": espeak_version(),
            "librosa": librosa.__version__,  # type: ignore[attr-defined]  # lazy-loader module
            "soxr": soxr.__version__,
            "numpy": np.__version__,
        },
    }
    alphabet = speech_alphabet(config)
    index = {s: k for k, s in enumerate(alphabet)}

    def build(meta: dict[str, Any]) -> LabelledSequences:
        features, labels, texts, spans, infos = [], [], [], [], []
        with ThreadPoolExecutor(max_workers=workers) as pool:
            made = (
                map(_make_utterance, [config] * n, [seed] * n, range(n))
                if workers == 1
                else pool.map(_make_utterance, [config] * n, [seed] * n, range(n))
            )
            # Both maps yield in item order, so the result does not depend on ``workers``.
            for u in made:
                text = " ".join(u.words)
                units = u.words if config.label_unit == "word" else list(text)
                features.append(u.features)
                labels.append(np.array([index[s] for s in units], dtype=np.int64))
                texts.append(text)
                spans.append(u.spans)
                infos.append(u.info)
                if progress is not None:
                    progress.advance(1)
        return LabelledSequences(
            features=features,
            labels=labels,
            texts=texts,
            alphabet=alphabet,
            word_spans=spans,
            meta={**meta, "items": infos},
        )

    return cached("speech", payload, cache_dir, build, use_cache=cache)
