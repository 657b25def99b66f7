"""`lstm.continual_reber`: continual embedded Reber grammar, Gers, Schmidhuber & Cummins 2000.

Paper: F. A. Gers, J. Schmidhuber & F. Cummins, "Learning to Forget: Continual Prediction with
LSTM", Neural Computation 12(10):2451-2471, 2000. Task (`rnnai.tasks.reber`,
`ContinualEmbeddedReber`): embedded Reber strings concatenated into one stream that is never
reset (``... T E B P ... P E B T ...``); at every step the net predicts the legal next symbols
(7 sigmoid outputs; a step is right when every output is on the correct side of 0.5). Nothing
marks where the net could reset its state, so a 1997 LSTM's cell states (constant error
carousel with weight 1) keep growing; the forget gate lets a cell learn to reset itself. The
paper's success criterion is 10^6 symbols in a row predicted right; over 100 networks, LSTM with
forget gates was perfect in 18% (62% with learning-rate decay), LSTM without forget gates in 0%
(PAPERS.md: these numbers are unverified).

What runs here: two nets trained on the same kind of stream, identical except for the forget gate:

* forget-gate LSTM: `gers2000` variant (input, forget and output gates, no peepholes, tanh
  squashing), forget-gate biases +1 (gates start open);
* LSTM without forget gates: the same net with f = 1 (Greff's NFG without peepholes): the
  1997 cell on the same squashing and gradient, so that the forget gate is the only difference.

Both have 8 memory cells (the paper: 4 blocks of 2 cells), weights uniform in [-0.2, 0.2] and
output-gate biases -0.5, -0.5, -1, -1, -1.5, -1.5, -2, -2 (negative per block, as in the
papers; exact values unverified).

Training (`train_on_stream`): `streams` independent never-reset streams are read in chunks of
`chunk` symbols; the LSTM state is carried from chunk to chunk (detached), the squared error of
every symbol of the chunk is summed and the weights are updated after each chunk (truncated BPTT
over the chunk). Training stops when every stream's last `stop_run` symbols were all predicted
right, or at the budget of `max_symbols` symbols per stream. Test: a fresh stream, never reset,
read in chunks with the state carried; the run length is the number of symbols predicted right
in a row, from the first string that starts after a warm-up of 100 symbols from the zero state,
to the first error, capped at `target_run`; a network is perfect when it reaches
`target_run`.

Deviations from the paper:
* The paper learns online on one stream with a truncated (1997-style) real-time gradient and a
  weight update at every step; we update after each chunk with BPTT within the chunk, the state
  detached between chunks. Quick scale learns with Adam on 16 parallel streams (a modern setup,
  labelled); paper scale uses plain SGD on a single stream, chunks of 10 symbols (our choice).
* Both nets use the full gradient within a chunk and tanh squashing (not the 1997 truncated
  gradient and g/h squashing); no learning-rate decay (the paper's 62% arm).
* The paper's training length and reset rules during training are not known to us; our stop rule
  (`stop_run`) and budgets are our choices. Cells have their own gates (no 2-cell blocks).
* The test skips the stream's first 100 symbols (a warm-up from the zero state): our nets never
  see a reset during training, so the zero state is foreign to them.

Scales:
* smoke: 1 net per variant, a few thousand symbols, target run 1,000 (machinery only).
* quick: 2 nets per variant, Adam lr 0.01 on 16 streams, chunks of 50, at most 100,000 symbols
  per stream, target run 10^5 (a shortened test: the verdict is then at most partial).
* paper: 100 nets per variant, SGD lr 0.5 on one stream, chunks of 10, at most 3 x 10^6
  symbols, target run 10^6.

Verdict: reproduced when the target is the paper's 10^6, the fraction of forget-gate nets that
reach it is at least the paper's 18% and no net without forget gates reaches it (paper: 0%);
partial when the forget-gate fraction is above the no-forget fraction but the target is shorter
than 10^6 or one of the two numbers misses the paper's; not_reproduced otherwise (no gap, or no
forget-gate net reaches the target).

Internal view: the cell states of each variant's best net (longest test run) over a fresh
stream (without forget gates they drift without bound; with them they can reset at string
boundaries: the paper's key figure), and a close-up of the forget-gate net's cells and forget
gates at string boundaries.
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rnnai.experiments._lstm_common import NetConfig, SequenceNet
from rnnai.experiments.base import Experiment, Outcome, PaperClaim, RunContext, register
from rnnai.nn.lstm import VARIANTS, LSTMVariant
from rnnai.runtime.checkpoint import pack_state, unpack_state
from rnnai.tasks.reber import SYMBOLS, ContinualEmbeddedReber, reber_step_correct

PAPER_TARGET = 1_000_000
"""The paper's success criterion: symbols in a row predicted right."""
PAPER_FRACTION = 0.18
"""Forget-gate LSTM, fraction of 100 networks perfect (62% with learning-rate decay)."""

VARIANT_OF: dict[str, LSTMVariant] = {
    "forget": VARIANTS["gers2000"],
    "no_forget": dataclasses.replace(VARIANTS["gers2000"], forget_gate=False),
}
"""The two nets: with forget gates (gers2000) and the same net with f = 1."""

_GATE_BIAS = (-0.5, -0.5, -1.0, -1.0, -1.5, -1.5, -2.0, -2.0)


def net_config(kind: str) -> NetConfig:
    """The network of `kind` ("forget" or "no_forget"); identical except for the forget gate."""
    return NetConfig(
        variant=VARIANT_OF[kind],
        hidden=8,
        init_range=0.2,
        output_gate_bias=_GATE_BIAS,
        forget_gate_bias=1.0 if kind == "forget" else None,
    )


# ----------------------------------------------------------------------------- configuration
@dataclass(frozen=True)
class StreamTrainConfig:
    """How the nets learn on the never-reset stream and how they are tested."""

    optimizer: str = "adam"
    """"sgd" (the paper's gradient descent) or "adam" (a modern optimizer, labelled as such)."""
    lr: float = 0.01
    """Learning rate."""
    streams: int = 16
    """Independent streams read in parallel (the batch); 1 = the paper's single stream."""
    chunk: int = 50
    """Symbols per weight update (truncated BPTT length); the state carries across chunks."""
    max_symbols: int = 100_000
    """Training budget: symbols per stream."""
    stop_run: int = 5_000
    """Stop training once every stream's last `stop_run` symbols were all predicted right."""
    check_every: int = 1_000
    """Record the learning curve and checkpoint every this many symbols per stream."""
    target_run: int = 100_000
    """Test: a net is perfect when it predicts this many symbols in a row right."""
    test_chunk: int = 2_000
    """Test stream symbols per forward pass."""

    def __post_init__(self) -> None:
        if self.optimizer not in ("sgd", "adam"):
            raise ValueError(f"optimizer must be 'sgd' or 'adam', got {self.optimizer!r}")
        if self.check_every % self.chunk:
            raise ValueError("check_every must be a multiple of chunk")

    @property
    def setup(self) -> str:
        """A label saying which learning setup this is."""
        kind = "paper-like" if self.optimizer == "sgd" and self.streams == 1 else "modern"
        return (
            f"{kind} setup: {self.optimizer} lr {self.lr}, {self.streams} stream(s), "
            f"update every {self.chunk} symbols (truncated BPTT, state carried)"
        )


@dataclass
class StreamTrial:
    """One trained and tested network."""

    kind: str
    trial: int
    symbols: int
    """Training symbols per stream used."""
    stopped: bool
    """Whether the training stop rule (`stop_run`) fired before the budget."""
    run_length: int
    """Test symbols predicted right from the start before the first error (capped)."""
    perfect: bool
    """run_length reached the target."""
    curve: list[list[float]] = field(default_factory=list)
    """Rows [symbols per stream, mean loss per symbol, fraction of training symbols wrong]."""


# ----------------------------------------------------------------------------- core
def run_chunk(
    net: SequenceNet, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None
) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    """One chunk (B, K, 7) from the carried state: sigmoid outputs (B, K, 7) and the new state."""
    y, state = net.lstm(x, state)
    return torch.sigmoid(net.head(y)), state


def run_length_from_start(ok: np.ndarray) -> int:
    """Symbols right from the start before the first wrong one ((n,) bool per-step verdicts)."""
    wrong = np.flatnonzero(~ok)
    return int(wrong[0]) if wrong.size else int(ok.size)


@torch.no_grad()
def measure_run_length(
    net: SequenceNet, rng: np.random.Generator, target: int, chunk: int = 2_000, warmup: int = 100
) -> int:
    """Run the net on a fresh never-reset stream; symbols right in a row (at most `target`).

    The net starts from the zero state, which our never-reset training shows it only at its very
    start, so the first `warmup` symbols are a warm-up: the run is counted from the first string
    that starts after them (its B) to the first error. The stream is read chunk by chunk with
    the state carried, and the test stops at the first error.
    """
    stream = ContinualEmbeddedReber().stream(rng, 1)
    state, run, first = None, 0, True
    while run < target:
        batch = stream.next(max(chunk, warmup + 1_000) if first else min(chunk, target - run))
        out, state = run_chunk(net, torch.from_numpy(batch.x), state)
        ok = reber_step_correct(out.numpy(), batch.y)[0]  # (n,)
        if first:  # drop the warm-up: up to the first B at or after `warmup`
            b_at = np.flatnonzero(batch.info["symbols"][0][warmup:] == SYMBOLS.index("B"))
            start = warmup + int(b_at[0])
            ok, first = ok[start:][:target], False
        k = run_length_from_start(ok)
        run += k
        if k < ok.size:
            break
    return run


def _make_optimizer(net: torch.nn.Module, cfg: StreamTrainConfig) -> torch.optim.Optimizer:
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(net.parameters(), lr=cfg.lr)
    return torch.optim.Adam(net.parameters(), lr=cfg.lr)


def _skip(stream: Any, n: int, piece: int = 100_000) -> None:
    """Advance a stream by n symbols per row (the stream does not depend on the chunking)."""
    while n > 0:
        stream.next(min(piece, n))
        n -= min(piece, n)


def train_on_stream(
    ctx: RunContext,
    kind: str,
    trial: int,
    cfg: StreamTrainConfig,
    state: dict | None = None,
    carry: tuple[dict[str, torch.Tensor], dict[str, Any]] = ({}, {}),
) -> tuple[SequenceNet, int, bool, list[list[float]]]:
    """Train one net of `kind` on never-reset streams (see the module docstring).

    Checkpoints at every `check_every` symbols (net, optimizer, carried LSTM state, counters;
    the stream is replayed from its seed on resume), so a resumed run is identical.

    Args:
        state: the checkpoint state of this very net if resuming it, else None.
        carry: tensors and state of the whole run (finished nets) saved along in every checkpoint.

    Returns:
        (trained net, symbols per stream used, whether the stop rule fired, learning curve).
    """
    key = ("train", kind, trial)
    net = SequenceNet(7, 7, net_config(kind), ctx.torch_generator(*key))
    opt = _make_optimizer(net, cfg)
    stream = ContinualEmbeddedReber().stream(ctx.rng(*key), cfg.streams)
    seen, curve = 0, []
    run = np.zeros(cfg.streams, dtype=np.int64)  # current run of right predictions per stream
    hc: tuple[torch.Tensor, torch.Tensor] | None = None
    if state is not None:
        tensors, saved = state["tensors"], state["state"]
        nets = unpack_state(saved["nets"], tensors)
        net.load_state_dict(nets["net"])
        opt.load_state_dict(nets["opt"])
        hc = (nets["h"], nets["c"])
        seen, curve, run = saved["seen"], saved["curve"], np.asarray(saved["run"], dtype=np.int64)
        _skip(stream, seen)
    loss_acc, wrong_acc, n_acc = 0.0, 0, 0
    stopped = False
    while seen < cfg.max_symbols and not stopped:
        batch = stream.next(cfg.chunk)
        out, hc = run_chunk(net, torch.from_numpy(batch.x), hc)
        y = torch.from_numpy(batch.y)
        loss = 0.5 * ((out - y) ** 2).sum() / cfg.streams  # squared error, summed over the chunk
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        hc = (hc[0].detach(), hc[1].detach())  # truncate BPTT at the chunk boundary
        seen += cfg.chunk
        ok = reber_step_correct(out.detach().numpy(), batch.y)  # (B, K)
        for b in range(cfg.streams):  # the run of right predictions continues across chunks
            wrong = np.flatnonzero(~ok[b])
            run[b] = run[b] + cfg.chunk if wrong.size == 0 else cfg.chunk - 1 - wrong[-1]
        loss_acc += float(loss.detach()) * cfg.streams
        wrong_acc += int((~ok).sum())
        n_acc += ok.size
        stopped = bool(run.min() >= cfg.stop_run)
        if seen % cfg.check_every == 0 or stopped or seen >= cfg.max_symbols:
            curve.append([seen, loss_acc / n_acc, wrong_acc / n_acc])
            loss_acc, wrong_acc, n_acc = 0.0, 0, 0
            if not stopped and seen < cfg.max_symbols:
                packed, skel = pack_state(
                    {"net": net.state_dict(), "opt": opt.state_dict(), "h": hc[0], "c": hc[1]}
                )
                ctx.checkpointer.save(
                    packed | carry[0],
                    carry[1]
                    | {
                        "current": [kind, trial],
                        "seen": seen,
                        "curve": curve,
                        "run": run.tolist(),
                        "nets": skel,
                    },
                )
    return net, seen, stopped, curve


# ----------------------------------------------------------------------------- verdict
def continual_verdict(
    frac_forget: float, frac_no_forget: float, target: int
) -> tuple[str, dict[str, Any]]:
    """The verdict rule of the module docstring, from the two fractions of perfect nets."""
    gap = frac_forget > frac_no_forget
    full = target >= PAPER_TARGET and frac_forget + 1e-9 >= PAPER_FRACTION and frac_no_forget == 0.0
    verdict = "reproduced" if gap and full else "partial" if gap else "not_reproduced"
    return verdict, {"gap": gap, "paper_target": target >= PAPER_TARGET}


# ----------------------------------------------------------------------------- plots
def plot_curves(trials: list[StreamTrial], path: Path) -> str:
    """Fraction of training symbols predicted wrong against training symbols, per net."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 3.6))
    ax = fig.subplots()
    colors = {"forget": "C0", "no_forget": "C3"}
    names = {"forget": "forget gates", "no_forget": "no forget gates"}
    shown: set[str] = set()
    for t in trials:
        if not t.curve:
            continue
        c = np.asarray(t.curve)
        ax.plot(
            c[:, 0],
            np.maximum(c[:, 2], 1e-5),
            color=colors[t.kind],
            alpha=0.8,
            label=None if t.kind in shown else names[t.kind],
        )
        shown.add(t.kind)
    ax.set_yscale("log")
    ax.set_xlabel("training symbols per stream")
    ax.set_ylabel("fraction of training symbols wrong")
    ax.set_title("Continual embedded Reber: training on never-reset streams", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    return path.name


def plot_cell_states(
    nets: dict[str, SequenceNet], rng: np.random.Generator, path: Path, length: int = 3_000
) -> str:
    """Both nets on one fresh stream: cell states over `length` symbols, and a close-up of the
    forget-gate net's cells and forget gates around string boundaries (the paper's key figure)."""
    from matplotlib.figure import Figure

    batch = ContinualEmbeddedReber().stream(rng, 1).next(length)
    x = torch.from_numpy(batch.x)
    sym = batch.info["symbols"][0]
    fig = Figure(figsize=(9, 10))
    axes = fig.subplots(4 if "forget" in nets else 2, 1)
    titles = {"no_forget": "without forget gates", "forget": "with forget gates"}
    for ax, kind in zip(axes, ("no_forget", "forget"), strict=False):
        if kind not in nets:
            continue
        c = nets[kind].lstm.trace(x)["c"][:, 0].numpy()  # (L, H)
        ax.plot(c, lw=0.7)
        ax.set_ylabel("cell states c")
        ax.set_title(
            f"LSTM {titles[kind]}: cell states over {length:,} symbols of one stream "
            f"(max |c| = {np.abs(c).max():.1f})",
            fontsize=9,
        )
    if "forget" in nets:
        tr = nets["forget"].lstm.trace(x)
        w = slice(length - 60, length)
        t = np.arange(length)[w]
        for ax, key, name in ((axes[2], "c", "cell states c"), (axes[3], "f", "forget gates f")):
            v = tr[key][w, 0].numpy()  # (60, H)
            for k in range(v.shape[1]):
                ax.plot(t, v[:, k], color=f"C{k}", lw=1)
            for tt in t[sym[w] == SYMBOLS.index("B")]:
                ax.axvline(tt, color="k", lw=0.8, alpha=0.5)
            ax.set_xticks(t, [SYMBOLS[s] for s in sym[w]], fontsize=6)
            ax.set_ylabel(name)
        axes[3].set_ylim(-0.05, 1.05)
        axes[2].set_title(
            "Close-up, forget-gate net, last 60 symbols: lines mark each string's B "
            "(input symbols on the axis)",
            fontsize=9,
        )
    axes[1].set_xlabel("time step")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    return path.name


# ----------------------------------------------------------------------------- experiment
@register
class ContinualReberExperiment(Experiment):
    """Continual embedded Reber (Gers et al. 2000): forget gates or none, never-reset stream."""

    name = "lstm.continual_reber"
    system = "LSTM with forget gates (2000)"
    claim = PaperClaim(
        citation="Gers, Schmidhuber & Cummins 2000, continual embedded Reber grammar",
        metric="fraction of forget-gate LSTM nets predicting 10^6 symbols in a row right",
        value=PAPER_FRACTION,
        lower_is_better=False,
        note="unverified: 18% of 100 nets (62% with learning-rate decay); LSTM without forget "
        "gates 0%",
    )
    headline_metric = "fraction of forget-gate nets reaching the target run length"
    tour = True  # quick: about 2 min on a quiet machine (4 nets); shows the forget-gate figure

    def config(self, scale: str) -> dict[str, Any]:
        """Per-scale config: nets per variant and the stream learning setup."""
        if scale == "smoke":
            trials, train = 1, StreamTrainConfig("adam", 0.01, 8, 25, 1_500, 500, 500, 1_000)
        elif scale == "quick":
            trials, train = 2, StreamTrainConfig("adam", 0.01, 16, 50, 100_000, 5_000, 1_000)
        else:
            trials = 100
            train = StreamTrainConfig(
                "sgd", 0.5, 1, 10, 3_000_000, 100_000, 10_000, PAPER_TARGET, 10_000
            )
        return {"trials": trials, "train": asdict(train), "kinds": ["forget", "no_forget"]}

    def run(self, ctx: RunContext) -> Outcome:
        """Train and test `trials` nets per variant, judge the fractions, plot cell states."""
        cfg = StreamTrainConfig(**ctx.config["train"])
        kinds, n = ctx.config["kinds"], ctx.config["trials"]
        done: list[dict[str, Any]] = []
        loaded = ctx.checkpointer.load()
        resume_state = None
        if loaded is not None:
            tensors, saved = loaded
            done = saved["done"]
            if saved.get("current") is not None:
                resume_state = {"tensors": tensors, "state": saved, "current": saved["current"]}
        last_nets: dict[str, SequenceNet] = {}  # each variant's best net so far, for the view
        if loaded is not None and "last" in loaded[1]:  # nets trained before a resume
            for k, sd in unpack_state(loaded[1]["last"], loaded[0])["last"].items():
                last_nets[k] = SequenceNet(7, 7, net_config(k), torch.Generator())
                last_nets[k].load_state_dict(sd)
        jobs = [(kind, trial) for trial in range(n) for kind in kinds]
        with ctx.progress(len(jobs), f"{n} nets per variant ({cfg.setup})") as bar:
            bar.advance(len(done))
            for kind, trial in jobs[len(done) :]:
                st = None
                if resume_state is not None and resume_state["current"] == [kind, trial]:
                    st = resume_state
                packed, skel = pack_state(
                    {"last": {k: v.state_dict() for k, v in last_nets.items()}}
                )
                carry = (packed, {"done": done, "last": skel})
                net, seen, stopped, curve = train_on_stream(ctx, kind, trial, cfg, st, carry)
                run = measure_run_length(
                    net, ctx.rng("test", kind, trial), cfg.target_run, cfg.test_chunk
                )
                r = StreamTrial(kind, trial, seen, stopped, run, run >= cfg.target_run, curve)
                best = max((d["run_length"] for d in done if d["kind"] == kind), default=-1)
                done.append(asdict(r))
                if run > best or kind not in last_nets:  # keep the longest-running net
                    last_nets[kind] = net
                packed, skel = pack_state(
                    {"last": {k: v.state_dict() for k, v in last_nets.items()}}
                )
                ctx.checkpointer.save(packed, {"done": done, "current": None, "last": skel})
                ctx.log(
                    f"{kind} net {trial}: trained {seen:,} symbols/stream "
                    f"({'stop rule' if stopped else 'budget'}), test run {run:,} "
                    f"({'perfect' if r.perfect else 'not perfect'})"
                )
                bar.advance()
        trials = [StreamTrial(**d) for d in done]
        metrics: dict[str, Any] = {"setup": cfg.setup, "target_run": cfg.target_run}
        for kind in kinds:
            mine = [t for t in trials if t.kind == kind]
            metrics[kind] = {
                "nets": len(mine),
                "perfect": sum(t.perfect for t in mine),
                "fraction_perfect": sum(t.perfect for t in mine) / len(mine),
                "mean_run_length": float(np.mean([t.run_length for t in mine])),
                "run_lengths": [t.run_length for t in mine],
                "training_symbols": [t.symbols for t in mine],
                "stop_rule_fired": sum(t.stopped for t in mine),
            }
        f_forget = metrics["forget"]["fraction_perfect"]
        f_none = metrics["no_forget"]["fraction_perfect"]
        verdict, extra = continual_verdict(f_forget, f_none, cfg.target_run)
        metrics |= extra
        plots = [plot_curves(trials, ctx.out_dir / "learning_curve.png")]
        if last_nets:
            plots.append(
                plot_cell_states(last_nets, ctx.rng("view"), ctx.out_dir / "cell_states.png")
            )
        short = "" if cfg.target_run >= PAPER_TARGET else " (shortened test: at most partial)"
        notes = (
            f"{cfg.setup}. Target run {cfg.target_run:,} symbols{short}. Forget gates: "
            f"{metrics['forget']['perfect']}/{n} perfect, mean run "
            f"{metrics['forget']['mean_run_length']:,.0f}; no forget gates: "
            f"{metrics['no_forget']['perfect']}/{n} perfect, mean run "
            f"{metrics['no_forget']['mean_run_length']:,.0f} (paper, unverified: 18% vs 0% "
            f"at 10^6)."
        )
        return Outcome(
            headline=f_forget, metrics=metrics, verdict=verdict, plots=plots, notes=notes
        )
