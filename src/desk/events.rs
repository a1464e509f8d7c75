//! The desk's event log as its readers see it: the staff group's notifier follows it from a
//! cursor, and a claim looks back at what was announced about its conversation.

use serde_json::Value;
use sqlx::Row;

use super::{Desk, DeskError, Event};

fn event_from_row(r: sqlx::any::AnyRow) -> Event {
    let detail: String = r.get(5);
    Event {
        id: r.get(0),
        at: r.get(1),
        kind: r.get(2),
        conversation_id: r.get(3),
        actor: r.get(4),
        detail: serde_json::from_str(&detail).unwrap_or(Value::Null),
    }
}

impl Desk {
    /// Events after `after`, oldest first, at most `limit`.
    pub async fn events_after(&self, after: i64, limit: i64) -> Result<Vec<Event>, DeskError> {
        let rows = sqlx::query(
            "SELECT id, at, kind, conversation_id, actor, detail FROM events WHERE id > $1 \
             ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(self.store.pool())
        .await?;
        Ok(rows.into_iter().map(event_from_row).collect())
    }

    /// The newest event's id (0 when none).
    pub async fn last_event_id(&self) -> Result<i64, DeskError> {
        let row = sqlx::query("SELECT COALESCE(MAX(id), 0) FROM events")
            .fetch_one(self.store.pool())
            .await?;
        Ok(row.get(0))
    }

    /// A conversation's events before `before`, oldest first, of the given kinds.
    pub async fn events_of(
        &self,
        conversation: &str,
        kinds: &[&str],
        before: i64,
    ) -> Result<Vec<Event>, DeskError> {
        let rows = sqlx::query(
            "SELECT id, at, kind, conversation_id, actor, detail FROM events \
             WHERE conversation_id = $1 AND id < $2 ORDER BY id",
        )
        .bind(conversation)
        .bind(before)
        .fetch_all(self.store.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(event_from_row)
            .filter(|e| kinds.contains(&e.kind.as_str()))
            .collect())
    }
}
