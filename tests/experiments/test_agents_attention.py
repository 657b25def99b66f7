"""agents.fovea_targets and agents.cluttered_digits: functions, disjoint data, verdicts, smoke."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from rnnai.agents.fovea import RAM, FoveaNetConfig, RAMConfig
from rnnai.cli import main
from rnnai.data.images import content_hashes
from rnnai.experiments.agents_attention import (
    CNNBaseline,
    MLPBaseline,
    budget_side,
    cluttered_judgement,
    cnn_hidden,
    cross_pattern,
    desired_input,
    downsample,
    find_steps,
    fovea_judgement,
    make_scenes,
    mlp_hidden,
    to_loc,
)
from rnnai.runtime.errors import RnnaiError
from rnnai.runtime.seeding import derive_seed, torch_generator


def _params(m: torch.nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def test_find_steps_counts_the_first_saccade_within_the_radius() -> None:
    pos = np.array([
        [[0.0, 0.0], [5.0, 5.0], [9.5, 10.0], [10.0, 10.0]],
        [[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [3.0, 0.0]],
        [[10.0, 10.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0]],  # the start does not count
    ])  # fmt: skip
    found, steps = find_steps(pos, np.array([[10.0, 10.0]] * 3), radius=1.0)
    assert found.tolist() == [True, False, False]
    assert steps.tolist() == [2, 4, 4]


def test_scenes_hold_one_cross_and_starts_lie_in_the_periphery() -> None:
    gen = torch.Generator().manual_seed(0)
    scenes, centres, starts = make_scenes(200, scene=48, target=9, start_radius=14.0,
                                          min_start=4.0, generator=gen)  # fmt: skip
    assert scenes.shape == (200, 48, 48)
    assert torch.all(scenes.sum(dim=(1, 2)) == float(cross_pattern(9).sum()))
    off = (starts - centres).abs().max(dim=1).values
    inside = (starts > 0).all(1) & (starts < 48).all(1)
    assert float(off.max()) <= 14.0 + 1e-5 and float(off[inside].min()) >= 4.0 - 1e-5
    # the target's centre: the mean position of its pixels (a symmetric cross)
    ys, xs = torch.meshgrid(torch.arange(48) + 0.5, torch.arange(48) + 0.5, indexing="ij")
    mean_x = (scenes * xs).sum((1, 2)) / scenes.sum((1, 2))
    torch.testing.assert_close(mean_x, centres[:, 0])


def test_the_distractor_is_a_square_clear_of_the_target() -> None:
    gen = torch.Generator().manual_seed(3)
    scenes, centres, _ = make_scenes(100, scene=48, target=9, start_radius=14.0, min_start=4.0,
                                     generator=gen, distractor=True)  # fmt: skip
    cross = float(cross_pattern(9).sum())
    sums = scenes.sum(dim=(1, 2))
    assert torch.all((sums == cross + 49) | (sums == cross))
    assert float((sums == cross + 49).float().mean()) > 0.9
    # no pixel of the target box was overwritten: the box still holds exactly the cross
    corner = (centres - 4.5).long()
    for i in range(100):
        x0, y0 = corner[i].tolist()
        box = scenes[i, y0 : y0 + 9, x0 : x0 + 9]
        assert torch.equal(box, torch.from_numpy(cross_pattern(9)))
        assert float(scenes[i, max(y0 - 1, 0) : y0 + 10, max(x0 - 1, 0) : x0 + 10].sum()) == cross


def test_desired_input_is_what_the_fovea_sees_centred_on_any_target() -> None:
    net = FoveaNetConfig(size=4, scales=3)
    d = desired_input(net, scene=48, target=9)
    scenes, centres, _ = make_scenes(5, scene=48, target=9, start_radius=5, min_start=0,
                                     generator=torch.Generator().manual_seed(1))  # fmt: skip
    from rnnai.agents.fovea import glimpse

    seen = glimpse(scenes, to_loc(centres, 48), size=4, scales=3).flatten(1)
    torch.testing.assert_close(seen, d.expand(5, -1))


def test_fovea_test_scenes_come_from_a_stream_disjoint_from_training() -> None:
    def scenes(key: str) -> set[str]:
        gen = torch_generator(derive_seed(7, key))
        s, c, p = make_scenes(300, scene=48, target=9, start_radius=14, min_start=4, generator=gen)
        episode = torch.cat([s.flatten(1), c, p], dim=1).numpy()
        return set(content_hashes(episode[:, :, None]))

    train = set().union(*(scenes(f"train{i}") for i in range(3)))
    assert not train & scenes("test")


def test_fovea_verdict_reaches_each_outcome() -> None:
    n = 60
    better = dict(found_c=np.ones(n, bool), found_random=np.zeros(n, bool),
                  steps_c=np.full(n, 3), steps_random=np.full(n, 11))  # fmt: skip
    kw = dict(n_model=100, seeds=3, setup="test")
    assert fovea_judgement(**better, model_mse=0.1, still_mse=1.0, **kw).verdict == "partial"
    worse = dict(found_c=np.zeros(n, bool), found_random=np.ones(n, bool),
                 steps_c=np.full(n, 11), steps_random=np.full(n, 3))  # fmt: skip
    assert fovea_judgement(**worse, model_mse=2.0, still_mse=1.0, **kw).verdict == "not_reproduced"
    mixed = fovea_judgement(**worse, model_mse=0.1, still_mse=1.0, **kw)
    assert mixed.verdict == "partial" and not mixed.evidence[0].passed


def test_cluttered_verdict_reaches_each_outcome() -> None:
    rng = np.random.default_rng(0)
    low = (rng.random(400) < 0.05).astype(float)
    high = (rng.random(400) < 0.5).astype(float)
    assert cluttered_judgement(low, high, high, glimpses=8, setup="t").verdict == "partial"
    assert cluttered_judgement(high, low, low, glimpses=8, setup="t").verdict == "not_reproduced"
    j = cluttered_judgement(low, high, low, glimpses=8, setup="t")
    assert [e.passed for e in j.evidence] == [True, False]


def test_budget_and_baselines_match_ram_in_pixels_and_size() -> None:
    ram = RAM(RAMConfig(glimpses=8))
    P = _params(ram)
    assert budget_side(4, 432, 60) ** 2 <= 4 * 432 < (budget_side(4, 432, 60) + 1) ** 2
    assert budget_side(8, 432, 60) == 58 and budget_side(100, 432, 60) == 60
    for side in (41, 58, 60):
        mlp = MLPBaseline(side, mlp_hidden(inputs=side * side, params=P))
        assert abs(_params(mlp) - P) / P < 0.02
    cnn = CNNBaseline(cnn_hidden(P))
    assert abs(_params(cnn) - P) / P < 0.02
    for side in (41, 60):
        assert cnn(torch.rand(2, side, side)).shape == (2, 10)
    with pytest.raises(RnnaiError, match="glimpse"):
        budget_side(0, 432, 60)


def test_downsample_is_the_block_mean_when_the_side_divides() -> None:
    x = torch.arange(16.0).reshape(1, 4, 4)
    assert downsample(x, 2)[0].tolist() == [[2.5, 4.5], [10.5, 12.5]]
    assert downsample(x, 4) is x


@pytest.mark.parametrize("name", ["agents.fovea_targets", "agents.cluttered_digits"])
def test_smoke_run_through_the_cli_writes_a_consistent_result(tmp_path: Path, name: str) -> None:
    r = CliRunner().invoke(main, ["run", name, "--scale", "smoke", "--out", str(tmp_path),
                                  "--quiet"])  # fmt: skip
    assert r.exit_code == 0, r.output
    res = json.loads((tmp_path / name / "result.json").read_text())
    assert res["verdict"] in ("partial", "not_reproduced")  # never the papers' setups
    for plot in res["plots"]:
        assert (tmp_path / name / plot).stat().st_size > 1000
    m = res["metrics"]
    if name == "agents.fovea_targets":
        assert res["headline"]["value"] == pytest.approx(100 * m["success_rate"]["controller"])
    else:
        g = m["by_glimpses"]["2"]
        assert res["headline"]["value"] == pytest.approx(100 * g["ram"]["test_error"])
