/*!
Persistence: the mention inbox and the listener's cursor, decisions, conversations, the outbox,
dead letters and the audit log.

One place picks the backend from the URL (`sqlite://...` or `postgres://...`); the SQL is portable
(times in integer milliseconds, outside ids as text, JSON as text) and goes through sqlx's `any`
driver. The backends differ only where the engines do: claiming work is `UPDATE ... RETURNING` on
SQLite (one writer at a time) and `FOR UPDATE SKIP LOCKED` with a lease on PostgreSQL.

The store knows no web and no network.
*/

mod inbox;
pub mod lease;
mod outbox;
pub mod privacy;
mod records;
pub mod search;
mod tokens;
pub mod usage;

pub use inbox::{insert_decision, mark_mention_done, set_cursor};
pub use outbox::{hold, insert_outbox, release_held, requeue_dead};
pub use records::{insert_audit, insert_dead_letter};

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::AnyPool;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL names no supported database.
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://...")]
    UnsupportedUrl(String),
    /// The SQLite file's folder could not be created.
    #[error("creating {path}: {source}")]
    CreateDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The database refused or failed a statement.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// Migrations could not be applied.
    #[error("migrating the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Which engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a URL names.
    pub fn of(url: &str) -> Result<Backend> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::UnsupportedUrl(redact_url(url)))
        }
    }
}

/// A URL with its password hidden, for messages and logs.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// The database, with its schema up to date.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish()
    }
}

/// A transaction on the store. Owners' write functions take one, so that one mention's
/// decision, conversation, ticket and outbox rows commit together.
pub type Tx<'c> = sqlx::Transaction<'c, sqlx::Any>;

/// A time in milliseconds as RFC 3339 UTC to the second, for JSON and logs.
pub fn rfc3339(ms: i64) -> String {
    let time = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .replace_nanosecond(0)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    time.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The outbox key of part `n` (from 1) of the bot's reply to the tweet `tweet_id`.
pub fn reply_key(tweet_id: &str, n: usize) -> String {
    format!("{}{n}", reply_key_prefix(tweet_id))
}

/// What every [`reply_key`] of one tweet starts with.
pub fn reply_key_prefix(tweet_id: &str) -> String {
    format!("x:reply:{tweet_id}:")
}

/// [`reply_key`] of the first part, as an SQL expression over a column holding the tweet id
/// (for reports that join the outbox).
pub fn first_reply_key_sql(tweet_id_column: &str) -> String {
    format!("'x:reply:' || {tweet_id_column} || ':1'")
}

/// Milliseconds since the epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl Store {
    /// Connects, creating a SQLite file (and its folder) on first use, and applies migrations.
    /// SQLite runs in WAL mode with a busy timeout, so that other commands can use the file
    /// while `kicau run` holds it.
    pub async fn connect(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of(url)?;
        let url = match backend {
            Backend::Sqlite => sqlite_url(url)?,
            Backend::Postgres => url.to_owned(),
        };
        let options = AnyConnectOptions::from_str(&url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 4 } else { 10 })
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        sqlx::query("PRAGMA busy_timeout = 10000")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA foreign_keys = ON")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA synchronous = NORMAL")
                            .execute(&mut *conn)
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        if backend == Backend::Sqlite {
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await?;
        }
        let migrator = match backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&pool).await?;
        Ok(Store { pool, backend })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The connection pool, for reading. Writes go through the owners' functions (see
    /// ARCHITECTURE.md, "Who writes what").
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Starts a transaction. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`,
    /// waiting up to the busy timeout): a deferred transaction that reads and then writes fails
    /// at once with SQLITE_BUSY when another connection wrote in between, and the busy timeout
    /// does not help it.
    pub async fn begin(&self) -> Result<Tx<'static>> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// `sqlite://data/kicau.db` with `mode=rwc` (create the file), after creating its folder.
fn sqlite_url(url: &str) -> Result<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path != ":memory:"
        && let Some(dir) = Path::new(path).parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
            path: dir.display().to_string(),
            source,
        })?;
    }
    let query = if query.contains("mode=") {
        query.to_owned()
    } else if query.is_empty() {
        "mode=rwc".to_owned()
    } else {
        format!("{query}&mode=rwc")
    };
    Ok(format!("sqlite://{path}?{query}"))
}

/// A mention as the listener read it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMention {
    pub tweet_id: String,
    pub author_id: String,
    pub author_username: String,
    pub text: String,
    pub conversation_id: Option<String>,
    pub in_reply_to_id: Option<String>,
    /// Milliseconds since the epoch.
    pub created_at: i64,
    /// The tweet as X sent it (JSON), for staff and for replay.
    pub raw: String,
}

/// A stored mention, claimed for processing.
#[derive(Debug, Clone, PartialEq)]
pub struct Mention {
    pub tweet_id: String,
    pub author_id: String,
    pub author_username: String,
    pub text: String,
    pub conversation_id: Option<String>,
    pub in_reply_to_id: Option<String>,
    pub created_at: i64,
    /// How many times it has been claimed, this time included.
    pub attempts: i64,
    /// The tweet as X sent it (JSON).
    pub raw: String,
}

/// A decision to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDecision {
    pub conversation_id: Option<String>,
    pub kind: String,
    pub topic: Option<String>,
    pub agency: Option<String>,
    pub rule: String,
    /// JSON.
    pub evidence: String,
}

/// A message to send.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOutbox {
    pub channel: String,
    /// JSON the channel's dispatcher understands.
    pub payload: String,
    /// Higher goes first; emergencies use the highest.
    pub priority: i64,
    /// The same key is never queued twice (e.g. `x:reply:<tweet id>:<part>`).
    pub idempotency_key: String,
}

/// A queued message.
#[derive(Debug, Clone, PartialEq)]
pub struct Outbox {
    pub id: i64,
    pub channel: String,
    pub payload: String,
    pub priority: i64,
    pub idempotency_key: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub state: String,
    pub remote_id: Option<String>,
    pub last_error: Option<String>,
}

/// Work that can never succeed, kept for staff.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter {
    pub id: i64,
    pub source: String,
    pub reference: String,
    pub payload: String,
    pub error: String,
    pub created_at: i64,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub detail: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backend_follows_the_url() {
        assert_eq!(
            Backend::of("sqlite://data/kicau.db").unwrap(),
            Backend::Sqlite
        );
        assert_eq!(Backend::of("postgres://u@h/db").unwrap(), Backend::Postgres);
        assert!(
            Backend::of("mysql://u:secret@h/db")
                .unwrap_err()
                .to_string()
                .contains("***")
        );
    }

    #[test]
    fn passwords_never_show() {
        assert_eq!(
            redact_url("postgres://kicau:hunter2@db:5432/kicau"),
            "postgres://kicau:***@db:5432/kicau"
        );
        assert_eq!(
            redact_url("sqlite://data/kicau.db"),
            "sqlite://data/kicau.db"
        );
    }

    #[test]
    fn sqlite_urls_create_the_file() {
        assert_eq!(
            sqlite_url("sqlite::memory:").unwrap(),
            "sqlite://:memory:?mode=rwc"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/k.db");
        let url = sqlite_url(&format!("sqlite://{}", path.display())).unwrap();
        assert!(url.ends_with("k.db?mode=rwc"));
        assert!(path.parent().unwrap().is_dir());
    }
}

/// The account's OAuth 2.0 tokens as stored. Secrets: never logged, never printed.
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
