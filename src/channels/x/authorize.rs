//! The one-time OAuth 2.0 authorization of the account (authorization code with PKCE): the URL a
//! person opens, a small listener at the redirect URI that receives the code, the exchange, and
//! the tokens written to the database.

use std::collections::HashMap;
use std::time::Duration;

use axum::extract::Query;
use axum::response::Html;
use tokio::sync::mpsc;

use super::oauth2::{self, Client, TokenError, XToken};

/// Why an authorization failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthorizeError {
    #[error("the redirect URI {0:?} must be http://HOST:PORT/PATH on this machine")]
    RedirectUri(String),
    #[error("cannot listen at {addr} for the redirect: {source}")]
    Listen {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("X sent back an error instead of a code: {0}")]
    Denied(String),
    #[error("no answer at the redirect URI within {0} seconds")]
    Timeout(u64),
    #[error("the sign-in page could not be followed: {0}")]
    Follow(String),
    #[error(transparent)]
    Token(#[from] TokenError),
}

/// One authorization in progress: the URL to open and the PKCE verifier and state behind it.
pub struct Pending {
    pub url: String,
    pub redirect_uri: String,
    verifier: String,
    state: String,
}

/// Starts an authorization: a fresh verifier and state, and the URL to open.
pub fn begin(authorize_base: &str, client_id: &str, redirect_uri: &str) -> Pending {
    let verifier = oauth2::new_code_verifier();
    let state = oauth2::new_code_verifier()[..32].to_owned();
    Pending {
        url: oauth2::authorize_url(authorize_base, client_id, redirect_uri, &state, &verifier),
        redirect_uri: redirect_uri.to_owned(),
        verifier,
        state,
    }
}

impl Pending {
    /// Exchanges the code X sent back for the account's tokens (not yet stored: the caller
    /// checks whose they are first).
    pub async fn exchange(&self, client: &Client, code: &str) -> Result<XToken, AuthorizeError> {
        let token = client
            .exchange_code(code, &self.redirect_uri, &self.verifier)
            .await?;
        if token.refresh_token.is_none() {
            tracing::warn!(
                "X returned no refresh token (offline.access not granted): the bot will stop \
                 working when this access token expires"
            );
        }
        Ok(token)
    }

    /// Serves the redirect URI's path on `listener`.
    fn serve(&self, listener: tokio::net::TcpListener, path: String) -> Callback {
        let (sender, receiver) = mpsc::channel::<Result<String, String>>(1);
        let state = self.state.clone();
        let router = axum::Router::new().route(
            &path,
            axum::routing::get(move |Query(query): Query<HashMap<String, String>>| {
                let sender = sender.clone();
                let state = state.clone();
                async move {
                    let result = match (query.get("code"), query.get("error")) {
                        _ if query.get("state") != Some(&state) => {
                            return Html(page("Tautan ini tidak cocok dengan permintaan izin yang sedang berjalan. Ulangi `kicau x authorize`."));
                        }
                        (Some(code), None) => Ok(code.clone()),
                        (_, Some(error)) => Err(format!(
                            "{error}: {}",
                            query.get("error_description").map(String::as_str).unwrap_or("")
                        )),
                        (None, None) => Err("no code in the redirect".to_owned()),
                    };
                    let ok = result.is_ok();
                    let _ = sender.send(result).await;
                    Html(page(if ok {
                        "Kicau sudah mendapat izin untuk akun ini. Halaman ini boleh ditutup."
                    } else {
                        "Izin tidak diberikan. Lihat pesan di terminal."
                    }))
                }
            }),
        );
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Callback { receiver, server }
    }
}

/// Starts an authorization listening at `redirect_uri` first: with port 0 there, the port the
/// system gives replaces it in the redirect URI sent to X (useful against the sandbox, where
/// any loopback redirect is accepted; an app registered at X names a fixed one).
pub async fn begin_listening(
    authorize_base: &str,
    client_id: &str,
    redirect_uri: &str,
) -> Result<(Pending, Callback), AuthorizeError> {
    let (addr, path) = split_redirect(redirect_uri)?;
    let listener = bind(&addr).await?;
    let bound = listener
        .local_addr()
        .map_err(|source| AuthorizeError::Listen {
            addr: addr.clone(),
            source,
        })?;
    let redirect_uri = if addr.ends_with(":0") {
        format!("http://{bound}{path}")
    } else {
        redirect_uri.to_owned()
    };
    let pending = begin(authorize_base, client_id, &redirect_uri);
    let callback = pending.serve(listener, path);
    Ok((pending, callback))
}

async fn bind(addr: &str) -> Result<tokio::net::TcpListener, AuthorizeError> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| AuthorizeError::Listen {
            addr: addr.to_owned(),
            source,
        })
}

/// The listener at the redirect URI, waiting for the code.
pub struct Callback {
    receiver: mpsc::Receiver<Result<String, String>>,
    server: tokio::task::JoinHandle<()>,
}

impl Callback {
    /// The code, once the browser came back (or an error after `timeout`).
    pub async fn code(mut self, timeout: Duration) -> Result<String, AuthorizeError> {
        let outcome = tokio::time::timeout(timeout, self.receiver.recv()).await;
        self.server.abort();
        match outcome {
            Err(_) => Err(AuthorizeError::Timeout(timeout.as_secs())),
            Ok(None) => Err(AuthorizeError::Denied("the listener stopped".into())),
            Ok(Some(Ok(code))) => Ok(code),
            Ok(Some(Err(error))) => Err(AuthorizeError::Denied(error)),
        }
    }
}

/// Plays the person's part against the sandbox, whose account holder always agrees: opens the
/// authorize URL and reads the code from the redirect it answers with.
pub async fn consent_in_sandbox(pending: &Pending) -> Result<String, AuthorizeError> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| AuthorizeError::Follow(e.to_string()))?;
    let response = http
        .get(&pending.url)
        .send()
        .await
        .map_err(|e| AuthorizeError::Follow(e.to_string()))?;
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| AuthorizeError::Follow(format!("no redirect ({})", response.status())))?;
    let url = reqwest::Url::parse(location).map_err(|e| AuthorizeError::Follow(e.to_string()))?;
    let query: HashMap<String, String> = url.query_pairs().into_owned().collect();
    if query.get("state") != Some(&pending.state) {
        return Err(AuthorizeError::Follow("the state came back changed".into()));
    }
    match (query.get("code"), query.get("error")) {
        (Some(code), _) => Ok(code.clone()),
        (None, Some(error)) => Err(AuthorizeError::Denied(error.clone())),
        (None, None) => Err(AuthorizeError::Follow("no code in the redirect".into())),
    }
}

/// `http://127.0.0.1:8085/callback` -> ("127.0.0.1:8085", "/callback").
fn split_redirect(uri: &str) -> Result<(String, String), AuthorizeError> {
    let url = reqwest::Url::parse(uri).map_err(|_| AuthorizeError::RedirectUri(uri.into()))?;
    if url.scheme() != "http" {
        return Err(AuthorizeError::RedirectUri(uri.into()));
    }
    let host = url
        .host_str()
        .ok_or_else(|| AuthorizeError::RedirectUri(uri.into()))?;
    let port = url
        .port_or_known_default()
        .ok_or_else(|| AuthorizeError::RedirectUri(uri.into()))?;
    let host = if host == "localhost" {
        "127.0.0.1"
    } else {
        host
    };
    Ok((format!("{host}:{port}"), url.path().to_owned()))
}

fn page(message: &str) -> String {
    format!(
        "<!doctype html><html lang=\"id\"><meta charset=\"utf-8\"><title>Kicau</title>\
         <body style=\"font-family:sans-serif;max-width:40em;margin:3em auto\"><p>{}</p></body></html>",
        message.replace('&', "&amp;").replace('<', "&lt;")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_split_into_listen_address_and_path() {
        assert_eq!(
            split_redirect("http://127.0.0.1:8085/callback").unwrap(),
            ("127.0.0.1:8085".to_owned(), "/callback".to_owned())
        );
        assert_eq!(
            split_redirect("http://localhost:9000/x/cb").unwrap(),
            ("127.0.0.1:9000".to_owned(), "/x/cb".to_owned())
        );
        assert!(split_redirect("https://example.org/cb").is_err());
        assert!(split_redirect("not a url").is_err());
    }

    #[test]
    fn begin_makes_a_pkce_url_with_state() {
        let pending = begin(
            "http://127.0.0.1:1/i/oauth2/authorize",
            "cid",
            "http://127.0.0.1:2/cb",
        );
        assert!(pending.url.contains("code_challenge_method=S256"));
        assert!(pending.url.contains(&format!("state={}", pending.state)));
        assert!(!pending.url.contains(&pending.verifier));
    }
}
