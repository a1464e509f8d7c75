/*!
The Bot API methods: `GET` or `POST /bot<token>/<method>` checked for its token and injected
faults, its parameters parsed, and the method run: `getMe`, `sendMessage`, `sendPhoto`,
`editMessageText`, `editMessageReplyMarkup`, `deleteMessage`, `answerCallbackQuery`,
`sendChatAction`, the bot commands, `createForumTopic`, `getFile` (the update methods are in
updates.rs; files and the download route `GET /file/bot<token>/<file_path>` in files.rs). Each
answers what Telegram answers, or Telegram's error with its exact description.
*/

use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::errors::{ApiError, Outcome};
use super::files::{self, Folder};
use super::formatting::{Field, formatted};
use super::keyboards::reply_markup;
use super::params::Params;
use super::{Chat, Data, Message, TelegramFault, TelegramSandbox};
use crate::sandbox::common::now_s;
use crate::sandbox::control;

/// Longest text of an `answerCallbackQuery`, in characters.
const MAX_CALLBACK_ANSWER: usize = 200;

/// How long a callback query can be answered. Telegram does not document the window; its
/// clients stop waiting for an answer after about 15 seconds.
const CALLBACK_ANSWER_WINDOW: Duration = Duration::from_secs(15);

/// Telegram's exact description for an edit that changes nothing.
const NOT_MODIFIED: &str = "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message";

/// Telegram's exact description for an unknown, expired or answered callback query.
const QUERY_TOO_OLD: &str = "query is too old and response timeout expired or query ID is invalid";

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

impl TelegramSandbox {
    /// The Bot API: `GET` or `POST /bot<token>/<method>`, and the files at
    /// `GET /file/bot<token>/<file_path>`, as Telegram serves them.
    pub fn api_router(&self) -> Router {
        Router::new()
            .route("/{bot_token}/{method}", get(api_call).post(api_call))
            .route("/file/{bot_token}/{*file_path}", get(files::download))
            .fallback(not_found)
            // Telegram takes photos up to 10 MB.
            .layer(DefaultBodyLimit::max(20 * 1024 * 1024))
            .with_state(self.clone())
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
            "getfile" => self.get_file(p),
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

    fn send_message(&self, p: &Params) -> Outcome {
        let markup = reply_markup(p, false)?;
        let link_preview_options = p.object("link_preview_options")?;
        let mut guard = self.lock();
        let data = &mut *guard;
        let chat_id = target_chat(data, p)?;
        let (text, entities) = formatted(&data.people, p, Field::Text)?;
        let (thread_id, reply_to) = self.placement(data, chat_id, p)?;
        let message = Message {
            thread_id,
            reply_markup: markup,
            reply_to,
            link_preview_options,
            ..Message::new(None, text, entities)
        };
        Ok(self.store(data, chat_id, message))
    }

    /// Where a new message of the bot goes in the chat, its topic and the message it replies to,
    /// once the flood limits admit it.
    fn placement(
        &self,
        data: &mut Data,
        chat_id: i64,
        p: &Params,
    ) -> Result<(Option<i64>, Option<i64>), ApiError> {
        let chat = &data.chats[&chat_id];
        let thread_id = thread_param(chat, p)?;
        let reply_to = reply_target(chat, p)?;
        self.admit(data, chat_id)?;
        Ok((thread_id, reply_to))
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
        } else if data.files.knows(&source) {
            (Some(source.clone()), 0)
        } else if source.is_empty() {
            return Err(ApiError::bad("there is no photo in the request"));
        } else {
            return Err(ApiError::bad("wrong file identifier/HTTP URL specified"));
        };
        let (thread_id, reply_to) = self.placement(data, chat_id, p)?;
        // An upload is kept, so that getFile serves it; a URL is not fetched.
        let (file_id, unique_id) = match file_id {
            Some(id) => (id.clone(), data.files.unique_id(&id)),
            None => data.files.issue(Folder::Photos, upload.cloned(), "jpg"),
        };
        let sizes = vec![json!({
            "file_id": file_id,
            "file_unique_id": unique_id,
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
            thread_id,
            photo: Some((sizes, source)),
            reply_markup: markup,
            reply_to,
            ..Message::new(None, caption, entities)
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
        let m = editable(data, chat_id, message_id)?;
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
        let m = editable(data, chat_id, message_id)?;
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

/// The message an edit changes, found by `edit_target`; only the bot's own messages can be
/// edited.
fn editable(data: &mut Data, chat_id: i64, message_id: i64) -> Result<&mut Message, ApiError> {
    let m = data
        .chats
        .get_mut(&chat_id)
        .and_then(|chat| chat.messages.get_mut(&message_id))
        .expect("message resolved");
    if m.sender.is_some() {
        return Err(ApiError::bad("message can't be edited"));
    }
    Ok(m)
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

fn commands_key(p: &Params) -> Result<String, ApiError> {
    let scope = p
        .object("scope")?
        .unwrap_or_else(|| json!({"type": "default"}));
    let language = p.string("language_code").unwrap_or_default();
    Ok(format!("{scope}|{language}"))
}
