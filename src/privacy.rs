/*!
Citizens' data kept only as long as needed, and forgotten on request (UU PDP 27/2022).

- **Retention** ([`retain`], every ten minutes in `kicau run`): `[privacy] retention_days` after a
  conversation and every ticket born from it closed (a ticket can be reopened, and its tweets
  need the citizen's handle and tweet id until then), the conversation's texts, the citizen's
  handle and id, their mentions' texts and raw JSON and the decisions' evidence are removed.
  The rows stay with their times, states and kinds, so the reports count the same. Delivered
  messages' payloads, dead letters' payloads and live events older than the period go too;
  idempotency keys stay, so nothing is sent twice.
- **Forgetting** ([`forget`]: `kicau privacy forget @handle`, or an admin on the console's
  Petugas page): the same for every conversation of one citizen at once, open ones closed, and
  their tickets kept with the reporter anonymised. Audited without the handle.

Where each table stands: `inbox`, `decisions`, `outbox`, `dead_letters`, `opt_outs` (the store),
`conversations`, `messages`, `events` (the desk) and `tickets`, `pending_reports` (the tickets)
are emptied as above. `corrections` and `ticket_history`/`ticket_notes` hold texts redacted of
personal data when written and no handle. `audit_log` keeps ids (never texts). `staff`,
`sessions` (pruned when expired) and `api_tokens` are about staff; `telegram_messages`,
`whatsapp_*`, `ticket_numbers`, `cursors`, `leases` and `x_tokens` hold no citizen's data.
`usage_units` holds the post, user and message ids the platforms billed, only to count each
once on its day: they go two days after (whatever the period); `usage_days` holds counts only.
The full-text search (migration 0018) holds nothing of its own to forget: `messages.search_text`
is emptied with the text (and holds no personal data), `messages_search` and `tickets_search`
(SQLite's FTS5, with secure-delete) and the `search` columns (PostgreSQL) follow their rows.
Later tables say how retention and forgetting apply to them here.
*/

use crate::desk::DeskError;
use crate::store::{Store, StoreError};

const DAY_MS: i64 = 24 * 3600 * 1000;

/// What a retention pass removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Retained {
    pub conversations: usize,
    pub tweets: u64,
    pub payloads: u64,
    pub events: u64,
    /// Billed resource ids past their day.
    pub usage_ids: u64,
    /// Versions of closed announcement drafts removed.
    pub draft_versions: u64,
}

/// What forgetting one citizen removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Forgotten {
    pub conversations: usize,
    pub tweets: u64,
    pub tickets: u64,
}

/// Why a privacy operation failed.
#[derive(Debug, thiserror::Error)]
pub enum PrivacyError {
    #[error("not an X handle: {0:?}")]
    BadHandle(String),
    #[error(transparent)]
    Desk(#[from] DeskError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for PrivacyError {
    fn from(e: sqlx::Error) -> Self {
        PrivacyError::Store(StoreError::Database(e))
    }
}

/// One retention pass at `now`, for a period of `days`.
pub async fn retain(store: &Store, days: i64, now: i64) -> Result<Retained, PrivacyError> {
    let cutoff = now - days * DAY_MS;
    let mut done = Retained::default();
    loop {
        let batch = crate::desk::privacy::expired(store, cutoff).await?;
        if batch.is_empty() {
            break;
        }
        let mut tx = store.begin().await?;
        let tweets = crate::desk::privacy::forget_conversations(&mut tx, &batch, now).await?;
        done.tweets += crate::store::privacy::forget_tweets(&mut tx, &tweets).await?;
        crate::tickets::privacy::forget_reporter(&mut tx, &batch, None, None).await?;
        tx.commit().await?;
        done.conversations += batch.len();
    }
    done.payloads = crate::store::privacy::prune(store, cutoff).await?;
    done.events = crate::desk::privacy::prune_events(store, cutoff).await?;
    done.usage_ids = store.prune_usage(now).await?;
    done.draft_versions = crate::announce::retention::retain(store, cutoff).await?;
    if done.conversations > 0 {
        store
            .audit(
                "system",
                "privacy_retention",
                "conversations",
                &format!(
                    "{} conversations, {} tweets past {days} days",
                    done.conversations, done.tweets
                ),
            )
            .await?;
    }
    Ok(done)
}

/// Forgets the citizen `handle` ("@name" or "name") everywhere, at `now`, by `by` (audited).
pub async fn forget(
    store: &Store,
    handle: &str,
    by: &str,
    now: i64,
) -> Result<Forgotten, PrivacyError> {
    let name = handle.trim().trim_start_matches('@');
    if name.is_empty()
        || name.len() > 15
        || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(PrivacyError::BadHandle(handle.to_owned()));
    }
    let user_id = crate::store::privacy::author_id(store, name).await?;
    let conversations =
        crate::desk::privacy::conversations_of(store, name, user_id.as_deref()).await?;
    let mut tx = store.begin().await?;
    let tweets = crate::desk::privacy::forget_conversations(&mut tx, &conversations, now).await?;
    let mut done = Forgotten {
        conversations: conversations.len(),
        tweets: crate::store::privacy::forget_tweets(&mut tx, &tweets).await?,
        tickets: 0,
    };
    // Mentions that joined no conversation (ignored ones) are theirs too.
    let loose: Vec<String> = sqlx::query_scalar::<sqlx::Any, String>(
        "SELECT tweet_id FROM inbox WHERE LOWER(author_username) = $1",
    )
    .bind(name.to_lowercase())
    .fetch_all(&mut *tx)
    .await?;
    done.tweets += crate::store::privacy::forget_tweets(&mut tx, &loose).await?;
    crate::store::privacy::forget_author(&mut tx, name, user_id.as_deref()).await?;
    done.tickets = crate::tickets::privacy::forget_reporter(
        &mut tx,
        &conversations,
        Some(name),
        user_id.as_deref(),
    )
    .await?;
    tx.commit().await?;
    // The audit says that someone was forgotten, by whom, and how much, never who.
    let digest = {
        use sha2::{Digest as _, Sha256};
        let hash = Sha256::digest(name.to_lowercase().as_bytes());
        hash.iter()
            .take(6)
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    store
        .audit(
            by,
            "privacy_forget",
            &format!("citizen:{digest}"),
            &format!(
                "{} conversations, {} tweets, {} tickets",
                done.conversations, done.tweets, done.tickets
            ),
        )
        .await?;
    tracing::info!(
        conversations = done.conversations,
        tweets = done.tweets,
        tickets = done.tickets,
        "a citizen's personal data was forgotten on request"
    );
    Ok(done)
}
