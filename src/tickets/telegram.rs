//! Agencies' Telegram chats: a press on a ticket's button moves the ticket, a reply to a ticket's
//! message becomes a note for the citizen, and the ticket remembers its first message there (its
//! delivery), which state changes edit. Also the shape of a queued Telegram message, which every
//! part that writes to Telegram uses.

use serde_json::{Value, json};
use sqlx::Row;

use super::{Mover, NoteOutcome, StateButton, TicketError, Tickets};
use crate::channels::telegram::{Incoming, escape};
use crate::store::{NewOutbox, Store};

/// One message to post in a Telegram chat, as the outbox keeps it (channel `telegram`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TelegramPost {
    pub chat: i64,
    /// Telegram HTML, every outside string escaped.
    pub html: String,
    /// Inline buttons: (label, callback data).
    pub buttons: Vec<(String, String)>,
    /// The conversation the message is about, so that a press or a reply finds it.
    pub conversation: Option<String>,
    pub reply_to: Option<i32>,
}

impl TelegramPost {
    /// The outbox row that posts it, once (`key`), with `priority`.
    pub fn outbox(self, key: String, priority: i64) -> NewOutbox {
        NewOutbox {
            channel: "telegram".into(),
            payload: json!({
                "chat_id": self.chat,
                "text": self.html,
                "buttons": self.buttons,
                "conversation": self.conversation,
                "reply_to": self.reply_to,
            })
            .to_string(),
            priority,
            idempotency_key: key,
        }
    }
}

/// What the person who pressed a button is told (Telegram shows it as a toast, or an alert).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PressAnswer {
    pub text: String,
    pub alert: bool,
}

impl PressAnswer {
    fn toast(text: impl Into<String>) -> PressAnswer {
        PressAnswer {
            text: text.into(),
            alert: false,
        }
    }

    fn alert(text: impl Into<String>) -> PressAnswer {
        PressAnswer {
            text: text.into(),
            alert: true,
        }
    }
}

impl Tickets {
    /// An agency member pressed a ticket's button (`t:<number>:<state>`) in the agency's chat.
    pub async fn agency_press(
        &self,
        store: &Store,
        chat_id: i64,
        username: &str,
        data: &str,
    ) -> Result<PressAnswer, TicketError> {
        let Some(button) = StateButton::parse(data) else {
            return Ok(PressAnswer::toast("Tombol tidak dikenal."));
        };
        let number = button.number.as_str();
        let ticket = match self.get(store, number).await {
            Ok(t) => t,
            Err(e @ TicketError::NotFound(_)) => return Ok(PressAnswer::alert(e.to_string())),
            Err(e) => return Err(e),
        };
        let Some(agency) = self.agency(&ticket.agency) else {
            return Ok(PressAnswer::toast(""));
        };
        // Only the agency's own chat moves its tickets.
        if agency.telegram_chat_id != Some(chat_id) {
            return Ok(PressAnswer::alert("Tiket ini milik instansi lain."));
        }
        let by = format!("{} (@{username})", agency.short_name);
        let mover = Mover {
            name: &by,
            staff: false,
            note: "",
        };
        match self.transition(store, number, button.to, &mover).await {
            Ok(_) => Ok(PressAnswer::toast(format!(
                "Status laporan {number}: {}",
                button.to.label()
            ))),
            Err(e @ TicketError::NotAllowed { .. }) => Ok(PressAnswer::alert(e.to_string())),
            Err(e) => Err(e),
        }
    }

    /// A message in an agency's chat: a reply to a ticket's message is a status note for the
    /// citizen, and the chat is told what became of it; anything else is the agency's own talk
    /// and stays there. A replayed update relays nothing twice.
    pub async fn agency_reply(&self, store: &Store, message: &Incoming) -> Result<(), TicketError> {
        let Incoming::Text {
            chat_id,
            message_id,
            reply_to: Some(reply_to),
            username,
            text,
            ..
        } = message
        else {
            return Ok(());
        };
        let (chat_id, message_id, reply_to) = (*chat_id, *message_id, *reply_to);
        let Some(agency) = self
            .config
            .agencies
            .iter()
            .find(|a| a.telegram_chat_id == Some(chat_id))
            .cloned()
        else {
            return Ok(());
        };
        let number: Option<String> =
            sqlx::query("SELECT number FROM tickets WHERE delivery = $1 AND agency = $2")
                .bind(delivery(chat_id, reply_to))
                .bind(&agency.id)
                .fetch_optional(store.pool())
                .await?
                .map(|r| r.get(0));
        let Some(number) = number else {
            return Ok(());
        };
        let by = format!("{} (@{username})", agency.short_name);
        let origin = format!("tg:{chat_id}:{message_id}");
        let html = match self.add_note(store, &number, &by, text, &origin).await? {
            NoteOutcome::Repeated => return Ok(()),
            NoteOutcome::Relayed => format!(
                "📤 Kabar diteruskan ke pelapor laporan {}.",
                escape(&number)
            ),
            NoteOutcome::Held(_) => format!(
                "🕓 Kabar untuk pelapor laporan {} menunggu persetujuan petugas.",
                escape(&number)
            ),
        };
        let post = TelegramPost {
            chat: chat_id,
            html,
            reply_to: Some(message_id),
            ..TelegramPost::default()
        };
        store
            .enqueue(&post.outbox(format!("tg:note:{chat_id}:{message_id}"), 0))
            .await?;
        Ok(())
    }
}

/// The Telegram message that carries a ticket in its agency's chat (its first message, which
/// state changes edit), if it is out yet.
pub async fn first_message(store: &Store, number: &str) -> Result<Option<i32>, TicketError> {
    let delivery: Option<String> = sqlx::query("SELECT delivery FROM tickets WHERE number = $1")
        .bind(number)
        .fetch_optional(store.pool())
        .await?
        .and_then(|r| r.get(0));
    Ok(delivery
        .and_then(|d| serde_json::from_str::<Value>(&d).ok())
        .and_then(|d| d["message_id"].as_i64())
        .map(|m| m as i32))
}

/// Records that a ticket's first message reached its agency's Telegram chat.
pub async fn record_delivery(
    store: &Store,
    number: &str,
    chat_id: i64,
    message_id: i32,
) -> Result<(), TicketError> {
    sqlx::query("UPDATE tickets SET delivery = $1 WHERE number = $2")
        .bind(delivery(chat_id, message_id))
        .bind(number)
        .execute(store.pool())
        .await?;
    Ok(())
}

/// A ticket's delivery as stored: which chat and message carry it.
fn delivery(chat_id: i64, message_id: i32) -> String {
    json!({"channel": "telegram", "chat_id": chat_id, "message_id": message_id}).to_string()
}
