//! Inline SVG charts. Presentation attributes and classes only (no `style`), so they draw
//! under the service's Content-Security-Policy.

use super::time;
use crate::report::markup::escape as esc;
use crate::store::Millis;
use std::fmt::Write;

/// The grade a score earns on its own (before caps), with its colour:
/// [`crate::report::score::grade_for`]'s thresholds.
pub fn score_grade(score: u32) -> (&'static str, &'static str) {
    GRADE_BANDS[crate::report::score::grade_for(score).min(5)].2
}

/// `(low, high, (grade, colour))`: the bands of the score chart, best first.
const GRADE_BANDS: [(u32, u32, (&str, &str)); 6] = [
    (90, 100, ("A", "#15803d")),
    (80, 90, ("B", "#65a30d")),
    (70, 80, ("C", "#ca8a04")),
    (60, 70, ("D", "#ea580c")),
    (50, 60, ("E", "#dc2626")),
    (0, 50, ("F", "#991b1b")),
];

/// A ~100×24 line of scores, oldest first, the last one dotted.
pub fn sparkline(scores: &[u32]) -> String {
    let (w, h) = (100.0_f64, 24.0_f64);
    let y = |s: u32| h - 2.0 - f64::from(s.min(100)) * (h - 4.0) / 100.0;
    let label = if scores.is_empty() {
        "No scores yet".to_string()
    } else {
        let list: Vec<String> = scores.iter().map(u32::to_string).collect();
        format!("Scores, oldest first: {}", list.join(", "))
    };
    let mut s = format!(
        r#"<svg class="spark" viewBox="0 0 100 24" width="100" height="24" role="img" aria-label="{label}"><title>{label}</title>"#
    );
    match scores {
        [] => s.push_str(
            r##"<line x1="2" y1="22" x2="98" y2="22" stroke="#cbd5e1" stroke-width="1" stroke-dasharray="3 3"/>"##,
        ),
        [one] => {
            let _ = write!(
                s,
                r#"<circle cx="50" cy="{:.1}" r="2.5" fill="{}"/>"#,
                y(*one),
                score_grade(*one).1
            );
        }
        many => {
            let step = (w - 6.0) / (many.len() - 1) as f64;
            let pts: Vec<String> = many
                .iter()
                .enumerate()
                .map(|(i, v)| format!("{:.1},{:.1}", 3.0 + step * i as f64, y(*v)))
                .collect();
            let last = *many.last().unwrap_or(&0);
            let _ = write!(
                s,
                r##"<polyline points="{}" fill="none" stroke="#64748b" stroke-width="1.5" stroke-linejoin="round" stroke-linecap="round"/><circle cx="{:.1}" cy="{:.1}" r="2.5" fill="{}"/>"##,
                pts.join(" "),
                w - 3.0,
                y(last),
                score_grade(last).1
            );
        }
    }
    s.push_str("</svg>");
    s
}

/// Score over time: the grade bands behind, one dot per finished scan (oldest first) with
/// its score and time as a tooltip, the y axis 0–100, the x axis by time.
pub fn score_chart(points: &[(Millis, u32)]) -> String {
    let (w, h) = (720.0_f64, 220.0_f64);
    let (left, right, top, bottom) = (34.0_f64, 690.0_f64, 10.0_f64, 186.0_f64);
    let y = |s: u32| bottom - f64::from(s.min(100)) * (bottom - top) / 100.0;
    let mut s = format!(
        r#"<svg class="chart" viewBox="0 0 {w} {h}" width="100%" preserveAspectRatio="xMidYMid meet" role="img" aria-label="Score over time, {} finished scan{}">"#,
        points.len(),
        if points.len() == 1 { "" } else { "s" }
    );
    for (lo, hi, (grade, colour)) in GRADE_BANDS {
        let _ = write!(
            s,
            r#"<rect x="{left}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{colour}" fill-opacity="0.09"/><text x="{:.1}" y="{:.1}" class="band" fill="{colour}">{grade}</text>"#,
            y(hi),
            right - left,
            y(lo) - y(hi),
            right + 8.0,
            (y(lo) + y(hi)) / 2.0 + 4.0,
        );
    }
    for tick in [0, 50, 60, 70, 80, 90, 100] {
        let _ = write!(
            s,
            r##"<line x1="{left}" y1="{ty:.1}" x2="{right}" y2="{ty:.1}" stroke="#94a3b8" stroke-opacity="0.35" stroke-width="1"/><text x="{:.1}" y="{:.1}" class="tick" text-anchor="end">{tick}</text>"##,
            left - 6.0,
            y(tick) + 4.0,
            ty = y(tick),
        );
    }
    if points.is_empty() {
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" class="empty-label" text-anchor="middle">No finished scans yet</text></svg>"#,
            (left + right) / 2.0,
            (top + bottom) / 2.0
        );
        return s;
    }
    let t0 = points.iter().map(|p| p.0).min().unwrap_or(0);
    let t1 = points.iter().map(|p| p.0).max().unwrap_or(0);
    let pad = 14.0;
    let span = right - left - 2.0 * pad;
    let x = |i: usize, t: Millis| -> f64 {
        if points.len() == 1 {
            (left + right) / 2.0
        } else if t1 > t0 {
            left + pad + span * (t - t0) as f64 / (t1 - t0) as f64
        } else {
            left + pad + span * i as f64 / (points.len() - 1) as f64
        }
    };
    let xy: Vec<(f64, f64)> = points
        .iter()
        .enumerate()
        .map(|(i, (t, v))| (x(i, *t), y(*v)))
        .collect();
    if xy.len() > 1 {
        let pts: Vec<String> = xy.iter().map(|(a, b)| format!("{a:.1},{b:.1}")).collect();
        let _ = write!(
            s,
            r##"<polyline points="{}" fill="none" stroke="#334155" stroke-width="2" stroke-linejoin="round" class="line"/>"##,
            pts.join(" ")
        );
    }
    for ((t, v), (cx, cy)) in points.iter().zip(&xy) {
        let (grade, colour) = score_grade(*v);
        let _ = write!(
            s,
            r##"<circle cx="{cx:.1}" cy="{cy:.1}" r="4.5" fill="{colour}" stroke="#ffffff" stroke-width="1.5" class="pt"><title>{v} ({grade}) · {}</title></circle>"##,
            esc(&time::utc(*t))
        );
    }
    // The x axis: the first and last times, and the middle one when there is room.
    let label = |t: Millis| {
        if t1 - t0 < 2 * 86_400_000 {
            time::utc(t)
        } else {
            time::date(t)
        }
    };
    let ly = bottom + 20.0;
    if points.len() == 1 || t1 == t0 {
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{ly}" class="tick" text-anchor="middle">{}</text>"#,
            (left + right) / 2.0,
            label(t0)
        );
    } else {
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{ly}" class="tick" text-anchor="start">{}</text><text x="{:.1}" y="{ly}" class="tick" text-anchor="end">{}</text>"#,
            left + pad - 4.0,
            label(t0),
            right - pad + 4.0,
            label(t1)
        );
        if points.len() >= 3 {
            let _ = write!(
                s,
                r#"<text x="{:.1}" y="{ly}" class="tick" text-anchor="middle">{}</text>"#,
                (left + right) / 2.0,
                label(t0 + (t1 - t0) / 2)
            );
        }
    }
    s.push_str("</svg>");
    s
}
