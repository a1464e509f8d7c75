//! The listener: reads the account's mentions on X newer than the stored cursor, every page, and
//! stores them with the new cursor in one transaction (a crash keeps both or neither). X keeps
//! only the 800 newest mentions reachable: a listener that falls that far behind is warned.

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
                    Ok(Step::Idle)
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
        loop {
            let page = self
                .x
                .mentions(&self.account_id, since.as_deref(), token.as_deref())
                .await?;
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
        if since.is_some() && tweets.len() >= MENTIONS_WINDOW {
            tracing::error!(
                read = tweets.len(),
                "the listener read {MENTIONS_WINDOW} mentions at once: older ones may be out of X's window and lost; poll more often"
            );
        } else if tweets.len() >= MENTIONS_WINDOW / 2 {
            tracing::warn!(
                read = tweets.len(),
                "the listener is falling behind X's 800-mention window"
            );
        }
        let newest = tweets
            .iter()
            .map(|t| t.id.clone())
            .max_by(|a, b| (a.len(), a).cmp(&(b.len(), b)))
            .expect("non-empty");
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
