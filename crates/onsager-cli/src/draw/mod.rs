//! Pictures as PNG: image grids (filters, samples, labelled galleries) in `grid.rs`, line
//! charts with axes, ticks, titles and legends in `chart.rs`. Text is set in DejaVu Sans,
//! embedded in the binary (the `dejavu` crate) and drawn by plotters' ab_glyph renderer, so a
//! picture looks the same on every machine.

pub mod chart;
pub mod grid;

use std::path::Path;
use std::sync::Once;

use anyhow::Result;
use image::{ImageEncoder, RgbImage};

/// The font family every picture's text uses.
const FONT: &str = "sans-serif";

/// Registers the embedded font with plotters, once per process.
fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        plotters::style::register_font(
            FONT,
            plotters::style::FontStyle::Normal,
            dejavu::sans::regular(),
        )
        .unwrap_or_else(|_| unreachable!("the embedded DejaVu Sans is a valid font"));
    });
}

/// A plotting error as an `anyhow` error.
fn plot_err(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("plotting: {e}")
}

/// Draws `text` at `size` pixels with its top-left corner at (x, y) on `img`.
pub fn label(img: &mut RgbImage, x: i32, y: i32, text: &str, size: f64) -> Result<()> {
    use plotters::prelude::*;
    register_font();
    let (w, h) = img.dimensions();
    let root = BitMapBackend::with_buffer(img, (w, h)).into_drawing_area();
    root.draw(&Text::new(
        text.to_string(),
        (x, y),
        (FONT, size).into_font().color(&BLACK),
    ))
    .map_err(plot_err)?;
    root.present().map_err(plot_err)?;
    Ok(())
}

/// Writes `img` as PNG, atomically.
pub fn write_png(path: &Path, img: &RgbImage) -> Result<()> {
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
