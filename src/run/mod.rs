/*!
`kicau run`: builds everything from bot.toml, runs it, and shuts it down. One mention's walk,
file by file (DESIGN.md, "One mention's walk"):

- [`listener`] reads new mentions from X and stores them with the cursor;
- [`worker`] claims one stored mention and decides (own tweets, retweets, stop, ticket threads,
  then triage);
- [`intake`] records the decision, the conversation, the ticket and the outgoing tweets in one
  transaction;
- [`dispatcher`] sends the outbox to X, most urgent first;
- [`telegram`] sends and reads Telegram (staff group and agency chats); [`clocks`] runs the SLA
  tick, the re-announcement of hand-offs and the WhatsApp sender of `tickets::whatsapp`;
  [`leases`] keeps this instance's leases on the single-reader jobs.

Every loop runs on [`poll::Loop`]. A crash anywhere loses nothing (work is leased, and a lease
that runs out is taken again) and sends nothing twice (each message has an idempotency key, and a
tweet that may have reached X before the crash is looked up in the account's timeline first).
[`x_auth`] holds X's credentials and `kicau x authorize`; [`sandbox`] the sandbox's settings and
`kicau sandbox`.
*/

mod clocks;
mod dispatcher;
pub mod intake;
pub mod leases;
pub mod listener;
pub mod poll;
pub mod reload;
pub mod sandbox;
pub mod telegram;
mod worker;
pub mod x_auth;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::channels::x::{XClient, XError};
use crate::config::SandboxMode;
use crate::store::Store;
use crate::store::lease::Lease;
use crate::triage::live::Live;

pub use listener::MENTIONS_CURSOR;
pub use sandbox::{run_sandbox, sandbox_settings};
pub use x_auth::{authorize_x, sandbox_credentials};

/// How long a lease on a single-instance job outlives its holder's last renewal.
const LEASE_TTL: Duration = Duration::from_secs(6);

/// What the listener, the worker and the dispatcher share.
#[derive(Clone)]
pub struct Service {
    /// The engine in use, replaced when the knowledge base changes.
    pub engine: Arc<Live>,
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
    /// The month's budget: whether only what is essential goes out.
    pub budget: crate::costs::Budget,
}

/// Records what a platform billed for a request. A failure to record is logged, never passed
/// on: the request was made, and its result must still be kept.
pub async fn record_billed(store: &Store, billed: &[crate::channels::billing::Billed]) {
    let units: Vec<crate::store::usage::UsageUnit<'_>> = billed
        .iter()
        .map(|b| crate::store::usage::UsageUnit {
            unit: b.unit.name(),
            resource: &b.resource,
            daily: b.unit.once_a_day(),
        })
        .collect();
    if let Err(e) = store.record_usage(&units, crate::store::now_ms()).await {
        tracing::error!(error = %e, units = units.len(), "billed units could not be recorded");
    }
}

impl Service {
    /// Records what X billed for a request (see [`record_billed`]).
    async fn bill(&self, billed: &[crate::channels::billing::Billed]) {
        record_billed(&self.store, billed).await;
    }

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
}

/// Starts everything `kicau run` needs from the configuration: the store, the sandbox when it is
/// embedded, the X client and the account's identity; then runs until `shutdown`.
pub async fn run(
    config: crate::Config,
    database_url: &str,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    use anyhow::Context as _;

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
    // Messages stored before the search existed (migration 0018) join its index.
    let indexed = crate::desk::search::index_earlier_messages(&store)
        .await
        .context("indexing earlier messages for search")?;
    if indexed > 0 {
        tracing::info!(messages = indexed, "earlier messages indexed for search");
    }
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
                sandbox::sandbox_settings(&config),
                addr,
                Some(sandbox::telegram_sandbox(&config)?),
                Some(sandbox::whatsapp_sandbox(&config)?),
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
    let (credentials, auth_what) = x_auth::x_auth(&config, &store, &base).await?;
    let x = XClient::new(&base, credentials);
    let me = loop {
        match x.me().await {
            Ok((me, billed)) => {
                record_billed(&store, &billed).await;
                break me;
            }
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
    let minutes = |m: u32| i64::from(m) * 60 * 1000;
    let desk = crate::desk::Desk::new(store.clone())
        .with_splitter(crate::tweet::Splitter::new(
            &me.username,
            config.desk.max_thread_parts,
        ))
        .with_targets(crate::desk::ResponseTargets {
            normal_ms: minutes(config.desk.respond_within_mins),
            urgent_ms: minutes(config.desk.respond_urgent_within_mins),
        });
    let newsroom = crate::announce::Newsroom::new(
        config.announce.clone(),
        crate::tweet::Splitter::new(&me.username, config.desk.max_thread_parts),
    )
    .with_prices(&config.costs);
    let engine = reload::load(&config, &desk).await?;
    let info = engine.model_info().clone();
    println!(
        "Triage model: {} examples ({} accepted corrections), {} labels, {} in {:.1} s",
        info.examples,
        info.corrections,
        info.labels,
        if info.cached {
            "read from the cache"
        } else {
            "trained"
        },
        info.load_ms as f64 / 1000.0
    );
    let engine = Arc::new(Live::new(engine));
    let reloader = tokio::spawn(reload::watch(
        config.clone(),
        desk.clone(),
        engine.clone(),
        shutdown.clone(),
    ));
    let whatsapp = whatsapp_setup(&config, embedded.as_ref().and_then(|r| r.whatsapp_url()))?;
    let whatsapp_bridge = whatsapp.as_ref().map(|(client, _)| {
        let bridge = crate::tickets::whatsapp::Bridge {
            client: client.clone(),
            tickets: tickets.clone(),
            store: store.clone(),
        };
        tokio::spawn(clocks::whatsapp_sender(bridge, shutdown.clone()))
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
            newsroom: newsroom.clone(),
            desk: desk.clone(),
            engine: engine.clone(),
            account: me.username.clone(),
            secure_cookies: config.console.secure_cookies,
            tickets: Some(tickets.clone()),
            whatsapp: whatsapp.as_ref().map(|(_, hook)| hook.clone()),
            logins: Arc::new(crate::desk::login::LoginGuard::default()),
            trusted_proxies: config.console.trusted_proxies.clone(),
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
            let group = crate::staff_group::StaffGroup {
                desk: desk.clone(),
                client: client.clone(),
                staff_chat: chat,
                command_centre: config.telegram.command_centre_chat_id,
                tickets: Some(tickets.clone()),
                weekly_report: config.report.weekly.then(|| {
                    (
                        config.report.weekly_day.weekday(),
                        config.report.weekly_hour,
                    )
                }),
                lessons: Some(crate::learning::Lessons {
                    engine: engine.clone(),
                    account: me.username.clone(),
                }),
            };
            let bridge = telegram::Telegram {
                store: store.clone(),
                client,
                staff_group: group,
                tickets: Some(tickets.clone()),
                newsroom: Some(newsroom.clone()),
                poll_timeout: Duration::from_secs(10),
                reader_lease: Some(leases::keep(
                    Lease::new(store.clone(), "telegram.updates", &holder, LEASE_TTL),
                    shutdown.clone(),
                )),
            };
            Some(tokio::spawn(bridge.run(shutdown.clone())))
        }
    };
    let clocks = tokio::spawn(clocks::sla(
        tickets.clone(),
        store.clone(),
        shutdown.clone(),
    ));
    let mention_lease = leases::keep(
        Lease::new(store.clone(), "x.mentions", &holder, LEASE_TTL),
        shutdown.clone(),
    );
    let housekeeping = tokio::spawn(clocks::housekeeping(
        store.clone(),
        config.privacy.retention_days,
        shutdown.clone(),
    ));
    let reannouncer = tokio::spawn(clocks::reannounce(
        desk.clone(),
        Duration::from_secs(config.desk.reannounce_after_secs),
        shutdown.clone(),
    ));
    let publisher = tokio::spawn(clocks::publisher(
        newsroom.clone(),
        store.clone(),
        config.agencies.clone(),
        me.username.clone(),
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
        budget: crate::costs::Budget::new(store.clone(), config.costs.clone()),
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
    let _ = publisher.await;
    let _ = housekeeping.await;
    let _ = reloader.await;
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
