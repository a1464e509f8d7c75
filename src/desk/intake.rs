//! Each decided mention joins its conversation, in the same transaction that records the
//! decision, queues what the bot may say, and marks the mention done.
//!
//! Which conversation: the citizen's conversation that waits for or is held by a person (so the
//! bot never talks past the human), else the bot's conversation in the same X thread, else a new
//! one. What the bot may say depends on its state, read inside the transaction: in `bot`, its
//! replies go out (a hand-off moves it to `waiting_staff`); while a person is awaited or holds it,
//! only an emergency line does, and the holder is notified of the new tweet.

use serde_json::json;
use sqlx::Row;

use super::{DeskError, State, insert_event};
use crate::store::{Backend, Mention, NewDecision, NewOutbox, Store, now_ms};

/// What happened to one mention.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Recorded {
    /// The conversation it joined, if any.
    pub conversation: Option<String>,
    /// Outbox rows added.
    pub queued: usize,
    /// The bot had replies but kept quiet because a person is awaited or holds it.
    pub silenced: bool,
    /// This mention handed the conversation to staff.
    pub handed_off: bool,
    /// Whoever holds the conversation now.
    pub holder: Option<String>,
    /// The mention had been recorded already (a replay after a crash): nothing changed.
    pub replay: bool,
}

/// Records `decision` for `mention` with the bot's `replies` (tweets, in order), `priority`
/// for the outbox, and whether the mention belongs in a conversation at all (the account's own
/// tweets, retweets and tweets that do not mention it do not).
pub async fn record_mention(
    store: &Store,
    mention: &Mention,
    decision: &NewDecision,
    replies: &[String],
    priority: i64,
    joins: bool,
) -> Result<Recorded, DeskError> {
    let now = now_ms();
    let mut tx = store.pool().begin().await?;
    // Written first: on SQLite this takes the write lock before anything is read; a mention
    // already done (another worker after a lease ran out) changes nothing.
    let done = sqlx::query(
        "UPDATE inbox SET state = 'done', processed_at = $1, lease_until = NULL \
         WHERE tweet_id = $2 AND state <> 'done'",
    )
    .bind(now)
    .bind(&mention.tweet_id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        tx.rollback().await?;
        return Ok(Recorded {
            replay: true,
            ..Recorded::default()
        });
    }
    let lock = if store.backend() == Backend::Postgres {
        " FOR UPDATE"
    } else {
        ""
    };
    let kind = decision.kind.as_str();
    let thread = mention
        .conversation_id
        .clone()
        .unwrap_or_else(|| mention.tweet_id.clone());
    let mut recorded = Recorded::default();
    let mut conversation: Option<(String, State, Option<String>)> = None;
    if joins {
        let open = sqlx::query(&format!(
            "SELECT id, state, held_by FROM conversations WHERE citizen_id = $1 \
             AND state IN ('waiting_staff', 'staff') ORDER BY updated_at DESC LIMIT 1{lock}"
        ))
        .bind(&mention.author_id)
        .fetch_optional(&mut *tx)
        .await?;
        let found = match open {
            Some(row) => Some(row),
            None => {
                sqlx::query(&format!(
                    "SELECT id, state, held_by FROM conversations WHERE citizen_id = $1 \
                     AND x_conversation_id = $2 AND state = 'bot' \
                     ORDER BY updated_at DESC LIMIT 1{lock}"
                ))
                .bind(&mention.author_id)
                .bind(&thread)
                .fetch_optional(&mut *tx)
                .await?
            }
        };
        conversation = match found {
            Some(row) => {
                let state: String = row.get(1);
                Some((
                    row.get(0),
                    State::parse(&state).unwrap_or(State::Bot),
                    row.get(2),
                ))
            }
            // Spam and insults do not open conversations.
            None if kind == "ignore" => None,
            None => {
                let id = format!("c{}", mention.tweet_id);
                sqlx::query(
                    "INSERT INTO conversations (id, citizen_id, citizen_username, \
                     x_conversation_id, state, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, 'bot', $5, $5)",
                )
                .bind(&id)
                .bind(&mention.author_id)
                .bind(&mention.author_username)
                .bind(&thread)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                Some((id, State::Bot, None))
            }
        };
    }
    // What may go out, by state.
    let send = match &conversation {
        None => kind != "ignore",
        Some((_, State::Bot | State::Closed, _)) => true,
        Some(_) => kind == "emergency",
    };
    recorded.silenced = !send && !replies.is_empty();
    let outgoing: &[String] = if send { replies } else { &[] };
    if let Some((id, state, holder)) = &conversation {
        recorded.conversation = Some(id.clone());
        recorded.holder = holder.clone();
        sqlx::query(
            "INSERT INTO messages (conversation_id, direction, tweet_id, author, text, created_at) \
             VALUES ($1, 'in', $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(&mention.tweet_id)
        .bind(&mention.author_username)
        .bind(&mention.text)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if !outgoing.is_empty() {
            sqlx::query(
                "INSERT INTO messages (conversation_id, direction, tweet_id, author, text, \
                 created_at) VALUES ($1, 'out', NULL, 'bot', $2, $3)",
            )
            .bind(id)
            .bind(outgoing.join("\n"))
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        let hand_off = *state == State::Bot && (kind == "handoff" || kind == "emergency");
        let urgent = kind == "emergency";
        if hand_off {
            sqlx::query(
                "UPDATE conversations SET state = 'waiting_staff', reason = $1, waiting_since = $2, \
                 announced_at = $2, urgent = $3 WHERE id = $4",
            )
            .bind(&decision.rule)
            .bind(now)
            .bind(i64::from(urgent))
            .bind(id)
            .execute(&mut *tx)
            .await?;
            recorded.handed_off = true;
        } else if urgent {
            sqlx::query("UPDATE conversations SET urgent = 1, reason = $1 WHERE id = $2")
                .bind(&decision.rule)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "UPDATE conversations SET last_text = $1, last_tweet_id = $2, updated_at = $3 \
             WHERE id = $4",
        )
        .bind(&mention.text)
        .bind(&mention.tweet_id)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let event = if urgent {
            "emergency"
        } else if hand_off {
            "handoff"
        } else {
            "message"
        };
        insert_event(
            &mut tx,
            event,
            Some(id),
            &format!("@{}", mention.author_username),
            json!({
                "tweet_id": mention.tweet_id,
                "kind": kind,
                "rule": decision.rule,
                "held_by": holder,
                "silenced": recorded.silenced,
            }),
        )
        .await?;
        if hand_off {
            sqlx::query(
                "INSERT INTO audit_log (at, actor, action, subject, detail) \
                 VALUES ($1, 'bot', 'handoff', $2, $3)",
            )
            .bind(now)
            .bind(format!("conversation:{id}"))
            .bind(json!({"rule": decision.rule, "tweet_id": mention.tweet_id}).to_string())
            .execute(&mut *tx)
            .await?;
        }
    }
    sqlx::query(
        "INSERT INTO decisions (tweet_id, conversation_id, kind, topic, agency, rule, evidence, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (tweet_id) DO NOTHING",
    )
    .bind(&mention.tweet_id)
    .bind(&recorded.conversation)
    .bind(kind)
    .bind(&decision.topic)
    .bind(&decision.agency)
    .bind(&decision.rule)
    .bind(&decision.evidence)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    for (i, text) in outgoing.iter().enumerate() {
        let key = crate::service::reply_key(&mention.tweet_id, i + 1);
        let payload = json!({
            "text": text,
            // The first part answers the citizen; each next part answers the previous one.
            "in_reply_to": if i == 0 { Some(mention.tweet_id.clone()) } else { None },
            "after": if i == 0 { None } else { Some(crate::service::reply_key(&mention.tweet_id, i)) },
        });
        recorded.queued += crate::store::insert_outbox(
            &mut tx,
            &NewOutbox {
                channel: "x".into(),
                payload: payload.to_string(),
                priority,
                idempotency_key: key,
            },
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(recorded)
}
