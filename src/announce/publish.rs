//! Approved drafts become the account's posts: at approval, or at their time. Each post of the
//! thread is an outbox row (`x:kabar:ID:N`), the first one answering nobody and each later one
//! the one before it; their priority puts them ahead of ordinary replies and behind emergencies.
//! A crash between the rows and the state change is harmless: the keys are queued once.

use serde_json::json;
use sqlx::Row;

use super::{AnnounceError, Newsroom};
use crate::store::{NewOutbox, Store};

/// Ahead of staff replies (50) and ordinary answers, behind emergencies (100).
pub const ANNOUNCEMENT_PRIORITY: i64 = 60;

/// The outbox keys of a draft's posts end in 1, 2, ...
pub fn key_prefix(id: i64) -> String {
    format!("x:kabar:{id}:")
}

impl Newsroom {
    /// Queues every approved draft whose time has come (`now`). Returns how many were.
    pub async fn publish_due(&self, store: &Store, now: i64) -> Result<usize, AnnounceError> {
        let due: Vec<i64> = sqlx::query(
            "SELECT id FROM drafts WHERE (state = 'disetujui') \
             OR (state = 'terjadwal' AND scheduled_at <= $1) ORDER BY id LIMIT 20",
        )
        .bind(now)
        .fetch_all(store.pool())
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
        let mut published = 0;
        for id in due {
            let draft = self.get(store, id).await?;
            let parts = match self.preview(&draft.text) {
                Ok(parts) if !parts.is_empty() => parts,
                Ok(_) | Err(_) => {
                    tracing::error!(
                        draft = id,
                        "an approved draft no longer splits: left as it is"
                    );
                    continue;
                }
            };
            let prefix = key_prefix(id);
            let mut tx = store.begin().await?;
            let moved = sqlx::query(
                "UPDATE drafts SET state = 'terbit', published_at = $1, outbox_prefix = $2, \
                 updated_at = $1 WHERE id = $3 AND state IN ('disetujui', 'terjadwal')",
            )
            .bind(now)
            .bind(&prefix)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            if moved.rows_affected() == 0 {
                tx.rollback().await?;
                continue;
            }
            for (i, part) in parts.iter().enumerate() {
                let payload = json!({
                    "text": part,
                    "post": true,
                    "after": if i == 0 { None } else { Some(format!("{prefix}{i}")) },
                    "draft": id,
                });
                crate::store::insert_outbox(
                    &mut tx,
                    &NewOutbox {
                        channel: "x".into(),
                        payload: payload.to_string(),
                        priority: ANNOUNCEMENT_PRIORITY,
                        idempotency_key: format!("{prefix}{}", i + 1),
                    },
                    now,
                )
                .await?;
            }
            crate::store::insert_audit(
                &mut tx,
                "bot",
                "draft_publish",
                &format!("draft:{id}"),
                &json!({"tweets": parts.len()}).to_string(),
                now,
            )
            .await?;
            tx.commit().await?;
            tracing::info!(
                draft = id,
                tweets = parts.len(),
                "announcement queued for X"
            );
            published += 1;
        }
        Ok(published)
    }

    /// Tells each agency whose announcement is now on X, in its Telegram chat, with the link
    /// to the first post (once: `told_at`, and the message's key). Returns how many were told.
    pub async fn tell_agencies(
        &self,
        store: &Store,
        agencies: &[crate::config::Agency],
        account: &str,
        now: i64,
    ) -> Result<usize, AnnounceError> {
        let rows = sqlx::query(
            "SELECT d.id, d.agency, o.remote_id FROM drafts d JOIN outbox o \
             ON o.idempotency_key = d.outbox_prefix || '1' \
             WHERE d.state = 'terbit' AND d.told_at IS NULL AND d.agency IS NOT NULL \
             AND o.state = 'sent' ORDER BY d.id LIMIT 20",
        )
        .fetch_all(store.pool())
        .await?;
        let mut told = 0;
        for row in &rows {
            let (id, agency, tweet): (i64, String, Option<String>) =
                (row.get(0), row.get(1), row.get(2));
            let mut tx = store.begin().await?;
            let chat = agencies
                .iter()
                .find(|a| a.id == agency)
                .and_then(|a| a.telegram_chat_id);
            if let (Some(chat), Some(tweet)) = (chat, tweet) {
                let text = format!(
                    "Kabar draf #{id} sudah terbit di X: https://x.com/{account}/status/{tweet}\n\
                     Balasan warga akan kami rangkum untuk instansi."
                );
                crate::store::insert_outbox(
                    &mut tx,
                    &NewOutbox {
                        channel: "telegram".into(),
                        payload: json!({
                            "chat_id": chat,
                            "text": crate::channels::telegram::escape(&text),
                            "buttons": [],
                            "conversation": null,
                            "reply_to": null,
                            "draft": id,
                        })
                        .to_string(),
                        priority: 10,
                        idempotency_key: format!("tg:kabar-terbit:{id}"),
                    },
                    now,
                )
                .await?;
                told += 1;
            }
            // An agency without a Telegram chat hears nothing here (WhatsApp needs a template).
            sqlx::query("UPDATE drafts SET told_at = $1 WHERE id = $2")
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
        Ok(told)
    }

    /// The posts of a published draft: each part's key, and its tweet id once it is on X.
    pub async fn posts(
        &self,
        store: &Store,
        id: i64,
    ) -> Result<Vec<(String, String, Option<String>)>, AnnounceError> {
        Ok(store
            .outbox_with_prefix(&key_prefix(id))
            .await?
            .into_iter()
            .map(|row| (row.idempotency_key, row.state, row.remote_id))
            .collect())
    }
}
