/*!
The Telegram control endpoints under `/sandbox/telegram/` (SANDBOX.md): a person writes in a chat
or sends a photo, a document or an album (`send`, media.rs), or presses an inline button
(`press`), and the bot gets the update; what the bot sent to a chat (`messages`) and the
callback answers it gave (`callback-answers`) are read back; faults are injected and the state
reset through the handlers every stand-in shares (sandbox/control.rs).
*/

use std::collections::HashMap;
use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::formatting::bot_commands;
use super::media::{self, DocumentInput, GroupItemInput, PhotoSizeInput, Placement};
use super::{Callback, Chat, Data, MAX_TEXT, Message, Person, TelegramSandbox};
use crate::sandbox::control::{self, Controlled, JsonBody, once};

/// A fault to inject: the next `times` calls of `method` (any method when absent) wait
/// `delay_ms`, then fail with `status` (429 carries `retry_after`) or, without a status, proceed.
#[derive(Debug, Clone, Deserialize)]
pub struct TelegramFault {
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub retry_after: Option<u64>,
    /// Replaces the description, e.g. "Forbidden: bot was blocked by the user".
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default = "once")]
    pub times: u32,
    #[serde(default)]
    pub delay_ms: u64,
}

control::impl_fault!(TelegramFault);

impl Controlled for TelegramSandbox {
    type Fault = TelegramFault;

    fn forget(&self) {
        self.reset();
    }

    fn inject(&self, fault: TelegramFault) {
        self.lock().faults.push(fault);
    }
}

impl TelegramSandbox {
    /// The control endpoints under `/sandbox/telegram/` (SANDBOX.md): act as a person in a chat,
    /// read what the bot sent, inject faults.
    pub fn control_router(&self) -> Router {
        Router::new()
            .route("/sandbox/telegram/messages", get(messages))
            .route(
                "/sandbox/telegram/send",
                post(send).layer(DefaultBodyLimit::max(media::MAX_SEND_BODY)),
            )
            .route("/sandbox/telegram/press", post(press))
            .route("/sandbox/telegram/callback-answers", get(callback_answers))
            .merge(control::shared_routes(
                "/sandbox/telegram/reset",
                "/sandbox/telegram/faults",
            ))
            .with_state(self.clone())
    }

    /// What the bot sent to a chat, in order, as it stands now; the body of
    /// `GET /sandbox/telegram/messages`.
    pub fn messages(&self, chat_id: i64) -> Vec<Value> {
        let data = self.lock();
        let Some(chat) = data.chats.get(&chat_id) else {
            return Vec::new();
        };
        chat.messages
            .values()
            .filter(|m| m.sender.is_none())
            .map(|m| {
                let mut v = json!({
                    "message_id": m.id,
                    "text": m.text,
                    "reply_markup": m.reply_markup.clone().unwrap_or(Value::Null),
                    "date": m.date,
                    "edited": m.edit_date.is_some(),
                });
                if !m.entities.is_empty() {
                    v["entities"] = json!(m.entities);
                }
                if let Some(reply_to) = m.reply_to {
                    v["reply_to_message_id"] = json!(reply_to);
                }
                if let Some(thread_id) = m.thread_id {
                    v["message_thread_id"] = json!(thread_id);
                }
                if let Some((_, source)) = &m.photo {
                    v["photo"] = json!(source);
                }
                v
            })
            .collect()
    }
}

/// A person in the control endpoints' JSON.
#[derive(Debug, Deserialize)]
struct PersonInput {
    id: i64,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    last_name: Option<String>,
    #[serde(default)]
    language_code: Option<String>,
}

#[derive(Debug, Deserialize)]
struct SendInput {
    chat_id: i64,
    /// Optional in a private chat, where the person is the chat.
    #[serde(default)]
    from: Option<PersonInput>,
    /// A text message; or one of `photo`, `document` and `media_group`.
    #[serde(default)]
    text: Option<String>,
    /// The sizes of one photo, each with its bytes (media.rs).
    #[serde(default)]
    photo: Option<Vec<PhotoSizeInput>>,
    #[serde(default)]
    document: Option<DocumentInput>,
    /// An album: 2 to 10 photos or documents.
    #[serde(default)]
    media_group: Option<Vec<GroupItemInput>>,
    /// A photo's or document's caption; an album's goes on its first message.
    #[serde(default)]
    caption: Option<String>,
    #[serde(default)]
    reply_to_message_id: Option<i64>,
    #[serde(default)]
    message_thread_id: Option<i64>,
    /// Renames a group.
    #[serde(default)]
    title: Option<String>,
}

#[derive(Debug, Deserialize)]
struct PressInput {
    chat_id: i64,
    message_id: i64,
    #[serde(default)]
    from: Option<PersonInput>,
    data: String,
}

/// Who acts in a chat: in a private chat the person is the chat (`from` may be left out).
fn person_in(data: &Data, chat_id: i64, from: Option<PersonInput>) -> Result<Person, String> {
    let Some(from) = from else {
        if chat_id > 0 {
            return Ok(data
                .people
                .get(&chat_id)
                .cloned()
                .unwrap_or_else(|| Person {
                    id: chat_id,
                    username: None,
                    first_name: format!("User {chat_id}"),
                    last_name: None,
                    language_code: None,
                }));
        }
        return Err("from is required in a group".to_owned());
    };
    if from.id <= 0 {
        return Err("from.id must be a positive user id".to_owned());
    }
    if chat_id > 0 && from.id != chat_id {
        return Err("in a private chat, from.id must equal chat_id".to_owned());
    }
    let first_name = from
        .first_name
        .clone()
        .or_else(|| from.username.clone())
        .unwrap_or_else(|| format!("User {}", from.id));
    Ok(Person {
        id: from.id,
        username: from.username,
        first_name,
        last_name: from.last_name,
        language_code: from.language_code,
    })
}

/// Records the person and makes sure the chat exists.
fn enter_chat(data: &mut Data, chat_id: i64, person: &Person) {
    data.people.insert(person.id, person.clone());
    let chat = data.chats.entry(chat_id).or_insert_with(|| {
        if chat_id > 0 {
            Chat::private(person.clone())
        } else {
            Chat::group(chat_id)
        }
    });
    if chat.is_private() {
        chat.person = Some(person.clone());
    }
}

/// What a person sends: text, or media (checked, with its caption).
enum Content {
    Text(String),
    Media(Vec<media::Item>, Option<String>),
}

impl Content {
    fn of(input: &mut SendInput) -> Result<Content, String> {
        let (photo, document, group) = (
            input.photo.take(),
            input.document.take(),
            input.media_group.take(),
        );
        let caption = input.caption.take();
        let Some(text) = input.text.take() else {
            if let Some(caption) = &caption {
                media::check_caption(caption)?;
            }
            return Ok(Content::Media(
                media::items(photo, document, group)?,
                caption,
            ));
        };
        if photo.is_some() || document.is_some() || group.is_some() {
            return Err("give exactly one of text, photo, document and media_group".to_owned());
        }
        if caption.is_some() {
            return Err("a caption goes with a photo, a document or a media_group".to_owned());
        }
        let length = text.chars().count();
        if text.trim().is_empty() || length > MAX_TEXT {
            return Err("text must have 1 to 4096 characters".to_owned());
        }
        Ok(Content::Text(text))
    }
}

async fn send(
    State(sandbox): State<TelegramSandbox>,
    JsonBody(mut input): JsonBody<SendInput>,
) -> Response {
    if input.chat_id == 0 {
        return control::bad_request("chat_id must not be 0");
    }
    let content = match Content::of(&mut input) {
        Ok(content) => content,
        Err(message) => return control::bad_request(&message),
    };
    let mut guard = sandbox.lock();
    let data = &mut *guard;
    let person = match person_in(data, input.chat_id, input.from) {
        Ok(person) => person,
        Err(message) => return control::bad_request(&message),
    };
    enter_chat(data, input.chat_id, &person);
    let chat = data.chats.get_mut(&input.chat_id).expect("entered");
    if let Some(title) = input.title.filter(|t| !t.is_empty() && input.chat_id < 0) {
        chat.title = title;
    }
    let replied = match input.reply_to_message_id {
        None => None,
        Some(id) => match chat.messages.get(&id) {
            Some(m) => Some(m),
            None => {
                return control::bad_request(&format!(
                    "message {id} is not in chat {}",
                    input.chat_id
                ));
            }
        },
    };
    // A reply inside a forum topic belongs to the topic, as on Telegram.
    let thread_id = input
        .message_thread_id
        .or_else(|| replied.and_then(|m| m.thread_id));
    let (items, caption) = match content {
        Content::Text(text) => {
            let entities = bot_commands(&text);
            let message = Message {
                thread_id,
                reply_to: input.reply_to_message_id,
                ..Message::new(Some(person), text, entities)
            };
            let json = sandbox.store(data, input.chat_id, message);
            let message_id = json["message_id"].clone();
            let update_id = sandbox.queue(data, "message", json);
            drop(guard);
            sandbox.notify.notify_waiters();
            return axum::Json(
                json!({"ok": true, "message_id": message_id, "update_id": update_id}),
            )
            .into_response();
        }
        Content::Media(items, caption) => (items, caption),
    };
    let place = Placement {
        chat_id: input.chat_id,
        reply_to: input.reply_to_message_id,
        thread_id,
    };
    let stored = sandbox.media_messages(data, &person, place, items, caption);
    drop(guard);
    let (messages, updates) = match stored {
        Ok(stored) => stored,
        Err(message) => return control::error(StatusCode::INSUFFICIENT_STORAGE, &message),
    };
    sandbox.notify.notify_waiters();
    let ids: Vec<Value> = messages.iter().map(|m| m["message_id"].clone()).collect();
    let mut answer = json!({
        "ok": true,
        "message_id": ids[0],
        "update_id": updates[0],
        "message_ids": ids,
        "update_ids": updates,
        "messages": messages,
    });
    if let Some(group) = messages[0].get("media_group_id") {
        answer["media_group_id"] = group.clone();
    }
    axum::Json(answer).into_response()
}

async fn press(
    State(sandbox): State<TelegramSandbox>,
    JsonBody(input): JsonBody<PressInput>,
) -> Response {
    let mut guard = sandbox.lock();
    let data = &mut *guard;
    let Some(chat) = data.chats.get(&input.chat_id) else {
        return control::bad_request(&format!("chat {} is unknown", input.chat_id));
    };
    let Some(message) = chat.messages.get(&input.message_id) else {
        return control::bad_request(&format!(
            "message {} is not in chat {}",
            input.message_id, input.chat_id
        ));
    };
    let has_button = message.sender.is_none()
        && message.reply_markup.as_ref().is_some_and(|markup| {
            markup["inline_keyboard"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_array)
                .flatten()
                .any(|b| b["callback_data"].as_str() == Some(input.data.as_str()))
        });
    if !has_button {
        return control::bad_request(&format!(
            "message {} has no inline button with callback_data {:?}",
            input.message_id, input.data
        ));
    }
    let person = match person_in(data, input.chat_id, input.from) {
        Ok(person) => person,
        Err(message) => return control::bad_request(&message),
    };
    enter_chat(data, input.chat_id, &person);
    data.last_callback += 1;
    let id = format!("{}{:08}", sandbox.settings.bot_id(), data.last_callback);
    let chat = &data.chats[&input.chat_id];
    let message = sandbox.message_json(chat, &chat.messages[&input.message_id], true);
    // Telegram's chat_instance is an opaque number fixed per chat.
    let chat_instance = (input.chat_id.wrapping_mul(0x5851_F42D_4C95_7F2D) >> 1).to_string();
    let query = json!({
        "id": id,
        "from": person.json(),
        "message": message,
        "chat_instance": chat_instance,
        "data": input.data,
    });
    data.callbacks.insert(
        id.clone(),
        Callback {
            created: Instant::now(),
            answered: false,
            chat_id: input.chat_id,
            message_id: input.message_id,
            data: input.data,
            from_id: person.id,
        },
    );
    let update_id = sandbox.queue(data, "callback_query", query);
    drop(guard);
    sandbox.notify.notify_waiters();
    axum::Json(json!({"ok": true, "callback_query_id": id, "update_id": update_id})).into_response()
}

async fn messages(
    State(sandbox): State<TelegramSandbox>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(chat_id) = query.get("chat_id").and_then(|id| id.parse::<i64>().ok()) else {
        return control::bad_request("chat_id must be an integer");
    };
    axum::Json(sandbox.messages(chat_id)).into_response()
}

async fn callback_answers(State(sandbox): State<TelegramSandbox>) -> Response {
    axum::Json(sandbox.lock().callback_answers.clone()).into_response()
}
