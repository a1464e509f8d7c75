/*!
Small pieces the stand-ins share outside their control endpoints: the clock in the units the wire
formats carry, the HTTP client that delivers webhooks to the bot, and percent-decoding of query
strings and form bodies.
*/

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Unix time in seconds, as Telegram's `date` and WhatsApp's `timestamp` carry it.
pub(super) fn now_s() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A stable 64-bit hash (FNV-1a) of `bytes`, for ids derived from a name or number that must
/// stay the same across restarts.
pub(super) fn stable_hash(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// Unix time in milliseconds, for X's time-based ids and windows.
pub(super) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The UTC date of a Unix time in milliseconds, `YYYY-MM-DD`, as the usage counters key days.
pub(super) fn utc_date(ms: u64) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}",
        at.year(),
        u8::from(at.month()),
        at.day()
    )
}

/// The client that delivers webhooks, sending `user_agent` when given (reqwest sends none).
pub(super) fn webhook_client(user_agent: Option<&str>) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        // Webhooks go to the bot on loopback; a proxy from the environment must not catch them.
        .no_proxy();
    if let Some(user_agent) = user_agent {
        builder = builder.user_agent(user_agent);
    }
    builder.build().expect("a plain HTTP client builds")
}

/// Decodes `%XX` escapes and `+` (a space in forms); a `%` without two hex digits after it stays
/// as it is, and bytes that are not UTF-8 become U+FFFD.
pub(super) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(high), Some(low)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(high * 16 + low);
            i += 3;
            continue;
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_escapes_and_plus_decode_and_broken_escapes_stay() {
        assert_eq!(percent_decode("halo+warga%21"), "halo warga!");
        assert_eq!(percent_decode("%E2%80%93"), "–");
        assert_eq!(percent_decode("100%"), "100%");
        // A `%` before a character of more than one byte is literal, never a slice inside it.
        assert_eq!(percent_decode("%aé"), "%aé");
        assert_eq!(percent_decode("%+41"), "% 41");
    }

    #[test]
    fn dates_are_utc() {
        // 2026-12-06T23:59:59Z, then one second later.
        assert_eq!(utc_date(1_796_601_599_000), "2026-12-06");
        assert_eq!(utc_date(1_796_601_600_000), "2026-12-07");
    }
}
