//! Image grids: the rows of a matrix (filters, samples, data) tiled as small images with
//! 1-pixel gaps, and labelled galleries of such grids.

use std::path::Path;

use anyhow::{bail, Result};
use clap::ValueEnum;
use image::RgbImage;
use ndarray::ArrayView2;

use super::{label, write_png};

/// Colour scales.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum Scale {
    /// Values in [0, 1], black to white.
    Unit,
    /// One symmetric scale for all images (blue negative, red positive).
    Shared,
    /// Each image on its own symmetric scale.
    PerFilter,
}

/// Tiles the rows of `images` (each `shape.0 × shape.1` values) in a near-square grid with
/// 1-pixel gaps, and writes the PNG atomically.
pub fn write_grid(
    path: &Path,
    images: ArrayView2<'_, f64>,
    shape: (usize, usize),
    scale: Scale,
) -> Result<()> {
    write_png(path, &grid_image(images, shape, scale)?)
}

/// Labelled panels (e.g. one [`grid_image`] per model) side by side, `per_row` to a row,
/// each with its label above it; written atomically as PNG.
pub fn write_panels(path: &Path, panels: &[(String, RgbImage)], per_row: usize) -> Result<()> {
    let per_row = per_row.max(1);
    let (pw, ph) = panels.iter().fold((1, 1), |(w, h), (_, p)| {
        (w.max(p.width()), h.max(p.height()))
    });
    let (gap, label_h) = (24u32, 18u32);
    let cols = panels.len().clamp(1, per_row) as u32;
    let rows = panels.len().div_ceil(per_row).max(1) as u32;
    let (width, height) = (cols * (pw + gap) + gap, rows * (ph + label_h + gap) + gap);
    let mut img = RgbImage::from_pixel(width, height, image::Rgb([255, 255, 255]));
    for (k, (name, p)) in panels.iter().enumerate() {
        let (c, r) = ((k % per_row) as u32, (k / per_row) as u32);
        let (x, y) = (gap + c * (pw + gap), gap + r * (ph + label_h + gap));
        label(&mut img, x as i32, y as i32 - 2, name, 15.0)?;
        image::imageops::replace(&mut img, p, i64::from(x), i64::from(y + label_h));
    }
    write_png(path, &img)
}

/// The image [`write_grid`] writes.
pub fn grid_image(
    images: ArrayView2<'_, f64>,
    shape: (usize, usize),
    scale: Scale,
) -> Result<RgbImage> {
    let (h, w) = shape;
    if h * w != images.ncols() {
        bail!(
            "image shape {h}x{w} has {} pixels but rows have {} values",
            h * w,
            images.ncols()
        );
    }
    let n = images.nrows().max(1);
    let cols = (n as f64).sqrt().ceil() as usize;
    let rows = n.div_ceil(cols);
    let (width, height) = ((cols * (w + 1) + 1) as u32, (rows * (h + 1) + 1) as u32);
    let mut img = RgbImage::from_pixel(width, height, image::Rgb([40, 40, 40]));
    let shared = images.iter().fold(1e-12f64, |m, x| m.max(x.abs()));
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
                Scale::Shared | Scale::PerFilter => {
                    let m = if scale == Scale::Shared { shared } else { own };
                    let t = (v / m).clamp(-1.0, 1.0);
                    let fade = (255.0 * (1.0 - t.abs())).round() as u8;
                    if t >= 0.0 {
                        [255, fade, fade]
                    } else {
                        [fade, fade, 255]
                    }
                }
            };
            img.put_pixel((c0 + p % w) as u32, (r0 + p / w) as u32, image::Rgb(px));
        }
    }
    Ok(img)
}
