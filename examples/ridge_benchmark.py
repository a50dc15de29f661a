"""The ridge path over 100 penalties, onsager's TikhonovRidgeCV against scikit-learn's RidgeCV,
side by side in one run (docs/ridge.md, "Speed").

    .venv/bin/python examples/ridge_benchmark.py [--repeat 3]

Two shapes: n = 4601, p = 57 (Spambase's) and n = p = 2000. Both estimators search the same
100 values of alpha by exact leave-one-out error (RidgeCV's default criterion) and must choose
the same alpha; each time is the fastest of --repeat runs. onsager computes GCV, the L-curve
and the Picard plot in the same call.
"""

import argparse
import os
import platform
import time

import numpy as np
import sklearn
from sklearn.linear_model import RidgeCV

from onsager_rbm import TikhonovRidgeCV


def best(f, repeat):
    t = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        out = f()
        t = min(t, time.perf_counter() - start)
    return t, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"scikit-learn {sklearn.__version__}, NumPy {np.__version__}")
    print("| n × p | TikhonovRidgeCV (s) | RidgeCV (s) | same α |")
    print("|---|---|---|---|")
    for n, p in [(4601, 57), (2000, 2000)]:
        rng = np.random.default_rng([n, p])
        X = rng.standard_normal((n, p))
        y = X @ rng.standard_normal(p) + rng.standard_normal(n)
        grid = np.logspace(-4, 4, 100)
        t_ours, ours = best(lambda: TikhonovRidgeCV(alphas=grid, selection="loo").fit(X, y),
                            a.repeat)
        t_ref, ref = best(lambda: RidgeCV(alphas=grid).fit(X, y), a.repeat)
        print(f"| {n} × {p} | {t_ours:.3f} | {t_ref:.3f} | {ours.alpha_ == ref.alpha_} |")


if __name__ == "__main__":
    main()
