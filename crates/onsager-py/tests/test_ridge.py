"""TikhonovRidgeCV: its path equals scikit-learn's Ridge, its leave-one-out choice equals
RidgeCV's, its criteria their definitions, its warnings fire where they should, and it passes
scikit-learn's estimator checks."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import Ridge, RidgeCV
from sklearn.utils.estimator_checks import parametrize_with_checks

from onsager_rbm import TikhonovRidgeCV


def _data(n, p, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, p)
    w = np.linspace(-1, 1, p)
    return X, X @ w + 0.3 * rng.randn(n) + 2.0


@pytest.mark.parametrize("n, p", [(60, 10), (20, 20), (15, 40)])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_one_alpha_is_scikit_learns_ridge(n, p, fit_intercept):
    X, y = _data(n, p)
    for alpha in [1e-3, 0.3, 10.0]:
        ours = TikhonovRidgeCV(alphas=[alpha], fit_intercept=fit_intercept).fit(X, y)
        ref = Ridge(alpha=alpha, fit_intercept=fit_intercept, solver="svd").fit(X, y)
        np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-9, atol=1e-12)
        assert ours.intercept_ == pytest.approx(ref.intercept_, rel=1e-9, abs=1e-12)
        np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-9)
        assert ours.alpha_ == alpha


def test_leave_one_out_chooses_what_ridgecv_chooses():
    """RidgeCV's default criterion is the exact leave-one-out squared error, so on the same
    grid the two choose the same alpha (and so the same coefficients)."""
    X, y = load_breast_cancer(return_X_y=True)
    X = (X - X.mean(0)) / X.std(0)
    grid = np.logspace(-4, 4, 41)
    ours = TikhonovRidgeCV(alphas=grid, selection="loo").fit(X[:300], y[:300])
    ref = RidgeCV(alphas=grid).fit(X[:300], y[:300])
    assert ours.alpha_ == ref.alpha_
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-8)
    # RidgeCV's best score is minus the leave-one-out mean squared error.
    assert ours.loo_values_.min() == pytest.approx(-ref.best_score_, rel=1e-8)


def test_loo_and_gcv_values_are_their_definitions():
    X, y = _data(12, 4, seed=3)
    m = TikhonovRidgeCV(alphas=[0.5]).fit(X, y)
    errors = []
    for i in range(12):
        keep = np.arange(12) != i
        r = Ridge(alpha=0.5).fit(X[keep], y[keep])
        errors.append(y[i] - r.predict(X[i : i + 1])[0])
    assert m.loo_values_[0] == pytest.approx(np.mean(np.square(errors)), rel=1e-9)
    Xc, yc = X - X.mean(0), y - y.mean()
    H = Xc @ np.linalg.solve(Xc.T @ Xc + 0.5 * np.eye(4), Xc.T) + 1 / 12
    r = yc - (H - 1 / 12) @ yc
    assert m.gcv_values_[0] == pytest.approx(12 * r @ r / (12 - np.trace(H)) ** 2, rel=1e-9)


def test_every_selection_and_the_truncated_svd_fit():
    X, y = _data(80, 8)
    for selection in ["gcv", "loo", "lcurve"]:
        m = TikhonovRidgeCV(selection=selection).fit(X, y)
        assert m.score(X, y) > 0.8
        assert len(m.alphas_) == 100 and np.all(np.diff(m.alphas_) > 0)
        assert m.criterion_.shape == m.alphas_.shape
    t = TikhonovRidgeCV(filter="tsvd").fit(X, y)
    assert t.alpha_ in range(1, 9) and len(t.alphas_) == 8
    assert t.score(X, y) > 0.8


def test_the_danger_zone_and_the_grid_edge_warn():
    X, y = _data(30, 30)
    with pytest.warns(UserWarning, match="danger zone"):
        m = TikhonovRidgeCV(alphas=[1e-10], fit_intercept=False).fit(X, y)
    assert m.danger_ is not None and "n/p = 1.000" in m.danger_
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        safe = TikhonovRidgeCV(alphas=[1e-10], fit_intercept=False).fit(*_data(300, 30))
    assert safe.danger_ is None
    with pytest.warns(UserWarning, match="edge of the grid"):
        TikhonovRidgeCV(alphas=[1e4, 1e5, 1e6]).fit(*_data(80, 8))
    assert np.all(np.diff(m.singular_values_) <= 0) and m.rank_ == 30
    assert np.allclose(m.picard_ratios_, m.picard_coordinates_ / m.singular_values_)


def test_bad_input_is_one_clear_error():
    X, y = _data(10, 3)
    Xn = X.copy()
    Xn[2, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        TikhonovRidgeCV().fit(Xn, y)
    with pytest.raises(ValueError, match="constant"):
        TikhonovRidgeCV().fit(X, np.full(10, 3.0))
    with pytest.raises(ValueError, match="0 sample"):
        TikhonovRidgeCV().fit(X[:0], y[:0])
    with pytest.raises(ValueError, match="positive|non-negative"):
        TikhonovRidgeCV(alphas=[-1.0]).fit(X, y)
    from sklearn.utils._param_validation import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="selection"):
        TikhonovRidgeCV(selection="aic").fit(X, y)


@parametrize_with_checks([TikhonovRidgeCV(), TikhonovRidgeCV(selection="lcurve"),
                          TikhonovRidgeCV(filter="tsvd", selection="loo")])
def test_sklearn_compatible(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # grid-edge notes on the checks' toy data
        check(estimator)


def test_shaw_and_the_closed_forms_are_the_crates_and_their_definitions():
    from onsager_rbm import closed_form_error, shaw

    A, x = shaw(8)
    h = np.pi / 8
    t = -np.pi / 2 + (np.arange(8) + 0.5) * h
    s, tt = np.meshgrid(t, t, indexing="ij")
    u = np.pi * (np.sin(s) + np.sin(tt))
    # sin(u)/u = np.sinc(u/pi), 1 where u = 0 (the anti-diagonal, sin s = -sin t).
    np.testing.assert_allclose(A, h * (np.cos(s) + np.cos(tt)) ** 2 * np.sinc(u / np.pi) ** 2,
                               rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(x, 2 * np.exp(-6 * (t - 0.8) ** 2) + np.exp(-2 * (t + 0.5) ** 2))
    assert closed_form_error(150, 100, 0.5, 1.0) == pytest.approx((0.0, 0.25 * 100 / 49))
    assert closed_form_error(40, 100, 0.5, 1.0) == pytest.approx((0.6, 0.25 * 40 / 59))
    assert closed_form_error(100, 100, 0.5, 1.0) is None
    with pytest.raises(ValueError):
        shaw(0)
