//! When a target is scanned on its own: an interval, or a cron expression evaluated in UTC,
//! each with an optional jitter. [`next_run`] is a pure function of the target's settings,
//! its id, its creation time and the start of its last scan, so the next run a page shows
//! is the one the scheduler keeps, across restarts and on every server that shares the
//! database.

use chrono::{DateTime, Utc};

use super::Millis;

/// The shortest time between two scheduled scans of a target, in minutes: a monitor, not a
/// load generator.
pub const MIN_MINUTES: i64 = 5;
/// The largest jitter: a day.
pub const MAX_JITTER_SECONDS: i64 = 86_400;
/// Longer than any sensible expression, short enough that validating it costs nothing.
const MAX_CRON_CHARS: usize = 200;

const MINUTE: Millis = 60_000;
const DAY: Millis = 1_440 * MINUTE;

/// A 5-field cron expression (minute hour day-of-month month day-of-week), evaluated in
/// UTC, that fires at most every [`MIN_MINUTES`].
///
/// croner rather than jiff-cron (or the `cron` crate it was forked from): those read 6 or 7
/// fields with seconds first, number the days of the week 1-7 from Sunday (a standard
/// `0 9 * * 1` would silently move from Monday to Sunday), AND the day-of-month and
/// day-of-week fields where Vixie cron ORs them, and answer every mistake with "Invalid
/// cron expression.". croner reads the standard 5 fields with POSIX semantics and says
/// what is wrong; its chrono is already in the build.
#[derive(Clone, Debug, PartialEq)]
pub struct Cron {
    /// The fields as given, separated by single spaces.
    expression: String,
    /// Boxed: croner keeps a bit per year up to 5000, some 5 KiB.
    cron: Box<croner::Cron>,
}

impl Cron {
    /// Parses and checks `expression`: 5 fields, a time that exists, at least
    /// [`MIN_MINUTES`] between two runs. The error is one line that names the problem.
    pub fn parse(expression: &str) -> Result<Cron, String> {
        let fields: Vec<&str> = expression.split_whitespace().collect();
        if fields.is_empty() {
            return Err("the cron expression is empty".into());
        }
        if expression.chars().count() > MAX_CRON_CHARS {
            return Err(format!(
                "the cron expression is longer than {MAX_CRON_CHARS} characters"
            ));
        }
        let shown = fields.join(" ");
        if fields.len() != 5 {
            return Err(format!(
                "the cron expression {shown:?} has {} field{}: it needs 5, minute hour day-of-month month day-of-week (0 3 * * * is every day at 03:00 UTC)",
                fields.len(),
                if fields.len() == 1 { "" } else { "s" }
            ));
        }
        let cron = parse_fields(&shown).map_err(|e| {
            // croner says what is wrong, not where: the field that parses once it is
            // replaced by `*` is the one.
            let culprit = (0..5).find(|&i| {
                let mut others = fields.clone();
                others[i] = "*";
                parse_fields(&others.join(" ")).is_ok()
            });
            match culprit {
                Some(i) => format!(
                    "the cron expression {shown:?} is not valid in its {} field {:?} ({}): {e}",
                    FIELDS[i].0, fields[i], FIELDS[i].1
                ),
                None => format!("the cron expression {shown:?} is not valid: {e}"),
            }
        })?;
        let cron = Cron {
            expression: shown,
            cron,
        };
        // A date that never comes (31 April) would leave the target unscheduled without a
        // word. Any expression that fires at all does so within a few years of any time.
        if cron.next_after(EPOCH_2000).is_none() {
            return Err(format!(
                "the cron expression {:?} never fires (no date matches it)",
                cron.expression
            ));
        }
        cron.check_floor(&fields)?;
        Ok(cron)
    }

    pub fn as_str(&self) -> &str {
        &self.expression
    }

    /// The first time the expression fires strictly after `t`, in UTC; `None` past the
    /// calendar's end.
    pub fn next_after(&self, t: Millis) -> Option<Millis> {
        let at: DateTime<Utc> = DateTime::from_timestamp_millis(t)?;
        let next = self.cron.find_next_occurrence(&at, false).ok()?;
        Some(next.timestamp_millis()).filter(|n| *n > t)
    }

    /// Refuses runs closer than [`MIN_MINUTES`]. The minute and hour fields alone make the
    /// gaps within a day and across midnight; judged on them with every day allowed, the
    /// check is exact for everyday expressions and errs on the side of refusing for the
    /// rare one whose close runs fall on days it never fires (`58,0 23,0 31 * *`).
    fn check_floor(&self, fields: &[&str]) -> Result<(), String> {
        let daily = parse_fields(&format!("{} {} * * *", fields[0], fields[1]))
            .map_err(|e| format!("the cron expression {:?}: {e}", self.expression))?;
        let daily = Cron {
            expression: String::new(),
            cron: daily,
        };
        // Every run of one day and the first of the next: at most 1441 steps.
        let start = EPOCH_2000;
        let mut previous = match daily.next_after(start - 1) {
            Some(t) => t,
            None => return Ok(()),
        };
        while previous < start + DAY {
            let Some(next) = daily.next_after(previous) else {
                return Ok(());
            };
            let gap = next - previous;
            if gap < MIN_MINUTES * MINUTE {
                return Err(format!(
                    "the cron expression {:?} runs more often than every {MIN_MINUTES} minutes ({} and {} UTC are {} min apart): a scanner must not hammer an API",
                    self.expression,
                    clock(previous),
                    clock(next),
                    gap / MINUTE
                ));
            }
            previous = next;
        }
        Ok(())
    }
}

/// 2000-01-01T00:00:00Z: a fixed day to judge expressions on, so that a verdict never
/// depends on when it is asked.
const EPOCH_2000: Millis = 946_684_800_000;

/// The five fields' names and what they take.
const FIELDS: [(&str, &str); 5] = [
    ("minute", "0-59"),
    ("hour", "0-23"),
    ("day-of-month", "1-31"),
    ("month", "1-12 or JAN-DEC"),
    ("day-of-week", "0-7 or SUN-SAT, 0 and 7 being Sunday"),
];

fn parse_fields(fields: &str) -> Result<Box<croner::Cron>, croner::errors::CronError> {
    use croner::parser::{CronParser, Seconds};
    CronParser::builder()
        .seconds(Seconds::Disallowed)
        .build()
        .parse(fields)
        .map(Box::new)
}

/// `HH:MM` of a time in UTC.
fn clock(t: Millis) -> String {
    let minute_of_day = t.rem_euclid(DAY) / MINUTE;
    format!("{:02}:{:02}", minute_of_day / 60, minute_of_day % 60)
}

/// A target's schedule.
#[derive(Clone, Debug, PartialEq)]
pub enum Schedule {
    /// Every N minutes, counted from the start of the last scan.
    Interval { minutes: i64 },
    /// At the times a cron expression names, in UTC.
    Cron(Cron),
}

impl Schedule {
    /// The schedule stored in a target's columns; `Ok(None)` when it has none. An interval
    /// wins over a cron expression (the store never keeps both). The expression was
    /// checked when it was stored: here it is only parsed, since every read of a target
    /// comes through here.
    pub fn from_columns(
        minutes: Option<i64>,
        cron: Option<&str>,
    ) -> Result<Option<Schedule>, String> {
        match (minutes, cron) {
            (Some(minutes), _) => Ok(Some(Schedule::Interval { minutes })),
            (None, Some(cron)) => {
                let expression = cron.split_whitespace().collect::<Vec<_>>().join(" ");
                let cron = parse_fields(&expression)
                    .map_err(|e| format!("the stored cron expression {expression:?}: {e}"))?;
                Ok(Some(Schedule::Cron(Cron { expression, cron })))
            }
            (None, None) => Ok(None),
        }
    }
}

/// `seconds` of jitter, checked: 0 to [`MAX_JITTER_SECONDS`].
pub fn check_jitter(seconds: i64) -> Result<i64, String> {
    if (0..=MAX_JITTER_SECONDS).contains(&seconds) {
        Ok(seconds)
    } else {
        Err(format!(
            "a jitter of {seconds} s: use 0 to {MAX_JITTER_SECONDS} seconds (24 h)"
        ))
    }
}

/// The target's own delay within `[0, jitter)`, in milliseconds: the same for the same
/// target every time (the shown next run holds across restarts), different between
/// targets (those with the same schedule do not all start at once). Target ids are
/// consecutive, so they are mixed (SplitMix64's finaliser) before they are reduced.
pub fn jitter_offset(target_id: i64, jitter_seconds: i64) -> Millis {
    let span = jitter_seconds.clamp(0, MAX_JITTER_SECONDS) as u64 * 1000;
    if span == 0 {
        return 0;
    }
    let mut x = (target_id as u64).wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^= x >> 31;
    (x % span) as Millis
}

/// When the target is next due, or `None` when that time is past the calendar's end.
///
/// * An interval: the start of the last scan (whatever started it) plus the interval plus
///   the target's jitter offset; never scanned, its creation plus the offset (at once,
///   but spread).
/// * A cron expression: its times, each moved later by the target's offset; the first of
///   them after the start of the last scan, or never scanned, after the target's creation.
///   Moving the times rather than adding the offset after the first time keeps the
///   cadence when the jitter is longer than the gap between two times.
///
/// Counting from the creation rather than from now keeps a never-scanned target's next
/// run fixed, so it comes due; one missed while the server was down comes due once, at
/// its next start.
pub fn next_run(
    schedule: &Schedule,
    jitter_seconds: Option<i64>,
    target_id: i64,
    last_scan_at: Option<Millis>,
    created_at: Millis,
) -> Option<Millis> {
    let offset = jitter_offset(target_id, jitter_seconds.unwrap_or(0));
    match schedule {
        Schedule::Interval { minutes } => match last_scan_at {
            None => created_at.checked_add(offset),
            Some(last) => last
                .checked_add(minutes.checked_mul(MINUTE)?)?
                .checked_add(offset),
        },
        Schedule::Cron(cron) => {
            let after = last_scan_at.unwrap_or(created_at).checked_sub(offset)?;
            cron.next_after(after)?.checked_add(offset)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Unix milliseconds of a UTC time written as RFC 3339.
    fn at(s: &str) -> Millis {
        let t = humantime::parse_rfc3339(s).unwrap();
        t.duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as Millis
    }

    fn cron(s: &str) -> Schedule {
        Schedule::Cron(Cron::parse(s).unwrap_or_else(|e| panic!("{s}: {e}")))
    }

    fn err(s: &str) -> String {
        match Cron::parse(s) {
            Ok(c) => panic!("{s:?} was taken as {:?}", c.as_str()),
            Err(e) => e,
        }
    }

    #[test]
    fn an_interval_counts_from_the_last_scan() {
        let every_hour = Schedule::Interval { minutes: 60 };
        let created = at("2026-03-01T10:00:00Z");
        let last = at("2026-03-02T08:15:30Z");
        assert_eq!(
            next_run(&every_hour, None, 7, Some(last), created),
            Some(at("2026-03-02T09:15:30Z"))
        );
        assert_eq!(
            next_run(&every_hour, Some(0), 7, Some(last), created),
            Some(at("2026-03-02T09:15:30Z"))
        );
        // Never scanned: due from its creation on.
        assert_eq!(next_run(&every_hour, None, 7, None, created), Some(created));
        let yearly = Schedule::Interval { minutes: 525_600 };
        assert_eq!(
            next_run(&yearly, None, 7, Some(at("2027-12-31T23:00:00Z")), created),
            Some(at("2028-12-30T23:00:00Z")),
            "a leap year has 366 days"
        );
    }

    #[test]
    fn a_cron_expression_fires_at_its_next_time_in_utc() {
        let created = at("2026-01-01T00:00:00Z");
        let daily = cron("0 3 * * *");
        assert_eq!(
            next_run(&daily, None, 1, Some(at("2026-03-02T08:15:00Z")), created),
            Some(at("2026-03-03T03:00:00Z"))
        );
        // Strictly after: a scan started at 03:00 sharp is that day's.
        assert_eq!(
            next_run(&daily, None, 1, Some(at("2026-03-03T03:00:00Z")), created),
            Some(at("2026-03-04T03:00:00Z"))
        );
        assert_eq!(
            next_run(
                &daily,
                None,
                1,
                Some(at("2026-03-03T02:59:59.999Z")),
                created
            ),
            Some(at("2026-03-03T03:00:00Z"))
        );
        // Never scanned: the first time after the target was added.
        assert_eq!(
            next_run(&daily, None, 1, None, at("2026-05-10T04:00:00Z")),
            Some(at("2026-05-11T03:00:00Z"))
        );
        // Weekdays at 09:30: Friday evening waits for Monday (2026-03-06 is a Friday).
        assert_eq!(
            next_run(
                &cron("30 9 * * 1-5"),
                None,
                1,
                Some(at("2026-03-06T18:00:00Z")),
                created
            ),
            Some(at("2026-03-09T09:30:00Z"))
        );
        // Sunday is 0 and 7, as in crontab(5).
        for sunday in ["0 12 * * 0", "0 12 * * 7", "0 12 * * SUN"] {
            assert_eq!(
                next_run(
                    &cron(sunday),
                    None,
                    1,
                    Some(at("2026-03-06T18:00:00Z")),
                    created
                ),
                Some(at("2026-03-08T12:00:00Z")),
                "{sunday}"
            );
        }
        // Day of month and day of week both given: either one, as Vixie cron has it.
        assert_eq!(
            next_run(
                &cron("0 0 13 * 5"),
                None,
                1,
                Some(at("2026-03-01T00:00:00Z")),
                created
            ),
            Some(at("2026-03-06T00:00:00Z")),
            "Friday the 6th comes before the 13th"
        );
    }

    #[test]
    fn month_and_year_boundaries() {
        let created = at("2020-01-01T00:00:00Z");
        let first_of_month = cron("15 0 1 * *");
        assert_eq!(
            next_run(
                &first_of_month,
                None,
                1,
                Some(at("2026-01-31T23:59:00Z")),
                created
            ),
            Some(at("2026-02-01T00:15:00Z"))
        );
        assert_eq!(
            next_run(
                &first_of_month,
                None,
                1,
                Some(at("2026-12-01T00:15:00Z")),
                created
            ),
            Some(at("2027-01-01T00:15:00Z"))
        );
        // The 31st skips the months without one.
        assert_eq!(
            next_run(
                &cron("0 6 31 * *"),
                None,
                1,
                Some(at("2026-03-31T07:00:00Z")),
                created
            ),
            Some(at("2026-05-31T06:00:00Z"))
        );
        // 29 February waits for the next leap year.
        assert_eq!(
            next_run(
                &cron("0 0 29 2 *"),
                None,
                1,
                Some(at("2024-02-29T00:00:00Z")),
                created
            ),
            Some(at("2028-02-29T00:00:00Z"))
        );
        // Once a year, on New Year's Eve.
        assert_eq!(
            next_run(
                &cron("55 23 31 12 *"),
                None,
                1,
                Some(at("2026-06-01T00:00:00Z")),
                created
            ),
            Some(at("2026-12-31T23:55:00Z"))
        );
        // A jitter that carries the run into the next year.
        let offset = jitter_offset(1, 3_600);
        assert!(offset > 5 * MINUTE, "target 1's offset is {offset} ms");
        assert_eq!(
            next_run(
                &cron("55 23 31 12 *"),
                Some(3_600),
                1,
                Some(at("2026-06-01T00:00:00Z")),
                created
            ),
            Some(at("2026-12-31T23:55:00Z") + offset)
        );
    }

    #[test]
    fn jitter_is_stable_bounded_and_spreads_targets() {
        // Pinned: the shown next run of every scheduled target would move if this changed.
        assert_eq!(jitter_offset(1, 3_600), 422_465);
        assert_eq!(jitter_offset(2, 3_600), 3_548_110);
        assert_eq!(jitter_offset(2, 600), 548_110);
        assert_eq!(jitter_offset(1, 0), 0);
        assert_eq!(jitter_offset(1, -5), 0, "a negative jitter is none");
        let span = 3_600 * 1000;
        let offsets: Vec<Millis> = (1..=200).map(|id| jitter_offset(id, 3_600)).collect();
        assert!(offsets.iter().all(|o| (0..span).contains(o)));
        let mut distinct = offsets.clone();
        distinct.sort();
        distinct.dedup();
        assert!(distinct.len() > 195, "{} distinct offsets", distinct.len());
        // Spread over the whole hour: every quarter has some.
        for quarter in 0..4 {
            let n = offsets
                .iter()
                .filter(|o| **o / (span / 4) == quarter)
                .count();
            assert!(n >= 25, "{n} targets in quarter {quarter}");
        }
        // The largest jitter stays below a day, whatever the id.
        for id in [0, 1, i64::MAX, i64::MIN, -1] {
            let o = jitter_offset(id, MAX_JITTER_SECONDS);
            assert!((0..DAY).contains(&o), "{id}: {o}");
            assert!((0..1000).contains(&jitter_offset(id, 1)));
        }
        // Larger than allowed is clamped, not trusted.
        assert!(jitter_offset(3, i64::MAX) < DAY);
    }

    #[test]
    fn jitter_moves_the_next_run_and_keeps_the_cadence() {
        let created = at("2026-01-01T00:00:00Z");
        let id = 42;
        let offset = jitter_offset(id, 600);
        assert!((0..600_000).contains(&offset));
        let every_hour = Schedule::Interval { minutes: 60 };
        let last = at("2026-03-02T08:00:00Z");
        assert_eq!(
            next_run(&every_hour, Some(600), id, Some(last), created),
            Some(last + 60 * MINUTE + offset)
        );
        assert_eq!(
            next_run(&every_hour, Some(600), id, None, created),
            Some(created + offset)
        );
        // A cron run at its time plus the offset: a scan at 08:00 sharp (by hand) comes
        // before the 08:00 run, which is due at 08:00 plus the offset; the scan that run
        // starts is its own, and the next is an hour later.
        let hourly = cron("0 * * * *");
        let due = next_run(&hourly, Some(600), id, Some(last), created).unwrap();
        assert_eq!(due, last + offset);
        assert_eq!(
            next_run(&hourly, Some(600), id, Some(due), created),
            Some(at("2026-03-02T09:00:00Z") + offset)
        );
        assert_eq!(
            next_run(&hourly, Some(600), id, Some(due + 20_000), created),
            Some(at("2026-03-02T09:00:00Z") + offset),
            "queued a little late (the scheduler looks every 30 s)"
        );
        // A jitter of a day on a 5-minute expression: still every 5 minutes, shifted.
        let id = 5;
        let offset = jitter_offset(id, MAX_JITTER_SECONDS);
        let five = cron("*/5 * * * *");
        let first = next_run(&five, Some(MAX_JITTER_SECONDS), id, Some(last), created).unwrap();
        assert!(
            first > last && first - last <= 5 * MINUTE,
            "{first} after {last}"
        );
        assert_eq!((first - offset) % (5 * MINUTE), 0);
        assert_eq!(
            next_run(&five, Some(MAX_JITTER_SECONDS), id, Some(first), created),
            Some(first + 5 * MINUTE)
        );
        // Another target with the same schedule runs at another time.
        let other = next_run(&hourly, Some(600), 43, Some(last), created).unwrap();
        assert_ne!(
            other,
            next_run(&hourly, Some(600), 42, Some(last), created).unwrap()
        );
    }

    #[test]
    fn invalid_expressions_are_refused_with_the_reason() {
        assert!(err("").contains("empty"));
        assert!(err("   ").contains("empty"));
        let e = err("0 3 * *");
        assert!(
            e.contains("has 4 fields") && e.contains("minute hour"),
            "{e}"
        );
        assert!(
            err("0 0 3 * * *").contains("has 6 fields"),
            "seconds are not taken"
        );
        assert!(err("@daily").contains("has 1 field:"));
        let e = err("61 * * * *");
        assert!(
            e.contains("\"61 * * * *\" is not valid in its minute field \"61\" (0-59)"),
            "{e}"
        );
        let e = err("0 0 * * MOO");
        assert!(e.contains("day-of-week field \"MOO\""), "{e}");
        assert!(err("0 0 * 13 *").contains("month field \"13\" (1-12 or JAN-DEC)"));
        for bad in [
            "* 24 * * *",
            "0 0 0 * *",
            "0 0 32 * *",
            "0 0 * 13 *",
            "0 0 * * 8",
            "0 0 * * MOO",
            "a b c d e",
            "*/0 * * * *",
            "5-1/x * * * *",
            "- * * * *",
            "0 0 L-99 * *",
            "0 0 * * 1#9",
            "\u{1F600} * * * *",
            "99999999999999999999 * * * *",
        ] {
            let e = err(bad);
            assert!(!e.is_empty(), "{bad}");
        }
        assert!(err(&"1,".repeat(200)).contains("longer than 200"));
        let e = err("0 0 31 4 *");
        assert!(e.contains("never fires"), "{e}");
        assert!(err("0 0 30 2 *").contains("never fires"));
    }

    #[test]
    fn expressions_firing_more_often_than_every_5_minutes_are_refused() {
        for hammer in [
            "* * * * *",
            "*/4 * * * *",
            "0-4 * * * *",
            "0,3 * * * *",
            "*/7 * * * *",
            "0,58 * * * *",
            "58,0 3,4 * * *",
            "58,0 23,0 * * *",
            "* 3 * * 1",
        ] {
            let e = err(hammer);
            assert!(
                e.contains("more often than every 5 minutes") && e.contains("hammer"),
                "{hammer}: {e}"
            );
        }
        let e = err("0,2 9 * * *");
        assert!(e.contains("09:00 and 09:02 UTC are 2 min apart"), "{e}");
        // 5 minutes is the floor, not below it.
        for fine in [
            "*/5 * * * *",
            "0,5 * * * *",
            "55 23 * * *",
            "0,55 * * * *",
            "58 3 * * *",
            "0 */2 * * *",
            "*/30 9-17 * * MON-FRI",
            "0 0 1 JAN *",
        ] {
            Cron::parse(fine).unwrap_or_else(|e| panic!("{fine}: {e}"));
        }
        // 58 and 0 in hours that do not follow each other are an hour apart at least.
        Cron::parse("58,0 3,5 * * *").unwrap();
    }

    #[test]
    fn the_expression_is_kept_with_single_spaces() {
        let c = Cron::parse("  0   3 *\t* *  ").unwrap();
        assert_eq!(c.as_str(), "0 3 * * *");
        assert_eq!(c, Cron::parse("0 3 * * *").unwrap());
    }

    #[test]
    fn stored_columns_make_the_schedule() {
        assert_eq!(Schedule::from_columns(None, None), Ok(None));
        assert_eq!(
            Schedule::from_columns(Some(30), None),
            Ok(Some(Schedule::Interval { minutes: 30 }))
        );
        assert_eq!(
            Schedule::from_columns(None, Some("0 3 * * *")),
            Ok(Some(cron("0 3 * * *")))
        );
        assert!(Schedule::from_columns(None, Some("nonsense")).is_err());
        assert_eq!(check_jitter(0), Ok(0));
        assert_eq!(check_jitter(86_400), Ok(86_400));
        assert!(check_jitter(86_401).unwrap_err().contains("0 to 86400"));
        assert!(check_jitter(-1).is_err());
    }

    #[test]
    fn no_overflow_at_the_ends_of_time() {
        let every = Schedule::Interval { minutes: 525_600 };
        assert_eq!(
            next_run(&every, Some(86_400), 1, Some(i64::MAX - 10), 0),
            None
        );
        assert_eq!(
            next_run(&cron("0 3 * * *"), Some(86_400), 1, Some(i64::MIN), 0),
            None
        );
        assert_eq!(
            next_run(&cron("0 3 * * *"), None, 1, Some(i64::MAX), 0),
            None
        );
        let huge = Schedule::Interval { minutes: i64::MAX };
        assert_eq!(next_run(&huge, None, 1, Some(0), 0), None);
    }
}
