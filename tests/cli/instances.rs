//! Several instances on one database: the jobs only one may run (reading mentions, reading
//! Telegram updates) are leased. The lease on both backends; then two `kicau run` processes on
//! one database, the reader killed, the other taking over, every mention answered exactly once.

use std::time::Duration;

use kicau::store::lease::Lease;

use crate::helpers::{Backends, Deployment, quiet_period, wait_until};

#[tokio::test]
async fn one_instance_holds_a_lease_until_it_lapses_or_is_released() {
    let backends = Backends::new().await;
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
        quiet_period(
            Duration::from_millis(250),
            "most of the 400 ms lease passes before a renews it",
        )
        .await;
        assert!(a.hold().await.unwrap());
        quiet_period(
            Duration::from_millis(250),
            "past the first term's end: only the renewal keeps b out",
        )
        .await;
        assert!(!b.hold().await.unwrap(), "{name}");
        // Not renewed, it lapses and the other takes it.
        wait_until(
            Duration::from_secs(5),
            format!("{name}: a's lease to lapse and b to take it"),
            || async { b.hold().await.unwrap() },
        )
        .await;
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
    let mut d = Deployment::start().await;
    d.start_bot().await;
    let database = d.database_url();
    let first_holder = d
        .wait_for(
            Duration::from_secs(10),
            "the first instance to hold the mentions lease",
            || holder(&database, "x.mentions"),
        )
        .await;
    // A second instance on the same database and sandbox, without a console of its own.
    let second = d
        .start_instance("second", |c| {
            c.set("console.listen", "");
        })
        .await;

    let x = d.sandbox().clone();
    let mut asked = Vec::new();
    for i in 0..10 {
        asked.push(
            x.post_as(
                &format!("warga{}", 60 + i),
                "@PemkotMalang min syarat bikin kk baru apa aja?",
            )
            .await,
        );
    }
    let answered_once = |tweets: Vec<String>| {
        let x = x.clone();
        async move {
            for tweet in &tweets {
                if x.replies_to(tweet).await.len() != 1 {
                    return false;
                }
            }
            true
        }
    };
    d.wait_until(
        Duration::from_secs(60),
        "one reply to each of the first ten mentions",
        || answered_once(asked.clone()),
    )
    .await;
    // The second instance stood by.
    assert_eq!(
        holder(&database, "x.mentions").await.as_deref(),
        Some(first_holder.as_str())
    );

    // The reader dies without a word; the second instance takes over once its lease lapses.
    d.kill_bot();
    let mut later = Vec::new();
    for i in 0..10 {
        later.push(
            x.post_as(
                &format!("warga{}", 80 + i),
                "@PemkotMalang min syarat bikin kk baru apa aja?",
            )
            .await,
        );
    }
    second
        .wait_until(
            Duration::from_secs(90),
            "the second instance to take over and answer the next ten mentions",
            || answered_once(later.clone()),
        )
        .await;
    let now_holder = holder(&database, "x.mentions").await;
    assert!(
        now_holder.is_some() && now_holder.as_deref() != Some(first_holder.as_str()),
        "{now_holder:?}"
    );
    // Nothing twice, before or after.
    assert!(answered_once(asked.clone()).await);
    drop(second);
}
