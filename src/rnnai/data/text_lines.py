"""Rendered text lines for CTC handwriting-style experiments (offline recognition of lines).

Stands in for the IAM offline handwriting database used by

    A. Graves, M. Liwicki, S. Fernandez, R. Bertolami, H. Bunke and J. Schmidhuber. A novel
    connectionist system for unconstrained handwriting recognition. IEEE Transactions on Pattern
    Analysis and Machine Intelligence 31(5):855-868, 2009,

which this project cannot ship (IAM is licensed). Lines are rendered on the machine with the
DejaVu TrueType fonts (Debian package ``fonts-dejavu-core``/``fonts-dejavu-extra``) and then
distorted so that no two renderings of a word look the same. Text comes from a word-bigram Markov
chain over a 421-word lexicon (`rnnai.data.words`), so the dictionary and bigram word grammar
that Graves et al. decode with (token passing) have something to help with.

Rendering of one line (all parameters drawn per line from ``item_rng(seed, "text_lines", i)``,
text from ``item_rng(seed, "text", i)``):

1. Draw the text with a random font and size (px) on a canvas with margins; ink = 1.
2. Warp it in one resampling step (``scipy.ndimage.map_coordinates``, bilinear): a shear about
   the baseline y_b (slant s; positive leans right) plus an elastic distortion (Simard, Steinkraus
   and Platt, ICDAR 2003): two fields of uniform noise in [-1, 1], smoothed by a Gaussian of
   ``elastic_sigma`` font sizes, scaled to a largest displacement of alpha font sizes::

       I'(y, x) = I(y + alpha dy(y, x),  x + s (y - y_b) + alpha dx(y, x))

3. Crop vertically to the font's line box (ascent + descent, the same for every text in a font,
   so the baseline stays put) and horizontally to the ink, plus ``pad`` columns.
4. Resize to ``height`` rows keeping the aspect ratio (Pillow, antialiased bilinear), blur
   (Gaussian, sigma in output pixels), scale by an ink intensity, add Gaussian pixel noise and
   clip to [0, 1].

The features of a line are its image columns, left to right: (W, height), like the sliding window
of one column that offline handwriting recognizers read. Word spans (first column, end column)
come from the font's advance widths at the baseline, mapped through the crop and resize; they are
approximate by up to ``|s| * height / 2`` columns at the top and bottom of slanted letters.

Deviation from the paper: machine print with synthetic distortions is far easier and more
regular than handwriting; the paper's features (nine geometric features per column of a
normalized handwriting image) are replaced by the raw pixel columns.

Examples:
    >>> import numpy as np
    >>> from rnnai.data import TEXT_LINES, render_line
    >>> image = render_line("stop", TEXT_LINES, np.random.default_rng(0))  # (height, W)
    >>> image.shape[0] == TEXT_LINES.height and bool(0.0 <= image.min() <= image.max() <= 1.0)
    True
"""

from __future__ import annotations

import functools
import hashlib
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from rnnai.data._cache import FORMAT_VERSION, cached
from rnnai.data.sequences import BLANK, LabelledSequences
from rnnai.data.words import (
    TEXT_WORDS,
    check_count,
    check_range,
    check_seed,
    check_text_fields,
    item_rng,
    item_words,
)
from rnnai.runtime.errors import RnnaiError

__all__ = [
    "DEJAVU_DIR",
    "TEXT_LINES",
    "TextLineConfig",
    "installed_fonts",
    "make_text_lines",
    "render_line",
    "resolve_font",
    "text_lines_alphabet",
]

DEJAVU_DIR = "/usr/share/fonts/truetype/dejavu"
"""Where Debian installs the DejaVu fonts."""

_INK_THRESHOLD = 0.1  # a column holds ink when its brightest pixel exceeds this (before noise)


class _Progress(Protocol):
    def advance(self, n: int = 1) -> None: ...


@dataclass(frozen=True, kw_only=True)
class TextLineConfig:
    """What to write and how to distort it.

    The constructor checks every field and raises `RnnaiError` naming the bad one; font names
    are resolved against ``font_dir`` when lines are rendered.
    """

    vocabulary: tuple[str, ...] = TEXT_WORDS
    """The lexicon; every character must be in ``charset``."""
    min_words: int = 1
    """The fewest words per line."""
    max_words: int = 4
    """The most words per line (the count is uniform in min..max)."""
    successors: int | None = 4
    """Word-bigram chain: preferred successors per word (None: i.i.d. uniform words)."""
    bigram_smoothing: float = 0.05
    """Probability of a uniform next word instead of a preferred successor."""
    grammar_seed: int = 0
    """Seed of the bigram table (the "language"); independent of the data seed."""
    charset: str = " abcdefghijklmnopqrstuvwxyz"
    """The characters; label k is ``charset[k - 1]`` (so the space is label 1 by default)."""
    label_unit: Literal["char"] = "char"
    """Text lines are labelled by characters (spaces included)."""
    fonts: tuple[str, ...] = (
        "DejaVuSans",
        "DejaVuSans-Oblique",
        "DejaVuSans-Bold",
        "DejaVuSansCondensed",
        "DejaVuSerif",
        "DejaVuSerif-Italic",
        "DejaVuSerifCondensed",
        "DejaVuSansMono",
    )
    """Font files in ``font_dir`` by stem (``DejaVuSerif-Italic``), file name or absolute path;
    one is drawn uniformly per line."""
    font_dir: str = DEJAVU_DIR
    """The folder the font names are looked up in."""
    height: int = 32
    """Rows of the output image (the feature size F)."""
    font_size: tuple[int, int] = (24, 48)
    """Rendering size range in pixels (before the resize to ``height``), uniform integers."""
    slant: tuple[float, float] = (-0.3, 0.3)
    """Shear range s (horizontal shift per row above the baseline); positive leans right."""
    blur_sigma: tuple[float, float] = (0.0, 0.8)
    """Gaussian blur range, sigma in output pixels."""
    noise_std: tuple[float, float] = (0.0, 0.08)
    """Range of the standard deviation of the additive Gaussian pixel noise."""
    ink: tuple[float, float] = (0.7, 1.0)
    """Ink intensity range (the background is 0)."""
    elastic_alpha: tuple[float, float] = (0.0, 0.05)
    """Range of the largest elastic displacement, in font sizes."""
    elastic_sigma: float = 0.3
    """Smoothness of the elastic field: the Gaussian's sigma in font sizes."""
    pad: int = 2
    """Blank columns kept on each side of the ink, in output pixels."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "vocabulary", tuple(self.vocabulary))
        object.__setattr__(self, "fonts", tuple(self.fonts))
        if not isinstance(self.charset, str) or not self.charset:
            raise RnnaiError(
                f"TextLineConfig.charset must be a non-empty str, got {self.charset!r}"
            )
        if len(set(self.charset)) != len(self.charset):
            raise RnnaiError(f"TextLineConfig.charset repeats characters: {self.charset!r}")
        if " " not in self.charset:
            raise RnnaiError(
                "TextLineConfig.charset must contain the space (words are joined by it)"
            )
        bad = [c for c in self.charset if c != " " and (c.isspace() or not c.isprintable())]
        if bad:
            raise RnnaiError(f"TextLineConfig.charset holds non-printable characters {bad!r}")
        check_text_fields(self, self.charset, "TextLineConfig")
        if self.label_unit != "char":
            raise RnnaiError(f"TextLineConfig.label_unit must be 'char', got {self.label_unit!r}")
        if not self.fonts or not all(isinstance(f, str) and f for f in self.fonts):
            raise RnnaiError(f"TextLineConfig.fonts must be non-empty names, got {self.fonts!r}")
        for name, lo in (("height", 8), ("pad", 0)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < lo:
                raise RnnaiError(f"TextLineConfig.{name} must be an int >= {lo}, got {v!r}")
        check_range(self.font_size, "TextLineConfig.font_size", 6, 400, integer=True)
        check_range(self.slant, "TextLineConfig.slant", -1.0, 1.0)
        check_range(self.blur_sigma, "TextLineConfig.blur_sigma", 0.0, 10.0)
        check_range(self.noise_std, "TextLineConfig.noise_std", 0.0, 1.0)
        check_range(self.ink, "TextLineConfig.ink", 0.05, 1.0)
        check_range(self.elastic_alpha, "TextLineConfig.elastic_alpha", 0.0, 1.0)
        s = self.elastic_sigma
        if isinstance(s, bool) or not isinstance(s, int | float) or not 0 < s <= 10:
            raise RnnaiError(f"TextLineConfig.elastic_sigma must be in (0, 10], got {s!r}")


TEXT_LINES = TextLineConfig()
"""1-4 words per line from the 421-word lexicon, 8 DejaVu fonts, height 32, mild distortions."""


def text_lines_alphabet(config: TextLineConfig) -> tuple[str, ...]:
    """Return ``("<blank>", *charset)``, the label alphabet of a config."""
    return (BLANK, *config.charset)


# --------------------------------------------------------------------------- fonts


def installed_fonts(font_dir: str | Path = DEJAVU_DIR) -> tuple[str, ...]:
    """Return the stems of the TrueType fonts in a folder, sorted.

    Args:
        font_dir: The folder.

    Returns:
        E.g. ``("DejaVuSans", "DejaVuSans-Bold", ...)``; empty when the folder does not exist.
    """
    folder = Path(font_dir)
    if not folder.is_dir():
        return ()
    return tuple(sorted(p.stem for p in folder.iterdir() if p.suffix.lower() in (".ttf", ".otf")))


def resolve_font(name: str, font_dir: str | Path = DEJAVU_DIR) -> Path:
    """Find a font file by stem, file name or path.

    Args:
        name: ``"DejaVuSerif-Italic"``, ``"DejaVuSerif-Italic.ttf"`` or an existing path.
        font_dir: The folder stems and file names are looked up in (case-insensitively).

    Returns:
        The font file.

    Raises:
        RnnaiError: If no such font exists; the message lists the installed fonts, or says how
            to install DejaVu when the folder holds none.
    """
    p = Path(name)
    if p.is_absolute() and p.is_file():
        return p
    folder = Path(font_dir)
    want = name.lower()
    if folder.is_dir():
        for f in sorted(folder.iterdir()):
            if f.suffix.lower() in (".ttf", ".otf") and want in (f.stem.lower(), f.name.lower()):
                return f
    have = installed_fonts(folder)
    if not have:
        raise RnnaiError(
            f"font {name!r} not found: {folder} holds no fonts; install the DejaVu fonts: "
            "sudo apt-get install fonts-dejavu-core fonts-dejavu-extra"
        )
    raise RnnaiError(f"unknown font {name!r}; installed in {folder}: {', '.join(have)}")


@functools.lru_cache(maxsize=64)
def _resolved(name: str, font_dir: str) -> Path:
    return resolve_font(name, font_dir)


@functools.lru_cache(maxsize=256)
def _font(path: str, size: int) -> Any:
    from PIL import ImageFont

    try:
        return ImageFont.truetype(path, size)
    except OSError as e:
        raise RnnaiError(f"cannot load font {path}: {e}") from e


def _check_text(text: str, charset: str) -> None:
    if not isinstance(text, str) or not text.strip():
        raise RnnaiError(f"text must be a non-empty string with a visible character, got {text!r}")
    bad = sorted({c for c in text if c not in charset})
    if bad:
        raise RnnaiError(
            f"text {text!r} has characters {''.join(bad)!r} outside the charset {charset!r}"
        )


# --------------------------------------------------------------------------- rendering


def _smooth_field(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> np.ndarray:
    from scipy.ndimage import gaussian_filter

    f = gaussian_filter(rng.uniform(-1.0, 1.0, size=shape), sigma, mode="reflect")
    return f / max(float(np.abs(f).max()), 1e-12)  # largest |displacement| = 1


def _render(
    text: str, config: TextLineConfig, rng: np.random.Generator
) -> tuple[np.ndarray, list[tuple[str, int, int]]]:
    """The line image (H, W) and its approximate word spans in columns."""
    from PIL import Image, ImageDraw
    from scipy.ndimage import gaussian_filter, map_coordinates

    _check_text(text, config.charset)
    fonts = [_resolved(f, config.font_dir) for f in config.fonts]
    path = fonts[int(rng.integers(len(fonts)))]
    size = int(rng.integers(config.font_size[0], config.font_size[1] + 1))
    s = float(rng.uniform(*config.slant))
    alpha = float(rng.uniform(*config.elastic_alpha)) * size
    blur = float(rng.uniform(*config.blur_sigma))
    noise = float(rng.uniform(*config.noise_std))
    ink = float(rng.uniform(*config.ink))

    font = _font(str(path), size)
    ascent, descent = font.getmetrics()
    box = ascent + descent  # the line box's height in render pixels
    margin = math.ceil(0.25 * size + alpha) + 2
    lean = math.ceil(abs(s) * box)
    H0 = box + 2 * margin
    W0 = math.ceil(font.getlength(text)) + 2 * (margin + lean)
    x0, y_b = margin + lean, margin + ascent  # pen origin on the baseline
    canvas = Image.new("L", (W0, H0), 0)
    ImageDraw.Draw(canvas).text((x0, y_b), text, font=font, fill=255, anchor="ls")
    I = np.asarray(canvas, dtype=np.float32) / 255.0  # (H0, W0), ink = 1

    yy, xx = np.mgrid[0:H0, 0:W0].astype(np.float32)  # (H0, W0) each
    src_y, src_x = yy, xx + s * (yy - y_b)  # shear about the baseline
    if alpha > 0:
        sigma = config.elastic_sigma * size
        src_y = src_y + alpha * _smooth_field(rng, (H0, W0), sigma)
        src_x = src_x + alpha * _smooth_field(rng, (H0, W0), sigma)
    I = map_coordinates(I, [src_y, src_x], order=1, mode="constant", cval=0.0)  # (H0, W0)

    I = I[margin : margin + box]  # (box, W0): the line box
    cols = np.flatnonzero(I.max(axis=0) > _INK_THRESHOLD)
    if cols.size == 0:
        raise RnnaiError(f"rendering {text!r} with {path.name} at {size} px left no ink")
    scale = config.height / box  # output pixels per render pixel
    pad = math.ceil(config.pad / scale)
    left, right = max(int(cols[0]) - pad, 0), min(int(cols[-1]) + 1 + pad, W0)
    I = I[:, left:right]  # (box, w)
    W = max(1, round(I.shape[1] * scale))
    img = Image.fromarray(np.ascontiguousarray(I, dtype=np.float32))  # mode "F"
    out = np.asarray(img.resize((W, config.height), Image.Resampling.BILINEAR), dtype=np.float32)
    if blur > 0.05:
        out = gaussian_filter(out, blur, mode="constant")
    out = ink * np.clip(out, 0.0, 1.0)
    if noise > 0:
        out = out + noise * rng.standard_normal(out.shape).astype(np.float32)
    out = np.clip(out, 0.0, 1.0).astype(np.float32)  # (height, W)

    spans: list[tuple[str, int, int]] = []
    start = 0
    for word in text.split(" "):
        if word:
            a = x0 + font.getlength(text[:start])
            e = x0 + font.getlength(text[: start + len(word)])
            first = int(np.clip(math.floor((a - left) * scale), 0, W - 1))
            end = int(np.clip(math.ceil((e - left) * scale), first + 1, W))
            spans.append((word, first, end))
        start += len(word) + 1
    return out, spans


def render_line(text: str, config: TextLineConfig, rng: np.random.Generator) -> np.ndarray:
    """Render one text line with random font, size, slant, elastic distortion, blur and noise.

    Args:
        text: The text; every character must be in ``config.charset``.
        config: The rendering config.
        rng: The generator all random choices are drawn from.

    Returns:
        (height, W) float32 in [0, 1], ink = 1, background 0; W grows with the text's length.

    Raises:
        RnnaiError: If the text is empty or has characters outside the charset, or a font is
            not installed.
        TypeError: If ``rng`` is not a ``numpy.random.Generator``.
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    return _render(text, config, rng)[0]


# --------------------------------------------------------------------------- data set


def _font_digests(config: TextLineConfig) -> dict[str, str]:
    out = {}
    for name in config.fonts:
        path = resolve_font(name, config.font_dir)
        out[name] = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return out


def make_text_lines(
    config: TextLineConfig,
    n: int,
    seed: int,
    *,
    cache_dir: str | Path | None = None,
    cache: bool = True,
    progress: _Progress | None = None,
) -> LabelledSequences:
    """Make (or load from the cache) n rendered text lines with CTC labels.

    Args:
        config: What to write and how (`TEXT_LINES` or your own).
        n: How many lines (>= 1).
        seed: The data seed (>= 0); item i depends only on (config, seed, i).
        cache_dir: The cache folder (None: `rnnai.data.default_cache_dir`).
        cache: If False, neither read nor write the cache.
        progress: An object with ``advance(n=1)``, advanced once per line rendered.

    Returns:
        The data set: features are the image columns, (W, height) float32 in [0, 1]; labels over
        `text_lines_alphabet`; texts; approximate word spans in columns; ``meta`` with the
        config, seed, n, format version, Pillow/FreeType/scipy/numpy versions and font digests.

    Raises:
        RnnaiError: If a font is not installed, n < 1 or seed < 0.
    """
    if not isinstance(config, TextLineConfig):
        raise RnnaiError(f"config must be a TextLineConfig, got {type(config).__name__}")
    n = check_count(n)
    seed = check_seed(seed)
    import PIL
    import scipy
    from PIL import features

    payload = {
        "config": asdict(config),
        "seed": seed,
        "n": n,
        "format": FORMAT_VERSION,
        "versions": {
            "pillow": PIL.__version__,
            "freetype": features.version("freetype2"),
            "scipy": scipy.__version__,
            "numpy": np.__version__,
        },
        "fonts": _font_digests(config),
    }
    alphabet = text_lines_alphabet(config)
    index = {c: k for k, c in enumerate(alphabet) if k > 0}

    def build(meta: dict[str, Any]) -> LabelledSequences:
        features_, labels, texts, spans = [], [], [], []
        for i in range(n):
            text = " ".join(item_words(config, seed, i))
            rng = item_rng(seed, "text_lines", i)
            image, word_spans = _render(text, config, rng)  # (height, W)
            features_.append(np.ascontiguousarray(image.T))  # (W, height)
            labels.append(np.array([index[c] for c in text], dtype=np.int64))
            texts.append(text)
            spans.append(word_spans)
            if progress is not None:
                progress.advance(1)
        return LabelledSequences(
            features=features_,
            labels=labels,
            texts=texts,
            alphabet=alphabet,
            word_spans=spans,
            meta=meta,
        )

    return cached("text_lines", payload, cache_dir, build, use_cache=cache)
