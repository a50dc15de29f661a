"""The mapping between the Python estimators' parameters and the Rust core's named training
options (the keys of ``TrainConfig::with_options``): each estimator's ``_options`` builds the
list, and :func:`params_of_options` reads a stored configuration back as parameters."""

from ._base import _text


def emf_options(est, seed):
    """An :class:`EMFRBM`'s training run as the core's named options, (key, value) pairs
    (the core reads ``str(value)``; see its ``TrainConfig::with_options``). Only the
    settings of the chosen method are sent."""
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
    ]
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
