"""The hooks protocol: the runner's context and the silent default both satisfy it."""

from rnnai.experiments.base import RunContext
from rnnai.runtime.checkpoint import Checkpointer
from rnnai.train.hooks import Checkpointing, Hooks, SilentHooks


def test_run_context_and_silent_hooks_satisfy_the_protocol(tmp_path):
    ctx = RunContext(name="x.y", scale="smoke", seed=0, out_dir=tmp_path, config={})
    assert isinstance(ctx, Hooks)
    assert isinstance(SilentHooks(), Hooks)
    assert isinstance(Checkpointer(tmp_path / "c.safetensors", {"a": 1}), Checkpointing)


def test_silent_hooks_progress_counts_nothing_and_logs_nothing(capsys):
    hooks = SilentHooks()
    with hooks.progress(5, "x") as bar:
        bar.advance(2)
        bar.update(loss=0.1)
    hooks.log("hidden")
    assert capsys.readouterr().out == ""
