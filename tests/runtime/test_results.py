"""result.json: schema, strict JSON, validation on read."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rnnai.runtime.errors import RnnaiError
from rnnai.runtime.results import (
    REQUIRED_KEYS,
    read_result,
    to_jsonable,
    write_result,
)

MakeResult = Callable[..., dict[str, Any]]


def _strict_loads(text: str) -> Any:
    def reject(name: str) -> None:
        raise ValueError(name)

    return json.loads(text, parse_constant=reject)


def test_build_result_has_exactly_the_documented_keys_in_order(make_result: MakeResult) -> None:
    assert tuple(make_result()) == REQUIRED_KEYS
    assert set(make_result()["versions"]) == {"rnnai", "torch", "numpy", "python"}


def test_build_result_converts_numpy_values_to_plain_json(make_result: MakeResult) -> None:
    result = make_result()
    assert result["metrics"] == {"error": 0.125, "curve": [0, 1, 2]}
    assert type(result["metrics"]["error"]) is float


def test_build_result_writes_nonfinite_numbers_as_null_and_says_so(make_result: MakeResult) -> None:
    result = make_result(headline_value=math.inf, metrics={"loss": np.float64("nan")})
    assert result["headline"]["value"] is None and result["metrics"]["loss"] is None
    assert "metrics.loss (nan)" in result["notes"] and "headline.value (inf)" in result["notes"]


def test_build_result_rejects_unknown_verdict(make_result: MakeResult) -> None:
    with pytest.raises(ValueError, match="reproduced, partial, not_reproduced"):
        make_result(verdict="success")


def test_to_jsonable_rejects_objects_without_json_form() -> None:
    with pytest.raises(TypeError, match="metrics.x"):
        to_jsonable({"metrics": {"x": object()}})


def test_written_result_is_strict_json_and_reads_back(
    tmp_path: Path, make_result: MakeResult
) -> None:
    result = make_result(metrics={"loss": float("nan")})
    write_result(tmp_path / "result.json", result)
    text = (tmp_path / "result.json").read_text()
    assert _strict_loads(text)["metrics"]["loss"] is None
    assert read_result(tmp_path / "result.json") == result


def test_read_result_missing_key_raises_rnnai_error(
    tmp_path: Path, make_result: MakeResult
) -> None:
    result = make_result()
    del result["verdict"]
    (tmp_path / "result.json").write_text(json.dumps(result))
    with pytest.raises(RnnaiError, match="missing verdict"):
        read_result(tmp_path / "result.json")


def test_read_result_truncated_file_raises_rnnai_error(
    tmp_path: Path, make_result: MakeResult
) -> None:
    (tmp_path / "result.json").write_text(json.dumps(make_result())[:40])
    with pytest.raises(RnnaiError, match="not valid JSON"):
        read_result(tmp_path / "result.json")


def test_read_result_nan_token_raises_rnnai_error(tmp_path: Path, make_result: MakeResult) -> None:
    (tmp_path / "result.json").write_text(
        json.dumps(make_result()).replace('"value": 74000', '"value": NaN')
    )
    with pytest.raises(RnnaiError, match="NaN"):
        read_result(tmp_path / "result.json")


def test_read_result_bad_verdict_raises_rnnai_error(
    tmp_path: Path, make_result: MakeResult
) -> None:
    result = make_result()
    result["verdict"] = "maybe"
    (tmp_path / "result.json").write_text(json.dumps(result))
    with pytest.raises(RnnaiError, match="maybe"):
        read_result(tmp_path / "result.json")


def test_read_result_missing_file_raises_rnnai_error(tmp_path: Path) -> None:
    with pytest.raises(RnnaiError, match="cannot read"):
        read_result(tmp_path / "nope.json")
