"""The data-set container and its on-disk cache: round trips, corruption, keys, atomic writes."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from rnnai.data import LabelledSequences, default_cache_dir
from rnnai.data._cache import CacheError, cache_key, cached, load_sequences, save_sequences
from rnnai.runtime.errors import RnnaiError


def char_data(spans: bool = True) -> LabelledSequences:
    alphabet = ("<blank>", " ", "a", "b")
    texts = ["ab a", "b"]
    labels = [np.array([2, 3, 1, 2]), np.array([3])]
    rng = np.random.default_rng(0)
    return LabelledSequences(
        features=[rng.standard_normal((5, 3)).astype(np.float32) for _ in texts],
        labels=[y.astype(np.int64) for y in labels],
        texts=texts,
        alphabet=alphabet,
        word_spans=[[("ab", 0, 2), ("a", 3, 5)], [("b", 1, 4)]] if spans else None,
        meta={"kind": "toy", "n": 2},
    )


def assert_same(a: LabelledSequences, b: LabelledSequences) -> None:
    assert len(a) == len(b)
    for x, y in zip(a.features, b.features, strict=True):
        np.testing.assert_array_equal(x, y)
        assert x.dtype == y.dtype
    for x, y in zip(a.labels, b.labels, strict=True):
        np.testing.assert_array_equal(x, y)
        assert y.dtype == np.int64
    assert a.texts == b.texts
    assert a.alphabet == b.alphabet
    assert a.word_spans == b.word_spans


# --------------------------------------------------------------------------- container


def test_decode_labels_joins_chars_directly_and_words_with_spaces() -> None:
    data = char_data()
    assert data.decode_labels(data.labels[0]) == "ab a"
    words = LabelledSequences(
        features=[np.zeros((4, 2), np.float32)],
        labels=[np.array([2, 1, 2], dtype=np.int64)],
        texts=["one zero one"],
        alphabet=("<blank>", "zero", "one"),
        word_spans=None,
        meta={},
    )
    assert words.decode_labels(words.labels[0]) == "one zero one"
    np.testing.assert_array_equal(words.encode_text("one zero one"), [2, 1, 2])


def test_decode_labels_rejects_the_blank_and_out_of_range_labels() -> None:
    data = char_data()
    with pytest.raises(RnnaiError, match="label 0"):
        data.decode_labels([0, 2])
    with pytest.raises(RnnaiError, match="label 4"):
        data.decode_labels([4])


def test_encode_text_names_a_character_outside_the_alphabet() -> None:
    with pytest.raises(RnnaiError, match="'z'"):
        char_data().encode_text("az")


def test_subset_selects_items_in_order_and_records_them() -> None:
    data = char_data()
    sub = data.subset([1, 0, 1])
    assert sub.texts == ["b", "ab a", "b"]
    assert sub.word_spans == [data.word_spans[1], data.word_spans[0], data.word_spans[1]]
    assert sub.meta["subset"] == [1, 0, 1] and sub.meta["n"] == 3 and len(sub) == 3
    with pytest.raises(RnnaiError, match="out of range"):
        data.subset([2])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"texts": ["only one"]}, "texts"),
        ({"labels": [np.array([2]), np.array([9])]}, r"labels\[1\] must lie in 1..3"),
        ({"labels": [np.array([2], np.int32), np.array([3])]}, "int64"),
        ({"features": [np.zeros((5, 3)), np.zeros((5, 3), np.float32)]}, "float32"),
        ({"features": [np.zeros((5, 3), np.float32), np.zeros((5, 4), np.float32)]}, "4 features"),
        ({"alphabet": ("a", "b", " ", "<blank>")}, "must start with"),
    ],
)
def test_container_rejects_inconsistent_items(change: dict, message: str) -> None:
    base = char_data()
    fields = {
        "features": base.features,
        "labels": base.labels,
        "texts": base.texts,
        "alphabet": base.alphabet,
        "word_spans": None,
        "meta": {},
    }
    fields.update(change)
    with pytest.raises(RnnaiError, match=message):
        LabelledSequences(**fields)


# --------------------------------------------------------------------------- cache files


def test_default_cache_dir_follows_rnnai_cache_then_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RNNAI_CACHE", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("RNNAI_CACHE")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / ".cache" / "rnnai"


@pytest.mark.parametrize("spans", [True, False])
def test_save_then_load_round_trips_every_field(tmp_path: Path, spans: bool) -> None:
    data = char_data(spans)
    save_sequences(tmp_path / "d.npz", data)
    back = load_sequences(tmp_path / "d.npz")
    assert_same(data, back)
    assert back.meta == data.meta


def test_cache_file_loads_without_pickle_and_leaves_no_temp_files(tmp_path: Path) -> None:
    save_sequences(tmp_path / "d.npz", char_data())
    with np.load(tmp_path / "d.npz", allow_pickle=False) as z:
        assert all(z[name].dtype != object for name in z.files)
    assert [p.name for p in tmp_path.iterdir()] == ["d.npz"]


def test_a_flipped_byte_anywhere_is_refused_or_harmless(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    data = char_data()
    save_sequences(path, data)
    good = path.read_bytes()
    refused = 0
    for pos in range(0, len(good), 11):
        raw = bytearray(good)
        raw[pos] ^= 0xFF
        path.write_bytes(bytes(raw))
        try:
            back = load_sequences(path)
        except CacheError:
            refused += 1
        else:  # a byte the content does not depend on (a zip header field): same data
            assert_same(back, data)
    assert refused > len(good) // 11 // 2


def test_altered_content_fails_the_checksum(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    save_sequences(path, char_data())
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["features"][0, 0] += 1.0
    np.savez(path, **arrays)
    with pytest.raises(CacheError, match="checksum"):
        load_sequences(path)


def test_a_truncated_file_is_refused_as_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    save_sequences(path, char_data())
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(CacheError, match="unreadable"):
        load_sequences(path)


def test_cache_key_is_stable_and_sensitive_to_every_value() -> None:
    payload = {"config": {"a": 1, "b": [1, 2]}, "seed": 0, "n": 5}
    assert cache_key(payload) == cache_key(dict(reversed(list(payload.items()))))
    assert cache_key(payload) != cache_key({**payload, "seed": 1})
    assert cache_key(payload) != cache_key({**payload, "config": {"a": 1, "b": [2, 1]}})


def test_cached_builds_once_then_reads_the_file(tmp_path: Path) -> None:
    calls = []

    def build(meta: dict) -> LabelledSequences:
        calls.append(meta)
        data = char_data()
        return LabelledSequences(
            data.features, data.labels, data.texts, data.alphabet, data.word_spans, meta
        )

    first = cached("toy", {"seed": 3}, tmp_path, build)
    second = cached("toy", {"seed": 3}, tmp_path, build)
    assert len(calls) == 1
    assert_same(first, second)
    assert second.meta["cache_key"] == cache_key({"seed": 3}) and second.meta["kind"] == "toy"
    cached("toy", {"seed": 4}, tmp_path, build)
    assert len(calls) == 2 and len(list(tmp_path.glob("toy-*.npz"))) == 2


def test_cached_regenerates_a_corrupt_file_with_a_warning(tmp_path: Path) -> None:
    def build(meta: dict) -> LabelledSequences:
        return char_data()

    cached("toy", {"seed": 3}, tmp_path, build)
    (path,) = tmp_path.glob("toy-*.npz")
    path.write_bytes(b"garbage")
    with pytest.warns(RuntimeWarning, match="regenerating"):
        data = cached("toy", {"seed": 3}, tmp_path, build)
    assert_same(data, char_data())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_sequences(path)  # rewritten and valid again


def test_cached_without_cache_writes_nothing(tmp_path: Path) -> None:
    cached("toy", {"seed": 3}, tmp_path / "c", lambda meta: char_data(), use_cache=False)
    assert not (tmp_path / "c").exists()


def test_cache_dir_that_is_a_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(RnnaiError, match="not a folder"):
        cached("toy", {"seed": 3}, tmp_path / "f", lambda meta: char_data())
