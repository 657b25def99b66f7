"""Explicit, reproducible randomness.

Every random draw in rnnai comes from a generator built here from an integer seed; nothing reads or
writes numpy's or torch's global random state. `derive_seed` turns one run seed into independent
seeds for named streams (``derive_seed(seed, "data")``, ``derive_seed(seed, "init", layer)``) with a
stable hash, so the streams are the same on every machine and Python process (unlike ``hash()``,
which is salted per process).

Generator state can be saved in a checkpoint: `numpy_rng_state` gives a JSON-able dict and
`set_numpy_rng_state` restores it; a ``torch.Generator`` saves its state with ``gen.get_state()``
(a uint8 tensor, to be stored among the checkpoint's tensors) and restores it with
``gen.set_state(tensor)``.

Examples:
    >>> from rnnai.runtime.seeding import derive_seed, make_rng, numpy_rng_state
    >>> derive_seed(0, "data") == derive_seed(0, "data") != derive_seed(0, "init")
    True
    >>> a, b = make_rng(derive_seed(0, "data")), make_rng(derive_seed(0, "data"))
    >>> bool(a.random() == b.random())
    True
    >>> numpy_rng_state(a)["bit_generator"]
    'PCG64'
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

import numpy as np

from rnnai.runtime.errors import RnnaiError, RnnaiTypeError

__all__ = [
    "derive_seed",
    "make_rng",
    "numpy_rng_state",
    "set_numpy_rng_state",
    "torch_generator",
]

if TYPE_CHECKING:  # torch is imported lazily: numpy-only users (evolution workers) skip its import
    import torch

_SEED_BITS = 63  # torch.Generator.manual_seed and most APIs accept a non-negative int64


def _check_seed(seed: int) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise RnnaiTypeError(f"seed must be an int, got {type(seed).__name__}")
    if seed < 0:
        raise RnnaiError(f"seed must be >= 0, got {seed}")
    return int(seed)


def make_rng(seed: int | np.random.Generator) -> np.random.Generator:
    """Return a numpy generator for a seed.

    Args:
        seed: A non-negative integer, or an existing generator (returned unchanged, so functions can
            accept either).

    Returns:
        A ``numpy.random.Generator`` (PCG64) seeded with ``seed``.

    Raises:
        RnnaiError: If ``seed`` is negative.
        RnnaiTypeError: If ``seed`` is neither an int nor a generator.
    """
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(_check_seed(seed))


def torch_generator(seed: int, device: str | torch.device = "cpu") -> torch.Generator:
    """Return a ``torch.Generator`` seeded with ``seed``.

    Args:
        seed: A non-negative integer.
        device: The device of the generator.

    Returns:
        A new generator; pass it as ``generator=`` to torch's random functions.
    """
    import torch

    gen = torch.Generator(device=device)
    gen.manual_seed(_check_seed(seed))
    return gen


def _key_words(key: int | str | bytes) -> list[int]:
    """Map one key to 32-bit words, tagged by type so that 1 and "1" give different seeds."""
    if isinstance(key, bool) or not isinstance(key, int | np.integer | str | bytes):
        raise RnnaiTypeError(f"keys must be int, str or bytes, got {type(key).__name__}")
    if isinstance(key, int | np.integer):
        value = int(key)
        if value < 0:
            raise RnnaiError(f"integer keys must be >= 0, got {value}")
        words = [0]
        while True:
            words.append(value & 0xFFFFFFFF)
            value >>= 32
            if not value:
                return words
    data = key.encode("utf-8") if isinstance(key, str) else key
    digest = hashlib.sha256(data).digest()
    return [1] + [int.from_bytes(digest[i : i + 4], "little") for i in range(0, 32, 4)]


def derive_seed(seed: int, *keys: int | str | bytes) -> int:
    """Derive an independent, stable seed for a named random stream.

    Args:
        seed: The run seed (a non-negative integer).
        *keys: Names or indices of the stream, e.g. ``("data",)`` or ``("init", 3)``.

    Returns:
        A non-negative integer below ``2**63``; the same for the same arguments on every machine.

    Raises:
        RnnaiError: If ``seed`` or an integer key is negative.
        RnnaiTypeError: If ``seed`` or a key is not an int (a key: int, str or bytes).
    """
    entropy = [_check_seed(seed)]
    for key in keys:
        entropy.extend(_key_words(key))
    # SeedSequence mixes its entropy well; the length word keeps ("a", "b") apart from ("ab",).
    sequence = np.random.SeedSequence([*entropy, len(keys)])
    return int(sequence.generate_state(1, np.uint64)[0]) >> (64 - _SEED_BITS)


def _to_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _to_json(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return {"__ndarray__": value.tolist(), "dtype": str(value.dtype)}
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, list | tuple):
        return [_to_json(v) for v in value]
    return value


def _from_json(value: Any) -> Any:
    if isinstance(value, dict):
        if "__ndarray__" in value:
            return np.asarray(value["__ndarray__"], dtype=value["dtype"])
        return {k: _from_json(v) for k, v in value.items()}
    return value


def numpy_rng_state(gen: np.random.Generator) -> dict[str, Any]:
    """Return the state of a numpy generator as a JSON-able dict.

    Args:
        gen: The generator.

    Returns:
        A dict of plain JSON types (arrays of bit generators such as MT19937 are encoded as lists
        with their dtype); give it to `set_numpy_rng_state` to restore the exact stream.
    """
    return _to_json(gen.bit_generator.state)


def set_numpy_rng_state(gen: np.random.Generator, state: dict[str, Any]) -> None:
    """Restore a numpy generator to a state returned by `numpy_rng_state`.

    Args:
        gen: The generator to modify in place; it must use the same bit generator as the saved one.
        state: The saved state.

    Raises:
        RnnaiError: If the state belongs to another kind of bit generator.
    """
    wanted = type(gen.bit_generator).__name__
    if state.get("bit_generator") != wanted:
        raise RnnaiError(
            f"numpy rng state is for {state.get('bit_generator')!r}, "
            f"but the generator uses {wanted!r}"
        )
    gen.bit_generator.state = _from_json(state)
