"""Shared data for the onsager_rbm tests: small, offline, deterministic."""

import os
import pathlib
import shutil

import numpy as np
import pytest
from sklearn.datasets import load_digits

REPO = pathlib.Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def digits():
    """scikit-learn's 8×8 digits scaled to [0, 1] (1797 × 64) and their labels."""
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


@pytest.fixture(scope="session")
def bits(digits):
    """The digits thresholded at 0.5, as float64 bits."""
    return (digits[0] > 0.5).astype(np.float64)


@pytest.fixture(scope="session")
def tiny():
    """400 rows of a 10-unit pattern distribution (two noisy prototypes), small enough for
    exact likelihoods."""
    rng = np.random.RandomState(0)
    protos = np.array([[1, 1, 1, 1, 1, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]], float)
    X = protos[rng.randint(0, 2, 400)]
    flip = rng.rand(*X.shape) < 0.05
    return np.where(flip, 1 - X, X)


@pytest.fixture(scope="session")
def onsager_bin():
    """The `onsager` command line built by the workspace (scripts/test builds it first)."""
    candidates = [os.environ.get("ONSAGER_BIN")]
    candidates += [str(REPO / "target" / p / "onsager") for p in ("release", "debug")]
    candidates.append(shutil.which("onsager"))
    for c in candidates:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    pytest.fail(
        "the `onsager` binary was not found: build it with "
        "`cargo build --release -p onsager-cli` or set ONSAGER_BIN"
    )
