"""`rnnai bench lstm_online`: online LSTM training on the embedded Reber grammar, sequences per
second of `rnnai.nn.lstm_online` against the same training done with the torch module.

The setting is the 1997 paper's Experiment 1 as `lstm.reber` trains it: embedded Reber strings
(7 one-hot inputs, 7 sigmoid outputs, squared error at every step), one weight update per string
(plain SGD, learning rate 0.5), weights uniform in [-0.2, 0.2], output-gate biases -1, -2, -3,
the 1997 squashing functions and truncated gradient. The strings are drawn once (seeded) and both
learners train on the same list, alternately (`round_robin_medians`), so that both run under the
same machine load; a row reports the medians over the repeats, and ``speedup`` = ours / anchor.

* ours: `OnlineLSTM` with the paper's 3 memory blocks of 2 cells (float64), timed two ways: one
  `OnlineLSTM.train_sequence` call per string (what a loop that looks at every string does), and
  all strings in one `OnlineLSTM.train_sequences` call.
* anchor: `rnnai.train.sequence.SequenceNet` (variant ``lstm1997``, 6 cells: the torch module has
  one cell per block, so 6 blocks of 1) with ``torch.optim.SGD``, batch 1: per string a forward
  pass, `masked_sse`, ``zero_grad``, ``backward``, ``step`` -- the training `lstm.reber` runs.

Torch runs with one thread here (set for the benchmark, restored after): on a net this small,
more threads only add wake-ups.

Examples:
    >>> strings = reber_training_strings(5, seed=0)
    >>> len(strings), strings[0].x.shape[1]
    (5, 7)
    >>> ours = _ours_per_string(strings)
    >>> ours()  # trains the net on the 5 strings
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from rnnai.bench import BenchRow, register_bench, round_robin_medians
from rnnai.runtime.progress import Progress

if TYPE_CHECKING:
    from rnnai.nn.lstm_online import OnlineLSTM

LR = 0.5
INIT_RANGE = 0.2
OUTPUT_GATE_BIAS = (-1.0, -2.0, -3.0)
N_STRINGS = {True: 100, False: 400}
"""Training strings per timed call (quick, full)."""
REPEATS = {True: 3, False: 7}


@dataclass(frozen=True)
class ReberString:
    """One training string: inputs (T, 7), targets (T, 7), mask (T,)."""

    x: np.ndarray
    y: np.ndarray
    mask: np.ndarray


def reber_training_strings(n: int, seed: int = 0) -> list[ReberString]:
    """``n`` embedded Reber strings with their next-symbol targets (float64)."""
    from rnnai.tasks.reber import sample_reber_strings, strings_to_batch

    batch = strings_to_batch(sample_reber_strings(np.random.default_rng(seed), n))
    out = []
    for k in range(n):
        T = int(batch.lengths[k])
        out.append(
            ReberString(
                x=batch.x[k, :T].astype(np.float64),
                y=batch.y[k, :T].astype(np.float64),
                mask=batch.mask[k, :T].astype(np.float64),
            )
        )
    return out


def _ours_net() -> OnlineLSTM:
    """The paper's net: 3 blocks of 2 cells, 1997 squashing and output-gate biases."""
    from rnnai.nn.lstm_online import OnlineLSTM, OnlineLSTMConfig

    cfg = OnlineLSTMConfig(
        input_size=7, output_size=7, blocks=3, cells_per_block=2, init_range=INIT_RANGE,
        output_gate_bias=OUTPUT_GATE_BIAS,
    )  # fmt: skip
    return OnlineLSTM(cfg, seed=0)


def _ours_per_string(strings: list[ReberString]) -> Callable[[], None]:
    """Train `OnlineLSTM` on the strings, one call per string."""
    net = _ours_net()

    def step() -> None:
        for s in strings:
            net.train_sequence(s.x, s.y, s.mask, lr=LR)

    return step


def _ours_one_call(strings: list[ReberString]) -> Callable[[], None]:
    """Train `OnlineLSTM` on all the strings in one kernel call."""
    net = _ours_net()
    xs, ys, ms = [s.x for s in strings], [s.y for s in strings], [s.mask for s in strings]

    def step() -> None:
        net.train_sequences(xs, ys, ms, lr=LR)

    return step


def _torch_per_string(strings: list[ReberString]) -> Callable[[], None]:
    """The same training with the torch module (float32, as `lstm.reber`), batch 1."""
    from rnnai.train.sequence import NetConfig, SequenceNet, masked_sse

    cfg = NetConfig(
        variant="lstm1997", hidden=6, init_range=INIT_RANGE,
        output_gate_bias=tuple(b for b in OUTPUT_GATE_BIAS for _ in range(2)),
    )  # fmt: skip
    net = SequenceNet(7, 7, cfg, torch.Generator().manual_seed(0))
    opt = torch.optim.SGD(net.parameters(), lr=LR)
    data = [
        (
            torch.from_numpy(s.x.astype(np.float32))[None],  # (1, T, 7)
            torch.from_numpy(s.y.astype(np.float32))[None],
            torch.from_numpy(s.mask.astype(bool))[None],
        )
        for s in strings
    ]

    def step() -> None:
        for x, y, mask in data:
            loss = masked_sse(net(x), y, mask)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

    return step


@register_bench("lstm_online")
def bench_lstm_online(quick: bool, progress: Progress) -> list[BenchRow]:
    """Embedded Reber, online: `OnlineLSTM` (3 blocks x 2 cells) against the torch module with
    batch 1 and one SGD step per string, strings per second (same process, alternating)."""
    n = N_STRINGS[quick]
    strings = reber_training_strings(n, seed=0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with progress.task(1, "lstm_online reber") as task:
            med = round_robin_medians(
                {
                    "torch": _torch_per_string(strings),
                    "per_string": _ours_per_string(strings),
                    "one_call": _ours_one_call(strings),
                },
                REPEATS[quick],
            )
            task.advance()
    finally:
        torch.set_num_threads(threads)
    anchor = n / med["torch"]
    name = "lstm_online Reber 3x2 cells, 1 SGD step/string, vs torch SequenceNet batch 1"
    return [
        BenchRow.compare(f"{name}, one call per string", n / med["per_string"], anchor, "seq/s"),
        BenchRow.compare(f"{name}, {n} strings per call", n / med["one_call"], anchor, "seq/s"),
    ]
