"""Tests of rnnai.nn.mpcnn: parameter count, the forward pass against a direct transcription,
gradcheck, distortions, width normalization, the committee, training and kill-resume."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from rnnai.data.images import fit_images, load_digits_images
from rnnai.nn.mpcnn import (
    MNIST_MPCNN,
    MPCNN,
    WIDTHS,
    ColumnTrainConfig,
    Committee,
    DistortionConfig,
    MPCNNConfig,
    distort,
    error_rate,
    normalize_width,
    scaled_tanh,
    train_column,
)
from rnnai.runtime.checkpoint import Checkpointer
from rnnai.runtime.errors import RnnaiError
from rnnai.train.hooks import SilentHooks

TINY = MPCNNConfig(input_size=12, maps=(6,), kernels=(3,), pools=(2,), hidden=(24,))


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.fixture(scope="module")
def digits12():
    d = load_digits_images()
    return fit_images(d.images, size=12), d.labels


def test_mnist_net_has_76040_parameters():
    assert MNIST_MPCNN.name == "1x29x29-20C4-MP2-40C5-MP3-150N-10N"
    assert MNIST_MPCNN.map_sides() == [13, 3]
    net = MPCNN(MNIST_MPCNN)
    n = sum(p.numel() for p in net.parameters())
    assert n == MNIST_MPCNN.parameter_count() == 340 + 20_040 + 54_150 + 1_510 == 76_040


def test_scaled_tanh_constants():
    a = torch.tensor([-1.0, 0.0, 1.0, 50.0], dtype=torch.float64)
    torch.testing.assert_close(scaled_tanh(a), 1.7159 * torch.tanh(2 * a / 3))
    assert abs(float(scaled_tanh(torch.tensor(1.0))) - 1.0) < 1e-3


def ref_forward(net: MPCNN, x: np.ndarray) -> np.ndarray:
    """The net written loop by loop in numpy (valid convolution as cross-correlation)."""
    f = lambda a: 1.7159 * np.tanh(2.0 * a / 3.0)  # noqa: E731
    out = []
    for img in x:  # (C, S, S)
        h = img
        for conv, p in zip(net.convs, net.config.pools, strict=True):
            W, b = conv.weight.detach().numpy(), conv.bias.detach().numpy()
            M, C, k, _ = W.shape
            side = h.shape[1] - k + 1
            a = np.zeros((M, side, side))
            for m in range(M):
                for r in range(side):
                    for c in range(side):
                        a[m, r, c] = np.sum(W[m] * h[:, r : r + k, c : c + k]) + b[m]
            y = f(a)
            s = side // p
            pooled = np.zeros((M, s, s))
            for m in range(M):
                for r in range(s):
                    for c in range(s):
                        pooled[m, r, c] = y[m, r * p : (r + 1) * p, c * p : (c + 1) * p].max()
            h = pooled
        v = h.reshape(-1)
        for i, fc in enumerate(net.fcs):
            v = fc.weight.detach().numpy() @ v + fc.bias.detach().numpy()
            if i < len(net.fcs) - 1:
                v = f(v)
        out.append(v)
    return np.stack(out)


def test_forward_matches_transcription():
    cfg = MPCNNConfig(input_size=9, maps=(3, 4), kernels=(2, 3), pools=(2, 1), hidden=(5,),
                      classes=3, init_range=0.5)  # fmt: skip
    net = MPCNN(cfg, generator=gen(1)).double()
    x = torch.randn(2, 1, 9, 9, dtype=torch.float64, generator=gen(2))
    np.testing.assert_allclose(net(x).detach().numpy(), ref_forward(net, x.numpy()), atol=1e-12)


def test_gradcheck():
    cfg = MPCNNConfig(input_size=6, maps=(2,), kernels=(3,), pools=(2,), hidden=(3,), classes=2,
                      init_range=0.5)  # fmt: skip
    net = MPCNN(cfg, generator=gen(3)).double()
    x = torch.randn(2, 1, 6, 6, dtype=torch.float64, generator=gen(4), requires_grad=True)
    assert torch.autograd.gradcheck(net, (x,))


def test_init_is_uniform_in_range_and_deterministic():
    a, b = MPCNN(generator=gen(5)), MPCNN(generator=gen(5))
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(p, q) and float(p.detach().abs().max()) <= 0.05


def test_bad_configs_and_inputs_raise():
    with pytest.raises(RnnaiError, match="divide"):
        MPCNNConfig(input_size=28)  # 25 -> pool 2 does not divide
    with pytest.raises(RnnaiError, match="equal lengths"):
        MPCNNConfig(maps=(20,))
    with pytest.raises(RnnaiError, match="shape"):
        MPCNN()(torch.zeros(2, 1, 28, 28))
    with pytest.raises(RnnaiError, match="sigma"):
        DistortionConfig(sigma=0.0)
    with pytest.raises(RnnaiError, match="width"):
        normalize_width(np.zeros((1, 29, 29)), 30)
    with pytest.raises(RnnaiError, match="one width per column"):
        Committee([MPCNN(TINY)], widths=[None, 10])


def test_distortion_is_deterministic_per_generator_and_moves_pixels():
    x = fit_images(load_digits_images().images[:20], size=29, box=20)
    cfg = DistortionConfig()
    a = distort(x, cfg, np.random.default_rng(7))
    b = distort(x, cfg, np.random.default_rng(7))
    c = distort(x, cfg, np.random.default_rng(8))
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert np.abs(a - x).mean() > 0.01


def test_distortion_identity_and_rough_mass_preservation():
    x = fit_images(load_digits_images().images[:50], size=29, box=20)
    ident = DistortionConfig(alpha=0.0, max_rotation=0.0, max_scaling=0.0)
    assert np.array_equal(distort(x, ident, np.random.default_rng(0)), x)
    elastic = DistortionConfig(alpha=36.0, sigma=6.0, max_rotation=0.0, max_scaling=0.0)
    ratio = distort(x, elastic, np.random.default_rng(1)).sum(axis=(1, 2)) / x.sum(axis=(1, 2))
    assert abs(ratio.mean() - 1) < 0.05 and np.all(np.abs(ratio - 1) < 0.3)


@pytest.mark.parametrize("width", [w for w in WIDTHS if w is not None])
def test_width_normalization_hits_the_target_width(width):
    x = fit_images(load_digits_images().images[:40], size=29, box=20)
    out = normalize_width(x, width)
    cols = (out > 0).any(axis=1)  # (N, W)
    widths = cols.sum(axis=1)
    first = cols.argmax(axis=1)
    assert np.all(widths == width)
    assert np.all(cols[np.arange(40)[:, None], first[:, None] + np.arange(width)])
    # rows are not resampled: empty rows stay empty
    assert np.array_equal((out > 0).any(axis=2), (x > 0).any(axis=2))


def test_width_none_is_the_original():
    x = np.random.default_rng(0).random((3, 29, 29)).astype(np.float32)
    assert np.array_equal(normalize_width(x, None), x)


def test_committee_averages_column_probabilities(digits12):
    x, _ = digits12
    cols = [MPCNN(TINY, generator=gen(i)) for i in range(3)]
    widths = [None, 8, 10]
    committee = Committee(cols, widths)
    p = committee.predict_proba(x[:16])
    want = torch.stack([
        torch.softmax(c(torch.from_numpy(normalize_width(x[:16], w)).unsqueeze(1)), dim=1)
        for c, w in zip(cols, widths, strict=True)
    ]).mean(dim=0)  # fmt: skip
    torch.testing.assert_close(p, want)
    torch.testing.assert_close(p.sum(dim=1), torch.ones(16))


def test_learning_rate_schedule():
    cfg = ColumnTrainConfig(lr=0.001, lr_decay=0.95, min_lr=0.0005)
    assert cfg.learning_rate(0) == 0.001
    assert math.isclose(cfg.learning_rate(3), 0.001 * 0.95**3)
    assert cfg.learning_rate(100) == 0.0005


def test_tiny_training_run_improves_accuracy(digits12):
    x, y = digits12
    before = error_rate(MPCNN(TINY, generator=gen(0)), x[1000:1400], y[1000:1400])
    cfg = ColumnTrainConfig(epochs=3, lr=0.05, lr_decay=0.9, batch=1,
                            distortion=DistortionConfig(alpha=8.0, sigma=3.0, max_rotation=5.0,
                                                        max_scaling=0.05))  # fmt: skip
    run = train_column(x[:600], y[:600], config=cfg, net_config=TINY,
                       valid=(x[1000:1400], y[1000:1400]), seed=0)  # fmt: skip
    assert before > 0.7
    assert run.valid_error < 0.35
    assert [r["epoch"] for r in run.curve] == [1, 2, 3]
    assert run.curve[1]["lr"] == pytest.approx(0.045)


class Killed(Exception):
    pass


class KillAfter:
    """A checkpointer that dies right after its n-th save."""

    def __init__(self, inner: Checkpointer, n: int) -> None:
        self.inner, self.n = inner, n

    def save(self, tensors, state):
        self.inner.save(tensors, state)
        self.n -= 1
        if self.n == 0:
            raise Killed

    def load(self):
        return self.inner.load()


def test_kill_and_resume_gives_the_same_result(tmp_path, digits12):
    x, y = digits12
    cfg = ColumnTrainConfig(epochs=3, lr=0.02, batch=8, distortion=DistortionConfig(alpha=8.0,
                            sigma=3.0))  # fmt: skip
    kw = dict(config=cfg, net_config=TINY, valid=(x[500:600], y[500:600]), seed=1, label="c0")
    whole = train_column(x[:200], y[:200], **kw)
    path = tmp_path / "ckpt.safetensors"
    with pytest.raises(Killed):
        train_column(x[:200], y[:200], hooks=SilentHooks(KillAfter(Checkpointer(path, {}), 2)),
                     **kw)  # fmt: skip
    resumed = train_column(x[:200], y[:200], hooks=SilentHooks(Checkpointer(path, {})), **kw)
    assert resumed.curve == whole.curve
    for p, q in zip(whole.net.parameters(), resumed.net.parameters(), strict=True):
        assert torch.equal(p, q)
    # a finished column comes back from the checkpoint without training
    again = train_column(x[:200], y[:200], hooks=SilentHooks(Checkpointer(path, {})), **kw)
    assert again.curve == whole.curve
    with pytest.raises(RnnaiError, match="another config"):
        train_column(x[:200], y[:200], hooks=SilentHooks(Checkpointer(path, {})),
                     **{**kw, "seed": 2})  # fmt: skip


def test_training_rejects_bad_data():
    with pytest.raises(RnnaiError, match="images must be"):
        train_column(np.zeros((3, 28, 28)), np.zeros(3, dtype=np.int64))
    with pytest.raises(RnnaiError, match="labels must be"):
        train_column(np.zeros((3, 12, 12)), np.array([0, 1, 10]), net_config=TINY)


def test_the_circulating_171940_count_assumes_5x5_final_maps():
    # the count quoted for this net takes the maps after MP3 as 5 x 5; they are 3 x 3
    assert MNIST_MPCNN.map_sides()[-1] == 3
    misread = 1 * 20 * 4 * 4 + 20 + 20 * 40 * 5 * 5 + 40 + 5 * 5 * 40 * 150 + 150 + 150 * 10 + 10
    assert misread == 172_040
    assert misread - MNIST_MPCNN.parameter_count() == (25 - 9) * 40 * 150
