/*!
X's media upload for images (reference/apis.md 1.3a; data/x-api/openapi.json v2.167, tag Media):
the one-request upload (`POST /2/media/upload`, JSON with base64 `media` or multipart with the
raw bytes), the chunked sequence (`initialize`, `{id}/append`, `{id}/finalize`), the status
(`GET /2/media/upload?command=STATUS`) and the alternative text (`POST /2/media/metadata`); the
store of media a post may attach (uploads and the four sample photos), and how `includes.media`
describes them.

X's limits for images: JPEG, PNG, WEBP and GIF, recognised from the bytes (the declared
`media_type` must match them), images at most 5 MB and GIFs 15 MB (docs.x.com, "Media types &
size restrictions"), `segment_index` 0 to 999, finalize only when the segments add up to
`total_bytes`, alternative text at most 1,000 characters; an upload expires 24 hours after it
was created. Only user context may upload (the account, or a citizen); the uploader and the
`additional_owners` own the media, and only they may attach it. A post takes up to 4 photos or
1 animated GIF (docs.x.com, media best practices).

Choices where X's documents are silent:
- The category decides the kind: `tweet_gif`/`dm_gif` take GIFs only and make an
  `animated_gif` (key `16_<id>`, 15 MB); `tweet_image`/`dm_image` take any of the four types and
  make a `photo` (key `3_<id>`, 5 MB), a GIF included, as X treats a GIF sent as an image. Video
  and subtitle categories, and other types, get X's 400 invalid-request naming the reason: the
  sandbox takes images only (SANDBOX.md).
- `initialize` needs `media_type` and `total_bytes`; without `media_category` it takes
  `tweet_gif` for `image/gif` and `tweet_image` otherwise.
- An unknown or expired media id, and one the caller does not own, get the 400 X answered for an
  unknown media id (`BadRequest: Not found`, seen in xdevplatform/xurl#18), naming the
  parameter; attaching such media to a post keeps X's 400 `Your media IDs are invalid.`.
- Segments must run from 0 without gaps, and may not exceed `total_bytes` as they come; a
  finalized upload answers its finalize again as it did the first time.
- `STATUS` of an upload not finalized yet answers `processing_info.state` `pending`.
- Photos carry `url` (`https://pbs.twimg.com/media/<media_key>.<jpg|png>`) by default, as today;
  an animated GIF has no `url` on X, only `preview_image_url` when asked.
*/

use std::collections::{BTreeMap, HashMap, HashSet};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use base64::Engine as _;
use serde_json::{Map, Value, json};

use super::x::{Caller, Problem, Reply, XSandbox, json_ok, uri_string, user_for};
use crate::sandbox::common::now_ms;

/// How long an upload may be used after it was created.
const UPLOAD_TTL_MS: u64 = 24 * 3600 * 1000;
/// X's limit for an image.
const IMAGE_LIMIT: u64 = 5_242_880;
/// X's limit for an animated GIF.
const GIF_LIMIT: u64 = 15_728_640;
/// The highest `segment_index` X accepts.
const MAX_SEGMENT_INDEX: i64 = 999;
/// Longest alternative text, in characters.
const MAX_ALT_TEXT: usize = 1000;
/// Most additional owners of one upload.
const MAX_ADDITIONAL_OWNERS: usize = 100;
/// The request body limit of the media routes: a 15 MB GIF in base64 (20 MB) and its envelope.
const BODY_LIMIT: usize = 24 * 1024 * 1024;
/// The sample photos citizens may attach: numeric media ids, as X's are; their media keys are
/// `3_<id>` (a photo's type prefix, as on X). `GET /sandbox/x/photos` lists them.
pub(super) const SAMPLE_PHOTOS: [&str; 4] = [
    "1864700000000000001",
    "1864700000000000002",
    "1864700000000000003",
    "1864700000000000004",
];
/// The sample photos' size: 1280 by 960 JPEGs.
const SAMPLE_SIZE: (u32, u32, u64) = (1280, 960, 245_760);

/// The media routes and `GET /sandbox/x/photos`, with a body limit that fits X's largest upload.
pub(super) fn routes() -> Router<XSandbox> {
    Router::new()
        .route("/2/media/upload", get(status).post(upload))
        .route("/2/media/upload/initialize", post(initialize))
        .route("/2/media/upload/{id}/append", post(append))
        .route("/2/media/upload/{id}/finalize", post(finalize))
        .route("/2/media/metadata", post(metadata))
        .route("/sandbox/x/photos", get(sample_photos))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

// --- Image types --------------------------------------------------------------------------------

/// The image types X takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ImageType {
    Jpeg,
    Png,
    Webp,
    Gif,
}

impl ImageType {
    pub(super) fn mime(self) -> &'static str {
        match self {
            ImageType::Jpeg => "image/jpeg",
            ImageType::Png => "image/png",
            ImageType::Webp => "image/webp",
            ImageType::Gif => "image/gif",
        }
    }

    /// A declared `media_type`; `image/pjpeg` is a JPEG.
    fn from_mime(mime: &str) -> Option<ImageType> {
        match mime {
            "image/jpeg" | "image/pjpeg" => Some(ImageType::Jpeg),
            "image/png" => Some(ImageType::Png),
            "image/webp" => Some(ImageType::Webp),
            "image/gif" => Some(ImageType::Gif),
            _ => None,
        }
    }
}

/// The image type the bytes start with, by their signature.
pub(super) fn detect(bytes: &[u8]) -> Option<ImageType> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(ImageType::Jpeg)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(ImageType::Png)
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some(ImageType::Gif)
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(ImageType::Webp)
    } else {
        None
    }
}

/// Width and height from the image's header, or None when it is truncated or corrupt.
pub(super) fn dimensions(kind: ImageType, bytes: &[u8]) -> Option<(u32, u32)> {
    let be16 = |at: usize| {
        Some(u32::from(u16::from_be_bytes([
            *bytes.get(at)?,
            *bytes.get(at + 1)?,
        ])))
    };
    let le16 = |at: usize| {
        Some(u32::from(u16::from_le_bytes([
            *bytes.get(at)?,
            *bytes.get(at + 1)?,
        ])))
    };
    let be32 = |at: usize| Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?));
    let le24 = |at: usize| {
        let b = bytes.get(at..at + 3)?;
        Some(u32::from(b[0]) | u32::from(b[1]) << 8 | u32::from(b[2]) << 16)
    };
    let size = match kind {
        // The IHDR chunk comes first: width and height as big-endian 32-bit numbers.
        ImageType::Png => {
            if bytes.get(12..16)? != b"IHDR" {
                return None;
            }
            (be32(16)?, be32(20)?)
        }
        // The logical screen descriptor: little-endian 16-bit width and height.
        ImageType::Gif => (le16(6)?, le16(8)?),
        ImageType::Webp => match bytes.get(12..16)? {
            // Lossy: a key frame's start code, then 14-bit width and height.
            b"VP8 " => {
                if bytes.get(23..26)? != [0x9D, 0x01, 0x2A] {
                    return None;
                }
                (le16(26)? & 0x3FFF, le16(28)? & 0x3FFF)
            }
            // Lossless: a signature byte, then width-1 and height-1 in 14 bits each.
            b"VP8L" => {
                if *bytes.get(20)? != 0x2F {
                    return None;
                }
                let bits = u32::from_le_bytes(bytes.get(21..25)?.try_into().ok()?);
                ((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
            }
            // Extended: the canvas, width-1 and height-1 in 24 bits each.
            b"VP8X" => (le24(24)? + 1, le24(27)? + 1),
            _ => return None,
        },
        // Walk the markers to the first start-of-frame, which carries height then width.
        ImageType::Jpeg => {
            let mut at = 2;
            loop {
                if *bytes.get(at)? != 0xFF {
                    return None;
                }
                let marker = *bytes.get(at + 1)?;
                match marker {
                    // Fill bytes before a marker.
                    0xFF => at += 1,
                    // Markers without a length.
                    0x01 | 0xD0..=0xD8 => at += 2,
                    // Start of scan before any frame header: nothing to read.
                    0xDA | 0xD9 => return None,
                    0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                        break (be16(at + 7)?, be16(at + 5)?);
                    }
                    _ => at += 2 + usize::try_from(be16(at + 2)?).ok()?,
                }
            }
        }
    };
    (size.0 > 0 && size.1 > 0).then_some(size)
}

// --- The store ----------------------------------------------------------------------------------

/// What a post shows a media as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Photo,
    AnimatedGif,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Photo => "photo",
            Kind::AnimatedGif => "animated_gif",
        }
    }

    /// The media key's prefix, as on X.
    fn key_prefix(self) -> &'static str {
        match self {
            Kind::Photo => "3",
            Kind::AnimatedGif => "16",
        }
    }
}

/// An upload's `media_category`, among those the sandbox takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Category {
    Image,
    Gif,
}

/// Every `media_category` the spec lists.
const CATEGORIES: &[&str] = &[
    "amplify_video",
    "tweet_gif",
    "tweet_image",
    "tweet_video",
    "dm_gif",
    "dm_image",
    "dm_video",
    "subtitles",
];

impl Category {
    fn parse(raw: &str) -> Result<Category, Problem> {
        match raw {
            "tweet_image" | "dm_image" => Ok(Category::Image),
            "tweet_gif" | "dm_gif" => Ok(Category::Gif),
            known if CATEGORIES.contains(&known) => Err(Problem::invalid(
                "media_category",
                raw,
                &format!(
                    "The sandbox takes images only (tweet_image, tweet_gif, dm_image, dm_gif): media_category [{raw}] is not supported"
                ),
            )),
            _ => Err(Problem::invalid(
                "media_category",
                raw,
                &format!(
                    "The `media_category` value [{raw}] is not one of [{}]",
                    CATEGORIES.join(",")
                ),
            )),
        }
    }

    fn kind(self) -> Kind {
        match self {
            Category::Image => Kind::Photo,
            Category::Gif => Kind::AnimatedGif,
        }
    }

    fn limit(self) -> u64 {
        match self {
            Category::Image => IMAGE_LIMIT,
            Category::Gif => GIF_LIMIT,
        }
    }

    fn takes(self, kind: ImageType) -> bool {
        self == Category::Image || kind == ImageType::Gif
    }
}

/// A finalized image.
#[derive(Debug, Clone, Copy)]
struct Image {
    kind: ImageType,
    width: u32,
    height: u32,
    size: u64,
}

/// An upload, or a sample photo.
#[derive(Debug)]
struct Media {
    id: u64,
    category: Category,
    /// User ids that may use it; sample photos have none, and anyone may attach them.
    owners: Vec<String>,
    sample: bool,
    created_ms: u64,
    /// What `initialize` declared, for a chunked upload.
    declared: Option<ImageType>,
    total_bytes: u64,
    segments: BTreeMap<i64, Vec<u8>>,
    /// Set once the upload is complete.
    image: Option<Image>,
    alt_text: Option<String>,
}

impl Media {
    fn key(&self) -> String {
        format!("{}_{}", self.category.kind().key_prefix(), self.id)
    }

    fn expires_ms(&self) -> u64 {
        self.created_ms + UPLOAD_TTL_MS
    }

    fn live(&self, now: u64) -> bool {
        self.sample || now < self.expires_ms()
    }

    fn expires_after_secs(&self, now: u64) -> u64 {
        self.expires_ms().saturating_sub(now) / 1000
    }

    /// `initialize`'s answer.
    fn session_json(&self, now: u64) -> Value {
        json!({
            "id": self.id.to_string(),
            "media_key": self.key(),
            "expires_after_secs": self.expires_after_secs(now),
        })
    }

    /// The one-request upload's and `finalize`'s answer.
    fn upload_json(&self, now: u64) -> Value {
        let mut v = self.session_json(now);
        if let Some(image) = self.image {
            v["size"] = json!(image.size);
            v["image"] =
                json!({"image_type": image.kind.mime(), "w": image.width, "h": image.height});
        }
        v
    }
}

/// The media of one sandbox: uploads, and the sample photos.
#[derive(Debug)]
pub(super) struct MediaStore {
    items: HashMap<u64, Media>,
}

impl Default for MediaStore {
    /// A store with the sample photos.
    fn default() -> Self {
        let items = SAMPLE_PHOTOS
            .iter()
            .map(|id| {
                let id: u64 = id.parse().expect("sample ids are numbers");
                let (width, height, size) = SAMPLE_SIZE;
                let media = Media {
                    id,
                    category: Category::Image,
                    owners: Vec::new(),
                    sample: true,
                    created_ms: 0,
                    declared: None,
                    total_bytes: size,
                    segments: BTreeMap::new(),
                    image: Some(Image {
                        kind: ImageType::Jpeg,
                        width,
                        height,
                        size,
                    }),
                    alt_text: None,
                };
                (id, media)
            })
            .collect();
        MediaStore { items }
    }
}

impl MediaStore {
    /// The media keys of `ids` for a post by `user`, or None when X would refuse them: each
    /// must be a sample photo or a finalized, unexpired upload `user` owns; at most 4 photos,
    /// or 1 animated GIF alone.
    pub(super) fn attach(&self, ids: &[String], user: &str, now: u64) -> Option<Vec<String>> {
        if ids.is_empty() || ids.len() > 4 {
            return None;
        }
        let media: Vec<&Media> = ids
            .iter()
            .map(|id| {
                let media = self.items.get(&id.parse().ok()?)?;
                let usable = media.image.is_some()
                    && media.live(now)
                    && (media.sample || media.owners.iter().any(|o| o == user));
                usable.then_some(media)
            })
            .collect::<Option<_>>()?;
        let gifs = media
            .iter()
            .filter(|m| m.category.kind() == Kind::AnimatedGif)
            .count();
        if gifs > 0 && media.len() > 1 {
            return None;
        }
        Some(media.iter().map(|m| m.key()).collect())
    }

    /// A media as `includes.media` shows it: `media_key`, `type` and, for photos, `url` always
    /// (the sandbox's default), and `width`, `height`, `alt_text` and `preview_image_url` when
    /// `fields` asks for them.
    pub(super) fn describe(&self, key: &str, fields: &HashSet<String>) -> Value {
        let media = key
            .split_once('_')
            .and_then(|(_, id)| id.parse::<u64>().ok())
            .and_then(|id| self.items.get(&id));
        let kind = media.map_or(Kind::Photo, |m| m.category.kind());
        let mut v = json!({"media_key": key, "type": kind.name()});
        if kind == Kind::Photo {
            let extension = match media.and_then(|m| m.image).map(|i| i.kind) {
                Some(ImageType::Png) => "png",
                _ => "jpg",
            };
            v["url"] = json!(format!("https://pbs.twimg.com/media/{key}.{extension}"));
        }
        let Some(media) = media else {
            return v;
        };
        let want = |f: &str| fields.contains(f);
        if let Some(image) = media.image {
            if want("width") {
                v["width"] = json!(image.width);
            }
            if want("height") {
                v["height"] = json!(image.height);
            }
        }
        if want("alt_text")
            && let Some(text) = &media.alt_text
        {
            v["alt_text"] = json!(text);
        }
        if want("preview_image_url") && kind == Kind::AnimatedGif {
            v["preview_image_url"] = json!(format!(
                "https://pbs.twimg.com/tweet_video_thumb/{}.jpg",
                media.id
            ));
        }
        v
    }

    /// The live upload `raw_id` that `user` owns, or X's 400 naming `parameter`.
    fn owned_mut(
        &mut self,
        parameter: &str,
        raw_id: &str,
        user: &str,
        now: u64,
    ) -> Result<&mut Media, Problem> {
        raw_id
            .parse::<u64>()
            .ok()
            .and_then(|id| self.items.get_mut(&id))
            .filter(|m| !m.sample && m.live(now) && m.owners.iter().any(|o| o == user))
            .ok_or_else(|| Problem::invalid(parameter, raw_id, "BadRequest: Not found"))
    }
}

// --- Request bodies -----------------------------------------------------------------------------

/// A media request's fields: from JSON (with `media` in base64) or from multipart/form-data
/// (with `media` as the raw bytes and the other fields as text).
#[derive(Debug, Default)]
struct Fields {
    media: Option<Vec<u8>>,
    other: BTreeMap<String, Value>,
}

impl Fields {
    /// Reads the body, refusing keys outside `allowed` (the spec's `additionalProperties:
    /// false`) and, unless `multipart` is allowed, any content type but JSON.
    async fn read(request: Request, allowed: &[&str], multipart: bool) -> Result<Fields, Problem> {
        let content_type = request
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let mut fields = Fields::default();
        if content_type.starts_with("application/json") {
            let body = Bytes::from_request(request, &())
                .await
                .map_err(|e| body_problem(e.status(), &e.body_text()))?;
            let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(&body) else {
                return Err(invalid_body("Request body is not valid JSON."));
            };
            for (key, value) in map {
                if key == "media" {
                    let Some(text) = value.as_str() else {
                        return Err(Problem::invalid(
                            "media",
                            "",
                            "The `media` value must be a base64 string",
                        ));
                    };
                    fields.media = Some(decode_base64(text)?);
                } else {
                    fields.other.insert(key, value);
                }
            }
        } else if multipart && content_type.starts_with("multipart/form-data") {
            let mut form = Multipart::from_request(request, &())
                .await
                .map_err(|e| body_problem(e.status(), &e.body_text()))?;
            while let Some(field) = form
                .next_field()
                .await
                .map_err(|e| body_problem(e.status(), &e.body_text()))?
            {
                let name = field.name().unwrap_or_default().to_owned();
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|e| body_problem(e.status(), &e.body_text()))?;
                if name == "media" {
                    fields.media = Some(bytes.to_vec());
                } else {
                    let text = String::from_utf8_lossy(&bytes).into_owned();
                    fields.other.insert(name, Value::String(text));
                }
            }
        } else {
            let accepted = if multipart {
                "application/json or multipart/form-data"
            } else {
                "application/json"
            };
            return Err(invalid_body(&format!(
                "Requests with bodies must have content-type of {accepted}."
            )));
        }
        let present = fields
            .media
            .as_ref()
            .map(|_| "media")
            .into_iter()
            .chain(fields.other.keys().map(String::as_str));
        for key in present {
            if !allowed.contains(&key) {
                return Err(Problem::invalid(
                    key,
                    "",
                    &format!(
                        "The `{key}` parameter is not one of [{}]",
                        allowed.join(",")
                    ),
                ));
            }
        }
        Ok(fields)
    }

    fn media(&mut self) -> Result<Vec<u8>, Problem> {
        match self.media.take() {
            Some(bytes) if !bytes.is_empty() => Ok(bytes),
            _ => Err(missing("media")),
        }
    }

    fn text(&self, key: &str) -> Result<Option<String>, Problem> {
        match self.other.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.trim().to_owned())),
            Some(other) => Err(Problem::invalid(
                key,
                &other.to_string(),
                &format!("The `{key}` value must be a string"),
            )),
        }
    }

    /// A whole number, as JSON writes it or as a form's text.
    fn integer(&self, key: &str) -> Result<Option<i64>, Problem> {
        let value = match self.other.get(key) {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::Number(n)) => n.as_i64(),
            Some(Value::String(text)) => text.trim().parse().ok(),
            Some(_) => None,
        };
        value.map(Some).ok_or_else(|| {
            let raw = self.other[key].to_string();
            Problem::invalid(
                key,
                &raw,
                &format!("The `{key}` value [{raw}] is not a whole number"),
            )
        })
    }

    /// `additional_owners`: user ids as an array (initialize) or comma-separated (upload).
    fn owners(&self) -> Result<Vec<String>, Problem> {
        let ids: Vec<String> = match self.other.get("additional_owners") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(text)) => text
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|| v.to_string())
                })
                .collect(),
            Some(other) => vec![other.to_string()],
        };
        if ids.len() > MAX_ADDITIONAL_OWNERS {
            return Err(Problem::invalid(
                "additional_owners",
                &ids.len().to_string(),
                &format!("At most {MAX_ADDITIONAL_OWNERS} additional owners may be given"),
            ));
        }
        for id in &ids {
            let numeric =
                !id.is_empty() && id.len() <= 19 && id.bytes().all(|b| b.is_ascii_digit());
            if !numeric {
                return Err(Problem::invalid(
                    "additional_owners",
                    id,
                    &format!("The `additional_owners` value [{id}] is not a user id"),
                ));
            }
        }
        Ok(ids)
    }
}

/// Base64 as clients send it: the standard alphabet, padded or not, possibly wrapped in lines.
fn decode_base64(text: &str) -> Result<Vec<u8>, Problem> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    LENIENT.decode(compact).map_err(|_| {
        Problem::invalid(
            "media",
            "",
            "The `media` value is not valid base64-encoded data",
        )
    })
}

fn invalid_body(message: &str) -> Problem {
    Problem {
        status: StatusCode::BAD_REQUEST,
        body: json!({"errors": [{"message": message}], "title": "Invalid Request",
                     "detail": "One or more parameters to your request was invalid.",
                     "type": "https://api.x.com/2/problems/invalid-request"}),
    }
}

/// A body that could not be read: too large (413), or malformed (400).
fn body_problem(status: StatusCode, text: &str) -> Problem {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return Problem::new(status, "Payload Too Large", text);
    }
    invalid_body(text)
}

fn missing(parameter: &str) -> Problem {
    Problem::invalid(
        parameter,
        "",
        &format!("The `{parameter}` parameter is missing"),
    )
}

/// A declared `media_type`, among the image types X takes.
fn declared_type(raw: &str) -> Result<ImageType, Problem> {
    ImageType::from_mime(raw).ok_or_else(|| {
        Problem::invalid(
            "media_type",
            raw,
            &format!(
                "The sandbox takes images only (image/jpeg, image/png, image/webp, image/gif): media_type [{raw}] is not supported"
            ),
        )
    })
}

/// Checks finished bytes against X's rules for `category`: a known image type, the declared
/// type if any, the category's type and size limit, a readable header.
fn check_image(
    category: Category,
    declared: Option<ImageType>,
    bytes: &[u8],
) -> Result<Image, Problem> {
    let Some(kind) = detect(bytes) else {
        return Err(Problem::invalid(
            "media",
            "",
            "media type unrecognized: the sandbox takes JPEG, PNG, WEBP and GIF images",
        ));
    };
    if let Some(declared) = declared
        && declared != kind
    {
        return Err(Problem::invalid(
            "media_type",
            declared.mime(),
            &format!(
                "The media_type [{}] does not match the media, which is {}",
                declared.mime(),
                kind.mime()
            ),
        ));
    }
    if !category.takes(kind) {
        return Err(Problem::invalid(
            "media",
            kind.mime(),
            &format!(
                "A GIF category (tweet_gif, dm_gif) takes GIF images only; the media is {}",
                kind.mime()
            ),
        ));
    }
    let size = bytes.len() as u64;
    check_size(category, size)?;
    let Some((width, height)) = dimensions(kind, bytes) else {
        return Err(Problem::invalid(
            "media",
            "",
            &format!("The {} image is corrupt or truncated", kind.mime()),
        ));
    };
    Ok(Image {
        kind,
        width,
        height,
        size,
    })
}

fn check_size(category: Category, size: u64) -> Result<(), Problem> {
    let limit = category.limit();
    if size > limit {
        return Err(Problem::invalid(
            "media",
            &size.to_string(),
            &format!("File size exceeds {limit} bytes."),
        ));
    }
    Ok(())
}

// --- Handlers -----------------------------------------------------------------------------------

/// The uploader's user id: the account or a citizen; app-only callers get X's 403.
fn uploader(sandbox: &XSandbox, request: &Request) -> Result<String, Problem> {
    let uri = uri_string(request.uri());
    match sandbox.caller(request.method(), &uri, request.headers())? {
        Caller::Account => Ok(sandbox.account_id()),
        Caller::Citizen(name) => Ok(user_for(&name).id),
        Caller::App => Err(Problem::app_only()),
    }
}

/// The `{id}` segment of `/2/media/upload/{id}/append` and `/finalize`.
fn path_id(request: &Request) -> String {
    request
        .uri()
        .path()
        .split('/')
        .nth(4)
        .unwrap_or_default()
        .to_owned()
}

/// `POST /2/media/upload`: the whole image in one request.
async fn upload(State(sandbox): State<XSandbox>, request: Request) -> Reply {
    let owner = uploader(&sandbox, &request)?;
    let allowed = [
        "media",
        "media_category",
        "media_type",
        "additional_owners",
        "shared",
    ];
    let mut fields = Fields::read(request, &allowed, true).await?;
    let category = Category::parse(
        &fields
            .text("media_category")?
            .ok_or_else(|| missing("media_category"))?,
    )?;
    let declared = fields
        .text("media_type")?
        .map(|raw| declared_type(&raw))
        .transpose()?;
    let mut owners = vec![owner];
    owners.extend(fields.owners()?);
    let image = check_image(category, declared, &fields.media()?)?;
    let now = now_ms();
    let mut data = sandbox.data.lock().expect("sandbox lock");
    let id = sandbox.next_id(&mut data);
    let media = Media {
        id,
        category,
        owners,
        sample: false,
        created_ms: now,
        declared,
        total_bytes: image.size,
        segments: BTreeMap::new(),
        image: Some(image),
        alt_text: None,
    };
    let body = json!({"data": media.upload_json(now)});
    data.media.items.insert(id, media);
    Ok(json_ok(body))
}

/// `POST /2/media/upload/initialize`: a chunked upload begins.
async fn initialize(State(sandbox): State<XSandbox>, request: Request) -> Reply {
    let owner = uploader(&sandbox, &request)?;
    let allowed = [
        "media_type",
        "total_bytes",
        "media_category",
        "additional_owners",
        "shared",
    ];
    let fields = Fields::read(request, &allowed, false).await?;
    let declared = declared_type(
        &fields
            .text("media_type")?
            .ok_or_else(|| missing("media_type"))?,
    )?;
    let category = match fields.text("media_category")? {
        Some(raw) => Category::parse(&raw)?,
        None if declared == ImageType::Gif => Category::Gif,
        None => Category::Image,
    };
    if !category.takes(declared) {
        return Err(Problem::invalid(
            "media_type",
            declared.mime(),
            "A GIF category takes image/gif only",
        ));
    }
    let total_bytes = match fields.integer("total_bytes")? {
        None => return Err(missing("total_bytes")),
        Some(n) if n < 1 => {
            return Err(Problem::invalid(
                "total_bytes",
                &n.to_string(),
                "The `total_bytes` value must be at least 1",
            ));
        }
        Some(n) => n as u64,
    };
    check_size(category, total_bytes)?;
    let mut owners = vec![owner];
    owners.extend(fields.owners()?);
    let now = now_ms();
    let mut data = sandbox.data.lock().expect("sandbox lock");
    let id = sandbox.next_id(&mut data);
    let media = Media {
        id,
        category,
        owners,
        sample: false,
        created_ms: now,
        declared: Some(declared),
        total_bytes,
        segments: BTreeMap::new(),
        image: None,
        alt_text: None,
    };
    let body = json!({"data": media.session_json(now)});
    data.media.items.insert(id, media);
    Ok(json_ok(body))
}

/// `POST /2/media/upload/{id}/append`: one segment of a chunked upload.
async fn append(State(sandbox): State<XSandbox>, request: Request) -> Reply {
    let owner = uploader(&sandbox, &request)?;
    let id = path_id(&request);
    let mut fields = Fields::read(request, &["media", "segment_index"], true).await?;
    let index = fields
        .integer("segment_index")?
        .ok_or_else(|| missing("segment_index"))?;
    if !(0..=MAX_SEGMENT_INDEX).contains(&index) {
        return Err(Problem::invalid(
            "segment_index",
            &index.to_string(),
            &format!(
                "The `segment_index` value [{index}] is not between 0 and {MAX_SEGMENT_INDEX}"
            ),
        ));
    }
    let bytes = fields.media()?;
    let now = now_ms();
    let mut data = sandbox.data.lock().expect("sandbox lock");
    let media = data.media.owned_mut("id", &id, &owner, now)?;
    if media.image.is_some() {
        return Err(Problem::invalid(
            "id",
            &id,
            "The upload is already finalized",
        ));
    }
    let others: u64 = media
        .segments
        .iter()
        .filter(|(i, _)| **i != index)
        .map(|(_, s)| s.len() as u64)
        .sum();
    if others + bytes.len() as u64 > media.total_bytes {
        return Err(Problem::invalid(
            "media",
            &index.to_string(),
            &format!(
                "The segments exceed the declared total_bytes ({})",
                media.total_bytes
            ),
        ));
    }
    media.segments.insert(index, bytes);
    Ok(json_ok(
        json!({"data": {"expires_at": media.expires_ms() / 1000}}),
    ))
}

/// `POST /2/media/upload/{id}/finalize`: the segments become the image.
async fn finalize(State(sandbox): State<XSandbox>, request: Request) -> Reply {
    let owner = uploader(&sandbox, &request)?;
    let id = path_id(&request);
    let now = now_ms();
    let mut data = sandbox.data.lock().expect("sandbox lock");
    let media = data.media.owned_mut("id", &id, &owner, now)?;
    if media.image.is_none() {
        let contiguous = media
            .segments
            .keys()
            .enumerate()
            .all(|(n, index)| *index == n as i64);
        if media.segments.is_empty() || !contiguous {
            return Err(Problem::invalid(
                "id",
                &id,
                "The segments must run from segment_index 0 without gaps",
            ));
        }
        let bytes: Vec<u8> = media.segments.values().flatten().copied().collect();
        if bytes.len() as u64 != media.total_bytes {
            return Err(Problem::invalid(
                "total_bytes",
                &media.total_bytes.to_string(),
                &format!(
                    "The segments add up to {} bytes, not the declared total_bytes {}",
                    bytes.len(),
                    media.total_bytes
                ),
            ));
        }
        let image = check_image(media.category, media.declared, &bytes)?;
        media.image = Some(image);
        media.segments.clear();
    }
    Ok(json_ok(json!({"data": media.upload_json(now)})))
}

/// `GET /2/media/upload?media_id=...&command=STATUS`: the upload with its processing state.
async fn status(State(sandbox): State<XSandbox>, request: Request) -> Reply {
    let owner = uploader(&sandbox, &request)?;
    let query: HashMap<String, String> = request
        .uri()
        .query()
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (
                crate::sandbox::common::percent_decode(k),
                crate::sandbox::common::percent_decode(v),
            )
        })
        .collect();
    if let Some(command) = query.get("command")
        && command != "STATUS"
    {
        return Err(Problem::invalid(
            "command",
            command,
            &format!("The `command` query parameter value [{command}] is not one of [STATUS]"),
        ));
    }
    let id = query.get("media_id").ok_or_else(|| missing("media_id"))?;
    let now = now_ms();
    let mut data = sandbox.data.lock().expect("sandbox lock");
    let media = data.media.owned_mut("media_id", id, &owner, now)?;
    let mut body = media.upload_json(now);
    body["processing_info"] = match media.image {
        Some(_) => json!({"state": "succeeded", "progress_percent": 100}),
        None => json!({"state": "pending", "progress_percent": 0}),
    };
    Ok(json_ok(json!({"data": body})))
}

/// `POST /2/media/metadata`: the alternative text (and any other metadata, echoed).
async fn metadata(State(sandbox): State<XSandbox>, request: Request) -> Reply {
    let owner = uploader(&sandbox, &request)?;
    let fields = Fields::read(request, &["id", "metadata"], false).await?;
    let id = fields.text("id")?.ok_or_else(|| missing("id"))?;
    let metadata = match fields.other.get("metadata") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(map)) => map.clone(),
        Some(other) => {
            return Err(Problem::invalid(
                "metadata",
                &other.to_string(),
                "The `metadata` value must be an object",
            ));
        }
    };
    let alt_text = match metadata.get("alt_text") {
        None => None,
        Some(alt) => {
            let Some(text) = alt.get("text").and_then(Value::as_str) else {
                return Err(missing("metadata.alt_text.text"));
            };
            let length = text.chars().count();
            if length > MAX_ALT_TEXT {
                return Err(Problem::invalid(
                    "metadata.alt_text.text",
                    &length.to_string(),
                    &format!(
                        "The alternative text has {length} characters; at most {MAX_ALT_TEXT} are allowed"
                    ),
                ));
            }
            Some(text.to_owned())
        }
    };
    let now = now_ms();
    let mut data = sandbox.data.lock().expect("sandbox lock");
    let media = data.media.owned_mut("id", &id, &owner, now)?;
    if alt_text.is_some() {
        media.alt_text = alt_text;
    }
    Ok(json_ok(
        json!({"data": {"id": id, "associated_metadata": metadata}}),
    ))
}

/// `GET /sandbox/x/photos`: the sample photos a citizen may attach (`media.media_ids`).
async fn sample_photos() -> Response {
    let (width, height, _) = SAMPLE_SIZE;
    json_ok(json!({"data": SAMPLE_PHOTOS.iter().map(|id| json!({
        "id": id,
        "media_key": format!("3_{id}"),
        "type": "photo",
        "url": format!("https://pbs.twimg.com/media/3_{id}.jpg"),
        "width": width,
        "height": height,
    })).collect::<Vec<_>>()}))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PNG header with the given size (the pixels do not matter to the sniffing).
    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut bytes = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR".to_vec();
        bytes.extend(width.to_be_bytes());
        bytes.extend(height.to_be_bytes());
        bytes.extend([8, 2, 0, 0, 0]);
        bytes
    }

    /// A baseline JPEG: SOI, an APP0 segment, then SOF0 with the size.
    fn jpeg(width: u16, height: u16) -> Vec<u8> {
        let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
        bytes.extend(b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00");
        bytes.extend([0xFF, 0xC0, 0x00, 0x11, 0x08]);
        bytes.extend(height.to_be_bytes());
        bytes.extend(width.to_be_bytes());
        bytes.extend([3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
        bytes
    }

    fn webp(chunk: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut bytes = b"RIFF\x00\x00\x00\x00WEBP".to_vec();
        bytes.extend(chunk);
        bytes.extend((payload.len() as u32).to_le_bytes());
        bytes.extend(payload);
        bytes
    }

    #[test]
    fn the_four_types_are_recognised_with_their_size() {
        let gif = b"GIF89a\x40\x01\xf0\x00\x00\x00\x00".to_vec();
        let lossy = webp(
            b"VP8 ",
            &[0, 0, 0, 0x9D, 0x01, 0x2A, 0x80, 0x02, 0xE0, 0x01],
        );
        // Lossless: width-1 = 399 and height-1 = 299 packed in 14 bits each.
        let bits: u32 = 399 | (299 << 14);
        let mut lossless_payload = vec![0x2F];
        lossless_payload.extend(bits.to_le_bytes());
        let lossless = webp(b"VP8L", &lossless_payload);
        let extended = webp(b"VP8X", &[0, 0, 0, 0, 0x7F, 0x07, 0, 0x37, 0x04, 0]);
        for (bytes, kind, size) in [
            (png(2, 3), ImageType::Png, (2, 3)),
            (jpeg(640, 480), ImageType::Jpeg, (640, 480)),
            (gif, ImageType::Gif, (320, 240)),
            (lossy, ImageType::Webp, (640, 480)),
            (lossless, ImageType::Webp, (400, 300)),
            (extended, ImageType::Webp, (1920, 1080)),
        ] {
            assert_eq!(detect(&bytes), Some(kind), "{kind:?}");
            assert_eq!(dimensions(kind, &bytes), Some(size), "{kind:?}");
        }
    }

    #[test]
    fn other_bytes_and_broken_headers_are_not_images() {
        assert_eq!(detect(b"BM\x00\x00"), None, "BMP");
        assert_eq!(detect(b"II*\x00"), None, "TIFF");
        assert_eq!(detect(b"\x00\x00\x00\x18ftypmp42"), None, "MP4");
        assert_eq!(detect(b""), None);
        // Recognised by the signature, but cut before the size.
        let cut = png(2, 3)[..18].to_vec();
        assert_eq!(detect(&cut), Some(ImageType::Png));
        assert_eq!(dimensions(ImageType::Png, &cut), None);
        let mut no_frame = jpeg(10, 10);
        no_frame.truncate(20);
        assert_eq!(dimensions(ImageType::Jpeg, &no_frame), None);
        assert_eq!(dimensions(ImageType::Png, &png(0, 3)), None, "zero width");
        // A JPEG whose scan starts before any frame header has no size to read.
        assert_eq!(
            dimensions(ImageType::Jpeg, &[0xFF, 0xD8, 0xFF, 0xDA, 0, 2]),
            None
        );
    }

    #[test]
    fn the_declared_type_and_the_category_must_agree_with_the_bytes() {
        let bytes = png(4, 4);
        assert!(check_image(Category::Image, Some(ImageType::Png), &bytes).is_ok());
        let wrong = check_image(Category::Image, Some(ImageType::Jpeg), &bytes).unwrap_err();
        assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
        assert!(check_image(Category::Gif, None, &bytes).is_err());
        let mut big = png(4, 4);
        big.resize(IMAGE_LIMIT as usize + 1, 0);
        let too_large = check_image(Category::Image, None, &big).unwrap_err();
        assert_eq!(
            too_large.body["errors"][0]["message"],
            "File size exceeds 5242880 bytes."
        );
    }

    #[test]
    fn uploads_expire_after_a_day_and_only_owners_attach_them() {
        let mut store = MediaStore::default();
        let sample = SAMPLE_PHOTOS[0].to_owned();
        assert_eq!(
            store.attach(std::slice::from_ref(&sample), "7", 0),
            Some(vec![format!("3_{sample}")])
        );
        store.items.insert(
            5,
            Media {
                id: 5,
                category: Category::Gif,
                owners: vec!["7".into()],
                sample: false,
                created_ms: 1_000,
                declared: Some(ImageType::Gif),
                total_bytes: 10,
                segments: BTreeMap::new(),
                image: Some(Image {
                    kind: ImageType::Gif,
                    width: 1,
                    height: 1,
                    size: 10,
                }),
                alt_text: None,
            },
        );
        let gif = vec!["5".to_owned()];
        assert_eq!(
            store.attach(&gif, "7", 2_000),
            Some(vec!["16_5".to_owned()])
        );
        assert_eq!(store.attach(&gif, "8", 2_000), None, "not the owner");
        assert_eq!(
            store.attach(&gif, "7", 1_000 + UPLOAD_TTL_MS),
            None,
            "expired"
        );
        assert_eq!(
            store.attach(&["5".to_owned(), sample.clone()], "7", 2_000),
            None,
            "a GIF goes alone"
        );
        assert_eq!(
            store.attach(&std::iter::repeat_n(sample, 5).collect::<Vec<_>>(), "7", 0),
            None,
            "at most four photos"
        );
    }
}
