//! The account's OAuth 2.0 tokens for X, kept in the database so that several instances share
//! the rotating refresh token.

use sqlx::Row;

use super::{Result, Store, XToken, now_ms};

impl Store {
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
}
