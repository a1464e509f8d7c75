/*!
A Bot API method's parameters, as Telegram takes them: from the query string and from a JSON,
`application/x-www-form-urlencoded` or `multipart/form-data` body (uploaded files kept apart),
with accessors that convert form strings the way Telegram does and answer its errors for a value
of the wrong type.
*/

use std::collections::HashMap;

use axum::http::{HeaderMap, header};
use serde_json::{Map, Value};

use super::errors::ApiError;
use crate::sandbox::common::percent_decode;

/// A method's parameters, from the query string and a JSON, urlencoded or multipart body, as
/// the Bot API accepts them. Values from forms are strings; accessors convert as Telegram does.
#[derive(Debug, Default)]
pub(super) struct Params {
    values: Map<String, Value>,
    /// Files uploaded in a multipart body, by part name.
    pub(super) uploads: HashMap<String, Vec<u8>>,
}

impl Params {
    pub(super) fn parse(
        query: Option<&str>,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Params, ApiError> {
        let mut params = Params::default();
        for (key, value) in form_pairs(query.unwrap_or("")) {
            params.values.insert(key, Value::String(value));
        }
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(params);
        }
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let mime = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match mime.as_str() {
            "application/json" => {
                let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) else {
                    return Err(ApiError::bad("can't parse JSON object"));
                };
                params.values.extend(fields);
            }
            "application/x-www-form-urlencoded" => {
                let Ok(body) = std::str::from_utf8(body) else {
                    return Err(ApiError::bad("request parameters must be encoded in UTF-8"));
                };
                for (key, value) in form_pairs(body) {
                    params.values.insert(key, Value::String(value));
                }
            }
            "multipart/form-data" => {
                let boundary = content_type
                    .split(';')
                    .filter_map(|part| part.trim().strip_prefix("boundary="))
                    .map(|b| b.trim_matches('"'))
                    .next()
                    .unwrap_or("");
                let Some(parts) = multipart_parts(body, boundary) else {
                    return Err(ApiError::bad("can't parse multipart/form-data request"));
                };
                for part in parts {
                    if part.filename.is_some() {
                        params.uploads.insert(part.name, part.data);
                    } else {
                        let value = String::from_utf8_lossy(&part.data).into_owned();
                        params.values.insert(part.name, Value::String(value));
                    }
                }
            }
            _ => {
                return Err(ApiError::bad(&format!(
                    "unsupported Content-Type \"{content_type}\""
                )));
            }
        }
        Ok(params)
    }

    pub(super) fn get(&self, key: &str) -> Option<&Value> {
        self.values.get(key).filter(|v| !v.is_null())
    }

    pub(super) fn string(&self, key: &str) -> Option<String> {
        match self.get(key)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    pub(super) fn int(&self, key: &str) -> Result<Option<i64>, ApiError> {
        let parsed = match self.get(key) {
            None => return Ok(None),
            Some(Value::Number(n)) => n.as_i64(),
            Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
            Some(Value::String(s)) => s.trim().parse().ok(),
            Some(_) => None,
        };
        match parsed {
            Some(n) => Ok(Some(n)),
            None => Err(ApiError::bad(&format!(
                "field \"{key}\" must be of type Integer"
            ))),
        }
    }

    pub(super) fn flag(&self, key: &str) -> bool {
        match self.get(key) {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => matches!(s.trim(), "true" | "True" | "1"),
            Some(Value::Number(n)) => n.as_i64() == Some(1),
            _ => false,
        }
    }

    /// An object or array parameter, given as JSON in a JSON body or as a JSON string in a form.
    pub(super) fn object(&self, key: &str) -> Result<Option<Value>, ApiError> {
        let error = || {
            let what = match key {
                "reply_markup" => "reply keyboard markup".to_owned(),
                _ => key.replace('_', " "),
            };
            ApiError::bad(&format!("can't parse {what} JSON object"))
        };
        match self.get(key) {
            None => Ok(None),
            Some(v @ (Value::Object(_) | Value::Array(_))) => Ok(Some(v.clone())),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
                Ok(v @ (Value::Object(_) | Value::Array(_))) => Ok(Some(v)),
                _ => Err(error()),
            },
            Some(_) => Err(error()),
        }
    }
}

/// `application/x-www-form-urlencoded` pairs.
fn form_pairs(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key), percent_decode(value))
        })
        .collect()
}

/// One part of a multipart body.
struct Part {
    name: String,
    filename: Option<String>,
    data: Vec<u8>,
}

/// The parts of a `multipart/form-data` body (RFC 7578), or `None` when it is malformed.
fn multipart_parts(body: &[u8], boundary: &str) -> Option<Vec<Part>> {
    if boundary.is_empty() {
        return None;
    }
    let delimiter = format!("--{boundary}").into_bytes();
    let separator = [b"\r\n".as_slice(), &delimiter].concat();
    let mut pos = find(body, &delimiter, 0)? + delimiter.len();
    let mut parts = Vec::new();
    loop {
        if body[pos..].starts_with(b"--") {
            return Some(parts);
        }
        pos += if body[pos..].starts_with(b"\r\n") {
            2
        } else {
            0
        };
        let headers_end = find(body, b"\r\n\r\n", pos)?;
        let headers = std::str::from_utf8(&body[pos..headers_end]).ok()?;
        let data_start = headers_end + 4;
        let data_end = find(body, &separator, data_start)?;
        let mut name = None;
        let mut filename = None;
        for line in headers.split("\r\n") {
            let Some((field, value)) = line.split_once(':') else {
                continue;
            };
            if !field.trim().eq_ignore_ascii_case("content-disposition") {
                continue;
            }
            for attribute in value.split(';').map(str::trim) {
                if let Some(v) = attribute.strip_prefix("name=") {
                    name = Some(v.trim_matches('"').to_owned());
                } else if let Some(v) = attribute.strip_prefix("filename=") {
                    filename = Some(v.trim_matches('"').to_owned());
                }
            }
        }
        parts.push(Part {
            name: name?,
            filename,
            data: body[data_start..data_end].to_vec(),
        });
        pos = data_end + separator.len();
    }
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|window| window == needle)
        .map(|at| at + from)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;
    use serde_json::json;

    use super::*;

    #[test]
    fn form_and_multipart_bodies_become_parameters() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        let p = Params::parse(
            Some("limit=5"),
            &headers,
            b"chat_id=-100&text=halo+warga%21&reply_markup=%7B%22inline_keyboard%22%3A%5B%5D%7D",
        )
        .unwrap();
        assert_eq!(p.int("chat_id").unwrap(), Some(-100));
        assert_eq!(p.int("limit").unwrap(), Some(5));
        assert_eq!(p.string("text").as_deref(), Some("halo warga!"));
        assert_eq!(
            p.object("reply_markup").unwrap(),
            Some(json!({"inline_keyboard": []}))
        );

        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("multipart/form-data; boundary=XyZ"),
        );
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"chat_id\"\r\n\r\n42\r\n--XyZ\r\nContent-Disposition: form-data; name=\"photo\"\r\n\r\nattach://f1\r\n--XyZ\r\nContent-Disposition: form-data; name=\"f1\"; filename=\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8\r\n\xff\r\n--XyZ--\r\n";
        let p = Params::parse(None, &headers, body).unwrap();
        assert_eq!(p.int("chat_id").unwrap(), Some(42));
        assert_eq!(p.string("photo").as_deref(), Some("attach://f1"));
        assert_eq!(p.uploads["f1"], b"\xff\xd8\r\n\xff");
    }
}
