/*!
Persistence: the mention inbox and the listener's cursor, decisions, conversations, the outbox,
dead letters and the audit log.

One place picks the backend from the URL (`sqlite://...` or `postgres://...`); the SQL is portable
(times in integer milliseconds, outside ids as text, JSON as text) and goes through sqlx's `any`
driver. The backends differ only where the engines do: claiming work is `UPDATE ... RETURNING` on
SQLite (one writer at a time) and `FOR UPDATE SKIP LOCKED` with a lease on PostgreSQL.

The store knows no web and no network.
*/

pub mod lease;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Row};

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

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    // --- The inbox and the listener's cursor -------------------------------------------------

    /// Stores new mentions and moves the cursor in one transaction, so a crash either keeps both
    /// or neither. A mention already stored is skipped. Returns how many were new.
    pub async fn store_mentions(
        &self,
        cursor: &str,
        mentions: &[NewMention],
        new_cursor: Option<&str>,
    ) -> Result<usize> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let mut inserted = 0;
        for m in mentions {
            let done = sqlx::query(
                "INSERT INTO inbox (tweet_id, author_id, author_username, text, conversation_id, \
                 in_reply_to_id, created_at, received_at, raw) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (tweet_id) DO NOTHING",
            )
            .bind(&m.tweet_id)
            .bind(&m.author_id)
            .bind(&m.author_username)
            .bind(&m.text)
            .bind(&m.conversation_id)
            .bind(&m.in_reply_to_id)
            .bind(m.created_at)
            .bind(now)
            .bind(&m.raw)
            .execute(&mut *tx)
            .await?;
            inserted += done.rows_affected() as usize;
        }
        if let Some(value) = new_cursor {
            sqlx::query(
                "INSERT INTO cursors (name, value, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (name) DO UPDATE SET value = excluded.value, \
                 updated_at = excluded.updated_at",
            )
            .bind(cursor)
            .bind(value)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(inserted)
    }

    /// The cursor's value, if it was ever set.
    pub async fn cursor(&self, name: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT value FROM cursors WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.get::<String, _>(0)))
    }

    /// Claims the oldest pending mention for `lease`: another worker will not take it until the
    /// lease runs out (a crashed worker's mention is taken again).
    pub async fn claim_mention(&self, lease: Duration) -> Result<Option<Mention>> {
        let now = now_ms();
        let until = now + lease.as_millis() as i64;
        let sql = match self.backend {
            Backend::Sqlite => {
                "UPDATE inbox SET lease_until = $1, attempts = attempts + 1 \
                 WHERE tweet_id = (SELECT tweet_id FROM inbox WHERE state = 'pending' \
                 AND (lease_until IS NULL OR lease_until < $2) \
                 ORDER BY length(tweet_id), tweet_id LIMIT 1) \
                 RETURNING tweet_id, author_id, author_username, text, conversation_id, \
                 in_reply_to_id, created_at, attempts, raw"
            }
            Backend::Postgres => {
                "UPDATE inbox SET lease_until = $1, attempts = attempts + 1 \
                 WHERE tweet_id = (SELECT tweet_id FROM inbox WHERE state = 'pending' \
                 AND (lease_until IS NULL OR lease_until < $2) \
                 ORDER BY length(tweet_id), tweet_id LIMIT 1 FOR UPDATE SKIP LOCKED) \
                 RETURNING tweet_id, author_id, author_username, text, conversation_id, \
                 in_reply_to_id, created_at, attempts, raw"
            }
        };
        let row = sqlx::query(sql)
            .bind(until)
            .bind(now)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| Mention {
            tweet_id: r.get(0),
            author_id: r.get(1),
            author_username: r.get(2),
            text: r.get(3),
            conversation_id: r.get(4),
            in_reply_to_id: r.get(5),
            created_at: r.get(6),
            attempts: r.get(7),
            raw: r.get(8),
        }))
    }

    /// Records a decision and queues its outgoing messages, and marks the mention done, all in
    /// one transaction. Returns how many outbox rows were new (a replayed mention adds none).
    pub async fn complete_mention(
        &self,
        tweet_id: &str,
        decision: &NewDecision,
        outgoing: &[NewOutbox],
    ) -> Result<usize> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO decisions (tweet_id, conversation_id, kind, topic, agency, rule, \
             evidence, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (tweet_id) DO NOTHING",
        )
        .bind(tweet_id)
        .bind(&decision.conversation_id)
        .bind(&decision.kind)
        .bind(&decision.topic)
        .bind(&decision.agency)
        .bind(&decision.rule)
        .bind(&decision.evidence)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let mut queued = 0;
        for item in outgoing {
            queued += insert_outbox(&mut tx, item, now).await?;
        }
        sqlx::query(
            "UPDATE inbox SET state = 'done', processed_at = $1, lease_until = NULL \
             WHERE tweet_id = $2",
        )
        .bind(now)
        .bind(tweet_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(queued)
    }

    /// Records something received that could not be acted on (a Telegram update, a WhatsApp
    /// message), so that staff see it and the reader goes on.
    pub async fn dead_letter(
        &self,
        source: &str,
        reference: &str,
        payload: &str,
        error: &str,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        insert_dead_letter(&mut tx, source, reference, payload, error, now_ms()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Moves a mention that can never be processed to the dead letters, so the worker goes on.
    pub async fn bury_mention(&self, tweet_id: &str, error: &str) -> Result<()> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let raw: Option<String> = sqlx::query("SELECT raw FROM inbox WHERE tweet_id = $1")
            .bind(tweet_id)
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.get(0));
        sqlx::query("UPDATE inbox SET state = 'dead', lease_until = NULL WHERE tweet_id = $1")
            .bind(tweet_id)
            .execute(&mut *tx)
            .await?;
        insert_dead_letter(
            &mut tx,
            "inbox",
            tweet_id,
            &raw.unwrap_or_default(),
            error,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// How many mentions are in each state.
    pub async fn inbox_counts(&self) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query("SELECT state, COUNT(*) FROM inbox GROUP BY state ORDER BY state")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    // --- The outbox ---------------------------------------------------------------------------

    /// Queues one message outside a mention's transaction (staff replies, reminders). Returns
    /// false when a message with the same idempotency key was queued before.
    pub async fn enqueue(&self, item: &NewOutbox) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let n = insert_outbox(&mut tx, item, now_ms()).await?;
        tx.commit().await?;
        Ok(n == 1)
    }

    /// Claims the most urgent due message of a channel for `lease`.
    pub async fn claim_outbox(&self, channel: &str, lease: Duration) -> Result<Option<Outbox>> {
        let now = now_ms();
        let until = now + lease.as_millis() as i64;
        let pick = "SELECT id FROM outbox WHERE channel = $3 AND next_attempt_at <= $2 \
                    AND (state = 'pending' OR (state = 'sending' AND lease_until < $2)) \
                    ORDER BY priority DESC, id LIMIT 1";
        let sql = match self.backend {
            Backend::Sqlite => format!(
                "UPDATE outbox SET state = 'sending', lease_until = $1, attempts = attempts + 1, \
                 updated_at = $2 WHERE id = ({pick}) RETURNING {OUTBOX_COLUMNS}"
            ),
            Backend::Postgres => format!(
                "UPDATE outbox SET state = 'sending', lease_until = $1, attempts = attempts + 1, \
                 updated_at = $2 WHERE id = ({pick} FOR UPDATE SKIP LOCKED) \
                 RETURNING {OUTBOX_COLUMNS}"
            ),
        };
        let row = sqlx::query(&sql)
            .bind(until)
            .bind(now)
            .bind(channel)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(outbox_from_row))
    }

    /// Records a successful send and the remote id (the tweet's id, the message id).
    pub async fn mark_sent(&self, id: i64, remote_id: &str) -> Result<()> {
        sqlx::query(
            "UPDATE outbox SET state = 'sent', remote_id = $1, lease_until = NULL, \
             last_error = NULL, updated_at = $2 WHERE id = $3",
        )
        .bind(remote_id)
        .bind(now_ms())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Puts a message back for another attempt at `next_attempt_at` (milliseconds).
    pub async fn mark_retry(&self, id: i64, next_attempt_at: i64, error: &str) -> Result<()> {
        sqlx::query(
            "UPDATE outbox SET state = 'pending', lease_until = NULL, next_attempt_at = $1, \
             last_error = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(next_attempt_at)
        .bind(error)
        .bind(now_ms())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Puts a message back with a new payload (e.g. a reworded tweet after X refused a
    /// duplicate).
    pub async fn retry_with_payload(&self, id: i64, payload: &str, error: &str) -> Result<()> {
        sqlx::query(
            "UPDATE outbox SET state = 'pending', lease_until = NULL, payload = $1, \
             next_attempt_at = $2, last_error = $3, updated_at = $2 WHERE id = $4",
        )
        .bind(payload)
        .bind(now_ms())
        .bind(error)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Gives up on a message that can never be sent: it goes to the dead letters.
    pub async fn mark_dead(&self, id: i64, error: &str) -> Result<()> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query("SELECT idempotency_key, payload FROM outbox WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        let (key, payload): (String, String) = (row.get(0), row.get(1));
        sqlx::query(
            "UPDATE outbox SET state = 'dead', lease_until = NULL, last_error = $1, \
             updated_at = $2 WHERE id = $3",
        )
        .bind(error)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        insert_dead_letter(&mut tx, "outbox", &key, &payload, error, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The message with this idempotency key, if any.
    pub async fn outbox_by_key(&self, key: &str) -> Result<Option<Outbox>> {
        let row = sqlx::query(&format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE idempotency_key = $1"
        ))
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(outbox_from_row))
    }

    /// Messages being sent when the process stopped: after a crash they may or may not have
    /// reached the service, so the dispatcher reconciles them before sending anything.
    pub async fn in_flight(&self, channel: &str) -> Result<Vec<Outbox>> {
        let rows = sqlx::query(&format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE channel = $1 AND state = 'sending' \
             ORDER BY id"
        ))
        .bind(channel)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(outbox_from_row).collect())
    }

    // --- X OAuth 2.0 tokens ------------------------------------------------------------------

    /// The account's stored OAuth 2.0 tokens, if it was ever authorized.
    pub async fn x_token(&self, account: &str) -> Result<Option<XToken>> {
        let row = sqlx::query(
            "SELECT access_token, access_expires_at, refresh_token, scope, updated_at \
             FROM x_tokens WHERE account = $1",
        )
        .bind(account)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| XToken {
            access_token: r.get(0),
            access_expires_at: r.get(1),
            refresh_token: r.get(2),
            scope: r.get(3),
            updated_at: r.get(4),
        }))
    }

    /// Stores tokens from a fresh authorization, replacing whatever was there.
    pub async fn put_x_token(&self, account: &str, token: &XToken) -> Result<()> {
        sqlx::query(
            "INSERT INTO x_tokens (account, access_token, access_expires_at, refresh_token, scope, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (account) DO UPDATE SET access_token = excluded.access_token, \
             access_expires_at = excluded.access_expires_at, \
             refresh_token = excluded.refresh_token, scope = excluded.scope, \
             updated_at = excluded.updated_at",
        )
        .bind(account)
        .bind(&token.access_token)
        .bind(token.access_expires_at)
        .bind(&token.refresh_token)
        .bind(&token.scope)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Stores tokens obtained with the refresh token `used`, unless another process already
    /// replaced that refresh token (then nothing changes and `false` comes back: re-read).
    pub async fn rotate_x_token(&self, account: &str, used: &str, token: &XToken) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE x_tokens SET access_token = $1, access_expires_at = $2, refresh_token = $3, \
             scope = $4, updated_at = $5 WHERE account = $6 AND refresh_token = $7",
        )
        .bind(&token.access_token)
        .bind(token.access_expires_at)
        .bind(&token.refresh_token)
        .bind(&token.scope)
        .bind(now_ms())
        .bind(account)
        .bind(used)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    // --- Opt-outs -----------------------------------------------------------------------------

    /// Records that a citizen wrote "stop".
    pub async fn opt_out(&self, user_id: &str, username: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO opt_outs (user_id, username, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id) DO NOTHING",
        )
        .bind(user_id)
        .bind(username)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records that a citizen wrote "mulai" again.
    pub async fn opt_in(&self, user_id: &str) -> Result<()> {
        sqlx::query("DELETE FROM opt_outs WHERE user_id = $1")
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Whether a citizen asked for no automatic replies.
    pub async fn is_opted_out(&self, user_id: &str) -> Result<bool> {
        let row = sqlx::query("SELECT 1 FROM opt_outs WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    /// How many messages are in each state, per channel.
    pub async fn outbox_counts(&self) -> Result<Vec<(String, String, i64)>> {
        let rows = sqlx::query(
            "SELECT channel, state, COUNT(*) FROM outbox GROUP BY channel, state \
             ORDER BY channel, state",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect())
    }

    // --- Dead letters and audit ---------------------------------------------------------------

    /// Every dead letter, newest first.
    pub async fn dead_letters(&self) -> Result<Vec<DeadLetter>> {
        let rows = sqlx::query(
            "SELECT id, source, reference, payload, error, created_at FROM dead_letters \
             ORDER BY id DESC",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| DeadLetter {
                id: r.get(0),
                source: r.get(1),
                reference: r.get(2),
                payload: r.get(3),
                error: r.get(4),
                created_at: r.get(5),
            })
            .collect())
    }

    /// Appends to the audit log.
    pub async fn audit(
        &self,
        actor: &str,
        action: &str,
        subject: &str,
        detail: &str,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(now_ms())
        .bind(actor)
        .bind(action)
        .bind(subject)
        .bind(detail)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The audit log, newest first, at most `limit` entries.
    pub async fn audit_log(&self, limit: i64) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT id, at, actor, action, subject, detail FROM audit_log ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| AuditEntry {
                id: r.get(0),
                at: r.get(1),
                actor: r.get(2),
                action: r.get(3),
                subject: r.get(4),
                detail: r.get(5),
            })
            .collect())
    }
}

const OUTBOX_COLUMNS: &str = "id, channel, payload, priority, idempotency_key, attempts, \
                              next_attempt_at, state, remote_id, last_error";

fn outbox_from_row(r: sqlx::any::AnyRow) -> Outbox {
    Outbox {
        id: r.get(0),
        channel: r.get(1),
        payload: r.get(2),
        priority: r.get(3),
        idempotency_key: r.get(4),
        attempts: r.get(5),
        next_attempt_at: r.get(6),
        state: r.get(7),
        remote_id: r.get(8),
        last_error: r.get(9),
    }
}

pub(crate) async fn insert_outbox(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    item: &NewOutbox,
    now: i64,
) -> Result<usize> {
    let done = sqlx::query(
        "INSERT INTO outbox (channel, payload, priority, idempotency_key, next_attempt_at, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (idempotency_key) DO NOTHING",
    )
    .bind(&item.channel)
    .bind(&item.payload)
    .bind(item.priority)
    .bind(&item.idempotency_key)
    .bind(now)
    .bind(now)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() as usize)
}

pub(crate) async fn insert_dead_letter(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    source: &str,
    reference: &str,
    payload: &str,
    error: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO dead_letters (source, reference, payload, error, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(source)
    .bind(reference)
    .bind(payload)
    .bind(error)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
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
