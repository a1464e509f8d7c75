//! The dispatcher: sends queued tweets, most urgent first (emergencies, then ticket news and
//! staff replies, then the rest), and records each send. 429 waits for X's reset; 5xx and
//! timeouts back off; a refusal that will never succeed goes to the dead letters. A send cut
//! short by a crash is looked up in the account's timeline before it is tried again, so nothing
//! is posted twice.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::watch;

use super::Service;
use super::poll::{Backoff, Loop, Step};
use crate::channels::x::{Parent, XError};
use crate::store::now_ms;

/// How long a claimed tweet is reserved for one dispatcher.
const LEASE: Duration = Duration::from_secs(30);

impl Service {
    /// Sends queued tweets until `shutdown`, letting the one in hand finish.
    pub(super) async fn dispatch(self, shutdown: watch::Receiver<bool>) -> anyhow::Result<()> {
        // Sends cut short by a crash are taken again when their lease runs out, and checked
        // against the account's timeline before any second attempt (see `dispatch_once`).
        for item in self.store.in_flight("x").await? {
            tracing::info!(key = %item.idempotency_key, "a send was interrupted by a stop: it will be reconciled");
        }
        Loop::every("dispatcher", Duration::from_millis(100))
            .run(shutdown, || async {
                match self.dispatch_once().await {
                    Ok(worked) => Ok(Step::after(worked)),
                    Err(e) => {
                        tracing::error!(error = %e, "the dispatcher failed; it will retry");
                        Ok(Step::Idle)
                    }
                }
            })
            .await;
        Ok(())
    }

    /// Sends one due tweet. Returns false when none was due.
    pub async fn dispatch_once(&self) -> anyhow::Result<bool> {
        let Some(item) = self.store.claim_outbox("x", LEASE).await? else {
            return Ok(false);
        };
        let payload: Value = match serde_json::from_str(&item.payload) {
            Ok(v) => v,
            Err(e) => {
                self.store
                    .mark_dead(item.id, &format!("unreadable payload: {e}"))
                    .await?;
                return Ok(true);
            }
        };
        let text = payload["text"].as_str().unwrap_or_default().to_owned();
        // A later part of a thread answers the part before it, once that one is out.
        // The first part answers a citizen who mentioned the account (a "summoned" reply, as X
        // bills it); a later part answers the account's own previous part.
        // The first part of the account's own post (an announcement) answers nobody.
        let own_post = payload["post"].as_bool() == Some(true);
        let (parent, summoned) = match (payload["in_reply_to"].as_str(), payload["after"].as_str())
        {
            (None, None) if own_post => (String::new(), false),
            (Some(parent), _) => (parent.to_owned(), true),
            (None, Some(previous)) => match self.store.outbox_by_key(previous).await? {
                Some(prev) if prev.state == "sent" => (prev.remote_id.unwrap_or_default(), false),
                Some(prev) if prev.state == "dead" => {
                    self.store
                        .mark_dead(item.id, "the previous part of the thread failed")
                        .await?;
                    return Ok(true);
                }
                _ => {
                    self.store
                        .mark_retry(item.id, now_ms() + 500, "waiting for the previous part")
                        .await?;
                    return Ok(true);
                }
            },
            (None, None) => {
                self.store
                    .mark_dead(item.id, "payload names no tweet to reply to")
                    .await?;
                return Ok(true);
            }
        };
        // A second attempt may follow a send that reached X before the crash: look first.
        if item.attempts > 1
            && let Some(existing) = self.find_sent(&parent, &text).await?
        {
            tracing::info!(key = %item.idempotency_key, tweet = %existing, "already on X: recorded, not sent again");
            self.store.mark_sent(item.id, &existing).await?;
            return Ok(true);
        }
        let to = if parent.is_empty() {
            Parent::None
        } else if summoned {
            Parent::Summoner(&parent)
        } else {
            Parent::Post(&parent)
        };
        match self.x.create_tweet(&text, to).await {
            Ok(posted) => {
                self.store.mark_sent(item.id, &posted.id).await?;
                self.bill(&posted.billed).await;
            }
            Err(e) if e.is_duplicate() => match self.find_sent(&parent, &text).await? {
                Some(existing) => self.store.mark_sent(item.id, &existing).await?,
                // The same citizen asked the same again within a day: X refuses the identical
                // answer, so the second one carries a reference to the question it answers.
                None if payload.get("reworded").is_none() => {
                    let suffix = format!(" (ref. {})", &parent[parent.len().saturating_sub(6)..]);
                    let mut reworded = payload.clone();
                    reworded["text"] = json!(format!("{text}{suffix}"));
                    reworded["reworded"] = json!(true);
                    if crate::tweet::fits(reworded["text"].as_str().unwrap_or_default()) {
                        self.store
                            .retry_with_payload(item.id, &reworded.to_string(), &e.to_string())
                            .await?
                    } else {
                        self.store.mark_dead(item.id, &e.to_string()).await?
                    }
                }
                None => self.store.mark_dead(item.id, &e.to_string()).await?,
            },
            Err(XError::RateLimited { reset_at }) => {
                tracing::warn!(key = %item.idempotency_key, "posting rate limited: waiting for the reset");
                self.store
                    .mark_retry(item.id, (reset_at as i64) * 1000 + 250, "rate limited")
                    .await?
            }
            Err(XError::Rejected { status, detail }) => {
                tracing::error!(key = %item.idempotency_key, status, %detail, "X refused a reply: moved to dead letters");
                self.store
                    .mark_dead(item.id, &format!("{status}: {detail}"))
                    .await?
            }
            Err(e) => {
                let wait = Backoff::for_attempt(item.attempts);
                tracing::warn!(key = %item.idempotency_key, error = %e, "posting failed: will retry");
                self.store
                    .mark_retry(item.id, now_ms() + wait.as_millis() as i64, &e.to_string())
                    .await?
            }
        }
        Ok(true)
    }

    /// The id of the account's tweet that replies to `parent` (none: a post of its own, `""`) with
    /// `text`, if one is on X. The
    /// text matters: the bot's "a person will reply" and the person's reply answer the same
    /// tweet. X shortens links (t.co), so links are left out of the comparison.
    async fn find_sent(&self, parent: &str, text: &str) -> anyhow::Result<Option<String>> {
        let mut token: Option<String> = None;
        for _ in 0..5 {
            let page = match self.x.user_tweets(&self.account_id, token.as_deref()).await {
                Ok(page) => page,
                Err(e) => return Err(anyhow::anyhow!("reading the account's timeline: {e}")),
            };
            self.bill(&page.billed).await;
            for t in &page.tweets {
                let answers = match t.replied_to() {
                    Some(replied) => replied == parent,
                    None => parent.is_empty(),
                };
                if answers && same_text(&t.text, text) {
                    return Ok(Some(t.id.clone()));
                }
            }
            match page.next_token {
                Some(next) => token = Some(next),
                None => break,
            }
        }
        Ok(None)
    }
}

/// Whether two tweet texts are the same once links and spacing are set aside.
fn same_text(a: &str, b: &str) -> bool {
    let words = |t: &str| -> Vec<String> {
        t.split_whitespace()
            .filter(|w| !w.starts_with("http://") && !w.starts_with("https://"))
            .map(str::to_owned)
            .collect()
    };
    words(a) == words(b)
}
