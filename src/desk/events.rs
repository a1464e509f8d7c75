//! The desk's event log as its readers see it: the staff group's notifier follows it from a
//! cursor, and a claim looks back at what was announced about its conversation.

use serde_json::Value;
use sqlx::Row;

use super::{Desk, DeskError, Event};

/// What asks staff for attention: shown as counts in the console's menu and tab title.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Attention {
    /// Conversations waiting for a person.
    pub waiting: i64,
    /// Emergencies a person awaits or holds.
    pub emergencies: i64,
    /// Tweets X refused in the last 7 days that nobody sent again.
    pub failed_sends: i64,
    /// Dead letters of the last 7 days.
    pub dead_letters: i64,
}

const WEEK_MS: i64 = 7 * 24 * 3600 * 1000;

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
    /// The counts of what asks for attention now.
    pub async fn attention(&self) -> Result<Attention, DeskError> {
        let pool = self.store.pool();
        let since = crate::store::now_ms() - WEEK_MS;
        let row = sqlx::query(
            "SELECT \
             (SELECT COUNT(*) FROM conversations WHERE state = 'waiting_staff'), \
             (SELECT COUNT(*) FROM conversations WHERE urgent = 1 \
              AND state IN ('waiting_staff', 'staff')), \
             (SELECT COUNT(*) FROM outbox WHERE channel = 'x' AND state = 'dead' \
              AND updated_at >= $1), \
             (SELECT COUNT(*) FROM dead_letters WHERE created_at >= $1)",
        )
        .bind(since)
        .fetch_one(pool)
        .await?;
        Ok(Attention {
            waiting: row.get(0),
            emergencies: row.get(1),
            failed_sends: row.get(2),
            dead_letters: row.get(3),
        })
    }

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
