/*!
WhatsApp Business Cloud API (Meta Graph API) for agencies that take tickets on a WhatsApp number:
send a message (text, reply buttons, approved template), check a webhook's
`X-Hub-Signature-256`, read the text and images people sent from a webhook (inbound.rs), and
download an image by its media id (media.rs). Against Meta or the sandbox: only the base URL
differs. Wire formats only; this module never reaches the tickets.
*/

use std::time::Duration;

mod inbound;
mod media;

pub use inbound::{InboundContent, InboundMessage, MediaRef, inbound_messages, verified_messages};
pub use media::{DownloadedMedia, MEDIA_LIMIT, MediaInfo};

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

/// How a send failed.
#[derive(Debug, thiserror::Error)]
pub enum WhatsAppError {
    /// Throughput limits (130429, 131056) or HTTP 429: try again later.
    #[error("rate limited: {0}")]
    RateLimited(String),
    /// Network trouble or a server error: worth retrying.
    #[error("transient failure: {0}")]
    Transient(String),
    /// The token was refused (190): retry once a person fixed it, never drop the message.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// Meta refused for good (bad parameters, unknown template, unknown media...).
    #[error("refused: {0}")]
    Rejected(String),
    /// A medium to download is over the limit asked for: `size` is its stated size, or the
    /// bytes received when the download passed the limit.
    #[error("media too large: {size} bytes, over the limit of {limit}")]
    TooLarge { size: u64, limit: u64 },
}

/// The Cloud API client of one business number.
#[derive(Clone)]
pub struct WhatsAppClient {
    http: reqwest::Client,
    /// The messages endpoint.
    url: String,
    /// The API at its version, e.g. `https://graph.facebook.com/v23.0`, for media.
    graph: String,
    token: String,
}

impl std::fmt::Debug for WhatsAppClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WhatsAppClient")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl WhatsAppClient {
    /// A client for `phone_number_id` at `base` (`https://graph.facebook.com`) and `version`.
    pub fn new(base: &str, version: &str, phone_number_id: &str, token: &str) -> WhatsAppClient {
        let graph = format!("{}/{version}", base.trim_end_matches('/'));
        WhatsAppClient {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .connect_timeout(Duration::from_secs(5))
                .build()
                .expect("a reqwest client with rustls builds"),
            url: format!("{graph}/{phone_number_id}/messages"),
            graph,
            token: token.to_owned(),
        }
    }

    /// Sends one message body (without `messaging_product`, which is added). Returns its wamid.
    pub async fn send(&self, to: &str, message: &Value) -> Result<String, WhatsAppError> {
        let mut body = message.clone();
        body["messaging_product"] = json!("whatsapp");
        body["recipient_type"] = json!("individual");
        body["to"] = json!(to);
        let response = self
            .http
            .post(&self.url)
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .map_err(|e| WhatsAppError::Transient(e.to_string()))?;
        let status = response.status();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        if status.is_success() {
            return answer["messages"][0]["id"]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| WhatsAppError::Transient("no messages[0].id".into()));
        }
        Err(graph_error(status, &answer))
    }
}

/// How Graph refused a request, from its status and its error body.
fn graph_error(status: reqwest::StatusCode, answer: &Value) -> WhatsAppError {
    let code = answer["error"]["code"].as_i64().unwrap_or(0);
    let message = answer["error"]["message"].as_str().unwrap_or("").to_owned();
    let detail = format!("{status} ({code}): {message}");
    match (status.as_u16(), code) {
        (_, 130429 | 131056) | (429, _) => WhatsAppError::RateLimited(detail),
        (401, _) | (_, 190) => WhatsAppError::Unauthorized(detail),
        (s, _) if s >= 500 => WhatsAppError::Transient(detail),
        _ => WhatsAppError::Rejected(detail),
    }
}

/// Whether `header` (`sha256=<hex>`) is the HMAC-SHA256 of `body` under `app_secret`, compared
/// in constant time.
pub fn signature_ok(app_secret: &str, body: &[u8], header: Option<&str>) -> bool {
    let Some(hex) = header.and_then(|h| h.strip_prefix("sha256=")) else {
        return false;
    };
    let Some(expected) = decode_hex(hex) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_match_the_published_vectors() {
        assert!(signature_ok(
            "secret",
            b"test",
            Some("sha256=0329a06b62cd16b33eb6792be8c60b158d89a2ee3a876fce9a881ebb488c0914")
        ));
        assert!(signature_ok(
            "app_secret_123",
            br#"{"object":"whatsapp_business_account","entry":[]}"#,
            Some("sha256=02fe0c96d28c59ddb7cf81eff0ca05809b360ba73b63c28210b5906a0a107d1f")
        ));
        assert!(!signature_ok("secret", b"test", Some("sha256=00")));
        assert!(!signature_ok("secret", b"test", None));
        assert!(!signature_ok(
            "other",
            b"test",
            Some("sha256=0329a06b62cd16b33eb6792be8c60b158d89a2ee3a876fce9a881ebb488c0914")
        ));
    }
}
