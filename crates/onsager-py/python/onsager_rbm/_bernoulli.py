"""`BernoulliRBM`: scikit-learn's estimator of the same name, on onsager's core."""

from numbers import Integral, Real

import numpy as np
from scipy.special import expit
from sklearn.utils._param_validation import Interval
from sklearn.utils.extmath import safe_sparse_dot

from ._base import _RBM


class BernoulliRBM(_RBM):
    """Bernoulli Restricted Boltzmann Machine (RBM), a drop-in replacement for
    :class:`sklearn.neural_network.BernoulliRBM`.

    The same parameters, defaults, fitted attributes and methods, trained the same way:
    persistent contrastive divergence (PCD-1, also called stochastic maximum likelihood) with
    one persistent chain per mini-batch row, plain SGD on the mean gradient, no momentum and no
    weight decay, mini-batches in data order. The work runs in onsager's Rust core with the
    GIL released.

    Differences from scikit-learn, all deliberate:

    - Values outside [0, 1] (counts, unscaled features) are accepted, as scikit-learn accepts
      them, but clipped into [0, 1] with a ``UserWarning`` naming the first one: binary units
      cannot take them, and scikit-learn's updates with them are not those of any RBM. (The
      strict check, a ValueError, is :class:`EMFRBM`'s.)
    - The visible bias starts at the log-odds of the training data's column means (clipped to
      [0.001, 0.999]) rather than at zero, a standard initialisation that speeds training.
    - Random numbers come from onsager's own streams seeded by ``random_state``, so fitted
      values differ from scikit-learn's for the same seed (they are reproducible for any
      number of threads). ``score_samples`` draws the flipped bits exactly as scikit-learn
      does, so it agrees with scikit-learn on the same model and seed.
    - ``partial_fit`` splits a call's rows into mini-batches of ``batch_size`` rows;
      scikit-learn makes one update from all of them.
    - ``h_samples_`` holds hidden states drawn from the persistent chains' visible states.
    - Ctrl-C (KeyboardInterrupt) stops ``fit`` between mini-batches, keeping the model trained
      so far, and re-raises.

    As scikit-learn's, a float32 and a float64 fit of the same data and seed are one fit at two
    precisions: both draw the same uniforms and compare them with the probabilities in
    float64, so they differ by rounding, and by a sample only where the two roundings of a
    probability fall on either side of its uniform (about once in 10^7 draws; docs/maths.md
    §7). A ``verbose`` fit takes every input a silent one takes (sparse included) and gives
    the same model: its pseudo-likelihood draws from streams of its own.

    The private helpers that code built on scikit-learn calls (``_mean_hiddens``,
    ``_sample_hiddens``, ``_sample_visibles``, ``_free_energy``) are there with scikit-learn's
    meaning, computed in NumPy as there.

    Parameters
    ----------
    n_components : int, default=256
        Number of binary hidden units.

    learning_rate : float, default=0.1
        The learning rate for weight updates (on the mean gradient of a mini-batch).

    batch_size : int, default=10
        Number of examples per minibatch.

    n_iter : int, default=10
        Number of iterations/sweeps over the training dataset to perform during training.

    verbose : int, default=0
        The verbosity level. Non-zero prints one line per iteration with the pseudo-likelihood
        of the training data, in scikit-learn's format.

    random_state : int, RandomState instance or None, default=None
        Seeds initialisation and sampling during fit, Gibbs sampling, and the bits corrupted
        by ``score_samples``. Pass an int for reproducible results.

    Attributes
    ----------
    intercept_hidden_ : ndarray of shape (n_components,)
        Biases of the hidden units.

    intercept_visible_ : ndarray of shape (n_features,)
        Biases of the visible units.

    components_ : ndarray of shape (n_components, n_features)
        Weight matrix.

    h_samples_ : ndarray of shape (batch_size, n_components)
        Hidden states of the persistent chains.

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when X has string feature names.

    Examples
    --------
    >>> import numpy as np
    >>> from onsager_rbm import BernoulliRBM
    >>> X = np.array([[0, 0, 0], [0, 1, 1], [1, 0, 1], [1, 1, 1]])
    >>> model = BernoulliRBM(n_components=2)
    >>> model.fit(X)
    BernoulliRBM(n_components=2)
    """

    # scikit-learn's own constraints (so the same values raise the same InvalidParameterError);
    # the core checks the ranges again and names the parameter.
    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "n_iter": [Interval(Integral, 0, None, closed="left")],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        n_components=256,
        *,
        learning_rate=0.1,
        batch_size=10,
        n_iter=10,
        verbose=0,
        random_state=None,
    ):
        self.n_components = n_components
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.n_iter = n_iter
        self.verbose = verbose
        self.random_state = random_state

    def _options(self, seed):
        # scikit-learn's algorithm: PCD-1 with one chain per batch row, plain SGD, no
        # shuffling, no decay.
        return [
            ("method", "pcd"),
            ("n_hidden", self.n_components),
            ("learning_rate", self.learning_rate),
            ("batch_size", self.batch_size),
            ("epochs", self.n_iter),
            ("momentum", 0.0),
            ("decay", "none"),
            ("init_std", 0.01),
            ("shuffle", False),
            ("seed", seed),
            ("k", 1),
        ]

    def _range_policy(self):
        # Clip with a warning at fit and at inference: scikit-learn takes such input without
        # a word, and binary units cannot take it.
        return "warn"

    def gibbs(self, v):
        """Perform one Gibbs sampling step.

        Parameters
        ----------
        v : ndarray of shape (n_samples, n_features)
            Values of the visible layer to start from.

        Returns
        -------
        v_new : ndarray of shape (n_samples, n_features)
            Values of the visible layer after one Gibbs step (bool, as scikit-learn's).
        """
        return super().gibbs(v).astype(bool)

    # scikit-learn's private helpers, with its meaning (code and tests written against its
    # BernoulliRBM call them); `v` and `h` are validated arrays, `rng` a RandomState.

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = False  # as scikit-learn's: any numbers, clipped here
        return tags

    def _mean_hiddens(self, v):
        """P(h = 1 | v), (n_samples, n_components)."""
        p = safe_sparse_dot(v, self.components_.T) + self.intercept_hidden_
        return expit(p, out=p)

    def _sample_hiddens(self, v, rng):
        """A Bernoulli draw of each hidden unit given v (bool)."""
        p = self._mean_hiddens(v)
        return rng.uniform(size=p.shape) < p

    def _sample_visibles(self, h, rng):
        """A Bernoulli draw of each visible unit given h (bool)."""
        p = np.dot(h, self.components_) + self.intercept_visible_
        expit(p, out=p)
        return rng.uniform(size=p.shape) < p

    def _free_energy(self, v):
        """F(v) = -v·b_v - sum_j log(1 + exp(b_h + v W^T)_j), (n_samples,)."""
        return -safe_sparse_dot(v, self.intercept_visible_) - np.logaddexp(
            0, safe_sparse_dot(v, self.components_.T) + self.intercept_hidden_
        ).sum(axis=1)

    def _report(self, m, seconds):
        if self.verbose:
            print(
                "[%s] Iteration %d, pseudo-likelihood = %.2f, time = %.2fs"
                % (type(self).__name__, m["epoch"], m.get("pseudo_likelihood", np.nan), seconds)
            )

    def fit(self, X, y=None):
        """Fit the model to the data X.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data, values in [0, 1] (others are clipped, with a warning).

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : BernoulliRBM
            The fitted model.
        """
        self._validate_params()
        X = self._validate(X, reset=True, fit=True)
        if not self.verbose:
            return self._train(X, partial=False)
        return self._train(X, partial=False, eval_x=X, metrics=["pseudo_likelihood"])

    def _store(self, out, *, partial):
        history = super()._store(out, partial=partial)
        h = out["h_samples"]
        if h is None:
            h = np.zeros((self.batch_size, self.n_components), dtype=self.components_.dtype)
        self.h_samples_ = h
        return history
