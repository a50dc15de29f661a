"""scikit-learn's RBM example, run with scikit-learn's BernoulliRBM and with onsager_rbm.

The set-up follows scikit-learn's "Restricted Boltzmann Machine features for digit
classification": the 8×8 digits, each image also shifted by one pixel in the four directions
(5 × 1797 images), scaled to [0, 1], an 80/20 split, then RBM features (100 hidden units,
learning rate 0.06, 10 epochs, batch 10) fed to a logistic regression (newton-cg, C = 6000),
against the logistic regression on raw pixels (C = 100). One change: scikit-learn's example
sets ``tol=1``, with which scikit-learn 1.9's newton-cg stops before its first step (every
model then scores 0.097, chance); this uses the default tolerance. Fit times are the RBM's
``fit`` alone.

Every RBM gets the same hyperparameters. Run from the repository root after
``pip install ./crates/onsager-py`` (or ``scripts/test``, which builds it into .venv):

    .venv/bin/python examples/sklearn_rbm_digits.py
"""

import time

import numpy as np
from scipy.ndimage import shift
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import BernoulliRBM as SklearnRBM
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import minmax_scale

import onsager_rbm


def nudged_digits():
    """The digits plus each image moved one pixel up, down, left and right."""
    X, y = load_digits(return_X_y=True)
    images = X.reshape(-1, 8, 8)
    moved = [images] + [
        np.stack([shift(img, offset, mode="constant", cval=0) for img in images])
        for offset in ((-1, 0), (1, 0), (0, -1), (0, 1))
    ]
    X = np.concatenate(moved).reshape(-1, 64)
    y = np.concatenate([y] * 5)
    return minmax_scale(X, feature_range=(0, 1)), y


def main():
    X, y = nudged_digits()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)
    shared = dict(n_components=100, learning_rate=0.06, n_iter=10, batch_size=10, random_state=0)
    logistic = LogisticRegression(solver="newton-cg", C=6000)
    rbms = {
        "scikit-learn BernoulliRBM (PCD-1)": SklearnRBM(**shared),
        "onsager_rbm.BernoulliRBM (PCD-1)": onsager_rbm.BernoulliRBM(**shared),
        "onsager_rbm.EMFRBM (EMF-2, defaults)": onsager_rbm.EMFRBM(**shared, metrics=()),
        "onsager_rbm.EMFRBM (EMF-3, data-initialised)": onsager_rbm.EMFRBM(
            **shared, order=3, persistence="data", metrics=()
        ),
        "onsager_rbm.EMFRBM (CD-1)": onsager_rbm.EMFRBM(**shared, method="cd", metrics=()),
    }
    rows = []
    for name, rbm in rbms.items():
        pipe = Pipeline([("rbm", rbm), ("logistic", clone(logistic))])
        start = time.perf_counter()
        pipe.named_steps["rbm"].fit(X_train)
        fit_seconds = time.perf_counter() - start
        pipe.fit(X_train, y_train)  # refits both steps, as scikit-learn's example does
        rows.append((name, pipe.score(X_test, y_test), fit_seconds))
    raw = LogisticRegression(solver="newton-cg", C=100).fit(X_train, y_train)
    rows.append(("logistic regression on raw pixels", raw.score(X_test, y_test), float("nan")))

    print(f"nudged digits: {len(X_train)} training and {len(X_test)} test images")
    print()
    print("| features | test accuracy | RBM fit time (s) |")
    print("|---|---:|---:|")
    for name, accuracy, seconds in rows:
        shown = "-" if np.isnan(seconds) else f"{seconds:.2f}"
        print(f"| {name} | {accuracy:.4f} | {shown} |")


if __name__ == "__main__":
    main()
