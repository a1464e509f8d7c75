/*!
The Telegram staff group, a front end beside the console: the desk's events become messages there
(a hand-off with an "Ambil alih" button, emergencies at once and to the command centre too,
re-announcements, who took what, held agency notes with "Teruskan" / "Jangan teruskan"), and what
people do there goes through the same desk and ticket functions as the console: a button press
claims or decides a note, a reply to one of the bot's messages is posted to X as the account, and
`/antrian`, `/lepas`, `/selesai` list, release and close. A person is known by the Telegram user
id mapped to their staff account (`kicau staff link`).

The notifier ([`StaffGroup::notify_once`]) turns desk events into outbox rows (channel
`telegram`) in the same transaction that moves its cursor, so none is lost or doubled; the loops
that send and read Telegram are in `run::telegram`.
*/

mod budget;

use serde_json::{Value, json};

use crate::channels::telegram::{Incoming, TelegramClient, escape};
use crate::desk::{Desk, DeskError, Filter, State, staff};
use crate::store::{NewOutbox, now_ms};
use crate::tickets::telegram::TelegramPost;

const EVENTS_CURSOR: &str = "telegram.events";
const WEEKLY_CURSOR: &str = "telegram.weekly_report";
const EMERGENCY_PRIORITY: i64 = 100;
/// The events whose message in the group offers "Ambil alih".
const CLAIMABLE: &[&str] = &[
    "emergency",
    "handoff",
    "ticket_rejected",
    "reannounced",
    "ticket_overdue",
    "ticket_warning_letter",
];

/// The staff group's settings and its client.
#[derive(Clone, Debug)]
pub struct StaffGroup {
    pub desk: Desk,
    pub client: TelegramClient,
    pub staff_chat: i64,
    pub command_centre: Option<i64>,
    /// Tickets, for the held agency notes staff decide on here.
    pub tickets: Option<crate::tickets::Tickets>,
    /// When the week's summary goes to the group (day, hour WIB); None: never.
    pub weekly_report: Option<(time::Weekday, u8)>,
    /// A reply here that repeats a knowledge entry proposes that entry as a correction (as in
    /// the console); None: no suggestions.
    pub lessons: Option<crate::learning::Lessons>,
}

/// A button the staff group's messages carry, as Telegram callback data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupButton {
    /// `claim:<conversation>`: take the conversation over.
    Claim(String),
    /// `note:<id>:approve` or `note:<id>:drop`: decide on a held agency note.
    Note { id: i64, approve: bool },
}

impl GroupButton {
    /// The callback data.
    pub fn data(&self) -> String {
        match self {
            GroupButton::Claim(conversation) => format!("claim:{conversation}"),
            GroupButton::Note { id, approve } => {
                format!("note:{id}:{}", if *approve { "approve" } else { "drop" })
            }
        }
    }

    /// Reads callback data; None for anything else.
    pub fn parse(data: &str) -> Option<GroupButton> {
        if let Some(conversation) = data.strip_prefix("claim:") {
            return Some(GroupButton::Claim(conversation.to_owned()));
        }
        let (id, action) = data.strip_prefix("note:")?.split_once(':')?;
        let approve = match action {
            "approve" => true,
            "drop" => false,
            _ => return None,
        };
        Some(GroupButton::Note {
            id: id.parse().ok()?,
            approve,
        })
    }
}

/// A button pressed in the group: the press to answer, the chat and message that carry the
/// button, and who pressed it.
struct Press<'a> {
    query_id: &'a str,
    chat_id: i64,
    message_id: i32,
    user_id: u64,
}

/// A message for a chat, with no buttons and about no conversation.
fn post(chat: i64, html: String) -> TelegramPost {
    TelegramPost {
        chat,
        html,
        ..TelegramPost::default()
    }
}

fn x_link(citizen: &str, tweet: Option<&str>) -> String {
    match tweet {
        Some(id) => format!("https://x.com/{citizen}/status/{id}"),
        None => format!("https://x.com/{citizen}"),
    }
}

fn claim_button(conversation: &str) -> Vec<(String, String)> {
    let button = GroupButton::Claim(conversation.to_owned());
    vec![("Ambil alih".to_owned(), button.data())]
}

impl StaffGroup {
    /// The deployment's `[costs]` (from the tickets' configuration; the defaults without one).
    pub fn costs(&self) -> crate::config::CostsConfig {
        self.tickets
            .as_ref()
            .map(|t| t.config.costs.clone())
            .unwrap_or_default()
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
                let mut tx = store.begin().await?;
                crate::store::set_cursor(&mut tx, WEEKLY_CURSOR, &slot.to_string(), now_ms())
                    .await?;
                tx.commit().await?;
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
        let costs = self.costs();
        let report = crate::report::build(store, agencies, slot - 7 * 86_400_000, slot)
            .await?
            .with_costs(store, &costs, now)
            .await?;
        let text: String = report.text().chars().take(3800).collect();
        let html = format!(
            "📊 <b>Ringkasan mingguan</b>\n<pre>{}</pre>\nRincian: halaman Ringkasan di konsol.",
            escape(&text)
        );
        let now = now_ms();
        let mut tx = store.begin().await?;
        crate::store::set_cursor(&mut tx, WEEKLY_CURSOR, &slot.to_string(), now).await?;
        crate::store::insert_outbox(
            &mut tx,
            &post(self.staff_chat, html).outbox(format!("tg:weekly:{slot}:{}", self.staff_chat), 0),
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
                let mut tx = store.begin().await?;
                crate::store::set_cursor(&mut tx, EVENTS_CURSOR, &last.to_string(), now_ms())
                    .await?;
                tx.commit().await?;
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
            let to_group =
                |html: String, buttons: Vec<(String, String)>, conversation: Option<&str>| {
                    TelegramPost {
                        chat: self.staff_chat,
                        html,
                        buttons,
                        conversation: conversation.map(str::to_owned),
                        reply_to: None,
                    }
                    .outbox(key(self.staff_chat), 0)
                };
            if event.kind == "ticket_note_held" {
                // An agency's note waits for approval: staff decide here or in the console.
                let d = &event.detail;
                let note_id = d["note_id"].as_i64().unwrap_or_default();
                let approve = GroupButton::Note {
                    id: note_id,
                    approve: true,
                };
                let drop = GroupButton::Note {
                    id: note_id,
                    approve: false,
                };
                let html = format!(
                    "📝 <b>Kabar instansi menunggu persetujuan</b> · laporan {}\n{}:\n<i>{}</i>\n\n\
                     Teruskan ke pelapor apa adanya, atau sunting dulu di halaman Laporan konsol.",
                    escape(d["ticket"].as_str().unwrap_or("")),
                    escape(&event.actor),
                    escape(d["note"].as_str().unwrap_or("")),
                );
                rows.push(
                    TelegramPost {
                        chat: self.staff_chat,
                        html,
                        buttons: vec![
                            ("Teruskan".into(), approve.data()),
                            ("Jangan teruskan".into(), drop.data()),
                        ],
                        conversation: None,
                        reply_to: None,
                    }
                    .outbox(key(self.staff_chat), 0),
                );
                continue;
            }
            if event.kind == "mentions_gap" {
                // Mentions X no longer serves: staff look for them on X by hand.
                let d = &event.detail;
                let html = format!(
                    "⚠️ <b>Ada mention yang tidak terbaca</b>\nX hanya menyimpan 800 mention \
                     terbaru, dan lonjakan mention menggesernya sebelum bot sempat membaca. Mention \
                     setelah twit <code>{}</code> dan sebelum twit <code>{}</code> hilang dari \
                     jangkauan bot.\nCari mention @ akun di X untuk rentang waktu itu dan tangani \
                     secara manual. Catatannya ada di halaman Surat mati konsol.",
                    escape(d["after_id"].as_str().unwrap_or("")),
                    escape(d["before_id"].as_str().unwrap_or("")),
                );
                rows.push(
                    TelegramPost {
                        chat: self.staff_chat,
                        html,
                        buttons: Vec::new(),
                        conversation: None,
                        reply_to: None,
                    }
                    .outbox(key(self.staff_chat), EMERGENCY_PRIORITY),
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
                        TelegramPost {
                            chat: self.staff_chat,
                            html: html.clone(),
                            buttons: claim_button(id),
                            conversation: Some(id.to_owned()),
                            reply_to: None,
                        }
                        .outbox(key(self.staff_chat), EMERGENCY_PRIORITY),
                    );
                    if let Some(centre) = self.command_centre {
                        rows.push(
                            TelegramPost {
                                chat: centre,
                                html,
                                buttons: Vec::new(),
                                conversation: Some(id.to_owned()),
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
                        .map(crate::desk::reason_label)
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
                "claim" | "assign" | "release" | "close" => {
                    // Who holds it now: the claimant, or the colleague it was handed to.
                    let holder = match event.kind.as_str() {
                        "assign" => event.detail["to"].as_str().unwrap_or(&event.actor),
                        _ => &event.actor,
                    };
                    if matches!(event.kind.as_str(), "claim" | "assign") {
                        rows.extend(self.claimed_edits(event, id, holder).await?);
                    }
                    let actor = escape(&event.actor);
                    let html = match event.kind.as_str() {
                        "claim" => format!("✅ @{citizen} diambil alih oleh {actor}"),
                        "assign" => format!(
                            "👉 @{citizen} diserahkan ke {} oleh {actor}",
                            escape(holder)
                        ),
                        "release" => format!("↩️ @{citizen} dikembalikan ke bot oleh {actor}"),
                        _ => format!("✔️ Percakapan dengan @{citizen} ditutup oleh {actor}"),
                    };
                    rows.push(to_group(html, Vec::new(), Some(id)));
                }
                _ => {}
            }
        }
        let now = now_ms();
        let mut tx = store.begin().await?;
        crate::store::set_cursor(&mut tx, EVENTS_CURSOR, &last.to_string(), now).await?;
        for row in &rows {
            crate::store::insert_outbox(&mut tx, row, now).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// After a claim (in the console, the API or here) or a hand-over to a colleague: every
    /// earlier message of the group that offered "Ambil alih" for the conversation loses its
    /// button and says who took it (`holder`).
    /// Each is edited once, by the first claim after it: the key names the message.
    async fn claimed_edits(
        &self,
        claim: &crate::desk::Event,
        conversation: &str,
        holder: &str,
    ) -> Result<Vec<NewOutbox>, DeskError> {
        let offered = self
            .desk
            .events_of(conversation, CLAIMABLE, claim.id)
            .await?;
        let mut edits = Vec::new();
        for event in offered {
            let original = format!("tg:event:{}:{}", event.id, self.staff_chat);
            let Some(row) = self.desk.store().outbox_by_key(&original).await? else {
                continue;
            };
            let payload: Value = serde_json::from_str(&row.payload).unwrap_or(Value::Null);
            let Some(html) = payload["text"].as_str() else {
                continue;
            };
            let who = if claim.kind == "assign" {
                format!(
                    "Diserahkan ke {} oleh {}",
                    escape(holder),
                    escape(&claim.actor)
                )
            } else {
                format!("Diambil alih oleh {}", escape(holder))
            };
            let html = format!("{html}\n\n✅ <b>{who}</b> · {}", crate::wib::time(claim.at),);
            edits.push(NewOutbox {
                channel: "telegram".into(),
                payload: json!({
                    "chat_id": self.staff_chat,
                    "text": html,
                    "buttons": [],
                    "edit_of": original,
                })
                .to_string(),
                priority: 0,
                idempotency_key: format!("tg:claimed:{}:{}", event.id, self.staff_chat),
            });
        }
        Ok(edits)
    }

    /// Answers a button press. The answer only stops the button's spinner: when Telegram
    /// refuses it (a replayed press is too old to answer) the press itself still stands.
    async fn answer(&self, query_id: &str, text: &str, alert: bool) {
        if let Err(e) = self.client.answer(query_id, text, alert).await {
            tracing::debug!(error = %e, "a button press could not be answered");
        }
    }

    /// Handles what a person did in the staff group (or pressed on one of its buttons).
    pub async fn handle(&self, item: Incoming) -> anyhow::Result<()> {
        match item {
            Incoming::Press {
                query_id,
                chat_id,
                message_id,
                user_id,
                data,
                ..
            } => {
                let press = Press {
                    query_id: &query_id,
                    chat_id,
                    message_id,
                    user_id,
                };
                match GroupButton::parse(&data) {
                    Some(GroupButton::Claim(conversation)) => {
                        self.claim_press(&press, &conversation).await
                    }
                    Some(GroupButton::Note { id, approve }) => {
                        self.note_press(&press, id, approve).await
                    }
                    None => {
                        self.answer(&query_id, "Tombol tidak dikenal.", false).await;
                        Ok(())
                    }
                }
            }
            Incoming::Text {
                chat_id,
                message_id,
                user_id,
                text,
                reply_to,
                ..
            } => {
                self.text(chat_id, message_id, user_id, &text, reply_to)
                    .await
            }
            // Staff answer citizens in words: a photo or a document in the group is their own.
            Incoming::Media { .. } => Ok(()),
        }
    }

    /// A staff member pressed "Ambil alih".
    async fn claim_press(&self, press: &Press<'_>, conversation: &str) -> anyhow::Result<()> {
        let &Press {
            query_id,
            chat_id,
            message_id,
            user_id,
        } = press;
        let Some(actor) = staff::by_telegram(self.desk.store(), user_id as i64).await? else {
            self.answer(query_id, &unlinked(user_id), true).await;
            return Ok(());
        };
        match self.desk.claim(conversation, &actor).await {
            Ok(_) => {
                self.answer(
                    query_id,
                    "Percakapan kini Anda pegang; bot diam. Balas pesan ini untuk menjawab warga.",
                    false,
                )
                .await;
                if let Err(e) = self.client.set_buttons(chat_id, message_id, &[]).await {
                    tracing::warn!(error = %e, "could not remove the claim button");
                }
            }
            Err(e @ (DeskError::HeldBy(_) | DeskError::Closed | DeskError::NotFound)) => {
                self.answer(query_id, &e.to_string(), true).await;
            }
            Err(e) => return Err(e.into()),
        }
        Ok(())
    }

    /// A message in the staff group: a command, or a reply to one of the bot's messages (posted
    /// to X as the account).
    async fn text(
        &self,
        chat_id: i64,
        message_id: i32,
        user_id: u64,
        text: &str,
        reply_to: Option<i32>,
    ) -> anyhow::Result<()> {
        {
            {
                let command = text.split_whitespace().next().unwrap_or("");
                let command = command.split('@').next().unwrap_or(command);
                let is_command = command.starts_with('/');
                if !is_command && reply_to.is_none() {
                    return Ok(());
                }
                let ack = |html: String| {
                    TelegramPost {
                        chat: chat_id,
                        html,
                        reply_to: Some(message_id),
                        ..TelegramPost::default()
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
                            .map(|(i, c)| {
                                (
                                    format!("Ambil #{}", i + 1),
                                    GroupButton::Claim(c.id.clone()).data(),
                                )
                            })
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
                            .reply_keyed(&conversation, &actor, text, Some(&origin))
                            .await
                        {
                            Ok(0) => {}
                            Ok(n) => {
                                if let Some(lessons) = &self.lessons {
                                    lessons
                                        .suggest_from_reply(&self.desk, &actor, &conversation, text)
                                        .await;
                                }
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
                                | DeskError::Invalid(_)
                                | DeskError::TooLong(_)
                                | DeskError::PersonalData(_)),
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

    /// A staff member decided on a held agency note (`note:<id>:approve|drop`) in the group.
    async fn note_press(&self, press: &Press<'_>, id: i64, approve: bool) -> anyhow::Result<()> {
        let &Press {
            query_id,
            chat_id,
            message_id,
            user_id,
        } = press;
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
        let decision = if approve {
            crate::tickets::NoteDecision::Approve(None)
        } else {
            crate::tickets::NoteDecision::Drop
        };
        match tickets
            .decide_note(self.desk.store(), id, &actor.name, decision)
            .await
        {
            Ok(note) => {
                let done = if approve {
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

    /// The conversation a message of the bot in the staff group is about.
    async fn conversation_of(
        &self,
        chat: i64,
        message: Option<i32>,
    ) -> Result<Option<String>, DeskError> {
        let Some(message) = message else {
            return Ok(None);
        };
        let store = self.desk.store();
        Ok(crate::desk::conversation::of_telegram_message(store.pool(), chat, message).await?)
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

#[cfg(test)]
mod tests;
