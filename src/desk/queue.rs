//! The queue as staff see it: a conversation's row (with whether its holder has unread tweets
//! from the citizen), listing and fetching them, and the deadline by which a waiting one should
//! be taken (`[desk] respond_within_mins`, shorter for an emergency).

use serde::Serialize;
use serde_json::{Value, json};
use sqlx::Row;

use super::{Desk, DeskError, Filter, State};
use crate::store::rfc3339;

/// How soon a waiting conversation should be taken by a person, from when it started waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseTargets {
    pub normal_ms: i64,
    pub urgent_ms: i64,
}

impl Default for ResponseTargets {
    fn default() -> Self {
        ResponseTargets {
            normal_ms: 60 * 60 * 1000,
            urgent_ms: 5 * 60 * 1000,
        }
    }
}

/// One conversation as the queue shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Conversation {
    pub id: String,
    pub state: State,
    /// The citizen's handle, without `@`.
    pub citizen: String,
    #[serde(skip)]
    pub citizen_id: String,
    pub held_by: Option<String>,
    /// Milliseconds since the epoch; serialised as RFC 3339 by the API.
    #[serde(skip)]
    pub waiting_since: Option<i64>,
    pub reason: Option<String>,
    pub last_text: String,
    #[serde(skip)]
    pub last_tweet_id: Option<String>,
    /// An emergency: it heads the queue.
    pub urgent: bool,
    #[serde(skip)]
    pub x_conversation_id: String,
    #[serde(skip)]
    pub created_at: i64,
    #[serde(skip)]
    pub updated_at: i64,
    /// When the citizen last tweeted in it.
    #[serde(skip)]
    pub last_in_at: Option<i64>,
    /// When its holder last opened it (set by a claim, a reply, a visit; cleared when it is
    /// handed to a colleague).
    #[serde(skip)]
    pub seen_at: Option<i64>,
}

impl Conversation {
    /// The API's JSON shape.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "state": self.state,
            "citizen": self.citizen,
            "held_by": self.held_by,
            "waiting_since": self.waiting_since.map(rfc3339),
            "reason": self.reason,
            "last_text": crate::language::pii::mask(&self.last_text),
            "urgent": self.urgent,
            "created_at": rfc3339(self.created_at),
            "updated_at": rfc3339(self.updated_at),
        })
    }
}

impl Conversation {
    /// A held conversation with a citizen tweet its holder has not opened yet.
    pub fn has_unseen(&self) -> bool {
        self.state == State::Staff
            && self
                .last_in_at
                .is_some_and(|at| at > self.seen_at.unwrap_or(0))
    }
}

pub(super) const COLUMNS: &str = "id, state, citizen_username, citizen_id, held_by, waiting_since, reason, \
                       last_text, last_tweet_id, urgent, x_conversation_id, created_at, updated_at, \
                       (SELECT MAX(m.created_at) FROM messages m \
                        WHERE m.conversation_id = conversations.id AND m.direction = 'in'), seen_at";

pub(super) fn conversation_from_row(r: &sqlx::any::AnyRow) -> Conversation {
    let state: String = r.get(1);
    Conversation {
        id: r.get(0),
        state: State::parse(&state).unwrap_or(State::Bot),
        citizen: r.get(2),
        citizen_id: r.get(3),
        held_by: r.get(4),
        waiting_since: r.get(5),
        reason: r.get(6),
        last_text: r.get(7),
        last_tweet_id: r.get(8),
        urgent: r.get::<i64, _>(9) != 0,
        x_conversation_id: r.get(10),
        created_at: r.get(11),
        updated_at: r.get(12),
        last_in_at: r.get(13),
        seen_at: r.get(14),
    }
}

impl Desk {
    /// Conversations matching `filter`: waiting ones oldest first with emergencies on top,
    /// others most recently changed first.
    pub async fn list(&self, filter: &Filter) -> Result<Vec<Conversation>, DeskError> {
        let mut sql = format!("SELECT {COLUMNS} FROM conversations WHERE 1 = 1");
        let mut binds: Vec<String> = Vec::new();
        if let Some(state) = filter.state {
            binds.push(state.as_str().to_owned());
            sql.push_str(&format!(" AND state = ${}", binds.len()));
        }
        if let Some(name) = &filter.held_by {
            binds.push(name.clone());
            sql.push_str(&format!(" AND held_by = ${}", binds.len()));
        }
        if filter.state == Some(State::WaitingStaff) {
            sql.push_str(" ORDER BY urgent DESC, waiting_since ASC, id ASC");
        } else {
            sql.push_str(" ORDER BY urgent DESC, updated_at DESC, id DESC");
        }
        sql.push_str(" LIMIT 500");
        let mut query = sqlx::query(&sql);
        for b in &binds {
            query = query.bind(b);
        }
        let rows = query.fetch_all(self.store.pool()).await?;
        Ok(rows.iter().map(conversation_from_row).collect())
    }

    /// One conversation.
    pub async fn get(&self, id: &str) -> Result<Conversation, DeskError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM conversations WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.store.pool())
        .await?;
        row.as_ref()
            .map(conversation_from_row)
            .ok_or(DeskError::NotFound)
    }

    /// When a waiting conversation should have been taken: its waiting start plus the target
    /// for its kind. None for one that is not waiting.
    pub fn respond_by(&self, c: &Conversation) -> Option<i64> {
        if c.state != State::WaitingStaff {
            return None;
        }
        let target = if c.urgent {
            self.targets.urgent_ms
        } else {
            self.targets.normal_ms
        };
        c.waiting_since.map(|since| since + target)
    }
}
