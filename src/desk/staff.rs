//! Staff accounts: argon2id password hashes, one-time passwords that must be changed, console
//! sessions with their CSRF tokens, and API bearer tokens. Only hashes of secrets are stored
//! (SHA-256 for random tokens, which are long enough not to need a slow hash).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine as _;
use sha2::{Digest, Sha256};
use sqlx::Row;

use super::{Actor, Role};
use crate::store::{Store, StoreError, now_ms};

/// How long a console session lasts without a new login.
pub const SESSION_TTL_MS: i64 = 12 * 3600 * 1000;
/// How long a one-time password can be used (once) after it is issued.
pub const ONE_TIME_TTL_MS: i64 = 24 * 3600 * 1000;
/// The shortest new password.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// Words a guesser of this console's passwords tries first, besides the account's name.
const SITE_WORDS: &[&str] = &[
    "kicau",
    "malang",
    "pemkot",
    "pemkotmalang",
    "kotamalang",
    "diskominfo",
    "kominfo",
    "arema",
    "admin",
    "password",
    "katasandi",
];

/// Whether `new` may become `name`'s password: long enough and not common or guessable (ASVS
/// 2.1.1 and 2.1.7; zxcvbn's lists of common passwords, names and words, and its patterns for
/// keyboard walks, repeats, sequences and dates).
pub fn check_new_password(name: &str, new: &str) -> Result<(), StaffError> {
    if new.chars().count() < MIN_PASSWORD_CHARS {
        return Err(StaffError::WeakPassword);
    }
    let mut inputs: Vec<&str> = SITE_WORDS.to_vec();
    inputs.push(name);
    if zxcvbn::zxcvbn(new, &inputs).score() < zxcvbn::Score::Three {
        return Err(StaffError::CommonPassword);
    }
    Ok(())
}

/// Why a staff operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StaffError {
    /// The name is taken.
    #[error("staff account {0:?} already exists")]
    Exists(String),
    /// No such account.
    #[error("no staff account {0:?}")]
    Unknown(String),
    /// Names are what people type to log in: letters, digits, `.`, `_`, `-`, 2 to 32 long.
    #[error("invalid name {0:?}: use 2-32 letters, digits, '.', '_' or '-'")]
    BadName(String),
    /// A new password must be at least [`MIN_PASSWORD_CHARS`] characters.
    #[error("kata sandi baru minimal 12 karakter")]
    WeakPassword,
    /// The new password is the current one (the one-time password cannot be kept).
    #[error("kata sandi baru harus berbeda dari yang sekarang")]
    SamePassword,
    /// The new password is common or easy to guess (zxcvbn's score under 3 of 4).
    #[error(
        "kata sandi baru terlalu umum atau mudah ditebak; pakai beberapa kata acak atau gabungan yang tidak biasa"
    )]
    CommonPassword,
    /// Hashing failed (never expected).
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for StaffError {
    fn from(e: sqlx::Error) -> Self {
        StaffError::Store(StoreError::Database(e))
    }
}

/// A staff account as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub name: String,
    pub role: Role,
    pub must_change: bool,
    pub telegram_user_id: Option<String>,
    pub created_at: i64,
    /// Until when failed logins lock the account (ms; in the past or 0: not locked).
    pub locked_until: i64,
    /// Failed logins in a row since the last success or unlock.
    pub failed_logins: i64,
}

/// A console session: the cookie value (secret) and its CSRF token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub cookie: String,
    pub csrf: String,
    pub actor: Actor,
    pub must_change: bool,
    /// What the page shows once (see [`take_notice`]); only filled for the page that takes it.
    pub notice: Option<String>,
    /// What asks for attention, for the menu and the tab's title; filled for pages.
    pub attention: Option<super::Attention>,
}

/// A random secret: 32 bytes, base64url.
pub fn random_secret() -> String {
    use rand::RngCore as _;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn hash_password(password: &str) -> Result<String, StaffError> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>())
        .map_err(|e| StaffError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StaffError::Hash(e.to_string()))
}

pub(super) fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A readable one-time password: 16 characters without look-alikes.
fn one_time_password() -> String {
    use rand::Rng as _;
    const CHARS: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..16)
        .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
        .collect()
}

fn valid_name(name: &str) -> bool {
    (2..=32).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// Creates an account and returns its one-time password (to be changed at first login).
pub async fn add(store: &Store, name: &str, role: Role) -> Result<String, StaffError> {
    if !valid_name(name) {
        return Err(StaffError::BadName(name.to_owned()));
    }
    let password = one_time_password();
    let hash = hash_password(&password)?;
    let done = sqlx::query(
        "INSERT INTO staff (name, role, password_hash, must_change, created_at, otp_expires_at) \
         VALUES ($1, $2, $3, 1, $4, $5) ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(role.as_str())
    .bind(&hash)
    .bind(now_ms())
    .bind(now_ms() + ONE_TIME_TTL_MS)
    .execute(store.pool())
    .await?;
    if done.rows_affected() == 0 {
        return Err(StaffError::Exists(name.to_owned()));
    }
    store
        .audit("cli", "staff_add", &format!("staff:{name}"), role.as_str())
        .await?;
    Ok(password)
}

/// Gives `name` a new one-time password (valid [`ONE_TIME_TTL_MS`], for one login) in place of
/// its password, ends its sessions and returns it: for a person who forgot theirs or let the
/// first one expire. Audited.
pub async fn reset(store: &Store, name: &str, now: i64) -> Result<String, StaffError> {
    let password = one_time_password();
    let hash = {
        let password = password.clone();
        tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(|e| StaffError::Hash(e.to_string()))??
    };
    let done = sqlx::query(
        "UPDATE staff SET password_hash = $1, must_change = 1, otp_expires_at = $2, \
         otp_used_at = 0 WHERE name = $3",
    )
    .bind(&hash)
    .bind(now + ONE_TIME_TTL_MS)
    .bind(name)
    .execute(store.pool())
    .await?;
    if done.rows_affected() == 0 {
        return Err(StaffError::Unknown(name.to_owned()));
    }
    sqlx::query("DELETE FROM sessions WHERE staff_name = $1")
        .bind(name)
        .execute(store.pool())
        .await?;
    store
        .audit("cli", "password_reset", &format!("staff:{name}"), "")
        .await?;
    Ok(password)
}

/// Every account, by name.
pub async fn list(store: &Store) -> Result<Vec<Account>, StaffError> {
    let rows = sqlx::query(
        "SELECT name, role, must_change, telegram_user_id, created_at, locked_until, \
         failed_logins FROM staff ORDER BY name",
    )
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let role: String = r.get(1);
            Account {
                name: r.get(0),
                role: Role::parse(&role).unwrap_or(Role::Staff),
                must_change: r.get::<i64, _>(2) != 0,
                telegram_user_id: r.get(3),
                created_at: r.get(4),
                locked_until: r.get(5),
                failed_logins: r.get(6),
            }
        })
        .collect())
}

pub(super) async fn actor(
    store: &Store,
    name: &str,
) -> Result<Option<(Actor, String, bool)>, StaffError> {
    let row =
        sqlx::query("SELECT name, role, password_hash, must_change FROM staff WHERE name = $1")
            .bind(name)
            .fetch_optional(store.pool())
            .await?;
    Ok(row.map(|r| {
        let role: String = r.get(1);
        (
            Actor {
                name: r.get(0),
                role: Role::parse(&role).unwrap_or(Role::Staff),
            },
            r.get(2),
            r.get::<i64, _>(3) != 0,
        )
    }))
}

/// Issues a new API token for `name` and returns it (shown once; only its hash is kept).
/// Earlier tokens stay valid until [`revoke`].
pub async fn new_token(store: &Store, name: &str) -> Result<String, StaffError> {
    if actor(store, name).await?.is_none() {
        return Err(StaffError::Unknown(name.to_owned()));
    }
    let token = format!("kicau_{}", random_secret());
    sqlx::query("INSERT INTO api_tokens (token_hash, staff_name, created_at) VALUES ($1, $2, $3)")
        .bind(sha256_hex(&token))
        .bind(name)
        .bind(now_ms())
        .execute(store.pool())
        .await?;
    store
        .audit("cli", "token_issue", &format!("staff:{name}"), "")
        .await?;
    Ok(token)
}

/// Revokes every API token and ends every session of `name`. Returns how many tokens.
pub async fn revoke(store: &Store, name: &str) -> Result<u64, StaffError> {
    if actor(store, name).await?.is_none() {
        return Err(StaffError::Unknown(name.to_owned()));
    }
    let now = now_ms();
    let done = sqlx::query(
        "UPDATE api_tokens SET revoked_at = $1 WHERE staff_name = $2 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(name)
    .execute(store.pool())
    .await?;
    sqlx::query("DELETE FROM sessions WHERE staff_name = $1")
        .bind(name)
        .execute(store.pool())
        .await?;
    store
        .audit(
            "cli",
            "token_revoke",
            &format!("staff:{name}"),
            &format!("{} tokens", done.rows_affected()),
        )
        .await?;
    Ok(done.rows_affected())
}

/// Maps a Telegram user to a staff account (for the staff group's buttons and replies).
pub async fn link_telegram(store: &Store, name: &str, user_id: i64) -> Result<(), StaffError> {
    let done = sqlx::query("UPDATE staff SET telegram_user_id = $1 WHERE name = $2")
        .bind(user_id.to_string())
        .bind(name)
        .execute(store.pool())
        .await?;
    if done.rows_affected() == 0 {
        return Err(StaffError::Unknown(name.to_owned()));
    }
    Ok(())
}

/// The staff member a Telegram user is, if mapped.
pub async fn by_telegram(store: &Store, user_id: i64) -> Result<Option<Actor>, StaffError> {
    let row = sqlx::query("SELECT name, role FROM staff WHERE telegram_user_id = $1")
        .bind(user_id.to_string())
        .fetch_optional(store.pool())
        .await?;
    Ok(row.map(|r| {
        let role: String = r.get(1);
        Actor {
            name: r.get(0),
            role: Role::parse(&role).unwrap_or(Role::Staff),
        }
    }))
}

/// The staff member a bearer token belongs to, if it is valid.
pub async fn by_token(store: &Store, token: &str) -> Result<Option<Actor>, StaffError> {
    let row = sqlx::query(
        "SELECT s.name, s.role FROM api_tokens t JOIN staff s ON s.name = t.staff_name \
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND s.must_change = 0",
    )
    .bind(sha256_hex(token))
    .fetch_optional(store.pool())
    .await?;
    Ok(row.map(|r| {
        let role: String = r.get(1);
        Actor {
            name: r.get(0),
            role: Role::parse(&role).unwrap_or(Role::Staff),
        }
    }))
}

/// Opens a session for `actor`, whose password was just checked ([`super::login`]).
pub(super) async fn open_session(
    store: &Store,
    actor: Actor,
    must_change: bool,
    now: i64,
) -> Result<Session, StaffError> {
    let cookie = random_secret();
    let csrf = random_secret();
    sqlx::query(
        "INSERT INTO sessions (id_hash, staff_name, csrf, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(sha256_hex(&cookie))
    .bind(&actor.name)
    .bind(&csrf)
    .bind(now)
    .bind(now + SESSION_TTL_MS)
    .execute(store.pool())
    .await?;
    store
        .audit(&actor.name, "login", &format!("staff:{}", actor.name), "")
        .await?;
    Ok(Session {
        cookie,
        csrf,
        actor,
        must_change,
        notice: None,
        attention: None,
    })
}

/// The session a cookie value opens, if it is live.
pub async fn session(store: &Store, cookie: &str) -> Result<Option<Session>, StaffError> {
    let row = sqlx::query(
        "SELECT s.name, s.role, x.csrf, s.must_change FROM sessions x \
         JOIN staff s ON s.name = x.staff_name WHERE x.id_hash = $1 AND x.expires_at > $2",
    )
    .bind(sha256_hex(cookie))
    .bind(now_ms())
    .fetch_optional(store.pool())
    .await?;
    Ok(row.map(|r| {
        let role: String = r.get(1);
        Session {
            cookie: cookie.to_owned(),
            csrf: r.get(2),
            actor: Actor {
                name: r.get(0),
                role: Role::parse(&role).unwrap_or(Role::Staff),
            },
            must_change: r.get::<i64, _>(3) != 0,
            notice: None,
            attention: None,
        }
    }))
}

/// Leaves `text` for the session's next page to show once (after a form was handled): the
/// console's notices live with the session, never in the address (a link cannot make the
/// city's console print a text of its author's).
pub async fn leave_notice(store: &Store, cookie: &str, text: &str) -> Result<(), StaffError> {
    sqlx::query("UPDATE sessions SET notice = $1 WHERE id_hash = $2")
        .bind(text)
        .bind(sha256_hex(cookie))
        .execute(store.pool())
        .await?;
    Ok(())
}

/// Takes the notice [`leave_notice`] left for this session, if any, so that it shows once.
pub async fn take_notice(store: &Store, cookie: &str) -> Result<Option<String>, StaffError> {
    let id = sha256_hex(cookie);
    let row = sqlx::query("SELECT notice FROM sessions WHERE id_hash = $1 AND notice IS NOT NULL")
        .bind(&id)
        .fetch_optional(store.pool())
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let notice: String = row.get(0);
    // Only the reader that clears it shows it (two tabs at once: one of them).
    let cleared =
        sqlx::query("UPDATE sessions SET notice = NULL WHERE id_hash = $1 AND notice = $2")
            .bind(&id)
            .bind(&notice)
            .execute(store.pool())
            .await?;
    Ok((cleared.rows_affected() > 0).then_some(notice))
}

/// Deletes the sessions that expired at or before `now` (a cookie of one no longer opens
/// anything; this only stops them piling up). Returns how many.
pub async fn prune_sessions(store: &Store, now: i64) -> Result<u64, StaffError> {
    let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(now)
        .execute(store.pool())
        .await?;
    Ok(done.rows_affected())
}

/// Ends a session.
pub async fn logout(store: &Store, cookie: &str) -> Result<(), StaffError> {
    sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
        .bind(sha256_hex(cookie))
        .execute(store.pool())
        .await?;
    Ok(())
}

/// Sets `name`'s password on the server (`kicau staff password`, for whoever runs the bot):
/// no current password asked, the one-time password retired, every session ended; audited.
pub async fn set_password(store: &Store, name: &str, new: &str) -> Result<(), StaffError> {
    check_new_password(name, new)?;
    let new = new.to_owned();
    let hashed = tokio::task::spawn_blocking(move || hash_password(&new))
        .await
        .map_err(|e| StaffError::Hash(e.to_string()))??;
    replace_password(store, name, &hashed, None, "cli", "password_set").await
}

/// Stores a new password hash for `name`, retires the one-time password, ends every session
/// but `keep`, and audits `action` by `by`.
async fn replace_password(
    store: &Store,
    name: &str,
    hashed: &str,
    keep: Option<&str>,
    by: &str,
    action: &str,
) -> Result<(), StaffError> {
    let done = sqlx::query(
        "UPDATE staff SET password_hash = $1, must_change = 0, otp_expires_at = 0, \
         otp_used_at = 0 WHERE name = $2",
    )
    .bind(hashed)
    .bind(name)
    .execute(store.pool())
    .await?;
    if done.rows_affected() == 0 {
        return Err(StaffError::Unknown(name.to_owned()));
    }
    sqlx::query("DELETE FROM sessions WHERE staff_name = $1 AND id_hash <> $2")
        .bind(name)
        .bind(keep.map(sha256_hex).unwrap_or_default())
        .execute(store.pool())
        .await?;
    store
        .audit(by, action, &format!("staff:{name}"), "")
        .await?;
    Ok(())
}

/// Sets a new password (after checking the current one), retires the one-time password, and
/// ends every session of the account but `keep` (the session cookie that asked, if any).
pub async fn change_password(
    store: &Store,
    name: &str,
    current: &str,
    new: &str,
    keep: Option<&str>,
) -> Result<bool, StaffError> {
    if new == current {
        return Err(StaffError::SamePassword);
    }
    check_new_password(name, new)?;
    let Some((_, hash, _)) = actor(store, name).await? else {
        return Err(StaffError::Unknown(name.to_owned()));
    };
    let (current, new) = (current.to_owned(), new.to_owned());
    let hashed = tokio::task::spawn_blocking(move || {
        verify_password(&current, &hash)
            .then(|| hash_password(&new))
            .transpose()
    })
    .await
    .map_err(|e| StaffError::Hash(e.to_string()))??;
    let Some(hashed) = hashed else {
        return Ok(false);
    };
    replace_password(store, name, &hashed, keep, name, "password_change").await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let hash = hash_password("rahasia-sekali-123").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("rahasia-sekali-123", &hash));
        assert!(!verify_password("rahasia-sekali-124", &hash));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn common_and_guessable_passwords_are_refused() {
        for weak in [
            "password1234",
            "passwordpassword",
            "qwertyuiop123",
            "123456789012",
            "pemkotmalang123",
            "kicau-kicau-kicau",
            "sari12345678",
            "aaaaaaaaaaaaaaa",
            "iloveyou2026!",
        ] {
            assert!(
                matches!(
                    check_new_password("sari", weak),
                    Err(StaffError::CommonPassword)
                ),
                "{weak} should be refused"
            );
        }
        assert!(matches!(
            check_new_password("sari", "pendek"),
            Err(StaffError::WeakPassword)
        ));
        for good in [
            "kata-sandi-baru-sari",
            "kata-sandi-budi-baru",
            "kata-sandi-baru-yang-panjang",
            "kata-sandi-yang-panjang",
            "kata-sandi-sari-uji",
            "kata-sandi-kepala-uji",
            "kopi tubruk di alun-alun",
            "Jembatan7Merah&Bakso",
        ] {
            assert!(
                check_new_password("sari", good).is_ok(),
                "{good} should be accepted"
            );
        }
    }

    #[test]
    fn names_are_checked() {
        assert!(valid_name("sari.dewi"));
        assert!(!valid_name("a"));
        assert!(!valid_name("x y"));
        assert!(!valid_name("<script>"));
    }

    #[test]
    fn one_time_passwords_are_long_and_fresh() {
        let a = one_time_password();
        assert_eq!(a.len(), 16);
        assert_ne!(a, one_time_password());
    }
}
