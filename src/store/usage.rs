//! The billable units the paid platforms counted (`usage_units`, `usage_days`; see migration
//! 0015): recorded by the code that called a channel client, with what the client said the
//! request used; summed per UTC day and unit for the costs (`crate::costs`).

use sqlx::Row as _;

use super::{Result, Store};

/// One billed unit as the store keeps it.
#[derive(Debug, Clone, Copy)]
pub struct UsageUnit<'a> {
    /// The unit's name (`x.own_mentions_read`, `whatsapp.utility`...).
    pub unit: &'a str,
    /// The post, user or message billed.
    pub resource: &'a str,
    /// Whether the platform bills the same resource once per UTC day (X's reads) rather than
    /// once ever.
    pub daily: bool,
}

/// How long the resource ids are kept: long enough to count a resource once on its UTC day.
const KEEP_RESOURCES_MS: i64 = 2 * 24 * 3600 * 1000;

/// The UTC date (YYYY-MM-DD) of `ms`.
pub fn utc_day(ms: i64) -> String {
    super::rfc3339(ms)[..10].to_owned()
}

impl Store {
    /// Records billed units at `now`: each unit and resource counts once in its period (its
    /// UTC day, or ever). Returns how many were new.
    pub async fn record_usage(&self, units: &[UsageUnit<'_>], now: i64) -> Result<usize> {
        if units.is_empty() {
            return Ok(0);
        }
        let day = utc_day(now);
        let mut tx = self.begin().await?;
        let mut added = 0;
        for u in units {
            let period = if u.daily { day.as_str() } else { "once" };
            let done = sqlx::query(
                "INSERT INTO usage_units (unit, resource, period, at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (unit, resource, period) DO NOTHING",
            )
            .bind(u.unit)
            .bind(u.resource)
            .bind(period)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                continue;
            }
            added += 1;
            sqlx::query(
                "INSERT INTO usage_days (day, unit, units) VALUES ($1, $2, 1) \
                 ON CONFLICT (day, unit) DO UPDATE SET units = usage_days.units + 1",
            )
            .bind(&day)
            .bind(u.unit)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(added)
    }

    /// Units per unit name on the UTC days `[from_day, to_day]` (YYYY-MM-DD, both included).
    pub async fn usage_between(&self, from_day: &str, to_day: &str) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query(
            "SELECT unit, CAST(SUM(units) AS BIGINT) FROM usage_days WHERE day >= $1 AND day <= $2 \
             GROUP BY unit ORDER BY unit",
        )
        .bind(from_day)
        .bind(to_day)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| (r.get::<String, _>(0), r.get::<i64, _>(1)))
            .collect())
    }

    /// Deletes the resource ids kept for counting once a day, once their day is over (retention:
    /// post, user and message ids say who wrote to whom). The daily counts stay.
    pub async fn prune_usage(&self, now: i64) -> Result<u64> {
        Ok(sqlx::query("DELETE FROM usage_units WHERE at < $1")
            .bind(now - KEEP_RESOURCES_MS)
            .execute(self.pool())
            .await?
            .rows_affected())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_days_are_dates() {
        assert_eq!(utc_day(0), "1970-01-01");
        // 2026-12-05T23:59:59Z and a second later.
        assert_eq!(utc_day(1_796_515_199_000), "2026-12-05");
        assert_eq!(utc_day(1_796_515_200_000), "2026-12-06");
    }
}
