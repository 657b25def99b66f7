"""rnnai.data.segmentation: the wall geometry against a direct transcription, determinism,
disjoint splits, and the scores against scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score, jaccard_score

from rnnai.data.images import LabelledImages, content_hashes
from rnnai.data.segmentation import (
    SPLITS,
    DigitSceneConfig,
    MembraneConfig,
    SegmentationSet,
    digit_scene,
    digit_set,
    foreground_fraction,
    membrane_sample,
    membrane_set,
    segmentation_scores,
    segmentation_splits,
    wall_distance,
)
from rnnai.runtime.errors import RnnaiError
from rnnai.runtime.seeding import make_rng


def _direct_wall_distance(points: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Per pixel: project onto the normal of the bisector of the two nearest centres."""
    out = np.zeros(shape)
    for idx in np.ndindex(*shape):
        x = np.array(idx, dtype=np.float64)
        dist = [float(np.sqrt(((x - s) ** 2).sum())) for s in points]
        a, b = np.argsort(dist, kind="stable")[:2]
        m = (points[a] + points[b]) / 2
        n = (points[b] - points[a]) / np.linalg.norm(points[b] - points[a])
        out[idx] = abs(float((x - m) @ n))
    return out


@pytest.mark.parametrize("shape", [(7, 9), (4, 5, 6)])
def test_wall_distance_matches_a_direct_projection_onto_the_bisector(shape) -> None:
    rng = np.random.default_rng(3)
    points = rng.uniform(0, 1, size=(5, len(shape))) * (np.array(shape) - 1)
    delta, pair = wall_distance(points, shape)
    np.testing.assert_allclose(delta, _direct_wall_distance(points, shape), atol=1e-10, rtol=0)
    assert pair.shape == (*shape, 2) and (pair[..., 0] != pair[..., 1]).all()


def test_wall_distance_rejects_points_of_the_wrong_dimension() -> None:
    with pytest.raises(RnnaiError, match="points must be"):
        wall_distance(np.zeros((3, 3)), (4, 4))
    with pytest.raises(RnnaiError, match="points must be"):
        wall_distance(np.zeros((1, 2)), (4, 4))


def test_membrane_masks_are_the_thin_walls_between_cells() -> None:
    cfg = MembraneConfig(shape=(24, 24), cells=6, blobs=0, noise=0.0, blur=0.0, texture=0.0)
    image, mask = membrane_sample(make_rng(0), cfg)
    assert 0.05 < mask.mean() < 0.5
    # without blur, noise and texture, walls have the wall level and cells are brighter
    np.testing.assert_allclose(image[mask], cfg.wall_level, atol=1e-6)
    assert image[~mask].min() >= cfg.cell_level[0] - 1e-6


def test_membrane_volumes_are_three_dimensional_and_deterministic() -> None:
    cfg = MembraneConfig(shape=(6, 7, 8), cells=4)
    a = membrane_set(2, cfg, seed=5, split="test")
    b = membrane_set(2, cfg, seed=5, split="test")
    assert a.images.shape == (2, 6, 7, 8) and a.masks.any()
    np.testing.assert_array_equal(a.images, b.images)
    np.testing.assert_array_equal(a.masks, b.masks)
    c = membrane_set(2, cfg, seed=6, split="test")
    assert not np.array_equal(a.images, c.images)


def test_membrane_splits_come_from_disjoint_seed_streams_and_share_no_image() -> None:
    parts = segmentation_splits(
        "membranes", {"train": 20, "valid": 5, "test": 10}, seed=0,
        membrane=MembraneConfig(shape=(12, 12), cells=4),
    )  # fmt: skip
    seeds = {p: set(parts[p].ids.tolist()) for p in SPLITS}
    hashes = {p: set(content_hashes(parts[p].images)) for p in SPLITS}
    for p, q in (("train", "valid"), ("train", "test"), ("valid", "test")):
        assert not seeds[p] & seeds[q]
        assert not hashes[p] & hashes[q]
    assert [len(parts[p]) for p in SPLITS] == [20, 5, 10]


def test_digit_scene_mask_is_the_digit_above_threshold() -> None:
    digit = np.zeros((8, 8))
    digit[2:6, 3:5] = 1.0
    cfg = DigitSceneConfig(canvas=12, box=8, fragments=0, blur=0.0, noise=0.0)
    image, mask = digit_scene(make_rng(0), digit, [], cfg)
    assert mask.sum() == 8
    np.testing.assert_allclose(image[mask], 1.0)
    assert image[~mask].max() == 0.0


def test_digit_clutter_adds_ink_outside_the_mask() -> None:
    rng = np.random.default_rng(0)
    src = LabelledImages((rng.random((10, 8, 8)) > 0.5).astype(np.float32), np.arange(10) % 10)
    cfg = DigitSceneConfig(canvas=24, box=8, fragment=4, fragments=5, blur=0.0, noise=0.0)
    s = digit_set(src, 6, cfg, seed=1, split="train")
    assert (s.images[~s.masks] > cfg.threshold).any()  # clutter that is not foreground
    assert set(s.ids.tolist()) <= set(s.info["used"])


def test_digit_splits_use_only_their_own_source_images() -> None:
    sizes = {"train": 30, "valid": 5, "test": 15}
    cfg = DigitSceneConfig(canvas=16, box=10, fragment=4)
    parts = segmentation_splits("digits", sizes, seed=0, digits=cfg, source="digits8")
    # rebuild the content split to map ids back to source hashes
    from rnnai.data.images import load_digits_images, split_images

    src = split_images(load_digits_images(), valid=0.1, test=0.2, seed=0)
    used = {p: set(content_hashes(src[p].images[parts[p].info["used"]])) for p in SPLITS}
    assert not used["train"] & used["test"]
    assert not used["train"] & used["valid"]
    again = segmentation_splits("digits", sizes, seed=0, digits=cfg, source="digits8")
    np.testing.assert_array_equal(parts["test"].images, again["test"].images)


def test_scores_match_scikit_learn_per_image() -> None:
    rng = np.random.default_rng(1)
    pred, truth = rng.random((6, 5, 7)) > 0.6, rng.random((6, 5, 7)) > 0.5
    s = segmentation_scores(pred, truth)
    for i in range(6):
        p, t = pred[i].ravel(), truth[i].ravel()
        assert s["pixel_error"][i] == pytest.approx(float((p != t).mean()), abs=1e-12)
        assert s["f1"][i] == pytest.approx(f1_score(t, p), abs=1e-12)
        assert s["iou"][i] == pytest.approx(jaccard_score(t, p), abs=1e-12)


def test_scores_count_an_empty_image_predicted_empty_as_perfect() -> None:
    z = np.zeros((1, 3, 3), dtype=bool)
    s = segmentation_scores(z, z)
    assert s["f1"][0] == s["iou"][0] == 1.0 and s["pixel_error"][0] == 0.0
    with pytest.raises(RnnaiError, match="must both be"):
        segmentation_scores(z, np.zeros((1, 3, 4)))


def test_foreground_fraction_is_the_error_of_predicting_nothing() -> None:
    m = np.array([[[True, False], [False, False]]])
    assert foreground_fraction(m) == 0.25
    assert segmentation_scores(np.zeros_like(m), m)["pixel_error"][0] == 0.25


def test_bad_settings_are_user_errors() -> None:
    with pytest.raises(RnnaiError, match="cells"):
        MembraneConfig(cells=1)
    with pytest.raises(RnnaiError, match="shape"):
        MembraneConfig(shape=(4,))
    with pytest.raises(RnnaiError, match="box"):
        DigitSceneConfig(canvas=10, box=12)
    with pytest.raises(RnnaiError, match="split"):
        membrane_set(2, MembraneConfig(shape=(5, 5)), seed=0, split="dev")
    with pytest.raises(RnnaiError, match="sizes"):
        segmentation_splits("membranes", {"train": 1}, seed=0)
    with pytest.raises(RnnaiError, match="kind"):
        segmentation_splits("cells", {p: 1 for p in SPLITS}, seed=0)  # type: ignore[arg-type]
    with pytest.raises(RnnaiError, match="must agree"):
        SegmentationSet(np.zeros((2, 3, 3)), np.zeros((2, 3, 4), dtype=bool), np.zeros(2))
