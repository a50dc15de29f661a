"""What both estimators share: validation, the model tuple the Rust core takes, inference,
scoring, training through the core, and model files."""

import json
import numbers
import time
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _core

_FLOATS = (np.float64, np.float32)
# Rows densified at a time when the input is a scipy sparse matrix.
_SPARSE_BLOCK = 4096


def _seed_of(random_state):
    """A 64-bit seed: an int is used as is (so a seed means the same as the CLI's --seed);
    None or a RandomState draws one (advancing the RandomState, as scikit-learn does)."""
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(f"random_state must be non-negative, got {random_state}")
        return int(random_state)
    return int(check_random_state(random_state).randint(0, np.iinfo(np.int32).max))


def _text(value):
    """A parameter value as the text the core's option parser reads (`str` round-trips every
    float exactly; booleans as true/false)."""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    return str(value)


def _units(text):
    """(canonical text, low, high, real) of a visible unit type's text, as the core parses it
    (``onsager::Visible``): the interval the values lie in is ±inf for Gaussian units."""
    return _core.visible_units(text)


def _first_outside(X, low=0.0, high=1.0):
    """(row, column, value, count) of the first value of X (dense or sparse) outside
    [low, high] and how many there are, or None when all lie inside. The first is one below
    `low` if there is one (scikit-learn's message for negative input is the one users know)."""
    values = X.data if sp.issparse(X) else X
    if values.size == 0 or (values.min() >= low and values.max() <= high):
        return None
    below = values.min() < low
    if sp.issparse(X):
        coo = X.tocoo()
        bad = coo.data < low if below else coo.data > high
        k = int(np.flatnonzero(bad)[0])
        i, j, v = int(coo.row[k]), int(coo.col[k]), coo.data[k]
    else:
        i, j = (int(t) for t in np.argwhere(X < low if below else X > high)[0])
        v = X[i, j]
    return i, j, float(v), int(np.count_nonzero((values < low) | (values > high)))


# What an estimator does with values outside its units' range (``EMFRBM(out_of_range=...)``):
# at fit (fit, partial_fit) and at inference (every other method that takes data).
_RANGE_POLICIES = {
    # policy: (at fit, at inference), each 'error', 'warn' (clip with a warning) or 'clip'
    "error-fit": ("error", "warn"),
    "error": ("error", "error"),
    "warn": ("warn", "warn"),
    "clip": ("clip", "clip"),
}


def _interval(low, high):
    return f"[{low:g}, {high:g}]"


def _remedy(choosable, units="bernoulli", low=0.0, high=1.0):
    """What to do about values outside [low, high], the range of `units` (the core's text of
    the visible unit type); `choosable`: the estimator has an ``out_of_range`` parameter to
    name."""
    where = _interval(low, high)
    if units == "bernoulli":
        what = "Binary RBM units take values in [0, 1] (bits or probabilities)"
        scaler = "sklearn.preprocessing.MinMaxScaler(clip=True)"
    else:
        what = f"Truncated-Gaussian units take values in {where}"
        scaler = (
            "sklearn.preprocessing.MinMaxScaler(clip=True)"
            if (low, high) == (0.0, 1.0)
            else f"sklearn.preprocessing.MinMaxScaler(feature_range=({low:g}, {high:g}), clip=True)"
        )
    return (
        f"{what}: scale the data with {scaler}, which also keeps new rows inside {where}"
        + (", or choose what happens to such values with out_of_range ('warn' or 'clip' "
           "clips them)" if choosable else "")
    )


def _check_range(X, name="X", owner="the model", choosable=False, units="bernoulli"):
    """Raises ValueError naming the first value outside the range of `units` (dense or
    sparse; Gaussian units have none). A negative value's message starts as scikit-learn's
    does ("Negative values in data passed to ...")."""
    _, low, high, _ = _units(units)
    first = _first_outside(X, low, high)
    if first is None:
        return
    i, j, v, n = first
    if v < low:
        kind = "Negative values" if low == 0 else f"Values below {low:g}"
    else:
        kind = f"Values above {high:g}"
    raise ValueError(
        f"{kind} in data passed to {owner}: {name}[{i}, {j}] = {v!r} is outside "
        f"{_interval(low, high)} ({n} value{'s' if n != 1 else ''} in all). "
        f"{_remedy(choosable, units, low, high)}"
    )


def _into_range(X, action, name="X", owner="the model", choosable=False, units="bernoulli",
                stacklevel=5):
    """X with its values outside the range of `units` handled by `action`: 'error' raises (as
    `_check_range`), 'warn' clips them with a UserWarning naming the first and how many,
    'clip' clips them silently. Returns X itself when nothing lies outside, else a clipped
    copy (sparse stays sparse)."""
    if action == "error":
        _check_range(X, name, owner, choosable, units)
        return X
    _, low, high, _ = _units(units)
    first = _first_outside(X, low, high)
    if first is None:
        return X
    where = _interval(low, high)
    if action == "warn":
        i, j, v, n = first
        warnings.warn(
            f"{owner}: {n} value{'s' if n != 1 else ''} outside {where} (first {name}[{i}, {j}] "
            f"= {v!r}) {'were' if n != 1 else 'was'} clipped into {where}. "
            f"{_remedy(choosable, units, low, high)}",
            UserWarning,
            stacklevel=stacklevel,
        )
    if sp.issparse(X):
        X = X.copy()
        np.clip(X.data, low, high, out=X.data)
        return X
    return np.clip(X, low, high)


def _dense_blocks(X, dtype):
    """The rows of X as dense C arrays of `dtype`: X itself when it already is one (no copy);
    blocks of rows for sparse input, so memory stays bounded."""
    if not sp.issparse(X):
        yield np.asarray(X, dtype=dtype)
        return
    X = X.tocsr()
    for start in range(0, X.shape[0], _SPARSE_BLOCK):
        yield np.ascontiguousarray(X[start : start + _SPARSE_BLOCK].toarray(), dtype=dtype)


def _dense(X, dtype):
    """X as one dense array of `dtype` (sparse input is densified)."""
    if sp.issparse(X):
        return np.ascontiguousarray(X.toarray(), dtype=dtype)
    return np.asarray(X, dtype=dtype)


class _RBM(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Shared machinery; subclasses say how their parameters map to the core's named training
    options (``_options``), which metrics they watch and how they report progress. Types and
    choices are checked by scikit-learn's ``_parameter_constraints``; every value's range by
    the core, which names the parameter."""

    # -- validation -------------------------------------------------------------------------

    def _validate(self, X, *, reset, fit=False, dtype=_FLOATS):
        """X checked by scikit-learn (shape, finite values, features) and its values outside
        [0, 1] handled as the estimator's range policy says at fit (`fit`) or at inference."""
        X = validate_data(self, X, accept_sparse=("csr", "csc", "coo"), dtype=dtype, reset=reset)
        return self._check_values(X, fit=fit)

    def _range_policy(self):
        """What happens to values outside [0, 1], a key of ``_RANGE_POLICIES``."""
        return "error"

    def _range_action(self, fit):
        """'error', 'warn' or 'clip': what the range policy does at fit or at inference."""
        policy = self._range_policy()
        if policy not in _RANGE_POLICIES:
            raise ValueError(
                f"out_of_range must be one of {sorted(_RANGE_POLICIES)}, got {policy!r}"
            )
        return _RANGE_POLICIES[policy][0 if fit else 1]

    def _check_values(self, X, *, fit, name="X"):
        """X with its values outside the visible units' range ([0, 1] for binary units, the
        interval of truncated-Gaussian ones, none for Gaussian ones) refused or clipped, as
        the range policy says."""
        return _into_range(
            X, self._range_action(fit), name, type(self).__name__,
            choosable="out_of_range" in self.get_params(deep=False),
            units=self._visible_text(fit),
        )

    def _visible_text(self, fit=False):
        """The core's text of the visible unit type: the fitted model's (inference), or the
        ``visible`` parameter's (at fit, or before the first fit)."""
        if not fit and hasattr(self, "components_"):
            return getattr(self, "_visible_units", "bernoulli")
        return _units(getattr(self, "visible", "bernoulli"))[0]

    def _is_binary(self):
        """Whether the visible units are binary (the fitted model's, else the parameter's)."""
        return not _units(self._visible_text())[3]

    def _model(self, dtype):
        """The model tuple the core takes, (components, intercept_visible, intercept_hidden,
        visible, sigma), the arrays in `dtype` (no copy if it is already the model's dtype);
        σ is ones for binary units."""
        sigma = getattr(self, "sigma_", None)
        if sigma is None:
            sigma = np.ones(self.components_.shape[1])
        return (
            np.asarray(self.components_, dtype=dtype),
            np.asarray(self.intercept_visible_, dtype=dtype),
            np.asarray(self.intercept_hidden_, dtype=dtype),
            getattr(self, "_visible_units", "bernoulli"),
            np.asarray(sigma, dtype=dtype),
        )

    def _dtype_with(self, X):
        """The float type a computation on X runs in: the wider of the model's and X's (so
        float32 data on a float32 model stays float32, and a float64 model is never computed
        in float32), as NumPy's promotion gives scikit-learn."""
        x = X.dtype if X.dtype in _FLOATS else np.float64
        return np.result_type(x, self.components_.dtype)

    def _rows_map(self, X, fn, out_dtype):
        """Applies `fn(model, block)` to X block by block and stacks the results; `out_dtype`
        None means the computation's own float type."""
        dtype = self._dtype_with(X)
        out_dtype = dtype if out_dtype is None else out_dtype
        model = self._model(dtype)
        parts = [fn(model, block) for block in _dense_blocks(X, dtype)]
        out = parts[0] if len(parts) == 1 else np.concatenate(parts)
        return out.astype(out_dtype, copy=False)

    # -- inference --------------------------------------------------------------------------

    def transform(self, X):
        """Compute the hidden layer activation probabilities, P(h=1|v=X).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The data to be transformed, with values in [0, 1].

        Returns
        -------
        h : ndarray of shape (n_samples, n_components)
            Latent representations of the data: float32 for float32 input to a float32
            model, else float64.
        """
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        return self._rows_map(X, _core.hidden_probs, None)

    def gibbs(self, v):
        """Perform one Gibbs sampling step.

        Parameters
        ----------
        v : ndarray of shape (n_samples, n_features)
            Values of the visible layer to start from, in [0, 1].

        Returns
        -------
        v_new : ndarray of shape (n_samples, n_features)
            Values of the visible layer after one Gibbs step (0.0 or 1.0), in the float type
            of the computation (float32 for float32 input to a float32 model, else float64).
        """
        check_is_fitted(self)
        v = self._validate(v, reset=False)
        if not hasattr(self, "random_state_"):
            self.random_state_ = check_random_state(self.random_state)
        seed = int(self.random_state_.randint(0, np.iinfo(np.int32).max))
        return self._rows_map(v, lambda m, b: _core.gibbs(m, b, 1, seed), None)

    def free_energy(self, X):
        """The free energy F(v) = -log sum_h exp(-E(v, h)) of each row (docs/maths.md §1), so that
        log p(v) = -F(v) - log Z.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        free_energy : ndarray of shape (n_samples,), float64
        """
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        return self._rows_map(X, _core.free_energy, np.float64)

    @available_if(lambda self: self._is_binary())
    def score_samples(self, X):
        """Compute the pseudo-likelihood of X (binary visible units only: real-valued units
        have no bit to flip, so the method is absent for them; their exact log-density is
        ``log_likelihood(X, 'exact')``).

        One randomly chosen bit of each row is flipped (the column drawn exactly as
        scikit-learn's BernoulliRBM draws it from ``random_state``, so the same seed flips the
        same bits) and the score is ``n_features * log(sigmoid(F(v_flipped) - F(v)))``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Values of the visible layer, in [0, 1].

        Returns
        -------
        pseudo_likelihood : ndarray of shape (n_samples,)
            Float32 for float32 input to a float32 model, else float64.
        """
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        rng = check_random_state(self.random_state)
        flips = rng.randint(0, X.shape[1], X.shape[0])
        dtype = self._dtype_with(X)
        model = self._model(dtype)
        parts, start = [], 0
        for block in _dense_blocks(X, dtype):
            stop = start + block.shape[0]
            parts.append(_core.pseudo_likelihood(model, block, flips[start:stop].tolist()))
            start = stop
        out = parts[0] if len(parts) == 1 else np.concatenate(parts)
        return out.astype(dtype, copy=False)

    # -- training ---------------------------------------------------------------------------

    def _options(self, seed):
        """The training run as the core's named options: (key, text) pairs (see the Rust
        library's ``TrainConfig::with_options``)."""
        raise NotImplementedError

    def _report(self, metrics, seconds):
        """Called after each epoch with the epoch's metrics (a dict)."""

    def partial_fit(self, X, y=None):
        """One pass of mini-batch updates over X (split into ``batch_size`` rows), continuing
        from the current model and optimiser state; the first call initialises the model
        (the visible bias from this X).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data, values in [0, 1].

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self
            The fitted model.
        """
        self._validate_params()
        X = self._validate(X, reset=not hasattr(self, "components_"), fit=True)
        return self._train(X, partial=True)

    def _train(self, X, *, partial, seed=None, eval_x=None, metrics=()):
        """Runs the core's trainer on X (validated, dense or sparse) and stores the result as
        fitted attributes: a fresh model for ``fit``, the current one for ``partial_fit``.
        After each epoch of a fit, `metrics` are computed on `eval_x` and passed to
        ``_report``. A KeyboardInterrupt (or an exception raised by ``_report``) stops
        training between mini-batches; the model trained so far is kept and the exception is
        re-raised."""
        if not partial:
            self.__dict__.pop("components_", None)
        first = not hasattr(self, "components_")
        if not first:
            dtype = self.components_.dtype
        else:
            dtype = X.dtype if X.dtype in _FLOATS else np.float64
        X = _dense(X, dtype)
        if first or not partial:
            # As scikit-learn: the fitted RandomState (``gibbs`` draws from it) is made from
            # ``random_state`` at fit; the core's seed is drawn from it.
            self.random_state_ = check_random_state(self.random_state)
            self._seed = _seed_of(self.random_state) if seed is None else seed
        options = [(k, _text(v)) for k, v in self._options(self._seed)]
        if eval_x is not None:
            # Any input fit takes (sparse too) is watched as the dense rows the core reads.
            eval_x = _dense(eval_x, dtype)
        init = None if (first or not partial) else self._model(dtype)
        checkpoint = None if init is None else getattr(self, "_checkpoint", None)
        clock = [time.time()]

        def on_epoch(line):
            now = time.time()
            self._report(json.loads(line), now - clock[0])
            clock[0] = now

        out = _core.train(
            X,
            options,
            init=init,
            checkpoint=checkpoint,
            partial=partial,
            eval_x=eval_x,
            metrics=list(metrics),
            on_epoch=on_epoch,
        )
        self._store(out, partial=partial)
        if out["interrupt"] is not None:
            raise out["interrupt"]
        return self

    def _store(self, out, *, partial):
        components, visible, hidden, units, sigma = out["model"]
        self.components_ = components
        self.intercept_visible_ = visible
        self.intercept_hidden_ = hidden
        self._visible_units = units
        if _units(units)[3]:
            self.sigma_ = sigma
        else:
            self.__dict__.pop("sigma_", None)
        self._n_features_out = components.shape[0]
        self._checkpoint = out["checkpoint"]
        return json.loads(out["history"])

    # -- files ------------------------------------------------------------------------------

    def save(self, path):
        """Write the fitted model to `path` in onsager's model file format (safetensors with
        JSON metadata), atomically: a failed write never replaces a good file. The command
        line reads it (``onsager info``, ``eval``, ``transform``, ``sample``) and
        :func:`onsager_rbm.load` restores this estimator, optimiser state included, so
        ``partial_fit`` continues where it stopped."""
        check_is_fitted(self)
        params = self.get_params(deep=False)
        extra = {
            "python.class": type(self).__name__,
            "python.params": json.dumps(params, default=lambda o: None),
        }
        if hasattr(self, "feature_names_in_"):
            extra["python.feature_names"] = json.dumps([str(f) for f in self.feature_names_in_])
        _core.save(
            str(path),
            self._model(self.components_.dtype),
            options=[(k, _text(v)) for k, v in self._options(getattr(self, "_seed", 0))],
            history=json.dumps(getattr(self, "history_", [])),
            checkpoint=getattr(self, "_checkpoint", None),
            extra=extra,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        _, low, _, _ = _units(self._visible_text(fit=True))
        tags.input_tags.positive_only = low >= 0
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
