"""The mapping between the Python estimators' parameters and the Rust core's named training
options (the keys of ``TrainConfig::with_options``): each estimator's ``_options`` builds the
list, and :func:`params_of_options` reads a stored configuration back as parameters."""

import inspect

from ._base import _text

# Parameters that belong to some methods, schedules or decay kinds only: a value other than the
# default given where it does not apply is refused (it would otherwise be silently ignored).
_ONLY_FOR = {
    "order": ("method", ("emf",)),
    "iterations": ("method", ("emf",)),
    "damping": ("method", ("emf",)),
    "tolerance": ("method", ("emf",)),
    "solver": ("method", ("emf",)),
    "reseed": ("method", ("emf",)),
    "weighting": ("method", ("emf",)),
    "persistence": ("method", ("emf",)),
    "k": ("method", ("cd", "pcd")),
    "n_chains": ("method", ("pcd",)),
    "final_learning_rate": ("learning_rate_schedule", ("linear",)),
    "learning_rate_decay": ("learning_rate_schedule", ("exponential",)),
    "weight_decay": ("decay_kind", ("l2", "l1")),
}


def sigma_text(sigma):
    """The core's text of a ``sigma`` parameter: a number fixes σ, a string passes as it is
    ('learned', 'learned:INIT', 'learned:INIT:FLOOR', 'fixed:S')."""
    if isinstance(sigma, str):
        return sigma
    return f"fixed:{_text(float(sigma))}"


def _refuse_sigma(est):
    """``sigma`` set away from its default for binary visible units, where there is no σ."""
    if getattr(est, "visible", "bernoulli") == "bernoulli":
        default = inspect.signature(type(est).__init__).parameters["sigma"].default
        if not _same(est.sigma, default):
            raise ValueError(
                f"sigma={est.sigma!r} applies to real-valued visible units only "
                "(visible='gaussian' or 'truncated_gaussian'), not visible='bernoulli'; "
                f"leave it at its default ({default!r}) or change visible"
            )


def refuse_unused(est):
    """Raises ValueError for a parameter set away from its default where it has no effect
    (``order`` with ``method='cd'``, ``k`` with ``'emf'``, ``final_learning_rate`` without the
    linear schedule, ...), naming the parameter and where it applies."""
    signature = inspect.signature(type(est).__init__).parameters
    for name, (selector, applies) in _ONLY_FOR.items():
        default = signature[name].default
        value, chosen = getattr(est, name), getattr(est, selector)
        if chosen not in applies and not _same(value, default):
            where = " or ".join(f"{selector}={a!r}" for a in applies)
            raise ValueError(
                f"{name}={value!r} applies to {where} only, not {selector}={chosen!r}; "
                f"leave it at its default ({default!r}) or change {selector}"
            )


def _same(a, b):
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return a is b


def emf_options(est, seed):
    """An :class:`EMFRBM`'s training run as the core's named options, (key, value) pairs
    (the core reads ``str(value)``; see its ``TrainConfig::with_options``). Only the
    settings of the chosen method are sent; a setting given where it does not apply is
    refused."""
    refuse_unused(est)
    _refuse_sigma(est)
    schedule = {
        "constant": "constant",
        "linear": f"linear:{_text(est.final_learning_rate)}",
        "exponential": f"exp:{_text(est.learning_rate_decay)}",
    }[est.learning_rate_schedule]
    decay = "none" if est.decay_kind == "none" else f"{est.decay_kind}:{_text(est.weight_decay)}"
    options = [
        ("method", est.method),
        ("n_hidden", est.n_components),
        ("learning_rate", est.learning_rate),
        ("schedule", schedule),
        ("batch_size", est.batch_size),
        ("epochs", est.n_iter),
        ("momentum", est.momentum),
        ("decay", decay),
        ("init_std", est.init_std),
        ("shuffle", est.shuffle),
        ("seed", seed),
        ("threads", 0 if est.n_threads is None else est.n_threads),
        ("visible", est.visible),
    ]
    if est.visible != "bernoulli":
        options.append(("sigma", sigma_text(est.sigma)))
    if est.method in ("cd", "pcd"):
        options.append(("k", est.k))
    if est.method == "pcd" and est.n_chains is not None:
        options.append(("chains", est.n_chains))
    if est.method == "emf":
        options += [
            ("order", est.order),
            ("iterations", est.iterations),
            ("damping", est.damping),
            ("persistence", est.persistence),
            ("tolerance", est.tolerance),
            ("solver", est.solver),
            ("reseed", est.reseed),
            ("weighting", est.weighting),
        ]
    return options


def params_of_options(options):
    """The estimator parameters of a stored training configuration (the core's named
    options, as ``_options`` writes them), for models trained by the command line."""
    o = dict(options)
    p = {
        "n_components": int(o["n_hidden"]),
        "method": o["method"],
        "learning_rate": float(o["learning_rate"]),
        "batch_size": int(o["batch_size"]),
        "n_iter": int(o["epochs"]),
        "momentum": float(o["momentum"]),
        "init_std": float(o["init_std"]),
        "shuffle": o["shuffle"] == "true",
        "random_state": int(o["seed"]),
    }
    kind, _, value = o["schedule"].partition(":")
    if kind == "linear":
        p.update(learning_rate_schedule="linear", final_learning_rate=float(value))
    elif kind == "exp":
        p.update(learning_rate_schedule="exponential", learning_rate_decay=float(value))
    kind, _, value = o["decay"].partition(":")
    p["decay_kind"] = kind
    if value:
        p["weight_decay"] = float(value)
    p["visible"] = o.get("visible", "bernoulli")
    if p["visible"] != "bernoulli" and "sigma" in o:
        kind, _, value = o["sigma"].partition(":")
        p["sigma"] = float(value or 1.0) if kind == "fixed" else o["sigma"]
    if "k" in o:
        p["k"] = int(o["k"])
    if "chains" in o:
        p["n_chains"] = int(o["chains"])
    if "order" in o:
        persistence = o["persistence"]
        p.update(
            order=int(o["order"]),
            iterations=int(o["iterations"]),
            damping=float(o["damping"]),
            persistence=int(persistence[5:]) if persistence.startswith("from:") else persistence,
        )
        # Files written before these settings existed ran the reference algorithm.
        p.update(
            tolerance=float(o.get("tolerance", 0.0)),
            solver=o.get("solver", "damped"),
            reseed=o.get("reseed", "none"),
            weighting=o.get("weighting", "uniform"),
        )
    return p
