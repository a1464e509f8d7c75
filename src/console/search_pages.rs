//! Search over conversations and tickets (issue 14): the page `/search?q=` (the box in every
//! page's navigation leads here) and the search `GET /api/search` runs, shared so that both
//! find the same. The finding is the owners' (`desk::search`, `tickets::search`) over the
//! database's own full-text index, so every instance sharing the database finds the same and
//! nothing retention removed.
//!
//! Personal data in a query (a NIK, a phone number, an e-mail address) is left out of it, and
//! the page says so: the index holds none, so such a search could only find nothing, and the
//! query itself is never logged. Results are cards, which fit a 390-pixel phone; every text
//! from outside is escaped, and a snippet's hits are the only markup (`<mark>`).

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::PageSession;
use super::pages::{layout, must_change};
use super::{ApiError, AppState, esc, wib_time};
use crate::desk::search::ConversationHit;
use crate::store::search::{Found, MAX_CHARS, QueryError, SearchQuery, Snippet};
use crate::tickets::search::TicketHit;

/// Results of each kind the page shows, and the API's default.
pub const DEFAULT_LIMIT: usize = 20;
/// The most results of each kind the API gives.
pub const MAX_LIMIT: usize = 50;

/// What one search found.
pub struct Results {
    /// The query as typed, trimmed.
    pub query: String,
    /// Personal data was left out of the query.
    pub personal_data: bool,
    pub conversations: Found<ConversationHit>,
    pub tickets: Found<TicketHit>,
}

/// Searches conversations and tickets for `q`, at most `limit` of each. An empty or malformed
/// query is a 400 with the reason staff read.
pub async fn run(state: &AppState, q: &str, limit: usize) -> Result<Results, ApiError> {
    let q = q.trim();
    if q.chars().count() > MAX_CHARS {
        return Err(ApiError::BadRequest(QueryError::TooLong.to_string()));
    }
    let kept = crate::language::pii::cut(q);
    let mut results = Results {
        query: q.to_owned(),
        personal_data: kept != q,
        conversations: Found::none(),
        tickets: Found::none(),
    };
    let query = match SearchQuery::parse(&kept) {
        Ok(query) => query,
        // Nothing but personal data: nothing to search for, and that is the answer.
        Err(QueryError::Empty | QueryError::NoWords) if results.personal_data => {
            return Ok(results);
        }
        Err(e) => return Err(ApiError::BadRequest(e.to_string())),
    };
    results.conversations = state.desk.search(&query, limit).await?;
    if let Some(tickets) = &state.tickets {
        results.tickets = tickets.search(state.desk.store(), &query, limit).await?;
    }
    Ok(results)
}

/// A snippet as HTML: its text escaped, its hits in `<mark>`.
pub fn snippet_html(snippet: &Snippet) -> String {
    let mut out = String::new();
    let mut last = 0;
    for mark in &snippet.marks {
        out.push_str(&esc(&snippet.text[last..mark.start]));
        out.push_str("<mark>");
        out.push_str(&esc(&snippet.text[mark.clone()]));
        out.push_str("</mark>");
        last = mark.end;
    }
    out.push_str(&esc(&snippet.text[last..]));
    out
}

/// An agency as staff read it: "Dinas Lingkungan Hidup (DLH)".
fn agency_label(hit: &TicketHit) -> String {
    if hit.agency_short_name.is_empty() || hit.agency_short_name == hit.agency_name {
        hit.agency_name.clone()
    } else {
        format!("{} ({})", hit.agency_name, hit.agency_short_name)
    }
}

impl Results {
    /// The API's JSON shape (openapi.json, `SearchResults`).
    pub fn to_json(&self) -> Value {
        let conversations: Vec<Value> = self
            .conversations
            .hits
            .iter()
            .map(|c| {
                json!({
                    "id": c.id,
                    "citizen": c.citizen,
                    "state": c.state,
                    "state_label": c.state.label(),
                    "held_by": c.held_by,
                    "urgent": c.urgent,
                    "snippet": c.snippet.text,
                    "snippet_html": snippet_html(&c.snippet),
                    "at": crate::store::rfc3339(c.at),
                    "at_wib": wib_time(c.at),
                })
            })
            .collect();
        let tickets: Vec<Value> = self
            .tickets
            .hits
            .iter()
            .map(|t| {
                json!({
                    "number": t.number,
                    "agency": t.agency_name,
                    "agency_short_name": t.agency_short_name,
                    "state": t.state.as_str(),
                    "state_label": t.state.label(),
                    "location": t.location,
                    "reporter": t.reporter,
                    "conversation_id": t.conversation_id,
                    "created_at": crate::store::rfc3339(t.created_at),
                    "deadline": t.deadline().map(|(what, at)| json!({
                        "for": what,
                        "at": crate::store::rfc3339(at),
                        "at_wib": wib_time(at),
                    })),
                    "overdue": t.overdue,
                    "snippet": t.snippet.text,
                    "snippet_html": snippet_html(&t.snippet),
                })
            })
            .collect();
        json!({
            "query": self.query,
            "personal_data_ignored": self.personal_data,
            "conversations": conversations,
            "more_conversations": self.conversations.more,
            "tickets": tickets,
            "more_tickets": self.tickets.more,
        })
    }
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    q: Option<String>,
}

/// `GET /search?q=`: the search box, then the conversations and the tickets found, as cards.
pub async fn search(
    State(state): State<AppState>,
    PageSession(session): PageSession,
    Query(query): Query<PageQuery>,
) -> Response {
    if let Some(redirect) = must_change(&session) {
        return redirect;
    }
    let q = query.q.unwrap_or_default();
    let form = format!(
        "<form method=\"get\" action=\"/search\" class=\"search-page\" role=\"search\">\
         <input type=\"search\" name=\"q\" value=\"{q}\" maxlength=\"{MAX_CHARS}\" \
         aria-label=\"Kata kunci\" placeholder=\"mis. sampah, @warga9, MLG-2026-000123\"> \
         <button type=\"submit\">Cari</button></form>\
         <p class=\"note\">Mencari di semua percakapan dan laporan: kata (awalnya saja cukup, \
         \"sampa\" menemukan \"sampah\"), akun warga, nomor laporan, nama instansi, tempat. \
         Semua kata harus ada. Nomor NIK/KK, nomor telepon dan e-mail tidak dapat dicari.</p>",
        q = esc(q.trim()),
    );
    if q.trim().is_empty() {
        return layout("Pencarian", Some(&session), None, &form).into_response();
    }
    let results = match run(&state, &q, DEFAULT_LIMIT).await {
        Ok(r) => r,
        Err(ApiError::BadRequest(reason)) => {
            let body = format!(
                "{form}<p class=\"warning\" role=\"alert\">{}</p>",
                esc(&reason)
            );
            return layout("Pencarian", Some(&session), None, &body).into_response();
        }
        Err(e) => return e.into_response(),
    };
    let notice = if results.personal_data {
        "<p class=\"warning\" role=\"status\">Data pribadi (NIK/KK, nomor telepon, e-mail) tidak \
         ikut dicari: data itu tidak disimpan di indeks pencarian.</p>"
    } else {
        ""
    };
    let body = format!(
        "{form}{notice}{conversations}{tickets}",
        conversations = section(
            "Percakapan",
            &results.conversations,
            conversation_card,
            "Tidak ada percakapan yang cocok."
        ),
        tickets = if state.tickets.is_some() {
            section(
                "Laporan",
                &results.tickets,
                ticket_card,
                "Tidak ada laporan yang cocok.",
            )
        } else {
            String::new()
        },
    );
    layout(
        &format!("Pencarian: {}", results.query),
        Some(&session),
        None,
        &body,
    )
    .into_response()
}

/// One kind of result: its heading with the count, its cards, or why there are none.
fn section<T>(title: &str, found: &Found<T>, card: fn(&T) -> String, none: &str) -> String {
    if found.hits.is_empty() {
        return format!("<section><h2>{title} (0)</h2><p class=\"empty\">{none}</p></section>");
    }
    let more = if found.more {
        format!(
            "<p class=\"note\">Hanya {} teratas yang ditampilkan: tambahkan kata untuk \
             mempersempit.</p>",
            found.hits.len()
        )
    } else {
        String::new()
    };
    let cards: String = found.hits.iter().map(card).collect();
    format!(
        "<section><h2>{title} ({n}{plus})</h2><ul class=\"cards\">{cards}</ul>{more}</section>",
        n = found.hits.len(),
        plus = if found.more { "+" } else { "" },
    )
}

fn conversation_card(c: &ConversationHit) -> String {
    let held = c
        .held_by
        .as_deref()
        .map(|h| format!(" ({})", esc(h)))
        .unwrap_or_default();
    format!(
        "<li class=\"card{urgent_class}\" data-item><div class=\"card-head\">{urgent}\
         <a href=\"/conversations/{id}\">@{citizen}</a> <span class=\"state\">{state}{held}</span></div>\
         <p class=\"snippet\">{snippet}</p><p class=\"meta\">{at}</p></li>",
        urgent_class = if c.urgent { " urgent" } else { "" },
        urgent = if c.urgent {
            "<span class=\"badge\">DARURAT</span> "
        } else {
            ""
        },
        id = esc(&c.id),
        citizen = esc(&c.citizen),
        state = esc(c.state.label()),
        snippet = snippet_html(&c.snippet),
        at = esc(&wib_time(c.at)),
    )
}

fn ticket_card(t: &TicketHit) -> String {
    let deadline = t
        .deadline()
        .map(|(what, at)| format!("<dt>Batas {what}</dt><dd>{}</dd>", esc(&wib_time(at))))
        .unwrap_or_default();
    let conversation = t
        .conversation_id
        .as_deref()
        .map(|id| {
            format!(
                "<p class=\"meta\"><a href=\"/conversations/{}\">Lihat percakapan</a></p>",
                esc(id)
            )
        })
        .unwrap_or_default();
    format!(
        "<li class=\"card{late_class}\"{item}><div class=\"card-head\">{late}<strong>{number}</strong> \
         <span class=\"state\">{state}</span></div><p class=\"snippet\">{snippet}</p>\
         <dl class=\"facts\"><dt>Instansi</dt><dd>{agency}</dd><dt>Tempat</dt><dd>{place}</dd>\
         {deadline}<dt>Pelapor</dt><dd>@{reporter}</dd></dl>{conversation}</li>",
        late_class = if t.overdue { " urgent" } else { "" },
        // A case to open with the keys only when it leads to its conversation.
        item = if conversation.is_empty() {
            ""
        } else {
            " data-item"
        },
        late = if t.overdue {
            "<span class=\"badge\">TERLAMBAT</span> "
        } else {
            ""
        },
        number = esc(&t.number),
        state = esc(t.state.label()),
        snippet = snippet_html(&t.snippet),
        agency = esc(&agency_label(t)),
        place = esc(t.location.as_deref().unwrap_or("-")),
        reporter = esc(&t.reporter),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snippet_is_escaped_and_only_its_hits_are_markup() {
        let q = SearchQuery::parse("script sampah").unwrap();
        let s = q.snippet("<script>alert('x')</script> sampah & \"kotor\"", 200);
        assert_eq!(
            snippet_html(&s),
            "&lt;<mark>script</mark>&gt;alert(&#39;x&#39;)&lt;/<mark>script</mark>&gt; \
             <mark>sampah</mark> &amp; &quot;kotor&quot;"
        );
    }
}
