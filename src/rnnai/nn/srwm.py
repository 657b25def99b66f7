"""The modern self-referential weight matrix (SRWM): a weight matrix that learns to modify itself.

Paper (read this module beside it):

* K. Irie, I. Schlag, R. Csordás & J. Schmidhuber, "A Modern Self-Referential Weight Matrix That
  Learns to Modify Itself", ICML 2022 (arXiv:2202.05780). Public code: IDSIA/modern-srwm
  (CUDA kernels only).

One SRWM of one head has input size d_in, output size d_out and the weight matrix
W_t of shape (d_out + 2 d_in + n_beta) x d_in. Per step, with phi = softmax::

    [y_t, q_t, k_t, beta_t] = W_{t-1} phi(x_t)                                       (Eq. 1)
    v_t     = W_{t-1} phi(q_t)            value the matrix generates for its own query  (Eq. 2)
    v-bar_t = W_{t-1} phi(k_t)            value currently bound to the key               (Eq. 3)
    W_t     = W_{t-1} + sigma(beta_t) (v_t - v-bar_t) (x) phi(k_t)                        (Eq. 4)

sigma is the logistic sigmoid and (x) the outer product; y_t (size d_out) is the output. W itself
produces the key, the query and the learning rate that rewrite all of W, including the rows that
produce them. ``num_betas`` = n_beta: 1 is a single learning rate as in Eq. 4 above; 4 (default)
gives each of the four row blocks of W (y, q, k, beta rows) its own rate sigma(beta_t)_i, as the
authors' public code does.

Multi-head layer (`SRWMLayer`, the authors' layer): the input h_t (d_model = heads * d_head) is
split into heads, each head runs its own SRWM with d_in = d_out = d_head (softmax on the head's
input slice), the heads' outputs are concatenated and projected, W_o, back to d_model, and added to
the input: out_t = LayerNorm(h_t) + W_o [y_t^1, ..., y_t^H] (``layer_norm=False``: h_t + ...).
``pre_norm=True`` (ours, not the authors' layer) moves the LayerNorm onto the SRWM's input, as in
a pre-norm Transformer block: the heads read LayerNorm(h_t) and out_t = h_t + W_o [...]. This
fixes the scale of x_t in Eq. 1 at about 1 whatever the scale of h_t; with small h_t (the
residual stream of a freshly initialised network) phi(q_t) and phi(k_t) start nearly uniform,
the stored values W (phi(q) - phi(k)) and their read-out phi(k_s) . x_t are both small, and
training can sit on a long plateau at chance (measured in `memory.srwm_fewshot`).
Each head's initial matrix W_0 is a learned parameter, N(0, 1/d_head) (std 1/sqrt(d_head)),
except the beta rows, N(beta_init, 1/d_head) with beta_init = -1 as in the authors' code.

Computation. ``mode="autograd"`` runs Eqs. 1-4 step by step under autograd, which stores one W per
step: memory O(T |W|). ``mode="efficient"`` (default) is a custom autograd function: the forward
pass updates W in place and keeps per step only two vectors of W's row count D, W_{t-1} x_t
(from which y_t, phi(q_t), phi(k_t), sigma(beta_t) follow) and v_t - v-bar_t: O(T D), no per-step
matrix. The backward pass walks back in time and recovers W_{t-1} from W_t by undoing the rank-1
update, W_{t-1} = W_t - sigma(beta_t) (v_t - v-bar_t) (x) phi(k_t), so that the matrices it holds
take O(|W|) memory. The softmaxes, sigmoids and learning-rate bookkeeping of all steps are batched
outside the time loop; inside it run only the matrix-vector products and rank-1 updates. Undoing
the update in floating point adds one rounding error of W per step; ``checkpoint_every=C`` also
stores W every C steps (O(T / C |W|)) and restarts the walk from these exact copies.
`rnnai bench srwm` times the two modes.

What was checked, and deviations. The equations above are checked against the authors' public
PyTorch reference loop (the test inside their ``self_ref_v0`` package) and their ``SRWMlayer``;
the paper's PDF text was not available to us, so the placement of phi (softmax on x_t, q_t, k_t,
none on y_t), the four learning rates and the layer's LayerNorm/residual follow that code. Their
code skips the weight update after the last step of a sequence (its result is never used there);
we always update, so that the returned state continues the sequence exactly. Their state is the
change W_T - W_0; ours is W_T itself. The two settings of phi on x_t and of beta_init both come
from the authors: the defaults here (softmax on x_t, beta rows of mean -1) follow the reference
loop; their few-shot models (``supervised_learning/model_few_shot.py``) build the layer without
the input softmax and with beta rows of mean 0 (``input_softmax=False, beta_init=0.0``; a comment
in their layer: "tried -1 for beta but 0 seems to be better"). In both, their CUDA kernel applies
the softmax to q_t and k_t and the sigmoid to beta_t itself, as Eqs. 2-4 here. Dropout on the
layer output is left to the caller. The code is device-agnostic (CPU and CUDA); no custom
kernel.

Schmidhuber's 1993 self-referential weight matrix is `rnnai.nn.srwm1993` (its docstring says how
its weight-modification equation was established from the paper's own derivative).

Examples:
    >>> import torch
    >>> from rnnai.nn.srwm import SRWMLayer, srwm
    >>> _ = torch.manual_seed(0)
    >>> layer = SRWMLayer(16, num_heads=2)              # d_head = 8
    >>> out, W = layer(torch.randn(3, 10, 16))          # (N, L, H_in)
    >>> tuple(out.shape), tuple(W.shape)                # W: (N, heads, d_out + 2 d_in + 4, d_in)
    ((3, 10, 16), (3, 2, 28, 8))
    >>> x = torch.softmax(torch.randn(2, 7, 4, dtype=torch.float64), -1)
    >>> W0 = torch.randn(2, 3 + 8 + 1, 4, dtype=torch.float64)
    >>> y1, W1 = srwm(x, W0, d_out=3, num_betas=1, mode="efficient")
    >>> y2, W2 = srwm(x, W0, d_out=3, num_betas=1, mode="autograd")
    >>> bool(torch.allclose(y1, y2)) and bool(torch.allclose(W1, W2))
    True
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn
from torch.autograd.function import once_differentiable

from rnnai.runtime.errors import RnnaiError

__all__ = ["MODES", "SRWMLayer", "srwm", "srwm_rows", "srwm_step"]

MODES: tuple[str, ...] = ("efficient", "autograd")
"""Computation forms accepted by `srwm` and `SRWMLayer`."""


def srwm_rows(d_out: int, d_in: int, num_betas: int) -> int:
    """Rows of one head's weight matrix: d_out + 2 d_in + num_betas (y, q, k and beta rows)."""
    return d_out + 2 * d_in + num_betas


def _row_index(d_out: int, d_in: int, num_betas: int, device: torch.device) -> Tensor:
    """For each row of W, the index of its learning rate in sigma(beta_t): (D,) long."""
    if num_betas == 1:
        return torch.zeros(srwm_rows(d_out, d_in, 1), dtype=torch.long, device=device)
    sizes = torch.tensor([d_out, d_in, d_in, num_betas], device=device)
    return torch.repeat_interleave(torch.arange(4, device=device), sizes)  # (D,)


def _rate_matrix(d_out: int, d_in: int, num_betas: int, like: Tensor) -> Tensor:
    """(D, n_beta) one-hot: row i of W takes learning rate j where entry (i, j) is 1."""
    rows = _row_index(d_out, d_in, num_betas, like.device)
    return torch.nn.functional.one_hot(rows, num_betas).to(like.dtype)


def _split(o: Tensor, d_out: int, d_in: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """[y, q, k, beta] = o along the last dimension."""
    return (
        o[..., :d_out],
        o[..., d_out : d_out + d_in],
        o[..., d_out + d_in : d_out + 2 * d_in],
        o[..., d_out + 2 * d_in :],
    )


def srwm_step(W: Tensor, x_t: Tensor, *, d_out: int, num_betas: int = 4) -> tuple[Tensor, Tensor]:
    """One SRWM step, Eqs. 1-4 as written (plain autograd).

    Args:
        W: W_{t-1}, (..., d_out + 2 d_in + num_betas, d_in).
        x_t: phi(x_t), (..., d_in): the input already through the softmax.
        d_out: Size of y_t.
        num_betas: 1 (one learning rate) or 4 (one per row block).

    Returns:
        y_t (..., d_out) and W_t (same shape as W).

    Raises:
        RnnaiError: For mismatched shapes or a bad num_betas.
    """
    d_in = x_t.shape[-1]
    _check_sizes("srwm_step", W, d_out, d_in, num_betas)
    o = (W @ x_t.unsqueeze(-1)).squeeze(-1)  # Eq. 1   (..., D)
    y, q, k, beta = _split(o, d_out, d_in)
    q, k = torch.softmax(q, dim=-1), torch.softmax(k, dim=-1)
    v = (W @ q.unsqueeze(-1)).squeeze(-1)  # Eq. 2   (..., D)
    v_bar = (W @ k.unsqueeze(-1)).squeeze(-1)  # Eq. 3   (..., D)
    rate = torch.sigmoid(beta)[..., _row_index(d_out, d_in, num_betas, W.device)]  # (..., D)
    W = W + (rate * (v - v_bar)).unsqueeze(-1) * k.unsqueeze(-2)  # Eq. 4
    return y, W


def _check_sizes(fn: str, W: Tensor, d_out: int, d_in: int, num_betas: int) -> None:
    if num_betas not in (1, 4):
        raise RnnaiError(f"{fn} expected num_betas 1 or 4, got {num_betas!r}")
    if not isinstance(d_out, int) or d_out < 1:
        raise RnnaiError(f"{fn} expected d_out >= 1, got {d_out!r}")
    D = srwm_rows(d_out, d_in, num_betas)
    if W.dim() < 2 or tuple(W.shape[-2:]) != (D, d_in):
        raise RnnaiError(
            f"{fn} expected W of shape (..., {D}, {d_in}) for d_out={d_out}, d_in={d_in}, "
            f"num_betas={num_betas}, got {tuple(W.shape)}"
        )


class _SRWMFunction(torch.autograd.Function):
    """Eqs. 1-4 over a sequence with an O(|W|)-memory backward (module docstring)."""

    @staticmethod
    def forward(
        ctx: Any,
        x: Tensor,
        W0: Tensor,
        d_out: int,
        num_betas: int,
        checkpoint_every: int | None,
    ) -> tuple[Tensor, Tensor]:
        B, L, n = x.shape  # x (B, L, d_in), W0 (B, D, d_in); B = batch * heads
        W = W0.detach().clone(memory_format=torch.contiguous_format)
        D = W.shape[1]
        M = _rate_matrix(d_out, n, num_betas, x)  # (D, n_beta)
        xs = x.detach().transpose(0, 1).unsqueeze(2).contiguous()  # (L, B, 1, d_in)
        O = x.new_empty(L, B, 1, D)  # W_{t-1} x_t, Eq. 1
        Dv = x.new_empty(L, B, 1, D)  # v_t - v-bar_t = W_{t-1} (phi(q_t) - phi(k_t))
        ckpts = []
        # unbind once: per-step indexing costs more than the small products themselves
        for t, (x_t, o, d) in enumerate(zip(xs.unbind(0), O.unbind(0), Dv.unbind(0), strict=True)):
            if checkpoint_every and t % checkpoint_every == 0 and t > 0:
                ckpts.append(W.clone())  # W_t, t = C, 2C, ...
            # W v is computed as v^T W^T: torch's CPU bmm is several times faster in this form
            torch.bmm(x_t, W.transpose(1, 2), out=o)  # Eq. 1   (B, 1, D)
            qk = torch.softmax(o[:, 0, d_out : d_out + 2 * n].view(B, 2, n), dim=-1)
            q, k = qk.unbind(1)  # (B, d_in)
            torch.bmm((q - k).unsqueeze(1), W.transpose(1, 2), out=d)  # Eqs. 2-3   (B, 1, D)
            rate = torch.sigmoid(o[:, 0, d_out + 2 * n :]) @ M.t()  # sigma(beta_t) per row (B, D)
            W.addcmul_((rate * d[:, 0]).unsqueeze(-1), k.unsqueeze(1))  # Eq. 4
        stacked = torch.stack(ckpts) if ckpts else x.new_empty(0)
        ctx.save_for_backward(x, W0, W, O, Dv, stacked)
        ctx.shape = (d_out, num_betas, checkpoint_every)
        return O[:, :, 0, :d_out].transpose(0, 1), W

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, gY: Tensor, gWL: Tensor) -> tuple[Tensor | None, ...]:
        x, W0, WL, O, Dv, ckpts = ctx.saved_tensors
        d_out, num_betas, C = ctx.shape
        B, L, n = x.shape
        O, Dv = O.squeeze(2), Dv.squeeze(2)  # (L, B, D)
        M = _rate_matrix(d_out, n, num_betas, x)  # (D, n_beta)
        QK = torch.softmax(O[..., d_out : d_out + 2 * n].reshape(L, B, 2, n), dim=-1)
        Q, K = QK.unbind(2)  # (L, B, d_in)
        S = torch.sigmoid(O[..., d_out + 2 * n :])  # (L, B, n_beta)
        S_rows = S @ M.t()  # (L, B, D)
        U = S_rows * Dv  # the update's left factor u_t   (L, B, D)
        # right factors of W_{t-1}'s gradient: [phi(q_t) - phi(k_t); x_t]   (L, B, 2, d_in)
        R = torch.stack([Q - K, x.transpose(0, 1)], dim=2)
        gx = x.new_empty(L, B, 1, n)
        steps = list(
            zip(
                U.unsqueeze(-1).unbind(0),  # u_t as a column   (B, D, 1)
                U.unsqueeze(-2).unbind(0),  # and as a row   (B, 1, D)
                K.unsqueeze(-2).unbind(0),  # phi(k_t) as a row   (B, 1, d_in)
                QK.unbind(0),
                S_rows.unbind(0),
                Dv.unbind(0),
                (S * (1.0 - S)).unbind(0),  # sigmoid'
                gY.transpose(0, 1).unbind(0),
                R.unbind(0),
                gx.unbind(0),
                strict=True,
            )
        )
        W = WL.clone()
        gW = gWL.clone(memory_format=torch.contiguous_format)
        for t in range(L - 1, -1, -1):
            u_col, u_row, k_row, qk, s_rows, d, ds, gy, r, gx_t = steps[t]
            if t == 0:
                W.copy_(W0)
            elif C and t % C == 0:
                W.copy_(ckpts[t // C - 1])
            else:
                W.addcmul_(u_col, k_row, value=-1.0)  # W_{t-1}: Eq. 4 undone
            # through Eq. 4, W_t = W_{t-1} + u k^T: d u = gW k, d k = gW^T u
            gu = torch.bmm(k_row, gW.transpose(1, 2)).squeeze(1)  # (B, D)
            gk = torch.bmm(u_row, gW).squeeze(1)  # (B, d_in)
            gd = gu * s_rows  # d(v - v-bar)
            Wgd = torch.bmm(gd.unsqueeze(1), W).squeeze(1)  # W^T gd: d phi(q), -d phi(k)
            g_qk = torch.stack([Wgd, gk - Wgd], dim=1)  # (B, 2, d_in)
            g_pre = qk * (g_qk - (qk * g_qk).sum(-1, keepdim=True))  # softmax backward
            gbeta = ((gu * d) @ M) * ds  # (B, n_beta)
            go = torch.cat([gy, g_pre.view(B, 2 * n), gbeta], dim=-1)  # d o_t   (B, D)
            torch.bmm(go.unsqueeze(1), W, out=gx_t)  # Eq. 1: d x_t = W^T d o_t
            gW.baddbmm_(torch.stack([gd, go], dim=-1), r)  # + gd (q - k)^T + go x_t^T
        return gx.squeeze(2).transpose(0, 1), gW, None, None, None


def srwm(
    x: Tensor,
    W0: Tensor,
    *,
    d_out: int,
    num_betas: int = 4,
    mode: str = "efficient",
    checkpoint_every: int | None = None,
) -> tuple[Tensor, Tensor]:
    """Run the SRWM (Eqs. 1-4) over a sequence.

    Args:
        x: phi(x), (..., L, d_in): the inputs already through the softmax.
        W0: W_0, (..., d_out + 2 d_in + num_betas, d_in), with the same leading dimensions as x
            (or broadcastable to them).
        d_out: Size of y_t.
        num_betas: 1 (one learning rate) or 4 (one per row block, the authors' code).
        mode: ``"efficient"`` (custom backward, memory O(|W|)) or ``"autograd"`` (step loop).
        checkpoint_every: ``"efficient"`` only: also keep W every C steps and restart the
            backward walk from these copies (None: undo every update).

    Returns:
        y (..., L, d_out) and the final matrix W_L (..., D, d_in).

    Raises:
        RnnaiError: For mismatched shapes, a bad mode, num_betas or checkpoint_every.
    """
    if mode not in MODES:
        raise RnnaiError(f"srwm expected mode 'efficient' or 'autograd', got {mode!r}")
    if checkpoint_every is not None and (
        not isinstance(checkpoint_every, int) or checkpoint_every < 1
    ):
        raise RnnaiError(f"srwm expected checkpoint_every >= 1 or None, got {checkpoint_every!r}")
    if not isinstance(x, Tensor) or x.dim() < 2:
        raise RnnaiError(f"srwm expected x of shape (..., L, d_in), got {_shape(x)}")
    d_in = x.shape[-1]
    _check_sizes("srwm", W0, d_out, d_in, num_betas)
    batch = torch.broadcast_shapes(x.shape[:-2], W0.shape[:-2])
    L, D = x.shape[-2], W0.shape[-2]
    if mode == "autograd":
        W = W0.expand(*batch, D, d_in)
        x = x.expand(*batch, L, d_in)
        ys = []
        for x_t in x.unbind(-2):
            y_t, W = srwm_step(W, x_t, d_out=d_out, num_betas=num_betas)
            ys.append(y_t)
        return torch.stack(ys, dim=-2), W
    xf = x.expand(*batch, L, d_in).reshape(-1, L, d_in)  # (B, L, d_in)
    Wf = W0.expand(*batch, D, d_in).reshape(-1, D, d_in)  # (B, D, d_in)
    y, W = _SRWMFunction.apply(xf, Wf, d_out, num_betas, checkpoint_every)
    return y.reshape(*batch, L, d_out), W.reshape(*batch, D, d_in)


def _shape(x: object) -> object:
    return tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__


def _check_input(cls: str, x: Tensor, size: int, batch_first: bool, dtype: torch.dtype) -> Tensor:
    """Validate x (shape, and the parameters' dtype) and return it as (N, L, H_in)."""
    expected = "(N, L, H_in)" if batch_first else "(L, N, H_in)"
    if not isinstance(x, Tensor) or x.dim() != 3 or x.shape[-1] != size:
        raise RnnaiError(
            f"{cls} expected input of shape {expected} with H_in={size}, got {_shape(x)}"
        )
    if x.dtype != dtype:
        raise RnnaiError(f"{cls} expected input dtype {dtype} (the parameters'), got {x.dtype}")
    return x if batch_first else x.transpose(0, 1)


class SRWMLayer(nn.Module):
    """The authors' multi-head SRWM layer: heads of SRWMs, output projection, residual.

    Per head h: x_t^h = softmax(h_t^h) (the head's slice of the input), y_t^h from Eqs. 1-4 with
    the head's own W; out_t = LayerNorm(h_t) + W_o [y_t^1, ..., y_t^H] (``layer_norm=False``:
    h_t + W_o [...]; ``pre_norm=True``: the heads read LayerNorm(h_t) and out_t = h_t +
    W_o [...]). See the module docstring for the initialisation.

    Args:
        d_model: H_in = num_heads * d_head, the size of h_t and of the output.
        num_heads: Number of heads (must divide d_model).
        num_betas: 1 or 4 learning rates per head (4: the authors' code).
        layer_norm: LayerNorm on the residual branch's input, as the authors' layer.
        pre_norm: Put the LayerNorm on the SRWM's input instead (out = h + W_o y(LayerNorm(h)));
            needs ``layer_norm=True``. Not in the authors' layer (module docstring).
        input_softmax: Softmax on each head's input slice (phi(x_t) of Eq. 1), as the authors'
            reference loop; their few-shot models run without it (False).
        beta_init: Mean of the initial beta rows (sigma(-1) = 0.27, the reference loop; their
            few-shot models use 0, sigma(0) = 0.5).
        mode: ``"efficient"`` or ``"autograd"`` (see `srwm`).
        checkpoint_every: See `srwm`.
        batch_first: Input and output (N, L, H_in) if True (default), else (L, N, H_in).

    Shape:
        forward(h, state=None) -> (out, state): h and out (N, L, H_in) (batch_first) or
        (L, N, H_in); state (N, num_heads, D, d_head) with D = 3 d_head + num_betas, the heads'
        matrices after the last step (pass it back in to continue the sequence).
    """

    def __init__(
        self,
        d_model: int,
        *,
        num_heads: int = 1,
        num_betas: int = 4,
        layer_norm: bool = True,
        pre_norm: bool = False,
        input_softmax: bool = True,
        beta_init: float = -1.0,
        mode: str = "efficient",
        checkpoint_every: int | None = None,
        batch_first: bool = True,
    ) -> None:
        super().__init__()
        if min(d_model, num_heads) < 1 or d_model % num_heads:
            raise RnnaiError(
                f"SRWMLayer expected num_heads >= 1 dividing d_model, got d_model={d_model}, "
                f"num_heads={num_heads}"
            )
        if mode not in MODES:
            raise RnnaiError(f"SRWMLayer expected mode 'efficient' or 'autograd', got {mode!r}")
        if num_betas not in (1, 4):
            raise RnnaiError(f"SRWMLayer expected num_betas 1 or 4, got {num_betas!r}")
        if pre_norm and not layer_norm:
            raise RnnaiError("SRWMLayer expected layer_norm=True with pre_norm=True, got False")
        self.pre_norm = pre_norm
        self.d_model, self.num_heads = d_model, num_heads
        self.d_head = d_model // num_heads
        self.num_betas, self.mode, self.checkpoint_every = num_betas, mode, checkpoint_every
        self.input_softmax, self.batch_first = input_softmax, batch_first
        D = srwm_rows(self.d_head, self.d_head, num_betas)
        self.W0 = nn.Parameter(torch.empty(num_heads, D, self.d_head))  # (H, D, d_head)
        self.out = nn.Linear(d_model, d_model, bias=False)  # W_o
        self.norm = nn.LayerNorm(d_model) if layer_norm else None
        self.reset_parameters(beta_init)

    def reset_parameters(self, beta_init: float = -1.0) -> None:
        """N(0, 1/d_head) for the y, q, k rows and N(beta_init, 1/d_head) for the beta rows."""
        std = 1.0 / math.sqrt(self.d_head)
        with torch.no_grad():
            nn.init.normal_(self.W0, std=std)
            self.W0[:, 3 * self.d_head :].add_(beta_init)
        self.out.reset_parameters()
        if self.norm is not None:
            self.norm.reset_parameters()

    def forward(self, h: Tensor, state: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Run the layer over a sequence; see the class docstring for shapes."""
        h = _check_input("SRWMLayer", h, self.d_model, self.batch_first, self.W0.dtype)
        N, L, _ = h.shape
        H, d = self.num_heads, self.d_head
        want = (N, H, self.W0.shape[1], d)
        if state is not None and tuple(state.shape) != want:
            raise RnnaiError(f"SRWMLayer expected state of shape {want}, got {tuple(state.shape)}")
        normed = self.norm(h) if self.norm is not None else h
        x = (normed if self.pre_norm else h).view(N, L, H, d).transpose(1, 2)  # (N, H, L, d)
        if self.input_softmax:
            x = torch.softmax(x, dim=-1)
        W0 = self.W0.unsqueeze(0) if state is None else state  # (1 or N, H, D, d)
        y, W = srwm(
            x,
            W0,
            d_out=d,
            num_betas=self.num_betas,
            mode=self.mode,
            checkpoint_every=self.checkpoint_every,
        )  # (N, H, L, d), (N, H, D, d)
        out = self.out(y.transpose(1, 2).reshape(N, L, H * d))  # (N, L, H_in)
        out = (h if self.pre_norm else normed) + out
        return (out if self.batch_first else out.transpose(0, 1)), W

    def extra_repr(self) -> str:
        """Summary shown by print(module)."""
        return (
            f"{self.d_model}, num_heads={self.num_heads}, d_head={self.d_head}, "
            f"num_betas={self.num_betas}, mode={self.mode}, batch_first={self.batch_first}"
        )
