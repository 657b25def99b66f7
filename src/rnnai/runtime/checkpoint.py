"""Atomic checkpoints (one safetensors file) and atomic text/JSON writes.

A checkpoint is one ``.safetensors`` file: the tensors, plus three strings in the file's metadata,
``rnnai_state`` (the JSON state: step counters, loss history, numpy rng state, ...),
``rnnai_fingerprint`` (JSON: which experiment, scale, seed and config the checkpoint belongs to) and
``rnnai_sha256`` (a digest of the tensors and the state, so a damaged file is refused instead of
silently resuming from garbage).

Writes are atomic: the bytes go to a temp file in the same folder, which is flushed and fsynced,
renamed over the old file with ``os.replace`` and then the folder itself is fsynced. A process
killed at any moment leaves either the old checkpoint or the new one, never a mix (at worst a stray
temp file, which `Checkpointer.clear` and the next save remove).

`pack_state` / `unpack_state` split any nested structure holding tensors (a module's or an
optimizer's ``state_dict``, a ``torch.Generator`` state) into the tensors and a JSON skeleton, so an
experiment can checkpoint everything with one call::

    tensors, skeleton = pack_state({"model": model.state_dict(), "optim": opt.state_dict()})
    ckpt.save(tensors, {"step": step, "nets": skeleton})
    ...
    tensors, state = ckpt.load()
    nets = unpack_state(state["nets"], tensors)

Examples:
    >>> import tempfile
    >>> from pathlib import Path
    >>> import torch
    >>> from rnnai.runtime.checkpoint import Checkpointer, pack_state, unpack_state
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = Path(folder.name) / "run.safetensors"
    >>> ckpt = Checkpointer(path, {"experiment": "demo", "seed": 0})
    >>> tensors, skeleton = pack_state({"w": torch.ones(2), "momentum": (0.9, 0.99)})
    >>> ckpt.save(tensors, {"step": 3, "nets": skeleton})
    >>> loaded, state = ckpt.load()
    >>> state["step"], unpack_state(state["nets"], loaded)["momentum"]
    (3, (0.9, 0.99))
    >>> Checkpointer(ckpt.path, {"experiment": "demo", "seed": 1}).load()  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    rnnai.runtime.errors.RnnaiError: checkpoint ... (differs in seed); delete it or run without ...
    >>> folder.cleanup()
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import safetensors.torch
import torch

from rnnai.runtime.errors import RnnaiError, RnnaiTypeError

__all__ = [
    "Checkpointer",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "json_default",
    "pack_state",
    "unpack_state",
]

_FORMAT = "rnnai-checkpoint-1"
_TMP_SUFFIX = ".tmp"


# --------------------------------------------------------------------------- atomic writes


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable. Not every platform/file system allows opening a directory.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path | str, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: temp file, flush, fsync, rename, fsync the folder.

    Args:
        path: The destination; its folder must exist.
        data: The file's new content.

    Raises:
        OSError: If the folder cannot be written; ``path`` is then left as it was.
    """
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=_TMP_SUFFIX)
    try:
        # mkstemp creates the file private (0600); give it the mode a plain open() would have.
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    _fsync_dir(path.parent)


def atomic_write_text(path: Path | str, text: str) -> None:
    """Write UTF-8 text to ``path`` atomically (see `atomic_write_bytes`).

    Args:
        path: The destination; its folder must exist.
        text: The text.
    """
    atomic_write_bytes(path, text.encode("utf-8"))


def json_default(obj: Any) -> Any:
    """``default=`` hook for ``json.dumps``: numpy scalars/arrays, 0-d tensors and paths.

    Args:
        obj: An object the json module cannot encode by itself.

    Returns:
        Its plain-Python equivalent.

    Raises:
        RnnaiTypeError: For any other type, naming it.
    """
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, torch.Tensor) and obj.numel() == 1:
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    raise RnnaiTypeError(f"object of type {type(obj).__name__} is not JSON serializable")


def atomic_write_json(path: Path | str, obj: Any) -> None:
    """Write strict JSON (no NaN/Infinity tokens), indented, to ``path`` atomically.

    Numpy scalars and arrays are converted (see `json_default`); non-finite floats are an error, so
    convert them first (`rnnai.runtime.results.to_jsonable` turns them into ``null``).

    Args:
        path: The destination; its folder must exist.
        obj: A JSON-able object.

    Raises:
        RnnaiError: If ``obj`` holds NaN or infinity.
        RnnaiTypeError: If ``obj`` holds an object that is not JSON-able.
    """
    try:
        text = json.dumps(obj, indent=2, allow_nan=False, default=json_default, ensure_ascii=False)
    except ValueError as e:  # NaN or infinity (an RnnaiTypeError passes through unchanged)
        if isinstance(e, RnnaiError):
            raise
        raise RnnaiError(f"cannot write {path} as strict JSON: {e}") from e
    atomic_write_text(path, text + "\n")


# --------------------------------------------------------------------------- pack / unpack


def pack_state(obj: Any, prefix: str = "") -> tuple[dict[str, torch.Tensor], Any]:
    """Split a nested structure into its tensors and a JSON-able skeleton.

    Dicts (also with int keys, as in optimizer state dicts), lists, tuples, tensors, numpy arrays,
    numpy scalars and JSON scalars are supported; `unpack_state` rebuilds the exact structure.

    Args:
        obj: The structure, e.g. ``{"model": model.state_dict(), "optim": opt.state_dict(),
            "gen": generator.get_state()}``.
        prefix: Prepended to the tensor names (to pack several structures into one checkpoint).

    Returns:
        ``(tensors, skeleton)``: the tensors by generated name, and a JSON-able skeleton that
        refers to them.

    Raises:
        RnnaiTypeError: For objects that are neither containers, arrays nor JSON scalars.
    """
    tensors: dict[str, torch.Tensor] = {}

    def walk(value: Any, path: str) -> Any:
        if isinstance(value, torch.Tensor):
            tensors[path] = value
            return {"__tensor__": path}
        if isinstance(value, np.ndarray):
            tensors[path] = torch.from_numpy(np.ascontiguousarray(value))
            return {"__ndarray__": path}
        if isinstance(value, np.generic):
            return json_default(value)
        if isinstance(value, Mapping):
            plain_keys = all(isinstance(k, str) and not k.startswith("__") for k in value)
            if plain_keys:
                return {k: walk(v, f"{path}.{k}" if path else k) for k, v in value.items()}
            items = []
            for k, v in value.items():
                if not isinstance(k, str | int) or isinstance(k, bool):
                    raise RnnaiTypeError(f"cannot pack dict key {k!r} of type {type(k).__name__}")
                items.append([k, walk(v, f"{path}.{k}" if path else str(k))])
            return {"__items__": items}
        if isinstance(value, tuple):
            return {"__tuple__": [walk(v, f"{path}.{i}") for i, v in enumerate(value)]}
        if isinstance(value, list):
            return [walk(v, f"{path}.{i}") for i, v in enumerate(value)]
        if value is None or isinstance(value, bool | int | float | str):
            return value
        raise RnnaiTypeError(f"cannot pack {path or 'value'} of type {type(value).__name__}")

    skeleton = walk(obj, prefix)
    return tensors, skeleton


def unpack_state(skeleton: Any, tensors: Mapping[str, torch.Tensor]) -> Any:
    """Rebuild a structure packed by `pack_state`.

    Args:
        skeleton: The skeleton returned by `pack_state` (after a JSON round trip).
        tensors: The tensors, e.g. as loaded from a checkpoint.

    Returns:
        The original structure: dict keys, tuples, tensors and numpy arrays restored.

    Raises:
        KeyError: If a referenced tensor is missing.
    """
    if isinstance(skeleton, dict):
        if "__tensor__" in skeleton:
            return tensors[skeleton["__tensor__"]]
        if "__ndarray__" in skeleton:
            return tensors[skeleton["__ndarray__"]].numpy()
        if "__tuple__" in skeleton:
            return tuple(unpack_state(v, tensors) for v in skeleton["__tuple__"])
        if "__items__" in skeleton:
            return {k: unpack_state(v, tensors) for k, v in skeleton["__items__"]}
        return {k: unpack_state(v, tensors) for k, v in skeleton.items()}
    if isinstance(skeleton, list):
        return [unpack_state(v, tensors) for v in skeleton]
    return skeleton


# --------------------------------------------------------------------------- checkpointer


def _digest(tensors: Mapping[str, torch.Tensor], state_json: str) -> str:
    h = hashlib.sha256()
    for name in sorted(tensors):
        t = tensors[name]
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.contiguous().reshape(-1).view(torch.uint8).numpy().data)
    h.update(state_json.encode("utf-8"))
    return h.hexdigest()


def _describe(fingerprint: Mapping[str, Any], order: Mapping[str, Any]) -> str:
    keys = [k for k in order if k in fingerprint] + [k for k in fingerprint if k not in order]
    return " ".join(f"{k} {fingerprint[k]}" for k in keys)


class Checkpointer:
    """One atomic safetensors checkpoint with a JSON state and an ownership fingerprint.

    Args:
        path: The checkpoint file (``.safetensors``); its folder is created on the first save.
        fingerprint: JSON-able identity of the run the checkpoint belongs to, e.g.
            ``{"experiment": "lstm.adding", "scale": "quick", "seed": 0, "config_hash": "..."}``.
            `load` refuses a file whose fingerprint differs.
    """

    def __init__(self, path: Path | str, fingerprint: Mapping[str, Any]) -> None:
        self.path = Path(path)
        # Normalized through JSON so that it compares equal to the copy read back from a file.
        normalized = json.dumps(dict(fingerprint), default=json_default)
        self.fingerprint: dict[str, Any] = json.loads(normalized)

    def __repr__(self) -> str:
        return f"Checkpointer({str(self.path)!r}, {self.fingerprint!r})"

    def exists(self) -> bool:
        """Return whether a checkpoint file exists (it may still be corrupt)."""
        return self.path.is_file()

    def _stale_temps(self) -> list[Path]:
        if not self.path.parent.is_dir():
            return []
        return list(self.path.parent.glob(f".{self.path.name}.*{_TMP_SUFFIX}"))

    def clear(self) -> None:
        """Delete the checkpoint and any temp file left by a killed save."""
        for stale in self._stale_temps():
            stale.unlink(missing_ok=True)
        self.path.unlink(missing_ok=True)

    def save(self, tensors: Mapping[str, torch.Tensor], state: Mapping[str, Any]) -> None:
        """Atomically replace the checkpoint with ``tensors`` and ``state``.

        Args:
            tensors: Named tensors (any device; stored on the CPU, contiguous, copied so that views
                sharing storage are fine).
            state: JSON-able state (numpy scalars are converted; NaN/inf survive the round trip).

        Raises:
            RnnaiTypeError: If ``state`` is not JSON-able or a value in ``tensors`` is not a
                tensor.
            OSError: If the file cannot be written; the previous checkpoint is then kept.
        """
        cpu: dict[str, torch.Tensor] = {}
        for name, t in tensors.items():
            if not isinstance(t, torch.Tensor):
                raise RnnaiTypeError(
                    f"checkpoint tensor {name!r} is a {type(t).__name__}, not a Tensor"
                )
            cpu[name] = t.detach().to("cpu", copy=True).contiguous()
        state_json = json.dumps(dict(state), default=json_default, sort_keys=True)
        metadata = {
            "rnnai_format": _FORMAT,
            "rnnai_state": state_json,
            "rnnai_fingerprint": json.dumps(self.fingerprint, sort_keys=True),
            "rnnai_sha256": _digest(cpu, state_json),
        }
        data = safetensors.torch.save(cpu, metadata=metadata)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for stale in self._stale_temps():
            stale.unlink(missing_ok=True)
        atomic_write_bytes(self.path, data)

    def _corrupt(self, reason: str) -> RnnaiError:
        return RnnaiError(
            f"checkpoint {self.path} is corrupt or not an rnnai checkpoint ({reason}); "
            "delete it or run without --resume"
        )

    def load(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]] | None:
        """Read the checkpoint.

        Returns:
            ``(tensors, state)``, or None when there is no checkpoint file.

        Raises:
            RnnaiError: If the file is corrupt, truncated or not a safetensors checkpoint written by
                rnnai, or if it belongs to another run (the message names the differing keys).
        """
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as e:
            raise RnnaiError(f"cannot read checkpoint {self.path}: {e.strerror or e}") from e
        try:
            header_len = int.from_bytes(data[:8], "little")
            if len(data) < 8 or header_len > len(data) - 8:
                raise ValueError("truncated header")
            header = json.loads(data[8 : 8 + header_len])
            metadata = header.get("__metadata__") or {}
            tensors = safetensors.torch.load(data)
        except Exception as e:  # safetensors raises its own error types; all mean "corrupt"
            raise self._corrupt(str(e).splitlines()[0] if str(e) else type(e).__name__) from e
        if metadata.get("rnnai_format") != _FORMAT:
            raise self._corrupt("no rnnai metadata")
        try:
            fingerprint = json.loads(metadata["rnnai_fingerprint"])
            state_json = metadata["rnnai_state"]
            state = json.loads(state_json)
            digest = metadata["rnnai_sha256"]
        except (KeyError, ValueError) as e:
            raise self._corrupt(f"bad metadata: {e}") from e
        if _digest(tensors, state_json) != digest:
            raise self._corrupt("checksum mismatch")
        if fingerprint != self.fingerprint:
            differing = sorted(
                k
                for k in set(fingerprint) | set(self.fingerprint)
                if fingerprint.get(k) != self.fingerprint.get(k)
            )
            raise RnnaiError(
                f"checkpoint {self.path} belongs to {_describe(fingerprint, self.fingerprint)}, "
                f"not {_describe(self.fingerprint, self.fingerprint)} "
                f"(differs in {', '.join(differing)}); "
                "delete it or run without --resume"
            )
        return tensors, state
