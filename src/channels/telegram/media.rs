/*!
Photos and documents in Telegram messages: what a message carries ([`Attachment`], read from
teloxide's message by [`attachment_of`]) and its bytes ([`TelegramClient::download`]: `getFile`,
then the file route, both through teloxide).

Telegram lets bots download files of up to 20 MB ([`DOWNLOAD_LIMIT`]); the client refuses a file
over the limit it is given before downloading when `getFile` states the size, and stops reading
as soon as the bytes pass it otherwise, so a file never sits in memory beyond the limit.
*/

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use teloxide::net::Download as _;
use teloxide::prelude::Requester as _;
use teloxide::types::{FileId, Message};

use super::{TelegramClient, TelegramError, classify};

/// The largest file a bot may download from Telegram, in bytes (20 MB).
pub const DOWNLOAD_LIMIT: u64 = 20 * 1024 * 1024;

/// A photo or a document a person sent.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Attachment {
    /// A photo, at the largest of the sizes Telegram offers.
    Photo {
        file_id: String,
        /// The same for the same photo over time (and for other bots); cannot download it.
        file_unique_id: String,
        width: u32,
        height: u32,
        /// In bytes, when Telegram states it.
        file_size: Option<u32>,
    },
    /// A file sent as a document (a PDF, an uncompressed picture...).
    Document {
        file_id: String,
        file_unique_id: String,
        /// The name on the sender's device, when given.
        file_name: Option<String>,
        /// As the sender's client declared it.
        mime_type: Option<String>,
        file_size: Option<u32>,
    },
}

impl Attachment {
    /// The id to download it with ([`TelegramClient::download`]).
    pub fn file_id(&self) -> &str {
        match self {
            Attachment::Photo { file_id, .. } | Attachment::Document { file_id, .. } => file_id,
        }
    }

    /// Its size in bytes, when Telegram states it.
    pub fn file_size(&self) -> Option<u32> {
        match self {
            Attachment::Photo { file_size, .. } | Attachment::Document { file_size, .. } => {
                *file_size
            }
        }
    }
}

/// The photo (largest size) or document a message carries, if any.
pub fn attachment_of(message: &Message) -> Option<Attachment> {
    // teloxide fills a missing `file_size` with u32::MAX.
    let size = |size: u32| (size != u32::MAX).then_some(size);
    if let Some(sizes) = message.photo() {
        let largest = sizes
            .iter()
            .max_by_key(|s| (u64::from(s.width) * u64::from(s.height), s.file.size))?;
        return Some(Attachment::Photo {
            file_id: largest.file.id.0.clone(),
            file_unique_id: largest.file.unique_id.0.clone(),
            width: largest.width,
            height: largest.height,
            file_size: size(largest.file.size),
        });
    }
    let document = message.document()?;
    Some(Attachment::Document {
        file_id: document.file.id.0.clone(),
        file_unique_id: document.file.unique_id.0.clone(),
        file_name: document.file_name.clone(),
        mime_type: document.mime_type.as_ref().map(ToString::to_string),
        file_size: size(document.file.size),
    })
}

/// A downloaded file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Downloaded {
    pub bytes: Vec<u8>,
    /// Telegram's path for it, e.g. `photos/file_7.jpg`.
    pub file_path: String,
    /// The last part of the path, e.g. `file_7.jpg` (the sender's own name is in
    /// [`Attachment::Document`]).
    pub file_name: String,
    /// From the bytes' signature for the common image types and PDF, else from the path's
    /// extension, else `application/octet-stream`.
    pub mime_type: String,
}

impl TelegramClient {
    /// Downloads a file by its id, refusing one over [`DOWNLOAD_LIMIT`].
    pub async fn download(&self, file_id: &str) -> Result<Downloaded, TelegramError> {
        self.download_at_most(file_id, DOWNLOAD_LIMIT).await
    }

    /// Downloads a file by its id (`getFile`, then the file route), refusing one over `limit`
    /// bytes with [`TelegramError::TooLarge`]. An unknown id is
    /// [`TelegramError::Rejected`] (Telegram's "invalid file_id").
    pub async fn download_at_most(
        &self,
        file_id: &str,
        limit: u64,
    ) -> Result<Downloaded, TelegramError> {
        let file = self
            .bot
            .get_file(FileId(file_id.to_owned()))
            .await
            .map_err(classify)?;
        if file.size != u32::MAX && u64::from(file.size) > limit {
            return Err(TelegramError::TooLarge {
                size: u64::from(file.size),
                limit,
            });
        }
        let mut sink = Capped {
            bytes: Vec::new(),
            limit,
            passed: None,
        };
        let result = self.bot.download_file(&file.path, &mut sink).await;
        if let Some(size) = sink.passed {
            return Err(TelegramError::TooLarge { size, limit });
        }
        result.map_err(|e| match e {
            teloxide::DownloadError::Network(e) => match e.status() {
                Some(status) if status.is_client_error() => TelegramError::Rejected(format!(
                    "the file at {} could not be downloaded: {status}",
                    file.path
                )),
                _ => TelegramError::Transient(e.to_string()),
            },
            teloxide::DownloadError::Io(e) => TelegramError::Transient(e.to_string()),
        })?;
        let file_name = file.path.rsplit('/').next().unwrap_or_default().to_owned();
        let mime_type = mime_of(&sink.bytes, &file_name).to_owned();
        Ok(Downloaded {
            bytes: sink.bytes,
            file_path: file.path,
            file_name,
            mime_type,
        })
    }
}

/// Collects a download, failing the write that would pass `limit` bytes.
struct Capped {
    bytes: Vec<u8>,
    limit: u64,
    /// The bytes the download had reached when it passed the limit.
    passed: Option<u64>,
}

impl tokio::io::AsyncWrite for Capped {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let size = (self.bytes.len() + buf.len()) as u64;
        if size > self.limit {
            self.passed = Some(size);
            return Poll::Ready(Err(io::Error::other("the file passed the download limit")));
        }
        self.bytes.extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// A file's MIME type from its first bytes, else from its name's extension.
fn mime_of(bytes: &[u8], file_name: &str) -> &'static str {
    let signatures: [(&[u8], &str); 5] = [
        (&[0xFF, 0xD8, 0xFF], "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"GIF8", "image/gif"),
        (b"%PDF-", "application/pdf"),
        (b"PK\x03\x04", "application/zip"),
    ];
    if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return "image/webp";
    }
    let by_extension = || {
        let extension = file_name.rsplit_once('.')?.1.to_ascii_lowercase();
        Some(match extension.as_str() {
            "jpg" | "jpeg" => "image/jpeg",
            "png" => "image/png",
            "gif" => "image/gif",
            "webp" => "image/webp",
            "pdf" => "application/pdf",
            "doc" => "application/msword",
            "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "xls" => "application/vnd.ms-excel",
            "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "txt" => "text/plain",
            "mp4" => "video/mp4",
            _ => return None,
        })
    };
    match signatures
        .iter()
        .find(|(magic, _)| bytes.starts_with(magic))
    {
        // Office files are zip archives: their extension says more.
        Some((_, "application/zip")) => by_extension().unwrap_or("application/zip"),
        Some((_, mime)) => mime,
        None => by_extension().unwrap_or("application/octet-stream"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(media: &str) -> Message {
        serde_json::from_str(&format!(
            r#"{{"message_id":3,"date":1767225600,
            "from":{{"id":5,"is_bot":false,"first_name":"A"}},
            "chat":{{"id":-1002000000001,"type":"supergroup","title":"x"}},{media}}}"#
        ))
        .expect("a message")
    }

    #[test]
    fn the_largest_photo_size_is_taken() {
        let photo = message(
            r#""photo":[
            {"file_id":"m","file_unique_id":"um","width":320,"height":240,"file_size":900},
            {"file_id":"y","file_unique_id":"uy","width":1280,"height":960},
            {"file_id":"s","file_unique_id":"us","width":90,"height":67,"file_size":100}],
            "caption":"Jadwal""#,
        );
        let attachment = attachment_of(&photo).expect("a photo");
        assert_eq!(
            attachment,
            Attachment::Photo {
                file_id: "y".into(),
                file_unique_id: "uy".into(),
                width: 1280,
                height: 960,
                file_size: None,
            }
        );
        assert_eq!(attachment.file_id(), "y");
        let document = message(
            r#""document":{"file_id":"d","file_unique_id":"ud","file_name":"surat.pdf",
            "mime_type":"application/pdf","file_size":4096}"#,
        );
        let attachment = attachment_of(&document).expect("a document");
        assert_eq!(
            attachment,
            Attachment::Document {
                file_id: "d".into(),
                file_unique_id: "ud".into(),
                file_name: Some("surat.pdf".into()),
                mime_type: Some("application/pdf".into()),
                file_size: Some(4096),
            }
        );
        assert_eq!(attachment.file_size(), Some(4096));
        assert_eq!(attachment_of(&message(r#""text":"halo""#)), None);
    }

    #[tokio::test]
    async fn a_download_stops_at_the_limit() {
        use tokio::io::AsyncWriteExt as _;
        let mut sink = Capped {
            bytes: Vec::new(),
            limit: 5,
            passed: None,
        };
        sink.write_all(b"abc").await.unwrap();
        assert!(sink.write_all(b"def").await.is_err());
        assert_eq!((sink.bytes.as_slice(), sink.passed), (&b"abc"[..], Some(6)));
    }

    #[test]
    fn mime_types_come_from_the_bytes_then_the_name() {
        assert_eq!(
            mime_of(&[0xFF, 0xD8, 0xFF, 0xE0], "file_1.png"),
            "image/jpeg"
        );
        assert_eq!(mime_of(b"%PDF-1.7", "file_2"), "application/pdf");
        assert_eq!(
            mime_of(b"PK\x03\x04rest", "file_3.docx"),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        );
        assert_eq!(mime_of(b"PK\x03\x04rest", "file_4.zip"), "application/zip");
        assert_eq!(mime_of(b"hello", "file_5.TXT"), "text/plain");
        assert_eq!(mime_of(b"hello", "file_6"), "application/octet-stream");
        assert_eq!(mime_of(b"RIFF\0\0\0\0WEBPVP8 ", "x"), "image/webp");
    }
}
