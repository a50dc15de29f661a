//! The `onsager` command line: train RBMs by CD, PCD or EMF, evaluate them, extract features,
//! sample, and draw what they learned. One module per subcommand (`train/`, `eval`,
//! `transform`, `sample`, `show`, `info`, `bench/`, `experiment/`, `ridge`); pictures in `draw/`; the
//! options several commands share in `args`.

/// Calls `$f::<T>(args)` with `T` the dtype of the model file at `$path`.
macro_rules! with_dtype {
    ($path:expr, $f:ident($($arg:expr),*)) => {
        match model::file_dtype($path)? {
            "float64" => $f::<f64>($($arg),*),
            _ => $f::<f32>($($arg),*),
        }
    };
}

mod args;
mod bench;
mod classify;
mod distortions;
mod draw;
mod eval;
mod experiment;
mod info;
mod interrupt;
mod ridge;
mod sample;
mod show;
mod train;
mod transform;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

/// Restricted Boltzmann Machines trained by CD-k, PCD-k or the extended mean-field (TAP)
/// free energy.
#[derive(Parser)]
#[command(name = "onsager", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train a model: data in, model file out.
    Train(Box<train::TrainArgs>),
    /// Log-likelihood (exact, AIS or EMF), pseudo-likelihood and reconstruction error of data.
    Eval(eval::EvalArgs),
    /// Hidden-unit probabilities P(h|v) of data, written as .npy.
    Transform(transform::TransformArgs),
    /// Samples from Gibbs chains or EMF fixed points, as .npy and a PNG grid.
    Sample(sample::SampleArgs),
    /// PNG pictures: filters, samples, training curves.
    Show(show::ShowArgs),
    /// What a model file holds.
    Info(info::InfoArgs),
    /// Time the standard performance case (docs/performance.md).
    Bench(bench::BenchArgs),
    /// Reproducible experiments with a results folder (docs/results.md).
    Experiment(experiment::ExperimentArgs),
    /// Supervised networks: train one (optionally from a pretrained RBM stack, on distorted
    /// images) or score a saved one (docs/maths.md §9–10).
    Classify(classify::ClassifyArgs),
    /// Ridge regression of one column on the others: α by GCV, leave-one-out or the L-curve,
    /// the danger-zone warning, the L-curve and Picard plots (docs/ridge.md).
    Ridge(ridge::RidgeArgs),
}

fn main() -> ExitCode {
    // Die quietly on a closed pipe (`onsager info m | head`), as Unix tools do, instead of
    // panicking in `println!`.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE at start-up, before any thread
    // exists, has no preconditions.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let command = Cli::command().mut_subcommand("train", train::with_defaults_in_help);
    let cli = Cli::from_arg_matches(&command.get_matches()).unwrap_or_else(|e| e.exit());
    let result = match cli.command {
        Command::Train(a) => train::run(*a),
        Command::Eval(a) => eval::eval(a).map(|_| ExitCode::SUCCESS),
        Command::Transform(a) => transform::transform(a).map(|_| ExitCode::SUCCESS),
        Command::Sample(a) => sample::sample(a).map(|_| ExitCode::SUCCESS),
        Command::Show(a) => show::show(a).map(|_| ExitCode::SUCCESS),
        Command::Info(a) => info::info(a).map(|_| ExitCode::SUCCESS),
        Command::Bench(a) => bench::run(a).map(|_| ExitCode::SUCCESS),
        Command::Experiment(a) => experiment::run(a).map(|_| ExitCode::SUCCESS),
        Command::Ridge(a) => ridge::ridge(a).map(|_| ExitCode::SUCCESS),
        Command::Classify(a) => classify::run(a).map(|_| ExitCode::SUCCESS),
    };
    match result {
        Ok(code) => code,
        Err(e) if interrupt::is_interrupt(&e) => {
            eprintln!("interrupted: {e:#}");
            ExitCode::from(130)
        }
        Err(e) => {
            eprintln!("error: {e:#}"); // the error and its causes, one line
            ExitCode::FAILURE
        }
    }
}
