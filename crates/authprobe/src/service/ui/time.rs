//! Times as the pages show them: relative to the page's `now`, the exact UTC time in a
//! tooltip and a `datetime` attribute.

use crate::store::Millis;
use std::time::{Duration, UNIX_EPOCH};

/// `2026-12-06T11:54:10Z`, or `None` for a time before 1970 (never stored).
pub fn rfc3339(t: Millis) -> Option<String> {
    let t = u64::try_from(t).ok()?;
    let at = UNIX_EPOCH.checked_add(Duration::from_millis(t))?;
    Some(humantime::format_rfc3339_seconds(at).to_string())
}

/// `2026-12-06 11:54 UTC`.
pub fn utc(t: Millis) -> String {
    match rfc3339(t) {
        Some(s) => format!("{} {} UTC", &s[..10], &s[11..16]),
        None => "unknown time".into(),
    }
}

/// `YYYY-MM-DD`.
pub fn date(t: Millis) -> String {
    rfc3339(t).map_or_else(|| "unknown date".into(), |s| s[..10].to_string())
}

/// "just now", "3 min ago", "2 h ago", "5 d ago"; ahead (a next scheduled scan): "in 3
/// min", "in 2 h", "in 5 d"; else the date.
pub fn relative(t: Millis, now: Millis) -> String {
    let ago = now.saturating_sub(t);
    const MIN: i64 = 60_000;
    const HOUR: i64 = 60 * MIN;
    const DAY: i64 = 24 * HOUR;
    let ahead = ago.saturating_neg();
    if ago.abs() < MIN {
        // A clock a little ahead of the page's `now` still reads as now.
        "just now".into()
    } else if (MIN..HOUR).contains(&ago) {
        format!("{} min ago", ago / MIN)
    } else if (HOUR..DAY).contains(&ago) {
        format!("{} h ago", ago / HOUR)
    } else if (DAY..=30 * DAY).contains(&ago) {
        format!("{} d ago", ago / DAY)
    } else if (MIN..HOUR).contains(&ahead) {
        format!("in {} min", ahead / MIN)
    } else if (HOUR..DAY).contains(&ahead) {
        format!("in {} h", ahead / HOUR)
    } else if (DAY..=30 * DAY).contains(&ahead) {
        format!("in {} d", ahead / DAY)
    } else {
        date(t)
    }
}

/// A `<time>` element: the relative time, the exact UTC time as its tooltip.
pub fn tag(t: Millis, now: Millis) -> String {
    format!(
        "<time datetime=\"{}\" title=\"{}\">{}</time>",
        rfc3339(t).unwrap_or_default(),
        utc(t),
        relative(t, now)
    )
}

/// `850 ms`, `12.3 s`, `4 min 05 s`, `1 h 02 min`.
pub fn duration(ms: u64) -> String {
    match ms {
        0..=999 => format!("{ms} ms"),
        1_000..=59_999 => format!("{:.1} s", ms as f64 / 1000.0),
        60_000..=3_599_999 => format!("{} min {:02} s", ms / 60_000, (ms / 1000) % 60),
        _ => format!("{} h {:02} min", ms / 3_600_000, (ms / 60_000) % 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_times_and_durations() {
        let now = 1_765_000_000_000;
        assert_eq!(relative(now - 5_000, now), "just now");
        assert_eq!(relative(now + 5_000, now), "just now");
        assert_eq!(relative(now - 3 * 60_000, now), "3 min ago");
        assert_eq!(relative(now - 2 * 3_600_000 - 5, now), "2 h ago");
        assert_eq!(relative(now - 5 * 86_400_000, now), "5 d ago");
        assert_eq!(relative(now + 3 * 60_000 + 5, now), "in 3 min");
        assert_eq!(relative(now + 2 * 3_600_000, now), "in 2 h");
        assert_eq!(relative(now + 5 * 86_400_000, now), "in 5 d");
        assert_eq!(
            relative(now + 90 * 86_400_000, now),
            date(now + 90 * 86_400_000)
        );
        assert_eq!(relative(i64::MIN, now), date(i64::MIN));
        assert_eq!(
            relative(now - 90 * 86_400_000, now),
            date(now - 90 * 86_400_000)
        );
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(utc(1_765_022_050_000), "2025-12-06 11:54 UTC");
        assert!(tag(now, now).contains("title=\""));
        assert_eq!(duration(850), "850 ms");
        assert_eq!(duration(12_345), "12.3 s");
        assert_eq!(duration(245_000), "4 min 05 s");
        assert_eq!(duration(3_720_000), "1 h 02 min");
        assert_eq!(rfc3339(-1), None);
    }
}
