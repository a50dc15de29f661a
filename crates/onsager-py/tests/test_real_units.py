"""Real-valued visible units from Python: ``EMFRBM(visible='gaussian' | 'truncated_gaussian')``
trains by CD/PCD, carries σ, gives exact log-densities that match a closed form and a
quadrature computed here, keeps its type through files, pickles and clones, and checks its
input against its own range."""

import itertools
import pickle
import subprocess

import numpy as np
import pytest
from scipy import integrate, special
from sklearn.base import clone

from onsager_rbm import EMFRBM, load


def _standardised(n=300, nv=6, seed=0):
    """Two clusters in nv dimensions, standardised per column."""
    rng = np.random.RandomState(seed)
    centres = rng.randn(2, nv) * 1.5
    X = centres[rng.randint(0, 2, n)] + 0.5 * rng.randn(n, nv)
    return (X - X.mean(0)) / X.std(0)


def _grey(n=300, nv=6, seed=0):
    """Values in [0, 1]: squashed clusters."""
    return special.expit(_standardised(n, nv, seed))


def _hidden_states(nh):
    return np.array(list(itertools.product([0, 1], repeat=nh)), dtype=float)


def _gaussian_log_density(m, X):
    """log p(v) of a Gaussian-unit RBM from its definition (docs/maths.md §1b): for each h,
    ∫ exp(-E(v, h)) dv = Π_i √(2π) σ_i exp(((a_i + (Wh)_i)² − a_i²) / (2σ_i²)) · exp(bᵀh)."""
    W, a, b, s = m.components_.T, m.intercept_visible_, m.intercept_hidden_, m.sigma_
    H = _hidden_states(W.shape[1])
    mu = a + H @ W.T
    log_zh = (np.log(np.sqrt(2 * np.pi) * s).sum()
              + (((mu ** 2) - a ** 2) / (2 * s ** 2)).sum(1) + H @ b)
    log_z = special.logsumexp(log_zh)
    # -E(v, h) for every row and h, summed over h.
    quad = -((X - a) ** 2 / (2 * s ** 2)).sum(1)
    field = (X / s ** 2) @ W @ H.T + H @ b
    return special.logsumexp(quad[:, None] + field, axis=1) - log_z, log_z


def test_gaussian_units_train_and_their_exact_log_density_is_the_closed_form():
    X = _standardised()
    m = EMFRBM(n_components=3, visible="gaussian", sigma="learned", method="pcd", n_iter=5,
               learning_rate=0.01, metrics=("pseudo_likelihood", "reconstruction_error"),
               random_state=0).fit(X)
    assert m.sigma_.shape == (6,) and np.all(m.sigma_ > 0)
    assert not np.allclose(m.sigma_, 1.0)  # learned
    # No pseudo-likelihood for real values: the method is absent, the metric None.
    assert not hasattr(m, "score_samples")
    assert m.history_[-1].get("pseudo_likelihood") is None
    assert m.history_[-1]["reconstruction_error"] > 0
    ll = m.log_likelihood(X, "exact")
    want, log_z = _gaussian_log_density(m, X)
    assert ll.quantity == "log-density"
    np.testing.assert_allclose(ll.per_row, want, rtol=1e-4, atol=1e-4)
    assert ll.log_z == pytest.approx(log_z, rel=1e-5)
    # F(v) = -log Σ_h exp(-E(v, h)): per_row = -F - log Z.
    np.testing.assert_allclose(-m.free_energy(X) - ll.log_z, ll.per_row, rtol=1e-5, atol=1e-5)
    h = m.transform(X)
    assert h.shape == (300, 3) and np.all((h > 0) & (h < 1))


def test_truncated_units_log_density_matches_quadrature():
    """One visible unit on [0, 1], two hidden: p(v) from the core against scipy's quadrature of
    exp(-F(v)) (itself the core's free energy, checked against its definition here)."""
    X = _grey(nv=1)
    m = EMFRBM(n_components=2, visible="truncated_gaussian", sigma=0.3, method="cd", n_iter=3,
               learning_rate=0.05, metrics=(), random_state=1).fit(X)
    np.testing.assert_allclose(m.sigma_, [0.3])
    W, a, b, s = m.components_.T, m.intercept_visible_, m.intercept_hidden_, m.sigma_

    def minus_f(v):
        # -F(v) = -(v - a)²/(2σ²) + Σ_j softplus(b_j + v W_j / σ²)
        return (-(v - a[0]) ** 2 / (2 * s[0] ** 2)
                + np.logaddexp(0, b + v * W[0] / s[0] ** 2).sum())

    grid = np.array([[0.0], [0.3], [0.9], [1.0]])
    np.testing.assert_allclose(-m.free_energy(grid), [minus_f(v) for v in grid[:, 0]],
                               rtol=1e-6, atol=1e-9)
    z, _ = integrate.quad(lambda v: np.exp(minus_f(v)), 0.0, 1.0, epsabs=0, epsrel=1e-12)
    ll = m.log_likelihood(grid, "exact")
    assert ll.quantity == "log-density"
    assert ll.log_z == pytest.approx(np.log(z), abs=1e-8)
    np.testing.assert_allclose(ll.per_row, [minus_f(v) - np.log(z) for v in grid[:, 0]],
                               atol=1e-8)


def test_range_checks_follow_the_unit_type():
    X = _grey()
    bad = X.copy()
    bad[4, 2] = 1.5
    kw = dict(n_components=3, method="cd", n_iter=1, metrics=(), random_state=0)
    with pytest.raises(ValueError, match=r"X\[4, 2\] = 1\.5 is outside \[0, 1\].*"
                                         r"Truncated-Gaussian.*MinMaxScaler\(clip=True\)"):
        EMFRBM(visible="truncated_gaussian", **kw).fit(bad)
    wide = EMFRBM(visible="truncated_gaussian:0:255", sigma=30.0, **kw)
    with pytest.raises(ValueError, match=r"Negative values.*outside \[0, 255\].*"
                                         r"feature_range=\(0, 255\), clip=True"):
        wide.fit(np.vstack([X[:5] * 255, np.full((1, 6), -1.0)]))
    wide.fit(X * 255)
    with pytest.warns(UserWarning, match=r"clipped into \[0, 255\]"):
        h = wide.transform(np.full((1, 6), 300.0))
    np.testing.assert_allclose(h, wide.transform(np.full((1, 6), 255.0)))
    # Gaussian units take any finite values, negative and large ones too; NaN never.
    g = EMFRBM(visible="gaussian", **kw).fit(_standardised() * 10)
    assert np.isfinite(g.transform(-_standardised())).all()
    with pytest.raises(ValueError, match="NaN"):
        g.transform(np.full((1, 6), np.nan))


def test_parameters_are_checked_and_named():
    X = _standardised()
    with pytest.raises(ValueError, match="sigma=0.5 applies to real-valued visible units only"):
        EMFRBM(sigma=0.5, n_iter=1).fit((X > 0).astype(float))
    with pytest.raises(ValueError, match="visible=poisson"):
        EMFRBM(visible="poisson", method="cd").fit(X)
    with pytest.raises(ValueError, match="sigma=learned:x"):
        EMFRBM(visible="gaussian", sigma="learned:x", method="cd").fit(X)
    with pytest.raises(ValueError, match="sigma=fixed:-1"):
        EMFRBM(visible="gaussian", sigma=-1.0, method="cd").fit(X)
    with pytest.raises(ValueError, match="order 2"):
        EMFRBM(visible="gaussian", method="emf", order=3).fit(X)
    with pytest.raises(ValueError, match="Anderson"):
        EMFRBM(visible="gaussian", method="emf", solver="anderson").fit(X)
    m = EMFRBM(n_components=2, visible="gaussian", method="cd", n_iter=1, metrics=(),
               random_state=0).fit(X)
    m.sigma_ = -m.sigma_
    with pytest.raises(ValueError, match="sigma"):
        m.transform(X)


def test_type_and_sigma_survive_files_pickles_and_clones(tmp_path, onsager_bin):
    X = _grey()
    m = EMFRBM(n_components=3, visible="truncated_gaussian", sigma="learned:0.3", method="pcd",
               n_iter=3, metrics=(), random_state=0).fit(X)
    for other in (pickle.loads(pickle.dumps(m)), load(_saved(m, tmp_path / "m.onsager"))):
        np.testing.assert_array_equal(other.sigma_, m.sigma_)
        np.testing.assert_array_equal(other.transform(X), m.transform(X))
        assert other.get_params() == m.get_params()
    c = clone(m)
    assert c.visible == "truncated_gaussian" and c.sigma == "learned:0.3"
    assert not hasattr(c, "sigma_")
    # partial_fit continues from the loaded model, σ included.
    again = load(tmp_path / "m.onsager").partial_fit(X)
    assert again.sigma_.shape == (6,)
    info = subprocess.run([str(onsager_bin), "info", str(tmp_path / "m.onsager")],
                          capture_output=True, text=True, check=True).stdout
    assert "truncated_gaussian" in info


def test_a_cli_model_loads_with_its_unit_type(tmp_path, onsager_bin):
    data = tmp_path / "x.csv"
    np.savetxt(data, _standardised(n=60), delimiter=",")
    out = tmp_path / "g.onsager"
    subprocess.run([str(onsager_bin), "train", str(data), "-o", str(out), "--visible",
                    "gaussian", "--sigma", "fixed:0.5", "--method", "cd", "--hidden", "3",
                    "--epochs", "1", "--seed", "3"], check=True, capture_output=True)
    m = load(out)
    assert m.visible == "gaussian" and m.sigma == 0.5 and m.method == "cd"
    np.testing.assert_allclose(m.sigma_, 0.5)
    assert m.log_likelihood(_standardised(n=60), "exact").quantity == "log-density"



def test_a_standardised_cli_model_loads_behind_its_scaler(tmp_path, onsager_bin):
    # Raw columns far from unit scale; the CLI standardises them and stores the map.
    raw = _standardised(n=60) * np.array([1, 2, 3, 4, 5, 6.0]) + 10.0
    data = tmp_path / "raw.csv"
    np.savetxt(data, raw, delimiter=",")
    out = tmp_path / "z.onsager"
    subprocess.run([str(onsager_bin), "train", str(data), "-o", str(out), "--visible",
                    "gaussian", "--preprocess", "standardize", "--method", "cd", "--hidden", "3",
                    "--epochs", "1", "--seed", "3"], check=True, capture_output=True)
    pipe = load(out)
    scaler, m = pipe[0], pipe[-1]
    np.testing.assert_allclose(scaler.mean_, raw.mean(0), rtol=1e-12)
    np.testing.assert_allclose(scaler.scale_, raw.std(0), rtol=1e-9)
    # The pipeline takes raw rows; the estimator alone takes standardised ones.
    z = (raw - raw.mean(0)) / raw.std(0)
    np.testing.assert_allclose(pipe.transform(raw), m.transform(z), rtol=1e-5, atol=1e-6)
    # Samples map back to raw units: zero steps from standardised rows give the raw rows.
    back = scaler.inverse_transform(m.sample(init=z[:5], n_steps=0, random_state=0))
    np.testing.assert_allclose(back, raw[:5], rtol=1e-5)

    m = EMFRBM(n_components=3, visible="truncated_gaussian", sigma=0.3, method="cd", n_iter=2,
               metrics=(), random_state=0).fit(_grey())
    s = m.sample(50, n_steps=20, random_state=1)
    assert s.shape == (50, 6) and np.all((s >= 0) & (s <= 1))
    assert len(np.unique(s)) > 100  # real values, not bits
    g = EMFRBM(n_components=3, visible="gaussian", method="cd", n_iter=2, metrics=(),
               random_state=0).fit(_standardised())
    s = g.sample(50, n_steps=20, random_state=1)
    assert s.shape == (50, 6) and np.isfinite(s).all() and (s < 0).any()
    np.testing.assert_array_equal(s, g.sample(50, n_steps=20, random_state=1))


def _saved(m, path):
    m.save(path)
    return path


@pytest.mark.parametrize("visible,sigma,data", [
    ("gaussian", "learned", _standardised),
    ("truncated_gaussian", 0.3, _grey),
])
def test_emf_trains_real_valued_units(visible, sigma, data):
    """The real-valued TAP free energy (docs/maths.md §4b), started from the data: EMF-2 gains
    at least half of CD-1's gain in exact log-density of the training rows over the untrained
    model (on the grey rows it beats CD-1; naive mean field, order 1, may not gain there, and
    only has to stay finite)."""
    X = data()
    kw = dict(n_components=4, visible=visible, sigma=sigma, learning_rate=0.02, batch_size=20,
              metrics=(), random_state=2)
    ll = lambda **more: EMFRBM(**kw, **more).fit(X).log_likelihood(X, "exact").mean
    untrained = ll(n_iter=0, method="cd")
    cd = ll(n_iter=30, method="cd")
    emf2 = ll(n_iter=30, method="emf", order=2, persistence="data")
    assert emf2 - untrained > 0.5 * (cd - untrained), (untrained, cd, emf2)
    assert np.isfinite(ll(n_iter=30, method="emf", order=1, persistence="data"))
    m = EMFRBM(n_iter=2, method="emf", persistence="data", **kw).fit(X)
    assert m.history_[-1]["fixed_point_sweeps"] >= 1
    # log_likelihood's 'emf' estimator takes real-valued models too.
    est = m.log_likelihood(X, "emf")
    assert est.quantity == "log-density" and np.isfinite(est.mean)


@pytest.mark.parametrize("visible,sigma,data", [
    ("gaussian", 1.0, _standardised),
    ("truncated_gaussian", 0.3, _grey),
])
def test_ais_brackets_the_exact_log_density(visible, sigma, data):
    """log_likelihood('ais') anneals from a Gaussian base fitted to X (docs/maths.md §5.1): its
    ±3σ bounds hold the exact value, which it meets closely."""
    X = data()
    m = EMFRBM(n_components=4, visible=visible, sigma=sigma, method="cd", n_iter=10,
               learning_rate=0.02, batch_size=20, metrics=(), random_state=0).fit(X)
    exact = m.log_likelihood(X, "exact")
    ais = m.log_likelihood(X, "ais", n_runs=200, n_temperatures=3000, random_state=1)
    assert ais.quantity == "log-density"
    assert ais.lower <= exact.mean <= ais.upper, (ais, exact.mean)
    assert abs(ais.mean - exact.mean) < 0.05
