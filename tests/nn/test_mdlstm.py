"""Tests of rnnai.nn.mdlstm: MD-LSTM (2-D and 3-D, every sweep direction) and PyraMiD-LSTM
against direct per-cell transcriptions of the equations in float64, gradient checks, the
wavefront plan, direction flips, batch independence, context reach and bad input."""

from __future__ import annotations

import itertools

import pytest
import torch

from rnnai.nn.mdlstm import (
    MDLSTM,
    PyraMiDLSTM,
    mdlstm_wavefront,
    sweep_directions,
    wavefront_plan,
)
from rnnai.runtime.errors import RnnaiError

D64 = torch.float64


def ref_mdlstm(model: MDLSTM, x: torch.Tensor) -> list[torch.Tensor]:
    """Eqs. 1-6 cell by cell in raster order, one direction at a time; returns (N, H, *S) each."""
    N, C, *S = x.shape
    d, H = len(S), model.hidden_size
    outs = []
    for j, flips in enumerate(sweep_directions(d)):
        xj = x.flip([2 + a for a in flips]) if flips else x
        W, U, b = model.weight_ih[j], model.weight_hh[j], model.bias[j]

        def gate(m: torch.Tensor, q: int) -> torch.Tensor:
            return m[..., q * H : (q + 1) * H]

        h_out = torch.zeros(N, H, *S, dtype=x.dtype)
        state: dict[tuple[int, ...], tuple[torch.Tensor, torch.Tensor]] = {}
        zero = torch.zeros(N, H, dtype=x.dtype)
        for p in itertools.product(*[range(s) for s in S]):
            xp = xj[(slice(None), slice(None), *p)]  # (N, C)
            hk, ck = [], []
            for k in range(d):
                q = list(p)
                q[k] -= 1
                hc = state.get(tuple(q)) if q[k] >= 0 else None
                hk.append(zero if hc is None else hc[0])
                ck.append(zero if hc is None else hc[1])

            a = xp @ W + b  # all gates' pre-activations, (N, (3 + d) H)
            for k in range(d):
                a = a + hk[k] @ U[k * H : (k + 1) * H]

            def pre(gi: int, a: torch.Tensor = a) -> torch.Tensor:
                return gate(a, gi)

            a_i = pre(0)
            if model.peep_i is not None:
                for k in range(d):
                    a_i = a_i + model.peep_i[j, k] * ck[k]
            i = torch.sigmoid(a_i)
            c = i * torch.tanh(pre(1 + d))
            for l in range(d):
                a_f = pre(1 + l)
                if model.peep_f is not None:
                    a_f = a_f + model.peep_f[j, l] * ck[l]
                c = c + torch.sigmoid(a_f) * ck[l]
            a_o = pre(2 + d)
            if model.peep_o is not None:
                a_o = a_o + model.peep_o[j] * c
            h = torch.sigmoid(a_o) * torch.tanh(c)
            state[p] = (h, c)
            h_out[(slice(None), slice(None), *p)] = h
        outs.append(h_out.flip([2 + a for a in flips]) if flips else h_out)
    return outs


def ref_pyramid(model: PyraMiDLSTM, x: torch.Tensor) -> list[torch.Tensor]:
    """Eqs. 7-11 with the convolutions written as sums over kernel offsets, pixel by pixel."""
    N, C, *S = x.shape
    d, H, r = len(S), model.hidden_size, model.kernel_size // 2
    offsets = list(itertools.product(range(model.kernel_size), repeat=d - 1))
    outs = []
    for a in range(d):
        for back in (False, True):
            sweep = 2 * a + int(back)
            Wx, Wh, b = model.weight_x[sweep], model.weight_h[sweep], model.bias[sweep]
            xa = x.movedim(2 + a, 0)  # (T, N, C, *plane)
            if back:
                xa = xa.flip(0)
            T, plane = xa.shape[0], list(xa.shape[3:])
            h = torch.zeros(N, H, *plane, dtype=x.dtype)
            c = torch.zeros(N, H, *plane, dtype=x.dtype)
            hs = []
            for t in range(T):
                h_new, c_new = torch.zeros_like(h), torch.zeros_like(c)
                for u in itertools.product(*[range(s) for s in plane]):
                    pre = b.expand(N, 4 * H).clone()
                    for off in offsets:
                        v = [ui + oi - r for ui, oi in zip(u, off, strict=True)]
                        if all(0 <= vi < s for vi, s in zip(v, plane, strict=True)):
                            kx = Wx[(slice(None), slice(None), *off)]  # (4H, C)
                            kh = Wh[(slice(None), slice(None), *off)]  # (4H, H)
                            at = (slice(None), slice(None), *v)
                            pre = pre + xa[t][at] @ kx.T + h[at] @ kh.T
                    i, f = torch.sigmoid(pre[:, :H]), torch.sigmoid(pre[:, H : 2 * H])
                    g, o = torch.tanh(pre[:, 2 * H : 3 * H]), torch.sigmoid(pre[:, 3 * H :])
                    at = (slice(None), slice(None), *u)
                    c_new[at] = f * c[at] + i * g
                    h_new[at] = o * torch.tanh(c_new[at])
                h, c = h_new, c_new
                hs.append(h)
            h_all = torch.stack(hs)
            if back:
                h_all = h_all.flip(0)
            outs.append(h_all.movedim(0, 2 + a))
    return outs


def _md(C, H, ndim, **kw) -> MDLSTM:
    torch.manual_seed(0)
    return MDLSTM(C, H, ndim=ndim, combine="concat", **kw).double()


# ---------------------------------------------------------------------------------------------
# MD-LSTM
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("peepholes", [True, False])
def test_mdlstm_2d_every_direction_matches_per_pixel_transcription(peepholes) -> None:
    model = _md(3, 4, 2, peepholes=peepholes)
    x = torch.randn(2, 3, 4, 5, dtype=D64)
    y = model(x)
    ref = ref_mdlstm(model, x)
    assert y.shape == (2, 16, 4, 5)
    for j, r in enumerate(ref):
        torch.testing.assert_close(y[:, 4 * j : 4 * j + 4], r, rtol=0, atol=1e-12)


def test_mdlstm_3d_every_direction_matches_per_pixel_transcription() -> None:
    model = _md(2, 3, 3)
    x = torch.randn(2, 2, 3, 2, 4, dtype=D64)
    y = model(x)
    ref = ref_mdlstm(model, x)
    assert y.shape == (2, 24, 3, 2, 4) and len(ref) == 8
    for j, r in enumerate(ref):
        torch.testing.assert_close(y[:, 3 * j : 3 * j + 3], r, rtol=0, atol=1e-12)


def test_mdlstm_sum_is_sum_of_concatenated_directions() -> None:
    model = _md(2, 3, 2)
    x = torch.randn(1, 2, 3, 4, dtype=D64)
    concat = model(x)
    model.combine = "sum"
    torch.testing.assert_close(model(x), concat.view(1, 4, 3, 3, 4).sum(1))


@pytest.mark.parametrize("ndim,shape", [(2, (2, 3)), (3, (2, 2, 2))])
def test_mdlstm_gradcheck(ndim, shape) -> None:
    model = _md(2, 2, ndim)
    x = torch.randn(2, 2, *shape, dtype=D64, requires_grad=True)
    names = [n for n, _ in model.named_parameters()]

    def fcall(x, *ps):
        return torch.func.functional_call(model, dict(zip(names, ps, strict=True)), (x,))

    inputs = (x, *[p.detach().clone().requires_grad_() for p in model.parameters()])
    assert torch.autograd.gradcheck(fcall, inputs, eps=1e-6, atol=1e-7)


@pytest.mark.parametrize("ndim", [2, 3])
def test_mdlstm_direction_equals_origin_sweep_of_flipped_input(ndim) -> None:
    model = _md(2, 3, ndim)
    shape = (3, 4) if ndim == 2 else (2, 3, 4)
    x = torch.randn(2, 2, *shape, dtype=D64)
    y = model(x)
    for j, flips in enumerate(sweep_directions(ndim)):
        if not flips:
            continue
        probe = _md(2, 3, ndim)
        with torch.no_grad():  # direction 0 of the probe gets direction j's weights
            for p_probe, p in zip(probe.parameters(), model.parameters(), strict=True):
                p_probe[0] = p[j]
        dims = [2 + a for a in flips]
        y_probe = probe(x.flip(dims))[:, :3].flip(dims)
        torch.testing.assert_close(y[:, 3 * j : 3 * j + 3], y_probe, rtol=0, atol=1e-12)


def test_mdlstm_batch_elements_are_independent() -> None:
    model = _md(2, 3, 2)
    x = torch.randn(4, 2, 5, 6, dtype=D64)
    y = model(x)
    for n in range(4):
        torch.testing.assert_close(model(x[n : n + 1]), y[n : n + 1], rtol=0, atol=1e-12)
    x2 = x.clone()
    x2[1] = torch.randn(2, 5, 6, dtype=D64)
    y2 = model(x2)
    torch.testing.assert_close(y2[[0, 2, 3]], y[[0, 2, 3]], rtol=0, atol=0)
    assert not torch.allclose(y2[1], y[1])


def test_mdlstm_origin_sweep_sees_only_the_quadrant_before_a_cell() -> None:
    model = _md(1, 2, 2)
    x = torch.randn(1, 1, 5, 5, dtype=D64)
    x2 = x.clone()
    x2[0, 0, 3, 1] += 1.0  # changes cells (i, j) with i >= 3 and j >= 1 in direction 0
    delta = (model(x2)[:, :2] - model(x)[:, :2]).abs().sum((0, 1))
    reached = delta > 0
    expected = torch.zeros(5, 5, dtype=torch.bool)
    expected[3:, 1:] = True
    assert torch.equal(reached, expected)


def test_wavefront_plan_lists_diagonals_and_predecessors() -> None:
    plan = wavefront_plan((2, 3))
    # diagonals of a 2x3 grid: {(0,0)}, {(0,1),(1,0)}, {(0,2),(1,1)}, {(1,2)}
    assert plan.bounds == ((0, 1), (1, 3), (3, 5), (5, 6))
    assert plan.order.tolist() == [0, 1, 3, 2, 4, 5]
    assert plan.order[plan.inverse].tolist() == list(range(6))
    # (1,1) is second in diagonal 2; its predecessors (0,1) [axis 0] and (1,0) [axis 1] are
    # positions 0 and 1 of diagonal 1; (0,2) has no predecessor along axis 0 (index 2 = zero row)
    assert plan.predecessors[2].tolist() == [2, 0, 0, 1]
    assert plan.predecessors[0].tolist() == [0, 0]


def test_sweep_directions_are_the_2_to_the_d_corners() -> None:
    assert sweep_directions(2) == [(), (0,), (1,), (0, 1)]
    dirs = sweep_directions(3)
    assert len(set(dirs)) == 8 and dirs[0] == () and dirs[-1] == (0, 1, 2)


def test_mdlstm_wavefront_one_direction_equals_module_origin_sweep() -> None:
    model = _md(2, 3, 2)
    x = torch.randn(2, 2, 4, 3, dtype=D64)
    p = model.peep_i, model.peep_f, model.peep_o
    y = mdlstm_wavefront(
        x.unsqueeze(0),
        model.weight_ih[:1],
        model.weight_hh[:1],
        model.bias[:1],
        tuple(t[:1] for t in p),
    )
    torch.testing.assert_close(y[0], model(x)[:, :3], rtol=0, atol=1e-12)


def test_mdlstm_single_pixel_is_one_lstm_step_from_zero_state() -> None:
    model = _md(2, 3, 2, peepholes=False)
    x = torch.randn(2, 2, 1, 1, dtype=D64)
    a = x[:, :, 0, 0] @ model.weight_ih[0] + model.bias[0]  # no predecessors: h_k = c_k = 0
    i, g, o = a[:, :3].sigmoid(), a[:, 9:12].tanh(), a[:, 12:].sigmoid()
    h = o * torch.tanh(i * g)
    torch.testing.assert_close(model(x)[:, :3, 0, 0], h, rtol=0, atol=1e-12)


def test_mdlstm_runs_in_float32_and_backpropagates() -> None:
    torch.manual_seed(0)
    model = MDLSTM(3, 4, ndim=2, peepholes=False)
    y = model(torch.randn(2, 3, 8, 7))
    y.square().mean().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
    assert model.peep_i is None and "peepholes=False" in repr(model)


@pytest.mark.parametrize(
    "kwargs,x_shape,match",
    [
        ({"ndim": 2}, (2, 3, 4), "4 dimensions"),
        ({"ndim": 3}, (2, 3, 4, 4), "5 dimensions"),
        ({"ndim": 2}, (2, 5, 4, 4), "3 input channels"),
    ],
)
def test_mdlstm_and_pyramid_reject_bad_input(kwargs, x_shape, match) -> None:
    for cls in (MDLSTM, PyraMiDLSTM):
        with pytest.raises(RnnaiError, match=match):
            cls(3, 2, **kwargs)(torch.randn(*x_shape))


def test_bad_configuration_raises_rnnai_error() -> None:
    with pytest.raises(RnnaiError, match="ndim 2 or 3"):
        MDLSTM(1, 2, ndim=4)
    with pytest.raises(RnnaiError, match="combine"):
        MDLSTM(1, 2, combine="mean")  # type: ignore[arg-type]
    with pytest.raises(RnnaiError, match="odd"):
        PyraMiDLSTM(1, 2, kernel_size=2)
    with pytest.raises(RnnaiError, match=">= 1"):
        PyraMiDLSTM(0, 2)
    with pytest.raises(RnnaiError, match="positive"):
        wavefront_plan((3, 0))


# ---------------------------------------------------------------------------------------------
# PyraMiD-LSTM
# ---------------------------------------------------------------------------------------------


def _pm(C, H, ndim, **kw) -> PyraMiDLSTM:
    torch.manual_seed(0)
    return PyraMiDLSTM(C, H, ndim=ndim, combine="concat", **kw).double()


@pytest.mark.parametrize("ndim,shape", [(3, (3, 4, 3)), (2, (4, 5))])
def test_pyramid_every_sweep_matches_direct_transcription(ndim, shape) -> None:
    model = _pm(2, 2, ndim)
    x = torch.randn(2, 2, *shape, dtype=D64)
    y = model(x)
    ref = ref_pyramid(model, x)
    assert len(ref) == 2 * ndim and y.shape == (2, 2 * 2 * ndim, *shape)
    for s, r in enumerate(ref):
        torch.testing.assert_close(y[:, 2 * s : 2 * s + 2], r, rtol=0, atol=1e-12)
    model.combine = "sum"
    torch.testing.assert_close(model(x), torch.stack(ref).sum(0), rtol=0, atol=1e-12)


def test_pyramid_kernel_5_matches_direct_transcription() -> None:
    model = _pm(1, 2, 2, kernel_size=5)
    x = torch.randn(1, 1, 3, 6, dtype=D64)
    torch.testing.assert_close(model(x), torch.cat(ref_pyramid(model, x), 1), rtol=0, atol=1e-12)


@pytest.mark.parametrize("ndim,shape", [(3, (2, 3, 2)), (2, (3, 3))])
def test_pyramid_gradcheck(ndim, shape) -> None:
    model = _pm(1, 2, ndim)
    names = [n for n, _ in model.named_parameters()]
    x = torch.randn(1, 1, *shape, dtype=D64, requires_grad=True)

    def fcall(x, *ps):
        return torch.func.functional_call(model, dict(zip(names, ps, strict=True)), (x,))

    inputs = (x, *[p.detach().clone().requires_grad_() for p in model.parameters()])
    assert torch.autograd.gradcheck(fcall, inputs, eps=1e-6, atol=1e-7)


def test_pyramid_forward_sweep_context_is_a_pyramid() -> None:
    model = _pm(1, 2, 3)
    x = torch.randn(1, 1, 5, 7, 7, dtype=D64)
    x2 = x.clone()
    x2[0, 0, 1, 3, 3] += 1.0
    # sweep 0 runs along axis 0 forwards: the input kernel (radius 1) spreads the change at step
    # 1 to a 3x3 square, and each later step's recurrent kernel widens it by one pixel
    delta = (model(x2)[:, :2] - model(x)[:, :2]).abs().sum((0, 1))  # (5, 7, 7)
    assert not delta[0].any()
    for t in range(1, 5):
        reach = torch.zeros(7, 7, dtype=torch.bool)
        lo, hi = max(0, 3 - t), min(7, 3 + t + 1)
        reach[lo:hi, lo:hi] = True
        assert torch.equal(delta[t] > 0, reach)


def test_pyramid_batch_elements_are_independent() -> None:
    model = _pm(2, 3, 2)
    x = torch.randn(3, 2, 4, 5, dtype=D64)
    y = model(x)
    for n in range(3):
        torch.testing.assert_close(model(x[n : n + 1]), y[n : n + 1], rtol=0, atol=1e-12)


@pytest.mark.parametrize("ndim", [2, 3])
def test_mdlstm_lengths_make_padded_outputs_equal_each_sample_alone(ndim) -> None:
    torch.manual_seed(3)
    layer = MDLSTM(2, 3, ndim=ndim).double()
    spatial = (3, 6) if ndim == 2 else (2, 3, 5)
    x = torch.randn(3, 2, *spatial, dtype=torch.float64)
    lengths = torch.tensor([spatial[-1], 2, 4])
    padded = layer(x, lengths)
    for n, w in enumerate(lengths.tolist()):
        alone = layer(x[n : n + 1, ..., :w])
        torch.testing.assert_close(padded[n : n + 1, ..., :w], alone, rtol=0, atol=1e-12)
    # Without lengths the backward sweeps read the padding: the outputs differ.
    assert not torch.allclose(layer(x)[1:2, ..., :2], layer(x[1:2, ..., :2]))
    # Full lengths are the same as none.
    full = torch.full((3,), spatial[-1])
    torch.testing.assert_close(layer(x, full), layer(x), rtol=0, atol=0)


@pytest.mark.parametrize(
    ("lengths", "match"),
    [
        (torch.tensor([1.0, 2.0]), "integers"),
        (torch.tensor([1, 2, 3]), "integers"),
        (torch.tensor([0, 2]), r"lie in \[1, 4\]"),
        (torch.tensor([2, 5]), r"lie in \[1, 4\]"),
    ],
)
def test_mdlstm_rejects_bad_lengths(lengths, match) -> None:
    with pytest.raises(RnnaiError, match=match):
        MDLSTM(1, 2)(torch.zeros(2, 1, 3, 4), lengths)
