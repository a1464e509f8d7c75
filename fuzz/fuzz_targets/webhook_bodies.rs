//! Incoming webhook bodies and Telegram updates, from raw bytes to the bot's handlers.
//!
//! WhatsApp: the bytes go through what `POST /webhooks/whatsapp` does after the signature
//! check (`serde_json::Value`, then `kicau::tickets::whatsapp::handle_webhook`), and through the
//! client's reader of people's messages (`kicau::channels::whatsapp::inbound_messages`); the
//! signature check itself sees the bytes too. Telegram: the bytes are read as teloxide reads
//! `getUpdates` (`Vec<Update>` for an array, else one `Update`), turned into
//! `kicau::channels::telegram::Incoming` as `TelegramClient::updates` does (copied below: that
//! loop is private), and handed to what `kicau run` hands them to: `Tickets::agency_press`,
//! `Tickets::agency_reply`, and the staff group's button parser. The staff group's own handler
//! needs a live Telegram client and is left out.
//!
//! The handlers run against a SQLite store in the temporary folder, made from the shipped
//! `bot.toml` with two open tickets (MLG-2026-000001 for DPUPRPKP on Telegram, its first message
//! 9001 in chat -1002000000001; MLG-2026-000002 for Tugu Tirta on WhatsApp 6281200000005, its
//! message sent as wamid.HBgL). Every table is restored after an input that reached a handler,
//! so an input does the same thing every time.
//!
//! Checks: no panic; no handler error (an error makes WhatsApp deliver the body again and sends
//! a Telegram update to the dead letters); the next `getUpdates` offset is past every update
//! read, or the batch is refused because an id is beyond the 32-bit offset.

#![no_main]

use std::path::Path;
use std::sync::{Arc, LazyLock};

use kicau::channels::telegram::Incoming;
use kicau::staff_group::GroupButton;
use kicau::store::Store;
use kicau::tickets::{NewTicket, StateButton, Tickets, number_in};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use teloxide::types::Update;

const APP_SECRET: &str = "sandbox-app-secret";
const NOW: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

struct World {
    runtime: tokio::runtime::Runtime,
    store: Store,
    tickets: Tickets,
    staff_chat: i64,
    restore: String,
}

static WORLD: LazyLock<World> = LazyLock::new(|| {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let config = kicau::Config::load(&repo.join("bot.toml")).expect("bot.toml loads");
    let staff_chat = config.telegram.staff_chat_id.unwrap_or(0);
    let tickets = Tickets::load(Arc::new(config)).expect("tickets load");
    let dir = std::env::temp_dir().join(format!("kicau-fuzz-webhook-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let url = format!("sqlite://{}", dir.join("fuzz.db").display());
    let (store, restore) = runtime.block_on(async {
        let store = Store::connect(&url).await.expect("the store opens");
        for (agency, tweet) in [("dpuprpkp", "1001"), ("tugu-tirta", "1002")] {
            let mut tx = store.begin().await.expect("begin");
            let new = NewTicket {
                agency: agency.into(),
                category: "lainnya".into(),
                text: "jalan berlubang di jl tidar".into(),
                location: Some("Jl. Tidar".into()),
                photos: vec![],
                reporter: "warga1".into(),
                reporter_id: "42".into(),
                tweet_id: tweet.into(),
                conversation_id: None,
            };
            tickets.file(&mut tx, &new, NOW).await.expect("a ticket");
            tx.commit().await.expect("commit");
        }
        kicau::tickets::telegram::record_delivery(&store, "MLG-2026-000001", -1002000000001, 9001)
            .await
            .expect("delivery");
        // MLG-2026-000002's WhatsApp message went out as wamid.HBgL (a 131047 failure resends it).
        sqlx::query(
            "INSERT INTO whatsapp_messages (wamid, ticket, outbox_key, created_at) \
             SELECT 'wamid.HBgL', 'MLG-2026-000002', idempotency_key, $1 FROM outbox \
             WHERE channel = 'whatsapp'",
        )
        .bind(NOW)
        .execute(store.pool())
        .await
        .expect("a sent WhatsApp message");
        (store.clone(), snapshot(&store).await)
    });
    World {
        runtime,
        store,
        tickets,
        staff_chat,
        restore,
    }
});

/// Copies every table once; returns the script that puts them back.
async fn snapshot(store: &Store) -> String {
    use sqlx::Row as _;
    let tables: Vec<String> = sqlx::query(
        "SELECT name FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite%' AND substr(name, 1, 6) <> '_sqlx_'",
    )
    .fetch_all(store.pool())
    .await
    .expect("tables")
    .iter()
    .map(|r| r.get(0))
    .chain(["sqlite_sequence".to_owned()])
    .collect();
    let mut restore = String::from("BEGIN; PRAGMA defer_foreign_keys = ON;\n");
    for t in &tables {
        sqlx::raw_sql(&format!(
            "CREATE TABLE \"fuzz_snapshot_{t}\" AS SELECT * FROM \"{t}\""
        ))
        .execute(store.pool())
        .await
        .expect("snapshot");
        restore.push_str(&format!(
            "DELETE FROM \"{t}\"; INSERT INTO \"{t}\" SELECT * FROM \"fuzz_snapshot_{t}\";\n"
        ));
    }
    restore.push_str("COMMIT;");
    restore
}

fuzz_target!(|data: &[u8]| {
    let world = &*WORLD;
    let header = String::from_utf8_lossy(&data[..data.len().min(72)]);
    let _ = kicau::channels::whatsapp::signature_ok(APP_SECRET, data, Some(&header));
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let updates: Vec<Update> = if value.is_array() {
        serde_json::from_slice(data).unwrap_or_default()
    } else {
        serde_json::from_slice(data).into_iter().collect()
    };
    let ids: Vec<u32> = updates.iter().map(|u| u.id.0).collect();
    // The next offset confirms every update read, or the same ones come back for ever; an id
    // the 32-bit offset cannot pass refuses the batch (W1 in FINDINGS.md).
    let incoming = match kicau::channels::telegram::incoming_of(0, updates) {
        Ok((next, incoming)) => {
            if let Some(&id) = ids.iter().find(|&&id| i64::from(next) <= i64::from(id)) {
                panic!("update {id} read, next offset {next}: it would be read again");
            }
            incoming
        }
        Err(_) => {
            assert!(
                ids.iter().any(|&id| id >= i32::MAX as u32),
                "a batch refused with every id in range: {ids:?}"
            );
            return;
        }
    };
    let touched = reaches_whatsapp(&value) || !incoming.is_empty();
    if !touched {
        return;
    }
    world.runtime.block_on(async {
        let (store, tickets) = (&world.store, &world.tickets);
        let _ = kicau::channels::whatsapp::inbound_messages(&value);
        let handled = kicau::tickets::whatsapp::handle_webhook(tickets, store, &value).await;
        if let Err(e) = handled {
            panic!("the WhatsApp webhook failed (WhatsApp would deliver it again): {e}");
        }
        for item in &incoming {
            match item {
                Incoming::Press {
                    chat_id,
                    username,
                    data,
                    ..
                } => {
                    let _ = GroupButton::parse(data);
                    if StateButton::is_ticket(data)
                        && let Err(e) = tickets.agency_press(store, *chat_id, username, data).await
                    {
                        panic!("a press failed (it would go to the dead letters): {e}");
                    }
                }
                Incoming::Text { chat_id, text, .. } => {
                    let _ = number_in(text);
                    if *chat_id != world.staff_chat
                        && let Err(e) = tickets.agency_reply(store, item).await
                    {
                        panic!("a message failed (it would go to the dead letters): {e}");
                    }
                }
                // `kicau run` skips photos and documents (the announcements will read them).
                Incoming::Media { attachment, .. } => {
                    let _ = attachment.file_id();
                }
            }
        }
        sqlx::raw_sql(&world.restore)
            .execute(store.pool())
            .await
            .expect("restore the store");
    });
});

/// Whether `handle_webhook` would look at anything in `value`.
fn reaches_whatsapp(value: &Value) -> bool {
    value["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|entry| {
            entry["changes"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|change| {
                    let v = &change["value"];
                    v["messages"].as_array().is_some_and(|a| !a.is_empty())
                        || v["statuses"].as_array().is_some_and(|a| !a.is_empty())
                })
        })
}
