"""Where ridge regularisation fails: the study of docs/ridge.md, every table and picture of it.

    .venv/bin/python examples/ridge_study.py [--quick] [--out docs/ridge]

1. Synthetic double descent: isotropic Gaussian designs, p = 100, n from 10 to 1000, ridge at
   alpha = 1e-6 (no intercept): the measured estimation error, bias and variance next to the
   closed forms sigma^2 p/(n - p - 1) and ||w*||^2 (1 - n/p) + sigma^2 n/(p - n - 1).
2. Real data: scikit-learn's bundled breast_cancer (569 x 30). Ridge used as a classifier
   (targets -1/+1, sign of the prediction) at alpha = 1e-8 against logistic regression, as the
   training size n sweeps through p = 30, 20 random splits per n; then ridge with alpha chosen
   by GCV, leave-one-out and the L-curve at every n.
3. Hansen's claim: on a synthetic ill-posed problem (Shaw's, n = 64) with correlated noise, the
   relative error ||w - w(alpha)||/||w|| of the L-curve's choice against GCV's, over 200 noise
   draws.

Writes ridge-study.json and ridge-study.md (the tables) and, when matplotlib is installed,
double-descent.png, breast-cancer.png and hansen.png into --out. Every random draw comes from
a seeded NumPy generator per repetition, so a rerun gives the same figures. --quick runs a
subset in seconds (for the test suite); the full run takes a few minutes on two cores.
"""

import argparse
import json
import pathlib
import time
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from onsager_rbm import TikhonovRidgeCV, closed_form_error, shaw

P_SYNTH = 100
SIGMA = 0.5


def fit_coef(X, y, alpha, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the danger-zone warning is the point here
        return TikhonovRidgeCV(alphas=[alpha], fit_intercept=False, **kw).fit(X, y).coef_


def double_descent(ns, reps):
    rows = []
    w = np.ones(P_SYNTH) / np.sqrt(P_SYNTH)
    for n in ns:
        bias2, var, total = [], [], []
        for r in range(reps):
            rng = np.random.default_rng([1, n, r])
            X = rng.standard_normal((n, P_SYNTH))
            signal, noise = X @ w, SIGMA * rng.standard_normal(n)
            w_signal = fit_coef(X, signal, 1e-6)
            w_noise = fit_coef(X, noise, 1e-6)
            bias2.append(np.sum((w_signal - w) ** 2))
            var.append(np.sum(w_noise**2))
            total.append(np.sum((w_signal + w_noise - w) ** 2))
        cf = closed_form_error(n, P_SYNTH, SIGMA, 1.0)
        se = lambda v: float(np.std(v, ddof=1) / np.sqrt(len(v)))
        rows.append({
            "n": n, "bias2": float(np.mean(bias2)), "bias2_se": se(bias2),
            "variance": float(np.mean(var)), "variance_se": se(var),
            "total": float(np.mean(total)), "total_se": se(total),
            "closed_bias2": None if cf is None else cf[0],
            "closed_variance": None if cf is None else cf[1],
            "closed_total": None if cf is None else cf[0] + cf[1],
        })
    return rows


def breast_cancer(ns, reps):
    X_all, y_all = load_breast_cancer(return_X_y=True)
    t_all = np.where(y_all == 1, 1.0, -1.0)
    grid = np.logspace(-8, 4, 61)
    rows = []
    for n in ns:
        errs = {k: [] for k in ("ridge", "logistic", "gcv", "loo", "lcurve")}
        alphas = {k: [] for k in ("gcv", "loo", "lcurve")}
        for r in range(reps):
            rng = np.random.default_rng([2, n, r])
            order = rng.permutation(len(y_all))
            tr, te = order[:n], order[n:]
            if len(np.unique(y_all[tr])) < 2:
                continue
            sc = StandardScaler().fit(X_all[tr])
            Xtr, Xte = sc.transform(X_all[tr]), sc.transform(X_all[te])
            err = lambda pred: float(np.mean(np.sign(pred) != t_all[te]))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                m = TikhonovRidgeCV(alphas=[1e-8]).fit(Xtr, t_all[tr])
                errs["ridge"].append(err(m.predict(Xte)))
                lr = LogisticRegression(max_iter=5000).fit(Xtr, y_all[tr])
                errs["logistic"].append(float(np.mean(lr.predict(Xte) != y_all[te])))
                for sel in ("gcv", "loo", "lcurve"):
                    m = TikhonovRidgeCV(alphas=grid, selection=sel).fit(Xtr, t_all[tr])
                    errs[sel].append(err(m.predict(Xte)))
                    alphas[sel].append(m.alpha_)
        row = {"n": n, "splits": len(errs["ridge"])}
        for k, v in errs.items():
            row[f"{k}_error"] = float(np.mean(v))
            row[f"{k}_error_se"] = float(np.std(v, ddof=1) / np.sqrt(len(v)))
        for k, v in alphas.items():
            row[f"{k}_median_alpha"] = float(np.median(v))
        rows.append(row)
    return rows


def hansen(draws, n=64, rho=0.9, level=1e-3):
    """Relative errors of the L-curve's and GCV's choices with AR(1)-correlated noise
    (correlation rho between neighbours), noise norm `level` times the data's."""
    A, x = shaw(n)
    clean = A @ x
    grid = np.logspace(-14, 2, 81)
    out = {"lcurve": [], "gcv": []}
    for r in range(draws):
        rng = np.random.default_rng([3, r])
        e = rng.standard_normal(n)
        for i in range(1, n):
            e[i] = rho * e[i - 1] + np.sqrt(1 - rho**2) * e[i]
        b = clean + e * level * np.linalg.norm(clean) / np.linalg.norm(e)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for sel in out:
                m = TikhonovRidgeCV(alphas=grid, selection=sel, fit_intercept=False).fit(A, b)
                out[sel].append(float(np.linalg.norm(m.coef_ - x) / np.linalg.norm(x)))
    return out


def table_double(rows):
    lines = ["| n | error (measured) | closed form | bias² | closed | variance | closed |",
             "|---|---|---|---|---|---|---|"]
    f = lambda v: "∞ (pole)" if v is None else f"{v:.4g}"
    for r in rows:
        lines.append(
            f"| {r['n']} | {r['total']:.4g} ± {r['total_se']:.2g} | {f(r['closed_total'])} | "
            f"{r['bias2']:.4g} | {f(r['closed_bias2'])} | {r['variance']:.4g} ± "
            f"{r['variance_se']:.2g} | {f(r['closed_variance'])} |"
        )
    return "\n".join(lines)


def table_cancer(rows):
    lines = ["| n | ridge α=1e-8 | logistic | ridge, GCV | ridge, LOO | ridge, L-curve | median α (GCV / LOO / L) |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        e = lambda k: f"{100 * r[k + '_error']:.1f} ± {100 * r[k + '_error_se']:.1f}"
        lines.append(
            f"| {r['n']} | {e('ridge')} | {e('logistic')} | {e('gcv')} | {e('loo')} | "
            f"{e('lcurve')} | {r['gcv_median_alpha']:.2g} / {r['loo_median_alpha']:.2g} / "
            f"{r['lcurve_median_alpha']:.2g} |"
        )
    return "\n".join(lines)


def pictures(out, dd, bc, hs):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no pictures (pip install matplotlib)")
        return
    fig, ax = plt.subplots(figsize=(8, 5))
    n = [r["n"] for r in dd]
    ax.errorbar(n, [r["total"] for r in dd], yerr=[3 * r["total_se"] for r in dd], fmt="o",
                label="measured error ±3 s.e.", color="C0")
    for key, style, label in [("closed_total", "-", "closed form"),
                              ("closed_bias2", "--", "closed form, bias²"),
                              ("closed_variance", ":", "closed form, variance")]:
        xs = [r["n"] for r in dd if r[key] is not None]
        ys = [r[key] for r in dd if r[key] is not None]
        for part in (lambda v: v < P_SYNTH, lambda v: v > P_SYNTH):
            sel = [(a, b) for a, b in zip(xs, ys) if part(a)]
            if sel:
                ax.plot(*zip(*sel), style, color="C3", label=label if part(1) else None)
    ax.axvline(P_SYNTH, color="grey", lw=0.8)
    ax.set(xscale="log", yscale="log", xlabel="training samples n (p = 100)",
           ylabel="E‖ŵ − w*‖²", title="Ridge at α = 1e-6: the peak at n = p")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "double-descent.png", dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(8, 5))
    n = [r["n"] for r in bc]
    for k, label, style in [("ridge", "ridge, α = 1e-8", "o-"), ("logistic", "logistic regression", "s-"),
                            ("gcv", "ridge, GCV", "^--"), ("loo", "ridge, LOO", "v--"),
                            ("lcurve", "ridge, L-curve", "d:")]:
        ax.errorbar(n, [100 * r[k + "_error"] for r in bc],
                    yerr=[100 * r[k + "_error_se"] for r in bc], fmt=style, label=label,
                    capsize=2, ms=4)
    ax.axvline(31, color="grey", lw=0.8)
    ax.set(xscale="log", xlabel="training samples n (p = 30 features + intercept)",
           ylabel="test error (%)", title="breast_cancer: the ridge classifier's peak at n ≈ p + 1")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "breast-cancer.png", dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(8, 5))
    bins = np.logspace(np.log10(min(min(hs["lcurve"]), min(hs["gcv"]))),
                       np.log10(max(max(hs["lcurve"]), max(hs["gcv"]))), 30)
    ax.hist(hs["gcv"], bins=bins, alpha=0.6, label="GCV")
    ax.hist(hs["lcurve"], bins=bins, alpha=0.6, label="L-curve")
    ax.set(xscale="log", xlabel="relative error ‖x − x(α)‖/‖x‖",
           ylabel="noise draws", title="Shaw (n = 64), correlated noise: the choice's error")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "hansen.png", dpi=110)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a subset, in seconds")
    ap.add_argument("--out", default="docs/ridge", help="output folder")
    a = ap.parse_args()
    out = pathlib.Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.time()
    if a.quick:
        dd_ns, dd_reps = [20, 50, 150, 400], 10
        bc_ns, bc_reps = [20, 31, 80], 4
        draws = 10
    else:
        dd_ns = [10, 20, 40, 60, 80, 90, 95, 98, 102, 105, 110, 120, 150, 200, 300, 500, 1000]
        dd_reps = 200
        bc_ns = [10, 15, 20, 25, 28, 31, 34, 40, 50, 70, 100, 150, 250, 400]
        bc_reps = 20
        draws = 200
    dd = double_descent(dd_ns, dd_reps)
    bc = breast_cancer(bc_ns, bc_reps)
    hs = hansen(draws)
    result = {
        "quick": a.quick, "seconds": time.time() - start,
        "double_descent": {"p": P_SYNTH, "sigma": SIGMA, "w_norm": 1.0, "alpha": 1e-6,
                           "repetitions": dd_reps, "rows": dd},
        "breast_cancer": {"splits": bc_reps, "rows": bc},
        "hansen": {"draws": draws, "rho": 0.9, "noise": 1e-3,
                   "median_relative_error": {k: float(np.median(v)) for k, v in hs.items()},
                   "quartiles": {k: [float(q) for q in np.percentile(v, [25, 75])] for k, v in hs.items()},
                   "worst": {k: float(np.max(v)) for k, v in hs.items()},
                   "errors": hs},
    }
    (out / "ridge-study.json").write_text(json.dumps(result, indent=1) + "\n")
    h = result["hansen"]
    md = ["## Double descent (p = 100, σ = 0.5, ‖w*‖ = 1, α = 1e-6, "
          f"{dd_reps} designs per n)", "", table_double(dd), "",
          f"## breast_cancer test error in % ({bc_reps} splits per n, mean ± s.e.)", "",
          table_cancer(bc), "",
          f"## Shaw with correlated noise ({draws} draws): relative error of the choice", "",
          "| selection | median | quartiles | worst |", "|---|---|---|---|"]
    for k in ("lcurve", "gcv"):
        md.append(f"| {k} | {h['median_relative_error'][k]:.3g} | "
                  f"{h['quartiles'][k][0]:.3g}–{h['quartiles'][k][1]:.3g} | {h['worst'][k]:.3g} |")
    (out / "ridge-study.md").write_text("\n".join(md) + "\n")
    pictures(out, dd, bc, hs)
    print("\n".join(md))
    print(f"\nwrote {out}/ridge-study.json, ridge-study.md in {time.time() - start:.1f} s")


if __name__ == "__main__":
    main()
