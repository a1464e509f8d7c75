/*!
Charts as inline SVG, rendered on the server from figures: pure functions, no script, no font
but the page's own.

Each chart is a `<figure>`: its caption, the SVG (`role="img"`, named by `aria-label` and its
`<title>`, described by its `<desc>`, the sentence that sums it up), a legend in text, that
sentence again for everyone, and the figures as a table in a `<details>` for screen readers and
for whoever wants the numbers. The SVG has a `viewBox` and no fixed size, so the stylesheet
scales it to the page (a 390 px phone included) without sideways scrolling. Series differ in
pattern as well as colour (stripes, dots, hatching), the colours keep 3:1 against white, and
every bar carries its value in a `<title>`. With nothing to draw, the figure says "Belum ada
data" instead of an empty frame.

The patterns are defined once per page by [`defs`]; every chart refers to them.
*/

use std::fmt::Write as _;

use super::esc;
use crate::report::human;

/// The width of every chart's coordinate system.
const WIDTH: f64 = 340.0;
/// Column charts: the plot's edges and the two lines of day labels under it.
const LEFT: f64 = 54.0;
const RIGHT: f64 = 14.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 170.0;
const COLUMNS_HEIGHT: f64 = 204.0;
/// Bar charts: one row per item (its label over its bar).
const ROW: f64 = 40.0;

/// The styles a series can take: a colour (at least 3:1 against white) and a pattern drawn in
/// white over it. The first is plain.
const STYLES: [&str; 6] = [
    "#0b5d8f", // blue, plain
    "#a84a00", // orange, stripes
    "#1b7a4a", // green, dots
    "#b42318", // red, hatching
    "#5f6b7a", // grey, vertical lines
    "#6a3d9a", // purple, stripes the other way
];

/// The patterns every chart of a page refers to (`url(#kc-N)`), in an SVG of no size.
pub fn defs() -> String {
    let tile = |i: usize, inner: &str, transform: &str| {
        format!(
            "<pattern id=\"kc-{i}\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\"{transform}>\
             <rect width=\"6\" height=\"6\" fill=\"{}\"/>{inner}</pattern>",
            STYLES[i]
        )
    };
    let stripe = "<rect width=\"2.2\" height=\"6\" fill=\"#fff\" fill-opacity=\".6\"/>";
    format!(
        "<svg class=\"chart-defs\" width=\"0\" height=\"0\" aria-hidden=\"true\" focusable=\"false\"><defs>{}{}{}{}{}</defs></svg>",
        tile(1, stripe, " patternTransform=\"rotate(45)\""),
        tile(
            2,
            "<circle cx=\"3\" cy=\"3\" r=\"1.4\" fill=\"#fff\" fill-opacity=\".75\"/>",
            ""
        ),
        tile(
            3,
            "<path d=\"M0 0L6 6M6 0L0 6\" stroke=\"#fff\" stroke-width=\"1.1\" stroke-opacity=\".7\"/>",
            ""
        ),
        tile(
            4,
            "<rect width=\"1.6\" height=\"6\" fill=\"#fff\" fill-opacity=\".6\"/>",
            ""
        ),
        tile(5, stripe, " patternTransform=\"rotate(-45)\""),
    )
}

/// What `fill` paints series style `style` with.
fn fill(style: usize) -> String {
    match style % STYLES.len() {
        0 => STYLES[0].to_owned(),
        i => format!("url(#kc-{i})"),
    }
}

/// How a chart's values read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// How many.
    Count,
    /// A duration in milliseconds ("45 dtk", "3,5 jam").
    Millis,
}

impl Unit {
    fn text(self, value: i64) -> String {
        match self {
            Unit::Count => value.to_string(),
            Unit::Millis => human(value),
        }
    }

    /// A value on the axis: round steps read without a needless ",0" ("1,5 mnt", "12 jam").
    fn axis(self, value: i64) -> String {
        let Unit::Millis = self else {
            return value.to_string();
        };
        let s = value as f64 / 1000.0;
        let short = |v: f64| {
            let text = format!("{v:.1}");
            text.strip_suffix(".0").unwrap_or(&text).replace('.', ",")
        };
        if value == 0 {
            "0".to_owned()
        } else if s < 60.0 {
            format!("{} dtk", short(s))
        } else if s < 3600.0 {
            format!("{} mnt", short(s / 60.0))
        } else if s < 86_400.0 {
            format!("{} jam", short(s / 3600.0))
        } else {
            format!("{} hari", short(s / 86_400.0))
        }
    }
}

/// What every chart has: where it is, what it is called, what it says, its series.
pub struct Chart<'a> {
    /// Unique in the page (the figure's id, and its description's).
    pub id: &'a str,
    pub title: &'a str,
    /// One or two sentences that say what the chart shows, for everyone.
    pub summary: &'a str,
    /// Each series: its name (legend and table) and its style.
    pub series: &'a [(&'a str, usize)],
    pub unit: Unit,
}

/// One column of a column chart: its label ("Sen 7 Des") and a value per series (`None`: no
/// figure that day, as a median of nothing).
pub struct Column {
    pub label: String,
    pub values: Vec<Option<i64>>,
}

/// Whether a column chart piles its series up (parts of a whole) or sets them side by side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Stacked,
    Grouped,
}

/// One bar of a bar chart: its label, its longer name (the bar's tooltip and the table), and a
/// value per series, piled left to right.
pub struct Bar {
    pub label: String,
    pub name: String,
    pub values: Vec<i64>,
}

/// A column chart, one column per day (or any category), with a value axis.
pub fn columns(chart: &Chart, layout: Layout, columns: &[Column]) -> String {
    let value = |c: &Column, s: usize| c.values.get(s).copied().flatten().unwrap_or(0).max(0);
    let height_of = |c: &Column| match layout {
        Layout::Stacked => (0..chart.series.len()).map(|s| value(c, s)).sum::<i64>(),
        Layout::Grouped => (0..chart.series.len())
            .map(|s| value(c, s))
            .max()
            .unwrap_or(0),
    };
    let max = columns.iter().map(height_of).max().unwrap_or(0);
    if max == 0 {
        return empty(chart);
    }
    let (top, step) = scale(max, chart.unit);
    let plot_w = WIDTH - LEFT - RIGHT;
    let y = |v: i64| BOTTOM - (BOTTOM - TOP) * v as f64 / top as f64;
    let mut svg = svg_open(chart, COLUMNS_HEIGHT);
    let mut tick = 0;
    while tick <= top {
        let at = y(tick);
        let _ = write!(
            svg,
            "<line x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{at:.1}\" y2=\"{at:.1}\" stroke=\"{}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" font-size=\"12\">{}</text>",
            WIDTH - RIGHT,
            if tick == 0 { "#555" } else { "#d8dde3" },
            LEFT - 5.0,
            at + 4.0,
            esc(&chart.unit.axis(tick)),
        );
        tick += step;
    }
    let n = columns.len();
    let slot = plot_w / n as f64;
    // Day labels on two lines ("Sen" over "7 Des"), as many as fit, the latest always; the
    // month only where it changes ("Sen" over "30", then "Sel" over "1 Des").
    let every = n.div_ceil(((plot_w / 32.0).floor() as usize).max(1));
    let mut month_shown: Option<&str> = None;
    for (i, column) in columns.iter().enumerate() {
        let centre = LEFT + slot * (i as f64 + 0.5);
        // (series, its name, its style, its value)
        let parts: Vec<(usize, &str, usize, i64)> = chart
            .series
            .iter()
            .enumerate()
            .map(|(s, (name, style))| (s, *name, *style, value(column, s)))
            .collect();
        match layout {
            Layout::Stacked => {
                let width = (slot * 0.72).min(36.0);
                let mut base = 0;
                for (_, name, style, v) in parts.iter().filter(|p| p.3 > 0) {
                    bar_rect(
                        &mut svg,
                        (centre - width / 2.0, y(base + v)),
                        (width, y(base) - y(base + v)),
                        *style,
                        &format!(
                            "{}: {} {}",
                            column.label,
                            name.to_lowercase(),
                            chart.unit.text(*v)
                        ),
                    );
                    base += v;
                }
            }
            Layout::Grouped => {
                let width = (slot * 0.8 / parts.len() as f64).min(18.0);
                let start = centre - width * parts.len() as f64 / 2.0;
                for (k, (s, name, style, _)) in parts.iter().enumerate() {
                    let Some(v) = column.values.get(*s).copied().flatten() else {
                        continue;
                    };
                    bar_rect(
                        &mut svg,
                        (start + width * k as f64, y(v.max(0))),
                        (width, BOTTOM - y(v.max(0))),
                        *style,
                        &format!(
                            "{}: {} {}",
                            column.label,
                            name.to_lowercase(),
                            chart.unit.text(v)
                        ),
                    );
                }
            }
        }
        if (n - 1 - i).is_multiple_of(every) {
            let _ = write!(svg, "<text text-anchor=\"middle\" font-size=\"12\">");
            let words: Vec<&str> = column.label.split(' ').collect();
            let lines: Vec<String> = match words[..] {
                [weekday, day, month] if month_shown == Some(month) => {
                    vec![weekday.to_owned(), day.to_owned()]
                }
                [weekday, day, month] => {
                    month_shown = Some(month);
                    vec![weekday.to_owned(), format!("{day} {month}")]
                }
                _ => match column.label.split_once(' ') {
                    Some((first, rest)) => vec![first.to_owned(), rest.to_owned()],
                    None => vec![column.label.clone()],
                },
            };
            for (k, line) in lines.iter().enumerate() {
                let _ = write!(
                    svg,
                    "<tspan x=\"{centre:.1}\" y=\"{:.1}\">{}</tspan>",
                    BOTTOM + 14.0 + 13.0 * k as f64,
                    esc(line)
                );
            }
            svg.push_str("</text>");
        }
    }
    svg.push_str("</svg>");
    let rows: Vec<(String, Vec<Option<i64>>)> = columns
        .iter()
        .map(|c| (c.label.clone(), c.values.clone()))
        .collect();
    figure(chart, &svg, &table(chart, &rows, layout == Layout::Stacked))
}

/// A bar chart, one horizontal bar per item with its label above it; the series pile up from
/// the left. Items with nothing are left out.
pub fn bars(chart: &Chart, bars: &[Bar], total_label: &str) -> String {
    let shown: Vec<&Bar> = bars
        .iter()
        .filter(|b| b.values.iter().any(|v| *v > 0))
        .collect();
    let max = shown
        .iter()
        .map(|b| b.values.iter().map(|v| (*v).max(0)).sum::<i64>())
        .max()
        .unwrap_or(0);
    if max == 0 {
        return empty(chart);
    }
    let height = 6.0 + ROW * shown.len() as f64;
    let mut svg = svg_open(chart, height);
    let span = WIDTH - 8.0;
    for (i, bar) in shown.iter().enumerate() {
        let row = 4.0 + ROW * i as f64;
        let total: i64 = bar.values.iter().map(|v| (*v).max(0)).sum();
        let _ = write!(
            svg,
            "<text x=\"4\" y=\"{:.1}\" font-weight=\"bold\">{}<title>{}</title></text>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{total} {}</text>",
            row + 13.0,
            esc(&bar.label),
            esc(&bar.name),
            WIDTH - 4.0,
            row + 13.0,
            esc(total_label),
        );
        let mut x = 4.0;
        for (s, v) in bar.values.iter().enumerate() {
            if *v <= 0 {
                continue;
            }
            let width = span * *v as f64 / max as f64;
            let name = chart.series.get(s).map_or("", |(name, _)| *name);
            bar_rect(
                &mut svg,
                (x, row + 18.0),
                (width, 16.0),
                chart.series.get(s).map_or(s, |(_, style)| *style),
                &format!(
                    "{}: {} {}",
                    bar.name,
                    name.to_lowercase(),
                    chart.unit.text(*v)
                ),
            );
            x += width;
        }
    }
    svg.push_str("</svg>");
    let rows: Vec<(String, Vec<Option<i64>>)> = shown
        .iter()
        .map(|b| (b.name.clone(), b.values.iter().map(|v| Some(*v)).collect()))
        .collect();
    figure(chart, &svg, &table(chart, &rows, true))
}

/// The SVG's opening: its size, its name and description.
fn svg_open(chart: &Chart, height: f64) -> String {
    format!(
        "<svg viewBox=\"0 0 {WIDTH} {height:.0}\" role=\"img\" aria-label=\"{title}\" \
         aria-describedby=\"{id}-desc\" font-size=\"13\" fill=\"#1b1f24\">\
         <title>{title}</title><desc id=\"{id}-desc\">{summary}</desc>",
        title = esc(chart.title),
        id = esc(chart.id),
        summary = esc(chart.summary),
    )
}

/// One bar with its tooltip; `series` picks its style.
fn bar_rect(svg: &mut String, (x, y): (f64, f64), (w, h): (f64, f64), style: usize, tip: &str) {
    // A thin white edge keeps piled parts apart; a narrow bar would be all edge.
    let edge = if w >= 4.0 {
        " stroke=\"#fff\" stroke-width=\"0.6\""
    } else {
        ""
    };
    let _ = write!(
        svg,
        "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" fill=\"{}\"{edge}>\
         <title>{}</title></rect>",
        fill(style),
        esc(tip)
    );
}

/// The figure around a drawn chart: caption, SVG, legend, summary and the data table.
fn figure(chart: &Chart, svg: &str, table: &str) -> String {
    let mut legend = String::new();
    for (name, style) in chart.series {
        let _ = write!(
            legend,
            "<li><svg class=\"swatch\" viewBox=\"0 0 14 14\" aria-hidden=\"true\" focusable=\"false\">\
             <rect width=\"14\" height=\"14\" fill=\"{}\"/></svg>{}</li>",
            fill(*style),
            esc(name)
        );
    }
    format!(
        "<figure class=\"chart\" id=\"{id}\"><figcaption>{title}</figcaption>{svg}\
         <ul class=\"legend\">{legend}</ul><p class=\"chart-summary\">{summary}</p>\
         <details><summary>Data grafik dalam tabel</summary>{table}</details></figure>",
        id = esc(chart.id),
        title = esc(chart.title),
        summary = esc(chart.summary),
    )
}

/// The figure of a chart with nothing to draw.
fn empty(chart: &Chart) -> String {
    format!(
        "<figure class=\"chart\" id=\"{id}\"><figcaption>{title}</figcaption>\
         <p class=\"empty\">Belum ada data pada periode ini.</p></figure>",
        id = esc(chart.id),
        title = esc(chart.title),
    )
}

/// The figures as a table: a row per column or bar with something in it (a screen reader
/// need not read 80 empty days), a column per series (and their sum).
fn table(chart: &Chart, rows: &[(String, Vec<Option<i64>>)], with_sum: bool) -> String {
    let filled: Vec<&(String, Vec<Option<i64>>)> = rows
        .iter()
        .filter(|(_, values)| values.iter().flatten().any(|v| *v != 0))
        .collect();
    let mut out = String::from("<table class=\"chart-data\">");
    if filled.len() < rows.len() {
        out.push_str("<caption>Yang kosong tidak dicantumkan.</caption>");
    }
    out.push_str("<thead><tr><th scope=\"col\"></th>");
    for (name, _) in chart.series {
        let _ = write!(out, "<th scope=\"col\">{}</th>", esc(name));
    }
    if with_sum {
        out.push_str("<th scope=\"col\">Jumlah</th>");
    }
    out.push_str("</tr></thead><tbody>");
    for (label, values) in filled {
        let _ = write!(out, "<tr><th scope=\"row\">{}</th>", esc(label));
        for s in 0..chart.series.len() {
            let cell = values
                .get(s)
                .copied()
                .flatten()
                .map_or_else(|| "–".to_owned(), |v| chart.unit.text(v));
            let _ = write!(out, "<td>{}</td>", esc(&cell));
        }
        if with_sum {
            let sum: i64 = values.iter().flatten().sum();
            let _ = write!(out, "<td>{}</td>", esc(&chart.unit.text(sum)));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
    out
}

/// The value axis: its top and the step between its lines (four or fewer), in round numbers
/// of the unit (1, 2, 5 × 10ⁿ; for durations seconds, minutes, hours and days).
fn scale(max: i64, unit: Unit) -> (i64, i64) {
    let raw = (max as f64 / 4.0).max(1.0);
    let step = match unit {
        Unit::Count => {
            let magnitude = 10f64.powf(raw.log10().floor());
            let nice = [1.0, 2.0, 5.0, 10.0]
                .into_iter()
                .map(|m| m * magnitude)
                .find(|s| *s >= raw)
                .unwrap_or(10.0 * magnitude);
            nice.max(1.0) as i64
        }
        Unit::Millis => {
            const S: i64 = 1000;
            const STEPS: [i64; 18] = [
                S,
                2 * S,
                5 * S,
                10 * S,
                15 * S,
                30 * S,
                60 * S,
                120 * S,
                300 * S,
                600 * S,
                900 * S,
                1800 * S,
                3600 * S,
                7200 * S,
                3 * 3600 * S,
                6 * 3600 * S,
                12 * 3600 * S,
                86_400 * S,
            ];
            STEPS
                .into_iter()
                .find(|s| *s as f64 >= raw)
                .unwrap_or_else(|| (raw / (86_400.0 * 1000.0)).ceil() as i64 * 86_400 * S)
        }
    };
    ((max + step - 1) / step * step, step)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: [(&str, usize); 2] = [("Dijawab bot", 0), ("Dijawab petugas", 5)];

    fn chart<'a>(series: &'a [(&'a str, usize)], unit: Unit) -> Chart<'a> {
        Chart {
            id: "grafik-uji",
            title: "Siapa yang menjawab",
            summary: "Bot menjawab 2 dari 3.",
            series,
            unit,
        }
    }

    /// The `height` (or `width`) attributes of the bars, in order.
    fn sizes(svg: &str, attribute: &str) -> Vec<f64> {
        svg.split("<rect ")
            .skip(1)
            .filter(|r| r.contains("<title>"))
            .map(|r| {
                let start = r.find(&format!("{attribute}=\"")).unwrap() + attribute.len() + 2;
                r[start..start + r[start..].find('"').unwrap()]
                    .parse()
                    .unwrap()
            })
            .collect()
    }

    #[test]
    fn stacked_columns_are_proportional_to_their_values() {
        let days = [
            Column {
                label: "Sen 7 Des".into(),
                values: vec![Some(8), Some(4)],
            },
            Column {
                label: "Sel 8 Des".into(),
                values: vec![Some(2), None],
            },
            Column {
                label: "Rab 9 Des".into(),
                values: vec![Some(0), None],
            },
        ];
        let html = columns(&chart(&TWO, Unit::Count), Layout::Stacked, &days);
        let heights = sizes(&html, "height");
        assert_eq!(heights.len(), 3, "{html}");
        assert!((heights[0] / heights[1] - 2.0).abs() < 0.05, "{heights:?}");
        assert!((heights[0] / heights[2] - 4.0).abs() < 0.05, "{heights:?}");
        // The tallest pile (12) fits under the axis's top (15 with steps of 5).
        let plot = BOTTOM - TOP;
        assert!((heights[0] + heights[1] - plot * 12.0 / 15.0).abs() < 0.2);
        for needed in [
            "role=\"img\"",
            "aria-label=\"Siapa yang menjawab\"",
            "<title>Siapa yang menjawab</title>",
            "<desc id=\"grafik-uji-desc\">Bot menjawab 2 dari 3.</desc>",
            "<tspan x=\"99.3\" y=\"184.0\">Sen</tspan><tspan x=\"99.3\" y=\"197.0\">7 Des</tspan>",
            "<title>Sen 7 Des: dijawab petugas 4</title>",
            "<details><summary>Data grafik dalam tabel</summary>",
            "<th scope=\"row\">Sel 8 Des</th><td>2</td><td>–</td><td>2</td>",
            "<caption>Yang kosong tidak dicantumkan.</caption>",
        ] {
            assert!(html.contains(needed), "{needed}\n{html}");
        }
        // Each bar in its series' style (the legend's), not its position's.
        let drawing = &html[..html.find("</svg>").unwrap()];
        assert_eq!(drawing.matches("fill=\"#0b5d8f\"").count(), 2, "{drawing}");
        assert_eq!(
            drawing.matches("fill=\"url(#kc-5)\"").count(),
            1,
            "{drawing}"
        );
        assert!(!drawing.contains("url(#kc-1)"), "{drawing}");
        assert!(
            !html.contains(">Rab 9 Des</th>"),
            "an empty day is no row: {html}"
        );
        assert!(html.contains("viewBox=\"0 0 340 204\""), "{html}");
        assert!(
            !html.contains(" width=\"340\""),
            "scales with the page: {html}"
        );
    }

    #[test]
    fn grouped_durations_read_in_indonesian_units() {
        let series = [("Median", 0), ("90% dalam", 5)];
        let days = [Column {
            label: "Sen 7 Des".into(),
            values: vec![Some(20 * 60_000), Some(90 * 60_000)],
        }];
        let html = columns(&chart(&series, Unit::Millis), Layout::Grouped, &days);
        let heights = sizes(&html, "height");
        assert!((heights[1] / heights[0] - 4.5).abs() < 0.01, "{heights:?}");
        assert!(html.contains(">20 mnt</td><td>1,5 jam</td>"), "{html}");
        assert!(html.contains(">1,5 jam</text>"), "an axis in hours: {html}");
        assert!(
            html.contains(">30 mnt</text>"),
            "steps of half an hour: {html}"
        );
        assert!(html.contains(">1 jam</text>"), "no needless ',0': {html}");
    }

    #[test]
    fn bars_are_proportional_and_labelled_with_names() {
        let series = [("Tepat waktu", 2), ("Terlambat", 3)];
        let list = [
            Bar {
                label: "DPUPRPKP".into(),
                name: "Dinas Pekerjaan Umum".into(),
                values: vec![3, 1],
            },
            Bar {
                label: "DLH".into(),
                name: "Dinas Lingkungan Hidup".into(),
                values: vec![0, 2],
            },
            Bar {
                label: "Dishub".into(),
                name: "Dinas Perhubungan".into(),
                values: vec![0, 0],
            },
        ];
        let html = bars(&chart(&series, Unit::Count), &list, "laporan");
        let widths = sizes(&html, "width");
        assert_eq!(widths.len(), 3, "{html}");
        assert!((widths[0] / widths[1] - 3.0).abs() < 0.05, "{widths:?}");
        assert!((widths[1] - widths[2] / 2.0).abs() < 0.05, "{widths:?}");
        assert!(
            html.contains(">DPUPRPKP<title>Dinas Pekerjaan Umum</title>"),
            "{html}"
        );
        assert!(html.contains(">4 laporan</text>"), "{html}");
        assert!(
            !html.contains("Dishub"),
            "nothing to draw, left out: {html}"
        );
    }

    #[test]
    fn labels_are_escaped_everywhere() {
        let series = [("<b>bot</b>", 0)];
        let evil = Chart {
            id: "x\"y",
            title: "A & B",
            summary: "<script>alert(1)</script>",
            series: &series,
            unit: Unit::Count,
        };
        let html = columns(
            &evil,
            Layout::Stacked,
            &[Column {
                label: "<i>Sen</i> 7".into(),
                values: vec![Some(1)],
            }],
        );
        assert!(!html.contains("<script>") && !html.contains("<b>") && !html.contains("<i>"));
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
        assert!(html.contains("id=\"x&quot;y\""), "{html}");
        assert!(html.contains("aria-label=\"A &amp; B\""), "{html}");
        let bars_html = bars(
            &evil,
            &[Bar {
                label: "<img>".into(),
                name: "\"quoted\"".into(),
                values: vec![1],
            }],
            "<u>",
        );
        assert!(!bars_html.contains("<img>") && !bars_html.contains("<u>"));
    }

    #[test]
    fn nothing_to_draw_says_so() {
        let zero = [Column {
            label: "Sen 7 Des".into(),
            values: vec![Some(0), None],
        }];
        for html in [
            columns(&chart(&TWO, Unit::Count), Layout::Stacked, &zero),
            columns(&chart(&TWO, Unit::Count), Layout::Grouped, &[]),
            bars(&chart(&TWO, Unit::Count), &[], "laporan"),
        ] {
            assert!(html.contains("Belum ada data"), "{html}");
            assert!(html.contains("<figcaption>Siapa yang menjawab</figcaption>"));
            assert!(!html.contains("<svg"), "{html}");
        }
    }

    #[test]
    fn axes_take_round_steps() {
        assert_eq!(scale(12, Unit::Count), (15, 5));
        assert_eq!(scale(3, Unit::Count), (3, 1));
        assert_eq!(scale(230, Unit::Count), (300, 100));
        assert_eq!(scale(90 * 60_000, Unit::Millis), (5_400_000, 1_800_000));
        assert_eq!(scale(2_500, Unit::Millis), (3_000, 1_000));
    }

    #[test]
    fn day_labels_thin_out_but_the_latest_stays() {
        let days: Vec<Column> = (1..=30)
            .map(|d| Column {
                label: format!("Sen {d} Des"),
                values: vec![Some(1), Some(1)],
            })
            .collect();
        let html = columns(&chart(&TWO, Unit::Count), Layout::Stacked, &days);
        let labelled = html.matches(">Sen</tspan>").count();
        assert!((5..=11).contains(&labelled), "{labelled}");
        // The month once, where the labels start; the latest day always.
        assert_eq!(html.matches(" Des</tspan>").count(), 1, "{html}");
        assert!(html.contains(">30</tspan>"), "{html}");
    }
}
