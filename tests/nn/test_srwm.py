"""The SRWM against an independent transcription of its equations, gradcheck, and behaviour."""

from __future__ import annotations

import pytest
import torch

from rnnai.nn.srwm import SRWMLayer, srwm, srwm_rows, srwm_step
from rnnai.runtime.errors import RnnaiError

D64 = torch.float64


def reference(x: torch.Tensor, W0: torch.Tensor, d_out: int, num_betas: int) -> tuple:
    """Eqs. 1-4 per sequence, per step, with the four sub-matrices written out separately.

    x (B, L, n), W0 (B, D, n); the authors' test loop keeps W_y, W_q, W_k, w_b apart, so does
    this one (no shared row index, no batched update).
    """
    B, L, n = x.shape
    ys, finals = [], []
    for b in range(B):
        Wy = W0[b, :d_out].clone()
        Wq = W0[b, d_out : d_out + n].clone()
        Wk = W0[b, d_out + n : d_out + 2 * n].clone()
        Wb = W0[b, d_out + 2 * n :].clone()
        out = []
        for t in range(L):
            xt = x[b, t]
            y, q, k, beta = Wy @ xt, Wq @ xt, Wk @ xt, Wb @ xt
            q, k = torch.softmax(q, 0), torch.softmax(k, 0)
            s = torch.sigmoid(beta)
            sy, sq, sk, sb = (s[0], s[0], s[0], s[0]) if num_betas == 1 else s
            Wy = Wy + sy * torch.outer(Wy @ q - Wy @ k, k)
            Wq = Wq + sq * torch.outer(Wq @ q - Wq @ k, k)
            Wk = Wk + sk * torch.outer(Wk @ q - Wk @ k, k)
            Wb = Wb + sb * torch.outer(Wb @ q - Wb @ k, k)
            out.append(y)
        ys.append(torch.stack(out))
        finals.append(torch.cat([Wy, Wq, Wk, Wb]))
    return torch.stack(ys), torch.stack(finals)


def make(B: int = 2, L: int = 6, n: int = 3, d_out: int = 2, nb: int = 4, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.softmax(torch.randn(B, L, n, generator=g, dtype=D64), -1)
    W0 = torch.randn(B, srwm_rows(d_out, n, nb), n, generator=g, dtype=D64)
    return x.requires_grad_(), W0.requires_grad_()


@pytest.mark.parametrize("nb", [1, 4])
@pytest.mark.parametrize("mode", ["efficient", "autograd"])
def test_outputs_and_gradients_equal_the_transcription(nb: int, mode: str) -> None:
    x, W0 = make(nb=nb)
    y, W = srwm(x, W0, d_out=2, num_betas=nb, mode=mode)
    y_ref, W_ref = reference(x, W0, 2, nb)
    torch.testing.assert_close(y, y_ref, rtol=0, atol=1e-12)
    torch.testing.assert_close(W, W_ref, rtol=0, atol=1e-12)
    g = torch.Generator().manual_seed(1)
    cy, cW = (
        torch.randn(y.shape, generator=g, dtype=D64),
        torch.randn(W.shape, generator=g, dtype=D64),
    )
    grads = torch.autograd.grad((y * cy).sum() + (W * cW).sum(), (x, W0))
    grads_ref = torch.autograd.grad((y_ref * cy).sum() + (W_ref * cW).sum(), (x, W0))
    for a, b in zip(grads, grads_ref, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-10)


@pytest.mark.parametrize("C", [None, 2, 4])
def test_custom_backward_passes_gradcheck(C: int | None) -> None:
    x, W0 = make(B=2, L=5, n=2, d_out=2, nb=4)
    torch.autograd.gradcheck(
        lambda a, b: srwm(a, b, d_out=2, num_betas=4, checkpoint_every=C), (x, W0)
    )


def test_custom_backward_equals_autograd_through_the_step_loop_on_a_long_sequence() -> None:
    x, W0 = make(B=3, L=200, n=4, d_out=5, nb=4, seed=3)
    W0 = (0.3 * W0).detach().requires_grad_()
    outs = {m: srwm(x, W0, d_out=5, mode=m) for m in ("efficient", "autograd")}
    grads = {
        m: torch.autograd.grad(y.square().sum() + W.sum(), (x, W0)) for m, (y, W) in outs.items()
    }
    for a, b in zip(grads["efficient"], grads["autograd"], strict=True):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-9)


def test_checkpoints_keep_float32_gradients_close_to_float64() -> None:
    x, W0 = make(B=2, L=300, n=8, d_out=8, nb=4, seed=4)
    W0 = (0.3 * W0).detach()
    x = x.detach()
    g64 = torch.autograd.grad(srwm(x, W0.requires_grad_(), d_out=8)[0].sum(), W0)[0]
    for C in (None, 16):
        W32 = W0.float().requires_grad_()
        y32, _ = srwm(x.float(), W32, d_out=8, checkpoint_every=C)
        (g32,) = torch.autograd.grad(y32.sum(), W32)
        assert (g32.double() - g64).abs().max() < 1e-4 * g64.abs().max()


def test_srwm_step_is_one_step_of_the_sequence() -> None:
    x, W0 = make()
    y, W = srwm(x[:, :1], W0, d_out=2)
    y1, W1 = srwm_step(W0, x[:, 0], d_out=2)
    torch.testing.assert_close(y[:, 0], y1, rtol=0, atol=1e-14)
    torch.testing.assert_close(W, W1, rtol=0, atol=1e-14)


def test_the_matrix_modifies_itself_and_the_update_depends_on_the_input() -> None:
    x, W0 = make(L=4)
    _, W = srwm(x, W0, d_out=2)
    _, W_other = srwm(x.flip(1), W0, d_out=2)
    assert (W - W0).abs().max() > 1e-3
    assert (W - W_other).abs().max() > 1e-6


def test_chunked_calls_carrying_the_state_equal_one_call() -> None:
    torch.manual_seed(0)
    layer = SRWMLayer(8, num_heads=2).double()
    h = torch.randn(3, 11, 8, dtype=D64)
    out, W = layer(h)
    o1, s = layer(h[:, :4])
    o2, s = layer(h[:, 4:9], s)
    o3, s = layer(h[:, 9:], s)
    torch.testing.assert_close(torch.cat([o1, o2, o3], 1), out, rtol=0, atol=1e-12)
    torch.testing.assert_close(s, W, rtol=0, atol=1e-12)


def test_layer_modes_agree_and_layer_matches_its_equation() -> None:
    torch.manual_seed(1)
    layer = SRWMLayer(6, num_heads=3, num_betas=1, layer_norm=False).double()
    h = torch.randn(2, 5, 6, dtype=D64)
    out, W = layer(h)
    layer.mode = "autograd"
    out2, _ = layer(h)
    torch.testing.assert_close(out, out2, rtol=0, atol=1e-12)
    x = torch.softmax(h.view(2, 5, 3, 2).transpose(1, 2), -1).reshape(6, 5, 2)
    y, _ = reference(x, layer.W0.detach().repeat(2, 1, 1), 2, 1)
    y = y.view(2, 3, 5, 2).transpose(1, 2).reshape(2, 5, 6)
    torch.testing.assert_close(out, h + layer.out(y), rtol=0, atol=1e-12)


def test_layer_without_input_softmax_matches_the_authors_few_shot_layer() -> None:
    """input_softmax=False, LayerNorm residual, four rates: the setting of the authors' few-shot
    models (raw head slices into Eq. 1, softmax only on q and k); also differentiable."""
    torch.manual_seed(4)
    layer = SRWMLayer(6, num_heads=2, input_softmax=False, beta_init=0.0).double()
    h = torch.randn(2, 5, 6, dtype=D64)
    out, W = layer(h)
    x = h.view(2, 5, 2, 3).transpose(1, 2).reshape(4, 5, 3)  # no softmax on the input
    y, Wref = reference(x, layer.W0.detach().repeat(2, 1, 1), 3, 4)
    y = y.view(2, 2, 5, 3).transpose(1, 2).reshape(2, 5, 6)
    ln = torch.nn.functional.layer_norm(h, (6,))  # weight 1, bias 0 at initialisation
    torch.testing.assert_close(out, ln + layer.out(y), rtol=0, atol=1e-10)
    torch.testing.assert_close(W, Wref.view(2, 2, 13, 3), rtol=0, atol=1e-10)
    hg = h.clone().requires_grad_()
    assert torch.autograd.gradcheck(lambda a: layer(a)[0], (hg,), eps=1e-6, atol=1e-6)


def test_pre_norm_layer_reads_the_normalised_input_and_adds_the_raw_one() -> None:
    """pre_norm=True: the SRWM of every head reads LayerNorm(h), the residual is h itself:
    out = h + W_o y(LayerNorm(h)); differentiable; and it differs from the default layer."""
    torch.manual_seed(5)
    layer = SRWMLayer(6, num_heads=2, input_softmax=False, beta_init=0.0, pre_norm=True).double()
    h = 0.2 * torch.randn(2, 5, 6, dtype=D64)
    out, W = layer(h)
    ln = torch.nn.functional.layer_norm(h, (6,))  # weight 1, bias 0 at initialisation
    x = ln.view(2, 5, 2, 3).transpose(1, 2).reshape(4, 5, 3)
    y, Wref = reference(x, layer.W0.detach().repeat(2, 1, 1), 3, 4)
    y = y.view(2, 2, 5, 3).transpose(1, 2).reshape(2, 5, 6)
    torch.testing.assert_close(out, h + layer.out(y), rtol=0, atol=1e-10)
    torch.testing.assert_close(W, Wref.view(2, 2, 13, 3), rtol=0, atol=1e-10)
    layer.pre_norm = False
    assert (layer(h)[0] - out).abs().max() > 1e-3
    layer.pre_norm = True
    hg = h.clone().requires_grad_()
    assert torch.autograd.gradcheck(lambda a: layer(a)[0], (hg,), eps=1e-6, atol=1e-6)
    with pytest.raises(RnnaiError, match="pre_norm"):
        SRWMLayer(6, num_heads=2, layer_norm=False, pre_norm=True)


def test_layer_time_major_and_gradients_reach_W0() -> None:
    torch.manual_seed(2)
    layer = SRWMLayer(4, num_heads=2, batch_first=False)
    h = torch.randn(7, 3, 4)  # (L, N, H_in)
    out, W = layer(h)
    assert out.shape == (7, 3, 4) and W.shape == (3, 2, 3 * 2 + 4, 2)
    out.sum().backward()
    assert layer.W0.grad is not None and layer.W0.grad.abs().sum() > 0


def test_initial_beta_rows_have_the_requested_mean() -> None:
    torch.manual_seed(3)
    layer = SRWMLayer(64, num_heads=1, beta_init=-1.0)
    assert abs(layer.W0[0, 3 * 64 :].mean().item() + 1.0) < 0.1
    assert abs(layer.W0[0, : 3 * 64].mean().item()) < 0.05
    zero = SRWMLayer(64, num_heads=1, beta_init=0.0)  # the authors' few-shot setting
    assert abs(zero.W0[0, 3 * 64 :].mean().item()) < 0.1


def test_bad_input_raises_rnnai_error() -> None:
    x, W0 = make()
    with pytest.raises(RnnaiError, match="mode"):
        srwm(x, W0, d_out=2, mode="fast")
    with pytest.raises(RnnaiError, match="W of shape"):
        srwm(x, W0, d_out=3)
    with pytest.raises(RnnaiError, match="num_betas"):
        srwm(x, W0, d_out=2, num_betas=2)
    with pytest.raises(RnnaiError, match="checkpoint_every"):
        srwm(x, W0, d_out=2, checkpoint_every=0)
    with pytest.raises(RnnaiError, match="dividing d_model"):
        SRWMLayer(5, num_heads=2)
    layer = SRWMLayer(4, num_heads=2)
    with pytest.raises(RnnaiError, match="H_in=4"):
        layer(torch.randn(2, 3, 5))
    with pytest.raises(RnnaiError, match="dtype"):
        layer(torch.randn(2, 3, 4, dtype=D64))
    with pytest.raises(RnnaiError, match="state of shape"):
        layer(torch.randn(2, 3, 4), torch.zeros(2, 2, 3, 3))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_runs_on_cuda_and_matches_cpu() -> None:
    x, W0 = make()
    y, W = srwm(x, W0, d_out=2)
    yc, Wc = srwm(x.cuda(), W0.cuda(), d_out=2)
    torch.testing.assert_close(yc.cpu(), y)
    torch.testing.assert_close(Wc.cpu(), W)
