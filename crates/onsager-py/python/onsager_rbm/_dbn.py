"""`DBNClassifier`: a deep network (onsager's ``onsager-deep`` crate; docs/maths.md §10),
trained by SGD from a random start or from an RBM stack pretrained by any of onsager's
methods."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _core


class DBNClassifier(ClassifierMixin, BaseEstimator):
    """A multi-layer network with a softmax output, optionally pretrained as an RBM stack.

    With ``pretrain`` set, the hidden layers are first trained greedily as RBMs (layer k on
    P(h|v) of layer k - 1) by that method, then the whole network is fine-tuned; otherwise the
    weights start at random. Training is mini-batch SGD with momentum, a per-epoch
    exponential learning-rate decay with a floor and optional gradient-norm clipping; with
    ``validation_fraction`` the network ends holding the epoch of lowest validation error.
    Results have the same bits for any thread count.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(100,)
        Hidden layer sizes, input side first.
    activation : {'logistic', 'scaled-tanh', 'relu'}, default='logistic'
        Hidden activation (a pretrained stack needs 'logistic').
    pretrain : str or None, default=None
        RBM method of the pretraining ('cd', 'cd-K', 'pcd', 'pcd-K', 'emf', 'emf-ORDER'), or
        None for a random start. Pretraining needs X in [0, 1].
    pretrain_epochs : int, default=5
        Epochs per pretrained layer.
    pretrain_learning_rate : float, default=0.05
        Learning rate of the pretraining.
    init : 'glorot' or float, default='glorot'
        Glorot's uniform range per layer, or a uniform half-width (Ciresan et al.: 0.05).
    n_epochs : int, default=20
        Epochs of supervised training (``partial_fit``: one).
    batch_size : int, default=50
    learning_rate : float, default=0.1
        The first epoch's rate.
    decay : float, default=1.0
        Per-epoch factor of the rate.
    min_learning_rate : float, default=0.0
        Floor of the decayed rate.
    momentum : float, default=0.9
    clip : float or None, default=None
        Largest Euclidean norm of a mini-batch gradient.
    validation_fraction : float, default=0.0
        Fraction of the training rows (the last ones) held out to choose the best epoch.
    random_state : int or None, default=None
        Seed of the weights, shuffling and pretraining (None: 0, so fits repeat).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coefs_ : list of ndarray
        Layer weights, (inputs, outputs) each, as scikit-learn's ``MLPClassifier``.
    intercepts_ : list of ndarray
    loss_curve_ : list of float
        Mean training cross-entropy per epoch.
    validation_scores_ : list of float
        Validation accuracy per epoch (empty without ``validation_fraction``).
    best_epoch_ : int
    n_iter_ : int
        Epochs run.
    n_features_in_ : int
    """

    _parameter_constraints = {
        "hidden_layer_sizes": ["array-like"],
        "activation": [StrOptions({"logistic", "scaled-tanh", "relu"})],
        "pretrain": [str, None],
        "pretrain_epochs": [Interval(Integral, 1, None, closed="left")],
        "pretrain_learning_rate": [Interval(Real, 0, None, closed="neither")],
        "init": [StrOptions({"glorot"}), Interval(Real, 0, None, closed="neither")],
        "n_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "decay": [Interval(Real, 0, 1, closed="right")],
        "min_learning_rate": [Interval(Real, 0, None, closed="left")],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "clip": [Interval(Real, 0, None, closed="neither"), None],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(self, hidden_layer_sizes=(100,), activation="logistic", pretrain=None,
                 pretrain_epochs=5, pretrain_learning_rate=0.05, init="glorot", n_epochs=20,
                 batch_size=50, learning_rate=0.1, decay=1.0, min_learning_rate=0.0,
                 momentum=0.9, clip=None, validation_fraction=0.0, random_state=None):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.pretrain = pretrain
        self.pretrain_epochs = pretrain_epochs
        self.pretrain_learning_rate = pretrain_learning_rate
        self.init = init
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.decay = decay
        self.min_learning_rate = min_learning_rate
        self.momentum = momentum
        self.clip = clip
        self.validation_fraction = validation_fraction
        self.random_state = random_state

    def _seed(self):
        rs = self.random_state
        if rs is None:
            return 0
        if isinstance(rs, (int, np.integer)):
            return int(rs) % (2**63)
        return int(rs.randint(0, 2**31 - 1))

    def _check_settings(self):
        sizes = tuple(self.hidden_layer_sizes)
        if any(not isinstance(s, (int, np.integer)) or s < 1 for s in sizes):
            raise ValueError(f"hidden_layer_sizes={self.hidden_layer_sizes!r}: positive integers")
        if self.pretrain is not None and self.activation != "logistic":
            raise ValueError(
                "pretrain builds logistic layers (the RBMs' P(h|v)): activation must be "
                f"'logistic', not {self.activation!r}")
        return [int(s) for s in sizes]

    def _train(self, X, y_idx, epochs, start):
        sizes = self._check_settings()
        if self.pretrain is not None and start is None and (X.min() < 0 or X.max() > 1):
            raise ValueError("pretraining an RBM stack needs X in [0, 1] (scale it first, "
                             "e.g. with MinMaxScaler)")
        n = X.shape[0]
        validation = None
        if self.validation_fraction > 0 and start is None:
            hold = int(round(n * self.validation_fraction))
            if not 1 <= hold < n:
                raise ValueError(f"validation_fraction={self.validation_fraction} holds out "
                                 f"{hold} of {n} rows; it must leave rows on both sides")
            validation = (X[n - hold:], [int(v) for v in y_idx[n - hold:]])
            X, y_idx = X[:n - hold], y_idx[:n - hold]
        init = str(self.init)  # "glorot" or a half-width, parsed by the core
        sgd = (int(epochs), int(self.batch_size), float(self.learning_rate), float(self.decay),
               float(self.min_learning_rate), float(self.momentum),
               None if self.clip is None else float(self.clip), self._seed())
        return _core.deep_fit(
            np.ascontiguousarray(X, dtype=np.float64), [int(v) for v in y_idx],
            len(self.classes_), sizes, self.activation, init, self.pretrain,
            int(self.pretrain_epochs), float(self.pretrain_learning_rate), sgd, validation,
            start)

    def _store(self, out, epochs):
        self.coefs_ = list(out["coefs"])
        self.intercepts_ = list(out["intercepts"])
        self.loss_curve_ = list(getattr(self, "loss_curve_", [])) + list(out["loss_curve"])
        self.validation_scores_ = [1.0 - e for e in out["validation_errors"]]
        self.best_epoch_ = int(out["best_epoch"])
        self.n_iter_ = getattr(self, "n_iter_", 0) + epochs

    def fit(self, X, y):
        """Train from the start (pretraining first when ``pretrain`` is set).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        self
        """
        self._validate_params()
        X, y = validate_data(self, X, y, dtype=np.float64, reset=True)
        check_classification_targets(y)
        self.classes_, y_idx = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"DBNClassifier needs at least two classes in y; got "
                             f"{len(self.classes_)} class")
        for attr in ("loss_curve_", "n_iter_"):
            self.__dict__.pop(attr, None)
        self._store(self._train(X, y_idx, self.n_epochs, None), self.n_epochs)
        return self

    def partial_fit(self, X, y, classes=None):
        """One more epoch on (X, y), from the current weights (the first call starts them,
        and needs ``classes``).

        Returns
        -------
        self
        """
        first = not hasattr(self, "coefs_")
        if first:
            self._validate_params()
            if classes is None:
                raise ValueError("the first partial_fit call needs classes=")
        X, y = validate_data(self, X, y, dtype=np.float64, reset=first)
        check_classification_targets(y)
        if first:
            self.classes_ = np.unique(classes)
            if len(self.classes_) < 2:
                raise ValueError("DBNClassifier needs at least two classes")
        unknown = np.setdiff1d(np.unique(y), self.classes_)
        if unknown.size:
            raise ValueError(f"y holds labels {unknown.tolist()} not in classes_")
        y_idx = np.searchsorted(self.classes_, y)
        start = None if first else (self.coefs_, self.intercepts_)
        self._store(self._train(X, y_idx, 1, start), 1)
        return self

    def predict_proba(self, X):
        """Class probabilities, columns in the order of ``classes_``.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return _core.deep_predict_proba(np.ascontiguousarray(X), self.coefs_,
                                        self.intercepts_, self.activation)

    def predict(self, X):
        """The most probable class of each row.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
