"""Tests of rnnai.gmdh: the math against direct transcriptions, scikit-learn conformance, and
structure recovery on a synthetic polynomial with distractor inputs."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from rnnai.gmdh import (
    GMDHClassifier,
    GMDHRegressor,
    Moments,
    evaluate_polynomial,
    external_criterion,
    format_polynomial,
    monomial_basis,
    monomial_design,
    quadratic_design,
    split_train_selection,
)
from rnnai.runtime.errors import RnnaiError

TRUE_TERMS = {"1", "x0", "x1*x2", "x0^2"}


def synthetic(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """y = 1 + 2 x0 - 3 x1 x2 + 0.5 x0^2 + noise; x3..x5 are distractors."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, 6))
    y = 1 + 2 * X[:, 0] - 3 * X[:, 1] * X[:, 2] + 0.5 * X[:, 0] ** 2
    return X, y + 0.01 * rng.standard_normal(n)


@parametrize_with_checks(
    [GMDHRegressor(), GMDHRegressor(method="combi"), GMDHClassifier(max_layers=2)]
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


# --- math ---------------------------------------------------------------------------------------


def test_quadratic_design_has_the_six_terms_of_the_partial_description() -> None:
    Phi = quadratic_design(np.array([2.0]), np.array([3.0]))
    np.testing.assert_array_equal(Phi, [[1, 2, 3, 4, 9, 6]])


def test_monomial_basis_is_graded_and_complete() -> None:
    assert monomial_basis(2, 2) == [(1, 0), (0, 1), (2, 0), (1, 1), (0, 2)]
    assert len(monomial_basis(6, 3)) == 83  # C(9, 3) - 1


def test_regularity_is_mse_on_selection_part_of_fit_on_training_part() -> None:
    rng = np.random.default_rng(0)
    Phi = rng.standard_normal((40, 4))
    y = rng.standard_normal(40)
    A, B = np.arange(25), np.arange(25, 40)
    crit, a = external_criterion(
        "regularity", Moments.of(Phi[A][None], y[A]), Moments.of(Phi[B][None], y[B])
    )
    a_ref = np.linalg.lstsq(Phi[A], y[A], rcond=None)[0]
    np.testing.assert_allclose(a[0], a_ref, atol=1e-10)
    np.testing.assert_allclose(crit[0], np.mean((y[B] - Phi[B] @ a_ref) ** 2), rtol=1e-10)


def test_unbiasedness_compares_fits_on_both_parts_over_all_samples() -> None:
    rng = np.random.default_rng(1)
    Phi = rng.standard_normal((40, 3))
    y = rng.standard_normal(40)
    A, B = np.arange(20), np.arange(20, 40)
    on_a, on_b = Moments.of(Phi[A][None], y[A]), Moments.of(Phi[B][None], y[B])
    a_A = np.linalg.lstsq(Phi[A], y[A], rcond=None)[0]
    a_B = np.linalg.lstsq(Phi[B], y[B], rcond=None)[0]
    ref = np.mean((Phi @ a_A - Phi @ a_B) ** 2)
    np.testing.assert_allclose(external_criterion("unbiasedness", on_a, on_b)[0][0], ref, rtol=1e-9)
    reg = np.mean((y[B] - Phi[B] @ a_A) ** 2)
    np.testing.assert_allclose(
        external_criterion("combined", on_a, on_b)[0][0], reg + ref, rtol=1e-9
    )


def test_polynomial_evaluation_and_formatting() -> None:
    poly = {(0, 0): 1.0, (1, 0): -2.0, (1, 1): 0.5}
    X = np.array([[1.0, 2.0], [3.0, -1.0]])
    np.testing.assert_allclose(evaluate_polynomial(poly, X), [0.0, -6.5])
    assert format_polynomial(poly, ["a", "b"]) == "y = 1.0 - 2.0*a + 0.5*a*b"
    assert format_polynomial({(0, 0): -1.0}, ["a", "b"], precision=2) == "y = -1"


def test_split_is_disjoint_complete_and_seeded() -> None:
    A, B = split_train_selection(30, 1 / 3, 7)
    assert len(B) == 10 and not set(A) & set(B) and set(A) | set(B) == set(range(30))
    A2, B2 = split_train_selection(30, 1 / 3, 7)
    np.testing.assert_array_equal(B, B2)
    assert not np.array_equal(B, split_train_selection(30, 1 / 3, 8)[1])


# --- the algorithms -----------------------------------------------------------------------------


def test_first_layer_criterion_is_computed_on_the_selection_part_only() -> None:
    X, y = synthetic(120, 3)
    model = GMDHRegressor(max_layers=1, refit=False).fit(X, y)
    A, B = model.train_index_, model.selection_index_
    Xs = (X - X[A].mean(0)) / X[A].std(0)
    ys = (y - y[A].mean()) / y[A].std()
    best = np.inf
    for i in range(6):
        for j in range(i + 1, 6):
            Phi = quadratic_design(Xs[:, i], Xs[:, j])
            a = np.linalg.lstsq(Phi[A], ys[A], rcond=None)[0]
            best = min(best, np.mean((ys[B] - Phi[B] @ a) ** 2))
    np.testing.assert_allclose(model.criterion_by_layer_[0], best, rtol=1e-8)
    # the selection part's targets do not enter the fit: changing them keeps the unit coefficients
    y2 = y.copy()
    y2[B] += np.random.default_rng(0).standard_normal(len(B))
    pairs, coefs = model.layers_[0]
    other = GMDHRegressor(max_layers=1, refit=False, n_best=15).fit(X, y2)
    for p, c in zip(*other.layers_[0], strict=True):
        same = np.flatnonzero((pairs == p).all(axis=1))
        if len(same):
            np.testing.assert_allclose(coefs[same[0]], c, rtol=1e-6, atol=1e-9)


def test_mia_recovers_the_structure_and_generalizes() -> None:
    X, y = synthetic(1000, 1)
    X_test, y_test = synthetic(1000, 2)  # independent draw: no overlap with the fit data
    model = GMDHRegressor(max_layers=2).fit(X, y)
    assert model.score(X_test, y_test) > 0.99
    terms = model.recovered_terms(min_importance=0.05)
    assert set(terms) == TRUE_TERMS
    np.testing.assert_allclose(
        [terms["x0"], terms["x1*x2"], terms["x0^2"]], [2, -3, 0.5], atol=0.05
    )


def test_mia_adds_layers_while_the_criterion_improves_by_tol() -> None:
    X, y = synthetic(300, 4)
    tol = 0.05
    model = GMDHRegressor(max_layers=8, tol=tol).fit(X, y)
    crit, kept = model.criterion_by_layer_, len(model.layers_)
    assert kept < 8 and len(crit) == kept + 1  # stopped by the criterion, not by max_layers
    for r in range(1, kept):
        assert crit[r] < crit[r - 1] * (1 - tol)  # every kept layer improved by more than tol
    assert crit[-1] >= crit[-2] * (1 - tol)  # the layer tried last did not
    assert model.best_unit_ == (kept - 1, 0)


@pytest.mark.parametrize("refit", [False, True])
def test_refit_uses_all_samples_only_after_selection(refit: bool) -> None:
    X, y = synthetic(150, 16)
    model = GMDHRegressor(method="combi", max_terms=3, refit=refit).fit(X, y)
    rows = np.arange(150) if refit else model.train_index_
    design = monomial_design(X / model.x_scale_, model.terms_[1:])
    ys = (y - model.y_mean_) / model.y_scale_
    ref = np.linalg.lstsq(design[rows], ys[rows], rcond=None)[0]
    np.testing.assert_allclose(model.coef_, ref, rtol=1e-7, atol=1e-9)


def test_combi_exhaustive_finds_the_true_subset() -> None:
    X, y = synthetic(300, 5)
    model = GMDHRegressor(method="combi", max_terms=3).fit(X, y)
    assert sorted(model.terms_) == sorted(
        [(0,) * 6, (1, 0, 0, 0, 0, 0), (0, 1, 1, 0, 0, 0), (2, 0, 0, 0, 0, 0)]
    )
    X_test, y_test = synthetic(1000, 6)
    assert model.score(X_test, y_test) > 0.999


def test_combi_with_slack_recovers_the_important_terms() -> None:
    X, y = synthetic(300, 5)
    model = GMDHRegressor(method="combi", max_terms=5, criterion="combined").fit(X, y)
    assert set(model.recovered_terms()) == TRUE_TERMS


def test_combi_beam_search_on_a_large_base() -> None:
    X, y = synthetic(300, 7)
    model = GMDHRegressor(method="combi", degree=3, max_terms=4, max_subsets=1000).fit(X, y)
    assert set(model.recovered_terms()) == TRUE_TERMS


@pytest.mark.parametrize("params", [{"max_layers": 2}, {"method": "combi"}])
def test_formula_evaluates_to_the_predictions(params: dict[str, object]) -> None:
    X, y = synthetic(200, 8)
    model = GMDHRegressor(**params).fit(X, y)
    names = {f"x{k}": X[:, k] for k in range(6)}
    expr = model.formula_.split("=", 1)[1].replace("^", "**")
    np.testing.assert_allclose(eval(expr, {}, names), model.predict(X), rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(
        evaluate_polynomial(model.polynomial_, X), model.predict(X), atol=1e-8
    )


def test_deep_mia_prints_the_layers_and_predicts_the_same() -> None:
    X, y = synthetic(200, 9)
    model = GMDHRegressor(max_layers=5, tol=0.0).fit(X, y)
    assert model.polynomial_ is None and len(model.layers_) >= 4
    namespace: dict[str, object] = {f"x{k}": X[:, k] for k in range(6)}
    for line in model.formula_.replace("^", "**").splitlines():
        name, expr = line.split(" = ", 1)
        namespace[name] = eval(expr, {}, namespace)
    np.testing.assert_allclose(namespace["y"], model.predict(X), rtol=1e-9)  # type: ignore
    with pytest.raises(RnnaiError, match="expanded polynomial"):
        model.recovered_terms()


def test_formula_uses_the_feature_names() -> None:
    pd = pytest.importorskip("pandas")  # feature names need a dataframe library
    X, y = synthetic(300, 5)
    frame = pd.DataFrame(X, columns=["speed", "mass", "load", "d1", "d2", "d3"])
    model = GMDHRegressor(method="combi", max_terms=3).fit(frame, y)
    assert list(model.feature_names_in_) == ["speed", "mass", "load", "d1", "d2", "d3"]
    text = model.model_formula(precision=2)
    assert text.startswith("y = 1 + 2*speed") and "3*mass*load" in text and "speed^2" in text


def test_pipeline_and_grid_search() -> None:
    X, y = synthetic(240, 10)
    pipe = make_pipeline(StandardScaler(), GMDHRegressor())
    grid = GridSearchCV(
        pipe, {"gmdhregressor__method": ["mia", "combi"], "gmdhregressor__max_terms": [2, 3]}, cv=3
    )
    grid.fit(X, y)
    assert grid.best_params_["gmdhregressor__max_terms"] == 3
    X_test, y_test = synthetic(500, 11)
    assert grid.score(X_test, y_test) > 0.99


def test_fit_is_deterministic_and_seeded() -> None:
    X, y = synthetic(150, 12)
    a = GMDHRegressor(random_state=3).fit(X, y)
    b = GMDHRegressor(random_state=3).fit(X, y)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    assert a.formula_ == b.formula_


@pytest.mark.parametrize(
    "params, match",
    [
        ({"method": "lasso"}, "method: expected one of"),
        ({"criterion": "aic"}, "criterion: expected one of"),
        ({"selection_fraction": 1.0}, "selection_fraction"),
        ({"max_layers": 0}, "max_layers: expected an integer >= 1"),
        ({"n_best": 0}, "n_best"),
    ],
)
def test_bad_parameters_raise_rnnai_error(params: dict[str, object], match: str) -> None:
    X, y = synthetic(30, 13)
    with pytest.raises(RnnaiError, match=match):
        GMDHRegressor(**params).fit(X, y)


def test_wrong_number_of_features_is_a_clear_error() -> None:
    X, y = synthetic(30, 14)
    model = GMDHRegressor().fit(X, y)
    with pytest.raises(ValueError, match="X has 5 features"):
        model.predict(X[:, :5])


def test_monomial_design_matches_the_basis() -> None:
    X = np.array([[2.0, 3.0]])
    np.testing.assert_array_equal(monomial_design(X, monomial_basis(2, 2)), [[1, 2, 3, 4, 6, 9]])


# --- classifier ---------------------------------------------------------------------------------


def test_classifier_separates_a_quadratic_boundary() -> None:
    rng = np.random.default_rng(15)
    X = rng.uniform(-1, 1, size=(600, 3))
    labels = np.where(X[:, 0] * X[:, 1] > 0, "same", "diff")
    clf = GMDHClassifier(max_layers=2).fit(X[:400], labels[:400])
    assert clf.score(X[400:], labels[400:]) > 0.9
    assert clf.model_formula(2).startswith("[y == 'same'] = ")


def test_classifier_needs_two_classes() -> None:
    X, _ = make_classification(n_samples=20, random_state=0)
    with pytest.raises(RnnaiError, match="at least 2 classes"):
        GMDHClassifier().fit(X, np.zeros(20))
