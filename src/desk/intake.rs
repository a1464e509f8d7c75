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
use crate::tickets::{NewTicket, Tickets};

/// What the bot asks when a complaint names no place (the wording, kept exact).
const ASK_LOCATION: &str = "Boleh info lokasi lengkapnya: nama jalan, kelurahan?";
const ASK_AGAIN: &str =
    "Maaf kak, lokasinya belum kami kenali. Boleh info lokasi lengkapnya: nama jalan, kelurahan?";
const LOCATION_TO_STAFF: &str = "Terima kasih kak. Lokasinya belum bisa kami pastikan, jadi laporan \
                                 ini kami teruskan ke petugas yang akan membalas di utas ini.";

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
    /// The ticket this mention filed.
    pub ticket: Option<String>,
}

/// What the worker decided about a mention.
#[derive(Debug, Clone, Copy)]
pub struct Decided<'a> {
    pub decision: &'a NewDecision,
    /// The bot's tweets, in order.
    pub replies: &'a [String],
    /// The outbox priority of those tweets.
    pub priority: i64,
    /// Whether the mention belongs in a conversation at all (the account's own tweets,
    /// retweets and tweets that do not mention it do not).
    pub joins: bool,
}

/// Records what was decided about `mention`, in its conversation, with what the bot may say.
pub async fn record_mention(
    store: &Store,
    mention: &Mention,
    decided: &Decided<'_>,
    tickets: Option<&Tickets>,
) -> Result<Recorded, DeskError> {
    let Decided {
        decision,
        replies,
        priority,
        joins,
    } = *decided;
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
    let mut outgoing: Vec<String> = if send { replies.to_vec() } else { Vec::new() };
    // Complaints become tickets once the place is known; until then the bot asks for it.
    let mut location_handoff = false;
    // The mention completed or continued a complaint: its own decision (often a hand-off, since
    // "jl. danau toba" alone answers nothing) does not apply.
    let mut consumed = false;
    if let (Some(tickets), Some((id, State::Bot, _))) = (tickets, &conversation)
        && kind != "emergency"
    {
        let photos_here: Vec<String> = serde_json::from_str::<serde_json::Value>(&mention.raw)
            .ok()
            .and_then(|raw| serde_json::from_value(raw["media_urls"].clone()).ok())
            .unwrap_or_default();
        let pending_photos: Vec<String> =
            sqlx::query("SELECT photos FROM pending_reports WHERE conversation_id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
                .and_then(|r| serde_json::from_str(&r.get::<String, _>(0)).ok())
                .unwrap_or_default();
        let photos: Vec<String> = pending_photos.into_iter().chain(photos_here).collect();
        let pending = sqlx::query(
            "SELECT agency, category, text, asks FROM pending_reports WHERE conversation_id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| {
            (
                r.get::<String, _>(0),
                r.get::<String, _>(1),
                r.get::<String, _>(2),
                r.get::<i64, _>(3),
            )
        });
        let report = match (kind, &decision.agency) {
            ("report", Some(agency)) if tickets.agency(agency).is_some_and(|a| a.tickets) => {
                Some((
                    agency.clone(),
                    decision.topic.clone().unwrap_or_else(|| agency.clone()),
                    mention.text.clone(),
                    0,
                ))
            }
            _ => pending.map(|(agency, category, text, asks)| {
                (agency, category, format!("{text}\n{}", mention.text), asks)
            }),
        };
        if let Some((agency, category, text, asks)) = report {
            consumed = true;
            let location = tickets.gazetteer.locate(&mention.text);
            match location {
                Some(place) => {
                    let ticket = tickets
                        .file(
                            &mut tx,
                            &NewTicket {
                                agency,
                                category,
                                text,
                                location: Some(place),
                                photos: photos.clone(),
                                reporter: mention.author_username.clone(),
                                reporter_id: mention.author_id.clone(),
                                tweet_id: mention.tweet_id.clone(),
                                conversation_id: Some(id.clone()),
                            },
                            now,
                        )
                        .await
                        .map_err(|e| DeskError::Invalid(e.to_string()))?;
                    recorded.ticket = Some(ticket.number);
                    sqlx::query("DELETE FROM pending_reports WHERE conversation_id = $1")
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    // The ticket's own tweet (with its number) answers the citizen.
                    outgoing.clear();
                }
                None if asks >= 2 => {
                    sqlx::query("DELETE FROM pending_reports WHERE conversation_id = $1")
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    outgoing = crate::tweet::thread(&mention.author_username, LOCATION_TO_STAFF);
                    location_handoff = true;
                }
                None => {
                    sqlx::query(
                        "INSERT INTO pending_reports (conversation_id, agency, category, text, \
                         tweet_id, asks, created_at, photos) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                         ON CONFLICT (conversation_id) DO UPDATE SET agency = excluded.agency, \
                         category = excluded.category, text = excluded.text, \
                         tweet_id = excluded.tweet_id, asks = excluded.asks, \
                         photos = excluded.photos",
                    )
                    .bind(id)
                    .bind(&agency)
                    .bind(&category)
                    .bind(&text)
                    .bind(&mention.tweet_id)
                    .bind(asks + 1)
                    .bind(now)
                    .bind(serde_json::json!(photos).to_string())
                    .execute(&mut *tx)
                    .await?;
                    let ask = if asks == 0 { ASK_LOCATION } else { ASK_AGAIN };
                    outgoing = crate::tweet::thread(&mention.author_username, ask);
                }
            }
        }
    }
    let outgoing: &[String] = &outgoing;
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
        let hand_off = *state == State::Bot
            && (((kind == "handoff" || kind == "emergency") && !consumed) || location_handoff);
        let urgent = kind == "emergency";
        if hand_off {
            sqlx::query(
                "UPDATE conversations SET state = 'waiting_staff', reason = $1, waiting_since = $2, \
                 announced_at = $2, urgent = $3 WHERE id = $4",
            )
            .bind(if location_handoff {
                "location_missing"
            } else {
                decision.rule.as_str()
            })
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
