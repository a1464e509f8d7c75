//! Webhooks from outside services, on the console's address: WhatsApp's subscription handshake
//! (`GET`, `hub.challenge` echoed when the verify token matches) and its events (`POST`, signed
//! with `X-Hub-Signature-256`; unsigned or wrongly signed bodies get 401 and change nothing).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::auth::same_secret;
use super::{ApiError, AppState};

pub async fn verify(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(hook) = &state.whatsapp else {
        return ApiError::NotFound("webhook WhatsApp tidak aktif".into()).into_response();
    };
    let token = query
        .get("hub.verify_token")
        .map(String::as_str)
        .unwrap_or("");
    if query.get("hub.mode").map(String::as_str) == Some("subscribe")
        && same_secret(token, &hook.verify_token)
    {
        let challenge = query.get("hub.challenge").cloned().unwrap_or_default();
        return (StatusCode::OK, [("content-type", "text/plain")], challenge).into_response();
    }
    ApiError::Forbidden("verify token tidak cocok".into()).into_response()
}

pub async fn whatsapp(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let (Some(hook), Some(tickets)) = (&state.whatsapp, &state.tickets) else {
        return ApiError::NotFound("webhook WhatsApp tidak aktif".into()).into_response();
    };
    let signature = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok());
    if !crate::channels::whatsapp::signature_ok(&hook.app_secret, &body, signature) {
        tracing::warn!("a WhatsApp webhook without a valid signature was refused");
        return ApiError::Unauthorized.into_response();
    }
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return ApiError::BadRequest("badan webhook bukan JSON".into()).into_response();
    };
    match crate::tickets::whatsapp::handle_webhook(tickets, state.desk.store(), &value).await {
        Ok(handled) => {
            if !handled.moved.is_empty() {
                state.desk.notify();
            }
            (StatusCode::OK, axum::Json(serde_json::json!({"ok": true}))).into_response()
        }
        // A server error makes WhatsApp deliver the webhook again.
        Err(e) => ApiError::Internal(e.to_string()).into_response(),
    }
}
