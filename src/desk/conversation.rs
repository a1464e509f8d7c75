//! The desk's write functions that other parts call inside their own transactions: a mention
//! joining its conversation, a hand-off, an event for the live view. The desk owns the
//! `conversations`, `messages`, `events` and `telegram_messages` tables; nothing else writes them.

use serde_json::Value;
use sqlx::Row;

use super::State;
use crate::store::{Backend, Result, Tx};

/// A conversation found or opened for a mention, as it stood inside the transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Joined {
    pub id: String,
    pub state: State,
    /// Whoever holds it.
    pub holder: Option<String>,
}

/// The conversation a citizen's mention joins: the citizen's conversation that waits for or is
/// held by a person (so the bot never talks past the human), else the bot's conversation in
/// the same X thread. Locks the row on PostgreSQL.
pub async fn find_for_mention(
    tx: &mut Tx<'_>,
    backend: Backend,
    citizen_id: &str,
    thread: &str,
) -> Result<Option<Joined>> {
    let lock = if backend == Backend::Postgres {
        " FOR UPDATE"
    } else {
        ""
    };
    let open = sqlx::query(&format!(
        "SELECT id, state, held_by FROM conversations WHERE citizen_id = $1 \
         AND state IN ('waiting_staff', 'staff') ORDER BY updated_at DESC LIMIT 1{lock}"
    ))
    .bind(citizen_id)
    .fetch_optional(&mut **tx)
    .await?;
    let found = match open {
        Some(row) => Some(row),
        None => {
            sqlx::query(&format!(
                "SELECT id, state, held_by FROM conversations WHERE citizen_id = $1 \
                 AND x_conversation_id = $2 AND state = 'bot' \
                 ORDER BY updated_at DESC LIMIT 1{lock}"
            ))
            .bind(citizen_id)
            .bind(thread)
            .fetch_optional(&mut **tx)
            .await?
        }
    };
    Ok(found.map(|row| Joined {
        id: row.get(0),
        state: State::parse(&row.get::<String, _>(1)).unwrap_or(State::Bot),
        holder: row.get(2),
    }))
}

/// Opens a conversation with the bot for a citizen's X thread.
pub async fn open(
    tx: &mut Tx<'_>,
    id: &str,
    citizen_id: &str,
    citizen: &str,
    thread: &str,
    now: i64,
) -> Result<Joined> {
    sqlx::query(
        "INSERT INTO conversations (id, citizen_id, citizen_username, x_conversation_id, state, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, 'bot', $5, $5)",
    )
    .bind(id)
    .bind(citizen_id)
    .bind(citizen)
    .bind(thread)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(Joined {
        id: id.to_owned(),
        state: State::Bot,
        holder: None,
    })
}

/// Which way a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From the citizen.
    In,
    /// From the account (the bot or staff).
    Out,
}

/// A message in a conversation's thread.
#[derive(Debug, Clone, Copy)]
pub struct NewMessage<'a> {
    pub direction: Direction,
    /// The tweet, once it is on X.
    pub tweet_id: Option<&'a str>,
    /// The citizen's handle, "bot", or the staff member's name.
    pub author: &'a str,
    pub text: &'a str,
    /// For a message the account posts: the idempotency-key prefix of its outbox rows (parts
    /// `prefix1`, `prefix2`, ...), so the thread can show each part's state.
    pub outbox_prefix: Option<&'a str>,
}

/// Adds a message to a conversation's thread, with the text the search index is given
/// ([`super::search::index_text`]). Returns its id.
pub async fn add_message(
    tx: &mut Tx<'_>,
    conversation: &str,
    message: NewMessage<'_>,
    now: i64,
) -> Result<i64> {
    let NewMessage {
        direction,
        tweet_id,
        author,
        text,
        outbox_prefix,
    } = message;
    let id = sqlx::query(
        "INSERT INTO messages (conversation_id, direction, tweet_id, author, text, created_at, \
         outbox_prefix, search_text) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(conversation)
    .bind(match direction {
        Direction::In => "in",
        Direction::Out => "out",
    })
    .bind(tweet_id)
    .bind(author)
    .bind(text)
    .bind(now)
    .bind(outbox_prefix)
    .bind(super::search::index_text(direction, author, text))
    .fetch_one(&mut **tx)
    .await?
    .get(0);
    Ok(id)
}

/// Puts a conversation with the bot (or a closed one) in the staff queue for `reason` (a rule
/// name, see [`super::messages::reason_label`]); one a person already awaits or holds is left as
/// it is. `urgent`: Some sets the emergency mark, None leaves it. Returns whether it moved.
pub async fn hand_off(
    tx: &mut Tx<'_>,
    conversation: &str,
    reason: &str,
    urgent: Option<bool>,
    now: i64,
) -> Result<bool> {
    let done = match urgent {
        Some(urgent) => {
            sqlx::query(
                "UPDATE conversations SET state = 'waiting_staff', reason = $1, \
                 waiting_since = $2, announced_at = $2, urgent = $3, updated_at = $2 \
                 WHERE id = $4 AND state IN ('bot', 'closed')",
            )
            .bind(reason)
            .bind(now)
            .bind(i64::from(urgent))
            .bind(conversation)
            .execute(&mut **tx)
            .await?
        }
        None => {
            sqlx::query(
                "UPDATE conversations SET state = 'waiting_staff', reason = $1, \
                 waiting_since = $2, announced_at = $2, updated_at = $2 \
                 WHERE id = $3 AND state IN ('bot', 'closed')",
            )
            .bind(reason)
            .bind(now)
            .bind(conversation)
            .execute(&mut **tx)
            .await?
        }
    };
    Ok(done.rows_affected() == 1)
}

/// Takes a conversation out of the staff queue once what it waited for was done elsewhere (a
/// rejected ticket sent to another agency, a disputed one reopened): back to the bot, when it
/// still waits for one of `reasons` and nobody took it. Records `settled` for the live view.
/// Returns whether it left the queue.
pub async fn settle(
    tx: &mut Tx<'_>,
    conversation: &str,
    reasons: &[&str],
    actor: &str,
    now: i64,
) -> Result<bool> {
    let waiting: Option<String> =
        sqlx::query("SELECT reason FROM conversations WHERE id = $1 AND state = 'waiting_staff'")
            .bind(conversation)
            .fetch_optional(&mut **tx)
            .await?
            .and_then(|r| r.get(0));
    if !waiting.is_some_and(|r| reasons.contains(&r.as_str())) {
        return Ok(false);
    }
    sqlx::query(
        "UPDATE conversations SET state = 'bot', reason = NULL, waiting_since = NULL, urgent = 0, \
         updated_at = $1 WHERE id = $2 AND state = 'waiting_staff'",
    )
    .bind(now)
    .bind(conversation)
    .execute(&mut **tx)
    .await?;
    insert_event(
        tx,
        "settled",
        Some(conversation),
        actor,
        &serde_json::json!({"reasons": reasons}),
        now,
    )
    .await?;
    Ok(true)
}

/// Marks a conversation a person awaits or holds as an emergency, with the rule that found it.
pub async fn mark_urgent(tx: &mut Tx<'_>, conversation: &str, reason: &str) -> Result<()> {
    sqlx::query("UPDATE conversations SET urgent = 1, reason = $1 WHERE id = $2")
        .bind(reason)
        .bind(conversation)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Notes the citizen's latest tweet in a conversation.
pub async fn touch(
    tx: &mut Tx<'_>,
    conversation: &str,
    last_text: &str,
    last_tweet_id: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE conversations SET last_text = $1, last_tweet_id = $2, updated_at = $3 \
         WHERE id = $4",
    )
    .bind(last_text)
    .bind(last_tweet_id)
    .bind(now)
    .bind(conversation)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Adds an event to the live feed (the console's server-sent events, the staff group's
/// notifier), inside the caller's transaction.
pub async fn insert_event(
    tx: &mut Tx<'_>,
    kind: &str,
    conversation: Option<&str>,
    actor: &str,
    detail: &Value,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO events (at, kind, conversation_id, actor, detail) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(now)
    .bind(kind)
    .bind(conversation)
    .bind(actor)
    .bind(detail.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Remembers which conversation a message the bot posted in a Telegram chat is about, so that
/// a press or a reply there finds it.
pub async fn link_telegram_message(
    tx: &mut Tx<'_>,
    chat: i64,
    message: i32,
    conversation: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO telegram_messages (chat_id, message_id, conversation_id, created_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (chat_id, message_id) DO NOTHING",
    )
    .bind(chat.to_string())
    .bind(i64::from(message))
    .bind(conversation)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The conversation a message of the bot in a Telegram chat is about.
pub async fn of_telegram_message(
    pool: &sqlx::AnyPool,
    chat: i64,
    message: i32,
) -> Result<Option<String>> {
    let row = sqlx::query(
        "SELECT conversation_id FROM telegram_messages WHERE chat_id = $1 AND message_id = $2",
    )
    .bind(chat.to_string())
    .bind(i64::from(message))
    .fetch_optional(pool)
    .await?;
    Ok(row.and_then(|r| r.get::<Option<String>, _>(0)))
}
