"""Advantage(lambda) learning: Eq. 1 by hand, the trace identity, the nets, bad configs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnai.envs.tmaze import OUTCOME_GOAL, TMazeBatch, TMazeConfig
from rnnai.rl.advantage import (
    AdvantageConfig,
    AdvantageLearner,
    AdvantageNet,
    NetConfig,
    _NumpyActor,
    advantage_errors,
    boltzmann_sample,
    trace_weights,
)
from rnnai.runtime.errors import RnnaiError


def test_advantage_error_matches_eq1_by_hand() -> None:
    # one episode, two steps, two actions; terminal after step 2
    A = torch.tensor([[[1.0, 3.0]], [[2.0, 0.5]], [[9.0, 9.0]]])  # (T+1=3, B=1, 2)
    actions = torch.tensor([[0], [1]])
    rewards = torch.tensor([[-0.1], [4.0]])
    g, k = 0.9, 0.5
    E = advantage_errors(A, actions, rewards, torch.tensor([2]), torch.tensor([True]), g, k)
    # t=0: V0=3, V1=2 -> 3 + (-0.1 + 0.9*2 - 3)/0.5 - 1 = -0.6
    # t=1: V1=2, terminal -> 2 + (4 - 2)/0.5 - 0.5 = 5.5   (V(s_2)=9 is ignored)
    np.testing.assert_allclose(E[:, 0].numpy(), [-0.6, 5.5], atol=1e-6)


def test_truncated_episode_bootstraps_from_the_last_state() -> None:
    A = torch.tensor([[[0.0, 0.0]], [[1.0, 2.0]]])
    E = advantage_errors(
        A, torch.tensor([[0]]), torch.tensor([[0.0]]), torch.tensor([1]), torch.tensor([False]),
        1.0, 1.0,
    )  # fmt: skip
    assert float(E[0, 0]) == pytest.approx(2.0)  # Q-learning: r + V(s_1) - A(s_0, a_0)


def test_kappa_one_is_q_learning() -> None:
    rng = torch.Generator().manual_seed(0)
    A = torch.rand(5, 3, 4, generator=rng)
    actions = torch.randint(0, 4, (4, 3), generator=rng)
    r = torch.rand(4, 3, generator=rng)
    lengths = torch.tensor([4, 2, 3])
    term = torch.tensor([True, False, True])
    E = advantage_errors(A, actions, r, lengths, term, 0.9, 1.0)
    V = A.max(-1).values
    for b in range(3):
        for t in range(int(lengths[b])):
            v_next = 0.0 if (t == lengths[b] - 1 and term[b]) else float(V[t + 1, b])
            q = float(r[t, b]) + 0.9 * v_next - float(A[t, b, actions[t, b]])
            assert float(E[t, b]) == pytest.approx(q, abs=1e-6)
    assert float(E[3, 1]) == 0.0 and float(E[2, 1]) == 0.0  # past the episode's end


def test_trace_weights_equal_the_accumulated_backward_view_traces() -> None:
    """sum_t E_t e_t with e_t = gl e_{t-1} + grad_t  ==  sum_k G_k grad_k, for any gradients."""
    rng = np.random.default_rng(1)
    T, gamma, lam = 7, 0.98, 0.8
    E = torch.tensor(rng.normal(size=(T, 1)))
    grads = rng.normal(size=(T, 5))  # stand-ins for grad_w A(s_t, a_t)
    e = np.zeros(5)
    backward_view = np.zeros(5)
    for t in range(T):
        e = gamma * lam * e + grads[t]  # Eq. 2 trace
        backward_view += float(E[t, 0]) * e
    G = trace_weights(E, gamma, lam)[:, 0].numpy()
    np.testing.assert_allclose((G[:, None] * grads).sum(0), backward_view, rtol=1e-12)


def test_update_gradient_is_the_trace_update_through_bptt() -> None:
    """The surrogate's gradient equals -sum_k G_k dA(s_k, a_k)/dw computed step by step."""
    torch.manual_seed(0)  # only for the random episode below; the nets use generators
    learner = AdvantageLearner(
        3, 4, NetConfig(cells=2, hidden=3), AdvantageConfig(episodes_per_update=1, grad_clip=0),
        torch.Generator().manual_seed(3),
    )  # fmt: skip
    env = TMazeBatch(TMazeConfig(corridor_length=2, max_steps=6), 1)
    ep = learner.collect(env, np.random.default_rng(0))
    net = learner.net
    A = net(torch.from_numpy(ep.obs))
    with torch.no_grad():
        E = advantage_errors(
            A, torch.from_numpy(ep.actions), torch.from_numpy(ep.rewards),
            torch.from_numpy(ep.lengths), torch.from_numpy(ep.terminated), 0.98, 0.1,
        )  # fmt: skip
        G = trace_weights(E, 0.98, 0.8)
    expected = [torch.zeros_like(p) for p in net.parameters()]
    for k in range(int(ep.lengths[0])):
        net.zero_grad()
        net(torch.from_numpy(ep.obs[: k + 1]))[k, 0, int(ep.actions[k, 0])].backward()
        for acc, p in zip(expected, net.parameters(), strict=True):
            acc -= float(G[k, 0]) * p.grad
    net.zero_grad()
    A_taken = A[:-1].gather(-1, torch.from_numpy(ep.actions).unsqueeze(-1)).squeeze(-1)
    (-(G * A_taken).sum()).backward()
    for acc, p in zip(expected, net.parameters(), strict=True):
        torch.testing.assert_close(p.grad, acc, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("cells", [0, 3])
def test_numpy_actor_matches_the_torch_net_step_by_step(cells: int) -> None:
    net = AdvantageNet(
        3, 4, NetConfig(cells=cells, init_range=0.5), torch.Generator().manual_seed(1)
    )
    x = torch.rand(9, 5, 3, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        ref = net(x).double().numpy()
    actor = _NumpyActor(net, 5)
    out = np.stack([actor.step(x[t].double().numpy()) for t in range(9)])
    np.testing.assert_allclose(out, ref, atol=1e-5)


def test_numpy_actor_falls_back_to_torch_for_peephole_variants() -> None:
    net = AdvantageNet(3, 4, NetConfig(variant="vanilla"), torch.Generator().manual_seed(1))
    x = torch.rand(4, 2, 3, generator=torch.Generator().manual_seed(2))
    actor = _NumpyActor(net, 2)
    assert not actor.fast
    out = np.stack([actor.step(x[t].double().numpy()) for t in range(4)])
    with torch.no_grad():
        np.testing.assert_allclose(out, net(x).double().numpy(), atol=1e-5)


def test_memoryless_net_output_depends_only_on_the_current_observation() -> None:
    net = AdvantageNet(3, 4, NetConfig(cells=0), torch.Generator().manual_seed(0))
    a = torch.tensor([[[0.0, 1, 1]], [[1.0, 0, 1]]])
    b = torch.tensor([[[1.0, 1, 0]], [[1.0, 0, 1]]])
    with torch.no_grad():
        torch.testing.assert_close(net(a)[1], net(b)[1])
    lstm = AdvantageNet(3, 4, NetConfig(cells=3), torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert not torch.allclose(lstm(a)[1], lstm(b)[1])  # the cells remember the cue


def test_boltzmann_sampling_follows_the_softmax() -> None:
    A = np.tile(np.array([[0.0, np.log(3.0), -50.0, 0.0]]), (40_000, 1))
    a = boltzmann_sample(A, 1.0, np.random.default_rng(0))
    freq = np.bincount(a, minlength=4) / len(a)
    np.testing.assert_allclose(freq, [0.2, 0.6, 0.0, 0.2], atol=0.01)
    b = boltzmann_sample(A[:5], 1.0, np.random.default_rng(0))
    np.testing.assert_array_equal(b, a[:5])  # same generator state, same actions


def test_same_generator_same_learning_and_other_seed_differs() -> None:
    def run(seed: int) -> list[float]:
        learner = AdvantageLearner(
            3, 4, NetConfig(), AdvantageConfig(episodes_per_update=4),
            torch.Generator().manual_seed(seed),
        )  # fmt: skip
        env = TMazeBatch(TMazeConfig(corridor_length=3, max_steps=20), 4)
        rng = np.random.default_rng(seed)
        out = []
        for _ in range(3):
            ep = learner.collect(env, rng)
            out.append(learner.update(ep)["td_abs"])
        return out

    assert run(0) == run(0) and run(0) != run(1)


@pytest.mark.slow
def test_rl_lstm_learns_a_short_t_maze_and_the_memoryless_learner_cannot() -> None:
    def solved(cells: int) -> bool:
        learner = AdvantageLearner(
            3, 4, NetConfig(cells=cells, forget_gate_bias=3.0),
            AdvantageConfig(lr=5e-3, episodes_per_update=8), torch.Generator().manual_seed(0),
        )  # fmt: skip
        env = TMazeBatch(TMazeConfig(corridor_length=4, max_steps=50), 8)
        ev = TMazeBatch(TMazeConfig(corridor_length=4, max_steps=15), 2)
        rng = np.random.default_rng(0)
        streak = 0
        for update in range(1, 1501):
            learner.update(learner.collect(env, rng))
            if update % 10 == 0:
                learner.collect(ev, rng, greedy=True, goals=np.array([0, 1]))
                streak = streak + 1 if (ev.outcome == OUTCOME_GOAL).all() else 0
                if streak == 3:
                    return True
        return False

    assert solved(3) and not solved(0)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: AdvantageConfig(kappa=0.0), "kappa"),
        (lambda: AdvantageConfig(lam=1.5), "lam"),
        (lambda: AdvantageConfig(optimizer="rmsprop"), "optimizer"),
        (lambda: AdvantageConfig(episodes_per_update=0), "episodes_per_update"),
        (lambda: AdvantageConfig.from_dict({"gama": 0.9}), "unknown AdvantageConfig"),
        (lambda: NetConfig(cells=-1), "cells"),
        (lambda: NetConfig(variant="nope"), "variant"),
        (lambda: NetConfig.from_dict({"cell": 3}), r"unknown NetConfig field\(s\) \['cell'\]"),
    ],
)
def test_bad_configs_are_refused_naming_the_field(make, match) -> None:
    with pytest.raises(RnnaiError, match=match):
        make()
