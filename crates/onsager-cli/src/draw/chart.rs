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

/// One point of a series: the estimate and what is known of its error.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    /// The x value (an epoch, seconds).
    pub x: f64,
    /// The estimate.
    pub y: f64,
    /// Its bounds.
    pub bounds: Bounds,
}

/// What is known of a point's error.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Bounds {
    /// Nothing: a figure without an error bar (a metric, an EMF estimate).
    None,
    /// Finite bounds, drawn as a band around the line.
    Between(f64, f64),
    /// No upper bound (an AIS estimate whose weights spread too widely): the point is drawn
    /// as a hollow marker off the line, with a whisker from its lower bound, when finite, to
    /// the top of the chart.
    OpenAbove(Option<f64>),
}

impl Point {
    /// A point without an error bar.
    pub fn plain(x: f64, y: f64) -> Self {
        Self {
            x,
            y,
            bounds: Bounds::None,
        }
    }

    /// An estimate with bounds `lower`, `upper` (either may be missing or infinite, which
    /// makes the upper bound open).
    pub fn bounded(x: f64, y: f64, lower: Option<f64>, upper: Option<f64>) -> Self {
        let lower = lower.filter(|l| l.is_finite());
        let bounds = match (lower, upper.filter(|u| u.is_finite())) {
            (Some(l), Some(u)) => Bounds::Between(l, u),
            _ => Bounds::OpenAbove(lower),
        };
        Self { x, y, bounds }
    }

    fn open(&self) -> bool {
        matches!(self.bounds, Bounds::OpenAbove(_))
    }
}

/// A named series of points.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// The legend's name.
    pub name: String,
    /// The points, in x order.
    pub points: Vec<Point>,
}

impl Series {
    /// A series of plain (x, y) points.
    pub fn plain(name: impl Into<String>, points: impl IntoIterator<Item = (f64, f64)>) -> Self {
        Self {
            name: name.into(),
            points: points
                .into_iter()
                .map(|(x, y)| Point::plain(x, y))
                .collect(),
        }
    }
}

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

/// The most series whose bounds are drawn as shaded bands; more get error bars.
pub const MAX_BANDS: usize = 4;

/// A marker's shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Marker {
    Circle,
    Triangle,
    Square,
    Diamond,
}

/// A line's pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dash {
    Solid,
    Dashed,
    Dotted,
}

/// How one series is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Style {
    /// Index into the palette.
    pub colour: usize,
    pub marker: Marker,
    pub dash: Dash,
}

/// The style of series `k`: the colour cycles through 10, the marker through 4 and the line
/// pattern changes every 10 series, so neighbours differ in colour and marker and the first
/// 60 series are all told apart.
pub fn style(k: usize) -> Style {
    const MARKERS: [Marker; 4] = [
        Marker::Circle,
        Marker::Triangle,
        Marker::Square,
        Marker::Diamond,
    ];
    const DASHES: [Dash; 3] = [Dash::Solid, Dash::Dashed, Dash::Dotted];
    Style {
        colour: k % COLOURS.len(),
        marker: MARKERS[k % MARKERS.len()],
        dash: DASHES[(k / COLOURS.len()) % DASHES.len()],
    }
}

/// What is drawn of one series, in data coordinates: the parts [`chart`] renders and the
/// tests read.
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    pub style: Style,
    /// Runs of consecutive points joined by the line; an open-bounded point breaks a run.
    pub lines: Vec<Vec<(f64, f64)>>,
    /// Points drawn as filled markers (on the line).
    pub closed: Vec<(f64, f64)>,
    /// Points without an upper bound: hollow markers, and the lower bound of each (if finite).
    pub open: Vec<((f64, f64), Option<f64>)>,
    /// Runs of consecutive points with finite bounds, as (x, lower, upper): the bands.
    pub bands: Vec<Vec<(f64, f64, f64)>>,
}

/// The layout of series `k`.
pub fn layout(k: usize, s: &Series) -> Layout {
    let mut l = Layout {
        style: style(k),
        lines: vec![],
        closed: vec![],
        open: vec![],
        bands: vec![],
    };
    let (mut line, mut band) = (Vec::new(), Vec::new());
    for p in &s.points {
        if p.open() {
            if !line.is_empty() {
                l.lines.push(std::mem::take(&mut line));
            }
        } else {
            line.push((p.x, p.y));
        }
        match p.bounds {
            Bounds::Between(lo, hi) => band.push((p.x, lo, hi)),
            _ if !band.is_empty() => l.bands.push(std::mem::take(&mut band)),
            _ => {}
        }
        match p.bounds {
            Bounds::OpenAbove(lower) => l.open.push(((p.x, p.y), lower)),
            _ => l.closed.push((p.x, p.y)),
        }
    }
    if !line.is_empty() {
        l.lines.push(line);
    }
    if !band.is_empty() {
        l.bands.push(band);
    }
    l
}

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
    // A single x value gets a unit span; any other span is kept as it is.
    let x1 = if x1 - x0 > 1e-12 { x1 } else { x0 + 1.0 };
    ((x0, x1), (lo - pad, hi + pad))
}

/// Labels of the axes and the chart.
struct Labels<'a> {
    title: &'a str,
    x: &'a str,
    y: &'a str,
}

/// The vertices of `marker` of radius `r` pixels around (0, 0).
fn marker_outline(marker: Marker, r: i32) -> Vec<(i32, i32)> {
    match marker {
        Marker::Circle => (0..12)
            .map(|i| {
                let a = i as f64 * std::f64::consts::PI / 6.0;
                let r = r as f64;
                ((r * a.cos()).round() as i32, (r * a.sin()).round() as i32)
            })
            .collect(),
        Marker::Triangle => vec![(0, -r - 1), (r + 1, r), (-r - 1, r)],
        Marker::Square => vec![(-r, -r), (r, -r), (r, r), (-r, r)],
        Marker::Diamond => vec![(0, -r - 1), (r + 1, 0), (0, r + 1), (-r - 1, 0)],
    }
}

/// Pixel offsets from an anchor: a path or a polygon's vertices.
type Outline = Vec<(i32, i32)>;

/// The legend's sample of `style`, relative to the entry's anchor: three pieces of a short
/// line in its pattern (contiguous when solid) and its marker's outline in the middle.
fn legend_sample(style: Style) -> ([Outline; 3], Outline) {
    let spans: [(i32, i32); 3] = match style.dash {
        Dash::Solid => [(0, 24), (0, 24), (0, 24)],
        Dash::Dashed => [(0, 7), (9, 15), (17, 24)],
        Dash::Dotted => [(0, 2), (11, 13), (22, 24)],
    };
    let marker = marker_outline(style.marker, 4)
        .into_iter()
        .map(|(dx, dy)| (dx + 12, dy))
        .collect();
    (spans.map(|(a, b)| vec![(a, 0), (b, 0)]), marker)
}

/// Draws `series` on `area` with a mesh, tick labels, axis titles and, for more than one
/// series, a legend: each series in its [`style`], bands where its bounds are finite, and
/// open-bounded points as hollow markers off the line ([`layout`]).
fn chart(
    area: &DrawingArea<BitMapBackend<'_>, Shift>,
    labels: &Labels<'_>,
    series: &[(&Series, Layout)],
    y_limits: Option<(f64, f64)>,
) -> Result<()> {
    let all = series
        .iter()
        .flat_map(|(s, _)| s.points.iter().map(|p| (p.x, p.y)));
    let ((x0, x1), (y0, y1)) = ranges(all.collect::<Vec<_>>().iter(), y_limits);
    let mut c = ChartBuilder::on(area)
        .caption(labels.title, (FONT, 20))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(70)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(plot_err)?;
    // An x axis spanning a few units or more (epochs, decades of α) gets whole-number ticks
    // only; a shorter one gets ordinary ticks.
    let span = (x1 - x0).round() as usize;
    let whole = x1 - x0 >= 2.0;
    c.configure_mesh()
        .x_labels(if whole { (span + 1).clamp(2, 12) } else { 6 })
        .x_desc(labels.x)
        .y_desc(labels.y)
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 15))
        .light_line_style(RGBColor(235, 235, 235))
        .bold_line_style(RGBColor(210, 210, 210))
        .x_label_formatter(&|x| {
            if !whole {
                tick(*x, x1 - x0)
            } else if (x - x.round()).abs() < 1e-9 {
                tick(x.round(), x1 - x0)
            } else {
                String::new()
            }
        })
        .y_label_formatter(&|y| tick(*y, y1 - y0))
        .draw()
        .map_err(plot_err)?;
    // Values far outside the window are pulled in to its edge (the drawing is clipped there).
    let (ylo, yhi) = (y0 - (y1 - y0), y1 + (y1 - y0));
    let clamp = |y: f64| y.clamp(ylo, yhi);
    let inside = |&(_, y): &(f64, f64)| y >= y0 && y <= y1;
    // Bounds: shaded bands for a few series; beyond that the bands would cover each other, so
    // each bounded point gets an error bar instead.
    let shaded = series.len() <= MAX_BANDS;
    for (_, l) in series {
        let colour = COLOURS[l.style.colour];
        for band in &l.bands {
            if shaded {
                let upper = band.iter().map(|&(x, _, hi)| (x, clamp(hi)));
                let lower = band.iter().rev().map(|&(x, lo, _)| (x, clamp(lo)));
                let outline: Vec<_> = upper.chain(lower).collect();
                c.draw_series(std::iter::once(Polygon::new(
                    outline,
                    colour.mix(0.15).filled(),
                )))
                .map_err(plot_err)?;
            } else {
                c.draw_series(band.iter().map(|&(x, lo, hi)| {
                    PathElement::new(vec![(x, clamp(lo)), (x, clamp(hi))], colour.stroke_width(1))
                }))
                .map_err(plot_err)?;
            }
        }
    }
    for (s, l) in series {
        let (colour, st) = (COLOURS[l.style.colour], l.style);
        let stroke = colour.stroke_width(2);
        for line in &l.lines {
            let pts = line.iter().map(|&(x, y)| (x, clamp(y)));
            match st.dash {
                Dash::Solid => c.draw_series(LineSeries::new(pts, stroke)),
                Dash::Dashed => c.draw_series(DashedLineSeries::new(pts, 8, 5, stroke)),
                Dash::Dotted => c.draw_series(DashedLineSeries::new(pts, 2, 5, stroke)),
            }
            .map_err(plot_err)?;
        }
        // An empty line carries the legend's entry (drawn in the series' own sample).
        c.draw_series(LineSeries::new(std::iter::empty(), stroke))
            .map_err(plot_err)?
            .label(s.name.as_str())
            .legend(move |p| {
                let ([s0, s1, s2], marker) = legend_sample(st);
                let line = colour.stroke_width(2);
                EmptyElement::at(p)
                    + PathElement::new(s0, line)
                    + PathElement::new(s1, line)
                    + PathElement::new(s2, line)
                    + Polygon::new(marker, colour.filled())
            });
        let outline = marker_outline(st.marker, 3);
        c.draw_series(
            l.closed
                .iter()
                .copied()
                .filter(inside)
                .map(|p| EmptyElement::at(p) + Polygon::new(outline.clone(), colour.filled())),
        )
        .map_err(plot_err)?;
        for &((x, y), lower) in &l.open {
            let from = lower.unwrap_or(y).max(y0);
            c.draw_series(std::iter::once(PathElement::new(
                vec![(x, from), (x, y1)],
                colour.mix(0.6).stroke_width(1),
            )))
            .map_err(plot_err)?;
        }
        let mut ring = marker_outline(st.marker, 4);
        ring.push(ring[0]);
        c.draw_series(l.open.iter().map(|&(p, _)| p).filter(inside).map(|p| {
            EmptyElement::at(p)
                + Polygon::new(ring.clone(), WHITE.filled())
                + PathElement::new(ring.clone(), colour.stroke_width(2))
        }))
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

/// Several series on one chart with a legend, written atomically as PNG: series `k` in
/// [`style`]`(k)`, bounds as bands (error bars beyond [`MAX_BANDS`] series), open-bounded
/// points marked ([`layout`]). The y axis spans
/// the estimates, limited to `y_limits` when given (points beyond are cut off at the border).
pub fn line_chart(
    path: &Path,
    (title, x_label, y_label): (&str, &str, &str),
    series: &[Series],
    y_limits: Option<(f64, f64)>,
) -> Result<()> {
    let laid: Vec<_> = series
        .iter()
        .enumerate()
        .map(|(k, s)| (s, layout(k, s)))
        .collect();
    let labels = Labels {
        title,
        x: x_label,
        y: y_label,
    };
    render(path, (1000, 600), |root| {
        chart(root, &labels, &laid, y_limits)
    })
}

/// One chart per series, stacked, each on its own y scale with the series' name as its title
/// and y-axis title; the x axis is `x_label`. Written atomically as PNG.
pub fn panels(path: &Path, x_label: &str, series: &[Series]) -> Result<()> {
    let n = series.len().max(1);
    render(path, (900, 260 * n as u32), |root| {
        for (k, (s, area)) in series.iter().zip(root.split_evenly((n, 1))).enumerate() {
            let labels = Labels {
                title: &s.name,
                x: x_label,
                y: &s.name,
            };
            chart(&area, &labels, &[(s, layout(k, s))], None)?;
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

    #[test]
    fn thirteen_series_get_thirteen_styles_and_sixty_stay_distinct() {
        let styles: Vec<Style> = (0..60).map(style).collect();
        let distinct: std::collections::HashSet<_> = styles.iter().collect();
        assert_eq!(distinct.len(), 60);
        // Neighbours and series ten apart never share both colour and marker, and the 13
        // series of the experiment's chart differ in colour or line pattern (not by marker
        // alone, which is small).
        for k in 0..13 {
            for j in 0..k {
                let (a, b) = (styles[j], styles[k]);
                assert!(a.colour != b.colour || a.dash != b.dash, "{j} and {k}");
            }
        }
        assert_eq!(style(0).dash, Dash::Solid);
        assert_eq!(style(10).dash, Dash::Dashed);
        assert_eq!(style(10).colour, style(0).colour);
        assert_ne!(style(10).marker, style(0).marker);
    }

    #[test]
    fn open_bounds_break_the_line_and_finite_ones_make_bands() {
        let s = Series {
            name: "EMF-3".into(),
            points: vec![
                Point::bounded(1.0, -120.0, Some(-121.0), Some(-119.0)),
                Point::bounded(2.0, -110.0, Some(-111.0), Some(-109.5)),
                Point::bounded(3.0, -30.0, Some(-140.0), None),
                Point::bounded(4.0, 0.0, None, Some(f64::INFINITY)),
                Point::bounded(5.0, -100.0, Some(-101.0), Some(-99.0)),
            ],
        };
        let l = layout(3, &s);
        assert_eq!(l.style, style(3));
        // The line runs 1-2, then stops: the open points 3 and 4 are not joined to anything.
        assert_eq!(
            l.lines,
            vec![vec![(1.0, -120.0), (2.0, -110.0)], vec![(5.0, -100.0)]]
        );
        assert_eq!(
            l.open,
            vec![((3.0, -30.0), Some(-140.0)), ((4.0, 0.0), None)]
        );
        assert_eq!(l.closed, vec![(1.0, -120.0), (2.0, -110.0), (5.0, -100.0)]);
        assert_eq!(
            l.bands,
            vec![
                vec![(1.0, -121.0, -119.0), (2.0, -111.0, -109.5)],
                vec![(5.0, -101.0, -99.0)]
            ]
        );
        // Points without any error bar are joined and have no band.
        let plain = layout(0, &Series::plain("x", [(1.0, 2.0), (2.0, 3.0)]));
        assert_eq!(plain.lines.len(), 1);
        assert!(plain.bands.is_empty() && plain.open.is_empty());
    }

    #[test]
    fn a_chart_of_thirteen_series_with_open_points_is_drawn() {
        let series: Vec<Series> = (0..13)
            .map(|k| Series {
                name: format!("series {k}"),
                points: (1..=5)
                    .map(|e| {
                        let y = -100.0 + k as f64 + e as f64;
                        let upper = (e != 3).then_some(y + 1.0);
                        Point::bounded(e as f64, y, Some(y - 1.0), upper)
                    })
                    .collect(),
            })
            .collect();
        let dir = std::env::temp_dir().join(format!("onsager-chart-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("chart.png");
        line_chart(&path, ("t", "epoch", "nats"), &series, Some((-120.0, 0.0))).unwrap();
        let img = image::open(&path).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), (1000, 600));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
