//! Collect: an agency sends an announcement through the chat it already has with the bot. In
//! Telegram a message that starts with `/kabar`; the bot answers there with the draft's number
//! and the checklist, and the agency's replies to that answer (or to its own message) complete
//! the draft. A replayed update finds its message already linked and changes nothing (the answer
//! is queued again under the same key, so it is sent once).

use sqlx::Row;

use super::checklist::chat_reply;
use super::{AnnounceError, NewDraft, Newsroom};
use crate::config::Agency;
use crate::store::{NewOutbox, Store};

/// An agency member's message in the agency's Telegram chat.
#[derive(Debug, Clone)]
pub struct ChatMessage<'a> {
    pub chat_id: i64,
    pub message_id: i32,
    pub username: &'a str,
    pub text: &'a str,
    pub reply_to: Option<i32>,
}

/// What became of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Collected {
    /// Not an announcement: the tickets' handling goes on.
    NotMine,
    /// A draft was started or completed (its id).
    Draft(i64),
}

/// `/kabar`, `/kabar@BotName` or `/Kabar` at the start of a message; the rest is the text.
fn kabar_command(text: &str) -> Option<&str> {
    let trimmed = text.trim_start();
    let (command, rest) = trimmed
        .split_once(char::is_whitespace)
        .unwrap_or((trimmed, ""));
    let name = command.split('@').next().unwrap_or("");
    name.eq_ignore_ascii_case("/kabar").then_some(rest.trim())
}

fn chat_ref(chat: i64, message: i32) -> String {
    format!("tg:{chat}:{message}")
}

impl Newsroom {
    /// Handles a message in an agency's Telegram chat when it is about an announcement.
    pub async fn from_telegram(
        &self,
        store: &Store,
        agencies: &[Agency],
        message: &ChatMessage<'_>,
    ) -> Result<Collected, AnnounceError> {
        let Some(agency) = agencies
            .iter()
            .find(|a| a.telegram_chat_id == Some(message.chat_id))
        else {
            return Ok(Collected::NotMine);
        };
        let own = chat_ref(message.chat_id, message.message_id);
        let by = format!("{} ({})", message.username, agency.short_name);
        if let Some(id) = self.by_link(store, &own).await? {
            // Seen before: the answer is queued again, once.
            let draft = self.get(store, id).await?;
            self.answer(
                store,
                message,
                Some(id),
                &chat_reply(id, &self.review(&draft)),
            )
            .await?;
            return Ok(Collected::Draft(id));
        }
        if let Some(text) = kabar_command(message.text) {
            if text.is_empty() {
                self.answer(
                    store,
                    message,
                    None,
                    "Tulis kabarnya setelah /kabar, misalnya: /kabar Vaksinasi gratis untuk balita \
                     Sabtu 12 Desember pukul 08.00 di Puskesmas Dinoyo. Info: https://...",
                )
                .await?;
                return Ok(Collected::NotMine);
            }
            let draft = self
                .start(
                    store,
                    NewDraft {
                        agency: Some(&agency.id),
                        source: "telegram",
                        by: &by,
                        staff: false,
                        text,
                    },
                    Some(&own),
                )
                .await?;
            self.answer(
                store,
                message,
                Some(draft.id),
                &chat_reply(draft.id, &self.review(&draft)),
            )
            .await?;
            return Ok(Collected::Draft(draft.id));
        }
        let Some(parent) = message.reply_to else {
            return Ok(Collected::NotMine);
        };
        let draft = match self
            .by_link(store, &chat_ref(message.chat_id, parent))
            .await?
        {
            Some(id) => Some(id),
            None => self.answered(store, message.chat_id, parent).await?,
        };
        let Some(id) = draft else {
            return Ok(Collected::NotMine);
        };
        let draft = match self
            .add_from_agency(store, id, &by, message.text, Some(&own))
            .await
        {
            Ok(draft) => draft,
            Err(AnnounceError::Closed(state)) => {
                self.answer(
                    store,
                    message,
                    Some(id),
                    &format!(
                        "Draf #{id} sudah {state}; tambahan tidak bisa dimasukkan. Kirim /kabar baru \
                         bila ada perubahan."
                    ),
                )
                .await?;
                return Ok(Collected::Draft(id));
            }
            Err(e) => return Err(e),
        };
        self.answer(
            store,
            message,
            Some(id),
            &chat_reply(id, &self.review(&draft)),
        )
        .await?;
        Ok(Collected::Draft(id))
    }

    /// The draft whose checklist answer is the bot's message `message` in `chat`, once sent.
    async fn answered(
        &self,
        store: &Store,
        chat: i64,
        message: i32,
    ) -> Result<Option<i64>, AnnounceError> {
        let row = sqlx::query(
            "SELECT payload FROM outbox WHERE channel = 'telegram' AND remote_id = $1 \
             AND idempotency_key LIKE $2",
        )
        .bind(message.to_string())
        .bind(format!("tg:kabar:{chat}:%"))
        .fetch_optional(store.pool())
        .await?;
        Ok(row.and_then(|r| {
            serde_json::from_str::<serde_json::Value>(&r.get::<String, _>(0))
                .ok()
                .and_then(|p| p["draft"].as_i64())
        }))
    }

    /// The bot's answer in the chat about `draft`, as a reply to the agency's message, once per
    /// message; the draft rides in the payload so a reply to the answer finds it.
    async fn answer(
        &self,
        store: &Store,
        message: &ChatMessage<'_>,
        draft: Option<i64>,
        text: &str,
    ) -> Result<(), AnnounceError> {
        let payload = serde_json::json!({
            "chat_id": message.chat_id,
            "text": crate::channels::telegram::escape(text),
            "buttons": [],
            "conversation": null,
            "reply_to": message.message_id,
            "draft": draft,
        });
        store
            .enqueue(&NewOutbox {
                channel: "telegram".into(),
                payload: payload.to_string(),
                priority: 10,
                idempotency_key: format!("tg:kabar:{}:{}", message.chat_id, message.message_id),
            })
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_is_read_with_or_without_the_bots_name() {
        assert_eq!(kabar_command("/kabar Vaksin gratis"), Some("Vaksin gratis"));
        assert_eq!(kabar_command("/kabar@PemkotBot  Vaksin"), Some("Vaksin"));
        assert_eq!(kabar_command(" /Kabar"), Some(""));
        assert_eq!(kabar_command("/kabarkan ini"), None);
        assert_eq!(kabar_command("kabar baru"), None);
    }
}
