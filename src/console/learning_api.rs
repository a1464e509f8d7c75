//! The JSON API of the learning loop: `/api/ask` (the running engine's decision with its
//! evidence), corrections (propose, list, accept or drop), the engine's state and its reload.

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::Caller;
use super::{ApiError, AppState};
use crate::desk::Role;

#[derive(Deserialize)]
pub struct AskQuery {
    text: Option<String>,
    from: Option<String>,
}

/// `GET /api/ask?text=...`: what the running engine decides for a text, with its evidence and
/// the exact reply, as `kicau ask --json` does from the files. Personal data in the text is
/// neither logged nor echoed.
pub async fn ask(
    State(state): State<AppState>,
    _caller: Caller,
    Query(query): Query<AskQuery>,
) -> Result<Json<Value>, ApiError> {
    let text = query.text.unwrap_or_default();
    if text.trim().is_empty() {
        return Err(ApiError::BadRequest("isi parameter text".into()));
    }
    let engine = state.engine.get();
    let decision = engine.triage(&text);
    let reply = engine.reply(&decision, query.from.as_deref().unwrap_or("warga"));
    Ok(Json(json!({
        "decision": decision,
        "reply": reply,
        "model": engine.model_info(),
    })))
}

/// `GET /api/engine`: the running engine and the last failed load.
pub async fn engine(State(state): State<AppState>, _caller: Caller) -> Json<Value> {
    Json(json!({ "data": state.engine.status() }))
}

#[derive(Deserialize)]
pub struct ListQuery {
    state: Option<String>,
}

/// `GET /api/corrections?state=pending|accepted|dropped|all` (pending by default).
pub async fn corrections(
    State(state): State<AppState>,
    _caller: Caller,
    Query(query): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let wanted = query.state.as_deref().unwrap_or("pending");
    if !["pending", "accepted", "dropped", "all"].contains(&wanted) {
        return Err(ApiError::BadRequest(format!(
            "state tidak dikenal: {wanted}"
        )));
    }
    let list = state
        .desk
        .corrections((wanted != "all").then_some(wanted), 500)
        .await?;
    Ok(Json(json!({ "data": list })))
}

#[derive(Deserialize)]
pub struct ProposeBody {
    tweet_id: String,
    label: String,
    #[serde(default)]
    note: String,
}

/// `POST /api/conversations/{id}/corrections {"tweet_id", "label", "note"}`: "Keputusan yang
/// benar" for the decision on one of the conversation's tweets.
pub async fn propose_correction(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Json<ProposeBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(body) = body.map_err(|e| {
        ApiError::BadRequest(format!(
            "badan permintaan harus JSON {{\"tweet_id\": \"...\", \"label\": \"...\"}}: {e}"
        ))
    })?;
    let correction = super::learning_pages::propose(
        &state,
        &caller.actor,
        &id,
        &body.tweet_id,
        &body.label,
        &body.note,
    )
    .await?;
    Ok(Json(json!({ "data": correction })))
}

/// `POST /api/corrections/{id}/{accept|drop}` (admins).
pub async fn review_correction(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, action)): Path<(i64, String)>,
) -> Result<Json<Value>, ApiError> {
    let accept = match action.as_str() {
        "accept" => true,
        "drop" => false,
        _ => return Err(ApiError::NotFound("aksi tidak dikenal".into())),
    };
    if caller.actor.role != Role::Admin {
        return Err(ApiError::Forbidden(
            "hanya admin yang dapat menerima atau menolak koreksi".into(),
        ));
    }
    let correction = state
        .desk
        .review_correction(id, &caller.actor, accept)
        .await
        .map_err(|e| match e {
            crate::desk::DeskError::Invalid(m) => ApiError::Conflict(m),
            e => e.into(),
        })?;
    if accept {
        state.engine.request_reload();
    }
    Ok(Json(json!({ "data": correction })))
}

/// `POST /api/knowledge/reload` (admins): loads the knowledge base again now; the result shows
/// in `GET /api/engine`.
pub async fn reload(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    if caller.actor.role != Role::Admin {
        return Err(ApiError::Forbidden(
            "hanya admin yang dapat memuat ulang basis pengetahuan".into(),
        ));
    }
    state.engine.request_reload();
    Ok(Json(json!({ "data": { "requested": true } })))
}
