"""`rnnai bench ctc`: our CTC prefix beam search against pyctcdecode (no LM), same process.

Decoders: `rnnai.ctc.beam_search` (the prefix beam search of A. Hannun, A. Maas, D. Jurafsky &
A. Ng, "First-Pass Large Vocabulary Continuous Speech Recognition using Bi-Directional Recurrent
DNNs", arXiv:1408.2873, 2014, Alg. 1, over the CTC outputs of A. Graves, S. Fernandez, F. Gomez &
J. Schmidhuber, ICML 2006) and the anchor, ``pyctcdecode.build_ctcdecoder(labels).decode`` with
no language model. Every input is one utterance of T = 200 frames over C = 40 classes (the blank,
index 0, and 39 labels), float32 log-probabilities as a network would emit them; both decoders
get the same array, and our time includes input validation and the float64 conversion.

Inputs (`peaky_log_probs`, `flat_log_probs`, reported separately):

* peaky, like a trained network's: logits N(0, 1) with +12 on the blank at every frame; T/8 to
  T/4 label spikes (+14 +- 1 on a random label, 30% of them two frames long), 20% of spikes with a
  confusable second label (+12 +- 1), divided by a temperature (1.0), then log-softmax.
* flat: log-softmax of N(0, 1) logits (an untrained network); mean top probability about 0.14.

Settings. pyctcdecode prunes by default: a frame's labels with ln y < ``token_min_logp`` = -5 are
skipped unless they are the frame's argmax, and hypotheses more than 10 below the frame's best
(``beam_prune_logp`` = -10) are dropped. "pruned" runs use these settings in both decoders
(`beam_search` takes the same two options with the same meaning); "exact" is our default (no
pruning), and "unpruned" is pyctcdecode with both set to -inf. Both decoders get the same
``beam``, but pyctcdecode's beam entries are (labelling, last symbol) pairs, so a labelling that
ends in a blank and one that ends in a label take two of its slots, while ours keeps one entry per
labelling with P_b and P_nb (Hannun et al.); its beam is therefore effectively narrower.

Rows, for peaky and flat inputs and beam 16 and 100 (times are medians over utterances of one
call each, ours and the anchor timed alternately on the same input, in ms of CPU time, see
below; speedup = anchor / ours):

* ``ours pruned vs pyctcdecode defaults``: like for like with pruning;
* ``ours exact vs pyctcdecode defaults``: our exact search against the anchor as users run it;
* ``ours exact vs pyctcdecode unpruned``: like for like without pruning (on fewer utterances:
  the anchor takes seconds per utterance here);
* ``same best labelling`` (fraction, no anchor): ours exact and pyctcdecode defaults return the
  same labelling (on peaky inputs we require at least 0.99);
* ``where they differ, ours has the higher ln p(l|x)`` (fraction): among utterances whose
  labellings differ, the share where ours has the higher CTC log-likelihood ln p(l | x)
  (`rnnai.ctc.ctc_log_likelihood`, the exact forward pass), i.e. where the exact criterion favours
  ours; NaN (shown empty) when none differ.

Then best path (`rnnai.ctc.best_path`, ms per utterance, no anchor) and batch throughput in
utterances/s over a padded batch of B utterances with lengths drawn in [T/2, T] (best path;
ours pruned vs ``pyctcdecode.decode_batch`` with defaults and no process pool).

pyctcdecode 0.5.0 pins ``numpy<2`` but runs on numpy 2 (checked: this bench's agreement rows);
install it without its pins next to the project::

    pip install --no-deps pyctcdecode==0.5.0 pygtrie==2.6.2

Without it, only our rows are measured (with no anchor) and a message says how to install it.

Times are the CPU time of the calling thread (``time.thread_time``), not wall time. Both decoders
run single-threaded in the calling thread (our numba kernels; pyctcdecode is pure Python and gets
no process pool), so on an idle machine the two are the same; on the shared 2-core development
machine other jobs preempt the process, which inflates the wall time of a 3 ms call several-fold
(the scheduler's time slice is a few ms) but that of a 600 ms call only by the average load, and
would bias every ratio towards the anchor. The machine's load still moves absolute numbers.

Examples:
    >>> import numpy as np
    >>> y = peaky_log_probs(np.random.default_rng(0))  # (T, C) like a trained network's
    >>> y.shape, bool(np.allclose(np.exp(y).sum(-1), 1.0, atol=1e-4))
    ((200, 40), True)
"""

from __future__ import annotations

import logging
import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TypedDict

import numpy as np

from rnnai.bench import BenchRow, register_bench
from rnnai.runtime.progress import Progress

__all__ = [
    "ANCHOR_INSTALL",
    "BenchSizes",
    "anchor_decoder",
    "bench_ctc",
    "flat_log_probs",
    "peaky_log_probs",
]

FRAMES = 200
"""T, frames per utterance."""
CLASSES = 40
"""C, the blank (index 0) and 39 labels."""
BEAMS = (16, 100)
"""Beam widths measured."""
TEMPERATURE = 1.0
"""Divides the peaky logits before the log-softmax (higher: less peaky)."""
BLANK_LOGIT = 12.0
"""Added to the blank's N(0, 1) logit at every frame of a peaky input."""
SPIKE_LOGIT = 14.0
"""Mean logit added to a spike's label (so a spike frame is about 88% label, 12% blank)."""
CONFUSION_RATE = 0.2
"""Share of the peaky input's label spikes that also raise a second, confusable label."""
CONFUSION_LOGIT = 12.0
"""Mean logit added to that second label (about e^-2 of the spike label's mass)."""


class Pruning(TypedDict):
    """Beam-search pruning options (`rnnai.ctc.beam_search`'s keyword arguments)."""

    token_min_logp: float
    beam_prune_logp: float


PYCTC_DEFAULTS: Pruning = {"token_min_logp": -5.0, "beam_prune_logp": -10.0}
"""pyctcdecode's default pruning (pyctcdecode.constants), also our "pruned" setting."""
UNPRUNED: Pruning = {"token_min_logp": -math.inf, "beam_prune_logp": -math.inf}
"""pyctcdecode with pruning switched off."""
ANCHOR_INSTALL = "pip install --no-deps pyctcdecode==0.5.0 pygtrie==2.6.2"
"""How to install the anchor without its numpy<2 pin."""
SYMBOLS = "abcdefghijklmnopqrstuvwxyz0123456789ABC"
"""One character per label 1..39 for pyctcdecode (no space: it would split words)."""


@dataclass(frozen=True, kw_only=True)
class BenchSizes:
    """How many utterances each part of the benchmark uses.

    Attributes:
        peaky: Peaky utterances for the timing and agreement rows against pyctcdecode defaults.
        flat: Flat utterances for the same rows (the anchor takes up to seconds on each).
        unpruned: Utterances per input kind for the rows against unpruned pyctcdecode.
        batch: B, the utterances of the batch-throughput rows.
    """

    peaky: int
    flat: int
    unpruned: int
    batch: int


FULL = BenchSizes(peaky=100, flat=10, unpruned=4, batch=32)
"""The sizes of a full run (about four minutes on an idle machine, most of it in pyctcdecode)."""
QUICK = BenchSizes(peaky=12, flat=3, unpruned=1, batch=8)
"""The sizes of ``--quick`` (about a minute on an idle machine, most of it in pyctcdecode)."""


def _log_softmax(x: np.ndarray) -> np.ndarray:
    m = x.max(-1, keepdims=True)
    return x - (m + np.log(np.exp(x - m).sum(-1, keepdims=True)))


def peaky_log_probs(
    rng: np.random.Generator, T: int = FRAMES, C: int = CLASSES, temperature: float = TEMPERATURE
) -> np.ndarray:
    """Log-probabilities shaped like a trained CTC network's: blank frames and label spikes.

    Args:
        rng: Source of randomness.
        T: Frames.
        C: Classes, blank = 0.
        temperature: Divides the logits before the log-softmax.

    Returns:
        ``(T, C)`` float32 log-probabilities (module docstring: the recipe).
    """
    x = rng.normal(0.0, 1.0, (T, C))
    x[:, 0] += BLANK_LOGIT
    n = int(rng.integers(T // 8, T // 4 + 1))
    for t in np.sort(rng.choice(max(T - 1, 1), size=min(n, max(T - 1, 1)), replace=False)):
        width = 1 + int(rng.random() < 0.3)
        x[t : t + width, rng.integers(1, C)] += SPIKE_LOGIT + rng.normal()
        if rng.random() < CONFUSION_RATE:
            x[t, rng.integers(1, C)] += CONFUSION_LOGIT + rng.normal()
    return _log_softmax(x / temperature).astype(np.float32)


def flat_log_probs(rng: np.random.Generator, T: int = FRAMES, C: int = CLASSES) -> np.ndarray:
    """Log-softmax of standard normal logits, like an untrained network's outputs.

    Args:
        rng: Source of randomness.
        T: Frames.
        C: Classes.

    Returns:
        ``(T, C)`` float32 log-probabilities.
    """
    return _log_softmax(rng.normal(0.0, 1.0, (T, C))).astype(np.float32)


def anchor_decoder(C: int = CLASSES) -> Any | None:
    """pyctcdecode's decoder for labels 1..C-1 (blank ``""`` first), or None if not installed.

    Args:
        C: Classes, blank = 0.

    Returns:
        A ``pyctcdecode.BeamSearchDecoderCTC`` without a language model, or None.
    """
    log = logging.getLogger("pyctcdecode")
    level = log.level
    log.setLevel(logging.ERROR)  # "kenlm not installed" and "no space token" are expected
    try:
        import pyctcdecode

        return pyctcdecode.build_ctcdecoder(["", *SYMBOLS[: C - 1]])
    except ImportError:
        return None
    finally:
        log.setLevel(level)


def _anchor_labels(text: str) -> list[int]:
    return [SYMBOLS.index(ch) + 1 for ch in text]


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    """``fn()`` and the CPU seconds this thread spent in it (module docstring: why CPU time)."""
    t0 = time.thread_time()
    out = fn()
    return out, time.thread_time() - t0


def _run(
    inputs: Sequence[np.ndarray],
    decoders: dict[str, Callable[[np.ndarray], list[int]] | None],
    task: Any,
) -> dict[str, tuple[list[float], list[list[int]]]]:
    """Decode every input with every decoder in turn (so load from other processes hits all
    alike); return per decoder the seconds and labellings per input (None decoders skipped)."""
    out: dict[str, tuple[list[float], list[list[int]]]] = {
        name: ([], []) for name, fn in decoders.items() if fn is not None
    }
    for y in inputs:
        for name, (times, labels) in out.items():
            fn = decoders[name]
            assert fn is not None  # None decoders are not in ``out``
            lab, dt = _timed(partial(fn, y))
            times.append(dt)
            labels.append(lab)
        task.advance()
    return out


def _median_ms(times: list[float]) -> float:
    return statistics.median(times) * 1e3


def _agreement_rows(
    prefix: str, inputs: Sequence[np.ndarray], ours: list[list[int]], anchor: list[list[int]]
) -> list[BenchRow]:
    from rnnai.ctc import ctc_log_likelihood

    n = len(inputs)
    differ = [i for i in range(n) if ours[i] != anchor[i]]
    wins = sum(
        ctc_log_likelihood(inputs[i], ours[i]) > ctc_log_likelihood(inputs[i], anchor[i])
        for i in differ
    )
    return [
        BenchRow.compare(
            f"{prefix}: same best labelling, ours exact vs pyctcdecode defaults (n={n})",
            (n - len(differ)) / n,
            None,
            "fraction",
        ),
        BenchRow.compare(
            f"{prefix}: where they differ, ours has the higher ln p(l|x) "
            f"({len(differ)} of {n} differ)",
            wins / len(differ) if differ else math.nan,
            None,
            "fraction",
        ),
    ]


def _beam_fn(beam: int, prune: Pruning | None) -> Callable[[np.ndarray], list[int]]:
    from rnnai.ctc import Hypothesis, beam_search

    def decode(y: np.ndarray) -> list[int]:
        h = beam_search(y, beam=beam, **prune) if prune else beam_search(y, beam=beam)
        assert isinstance(h, Hypothesis), "one (T, C) input decodes to one hypothesis"
        return h.labels

    return decode


def _anchor_fn(
    decoder: Any | None, beam: int, prune: Pruning
) -> Callable[[np.ndarray], list[int]] | None:
    if decoder is None:
        return None
    return lambda y: _anchor_labels(decoder.decode(y, beam_width=beam, **prune))


def _kind_rows(
    kind: str,
    inputs: Sequence[np.ndarray],
    n_unpruned: int,
    decoder: Any | None,
    progress: Progress,
) -> list[BenchRow]:
    rows: list[BenchRow] = []
    n = len(inputs)
    with progress.task(len(BEAMS) * (n + n_unpruned), f"ctc: {kind} inputs") as task:
        for beam in BEAMS:
            prefix = f"ctc {kind} beam {beam} T={FRAMES} C={CLASSES}"
            res = _run(
                inputs,
                {
                    "pruned": _beam_fn(beam, PYCTC_DEFAULTS),
                    "exact": _beam_fn(beam, None),
                    "anchor": _anchor_fn(decoder, beam, PYCTC_DEFAULTS),
                },
                task,
            )
            anchor = _median_ms(res["anchor"][0]) if "anchor" in res else None
            for name in ("pruned", "exact"):
                rows.append(
                    BenchRow.compare(
                        f"{prefix}: ours {name} vs pyctcdecode defaults (ms/utt, n={n})",
                        _median_ms(res[name][0]),
                        anchor,
                        "ms",
                    )
                )
            sub = inputs[:n_unpruned]
            unp = _run(
                sub,
                {"exact": _beam_fn(beam, None), "anchor": _anchor_fn(decoder, beam, UNPRUNED)},
                task,
            )
            rows.append(
                BenchRow.compare(
                    f"{prefix}: ours exact vs pyctcdecode unpruned (ms/utt, n={len(sub)})",
                    _median_ms(unp["exact"][0]),
                    _median_ms(unp["anchor"][0]) if "anchor" in unp else None,
                    "ms",
                )
            )
            if "anchor" in res:
                rows += _agreement_rows(prefix, inputs, res["exact"][1], res["anchor"][1])
    return rows


def _batch_rows(
    sizes: BenchSizes, decoder: Any | None, rng: np.random.Generator, progress: Progress
) -> list[BenchRow]:
    from rnnai.ctc import beam_search, best_path

    B = sizes.batch
    batch = np.stack([peaky_log_probs(rng, FRAMES, CLASSES) for _ in range(B)])  # (B, T, C)
    lengths = rng.integers(FRAMES // 2, FRAMES + 1, size=B)  # (B,)
    ragged = [batch[b, : lengths[b]] for b in range(B)]
    rows: list[BenchRow] = []
    shape = f"B={B} T<={FRAMES} C={CLASSES} peaky"
    with progress.task(1 + len(BEAMS), "ctc: batches") as task:
        _, dt = _timed(lambda: best_path(batch, lengths))
        rows.append(BenchRow.compare(f"ctc batch best path {shape} (utt/s)", B / dt, None, "utt/s"))
        task.advance()
        for beam in BEAMS:
            _, dt = _timed(partial(beam_search, batch, lengths, beam=beam, **PYCTC_DEFAULTS))
            anchor = None
            if decoder is not None:
                _, dt_a = _timed(
                    partial(decoder.decode_batch, None, ragged, beam_width=beam, **PYCTC_DEFAULTS)
                )
                anchor = B / dt_a
            rows.append(
                BenchRow.compare(
                    f"ctc batch beam {beam} {shape}: ours pruned vs pyctcdecode decode_batch "
                    "defaults (utt/s)",
                    B / dt,
                    anchor,
                    "utt/s",
                )
            )
            task.advance()
    return rows


@register_bench("ctc")
def bench_ctc(quick: bool, progress: Progress) -> list[BenchRow]:
    """Time and compare our prefix beam search against pyctcdecode (module docstring: rows).

    Args:
        quick: Fewer utterances (`QUICK` instead of `FULL`).
        progress: Where progress and messages go.

    Returns:
        The rows; without pyctcdecode installed, ours only (no anchor, no agreement rows).
    """
    from rnnai.ctc import beam_search, best_path

    sizes = QUICK if quick else FULL
    decoder = anchor_decoder()
    if decoder is None:
        progress.log(
            "rnnai bench ctc: pyctcdecode (the anchor) is not installed, so only our decoders "
            f"are timed and no agreement is measured; install it with: {ANCHOR_INSTALL}"
        )
    rng = np.random.default_rng(0)
    warm = peaky_log_probs(rng, FRAMES, CLASSES)
    best_path(warm)
    beam_search(warm, beam=2)  # compile / load the numba cache before timing
    rows: list[BenchRow] = []
    peaky = [peaky_log_probs(rng, FRAMES, CLASSES) for _ in range(sizes.peaky)]
    flat = [flat_log_probs(rng, FRAMES, CLASSES) for _ in range(sizes.flat)]
    rows += _kind_rows("peaky", peaky, min(sizes.unpruned, len(peaky)), decoder, progress)
    rows += _kind_rows("flat", flat, min(sizes.unpruned, len(flat)), decoder, progress)
    times = [_timed(partial(best_path, y))[1] for y in peaky]
    rows.append(
        BenchRow.compare(
            f"ctc best path T={FRAMES} C={CLASSES} (ms/utt, n={len(peaky)})",
            _median_ms(times),
            None,
            "ms",
        )
    )
    rows += _batch_rows(sizes, decoder, rng, progress)
    return rows
