/*!
Files, as the Bot API serves them: every photo size and document a person sends (and every photo
the bot uploads) is kept with its bytes under a `file_id`; `getFile` answers its `File` object and
gives it a `file_path` on first use; `GET /file/bot<token>/<file_path>` answers the bytes.

What Telegram does and the sandbox copies: `getFile` refuses a file over 20 MB ("file is too
big"), an unknown id ("invalid file_id"), and a file it cannot serve ("wrong file_id or the file is
temporarily unavailable": here a photo the bot sent by URL, which the sandbox never fetched); the
download route answers 401 `Unauthorized` for another token and 404 `Not Found` for a path no
`getFile` gave. Paths look like Telegram's, `photos/file_7.jpg` and `documents/file_8.pdf`.

The sandbox's own choices: a path stays valid until a reset (Telegram promises at least an
hour); the bytes the sandbox keeps are capped at [`MAX_STORED`] in all, and counters keep growing
across resets so that an id or path a bot kept never names another file.
*/

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::TelegramSandbox;
use super::errors::{ApiError, Outcome};
use super::params::Params;

/// Largest file a bot may download (Bot API, `getFile`).
pub(super) const MAX_BOT_DOWNLOAD: usize = 20 * 1024 * 1024;

/// Bytes the sandbox keeps for all files together; a reset frees them.
pub(super) const MAX_STORED: usize = 256 * 1024 * 1024;

/// Telegram's folder for a file, the first part of its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Folder {
    Photos,
    Documents,
}

impl Folder {
    fn name(self) -> &'static str {
        match self {
            Folder::Photos => "photos",
            Folder::Documents => "documents",
        }
    }

    /// The prefix of the file ids the sandbox gives this kind of file.
    fn id_prefix(self) -> &'static str {
        match self {
            Folder::Photos => "sbx-photo",
            Folder::Documents => "sbx-document",
        }
    }
}

/// One file the sandbox issued an id for.
#[derive(Debug, Clone)]
struct StoredFile {
    unique_id: String,
    /// `None` for a photo the bot sent by URL: the sandbox fetches nothing.
    bytes: Option<Arc<Vec<u8>>>,
    folder: Folder,
    /// Without the dot; empty for none.
    extension: String,
    /// Given by the first `getFile`.
    path: Option<String>,
}

/// Every file the sandbox issued an id for, and the paths `getFile` gave.
#[derive(Debug, Default)]
pub(super) struct Files {
    by_id: HashMap<String, StoredFile>,
    /// `file_path` to `file_id`.
    by_path: HashMap<String, String>,
    stored_bytes: usize,
    last_id: u64,
    last_path: u64,
}

impl Files {
    /// No files, but the counters of `self`, so that ids and paths are never reused.
    pub(super) fn emptied(&self) -> Files {
        Files {
            last_id: self.last_id,
            last_path: self.last_path,
            ..Files::default()
        }
    }

    /// Whether the sandbox issued `file_id`.
    pub(super) fn knows(&self, file_id: &str) -> bool {
        self.by_id.contains_key(file_id)
    }

    /// The `file_unique_id` of a file the sandbox issued (empty for another).
    pub(super) fn unique_id(&self, file_id: &str) -> String {
        self.by_id
            .get(file_id)
            .map(|f| f.unique_id.clone())
            .unwrap_or_default()
    }

    /// Whether `bytes` more fit under [`MAX_STORED`].
    pub(super) fn has_room(&self, bytes: usize) -> bool {
        self.stored_bytes.saturating_add(bytes) <= MAX_STORED
    }

    /// Keeps a file and answers its `file_id` and `file_unique_id`. Bytes that do not fit under
    /// [`MAX_STORED`] are not kept (callers that must keep them check [`Files::has_room`]
    /// first), and the file cannot then be downloaded.
    pub(super) fn issue(
        &mut self,
        folder: Folder,
        bytes: Option<Vec<u8>>,
        extension: &str,
    ) -> (String, String) {
        self.last_id += 1;
        let file_id = format!("{}-{}", folder.id_prefix(), self.last_id);
        let unique_id = format!("sbxu-{}", self.last_id);
        let bytes = bytes.filter(|b| self.has_room(b.len()));
        self.stored_bytes += bytes.as_ref().map_or(0, Vec::len);
        self.by_id.insert(
            file_id.clone(),
            StoredFile {
                unique_id: unique_id.clone(),
                bytes: bytes.map(Arc::new),
                folder,
                extension: extension.to_owned(),
                path: None,
            },
        );
        (file_id, unique_id)
    }

    /// The `File` object of `getFile`, giving the file its path on first use.
    fn file_object(&mut self, file_id: &str) -> Outcome {
        let Some(file) = self.by_id.get_mut(file_id) else {
            return Err(ApiError::bad("invalid file_id"));
        };
        let Some(bytes) = &file.bytes else {
            return Err(ApiError::bad(
                "wrong file_id or the file is temporarily unavailable",
            ));
        };
        if bytes.len() > MAX_BOT_DOWNLOAD {
            return Err(ApiError::bad("file is too big"));
        }
        let size = bytes.len();
        let path = match &file.path {
            Some(path) => path.clone(),
            None => {
                self.last_path += 1;
                let dot = if file.extension.is_empty() { "" } else { "." };
                let path = format!(
                    "{}/file_{}{dot}{}",
                    file.folder.name(),
                    self.last_path,
                    file.extension
                );
                file.path = Some(path.clone());
                self.by_path.insert(path.clone(), file_id.to_owned());
                path
            }
        };
        Ok(json!({
            "file_id": file_id,
            "file_unique_id": file.unique_id,
            "file_size": size,
            "file_path": path,
        }))
    }

    /// The bytes at a path `getFile` gave, with their extension.
    fn at_path(&self, path: &str) -> Option<(Arc<Vec<u8>>, &str)> {
        let file = self.by_path.get(path).and_then(|id| self.by_id.get(id))?;
        Some((file.bytes.clone()?, file.extension.as_str()))
    }
}

impl TelegramSandbox {
    /// `getFile {file_id}`: the `File` object with its `file_path`.
    pub(super) fn get_file(&self, p: &Params) -> Outcome {
        let file_id = p.string("file_id").unwrap_or_default();
        self.lock().files.file_object(file_id.trim())
    }
}

/// `GET /file/bot<token>/<file_path>`: the bytes of a file `getFile` gave a path to. teloxide
/// sends the path as one segment (its `/` escaped as `%2F`); both forms arrive here decoded.
pub(super) async fn download(
    State(sandbox): State<TelegramSandbox>,
    Path((bot_token, file_path)): Path<(String, String)>,
) -> Response {
    let Some(token) = bot_token.strip_prefix("bot") else {
        return ApiError::new(404, "Not Found").into_response();
    };
    if token != sandbox.settings.token {
        return ApiError::new(401, "Unauthorized").into_response();
    }
    let found = {
        let data = sandbox.lock();
        data.files
            .at_path(file_path.trim_start_matches('/'))
            .map(|(bytes, extension)| (bytes, content_type(extension)))
    };
    let Some((bytes, content_type)) = found else {
        return ApiError::new(404, "Not Found").into_response();
    };
    let mut response = bytes.as_ref().clone().into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// The `Content-Type` the file server gives a file, by its extension.
fn content_type(extension: &str) -> &'static str {
    match extension {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

/// A photo's sizes as Telegram lists them, smallest first.
pub(super) fn photo_sizes(mut sizes: Vec<Value>) -> Vec<Value> {
    let area = |v: &Value| v["width"].as_u64().unwrap_or(0) * v["height"].as_u64().unwrap_or(0);
    sizes.sort_by_key(area);
    sizes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_given_once_and_never_reused_after_a_reset() {
        let mut files = Files::default();
        let (id, unique) = files.issue(Folder::Documents, Some(b"%PDF-1.7".to_vec()), "pdf");
        assert_eq!((id.as_str(), unique.as_str()), ("sbx-document-1", "sbxu-1"));
        let first = files.file_object(&id).unwrap();
        assert_eq!(first["file_path"], "documents/file_1.pdf");
        assert_eq!(first["file_size"], 8);
        assert_eq!(files.file_object(&id).unwrap(), first);
        assert_eq!(files.at_path("documents/file_1.pdf").unwrap().0.len(), 8);

        let mut files = files.emptied();
        assert!(!files.knows(&id));
        assert!(files.at_path("documents/file_1.pdf").is_none());
        let (id, _) = files.issue(Folder::Photos, Some(vec![0xFF, 0xD8, 0xFF]), "jpg");
        assert_eq!(id, "sbx-photo-2");
        assert_eq!(
            files.file_object(&id).unwrap()["file_path"],
            "photos/file_2.jpg"
        );
    }

    #[test]
    fn get_file_refuses_as_telegram_does() {
        let mut files = Files::default();
        let error = |r: Outcome| r.unwrap_err().description;
        assert_eq!(
            error(files.file_object("nope")),
            "Bad Request: invalid file_id"
        );
        let (by_url, _) = files.issue(Folder::Photos, None, "jpg");
        assert_eq!(
            error(files.file_object(&by_url)),
            "Bad Request: wrong file_id or the file is temporarily unavailable"
        );
        let (big, _) = files.issue(
            Folder::Documents,
            Some(vec![0; MAX_BOT_DOWNLOAD + 1]),
            "bin",
        );
        assert_eq!(
            error(files.file_object(&big)),
            "Bad Request: file is too big"
        );
        let (exact, _) = files.issue(Folder::Documents, Some(vec![0; MAX_BOT_DOWNLOAD]), "");
        assert_eq!(
            files.file_object(&exact).unwrap()["file_path"],
            "documents/file_1"
        );
    }

    #[test]
    fn bytes_over_the_cap_are_not_kept() {
        let mut files = Files {
            stored_bytes: MAX_STORED - 2,
            ..Files::default()
        };
        assert!(files.has_room(2));
        assert!(!files.has_room(3));
        let (id, _) = files.issue(Folder::Photos, Some(vec![1, 2, 3]), "jpg");
        assert!(files.knows(&id));
        assert!(files.file_object(&id).is_err());
    }
}
