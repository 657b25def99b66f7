"""Shared fixtures of the runtime tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from rnnai.runtime.results import build_result


@pytest.fixture
def make_result() -> Callable[..., dict[str, Any]]:
    """A factory of valid results; keyword arguments override build_result's arguments."""

    def make(**overrides: Any) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "experiment": "lstm.adding",
            "scale": "quick",
            "seed": 0,
            "paper": {
                "citation": "Hochreiter & Schmidhuber 1997, Exp. 4",
                "metric": "seqs",
                "value": 74000,
            },
            "headline_metric": "seqs",
            "headline_value": 51234.5,
            "metrics": {"error": np.float32(0.125), "curve": np.arange(3)},
            "verdict": "reproduced",
            "wall_s": 12.3456,
            "config": {"hidden": 8},
            "plots": ["curve.png"],
            "notes": "",
        }
        kwargs.update(overrides)
        return build_result(**kwargs)

    return make
