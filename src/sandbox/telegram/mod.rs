/*!
The Telegram Bot API stand-in: `getMe`, long-polled `getUpdates`, webhooks with their secret
header, `sendMessage` with Telegram's HTML parse mode and inline keyboards, edits, callback
queries, `sendPhoto`, the photos, documents and albums people send with `getFile` and the file
download route, bot commands and forum topics, Telegram's flood limits, and fault injection.
Shapes follow data/telegram/api.json; errors carry Telegram's exact descriptions.

This module implements the published formats on its own (its own HTML parser, modelled on the
one Telegram's servers run, tdlib's `parse_html`; plain `serde_json` values instead of the bot
client's types), so that a mistake shared by the client and the stand-in cannot hide.

Choices where Telegram's behaviour is not observable from outside:
- A private chat exists once its person wrote through `POST /sandbox/telegram/send`; before
  that, sending to it answers `Bad Request: chat not found`, as Telegram does for a user who
  never started the bot. Every negative id is a supergroup the bot is already in, so the staff
  group and the agency chats configured in bot.toml work before anyone writes there.
- Update ids follow the clock (four per second since 2025) and never go back, so a bot that
  kept its `offset` across a sandbox restart does not drop new updates as already confirmed.
  They stay far below 2^31, as teloxide sends `offset` as an `i32`.
- Webhook URLs may be plain `http://` (the bot listens on loopback); Telegram demands HTTPS.
- A callback query can be answered once, within 15 seconds.

The files, by concern: this one holds the settings and the state (chats, messages, people,
pending callbacks, the webhook); methods.rs the Bot API methods and their router; updates.rs the
update queue, `getUpdates` and webhooks; files.rs files, `getFile` and downloads; media.rs the
photos, documents and albums people send; params.rs request parameters; formatting.rs and html.rs
message text and its entities; keyboards.rs inline keyboards; flood.rs the flood limits;
errors.rs Telegram's error answer; control.rs the control endpoints and their router.
*/

mod control;
mod errors;
mod files;
mod flood;
mod formatting;
mod html;
mod keyboards;
mod media;
mod methods;
mod params;
mod updates;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use serde_json::{Value, json};
use tokio::sync::Notify;

pub use control::TelegramFault;
use flood::FloodGate;

use crate::sandbox::common::{now_s, webhook_client};
use crate::sandbox::control::Faults;

/// Longest message text, in characters, after entity parsing.
const MAX_TEXT: usize = 4096;

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
    /// The text, or a photo's or document's caption; without tags.
    text: String,
    entities: Vec<Value>,
    /// A photo's sizes, and what the bot sent as `photo` (URL or file id; for a person's
    /// photo, the largest size's file id).
    photo: Option<(Vec<Value>, String)>,
    /// A person's document, as the Bot API shows it.
    document: Option<Value>,
    /// Shared by the messages of one album.
    media_group_id: Option<String>,
    /// A non-empty inline keyboard.
    reply_markup: Option<Value>,
    reply_to: Option<i64>,
    link_preview_options: Option<Value>,
    edit_date: Option<i64>,
}

impl Message {
    /// A new message from `sender` (`None` for the bot), dated now, in no topic, replying to
    /// nothing; the chat gives it its id when it is stored.
    fn new(sender: Option<Person>, text: String, entities: Vec<Value>) -> Message {
        Message {
            id: 0,
            date: now_s(),
            sender,
            thread_id: None,
            text,
            entities,
            photo: None,
            document: None,
            media_group_id: None,
            reply_markup: None,
            reply_to: None,
            link_preview_options: None,
            edit_date: None,
        }
    }
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
    /// The files people sent and the bot uploaded, with their bytes.
    files: files::Files,
    /// Numbers the albums' `media_group_id`.
    last_media_group: u64,
    faults: Faults<TelegramFault>,
    flood: HashMap<i64, FloodGate>,
}

impl TelegramSandbox {
    pub fn new(settings: TelegramSettings) -> TelegramSandbox {
        TelegramSandbox {
            settings: Arc::new(settings),
            data: Arc::new(Mutex::new(Data::default())),
            notify: Arc::new(Notify::new()),
            http: webhook_client(None),
        }
    }

    /// Forgets chats, messages, files, updates, the webhook, faults and flood counters. Update
    /// and file ids keep growing, so an offset or a file id the bot holds never names something
    /// new.
    pub fn reset(&self) {
        let mut data = self.lock();
        *data = Data {
            last_update_id: data.last_update_id,
            webhook_generation: data.webhook_generation + 1,
            poll_generation: data.poll_generation,
            last_callback: data.last_callback,
            files: data.files.emptied(),
            last_media_group: data.last_media_group,
            ..Data::default()
        };
        drop(data);
        self.notify.notify_waiters();
    }

    /// The bot's user id (the number before the token's `:`).
    pub fn bot_id(&self) -> i64 {
        self.settings.bot_id()
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
        if let Some(group) = &m.media_group_id {
            v["media_group_id"] = json!(group);
        }
        if let Some((sizes, _)) = &m.photo {
            v["photo"] = json!(sizes);
        }
        if let Some(document) = &m.document {
            v["document"] = document.clone();
        }
        match m.photo.is_some() || m.document.is_some() {
            true => {
                if !m.text.is_empty() {
                    v["caption"] = json!(m.text);
                }
                if !m.entities.is_empty() {
                    v["caption_entities"] = json!(m.entities);
                }
            }
            false => {
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
}
