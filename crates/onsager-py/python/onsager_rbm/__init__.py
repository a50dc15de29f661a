"""onsager_rbm: Restricted Boltzmann Machines trained by the extended mean-field (TAP) free
energy, contrastive divergence or persistent CD, as scikit-learn estimators on onsager's Rust
core.

- :class:`BernoulliRBM`: a drop-in replacement for ``sklearn.neural_network.BernoulliRBM``.
- :class:`EMFRBM`: every method (EMF orders 1-3, CD-k, PCD-k), schedules, momentum, weight
  decay, log-likelihood estimates (exact, AIS, EMF), sampling and per-epoch history.
- :class:`TikhonovRidgeCV`: ridge regression with the penalty chosen by GCV, leave-one-out or
  the L-curve, and the diagnostics of where ridge fails (the ``onsager-ridge`` crate), with
  :func:`shaw` and :func:`closed_form_error` from the same crate for the study.
- :func:`load`: read a model file written by ``onsager train`` or by ``.save(path)``.
"""

import json

import numpy as np

from . import _core
from ._bernoulli import BernoulliRBM
from ._dbn import DBNClassifier
from ._emf import EMFRBM
from ._likelihood import LogLikelihood
from ._options import params_of_options
from ._ridge import TikhonovRidgeCV, closed_form_error, shaw

__version__ = _core.__version__

_CLASSES = {"BernoulliRBM": BernoulliRBM, "EMFRBM": EMFRBM}


def load(path):
    """Read a model file (from ``onsager train`` or an estimator's ``save``) as a fitted
    estimator.

    A file saved from Python comes back as the class and parameters it was saved with; a file
    from the command line comes back as an :class:`EMFRBM` whose parameters are the training
    options stored in the file. The optimiser state comes along when the file has it, so
    ``partial_fit`` continues the run.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    BernoulliRBM, EMFRBM or Pipeline
        A file from ``onsager train --preprocess standardize`` stores its training data's column
        means and standard deviations: it comes back as a scikit-learn ``Pipeline`` of a fitted
        ``StandardScaler`` holding them and the estimator, so ``transform`` takes raw rows;
        ``pipeline[0].inverse_transform(pipeline[-1].sample(n))`` maps samples back.

    Raises
    ------
    OSError
        The file cannot be read.
    ValueError
        The file is not an onsager model file (the message names the file and the problem).
    """
    d = _core.load(str(path))
    extra = d["extra"]
    cls = _CLASSES.get(extra.get("python.class"), EMFRBM)
    # The Python entries are checked here (the core checks the rest): whatever they hold, a
    # damaged file is a ValueError naming the file and the entry, never a TypeError.
    entry = "python.params"
    known = cls().get_params(deep=False)
    try:
        if "python.params" in extra:
            params = json.loads(extra["python.params"])
            if not isinstance(params, dict):
                raise ValueError("not a JSON object")
            if "metrics" in params and isinstance(params["metrics"], list):
                params["metrics"] = tuple(params["metrics"])
        elif d["options"] is not None:
            entry = "params"
            stored = params_of_options(d["options"])
            params = {k: v for k, v in stored.items() if k in known}
        else:
            params = {}
        unknown = sorted(set(params) - set(known))
        if unknown:
            raise ValueError(f"{cls.__name__} has no parameter {', '.join(unknown)}")
        est = cls(**params)
        est._validate_params()
        entry = "python.feature_names"
        if "python.feature_names" in extra:
            names = json.loads(extra["python.feature_names"])
            if not (isinstance(names, list) and len(names) == d["model"][0].shape[1]):
                raise ValueError("not one name per visible unit")
            est.feature_names_in_ = np.asarray(names, dtype=object)
    except (ValueError, TypeError, KeyError) as e:
        raise ValueError(f"{path}: the metadata entry `{entry}` is damaged: {e}") from None
    components, visible, hidden, units, sigma = d["model"]
    est.components_ = components
    est.intercept_visible_ = visible
    est.intercept_hidden_ = hidden
    est._visible_units = units
    if _core.visible_units(units)[3]:
        est.sigma_ = sigma
    est.n_features_in_ = components.shape[1]
    est._n_features_out = components.shape[0]
    est._seed = int(params.get("random_state") or 0)
    if d["checkpoint"] is not None:
        est._checkpoint = d["checkpoint"]
    if cls is EMFRBM:
        est.history_ = json.loads(d["history"])
        est.n_epochs_ = d["epochs_completed"]
    else:
        est.h_samples_ = np.zeros((est.batch_size, est.n_components), dtype=components.dtype)
    if d["input"] is not None:
        return _standardized(est, *d["input"])
    return est


def _standardized(est, mean, std):
    """The estimator behind a fitted ``StandardScaler`` holding a file's stored map (the column
    means and standard deviations of ``onsager train --preprocess standardize``)."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler()
    scaler.mean_ = mean
    scaler.scale_ = std
    scaler.var_ = std**2
    scaler.n_features_in_ = mean.shape[0]
    scaler.n_samples_seen_ = np.int64(0)  # the file does not record how many rows
    return make_pipeline(scaler, est)


__all__ = [
    "BernoulliRBM", "DBNClassifier", "EMFRBM", "LogLikelihood", "TikhonovRidgeCV", "closed_form_error", "load",
    "shaw", "__version__",
]
