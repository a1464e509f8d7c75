//! What the store forgets of a citizen (see `crate::privacy`): the texts, raw JSON and authors of
//! their mentions, the evidence of the decisions on them, the payloads of delivered or dead
//! messages that named them, dead letters about them, and their "stop". Ids stay as keys, and
//! every idempotency key stays, so nothing forgotten is ever sent again.

use sqlx::Row as _;

use super::{Result, Store, Tx};

/// Empties the texts of these mentions and the evidence of their decisions.
pub async fn forget_tweets(tx: &mut Tx<'_>, tweet_ids: &[String]) -> Result<u64> {
    let mut done = 0;
    for id in tweet_ids {
        done += sqlx::query(
            "UPDATE inbox SET text = '', raw = '{}', author_username = '', author_id = '' \
             WHERE tweet_id = $1",
        )
        .bind(id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        sqlx::query("UPDATE decisions SET evidence = '{}' WHERE tweet_id = $1")
            .bind(id)
            .execute(&mut **tx)
            .await?;
        sqlx::query("UPDATE dead_letters SET payload = '{}' WHERE payload LIKE $1")
            .bind(format!("%{id}%"))
            .execute(&mut **tx)
            .await?;
    }
    Ok(done)
}

/// Forgets what names `handle` (without "@") or is about the X user `user_id`: the payloads of
/// messages to them (those not sent yet are cancelled), dead letters, and their "stop".
pub async fn forget_author(tx: &mut Tx<'_>, handle: &str, user_id: Option<&str>) -> Result<()> {
    let named = format!("%@{}%", handle.to_lowercase());
    // Not yet sent: never sent now (the citizen asked to be forgotten); in flight: left alone.
    sqlx::query(
        "UPDATE outbox SET payload = '{}', \
         last_error = CASE WHEN state = 'pending' THEN 'cancelled: the citizen asked to be forgotten' \
                      ELSE last_error END, \
         state = CASE WHEN state = 'pending' THEN 'dead' ELSE state END \
         WHERE state <> 'sending' AND LOWER(payload) LIKE $1",
    )
    .bind(&named)
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE dead_letters SET payload = '{}' WHERE LOWER(payload) LIKE $1")
        .bind(format!("%{}%", handle.to_lowercase()))
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM opt_outs WHERE LOWER(username) = $1 OR user_id = $2")
        .bind(handle.to_lowercase())
        .bind(user_id.unwrap_or(""))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Empties the payloads of messages last touched before `cutoff` (one still pending then is
/// given up) and of dead letters kept before it; their keys stay. Returns how many rows.
pub async fn prune(store: &Store, cutoff: i64) -> Result<u64> {
    let mut tx = store.begin().await?;
    // A message still pending after the whole period will not be wanted any more: given up.
    let outbox = sqlx::query(
        "UPDATE outbox SET payload = '{}', \
         last_error = CASE WHEN state = 'pending' THEN 'given up: past the retention period' \
                      ELSE last_error END, \
         state = CASE WHEN state = 'pending' THEN 'dead' ELSE state END \
         WHERE state <> 'sending' AND updated_at < $1 AND payload <> '{}'",
    )
    .bind(cutoff)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let letters = sqlx::query(
        "UPDATE dead_letters SET payload = '{}' WHERE created_at < $1 AND payload <> '{}'",
    )
    .bind(cutoff)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(outbox + letters)
}

/// The X user id the store knows for `handle`, from its mentions.
pub async fn author_id(store: &Store, handle: &str) -> Result<Option<String>> {
    let row = sqlx::query(
        "SELECT author_id FROM inbox WHERE LOWER(author_username) = $1 AND author_id <> '' LIMIT 1",
    )
    .bind(handle.to_lowercase())
    .fetch_optional(store.pool())
    .await?;
    Ok(row.map(|r| r.get(0)))
}
