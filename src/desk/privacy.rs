//! Citizens' personal data on the desk: shown masked (`3573••••••••0005`) wherever staff read
//! it, and revealed whole only to an admin, audited.

use sqlx::Row as _;

use super::{Actor, Desk, DeskError, Role};

/// Serializes a citizen's text with personal numbers masked (`3573••••••••0005`).
pub(super) fn ser_masked<S: serde::Serializer>(text: &str, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::language::pii::mask(text))
}

impl Desk {
    /// A citizen's message as written, personal data included, for an admin; audited, since
    /// the console and the API otherwise show it masked.
    pub async fn reveal(
        &self,
        id: &str,
        tweet_id: &str,
        actor: &Actor,
    ) -> Result<String, DeskError> {
        if actor.role != Role::Admin {
            return Err(DeskError::AdminOnly);
        }
        let row = sqlx::query(
            "SELECT text FROM messages WHERE conversation_id = $1 AND tweet_id = $2 \
             AND direction = 'in'",
        )
        .bind(id)
        .bind(tweet_id)
        .fetch_optional(self.store.pool())
        .await?;
        let Some(row) = row else {
            return Err(DeskError::NotFound);
        };
        self.store
            .audit(
                &actor.name,
                "pii_reveal",
                &format!("conversation:{id}"),
                &format!("tweet {tweet_id}"),
            )
            .await?;
        Ok(row.get(0))
    }
}

/// Why a staff reply may not go out, if it would publish personal data: a NIK/KK number at all,
/// or a phone number or e-mail address the citizen wrote (`citizen_texts`, however either
/// spelled it). Other numbers, such as an office's line, pass.
pub(super) fn refusal(reply: &str, citizen_texts: &[String]) -> Option<String> {
    use crate::language::pii::{PiiKind, identities};
    let found = identities(reply);
    if found.iter().any(|(kind, _)| *kind == PiiKind::IdNumber) {
        return Some(
            "balasan memuat nomor NIK/KK: data pribadi tidak boleh ada di balasan publik".into(),
        );
    }
    if found.is_empty() {
        return None;
    }
    let citizens: Vec<(PiiKind, String)> =
        citizen_texts.iter().flat_map(|t| identities(t)).collect();
    found
        .iter()
        .find(|f| citizens.contains(f))
        .map(|(kind, _)| {
            let what = if *kind == PiiKind::Email {
                "alamat e-mail"
            } else {
                "nomor telepon"
            };
            format!(
                "balasan mengulang {what} warga: data pribadi tidak boleh ada di balasan publik"
            )
        })
}

/// What the citizen wrote in conversation `id`.
pub(super) async fn citizen_texts<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    id: &str,
) -> Result<Vec<String>, DeskError> {
    Ok(sqlx::query_scalar(
        "SELECT text FROM messages WHERE conversation_id = $1 AND direction = 'in'",
    )
    .bind(id)
    .fetch_all(db)
    .await?)
}

impl Desk {
    /// Why `reply` would be refused in conversation `id` (or in any, without one) for the
    /// personal data it would publish; None when it may go out. The console's preview says
    /// it before staff send.
    pub async fn personal_data_refusal(
        &self,
        id: Option<&str>,
        reply: &str,
    ) -> Result<Option<String>, DeskError> {
        let texts = match id {
            Some(id) => citizen_texts(self.store.pool(), id).await?,
            None => Vec::new(),
        };
        Ok(refusal(reply, &texts))
    }
}

/// Empties what the desk keeps of the citizen in these conversations: their handle and id, the
/// last text, every message's text and search text (the bot's and staff's name the citizen too;
/// the search index follows, see `super::search`), the handle in the events, and staff's
/// private notes and hand-overs. Conversations still open are closed. Returns the citizen's tweets in them, for
/// the store to forget.
pub async fn forget_conversations(
    tx: &mut crate::store::Tx<'_>,
    ids: &[String],
    now: i64,
) -> Result<Vec<String>, DeskError> {
    let mut tweets = Vec::new();
    for id in ids {
        let rows = sqlx::query(
            "SELECT tweet_id FROM messages WHERE conversation_id = $1 AND direction = 'in' \
             AND tweet_id IS NOT NULL",
        )
        .bind(id)
        .fetch_all(&mut **tx)
        .await?;
        tweets.extend(rows.iter().map(|r| r.get::<String, _>(0)));
        sqlx::query(
            "UPDATE conversations SET citizen_username = 'anonim', citizen_id = '', \
             last_text = '', purged_at = $1, state = 'closed', held_by = NULL \
             WHERE id = $2",
        )
        .bind(now)
        .bind(id)
        .execute(&mut **tx)
        .await?;
        sqlx::query(
            "UPDATE messages SET text = '', search_text = '', \
             author = CASE WHEN direction = 'in' THEN 'anonim' ELSE author END \
             WHERE conversation_id = $1",
        )
        .bind(id)
        .execute(&mut **tx)
        .await?;
        sqlx::query(
            "UPDATE events SET actor = '@anonim' WHERE conversation_id = $1 AND actor LIKE '@%'",
        )
        .bind(id)
        .execute(&mut **tx)
        .await?;
        // Staff's notes speak of the citizen; who handed the case to whom goes with them.
        sqlx::query("DELETE FROM notes WHERE conversation_id = $1")
            .bind(id)
            .execute(&mut **tx)
            .await?;
        sqlx::query("DELETE FROM assignments WHERE conversation_id = $1")
            .bind(id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(tweets)
}

/// The conversations whose retention ended at `cutoff`: closed (or left with the bot) before it,
/// not purged yet, and with no ticket born from them still open or closed after it.
pub async fn expired(store: &crate::store::Store, cutoff: i64) -> Result<Vec<String>, DeskError> {
    let rows = sqlx::query(
        "SELECT c.id FROM conversations c WHERE c.purged_at IS NULL \
         AND c.state IN ('closed', 'bot') AND c.updated_at < $1 \
         AND NOT EXISTS (SELECT 1 FROM tickets t WHERE t.conversation_id = c.id \
             AND (t.state NOT IN ('resolved', 'rejected') OR t.updated_at >= $1)) \
         ORDER BY c.updated_at LIMIT 500",
    )
    .bind(cutoff)
    .fetch_all(store.pool())
    .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// Every conversation of the citizen `handle` (without "@", any case) or X user `user_id`.
pub async fn conversations_of(
    store: &crate::store::Store,
    handle: &str,
    user_id: Option<&str>,
) -> Result<Vec<String>, DeskError> {
    let rows = sqlx::query(
        "SELECT id FROM conversations WHERE LOWER(citizen_username) = $1 OR citizen_id = $2",
    )
    .bind(handle.to_lowercase())
    .bind(user_id.unwrap_or("\u{0}"))
    .fetch_all(store.pool())
    .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// Deletes the live events older than `cutoff` (the console and the staff group read only the
/// newest). Returns how many.
pub async fn prune_events(store: &crate::store::Store, cutoff: i64) -> Result<u64, DeskError> {
    Ok(sqlx::query("DELETE FROM events WHERE at < $1")
        .bind(cutoff)
        .execute(store.pool())
        .await?
        .rows_affected())
}
