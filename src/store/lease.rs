//! Leases on jobs only one instance may run at a time among instances sharing the database:
//! reading mentions (X counts reads per account, and two readers would double them) and reading
//! Telegram updates (Telegram refuses a second long poll). The holder renews its lease every
//! third of its time to live (`run::leases`); when it stops (a crash, a network cut), the lease
//! lapses and another instance takes the job over. Everything the jobs write is idempotent, so a
//! short overlap after a stall costs nothing but a duplicate read.

use std::time::Duration;

use super::{Result, Store, now_ms};

/// One instance's claim on the job `name`.
#[derive(Clone, Debug)]
pub struct Lease {
    store: Store,
    name: String,
    holder: String,
    ttl: Duration,
}

impl Lease {
    /// A lease on `name` for this instance (`holder`), lapsing `ttl` after its last renewal.
    pub fn new(store: Store, name: &str, holder: &str, ttl: Duration) -> Lease {
        Lease {
            store,
            name: name.to_owned(),
            holder: holder.to_owned(),
            ttl,
        }
    }

    /// An id for this process: unique among the instances sharing a database.
    pub fn holder_id() -> String {
        format!("pid{}-{}", std::process::id(), now_ms())
    }

    /// Takes the lease if it is free or lapsed, or renews it if held. Whether this instance
    /// holds it now. One conditional upsert: of two instances at once, one wins.
    pub async fn hold(&self) -> Result<bool> {
        let now = now_ms();
        let done = sqlx::query(
            "INSERT INTO leases (name, holder, until) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until \
             WHERE leases.holder = excluded.holder OR leases.until < $4",
        )
        .bind(&self.name)
        .bind(&self.holder)
        .bind(now + self.ttl.as_millis() as i64)
        .bind(now)
        .execute(self.store.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Gives the lease up (a clean stop), so another instance need not wait for it to lapse.
    pub async fn release(&self) -> Result<()> {
        sqlx::query("UPDATE leases SET until = 0 WHERE name = $1 AND holder = $2")
            .bind(&self.name)
            .bind(&self.holder)
            .execute(self.store.pool())
            .await?;
        Ok(())
    }

    /// The job's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How long the lease outlives its holder's last renewal.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }
}
