"""`memory.fwp_retrieval`: synthetic key-value retrieval with fast weights (Schlag et al. 2021).

Paper: I. Schlag, K. Irie & J. Schmidhuber, "Linear Transformers Are Secretly Fast Weight
Programmers", ICML 2021 (arXiv:2102.11174), Sec. 6.1 (synthetic retrieval) and the training logs
its authors published. Setup there: key size d_key = 64, one-hot values, squared error, Adam with
learning rate 1e-3, batch 32, up to 100,000 steps, training stopped at an evaluation loss <= 0.001
or after 10 evaluations without improvement. Capacity setting: S unique keys (20 to 600) each
bound to a value, then a query key. Update setting (20 to 200 keys): a sequence twice as long in
which keys repeat and the latest value bound to a key is the one to retrieve. Final evaluation
losses in the authors' logs: linear features + sum rule 40 keys 0.0008 (solved), 60 keys 0.025,
80 keys 0.11; DPFP-1 + sum rule 120 keys 0.0085, 200 keys 0.175; update setting with 100 keys:
DPFP-1 + sum rule 0.116 (a plateau), DPFP-1 + delta rule 8.6e-5 by step 2,000. Feature sizes:
linear 64, DPFP-nu 2 nu 64. The findings: the sum rule with linear features (linear attention)
stores about d_key associations (its keys live in R^64, at most 64 orthogonal); DPFP's larger
feature space raises that capacity; only the delta rule can overwrite a binding, so it solves the
update setting where the sum rule plateaus.

The task here (`sample_batch`): keys are symbols 0..S-1 embedded by a learned table to d_key = 64;
values are symbols 0..S-1 given and predicted as one-hot vectors of size S. Capacity: the S keys
in a random order, each with a uniformly random value, then a query, one of the S keys; the target
is its value. Update: 2 S pairs, made of a random order of the S keys and S more keys drawn with
replacement, shuffled together (every key occurs at least once, many twice or more), each pair
with a fresh random value; the target is the value of the query's last occurrence.

The model (`RetrievalModel`), one fast-weight layer: x_t = [embed(key_t); onehot(value_t)];
k_t = phi(W_k x_t), v_t = W_v x_t, beta_t = sigmoid(w_beta x_t) (delta rule); the pairs are
written into the fast weights by the sum rule (only the final state is needed:
W = sum_t v_t phi(k_t)^T, one product, equal to `rnnai.nn.fastweights.sum_rule`'s final state) or
by `rnnai.nn.fastweights.delta_rule` (chunk-parallel form, chunks of 16);
the query q = phi(W_q embed(query)) reads y = W q and a linear readout maps y to the S value
scores. As in `rnnai.nn.fastweights.FastWeightLayer`, phi(k), phi(q) are sum-normalised for the
delta rule with a non-identity map. The reference is softmax attention of the projected query
over the projected keys and values (`torch.nn.functional.scaled_dot_product_attention`).

Deviations and readings of ours: the loss is the squared error summed over the S value
components and averaged over the batch (our reading of the logged numbers: a mean over the
components would put 80 keys' 0.11 above the 1/80 of an all-zero output). How the paper's
update-setting sequences repeat keys and whether its keys are embedded symbols or random
vectors is our reading, not checked against its code. Evaluation uses fresh random sequences
drawn from a generator stream separate from the training stream (`data_streams`), so the
evaluation sequences are not the training sequences; the evaluation loss is the mean over
``eval_batches`` batches of 32.

Scales:
* smoke: S = 8 and 16 (capacity) and 8 (update), 150 steps, 1 seed (CI).
* quick: capacity S in {20, 40, 80} for linear + sum, DPFP-1 + sum and softmax; update S = 20 for
  DPFP-1 + sum and DPFP-1 + delta; at most 1,500 steps (evaluation every 150, patience 4), 2
  seeds (sized for a few minutes on 2 shared cores).
* paper: capacity S in {20, 40, 60, 80, 100, 120, 200, 300, 400, 500, 600} and update S in
  {20, 40, 60, 80, 100, 200}, sum and delta rule, linear and DPFP-1/2/3, and softmax; the paper's
  budget and stop rule; 3 seeds. Each finished (setting, model, S, seed) run is checkpointed.

Verdict (`rnnai.runtime.verdict.judge`), four tests over the seeds:
1. `check`: linear + sum solves the smallest capacity S (final loss <= 0.001 in every seed);
2. `comparison` (paired by seed): linear + sum does better at the smallest S than at the largest
   (S > d_key): its capacity is limited;
3. `comparison` (paired by S and seed, pooled over the capacity sweep): DPFP-1 + sum beats
   linear + sum (pooled because at the largest S both can sit near the loss 1 of an all-zero
   output, where a difference says little about capacity);
4. `comparison` (paired): DPFP-1 + delta beats DPFP-1 + sum in the update setting.
The paper's setup is the paper scale only (its sweep, budget and stop rule); its logs show one run
per setting, and a bootstrap over fewer than 3 seeds says nothing, so "reproduced" needs 3 seeds.
Quick and smoke are at most partial.

Examples:
    >>> import torch
    >>> from rnnai.nn.fastweights import FeatureMap
    >>> gen = torch.Generator().manual_seed(0)
    >>> keys, values, query, target = sample_batch("update", 5, 4, gen)
    >>> tuple(keys.shape), tuple(values.shape), tuple(query.shape)
    ((4, 10), (4, 10), (4,))
    >>> last = [int((keys[b] == query[b]).nonzero().max()) for b in range(4)]
    >>> bool(torch.equal(target, values[torch.arange(4), torch.tensor(last)]))
    True
    >>> retrieval_loss(torch.zeros(2, 5), torch.tensor([1, 3]))   # one-hot target, summed
    tensor(1.)
    >>> FeatureMap("dpfp-2", 64).out_features
    256
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnai.experiments.base import Experiment, Outcome, PaperClaim, RunContext, register
from rnnai.nn.fastweights import FeatureMap, delta_rule, sum_normalize
from rnnai.runtime.errors import RnnaiError
from rnnai.runtime.seeding import derive_seed
from rnnai.runtime.seeding import torch_generator as make_generator
from rnnai.runtime.verdict import Evidence, Judgement, check, comparison, judge
from rnnai.train.hooks import Hooks

NAME = "memory.fwp_retrieval"
SETTINGS = ("capacity", "update")
SOLVED = 0.001
"""The paper's stop threshold on the evaluation loss: a run at or below it has solved the task."""
PAPER_LOSSES = {
    ("capacity", "sum-identity", 40): 0.0008,
    ("capacity", "sum-identity", 60): 0.025,
    ("capacity", "sum-identity", 80): 0.11,
    ("capacity", "sum-dpfp-1", 120): 0.0085,
    ("capacity", "sum-dpfp-1", 200): 0.175,
    ("update", "sum-dpfp-1", 100): 0.116,
    ("update", "delta-dpfp-1", 100): 8.6e-5,
}
"""Final evaluation losses in Schlag et al.'s logs: (setting, model, number of keys) -> loss."""
REQUIRED_SEEDS = 3
DELTA_CHUNK = 16
"""Chunk size of the delta rule's chunk-parallel form (the fastest on CPU at these lengths)."""


@dataclass(frozen=True, kw_only=True)
class TrainSpec:
    """Training of one run (Schlag et al.: Adam 1e-3, batch 32, 100k steps, stop rule).

    Attributes:
        lr: Adam's learning rate.
        batch: Sequences per step (also per evaluation batch).
        max_steps: Step budget.
        eval_every: Steps between evaluations.
        eval_batches: Fresh evaluation batches per evaluation.
        patience: Stop after this many evaluations without improvement.
        d_key: Key (and value projection) size.
    """

    lr: float = 1e-3
    batch: int = 32
    max_steps: int = 100_000
    eval_every: int = 500
    eval_batches: int = 4
    patience: int = 10
    d_key: int = 64


PAPER_TRAIN = TrainSpec()


def model_name(rule: str, feature_map: str) -> str:
    """The label of a model, e.g. ``"sum-identity"``, ``"delta-dpfp-1"`` or ``"softmax"``."""
    return "softmax" if rule == "softmax" else f"{rule}-{feature_map}"


def sample_batch(
    setting: str, num_keys: int, batch: int, generator: torch.Generator
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Draw a batch of retrieval sequences (see the module docstring).

    Args:
        setting: ``"capacity"`` (S pairs, unique keys) or ``"update"`` (2 S pairs, repeats).
        num_keys: S, the number of key symbols (and value symbols).
        batch: Sequences.
        generator: The random stream.

    Returns:
        keys (batch, L), values (batch, L), query (batch,), target (batch,): symbol indices;
        the target is the value bound last to the query key.

    Raises:
        RnnaiError: For an unknown setting or S < 2.
    """
    if setting not in SETTINGS:
        raise RnnaiError(f"setting must be 'capacity' or 'update', got {setting!r}")
    if num_keys < 2:
        raise RnnaiError(f"num_keys must be >= 2, got {num_keys}")
    S = num_keys
    keys = torch.rand(batch, S, generator=generator).argsort(dim=-1)  # (B, S) permutations
    if setting == "update":
        extra = torch.randint(0, S, (batch, S), generator=generator)
        keys = torch.cat([keys, extra], dim=1)
        order = torch.rand(batch, 2 * S, generator=generator).argsort(dim=-1)
        keys = keys.gather(1, order)  # (B, 2S)
    L = keys.shape[1]
    values = torch.randint(0, S, (batch, L), generator=generator)
    query = torch.randint(0, S, (batch,), generator=generator)
    hit = keys == query[:, None]  # (B, L), at least one True per row
    last = (hit * torch.arange(1, L + 1)).argmax(dim=1)  # latest occurrence
    target = values[torch.arange(batch), last]
    return keys, values, query, target


def retrieval_loss(scores: Tensor, target: Tensor) -> Tensor:
    """Squared error against the one-hot target, summed over components, mean over the batch."""
    onehot = F.one_hot(target, scores.shape[-1]).to(scores.dtype)
    return ((scores - onehot) ** 2).sum(dim=-1).mean()


def data_streams(seed: int, run_key: str) -> tuple[torch.Generator, torch.Generator]:
    """The training and the evaluation generators of one run: separate derived streams.

    Args:
        seed: The run seed.
        run_key: The run's label (setting, model, S, seed index).

    Returns:
        (training generator, evaluation generator).
    """
    return (
        make_generator(derive_seed(seed, NAME, "train-data", run_key)),
        make_generator(derive_seed(seed, NAME, "eval-data", run_key)),
    )


class RetrievalModel(nn.Module):
    """One fast-weight layer (or softmax attention) that stores the pairs and answers the query.

    Args:
        num_keys: S (key and value vocabulary).
        rule: ``"sum"``, ``"delta"`` or ``"softmax"``.
        feature_map: phi for the fast-weight rules (`rnnai.nn.fastweights.FeatureMap`).
        d_key: Key size (64 in the paper).
    """

    def __init__(self, num_keys: int, *, rule: str, feature_map: str, d_key: int = 64) -> None:
        super().__init__()
        if rule not in ("sum", "delta", "softmax"):
            raise RnnaiError(f"rule must be 'sum', 'delta' or 'softmax', got {rule!r}")
        self.num_keys, self.rule, self.d_key = num_keys, rule, d_key
        self.embed = nn.Embedding(num_keys, d_key)
        d_in = d_key + num_keys
        self.proj_k = nn.Linear(d_in, d_key, bias=False)
        self.proj_v = nn.Linear(d_in, d_key, bias=False)
        self.proj_q = nn.Linear(d_key, d_key, bias=False)
        self.proj_beta = nn.Linear(d_in, 1)
        self.readout = nn.Linear(d_key, num_keys)
        self.phi = FeatureMap(feature_map, d_key)
        self.normalize = rule == "delta" and self.phi.kind != "identity"

    def forward(self, keys: Tensor, values: Tensor, query: Tensor) -> Tensor:
        """Scores (batch, S) for the value bound to ``query`` in the sequence (keys, values)."""
        x = torch.cat([self.embed(keys), F.one_hot(values, self.num_keys).float()], dim=-1)
        k, v = self.proj_k(x), self.proj_v(x)  # (B, L, d)
        q = self.proj_q(self.embed(query))[:, None, :]  # (B, 1, d)
        if self.rule == "softmax":
            y = F.scaled_dot_product_attention(q, k, v)[:, 0]  # (B, d)
            return self.readout(y)
        k, q = self.phi(k), self.phi(q)  # (B, L, d_phi), (B, 1, d_phi)
        if self.normalize:
            k, q = sum_normalize(k), sum_normalize(q)
        if self.rule == "sum":
            W = v.transpose(1, 2) @ k  # Eq. 1 summed over the sequence   (B, d, d_phi)
        else:
            beta = torch.sigmoid(self.proj_beta(x))[..., 0]  # (B, L)
            _, W = delta_rule(k, k, v, beta, chunk_size=DELTA_CHUNK)  # (B, d, d_phi)
        y = (W @ q.transpose(1, 2))[..., 0]  # (B, d)
        return self.readout(y)


def evaluate(
    model: RetrievalModel, setting: str, spec: TrainSpec, generator: torch.Generator
) -> float:
    """Mean loss over ``spec.eval_batches`` fresh batches from ``generator``."""
    with torch.no_grad():
        losses = [
            float(retrieval_loss(model(*batch[:3]), batch[3]))
            for batch in (
                sample_batch(setting, model.num_keys, spec.batch, generator)
                for _ in range(spec.eval_batches)
            )
        ]
    return float(np.mean(losses))


def train_run(
    *, setting: str, num_keys: int, rule: str, feature_map: str, spec: TrainSpec, seed: int,
    run_key: str,
) -> dict[str, Any]:  # fmt: skip
    """Train one model until solved, patience runs out or the budget ends.

    Args:
        setting: ``"capacity"`` or ``"update"``.
        num_keys: S.
        rule: ``"sum"``, ``"delta"`` or ``"softmax"``.
        feature_map: phi.
        spec: The training setup.
        seed: The run seed.
        run_key: The run's label (selects its random streams).

    Returns:
        ``final_loss`` (the last evaluation), ``best_loss``, ``steps``, ``solved`` and ``curve``
        ([step, evaluation loss] pairs).
    """
    train_gen, eval_gen = data_streams(seed, run_key)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(derive_seed(seed, NAME, "init", run_key))
        model = RetrievalModel(num_keys, rule=rule, feature_map=feature_map, d_key=spec.d_key)
    opt = torch.optim.Adam(model.parameters(), lr=spec.lr)
    curve: list[list[float]] = []
    best, stale, step, loss = math.inf, 0, 0, math.inf
    while step < spec.max_steps:
        keys, values, query, target = sample_batch(setting, num_keys, spec.batch, train_gen)
        opt.zero_grad()
        retrieval_loss(model(keys, values, query), target).backward()
        opt.step()
        step += 1
        if step % spec.eval_every == 0 or step == spec.max_steps:
            loss = evaluate(model, setting, spec, eval_gen)
            curve.append([step, loss])
            if loss < best:
                best, stale = loss, 0
            else:
                stale += 1
            if loss <= SOLVED or stale >= spec.patience:
                break
    return {"final_loss": loss, "best_loss": best, "steps": step, "solved": loss <= SOLVED,
            "curve": curve}  # fmt: skip


def run_key(setting: str, model: str, num_keys: int, seed_index: int) -> str:
    """The label of one run, e.g. ``"capacity/sum-identity/S40/seed0"``."""
    return f"{setting}/{model}/S{num_keys}/seed{seed_index}"


def run_all(cfg: dict[str, Any], seed: int, hooks: Hooks) -> dict[str, dict[str, Any]]:
    """Every (setting, model, S, seed) run of the config, resuming finished ones.

    Args:
        cfg: The experiment config (``train``, ``seeds``, ``runs``).
        seed: The run seed.
        hooks: Checkpointer (one save per finished run), progress and log.

    Returns:
        Results per `run_key`.
    """
    spec = TrainSpec(**cfg["train"])
    loaded = hooks.checkpointer.load()
    done: dict[str, dict[str, Any]] = dict(loaded[1]["done"]) if loaded else {}
    todo = [
        (group["setting"], m, S, i)
        for group in cfg["runs"]
        for m in group["models"]
        for S in group["num_keys"]
        for i in range(cfg["seeds"])
    ]
    with hooks.progress(len(todo), "runs") as bar:
        for setting, (rule, fmap), S, i in todo:
            key = run_key(setting, model_name(rule, fmap), S, i)
            if key not in done:
                done[key] = train_run(
                    setting=setting, num_keys=S, rule=rule, feature_map=fmap, spec=spec,
                    seed=seed, run_key=key,
                )  # fmt: skip
                hooks.checkpointer.save({}, {"done": done})
                r = done[key]
                hooks.log(f"{key}: final eval loss {r['final_loss']:.4g} after {r['steps']} steps")
            bar.advance()
    return done


def finals(
    results: dict[str, dict[str, Any]], setting: str, model: str, num_keys: int, seeds: int
) -> list[float]:
    """Final evaluation losses over the seeds of one (setting, model, S)."""
    return [
        float(results[run_key(setting, model, num_keys, i)]["final_loss"]) for i in range(seeds)
    ]


def is_paper_setup(cfg: dict[str, Any]) -> bool:
    """Whether the config is the paper's: its training setup, budget, stop rule and sweep."""
    spec = TrainSpec(**cfg["train"])
    sweep = {g["setting"]: set(g["num_keys"]) for g in cfg["runs"]}
    return (
        spec == PAPER_TRAIN
        and {20, 40, 60, 80, 600} <= sweep.get("capacity", set())
        and 100 in sweep.get("update", set())
    )


def fwp_judgement(cfg: dict[str, Any], results: dict[str, dict[str, Any]]) -> Judgement:
    """The verdict of the module docstring from the runs' final losses.

    Args:
        cfg: The experiment config.
        results: Results per `run_key` (``final_loss`` used).

    Returns:
        The `rnnai.runtime.verdict.Judgement`.
    """
    n = cfg["seeds"]
    cap = next(g for g in cfg["runs"] if g["setting"] == "capacity")
    upd = next(g for g in cfg["runs"] if g["setting"] == "update")
    s_min, s_max = min(cap["num_keys"]), max(cap["num_keys"])
    u = max(upd["num_keys"])
    lin_small = finals(results, "capacity", "sum-identity", s_min, n)
    lin_large = finals(results, "capacity", "sum-identity", s_max, n)
    sizes = sorted(cap["num_keys"])
    evidence: list[Evidence] = [
        check(
            f"linear + sum rule solves {s_min} keys (final loss <= {SOLVED} in every seed; "
            "paper: 40 keys 0.0008)",
            max(lin_small) <= SOLVED,
            n=n,
            ours=max(lin_small),
            paper=PAPER_LOSSES[("capacity", "sum-identity", 40)],
        ),
        comparison(
            lin_small, lin_large, lower_is_better=True, paired=True,
            claim=f"linear + sum rule: lower loss at {s_min} keys than at {s_max} (capacity "
            f"limited by d_key = {cfg['train']['d_key']})",
        ),
        comparison(
            [v for S in sizes for v in finals(results, "capacity", "sum-dpfp-1", S, n)],
            [v for S in sizes for v in finals(results, "capacity", "sum-identity", S, n)],
            lower_is_better=True, paired=True,
            claim=f"DPFP-1 raises the sum rule's capacity: lower loss than linear features, "
            f"paired over every (S, seed), S in {sizes}",
        ),
        comparison(
            finals(results, "update", "delta-dpfp-1", u, n),
            finals(results, "update", "sum-dpfp-1", u, n),
            lower_is_better=True, paired=True,
            claim=f"update setting, {u} keys: the delta rule beats the sum rule (DPFP-1)",
        ),
    ]  # fmt: skip
    spec = TrainSpec(**cfg["train"])
    return judge(
        evidence,
        paper_setup=is_paper_setup(cfg),
        setup=f"capacity S {cap['num_keys']}, update S {upd['num_keys']}, Adam {spec.lr}, "
        f"batch {spec.batch}, up to {spec.max_steps} steps, patience {spec.patience}",
        trials=n,
        required=REQUIRED_SEEDS,
    )


SUM_LIN, SUM_DPFP1, DELTA_DPFP1, SOFTMAX = (
    ("sum", "identity"), ("sum", "dpfp-1"), ("delta", "dpfp-1"), ("softmax", "identity"),
)  # fmt: skip


@register
class FwpRetrievalExperiment(Experiment):
    """Synthetic retrieval: sum vs delta rule, linear vs DPFP features (Schlag et al. 2021)."""

    name = NAME
    system = "Fast weight programmers (linear Transformers), sum and delta rule"
    claim = PaperClaim(
        citation="Schlag, Irie & Schmidhuber 2021 (ICML), Sec. 6.1",
        metric="final evaluation loss, update setting, 100 keys, DPFP-1 + delta rule",
        value=8.6e-5,
        lower_is_better=True,
        note="their logs: DPFP-1 + sum rule plateaus at 0.116 there; capacity: linear + sum "
        "rule 40 keys 0.0008, 60 keys 0.025, 80 keys 0.11; DPFP-1 + sum 120 keys 0.0085",
    )
    headline_metric = "median final evaluation loss, update setting, largest S, DPFP-1 + delta"
    tour = False

    def config(self, scale: str) -> dict[str, Any]:
        """Per-scale sweep, seeds and training setup."""
        runs: list[dict[str, Any]]
        if scale == "smoke":
            train = TrainSpec(max_steps=150, eval_every=50, eval_batches=2, patience=3)
            runs = [
                {"setting": "capacity", "num_keys": [8, 16], "models": [SUM_LIN, SUM_DPFP1]},
                {"setting": "update", "num_keys": [8], "models": [SUM_DPFP1, DELTA_DPFP1]},
            ]  # fmt: skip
            seeds = 1
        elif scale == "quick":
            train = TrainSpec(max_steps=1_500, eval_every=150, eval_batches=4, patience=4)
            runs = [
                {"setting": "capacity", "num_keys": [20, 40, 80],
                 "models": [SUM_LIN, SUM_DPFP1, SOFTMAX]},
                {"setting": "update", "num_keys": [20], "models": [SUM_DPFP1, DELTA_DPFP1]},
            ]  # fmt: skip
            seeds = 2
        else:
            train = PAPER_TRAIN
            maps = ["identity", "dpfp-1", "dpfp-2", "dpfp-3"]
            models = [(r, m) for r in ("sum", "delta") for m in maps] + [SOFTMAX]
            runs = [
                {"setting": "capacity",
                 "num_keys": [20, 40, 60, 80, 100, 120, 200, 300, 400, 500, 600],
                 "models": models},
                {"setting": "update", "num_keys": [20, 40, 60, 80, 100, 200], "models": models},
            ]  # fmt: skip
            seeds = REQUIRED_SEEDS
        return {
            "train": asdict(train),
            "seeds": seeds,
            "runs": [{**g, "models": [list(m) for m in g["models"]]} for g in runs],
        }

    def run(self, ctx: RunContext) -> Outcome:
        """Run the sweep, judge, plot final loss against S and the learning curves."""
        cfg = ctx.config
        results = run_all(cfg, ctx.seed, ctx)
        judgement = fwp_judgement(cfg, results)
        n = cfg["seeds"]
        table: dict[str, dict[str, Any]] = {}
        for g in cfg["runs"]:
            for rule, fmap in g["models"]:
                m = model_name(rule, fmap)
                for S in g["num_keys"]:
                    losses = finals(results, g["setting"], m, S, n)
                    table[f"{g['setting']}/{m}/S{S}"] = {
                        "final_losses": losses,
                        "median": float(np.median(losses)),
                        "solved": sum(v <= SOLVED for v in losses),
                        "steps": [results[run_key(g["setting"], m, S, i)]["steps"]
                                  for i in range(n)],
                        "paper": PAPER_LOSSES.get((g["setting"], m, S)),
                    }  # fmt: skip
        upd = next(g for g in cfg["runs"] if g["setting"] == "update")
        headline = table[f"update/delta-dpfp-1/S{max(upd['num_keys'])}"]["median"]
        plots = [plot_capacity(cfg, table, ctx), plot_curves(cfg, results, ctx)]
        notes = "; ".join(
            f"{k}: median {v['median']:.3g}" + (f" (paper {v['paper']:g})" if v["paper"] else "")
            for k, v in table.items()
        )
        return Outcome(headline=headline, metrics={"runs": table}, verdict=judgement,
                       plots=plots, notes=notes)  # fmt: skip


def plot_capacity(cfg: dict[str, Any], table: dict[str, dict[str, Any]], ctx: RunContext) -> str:
    """Final evaluation loss against S per (rule, map), capacity and update settings."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 3.8))
    axes = fig.subplots(1, len(cfg["runs"]))
    for ax, g in zip(np.atleast_1d(axes), cfg["runs"], strict=True):
        for k, (rule, fmap) in enumerate(g["models"]):
            m = model_name(rule, fmap)
            xs = g["num_keys"]
            rows = [table[f"{g['setting']}/{m}/S{S}"] for S in xs]
            ax.plot(xs, [max(r["median"], 1e-6) for r in rows], "o-", color=f"C{k}", label=m)
            for S, r in zip(xs, rows, strict=True):
                ax.scatter([S] * len(r["final_losses"]), np.maximum(r["final_losses"], 1e-6),
                           color=f"C{k}", s=8, alpha=0.5)  # fmt: skip
        for (setting, _, S), v in PAPER_LOSSES.items():
            if setting == g["setting"]:
                ax.scatter([S], [v], marker="x", color="k")
        ax.axhline(SOLVED, color="grey", ls=":", lw=1)
        ax.set_yscale("log")
        ax.set_xlabel("number of keys S")
        ax.set_ylabel("final evaluation loss")
        ax.set_title(f"{g['setting']} setting (x: paper's logs)", fontsize=9)
        ax.legend(fontsize=7)
    fig.tight_layout()
    path = ctx.out_dir / "final_loss_vs_keys.png"
    fig.savefig(path, dpi=90)
    return path.name


def plot_curves(cfg: dict[str, Any], results: dict[str, dict[str, Any]], ctx: RunContext) -> str:
    """Evaluation loss against steps: capacity at the largest S, and the update setting."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 3.8))
    axes = fig.subplots(1, len(cfg["runs"]))
    for ax, g in zip(np.atleast_1d(axes), cfg["runs"], strict=True):
        S = max(g["num_keys"])
        for k, (rule, fmap) in enumerate(g["models"]):
            m = model_name(rule, fmap)
            for i in range(cfg["seeds"]):
                c = np.asarray(results[run_key(g["setting"], m, S, i)]["curve"])
                if len(c):
                    ax.plot(c[:, 0], np.maximum(c[:, 1], 1e-6), color=f"C{k}",
                            label=m if i == 0 else None)  # fmt: skip
        ax.set_yscale("log")
        ax.set_xlabel("training steps (batch 32)")
        ax.set_ylabel("evaluation loss")
        ax.set_title(f"{g['setting']} setting, S = {S}", fontsize=9)
        ax.legend(fontsize=7)
    fig.tight_layout()
    path = ctx.out_dir / "learning_curves.png"
    fig.savefig(path, dpi=90)
    return path.name
