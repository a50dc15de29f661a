//! The fixed point's kernels on one row: the damped mean-field update (docs/maths.md §3), the
//! variances q and r (§2), and the cached powers of W. Each takes the order explicitly.

use multiversion::multiversion;

use crate::kernels::{sigmoid_v, LANES};
use crate::{EmfOrder, Float};

/// The damped mean-field update of one layer's row (docs/maths.md §3):
/// m ← damp·σ(β·bias + f₁ + f₂(½ − m) + f₃(⅓ − 2(m − m²))) + (1 − damp)·m, with the f₂ and f₃
/// terms present at orders ≥ 2 and 3 (`f2`, `f3` are not read below their order). Returns
/// max |Δm|.
#[multiversion(targets = "simd")]
pub(crate) fn mean_field_update<T: Float>(
    m: &mut [T],
    bias: &[T],
    beta: T,
    order: EmfOrder,
    [f1, f2, f3]: [&[T]; 3],
    damping: T,
) -> T {
    let (half, third, two) = (T::of(0.5), T::of(1.0 / 3.0), T::of(2.0));
    let keep = T::one() - damping;
    let n = m.len();
    let mut worst = [T::zero(); LANES];
    let block =
        |x: &[T], o: usize| -> [T; LANES] { x[o..o + LANES].try_into().expect("LANES values") };
    // One loop per order and fixed-size blocks, so the inner loop has no branches or bounds
    // checks and vectorises; the ragged tail goes through the same code on a padded block.
    macro_rules! sweep {
        (|$o:ident| $prep:stmt; |$l:ident, $old:ident| $field:expr) => {{
            let split = n - n % LANES;
            for $o in (0..split).step_by(LANES) {
                $prep
                let mc: &mut [T; LANES] = (&mut m[$o..$o + LANES]).try_into().expect("LANES values");
                for $l in 0..LANES {
                    let $old = mc[$l];
                    let new = damping * sigmoid_v($field) + keep * $old;
                    let d = (new - $old).abs();
                    worst[$l] = if d > worst[$l] { d } else { worst[$l] };
                    mc[$l] = new;
                }
            }
            split
        }};
    }
    let split = match order {
        EmfOrder::First => {
            sweep!(|o| let (b, g1) = (block(bias, o), block(f1, o)); |l, _old| beta * b[l] + g1[l])
        }
        EmfOrder::Second => sweep!(
            |o| let (b, g1, g2) = (block(bias, o), block(f1, o), block(f2, o));
            |l, old| beta * b[l] + g1[l] + g2[l] * (half - old)
        ),
        EmfOrder::Third => sweep!(
            |o| let (b, g1, g2, g3) = (block(bias, o), block(f1, o), block(f2, o), block(f3, o));
            |l, old| beta * b[l] + g1[l] + g2[l] * (half - old) + g3[l] * (third - two * (old - old * old))
        ),
    };
    for j in split..n {
        let old = m[j];
        let mut x = beta * bias[j] + f1[j];
        if order.has_second() {
            x += f2[j] * (half - old);
        }
        if order.has_third() {
            x += f3[j] * (third - two * (old - old * old));
        }
        let new = damping * sigmoid_v(x) + keep * old;
        let d = (new - old).abs();
        worst[0] = if d > worst[0] { d } else { worst[0] };
        m[j] = new;
    }
    worst
        .into_iter()
        .fold(T::zero(), |a, b| if b > a { b } else { a })
}

/// `q ← m − m²` and, at order 3, `r ← q(½ − m)`: the variances the EMF terms use
/// (docs/maths.md §2). Nothing is written at order 1, and `r` is not touched below order 3.
#[multiversion(targets = "simd")]
pub(crate) fn variances_row<T: Float>(order: EmfOrder, m: &[T], q: &mut [T], r: &mut [T]) {
    let half = T::of(0.5);
    let n = m.len();
    match order {
        EmfOrder::First => {}
        EmfOrder::Second => {
            for (qq, &mm) in q[..n].iter_mut().zip(m) {
                *qq = mm - mm * mm;
            }
        }
        EmfOrder::Third => {
            for ((qq, rr), &mm) in q[..n].iter_mut().zip(r[..n].iter_mut()).zip(m) {
                let v = mm - mm * mm;
                *qq = v;
                *rr = v * (half - mm);
            }
        }
    }
}

/// The cached powers of W that order `order` needs, element-wise over a row (or a whole matrix,
/// flattened): `p2 ← w²` from order 2, `p3 ← w³` at order 3 (neither is touched otherwise).
#[multiversion(targets = "simd")]
pub(crate) fn powers_row<T: Float>(order: EmfOrder, w: &[T], p2: &mut [T], p3: &mut [T]) {
    if order.has_second() {
        for (p, &x) in p2[..w.len()].iter_mut().zip(w) {
            *p = x * x;
        }
    }
    if order.has_third() {
        for (p, &x) in p3[..w.len()].iter_mut().zip(w) {
            *p = x * x * x;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::sigmoid;

    /// The plain formula of one damped update, for one unit.
    fn one(m: f64, b: f64, f: [f64; 3], order: EmfOrder, damping: f64) -> f64 {
        let mut x = 1.5 * b + f[0];
        if order.has_second() {
            x += f[1] * (0.5 - m);
        }
        if order.has_third() {
            x += f[2] * (1.0 / 3.0 - 2.0 * (m - m * m));
        }
        damping * sigmoid(x) + (1.0 - damping) * m
    }

    /// Every length 0..=40 at every order: the blocked, vectorised update equals the formula
    /// unit by unit, and the returned change is the largest one.
    #[test]
    fn mean_field_update_matches_the_formula_on_ragged_lengths() {
        for order in [EmfOrder::First, EmfOrder::Second, EmfOrder::Third] {
            for n in 0..=40usize {
                let v = |s: f64| -> Vec<f64> { (0..n).map(|i| (i as f64 * s).sin()).collect() };
                let m0: Vec<f64> = v(0.3).iter().map(|x| 0.5 + 0.4 * x).collect();
                let (b, f1, f2, f3) = (v(0.7), v(1.1), v(1.3), v(1.7));
                let mut m = m0.clone();
                let d = mean_field_update(&mut m, &b, 1.5, order, [&f1, &f2, &f3], 0.5);
                let mut worst = 0.0f64;
                for j in 0..n {
                    let want = one(m0[j], b[j], [f1[j], f2[j], f3[j]], order, 0.5);
                    assert!((m[j] - want).abs() < 1e-15, "{order:?} n = {n} j = {j}");
                    worst = worst.max((want - m0[j]).abs());
                }
                assert!((d - worst).abs() < 1e-15, "{order:?} n = {n}");
            }
        }
    }

    #[test]
    fn variances_and_powers_write_only_their_order() {
        let m = [0.1f64, 0.5, 0.9];
        let (mut q, mut r) = ([7.0; 3], [7.0; 3]);
        variances_row(EmfOrder::First, &m, &mut q, &mut r);
        assert_eq!((q, r), ([7.0; 3], [7.0; 3]));
        variances_row(EmfOrder::Second, &m, &mut q, &mut r);
        assert!((q[0] - 0.09).abs() < 1e-15 && r == [7.0; 3]);
        variances_row(EmfOrder::Third, &m, &mut q, &mut r);
        assert!((r[2] - 0.09 * (0.5 - 0.9)).abs() < 1e-15);
        let w = [2.0f64, -3.0];
        let (mut p2, mut p3) = ([0.0; 2], [0.0; 2]);
        powers_row(EmfOrder::Second, &w, &mut p2, &mut p3);
        assert_eq!((p2, p3), ([4.0, 9.0], [0.0; 2]));
        powers_row(EmfOrder::Third, &w, &mut p2, &mut p3);
        assert_eq!(p3, [8.0, -27.0]);
    }
}
