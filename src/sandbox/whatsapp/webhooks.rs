/*!
Webhooks to the bot: the envelope Meta wraps each change in, one queue for the whole sandbox
delivered in order by a single worker, each body signed (`X-Hub-Signature-256`, HMAC-SHA256 with
the app secret) in the escaped form Meta puts on the wire, retried three times, and recorded;
status webhooks (`sent`, `delivered`, `read`, `failed`, with pricing) show in the listing once
they go out.
*/

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::header;
use hmac::{Hmac, Mac};
use serde_json::{Map, Value, json};
use sha2::Sha256;
use tokio::sync::oneshot;

use super::{Data, Kind, WhatsAppSandbox};
use crate::sandbox::common::{now_ms, now_s};

/// Delivery attempts per webhook before it is recorded as failed.
const WEBHOOK_ATTEMPTS: u32 = 4;

/// A status change that takes effect in the listing when its webhook goes out.
#[derive(Debug)]
pub(super) struct Effect {
    number: String,
    message_id: String,
    status: &'static str,
    errors: Option<Value>,
}

impl Effect {
    pub(super) fn new(
        number: &str,
        message_id: &str,
        status: &'static str,
        errors: Option<Value>,
    ) -> Effect {
        Effect {
            number: number.to_owned(),
            message_id: message_id.to_owned(),
            status,
            errors,
        }
    }
}

/// A webhook waiting in the delivery queue.
pub(super) struct Pending {
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
pub(super) struct Outcome {
    pub(super) delivered: bool,
    pub(super) receiver_status: Option<u16>,
    pub(super) error: Option<String>,
}

impl WhatsAppSandbox {
    /// Queues a status webhook for one of the bot's messages; the listing shows the status once
    /// the webhook goes out.
    pub(super) fn queue_status(
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
                let kind = data.chats[&effect.number]
                    .sent
                    .iter()
                    .find(|m| m.id == effect.message_id)
                    .map_or(Kind::Text, |m| m.kind);
                // Meta charges every delivered message from 1 October 2026: service for
                // free-form and interactive messages, utility for templates, in the window or not.
                entry["pricing"] = json!({
                    "billable": true,
                    "pricing_model": "PMP",
                    "category": kind.pricing_category(),
                    "type": "regular",
                });
            }
        }
        let contact = json!({
            "wa_id": effect.number,
            "user_id": super::person::business_scoped_id(&effect.number),
        });
        let body = self.envelope(json!({ "contacts": [contact], "statuses": [entry] }));
        self.enqueue(data, "status", body, not_before, Some(effect))
    }

    /// The webhook envelope around a change's value (reference/apis.md 5.2).
    pub(super) fn envelope(&self, fields: Value) -> Value {
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
    pub(super) fn enqueue(
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

    /// Shows a status in the listing, and counts a message the first time its `delivered`
    /// status goes out; false when a reset made it stale.
    fn apply(&self, generation: u64, effect: Effect) -> bool {
        let mut guard = self.lock();
        let data = &mut *guard;
        if data.generation != generation {
            return false;
        }
        if let Some(sent) = data
            .chats
            .get_mut(&effect.number)
            .and_then(|chat| chat.sent_mut(&effect.message_id))
        {
            if effect.status == "delivered" && !sent.statuses.contains(&"delivered") {
                data.usage.count(now_ms(), sent.kind.pricing_category());
            }
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
}

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
