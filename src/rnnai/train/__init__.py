"""Training of the library's networks: checkpointed, resumable, the same from a script or the CLI.

* `rnnai.train.sequence`: `SequenceNet` (an LSTM layer and an output layer), `NetConfig`,
  `masked_sse`, `evaluate`;
* `rnnai.train.loop`: the one training loop `run_trials` (data sources `TaskBatches`,
  `FixedSets`, `StreamChunks`; evaluation hooks `TaskCriterion`, `StreamRuns`), its short form
  `train_trials`, `TrainConfig`, `make_optimizer`, `TrialResult` and the verdict helpers
  `summarize` and `sequences_evidence`;
* `rnnai.train.ctc`: `CTCNet` (a (B)LSTM stack with a softmax over labels and the blank) and
  `train_ctc` on your own (features, labels), on the same loop; `rnnai.train.ctc_plots` its plots;
* `rnnai.train.hooks`: the `Hooks` protocol a loop takes (checkpointer, progress, log);
* the neural history compressor's online training step lives with its module
  (`rnnai.nn.chunker.train_step`, re-exported here as `train_history_compressor_step`);
* `rnnai.train.plots`: learning curves and a network's internals over one sequence.

Evolution has its own run loop on the same hooks: `rnnai.evolution.evolve` and `evolve_runs`.

Examples:
    >>> from rnnai.tasks import AddingTask
    >>> from rnnai.train import NetConfig, TrainConfig, train_trials
    >>> run = train_trials(AddingTask(), NetConfig(hidden=4),
    ...                    TrainConfig(optimizer="adam", lr=0.01, batch=8, max_sequences=32,
    ...                                eval_every=32, eval_size=16, max_wrong=1),
    ...                    trials=1, seeds=0)
    >>> run.results[0].sequences
    32
"""

from rnnai.nn.chunker import train_step as train_history_compressor_step
from rnnai.train.ctc import (
    CTCDataError,
    CTCNet,
    CTCNetConfig,
    CTCTrainConfig,
    LabelledData,
    Normalizer,
    Posteriors,
    TrainedCTC,
    posteriors,
    train_ctc,
)
from rnnai.train.hooks import Checkpointing, Hooks, ProgressHandle, SilentHooks
from rnnai.train.loop import (
    Check,
    DataSource,
    Evaluation,
    FixedSets,
    Seeds,
    StreamChunks,
    StreamRuns,
    TaskBatches,
    TaskCriterion,
    TrainConfig,
    TrainingRun,
    TrialResult,
    make_optimizer,
    run_trials,
    sequences_evidence,
    summarize,
    train_trials,
)
from rnnai.train.sequence import NetConfig, SequenceNet, evaluate, masked_sse

__all__ = [
    "train_history_compressor_step",
    "CTCDataError",
    "CTCNet",
    "CTCNetConfig",
    "CTCTrainConfig",
    "LabelledData",
    "Normalizer",
    "Posteriors",
    "TrainedCTC",
    "posteriors",
    "train_ctc",
    "Check",
    "Checkpointing",
    "DataSource",
    "Evaluation",
    "FixedSets",
    "Hooks",
    "NetConfig",
    "ProgressHandle",
    "Seeds",
    "SequenceNet",
    "SilentHooks",
    "StreamChunks",
    "StreamRuns",
    "TaskBatches",
    "TaskCriterion",
    "TrainConfig",
    "TrainingRun",
    "TrialResult",
    "evaluate",
    "make_optimizer",
    "masked_sse",
    "run_trials",
    "sequences_evidence",
    "summarize",
    "train_trials",
]
