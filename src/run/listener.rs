//! The listener: reads the account's mentions on X newer than the stored cursor, every page, and
//! stores them with the new cursor in one transaction (a crash keeps both or neither).
//!
//! X serves only the 800 newest mentions. In a burst, newer mentions push older ones out of
//! that window while the listener pages back, so it pages without pausing and reads again at
//! once after a full read. When a read took more than one page, it checks that X still serves
//! the mention at its cursor (or older): if not, the mentions between the cursor and the oldest
//! one read are gone, and that gap is recorded, never silent: a dead letter with both ids, an
//! event for the console and the staff group, and `kicau_mention_gaps_total` in /metrics.

use std::time::Duration;

use tokio::sync::watch;

use super::Service;
use super::poll::{Loop, Step};
use crate::channels::x::{XError, XTweet};
use crate::store::{NewMention, now_ms};

/// The listener's cursor name in the store.
pub const MENTIONS_CURSOR: &str = "x.mentions";
/// How many of the newest mentions X keeps reachable.
const MENTIONS_WINDOW: usize = 800;
/// Mentions in a full page of the listener's reads (`max_results`).
const PAGE_SIZE: usize = 100;
/// Where a gap is recorded among the dead letters.
pub const GAP_SOURCE: &str = "x.mentions";

impl Service {
    /// Reads mentions every `poll_interval` until `shutdown`, waiting out rate limits.
    pub(super) async fn listen(self, shutdown: watch::Receiver<bool>) -> anyhow::Result<()> {
        let mut poll = Loop::every("listener", self.poll_interval);
        poll.lease = self.mention_lease.clone();
        poll.run(shutdown, || async {
            match self.poll_once().await {
                Ok(stored) => {
                    if stored > 0 {
                        tracing::info!(stored, "new mentions stored");
                    }
                    // A full page or more: more may be arriving; read again at once.
                    Ok(Step::after(stored >= PAGE_SIZE))
                }
                Err(XError::RateLimited { reset_at }) => {
                    let wait = until(reset_at);
                    tracing::warn!(
                        seconds = wait.as_secs(),
                        "mentions rate limited: waiting for the reset"
                    );
                    Ok(Step::Wait(wait))
                }
                Err(e) => Err(anyhow::anyhow!("reading mentions failed: {e}")),
            }
        })
        .await;
        Ok(())
    }

    /// Reads every mention newer than the cursor, all pages, and stores them with the new
    /// cursor in one transaction. Returns how many were new.
    pub async fn poll_once(&self) -> Result<usize, XError> {
        let since = self
            .store
            .cursor(MENTIONS_CURSOR)
            .await
            .map_err(|e| XError::Transient(e.to_string()))?;
        let mut tweets: Vec<XTweet> = Vec::new();
        let mut users = std::collections::HashMap::new();
        let mut token: Option<String> = None;
        let mut pages = 0;
        loop {
            let page = self
                .x
                .mentions(&self.account_id, since.as_deref(), token.as_deref())
                .await?;
            pages += 1;
            self.bill(&page.billed).await;
            for user in page.users {
                users.insert(user.id.clone(), user.username.clone());
            }
            tweets.extend(page.tweets);
            match page.next_token {
                Some(next) => token = Some(next),
                None => break,
            }
        }
        if tweets.is_empty() {
            return Ok(0);
        }
        if tweets.len() >= MENTIONS_WINDOW / 2 {
            tracing::warn!(
                read = tweets.len(),
                "the listener is falling behind X's 800-mention window"
            );
        }
        let newest = tweets
            .iter()
            .map(|t| &t.id)
            .max_by_key(|id| id_order(id))
            .cloned()
            .expect("non-empty");
        if let Some(cursor) = since.as_deref()
            && pages > 1
        {
            let oldest = tweets
                .iter()
                .map(|t| &t.id)
                .min_by_key(|id| id_order(id))
                .cloned()
                .expect("non-empty");
            self.check_reach(cursor, &oldest).await?;
        }
        let mentions: Vec<NewMention> = tweets
            .into_iter()
            .map(|t| NewMention {
                author_username: t
                    .author_id
                    .as_ref()
                    .and_then(|id| users.get(id))
                    .cloned()
                    .unwrap_or_default(),
                author_id: t.author_id.clone().unwrap_or_default(),
                conversation_id: t.conversation_id.clone(),
                in_reply_to_id: t.replied_to().map(str::to_owned),
                created_at: t
                    .created_at
                    .as_deref()
                    .map(parse_time)
                    .unwrap_or_else(now_ms),
                text: t.text.clone(),
                tweet_id: t.id.clone(),
                raw: t.raw.clone(),
            })
            .collect();
        self.store
            .store_mentions(MENTIONS_CURSOR, &mentions, Some(&newest))
            .await
            .map_err(|e| XError::Transient(e.to_string()))
    }
}

impl Service {
    /// Whether X still serves the mention at `cursor` (or an older one) below `oldest`, the
    /// oldest mention this read got; if not, records the gap between them.
    async fn check_reach(&self, cursor: &str, oldest: &str) -> Result<(), XError> {
        let older = self.x.mentions_before(&self.account_id, oldest).await?;
        self.bill(&older.billed).await;
        let reaches = older
            .tweets
            .iter()
            .any(|t| id_order(&t.id) <= id_order(cursor));
        if reaches {
            return Ok(());
        }
        self.record_gap(cursor, oldest)
            .await
            .map_err(|e| XError::Transient(e.to_string()))
    }

    /// Records that the mentions after `after` and before `before` fell out of X's window.
    async fn record_gap(&self, after: &str, before: &str) -> Result<(), crate::store::StoreError> {
        let now = now_ms();
        let detail = serde_json::json!({
            "after_id": after,
            "before_id": before,
            "detected_at": crate::store::rfc3339(now),
        });
        let mut tx = self.store.begin().await?;
        crate::store::insert_dead_letter(
            &mut tx,
            GAP_SOURCE,
            &format!("gap {after}..{before}"),
            &detail.to_string(),
            "mentions after the first id and before the second fell out of X's 800-mention \
             window before they could be read; search X for mentions of the account in between",
            now,
        )
        .await?;
        crate::desk::conversation::insert_event(
            &mut tx,
            "mentions_gap",
            None,
            "system",
            &detail,
            now,
        )
        .await?;
        tx.commit().await?;
        self.desk.notify();
        tracing::error!(
            after,
            before,
            "mentions lost: X's 800-mention window moved past the listener's cursor; the gap is recorded"
        );
        Ok(())
    }
}

/// X's ids are decimal numbers too long for a u64 to be sure: by length, then digits.
fn id_order(id: &str) -> (usize, &str) {
    (id.len(), id)
}

/// X's `created_at` (RFC 3339) in milliseconds.
fn parse_time(text: &str) -> i64 {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
        .unwrap_or_else(|_| now_ms())
}

pub(super) fn until(reset_at: u64) -> Duration {
    let now = (now_ms() / 1000) as u64;
    Duration::from_secs(reset_at.saturating_sub(now)) + Duration::from_millis(250)
}
