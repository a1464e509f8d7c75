//! Finding a conversation by what was said in it or by the citizen's handle (issue 14).
//!
//! The index is built from `messages.search_text`, which the desk writes with every message
//! ([`index_text`]): the citizen's handle for their own tweets, then the words of the text with
//! personal data cut out, so that searching by a NIK or a phone number finds nothing and no
//! such number lies in the index. SQLite indexes the column with an external-content FTS5 table
//! that triggers keep in step; PostgreSQL with a GIN index over a generated `tsvector` column
//! (migration 0018). Several instances therefore share one index, the database's own, and
//! whatever retention or forgetting empties (`privacy::forget_conversations` clears the search
//! text with the text) is no longer found; a purged conversation is left out besides.
//!
//! A conversation ranks by its best message (FTS5's `bm25`, PostgreSQL's `ts_rank`), and
//! among equals the newest hit comes first. The snippet is cut from that message as written,
//! personal data masked (`3573••••••••0005`).

use sqlx::Row as _;

use super::conversation::Direction;
use super::{Desk, DeskError, State};
use crate::store::search::{Found, SearchQuery, Snippet};
use crate::store::{Backend, Store};

/// Characters of a message a snippet shows at most.
const SNIPPET_CHARS: usize = 160;

/// The text the search index is given for one message: for the citizen's own tweets their
/// handle first, then the words of `text` with personal data (NIK/KK, phone numbers, e-mail
/// addresses) cut out, in lower case. A message emptied by retention gives nothing.
pub fn index_text(direction: Direction, author: &str, text: &str) -> String {
    if text.is_empty() {
        return String::new();
    }
    let kept = crate::language::pii::cut(text);
    let handle = match direction {
        Direction::In => author,
        Direction::Out => "",
    };
    crate::store::search::index_text([handle, kept.as_str()])
}

/// A conversation a search found.
#[derive(Debug, Clone, PartialEq)]
pub struct ConversationHit {
    pub id: String,
    /// The citizen's handle, without `@`.
    pub citizen: String,
    pub state: State,
    pub held_by: Option<String>,
    pub urgent: bool,
    /// The best-matching message around its hits, personal data masked.
    pub snippet: Snippet,
    /// When that message was written (milliseconds since the epoch).
    pub at: i64,
}

impl Desk {
    /// The conversations whose messages or citizen match `query`, best first and, among equals,
    /// the newest hit first; at most `limit`.
    pub async fn search(
        &self,
        query: &SearchQuery,
        limit: usize,
    ) -> Result<Found<ConversationHit>, DeskError> {
        let (hits, text) = match self.store.backend() {
            Backend::Sqlite => (
                "SELECT m.id, m.conversation_id, m.text, m.created_at, f.score \
                 FROM (SELECT rowid AS id, bm25(messages_search) AS score FROM messages_search \
                 WHERE messages_search MATCH $1) f JOIN messages m ON m.id = f.id",
                query.fts5(|_| Vec::new()),
            ),
            Backend::Postgres => (
                "SELECT m.id, m.conversation_id, m.text, m.created_at, \
                 CAST(-ts_rank(m.search, q) AS DOUBLE PRECISION) AS score \
                 FROM messages m, to_tsquery('simple', $1) q WHERE m.search @@ q",
                query.tsquery(|_| Vec::new()),
            ),
        };
        let rows = sqlx::query(&format!(
            "WITH hits AS ({hits}), ranked AS (SELECT hits.*, ROW_NUMBER() OVER \
             (PARTITION BY conversation_id ORDER BY score, created_at DESC, id DESC) AS n \
             FROM hits) \
             SELECT c.id, c.citizen_username, c.state, c.held_by, c.urgent, r.text, r.created_at \
             FROM ranked r JOIN conversations c ON c.id = r.conversation_id \
             WHERE r.n = 1 AND c.purged_at IS NULL \
             ORDER BY r.score, r.created_at DESC, r.id DESC LIMIT $2"
        ))
        .bind(text)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX).saturating_add(1))
        .fetch_all(self.store.pool())
        .await?;
        let hits = rows
            .iter()
            .map(|r| {
                let state: String = r.get(2);
                let text: String = r.get(5);
                ConversationHit {
                    id: r.get(0),
                    citizen: r.get(1),
                    state: State::parse(&state).unwrap_or(State::Bot),
                    held_by: r.get(3),
                    urgent: r.get::<i64, _>(4) != 0,
                    snippet: query.snippet(&crate::language::pii::mask(&text), SNIPPET_CHARS),
                    at: r.get(6),
                }
            })
            .collect();
        Ok(Found::first(hits, limit))
    }
}

/// Gives the index the messages written before migration 0018 (their search text is NULL), in
/// batches; `kicau run` calls it at start, and several instances doing it at once write the
/// same values. Returns how many.
pub async fn index_earlier_messages(store: &Store) -> Result<u64, DeskError> {
    let mut done = 0;
    loop {
        let rows = sqlx::query(
            "SELECT id, direction, author, text FROM messages WHERE search_text IS NULL \
             ORDER BY id LIMIT 500",
        )
        .fetch_all(store.pool())
        .await?;
        if rows.is_empty() {
            return Ok(done);
        }
        let mut tx = store.begin().await?;
        for row in &rows {
            let direction: String = row.get(1);
            let direction = if direction == "in" {
                Direction::In
            } else {
                Direction::Out
            };
            let author: String = row.get(2);
            let text: String = row.get(3);
            sqlx::query(
                "UPDATE messages SET search_text = $1 WHERE id = $2 AND search_text IS NULL",
            )
            .bind(index_text(direction, &author, &text))
            .bind(row.get::<i64, _>(0))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        done += rows.len() as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_gets_the_handle_and_no_personal_data() {
        assert_eq!(
            index_text(
                Direction::In,
                "Warga_9",
                "NIK 3573042103990005, hp 0812-3456-7890: sampah!"
            ),
            "warga 9 nik hp sampah"
        );
        assert_eq!(
            index_text(Direction::Out, "bot", "Laporan MLG-2026-000123"),
            "laporan mlg 2026 000123"
        );
        assert_eq!(index_text(Direction::In, "anonim", ""), "");
    }
}
