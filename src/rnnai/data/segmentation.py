"""Synthetic images and volumes for pixel-wise segmentation: membranes and digits on clutter.

Two generators that need no download, each deterministic by seed, and the scores used to judge a
segmentation:

* **Membranes** (`membrane_sample`, `membrane_set`): a stand-in for electron-microscopy stacks.
  K cell centres s_1..s_K are drawn uniformly in the grid (2-D images or 3-D volumes); every
  pixel x belongs to its nearest centre s_a, and lies on the wall between cells a and b (b its
  second-nearest centre) when its distance to their bisector,

      delta(x) = (|x - s_b|^2 - |x - s_a|^2) / (2 |s_b - s_a|)   (= |(x - m_ab) . n_ab|),

  is below half that wall's width w_ab (one width per pair of cells, drawn uniformly in
  ``wall_width``): the mask is 1 on walls ("membrane") and 0 inside cells. The image is dark on
  walls (``wall_level``), each cell has its own brightness (uniform in ``cell_level``) plus a
  smooth texture (white noise blurred with ``texture_sigma``, amplitude ``texture``); ``blobs``
  dark Gaussian spots (organelles: dark like membranes but not labelled as membrane) are
  subtracted; the result is blurred (Gaussian, ``blur``) and white Gaussian noise (``noise``) is
  added. Locally a blob, or a noisy cell interior, can look like a membrane: telling them apart
  needs the shape of the surroundings.
* **Digits on clutter** (`digit_scene`, `digit_set`): a digit image (the 5,000-image MNIST sample
  or scikit-learn's 8x8 digits, `rnnai.data.images`) is resized to a ``box`` and pasted at a
  random place of a ``canvas``; its pixels above ``threshold`` are the foreground. ``fragments``
  crops of other digits of the same split (``fragment`` pixels square, centred on an ink pixel, so
  they look like strokes) are pasted at random places (pixel-wise maximum), then the image is
  blurred and noised like the membranes. A fragment is locally indistinguishable from a piece of
  the digit; only the extent of the connected shape around a pixel tells them apart.

Splits (`segmentation_splits`) never share data: every membrane sample i of split p is drawn from
its own generator seeded by ``derive_seed(seed, "membranes", p, i)``, so training, validation and
test come from disjoint seed streams; digit scenes take their digits and their clutter only from
their own part of the digit images, split by image content (`rnnai.data.images.split_images`), so
no test digit, not even as clutter, is ever seen in training.

Scores (`segmentation_scores`): per image, the pixel error (the fraction of pixels whose predicted
class differs from the truth), and F1 = 2 TP / (2 TP + FP + FN) and IoU = TP / (TP + FP + FN) of
the foreground class (membrane, digit); both are 1 when an image has no foreground and none is
predicted.

What these data allow, and where the papers' data differ: they allow comparing architectures on
the same kind of decision the papers' networks make (is this pixel a membrane / part of the
object?) with local evidence that is ambiguous without context, in seconds to minutes on a CPU,
with as many independent images as wanted and exact ground truth. They are not the papers' data:
EM-ISBI12 (the ISBI 2012 challenge: 30 training slices of 512x512 pixels of serial-section EM of
the Drosophila ventral nerve cord, labelled by experts, scored by rand, warping and pixel errors)
has real membranes, mitochondria, vesicles and section artifacts; MRBrainS13 (5 training and 15
test 3-T brain MR scans with T1, T1-IR and T2-FLAIR channels, 240x240x48 voxels, labelled grey
matter / white matter / cerebrospinal fluid, scored by Dice, Hausdorff distance and volume
difference) has several channels, several classes and anatomy; Graves et al.'s 2007 MNIST task
labels every pixel with its digit's class (not foreground vs background) on the full 60,000
images, and the Air Freight task segments 155 textures in ray-traced video frames. Numbers
measured here are therefore comparable between our models, never with the papers' tables.

Examples:
    >>> from rnnai.data.segmentation import MembraneConfig, membrane_set, segmentation_scores
    >>> train = membrane_set(3, MembraneConfig(shape=(16, 16), cells=5), seed=0, split="train")
    >>> train.images.shape, train.masks.shape, train.masks.dtype
    ((3, 16, 16), (3, 16, 16), dtype('bool'))
    >>> 0.0 < float(train.masks.mean()) < 0.6
    True
    >>> s = segmentation_scores(train.masks, train.masks)
    >>> float(s["pixel_error"].max()), float(s["f1"].min()), float(s["iou"].min())
    (0.0, 1.0, 1.0)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy import ndimage

from rnnai.data.images import LabelledImages, load_digits_images, load_mnist_sample, split_images
from rnnai.runtime.errors import RnnaiError
from rnnai.runtime.seeding import derive_seed, make_rng

__all__ = [
    "DigitSceneConfig",
    "MembraneConfig",
    "SegmentationSet",
    "SPLITS",
    "digit_scene",
    "digit_set",
    "foreground_fraction",
    "membrane_sample",
    "membrane_set",
    "segmentation_scores",
    "segmentation_splits",
    "wall_distance",
]

SPLITS = ("train", "valid", "test")
"""The three parts every split function returns, in this order."""


@dataclass(frozen=True, kw_only=True)
class MembraneConfig:
    """How a membrane image or volume is drawn (see the module docstring).

    Attributes:
        shape: Grid shape, 2-D (H, W) or 3-D (D, H, W).
        cells: Number of Voronoi cells K (>= 2).
        wall_width: (low, high) of the uniform full width w_ab of each wall, in pixels.
        cell_level: (low, high) of the uniform brightness of each cell's interior.
        wall_level: Brightness of the walls before blur and noise.
        texture: Amplitude of the smooth texture inside cells.
        texture_sigma: Blur (pixels) that makes the texture smooth.
        blobs: Dark spots (organelles) per sample; not labelled as membrane.
        blob_sigma: (low, high) of their uniform Gaussian radius, in pixels.
        blob_depth: How much darker a blob's centre is.
        blur: Gaussian blur of the whole image (pixels; 0: none).
        noise: Standard deviation of the additive white Gaussian noise.
    """

    shape: tuple[int, ...] = (32, 32)
    cells: int = 12
    wall_width: tuple[float, float] = (1.0, 2.5)
    cell_level: tuple[float, float] = (0.55, 0.95)
    wall_level: float = 0.15
    texture: float = 0.15
    texture_sigma: float = 1.5
    blobs: int = 4
    blob_sigma: tuple[float, float] = (0.7, 1.5)
    blob_depth: float = 0.55
    blur: float = 0.7
    noise: float = 0.12

    def __post_init__(self) -> None:
        if len(self.shape) not in (2, 3) or min(self.shape) < 2:
            raise RnnaiError(f"shape must be 2-D or 3-D with sizes >= 2, got {self.shape}")
        if self.cells < 2:
            raise RnnaiError(f"cells must be >= 2, got {self.cells}")
        for name in ("wall_width", "cell_level", "blob_sigma"):
            lo, hi = getattr(self, name)
            if not 0.0 <= lo <= hi:
                raise RnnaiError(f"{name} must be (low, high) with 0 <= low <= high, got {lo, hi}")
        if self.blobs < 0 or self.blur < 0 or self.noise < 0 or self.texture_sigma < 0:
            raise RnnaiError("blobs, blur, noise and texture_sigma must be >= 0")


@dataclass(frozen=True, kw_only=True)
class DigitSceneConfig:
    """How a digit-on-clutter image is drawn (see the module docstring).

    Attributes:
        canvas: Side of the square image.
        box: Side the digit image is resized to (bilinear) before pasting.
        threshold: Resized digit pixels above it are the foreground.
        fragments: Clutter crops of other digits per image.
        fragment: Side of a clutter crop (pixels, in the resized digit's scale).
        blur: Gaussian blur of the image (pixels; 0: none).
        noise: Standard deviation of the additive white Gaussian noise.
    """

    canvas: int = 32
    box: int = 20
    threshold: float = 0.5
    fragments: int = 6
    fragment: int = 7
    blur: float = 0.5
    noise: float = 0.15

    def __post_init__(self) -> None:
        if not 2 <= self.box <= self.canvas:
            raise RnnaiError(f"box must be in [2, canvas={self.canvas}], got {self.box}")
        if not 1 <= self.fragment <= self.box:
            raise RnnaiError(f"fragment must be in [1, box={self.box}], got {self.fragment}")
        if not 0.0 < self.threshold < 1.0:
            raise RnnaiError(f"threshold must be in (0, 1), got {self.threshold}")
        if self.fragments < 0 or self.blur < 0 or self.noise < 0:
            raise RnnaiError("fragments, blur and noise must be >= 0")


@dataclass(frozen=True, eq=False)
class SegmentationSet:
    """Images (or volumes) with their binary ground-truth masks.

    Attributes:
        images: (N, *S) float32.
        masks: (N, *S) bool, True on the foreground (membrane, digit).
        ids: (N,) int64: the seed each membrane sample was drawn from, or the index (in the digit
            source) of each scene's digit.
        name: What the data are.
        info: Anything else about how they were made (for digits, the source indices used).
    """

    images: np.ndarray
    masks: np.ndarray
    ids: np.ndarray
    name: str = ""
    info: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.images.shape != self.masks.shape or self.ids.shape != self.images.shape[:1]:
            raise RnnaiError(
                f"images {self.images.shape}, masks {self.masks.shape} and ids {self.ids.shape} "
                "must agree: (N, *S), (N, *S), (N,)"
            )

    def __len__(self) -> int:
        return int(self.images.shape[0])


# ----------------------------------------------------------------------------- membranes
def wall_distance(points: np.ndarray, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Distance of every pixel to the bisector of its two nearest centres (vectorized).

    Args:
        points: (K, d) centres in pixel coordinates (K >= 2).
        shape: The grid shape (d sizes).

    Returns:
        ``delta`` of shape ``shape`` (float64: (|x - s_b|^2 - |x - s_a|^2) / (2 |s_b - s_a|),
        a the nearest and b the second-nearest centre) and the pair (a, b) of every pixel,
        shape ``(*shape, 2)`` (int64).

    Raises:
        RnnaiError: If the points do not match the grid's dimension or are fewer than 2.

    Examples:
        >>> delta, pair = wall_distance(np.array([[0.0, 0.0], [0.0, 4.0]]), (1, 5))
        >>> delta.round(3).tolist(), pair[0, 0].tolist()
        ([[2.0, 1.0, 0.0, 1.0, 2.0]], [0, 1])
    """
    p = np.asarray(points, dtype=np.float64)
    if p.ndim != 2 or p.shape[0] < 2 or p.shape[1] != len(shape):
        raise RnnaiError(f"points must be (K >= 2, {len(shape)}), got {p.shape}")
    grids = np.meshgrid(*[np.arange(s, dtype=np.float64) for s in shape], indexing="ij")
    x = np.stack([g.reshape(-1) for g in grids], axis=1)  # (P, d)
    d2 = ((x[:, None, :] - p[None, :, :]) ** 2).sum(-1)  # (P, K) squared distances
    order = np.argsort(d2, axis=1, kind="stable")[:, :2]  # (P, 2): nearest a, second b
    a, b = order[:, 0], order[:, 1]
    rows = np.arange(len(x))
    sep = np.linalg.norm(p[b] - p[a], axis=1)  # |s_b - s_a|
    delta = (d2[rows, b] - d2[rows, a]) / (2.0 * np.maximum(sep, 1e-12))
    return delta.reshape(shape), order.reshape(*shape, 2)


def membrane_sample(rng: np.random.Generator, cfg: MembraneConfig) -> tuple[np.ndarray, np.ndarray]:
    """Draw one membrane image (or volume) and its wall mask.

    Args:
        rng: The sample's own generator.
        cfg: The generator's settings.

    Returns:
        (image float32, mask bool), both of shape ``cfg.shape``.
    """
    shape, d, K = cfg.shape, len(cfg.shape), cfg.cells
    points = rng.uniform(0.0, 1.0, size=(K, d)) * (np.asarray(shape, dtype=np.float64) - 1.0)
    width = rng.uniform(*cfg.wall_width, size=(K, K))
    width = np.triu(width, 1) + np.triu(width, 1).T  # one width w_ab = w_ba per wall
    delta, pair = wall_distance(points, shape)
    mask = delta < 0.5 * width[pair[..., 0], pair[..., 1]]
    level = rng.uniform(*cfg.cell_level, size=K)
    texture = rng.standard_normal(shape)
    if cfg.texture_sigma > 0:
        texture = ndimage.gaussian_filter(texture, cfg.texture_sigma)
        texture /= max(float(texture.std()), 1e-12)
    image = level[pair[..., 0]] + cfg.texture * texture
    image = np.where(mask, cfg.wall_level, image)
    if cfg.blobs:
        grids = np.meshgrid(*[np.arange(s, dtype=np.float64) for s in shape], indexing="ij")
        x = np.stack(grids, axis=-1)  # (*S, d)
        centres = rng.uniform(0.0, 1.0, size=(cfg.blobs, d)) * (np.asarray(shape) - 1.0)
        sigma = rng.uniform(*cfg.blob_sigma, size=cfg.blobs)
        r2 = ((x[..., None, :] - centres) ** 2).sum(-1)  # (*S, blobs)
        image = image - cfg.blob_depth * np.exp(-r2 / (2.0 * sigma**2)).max(-1)
    if cfg.blur > 0:
        image = ndimage.gaussian_filter(image, cfg.blur)
    image = image + cfg.noise * rng.standard_normal(shape)
    return image.astype(np.float32), mask


def membrane_set(n: int, cfg: MembraneConfig, *, seed: int, split: str) -> SegmentationSet:
    """``n`` membrane samples of one split, sample i drawn with ``derive_seed(seed, "membranes",
    split, i)``.

    Args:
        n: Number of samples (>= 1).
        cfg: The generator's settings.
        seed: The data seed.
        split: The split's name (one of `SPLITS`); different splits use disjoint seed streams.

    Returns:
        The samples; ``ids`` holds each sample's seed.

    Raises:
        RnnaiError: For n < 1 or an unknown split.
    """
    _check_split(split, n)
    seeds = np.array([derive_seed(seed, "membranes", split, i) for i in range(n)], dtype=np.int64)
    pairs = [membrane_sample(make_rng(int(s)), cfg) for s in seeds]
    images = np.stack([p[0] for p in pairs])
    masks = np.stack([p[1] for p in pairs])
    return SegmentationSet(images, masks, seeds, f"membranes {'x'.join(map(str, cfg.shape))}")


# ----------------------------------------------------------------------------- digits
def _check_split(split: str, n: int) -> None:
    if split not in SPLITS:
        raise RnnaiError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    if n < 1:
        raise RnnaiError(f"the number of samples must be >= 1, got {n}")


def _resize(image: np.ndarray, box: int) -> np.ndarray:
    zoom = (box / image.shape[0], box / image.shape[1])
    out = ndimage.zoom(image.astype(np.float64), zoom, order=1, grid_mode=True, mode="nearest")
    return np.clip(out, 0.0, 1.0)


def digit_scene(
    rng: np.random.Generator,
    digit: np.ndarray,
    clutter: list[np.ndarray],
    cfg: DigitSceneConfig,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw one digit-on-clutter image and its foreground mask.

    Args:
        rng: The scene's own generator.
        digit: (h, w) digit image in [0, 1].
        clutter: Digit images (h', w') in [0, 1] that fragments are cropped from.
        cfg: The generator's settings.

    Returns:
        (image float32, mask bool), both (canvas, canvas).
    """
    C, B, F = cfg.canvas, cfg.box, cfg.fragment
    image = np.zeros((C, C))
    mask = np.zeros((C, C), dtype=bool)
    for source in clutter[: cfg.fragments]:
        src = _resize(source, B)
        ink = np.argwhere(src > cfg.threshold)
        if len(ink) == 0:
            continue
        cy, cx = ink[rng.integers(len(ink))]
        padded = np.pad(src, F)
        crop = padded[cy + F - F // 2 : cy + F - F // 2 + F, cx + F - F // 2 : cx + F - F // 2 + F]
        y, x = rng.integers(0, C - F + 1, size=2)
        image[y : y + F, x : x + F] = np.maximum(image[y : y + F, x : x + F], crop)
    d = _resize(digit, B)
    y, x = rng.integers(0, C - B + 1, size=2)
    image[y : y + B, x : x + B] = np.maximum(image[y : y + B, x : x + B], d)
    mask[y : y + B, x : x + B] = d > cfg.threshold
    if cfg.blur > 0:
        image = ndimage.gaussian_filter(image, cfg.blur)
    image = image + cfg.noise * rng.standard_normal((C, C))
    return image.astype(np.float32), mask


def digit_set(
    source: LabelledImages, n: int, cfg: DigitSceneConfig, *, seed: int, split: str
) -> SegmentationSet:
    """``n`` digit-on-clutter scenes whose digits and clutter all come from ``source``.

    Scene i uses its own generator (``derive_seed(seed, "digits", split, i)``), which picks the
    digit and the ``cfg.fragments`` clutter sources among ``source``'s images (clutter never
    the scene's own digit).

    Args:
        source: The digit images of this split only.
        n: Number of scenes (>= 1).
        cfg: The generator's settings.
        seed: The data seed.
        split: The split's name (one of `SPLITS`).

    Returns:
        The scenes; ``ids`` holds the index in ``source`` of each scene's digit, ``info`` the
        indices of all source images used (digits and clutter), under ``"used"``.

    Raises:
        RnnaiError: For n < 1, an unknown split, or fewer than 2 source images.
    """
    _check_split(split, n)
    if len(source) < 2:
        raise RnnaiError(f"digit scenes need at least 2 source images, got {len(source)}")
    images, masks, ids, used = [], [], [], set()
    for i in range(n):
        rng = make_rng(derive_seed(seed, "digits", split, i))
        k = int(rng.integers(len(source)))
        others = rng.integers(len(source) - 1, size=cfg.fragments)
        others = others + (others >= k)  # any image but the digit itself
        img, m = digit_scene(rng, source.images[k], [source.images[j] for j in others], cfg)
        images.append(img)
        masks.append(m)
        ids.append(k)
        used.update([k, *others.tolist()])
    return SegmentationSet(
        np.stack(images), np.stack(masks), np.asarray(ids, dtype=np.int64),
        f"digits on clutter {cfg.canvas}x{cfg.canvas} ({source.name})",
        {"used": sorted(used)},
    )  # fmt: skip


def segmentation_splits(
    kind: Literal["membranes", "digits"],
    sizes: dict[str, int],
    *,
    seed: int,
    membrane: MembraneConfig | None = None,
    digits: DigitSceneConfig | None = None,
    source: Literal["mnist", "digits8"] = "mnist",
) -> dict[str, SegmentationSet]:
    """Training, validation and test sets that share no data (see the module docstring).

    Args:
        kind: ``"membranes"`` (2-D or 3-D by ``membrane.shape``) or ``"digits"``.
        sizes: Number of samples per split, keys `SPLITS`.
        seed: The data seed.
        membrane: Settings for membranes (default `MembraneConfig`).
        digits: Settings for digit scenes (default `DigitSceneConfig`).
        source: Digit images: ``"mnist"`` (the MNIST sample, 28x28) or ``"digits8"``
            (scikit-learn's 8x8 digits).

    Returns:
        {"train", "valid", "test"} -> `SegmentationSet`. For digits, the source images are split
        70 / 10 / 20 by content (``seed``) and each part only draws from its own images.

    Raises:
        RnnaiError: For an unknown kind or source, or missing sizes.
    """
    if set(sizes) != set(SPLITS):
        raise RnnaiError(f"sizes must give {', '.join(SPLITS)}, got {sorted(sizes)}")
    if kind == "membranes":
        cfg = membrane or MembraneConfig()
        return {p: membrane_set(sizes[p], cfg, seed=seed, split=p) for p in SPLITS}
    if kind != "digits":
        raise RnnaiError(f"kind must be 'membranes' or 'digits', got {kind!r}")
    if source == "mnist":
        data = load_mnist_sample()
    elif source == "digits8":
        data = load_digits_images()
    else:
        raise RnnaiError(f"source must be 'mnist' or 'digits8', got {source!r}")
    parts = split_images(data, valid=0.1, test=0.2, seed=seed)
    dcfg = digits or DigitSceneConfig()
    return {p: digit_set(parts[p], sizes[p], dcfg, seed=seed, split=p) for p in SPLITS}


# ----------------------------------------------------------------------------- scores
def segmentation_scores(predicted: np.ndarray, truth: np.ndarray) -> dict[str, np.ndarray]:
    """Per-image pixel error and foreground F1 and IoU of binary segmentations.

    Args:
        predicted: (N, *S) bool (or 0/1) predicted masks.
        truth: (N, *S) bool (or 0/1) true masks.

    Returns:
        {"pixel_error", "f1", "iou"} -> (N,) float64 arrays (F1 and IoU are 1 for an image with
        no foreground that is predicted to have none).

    Raises:
        RnnaiError: If the shapes differ or there is no image.

    Examples:
        >>> s = segmentation_scores(np.array([[1, 1, 0, 0]]), np.array([[1, 0, 0, 0]]))
        >>> s["pixel_error"].tolist(), s["f1"].round(4).tolist(), s["iou"].tolist()
        ([0.25], [0.6667], [0.5])
    """
    p, t = np.asarray(predicted).astype(bool), np.asarray(truth).astype(bool)
    if p.shape != t.shape or p.ndim < 2 or p.shape[0] == 0:
        raise RnnaiError(
            f"predicted and true masks must both be (N >= 1, *S), got {p.shape} and {t.shape}"
        )
    p, t = p.reshape(len(p), -1), t.reshape(len(t), -1)  # (N, P)
    tp = (p & t).sum(1).astype(np.float64)
    fp = (p & ~t).sum(1).astype(np.float64)
    fn = (~p & t).sum(1).astype(np.float64)
    empty = (tp + fp + fn) == 0
    f1 = np.where(empty, 1.0, 2 * tp / np.maximum(2 * tp + fp + fn, 1.0))
    iou = np.where(empty, 1.0, tp / np.maximum(tp + fp + fn, 1.0))
    return {"pixel_error": (fp + fn) / p.shape[1], "f1": f1, "iou": iou}


def foreground_fraction(masks: np.ndarray) -> float:
    """The fraction of foreground pixels over all masks (the error of predicting none)."""
    return float(np.mean(np.asarray(masks, dtype=bool)))
