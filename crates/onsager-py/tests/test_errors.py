"""Bad input and bad parameters: clear ValueError / TypeError, never a crash or a NaN."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError

from onsager_rbm import BernoulliRBM, EMFRBM

ESTIMATORS = [BernoulliRBM, EMFRBM]


@pytest.fixture(params=ESTIMATORS, ids=lambda c: c.__name__)
def fitted(request, bits):
    return request.param(n_components=4, n_iter=1, random_state=0).fit(bits)


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize(
    "bad, pattern",
    [
        (np.nan, "NaN"),
        (np.inf, "infinity"),
        (2.5, r"Values above 1 in data passed to \w+: X\[3, 7\] = 2.5 is outside \[0, 1\]"),
        (-0.5, r"Negative values in data passed to \w+: X\[3, 7\] = -0.5"),
    ],
)
def test_bad_values_are_named(bits, cls, bad, pattern):
    X = bits[:20].copy()
    X[3, 7] = bad
    if cls is BernoulliRBM and np.isfinite(bad):
        # The drop-in takes what scikit-learn takes, clipped into [0, 1] with a warning.
        with pytest.warns(UserWarning, match=r"first X\[3, 7\] = " + str(bad)):
            model = cls(n_components=4, n_iter=1, random_state=0).fit(X)
        clipped = np.clip(X, 0, 1)
        np.testing.assert_array_equal(
            model.transform(clipped), cls(n_components=4, n_iter=1, random_state=0)
            .fit(clipped).transform(clipped)
        )
        return
    with pytest.raises(ValueError, match=pattern):
        cls(n_components=4, n_iter=1).fit(X)
    model = cls(n_components=4, n_iter=1).fit(bits)
    for method in ("transform", "score_samples", "gibbs", "free_energy"):
        if np.isfinite(bad):
            # EMFRBM's default policy clips new rows with a warning (test_dropin.py has every
            # policy); out_of_range='error' refuses them with the fit's message.
            with pytest.warns(UserWarning, match=r"first X\[3, 7\] = " + str(bad)):
                getattr(model, method)(X)
            strict = cls(n_components=4, n_iter=1, out_of_range="error").fit(bits)
            with pytest.raises(ValueError, match=pattern):
                getattr(strict, method)(X)
        else:
            with pytest.raises(ValueError, match=pattern):
                getattr(model, method)(X)


def test_bad_sparse_values_are_named(bits):
    X = bits[:20].copy()
    X[5, 9] = 3.0
    S = sp.csr_matrix(X)
    with pytest.raises(ValueError, match=r"X\[5, 9\] = 3.0"):
        EMFRBM(n_components=4, n_iter=1).fit(S)


def test_wrong_shapes_and_empty_input(fitted, bits):
    with pytest.raises(ValueError, match="features"):
        fitted.transform(bits[:, :10])
    with pytest.raises(ValueError, match="0 sample"):
        fitted.transform(bits[:0])
    with pytest.raises(ValueError, match="0 sample"):
        type(fitted)(n_iter=1).fit(np.zeros((0, 5)))
    with pytest.raises(ValueError, match="0 feature"):
        type(fitted)(n_iter=1).fit(np.zeros((5, 0)))
    with pytest.raises(ValueError, match="2D"):
        fitted.transform(bits[0])
    with pytest.raises(ValueError):
        fitted.transform([["a", "b"]])


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_unfitted(cls, bits):
    for method in ("transform", "score_samples", "gibbs", "free_energy"):
        with pytest.raises(NotFittedError):
            getattr(cls(), method)(bits)


@pytest.mark.parametrize(
    "params, pattern",
    [
        (dict(n_components=0), r"n_components=0"),
        (dict(n_components=-3), r"n_components=-3"),
        (dict(learning_rate=0.0), r"learning_rate"),
        (dict(learning_rate=float("nan")), r"learning_rate"),
        (dict(batch_size=0), r"batch_size=0"),
        (dict(n_iter=-1), r"n_iter=-1"),
    ],
)
@pytest.mark.parametrize("cls", ESTIMATORS)
def test_bad_shared_parameters(cls, bits, params, pattern):
    if cls is BernoulliRBM:
        # scikit-learn's constraints, so the same InvalidParameterError (a ValueError).
        from sklearn.utils._param_validation import InvalidParameterError

        with pytest.raises(InvalidParameterError, match=next(iter(params))):
            cls(**params).fit(bits)
        return
    with pytest.raises(ValueError, match=pattern):
        cls(**params).fit(bits)


def test_drop_in_matches_scikit_learn_where_code_relies_on_it(bits):
    """BernoulliRBM: a float n_components raises scikit-learn's InvalidParameterError,
    random_state_ is set by fit, lil input works, and the private helpers agree with the
    public methods (and with scikit-learn's own helpers on the same model)."""
    from sklearn.neural_network import BernoulliRBM as Reference
    from sklearn.utils._param_validation import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="n_components"):
        BernoulliRBM(n_components=2.5).fit(bits)
    m = BernoulliRBM(n_components=4, n_iter=1, random_state=0).fit(sp.lil_matrix(bits))
    assert isinstance(m.random_state_, np.random.RandomState)
    np.testing.assert_allclose(m._mean_hiddens(bits), m.transform(bits), rtol=1e-12)
    np.testing.assert_allclose(-m._free_energy(bits), -m.free_energy(bits), rtol=1e-9)
    ref = Reference(n_components=4)
    ref.components_, ref.intercept_hidden_ = m.components_, m.intercept_hidden_
    ref.intercept_visible_ = m.intercept_visible_
    np.testing.assert_allclose(ref._free_energy(bits), m._free_energy(bits), rtol=1e-12)
    for name, arg in (("_sample_hiddens", bits), ("_sample_visibles", m.transform(bits))):
        ours = getattr(m, name)(arg, np.random.RandomState(3))
        theirs = getattr(ref, name)(arg, np.random.RandomState(3))
        assert ours.dtype == bool
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize(
    "params",
    [
        dict(method="cd", order=3),
        dict(method="pcd", iterations=5),
        dict(k=2),
        dict(method="cd", n_chains=10),
        dict(final_learning_rate=0.001),
        dict(learning_rate_decay=0.5),
        dict(decay_kind="none", weight_decay=0.01),
    ],
)
def test_settings_that_do_not_apply_are_refused(bits, params):
    name = next(p for p in params if p not in ("method", "decay_kind"))
    with pytest.raises(ValueError, match=f"{name}=.* applies to"):
        EMFRBM(n_iter=1, **params).fit(bits)


@pytest.mark.parametrize(
    "params, pattern",
    [
        (dict(method="gibbs"), r"'method' parameter of EMFRBM must be a str among.*Got 'gibbs'"),
        (dict(order=4), r"order=4: the EMF order must be 1, 2 or 3"),
        (dict(iterations=0), r"iterations=0"),
        (dict(damping=1.5), r"damping=1.5"),
        (dict(persistence="sometimes"), r"'persistence' parameter.*Got 'sometimes'"),
        (dict(persistence=0), r"persistence=0"),
        (dict(method="cd", k=0), r"k=0"),
        (dict(method="pcd", n_chains=0), r"n_chains=0"),
        (dict(momentum=1.0), r"momentum=1"),
        (dict(weight_decay=-1.0), r"weight_decay=-1"),
        (dict(decay_kind="l3"), r"'decay_kind' parameter.*Got 'l3'"),
        (dict(learning_rate_schedule="cosine"), r"'learning_rate_schedule' parameter.*Got 'cosine'"),
        (dict(learning_rate_schedule="exponential", learning_rate_decay=0.0), r"learning_rate_schedule"),
        (dict(init_std=-1.0), r"init_std=-1"),
        (dict(n_threads=0), r"'n_threads' parameter.*Got 0"),
        (dict(random_state=-1), r"random_state"),
    ],
)
def test_bad_emf_parameters(bits, params, pattern):
    with pytest.raises(ValueError, match=pattern):
        EMFRBM(n_iter=1, **params).fit(bits)


@pytest.mark.parametrize(
    "params", [dict(n_components="many"), dict(method=3), dict(shuffle="yes please")]
)
def test_wrong_parameter_types(bits, params):
    with pytest.raises(TypeError, match=next(iter(params))):
        EMFRBM(n_iter=1, **params).fit(bits)


def test_partial_fit_checks_features(bits):
    m = EMFRBM(n_components=4).partial_fit(bits[:50])
    with pytest.raises(ValueError, match="features"):
        m.partial_fit(bits[:50, :10])


def test_divergence_is_an_error_not_nan(bits):
    with pytest.raises(RuntimeError, match="diverged"):
        EMFRBM(n_components=8, method="cd", learning_rate=1e300, momentum=0.9, n_iter=3,
               random_state=0).fit(bits)


def test_ctrl_c_stops_a_long_ais(bits):
    """KeyboardInterrupt during AIS (here from a timer thread, as Ctrl-C would) stops the
    estimate within a round of temperatures and reaches the caller."""
    import _thread
    import threading

    m = EMFRBM(n_components=40, n_iter=1, random_state=0).fit(bits)
    timer = threading.Timer(0.5, _thread.interrupt_main)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            m.log_likelihood(bits[:50], estimator="ais", n_temperatures=10_000_000)
    finally:
        timer.cancel()
    # The model is untouched and the next estimate works.
    assert np.isfinite(m.log_likelihood(bits[:50], estimator="ais", n_temperatures=100).mean)


def test_sizes_that_cannot_fit_are_a_value_error(bits):
    with pytest.raises(ValueError, match="too large"):
        EMFRBM(n_components=2_000_000_000, n_iter=1).fit(bits)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_estimates_at_huge_weights_are_finite_or_refused(bits, dtype):
    """AIS at |W| ~ 1e4 (float64) and 1e30 (float32) gives a finite figure, never positive,
    flagged as unreliable; the EMF fixed point that overflows is a RuntimeError."""
    m = EMFRBM(n_components=6, n_iter=1, random_state=0).fit(bits.astype(dtype))
    m.components_ = (m.components_ * (1e30 if dtype == np.float32 else 1e4)).astype(dtype)
    ll = m.log_likelihood(bits[:20].astype(dtype), estimator="ais", n_temperatures=300)
    assert np.isfinite(ll.mean) and ll.mean <= 0 and not ll.converged
    if dtype == np.float32:
        with pytest.raises(RuntimeError, match="float32"):
            m.sample(init=bits[:5].astype(dtype), mean_field_order=2)
