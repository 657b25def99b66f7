"""rnnai.agents.fovea: the retina vs a direct transcription, C and M, rollout, RAM, training."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnai.agents.fovea import (
    RAM,
    FoveaController,
    FoveaModel,
    FoveaNetConfig,
    RAMConfig,
    RAMOutput,
    default_init_,
    glimpse,
    model_rollout,
    ram_loss,
    saccade,
    train_steps,
    uniform_init_,
)
from rnnai.runtime.checkpoint import Checkpointer
from rnnai.runtime.errors import RnnaiError
from rnnai.train.hooks import SilentHooks


def _direct_glimpse(img: np.ndarray, cx: int, cy: int, size: int, scales: int) -> np.ndarray:
    """Crop (size 2^k)^2 pixels centred between pixels (cx, cy) with zeros outside, block-mean."""
    H, W = img.shape
    out = np.zeros((scales, size, size))
    for k in range(scales):
        s, f = size * 2**k, 2**k
        for i in range(size):
            for j in range(size):
                total = 0.0
                for a in range(f):
                    for b in range(f):
                        r = cy - s // 2 + i * f + a
                        c = cx - s // 2 + j * f + b
                        total += img[r, c] if 0 <= r < H and 0 <= c < W else 0.0
                out[k, i, j] = total / f**2
    return out


def test_glimpse_equals_a_direct_crop_and_block_mean_at_pixel_aligned_centres() -> None:
    rng = np.random.default_rng(0)
    img = rng.random((2, 12, 10))
    centres = [(3, 4), (9, 11)]  # (x, y) pixel corners; the second lets patches leave the image
    loc = torch.tensor(
        [[2 * cx / 10 - 1, 2 * cy / 12 - 1] for cx, cy in centres], dtype=torch.float64
    )
    got = glimpse(torch.from_numpy(img), loc, size=2, scales=3).numpy()
    for n, (cx, cy) in enumerate(centres):
        np.testing.assert_allclose(
            got[n], _direct_glimpse(img[n], cx, cy, 2, 3), rtol=0, atol=1e-10
        )


def test_glimpse_is_differentiable_in_the_image_and_rejects_bad_shapes() -> None:
    img = torch.rand(1, 6, 6, dtype=torch.float64, requires_grad=True)
    loc = torch.tensor([[0.1, -0.2]], dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda x: glimpse(x, loc, size=2, scales=2), (img,))
    with pytest.raises(RnnaiError, match="loc"):
        glimpse(img, torch.zeros(2, 2), size=2, scales=1)
    with pytest.raises(RnnaiError, match="size"):
        glimpse(img, loc, size=0, scales=1)


def test_saccade_sums_the_four_muscles() -> None:
    o = torch.tensor([[1.0, 0.0, 0.0, 1.0], [0.25, 0.75, 0.5, 0.5]])
    assert saccade(o, max_step=20.0).tolist() == [[20.0, -20.0], [-10.0, 0.0]]
    with pytest.raises(RnnaiError, match="N, 4"):
        saccade(torch.zeros(2, 3), max_step=1.0)


def test_controller_and_model_are_logistic_nets_with_uniform_initial_weights() -> None:
    cfg = FoveaNetConfig(size=2, scales=2, model_hidden=5, controller_hidden=3, init=0.1)
    gen = torch.Generator().manual_seed(0)
    M, C = FoveaModel(cfg, generator=gen), FoveaController(cfg, generator=gen)
    for p in list(M.parameters()) + list(C.parameters()):
        assert float(p.detach().abs().max()) <= 0.1
    x = torch.rand(4, cfg.inputs, dtype=torch.float64)
    M.double()
    C.double()
    o = C(x)
    h = torch.sigmoid(x @ C.hidden.weight.T + C.hidden.bias)  # direct transcription
    torch.testing.assert_close(
        o, torch.sigmoid(h @ C.out.weight.T + C.out.bias), rtol=0, atol=1e-12
    )
    xo = torch.cat([x, o], 1)
    hm = torch.sigmoid(xo @ M.hidden.weight.T + M.hidden.bias)
    torch.testing.assert_close(M(x, o), torch.sigmoid(hm @ M.out.weight.T + M.out.bias),
                               rtol=0, atol=1e-12)  # fmt: skip
    assert torch.autograd.gradcheck(
        lambda a, b: M(a, b), (x.requires_grad_(), o.detach().requires_grad_())
    )


def test_model_rollout_keeps_real_inputs_and_backpropagates_through_the_model() -> None:
    cfg = FoveaNetConfig(size=2, scales=2, model_hidden=6, controller_hidden=4, max_step=2.0)
    gen = torch.Generator().manual_seed(1)
    M, C = FoveaModel(cfg, generator=gen).double(), FoveaController(cfg, generator=gen).double()
    scene = torch.rand(3, 16, 16, dtype=torch.float64)

    def sense(p: torch.Tensor) -> torch.Tensor:
        return glimpse(scene, p / 8 - 1, size=2, scales=2).flatten(1)

    start = torch.full((3, 2), 8.0, dtype=torch.float64)
    xs, ps = model_rollout(sense, start, C, M, steps=3, max_step=2.0, bounds=(0.0, 16.0))
    real, ps2 = model_rollout(sense, start, C, None, steps=3, max_step=2.0, bounds=(0.0, 16.0))
    torch.testing.assert_close(xs, real, rtol=0, atol=1e-12)  # the values are the real inputs
    torch.testing.assert_close(ps, ps2)
    loss = (xs[:, -1] ** 2).sum()
    loss.backward()
    assert all(p.grad is not None and float(p.grad.abs().sum()) > 0 for p in C.parameters())
    # the gradient is the chain rule through M: one step, checked against autograd on M directly
    C.zero_grad()
    xs1, _ = model_rollout(sense, start, C, M, steps=1, max_step=2.0, bounds=(0.0, 16.0))
    xs1[:, -1].sum().backward()
    g_rollout = C.out.weight.grad.clone()
    C.zero_grad()
    M(sense(start), C(sense(start))).sum().backward()
    torch.testing.assert_close(g_rollout, C.out.weight.grad, rtol=0, atol=1e-12)


def _tiny_ram(**kw: float) -> RAM:
    cfg = RAMConfig(
        glimpses=3, size=4, scales=2, hidden_g=6, hidden_l=5, glimpse_out=7, core=8, **kw
    )  # type: ignore[arg-type]
    return RAM(cfg, generator=torch.Generator().manual_seed(0))


def test_ram_core_equations_match_a_direct_transcription() -> None:
    ram = _tiny_ram().double()
    x = torch.rand(2, 16, 16, dtype=torch.float64)
    start = torch.tensor([[0.2, -0.3], [-0.5, 0.5]], dtype=torch.float64)
    out = ram(x, sample=False, start=start)
    h = torch.zeros(2, 8, dtype=torch.float64)
    l = start
    relu = torch.relu
    for t in range(3):
        rho = glimpse(x, l, size=4, scales=2).flatten(1)
        g = relu(ram.fc_gg(relu(ram.fc_g(rho))) + ram.fc_gl(relu(ram.fc_l(l))))
        h = relu(
            h @ ram.core_h.weight.T + ram.core_h.bias + g @ ram.core_g.weight.T + ram.core_g.bias
        )
        torch.testing.assert_close(out.locations[:, t], l, rtol=0, atol=1e-12)
        l = torch.tanh(h @ ram.loc.weight.T + ram.loc.bias)  # mean location at test time
    torch.testing.assert_close(
        out.logits, h @ ram.action.weight.T + ram.action.bias, rtol=0, atol=1e-12
    )


def test_ram_log_probs_are_gaussian_and_the_hybrid_loss_has_its_three_terms() -> None:
    ram = _tiny_ram(std=0.3).double()
    x = torch.rand(5, 16, 16, dtype=torch.float64)
    out = ram(x, generator=torch.Generator().manual_seed(2))
    assert out.log_probs.shape == out.baselines.shape == (5, 2)
    labels = torch.tensor([0, 1, 2, 3, 4])
    loss, parts = ram_loss(out, labels)
    assert set(parts) == {"ce", "reinforce", "baseline", "reward"}
    R = (out.logits.argmax(1) == labels).double()
    expected_reinforce = -((R[:, None] - out.baselines).detach() * out.log_probs).sum(1).mean()
    assert parts["reinforce"] == pytest.approx(float(expected_reinforce.detach()), abs=1e-12)
    total = (
        torch.nn.functional.cross_entropy(out.logits, labels)
        + expected_reinforce
        + ((out.baselines - R[:, None]) ** 2).mean()
    )
    assert float(loss.detach()) == pytest.approx(float(total.detach()), abs=1e-12)
    loss.backward()
    assert float(ram.loc.weight.grad.abs().sum()) > 0  # REINFORCE reaches the location net
    assert float(ram.baseline.weight.grad.abs().sum()) > 0


def test_ram_with_one_glimpse_has_no_location_decisions() -> None:
    ram = RAM(
        RAMConfig(glimpses=1, size=4, scales=1, hidden_g=4, hidden_l=4, glimpse_out=4, core=4)
    )
    out = ram(torch.rand(2, 8, 8), generator=torch.Generator().manual_seed(0))
    assert isinstance(out, RAMOutput) and out.log_probs.shape == (2, 0)
    loss, _ = ram_loss(out, torch.tensor([1, 2]))
    assert torch.isfinite(loss)
    with pytest.raises(RnnaiError, match="glimpse"):
        RAMConfig(glimpses=0)


def test_inits_draw_from_the_generator_within_their_bounds() -> None:
    net = torch.nn.Sequential(torch.nn.Linear(9, 4), torch.nn.Conv2d(1, 2, 3))
    default_init_(net, torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert float(net[0].weight.abs().max()) <= 1 / 3
        assert float(net[1].bias.abs().max()) <= 1 / 3
    a = torch.nn.Linear(3, 3)
    b = torch.nn.Linear(3, 3)
    uniform_init_(a, 0.05, torch.Generator().manual_seed(1))
    uniform_init_(b, 0.05, torch.Generator().manual_seed(1))
    assert torch.equal(a.weight, b.weight) and float(a.weight.detach().abs().max()) <= 0.05


def _fit(
    hooks: SilentHooks, steps: int, die_at: int | None = None
) -> tuple[torch.nn.Linear, list[tuple[int, float]]]:
    net = torch.nn.Linear(2, 1)
    default_init_(net, torch.Generator().manual_seed(0))

    def loss(step: int, gen: torch.Generator) -> torch.Tensor:
        if step == die_at:
            raise KeyboardInterrupt
        x = torch.randn(8, 2, generator=gen)
        return ((net(x)[:, 0] - x.sum(1)) ** 2).mean()

    run = train_steps([net], loss, steps=steps, lr=0.05, seed=3, label="fit", hooks=hooks,
                      save_every=10, log_every=5)  # fmt: skip
    return net, run.curve


def test_train_steps_lowers_the_loss_and_resumes_exactly(tmp_path) -> None:  # type: ignore[no-untyped-def]
    full, curve = _fit(SilentHooks(), 40)
    assert curve[-1][1] < curve[0][1] / 10
    ckpt = Checkpointer(tmp_path / "c.safetensors", {"run": "t"})
    with pytest.raises(KeyboardInterrupt):  # killed at step 25: the last checkpoint is step 20
        _fit(SilentHooks(checkpointer=ckpt), 40, die_at=25)
    resumed, curve2 = _fit(SilentHooks(checkpointer=ckpt), 40)
    assert torch.equal(full.weight, resumed.weight) and curve2 == curve
    with pytest.raises(RnnaiError, match="multiple"):
        train_steps([full], lambda s, g: full.weight.sum(), steps=3, lr=0.1, seed=0, label="x",
                    save_every=3, log_every=2)  # fmt: skip
