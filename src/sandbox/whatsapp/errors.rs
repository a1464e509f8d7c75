/*!
Graph API errors as the Cloud API answers them, `{"error":{"message","type","code",
"error_data":{"details"},"fbtrace_id"}}` (with `WWW-Authenticate` on code 190), the constructors
for the codes the sandbox answers, Meta's exact texts where the sandbox copies them, and the
opaque trace ids Graph puts in bodies and headers.
*/

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{Value, json};

/// Where Meta's webhook errors point.
pub(super) const ERROR_HREF: &str =
    "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/";
/// Meta's details for a free-form message outside the window (error 131047).
pub(super) const REENGAGEMENT_DETAILS: &str = "Message failed to send because more than 24 hours have passed since the customer last replied to this number.";
/// Meta's message for a token it cannot read (error 190).
const INVALID_TOKEN: &str = "Invalid OAuth access token - Cannot parse access token";

/// A Graph API error: `{"error":{"message","type","code",...,"fbtrace_id"}}`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct GraphError {
    pub(super) status: StatusCode,
    pub(super) code: u32,
    pub(super) kind: &'static str,
    pub(super) message: String,
    pub(super) subcode: Option<u32>,
    pub(super) details: Option<String>,
}

impl GraphError {
    pub(super) fn new(status: StatusCode, code: u32, message: impl Into<String>) -> GraphError {
        GraphError {
            status,
            code,
            kind: "OAuthException",
            message: message.into(),
            subcode: None,
            details: None,
        }
    }

    fn with_details(mut self, details: impl Into<String>) -> GraphError {
        self.details = Some(details.into());
        self
    }

    pub(super) fn invalid_token() -> GraphError {
        GraphError::new(StatusCode::UNAUTHORIZED, 190, INVALID_TOKEN)
    }

    /// Code 100 for a parameter that is missing.
    pub(super) fn required(name: &str) -> GraphError {
        GraphError::new(
            StatusCode::BAD_REQUEST,
            100,
            format!("(#100) The parameter {name} is required."),
        )
    }

    /// Code 100 for a parameter whose value is wrong.
    pub(super) fn invalid(details: impl Into<String>) -> GraphError {
        GraphError::new(StatusCode::BAD_REQUEST, 100, "(#100) Invalid parameter")
            .with_details(details)
    }

    /// Code 131009, which WhatsApp uses for interactive messages that break its limits.
    pub(super) fn not_valid(details: impl Into<String>) -> GraphError {
        GraphError::new(
            StatusCode::BAD_REQUEST,
            131009,
            "(#131009) Parameter value is not valid",
        )
        .with_details(details)
    }

    pub(super) fn unknown_template(name: &str, language: &str) -> GraphError {
        GraphError::new(
            StatusCode::BAD_REQUEST,
            132001,
            "(#132001) Template name does not exist in the translation",
        )
        .with_details(format!(
            "template name ({name}) does not exist in {language}"
        ))
    }

    /// Graph's answer for a path whose object id is unknown, to a `verb` (`get`, `post`)
    /// request.
    pub(super) fn unknown_object(verb: &str, id: &str) -> GraphError {
        GraphError {
            kind: "GraphMethodException",
            subcode: Some(33),
            ..GraphError::new(
                StatusCode::BAD_REQUEST,
                100,
                format!(
                    "Unsupported {verb} request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api"
                ),
            )
        }
    }

    /// An injected fault.
    pub(super) fn fault(status: u16, code: Option<u32>, details: Option<String>) -> GraphError {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let code = code.unwrap_or(match status.as_u16() {
            429 => 130429,
            503 => 2,
            400 => 100,
            401 => 190,
            _ => 131000,
        });
        let (message, default_details) = match code {
            2 => ("Service temporarily unavailable".to_owned(), None),
            100 => ("(#100) Invalid parameter".to_owned(), None),
            190 => (INVALID_TOKEN.to_owned(), None),
            130429 => (
                "(#130429) Rate limit hit".to_owned(),
                Some("Cloud API message throughput has been reached."),
            ),
            131047 => (
                "(#131047) Re-engagement message".to_owned(),
                Some(REENGAGEMENT_DETAILS),
            ),
            131056 => (
                "(#131056) (Business Account, Consumer Account) pair rate limit hit".to_owned(),
                Some(
                    "Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time.",
                ),
            ),
            131000 => (
                "(#131000) Something went wrong".to_owned(),
                Some("Message failed to send due to an unknown error."),
            ),
            code => (format!("(#{code}) Sandbox fault"), None),
        };
        let mut error = GraphError::new(status, code, message);
        error.details = details.or(default_details.map(str::to_owned));
        error
    }

    pub(super) fn json(&self) -> Value {
        let mut error = json!({
            "message": self.message,
            "type": self.kind,
            "code": self.code,
            "fbtrace_id": trace_id(),
        });
        if let Some(subcode) = self.subcode {
            error["error_subcode"] = json!(subcode);
        }
        if let Some(details) = &self.details {
            error["error_data"] = json!({"messaging_product": "whatsapp", "details": details});
        }
        json!({ "error": error })
    }
}

impl IntoResponse for GraphError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.json())).into_response();
        if self.code == 190 {
            let value = format!(
                "OAuth \"Facebook Platform\" \"invalid_token\" \"{}\"",
                self.message
            );
            if let Ok(value) = HeaderValue::from_str(&value) {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, value);
            }
        }
        response
    }
}

/// An opaque id like Graph's `fbtrace_id`.
pub(super) fn trace_id() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 16]>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_errors_have_graphs_shape() {
        let body = GraphError::invalid_token().json();
        assert_eq!(body["error"]["message"], INVALID_TOKEN);
        assert_eq!(body["error"]["type"], "OAuthException");
        assert_eq!(body["error"]["code"], 190);
        assert!(
            body["error"]["fbtrace_id"]
                .as_str()
                .is_some_and(|t| !t.is_empty())
        );
        let body = GraphError::unknown_object("get", "42").json();
        assert_eq!(body["error"]["code"], 100);
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("Unsupported get request. Object with ID '42'"))
        );
        assert_eq!(body["error"]["error_subcode"], 33);
        let body = GraphError::fault(429, None, None).json();
        assert_eq!(body["error"]["code"], 130429);
        assert_eq!(body["error"]["message"], "(#130429) Rate limit hit");
    }
}
