/*!
The Cloud API's router (media retrieval is in media.rs) and its messages endpoint,
`POST /{version}/{phone-number-id}/messages`: the version, the
bearer token and the phone number id checked, injected faults applied, the body checked
(requests.rs), then a read receipt accepted or a message recorded and its statuses queued:
`sent` and `delivered`, or `failed` with 131047 for free-form text outside the 24-hour window.
*/

use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

use super::errors::{ERROR_HREF, GraphError, REENGAGEMENT_DETAILS, trace_id};
use super::requests::{Outgoing, Request, parse_request};
use super::webhooks::Effect;
use super::{Fault, Kind, Sent, WhatsAppSandbox};
use crate::sandbox::common::now_s;
use crate::sandbox::control;

/// The pause between a send and its first status webhook.
const STATUS_DELAY: Duration = Duration::from_millis(20);

impl WhatsAppSandbox {
    /// The Cloud API: `POST /{version}/{phone-number-id}/messages`, `GET /{version}/{media-id}`
    /// and the media URLs it answers.
    pub fn api_router(&self) -> Router {
        Router::new()
            .route("/{version}/{object_id}/messages", post(api_send))
            .merge(WhatsAppSandbox::media_routes())
            .fallback(api_unknown_path)
            .with_state(self.clone())
    }

    /// Refuses an API version the sandbox does not serve, as Graph does.
    pub(super) fn check_version(&self, version: &str) -> Result<(), GraphError> {
        if version == self.settings.api_version {
            return Ok(());
        }
        Err(GraphError {
            kind: "GraphMethodException",
            ..GraphError::invalid(format!(
                "API version {version} is not served; the sandbox serves {}",
                self.settings.api_version
            ))
        })
    }

    /// Adds the headers Graph puts on every answer: trace ids and the API version.
    pub(super) fn with_graph_headers(&self, mut response: Response) -> Response {
        let headers = response.headers_mut();
        let trace = HeaderValue::from_str(&trace_id()).expect("base64 is a header value");
        headers.insert("x-fb-trace-id", trace.clone());
        headers.insert("x-fb-request-id", trace);
        if let Ok(version) = HeaderValue::from_str(&self.settings.api_version) {
            headers.insert("facebook-api-version", version);
        }
        response
    }

    async fn send(
        &self,
        version: &str,
        phone_number_id: &str,
        query: Option<&str>,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Value, GraphError> {
        self.check_version(version)?;
        if access_token(headers, query).as_deref() != Some(self.settings.access_token.as_str()) {
            return Err(GraphError::invalid_token());
        }
        if phone_number_id != self.settings.phone_number_id {
            return Err(GraphError::unknown_object("post", phone_number_id));
        }
        if let Some(fault) = self.take_fault() {
            control::pause(&fault).await;
            if let Some(status) = fault.status {
                return Err(GraphError::fault(status, fault.code, fault.details));
            }
        }
        let body: Value = serde_json::from_slice(body)
            .map_err(|e| GraphError::invalid(format!("the request body is not JSON: {e}")))?;
        match parse_request(&body, &self.settings.templates)? {
            Request::MarkRead { message_id } => self.mark_read(&message_id),
            Request::Message(outgoing) => Ok(self.accept(outgoing)),
        }
    }

    /// Takes the next injected fault: faults hit every send alike.
    fn take_fault(&self) -> Option<Fault> {
        self.lock().faults.take(|_| true)
    }

    /// A read receipt is accepted for a message the person wrote, as the Cloud API requires.
    fn mark_read(&self, message_id: &str) -> Result<Value, GraphError> {
        let data = self.lock();
        let known = data
            .chats
            .values()
            .any(|chat| chat.received.iter().any(|id| id == message_id));
        if !known {
            return Err(GraphError::invalid(format!(
                "message_id {message_id} is not a message this business received"
            )));
        }
        Ok(json!({"success": true}))
    }

    /// Records a valid message and queues its statuses: `failed` with 131047 for a free-form
    /// message outside the window, else `sent` and `delivered`.
    fn accept(&self, outgoing: Outgoing) -> Value {
        let mut guard = self.lock();
        let data = &mut *guard;
        let id = self.next_id(data, &outgoing.wa_id);
        let chat = data.chats.entry(outgoing.wa_id.clone()).or_default();
        let window_open = chat.window_open();
        chat.sent.push(Sent {
            id: id.clone(),
            kind: outgoing.kind,
            content: outgoing.content,
            context_id: outgoing.context_id,
            timestamp: now_s(),
            statuses: vec!["accepted"],
            errors: None,
        });
        let due = Instant::now() + STATUS_DELAY;
        if outgoing.kind.is_free_form() && !window_open {
            let errors = json!([{
                "code": 131047,
                "title": "Re-engagement message",
                "message": "Re-engagement message",
                "error_data": {"details": REENGAGEMENT_DETAILS},
                "href": ERROR_HREF,
            }]);
            let effect = Effect::new(&outgoing.wa_id, &id, "failed", Some(errors));
            self.queue_status(data, effect, due);
        } else {
            for status in ["sent", "delivered"] {
                let effect = Effect::new(&outgoing.wa_id, &id, status, None);
                self.queue_status(data, effect, due);
            }
        }
        let mut message = json!({"id": id});
        if outgoing.kind == Kind::Template {
            message["message_status"] = json!("accepted");
        }
        json!({
            "messaging_product": "whatsapp",
            "contacts": [{"input": outgoing.to, "wa_id": outgoing.wa_id}],
            "messages": [message],
        })
    }
}

async fn api_send(
    State(sandbox): State<WhatsAppSandbox>,
    Path((version, phone_number_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = sandbox
        .send(
            &version,
            &phone_number_id,
            query.as_deref(),
            &headers,
            &body,
        )
        .await;
    let response = match result {
        Ok(answer) => axum::Json(answer).into_response(),
        Err(error) => error.into_response(),
    };
    sandbox.with_graph_headers(response)
}

/// Graph's answer for a path it does not serve.
async fn api_unknown_path(uri: axum::http::Uri) -> Response {
    GraphError::new(
        StatusCode::BAD_REQUEST,
        2500,
        format!("Unknown path components: {}", uri.path()),
    )
    .into_response()
}

/// The token of `Authorization: Bearer ...`, or of the `access_token` query parameter, which
/// Graph accepts too.
pub(super) fn access_token(headers: &HeaderMap, query: Option<&str>) -> Option<String> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let value = value.to_str().ok()?;
        let (scheme, token) = value.split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim().to_owned());
    }
    query?
        .split('&')
        .find_map(|pair| pair.strip_prefix("access_token="))
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_come_from_the_header_or_the_query() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc"),
        );
        assert_eq!(access_token(&headers, None).as_deref(), Some("abc"));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(access_token(&headers, None), None);
        assert_eq!(
            access_token(&HeaderMap::new(), Some("x=1&access_token=tok")).as_deref(),
            Some("tok")
        );
        assert_eq!(access_token(&HeaderMap::new(), None), None);
    }
}
