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

/// The width in pixels of `text` set at `size` pixels in the pictures' font.
pub fn text_width(text: &str, size: f64) -> u32 {
    use plotters::prelude::*;
    register_font();
    (FONT, size)
        .into_font()
        .box_size(text)
        .map_or(text.chars().count() as u32 * size as u32, |(w, _)| w)
}

/// `text` broken at spaces into lines no wider than `width` pixels at `size` (a single word
/// wider than that is cut with an ellipsis), so that labels side by side never run into each
/// other.
pub fn wrap(text: &str, width: u32, size: f64) -> Vec<String> {
    let fits = |t: &str| text_width(t, size) <= width;
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let joined = if line.is_empty() {
            word.to_string()
        } else {
            format!("{line} {word}")
        };
        if fits(&joined) {
            line = joined;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        line = word.to_string();
        while !fits(&line) && line.chars().count() > 1 {
            let keep: String = line.chars().take(line.chars().count() - 2).collect();
            line = format!("{keep}…");
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapped_labels_fit_their_width_and_keep_every_word() {
        let title = "EMF-2 pers. reseeded, 3 damped sweeps";
        let width = text_width(title, 15.0);
        assert!(width > 150, "{width}");
        let lines = wrap(title, 150, 15.0);
        assert!(lines.len() >= 2, "{lines:?}");
        assert!(
            lines.iter().all(|l| text_width(l, 15.0) <= 150),
            "{lines:?}"
        );
        assert_eq!(lines.join(" "), title);
        assert_eq!(wrap(title, width, 15.0), vec![title.to_string()]);
        let cut = wrap("EMF-2-persistent-not-reseeded", 60, 15.0);
        assert_eq!(cut.len(), 1);
        assert!(
            cut[0].ends_with('…') && text_width(&cut[0], 15.0) <= 60,
            "{cut:?}"
        );
        assert_eq!(wrap("", 60, 15.0), vec![String::new()]);
    }
}
