//! Choosing the regularisation (docs/maths.md §8.3–§8.4): the minimum of GCV, the minimum of
//! exact leave-one-out, or the corner of the L-curve (Hansen): the point of maximum curvature
//! of (log ‖r‖, log ‖w‖).

use std::fmt;
use std::str::FromStr;

use crate::{Error, Filter, FilterKind, PathPoint, Problem, Result};

/// How the regularisation is chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Selection {
    /// The minimum of generalised cross-validation.
    #[default]
    Gcv,
    /// The minimum of exact leave-one-out error.
    Loo,
    /// The L-curve's corner: maximum curvature of (log ‖r‖, log ‖w‖).
    LCurve,
}

impl fmt::Display for Selection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Selection::Gcv => "gcv",
            Selection::Loo => "loo",
            Selection::LCurve => "lcurve",
        })
    }
}

/// `gcv`, `loo` or `lcurve` (also `l-curve`).
impl FromStr for Selection {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s
            .trim()
            .to_ascii_lowercase()
            .replace(['-', '_'], "")
            .as_str()
        {
            "gcv" => Ok(Selection::Gcv),
            "loo" | "leaveoneout" => Ok(Selection::Loo),
            "lcurve" => Ok(Selection::LCurve),
            _ => Err(Error::InvalidParam {
                name: "selection",
                value: s.to_string(),
                reason: "expected gcv, loo or lcurve",
            }),
        }
    }
}

/// What a selection chose, with the curve it chose from.
#[derive(Clone, Debug, PartialEq)]
pub struct Choice {
    /// How it was chosen.
    pub selection: Selection,
    /// The chosen filter.
    pub filter: Filter,
    /// Its index in `path`.
    pub index: usize,
    /// The path, in the order searched: α ascending (Tikhonov) or k descending (truncated),
    /// i.e. from the least to the most regularised end.
    pub path: Vec<PathPoint>,
    /// The criterion at each point of the path: GCV, leave-one-out error, or the L-curve's
    /// curvature (NaN where undefined).
    pub criterion: Vec<f64>,
    /// Whether the choice lies on the α grid's first or last point (a wider grid may choose
    /// otherwise); always false for the truncated SVD, whose grid is every k.
    pub on_edge: bool,
}

/// The L-curve's curvature at each α of a Tikhonov path (ascending α), in closed form: with
/// t = ln α, fᵢ' = −fᵢ(1 − fᵢ) and
///
/// ```text
/// ρ = ‖r‖²:  ρ' = 2Σ f(1−f)²β²,        ρ'' = −2Σ f(1−f)²(1−3f)β²
/// η = ‖w‖²:  η' = −2Σ f²(1−f)β²/s²,    η'' = 2Σ f²(1−f)(2−3f)β²/s²
/// x = ½ ln ρ, y = ½ ln η:  κ = (x'y'' − x''y') / (x'² + y'²)^{3/2}       (docs/maths.md §8.4)
/// ```
///
/// positive at the corner of the L (the curve turns from falling to running right).
pub fn tikhonov_curvature(problem: &Problem, alphas: &[f64]) -> Vec<f64> {
    alphas
        .iter()
        .map(|&a| {
            let f = problem.factors(Filter::Tikhonov(a));
            let (mut rho, mut rho1, mut rho2) = (problem.outside, 0.0, 0.0);
            let (mut eta, mut eta1, mut eta2) = (0.0, 0.0, 0.0);
            for ((&f, &b), &s) in f.iter().zip(&problem.beta).zip(&problem.s) {
                let (b2, g) = (b * b, 1.0 - f);
                rho += g * g * b2;
                rho1 += 2.0 * f * g * g * b2;
                rho2 -= 2.0 * f * g * g * (1.0 - 3.0 * f) * b2;
                let c = b2 / (s * s);
                eta += f * f * c;
                eta1 -= 2.0 * f * f * g * c;
                eta2 += 2.0 * f * f * g * (2.0 - 3.0 * f) * c;
            }
            let (x1, y1) = (rho1 / (2.0 * rho), eta1 / (2.0 * eta));
            let x2 = (rho2 * rho - rho1 * rho1) / (2.0 * rho * rho);
            let y2 = (eta2 * eta - eta1 * eta1) / (2.0 * eta * eta);
            let speed = x1 * x1 + y1 * y1;
            if speed > 0.0 && speed.is_finite() {
                (x1 * y2 - x2 * y1) / speed.powf(1.5)
            } else {
                f64::NAN
            }
        })
        .collect()
}

/// The signed curvature of the circle through three points (Menger), positive when
/// a → b → c turns counter-clockwise; NaN for coincident points.
pub fn menger_curvature(a: (f64, f64), b: (f64, f64), c: (f64, f64)) -> f64 {
    let cross = (b.0 - a.0) * (c.1 - a.1) - (b.1 - a.1) * (c.0 - a.0);
    let d = |p: (f64, f64), q: (f64, f64)| ((p.0 - q.0).powi(2) + (p.1 - q.1).powi(2)).sqrt();
    let prod = d(a, b) * d(b, c) * d(a, c);
    if prod > 0.0 {
        2.0 * cross / prod
    } else {
        f64::NAN
    }
}

/// The discrete L-curve's curvature at each interior point of `path` (Menger curvature of
/// each point and its neighbours in (log ‖r‖, log ‖w‖)); NaN at the ends.
pub fn discrete_curvature(path: &[PathPoint]) -> Vec<f64> {
    let pt = |p: &PathPoint| (p.residual_norm.ln(), p.solution_norm.ln());
    (0..path.len())
        .map(|i| {
            if i == 0 || i + 1 >= path.len() {
                f64::NAN
            } else {
                menger_curvature(pt(&path[i - 1]), pt(&path[i]), pt(&path[i + 1]))
            }
        })
        .collect()
}

/// The index of the best finite value (the smallest, or the largest with `largest`), if any.
fn best(values: &[f64], largest: bool) -> Option<usize> {
    let sign = if largest { -1.0 } else { 1.0 };
    values
        .iter()
        .enumerate()
        .filter(|(_, v)| v.is_finite())
        .min_by(|(_, a), (_, b)| (sign * **a).total_cmp(&(sign * **b)))
        .map(|(i, _)| i)
}

impl Problem {
    /// Chooses the regularisation by `selection` over `alphas` (Tikhonov; any order, sorted
    /// ascending here) or over k = rank … 1 (truncated SVD; `alphas` unused).
    ///
    /// # Errors
    /// [`Error::InvalidParam`] for an empty grid or a bad α, or when no point of the grid has
    /// a finite criterion (every fit interpolates, say).
    pub fn select(&self, kind: FilterKind, alphas: &[f64], selection: Selection) -> Result<Choice> {
        let filters: Vec<Filter> = match kind {
            FilterKind::Tikhonov => {
                if alphas.is_empty() {
                    return Err(Error::InvalidParam {
                        name: "alphas",
                        value: "[]".into(),
                        reason: "the grid needs at least one α",
                    });
                }
                let mut a = alphas.to_vec();
                a.iter().try_for_each(|&x| Filter::Tikhonov(x).check())?;
                a.sort_by(f64::total_cmp);
                a.dedup();
                a.into_iter().map(Filter::Tikhonov).collect()
            }
            FilterKind::Truncated => (1..=self.rank()).rev().map(Filter::Truncated).collect(),
        };
        let path = self.path(&filters)?;
        let criterion: Vec<f64> = match selection {
            Selection::Gcv => path.iter().map(|p| p.gcv).collect(),
            Selection::Loo => path.iter().map(|p| p.loo).collect(),
            Selection::LCurve => match kind {
                FilterKind::Tikhonov => {
                    let a: Vec<f64> = filters
                        .iter()
                        .map(|f| match f {
                            Filter::Tikhonov(a) => *a,
                            Filter::Truncated(_) => unreachable!("a Tikhonov grid"),
                        })
                        .collect();
                    tikhonov_curvature(self, &a)
                }
                FilterKind::Truncated => discrete_curvature(&path),
            },
        };
        let index = best(&criterion, selection == Selection::LCurve).ok_or_else(|| {
            Error::InvalidParam {
                name: "alphas",
                value: format!("{} points", filters.len()),
                reason: "no point of the grid has a finite criterion",
            }
        })?;
        let defined: Vec<usize> = (0..criterion.len())
            .filter(|&i| criterion[i].is_finite())
            .collect();
        // The truncated SVD's grid is every k there is: no wider grid exists.
        let on_edge = kind == FilterKind::Tikhonov
            && (defined.first() == Some(&index) || defined.last() == Some(&index));
        Ok(Choice {
            selection,
            filter: filters[index],
            index,
            path,
            criterion,
            on_edge,
        })
    }
}
