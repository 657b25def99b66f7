"""`rnnai bench memory`: the chunk-parallel delta rule against its step loop and softmax attention.

Setting: batch 1, 4 heads, keys/queries (already through a feature map and sum-normalised) and
values of size 64, float32; one step = forward, sum of the outputs, backward. Three computations
of a causal sequence layer of length T:

* ``chunk``: `rnnai.nn.fastweights.delta_rule` in its chunk-parallel form (chunks of C = 64 steps,
  triangular solves inside a chunk, the fast weights carried across chunks);
* ``step``: the same function step by step (``mode="recurrent"``), the straightforward loop;
* ``softmax``: `torch.nn.functional.scaled_dot_product_attention` with ``is_causal=True``.

T = 256, 1,024, 4,096 and 16,384 (``--quick``: 256 and 1,024); the step loop runs up to T = 4,096
(quick: 1,024). The three are timed round-robin in the same process (one untimed warm-up call
each, then repeats of chunk, step, softmax, ...) and each row reports medians; ``speedup`` = the
anchor's time / the chunk form's time (>1: the chunk form is faster).

Memory. On a CUDA device the rows report the peak of `torch.cuda.max_memory_allocated` during
one step, above what was allocated before it. On the CPU torch has no allocator statistics, and a
process's resident size says little (the allocator keeps and reuses freed pages), so the rows
report the bytes of the distinct tensors autograd saves for the backward pass (`saved_bytes`):
the activation memory that grows with T, not the transient workspace of single kernels.
Memory rows have unit ``MiB`` and no speedup.

The machine this is developed on has 2 CPU cores shared with other work: its timings are noisy,
and torch's thread count is whatever the process has (the row caption of ``rnnai bench`` says
which). Where a CUDA device is present, the same rows are measured on it too, prefixed ``[cuda]``.

Examples:
    >>> import torch
    >>> x = torch.ones(1000, requires_grad=True)
    >>> saved_bytes(lambda: (x * x).sum())    # x, saved once for d(x*x)/dx
    4000
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor
from torch.nn import functional as F

from rnnai.bench import BenchRow, register_bench, round_robin_medians
from rnnai.runtime.progress import Progress, TaskHandle

__all__ = ["bench_memory", "saved_bytes"]

BATCH, HEADS, DIM, CHUNK = 1, 4, 64, 64
SIZES = (256, 1024, 4096, 16384)
QUICK_SIZES = (256, 1024)
STEP_MAX, QUICK_STEP_MAX = 4096, 1024
REPEATS, QUICK_REPEATS = 3, 1
MIB = float(2**20)


def saved_bytes(fn: Callable[[], object]) -> int:
    """Bytes of the distinct tensor storages autograd saves for backward while ``fn()`` runs.

    Args:
        fn: The forward computation (its result is dropped).

    Returns:
        The sum of the sizes of the storages packed by `torch.autograd.graph.saved_tensors_hooks`
        (each storage counted once).
    """
    seen: dict[tuple[str, int], int] = {}

    def pack(t: Tensor) -> Tensor:
        storage = t.untyped_storage()
        seen[(str(t.device), storage.data_ptr())] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        fn()
    return sum(seen.values())


def _inputs(T: int, device: torch.device) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    gen = torch.Generator().manual_seed(T)
    shape = (BATCH, HEADS, T, DIM)
    q = torch.rand(shape, generator=gen)
    k = torch.rand(shape, generator=gen)
    q, k = q / q.sum(-1, keepdim=True), k / k.sum(-1, keepdim=True)  # sum-normalised features
    v = torch.randn(shape, generator=gen)
    beta = torch.rand(BATCH, HEADS, T, generator=gen)
    return tuple(t.to(device).requires_grad_() for t in (q, k, v, beta))  # type: ignore[return-value]


def _computations(q: Tensor, k: Tensor, v: Tensor, beta: Tensor) -> dict[str, Callable[[], Tensor]]:
    """Forward passes by name; each returns the output (N, heads, T, d)."""
    from rnnai.nn.fastweights import delta_rule

    return {
        "chunk": lambda: delta_rule(q, k, v, beta, mode="chunk", chunk_size=CHUNK)[0],
        "step": lambda: delta_rule(q, k, v, beta, mode="recurrent")[0],
        "softmax": lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True),
    }


def _step(forward: Callable[[], Tensor], leaves: tuple[Tensor, ...]) -> Callable[[], None]:
    def step() -> None:
        for t in leaves:
            t.grad = None
        forward().sum().backward()
        if leaves[0].is_cuda:
            torch.cuda.synchronize()

    return step


def _memory_mib(forward: Callable[[], Tensor], leaves: tuple[Tensor, ...]) -> float:
    if leaves[0].is_cuda:
        torch.cuda.synchronize()
        base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        _step(forward, leaves)()
        return (torch.cuda.max_memory_allocated() - base) / MIB
    return saved_bytes(forward) / MIB


def _rows_on(
    device: torch.device, sizes: tuple[int, ...], step_max: int, repeats: int, task: TaskHandle
) -> list[BenchRow]:
    tag = "[cuda] " if device.type == "cuda" else ""
    setting = f"B={BATCH} heads={HEADS} d={DIM} C={CHUNK}"
    rows: list[BenchRow] = []
    for T in sizes:
        leaves = _inputs(T, device)
        forwards = _computations(*leaves)
        if T > step_max:
            del forwards["step"]
        med = round_robin_medians({n: _step(f, leaves) for n, f in forwards.items()}, repeats)
        mem = {n: _memory_mib(f, leaves) for n, f in forwards.items()}
        ms = {n: s * 1e3 for n, s in med.items()}
        if "step" in ms:
            rows.append(
                BenchRow.compare(
                    f"{tag}delta rule chunk-parallel vs step loop, fwd+bwd T={T} {setting}",
                    ms["chunk"],
                    ms["step"],
                    "ms",
                )
            )
        rows.append(
            BenchRow.compare(
                f"{tag}delta rule chunk-parallel vs softmax attention (SDPA causal), fwd+bwd "
                f"T={T} {setting}",
                ms["chunk"],
                ms["softmax"],
                "ms",
            )
        )
        rows.append(
            BenchRow(
                name=f"{tag}memory: delta rule chunk-parallel vs softmax attention T={T}",
                ours=mem["chunk"],
                anchor=mem["softmax"],
                unit="MiB",
                speedup=None,
            )
        )
        if "step" in mem:
            rows.append(
                BenchRow(
                    name=f"{tag}memory: delta rule chunk-parallel vs step loop T={T}",
                    ours=mem["chunk"],
                    anchor=mem["step"],
                    unit="MiB",
                    speedup=None,
                )
            )
        task.advance()
    return rows


@register_bench("memory")
def bench_memory(quick: bool, progress: Progress) -> list[BenchRow]:
    """Time and memory of the chunk-parallel delta rule, its step loop and softmax attention.

    Args:
        quick: Fewer lengths (256 and 1,024) and one timed repeat.
        progress: The progress display.

    Returns:
        Per length: a time row against the step loop (up to the step loop's largest length), a
        time row against softmax attention, and memory rows (MiB) for both comparisons; then
        the same on CUDA when a device is present.
    """
    sizes = QUICK_SIZES if quick else SIZES
    step_max = QUICK_STEP_MAX if quick else STEP_MAX
    repeats = QUICK_REPEATS if quick else REPEATS
    devices = [torch.device("cpu")]
    if torch.cuda.is_available():
        devices.append(torch.device("cuda"))
    rows: list[BenchRow] = []
    with progress.task(len(sizes) * len(devices), "memory: delta rule fwd+bwd") as task:
        for device in devices:
            rows += _rows_on(device, sizes, step_max, repeats, task)
    return rows
