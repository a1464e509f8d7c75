//! Private notes: what staff tell each other about a conversation ("warga ini sudah telepon
//! ke kelurahan", "tunggu jawaban DLH"). They stay in the console and the API: never posted to
//! X, never sent to an agency, never written to a log line. Shown with personal data masked,
//! like the thread. Retention and forgetting delete them with the conversation's texts.

use serde::Serialize;
use serde_json::json;
use sqlx::Row;

use super::{Actor, Desk, DeskError, State, record};
use crate::store::now_ms;

/// The longest note, in characters.
pub const NOTE_MAX_CHARS: usize = 2000;

/// One private note.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Note {
    pub id: i64,
    pub author: String,
    /// As written; shown (and serialised for the API) with personal data masked.
    #[serde(serialize_with = "super::privacy::ser_masked")]
    pub text: String,
    #[serde(serialize_with = "super::ser_time")]
    pub created_at: i64,
}

impl Desk {
    /// Leaves a note on a conversation. Anyone on staff may, whoever holds it; not on a
    /// conversation whose texts were forgotten.
    pub async fn add_note(&self, id: &str, actor: &Actor, text: &str) -> Result<Note, DeskError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(DeskError::Invalid("catatan kosong".into()));
        }
        if text.chars().count() > NOTE_MAX_CHARS {
            return Err(DeskError::Invalid(format!(
                "catatan terlalu panjang (paling banyak {NOTE_MAX_CHARS} karakter)"
            )));
        }
        let conversation = self.get(id).await?;
        if conversation.state == State::Closed && conversation.citizen == "anonim" {
            return Err(DeskError::Closed);
        }
        let now = now_ms();
        let mut tx = self.store.begin().await?;
        let note_id: i64 = sqlx::query(
            "INSERT INTO notes (conversation_id, author, text, created_at) VALUES ($1, $2, $3, $4) \
             RETURNING id",
        )
        .bind(id)
        .bind(&actor.name)
        .bind(text)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?
        .get(0);
        // The audit and the live view learn that a note was left, not what it says.
        record(&mut tx, &actor.name, "note", id, json!({})).await?;
        tx.commit().await?;
        self.notify();
        tracing::info!(conversation = %id, by = %actor.name, note = note_id, "private note left");
        Ok(Note {
            id: note_id,
            author: actor.name.clone(),
            text: text.to_owned(),
            created_at: now,
        })
    }

    /// A conversation's notes, oldest first.
    pub async fn notes(&self, id: &str) -> Result<Vec<Note>, DeskError> {
        let rows = sqlx::query(
            "SELECT id, author, text, created_at FROM notes WHERE conversation_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(self.store.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| Note {
                id: r.get(0),
                author: r.get(1),
                text: r.get(2),
                created_at: r.get(3),
            })
            .collect())
    }
}
