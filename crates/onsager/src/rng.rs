//! Seeded random streams: one per chain or per row, never per thread.
//!
//! A stream is named by `(seed, domain, index)`; its generator is a xoshiro256++ whose state is
//! derived from the three by SplitMix64, so stream 7 of a run is the same whatever the thread
//! count or the order in which streams are used.

use rand_core::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::Float;

/// The generator every stream uses.
pub type StreamRng = Xoshiro256PlusPlus;

/// What a stream is used for; keeps the streams of different purposes apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum Domain {
    /// Weight initialisation.
    Init = 1,
    /// Shuffling and chain-start selection (one sequential stream).
    Order = 2,
    /// Gibbs chains of CD (one stream per batch row).
    CdChain = 3,
    /// Persistent chains of PCD (one stream per chain).
    PcdChain = 4,
    /// Sampling helpers of the model (one stream per row).
    Sample = 5,
    /// Draws of callers outside the library (tests, examples); the library never uses it.
    Other = 6,
    /// AIS (one stream per run).
    AisRun = 7,
    /// Pseudo-likelihood's flipped bits (one stream per row).
    PseudoFlip = 8,
    /// The EMF estimator's random starts (one stream per start).
    EmfStart = 9,
}

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The generator of stream `index` in `domain` under `seed`.
pub fn stream(seed: u64, domain: Domain, index: u64) -> StreamRng {
    let key = splitmix64(splitmix64(seed) ^ splitmix64((domain as u64) << 56 ^ index));
    StreamRng::seed_from_u64(key)
}

/// `n` consecutive streams `0..n` of `domain`.
pub fn streams(seed: u64, domain: Domain, n: usize) -> Vec<StreamRng> {
    (0..n as u64).map(|i| stream(seed, domain, i)).collect()
}

/// A uniform draw in \[0, 1) at `T`'s precision.
#[inline(always)]
pub fn uniform<T: Float>(rng: &mut StreamRng) -> T {
    T::unit(rng.next_u64())
}

/// Replaces each probability p in `row` by a Bernoulli(p) draw, 0 or 1 (branch-free). At
/// `f32` precision each 64-bit draw gives two 24-bit uniforms.
#[inline]
pub fn bernoulli_in_place<T: Float>(row: &mut [T], rng: &mut StreamRng) {
    let set = |p: &mut T, u: T| *p = if u < *p { T::one() } else { T::zero() };
    if T::PAIRED_UNITS {
        let mut pairs = row.chunks_exact_mut(2);
        for pair in &mut pairs {
            let bits = rng.next_u64();
            set(&mut pair[0], T::unit(bits));
            set(&mut pair[1], T::unit(bits << 24));
        }
        for p in pairs.into_remainder() {
            set(p, uniform::<T>(rng));
        }
    } else {
        for p in row.iter_mut() {
            set(p, uniform::<T>(rng));
        }
    }
}

/// A uniform index in `0..n` (Lemire's multiply-shift; bias below 2^-32 for n < 2^32).
#[inline]
pub fn index(rng: &mut StreamRng, n: usize) -> usize {
    ((rng.next_u64() >> 32).wrapping_mul(n as u64) >> 32) as usize
}

/// Shuffles `xs` in place (Fisher–Yates).
pub fn shuffle<X>(rng: &mut StreamRng, xs: &mut [X]) {
    for i in (1..xs.len()).rev() {
        let j = index(rng, i + 1);
        xs.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let mut a = stream(7, Domain::CdChain, 3);
        let mut b = stream(7, Domain::CdChain, 3);
        assert_eq!(a.next_u64(), b.next_u64());
        let x = stream(7, Domain::CdChain, 4).next_u64();
        let y = stream(7, Domain::PcdChain, 3).next_u64();
        let z = stream(8, Domain::CdChain, 3).next_u64();
        let w = stream(7, Domain::CdChain, 3).next_u64();
        assert!(x != w && y != w && z != w);
    }

    #[test]
    fn bernoulli_draws_have_the_right_frequencies_at_both_precisions() {
        let mut r = stream(3, Domain::Sample, 0);
        let mut row32 = vec![0.3f32; 100_001];
        bernoulli_in_place(&mut row32, &mut r);
        let mut row64 = vec![0.3f64; 100_001];
        bernoulli_in_place(&mut row64, &mut r);
        for mean in [
            row32.iter().map(|&x| x as f64).sum::<f64>() / 100_001.0,
            row64.iter().sum::<f64>() / 100_001.0,
        ] {
            assert!((mean - 0.3).abs() < 0.005, "{mean}");
        }
        // Paired halves are not copies of each other.
        let same = row32.chunks_exact(2).filter(|c| c[0] == c[1]).count() as f64 / 50_000.0;
        assert!((same - 0.58).abs() < 0.02, "{same}"); // 0.3² + 0.7²
        assert!(row32.iter().all(|&x| x == 0.0 || x == 1.0));
    }

    #[test]
    fn shuffle_is_a_permutation_and_index_is_in_range() {
        let mut rng = stream(1, Domain::Order, 0);
        let mut v: Vec<usize> = (0..100).collect();
        shuffle(&mut rng, &mut v);
        assert_ne!(v, (0..100).collect::<Vec<_>>());
        let mut sorted = v.clone();
        sorted.sort();
        assert_eq!(sorted, (0..100).collect::<Vec<_>>());
        let mut counts = [0usize; 3];
        for _ in 0..3000 {
            counts[index(&mut rng, 3)] += 1;
        }
        assert!(
            counts.iter().all(|&c| (900..1100).contains(&c)),
            "{counts:?}"
        );
    }
}
