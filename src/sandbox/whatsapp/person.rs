/*!
A person on WhatsApp, as the control endpoint `POST /sandbox/whatsapp/reply` plays one: they write
text, send an image (media.rs), press a reply button or choose a list row of the bot's interactive message, or press a
quick-reply button of its template. The message is recorded, the 24-hour window opens, and the
bot gets the webhook.
*/

use std::time::Instant;

use serde::Deserialize;
use serde_json::{Map, Value, json};
use tokio::sync::oneshot;

use super::media::ImageInput;
use super::requests::phone_digits;
use super::webhooks::Outcome;
use super::{Kind, MAX_TEXT, Sent, WhatsAppSandbox};
use crate::sandbox::common::now_s;

/// A person's message in `POST /sandbox/whatsapp/reply`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ReplyInput {
    from: String,
    /// The profile name; kept for the number's later messages.
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    text: Option<String>,
    /// An image with its bytes, MIME type and caption.
    #[serde(default)]
    image: Option<ImageInput>,
    /// A press on a reply button of the bot's interactive message `context_id`.
    #[serde(default)]
    button_reply: Option<PressInput>,
    /// A choice of a row of the bot's list message `context_id`.
    #[serde(default)]
    list_reply: Option<PressInput>,
    /// A press on a quick-reply button of the bot's template message `context_id`.
    #[serde(default)]
    button: Option<QuickReplyInput>,
    #[serde(default)]
    context_id: Option<String>,
    /// The person uses a WhatsApp username: the webhook names them by their business-scoped
    /// user id only, without `wa_id` and `from` (Meta, 2026).
    #[serde(default)]
    username_only: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PressInput {
    id: String,
    /// Must match the button's title when given.
    #[serde(default)]
    title: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct QuickReplyInput {
    payload: String,
    /// The button's label; the payload when left out.
    #[serde(default)]
    text: Option<String>,
}

impl WhatsAppSandbox {
    /// A person writes or presses a button: records the message, opens the window and queues the
    /// webhook; answers the message id and a receiver for the delivery's outcome.
    pub(super) fn person_writes(
        &self,
        input: ReplyInput,
    ) -> Result<(String, oneshot::Receiver<Outcome>), String> {
        let number = phone_digits(&input.from).ok_or_else(|| {
            format!(
                "from must be a phone number of 7 to 15 digits, not {:?}",
                input.from
            )
        })?;
        let chosen = [
            input.text.is_some(),
            input.image.is_some(),
            input.button_reply.is_some(),
            input.list_reply.is_some(),
            input.button.is_some(),
        ]
        .iter()
        .filter(|&&given| given)
        .count();
        if chosen != 1 {
            return Err(
                "give exactly one of text, image, button_reply, list_reply and button".to_owned(),
            );
        }
        // Checked before the lock: decoding a few megabytes need not hold up the sandbox.
        let image = input.image.map(ImageInput::checked).transpose()?;
        let mut guard = self.lock();
        let data = &mut *guard;
        let chat = data.chats.entry(number.clone()).or_default();
        // The message the person answers, which must be in this conversation.
        let context = match &input.context_id {
            None => None,
            Some(id) => {
                let known = chat.sent.iter().any(|m| &m.id == id) || chat.received.contains(id);
                if !known {
                    return Err(format!("context_id {id} is not a message with {number}"));
                }
                Some(id.clone())
            }
        };
        let answered = context
            .as_deref()
            .and_then(|id| chat.sent.iter().find(|m| m.id == id));
        let mut message = Map::new();
        if let Some(text) = &input.text {
            let length = text.chars().count();
            if text.trim().is_empty() || length > MAX_TEXT {
                return Err("text must have 1 to 4096 characters".to_owned());
            }
            message.insert("type".to_owned(), json!("text"));
            message.insert("text".to_owned(), json!({ "body": text }));
        } else if let Some(image) = image {
            message.insert("type".to_owned(), json!("image"));
            message.insert("image".to_owned(), self.keep_image(data, image)?);
        } else if let Some(press) = &input.button_reply {
            let sent = pressable(answered, Kind::Interactive, "button_reply")?;
            let button = sent.content["action"]["buttons"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|b| &b["reply"])
                .find(|reply| reply["id"].as_str() == Some(press.id.as_str()))
                .ok_or_else(|| format!("message {} has no reply button {:?}", sent.id, press.id))?;
            let title = button["title"].as_str().unwrap_or_default();
            if press.title.as_deref().is_some_and(|t| t != title) {
                return Err(format!("button {:?} has the title {title:?}", press.id));
            }
            message.insert("type".to_owned(), json!("interactive"));
            message.insert(
                "interactive".to_owned(),
                json!({"type": "button_reply", "button_reply": {"id": press.id, "title": title}}),
            );
        } else if let Some(press) = &input.list_reply {
            let sent = pressable(answered, Kind::Interactive, "list_reply")?;
            let row = sent.content["action"]["sections"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s["rows"].as_array())
                .flatten()
                .find(|row| row["id"].as_str() == Some(press.id.as_str()))
                .ok_or_else(|| format!("message {} has no list row {:?}", sent.id, press.id))?;
            let mut reply = json!({"id": press.id, "title": row["title"]});
            if let Some(description) = row["description"].as_str() {
                reply["description"] = json!(description);
            }
            message.insert("type".to_owned(), json!("interactive"));
            message.insert(
                "interactive".to_owned(),
                json!({"type": "list_reply", "list_reply": reply}),
            );
        } else if let Some(press) = &input.button {
            let sent = pressable(answered, Kind::Template, "button")?;
            let payloads: Vec<&str> = sent.content["components"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|c| {
                    let is = |key: &str, word: &str| {
                        c[key]
                            .as_str()
                            .is_some_and(|v| v.eq_ignore_ascii_case(word))
                    };
                    is("type", "button") && is("sub_type", "quick_reply")
                })
                .filter_map(|c| c["parameters"].as_array())
                .flatten()
                .filter_map(|p| p["payload"].as_str())
                .collect();
            // A template's quick-reply buttons without a payload parameter answer their own
            // text; the sandbox does not know the approved template's buttons, so any payload
            // goes when the bot set none.
            if !payloads.is_empty() && !payloads.contains(&press.payload.as_str()) {
                return Err(format!(
                    "message {} has no quick-reply payload {:?}",
                    sent.id, press.payload
                ));
            }
            let text = press.text.clone().unwrap_or_else(|| press.payload.clone());
            message.insert("type".to_owned(), json!("button"));
            message.insert(
                "button".to_owned(),
                json!({"payload": press.payload, "text": text}),
            );
        }
        if let Some(id) = &context {
            message.insert(
                "context".to_owned(),
                json!({"from": self.settings.display_phone_number, "id": id}),
            );
        }
        let id = self.next_id(data, &number);
        let chat = data.chats.get_mut(&number).expect("entered above");
        if let Some(name) = input.name.filter(|n| !n.trim().is_empty()) {
            chat.name = Some(name);
        }
        let name = chat
            .name
            .clone()
            .unwrap_or_else(|| format!("Warga {}", &number[number.len() - 4..]));
        chat.received.push(id.clone());
        chat.last_inbound = Some(Instant::now());
        let user_id = business_scoped_id(&number);
        let mut contact = json!({"profile": {"name": name}, "user_id": user_id});
        if !input.username_only {
            message.insert("from".to_owned(), json!(number));
            contact["wa_id"] = json!(number);
        }
        message.insert("from_user_id".to_owned(), json!(user_id));
        message.insert("id".to_owned(), json!(id));
        message.insert("timestamp".to_owned(), json!(now_s().to_string()));
        let body = self.envelope(json!({
            "contacts": [contact],
            "messages": [Value::Object(message)],
        }));
        let outcome = self.enqueue(data, "message", body, Instant::now(), None);
        Ok((id, outcome))
    }
}

/// The business-scoped user id Meta gives the person with `number` for this business (an
/// opaque string on WhatsApp; here derived from the number, so it is stable across restarts).
pub(super) fn business_scoped_id(number: &str) -> String {
    let hash = crate::sandbox::common::stable_hash(number.as_bytes());
    format!("ID.{hash:020}")
}

/// The message a press answers: one of the bot's messages of `kind`, not failed.
fn pressable<'a>(answered: Option<&'a Sent>, kind: Kind, what: &str) -> Result<&'a Sent, String> {
    let Some(sent) = answered else {
        return Err(format!(
            "a {what} needs the context_id of the bot's message with the button"
        ));
    };
    if sent.kind != kind {
        return Err(format!(
            "message {} is a {} message, not {}",
            sent.id,
            sent.kind.name(),
            kind.name()
        ));
    }
    if sent.statuses.last() == Some(&"failed") {
        return Err(format!(
            "message {} failed, so the person never saw it",
            sent.id
        ));
    }
    Ok(sent)
}
