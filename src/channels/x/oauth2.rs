//! OAuth 2.0 user context, the alternative to OAuth 1.0a: PKCE S256, the Basic authorization of a
//! confidential client, the code exchange, and a [`Session`] that hands out a valid access token,
//! refreshing it with the rotating refresh token kept in the database.
//!
//! X invalidates a refresh token once it is used. So a refresh happens under a lock, and its
//! result is written to the database before the access token is used; a process that finds the
//! stored refresh token changed under it (another instance refreshed first) takes the stored
//! tokens instead of refreshing again.

use std::time::Duration;

use base64::Engine as _;
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// The scopes Kicau asks for: read mentions and users, post and delete, and a refresh token.
pub const SCOPES: &str = "tweet.read tweet.write users.read offline.access";

/// An access token is refreshed when less than this is left of it.
const REFRESH_MARGIN_MS: i64 = 60_000;

/// The PKCE S256 challenge of a code verifier: base64url(SHA-256(verifier)) without padding.
pub fn code_challenge(verifier: &str) -> String {
    let digest = Sha256::digest(verifier.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
}

/// A fresh code verifier: 64 characters from the unreserved set (RFC 7636 allows 43 to 128).
pub fn new_code_verifier() -> String {
    use rand::Rng as _;
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
    let mut rng = rand::rng();
    (0..64)
        .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
        .collect()
}

/// `Authorization: Basic base64(client_id:client_secret)` for the token endpoint.
pub fn basic_authorization(client_id: &str, client_secret: &str) -> String {
    let pair = format!("{client_id}:{client_secret}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

/// The authorize URL a person opens once to let the bot act as the account (scopes include
/// `offline.access`, so a refresh token comes back).
pub fn authorize_url(
    authorize_base: &str,
    client_id: &str,
    redirect_uri: &str,
    state: &str,
    verifier: &str,
) -> String {
    use super::oauth1::percent_encode as enc;
    format!(
        "{authorize_base}?response_type=code&client_id={}&redirect_uri={}&scope={}&state={}\
         &code_challenge={}&code_challenge_method=S256",
        enc(client_id),
        enc(redirect_uri),
        enc(SCOPES),
        enc(state),
        code_challenge(verifier)
    )
}

/// Why getting a token failed.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// No token was ever stored: a person must authorize once.
    #[error("no OAuth 2.0 token for @{0} in the database: run `kicau x authorize` once")]
    NotAuthorized(String),
    /// The token endpoint refused (a used or revoked refresh token, a wrong client secret...).
    #[error("the token endpoint refused ({status}): {detail}; run `kicau x authorize` again")]
    Refused { status: u16, detail: String },
    /// The token endpoint could not be reached or answered with a server error: try later.
    #[error("the token endpoint is unavailable: {0}")]
    Unavailable(String),
    /// The token store (the database) failed.
    #[error("the token store: {0}")]
    Store(String),
}

/// The account's OAuth 2.0 tokens. Secrets: never logged, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct XToken {
    pub access_token: String,
    /// Milliseconds since the epoch.
    pub access_expires_at: i64,
    pub refresh_token: Option<String>,
    pub scope: String,
    pub updated_at: i64,
}

impl std::fmt::Debug for XToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XToken")
            .field("access_token", &"***")
            .field("access_expires_at", &self.access_expires_at)
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "***"))
            .field("scope", &self.scope)
            .finish()
    }
}

/// What a token store's calls return: a boxed future, so that the store can be a trait object.
pub type TokenFuture<'a, T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, String>> + Send + 'a>>;

/// Where a session keeps the account's tokens: shared by every instance of the bot (the
/// database, implemented in `run::x_auth`), because X rotates the refresh token at each use and
/// a lost one means a person must authorize again.
pub trait TokenStore: Send + Sync {
    /// The account's stored tokens, if it was ever authorized.
    fn load<'a>(&'a self, account: &'a str) -> TokenFuture<'a, Option<XToken>>;
    /// Stores tokens, replacing whatever was there.
    fn replace<'a>(&'a self, account: &'a str, token: &'a XToken) -> TokenFuture<'a, ()>;
    /// Stores tokens obtained with the refresh token `used`, unless another instance replaced
    /// that refresh token meanwhile (then nothing changes and false comes back).
    fn rotate<'a>(
        &'a self,
        account: &'a str,
        used: &'a str,
        token: &'a XToken,
    ) -> TokenFuture<'a, bool>;
}

/// Milliseconds since the epoch.
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The token endpoint's answer (X's fields: `token_type`, `access_token`, `expires_in`, `scope`,
/// `refresh_token`).
#[derive(Deserialize)]
struct TokenResponse {
    token_type: String,
    access_token: String,
    expires_in: Option<i64>,
    #[serde(default)]
    scope: String,
    refresh_token: Option<String>,
}

impl TokenResponse {
    fn into_token(self) -> Result<XToken, TokenError> {
        if !self.token_type.eq_ignore_ascii_case("bearer") {
            return Err(TokenError::Refused {
                status: 200,
                detail: format!("unexpected token_type {:?}", self.token_type),
            });
        }
        let now = now_ms();
        Ok(XToken {
            access_token: self.access_token,
            access_expires_at: now + self.expires_in.unwrap_or(7200) * 1000,
            refresh_token: self.refresh_token,
            scope: self.scope,
            updated_at: now,
        })
    }
}

/// A confidential OAuth 2.0 client of X: its id, secret and token endpoint.
#[derive(Clone)]
pub struct Client {
    pub client_id: String,
    pub client_secret: String,
    /// `https://api.x.com/2/oauth2/token`, or the sandbox's.
    pub token_url: String,
    http: reqwest::Client,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("client_id", &self.client_id)
            .field("token_url", &self.token_url)
            .finish()
    }
}

impl Client {
    pub fn new(client_id: &str, client_secret: &str, token_url: &str) -> Client {
        Client {
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            token_url: token_url.to_owned(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .connect_timeout(Duration::from_secs(5))
                .build()
                .expect("a reqwest client with rustls builds"),
        }
    }

    /// Exchanges an authorization code (valid 30 seconds on X) for tokens.
    pub async fn exchange_code(
        &self,
        code: &str,
        redirect_uri: &str,
        verifier: &str,
    ) -> Result<XToken, TokenError> {
        self.token_request(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier),
            ("client_id", &self.client_id),
        ])
        .await
    }

    /// Uses a refresh token (which X then invalidates) for a new access and refresh token.
    pub async fn refresh(&self, refresh_token: &str) -> Result<XToken, TokenError> {
        self.token_request(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", &self.client_id),
        ])
        .await
    }

    async fn token_request(&self, form: &[(&str, &str)]) -> Result<XToken, TokenError> {
        let body = form
            .iter()
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    super::oauth1::percent_encode(k),
                    super::oauth1::percent_encode(v)
                )
            })
            .collect::<Vec<_>>()
            .join("&");
        let response = self
            .http
            .post(&self.token_url)
            .header(
                "Authorization",
                basic_authorization(&self.client_id, &self.client_secret),
            )
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(|e| TokenError::Unavailable(e.to_string()))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| TokenError::Unavailable(e.to_string()))?;
        if status.is_server_error() || status.as_u16() == 429 {
            return Err(TokenError::Unavailable(format!("HTTP {status}")));
        }
        if !status.is_success() {
            // The error body names the problem (`error`, `error_description`); it holds no token.
            let detail = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| {
                    let error = v["error"].as_str()?.to_owned();
                    let description = v["error_description"].as_str().unwrap_or("");
                    Some(format!("{error}: {description}"))
                })
                .unwrap_or_else(|| format!("HTTP {status}"));
            return Err(TokenError::Refused {
                status: status.as_u16(),
                detail,
            });
        }
        let parsed: TokenResponse = serde_json::from_str(&text)
            .map_err(|e| TokenError::Unavailable(format!("unreadable token response: {e}")))?;
        parsed.into_token()
    }
}

/// The account's OAuth 2.0 session: a valid access token on demand, refreshed through the
/// database-kept rotating refresh token.
pub struct Session {
    client: Client,
    store: Box<dyn TokenStore>,
    account: String,
    current: tokio::sync::Mutex<Option<XToken>>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("client", &self.client)
            .field("account", &self.account)
            .finish()
    }
}

impl Session {
    /// A session for `account` (the handle, as the tokens are stored under it).
    pub fn new(client: Client, store: impl TokenStore + 'static, account: &str) -> Session {
        Session {
            client,
            store: Box::new(store),
            account: account.to_owned(),
            current: tokio::sync::Mutex::new(None),
        }
    }

    /// A bearer token valid for at least another minute. `rejected` is the token X just
    /// answered 401 to, if any: it is not handed out again.
    pub async fn access_token(&self, rejected: Option<&str>) -> Result<String, TokenError> {
        let mut current = self.current.lock().await;
        let usable = |t: &XToken| {
            t.access_expires_at - now_ms() > REFRESH_MARGIN_MS
                && rejected != Some(t.access_token.as_str())
        };
        if let Some(token) = current.as_ref().filter(|t| usable(t)) {
            return Ok(token.access_token.clone());
        }
        // Another instance may have refreshed already.
        let stored = self
            .store
            .load(&self.account)
            .await
            .map_err(TokenError::Store)?
            .ok_or_else(|| TokenError::NotAuthorized(self.account.clone()))?;
        if usable(&stored) {
            let access = stored.access_token.clone();
            *current = Some(stored);
            return Ok(access);
        }
        let Some(refresh_token) = stored.refresh_token.clone() else {
            return Err(TokenError::NotAuthorized(self.account.clone()));
        };
        let fresh = match self.client.refresh(&refresh_token).await {
            Ok(fresh) => fresh,
            Err(TokenError::Refused { status, detail }) => {
                // Refused: if someone else rotated the token meanwhile, theirs is good.
                let again = self
                    .store
                    .load(&self.account)
                    .await
                    .map_err(TokenError::Store)?;
                if let Some(again) = again.filter(|t| usable(t)) {
                    let access = again.access_token.clone();
                    *current = Some(again);
                    return Ok(access);
                }
                return Err(TokenError::Refused { status, detail });
            }
            Err(e) => return Err(e),
        };
        let mut fresh = fresh;
        if fresh.refresh_token.is_none() {
            // X rotates; a server that does not keeps the old one valid.
            fresh.refresh_token = Some(refresh_token.clone());
        }
        if !self
            .store
            .rotate(&self.account, &refresh_token, &fresh)
            .await
            .map_err(TokenError::Store)?
        {
            tracing::warn!("the stored X refresh token changed during a refresh; keeping ours");
            self.store
                .replace(&self.account, &fresh)
                .await
                .map_err(TokenError::Store)?;
        }
        tracing::info!(
            expires_in_s = (fresh.access_expires_at - now_ms()) / 1000,
            "X access token refreshed"
        );
        let access = fresh.access_token.clone();
        *current = Some(fresh);
        Ok(access)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_matches_rfc_7636_appendix_b() {
        assert_eq!(
            code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn basic_authorization_matches_xs_documented_example() {
        assert_eq!(
            basic_authorization(
                "xvz1evFS4wEEPTGEFPHBog",
                "L8qq9PZyRg6ieKGEKhZolGC0vJWLw8iEJ88DRdyOg"
            ),
            "Basic eHZ6MWV2RlM0d0VFUFRHRUZQSEJvZzpMOHFxOVBaeVJnNmllS0dFS2hab2xHQzB2SldMdzhpRUo4OERSZHlPZw=="
        );
    }

    #[test]
    fn verifiers_are_valid_and_fresh() {
        let a = new_code_verifier();
        assert_eq!(a.len(), 64);
        assert_ne!(a, new_code_verifier());
        let url = authorize_url(
            "https://x.com/i/oauth2/authorize",
            "cid",
            "http://127.0.0.1/cb",
            "s1",
            &a,
        );
        assert!(url.contains("scope=tweet.read%20tweet.write%20users.read%20offline.access"));
        assert!(url.contains(&format!("code_challenge={}", code_challenge(&a))));
    }
}
