//! Tickets over WhatsApp, for agencies that use a WhatsApp number.
//!
//! The sender takes `whatsapp` outbox rows and chooses the form WhatsApp allows: inside the
//! 24-hour window (the agency wrote in the last day) reply buttons, at most three, for the next
//! states (the others are accepted as typed words); outside it the approved template, whose
//! quick replies carry the same choices. A message that fails later with 131047 (the window had
//! closed) is sent again as the template. The webhook (`/webhooks/whatsapp` on the console)
//! records when each number wrote, and turns button presses and typed words into state changes
//! of the ticket they answer.

use std::time::Duration;

use serde_json::{Value, json};
use sqlx::Row;

use super::{Mover, StateButton, TicketState, Tickets};
use crate::channels::whatsapp::{WhatsAppClient, WhatsAppError};
use crate::store::{NewOutbox, Store, StoreError, now_ms};

const WINDOW_MS: i64 = 24 * 3600 * 1000;
/// A message sent this close to the window's end may arrive after it: use the template.
const WINDOW_MARGIN_MS: i64 = 10 * 60 * 1000;
const LEASE: Duration = Duration::from_secs(60);

/// The WhatsApp side of the ticket bridge.
#[derive(Clone, Debug)]
pub struct Bridge {
    pub client: WhatsAppClient,
    pub tickets: Tickets,
    pub store: Store,
}

impl Bridge {
    /// Sends one due message. Returns false when none was due.
    pub async fn send_once(&self) -> Result<bool, StoreError> {
        let Some(item) = self.store.claim_outbox("whatsapp", LEASE).await? else {
            return Ok(false);
        };
        let payload: Value = serde_json::from_str(&item.payload).unwrap_or(Value::Null);
        let Some(to) = payload["to"].as_str() else {
            self.store
                .mark_dead(item.id, "unreadable WhatsApp payload")
                .await?;
            return Ok(true);
        };
        let open = window_open(&self.store, to).await?;
        let message = if open && payload["force_template"].as_bool() != Some(true) {
            interactive(&payload)
        } else {
            template(&payload, &self.tickets.config.whatsapp)
        };
        match self.client.send(to, &message).await {
            Ok(wamid) => {
                let ticket = payload["ticket"].as_str();
                sqlx::query(
                    "INSERT INTO whatsapp_messages (wamid, ticket, outbox_key, created_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (wamid) DO NOTHING",
                )
                .bind(&wamid)
                .bind(ticket)
                .bind(&item.idempotency_key)
                .bind(now_ms())
                .execute(self.store.pool())
                .await?;
                if payload["first"].as_bool() == Some(true)
                    && let Some(number) = ticket
                {
                    sqlx::query("UPDATE tickets SET delivery = $1 WHERE number = $2")
                        .bind(
                            json!({"channel": "whatsapp", "to": to, "message_id": wamid})
                                .to_string(),
                        )
                        .bind(number)
                        .execute(self.store.pool())
                        .await?;
                }
                self.store.mark_sent(item.id, &wamid).await?;
            }
            Err(WhatsAppError::Rejected(e)) => {
                tracing::error!(key = %item.idempotency_key, error = %e, "WhatsApp refused a message: moved to dead letters");
                self.store.mark_dead(item.id, &e).await?;
            }
            Err(e) => {
                let wait = 1000 * 2i64.pow(item.attempts.clamp(0, 6) as u32);
                tracing::warn!(key = %item.idempotency_key, error = %e, "WhatsApp send failed: will retry");
                self.store
                    .mark_retry(item.id, now_ms() + wait, &e.to_string())
                    .await?;
            }
        }
        Ok(true)
    }
}

/// Whether `number` wrote within the last day (less a margin).
async fn window_open(store: &Store, number: &str) -> Result<bool, StoreError> {
    let row = sqlx::query("SELECT last_inbound FROM whatsapp_windows WHERE number = $1")
        .bind(number)
        .fetch_optional(store.pool())
        .await?;
    Ok(row.is_some_and(|r| now_ms() - r.get::<i64, _>(0) < WINDOW_MS - WINDOW_MARGIN_MS))
}

/// Reply buttons: the first three next states (WhatsApp allows three); titles up to 20.
fn interactive(payload: &Value) -> Value {
    let buttons: Vec<Value> = choices(payload)
        .into_iter()
        .take(3)
        .map(|(title, id)| json!({"type": "reply", "reply": {"id": id, "title": title}}))
        .collect();
    let text = payload["text"].as_str().unwrap_or_default();
    if buttons.is_empty() {
        return json!({"type": "text", "text": {"body": text, "preview_url": false}});
    }
    json!({
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": text},
            "action": {"buttons": buttons},
        },
    })
}

/// The approved template with the ticket's number, words and place, and quick replies.
fn template(payload: &Value, config: &crate::config::WhatsAppConfig) -> Value {
    let parameters: Vec<Value> = payload["template_params"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|p| json!({"type": "text", "text": p.as_str().unwrap_or("-")}))
        .collect();
    let mut components = vec![json!({"type": "body", "parameters": parameters})];
    for (i, (_, id)) in choices(payload).into_iter().take(3).enumerate() {
        components.push(json!({
            "type": "button",
            "sub_type": "quick_reply",
            "index": i.to_string(),
            "parameters": [{"type": "payload", "payload": id}],
        }));
    }
    json!({
        "type": "template",
        "template": {
            "name": config.ticket_template,
            "language": {"code": config.template_language},
            "components": components,
        },
    })
}

fn choices(payload: &Value) -> Vec<(String, String)> {
    serde_json::from_value(payload["choices"].clone()).unwrap_or_default()
}

/// What a verified webhook did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Handled {
    pub moved: Vec<(String, &'static str)>,
    pub resent: usize,
}

/// Records a delivered message Meta bills (per message since July 2025): `pricing.billable` on
/// its `delivered` status (or `read`, which may come without one), once per message.
async fn record_billing(store: &Store, status: &Value) -> Result<(), StoreError> {
    let reached = matches!(status["status"].as_str(), Some("delivered" | "read"));
    let billable = status["pricing"]["billable"].as_bool().unwrap_or(false);
    let unit = status["pricing"]["category"]
        .as_str()
        .and_then(crate::channels::billing::Unit::of_whatsapp_category);
    if let (true, true, Some(unit), Some(wamid)) = (reached, billable, unit, status["id"].as_str())
    {
        let billed = crate::store::usage::UsageUnit {
            unit: unit.name(),
            resource: wamid,
            daily: false,
        };
        store.record_usage(&[billed], now_ms()).await?;
    }
    Ok(())
}

/// Acts on a verified webhook body: windows, presses and typed states, and 131047 failures.
pub async fn handle_webhook(
    tickets: &Tickets,
    store: &Store,
    body: &Value,
) -> Result<Handled, StoreError> {
    let mut handled = Handled::default();
    for entry in body["entry"].as_array().into_iter().flatten() {
        for change in entry["changes"].as_array().into_iter().flatten() {
            let value = &change["value"];
            for status in value["statuses"].as_array().into_iter().flatten() {
                let failed_window = status["status"] == "failed"
                    && status["errors"]
                        .as_array()
                        .is_some_and(|e| e.iter().any(|e| e["code"] == 131047));
                if failed_window && let Some(wamid) = status["id"].as_str() {
                    handled.resent += resend_as_template(store, wamid).await?;
                }
                record_billing(store, status).await?;
            }
            remember_contacts(tickets, store, value).await?;
            for message in value["messages"].as_array().into_iter().flatten() {
                let now = now_ms();
                // WhatsApp delivers a webhook again when the answer was late: act once per message.
                if let Some(id) = message["id"].as_str() {
                    let fresh = sqlx::query(
                        "INSERT INTO whatsapp_messages (wamid, ticket, outbox_key, created_at) \
                         VALUES ($1, NULL, 'inbound', $2) ON CONFLICT (wamid) DO NOTHING",
                    )
                    .bind(id)
                    .bind(now)
                    .execute(store.pool())
                    .await?;
                    if fresh.rows_affected() == 0 {
                        continue;
                    }
                }
                let Some(from) = sender_number(store, value, message).await? else {
                    // Named only by a user id never seen with a number: it cannot be matched to
                    // an agency, so it is kept for staff rather than dropped.
                    if !message["from_user_id"].is_null() {
                        let id = message["id"].as_str().unwrap_or_default();
                        let reason = "a WhatsApp sender known only by a user id that no \
                                      agency's number has come with yet";
                        tracing::warn!(wamid = %id, "{reason}: moved to dead letters");
                        store
                            .dead_letter("whatsapp", id, &message.to_string(), reason)
                            .await?;
                    }
                    continue;
                };
                let from = from.as_str();
                sqlx::query(
                    "INSERT INTO whatsapp_windows (number, last_inbound) VALUES ($1, $2) \
                     ON CONFLICT (number) DO UPDATE SET last_inbound = excluded.last_inbound",
                )
                .bind(from)
                .bind(now)
                .execute(store.pool())
                .await?;
                match act(tickets, store, from, message).await {
                    Ok(Some(moved)) => handled.moved.push(moved),
                    Ok(None) => {}
                    Err(e) => {
                        // Kept for staff rather than lost. If even that fails, the message is
                        // unmarked and the error makes WhatsApp deliver the webhook again.
                        let id = message["id"].as_str().unwrap_or_default();
                        tracing::warn!(error = %e, wamid = %id, "a WhatsApp message could not be handled: moved to dead letters");
                        let kept = store
                            .dead_letter("whatsapp", id, &message.to_string(), &e.to_string())
                            .await;
                        if let Err(kept) = kept {
                            sqlx::query("DELETE FROM whatsapp_messages WHERE wamid = $1")
                                .bind(id)
                                .execute(store.pool())
                                .await
                                .ok();
                            return Err(kept);
                        }
                    }
                }
            }
        }
    }
    Ok(handled)
}

/// Keeps the business-scoped user id (Meta, 2026) of each agency number the webhook names with
/// both, so that a later message carrying only the user id is recognised.
async fn remember_contacts(
    tickets: &Tickets,
    store: &Store,
    value: &Value,
) -> Result<(), StoreError> {
    for contact in value["contacts"].as_array().into_iter().flatten() {
        let (Some(user_id), Some(number)) =
            (contact["user_id"].as_str(), contact["wa_id"].as_str())
        else {
            continue;
        };
        let agency = tickets
            .config
            .agencies
            .iter()
            .any(|a| a.whatsapp.as_deref() == Some(number));
        if !agency {
            continue;
        }
        sqlx::query(
            "INSERT INTO whatsapp_contacts (user_id, number, seen_at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id) DO UPDATE SET number = excluded.number, seen_at = excluded.seen_at",
        )
        .bind(user_id)
        .bind(number)
        .bind(now_ms())
        .execute(store.pool())
        .await?;
    }
    Ok(())
}

/// The phone number of a message's sender: `from`, or, for a sender named by user id only, the
/// number its contact entry or an earlier webhook gave with that id.
async fn sender_number(
    store: &Store,
    value: &Value,
    message: &Value,
) -> Result<Option<String>, StoreError> {
    if let Some(from) = message["from"].as_str() {
        return Ok(Some(from.to_owned()));
    }
    let Some(user_id) = message["from_user_id"].as_str() else {
        return Ok(None);
    };
    let listed = value["contacts"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["user_id"] == user_id)
        .and_then(|c| c["wa_id"].as_str());
    if let Some(number) = listed {
        return Ok(Some(number.to_owned()));
    }
    Ok(
        sqlx::query_scalar("SELECT number FROM whatsapp_contacts WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(store.pool())
            .await?,
    )
}

/// A press or typed word from an agency's number, applied to the ticket it answers.
async fn act(
    tickets: &Tickets,
    store: &Store,
    from: &str,
    message: &Value,
) -> Result<Option<(String, &'static str)>, StoreError> {
    let Some(agency) = tickets
        .config
        .agencies
        .iter()
        .find(|a| a.whatsapp.as_deref() == Some(from))
        .cloned()
    else {
        return Ok(None);
    };
    let pressed = message["interactive"]["button_reply"]["id"]
        .as_str()
        .or_else(|| message["button"]["payload"].as_str());
    let (number, to) = match pressed.filter(|p| StateButton::is_ticket(p)) {
        // A button names its ticket and state; one that names no known state moves nothing.
        Some(data) => match StateButton::parse(data) {
            Some(button) => (Some(button.number), Some(button.to)),
            None => (None, None),
        },
        None => {
            let text = message["text"]["body"].as_str().unwrap_or_default();
            let lower = text.to_lowercase();
            let state = if lower.contains("bukan wewenang") {
                Some(TicketState::Rejected)
            } else if lower.contains("selesai") {
                Some(TicketState::Resolved)
            } else if lower.contains("diproses") || lower.contains("proses") {
                Some(TicketState::InProgress)
            } else if lower.contains("diterima") || lower.contains("terima") {
                Some(TicketState::Acknowledged)
            } else {
                None
            };
            // The ticket: named in the text, else the one the reply quotes, else the agency's
            // oldest open one.
            let mut number = super::number_in(text);
            if number.is_none()
                && let Some(context) = message["context"]["id"].as_str()
            {
                number = sqlx::query("SELECT ticket FROM whatsapp_messages WHERE wamid = $1")
                    .bind(context)
                    .fetch_optional(store.pool())
                    .await?
                    .and_then(|r| r.get::<Option<String>, _>(0));
            }
            if number.is_none() {
                number = sqlx::query(
                    "SELECT number FROM tickets WHERE agency = $1 \
                     AND state IN ('open', 'acknowledged', 'in_progress') ORDER BY created_at LIMIT 1",
                )
                .bind(&agency.id)
                .fetch_optional(store.pool())
                .await?
                .map(|r| r.get(0));
            }
            (number, state)
        }
    };
    let Some(number) = number else {
        return Ok(None);
    };
    let Some(to) = to else {
        // No state word: a reply quoting a ticket's message is a status note for the citizen.
        let text = message["text"]["body"].as_str().unwrap_or_default().trim();
        let quoted = message["context"]["id"].as_str().is_some();
        if quoted && !text.is_empty() {
            let by = format!(
                "{} (WhatsApp …{})",
                agency.short_name,
                &from[from.len().saturating_sub(4)..]
            );
            let origin = format!("wa:{}", message["id"].as_str().unwrap_or_default());
            match tickets.add_note(store, &number, &by, text, &origin).await {
                Ok(super::NoteOutcome::Repeated) => return Ok(None),
                Ok(outcome) => {
                    let (kind, ack) = match outcome {
                        super::NoteOutcome::Relayed => (
                            "note",
                            format!("Kabar diteruskan ke pelapor laporan {number}."),
                        ),
                        super::NoteOutcome::Held(_) | super::NoteOutcome::Repeated => (
                            "note_held",
                            format!(
                                "Kabar untuk pelapor laporan {number} menunggu persetujuan petugas."
                            ),
                        ),
                    };
                    // Inside the 24-hour window (the agency just wrote): a plain text.
                    store
                        .enqueue(&NewOutbox {
                            channel: "whatsapp".into(),
                            payload: json!({"to": from, "text": ack, "choices": [],
                                            "template_params": [number, "-", "-"]})
                            .to_string(),
                            priority: 0,
                            idempotency_key: format!(
                                "wa:note:{}",
                                message["id"].as_str().unwrap_or(&number)
                            ),
                        })
                        .await?;
                    return Ok(Some((number, kind)));
                }
                Err(super::TicketError::Store(e)) => return Err(e),
                Err(_) => return Ok(None),
            }
        }
        return Ok(None);
    };
    let ticket = match tickets.get(store, &number).await {
        Ok(t) if t.agency == agency.id => t,
        _ => return Ok(None),
    };
    let by = format!(
        "{} (WhatsApp …{})",
        agency.short_name,
        &from[from.len().saturating_sub(4)..]
    );
    match tickets
        .transition(
            store,
            &ticket.number,
            to,
            &Mover {
                name: &by,
                staff: false,
                note: "",
            },
        )
        .await
    {
        Ok(_) => Ok(Some((ticket.number, to.as_str()))),
        Err(super::TicketError::Store(e)) => Err(e),
        Err(e) => {
            tracing::info!(ticket = %ticket.number, error = %e, "a WhatsApp answer did not apply");
            Ok(None)
        }
    }
}

/// Queues the message behind `wamid` again as the template (once).
async fn resend_as_template(store: &Store, wamid: &str) -> Result<usize, StoreError> {
    let Some(row) = sqlx::query("SELECT outbox_key FROM whatsapp_messages WHERE wamid = $1")
        .bind(wamid)
        .fetch_optional(store.pool())
        .await?
    else {
        return Ok(0);
    };
    let key: String = row.get(0);
    if key.ends_with(":template") {
        return Ok(0);
    }
    let Some(original) = store.outbox_by_key(&key).await? else {
        return Ok(0);
    };
    let mut payload: Value = serde_json::from_str(&original.payload).unwrap_or(Value::Null);
    payload["force_template"] = json!(true);
    let queued = store
        .enqueue(&NewOutbox {
            channel: "whatsapp".into(),
            payload: payload.to_string(),
            priority: original.priority,
            idempotency_key: format!("{key}:template"),
        })
        .await?;
    if queued {
        tracing::info!(key = %key, "WhatsApp window closed (131047): sending the template instead");
    }
    Ok(usize::from(queued))
}
