//! Working-day deadlines. A deadline of N working days ends at the close of the Nth working day
//! after the day the ticket was filed (Western Indonesian Time, UTC+7), skipping Saturdays,
//! Sundays and the holidays listed in bot.toml. A reminder goes when a share of the time between
//! filing and deadline has passed (three quarters by default).

use std::collections::BTreeSet;

use time::{Date, Duration, OffsetDateTime, UtcOffset, Weekday};

/// Western Indonesian Time, where Kota Malang keeps its office hours.
pub const WIB: UtcOffset = match UtcOffset::from_hms(7, 0, 0) {
    Ok(offset) => offset,
    Err(_) => UtcOffset::UTC,
};

/// Which days count as working days.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calendar {
    holidays: BTreeSet<Date>,
}

impl Calendar {
    pub fn new(holidays: impl IntoIterator<Item = Date>) -> Calendar {
        Calendar {
            holidays: holidays.into_iter().collect(),
        }
    }

    /// Whether `day` is a working day.
    pub fn is_working_day(&self, day: Date) -> bool {
        !matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday)
            && !self.holidays.contains(&day)
    }

    /// Whether the list holds any holiday in `year` (an empty year is probably a forgotten update).
    pub fn knows_year(&self, year: i32) -> bool {
        self.holidays.iter().any(|d| d.year() == year)
    }

    /// The deadline `days` working days after `filed_ms` (milliseconds since the epoch): the end
    /// of that working day in WIB, as milliseconds since the epoch.
    pub fn due(&self, filed_ms: i64, days: u32) -> i64 {
        let filed = OffsetDateTime::from_unix_timestamp_nanos(i128::from(filed_ms) * 1_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
            .to_offset(WIB);
        let mut day = filed.date();
        let mut left = days;
        while left > 0 {
            day = day.next_day().unwrap_or(day);
            if self.is_working_day(day) {
                left -= 1;
            }
        }
        let end = day
            .with_hms(23, 59, 59)
            .expect("a valid time")
            .assume_offset(WIB);
        (end.unix_timestamp_nanos() / 1_000_000) as i64
    }

    /// The moment `share` (0..1) of the way from `filed_ms` to `due_ms`.
    pub fn remind_at(filed_ms: i64, due_ms: i64, share: f64) -> i64 {
        filed_ms + ((due_ms - filed_ms) as f64 * share) as i64
    }

    /// Whole working days from `from_ms` to `to_ms` (how late a ticket is, for staff).
    pub fn working_days_between(&self, from_ms: i64, to_ms: i64) -> i64 {
        let day = |ms: i64| {
            OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
                .unwrap_or(OffsetDateTime::UNIX_EPOCH)
                .to_offset(WIB)
                .date()
        };
        let (mut d, end) = (day(from_ms), day(to_ms));
        let mut n = 0;
        while d < end {
            d += Duration::days(1);
            if self.is_working_day(d) {
                n += 1;
            }
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    fn ms(t: OffsetDateTime) -> i64 {
        (t.unix_timestamp_nanos() / 1_000_000) as i64
    }

    #[test]
    fn three_working_days_skip_the_weekend() {
        let calendar = Calendar::default();
        // Thursday 2026-11-19, 10:00 WIB -> Tuesday 2026-11-24, end of day WIB.
        let filed = ms(datetime!(2026-11-19 10:00 +7));
        assert_eq!(
            calendar.due(filed, 3),
            ms(datetime!(2026-11-24 23:59:59 +7))
        );
    }

    #[test]
    fn holidays_do_not_count_and_a_weekend_filing_starts_on_monday() {
        let calendar = Calendar::new([date!(2026 - 12 - 25)]);
        // Thursday 2026-12-24 -> Friday 25 is a holiday -> Monday 28, Tuesday 29.
        let filed = ms(datetime!(2026-12-24 09:00 +7));
        assert_eq!(
            calendar.due(filed, 2),
            ms(datetime!(2026-12-29 23:59:59 +7))
        );
        // Saturday 2026-11-21 -> Monday 23 is the first working day.
        let saturday = ms(datetime!(2026-11-21 20:00 +7));
        assert_eq!(
            calendar.due(saturday, 1),
            ms(datetime!(2026-11-23 23:59:59 +7))
        );
        assert!(calendar.knows_year(2026));
        assert!(!calendar.knows_year(2027));
    }

    #[test]
    fn the_day_boundary_is_wib_not_utc() {
        // 2026-11-19 20:00 UTC is already Friday 03:00 WIB: one working day -> Monday.
        let calendar = Calendar::default();
        let filed = ms(datetime!(2026-11-19 20:00 UTC));
        assert_eq!(
            calendar.due(filed, 1),
            ms(datetime!(2026-11-23 23:59:59 +7))
        );
    }

    #[test]
    fn reminders_and_lateness() {
        assert_eq!(Calendar::remind_at(0, 1000, 0.75), 750);
        let calendar = Calendar::default();
        let monday = ms(datetime!(2026-11-23 09:00 +7));
        let next_monday = ms(datetime!(2026-11-30 09:00 +7));
        assert_eq!(calendar.working_days_between(monday, next_monday), 5);
    }
}
