"""The experiment registry and runner: results, checkpoints, resumption, reproduce."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import safetensors
import torch
from toy_experiment import CLI_WITH_TOY

from rnnai.experiments import (
    Experiment,
    Outcome,
    PaperClaim,
    RunContext,
    get_experiment,
    register,
    unregister,
)
from rnnai.experiments.runner import (
    LOCK_NAME,
    ReproduceError,
    RunLockedError,
    reproduce,
    run_experiment,
    select_experiments,
)
from rnnai.runtime.errors import RnnaiError, RnnaiWarning
from rnnai.runtime.results import REQUIRED_KEYS

TOY = "_toy.counter"
CLAIM = PaperClaim(citation="nobody 2024", metric="nothing", value=None)


class _Base(Experiment):
    system = "test"
    claim = CLAIM

    def config(self, scale: str) -> dict[str, Any]:
        return {"scale": scale}


@pytest.fixture
def boom() -> Iterator[str]:
    """A hidden experiment that always raises."""

    @register
    class Boom(_Base):
        """Always fails."""

        name = "_test.boom"

        def run(self, ctx: RunContext) -> Outcome:
            raise RuntimeError("boom at step 3")

    yield Boom.name
    unregister(Boom.name)


@pytest.fixture
def flaky() -> Iterator[list[dict[str, Any] | None]]:
    """A hidden experiment that checkpoints and dies on a fresh run, and finishes on resume.

    Yields the list of states its runs loaded (None for a fresh start).
    """
    loads: list[dict[str, Any] | None] = []

    @register
    class Flaky(_Base):
        """Dies after its first checkpoint."""

        name = "_test.flaky"

        def run(self, ctx: RunContext) -> Outcome:
            loaded = ctx.checkpointer.load()
            loads.append(None if loaded is None else loaded[1])
            if loaded is None:
                time.sleep(0.3)
                ctx.checkpointer.save({"x": torch.ones(2)}, {"stage": 1})
                raise RuntimeError("killed")
            return Outcome(headline=1, metrics={"stage": loaded[1]["stage"]}, verdict="partial")

    yield loads
    unregister(Flaky.name)


@pytest.fixture
def visible() -> Iterator[None]:
    """Two visible experiments, one in the tour."""

    @register
    class InTour(_Base):
        """In the tour."""

        name = "zztest.in_tour"
        tour = True

        def run(self, ctx: RunContext) -> Outcome:
            return Outcome(headline=None, metrics={}, verdict="reproduced")

    @register
    class NotInTour(InTour):
        """Not in the tour."""

        name = "zztest.not_in_tour"
        tour = False

    yield
    unregister(InTour.name)
    unregister(NotInTour.name)


def test_run_writes_a_complete_result_and_deletes_the_checkpoint(tmp_path: Path) -> None:
    result = run_experiment(TOY, "smoke", 0, tmp_path, quiet=True)
    folder = tmp_path / TOY
    assert json.loads((folder / "result.json").read_text()) == result
    assert tuple(result) == REQUIRED_KEYS
    assert result["metrics"]["steps"] == 20 and result["plots"] == ["loss.png"]
    assert (folder / "loss.png").is_file()
    assert not (folder / "checkpoint.safetensors").exists()
    config = json.loads((folder / "config.json").read_text())
    assert (
        config["seed"] == 0
        and config["config"] == result["config"]
        and "torch" in config["versions"]
    )


def test_same_seed_gives_identical_metrics_and_other_seed_differs(tmp_path: Path) -> None:
    a = run_experiment(TOY, "smoke", 0, tmp_path / "a", quiet=True)
    b = run_experiment(TOY, "smoke", 0, tmp_path / "b", quiet=True)
    c = run_experiment(TOY, "smoke", 1, tmp_path / "c", quiet=True)
    assert a["metrics"] == b["metrics"]
    assert a["metrics"] != c["metrics"]


def test_unknown_scale_raises_rnnai_error_naming_the_valid_ones(tmp_path: Path) -> None:
    with pytest.raises(RnnaiError, match="smoke, quick, paper"):
        run_experiment(TOY, "huge", 0, tmp_path)


def test_unknown_experiment_suggests_close_names() -> None:
    with pytest.raises(RnnaiError, match="did you mean _toy.counter"):
        get_experiment("_toy.countr")


def test_output_folder_under_a_file_raises_rnnai_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(RnnaiError, match="cannot write to output folder"):
        run_experiment(TOY, "smoke", 0, tmp_path / "file" / "out", quiet=True)


def test_registering_a_second_class_under_a_taken_name_fails() -> None:
    class Clash(_Base):
        """Clashes with the toy."""

        name = TOY

        def run(self, ctx: RunContext) -> Outcome:
            raise AssertionError

    with pytest.raises(ValueError, match="registered twice"):
        register(Clash)


def test_outcome_rejects_unknown_verdict() -> None:
    with pytest.raises(ValueError, match="verdict"):
        Outcome(headline=1, metrics={}, verdict="great")


def test_context_rng_streams_are_deterministic_and_independent(tmp_path: Path) -> None:
    ctx = RunContext(name=TOY, scale="smoke", seed=3, out_dir=tmp_path, config={})
    assert ctx.rng("data").random() == ctx.rng("data").random()
    assert ctx.rng("data").random() != ctx.rng("init").random()


def test_resume_adds_checkpointed_wall_time_and_hides_the_reserved_key(
    tmp_path: Path, flaky: list[dict[str, Any] | None]
) -> None:
    with pytest.raises(RuntimeError, match="killed"):
        run_experiment("_test.flaky", "smoke", 0, tmp_path, quiet=True)
    assert (tmp_path / "_test.flaky" / "checkpoint.safetensors").is_file()
    assert not (tmp_path / "_test.flaky" / "result.json").exists()
    result = run_experiment("_test.flaky", "smoke", 0, tmp_path, resume=True, quiet=True)
    assert flaky == [None, {"stage": 1}]
    assert result["wall_s"] >= 0.3
    assert not (tmp_path / "_test.flaky" / "checkpoint.safetensors").exists()


def test_fresh_run_ignores_and_deletes_an_old_checkpoint(
    tmp_path: Path, flaky: list[dict[str, Any] | None]
) -> None:
    with pytest.raises(RuntimeError):
        run_experiment("_test.flaky", "smoke", 0, tmp_path, quiet=True)
    with pytest.raises(RuntimeError):
        run_experiment("_test.flaky", "smoke", 0, tmp_path, quiet=True)
    assert flaky == [None, None]


def test_resume_refuses_a_checkpoint_of_another_seed_before_running(
    tmp_path: Path, flaky: list[dict[str, Any] | None]
) -> None:
    with pytest.raises(RuntimeError):
        run_experiment("_test.flaky", "smoke", 1, tmp_path, quiet=True)
    with pytest.raises(RnnaiError, match="differs in seed"):
        run_experiment("_test.flaky", "smoke", 0, tmp_path, resume=True, quiet=True)
    assert flaky == [None]


def test_saving_the_reserved_wall_time_key_fails(tmp_path: Path) -> None:
    from rnnai.experiments.runner import WALL_KEY, _RunCheckpointer

    ckpt = _RunCheckpointer(tmp_path / "c.safetensors", {"experiment": "x"})
    with pytest.raises(ValueError, match="reserved"):
        ckpt.save({}, {WALL_KEY: 1.0})


def test_selection_defaults_to_the_tour(visible: None) -> None:
    names = [e.name for e in select_experiments()]
    assert "zztest.in_tour" in names and "zztest.not_in_tour" not in names


def test_selection_only_matches_globs_and_hidden_names_need_an_underscore_glob(
    visible: None,
) -> None:
    assert [e.name for e in select_experiments("zztest.*")] == [
        "zztest.in_tour",
        "zztest.not_in_tour",
    ]
    assert TOY not in [e.name for e in select_experiments("*")]
    assert [e.name for e in select_experiments("_toy.c*,zztest.not*")] == [
        TOY,
        "zztest.not_in_tour",
    ]
    assert TOY not in [e.name for e in select_experiments(all_=True)]


def test_selection_matching_nothing_raises_rnnai_error() -> None:
    with pytest.raises(RnnaiError, match="matches no experiment"):
        select_experiments("nothing.like.this*")


def test_selection_rejects_only_together_with_all() -> None:
    with pytest.raises(RnnaiError, match="not both"):
        select_experiments("x", all_=True)


def test_reproduce_keeps_going_after_a_failure_and_reports_it(tmp_path: Path, boom: str) -> None:
    with pytest.raises(ReproduceError) as info:
        reproduce("smoke", only="_toy.*,_test.*", out=tmp_path, quiet=True)
    assert info.value.failures == {boom: "RuntimeError: boom at step 3"}
    assert "boom at step 3" in (tmp_path / boom / "error.txt").read_text()
    report = info.value.report.read_text()
    assert "| `_toy.counter` | smoke |" in report
    assert "## Failed runs" in report and f"`{boom}`: RuntimeError: boom at step 3" in report


def test_reproduce_resume_skips_finished_experiments(tmp_path: Path) -> None:
    reproduce("smoke", only=TOY, out=tmp_path, quiet=True)
    before = (tmp_path / TOY / "result.json").stat().st_mtime_ns
    report = reproduce("smoke", only=TOY, out=tmp_path, quiet=True, resume=True)
    assert (tmp_path / TOY / "result.json").stat().st_mtime_ns == before
    assert "--only _toy.counter" in report.read_text()


def _checkpoint_step(path: Path) -> int:
    try:
        with safetensors.safe_open(str(path), "pt") as f:
            return int(json.loads(f.metadata()["rnnai_state"])["step"])
    except Exception:  # not there yet
        return -1


def test_killed_run_resumes_to_the_same_result_as_an_uninterrupted_run(tmp_path: Path) -> None:
    out = tmp_path / "killed"
    command = [sys.executable, "-c", CLI_WITH_TOY, "run", TOY, "--scale", "quick"]
    command += ["--out", str(out), "--quiet"]
    # 200 steps of >= 50 ms: the run cannot finish while the reference below runs.
    tests = str(Path(__file__).parents[1])  # where toy_experiment lives
    path = os.pathsep.join([tests, *filter(None, [os.environ.get("PYTHONPATH")])])
    env = {**os.environ, "PYTHONPATH": path, "OMP_NUM_THREADS": "1", "RNNAI_TOY_STEP_SLEEP": "0.05"}
    checkpoint = out / TOY / "checkpoint.safetensors"
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # The uninterrupted reference, while the subprocess starts up.
        reference = run_experiment(TOY, "quick", 0, tmp_path / "reference", quiet=True)
        deadline = time.monotonic() + 90
        while _checkpoint_step(checkpoint) < 5:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the run made no progress"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    killed_at = _checkpoint_step(checkpoint)
    assert 5 <= killed_at < 200
    assert not (out / TOY / "result.json").exists()

    env["RNNAI_TOY_STEP_SLEEP"] = "0"
    done = subprocess.run([*command, "--resume"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    resumed = json.loads((out / TOY / "result.json").read_text())
    assert resumed["metrics"] == reference["metrics"]
    assert f"Resumed from a checkpoint at step {killed_at}." in resumed["notes"]
    assert not checkpoint.exists()


def test_toy_experiment_is_not_shipped_with_the_library() -> None:
    import rnnai.experiments

    package = Path(rnnai.experiments.__file__).parent
    assert not list(package.glob("_toy*.py"))


def test_a_second_run_into_a_locked_folder_is_refused_before_touching_it(tmp_path: Path) -> None:
    import fcntl

    folder = tmp_path / TOY
    folder.mkdir()
    (folder / "result.json").write_text("{}")  # a first run's file, which must survive
    with open(folder / LOCK_NAME, "w") as holder:
        fcntl.flock(holder, fcntl.LOCK_EX | fcntl.LOCK_NB)
        holder.write("4242\n")
        holder.flush()
        with pytest.raises(RunLockedError, match="another rnnai run \\(pid 4242\\) is writing"):
            run_experiment(TOY, "smoke", 0, tmp_path, quiet=True)
    assert (folder / "result.json").read_text() == "{}"
    result = run_experiment(TOY, "smoke", 0, tmp_path, quiet=True)  # the lock was released
    assert result["metrics"]["steps"] == 20


def test_the_run_lock_is_released_when_the_run_fails(tmp_path: Path, boom: str) -> None:
    for _ in range(2):  # the second run would be refused if the first kept the lock
        with pytest.raises(RuntimeError, match="boom"):
            run_experiment(boom, "smoke", 0, tmp_path, quiet=True)


def test_reproduce_records_a_locked_folder_as_a_failure_without_writing_into_it(
    tmp_path: Path,
) -> None:
    import fcntl

    folder = tmp_path / TOY
    folder.mkdir()
    with open(folder / LOCK_NAME, "w") as holder:
        fcntl.flock(holder, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(ReproduceError) as info:
            reproduce("smoke", only=TOY, out=tmp_path, quiet=True)
    assert "another rnnai run" in info.value.failures[TOY]
    assert not (folder / "error.txt").exists()


def test_empty_output_folder_is_refused() -> None:
    with pytest.raises(RnnaiError, match="output folder must not be empty"):
        run_experiment(TOY, "smoke", 0, "", quiet=True)
    with pytest.raises(RnnaiError, match="output folder must not be empty"):
        reproduce("smoke", only=TOY, out=" ", quiet=True)


def test_workers_for_an_experiment_that_does_not_use_them_warn_and_are_ignored(
    tmp_path: Path,
) -> None:
    assert not get_experiment(TOY).uses_workers
    with pytest.warns(RnnaiWarning, match="_toy.counter does not use --workers or --ray-address"):
        result = run_experiment(
            TOY, "smoke", 0, tmp_path, quiet=True, workers=3, ray_address="127.0.0.1:1"
        )
    assert result["metrics"]["steps"] == 20  # and no Ray cluster was contacted


@pytest.fixture
def wants_workers() -> Iterator[list[Any]]:
    """A hidden experiment that uses workers and records the ones it was given."""
    seen: list[Any] = []

    @register
    class Parallel(_Base):
        """Records ctx.workers."""

        name = "_test.parallel"
        uses_workers = True

        def run(self, ctx: RunContext) -> Outcome:
            seen.append((ctx.workers, ctx.ray_address))
            return Outcome(headline=1, metrics={}, verdict="partial")

    yield seen
    unregister(Parallel.name)


def test_workers_above_the_cpus_are_capped_with_a_warning(
    tmp_path: Path, wants_workers: list[Any]
) -> None:
    from rnnai.evolution.distributed import usable_cpus

    with pytest.warns(RnnaiWarning, match=f"--workers 10000 is more than the {usable_cpus()} CPU"):
        run_experiment("_test.parallel", "smoke", 0, tmp_path, quiet=True, workers=10_000)
    assert wants_workers == [(usable_cpus(), None)]


def test_a_malformed_ray_address_is_refused_before_the_run(
    tmp_path: Path, wants_workers: list[Any]
) -> None:
    with pytest.raises(RnnaiError, match="Ray address must be 'auto', 'HOST:PORT'"):
        run_experiment("_test.parallel", "smoke", 0, tmp_path, quiet=True, ray_address="garbage")
    assert wants_workers == [] and not (tmp_path / "_test.parallel").exists()


def test_every_experiment_that_uses_workers_declares_it():
    """An experiment whose module asks for ctx.evaluator() or ctx.workers declares
    uses_workers; the declared set is the population-evaluation and OOPS experiments (oops.hanoi
    runs oops.1n2n's search loop, which reads ctx.workers)."""
    import inspect

    from rnnai.experiments.base import all_experiments

    declared = set()
    for exp in all_experiments():
        source = inspect.getsource(inspect.getmodule(type(exp)))
        if "ctx.evaluator()" in source or "ctx.workers" in source:
            assert exp.uses_workers, exp.name
        if exp.uses_workers:
            declared.add(exp.name)
    assert declared == {
        "agents.world_models_carracing",
        "agents.world_models_dream",
        "evolution.cns_driving",
        "evolution.cns_octopus",
        "evolution.pole_3d",
        "evolution.pole_double_markov",
        "evolution.pole_double_nonmarkov",
        "evolution.pole_single",
        "oops.1n2n",
        "oops.hanoi",
    }
