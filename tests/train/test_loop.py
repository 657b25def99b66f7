"""The training loop: exact resume after a kill for every data source; seeds, optimizers."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from rnnai.runtime.checkpoint import Checkpointer
from rnnai.runtime.errors import RnnaiError
from rnnai.runtime.testing import Killed, KillingCheckpointer
from rnnai.tasks import AddingConfig, AddingTask, ContinualEmbeddedReber, ReberTask
from rnnai.tasks.reber import reber_datasets, reber_step_correct
from rnnai.train import SilentHooks
from rnnai.train.loop import (
    FixedSets,
    Seeds,
    StreamChunks,
    StreamRuns,
    TaskCriterion,
    TrainConfig,
    TrainingRun,
    TrialResult,
    describe_setup,
    make_optimizer,
    run_trials,
    sequences_evidence,
    sequences_to_solve,
    summarize,
    train_trials,
)
from rnnai.train.sequence import NetConfig, SequenceNet

NET = NetConfig(variant="vanilla", hidden=3)
TRAIN = TrainConfig(
    optimizer="adam", lr=0.01, batch=8, max_sequences=160, eval_every=40, eval_size=32,
    max_wrong=0, max_mean_error=0.001,
)  # fmt: skip
FP = {"experiment": "lstm.test", "scale": "smoke", "seed": 3}


def _hooks(folder: Path, kill_after: int | None = None) -> SilentHooks:
    path = folder / "checkpoint.safetensors"
    if kill_after is None:
        return SilentHooks(checkpointer=Checkpointer(path, FP))
    return SilentHooks(checkpointer=KillingCheckpointer(path, FP, kill_after))


def _adding(hooks: SilentHooks, seed: int = 3, label: str = "a") -> TrainingRun[SequenceNet]:
    return train_trials(
        AddingTask(AddingConfig(T=20)), NET, TRAIN, trials=2, seeds=seed, hooks=hooks, label=label
    )


def _reber(hooks: SilentHooks) -> TrainingRun[SequenceNet]:
    train = TrainConfig(optimizer="sgd", lr=0.5, momentum=0.5, max_sequences=60, eval_every=20)
    return train_trials(
        ReberTask(),
        NetConfig(hidden=3, init_range=0.2),
        train,
        trials=2,
        seeds=Seeds(3, ("lstm.test",)),
        hooks=hooks,
        label="reber",
        data=FixedSets(lambda rng: reber_datasets(rng, 16, 16)),
        evaluation=TaskCriterion(task=ReberTask(), held_out=True),
    )


def _stream(hooks: SilentHooks) -> TrainingRun[SequenceNet]:
    src = StreamChunks(
        lambda rng, b: ContinualEmbeddedReber().stream(rng, b),
        streams=2, chunk=10, step_correct=reber_step_correct, stop_run=10_000,
    )  # fmt: skip
    return run_trials(
        make_net=lambda g: SequenceNet(7, 7, NetConfig(variant="gers2000", hidden=3), g),
        data=src,
        evaluation=StreamRuns(),
        config=TrainConfig(optimizer="adam", lr=0.01, max_sequences=120, eval_every=30),
        trials=2,
        seeds=3,
        hooks=hooks,
        label="s",
        on_trial_end=lambda net, r: {"w": float(sum(p.detach().sum() for p in net.parameters()))},
    )


RUNS = {"tasks": _adding, "fixed_sets": _reber, "stream": _stream}


def _same(a: TrainingRun[SequenceNet], b: TrainingRun[SequenceNet]) -> None:
    assert [r.to_dict() for r in a.results] == [r.to_dict() for r in b.results]
    assert a.net is not None and b.net is not None
    sa, sb = a.net.state_dict(), b.net.state_dict()
    assert sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


@pytest.mark.parametrize("source", sorted(RUNS))
@pytest.mark.parametrize("kill_after", [1, 4, 6])
def test_killed_training_resumes_to_identical_results(
    tmp_path: Path, source: str, kill_after: int
) -> None:
    train = RUNS[source]
    reference = train(_hooks(tmp_path / "ref"))
    with pytest.raises(Killed):
        train(_hooks(tmp_path / "run", kill_after))
    resumed = train(_hooks(tmp_path / "run"))  # a fresh process resumes from the file
    _same(resumed, reference)
    again = train(_hooks(tmp_path / "run"))  # a finished label comes back from the checkpoint
    _same(again, reference)


def test_checkpoint_is_written_at_every_evaluation(tmp_path: Path) -> None:
    saves: list[dict[str, Any]] = []

    class Recording(Checkpointer):
        def save(self, tensors: Any, state: Any) -> None:
            saves.append(dict(state))
            super().save(tensors, state)

    hooks = SilentHooks(checkpointer=Recording(tmp_path / "c.safetensors", FP))
    run = train_trials(
        AddingTask(AddingConfig(T=20)), NET, TRAIN, trials=1, seeds=3, hooks=hooks, label="a"
    )
    evaluations = len(run.results[0].curve)
    # one save per evaluation that did not solve, one after the trial, one at the end
    assert len(saves) == evaluations - int(run.results[0].solved) + 2
    assert saves[-1]["train_loop"]["current"] is None and "a" in saves[-1]["train_loop"]["done"]


def test_calls_with_distinct_labels_share_one_checkpoint(tmp_path: Path) -> None:
    first = _adding(_hooks(tmp_path), label="a")
    second = _adding(_hooks(tmp_path), label="b")
    assert [r.to_dict() for r in _adding(_hooks(tmp_path), label="a").results] == [
        r.to_dict() for r in first.results
    ]
    # label b has its own streams: different data, different results
    assert first.results[0].curve != second.results[0].curve


def test_same_seed_same_results_and_other_seed_differs() -> None:
    a, b = _adding(SilentHooks()), _adding(SilentHooks())
    _same(a, b)
    c = _adding(SilentHooks(), seed=4)
    assert c.results[0].curve != a.results[0].curve


def test_seeds_match_the_run_context_streams(tmp_path: Path) -> None:
    from rnnai.experiments.base import RunContext

    ctx = RunContext(name="lstm.test", scale="smoke", seed=3, out_dir=tmp_path, config={})
    seeds = Seeds(3, ("lstm.test",))
    assert ctx.rng("a", 1).integers(1 << 30) == seeds.rng("a", 1).integers(1 << 30)
    g1, g2 = ctx.torch_generator("x"), seeds.torch_generator("x")
    assert torch.equal(torch.rand(3, generator=g1), torch.rand(3, generator=g2))


def test_the_loop_stops_at_the_first_solved_check() -> None:
    class Always:
        def open(self, streams: Any, data: Any) -> Any:
            from rnnai.train.loop import Check

            return lambda net, loss: Check(solved=True, row=(loss,), wrong=0, size=1, error=0.0)

    task = AddingTask(AddingConfig(T=20))
    run = train_trials(task, NET, TRAIN, trials=1, evaluation=Always())
    r = run.results[0]
    assert r.solved and r.sequences == TRAIN.eval_every and len(r.curve) == 1


def test_stream_source_carries_the_state_and_stops_on_its_rule() -> None:
    src = StreamChunks(
        lambda rng, b: ContinualEmbeddedReber().stream(rng, b),
        streams=1, chunk=5, step_correct=lambda out, y: np.ones(y.shape[:2], bool), stop_run=15,
    )  # fmt: skip
    run = run_trials(
        make_net=lambda g: SequenceNet(7, 7, NetConfig(variant="gers2000"), g),
        data=src,
        evaluation=StreamRuns(),
        config=TrainConfig(lr=0.1, max_sequences=1_000, eval_every=500),
    )
    r = run.results[0]
    assert r.solved and r.sequences == 15 and r.curve[-1][0] == 15


def test_optimizers() -> None:
    net = torch.nn.Linear(2, 1)
    sgd = make_optimizer(net.parameters(), optimizer="sgd", lr=0.1, momentum=0.9)
    assert sgd.param_groups[0]["momentum"] == 0.9
    assert isinstance(make_optimizer(net.parameters(), optimizer="adam", lr=0.1), torch.optim.Adam)
    with pytest.raises(RnnaiError, match="optimizer"):
        make_optimizer(net.parameters(), optimizer="rmsprop", lr=0.1)
    with pytest.raises(RnnaiError, match="momentum"):
        make_optimizer(net.parameters(), optimizer="adam", lr=0.1, momentum=0.9)


def test_momentum_changes_the_training() -> None:
    task = AddingTask(AddingConfig(T=20))
    base = dict(optimizer="sgd", lr=0.1, max_sequences=20, eval_every=20, eval_size=16)
    plain = train_trials(task, NET, TrainConfig(**base)).results[0]  # type: ignore[arg-type]
    heavy = train_trials(task, NET, TrainConfig(**base, momentum=0.9)).results[0]  # type: ignore[arg-type]
    assert plain.curve != heavy.curve


def test_setup_labels() -> None:
    assert TrainConfig(lr=0.5).setup == "1997 setup: online SGD, lr 0.5"
    assert TrainConfig(optimizer="adam", lr=0.01, batch=16).setup.startswith("modern setup")
    assert "momentum 0.999" in TrainConfig(lr=1e-5, momentum=0.999).setup
    assert describe_setup(TrainConfig(lr=0.5), NetConfig(hidden=6)).startswith("lstm1997 LSTM, 6")


def test_bad_configs_are_rejected() -> None:
    with pytest.raises(RnnaiError, match="optimizer"):
        TrainConfig(optimizer="rmsprop")  # type: ignore[arg-type]
    with pytest.raises(RnnaiError, match="batch"):
        TrainConfig(batch=0)
    with pytest.raises(RnnaiError, match="momentum"):
        TrainConfig(optimizer="adam", momentum=0.5)
    with pytest.raises(TypeError):
        TrainConfig("sgd", 0.1)  # type: ignore[misc]
    with pytest.raises(RnnaiError, match="trials"):
        train_trials(AddingTask(), NET, TRAIN, trials=-1)
    with pytest.raises(RnnaiError, match="test_set"):
        train_trials(AddingTask(), NET, TRAIN, evaluation=TaskCriterion(task=AddingTask(),
                                                                        held_out=True))


def _r(solved: bool, seqs: int) -> TrialResult:
    return TrialResult(trial=0, solved=solved, sequences=seqs, eval_wrong=0, eval_size=10,
                       eval_error=0.0)  # fmt: skip


def test_summary_and_sequences_to_solve() -> None:
    rs = [_r(True, 1000), _r(True, 3000), _r(False, 10)]
    s = summarize(rs)
    assert s["median_sequences"] == 2000 and s["success_rate"] == 2 / 3 and s["solved"] == 2
    assert sequences_to_solve(rs) == [1000.0, 3000.0, math.inf]
    assert summarize([])["success_rate"] == 0.0


def test_sequences_evidence() -> None:
    fast = [_r(True, 900 + 10 * i) for i in range(10)]
    rate, speed = sequences_evidence(fast, paper_sequences=1000)
    assert rate.passed and speed.passed and rate.n == 10
    slow = [_r(True, 5000 + i) for i in range(10)]
    assert not sequences_evidence(slow, paper_sequences=1000)[1].passed
    unsolved = [_r(False, 9000)] * 10
    assert not any(e.passed for e in sequences_evidence(unsolved, paper_sequences=1000))
    with pytest.raises(RnnaiError):
        sequences_evidence([], paper_sequences=1000)


def test_sequences_judgement_combines_settings() -> None:
    from rnnai.train.loop import sequences_judgement

    ten = [_r(True, 900) for _ in range(10)]
    three = [_r(True, 900) for _ in range(3)]
    j = sequences_judgement([("a", ten, 1000), ("b", ten, 1000)], paper_setup=True, setup="s",
                            required=10)  # fmt: skip
    assert j.verdict == "reproduced" and len(j.evidence) == 4
    j = sequences_judgement([("a", ten, 1000), ("b", three, 1000)], paper_setup=True, setup="s",
                            required=10)  # fmt: skip
    assert j.verdict == "partial" and j.trials == 3
    j = sequences_judgement([("a", ten, None)], paper_setup=True, setup="s", required=10)
    assert j.verdict == "partial" and "not the paper's setup" in j.reasons[0]
    unsolved = [_r(False, 5) for _ in range(10)]
    assert sequences_judgement([("a", unsolved, None)], paper_setup=True, setup="s",
                               required=10).verdict == "not_reproduced"  # fmt: skip
    with pytest.raises(RnnaiError):
        sequences_judgement([], paper_setup=True, setup="s", required=10)


def test_check_and_trial_streams_round_trip() -> None:
    from rnnai.train.loop import Check, TrialStreams

    c = Check(solved=False, row=(0.5, 0.25), wrong=2, size=8, error=0.1)
    assert Check.from_dict(c.to_dict()) == c
    streams = TrialStreams(Seeds(1), 2, lambda purpose, t: ("x", purpose, t))
    assert streams.rng("data").integers(1 << 30) == Seeds(1).rng("x", "data", 2).integers(1 << 30)
