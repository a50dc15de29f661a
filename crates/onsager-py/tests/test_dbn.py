"""``DBNClassifier``: learns scikit-learn's digits from a random start and from an RBM stack,
repeats with its seed, continues by partial_fit, keeps the best validation epoch, pickles and
clones, works in a Pipeline, and refuses settings that cannot work."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from onsager_rbm import DBNClassifier


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16.0, y, random_state=0)


def test_learns_digits_from_random_and_pretrained_starts(digits):
    Xtr, Xte, ytr, yte = digits
    plain = DBNClassifier(random_state=0).fit(Xtr, ytr)
    stacked = DBNClassifier(pretrain="cd", hidden_layer_sizes=(100,), random_state=0).fit(Xtr, ytr)
    assert plain.score(Xte, yte) > 0.93 and stacked.score(Xte, yte) > 0.93
    assert [c.shape for c in stacked.coefs_] == [(64, 100), (100, 10)]
    assert plain.n_iter_ == 20 and len(plain.loss_curve_) == 20
    assert plain.loss_curve_[-1] < plain.loss_curve_[0]
    # The same seed gives the same network, bit for bit.
    again = DBNClassifier(random_state=0).fit(Xtr, ytr)
    for a, b in zip(plain.coefs_, again.coefs_):
        np.testing.assert_array_equal(a, b)
    proba = plain.predict_proba(Xte)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(plain.predict(Xte), plain.classes_[proba.argmax(1)])


def test_partial_fit_validation_pickle_clone_and_pipeline(digits):
    Xtr, Xte, ytr, yte = digits
    m = DBNClassifier(random_state=1)
    for _ in range(4):
        m.partial_fit(Xtr, ytr, classes=np.arange(10))
    assert m.n_iter_ == 4 and m.score(Xte, yte) > 0.85
    v = DBNClassifier(activation="relu", validation_fraction=0.2, random_state=0).fit(Xtr, ytr)
    assert len(v.validation_scores_) == 20
    assert v.validation_scores_[v.best_epoch_ - 1] == max(v.validation_scores_)
    back = pickle.loads(pickle.dumps(v))
    np.testing.assert_array_equal(back.predict_proba(Xte), v.predict_proba(Xte))
    c = clone(v)
    assert c.get_params() == v.get_params() and not hasattr(c, "coefs_")
    pipe = make_pipeline(MinMaxScaler(), DBNClassifier(pretrain="pcd", random_state=0))
    assert pipe.fit(Xtr * 16, ytr).score(Xte * 16, yte) > 0.9
    # String labels come back as themselves.
    names = np.array(["zero", "one"])[(ytr % 2)]
    s = DBNClassifier(n_epochs=5, random_state=0).fit(Xtr, names)
    assert set(s.predict(Xte)) <= {"zero", "one"}


def test_settings_that_cannot_work_are_refused(digits):
    Xtr, _, ytr, _ = digits
    with pytest.raises(ValueError, match="logistic"):
        DBNClassifier(pretrain="cd", activation="relu").fit(Xtr, ytr)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        DBNClassifier(pretrain="cd").fit(Xtr * 16, ytr)
    with pytest.raises(ValueError, match="method"):
        DBNClassifier(pretrain="gibbs").fit(Xtr, ytr)
    with pytest.raises(ValueError, match="two classes"):
        DBNClassifier().fit(Xtr, np.zeros(len(ytr)))
    with pytest.raises(ValueError, match="classes="):
        DBNClassifier().partial_fit(Xtr, ytr)
    with pytest.raises(ValueError, match="validation_fraction"):
        DBNClassifier(validation_fraction=0.0001).fit(Xtr, ytr)
