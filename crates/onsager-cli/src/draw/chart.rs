//! Line charts with real axes: tick labels, axis titles, a title and a legend, set in the
//! embedded font. [`line_chart`] puts several series on one chart (the experiment's
//! log-likelihood per epoch for each method); [`panels`] stacks one chart per quantity, each on
//! its own scale (`onsager show curves`).

use std::path::Path;

use anyhow::Result;
use image::RgbImage;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{plot_err, register_font, write_png, FONT};

/// A named series of (x, y) points.
pub type Series = (String, Vec<(f64, f64)>);

/// Colours of successive series (ColorBrewer's Set1, then greys and teal).
const COLOURS: [RGBColor; 10] = [
    RGBColor(228, 26, 28),
    RGBColor(55, 126, 184),
    RGBColor(77, 175, 74),
    RGBColor(152, 78, 163),
    RGBColor(255, 127, 0),
    RGBColor(166, 86, 40),
    RGBColor(247, 129, 191),
    RGBColor(90, 90, 90),
    RGBColor(23, 190, 207),
    RGBColor(188, 189, 34),
];

/// The x and y ranges of the points, the y range limited to `y_limits` when given and padded
/// by 5 %; a unit range where there are no points.
fn ranges<'a>(
    points: impl Iterator<Item = &'a (f64, f64)>,
    y_limits: Option<(f64, f64)>,
) -> ((f64, f64), (f64, f64)) {
    let inf = f64::INFINITY;
    let (mut x0, mut x1, mut lo, mut hi) = (inf, -inf, inf, -inf);
    for &(x, y) in points {
        (x0, x1, lo, hi) = (x0.min(x), x1.max(x), lo.min(y), hi.max(y));
    }
    if !x0.is_finite() {
        (x0, x1, lo, hi) = (0.0, 1.0, 0.0, 1.0);
    }
    if let Some((bottom, top)) = y_limits {
        (lo, hi) = (lo.max(bottom), hi.min(top));
        if lo >= hi {
            (lo, hi) = (bottom, top);
        }
    }
    let pad = ((hi - lo) * 0.05).max(1e-9);
    ((x0, x1.max(x0 + 1.0)), (lo - pad, hi + pad))
}

/// Labels of the axes and the chart.
struct Labels<'a> {
    title: &'a str,
    x: &'a str,
    y: &'a str,
}

/// Draws `series` on `area` with a mesh, tick labels, axis titles and, for more than one
/// series, a legend.
fn chart(
    area: &DrawingArea<BitMapBackend<'_>, Shift>,
    labels: &Labels<'_>,
    series: &[(&Series, RGBColor)],
    y_limits: Option<(f64, f64)>,
) -> Result<()> {
    let ((x0, x1), (y0, y1)) = ranges(series.iter().flat_map(|(s, _)| s.1.iter()), y_limits);
    let mut c = ChartBuilder::on(area)
        .caption(labels.title, (FONT, 20))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(70)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(plot_err)?;
    // The x axis counts epochs: whole-number ticks only.
    let span = (x1 - x0).round() as usize;
    c.configure_mesh()
        .x_labels((span + 1).clamp(2, 12))
        .x_desc(labels.x)
        .y_desc(labels.y)
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 15))
        .light_line_style(RGBColor(235, 235, 235))
        .bold_line_style(RGBColor(210, 210, 210))
        .x_label_formatter(&|x| {
            if (x - x.round()).abs() < 1e-9 {
                tick(x.round(), x1 - x0)
            } else {
                String::new()
            }
        })
        .y_label_formatter(&|y| tick(*y, y1 - y0))
        .draw()
        .map_err(plot_err)?;
    for &((name, pts), colour) in series {
        let inside = pts.iter().copied().filter(|p| p.1 >= y0 && p.1 <= y1);
        c.draw_series(LineSeries::new(pts.iter().copied(), colour.stroke_width(2)))
            .map_err(plot_err)?
            .label(name.as_str())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(3)));
        c.draw_series(inside.map(|p| Circle::new(p, 3, colour.filled())))
            .map_err(plot_err)?;
    }
    if series.len() > 1 {
        c.configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(160, 160, 160))
            .label_font((FONT, 13))
            .draw()
            .map_err(plot_err)?;
    }
    Ok(())
}

/// A tick label on an axis spanning `span`: enough decimals to tell ticks about a tenth of the
/// span apart, without trailing zeros; scientific notation for very large values.
fn tick(v: f64, span: f64) -> String {
    if v.abs() >= 1e5 {
        return format!("{v:.1e}");
    }
    let decimals = (1 - span.abs().max(1e-12).log10().floor() as i32).clamp(0, 12) as usize;
    let s = format!("{v:.decimals$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        &s
    };
    if s == "-0" {
        "0".into()
    } else {
        s.into()
    }
}

/// Renders `draw` on a white `width` × `height` canvas and writes it as PNG.
fn render(
    path: &Path,
    (width, height): (u32, u32),
    draw: impl FnOnce(&DrawingArea<BitMapBackend<'_>, Shift>) -> Result<()>,
) -> Result<()> {
    register_font();
    let mut rgb = vec![255u8; (width * height * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
        draw(&root)?;
        root.present().map_err(plot_err)?;
    }
    write_png(
        path,
        &RgbImage::from_raw(width, height, rgb).expect("buffer size"),
    )
}

/// Several series on one chart with a legend, written atomically as PNG. The y axis spans the
/// data, limited to `y_limits` when given (points beyond are cut off at the border).
pub fn line_chart(
    path: &Path,
    (title, x_label, y_label): (&str, &str, &str),
    series: &[Series],
    y_limits: Option<(f64, f64)>,
) -> Result<()> {
    let coloured: Vec<_> = series.iter().zip(COLOURS.iter().cycle().copied()).collect();
    let labels = Labels {
        title,
        x: x_label,
        y: y_label,
    };
    render(path, (1000, 600), |root| {
        chart(root, &labels, &coloured, y_limits)
    })
}

/// One chart per series, stacked, each on its own y scale with the series' name as its title
/// and y-axis title; the x axis is `x_label`. Written atomically as PNG.
pub fn panels(path: &Path, x_label: &str, series: &[Series]) -> Result<()> {
    let n = series.len().max(1);
    render(path, (900, 260 * n as u32), |root| {
        for ((s, area), colour) in series
            .iter()
            .zip(root.split_evenly((n, 1)))
            .zip(COLOURS.iter().cycle().copied())
        {
            let labels = Labels {
                title: &s.0,
                x: x_label,
                y: &s.0,
            };
            chart(&area, &labels, &[(s, colour)], None)?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_short_and_ranges_cover_the_points() {
        assert_eq!(tick(2.0, 4.0), "2");
        assert_eq!(tick(-185.0, 25.0), "-185");
        assert_eq!(tick(-200.85, 0.3), "-200.85");
        assert_eq!(tick(0.08301, 0.0002), "0.08301");
        assert_eq!(tick(0.08302, 0.0002), "0.08302");
        assert_eq!(tick(-0.0, 1.0), "0");
        assert_eq!(tick(123456.0, 1e5), "1.2e5");
        let pts = [(1.0, -5.0), (3.0, 5.0)];
        let ((x0, x1), (y0, y1)) = ranges(pts.iter(), None);
        assert_eq!((x0, x1), (1.0, 3.0));
        assert!(y0 < -5.0 && y1 > 5.0);
        let (_, (y0, _)) = ranges(pts.iter(), Some((0.0, 10.0)));
        assert!(y0 < 0.0 && y0 > -1.0);
    }
}
