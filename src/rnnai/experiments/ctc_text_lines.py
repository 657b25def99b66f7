"""`ctc.text_lines`: BLSTM-CTC line recognition with dictionary decoding, Graves et al. 2009.

Paper: A. Graves, M. Liwicki, S. Fernandez, R. Bertolami, H. Bunke & J. Schmidhuber, "A Novel
Connectionist System for Unconstrained Handwriting Recognition", IEEE TPAMI 31(5):855-868, 2009.
A BLSTM-CTC reads whole handwritten text lines (no segmentation into words or letters) and is
decoded by token passing (Sec. 4.2, Alg. 1) with a dictionary and a bigram word grammar. On the
offline IAM database it reached 74.1% word accuracy (online: 79.7%) against about 65% for an HMM.

What is reproduced here (IAM is licensed): the same pipeline on text lines rendered on the
machine (`rnnai.data.text_lines.TEXT_LINES`: 1-4 words from a 421-word lexicon drawn from a
word-bigram chain, 8 DejaVu fonts, slant, elastic distortion, blur and noise; features are the raw
pixel columns, 32 per column). A BLSTM-CTC is trained on character labels (letters and space),
and the test lines are decoded

* without a dictionary: best path (Graves et al. 2006, Eq. 9);
* with the dictionary only: token passing over `vocabulary(config)` with the space as separator;
* with the dictionary and a bigram word LM: token passing with a `WordBigramLM` fitted on
  `text_corpus` lines drawn with a seed no data split uses (the same "language", other lines).
  The LM weight is chosen on the validation set from `LM_WEIGHTS` (the paper also tuned its
  grammar scale factor on validation data).

Metrics: character error rate (CER, edit distance over characters / reference characters,
spaces included) and word error rate (WER, edit distance over words / reference words); word
accuracy = 1 - WER (the paper's measure, which also counts insertions).

Verdict rule (computed in `verdict` by the shared rule, `rnnai.runtime.verdict.judge`), each a
test over the test lines:

1. *dictionary decoding helps*: the 95% paired bootstrap interval of the mean per-line difference
   in word errors (dictionary + bigram LM minus best path, `rnnai.runtime.verdict.comparison`)
   lies below zero;
2. *the recognizer is good*: word accuracy with dictionary + bigram LM at or above the paper's
   74.1%, or the paper's value inside our 95% bootstrap interval of the word accuracy (lines
   resampled, `rnnai.ctc.error_rate_interval`), on our (easier, machine-printed) lines.

Our data are not the paper's (rendered lines, not IAM handwriting), so the verdict is at most
"partial" (with that reason) even when both hold; "not reproduced" when neither holds.

Deviations: rendered machine print with synthetic distortions instead of handwriting; raw pixel
columns instead of the paper's nine geometric features per column; 4 columns stacked per network
frame; 2 stacked BLSTM layers (the paper: one hidden layer of 100 cells per direction); Adam; no
peepholes; a 421-word closed vocabulary with every test word in the dictionary (the paper's IAM
dictionary held 20,000 words and some test words were out of vocabulary); a fixed epoch budget
keeping the best validation epoch. See `rnnai.train.ctc`.

Scales: smoke (tiny data and net, 2 epochs), quick (a few minutes on one core; measured 2.6
min), paper (6,000 lines, the paper's 100 cells, 40 epochs; hours on one core, not run by us).

Examples:
    >>> cfg = TextLinesExperiment().config("smoke")
    >>> cfg["net"]["stack"], cfg["lm_weights"]
    (4, [0.25, 0.5, 1.0, 2.0])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, replace
from typing import Any

import numpy as np

from rnnai.ctc import (
    WordBigramLM,
    best_path,
    encode,
    error_counts,
    error_rate_interval,
    label_error_rate,
    token_passing,
    word_error_rate,
    words,
)
from rnnai.experiments.base import Experiment, Outcome, PaperClaim, RunContext, register
from rnnai.runtime.verdict import Evidence, Judgement, comparison, judge, required_trials
from rnnai.train.ctc import CTCNetConfig, CTCTrainConfig, Posteriors, posteriors, train_ctc
from rnnai.train.ctc_plots import plot_alignment, plot_learning_curves

PAPER_WORD_ACCURACY = 0.741
"""Graves et al. 2009: offline (IAM) word accuracy with dictionary and bigram LM."""

LM_WEIGHTS: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0)
"""Bigram LM weights tried on the validation set."""

DECODERS: tuple[str, ...] = ("best_path", "dictionary", "dictionary_lm")

_SCALES: dict[str, dict[str, Any]] = {
    "smoke": {
        "data": {"n_train": 24, "n_valid": 6, "n_test": 6, "n_lm": 200, "max_words": 2},
        "net": CTCNetConfig(hidden=8, layers=2, stack=4),
        "train": CTCTrainConfig(epochs=2, batch=8, lr=3e-3),
    },
    "quick": {
        "data": {"n_train": 500, "n_valid": 40, "n_test": 120, "n_lm": 20_000, "max_words": 4},
        "net": CTCNetConfig(hidden=48, layers=2, stack=4),
        "train": CTCTrainConfig(epochs=10, batch=16, lr=3e-3),
    },
    "paper": {
        "data": {"n_train": 6000, "n_valid": 400, "n_test": 1000, "n_lm": 100_000, "max_words": 4},
        "net": CTCNetConfig(hidden=100, layers=2, stack=4),
        "train": CTCTrainConfig(epochs=40, batch=16, lr=1e-3),
    },
}


SETUP = (
    "rendered machine-print lines instead of IAM handwriting; raw pixel columns; Adam; 2 stacked "
    "BLSTM layers; a closed 421-word vocabulary"
)
"""What differs from the paper's setup (the verdict's reason when every test passes)."""


def verdict(references: Sequence[str], texts: dict[str, list[str]]) -> Judgement:
    """The rule of the module docstring, applied to the decoded test lines.

    Args:
        references: The test lines' transcripts.
        texts: Decoder name (`DECODERS`) -> one decoded line per test line.

    Returns:
        The judgement (the two tests, in the docstring's order).
    """
    ref_words = [words(r) for r in references]
    lm_err, n_words = error_counts(ref_words, [words(t) for t in texts["dictionary_lm"]])
    bp_err, _ = error_counts(ref_words, [words(t) for t in texts["best_path"]])
    wer_lo, wer_hi = error_rate_interval(lm_err, n_words)
    accuracy = 1.0 - float(lm_err.sum() / n_words.sum())
    lo, hi = 1.0 - wer_hi, 1.0 - wer_lo
    evidence = [
        comparison(
            lm_err,
            bp_err,
            lower_is_better=True,
            paired=True,
            claim="dictionary + bigram LM decoding makes fewer word errors than best path "
            "(per test line)",
        ),
        Evidence(
            claim=f"word accuracy with dictionary + bigram LM at or above the paper's "
            f"{100 * PAPER_WORD_ACCURACY:g}% (or the paper's value inside our interval)",
            passed=bool(lo > PAPER_WORD_ACCURACY or lo <= PAPER_WORD_ACCURACY <= hi),
            test="95% percentile bootstrap of the word accuracy (lines resampled)",
            n=len(references),
            ours=accuracy,
            paper=PAPER_WORD_ACCURACY,
            interval=(lo, hi),
        ),
    ]
    return judge(
        evidence,
        paper_setup=False,
        setup=SETUP,
        trials=1,
        required=required_trials(None, statistical=False),
    )


def _texts(hyps: list[list[int]], alphabet: tuple[str, ...]) -> list[str]:
    return ["".join(alphabet[k] for k in h) for h in hyps]


def decode_dictionary(
    post: Posteriors,
    dictionary: list[list[int]],
    separator: int,
    lm: WordBigramLM | None,
    lm_weight: float,
) -> list[list[int]]:
    """Token passing over the dictionary (with the bigram LM if given) for every line.

    Args:
        post: The network's outputs.
        dictionary: The words as label sequences.
        separator: The space label.
        lm: The word bigram LM, or None (dictionary only).
        lm_weight: The LM's weight.

    Returns:
        One labelling per line (words joined by the separator).
    """
    hyps = token_passing(
        post.log_probs, dictionary, post.lengths, lm=lm, lm_weight=lm_weight, separator=separator
    )
    assert isinstance(hyps, list), "a batch of posteriors decodes to a list"
    return [h.labels for h in hyps]


@register
class TextLinesExperiment(Experiment):
    """BLSTM-CTC reads rendered text lines; dictionary + bigram decoding by token passing."""

    name = "ctc.text_lines"
    system = "BLSTM-CTC + token passing (2009)"
    claim = PaperClaim(
        citation="Graves et al. 2009 (TPAMI), offline IAM",
        metric="word accuracy (%), dictionary + bigram LM",
        value=74.1,
        lower_is_better=False,
        note=(
            "Different data: rendered, distorted machine-print lines over a 421-word lexicon, "
            "not IAM handwriting; the verdict judges whether the dictionary helps and whether "
            "word accuracy reaches the paper's."
        ),
    )
    headline_metric = "test word accuracy (%), dictionary + bigram LM, rendered text lines"
    tour = True

    def config(self, scale: str) -> dict[str, Any]:
        """Data sizes (train, validation, test, LM text), network and learning setup."""
        s = _SCALES[scale]
        return {
            "data": {**s["data"], "seeds": {"train": 11, "valid": 12, "test": 13, "lm": 14}},
            "net": asdict(s["net"]),
            "train": asdict(s["train"]),
            "lm_weights": list(LM_WEIGHTS),
        }

    def run(self, ctx: RunContext) -> Outcome:
        """Train, decode the test lines three ways, judge, plot."""
        from rnnai.data import TEXT_LINES, Split, make_splits, text_corpus, vocabulary

        cfg = ctx.config
        d = cfg["data"]
        config = replace(TEXT_LINES, max_words=d["max_words"])
        data = make_splits(
            {
                split: Split(config=config, n=d[f"n_{split}"], seed=d["seeds"][split])
                for split in ("train", "valid", "test")
            },
            # smoke runs cache inside the run folder (CI leaves nothing behind)
            cache_dir=ctx.out_dir / "data-cache" if ctx.scale == "smoke" else None,
            hooks=ctx,
        )
        train, valid, test = data["train"], data["valid"], data["test"]
        alphabet = train.alphabet
        net_cfg = CTCNetConfig(**cfg["net"])
        train_cfg = CTCTrainConfig(**cfg["train"])
        model = train_ctc(
            train,
            valid,
            net_cfg,
            train_cfg,
            seed=ctx.seed,
            label="blstm",
            hooks=ctx,
            seed_keys=(ctx.name,),
        )

        vocab = vocabulary(config)
        index = {w: i for i, w in enumerate(vocab)}
        dictionary = [encode(w, alphabet) for w in vocab]
        space = alphabet.index(" ")
        corpus = text_corpus(config, d["n_lm"], d["seeds"]["lm"])
        lm = WordBigramLM(k=0.1).fit(
            [[index[w] for w in line.split()] for line in corpus], len(vocab)
        )

        # Choose the LM weight on the validation set.
        post_v = posteriors(model.net, valid, model.norm)
        valid_wer = {}
        with ctx.progress(len(cfg["lm_weights"]), "tuning the LM weight") as bar:
            for w in cfg["lm_weights"]:
                hyp = decode_dictionary(post_v, dictionary, space, lm, w)
                valid_wer[w] = word_error_rate(valid.texts, _texts(hyp, alphabet))
                bar.advance()
        lm_weight = min(cfg["lm_weights"], key=lambda w: (valid_wer[w], w))

        post = posteriors(model.net, test, model.norm)
        with ctx.progress(3, "decoding the test lines") as bar:
            bp = best_path(post.log_probs, post.lengths)
            assert isinstance(bp, list), "a batch of posteriors decodes to a list"
            hyps = {"best_path": [h.labels for h in bp]}
            bar.advance()
            hyps["dictionary"] = decode_dictionary(post, dictionary, space, None, 1.0)
            bar.advance()
            hyps["dictionary_lm"] = decode_dictionary(post, dictionary, space, lm, lm_weight)
            bar.advance()
        texts = {k: _texts(h, alphabet) for k, h in hyps.items()}
        cer = {k: label_error_rate(test.texts, t) for k, t in texts.items()}
        wer = {k: word_error_rate(test.texts, t) for k, t in texts.items()}
        judgement = verdict(test.texts, texts)
        metrics: dict[str, Any] = {
            "data": {
                "n_train": len(train),
                "n_valid": len(valid),
                "n_test": len(test),
                "n_lm_lines": len(corpus),
                "vocabulary": len(vocab),
                "mean_columns": float(np.mean(train.lengths)),
                "height": train.feature_dim,
            },
            "blstm": model.summary() | {"test_loss": post.loss},
            "test_cer": cer,
            "test_wer": wer,
            "test_word_accuracy": {k: 1.0 - x for k, x in wer.items()},
            "valid_wer_by_lm_weight": {str(k): x for k, x in valid_wer.items()},
            "lm_weight": lm_weight,
        }
        headline = round(100 * (1.0 - wer["dictionary_lm"]), 2)

        plots = [
            plot_learning_curves(
                [model],
                ctx.out_dir / "learning_curve.png",
                "Rendered text lines: BLSTM-CTC",
                paper=None,
            )
        ]
        i = int(np.argmax([len(z) if len(z) <= 30 else 0 for z in test.labels]))
        plots.append(
            plot_alignment(
                test.features[i],
                post.utterance(i),
                alphabet,
                ctx.out_dir / "alignment.png",
                "BLSTM-CTC character spikes over a test line",
                reference=test.texts[i],
                decoded=texts["dictionary_lm"][i],
                stack=net_cfg.stack,
                image=True,
                spans=test.word_spans[i] if test.word_spans else None,
            )
        )

        def pct(x: float) -> str:
            return f"{100 * x:.2f}%"

        notes = (
            f"BLSTM-CTC ({model.net.describe}, {model.net.n_params:,} weights) on "
            f"{len(train)} rendered lines; test set {len(test)} lines. CER / WER: best path "
            f"{pct(cer['best_path'])} / {pct(wer['best_path'])}; dictionary "
            f"{pct(cer['dictionary'])} / {pct(wer['dictionary'])}; dictionary + bigram LM "
            f"(weight {lm_weight}, fitted on {len(corpus):,} other lines) "
            f"{pct(cer['dictionary_lm'])} / {pct(wer['dictionary_lm'])}. Word accuracy with "
            f"dictionary + LM {pct(1 - wer['dictionary_lm'])} vs the paper's 74.1% on IAM "
            "handwriting (other, harder data). Deviations: machine print with synthetic "
            "distortions instead of handwriting, raw pixel columns instead of geometric "
            "features, 4 columns per frame, 2 stacked BLSTM layers, Adam, no peepholes, "
            "closed 421-word vocabulary (no out-of-vocabulary test words), fixed epoch "
            f"budget. Setup: {train_cfg.describe}."
        )
        return Outcome(
            headline=headline, metrics=metrics, verdict=judgement, plots=plots, notes=notes
        )
