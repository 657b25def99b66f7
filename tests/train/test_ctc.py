"""rnnai.train.ctc: the network, batching, training with exact resume, evaluation, plots."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from rnnai.data.sequences import LabelledSequences
from rnnai.runtime.checkpoint import Checkpointer
from rnnai.runtime.errors import RnnaiError
from rnnai.runtime.testing import Killed, KillingCheckpointer
from rnnai.train.ctc import (
    CTCDataError,
    CTCModel,
    CTCNet,
    CTCNetConfig,
    CTCTrainConfig,
    Normalizer,
    Posteriors,
    TrainedCTC,
    check_ctc_data,
    count_params,
    length_batches,
    matched_unidirectional,
    posteriors,
    spike_alignment,
    spikes,
    train_ctc,
    train_ctc_model,
    valid_ler,
)
from rnnai.train.ctc_plots import plot_alignment, plot_learning_curves
from rnnai.train.hooks import SilentHooks

ALPHABET = ("<blank>", "a", "b", "c")
NET = CTCNetConfig(hidden=8, layers=1, bidirectional=True)
TRAIN = CTCTrainConfig(epochs=3, batch=8, lr=0.02)


def synthetic(n: int, seed: int) -> LabelledSequences:
    """Label k shows as 2-4 frames with feature k raised; noise frames between labels."""
    rng = np.random.default_rng(seed)
    feats, labels, texts = [], [], []
    for _ in range(n):
        z = rng.integers(1, len(ALPHABET), size=rng.integers(2, 5))
        frames = [rng.normal(0, 0.3, (rng.integers(1, 3), 5))]
        for k in z:
            seg = rng.normal(0, 0.3, (rng.integers(2, 5), 5))
            seg[:, k] += 2.0
            frames += [seg, rng.normal(0, 0.3, (rng.integers(1, 3), 5))]
        feats.append(np.concatenate(frames).astype(np.float32))
        labels.append(z.astype(np.int64))
        texts.append("".join(ALPHABET[k] for k in z))
    return LabelledSequences(feats, labels, texts, ALPHABET, None, {"kind": "synthetic"})


FP = {"experiment": "ctc.test", "scale": "smoke", "seed": 5}


def _hooks(tmp: Path, checkpointer: Checkpointer | None = None) -> SilentHooks:
    """Hooks that checkpoint into ``tmp`` (a fresh process would build the same)."""
    return SilentHooks(
        checkpointer=checkpointer or Checkpointer(tmp / "checkpoint.safetensors", FP)
    )


def _train_two(hooks: SilentHooks, seed: int = 5) -> list[TrainedCTC]:
    """Two networks in one run, as ctc.spoken_digits trains BLSTM and LSTM."""
    train, valid = synthetic(24, 0), synthetic(8, 1)
    uni = CTCNetConfig(hidden=8, layers=1, bidirectional=False)
    noisy = CTCTrainConfig(epochs=2, batch=8, lr=0.02, input_noise=0.3)
    return [
        train_ctc(train, valid, NET, TRAIN, seed=seed, label="blstm", hooks=hooks),
        train_ctc(train, valid, uni, noisy, seed=seed, label="lstm", hooks=hooks),
    ]


def test_net_outputs_log_probabilities_of_the_stacked_length() -> None:
    net = CTCNet(5, 4, CTCNetConfig(hidden=4, layers=2, stack=2), torch.Generator().manual_seed(0))
    logp, out_len = net(torch.randn(3, 7, 5), torch.tensor([7, 5, 2]))
    assert logp.shape == (3, 4, 4)
    assert out_len.tolist() == [4, 3, 1]
    assert torch.allclose(logp.exp().sum(-1), torch.ones(3, 4), atol=1e-5)


def test_net_weights_come_from_the_generator_within_init_range() -> None:
    cfg = CTCNetConfig(hidden=4, layers=1, projection=3, init_range=0.05)
    a = CTCNet(5, 4, cfg, torch.Generator().manual_seed(1))
    b = CTCNet(5, 4, cfg, torch.Generator().manual_seed(1))
    c = CTCNet(5, 4, cfg, torch.Generator().manual_seed(2))
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not all(torch.equal(sa[k], sc[k]) for k in sa)
    assert max(float(p.detach().abs().max()) for p in a.parameters()) <= 0.05


def test_unidirectional_net_is_causal() -> None:
    net = CTCNet(5, 4, CTCNetConfig(hidden=4, bidirectional=False), torch.Generator())
    x = torch.randn(1, 6, 5)
    x2 = x.clone()
    x2[0, 5] += 1.0  # changes only the last frame
    with torch.no_grad():
        y1, _ = net(x)
        y2, _ = net(x2)
    assert torch.allclose(y1[0, :5], y2[0, :5]) and not torch.allclose(y1[0, 5], y2[0, 5])


def test_bad_configs_and_inputs_are_rejected_with_a_named_reason() -> None:
    with pytest.raises(RnnaiError, match="variant"):
        CTCNetConfig(variant="nonsense")
    with pytest.raises(RnnaiError, match="hidden"):
        CTCNetConfig(hidden=0)
    with pytest.raises(RnnaiError, match="lr"):
        CTCTrainConfig(lr=0.0)
    with pytest.raises(TypeError):
        CTCTrainConfig(20)  # type: ignore[misc]  # keyword-only
    net = CTCNet(5, 4, NET, torch.Generator())
    with pytest.raises(RnnaiError, match=r"\(N, L, 5\)"):
        net(torch.zeros(2, 3, 6))
    with pytest.raises(RnnaiError, match="n_classes"):
        CTCNet(5, 1, NET, torch.Generator())


def test_utterance_too_short_for_its_labelling_is_named() -> None:
    data = synthetic(3, 0)
    short = LabelledSequences(
        [*data.features[:2], np.zeros((2, 5), np.float32)],
        [*data.labels[:2], np.array([1, 1], np.int64)],  # a repeat needs a blank between: 3 frames
        data.texts,
        ALPHABET,
        None,
        {},
    )
    with pytest.raises(CTCDataError, match=r"data\[2\].*3 frames needed"):
        check_ctc_data(short)
    check_ctc_data(data)
    with pytest.raises(CTCDataError, match="output frames"):
        check_ctc_data(data, stack=100)


def test_length_batches_cover_every_utterance_once_in_similar_lengths() -> None:
    lengths = list(range(100, 0, -1))
    batches = length_batches(lengths, 10, np.random.default_rng(0), jitter=0.0)
    assert sorted(np.concatenate(batches).tolist()) == list(range(100))
    spans = [np.ptp([lengths[i] for i in b]) for b in batches]
    assert max(spans) == 9  # sorted by length: each batch holds 10 neighbours


def test_normalizer_gives_zero_mean_unit_variance_on_training_frames() -> None:
    data = synthetic(20, 0)
    norm = Normalizer.fit(data.features)
    z = np.concatenate([norm(x) for x in data.features])
    assert np.allclose(z.mean(0), 0, atol=1e-5) and np.allclose(z.std(0), 1, atol=1e-4)


def test_training_lowers_the_validation_error(tmp_path: Path) -> None:
    train, valid = synthetic(48, 0), synthetic(16, 1)
    cfg = CTCTrainConfig(epochs=8, batch=8, lr=0.03)
    model = train_ctc(train, valid, NET, cfg, seed=5)
    curve = np.asarray(model.curve)
    assert curve.shape == (8, 4)
    assert curve[-1, 1] < 0.5 * curve[0, 1]  # training loss falls
    assert model.best_valid_ler < 0.5  # from 1.0 (all blanks) at the start
    assert model.best_valid_ler == curve[:, 3].min()
    assert model.best_epoch == int(curve[np.argmin(curve[:, 3]), 0])


def test_posteriors_are_padded_and_in_data_order(tmp_path: Path) -> None:
    data = synthetic(10, 3)
    net = CTCNet(5, 4, NET, torch.Generator().manual_seed(0))
    post = posteriors(net, data, Normalizer.fit(data.features), batch=3)
    assert post.lengths.tolist() == [len(x) for x in data.features]
    for i in range(10):
        logp = post.utterance(i)
        assert np.allclose(np.exp(logp).sum(-1), 1.0, atol=1e-4)
        with torch.no_grad():
            x = torch.from_numpy(Normalizer.fit(data.features)(data.features[i]))[None]
            direct, _ = net(x)
        assert np.allclose(logp, direct[0].numpy(), atol=1e-5)
        assert not post.log_probs[i, post.lengths[i] :].any()
    assert post.loss > 0


def test_spikes_are_the_first_frames_of_non_blank_runs() -> None:
    path = [0, 2, 2, 0, 2, 1, 1, 0]
    logp = np.log(np.full((8, 3), 0.1))
    logp[np.arange(8), path] = np.log(0.8)
    assert spikes(logp) == [(1, 2), (4, 2), (5, 1)]


@pytest.mark.parametrize("kill_after", [1, 3, 5])
def test_killed_training_resumes_to_identical_results(tmp_path: Path, kill_after: int) -> None:
    reference = _train_two(_hooks(tmp_path / "ref"))
    run_dir = tmp_path / "run"
    killer = KillingCheckpointer(run_dir / "checkpoint.safetensors", FP, kill_after)
    with pytest.raises(Killed):
        _train_two(_hooks(run_dir, killer))
    resumed = _train_two(_hooks(run_dir))
    for ref, got in zip(reference, resumed, strict=True):
        assert got.curve == ref.curve and got.best_epoch == ref.best_epoch
        a, b = ref.net.state_dict(), got.net.state_dict()
        assert all(torch.equal(a[k], b[k]) for k in a)


def test_same_seed_same_curve_other_seed_differs(tmp_path: Path) -> None:
    train, valid = synthetic(16, 0), synthetic(8, 1)
    a = train_ctc(train, valid, NET, TRAIN, seed=5, label="x")
    b = train_ctc(train, valid, NET, TRAIN, seed=5, label="x", hooks=_hooks(tmp_path / "b"))
    c = train_ctc(train, valid, NET, TRAIN, seed=6, label="x")
    d = train_ctc(train, valid, NET, TRAIN, seed=5, label="x", seed_keys=("other",))
    assert a.curve == b.curve and a.curve != c.curve and a.curve != d.curve


def test_a_run_context_drives_training_like_seed_keys_of_its_name(tmp_path: Path) -> None:
    """The runner's context is a `Hooks`; its streams are the seed's under the run's name."""
    from rnnai.experiments.base import RunContext

    train, valid = synthetic(16, 0), synthetic(8, 1)
    ctx = RunContext(name="ctc.test", scale="smoke", seed=5, out_dir=tmp_path, config={})
    via_ctx = train_ctc(train, valid, NET, TRAIN, seed=ctx.seed, hooks=ctx, seed_keys=(ctx.name,))
    assert (tmp_path / "checkpoint.safetensors").is_file()
    plain = train_ctc(train, valid, NET, TRAIN, seed=5, seed_keys=("ctc.test",))
    assert via_ctx.curve == plain.curve


def test_training_logs_its_result_and_shows_progress(tmp_path: Path) -> None:
    class Recording(SilentHooks):
        def __init__(self) -> None:
            super().__init__()
            self.lines: list[str] = []
            self.bars: list[tuple[object, str]] = []

        def log(self, message: str) -> None:
            self.lines.append(message)

        def progress(self, total, description):  # type: ignore[no-untyped-def]
            self.bars.append((total, description))
            return super().progress(total, description)

    hooks = Recording()
    train_ctc(synthetic(16, 0), synthetic(8, 1), NET, TRAIN, seed=5, label="mine", hooks=hooks)
    assert (
        hooks.lines[-1].startswith(f"mine: {NET.describe}")
        and "best validation LER" in (hooks.lines[-1])
    )
    (total, description), *_ = hooks.bars
    assert total == TRAIN.epochs * 16 and description.startswith("mine")  # utterances


def test_mismatched_alphabets_are_rejected() -> None:
    train, valid = synthetic(8, 0), synthetic(4, 1)
    other = LabelledSequences(
        valid.features, valid.labels, valid.texts, ("<blank>", "x", "y", "z"), None, {}
    )
    with pytest.raises(CTCDataError, match="alphabets"):
        train_ctc(train, other, NET, TRAIN, seed=0)


def test_valid_ler_is_the_best_path_label_error_rate() -> None:
    data = synthetic(2, 0)
    paths = np.zeros((2, 12), int)
    for i, z in enumerate(data.labels):
        paths[i, 1 : 2 * len(z) : 2] = z  # label, blank, label, ...
    logp = np.log(np.where(np.eye(4)[paths] > 0, 0.97, 0.01))  # (2, 12, C), rows sum to 1
    post = Posteriors(logp, np.array([12, 12]), 0.0)
    assert valid_ler(post, data) == 0.0
    paths[0] = 0  # utterance 0 now decodes to nothing
    post = Posteriors(np.log(np.where(np.eye(4)[paths] > 0, 0.97, 0.01)), post.lengths, 0.0)
    assert valid_ler(post, data) == len(data.labels[0]) / sum(len(z) for z in data.labels)


def test_plots_are_written(tmp_path: Path) -> None:
    train, valid = synthetic(16, 0), synthetic(8, 1)
    model = train_ctc(train, valid, NET, TRAIN, seed=5)
    name = plot_learning_curves([model], tmp_path / "curve.png", "test", paper=0.3)
    assert name == "curve.png" and (tmp_path / name).stat().st_size > 1000
    post = posteriors(model.net, valid, model.norm)
    name = plot_alignment(
        valid.features[0],
        post.utterance(0),
        ALPHABET,
        tmp_path / "align.png",
        "test",
        reference=valid.texts[0],
        decoded="ab",
        spans=[("a", 0, 3)],
    )
    assert (tmp_path / name).stat().st_size > 1000


@pytest.mark.parametrize("variant", ["torch", "vanilla", "lstm1997", "fgr", "cifg"])
def test_count_params_matches_the_built_network(variant: str) -> None:
    for cfg in (
        CTCNetConfig(hidden=5, layers=2, variant=variant),
        CTCNetConfig(hidden=7, layers=3, stack=2, projection=4, variant=variant),
        CTCNetConfig(hidden=3, bidirectional=False, variant=variant),
    ):
        assert count_params(cfg, 13, 9) == CTCNet(13, 9, cfg, torch.Generator()).n_params


def test_matched_unidirectional_net_has_about_the_same_weights() -> None:
    bi = CTCNetConfig(hidden=48, layers=2, stack=3)
    uni = matched_unidirectional(bi, 80, 12)
    assert not uni.bidirectional and uni.layers == 2 and uni.hidden > bi.hidden
    a, b = count_params(bi, 80, 12), count_params(uni, 80, 12)
    assert abs(a - b) < 0.01 * a


def test_spike_alignment_counts_spikes_inside_their_word_segment() -> None:
    data = LabelledSequences(
        [np.zeros((8, 5), np.float32), np.zeros((8, 5), np.float32)],
        [np.array([1, 2], np.int64), np.array([3], np.int64)],
        ["a b", "c"],
        ALPHABET,
        None,
        {},
    )
    logp = np.log(np.full((2, 4, 4), 0.02))
    logp[:, :, 0] = np.log(0.94)
    logp[0, 0, 1] = logp[0, 3, 2] = np.log(0.94)  # spikes at output frames 0 and 3
    logp[0, 0, 0] = logp[0, 3, 0] = np.log(0.02)
    logp[1, 1, 2] = np.log(0.94)  # utterance 1 decodes wrongly ("b" for "c"): not judged
    logp[1, 1, 0] = np.log(0.02)
    post = Posteriors(logp, np.array([4, 4]), 0.0)
    spans = [[("a", 0, 2), ("b", 2, 5)], [("c", 0, 8)]]
    # stack 2: output frame 3 covers input frames 6-7, outside "b" = [2, 5)
    assert spike_alignment(post, data, spans, stack=2) == (0.5, 2)
    assert spike_alignment(post, data, [[("a", 0, 2), ("b", 2, 8)], [("c", 0, 8)]], 2) == (1.0, 2)


def test_momentum_sgd_is_the_2006_optimizer_option() -> None:
    train, valid = synthetic(16, 0), synthetic(8, 1)
    sgd = CTCTrainConfig(epochs=2, batch=8, lr=0.05, optimizer="sgd", momentum=0.9)
    assert sgd.describe.startswith("SGD lr 0.05 momentum 0.9")
    a = train_ctc(train, valid, NET, sgd, seed=5)
    b = train_ctc(train, valid, NET, CTCTrainConfig(epochs=2, batch=8, lr=0.05), seed=5)
    assert len(a.curve) == 2 and a.curve != b.curve
    with pytest.raises(RnnaiError, match="momentum"):
        CTCTrainConfig(momentum=0.9)  # Adam has none
    with pytest.raises(RnnaiError, match="optimizer"):
        CTCTrainConfig(optimizer="rmsprop")  # type: ignore[arg-type]


class _FrameNet(torch.nn.Module):
    """A CTC net that is not a CTCNet: one linear layer per frame, then log-softmax."""

    def __init__(self, n_in: int, n_classes: int, generator: torch.Generator) -> None:
        super().__init__()
        self.n_classes = n_classes
        self.layer = torch.nn.Linear(n_in, n_classes)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.rand(p.shape, generator=generator) * 0.2 - 0.1)

    stride = 1
    describe = "frame-wise linear"

    @property
    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def forward(
        self, x: torch.Tensor, lengths: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if lengths is None:
            lengths = torch.full((x.shape[0],), x.shape[1], dtype=torch.long)
        return torch.log_softmax(self.layer(x), dim=-1), lengths


def test_train_ctc_model_trains_any_ctc_model_and_train_ctc_is_it_for_ctcnet() -> None:
    train, valid = synthetic(32, 0), synthetic(8, 1)
    cfg = CTCTrainConfig(epochs=6, batch=8, lr=0.05)
    model = train_ctc_model(train, valid, lambda g: _FrameNet(5, 4, g), cfg, stride=1, seed=2)
    assert isinstance(model.net, CTCModel) and isinstance(model.net, _FrameNet)
    curve = np.asarray(model.curve)
    assert curve[-1, 1] < curve[0, 1] and model.best_valid_ler < 1.0
    assert model.summary()["net"] == "frame-wise linear"
    # train_ctc is train_ctc_model with a CTCNet factory: the same seed gives the same curve
    a = train_ctc(train, valid, NET, TRAIN, seed=3, label="x")
    b = train_ctc_model(
        train, valid, lambda g: CTCNet(5, 4, NET, g), TRAIN, stride=1, seed=3, label="x"
    )
    assert a.curve == b.curve
    with pytest.raises(RnnaiError, match="stride 1, expected 2"):
        train_ctc_model(train, valid, lambda g: _FrameNet(5, 4, g), cfg, stride=2, seed=2)
