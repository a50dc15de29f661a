"""Numerical agreement with scikit-learn's BernoulliRBM on the same parameters, and the exact
distribution of a Gibbs step on a model small enough to enumerate."""

import itertools

import numpy as np
import pytest
from scipy.special import expit
from sklearn.neural_network import BernoulliRBM as SkRBM

from onsager_rbm import BernoulliRBM, EMFRBM


def twin_models(n_features, n_components, dtype=np.float64, seed=0, scale=0.5):
    """An onsager_rbm and a scikit-learn RBM holding the same random parameters."""
    rng = np.random.RandomState(seed)
    W = (scale * rng.randn(n_components, n_features)).astype(dtype)
    a = (0.3 * rng.randn(n_features)).astype(dtype)
    b = (0.3 * rng.randn(n_components)).astype(dtype)
    ours = BernoulliRBM(n_components=n_components, random_state=seed)
    ref = SkRBM(n_components=n_components, random_state=seed)
    for m in (ours, ref):
        m.components_, m.intercept_visible_, m.intercept_hidden_ = W.copy(), a.copy(), b.copy()
        m.n_features_in_ = n_features
        m._n_features_out = n_components
        m.h_samples_ = np.zeros((10, n_components), dtype=dtype)
    return ours, ref


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 2e-5)])
def test_transform_matches_sklearn(digits, dtype, rtol):
    X = digits[0].astype(dtype)
    ours, ref = twin_models(64, 32, dtype=dtype)
    got, want = ours.transform(X), ref.transform(X)
    assert got.dtype == dtype
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("seed", [0, 7])
def test_score_samples_matches_sklearn_with_the_same_flipped_bits(bits, seed):
    ours, ref = twin_models(64, 32, seed=seed)
    got, want = ours.score_samples(bits), ref.score_samples(bits)
    assert np.all(got < 0)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)
    # The same seed flips the same bits on every call.
    np.testing.assert_array_equal(ours.score_samples(bits), got)


def test_free_energy_matches_sklearn(digits):
    ours, ref = twin_models(64, 32)
    np.testing.assert_allclose(ours.free_energy(digits[0]), ref._free_energy(digits[0]), rtol=1e-12)


def test_gibbs_probabilities_match_sklearn_and_enumeration():
    """E[v' | v] after one Gibbs step, by enumerating the 2^4 hidden states with
    scikit-learn's own conditionals, against the mean of 40 000 onsager Gibbs steps."""
    ours, ref = twin_models(6, 4, scale=1.0, seed=3)
    v = np.array([[1, 0, 1, 1, 0, 0], [0, 1, 0, 0, 1, 1]], float)
    ph = ref._mean_hiddens(v)  # P(h_j = 1 | v), scikit-learn's
    expected = np.zeros_like(v)
    for h in itertools.product([0, 1], repeat=4):
        h = np.array(h, float)
        p_h = np.prod(np.where(h == 1, ph, 1 - ph), axis=1)  # per row
        pv = expit(h @ ref.components_ + ref.intercept_visible_)
        expected += p_h[:, None] * pv
    n = 40_000
    draws = ours.gibbs(np.repeat(v, n, axis=0)).reshape(2, n, 6)
    assert set(np.unique(draws)) <= {0.0, 1.0}
    mean = draws.mean(axis=1)
    sigma = np.sqrt(expected * (1 - expected) / n)
    assert np.all(np.abs(mean - expected) < 5 * sigma + 1e-12), (mean, expected)


def test_fit_trains_like_sklearn(bits):
    """Same hyperparameters, different random streams: both reach a similar pseudo-likelihood,
    far above the untrained model's."""
    kw = dict(n_components=32, learning_rate=0.05, batch_size=10, n_iter=10, random_state=0)
    ours = BernoulliRBM(**kw).fit(bits)
    ref = SkRBM(**kw).fit(bits)
    untrained, _ = twin_models(64, 32, scale=0.0)
    untrained.intercept_visible_[:] = 0
    untrained.intercept_hidden_[:] = 0
    pl = lambda m: m.score_samples(bits).mean()  # noqa: E731
    assert pl(untrained) == pytest.approx(64 * np.log(0.5))
    assert pl(ours) > pl(untrained) + 15
    assert abs(pl(ours) - pl(ref)) < 4, (pl(ours), pl(ref))


def test_dtype_rules(digits):
    X = digits[0]
    m32 = BernoulliRBM(n_components=8, n_iter=1, random_state=0).fit(X.astype(np.float32))
    assert m32.components_.dtype == np.float32
    assert m32.transform(X.astype(np.float32)).dtype == np.float32
    assert m32.transform(X).dtype == np.float64
    assert m32.transform((X > 0.5).astype(np.int64)).dtype == np.float64
    m64 = EMFRBM(n_components=8, n_iter=1, random_state=0).fit((X > 0.5).astype(int))
    assert m64.components_.dtype == np.float64
    # A float64 model is computed in float64 whatever the input (NumPy's promotion, as
    # scikit-learn's results have), so float32 input gives the float64 figures exactly.
    X32 = X.astype(np.float32)
    assert m64.transform(X32).dtype == np.float64
    assert m64.score_samples(X32).dtype == np.float64
    assert m64.gibbs(X32).dtype == np.float64
    np.testing.assert_array_equal(m64.transform(X32), m64.transform(X32.astype(np.float64)))
    # BernoulliRBM's gibbs returns booleans, as scikit-learn's.
    assert m32.gibbs(X32).dtype == bool
