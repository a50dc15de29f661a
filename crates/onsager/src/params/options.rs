//! Training options by name: the one parser behind the command line's flags and the Python
//! estimators' parameters. A front end collects the options its user gave, as text, and hands
//! them to [`TrainConfig::with_options`]; errors name the option by its key here, which the
//! front end shows under its own spelling.

use super::TrainConfig;
use crate::{Error, Method, Result};

/// Every option key, in the order they are applied: the method first, then the general
/// options, then the method's own settings (so `chains` defaults to the final `batch_size`).
pub const OPTION_KEYS: [&str; 25] = [
    "method",
    "n_hidden",
    "learning_rate",
    "schedule",
    "batch_size",
    "epochs",
    "momentum",
    "decay",
    "init_std",
    "shuffle",
    "seed",
    "beta",
    "threads",
    "visible",
    "sigma",
    "k",
    "chains",
    "order",
    "iterations",
    "damping",
    "persistence",
    "tolerance",
    "solver",
    "reseed",
    "weighting",
];

fn parse<X: std::str::FromStr>(key: &'static str, v: &str, what: &'static str) -> Result<X> {
    v.trim().parse().map_err(|_| Error::InvalidParam {
        name: key,
        value: v.to_string(),
        reason: what,
    })
}

fn whole(key: &'static str, v: &str) -> Result<usize> {
    parse(key, v, "expected a whole number")
}

fn number(key: &'static str, v: &str) -> Result<f64> {
    parse(key, v, "expected a number")
}

fn flag(key: &'static str, v: &str) -> Result<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(Error::InvalidParam {
            name: key,
            value: v.to_string(),
            reason: "expected true or false",
        }),
    }
}

impl TrainConfig {
    /// Applies named options given as text, keys from [`OPTION_KEYS`]; the rest of the
    /// configuration stays as it is. A `method` option starts that method from its defaults
    /// (PCD with one chain per batch row); the settings `k`, `chains`, `order`, `iterations`,
    /// `damping`, `persistence`, `tolerance`, `solver`, `reseed` and `weighting` then apply to the method
    /// and only where they mean something. Values are checked by [`TrainConfig::build`].
    ///
    /// ```
    /// use onsager::{EmfOrder, Method, TrainConfig};
    /// let c = TrainConfig::default().with_options(&[("order", "3"), ("learning_rate", "0.01")]).unwrap();
    /// assert_eq!(c.method, Method::emf(EmfOrder::Third));
    /// let c = TrainConfig::default().with_options(&[("method", "pcd"), ("batch_size", "20")]).unwrap();
    /// assert_eq!(c.method, Method::pcd(1, 20));
    /// assert!(TrainConfig::default().with_options(&[("method", "cd"), ("order", "2")]).is_err());
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidParam`] for an unknown key (named `option`), a value that does not parse,
    /// or a method setting that does not apply to the method, named by its key.
    pub fn with_options<K: AsRef<str>, V: AsRef<str>>(
        mut self,
        options: &[(K, V)],
    ) -> Result<Self> {
        for (k, _) in options {
            if !OPTION_KEYS.contains(&k.as_ref()) {
                return Err(Error::InvalidParam {
                    name: "option",
                    value: k.as_ref().to_string(),
                    reason: "not a training option",
                });
            }
        }
        let mut method_set = false;
        for key in OPTION_KEYS {
            for (_, v) in options.iter().filter(|(k, _)| k.as_ref() == key) {
                let v = v.as_ref();
                if key == "method" {
                    method_set = true;
                }
                self.apply(key, v)?;
            }
            if key == "k" && method_set {
                // Every option but `chains` is in: a freshly chosen PCD gets one chain per row.
                if let Method::Pcd { chains, .. } = &mut self.method {
                    *chains = self.batch_size;
                }
            }
        }
        Ok(self)
    }

    /// The configuration as named options, the inverse of [`TrainConfig::with_options`]:
    /// every general option and the settings of the configured method, each as the text
    /// `with_options` reads back to the same value.
    ///
    /// ```
    /// use onsager::TrainConfig;
    /// let c = TrainConfig::default().learning_rate(0.0123);
    /// assert_eq!(TrainConfig::default().with_options(&c.to_options()).unwrap(), c);
    /// ```
    pub fn to_options(&self) -> Vec<(&'static str, String)> {
        let mut v: Vec<(&'static str, String)> = vec![
            ("method", self.method.name().into()),
            ("n_hidden", self.n_hidden.to_string()),
            ("learning_rate", self.learning_rate.to_string()),
            ("schedule", self.schedule.to_string()),
            ("batch_size", self.batch_size.to_string()),
            ("epochs", self.epochs.to_string()),
            ("momentum", self.momentum.to_string()),
            ("decay", self.decay.to_string()),
            ("init_std", self.init_std.to_string()),
            ("shuffle", self.shuffle.to_string()),
            ("seed", self.seed.to_string()),
            ("beta", self.beta.to_string()),
            ("threads", self.threads.to_string()),
            ("visible", self.visible.to_string()),
            ("sigma", self.sigma.to_string()),
        ];
        match self.method {
            Method::Cd { k } => v.push(("k", k.to_string())),
            Method::Pcd { k, chains } => {
                v.push(("k", k.to_string()));
                v.push(("chains", chains.to_string()));
            }
            Method::Emf {
                order,
                iterations,
                damping,
                persistence,
                tolerance,
                solver,
                reseed,
                weighting,
            } => {
                v.push(("order", order.to_string()));
                v.push(("iterations", iterations.to_string()));
                v.push(("damping", damping.to_string()));
                v.push(("persistence", persistence.to_string()));
                v.push(("tolerance", tolerance.to_string()));
                v.push(("solver", solver.to_string()));
                v.push(("reseed", reseed.to_string()));
                v.push(("weighting", weighting.to_string()));
            }
        }
        v
    }

    /// Applies one known option.
    fn apply(&mut self, key: &'static str, v: &str) -> Result<()> {
        let not_here = |reason: &'static str| Error::InvalidParam {
            name: key,
            value: v.to_string(),
            reason,
        };
        match key {
            "method" => self.method = v.parse()?,
            "n_hidden" => self.n_hidden = whole(key, v)?,
            "learning_rate" => self.learning_rate = number(key, v)?,
            "schedule" => self.schedule = v.parse()?,
            "batch_size" => self.batch_size = whole(key, v)?,
            "epochs" => self.epochs = whole(key, v)?,
            "momentum" => self.momentum = number(key, v)?,
            "decay" => self.decay = v.parse()?,
            "init_std" => self.init_std = number(key, v)?,
            "shuffle" => self.shuffle = flag(key, v)?,
            "seed" => self.seed = parse(key, v, "expected a whole number")?,
            "beta" => self.beta = number(key, v)?,
            "threads" => self.threads = whole(key, v)?,
            "visible" => self.visible = v.parse()?,
            "sigma" => self.sigma = v.parse()?,
            _ => match (&mut self.method, key) {
                (Method::Cd { k } | Method::Pcd { k, .. }, "k") => *k = whole(key, v)?,
                (Method::Pcd { chains, .. }, "chains") => *chains = whole(key, v)?,
                (Method::Emf { order, .. }, "order") => *order = v.parse()?,
                (Method::Emf { iterations, .. }, "iterations") => *iterations = whole(key, v)?,
                (Method::Emf { damping, .. }, "damping") => *damping = number(key, v)?,
                (Method::Emf { persistence, .. }, "persistence") => *persistence = v.parse()?,
                (Method::Emf { tolerance, .. }, "tolerance") => *tolerance = number(key, v)?,
                (Method::Emf { solver, .. }, "solver") => *solver = v.parse()?,
                (Method::Emf { reseed, .. }, "reseed") => *reseed = v.parse()?,
                (Method::Emf { weighting, .. }, "weighting") => *weighting = v.parse()?,
                (_, "k") => return Err(not_here("applies to cd and pcd only")),
                (_, "chains") => return Err(not_here("applies to pcd only")),
                _ => return Err(not_here("applies to emf only")),
            },
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::{
        Decay, EmfOrder, Method, Persistence, Reseed, Schedule, Solver, TrainConfig, Weighting,
    };

    #[test]
    fn every_option_reaches_its_field() {
        let c = TrainConfig::default()
            .with_options(&[
                ("n_hidden", "17"),
                ("learning_rate", "0.25"),
                ("schedule", "linear:0.001"),
                ("batch_size", "7"),
                ("epochs", "3"),
                ("momentum", "0.1"),
                ("decay", "l1:0.5"),
                ("init_std", "0.2"),
                ("shuffle", "false"),
                ("seed", "9"),
                ("beta", "2"),
                ("threads", "1"),
                ("iterations", "8"),
                ("damping", "0.3"),
                ("persistence", "from:4"),
                ("order", "1"),
                ("tolerance", "1e-5"),
                ("solver", "anderson:3"),
                ("reseed", "merged+0.2"),
                ("weighting", "free-energy"),
            ])
            .unwrap();
        assert_eq!(
            (c.n_hidden, c.batch_size, c.epochs, c.seed, c.threads),
            (17, 7, 3, 9, 1)
        );
        assert_eq!(
            (c.learning_rate, c.momentum, c.init_std, c.beta),
            (0.25, 0.1, 0.2, 2.0)
        );
        assert!(!c.shuffle);
        assert_eq!(c.schedule, Schedule::Linear { final_rate: 0.001 });
        assert_eq!(c.decay, Decay::L1 { lambda: 0.5 });
        assert_eq!(
            c.method,
            Method::Emf {
                order: EmfOrder::First,
                iterations: 8,
                damping: 0.3,
                persistence: Persistence::PersistentFrom { epoch: 4 },
                tolerance: 1e-5,
                solver: Solver::Anderson { depth: 3 },
                reseed: Reseed {
                    merged: true,
                    fraction: 0.2
                },
                weighting: Weighting::FreeEnergy,
            }
        );
    }

    #[test]
    fn options_round_trip_for_every_method() {
        for method in [
            Method::cd(3),
            Method::pcd(2, 17),
            Method::Emf {
                order: EmfOrder::Third,
                iterations: 9,
                damping: 0.3,
                persistence: Persistence::PersistentFrom { epoch: 4 },
                tolerance: 0.25e-3,
                solver: Solver::Damped,
                reseed: Reseed {
                    merged: false,
                    fraction: 0.3,
                },
                weighting: Weighting::FreeEnergy,
            },
        ] {
            let c = TrainConfig::default()
                .method(method)
                .learning_rate(0.1 + 0.2)
                .schedule(Schedule::Exponential { factor: 0.97 })
                .decay(Decay::L1 { lambda: 3e-5 })
                .shuffle(false)
                .seed(u64::MAX);
            let back = TrainConfig::default()
                .with_options(&c.to_options())
                .unwrap();
            assert_eq!(back, c, "{method}");
        }
    }

    #[test]
    fn method_settings_follow_the_method_and_refuse_others() {
        let c = TrainConfig::default()
            .with_options(&[("k", "3"), ("method", "pcd"), ("chains", "12")])
            .unwrap();
        assert_eq!(c.method, Method::pcd(3, 12));
        let err = |opts: &[(&str, &str)]| match TrainConfig::default().with_options(opts) {
            Err(crate::Error::InvalidParam { name, .. }) => name,
            other => panic!("{other:?}"),
        };
        assert_eq!(err(&[("k", "1")]), "k");
        assert_eq!(err(&[("method", "cd"), ("chains", "4")]), "chains");
        assert_eq!(err(&[("method", "pcd"), ("damping", "0.5")]), "damping");
        assert_eq!(err(&[("hidden", "4")]), "option");
        assert_eq!(err(&[("batch_size", "-1")]), "batch_size");
        assert_eq!(err(&[("shuffle", "maybe")]), "shuffle");
    }
}
