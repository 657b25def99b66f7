"""GMDH, the group method of data handling, as scikit-learn estimators.

Ivakhnenko, A. G. (1971). Polynomial theory of complex systems. IEEE Transactions on Systems,
Man, and Cybernetics, SMC-1(4), 364-378.

GMDH builds a polynomial model of ``y`` from inputs ``x_1..x_M`` by self-organization: many
small candidate models are fitted by least squares on one part of the data and judged by an
*external criterion* on another part, which the fit never saw; the criterion, not the fit,
decides which models survive and how complex the final model gets.

**Data split.** The N samples are split once (``random_state``) into a training part A
(``train_index_``) and a selection (checking) part B (``selection_index_``), with
``N_B = round(selection_fraction * N)`` (at least 1, at most N - 2). Coefficients are fitted
on A only; criteria use B.

**Partial description (a unit of the multilayer algorithm, MIA).** For every pair (i, j) of the
inputs ``z`` of layer r (layer 1: the inputs ``x``),

    y = a0 + a1 z_i + a2 z_j + a3 z_i^2 + a4 z_j^2 + a5 z_i z_j              (Eq. PD)

with ``a = argmin sum_{t in A} (y_t - Phi_t a)^2`` (least squares on A; Phi is the design of
Eq. PD, `quadratic_design`).

**External criteria** (`external_criterion`), for a model with coefficients a^A fitted on A and
a^B fitted on B, predictions yhat^A = Phi a^A, yhat^B = Phi a^B:

    regularity     Delta^2(B) = 1/N_B  sum_{t in B}     (y_t - yhat^A_t)^2       (Eq. R)
    unbiasedness   n_bs^2     = 1/N    sum_{t in A u B} (yhat^A_t - yhat^B_t)^2  (Eq. U)
    combined       c^2        = Delta^2(B) + n_bs^2                             (Eq. C)

**Multilayer algorithm (MIA).** Layer r fits a unit of Eq. PD for every input pair, ranks the
units by the criterion, and passes the outputs of the best F (``n_best``) on as the inputs of
layer r+1. Layers are added while the best criterion of the new layer improves on the best so far
by more than the relative ``tol`` (at most ``max_layers``). The model is the best unit of the
best layer; traced back through its ancestors it is a polynomial in the original inputs
(`GMDHRegressor.polynomial_`, `GMDHRegressor.model_formula`).

**Combinatorial algorithm (COMBI).** The base is the linear-in-parameters model
``y = a0 + sum_k a_k m_k(x)`` over all monomials m_k of degree 1..``degree`` (`monomial_basis`).
Every subset of at most ``max_terms`` base terms (the constant is always in) is fitted on A and
scored by the criterion; the subset with the lowest criterion is the model (among models whose
criteria tie to rounding, the one with fewest terms). The search is exhaustive while the number
of subsets is at most ``max_subsets``.

Deviations from the paper:

* The criteria are mean squares (divided by the number of samples), not divided by sum y^2:
  the regularity ranking is unchanged; the combined criterion adds the two mean squares.
* Inputs and target are standardized with the mean and standard deviation of part A before
  fitting (COMBI divides inputs by their root mean square and does not center them, so that a
  subset of monomials stays the same subset); the reported polynomial is in the original units
  (the map is undone exactly).
* A ridge term ``alpha * N_part`` on the non-constant coefficients keeps the normal equations
  solvable for collinear or constant inputs (1e-10 by default: numerically plain least squares).
* F is a fixed number of units per layer (the paper also allows a criterion threshold).
* With ``refit=True`` (default), the selected structure (the ancestors of the chosen MIA unit,
  or the chosen COMBI subset) is fitted again on A u B after selection; the selection itself
  used B only.
* COMBI on a base too large for exhaustive search (more than ``max_subsets`` subsets) is a beam
  search over the subset size: the best F subsets of size k are grown by one term, and growth
  stops when the best criterion stops improving.
* With fewer than 4 samples there is no split: A = B = all samples (an internal criterion).
* A layer with a single input pairs it with itself (Eq. PD with z_j = z_i; the ridge term
  resolves the repeated columns).
* `GMDHClassifier` is one-vs-rest on `GMDHRegressor` fitted to 0/1 class indicators.

Examples:
    >>> import numpy as np
    >>> from rnnai.gmdh import GMDHRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-1, 1, size=(200, 3))
    >>> y = 1 + 2 * X[:, 0] - 3 * X[:, 1] * X[:, 2]
    >>> model = GMDHRegressor(method="combi", max_terms=3).fit(X, y)
    >>> print(model.model_formula(precision=3))
    y = 1 + 2*x0 - 3*x1*x2
    >>> sorted(model.recovered_terms())
    ['1', 'x0', 'x1*x2']
    >>> round(model.score(X, y), 6)
    1.0
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations, combinations_with_replacement
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from rnnai.runtime.errors import RnnaiError

__all__ = [
    "GMDHClassifier",
    "GMDHRegressor",
    "Moments",
    "evaluate_polynomial",
    "external_criterion",
    "format_polynomial",
    "monomial_basis",
    "monomial_design",
    "quadratic_design",
    "split_train_selection",
]

Array = NDArray[np.float64]
Monomial = tuple[int, ...]
Polynomial = dict[Monomial, float]
Criterion = Literal["regularity", "unbiasedness", "combined"]

CRITERIA = ("regularity", "unbiasedness", "combined")
METHODS = ("mia", "combi")
# An expanded MIA polynomial has up to C(2^L + v, v) terms; beyond this many the formula is
# printed layer by layer instead.
MAX_EXPANDED_TERMS = 5_000
_CHUNK = 4096  # candidate models evaluated per batch


# --- core math -----------------------------------------------------------------------------


def split_train_selection(
    n_samples: int, selection_fraction: float, random_state: int | None
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Split sample indices into the training part A and the selection part B (both sorted).

    Fewer than 4 samples are not split: A = B = all (the criterion is then internal).
    """
    everything = np.arange(n_samples)
    if n_samples < 4:
        return everything, everything
    n_b = min(max(round(selection_fraction * n_samples), 1), n_samples - 2)
    perm = np.random.default_rng(random_state).permutation(n_samples)
    return np.sort(perm[n_b:]), np.sort(perm[:n_b])


def quadratic_design(z_i: Array, z_j: Array) -> Array:
    """The design Phi of Eq. PD: columns 1, z_i, z_j, z_i^2, z_j^2, z_i z_j.

    Shapes: z_i, z_j (..., N) -> Phi (..., N, 6).
    """
    return np.stack([np.ones_like(z_i), z_i, z_j, z_i * z_i, z_j * z_j, z_i * z_j], axis=-1)


def monomial_basis(n_features: int, degree: int) -> list[Monomial]:
    """All monomials of degree 1..degree in n_features variables, as exponent tuples.

    Graded order: by degree, then lexicographically by the variables used (x0 before x1).
    """
    basis: list[Monomial] = []
    for d in range(1, degree + 1):
        for combo in combinations_with_replacement(range(n_features), d):
            e = [0] * n_features
            for k in combo:
                e[k] += 1
            basis.append(tuple(e))
    return basis


def monomial_design(X: Array, basis: Sequence[Monomial]) -> Array:
    """Design matrix (N, 1 + len(basis)): a constant column, then each monomial of the basis."""
    cols = [np.ones(X.shape[0])]
    for e in basis:
        col = np.ones(X.shape[0])
        for k, p in enumerate(e):
            if p:
                col = col * X[:, k] ** p
        cols.append(col)
    return np.stack(cols, axis=1)  # (N, 1 + p)


@dataclass(frozen=True, kw_only=True)
class Moments:
    """Sufficient statistics of least squares for M candidate models on one data part."""

    G: Array
    """Gram matrices Phi^T Phi, (M, k, k)."""
    c: Array
    """Moments Phi^T y, (M, k)."""
    yy: float
    """y^T y."""
    n: int
    """Number of samples in the part."""

    @staticmethod
    def of(Phi: Array, y: Array) -> Moments:
        """Moments of the designs Phi (M, N, k) against the targets y (N,)."""
        G = np.einsum("mnk,mnl->mkl", Phi, Phi)  # (M, k, k)
        c = np.einsum("mnk,n->mk", Phi, y)  # (M, k)
        return Moments(G=G, c=c, yy=float(y @ y), n=int(y.shape[0]))

    def select(self, idx: NDArray[np.intp]) -> Moments:
        """Moments of the sub-models that keep the columns idx (M', k') of one full model."""
        G = self.G[0][idx[:, :, None], idx[:, None, :]]  # (M', k', k')
        c = self.c[0][idx]  # (M', k')
        return Moments(G=G, c=c, yy=self.yy, n=self.n)


def _solve(m: Moments, alpha: float) -> Array:
    """Least-squares coefficients (M, k) from the normal equations.

    The ridge alpha * n is added to every diagonal entry but the constant's.
    """
    k = m.G.shape[-1]
    ridge = np.full(k, alpha * m.n)
    ridge[0] = 0.0  # the constant a0 is not shrunk
    A = m.G + np.diag(ridge)
    try:
        a = np.linalg.solve(A, m.c[..., None])[..., 0]
    except np.linalg.LinAlgError:
        a = (np.linalg.pinv(A) @ m.c[..., None])[..., 0]
    return np.asarray(a, dtype=np.float64)


def external_criterion(
    criterion: Criterion, on_a: Moments, on_b: Moments, *, alpha: float = 0.0
) -> tuple[Array, Array]:
    """Criterion value (M,) of Eq. R, U or C, and the coefficients fitted on A (M, k).

    Only the moments of B enter the criterion; the coefficients come from A alone.
    """
    a_A = _solve(on_a, alpha)
    sse_b = on_b.yy - 2 * np.einsum("mk,mk->m", a_A, on_b.c)
    sse_b += np.einsum("mk,mkl,ml->m", a_A, on_b.G, a_A)
    regularity = np.maximum(sse_b, 0.0) / on_b.n  # Eq. R
    if criterion == "regularity":
        return regularity, a_A
    a_B = _solve(on_b, alpha)
    d = a_A - a_B
    unbiased = np.einsum("mk,mkl,ml->m", d, on_a.G + on_b.G, d) / (on_a.n + on_b.n)  # Eq. U
    if criterion == "unbiasedness":
        return np.maximum(unbiased, 0.0), a_A
    return regularity + np.maximum(unbiased, 0.0), a_A  # Eq. C


def _pairs(m: int) -> NDArray[np.intp]:
    """All input pairs (i < j) of a layer with m inputs; one input is paired with itself."""
    if m == 1:
        return np.zeros((1, 2), dtype=np.intp)
    return np.array(list(combinations(range(m), 2)), dtype=np.intp)


def _mia_layer(
    Z_a: Array, y_a: Array, Z_b: Array, y_b: Array, criterion: Criterion, alpha: float
) -> tuple[NDArray[np.intp], Array, Array]:
    """Fit Eq. PD on A for every input pair; return pairs (P, 2), coefficients (P, 6), criteria."""
    pairs = _pairs(Z_a.shape[1])
    coefs, crits = [], []
    step = max(1, _CHUNK * 64 // max(Z_a.shape[0], 1))
    for s in range(0, len(pairs), step):
        p = pairs[s : s + step]
        on_a = Moments.of(quadratic_design(Z_a[:, p[:, 0]].T, Z_a[:, p[:, 1]].T), y_a)
        on_b = Moments.of(quadratic_design(Z_b[:, p[:, 0]].T, Z_b[:, p[:, 1]].T), y_b)
        crit, a = external_criterion(criterion, on_a, on_b, alpha=alpha)
        coefs.append(a)
        crits.append(crit)
    return pairs, np.concatenate(coefs), np.concatenate(crits)


def _unit_outputs(Z: Array, pairs: NDArray[np.intp], coefs: Array) -> Array:
    """Outputs (N, F) of the units (pairs, coefs) on the layer inputs Z (N, m)."""
    Phi = quadratic_design(Z[:, pairs[:, 0]].T, Z[:, pairs[:, 1]].T)  # (F, N, 6)
    return np.einsum("fnk,fk->nf", Phi, coefs)


def _argbest(crit: Array) -> int:
    """Index of the lowest criterion; among ties to rounding, the first (the simplest)."""
    best = float(np.min(crit))
    return int(np.flatnonzero(crit <= best * (1 + 1e-9) + 1e-15)[0])


def _combi_search(
    on_a: Moments,
    on_b: Moments,
    *,
    n_terms: int,
    max_terms: int,
    max_subsets: int,
    beam: int,
    criterion: Criterion,
    alpha: float,
) -> tuple[tuple[int, ...], Array, list[float]]:
    """Best subset of base columns 1..n_terms (the constant 0 always in), its A-fit, the best
    criterion per subset size."""
    max_k = min(max_terms, n_terms)
    exhaustive = sum(math.comb(n_terms, k) for k in range(max_k + 1)) <= max_subsets
    best_subset: tuple[int, ...] = (0,)
    best_crit = math.inf
    best_coef = np.zeros(1)
    by_size: list[float] = []
    frontier: list[tuple[int, ...]] = [()]
    for k in range(max_k + 1):
        if exhaustive:
            level: list[tuple[int, ...]] = list(combinations(range(1, n_terms + 1), k))
        else:
            grown = (
                {
                    tuple(sorted((*s, t)))
                    for s in frontier
                    for t in range(1, n_terms + 1)
                    if t not in s
                }
                if k
                else {()}
            )
            level = sorted(grown)
        crits, coefs = [], []
        for s in range(0, len(level), _CHUNK):
            idx = np.array([(0, *sub) for sub in level[s : s + _CHUNK]], dtype=np.intp)
            crit, a = external_criterion(criterion, on_a.select(idx), on_b.select(idx), alpha=alpha)
            crits.append(crit)
            coefs.append(a)
        crit_k = np.concatenate(crits)
        i = _argbest(crit_k)
        by_size.append(float(crit_k[i]))
        if crit_k[i] < best_crit * (1 - 1e-9):
            best_crit, best_subset = float(crit_k[i]), (0, *level[i])
            best_coef = np.concatenate(coefs)[i]
        elif not exhaustive:
            break  # the criterion stopped improving with complexity
        order = np.argsort(crit_k, kind="stable")[:beam]
        frontier = [level[j] for j in order]
    return best_subset, best_coef, by_size


# --- polynomials in the original inputs ------------------------------------------------------


class _TooLarge(Exception):
    pass


def _poly_add(*terms: tuple[float, Polynomial]) -> Polynomial:
    out: Polynomial = {}
    for w, p in terms:
        for e, c in p.items():
            out[e] = out.get(e, 0.0) + w * c
    return out


def _poly_mul(p: Polynomial, q: Polynomial) -> Polynomial:
    if len(p) * len(q) > 200 * MAX_EXPANDED_TERMS:
        raise _TooLarge
    Ep, cp = np.array(list(p), dtype=np.int64), np.array(list(p.values()))  # (T_p, M), (T_p,)
    Eq, cq = np.array(list(q), dtype=np.int64), np.array(list(q.values()))
    E = (Ep[:, None, :] + Eq[None, :, :]).reshape(-1, Ep.shape[1])  # (T_p * T_q, M)
    U, inv = np.unique(E, axis=0, return_inverse=True)
    c = np.bincount(inv.ravel(), weights=(cp[:, None] * cq[None, :]).ravel(), minlength=len(U))
    if len(U) > MAX_EXPANDED_TERMS:
        raise _TooLarge
    return {tuple(e): float(v) for e, v in zip(U.tolist(), c.tolist(), strict=True)}


def _leaf(k: int, n: int, mean: float, scale: float) -> Polynomial:
    """The standardized input (x_k - mean) / scale as a polynomial in x."""
    e = [0] * n
    e[k] = 1
    return {tuple(e): 1.0 / scale, (0,) * n: -mean / scale}


def evaluate_polynomial(poly: Polynomial, X: ArrayLike) -> Array:
    """Value (N,) of a polynomial {exponents: coefficient} on the inputs X (N, M)."""
    X = np.asarray(X, dtype=np.float64)
    out = np.zeros(X.shape[0])
    for e, c in poly.items():
        term = np.full(X.shape[0], c)
        for k, p in enumerate(e):
            if p:
                term = term * X[:, k] ** p
        out += term
    return out


def _monomial_name(e: Monomial, names: Sequence[str]) -> str:
    parts = [names[k] if p == 1 else f"{names[k]}^{p}" for k, p in enumerate(e) if p]
    return "*".join(parts) if parts else "1"


def _graded(e: Monomial) -> tuple[int, tuple[int, ...]]:
    return (sum(e), tuple(-p for p in e))


def format_polynomial(
    poly: Polynomial, names: Sequence[str], *, precision: int | None = None, target: str = "y"
) -> str:
    """``y = c0 + c1*x0 - ...`` in graded order; precision significant digits (None: exact repr).

    Replacing ``^`` by ``**`` gives a Python expression.
    """
    pieces: list[str] = []
    for e in sorted(poly, key=_graded):
        c = poly[e]
        if c == 0.0:
            continue
        mag = repr(abs(c)) if precision is None else f"{abs(c):.{precision}g}"
        name = _monomial_name(e, names)
        body = mag if name == "1" else (name if mag == "1" else f"{mag}*{name}")
        sign = "-" if c < 0 else "+"
        pieces.append(body if not pieces and c >= 0 else f"{sign} {body}" if pieces else f"-{body}")
    return f"{target} = " + (" ".join(pieces) if pieces else "0")


# --- estimators ------------------------------------------------------------------------------


class _GMDHParams(BaseEstimator):
    """Hyperparameters shared by the GMDH estimators (see `GMDHRegressor`)."""

    def __init__(
        self,
        *,
        method: str = "mia",
        criterion: str = "regularity",
        selection_fraction: float = 1 / 3,
        n_best: int | None = None,
        max_layers: int = 5,
        tol: float = 1e-4,
        degree: int = 2,
        max_terms: int = 4,
        max_subsets: int = 100_000,
        alpha: float = 1e-10,
        refit: bool = True,
        random_state: int | None = 0,
    ) -> None:
        self.method = method
        self.criterion = criterion
        self.selection_fraction = selection_fraction
        self.n_best = n_best
        self.max_layers = max_layers
        self.tol = tol
        self.degree = degree
        self.max_terms = max_terms
        self.max_subsets = max_subsets
        self.alpha = alpha
        self.refit = refit
        self.random_state = random_state

    def _check_params(self) -> None:
        if self.method not in METHODS:
            raise RnnaiError(f"method: expected one of {METHODS}, received {self.method!r}")
        if self.criterion not in CRITERIA:
            raise RnnaiError(f"criterion: expected one of {CRITERIA}, received {self.criterion!r}")
        if not 0.0 < self.selection_fraction < 1.0:
            raise RnnaiError(
                f"selection_fraction: expected a number in (0, 1), "
                f"received {self.selection_fraction!r}"
            )
        for name in ("max_layers", "degree", "max_terms", "max_subsets"):
            value = getattr(self, name)
            if not isinstance(value, int | np.integer) or value < 1:
                raise RnnaiError(f"{name}: expected an integer >= 1, received {value!r}")
        if self.n_best is not None and (
            not isinstance(self.n_best, int | np.integer) or self.n_best < 1
        ):
            raise RnnaiError(f"n_best: expected None or an integer >= 1, received {self.n_best!r}")
        if self.tol < 0 or self.alpha < 0:
            raise RnnaiError(
                f"tol and alpha: expected numbers >= 0, received {self.tol!r} and {self.alpha!r}"
            )

    def _names(self) -> list[str]:
        names = getattr(self, "feature_names_in_", None)
        if names is not None:
            return [str(n) for n in names]
        return [f"x{k}" for k in range(self.n_features_in_)]


class GMDHRegressor(RegressorMixin, _GMDHParams):
    """GMDH regression: the multilayer (MIA) or the combinatorial (COMBI) algorithm.

    Args:
        method: ``"mia"`` (layers of Eq. PD units) or ``"combi"`` (subsets of a polynomial base).
        criterion: external criterion: ``"regularity"`` (Eq. R), ``"unbiasedness"`` (Eq. U) or
            ``"combined"`` (Eq. C).
        selection_fraction: share of the samples in the selection part B.
        n_best: F, units passed on per MIA layer (COMBI: beam width); None: the number of
            inputs (at least 2).
        max_layers: most MIA layers.
        tol: a new MIA layer must lower the best criterion by more than this fraction.
        degree: COMBI base: monomials up to this degree.
        max_terms: COMBI: most base terms in a model (the constant is extra).
        max_subsets: COMBI: exhaustive search up to this many subsets, beam search beyond.
        alpha: ridge per sample on the non-constant coefficients (numerical safety).
        refit: fit the selected structure again on A u B after selection.
        random_state: seed of the split into A and B.

    Attributes:
        train_index_: the samples of the training part A.
        selection_index_: the samples of the selection part B.
        x_mean_: input means on A (zeros for COMBI); inputs are standardized with them.
        x_scale_: input scales on A (standard deviations; COMBI: root mean squares).
        y_mean_: target mean on A.
        y_scale_: target standard deviation on A.
        criterion_by_layer_: best criterion of each MIA layer tried (COMBI: of each subset size).
        layers_: MIA: per kept layer, (pairs (F, 2), coefficients (F, 6)) of the units passed on.
        best_unit_: MIA: (layer, unit) of the model.
        terms_, coef_: COMBI: the selected monomials and their coefficients (standardized scale).
        polynomial_: the model as {exponents: coefficient} in the original inputs, or None
            when the expansion exceeds ``MAX_EXPANDED_TERMS`` terms.
        formula_: the model as text (exact coefficients).
        term_importance_: |coefficient| * std(term on the fit data) / std(y), per term.
    """

    def fit(self, X: ArrayLike, y: ArrayLike) -> GMDHRegressor:
        """Select and fit the model; returns self."""
        self._check_params()
        X_, y_ = validate_data(self, X, y, y_numeric=True, ensure_min_samples=2, dtype=np.float64)
        n, m = X_.shape
        A, B = split_train_selection(n, self.selection_fraction, self.random_state)
        self.train_index_, self.selection_index_ = A, B
        if self.method == "mia":
            self.x_mean_ = X_[A].mean(axis=0)
            sd = X_[A].std(axis=0)
        else:  # monomials keep their structure under scaling, not under shifts
            self.x_mean_ = np.zeros(m)
            sd = np.sqrt(np.mean(X_[A] ** 2, axis=0))
        self.x_scale_ = np.where(sd > 1e-12 * (1 + np.abs(X_[A]).max(axis=0)), sd, 1.0)
        self.y_mean_ = float(y_[A].mean())
        sd_y = float(y_[A].std())
        self.y_scale_ = sd_y if sd_y > 1e-12 * (1 + abs(self.y_mean_)) else 1.0
        Xs = (X_ - self.x_mean_) / self.x_scale_
        ys = (y_ - self.y_mean_) / self.y_scale_
        F = self.n_best if self.n_best is not None else max(m, 2)
        criterion: Criterion = self.criterion  # type: ignore[assignment]
        if self.method == "mia":
            poly = self._fit_mia(Xs, ys, A, B, F, criterion)
        else:
            poly = self._fit_combi(Xs, ys, A, B, F, criterion)
        self.polynomial_ = poly
        if poly is not None:
            self.formula_ = format_polynomial(poly, self._names())
            self.term_importance_ = _importance(poly, X_, y_)
        else:
            self.formula_ = self._nested_formula(None)
            self.term_importance_ = {}
        return self

    def _fit_mia(
        self,
        Xs: Array,
        ys: Array,
        A: NDArray[np.intp],
        B: NDArray[np.intp],
        F: int,
        criterion: Criterion,
    ) -> Polynomial | None:
        Z = Xs
        layers: list[tuple[NDArray[np.intp], Array]] = []
        best_by_layer: list[float] = []
        best_crit, best_layer, best_idx = math.inf, -1, 0
        for _ in range(self.max_layers):
            pairs, coefs, crit = _mia_layer(Z[A], ys[A], Z[B], ys[B], criterion, self.alpha)
            order = np.argsort(crit, kind="stable")[:F]
            best_by_layer.append(float(crit[order[0]]))
            if crit[order[0]] >= best_crit * (1 - self.tol):
                break  # the external criterion stopped improving
            best_crit, best_layer, best_idx = float(crit[order[0]]), len(layers), 0
            layers.append((pairs[order], coefs[order]))
            Z = _unit_outputs(Z, pairs[order], coefs[order])
        layers = layers[: best_layer + 1]
        if self.refit:
            layers = _refit_mia(Xs, ys, layers, self.alpha)
        self.layers_ = layers
        self.best_unit_ = (best_layer, best_idx)
        self.criterion_by_layer_ = best_by_layer
        return self._trace_mia()

    def _fit_combi(
        self,
        Xs: Array,
        ys: Array,
        A: NDArray[np.intp],
        B: NDArray[np.intp],
        F: int,
        criterion: Criterion,
    ) -> Polynomial:
        basis = monomial_basis(Xs.shape[1], self.degree)
        Phi = monomial_design(Xs, basis)  # (N, 1 + p)
        on_a = Moments.of(Phi[A][None], ys[A])
        on_b = Moments.of(Phi[B][None], ys[B])
        subset, coef, by_size = _combi_search(
            on_a,
            on_b,
            n_terms=len(basis),
            max_terms=self.max_terms,
            max_subsets=self.max_subsets,
            beam=F,
            criterion=criterion,
            alpha=self.alpha,
        )
        idx = np.array(subset, dtype=np.intp)
        if self.refit:
            coef = _solve(Moments.of(Phi[:, idx][None], ys), self.alpha)[0]
        self.terms_ = [(0,) * Xs.shape[1]] + [basis[i - 1] for i in subset[1:]]
        self.coef_ = coef
        self.criterion_by_layer_ = by_size
        leaves = self._leaves()
        poly: Polynomial = {}
        for e, a in zip(self.terms_, coef, strict=True):
            term: Polynomial = {(0,) * len(e): 1.0}
            for k, p in enumerate(e):
                for _ in range(p):
                    term = _poly_mul(term, leaves[k])
            poly = _poly_add((1.0, poly), (float(a), term))
        return self._to_original_units(poly)

    def _leaves(self) -> list[Polynomial]:
        m = self.n_features_in_
        return [_leaf(k, m, float(self.x_mean_[k]), float(self.x_scale_[k])) for k in range(m)]

    def _to_original_units(self, poly: Polynomial) -> Polynomial:
        one = (0,) * self.n_features_in_
        return _poly_add((self.y_scale_, poly), (self.y_mean_, {one: 1.0}))

    def _trace_mia(self) -> Polynomial | None:
        """Expand the chosen unit through its ancestors into a polynomial in x."""
        memo: dict[tuple[int, int], Polynomial] = {}
        leaves = self._leaves()

        def inputs_of(r: int, u: int) -> set[int]:
            if r < 0:
                return {u}
            i, j = self.layers_[r][0][u]
            return inputs_of(r - 1, int(i)) | inputs_of(r - 1, int(j))

        r_best, u_best = self.best_unit_
        n_vars, degree = len(inputs_of(r_best, u_best)), 2 ** (r_best + 1)
        if math.comb(n_vars + degree, n_vars) > MAX_EXPANDED_TERMS:
            return None  # at most this many monomials, and generic coefficients fill them

        def unit(r: int, u: int) -> Polynomial:
            if r < 0:
                return leaves[u]
            if (r, u) not in memo:
                (i, j), a = self.layers_[r][0][u], self.layers_[r][1][u]
                P, Q = unit(r - 1, int(i)), unit(r - 1, int(j))
                memo[(r, u)] = _poly_add(  # Eq. PD
                    (float(a[0]), {(0,) * len(leaves): 1.0}),
                    (float(a[1]), P),
                    (float(a[2]), Q),
                    (float(a[3]), _poly_mul(P, P)),
                    (float(a[4]), _poly_mul(Q, Q)),
                    (float(a[5]), _poly_mul(P, Q)),
                )
            return memo[(r, u)]

        try:
            return self._to_original_units(unit(*self.best_unit_))
        except _TooLarge:
            return None

    def _nested_formula(self, precision: int | None) -> str:
        """The MIA model layer by layer: z{r}_{u} are unit outputs, inputs standardized."""
        names = self._names()
        lines = [
            f"s_{k} = ({names[k]} - {float(self.x_mean_[k])!r}) / {float(self.x_scale_[k])!r}"
            for k in range(self.n_features_in_)
        ]
        prev = [f"s_{k}" for k in range(self.n_features_in_)]
        for r, (pairs, coefs) in enumerate(self.layers_):
            cur = []
            for u, ((i, j), a) in enumerate(zip(pairs, coefs, strict=True)):
                zi, zj = prev[int(i)], prev[int(j)]
                mono = ("1", zi, zj, f"{zi}^2", f"{zj}^2", f"{zi}*{zj}")
                poly_text = " + ".join(
                    f"{(repr(float(c)) if precision is None else f'{c:.{precision}g}')}*{t}"
                    for c, t in zip(a, mono, strict=True)
                )
                lines.append(f"z{r + 1}_{u} = {poly_text}")
                cur.append(f"z{r + 1}_{u}")
            prev = cur
        r, u = self.best_unit_
        lines.append(f"y = {self.y_mean_!r} + {self.y_scale_!r}*z{r + 1}_{u}")
        return "\n".join(lines)

    def predict(self, X: ArrayLike) -> Array:
        """Predictions (N,) of the selected model."""
        check_is_fitted(self, "formula_")
        X_ = validate_data(self, X, reset=False, dtype=np.float64)
        Xs = (X_ - self.x_mean_) / self.x_scale_
        if self.method == "mia":
            Z = Xs
            for pairs, coefs in self.layers_:
                Z = _unit_outputs(Z, pairs, coefs)
            out = Z[:, self.best_unit_[1]]
        else:
            out = monomial_design(Xs, self.terms_[1:]) @ self.coef_
        return self.y_mean_ + self.y_scale_ * out

    def model_formula(self, precision: int | None = 4) -> str:
        """The selected model as ``y = ...`` in the input names (precision significant digits)."""
        check_is_fitted(self, "formula_")
        if self.polynomial_ is None:
            return self._nested_formula(precision)
        return format_polynomial(self.polynomial_, self._names(), precision=precision)

    def recovered_terms(self, min_importance: float = 0.01) -> dict[str, float]:
        """Terms of the expanded model whose importance reaches min_importance, with coefficients.

        The constant ``"1"`` is always listed; ordered by importance, largest first.
        """
        check_is_fitted(self, "formula_")
        if self.polynomial_ is None:
            raise RnnaiError(
                "recovered_terms: expected an expanded polynomial, received a model "
                f"with more than {MAX_EXPANDED_TERMS} terms (see formula_)"
            )
        names = self._names()
        one = (0,) * self.n_features_in_
        out = {"1": self.polynomial_.get(one, 0.0)}
        for e, imp in sorted(self.term_importance_.items(), key=lambda t: -t[1]):
            if imp >= min_importance:
                out[_monomial_name(e, names)] = self.polynomial_[e]
        return out


def _refit_mia(
    Xs: Array, ys: Array, layers: list[tuple[NDArray[np.intp], Array]], alpha: float
) -> list[tuple[NDArray[np.intp], Array]]:
    """Fit every kept unit again on all samples, layer by layer (structure unchanged)."""
    Z = Xs
    out = []
    for pairs, _ in layers:
        Phi = quadratic_design(Z[:, pairs[:, 0]].T, Z[:, pairs[:, 1]].T)  # (F, N, 6)
        coefs = _solve(Moments.of(Phi, ys), alpha)
        out.append((pairs, coefs))
        Z = np.einsum("fnk,fk->nf", Phi, coefs)
    return out


def _importance(poly: Polynomial, X: Array, y: Array) -> dict[Monomial, float]:
    sd_y = float(np.std(y)) or 1.0
    out = {}
    for e, c in poly.items():
        if sum(e):
            out[e] = abs(c) * float(np.std(evaluate_polynomial({e: 1.0}, X))) / sd_y
    return out


class GMDHClassifier(ClassifierMixin, _GMDHParams):
    """GMDH classification: one `GMDHRegressor` per class fitted to the 0/1 class indicator.

    Two classes use one regressor (of the second class); ``decision_function`` is its output
    minus 0.5. More classes use one regressor per class and predict the largest output.
    Parameters as `GMDHRegressor`.
    """

    def fit(self, X: ArrayLike, y: ArrayLike) -> GMDHClassifier:
        """Fit the one-vs-rest regressors; returns self."""
        self._check_params()
        X_, y_ = validate_data(self, X, y, ensure_min_samples=2, dtype=np.float64)
        check_classification_targets(y_)
        self.classes_, y_idx = np.unique(y_, return_inverse=True)
        if len(self.classes_) < 2:
            raise RnnaiError(
                f"y: expected at least 2 classes, received 1 class ({self.classes_[0]!r})"
            )
        targets = [1] if len(self.classes_) == 2 else range(len(self.classes_))
        params = self.get_params()
        self.estimators_ = [
            GMDHRegressor(**params).fit(X_, (y_idx == k).astype(np.float64)) for k in targets
        ]
        return self

    def decision_function(self, X: ArrayLike) -> Array:
        """Scores (N,) for two classes (positive: the second), else (N, n_classes)."""
        check_is_fitted(self, "estimators_")
        X_ = validate_data(self, X, reset=False, dtype=np.float64)
        scores = np.stack([est.predict(X_) for est in self.estimators_], axis=1)
        return scores[:, 0] - 0.5 if len(self.classes_) == 2 else scores

    def predict(self, X: ArrayLike) -> NDArray[Any]:
        """Predicted class labels (N,)."""
        d = self.decision_function(X)
        idx = (d > 0).astype(np.intp) if d.ndim == 1 else np.argmax(d, axis=1)
        return np.asarray(self.classes_[idx])

    def model_formula(self, precision: int | None = 4) -> str:
        """One formula per one-vs-rest regressor, in the input names."""
        check_is_fitted(self, "estimators_")
        names = self._names()
        classes = [self.classes_[1]] if len(self.classes_) == 2 else list(self.classes_)
        lines = []
        for c, est in zip(classes, self.estimators_, strict=True):
            target = f"[y == {np.asarray(c).item()!r}]"
            if est.polynomial_ is None:
                lines.append(f"{target}:\n{est.model_formula(precision)}")
            else:
                lines.append(
                    format_polynomial(est.polynomial_, names, precision=precision, target=target)
                )
        return "\n".join(lines)
