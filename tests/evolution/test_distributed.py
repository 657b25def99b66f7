"""Population evaluation on Ray: identical to in-process, survives a lost worker, clear errors.

One local 2-CPU Ray cluster serves the whole module (starting one takes 3-8 s).
"""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from rnnai.evolution.core import EvaluationError, LocalEvaluator, Problem, Searcher
from rnnai.evolution.distributed import (
    ClosableEvaluator,
    RayEvaluator,
    WorkerLostError,
    _check_reachable,
    check_address,
    make_evaluator,
    split_rows,
    usable_cpus,
)
from rnnai.runtime.errors import RnnaiError, RnnaiWarning

requires_ray = pytest.mark.skipif(
    importlib.util.find_spec("ray") is None,
    reason="Ray is not installed (pip install 'rnnai[distributed]')",
)


class Wavy(Problem):
    """A deterministic, non-trivial fitness (Rastrigin plus a recurrence over the genes)."""

    def __init__(self, dim: int = 7) -> None:
        self.dim = dim

    def evaluate(self, genomes: np.ndarray) -> np.ndarray:
        h = np.zeros(genomes.shape[0])
        for j in range(self.dim):  # a little recurrent network, row by row
            h = np.tanh(0.9 * h + genomes[:, j] * np.sin(1.0 + j))
        rastrigin = np.sum(genomes**2 - 10.0 * np.cos(2.0 * np.pi * genomes), axis=1)
        return h - rastrigin / (10.0 * self.dim)


class KillOnce(Wavy):
    """Kills its worker process (SIGKILL) halfway through the first evaluation only."""

    def __init__(self, marker: Path, driver_pid: int) -> None:
        super().__init__()
        self.marker = str(marker)
        self.driver_pid = driver_pid

    def evaluate(self, genomes: np.ndarray) -> np.ndarray:
        half = super().evaluate(genomes[: len(genomes) // 2])  # work in progress is lost
        if os.getpid() != self.driver_pid:  # never kill the test process itself
            try:
                os.close(os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                pass
            else:
                os.kill(os.getpid(), signal.SIGKILL)
        del half
        return super().evaluate(genomes)


class KillAlways(Wavy):
    """Kills its worker process every time."""

    def __init__(self, driver_pid: int) -> None:
        super().__init__()
        self.driver_pid = driver_pid

    def evaluate(self, genomes: np.ndarray) -> np.ndarray:
        if os.getpid() != self.driver_pid:
            os.kill(os.getpid(), signal.SIGKILL)
        return super().evaluate(genomes)


class ClipsInPlace(Wavy):
    """Writes into the genomes it is given (allowed: they are its own copy)."""

    def evaluate(self, genomes: np.ndarray) -> np.ndarray:
        np.clip(genomes, -1.0, 1.0, out=genomes)
        return super().evaluate(genomes)


class Raises(Wavy):
    def evaluate(self, genomes: np.ndarray) -> np.ndarray:
        raise ArithmeticError(f"boom on {len(genomes)} genomes")


class WrongShape(Wavy):
    def evaluate(self, genomes: np.ndarray) -> np.ndarray:
        return np.zeros((len(genomes), 2))


class Sleepy(Wavy):
    def evaluate(self, genomes: np.ndarray) -> np.ndarray:
        time.sleep(30.0)
        return super().evaluate(genomes)


class Unpicklable(Wavy):
    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()


class GaussianSearch(Searcher):
    """A tiny (1, lambda) evolution strategy: enough to drive a few generations."""

    name = "gaussian"

    def __init__(self, dim: int, rng: np.random.Generator, popsize: int = 9) -> None:
        super().__init__(dim, rng)
        self.popsize = popsize
        self.mean = np.zeros(dim)

    def _ask(self) -> np.ndarray:
        return self.mean + 0.5 * self.rng.standard_normal((self.popsize, self.dim))

    def _tell(self, genomes: np.ndarray, fitness: np.ndarray) -> None:
        self.mean = genomes[int(np.argmax(fitness))].copy()


def population(n: int, dim: int = 7, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-3.0, 3.0, (n, dim))


@pytest.fixture(scope="module")
def cluster() -> RayEvaluator:
    """A local Ray cluster with 2 CPUs, started once for the module and shut down after it."""
    evaluator = RayEvaluator(workers=2, timeout_s=120.0)
    try:
        evaluator(Wavy(), population(4))  # start Ray and the two worker processes
        yield evaluator
    finally:
        evaluator.shutdown()


# ---------------------------------------------------------------------------- no Ray needed
def test_split_rows_gives_contiguous_near_equal_chunks_in_order() -> None:
    assert split_rows(10, 3) == [(0, 4), (4, 7), (7, 10)]
    assert split_rows(2, 5) == [(0, 1), (1, 2)]  # never an empty chunk
    for n in range(1, 30):
        for k in range(1, 8):
            bounds = split_rows(n, k)
            sizes = [b - a for a, b in bounds]
            assert bounds[0][0] == 0 and bounds[-1][1] == n
            assert all(bounds[i][1] == bounds[i + 1][0] for i in range(len(bounds) - 1))
            assert len(bounds) == min(n, k) and max(sizes) - min(sizes) <= 1


def test_split_rows_rejects_zero_chunks_or_rows() -> None:
    with pytest.raises(RnnaiError, match="chunks must be an int >= 1"):
        split_rows(5, 0)
    with pytest.raises(RnnaiError, match="n must be an int >= 1"):
        split_rows(0, 2)


def test_make_evaluator_without_workers_evaluates_in_process() -> None:
    for workers in (None, 0, 1):
        evaluator = make_evaluator(workers)
        assert isinstance(evaluator, LocalEvaluator) and isinstance(evaluator, ClosableEvaluator)
        with evaluator as ev:  # the same lifecycle as a RayEvaluator
            np.testing.assert_array_equal(ev(Wavy(), population(5)), Wavy().evaluate(population(5)))


def test_make_evaluator_rejects_negative_workers_and_ray_options_in_process() -> None:
    with pytest.raises(RnnaiError, match="workers must be an int >= 0, got -1"):
        make_evaluator(-1)
    with pytest.raises(RnnaiError, match="chunks only apply to Ray"):
        make_evaluator(1, chunks=4)


def test_ray_evaluation_without_ray_installed_says_how_to_install(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # makes `import ray` fail
    with pytest.raises(RnnaiError, match=r"pip install 'rnnai\[distributed\]'"):
        make_evaluator(2)


# ---------------------------------------------------------------------------- argument checks
@requires_ray
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"workers": 0}, "workers must be an int >= 1, got 0"),
        ({"workers": 1.5}, "workers must be an int >= 1, got 1.5"),
        ({"chunks": 0}, "chunks must be an int >= 1, got 0"),
        ({"max_retries": -1}, "max_retries must be an int >= 0, got -1"),
        ({"address": ""}, "address must be a non-empty string"),
        ({"timeout_s": 0}, "timeout_s must be a number > 0"),
    ],
)
def test_ray_evaluator_rejects_bad_arguments_by_name(kwargs: dict, message: str) -> None:
    with pytest.raises(RnnaiError, match=message):
        RayEvaluator(**kwargs)


@pytest.mark.parametrize("address", ["garbage", "host:", ":80", "host:99999", "http://h:1"])
def test_malformed_address_is_refused_before_ray_is_touched(address: str) -> None:
    with pytest.raises(RnnaiError, match="Ray address must be 'auto', 'HOST:PORT'"):
        RayEvaluator(address=address)


@pytest.mark.parametrize(
    ("address", "parsed"),
    [
        ("auto", None),
        ("10.0.0.5:6379", ("10.0.0.5", 6379)),
        ("ray://head-node:10001", ("head-node", 10001)),
        ("[::1]:6379", ("::1", 6379)),
    ],
)
def test_check_address_accepts_the_forms_ray_accepts(
    address: str, parsed: tuple[str, int] | None
) -> None:
    assert check_address(address) == parsed


@requires_ray
def test_address_that_accepts_but_never_answers_fails_within_30_s(silent_server: str) -> None:
    start = time.perf_counter()
    with pytest.raises(RnnaiError, match="accepted the connection but sent nothing within 10 s"):
        RayEvaluator(address=silent_server)(Wavy(), population(2))
    assert time.perf_counter() - start < 30.0


def test_address_that_closes_the_connection_at_once_is_refused() -> None:
    server = socket.create_server(("127.0.0.1", 0))

    def close_at_once() -> None:
        conn, _ = server.accept()
        conn.close()

    thread = threading.Thread(target=close_at_once, daemon=True)
    thread.start()
    address = f"127.0.0.1:{server.getsockname()[1]}"
    try:
        with pytest.raises(RnnaiError, match="closed the connection|reset"):
            _check_reachable(address, answer_s=5.0)
    finally:
        thread.join(timeout=5)
        server.close()


@pytest.mark.skipif(importlib.util.find_spec("grpc") is None, reason="grpcio is not installed")
def test_a_grpc_server_passes_the_probe() -> None:
    from concurrent import futures

    import grpc

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        _check_reachable(f"127.0.0.1:{port}", answer_s=5.0)  # gRPC answers the HTTP/2 preface
    finally:
        server.stop(None)


class _FakeRay:
    """Records ray.init's arguments and stops there."""

    def __init__(self) -> None:
        self.calls: list[dict] = []

    def is_initialized(self) -> bool:
        return False

    def init(self, **kwargs: object) -> None:
        self.calls.append({**kwargs, "_driver_pythonpath": os.environ.get("PYTHONPATH")})
        raise RuntimeError("stop here")


@requires_ray
def test_local_cluster_gets_the_import_path_by_runtime_env_and_quiet_silences_warnings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import logging

    monkeypatch.setenv("PYTHONPATH", "/driver/own")
    for quiet, level in ((True, logging.ERROR), (False, logging.WARNING)):
        evaluator = RayEvaluator(workers=1, quiet=quiet)
        fake = _FakeRay()
        evaluator._ray = fake
        with pytest.raises(RuntimeError, match="stop here"):
            evaluator(Wavy(), population(2))
        (call,) = fake.calls
        assert call["logging_level"] == level
        assert call["_driver_pythonpath"] == "/driver/own"  # the driver's environment is untouched
        paths = call["runtime_env"]["env_vars"]["PYTHONPATH"].split(os.pathsep)
        assert str(Path(__file__).parent) in paths and "/driver/own" in paths
    assert os.environ["PYTHONPATH"] == "/driver/own"


@requires_ray
def test_workers_beyond_the_cpus_start_a_local_cluster_of_the_cpus_with_a_warning() -> None:
    evaluator = RayEvaluator(workers=10_000)
    fake = _FakeRay()
    evaluator._ray = fake
    with pytest.warns(RnnaiWarning, match="workers=10000 is more than the"):
        with pytest.raises(RuntimeError, match="stop here"):
            evaluator(Wavy(), population(2))
    assert fake.calls[0]["num_cpus"] == usable_cpus()


@requires_ray
def test_address_where_no_cluster_listens_fails_fast_with_a_clear_error() -> None:
    start = time.perf_counter()
    with pytest.raises(RnnaiError, match="no Ray cluster answers at '127.0.0.1:1'"):
        RayEvaluator(address="127.0.0.1:1")(Wavy(), population(2))
    assert time.perf_counter() - start < 10.0


# ---------------------------------------------------------------------------- on a Ray cluster
@requires_ray
def test_ray_fitness_equals_local_fitness_bit_for_bit(cluster: RayEvaluator) -> None:
    problem, genomes = Wavy(), population(13)
    local = LocalEvaluator()(problem, genomes)
    assert cluster.chunk_count(13) == 2  # one chunk per worker by default
    for evaluator in (cluster, RayEvaluator(chunks=1), RayEvaluator(chunks=5)):
        ours = evaluator(problem, genomes)
        assert ours.dtype == np.float64 and ours.shape == (13,)
        np.testing.assert_array_equal(ours, local)
    np.testing.assert_array_equal(RayEvaluator(chunks=50)(problem, genomes[:3]), local[:3])


@requires_ray
def test_search_with_the_same_seed_ends_identically_on_ray_and_in_process(
    cluster: RayEvaluator,
) -> None:
    runs = []
    for evaluator in (LocalEvaluator(), cluster):
        searcher = GaussianSearch(7, np.random.default_rng(42))
        history = [searcher.step(Wavy(), evaluator) for _ in range(4)]
        runs.append((history, searcher.best_genome, searcher.rng.random()))
    assert runs[0][0] == runs[1][0]
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
    assert runs[0][2] == runs[1][2]


@requires_ray
def test_problem_is_sent_to_the_object_store_once_per_problem(cluster: RayEvaluator) -> None:
    evaluator, problem = RayEvaluator(), Wavy()
    evaluator(problem, population(4))
    first = evaluator._problem_ref
    evaluator(problem, population(4, seed=1))
    assert evaluator._problem_ref is first
    evaluator(Wavy(), population(4))
    assert evaluator._problem_ref is not first


@requires_ray
def test_problem_may_write_into_large_genome_arrays_from_the_object_store(
    cluster: RayEvaluator,
) -> None:
    genomes = population(2_000)  # 112 kB: passed through the object store, read-only there
    expected = Wavy().evaluate(np.clip(genomes, -1.0, 1.0))
    np.testing.assert_array_equal(cluster(ClipsInPlace(), genomes.copy()), expected)


@requires_ray
def test_exception_in_evaluate_reaches_the_caller_with_its_type(cluster: RayEvaluator) -> None:
    with pytest.raises(ArithmeticError, match="boom on 2 genomes"):
        cluster(Raises(), population(4))


@requires_ray
def test_malformed_fitness_from_a_worker_raises_evaluation_error(cluster: RayEvaluator) -> None:
    with pytest.raises(EvaluationError, match=r"fitness must have shape \(2,\), got \(2, 2\)"):
        cluster(WrongShape(), population(4))


@requires_ray
def test_bad_genomes_raise_evaluation_error_before_anything_is_sent(
    cluster: RayEvaluator,
) -> None:
    with pytest.raises(EvaluationError, match=r"genomes must have shape \(P, 7\)"):
        cluster(Wavy(), np.zeros((3, 6)))


@requires_ray
def test_unpicklable_problem_raises_a_clear_error(cluster: RayEvaluator) -> None:
    with pytest.raises(RnnaiError, match="Unpicklable cannot be sent to Ray workers"):
        cluster(Unpicklable(), population(2))


@requires_ray
@pytest.mark.slow  # a second Python process connects: 10-70 s on the shared 2-core machine
def test_second_process_evaluates_on_an_existing_cluster_by_address(
    cluster: RayEvaluator,
) -> None:
    import ray

    address = ray.get_runtime_context().gcs_address
    script = (
        "import sys\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from test_distributed import Wavy, population\n"
        "from rnnai.evolution.distributed import RayEvaluator\n"
        f"env = {{'env_vars': {{'PYTHONPATH': {os.pathsep.join(sys.path)!r}}}}}\n"
        f"with RayEvaluator(address={address!r}, runtime_env=env) as ev:\n"
        "    print(ev(Wavy(), population(9)).tobytes().hex(), ev.chunk_count(9))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=True
    )
    fitness_hex, chunks = done.stdout.split()[-2:]
    assert fitness_hex == Wavy().evaluate(population(9)).tobytes().hex() and chunks == "2"
    cluster(Wavy(), population(3))  # disconnecting that driver left the cluster running


# Tests that kill workers come last: a replacement worker can take seconds to start.
@requires_ray
def test_worker_killed_mid_evaluation_is_retried_with_identical_result(
    cluster: RayEvaluator, tmp_path: Path
) -> None:
    marker = tmp_path / "killed-once"
    problem, genomes = KillOnce(marker, os.getpid()), population(11)
    fitness = cluster(problem, genomes)
    assert marker.exists()  # a worker really died
    np.testing.assert_array_equal(fitness, Wavy().evaluate(genomes))


@requires_ray
def test_worker_dying_on_every_try_raises_worker_lost_error(cluster: RayEvaluator) -> None:
    evaluator = RayEvaluator(chunks=1, max_retries=0)
    with pytest.raises(WorkerLostError, match="workers died 1 times on one chunk"):
        evaluator(KillAlways(os.getpid()), population(3))


@requires_ray
def test_a_lost_node_or_connection_is_a_worker_lost_error_and_an_rnnai_error(
    cluster: RayEvaluator, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ray

    def lost(*args: object, **kwargs: object) -> None:
        raise ray.exceptions.RaySystemError("node 3f2a lost")

    monkeypatch.setattr(ray, "get", lost)
    with pytest.raises(WorkerLostError, match="the Ray cluster failed") as info:
        cluster(Wavy(), population(3))
    assert isinstance(info.value, RnnaiError)


@requires_ray
def test_population_slower_than_timeout_raises_timeout_error(cluster: RayEvaluator) -> None:
    start = time.perf_counter()
    with pytest.raises(TimeoutError, match="longer than timeout_s=0.5"):
        RayEvaluator(chunks=1, timeout_s=0.5)(Sleepy(), population(2))
    assert time.perf_counter() - start < 10.0
