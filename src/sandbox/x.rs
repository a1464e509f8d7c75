/*!
The X API v2 stand-in: users, tweets, mentions, replies, OAuth 1.0a verification, OAuth 2.0
(authorize with PKCE, token exchange, rotating refresh tokens, bearer user tokens), rate-limit
headers, X's 403 rules, and fault injection. Shapes follow data/x-api/openapi-v2.159.json.
Media upload lives in x_media.rs, the pay-per-use counters in x_billing.rs, the field
vocabularies in x_fields.rs.

This module implements the published formats on its own (its own OAuth verification, its own
tweet-length rule), without the bot's client types, so that a mistake shared by the client and
the stand-in cannot hide.
*/

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::{Value, json};
use sha1::Sha1;

use crate::sandbox::common::{now_ms, percent_decode};
use crate::sandbox::control::{self, Controlled, Faults, once};
use crate::sandbox::x_billing::{Billing, Charge};
use crate::sandbox::x_fields::Vocabulary;
use crate::sandbox::x_media::{self, MediaStore};

/// X's epoch for time-based ids (2010-11-04T01:42:54.657Z).
const X_EPOCH_MS: u64 = 1_288_834_974_657;
/// How many of the newest mentions the mentions timeline reaches, as on X.
const MENTIONS_WINDOW: usize = 800;
/// How long X refuses the same text from the same author.
const DUPLICATE_WINDOW_MS: u64 = 24 * 3600 * 1000;

/// The sandbox's own credentials and limits (public values: they protect nothing).
#[derive(Debug, Clone)]
pub struct XSettings {
    /// The account's username, e.g. "PemkotMalang".
    pub account: String,
    /// The account's display name (`name`), e.g. "Pemkot Malang".
    pub account_name: String,
    pub consumer_key: String,
    pub consumer_secret: String,
    pub access_token: String,
    pub access_secret: String,
    /// Requests allowed per endpoint and caller in each window (the generous profile).
    pub rate_limit: u32,
    pub rate_window: Duration,
    /// X's published per-user limits per 15 minutes instead (reference/apis.md, 1.6).
    pub realistic: bool,
    /// The OAuth 2.0 client allowed to ask for the account's authorization.
    pub client_id: String,
    pub client_secret: String,
    /// How long an OAuth 2.0 access token lives (X: two hours).
    pub token_ttl: Duration,
    /// A bearer token the sandbox did not issue gets 401, as on X (else it reads as an app's).
    pub strict: bool,
}

/// How long an authorization code stays valid, as on X.
const CODE_TTL_MS: u64 = 30_000;

/// An authorization code waiting for its exchange.
#[derive(Debug, Clone)]
struct PendingCode {
    redirect_uri: String,
    challenge: String,
    method: String,
    scopes: Vec<String>,
    issued_ms: u64,
}

/// An OAuth 2.0 access token of the account.
#[derive(Debug, Clone)]
struct AccessGrant {
    scopes: Vec<String>,
    expires_ms: u64,
}

/// X's published per-user limits per 15 minutes, by route.
fn realistic_limit(route: &str) -> u32 {
    match route {
        "GET /2/users/:id/mentions" => 300,
        "POST /2/tweets" => 100,
        "DELETE /2/tweets/:id" => 50,
        "GET /2/users/me" => 75,
        "GET /2/users/by/username/:username" => 900,
        "GET /2/tweets/:id" => 900,
        _ => 900,
    }
}

/// A user of the sandbox.
#[derive(Debug, Clone)]
pub(super) struct User {
    pub(super) id: String,
    username: String,
    name: String,
}

#[derive(Debug, Clone)]
struct Tweet {
    id: u64,
    text: String,
    author_id: String,
    created_at_ms: u64,
    conversation_id: u64,
    in_reply_to_user_id: Option<String>,
    replied_to: Option<u64>,
    mentions: Vec<(usize, usize, String, String)>,
    media_keys: Vec<String>,
}

/// A fault to inject: the next `times` requests to `path` (a route pattern such as
/// `/2/users/:id/mentions`, or a literal path) with `method` (any when absent) wait `delay_ms`,
/// then fail with `status` or, without a status, proceed.
#[derive(Debug, Clone, Deserialize)]
pub struct Fault {
    #[serde(default)]
    pub method: Option<String>,
    pub path: String,
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default = "once")]
    pub times: u32,
    #[serde(default)]
    pub delay_ms: u64,
}

control::impl_fault!(Fault);

#[derive(Default)]
pub(super) struct Data {
    users: HashMap<String, User>,
    tweets: BTreeMap<u64, Tweet>,
    last_id: u64,
    faults: Faults<Fault>,
    /// (endpoint, caller) -> (window start ms, used).
    usage: HashMap<(String, String), (u64, u32)>,
    nonces: VecDeque<(u64, String)>,
    nonce_set: HashSet<String>,
    codes: HashMap<String, PendingCode>,
    access_tokens: HashMap<String, AccessGrant>,
    /// Live refresh tokens and their scopes; a used one is removed (rotation).
    refresh_tokens: HashMap<String, Vec<String>>,
    /// Uploads and the sample photos.
    pub(super) media: MediaStore,
    /// What the city's app would pay X.
    billing: Billing,
}

/// The shared state of one X sandbox.
#[derive(Clone)]
pub struct XSandbox {
    settings: Arc<XSettings>,
    pub(super) data: Arc<Mutex<Data>>,
}

/// Who is calling.
#[derive(Debug, Clone)]
pub(super) enum Caller {
    /// The account, through OAuth 1.0a or an OAuth 2.0 user token.
    Account,
    /// A citizen, through `Bearer sandbox-user:<username>`.
    Citizen(String),
    /// No user context (an app-only reader).
    App,
}

impl Caller {
    /// Whether X bills the request to the city's app: the account's and app-only requests are;
    /// citizens are the simulated public.
    fn billed(&self) -> bool {
        !matches!(self, Caller::Citizen(_))
    }
}

/// An X-style error response.
pub(super) struct Problem {
    pub(super) status: StatusCode,
    pub(super) body: Value,
}

impl Problem {
    pub(super) fn new(status: StatusCode, title: &str, detail: &str) -> Problem {
        Problem {
            status,
            body: json!({"title": title, "type": "about:blank", "status": status.as_u16(), "detail": detail}),
        }
    }

    pub(super) fn invalid(parameter: &str, value: &str, message: &str) -> Problem {
        Problem {
            status: StatusCode::BAD_REQUEST,
            body: json!({
                "errors": [{"parameters": {parameter: [value]}, "message": message}],
                "title": "Invalid Request",
                "detail": "One or more parameters to your request was invalid.",
                "type": "https://api.x.com/2/problems/invalid-request",
            }),
        }
    }

    fn unauthorized() -> Problem {
        Problem::new(StatusCode::UNAUTHORIZED, "Unauthorized", "Unauthorized")
    }

    fn forbidden(detail: &str) -> Problem {
        Problem::new(StatusCode::FORBIDDEN, "Forbidden", detail)
    }

    /// X's 403 for an app-only caller on an endpoint that needs a user.
    pub(super) fn app_only() -> Problem {
        Problem::forbidden(
            "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.  Supported authentication types are [OAuth 1.0a User Context, OAuth 2.0 User Context].",
        )
    }

    fn not_found(resource_type: &str, parameter: &str, value: &str) -> Problem {
        Problem {
            status: StatusCode::OK,
            body: json!({"errors": [{
                "value": value,
                "detail": format!("Could not find {resource_type} with {parameter}: [{value}]."),
                "title": "Not Found Error",
                "resource_type": resource_type,
                "parameter": parameter,
                "resource_id": value,
                "type": "https://api.x.com/2/problems/resource-not-found",
            }]}),
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body)).into_response();
        // A 200 that carries `errors[]` (a user or post not found) is plain JSON, as the spec
        // says; only error statuses are problem documents.
        if !self.status.is_success() {
            response.headers_mut().insert(
                "content-type",
                HeaderValue::from_static("application/problem+json"),
            );
        }
        response
    }
}

pub(super) type Reply = Result<Response, Problem>;

impl XSandbox {
    pub fn new(settings: XSettings) -> XSandbox {
        let sandbox = XSandbox {
            settings: Arc::new(settings),
            data: Arc::new(Mutex::new(Data::default())),
        };
        sandbox.reset();
        sandbox
    }

    /// Forgets everything but the account.
    pub fn reset(&self) {
        let mut data = self.data.lock().expect("sandbox lock");
        *data = Data::default();
        let account = self.account_user();
        data.users.insert(account.id.clone(), account);
    }

    /// The account's user id.
    pub fn account_id(&self) -> String {
        user_for(&self.settings.account).id
    }

    /// The account as a user, with its display name.
    fn account_user(&self) -> User {
        User {
            name: self.settings.account_name.clone(),
            ..user_for(&self.settings.account)
        }
    }

    /// The router: the X API paths and the control endpoints.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/2/users/me", get(users_me))
            .route("/2/users/by/username/{username}", get(user_by_username))
            .route("/2/users/{id}/mentions", get(mentions))
            .route("/2/users/{id}/tweets", get(user_tweets))
            .route("/2/tweets", post(create_tweet))
            .route("/2/tweets/{id}", get(tweet_by_id).delete(delete_tweet))
            .route("/i/oauth2/authorize", get(oauth2_authorize))
            .route("/2/oauth2/authorize", get(oauth2_authorize))
            .route("/2/oauth2/token", post(oauth2_token))
            .route("/2/oauth2/revoke", post(oauth2_revoke))
            .route("/sandbox", get(page))
            .route("/sandbox/x/usage", get(usage))
            .merge(x_media::routes())
            .merge(control::shared_routes(
                "/sandbox/reset",
                "/sandbox/x/faults",
            ))
            .layer(middleware::from_fn_with_state(
                self.clone(),
                limits_and_faults,
            ))
            .with_state(self.clone())
    }

    /// A new time-based id for a post or a media, as X's are.
    pub(super) fn next_id(&self, data: &mut Data) -> u64 {
        let now = now_ms();
        let id = (now.saturating_sub(X_EPOCH_MS)) << 22;
        let id = id.max(data.last_id + 1);
        data.last_id = id;
        id
    }

    /// Identifies the caller from the Authorization header.
    pub(super) fn caller(
        &self,
        method: &Method,
        uri: &str,
        headers: &HeaderMap,
    ) -> Result<Caller, Problem> {
        let host = headers
            .get("host")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("127.0.0.1")
            .to_owned();
        let Some(value) = headers.get("authorization").and_then(|v| v.to_str().ok()) else {
            return Ok(Caller::App);
        };
        if let Some(username) = value.strip_prefix("Bearer sandbox-user:") {
            if username.is_empty()
                || username.len() > 15
                || !username
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                return Err(Problem::unauthorized());
            }
            let mut data = self.data.lock().expect("sandbox lock");
            let user = user_for(username);
            data.users.entry(user.id.clone()).or_insert(user);
            return Ok(Caller::Citizen(username.to_owned()));
        }
        if let Some(token) = value.strip_prefix("Bearer ") {
            return self.bearer(method, uri, token);
        }
        if let Some(fields) = value.strip_prefix("OAuth ") {
            return self.verify_oauth(method, &host, uri, fields);
        }
        Err(Problem::unauthorized())
    }

    /// A bearer token: the account's OAuth 2.0 user token (valid, unexpired, with the scopes the
    /// endpoint needs), or else (unless strict) an app-only token, which X accepts for reading
    /// only.
    fn bearer(&self, method: &Method, uri: &str, token: &str) -> Result<Caller, Problem> {
        let data = self.data.lock().expect("sandbox lock");
        let Some(grant) = data.access_tokens.get(token) else {
            // One of this sandbox's user tokens from before a reset or restart: dead, as a
            // revoked token is on X. Any other bearer token is an app's.
            if token.starts_with("sbx-access-") || self.settings.strict {
                return Err(Problem::unauthorized());
            }
            return Ok(Caller::App);
        };
        if grant.expires_ms <= now_ms() {
            return Err(Problem::unauthorized());
        }
        let path = uri.split('?').next().unwrap_or(uri);
        // The spec's `security` per endpoint: media needs `media.write` alone.
        let mut needed = vec!["tweet.read", "users.read"];
        if path.starts_with("/2/media") {
            needed = vec!["media.write"];
        } else if *method != Method::GET && path.starts_with("/2/tweets") {
            needed.push("tweet.write");
        }
        let missing: Vec<&str> = needed
            .into_iter()
            .filter(|s| !grant.scopes.iter().any(|g| g == s))
            .collect();
        if !missing.is_empty() {
            return Err(Problem::forbidden(&format!(
                "Missing OAuth 2.0 scopes for this endpoint: {}",
                missing.join(", ")
            )));
        }
        Ok(Caller::Account)
    }

    /// Verifies an OAuth 1.0a signature the way X does: the keys must be the account's, the
    /// timestamp within five minutes, the nonce new, and the HMAC-SHA1 signature right.
    fn verify_oauth(
        &self,
        method: &Method,
        host: &str,
        uri: &str,
        fields: &str,
    ) -> Result<Caller, Problem> {
        let mut oauth: BTreeMap<String, String> = BTreeMap::new();
        for part in fields.split(',') {
            let Some((k, v)) = part.trim().split_once('=') else {
                return Err(Problem::unauthorized());
            };
            oauth.insert(percent_decode(k), percent_decode(v.trim_matches('"')));
        }
        let get = |k: &str| oauth.get(k).cloned().unwrap_or_default();
        let s = &self.settings;
        if get("oauth_consumer_key") != s.consumer_key
            || get("oauth_token") != s.access_token
            || get("oauth_signature_method") != "HMAC-SHA1"
        {
            return Err(Problem::unauthorized());
        }
        let timestamp: u64 = get("oauth_timestamp").parse().unwrap_or(0);
        if (now_ms() / 1000).abs_diff(timestamp) > 300 {
            return Err(Problem::unauthorized());
        }
        let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
        let mut params: Vec<(String, String)> = oauth
            .iter()
            .filter(|(k, _)| k.as_str() != "oauth_signature")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            params.push((percent_decode(k), percent_decode(v)));
        }
        let mut encoded: Vec<String> = params
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        encoded.sort();
        // The client signs the URL it calls, which is this server's (plain HTTP on loopback).
        let base_string = format!(
            "{}&{}&{}",
            method.as_str(),
            encode(&format!("http://{host}{path}")),
            encode(&encoded.join("&"))
        );
        let key = format!(
            "{}&{}",
            encode(&s.consumer_secret),
            encode(&s.access_secret)
        );
        let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(key.as_bytes()).expect("any key length");
        mac.update(base_string.as_bytes());
        let expected =
            base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        if get("oauth_signature") != expected {
            return Err(Problem::unauthorized());
        }
        let nonce = get("oauth_nonce");
        let mut data = self.data.lock().expect("sandbox lock");
        if nonce.is_empty() || data.nonce_set.contains(&nonce) {
            return Err(Problem::unauthorized());
        }
        let now = now_ms();
        data.nonce_set.insert(nonce.clone());
        data.nonces.push_back((now, nonce));
        while let Some((at, _)) = data.nonces.front() {
            if now - at <= 600_000 {
                break;
            }
            let (_, old) = data.nonces.pop_front().expect("front exists");
            data.nonce_set.remove(&old);
        }
        Ok(Caller::Account)
    }
}

/// A citizen's id is derived from the username, so it is the same after a restart.
pub(super) fn user_for(username: &str) -> User {
    let hash = crate::sandbox::common::stable_hash(username.to_ascii_lowercase().as_bytes());
    User {
        id: (hash % 9_000_000_000_000_000 + 1_000_000_000_000_000).to_string(),
        username: username.to_owned(),
        name: username.to_owned(),
    }
}

fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

// --- Rate limits and faults -------------------------------------------------------------------

/// Every response carries X's rate-limit headers; past the limit a 429 in X's problem format
/// (no Retry-After). Injected faults fail or delay the next matching requests first.
async fn limits_and_faults(
    State(sandbox): State<XSandbox>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    if path.starts_with("/sandbox") {
        return next.run(request).await;
    }
    let route = route_of(&path);
    let fault = sandbox.data.lock().expect("sandbox lock").faults.take(|f| {
        control::method_hits(f.method.as_deref(), method.as_str())
            && (f.path == route || f.path == path)
    });
    let (window, limit) = if sandbox.settings.realistic {
        (
            15 * 60 * 1000,
            realistic_limit(&format!("{method} {route}")),
        )
    } else {
        (
            sandbox.settings.rate_window.as_millis() as u64,
            sandbox.settings.rate_limit,
        )
    };
    let caller = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            let user_token = v.strip_prefix("Bearer ").is_some_and(|t| {
                let data = sandbox.data.lock().expect("sandbox lock");
                data.access_tokens.contains_key(t)
            });
            if v.starts_with("OAuth ") || user_token {
                "account".to_owned()
            } else {
                v.to_owned()
            }
        })
        .unwrap_or_else(|| "app".to_owned());
    let (remaining, reset_s) = {
        let mut data = sandbox.data.lock().expect("sandbox lock");
        let now = now_ms();
        let slot = data
            .usage
            .entry((format!("{method} {route}"), caller))
            .or_insert((now, 0));
        if now - slot.0 >= window {
            *slot = (now, 0);
        }
        slot.1 += 1;
        (
            limit.saturating_sub(slot.1) as i64 - i64::from(slot.1 > limit),
            (slot.0 + window) / 1000,
        )
    };
    let mut response = match fault {
        Some(fault) => {
            control::pause(&fault).await;
            match fault.status {
                Some(429) => too_many(),
                Some(status) => {
                    let status =
                        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                    let reason = status.canonical_reason().unwrap_or("Error");
                    Problem::new(status, reason, reason).into_response()
                }
                None => next.run(request).await,
            }
        }
        None if remaining < 0 => too_many(),
        None => next.run(request).await,
    };
    // An injected 429 resets a few seconds ahead, so a client's wait stays short in tests; any
    // 429 says no request is left, as X's do.
    let limited = response.status() == StatusCode::TOO_MANY_REQUESTS;
    let reset = if limited && remaining >= 0 {
        now_ms() / 1000 + 2
    } else {
        reset_s
    };
    let remaining = if limited { 0 } else { remaining.max(0) };
    let headers = response.headers_mut();
    headers.insert("x-rate-limit-limit", HeaderValue::from(limit));
    headers.insert("x-rate-limit-remaining", HeaderValue::from(remaining));
    headers.insert("x-rate-limit-reset", HeaderValue::from(reset));
    response
}

fn too_many() -> Response {
    Problem::new(
        StatusCode::TOO_MANY_REQUESTS,
        "Too Many Requests",
        "Too Many Requests",
    )
    .into_response()
}

/// The route pattern a path belongs to, for limits and faults.
fn route_of(path: &str) -> String {
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
        ["", "2", "users", "me"] => "/2/users/me".into(),
        ["", "2", "users", "by", "username", _] => "/2/users/by/username/:username".into(),
        ["", "2", "users", _, "mentions"] => "/2/users/:id/mentions".into(),
        ["", "2", "users", _, "tweets"] => "/2/users/:id/tweets".into(),
        ["", "2", "tweets"] => "/2/tweets".into(),
        ["", "2", "tweets", _] => "/2/tweets/:id".into(),
        ["", "2", "media", "upload", "initialize"] => "/2/media/upload/initialize".into(),
        ["", "2", "media", "upload", _, "append"] => "/2/media/upload/:id/append".into(),
        ["", "2", "media", "upload", _, "finalize"] => "/2/media/upload/:id/finalize".into(),
        _ => path.to_owned(),
    }
}

// --- OAuth 2.0 ---------------------------------------------------------------------------------

/// OAuth's error body (RFC 6749, 5.2), as X's token endpoint answers.
fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        axum::Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

fn random_token(prefix: &str) -> String {
    use rand::Rng as _;
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    let tail: String = (0..40)
        .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
        .collect();
    format!("{prefix}{tail}")
}

/// The consent step. X shows the signed-in person a page with "Authorize app"; the sandbox's
/// account holder always agrees, so the browser goes straight back to the redirect URI with a
/// code (valid 30 seconds) and the `state` it was given.
async fn oauth2_authorize(
    State(sandbox): State<XSandbox>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| query.get(k).map(String::as_str).unwrap_or("");
    let bad = |message: &str| {
        (
            StatusCode::BAD_REQUEST,
            Html(format!(
                "<!doctype html><meta charset=utf-8><title>X sandbox</title><p>{}</p>",
                message.replace('<', "&lt;")
            )),
        )
            .into_response()
    };
    if get("client_id") != sandbox.settings.client_id {
        return bad("Something went wrong: this app's client_id is unknown.");
    }
    let redirect_uri = get("redirect_uri");
    if !(redirect_uri.starts_with("http://") || redirect_uri.starts_with("https://")) {
        return bad("Something went wrong: redirect_uri is missing or not a URL.");
    }
    if get("response_type") != "code" {
        return bad("Something went wrong: response_type must be code.");
    }
    let state = get("state");
    if state.is_empty() || state.len() > 500 {
        return bad("Something went wrong: state is required (at most 500 characters).");
    }
    let method = match get("code_challenge_method") {
        "S256" => "S256",
        "plain" => "plain",
        _ => return bad("Something went wrong: code_challenge_method must be S256 or plain."),
    };
    let challenge = get("code_challenge");
    if challenge.is_empty() {
        return bad("Something went wrong: code_challenge is required.");
    }
    let scopes: Vec<String> = get("scope")
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if scopes.is_empty() {
        return bad("Something went wrong: scope is required.");
    }
    let code = random_token("sbx-code-");
    sandbox.data.lock().expect("sandbox lock").codes.insert(
        code.clone(),
        PendingCode {
            redirect_uri: redirect_uri.to_owned(),
            challenge: challenge.to_owned(),
            method: method.to_owned(),
            scopes,
            issued_ms: now_ms(),
        },
    );
    let separator = if redirect_uri.contains('?') { '&' } else { '?' };
    let location = format!(
        "{redirect_uri}{separator}state={}&code={}",
        encode(state),
        encode(&code)
    );
    (
        StatusCode::FOUND,
        [("location", location)],
        "Redirecting to the app",
    )
        .into_response()
}

/// `POST /2/oauth2/token`: a code (with its PKCE verifier) or a refresh token for tokens. The
/// client authenticates with HTTP Basic; a refresh token works once.
async fn oauth2_token(
    State(sandbox): State<XSandbox>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            sandbox.settings.client_id, sandbox.settings.client_secret
        ))
    );
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized_client",
            "Missing valid authorization header",
        );
    }
    let form: HashMap<String, String> = String::from_utf8_lossy(&body)
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect();
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    let mut data = sandbox.data.lock().expect("sandbox lock");
    let scopes = match get("grant_type") {
        "authorization_code" => {
            let Some(pending) = data.codes.remove(get("code")) else {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "Value passed for the authorization code was invalid.",
                );
            };
            if now_ms() - pending.issued_ms > CODE_TTL_MS {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "Value passed for the authorization code was invalid.",
                );
            }
            if pending.redirect_uri != get("redirect_uri") {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "Value passed for the redirect uri did not match the uri of the authorization code.",
                );
            }
            let verifier = get("code_verifier");
            let derived = if pending.method == "S256" {
                use sha2::Digest as _;
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .encode(sha2::Sha256::digest(verifier.as_bytes()))
            } else {
                verifier.to_owned()
            };
            if verifier.is_empty() || derived != pending.challenge {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "Value passed for the code verifier did not match the code challenge.",
                );
            }
            pending.scopes
        }
        "refresh_token" => match data.refresh_tokens.remove(get("refresh_token")) {
            Some(scopes) => scopes,
            None => {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "Value passed for the token was invalid.",
                );
            }
        },
        other => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                &format!("Unsupported grant type: {other:?}"),
            );
        }
    };
    let access = random_token("sbx-access-");
    let ttl = sandbox.settings.token_ttl;
    data.access_tokens.insert(
        access.clone(),
        AccessGrant {
            scopes: scopes.clone(),
            expires_ms: now_ms() + ttl.as_millis() as u64,
        },
    );
    let mut answer = json!({
        "token_type": "bearer",
        "expires_in": ttl.as_secs(),
        "access_token": access,
        "scope": scopes.join(" "),
    });
    if scopes.iter().any(|s| s == "offline.access") {
        let refresh = random_token("sbx-refresh-");
        data.refresh_tokens.insert(refresh.clone(), scopes);
        answer["refresh_token"] = json!(refresh);
    }
    (StatusCode::OK, axum::Json(answer)).into_response()
}

/// `POST /2/oauth2/revoke`: forgets an access or refresh token.
async fn oauth2_revoke(State(sandbox): State<XSandbox>, body: Bytes) -> Response {
    let form = String::from_utf8_lossy(&body).into_owned();
    let token = form
        .split('&')
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| *k == "token")
        .map(|(_, v)| percent_decode(v))
        .unwrap_or_default();
    let mut data = sandbox.data.lock().expect("sandbox lock");
    // A revoked access token stays known, so using it gets X's 401 (not an app-only reading).
    let access = data
        .access_tokens
        .get_mut(&token)
        .map(|grant| grant.expires_ms = 0);
    let revoked = access.is_some() | data.refresh_tokens.remove(&token).is_some();
    (StatusCode::OK, axum::Json(json!({"revoked": revoked}))).into_response()
}

// --- Users ------------------------------------------------------------------------------------

async fn users_me(
    State(sandbox): State<XSandbox>,
    method: Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Reply {
    let caller = sandbox.caller(&method, &uri_string(&uri), &headers)?;
    let user = match &caller {
        Caller::Account => sandbox.account_user(),
        Caller::Citizen(name) => user_for(name),
        Caller::App => return Err(Problem::app_only()),
    };
    let body = json!({"data": user_json(&user)});
    let mut data = sandbox.data.lock().expect("sandbox lock");
    bill(&mut data, &caller, &body, Charge::UsersRead);
    Ok(json_ok(body))
}

async fn user_by_username(
    State(sandbox): State<XSandbox>,
    Path(username): Path<String>,
    method: Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Reply {
    let caller = sandbox.caller(&method, &uri_string(&uri), &headers)?;
    let mut data = sandbox.data.lock().expect("sandbox lock");
    let found = data
        .users
        .values()
        .find(|u| u.username.eq_ignore_ascii_case(&username))
        .cloned();
    match found {
        Some(user) => {
            let body = json!({"data": user_json(&user)});
            bill(&mut data, &caller, &body, Charge::UsersRead);
            Ok(json_ok(body))
        }
        None => Ok(Problem::not_found("user", "username", &username).into_response()),
    }
}

/// Bills what a successful read answered to the city's app (x_billing.rs); citizens' reads
/// are not billed.
fn bill(data: &mut Data, caller: &Caller, body: &Value, primary: Charge) {
    if caller.billed() {
        data.billing.charge_read(now_ms(), body, primary);
    }
}

/// `GET /sandbox/x/usage`: what X would bill the city's app, by UTC day.
async fn usage(State(sandbox): State<XSandbox>) -> Response {
    json_ok(sandbox.data.lock().expect("sandbox lock").billing.usage())
}

fn user_json(user: &User) -> Value {
    json!({"id": user.id, "name": user.name, "username": user.username})
}

// --- Timelines --------------------------------------------------------------------------------

/// Query parameters of the timelines, with both spellings of the field parameters.
#[derive(Debug, Default, Deserialize)]
struct TimelineQuery {
    since_id: Option<String>,
    until_id: Option<String>,
    max_results: Option<String>,
    pagination_token: Option<String>,
    expansions: Option<String>,
    #[serde(rename = "tweet.fields")]
    tweet_fields: Option<String>,
    #[serde(rename = "post.fields")]
    post_fields: Option<String>,
    // Users always carry id, name and username, and media their key, type and URL: the
    // parameters are checked and need no further fields.
    #[serde(rename = "user.fields")]
    user_fields: Option<String>,
    #[serde(rename = "media.fields")]
    media_fields: Option<String>,
}

impl TimelineQuery {
    /// The vocabulary to answer in, or X's 400 for field and expansion values outside the
    /// spec's enumerations.
    fn vocabulary(&self) -> Result<Vocabulary, Problem> {
        let refused = super::x_fields::invalid_values(&[
            ("tweet.fields", self.tweet_fields.as_deref()),
            ("post.fields", self.post_fields.as_deref()),
            ("expansions", self.expansions.as_deref()),
            ("user.fields", self.user_fields.as_deref()),
            ("media.fields", self.media_fields.as_deref()),
        ]);
        if let Some(body) = refused {
            return Err(Problem {
                status: StatusCode::BAD_REQUEST,
                body,
            });
        }
        let expansions: Vec<&str> = self
            .expansions
            .iter()
            .flat_map(|e| e.split(','))
            .map(str::trim)
            .collect();
        Ok(Vocabulary::of(self.post_fields.is_some(), &expansions))
    }

    fn media_fields(&self) -> HashSet<String> {
        self.media_fields
            .iter()
            .flat_map(|f| f.split(','))
            .map(|f| f.trim().to_owned())
            .collect()
    }

    fn fields(&self) -> HashSet<String> {
        self.tweet_fields
            .iter()
            .chain(&self.post_fields)
            .flat_map(|f| f.split(','))
            .map(|f| f.trim().to_owned())
            .collect()
    }

    fn expansions(&self) -> HashSet<String> {
        self.expansions
            .iter()
            .flat_map(|f| f.split(','))
            .map(|f| match f.trim() {
                "referenced_posts" | "referenced_posts.id" => "referenced_tweets.id".to_owned(),
                other => other.to_owned(),
            })
            .collect()
    }

    fn max_results(&self) -> Result<usize, Problem> {
        let Some(raw) = &self.max_results else {
            return Ok(10);
        };
        match raw.parse::<usize>() {
            Ok(n) if (5..=100).contains(&n) => Ok(n),
            _ => Err(Problem::invalid(
                "max_results",
                raw,
                &format!(
                    "The `max_results` query parameter value [{raw}] is not between 5 and 100"
                ),
            )),
        }
    }

    fn id(&self, name: &str, value: &Option<String>) -> Result<Option<u64>, Problem> {
        match value {
            None => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| {
                Problem::invalid(
                    name,
                    v,
                    &format!("The `{name}` query parameter value [{v}] is not valid"),
                )
            }),
        }
    }
}

async fn mentions(
    State(sandbox): State<XSandbox>,
    Path(id): Path<String>,
    Query(query): Query<TimelineQuery>,
    method: Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Reply {
    let caller = sandbox.caller(&method, &uri_string(&uri), &headers)?;
    let mut data = sandbox.data.lock().expect("sandbox lock");
    let Some(user) = data.users.get(&id).cloned() else {
        return Ok(Problem::not_found("user", "id", &id).into_response());
    };
    // Newest first; only the 800 most recent mentions are reachable, as on X.
    let all: Vec<&Tweet> = data
        .tweets
        .values()
        .rev()
        .filter(|t| t.mentions.iter().any(|m| m.3 == user.id))
        .take(MENTIONS_WINDOW)
        .collect();
    let body = timeline(&data, &query, all)?;
    // X bills the account's own mentions at the lower rate; another user's are post reads.
    let charge = if user.id == sandbox.account_id() {
        Charge::OwnMentionsRead
    } else {
        Charge::PostsRead
    };
    bill(&mut data, &caller, &body, charge);
    Ok(json_ok(body))
}

async fn user_tweets(
    State(sandbox): State<XSandbox>,
    Path(id): Path<String>,
    Query(query): Query<TimelineQuery>,
    method: Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Reply {
    let caller = sandbox.caller(&method, &uri_string(&uri), &headers)?;
    let mut data = sandbox.data.lock().expect("sandbox lock");
    if !data.users.contains_key(&id) {
        return Ok(Problem::not_found("user", "id", &id).into_response());
    }
    let all: Vec<&Tweet> = data
        .tweets
        .values()
        .rev()
        .filter(|t| t.author_id == id)
        .collect();
    let body = timeline(&data, &query, all)?;
    bill(&mut data, &caller, &body, Charge::PostsRead);
    Ok(json_ok(body))
}

/// One page of a newest-first timeline, with X's `meta` and `includes`.
fn timeline(data: &Data, query: &TimelineQuery, all: Vec<&Tweet>) -> Result<Value, Problem> {
    let max = query.max_results()?;
    let since = query.id("since_id", &query.since_id)?;
    let until = query.id("until_id", &query.until_id)?;
    let before: Option<u64> = match &query.pagination_token {
        None => None,
        Some(token) => Some(decode_token(token).ok_or_else(|| {
            Problem::invalid(
                "pagination_token",
                token,
                "The `pagination_token` query parameter value is not valid",
            )
        })?),
    };
    let selected: Vec<&Tweet> = all
        .into_iter()
        .filter(|t| since.is_none_or(|s| t.id > s))
        .filter(|t| until.is_none_or(|u| t.id < u))
        .filter(|t| before.is_none_or(|b| t.id < b))
        .collect();
    let page: Vec<&Tweet> = selected.iter().take(max).copied().collect();
    if page.is_empty() {
        return Ok(json!({"meta": {"result_count": 0}}));
    }
    let vocabulary = query.vocabulary()?;
    let fields = query.fields();
    let mut meta = json!({
        "result_count": page.len(),
        "newest_id": page.first().map(|t| t.id.to_string()),
        "oldest_id": page.last().map(|t| t.id.to_string()),
    });
    if selected.len() > page.len() {
        meta["next_token"] = json!(encode_token(page.last().expect("non-empty").id));
    }
    let mut body = json!({
        "data": page.iter().map(|t| tweet_json(t, &fields, vocabulary)).collect::<Vec<_>>(),
        "meta": meta,
    });
    let includes = includes(data, &page, query, vocabulary);
    if !includes.as_object().is_some_and(|o| o.is_empty()) {
        body["includes"] = includes;
    }
    Ok(body)
}

/// The `includes` of an answer carrying `page`: the expansions `query` asks for.
fn includes(data: &Data, page: &[&Tweet], query: &TimelineQuery, vocabulary: Vocabulary) -> Value {
    let expansions = query.expansions();
    let mut out = serde_json::Map::new();
    if expansions.contains("author_id") {
        let mut seen = HashSet::new();
        let users: Vec<Value> = page
            .iter()
            .filter(|t| seen.insert(t.author_id.clone()))
            .filter_map(|t| data.users.get(&t.author_id))
            .map(user_json)
            .collect();
        if !users.is_empty() {
            out.insert("users".into(), Value::Array(users));
        }
    }
    if expansions.contains("referenced_tweets.id") {
        let tweets: Vec<Value> = page
            .iter()
            .filter_map(|t| t.replied_to)
            .filter_map(|id| data.tweets.get(&id))
            .map(|t| tweet_json(t, &HashSet::new(), vocabulary))
            .collect();
        if !tweets.is_empty() {
            out.insert(vocabulary.name("tweets").into(), Value::Array(tweets));
        }
    }
    if expansions.contains("attachments.media_keys") {
        let fields = query.media_fields();
        let mut seen = HashSet::new();
        let media: Vec<Value> = page
            .iter()
            .flat_map(|t| t.media_keys.iter())
            .filter(|key| seen.insert(key.as_str()))
            .map(|key| data.media.describe(key, &fields))
            .collect();
        if !media.is_empty() {
            out.insert("media".into(), Value::Array(media));
        }
    }
    Value::Object(out)
}

/// A tweet with the default fields (`id`, `text`, `edit_history_tweet_ids`) and those asked for,
/// named in `vocabulary`.
fn tweet_json(t: &Tweet, fields: &HashSet<String>, vocabulary: Vocabulary) -> Value {
    let mut v = json!({
        "id": t.id.to_string(),
        "text": t.text,
    });
    v[vocabulary.name("edit_history_tweet_ids")] = json!([t.id.to_string()]);
    let want = |f: &str| fields.contains(f);
    if want("author_id") {
        v["author_id"] = json!(t.author_id);
    }
    if want("created_at") {
        v["created_at"] = json!(rfc3339(t.created_at_ms));
    }
    if want("conversation_id") {
        v["conversation_id"] = json!(t.conversation_id.to_string());
    }
    if want("in_reply_to_user_id")
        && let Some(user) = &t.in_reply_to_user_id
    {
        v["in_reply_to_user_id"] = json!(user);
    }
    if (want("referenced_tweets") || want("referenced_posts"))
        && let Some(id) = t.replied_to
    {
        v[vocabulary.name("referenced_tweets")] =
            json!([{"type": "replied_to", "id": id.to_string()}]);
    }
    if want("entities") && !t.mentions.is_empty() {
        v["entities"] = json!({"mentions": t.mentions.iter().map(|(start, end, username, id)| {
            json!({"start": start, "end": end, "username": username, "id": id})
        }).collect::<Vec<_>>()});
    }
    if want("attachments") && !t.media_keys.is_empty() {
        v["attachments"] = json!({"media_keys": t.media_keys});
    }
    v
}

fn encode_token(id: u64) -> String {
    format!("sbx{id:x}")
}

fn decode_token(token: &str) -> Option<u64> {
    u64::from_str_radix(token.strip_prefix("sbx")?, 16).ok()
}

fn rfc3339(ms: u64) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.millisecond()
    )
}

// --- Tweets -----------------------------------------------------------------------------------

async fn tweet_by_id(
    State(sandbox): State<XSandbox>,
    Path(id): Path<String>,
    Query(query): Query<TimelineQuery>,
    method: Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Reply {
    let caller = sandbox.caller(&method, &uri_string(&uri), &headers)?;
    let mut data = sandbox.data.lock().expect("sandbox lock");
    let tweet = id.parse::<u64>().ok().and_then(|n| data.tweets.get(&n));
    let Some(t) = tweet else {
        return Ok(Problem::not_found("tweet", "id", &id).into_response());
    };
    let vocabulary = query.vocabulary()?;
    let mut body = json!({"data": tweet_json(t, &query.fields(), vocabulary)});
    let includes = includes(&data, &[t], &query, vocabulary);
    if !includes.as_object().is_some_and(|o| o.is_empty()) {
        body["includes"] = includes;
    }
    bill(&mut data, &caller, &body, Charge::PostsRead);
    Ok(json_ok(body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateTweet {
    text: Option<String>,
    reply: Option<ReplyTo>,
    media: Option<MediaIds>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplyTo {
    in_reply_to_tweet_id: String,
    // Documented keys the sandbox accepts and has no use for.
    #[serde(default, rename = "exclude_reply_user_ids")]
    _exclude_reply_user_ids: Vec<String>,
    #[serde(default, rename = "auto_populate_reply_metadata")]
    _auto_populate_reply_metadata: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MediaIds {
    media_ids: Vec<String>,
    #[serde(default, rename = "tagged_user_ids")]
    _tagged_user_ids: Vec<String>,
}

async fn create_tweet(
    State(sandbox): State<XSandbox>,
    method: Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let caller = sandbox.caller(&method, &uri_string(&uri), &headers)?;
    let author = match &caller {
        Caller::Account => sandbox.account_user(),
        Caller::Citizen(name) => user_for(name),
        Caller::App => return Err(Problem::app_only()),
    };
    let request: CreateTweet = serde_json::from_slice(&body).map_err(|e| Problem {
        status: StatusCode::BAD_REQUEST,
        body: json!({"errors": [{"message": e.to_string()}], "title": "Invalid Request",
                     "detail": "One or more parameters to your request was invalid.",
                     "type": "https://api.x.com/2/problems/invalid-request"}),
    })?;
    let text = request.text.unwrap_or_default();
    let now = now_ms();
    // The sample photos (anyone), or the author's own finalized uploads, as X allows them.
    let media_keys: Vec<String> = match &request.media {
        None => Vec::new(),
        Some(media) => {
            let data = sandbox.data.lock().expect("sandbox lock");
            data.media
                .attach(&media.media_ids, &author.id, now)
                .ok_or_else(|| {
                    Problem::invalid(
                        "media.media_ids",
                        &media.media_ids.join(","),
                        "Your media IDs are invalid.",
                    )
                })?
        }
    };
    if text.trim().is_empty() && media_keys.is_empty() {
        return Err(Problem::invalid("text", "", "Tweet text is empty"));
    }
    if weighted_length(&text) > 280 {
        return Err(Problem::forbidden(
            "Your Tweet text is too long. For more information on how Twitter determines text length see https://github.com/twitter/twitter-text.",
        ));
    }
    let mut data = sandbox.data.lock().expect("sandbox lock");
    data.users
        .entry(author.id.clone())
        .or_insert_with(|| author.clone());
    let duplicate = data
        .tweets
        .values()
        .rev()
        .take_while(|t| now - t.created_at_ms < DUPLICATE_WINDOW_MS)
        .any(|t| t.author_id == author.id && t.text == text && !text.is_empty());
    if duplicate {
        return Err(Problem::forbidden(
            "You are not allowed to create a Tweet with duplicate content.",
        ));
    }
    let mut summoned = false;
    let (replied_to, conversation_id, in_reply_to_user_id) = match &request.reply {
        None => (None, None, None),
        Some(reply) => {
            let Some(parent) = reply
                .in_reply_to_tweet_id
                .parse::<u64>()
                .ok()
                .and_then(|id| data.tweets.get(&id))
                .cloned()
            else {
                return Err(Problem::invalid(
                    "reply.in_reply_to_tweet_id",
                    &reply.in_reply_to_tweet_id,
                    "The Tweet you are replying to does not exist or has been deleted.",
                ));
            };
            // The account may reply only where it was summoned: the parent's author mentioned
            // it, or the parent is its own tweet (numbered threads).
            if matches!(caller, Caller::Account)
                && parent.author_id != author.id
                && !parent.mentions.iter().any(|m| m.3 == author.id)
            {
                return Err(Problem::forbidden(
                    "Reply to this conversation is not allowed because you have not been mentioned or otherwise engaged by the author of the post you are replying to.",
                ));
            }
            let account = sandbox.account_id();
            summoned =
                parent.author_id != account && parent.mentions.iter().any(|m| m.3 == account);
            (
                Some(parent.id),
                Some(parent.conversation_id),
                Some(parent.author_id.clone()),
            )
        }
    };
    let mentions = find_mentions(&text)
        .into_iter()
        .map(|(start, end, username)| {
            let user = user_for(&username);
            data.users
                .entry(user.id.clone())
                .or_insert_with(|| user.clone());
            (start, end, username, user.id)
        })
        .collect();
    let id = sandbox.next_id(&mut data);
    data.tweets.insert(
        id,
        Tweet {
            id,
            text: text.clone(),
            author_id: author.id.clone(),
            created_at_ms: now,
            conversation_id: conversation_id.unwrap_or(id),
            in_reply_to_user_id,
            replied_to,
            mentions,
            media_keys,
        },
    );
    if caller.billed() {
        // A URL costs the most, whatever the post is; else a summoned reply costs less than a
        // plain post.
        let charge = if has_url(&text) {
            Charge::PostsWithUrl
        } else if summoned {
            Charge::SummonedReplies
        } else {
            Charge::PostsCreated
        };
        data.billing.charge(now, charge, &id.to_string());
    }
    let mut response = (
        StatusCode::CREATED,
        axum::Json(json!({"data": {"id": id.to_string(), "text": text}})),
    )
        .into_response();
    response
        .headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    Ok(response)
}

async fn delete_tweet(
    State(sandbox): State<XSandbox>,
    Path(id): Path<String>,
    method: Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Reply {
    let caller = sandbox.caller(&method, &uri_string(&uri), &headers)?;
    let me = match caller {
        Caller::Account => user_for(&sandbox.settings.account).id,
        Caller::Citizen(name) => user_for(&name).id,
        Caller::App => {
            return Err(Problem::forbidden(
                "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.",
            ));
        }
    };
    let mut data = sandbox.data.lock().expect("sandbox lock");
    let key = id.parse::<u64>().ok();
    match key
        .and_then(|k| data.tweets.get(&k))
        .map(|t| t.author_id.clone())
    {
        Some(author) if author == me => {
            data.tweets.remove(&key.expect("parsed"));
            Ok(json_ok(json!({"data": {"deleted": true}})))
        }
        Some(_) => Err(Problem::forbidden(
            "You are not allowed to delete a Tweet that is not yours.",
        )),
        None => Ok(Problem::not_found("tweet", "id", &id).into_response()),
    }
}

/// @mentions in a text, as (start, end, username) in characters, end exclusive.
fn find_mentions(text: &str) -> Vec<(usize, usize, String)> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let boundary = i == 0
            || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_' || chars[i - 1] == '@');
        if chars[i] == '@' && boundary {
            let start = i;
            let mut j = i + 1;
            while j < chars.len()
                && j - i <= 15
                && (chars[j].is_ascii_alphanumeric() || chars[j] == '_')
            {
                j += 1;
            }
            if j > i + 1 {
                out.push((start, j, chars[i + 1..j].iter().collect()));
            }
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

/// Whether a word is a URL, as the sandbox's tweet length counts one: it starts with a scheme.
fn is_url(word: &str) -> bool {
    word.starts_with("http://") || word.starts_with("https://")
}

/// Whether a post's text contains a URL (X bills such posts as `posts_with_url`).
fn has_url(text: &str) -> bool {
    text.split_whitespace().any(is_url)
}

/// Tweet length by twitter-text v3 weights, computed here on its own: URLs 23, code points in
/// the light ranges 1, others 2 (emoji as one grapheme of 2 is approximated per code point).
fn weighted_length(text: &str) -> usize {
    let mut total = 0;
    for word in text.split_inclusive(char::is_whitespace) {
        let trimmed = word.trim_end();
        if is_url(trimmed) {
            total += 23 + (word.len() - trimmed.len());
            continue;
        }
        for c in word.chars() {
            let code = c as u32;
            let light = code <= 4351
                || (8192..=8205).contains(&code)
                || (8208..=8223).contains(&code)
                || (8242..=8247).contains(&code);
            total += if light || c == '\u{FE0F}' || c == '\u{200D}' {
                usize::from(light)
            } else {
                2
            };
        }
    }
    total
}

// --- Control ----------------------------------------------------------------------------------

impl Controlled for XSandbox {
    type Fault = Fault;

    fn forget(&self) {
        self.reset();
    }

    fn inject(&self, fault: Fault) {
        self.data.lock().expect("sandbox lock").faults.push(fault);
    }
}

/// A page to act as a citizen by hand: tweet to the account and watch the thread, for demos and
/// staff training. Everything shown is set with `textContent`, never parsed as HTML.
async fn page(State(sandbox): State<XSandbox>) -> Html<String> {
    let account = html_escape(&sandbox.settings.account);
    let account_id = html_escape(&sandbox.account_id());
    Html(
        SANDBOX_PAGE
            .replace("{account}", &account)
            .replace("{account_id}", &account_id),
    )
}

const SANDBOX_PAGE: &str = r#"<!doctype html>
<html lang="id"><head><meta charset="utf-8"><title>Sandbox Kicau</title>
<style>
body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#222}
textarea{width:100%;height:5rem}input,textarea,button{font-size:1rem}
li{margin:.6rem 0;padding:.5rem;border-left:4px solid #ccc;list-style:none}
li.bot{border-color:#2a7}small{color:#666}
</style></head>
<body>
<h1>Sandbox Kicau</h1>
<p>Tiruan X untuk latihan: tulis sebagai warga ke akun <b>@{account}</b>, lalu lihat balasan bot di bawah.</p>
<form id="tweet">
<label>Nama pengguna warga: <input id="user" value="warga1" pattern="[A-Za-z0-9_]{1,15}" required></label>
<p><textarea id="text" required>@{account} min syarat bikin kk baru apa aja?</textarea></p>
<button>Kirim tweet</button> <span id="status"></span>
</form>
<h2>Percakapan terbaru</h2>
<ul id="thread"></ul>
<script>
const account = "{account_id}";
const form = document.getElementById("tweet");
form.addEventListener("submit", async (e) => {
  e.preventDefault();
  const user = document.getElementById("user").value;
  const r = await fetch("/2/tweets", {method: "POST",
    headers: {"Authorization": "Bearer sandbox-user:" + user, "Content-Type": "application/json"},
    body: JSON.stringify({text: document.getElementById("text").value})});
  document.getElementById("status").textContent = r.status === 201 ? "Terkirim." : "Gagal: " + r.status;
  refresh();
});
async function timeline(path) {
  const r = await fetch(path + "?max_results=20&tweet.fields=created_at,author_id,referenced_tweets&expansions=author_id");
  const body = await r.json();
  const users = {};
  for (const u of (body.includes || {}).users || []) users[u.id] = u.username;
  return (body.data || []).map(t => ({...t, who: users[t.author_id] || (t.author_id === account ? "{account}" : "")}));
}
async function refresh() {
  const tweets = [...await timeline("/2/users/" + account + "/mentions"),
                  ...await timeline("/2/users/" + account + "/tweets")];
  tweets.sort((a, b) => (BigInt(b.id) > BigInt(a.id) ? 1 : -1));
  const list = document.getElementById("thread");
  list.replaceChildren();
  for (const t of tweets.slice(0, 30)) {
    const li = document.createElement("li");
    if (t.author_id === account) li.className = "bot";
    const who = document.createElement("small");
    who.textContent = "@" + (t.author_id === account ? "{account}" : t.who) + " · " + (t.created_at || "");
    const text = document.createElement("div");
    text.textContent = t.text;
    li.append(who, text);
    list.append(li);
  }
}
refresh();
setInterval(refresh, 2000);
</script>
</body></html>"#;

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub(super) fn json_ok(body: Value) -> Response {
    axum::Json(body).into_response()
}

pub(super) fn uri_string(uri: &axum::http::Uri) -> String {
    uri.path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| uri.path().to_owned())
}
