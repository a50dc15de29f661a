"""`TikhonovRidgeCV`: ridge regression by one SVD, with the penalty chosen by GCV, exact
leave-one-out or the L-curve, and the diagnostics of where ridge fails (onsager's
``onsager-ridge`` crate; docs/maths.md §8, docs/ridge.md)."""

import warnings
from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _core


class TikhonovRidgeCV(RegressorMixin, BaseEstimator):
    """Ridge regression with the penalty chosen by GCV, leave-one-out or the L-curve.

    Minimises ``||y - Xw - b||^2 + alpha * ||w||^2`` (alpha as in scikit-learn's ``Ridge``;
    the intercept b is not penalised). One thin SVD of the centred design gives the whole path
    over ``alphas`` at O(min(n, p) * (n + p)) per value; the penalty is then chosen by
    generalised cross-validation, exact leave-one-out error (the criterion scikit-learn's
    ``RidgeCV`` minimises by default) or the corner of the L-curve (Hansen's maximum
    curvature of (log ||r||, log ||w||)), none of which ``RidgeCV`` offers together. A fit in
    the danger zone, n/p within ``danger_band`` of 1 with alpha below the smallest squared
    singular value, warns: there the estimator's variance diverges as alpha -> 0.

    Parameters
    ----------
    alphas : array-like of float or None, default=None
        The grid of penalties (positive). None: 100 values evenly spaced in log from
        1e-10 * s_1^2 to 10 * s_1^2, s_1 the design's largest singular value. Ignored by
        ``filter='tsvd'``, which searches k = rank ... 1.
    selection : {'gcv', 'loo', 'lcurve'}, default='gcv'
        How the penalty is chosen over the grid.
    filter : {'tikhonov', 'tsvd'}, default='tikhonov'
        Ridge (filter factors s^2 / (s^2 + alpha)) or the truncated SVD (keep k directions;
        ``alpha_`` is then k).
    fit_intercept : bool, default=True
        Centre the columns and the target first (an unpenalised intercept).
    danger_band : float, default=0.25
        Warn when |n/p - 1| <= danger_band and the chosen alpha is below the smallest squared
        singular value.

    Attributes
    ----------
    alpha_ : float
        The chosen penalty (k for the truncated SVD).
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    alphas_ : ndarray
        The grid searched, from the least to the most regularised end.
    gcv_values_, loo_values_ : ndarray
        GCV and leave-one-out mean squared error at each point of ``alphas_`` (inf where the
        fit interpolates).
    residual_norms_, solution_norms_ : ndarray
        ||y - Xw - b|| and ||w|| along the path (the L-curve).
    criterion_ : ndarray
        The criterion the selection used at each point (the L-curve's curvature for 'lcurve').
    dof_ : ndarray
        Effective degrees of freedom sum_i f_i along the path.
    singular_values_ : ndarray
        Nonzero singular values of the centred design, decreasing.
    picard_coordinates_, picard_ratios_ : ndarray
        |u_i' y| and |u_i' y| / s_i: the discrete Picard plot.
    rank_ : int
        Numerical rank of the centred design.
    condition_number_ : float
        s_1 / s_rank (inf when rank-deficient).
    on_edge_ : bool
        Whether the choice lies on the grid's first or last point (widen the grid).
    danger_ : str or None
        The danger-zone warning, when the fit is in it.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Defined only when X has string feature names.

    Examples
    --------
    >>> import numpy as np
    >>> from onsager_rbm import TikhonovRidgeCV
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(50, 5)
    >>> y = X @ np.array([1.0, -2.0, 0.0, 0.5, 3.0]) + 0.1 * rng.randn(50)
    >>> model = TikhonovRidgeCV(selection="loo").fit(X, y)
    >>> bool(np.allclose(model.coef_, [1.0, -2.0, 0.0, 0.5, 3.0], atol=0.1))
    True
    """

    _parameter_constraints = {
        "alphas": ["array-like", None],
        "selection": [StrOptions({"gcv", "loo", "lcurve"})],
        "filter": [StrOptions({"tikhonov", "tsvd"})],
        "fit_intercept": ["boolean"],
        "danger_band": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, alphas=None, *, selection="gcv", filter="tikhonov", fit_intercept=True,
                 danger_band=0.25):
        self.alphas = alphas
        self.selection = selection
        self.filter = filter
        self.fit_intercept = fit_intercept
        self.danger_band = danger_band

    def fit(self, X, y):
        """Fit the path and choose the penalty.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        self : TikhonovRidgeCV
        """
        self._validate_params()
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=True)
        if X.shape[0] < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 samples; got {X.shape[0]} sample"
            )
        alphas = [] if self.alphas is None else [float(a) for a in np.ravel(self.alphas)]
        if self.alphas is not None and not alphas:
            raise ValueError("alphas is empty; give at least one value or None")
        out = _core.ridge_fit(
            np.ascontiguousarray(X), np.ascontiguousarray(y, dtype=np.float64), alphas,
            self.selection, self.filter, bool(self.fit_intercept), float(self.danger_band),
        )
        self.coef_ = out["coef"]
        self.intercept_ = float(out["intercept"])
        self.alpha_ = float(out["alpha"])
        self.alphas_ = np.asarray(out["path_alphas"])
        self.gcv_values_ = np.asarray(out["gcv"])
        self.loo_values_ = np.asarray(out["loo"])
        self.criterion_ = np.asarray(out["criterion"])
        self.residual_norms_ = np.asarray(out["residual_norms"])
        self.solution_norms_ = np.asarray(out["solution_norms"])
        self.dof_ = np.asarray(out["dof"])
        self.singular_values_ = np.asarray(out["singular_values"])
        self.picard_coordinates_ = np.asarray(out["coordinates"])
        self.picard_ratios_ = np.asarray(out["picard_ratios"])
        self.rank_ = int(out["rank"])
        self.condition_number_ = float(out["condition_number"])
        self.on_edge_ = bool(out["on_edge"])
        self.danger_ = out["danger"]
        if self.on_edge_ and len(self.alphas_) > 1:
            warnings.warn(
                f"{type(self).__name__}: the chosen penalty {self.alpha_:g} lies on the edge "
                "of the grid; a wider grid may choose otherwise",
                UserWarning,
                stacklevel=2,
            )
        if self.danger_ is not None:
            warnings.warn(f"{type(self).__name__}: {self.danger_}", UserWarning, stacklevel=2)
        return self

    def predict(self, X):
        """Predict with the fitted coefficients.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return X @ self.coef_ + self.intercept_


def shaw(n):
    """Shaw's one-dimensional image-restoration problem of size n (docs/maths.md §8.7), the
    test problem with a known L-curve corner: returns (A, x) with A of shape (n, n)."""
    return _core.ridge_shaw(int(n))


def closed_form_error(n, p, sigma, w_norm2):
    """(bias², variance) of the expected error ||w_hat - w*||² of minimum-norm least squares
    on an n x p design of independent N(0, 1) entries with noise sigma and ||w*||² = w_norm2
    (docs/maths.md §8.6), or None for p - 1 <= n <= p + 1, where it is infinite."""
    return _core.ridge_closed_form(int(n), int(p), float(sigma), float(w_norm2))
