/*!
`kicau run`: the wiring that reaches everything. Three loops share one store:

- the **listener** reads new mentions (since the stored cursor, every page) and stores them and
  the new cursor in one transaction;
- the **worker** claims one stored mention at a time, decides with the answer engine and records
  the decision and its outgoing tweets in one transaction;
- the **dispatcher** sends queued tweets, most urgent first, and records each send.

A crash anywhere loses nothing (work is leased, and a lease that runs out is taken again) and
sends nothing twice (each tweet has an idempotency key, and a send that may have reached X before
the crash is looked up in the account's timeline before it is tried again).
*/

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::watch;

use crate::channels::x::{XClient, XError, XTweet};
use crate::config::SandboxMode;
use crate::store::lease::Lease;
use crate::store::{NewDecision, NewMention, Store, now_ms};

/// How long a lease on a single-instance job outlives its holder's last renewal.
const LEASE_TTL: Duration = Duration::from_secs(6);
use crate::triage::{Engine, Kind};

/// The listener's cursor name in the store.
pub const MENTIONS_CURSOR: &str = "x.mentions";
/// How many of the newest mentions X keeps reachable.
const MENTIONS_WINDOW: usize = 800;
/// Priority of emergency replies in the outbox (others are 0).
const EMERGENCY_PRIORITY: i64 = 100;
/// How long a claimed mention or message is reserved for one worker.
const LEASE: Duration = Duration::from_secs(30);
/// After this many failed attempts, a mention is a poison message: it goes to dead letters.
const MAX_MENTION_ATTEMPTS: i64 = 5;

/// What the loops share.
#[derive(Clone)]
pub struct Service {
    pub engine: Arc<Engine>,
    pub store: Store,
    pub x: XClient,
    /// The account's id and username on X.
    pub account_id: String,
    pub account: String,
    pub poll_interval: Duration,
    /// The staff desk over the same store (wakes the live console after each mention).
    pub desk: crate::desk::Desk,
    /// Complaint tickets (gazetteer, deadlines); without them complaints get the engine's reply.
    pub tickets: Option<crate::tickets::Tickets>,
    /// Whether this instance holds the lease on reading mentions (instances sharing a database
    /// take turns; see `store::lease`). None: it always reads.
    pub mention_lease: Option<watch::Receiver<bool>>,
}

impl Service {
    /// Runs the three loops until `shutdown` turns true, then lets in-flight work finish.
    pub async fn run(self, shutdown: watch::Receiver<bool>) -> anyhow::Result<()> {
        let listener = tokio::spawn(self.clone().listen(shutdown.clone()));
        let worker = tokio::spawn(self.clone().work(shutdown.clone()));
        let dispatcher = tokio::spawn(self.clone().dispatch(shutdown.clone()));
        let (a, b, c) = tokio::join!(listener, worker, dispatcher);
        a??;
        b??;
        c??;
        Ok(())
    }

    // --- Listener ---------------------------------------------------------------------------

    async fn listen(self, mut shutdown: watch::Receiver<bool>) -> anyhow::Result<()> {
        let mut backoff = Backoff::new();
        let mut lease = self.mention_lease.clone();
        while !*shutdown.borrow() {
            if let Some(held) = &mut lease
                && !crate::store::lease::wait_held(held, &mut shutdown).await
            {
                break;
            }
            let wait = match self.poll_once().await {
                Ok(stored) => {
                    backoff.reset();
                    if stored > 0 {
                        tracing::info!(stored, "new mentions stored");
                    }
                    self.poll_interval
                }
                Err(XError::RateLimited { reset_at }) => {
                    let wait = until(reset_at);
                    tracing::warn!(
                        seconds = wait.as_secs(),
                        "mentions rate limited: waiting for the reset"
                    );
                    wait
                }
                Err(e) => {
                    let wait = backoff.next();
                    tracing::warn!(error = %e, retry_in_ms = wait.as_millis() as u64, "reading mentions failed");
                    wait
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.changed() => {}
            }
        }
        tracing::info!("listener stopped");
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

    // --- Worker -----------------------------------------------------------------------------

    async fn work(self, mut shutdown: watch::Receiver<bool>) -> anyhow::Result<()> {
        while !*shutdown.borrow() {
            match self.work_once().await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => {
                    tracing::error!(error = %e, "the worker failed on a mention; it will be retried")
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                _ = shutdown.changed() => {}
            }
        }
        tracing::info!("worker stopped");
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
        let (decision, tweets) = self.decide(&mention).await?;
        let priority = if decision.kind == "emergency" {
            EMERGENCY_PRIORITY
        } else {
            0
        };
        // The account's own tweets, retweets and tweets that do not mention it belong to no
        // conversation.
        let joins = !matches!(
            decision.rule.as_str(),
            "own_tweet" | "retweet" | "not_a_mention"
        );
        let recorded = crate::desk::intake::record_mention(
            &self.store,
            &mention,
            &crate::desk::intake::Decided {
                decision: &decision,
                replies: &tweets,
                priority,
                joins,
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
    async fn decide(
        &self,
        m: &crate::store::Mention,
    ) -> anyhow::Result<(NewDecision, Vec<String>)> {
        let raw: Value = serde_json::from_str(&m.raw).unwrap_or(Value::Null);
        let tweet: Option<XTweet> = serde_json::from_value(raw).ok();
        let ignore = |rule: &str| {
            (
                NewDecision {
                    conversation_id: None,
                    kind: "ignore".into(),
                    topic: None,
                    agency: None,
                    rule: rule.into(),
                    evidence: "{}".into(),
                },
                Vec::new(),
            )
        };
        if m.author_id == self.account_id {
            return Ok(ignore("own_tweet"));
        }
        if let Some(t) = &tweet {
            if t.is_retweet() {
                return Ok(ignore("retweet"));
            }
            if !t.mentions(&self.account) {
                return Ok(ignore("not_a_mention"));
            }
        }
        let command = command_of(&m.text, &self.account);
        match command {
            Some(Command::Stop) => {
                self.store.opt_out(&m.author_id, &m.author_username).await?;
                self.store
                    .audit(
                        &format!("citizen:{}", m.author_id),
                        "opt_out",
                        &m.tweet_id,
                        "wrote stop",
                    )
                    .await?;
                let text = "Baik kak, balasan otomatis untuk kakak kami hentikan. Tulis \"mulai\" \
                            kapan saja untuk mengaktifkannya lagi.";
                let mut d = ignore("opt_out").0;
                d.kind = "answer".into();
                return Ok((d, crate::tweet::thread(&m.author_username, text)));
            }
            Some(Command::Start) => {
                self.store.opt_in(&m.author_id).await?;
                self.store
                    .audit(
                        &format!("citizen:{}", m.author_id),
                        "opt_in",
                        &m.tweet_id,
                        "wrote mulai",
                    )
                    .await?;
                let text = "Siap kak, balasan otomatis aktif lagi. Silakan sampaikan pertanyaan \
                            atau laporan kakak.";
                let mut d = ignore("opt_in").0;
                d.kind = "answer".into();
                return Ok((d, crate::tweet::thread(&m.author_username, text)));
            }
            None => {}
        }
        if let (Some(tickets), Some(number)) = (&self.tickets, crate::tickets::number_in(&m.text)) {
            let text = match tickets.get(&self.store, &number).await {
                Ok(ticket) => match tickets.agency(&ticket.agency) {
                    Some(agency) => crate::tickets::status_text(&ticket, agency),
                    None => format!("Laporan {number}: status {}.", ticket.state.label()),
                },
                Err(crate::tickets::TicketError::NotFound(_)) => format!(
                    "Nomor laporan {number} tidak kami temukan. Mohon cek lagi nomornya, ya."
                ),
                Err(e) => return Err(e.into()),
            };
            let mut d = ignore("ticket_status").0;
            d.kind = "answer".into();
            return Ok((d, crate::tweet::thread(&m.author_username, &text)));
        }
        let decision = self.engine.triage(&m.text);
        if decision.kind != Kind::Emergency
            && let Some(found) = self.thread_ticket(m, &decision).await?
        {
            return Ok(found);
        }
        let opted_out = self.store.is_opted_out(&m.author_id).await?;
        if opted_out && decision.kind != Kind::Emergency {
            return Ok(ignore("opted_out"));
        }
        let tweets = self.engine.reply_thread(&decision, &m.author_username);
        let record = NewDecision {
            conversation_id: None,
            kind: decision.kind.to_string(),
            topic: decision.topic.clone(),
            agency: decision.agency.clone(),
            rule: decision.rule.to_owned(),
            evidence: serde_json::to_string(&decision.evidence)?,
        };
        Ok((record, tweets))
    }

    /// A reply in the thread of the citizen's own ticket: a question about it gets its status;
    /// "still broken" after "selesai" goes to staff to reopen it; a complaint while it is being
    /// handled gets its status rather than a second ticket. None when the triage decides.
    async fn thread_ticket(
        &self,
        m: &crate::store::Mention,
        decision: &crate::triage::Decision,
    ) -> anyhow::Result<Option<(NewDecision, Vec<String>)>> {
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
        // After "stop": no automatic reply, but a dispute still reaches staff.
        let quiet = self.store.is_opted_out(&m.author_id).await?;
        let resolved = ticket.state == TicketState::Resolved;
        let disputed = resolved
            && (reply == ThreadReply::NotFixed
                || (reply == ThreadReply::Other && decision.kind == Kind::Report));
        let status = if resolved {
            reply == ThreadReply::AsksStatus
        } else {
            reply != ThreadReply::Other || decision.kind == Kind::Report
        };
        let record = |kind: &str, rule: &str| NewDecision {
            conversation_id: None,
            kind: kind.into(),
            topic: None,
            agency: Some(ticket.agency.clone()),
            rule: rule.into(),
            evidence: json!({"ticket": ticket.number, "state": ticket.state.as_str()}).to_string(),
        };
        if disputed {
            let text = format!(
                "Terima kasih kabarnya, kak. Laporan {} kami teruskan ke petugas untuk dicek dan dibuka kembali ke {} bila perlu.",
                ticket.number, agency.short_name
            );
            let replies = if quiet {
                Vec::new()
            } else {
                crate::tweet::thread(&m.author_username, &text)
            };
            return Ok(Some((record("handoff", "ticket_disputed"), replies)));
        }
        if status && quiet {
            return Ok(Some((record("ignore", "opted_out"), Vec::new())));
        }
        if status {
            let text = crate::tickets::status_text(&ticket, agency);
            return Ok(Some((
                record("answer", "ticket_status"),
                crate::tweet::thread(&m.author_username, &text),
            )));
        }
        Ok(None)
    }

    // --- Dispatcher -------------------------------------------------------------------------

    async fn dispatch(self, mut shutdown: watch::Receiver<bool>) -> anyhow::Result<()> {
        // Sends cut short by a crash are taken again when their lease runs out, and checked
        // against the account's timeline before any second attempt (see `dispatch_once`).
        for item in self.store.in_flight("x").await? {
            tracing::info!(key = %item.idempotency_key, "a send was interrupted by a stop: it will be reconciled");
        }
        while !*shutdown.borrow() {
            match self.dispatch_once().await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => tracing::error!(error = %e, "the dispatcher failed; it will retry"),
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                _ = shutdown.changed() => {}
            }
        }
        tracing::info!("dispatcher stopped");
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
        let parent = match (payload["in_reply_to"].as_str(), payload["after"].as_str()) {
            (Some(parent), _) => parent.to_owned(),
            (None, Some(previous)) => match self.store.outbox_by_key(previous).await? {
                Some(prev) if prev.state == "sent" => prev.remote_id.unwrap_or_default(),
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
        match self.x.create_tweet(&text, Some(&parent)).await {
            Ok(id) => self.store.mark_sent(item.id, &id).await?,
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

    /// The id of the account's tweet that replies to `parent` with `text`, if one is on X. The
    /// text matters: the bot's "a person will reply" and the person's reply answer the same
    /// tweet. X shortens links (t.co), so links are left out of the comparison.
    async fn find_sent(&self, parent: &str, text: &str) -> anyhow::Result<Option<String>> {
        let mut token: Option<String> = None;
        for _ in 0..5 {
            let page = match self.x.user_tweets(&self.account_id, token.as_deref()).await {
                Ok(page) => page,
                Err(e) => return Err(anyhow::anyhow!("reading the account's timeline: {e}")),
            };
            for t in &page.tweets {
                if t.replied_to() == Some(parent) && same_text(&t.text, text) {
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

/// The outbox key of part `n` of the reply to `tweet_id`.
pub fn reply_key(tweet_id: &str, n: usize) -> String {
    format!("x:reply:{tweet_id}:{n}")
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

/// X's `created_at` (RFC 3339) in milliseconds.
fn parse_time(text: &str) -> i64 {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
        .unwrap_or_else(|_| now_ms())
}

fn until(reset_at: u64) -> Duration {
    let now = (now_ms() / 1000) as u64;
    Duration::from_secs(reset_at.saturating_sub(now)) + Duration::from_millis(250)
}

/// Exponential backoff from 250 ms to 30 s.
struct Backoff {
    attempt: u32,
}

impl Backoff {
    fn new() -> Backoff {
        Backoff { attempt: 0 }
    }

    fn reset(&mut self) {
        self.attempt = 0;
    }

    fn next(&mut self) -> Duration {
        self.attempt += 1;
        Backoff::for_attempt(i64::from(self.attempt))
    }

    fn for_attempt(attempt: i64) -> Duration {
        let exp = attempt.clamp(1, 8) as u32 - 1;
        Duration::from_millis((250u64 << exp).min(30_000))
    }
}

/// Starts everything `kicau run` needs from the configuration: the store, the sandbox when it is
/// embedded, the X client and the account's identity; then runs until `shutdown`.
pub async fn run_bot(
    config: crate::Config,
    database_url: &str,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    use anyhow::Context as _;

    let engine = Arc::new(Engine::load(&config)?);
    let tickets = crate::tickets::Tickets::load(Arc::new(config.clone()))?;
    let year = time::OffsetDateTime::now_utc()
        .to_offset(crate::tickets::sla::WIB)
        .year();
    if !tickets.calendar.knows_year(year) {
        // Deadlines would count national holidays and joint leave days as working days.
        tracing::warn!(
            year,
            "[sla] holidays lists no day in this year: ticket deadlines count holidays as working days"
        );
        println!(
            "Warning: [sla] holidays in bot.toml lists no day in {year}; ticket deadlines will \
             count national holidays and joint leave days (cuti bersama) as working days."
        );
    }
    let store = Store::connect(database_url).await.with_context(|| {
        format!(
            "opening the database {}",
            crate::store::redact_url(database_url)
        )
    })?;
    // Instances sharing the database take turns on the jobs only one may run.
    let holder = Lease::holder_id();
    let mut embedded = None;
    let (base, what) = match config.sandbox.mode {
        SandboxMode::Embedded => {
            let addr =
                config.sandbox.x_listen.parse().with_context(|| {
                    format!("[sandbox] x_listen = {:?}", config.sandbox.x_listen)
                })?;
            let running = crate::sandbox::serve(
                sandbox_settings(&config),
                addr,
                Some(telegram_sandbox(&config)?),
                Some(whatsapp_sandbox(&config)?),
            )
            .await
            .with_context(|| format!("starting the sandbox on {addr}"))?;
            let base = running.x_url();
            embedded = Some(running);
            (base, "the embedded X sandbox")
        }
        SandboxMode::External => (config.sandbox.x_url.clone(), "an external X sandbox"),
        SandboxMode::Off => (config.x.base_url.clone(), "X"),
    };
    let (credentials, auth_what) = x_auth(&config, &store, &base).await?;
    let x = XClient::new(&base, credentials);
    let me = loop {
        match x.me().await {
            Ok(me) => break me,
            Err(XError::Rejected { status, detail }) => {
                anyhow::bail!("X refused the account's credentials ({status}: {detail})")
            }
            Err(XError::Unauthorized(detail)) => {
                anyhow::bail!("X refused the account's credentials ({detail})")
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot reach X yet; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    };
    println!("Kicau is running for @{} (id {}).", me.username, me.id);
    println!("X API: {what} at {base} ({auth_what})");
    println!(
        "Database: {} ({:?})",
        crate::store::redact_url(database_url),
        store.backend()
    );
    if config.sandbox.mode != SandboxMode::Off {
        println!("Tweet as a citizen:");
        println!(
            "  curl -s -X POST {base}/2/tweets -H 'Authorization: Bearer sandbox-user:warga1' \
             -H 'Content-Type: application/json' -d '{{\"text\":\"@{} min syarat bikin kk baru apa aja?\"}}'",
            me.username
        );
        println!(
            "  curl -s {base}/2/users/{}/tweets -H 'Authorization: Bearer sandbox-user:warga1'   # the replies",
            me.id
        );
    }
    let desk = crate::desk::Desk::new(store.clone());
    let whatsapp = whatsapp_setup(&config, embedded.as_ref().and_then(|r| r.whatsapp_url()))?;
    let whatsapp_bridge = whatsapp.as_ref().map(|(client, _)| {
        tokio::spawn(
            crate::tickets::whatsapp::Bridge {
                client: client.clone(),
                tickets: tickets.clone(),
                store: store.clone(),
            }
            .run(shutdown.clone()),
        )
    });
    let console = if config.console.listen.is_empty() {
        None
    } else {
        let listener = tokio::net::TcpListener::bind(&config.console.listen)
            .await
            .with_context(|| format!("starting the console on {}", config.console.listen))?;
        let addr = listener.local_addr()?;
        println!("Staff console: http://{addr}/ (accounts: `kicau staff add NAME`)");
        let state = crate::console::AppState {
            desk: desk.clone(),
            engine: engine.clone(),
            account: me.username.clone(),
            secure_cookies: config.console.secure_cookies,
            tickets: Some(tickets.clone()),
            whatsapp: whatsapp.as_ref().map(|(_, hook)| hook.clone()),
        };
        Some(tokio::spawn(crate::console::serve(
            listener,
            state,
            shutdown.clone(),
        )))
    };
    let staff_group = match (config.telegram.staff_chat_id, config.sandbox.mode) {
        (None, _) => None,
        (Some(chat), mode) => {
            let (token, api) = match mode {
                SandboxMode::Embedded => (
                    config.sandbox.telegram_token.clone(),
                    embedded
                        .as_ref()
                        .and_then(|r| r.telegram_url())
                        .unwrap_or_default(),
                ),
                SandboxMode::External => (
                    config.sandbox.telegram_token.clone(),
                    config.sandbox.telegram_url.clone(),
                ),
                SandboxMode::Off => (
                    std::env::var("KICAU_TELEGRAM_TOKEN").context(
                        "[telegram] staff_chat_id is set but KICAU_TELEGRAM_TOKEN is not",
                    )?,
                    config.telegram.api_url.clone(),
                ),
            };
            let client = crate::channels::telegram::TelegramClient::new(&token, &api)?;
            println!("Telegram staff group: chat {chat} via {api}");
            let group = crate::desk::staff_group::StaffGroup {
                desk: desk.clone(),
                client,
                staff_chat: chat,
                command_centre: config.telegram.command_centre_chat_id,
                poll_timeout: Duration::from_secs(10),
                tickets: Some(tickets.clone()),
                weekly_report: config.report.weekly.then(|| {
                    (
                        config.report.weekly_day.weekday(),
                        config.report.weekly_hour,
                    )
                }),
                reader_lease: Some(
                    Lease::new(store.clone(), "telegram.updates", &holder, LEASE_TTL)
                        .keep(shutdown.clone()),
                ),
            };
            Some(tokio::spawn(group.run(shutdown.clone())))
        }
    };
    let clocks = tokio::spawn(sla_clocks(tickets.clone(), store.clone(), shutdown.clone()));
    let mention_lease =
        Lease::new(store.clone(), "x.mentions", &holder, LEASE_TTL).keep(shutdown.clone());
    let reannouncer = tokio::spawn(reannounce(
        desk.clone(),
        Duration::from_secs(config.desk.reannounce_after_secs),
        shutdown.clone(),
    ));
    println!("Stop with Ctrl-C.");
    let service = Service {
        engine,
        store: store.clone(),
        x,
        account_id: me.id,
        account: me.username,
        poll_interval: Duration::from_millis(config.x.poll_interval_ms),
        desk,
        tickets: Some(tickets),
        mention_lease: Some(mention_lease),
    };
    service.run(shutdown).await?;
    if let Some(console) = console {
        match console.await {
            Ok(Err(e)) => tracing::error!(error = %e, "the console stopped with an error"),
            Err(e) => tracing::error!(error = %e, "the console task failed"),
            Ok(Ok(())) => {}
        }
    }
    let _ = reannouncer.await;
    let _ = clocks.await;
    if let Some(bridge) = whatsapp_bridge {
        let _ = bridge.await;
    }
    if let Some(group) = staff_group {
        let _ = group.await;
    }
    store.close().await;
    if let Some(running) = embedded {
        running.stop();
    }
    Ok(())
}

/// The ticket deadline clocks, checked every half minute.
async fn sla_clocks(
    tickets: crate::tickets::Tickets,
    store: Store,
    mut shutdown: watch::Receiver<bool>,
) {
    while !*shutdown.borrow() {
        match tickets.sla_tick(&store, now_ms()).await {
            Ok(pass) => {
                for number in &pass.reminded {
                    tracing::info!(ticket = %number, "agency reminded of a deadline");
                }
                for number in &pass.overdue {
                    tracing::warn!(ticket = %number, "ticket past its deadline: before staff");
                }
            }
            Err(e) => tracing::warn!(error = %e, "checking ticket deadlines failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(30)) => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// Announces again, every so often, each hand-off nobody has claimed for `after`, so that it
/// always reaches a person (the console shows the event; the Telegram group gets it too).
async fn reannounce(desk: crate::desk::Desk, after: Duration, mut shutdown: watch::Receiver<bool>) {
    let tick = (after / 4).clamp(Duration::from_secs(1), Duration::from_secs(60));
    while !*shutdown.borrow() {
        match desk.reannounce(after.as_millis() as i64).await {
            Ok(again) => {
                for c in &again {
                    tracing::warn!(conversation = %c.id, "a hand-off is still unclaimed: announced again");
                }
            }
            Err(e) => tracing::warn!(error = %e, "checking unclaimed hand-offs failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(tick) => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// The Telegram sandbox's settings and address from `bot.toml`.
fn telegram_sandbox(
    config: &crate::Config,
) -> anyhow::Result<(crate::sandbox::TelegramSettings, std::net::SocketAddr)> {
    use anyhow::Context as _;
    let c = &config.sandbox;
    let addr = c
        .telegram_listen
        .parse()
        .with_context(|| format!("[sandbox] telegram_listen = {:?}", c.telegram_listen))?;
    Ok((
        crate::sandbox::TelegramSettings {
            token: c.telegram_token.clone(),
            flood_limits: c.telegram_flood_limits,
            ..Default::default()
        },
        addr,
    ))
}

/// The WhatsApp sandbox's settings and address from `bot.toml`.
fn whatsapp_sandbox(
    config: &crate::Config,
) -> anyhow::Result<(crate::sandbox::WhatsAppSettings, std::net::SocketAddr)> {
    use anyhow::Context as _;
    let c = &config.sandbox;
    let addr = c
        .whatsapp_listen
        .parse()
        .with_context(|| format!("[sandbox] whatsapp_listen = {:?}", c.whatsapp_listen))?;
    Ok((
        crate::sandbox::WhatsAppSettings {
            access_token: c.whatsapp_token.clone(),
            app_secret: c.whatsapp_app_secret.clone(),
            phone_number_id: config.whatsapp.phone_number_id.clone(),
            webhook_url: c.whatsapp_webhook_url.clone(),
            templates: vec![config.whatsapp.ticket_template.clone()],
            api_version: config.whatsapp.api_version.clone(),
            ..Default::default()
        },
        addr,
    ))
}

/// The WhatsApp client and webhook secrets, when an agency uses WhatsApp: the sandbox's stand-in
/// values, or `KICAU_WHATSAPP_*` with the real service.
fn whatsapp_setup(
    config: &crate::Config,
    embedded_url: Option<String>,
) -> anyhow::Result<
    Option<(
        crate::channels::whatsapp::WhatsAppClient,
        crate::console::WhatsAppHook,
    )>,
> {
    use anyhow::Context as _;
    if !config.agencies.iter().any(|a| a.whatsapp.is_some()) {
        return Ok(None);
    }
    let w = &config.whatsapp;
    let (base, token, app_secret, verify_token) = match config.sandbox.mode {
        SandboxMode::Off => {
            let var = |name: &str| {
                std::env::var(name).with_context(|| {
                    format!("{name} is not set (an agency in bot.toml uses WhatsApp)")
                })
            };
            (
                w.api_url.clone(),
                var("KICAU_WHATSAPP_TOKEN")?,
                var("KICAU_WHATSAPP_APP_SECRET")?,
                var("KICAU_WHATSAPP_VERIFY_TOKEN")?,
            )
        }
        mode => {
            let c = &config.sandbox;
            let base = match mode {
                SandboxMode::Embedded => embedded_url.unwrap_or_else(|| c.whatsapp_url.clone()),
                _ => c.whatsapp_url.clone(),
            };
            (
                base,
                c.whatsapp_token.clone(),
                c.whatsapp_app_secret.clone(),
                c.whatsapp_verify_token.clone(),
            )
        }
    };
    Ok(Some((
        crate::channels::whatsapp::WhatsAppClient::new(
            &base,
            &w.api_version,
            &w.phone_number_id,
            &token,
        ),
        crate::console::WhatsAppHook {
            app_secret,
            verify_token,
        },
    )))
}

/// The X sandbox's settings from `bot.toml`.
pub fn sandbox_settings(config: &crate::Config) -> crate::sandbox::XSettings {
    let c = &config.sandbox;
    crate::sandbox::XSettings {
        account: config.account.handle.clone(),
        consumer_key: c.consumer_key.clone(),
        consumer_secret: c.consumer_secret.clone(),
        access_token: c.access_token.clone(),
        access_secret: c.access_secret.clone(),
        rate_limit: c.rate_limit,
        rate_window: Duration::from_secs(c.rate_window_secs),
        realistic: c.rate_profile == crate::config::RateProfile::Realistic,
        client_id: c.client_id.clone(),
        client_secret: c.client_secret.clone(),
        token_ttl: Duration::from_secs(c.oauth2_token_ttl_secs),
    }
}

/// Where OAuth 2.0 user context comes from, when the bot uses it: the client (id, secret, token
/// endpoint) and the page where a person authorizes it. The sandbox's client is in bot.toml
/// (`[sandbox] x_auth = "oauth2"`); X's comes from `KICAU_X_CLIENT_ID` and
/// `KICAU_X_CLIENT_SECRET`, which take precedence over the OAuth 1.0a variables.
pub fn oauth2_setup(
    config: &crate::Config,
    base: &str,
) -> anyhow::Result<Option<(crate::channels::x::oauth2::Client, String)>> {
    use crate::channels::x::oauth2::Client;
    let token_url = format!("{}/2/oauth2/token", base.trim_end_matches('/'));
    if config.sandbox.mode != SandboxMode::Off {
        if config.sandbox.x_auth != crate::config::XAuth::Oauth2 {
            return Ok(None);
        }
        let c = &config.sandbox;
        return Ok(Some((
            Client::new(&c.client_id, &c.client_secret, &token_url),
            format!("{}/i/oauth2/authorize", base.trim_end_matches('/')),
        )));
    }
    let Ok(client_id) = std::env::var("KICAU_X_CLIENT_ID") else {
        return Ok(None);
    };
    let client_secret = std::env::var("KICAU_X_CLIENT_SECRET").map_err(|_| {
        anyhow::anyhow!("KICAU_X_CLIENT_ID is set but KICAU_X_CLIENT_SECRET is not")
    })?;
    Ok(Some((
        Client::new(&client_id, &client_secret, &token_url),
        config.x.authorize_url.clone(),
    )))
}

/// How the bot authenticates to the X API at `base`, and a phrase saying so. With OAuth 2.0
/// against a sandbox that holds no token yet, the bot authorizes itself (the sandbox's account
/// holder always agrees); against X, a person runs `kicau x authorize` once.
pub async fn x_auth(
    config: &crate::Config,
    store: &Store,
    base: &str,
) -> anyhow::Result<(crate::channels::x::Auth, &'static str)> {
    use crate::channels::x::{Auth, authorize, oauth2};
    use anyhow::Context as _;
    let account = &config.account.handle;
    if let Some((client, authorize_url)) = oauth2_setup(config, base)? {
        // An embedded sandbox starts empty with each process, so earlier tokens mean nothing.
        let fresh_sandbox = config.sandbox.mode == SandboxMode::Embedded;
        if fresh_sandbox || store.x_token(account).await?.is_none() {
            if config.sandbox.mode == SandboxMode::Off {
                anyhow::bail!(
                    "no OAuth 2.0 token for @{account} in the database: run `kicau x authorize` once"
                );
            }
            let pending =
                authorize::begin(&authorize_url, &client.client_id, &config.x.redirect_uri);
            let code = authorize::consent_in_sandbox(&pending)
                .await
                .context("authorizing against the sandbox")?;
            let token = pending.exchange(&client, &code).await?;
            store.put_x_token(account, &token).await?;
            tracing::info!("authorized against the sandbox with OAuth 2.0");
        }
        let session = oauth2::Session::new(client, store.clone(), account);
        return Ok((
            Auth::OAuth2(std::sync::Arc::new(session)),
            "OAuth 2.0 user context",
        ));
    }
    if config.sandbox.mode != SandboxMode::Off {
        return Ok((
            Auth::OAuth1(sandbox_credentials(&config.sandbox)),
            "OAuth 1.0a",
        ));
    }
    let var = |name: &str| {
        std::env::var(name).with_context(|| {
            format!(
                "{name} is not set (mode = \"off\" needs X credentials: the four KICAU_X_* OAuth \
                 1.0a variables, or KICAU_X_CLIENT_ID and KICAU_X_CLIENT_SECRET)"
            )
        })
    };
    Ok((
        Auth::OAuth1(crate::channels::x::oauth1::Credentials {
            consumer_key: var("KICAU_X_CONSUMER_KEY")?,
            consumer_secret: var("KICAU_X_CONSUMER_SECRET")?,
            access_token: var("KICAU_X_ACCESS_TOKEN")?,
            access_secret: var("KICAU_X_ACCESS_SECRET")?,
        }),
        "OAuth 1.0a",
    ))
}

/// `kicau x authorize`: a person lets the bot act as the account with OAuth 2.0, once. Prints
/// the URL to open, waits at the redirect URI for the code, checks that the tokens belong to the
/// configured account, and stores them.
pub async fn authorize_x(
    config: &crate::Config,
    database_url: &str,
    redirect_uri: Option<String>,
    timeout: Duration,
) -> anyhow::Result<()> {
    use crate::channels::x::authorize;
    use anyhow::Context as _;
    let base = match config.sandbox.mode {
        SandboxMode::Embedded => anyhow::bail!(
            "with [sandbox] mode = \"embedded\", `kicau run` authorizes itself against its own \
             sandbox; `kicau x authorize` is for X (mode = \"off\") or an external sandbox"
        ),
        SandboxMode::External => config.sandbox.x_url.clone(),
        SandboxMode::Off => config.x.base_url.clone(),
    };
    let Some((client, authorize_url)) = oauth2_setup(config, &base)? else {
        anyhow::bail!(
            "OAuth 2.0 is not configured: set KICAU_X_CLIENT_ID and KICAU_X_CLIENT_SECRET \
             (mode = \"off\"), or [sandbox] x_auth = \"oauth2\" for the sandbox"
        );
    };
    let store = Store::connect(database_url)
        .await
        .with_context(|| format!("opening {}", crate::store::redact_url(database_url)))?;
    let redirect_uri = redirect_uri.unwrap_or_else(|| config.x.redirect_uri.clone());
    let pending = authorize::begin(&authorize_url, &client.client_id, &redirect_uri);
    let callback = pending.listen().await?;
    let handle = &config.account.handle;
    println!(
        "Open this address in a browser signed in to X as @{handle} and press \"Authorize app\":"
    );
    println!("{}", pending.url);
    println!("Waiting at {redirect_uri} (registered as the app's callback URL) ...");
    let code = callback.code(timeout).await?;
    let token = pending.exchange(&client, &code).await?;
    let me: Value = reqwest::Client::new()
        .get(format!("{}/2/users/me", base.trim_end_matches('/')))
        .bearer_auth(&token.access_token)
        .send()
        .await
        .context("asking X whose token this is")?
        .json()
        .await
        .context("reading /2/users/me")?;
    let username = me["data"]["username"].as_str().unwrap_or_default();
    if !username.eq_ignore_ascii_case(handle) {
        anyhow::bail!(
            "the browser was signed in as @{username}, but bot.toml speaks for @{handle}: \
             nothing stored; sign in as @{handle} and run this again"
        );
    }
    store.put_x_token(handle, &token).await?;
    println!(
        "Authorized: @{username} (id {}). Tokens stored in {}; the access token is refreshed \
         automatically{}.",
        me["data"]["id"].as_str().unwrap_or_default(),
        crate::store::redact_url(database_url),
        if token.refresh_token.is_some() {
            ""
        } else {
            ", but X gave no refresh token: grant offline.access and authorize again"
        }
    );
    store.close().await;
    Ok(())
}

/// The credentials the bot signs with against the sandbox (its public stand-in values).
pub fn sandbox_credentials(
    c: &crate::config::SandboxConfig,
) -> crate::channels::x::oauth1::Credentials {
    crate::channels::x::oauth1::Credentials {
        consumer_key: c.consumer_key.clone(),
        consumer_secret: c.consumer_secret.clone(),
        access_token: c.access_token.clone(),
        access_secret: c.access_secret.clone(),
    }
}

/// `kicau sandbox`: the X sandbox alone, until `shutdown`.
pub async fn run_sandbox(
    config: crate::Config,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let c = &config.sandbox;
    let addr = c
        .x_listen
        .parse()
        .with_context(|| format!("[sandbox] x_listen = {:?}", c.x_listen))?;
    let settings = sandbox_settings(&config);
    let running = crate::sandbox::serve(
        settings,
        addr,
        Some(telegram_sandbox(&config)?),
        Some(whatsapp_sandbox(&config)?),
    )
    .await
    .with_context(|| format!("starting the sandbox on {addr}"))?;
    println!(
        "X sandbox for @{} at {}",
        config.account.handle,
        running.x_url()
    );
    if let Some(url) = running.telegram_url() {
        println!("Telegram sandbox at {url}");
    }
    if let Some(url) = running.whatsapp_url() {
        println!("WhatsApp sandbox at {url}");
    }
    println!("Control endpoints: {}/sandbox", running.x_url());
    while !*shutdown.borrow() {
        if shutdown.changed().await.is_err() {
            break;
        }
    }
    running.stop();
    Ok(())
}

/// A watch channel that turns true on SIGINT or SIGTERM.
pub fn shutdown_signal() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("SIGTERM handler");
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = ctrl_c.await;
        }
        tracing::info!("stopping: finishing work in flight");
        let _ = tx.send(true);
    });
    rx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_and_mulai_are_commands_only_alone() {
        assert!(matches!(
            command_of("@PemkotMalang stop", "PemkotMalang"),
            Some(Command::Stop)
        ));
        assert!(matches!(
            command_of("STOP!", "PemkotMalang"),
            Some(Command::Stop)
        ));
        assert!(matches!(
            command_of("@pemkotmalang mulai", "PemkotMalang"),
            Some(Command::Start)
        ));
        assert!(command_of("@PemkotMalang jangan stop layanan", "PemkotMalang").is_none());
    }

    #[test]
    fn backoff_grows_to_a_ceiling() {
        assert_eq!(Backoff::for_attempt(1), Duration::from_millis(250));
        assert_eq!(Backoff::for_attempt(3), Duration::from_millis(1000));
        assert_eq!(Backoff::for_attempt(50), Duration::from_millis(30_000));
    }
}
