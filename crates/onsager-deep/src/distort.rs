//! Elastic and affine distortions of images (docs/maths.md §9): each output pixel p reads the
//! source image at
//!
//! ```text
//! s(p) = c + M·(p − c) + α·(G_σ ∗ u)(p),    M = R(θ)·Sh(φ)·diag(s_x, s_y)
//! ```
//!
//! by bilinear interpolation (0 outside the image), with c the image's centre, θ, φ, s_x, s_y
//! drawn uniformly within the settings' ranges, u two fields of independent U(−1, 1) values per
//! pixel (x and y) and G_σ the normalised Gaussian of width σ (Simard, Steinkraus & Platt 2003).
//! Every image of every epoch draws from its own stream, so a batch has the same bits for any
//! thread count.

use ndarray::{s, Array2, ArrayView2, ArrayViewMut2};
use onsager::linalg::gemm_seq;
use onsager::rng::{self, Domain, StreamRng};
use onsager::Float;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The ranges the deformations are drawn from.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Distortion {
    /// Width σ (pixels) of the Gaussian that smooths the random displacement fields.
    pub sigma: f64,
    /// Scale α (pixels) of the smoothed fields; 0 for no elastic distortion.
    pub alpha: f64,
    /// Largest rotation in degrees: each image turns by an angle drawn uniformly in ±this.
    pub rotation: f64,
    /// Largest horizontal shear angle in degrees (uniform in ±this).
    pub shear: f64,
    /// Largest relative change of scale per axis: each axis's factor is drawn uniformly in
    /// \[1 − scale, 1 + scale\] (factors above 1 read a larger area, so the digit shrinks).
    pub scale: f64,
}

impl Distortion {
    /// No deformation: every image comes back as it is.
    pub const NONE: Self = Self {
        sigma: 6.0,
        alpha: 0.0,
        rotation: 0.0,
        shear: 0.0,
        scale: 0.0,
    };

    /// Ciresan et al. (2010)'s deformations, from the middle of their ranges: σ = 6, α = 36,
    /// rotation and shear up to 15°, scaling up to 15 %.
    pub const CIRESAN: Self = Self {
        sigma: 6.0,
        alpha: 36.0,
        rotation: 15.0,
        shear: 15.0,
        scale: 0.15,
    };

    /// Refuses settings that cannot be meant.
    ///
    /// # Errors
    /// [`Error::InvalidParam`] naming the setting: σ not finite and positive, α negative or
    /// not finite, a rotation outside \[0, 180\]°, a shear outside \[0, 60\]°, a scale outside
    /// \[0, 1).
    pub fn check(&self) -> Result<()> {
        let bad = |name, value: f64, reason| {
            Err(Error::InvalidParam {
                name,
                value: value.to_string(),
                reason,
            })
        };
        if !(self.sigma.is_finite() && self.sigma > 0.0) {
            return bad("sigma", self.sigma, "must be finite and positive (pixels)");
        }
        if !(self.alpha.is_finite() && self.alpha >= 0.0) {
            return bad(
                "alpha",
                self.alpha,
                "must be finite and at least 0 (pixels)",
            );
        }
        if !(0.0..=180.0).contains(&self.rotation) {
            return bad("rotation", self.rotation, "must lie in [0, 180] degrees");
        }
        if !(0.0..=60.0).contains(&self.shear) {
            return bad("shear", self.shear, "must lie in [0, 60] degrees");
        }
        if !(0.0..1.0).contains(&self.scale) {
            return bad(
                "scale",
                self.scale,
                "must lie in [0, 1): a fraction of the size, 0.15 for ±15 %",
            );
        }
        Ok(())
    }
}

/// One image's map from output pixels to source points: s(p) = c + M·(p − c) + d(p), with
/// (x, y) = (column, row).
#[derive(Clone, Debug, PartialEq)]
pub struct Warp {
    /// M, row-major: x' = m₀·x + m₁·y, y' = m₂·x + m₃·y on offsets from the centre.
    pub matrix: [f64; 4],
    /// The displacement d's x part per pixel, row-major (empty: none).
    pub dx: Vec<f64>,
    /// The displacement d's y part per pixel, row-major (empty: none).
    pub dy: Vec<f64>,
}

impl Warp {
    /// The identity: every pixel reads itself.
    pub fn identity() -> Self {
        Self {
            matrix: [1.0, 0.0, 0.0, 1.0],
            dx: Vec::new(),
            dy: Vec::new(),
        }
    }

    /// M = R(θ)·Sh(φ)·diag(s_x, s_y) with θ = `rotation` and φ = `shear` in degrees, and no
    /// displacement field.
    pub fn affine(rotation: f64, shear: f64, sx: f64, sy: f64) -> Self {
        let (sin, cos) = rotation.to_radians().sin_cos();
        let t = shear.to_radians().tan();
        // R·Sh = [[cos, cos·t − sin], [sin, sin·t + cos]], then the columns scaled.
        Self {
            matrix: [
                cos * sx,
                (cos * t - sin) * sy,
                sin * sx,
                (sin * t + cos) * sy,
            ],
            dx: Vec::new(),
            dy: Vec::new(),
        }
    }

    /// Resamples `src` (one image, row-major, `shape` = (rows, columns)) into `out` through the
    /// map, bilinearly, with 0 outside the image. The identity returns every value exactly.
    ///
    /// # Panics
    /// If `src`, `out` or a non-empty field does not hold rows × columns values (the batch
    /// methods check this and return an error instead).
    pub fn apply<T: Float>(&self, src: &[T], out: &mut [T], shape: (usize, usize)) {
        self.apply_padded(src, out, shape, &mut Vec::new());
    }

    /// [`Warp::apply`] with `padded` as scratch: the source with a border of one zero pixel,
    /// (rows + 3) × (columns + 2) and one, so that every read is in bounds and branch-free. A source
    /// coordinate is clamped to [−1, columns] (rows alike) first, which changes no value: beyond
    /// −1 or past the last column both neighbours are outside and read 0, as at the clamp.
    fn apply_padded<T: Float>(
        &self,
        src: &[T],
        out: &mut [T],
        shape: (usize, usize),
        padded: &mut Vec<f64>,
    ) {
        let (h, w) = shape;
        assert!(src.len() == h * w && out.len() == h * w, "image size");
        let displaced = !self.dx.is_empty();
        assert!(!displaced || (self.dx.len() == h * w && self.dy.len() == h * w));
        let pw = w + 2;
        padded.clear();
        // One more row of zeros: the reads right of and below a coordinate clamped to the
        // last border stay inside (with weight 0).
        padded.resize((h + 3) * pw + 1, 0.0);
        for (row, line) in src.chunks_exact(w).enumerate() {
            let at = (row + 1) * pw + 1;
            padded[at..at + w]
                .iter_mut()
                .zip(line)
                .for_each(|(p, v)| *p = v.f64());
        }
        let (cx, cy) = ((w as f64 - 1.0) / 2.0, (h as f64 - 1.0) / 2.0);
        let m = self.matrix;
        for oy in 0..h {
            for ox in 0..w {
                let i = oy * w + ox;
                let (px, py) = (ox as f64 - cx, oy as f64 - cy);
                let mut x = cx + (m[0] * px + m[1] * py);
                let mut y = cy + (m[2] * px + m[3] * py);
                if displaced {
                    x += self.dx[i];
                    y += self.dy[i];
                }
                // NaN-free inputs assumed (the fields are finite sums); clamp, then split.
                let x = x.clamp(-1.0, w as f64);
                let y = y.clamp(-1.0, h as f64);
                let (x0, y0) = (floor(x), floor(y));
                let (fx, fy) = (x - x0, y - y0);
                // Padded index of (y0, x0): both ≥ −1, so +1 is a valid index, and x0 + 1 ≤ w + 1.
                let at = (y0 + 1.0) as usize * pw + (x0 + 1.0) as usize;
                let (a, b) = (padded[at], padded[at + 1]);
                let (c, d) = (padded[at + pw], padded[at + pw + 1]);
                let top = (1.0 - fx) * a + fx * b;
                let bottom = (1.0 - fx) * c + fx * d;
                out[i] = T::of((1.0 - fy) * top + fy * bottom);
            }
        }
    }
}

/// ⌊x⌋ for |x| < 2⁶³ by a truncating conversion (one instruction, where `f64::floor` is a
/// library call on baseline x86-64); the warps' source coordinates lie well inside that range.
fn floor(x: f64) -> f64 {
    let t = x as i64 as f64;
    if t > x {
        t - 1.0
    } else {
        t
    }
}

/// Draws [`Warp`]s from a [`Distortion`] for images of one shape, and distorts batches.
#[derive(Clone, Debug)]
pub struct Distorter {
    settings: Distortion,
    shape: (usize, usize),
    /// The normalised 1-D Gaussian of width σ on −r..=r, r = ⌈4σ⌉ (G_σ is its outer product).
    kernel: Vec<f64>,
    /// The kernel as the columns × columns band matrix K_w\[c, x\] = k(c − x) of the pass
    /// along rows (zero outside the image), so that field·K_w smooths every row.
    along_rows: Array2<f64>,
    /// The rows × rows band matrix K_h\[y, r\] = k(r − y) of the pass along columns: K_h·field.
    along_columns: Array2<f64>,
}

/// The band matrix B\[i, j\] = k(i − j) of `kernel` (k on −r..=r) for `n` positions: the
/// Gaussian along one axis of an image with zeros outside it, as a product. k is even, so B
/// is symmetric and serves on either side.
fn band(kernel: &[f64], n: usize) -> Array2<f64> {
    let r = (kernel.len() / 2) as isize;
    Array2::from_shape_fn((n, n), |(i, j)| {
        let offset = i as isize - j as isize;
        if offset.abs() <= r {
            kernel[(offset + r) as usize]
        } else {
            0.0
        }
    })
}

/// Scratch of one thread: the drawn fields ([x field; y field], 2·rows × columns) and the same
/// after the pass along rows.
struct Scratch {
    warp: Warp,
    padded: Vec<f64>,
    raw: Array2<f64>,
    tmp: Array2<f64>,
}

impl Distorter {
    /// A distorter for images of `shape` = (rows, columns).
    ///
    /// # Errors
    /// As [`Distortion::check`]; [`Error::InvalidParam`] for an image with no pixels.
    pub fn new(settings: Distortion, shape: (usize, usize)) -> Result<Self> {
        settings.check()?;
        if shape.0 == 0 || shape.1 == 0 {
            return Err(Error::InvalidParam {
                name: "image shape",
                value: format!("{}x{}", shape.0, shape.1),
                reason: "an image needs at least one row and one column",
            });
        }
        let r = (4.0 * settings.sigma).ceil() as i64;
        let raw: Vec<f64> = (-r..=r)
            .map(|k| (-0.5 * (k as f64 / settings.sigma).powi(2)).exp())
            .collect();
        let total: f64 = raw.iter().sum();
        let kernel: Vec<f64> = raw.into_iter().map(|k| k / total).collect();
        Ok(Self {
            settings,
            shape,
            along_rows: band(&kernel, shape.1),
            along_columns: band(&kernel, shape.0),
            kernel,
        })
    }

    /// The settings.
    pub fn settings(&self) -> Distortion {
        self.settings
    }

    /// The normalised 1-D smoothing kernel on −r..=r (its outer product with itself is G_σ).
    pub fn kernel(&self) -> &[f64] {
        &self.kernel
    }

    /// The stream of image `image` in epoch `epoch` under `seed` (the library's
    /// [`Domain::Augment`]; images are numbered below 2³² within an epoch).
    pub fn stream(seed: u64, epoch: u64, image: u64) -> StreamRng {
        rng::stream(seed, Domain::Augment, (epoch << 32) ^ image)
    }

    /// One image's map, drawn in this order: θ, φ, s_x, s_y, then (only when α > 0) the x and
    /// the y field, one U(−1, 1) value per pixel in row-major order.
    pub fn draw(&self, rng: &mut StreamRng) -> Warp {
        let mut s = self.scratch();
        self.draw_into(rng, &mut s);
        s.warp
    }

    fn scratch(&self) -> Scratch {
        let (h, w) = self.shape;
        Scratch {
            warp: Warp::identity(),
            padded: Vec::new(),
            raw: Array2::zeros((2 * h, w)),
            tmp: Array2::zeros((2 * h, w)),
        }
    }

    fn draw_into(&self, rng: &mut StreamRng, s: &mut Scratch) {
        let d = self.settings;
        let mut spread = |range: f64| range * (2.0 * rng::uniform::<f64>(rng) - 1.0);
        let (theta, phi) = (spread(d.rotation), spread(d.shear));
        let (sx, sy) = (1.0 + spread(d.scale), 1.0 + spread(d.scale));
        let matrix = Warp::affine(theta, phi, sx, sy).matrix;
        s.warp.matrix = matrix;
        if d.alpha == 0.0 {
            s.warp.dx.clear();
            s.warp.dy.clear();
            return;
        }
        // d = α·(G_σ ∗ u) with G_σ = k ⊗ k and zeros outside the image: α·K_h·u·K_w for
        // each field, by the product layer (both fields' row pass in one product).
        let (h, w) = self.shape;
        s.raw
            .iter_mut()
            .for_each(|u| *u = 2.0 * rng::uniform::<f64>(rng) - 1.0);
        gemm_seq(
            s.tmp.view_mut(),
            false,
            s.raw.view(),
            self.along_rows.view(),
            1.0,
        );
        for (k, field) in [&mut s.warp.dx, &mut s.warp.dy].into_iter().enumerate() {
            field.resize(h * w, 0.0);
            let out = ArrayViewMut2::from_shape((h, w), &mut field[..]).expect("h·w values");
            let part = s.tmp.slice(s![k * h..(k + 1) * h, ..]);
            gemm_seq(out, false, self.along_columns.view(), part, d.alpha);
        }
    }

    /// The rows of `images` (each one image of this distorter's shape) distorted, row i drawn
    /// from [`Distorter::stream`]`(seed, epoch, first + i)`.
    ///
    /// # Errors
    /// [`Error::Shape`] if the rows do not hold rows × columns pixels.
    pub fn batch<T: Float>(
        &self,
        images: ArrayView2<'_, T>,
        seed: u64,
        epoch: u64,
        first: usize,
    ) -> Result<Array2<T>> {
        let mut out = Array2::zeros(images.dim());
        self.batch_into(images, seed, epoch, first, out.view_mut())?;
        Ok(out)
    }

    /// [`Distorter::batch`] into `out` (the shape of `images`), rows in parallel.
    ///
    /// # Errors
    /// As [`Distorter::batch`], and [`Error::Shape`] if `out` differs from `images` in shape.
    pub fn batch_into<T: Float>(
        &self,
        images: ArrayView2<'_, T>,
        seed: u64,
        epoch: u64,
        first: usize,
        mut out: ArrayViewMut2<'_, T>,
    ) -> Result<()> {
        let pixels = self.shape.0 * self.shape.1;
        if images.ncols() != pixels {
            return Err(Error::Shape {
                what: "images",
                expected: format!(
                    "{pixels} columns ({}x{} pixels)",
                    self.shape.0, self.shape.1
                ),
                got: format!("{} columns", images.ncols()),
            });
        }
        if out.dim() != images.dim() {
            return Err(Error::Shape {
                what: "distorted images",
                expected: format!("{:?}", images.dim()),
                got: format!("{:?}", out.dim()),
            });
        }
        let images = images.as_standard_layout();
        let src = images.as_slice().expect("standard layout");
        let run = |dst: &mut [T]| {
            dst.par_chunks_mut(pixels).enumerate().for_each_init(
                || self.scratch(),
                |s, (i, row)| {
                    let mut r = Self::stream(seed, epoch, (first + i) as u64);
                    self.draw_into(&mut r, s);
                    s.warp.apply_padded(
                        &src[i * pixels..(i + 1) * pixels],
                        row,
                        self.shape,
                        &mut s.padded,
                    );
                },
            )
        };
        match out.as_slice_mut() {
            Some(dst) => run(dst),
            None => {
                let mut dst = out.as_standard_layout().to_owned();
                run(dst.as_slice_mut().expect("standard layout"));
                out.assign(&dst);
            }
        }
        Ok(())
    }
}
