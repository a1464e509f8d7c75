/*!
The WhatsApp Business Cloud API stand-in: `POST /{version}/{phone-number-id}/messages` for
text, template and interactive (reply buttons, list) messages and read receipts, the 24-hour
customer-service window, signed webhooks to the bot (incoming text and images, button presses,
and the `sent`, `delivered`, `read` and `failed` statuses), media retrieval (`GET
/{version}/{media-id}`, then the media URL), Graph API errors, and fault injection.
Shapes follow data/whatsapp/business-messaging-api_v23.0.yaml and reference/apis.md, section 5.

Control endpoints (SANDBOX.md), all JSON: `GET /sandbox/whatsapp/messages?to=NUMBER` (what the
bot sent, with statuses), `POST /sandbox/whatsapp/reply` (a person writes, sends an image or
presses; answered
once the webhook was delivered or given up), `POST /sandbox/whatsapp/read` (a person reads a
message), `POST /sandbox/whatsapp/close-window`, `GET /sandbox/whatsapp/webhooks` (deliveries
made), `GET /sandbox/whatsapp/usage` (delivered messages by pricing category),
`POST /sandbox/whatsapp/webhook-url`, `POST /sandbox/whatsapp/verify-webhook` (Meta's
`hub.challenge` handshake against the bot), `POST /sandbox/whatsapp/faults` and
`POST /sandbox/whatsapp/reset`.

This module implements the published formats on its own (plain `serde_json` values, its own
HMAC-SHA256 signing), without the bot's client types, so that a mistake shared by the client
and the stand-in cannot hide.

Choices where the published material is silent:
- Every number of 7 to 15 digits (a leading `+` allowed) is a WhatsApp user; anything else
  in `to` is refused at once with code 100.
- `type` may be left out (it defaults to `text`, as the Cloud API documents); `recipient_type`
  may be left out or `individual`. Media, location, contacts, reaction and group messages,
  and interactive types other than `button` and `list`, are refused with code 100.
- Only the configured API version is served; another one is refused with code 100, so a bot
  pointed at the wrong version finds out in the sandbox.
- A `context.message_id` the sandbox does not know is accepted and recorded, as the Cloud API
  does not check it either.
- Statuses follow the send after a short pause (`STATUS_DELAY`), so the bot normally holds the
  send's answer before the first status arrives. `sent`, `delivered` and `read` carry
  per-message pricing (`pricing_model` PMP): since 1 October 2026 Meta charges every delivered
  message, so each is `billable`, `type` `regular`, in category `service` (free-form and
  interactive messages) or `utility` (templates, the bot's only kind), inside the 24-hour window
  or not. `GET /sandbox/whatsapp/usage` counts each message once, by UTC day and category, when
  its `delivered` status goes out. `read` comes only when a test asks for it
  (`POST /sandbox/whatsapp/read`).
- Webhooks go out one at a time, in the order they arose (a single queue for the whole
  sandbox, so per-number order holds too). A non-2xx answer or a connection failure is retried
  three times after 100, 300 and 900 ms; then the delivery is recorded as failed and the queue
  moves on, so one bad delivery cannot block the rest forever (Meta retries for days).
- Bodies are signed as they go on the wire, in Meta's escaped form: every non-ASCII character
  as `\uXXXX` and `/` as `\/` (reference/apis.md 5.2). A receiver that re-serializes the JSON
  before checking the signature fails here as it would against Meta.
- Error messages follow Graph's shape (`(#code) title`, `error_data.details`); the exact texts
  of code 190, 131047, 132001 and the unknown-object error are Meta's, the `details` of
  validation errors are the sandbox's own wording.

The files, by concern: this one holds the settings and the state (conversations, the messages
the bot sent, the windows); messages.rs the messages endpoint and its router; requests.rs and
interactive.rs what that endpoint accepts; webhooks.rs signing and delivering webhooks;
person.rs what a person does; media.rs the images people send and their retrieval; errors.rs Graph's errors; control.rs the control endpoints and
their router.
*/

mod control;
mod errors;
mod interactive;
mod media;
mod messages;
mod person;
mod requests;
mod webhooks;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

use control::Fault;
use webhooks::Pending;

use crate::sandbox::common::webhook_client;
use crate::sandbox::control::Faults;

/// Longest text message body, in characters.
const MAX_TEXT: usize = 4096;
/// How long a person's message keeps the customer-service window open.
const WINDOW: Duration = Duration::from_secs(24 * 3600);

/// The sandbox's business number and credentials (public values: they protect nothing).
#[derive(Debug, Clone)]
pub struct WhatsAppSettings {
    /// The bearer token the bot must send; anything else gets Graph's 401 (code 190).
    pub access_token: String,
    /// The app secret that signs webhooks (`X-Hub-Signature-256`).
    pub app_secret: String,
    /// The business phone number's id, the second segment of the send path.
    pub phone_number_id: String,
    /// The business number as people see it, digits only; `metadata.display_phone_number` and
    /// `context.from` in webhooks.
    pub display_phone_number: String,
    /// The WhatsApp Business Account id, `entry[].id` in webhooks.
    pub waba_id: String,
    /// Where webhooks go: the bot's endpoint. Tests that bind the bot on port 0 change it with
    /// [`WhatsAppSandbox::set_webhook_url`].
    pub webhook_url: String,
    /// The approved template names; sending any other is refused with code 132001.
    pub templates: Vec<String>,
    /// The Graph API version served, e.g. "v23.0", the first segment of the send path.
    pub api_version: String,
}

impl Default for WhatsAppSettings {
    fn default() -> Self {
        WhatsAppSettings {
            access_token: "sandbox-whatsapp-token".to_owned(),
            app_secret: "sandbox-app-secret".to_owned(),
            phone_number_id: "106540352242922".to_owned(),
            display_phone_number: "6281100000000".to_owned(),
            waba_id: "102290129340398".to_owned(),
            webhook_url: "http://127.0.0.1:8080/webhooks/whatsapp".to_owned(),
            templates: vec!["kicau_tiket_baru".to_owned(), "kicau_pengingat".to_owned()],
            api_version: "v23.0".to_owned(),
        }
    }
}

/// The shared state of one WhatsApp sandbox. Clones share it.
#[derive(Clone)]
pub struct WhatsAppSandbox {
    settings: Arc<WhatsAppSettings>,
    data: Arc<Mutex<Data>>,
    /// Delivers webhooks.
    http: reqwest::Client,
    /// Makes message ids unique across sandbox restarts, as the bot may keep them.
    nonce: u64,
}

/// What the bot sends: the Cloud API's message `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Template,
    Interactive,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::Template => "template",
            Kind::Interactive => "interactive",
        }
    }

    /// Free-form messages need an open customer-service window; templates do not.
    fn is_free_form(self) -> bool {
        self != Kind::Template
    }

    /// Meta's pricing category: the bot's templates are utility ones, everything else is a
    /// service message.
    fn pricing_category(self) -> &'static str {
        match self {
            Kind::Template => "utility",
            Kind::Text | Kind::Interactive => "service",
        }
    }
}

/// Delivered messages by UTC day and pricing category, for the cost accounting.
#[derive(Debug, Default)]
struct Usage {
    /// `YYYY-MM-DD` (which sorts oldest first) to counts by category.
    days: BTreeMap<String, BTreeMap<&'static str, u64>>,
}

impl Usage {
    fn count(&mut self, now_ms: u64, category: &'static str) {
        *self
            .days
            .entry(crate::sandbox::common::utc_date(now_ms))
            .or_default()
            .entry(category)
            .or_default() += 1;
    }

    /// The body of `GET /sandbox/whatsapp/usage`: each day's delivered messages by category,
    /// oldest first, and the totals; both categories always appear.
    fn json(&self) -> Value {
        let counts = |by: &BTreeMap<&'static str, u64>| {
            json!({
                "service": by.get("service").copied().unwrap_or(0),
                "utility": by.get("utility").copied().unwrap_or(0),
            })
        };
        let mut total = BTreeMap::new();
        let days: Vec<Value> = self
            .days
            .iter()
            .map(|(date, by)| {
                for (category, n) in by {
                    *total.entry(*category).or_insert(0) += n;
                }
                json!({"date": date, "delivered": counts(by)})
            })
            .collect();
        json!({"days": days, "total": counts(&total)})
    }
}

/// A message the bot sent, with what became of it.
#[derive(Debug, Clone)]
struct Sent {
    id: String,
    kind: Kind,
    content: Value,
    context_id: Option<String>,
    timestamp: i64,
    /// Every status so far, oldest first, starting with `accepted`.
    statuses: Vec<&'static str>,
    errors: Option<Value>,
}

/// One number's conversation with the business.
#[derive(Debug, Default)]
struct Chat {
    /// The person's profile name.
    name: Option<String>,
    /// When the person last wrote; the window is open for 24 hours after.
    last_inbound: Option<Instant>,
    sent: Vec<Sent>,
    /// Ids of the messages the person wrote.
    received: Vec<String>,
}

impl Chat {
    fn window_open(&self) -> bool {
        self.last_inbound.is_some_and(|t| t.elapsed() < WINDOW)
    }

    fn sent_mut(&mut self, id: &str) -> Option<&mut Sent> {
        self.sent.iter_mut().find(|m| m.id == id)
    }
}

#[derive(Default)]
struct Data {
    webhook_url: String,
    chats: HashMap<String, Chat>,
    last_id: u64,
    queue: VecDeque<Pending>,
    worker_running: bool,
    /// Finished webhook deliveries, oldest first.
    deliveries: Vec<Value>,
    faults: Faults<Fault>,
    /// Grows on every reset, so work begun before it is dropped.
    generation: u64,
    /// Delivered messages, for `GET /sandbox/whatsapp/usage`.
    usage: Usage,
    /// Images people sent, for the bot to retrieve.
    media: media::MediaStore,
}

impl WhatsAppSandbox {
    pub fn new(settings: WhatsAppSettings) -> WhatsAppSandbox {
        let data = Data {
            webhook_url: settings.webhook_url.clone(),
            ..Data::default()
        };
        WhatsAppSandbox {
            settings: Arc::new(settings),
            data: Arc::new(Mutex::new(data)),
            http: webhook_client(Some("facebookexternalua")),
            nonce: rand::random(),
        }
    }

    /// Forgets conversations, windows, media, pending and recorded webhooks, and faults. The
    /// webhook URL stays (it is wiring, not state), and message and media ids keep growing.
    pub fn reset(&self) {
        let mut data = self.lock();
        *data = Data {
            webhook_url: std::mem::take(&mut data.webhook_url),
            last_id: data.last_id,
            worker_running: data.worker_running,
            generation: data.generation + 1,
            ..Data::default()
        };
    }

    /// Points webhooks at `url`, e.g. a bot listening on a port chosen at start-up.
    pub fn set_webhook_url(&self, url: impl Into<String>) {
        self.lock().webhook_url = url.into();
    }

    fn lock(&self) -> MutexGuard<'_, Data> {
        self.data.lock().expect("whatsapp sandbox lock")
    }

    /// A new message id, `wamid.` and base64 like Meta's, unique across restarts.
    fn next_id(&self, data: &mut Data, number: &str) -> String {
        data.last_id += 1;
        let raw = format!("{number}:{:016X}:{:010}", self.nonce, data.last_id);
        format!(
            "wamid.{}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    }
}
