//! `onsager eval`: log-likelihood by the chosen estimators (through the library's one entry
//! point, `onsager::Estimator`), pseudo-likelihood and reconstruction error of data.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::{Args, ValueEnum};
use onsager::data::Split;
use onsager::estimate::emf::EmfEstimator;
use onsager::estimate::pseudo;
use onsager::io::model::{self, ModelFile};
use onsager::{EmfOrder, Estimator, Float, LogLikelihood, Rbm};
use serde_json::json;

use crate::args::{AisArgs, DataArgs, Input};

/// `--estimator` choices.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum EstimatorArg {
    /// Exact when enumerating the smaller layer costs no more than the AIS run would, else AIS.
    Auto,
    /// Enumeration of the smaller layer (at most 30 units).
    Exact,
    /// Annealed importance sampling, with ±3σ bounds.
    Ais,
    /// The extended mean-field estimate −Γ(m*) at `--order`.
    Emf,
}

/// `onsager eval` options.
#[derive(Args, Debug)]
pub struct EvalArgs {
    /// Model file.
    pub model: PathBuf,
    /// Data (default: the test split of the bundled sample or of `--dataset`).
    #[command(flatten)]
    pub data: DataArgs,
    /// Log-likelihood estimators (repeat or separate by commas).
    #[arg(long, value_enum, value_delimiter = ',', default_value = "auto")]
    pub estimator: Vec<EstimatorArg>,
    /// EMF order of `--estimator emf`.
    #[arg(long, default_value = "2")]
    pub order: EmfOrder,
    #[command(flatten)]
    pub ais: AisArgs,
    /// Seed (AIS runs, pseudo-likelihood flips, stochastic binarisation).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

impl EvalArgs {
    /// The library estimator `arg` names, for `rbm` (AIS from the evaluated rows' base rate).
    fn estimator<T: Float>(&self, arg: EstimatorArg, rbm: &Rbm<T>) -> Result<Estimator> {
        let ais = self.ais.ais(self.seed)?;
        Ok(match arg {
            EstimatorArg::Auto => Estimator::auto(rbm, ais),
            EstimatorArg::Exact => Estimator::Exact,
            EstimatorArg::Ais => Estimator::Ais { ais, base: None },
            EstimatorArg::Emf => Estimator::Emf(EmfEstimator {
                order: self.order,
                ..Default::default()
            }),
        })
    }
}

/// One table line for an estimate (`eval`, and `train --ais`); AIS shows its ±3σ bounds.
pub(crate) fn line(est: &Estimator, ll: &LogLikelihood, word: &str) -> String {
    let name = match est {
        Estimator::Exact => "exact".to_string(),
        _ => est.name().to_uppercase(),
    };
    let label = format!("{word} ({name})");
    let mut s = format!("{label:28}{:10.3} nats/row", ll.mean);
    match (est, ll.lower, ll.upper) {
        (Estimator::Ais { ais, .. }, _, _) if ais.runs < 2 => {
            s += "   (one AIS run gives no interval)";
        }
        (Estimator::Ais { .. }, Some(lo), Some(hi)) => s += &format!("   [{lo:.3}, {hi:.3}] (±3σ)"),
        _ => {}
    }
    s += &format!("   log Z {:.3}", ll.log_z);
    match est {
        _ if ll.converged => {}
        Estimator::Ais { .. } => {
            s += "  (unreliable: the runs' weights spread too widely; use more temperatures)"
        }
        _ => s += "  (fixed point not converged)",
    }
    s
}

/// Runs `onsager eval`.
pub fn eval(a: EvalArgs) -> Result<()> {
    crate::interrupt::flag(); // Ctrl-C from here on stops the estimate, not the process
    with_dtype!(&a.model, eval_typed(&a))
}

fn eval_typed<T: Float>(a: &EvalArgs) -> Result<()> {
    let file: ModelFile<T> = model::load(&a.model)?;
    let rbm = &file.rbm;
    let data = a.data.load::<T>(
        Split::Test,
        a.seed,
        rbm.visible_units(),
        Input::Model(file.input.as_ref()),
    )?;
    // Log-densities are of the standardised rows; the raw rows' differ by the Jacobian.
    let jacobian = file.input.as_ref().map(|m| m.log_jacobian());
    let x = data.x.view();
    if x.ncols() != rbm.n_visible() {
        bail!(
            "the model has {} visible units but {} has {} columns",
            rbm.n_visible(),
            data.name,
            x.ncols()
        );
    }
    let mut estimates = serde_json::Map::new();
    let mut lines = Vec::new();
    for &arg in &a.estimator {
        let est = a.estimator(arg, rbm)?;
        let ll =
            est.log_likelihood_with(rbm, x, &mut crate::interrupt::progress(&est.name(), false))?;
        lines.push(line(&est, &ll, rbm.visible_units().log_likelihood_word()));
        let mut entry = json!({"estimate": ll.mean, "log_z": ll.log_z, "converged": ll.converged});
        if let Estimator::Ais { ais, .. } = &est {
            entry["lower"] = json!(ll.lower);
            entry["upper"] = json!(ll.upper.filter(|u| u.is_finite()));
            entry["runs"] = json!(ais.runs);
            entry["temperatures"] = json!(ais.schedule.betas()?.len() - 1);
        }
        if let Some(r) = ll.residual {
            entry["residual"] = json!(r);
        }
        estimates.insert(est.name().replace('-', ""), entry);
    }
    // The pseudo-likelihood flips binary units: real-valued models have none.
    let pl = if rbm.visible_units().is_real() {
        None
    } else {
        Some(
            pseudo::pseudo_log_likelihood(rbm, x, a.seed)?
                .mean()
                .expect("rows"),
        )
    };
    let recon = pseudo::reconstruction_error(rbm, x)?;
    if a.json {
        let out = json!({
            "model": a.model, "data": data.name, "rows": x.nrows(), "scaling": data.scaling.to_string(),
            "visible_units": rbm.visible_units().to_string(),
            "log_likelihood": estimates, "pseudo_likelihood": pl, "reconstruction_error": recon,
            "standardized_log_jacobian": jacobian,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!(
            "data                        {} ({} rows x {}; {})",
            data.name,
            x.nrows(),
            x.ncols(),
            data.scaling
        );
        println!(
            "model                       {} ({} x {}, {}, {} visible units)",
            a.model.display(),
            rbm.n_visible(),
            rbm.n_hidden(),
            T::DTYPE,
            rbm.visible_units()
        );
        for l in lines {
            println!("{l}");
        }
        if let Some(j) = jacobian {
            println!(
                "raw units                   {j:10.3} nats/row to add: the log-densities above are of the standardised rows (−Σ ln sⱼ)"
            );
        }
        match pl {
            Some(pl) => println!("pseudo-likelihood           {pl:10.3} nats/row"),
            None => println!(
                "pseudo-likelihood                –   ({} units have none)",
                rbm.visible_units()
            ),
        }
        println!("reconstruction error        {recon:10.5} per unit");
    }
    Ok(())
}
