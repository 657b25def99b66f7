"""Tests of rnnai.nn.ntm: each addressing step against hand-computed values and a transcription of
Graves et al.'s equations, gradient checks, the stabilizers and the module."""

from __future__ import annotations

import math

import pytest
import torch

from rnnai.nn.ntm import (
    NTM,
    address,
    content_addressing,
    cosine_similarity,
    erase_add_write,
    interpolate,
    read_memory,
    sharpen,
    shift_weighting,
)
from rnnai.runtime.errors import RnnaiError

D64 = torch.float64
SHIFTS = (-1, 0, 1)


def ref_address(M, w_prev, k, beta, g, s, gamma, shifts):
    """Eqs. 5-9 for one sequence, element by element."""
    N = M.shape[0]
    K = [float(k @ M[i] / (k.norm() * M[i].norm() + 1e-8)) for i in range(N)]  # Eq. 6
    e = [math.exp(beta * K[i]) for i in range(N)]
    w_c = [x / sum(e) for x in e]  # Eq. 5
    w_g = [g * w_c[i] + (1 - g) * w_prev[i] for i in range(N)]  # Eq. 7
    s_full = {k_ % N: 0.0 for k_ in range(N)}
    for shift, weight in zip(shifts, s, strict=True):
        s_full[shift % N] += weight
    w_t = [sum(w_g[j] * s_full[(i - j) % N] for j in range(N)) for i in range(N)]  # Eq. 8
    p = [x**gamma for x in w_t]
    return torch.tensor([x / sum(p) for x in p], dtype=D64)  # Eq. 9


def test_cosine_and_content_addressing_hand_values() -> None:
    M = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]], dtype=D64)
    k = torch.tensor([[1.0, 0.0]], dtype=D64)
    K = cosine_similarity(k, M)[0]
    assert K.tolist() == pytest.approx([1.0, 0.0, 1 / math.sqrt(2)])
    w = content_addressing(M, k, torch.tensor([2.0], dtype=D64))[0]
    e = [math.exp(2.0), 1.0, math.exp(2 / math.sqrt(2))]
    assert w.tolist() == pytest.approx([x / sum(e) for x in e])


def test_interpolation_gate_hand_values() -> None:
    w = interpolate(torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 1.0]]), torch.tensor([0.25]))
    assert w.tolist() == [[0.25, 0.75]]


def test_shift_moves_focus_circularly() -> None:
    w = torch.tensor([[1.0, 0.0, 0.0, 0.0]])
    assert shift_weighting(w, torch.tensor([[0.0, 0.0, 1.0]]), SHIFTS).tolist() == [[0, 1, 0, 0]]
    assert shift_weighting(w, torch.tensor([[1.0, 0.0, 0.0]]), SHIFTS).tolist() == [[0, 0, 0, 1]]
    half = shift_weighting(w, torch.tensor([[0.5, 0.0, 0.5]]), SHIFTS)
    assert half.tolist() == [[0, 0.5, 0, 0.5]]


def test_shift_rejects_wrong_number_of_shift_weights() -> None:
    with pytest.raises(RnnaiError, match="one per shift"):
        shift_weighting(torch.ones(1, 4), torch.ones(1, 2), SHIFTS)


def test_sharpen_hand_values() -> None:
    w = sharpen(torch.tensor([[0.5, 0.25, 0.25]], dtype=D64), torch.tensor([2.0], dtype=D64))
    assert w[0].tolist() == pytest.approx([0.25 / 0.375, 0.0625 / 0.375, 0.0625 / 0.375])


def test_erase_add_write_and_read_hand_values() -> None:
    M = torch.ones(1, 2, 2, dtype=D64)
    w = torch.tensor([[1.0, 0.0]], dtype=D64)
    e = torch.tensor([[1.0, 0.5]], dtype=D64)
    a = torch.tensor([[3.0, 4.0]], dtype=D64)
    M1 = erase_add_write(M, w, e, a)
    assert M1[0].tolist() == [[3.0, 4.5], [1.0, 1.0]]
    assert read_memory(M1, torch.tensor([[0.5, 0.5]], dtype=D64))[0].tolist() == [2.0, 2.75]


def test_address_equals_transcription() -> None:
    g = torch.Generator().manual_seed(0)
    B, N, Mw = 3, 6, 4
    M = torch.randn(B, N, Mw, generator=g, dtype=D64)
    w_prev = torch.softmax(torch.randn(B, N, generator=g, dtype=D64), -1)
    k = torch.randn(B, Mw, generator=g, dtype=D64)
    beta = torch.rand(B, generator=g, dtype=D64) * 5
    gate = torch.rand(B, generator=g, dtype=D64)
    s = torch.softmax(torch.randn(B, 3, generator=g, dtype=D64), -1)
    gamma = 1 + torch.rand(B, generator=g, dtype=D64) * 3
    got = address(M, w_prev, k, beta, gate, s, gamma, SHIFTS)
    for b in range(B):
        want = ref_address(
            M[b],
            w_prev[b].tolist(),
            k[b],
            float(beta[b]),
            float(gate[b]),
            s[b].tolist(),
            float(gamma[b]),
            SHIFTS,
        )
        assert (got[b] - want).abs().max() < 1e-12


def test_address_and_write_gradcheck() -> None:
    g = torch.Generator().manual_seed(1)
    B, N, Mw = 2, 4, 3

    def r(*shape):
        return torch.randn(*shape, generator=g, dtype=D64, requires_grad=True)

    M, k = r(B, N, Mw), r(B, Mw)
    w_prev = torch.softmax(r(B, N), -1).detach().requires_grad_()
    beta = torch.tensor([1.5, 2.5], dtype=D64, requires_grad=True)
    gate = torch.tensor([0.3, 0.8], dtype=D64, requires_grad=True)
    s = torch.softmax(r(B, 3), -1).detach().requires_grad_()
    gamma = torch.tensor([1.3, 2.1], dtype=D64, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda *a: address(*a, SHIFTS), (M, w_prev, k, beta, gate, s, gamma)
    )
    e = torch.rand(B, Mw, generator=g, dtype=D64).requires_grad_()
    assert torch.autograd.gradcheck(erase_add_write, (M, w_prev, e, r(B, Mw)))


def test_initial_state_is_small_constant_memory_and_learned_reads() -> None:
    ntm = NTM(3, 2, hidden_size=8, memory_size=5, memory_width=4, num_read_heads=2)
    st = ntm.initial_state(2, torch.zeros(1))
    assert torch.all(st.memory == 1e-6)
    assert st.weights.shape == (2, 3, 5)
    assert torch.allclose(st.weights.sum(-1), torch.ones(2, 3))
    ntm(torch.randn(2, 4, 3))[0].sum().backward()
    assert ntm.initial_reads.grad is not None and ntm.initial_reads.grad.abs().sum() > 0
    assert ntm.initial_weight_logits.grad is not None


def test_ntm_state_carries_and_weights_are_distributions() -> None:
    torch.manual_seed(0)
    ntm = NTM(3, 2, hidden_size=8, memory_size=5, memory_width=4, num_write_heads=2).double()
    x = torch.randn(2, 7, 3, dtype=D64)
    y, st = ntm(x)
    y1, s1 = ntm(x[:, :3])
    y2, s2 = ntm(x[:, 3:], s1)
    assert torch.allclose(torch.cat([y1, y2], 1), y, atol=1e-12)
    assert torch.allclose(s2.memory, st.memory, atol=1e-12)
    assert ntm.last_weights is not None
    assert torch.allclose(ntm.last_weights.sum(-1), torch.ones(2, 4, 3, dtype=D64))


def test_ntm_writes_change_memory_and_batch_first_false() -> None:
    torch.manual_seed(0)
    ntm = NTM(3, 2, hidden_size=8, memory_size=5, memory_width=4)
    x = torch.randn(2, 4, 3)
    y, st = ntm(x)
    assert (st.memory - 1e-6).abs().max() > 1e-3
    ntm.batch_first = False
    assert torch.allclose(ntm(x.transpose(0, 1))[0].transpose(0, 1), y)


def test_ntm_rejects_bad_input_and_config() -> None:
    with pytest.raises(RnnaiError, match="expected x"):
        NTM(3, 2, hidden_size=4, memory_size=4, memory_width=2)(torch.randn(2, 4, 5))
    with pytest.raises(RnnaiError, match="shifts"):
        NTM(3, 2, shifts=(0, 0))
    with pytest.raises(RnnaiError, match="memory_size"):
        NTM(3, 2, memory_size=0)
