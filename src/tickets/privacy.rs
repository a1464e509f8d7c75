//! What the tickets forget of a citizen (see `crate::privacy`): the reporter's handle and id and
//! the tweet the status replies answered. The ticket stays, with its agency, category, states,
//! deadlines and the complaint's words (stored with personal data redacted), so the agencies'
//! figures do not change.

use crate::store::Tx;

/// Anonymises the reporter of every ticket born from these conversations, or reported by
/// `handle` (without "@") or the X user `user_id`, and drops their unfinished reports. Returns
/// how many tickets changed.
pub async fn forget_reporter(
    tx: &mut Tx<'_>,
    conversations: &[String],
    handle: Option<&str>,
    user_id: Option<&str>,
) -> Result<u64, sqlx::Error> {
    let mut done = 0;
    for id in conversations {
        done += sqlx::query(
            "UPDATE tickets SET reporter = 'anonim', reporter_id = '', tweet_id = '' \
             WHERE conversation_id = $1 AND reporter <> 'anonim'",
        )
        .bind(id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        sqlx::query("DELETE FROM pending_reports WHERE conversation_id = $1")
            .bind(id)
            .execute(&mut **tx)
            .await?;
    }
    if let Some(handle) = handle {
        done += sqlx::query(
            "UPDATE tickets SET reporter = 'anonim', reporter_id = '', tweet_id = '' \
             WHERE LOWER(reporter) = $1 OR reporter_id = $2",
        )
        .bind(handle.to_lowercase())
        .bind(user_id.unwrap_or("\u{0}"))
        .execute(&mut **tx)
        .await?
        .rows_affected();
    }
    Ok(done)
}
