"""``result.json``: building, strict writing and validated reading.

The schema (see DESIGN.md and docs/CONTRACTS.md)::

    {"experiment": "lstm.adding", "scale": "quick", "seed": 0,
     "paper": {"citation": "...", "metric": "...", "value": 74000},
     "headline": {"metric": "...", "value": 51200},
     "metrics": {...}, "verdict": "reproduced" | "partial" | "not_reproduced",
     "wall_s": 123.4, "versions": {"rnnai": ..., "torch": ..., "numpy": ..., "python": ...},
     "config": {...}, "plots": ["curve.png"], "notes": "..."}

The JSON is strict: numpy scalars and arrays become plain numbers and lists, and NaN or infinity
(which strict JSON cannot hold) become ``null``; every such replacement is listed in ``notes`` so a
reader knows a ``null`` metric was not finite rather than missing.

`read_result` checks the types of every field the report uses, so a damaged or foreign file is
an `RnnaiError` naming the file, never a crash further on.

Examples:
    >>> import numpy as np
    >>> from rnnai.runtime.results import check_verdict, to_jsonable
    >>> nonfinite = []
    >>> to_jsonable({"loss": float("nan"), "n": np.int64(3), "curve": np.arange(3)}, nonfinite)
    {'loss': None, 'n': 3, 'curve': [0, 1, 2]}
    >>> nonfinite
    ['loss (nan)']
    >>> check_verdict("partial")
    'partial'
"""

from __future__ import annotations

import json
import math
import platform
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

import rnnai
from rnnai.runtime.checkpoint import atomic_write_json
from rnnai.runtime.errors import RnnaiError, RnnaiTypeError

__all__ = [
    "REQUIRED_KEYS",
    "VERDICTS",
    "build_result",
    "check_verdict",
    "read_result",
    "to_jsonable",
    "versions",
    "write_result",
]

VERDICTS: tuple[str, ...] = ("reproduced", "partial", "not_reproduced")
"""The allowed values of ``verdict``."""

REQUIRED_KEYS: tuple[str, ...] = (
    "experiment",
    "scale",
    "seed",
    "paper",
    "headline",
    "metrics",
    "verdict",
    "wall_s",
    "versions",
    "config",
    "plots",
    "notes",
)
"""The keys of a result, in the order they are written."""


def check_verdict(verdict: str) -> str:
    """Return ``verdict`` if it is one of `VERDICTS`.

    Args:
        verdict: The verdict to check.

    Returns:
        The verdict unchanged.

    Raises:
        RnnaiError: Naming the allowed values.
    """
    if verdict not in VERDICTS:
        raise RnnaiError(f"verdict must be one of {', '.join(VERDICTS)}, got {verdict!r}")
    return verdict


def versions() -> dict[str, str]:
    """Return the versions that a result records: rnnai, torch, numpy, python."""
    return {
        "rnnai": rnnai.__version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


def to_jsonable(obj: Any, nonfinite: list[str] | None = None, path: str = "") -> Any:
    """Convert ``obj`` to strict-JSON types.

    Numpy scalars/arrays and tensors become Python numbers/lists, tuples become lists, paths become
    strings, and NaN/infinity become None.

    Args:
        obj: The object.
        nonfinite: If given, the dotted path of every replaced non-finite number is appended,
            with its value (e.g. ``"metrics.loss (nan)"``).
        path: The dotted path of ``obj`` itself (used in ``nonfinite``).

    Returns:
        A structure of dict/list/str/int/float/bool/None without NaN or infinity.

    Raises:
        RnnaiTypeError: For objects with no JSON equivalent.
    """
    if isinstance(obj, np.ndarray):
        obj = obj.tolist()
    elif isinstance(obj, torch.Tensor):
        obj = obj.detach().cpu().tolist()
    elif isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float):
        if math.isfinite(obj):
            return obj
        if nonfinite is not None:
            nonfinite.append(f"{path or 'value'} ({obj})")
        return None
    if obj is None or isinstance(obj, bool | int | str):
        return obj
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, Mapping):
        out = {}
        for key, value in obj.items():
            if not isinstance(key, str | int) or isinstance(key, bool):
                raise RnnaiTypeError(
                    f"JSON keys must be strings, got {key!r} at {path or 'top level'}"
                )
            out[str(key)] = to_jsonable(value, nonfinite, f"{path}.{key}" if path else str(key))
        return out
    if isinstance(obj, list | tuple):
        return [to_jsonable(v, nonfinite, f"{path}[{i}]") for i, v in enumerate(obj)]
    raise RnnaiTypeError(f"{path or 'value'} of type {type(obj).__name__} is not JSON-able")


def build_result(
    *,
    experiment: str,
    scale: str,
    seed: int,
    paper: Mapping[str, Any],
    headline_metric: str,
    headline_value: float | int | None,
    metrics: Mapping[str, Any],
    verdict: str,
    wall_s: float,
    config: Mapping[str, Any],
    plots: list[str],
    notes: str = "",
    judgement: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Assemble a result dict in the documented schema.

    Args:
        experiment: The experiment's registered name.
        scale: ``smoke``, ``quick`` or ``paper``.
        seed: The run seed.
        paper: ``{"citation", "metric", "value"}`` of the paper's claim.
        headline_metric: What our headline number measures.
        headline_value: Our headline number (None when the run produced none).
        metrics: Deterministic metrics of the run.
        verdict: One of `VERDICTS`.
        wall_s: Wall-clock seconds of the run (including resumed parts).
        config: The experiment's config at this scale.
        plots: Plot file names, relative to the experiment's folder.
        notes: Free text (non-finite replacements are appended).
        judgement: ``Judgement.to_dict()`` of the verdict (its tests, n and intervals), or None.

    Returns:
        The result, strict-JSON-able, keys in `REQUIRED_KEYS` order.

    Raises:
        RnnaiError: If ``verdict`` is not allowed or ``paper`` lacks a key.
        RnnaiTypeError: If a value has no JSON equivalent.
    """
    check_verdict(verdict)
    missing = [k for k in ("citation", "metric", "value") if k not in paper]
    if missing:
        raise RnnaiError(f"paper claim lacks {', '.join(missing)}")
    nonfinite: list[str] = []
    result = {
        "experiment": experiment,
        "scale": scale,
        "seed": int(seed),
        "paper": {k: paper[k] for k in ("citation", "metric", "value")},
        "headline": {"metric": headline_metric, "value": headline_value},
        "metrics": dict(metrics),
        "verdict": verdict,
        "wall_s": round(float(wall_s), 3),
        "versions": versions(),
        "config": dict(config),
        "plots": [str(p) for p in plots],
        "notes": notes,
    }
    if judgement is not None:
        result["judgement"] = dict(judgement)
    result = to_jsonable(result, nonfinite)
    if nonfinite:
        message = "Not finite, written as null: " + ", ".join(nonfinite) + "."
        result["notes"] = f"{result['notes']}\n\n{message}" if result["notes"] else message
    return result


def write_result(path: Path | str, result: Mapping[str, Any]) -> None:
    """Validate ``result`` and write it atomically as strict, indented JSON.

    Args:
        path: The destination, normally ``OUT/<name>/result.json``.
        result: A result as built by `build_result`.

    Raises:
        RnnaiError: If a key is missing, a value has the wrong type or the verdict is not
            allowed.
    """
    _validate(dict(result), str(path), RnnaiError)
    atomic_write_json(path, to_jsonable(result))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _type_errors(result: dict[str, Any]) -> list[str]:
    """What in a result (with all required keys) has the wrong type, as ``key: expected`` items."""
    expected: list[tuple[str, Any, str]] = [
        ("experiment", result["experiment"], "a string"),
        ("scale", result["scale"], "a string"),
        ("seed", result["seed"], "an integer >= 0"),
        ("metrics", result["metrics"], "an object"),
        ("wall_s", result["wall_s"], "a number or null"),
        ("versions", result["versions"], "an object"),
        ("config", result["config"], "an object"),
        ("plots", result["plots"], "a list of strings"),
        ("notes", result["notes"], "a string"),
    ]
    paper, headline = result["paper"], result["headline"]
    expected += [
        ("paper.citation", paper["citation"], "a string"),
        ("paper.metric", paper["metric"], "a string"),
        ("paper.value", paper["value"], "a number or null"),
        ("headline.metric", headline["metric"], "a string"),
        ("headline.value", headline["value"], "a number or null"),
    ]
    if "judgement" in result:
        expected.append(("judgement", result["judgement"], "an object"))
    checks = {
        "a string": lambda v: isinstance(v, str),
        "an integer >= 0": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
        "an object": lambda v: isinstance(v, dict),
        "a number or null": lambda v: v is None or _is_number(v),
        "a list of strings": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
    }
    return [f"'{key}' must be {kind}" for key, value, kind in expected if not checks[kind](value)]


def _validate(result: Any, where: str, error: type[ValueError]) -> None:
    if not isinstance(result, dict):
        raise error(f"{where} is not a result: expected a JSON object")
    missing = [k for k in REQUIRED_KEYS if k not in result]
    if missing:
        raise error(f"{where} is not a result: missing {', '.join(missing)}")
    for key, fields in (
        ("paper", ("citation", "metric", "value")),
        ("headline", ("metric", "value")),
    ):
        if not isinstance(result[key], dict) or any(f not in result[key] for f in fields):
            raise error(f"{where} is not a result: '{key}' needs {', '.join(fields)}")
    if not isinstance(result["verdict"], str) or result["verdict"] not in VERDICTS:
        raise error(
            f"{where} has verdict {result['verdict']!r}; expected one of {', '.join(VERDICTS)}"
        )
    wrong = _type_errors(result)
    if wrong:
        raise error(f"{where} is not a result: {'; '.join(wrong)}")


def read_result(path: Path | str) -> dict[str, Any]:
    """Read and validate a ``result.json``.

    Args:
        path: The file.

    Returns:
        The result dict.

    Raises:
        RnnaiError: If the file is missing or unreadable, not UTF-8, not strict JSON, lacks a
            required key or holds a value of the wrong type (the message names the file).
    """
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as e:
        raise RnnaiError(f"cannot read result {path}: {e.strerror or e}") from e
    except UnicodeDecodeError as e:
        raise RnnaiError(f"{path} is not UTF-8 text (byte {e.start}): not a result") from e

    def reject_constant(name: str) -> Any:
        raise ValueError(f"{name} is not strict JSON")

    try:
        result = json.loads(text, parse_constant=reject_constant)
    except ValueError as e:  # json.JSONDecodeError is a ValueError
        raise RnnaiError(f"{path} is not valid JSON: {e}") from e
    except RecursionError as e:
        raise RnnaiError(f"{path} is not a result: JSON nested too deeply") from e
    _validate(result, str(path), RnnaiError)
    return result
