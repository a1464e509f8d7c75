/*!
Time as people in Malang read it: Western Indonesian Time (WIB, UTC+7), Indonesian day and month
names, the time written with a dot ("14.05"). Moments are milliseconds since the epoch, as the
store keeps them; machines keep RFC 3339 (the API), people read these.

- [`time`]: the full form, for logs people read ("6 Des 2026 06.53 WIB");
- [`moment`]: near `now` the way staff say it ("hari ini 14.05", "kemarin 09.10", "Sen 8 Des
  23.59"; another year adds it);
- [`until`]: a deadline's distance ("2 jam lagi", "lewat 3 hari").
*/

use time::{OffsetDateTime, UtcOffset, Weekday};

/// Western Indonesian Time, where Kota Malang keeps its office hours.
pub const WIB: UtcOffset = match UtcOffset::from_hms(7, 0, 0) {
    Ok(offset) => offset,
    Err(_) => UtcOffset::UTC,
};

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des",
];

fn at(ms: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .map(|t| t.to_offset(WIB))
}

fn month(t: OffsetDateTime) -> &'static str {
    MONTHS[usize::from(u8::from(t.month())) - 1]
}

fn day_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Monday => "Sen",
        Weekday::Tuesday => "Sel",
        Weekday::Wednesday => "Rab",
        Weekday::Thursday => "Kam",
        Weekday::Friday => "Jum",
        Weekday::Saturday => "Sab",
        Weekday::Sunday => "Min",
    }
}

/// The full form: `6 Des 2026 06.53 WIB`.
pub fn time(ms: i64) -> String {
    let Some(t) = at(ms) else {
        return "-".to_owned();
    };
    format!(
        "{} {} {} {:02}.{:02} WIB",
        t.day(),
        month(t),
        t.year(),
        t.hour(),
        t.minute()
    )
}

/// A moment as staff say it, seen from `now`: "hari ini 14.05", "kemarin 09.10", "besok 08.00",
/// "Sen 8 Des 23.59" within the year, "8 Des 2025 23.59" before or after it.
pub fn moment(ms: i64, now: i64) -> String {
    let (Some(t), Some(today)) = (at(ms), at(now)) else {
        return "-".to_owned();
    };
    let clock = format!("{:02}.{:02}", t.hour(), t.minute());
    let days = (t.date() - today.date()).whole_days();
    match days {
        0 => format!("hari ini {clock}"),
        -1 => format!("kemarin {clock}"),
        1 => format!("besok {clock}"),
        _ if t.year() == today.year() => {
            format!("{} {} {} {clock}", day_name(t.weekday()), t.day(), month(t))
        }
        _ => format!("{} {} {} {clock}", t.day(), month(t), t.year()),
    }
}

/// The distance to a deadline from `now`: "2 jam lagi", "45 menit lagi", "3 hari lagi", or once
/// passed "lewat 3 jam".
pub fn until(ms: i64, now: i64) -> String {
    let left = ms - now;
    let span = span(left.abs());
    if left >= 0 {
        format!("{span} lagi")
    } else {
        format!("lewat {span}")
    }
}

/// A length of time in its largest whole unit: "kurang dari 1 menit", "45 menit", "2 jam",
/// "3 hari".
pub fn span(ms: i64) -> String {
    let minutes = ms / 60_000;
    match minutes {
        0 => "kurang dari 1 menit".to_owned(),
        m if m < 60 => format!("{m} menit"),
        m if m < 48 * 60 => format!("{} jam", m / 60),
        m => format!("{} hari", m / (24 * 60)),
    }
}

/// A form's local time in Malang, `2026-12-10T08:00` (an `<input type="datetime-local">`) or a
/// day `2026-12-10` (its midnight), as milliseconds since the epoch.
pub fn parse_local(text: &str) -> Option<i64> {
    let text = text.trim();
    let (date, clock) = text.split_once('T').unwrap_or((text, "00:00"));
    let mut d = date.split('-').map(|p| p.parse::<i32>().ok());
    let (year, month, day) = (d.next()??, d.next()??, d.next()??);
    if d.next().is_some() {
        return None;
    }
    let mut c = clock.split(':').map(|p| p.parse::<u8>().ok());
    let (hour, minute) = (c.next()??, c.next()??);
    let month = time::Month::try_from(u8::try_from(month).ok()?).ok()?;
    let date = time::Date::from_calendar_date(year, month, u8::try_from(day).ok()?).ok()?;
    let clock = time::Time::from_hms(hour, minute, 0).ok()?;
    let t = time::PrimitiveDateTime::new(date, clock).assume_offset(WIB);
    Some((t.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// A moment as a form shows it back: `2026-12-10T08:00` in Malang.
pub fn to_local(ms: i64) -> String {
    at(ms)
        .map(|t| {
            format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute()
            )
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_times_are_read_in_malang() {
        // 2026-12-10 08:00 WIB is 01:00 UTC.
        let ms = parse_local("2026-12-10T08:00").unwrap();
        assert_eq!(ms, 1_796_864_400_000, "2026-12-10T01:00:00Z");
        assert_eq!(to_local(ms), "2026-12-10T08:00");
        assert_eq!(
            parse_local("2026-12-10"),
            Some(1_796_835_600_000),
            "2026-12-09T17:00:00Z"
        );
        for bad in [
            "",
            "2026-13-01",
            "2026-02-30",
            "kemarin",
            "2026-12-10T25:00",
            "1-2-3-4",
        ] {
            assert!(parse_local(bad).is_none(), "{bad}");
        }
    }

    // 2026-12-05T23:53:29Z: Sunday 6 December 2026, 06.53 in Malang.
    const SUNDAY_MORNING: i64 = 1_796_514_809_000;
    const HOUR: i64 = 3_600_000;

    #[test]
    fn the_full_form_is_in_malang() {
        assert_eq!(time(SUNDAY_MORNING), "6 Des 2026 06.53 WIB");
        assert_eq!(time(0), "1 Jan 1970 07.00 WIB");
    }

    #[test]
    fn moments_near_today_are_said_by_their_day() {
        let now = SUNDAY_MORNING;
        assert_eq!(moment(now, now), "hari ini 06.53");
        // 23.59 the evening before, in Malang (not the UTC day).
        assert_eq!(moment(now - 7 * HOUR, now), "kemarin 23.53");
        assert_eq!(moment(now + 24 * HOUR, now), "besok 06.53");
        assert_eq!(moment(now + 2 * 24 * HOUR, now), "Sel 8 Des 06.53");
        assert_eq!(moment(now - 400 * 24 * HOUR, now), "1 Nov 2025 06.53");
    }

    #[test]
    fn deadlines_say_how_far() {
        let now = SUNDAY_MORNING;
        assert_eq!(until(now + 2 * HOUR + 5 * 60_000, now), "2 jam lagi");
        assert_eq!(until(now + 45 * 60_000, now), "45 menit lagi");
        assert_eq!(until(now + 3 * 24 * HOUR, now), "3 hari lagi");
        assert_eq!(until(now - 3 * HOUR, now), "lewat 3 jam");
        assert_eq!(until(now + 10_000, now), "kurang dari 1 menit lagi");
    }
}
