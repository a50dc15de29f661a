//! `onsager show` and the PNG grids `sample` writes.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use image::{ImageEncoder, RgbImage};
use ndarray::ArrayView2;
use onsager::io::model::{self, ModelFile};
use onsager::EpochMetrics;

use crate::args::parse_shape;

/// `onsager show` options.
#[derive(Args, Debug)]
pub struct ShowArgs {
    #[command(subcommand)]
    pub what: Show,
}

/// What to draw.
#[derive(Subcommand, Debug)]
pub enum Show {
    /// Each hidden unit's weights as an image, tiled.
    Filters {
        /// Model file.
        model: PathBuf,
        /// Output PNG.
        #[arg(short, long, default_value = "filters.png")]
        out: PathBuf,
        /// How many hidden units (the first N).
        #[arg(short, long, default_value_t = 100)]
        n: usize,
        /// Colour scale: one for all filters, or each filter stretched on its own.
        #[arg(long, value_enum, default_value_t = Scale::Shared)]
        scale: Scale,
        /// Image shape, e.g. 28x28 (default: stored in the model).
        #[arg(long, value_parser = parse_shape)]
        shape: Option<(usize, usize)>,
    },
    /// Rows of a .npy file (samples, data) as a grid of images.
    Samples {
        /// The .npy file (values in [0, 1]).
        file: PathBuf,
        /// Output PNG.
        #[arg(short, long, default_value = "samples.png")]
        out: PathBuf,
        /// Image shape, e.g. 28x28.
        #[arg(long, value_parser = parse_shape, default_value = "28x28")]
        shape: (usize, usize),
    },
    /// Training curves from a metrics log (`train --log`): one panel per metric present
    /// (pseudo-ll, recon, emf-ll, rows/s), each on its own scale, labelled with its name, range
    /// and epochs (the ranges are also printed).
    Curves {
        /// The JSON-lines metrics log.
        log: PathBuf,
        /// Output PNG.
        #[arg(short, long, default_value = "curves.png")]
        out: PathBuf,
    },
}

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

/// Runs `onsager show`.
pub fn show(a: ShowArgs) -> Result<()> {
    match a.what {
        Show::Filters {
            model: path,
            out,
            n,
            scale,
            shape,
        } => {
            let file: ModelFile<f64> = model::load(&path)?;
            let shape = shape
                .or(file.image_shape)
                .context("--shape is needed (the model stores no image shape)")?;
            let w = file.rbm.weights();
            let k = n.min(w.ncols());
            let filters = w.t().slice(ndarray::s![..k, ..]).to_owned();
            write_grid(&out, filters.view(), shape, scale)?;
            eprintln!("wrote {} ({k} filters)", out.display());
        }
        Show::Samples { file, out, shape } => {
            let x = match onsager::io::npy::read(&file)? {
                onsager::data::Values::U8(a) => a.mapv(|v| v as f64 / 255.0),
                onsager::data::Values::F32(a) => a.mapv(|v| v as f64),
                onsager::data::Values::F64(a) => a,
            };
            write_grid(&out, x.view(), shape, Scale::Unit)?;
            eprintln!("wrote {} ({} images)", out.display(), x.nrows());
        }
        Show::Curves { log, out } => curves(&log, &out)?,
    }
    Ok(())
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
    let (gap, label_h) = (24u32, 16u32);
    let cols = panels.len().clamp(1, per_row) as u32;
    let rows = panels.len().div_ceil(per_row).max(1) as u32;
    let (width, height) = (cols * (pw + gap) + gap, rows * (ph + label_h + gap) + gap);
    let mut img = RgbImage::from_pixel(width, height, image::Rgb([255, 255, 255]));
    for (k, (label, p)) in panels.iter().enumerate() {
        let (c, r) = ((k % per_row) as u32, (k / per_row) as u32);
        let (x, y) = (gap + c * (pw + gap), gap + r * (ph + label_h + gap));
        draw_text(&mut img, x, y, label, 2, [0, 0, 0]);
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

fn write_png(path: &Path, img: &RgbImage) -> Result<()> {
    let mut buf = Vec::new();
    image::codecs::png::PngEncoder::new(&mut buf).write_image(
        img.as_raw(),
        img.width(),
        img.height(),
        image::ExtendedColorType::Rgb8,
    )?;
    onsager::io::write_atomic(path, &buf)?;
    Ok(())
}

fn curves(log: &Path, out: &Path) -> Result<()> {
    let text =
        std::fs::read_to_string(log).with_context(|| format!("cannot read {}", log.display()))?;
    let mut records = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let m: EpochMetrics = serde_json::from_str(line).with_context(|| {
            format!("{}: line {} is not a metrics record", log.display(), i + 1)
        })?;
        records.push(m);
    }
    if records.is_empty() {
        bail!("{}: no metrics records", log.display());
    }
    type Getter = fn(&EpochMetrics) -> Option<f64>;
    let series: [(&str, Getter); 4] = [
        ("pseudo-ll", |m| m.pseudo_likelihood),
        ("recon", |m| m.reconstruction_error),
        ("emf-ll", |m| m.emf_log_likelihood),
        ("rows/s", |m| Some(m.samples_per_second)),
    ];
    let panels: Vec<(&str, Vec<(f64, f64)>)> = series
        .iter()
        .map(|(name, get)| {
            (
                *name,
                records
                    .iter()
                    .filter_map(|m| get(m).map(|v| (m.epoch as f64, v)))
                    .collect::<Vec<_>>(),
            )
        })
        .filter(|(_, pts)| !pts.is_empty())
        .collect();
    let (width, panel_h) = (800u32, 200u32);
    let height = panel_h * panels.len() as u32;
    let mut rgb = vec![255u8; (width * height * 3) as usize];
    let mut labels = Vec::new();
    {
        use plotters::prelude::*;
        let root = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
        let areas = root.split_evenly((panels.len(), 1));
        let colours = [RED, BLUE, GREEN, BLACK];
        for ((area, (name, pts)), colour) in areas.iter().zip(&panels).zip(colours) {
            let (x0, x1) = (
                pts.first().expect("non-empty").0,
                pts.last().expect("non-empty").0.max(pts[0].0 + 1.0),
            );
            let (lo, hi) = pts
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), p| {
                    (l.min(p.1), h.max(p.1))
                });
            let pad = ((hi - lo) * 0.05).max(1e-9);
            let y = ((lo - pad), (hi + pad));
            framed_lines(area, [24; 4], (x0, x1), y, &[(pts, colour)], false)?;
            println!("{name:10} epochs {x0}..{x1}  range [{lo:.5}, {hi:.5}]");
            labels.push((*name, x0, x1, lo, hi));
        }
        root.present().map_err(plot_err)?;
    }
    let mut img = RgbImage::from_raw(width, height, rgb).expect("buffer size");
    let grey = [90, 90, 90];
    for (k, (name, x0, x1, lo, hi)) in labels.into_iter().enumerate() {
        let top = k as u32 * panel_h;
        draw_text(&mut img, 30, top + 4, name, 3, [0, 0, 0]);
        draw_text(
            &mut img,
            width - 260,
            top + 4,
            &format!("max {}", short(hi)),
            2,
            grey,
        );
        draw_text(
            &mut img,
            width - 260,
            top + panel_h - 16,
            &format!("min {}", short(lo)),
            2,
            grey,
        );
        draw_text(
            &mut img,
            30,
            top + panel_h - 16,
            &format!("epoch {x0} to {x1}"),
            2,
            grey,
        );
    }
    write_png(out, &img)?;
    eprintln!("wrote {}", out.display());
    Ok(())
}

/// Several curves on one chart (e.g. a log-likelihood per epoch for each method), with a
/// title, a legend, and the axis ranges written out; written atomically as PNG. Series with
/// no points are listed in the legend only. The y axis spans the data, limited to `y_limits`
/// when given (points beyond them are cut off at the border).
pub fn line_chart(
    path: &Path,
    title: &str,
    series: &[(String, Vec<(f64, f64)>)],
    y_limits: Option<(f64, f64)>,
) -> Result<()> {
    let points = series.iter().flat_map(|(_, p)| p.iter());
    let (mut x0, mut x1, mut lo, mut hi) = (
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    );
    for &(x, y) in points {
        (x0, x1, lo, hi) = (x0.min(x), x1.max(x), lo.min(y), hi.max(y));
    }
    if !x0.is_finite() {
        (x0, x1, lo, hi) = (0.0, 1.0, 0.0, 1.0);
    }
    let x1 = x1.max(x0 + 1.0);
    if let Some((bottom, top)) = y_limits {
        (lo, hi) = (lo.max(bottom), hi.min(top));
        if lo >= hi {
            (lo, hi) = (bottom, top);
        }
    }
    let pad = ((hi - lo) * 0.05).max(1e-9);
    let (lo, hi) = (lo - pad, hi + pad);
    let (width, height, legend_w) = (1000u32, 560u32, 260u32);
    let colours: [[u8; 3]; 10] = [
        [228, 26, 28],
        [55, 126, 184],
        [77, 175, 74],
        [152, 78, 163],
        [255, 127, 0],
        [166, 86, 40],
        [247, 129, 191],
        [90, 90, 90],
        [23, 190, 207],
        [188, 189, 34],
    ];
    let mut rgb = vec![255u8; (width * height * 3) as usize];
    {
        use plotters::prelude::*;
        let root = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
        let (area, _) = root.split_horizontally(width - legend_w);
        let lines: Vec<_> = series
            .iter()
            .zip(colours.iter().cycle())
            .map(|((_, pts), c)| (&pts[..], RGBColor(c[0], c[1], c[2])))
            .collect();
        framed_lines(&area, [40, 30, 30, 10], (x0, x1), (lo, hi), &lines, true)?;
        root.present().map_err(plot_err)?;
    }
    let mut img = RgbImage::from_raw(width, height, rgb).expect("buffer size");
    let grey = [90, 90, 90];
    draw_text(&mut img, 30, 4, title, 3, [0, 0, 0]);
    draw_text(&mut img, 30, 26, &format!("top {}", short(hi)), 2, grey);
    draw_text(
        &mut img,
        30,
        height - 22,
        &format!(
            "bottom {}   x from {} to {}",
            short(lo),
            short(x0),
            short(x1)
        ),
        2,
        grey,
    );
    let lx = width - legend_w + 10;
    for (k, ((name, _), c)) in series.iter().zip(colours.iter().cycle()).enumerate() {
        let y = 50 + 24 * k as u32;
        for dy in 0..10 {
            for dx in 0..24 {
                img.put_pixel(lx + dx, y + dy, image::Rgb(*c));
            }
        }
        draw_text(&mut img, lx + 32, y, name, 2, [0, 0, 0]);
    }
    write_png(path, &img)
}

fn plot_err(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("plotting: {e}")
}

/// Draws `lines` (points and colour) in a grey frame on `area` over the ranges `x` × `y`,
/// with margins [top, bottom, left, right]; with `markers`, a dot at every point.
fn framed_lines(
    area: &plotters::drawing::DrawingArea<
        plotters::backend::BitMapBackend<'_>,
        plotters::coord::Shift,
    >,
    margins: [u32; 4],
    x: (f64, f64),
    y: (f64, f64),
    lines: &[(&[(f64, f64)], plotters::style::RGBColor)],
    markers: bool,
) -> Result<()> {
    use plotters::prelude::*;
    let [top, bottom, left, right] = margins;
    let mut chart = ChartBuilder::on(area)
        .margin_top(top)
        .margin_bottom(bottom)
        .margin_left(left)
        .margin_right(right)
        .build_cartesian_2d(x.0..x.1, y.0..y.1)
        .map_err(plot_err)?;
    chart
        .plotting_area()
        .draw(&Rectangle::new(
            [(x.0, y.0), (x.1, y.1)],
            RGBColor(160, 160, 160).stroke_width(1),
        ))
        .map_err(plot_err)?;
    for &(pts, colour) in lines {
        chart
            .draw_series(LineSeries::new(pts.iter().copied(), colour.stroke_width(2)))
            .map_err(plot_err)?;
        if markers {
            chart
                .draw_series(pts.iter().map(|&p| Circle::new(p, 3, colour.filled())))
                .map_err(plot_err)?;
        }
    }
    Ok(())
}

/// A 3 × 5 pixel font: digits, lowercase letters and a little punctuation, enough to label
/// curves without a font library. Each glyph is five rows of three bits, top row first.
fn glyph(c: char) -> Option<[u8; 5]> {
    let g = |r: [&str; 5]| {
        let mut out = [0u8; 5];
        for (o, row) in out.iter_mut().zip(r) {
            *o = u8::from_str_radix(row, 2).expect("binary glyph row");
        }
        out
    };
    Some(g(match c {
        '0' => ["111", "101", "101", "101", "111"],
        '1' => ["010", "110", "010", "010", "111"],
        '2' => ["111", "001", "111", "100", "111"],
        '3' => ["111", "001", "111", "001", "111"],
        '4' => ["101", "101", "111", "001", "001"],
        '5' => ["111", "100", "111", "001", "111"],
        '6' => ["111", "100", "111", "101", "111"],
        '7' => ["111", "001", "001", "001", "001"],
        '8' => ["111", "101", "111", "101", "111"],
        '9' => ["111", "101", "111", "001", "111"],
        '.' => ["000", "000", "000", "000", "010"],
        ',' => ["000", "000", "000", "010", "100"],
        '-' => ["000", "000", "111", "000", "000"],
        '+' => ["000", "010", "111", "010", "000"],
        '/' => ["001", "001", "010", "100", "100"],
        ':' => ["000", "010", "000", "010", "000"],
        '[' => ["110", "100", "100", "100", "110"],
        '(' => ["010", "100", "100", "100", "010"],
        ')' => ["010", "001", "001", "001", "010"],
        '=' => ["000", "111", "000", "111", "000"],
        'j' => ["001", "000", "001", "101", "010"],
        'q' => ["000", "011", "101", "011", "001"],
        'z' => ["000", "111", "001", "010", "111"],
        ']' => ["011", "001", "001", "001", "011"],
        ' ' => ["000", "000", "000", "000", "000"],
        'a' => ["000", "011", "101", "101", "011"],
        'b' => ["100", "110", "101", "101", "110"],
        'c' => ["000", "011", "100", "100", "011"],
        'd' => ["001", "011", "101", "101", "011"],
        'e' => ["000", "010", "111", "100", "011"],
        'f' => ["011", "100", "110", "100", "100"],
        'g' => ["000", "011", "101", "011", "110"],
        'h' => ["100", "110", "101", "101", "101"],
        'i' => ["010", "000", "010", "010", "010"],
        'k' => ["100", "101", "110", "110", "101"],
        'l' => ["110", "010", "010", "010", "111"],
        'm' => ["000", "111", "111", "101", "101"],
        'n' => ["000", "110", "101", "101", "101"],
        'o' => ["000", "010", "101", "101", "010"],
        'p' => ["000", "110", "101", "110", "100"],
        'r' => ["000", "011", "100", "100", "100"],
        's' => ["000", "011", "110", "011", "110"],
        't' => ["010", "111", "010", "010", "011"],
        'u' => ["000", "101", "101", "101", "011"],
        'v' => ["000", "101", "101", "101", "010"],
        'w' => ["000", "101", "101", "111", "111"],
        'x' => ["000", "101", "010", "010", "101"],
        'y' => ["000", "101", "011", "001", "110"],
        _ => return None,
    }))
}

/// Draws `text` (lowercased; unknown characters are skipped) with its top-left corner at
/// (x, y), each font pixel `scale` × `scale` image pixels.
fn draw_text(img: &mut RgbImage, x: u32, y: u32, text: &str, scale: u32, colour: [u8; 3]) {
    let mut cx = x;
    for c in text.to_lowercase().chars() {
        let Some(rows) = glyph(c) else { continue };
        for (r, bits) in rows.iter().enumerate() {
            for col in 0..3u32 {
                if bits >> (2 - col) & 1 == 1 {
                    for dy in 0..scale {
                        for dx in 0..scale {
                            let (px, py) = (cx + col * scale + dx, y + r as u32 * scale + dy);
                            if px < img.width() && py < img.height() {
                                img.put_pixel(px, py, image::Rgb(colour));
                            }
                        }
                    }
                }
            }
        }
        cx += 4 * scale;
    }
}

/// A number in at most about eight characters.
fn short(v: f64) -> String {
    if v != 0.0 && (v.abs() >= 1e5 || v.abs() < 1e-2) {
        format!("{v:.3e}")
    } else {
        format!("{v:.4}")
    }
}
