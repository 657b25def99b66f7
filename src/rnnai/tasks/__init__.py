"""Supervised sequence tasks of the LSTM papers, with the papers' per-sequence criteria.

- Hochreiter & Schmidhuber 1997 (Neural Computation 9(8):1735-1780), Section 5: embedded Reber
  grammar (Exp. 1, `ReberTask`), long time lags (Exp. 2a/2c, `LongLag2aTask`, `LongLag2cTask`),
  Bengio et al.'s noisy 2-sequence problem (Exp. 3a/3b/3c, `NoisyTwoSequenceTask`), adding and
  multiplication (Exp. 4/5, `AddingTask`, `MultiplicationTask`), temporal order (Exp. 6a/6b,
  `TemporalOrderTask`).
- Gers, Schmidhuber & Cummins 2000 (Neural Computation 12(10)): continual embedded Reber grammar
  (`ContinualEmbeddedReber`).
- Gers, Schraudolph & Schmidhuber 2002 (JMLR 3): measuring spike delays (`MSDTask`) and generating
  timed spikes (`GTSTask`).
- Memory tasks (`rnnai.tasks.memory_tasks`): the 22-symbol stream of the history compressor
  (Schmidhuber 1992, `TwentyTwoSymbolTask`), Dyck languages, a^n b^n (c^n) and string reversal
  with test lengths strictly longer than training lengths (the protocol of Deletang et al. 2023),
  and the NTM's copy and associative recall (Graves et al. 2014).

``TASKS[name](**config_fields)`` builds a task with the paper's defaults, e.g.
``TASKS["adding"](T=500)`` or ``TASKS["noisy_3c"](N=1)``.

Examples:
    >>> import numpy as np
    >>> from rnnai.tasks import TASKS
    >>> task = TASKS["adding"](T=20)
    >>> batch = task.sample(np.random.default_rng(0), 4)
    >>> batch.x.shape[0], task.input_size, task.output_size
    (4, 2, 1)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rnnai.tasks.arithmetic import (
    AddingConfig,
    AddingTask,
    MultiplicationConfig,
    MultiplicationTask,
)
from rnnai.tasks.base import SequenceBatch, SequenceTask, TorchSequenceBatch
from rnnai.tasks.long_lag import LongLag2aConfig, LongLag2aTask, LongLag2cConfig, LongLag2cTask
from rnnai.tasks.memory_tasks import (
    AnBnConfig,
    AnBnTask,
    AssociativeRecallConfig,
    AssociativeRecallTask,
    CopyConfig,
    CopyTask,
    DyckConfig,
    DyckTask,
    ReversalConfig,
    ReversalTask,
    TwentyTwoSymbolConfig,
    TwentyTwoSymbolTask,
    accuracy_by_length,
)
from rnnai.tasks.noisy import NoisyTwoSequenceConfig, NoisyTwoSequenceTask
from rnnai.tasks.reber import (
    ContinualEmbeddedReber,
    ContinualReberConfig,
    ContinualReberStream,
    ReberConfig,
    ReberTask,
    count_consecutive_correct,
    reber_datasets,
)
from rnnai.tasks.temporal_order import TemporalOrderConfig, TemporalOrderTask
from rnnai.tasks.timing import (
    GTSConfig,
    GTSTask,
    MSDConfig,
    MSDTask,
    check_spike_train,
    spike_times,
)

__all__ = [
    "TASKS",
    "AnBnConfig",
    "AnBnTask",
    "AssociativeRecallConfig",
    "AssociativeRecallTask",
    "CopyConfig",
    "CopyTask",
    "DyckConfig",
    "DyckTask",
    "ReversalConfig",
    "ReversalTask",
    "TwentyTwoSymbolConfig",
    "TwentyTwoSymbolTask",
    "accuracy_by_length",
    "AddingConfig",
    "AddingTask",
    "ContinualEmbeddedReber",
    "ContinualReberConfig",
    "ContinualReberStream",
    "GTSConfig",
    "GTSTask",
    "LongLag2aConfig",
    "LongLag2aTask",
    "LongLag2cConfig",
    "LongLag2cTask",
    "MSDConfig",
    "MSDTask",
    "MultiplicationConfig",
    "MultiplicationTask",
    "NoisyTwoSequenceConfig",
    "NoisyTwoSequenceTask",
    "ReberConfig",
    "ReberTask",
    "SequenceBatch",
    "SequenceTask",
    "TemporalOrderConfig",
    "TemporalOrderTask",
    "TorchSequenceBatch",
    "check_spike_train",
    "count_consecutive_correct",
    "reber_datasets",
    "spike_times",
]


def _factory(task_cls: type, config_cls: type, **preset: Any) -> Callable[..., SequenceTask]:
    def make(**fields: Any) -> SequenceTask:
        return task_cls(config_cls(**{**preset, **fields}))

    make.__doc__ = f"{task_cls.__name__}({config_cls.__name__}(**fields)), preset {preset}."
    return make


TASKS: dict[str, Callable[..., SequenceTask]] = {
    "reber": _factory(ReberTask, ReberConfig, embedded=False),
    "embedded_reber": _factory(ReberTask, ReberConfig, embedded=True),
    "continual_embedded_reber": _factory(ContinualEmbeddedReber, ContinualReberConfig),
    "long_lag_2a": _factory(LongLag2aTask, LongLag2aConfig),
    "long_lag_2c": _factory(LongLag2cTask, LongLag2cConfig),
    "noisy_3a": _factory(NoisyTwoSequenceTask, NoisyTwoSequenceConfig, variant="3a"),
    "noisy_3b": _factory(NoisyTwoSequenceTask, NoisyTwoSequenceConfig, variant="3b"),
    "noisy_3c": _factory(NoisyTwoSequenceTask, NoisyTwoSequenceConfig, variant="3c"),
    "adding": _factory(AddingTask, AddingConfig),
    "multiplication": _factory(MultiplicationTask, MultiplicationConfig),
    "temporal_order_6a": _factory(TemporalOrderTask, TemporalOrderConfig, variant="6a"),
    "temporal_order_6b": _factory(TemporalOrderTask, TemporalOrderConfig, variant="6b"),
    "msd": _factory(MSDTask, MSDConfig),
    "gts": _factory(GTSTask, GTSConfig),
}
"""Task name -> factory taking the config's fields as keyword arguments."""
