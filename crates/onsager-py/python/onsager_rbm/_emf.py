"""`EMFRBM`: every training method and estimator onsager has, as a scikit-learn transformer."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from . import _core
from ._base import _RBM, _dense, _seed_of
from ._likelihood import LogLikelihood
from ._options import emf_options

_METRIC_LABELS = {
    "pseudo_likelihood": ("pseudo-likelihood", "%.2f"),
    "reconstruction_error": ("reconstruction error", "%.5f"),
    "emf_log_likelihood": ("EMF log-likelihood", "%.2f"),
}
# Rows the per-epoch metrics use when there is no validation slice.
_MONITOR_ROWS = 1000


class EMFRBM(_RBM):
    """Restricted Boltzmann Machine trained by the extended mean-field (TAP) free energy at
    order 1, 2 or 3, or by contrastive divergence (CD-k) or persistent CD (PCD-k).

    EMF training replaces the sampled negative phase by the fixed point of the Thouless,
    Anderson and Palmer free energy Γ_k (docs/maths.md §2-§4): deterministic given the data order,
    and free of sampling noise.

    Parameters
    ----------
    n_components : int, default=256
        Number of binary hidden units.
    visible : str, default='bernoulli'
        The visible units' type (docs/maths.md §1, §1b): 'bernoulli' (bits or probabilities
        in [0, 1]), 'gaussian' (any real values, standardised usually: v | h ~ N(a + Wh, σ²),
        Cho et al.'s (2011) energy) or 'truncated_gaussian' (a Gaussian truncated to [0, 1],
        for grey levels; 'truncated_gaussian:LOW:HIGH' for another interval). Real-valued
        units train by 'cd', 'pcd' or 'emf' at order 1 or 2 (the TAP free energy of the
        tilted prior, docs/maths.md §4b; ``persistence='data'`` is the robust choice there)
        and have no pseudo-likelihood (``score_samples`` is
        absent, the 'pseudo_likelihood' metric is None); ``log_likelihood`` then gives a
        log-density.
    sigma : float or str, default=1.0
        Real-valued visible units only: a float fixes every unit's standard deviation σ;
        'learned', 'learned:INIT' or 'learned:INIT:FLOOR' learns one σ per unit by its
        gradient from INIT (default 1), never below FLOOR (default 0.01). Grey levels in
        [0, 1] vary far less than 1: 'learned:0.3' or a fixed 0.3 fits them better than σ = 1.
    method : {'emf', 'cd', 'pcd'}, default='emf'
        How the negative phase (the gradient of log Z) is estimated.
    order : {1, 2, 3}, default=2
        EMF: order of the expansion (1 = naive mean field, 2 = TAP / Onsager correction,
        3 = third-order term).
    iterations : int, default=3
        EMF: the most fixed-point sweeps per mini-batch (all of them when ``tolerance`` is 0).
    damping : float, default=0.5
        EMF: weight of the new value in each sweep, in (0, 1] (for 'adaptive', the lowest
        damping a row may fall to).
    tolerance : float, default=0.0
        EMF: stop sweeping once every row's fixed-point residual max |σ(field) − m| is at
        most this; 0 runs every sweep (the reference algorithm).
    solver : str, default='adaptive'
        EMF fixed-point solver: 'damped', 'adaptive' (each row starts undamped and halves its
        damping when its residual grows) or 'anderson' / 'anderson:DEPTH' (Anderson
        acceleration; docs/maths.md §3.2).
    reseed : str, default='merged'
        EMF, persistent rows: renew from the data batch 'none', 'merged' (rows that have
        merged into another), a fraction per mini-batch such as '0.1', or 'merged+0.1'
        (docs/maths.md §3.3).
    weighting : {'uniform', 'free-energy'}, default='uniform'
        EMF: how the rows' fixed points count in the gradient: each row equally, or the
        distinct fixed points weighted by exp(-Gamma) (docs/maths.md §3.4).
    persistence : {'persistent', 'data'} or int, default='persistent'
        EMF: 'persistent' carries the magnetisations from one mini-batch to the next (as PCD
        carries chains); 'data' starts each mini-batch's iteration at the data; an int E uses
        'data' before epoch E and 'persistent' from it.
    k : int, default=1
        CD/PCD: Gibbs steps per mini-batch.
    n_chains : int or None, default=None
        PCD: number of persistent chains (None: ``batch_size``).
    learning_rate : float, default=0.005
        Initial learning rate on the mean gradient of a mini-batch.
    learning_rate_schedule : {'constant', 'linear', 'exponential'}, default='constant'
        'linear' falls to ``final_learning_rate`` at the last epoch; 'exponential' multiplies
        the rate by ``learning_rate_decay`` each epoch.
    final_learning_rate : float, default=0.0
        Last epoch's rate for the 'linear' schedule.
    learning_rate_decay : float, default=0.9
        Per-epoch factor, in (0, 1], for the 'exponential' schedule.
    batch_size : int, default=100
        Rows per mini-batch.
    n_iter : int, default=20
        Epochs (passes over the training data).
    momentum : float, default=0.5
        Classical momentum on the weights, in [0, 1).
    weight_decay : float, default=1e-4
        Weight-decay coefficient λ (on the mean gradient).
    decay_kind : {'l2', 'l1', 'none'}, default='l2'
        L2 subtracts λW, L1 subtracts λ·sign(W).
    init_std : float, default=0.01
        Standard deviation of the initial weights.
    shuffle : bool, default=True
        Reshuffle the rows every epoch.
    validation_fraction : float, default=0.0
        Share of the rows held out (at random) to compute ``metrics`` on after each epoch;
        with 0, the metrics use the first 1000 training rows.
    metrics : tuple of str, default=('pseudo_likelihood', 'reconstruction_error')
        Figures recorded in ``history_`` after each epoch: 'pseudo_likelihood',
        'reconstruction_error', 'emf_log_likelihood' (order 2). Use () for none.
    out_of_range : {'error-fit', 'error', 'warn', 'clip'}, default='error-fit'
        What happens to values outside [0, 1] (binary units take bits or probabilities).
        'error-fit': ``fit`` and ``partial_fit`` raise ValueError naming the first one, and
        every method on new data (``transform``, ``score_samples``, ``free_energy``,
        ``gibbs``, ``log_likelihood``, ``sample``'s ``init``) clips them into [0, 1] with a
        UserWarning, so a pipeline whose scaler was fitted on the training rows scores its
        test rows. 'error': ValueError everywhere. 'warn': clipped with a UserWarning
        everywhere, fit included. 'clip': clipped silently everywhere. NaN and infinity are
        refused whatever the choice. ``MinMaxScaler(clip=True)`` before the model keeps every
        row inside [0, 1].
    n_threads : int or None, default=None
        Worker threads (None: all cores). Results do not depend on it.
    verbose : int, default=0
        Non-zero prints one line per epoch with the metrics.
    random_state : int, RandomState instance or None, default=None
        Seeds every random stream. An int gives the same bits for any number of threads.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        Weight matrix (Wᵀ).
    intercept_visible_ : ndarray of shape (n_features,)
        Visible biases.
    sigma_ : ndarray of shape (n_features,)
        Real-valued visible units only: each unit's standard deviation σ.
    intercept_hidden_ : ndarray of shape (n_components,)
        Hidden biases.
    history_ : list of dict
        One dict per epoch: 'epoch', 'learning_rate', 'seconds', 'samples_per_second', the
        chosen metrics and, for EMF, 'fixed_point_residual', 'fixed_point_sweeps',
        'fixed_point_distance' and, when persistent, 'distinct_rows' and 'reseeded_rows'.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when X has string feature names.
    n_epochs_ : int
        Epochs trained.

    Examples
    --------
    >>> import numpy as np
    >>> from onsager_rbm import EMFRBM
    >>> X = (np.random.RandomState(0).rand(200, 16) < 0.3).astype(np.float32)
    >>> rbm = EMFRBM(n_components=8, order=3, n_iter=5, random_state=0).fit(X)
    >>> rbm.transform(X).shape
    (200, 8)
    """

    # Types and choices; every range is checked by the core, which names the parameter.
    _parameter_constraints = {
        "n_components": [Integral],
        "visible": [str],
        "sigma": [Real, str],
        "method": [StrOptions({"emf", "cd", "pcd"})],
        "order": [Integral],
        "iterations": [Integral],
        "damping": [Real],
        "tolerance": [Real],
        "solver": [str],
        "reseed": [str],
        "weighting": [StrOptions({"uniform", "free-energy"})],
        "persistence": [StrOptions({"persistent", "data"}), Integral],
        "k": [Integral],
        "n_chains": [Integral, None],
        "learning_rate": [Real],
        "learning_rate_schedule": [StrOptions({"constant", "linear", "exponential"})],
        "final_learning_rate": [Real],
        "learning_rate_decay": [Real],
        "batch_size": [Integral],
        "n_iter": [Integral],
        "momentum": [Real],
        "weight_decay": [Real],
        "decay_kind": [StrOptions({"l2", "l1", "none"})],
        "init_std": [Real],
        "shuffle": ["boolean"],
        "validation_fraction": [Real],
        "metrics": [list, tuple],
        "out_of_range": [StrOptions({"error-fit", "error", "warn", "clip"})],
        "n_threads": [Interval(Integral, 1, None, closed="left"), None],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        n_components=256,
        *,
        visible="bernoulli",
        sigma=1.0,
        method="emf",
        order=2,
        iterations=3,
        damping=0.5,
        tolerance=0.0,
        solver="adaptive",
        reseed="merged",
        weighting="uniform",
        persistence="persistent",
        k=1,
        n_chains=None,
        learning_rate=0.005,
        learning_rate_schedule="constant",
        final_learning_rate=0.0,
        learning_rate_decay=0.9,
        batch_size=100,
        n_iter=20,
        momentum=0.5,
        weight_decay=1e-4,
        decay_kind="l2",
        init_std=0.01,
        shuffle=True,
        validation_fraction=0.0,
        metrics=("pseudo_likelihood", "reconstruction_error"),
        out_of_range="error-fit",
        n_threads=None,
        verbose=0,
        random_state=None,
    ):
        self.n_components = n_components
        self.visible = visible
        self.sigma = sigma
        self.method = method
        self.order = order
        self.iterations = iterations
        self.damping = damping
        self.tolerance = tolerance
        self.solver = solver
        self.reseed = reseed
        self.weighting = weighting
        self.persistence = persistence
        self.k = k
        self.n_chains = n_chains
        self.learning_rate = learning_rate
        self.learning_rate_schedule = learning_rate_schedule
        self.final_learning_rate = final_learning_rate
        self.learning_rate_decay = learning_rate_decay
        self.batch_size = batch_size
        self.n_iter = n_iter
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.decay_kind = decay_kind
        self.init_std = init_std
        self.shuffle = shuffle
        self.validation_fraction = validation_fraction
        self.metrics = metrics
        self.out_of_range = out_of_range
        self.n_threads = n_threads
        self.verbose = verbose
        self.random_state = random_state

    # -- training ---------------------------------------------------------------------------

    def _options(self, seed):
        return emf_options(self, seed)

    def _range_policy(self):
        return self.out_of_range

    def _split(self, X, seed):
        """(training rows, monitoring rows) by ``validation_fraction``, drawn from `seed`."""
        f = self.validation_fraction
        if not (isinstance(f, (int, float)) and 0.0 <= f < 1.0):
            raise ValueError(f"validation_fraction must lie in [0, 1), got {f!r}")
        metrics = tuple(self.metrics)
        if f == 0.0:
            return X, (X[:_MONITOR_ROWS] if metrics else None)
        n_val = int(round(f * X.shape[0]))
        if n_val < 1 or n_val >= X.shape[0]:
            raise ValueError(
                f"validation_fraction={f} leaves {n_val} of {X.shape[0]} rows for validation; "
                "both parts need at least one row"
            )
        order = check_random_state(seed).permutation(X.shape[0])
        return X[np.sort(order[n_val:])], X[np.sort(order[:n_val])]

    def _report(self, m, seconds):
        if not self.verbose:
            return
        parts = [
            "%s = %s" % (label, fmt % m[key])
            for key, (label, fmt) in _METRIC_LABELS.items()
            if m.get(key) is not None
        ]
        if m.get("fixed_point_sweeps") is not None:
            parts.append("sweeps = %.1f" % m["fixed_point_sweeps"])
        if m.get("fixed_point_residual") is not None:
            parts.append("fixed-point residual = %.1e" % m["fixed_point_residual"])
        if m.get("distinct_rows") is not None:
            parts.append("distinct rows = %.1f" % m["distinct_rows"])
        parts.append("time = %.2fs" % seconds)
        print("[%s] Iteration %d, %s" % (type(self).__name__, m["epoch"], ", ".join(parts)))

    def fit(self, X, y=None):
        """Fit the model to X.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data, values in [0, 1] (bits or probabilities); see ``out_of_range``.
        y : Ignored

        Returns
        -------
        self : EMFRBM
        """
        self._validate_params()
        X = self._validate(X, reset=True, fit=True)
        seed = _seed_of(self.random_state)
        X, watch = self._split(_dense(X, X.dtype), seed)
        return self._train(X, partial=False, seed=seed, eval_x=watch, metrics=self.metrics)

    def _store(self, out, *, partial):
        history = super()._store(out, partial=partial)
        if not partial:
            self.history_ = history
        elif not hasattr(self, "history_"):
            self.history_ = []
        self.n_epochs_ = out["epochs_completed"]
        return history

    # -- estimates and samples ----------------------------------------------------------------

    def log_likelihood(
        self, X, estimator="ais", *, n_runs=100, n_temperatures=14500, order=None,
        random_state=None,
    ):
        """Estimate the log-likelihood of the rows of X (docs/maths.md §5).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Values in [0, 1].
        estimator : {'ais', 'exact', 'emf'}, default='ais'
            'exact' enumerates the smaller layer (up to 30 units; the hidden layer for
            real-valued units); 'ais' is annealed
            importance sampling from a base model with the data's visible rates (for
            real-valued units, Gaussian units with the data's means and standard deviations;
            docs/maths.md §5.1; Salakhutdinov & Murray's schedule scaled to
            ``n_temperatures``), with ±3σ bounds; 'emf' uses
            log Z ≈ -Γ_order at the lowest fixed point found from the data rows and random
            starts (no error bar; it overestimates at strong couplings).
        n_runs, n_temperatures : int
            AIS runs and temperatures.
        order : {1, 2, 3} or None
            EMF order (None: the estimator's ``order``).
        random_state : int, RandomState or None
            Seeds AIS and the EMF random starts.

        Returns
        -------
        LogLikelihood
        """
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        dtype = self.components_.dtype
        X = _dense(X, dtype)
        options = {
            "estimator": estimator,
            "n_runs": int(n_runs),
            "n_temperatures": int(n_temperatures),
            "order": int(self.order if order is None else order),
            "seed": _seed_of(random_state),
        }
        r = _core.log_likelihood(self._model(dtype), X, options)
        return LogLikelihood(
            mean=r["mean"],
            lower=r["lower"],
            upper=r["upper"],
            per_row=r["per_row"],
            log_z=r["log_z"],
            estimator=estimator,
            converged=r["converged"],
            quantity=r["quantity"],
        )

    def sample(self, n_samples=10, *, n_steps=1000, init=None, mean_field_order=None,
               random_state=None):
        """Draw visible samples from the model.

        Parameters
        ----------
        n_samples : int, default=10
            Number of samples (ignored when ``init`` is given: one per row of it).
        n_steps : int, default=1000
            Gibbs steps (or, with ``mean_field_order``, fixed-point sweeps).
        init : array-like of shape (n, n_features) or None
            Starting rows, values in the visible units' range; None starts from uniform
            random bits (binary units), uniform values on the interval (truncated-Gaussian
            units) or N(intercept_visible_, sigma_²) (Gaussian units).
        mean_field_order : {1, 2, 3} or None
            Instead of Gibbs sampling, return the visible magnetisations of the EMF fixed
            point of this order reached from each start (deterministic "mean-field samples").
        random_state : int, RandomState or None

        Returns
        -------
        samples : ndarray of shape (n, n_features), in the model's dtype
        """
        check_is_fitted(self)
        dtype = self.components_.dtype
        seed = _seed_of(random_state)
        if init is None:
            if int(n_samples) < 1:
                raise ValueError(f"n_samples must be at least 1, got {n_samples}")
            rng = np.random.RandomState(seed % (2**32))
            shape = (int(n_samples), self.n_features_in_)
            _, low, high, real = _core.visible_units(self._visible_text())
            if not real:
                start = (rng.rand(*shape) < 0.5).astype(dtype)
            elif np.isfinite(low):
                start = rng.uniform(low, high, shape).astype(dtype)
            else:
                start = (self.intercept_visible_ + self.sigma_ * rng.randn(*shape)).astype(dtype)
        else:
            start = np.ascontiguousarray(init, dtype=dtype)
            if start.ndim != 2 or start.shape[1] != self.n_features_in_:
                raise ValueError(
                    f"init must have shape (n, {self.n_features_in_}), got {start.shape}"
                )
            if not np.all(np.isfinite(start)):
                raise ValueError("init contains NaN or infinity")
            start = self._check_values(start, fit=False, name="init")
        if int(n_steps) < 0:
            raise ValueError(f"n_steps must be non-negative, got {n_steps}")
        model = self._model(dtype)
        if mean_field_order is None:
            return _core.gibbs(model, start, int(n_steps), seed)
        return _core.mean_field(model, start, int(mean_field_order), int(n_steps))


__all__ = ["EMFRBM", "LogLikelihood"]
