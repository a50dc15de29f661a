"""`LogLikelihood`: what :meth:`EMFRBM.log_likelihood` returns."""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LogLikelihood:
    """A log-likelihood estimate (nats): for real-valued visible units a log-density (with
    respect to Lebesgue measure, so it may be positive and changes with the data's scale), as
    ``quantity`` says.

    Attributes
    ----------
    mean : float
        Mean log-likelihood per row.
    lower, upper : float
        Bounds on ``mean``: AIS's ±3 standard deviations of its estimate of Z (``lower`` is
        -inf when the interval reaches Z = 0); equal to ``mean`` for ``exact``; NaN for
        ``emf``, which has no error bar.
    per_row : ndarray of shape (n_samples,)
        log p(v) of each row, -F(v) - log Z.
    log_z : float
        The estimate of log Z.
    estimator : str
        'exact', 'ais' or 'emf'.
    converged : bool
        For 'emf', whether the fixed-point iteration converged; for 'ais', whether the runs'
        weights gave a finite lower bound on Z and the estimate did not fall below the data's
        own bound on log Z (it is then raised to that bound); always True for 'exact'.
    quantity : str
        'log-likelihood' (binary visible units: a log probability) or 'log-density'
        (real-valued visible units).
    """

    mean: float
    lower: float
    upper: float
    per_row: np.ndarray
    log_z: float
    estimator: str
    converged: bool
    quantity: str = "log-likelihood"

    def __float__(self):
        return float(self.mean)
