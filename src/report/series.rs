//! The report's figures day by day, for the charts on "Ringkasan": decisions by kind, who
//! answered (the bot or a person), and the bot's reply and staff's claim times. Days are
//! calendar days in Malang (WIB, UTC+7), whatever the server's zone; the SQL groups by
//! `(ms + 7 h) / 1 day` in integer arithmetic, which SQLite and PostgreSQL compute alike.

use std::collections::BTreeMap;

use serde::Serialize;
use sqlx::Row;

use super::Durations;
use crate::store::{Store, StoreError};

/// Milliseconds in a day, and WIB's offset from UTC.
const DAY_MS: i64 = 86_400_000;
const WIB_MS: i64 = 7 * 3_600_000;

/// One day of the period, in WIB (or one week, from its Monday: [`weekly`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Day {
    /// The day's start (00:00 WIB), milliseconds since the epoch.
    pub start: i64,
    /// The day as `YYYY-MM-DD` in WIB (for the API; pages print "Sen 7 Des").
    pub date: String,
    /// Decisions made that day, by kind (answer, report, emergency, handoff, ignore).
    pub decisions: BTreeMap<String, i64>,
    /// Mentions the bot answered itself (answer decisions).
    pub answered_by_bot: i64,
    /// Conversations in which a staff member replied that day.
    pub answered_by_staff: i64,
    /// The bot's reply time, for mentions posted that day.
    pub bot_reply: Durations,
    /// Hand-off to claim, for hand-offs made that day.
    pub time_to_claim: Durations,
}

/// The WIB day number of a moment: days since 1970-01-01 in Malang.
pub fn day_of(ms: i64) -> i64 {
    (ms + WIB_MS).div_euclid(DAY_MS)
}

/// The start (00:00 WIB) of a WIB day number, milliseconds since the epoch.
pub fn day_start(day: i64) -> i64 {
    day * DAY_MS - WIB_MS
}

/// The days of `[from, to)`, each with its figures. `replies` and `claims` are (moment, wait)
/// pairs the report already measured: a mention's posting and its reply time, a hand-off and
/// its wait for a claim.
pub(super) async fn daily(
    store: &Store,
    from: i64,
    to: i64,
    replies: &[(i64, i64)],
    claims: &[(i64, i64)],
) -> Result<Vec<Day>, StoreError> {
    let first = day_of(from);
    let last = day_of((to - 1).max(from));
    let mut days: Vec<Day> = (first..=last)
        .map(|d| Day {
            start: day_start(d),
            date: iso_date(day_start(d)),
            ..Day::default()
        })
        .collect();
    let slot = |ms: i64| usize::try_from(day_of(ms) - first).ok();
    let pool = store.pool();
    for row in sqlx::query(
        "SELECT (created_at + 25200000) / 86400000, kind, COUNT(*) FROM decisions \
         WHERE created_at >= $1 AND created_at < $2 \
         GROUP BY (created_at + 25200000) / 86400000, kind",
    )
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await?
    {
        let Some(day) = usize::try_from(row.get::<i64, _>(0) - first)
            .ok()
            .and_then(|i| days.get_mut(i))
        else {
            continue;
        };
        let (kind, n): (String, i64) = (row.get(1), row.get(2));
        if kind == "answer" {
            day.answered_by_bot += n;
        }
        day.decisions.insert(kind, n);
    }
    // A person's replies are the desk's outgoing messages not written by the bot.
    for row in sqlx::query(
        "SELECT (created_at + 25200000) / 86400000, COUNT(DISTINCT conversation_id) FROM messages \
         WHERE direction = 'out' AND author <> 'bot' AND created_at >= $1 AND created_at < $2 \
         GROUP BY (created_at + 25200000) / 86400000",
    )
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await?
    {
        if let Some(day) = usize::try_from(row.get::<i64, _>(0) - first)
            .ok()
            .and_then(|i| days.get_mut(i))
        {
            day.answered_by_staff = row.get(1);
        }
    }
    let per_day = |pairs: &[(i64, i64)]| {
        let mut by_day: BTreeMap<usize, Vec<i64>> = BTreeMap::new();
        for (at, wait) in pairs {
            if let Some(i) = slot(*at) {
                by_day.entry(i).or_default().push(*wait);
            }
        }
        by_day
    };
    for (i, waits) in per_day(replies) {
        if let Some(day) = days.get_mut(i) {
            day.bot_reply = Durations::of(waits);
        }
    }
    for (i, waits) in per_day(claims) {
        if let Some(day) = days.get_mut(i) {
            day.time_to_claim = Durations::of(waits);
        }
    }
    Ok(days)
}

/// The days' figures added up by week, Monday to Sunday (a period's first and last weeks may
/// be partial): counts are summed, times measured again from the same (moment, wait) pairs.
pub(super) fn weekly(days: &[Day], replies: &[(i64, i64)], claims: &[(i64, i64)]) -> Vec<Day> {
    // 1970-01-01 was a Thursday: day 0 is three days after a Monday.
    let week_of = |day: i64| (day + 3).div_euclid(7);
    let Some(first) = days.first().map(|d| week_of(day_of(d.start))) else {
        return Vec::new();
    };
    let mut weeks: Vec<Day> = Vec::new();
    for day in days {
        let i = (week_of(day_of(day.start)) - first) as usize;
        if weeks.len() <= i {
            let monday = day_start((first + i as i64) * 7 - 3);
            weeks.push(Day {
                start: monday,
                date: iso_date(monday),
                ..Day::default()
            });
        }
        let week = &mut weeks[i];
        for (kind, n) in &day.decisions {
            *week.decisions.entry(kind.clone()).or_default() += n;
        }
        week.answered_by_bot += day.answered_by_bot;
        week.answered_by_staff += day.answered_by_staff;
    }
    let per_week = |pairs: &[(i64, i64)]| {
        let mut by_week: BTreeMap<usize, Vec<i64>> = BTreeMap::new();
        for (at, wait) in pairs {
            if let Ok(i) = usize::try_from(week_of(day_of(*at)) - first) {
                by_week.entry(i).or_default().push(*wait);
            }
        }
        by_week
    };
    for (i, waits) in per_week(replies) {
        if let Some(week) = weeks.get_mut(i) {
            week.bot_reply = Durations::of(waits);
        }
    }
    for (i, waits) in per_week(claims) {
        if let Some(week) = weeks.get_mut(i) {
            week.time_to_claim = Durations::of(waits);
        }
    }
    weeks
}

/// `YYYY-MM-DD` of a moment in WIB.
fn iso_date(ms: i64) -> String {
    let date = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .to_offset(crate::tickets::sla::WIB)
        .date();
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_turn_at_midnight_in_malang() {
        use time::macros::datetime;
        let ms = |t: time::OffsetDateTime| t.unix_timestamp() * 1000;
        // 16:59 UTC is 23:59 WIB; 17:00 UTC is the next day in Malang.
        let late = ms(datetime!(2026-12-06 16:59 UTC));
        let next = ms(datetime!(2026-12-06 17:00 UTC));
        assert_eq!(day_of(next), day_of(late) + 1);
        assert_eq!(day_start(day_of(next)), next);
        assert_eq!(iso_date(late), "2026-12-06");
        assert_eq!(iso_date(next), "2026-12-07");
    }

    #[test]
    fn weeks_run_monday_to_sunday_and_add_the_days_up() {
        use time::macros::datetime;
        let ms = |t: time::OffsetDateTime| t.unix_timestamp() * 1000;
        // Saturday 5 December to Tuesday 8 December 2026: two weeks.
        let first = day_of(ms(datetime!(2026-12-05 12:00 +7)));
        let days: Vec<Day> = (first..first + 4)
            .map(|d| Day {
                start: day_start(d),
                decisions: BTreeMap::from([("answer".to_owned(), 2)]),
                answered_by_bot: 2,
                ..Day::default()
            })
            .collect();
        let monday = ms(datetime!(2026-12-07 00:00 +7));
        let replies = [
            (monday - 1, 4_000),
            (monday + 5, 9_000),
            (monday + 6, 1_000),
        ];
        let weeks = weekly(&days, &replies, &[]);
        assert_eq!(weeks.len(), 2);
        assert_eq!(weeks[0].date, "2026-11-30");
        assert_eq!(
            (weeks[1].start, weeks[1].date.as_str()),
            (monday, "2026-12-07")
        );
        assert_eq!(weeks[0].decisions.get("answer"), Some(&4));
        assert_eq!(weeks[1].answered_by_bot, 4);
        assert_eq!((weeks[0].bot_reply.count, weeks[1].bot_reply.count), (1, 2));
        assert_eq!(weeks[1].bot_reply.p90_ms, Some(9_000));
    }
}
