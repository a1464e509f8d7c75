//! Retention for the newsroom's tables: once a draft is published or rejected and older than
//! the retention period, its versions, staff's comments and chat links go (they may name people
//! or hold what an agency sent by mistake); a rejected draft's text goes too. A published
//! draft's final text stays: it is on X, and the office's figures count it.

use crate::store::{Result, Store};

/// Empties what the newsroom keeps of drafts closed before `cutoff`. Returns how many versions
/// of their text went.
pub async fn retain(store: &Store, cutoff: i64) -> Result<u64> {
    let closed = "SELECT id FROM drafts WHERE state IN ('terbit', 'ditolak') AND updated_at < $1";
    let mut tx = store.begin().await?;
    sqlx::query(&format!(
        "DELETE FROM draft_comments WHERE draft_id IN ({closed})"
    ))
    .bind(cutoff)
    .execute(&mut *tx)
    .await?;
    let drafts = sqlx::query(&format!(
        "DELETE FROM draft_edits WHERE draft_id IN ({closed})"
    ))
    .bind(cutoff)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    sqlx::query(&format!(
        "DELETE FROM draft_links WHERE draft_id IN ({closed})"
    ))
    .bind(cutoff)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE drafts SET text = '', reason = NULL WHERE state = 'ditolak' AND updated_at < $1 \
         AND text <> ''",
    )
    .bind(cutoff)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(drafts)
}
