//! The outbox: every message that leaves the process (tweets, Telegram, WhatsApp), with its
//! idempotency key, priority, lease and attempts.

use std::time::Duration;

use sqlx::Row;

use super::{Backend, NewOutbox, Outbox, Result, Store, Tx, insert_dead_letter, now_ms};

impl Store {
    /// Queues one message outside a mention's transaction (staff replies, reminders). Returns
    /// false when a message with the same idempotency key was queued before.
    pub async fn enqueue(&self, item: &NewOutbox) -> Result<bool> {
        let mut tx = self.begin().await?;
        let n = insert_outbox(&mut tx, item, now_ms()).await?;
        tx.commit().await?;
        Ok(n == 1)
    }

    /// Claims the most urgent due message of a channel for `lease`.
    pub async fn claim_outbox(&self, channel: &str, lease: Duration) -> Result<Option<Outbox>> {
        let now = now_ms();
        let until = now + lease.as_millis() as i64;
        let pick = "SELECT id FROM outbox WHERE channel = $3 AND next_attempt_at <= $2 \
                    AND (state = 'pending' OR (state = 'sending' AND lease_until < $2)) \
                    ORDER BY priority DESC, id LIMIT 1";
        let sql = match self.backend {
            Backend::Sqlite => format!(
                "UPDATE outbox SET state = 'sending', lease_until = $1, attempts = attempts + 1, \
                 updated_at = $2 WHERE id = ({pick}) RETURNING {OUTBOX_COLUMNS}"
            ),
            Backend::Postgres => format!(
                "UPDATE outbox SET state = 'sending', lease_until = $1, attempts = attempts + 1, \
                 updated_at = $2 WHERE id = ({pick} FOR UPDATE SKIP LOCKED) \
                 RETURNING {OUTBOX_COLUMNS}"
            ),
        };
        let row = sqlx::query(&sql)
            .bind(until)
            .bind(now)
            .bind(channel)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(outbox_from_row))
    }

    /// Records a successful send and the remote id (the tweet's id, the message id).
    pub async fn mark_sent(&self, id: i64, remote_id: &str) -> Result<()> {
        sqlx::query(
            "UPDATE outbox SET state = 'sent', remote_id = $1, lease_until = NULL, \
             last_error = NULL, updated_at = $2 WHERE id = $3",
        )
        .bind(remote_id)
        .bind(now_ms())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Puts a claimed message back in the queue until `not_before`, without counting the claim
    /// as an attempt (it was never tried: a flood limit had no slot for it).
    pub async fn defer_outbox(&self, id: i64, not_before: i64) -> Result<()> {
        sqlx::query(
            "UPDATE outbox SET state = 'pending', lease_until = NULL, next_attempt_at = $1, \
             attempts = attempts - 1, updated_at = $2 WHERE id = $3 AND state = 'sending'",
        )
        .bind(not_before)
        .bind(now_ms())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Puts a message back for another attempt at `next_attempt_at` (milliseconds).
    pub async fn mark_retry(&self, id: i64, next_attempt_at: i64, error: &str) -> Result<()> {
        sqlx::query(
            "UPDATE outbox SET state = 'pending', lease_until = NULL, next_attempt_at = $1, \
             last_error = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(next_attempt_at)
        .bind(error)
        .bind(now_ms())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Puts a message back with a new payload (e.g. a reworded tweet after X refused a
    /// duplicate).
    pub async fn retry_with_payload(&self, id: i64, payload: &str, error: &str) -> Result<()> {
        sqlx::query(
            "UPDATE outbox SET state = 'pending', lease_until = NULL, payload = $1, \
             next_attempt_at = $2, last_error = $3, updated_at = $2 WHERE id = $4",
        )
        .bind(payload)
        .bind(now_ms())
        .bind(error)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Gives up on a message that can never be sent: it goes to the dead letters.
    pub async fn mark_dead(&self, id: i64, error: &str) -> Result<()> {
        let now = now_ms();
        let mut tx = self.begin().await?;
        let row = sqlx::query("SELECT idempotency_key, payload FROM outbox WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        let (key, payload): (String, String) = (row.get(0), row.get(1));
        sqlx::query(
            "UPDATE outbox SET state = 'dead', lease_until = NULL, last_error = $1, \
             updated_at = $2 WHERE id = $3",
        )
        .bind(error)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        insert_dead_letter(&mut tx, "outbox", &key, &payload, error, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The message with this idempotency key, if any.
    pub async fn outbox_by_key(&self, key: &str) -> Result<Option<Outbox>> {
        let row = sqlx::query(&format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE idempotency_key = $1"
        ))
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(outbox_from_row))
    }

    /// The rows whose idempotency key starts with `prefix` (the parts of one message), in key
    /// order. A range on the unique key's index: `prefix` up to the same text with its last
    /// character's successor.
    pub async fn outbox_with_prefix(&self, prefix: &str) -> Result<Vec<Outbox>> {
        let Some(last) = prefix.chars().last() else {
            return Ok(Vec::new());
        };
        let next = char::from_u32(last as u32 + 1).unwrap_or(char::MAX);
        let end = format!("{}{next}", &prefix[..prefix.len() - last.len_utf8()]);
        let rows = sqlx::query(&format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE idempotency_key >= $1 \
             AND idempotency_key < $2 ORDER BY id"
        ))
        .bind(prefix)
        .bind(end)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(outbox_from_row).collect())
    }

    /// Messages being sent when the process stopped: after a crash they may or may not have
    /// reached the service, so the dispatcher reconciles them before sending anything.
    pub async fn in_flight(&self, channel: &str) -> Result<Vec<Outbox>> {
        let rows = sqlx::query(&format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE channel = $1 AND state = 'sending' \
             ORDER BY id"
        ))
        .bind(channel)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(outbox_from_row).collect())
    }

    /// How many messages are in each state, per channel.
    pub async fn outbox_counts(&self) -> Result<Vec<(String, String, i64)>> {
        let rows = sqlx::query(
            "SELECT channel, state, COUNT(*) FROM outbox GROUP BY channel, state \
             ORDER BY channel, state",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect())
    }
}

const OUTBOX_COLUMNS: &str = "id, channel, payload, priority, idempotency_key, attempts, \
                              next_attempt_at, state, remote_id, last_error";

fn outbox_from_row(r: sqlx::any::AnyRow) -> Outbox {
    Outbox {
        id: r.get(0),
        channel: r.get(1),
        payload: r.get(2),
        priority: r.get(3),
        idempotency_key: r.get(4),
        attempts: r.get(5),
        next_attempt_at: r.get(6),
        state: r.get(7),
        remote_id: r.get(8),
        last_error: r.get(9),
    }
}

/// Queues one message inside the caller's transaction. Returns 1, or 0 when a message with the
/// same idempotency key was queued before.
pub async fn insert_outbox(tx: &mut Tx<'_>, item: &NewOutbox, now: i64) -> Result<usize> {
    let done = sqlx::query(
        "INSERT INTO outbox (channel, payload, priority, idempotency_key, next_attempt_at, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (idempotency_key) DO NOTHING",
    )
    .bind(&item.channel)
    .bind(&item.payload)
    .bind(item.priority)
    .bind(&item.idempotency_key)
    .bind(now)
    .bind(now)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() as usize)
}

/// Holds a queued message back for a conversation a person holds: it goes out when the
/// conversation is released or closed ([`release_held`]).
pub async fn hold(tx: &mut Tx<'_>, key: &str, conversation: &str) -> Result<()> {
    sqlx::query(
        "UPDATE outbox SET state = 'held', hold_for = $1 WHERE idempotency_key = $2 \
         AND state = 'pending'",
    )
    .bind(conversation)
    .bind(key)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Lets every message held for a conversation go out now. Returns how many.
pub async fn release_held(tx: &mut Tx<'_>, conversation: &str, now: i64) -> Result<u64> {
    let done = sqlx::query(
        "UPDATE outbox SET state = 'pending', hold_for = NULL, next_attempt_at = $1, \
         updated_at = $1 WHERE state = 'held' AND hold_for = $2",
    )
    .bind(now)
    .bind(conversation)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected())
}

/// Sends a message that went to the dead letters again (staff pressed "Kirim ulang"): back in
/// the queue at once with its attempts reset, in the caller's transaction. Only a dead row
/// moves; returns whether it did. Its dead letter stays, as the record of the failure.
pub async fn requeue_dead(tx: &mut Tx<'_>, key: &str, now: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = $1, \
         last_error = NULL, lease_until = NULL, updated_at = $1 \
         WHERE idempotency_key = $2 AND state = 'dead'",
    )
    .bind(now)
    .bind(key)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}
