//! The WhatsApp Business Cloud API stand-in: `POST /{version}/{phone-number-id}/messages` for
//! text, template and interactive (reply buttons, list) messages and read receipts, the 24-hour
//! customer-service window, signed webhooks to the bot (incoming messages, button presses, and
//! the `sent`, `delivered`, `read` and `failed` statuses), Graph API errors, and fault injection.
//! Shapes follow data/whatsapp/business-messaging-api_v23.0.yaml and reference/apis.md, section 5.
//!
//! Control endpoints (SANDBOX.md), all JSON: `GET /sandbox/whatsapp/messages?to=NUMBER` (what the
//! bot sent, with statuses), `POST /sandbox/whatsapp/reply` (a person writes or presses; answered
//! once the webhook was delivered or given up), `POST /sandbox/whatsapp/read` (a person reads a
//! message), `POST /sandbox/whatsapp/close-window`, `GET /sandbox/whatsapp/webhooks` (deliveries
//! made), `POST /sandbox/whatsapp/webhook-url`, `POST /sandbox/whatsapp/verify-webhook` (Meta's
//! `hub.challenge` handshake against the bot), `POST /sandbox/whatsapp/faults` and
//! `POST /sandbox/whatsapp/reset`.
//!
//! This module implements the published formats on its own (plain `serde_json` values, its own
//! HMAC-SHA256 signing), without the bot's client types, so that a mistake shared by the client
//! and the stand-in cannot hide.
//!
//! Choices where the published material is silent:
//! - Every number of 7 to 15 digits (a leading `+` allowed) is a WhatsApp user; anything else
//!   in `to` is refused at once with code 100.
//! - `type` may be left out (it defaults to `text`, as the Cloud API documents); `recipient_type`
//!   may be left out or `individual`. Media, location, contacts, reaction and group messages,
//!   and interactive types other than `button` and `list`, are refused with code 100.
//! - Only the configured API version is served; another one is refused with code 100, so a bot
//!   pointed at the wrong version finds out in the sandbox.
//! - A `context.message_id` the sandbox does not know is accepted and recorded, as the Cloud API
//!   does not check it either.
//! - Statuses follow the send after a short pause (`STATUS_DELAY`), so the bot normally holds the
//!   send's answer before the first status arrives. `sent` and `delivered` carry per-message
//!   pricing (`pricing_model` PMP, July 2025 onwards): free-form messages and templates inside the
//!   window as free customer service, templates outside it as billable `utility`. `read` comes
//!   only when a test asks for it (`POST /sandbox/whatsapp/read`).
//! - Webhooks go out one at a time, in the order they arose (a single queue for the whole
//!   sandbox, so per-number order holds too). A non-2xx answer or a connection failure is retried
//!   three times after 100, 300 and 900 ms; then the delivery is recorded as failed and the queue
//!   moves on, so one bad delivery cannot block the rest forever (Meta retries for days).
//! - Bodies are signed as they go on the wire, in Meta's escaped form: every non-ASCII character
//!   as `\uXXXX` and `/` as `\/` (reference/apis.md 5.2). A receiver that re-serializes the JSON
//!   before checking the signature fails here as it would against Meta.
//! - Error messages follow Graph's shape (`(#code) title`, `error_data.details`); the exact texts
//!   of code 190, 131047, 132001 and the unknown-object error are Meta's, the `details` of
//!   validation errors are the sandbox's own wording.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use sha2::Sha256;
use tokio::sync::oneshot;

use crate::sandbox::common::{now_s, webhook_client};
use crate::sandbox::control::{self, Controlled, Faults, JsonBody, once};

/// Longest text message body, in characters.
const MAX_TEXT: usize = 4096;
/// Longest body of an interactive message, in characters.
const MAX_INTERACTIVE_BODY: usize = 1024;
/// Longest text header or footer of an interactive message, in characters.
const MAX_HEADER_FOOTER: usize = 60;
/// Most reply buttons in an interactive message.
const MAX_BUTTONS: usize = 3;
/// Longest reply button id, in characters.
const MAX_BUTTON_ID: usize = 256;
/// Longest reply button title, and longest list button label, in characters.
const MAX_BUTTON_TITLE: usize = 20;
/// Most sections in a list message, and most rows across its sections.
const MAX_SECTIONS: usize = 10;
const MAX_ROWS: usize = 10;
/// Longest list row id, row title, row description and section title, in characters.
const MAX_ROW_ID: usize = 200;
const MAX_ROW_TITLE: usize = 24;
const MAX_ROW_DESCRIPTION: usize = 72;
const MAX_SECTION_TITLE: usize = 24;
/// How long a person's message keeps the customer-service window open.
const WINDOW: Duration = Duration::from_secs(24 * 3600);
/// The pause between a send and its first status webhook.
const STATUS_DELAY: Duration = Duration::from_millis(20);
/// Delivery attempts per webhook before it is recorded as failed.
const WEBHOOK_ATTEMPTS: u32 = 4;
/// Where Meta's webhook errors point.
const ERROR_HREF: &str =
    "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/";
/// Meta's details for a free-form message outside the window (error 131047).
const REENGAGEMENT_DETAILS: &str = "Message failed to send because more than 24 hours have passed since the customer last replied to this number.";
/// Meta's message for a token it cannot read (error 190).
const INVALID_TOKEN: &str = "Invalid OAuth access token - Cannot parse access token";

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

/// What the bot asked to send, checked against the published rules.
#[derive(Debug, Clone, PartialEq)]
struct Outgoing {
    /// `to` as the bot wrote it.
    to: String,
    /// The recipient's digits.
    wa_id: String,
    kind: Kind,
    /// The `text`, `template` or `interactive` object, as sent.
    content: Value,
    context_id: Option<String>,
}

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
}

/// A request to the messages endpoint.
#[derive(Debug, Clone, PartialEq)]
enum Request {
    Message(Outgoing),
    /// `{"messaging_product":"whatsapp","status":"read","message_id":...}`.
    MarkRead {
        message_id: String,
    },
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

/// A status change that takes effect in the listing when its webhook goes out.
#[derive(Debug)]
struct Effect {
    number: String,
    message_id: String,
    status: &'static str,
    errors: Option<Value>,
}

impl Effect {
    fn new(number: &str, message_id: &str, status: &'static str, errors: Option<Value>) -> Effect {
        Effect {
            number: number.to_owned(),
            message_id: message_id.to_owned(),
            status,
            errors,
        }
    }
}

/// A webhook waiting in the delivery queue.
struct Pending {
    kind: &'static str,
    body: Value,
    not_before: Instant,
    effect: Option<Effect>,
    /// Told the outcome, for control endpoints that answer after the delivery.
    done: Option<oneshot::Sender<Outcome>>,
    generation: u64,
}

/// Clears `Data::worker_running` when the delivery worker ends without emptying the queue (its
/// runtime shut down, as at the end of a `#[tokio::test]`, or it panicked), so the next webhook
/// starts a new worker instead of waiting for a dead one.
struct WorkerFlag {
    data: Arc<Mutex<Data>>,
    armed: bool,
}

impl Drop for WorkerFlag {
    fn drop(&mut self) {
        if self.armed
            && let Ok(mut data) = self.data.lock()
        {
            data.worker_running = false;
        }
    }
}

/// How a webhook delivery ended.
#[derive(Debug, Clone)]
struct Outcome {
    delivered: bool,
    receiver_status: Option<u16>,
    error: Option<String>,
}

/// A fault to inject: the next `times` sends wait `delay_ms`, then fail with `status` and a
/// Graph error (`code` defaults by status: 429 gives 130429, 503 gives 2, 400 gives 100, 401
/// gives 190, others 131000) or, without a status, proceed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Fault {
    #[serde(default)]
    status: Option<u16>,
    #[serde(default)]
    code: Option<u32>,
    #[serde(default)]
    details: Option<String>,
    #[serde(default = "once")]
    times: u32,
    #[serde(default)]
    delay_ms: u64,
}

control::impl_fault!(Fault);

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
}

/// A Graph API error: `{"error":{"message","type","code",...,"fbtrace_id"}}`.
#[derive(Debug, Clone, PartialEq)]
struct GraphError {
    status: StatusCode,
    code: u32,
    kind: &'static str,
    message: String,
    subcode: Option<u32>,
    details: Option<String>,
}

impl GraphError {
    fn new(status: StatusCode, code: u32, message: impl Into<String>) -> GraphError {
        GraphError {
            status,
            code,
            kind: "OAuthException",
            message: message.into(),
            subcode: None,
            details: None,
        }
    }

    fn with_details(mut self, details: impl Into<String>) -> GraphError {
        self.details = Some(details.into());
        self
    }

    fn invalid_token() -> GraphError {
        GraphError::new(StatusCode::UNAUTHORIZED, 190, INVALID_TOKEN)
    }

    /// Code 100 for a parameter that is missing.
    fn required(name: &str) -> GraphError {
        GraphError::new(
            StatusCode::BAD_REQUEST,
            100,
            format!("(#100) The parameter {name} is required."),
        )
    }

    /// Code 100 for a parameter whose value is wrong.
    fn invalid(details: impl Into<String>) -> GraphError {
        GraphError::new(StatusCode::BAD_REQUEST, 100, "(#100) Invalid parameter")
            .with_details(details)
    }

    /// Code 131009, which WhatsApp uses for interactive messages that break its limits.
    fn not_valid(details: impl Into<String>) -> GraphError {
        GraphError::new(
            StatusCode::BAD_REQUEST,
            131009,
            "(#131009) Parameter value is not valid",
        )
        .with_details(details)
    }

    fn unknown_template(name: &str, language: &str) -> GraphError {
        GraphError::new(
            StatusCode::BAD_REQUEST,
            132001,
            "(#132001) Template name does not exist in the translation",
        )
        .with_details(format!(
            "template name ({name}) does not exist in {language}"
        ))
    }

    /// Graph's answer for a path whose object id is unknown.
    fn unknown_object(id: &str) -> GraphError {
        GraphError {
            kind: "GraphMethodException",
            subcode: Some(33),
            ..GraphError::new(
                StatusCode::BAD_REQUEST,
                100,
                format!(
                    "Unsupported post request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api"
                ),
            )
        }
    }

    /// An injected fault.
    fn fault(status: u16, code: Option<u32>, details: Option<String>) -> GraphError {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let code = code.unwrap_or(match status.as_u16() {
            429 => 130429,
            503 => 2,
            400 => 100,
            401 => 190,
            _ => 131000,
        });
        let (message, default_details) = match code {
            2 => ("Service temporarily unavailable".to_owned(), None),
            100 => ("(#100) Invalid parameter".to_owned(), None),
            190 => (INVALID_TOKEN.to_owned(), None),
            130429 => (
                "(#130429) Rate limit hit".to_owned(),
                Some("Cloud API message throughput has been reached."),
            ),
            131047 => (
                "(#131047) Re-engagement message".to_owned(),
                Some(REENGAGEMENT_DETAILS),
            ),
            131056 => (
                "(#131056) (Business Account, Consumer Account) pair rate limit hit".to_owned(),
                Some(
                    "Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time.",
                ),
            ),
            131000 => (
                "(#131000) Something went wrong".to_owned(),
                Some("Message failed to send due to an unknown error."),
            ),
            code => (format!("(#{code}) Sandbox fault"), None),
        };
        let mut error = GraphError::new(status, code, message);
        error.details = details.or(default_details.map(str::to_owned));
        error
    }

    fn json(&self) -> Value {
        let mut error = json!({
            "message": self.message,
            "type": self.kind,
            "code": self.code,
            "fbtrace_id": trace_id(),
        });
        if let Some(subcode) = self.subcode {
            error["error_subcode"] = json!(subcode);
        }
        if let Some(details) = &self.details {
            error["error_data"] = json!({"messaging_product": "whatsapp", "details": details});
        }
        json!({ "error": error })
    }
}

impl IntoResponse for GraphError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.json())).into_response();
        if self.code == 190 {
            let value = format!(
                "OAuth \"Facebook Platform\" \"invalid_token\" \"{}\"",
                self.message
            );
            if let Ok(value) = HeaderValue::from_str(&value) {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, value);
            }
        }
        response
    }
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

    /// Forgets conversations, windows, pending and recorded webhooks, and faults. The webhook URL
    /// stays (it is wiring, not state), and message ids keep growing.
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

    /// What the bot sent to a number, in order, each with its latest status; the body of
    /// `GET /sandbox/whatsapp/messages?to=NUMBER`. A leading `+` in `to` is ignored.
    pub fn messages(&self, to: &str) -> Vec<Value> {
        let data = self.lock();
        let Some(chat) = data.chats.get(to.trim_start_matches('+')) else {
            return Vec::new();
        };
        chat.sent
            .iter()
            .map(|m| {
                let mut v = json!({
                    "id": m.id,
                    "type": m.kind.name(),
                    "timestamp": m.timestamp.to_string(),
                    "status": m.statuses.last().copied().unwrap_or("accepted"),
                    "statuses": m.statuses,
                });
                v[m.kind.name()] = m.content.clone();
                if let Some(context_id) = &m.context_id {
                    v["context_id"] = json!(context_id);
                }
                if let Some(errors) = &m.errors {
                    v["errors"] = errors.clone();
                }
                v
            })
            .collect()
    }

    /// The webhook deliveries finished so far, oldest first; the body of
    /// `GET /sandbox/whatsapp/webhooks`. Each has `seq`, `kind` (`message` or `status`), the
    /// `body` as JSON, the `signature` header sent, `attempts`, the receiver's last HTTP status
    /// (`receiver_status`, null when it could not be reached), `delivered`, and `error`.
    pub fn webhooks(&self) -> Vec<Value> {
        self.lock().deliveries.clone()
    }

    /// The Cloud API: `POST /{version}/{phone-number-id}/messages`.
    pub fn api_router(&self) -> Router {
        Router::new()
            .route("/{version}/{phone_number_id}/messages", post(api_send))
            .fallback(api_unknown_path)
            .with_state(self.clone())
    }

    /// The control endpoints under `/sandbox/whatsapp/` (SANDBOX.md): act as a person, read what
    /// the bot sent and the webhooks it got, close a window, inject faults.
    pub fn control_router(&self) -> Router {
        Router::new()
            .route("/sandbox/whatsapp/messages", get(control_messages))
            .route("/sandbox/whatsapp/reply", post(control_reply))
            .route("/sandbox/whatsapp/read", post(control_read))
            .route("/sandbox/whatsapp/close-window", post(control_close_window))
            .route("/sandbox/whatsapp/webhooks", get(control_webhooks))
            .route("/sandbox/whatsapp/webhook-url", post(control_webhook_url))
            .route("/sandbox/whatsapp/verify-webhook", post(control_verify))
            .merge(control::shared_routes(
                "/sandbox/whatsapp/reset",
                "/sandbox/whatsapp/faults",
            ))
            .with_state(self.clone())
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

    // --- Sending ------------------------------------------------------------------------------

    async fn send(
        &self,
        version: &str,
        phone_number_id: &str,
        query: Option<&str>,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Value, GraphError> {
        if version != self.settings.api_version {
            return Err(GraphError {
                kind: "GraphMethodException",
                ..GraphError::invalid(format!(
                    "API version {version} is not served; the sandbox serves {}",
                    self.settings.api_version
                ))
            });
        }
        if access_token(headers, query).as_deref() != Some(self.settings.access_token.as_str()) {
            return Err(GraphError::invalid_token());
        }
        if phone_number_id != self.settings.phone_number_id {
            return Err(GraphError::unknown_object(phone_number_id));
        }
        if let Some(fault) = self.take_fault() {
            control::pause(&fault).await;
            if let Some(status) = fault.status {
                return Err(GraphError::fault(status, fault.code, fault.details));
            }
        }
        let body: Value = serde_json::from_slice(body)
            .map_err(|e| GraphError::invalid(format!("the request body is not JSON: {e}")))?;
        match parse_request(&body, &self.settings.templates)? {
            Request::MarkRead { message_id } => self.mark_read(&message_id),
            Request::Message(outgoing) => Ok(self.accept(outgoing)),
        }
    }

    /// Takes the next injected fault: faults hit every send alike.
    fn take_fault(&self) -> Option<Fault> {
        self.lock().faults.take(|_| true)
    }

    /// A read receipt is accepted for a message the person wrote, as the Cloud API requires.
    fn mark_read(&self, message_id: &str) -> Result<Value, GraphError> {
        let data = self.lock();
        let known = data
            .chats
            .values()
            .any(|chat| chat.received.iter().any(|id| id == message_id));
        if !known {
            return Err(GraphError::invalid(format!(
                "message_id {message_id} is not a message this business received"
            )));
        }
        Ok(json!({"success": true}))
    }

    /// Records a valid message and queues its statuses: `failed` with 131047 for a free-form
    /// message outside the window, else `sent` and `delivered`.
    fn accept(&self, outgoing: Outgoing) -> Value {
        let mut guard = self.lock();
        let data = &mut *guard;
        let id = self.next_id(data, &outgoing.wa_id);
        let chat = data.chats.entry(outgoing.wa_id.clone()).or_default();
        let window_open = chat.window_open();
        chat.sent.push(Sent {
            id: id.clone(),
            kind: outgoing.kind,
            content: outgoing.content,
            context_id: outgoing.context_id,
            timestamp: now_s(),
            statuses: vec!["accepted"],
            errors: None,
        });
        let due = Instant::now() + STATUS_DELAY;
        if outgoing.kind.is_free_form() && !window_open {
            let errors = json!([{
                "code": 131047,
                "title": "Re-engagement message",
                "message": "Re-engagement message",
                "error_data": {"details": REENGAGEMENT_DETAILS},
                "href": ERROR_HREF,
            }]);
            let effect = Effect::new(&outgoing.wa_id, &id, "failed", Some(errors));
            self.queue_status(data, effect, due);
        } else {
            for status in ["sent", "delivered"] {
                let effect = Effect::new(&outgoing.wa_id, &id, status, None);
                self.queue_status(data, effect, due);
            }
        }
        let mut message = json!({"id": id});
        if outgoing.kind == Kind::Template {
            message["message_status"] = json!("accepted");
        }
        json!({
            "messaging_product": "whatsapp",
            "contacts": [{"input": outgoing.to, "wa_id": outgoing.wa_id}],
            "messages": [message],
        })
    }

    /// Queues a status webhook for one of the bot's messages; the listing shows the status once
    /// the webhook goes out.
    fn queue_status(
        &self,
        data: &mut Data,
        effect: Effect,
        not_before: Instant,
    ) -> oneshot::Receiver<Outcome> {
        let mut entry = json!({
            "id": effect.message_id,
            "status": effect.status,
            "timestamp": now_s().to_string(),
            "recipient_id": effect.number,
        });
        match &effect.errors {
            Some(errors) => entry["errors"] = errors.clone(),
            None => {
                let chat = &data.chats[&effect.number];
                let sent = chat.sent.iter().find(|m| m.id == effect.message_id);
                let billable =
                    sent.is_some_and(|m| m.kind == Kind::Template) && !chat.window_open();
                entry["pricing"] = if billable {
                    json!({"billable": true, "pricing_model": "PMP", "category": "utility", "type": "regular"})
                } else {
                    json!({"billable": false, "pricing_model": "PMP", "category": "service", "type": "free_customer_service"})
                };
            }
        }
        let body = self.envelope(json!({ "statuses": [entry] }));
        self.enqueue(data, "status", body, not_before, Some(effect))
    }

    // --- Webhooks -----------------------------------------------------------------------------

    /// The webhook envelope around a change's value (reference/apis.md 5.2).
    fn envelope(&self, fields: Value) -> Value {
        let mut value = Map::new();
        value.insert("messaging_product".to_owned(), json!("whatsapp"));
        value.insert(
            "metadata".to_owned(),
            json!({
                "display_phone_number": self.settings.display_phone_number,
                "phone_number_id": self.settings.phone_number_id,
            }),
        );
        if let Value::Object(fields) = fields {
            value.extend(fields);
        }
        json!({
            "object": "whatsapp_business_account",
            "entry": [{
                "id": self.settings.waba_id,
                "changes": [{"value": value, "field": "messages"}],
            }],
        })
    }

    /// Adds a webhook to the queue and makes sure a worker delivers it.
    fn enqueue(
        &self,
        data: &mut Data,
        kind: &'static str,
        body: Value,
        not_before: Instant,
        effect: Option<Effect>,
    ) -> oneshot::Receiver<Outcome> {
        let (done, outcome) = oneshot::channel();
        data.queue.push_back(Pending {
            kind,
            body,
            not_before,
            effect,
            done: Some(done),
            generation: data.generation,
        });
        if !data.worker_running {
            data.worker_running = true;
            tokio::spawn(self.clone().deliver_webhooks());
        }
        outcome
    }

    /// Delivers queued webhooks one at a time, in order, and ends when the queue is empty.
    async fn deliver_webhooks(self) {
        let mut flag = WorkerFlag {
            data: self.data.clone(),
            armed: true,
        };
        loop {
            let (mut pending, url) = {
                let mut data = self.lock();
                let Some(pending) = data.queue.pop_front() else {
                    data.worker_running = false;
                    flag.armed = false;
                    return;
                };
                (pending, data.webhook_url.clone())
            };
            tokio::time::sleep_until(pending.not_before.into()).await;
            if let Some(effect) = pending.effect.take()
                && !self.apply(pending.generation, effect)
            {
                continue;
            }
            let raw = meta_json(&pending.body);
            let signature = format!("sha256={}", signature(&self.settings.app_secret, &raw));
            let (attempts, outcome) = self
                .post_webhook(&url, &raw, &signature, pending.generation)
                .await;
            {
                let mut data = self.lock();
                if data.generation != pending.generation {
                    continue;
                }
                if let Some(error) = &outcome.error {
                    tracing::warn!(%url, %error, "whatsapp sandbox: webhook delivery failed");
                }
                let seq = data.deliveries.len() + 1;
                data.deliveries.push(json!({
                    "seq": seq,
                    "kind": pending.kind,
                    "body": pending.body,
                    "signature": signature,
                    "attempts": attempts,
                    "receiver_status": outcome.receiver_status,
                    "delivered": outcome.delivered,
                    "error": outcome.error,
                }));
            }
            if let Some(done) = pending.done.take() {
                let _ = done.send(outcome);
            }
        }
    }

    /// Shows a status in the listing; false when a reset made it stale.
    fn apply(&self, generation: u64, effect: Effect) -> bool {
        let mut data = self.lock();
        if data.generation != generation {
            return false;
        }
        if let Some(sent) = data
            .chats
            .get_mut(&effect.number)
            .and_then(|chat| chat.sent_mut(&effect.message_id))
        {
            sent.statuses.push(effect.status);
            if effect.errors.is_some() {
                sent.errors = effect.errors;
            }
        }
        true
    }

    /// POSTs one signed body, retrying a non-2xx answer or a connection failure; answers the
    /// attempts made and the outcome.
    async fn post_webhook(
        &self,
        url: &str,
        raw: &[u8],
        signature: &str,
        generation: u64,
    ) -> (u32, Outcome) {
        let mut outcome = Outcome {
            delivered: false,
            receiver_status: None,
            error: Some("no webhook URL is set".to_owned()),
        };
        if url.is_empty() {
            return (0, outcome);
        }
        let mut attempts = 0;
        for attempt in 0..WEBHOOK_ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(100 * 3u64.pow(attempt - 1))).await;
                if self.lock().generation != generation {
                    break;
                }
            }
            attempts += 1;
            let result = self
                .http
                .post(url)
                .header(header::CONTENT_TYPE, "application/json")
                .header("X-Hub-Signature-256", signature)
                .body(raw.to_vec())
                .send()
                .await;
            outcome = match result {
                Ok(response) if response.status().is_success() => Outcome {
                    delivered: true,
                    receiver_status: Some(response.status().as_u16()),
                    error: None,
                },
                Ok(response) => Outcome {
                    delivered: false,
                    receiver_status: Some(response.status().as_u16()),
                    error: Some(format!("the receiver answered {}", response.status())),
                },
                Err(e) => Outcome {
                    delivered: false,
                    receiver_status: None,
                    error: Some(format!("the receiver could not be reached: {e}")),
                },
            };
            if outcome.delivered {
                break;
            }
        }
        (attempts, outcome)
    }

    // --- A person on WhatsApp -----------------------------------------------------------------

    /// A person writes or presses a button: records the message, opens the window and queues the
    /// webhook; answers the message id and a receiver for the delivery's outcome.
    fn person_writes(
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
            input.button_reply.is_some(),
            input.list_reply.is_some(),
            input.button.is_some(),
        ]
        .iter()
        .filter(|&&given| given)
        .count();
        if chosen != 1 {
            return Err("give exactly one of text, button_reply, list_reply and button".to_owned());
        }
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
                .filter(|c| c["type"] == "button" && c["sub_type"] == "quick_reply")
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
        message.insert("from".to_owned(), json!(number));
        message.insert("id".to_owned(), json!(id));
        message.insert("timestamp".to_owned(), json!(now_s().to_string()));
        let body = self.envelope(json!({
            "contacts": [{"profile": {"name": name}, "wa_id": number}],
            "messages": [Value::Object(message)],
        }));
        let outcome = self.enqueue(data, "message", body, Instant::now(), None);
        Ok((id, outcome))
    }
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

// --- Validation -----------------------------------------------------------------------------

/// Checks a request to the messages endpoint the way the Cloud API does.
fn parse_request(body: &Value, templates: &[String]) -> Result<Request, GraphError> {
    let Some(fields) = body.as_object() else {
        return Err(GraphError::invalid(
            "the request body must be a JSON object",
        ));
    };
    match fields.get("messaging_product") {
        None => return Err(GraphError::required("messaging_product")),
        Some(Value::String(product)) if product == "whatsapp" => {}
        Some(other) => {
            return Err(GraphError::invalid(format!(
                "messaging_product must be \"whatsapp\", not {other}"
            )));
        }
    }
    if let Some(status) = fields.get("status") {
        if status != "read" {
            return Err(GraphError::invalid(format!(
                "status must be \"read\", not {status}"
            )));
        }
        let Some(message_id) = fields.get("message_id").and_then(Value::as_str) else {
            return Err(GraphError::required("message_id"));
        };
        if let Some(indicator) = fields.get("typing_indicator")
            && indicator["type"] != "text"
        {
            return Err(GraphError::invalid(
                "typing_indicator.type must be \"text\"",
            ));
        }
        return Ok(Request::MarkRead {
            message_id: message_id.to_owned(),
        });
    }
    match fields.get("recipient_type") {
        None => {}
        Some(Value::String(kind)) if kind == "individual" => {}
        Some(other) => {
            return Err(GraphError::invalid(format!(
                "recipient_type must be \"individual\" in the sandbox, not {other}"
            )));
        }
    }
    let to = match fields.get("to") {
        None => return Err(GraphError::required("to")),
        Some(Value::String(to)) => to.clone(),
        Some(other) => {
            return Err(GraphError::invalid(format!(
                "to must be a string, not {other}"
            )));
        }
    };
    let Some(wa_id) = phone_digits(&to) else {
        return Err(GraphError::invalid(format!(
            "to must be a phone number of 7 to 15 digits, not {to:?}"
        )));
    };
    let kind = match fields.get("type").map(|t| t.as_str()) {
        None | Some(Some("text")) => Kind::Text,
        Some(Some("template")) => Kind::Template,
        Some(Some("interactive")) => Kind::Interactive,
        Some(Some(other)) => {
            return Err(GraphError::invalid(format!(
                "type {other:?} is not supported by the sandbox; use text, template or interactive"
            )));
        }
        Some(None) => return Err(GraphError::invalid("type must be a string")),
    };
    let context_id = match fields.get("context") {
        None => None,
        Some(context) => match context.get("message_id").and_then(Value::as_str) {
            Some(id) if !id.is_empty() => Some(id.to_owned()),
            _ => return Err(GraphError::required("context['message_id']")),
        },
    };
    let Some(content) = fields.get(kind.name()) else {
        return Err(GraphError::required(kind.name()));
    };
    if !content.is_object() {
        return Err(GraphError::invalid(format!(
            "{} must be an object",
            kind.name()
        )));
    }
    match kind {
        Kind::Text => check_text(content)?,
        Kind::Template => check_template(content, templates)?,
        Kind::Interactive => check_interactive(content)?,
    }
    Ok(Request::Message(Outgoing {
        to,
        wa_id,
        kind,
        content: content.clone(),
        context_id,
    }))
}

fn check_text(text: &Value) -> Result<(), GraphError> {
    let Some(body) = text.get("body") else {
        return Err(GraphError::required("text['body']"));
    };
    let Some(body) = body.as_str() else {
        return Err(GraphError::invalid("text.body must be a string"));
    };
    check_length("text.body", body, MAX_TEXT, GraphError::invalid)?;
    if text.get("preview_url").is_some_and(|p| !p.is_boolean()) {
        return Err(GraphError::invalid(
            "text.preview_url must be true or false",
        ));
    }
    Ok(())
}

fn check_template(template: &Value, templates: &[String]) -> Result<(), GraphError> {
    let Some(name) = template.get("name").and_then(Value::as_str) else {
        return Err(GraphError::required("template['name']"));
    };
    let Some(language) = template["language"].get("code").and_then(Value::as_str) else {
        return Err(GraphError::required("template['language']['code']"));
    };
    if !templates.iter().any(|t| t == name) {
        return Err(GraphError::unknown_template(name, language));
    }
    let Some(components) = template.get("components") else {
        return Ok(());
    };
    let Some(components) = components.as_array() else {
        return Err(GraphError::invalid("template.components must be an array"));
    };
    for component in components {
        match component["type"].as_str() {
            Some("header" | "body") => {}
            Some("button") => {
                if !matches!(
                    component["sub_type"].as_str(),
                    Some("quick_reply" | "url" | "catalog" | "copy_code" | "flow")
                ) {
                    return Err(GraphError::invalid(
                        "a button component needs sub_type quick_reply, url, catalog, copy_code or flow",
                    ));
                }
                let index = component["index"]
                    .as_str()
                    .map(str::to_owned)
                    .or_else(|| component["index"].as_u64().map(|i| i.to_string()));
                if index
                    .and_then(|i| i.parse::<u8>().ok())
                    .is_none_or(|i| i > 9)
                {
                    return Err(GraphError::invalid(
                        "a button component needs an index from 0 to 9",
                    ));
                }
            }
            _ => {
                return Err(GraphError::invalid(
                    "template components have type header, body or button",
                ));
            }
        }
        if component.get("parameters").is_some_and(|p| !p.is_array()) {
            return Err(GraphError::invalid(
                "a template component's parameters must be an array",
            ));
        }
    }
    Ok(())
}

fn check_interactive(interactive: &Value) -> Result<(), GraphError> {
    let kind = match interactive.get("type").and_then(Value::as_str) {
        None => return Err(GraphError::required("interactive['type']")),
        Some(kind @ ("button" | "list")) => kind,
        Some(other) => {
            return Err(GraphError::invalid(format!(
                "interactive type {other:?} is not supported by the sandbox; use button or list"
            )));
        }
    };
    let Some(body) = interactive["body"].get("text").and_then(Value::as_str) else {
        return Err(GraphError::required("interactive['body']['text']"));
    };
    check_length(
        "interactive.body.text",
        body,
        MAX_INTERACTIVE_BODY,
        GraphError::not_valid,
    )?;
    if let Some(header) = interactive.get("header") {
        match header["type"].as_str() {
            Some("text") => {
                let text = header["text"].as_str().unwrap_or_default();
                check_length(
                    "interactive.header.text",
                    text,
                    MAX_HEADER_FOOTER,
                    GraphError::not_valid,
                )?;
            }
            Some("image" | "video" | "document") if kind == "button" => {}
            _ => {
                return Err(GraphError::not_valid(
                    "interactive.header.type must be text (or, with reply buttons, image, video or document)",
                ));
            }
        }
    }
    if let Some(footer) = interactive.get("footer") {
        let text = footer["text"].as_str().unwrap_or_default();
        check_length(
            "interactive.footer.text",
            text,
            MAX_HEADER_FOOTER,
            GraphError::not_valid,
        )?;
    }
    let Some(action) = interactive.get("action").filter(|a| a.is_object()) else {
        return Err(GraphError::required("interactive['action']"));
    };
    if kind == "button" {
        check_buttons(action)
    } else {
        check_list(action)
    }
}

fn check_buttons(action: &Value) -> Result<(), GraphError> {
    let Some(buttons) = action.get("buttons").and_then(Value::as_array) else {
        return Err(GraphError::required("interactive['action']['buttons']"));
    };
    if buttons.is_empty() || buttons.len() > MAX_BUTTONS {
        return Err(GraphError::not_valid(format!(
            "Invalid buttons count. Min allowed buttons: 1, Max allowed buttons: {MAX_BUTTONS}; got {}",
            buttons.len()
        )));
    }
    let mut ids = HashSet::new();
    let mut titles = HashSet::new();
    for button in buttons {
        if button["type"] != "reply" {
            return Err(GraphError::not_valid(
                "Invalid button type: reply buttons have type \"reply\"",
            ));
        }
        let (Some(id), Some(title)) = (
            button["reply"]["id"].as_str(),
            button["reply"]["title"].as_str(),
        ) else {
            return Err(GraphError::not_valid(
                "Each reply button needs reply.id and reply.title",
            ));
        };
        let id_length = id.chars().count();
        if id_length == 0 || id_length > MAX_BUTTON_ID || id.trim() != id {
            return Err(GraphError::not_valid(format!(
                "Button id length invalid. Min length: 1, Max length: {MAX_BUTTON_ID}, no leading or trailing spaces; got {id:?}"
            )));
        }
        let title_length = title.chars().count();
        if title.trim().is_empty() || title_length > MAX_BUTTON_TITLE {
            return Err(GraphError::not_valid(format!(
                "Button title length invalid. Min length: 1, Max length: {MAX_BUTTON_TITLE}; {title:?} has {title_length}"
            )));
        }
        if !ids.insert(id) {
            return Err(GraphError::not_valid(format!("Duplicate button id {id:?}")));
        }
        if !titles.insert(title) {
            return Err(GraphError::not_valid(format!(
                "Duplicate button title {title:?}"
            )));
        }
    }
    Ok(())
}

fn check_list(action: &Value) -> Result<(), GraphError> {
    let Some(button) = action.get("button").and_then(Value::as_str) else {
        return Err(GraphError::required("interactive['action']['button']"));
    };
    check_length(
        "action.button",
        button,
        MAX_BUTTON_TITLE,
        GraphError::not_valid,
    )?;
    let Some(sections) = action.get("sections").and_then(Value::as_array) else {
        return Err(GraphError::required("interactive['action']['sections']"));
    };
    if sections.is_empty() || sections.len() > MAX_SECTIONS {
        return Err(GraphError::not_valid(format!(
            "Invalid sections count. Min allowed sections: 1, Max allowed sections: {MAX_SECTIONS}"
        )));
    }
    let mut ids = HashSet::new();
    for section in sections {
        match section.get("title").and_then(Value::as_str) {
            Some(title) => check_length(
                "section title",
                title,
                MAX_SECTION_TITLE,
                GraphError::not_valid,
            )?,
            None if sections.len() > 1 => {
                return Err(GraphError::not_valid(
                    "Each section needs a title when there is more than one",
                ));
            }
            None => {}
        }
        let rows = section["rows"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        if rows.is_empty() {
            return Err(GraphError::not_valid("Each section needs at least one row"));
        }
        for row in rows {
            let id = row["id"].as_str().unwrap_or_default();
            check_length("row id", id, MAX_ROW_ID, GraphError::not_valid)?;
            check_length(
                "row title",
                row["title"].as_str().unwrap_or_default(),
                MAX_ROW_TITLE,
                GraphError::not_valid,
            )?;
            if let Some(description) = row.get("description") {
                let description = description.as_str().unwrap_or_default();
                if description.chars().count() > MAX_ROW_DESCRIPTION {
                    return Err(GraphError::not_valid(format!(
                        "Row description length invalid. Max length: {MAX_ROW_DESCRIPTION}"
                    )));
                }
            }
            if !ids.insert(id) {
                return Err(GraphError::not_valid(format!("Duplicate row id {id:?}")));
            }
        }
    }
    if ids.len() > MAX_ROWS {
        return Err(GraphError::not_valid(format!(
            "Invalid rows count. Max allowed rows across sections: {MAX_ROWS}; got {}",
            ids.len()
        )));
    }
    Ok(())
}

/// Refuses an empty `text`, or one longer than `max` characters.
fn check_length(
    field: &str,
    text: &str,
    max: usize,
    error: fn(String) -> GraphError,
) -> Result<(), GraphError> {
    let length = text.chars().count();
    if text.trim().is_empty() || length > max {
        return Err(error(format!(
            "{field} length invalid. Min length: 1, Max length: {max}; got {length}"
        )));
    }
    Ok(())
}

/// The digits of a phone number written with an optional leading `+`, if it has 7 to 15.
fn phone_digits(number: &str) -> Option<String> {
    let digits = number.strip_prefix('+').unwrap_or(number);
    let valid = (7..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit());
    valid.then(|| digits.to_owned())
}

/// The token of `Authorization: Bearer ...`, or of the `access_token` query parameter, which
/// Graph accepts too.
fn access_token(headers: &HeaderMap, query: Option<&str>) -> Option<String> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let value = value.to_str().ok()?;
        let (scheme, token) = value.split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim().to_owned());
    }
    query?
        .split('&')
        .find_map(|pair| pair.strip_prefix("access_token="))
        .map(str::to_owned)
}

// --- Signing --------------------------------------------------------------------------------

/// Lowercase hex HMAC-SHA256 of `body` keyed with `secret`: `X-Hub-Signature-256` without its
/// `sha256=` prefix.
fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .fold(String::with_capacity(64), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        })
}

/// JSON as Meta puts it on the wire: non-ASCII characters as `\uXXXX` (UTF-16 units) and `/` as
/// `\/`. Both only occur inside strings in serialized JSON, so the result is the same JSON.
fn meta_json(value: &Value) -> Vec<u8> {
    let plain = serde_json::to_string(value).expect("a JSON value serializes");
    let mut escaped = String::with_capacity(plain.len() + plain.len() / 8);
    for c in plain.chars() {
        match c {
            '/' => escaped.push_str("\\/"),
            c if c.is_ascii() => escaped.push(c),
            c => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(escaped, "\\u{unit:04x}");
                }
            }
        }
    }
    escaped.into_bytes()
}

/// An opaque id like Graph's `fbtrace_id`.
fn trace_id() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 16]>())
}

// --- Handlers -------------------------------------------------------------------------------

async fn api_send(
    State(sandbox): State<WhatsAppSandbox>,
    Path((version, phone_number_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = sandbox
        .send(
            &version,
            &phone_number_id,
            query.as_deref(),
            &headers,
            &body,
        )
        .await;
    let mut response = match result {
        Ok(answer) => axum::Json(answer).into_response(),
        Err(error) => error.into_response(),
    };
    let headers = response.headers_mut();
    let trace = HeaderValue::from_str(&trace_id()).expect("base64 is a header value");
    headers.insert("x-fb-trace-id", trace.clone());
    headers.insert("x-fb-request-id", trace);
    if let Ok(version) = HeaderValue::from_str(&sandbox.settings.api_version) {
        headers.insert("facebook-api-version", version);
    }
    response
}

/// Graph's answer for a path it does not serve.
async fn api_unknown_path(uri: axum::http::Uri) -> Response {
    GraphError::new(
        StatusCode::BAD_REQUEST,
        2500,
        format!("Unknown path components: {}", uri.path()),
    )
    .into_response()
}

/// A person's message in `POST /sandbox/whatsapp/reply`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplyInput {
    from: String,
    /// The profile name; kept for the number's later messages.
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    text: Option<String>,
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NumberInput {
    number: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MessageIdInput {
    message_id: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UrlInput {
    url: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyInput {
    verify_token: String,
}

/// The answer of a control endpoint that waited for its webhook.
async fn delivered(message_id: String, outcome: oneshot::Receiver<Outcome>) -> Response {
    // A reset drops the queue, and with it the sender.
    let outcome = outcome.await.unwrap_or(Outcome {
        delivered: false,
        receiver_status: None,
        error: Some("the sandbox was reset before delivery".to_owned()),
    });
    axum::Json(json!({
        "ok": true,
        "message_id": message_id,
        "delivered": outcome.delivered,
        "receiver_status": outcome.receiver_status,
        "error": outcome.error,
    }))
    .into_response()
}

async fn control_reply(
    State(sandbox): State<WhatsAppSandbox>,
    JsonBody(input): JsonBody<ReplyInput>,
) -> Response {
    match sandbox.person_writes(input) {
        Ok((message_id, outcome)) => delivered(message_id, outcome).await,
        Err(message) => control::bad_request(&message),
    }
}

/// The person reads one of the bot's messages: a `read` status follows.
async fn control_read(
    State(sandbox): State<WhatsAppSandbox>,
    JsonBody(input): JsonBody<MessageIdInput>,
) -> Response {
    let outcome = {
        let mut guard = sandbox.lock();
        let data = &mut *guard;
        let found = data.chats.iter().find_map(|(number, chat)| {
            chat.sent
                .iter()
                .find(|m| m.id == input.message_id)
                .map(|m| (number.clone(), m.statuses.contains(&"failed")))
        });
        match found {
            None => {
                return control::bad_request(&format!(
                    "{} is not a message the bot sent",
                    input.message_id
                ));
            }
            Some((_, true)) => {
                return control::bad_request(&format!(
                    "{} failed, so it cannot be read",
                    input.message_id
                ));
            }
            Some((number, false)) => {
                let effect = Effect::new(&number, &input.message_id, "read", None);
                sandbox.queue_status(data, effect, Instant::now())
            }
        }
    };
    delivered(input.message_id, outcome).await
}

async fn control_close_window(
    State(sandbox): State<WhatsAppSandbox>,
    JsonBody(input): JsonBody<NumberInput>,
) -> Response {
    let Some(number) = phone_digits(&input.number) else {
        return control::bad_request("number must be a phone number of 7 to 15 digits");
    };
    let was_open = sandbox
        .lock()
        .chats
        .get_mut(&number)
        .and_then(|chat| chat.last_inbound.take().filter(|t| t.elapsed() < WINDOW))
        .is_some();
    axum::Json(json!({"ok": true, "was_open": was_open})).into_response()
}

async fn control_messages(
    State(sandbox): State<WhatsAppSandbox>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(to) = query.get("to").and_then(|to| phone_digits(to.trim())) else {
        return control::bad_request("to must be a phone number of 7 to 15 digits");
    };
    axum::Json(sandbox.messages(&to)).into_response()
}

async fn control_webhooks(State(sandbox): State<WhatsAppSandbox>) -> Response {
    axum::Json(sandbox.webhooks()).into_response()
}

async fn control_webhook_url(
    State(sandbox): State<WhatsAppSandbox>,
    JsonBody(input): JsonBody<UrlInput>,
) -> Response {
    if !input.url.starts_with("http://") && !input.url.starts_with("https://") {
        return control::bad_request("url must be an http(s) URL");
    }
    sandbox.set_webhook_url(input.url);
    axum::Json(json!({"ok": true})).into_response()
}

/// Meta's verification request: `GET <webhook>?hub.mode=subscribe&hub.challenge=...&
/// hub.verify_token=...`; verified when the bot answers 200 with the challenge as its body.
async fn control_verify(
    State(sandbox): State<WhatsAppSandbox>,
    JsonBody(input): JsonBody<VerifyInput>,
) -> Response {
    let url = sandbox.lock().webhook_url.clone();
    let challenge = (rand::random::<u32>() % 1_000_000_000).to_string();
    let request = sandbox.http.get(&url).query(&[
        ("hub.mode", "subscribe"),
        ("hub.challenge", challenge.as_str()),
        ("hub.verify_token", input.verify_token.as_str()),
    ]);
    match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            let answer = response.text().await.unwrap_or_default();
            axum::Json(json!({
                "ok": true,
                "verified": status == 200 && answer == challenge,
                "receiver_status": status,
                "challenge": challenge,
                "body": answer,
            }))
            .into_response()
        }
        Err(e) => control::error(
            StatusCode::BAD_GATEWAY,
            &format!("the webhook at {url} could not be reached: {e}"),
        ),
    }
}

impl Controlled for WhatsAppSandbox {
    type Fault = Fault;

    fn forget(&self) {
        self.reset();
    }

    fn inject(&self, fault: Fault) {
        self.lock().faults.push(fault);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn templates() -> Vec<String> {
        WhatsAppSettings::default().templates
    }

    fn parse(body: Value) -> Result<Request, GraphError> {
        parse_request(&body, &templates())
    }

    fn error(body: Value) -> (u32, String) {
        let error = parse(body).expect_err("refused");
        assert_eq!(error.status, StatusCode::BAD_REQUEST);
        (error.code, error.details.unwrap_or(error.message))
    }

    fn buttons(titles: &[&str]) -> Value {
        let buttons: Vec<Value> = titles
            .iter()
            .enumerate()
            .map(|(i, title)| json!({"type": "reply", "reply": {"id": format!("b{i}"), "title": title}}))
            .collect();
        json!({
            "messaging_product": "whatsapp",
            "to": "6281234567890",
            "type": "interactive",
            "interactive": {"type": "button", "body": {"text": "Pilih"}, "action": {"buttons": buttons}},
        })
    }

    #[test]
    fn signatures_match_the_published_vectors() {
        assert_eq!(
            signature("secret", b"test"),
            "0329a06b62cd16b33eb6792be8c60b158d89a2ee3a876fce9a881ebb488c0914"
        );
        assert_eq!(
            signature(
                "app_secret_123",
                br#"{"object":"whatsapp_business_account","entry":[]}"#
            ),
            "02fe0c96d28c59ddb7cf81eff0ca05809b360ba73b63c28210b5906a0a107d1f"
        );
    }

    #[test]
    fn bodies_are_escaped_as_meta_sends_them() {
        let value = json!({"text": "Jl. Soekarno–Hatta / äöå 🙏"});
        let raw = String::from_utf8(meta_json(&value)).unwrap();
        assert_eq!(
            raw,
            r#"{"text":"Jl. Soekarno\u2013Hatta \/ \u00e4\u00f6\u00e5 \ud83d\ude4f"}"#
        );
        assert!(raw.is_ascii());
        assert_eq!(serde_json::from_str::<Value>(&raw).unwrap(), value);
    }

    #[test]
    fn a_text_message_is_accepted_with_its_context() {
        let request = parse(json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "+6281234567890",
            "type": "text",
            "context": {"message_id": "wamid.abc"},
            "text": {"body": "Laporan diterima", "preview_url": false},
        }))
        .unwrap();
        let Request::Message(outgoing) = request else {
            panic!("a message");
        };
        assert_eq!(outgoing.to, "+6281234567890");
        assert_eq!(outgoing.wa_id, "6281234567890");
        assert_eq!(outgoing.kind, Kind::Text);
        assert_eq!(outgoing.context_id.as_deref(), Some("wamid.abc"));
        assert_eq!(outgoing.content["body"], "Laporan diterima");
        // `type` defaults to text.
        assert!(parse(json!({"messaging_product": "whatsapp", "to": "6281234567890", "text": {"body": "x"}})).is_ok());
    }

    #[test]
    fn bodies_break_the_published_rules_with_code_100() {
        let base = || json!({"messaging_product": "whatsapp", "to": "6281234567890", "type": "text", "text": {"body": "halo"}});
        let mut body = base();
        body.as_object_mut().unwrap().remove("messaging_product");
        assert_eq!(
            parse(body).unwrap_err().message,
            "(#100) The parameter messaging_product is required."
        );
        let mut body = base();
        body["messaging_product"] = json!("instagram");
        assert_eq!(error(body).0, 100);
        let mut body = base();
        body["to"] = json!("0812-345");
        assert_eq!(error(body).0, 100);
        let mut body = base();
        body["type"] = json!("image");
        assert_eq!(error(body).0, 100);
        let mut body = base();
        body["text"]["body"] = json!("");
        assert_eq!(error(body).0, 100);
        let mut body = base();
        body["text"]["body"] = json!("a".repeat(4097));
        assert_eq!(error(body).0, 100);
        let mut body = base();
        body["text"]["body"] = json!("é".repeat(4096));
        assert!(parse(body).is_ok(), "4096 characters, not bytes");
        let mut body = base();
        body["context"] = json!({});
        assert_eq!(error(body).0, 100);
        let mut body = base();
        body["recipient_type"] = json!("group");
        assert_eq!(error(body).0, 100);
    }

    #[test]
    fn reply_buttons_are_limited_to_three_with_short_titles() {
        assert!(parse(buttons(&["Ya", "Tidak", "Nanti"])).is_ok());
        let (code, details) = error(buttons(&["a", "b", "c", "d"]));
        assert_eq!(code, 131009);
        assert!(details.contains("Max allowed buttons: 3"), "{details}");
        assert_eq!(error(buttons(&[])).0, 131009);
        assert!(parse(buttons(&["x".repeat(20).as_str()])).is_ok());
        let (code, details) = error(buttons(&["x".repeat(21).as_str()]));
        assert_eq!(code, 131009);
        assert!(details.contains("Max length: 20"), "{details}");
        assert_eq!(error(buttons(&[""])).0, 131009);
        let (_, details) = error(buttons(&["Ya", "Ya"]));
        assert!(details.contains("Duplicate button title"), "{details}");
        let mut body = buttons(&["Ya"]);
        body["interactive"]["action"]["buttons"][0]["reply"]["id"] = json!("x".repeat(257));
        assert_eq!(error(body).0, 131009);
        let mut body = buttons(&["Ya"]);
        body["interactive"]["action"]["buttons"][0]["reply"]["id"] = json!(" padded");
        assert_eq!(error(body).0, 131009);
    }

    #[test]
    fn lists_are_checked_and_accepted() {
        let list = |rows: usize| {
            let rows: Vec<Value> = (0..rows)
                .map(|i| json!({"id": format!("r{i}"), "title": format!("Dinas {i}"), "description": "Pilihan"}))
                .collect();
            json!({
                "messaging_product": "whatsapp",
                "to": "6281234567890",
                "type": "interactive",
                "interactive": {
                    "type": "list",
                    "header": {"type": "text", "text": "Tiket"},
                    "body": {"text": "Pilih dinas"},
                    "footer": {"text": "Kicau"},
                    "action": {"button": "Daftar dinas", "sections": [{"title": "Dinas", "rows": rows}]},
                },
            })
        };
        assert!(parse(list(10)).is_ok());
        assert_eq!(error(list(11)).0, 131009);
        assert_eq!(error(list(0)).0, 131009);
        let mut body = list(1);
        body["interactive"]["type"] = json!("product");
        assert_eq!(error(body).0, 100);
    }

    #[test]
    fn templates_must_be_approved() {
        let template = |name: &str| {
            json!({
                "messaging_product": "whatsapp",
                "to": "6281234567890",
                "type": "template",
                "template": {
                    "name": name,
                    "language": {"code": "id"},
                    "components": [
                        {"type": "body", "parameters": [{"type": "text", "text": "KC-0001"}]},
                        {"type": "button", "sub_type": "quick_reply", "index": "0", "parameters": [{"type": "payload", "payload": "TERIMA"}]},
                    ],
                },
            })
        };
        let Ok(Request::Message(outgoing)) = parse(template("kicau_tiket_baru")) else {
            panic!("an approved template is accepted");
        };
        assert_eq!(outgoing.kind, Kind::Template);
        let error = parse(template("hello_world")).unwrap_err();
        assert_eq!(error.code, 132001);
        assert_eq!(
            error.message,
            "(#132001) Template name does not exist in the translation"
        );
        assert_eq!(
            error.details.as_deref(),
            Some("template name (hello_world) does not exist in id")
        );
        let mut body = template("kicau_pengingat");
        body["template"]["components"][1]["index"] = json!("x");
        assert_eq!(self::error(body).0, 100);
    }

    #[test]
    fn read_receipts_are_their_own_request() {
        assert_eq!(
            parse(json!({"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.x", "typing_indicator": {"type": "text"}})).unwrap(),
            Request::MarkRead {
                message_id: "wamid.x".to_owned()
            }
        );
        assert_eq!(
            error(json!({"messaging_product": "whatsapp", "status": "delivered", "message_id": "wamid.x"})).0,
            100
        );
    }

    #[test]
    fn tokens_come_from_the_header_or_the_query() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc"),
        );
        assert_eq!(access_token(&headers, None).as_deref(), Some("abc"));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(access_token(&headers, None), None);
        assert_eq!(
            access_token(&HeaderMap::new(), Some("x=1&access_token=tok")).as_deref(),
            Some("tok")
        );
        assert_eq!(access_token(&HeaderMap::new(), None), None);
    }

    #[test]
    fn graph_errors_have_graphs_shape() {
        let body = GraphError::invalid_token().json();
        assert_eq!(body["error"]["message"], INVALID_TOKEN);
        assert_eq!(body["error"]["type"], "OAuthException");
        assert_eq!(body["error"]["code"], 190);
        assert!(
            body["error"]["fbtrace_id"]
                .as_str()
                .is_some_and(|t| !t.is_empty())
        );
        let body = GraphError::unknown_object("42").json();
        assert_eq!(body["error"]["code"], 100);
        assert_eq!(body["error"]["error_subcode"], 33);
        let body = GraphError::fault(429, None, None).json();
        assert_eq!(body["error"]["code"], 130429);
        assert_eq!(body["error"]["message"], "(#130429) Rate limit hit");
    }
}
