//! Several instances on one database: the jobs only one may run (reading mentions, reading
//! Telegram updates) are leased. The lease on both backends; then two `kicau run` processes on
//! one database, the reader killed, the other taking over, every mention answered exactly once.

use std::process::{Command, Stdio};
use std::time::Duration;

use kicau::store::lease::Lease;

use crate::service::{Deployment, post_as};
use crate::takeover::{replies_to, wait_until};

#[tokio::test]
async fn one_instance_holds_a_lease_until_it_lapses_or_is_released() {
    let backends = crate::store::Backends::new().await;
    for (name, store) in &backends.stores {
        let ttl = Duration::from_millis(400);
        let a = Lease::new(store.clone(), "x.mentions", "a", ttl);
        let b = Lease::new(store.clone(), "x.mentions", "b", ttl);
        let other = Lease::new(store.clone(), "telegram.updates", "b", ttl);
        assert!(a.hold().await.unwrap(), "{name}");
        assert!(!b.hold().await.unwrap(), "{name}");
        // Another job's lease is its own.
        assert!(other.hold().await.unwrap(), "{name}");
        // Renewed in time, it stays.
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert!(a.hold().await.unwrap());
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert!(!b.hold().await.unwrap(), "{name}");
        // Not renewed, it lapses and the other takes it.
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(b.hold().await.unwrap(), "{name}");
        assert!(!a.hold().await.unwrap(), "{name}");
        // Released, it is free at once.
        b.release().await.unwrap();
        assert!(a.hold().await.unwrap(), "{name}");
    }
    backends.finish().await;
}

/// The lease's holder now, if any holds it.
async fn holder(database_url: &str, lease: &str) -> Option<String> {
    let store = kicau::store::Store::connect(database_url).await.unwrap();
    let row: Option<(String, i64)> = sqlx::query_as::<sqlx::Any, (String, i64)>(
        "SELECT holder, until FROM leases WHERE name = $1",
    )
    .bind(lease)
    .fetch_optional(store.pool())
    .await
    .unwrap();
    store.close().await;
    row.filter(|(_, until)| *until > kicau::store::now_ms())
        .map(|(h, _)| h)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_take_turns_reading_and_every_mention_is_answered_once() {
    let mut d = Deployment::start();
    // A second instance on the same database and sandbox, without a console of its own.
    let second_config = d.config_path().with_file_name("second.toml");
    let config = std::fs::read_to_string(d.config_path()).unwrap();
    let console_line = config
        .lines()
        .find(|l| l.starts_with("listen = \"127.0.0.1:"))
        .unwrap()
        .to_owned();
    std::fs::write(
        &second_config,
        config.replace(&console_line, "listen = \"\""),
    )
    .unwrap();
    d.start_bot();
    let first_holder = {
        let url = d.database_url();
        let mut found = None;
        for _ in 0..100 {
            found = holder(&url, "x.mentions").await;
            if found.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        found.expect("the first instance reads mentions")
    };
    let log = std::fs::File::create(d.config_path().with_file_name("second.log")).unwrap();
    let mut second = Command::new(env!("CARGO_BIN_EXE_kicau"))
        .arg("--config")
        .arg(&second_config)
        .arg("--database-url")
        .arg(d.database_url())
        .arg("run")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();

    let client = reqwest::Client::new();
    let x = d.x_url.clone();
    let mut asked = Vec::new();
    for i in 0..10 {
        asked.push(
            post_as(
                &client,
                &x,
                &format!("warga{}", 60 + i),
                "@PemkotMalang min syarat bikin kk baru apa aja?",
            )
            .await,
        );
    }
    let answered_once = |tweets: Vec<String>| {
        let (client, x) = (client.clone(), x.clone());
        async move {
            for tweet in &tweets {
                if replies_to(&client, &x, tweet).await.len() != 1 {
                    return false;
                }
            }
            true
        }
    };
    assert!(
        wait_until(Duration::from_secs(60), || answered_once(asked.clone())).await,
        "{}",
        d.log()
    );
    // The second instance stood by.
    assert_eq!(
        holder(&d.database_url(), "x.mentions").await.as_deref(),
        Some(first_holder.as_str())
    );

    // The reader dies without a word; the second instance takes over once its lease lapses.
    d.kill_bot();
    let mut later = Vec::new();
    for i in 0..10 {
        later.push(
            post_as(
                &client,
                &x,
                &format!("warga{}", 80 + i),
                "@PemkotMalang min syarat bikin kk baru apa aja?",
            )
            .await,
        );
    }
    let ok = wait_until(Duration::from_secs(90), || answered_once(later.clone())).await;
    let second_log =
        std::fs::read_to_string(d.config_path().with_file_name("second.log")).unwrap_or_default();
    assert!(ok, "the second instance did not take over:\n{second_log}");
    let now_holder = holder(&d.database_url(), "x.mentions").await;
    assert!(
        now_holder.is_some() && now_holder.as_deref() != Some(first_holder.as_str()),
        "{now_holder:?}"
    );
    // Nothing twice, before or after.
    assert!(answered_once(asked.clone()).await);
    let _ = second.kill();
    let _ = second.wait();
}
