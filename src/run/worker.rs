//! The worker: claims one stored mention at a time and decides what to do with it. The account's
//! own tweets, retweets and tweets that do not mention it are ignored; "stop" and "mulai" switch
//! automatic replies; "cek laporan" and replies in a citizen's own ticket thread are answered
//! from the ticket; everything else goes to triage. What was decided is recorded in one
//! transaction by [`super::intake`].

use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::watch;

use super::Service;
use super::poll::{Loop, Step};
use crate::channels::x::XTweet;
use crate::desk::messages::{STARTED, STOPPED};
use crate::store::NewDecision;
use crate::tickets::messages as ticket_messages;
use crate::triage::Kind;

/// Priority of emergency replies in the outbox (others are 0).
const EMERGENCY_PRIORITY: i64 = 100;
/// How long a claimed mention is reserved for one worker.
const LEASE: Duration = Duration::from_secs(30);
/// After this many failed attempts, a mention is a poison message: it goes to dead letters.
const MAX_MENTION_ATTEMPTS: i64 = 5;

impl Service {
    /// Decides stored mentions until `shutdown`, letting the one in hand finish.
    pub(super) async fn work(self, shutdown: watch::Receiver<bool>) -> anyhow::Result<()> {
        Loop::every("worker", Duration::from_millis(100))
            .run(shutdown, || async {
                match self.work_once().await {
                    Ok(worked) => Ok(Step::after(worked)),
                    Err(e) => {
                        tracing::error!(error = %e, "the worker failed on a mention; it will be retried");
                        Ok(Step::Idle)
                    }
                }
            })
            .await;
        Ok(())
    }

    /// Decides one stored mention. Returns false when there was none.
    pub async fn work_once(&self) -> anyhow::Result<bool> {
        let Some(mention) = self.store.claim_mention(LEASE).await? else {
            return Ok(false);
        };
        if mention.attempts > MAX_MENTION_ATTEMPTS {
            tracing::error!(tweet = %mention.tweet_id, "a mention failed {MAX_MENTION_ATTEMPTS} times: moved to dead letters");
            self.store
                .bury_mention(&mention.tweet_id, "failed repeatedly while being processed")
                .await?;
            return Ok(true);
        }
        let verdict = self.decide(&mention).await?;
        let priority = if verdict.kind == Kind::Emergency {
            EMERGENCY_PRIORITY
        } else {
            0
        };
        let decision = verdict.record;
        let tweets = verdict.replies;
        let recorded = super::intake::record_mention(
            &self.store,
            &mention,
            &super::intake::Decided {
                decision: &decision,
                kind: verdict.kind,
                replies: &tweets,
                priority,
                joins: verdict.joins,
                essential: verdict.can_wait
                    && matches!(verdict.kind, Kind::Answer | Kind::Handoff | Kind::Report)
                    && self.budget.essential_now().await,
            },
            self.tickets.as_ref(),
        )
        .await?;
        if recorded.replay {
            return Ok(true);
        }
        self.desk.notify();
        tracing::info!(
            tweet = %mention.tweet_id,
            kind = %decision.kind,
            rule = %decision.rule,
            replies = recorded.queued,
            conversation = recorded.conversation.as_deref().unwrap_or("-"),
            silenced = recorded.silenced,
            "mention decided"
        );
        Ok(true)
    }

    /// The decision for a mention and the tweets to post. Only tweets that mention the account
    /// are answered; the account's own tweets and retweets never; "stop" and "mulai" switch
    /// automatic replies off and on (an emergency is still answered with 112).
    async fn decide(&self, m: &crate::store::Mention) -> anyhow::Result<Verdict> {
        let raw: Value = serde_json::from_str(&m.raw).unwrap_or(Value::Null);
        let tweet: Option<XTweet> = serde_json::from_value(raw).ok();
        if m.author_id == self.account_id {
            return Ok(Verdict::outside("own_tweet"));
        }
        if let Some(t) = &tweet {
            if t.is_retweet() {
                return Ok(Verdict::outside("retweet"));
            }
            if !t.mentions(&self.account) {
                return Ok(Verdict::outside("not_a_mention"));
            }
        }
        let answer = |rule: &str, text: &str| {
            Verdict::new(
                Kind::Answer,
                rule,
                crate::tweet::thread(&m.author_username, text),
            )
        };
        match command_of(&m.text, &self.account) {
            Some(Command::Stop) => {
                self.store.opt_out(&m.author_id, &m.author_username).await?;
                let who = format!("citizen:{}", m.author_id);
                self.store
                    .audit(&who, "opt_out", &m.tweet_id, "wrote stop")
                    .await?;
                return Ok(answer("opt_out", STOPPED));
            }
            Some(Command::Start) => {
                self.store.opt_in(&m.author_id).await?;
                let who = format!("citizen:{}", m.author_id);
                self.store
                    .audit(&who, "opt_in", &m.tweet_id, "wrote mulai")
                    .await?;
                return Ok(answer("opt_in", STARTED));
            }
            None => {}
        }
        if let (Some(tickets), Some(number)) = (&self.tickets, crate::tickets::number_in(&m.text)) {
            let text = match tickets.get(&self.store, &number).await {
                Ok(ticket) => match tickets.agency(&ticket.agency) {
                    Some(agency) => crate::tickets::status_text(&ticket, agency),
                    None => ticket_messages::bare_status_text(&ticket),
                },
                Err(crate::tickets::TicketError::NotFound(_)) => {
                    ticket_messages::not_found_text(&number)
                }
                Err(e) => return Err(e.into()),
            };
            return Ok(answer("ticket_status", &text));
        }
        let engine = self.engine.get();
        let decision = engine.triage(&m.text);
        // Read once: "stop" silences ticket threads and triage alike (never an emergency).
        let opted_out = self.store.is_opted_out(&m.author_id).await?;
        if decision.kind != Kind::Emergency
            && let Some(found) = self.thread_ticket(m, &decision, opted_out).await?
        {
            return Ok(found);
        }
        if opted_out && decision.kind != Kind::Emergency {
            return Ok(Verdict::new(Kind::Ignore, "opted_out", Vec::new()));
        }
        let replies = engine.reply_thread(&decision, &m.author_username);
        Ok(Verdict {
            kind: decision.kind,
            joins: true,
            can_wait: true,
            record: NewDecision {
                conversation_id: None,
                kind: decision.kind.to_string(),
                topic: decision.topic.clone(),
                agency: decision.agency.clone(),
                rule: decision.rule.to_owned(),
                evidence: serde_json::to_string(&decision.evidence)?,
            },
            replies,
        })
    }

    /// A reply in the thread of the citizen's own ticket: a question about it gets its status;
    /// "still broken" after "selesai" goes to staff to reopen it; a complaint while it is being
    /// handled gets its status rather than a second ticket. None when the triage decides.
    async fn thread_ticket(
        &self,
        m: &crate::store::Mention,
        decision: &crate::triage::Decision,
        quiet: bool,
    ) -> anyhow::Result<Option<Verdict>> {
        use crate::tickets::{ThreadReply, TicketState};
        let (Some(tickets), Some(_), Some(thread)) =
            (&self.tickets, &m.in_reply_to_id, &m.conversation_id)
        else {
            return Ok(None);
        };
        let Some(ticket) = tickets.in_thread(&self.store, thread, &m.author_id).await? else {
            return Ok(None);
        };
        let Some(agency) = tickets.agency(&ticket.agency) else {
            return Ok(None);
        };
        let reply = crate::tickets::thread_reply(&m.text);
        // After "stop" (`quiet`): no automatic reply, but a dispute still reaches staff.
        let resolved = ticket.state == TicketState::Resolved;
        let disputed = resolved
            && (reply == ThreadReply::NotFixed
                || (reply == ThreadReply::Other && decision.kind == Kind::Report));
        let status = if resolved {
            reply == ThreadReply::AsksStatus
        } else {
            reply != ThreadReply::Other || decision.kind == Kind::Report
        };
        let verdict = |kind: Kind, rule: &str, replies: Vec<String>| {
            let mut v = Verdict::new(kind, rule, replies);
            v.record.agency = Some(ticket.agency.clone());
            v.record.evidence =
                json!({"ticket": ticket.number, "state": ticket.state.as_str()}).to_string();
            v
        };
        if disputed {
            let text = ticket_messages::disputed_text(&ticket, agency);
            let replies = if quiet {
                Vec::new()
            } else {
                crate::tweet::thread(&m.author_username, &text)
            };
            return Ok(Some(verdict(Kind::Handoff, "ticket_disputed", replies)));
        }
        if status && quiet {
            return Ok(Some(verdict(Kind::Ignore, "opted_out", Vec::new())));
        }
        if status {
            let text = crate::tickets::status_text(&ticket, agency);
            let replies = crate::tweet::thread(&m.author_username, &text);
            return Ok(Some(verdict(Kind::Answer, "ticket_status", replies)));
        }
        Ok(None)
    }
}

/// What the worker decided about a mention, before it is recorded.
struct Verdict {
    kind: Kind,
    /// Whether the mention belongs in a conversation (the account's own tweets, retweets and
    /// tweets that do not mention it do not).
    joins: bool,
    /// A triage decision, whose automatic tweets a spent budget holds (`[costs] at_budget`);
    /// the worker's own replies ("stop", a ticket's status) always go out.
    can_wait: bool,
    record: NewDecision,
    replies: Vec<String>,
}

impl Verdict {
    /// A decision of the worker's own (not triage's), by its rule.
    fn new(kind: Kind, rule: &str, replies: Vec<String>) -> Verdict {
        Verdict {
            kind,
            joins: true,
            can_wait: false,
            record: NewDecision {
                conversation_id: None,
                kind: kind.to_string(),
                topic: None,
                agency: None,
                rule: rule.into(),
                evidence: "{}".into(),
            },
            replies,
        }
    }

    /// A tweet that is not a citizen's mention of the account: ignored, in no conversation.
    fn outside(rule: &str) -> Verdict {
        Verdict {
            joins: false,
            ..Verdict::new(Kind::Ignore, rule, Vec::new())
        }
    }
}

enum Command {
    Stop,
    Start,
}

/// "stop" or "mulai" alone (besides the account's handle) switches automatic replies.
fn command_of(text: &str, account: &str) -> Option<Command> {
    let handle = format!("@{}", account.to_lowercase());
    let rest: Vec<String> = text
        .split_whitespace()
        .map(|w| {
            w.to_lowercase()
                .trim_matches(|c: char| !c.is_alphanumeric() && c != '@')
                .to_owned()
        })
        .filter(|w| !w.is_empty() && *w != handle)
        .collect();
    match rest.as_slice() {
        [w] if w == "stop" || w == "berhenti" || w == "unsubscribe" => Some(Command::Stop),
        [w] if w == "mulai" || w == "start" => Some(Command::Start),
        _ => None,
    }
}
