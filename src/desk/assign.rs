//! Handing a conversation to a named colleague ("Serahkan ke"), and what its holder has read.
//!
//! An assignment is a claim made for someone else: the conversation becomes held by the
//! colleague (the bot stays silent), it appears in their "Pegangan saya" with the citizen's
//! tweets marked new, and the audit, the live view and the staff group say who handed it to
//! whom. Whoever may act on the conversation may hand it over: anyone while it waits or is with
//! the bot, its holder, or an admin.

use serde::Serialize;
use serde_json::json;
use sqlx::Row;

use super::{Actor, Desk, DeskError, Role, State, record};
use crate::store::now_ms;

/// One hand-over, as the conversation's page lists them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assignment {
    pub assignee: String,
    pub assigned_by: String,
    #[serde(serialize_with = "super::ser_time")]
    pub at: i64,
}

impl Desk {
    /// Hands conversation `id` to the staff member `to`. Refused for a closed conversation,
    /// one held by someone else (unless the caller is an admin), an unknown name, or oneself
    /// (that is a claim).
    pub async fn assign(
        &self,
        id: &str,
        actor: &Actor,
        to: &str,
    ) -> Result<super::Conversation, DeskError> {
        let to = to.trim();
        if to.is_empty() {
            return Err(DeskError::Invalid("pilih petugas yang menerima".into()));
        }
        if to == actor.name {
            return Err(DeskError::Invalid(
                "untuk memegang sendiri, pakai \"Ambil alih\"".into(),
            ));
        }
        let known = sqlx::query("SELECT 1 FROM staff WHERE name = $1")
            .bind(to)
            .fetch_optional(self.store.pool())
            .await?;
        if known.is_none() {
            return Err(DeskError::Invalid(format!(
                "tidak ada petugas bernama {to}"
            )));
        }
        let now = now_ms();
        let mut tx = self.store.begin().await?;
        let done = sqlx::query(
            "UPDATE conversations SET state = 'staff', held_by = $1, seen_at = NULL, updated_at = $2 \
             WHERE id = $3 AND (state IN ('bot', 'waiting_staff') \
             OR (state = 'staff' AND (held_by = $4 OR $5 = 'admin')))",
        )
        .bind(to)
        .bind(now)
        .bind(id)
        .bind(&actor.name)
        .bind(actor.role.as_str())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            let current = self.get(id).await?;
            return Err(match current.state {
                State::Closed => DeskError::Closed,
                _ => DeskError::HeldBy(current.held_by.unwrap_or_default()),
            });
        }
        sqlx::query(
            "INSERT INTO assignments (conversation_id, assignee, assigned_by, at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(to)
        .bind(&actor.name)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        record(&mut tx, &actor.name, "assign", id, json!({"to": to})).await?;
        tx.commit().await?;
        self.notify();
        tracing::info!(conversation = %id, by = %actor.name, to, "conversation handed over");
        self.get(id).await
    }

    /// A conversation's hand-overs, oldest first.
    pub async fn assignments(&self, id: &str) -> Result<Vec<Assignment>, DeskError> {
        let rows = sqlx::query(
            "SELECT assignee, assigned_by, at FROM assignments WHERE conversation_id = $1 \
             ORDER BY id",
        )
        .bind(id)
        .fetch_all(self.store.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| Assignment {
                assignee: r.get(0),
                assigned_by: r.get(1),
                at: r.get(2),
            })
            .collect())
    }

    /// The holder opened the conversation: its citizen tweets so far are no longer new.
    /// Anyone else's visit changes nothing.
    pub async fn mark_seen(&self, id: &str, actor: &Actor) -> Result<(), DeskError> {
        let mut tx = self.store.begin().await?;
        sqlx::query(
            "UPDATE conversations SET seen_at = $1 WHERE id = $2 AND state = 'staff' \
             AND held_by = $3",
        )
        .bind(now_ms())
        .bind(id)
        .bind(&actor.name)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The staff members a conversation can be handed to: everyone but `actor`.
    pub async fn colleagues(&self, actor: &Actor) -> Result<Vec<String>, DeskError> {
        let rows = sqlx::query("SELECT name FROM staff WHERE name <> $1 ORDER BY name")
            .bind(&actor.name)
            .fetch_all(self.store.pool())
            .await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }
}

/// Whether `actor` may hand `c` over (the console shows the form only then).
pub fn may_assign(c: &super::Conversation, actor: &Actor) -> bool {
    match c.state {
        State::Closed => false,
        State::Staff => {
            c.held_by.as_deref() == Some(actor.name.as_str()) || actor.role == Role::Admin
        }
        State::Bot | State::WaitingStaff => true,
    }
}
