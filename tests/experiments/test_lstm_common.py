"""The LSTM reproduction harness: exact resume after a kill, the verdict rule, configs."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from rnnai.experiments._lstm_common import (
    NetConfig,
    TrainConfig,
    TrialResult,
    last_net,
    sequences_verdict,
    train_trials,
)
from rnnai.experiments.base import RunContext
from rnnai.runtime.checkpoint import Checkpointer
from rnnai.runtime.testing import Killed, KillingCheckpointer
from rnnai.tasks import AddingConfig, AddingTask

NET = NetConfig(variant="vanilla", hidden=3)
TRAIN = TrainConfig("adam", 0.01, 8, 160, 40, 32, 0, 0.001)


def _ctx(tmp: Path, checkpointer: Checkpointer | None = None) -> RunContext:
    return RunContext("lstm.test", "smoke", 3, tmp, {}, checkpointer=checkpointer)


def _train(ctx: RunContext) -> list[TrialResult]:
    task = lambda: AddingTask(AddingConfig(T=20))  # noqa: E731
    return train_trials(ctx, task, NET, TRAIN, trials=2, label="a")


@pytest.mark.parametrize("kill_after", [1, 4, 6])
def test_killed_training_resumes_to_identical_results(tmp_path: Path, kill_after: int) -> None:
    reference = _train(_ctx(tmp_path / "ref"))
    run_dir = tmp_path / "run"
    fp = {"experiment": "lstm.test", "scale": "smoke", "seed": 3}
    killer = KillingCheckpointer(run_dir / "checkpoint.safetensors", fp, kill_after)
    with pytest.raises(Killed):
        _train(_ctx(run_dir, killer))
    resumed_ctx = _ctx(run_dir)  # a fresh process would build the same context
    resumed = _train(resumed_ctx)
    assert [r.to_dict() for r in resumed] == [r.to_dict() for r in reference]
    # the last trial's network (for the internal views) survives the kill too
    ref_net = last_net(_ctx(tmp_path / "ref"), "a").state_dict()
    got = last_net(resumed_ctx, "a").state_dict()
    assert all(torch.equal(ref_net[k], got[k]) for k in ref_net)


def test_last_net_is_kept_per_run_folder(tmp_path: Path) -> None:
    _train(_ctx(tmp_path / "one"))
    assert last_net(_ctx(tmp_path / "one"), "a") is not None
    assert last_net(_ctx(tmp_path / "two"), "a") is None


def test_same_seed_same_results_and_other_seed_differs(tmp_path: Path) -> None:
    a = _train(_ctx(tmp_path / "a"))
    b = _train(_ctx(tmp_path / "b"))
    assert [r.to_dict() for r in a] == [r.to_dict() for r in b]
    c = train_trials(
        RunContext("lstm.test", "smoke", 4, tmp_path / "c", {}),
        lambda: AddingTask(AddingConfig(T=20)),
        NET,
        TRAIN,
        trials=1,
        label="a",
    )
    assert c[0].curve != a[0].curve


def _r(solved: bool, seqs: int) -> TrialResult:
    return TrialResult(0, solved, seqs, 0, 10, 0.0)


def test_verdict_rule() -> None:
    assert sequences_verdict([_r(True, 1000), _r(True, 2000)], 1000)[0] == "reproduced"
    assert sequences_verdict([_r(True, 5000)], 1000)[0] == "partial"  # > 3x slower
    assert sequences_verdict([_r(True, 1000), _r(False, 9000)], 1000)[0] == "partial"
    assert sequences_verdict([_r(True, 1000)], 1000, paper_task=False)[0] == "partial"
    assert sequences_verdict([_r(False, 9000)], 1000)[0] == "not_reproduced"
    v, s = sequences_verdict(
        [_r(True, 1000), _r(True, 3000), _r(False, 10)], 1000, paper_success=0.6
    )
    assert v == "reproduced" and s["median_sequences"] == 2000 and s["success_rate"] == 2 / 3


def test_bad_configs_are_rejected() -> None:
    with pytest.raises(ValueError, match="optimizer"):
        TrainConfig("rmsprop")
    with pytest.raises(ValueError, match="batch"):
        TrainConfig("sgd", 0.1, 0)
    with pytest.raises(ValueError, match="output"):
        NetConfig(output="tanh")


def test_input_to_output_shortcut_feeds_the_inputs_to_the_head() -> None:
    import torch

    from rnnai.experiments._lstm_common import SequenceNet

    cfg = NetConfig(variant="lstm1997", hidden=3, input_to_output=True)
    net = SequenceNet(5, 2, cfg, torch.Generator().manual_seed(0))
    assert net.head.in_features == 3 + 5
    with torch.no_grad():
        net.head.weight[:, :3] = 0.0  # silence the cells: only the shortcut is left
    x = torch.zeros(1, 4, 5)
    x2 = x.clone()
    x2[0, 3, 0] = 1.0  # changes only the last step's input
    y1, y2 = net(x), net(x2)
    assert torch.allclose(y1[0, :3], y2[0, :3]) and not torch.allclose(y1[0, 3], y2[0, 3])
