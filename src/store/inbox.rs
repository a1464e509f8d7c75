//! The inbox of mentions, the listener's cursor, decisions and opt-outs: what came in from X and
//! what was decided about it.

use std::time::Duration;

use sqlx::Row;

use super::{Backend, insert_dead_letter, insert_outbox};
use super::{Mention, NewDecision, NewMention, NewOutbox, Result, Store, Tx, now_ms};

impl Store {
    /// Stores new mentions and moves the cursor in one transaction, so a crash either keeps both
    /// or neither. A mention already stored is skipped. Returns how many were new.
    pub async fn store_mentions(
        &self,
        cursor: &str,
        mentions: &[NewMention],
        new_cursor: Option<&str>,
    ) -> Result<usize> {
        let now = now_ms();
        let mut tx = self.begin().await?;
        let mut inserted = 0;
        for m in mentions {
            let done = sqlx::query(
                "INSERT INTO inbox (tweet_id, author_id, author_username, text, conversation_id, \
                 in_reply_to_id, created_at, received_at, raw) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (tweet_id) DO NOTHING",
            )
            .bind(&m.tweet_id)
            .bind(&m.author_id)
            .bind(&m.author_username)
            .bind(&m.text)
            .bind(&m.conversation_id)
            .bind(&m.in_reply_to_id)
            .bind(m.created_at)
            .bind(now)
            .bind(&m.raw)
            .execute(&mut *tx)
            .await?;
            inserted += done.rows_affected() as usize;
        }
        if let Some(value) = new_cursor {
            set_cursor(&mut tx, cursor, value, now).await?;
        }
        tx.commit().await?;
        Ok(inserted)
    }

    /// The cursor's value, if it was ever set.
    pub async fn cursor(&self, name: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT value FROM cursors WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.get::<String, _>(0)))
    }

    /// Claims the oldest pending mention for `lease`: another worker will not take it until the
    /// lease runs out (a crashed worker's mention is taken again).
    pub async fn claim_mention(&self, lease: Duration) -> Result<Option<Mention>> {
        let now = now_ms();
        let until = now + lease.as_millis() as i64;
        let sql = match self.backend {
            Backend::Sqlite => {
                "UPDATE inbox SET lease_until = $1, attempts = attempts + 1 \
                 WHERE tweet_id = (SELECT tweet_id FROM inbox WHERE state = 'pending' \
                 AND (lease_until IS NULL OR lease_until < $2) \
                 ORDER BY length(tweet_id), tweet_id LIMIT 1) \
                 RETURNING tweet_id, author_id, author_username, text, conversation_id, \
                 in_reply_to_id, created_at, attempts, raw"
            }
            Backend::Postgres => {
                "UPDATE inbox SET lease_until = $1, attempts = attempts + 1 \
                 WHERE tweet_id = (SELECT tweet_id FROM inbox WHERE state = 'pending' \
                 AND (lease_until IS NULL OR lease_until < $2) \
                 ORDER BY length(tweet_id), tweet_id LIMIT 1 FOR UPDATE SKIP LOCKED) \
                 RETURNING tweet_id, author_id, author_username, text, conversation_id, \
                 in_reply_to_id, created_at, attempts, raw"
            }
        };
        let row = sqlx::query(sql)
            .bind(until)
            .bind(now)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| Mention {
            tweet_id: r.get(0),
            author_id: r.get(1),
            author_username: r.get(2),
            text: r.get(3),
            conversation_id: r.get(4),
            in_reply_to_id: r.get(5),
            created_at: r.get(6),
            attempts: r.get(7),
            raw: r.get(8),
        }))
    }

    /// Records a decision and queues its outgoing messages, and marks the mention done, all in
    /// one transaction. Returns how many outbox rows were new (a replayed mention adds none).
    pub async fn complete_mention(
        &self,
        tweet_id: &str,
        decision: &NewDecision,
        outgoing: &[NewOutbox],
    ) -> Result<usize> {
        let now = now_ms();
        let mut tx = self.begin().await?;
        if !mark_mention_done(&mut tx, tweet_id, now).await? {
            tx.rollback().await?;
            return Ok(0);
        }
        insert_decision(&mut tx, tweet_id, decision, now).await?;
        let mut queued = 0;
        for item in outgoing {
            queued += insert_outbox(&mut tx, item, now).await?;
        }
        tx.commit().await?;
        Ok(queued)
    }

    /// Records something received that could not be acted on (a Telegram update, a WhatsApp
    /// message), so that staff see it and the reader goes on.
    pub async fn dead_letter(
        &self,
        source: &str,
        reference: &str,
        payload: &str,
        error: &str,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        insert_dead_letter(&mut tx, source, reference, payload, error, now_ms()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Moves a mention that can never be processed to the dead letters, so the worker goes on.
    pub async fn bury_mention(&self, tweet_id: &str, error: &str) -> Result<()> {
        let now = now_ms();
        let mut tx = self.begin().await?;
        let raw: Option<String> = sqlx::query("SELECT raw FROM inbox WHERE tweet_id = $1")
            .bind(tweet_id)
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.get(0));
        sqlx::query("UPDATE inbox SET state = 'dead', lease_until = NULL WHERE tweet_id = $1")
            .bind(tweet_id)
            .execute(&mut *tx)
            .await?;
        insert_dead_letter(
            &mut tx,
            "inbox",
            tweet_id,
            &raw.unwrap_or_default(),
            error,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// How many mentions are in each state.
    pub async fn inbox_counts(&self) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query("SELECT state, COUNT(*) FROM inbox GROUP BY state ORDER BY state")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// Records that a citizen wrote "stop".
    pub async fn opt_out(&self, user_id: &str, username: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO opt_outs (user_id, username, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id) DO NOTHING",
        )
        .bind(user_id)
        .bind(username)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records that a citizen wrote "mulai" again.
    pub async fn opt_in(&self, user_id: &str) -> Result<()> {
        sqlx::query("DELETE FROM opt_outs WHERE user_id = $1")
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Whether a citizen asked for no automatic replies.
    pub async fn is_opted_out(&self, user_id: &str) -> Result<bool> {
        let row = sqlx::query("SELECT 1 FROM opt_outs WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }
}

/// Marks a mention done. False when it was done already (another worker finished it after this
/// one's lease ran out): the caller then changes nothing. Written first in a mention's
/// transaction: on SQLite this takes the write lock before anything is read.
pub async fn mark_mention_done(tx: &mut Tx<'_>, tweet_id: &str, now: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE inbox SET state = 'done', processed_at = $1, lease_until = NULL \
         WHERE tweet_id = $2 AND state <> 'done'",
    )
    .bind(now)
    .bind(tweet_id)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records what was decided about a mention (once: a replay keeps the first decision).
pub async fn insert_decision(
    tx: &mut Tx<'_>,
    tweet_id: &str,
    decision: &NewDecision,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO decisions (tweet_id, conversation_id, kind, topic, agency, rule, evidence, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (tweet_id) DO NOTHING",
    )
    .bind(tweet_id)
    .bind(&decision.conversation_id)
    .bind(&decision.kind)
    .bind(&decision.topic)
    .bind(&decision.agency)
    .bind(&decision.rule)
    .bind(&decision.evidence)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Sets a named cursor (the listener's, the staff group's events and offset, the weekly slot).
pub async fn set_cursor(tx: &mut Tx<'_>, name: &str, value: &str, now: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO cursors (name, value, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
    )
    .bind(name)
    .bind(value)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
