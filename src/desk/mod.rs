/*!
The human side: conversations and their states, the staff queue, taking over, staff replies.

A conversation is one citizen's X thread (DESIGN.md, "States"): `bot` -> `waiting_staff` ->
`staff(by)` -> `closed`, and `release` from staff back to `bot`. While a person is awaited or holds
it, the bot sends nothing in it except an emergency line. Every transition is one transaction that
also writes the audit log and an event for the live console, so what staff see is what happened.

Claiming is one conditional `UPDATE`: of two people pressing "Ambil alih" at once, exactly one
changes the row; the other reads who holds it and gets "sudah ditangani oleh NAME".

[`intake`] puts each decided mention into its conversation; [`staff`] keeps accounts, passwords,
sessions and API tokens. The console, the API and the Telegram staff group all call these
functions, so they cannot disagree.
*/

pub mod conversation;
pub mod corrections;
mod events;
pub use events::Attention;
pub mod assign;
pub mod login;
pub mod messages;
pub mod notes;
pub mod privacy;
mod queue;
use queue::{COLUMNS, conversation_from_row};
pub use queue::{Conversation, ResponseTargets};
pub mod search;

pub use messages::reason_label;
pub mod staff;
pub mod thread;

use std::sync::Arc;

use serde::Serialize;
use serde_json::{Value, json};
use sqlx::Row;

use crate::store::{Backend, NewOutbox, Store, StoreError, now_ms};

/// A conversation's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Bot,
    WaitingStaff,
    Staff,
    Closed,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Bot => "bot",
            State::WaitingStaff => "waiting_staff",
            State::Staff => "staff",
            State::Closed => "closed",
        }
    }

    /// Parses a state as the API and the database spell it.
    pub fn parse(text: &str) -> Option<State> {
        match text {
            "bot" => Some(State::Bot),
            "waiting_staff" => Some(State::WaitingStaff),
            "staff" => Some(State::Staff),
            "closed" => Some(State::Closed),
            _ => None,
        }
    }

    /// How the console names it.
    pub fn label(self) -> &'static str {
        match self {
            State::Bot => "dijawab bot",
            State::WaitingStaff => "menunggu petugas",
            State::Staff => "ditangani petugas",
            State::Closed => "selesai",
        }
    }
}

/// Who acts on the desk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Staff,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Staff => "staff",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "admin" => Some(Role::Admin),
            "staff" => Some(Role::Staff),
            _ => None,
        }
    }
}

/// A signed-in staff member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub name: String,
    pub role: Role,
}

/// A tweet in a conversation, either way.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    pub direction: String,
    pub tweet_id: Option<String>,
    pub author: String,
    /// As written; shown (and serialised for the API) with personal data masked.
    #[serde(serialize_with = "privacy::ser_masked")]
    pub text: String,
    #[serde(serialize_with = "ser_time")]
    pub created_at: i64,
    /// For a message the account posts: its tweets and where each stands (empty for the
    /// citizen's and for messages older than this record).
    pub parts: Vec<thread::Part>,
}

/// What the bot decided about a tweet of the conversation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DecisionRecord {
    pub tweet_id: String,
    pub kind: String,
    pub topic: Option<String>,
    pub agency: Option<String>,
    pub rule: String,
    pub evidence: Value,
    #[serde(serialize_with = "ser_time")]
    pub created_at: i64,
}

/// A conversation with everything a person needs to take it over.
#[derive(Debug, Clone, PartialEq)]
pub struct Detail {
    pub conversation: Conversation,
    pub messages: Vec<Message>,
    pub decisions: Vec<DecisionRecord>,
    /// The citizen's other conversations, newest first.
    pub earlier: Vec<Conversation>,
}

impl Detail {
    pub fn to_json(&self) -> Value {
        let mut value = self.conversation.to_json();
        value["messages"] = json!(self.messages);
        value["decisions"] = json!(self.decisions);
        value["earlier"] = json!(
            self.earlier
                .iter()
                .map(Conversation::to_json)
                .collect::<Vec<_>>()
        );
        value
    }
}

/// Something that happened on the desk, for the live console and the Telegram group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub id: i64,
    #[serde(serialize_with = "ser_time")]
    pub at: i64,
    pub kind: String,
    pub conversation_id: Option<String>,
    pub actor: String,
    pub detail: Value,
}

/// Why a desk action was refused. The messages are what staff read.
#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    /// No conversation with that id.
    #[error("percakapan tidak ditemukan")]
    NotFound,
    /// Someone else holds it.
    #[error("sudah ditangani oleh {0}")]
    HeldBy(String),
    /// The action needs the caller to hold the conversation (or be an admin).
    #[error("ambil alih percakapan ini dulu")]
    NotHolder,
    /// Closed conversations are history.
    #[error("percakapan sudah ditutup")]
    Closed,
    /// The reply is empty or cannot be posted.
    #[error("{0}")]
    Invalid(String),
    /// Only an admin may do this.
    #[error("hanya admin yang dapat melakukan ini")]
    AdminOnly,
    /// The reply would need more tweets than `[desk] max_thread_parts`.
    #[error("{0}")]
    TooLong(String),
    /// The reply would publish personal data: a NIK/KK, or the citizen's own number or
    /// address.
    #[error("{0}")]
    PersonalData(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for DeskError {
    fn from(e: sqlx::Error) -> Self {
        DeskError::Store(StoreError::Database(e))
    }
}

/// A filter for the queue.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub state: Option<State>,
    pub held_by: Option<String>,
}

/// The desk: conversations over the store, and a signal that wakes live listeners.
#[derive(Clone)]
pub struct Desk {
    store: Store,
    changed: Arc<tokio::sync::Notify>,
    splitter: crate::tweet::Splitter,
    targets: ResponseTargets,
}

impl std::fmt::Debug for Desk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Desk").field("store", &self.store).finish()
    }
}

impl Desk {
    pub fn new(store: Store) -> Desk {
        Desk {
            store,
            changed: Arc::new(tokio::sync::Notify::new()),
            splitter: crate::tweet::Splitter::default(),
            targets: ResponseTargets::default(),
        }
    }

    /// Staff replies split by `splitter` (the account's handle, `[desk] max_thread_parts`).
    pub fn with_splitter(mut self, splitter: crate::tweet::Splitter) -> Desk {
        self.splitter = splitter;
        self
    }

    /// How soon waiting conversations should be taken (`[desk] respond_within_mins`).
    pub fn with_targets(mut self, targets: ResponseTargets) -> Desk {
        self.targets = targets;
        self
    }

    /// The splitter staff replies go through (also the console's and the API's preview).
    pub fn splitter(&self) -> &crate::tweet::Splitter {
        &self.splitter
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Resolves when something may have changed (a transition in this process), or never.
    pub async fn changed(&self) {
        self.changed.notified().await
    }

    /// Wakes every live listener; called after each committed change.
    pub fn notify(&self) {
        self.changed.notify_waiters();
    }

    /// A conversation with its thread, the bot's decisions and the citizen's earlier ones.
    pub async fn detail(&self, id: &str) -> Result<Detail, DeskError> {
        let conversation = self.get(id).await?;
        let pool = self.store.pool();
        let rows = sqlx::query(
            // At one moment the citizen's tweet comes before what answers it (a ticket's tweet is
            // written in the same transaction, before the tweet it answers).
            "SELECT direction, tweet_id, author, text, created_at, outbox_prefix FROM messages \
             WHERE conversation_id = $1 \
             ORDER BY created_at, CASE direction WHEN 'in' THEN 0 ELSE 1 END, id",
        )
        .bind(id)
        .fetch_all(pool)
        .await?;
        let mut messages = Vec::with_capacity(rows.len());
        for r in rows {
            let prefix: Option<String> = r.get(5);
            let parts = match prefix {
                Some(prefix) => self.parts(&prefix).await?,
                None => Vec::new(),
            };
            messages.push(Message {
                direction: r.get(0),
                tweet_id: r.get(1),
                author: r.get(2),
                text: r.get(3),
                created_at: r.get(4),
                parts,
            });
        }
        let decisions = sqlx::query(
            "SELECT tweet_id, kind, topic, agency, rule, evidence, created_at FROM decisions \
             WHERE conversation_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|r| {
            let evidence: String = r.get(5);
            DecisionRecord {
                tweet_id: r.get(0),
                kind: r.get(1),
                topic: r.get(2),
                agency: r.get(3),
                rule: r.get(4),
                evidence: serde_json::from_str(&evidence).unwrap_or(Value::Null),
                created_at: r.get(6),
            }
        })
        .collect();
        let earlier = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM conversations WHERE citizen_id = $1 AND id <> $2 \
             ORDER BY created_at DESC LIMIT 20"
        ))
        .bind(&conversation.citizen_id)
        .bind(id)
        .fetch_all(pool)
        .await?
        .iter()
        .map(conversation_from_row)
        .collect();
        Ok(Detail {
            conversation,
            messages,
            decisions,
            earlier,
        })
    }

    /// Takes a conversation over: from `waiting_staff` or `bot` (a person may step in before
    /// the bot asks), or again by its holder. Atomic: a second claimant gets
    /// [`DeskError::HeldBy`].
    pub async fn claim(&self, id: &str, actor: &Actor) -> Result<Conversation, DeskError> {
        let now = now_ms();
        let mut tx = self.store.begin().await?;
        let done = sqlx::query(
            "UPDATE conversations SET state = 'staff', held_by = $1, updated_at = $2, seen_at = $2 \
             WHERE id = $3 AND (state IN ('bot', 'waiting_staff') \
             OR (state = 'staff' AND held_by = $1))",
        )
        .bind(&actor.name)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            let current = self.get(id).await?;
            return Err(match current.state {
                State::Closed => DeskError::Closed,
                _ => DeskError::HeldBy(current.held_by.unwrap_or_default()),
            });
        }
        record(&mut tx, &actor.name, "claim", id, json!({})).await?;
        tx.commit().await?;
        self.notify();
        tracing::info!(conversation = %id, by = %actor.name, "conversation claimed");
        self.get(id).await
    }

    /// Posts a staff reply as the account, in the thread, through the outbox (a numbered thread
    /// when long). Only the holder may reply. Returns how many tweets were queued.
    pub async fn reply(&self, id: &str, actor: &Actor, text: &str) -> Result<usize, DeskError> {
        self.reply_keyed(id, actor, text, None).await
    }

    /// As [`Desk::reply`], for a reply that arrives from outside with an identity of its own
    /// (a Telegram message): the same `origin` twice queues it once. Returns 0 the second time.
    pub async fn reply_keyed(
        &self,
        id: &str,
        actor: &Actor,
        text: &str,
        origin: Option<&str>,
    ) -> Result<usize, DeskError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(DeskError::Invalid("teks balasan kosong".into()));
        }
        let now = now_ms();
        let mut tx = self.store.begin().await?;
        // The write comes first: on SQLite it takes the lock before anything is read, and on
        // PostgreSQL it locks the row, so the holder cannot change under the reply.
        let done = sqlx::query(
            "UPDATE conversations SET updated_at = $1 \
             WHERE id = $2 AND state = 'staff' AND held_by = $3",
        )
        .bind(now)
        .bind(id)
        .bind(&actor.name)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            let current = self.get(id).await?;
            return Err(match (current.state, current.held_by) {
                (State::Closed, _) => DeskError::Closed,
                (State::Staff, Some(holder)) => DeskError::HeldBy(holder),
                _ => DeskError::NotHolder,
            });
        }
        let row =
            sqlx::query("SELECT citizen_username, last_tweet_id FROM conversations WHERE id = $1")
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
        let citizen: String = row.get(0);
        let parent: Option<String> = row.get(1);
        let Some(parent) = parent else {
            return Err(DeskError::Invalid(
                "percakapan ini belum punya twit warga untuk dibalas".into(),
            ));
        };
        let texts = privacy::citizen_texts(&mut *tx, id).await?;
        if let Some(refusal) = privacy::refusal(text, &texts) {
            tx.rollback().await?;
            return Err(DeskError::PersonalData(refusal));
        }
        let parts = self
            .splitter
            .split(&citizen, text)
            .map_err(|e| DeskError::TooLong(e.to_string()))?;
        if parts.is_empty() {
            return Err(DeskError::Invalid("teks balasan kosong".into()));
        }
        if let Some(origin) = origin {
            let seen = sqlx::query("SELECT 1 FROM outbox WHERE idempotency_key = $1")
                .bind(format!("x:staff:{origin}:1"))
                .fetch_optional(&mut *tx)
                .await?;
            if seen.is_some() {
                tx.rollback().await?;
                return Ok(0);
            }
        }
        let message = conversation::NewMessage {
            direction: conversation::Direction::Out,
            tweet_id: None,
            author: &actor.name,
            text: &parts.join("\n"),
            outbox_prefix: None,
        };
        let message_id = conversation::add_message(&mut tx, id, message, now).await?;
        let base = origin
            .map(str::to_owned)
            .unwrap_or_else(|| format!("{id}:{message_id}"));
        let prefix = format!("x:staff:{base}:");
        sqlx::query("UPDATE messages SET outbox_prefix = $1 WHERE id = $2")
            .bind(&prefix)
            .bind(message_id)
            .execute(&mut *tx)
            .await?;
        let key = |n: usize| format!("{prefix}{n}");
        for (i, part) in parts.iter().enumerate() {
            let payload = json!({
                "text": part,
                "in_reply_to": if i == 0 { Some(parent.clone()) } else { None },
                "after": if i == 0 { None } else { Some(key(i)) },
                "conversation": id,
                "by": actor.name,
            });
            crate::store::insert_outbox(
                &mut tx,
                &NewOutbox {
                    channel: "x".into(),
                    payload: payload.to_string(),
                    priority: STAFF_PRIORITY,
                    idempotency_key: key(i + 1),
                },
                now,
            )
            .await?;
        }
        // Whoever answers has read what came before.
        sqlx::query("UPDATE conversations SET seen_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        record(
            &mut tx,
            &actor.name,
            "reply",
            id,
            json!({"tweets": parts.len(), "text": parts.join("\n")}),
        )
        .await?;
        tx.commit().await?;
        self.notify();
        tracing::info!(conversation = %id, by = %actor.name, tweets = parts.len(), "staff reply queued");
        Ok(parts.len())
    }

    /// Gives a held conversation back to the bot. The holder or an admin.
    pub async fn release(&self, id: &str, actor: &Actor) -> Result<Conversation, DeskError> {
        self.finish(id, actor, State::Bot).await
    }

    /// Closes a conversation: the citizen's next mention starts a new one. The holder or an
    /// admin.
    pub async fn close(&self, id: &str, actor: &Actor) -> Result<Conversation, DeskError> {
        self.finish(id, actor, State::Closed).await
    }

    async fn finish(&self, id: &str, actor: &Actor, to: State) -> Result<Conversation, DeskError> {
        let now = now_ms();
        let mut tx = self.store.begin().await?;
        // Release applies to a held conversation; close also to one waiting (an admin may close
        // what nobody needs to answer).
        let allowed = match to {
            State::Bot => "state = 'staff'",
            _ => "state IN ('staff', 'waiting_staff', 'bot')",
        };
        let done = sqlx::query(&format!(
            "UPDATE conversations SET state = $1, held_by = NULL, waiting_since = NULL, \
             urgent = 0, updated_at = $2 WHERE id = $3 AND {allowed} \
             AND (held_by = $4 OR $5 = 'admin')"
        ))
        .bind(to.as_str())
        .bind(now)
        .bind(id)
        .bind(&actor.name)
        .bind(actor.role.as_str())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            let current = self.get(id).await?;
            return Err(match (current.state, current.held_by) {
                (State::Closed, _) => DeskError::Closed,
                (State::Staff, Some(holder)) if holder != actor.name => DeskError::HeldBy(holder),
                _ => DeskError::NotHolder,
            });
        }
        // Ticket news that waited while a person held the conversation goes out now.
        let released = crate::store::release_held(&mut tx, id, now).await?;
        let action = if to == State::Bot { "release" } else { "close" };
        record(
            &mut tx,
            &actor.name,
            action,
            id,
            json!({"released_tweets": released}),
        )
        .await?;
        tx.commit().await?;
        self.notify();
        tracing::info!(conversation = %id, by = %actor.name, action, "conversation {action}d");
        self.get(id).await
    }

    /// Ticket news for the citizen that waits while a person holds the conversation: it goes
    /// out when the conversation is released or closed. Texts in order.
    pub async fn held_updates(&self, id: &str) -> Result<Vec<String>, DeskError> {
        let rows = sqlx::query(
            "SELECT payload FROM outbox WHERE state = 'held' AND hold_for = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(self.store.pool())
        .await?;
        Ok(rows
            .iter()
            .filter_map(|r| serde_json::from_str::<Value>(&r.get::<String, _>(0)).ok())
            .filter_map(|p| p["text"].as_str().map(str::to_owned))
            .collect())
    }

    /// Announces again every conversation that has waited for a person longer than `after_ms`
    /// since it was last announced, so a hand-off always reaches someone. Returns them.
    pub async fn reannounce(&self, after_ms: i64) -> Result<Vec<Conversation>, DeskError> {
        let now = now_ms();
        let due = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM conversations WHERE state = 'waiting_staff' \
             AND COALESCE(announced_at, waiting_since, 0) <= $1 ORDER BY urgent DESC, waiting_since"
        ))
        .bind(now - after_ms)
        .fetch_all(self.store.pool())
        .await?;
        let mut announced = Vec::new();
        for row in &due {
            let conversation = conversation_from_row(row);
            let mut tx = self.store.begin().await?;
            let done = sqlx::query(
                "UPDATE conversations SET announced_at = $1 WHERE id = $2 \
                 AND state = 'waiting_staff' AND COALESCE(announced_at, waiting_since, 0) <= $3",
            )
            .bind(now)
            .bind(&conversation.id)
            .bind(now - after_ms)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 1 {
                let waited = now - conversation.waiting_since.unwrap_or(now);
                conversation::insert_event(
                    &mut tx,
                    "reannounced",
                    Some(&conversation.id),
                    "bot",
                    &json!({"waiting_minutes": waited / 60_000}),
                    now,
                )
                .await?;
                announced.push(conversation);
            }
            tx.commit().await?;
        }
        if !announced.is_empty() {
            self.notify();
        }
        Ok(announced)
    }

    /// Which backend the desk runs on (tests use it to pick expectations).
    pub fn backend(&self) -> Backend {
        self.store.backend()
    }
}

/// Outgoing staff replies go before the bot's routine answers, after emergencies.
pub const STAFF_PRIORITY: i64 = 50;

/// The audit entry and the event of one transition, inside its transaction.
async fn record(
    tx: &mut crate::store::Tx<'_>,
    actor: &str,
    action: &str,
    conversation: &str,
    detail: Value,
) -> Result<(), DeskError> {
    let now = now_ms();
    crate::store::insert_audit(
        tx,
        actor,
        action,
        &format!("conversation:{conversation}"),
        &detail.to_string(),
        now,
    )
    .await?;
    conversation::insert_event(tx, action, Some(conversation), actor, &detail, now).await?;
    Ok(())
}

/// Staff may start with the citizen's handle or not; the thread adds it once.
/// Serializes milliseconds since the epoch as RFC 3339 in UTC, e.g. `2026-11-22T10:00:00Z`.
fn ser_time<S: serde::Serializer>(ms: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::store::rfc3339(*ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339_utc_to_the_second() {
        assert_eq!(
            crate::store::rfc3339(1_795_370_400_123),
            "2026-11-22T18:00:00Z"
        );
        assert_eq!(crate::store::rfc3339(0), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn states_round_trip() {
        for s in [State::Bot, State::WaitingStaff, State::Staff, State::Closed] {
            assert_eq!(State::parse(s.as_str()), Some(s));
        }
        assert_eq!(State::parse("open"), None);
    }
}
