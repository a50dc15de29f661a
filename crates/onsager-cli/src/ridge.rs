//! `onsager ridge`: Tikhonov ridge regression of one column of a data file on the others, with
//! α chosen by GCV, leave-one-out or the L-curve, the danger-zone warning, and pictures of the
//! L-curve, the selection curves and the Picard plot (docs/maths.md §8, the
//! `onsager-ridge` crate).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;
use ndarray::{Array2, Axis};
use onsager::io::Values;
use onsager_ridge::{Choice, DangerZone, Filter, FilterKind, Problem, Selection};
use serde_json::json;

use crate::draw::chart::{self, Point, Series};

/// `onsager ridge` options.
#[derive(Args, Debug)]
pub struct RidgeArgs {
    /// Data: a CSV (an optional header line of names) or a .npy file, one sample per row.
    pub data: PathBuf,
    /// The column to predict, by header name or by number counting from 1 [default: the last].
    #[arg(long)]
    pub target: Option<String>,
    /// α: one value (fit at it), a comma list, or LOW:HIGH:N (N values evenly spaced in log)
    /// [default: 100 values from 1e-10·s₁² to 10·s₁²].
    #[arg(long = "lambda", alias = "alpha")]
    pub lambda: Option<String>,
    /// How α (or k, for the truncated SVD) is chosen over the grid: gcv, loo or lcurve.
    #[arg(long, default_value = "gcv")]
    pub select: String,
    /// The filter: tikhonov (ridge) or tsvd (truncated SVD, k = rank … 1).
    #[arg(long, default_value = "tikhonov")]
    pub filter: String,
    /// Fit without an intercept (the columns are not centred).
    #[arg(long)]
    pub no_intercept: bool,
    /// The danger-zone band: warn when |n/p − 1| is at most this and α < s²_min.
    #[arg(long, default_value_t = DangerZone::default().band)]
    pub band: f64,
    /// Folder for lcurve.png, criteria.png and picard.png.
    #[arg(long)]
    pub plots: Option<PathBuf>,
    /// Write the fit, the curves and the Picard plot as JSON to this file (`-`: standard
    /// output).
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// The grid `--lambda` names.
fn parse_grid(text: &str) -> Result<Vec<f64>> {
    let num = |t: &str| {
        t.trim()
            .parse::<f64>()
            .with_context(|| format!("--lambda {text}: `{t}` is not a number"))
    };
    let parts: Vec<&str> = text.split(':').collect();
    match parts.as_slice() {
        [low, high, n] => {
            let n: usize = n
                .trim()
                .parse()
                .with_context(|| format!("--lambda {text}: `{n}` is not a count"))?;
            Ok(onsager_ridge::log_grid(num(low)?, num(high)?, n)?)
        }
        [list] => list.split(',').map(num).collect(),
        _ => bail!("--lambda {text}: expected a value, a comma list or LOW:HIGH:N"),
    }
}

/// The data as f64 with its column names (CSV headers), if any.
fn load(path: &Path) -> Result<(Array2<f64>, Option<Vec<String>>)> {
    match onsager::io::extension(path).as_str() {
        "csv" | "txt" => Ok(onsager::io::csv::read_with_header(path)?),
        "npy" => Ok((
            match onsager::io::npy::read(path)? {
                Values::U8(a) => a.mapv(f64::from),
                Values::F32(a) => a.mapv(f64::from),
                Values::F64(a) => a,
            },
            None,
        )),
        _ => bail!(
            "{}: expected a .csv or .npy file of numbers",
            path.display()
        ),
    }
}

/// The target column's index (from 0) named by `--target`.
fn target_column(
    target: Option<&str>,
    names: Option<&[String]>,
    ncols: usize,
    path: &Path,
) -> Result<usize> {
    let Some(t) = target else {
        return Ok(ncols - 1);
    };
    if let Some(i) = names.and_then(|n| n.iter().position(|name| name == t)) {
        return Ok(i);
    }
    match t.parse::<usize>() {
        Ok(c) if (1..=ncols).contains(&c) => Ok(c - 1),
        Ok(c) => bail!(
            "--target {c}: {} has columns 1 to {ncols} (counting from 1)",
            path.display()
        ),
        Err(_) => match names {
            Some(n) => bail!(
                "--target {t}: {} has no column of that name (its columns: {})",
                path.display(),
                n.join(", ")
            ),
            None => bail!(
                "--target {t}: {} has no header line; name the column by its number (1 to {ncols})",
                path.display()
            ),
        },
    }
}

/// Runs `onsager ridge`.
pub fn ridge(a: RidgeArgs) -> Result<()> {
    let selection: Selection = a.select.parse()?;
    let kind: FilterKind = a.filter.parse()?;
    let zone = DangerZone { band: a.band };
    zone.check()?;
    // Every output is checked before any work, as the other commands check theirs.
    if let Some(json) = a.json.as_deref().filter(|j| *j != Path::new("-")) {
        onsager::io::check_output(json, [a.data.as_path()])?;
    }
    if let Some(dir) = &a.plots {
        if !dir.is_dir() {
            bail!("--plots {}: not a folder", dir.display());
        }
        for png in PLOTS {
            onsager::io::check_output(&dir.join(png), [a.data.as_path()])?;
        }
    }
    let (data, names) = load(&a.data)?;
    let (n, ncols) = data.dim();
    if ncols < 2 {
        bail!(
            "{}: {ncols} column; ridge needs a target column and at least one feature",
            a.data.display()
        );
    }
    let col = target_column(a.target.as_deref(), names.as_deref(), ncols, &a.data)?;
    let y = data.column(col).to_owned();
    let features: Vec<usize> = (0..ncols).filter(|&c| c != col).collect();
    let x = data.select(Axis(1), &features);
    let problem = Problem::new(x.view(), y.view(), !a.no_intercept)
        .with_context(|| a.data.display().to_string())?;
    let grid = match &a.lambda {
        Some(text) => parse_grid(text)?,
        None => onsager_ridge::default_alphas(&problem),
    };
    let choice = problem.select(kind, &grid, selection)?;
    let (coef, intercept) = problem.coefficients(choice.filter)?;
    let chosen = &choice.path[choice.index];
    let target_name = names
        .as_ref()
        .map_or(format!("column {}", col + 1), |n| n[col].clone());
    eprintln!(
        "{}: {n} samples, {} features, rank {}, condition number {:.3e}; target {target_name}",
        a.data.display(),
        features.len(),
        problem.rank(),
        problem.condition_number()
    );
    let how = if choice.path.len() == 1 {
        "given".to_string()
    } else {
        format!("chosen by {selection} over {} points", choice.path.len())
    };
    eprintln!(
        "{} ({how}): residual norm {:.6e}, solution norm {:.6e}, dof {:.3}, GCV {:.6e}, LOO {:.6e}",
        choice.filter,
        chosen.residual_norm,
        chosen.solution_norm,
        chosen.dof,
        chosen.gcv,
        chosen.loo
    );
    if choice.on_edge && choice.path.len() > 1 {
        eprintln!(
            "warning: the choice lies on the edge of the grid ({}): widen --lambda",
            choice.filter
        );
    }
    let danger = match choice.filter {
        Filter::Tikhonov(alpha) => zone.assess(&problem, alpha),
        Filter::Truncated(_) => None,
    };
    if let Some(d) = &danger {
        eprintln!("warning: {}", d.message());
    }
    if let Some(dir) = &a.plots {
        plots(dir, &problem, &choice)?;
    }
    if let Some(path) = &a.json {
        let picard = problem.picard();
        let out = json!({
            "data": a.data.display().to_string(),
            "samples": n,
            "features": features.len(),
            "target": target_name,
            "feature_columns": features.iter().map(|c| names.as_ref().map_or(json!(c + 1), |n| json!(n[*c]))).collect::<Vec<_>>(),
            "fit_intercept": !a.no_intercept,
            "rank": problem.rank(),
            "condition_number": finite(problem.condition_number()),
            "filter": choice.filter.to_string(),
            "selection": selection.to_string(),
            "alpha": choice.filter.parameter(),
            "on_edge": choice.on_edge,
            "coef": coef.to_vec(),
            "intercept": intercept,
            "residual_norm": chosen.residual_norm,
            "solution_norm": chosen.solution_norm,
            "dof": chosen.dof,
            "danger": danger.as_ref().map(|d| json!({
                "ratio": d.ratio, "alpha": d.alpha, "smallest_s2": d.smallest_s2,
                "variance_factor": d.variance_factor, "message": d.message(),
            })),
            "path": choice.path.iter().zip(&choice.criterion).map(|(p, c)| json!({
                "alpha": p.filter.parameter(), "residual_norm": p.residual_norm,
                "solution_norm": p.solution_norm, "dof": p.dof, "gcv": finite(p.gcv),
                "loo": finite(p.loo), "criterion": finite(*c),
            })).collect::<Vec<_>>(),
            "picard": {
                "singular_values": picard.singular_values,
                "coordinates": picard.coordinates,
                "ratios": picard.ratios,
            },
        });
        let text = serde_json::to_string_pretty(&out)? + "\n";
        if path == Path::new("-") {
            print!("{text}");
        } else {
            onsager::io::write_atomic(path, text.as_bytes())?;
            eprintln!("wrote {}", path.display());
        }
    } else {
        println!("intercept {intercept}");
        for (c, w) in features.iter().zip(&coef) {
            let name = names
                .as_ref()
                .map_or(format!("column {}", c + 1), |n| n[*c].clone());
            println!("{name}\t{w}");
        }
    }
    Ok(())
}

/// A JSON number, or null for ∞ and NaN (which JSON cannot hold).
fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// The pictures `--plots` writes.
const PLOTS: [&str; 3] = ["lcurve.png", "criteria.png", "picard.png"];

/// lcurve.png, criteria.png and picard.png in `dir` (checked by `ridge` before any work).
fn plots(dir: &Path, problem: &Problem, choice: &Choice) -> Result<()> {
    let log = |v: f64| v.log10();
    let x_of = |f: Filter| match f {
        Filter::Tikhonov(a) => log(a),
        Filter::Truncated(k) => k as f64,
    };
    let x_label = match choice.filter {
        Filter::Tikhonov(_) => "log10 alpha",
        Filter::Truncated(_) => "k (directions kept)",
    };
    let pts = |get: &dyn Fn(&onsager_ridge::PathPoint) -> f64| -> Vec<Point> {
        choice
            .path
            .iter()
            .filter(|p| get(p).is_finite())
            .map(|p| Point::plain(x_of(p.filter), get(p)))
            .collect()
    };
    let chosen = &choice.path[choice.index];
    let chosen_name = match choice.filter {
        Filter::Tikhonov(a) => format!("chosen by {}: alpha = {a:.3e}", choice.selection),
        Filter::Truncated(k) => format!("chosen by {}: k = {k}", choice.selection),
    };
    let mark = |x: f64, y: f64| Series {
        name: chosen_name.clone(),
        points: vec![Point::plain(x, y)],
    };
    let curve = Series {
        name: "L-curve".into(),
        points: choice
            .path
            .iter()
            .map(|p| Point::plain(log(p.residual_norm), log(p.solution_norm)))
            .collect(),
    };
    chart::line_chart(
        &dir.join("lcurve.png"),
        ("L-curve", "log10 residual norm", "log10 solution norm"),
        &[
            curve,
            mark(log(chosen.residual_norm), log(chosen.solution_norm)),
        ],
        None,
    )?;
    let gcv = Series {
        name: "log10 GCV".into(),
        points: pts(&|p| log(p.gcv)),
    };
    let loo = Series {
        name: "log10 leave-one-out error".into(),
        points: pts(&|p| log(p.loo)),
    };
    chart::line_chart(
        &dir.join("criteria.png"),
        ("GCV and leave-one-out error", x_label, "log10 criterion"),
        &[gcv, loo],
        None,
    )?;
    let picard = problem.picard();
    let index = |v: &[f64], name: &str| Series {
        name: name.into(),
        points: v
            .iter()
            .enumerate()
            .filter(|(_, x)| **x > 0.0)
            .map(|(i, &x)| Point::plain((i + 1) as f64, log(x)))
            .collect(),
    };
    chart::line_chart(
        &dir.join("picard.png"),
        ("Discrete Picard plot", "i", "log10"),
        &[
            index(&picard.singular_values, "singular value s_i"),
            index(&picard.coordinates, "|u_i' y|"),
            index(&picard.ratios, "|u_i' y| / s_i"),
        ],
        None,
    )?;
    eprintln!(
        "wrote lcurve.png, criteria.png, picard.png in {}",
        dir.display()
    );
    Ok(())
}
