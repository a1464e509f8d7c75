//! The one transaction that records a decided mention: the mention marked done, its conversation
//! (found or opened), a complaint filed as a ticket or its place asked for, the hand-off, the
//! event, the decision, and the tweets the bot may send. Each table is written by its owner
//! (store, desk, tickets) inside this one transaction, so a crash keeps all of it or none.
//!
//! Which conversation: the citizen's conversation that waits for or is held by a person (so the
//! bot never talks past the human), else the bot's conversation in the same X thread, else a new
//! one. What the bot may say depends on its state, read inside the transaction: in `bot`, its
//! replies go out (a hand-off moves it to `waiting_staff`); while a person is awaited or holds it,
//! only an emergency line does, and the holder is notified of the new tweet.

use serde_json::json;

use crate::desk::conversation::{self, Direction, Joined, NewMessage};
use crate::desk::{DeskError, State};
use crate::store::{Mention, NewDecision, NewOutbox, Store, now_ms, reply_key};
use crate::tickets::{Complaint, Tickets};
use crate::triage::Kind;

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
    /// The decision's kind (recorded as `decision.kind`).
    pub kind: Kind,
    /// The bot's tweets, in order.
    pub replies: &'a [String],
    /// The outbox priority of those tweets.
    pub priority: i64,
    /// Whether the mention belongs in a conversation at all (the account's own tweets,
    /// retweets and tweets that do not mention it do not).
    pub joins: bool,
    /// The month's budget is spent and only what is essential goes out (`[costs] at_budget`):
    /// this triage decision's automatic answer or hand-off acknowledgement is not posted, and
    /// an answer goes to staff instead. Emergencies, tickets and replies to a ticket's thread
    /// are never held.
    pub essential: bool,
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
        kind,
        replies,
        priority,
        joins,
        essential,
    } = *decided;
    let now = now_ms();
    let mut tx = store.begin().await?;
    // Written first: on SQLite this takes the write lock before anything is read; a mention
    // already done (another worker after a lease ran out) changes nothing.
    if !crate::store::mark_mention_done(&mut tx, &mention.tweet_id, now).await? {
        tx.rollback().await?;
        return Ok(Recorded {
            replay: true,
            ..Recorded::default()
        });
    }
    let thread = mention
        .conversation_id
        .clone()
        .unwrap_or_else(|| mention.tweet_id.clone());
    let mut recorded = Recorded::default();
    let mut joined: Option<Joined> = None;
    if joins {
        joined = match conversation::find_for_mention(
            &mut tx,
            store.backend(),
            &mention.author_id,
            &thread,
        )
        .await?
        {
            Some(found) => Some(found),
            // Spam and insults do not open conversations.
            None if kind == Kind::Ignore => None,
            None => Some(
                conversation::open(
                    &mut tx,
                    &format!("c{}", mention.tweet_id),
                    &mention.author_id,
                    &mention.author_username,
                    &thread,
                    now,
                )
                .await?,
            ),
        };
    }
    // What may go out, by state.
    let send = match &joined {
        None => kind != Kind::Ignore,
        Some(Joined {
            state: State::Bot | State::Closed,
            ..
        }) => true,
        Some(_) => kind == Kind::Emergency,
    };
    recorded.silenced = !send && !replies.is_empty();
    let mut outgoing: Vec<String> = if send { replies.to_vec() } else { Vec::new() };
    // Complaints become tickets once the place is known; until then the bot asks for it.
    let mut location_handoff = false;
    // The mention completed or continued a complaint: its own decision (often a hand-off, since
    // "jl. danau toba" alone answers nothing) does not apply.
    let mut consumed = false;
    if let (Some(tickets), Some(c)) = (tickets, &joined)
        && c.state == State::Bot
        && kind != Kind::Emergency
    {
        let report_to = match (kind, &decision.agency) {
            (Kind::Report, Some(agency)) => Some((agency.as_str(), decision.topic.as_deref())),
            _ => None,
        };
        let complaint = tickets
            .take_complaint(&mut tx, &c.id, mention, report_to, now)
            .await
            .map_err(|e| DeskError::Invalid(e.to_string()))?;
        consumed = complaint != Complaint::None;
        match complaint {
            Complaint::None => {}
            // The ticket's own tweet (with its number) answers the citizen.
            Complaint::Filed(number) => {
                recorded.ticket = Some(number);
                outgoing.clear();
            }
            Complaint::AskPlace(ask) => outgoing = ask,
            Complaint::ToStaff(tweets) => {
                outgoing = tweets;
                location_handoff = true;
            }
        }
    }
    // A spent budget: what can wait is not posted (the ticket's own tweet and the question
    // for a complaint's place are part of a ticket, and go out).
    let in_bot = joined.as_ref().is_some_and(|j| j.state == State::Bot);
    let held_for_budget = essential && in_bot && kind != Kind::Emergency;
    if held_for_budget && !complaint_kept(&outgoing, consumed, location_handoff) {
        outgoing.clear();
    }
    if let Some(Joined { id, state, holder }) = &joined {
        recorded.conversation = Some(id.clone());
        recorded.holder = holder.clone();
        let incoming = NewMessage {
            direction: Direction::In,
            tweet_id: Some(&mention.tweet_id),
            author: &mention.author_username,
            text: &mention.text,
            outbox_prefix: None,
        };
        conversation::add_message(&mut tx, id, incoming, now).await?;
        if !outgoing.is_empty() {
            let text = outgoing.join("\n");
            let prefix = crate::store::reply_key_prefix(&mention.tweet_id);
            let reply = NewMessage {
                direction: Direction::Out,
                tweet_id: None,
                author: "bot",
                text: &text,
                outbox_prefix: Some(&prefix),
            };
            conversation::add_message(&mut tx, id, reply, now).await?;
        }
        // A complaint outside the city's remit (an agency that takes no tickets): staff tell
        // the citizen where to go.
        let outside_remit = kind == Kind::Report
            && decision.agency.as_deref().is_some_and(|a| {
                tickets
                    .and_then(|t| t.agency(a))
                    .is_some_and(|a| !a.tickets)
            });
        let budget_handoff = held_for_budget && kind == Kind::Answer && !consumed;
        let hand_off = *state == State::Bot
            && (((kind == Kind::Handoff || kind == Kind::Emergency || outside_remit) && !consumed)
                || location_handoff
                || budget_handoff);
        let urgent = kind == Kind::Emergency;
        if hand_off {
            let reason = if location_handoff {
                "location_missing"
            } else if budget_handoff {
                "budget_essential"
            } else if outside_remit {
                "outside_remit"
            } else {
                decision.rule.as_str()
            };
            conversation::hand_off(&mut tx, id, reason, Some(urgent), now).await?;
            recorded.handed_off = true;
        } else if urgent {
            conversation::mark_urgent(&mut tx, id, &decision.rule).await?;
        }
        conversation::touch(&mut tx, id, &mention.text, &mention.tweet_id, now).await?;
        let event = if urgent {
            "emergency"
        } else if hand_off {
            "handoff"
        } else {
            "message"
        };
        let detail = json!({
            "tweet_id": mention.tweet_id,
            "kind": kind.as_str(),
            "rule": decision.rule,
            "held_by": holder,
            "silenced": recorded.silenced,
        });
        let actor = format!("@{}", mention.author_username);
        conversation::insert_event(&mut tx, event, Some(id), &actor, &detail, now).await?;
        if hand_off {
            let detail = json!({"rule": decision.rule, "tweet_id": mention.tweet_id});
            let subject = format!("conversation:{id}");
            crate::store::insert_audit(
                &mut tx,
                "bot",
                "handoff",
                &subject,
                &detail.to_string(),
                now,
            )
            .await?;
        }
    }
    let record = NewDecision {
        conversation_id: recorded.conversation.clone(),
        kind: kind.as_str().to_owned(),
        ..decision.clone()
    };
    crate::store::insert_decision(&mut tx, &mention.tweet_id, &record, now).await?;
    for (i, text) in outgoing.iter().enumerate() {
        let payload = json!({
            "text": text,
            // The first part answers the citizen; each next part answers the previous one.
            "in_reply_to": if i == 0 { Some(mention.tweet_id.clone()) } else { None },
            "after": if i == 0 { None } else { Some(reply_key(&mention.tweet_id, i)) },
        });
        let row = NewOutbox {
            channel: "x".into(),
            payload: payload.to_string(),
            priority,
            idempotency_key: reply_key(&mention.tweet_id, i + 1),
        };
        recorded.queued += crate::store::insert_outbox(&mut tx, &row, now).await?;
    }
    tx.commit().await?;
    Ok(recorded)
}

/// Whether the tweets about to go out belong to a complaint on its way to a ticket (the
/// question for its place), which a spent budget does not hold.
fn complaint_kept(outgoing: &[String], consumed: bool, location_handoff: bool) -> bool {
    consumed && !location_handoff && !outgoing.is_empty()
}
