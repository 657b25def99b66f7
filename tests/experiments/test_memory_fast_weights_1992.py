"""memory.fast_weights_1992: the task streams, the criterion, the models, the verdict, smoke."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from rnnai.cli import main
from rnnai.experiments import get_experiment
from rnnai.experiments.memory_fast_weights_1992 import (
    STOP_PROB,
    ElmanNet,
    binding_stream,
    build_model,
    data_streams,
    first_b_after_a,
    flipflop_stream,
    fw_judgement,
    init_runs,
    is_paper_setup,
    make_stream,
    median_steps,
    n_params,
    step_errors,
    steps_to_solve,
)
from rnnai.nn.fastweights import FastWeightProgrammer1992
from rnnai.runtime.errors import RnnaiError

NAME = "memory.fast_weights_1992"


def test_flipflop_targets_equal_the_loop_transcription() -> None:
    x, d, mask = flipflop_stream(3_000, generator=torch.Generator().manual_seed(3))
    events = x.argmax(-1).tolist()
    assert d[:, 0].tolist() == first_b_after_a(events)
    assert bool(mask.all()) and x.sum(-1).eq(1).all()
    assert 0.05 < float(d.mean()) < 0.3  # the first B after an A is neither rare nor common


def test_binding_stream_follows_the_car_owner() -> None:
    x, u, d, mask = binding_stream(20_000, generator=torch.Generator().manual_seed(4))
    detectors, noise = u[:, :3], u[:, 3:]
    park = detectors.sum(-1) > 0
    assert int(detectors.sum(-1).max()) == 1  # one slot at a time
    # the target is the slot of the last parking, and it is scored only after a parking step
    slot = detectors.argmax(-1)
    last = -1
    for t in range(len(d)):
        if park[t]:
            last = int(slot[t])
        if mask[t]:
            assert last >= 0 and int(d[t].argmax()) == last and not park[t]
            assert x[t, 0] == 1.0
    assert abs(float(noise.mean()) - 0.5) < 0.02 and abs(float(x.mean()) - 0.5) < 0.02
    # driving and business last geometric times: parkings are about p / (1 + p) ... of steps
    gaps = torch.nonzero(park).flatten().diff().float() - 1  # drive + business between parkings
    mean_gap = 2 * (1 - STOP_PROB) / STOP_PROB
    assert abs(float(gaps.mean()) - mean_gap) < 0.5
    assert int(gaps.min()) == 0  # zero-step business and driving occur


def test_training_and_heldout_streams_differ_and_repeat() -> None:
    train, held = data_streams(0, "flipflop/fwp")
    a = make_stream("flipflop", 500, train)["x"]
    b = make_stream("flipflop", 500, held)["x"]
    assert not torch.equal(a, b)
    train2, _ = data_streams(0, "flipflop/fwp")
    assert torch.equal(a, make_stream("flipflop", 500, train2)["x"])
    with pytest.raises(RnnaiError, match="task"):
        make_stream("parity", 5, train)


def test_steps_to_solve_counts_scored_steps_to_the_end_of_the_streak() -> None:
    assert steps_to_solve([0.0] * 100) == 100
    assert steps_to_solve([0.0] * 50 + [0.06] + [0.05] * 100) == 151
    assert steps_to_solve([0.0] * 99 + [0.2]) is None
    assert median_steps([10, None, 30]) == 30 and math.isinf(median_steps([None, None, 1]))


def test_models_and_their_sizes() -> None:
    fwp = build_model("flipflop", "fwp", 3)
    assert isinstance(fwp, FastWeightProgrammer1992) and fwp.read_first
    assert fwp.fast_activation == "logistic" and n_params(fwp) == 16  # S: 3 -> 1 TO + 3 FROM
    rnn = build_model("flipflop", "rnn", 3)
    assert isinstance(rnn, ElmanNet) and n_params(rnn) >= n_params(fwp)
    bind = build_model("binding", "fwp", 3)
    assert isinstance(bind, FastWeightProgrammer1992) and bind.slow_input_size == 6
    assert n_params(build_model("binding", "rnn", 3)) >= n_params(bind)
    with pytest.raises(RnnaiError, match="model"):
        build_model("flipflop", "lstm", 3)


def test_elman_net_is_the_recurrence_written_out() -> None:
    torch.manual_seed(0)
    net = ElmanNet(3, 4, 2).double()
    x = torch.randn(2, 6, 3, dtype=torch.float64)
    y, h = net(x)
    hr = torch.zeros(2, 4, dtype=torch.float64)
    for t in range(6):
        hr = torch.tanh(x[:, t] @ net.inp.weight.T + net.inp.bias + hr @ net.rec.weight.T)
        torch.testing.assert_close(y[:, t], hr @ net.out.weight.T + net.out.bias)
    torch.testing.assert_close(h, hr)


def test_init_runs_are_independent_and_in_the_papers_range() -> None:
    params, _ = init_runs("flipflop", "fwp", 4, 3, seed=0, key="k")
    w = params["slow.weight"]
    assert w.shape[0] == 4 and w.abs().max() <= 0.1
    assert not torch.equal(w[0], w[1])
    again, _ = init_runs("flipflop", "fwp", 4, 3, seed=0, key="k")
    assert torch.equal(w, again["slow.weight"])


def test_step_errors_are_the_largest_output_error() -> None:
    y = torch.tensor([[[0.1, 0.9, 0.0], [0.0, 0.0, 0.5]]])
    d = torch.tensor([[[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]])
    torch.testing.assert_close(step_errors(y, d), torch.tensor([[0.1, 0.5]]))


def _results(cfg: dict[str, Any], flip: list[int | None], bind: list[int | None]) -> dict:
    return {"flipflop/fwp": {"steps": flip}, "binding/fwp": {"steps": bind}}


def test_verdict_each_outcome_is_reachable() -> None:
    exp = get_experiment(NAME)
    paper, quick = exp.config("paper"), exp.config("quick")
    assert is_paper_setup(paper) and not is_paper_setup(quick)
    n = paper["runs"]
    good = fw_judgement(paper, _results(paper, [600 + i for i in range(n)], [2_000] * n))
    assert good.verdict == "reproduced" and all(e.passed for e in good.evidence)
    slow = fw_judgement(paper, _results(paper, [5_000 + i for i in range(n)], [2_000] * n))
    assert slow.verdict == "partial" and [e.passed for e in slow.evidence] == [True, False, True]
    bad = fw_judgement(paper, _results(paper, [None] * n, [None] * n))
    assert bad.verdict == "not_reproduced"
    m = quick["runs"]
    q = fw_judgement(quick, _results(quick, [600] * m, [900] * m))
    assert q.verdict == "partial" and all(e.passed for e in q.evidence) and q.reasons


def test_paper_scale_is_the_papers_training() -> None:
    cfg = get_experiment(NAME).config("paper")
    assert cfg["optimizer"] == "sgd" and cfg["lr"] == 1.0 and cfg["runs"] >= 10


def test_smoke_run_through_the_cli(tmp_path: Path) -> None:
    r = CliRunner().invoke(
        main, ["run", NAME, "--scale", "smoke", "--out", str(tmp_path), "--quiet"]
    )
    assert r.exit_code == 0, r.output
    res = json.loads((tmp_path / NAME / "result.json").read_text())
    assert res["verdict"] in ("partial", "not_reproduced")
    groups = res["metrics"]["groups"]
    assert set(groups) == {"flipflop/fwp", "flipflop/rnn", "binding/fwp", "binding/rnn"}
    assert all(len(g["steps"]) == 2 for g in groups.values())
    for plot in ("steps_to_solve.png", "learning_curves.png"):
        assert plot in res["plots"] and (tmp_path / NAME / plot).stat().st_size > 1000


def test_a_killed_group_resumes_to_the_same_result(tmp_path: Path) -> None:
    from rnnai.experiments.memory_fast_weights_1992 import train_group
    from rnnai.runtime.checkpoint import Checkpointer
    from rnnai.runtime.testing import Killed, KillingCheckpointer
    from rnnai.train.hooks import SilentHooks

    cfg = {**get_experiment(NAME).config("smoke"), "budget": 300, "checkpoint_every": 7}
    whole = train_group("binding", "fwp", cfg, 0, SilentHooks(), {})
    killing = KillingCheckpointer(tmp_path / "c.safetensors", {"t": 1}, kill_after=2)
    again = Checkpointer(tmp_path / "c.safetensors", {"t": 1})  # the restarted process's
    with pytest.raises(Killed):
        train_group("binding", "fwp", cfg, 0, SilentHooks(killing), {})
    resumed = train_group("binding", "fwp", cfg, 0, SilentHooks(again), {})
    assert resumed["steps"] == whole["steps"] and resumed["heldout"] == whole["heldout"]
    assert np.allclose(resumed["curve"], whole["curve"], rtol=0, atol=1e-6)
