"""Tests of rnnai.nn.stack: Joulin & Mikolov's and Grefenstette et al.'s stacks against direct
transcriptions of the equations and hand-computed cases, NNPDA strengths, gradient checks and the
two controller modules."""

from __future__ import annotations

import pytest
import torch

from rnnai.nn.stack import (
    NeuralStackRNN,
    StackRNN,
    jm_stack_step,
    neural_stack_read,
    neural_stack_step,
    nnpda_strengths,
)
from rnnai.runtime.errors import RnnaiError

D64 = torch.float64


def ref_jm(s, a, v, bottom=0.0):
    """Eqs. 1-2 of Joulin & Mikolov, cell by cell."""
    n, p, _ = s.shape
    out = torch.empty_like(s)
    for b in range(n):
        no_op = a[b, 2] if a.shape[1] == 3 else 0.0
        for i in range(p):
            above = v[b] if i == 0 else s[b, i - 1]
            below = s[b, i + 1] if i + 1 < p else torch.full_like(v[b], bottom)
            out[b, i] = a[b, 0] * above + a[b, 1] * below + no_op * s[b, i]
    return out


def ref_neural_stack(vs, us, ds):
    """Eqs. 1-3 of Grefenstette et al. for one sequence, 1-based lists as in the paper."""
    V, s, reads = [], [], []
    for v, u, d in zip(vs, us, ds, strict=True):
        t = len(V) + 1
        new_s = []
        for i in range(1, t):
            above = sum(s[j - 1] for j in range(i + 1, t))
            new_s.append(max(0.0, s[i - 1] - max(0.0, u - above)))
        new_s.append(d)
        V, s = [*V, v], new_s
        r = 0.0
        for i in range(1, t + 1):
            above = sum(s[j - 1] for j in range(i + 1, t + 1))
            r = r + min(s[i - 1], max(0.0, 1.0 - above)) * V[i - 1]
        reads.append(r)
    return reads, s


def _run_neural(vs, us, ds):
    T = len(vs)
    V, s = torch.zeros(1, T, 1, dtype=D64), torch.zeros(1, T, dtype=D64)
    reads = []
    for t in range(T):
        V, s, r = neural_stack_step(
            V,
            s,
            t,
            torch.tensor([[vs[t]]], dtype=D64),
            torch.tensor([us[t]], dtype=D64),
            torch.tensor([ds[t]], dtype=D64),
        )
        reads.append(float(r))
    return reads, s[0].tolist()


# ------------------------------------------------------------------ Joulin & Mikolov


def test_jm_push_push_pop_reads_b_then_a() -> None:
    s = torch.zeros(1, 4, 1, dtype=D64)
    push, pop = torch.tensor([[1.0, 0, 0]], dtype=D64), torch.tensor([[0, 1.0, 0]], dtype=D64)
    s = jm_stack_step(s, push, torch.tensor([[0.3]], dtype=D64))
    s = jm_stack_step(s, push, torch.tensor([[0.7]], dtype=D64))
    assert s[0, :2, 0].tolist() == [0.7, 0.3]
    s = jm_stack_step(s, pop, torch.tensor([[0.9]], dtype=D64))
    assert s[0, :2, 0].tolist() == [0.3, 0.0]


def test_jm_no_op_leaves_stack_and_bottom_fills_on_pop() -> None:
    s = torch.arange(3, dtype=D64).reshape(1, 3, 1)
    assert torch.equal(jm_stack_step(s, torch.tensor([[0, 0, 1.0]], dtype=D64), s[:, 0]), s)
    popped = jm_stack_step(s, torch.tensor([[0, 1.0]], dtype=D64), s[:, 0], bottom=-1.0)
    assert popped[0, :, 0].tolist() == [1.0, 2.0, -1.0]


@pytest.mark.parametrize("actions", [2, 3])
def test_jm_step_equals_transcription(actions: int) -> None:
    g = torch.Generator().manual_seed(0)
    s = torch.randn(3, 5, 2, generator=g, dtype=D64)
    a = torch.softmax(torch.randn(3, actions, generator=g, dtype=D64), -1)
    v = torch.rand(3, 2, generator=g, dtype=D64)
    assert (jm_stack_step(s, a, v, 0.5) - ref_jm(s, a, v, 0.5)).abs().max() < 1e-12


def test_jm_step_gradcheck() -> None:
    g = torch.Generator().manual_seed(1)
    s = torch.randn(2, 3, 2, generator=g, dtype=D64, requires_grad=True)
    a = torch.softmax(torch.randn(2, 3, generator=g, dtype=D64), -1).requires_grad_()
    v = torch.rand(2, 2, generator=g, dtype=D64, requires_grad=True)
    assert torch.autograd.gradcheck(jm_stack_step, (s, a, v))


def test_jm_step_rejects_bad_shapes() -> None:
    with pytest.raises(RnnaiError, match="jm_stack_step"):
        jm_stack_step(torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(2, 1))


# ------------------------------------------------------------------ Grefenstette et al.


def test_neural_stack_push_push_pop_reads() -> None:
    reads, s = _run_neural([1.0, 2.0, 0.0], [0.0, 0.0, 1.0], [1.0, 1.0, 0.0])
    assert reads == [1.0, 2.0, 1.0]
    assert s == [1.0, 0.0, 0.0]


def test_neural_stack_fractional_example() -> None:
    # push v1 (d=0.8); pop 0.1 and push v2 (d=0.5); pop 0.9 and push v3 (d=0.9)
    reads, s = _run_neural([1.0, 10.0, 100.0], [0.0, 0.1, 0.9], [0.8, 0.5, 0.9])
    assert reads[0] == pytest.approx(0.8)
    assert reads[1] == pytest.approx(0.5 * 10 + 0.5 * 1)
    assert s == pytest.approx([0.3, 0.0, 0.9])
    assert reads[2] == pytest.approx(0.9 * 100 + 0.1 * 1)


def test_neural_stack_equals_transcription() -> None:
    g = torch.Generator().manual_seed(2)
    T = 9
    vs, us, ds = (torch.rand(3, T, generator=g, dtype=D64).tolist()[i] for i in range(3))
    got, s_got = _run_neural(vs, us, ds)
    want, s_want = ref_neural_stack(vs, us, ds)
    assert max(abs(x - y) for x, y in zip(got, want, strict=True)) < 1e-12
    assert max(abs(x - y) for x, y in zip(s_got, s_want, strict=True)) < 1e-12


def test_neural_stack_read_ignores_unused_slots() -> None:
    V = torch.tensor([[[1.0], [5.0], [7.0]]], dtype=D64)
    s = torch.tensor([[0.6, 0.7, 0.0]], dtype=D64)
    assert float(neural_stack_read(V, s)) == pytest.approx(0.7 * 5 + 0.3 * 1)


def test_neural_stack_step_gradcheck() -> None:
    g = torch.Generator().manual_seed(3)
    V = torch.randn(2, 4, 2, generator=g, dtype=D64, requires_grad=True)
    s = torch.tensor([[0.3, 0.6, 0.0, 0.0], [0.9, 0.2, 0.0, 0.0]], dtype=D64, requires_grad=True)
    v = torch.randn(2, 2, generator=g, dtype=D64, requires_grad=True)
    u = torch.tensor([0.35, 0.55], dtype=D64, requires_grad=True)
    d = torch.tensor([0.4, 0.25], dtype=D64, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda *a: neural_stack_step(a[0], a[1], 2, *a[2:]), (V, s, v, u, d)
    )


def test_neural_stack_step_rejects_a_full_stack() -> None:
    with pytest.raises(RnnaiError, match="t < T_max"):
        neural_stack_step(
            torch.zeros(1, 2, 1),
            torch.zeros(1, 2),
            2,
            torch.zeros(1, 1),
            torch.zeros(1),
            torch.zeros(1),
        )


def test_nnpda_strengths_push_or_pop_never_both() -> None:
    u, d = nnpda_strengths(torch.tensor([-0.5, 0.0, 0.25]))
    assert u.tolist() == [0.5, 0.0, 0.0]
    assert d.tolist() == [0.0, 0.0, 0.25]


# ------------------------------------------------------------------ modules


def test_stack_rnn_state_carries_across_calls_and_batch_first() -> None:
    torch.manual_seed(0)
    net = StackRNN(3, 6, 2, stack_size=4, cell_size=2, read_depth=2).double()
    x = torch.randn(2, 8, 3, dtype=D64)
    y, state = net(x)
    y1, st = net(x[:, :5])
    y2, state2 = net(x[:, 5:], st)
    assert torch.allclose(torch.cat([y1, y2], 1), y, atol=1e-12)
    assert torch.allclose(state2[2], state[2], atol=1e-12)
    net.batch_first = False
    assert torch.allclose(net(x.transpose(0, 1))[0].transpose(0, 1), y, atol=1e-12)
    assert net.last_actions is not None and net.last_actions.shape == (2, 8, 3)


def test_stack_rnn_gradients_reach_the_action_weights() -> None:
    torch.manual_seed(0)
    net = StackRNN(3, 6, 2, stack_size=4)
    net(torch.randn(2, 5, 3))[0].sum().backward()
    assert net.action.weight.grad is not None and net.action.weight.grad.abs().sum() > 0


def test_neural_stack_rnn_shapes_and_nnpda_strengths() -> None:
    torch.manual_seed(0)
    net = NeuralStackRNN(3, 6, 2, value_size=4, nnpda=True)
    y, (V, s) = net(torch.randn(2, 7, 3))
    assert y.shape == (2, 7, 2) and V.shape == (2, 7, 4) and s.shape == (2, 7)
    ud = net.last_strengths
    assert ud is not None and (ud[..., 0] * ud[..., 1]).abs().max() == 0


def test_neural_stack_rnn_rows_are_independent() -> None:
    torch.manual_seed(0)
    net = NeuralStackRNN(3, 6, 2).double()
    x = torch.randn(3, 6, 3, dtype=D64)
    assert torch.allclose(net(x)[0][1:2], net(x[1:2])[0], atol=1e-12)


@pytest.mark.parametrize("cls", [StackRNN, NeuralStackRNN])
def test_stack_modules_reject_wrong_input_size(cls) -> None:
    with pytest.raises(RnnaiError, match="expected x"):
        cls(3, 4, 2)(torch.randn(2, 5, 4))


def test_stack_rnn_rejects_read_depth_over_size() -> None:
    with pytest.raises(RnnaiError, match="read_depth"):
        StackRNN(3, 4, 2, stack_size=2, read_depth=3)
