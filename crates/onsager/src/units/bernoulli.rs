//! Bernoulli units (docs/maths.md §1): the conditional mean σ(β(bias + field)) and a draw of
//! each unit, in one pass over a row. The hidden layer is always Bernoulli and uses the same
//! kernel.

use crate::kernels::sigmoid_shift;
use crate::rng::{bernoulli_in_place, StreamRng};
use crate::Float;

/// `row ← σ(row + β·bias)` from the pre-activations `row` (already scaled by β), then, with
/// `rng`, a 0/1 draw of each unit.
#[inline]
pub(crate) fn conditional_row<T: Float>(
    row: &mut [T],
    bias: &[T],
    beta: T,
    rng: Option<&mut StreamRng>,
) {
    sigmoid_shift(row, bias, beta);
    if let Some(rng) = rng {
        bernoulli_in_place(row, rng);
    }
}
