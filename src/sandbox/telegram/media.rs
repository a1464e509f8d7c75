/*!
What a person sends besides text through `POST /sandbox/telegram/send`: a photo (the sizes their
client made, each with its bytes in base64), a document (bytes, file name, MIME type), or an album
(`media_group`: 2 to 10 photos, or 2 to 10 documents, as Telegram groups them). The bytes are
checked here, outside the sandbox's lock; media_messages stores them and builds the messages,
each its own update, as Telegram delivers an album.

Limits (Telegram's where it has one): a caption of at most 1,024 characters; a photo size of at
most 10 MB, a document of at most [`MAX_DOCUMENT`] (the sandbox's own: enough to pass the 20 MB
a bot may download, so that limit can be met), a request of at most [`MAX_SEND_BODY`].
*/

use base64::Engine as _;
use serde::Deserialize;
use serde_json::{Value, json};

use super::files::{Folder, photo_sizes};
use super::formatting::bot_commands;
use super::{Data, Message, Person, TelegramSandbox};
use crate::sandbox::common::now_ms;
use crate::sandbox::x_media::{ImageType, detect, dimensions};

/// Longest caption, in characters.
const MAX_CAPTION: usize = 1024;
/// Largest photo size Telegram takes.
const MAX_PHOTO: usize = 10 * 1024 * 1024;
/// Largest document the sandbox takes.
pub(super) const MAX_DOCUMENT: usize = 30 * 1024 * 1024;
/// Largest body of `POST /sandbox/telegram/send`, base64 included.
pub(super) const MAX_SEND_BODY: usize = 64 * 1024 * 1024;
/// Most photo sizes of one photo (Telegram makes up to five).
const MAX_SIZES: usize = 5;

/// One size of a photo: the bytes, and the dimensions, read from the image's header (JPEG, PNG,
/// GIF, WebP) when left out.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PhotoSizeInput {
    data: String,
    #[serde(default)]
    width: Option<u32>,
    #[serde(default)]
    height: Option<u32>,
}

/// A document: the bytes, and the name and MIME type the person's client gives it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DocumentInput {
    data: String,
    #[serde(default)]
    file_name: Option<String>,
    #[serde(default)]
    mime_type: Option<String>,
}

/// One item of an album: a photo or a document.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct GroupItemInput {
    #[serde(default)]
    photo: Option<Vec<PhotoSizeInput>>,
    #[serde(default)]
    document: Option<DocumentInput>,
}

/// A checked photo size.
#[derive(Debug)]
pub(super) struct Size {
    bytes: Vec<u8>,
    width: u32,
    height: u32,
    extension: &'static str,
}

/// A checked photo or document, ready to store.
#[derive(Debug)]
pub(super) enum Item {
    Photo(Vec<Size>),
    Document {
        bytes: Vec<u8>,
        file_name: Option<String>,
        mime_type: Option<String>,
        extension: String,
    },
}

impl Item {
    fn folder(&self) -> Folder {
        match self {
            Item::Photo(_) => Folder::Photos,
            Item::Document { .. } => Folder::Documents,
        }
    }

    fn bytes(&self) -> usize {
        match self {
            Item::Photo(sizes) => sizes.iter().map(|s| s.bytes.len()).sum(),
            Item::Document { bytes, .. } => bytes.len(),
        }
    }
}

/// The media of one `send`: a photo, a document, or an album, checked.
pub(super) fn items(
    photo: Option<Vec<PhotoSizeInput>>,
    document: Option<DocumentInput>,
    media_group: Option<Vec<GroupItemInput>>,
) -> Result<Vec<Item>, String> {
    match (photo, document, media_group) {
        (Some(sizes), None, None) => Ok(vec![checked_photo(sizes, "photo")?]),
        (None, Some(document), None) => Ok(vec![checked_document(document, "document")?]),
        (None, None, Some(group)) => {
            if !(2..=10).contains(&group.len()) {
                return Err("media_group must have 2 to 10 items".to_owned());
            }
            let items = group
                .into_iter()
                .enumerate()
                .map(|(i, item)| match (item.photo, item.document) {
                    (Some(sizes), None) => checked_photo(sizes, &format!("media_group[{i}].photo")),
                    (None, Some(d)) => checked_document(d, &format!("media_group[{i}].document")),
                    _ => Err(format!(
                        "media_group[{i}] must have exactly one of photo and document"
                    )),
                })
                .collect::<Result<Vec<_>, _>>()?;
            // Telegram groups photos (and videos) together, documents together, never both.
            if items.iter().any(|i| i.folder() != items[0].folder()) {
                return Err(
                    "a media_group holds photos only or documents only, as on Telegram".to_owned(),
                );
            }
            Ok(items)
        }
        _ => Err("give exactly one of text, photo, document and media_group".to_owned()),
    }
}

/// Checks a caption's length.
pub(super) fn check_caption(caption: &str) -> Result<(), String> {
    if caption.chars().count() > MAX_CAPTION {
        return Err(format!(
            "caption must have at most {MAX_CAPTION} characters"
        ));
    }
    Ok(())
}

fn checked_photo(sizes: Vec<PhotoSizeInput>, what: &str) -> Result<Item, String> {
    if sizes.is_empty() || sizes.len() > MAX_SIZES {
        return Err(format!("{what} must list 1 to {MAX_SIZES} sizes"));
    }
    let sizes = sizes
        .into_iter()
        .enumerate()
        .map(|(i, size)| {
            let what = format!("{what}[{i}]");
            let bytes = decode(&size.data, &what, MAX_PHOTO)?;
            let kind = detect(&bytes);
            let sniffed = kind.and_then(|kind| dimensions(kind, &bytes));
            let (width, height) = match (size.width, size.height, sniffed) {
                (Some(w), Some(h), _) | (None, None, Some((w, h))) => (w, h),
                _ => {
                    return Err(format!(
                        "{what}: give width and height, or the bytes of an image whose header has them"
                    ));
                }
            };
            if width == 0 || height == 0 {
                return Err(format!("{what}: width and height must be positive"));
            }
            // Telegram serves photos as JPEG; the sandbox cannot convert, so the path says what
            // the bytes are.
            let extension = match kind {
                Some(ImageType::Png) => "png",
                Some(ImageType::Gif) => "gif",
                Some(ImageType::Webp) => "webp",
                Some(ImageType::Jpeg) | None => "jpg",
            };
            Ok(Size {
                bytes,
                width,
                height,
                extension,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Item::Photo(sizes))
}

fn checked_document(input: DocumentInput, what: &str) -> Result<Item, String> {
    let bytes = decode(&input.data, what, MAX_DOCUMENT)?;
    let file_name = input.file_name.filter(|n| !n.trim().is_empty());
    if file_name
        .as_deref()
        .is_some_and(|n| n.contains(['/', '\\']) || n.chars().count() > 255)
    {
        return Err(format!(
            "{what}.file_name must be a plain name of at most 255 characters"
        ));
    }
    let mime_type = input.mime_type.filter(|m| !m.trim().is_empty());
    // teloxide reads mime_type as a MIME type: one it cannot read would lose the whole update.
    if let Some(mime) = &mime_type {
        let valid = mime.split_once('/').is_some_and(|(kind, sub)| {
            let token = |s: &str| {
                !s.is_empty()
                    && s.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
            };
            token(kind) && token(sub)
        });
        if !valid {
            return Err(format!(
                "{what}.mime_type must be a MIME type such as application/pdf"
            ));
        }
    }
    let extension = file_name
        .as_deref()
        .and_then(|n| n.rsplit_once('.'))
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .filter(|ext| {
            !ext.is_empty() && ext.len() <= 8 && ext.bytes().all(|b| b.is_ascii_alphanumeric())
        })
        .unwrap_or_default();
    Ok(Item::Document {
        bytes,
        file_name,
        mime_type,
        extension,
    })
}

/// Standard base64 (padded) of 1 to `max` bytes.
fn decode(data: &str, what: &str, max: usize) -> Result<Vec<u8>, String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .map_err(|e| format!("{what}.data is not base64: {e}"))?;
    if bytes.is_empty() || bytes.len() > max {
        return Err(format!("{what} must have 1 to {max} bytes"));
    }
    Ok(bytes)
}

/// Where a person's media goes: the chat, the message it answers, the forum topic.
pub(super) struct Placement {
    pub(super) chat_id: i64,
    pub(super) reply_to: Option<i64>,
    pub(super) thread_id: Option<i64>,
}

impl TelegramSandbox {
    /// Stores a person's photo, document or album in a chat and queues each message as an
    /// update, as Telegram delivers them; the caption goes on the first, and an album's
    /// messages share a `media_group_id` and take consecutive ids. Answers the messages as the
    /// bot receives them and their update ids, or why the sandbox cannot keep the bytes.
    pub(super) fn media_messages(
        &self,
        data: &mut Data,
        person: &Person,
        place: Placement,
        items: Vec<Item>,
        caption: Option<String>,
    ) -> Result<(Vec<Value>, Vec<Option<i64>>), String> {
        let total: usize = items.iter().map(Item::bytes).sum();
        if !data.files.has_room(total) {
            return Err(format!(
                "the sandbox keeps at most {} MB of files; POST /sandbox/telegram/reset forgets them",
                super::files::MAX_STORED >> 20
            ));
        }
        let group_id = (items.len() > 1).then(|| {
            data.last_media_group += 1;
            format!("{}{:03}", now_ms(), data.last_media_group % 1000)
        });
        let mut caption = caption.filter(|c| !c.is_empty());
        let mut messages = Vec::new();
        let mut updates = Vec::new();
        for item in items {
            let text = caption.take().unwrap_or_default();
            let entities = bot_commands(&text);
            let mut message = Message {
                thread_id: place.thread_id,
                reply_to: place.reply_to,
                media_group_id: group_id.clone(),
                ..Message::new(Some(person.clone()), text, entities)
            };
            match item {
                Item::Photo(sizes) => {
                    let sizes: Vec<Value> = sizes
                        .into_iter()
                        .map(|size| {
                            let length = size.bytes.len();
                            let (file_id, unique_id) =
                                data.files
                                    .issue(Folder::Photos, Some(size.bytes), size.extension);
                            json!({
                                "file_id": file_id,
                                "file_unique_id": unique_id,
                                "file_size": length,
                                "width": size.width,
                                "height": size.height,
                            })
                        })
                        .collect();
                    let sizes = photo_sizes(sizes);
                    let largest = sizes
                        .last()
                        .map(|s| s["file_id"].as_str().unwrap_or_default().to_owned());
                    message.photo = Some((sizes, largest.unwrap_or_default()));
                }
                Item::Document {
                    bytes,
                    file_name,
                    mime_type,
                    extension,
                } => {
                    let length = bytes.len();
                    let (file_id, unique_id) =
                        data.files.issue(Folder::Documents, Some(bytes), &extension);
                    let mut document = json!({
                        "file_id": file_id,
                        "file_unique_id": unique_id,
                        "file_size": length,
                    });
                    if let Some(name) = file_name {
                        document["file_name"] = json!(name);
                    }
                    if let Some(mime) = mime_type {
                        document["mime_type"] = json!(mime);
                    }
                    message.document = Some(document);
                }
            }
            let json = self.store(data, place.chat_id, message);
            updates.push(self.queue(data, "message", json.clone()));
            messages.push(json);
        }
        Ok((messages, updates))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
        bytes.extend([0, 0, 0, 13]);
        bytes.extend(b"IHDR");
        bytes.extend(width.to_be_bytes());
        bytes.extend(height.to_be_bytes());
        bytes.extend([8, 2, 0, 0, 0]);
        bytes
    }

    #[test]
    fn a_photo_needs_dimensions_and_an_album_one_kind() {
        let size = |data: &[u8]| PhotoSizeInput {
            data: b64(data),
            width: None,
            height: None,
        };
        let Item::Photo(sizes) = checked_photo(vec![size(&png(90, 68))], "photo").unwrap() else {
            panic!("a photo");
        };
        assert_eq!(
            (sizes[0].width, sizes[0].height, sizes[0].extension),
            (90, 68, "png")
        );
        let refused = checked_photo(vec![size(b"not an image")], "photo").unwrap_err();
        assert!(refused.contains("width and height"), "{refused}");

        let document = || DocumentInput {
            data: b64(b"%PDF-1.7"),
            file_name: Some("Surat Edaran.PDF".into()),
            mime_type: Some("application/pdf".into()),
        };
        let Item::Document { extension, .. } = checked_document(document(), "document").unwrap()
        else {
            panic!("a document");
        };
        assert_eq!(extension, "pdf");
        let mixed = items(
            None,
            None,
            Some(vec![
                GroupItemInput {
                    photo: Some(vec![size(&png(10, 10))]),
                    document: None,
                },
                GroupItemInput {
                    photo: None,
                    document: Some(document()),
                },
            ]),
        )
        .unwrap_err();
        assert!(mixed.contains("photos only or documents only"), "{mixed}");
        let bad_mime = checked_document(
            DocumentInput {
                mime_type: Some("pdf".into()),
                ..document()
            },
            "document",
        )
        .unwrap_err();
        assert!(bad_mime.contains("MIME type"), "{bad_mime}");
    }
}
