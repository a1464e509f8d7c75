//! Dead letters (what could not be handled, kept for staff) and the audit log (who did what,
//! when).

use sqlx::Row;

use super::{AuditEntry, DeadLetter, Result, Store, Tx, now_ms};

impl Store {
    /// Every dead letter, newest first.
    pub async fn dead_letters(&self) -> Result<Vec<DeadLetter>> {
        let rows = sqlx::query(
            "SELECT id, source, reference, payload, error, created_at FROM dead_letters \
             ORDER BY id DESC",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| DeadLetter {
                id: r.get(0),
                source: r.get(1),
                reference: r.get(2),
                payload: r.get(3),
                error: r.get(4),
                created_at: r.get(5),
            })
            .collect())
    }

    /// Appends to the audit log.
    pub async fn audit(
        &self,
        actor: &str,
        action: &str,
        subject: &str,
        detail: &str,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        insert_audit(&mut tx, actor, action, subject, detail, now_ms()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The audit log, newest first, at most `limit` entries.
    pub async fn audit_log(&self, limit: i64) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT id, at, actor, action, subject, detail FROM audit_log ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| AuditEntry {
                id: r.get(0),
                at: r.get(1),
                actor: r.get(2),
                action: r.get(3),
                subject: r.get(4),
                detail: r.get(5),
            })
            .collect())
    }
}

impl Store {
    /// How many dead letters from `source` whose reference starts with `prefix` were kept at or
    /// after `since` (ms).
    pub async fn count_dead_letters(&self, source: &str, prefix: &str, since: i64) -> Result<i64> {
        let row = sqlx::query(
            "SELECT COUNT(*) FROM dead_letters WHERE source = $1 AND reference LIKE $2 \
             AND created_at >= $3",
        )
        .bind(source)
        .bind(format!("{prefix}%"))
        .bind(since)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.get(0))
    }
}

/// Keeps something that could not be handled for staff, inside the caller's transaction.
pub async fn insert_dead_letter(
    tx: &mut Tx<'_>,
    source: &str,
    reference: &str,
    payload: &str,
    error: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO dead_letters (source, reference, payload, error, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(source)
    .bind(reference)
    .bind(payload)
    .bind(error)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Appends to the audit log inside the caller's transaction.
pub async fn insert_audit(
    tx: &mut Tx<'_>,
    actor: &str,
    action: &str,
    subject: &str,
    detail: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(now)
    .bind(actor)
    .bind(action)
    .bind(subject)
    .bind(detail)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
