//! The Telegram sender keeps Telegram's flood limits itself: a message without a slot goes
//! back to the outbox instead of waiting inside the request, so the sender stops at once on
//! shutdown, and a stop in the middle of a backlog loses and repeats nothing (through the
//! Telegram sandbox with its flood limits on).

use std::time::Duration;

use kicau::channels::telegram::TelegramClient;
use kicau::desk::Desk;
use kicau::run::sandbox_settings;
use kicau::run::telegram::Telegram;
use kicau::sandbox::TelegramSettings;
use kicau::store::{NewOutbox, Store};
use tokio::sync::watch;

use crate::helpers::{Sandbox, shipped_config, sqlite};

const TOKEN: &str = "123456:sandbox-telegram-token";
const GROUP: i64 = -1_001_000_000_777;

async fn outbox(store: &Store) -> Vec<(String, i64, i64)> {
    sqlx::query_as::<sqlx::Any, (String, i64, i64)>(
        "SELECT state, attempts, next_attempt_at FROM outbox ORDER BY id",
    )
    .fetch_all(store.pool())
    .await
    .unwrap()
}

async fn texts(sandbox: &Sandbox) -> Vec<String> {
    sandbox
        .telegram_chat(GROUP)
        .await
        .iter()
        .map(|m| m["text"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn a_backlog_is_paced_without_waiting_and_survives_a_stop() {
    let config = shipped_config();
    let server = kicau::sandbox::serve(
        sandbox_settings(&config),
        "127.0.0.1:0".parse().unwrap(),
        Some((
            TelegramSettings {
                token: TOKEN.into(),
                bot_username: "kicau_test_bot".into(),
                flood_limits: true,
                group_messages_per_minute: 20,
            },
            "127.0.0.1:0".parse().unwrap(),
        )),
        None,
    )
    .await
    .unwrap();
    let sandbox = Sandbox::at(&server.x_url());
    let (store, _dir) = sqlite().await;
    let client = TelegramClient::new(TOKEN, &server.telegram_url().unwrap()).unwrap();
    let telegram = Telegram {
        store: store.clone(),
        client: client.clone(),
        staff_group: kicau::staff_group::StaffGroup {
            desk: Desk::new(store.clone()),
            client,
            staff_chat: GROUP,
            command_centre: None,
            tickets: None,
            weekly_report: None,
            lessons: None,
        },
        tickets: None,
        newsroom: None,
        poll_timeout: Duration::from_secs(1),
        reader_lease: None,
    };
    let sent: Vec<String> = (1..=5).map(|i| format!("pesan {i}")).collect();
    for (i, text) in sent.iter().enumerate() {
        let queued = store
            .enqueue(&NewOutbox {
                channel: "telegram".into(),
                payload: serde_json::json!({"chat_id": GROUP, "text": text}).to_string(),
                priority: 0,
                idempotency_key: format!("test:pace:{i}"),
            })
            .await
            .unwrap();
        assert!(queued);
    }

    // One step per message: the first goes out, the others go back to the queue for a later
    // slot, untried; no step waited for a slot.
    let before = kicau::store::now_ms();
    for _ in 0..5 {
        assert!(telegram.send_once().await.unwrap());
    }
    assert!(!telegram.send_once().await.unwrap(), "nothing is due yet");
    let rows = outbox(&store).await;
    assert_eq!(rows[0].0, "sent");
    for (state, attempts, next) in &rows[1..] {
        assert_eq!((state.as_str(), *attempts), ("pending", 0), "{rows:?}");
        assert!(*next > before, "{rows:?}");
    }
    assert_eq!(texts(&sandbox).await, sent[..1]);

    // The loop sends the rest at Telegram's pace; a stop in the middle leaves every message
    // either sent once or waiting, none half-sent.
    let (stop, shutdown) = watch::channel(false);
    let running = tokio::spawn(telegram.clone().run(shutdown));
    let mut waited = 0;
    while texts(&sandbox).await.len() < 3 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        waited += 1;
        assert!(
            waited < 100,
            "the backlog does not move: {:?}",
            outbox(&store).await
        );
    }
    stop.send(true).unwrap();
    running.await.unwrap();
    let rows = outbox(&store).await;
    let delivered = texts(&sandbox).await;
    assert!(
        rows.iter().all(|r| r.0 == "sent" || r.0 == "pending"),
        "{rows:?}"
    );
    assert_eq!(
        rows.iter().filter(|r| r.0 == "sent").count(),
        delivered.len()
    );
    assert_eq!(delivered, sent[..delivered.len()]);

    // After a restart the rest goes out, each message once, in order.
    let (stop, shutdown) = watch::channel(false);
    let running = tokio::spawn(telegram.run(shutdown));
    let mut waited = 0;
    while texts(&sandbox).await.len() < sent.len() {
        tokio::time::sleep(Duration::from_millis(100)).await;
        waited += 1;
        assert!(
            waited < 150,
            "the backlog does not move: {:?}",
            outbox(&store).await
        );
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.send(true).unwrap();
    running.await.unwrap();
    assert_eq!(texts(&sandbox).await, sent);
    assert!(outbox(&store).await.iter().all(|r| r.0 == "sent"));
    server.stop();
}
