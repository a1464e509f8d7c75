/*!
Downloading what people sent, as the Cloud API serves it: `GET /{version}/{media-id}` with the
bearer token gives the medium's URL (valid for 5 minutes), MIME type, SHA-256 and size; a `GET` of
that URL with the same token gives the bytes. The client checks the bytes against the SHA-256 and
reads no further than the limit it is given ([`MEDIA_LIMIT`] by default: WhatsApp's largest
media, documents, are 100 MB; its images at most 5 MB).
*/

use base64::Engine as _;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{WhatsAppClient, WhatsAppError, graph_error};

/// The largest medium WhatsApp carries (a document), in bytes.
pub const MEDIA_LIMIT: u64 = 100 * 1024 * 1024;

/// What `GET /{version}/{media-id}` says of a medium.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaInfo {
    pub id: String,
    /// Where to download it, with the bearer token; valid for 5 minutes.
    pub url: String,
    pub mime_type: String,
    /// Base64 SHA-256 of the bytes.
    pub sha256: String,
    /// In bytes, when stated (the spec writes it as a string; a number is read too).
    pub file_size: Option<u64>,
}

/// A downloaded medium.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadedMedia {
    pub bytes: Vec<u8>,
    /// As Meta states it (else the download's `Content-Type`).
    pub mime_type: String,
    /// Base64 SHA-256 of the bytes, checked against Meta's.
    pub sha256: String,
}

impl WhatsAppClient {
    /// A medium's URL and description (`GET /{version}/{media-id}`). An unknown id is
    /// [`WhatsAppError::Rejected`] (Graph's code 100), a refused token
    /// [`WhatsAppError::Unauthorized`].
    pub async fn media_info(&self, media_id: &str) -> Result<MediaInfo, WhatsAppError> {
        // Meta's media ids are digits; anything that could change the path is refused here.
        let valid = !media_id.is_empty()
            && media_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !valid {
            return Err(WhatsAppError::Rejected(format!(
                "{media_id:?} is not a media id"
            )));
        }
        let response = self
            .http
            .get(format!("{}/{media_id}", self.graph))
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| WhatsAppError::Transient(e.to_string()))?;
        let status = response.status();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            return Err(graph_error(status, &answer));
        }
        let text = |key: &str| answer[key].as_str().map(str::to_owned);
        let url = text("url")
            .ok_or_else(|| WhatsAppError::Transient(format!("no url for media {media_id}")))?;
        Ok(MediaInfo {
            id: text("id").unwrap_or_else(|| media_id.to_owned()),
            url,
            mime_type: text("mime_type").unwrap_or_default(),
            sha256: text("sha256").unwrap_or_default(),
            file_size: match &answer["file_size"] {
                Value::String(size) => size.parse().ok(),
                size => size.as_u64(),
            },
        })
    }

    /// Downloads a medium by its id, up to [`MEDIA_LIMIT`] bytes.
    pub async fn download_media(&self, media_id: &str) -> Result<DownloadedMedia, WhatsAppError> {
        self.download_media_at_most(media_id, MEDIA_LIMIT).await
    }

    /// Downloads a medium by its id: its URL first ([`WhatsAppClient::media_info`]), then the
    /// bytes, refusing more than `limit` bytes with [`WhatsAppError::TooLarge`]. Bytes that do
    /// not match Meta's SHA-256 are [`WhatsAppError::Transient`] (a download to try again); an
    /// expired or unknown URL is [`WhatsAppError::Rejected`].
    pub async fn download_media_at_most(
        &self,
        media_id: &str,
        limit: u64,
    ) -> Result<DownloadedMedia, WhatsAppError> {
        let info = self.media_info(media_id).await?;
        if let Some(size) = info.file_size.filter(|&size| size > limit) {
            return Err(WhatsAppError::TooLarge { size, limit });
        }
        let mut response = self
            .http
            .get(&info.url)
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| WhatsAppError::Transient(e.to_string()))?;
        let status = response.status();
        if !status.is_success() {
            let answer: Value = response.json().await.unwrap_or(Value::Null);
            return Err(graph_error(status, &answer));
        }
        if let Some(size) = response.content_length().filter(|&size| size > limit) {
            return Err(WhatsAppError::TooLarge { size, limit });
        }
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut bytes = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| WhatsAppError::Transient(e.to_string()))?
        {
            let size = (bytes.len() + chunk.len()) as u64;
            if size > limit {
                return Err(WhatsAppError::TooLarge { size, limit });
            }
            bytes.extend_from_slice(&chunk);
        }
        let sha256 = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&bytes));
        if !info.sha256.is_empty() && info.sha256 != sha256 {
            return Err(WhatsAppError::Transient(format!(
                "media {media_id}: the bytes' SHA-256 {sha256} is not Meta's {}",
                info.sha256
            )));
        }
        let mime_type = match info.mime_type.is_empty() {
            false => info.mime_type,
            true => content_type.unwrap_or_else(|| "application/octet-stream".to_owned()),
        };
        Ok(DownloadedMedia {
            bytes,
            mime_type,
            sha256,
        })
    }
}
