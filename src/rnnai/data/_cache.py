"""The on-disk cache of generated data sets (shared by `rnnai.data.speech` and `.text_lines`).

A data set is cached under ``<cache_dir>/<kind>-<key>.npz``, where ``key`` is a SHA-256 digest of
everything its content depends on: the config, the seed, n, the data-format version and the
versions of the tools that made it (espeak-ng, librosa, Pillow/FreeType, numpy). A changed input
gives a new file name; nothing is ever looked up by a partial match.

File format: one uncompressed ``.npz`` written atomically (temp file, fsync, rename; see
`rnnai.runtime.checkpoint.atomic_write_bytes`) and read with ``allow_pickle=False``; there is no
pickle anywhere. The ragged per-item arrays are stored concatenated with their lengths; texts,
alphabet and span words as numpy unicode arrays; ``meta`` (which also holds the cache key) as a
JSON string; and ``sha256``, a digest of all other arrays. A file that cannot be read, lacks an
array, has another format version or key, or fails the digest is corrupt: `cached` warns, deletes
and regenerates it, so a damaged cache is never used.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from rnnai.data.sequences import LabelledSequences
from rnnai.runtime.checkpoint import atomic_write_bytes, json_default
from rnnai.runtime.errors import RnnaiError

__all__ = [
    "FORMAT_VERSION",
    "CacheError",
    "cache_key",
    "cached",
    "default_cache_dir",
    "load_sequences",
    "save_sequences",
]

FORMAT_VERSION = "rnnai-data-1"
"""Version of the file layout and of the generators' output; bump it when either changes."""

_ARRAYS = (
    "format",
    "meta",
    "features",
    "feature_lengths",
    "labels",
    "label_lengths",
    "texts",
    "alphabet",
    "has_spans",
    "span_words",
    "span_bounds",
    "span_counts",
)


class CacheError(RnnaiError):
    """A cache file is unreadable, truncated, of another format or fails its checksum."""


def default_cache_dir() -> Path:
    """Return the cache folder: ``$RNNAI_CACHE`` if set (and not empty), else ``~/.cache/rnnai``.

    Returns:
        The folder (it may not exist yet; `cached` creates it).
    """
    env = os.environ.get("RNNAI_CACHE", "").strip()
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "rnnai"


def cache_key(payload: Mapping[str, Any]) -> str:
    """Return a stable digest of a JSON-able payload (24 hex digits of SHA-256).

    Args:
        payload: Everything the cached content depends on (config, seed, n, versions).

    Returns:
        The key; equal payloads give equal keys on every machine and Python process.
    """
    text = json.dumps(dict(payload), sort_keys=True, default=json_default, allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def _digest(arrays: Mapping[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for name in _ARRAYS:
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _unicode(items: list[str]) -> np.ndarray:
    # An explicit width keeps empty lists and lists of empty strings valid (no '<U0').
    width = max([1, *(len(s) for s in items)])
    return np.array(items, dtype=f"<U{width}").reshape(len(items))


def _to_arrays(data: LabelledSequences) -> dict[str, np.ndarray]:
    F = data.feature_dim if len(data) else 0
    spans = data.word_spans
    flat_spans = [s for item in spans for s in item] if spans is not None else []
    arrays = {
        "format": np.array(FORMAT_VERSION),
        "meta": np.array(json.dumps(data.meta, sort_keys=True, default=json_default)),
        "features": (
            np.concatenate(data.features, axis=0)
            if len(data)
            else np.zeros((0, F), dtype=np.float32)
        ),
        "feature_lengths": data.lengths,
        "labels": (
            np.concatenate(data.labels) if len(data) else np.zeros(0, dtype=np.int64)
        ).astype(np.int64),
        "label_lengths": data.label_lengths,
        "texts": _unicode(list(data.texts)),
        "alphabet": _unicode(list(data.alphabet)),
        "has_spans": np.array(spans is not None),
        "span_words": _unicode([w for w, _, _ in flat_spans]),
        "span_bounds": np.array([[a, b] for _, a, b in flat_spans], dtype=np.int64).reshape(-1, 2),
        "span_counts": np.array(
            [len(item) for item in spans] if spans is not None else [], dtype=np.int64
        ),
    }
    arrays["sha256"] = np.array(_digest(arrays))
    return arrays


def save_sequences(path: Path | str, data: LabelledSequences) -> None:
    """Write a data set to ``path`` atomically in the cache format (see the module docstring).

    Args:
        path: The ``.npz`` file; its folder must exist.
        data: The data set.

    Raises:
        OSError: If the folder cannot be written (``path`` is then left as it was).
    """
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **_to_arrays(data))
    atomic_write_bytes(path, buffer.getvalue())


def _split(flat: np.ndarray, lengths: np.ndarray, what: str) -> list[np.ndarray]:
    if lengths.ndim != 1 or (lengths < 0).any() or int(lengths.sum()) != flat.shape[0]:
        raise CacheError(f"{what} lengths do not add up to the stored array")
    return [a.copy() for a in np.split(flat, np.cumsum(lengths)[:-1])] if lengths.size else []


def load_sequences(path: Path | str, *, expected_key: str | None = None) -> LabelledSequences:
    """Read a data set written by `save_sequences`, verifying its format and checksum.

    Args:
        path: The ``.npz`` file.
        expected_key: If given, the cache key its ``meta`` must record.

    Returns:
        The data set.

    Raises:
        CacheError: If the file is unreadable, truncated, of another format version, records
            another key or fails its checksum (the message names the reason).
        FileNotFoundError: If there is no file.
    """
    path = Path(path)
    raw = path.read_bytes()
    try:
        with np.load(io.BytesIO(raw), allow_pickle=False) as z:
            arrays = {name: z[name] for name in (*_ARRAYS, "sha256")}
    except FileNotFoundError:
        raise
    except Exception as e:  # zipfile, numpy and KeyError all mean "not a valid cache file"
        raise CacheError(f"cache file {path} is unreadable ({type(e).__name__}: {e})") from e
    if str(arrays["format"]) != FORMAT_VERSION:
        raise CacheError(f"cache file {path} has format {arrays['format']!s}, not {FORMAT_VERSION}")
    if str(arrays["sha256"]) != _digest(arrays):
        raise CacheError(f"cache file {path} fails its checksum")
    try:
        meta = json.loads(str(arrays["meta"]))
    except ValueError as e:
        raise CacheError(f"cache file {path} has unreadable meta: {e}") from e
    if expected_key is not None and meta.get("cache_key") != expected_key:
        raise CacheError(f"cache file {path} records key {meta.get('cache_key')!r}")
    features = _split(arrays["features"], arrays["feature_lengths"], "feature")
    labels = _split(arrays["labels"], arrays["label_lengths"], "label")
    spans: list[list[tuple[str, int, int]]] | None = None
    if bool(arrays["has_spans"]):
        counts = arrays["span_counts"]
        words = _split(arrays["span_words"], counts, "span")
        bounds = _split(arrays["span_bounds"], counts, "span")
        spans = [
            [(str(w), int(a), int(b)) for w, (a, b) in zip(ws, bs, strict=True)]
            for ws, bs in zip(words, bounds, strict=True)
        ]
    try:
        return LabelledSequences(
            features=features,
            labels=labels,
            texts=[str(t) for t in arrays["texts"]],
            alphabet=tuple(str(s) for s in arrays["alphabet"]),
            word_spans=spans,
            meta=meta,
        )
    except RnnaiError as e:
        raise CacheError(f"cache file {path} holds an invalid data set: {e}") from e


def cached(
    kind: str,
    payload: Mapping[str, Any],
    cache_dir: str | Path | None,
    build: Callable[[dict[str, Any]], LabelledSequences],
    *,
    use_cache: bool = True,
) -> LabelledSequences:
    """Return the cached data set for ``payload``, building and caching it when missing.

    Args:
        kind: The file name prefix (``"speech"``, ``"text_lines"``).
        payload: Everything the content depends on; hashed with `cache_key`.
        cache_dir: The cache folder (None: `default_cache_dir`).
        build: Makes the data set; it receives the ``meta`` dict to store (payload plus
            ``kind`` and ``cache_key``).
        use_cache: If False, build without reading or writing the cache.

    Returns:
        The data set.

    Raises:
        RnnaiError: If ``cache_dir`` exists but is not a folder.
    """
    key = cache_key(payload)
    meta = {"kind": kind, **json.loads(json.dumps(dict(payload), default=json_default))}
    meta["cache_key"] = key
    if not use_cache:
        return build(meta)
    folder = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    if folder.exists() and not folder.is_dir():
        raise RnnaiError(f"cache_dir {folder} exists and is not a folder")
    path = folder / f"{kind}-{key}.npz"
    if path.is_file():
        try:
            return load_sequences(path, expected_key=key)
        except (CacheError, OSError) as e:
            warnings.warn(f"{e}; regenerating it", RuntimeWarning, stacklevel=3)
            path.unlink(missing_ok=True)
    data = build(meta)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        save_sequences(path, data)
    except OSError as e:
        warnings.warn(
            f"could not write the data cache {path} ({e.strerror or e}); "
            "the data set was made but not cached",
            RuntimeWarning,
            stacklevel=3,
        )
    return data
