"""Training: every method learns, results are reproducible, state carries over, progress and
interruption work, arrays cross without copies and the GIL is released."""

import itertools
import re
import signal
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import logsumexp

from onsager_rbm import BernoulliRBM, EMFRBM, _core

METHODS = [
    dict(method="cd"),
    dict(method="pcd"),
    dict(method="emf", order=1, persistence="data"),
    dict(method="emf", order=2, persistence="data"),
    dict(method="emf", order=3, persistence="data"),
    dict(method="emf", order=1, persistence="persistent"),
    dict(method="emf", order=2, persistence="persistent"),
    dict(method="emf", order=3, persistence="persistent"),
]


def exact_mean_ll(m, X):
    """Mean log p(v) by enumerating all 2^nv visible states with the model's free energy."""
    states = np.array(list(itertools.product([0.0, 1.0], repeat=X.shape[1])))
    log_z = logsumexp(-m.free_energy(states))
    return float(np.mean(-m.free_energy(X) - log_z))


@pytest.mark.parametrize("kw", METHODS, ids=lambda kw: "-".join(str(v) for v in kw.values()))
def test_every_method_learns(bits, kw):
    """Exact log-likelihood (8 hidden units: log Z by enumerating the hidden layer) before and
    after 10 epochs on the binarised digits. Persistent EMF gets a lower rate: its carried
    magnetisations sit at one fixed point of Γ, and at 0.05 it oscillates on this data."""
    persistent = kw.get("persistence") == "persistent"
    common = dict(
        n_components=8,
        learning_rate=0.02 if persistent else 0.05,
        batch_size=20,
        metrics=(),
        random_state=1,
    )
    start = EMFRBM(n_iter=0, **common, **kw).fit(bits)
    m = EMFRBM(n_iter=10, **common, **kw).fit(bits)
    before = start.log_likelihood(bits, "exact").mean
    after = m.log_likelihood(bits, "exact").mean
    assert before == pytest.approx(-24.44, abs=0.01)  # independent units at the data's rates
    assert after > before + (0.5 if persistent else 2.5), (before, after)
    assert len(m.history_) == 10 and m.n_epochs_ == 10


def test_persistence_options_reach_the_trainer(bits):
    kw = dict(n_components=8, n_iter=3, metrics=(), random_state=0)
    data = EMFRBM(persistence="data", **kw).fit(bits).components_
    late = EMFRBM(persistence=4, **kw).fit(bits).components_  # persistent from epoch 4 of 3
    from2 = EMFRBM(persistence=2, **kw).fit(bits).components_
    persistent = EMFRBM(persistence="persistent", **kw).fit(bits).components_
    np.testing.assert_array_equal(data, late)
    assert not np.array_equal(data, from2) and not np.array_equal(from2, persistent)


def test_estimators_agree_on_a_small_model(tiny):
    m = EMFRBM(
        n_components=6, method="pcd", n_iter=20, learning_rate=0.05, batch_size=20,
        random_state=0,
    ).fit(tiny)
    exact = m.log_likelihood(tiny, "exact")
    assert exact.mean == pytest.approx(exact_mean_ll(m, tiny), abs=1e-9)
    ais = m.log_likelihood(tiny, "ais", n_runs=50, n_temperatures=2000, random_state=0)
    emf = m.log_likelihood(tiny, "emf", order=3)
    assert exact.lower == exact.upper == exact.mean
    assert ais.lower <= ais.mean <= ais.upper
    assert abs(ais.mean - exact.mean) < 0.05, (ais, exact.mean)
    assert ais.lower - 0.02 <= exact.mean <= ais.upper + 0.02
    # Two symmetric modes: one fixed point of Γ describes one of them, so the EMF log Z misses
    # up to ln 2 of the exact one.
    assert abs(emf.mean - exact.mean) < np.log(2) + 0.05 and emf.converged
    assert np.isnan(emf.lower) and float(emf) == emf.mean
    assert ais.per_row.shape == (len(tiny),)
    with pytest.raises(ValueError, match="estimator"):
        m.log_likelihood(tiny, "magic")


def test_same_seed_same_bits_for_any_thread_count(bits):
    kw = dict(n_components=16, n_iter=3, random_state=5)
    one = EMFRBM(n_threads=1, **kw).fit(bits)
    two = EMFRBM(n_threads=2, **kw).fit(bits)
    again = EMFRBM(**kw).fit(bits)
    np.testing.assert_array_equal(one.components_, two.components_)
    np.testing.assert_array_equal(one.components_, again.components_)
    other = EMFRBM(n_components=16, n_iter=3, random_state=6).fit(bits)
    assert not np.array_equal(one.components_, other.components_)


def test_partial_fit_continues_the_optimiser_state(bits):
    kw = dict(n_components=8, method="pcd", batch_size=50, random_state=2, shuffle=False)
    a = EMFRBM(**kw)
    for chunk in np.array_split(bits[:600], 4):
        a.partial_fit(chunk)
    # Same calls, with a pickle round trip in the middle: identical result.
    import pickle

    b = EMFRBM(**kw)
    for i, chunk in enumerate(np.array_split(bits[:600], 4)):
        if i == 2:
            b = pickle.loads(pickle.dumps(b))
        b.partial_fit(chunk)
    np.testing.assert_array_equal(a.components_, b.components_)
    # Changing a hyperparameter between calls takes effect (sklearn's set_params contract).
    c = pickle.loads(pickle.dumps(b)).set_params(learning_rate=0.5)
    b.partial_fit(bits[600:700])
    c.partial_fit(bits[600:700])
    assert not np.allclose(b.components_, c.components_)


def test_history_and_validation(bits):
    m = EMFRBM(
        n_components=8,
        n_iter=4,
        validation_fraction=0.2,
        metrics=("pseudo_likelihood", "reconstruction_error", "emf_log_likelihood"),
        random_state=0,
    ).fit(bits)
    assert [h["epoch"] for h in m.history_] == [1, 2, 3, 4]
    for h in m.history_:
        assert h["pseudo_likelihood"] < 0 and 0 < h["reconstruction_error"] < 1
        assert h["emf_log_likelihood"] < 0 and h["fixed_point_residual"] >= 0
        assert h["seconds"] > 0 and h["learning_rate"] == 0.005
    quiet = EMFRBM(n_components=8, n_iter=2, metrics=(), method="cd", random_state=0).fit(bits)
    assert "pseudo_likelihood" not in quiet.history_[0]
    assert "fixed_point_residual" not in quiet.history_[0]
    with pytest.raises(ValueError, match="validation_fraction"):
        EMFRBM(validation_fraction=1.5).fit(bits)
    with pytest.raises(ValueError, match="metric"):
        EMFRBM(metrics=("accuracy",), n_iter=1).fit(bits)


def test_verbose_lines_follow_sklearn(bits, capsys):
    BernoulliRBM(n_components=8, n_iter=3, verbose=1, random_state=0).fit(bits)
    lines = capsys.readouterr().out.strip().splitlines()
    pattern = r"\[BernoulliRBM\] Iteration (\d+), pseudo-likelihood = -?\d+\.\d\d, time = \d+\.\d\ds"
    assert [int(re.fullmatch(pattern, line).group(1)) for line in lines] == [1, 2, 3]
    EMFRBM(n_components=8, n_iter=2, verbose=1, random_state=0).fit(bits)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and lines[1].startswith("[EMFRBM] Iteration 2, pseudo-likelihood = ")
    assert "reconstruction error = " in lines[1] and "fixed-point residual = " in lines[1]


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
def test_sparse_input_equals_dense(bits, fmt):
    S = sp.csr_matrix(bits).asformat(fmt)
    kw = dict(n_components=8, n_iter=2, random_state=0)
    dense, sparse = BernoulliRBM(**kw).fit(bits), BernoulliRBM(**kw).fit(S)
    np.testing.assert_array_equal(dense.components_, sparse.components_)
    np.testing.assert_array_equal(dense.transform(bits), sparse.transform(S))
    np.testing.assert_array_equal(dense.score_samples(bits), sparse.score_samples(S))
    np.testing.assert_array_equal(dense.free_energy(bits), sparse.free_energy(S))


def test_sparse_input_in_blocks_equals_dense(monkeypatch, bits):
    from onsager_rbm import _base

    monkeypatch.setattr(_base, "_SPARSE_BLOCK", 100)  # 18 blocks for 1797 rows
    m = EMFRBM(n_components=8, n_iter=1, random_state=0).fit(bits)
    S = sp.csr_matrix(bits)
    np.testing.assert_array_equal(m.transform(bits), m.transform(S))
    np.testing.assert_array_equal(m.score_samples(bits), m.score_samples(S))


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_arrays_cross_without_copies(bits, dtype, order):
    X = np.asarray(bits, dtype=dtype, order=order)
    m = EMFRBM(n_components=8, n_iter=1, random_state=0).fit(X)
    validated = m._validate(X, reset=False)
    assert validated is X or np.shares_memory(validated, X)
    assert _core.data_address(validated) == X.ctypes.data
    # Transposed and sliced views reach the core in place too.
    view = X[::2]
    assert _core.data_address(view) == view.ctypes.data


def test_gil_is_released_during_compute(bits):
    m = EMFRBM(n_components=64, n_iter=1, random_state=0).fit(bits)
    start = np.repeat(bits[:200], 5, axis=0)
    done = threading.Event()

    def work():
        m.sample(init=start, n_steps=3000)
        done.set()

    t = threading.Thread(target=work)
    t.start()
    spins = 0
    while not done.is_set():
        spins += 1  # runs only while the worker has let the GIL go
    t.join()
    assert spins > 10_000, spins


def test_ctrl_c_interrupts_fit_and_keeps_the_model(tmp_path):
    script = textwrap.dedent(
        """
        import sys, time, numpy as np
        from onsager_rbm import EMFRBM
        X = (np.random.RandomState(0).rand(20000, 200) < 0.3).astype(np.float32)
        m = EMFRBM(n_components=200, n_iter=10_000, metrics=(), verbose=1, random_state=0)
        t = time.time()
        try:
            m.fit(X)
        except KeyboardInterrupt:
            print("interrupted", m.components_.shape, m.n_epochs_, flush=True)
            sys.exit(0)
        print("finished", flush=True)
        sys.exit(3)
        """
    )
    p = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    first = p.stdout.readline()  # the first epoch's line: training is under way
    assert first.startswith("[EMFRBM] Iteration 1"), first + p.stderr.read()
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, out + err
    last = out.strip().splitlines()[-1]
    assert last.startswith("interrupted (200, 200)"), out
    assert 1 <= int(last.split()[-1]) < 10_000


def test_an_exception_in_progress_reporting_stops_training(bits):
    class Boom(Exception):
        pass

    class Loud(EMFRBM):
        def _report(self, m, seconds):
            if m["epoch"] == 2:
                raise Boom("stop here")

    m = Loud(n_components=4, n_iter=50, random_state=0)
    with pytest.raises(Boom):
        m.fit(bits)
    assert m.n_epochs_ == 2


def test_zero_iterations_initialise_only(bits):
    m = BernoulliRBM(n_components=4, n_iter=0, random_state=0).fit(bits)
    assert m.components_.shape == (4, 64) and np.abs(m.components_).max() < 0.1
    assert m.h_samples_.shape == (10, 4) and not m.h_samples_.any()


def test_sampling(bits):
    m = EMFRBM(n_components=16, n_iter=5, learning_rate=0.05, random_state=0).fit(bits)
    s = m.sample(20, n_steps=50, random_state=1)
    assert s.shape == (20, 64) and set(np.unique(s)) <= {0.0, 1.0}
    np.testing.assert_array_equal(s, m.sample(20, n_steps=50, random_state=1))
    mf = m.sample(init=bits[:5], mean_field_order=2, n_steps=200)
    assert mf.shape == (5, 64) and np.all((mf > 0) & (mf < 1))
    assert not set(np.unique(mf)) <= {0.0, 1.0}
    with pytest.raises(ValueError, match="init"):
        m.sample(init=bits[:5, :10])
    with pytest.warns(UserWarning, match="init"):  # clipped under the default policy
        m.sample(init=bits[:5] * 2, n_steps=1)
    with pytest.raises(ValueError, match="n_samples"):
        m.sample(0)


def test_constructor_defaults_are_the_core_defaults():
    """Every training parameter EMFRBM() sends equals the Rust library's default, so the
    Python package and the command line train the same model by default."""
    core = dict(_core.default_options())
    sent = dict((k, str(v)) for k, v in EMFRBM()._options(seed=0))
    for key in ("method", "n_hidden", "batch_size", "epochs", "order", "iterations",
                "persistence", "solver", "reseed", "weighting", "visible"):
        assert sent[key].lower() == core[key], key
    for key in ("learning_rate", "damping", "tolerance", "momentum", "init_std"):
        assert float(sent[key]) == float(core[key]), key


def test_fixed_point_history_and_reseeding_options():
    """The EMF settings reach the core: 3 fixed sweeps report 3.0 sweeps per batch, re-seeding
    reports its rows, and bad values name the parameter."""
    X = (np.random.RandomState(0).rand(300, 20) < 0.3).astype(np.float32)
    m = EMFRBM(n_components=6, n_iter=2, tolerance=0.0, iterations=3, solver="damped",
               reseed="merged+0.2", metrics=(), random_state=0).fit(X)
    h = m.history_[-1]
    # 300 rows are 3 mini-batches an epoch; a fifth of the 100 rows is 20 rows a batch.
    assert h["fixed_point_sweeps"] == 3.0 and h["reseeded_rows"] >= 3 * 20
    assert 0 < h["distinct_rows"] <= 100 and h["fixed_point_distance"] >= 0
    for bad, name in [(dict(solver="newton"), "solver"), (dict(reseed="2"), "reseed"),
                      (dict(tolerance=-1.0), "tolerance"), (dict(weighting="boltzmann"), "weighting")]:
        with pytest.raises(ValueError, match=name):
            EMFRBM(n_iter=1, **bad).fit(X)
    # Free-energy weighting reaches the core: same seed, different weights. It matters only
    # where the rows sit at distinct points of different free energy, so one sweep a batch
    # (rows not yet at their fixed points) on digits; measured 1.1e-4 when written (on a
    # model whose rows share one fixed point the two agree to rounding, as they should).
    from sklearn.datasets import load_digits

    D = (load_digits().data[:600] > 7).astype(np.float32)
    kw = dict(n_components=16, iterations=1, learning_rate=0.05, n_iter=5, metrics=(),
              random_state=0)
    uniform = EMFRBM(**kw).fit(D).components_
    weighted = EMFRBM(weighting="free-energy", **kw).fit(D).components_
    assert np.abs(uniform - weighted).max() > 3e-5
