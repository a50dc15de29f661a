//! Image grids: the rows of a matrix (filters, samples, data) tiled as small images with
//! 1-pixel gaps, and labelled galleries of such grids.

use std::path::Path;

use anyhow::{bail, Result};
use clap::ValueEnum;
use image::RgbImage;
use ndarray::ArrayView2;

use super::{label, wrap, write_png};

/// Colour scales.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum Scale {
    /// Values in [0, 1], black to white.
    Unit,
    /// One symmetric scale for all images (blue negative, red positive).
    Shared,
    /// Each image on its own symmetric scale.
    PerFilter,
    /// One grey scale for all images from their lowest value (black) to their highest
    /// (white): real-valued samples in the data's own units.
    Span,
}

/// The smallest whole magnification that makes a grid of `n` images of `shape` at least
/// 480 pixels wide (at most 8): 16 MNIST digits come out 468 → 936 pixels, not 117.
pub fn auto_zoom(n: usize, shape: (usize, usize)) -> u32 {
    let cols = (n.max(1) as f64).sqrt().ceil() as usize;
    let width = cols * (shape.1 + 1) + 1;
    (480usize.div_ceil(width.max(1))).clamp(1, 8) as u32
}

/// Tiles the rows of `images` (each `shape.0 × shape.1` values) in a near-square grid with
/// 1-pixel gaps, each pixel drawn `zoom` × `zoom` ([`auto_zoom`] when `None`); the signed
/// scales get a colour legend underneath. Writes the PNG atomically. Returns the zoom used.
///
/// # Errors
/// No rows, a value that is NaN or infinite (naming its row and column), a shape that does
/// not match the rows, or a write that fails.
pub fn write_grid(
    path: &Path,
    images: ArrayView2<'_, f64>,
    shape: (usize, usize),
    scale: Scale,
    zoom: Option<u32>,
) -> Result<u32> {
    let zoom = zoom
        .unwrap_or_else(|| auto_zoom(images.nrows(), shape))
        .max(1);
    let grid = grid_image(images, shape, scale, zoom)?;
    let img = match scale {
        Scale::Unit => grid,
        Scale::Shared => {
            let m = images.iter().fold(0f64, |m, x| m.max(x.abs()));
            with_legend(grid, &format!("{:+.3}", -m), &format!("{m:+.3}"))?
        }
        Scale::PerFilter => with_legend(grid, "−max|w| of each filter", "+max|w|")?,
        Scale::Span => {
            let (lo, hi) = span(images);
            with_legend(grid, &format!("{lo:.3} black"), &format!("{hi:.3} white"))?
        }
    };
    write_png(path, &img)?;
    Ok(zoom)
}

/// `grid` with a colour bar underneath, blue (`low`) through white (0) to red (`high`).
fn with_legend(grid: RgbImage, low: &str, high: &str) -> Result<RgbImage> {
    let (w, h) = grid.dimensions();
    let width = w.max(240);
    let (bar_h, text_h) = (10u32, 18u32);
    let mut img = RgbImage::from_pixel(width, h + bar_h + text_h + 8, image::Rgb([255, 255, 255]));
    image::imageops::replace(&mut img, &grid, 0, 0);
    let (x0, x1) = (8u32, width - 8);
    for x in x0..x1 {
        let t = 2.0 * (x - x0) as f64 / (x1 - x0 - 1).max(1) as f64 - 1.0;
        for y in h + 4..h + 4 + bar_h {
            img.put_pixel(x, y, image::Rgb(signed_colour(t)));
        }
    }
    let y = (h + 6 + bar_h) as i32;
    label(&mut img, x0 as i32, y, low, 13.0)?;
    label(&mut img, (width / 2) as i32 - 3, y, "0", 13.0)?;
    let right = x1 as i32 - 7 * high.chars().count() as i32;
    label(&mut img, right.max((width / 2) as i32 + 10), y, high, 13.0)?;
    Ok(img)
}

/// The colour of t ∈ [−1, 1] on the signed scale: blue, white at 0, red.
fn signed_colour(t: f64) -> [u8; 3] {
    let t = t.clamp(-1.0, 1.0);
    let fade = (255.0 * (1.0 - t.abs())).round() as u8;
    if t >= 0.0 {
        [255, fade, fade]
    } else {
        [fade, fade, 255]
    }
}

/// Labelled panels (e.g. one [`grid_image`] per model) side by side, `per_row` to a row,
/// each with its label above it, wrapped to the panel's width ([`wrap`]); written atomically
/// as PNG.
pub fn write_panels(path: &Path, panels: &[(String, RgbImage)], per_row: usize) -> Result<()> {
    let per_row = per_row.max(1);
    let (pw, ph) = panels.iter().fold((1, 1), |(w, h), (_, p)| {
        (w.max(p.width()), h.max(p.height()))
    });
    let (gap, size, line_h) = (24u32, 15.0, 18u32);
    // A label may use its panel's width and the gap after it, less a margin.
    let titles: Vec<Vec<String>> = panels
        .iter()
        .map(|(name, _)| wrap(name, pw + gap - 8, size))
        .collect();
    let label_h = line_h * titles.iter().map(Vec::len).max().unwrap_or(1) as u32;
    let cols = panels.len().clamp(1, per_row) as u32;
    let rows = panels.len().div_ceil(per_row).max(1) as u32;
    let (width, height) = (cols * (pw + gap) + gap, rows * (ph + label_h + gap) + gap);
    let mut img = RgbImage::from_pixel(width, height, image::Rgb([255, 255, 255]));
    for (k, ((_, p), lines)) in panels.iter().zip(&titles).enumerate() {
        let (c, r) = ((k % per_row) as u32, (k / per_row) as u32);
        let (x, y) = (gap + c * (pw + gap), gap + r * (ph + label_h + gap));
        // The label sits just above its panel: a shorter one starts lower.
        let top = y + label_h - line_h * lines.len() as u32;
        for (i, line) in lines.iter().enumerate() {
            label(
                &mut img,
                x as i32,
                (top + i as u32 * line_h) as i32 - 2,
                line,
                size,
            )?;
        }
        image::imageops::replace(&mut img, p, i64::from(x), i64::from(y + label_h));
    }
    write_png(path, &img)
}

/// The lowest and highest value of `images` ([`Scale::Span`]'s black and white).
fn span(images: ArrayView2<'_, f64>) -> (f64, f64) {
    images
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
            (lo.min(x), hi.max(x))
        })
}

/// The grid [`write_grid`] draws (without its legend), each pixel `zoom` × `zoom`.
pub fn grid_image(
    images: ArrayView2<'_, f64>,
    shape: (usize, usize),
    scale: Scale,
    zoom: u32,
) -> Result<RgbImage> {
    let (h, w) = shape;
    if h * w != images.ncols() {
        bail!(
            "image shape {h}x{w} has {} pixels but rows have {} values",
            h * w,
            images.ncols()
        );
    }
    if images.nrows() == 0 {
        bail!("nothing to draw: 0 rows");
    }
    if let Some(((r, c), v)) = images.indexed_iter().find(|(_, v)| !v.is_finite()) {
        bail!(
            "cannot draw row {}, column {} (counting from 1): the value is {v}",
            r + 1,
            c + 1
        );
    }
    let n = images.nrows();
    let cols = (n as f64).sqrt().ceil() as usize;
    let rows = n.div_ceil(cols);
    let (width, height) = ((cols * (w + 1) + 1) as u32, (rows * (h + 1) + 1) as u32);
    let mut img = RgbImage::from_pixel(width, height, image::Rgb([40, 40, 40]));
    let shared = images.iter().fold(1e-12f64, |m, x| m.max(x.abs()));
    let (lo, hi) = span(images);
    for (k, row) in images.rows().into_iter().enumerate() {
        let own = row.iter().fold(1e-12f64, |m, x| m.max(x.abs()));
        let (r0, c0) = ((k / cols) * (h + 1) + 1, (k % cols) * (w + 1) + 1);
        for p in 0..h * w {
            let v = row[p];
            let px = match scale {
                Scale::Unit => {
                    let g = (v.clamp(0.0, 1.0) * 255.0).round() as u8;
                    [g, g, g]
                }
                Scale::Span => {
                    let g = ((v - lo) / (hi - lo).max(1e-12) * 255.0).round() as u8;
                    [g, g, g]
                }
                Scale::Shared | Scale::PerFilter => {
                    let m = if scale == Scale::Shared { shared } else { own };
                    signed_colour(v / m)
                }
            };
            img.put_pixel((c0 + p % w) as u32, (r0 + p / w) as u32, image::Rgb(px));
        }
    }
    if zoom > 1 {
        img = image::imageops::resize(
            &img,
            width * zoom,
            height * zoom,
            image::imageops::FilterType::Nearest,
        );
    }
    Ok(img)
}
