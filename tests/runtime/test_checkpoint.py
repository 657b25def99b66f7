"""Checkpoints: exact round trip, atomic writes, refusal of corrupt and foreign files."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
import safetensors.torch
import torch

from rnnai.runtime import checkpoint as ckpt_module
from rnnai.runtime.checkpoint import (
    Checkpointer,
    atomic_write_json,
    atomic_write_text,
    pack_state,
    unpack_state,
)
from rnnai.runtime.errors import RnnaiError

FINGERPRINT = {"experiment": "lstm.adding", "scale": "quick", "seed": 0, "config_hash": "abc"}


def _tensors() -> dict[str, torch.Tensor]:
    return {
        "w": torch.arange(12, dtype=torch.float32).reshape(3, 4),
        "bf": torch.tensor([1.5, -2.25], dtype=torch.bfloat16),
        "ids": torch.tensor([1, 2, 3], dtype=torch.int64),
        "mask": torch.tensor([True, False]),
        "scalar": torch.tensor(3.0),
        "gen": torch.Generator().manual_seed(4).get_state(),
    }


@pytest.fixture
def ckpt(tmp_path: Path) -> Checkpointer:
    return Checkpointer(tmp_path / "run" / "checkpoint.safetensors", FINGERPRINT)


def test_load_returns_none_without_a_file(ckpt: Checkpointer) -> None:
    assert ckpt.load() is None
    assert not ckpt.exists()


def test_save_then_load_roundtrips_tensors_and_state_exactly(ckpt: Checkpointer) -> None:
    state = {"step": 7, "losses": [0.5, 0.25], "nan": math.nan, "np": np.float32(0.5)}
    ckpt.save(_tensors(), state)
    tensors, loaded = ckpt.load()
    for name, t in _tensors().items():
        assert tensors[name].dtype == t.dtype
        assert torch.equal(tensors[name], t)
    assert loaded["step"] == 7 and loaded["losses"] == [0.5, 0.25] and loaded["np"] == 0.5
    assert math.isnan(loaded["nan"])


def test_save_accepts_views_that_share_storage(ckpt: Checkpointer) -> None:
    base = torch.arange(10.0)
    ckpt.save({"a": base[:5], "b": base[5:], "t": base.reshape(2, 5).t()}, {})
    tensors, _ = ckpt.load()
    assert torch.equal(tensors["t"], base.reshape(2, 5).t())


def test_save_leaves_no_temp_files(ckpt: Checkpointer) -> None:
    for step in range(3):
        ckpt.save(_tensors(), {"step": step})
    assert sorted(p.name for p in ckpt.path.parent.iterdir()) == ["checkpoint.safetensors"]


def test_failed_save_keeps_the_old_checkpoint(
    ckpt: Checkpointer, monkeypatch: pytest.MonkeyPatch
) -> None:
    ckpt.save(_tensors(), {"step": 1})

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ckpt_module.os, "replace", broken_replace)
    with pytest.raises(OSError):
        ckpt.save(_tensors(), {"step": 2})
    monkeypatch.undo()
    assert ckpt.load()[1]["step"] == 1
    assert sorted(p.name for p in ckpt.path.parent.iterdir()) == ["checkpoint.safetensors"]


def test_clear_removes_checkpoint_and_stale_temp_files(ckpt: Checkpointer) -> None:
    ckpt.save(_tensors(), {})
    stale = ckpt.path.parent / f".{ckpt.path.name}.abc123.tmp"
    stale.write_bytes(b"half a checkpoint")
    ckpt.clear()
    assert list(ckpt.path.parent.iterdir()) == []


def test_truncated_checkpoint_raises_rnnai_error(ckpt: Checkpointer) -> None:
    ckpt.save(_tensors(), {"step": 1})
    data = ckpt.path.read_bytes()
    ckpt.path.write_bytes(data[: len(data) // 2])
    with pytest.raises(RnnaiError, match="corrupt"):
        ckpt.load()


def test_garbage_file_raises_rnnai_error(ckpt: Checkpointer) -> None:
    ckpt.path.parent.mkdir(parents=True)
    ckpt.path.write_bytes(b"this is not a safetensors file at all")
    with pytest.raises(RnnaiError, match="corrupt"):
        ckpt.load()


def test_empty_file_raises_rnnai_error(ckpt: Checkpointer) -> None:
    ckpt.path.parent.mkdir(parents=True)
    ckpt.path.write_bytes(b"")
    with pytest.raises(RnnaiError, match="corrupt"):
        ckpt.load()


def test_flipped_byte_in_tensor_data_raises_rnnai_error(ckpt: Checkpointer) -> None:
    ckpt.save({"w": torch.zeros(64)}, {"step": 1})
    data = bytearray(ckpt.path.read_bytes())
    data[-10] ^= 0xFF
    ckpt.path.write_bytes(bytes(data))
    with pytest.raises(RnnaiError, match="checksum"):
        ckpt.load()


def test_safetensors_file_without_rnnai_metadata_raises_rnnai_error(ckpt: Checkpointer) -> None:
    ckpt.path.parent.mkdir(parents=True)
    safetensors.torch.save_file({"w": torch.zeros(2)}, str(ckpt.path))
    with pytest.raises(RnnaiError, match="not an rnnai checkpoint"):
        ckpt.load()


def test_foreign_fingerprint_raises_rnnai_error_naming_the_difference(
    ckpt: Checkpointer,
) -> None:
    Checkpointer(ckpt.path, {**FINGERPRINT, "seed": 1}).save(_tensors(), {})
    with pytest.raises(RnnaiError) as info:
        ckpt.load()
    message = str(info.value)
    assert "belongs to experiment lstm.adding scale quick seed 1" in message
    assert "differs in seed" in message
    assert "\n" not in message


def test_pack_unpack_roundtrips_optimizer_like_state() -> None:
    obj = {
        "state": {0: {"momentum_buffer": torch.ones(3), "step": torch.tensor(5.0)}},
        "param_groups": [{"params": [0, 1], "betas": (0.9, 0.999), "lr": 0.1}],
        "gen": torch.Generator().manual_seed(1).get_state(),
        "array": np.arange(4, dtype=np.int32),
        "scalar": np.float64(2.5),
    }
    tensors, skeleton = pack_state(obj, prefix="opt")
    skeleton = json.loads(json.dumps(skeleton))  # as stored in a checkpoint
    back = unpack_state(skeleton, tensors)
    assert list(back["state"]) == [0]
    assert torch.equal(back["state"][0]["momentum_buffer"], torch.ones(3))
    assert back["param_groups"][0]["betas"] == (0.9, 0.999)
    assert torch.equal(back["gen"], obj["gen"])
    assert back["array"].dtype == np.int32 and np.array_equal(back["array"], obj["array"])
    assert back["scalar"] == 2.5
    assert all(name.startswith("opt.") for name in tensors)


def test_pack_state_rejects_unsupported_objects() -> None:
    with pytest.raises(TypeError, match="object"):
        pack_state({"x": object()})


def test_atomic_write_json_is_strict(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        atomic_write_json(tmp_path / "a.json", {"x": float("nan")})
    assert not (tmp_path / "a.json").exists()
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_json_converts_numpy_values(tmp_path: Path) -> None:
    atomic_write_json(tmp_path / "a.json", {"i": np.int64(3), "a": np.arange(2), "b": np.bool_(1)})
    assert json.loads((tmp_path / "a.json").read_text()) == {"i": 3, "a": [0, 1], "b": True}


def test_atomic_write_text_replaces_content_and_uses_default_permissions(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    atomic_write_text(path, "old")
    atomic_write_text(path, "new")
    assert path.read_text() == "new"
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
