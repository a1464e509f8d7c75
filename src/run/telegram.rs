//! Telegram for `kicau run`: the sender posts queued Telegram messages (staff group and agency
//! chats) and records what each is about (a conversation, a ticket's first message); the reader
//! long polls updates, one instance at a time, and hands each to the staff group or, in an
//! agency's chat, to the tickets. An update that cannot be handled goes to the dead letters; the
//! offset is stored after the batch, and the handlers tolerate a replay.

use std::time::Duration;

use serde_json::Value;
use tokio::sync::watch;

use super::poll::{Loop, Step};
use crate::channels::telegram::{Incoming, TelegramClient, TelegramError};
use crate::staff_group::StaffGroup;
use crate::store::{Store, now_ms};
use crate::tickets::{StateButton, Tickets};

const OFFSET_CURSOR: &str = "telegram.offset";
const LEASE: Duration = Duration::from_secs(60);

/// The Telegram side of the bot: one client for the staff group and the agencies' chats.
#[derive(Clone, Debug)]
pub struct Telegram {
    pub store: Store,
    pub client: TelegramClient,
    pub staff_group: StaffGroup,
    pub tickets: Option<Tickets>,
    /// Agencies' announcements (`/kabar` in their chats).
    pub newsroom: Option<crate::announce::Newsroom>,
    /// How long one long poll waits.
    pub poll_timeout: Duration,
    /// Whether this instance holds the lease on reading updates (Telegram allows one long poll
    /// per bot); None: it always reads.
    pub reader_lease: Option<watch::Receiver<bool>>,
}

impl Telegram {
    /// Runs the staff group's notifier, the sender and the reader until `shutdown`.
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        let notifier = tokio::spawn(self.clone().notify_loop(shutdown.clone()));
        let sender = tokio::spawn(self.clone().send_loop(shutdown.clone()));
        let reader = tokio::spawn(self.clone().read_loop(shutdown));
        let _ = tokio::join!(notifier, sender, reader);
    }

    async fn notify_loop(self, shutdown: watch::Receiver<bool>) {
        let group = &self.staff_group;
        let mut poll = Loop::every("staff group notifier", Duration::from_secs(1));
        poll.wake = Some(group.desk.clone());
        poll.run(shutdown, || async {
            if let Err(e) = group.weekly_once(now_ms()).await {
                tracing::warn!(error = %e, "the weekly summary for the staff group failed");
            }
            if let Err(e) = group.budget_once(&group.costs(), now_ms()).await {
                tracing::warn!(error = %e, "the budget warning for the staff group failed");
            }
            Ok(Step::after(group.notify_once().await?))
        })
        .await;
    }

    async fn send_loop(self, shutdown: watch::Receiver<bool>) {
        Loop::every("telegram sender", Duration::from_millis(200))
            .run(shutdown, || async {
                Ok(Step::after(self.send_once().await?))
            })
            .await;
    }

    async fn read_loop(self, shutdown: watch::Receiver<bool>) {
        let mut poll = Loop::every("telegram reader", Duration::ZERO);
        poll.lease = self.reader_lease.clone();
        poll.cancel_on_shutdown = true;
        poll.run(shutdown, || async {
            self.read_once().await?;
            Ok(Step::Busy)
        })
        .await;
    }

    /// Sends one due Telegram message. Returns false when none was due.
    pub async fn send_once(&self) -> anyhow::Result<bool> {
        let store = &self.store;
        let Some(item) = store.claim_outbox("telegram", LEASE).await? else {
            return Ok(false);
        };
        let payload: Value = serde_json::from_str(&item.payload).unwrap_or(Value::Null);
        let (Some(chat), Some(text)) = (payload["chat_id"].as_i64(), payload["text"].as_str())
        else {
            store
                .mark_dead(item.id, "unreadable Telegram payload")
                .await?;
            return Ok(true);
        };
        // Telegram's flood limits: a message without a slot goes back to the queue, so that
        // the loop never waits inside a send (and a shutdown never waits for one).
        let now = now_ms();
        if let Some(wait) = self.client.pace(chat, now) {
            store
                .defer_outbox(item.id, now + wait.as_millis() as i64)
                .await?;
            return Ok(true);
        }
        let buttons: Vec<(String, String)> =
            serde_json::from_value(payload["buttons"].clone()).unwrap_or_default();
        let reply_to = payload["reply_to"].as_i64().map(|m| m as i32);
        // An edit of a message sent before: a ticket's state change edits the agency's first
        // message about it; a staff-group message loses its "Ambil alih" once claimed
        // (`edit_of` names the row that sent it). Until that message is out, the edit waits.
        let target = match (payload["edit"].as_bool(), payload["ticket"].as_str()) {
            (Some(true), Some(number)) => Some(
                crate::tickets::telegram::first_message(store, number)
                    .await?
                    .ok_or(Unsent::Later("the ticket's first message is not out yet")),
            ),
            _ => match payload["edit_of"].as_str() {
                Some(original) => Some(match store.outbox_by_key(original).await? {
                    Some(row) if row.state == "sent" => row
                        .remote_id
                        .as_deref()
                        .and_then(|id| id.parse::<i32>().ok())
                        .ok_or(Unsent::Never),
                    Some(row) if row.state != "dead" => {
                        Err(Unsent::Later("the message is not out yet"))
                    }
                    _ => Err(Unsent::Never),
                }),
                None => None,
            },
        };
        match target {
            Some(Ok(message)) => {
                let result = self
                    .client
                    .edit_text(chat, message, text, &buttons)
                    .await
                    .map(|()| message);
                self.settle(&item, result).await?;
                return Ok(true);
            }
            Some(Err(Unsent::Never)) => {
                store
                    .mark_dead(item.id, "the message to edit was never sent")
                    .await?;
                return Ok(true);
            }
            Some(Err(Unsent::Later(why))) => {
                store.mark_retry(item.id, now_ms() + 1000, why).await?;
                return Ok(true);
            }
            None => {}
        }
        let result = self.client.send(chat, text, &buttons, reply_to).await;
        if let (Ok(message_id), Some(number)) = (&result, payload["ticket"].as_str()) {
            crate::tickets::telegram::record_delivery(store, number, chat, *message_id).await?;
        }
        if let (Ok(message_id), Some(conversation)) = (&result, payload["conversation"].as_str()) {
            let mut tx = store.begin().await?;
            crate::desk::conversation::link_telegram_message(
                &mut tx,
                chat,
                *message_id,
                conversation,
                now_ms(),
            )
            .await?;
            tx.commit().await?;
        }
        self.settle(&item, result).await?;
        Ok(true)
    }

    /// Records how a send went: sent, retried later, or dead.
    async fn settle(
        &self,
        item: &crate::store::Outbox,
        result: Result<i32, TelegramError>,
    ) -> anyhow::Result<()> {
        let store = &self.store;
        match result {
            Ok(message_id) => store.mark_sent(item.id, &message_id.to_string()).await?,
            Err(TelegramError::RetryAfter(wait)) => {
                store
                    .mark_retry(
                        item.id,
                        now_ms() + wait.as_millis() as i64 + 100,
                        "Telegram flood limit",
                    )
                    .await?;
            }
            Err(TelegramError::Transient(e)) => {
                let wait = 500 * 2i64.pow(item.attempts.clamp(0, 7) as u32);
                store.mark_retry(item.id, now_ms() + wait, &e).await?;
            }
            Err(TelegramError::Rejected(e)) => {
                tracing::error!(key = %item.idempotency_key, error = %e, "Telegram refused a message: moved to dead letters");
                store.mark_dead(item.id, &e).await?;
            }
            // Only downloads meet a size limit; a send never does.
            Err(e @ TelegramError::TooLarge { .. }) => {
                store.mark_dead(item.id, &e.to_string()).await?;
            }
        }
        Ok(())
    }

    /// One long poll: handles what people did, then stores the offset (a crash in between
    /// replays the updates, which the handlers tolerate: claims are idempotent for their holder
    /// and replies carry their Telegram message as idempotency key).
    pub async fn read_once(&self) -> anyhow::Result<usize> {
        let store = &self.store;
        let offset = store
            .cursor(OFFSET_CURSOR)
            .await?
            .and_then(|v| v.parse::<i32>().ok())
            .unwrap_or(0);
        let (next, incoming) = self.client.updates(offset, self.poll_timeout).await?;
        let n = incoming.len();
        for item in incoming {
            let payload = serde_json::to_string(&item).unwrap_or_default();
            let reference = match &item {
                Incoming::Text {
                    chat_id,
                    message_id,
                    ..
                }
                | Incoming::Media {
                    chat_id,
                    message_id,
                    ..
                }
                | Incoming::Press {
                    chat_id,
                    message_id,
                    ..
                } => format!("{chat_id}/{message_id}"),
            };
            // A passing fault (a busy database) gets two more tries; the handlers tolerate a
            // replay.
            let mut result = self.handle(item.clone()).await;
            for wait in [200, 800] {
                if result.is_ok() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(wait)).await;
                result = self.handle(item.clone()).await;
            }
            if let Err(e) = result {
                // Kept for staff rather than lost; if even that fails, the offset stays and the
                // whole batch is read again (the handlers tolerate a replay).
                tracing::warn!(error = %e, update = %reference, "a Telegram update could not be handled: moved to dead letters");
                store
                    .dead_letter("telegram", &reference, &payload, &format!("{e:#}"))
                    .await?;
            }
        }
        if next != offset {
            let mut tx = store.begin().await?;
            crate::store::set_cursor(&mut tx, OFFSET_CURSOR, &next.to_string(), now_ms()).await?;
            tx.commit().await?;
        }
        Ok(n)
    }

    /// One update: a ticket's button or a message in an agency's chat goes to the tickets,
    /// everything in the staff group to the staff group.
    async fn handle(&self, item: Incoming) -> anyhow::Result<()> {
        match (&self.tickets, &item) {
            (
                Some(tickets),
                Incoming::Press {
                    query_id,
                    chat_id,
                    username,
                    data,
                    ..
                },
            ) if StateButton::is_ticket(data) => {
                let answer = tickets
                    .agency_press(&self.store, *chat_id, username, data)
                    .await?;
                if let Err(e) = self
                    .client
                    .answer(query_id, &answer.text, answer.alert)
                    .await
                {
                    tracing::debug!(error = %e, "a button press could not be answered");
                }
                self.staff_group.desk.notify();
                Ok(())
            }
            (
                Some(tickets),
                Incoming::Text {
                    chat_id,
                    message_id,
                    username,
                    text,
                    reply_to,
                    ..
                },
            ) if *chat_id != self.staff_group.staff_chat => {
                // An announcement (`/kabar`, or a reply in a draft's chain) first; a ticket's
                // note otherwise.
                if let Some(newsroom) = &self.newsroom {
                    let message = crate::announce::collect::ChatMessage {
                        chat_id: *chat_id,
                        message_id: *message_id,
                        username,
                        text,
                        reply_to: *reply_to,
                    };
                    let collected = newsroom
                        .from_telegram(&self.store, &tickets.config.agencies, &message)
                        .await?;
                    if collected != crate::announce::collect::Collected::NotMine
                        || text.trim_start().starts_with("/kabar")
                    {
                        self.staff_group.desk.notify();
                        return Ok(());
                    }
                }
                tickets.agency_reply(&self.store, &item).await?;
                Ok(())
            }
            (None, Incoming::Text { chat_id, .. }) if *chat_id != self.staff_group.staff_chat => {
                Ok(())
            }
            // Photos and documents are for the agencies' announcements, which do not read them
            // yet: skipped, as before the client reported them.
            (_, Incoming::Media { .. }) => Ok(()),
            _ => self.staff_group.handle(item).await,
        }
    }
}

/// Why a message to edit cannot be edited now.
enum Unsent {
    /// It is still on its way: the edit waits.
    Later(&'static str),
    /// It never went out (its row is dead or gone): the edit has nothing to edit.
    Never,
}
