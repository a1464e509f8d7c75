//! The API of staff's own side of a case: private notes (`GET`/`POST
//! /api/conversations/{id}/notes`) and handing a conversation to a colleague (`POST
//! /api/conversations/{id}/assign`). The same desk functions as the conversation page's forms.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::Caller;
use super::{ApiError, AppState};

/// `GET /api/conversations/{id}/notes`: the notes, oldest first, personal data masked.
pub async fn notes(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    state.desk.get(&id).await?;
    let notes = state.desk.notes(&id).await?;
    Ok(Json(json!({ "data": notes })))
}

#[derive(Deserialize)]
pub struct NoteBody {
    text: String,
}

/// `POST /api/conversations/{id}/notes {"text": "..."}`: 201 with the note.
pub async fn add_note(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Json<NoteBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body.map_err(|e| {
        ApiError::BadRequest(format!(
            "badan permintaan harus JSON {{\"text\": \"...\"}}: {e}"
        ))
    })?;
    let note = state.desk.add_note(&id, &caller.actor, &body.text).await?;
    Ok((StatusCode::CREATED, Json(json!({ "data": note }))).into_response())
}

#[derive(Deserialize)]
pub struct AssignBody {
    to: String,
}

/// `POST /api/conversations/{id}/assign {"to": "NAME"}`: the conversation, now held by NAME.
pub async fn assign(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Json<AssignBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(body) = body.map_err(|e| {
        ApiError::BadRequest(format!(
            "badan permintaan harus JSON {{\"to\": \"NAMA\"}}: {e}"
        ))
    })?;
    let conversation = state.desk.assign(&id, &caller.actor, &body.to).await?;
    Ok(Json(json!({ "data": conversation.to_json() })))
}
