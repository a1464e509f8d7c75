//! Staff's corrections of the bot's decisions: proposed on a conversation ("Keputusan yang
//! benar"), reviewed by an admin, and once accepted a training example of every instance sharing
//! the database. Labels are written as the example files write them: `answer <topic>`,
//! `report <agency>`, `emergency`, `handoff`, `ignore`; the caller checks that the topic or
//! agency exists.

use serde::Serialize;
use serde_json::json;
use sqlx::Row as _;

use super::{Actor, DeskError, Role, record};
use crate::store::now_ms;

/// One correction as the review page and the API show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Correction {
    pub id: i64,
    pub conversation_id: Option<String>,
    pub tweet_id: Option<String>,
    /// The tweet's text, personal data redacted.
    pub text: String,
    /// What it should have been.
    pub label: String,
    /// What the bot decided.
    pub decided: String,
    pub note: String,
    /// `pending`, `accepted` or `dropped`.
    pub state: String,
    pub created_by: String,
    #[serde(serialize_with = "super::ser_time")]
    pub created_at: i64,
    pub reviewed_by: Option<String>,
    pub exported: bool,
}

/// A correction to propose.
#[derive(Debug, Clone)]
pub struct NewCorrection<'a> {
    pub conversation_id: Option<&'a str>,
    pub tweet_id: Option<&'a str>,
    pub text: &'a str,
    pub label: &'a str,
    /// What the bot decided, as a label, and its kind.
    pub decided: &'a str,
    pub decided_kind: &'a str,
    pub note: &'a str,
}

/// How many of the bot's decisions of one kind staff corrected (accepted corrections).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct CorrectedShare {
    pub corrected: i64,
    pub decided: i64,
}

const COLUMNS: &str = "id, conversation_id, tweet_id, text, label, decided, note, state, \
                       created_by, created_at, reviewed_by, exported_at";

fn from_row(r: &sqlx::any::AnyRow) -> Correction {
    Correction {
        id: r.get(0),
        conversation_id: r.get(1),
        tweet_id: r.get(2),
        text: r.get(3),
        label: r.get(4),
        decided: r.get(5),
        note: r.get(6),
        state: r.get(7),
        created_by: r.get(8),
        created_at: r.get(9),
        reviewed_by: r.get(10),
        exported: r.get::<Option<i64>, _>(11).is_some(),
    }
}

impl super::Desk {
    /// Stores a staff member's correction for review. The text is redacted here, whatever the
    /// caller passed. Proposing the same label for the same tweet again, while it waits or once
    /// accepted, returns the existing one.
    pub async fn propose_correction(
        &self,
        actor: &Actor,
        new: &NewCorrection<'_>,
    ) -> Result<Correction, DeskError> {
        let text = crate::language::pii::redact(new.text.trim());
        if text.is_empty() {
            return Err(DeskError::Invalid("teks yang dikoreksi kosong".into()));
        }
        if new.label == new.decided {
            return Err(DeskError::Invalid(
                "keputusan yang benar sama dengan keputusan bot".into(),
            ));
        }
        let mut tx = self.store.begin().await?;
        if let Some(tweet) = new.tweet_id {
            let waiting = sqlx::query(&format!(
                "SELECT {COLUMNS} FROM corrections WHERE tweet_id = $1 AND label = $2 \
                 AND state IN ('pending', 'accepted')"
            ))
            .bind(tweet)
            .bind(new.label)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(row) = waiting {
                return Ok(from_row(&row));
            }
        }
        let now = now_ms();
        let id: i64 = sqlx::query(
            "INSERT INTO corrections (conversation_id, tweet_id, text, label, decided, \
             decided_kind, note, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(new.conversation_id)
        .bind(new.tweet_id)
        .bind(&text)
        .bind(new.label)
        .bind(new.decided)
        .bind(new.decided_kind)
        .bind(crate::language::pii::redact(new.note.trim()))
        .bind(&actor.name)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?
        .get(0);
        let detail = json!({"correction": id, "label": new.label, "decided": new.decided});
        match new.conversation_id {
            Some(conversation) => {
                record(&mut tx, &actor.name, "correction", conversation, detail).await?
            }
            None => {
                crate::store::insert_audit(
                    &mut tx,
                    &actor.name,
                    "correction",
                    &format!("correction:{id}"),
                    &detail.to_string(),
                    now,
                )
                .await?
            }
        }
        tx.commit().await?;
        self.notify();
        self.correction(id).await
    }

    /// One correction.
    pub async fn correction(&self, id: i64) -> Result<Correction, DeskError> {
        sqlx::query(&format!("SELECT {COLUMNS} FROM corrections WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.store.pool())
            .await?
            .map(|r| from_row(&r))
            .ok_or(DeskError::NotFound)
    }

    /// Corrections in `state` (all when `None`), newest first, at most `limit`.
    pub async fn corrections(
        &self,
        state: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Correction>, DeskError> {
        let pool = self.store.pool();
        let rows =
            match state {
                Some(state) => sqlx::query(&format!(
                    "SELECT {COLUMNS} FROM corrections WHERE state = $1 ORDER BY id DESC LIMIT $2"
                ))
                .bind(state)
                .bind(limit)
                .fetch_all(pool)
                .await?,
                None => {
                    sqlx::query(&format!(
                        "SELECT {COLUMNS} FROM corrections ORDER BY id DESC LIMIT $1"
                    ))
                    .bind(limit)
                    .fetch_all(pool)
                    .await?
                }
            };
        Ok(rows.iter().map(from_row).collect())
    }

    /// Every accepted correction, oldest first: the training examples they are.
    pub async fn accepted_corrections(&self) -> Result<Vec<Correction>, DeskError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM corrections WHERE state = 'accepted' ORDER BY id"
        ))
        .fetch_all(self.store.pool())
        .await?;
        Ok(rows.iter().map(from_row).collect())
    }

    /// Changes whenever a correction is accepted (or an accepted one exported): instances
    /// sharing the database compare it to know when to learn again.
    pub async fn corrections_version(&self) -> Result<(i64, i64), DeskError> {
        let row = sqlx::query(
            "SELECT COUNT(*), COALESCE(MAX(reviewed_at), 0) FROM corrections \
             WHERE state = 'accepted'",
        )
        .fetch_one(self.store.pool())
        .await?;
        Ok((row.get(0), row.get(1)))
    }

    /// An admin accepts (`accept`) or drops a waiting correction, once.
    pub async fn review_correction(
        &self,
        id: i64,
        actor: &Actor,
        accept: bool,
    ) -> Result<Correction, DeskError> {
        if actor.role != Role::Admin {
            return Err(DeskError::Invalid(
                "hanya admin yang dapat menerima atau menolak koreksi".into(),
            ));
        }
        let state = if accept { "accepted" } else { "dropped" };
        let mut tx = self.store.begin().await?;
        let now = now_ms();
        let changed = sqlx::query(
            "UPDATE corrections SET state = $1, reviewed_by = $2, reviewed_at = $3 \
             WHERE id = $4 AND state = 'pending'",
        )
        .bind(state)
        .bind(&actor.name)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            drop(tx);
            let existing = self.correction(id).await?;
            return Err(DeskError::Invalid(format!(
                "koreksi ini sudah {}",
                match existing.state.as_str() {
                    "accepted" => "diterima",
                    _ => "ditolak",
                }
            )));
        }
        crate::store::insert_audit(
            &mut tx,
            &actor.name,
            if accept {
                "correction_accept"
            } else {
                "correction_drop"
            },
            &format!("correction:{id}"),
            "{}",
            now,
        )
        .await?;
        tx.commit().await?;
        self.notify();
        self.correction(id).await
    }

    /// Stamps accepted corrections as written into the example files.
    pub async fn mark_exported(&self, ids: &[i64]) -> Result<(), DeskError> {
        let mut tx = self.store.begin().await?;
        let now = now_ms();
        for id in ids {
            sqlx::query("UPDATE corrections SET exported_at = $1 WHERE id = $2")
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The share of the bot's decisions in `[from, to)` that staff corrected (accepted), by the
    /// bot's kind.
    pub async fn corrected_shares(
        &self,
        from: i64,
        to: i64,
    ) -> Result<std::collections::BTreeMap<String, CorrectedShare>, DeskError> {
        let mut shares = std::collections::BTreeMap::new();
        let decided = sqlx::query(
            "SELECT kind, COUNT(*) FROM decisions WHERE created_at >= $1 AND created_at < $2 \
             GROUP BY kind",
        )
        .bind(from)
        .bind(to)
        .fetch_all(self.store.pool())
        .await?;
        for row in decided {
            let share: &mut CorrectedShare = shares.entry(row.get::<String, _>(0)).or_default();
            share.decided = row.get(1);
        }
        let corrected = sqlx::query(
            "SELECT c.decided_kind, COUNT(DISTINCT c.tweet_id) FROM corrections c \
             JOIN decisions d ON d.tweet_id = c.tweet_id \
             WHERE c.state = 'accepted' AND d.created_at >= $1 AND d.created_at < $2 \
             GROUP BY c.decided_kind",
        )
        .bind(from)
        .bind(to)
        .fetch_all(self.store.pool())
        .await?;
        for row in corrected {
            let share: &mut CorrectedShare = shares.entry(row.get::<String, _>(0)).or_default();
            share.corrected = row.get(1);
        }
        Ok(shares)
    }
}
