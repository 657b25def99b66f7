"""rnnai.data.cluttered: placement, clutter composition, provenance and split disjointness."""

from __future__ import annotations

import numpy as np
import pytest

from rnnai.data.cluttered import ClutteredDigits, cluttered_splits, make_cluttered, paste_max
from rnnai.data.images import LabelledImages, content_hashes
from rnnai.runtime.errors import RnnaiError


def _digits(n: int = 5, seed: int = 0) -> LabelledImages:
    rng = np.random.default_rng(seed)
    images = rng.random((n, 28, 28)).astype(np.float32)
    return LabelledImages(images, np.arange(n) % 10)


def _direct(data: LabelledImages, out: ClutteredDigits, canvas: int, piece: int) -> np.ndarray:
    """Per-pixel transcription of X[y, x] = max(digit[y - y0, x - x0], max_j piece_j[...])."""
    n, k = out.clutter_source.shape
    x = np.zeros((n, canvas, canvas))
    for i in range(n):
        for y in range(canvas):
            for xx in range(canvas):
                v = 0.0
                r0, c0 = out.position[i]
                if r0 <= y < r0 + 28 and c0 <= xx < c0 + 28:
                    v = float(data.images[out.source[i], y - r0, xx - c0])
                for j in range(k):
                    pr, pc = out.clutter_position[i, j]
                    cr, cc = out.clutter_crop[i, j]
                    if pr <= y < pr + piece and pc <= xx < pc + piece:
                        src = data.images[out.clutter_source[i, j]]
                        v = max(v, float(src[cr + y - pr, cc + xx - pc]))
                x[i, y, xx] = v
    return x


def test_canvases_equal_a_direct_transcription_of_the_max_composition() -> None:
    data = _digits()
    out = make_cluttered(data, canvas=40, clutter=3, piece=6, copies=2, seed=1)
    assert out.images.shape == (10, 40, 40)
    np.testing.assert_allclose(out.images, _direct(data, out, 40, 6), rtol=0, atol=1e-10)
    assert out.labels.tolist() == (data.labels[out.source]).tolist()
    # the clutter is visible: the canvas differs from the bare translated digit
    bare = make_cluttered(data, canvas=40, clutter=0, piece=6, copies=2, seed=1)
    assert out.images.sum() > bare.images.sum()


def test_without_clutter_the_canvas_is_exactly_the_translated_digit() -> None:
    data = _digits(3)
    out = make_cluttered(data, canvas=36, clutter=0, piece=8, seed=2)
    np.testing.assert_array_equal(out.images, _direct(data, out, 36, 8).astype(np.float32))


def test_clutter_pieces_are_crops_of_other_images_of_the_same_set() -> None:
    data = _digits(6)
    out = make_cluttered(data, canvas=60, clutter=4, piece=8, copies=3, seed=3)
    assert out.clutter_source.shape == (18, 4)
    assert np.all(out.clutter_source != out.source[:, None])
    assert out.clutter_source.min() >= 0 and out.clutter_source.max() < 6


def test_paste_max_matches_a_loop_and_rejects_patches_outside() -> None:
    rng = np.random.default_rng(4)
    canvas = rng.random((3, 10, 10))
    patches = rng.random((3, 4, 4))
    corners = np.array([[0, 0], [6, 3], [2, 6]])
    expected = canvas.copy()
    for i in range(3):
        r, c = corners[i]
        expected[i, r : r + 4, c : c + 4] = np.maximum(
            expected[i, r : r + 4, c : c + 4], patches[i]
        )
    paste_max(canvas, patches, corners)
    np.testing.assert_array_equal(canvas, expected)
    with pytest.raises(RnnaiError, match="inside"):
        paste_max(canvas, patches, np.array([[0, 0], [7, 0], [0, 0]]))


def test_make_cluttered_is_deterministic_and_rejects_bad_sizes() -> None:
    data = _digits()
    a = make_cluttered(data, seed=5)
    b = make_cluttered(data, seed=5)
    np.testing.assert_array_equal(a.images, b.images)
    assert not np.array_equal(a.images, make_cluttered(data, seed=6).images)
    with pytest.raises(RnnaiError, match="fit"):
        make_cluttered(data, canvas=20)
    with pytest.raises(RnnaiError, match="copy"):
        make_cluttered(data, copies=0)


def test_train_and_test_canvases_share_no_source_image_by_content_hash() -> None:
    parts = cluttered_splits(train_limit=300, test_limit=100, seed=0)
    train, test = parts["train"], parts["test"]
    assert len(train) == 300 and len(test) == 100
    assert not train.source_hashes() & test.source_hashes()
    assert not parts["valid"].source_hashes() & test.source_hashes()
    # every digit and clutter source of the test canvases is a test image, by content
    test_sources = set(content_hashes(test.sources.images))
    assert test.source_hashes() <= test_sources
    assert not test_sources & set(content_hashes(train.sources.images))
