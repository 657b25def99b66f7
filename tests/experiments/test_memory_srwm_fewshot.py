"""memory.srwm_fewshot: class split, sequences, matched sizes, scoring, verdict, resume, smoke."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from rnnai.cli import main
from rnnai.data.images import content_hashes
from rnnai.experiments import get_experiment
from rnnai.experiments.memory_srwm_fewshot import (
    CLASS_SPLIT,
    DATASETS,
    EDGE,
    KINDS,
    FewShotNet,
    Pool,
    RunSpec,
    check_split,
    count_parameters,
    delta_head,
    instance_numbers,
    label_inputs,
    load_pools,
    lstm_hidden,
    make_net,
    run_key,
    sample_segment,
    sample_switch,
    sequence_layer_parameters,
    shot_accuracy,
    srwm_judgement,
    streams,
    switch_edges,
    train_run,
)
from rnnai.runtime.checkpoint import Checkpointer, unpack_state
from rnnai.runtime.errors import RnnaiError
from rnnai.train.hooks import SilentHooks

NAME = "memory.srwm_fewshot"


def _tagged_pools(per_class: int = 50) -> dict[str, Pool]:
    """Pools whose feature 0 is the class and feature 1 the data set (to trace samples)."""
    pools = {}
    for j, d in enumerate(DATASETS):
        labels = torch.arange(10).repeat_interleave(per_class)
        x = torch.randn(len(labels), 64)
        x[:, 0], x[:, 1] = labels.float(), float(j)
        pools[d] = Pool(x, labels)
    return pools


def test_meta_train_and_meta_test_classes_are_disjoint() -> None:
    check_split()
    assert set(CLASS_SPLIT["meta_train"]).isdisjoint(CLASS_SPLIT["meta_test"])
    with pytest.raises(RnnaiError, match="disjoint"):
        check_split({"meta_train": (0, 1, 2), "meta_test": (2, 3)})


def test_meta_test_images_never_occur_among_meta_training_images() -> None:
    pools = load_pools()
    for d in DATASETS:
        p = pools[d]
        train = np.isin(p.labels.numpy(), CLASS_SPLIT["meta_train"])
        test = np.isin(p.labels.numpy(), CLASS_SPLIT["meta_test"])
        x = p.x.numpy()
        assert not set(content_hashes(x[train])) & set(content_hashes(x[test]))
        assert x.shape[1] == 64 and np.allclose(x.mean(axis=1), 0, atol=1e-5)


@pytest.mark.parametrize("split", ["meta_train", "meta_test"])
def test_sequences_draw_only_the_splits_classes_with_one_permuted_label_per_class(
    split: str,
) -> None:
    pools, gen = _tagged_pools(), torch.Generator().manual_seed(3)
    x, y, cut = sample_switch(pools, CLASS_SPLIT[split], 5, 4, 64, gen)
    assert cut == 20 and x.shape == (64, 40, 64)
    classes = x[..., 0].long()
    assert set(classes.unique().tolist()) == set(CLASS_SPLIT[split])
    mappings = set()
    for seg in (slice(0, cut), slice(cut, None)):
        assert (x[:, seg, 1] == x[:, seg.start or 0, 1][:, None]).all()  # one data set
        for b in range(64):
            lab, cls = y[b, seg], classes[b, seg]
            pairs = set(zip(lab.tolist(), cls.tolist(), strict=True))
            assert len(pairs) == len(set(lab.tolist()))  # each label one class in the segment
            mappings.add(tuple(sorted(pairs)))
    assert len(mappings) > 10  # labels are permuted afresh
    assert not torch.equal(x[:, 0, 1], x[:, cut, 1])  # the segments come from both data sets


def test_segment_labels_are_uniform_and_independent_so_counting_cannot_predict_them() -> None:
    pools = _tagged_pools(per_class=40)
    _, y = sample_segment(pools["digits"], (0, 1, 2, 3, 4), 5, 20, 4000, torch.Generator())
    counts = torch.bincount(y.flatten(), minlength=5).float() / y.numel()
    assert torch.allclose(counts, torch.full((5,), 0.2), atol=0.01)
    # a label seen least often so far is not more likely next (it would be with fixed counts)
    seen = torch.nn.functional.one_hot(y, 5).cumsum(dim=1)[:, :-1]  # (B, L - 1, 5)
    rarest = seen.argmin(dim=-1)
    hit = (rarest == y[:, 1:]).float().mean()
    assert abs(float(hit) - 0.2) < 0.02


def test_segments_hold_distinct_images_and_the_trim_shortens_them() -> None:
    pools = {d: Pool(torch.randn(400, 64), torch.arange(400) % 10) for d in DATASETS}
    x, _ = sample_segment(pools["digits"], (0, 1, 2, 3, 4), 5, 30, 8, torch.Generator())
    for b in range(8):
        assert len({tuple(r.tolist()) for r in x[b]}) == 30
    gen = torch.Generator().manual_seed(0)
    lengths = {sample_switch(pools, (0, 1, 2, 3, 4), 5, 4, 2, gen, max_trim=3)[0].shape[1]
               for _ in range(30)}  # fmt: skip
    assert min(lengths) >= 34 and max(lengths) <= 40 and len(lengths) > 1
    with pytest.raises(RnnaiError, match="n_way"):
        sample_segment(pools["digits"], (0, 1), 5, 2, 1, torch.Generator())
    with pytest.raises(RnnaiError, match="images"):
        sample_segment(pools["digits"], (0, 1, 2, 3, 4), 5, 41, 1, torch.Generator())


def test_label_inputs_are_the_previous_labels_and_instances_count_per_class() -> None:
    y = torch.tensor([[1, 0, 1, 2]])
    fed = label_inputs(y, 3)
    assert fed.shape == (1, 4, 4)
    assert fed[0].argmax(dim=-1).tolist() == [3, 1, 0, 1]  # 3 = "no label"
    assert instance_numbers(y, 3).tolist() == [[1, 1, 2, 1]]


def test_training_and_test_streams_differ_and_repeat() -> None:
    a_train, a_test = streams(0, "srwm/seed0")
    b_train, b_test = streams(0, "srwm/seed0")
    assert torch.equal(torch.rand(4, generator=a_train), torch.rand(4, generator=b_train))
    t, e = streams(0, "srwm/seed0")
    assert not torch.equal(torch.rand(4, generator=t), torch.rand(4, generator=e))


@pytest.mark.parametrize(("d_model", "heads"), [(64, 4), (256, 16), (16, 2)])
def test_the_three_sequence_layers_have_similar_weight_counts(d_model: int, heads: int) -> None:
    counts = {k: sequence_layer_parameters(FewShotNet(64, 5, kind=k, d_model=d_model,
                                                      num_heads=heads)) for k in KINDS}  # fmt: skip
    d_h = d_model // heads
    assert counts["srwm"] == heads * (3 * d_h + 4) * d_h + d_model * d_model
    for k in ("delta", "lstm"):
        assert abs(counts[k] - counts["srwm"]) / counts["srwm"] < 0.1, counts
    assert delta_head(64, 4) == 7 and lstm_hidden(64, 4) >= 1


def test_the_network_scores_every_step_and_trains() -> None:
    torch.manual_seed(0)
    for kind in KINDS:
        net = FewShotNet(64, 5, kind=kind, d_model=16, num_heads=2)
        x, y = torch.randn(3, 9, 64), torch.randint(0, 5, (3, 9))
        logits = net(x, label_inputs(y, 5))
        assert logits.shape == (3, 9, 5)
        torch.nn.functional.cross_entropy(logits.flatten(0, 1), y.flatten()).backward()
        assert net.features[0].weight.grad is not None
        assert count_parameters(net) > sequence_layer_parameters(net)
    with pytest.raises(RnnaiError, match="kind"):
        FewShotNet(64, 5, kind="gru")


def test_the_srwm_reads_a_normalised_input_of_unit_scale(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SRWM's Eq. 1 input x_t has per-position std about 1 (LayerNorm of the residual
    stream); the authors' layout (srwm_pre_norm=False) feeds the raw stream, about 0.14 here."""
    import rnnai.nn.srwm as srwm_module

    seen: list[torch.Tensor] = []
    original = srwm_module.srwm

    def spy(x: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
        seen.append(x.detach())
        return original(x, *args, **kwargs)

    monkeypatch.setattr(srwm_module, "srwm", spy)
    gen = torch.Generator().manual_seed(0)
    x, y, _ = sample_switch(load_pools(), CLASS_SPLIT["meta_train"], 5, 3, 8, gen)
    scales = {}
    for pre in (True, False):
        torch.manual_seed(0)
        net = FewShotNet(64, 5, kind="srwm", d_model=64, num_heads=4, srwm_pre_norm=pre)
        net(x, label_inputs(y, 5))
        heads = seen[-1].transpose(1, 2).flatten(2)  # (N, L, d_model): the heads' inputs
        scales[pre] = heads.std(dim=-1).mean().item()
    assert abs(scales[True] - 1.0) < 0.05, scales
    assert scales[False] < 0.5, scales


def _previous_label_loss(pre_norm: bool, steps: int, seed: int = 0) -> float:
    """Train the SRWM net to output, at every step, the label fed one step earlier (labels only,
    blank images): the simplest use of a memory. Mean loss over the last 20 steps."""
    torch.manual_seed(seed)
    net = FewShotNet(64, 5, kind="srwm", d_model=64, num_heads=4, srwm_pre_norm=pre_norm)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(seed + 1)
    losses = []
    for _ in range(steps):
        tok = torch.randint(0, 5, (32, 20), generator=gen)
        logits = net(torch.zeros(32, 20, 64), torch.nn.functional.one_hot(tok, 6).float())
        loss = torch.nn.functional.cross_entropy(logits[:, 1:].flatten(0, 1), tok[:, :-1].flatten())
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
    return float(np.mean(losses[-20:]))


def test_the_pre_norm_srwm_leaves_the_plateau_where_the_authors_layout_stays() -> None:
    """Recalling the previous label: the pre-norm SRWM solves it within 130 steps; the authors'
    layout (raw residual stream into Eq. 1) is still at chance, ln 5 = 1.609 (measured: it
    stays there for 300 steps at this learning rate)."""
    assert _previous_label_loss(True, 130) < 0.3
    assert _previous_label_loss(False, 130) > 1.55


def test_shot_accuracy_scores_the_instance_after_k_labelled_ones() -> None:
    correct = np.array([[1, 0, 1, 1, 0, 0]], dtype=bool)
    instance = np.array([[1, 1, 2, 2, 3, 3]])
    assert shot_accuracy(correct, instance, 1).tolist() == [1.0]
    assert shot_accuracy(correct, instance, 2).tolist() == [0.0]
    assert np.isnan(shot_accuracy(correct, instance, 3)).all()
    c = np.zeros((2, 4 + 2 * EDGE), dtype=bool)
    c[:, -EDGE:] = True
    assert switch_edges(c, 4).tolist() == [[0.0, 0.0], [1.0, 1.0]]
    with pytest.raises(RnnaiError, match="switch"):
        switch_edges(c, 6)


def _results(cfg: dict[str, Any], acc: dict[str, float], early: float, late: float) -> dict:
    spec = RunSpec(**cfg["spec"])
    rng = np.random.default_rng(0)
    out = {}
    for kind in KINDS:
        for i in range(cfg["seeds"]):
            shots = {o: {str(K): np.clip(acc[kind] + 0.05 * rng.standard_normal(100), 0, 1)
                         .tolist() for K in range(1, spec.instances)}
                     for o in ("digits->mnist", "mnist->digits")}  # fmt: skip
            edges = {o: [np.clip(early + 0.05 * rng.standard_normal(100), 0, 1).tolist(),
                         np.clip(late + 0.05 * rng.standard_normal(100), 0, 1).tolist()]
                     for o in shots}  # fmt: skip
            for o in shots:
                shots[o][str(spec.instances - 1)][0] = None  # no K + 1-th image of any class
            out[run_key(kind, i)] = {"shots": shots, "edges": edges}
    return out


def test_the_verdict_on_constructed_numbers_reaches_each_outcome() -> None:
    cfg = get_experiment(NAME).config("quick")
    good = srwm_judgement(cfg, _results(cfg, {"srwm": 0.8, "delta": 0.8, "lstm": 0.5}, 0.4, 0.8))
    assert good.verdict == "partial" and all(e.passed for e in good.evidence)
    assert good.evidence[0].n == cfg["seeds"] * 2 * 99  # the None items are left out
    assert any("setup" in r for r in good.reasons)  # never the paper's data sets
    bad = srwm_judgement(cfg, _results(cfg, {"srwm": 0.2, "delta": 0.6, "lstm": 0.5}, 0.5, 0.3))
    assert bad.verdict == "not_reproduced" and not any(e.passed for e in bad.evidence)
    mixed = srwm_judgement(cfg, _results(cfg, {"srwm": 0.6, "delta": 0.8, "lstm": 0.65}, 0.4, 0.7))
    assert mixed.verdict == "partial"
    assert [e.passed for e in mixed.evidence] == [True, False, False, True]


def test_an_interrupted_run_resumes_to_the_same_weights(tmp_path: Path) -> None:
    pools = _tagged_pools(per_class=20)
    spec = RunSpec(instances=3, d_model=16, num_heads=2, batch=4, steps=4, max_trim=1,
                   save_every=2)  # fmt: skip
    ckpt = Checkpointer(tmp_path / "c.safetensors", {"t": 1})
    full = train_run(kind="srwm", spec=spec, pools=pools, seed=0, run="srwm/seed0",
                     hooks=SilentHooks(checkpointer=ckpt))  # fmt: skip
    tensors, state = ckpt.load()  # type: ignore[misc]
    assert state["current"]["run"] == "srwm/seed0"
    resume = unpack_state(state["current"]["state"], tensors)
    assert resume["step"] == 2
    again = train_run(kind="srwm", spec=spec, pools=pools, seed=0, run="srwm/seed0",
                      hooks=SilentHooks(), resume=resume)  # fmt: skip
    for (k, a), b in zip(full.state_dict().items(), again.state_dict().values(), strict=True):
        assert torch.equal(a, b), k
    other = make_net("srwm", spec)
    assert not torch.equal(other.out.weight, full.out.weight)


def test_smoke_run_through_the_cli_writes_a_consistent_result(tmp_path: Path) -> None:
    r = CliRunner().invoke(
        main, ["run", NAME, "--scale", "smoke", "--out", str(tmp_path), "--quiet"]
    )
    assert r.exit_code == 0, r.output
    res = json.loads((tmp_path / NAME / "result.json").read_text())
    assert res["verdict"] in ("partial", "not_reproduced")
    models = res["metrics"]["models"]
    assert set(models) == set(KINDS)
    assert res["headline"]["value"] == models["srwm"]["shot_accuracy"]["2"]
    assert len(res["judgement"]["evidence"]) == 4
    for plot in ("shot_accuracy.png", "switch_accuracy.png"):
        assert plot in res["plots"] and (tmp_path / NAME / plot).stat().st_size > 1000


def test_a_resumed_experiment_redoes_only_the_missing_run_and_matches(tmp_path: Path) -> None:
    from rnnai.experiments.memory_srwm_fewshot import run_all

    cfg = get_experiment(NAME).config("smoke")
    pools = _tagged_pools(per_class=20)
    ckpt = Checkpointer(tmp_path / "c.safetensors", {"t": 2})
    first = run_all(cfg, 0, pools, SilentHooks(checkpointer=ckpt))
    loaded = ckpt.load()
    assert loaded is not None and set(loaded[1]["done"]) == set(first)
    partial = {k: v for k, v in first.items() if k != run_key("lstm", 0)}
    ckpt.save({}, {"done": partial})
    again = run_all(cfg, 0, pools, SilentHooks(checkpointer=ckpt))
    for key in first:
        a = {k: v for k, v in first[key].items() if k != "train_seconds"}
        b = {k: v for k, v in again[key].items() if k != "train_seconds"}
        assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True), key
    # and from inside the run: the state saved at step 2 of 4 by an interrupted run
    mid = Checkpointer(tmp_path / "mid.safetensors", {"t": 3})
    spec = RunSpec(**cfg["spec"])
    hooks = SilentHooks(checkpointer=mid)
    train_run(kind="lstm", spec=spec, pools=pools, seed=0, run=run_key("lstm", 0), hooks=hooks,
              done=partial)  # fmt: skip
    tensors, state = mid.load()  # type: ignore[misc]
    assert state["current"]["run"] == run_key("lstm", 0) and set(state["done"]) == set(partial)
    ckpt.save(tensors, state)
    third = run_all(cfg, 0, pools, SilentHooks(checkpointer=ckpt))
    for key in first:
        assert json.dumps(first[key]["shots"]) == json.dumps(third[key]["shots"]), key
    # the saved state is really used: zeroed weights at step 2 change the outcome
    zeroed = {k: torch.zeros_like(v) if k.startswith("current.net") else v
              for k, v in tensors.items()}  # fmt: skip
    ckpt.save(zeroed, state)
    fourth = run_all(cfg, 0, pools, SilentHooks(checkpointer=ckpt))
    key = run_key("lstm", 0)
    assert json.dumps(fourth[key]["curve"]) != json.dumps(first[key]["curve"])
