"""Field checks shared by the environments' frozen config dataclasses (one message per problem)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import fields, replace
from typing import Any, TypeVar

import numpy as np

from rnnai.runtime.errors import RnnaiError

__all__ = [
    "check_finite",
    "check_num_envs",
    "check_positive",
    "check_positive_ints",
    "with_overrides",
]

C = TypeVar("C")


def check_positive(config: object, names: Iterable[str]) -> None:
    """Raise `RnnaiError` unless every named field is a positive finite number."""
    for name in names:
        value = getattr(config, name)
        if not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
            raise RnnaiError(f"{name} must be a positive finite number, got {value!r}")


def check_finite(config: object, names: Iterable[str]) -> None:
    """Raise `RnnaiError` unless every named field is a finite number."""
    for name in names:
        value = getattr(config, name)
        if not isinstance(value, int | float) or not math.isfinite(value):
            raise RnnaiError(f"{name} must be a finite number, got {value!r}")


def check_positive_ints(config: object, names: Iterable[str]) -> None:
    """Raise `RnnaiError` unless every named field is an int >= 1 (bools refused)."""
    for name in names:
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise RnnaiError(f"{name} must be an int >= 1, got {value!r}")


def with_overrides(config: C, overrides: dict[str, Any]) -> C:
    """A copy of the dataclass ``config`` with some fields replaced; unknown names are refused."""
    names = {f.name for f in fields(config)}  # type: ignore[arg-type]
    unknown = sorted(set(overrides) - names)
    if unknown:
        kind = type(config).__name__
        raise RnnaiError(f"unknown {kind} field(s) {unknown}; valid: {sorted(names)}")
    return replace(config, **overrides)  # type: ignore[type-var]


def check_num_envs(num_envs: Any) -> int:
    """Return a vector env's ``num_envs`` as an int, or raise `RnnaiError` unless it is >= 1."""
    if isinstance(num_envs, bool) or not isinstance(num_envs, int | np.integer) or num_envs < 1:
        raise RnnaiError(f"num_envs must be an int >= 1, got {num_envs!r}")
    return int(num_envs)
