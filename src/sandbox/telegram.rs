//! The Telegram Bot API stand-in: `getMe`, long-polled `getUpdates`, webhooks with their secret
//! header, `sendMessage` with Telegram's HTML parse mode and inline keyboards, edits, callback
//! queries, `sendPhoto`, bot commands and forum topics, Telegram's flood limits, and fault
//! injection. Shapes follow data/telegram/api.json; errors carry Telegram's exact descriptions.
//!
//! This module implements the published formats on its own (its own HTML parser, modelled on the
//! one Telegram's servers run, tdlib's `parse_html`; plain `serde_json` values instead of the bot
//! client's types), so that a mistake shared by the client and the stand-in cannot hide.
//!
//! Choices where Telegram's behaviour is not observable from outside:
//! - A private chat exists once its person wrote through `POST /sandbox/telegram/send`; before
//!   that, sending to it answers `Bad Request: chat not found`, as Telegram does for a user who
//!   never started the bot. Every negative id is a supergroup the bot is already in, so the staff
//!   group and the agency chats configured in bot.toml work before anyone writes there.
//! - Update ids follow the clock (four per second since 2025) and never go back, so a bot that
//!   kept its `offset` across a sandbox restart does not drop new updates as already confirmed.
//!   They stay far below 2^31, as teloxide sends `offset` as an `i32`.
//! - Webhook URLs may be plain `http://` (the bot listens on loopback); Telegram demands HTTPS.
//! - A callback query can be answered once, within 15 seconds.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tokio::sync::Notify;

use crate::sandbox::common::{now_s, percent_decode, webhook_client};
use crate::sandbox::control::{self, Controlled, Faults, JsonBody, once};

/// Longest message text, in characters, after entity parsing.
const MAX_TEXT: usize = 4096;
/// Longest media caption, in characters, after entity parsing.
const MAX_CAPTION: usize = 1024;
/// Longest `callback_data` of an inline button, in bytes.
const MAX_CALLBACK_DATA: usize = 64;
/// Longest text of an `answerCallbackQuery`, in characters.
const MAX_CALLBACK_ANSWER: usize = 200;
/// Longest long poll the sandbox holds; teloxide's HTTP client gives up after 17 seconds.
const MAX_POLL_TIMEOUT_S: i64 = 50;
/// How long a callback query can be answered. Telegram does not document the window; its
/// clients stop waiting for an answer after about 15 seconds.
const CALLBACK_ANSWER_WINDOW: Duration = Duration::from_secs(15);
/// Messages a chat takes at once before the one-per-second pace applies ("short bursts").
const CHAT_BURST: f64 = 3.0;
/// The sustained pace per chat, messages per second (core.telegram.org/bots/faq).
const CHAT_PER_SECOND: f64 = 1.0;
/// Delivery attempts per update before a webhook's failure is recorded and the update dropped.
const WEBHOOK_ATTEMPTS: u32 = 4;
/// 2025-01-01T00:00:00Z, the origin of clock-based update ids.
const UPDATE_ID_EPOCH_S: i64 = 1_735_689_600;
/// Update ids the clock adds per second.
const UPDATE_IDS_PER_SECOND: i64 = 4;
/// Telegram's exact description for an edit that changes nothing.
const NOT_MODIFIED: &str = "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message";
/// Telegram's exact description for an unknown, expired or answered callback query.
const QUERY_TOO_OLD: &str = "query is too old and response timeout expired or query ID is invalid";
/// The HTML tags Telegram's parse mode accepts.
const SUPPORTED_TAGS: [&str; 16] = [
    "a",
    "b",
    "strong",
    "i",
    "em",
    "s",
    "strike",
    "del",
    "u",
    "ins",
    "tg-spoiler",
    "tg-emoji",
    "span",
    "pre",
    "code",
    "blockquote",
];
/// Inline button fields that give the button an action; a button needs exactly one.
const BUTTON_ACTIONS: [&str; 10] = [
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
];

/// The sandbox's bot (public values: they protect nothing) and its limits.
#[derive(Debug, Clone)]
pub struct TelegramSettings {
    /// The bot token, `<bot id>:<secret>`, e.g. "123456:sandbox-telegram-token". Requests with
    /// any other token get Telegram's 401.
    pub token: String,
    /// The bot's username, without `@`; also its first name.
    pub bot_username: String,
    /// Whether Telegram's flood limits apply: per chat a short burst, then one message per
    /// second; per group also `group_messages_per_minute`. Tests that send fast turn them off.
    pub flood_limits: bool,
    /// Messages the bot may send to one group per minute (Telegram: 20).
    pub group_messages_per_minute: u32,
}

impl Default for TelegramSettings {
    fn default() -> Self {
        TelegramSettings {
            token: "123456:sandbox-telegram-token".to_owned(),
            bot_username: "kicau_sandbox_bot".to_owned(),
            flood_limits: true,
            group_messages_per_minute: 20,
        }
    }
}

impl TelegramSettings {
    /// The bot's user id: the number before the token's `:`.
    fn bot_id(&self) -> i64 {
        self.token
            .split(':')
            .next()
            .and_then(|id| id.parse().ok())
            .unwrap_or(0)
    }
}

/// The shared state of one Telegram sandbox. Clones share it.
#[derive(Clone)]
pub struct TelegramSandbox {
    settings: Arc<TelegramSettings>,
    data: Arc<Mutex<Data>>,
    /// Wakes long polls and the webhook worker when updates arrive or the webhook changes.
    notify: Arc<Notify>,
    /// Delivers webhooks.
    http: reqwest::Client,
}

/// A person writing to the bot.
#[derive(Debug, Clone)]
struct Person {
    id: i64,
    username: Option<String>,
    first_name: String,
    last_name: Option<String>,
    language_code: Option<String>,
}

impl Person {
    fn json(&self) -> Value {
        let mut user = json!({"id": self.id, "is_bot": false, "first_name": self.first_name});
        if let Some(last_name) = &self.last_name {
            user["last_name"] = json!(last_name);
        }
        if let Some(username) = &self.username {
            user["username"] = json!(username);
        }
        if let Some(language_code) = &self.language_code {
            user["language_code"] = json!(language_code);
        }
        user
    }
}

#[derive(Debug, Clone)]
struct Chat {
    id: i64,
    /// A group's title.
    title: String,
    /// The other side of a private chat.
    person: Option<Person>,
    is_forum: bool,
    last_message_id: i64,
    messages: BTreeMap<i64, Message>,
}

impl Chat {
    fn group(id: i64) -> Chat {
        Chat {
            id,
            title: format!("Sandbox group {id}"),
            person: None,
            is_forum: false,
            last_message_id: 0,
            messages: BTreeMap::new(),
        }
    }

    fn private(person: Person) -> Chat {
        Chat {
            id: person.id,
            title: String::new(),
            person: Some(person),
            is_forum: false,
            last_message_id: 0,
            messages: BTreeMap::new(),
        }
    }

    fn is_private(&self) -> bool {
        self.id > 0
    }

    fn json(&self) -> Value {
        match &self.person {
            Some(person) => {
                let mut chat =
                    json!({"id": self.id, "type": "private", "first_name": person.first_name});
                if let Some(last_name) = &person.last_name {
                    chat["last_name"] = json!(last_name);
                }
                if let Some(username) = &person.username {
                    chat["username"] = json!(username);
                }
                chat
            }
            None => {
                let mut chat = json!({"id": self.id, "type": "supergroup", "title": self.title});
                if self.is_forum {
                    chat["is_forum"] = json!(true);
                }
                chat
            }
        }
    }
}

#[derive(Debug, Clone)]
struct Message {
    id: i64,
    date: i64,
    /// `None` for the bot's own messages.
    sender: Option<Person>,
    thread_id: Option<i64>,
    /// The text, or a photo's caption; without tags.
    text: String,
    entities: Vec<Value>,
    /// A photo's sizes, and what the bot sent as `photo` (URL or file id).
    photo: Option<(Vec<Value>, String)>,
    /// A non-empty inline keyboard.
    reply_markup: Option<Value>,
    reply_to: Option<i64>,
    link_preview_options: Option<Value>,
    edit_date: Option<i64>,
}

/// A callback query waiting for its answer.
#[derive(Debug, Clone)]
struct Callback {
    created: Instant,
    answered: bool,
    chat_id: i64,
    message_id: i64,
    data: String,
    from_id: i64,
}

/// A webhook set with `setWebhook`; `generation` tells its delivery worker it is still current.
#[derive(Debug, Clone)]
struct Webhook {
    url: String,
    secret: Option<String>,
    max_connections: i64,
    generation: u64,
}

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

#[derive(Default)]
struct Data {
    chats: HashMap<i64, Chat>,
    /// Everyone who wrote or pressed, for `tg://user?id=` links.
    people: HashMap<i64, Person>,
    /// Unconfirmed updates, oldest first.
    updates: VecDeque<Value>,
    last_update_id: i64,
    /// Update kinds the bot asked for; `None` means all.
    allowed_updates: Option<Vec<String>>,
    webhook: Option<Webhook>,
    webhook_generation: u64,
    /// Unix time and text of the last failed webhook delivery.
    webhook_error: Option<(i64, String)>,
    /// Counts getUpdates calls, so a newer call can end an older one, as on Telegram.
    poll_generation: u64,
    callbacks: HashMap<String, Callback>,
    callback_answers: Vec<Value>,
    last_callback: u64,
    /// Bot commands by scope and language.
    commands: BTreeMap<String, Value>,
    /// File ids the sandbox issued for photos.
    files: HashSet<String>,
    last_file: u64,
    faults: Faults<TelegramFault>,
    flood: HashMap<i64, FloodGate>,
}

/// A Bot API error: `{"ok":false,"error_code":...,"description":...}`.
#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    description: String,
    retry_after: Option<u64>,
}

impl ApiError {
    fn new(status: u16, description: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            description: description.into(),
            retry_after: None,
        }
    }

    fn bad(reason: &str) -> ApiError {
        ApiError::new(400, format!("Bad Request: {reason}"))
    }

    fn flood(retry_after: u64) -> ApiError {
        ApiError {
            status: StatusCode::TOO_MANY_REQUESTS,
            description: format!("Too Many Requests: retry after {retry_after}"),
            retry_after: Some(retry_after),
        }
    }

    fn webhook_active() -> ApiError {
        ApiError::new(
            409,
            "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({
            "ok": false,
            "error_code": self.status.as_u16(),
            "description": self.description,
        });
        if let Some(seconds) = self.retry_after {
            body["parameters"] = json!({"retry_after": seconds});
        }
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

type Outcome = Result<Value, ApiError>;

impl TelegramSandbox {
    pub fn new(settings: TelegramSettings) -> TelegramSandbox {
        TelegramSandbox {
            settings: Arc::new(settings),
            data: Arc::new(Mutex::new(Data::default())),
            notify: Arc::new(Notify::new()),
            http: webhook_client(None),
        }
    }

    /// Forgets chats, messages, updates, the webhook, faults and flood counters. Update ids keep
    /// growing, so an offset the bot holds stays meaningful.
    pub fn reset(&self) {
        let mut data = self.lock();
        *data = Data {
            last_update_id: data.last_update_id,
            webhook_generation: data.webhook_generation + 1,
            poll_generation: data.poll_generation,
            last_callback: data.last_callback,
            last_file: data.last_file,
            ..Data::default()
        };
        drop(data);
        self.notify.notify_waiters();
    }

    /// The bot's user id (the number before the token's `:`).
    pub fn bot_id(&self) -> i64 {
        self.settings.bot_id()
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

    /// The Bot API: `GET` or `POST /bot<token>/<method>`, as Telegram serves it.
    pub fn api_router(&self) -> Router {
        Router::new()
            .route("/{bot_token}/{method}", get(api_call).post(api_call))
            .fallback(not_found)
            // Telegram takes photos up to 10 MB.
            .layer(DefaultBodyLimit::max(20 * 1024 * 1024))
            .with_state(self.clone())
    }

    /// The control endpoints under `/sandbox/telegram/` (SANDBOX.md): act as a person in a chat,
    /// read what the bot sent, inject faults.
    pub fn control_router(&self) -> Router {
        Router::new()
            .route("/sandbox/telegram/messages", get(control_messages))
            .route("/sandbox/telegram/send", post(control_send))
            .route("/sandbox/telegram/press", post(control_press))
            .route("/sandbox/telegram/callback-answers", get(control_answers))
            .merge(control::shared_routes(
                "/sandbox/telegram/reset",
                "/sandbox/telegram/faults",
            ))
            .with_state(self.clone())
    }

    fn lock(&self) -> MutexGuard<'_, Data> {
        self.data.lock().expect("telegram sandbox lock")
    }

    fn bot_json(&self) -> Value {
        json!({
            "id": self.settings.bot_id(),
            "is_bot": true,
            "first_name": self.settings.bot_username,
            "username": self.settings.bot_username,
        })
    }

    /// A stored message as the Bot API shows it; the replied-to message is nested one level
    /// deep, as Telegram does.
    fn message_json(&self, chat: &Chat, m: &Message, with_reply: bool) -> Value {
        let from = match &m.sender {
            Some(person) => person.json(),
            None => self.bot_json(),
        };
        let mut v = json!({"message_id": m.id, "from": from, "chat": chat.json(), "date": m.date});
        if let Some(thread_id) = m.thread_id {
            v["message_thread_id"] = json!(thread_id);
            v["is_topic_message"] = json!(true);
        }
        if with_reply && let Some(replied) = m.reply_to.and_then(|id| chat.messages.get(&id)) {
            v["reply_to_message"] = self.message_json(chat, replied, false);
        }
        if let Some(edit_date) = m.edit_date {
            v["edit_date"] = json!(edit_date);
        }
        match &m.photo {
            Some((sizes, _)) => {
                v["photo"] = json!(sizes);
                if !m.text.is_empty() {
                    v["caption"] = json!(m.text);
                }
                if !m.entities.is_empty() {
                    v["caption_entities"] = json!(m.entities);
                }
            }
            None => {
                v["text"] = json!(m.text);
                if !m.entities.is_empty() {
                    v["entities"] = json!(m.entities);
                }
                if let Some(options) = &m.link_preview_options {
                    v["link_preview_options"] = options.clone();
                }
            }
        }
        if let Some(markup) = &m.reply_markup {
            v["reply_markup"] = markup.clone();
        }
        v
    }

    /// Gives the message the chat's next id, stores it and answers it as the Bot API does.
    fn store(&self, data: &mut Data, chat_id: i64, mut message: Message) -> Value {
        let chat = data.chats.get_mut(&chat_id).expect("chat resolved");
        chat.last_message_id += 1;
        message.id = chat.last_message_id;
        if message.thread_id.is_some() && !chat.is_private() {
            chat.is_forum = true;
        }
        let id = message.id;
        chat.messages.insert(id, message);
        self.message_json(chat, &chat.messages[&id], true)
    }

    /// Queues an update unless the bot's `allowed_updates` leaves its kind out.
    fn queue(&self, data: &mut Data, kind: &str, payload: Value) -> Option<i64> {
        if let Some(allowed) = &data.allowed_updates
            && !allowed.iter().any(|a| a == kind)
        {
            return None;
        }
        let clock = (now_s() - UPDATE_ID_EPOCH_S).max(0) * UPDATE_IDS_PER_SECOND;
        let id = clock.max(data.last_update_id + 1);
        data.last_update_id = id;
        let mut update = Map::new();
        update.insert("update_id".to_owned(), json!(id));
        update.insert(kind.to_owned(), payload);
        data.updates.push_back(Value::Object(update));
        Some(id)
    }

    /// Applies the flood limits to one more message for the chat.
    fn admit(&self, data: &mut Data, chat_id: i64) -> Result<(), ApiError> {
        if !self.settings.flood_limits {
            return Ok(());
        }
        let per_minute = (chat_id < 0).then_some(self.settings.group_messages_per_minute);
        data.flood
            .entry(chat_id)
            .or_default()
            .admit(Instant::now(), per_minute)
            .map_err(ApiError::flood)
    }

    /// Takes the next injected fault for the method, if any.
    fn take_fault(&self, method: &str) -> Option<TelegramFault> {
        self.lock()
            .faults
            .take(|f| control::method_hits(f.method.as_deref(), method))
    }

    async fn call(&self, method: &str, p: &Params) -> Outcome {
        match method {
            "getme" => Ok(self.get_me()),
            "getupdates" => self.get_updates(p).await,
            "getwebhookinfo" => Ok(self.webhook_info()),
            "setwebhook" => self.set_webhook(p),
            "deletewebhook" => self.delete_webhook(p.flag("drop_pending_updates")),
            "sendmessage" => self.send_message(p),
            "sendphoto" => self.send_photo(p),
            "editmessagetext" => self.edit_message_text(p),
            "editmessagereplymarkup" => self.edit_message_reply_markup(p),
            "answercallbackquery" => self.answer_callback_query(p),
            "deletemessage" => self.delete_message(p),
            "sendchataction" => {
                target_chat(&mut self.lock(), p)?;
                Ok(json!(true))
            }
            "setmycommands" => self.set_my_commands(p),
            "getmycommands" => Ok(self
                .lock()
                .commands
                .get(&commands_key(p)?)
                .cloned()
                .unwrap_or_else(|| json!([]))),
            "deletemycommands" => {
                let key = commands_key(p)?;
                self.lock().commands.remove(&key);
                Ok(json!(true))
            }
            "createforumtopic" => self.create_forum_topic(p),
            _ => Err(ApiError::new(404, "Not Found: method not found")),
        }
    }

    fn get_me(&self) -> Value {
        let mut me = self.bot_json();
        me["can_join_groups"] = json!(true);
        me["can_read_all_group_messages"] = json!(false);
        me["supports_inline_queries"] = json!(false);
        me["can_connect_to_business"] = json!(false);
        me["has_main_web_app"] = json!(false);
        me
    }

    // --- Updates ----------------------------------------------------------------------------

    /// Long polling: confirms updates below `offset`, then answers at once when updates are
    /// pending, or waits up to `timeout` seconds for one. A newer call ends an older waiting one
    /// with Telegram's 409, which catches two bot instances polling at once.
    async fn get_updates(&self, p: &Params) -> Outcome {
        let offset = p.int("offset")?.unwrap_or(0);
        let limit = p.int("limit")?.unwrap_or(100).clamp(1, 100) as usize;
        let timeout = p.int("timeout")?.unwrap_or(0).clamp(0, MAX_POLL_TIMEOUT_S) as u64;
        let allowed = allowed_updates(p)?;
        let generation = {
            let mut data = self.lock();
            if data.webhook.is_some() {
                return Err(ApiError::webhook_active());
            }
            if let Some(allowed) = allowed {
                data.allowed_updates = allowed;
            }
            if offset > 0 {
                while data
                    .updates
                    .front()
                    .is_some_and(|u| u["update_id"].as_i64().unwrap_or(0) < offset)
                {
                    data.updates.pop_front();
                }
            } else if offset < 0 {
                let keep = offset.unsigned_abs() as usize;
                while data.updates.len() > keep {
                    data.updates.pop_front();
                }
            }
            data.poll_generation += 1;
            data.poll_generation
        };
        // An older poll still waiting learns it was replaced.
        self.notify.notify_waiters();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout);
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            // Registered before looking, so an update queued in between still wakes this poll.
            notified.as_mut().enable();
            {
                let data = self.lock();
                if data.poll_generation != generation {
                    return Err(ApiError::new(
                        409,
                        "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                    ));
                }
                if data.webhook.is_some() {
                    return Err(ApiError::webhook_active());
                }
                if !data.updates.is_empty() || tokio::time::Instant::now() >= deadline {
                    return Ok(json!(
                        data.updates.iter().take(limit).cloned().collect::<Vec<_>>()
                    ));
                }
            }
            // On timeout the next round answers with whatever is there (nothing).
            let _ = tokio::time::timeout_at(deadline, notified).await;
        }
    }

    fn webhook_info(&self) -> Value {
        let data = self.lock();
        let mut info = json!({
            "url": data.webhook.as_ref().map(|w| w.url.clone()).unwrap_or_default(),
            "has_custom_certificate": false,
            "pending_update_count": data.updates.len(),
        });
        if let Some(webhook) = &data.webhook {
            info["max_connections"] = json!(webhook.max_connections);
            info["ip_address"] = json!("127.0.0.1");
        }
        if let Some(allowed) = &data.allowed_updates {
            info["allowed_updates"] = json!(allowed);
        }
        if let Some((date, message)) = &data.webhook_error {
            info["last_error_date"] = json!(date);
            info["last_error_message"] = json!(message);
        }
        info
    }

    fn set_webhook(&self, p: &Params) -> Outcome {
        let url = p.string("url").unwrap_or_default();
        if url.is_empty() {
            return self.delete_webhook(p.flag("drop_pending_updates"));
        }
        let parsed = reqwest::Url::parse(&url).ok().filter(|u| {
            matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty())
        });
        if parsed.is_none() {
            return Err(ApiError::bad(
                "bad webhook: An HTTPS URL must be provided for webhook",
            ));
        }
        let secret = p.string("secret_token").filter(|s| !s.is_empty());
        if let Some(secret) = &secret
            && (secret.len() > 256
                || !secret
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        {
            return Err(ApiError::bad("secret token contains unallowed characters"));
        }
        let max_connections = p.int("max_connections")?.unwrap_or(40).clamp(1, 100);
        let allowed = allowed_updates(p)?;
        let mut data = self.lock();
        if p.flag("drop_pending_updates") {
            data.updates.clear();
        }
        if let Some(allowed) = allowed {
            data.allowed_updates = allowed;
        }
        // Setting the same hook again keeps its worker, so no update is delivered twice.
        if let Some(current) = &mut data.webhook
            && current.url == url
            && current.secret == secret
        {
            current.max_connections = max_connections;
            return Ok(json!(true));
        }
        data.webhook_generation += 1;
        let generation = data.webhook_generation;
        data.webhook = Some(Webhook {
            url,
            secret,
            max_connections,
            generation,
        });
        data.webhook_error = None;
        drop(data);
        self.notify.notify_waiters();
        tokio::spawn(self.clone().deliver_webhooks(generation));
        Ok(json!(true))
    }

    fn delete_webhook(&self, drop_pending: bool) -> Outcome {
        let mut data = self.lock();
        if drop_pending {
            data.updates.clear();
        }
        if data.webhook.take().is_some() {
            data.webhook_generation += 1;
        }
        drop(data);
        self.notify.notify_waiters();
        Ok(json!(true))
    }

    /// Delivers pending updates to the webhook one at a time, in order, until the webhook is
    /// replaced or deleted. A non-2xx answer is retried a few times with growing pauses; then the
    /// failure shows in getWebhookInfo and the update is dropped, so one bad update cannot block
    /// the queue forever.
    async fn deliver_webhooks(self, generation: u64) {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let next = {
                let data = self.lock();
                let Some(webhook) = data.webhook.as_ref().filter(|w| w.generation == generation)
                else {
                    return;
                };
                data.updates
                    .front()
                    .map(|u| (u.clone(), webhook.url.clone(), webhook.secret.clone()))
            };
            let Some((update, url, secret)) = next else {
                notified.await;
                continue;
            };
            let mut failure = None;
            for attempt in 0..WEBHOOK_ATTEMPTS {
                if attempt > 0 {
                    tokio::time::sleep(Duration::from_millis(100 * 4u64.pow(attempt - 1))).await;
                    if !self.webhook_is(generation) {
                        return;
                    }
                }
                let mut request = self.http.post(&url).json(&update);
                if let Some(secret) = &secret {
                    request = request.header("X-Telegram-Bot-Api-Secret-Token", secret);
                }
                failure = match request.send().await {
                    Ok(response) if response.status().is_success() => None,
                    Ok(response) => Some(format!(
                        "Wrong response from the webhook: {}",
                        response.status()
                    )),
                    Err(e) if e.is_connect() => Some("Connection refused".to_owned()),
                    Err(e) if e.is_timeout() => Some("Read timeout expired".to_owned()),
                    Err(e) => Some(format!("Connection failed: {e}")),
                };
                if failure.is_none() {
                    break;
                }
            }
            let mut data = self.lock();
            if data
                .webhook
                .as_ref()
                .is_none_or(|w| w.generation != generation)
            {
                return;
            }
            if data.updates.front().map(|u| &u["update_id"]) == Some(&update["update_id"]) {
                data.updates.pop_front();
            }
            if let Some(message) = failure {
                tracing::warn!(%url, %message, "telegram sandbox: webhook delivery failed");
                data.webhook_error = Some((now_s(), message));
            }
        }
    }

    fn webhook_is(&self, generation: u64) -> bool {
        self.lock()
            .webhook
            .as_ref()
            .is_some_and(|w| w.generation == generation)
    }

    // --- Messages ---------------------------------------------------------------------------

    fn send_message(&self, p: &Params) -> Outcome {
        let markup = reply_markup(p, false)?;
        let link_preview_options = p.object("link_preview_options")?;
        let mut guard = self.lock();
        let data = &mut *guard;
        let chat_id = target_chat(data, p)?;
        let (text, entities) = formatted(&data.people, p, Field::Text)?;
        let chat = &data.chats[&chat_id];
        let thread_id = thread_param(chat, p)?;
        let reply_to = reply_target(chat, p)?;
        self.admit(data, chat_id)?;
        let message = Message {
            id: 0,
            date: now_s(),
            sender: None,
            thread_id,
            text,
            entities,
            photo: None,
            reply_markup: markup,
            reply_to,
            link_preview_options,
            edit_date: None,
        };
        Ok(self.store(data, chat_id, message))
    }

    /// A photo by URL, by a file id the sandbox issued, or uploaded (multipart). The sandbox
    /// fetches nothing: any http(s) URL is taken as a photo.
    fn send_photo(&self, p: &Params) -> Outcome {
        let markup = reply_markup(p, false)?;
        let mut guard = self.lock();
        let data = &mut *guard;
        let chat_id = target_chat(data, p)?;
        let (caption, entities) = formatted(&data.people, p, Field::Caption)?;
        let source = p.string("photo").unwrap_or_default();
        let upload = source
            .strip_prefix("attach://")
            .and_then(|name| p.uploads.get(name))
            .or_else(|| p.uploads.get("photo"));
        let (file_id, size) = if let Some(bytes) = upload {
            (None, bytes.len())
        } else if source.starts_with("http://") || source.starts_with("https://") {
            (None, 0)
        } else if data.files.contains(&source) {
            (Some(source.clone()), 0)
        } else if source.is_empty() {
            return Err(ApiError::bad("there is no photo in the request"));
        } else {
            return Err(ApiError::bad("wrong file identifier/HTTP URL specified"));
        };
        let chat = &data.chats[&chat_id];
        let thread_id = thread_param(chat, p)?;
        let reply_to = reply_target(chat, p)?;
        self.admit(data, chat_id)?;
        let file_id = file_id.unwrap_or_else(|| {
            data.last_file += 1;
            let id = format!("sbx-photo-{}", data.last_file);
            data.files.insert(id.clone());
            id
        });
        let sizes = vec![json!({
            "file_id": file_id,
            "file_unique_id": format!("sbxu-{file_id}"),
            "file_size": size,
            "width": 800,
            "height": 600,
        })];
        let source = if upload.is_some() {
            file_id.clone()
        } else {
            source
        };
        let message = Message {
            id: 0,
            date: now_s(),
            sender: None,
            thread_id,
            text: caption,
            entities,
            photo: Some((sizes, source)),
            reply_markup: markup,
            reply_to,
            link_preview_options: None,
            edit_date: None,
        };
        Ok(self.store(data, chat_id, message))
    }

    fn edit_message_text(&self, p: &Params) -> Outcome {
        let markup = reply_markup(p, true)?;
        let mut guard = self.lock();
        let data = &mut *guard;
        let (chat_id, message_id) = edit_target(data, p)?;
        let (text, entities) = formatted(&data.people, p, Field::Text)?;
        let link_preview_options = p.object("link_preview_options")?;
        let chat = data.chats.get_mut(&chat_id).expect("chat resolved");
        let m = chat
            .messages
            .get_mut(&message_id)
            .expect("message resolved");
        if m.sender.is_some() {
            return Err(ApiError::bad("message can't be edited"));
        }
        if m.photo.is_some() {
            return Err(ApiError::bad("there is no text in the message to edit"));
        }
        // Leaving reply_markup out removes the keyboard, as on Telegram.
        if m.text == text && m.entities == entities && m.reply_markup == markup {
            return Err(ApiError::bad(NOT_MODIFIED));
        }
        m.text = text;
        m.entities = entities;
        m.reply_markup = markup;
        if link_preview_options.is_some() {
            m.link_preview_options = link_preview_options;
        }
        m.edit_date = Some(now_s());
        let chat = &data.chats[&chat_id];
        Ok(self.message_json(chat, &chat.messages[&message_id], true))
    }

    fn edit_message_reply_markup(&self, p: &Params) -> Outcome {
        let markup = reply_markup(p, true)?;
        let mut guard = self.lock();
        let data = &mut *guard;
        let (chat_id, message_id) = edit_target(data, p)?;
        let chat = data.chats.get_mut(&chat_id).expect("chat resolved");
        let m = chat
            .messages
            .get_mut(&message_id)
            .expect("message resolved");
        if m.sender.is_some() {
            return Err(ApiError::bad("message can't be edited"));
        }
        if m.reply_markup == markup {
            return Err(ApiError::bad(NOT_MODIFIED));
        }
        m.reply_markup = markup;
        m.edit_date = Some(now_s());
        let chat = &data.chats[&chat_id];
        Ok(self.message_json(chat, &chat.messages[&message_id], true))
    }

    fn delete_message(&self, p: &Params) -> Outcome {
        let mut guard = self.lock();
        let data = &mut *guard;
        let chat_id = target_chat(data, p)?;
        let message_id = p.int("message_id")?.unwrap_or(0);
        let chat = data.chats.get_mut(&chat_id).expect("chat resolved");
        match chat.messages.remove(&message_id) {
            Some(_) => Ok(json!(true)),
            None => Err(ApiError::bad("message to delete not found")),
        }
    }

    fn answer_callback_query(&self, p: &Params) -> Outcome {
        let id = p.string("callback_query_id").unwrap_or_default();
        let text = p.string("text").unwrap_or_default();
        if text.chars().count() > MAX_CALLBACK_ANSWER {
            return Err(ApiError::bad("MESSAGE_TOO_LONG"));
        }
        let mut data = self.lock();
        let Some(callback) = data.callbacks.get_mut(&id) else {
            return Err(ApiError::bad(QUERY_TOO_OLD));
        };
        if callback.answered || callback.created.elapsed() > CALLBACK_ANSWER_WINDOW {
            return Err(ApiError::bad(QUERY_TOO_OLD));
        }
        callback.answered = true;
        let answer = json!({
            "callback_query_id": id,
            "text": text,
            "show_alert": p.flag("show_alert"),
            "url": p.string("url"),
            "cache_time": p.int("cache_time")?.unwrap_or(0),
            "chat_id": callback.chat_id,
            "message_id": callback.message_id,
            "data": callback.data,
            "from_id": callback.from_id,
        });
        data.callback_answers.push(answer);
        Ok(json!(true))
    }

    fn set_my_commands(&self, p: &Params) -> Outcome {
        let Some(Value::Array(commands)) = p.object("commands")? else {
            return Err(ApiError::bad("parameter \"commands\" is required"));
        };
        if commands.len() > 100 {
            return Err(ApiError::bad("too many commands specified"));
        }
        let mut clean = Vec::new();
        for command in &commands {
            let name = command["command"].as_str().unwrap_or_default();
            let description = command["description"].as_str().unwrap_or_default();
            if name.is_empty()
                || name.len() > 32
                || !name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            {
                return Err(ApiError::bad("BOT_COMMAND_INVALID"));
            }
            if description.is_empty() || description.chars().count() > 256 {
                return Err(ApiError::bad("BOT_COMMAND_DESCRIPTION_INVALID"));
            }
            clean.push(json!({"command": name, "description": description}));
        }
        let key = commands_key(p)?;
        self.lock().commands.insert(key, json!(clean));
        Ok(json!(true))
    }

    /// A topic's id is the id of the (unlisted) service message that opens it, as on Telegram.
    fn create_forum_topic(&self, p: &Params) -> Outcome {
        let name = p.string("name").unwrap_or_default();
        if name.is_empty() || name.chars().count() > 128 {
            return Err(ApiError::bad("TOPIC_TITLE_INVALID"));
        }
        let icon_color = p.int("icon_color")?.unwrap_or(0x6F_B9F0);
        let mut guard = self.lock();
        let data = &mut *guard;
        let chat_id = target_chat(data, p)?;
        let chat = data.chats.get_mut(&chat_id).expect("chat resolved");
        if chat.is_private() {
            return Err(ApiError::bad("the chat is not a forum"));
        }
        chat.is_forum = true;
        chat.last_message_id += 1;
        let mut topic = json!({"message_thread_id": chat.last_message_id, "name": name, "icon_color": icon_color});
        if let Some(emoji) = p.string("icon_custom_emoji_id") {
            topic["icon_custom_emoji_id"] = json!(emoji);
        }
        Ok(topic)
    }
}

/// The chat a method addresses. Groups (negative ids) are known from the start; a private chat
/// only once its person wrote. Telegram addresses only public chats by `@username`, and the
/// sandbox has none.
fn target_chat(data: &mut Data, p: &Params) -> Result<i64, ApiError> {
    let id = match p.get("chat_id") {
        None => return Err(ApiError::bad("chat_id is empty")),
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse::<i64>().ok(),
        Some(_) => None,
    };
    let Some(id) = id.filter(|id| *id != 0) else {
        return Err(ApiError::bad("chat not found"));
    };
    if id < 0 {
        data.chats.entry(id).or_insert_with(|| Chat::group(id));
    }
    if !data.chats.contains_key(&id) {
        return Err(ApiError::bad("chat not found"));
    }
    Ok(id)
}

/// The chat and bot message an edit addresses. The sandbox has no inline messages.
fn edit_target(data: &mut Data, p: &Params) -> Result<(i64, i64), ApiError> {
    if p.get("inline_message_id").is_some() {
        return Err(ApiError::bad("MESSAGE_ID_INVALID"));
    }
    let chat_id = target_chat(data, p)?;
    let Some(message_id) = p.int("message_id")? else {
        return Err(ApiError::bad("message identifier is not specified"));
    };
    if !data.chats[&chat_id].messages.contains_key(&message_id) {
        return Err(ApiError::bad("message to edit not found"));
    }
    Ok((chat_id, message_id))
}

/// `message_thread_id`: a forum topic of a group. The General topic (1) is addressed without
/// it, and Telegram refuses 1 (tdlib/telegram-bot-api#798).
fn thread_param(chat: &Chat, p: &Params) -> Result<Option<i64>, ApiError> {
    let Some(thread_id) = p.int("message_thread_id")? else {
        return Ok(None);
    };
    if chat.is_private() || thread_id <= 1 {
        return Err(ApiError::bad("message thread not found"));
    }
    Ok(Some(thread_id))
}

/// The message a new one replies to: `reply_parameters` or the legacy `reply_to_message_id`.
/// A reply into another chat is outside the sandbox and answered as not found.
fn reply_target(chat: &Chat, p: &Params) -> Result<Option<i64>, ApiError> {
    let (message_id, allow_without) = if let Some(parameters) = p.object("reply_parameters")? {
        let other_chat = match &parameters["chat_id"] {
            Value::Null => false,
            Value::Number(n) => n.as_i64() != Some(chat.id),
            Value::String(s) => s.parse::<i64>().ok() != Some(chat.id),
            _ => true,
        };
        if other_chat {
            return Err(ApiError::bad("message to be replied not found"));
        }
        let id = match &parameters["message_id"] {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.parse().ok(),
            _ => None,
        };
        let allow = parameters["allow_sending_without_reply"].as_bool() == Some(true);
        (id, allow)
    } else if let Some(id) = p.int("reply_to_message_id")? {
        (Some(id), p.flag("allow_sending_without_reply"))
    } else {
        return Ok(None);
    };
    match message_id {
        Some(id) if chat.messages.contains_key(&id) => Ok(Some(id)),
        _ if allow_without => Ok(None),
        _ => Err(ApiError::bad("message to be replied not found")),
    }
}

/// `reply_markup`, checked the way Telegram checks inline keyboards. Answers the inline
/// keyboard to store (`None` when absent, empty, or a reply keyboard, which messages do not
/// carry). Edits accept inline keyboards only.
fn reply_markup(p: &Params, inline_only: bool) -> Result<Option<Value>, ApiError> {
    let Some(markup) = p.object("reply_markup")? else {
        return Ok(None);
    };
    let Some(markup) = markup.as_object() else {
        return Err(ApiError::bad(
            "can't parse reply keyboard markup JSON object",
        ));
    };
    let Some(rows) = markup.get("inline_keyboard") else {
        if inline_only {
            return Err(ApiError::bad("inline keyboard expected"));
        }
        return Ok(None);
    };
    let Some(rows) = rows.as_array() else {
        return Err(ApiError::bad(
            "field \"inline_keyboard\" of the InlineKeyboardMarkup must be an Array",
        ));
    };
    let mut clean_rows = Vec::new();
    for row in rows {
        let Some(row) = row.as_array() else {
            return Err(ApiError::bad(
                "field \"inline_keyboard\" of the InlineKeyboardMarkup must be an Array of Arrays",
            ));
        };
        let mut clean_row = Vec::new();
        for button in row {
            clean_row.push(inline_button(button)?);
        }
        if !clean_row.is_empty() {
            clean_rows.push(Value::Array(clean_row));
        }
    }
    if clean_rows.is_empty() {
        return Ok(None);
    }
    Ok(Some(json!({"inline_keyboard": clean_rows})))
}

fn inline_button(button: &Value) -> Result<Value, ApiError> {
    let Some(fields) = button.as_object() else {
        return Err(ApiError::bad(
            "can't parse inline keyboard button: InlineKeyboardButton must be an Object",
        ));
    };
    let Some(text) = fields.get("text").and_then(Value::as_str) else {
        return Err(ApiError::bad(
            "can't parse inline keyboard button: Field \"text\" must be of type String",
        ));
    };
    let mut clean = Map::new();
    clean.insert("text".to_owned(), json!(text));
    for action in BUTTON_ACTIONS {
        if let Some(value) = fields.get(action).filter(|v| !v.is_null()) {
            clean.insert(action.to_owned(), value.clone());
        }
    }
    if clean.len() == 1 {
        return Err(ApiError::bad(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard",
        ));
    }
    if let Some(data) = clean.get("callback_data") {
        let length = data.as_str().map(str::len).unwrap_or(0);
        if length == 0 || length > MAX_CALLBACK_DATA {
            return Err(ApiError::bad("BUTTON_DATA_INVALID"));
        }
    }
    if let Some(url) = clean.get("url") {
        let valid = url
            .as_str()
            .and_then(|u| reqwest::Url::parse(u).ok())
            .is_some_and(|u| matches!(u.scheme(), "http" | "https" | "tg"));
        if !valid {
            return Err(ApiError::bad("BUTTON_URL_INVALID"));
        }
    }
    Ok(Value::Object(clean))
}

/// `allowed_updates`: a list replaces the bot's choice, an empty list restores "all".
fn allowed_updates(p: &Params) -> Result<Option<Option<Vec<String>>>, ApiError> {
    let Some(list) = p.object("allowed_updates")? else {
        return Ok(None);
    };
    let kinds: Vec<String> = list
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    Ok(Some((!kinds.is_empty()).then_some(kinds)))
}

fn commands_key(p: &Params) -> Result<String, ApiError> {
    let scope = p
        .object("scope")?
        .unwrap_or_else(|| json!({"type": "default"}));
    let language = p.string("language_code").unwrap_or_default();
    Ok(format!("{scope}|{language}"))
}

/// Which formatted field a method carries.
#[derive(Debug, Clone, Copy)]
enum Field {
    Text,
    Caption,
}

/// The text or caption after Telegram's entity parsing: tags stripped, entities with UTF-16
/// offsets, surrounding whitespace trimmed, length checked.
fn formatted(
    people: &HashMap<i64, Person>,
    p: &Params,
    field: Field,
) -> Result<(String, Vec<Value>), ApiError> {
    let (key, entities_key, max) = match field {
        Field::Text => ("text", "entities", MAX_TEXT),
        Field::Caption => ("caption", "caption_entities", MAX_CAPTION),
    };
    let raw = p.string(key).unwrap_or_default();
    let mode = p.string("parse_mode").unwrap_or_default();
    let (text, mut entities) = match mode.to_ascii_lowercase().as_str() {
        "" => {
            let given = explicit_entities(p, entities_key, &raw)?;
            (raw, given)
        }
        "html" => {
            let (text, parsed) = parse_html(&raw)
                .map_err(|e| ApiError::bad(&format!("can't parse entities: {e}")))?;
            let values = parsed.iter().filter_map(|e| e.json(people)).collect();
            (text, values)
        }
        "markdown" | "markdownv2" => {
            return Err(ApiError::bad(
                "can't parse entities: the sandbox implements parse_mode HTML only",
            ));
        }
        _ => return Err(ApiError::bad("unsupported parse_mode")),
    };
    let text = trim_text(&text, &mut entities);
    match field {
        Field::Text if text.is_empty() => Err(ApiError::bad("message text is empty")),
        Field::Text if text.chars().count() > max => Err(ApiError::bad("message is too long")),
        Field::Caption if text.chars().count() > max => {
            Err(ApiError::bad("message caption is too long"))
        }
        _ => Ok((text, entities)),
    }
}

/// Entities the client gave instead of a parse mode; malformed or out-of-range ones are dropped,
/// as Telegram drops them.
fn explicit_entities(p: &Params, key: &str, text: &str) -> Result<Vec<Value>, ApiError> {
    let Some(list) = p.object(key)? else {
        return Ok(Vec::new());
    };
    let length = text.encode_utf16().count() as u64;
    Ok(list
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|e| {
                    let offset = e["offset"].as_u64();
                    let len = e["length"].as_u64();
                    e["type"].is_string()
                        && matches!((offset, len), (Some(o), Some(l)) if l > 0 && o + l <= length)
                })
                .cloned()
                .collect()
        })
        .unwrap_or_default())
}

/// Trims whitespace around the text, moving and clipping entities to match.
fn trim_text(text: &str, entities: &mut Vec<Value>) -> String {
    let is_blank = |c: char| matches!(c, ' ' | '\t' | '\n' | '\r' | '\u{b}' | '\u{c}');
    let start_trimmed = text.trim_start_matches(is_blank);
    let left = text[..text.len() - start_trimmed.len()]
        .encode_utf16()
        .count() as u64;
    let result = start_trimmed.trim_end_matches(is_blank).to_owned();
    let length = result.encode_utf16().count() as u64;
    entities.retain_mut(|e| {
        let offset = e["offset"].as_u64().unwrap_or(0);
        let end = offset + e["length"].as_u64().unwrap_or(0);
        let start = offset.saturating_sub(left).min(length);
        let end = end.saturating_sub(left).min(length);
        if end <= start {
            return false;
        }
        e["offset"] = json!(start);
        e["length"] = json!(end - start);
        true
    });
    result
}

// --- Telegram's HTML parse mode -------------------------------------------------------------

/// A formatting entity: offset and length in UTF-16 code units, as the Bot API counts them.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entity {
    kind: EntityKind,
    offset: usize,
    length: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum EntityKind {
    Bold,
    Italic,
    Underline,
    Strikethrough,
    Spoiler,
    /// While parsing, the language a `<code class="language-...">` named.
    Code(String),
    /// With the language of a `<pre><code class="language-...">` block, or empty.
    Pre(String),
    TextLink(String),
    /// A `tg://user?id=` link.
    TextMention(i64),
    CustomEmoji(String),
    Blockquote,
    ExpandableBlockquote,
}

impl EntityKind {
    fn name(&self) -> &'static str {
        match self {
            EntityKind::Bold => "bold",
            EntityKind::Italic => "italic",
            EntityKind::Underline => "underline",
            EntityKind::Strikethrough => "strikethrough",
            EntityKind::Spoiler => "spoiler",
            EntityKind::Code(_) => "code",
            EntityKind::Pre(_) => "pre",
            EntityKind::TextLink(_) => "text_link",
            EntityKind::TextMention(_) => "text_mention",
            EntityKind::CustomEmoji(_) => "custom_emoji",
            EntityKind::Blockquote => "blockquote",
            EntityKind::ExpandableBlockquote => "expandable_blockquote",
        }
    }

    /// The order of entities sharing a range, as Telegram sorts them.
    fn priority(&self) -> u8 {
        match self {
            EntityKind::Blockquote | EntityKind::ExpandableBlockquote => 0,
            EntityKind::Pre(language) if !language.is_empty() => 10,
            EntityKind::Pre(_) => 11,
            EntityKind::Code(_) => 20,
            EntityKind::TextLink(_) | EntityKind::TextMention(_) => 49,
            EntityKind::Bold => 90,
            EntityKind::Italic => 91,
            EntityKind::Underline => 92,
            EntityKind::Strikethrough => 93,
            EntityKind::Spoiler => 94,
            EntityKind::CustomEmoji(_) => 99,
        }
    }
}

impl Entity {
    /// The Bot API's MessageEntity; a mention of someone the sandbox does not know is dropped.
    fn json(&self, people: &HashMap<i64, Person>) -> Option<Value> {
        let mut v = json!({"type": self.kind.name(), "offset": self.offset, "length": self.length});
        match &self.kind {
            EntityKind::Pre(language) if !language.is_empty() => v["language"] = json!(language),
            EntityKind::TextLink(url) => v["url"] = json!(url),
            EntityKind::TextMention(id) => v["user"] = people.get(id)?.json(),
            EntityKind::CustomEmoji(id) => v["custom_emoji_id"] = json!(id),
            _ => {}
        }
        Some(v)
    }
}

/// A start tag waiting for its end tag.
struct OpenTag {
    tag: String,
    argument: String,
    /// Where its entity starts, in UTF-16 units of the output.
    offset: usize,
    /// Where its content starts, in bytes of the output (for `<a>` without `href`).
    byte: usize,
}

/// Telegram's whitespace inside tags; the end of the text counts as one, as in tdlib.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n' | 0 | 0x0b | 0x0c)
}

/// Parses text in Telegram's HTML parse mode into the plain text and its entities, following
/// the rules of Telegram's parser (tdlib `parse_html`): only the supported tags, properly nested
/// and closed (`</>` closes the innermost); attribute values quoted or name tokens; the named
/// references `&lt; &gt; &amp; &quot;` and numeric ones decode, while any other `&` stays
/// literal text, as on Telegram. Errors are Telegram's descriptions, with byte offsets into the
/// input, to follow "Bad Request: can't parse entities: ".
fn parse_html(text: &str) -> Result<(String, Vec<Entity>), String> {
    let bytes = text.as_bytes();
    let at = |i: usize| bytes.get(i).copied().unwrap_or(0);
    let mut out = String::with_capacity(text.len());
    let mut utf16 = 0;
    let mut open: Vec<OpenTag> = Vec::new();
    let mut entities: Vec<Entity> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'&'
            && let Some((code, next)) = decode_reference(bytes, i)
        {
            let Some(ch) = char::from_u32(code) else {
                return Err("Text contains invalid Unicode characters after decoding HTML entities, check for unmatched surrogate code units".to_owned());
            };
            out.push(ch);
            utf16 += ch.len_utf16();
            i = next;
            continue;
        }
        if c != b'<' {
            let ch = text[i..]
                .chars()
                .next()
                .expect("i is on a character boundary");
            out.push(ch);
            utf16 += ch.len_utf16();
            i += ch.len_utf8();
            continue;
        }
        let begin = i;
        i += 1;
        if at(i) != b'/' {
            while !is_space(at(i)) && at(i) != b'>' {
                i += 1;
            }
            if at(i) == 0 {
                return Err(format!("Unclosed start tag at byte offset {begin}"));
            }
            let tag = text[begin + 1..i].to_ascii_lowercase();
            if !SUPPORTED_TAGS.contains(&tag.as_str()) {
                return Err(format!(
                    "Unsupported start tag \"{tag}\" at byte offset {begin}"
                ));
            }
            let mut argument = String::new();
            while at(i) != b'>' {
                while at(i) != 0 && is_space(at(i)) {
                    i += 1;
                }
                if at(i) == b'>' {
                    break;
                }
                let name_begin = i;
                while !is_space(at(i)) && !matches!(at(i), b'=' | b'>' | b'/' | b'"' | b'\'') {
                    i += 1;
                }
                let name = &text[name_begin..i];
                if name.is_empty() {
                    return Err(format!(
                        "Empty attribute name in the tag \"{tag}\" at byte offset {begin}"
                    ));
                }
                while at(i) != 0 && is_space(at(i)) {
                    i += 1;
                }
                if at(i) != b'=' {
                    if at(i) == 0 {
                        return Err(format!(
                            "Unclosed start tag \"{tag}\" at byte offset {begin}"
                        ));
                    }
                    if tag == "blockquote" && name == "expandable" {
                        argument = "1".to_owned();
                    }
                    continue;
                }
                i += 1;
                while at(i) != 0 && is_space(at(i)) {
                    i += 1;
                }
                if at(i) == 0 {
                    return Err(format!(
                        "Unclosed start tag \"{tag}\" at byte offset {begin}"
                    ));
                }
                let value = if at(i) != b'\'' && at(i) != b'"' {
                    let token_begin = i;
                    while at(i).is_ascii_alphanumeric() || at(i) == b'.' || at(i) == b'-' {
                        i += 1;
                    }
                    if !is_space(at(i)) && at(i) != b'>' {
                        return Err(format!(
                            "Unexpected end of name token at byte offset {token_begin}"
                        ));
                    }
                    text[token_begin..i].to_ascii_lowercase()
                } else {
                    let quote = at(i);
                    i += 1;
                    let mut value = Vec::new();
                    while at(i) != quote && at(i) != 0 {
                        if at(i) == b'&'
                            && let Some((code, next)) = decode_reference(bytes, i)
                        {
                            let ch = char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER);
                            value.extend_from_slice(ch.encode_utf8(&mut [0; 4]).as_bytes());
                            i = next;
                            continue;
                        }
                        value.push(at(i));
                        i += 1;
                    }
                    if at(i) == quote {
                        i += 1;
                    }
                    String::from_utf8_lossy(&value).into_owned()
                };
                if at(i) == 0 {
                    return Err(format!("Unclosed start tag at byte offset {begin}"));
                }
                match (tag.as_str(), name) {
                    ("a", "href") | ("tg-emoji", "emoji-id") => argument = value,
                    ("code", "class") if value.starts_with("language-") => {
                        argument = value["language-".len()..].to_owned();
                    }
                    ("span", "class") if value.starts_with("tg-") => {
                        argument = value["tg-".len()..].to_owned();
                    }
                    ("blockquote", "expandable") => argument = "1".to_owned(),
                    _ => {}
                }
            }
            if tag == "span" && argument != "spoiler" {
                return Err(format!(
                    "Tag \"span\" must have class \"tg-spoiler\" at byte offset {begin}"
                ));
            }
            open.push(OpenTag {
                tag,
                argument,
                offset: utf16,
                byte: out.len(),
            });
            i += 1;
        } else {
            if open.is_empty() {
                return Err(format!("Unexpected end tag at byte offset {begin}"));
            }
            while !is_space(at(i)) && at(i) != b'>' {
                i += 1;
            }
            let end_tag = text[begin + 2..i].to_ascii_lowercase();
            while at(i) != 0 && is_space(at(i)) {
                i += 1;
            }
            if at(i) != b'>' {
                return Err(format!("Unclosed end tag at byte offset {begin}"));
            }
            let top = open.pop().expect("checked non-empty");
            if !end_tag.is_empty() && end_tag != top.tag {
                return Err(format!(
                    "Unmatched end tag at byte offset {begin}, expected \"</{}>\", found \"</{end_tag}>\"",
                    top.tag
                ));
            }
            if utf16 > top.offset {
                close_tag(&mut entities, top, utf16, &out)?;
            }
            i += 1;
        }
    }
    if let Some(top) = open.last() {
        return Err(format!(
            "Can't find end tag corresponding to start tag \"{}\"",
            top.tag
        ));
    }
    for entity in &mut entities {
        if let EntityKind::Code(language) = &mut entity.kind {
            language.clear();
        }
    }
    entities.sort_by(|a, b| {
        a.offset
            .cmp(&b.offset)
            .then(b.length.cmp(&a.length))
            .then(a.kind.priority().cmp(&b.kind.priority()))
    });
    Ok((out, entities))
}

/// Turns a closed, non-empty tag into its entity. `<pre><code class="language-x">` becomes one
/// `pre` entity with a language, whichever of the two closes last.
fn close_tag(
    entities: &mut Vec<Entity>,
    top: OpenTag,
    end: usize,
    out: &str,
) -> Result<(), String> {
    let offset = top.offset;
    let length = end - offset;
    let same_range = |e: &Entity| e.offset == offset && e.length == length;
    let kind = match top.tag.as_str() {
        "i" | "em" => EntityKind::Italic,
        "b" | "strong" => EntityKind::Bold,
        "s" | "strike" | "del" => EntityKind::Strikethrough,
        "u" | "ins" => EntityKind::Underline,
        "tg-spoiler" | "span" => EntityKind::Spoiler,
        "tg-emoji" => match top.argument.parse::<i64>() {
            Ok(id) if id != 0 => EntityKind::CustomEmoji(top.argument),
            _ => return Err("Invalid custom emoji identifier specified".to_owned()),
        },
        "a" => {
            let url = if top.argument.is_empty() {
                out[top.byte..].to_owned()
            } else {
                top.argument
            };
            match link_target(&url) {
                Some(kind) => kind,
                // Telegram keeps the text and drops a link it cannot use.
                None => return Ok(()),
            }
        }
        "pre" => {
            if let Some(last) = entities.last_mut()
                && same_range(last)
                && let EntityKind::Code(language) = &last.kind
                && !language.is_empty()
            {
                last.kind = EntityKind::Pre(language.clone());
                return Ok(());
            }
            EntityKind::Pre(String::new())
        }
        "code" => {
            if let Some(last) = entities.last_mut()
                && same_range(last)
                && last.kind == EntityKind::Pre(String::new())
                && !top.argument.is_empty()
            {
                last.kind = EntityKind::Pre(top.argument);
                return Ok(());
            }
            EntityKind::Code(top.argument)
        }
        "blockquote" if top.argument.is_empty() => EntityKind::Blockquote,
        "blockquote" => EntityKind::ExpandableBlockquote,
        _ => return Ok(()),
    };
    entities.push(Entity {
        kind,
        offset,
        length,
    });
    Ok(())
}

/// What an `<a href>` points at: a person (`tg://user?id=`) or a URL, normalized as Telegram
/// does (a bare domain becomes `http://...`); `None` for what Telegram would not link.
fn link_target(url: &str) -> Option<EntityKind> {
    let url = url.trim();
    if url.is_empty() {
        return None;
    }
    let lower = url.to_ascii_lowercase();
    if let Some(id) = lower.strip_prefix("tg://user?id=") {
        return id.parse().ok().map(EntityKind::TextMention);
    }
    let candidate = if url.contains("://") {
        url.to_owned()
    } else {
        format!("http://{url}")
    };
    let parsed = reqwest::Url::parse(&candidate).ok()?;
    let usable = match parsed.scheme() {
        "http" | "https" => parsed.host_str().is_some_and(|h| h.contains('.')),
        "tg" | "ton" | "tonsite" => true,
        _ => false,
    };
    usable.then(|| EntityKind::TextLink(parsed.to_string()))
}

/// Decodes the character reference at `pos` (which holds `&`), as Telegram does: `&#N;`,
/// `&#xH;`, `&lt;`, `&gt;`, `&amp;`, `&quot;`, the `;` optional. Answers the code point and where
/// the text continues, or `None` when the `&` is literal text.
fn decode_reference(bytes: &[u8], pos: usize) -> Option<(u32, usize)> {
    let at = |i: usize| bytes.get(i).copied().unwrap_or(0);
    let mut end = pos + 1;
    let code = if at(pos + 1) == b'#' {
        end += 1;
        let mut value: u64 = 0;
        if at(pos + 2) == b'x' {
            end += 1;
            while let Some(digit) = (at(end) as char).to_digit(16) {
                value = value.saturating_mul(16).saturating_add(u64::from(digit));
                end += 1;
            }
        } else {
            while let Some(digit) = (at(end) as char).to_digit(10) {
                value = value.saturating_mul(10).saturating_add(u64::from(digit));
                end += 1;
            }
        }
        if value == 0 || value >= 0x10_FFFF || end - pos >= 10 {
            return None;
        }
        value as u32
    } else {
        while at(end).is_ascii_alphabetic() {
            end += 1;
        }
        match &bytes[pos + 1..end] {
            b"lt" => u32::from('<'),
            b"gt" => u32::from('>'),
            b"amp" => u32::from('&'),
            b"quot" => u32::from('"'),
            _ => return None,
        }
    };
    let next = if at(end) == b';' { end + 1 } else { end };
    Some((code, next))
}

/// `bot_command` entities in a person's text, as Telegram marks them: `/command` or
/// `/command@botname` standing alone.
fn bot_commands(text: &str) -> Vec<Value> {
    let chars: Vec<char> = text.chars().collect();
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out = Vec::new();
    let mut utf16 = 0;
    let mut i = 0;
    while i < chars.len() {
        let starts = chars[i] == '/' && (i == 0 || chars[i - 1].is_whitespace());
        if starts {
            let mut j = i + 1;
            while j < chars.len() && word(chars[j]) && j - i <= 64 {
                j += 1;
            }
            if j > i + 1 && j < chars.len() && chars[j] == '@' {
                let mut k = j + 1;
                while k < chars.len() && word(chars[k]) {
                    k += 1;
                }
                if (3..=32).contains(&(k - j - 1)) {
                    j = k;
                }
            }
            if j > i + 1 && chars.get(j).is_none_or(|c| c.is_whitespace()) {
                let length: usize = chars[i..j].iter().map(|c| c.len_utf16()).sum();
                out.push(json!({"type": "bot_command", "offset": utf16, "length": length}));
            }
        }
        utf16 += chars[i].len_utf16();
        i += 1;
    }
    out
}

// --- Flood limits ---------------------------------------------------------------------------

/// One chat's flood state: a token bucket (a short burst, then one message per second) and, for
/// groups, the sending times of the last minute.
#[derive(Debug, Default)]
struct FloodGate {
    tokens: f64,
    refilled: Option<Instant>,
    recent: VecDeque<Instant>,
}

impl FloodGate {
    /// Admits one more message at `now`, or answers how many seconds to wait (`retry_after`).
    /// A refused message does not count.
    fn admit(&mut self, now: Instant, group_per_minute: Option<u32>) -> Result<(), u64> {
        let minute = Duration::from_secs(60);
        let tokens = match self.refilled {
            None => CHAT_BURST,
            Some(at) => (self.tokens
                + now.saturating_duration_since(at).as_secs_f64() * CHAT_PER_SECOND)
                .min(CHAT_BURST),
        };
        if let Some(limit) = group_per_minute.filter(|l| *l > 0) {
            while self
                .recent
                .front()
                .is_some_and(|t| now.saturating_duration_since(*t) >= minute)
            {
                self.recent.pop_front();
            }
            if self.recent.len() >= limit as usize {
                let oldest = *self.recent.front().expect("limit is positive");
                let wait = minute.saturating_sub(now.saturating_duration_since(oldest));
                return Err(wait.as_secs_f64().ceil().max(1.0) as u64);
            }
        }
        if tokens < 1.0 {
            let wait = (1.0 - tokens) / CHAT_PER_SECOND;
            return Err(wait.ceil().max(1.0) as u64);
        }
        self.tokens = tokens - 1.0;
        self.refilled = Some(now);
        if group_per_minute.is_some() {
            self.recent.push_back(now);
        }
        Ok(())
    }
}

// --- Request parameters ---------------------------------------------------------------------

/// A method's parameters, from the query string and a JSON, urlencoded or multipart body, as
/// the Bot API accepts them. Values from forms are strings; accessors convert as Telegram does.
#[derive(Debug, Default)]
struct Params {
    values: Map<String, Value>,
    /// Files uploaded in a multipart body, by part name.
    uploads: HashMap<String, Vec<u8>>,
}

impl Params {
    fn parse(query: Option<&str>, headers: &HeaderMap, body: &[u8]) -> Result<Params, ApiError> {
        let mut params = Params::default();
        for (key, value) in form_pairs(query.unwrap_or("")) {
            params.values.insert(key, Value::String(value));
        }
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(params);
        }
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let mime = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match mime.as_str() {
            "application/json" => {
                let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) else {
                    return Err(ApiError::bad("can't parse JSON object"));
                };
                params.values.extend(fields);
            }
            "application/x-www-form-urlencoded" => {
                let Ok(body) = std::str::from_utf8(body) else {
                    return Err(ApiError::bad("request parameters must be encoded in UTF-8"));
                };
                for (key, value) in form_pairs(body) {
                    params.values.insert(key, Value::String(value));
                }
            }
            "multipart/form-data" => {
                let boundary = content_type
                    .split(';')
                    .filter_map(|part| part.trim().strip_prefix("boundary="))
                    .map(|b| b.trim_matches('"'))
                    .next()
                    .unwrap_or("");
                let Some(parts) = multipart_parts(body, boundary) else {
                    return Err(ApiError::bad("can't parse multipart/form-data request"));
                };
                for part in parts {
                    if part.filename.is_some() {
                        params.uploads.insert(part.name, part.data);
                    } else {
                        let value = String::from_utf8_lossy(&part.data).into_owned();
                        params.values.insert(part.name, Value::String(value));
                    }
                }
            }
            _ => {
                return Err(ApiError::bad(&format!(
                    "unsupported Content-Type \"{content_type}\""
                )));
            }
        }
        Ok(params)
    }

    fn get(&self, key: &str) -> Option<&Value> {
        self.values.get(key).filter(|v| !v.is_null())
    }

    fn string(&self, key: &str) -> Option<String> {
        match self.get(key)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    fn int(&self, key: &str) -> Result<Option<i64>, ApiError> {
        let parsed = match self.get(key) {
            None => return Ok(None),
            Some(Value::Number(n)) => n.as_i64(),
            Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
            Some(Value::String(s)) => s.trim().parse().ok(),
            Some(_) => None,
        };
        match parsed {
            Some(n) => Ok(Some(n)),
            None => Err(ApiError::bad(&format!(
                "field \"{key}\" must be of type Integer"
            ))),
        }
    }

    fn flag(&self, key: &str) -> bool {
        match self.get(key) {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => matches!(s.trim(), "true" | "True" | "1"),
            Some(Value::Number(n)) => n.as_i64() == Some(1),
            _ => false,
        }
    }

    /// An object or array parameter, given as JSON in a JSON body or as a JSON string in a form.
    fn object(&self, key: &str) -> Result<Option<Value>, ApiError> {
        let error = || {
            let what = match key {
                "reply_markup" => "reply keyboard markup".to_owned(),
                _ => key.replace('_', " "),
            };
            ApiError::bad(&format!("can't parse {what} JSON object"))
        };
        match self.get(key) {
            None => Ok(None),
            Some(v @ (Value::Object(_) | Value::Array(_))) => Ok(Some(v.clone())),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
                Ok(v @ (Value::Object(_) | Value::Array(_))) => Ok(Some(v)),
                _ => Err(error()),
            },
            Some(_) => Err(error()),
        }
    }
}

/// `application/x-www-form-urlencoded` pairs.
fn form_pairs(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key), percent_decode(value))
        })
        .collect()
}

/// One part of a multipart body.
struct Part {
    name: String,
    filename: Option<String>,
    data: Vec<u8>,
}

/// The parts of a `multipart/form-data` body (RFC 7578), or `None` when it is malformed.
fn multipart_parts(body: &[u8], boundary: &str) -> Option<Vec<Part>> {
    if boundary.is_empty() {
        return None;
    }
    let delimiter = format!("--{boundary}").into_bytes();
    let separator = [b"\r\n".as_slice(), &delimiter].concat();
    let mut pos = find(body, &delimiter, 0)? + delimiter.len();
    let mut parts = Vec::new();
    loop {
        if body[pos..].starts_with(b"--") {
            return Some(parts);
        }
        pos += if body[pos..].starts_with(b"\r\n") {
            2
        } else {
            0
        };
        let headers_end = find(body, b"\r\n\r\n", pos)?;
        let headers = std::str::from_utf8(&body[pos..headers_end]).ok()?;
        let data_start = headers_end + 4;
        let data_end = find(body, &separator, data_start)?;
        let mut name = None;
        let mut filename = None;
        for line in headers.split("\r\n") {
            let Some((field, value)) = line.split_once(':') else {
                continue;
            };
            if !field.trim().eq_ignore_ascii_case("content-disposition") {
                continue;
            }
            for attribute in value.split(';').map(str::trim) {
                if let Some(v) = attribute.strip_prefix("name=") {
                    name = Some(v.trim_matches('"').to_owned());
                } else if let Some(v) = attribute.strip_prefix("filename=") {
                    filename = Some(v.trim_matches('"').to_owned());
                }
            }
        }
        parts.push(Part {
            name: name?,
            filename,
            data: body[data_start..data_end].to_vec(),
        });
        pos = data_end + separator.len();
    }
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|window| window == needle)
        .map(|at| at + from)
}

// --- Handlers -------------------------------------------------------------------------------

async fn api_call(
    State(sandbox): State<TelegramSandbox>,
    Path((bot_token, method)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(token) = bot_token.strip_prefix("bot") else {
        return ApiError::new(404, "Not Found").into_response();
    };
    if token != sandbox.settings.token {
        return ApiError::new(401, "Unauthorized").into_response();
    }
    // Method names are case-insensitive on Telegram.
    let method = method.to_ascii_lowercase();
    tracing::debug!(%method, "telegram sandbox call");
    if let Some(fault) = sandbox.take_fault(&method) {
        control::pause(&fault).await;
        match fault.status {
            None => {}
            Some(429) => {
                let mut error = ApiError::flood(fault.retry_after.unwrap_or(1));
                if let Some(description) = fault.description {
                    error.description = description;
                }
                return error.into_response();
            }
            Some(status) => {
                let reason = StatusCode::from_u16(status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or("Error");
                let description = fault.description.unwrap_or_else(|| reason.to_owned());
                return ApiError::new(status, description).into_response();
            }
        }
    }
    let params = match Params::parse(uri.query(), &headers, &body) {
        Ok(params) => params,
        Err(error) => return error.into_response(),
    };
    match sandbox.call(&method, &params).await {
        Ok(result) => axum::Json(json!({"ok": true, "result": result})).into_response(),
        Err(error) => error.into_response(),
    }
}

async fn not_found() -> Response {
    ApiError::new(404, "Not Found").into_response()
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
    text: String,
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

async fn control_send(
    State(sandbox): State<TelegramSandbox>,
    JsonBody(input): JsonBody<SendInput>,
) -> Response {
    if input.chat_id == 0 {
        return control::bad_request("chat_id must not be 0");
    }
    let length = input.text.chars().count();
    if input.text.trim().is_empty() || length > MAX_TEXT {
        return control::bad_request("text must have 1 to 4096 characters");
    }
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
    let message = Message {
        id: 0,
        date: now_s(),
        sender: Some(person),
        thread_id,
        entities: bot_commands(&input.text),
        text: input.text,
        photo: None,
        reply_markup: None,
        reply_to: input.reply_to_message_id,
        link_preview_options: None,
        edit_date: None,
    };
    let json = sandbox.store(data, input.chat_id, message);
    let message_id = json["message_id"].clone();
    let update_id = sandbox.queue(data, "message", json);
    drop(guard);
    sandbox.notify.notify_waiters();
    axum::Json(json!({"ok": true, "message_id": message_id, "update_id": update_id}))
        .into_response()
}

async fn control_press(
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

async fn control_messages(
    State(sandbox): State<TelegramSandbox>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(chat_id) = query.get("chat_id").and_then(|id| id.parse::<i64>().ok()) else {
        return control::bad_request("chat_id must be an integer");
    };
    axum::Json(sandbox.messages(chat_id)).into_response()
}

async fn control_answers(State(sandbox): State<TelegramSandbox>) -> Response {
    axum::Json(sandbox.lock().callback_answers.clone()).into_response()
}

impl Controlled for TelegramSandbox {
    type Fault = TelegramFault;

    fn forget(&self) {
        self.reset();
    }

    fn inject(&self, fault: TelegramFault) {
        self.lock().faults.push(fault);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The text and (type, offset, length) of each entity.
    fn parsed(html: &str) -> (String, Vec<(&'static str, usize, usize)>) {
        let (text, entities) = parse_html(html).expect("valid HTML");
        let entities = entities
            .iter()
            .map(|e| (e.kind.name(), e.offset, e.length))
            .collect();
        (text, entities)
    }

    #[test]
    fn html_tags_become_entities_and_leave_the_text() {
        let (text, entities) = parsed("<b>Tiket</b> <i>baru</i> <code>#17</code>");
        assert_eq!(text, "Tiket baru #17");
        assert_eq!(
            entities,
            vec![("bold", 0, 5), ("italic", 6, 4), ("code", 11, 3)]
        );
    }

    #[test]
    fn nested_tags_are_allowed_when_properly_closed() {
        let (text, entities) = parsed("<b>a <i>b</i> c</b><strong><em>d</em></strong>");
        assert_eq!(text, "a b cd");
        assert_eq!(
            entities,
            vec![
                ("bold", 0, 5),
                ("italic", 2, 1),
                ("bold", 5, 1),
                ("italic", 5, 1)
            ]
        );
        // `</>` closes the innermost tag, as Telegram allows.
        assert_eq!(parsed("<b>x</>").1, vec![("bold", 0, 1)]);
    }

    #[test]
    fn crossed_or_unclosed_tags_are_refused_with_telegrams_descriptions() {
        assert_eq!(
            parse_html("<b>x<i>y</b></i>").unwrap_err(),
            "Unmatched end tag at byte offset 8, expected \"</i>\", found \"</b>\""
        );
        assert_eq!(
            parse_html("<b>x").unwrap_err(),
            "Can't find end tag corresponding to start tag \"b\""
        );
        assert_eq!(
            parse_html("x</b>").unwrap_err(),
            "Unexpected end tag at byte offset 1"
        );
        assert_eq!(
            parse_html("<b>x</b").unwrap_err(),
            "Unclosed end tag at byte offset 4"
        );
        assert_eq!(
            parse_html("ends with <b").unwrap_err(),
            "Unclosed start tag at byte offset 10"
        );
    }

    #[test]
    fn unknown_tags_and_bare_angle_brackets_are_refused() {
        assert_eq!(
            parse_html("<div>x</div>").unwrap_err(),
            "Unsupported start tag \"div\" at byte offset 0"
        );
        assert_eq!(
            parse_html("<br/>").unwrap_err(),
            "Unsupported start tag \"br/\" at byte offset 0"
        );
        // A citizen's "<" the bot forgot to escape.
        assert_eq!(
            parse_html("harga < 5000").unwrap_err(),
            "Unsupported start tag \"\" at byte offset 6"
        );
        assert_eq!(
            parse_html("<span>x</span>").unwrap_err(),
            "Tag \"span\" must have class \"tg-spoiler\" at byte offset 0"
        );
        assert_eq!(
            parse_html("<span class=\"tg-spoiler\">x</span>").unwrap().1[0].kind,
            EntityKind::Spoiler
        );
    }

    #[test]
    fn only_telegrams_named_references_decode() {
        let (text, _) = parsed("&lt;b&gt; &amp; &quot;q&quot; &#65;&#x42; &#128512;");
        assert_eq!(text, "<b> & \"q\" AB 😀");
        // Any other reference, and a bare "&", stays literal text, as on Telegram: only "<" must
        // be escaped for Telegram to accept a message.
        let (text, _) = parsed("&nbsp; AT&T &copy &#0; &#xZZ;");
        assert_eq!(text, "&nbsp; AT&T &copy &#0; &#xZZ;");
        assert_eq!(
            parse_html("&#xD83D;").unwrap_err(),
            "Text contains invalid Unicode characters after decoding HTML entities, check for unmatched surrogate code units"
        );
    }

    #[test]
    fn links_take_href_and_become_text_links() {
        let (text, entities) = parse_html(
            "<a href=\"https://malangkota.go.id/layanan?a=1&amp;b=2\">layanan</a> <a href=malangkota.go.id>x</a>",
        )
        .unwrap();
        assert_eq!(text, "layanan x");
        assert_eq!(
            entities[0].kind,
            EntityKind::TextLink("https://malangkota.go.id/layanan?a=1&b=2".into())
        );
        assert_eq!(
            entities[1].kind,
            EntityKind::TextLink("http://malangkota.go.id/".into())
        );
        // Without href the text is the link; an unusable link leaves plain text.
        let (_, entities) = parse_html("<a>https://example.com</a>").unwrap();
        assert_eq!(
            entities[0].kind,
            EntityKind::TextLink("https://example.com/".into())
        );
        let (text, entities) = parse_html("<a href=\"javascript:alert(1)\">x</a>").unwrap();
        assert_eq!((text.as_str(), entities.len()), ("x", 0));
        assert_eq!(
            parse_html("<a href=x/>y</a>").unwrap_err(),
            "Unexpected end of name token at byte offset 8"
        );
        assert_eq!(
            parse_html("<a =\"x\">y</a>").unwrap_err(),
            "Empty attribute name in the tag \"a\" at byte offset 0"
        );
    }

    #[test]
    fn pre_with_a_language_is_one_entity() {
        let (_, entities) =
            parse_html("<pre><code class=\"language-rust\">fn x()</code></pre>").unwrap();
        assert_eq!(
            entities,
            vec![Entity {
                kind: EntityKind::Pre("rust".into()),
                offset: 0,
                length: 6
            }]
        );
        let people = HashMap::new();
        assert_eq!(
            entities[0].json(&people).unwrap(),
            json!({"type": "pre", "offset": 0, "length": 6, "language": "rust"})
        );
    }

    #[test]
    fn offsets_count_utf16_units_so_emoji_count_twice() {
        // 😀 and 🚧 are outside the BMP: two UTF-16 units each; é is one.
        let (text, entities) = parsed("😀 <b>Jalan 🚧</b> é <i>x</i>");
        assert_eq!(text, "😀 Jalan 🚧 é x");
        assert_eq!(entities, vec![("bold", 3, 8), ("italic", 14, 1)]);
    }

    #[test]
    fn surrounding_whitespace_is_trimmed_and_entities_follow() {
        let (text, entities) = parse_html("\n  <b>halo</b>  \n").unwrap();
        let mut values: Vec<Value> = entities
            .iter()
            .filter_map(|e| e.json(&HashMap::new()))
            .collect();
        let text = trim_text(&text, &mut values);
        assert_eq!(text, "halo");
        assert_eq!(
            values,
            vec![json!({"type": "bold", "offset": 0, "length": 4})]
        );
    }

    #[test]
    fn bot_commands_are_marked_in_a_persons_text() {
        assert_eq!(
            bot_commands("/start"),
            vec![json!({"type": "bot_command", "offset": 0, "length": 6})]
        );
        assert_eq!(
            bot_commands("😀 /tiket@kicau_bot 17 a/b"),
            vec![json!({"type": "bot_command", "offset": 3, "length": 16})]
        );
        assert!(bot_commands("dan/atau").is_empty());
    }

    #[test]
    fn a_chat_takes_a_short_burst_then_one_message_per_second() {
        let start = Instant::now();
        let mut gate = FloodGate::default();
        for _ in 0..3 {
            assert_eq!(gate.admit(start, None), Ok(()));
        }
        assert_eq!(gate.admit(start, None), Err(1));
        // Refused messages do not count: a second later one more fits, and no more.
        let later = start + Duration::from_secs(1);
        assert_eq!(gate.admit(later, None), Ok(()));
        assert_eq!(gate.admit(later, None), Err(1));
        // Sustained one per second is fine.
        for second in 2..30 {
            assert_eq!(
                gate.admit(start + Duration::from_secs(second), None),
                Ok(())
            );
        }
    }

    #[test]
    fn a_group_takes_twenty_messages_a_minute() {
        let start = Instant::now();
        let mut gate = FloodGate::default();
        for second in 0..20 {
            assert_eq!(
                gate.admit(start + Duration::from_secs(second * 2), Some(20)),
                Ok(())
            );
        }
        // The 21st within the minute waits until the first leaves the window (at 60 s).
        let at = start + Duration::from_secs(40);
        assert_eq!(gate.admit(at, Some(20)), Err(20));
        assert_eq!(
            gate.admit(start + Duration::from_secs(60), Some(20)),
            Ok(())
        );
    }

    #[test]
    fn form_and_multipart_bodies_become_parameters() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        let p = Params::parse(
            Some("limit=5"),
            &headers,
            b"chat_id=-100&text=halo+warga%21&reply_markup=%7B%22inline_keyboard%22%3A%5B%5D%7D",
        )
        .unwrap();
        assert_eq!(p.int("chat_id").unwrap(), Some(-100));
        assert_eq!(p.int("limit").unwrap(), Some(5));
        assert_eq!(p.string("text").as_deref(), Some("halo warga!"));
        assert_eq!(
            p.object("reply_markup").unwrap(),
            Some(json!({"inline_keyboard": []}))
        );

        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("multipart/form-data; boundary=XyZ"),
        );
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"chat_id\"\r\n\r\n42\r\n--XyZ\r\nContent-Disposition: form-data; name=\"photo\"\r\n\r\nattach://f1\r\n--XyZ\r\nContent-Disposition: form-data; name=\"f1\"; filename=\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8\r\n\xff\r\n--XyZ--\r\n";
        let p = Params::parse(None, &headers, body).unwrap();
        assert_eq!(p.int("chat_id").unwrap(), Some(42));
        assert_eq!(p.string("photo").as_deref(), Some("attach://f1"));
        assert_eq!(p.uploads["f1"], b"\xff\xd8\r\n\xff");
    }

    #[test]
    fn inline_buttons_need_short_callback_data() {
        let button = |data: &str| inline_button(&json!({"text": "Terima", "callback_data": data}));
        assert!(button("t:1:acc").is_ok());
        assert!(button(&"x".repeat(64)).is_ok());
        for bad in ["", &"x".repeat(65)] {
            assert_eq!(
                button(bad).unwrap_err().description,
                "Bad Request: BUTTON_DATA_INVALID"
            );
        }
        assert_eq!(
            inline_button(&json!({"text": "x"}))
                .unwrap_err()
                .description,
            "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        );
    }
}
