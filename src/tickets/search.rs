//! Finding a ticket by its number (`MLG-2026-000123`, `000123` or `123`), its reporter's
//! handle, its agency's name, its place or the complaint's words (issue 14).
//!
//! The database indexes the tickets' own columns (migration 0018): on SQLite an FTS5 table that
//! triggers keep in step with every insert, reroute, forgotten reporter and delete; on
//! PostgreSQL a generated, weighted `tsvector` with a GIN index. The complaint's words are
//! stored redacted of personal data (`Tickets::file`), so no NIK or phone number is indexed;
//! a forgotten reporter is `anonim` in the index as in the row. Agencies' names live in
//! bot.toml, not in the database: a query word that names one or two agencies (a whole word of
//! three letters or more of their name or short name, such as "lingkungan" or "DLH"; "dinas"
//! names too many to mean any) also finds their tickets through the indexed agency id. Ranked
//! by FTS5's `bm25` (number and reporter weigh most, then agency, category and place, then the
//! words) or PostgreSQL's `ts_rank` over the same weights; newest first among equals.

use std::collections::HashMap;

use sqlx::Row as _;

use super::{TicketError, TicketState, Tickets};
use crate::store::search::{Alternative, Field, Found, SearchQuery, Snippet, words};
use crate::store::{Backend, Store};

/// The agency's id in the index: the FTS5 column, the PostgreSQL weight.
const AGENCY: Field = Field {
    column: "agency",
    weight: 'B',
};
/// Characters of a complaint a snippet shows at most.
const SNIPPET_CHARS: usize = 160;
/// A word of more agencies' names than this names none of them.
const MAX_AGENCIES_PER_WORD: usize = 2;

/// A ticket a search found, as staff read it.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketHit {
    pub number: String,
    /// The agency's name and short name from bot.toml ("instansi tidak dikenal" for an id
    /// bot.toml no longer lists).
    pub agency_name: String,
    pub agency_short_name: String,
    pub state: TicketState,
    pub location: Option<String>,
    /// The reporter's handle (`anonim` once forgotten).
    pub reporter: String,
    pub conversation_id: Option<String>,
    pub created_at: i64,
    pub due_acknowledge: i64,
    pub due_resolve: i64,
    pub overdue: bool,
    /// The complaint around its hits, personal data masked.
    pub snippet: Snippet,
}

impl TicketHit {
    /// The deadline that counts now and what it is for ("diterima", "selesai"); none once the
    /// ticket is closed.
    pub fn deadline(&self) -> Option<(&'static str, i64)> {
        match self.state {
            TicketState::Open => Some(("diterima", self.due_acknowledge)),
            TicketState::Acknowledged | TicketState::InProgress => {
                Some(("selesai", self.due_resolve))
            }
            TicketState::Resolved | TicketState::Rejected => None,
        }
    }
}

impl Tickets {
    /// The tickets matching `query`, best first and, among equals, newest first; at most
    /// `limit`.
    pub async fn search(
        &self,
        store: &Store,
        query: &SearchQuery,
        limit: usize,
    ) -> Result<Found<TicketHit>, TicketError> {
        let agencies = |term: &str| self.agency_alternatives(term);
        let (found, text) = match store.backend() {
            Backend::Sqlite => (
                "SELECT number, bm25(tickets_search, 10.0, 10.0, 5.0, 2.0, 2.0, 1.0) AS score \
                 FROM tickets_search WHERE tickets_search MATCH $1",
                query.fts5(agencies),
            ),
            Backend::Postgres => (
                "SELECT t.number, CAST(-ts_rank(t.search, q) AS DOUBLE PRECISION) AS score \
                 FROM tickets t, to_tsquery('simple', $1) q WHERE t.search @@ q",
                query.tsquery(agencies),
            ),
        };
        let rows = sqlx::query(&format!(
            "SELECT t.number, t.agency, t.state, t.location, t.text, t.reporter, \
             t.conversation_id, t.created_at, t.due_acknowledge, t.due_resolve, t.overdue \
             FROM ({found}) f JOIN tickets t ON t.number = f.number \
             ORDER BY f.score, t.created_at DESC, t.number DESC LIMIT $2"
        ))
        .bind(text)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX).saturating_add(1))
        .fetch_all(store.pool())
        .await?;
        let hits = rows
            .iter()
            .map(|r| {
                let agency: String = r.get(1);
                let (name, short_name) = match self.agency(&agency) {
                    Some(a) => (a.name.clone(), a.short_name.clone()),
                    None => ("instansi tidak dikenal".to_owned(), String::new()),
                };
                let state: String = r.get(2);
                let text: String = r.get(4);
                TicketHit {
                    number: r.get(0),
                    agency_name: name,
                    agency_short_name: short_name,
                    state: TicketState::parse(&state).unwrap_or(TicketState::Open),
                    location: r.get(3),
                    snippet: query.snippet(&crate::language::pii::mask(&text), SNIPPET_CHARS),
                    reporter: r.get(5),
                    conversation_id: r.get(6),
                    created_at: r.get(7),
                    due_acknowledge: r.get(8),
                    due_resolve: r.get(9),
                    overdue: r.get::<i64, _>(10) != 0,
                }
            })
            .collect();
        Ok(Found::first(hits, limit))
    }

    /// The agencies `term` names, as alternatives on the indexed agency id: `term` is a whole
    /// word of three letters or more of their name or short name, and of no more than
    /// [`MAX_AGENCIES_PER_WORD`] agencies' names.
    fn agency_alternatives(&self, term: &str) -> Vec<Alternative> {
        if term.chars().count() < 3 {
            return Vec::new();
        }
        let named: Vec<(&str, Vec<String>)> = self
            .config
            .agencies
            .iter()
            .map(|a| {
                let mut own: Vec<String> = words(&a.name)
                    .chain(words(&a.short_name))
                    .map(|(_, w)| w.to_lowercase())
                    .collect();
                own.sort();
                own.dedup();
                (a.id.as_str(), own)
            })
            .collect();
        let mut agencies_per_word: HashMap<&str, usize> = HashMap::new();
        for (_, own) in &named {
            for word in own {
                *agencies_per_word.entry(word.as_str()).or_default() += 1;
            }
        }
        if agencies_per_word
            .get(term)
            .is_none_or(|&n| n > MAX_AGENCIES_PER_WORD)
        {
            return Vec::new();
        }
        named
            .iter()
            .filter(|(_, own)| own.iter().any(|w| w == term))
            .map(|(id, _)| Alternative::phrase(id, Some(AGENCY)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tickets() -> Tickets {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("bot.toml");
        let config = crate::Config::load(&path).unwrap();
        Tickets::load(std::sync::Arc::new(config)).unwrap()
    }

    #[test]
    fn a_word_of_one_or_two_agencies_names_them_and_a_common_one_none() {
        let t = tickets();
        let ids = |term: &str| {
            let q = SearchQuery::parse(term).unwrap();
            q.fts5(|w| t.agency_alternatives(w))
        };
        assert_eq!(ids("lingkungan"), "(\"lingkungan\"* OR agency : \"dlh\")");
        assert_eq!(ids("dlh"), "(\"dlh\"* OR agency : \"dlh\")");
        assert_eq!(ids("tirta"), "(\"tirta\"* OR agency : \"tugu tirta\")");
        assert_eq!(ids("dinas"), "(\"dinas\"*)");
        assert_eq!(ids("lingkung"), "(\"lingkung\"*)");
    }
}
