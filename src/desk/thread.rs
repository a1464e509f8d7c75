//! A conversation's thread as the citizen sees it on X: each message the account posts (the
//! bot's replies, staff replies, a ticket's news) split into its tweets, each with its state in
//! the outbox: queued, held while a person holds the conversation, sent (with its tweet), or
//! failed (with X's reason), which staff may send again.

use serde::Serialize;
use serde_json::json;

use super::{Actor, Desk, DeskError, Role, State, record};
use crate::store::{Outbox, now_ms};

/// Where one tweet of a message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PartState {
    /// Waiting for its turn (or being sent now).
    Queued,
    /// Kept back while a person holds the conversation; goes out when it is released or closed.
    Held,
    Sent,
    /// Refused for good (or given up on): in the dead letters, and can be sent again.
    Failed,
}

impl PartState {
    fn of(outbox_state: &str) -> PartState {
        match outbox_state {
            "sent" => PartState::Sent,
            "dead" => PartState::Failed,
            "held" => PartState::Held,
            _ => PartState::Queued,
        }
    }

    /// As staff read it.
    pub fn label(self) -> &'static str {
        match self {
            PartState::Queued => "antre",
            PartState::Held => "ditahan selama dipegang petugas",
            PartState::Sent => "terkirim",
            PartState::Failed => "gagal terkirim",
        }
    }
}

/// One tweet of a message the account posts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Part {
    /// The outbox row's idempotency key, which "Kirim ulang" names.
    pub key: String,
    pub text: String,
    pub state: PartState,
    /// The tweet on X, once sent.
    pub tweet_id: Option<String>,
    /// Why it failed (or why the last attempt did).
    pub error: Option<String>,
}

fn part(row: Outbox) -> Part {
    let text = serde_json::from_str::<serde_json::Value>(&row.payload)
        .ok()
        .and_then(|p| p["text"].as_str().map(str::to_owned))
        .unwrap_or_default();
    let state = PartState::of(&row.state);
    Part {
        key: row.idempotency_key,
        text,
        state,
        tweet_id: row.remote_id.filter(|_| state == PartState::Sent),
        error: row.last_error,
    }
}

impl Desk {
    /// The tweets carrying a message out, by its outbox key prefix.
    pub(super) async fn parts(&self, prefix: &str) -> Result<Vec<Part>, DeskError> {
        Ok(self
            .store
            .outbox_with_prefix(prefix)
            .await?
            .into_iter()
            .map(part)
            .collect())
    }

    /// Sends a failed tweet of the conversation's thread again ("Kirim ulang"). The holder, or
    /// an admin; anyone on staff while the bot has the conversation. A tweet that has not failed
    /// (or was already sent again) is refused, so a double press sends it once.
    pub async fn resend(&self, id: &str, key: &str, actor: &Actor) -> Result<(), DeskError> {
        let conversation = self.get(id).await?;
        let allowed = match (&conversation.state, conversation.held_by.as_deref()) {
            (_, _) if actor.role == Role::Admin => true,
            (State::Staff, Some(holder)) => holder == actor.name,
            _ => true,
        };
        if !allowed {
            return Err(DeskError::HeldBy(
                conversation.held_by.clone().unwrap_or_default(),
            ));
        }
        let detail = self.detail(id).await?;
        let ours = detail
            .messages
            .iter()
            .flat_map(|m| &m.parts)
            .any(|p| p.key == key && p.state == PartState::Failed);
        if !ours {
            return Err(DeskError::Invalid(
                "twit ini tidak gagal terkirim (atau sudah dikirim ulang)".into(),
            ));
        }
        let now = now_ms();
        let mut tx = self.store.begin().await?;
        if !crate::store::requeue_dead(&mut tx, key, now).await? {
            tx.rollback().await?;
            return Err(DeskError::Invalid("twit ini sudah dikirim ulang".into()));
        }
        record(&mut tx, &actor.name, "resend", id, json!({"key": key})).await?;
        tx.commit().await?;
        self.notify();
        tracing::info!(conversation = %id, by = %actor.name, key, "a failed tweet is sent again");
        Ok(())
    }
}
