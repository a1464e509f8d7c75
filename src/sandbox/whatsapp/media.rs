/*!
Media people send, as the Cloud API serves it to a business: an image a person sends
(`POST /sandbox/whatsapp/reply` with `image`) is kept under a media id and announced in the
message webhook as `image {id, mime_type, sha256, caption}`; `GET /{version}/{media-id}` with the
bearer token answers `{messaging_product, url, mime_type, sha256, file_size, id}`; a `GET` of that
URL with the bearer token answers the bytes with their `Content-Type`.

As on WhatsApp: images are JPEG or PNG of at most 5 MB, captions at most 1,024 characters; the
`sha256` is the base64 SHA-256 of the bytes; `file_size` is a string, as the published spec
writes it; a URL is valid for 5 minutes; a missing or wrong token gets Graph's 401 (code 190) on
both requests; an unknown media id gets Graph's unknown-object error (code 100, subcode 33); a
`phone_number_id` query parameter other than the business number's is refused the same way.

The sandbox's own choices: the URL is the sandbox's own (`http://<the Host the request named>/
whatsapp_business/attachments/?mid=...&ext=...&hash=...`, shaped like Meta's lookaside URLs), so
that it works on whatever port the stand-in was bound to; a URL that was altered, has expired or
names forgotten media answers 404 in Graph's shape (code 100); the bytes kept are capped at
[`MAX_STORED`] in all, and a reset forgets them.
*/

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::WhatsAppSandbox;
use super::errors::GraphError;
use super::messages::access_token;
use crate::sandbox::common::{now_s, percent_decode};
use crate::sandbox::x_media::detect;

/// Largest image WhatsApp carries.
const MAX_IMAGE: usize = 5 * 1024 * 1024;
/// The image types WhatsApp carries.
const IMAGE_TYPES: [&str; 2] = ["image/jpeg", "image/png"];
/// Longest caption, in characters.
const MAX_CAPTION: usize = 1024;
/// How long a media URL stays valid, in seconds.
const URL_LIFETIME_S: i64 = 5 * 60;
/// Bytes the sandbox keeps for all media together; a reset frees them.
const MAX_STORED: usize = 256 * 1024 * 1024;
/// Largest body of `POST /sandbox/whatsapp/reply`, base64 included.
pub(super) const MAX_REPLY_BODY: usize = 8 * 1024 * 1024;

/// An image in `POST /sandbox/whatsapp/reply`: standard base64 bytes, their MIME type, and an
/// optional caption.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ImageInput {
    data: String,
    mime_type: String,
    #[serde(default)]
    caption: Option<String>,
}

/// A checked image, ready to keep.
#[derive(Debug)]
pub(super) struct Image {
    bytes: Vec<u8>,
    mime_type: String,
    caption: Option<String>,
}

impl ImageInput {
    /// Checks the image as WhatsApp's clients would have made it.
    pub(super) fn checked(self) -> Result<Image, String> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(self.data.trim())
            .map_err(|e| format!("image.data is not base64: {e}"))?;
        if bytes.is_empty() || bytes.len() > MAX_IMAGE {
            return Err(format!("image must have 1 to {MAX_IMAGE} bytes"));
        }
        let mime_type = self.mime_type.trim().to_ascii_lowercase();
        if !IMAGE_TYPES.contains(&mime_type.as_str()) {
            return Err(format!(
                "image.mime_type must be one of {IMAGE_TYPES:?}, as on WhatsApp"
            ));
        }
        if detect(&bytes).map(|kind| kind.mime()) != Some(mime_type.as_str()) {
            return Err(format!("image.data is not a {mime_type} file"));
        }
        let caption = self.caption.filter(|c| !c.is_empty());
        if caption
            .as_deref()
            .is_some_and(|c| c.chars().count() > MAX_CAPTION)
        {
            return Err(format!(
                "image.caption must have at most {MAX_CAPTION} characters"
            ));
        }
        Ok(Image {
            bytes,
            mime_type,
            caption,
        })
    }
}

/// Media kept for the bot to retrieve.
#[derive(Debug)]
struct Media {
    bytes: Arc<Vec<u8>>,
    mime_type: String,
    /// Base64 SHA-256 of the bytes.
    sha256: String,
}

/// Every medium people sent, by media id.
#[derive(Debug, Default)]
pub(super) struct MediaStore {
    by_id: HashMap<String, Media>,
    stored_bytes: usize,
}

impl WhatsAppSandbox {
    /// Keeps an image and answers the `image` object of its message webhook.
    pub(super) fn keep_image(&self, data: &mut super::Data, image: Image) -> Result<Value, String> {
        if data.media.stored_bytes + image.bytes.len() > MAX_STORED {
            return Err(format!(
                "the sandbox keeps at most {} MB of media; POST /sandbox/whatsapp/reset forgets them",
                MAX_STORED >> 20
            ));
        }
        // Sixteen digits like Meta's; the counter keeps growing across resets.
        data.last_id += 1;
        let id = format!("{:04}{:012}", 1000 + self.nonce % 9000, data.last_id);
        let sha256 = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&image.bytes));
        let mut object = json!({"mime_type": image.mime_type, "sha256": sha256, "id": id});
        if let Some(caption) = image.caption {
            object["caption"] = json!(caption);
        }
        data.media.stored_bytes += image.bytes.len();
        data.media.by_id.insert(
            id,
            Media {
                bytes: Arc::new(image.bytes),
                mime_type: image.mime_type,
                sha256,
            },
        );
        Ok(object)
    }

    /// The routes of media retrieval and download, for the Cloud API's router.
    pub(super) fn media_routes() -> Router<WhatsAppSandbox> {
        Router::new()
            .route("/{version}/{object_id}", get(retrieve))
            .route("/whatsapp_business/attachments/", get(download))
    }

    /// The `hash` of a media URL: it binds the media id to the URL's expiry.
    fn url_hash(&self, media_id: &str, expires: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.nonce.to_be_bytes())
            .expect("HMAC takes any key");
        mac.update(format!("{media_id}:{expires}").as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&mac.finalize().into_bytes()[..16])
    }

    fn retrieve_media(
        &self,
        version: &str,
        media_id: &str,
        query: Option<&str>,
        headers: &HeaderMap,
    ) -> Result<Value, GraphError> {
        self.check_version(version)?;
        if access_token(headers, query).as_deref() != Some(self.settings.access_token.as_str()) {
            return Err(GraphError::invalid_token());
        }
        let phone_number_id = query_value(query, "phone_number_id");
        if phone_number_id.is_some_and(|id| id != self.settings.phone_number_id) {
            return Err(GraphError::unknown_object("get", media_id));
        }
        let data = self.lock();
        let Some(media) = data.media.by_id.get(media_id) else {
            return Err(GraphError::unknown_object("get", media_id));
        };
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("127.0.0.1:8092");
        let expires = (now_s() + URL_LIFETIME_S).to_string();
        let hash = self.url_hash(media_id, &expires);
        Ok(json!({
            "messaging_product": "whatsapp",
            "url": format!(
                "http://{host}/whatsapp_business/attachments/?mid={media_id}&ext={expires}&hash={hash}"
            ),
            "mime_type": media.mime_type,
            "sha256": media.sha256,
            "file_size": media.bytes.len().to_string(),
            "id": media_id,
        }))
    }

    fn media_bytes(
        &self,
        query: Option<&str>,
        headers: &HeaderMap,
    ) -> Result<(Arc<Vec<u8>>, String), GraphError> {
        if access_token(headers, None).as_deref() != Some(self.settings.access_token.as_str()) {
            return Err(GraphError::invalid_token());
        }
        let not_found = || {
            GraphError::new(
                StatusCode::NOT_FOUND,
                100,
                "(#100) The media URL is not valid or has expired: retrieve the media again",
            )
        };
        let (Some(id), Some(expires), Some(hash)) = (
            query_value(query, "mid"),
            query_value(query, "ext"),
            query_value(query, "hash"),
        ) else {
            return Err(not_found());
        };
        let live = expires.parse::<i64>().is_ok_and(|at| at >= now_s());
        if !live || hash != self.url_hash(&id, &expires) {
            return Err(not_found());
        }
        let data = self.lock();
        let media = data.media.by_id.get(&id).ok_or_else(not_found)?;
        Ok((media.bytes.clone(), media.mime_type.clone()))
    }
}

/// `GET /{version}/{media-id}`: the media's URL and what it is.
async fn retrieve(
    State(sandbox): State<WhatsAppSandbox>,
    Path((version, media_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let response = match sandbox.retrieve_media(&version, &media_id, query.as_deref(), &headers) {
        Ok(answer) => axum::Json(answer).into_response(),
        Err(error) => error.into_response(),
    };
    sandbox.with_graph_headers(response)
}

/// `GET <url>` of a retrieved medium, with the bearer token: the bytes. Meta's media server
/// reads the token from the header only.
async fn download(
    State(sandbox): State<WhatsAppSandbox>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    match sandbox.media_bytes(query.as_deref(), &headers) {
        Ok((bytes, mime_type)) => {
            let mut response = bytes.as_ref().clone().into_response();
            if let Ok(value) = HeaderValue::from_str(&mime_type) {
                response.headers_mut().insert(header::CONTENT_TYPE, value);
            }
            response
        }
        Err(error) => error.into_response(),
    }
}

/// The value of `name` in a query string, percent-decoded.
fn query_value(query: Option<&str>, name: &str) -> Option<String> {
    query?.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == name).then(|| percent_decode(value))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(bytes: &[u8], mime_type: &str) -> ImageInput {
        ImageInput {
            data: base64::engine::general_purpose::STANDARD.encode(bytes),
            mime_type: mime_type.to_owned(),
            caption: Some("Jadwal posyandu".to_owned()),
        }
    }

    #[test]
    fn images_are_checked_as_whatsapp_makes_them() {
        let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3];
        let image = input(&jpeg, "IMAGE/JPEG").checked().unwrap();
        assert_eq!(image.mime_type, "image/jpeg");
        let refused = |i: ImageInput| i.checked().unwrap_err();
        assert!(refused(input(&jpeg, "image/png")).contains("not a image/png"));
        assert!(refused(input(&jpeg, "image/gif")).contains("must be one of"));
        assert!(refused(input(b"", "image/jpeg")).contains("1 to"));
        let long = ImageInput {
            caption: Some("a".repeat(MAX_CAPTION + 1)),
            ..input(&jpeg, "image/jpeg")
        };
        assert!(refused(long).contains("caption"));
    }

    #[test]
    fn query_values_are_decoded() {
        let query = Some("mid=12&ext=99&hash=a%2Bb");
        assert_eq!(query_value(query, "hash").as_deref(), Some("a+b"));
        assert_eq!(query_value(query, "mid").as_deref(), Some("12"));
        assert_eq!(query_value(query, "nope"), None);
        assert_eq!(query_value(None, "mid"), None);
    }
}
