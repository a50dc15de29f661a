"""What a scikit-learn user meets first: ``verbose`` fits on every input ``fit`` takes, a
fitted pipeline that scores new rows, and what happens to values outside [0, 1] (the range
policy, ``EMFRBM(out_of_range=...)``) at fit and at inference."""

import re
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from onsager_rbm import BernoulliRBM, EMFRBM

LINE = {
    BernoulliRBM: re.compile(
        r"^\[BernoulliRBM\] Iteration (\d+), pseudo-likelihood = -?\d+\.\d\d, time = \d+\.\d\ds$"
    ),
    EMFRBM: re.compile(r"^\[EMFRBM\] Iteration (\d+), pseudo-likelihood = -?\d+\.\d\d, .*s$"),
}


def _inputs(bits, tmp_path):
    """Every kind of input fit takes, each holding the same 0/1 values."""
    X = bits[:150]
    memmap = np.lib.format.open_memmap(tmp_path / "x.npy", mode="w+", dtype=np.float64,
                                       shape=X.shape)
    memmap[:] = X
    memmap.flush()
    return {
        "dense-float64": X,
        "dense-float32": X.astype(np.float32),
        "int": X.astype(np.int64),
        "list": X.tolist(),
        "memmap": np.load(tmp_path / "x.npy", mmap_mode="r"),
        "csr": sp.csr_matrix(X),
        "csc": sp.csc_matrix(X),
        "coo": sp.coo_matrix(X),
    }


@pytest.mark.parametrize("cls", [BernoulliRBM, EMFRBM])
def test_verbose_fits_take_every_input_and_change_nothing(cls, bits, tmp_path, capsys):
    """A verbose fit prints one line per epoch, numbered 1..n, for every input kind, and its
    model is the silent fit's, bit for bit (the progress figures use streams of their own)."""
    kw = dict(n_components=6, n_iter=3, batch_size=10, random_state=0)
    for name, X in _inputs(bits, tmp_path).items():
        silent = cls(**kw).fit(X)
        assert capsys.readouterr().out == ""
        loud = cls(verbose=1, **kw).fit(X)
        lines = capsys.readouterr().out.strip().splitlines()
        assert [int(LINE[cls].match(line).group(1)) for line in lines] == [1, 2, 3], (
            name, lines,
        )
        np.testing.assert_array_equal(loud.components_, silent.components_, err_msg=name)
        np.testing.assert_array_equal(
            loud.intercept_hidden_, silent.intercept_hidden_, err_msg=name
        )


def _digits_split():
    X, y = load_digits(return_X_y=True)
    return (X[:1200], y[:1200]), (X[1200:], y[1200:])


@pytest.mark.parametrize(
    "kw",
    [dict(method="cd"), dict(method="pcd"), dict(method="emf", order=2),
     dict(method="emf", order=3, persistence="data")],
    ids=lambda kw: "-".join(str(v) for v in kw.values()),
)
def test_a_fitted_pipeline_scores_its_test_split(kw):
    """The standard pipeline fitted on the first 1200 digits scores the rest: the scaler
    fitted on the training rows maps some test pixels above 1 (checked here), which the
    default policy clips with a warning at inference. The score is a real classifier's."""
    (Xtr, ytr), (Xte, yte) = _digits_split()
    pipe = make_pipeline(
        MinMaxScaler(),
        EMFRBM(n_components=32, n_iter=5, learning_rate=0.05, batch_size=20, metrics=(),
               random_state=0, **kw),
        LogisticRegression(max_iter=2000),
    )
    pipe.fit(Xtr, ytr)
    scaled = pipe[0].transform(Xte)
    assert scaled.max() > 1.0  # the situation of the report
    with pytest.warns(UserWarning, match=r"EMFRBM: \d+ values outside \[0, 1\].*clipped"):
        accuracy = pipe.score(Xte, yte)
    assert 0.6 < accuracy <= 1.0, accuracy


def test_clipping_scalers_need_no_policy():
    """MinMaxScaler(clip=True), the remedy the messages name, keeps test rows inside [0, 1]:
    no warning at all, even under the strictest policy."""
    (Xtr, ytr), (Xte, yte) = _digits_split()
    pipe = make_pipeline(
        MinMaxScaler(clip=True),
        EMFRBM(n_components=16, n_iter=2, metrics=(), out_of_range="error", random_state=0),
        LogisticRegression(max_iter=2000),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pipe.fit(Xtr, ytr)
        assert pipe.score(Xte, yte) > 0.5


def _with_outside(bits):
    X = bits[:60].copy()
    X[3, 7], X[5, 1] = 2.0, 1.5
    return X


INFERENCE = ("transform", "score_samples", "free_energy", "gibbs")


@pytest.mark.parametrize("policy", ["error-fit", "error", "warn", "clip"])
def test_each_range_policy_does_what_its_docs_say(bits, policy):
    """At fit: 'error-fit' and 'error' refuse (naming the value and the remedy), 'warn' and
    'clip' train on the clipped rows (the same model as training on np.clip of them). At
    inference: 'error' refuses, 'error-fit' and 'warn' clip with a warning, 'clip' clips
    silently; a clipped call gives what the clipped rows give."""
    X = _with_outside(bits)
    clipped = np.clip(X, 0, 1)
    kw = dict(n_components=4, n_iter=2, metrics=(), out_of_range=policy, random_state=0)
    fit_refuses = policy in ("error-fit", "error")
    if fit_refuses:
        with pytest.raises(ValueError, match=r"X\[3, 7\] = 2\.0.*MinMaxScaler\(clip=True\)"):
            EMFRBM(**kw).fit(X)
        with pytest.raises(ValueError, match=r"X\[3, 7\] = 2\.0"):
            EMFRBM(**kw).partial_fit(X)
        model = EMFRBM(**kw).fit(clipped)
    else:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = EMFRBM(**kw).fit(X)
        assert bool(caught) == (policy == "warn"), [str(w.message) for w in caught]
        np.testing.assert_array_equal(
            model.components_, EMFRBM(**kw).fit(clipped).components_
        )
    for method in INFERENCE:
        call = getattr(model, method)
        if policy == "error":
            with pytest.raises(ValueError, match=r"Values above 1 .*X\[3, 7\] = 2\.0"):
                call(X)
            continue
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            got = call(X)
        messages = [str(w.message) for w in caught]
        if policy == "clip":
            assert messages == []
        else:
            assert len(messages) == 1 and "2 values outside [0, 1]" in messages[0], messages
            assert "first X[3, 7] = 2.0" in messages[0]
        if method != "gibbs":  # gibbs draws anew each call
            np.testing.assert_array_equal(got, getattr(model, method)(clipped))
    if policy == "error":
        with pytest.raises(ValueError, match=r"init\[3, 7\]"):
            model.sample(init=X, n_steps=1)
        with pytest.raises(ValueError, match="outside"):
            model.log_likelihood(X, "exact")
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ll = model.log_likelihood(X, "exact")
            assert ll.mean == model.log_likelihood(clipped, "exact").mean
            assert model.sample(init=X, n_steps=1, random_state=0).shape == X.shape


def test_a_bad_policy_is_refused_by_name(bits):
    from sklearn.utils._param_validation import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="out_of_range"):
        EMFRBM(out_of_range="ignore").fit(bits[:20])


def test_nan_is_refused_under_every_policy(bits):
    X = bits[:20].copy()
    X[2, 2] = np.nan
    for policy in ("error-fit", "error", "warn", "clip"):
        with pytest.raises(ValueError, match="NaN"):
            EMFRBM(n_components=4, n_iter=1, out_of_range=policy).fit(X)


def test_float32_and_float64_fits_of_one_seed_are_one_fit():
    """scikit-learn's comparison (100 digits, 16 hidden units, batches of 5, 5 epochs, one
    random_state): its float32 model is its float64 model rounded, and so is the drop-in's,
    within the bounds scikit-learn's own pair meets (fit_transform and intercept_hidden_ 1e-6,
    intercept_visible_ 1e-5, components_ 1e-3 relative), with the same last hidden samples."""
    X = load_digits().data[:100] / 16.0
    kw = dict(n_components=16, batch_size=5, n_iter=5, random_state=0)
    m64, m32 = BernoulliRBM(**kw), BernoulliRBM(**kw)
    t64 = m64.fit_transform(X)
    t32 = m32.fit_transform(X.astype(np.float32))
    assert m32.components_.dtype == np.float32 and t32.dtype == np.float32

    def rel(a, b):
        return float(np.max(np.abs(a.astype(np.float64) - b)) / np.max(np.abs(b)))

    assert rel(t32, t64) < 1e-6
    assert rel(m32.intercept_hidden_, m64.intercept_hidden_) < 1e-6
    assert rel(m32.intercept_visible_, m64.intercept_visible_) < 1e-5
    assert rel(m32.components_, m64.components_) < 1e-3
    np.testing.assert_array_equal(m32.h_samples_, m64.h_samples_)
    assert rel(m32.components_, m64.components_) > 0  # two precisions, not one computation


@pytest.mark.parametrize(
    "kw",
    [dict(method="cd"), dict(method="pcd"), dict(method="emf"),
     dict(method="emf", order=3, persistence="data")],
    ids=lambda kw: "-".join(str(v) for v in kw.values()),
)
def test_every_method_gives_one_model_per_seed_at_both_precisions(kw):
    X = (load_digits().data[:100] > 7).astype(np.float64)
    common = dict(n_components=16, batch_size=5, n_iter=5, learning_rate=0.05, metrics=(),
                  random_state=3, **kw)
    m64 = EMFRBM(**common).fit(X)
    m32 = EMFRBM(**common).fit(X.astype(np.float32))
    f64, f32 = m64.transform(X), m32.transform(X.astype(np.float32))
    assert np.max(np.abs(f32 - f64)) < 1e-5
    for name in ("intercept_hidden_", "intercept_visible_", "components_"):
        a, b = getattr(m32, name), getattr(m64, name)
        assert np.max(np.abs(a - b)) / np.max(np.abs(b)) < 1e-5, name


def test_the_remedy_names_out_of_range_only_where_there_is_one(bits):
    X = _with_outside(bits)
    with pytest.raises(ValueError, match=r"MinMaxScaler\(clip=True\).*out_of_range"):
        EMFRBM(n_components=4, n_iter=1).fit(X)

    class Strict(EMFRBM):
        """A subclass keeps the parameter, and so the advice."""

    with pytest.raises(ValueError, match="out_of_range"):
        Strict(n_components=4, n_iter=1).fit(X)
    with pytest.warns(UserWarning) as caught:
        BernoulliRBM(n_components=4, n_iter=1).fit(X)
    assert all("out_of_range" not in str(w.message) for w in caught)
