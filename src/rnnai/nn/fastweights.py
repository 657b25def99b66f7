"""Fast weight programmers: the 1992 slow/fast net pair, the sum rule and the delta rule.

Papers (read this module beside them):

* J. Schmidhuber, "Learning to control fast-weight memories: an alternative to dynamic recurrent
  networks", Neural Computation 4(1):131-139, 1992. A slow feedforward net S sees the input x_t
  and programs the weights W of a fast net F; in the outer-product design S has FROM and TO
  output units whose outer product is added to the fast weights, and F maps the same input x_t
  through W.
* I. Schlag, K. Irie & J. Schmidhuber, "Linear Transformers Are Secretly Fast Weight
  Programmers", ICML 2021 (arXiv:2102.11174). Causal linear attention is the sum rule; the delta
  rule; sum-normalised feature maps; DPFP.
* S. Yang, B. Wang, Y. Zhang, Y. Shen & Y. Kim, "Parallelizing Linear Transformers with the Delta
  Rule over Sequence Length", NeurIPS 2024 (arXiv:2406.06484). The chunk-parallel form of the
  delta rule (WY representation, UT transform).
* K. Choromanski et al., "Rethinking Attention with Performers", ICLR 2021. FAVOR+ features.

The slow net emits a key k_t, value v_t, query q_t (and for the delta rule a learning rate beta_t)
from x_t; phi is a feature map (below) and W_t (d_v x d_phi) are the fast weights::

    sum rule (= unnormalised causal linear attention):
        W_t   = W_{t-1} + v_t phi(k_t)^T                                          (Eq. 1)
        y_t   = W_t phi(q_t)                                                       (Eq. 2)

    delta rule (Schlag et al.):
        v-bar_t = W_{t-1} phi(k_t)                 value currently bound to k_t    (Eq. 3)
        beta_t  = sigmoid(w_beta x_t)              one learning rate per head       (Eq. 4)
        W_t     = W_{t-1} + beta_t (v_t - v-bar_t) phi(k_t)^T                        (Eq. 5)
        y_t     = W_t phi(q_t)                                                       (Eq. 6)

    sum normalisation (Schlag et al., used with the delta rule instead of linear attention's
    denominator): phi'(x) = phi(x) / sum_j phi(x)_j, for keys and queries.   (Eq. 7)

    1992 fast weight programmer (outer-product design, as summarised by Schlag et al.):
        a_t, b_t = S(x_t)                          TO units (d_out), FROM units (d_in)
        W_t      = sigma(W_{t-1} + a_t b_t^T)                                           (Eq. 8)
        y_t      = W_t x_t                         the fast net F                        (Eq. 9)

Feature maps (those compared by Schlag et al.; d = key size): ``"identity"``; ``"elu+1"``
(Katharopoulos et al. 2020, the "Linear Transformer"), phi(x) = elu(x) + 1, size d; ``"dpfp-nu"``
for nu = 1, 2, 3, ... (deterministic parameter-free projection): with r = relu and
z = [r(x), r(-x)] (size 2d), phi_{i,j}(x) = z_i z_{i+j} for j = 1..nu (indices mod 2d), size
2 nu d; ``"favor+"`` (positive orthogonal random features), phi(x) = exp(w_i^T x - |x|^2 / 2) /
sqrt(m), i = 1..m, with fixed random w_i drawn from a generator.

Computation forms. ``mode="recurrent"`` runs the equations step by step (autograd stores one W per
step: memory O(T d_v d_phi)). ``mode="chunk"`` (default) splits the sequence into chunks of C
steps. Within a chunk that starts from the state S, the delta rule's product of generalized
Householder updates is written in the WY form W_t = S + sum_{i<=t} (u_i - S w_i) phi(k_i)^T, where
(UT transform, Yang et al.)::

    A = I + tril(diag(beta) K K^T, -1)           (C x C, unit lower triangular)
    Wy = A^{-1} diag(beta) K,  U = A^{-1} diag(beta) V        (triangular solves)
    Y = Q S^T + tril(Q K^T) (U - Wy S^T),   S <- S + (U - Wy S^T)^T K

with K, Q, V the chunk's rows phi(k_t), phi(q_t), v_t (Wy is Yang et al.'s W, renamed here to
tell it from the fast weights). The solves of all chunks run in parallel;
only the C x d products that carry S from one chunk to the next are sequential. The sum rule is the
same with U = V and Wy = 0 (causal linear attention by chunks). Autograd differentiates through the
chunked computation; what it stores is O(T C + (T / C) d_v d_phi), linear in T. Both forms agree to
rounding (tests in float64); `rnnai bench memory` times them against each other and against
softmax attention.

Deviations: the 1992 design's squashing sigma of Eq. 8 defaults to the identity (the sum rule);
the module also accepts ``"tanh"``, ``"sigmoid"`` and ``"logistic"``, the bounded update
1 / (1 + exp(-T (w + Delta w - 0.5))) of the paper's experiments (its Eq. 7, read in the paper's
online text). That text computes F's output with the current fast weights and alters them
afterwards (``read_first=True``); Schlag et al.'s Eqs. 8-9 write first (the default). In the
paper's variable-binding experiment S and F see different inputs (``slow_input_size``). The
paper's own equations for its FROM/TO units (its Eqs. 4-5) were not checked against its text (its
online copy renders them as images); Eqs. 8-9 are Schlag et al.'s summary of it.
FAVOR+'s random features are fixed at construction (no redrawing during training); the
1/d^(1/4) scaling of Performers is left to the learned projections.
`sum_normalize` adds eps = 1e-6 to the denominator (an all-zero DPFP vector would give 0/0).
``flash-linear-attention`` is not used (its kernels are GPU-only); the code here is device-agnostic.

Examples:
    >>> import torch
    >>> from rnnai.nn.fastweights import FastWeightLayer, delta_rule
    >>> layer = FastWeightLayer(16, num_heads=2, d_head=8, rule="delta", feature_map="dpfp-1")
    >>> y, W = layer(torch.randn(3, 10, 16))          # (N, L, H_in)
    >>> tuple(y.shape), tuple(W.shape)                # W: (N, heads, d_value, d_phi)
    ((3, 10, 16), (3, 2, 8, 16))
    >>> q, k = torch.rand(2, 1, 7, 4), torch.rand(2, 1, 7, 4)
    >>> v, beta = torch.randn(2, 1, 7, 3), torch.rand(2, 1, 7)
    >>> y1, _ = delta_rule(q, k, v, beta, mode="recurrent")
    >>> y2, _ = delta_rule(q, k, v, beta, mode="chunk", chunk_size=3)
    >>> bool(torch.allclose(y1, y2, atol=1e-5))
    True
"""

from __future__ import annotations

import math
import re

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnai.runtime.errors import RnnaiError

__all__ = [
    "FEATURE_MAPS",
    "FastWeightLayer",
    "FastWeightProgrammer1992",
    "FeatureMap",
    "delta_rule",
    "dpfp",
    "elu_plus_one",
    "sum_normalize",
    "sum_rule",
]

MODES: tuple[str, ...] = ("chunk", "recurrent")
FEATURE_MAPS: tuple[str, ...] = ("identity", "elu+1", "dpfp-<nu>", "favor+")
"""Feature map names accepted by `FeatureMap` (``dpfp-1``, ``dpfp-2``, ``dpfp-3``, ...)."""

# --------------------------------------------------------------------------------------------
# Feature maps
# --------------------------------------------------------------------------------------------


def elu_plus_one(x: Tensor) -> Tensor:
    """phi(x) = elu(x) + 1 (Katharopoulos et al. 2020), positive, same size as x."""
    return F.elu(x) + 1.0


def dpfp(x: Tensor, nu: int = 1) -> Tensor:
    """Deterministic parameter-free projection, DPFP-nu (Schlag et al. 2021).

    Args:
        x: (..., d).
        nu: Number of shifted copies (the paper's nu >= 1).

    Returns:
        (..., 2 nu d): with z = [relu(x), relu(-x)], the products z_i z_{i+j} (indices mod 2d)
        for j = 1..nu, blocks ordered by j.
    """
    if nu < 1:
        raise RnnaiError(f"dpfp expected nu >= 1, got {nu}")
    z = torch.cat([F.relu(x), F.relu(-x)], dim=-1)  # (..., 2d)
    # z.roll(-j)[i] = z[i + j]: the paper's index i + nu, cyclically.
    return torch.cat([z * z.roll(-j, dims=-1) for j in range(1, nu + 1)], dim=-1)  # (..., 2 nu d)


def sum_normalize(x: Tensor, eps: float = 1e-6) -> Tensor:
    """phi'(x) = phi(x) / sum_j phi(x)_j over the last dimension (Eq. 7); `eps` avoids 0/0."""
    return x / (x.sum(dim=-1, keepdim=True) + eps)


def _parse_feature_map(name: str) -> tuple[str, int]:
    if not isinstance(name, str):
        raise RnnaiError(f"feature map must be a str, got {type(name).__name__}")
    key = name.lower()
    if key in ("identity", "elu+1", "favor+"):
        return key, 0
    match = re.fullmatch(r"dpfp-?(\d+)", key)
    if match and int(match.group(1)) >= 1:
        return "dpfp", int(match.group(1))
    raise RnnaiError(
        f"unknown feature map {name!r}; expected one of identity, elu+1, dpfp-1, dpfp-2, "
        "dpfp-3 (any dpfp-<nu>, nu >= 1) or favor+"
    )


class FeatureMap(nn.Module):
    """A feature map phi of Schlag et al. 2021 as a module (see the module docstring).

    Args:
        name: ``"identity"``, ``"elu+1"``, ``"dpfp-<nu>"`` (nu >= 1) or ``"favor+"``.
        d_key: Size d of the keys and queries it maps.
        num_features: m, the number of random features of ``"favor+"`` (default d_key).
        generator: Random generator for ``"favor+"``'s fixed projection (default: torch's).

    Attributes:
        out_features: Size of phi(x): d, 2 nu d or m.

    Shape:
        (..., d_key) -> (..., out_features).
    """

    def __init__(
        self,
        name: str,
        d_key: int,
        *,
        num_features: int | None = None,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        self.kind, self.nu = _parse_feature_map(name)
        self.name = name.lower()
        self.d_key = int(d_key)
        if self.d_key < 1:
            raise RnnaiError(f"d_key must be >= 1, got {d_key}")
        self.out_features = {
            "identity": self.d_key,
            "elu+1": self.d_key,
            "dpfp": 2 * self.nu * self.d_key,
        }.get(self.kind, num_features or self.d_key)
        if self.kind == "favor+":
            omega = _orthogonal_gaussian(self.out_features, self.d_key, generator)  # (m, d)
            self.register_buffer("omega", omega)

    def forward(self, x: Tensor) -> Tensor:
        """Apply phi to the last dimension of x."""
        if x.shape[-1] != self.d_key:
            raise RnnaiError(f"FeatureMap expected (..., {self.d_key}), got shape {tuple(x.shape)}")
        if self.kind == "identity":
            return x
        if self.kind == "elu+1":
            return elu_plus_one(x)
        if self.kind == "dpfp":
            return dpfp(x, self.nu)
        omega = self.get_buffer("omega")  # (m, d)
        wx = x @ omega.to(x.dtype).t()  # (..., m)
        sq = 0.5 * (x * x).sum(dim=-1, keepdim=True)  # |x|^2 / 2
        return torch.exp(wx - sq) / math.sqrt(self.out_features)

    def extra_repr(self) -> str:
        """Summary shown by print(module)."""
        return f"{self.name}, d_key={self.d_key}, out_features={self.out_features}"


def _orthogonal_gaussian(m: int, d: int, generator: torch.Generator | None) -> Tensor:
    """m x d matrix of orthogonal rows (in blocks of d) with chi-distributed norms (FAVOR+)."""
    blocks = []
    for start in range(0, m, d):
        g = torch.randn(d, d, generator=generator)
        q, r = torch.linalg.qr(g)
        q = q * torch.sign(torch.diagonal(r)).unsqueeze(0)  # Haar-distributed columns
        blocks.append(q.t()[: min(d, m - start)])
    norms = torch.randn(m, d, generator=generator).norm(dim=1, keepdim=True)
    return torch.cat(blocks, 0) * norms  # (m, d)


# --------------------------------------------------------------------------------------------
# Functional cores. q, k: (..., L, d_phi) already feature-mapped; v: (..., L, d_v);
# beta: (..., L); the state W: (..., d_v, d_phi).
# --------------------------------------------------------------------------------------------


def _check_qkv(
    fn: str, q: Tensor, k: Tensor, v: Tensor, beta: Tensor | None, W0: Tensor | None
) -> None:
    if q.dim() < 2 or q.shape != k.shape:
        raise RnnaiError(
            f"{fn} expected q and k of one shape (..., L, d_k), got {tuple(q.shape)} and "
            f"{tuple(k.shape)}"
        )
    if v.dim() != q.dim() or v.shape[:-1] != q.shape[:-1]:
        raise RnnaiError(
            f"{fn} expected v of shape {tuple(q.shape[:-1]) + ('d_v',)}, got {tuple(v.shape)}"
        )
    if beta is not None and beta.shape != q.shape[:-1]:
        raise RnnaiError(
            f"{fn} expected beta of shape {tuple(q.shape[:-1])}, got {tuple(beta.shape)}"
        )
    want = tuple(q.shape[:-2]) + (v.shape[-1], q.shape[-1])
    if W0 is not None and tuple(W0.shape) != want:
        raise RnnaiError(f"{fn} expected initial_state of shape {want}, got {tuple(W0.shape)}")


def _check_mode(fn: str, mode: str, chunk_size: int) -> None:
    if mode not in MODES:
        raise RnnaiError(f"{fn} expected mode 'chunk' or 'recurrent', got {mode!r}")
    if not isinstance(chunk_size, int) or chunk_size < 1:
        raise RnnaiError(f"{fn} expected a chunk_size >= 1, got {chunk_size!r}")


def _initial(q: Tensor, v: Tensor, W0: Tensor | None) -> Tensor:
    if W0 is not None:
        return W0
    return q.new_zeros(*q.shape[:-2], v.shape[-1], q.shape[-1])  # (..., d_v, d_phi)


def _pad_chunks(x: Tensor, C: int) -> Tensor:
    """(..., L, d) -> (..., n, C, d), zero-padding L up to a multiple of C."""
    L = x.shape[-2]
    pad = (-L) % C
    if pad:
        x = F.pad(x, (0, 0, 0, pad))
    return x.reshape(*x.shape[:-2], (L + pad) // C, C, x.shape[-1])  # (..., n, C, d)


def sum_rule(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    *,
    initial_state: Tensor | None = None,
    mode: str = "chunk",
    chunk_size: int = 64,
) -> tuple[Tensor, Tensor]:
    """The sum rule W_t = W_{t-1} + v_t k_t^T, y_t = W_t q_t (Eqs. 1-2).

    This is unnormalised causal linear attention: y_t = sum_{i<=t} v_i (k_i . q_t).

    Args:
        q: (..., L, d_k) queries, already through phi.
        k: (..., L, d_k) keys, already through phi.
        v: (..., L, d_v) values.
        initial_state: W_0, (..., d_v, d_k); default zeros.
        mode: ``"chunk"`` (chunk-parallel) or ``"recurrent"`` (step by step).
        chunk_size: C, steps per chunk in ``"chunk"`` mode.

    Returns:
        y (..., L, d_v) and the final state W_L (..., d_v, d_k).

    Raises:
        RnnaiError: For mismatched shapes or a bad mode or chunk size.
    """
    _check_qkv("sum_rule", q, k, v, None, initial_state)
    _check_mode("sum_rule", mode, chunk_size)
    W = _initial(q, v, initial_state)
    if mode == "recurrent":
        ys = []
        # unbind once: per-step indexing would make the backward pass O(L^2)
        for q_t, k_t, v_t in zip(q.unbind(-2), k.unbind(-2), v.unbind(-2), strict=True):
            W = W + v_t.unsqueeze(-1) * k_t.unsqueeze(-2)  # Eq. 1   (..., d_v, d_k)
            ys.append((W @ q_t.unsqueeze(-1)).squeeze(-1))  # Eq. 2   (..., d_v)
        return torch.stack(ys, dim=-2), W
    L, C = q.shape[-2], chunk_size
    Q, K, V = (_pad_chunks(x, C) for x in (q, k, v))  # (..., n, C, d)
    QK = (Q @ K.transpose(-1, -2)).tril()  # causal, diagonal included   (..., n, C, C)
    intra = QK @ V  # (..., n, C, d_v)
    outs = []
    chunks = zip(*(x.unbind(-3) for x in (intra, Q, K, V)), strict=True)  # (..., C, d) each
    for intra_c, Q_c, K_c, V_c in chunks:
        outs.append(intra_c + Q_c @ W.transpose(-1, -2))
        W = W + V_c.transpose(-1, -2) @ K_c  # Eq. 1 over the chunk
    y = torch.stack(outs, dim=-3).flatten(-3, -2)[..., :L, :]  # (..., L, d_v)
    return y, W


def delta_rule(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    beta: Tensor,
    *,
    initial_state: Tensor | None = None,
    mode: str = "chunk",
    chunk_size: int = 64,
) -> tuple[Tensor, Tensor]:
    """The delta rule W_t = W_{t-1} + beta_t (v_t - W_{t-1} k_t) k_t^T, y_t = W_t q_t (Eqs. 3-6).

    Args:
        q: (..., L, d_k) queries, already through phi (and sum-normalised if wanted).
        k: (..., L, d_k) keys, likewise.
        v: (..., L, d_v) values.
        beta: (..., L) learning rates (the layer uses sigmoid(w_beta x_t), in (0, 1)).
        initial_state: W_0, (..., d_v, d_k); default zeros.
        mode: ``"chunk"`` (WY / UT-transform chunk-parallel form) or ``"recurrent"``.
        chunk_size: C, steps per chunk in ``"chunk"`` mode.

    Returns:
        y (..., L, d_v) and the final state W_L (..., d_v, d_k).

    Raises:
        RnnaiError: For mismatched shapes or a bad mode or chunk size.
    """
    _check_qkv("delta_rule", q, k, v, beta, initial_state)
    _check_mode("delta_rule", mode, chunk_size)
    W = _initial(q, v, initial_state)
    if mode == "recurrent":
        ys = []
        steps = zip(q.unbind(-2), k.unbind(-2), v.unbind(-2), beta.unbind(-1), strict=True)
        for q_t, k_t, v_t, beta_t in steps:  # (..., d_k), (..., d_k), (..., d_v), (...)
            v_bar = (W @ k_t.unsqueeze(-1)).squeeze(-1)  # Eq. 3   (..., d_v)
            W = W + (beta_t.unsqueeze(-1) * (v_t - v_bar)).unsqueeze(-1) * k_t.unsqueeze(
                -2
            )  # Eq. 5
            ys.append((W @ q_t.unsqueeze(-1)).squeeze(-1))  # Eq. 6
        return torch.stack(ys, dim=-2), W
    L, C = q.shape[-2], chunk_size
    Q, K, V = (_pad_chunks(x, C) for x in (q, k, v))  # (..., n, C, d); padded rows are 0
    B = _pad_chunks(beta.unsqueeze(-1), C)  # (..., n, C, 1); beta = 0 on padding: no update
    Kb = K * B  # diag(beta) K   (..., n, C, d_k)
    A = (Kb @ K.transpose(-1, -2)).tril(-1)  # strictly lower part of diag(beta) K K^T
    A = A + torch.eye(C, dtype=A.dtype, device=A.device)  # unit lower triangular   (.., C, C)
    # W = A^{-1} diag(beta) K and U = A^{-1} diag(beta) V in one solve   (..., n, C, d_k + d_v)
    WU = torch.linalg.solve_triangular(
        A, torch.cat([Kb, V * B], dim=-1), upper=False, unitriangular=True
    )
    Wy, U = WU[..., : K.shape[-1]], WU[..., K.shape[-1] :]  # (..., n, C, d_k), (..., n, C, d_v)
    QK = (Q @ K.transpose(-1, -2)).tril()  # causal, diagonal included   (..., n, C, C)
    outs = []
    # unbind once: per-chunk indexing would make the backward pass O(n^2) in the chunk count
    WQ = torch.cat([Wy, Q], dim=-2)  # both multiply S^T: one product per chunk   (..., n, 2C, d_k)
    chunks = zip(*(x.unbind(-3) for x in (U, WQ, QK, K)), strict=True)
    for U_c, WQ_c, QK_c, K_c in chunks:
        P = WQ_c @ W.transpose(-1, -2)  # [W S^T; Q S^T]   (..., 2C, d_v)
        U_c = U_c - P[..., :C, :]  # u_i - S w_i   (..., C, d_v)
        outs.append(P[..., C:, :] + QK_c @ U_c)  # Eq. 6
        W = W + U_c.transpose(-1, -2) @ K_c  # Eq. 5 over the chunk
    y = torch.stack(outs, dim=-3).flatten(-3, -2)[..., :L, :]  # (..., L, d_v)
    return y, W


# --------------------------------------------------------------------------------------------
# Modules
# --------------------------------------------------------------------------------------------


def _check_input(cls: str, x: Tensor, size: int, batch_first: bool, dtype: torch.dtype) -> Tensor:
    """Validate x (shape, and the parameters' dtype) and return it as (N, L, H_in)."""
    expected = "(N, L, H_in)" if batch_first else "(L, N, H_in)"
    if not isinstance(x, Tensor) or x.dim() != 3 or x.shape[-1] != size:
        shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise RnnaiError(f"{cls} expected input of shape {expected} with H_in={size}, got {shape}")
    if not x.is_floating_point():
        raise RnnaiError(f"{cls} expected a floating-point input, got dtype {x.dtype}")
    if x.dtype != dtype:
        raise RnnaiError(
            f"{cls} input dtype {x.dtype} differs from the parameters' dtype {dtype}; convert one "
            f"of them (e.g. module.to({x.dtype}))"
        )
    return x if batch_first else x.transpose(0, 1)


class FastWeightLayer(nn.Module):
    """A multi-head fast weight layer: projections, feature map, sum or delta rule, output.

    Per head h: q_t, k_t, v_t = W_q^h x_t, W_k^h x_t, W_v^h x_t; beta_t = sigmoid(w_beta^h x_t)
    (delta rule); phi (optionally sum-normalised, Eq. 7) on q_t and k_t; the update rule (Eqs.
    1-2 or 3-6); the heads' outputs concatenated and projected back: out_t = W_o [y_t^1..y_t^H].

    Args:
        d_model: H_in, the size of x_t and of the output.
        num_heads: Number of heads.
        d_head: Key and value size per head (the paper's d_key = d_value).
        rule: ``"delta"`` or ``"sum"``.
        feature_map: See `FeatureMap` (``"dpfp-1"`` by default).
        sum_normalize: Divide phi(q), phi(k) by their sums (Eq. 7). Default: True for the delta
            rule with a positive feature map (as in the paper), False otherwise.
        attention_normalize: Sum rule only: divide y_t by z_t . phi(q_t) with
            z_t = sum_{i<=t} phi(k_i), the normalised linear attention of Katharopoulos et al.;
            z_t is kept as an extra row of the state (computed as the sum rule with an all-ones
            value component).
        mode: ``"chunk"`` or ``"recurrent"`` (see `delta_rule`).
        chunk_size: C for ``"chunk"``.
        batch_first: Input and output (N, L, H_in) if True (default), else (L, N, H_in).
        bias: Biases on the projections.
        num_features: Random features of ``"favor+"``.
        generator: Generator for ``"favor+"``'s projection.

    Shape:
        forward(x, state=None) -> (out, state): x and out (N, L, H_in) (batch_first) or
        (L, N, H_in); state (N, num_heads, d_head, d_phi), the fast weights after the last step
        (pass it back in to continue the sequence); with ``attention_normalize`` the state has
        d_head + 1 rows, the last one z_t.
    """

    def __init__(
        self,
        d_model: int,
        *,
        num_heads: int = 1,
        d_head: int = 64,
        rule: str = "delta",
        feature_map: str = "dpfp-1",
        sum_normalize: bool | None = None,
        attention_normalize: bool = False,
        mode: str = "chunk",
        chunk_size: int = 64,
        batch_first: bool = True,
        bias: bool = False,
        num_features: int | None = None,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        if rule not in ("delta", "sum"):
            raise RnnaiError(f"FastWeightLayer expected rule 'delta' or 'sum', got {rule!r}")
        _check_mode("FastWeightLayer", mode, chunk_size)
        if min(d_model, num_heads, d_head) < 1:
            raise RnnaiError(
                "FastWeightLayer expected d_model, num_heads, d_head >= 1, got "
                f"{d_model}, {num_heads}, {d_head}"
            )
        self.d_model, self.num_heads, self.d_head = d_model, num_heads, d_head
        self.rule, self.mode, self.chunk_size = rule, mode, chunk_size
        self.batch_first = batch_first
        self.phi = FeatureMap(feature_map, d_head, num_features=num_features, generator=generator)
        if sum_normalize is None:
            sum_normalize = rule == "delta" and self.phi.kind != "identity"
        self.sum_normalize = sum_normalize
        if attention_normalize and rule != "sum":
            raise RnnaiError("attention_normalize applies to rule='sum' only, got rule='delta'")
        self.attention_normalize = attention_normalize
        n_proj = 3 * num_heads * d_head + (num_heads if rule == "delta" else 0)
        self.qkvb = nn.Linear(d_model, n_proj, bias=bias)  # [W_q; W_k; W_v; w_beta]
        self.out = nn.Linear(num_heads * d_head, d_model, bias=bias)  # W_o

    @property
    def d_phi(self) -> int:
        """Size of phi(k): the fast weights are (d_head x d_phi) per head."""
        return self.phi.out_features

    def forward(self, x: Tensor, state: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Run the layer over a sequence; see the class docstring for shapes."""
        x = _check_input(
            "FastWeightLayer", x, self.d_model, self.batch_first, self.qkvb.weight.dtype
        )  # (N, L, H_in)
        N, L, _ = x.shape
        Hh, d = self.num_heads, self.d_head
        want = (N, Hh, d + int(self.attention_normalize), self.d_phi)
        if state is not None and tuple(state.shape) != want:
            raise RnnaiError(
                f"FastWeightLayer expected state of shape {want}, got {tuple(state.shape)}"
            )
        p = self.qkvb(x)  # (N, L, 3 H d [+ H])
        qkv = p[..., : 3 * Hh * d].view(N, L, 3, Hh, d).permute(2, 0, 3, 1, 4)  # (3, N, H, L, d)
        q, k = self.phi(qkv[0]), self.phi(qkv[1])  # (N, H, L, d_phi)
        if self.sum_normalize:
            q, k = sum_normalize(q), sum_normalize(k)  # Eq. 7
        v = qkv[2]  # (N, H, L, d)
        if self.rule == "delta":
            beta = torch.sigmoid(p[..., 3 * Hh * d :]).transpose(1, 2)  # Eq. 4   (N, H, L)
            y, W = delta_rule(
                q, k, v, beta, initial_state=state, mode=self.mode, chunk_size=self.chunk_size
            )
        else:
            if self.attention_normalize:
                v = torch.cat([v, torch.ones_like(v[..., :1])], dim=-1)  # (N, H, L, d + 1)
            y, W = sum_rule(
                q, k, v, initial_state=state, mode=self.mode, chunk_size=self.chunk_size
            )
            if self.attention_normalize:
                y = y[..., :d] / y[..., d:]  # W_t phi(q_t) / (z_t . phi(q_t))   (N, H, L, d)
        out = self.out(y.transpose(1, 2).reshape(N, L, Hh * d))  # (N, L, H_in)
        return (out if self.batch_first else out.transpose(0, 1)), W

    def extra_repr(self) -> str:
        """Summary shown by print(module)."""
        return (
            f"{self.d_model}, num_heads={self.num_heads}, d_head={self.d_head}, "
            f"rule={self.rule}, sum_normalize={self.sum_normalize}, "
            f"attention_normalize={self.attention_normalize}, mode={self.mode}, "
            f"chunk_size={self.chunk_size}, batch_first={self.batch_first}"
        )


_SQUASH = {"identity": None, "tanh": torch.tanh, "sigmoid": torch.sigmoid}
_FAST_ACTIVATIONS = ("identity", "tanh", "sigmoid", "logistic")


class FastWeightProgrammer1992(nn.Module):
    """The 1992 outer-product fast weight programmer: a slow net S programs a fast net F.

    S is one linear layer (with an optional squashing of its output units) mapping its input u_t
    (by default u_t = x_t) to the TO units a_t (size output_size) and the FROM units b_t (size
    input_size); their outer product is added to the fast weights W (Eq. 8), and F maps x_t
    through W (Eq. 9)::

        a_t, b_t = S(u_t)
        W_t = sigma(W_{t-1} + a_t b_t^T)                                   (Eq. 8)
        y_t = W_t x_t          (write, then read; the default)             (Eq. 9)
        y_t = W_{t-1} x_t      (read, then write: ``read_first=True``)

    ``fast_activation="logistic"`` is the bounded update of the 1992 paper's experiments (its
    Eq. 7), sigma(w) = 1 / (1 + exp(-T (w - 0.5))) with T = ``steepness``, which keeps each fast
    weight in (0, 1). The paper's text computes F's output at step t with the weights of step t
    and alters them afterwards (``read_first=True``); Schlag et al.'s summary writes first. With
    ``fast_activation="identity"`` the write-first form is the sum rule with keys b_t, values a_t
    and queries x_t and runs chunk-parallel (the read-first form subtracts a_t (b_t . x_t));
    otherwise the update runs step by step.

    Args:
        input_size: H_in, the size of x_t (and of the FROM units).
        output_size: H_out, the size of y_t (and of the TO units).
        fast_activation: sigma of Eq. 8: ``"identity"`` (default), ``"tanh"``, ``"sigmoid"`` or
            ``"logistic"`` (the paper's Eq. 7).
        unit_activation: Squashing of S's FROM/TO units: ``"identity"`` (default), ``"tanh"``
            or ``"sigmoid"``.
        batch_first: Input (N, L, H_in) if True (default), else (L, N, H_in).
        chunk_size: C for the chunk-parallel sum rule.
        slow_input_size: H_u, the size of S's own input u_t when S sees other inputs than F
            (the paper's variable-binding experiment); None (default): S sees x_t.
        read_first: Compute y_t with W_{t-1}, then update (the paper's order); default False.
        steepness: T of the ``"logistic"`` fast activation (10 in the paper's first experiment).

    Shape:
        forward(x, state=None, u=None) -> (y, state): x (N, L, H_in) (or (L, N, H_in)); u of
        the same layout with H_u features, required iff slow_input_size is set; y (N, L, H_out)
        (or (L, N, H_out)); state W (N, H_out, H_in).
    """

    def __init__(
        self,
        input_size: int,
        output_size: int,
        *,
        fast_activation: str = "identity",
        unit_activation: str = "identity",
        batch_first: bool = True,
        chunk_size: int = 64,
        slow_input_size: int | None = None,
        read_first: bool = False,
        steepness: float = 10.0,
    ) -> None:
        super().__init__()
        if fast_activation not in _FAST_ACTIVATIONS:
            raise RnnaiError(
                f"fast_activation must be one of {sorted(_FAST_ACTIVATIONS)}, got "
                f"{fast_activation!r}"
            )
        if unit_activation not in _SQUASH:
            raise RnnaiError(
                f"unit_activation must be one of {sorted(_SQUASH)}, got {unit_activation!r}"
            )
        if min(input_size, output_size, slow_input_size or 1) < 1 or not steepness > 0:
            raise RnnaiError(
                "FastWeightProgrammer1992 expected input_size, output_size, slow_input_size >= 1 "
                f"and steepness > 0, got {input_size}, {output_size}, {slow_input_size}, "
                f"{steepness}"
            )
        _check_mode("FastWeightProgrammer1992", "chunk", chunk_size)
        self.input_size, self.output_size = input_size, output_size
        self.fast_activation, self.unit_activation = fast_activation, unit_activation
        self.batch_first, self.chunk_size = batch_first, chunk_size
        self.slow_input_size, self.read_first = slow_input_size, read_first
        self.steepness = float(steepness)
        # S: u -> [a (TO), b (FROM)]
        self.slow = nn.Linear(slow_input_size or input_size, output_size + input_size)

    def _sigma(self, W: Tensor) -> Tensor:
        if self.fast_activation == "logistic":
            return torch.sigmoid(self.steepness * (W - 0.5))  # the paper's Eq. 7
        squash = _SQUASH[self.fast_activation]
        return W if squash is None else squash(W)

    def forward(
        self, x: Tensor, state: Tensor | None = None, u: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        """Run S and F over a sequence; see the class docstring for shapes."""
        name = "FastWeightProgrammer1992"
        x = _check_input(name, x, self.input_size, self.batch_first, self.slow.weight.dtype)
        if (u is None) != (self.slow_input_size is None):
            wanted = "u=None" if self.slow_input_size is None else "an input u for S"
            got = "None" if u is None else f"u of shape {tuple(u.shape)}"
            raise RnnaiError(
                f"{name} with slow_input_size={self.slow_input_size} expected {wanted}, got {got}"
            )
        if u is not None and self.slow_input_size is not None:
            u = _check_input(name, u, self.slow_input_size, self.batch_first, x.dtype)
            if u.shape[:2] != x.shape[:2]:
                raise RnnaiError(
                    f"{name} expected u with the (N, L) of x {tuple(x.shape[:2])}, got "
                    f"{tuple(u.shape[:2])}"
                )
        N = x.shape[0]
        want = (N, self.output_size, self.input_size)
        if state is not None and tuple(state.shape) != want:
            raise RnnaiError(f"{name} expected state of shape {want}, got {tuple(state.shape)}")
        s = self.slow(x if u is None else u)  # (N, L, H_out + H_in)
        squash = _SQUASH[self.unit_activation]
        if squash is not None:
            s = squash(s)
        a, b = s[..., : self.output_size], s[..., self.output_size :]  # TO, FROM units
        if self.fast_activation == "identity":
            y, W = sum_rule(x, b, a, initial_state=state, chunk_size=self.chunk_size)
            if self.read_first:  # W_{t-1} x_t = W_t x_t - a_t (b_t . x_t)
                y = y - a * (b * x).sum(-1, keepdim=True)
        else:
            W = state if state is not None else x.new_zeros(want)
            ys = []
            for x_t, a_t, b_t in zip(x.unbind(1), a.unbind(1), b.unbind(1), strict=True):
                if self.read_first:
                    ys.append((W @ x_t.unsqueeze(-1)).squeeze(-1))  # (N, H_out)
                W = self._sigma(W + a_t.unsqueeze(-1) * b_t.unsqueeze(-2))  # Eq. 8
                if not self.read_first:
                    ys.append((W @ x_t.unsqueeze(-1)).squeeze(-1))  # Eq. 9   (N, H_out)
            y = torch.stack(ys, dim=1)  # (N, L, H_out)
        return (y if self.batch_first else y.transpose(0, 1)), W

    def extra_repr(self) -> str:
        """Summary shown by print(module)."""
        return (
            f"{self.input_size}, {self.output_size}, fast_activation={self.fast_activation}, "
            f"unit_activation={self.unit_activation}, batch_first={self.batch_first}, "
            f"slow_input_size={self.slow_input_size}, read_first={self.read_first}"
        )
