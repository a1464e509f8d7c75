/*!
The WhatsApp control endpoints under `/sandbox/whatsapp/` (SANDBOX.md): a person writes, presses
or reads (answered once the bot's webhook was delivered or given up), a window closes, what the
bot sent and the webhooks it got are read back, the webhook URL changes, and Meta's
`hub.challenge` handshake runs against the bot; faults and reset go through the handlers every
stand-in shares (sandbox/control.rs).
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
use tokio::sync::oneshot;

use super::person::ReplyInput;
use super::requests::phone_digits;
use super::webhooks::{Effect, Outcome};
use super::{WINDOW, WhatsAppSandbox};
use crate::sandbox::control::{self, Controlled, JsonBody, once};

/// A fault to inject: the next `times` sends wait `delay_ms`, then fail with `status` and a
/// Graph error (`code` defaults by status: 429 gives 130429, 503 gives 2, 400 gives 100, 401
/// gives 190, others 131000) or, without a status, proceed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(in crate::sandbox) struct Fault {
    #[serde(default)]
    pub(super) status: Option<u16>,
    #[serde(default)]
    pub(super) code: Option<u32>,
    #[serde(default)]
    pub(super) details: Option<String>,
    #[serde(default = "once")]
    times: u32,
    #[serde(default)]
    delay_ms: u64,
}

control::impl_fault!(Fault);

impl Controlled for WhatsAppSandbox {
    type Fault = Fault;

    fn forget(&self) {
        self.reset();
    }

    fn inject(&self, fault: Fault) {
        self.lock().faults.push(fault);
    }
}

impl WhatsAppSandbox {
    /// The control endpoints under `/sandbox/whatsapp/` (SANDBOX.md): act as a person, read what
    /// the bot sent and the webhooks it got, close a window, inject faults.
    pub fn control_router(&self) -> Router {
        Router::new()
            .route("/sandbox/whatsapp/messages", get(messages))
            .route(
                "/sandbox/whatsapp/reply",
                post(reply).layer(DefaultBodyLimit::max(super::media::MAX_REPLY_BODY)),
            )
            .route("/sandbox/whatsapp/read", post(read))
            .route("/sandbox/whatsapp/close-window", post(close_window))
            .route("/sandbox/whatsapp/webhooks", get(webhooks))
            .route("/sandbox/whatsapp/usage", get(usage))
            .route("/sandbox/whatsapp/webhook-url", post(webhook_url))
            .route("/sandbox/whatsapp/verify-webhook", post(verify))
            .merge(control::shared_routes(
                "/sandbox/whatsapp/reset",
                "/sandbox/whatsapp/faults",
            ))
            .with_state(self.clone())
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

    /// Delivered messages by UTC day and pricing category (`service`, `utility`), oldest day
    /// first, and the totals; the body of `GET /sandbox/whatsapp/usage`.
    pub fn usage(&self) -> Value {
        self.lock().usage.json()
    }
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

async fn reply(
    State(sandbox): State<WhatsAppSandbox>,
    JsonBody(input): JsonBody<ReplyInput>,
) -> Response {
    match sandbox.person_writes(input) {
        Ok((message_id, outcome)) => delivered(message_id, outcome).await,
        Err(message) => control::bad_request(&message),
    }
}

/// The person reads one of the bot's messages: a `read` status follows.
async fn read(
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

async fn close_window(
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

async fn messages(
    State(sandbox): State<WhatsAppSandbox>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(to) = query.get("to").and_then(|to| phone_digits(to.trim())) else {
        return control::bad_request("to must be a phone number of 7 to 15 digits");
    };
    axum::Json(sandbox.messages(&to)).into_response()
}

async fn webhooks(State(sandbox): State<WhatsAppSandbox>) -> Response {
    axum::Json(sandbox.webhooks()).into_response()
}

async fn usage(State(sandbox): State<WhatsAppSandbox>) -> Response {
    axum::Json(sandbox.usage()).into_response()
}

async fn webhook_url(
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
async fn verify(
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
