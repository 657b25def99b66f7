"""`rnnai bench gmdh`: GMDH fit time against GridSearchCV over Ridge + PolynomialFeatures.

Both sides see the same synthetic set (`bench_data`: ``N_FEATURES`` inputs uniform in [-1, 1],
a sparse degree-2 target with noise) and search models of the same reach, the polynomials of
degree <= 2 in the same inputs:

* **GMDH COMBI** (degree 2, at most ``MAX_TERMS`` terms; beam search when the subsets are too
  many for exhaustive search) against the anchor;
* **GMDH MIA** (one layer of pairwise quadratics reaches degree 2; later layers go beyond, so
  its reach is larger) against the same anchor;
* the anchor: ``GridSearchCV`` (5-fold) over ``len(ALPHAS)`` Ridge alphas on standardized inputs
  expanded by ``PolynomialFeatures(degree=2)``, one thread (``n_jobs=None``).

What is compared is the two model-selection procedures as a user runs them: the anchor fits
41 Ridge models (5 folds x 8 alphas, then the refit), GMDH fits its candidate models on part A
once and ranks them on part B (COMBI on 10 inputs: beam search over 65 monomials).

Times are medians of interleaved rounds (`rnnai.bench.round_robin_medians`) in seconds, so the
anchor and ours run under the same load. Set ``OMP_NUM_THREADS=1`` for comparable numbers (the
least-squares solves of both sides use BLAS).

Examples:
    >>> X, y = bench_data(50, 4)
    >>> X.shape, y.shape
    ((50, 4), (50,))
    >>> type(anchor_search()).__name__
    'GridSearchCV'
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

from rnnai.bench import BenchRow, register_bench, round_robin_medians
from rnnai.gmdh import GMDHRegressor
from rnnai.runtime.progress import Progress

N_SAMPLES = 5_000
"""Samples of the benchmark set (``--quick``: `N_SAMPLES_QUICK`)."""
N_SAMPLES_QUICK = 1_000
"""Samples with ``--quick``."""
N_FEATURES = 10
"""Inputs of the benchmark set (65 monomials of degree 1..2)."""
MAX_TERMS = 4
"""COMBI's most terms besides the constant."""
ALPHAS = tuple(float(a) for a in np.logspace(-4, 3, 8))
"""The anchor's Ridge alpha grid."""
REPEATS = 5
"""Interleaved timing rounds (``--quick``: `REPEATS_QUICK`)."""
REPEATS_QUICK = 3
"""Rounds with ``--quick``."""

Array = NDArray[np.float64]


def bench_data(n: int, n_features: int, seed: int = 0) -> tuple[Array, Array]:
    """The benchmark set: inputs uniform in [-1, 1], y = 1 + 2 x0 - 3 x1 x2 + noise (0.1).

    Args:
        n: Samples.
        n_features: Inputs (at least 3).
        seed: The generator's seed.

    Returns:
        (X of shape (n, n_features), y of shape (n,)).
    """
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(n, n_features))
    y = 1 + 2 * X[:, 0] - 3 * X[:, 1] * X[:, 2] + 0.1 * rng.standard_normal(n)
    return X, y


def anchor_search() -> GridSearchCV:
    """The anchor: 5-fold GridSearchCV over `ALPHAS` of StandardScaler + degree-2 Ridge."""
    pipe = make_pipeline(StandardScaler(), PolynomialFeatures(degree=2), Ridge())
    return GridSearchCV(pipe, {"ridge__alpha": list(ALPHAS)}, cv=5)


@register_bench("gmdh")
def bench_gmdh(quick: bool, progress: Progress) -> list[BenchRow]:
    """Fit times of GMDH COMBI and MIA against the GridSearchCV anchor (see the module)."""
    n = N_SAMPLES_QUICK if quick else N_SAMPLES
    repeats = REPEATS_QUICK if quick else REPEATS
    X, y = bench_data(n, N_FEATURES)
    steps = {
        "combi": lambda: GMDHRegressor(method="combi", max_terms=MAX_TERMS).fit(X, y),
        "mia": lambda: GMDHRegressor(method="mia").fit(X, y),
        "anchor": lambda: anchor_search().fit(X, y),
    }
    with progress.task(1, "gmdh fit times") as t:
        med = round_robin_medians(steps, repeats=repeats, warmup=1)
        t.advance()
    sizes = f"N={n}, {N_FEATURES} inputs"
    anchor = f"GridSearchCV 5-fold x {len(ALPHAS)} alphas, Ridge on degree-2 features"
    return [
        BenchRow.compare(
            f"GMDH COMBI fit (degree 2, <= {MAX_TERMS} terms) vs {anchor}, {sizes}",
            med["combi"], med["anchor"], "s",
        ),
        BenchRow.compare(
            f"GMDH MIA fit (pairwise quadratics, layers by criterion) vs {anchor}, {sizes}",
            med["mia"], med["anchor"], "s",
        ),
    ]  # fmt: skip
