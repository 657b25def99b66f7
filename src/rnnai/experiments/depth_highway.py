"""depth.highway: plain vs highway networks as depth grows (training loss curves, gate analysis).

Papers: R. K. Srivastava, K. Greff & J. Schmidhuber, "Highway Networks", arXiv:1505.00387 (2015),
and "Training Very Deep Networks", NIPS 2015 (arXiv:1507.06228), Fig. 1 (optimization of plain and
highway nets of 10, 20, 50 and 100 layers) and the gate-analysis figure.

What the papers did: thin fully connected nets on MNIST, 50 highway blocks per layer against 71
plain units per layer so that both have about the same parameters (2 (50^2 + 50) = 5,100 against
71^2 + 71 = 5,112 per layer), trained with SGD with momentum; per configuration the best of a
random search over the learning rate (and further optimizer settings) and, for highway nets, the
initial transform-gate bias (negative, -1 to -10 on MNIST). Claim: the training loss of plain nets
gets worse as depth grows (they stop optimizing), highway nets do not, and at 100 layers the
highway net's training loss is orders of magnitude (>100x) lower than the plain net's. The gate
analysis shows the mean transform-gate activity per layer and the fraction of examples for which a
block transforms (T > 0.5).

What runs here (`rnnai.nn.highway.HighwayNet`): an input projection to the width, ``depth``
highway (width 50) or plain (width 71) ReLU layers, a linear softmax output; minibatch SGD with
momentum 0.9 and cross-entropy. Per (depth, kind) a small grid search over the learning rate
(and, for highway nets, the gate bias) on a short budget: each grid point trains ``search_seeds``
nets and is scored by its worst loss on the validation part (a diverged net scores inf,
`search_score`); the validation part is used for nothing else. The chosen setting then trains
``seeds`` fresh nets for the full budget, and the training loss over the whole training part is
recorded after every epoch (a diverged run counts as the chance loss ln 10, `safe_loss`). The gate
analysis is made on the training images for the deepest highway net of the first seed.

Deviations (so the verdict is at most "partial"): scikit-learn's 1,797 8x8 digits instead of
MNIST (split by image content into training / validation / test parts that share no image; the
test part is only reported); far fewer epochs; a grid of a few learning rates and gate biases at
momentum 0.9 instead of the papers' random search over more settings; ReLU only; the weight
initialization of `rnnai.nn.highway` (He / LeCun normal).

Scales: ``smoke`` depths 2 and 4, one seed, two epochs (seconds); ``quick`` depths 10, 20, 50,
100, three seeds, 15 epochs after a 4-epoch search over learning rates 0.01, 0.03, 0.1 and gate
biases -2, -5 with two search seeds (about 8 minutes on 2 cores; at 100 layers a bias of -3 left
the net at chance in development runs, -5 trained); ``paper`` the same depths, ten seeds, 200
epochs and a larger grid (still digits, so still not the paper's setup).

1,000-layer pilot ("Training Very Deep Networks", Sec. 3.1: plain SGD did not stall on highway
nets of more than 1,000 layers): after the sweep, ``pilot["seeds"]`` highway nets of
``pilot["depth"]`` layers (width 50, ReLU) train with SGD + momentum 0.9 at the fixed
``pilot["lr"]`` and gate bias ``pilot["gate_bias"]`` (no search: one pilot is the budget), on
their own random streams, so the sweep's numbers are those of a run without the pilot. The whole
training loss is recorded after every epoch (`pilot_summary`: first, last, their ratio, and
whether it fell below half its initial value) and plotted (``pilot_loss.png``); the run
checkpoints after every epoch (net and momentum buffers) and resumes exactly. The gate bias -10
(the end of the papers' MNIST range) was chosen from three development runs of 3 epochs at 1,000
layers: with -5 (lr 0.1 or 0.03) the loss stayed at chance (2.302), with -10 it fell from 2.37 to
0.18. Scales: ``smoke`` 10 layers, two epochs; ``quick`` 1,000 layers, one seed, 6 epochs (a
few minutes on one core); ``paper`` 1,000 layers, three seeds, 100 epochs. The pilot is reported
beside the sweep and does not enter the verdict (the papers state it without a measured number to
compare).

Verdict (`rnnai.runtime.verdict.judge`, ``paper_setup=False``):

* `comparison` (paired over seeds): log10 of the final training loss of the highway net is lower
  than the plain net's at the deepest depth (the 95% bootstrap interval of the mean difference
  lies below 0);
* `check` over the depths: the plain net's mean final training loss at the deepest depth is more
  than `GROWTH` times that at the shallowest, and the highway net's is not (n = number of depths).

Examples:
    >>> layer_params(50, highway=True), layer_params(71, highway=False)
    (5100, 5112)
    >>> e = depth_check([10, 100], plain=[0.01, 1.5], highway=[0.002, 0.003])
    >>> e.passed, e.n
    (True, 2)
    >>> pilot_summary([2.3, 0.8, 0.2])["falls"]
    True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from rnnai.data.images import LabelledImages, load_digits_images, split_images
from rnnai.experiments.base import Experiment, Outcome, PaperClaim, RunContext, register
from rnnai.nn.highway import HighwayNet, HighwayNetConfig
from rnnai.runtime.checkpoint import pack_state, unpack_state
from rnnai.runtime.errors import RnnaiError
from rnnai.runtime.verdict import Evidence, Judgement, check, comparison, judge
from rnnai.train.loop import make_optimizer

__all__ = [
    "GROWTH",
    "HIGHWAY_WIDTH",
    "PLAIN_WIDTH",
    "HighwayDepthExperiment",
    "depth_check",
    "digit_splits",
    "highway_judgement",
    "layer_params",
    "pilot_summary",
    "safe_loss",
    "search_score",
]

HIGHWAY_WIDTH = 50
"""Blocks per highway layer in the papers' depth comparison."""
PLAIN_WIDTH = 71
"""Units per plain layer in the papers' depth comparison (about the highway layer's parameters)."""
GROWTH = 2.0
"""Deepest / shallowest ratio of mean final training loss above which a net "stops optimizing"."""
MOMENTUM = 0.9
"""SGD momentum of every run (the papers searched it; fixed here)."""
CHANCE_LOSS = math.log(10.0)
"""Cross-entropy of a uniform guess over 10 classes: the loss recorded for a diverged run."""


def layer_params(width: int, *, highway: bool) -> int:
    """Parameters of one hidden layer: W_H, b_H (and W_T, b_T for a highway layer).

    Examples:
        >>> layer_params(10, highway=False)
        110
    """
    if width < 1:
        raise RnnaiError(f"width must be >= 1, got {width}")
    per = width * width + width
    return 2 * per if highway else per


def digit_splits(seed: int = 0) -> dict[str, LabelledImages]:
    """The 8x8 digits split 70 / 10 / 20 into training, validation and test parts by content.

    No image occurs in two parts (identical images are kept in one part).
    """
    return split_images(load_digits_images(), valid=0.1, test=0.2, seed=seed)


def safe_loss(value: float) -> float:
    """A loss for the statistics: non-finite (diverged) losses count as chance, `CHANCE_LOSS`.

    Examples:
        >>> safe_loss(float("nan")) == CHANCE_LOSS, safe_loss(0.5)
        (True, 0.5)
    """
    return float(value) if math.isfinite(value) else CHANCE_LOSS


def search_score(valid_losses: Sequence[float]) -> float:
    """A grid point's score: its worst validation loss over the search seeds (diverged: inf).

    Examples:
        >>> search_score([0.2, 0.3]), search_score([0.2, float("nan")])
        (0.3, inf)
    """
    if not valid_losses:
        raise RnnaiError("search_score needs at least one validation loss, got none")
    return max(v if math.isfinite(v) else math.inf for v in valid_losses)


def pilot_summary(curve: Sequence[float]) -> dict[str, Any]:
    """What the pilot reports from its training-loss curve (one value per epoch, first = init).

    Args:
        curve: Training loss on the whole training part, before training and after each epoch.

    Returns:
        ``initial``, ``final`` (diverged: `CHANCE_LOSS`), ``ratio`` = final / initial and
        ``falls``: whether the final loss is below half the initial one.

    Examples:
        >>> pilot_summary([2.0, 2.0])["falls"], pilot_summary([2.0, float("nan")])["final"] > 2
        (False, True)
    """
    if len(curve) < 2:
        raise RnnaiError(f"pilot_summary needs the initial loss and >= 1 epoch, got {list(curve)}")
    first, last = safe_loss(curve[0]), safe_loss(curve[-1])
    ratio = last / max(first, 1e-12)
    return {"initial": first, "final": last, "ratio": ratio, "falls": bool(ratio < 0.5)}


def depth_check(
    depths: Sequence[int], *, plain: Sequence[float], highway: Sequence[float]
) -> Evidence:
    """The `check` that plain nets stop optimizing with depth and highway nets do not.

    Args:
        depths: The depths, ascending.
        plain: Mean final training loss of the plain nets per depth.
        highway: The same for the highway nets.

    Returns:
        Passed when the plain deepest / shallowest loss ratio exceeds `GROWTH` and the highway
        ratio does not; ``ours`` is the plain ratio divided by the highway ratio.
    """
    if len(depths) < 2 or len(plain) != len(depths) or len(highway) != len(depths):
        raise RnnaiError(
            f"depth_check needs >= 2 depths and one loss per depth, got {len(depths)} depths, "
            f"{len(plain)} plain and {len(highway)} highway losses"
        )
    p, h = [safe_loss(v) for v in plain], [safe_loss(v) for v in highway]
    rp, rh = p[-1] / max(p[0], 1e-12), h[-1] / max(h[0], 1e-12)
    return check(
        f"plain nets' final training loss grows with depth (x{rp:.3g} from {depths[0]} to "
        f"{depths[-1]} layers), highway nets' does not (x{rh:.3g})",
        rp > GROWTH and rh <= GROWTH,
        n=len(depths),
        test=f"deepest / shallowest ratio of mean final training loss, threshold {GROWTH:g}",
        ours=rp / rh,
    )


def highway_judgement(
    depths: Sequence[int],
    plain: dict[int, list[float]],
    highway: dict[int, list[float]],
    *,
    setup: str,
) -> Judgement:
    """The verdict of the module docstring from the final training losses per depth and seed.

    Args:
        depths: The depths, ascending.
        plain: Final training loss per seed of the plain nets, per depth.
        highway: The same for the highway nets (seeds paired with the plain ones).
        setup: The setup in words.

    Returns:
        The judgement (``paper_setup=False``: at most "partial").
    """
    deep = depths[-1]
    hw = [math.log10(max(safe_loss(v), 1e-12)) for v in highway[deep]]
    pl = [math.log10(max(safe_loss(v), 1e-12)) for v in plain[deep]]
    evidence = [
        comparison(
            hw, pl, lower_is_better=True, paired=True,
            claim=f"the {deep}-layer highway net reaches a lower training loss than the plain "
            "net (log10 loss, paired over seeds)",
        ),
        depth_check(
            depths,
            plain=[float(np.mean([safe_loss(v) for v in plain[d]])) for d in depths],
            highway=[float(np.mean([safe_loss(v) for v in highway[d]])) for d in depths],
        ),
    ]  # fmt: skip
    return judge(evidence, paper_setup=False, setup=setup, trials=len(hw), required=len(hw))


# ----------------------------------------------------------------------------- training
def _tensors(images: LabelledImages) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.from_numpy(images.images.reshape(len(images), -1).astype(np.float32))
    return x, torch.from_numpy(images.labels)


def _loss(net: HighwayNet, x: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        return float(F.cross_entropy(net(x), y))


def _accuracy(net: HighwayNet, x: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        return float((net(x).argmax(dim=1) == y).double().mean())


def _net_config(depth: int, kind: str, gate_bias: float) -> HighwayNetConfig:
    hw = kind == "highway"
    return HighwayNetConfig(
        width=HIGHWAY_WIDTH if hw else PLAIN_WIDTH, depth=depth, activation="relu",
        gate_bias=gate_bias, highway=hw,
    )  # fmt: skip


def _train(
    net: HighwayNet,
    data: tuple[torch.Tensor, torch.Tensor],
    *,
    lr: float,
    epochs: int,
    batch: int,
    generator: torch.Generator,
) -> list[float]:
    """Minibatch SGD with momentum; the training loss on all of ``data`` after every epoch."""
    x, y = data
    opt = make_optimizer(net.parameters(), optimizer="sgd", lr=lr, momentum=MOMENTUM)
    curve = [_loss(net, x, y)]
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=generator)
        for i in range(0, len(x), batch):
            idx = order[i : i + batch]
            opt.zero_grad()
            loss = F.cross_entropy(net(x[idx]), y[idx])
            if not torch.isfinite(loss):
                return curve + [float("nan")]
            loss.backward()
            opt.step()
        curve.append(_loss(net, x, y))
        if not math.isfinite(curve[-1]):
            break
    return curve


@register
class HighwayDepthExperiment(Experiment):
    """Plain vs highway nets at growing depth (Srivastava et al. 2015, Fig. 1)."""

    name = "depth.highway"
    system = "Highway networks (2015)"
    claim = PaperClaim(
        citation="Srivastava, Greff & Schmidhuber 2015, Fig. 1",
        metric="final training loss, plain / highway, 100 layers (MNIST)",
        value=None,
        lower_is_better=False,
        note="qualitative: plain nets stop optimizing with depth, highway nets do not; at 100 "
        "layers the highway net's training loss is orders of magnitude lower",
    )
    headline_metric = "mean final training loss, plain / highway, deepest depth"
    tour = False

    def config(self, scale: str) -> dict[str, Any]:
        """Depths, seeds, epochs, batch, the search grid and the deep pilot per scale."""
        if scale == "smoke":
            return {
                "depths": [2, 4], "seeds": 1, "epochs": 2, "search_epochs": 1, "search_seeds": 1,
                "batch": 64,
                "lrs": [0.05], "gate_biases": [-2.0], "split_seed": 0,
                "pilot": {"depth": 10, "seeds": 1, "epochs": 2, "lr": 0.1, "gate_bias": -10.0},
            }  # fmt: skip
        if scale == "quick":
            return {
                "depths": [10, 20, 50, 100], "seeds": 3, "epochs": 15, "search_epochs": 4,
                "search_seeds": 2, "batch": 64, "lrs": [0.01, 0.03, 0.1],
                "gate_biases": [-2.0, -5.0],
                "split_seed": 0,
                "pilot": {"depth": 1000, "seeds": 1, "epochs": 6, "lr": 0.1, "gate_bias": -10.0},
            }  # fmt: skip
        return {
            "depths": [10, 20, 50, 100], "seeds": 10, "epochs": 200, "search_epochs": 20,
            "search_seeds": 3, "batch": 64, "lrs": [0.003, 0.01, 0.03, 0.1, 0.3],
            "gate_biases": [-1.0, -2.0, -3.0, -5.0, -10.0], "split_seed": 0,
            "pilot": {"depth": 1000, "seeds": 3, "epochs": 100, "lr": 0.1, "gate_bias": -10.0},
        }  # fmt: skip

    def run(self, ctx: RunContext) -> Outcome:
        """Search, train every (depth, kind, seed), judge, plot the curves and the gates."""
        cfg = ctx.config
        depths: list[int] = list(cfg["depths"])
        splits = digit_splits(cfg["split_seed"])
        train, valid, test = (_tensors(splits[k]) for k in ("train", "valid", "test"))
        loaded = ctx.checkpointer.load()
        state: dict[str, Any] = {"search": {}, "runs": {}} if loaded is None else loaded[1]
        kinds = ("plain", "highway")

        def save() -> None:
            ctx.checkpointer.save({}, state)

        n_search = sum(
            len(cfg["lrs"]) * (len(cfg["gate_biases"]) if k == "highway" else 1) for k in kinds
        ) * len(depths)
        chosen: dict[str, dict[str, float | None]] = {}
        with ctx.progress(n_search + len(depths) * 2 * cfg["seeds"], "depth runs") as task:
            for depth in depths:
                for kind in kinds:
                    biases = cfg["gate_biases"] if kind == "highway" else [0.0]
                    best: tuple[float, float, float] | None = None
                    for lr in cfg["lrs"]:
                        for bias in biases:
                            scores = []
                            for s in range(cfg["search_seeds"]):
                                key = f"{depth}/{kind}/lr{lr}/b{bias}/s{s}"
                                if key not in state["search"]:
                                    gen = ctx.torch_generator("search", key)
                                    net = HighwayNet(64, 10, _net_config(depth, kind, bias),
                                                     generator=gen)  # fmt: skip
                                    curve = _train(net, train, lr=lr, epochs=cfg["search_epochs"],
                                                   batch=cfg["batch"], generator=gen)  # fmt: skip
                                    v = _loss(net, *valid)
                                    state["search"][key] = (
                                        v if math.isfinite(curve[-1]) else math.inf
                                    )
                                    save()
                                scores.append(state["search"][key])
                            task.advance()
                            v = search_score(scores)
                            if best is None or v < best[0]:
                                best = (v, lr, bias)
                    assert best is not None
                    chosen[f"{depth}/{kind}"] = {
                        "lr": best[1],
                        "gate_bias": best[2],
                        "valid_loss": best[0] if math.isfinite(best[0]) else None,
                    }
                    for seed in range(cfg["seeds"]):
                        key = f"{depth}/{kind}/{seed}"
                        if key not in state["runs"]:
                            gen = ctx.torch_generator("run", depth, kind, seed)
                            net = HighwayNet(64, 10, _net_config(depth, kind, best[2]),
                                             generator=gen)  # fmt: skip
                            curve = _train(net, train, lr=best[1], epochs=cfg["epochs"],
                                           batch=cfg["batch"], generator=gen)  # fmt: skip
                            run: dict[str, Any] = {
                                "curve": curve,
                                "final": curve[-1],
                                "test_accuracy": _accuracy(net, *test),
                            }
                            if kind == "highway" and depth == depths[-1] and seed == 0:
                                a = net.gate_analysis(train[0])
                                run["mean_gate"] = a.mean_gate.mean(dim=1).tolist()
                                run["fraction_on"] = a.fraction_on().mean(dim=1).tolist()
                                run["gate_bias_mean"] = a.biases.mean(dim=1).tolist()
                            state["runs"][key] = run
                            save()
                            ctx.log(f"{key}: final training loss {curve[-1]:.4g}, lr {best[1]}")
                        task.advance()

        pilot_curves = _run_pilot(ctx, state, train, cfg["pilot"], cfg["batch"])

        runs = state["runs"]
        finals = {
            kind: {d: [float(runs[f"{d}/{kind}/{s}"]["final"]) for s in range(cfg["seeds"])]
                   for d in depths}
            for kind in kinds
        }  # fmt: skip
        setup = (
            f"8x8 digits, ReLU, widths {HIGHWAY_WIDTH}/{PLAIN_WIDTH}, SGD momentum {MOMENTUM}, "
            f"batch {cfg['batch']}, {cfg['epochs']} epochs, grid lr {cfg['lrs']} x gate bias "
            f"{cfg['gate_biases']} chosen on validation loss"
        )
        judgement = highway_judgement(depths, finals["plain"], finals["highway"], setup=setup)
        deep = depths[-1]
        mean_p = float(np.mean([safe_loss(v) for v in finals["plain"][deep]]))
        mean_h = float(np.mean([safe_loss(v) for v in finals["highway"][deep]]))
        headline = mean_p / max(mean_h, 1e-12)
        metrics: dict[str, Any] = {
            "depths": depths,
            "chosen": chosen,
            "final_training_loss": {
                k: {str(d): v for d, v in f.items()} for k, f in finals.items()
            },
            "mean_final_training_loss": {
                k: {str(d): float(np.mean([safe_loss(v) for v in f[d]])) for d in depths}
                for k, f in finals.items()
            },
            "test_accuracy": {
                k: {str(d): [runs[f"{d}/{k}/{s}"]["test_accuracy"] for s in range(cfg["seeds"])]
                    for d in depths}
                for k in kinds
            },
            "params_per_layer": {"highway": layer_params(HIGHWAY_WIDTH, highway=True),
                                 "plain": layer_params(PLAIN_WIDTH, highway=False)},
            "gate_analysis": {k: runs[f"{deep}/highway/0"][k]
                              for k in ("mean_gate", "fraction_on", "gate_bias_mean")},
            "pilot": {
                **cfg["pilot"],
                "curves": pilot_curves,
                "summary": [pilot_summary(c) for c in pilot_curves],
            },
        }  # fmt: skip
        plots = [
            _plot_curves(runs, depths, cfg["seeds"], ctx.out_dir / "training_loss.png"),
            _plot_gates(runs[f"{deep}/highway/0"], deep, ctx.out_dir / "gate_analysis.png"),
            _plot_pilot(pilot_curves, cfg["pilot"], ctx.out_dir / "pilot_loss.png"),
        ]
        pilot = metrics["pilot"]["summary"]
        pilot_note = (
            f" Pilot: {len(pilot)} highway net(s) of {cfg['pilot']['depth']} layers "
            f"(lr {cfg['pilot']['lr']}, gate bias {cfg['pilot']['gate_bias']}, "
            f"{cfg['pilot']['epochs']} epochs): training loss "
            + "; ".join(f"{p['initial']:.3g} -> {p['final']:.3g}" for p in pilot)
            + f" ({sum(p['falls'] for p in pilot)} of {len(pilot)} fell below half its start;"
            " not part of the verdict)."
        )
        notes = (
            f"At {deep} layers the mean final training loss is {mean_p:.3g} (plain) against "
            f"{mean_h:.3g} (highway), ratio {headline:.3g}; data: scikit-learn's 8x8 digits, not "
            "the papers' MNIST; far fewer epochs and a small grid instead of the papers' random "
            "search, so the verdict is at most partial." + pilot_note
        )
        return Outcome(headline=headline, metrics=metrics, verdict=judgement, plots=plots,
                       notes=notes)  # fmt: skip


def _run_pilot(
    ctx: RunContext,
    state: dict[str, Any],
    train: tuple[torch.Tensor, torch.Tensor],
    pcfg: dict[str, Any],
    batch: int,
) -> list[list[float]]:
    """Train the deep highway pilot nets, checkpointing net and optimizer after every epoch.

    Epoch e of seed s draws its minibatch order from the stream ``("pilot", s, "epoch", e)`` and
    the net its weights from ``("pilot", s, "init")``; the sweep's streams are untouched.

    Returns:
        Per seed, the training loss on all of ``train`` before training and after each epoch.
    """
    x, y = train
    pilot: dict[str, Any] = state.setdefault("pilot", {})
    with ctx.progress(pcfg["seeds"] * pcfg["epochs"], f"{pcfg['depth']}-layer pilot") as task:
        for seed in range(pcfg["seeds"]):
            key = str(seed)
            run = pilot.setdefault(key, {"curve": [], "live": None})
            net = HighwayNet(64, 10, _net_config(pcfg["depth"], "highway", pcfg["gate_bias"]),
                             generator=ctx.torch_generator("pilot", seed, "init"))  # fmt: skip
            opt = make_optimizer(net.parameters(), optimizer="sgd", lr=pcfg["lr"],
                                 momentum=MOMENTUM)  # fmt: skip
            if run["live"] is not None:  # resume an interrupted pilot
                loaded = ctx.checkpointer.load()
                assert loaded is not None, "a pilot in progress has a checkpoint"
                live = unpack_state(run["live"], loaded[0])
                net.load_state_dict(live["net"])
                opt.load_state_dict(live["opt"])
            if not run["curve"]:
                run["curve"].append(_loss(net, x, y))
            task.advance(len(run["curve"]) - 1)
            while len(run["curve"]) <= pcfg["epochs"] and math.isfinite(run["curve"][-1]):
                e = len(run["curve"]) - 1
                gen = ctx.torch_generator("pilot", seed, "epoch", e)
                order = torch.randperm(len(x), generator=gen)  # (N,) this epoch's order
                for i in range(0, len(x), batch):
                    idx = order[i : i + batch]
                    opt.zero_grad()
                    loss = F.cross_entropy(net(x[idx]), y[idx])
                    if not torch.isfinite(loss):
                        break
                    loss.backward()
                    opt.step()
                run["curve"].append(_loss(net, x, y) if torch.isfinite(loss) else math.nan)
                tensors, run["live"] = pack_state(
                    {"net": net.state_dict(), "opt": opt.state_dict()}, f"pilot{seed}."
                )
                ctx.checkpointer.save(tensors, state)
                task.advance()
            if run["live"] is not None:
                run["live"] = None
                ctx.checkpointer.save({}, state)
                ctx.log(f"pilot {pcfg['depth']} layers, seed {seed}: training loss "
                        f"{run['curve'][0]:.4g} -> {run['curve'][-1]:.4g}")  # fmt: skip
    return [list(pilot[str(s)]["curve"]) for s in range(pcfg["seeds"])]


def _plot_pilot(curves: list[list[float]], pcfg: dict[str, Any], path: Path) -> str:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.5, 3.2))
    ax = fig.add_subplot(1, 1, 1)
    for s, curve in enumerate(curves):
        ax.plot([safe_loss(v) for v in curve], marker="o", label=f"seed {s}")
    ax.axhline(CHANCE_LOSS, color="gray", linestyle=":", label="chance (ln 10)")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss (cross-entropy)")
    ax.set_title(f"{pcfg['depth']}-layer highway net, SGD lr {pcfg['lr']}, "
                 f"b_T {pcfg['gate_bias']:g}", fontsize=9)  # fmt: skip
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path.name


def _plot_curves(runs: dict[str, Any], depths: list[int], seeds: int, path: Path) -> str:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(3.2 * len(depths), 3.2))
    for i, d in enumerate(depths):
        ax = fig.add_subplot(1, len(depths), i + 1)
        for kind, color in (("plain", "tab:red"), ("highway", "tab:blue")):
            for s in range(seeds):
                curve = [safe_loss(v) for v in runs[f"{d}/{kind}/{s}"]["curve"]]
                ax.plot(curve, color=color, alpha=0.8, label=kind if s == 0 else None)
        ax.set_yscale("log")
        ax.set_title(f"{d} layers")
        ax.set_xlabel("epoch")
        if i == 0:
            ax.set_ylabel("training loss (cross-entropy)")
            ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path.name


def _plot_gates(run: dict[str, Any], depth: int, path: Path) -> str:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 3))
    layers = np.arange(1, depth + 1)
    for i, (key, label) in enumerate(
        (("gate_bias_mean", "mean gate bias b_T"), ("mean_gate", "mean transform gate T"),
         ("fraction_on", "fraction of examples with T > 0.5"))
    ):  # fmt: skip
        ax = fig.add_subplot(1, 3, i + 1)
        ax.plot(layers, run[key])
        ax.set_xlabel("layer")
        ax.set_title(label, fontsize=9)
    fig.suptitle(f"Gate analysis, {depth}-layer highway net (training images)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path.name
