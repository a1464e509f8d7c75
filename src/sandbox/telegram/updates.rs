/*!
How updates reach the bot: the queue of unconfirmed updates with their clock-based ids, long-polled
`getUpdates` (a newer poll ends an older one with Telegram's 409), and webhooks (`setWebhook`,
`deleteWebhook`, `getWebhookInfo`) delivered one update at a time with the secret header, retried,
and dropped with the error recorded when the bot keeps failing.
*/

use std::time::Duration;

use serde_json::{Map, Value, json};

use super::errors::{ApiError, Outcome};
use super::params::Params;
use super::{Data, TelegramSandbox, Webhook};
use crate::sandbox::common::now_s;

/// Longest long poll the sandbox holds; teloxide's HTTP client gives up after 17 seconds.
const MAX_POLL_TIMEOUT_S: i64 = 50;

/// Delivery attempts per update before a webhook's failure is recorded and the update dropped.
const WEBHOOK_ATTEMPTS: u32 = 4;

/// 2025-01-01T00:00:00Z, the origin of clock-based update ids.
const UPDATE_ID_EPOCH_S: i64 = 1_735_689_600;

/// Update ids the clock adds per second.
const UPDATE_IDS_PER_SECOND: i64 = 4;

impl TelegramSandbox {
    /// Queues an update unless the bot's `allowed_updates` leaves its kind out.
    pub(super) fn queue(&self, data: &mut Data, kind: &str, payload: Value) -> Option<i64> {
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

    /// Long polling: confirms updates below `offset`, then answers at once when updates are
    /// pending, or waits up to `timeout` seconds for one. A newer call ends an older waiting one
    /// with Telegram's 409, which catches two bot instances polling at once.
    pub(super) async fn get_updates(&self, p: &Params) -> Outcome {
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

    pub(super) fn webhook_info(&self) -> Value {
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

    pub(super) fn set_webhook(&self, p: &Params) -> Outcome {
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

    pub(super) fn delete_webhook(&self, drop_pending: bool) -> Outcome {
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
