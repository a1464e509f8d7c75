//! The JSON API (`/api/...`) and the live event stream (`/events`). The shapes are a contract
//! with outside tools; `openapi.json` beside this file documents them.

use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::Caller;
use super::{ApiError, AppState};
use crate::desk::{Filter, State as ConvState};

#[derive(Deserialize)]
pub struct ListQuery {
    state: Option<String>,
    held_by: Option<String>,
}

/// Parses the list filter (`state` among bot, waiting_staff, staff, closed; `held_by`).
pub fn filter(query: &ListQuery) -> Result<Filter, ApiError> {
    let state = match query.state.as_deref() {
        None => None,
        Some(s) => Some(ConvState::parse(s).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "state tidak dikenal: {s:?} (bot, waiting_staff, staff, closed)"
            ))
        })?),
    };
    Ok(Filter {
        state,
        held_by: query.held_by.clone().filter(|h| !h.is_empty()),
    })
}

pub async fn list(
    State(state): State<AppState>,
    _caller: Caller,
    Query(query): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let conversations = state.desk.list(&filter(&query)?).await?;
    let data: Vec<Value> = conversations.iter().map(|c| c.to_json()).collect();
    Ok(Json(json!({ "data": data })))
}

pub async fn detail(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let detail = state.desk.detail(&id).await?;
    Ok(Json(json!({ "data": detail.to_json() })))
}

pub async fn claim(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let conversation = state.desk.claim(&id, &caller.actor).await?;
    Ok(Json(json!({ "data": conversation.to_json() })))
}

#[derive(Deserialize)]
pub struct ReplyBody {
    text: String,
}

pub async fn reply(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Json<ReplyBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body.map_err(|e| {
        ApiError::BadRequest(format!(
            "badan permintaan harus JSON {{\"text\": \"...\"}}: {e}"
        ))
    })?;
    let queued = state.desk.reply(&id, &caller.actor, &body.text).await?;
    super::learning_pages::suggest_from_reply(&state, &caller.actor, &id, &body.text).await;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "data": { "queued": queued } })),
    )
        .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreviewBody {
    text: String,
    /// The conversation the reply is for (its citizen's handle leads each part).
    #[serde(default)]
    conversation: Option<String>,
}

/// `POST /api/preview`: the exact tweets a staff reply would become (the same splitter as the
/// reply itself), their weights, whether they are within `[desk] max_thread_parts`, and why
/// the reply would be refused for personal data, if it would.
pub async fn preview(
    State(state): State<AppState>,
    _caller: Caller,
    body: Result<Json<PreviewBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(body) = body.map_err(|e| {
        ApiError::BadRequest(format!(
            "badan permintaan harus JSON {{\"text\": \"...\"}}: {e}"
        ))
    })?;
    let conversation = body.conversation.as_deref().filter(|c| !c.is_empty());
    let handle = match conversation {
        Some(id) => state.desk.get(id).await?.citizen,
        None => "warga".to_owned(),
    };
    let personal_data = state
        .desk
        .personal_data_refusal(conversation, &body.text)
        .await?;
    let splitter = state.desk.splitter();
    let parts = splitter.split_unbounded(&handle, &body.text);
    let max = splitter.max_parts();
    let message = splitter
        .split(&handle, &body.text)
        .err()
        .map(|e| e.to_string());
    Ok(Json(json!({ "data": {
        "parts": parts.iter().map(|p| json!({
            "text": p,
            "weighted_length": crate::tweet::weighted_length(p),
        })).collect::<Vec<_>>(),
        "count": parts.len(),
        "max_parts": max,
        "within_limit": parts.len() <= max,
        "message": message,
        "personal_data": personal_data,
    }})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevealBody {
    tweet_id: String,
}

/// `POST /api/conversations/{id}/reveal` (admins): a citizen's message as written, personal
/// data included (everywhere else it is masked); audited.
pub async fn reveal(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Json<RevealBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(body) = body.map_err(|e| {
        ApiError::BadRequest(format!(
            "badan permintaan harus JSON {{\"tweet_id\": \"...\"}}: {e}"
        ))
    })?;
    let text = state
        .desk
        .reveal(&id, &body.tweet_id, &caller.actor)
        .await?;
    Ok(Json(
        json!({ "data": { "tweet_id": body.tweet_id, "text": text } }),
    ))
}

pub async fn release(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let conversation = state.desk.release(&id, &caller.actor).await?;
    Ok(Json(json!({ "data": conversation.to_json() })))
}

pub async fn close(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let conversation = state.desk.close(&id, &caller.actor).await?;
    Ok(Json(json!({ "data": conversation.to_json() })))
}

#[derive(Deserialize)]
pub struct KnowledgeQuery {
    q: Option<String>,
}

/// Knowledge-base entries for a question, best first: what the search finds, then titles that
/// contain the words. Staff insert an entry's short answer as the start of a reply.
pub async fn knowledge(
    State(state): State<AppState>,
    _caller: Caller,
    Query(query): Query<KnowledgeQuery>,
) -> Json<Value> {
    Json(json!({ "data": knowledge_matches(&state, query.q.as_deref().unwrap_or("")) }))
}

pub fn knowledge_matches(state: &AppState, q: &str) -> Vec<Value> {
    let q = q.trim();
    if q.is_empty() {
        return Vec::new();
    }
    let engine = state.engine.get();
    let decision = engine.triage(q);
    let mut ids: Vec<String> = decision
        .evidence
        .candidates
        .iter()
        .map(|c| c.topic.clone())
        .collect();
    let lower = q.to_lowercase();
    for entry in engine.entries() {
        if (entry.title.to_lowercase().contains(&lower) || entry.id.contains(&lower))
            && !ids.contains(&entry.id)
        {
            ids.push(entry.id.clone());
        }
    }
    ids.into_iter()
        .filter_map(|id| engine.entry(&id))
        .take(8)
        .map(|e| json!({"id": e.id, "title": e.title, "answer": e.short_answer}))
        .collect()
}

/// `GET /api/replies`: the saved replies (`knowledge/replies/`) of the running engine, by
/// shortcut: what the reply box's `/` menu inserts.
pub async fn replies(State(state): State<AppState>, _caller: Caller) -> Json<Value> {
    Json(json!({ "data": state.engine.get().replies() }))
}

pub async fn dead_letters(
    State(state): State<AppState>,
    _caller: Caller,
) -> Result<Json<Value>, ApiError> {
    let letters = state.desk.store().dead_letters().await?;
    let data: Vec<Value> = letters
        .iter()
        .map(|d| {
            json!({
                "id": d.id,
                "source": d.source,
                "reference": d.reference,
                "error": d.error,
                "payload": d.payload,
                "created_at": crate::store::rfc3339(d.created_at),
            })
        })
        .collect();
    Ok(Json(json!({ "data": data })))
}

#[derive(Deserialize)]
pub struct TicketQuery {
    agency: Option<String>,
    state: Option<String>,
}

/// `GET /api/tickets?agency=dpuprpkp&state=open`: overdue first, then oldest.
pub async fn tickets(
    State(state): State<AppState>,
    _caller: Caller,
    Query(query): Query<TicketQuery>,
) -> Result<Json<Value>, ApiError> {
    let Some(tickets) = &state.tickets else {
        return Ok(Json(json!({ "data": [] })));
    };
    if let Some(s) = query.state.as_deref()
        && s != "active"
        && crate::tickets::TicketState::parse(s).is_none()
    {
        return Err(ApiError::BadRequest(format!(
            "state tidak dikenal: {s:?} (open, acknowledged, in_progress, resolved, rejected, active)"
        )));
    }
    let list = tickets
        .list(
            state.desk.store(),
            query.agency.as_deref().filter(|a| !a.is_empty()),
            query.state.as_deref().filter(|s| !s.is_empty()),
        )
        .await?;
    let data: Vec<Value> = list.iter().map(|t| t.to_json()).collect();
    Ok(Json(json!({ "data": data })))
}

/// `GET /api/tickets/{number}`: the ticket with its history.
pub async fn ticket(
    State(state): State<AppState>,
    _caller: Caller,
    Path(number): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let Some(tickets) = &state.tickets else {
        return Err(ApiError::NotFound(format!(
            "laporan {number} tidak ditemukan"
        )));
    };
    let ticket = tickets.get(state.desk.store(), &number).await?;
    let history = tickets.history(state.desk.store(), &number).await?;
    let mut value = ticket.to_json();
    value["history"] = json!(
        history
            .iter()
            .map(|(at, s, by, note)| json!({"at": crate::store::rfc3339(*at), "state": s, "by": by, "note": note}))
            .collect::<Vec<_>>()
    );
    Ok(Json(json!({ "data": value })))
}

/// `GET /api/open311/requests.json?agency=&state=`: the tickets in Open311 GeoReport v2's
/// service-request format, for exports and outside tools.
pub async fn open311(
    State(state): State<AppState>,
    _caller: Caller,
    Query(query): Query<TicketQuery>,
) -> Result<Json<Value>, ApiError> {
    let Some(tickets) = &state.tickets else {
        return Ok(Json(json!([])));
    };
    let list = tickets
        .list(
            state.desk.store(),
            query.agency.as_deref().filter(|a| !a.is_empty()),
            query.state.as_deref().filter(|s| !s.is_empty()),
        )
        .await?;
    let mut out = Vec::with_capacity(list.len());
    for t in &list {
        let history = tickets.history(state.desk.store(), &t.number).await?;
        let notes = history
            .iter()
            .rev()
            .find(|h| !h.3.is_empty())
            .map(|h| h.3.clone())
            .unwrap_or_default();
        out.push(crate::tickets::open311(
            t,
            tickets.agency(&t.agency),
            &notes,
        ));
    }
    Ok(Json(Value::Array(out)))
}

#[derive(Deserialize)]
pub struct RerouteBody {
    agency: String,
    /// Back to the agency that rejected it, on purpose.
    #[serde(default)]
    again: bool,
}

/// `POST /api/tickets/{number}/reroute {"agency": "dlh"}`: staff send a rejected ticket on.
pub async fn reroute(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
    body: Result<Json<RerouteBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(body) = body.map_err(|e| {
        ApiError::BadRequest(format!(
            "badan permintaan harus JSON {{\"agency\": \"...\"}}: {e}"
        ))
    })?;
    let Some(tickets) = &state.tickets else {
        return Err(ApiError::NotFound(format!(
            "laporan {number} tidak ditemukan"
        )));
    };
    let ticket = tickets
        .reroute(
            state.desk.store(),
            &number,
            &body.agency,
            &caller.actor.name,
            body.again,
        )
        .await?;
    state.desk.notify();
    Ok(Json(json!({ "data": ticket.to_json() })))
}

#[derive(Deserialize)]
pub struct ReopenBody {
    note: String,
}

/// `POST /api/tickets/{number}/reopen {"note": "..."}`: staff reopen a resolved ticket (the
/// citizen says it is not fixed); the agency gets a new message with the note.
pub async fn reopen(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
    body: Result<Json<ReopenBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(body) = body.map_err(|e| {
        ApiError::BadRequest(format!(
            "badan permintaan harus JSON {{\"note\": \"...\"}}: {e}"
        ))
    })?;
    let tickets = tickets_of(&state, &number)?;
    let ticket = reopen_ticket(tickets, &state, &number, &caller.actor.name, &body.note).await?;
    Ok(Json(json!({ "data": ticket.to_json() })))
}

/// Reopening as the page and the API do it: a reason is required, for the agency.
pub async fn reopen_ticket(
    tickets: &crate::tickets::Tickets,
    state: &AppState,
    number: &str,
    by: &str,
    note: &str,
) -> Result<crate::tickets::Ticket, ApiError> {
    let note = crate::language::pii::redact(note.trim());
    if note.is_empty() {
        return Err(ApiError::BadRequest(
            "tuliskan alasan membuka kembali untuk instansi".into(),
        ));
    }
    let ticket = tickets
        .transition(
            state.desk.store(),
            number,
            crate::tickets::TicketState::InProgress,
            &crate::tickets::Mover {
                name: by,
                staff: true,
                note: &note,
            },
        )
        .await?;
    state.desk.notify();
    Ok(ticket)
}

#[derive(Deserialize)]
pub struct PlaceBody {
    place: String,
}

/// `POST /api/tickets/{number}/place {"place": "..."}`: staff correct a ticket's place; the
/// history and audit log record it and the agency's message follows (edited on Telegram, a short
/// correction on WhatsApp).
pub async fn place(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
    body: Result<Json<PlaceBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(body) = body.map_err(|e| {
        ApiError::BadRequest(format!(
            "badan permintaan harus JSON {{\"place\": \"...\"}}: {e}"
        ))
    })?;
    let tickets = tickets_of(&state, &number)?;
    let ticket = tickets
        .correct_place(state.desk.store(), &number, &body.place, &caller.actor.name)
        .await?;
    state.desk.notify();
    Ok(Json(json!({ "data": ticket.to_json() })))
}

fn tickets_of<'a>(
    state: &'a AppState,
    number: &str,
) -> Result<&'a crate::tickets::Tickets, ApiError> {
    state
        .tickets
        .as_ref()
        .ok_or_else(|| ApiError::NotFound(format!("laporan {number} tidak ditemukan")))
}

fn held_note_json(note: &crate::tickets::HeldNote) -> Value {
    json!({
        "id": note.id,
        "ticket": note.number,
        "by": note.by,
        "note": note.note,
        "created_at": crate::store::rfc3339(note.created_at),
    })
}

/// `GET /api/ticket-notes`: agency notes waiting for staff approval, oldest first.
pub async fn held_notes(
    State(state): State<AppState>,
    _caller: Caller,
) -> Result<Json<Value>, ApiError> {
    let tickets = tickets_of(&state, "-")?;
    let notes = tickets.held_notes(state.desk.store()).await?;
    Ok(Json(
        json!({ "data": notes.iter().map(held_note_json).collect::<Vec<_>>() }),
    ))
}

#[derive(Deserialize, Default)]
pub struct NoteBody {
    #[serde(default)]
    text: Option<String>,
}

/// `POST /api/ticket-notes/{id}/approve` (optionally `{"text": "edited"}`) and
/// `POST /api/ticket-notes/{id}/drop`: staff decide on a held note, once.
pub async fn decide_note(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, action)): Path<(i64, String)>,
    body: Option<Json<NoteBody>>,
) -> Result<Json<Value>, ApiError> {
    let tickets = tickets_of(&state, "-")?;
    let body = body.map(|Json(b)| b).unwrap_or_default();
    let decision = match action.as_str() {
        "approve" => crate::tickets::NoteDecision::Approve(body.text.as_deref()),
        "drop" => crate::tickets::NoteDecision::Drop,
        _ => return Err(ApiError::NotFound("halaman tidak ditemukan".into())),
    };
    let note = tickets
        .decide_note(state.desk.store(), id, &caller.actor.name, decision)
        .await?;
    state.desk.notify();
    Ok(Json(json!({ "data": held_note_json(&note) })))
}

#[derive(Deserialize)]
pub struct SearchParams {
    q: Option<String>,
    limit: Option<usize>,
}

/// `GET /api/search?q=sampah&limit=20`: conversations and tickets the full-text index finds,
/// best first, at most `limit` (1 to 50) of each; the page `/search` shows the same.
pub async fn search(
    State(state): State<AppState>,
    _caller: Caller,
    Query(query): Query<SearchParams>,
) -> Result<Json<Value>, ApiError> {
    use super::search_pages::{DEFAULT_LIMIT, MAX_LIMIT, run};
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "limit harus 1 sampai {MAX_LIMIT}"
        )));
    }
    let results = run(&state, query.q.as_deref().unwrap_or(""), limit).await?;
    Ok(Json(json!({ "data": results.to_json() })))
}

#[derive(Deserialize)]
pub struct ReportQuery {
    days: Option<i64>,
}

/// The report of the `days` days before `to`, over the agencies that receive tickets.
pub async fn report_of(
    state: &AppState,
    days: i64,
    to: i64,
) -> Result<crate::report::Report, ApiError> {
    let agencies = state
        .tickets
        .as_ref()
        .map(|t| t.config.agencies.as_slice())
        .unwrap_or_default();
    let store = state.desk.store();
    let report = crate::report::build(store, agencies, to - days * 86_400_000, to).await?;
    let costs = state.engine.get().config().costs.clone();
    Ok(report.with_costs(store, &costs, to).await?)
}

/// `GET /api/report?days=7`: the office lead's figures as JSON.
pub async fn report(
    State(state): State<AppState>,
    _caller: Caller,
    Query(query): Query<ReportQuery>,
) -> Result<Json<Value>, ApiError> {
    let days = query.days.unwrap_or(7);
    if !(1..=366).contains(&days) {
        return Err(ApiError::BadRequest("days harus 1 sampai 366".into()));
    }
    let report = report_of(&state, days, crate::store::now_ms()).await?;
    Ok(Json(json!({ "data": report })))
}

/// `GET /metrics`: Prometheus gauges of the store's counts (same tokens as the API).
pub async fn metrics(State(state): State<AppState>, _caller: Caller) -> Result<Response, ApiError> {
    let costs = state.engine.get().config().costs.clone();
    let text = crate::report::metrics(state.desk.store(), &costs).await?;
    Ok((
        [("content-type", "text/plain; version=0.0.4; charset=utf-8")],
        text,
    )
        .into_response())
}

pub async fn openapi() -> Response {
    (
        [("content-type", "application/json")],
        include_str!("openapi.json"),
    )
        .into_response()
}

#[derive(Deserialize)]
pub struct EventsQuery {
    after: Option<i64>,
}

/// Server-sent events: every desk event after `after` (or from now), as it is committed, by any
/// process sharing the database. Each carries its id, so a reconnecting browser resumes with
/// `Last-Event-ID`.
pub async fn events(
    State(state): State<AppState>,
    _caller: Caller,
    headers: axum::http::HeaderMap,
    Query(query): Query<EventsQuery>,
) -> Result<Sse<impl futures_core::Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i64>().ok());
    let start = match resume.or(query.after) {
        Some(after) => after,
        None => state.desk.last_event_id().await?,
    };
    let desk = state.desk.clone();
    let stream = async_stream(desk, start);
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// The event feed as a stream: poll the table after each local change or every second (other
/// processes' changes arrive that way).
fn async_stream(
    desk: crate::desk::Desk,
    start: i64,
) -> impl futures_core::Stream<Item = Result<SseEvent, Infallible>> {
    let (sender, receiver) = tokio::sync::mpsc::channel::<SseEvent>(64);
    tokio::spawn(async move {
        let mut last = start;
        loop {
            match desk.events_after(last, 100).await {
                Ok(events) => {
                    for event in events {
                        last = event.id;
                        let sse = SseEvent::default()
                            .id(event.id.to_string())
                            .event("desk")
                            .data(serde_json::to_string(&event).unwrap_or_default());
                        if sender.send(sse).await.is_err() {
                            return;
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "reading desk events failed"),
            }
            tokio::select! {
                _ = desk.changed() => {}
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = sender.closed() => return,
            }
        }
    });
    ReceiverStream(receiver)
}

/// An mpsc receiver as a stream of `Ok` items.
struct ReceiverStream(tokio::sync::mpsc::Receiver<SseEvent>);

impl futures_core::Stream for ReceiverStream {
    type Item = Result<SseEvent, Infallible>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        self.0.poll_recv(cx).map(|item| item.map(Ok))
    }
}
