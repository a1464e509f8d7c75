//! What goes out about a ticket: the agency's message (Telegram or WhatsApp, first or updated)
//! and the citizen's tweet in their thread, held while a person holds the conversation.

use serde_json::json;

use super::messages::{agency_html, agency_plain, next_choices, place_correction, truncate_chars};
use super::{Ticket, TicketError, Tickets};
use crate::config::Agency;
use crate::desk::conversation::insert_event;
use crate::store::{NewOutbox, Tx};

/// How a ticket's message reaches its agency.
pub(super) enum AgencyMessage<'a> {
    /// The first message about the ticket: it becomes the ticket's delivery.
    First,
    /// A state change (history id): Telegram edits the first message, WhatsApp sends anew.
    Update(i64),
    /// A new first message (rerouted, or reopened with staff's note as its lead line).
    Again(i64, Option<&'a str>),
    /// Staff corrected the place (history id): Telegram edits the first message; WhatsApp, which
    /// cannot edit, gets a short correction without buttons (outside the 24-hour window, the
    /// ticket's template, which carries the corrected place).
    Place(i64),
}

/// Who causes a tweet to the citizen: a status tweet caused by the agency (or the bot) waits
/// while a person holds the citizen's conversation; staff's own actions go out at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Speaker {
    Bot,
    Agency,
    Staff,
}

impl Tickets {
    /// The agency's message: new (a fresh ticket) or an edit of the first one (a state change,
    /// a corrected place), with the buttons of the states that may follow.
    pub(super) async fn queue_agency_message(
        &self,
        tx: &mut Tx<'_>,
        ticket: &Ticket,
        agency: &Agency,
        message: AgencyMessage<'_>,
        now: i64,
    ) -> Result<(), TicketError> {
        let (suffix, lead) = match message {
            AgencyMessage::First => ("new".to_owned(), None),
            AgencyMessage::Update(id) => (id.to_string(), None),
            AgencyMessage::Again(id, lead) => (format!("new:{id}"), lead),
            AgencyMessage::Place(id) => (format!("place:{id}"), None),
        };
        let first = matches!(message, AgencyMessage::First | AgencyMessage::Again(..));
        let correction = matches!(message, AgencyMessage::Place(_));
        let lead = lead.map(|note| {
            if note.is_empty() {
                "Dibuka kembali oleh petugas.".to_owned()
            } else {
                format!("Dibuka kembali oleh petugas: {note}")
            }
        });
        let (channel, payload) = if let Some(to) = &agency.whatsapp {
            let text = match &lead {
                _ if correction => place_correction(ticket),
                Some(lead) => {
                    truncate_chars(&format!("{lead}\n\n{}", agency_plain(ticket, agency)), 1000)
                }
                None => agency_plain(ticket, agency),
            };
            let choices = if correction {
                Vec::new()
            } else {
                next_choices(ticket)
            };
            let payload = json!({
                "to": to,
                "ticket": ticket.number,
                "text": text,
                "choices": choices,
                "template_params": [
                    ticket.number,
                    truncate_chars(&ticket.text, 300),
                    ticket.location.clone().unwrap_or_else(|| "-".into()),
                ],
                "first": first,
            });
            ("whatsapp", payload)
        } else if let Some(chat) = agency.telegram_chat_id {
            let html = agency_html(ticket, agency);
            let payload = json!({
                "chat_id": chat,
                "text": match &lead {
                    Some(lead) => format!("🔁 <b>{}</b>\n\n{html}", crate::channels::telegram::escape(lead)),
                    None => html,
                },
                "buttons": next_choices(ticket),
                "ticket": ticket.number,
                "edit": !first,
            });
            ("telegram", payload)
        } else {
            return Ok(());
        };
        let prefix = if channel == "whatsapp" { "wa" } else { "tg" };
        crate::store::insert_outbox(
            tx,
            &NewOutbox {
                channel: channel.into(),
                payload: payload.to_string(),
                priority: 10,
                idempotency_key: format!("{prefix}:ticket:{}:{suffix}", ticket.number),
            },
            now,
        )
        .await?;
        Ok(())
    }
}

pub(super) async fn queue_citizen_tweet(
    tx: &mut Tx<'_>,
    ticket: &Ticket,
    text: &str,
    history_id: i64,
    speaker: Speaker,
    now: i64,
) -> Result<(), TicketError> {
    // A citizen who wrote "stop" gets no automatic tweet; the history keeps the news, and staff
    // may still write to them.
    if speaker != Speaker::Staff {
        let opted_out = sqlx::query(
            "SELECT 1 FROM opt_outs o JOIN tickets t ON t.reporter_id = o.user_id \
             WHERE t.number = $1",
        )
        .bind(&ticket.number)
        .fetch_optional(&mut **tx)
        .await?
        .is_some();
        if opted_out {
            return Ok(());
        }
    }
    // No automatic tweet while a person talks with the citizen: the agency's news waits for
    // the conversation to be released or closed (the holder sees it in the console).
    let held_by_person = match (&ticket.conversation_id, speaker) {
        (Some(conversation), Speaker::Bot | Speaker::Agency) => {
            sqlx::query("SELECT id FROM conversations WHERE id = $1 AND state = 'staff'")
                .bind(conversation)
                .fetch_optional(&mut **tx)
                .await?
                .map(|_| conversation.clone())
        }
        _ => None,
    };
    let parts = crate::tweet::thread(&ticket.reporter, text);
    let prefix = format!("x:ticket:{}:{history_id}:", ticket.number);
    let key = |n: usize| format!("{prefix}{n}");
    // The conversation's thread shows the ticket's tweets beside the bot's and staff's.
    if let Some(conversation) = &ticket.conversation_id {
        let joined = parts.join("\n");
        let message = crate::desk::conversation::NewMessage {
            direction: crate::desk::conversation::Direction::Out,
            tweet_id: None,
            author: "bot",
            text: &joined,
            outbox_prefix: Some(&prefix),
        };
        crate::desk::conversation::add_message(tx, conversation, message, now).await?;
    }
    for (i, part) in parts.iter().enumerate() {
        let payload = json!({
            "text": part,
            "in_reply_to": if i == 0 { Some(ticket.tweet_id.clone()) } else { None },
            "after": if i == 0 { None } else { Some(key(i)) },
            "ticket": ticket.number,
        });
        crate::store::insert_outbox(
            tx,
            &NewOutbox {
                channel: "x".into(),
                payload: payload.to_string(),
                priority: 20,
                idempotency_key: key(i + 1),
            },
            now,
        )
        .await?;
        if let Some(conversation) = &held_by_person {
            if i == 0 {
                insert_event(
                    tx,
                    "ticket_update_held",
                    Some(conversation),
                    "bot",
                    &json!({"ticket": ticket.number, "state": ticket.state.as_str(), "text": text}),
                    now,
                )
                .await?;
            }
            crate::store::hold(tx, &key(i + 1), conversation).await?;
        }
    }
    Ok(())
}
