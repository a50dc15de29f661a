//! Distortions (docs/maths.md §9): the identity returns images exactly, a quarter turn moves
//! pixels where it must, the smoothed fields have the spread of their closed form, draws are
//! reproducible from the seed and independent of the thread count, bad settings are refused.

use ndarray::Array2;
use onsager::data::{Dataset, Preprocess, Split};
use onsager_deep::{Distorter, Distortion, Error, Warp};

fn digits(n: usize) -> Array2<f32> {
    Dataset::bundled_mnist(Split::Train)
        .head(n)
        .prepare(Preprocess::Auto)
        .unwrap()
}

#[test]
fn no_deformation_returns_every_image_exactly() {
    let x = digits(50);
    let d = Distorter::new(Distortion::NONE, (28, 28)).unwrap();
    assert_eq!(d.batch(x.view(), 3, 0, 0).unwrap(), x);
    let mut out = vec![0.0f32; 784];
    Warp::identity().apply(x.row(7).as_slice().unwrap(), &mut out, (28, 28));
    assert_eq!(out, x.row(7).to_vec());
}

#[test]
fn a_quarter_turn_moves_each_pixel_to_its_place() {
    // s(p) = c + R(90°)(p − c): output (row y, column x) reads source (row x, column 27 − y).
    let x = digits(1);
    let src = x.row(0).to_vec();
    let mut out = vec![0.0f32; 784];
    Warp::affine(90.0, 0.0, 1.0, 1.0).apply(&src, &mut out, (28, 28));
    for y in 0..28 {
        for c in 0..28 {
            let want = src[c * 28 + (27 - y)];
            assert!((out[y * 28 + c] - want).abs() < 1e-6, "({y}, {c})");
        }
    }
    // A scale factor of 2 reads twice as far from the centre: the image's middle pixels.
    let mut big = vec![0.0f64; 16];
    let src: Vec<f64> = (0..16).map(|i| i as f64).collect();
    Warp::affine(0.0, 0.0, 0.5, 0.5).apply(&src, &mut big, (4, 4));
    // Output (0, 0) is 1.5 pixels from the centre along each axis; it reads 0.75 from it:
    // source (0.75, 0.75), a bilinear mix of pixels 0, 1, 4, 5.
    let want = 0.0625 * 0.0 + 0.1875 * 1.0 + 0.1875 * 4.0 + 0.5625 * 5.0;
    assert!((big[0] - want).abs() < 1e-12, "{}", big[0]);
}

#[test]
fn smoothed_fields_have_the_spread_of_their_closed_form() {
    // One pixel far from the borders: its displacement is α·Σ k(a)k(b)·u over the kernel's
    // support, u ~ U(−1, 1) with variance 1/3, so its standard deviation is
    // α·(Σ k²)·√(1/3) with k the 1-D kernel (G_σ = k ⊗ k).
    let settings = Distortion {
        sigma: 2.0,
        alpha: 10.0,
        ..Distortion::NONE
    };
    let d = Distorter::new(settings, (40, 40)).unwrap();
    let k2: f64 = d.kernel().iter().map(|k| k * k).sum();
    let want = settings.alpha * k2 * (1.0f64 / 3.0).sqrt();
    let n = 4000;
    let centre = 20 * 40 + 20;
    let (mut sum, mut sq) = (0.0, 0.0);
    for i in 0..n {
        let w = d.draw(&mut Distorter::stream(1, 0, i));
        for v in [w.dx[centre], w.dy[centre]] {
            sum += v;
            sq += v * v;
        }
    }
    let m = sum / (2 * n) as f64;
    let sd = (sq / (2 * n) as f64 - m * m).sqrt();
    assert!((sd / want - 1.0).abs() < 0.05, "sd {sd} vs {want}");
    assert!(m.abs() < 0.1 * want, "mean {m}");
}

/// The fields are α·(G_σ ∗ u) by the definition's sum, zeros outside the image: the band
/// products equal Σ_{a,b} k(a)k(b)·u(y + a, x + b) recomputed here from the stream's uniforms
/// (θ, φ, s_x, s_y first, then the x and the y field), on a non-square image.
#[test]
fn smoothed_fields_equal_the_convolution_sum() {
    let settings = Distortion {
        sigma: 1.5,
        alpha: 7.0,
        ..Distortion::CIRESAN
    };
    let (h, w) = (9, 13);
    let d = Distorter::new(settings, (h, w)).unwrap();
    let warp = d.draw(&mut Distorter::stream(4, 1, 2));
    let mut r = Distorter::stream(4, 1, 2);
    for _ in 0..4 {
        onsager::rng::uniform::<f64>(&mut r);
    }
    let k = d.kernel();
    let radius = (k.len() / 2) as isize;
    for field in [&warp.dx, &warp.dy] {
        let u: Vec<f64> = (0..h * w)
            .map(|_| 2.0 * onsager::rng::uniform::<f64>(&mut r) - 1.0)
            .collect();
        for y in 0..h as isize {
            for x in 0..w as isize {
                let mut sum = 0.0;
                for a in -radius..=radius {
                    for b in -radius..=radius {
                        let (yy, xx) = (y + a, x + b);
                        if (0..h as isize).contains(&yy) && (0..w as isize).contains(&xx) {
                            sum += k[(a + radius) as usize]
                                * k[(b + radius) as usize]
                                * u[yy as usize * w + xx as usize];
                        }
                    }
                }
                let got = field[y as usize * w + x as usize];
                assert!(
                    (got - settings.alpha * sum).abs() < 1e-12,
                    "({y}, {x}): {got} vs {}",
                    settings.alpha * sum
                );
            }
        }
    }
}

/// Bilinear resampling by its definition, with 0 outside the image: the batch's values equal it
/// bit for bit, with maps that reach far outside the image (strong fields and scaling).
#[test]
fn resampling_equals_the_bilinear_definition_inside_and_outside() {
    let x = digits(20);
    let settings = Distortion {
        alpha: 300.0,
        scale: 0.5,
        ..Distortion::CIRESAN
    };
    let d = Distorter::new(settings, (28, 28)).unwrap();
    let got = d.batch(x.view(), 9, 0, 0).unwrap();
    for i in 0..20 {
        let warp = d.draw(&mut Distorter::stream(9, 0, i as u64));
        let src = x.row(i);
        let pixel = |r: f64, c: f64| -> f64 {
            if (0.0..28.0).contains(&r) && (0.0..28.0).contains(&c) {
                src[r as usize * 28 + c as usize] as f64
            } else {
                0.0
            }
        };
        let m = warp.matrix;
        for oy in 0..28 {
            for ox in 0..28 {
                let k = oy * 28 + ox;
                let (px, py) = (ox as f64 - 13.5, oy as f64 - 13.5);
                let xs = 13.5 + (m[0] * px + m[1] * py) + warp.dx[k];
                let ys = 13.5 + (m[2] * px + m[3] * py) + warp.dy[k];
                let (x0, y0) = (xs.floor(), ys.floor());
                let (fx, fy) = (xs - x0, ys - y0);
                let top = (1.0 - fx) * pixel(y0, x0) + fx * pixel(y0, x0 + 1.0);
                let bottom = (1.0 - fx) * pixel(y0 + 1.0, x0) + fx * pixel(y0 + 1.0, x0 + 1.0);
                let want = ((1.0 - fy) * top + fy * bottom) as f32;
                assert_eq!(got[[i, k]], want, "image {i}, pixel ({oy}, {ox})");
            }
        }
    }
}

#[test]
fn draws_follow_the_seed_and_not_the_thread_count() {
    let x = digits(64);
    let d = Distorter::new(Distortion::CIRESAN, (28, 28)).unwrap();
    let with = |threads: usize, seed: u64, epoch: u64| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| d.batch(x.view(), seed, epoch, 0).unwrap())
    };
    let one = with(1, 5, 2);
    assert_eq!(one, with(4, 5, 2));
    assert_eq!(one, with(3, 5, 2));
    assert_ne!(one, with(1, 5, 3), "another epoch draws other deformations");
    assert_ne!(one, with(1, 6, 2), "another seed too");
    assert_ne!(one, x, "the deformations move pixels");
    // Rows are numbered from `first`: the second half alone equals the whole batch's.
    let tail = d.batch(x.slice(ndarray::s![32.., ..]), 5, 2, 32).unwrap();
    assert_eq!(tail, one.slice(ndarray::s![32.., ..]));
    // The deformed digit keeps most of its ink (a check that the maps stay near the digit).
    let ink = |a: &Array2<f32>| a.iter().map(|&v| v as f64).sum::<f64>();
    let ratio = ink(&one) / ink(&x);
    assert!((0.7..1.3).contains(&ratio), "ink ratio {ratio}");
}

#[test]
fn bad_settings_and_shapes_are_refused_by_name() {
    for (name, d) in [
        (
            "sigma",
            Distortion {
                sigma: 0.0,
                ..Distortion::CIRESAN
            },
        ),
        (
            "alpha",
            Distortion {
                alpha: -1.0,
                ..Distortion::CIRESAN
            },
        ),
        (
            "rotation",
            Distortion {
                rotation: f64::NAN,
                ..Distortion::CIRESAN
            },
        ),
        (
            "shear",
            Distortion {
                shear: 75.0,
                ..Distortion::CIRESAN
            },
        ),
        (
            "scale",
            Distortion {
                scale: 1.0,
                ..Distortion::CIRESAN
            },
        ),
    ] {
        match Distorter::new(d, (28, 28)) {
            Err(Error::InvalidParam { name: n, .. }) => assert_eq!(n, name),
            other => panic!("{name}: {other:?}"),
        }
    }
    assert!(Distorter::new(Distortion::CIRESAN, (0, 28)).is_err());
    let d = Distorter::new(Distortion::CIRESAN, (28, 28)).unwrap();
    let e = d
        .batch(Array2::<f32>::zeros((2, 100)).view(), 0, 0, 0)
        .unwrap_err();
    assert!(e.to_string().contains("784 columns"), "{e}");
}
