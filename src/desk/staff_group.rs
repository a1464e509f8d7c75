//! The Telegram staff group: the desk's events become messages there (a hand-off with an "Ambil
//! alih" button, emergencies at once and to the command centre too, re-announcements, who took
//! what), and what people do there goes through the same desk functions as the console.
//!
//! Three loops. The notifier turns desk events into outbox rows (channel `telegram`) in the same
//! transaction that moves its cursor, so none is lost or doubled. The sender posts them through
//! the Telegram client and remembers which conversation each message is about. The reader long
//! polls updates: a button press claims, a reply to one of the bot's messages is posted to X as
//! the account, and `/antrian`, `/lepas`, `/selesai` list, release and close. A person is known by
//! the Telegram user id mapped to their staff account (`kicau staff link`).

use std::time::Duration;

use serde_json::{Value, json};
use sqlx::Row;
use tokio::sync::watch;

use super::{Desk, DeskError, Filter, State, staff};
use crate::channels::telegram::{Incoming, TelegramClient, TelegramError, escape};
use crate::store::{NewOutbox, now_ms};

const EVENTS_CURSOR: &str = "telegram.events";
const OFFSET_CURSOR: &str = "telegram.offset";
const WEEKLY_CURSOR: &str = "telegram.weekly_report";
const EMERGENCY_PRIORITY: i64 = 100;
const LEASE: Duration = Duration::from_secs(60);

/// The staff group's settings and its client.
#[derive(Clone, Debug)]
pub struct StaffGroup {
    pub desk: Desk,
    pub client: TelegramClient,
    pub staff_chat: i64,
    pub command_centre: Option<i64>,
    /// How long one long poll waits.
    pub poll_timeout: Duration,
    /// Tickets, whose agencies press buttons in their own chats.
    pub tickets: Option<crate::tickets::Tickets>,
    /// When the week's summary goes to the group (day, hour WIB); None: never.
    pub weekly_report: Option<(time::Weekday, u8)>,
    /// Whether this instance holds the lease on reading updates (Telegram allows one long poll
    /// per bot); None: it always reads.
    pub reader_lease: Option<watch::Receiver<bool>>,
}

/// One message to post in a Telegram chat.
struct Post<'a> {
    chat: i64,
    html: String,
    buttons: Vec<(String, String)>,
    conversation: Option<&'a str>,
    reply_to: Option<i32>,
}

impl Post<'_> {
    /// The outbox row that posts it, once (`key`), with `priority`.
    fn outbox(self, key: String, priority: i64) -> NewOutbox {
        NewOutbox {
            channel: "telegram".into(),
            payload: json!({
                "chat_id": self.chat,
                "text": self.html,
                "buttons": self.buttons,
                "conversation": self.conversation,
                "reply_to": self.reply_to,
            })
            .to_string(),
            priority,
            idempotency_key: key,
        }
    }
}

fn x_link(citizen: &str, tweet: Option<&str>) -> String {
    match tweet {
        Some(id) => format!("https://x.com/{citizen}/status/{id}"),
        None => format!("https://x.com/{citizen}"),
    }
}

fn claim_button(conversation: &str) -> Vec<(String, String)> {
    vec![("Ambil alih".to_owned(), format!("claim:{conversation}"))]
}

impl StaffGroup {
    /// Runs the notifier, the sender and the reader until `shutdown`.
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        let notifier = tokio::spawn(self.clone().notify_loop(shutdown.clone()));
        let sender = tokio::spawn(self.clone().send_loop(shutdown.clone()));
        let reader = tokio::spawn(self.clone().read_loop(shutdown));
        let _ = tokio::join!(notifier, sender, reader);
    }

    async fn notify_loop(self, mut shutdown: watch::Receiver<bool>) {
        while !*shutdown.borrow() {
            if let Err(e) = self.weekly_once(now_ms()).await {
                tracing::warn!(error = %e, "the weekly summary for the staff group failed");
            }
            match self.notify_once().await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "turning desk events into Telegram messages failed")
                }
            }
            tokio::select! {
                _ = self.desk.changed() => {}
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// Queues the summary of the seven days before the latest weekly slot, once per slot (the
    /// slot is the cursor, moved in the same transaction). A first start only notes the slot:
    /// the next one is the first summary. Returns whether it queued one.
    pub async fn weekly_once(&self, now: i64) -> Result<bool, DeskError> {
        let Some((day, hour)) = self.weekly_report else {
            return Ok(false);
        };
        let store = self.desk.store();
        let slot = crate::report::last_slot(now, day, hour);
        match store
            .cursor(WEEKLY_CURSOR)
            .await?
            .and_then(|v| v.parse::<i64>().ok())
        {
            None => {
                set_cursor(store, WEEKLY_CURSOR, &slot.to_string()).await?;
                return Ok(false);
            }
            Some(done) if done >= slot => return Ok(false),
            Some(_) => {}
        }
        let agencies = self
            .tickets
            .as_ref()
            .map(|t| t.config.agencies.as_slice())
            .unwrap_or_default();
        let report = crate::report::build(store, agencies, slot - 7 * 86_400_000, slot).await?;
        let text: String = report.text().chars().take(3800).collect();
        let html = format!(
            "📊 <b>Ringkasan mingguan</b>\n<pre>{}</pre>\nRincian: halaman Ringkasan di konsol.",
            escape(&text)
        );
        let now = now_ms();
        let mut tx = store.pool().begin().await?;
        upsert_cursor(&mut tx, WEEKLY_CURSOR, &slot.to_string(), now).await?;
        crate::store::insert_outbox(
            &mut tx,
            &Post {
                chat: self.staff_chat,
                html,
                buttons: Vec::new(),
                conversation: None,
                reply_to: None,
            }
            .outbox(format!("tg:weekly:{slot}:{}", self.staff_chat), 0),
            now,
        )
        .await?;
        tx.commit().await?;
        tracing::info!(slot, "weekly summary queued for the staff group");
        Ok(true)
    }

    /// Turns the next desk events into outbox rows and moves the cursor, in one transaction.
    /// The first run starts from now: history is not replayed into the group.
    pub async fn notify_once(&self) -> Result<bool, DeskError> {
        let store = self.desk.store();
        let after = match store.cursor(EVENTS_CURSOR).await? {
            Some(value) => value.parse::<i64>().unwrap_or(0),
            None => {
                let last = self.desk.last_event_id().await?;
                set_cursor(store, EVENTS_CURSOR, &last.to_string()).await?;
                last
            }
        };
        let events = self.desk.events_after(after, 50).await?;
        let Some(last) = events.last().map(|e| e.id) else {
            return Ok(false);
        };
        let mut rows = Vec::new();
        for event in &events {
            let key = |chat: i64| format!("tg:event:{}:{chat}", event.id);
            let to_group = |html: String, buttons: Vec<(String, String)>, conversation| {
                Post {
                    chat: self.staff_chat,
                    html,
                    buttons,
                    conversation,
                    reply_to: None,
                }
                .outbox(key(self.staff_chat), 0)
            };
            if event.kind == "ticket_note_held" {
                // An agency's note waits for approval: staff decide here or in the console.
                let d = &event.detail;
                let note_id = d["note_id"].as_i64().unwrap_or_default();
                let html = format!(
                    "📝 <b>Kabar instansi menunggu persetujuan</b> · laporan {}\n{}:\n<i>{}</i>\n\n\
                     Teruskan ke pelapor apa adanya, atau sunting dulu di halaman Laporan konsol.",
                    escape(d["ticket"].as_str().unwrap_or("")),
                    escape(&event.actor),
                    escape(d["note"].as_str().unwrap_or("")),
                );
                rows.push(
                    Post {
                        chat: self.staff_chat,
                        html,
                        buttons: vec![
                            ("Teruskan".into(), format!("note:{note_id}:approve")),
                            ("Jangan teruskan".into(), format!("note:{note_id}:drop")),
                        ],
                        conversation: None,
                        reply_to: None,
                    }
                    .outbox(key(self.staff_chat), 0),
                );
                continue;
            }
            let Some(id) = event.conversation_id.as_deref() else {
                continue;
            };
            let conversation = match self.desk.get(id).await {
                Ok(c) => c,
                Err(DeskError::NotFound) => continue,
                Err(e) => return Err(e),
            };
            let citizen = escape(&conversation.citizen);
            // Personal data stays on X and in the console; the group (a third party's service) gets
            // the text without it.
            let text = escape(&crate::language::pii::redact(&conversation.last_text));
            let tweet = event.detail["tweet_id"].as_str();
            match event.kind.as_str() {
                "emergency" => {
                    let html = format!(
                        "🚨 <b>DARURAT</b> · @{citizen}\n<i>{text}</i>\n\nBalasan 112 sudah dikirim otomatis. \
                         Tindak lanjuti segera.\n{}",
                        x_link(&conversation.citizen, tweet)
                    );
                    rows.push(
                        Post {
                            chat: self.staff_chat,
                            html: html.clone(),
                            buttons: claim_button(id),
                            conversation: Some(id),
                            reply_to: None,
                        }
                        .outbox(key(self.staff_chat), EMERGENCY_PRIORITY),
                    );
                    if let Some(centre) = self.command_centre {
                        rows.push(
                            Post {
                                chat: centre,
                                html,
                                buttons: Vec::new(),
                                conversation: Some(id),
                                reply_to: None,
                            }
                            .outbox(key(centre), EMERGENCY_PRIORITY),
                        );
                    }
                }
                "handoff" | "ticket_rejected" => {
                    let reason = conversation
                        .reason
                        .as_deref()
                        .map(super::reason_label)
                        .unwrap_or("perlu petugas");
                    let html = format!(
                        "🔔 <b>Perlu petugas</b> · @{citizen}\n{}\n\n<i>{text}</i>\n\n{}",
                        escape(reason),
                        x_link(&conversation.citizen, tweet)
                    );
                    rows.push(to_group(html, claim_button(id), Some(id)));
                }
                "reannounced" if conversation.state == State::WaitingStaff => {
                    let html = format!(
                        "⏰ <b>Belum ada yang mengambil</b> (menunggu {} menit) · @{citizen}\n<i>{text}</i>",
                        event.detail["waiting_minutes"].as_i64().unwrap_or(0)
                    );
                    rows.push(to_group(html, claim_button(id), Some(id)));
                }
                "message" => {
                    if let Some(holder) = event.detail["held_by"].as_str() {
                        let html = format!(
                            "💬 @{citizen} menulis lagi di percakapan yang dipegang {}:\n<i>{text}</i>",
                            escape(holder)
                        );
                        rows.push(to_group(html, Vec::new(), Some(id)));
                    }
                }
                "ticket_overdue" | "ticket_warning_letter" => {
                    let what = if event.kind == "ticket_overdue" {
                        "melewati batas waktu"
                    } else {
                        "belum diterima instansi: siapkan surat teguran"
                    };
                    let html = format!(
                        "⚠️ <b>Laporan {} {what}</b> ({}) · @{citizen}\n<i>{text}</i>",
                        escape(event.detail["ticket"].as_str().unwrap_or("")),
                        escape(event.detail["agency"].as_str().unwrap_or("")),
                    );
                    rows.push(to_group(html, claim_button(id), Some(id)));
                }
                "ticket_update_held" => {
                    let html = format!(
                        "📋 Kabar laporan {} untuk @{citizen} tertahan selama percakapan dipegang {}; \
                         terkirim saat dikembalikan ke bot atau ditutup.",
                        escape(event.detail["ticket"].as_str().unwrap_or("")),
                        escape(conversation.held_by.as_deref().unwrap_or("petugas")),
                    );
                    rows.push(to_group(html, Vec::new(), Some(id)));
                }
                "claim" | "release" | "close" => {
                    let actor = escape(&event.actor);
                    let html = match event.kind.as_str() {
                        "claim" => format!("✅ @{citizen} diambil alih oleh {actor}"),
                        "release" => format!("↩️ @{citizen} dikembalikan ke bot oleh {actor}"),
                        _ => format!("✔️ Percakapan dengan @{citizen} ditutup oleh {actor}"),
                    };
                    rows.push(to_group(html, Vec::new(), Some(id)));
                }
                _ => {}
            }
        }
        let now = now_ms();
        let mut tx = store.pool().begin().await?;
        upsert_cursor(&mut tx, EVENTS_CURSOR, &last.to_string(), now).await?;
        for row in &rows {
            crate::store::insert_outbox(&mut tx, row, now).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn send_loop(self, mut shutdown: watch::Receiver<bool>) {
        while !*shutdown.borrow() {
            match self.send_once().await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "the Telegram sender failed; it will retry"),
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(200)) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// Sends one due Telegram message. Returns false when none was due.
    pub async fn send_once(&self) -> Result<bool, DeskError> {
        let store = self.desk.store();
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
        let buttons: Vec<(String, String)> =
            serde_json::from_value(payload["buttons"].clone()).unwrap_or_default();
        let reply_to = payload["reply_to"].as_i64().map(|m| m as i32);
        // A ticket's state change edits the agency's first message about it.
        if payload["edit"].as_bool() == Some(true)
            && let Some(number) = payload["ticket"].as_str()
        {
            let delivery: Option<String> =
                sqlx::query("SELECT delivery FROM tickets WHERE number = $1")
                    .bind(number)
                    .fetch_optional(store.pool())
                    .await?
                    .and_then(|r| r.get(0));
            let message = delivery
                .and_then(|d| serde_json::from_str::<Value>(&d).ok())
                .and_then(|d| d["message_id"].as_i64());
            let Some(message) = message else {
                store
                    .mark_retry(
                        item.id,
                        now_ms() + 1000,
                        "the ticket's first message is not out yet",
                    )
                    .await?;
                return Ok(true);
            };
            let result = self
                .client
                .edit_text(chat, message as i32, text, &buttons)
                .await
                .map(|()| message as i32);
            self.settle(&item, result).await?;
            return Ok(true);
        }
        let result = self.client.send(chat, text, &buttons, reply_to).await;
        if let (Ok(message_id), Some(number)) = (&result, payload["ticket"].as_str()) {
            sqlx::query("UPDATE tickets SET delivery = $1 WHERE number = $2")
                .bind(
                    json!({"channel": "telegram", "chat_id": chat, "message_id": message_id})
                        .to_string(),
                )
                .bind(number)
                .execute(store.pool())
                .await?;
        }
        if let (Ok(message_id), Some(conversation)) = (&result, payload["conversation"].as_str()) {
            sqlx::query(
                "INSERT INTO telegram_messages (chat_id, message_id, conversation_id, created_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (chat_id, message_id) DO NOTHING",
            )
            .bind(chat.to_string())
            .bind(i64::from(*message_id))
            .bind(conversation)
            .bind(now_ms())
            .execute(store.pool())
            .await?;
        }
        self.settle(&item, result).await?;
        Ok(true)
    }

    /// Records how a send went: sent, retried later, or dead.
    async fn settle(
        &self,
        item: &crate::store::Outbox,
        result: Result<i32, TelegramError>,
    ) -> Result<(), DeskError> {
        let store = self.desk.store();
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
        }
        Ok(())
    }

    async fn read_loop(self, mut shutdown: watch::Receiver<bool>) {
        let mut lease = self.reader_lease.clone();
        while !*shutdown.borrow() {
            if let Some(held) = &mut lease
                && !crate::store::lease::wait_held(held, &mut shutdown).await
            {
                break;
            }
            let result = tokio::select! {
                r = self.read_once() => r,
                _ = shutdown.changed() => break,
            };
            if let Err(e) = result {
                tracing::warn!(error = %e, "reading Telegram updates failed; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(2)) => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
    }

    /// One long poll: handles what people did, then stores the offset (a crash in between
    /// replays the updates, which the handlers tolerate: claims are idempotent for their holder
    /// and replies carry their Telegram message as idempotency key).
    pub async fn read_once(&self) -> anyhow::Result<usize> {
        let store = self.desk.store();
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
            set_cursor(store, OFFSET_CURSOR, &next.to_string()).await?;
        }
        Ok(n)
    }

    /// Answers a button press. The answer only stops the button's spinner: when Telegram
    /// refuses it (a replayed press is too old to answer) the press itself still stands.
    async fn answer(&self, query_id: &str, text: &str, alert: bool) {
        if let Err(e) = self.client.answer(query_id, text, alert).await {
            tracing::debug!(error = %e, "a button press could not be answered");
        }
    }

    async fn handle(&self, item: Incoming) -> anyhow::Result<()> {
        match item {
            Incoming::Press {
                query_id,
                chat_id,
                message_id,
                user_id,
                data,
                username,
            } => {
                if let Some(rest) = data.strip_prefix("t:") {
                    return self.ticket_press(&query_id, chat_id, &username, rest).await;
                }
                if let Some(rest) = data.strip_prefix("note:") {
                    return self
                        .note_press(&query_id, chat_id, message_id, user_id, rest)
                        .await;
                }
                let Some(conversation) = data.strip_prefix("claim:") else {
                    self.answer(&query_id, "Tombol tidak dikenal.", false).await;
                    return Ok(());
                };
                let Some(actor) = staff::by_telegram(self.desk.store(), user_id as i64).await?
                else {
                    self.answer(&query_id, &unlinked(user_id), true).await;
                    return Ok(());
                };
                match self.desk.claim(conversation, &actor).await {
                    Ok(_) => {
                        self.answer(&query_id, "Percakapan kini Anda pegang; bot diam. Balas pesan ini untuk menjawab warga.", false)
                            .await;
                        if let Err(e) = self.client.set_buttons(chat_id, message_id, &[]).await {
                            tracing::warn!(error = %e, "could not remove the claim button");
                        }
                    }
                    Err(e @ (DeskError::HeldBy(_) | DeskError::Closed | DeskError::NotFound)) => {
                        self.answer(&query_id, &e.to_string(), true).await;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            Incoming::Text {
                chat_id,
                message_id,
                user_id,
                text,
                reply_to,
                username,
            } => {
                if chat_id != self.staff_chat {
                    return self
                        .agency_text(chat_id, message_id, reply_to, &username, &text)
                        .await;
                }
                let command = text.split_whitespace().next().unwrap_or("");
                let command = command.split('@').next().unwrap_or(command);
                let is_command = command.starts_with('/');
                if !is_command && reply_to.is_none() {
                    return Ok(());
                }
                let ack = |html: String| {
                    Post {
                        chat: chat_id,
                        html,
                        buttons: Vec::new(),
                        conversation: None,
                        reply_to: Some(message_id),
                    }
                    .outbox(format!("tg:ack:{chat_id}:{message_id}"), 0)
                };
                let Some(actor) = staff::by_telegram(self.desk.store(), user_id as i64).await?
                else {
                    if is_command || self.conversation_of(chat_id, reply_to).await?.is_some() {
                        self.enqueue(ack(escape(&unlinked(user_id)))).await?;
                    }
                    return Ok(());
                };
                match command {
                    "/antrian" => {
                        let waiting = self
                            .desk
                            .list(&Filter {
                                state: Some(State::WaitingStaff),
                                held_by: None,
                            })
                            .await?;
                        let html = if waiting.is_empty() {
                            "Antrean kosong: tidak ada percakapan yang menunggu petugas.".to_owned()
                        } else {
                            let mut lines =
                                vec![format!("<b>Antrean</b> ({} menunggu):", waiting.len())];
                            for (i, c) in waiting.iter().take(10).enumerate() {
                                let minutes =
                                    (now_ms() - c.waiting_since.unwrap_or(now_ms())) / 60_000;
                                lines.push(format!(
                                    "{}. {}@{} ({} menit): {}",
                                    i + 1,
                                    if c.urgent { "🚨 " } else { "" },
                                    escape(&c.citizen),
                                    minutes,
                                    escape(&truncate(
                                        &crate::language::pii::redact(&c.last_text),
                                        80
                                    ))
                                ));
                            }
                            lines.join("\n")
                        };
                        let buttons: Vec<(String, String)> = waiting
                            .iter()
                            .take(5)
                            .enumerate()
                            .map(|(i, c)| (format!("Ambil #{}", i + 1), format!("claim:{}", c.id)))
                            .collect();
                        let mut row = ack(html);
                        row.payload = {
                            let mut p: Value = serde_json::from_str(&row.payload)?;
                            p["buttons"] = json!(buttons);
                            p.to_string()
                        };
                        self.enqueue(row).await?;
                    }
                    "/lepas" | "/selesai" => {
                        let argument = text.split_whitespace().nth(1).map(str::to_owned);
                        let conversation = match argument {
                            Some(id) => Some(id),
                            None => self.conversation_of(chat_id, reply_to).await?,
                        };
                        let Some(conversation) = conversation else {
                            self.enqueue(ack(format!("Balas pesan percakapannya dengan {command}, atau tulis {command} ID."))).await?;
                            return Ok(());
                        };
                        let result = if command == "/lepas" {
                            self.desk.release(&conversation, &actor).await
                        } else {
                            self.desk.close(&conversation, &actor).await
                        };
                        match result {
                            Ok(_) => {}
                            Err(
                                e @ (DeskError::HeldBy(_)
                                | DeskError::Closed
                                | DeskError::NotFound
                                | DeskError::NotHolder),
                            ) => {
                                self.enqueue(ack(escape(&e.to_string()))).await?;
                            }
                            Err(e) => return Err(e.into()),
                        }
                    }
                    c if c.starts_with('/') => {
                        self.enqueue(ack("Perintah: /antrian (daftar tunggu), /lepas dan /selesai (balas pesan percakapannya). Untuk menjawab warga, balas pesan percakapannya.".into())).await?;
                    }
                    _ => {
                        let Some(conversation) = self.conversation_of(chat_id, reply_to).await?
                        else {
                            return Ok(());
                        };
                        let origin = format!("tg:{chat_id}:{message_id}");
                        match self
                            .desk
                            .reply_keyed(&conversation, &actor, &text, Some(&origin))
                            .await
                        {
                            Ok(0) => {}
                            Ok(n) => {
                                let c = self.desk.get(&conversation).await?;
                                self.enqueue(ack(format!(
                                    "📤 Terkirim ke @{} ({n} twit).",
                                    escape(&c.citizen)
                                )))
                                .await?;
                            }
                            Err(
                                e @ (DeskError::HeldBy(_)
                                | DeskError::Closed
                                | DeskError::NotFound
                                | DeskError::NotHolder
                                | DeskError::Invalid(_)),
                            ) => {
                                self.enqueue(ack(escape(&e.to_string()))).await?;
                            }
                            Err(e) => return Err(e.into()),
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// A message in an agency's chat: a reply to a ticket's message is a status note for the
    /// citizen; anything else is the agency's own talk and stays there.
    async fn agency_text(
        &self,
        chat_id: i64,
        message_id: i32,
        reply_to: Option<i32>,
        username: &str,
        text: &str,
    ) -> anyhow::Result<()> {
        let (Some(tickets), Some(reply_to)) = (&self.tickets, reply_to) else {
            return Ok(());
        };
        let Some(agency) = tickets
            .config
            .agencies
            .iter()
            .find(|a| a.telegram_chat_id == Some(chat_id))
            .cloned()
        else {
            return Ok(());
        };
        let delivery =
            json!({"channel": "telegram", "chat_id": chat_id, "message_id": reply_to}).to_string();
        let number: Option<String> =
            sqlx::query("SELECT number FROM tickets WHERE delivery = $1 AND agency = $2")
                .bind(&delivery)
                .bind(&agency.id)
                .fetch_optional(self.desk.store().pool())
                .await?
                .map(|r| r.get(0));
        let Some(number) = number else {
            return Ok(());
        };
        // A replayed update (a crash before the offset was stored) relays nothing twice.
        let by = format!("{} (@{username})", agency.short_name);
        let outcome = tickets
            .add_note(
                self.desk.store(),
                &number,
                &by,
                text,
                &format!("tg:{chat_id}:{message_id}"),
            )
            .await?;
        let html = match outcome {
            crate::tickets::NoteOutcome::Repeated => return Ok(()),
            crate::tickets::NoteOutcome::Relayed => {
                format!(
                    "📤 Kabar diteruskan ke pelapor laporan {}.",
                    escape(&number)
                )
            }
            crate::tickets::NoteOutcome::Held(_) => format!(
                "🕓 Kabar untuk pelapor laporan {} menunggu persetujuan petugas.",
                escape(&number)
            ),
        };
        self.enqueue(
            Post {
                chat: chat_id,
                html,
                buttons: Vec::new(),
                conversation: None,
                reply_to: Some(message_id),
            }
            .outbox(format!("tg:note:{chat_id}:{message_id}"), 0),
        )
        .await?;
        Ok(())
    }

    /// A staff member decided on a held agency note (`note:<id>:approve|drop`) in the group.
    async fn note_press(
        &self,
        query_id: &str,
        chat_id: i64,
        message_id: i32,
        user_id: u64,
        rest: &str,
    ) -> anyhow::Result<()> {
        let Some(tickets) = &self.tickets else {
            self.answer(query_id, "Tiket tidak aktif.", true).await;
            return Ok(());
        };
        if chat_id != self.staff_chat {
            self.answer(query_id, "Tombol ini hanya untuk grup petugas.", true)
                .await;
            return Ok(());
        }
        let Some(actor) = staff::by_telegram(self.desk.store(), user_id as i64).await? else {
            self.answer(query_id, &unlinked(user_id), true).await;
            return Ok(());
        };
        let (id, action) = rest.split_once(':').unwrap_or((rest, ""));
        let decision = match action {
            "approve" => crate::tickets::NoteDecision::Approve(None),
            "drop" => crate::tickets::NoteDecision::Drop,
            _ => {
                self.answer(query_id, "Tombol tidak dikenal.", false).await;
                return Ok(());
            }
        };
        let Ok(id) = id.parse::<i64>() else {
            self.answer(query_id, "Tombol tidak dikenal.", false).await;
            return Ok(());
        };
        match tickets
            .decide_note(self.desk.store(), id, &actor.name, decision)
            .await
        {
            Ok(note) => {
                let done = if action == "approve" {
                    format!("Kabar laporan {} diteruskan ke pelapor.", note.number)
                } else {
                    format!("Kabar laporan {} tidak diteruskan.", note.number)
                };
                self.answer(query_id, &done, false).await;
                if let Err(e) = self.client.set_buttons(chat_id, message_id, &[]).await {
                    tracing::warn!(error = %e, "could not remove the note buttons");
                }
            }
            Err(
                e @ (crate::tickets::TicketError::NoteDecided(_)
                | crate::tickets::TicketError::NoteNotFound(_)),
            ) => self.answer(query_id, &e.to_string(), true).await,
            Err(e) => return Err(e.into()),
        }
        self.desk.notify();
        Ok(())
    }

    /// An agency member pressed a ticket's button (`t:<number>:<state>`) in the agency's chat.
    async fn ticket_press(
        &self,
        query_id: &str,
        chat_id: i64,
        username: &str,
        rest: &str,
    ) -> anyhow::Result<()> {
        let Some(tickets) = &self.tickets else {
            self.answer(query_id, "Tiket tidak aktif.", true).await;
            return Ok(());
        };
        let (number, state) = rest.rsplit_once(':').unwrap_or((rest, ""));
        let Some(to) = crate::tickets::TicketState::parse(state) else {
            self.answer(query_id, "Tombol tidak dikenal.", false).await;
            return Ok(());
        };
        let ticket = match tickets.get(self.desk.store(), number).await {
            Ok(t) => t,
            Err(e) => {
                self.answer(query_id, &e.to_string(), true).await;
                return Ok(());
            }
        };
        let Some(agency) = tickets.agency(&ticket.agency) else {
            return Ok(());
        };
        // Only the agency's own chat moves its tickets.
        if agency.telegram_chat_id != Some(chat_id) {
            self.answer(query_id, "Tiket ini milik instansi lain.", true)
                .await;
            return Ok(());
        }
        let by = format!("{} (@{username})", agency.short_name);
        match tickets
            .transition(
                self.desk.store(),
                number,
                to,
                &crate::tickets::Mover {
                    name: &by,
                    staff: false,
                    note: "",
                },
            )
            .await
        {
            Ok(_) => {
                self.answer(
                    query_id,
                    &format!("Status laporan {number}: {}", to.label()),
                    false,
                )
                .await
            }
            Err(e @ crate::tickets::TicketError::NotAllowed { .. }) => {
                self.answer(query_id, &e.to_string(), true).await
            }
            Err(e) => return Err(e.into()),
        }
        self.desk.notify();
        Ok(())
    }

    /// The conversation a message of the bot in `chat` is about.
    async fn conversation_of(
        &self,
        chat: i64,
        message: Option<i32>,
    ) -> Result<Option<String>, DeskError> {
        let Some(message) = message else {
            return Ok(None);
        };
        let row = sqlx::query(
            "SELECT conversation_id FROM telegram_messages WHERE chat_id = $1 AND message_id = $2",
        )
        .bind(chat.to_string())
        .bind(i64::from(message))
        .fetch_optional(self.desk.store().pool())
        .await?;
        Ok(row.and_then(|r| r.get::<Option<String>, _>(0)))
    }

    async fn enqueue(&self, row: NewOutbox) -> Result<(), DeskError> {
        self.desk.store().enqueue(&row).await?;
        Ok(())
    }
}

fn unlinked(user_id: u64) -> String {
    format!(
        "Akun Telegram Anda (id {user_id}) belum terhubung ke akun petugas. Minta admin menjalankan: \
         kicau staff link NAMA --telegram-id {user_id}"
    )
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max).collect();
    format!("{cut}…")
}

async fn set_cursor(store: &crate::store::Store, name: &str, value: &str) -> Result<(), DeskError> {
    let mut tx = store.pool().begin().await?;
    upsert_cursor(&mut tx, name, value, now_ms()).await?;
    tx.commit().await?;
    Ok(())
}

async fn upsert_cursor(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    name: &str,
    value: &str,
    now: i64,
) -> Result<(), DeskError> {
    sqlx::query(
        "INSERT INTO cursors (name, value, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
    )
    .bind(name)
    .bind(value)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
