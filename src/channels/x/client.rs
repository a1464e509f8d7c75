//! The X API v2 client the bot uses, against X or the sandbox (only the base URL differs).
//!
//! Every request carries user context: an OAuth 1.0a signature, or an OAuth 2.0 bearer token from
//! the account's [`oauth2::Session`] (refreshed and, after a 401, refreshed once more and retried).
//! Errors are classified for the caller: rate limited (wait until the reset X announces),
//! transient (retry with backoff), unauthorized (credentials refused: retry later, never drop
//! the message), or rejected (a 4xx that will never succeed: dead letter).

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use super::oauth1::{Credentials, authorization_now};
use super::oauth2;
use crate::channels::billing::{Billed, Unit, x_post_unit};

/// How the bot proves it acts as the account.
#[derive(Debug, Clone)]
pub enum Auth {
    /// OAuth 1.0a user context: consumer key and secret, access token and secret.
    OAuth1(Credentials),
    /// OAuth 2.0 user context (PKCE, `offline.access`), tokens kept in the database.
    OAuth2(std::sync::Arc<oauth2::Session>),
}

/// How an X request failed.
#[derive(Debug, thiserror::Error)]
pub enum XError {
    /// A 429: try again after `reset_at` (Unix seconds, from `x-rate-limit-reset`).
    #[error("rate limited until {reset_at}")]
    RateLimited { reset_at: u64 },
    /// A 5xx, a timeout or a broken connection: worth retrying.
    #[error("transient failure: {0}")]
    Transient(String),
    /// X refused the credentials (401), or no valid OAuth 2.0 token could be had. Sending the
    /// same request later, once a person fixed the credentials, will work: not a dead letter.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// A 4xx that will not succeed if repeated (duplicate content, not summoned, too long...).
    #[error("rejected with {status}: {detail}")]
    Rejected { status: u16, detail: String },
    /// The answer was not the JSON X documents.
    #[error("unexpected response: {0}")]
    Decode(String),
}

impl XError {
    /// Whether X refused the text as a duplicate of one posted in the last day.
    pub fn is_duplicate(&self) -> bool {
        matches!(self, XError::Rejected { status: 403, detail } if detail.contains("duplicate"))
    }
}

/// A user as X returns it.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct XUser {
    pub id: String,
    pub username: String,
    pub name: String,
}

/// A tweet with the fields the bot asks for.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct XTweet {
    pub id: String,
    pub text: String,
    pub author_id: Option<String>,
    pub created_at: Option<String>,
    pub conversation_id: Option<String>,
    pub in_reply_to_user_id: Option<String>,
    /// `referenced_tweets`, or `referenced_posts` in the newer vocabulary (spec v2.167).
    #[serde(default, alias = "referenced_posts")]
    pub referenced_tweets: Vec<Reference>,
    pub entities: Option<Entities>,
    #[serde(default)]
    pub attachments: Option<Attachments>,
    /// The tweet as X sent it, for the record, with the URLs of its photos (from the response's
    /// `includes.media`) added as `media_urls`.
    #[serde(skip)]
    pub raw: String,
}

/// What a tweet carries besides text.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Attachments {
    #[serde(default)]
    pub media_keys: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Reference {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Entities {
    #[serde(default)]
    pub mentions: Vec<MentionEntity>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct MentionEntity {
    pub username: String,
    pub id: Option<String>,
}

impl XTweet {
    /// The id of the tweet this one replies to, if any.
    pub fn replied_to(&self) -> Option<&str> {
        self.referenced_tweets
            .iter()
            .find(|r| r.kind == "replied_to")
            .map(|r| r.id.as_str())
    }

    /// Whether this is a retweet.
    pub fn is_retweet(&self) -> bool {
        self.referenced_tweets.iter().any(|r| r.kind == "retweeted")
    }

    /// Whether the tweet mentions `username` (case-insensitive).
    pub fn mentions(&self, username: &str) -> bool {
        self.entities.as_ref().is_some_and(|e| {
            e.mentions
                .iter()
                .any(|m| m.username.eq_ignore_ascii_case(username))
        })
    }
}

/// One page of a timeline.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub tweets: Vec<XTweet>,
    pub users: Vec<XUser>,
    pub next_token: Option<String>,
    pub newest_id: Option<String>,
    /// What X bills for the page: each post, each expanded user and referenced post.
    pub billed: Vec<Billed>,
}

/// What a new post answers, which decides what X bills for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parent<'a> {
    /// Not a reply.
    None,
    /// A post whose author mentioned the account (X bills a "summoned" reply).
    Summoner(&'a str),
    /// Another post, such as the account's own previous part of a thread.
    Post(&'a str),
}

/// A photo uploaded to X, ready to be posted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uploaded {
    /// The media id a post names (`media.media_ids`).
    pub id: String,
    /// The key posts show it under (`attachments.media_keys`, `includes.media`).
    pub media_key: String,
}

/// A post created, and what X bills for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    pub id: String,
    pub billed: Vec<Billed>,
}

/// Tweet fields the listener asks for: only those the bot reads (when it was written, its
/// thread, its author, what it answers or retweets, whom it mentions, its photos).
pub const TWEET_FIELDS: &str =
    "created_at,conversation_id,author_id,referenced_tweets,entities,attachments";

/// The client.
#[derive(Clone)]
pub struct XClient {
    http: reqwest::Client,
    base: String,
    auth: Auth,
    /// The last `x-rate-limit-remaining` and `-reset` seen per endpoint: when nothing remains,
    /// the client waits for the reset instead of spending a request on a certain 429.
    limits: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, (i64, u64)>>>,
}

impl std::fmt::Debug for XClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XClient")
            .field("base", &self.base)
            .field("auth", &self.auth)
            .finish()
    }
}

impl XClient {
    pub fn new(base: &str, auth: Auth) -> XClient {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .connect_timeout(Duration::from_secs(5))
            .build()
            .expect("a reqwest client with rustls builds");
        XClient {
            http,
            base: base.trim_end_matches('/').to_owned(),
            auth,
            limits: Default::default(),
        }
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// `GET /2/users/me`: the account itself, and the user read X bills for it.
    pub async fn me(&self) -> Result<(XUser, Vec<Billed>), XError> {
        let body = self.get("/2/users/me").await?;
        let user: XUser = decode(&body["data"])?;
        let billed = vec![Billed::new(Unit::XUserRead, user.id.clone())];
        Ok((user, billed))
    }

    /// `GET /2/users/:id/mentions`, newest first, 100 a page, with authors. X bills each post
    /// ($0.001 for the account's own mentions) and each expanded object: the authors (a user
    /// read, $0.010, once a day per user) are needed for the handle every reply starts with;
    /// the photos' media objects carry their URLs for tickets. Users come with `username` by
    /// default, so no `user.fields` are asked for.
    pub async fn mentions(
        &self,
        user_id: &str,
        since_id: Option<&str>,
        pagination_token: Option<&str>,
    ) -> Result<Page, XError> {
        let mut path = format!(
            "/2/users/{user_id}/mentions?max_results=100\
             &expansions=author_id,attachments.media_keys&tweet.fields={TWEET_FIELDS}\
             &media.fields=url"
        );
        if let Some(since) = since_id {
            path.push_str(&format!("&since_id={since}"));
        }
        if let Some(token) = pagination_token {
            path.push_str(&format!("&pagination_token={token}"));
        }
        self.page(&path, Unit::XOwnMentionRead).await
    }

    /// `GET /2/users/:id/mentions?until_id=`: up to five of the newest mentions older than
    /// `until_id` that X still serves (the listener's check that its window reaches its cursor).
    pub async fn mentions_before(&self, user_id: &str, until_id: &str) -> Result<Page, XError> {
        self.page(
            &format!("/2/users/{user_id}/mentions?max_results=5&until_id={until_id}"),
            Unit::XOwnMentionRead,
        )
        .await
    }

    /// `GET /2/users/:id/tweets`: a user's own tweets, newest first (for reconciliation).
    pub async fn user_tweets(
        &self,
        user_id: &str,
        pagination_token: Option<&str>,
    ) -> Result<Page, XError> {
        let mut path = format!(
            "/2/users/{user_id}/tweets?max_results=100&tweet.fields=referenced_tweets,conversation_id"
        );
        if let Some(token) = pagination_token {
            path.push_str(&format!("&pagination_token={token}"));
        }
        self.page(&path, Unit::XPostRead).await
    }

    /// `POST /2/tweets`, as a reply to `parent`. Returns the new post's id and what X bills.
    pub async fn create_tweet(&self, text: &str, parent: Parent<'_>) -> Result<Posted, XError> {
        self.create_post(text, parent, &[]).await
    }

    /// `POST /2/tweets` with photos already uploaded ([`XClient::upload_photo`]), at most four.
    pub async fn create_post(
        &self,
        text: &str,
        parent: Parent<'_>,
        media_ids: &[String],
    ) -> Result<Posted, XError> {
        let mut body = json!({"text": text});
        if !media_ids.is_empty() {
            body["media"] = json!({"media_ids": media_ids});
        }
        let (in_reply_to, summoned) = match parent {
            Parent::None => (None, false),
            Parent::Summoner(id) => (Some(id), true),
            Parent::Post(id) => (Some(id), false),
        };
        if let Some(parent) = in_reply_to {
            body["reply"] = json!({"in_reply_to_tweet_id": parent});
        }
        let url = format!("{}/2/tweets", self.base);
        let key = endpoint_key("POST", "/2/tweets");
        self.check_budget(&key)?;
        let response = self.send(reqwest::Method::POST, &url, Some(&body)).await?;
        self.note_budget(&key, &response);
        let body = read(response).await?;
        let id = body["data"]["id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| XError::Decode("no data.id in the create response".into()))?;
        let billed = vec![Billed::new(x_post_unit(text, summoned), id.clone())];
        Ok(Posted { id, billed })
    }

    /// Uploads a photo (`POST /2/media/upload`, one request: X takes images up to 5 MB that way)
    /// and sets its alternative text (`POST /2/media/metadata`), which people using screen
    /// readers hear. Returns the media id to post it with. Uploads are not billed.
    pub async fn upload_photo(
        &self,
        bytes: &[u8],
        media_type: &str,
        alt_text: &str,
    ) -> Result<Uploaded, XError> {
        use base64::Engine as _;
        let upload = json!({
            "media": base64::engine::general_purpose::STANDARD.encode(bytes),
            "media_category": "tweet_image",
            "media_type": media_type,
        });
        let url = format!("{}/2/media/upload", self.base);
        let response = self
            .send(reqwest::Method::POST, &url, Some(&upload))
            .await?;
        let body = read(response).await?;
        let (Some(id), Some(media_key)) = (
            body["data"]["id"].as_str(),
            body["data"]["media_key"].as_str(),
        ) else {
            return Err(XError::Decode("no data.id in the upload response".into()));
        };
        let metadata = json!({"id": id, "metadata": {"alt_text": {"text": alt_text}}});
        let url = format!("{}/2/media/metadata", self.base);
        let response = self
            .send(reqwest::Method::POST, &url, Some(&metadata))
            .await?;
        read(response).await?;
        Ok(Uploaded {
            id: id.to_owned(),
            media_key: media_key.to_owned(),
        })
    }

    /// `DELETE /2/tweets/:id`.
    pub async fn delete_tweet(&self, id: &str) -> Result<(), XError> {
        let url = format!("{}/2/tweets/{id}", self.base);
        let response = self.send(reqwest::Method::DELETE, &url, None).await?;
        read(response).await.map(|_| ())
    }

    /// One page of a timeline whose posts X bills as `unit`.
    async fn page(&self, path: &str, unit: Unit) -> Result<Page, XError> {
        let body = self.get(path).await?;
        let raw_tweets = body["data"].as_array().cloned().unwrap_or_default();
        let mut tweets = Vec::with_capacity(raw_tweets.len());
        let media: std::collections::HashMap<&str, &str> = body["includes"]["media"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| Some((m["media_key"].as_str()?, m["url"].as_str()?)))
            .collect();
        for mut raw in raw_tweets {
            let mut tweet: XTweet = decode(&raw)?;
            let urls: Vec<&str> = tweet
                .attachments
                .iter()
                .flat_map(|a| a.media_keys.iter())
                .filter_map(|key| media.get(key.as_str()).copied())
                .collect();
            if !urls.is_empty() {
                raw["media_urls"] = json!(urls);
            }
            tweet.raw = raw.to_string();
            tweets.push(tweet);
        }
        let users = match body["includes"]["users"].as_array() {
            Some(users) => users.iter().map(decode).collect::<Result<_, _>>()?,
            None => Vec::new(),
        };
        let mut billed: Vec<Billed> = tweets
            .iter()
            .map(|t| Billed::new(unit, t.id.clone()))
            .collect();
        billed.extend(
            users
                .iter()
                .map(|u: &XUser| Billed::new(Unit::XUserRead, u.id.clone())),
        );
        for key in ["tweets", "posts"] {
            billed.extend(
                body["includes"][key]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|t| t["id"].as_str())
                    .map(|id| Billed::new(Unit::XPostRead, id)),
            );
        }
        Ok(Page {
            tweets,
            users,
            billed,
            next_token: body["meta"]["next_token"].as_str().map(str::to_owned),
            newest_id: body["meta"]["newest_id"].as_str().map(str::to_owned),
        })
    }

    async fn get(&self, path: &str) -> Result<Value, XError> {
        let url = format!("{}{path}", self.base);
        let key = endpoint_key("GET", path);
        self.check_budget(&key)?;
        let response = self.send(reqwest::Method::GET, &url, None).await?;
        self.note_budget(&key, &response);
        read(response).await
    }

    /// Sends one request with the account's authorization. With OAuth 2.0, a 401 means the
    /// access token died early (revoked, or the clock drifted): one fresh token, one retry.
    async fn send(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<&Value>,
    ) -> Result<reqwest::Response, XError> {
        let mut rejected: Option<String> = None;
        loop {
            let (authorization, bearer) =
                match &self.auth {
                    Auth::OAuth1(credentials) => {
                        (authorization_now(credentials, method.as_str(), url), None)
                    }
                    Auth::OAuth2(session) => {
                        let token = session.access_token(rejected.as_deref()).await.map_err(
                            |e| match e {
                                oauth2::TokenError::Unavailable(detail) => {
                                    XError::Transient(detail)
                                }
                                other => XError::Unauthorized(other.to_string()),
                            },
                        )?;
                        (format!("Bearer {token}"), Some(token))
                    }
                };
            let mut request = self
                .http
                .request(method.clone(), url)
                .header("Authorization", authorization);
            if let Some(body) = body {
                request = request.json(body);
            }
            let response = request.send().await.map_err(transport)?;
            if response.status().as_u16() == 401
                && let Some(token) = bearer
                && rejected.is_none()
            {
                tracing::warn!("X answered 401 to the access token: refreshing it once");
                rejected = Some(token);
                continue;
            }
            return Ok(response);
        }
    }

    /// Refuses locally when X said nothing remains in this window.
    fn check_budget(&self, key: &str) -> Result<(), XError> {
        let limits = self.limits.lock().expect("limits lock");
        if let Some((remaining, reset_at)) = limits.get(key)
            && *remaining <= 0
            && *reset_at > unix_now()
        {
            return Err(XError::RateLimited {
                reset_at: *reset_at,
            });
        }
        Ok(())
    }

    fn note_budget(&self, key: &str, response: &reqwest::Response) {
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<i64>().ok())
        };
        if let (Some(remaining), Some(reset)) = (
            header("x-rate-limit-remaining"),
            header("x-rate-limit-reset"),
        ) {
            self.limits
                .lock()
                .expect("limits lock")
                .insert(key.to_owned(), (remaining, reset.max(0) as u64));
        }
    }
}

/// The rate-limit bucket of a request: method and path without the query.
fn endpoint_key(method: &str, path: &str) -> String {
    format!("{method} {}", path.split('?').next().unwrap_or(path))
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn transport(e: reqwest::Error) -> XError {
    XError::Transient(e.to_string())
}

fn decode<T: serde::de::DeserializeOwned>(value: &Value) -> Result<T, XError> {
    serde_json::from_value(value.clone()).map_err(|e| XError::Decode(e.to_string()))
}

/// Classifies a response: 2xx gives its JSON; 429 the reset; 5xx transient; other 4xx rejected.
async fn read(response: reqwest::Response) -> Result<Value, XError> {
    let status = response.status();
    let reset = response
        .headers()
        .get("x-rate-limit-reset")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let body: Value = response
        .json()
        .await
        .unwrap_or_else(|e| json!({"detail": format!("unreadable body: {e}")}));
    if status.is_success() {
        return Ok(body);
    }
    if status.as_u16() == 429 {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        return Err(XError::RateLimited {
            reset_at: reset.unwrap_or(now + 60),
        });
    }
    let detail = body["detail"]
        .as_str()
        .or_else(|| body["errors"][0]["message"].as_str())
        .or_else(|| body["title"].as_str())
        .unwrap_or("")
        .to_owned();
    if status.as_u16() == 401 {
        return Err(XError::Unauthorized(format!("{status}: {detail}")));
    }
    if status.is_server_error() || status.as_u16() == 408 {
        return Err(XError::Transient(format!("{status}: {detail}")));
    }
    Err(XError::Rejected {
        status: status.as_u16(),
        detail,
    })
}
