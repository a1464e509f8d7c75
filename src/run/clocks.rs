//! The smaller loops of `kicau run`: ticket deadlines (reminders, overdue tickets before staff)
//! every half minute, unclaimed hand-offs announced again, expired sessions removed, and the WhatsApp sender of the
//! agencies' bridge (`tickets::whatsapp`).

use std::time::Duration;

use tokio::sync::watch;

use super::poll::{Loop, Step};
use crate::store::{Store, now_ms};

/// The ticket deadline clocks, checked every half minute.
pub async fn sla(tickets: crate::tickets::Tickets, store: Store, shutdown: watch::Receiver<bool>) {
    Loop::every("sla clock", Duration::from_secs(30))
        .run(shutdown, || async {
            let pass = tickets.sla_tick(&store, now_ms()).await?;
            for number in &pass.reminded {
                tracing::info!(ticket = %number, "agency reminded of a deadline");
            }
            for number in &pass.overdue {
                tracing::warn!(ticket = %number, "ticket past its deadline: before staff");
            }
            Ok(Step::Idle)
        })
        .await;
}

/// Every ten minutes: removes expired console sessions, and citizens' data past its retention
/// (`[privacy] retention_days`, see `crate::privacy`).
pub async fn housekeeping(store: Store, retention_days: i64, shutdown: watch::Receiver<bool>) {
    Loop::every("housekeeping", Duration::from_secs(600))
        .run(shutdown, || async {
            let pruned = crate::desk::staff::prune_sessions(&store, now_ms()).await?;
            if pruned > 0 {
                tracing::info!(pruned, "expired console sessions removed");
            }
            let retained = crate::privacy::retain(&store, retention_days, now_ms()).await?;
            if retained != crate::privacy::Retained::default() {
                tracing::info!(
                    conversations = retained.conversations,
                    tweets = retained.tweets,
                    payloads = retained.payloads,
                    events = retained.events,
                    "citizens' data past its retention removed"
                );
            }
            Ok(Step::Idle)
        })
        .await;
}

/// Announces again, every so often, each hand-off nobody has claimed for `after`, so that it
/// always reaches a person (the console shows the event; the Telegram group gets it too).
pub async fn reannounce(desk: crate::desk::Desk, after: Duration, shutdown: watch::Receiver<bool>) {
    let tick = (after / 4).clamp(Duration::from_secs(1), Duration::from_secs(60));
    Loop::every("re-announcer", tick)
        .run(shutdown, || async {
            for c in desk.reannounce(after.as_millis() as i64).await? {
                tracing::warn!(conversation = %c.id, "a hand-off is still unclaimed: announced again");
            }
            Ok(Step::Idle)
        })
        .await;
}

/// Sends the agencies' due WhatsApp messages until `shutdown`.
pub async fn whatsapp_sender(
    bridge: crate::tickets::whatsapp::Bridge,
    shutdown: watch::Receiver<bool>,
) {
    Loop::every("whatsapp sender", Duration::from_millis(200))
        .run(shutdown, || async {
            Ok(Step::after(bridge.send_once().await?))
        })
        .await;
}

/// Every quarter minute: the approved announcements whose time has come go to the outbox.
/// The agencies whose announcements reached X are told, with the link.
pub async fn publisher(
    newsroom: crate::announce::Newsroom,
    store: Store,
    agencies: Vec<crate::config::Agency>,
    account: String,
    shutdown: watch::Receiver<bool>,
) {
    Loop::every("publisher", Duration::from_secs(15))
        .run(shutdown, || async {
            newsroom.publish_due(&store, now_ms()).await?;
            newsroom
                .tell_agencies(&store, &agencies, &account, now_ms())
                .await?;
            Ok(Step::Idle)
        })
        .await;
}
