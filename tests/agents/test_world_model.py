"""rnnai.agents.world_model: M and C against direct transcriptions, gradients, training, plans."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnai.agents.world_model import (
    RecurrentController,
    RecurrentWorldModel,
    controller_loss,
    imagine,
    imagined_return,
    model_loss,
    plan_first_actions,
    train_controller_through_model,
    train_model,
)
from rnnai.runtime.errors import RnnaiError

D = torch.float64


def _nets(seed: int = 0, hidden: int = 3) -> tuple[RecurrentWorldModel, RecurrentController]:
    gen = torch.Generator().manual_seed(seed)
    m = RecurrentWorldModel(n_obs=2, n_act=1, hidden=hidden, generator=gen, dtype=D)
    c = RecurrentController(n_in=2, n_act=1, hidden=2, generator=gen, dtype=D)
    return m, c


def _np(p: torch.Tensor) -> np.ndarray:
    return p.detach().numpy()


def test_model_step_matches_a_direct_transcription_of_eqs_1_to_3() -> None:
    m, _ = _nets()
    rng = np.random.default_rng(1)
    x, a, h = rng.normal(size=(4, 2)), rng.normal(size=(4, 1)), rng.normal(size=(4, 3))
    want_h = np.tanh(x @ _np(m.W_x).T + a @ _np(m.W_a).T + h @ _np(m.W_h).T + _np(m.b))
    want_x = x + want_h @ _np(m.V_x).T + _np(m.c_x)
    want_r = want_h @ _np(m.v_r)[0] + _np(m.c_r)[0]
    got_x, got_r, got_h = m.step(*(torch.as_tensor(v) for v in (x, a, h)))
    np.testing.assert_allclose(_np(got_h), want_h, atol=1e-10)
    np.testing.assert_allclose(_np(got_x), want_x, atol=1e-10)
    np.testing.assert_allclose(_np(got_r), want_r, atol=1e-10)


def test_controller_step_matches_eq_4_for_both_squashes() -> None:
    for squash, f in (("tanh", np.tanh), ("sigmoid", lambda z: 1 / (1 + np.exp(-z)))):
        gen = torch.Generator().manual_seed(2)
        c = RecurrentController(n_in=3, n_act=1, hidden=4, generator=gen, squash=squash, dtype=D)
        rng = np.random.default_rng(3)
        x, g = rng.normal(size=(5, 3)), rng.normal(size=(5, 4))
        want_g = np.tanh(x @ _np(c.U_x).T + g @ _np(c.U_g).T + _np(c.d))
        want_a = f(want_g @ _np(c.u_a).T + _np(c.e))
        a, g2 = c.step(torch.as_tensor(x), torch.as_tensor(g))
        np.testing.assert_allclose(_np(g2), want_g, atol=1e-10)
        np.testing.assert_allclose(_np(a), want_a, atol=1e-10)


def test_forward_equals_repeated_steps_and_checks_shapes() -> None:
    m, _ = _nets()
    obs, act = torch.randn(2, 5, 2, dtype=D), torch.randn(2, 5, 1, dtype=D)
    xs, rs, h_last = m(obs, act)
    h = m.initial_state(2)
    for t in range(5):
        x, r, h = m.step(obs[:, t], act[:, t], h)
        torch.testing.assert_close(xs[:, t], x)
        torch.testing.assert_close(rs[:, t], r)
    torch.testing.assert_close(h_last, h)
    with pytest.raises(RnnaiError):
        m(obs, act[:, :4])
    with pytest.raises(RnnaiError):
        RecurrentWorldModel(n_obs=0, n_act=1, hidden=2, generator=torch.Generator())
    with pytest.raises(RnnaiError):
        RecurrentController(n_in=1, n_act=1, hidden=2, generator=torch.Generator(), squash="relu")


def test_gradcheck_through_model_and_controller() -> None:
    m, c = _nets()
    x0 = torch.randn(2, 2, dtype=D, requires_grad=True)

    def f(x: torch.Tensor) -> torch.Tensor:
        return imagined_return(imagine(m, c, x, horizon=3).reward, binary=True)

    assert torch.autograd.gradcheck(f, (x0,))
    w = c.u_a

    def g(u: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            c.u_a.copy_(u)
        return controller_loss(m, c, x0.detach(), horizon=3, binary=False)

    assert w.requires_grad
    loss = controller_loss(m, c, x0.detach(), horizon=3, binary=False)
    loss.backward()
    assert c.u_a.grad is not None and torch.all(torch.isfinite(c.u_a.grad))
    eps = 1e-6
    base = c.u_a.detach().clone()
    bumped = base.clone()
    bumped[0, 0] += eps
    numeric = (float(g(bumped).detach()) - float(g(base).detach())) / eps
    assert numeric == pytest.approx(float(c.u_a.grad[0, 0]), rel=1e-3, abs=1e-6)


def test_imagined_return_binary_is_expected_survival_and_real_is_the_sum() -> None:
    r = torch.tensor([[0.0, 2.0, -1.0]], dtype=D)
    p = 1 / (1 + np.exp(-np.array([0.0, 2.0, -1.0])))
    want = p[0] + p[0] * p[1] + p[0] * p[1] * p[2]
    assert float(imagined_return(r, binary=True)[0]) == pytest.approx(want, abs=1e-12)
    assert float(imagined_return(r, binary=False)[0]) == pytest.approx(1.0, abs=1e-12)


def test_imagine_feeds_predictions_back_or_follows_given_inputs() -> None:
    m, c = _nets()
    x0 = torch.randn(3, 2, dtype=D)
    dream = imagine(m, c, x0, horizon=4)
    # open loop: the second step's input is the first prediction
    g = c.initial_state(3)
    a, g = c.step(x0, g)
    x1, _, h = m.step(x0, a, m.initial_state(3))
    a1, _ = c.step(x1, g)
    torch.testing.assert_close(dream.act[:, 1], a1)
    given = torch.randn(3, 4, 2, dtype=D)
    forced = imagine(m, c, given[:, 0], horizon=4, inputs=given)
    a0, g0 = c.step(given[:, 0], c.initial_state(3))
    a1f, _ = c.step(given[:, 1], g0)
    torch.testing.assert_close(forced.act[:, 1], a1f)
    with pytest.raises(RnnaiError):
        imagine(m, c, x0, horizon=5, inputs=given)
    with pytest.raises(RnnaiError):
        imagine(m, None, x0, horizon=2)


@torch.no_grad()
def test_model_loss_ignores_masked_steps_and_inputs_after_failure() -> None:
    m, _ = _nets()
    obs, act = torch.randn(2, 4, 2, dtype=D), torch.randn(2, 4, 1, dtype=D)
    nxt, rew = torch.randn(2, 4, 2, dtype=D), torch.ones(2, 4, dtype=D)
    mask = torch.tensor([[True, True, False, False], [True, True, True, True]])
    base = model_loss(m, obs, act, nxt, rew, mask, binary=True)
    nxt2 = nxt.clone()
    nxt2[0, 2:] += 100.0  # masked: no effect
    assert float(model_loss(m, obs, act, nxt2, rew, mask, binary=True)) == pytest.approx(
        float(base)
    )
    rew2 = rew.clone()
    rew2[1, 3] = 0.0  # the failing step: its next input is not predicted
    nxt3 = nxt.clone()
    nxt3[1, 3] += 100.0
    a = model_loss(m, obs, act, nxt, rew2, mask, binary=True)
    b = model_loss(m, obs, act, nxt3, rew2, mask, binary=True)
    assert float(a) == pytest.approx(float(b))


def test_train_model_fits_a_deterministic_system() -> None:
    gen = torch.Generator().manual_seed(0)
    m = RecurrentWorldModel(n_obs=1, n_act=1, hidden=8, generator=gen)
    obs = torch.rand(64, 6, 1, generator=gen) - 0.5
    act = torch.rand(64, 6, 1, generator=gen) - 0.5
    nxt = 0.9 * obs + 0.3 * act  # x_{t+1} = 0.9 x_t + 0.3 a_t
    rew = (act[..., 0] > 0).float()
    mask = torch.ones(64, 6, dtype=torch.bool)
    losses = train_model(m, (obs, act, nxt, rew, mask), binary=True, steps=300, lr=0.01,
                         batch=32, generator=gen)  # fmt: skip
    assert losses[-1] < 0.5 * losses[0]


def _action_rewarding_model(weight: float) -> RecurrentWorldModel:
    """An M whose reinforcement is weight * a (the hidden unit copies the action)."""
    m = RecurrentWorldModel(n_obs=1, n_act=1, hidden=1, generator=torch.Generator(), dtype=D)
    with torch.no_grad():
        for p in m.parameters():
            p.zero_()
        m.W_a.fill_(1.0)
        m.v_r.fill_(weight)
    return m


def test_controller_learns_through_the_frozen_model_and_leaves_it_unchanged() -> None:
    m = _action_rewarding_model(5.0)
    before = [p.detach().clone() for p in m.parameters()]
    c = RecurrentController(n_in=1, n_act=1, hidden=2, generator=torch.Generator().manual_seed(0),
                            dtype=D)  # fmt: skip
    starts = torch.zeros(8, 1, dtype=D)
    losses = train_controller_through_model(m, c, starts, horizon=3, binary=False, steps=100,
                                            lr=0.05, batch=8,
                                            generator=torch.Generator().manual_seed(0))  # fmt: skip
    assert losses[-1] < losses[0]
    assert float(imagine(m, c, starts, horizon=3).act.detach().mean()) > 0.9  # a towards +1
    for p, q in zip(m.parameters(), before, strict=True):
        torch.testing.assert_close(p, q)
        assert p.requires_grad


def test_planning_picks_the_action_the_model_rewards() -> None:
    for weight, binary in ((4.0, True), (-4.0, True), (4.0, False)):
        m = _action_rewarding_model(weight)
        gen = torch.Generator().manual_seed(0)
        a = plan_first_actions(m, None, torch.zeros(5, 1, dtype=D), m.initial_state(5),
                               horizon=1, candidates=64, binary=binary, generator=gen)  # fmt: skip
        assert a.shape == (5, 1)
        # the best of 64 uniform candidates in [-1, 1] for r = weight * tanh(a)
        assert torch.all(torch.sign(a) == np.sign(weight)) and torch.all(a.abs() > 0.8)
    c = RecurrentController(n_in=1, n_act=1, hidden=2, generator=torch.Generator(),
                            squash="sigmoid", dtype=D)  # fmt: skip
    with pytest.raises(RnnaiError):
        plan_first_actions(m, c, torch.zeros(1, 1, dtype=D), m.initial_state(1), horizon=2,
                           candidates=4, binary=True, generator=torch.Generator())  # fmt: skip


def test_given_zero_start_states_equal_the_default_and_others_change_the_rollout() -> None:
    m, c = _nets()
    starts = torch.randn(6, 2, dtype=D)

    def run(states: torch.Tensor | None) -> list[float]:
        c2 = RecurrentController(n_in=2, n_act=1, hidden=2,
                                 generator=torch.Generator().manual_seed(5), dtype=D)  # fmt: skip
        return train_controller_through_model(m, c2, starts, horizon=3, binary=True, steps=3,
                                              lr=0.01, batch=6, generator=torch.Generator(),
                                              start_states=states)  # fmt: skip

    assert run(None) == run(torch.zeros(6, 3, dtype=D))
    assert run(None) != run(torch.ones(6, 3, dtype=D))
