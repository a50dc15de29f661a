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
    /// Data augmentation of the crates built on the library (`onsager-deep`'s distortions: one
    /// stream per image and epoch).
    Augment = 10,
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

/// Replaces each probability p in `row` by a Bernoulli(p) draw, 0 or 1 (branch-free).
///
/// Each 64-bit draw gives two 32-bit uniforms u = k/2³² (the high half for the first unit of
/// a pair, the low half for the second), compared with p widened to `f64` at either precision,
/// so that a stream gives the same uniforms to an `f32` and an `f64` model: their draws differ
/// only where p's rounding in the two precisions falls on either side of u (docs/maths.md
/// §6). P(draw = 1) = ⌈p·2³²⌉/2³², within 2.4·10⁻¹⁰ of p for every p.
#[inline]
pub fn bernoulli_in_place<T: Float>(row: &mut [T], rng: &mut StreamRng) {
    // k < p·2³² ⇔ k/2³² < p (the scaling by a power of two is exact).
    const TWO_32: f64 = 4_294_967_296.0;
    let set = |p: &mut T, k: u32| {
        *p = if f64::from(k) < p.f64() * TWO_32 {
            T::one()
        } else {
            T::zero()
        }
    };
    let mut pairs = row.chunks_exact_mut(2);
    for pair in &mut pairs {
        let bits = rng.next_u64();
        set(&mut pair[0], (bits >> 32) as u32);
        set(&mut pair[1], bits as u32);
    }
    for p in pairs.into_remainder() {
        set(p, (rng.next_u64() >> 32) as u32);
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
    fn one_stream_draws_the_same_bits_at_both_precisions() {
        // Probabilities spread over (0, 1), some tiny: the f32 row is the f64 row rounded, and
        // the draws differ only where u lies between the two roundings (never, for these).
        let p64: Vec<f64> = (0..10_001)
            .map(|i| ((i as f64 * 0.618_034).fract() * 0.999).max(1e-9))
            .collect();
        let (mut a, mut b) = (
            p64.clone(),
            p64.iter().map(|&p| p as f32).collect::<Vec<_>>(),
        );
        bernoulli_in_place(&mut a, &mut stream(11, Domain::PcdChain, 2));
        bernoulli_in_place(&mut b, &mut stream(11, Domain::PcdChain, 2));
        let differ = a
            .iter()
            .zip(&b)
            .filter(|(x, y)| **x != f64::from(**y))
            .count();
        assert_eq!(differ, 0);
        // The draw is u < p with u = k/2³² from the halves of one 64-bit draw, high half first.
        let bits = stream(5, Domain::Sample, 0).next_u64();
        let u = [
            (bits >> 32) as f64 / 4_294_967_296.0,
            (bits as u32) as f64 / 4_294_967_296.0,
        ];
        for (k, &uk) in u.iter().enumerate() {
            for p in [uk - 1e-9, uk + 1e-9] {
                let mut row = [0.5f64, 0.5];
                row[k] = p;
                bernoulli_in_place(&mut row, &mut stream(5, Domain::Sample, 0));
                assert_eq!(row[k], f64::from(u8::from(uk < p)), "unit {k}, p {p}");
            }
        }
        // Extremes: 0 never fires, 1 always does.
        let mut row = [0.0f32, 1.0, 0.0, 1.0, 0.0];
        bernoulli_in_place(&mut row, &mut stream(1, Domain::Sample, 0));
        assert_eq!(row, [0.0, 1.0, 0.0, 1.0, 0.0]);
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
