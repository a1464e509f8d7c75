//! No mention is lost in silence: a burst larger than X's 800-mention window, read through the
//! X sandbox, ends with every mention either stored or inside a recorded gap, and the gap is
//! shown in the console, the staff group and /metrics. A long read with nothing lost records
//! nothing.

use std::time::Duration;

use kicau::desk::Desk;
use kicau::run::{Service, sandbox_credentials, sandbox_settings};

use crate::helpers::{Console, Sandbox, engine, shipped_config, sqlite};

/// Posts `n` mentions of the account from 100 citizens; their ids, oldest first.
async fn burst(sandbox: &Sandbox, from: usize, n: usize) -> Vec<String> {
    let mut ids = Vec::with_capacity(n);
    for i in from..from + n {
        let text = format!("@PemkotMalang lampu jalan mati di gang {i}");
        ids.push(sandbox.post_as(&format!("warga{}", i % 100), &text).await);
    }
    ids
}

/// X ids compare as numbers.
fn between(id: &str, after: &str, before: &str) -> bool {
    let n = |s: &str| s.parse::<u128>().unwrap();
    n(after) < n(id) && n(id) < n(before)
}

#[tokio::test]
async fn a_burst_past_the_window_ends_stored_or_inside_a_recorded_gap() {
    let config = shipped_config();
    let server = kicau::sandbox::serve_x(sandbox_settings(&config), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let sandbox = Sandbox::at(&server.x_url());
    let (store, _dir) = sqlite().await;
    let client = kicau::channels::x::XClient::new(
        &server.x_url(),
        kicau::channels::x::Auth::OAuth1(sandbox_credentials(&config.sandbox)),
    );
    let (me, _) = client.me().await.unwrap();
    let desk = Desk::new(store.clone());
    let service = Service {
        engine: std::sync::Arc::new(kicau::triage::live::Live::new(engine())),
        store: store.clone(),
        x: client,
        account_id: me.id,
        account: me.username,
        poll_interval: Duration::from_millis(200),
        desk: desk.clone(),
        tickets: None,
        mention_lease: None,
        budget: kicau::costs::Budget::new(store.clone(), Default::default()),
    };
    let group = kicau::staff_group::StaffGroup {
        desk: desk.clone(),
        // Never called: notices only become outbox rows here.
        client: kicau::channels::telegram::TelegramClient::new("1:x", "http://127.0.0.1:9")
            .unwrap(),
        staff_chat: -1001000000001,
        command_centre: None,
        tickets: None,
        weekly_report: None,
        lessons: None,
    };
    group.notify_once().await.unwrap(); // the group's notices start from now
    let gaps = || async {
        sqlx::query_as::<sqlx::Any, (String, String)>(
            "SELECT reference, payload FROM dead_letters WHERE source = 'x.mentions'",
        )
        .fetch_all(store.pool())
        .await
        .unwrap()
    };
    let stored = || async {
        sqlx::query_scalar::<sqlx::Any, String>("SELECT tweet_id FROM inbox")
            .fetch_all(store.pool())
            .await
            .unwrap()
    };

    // The cursor, then 300 mentions: three pages, the window still reaches the cursor.
    let first = burst(&sandbox, 0, 1).await;
    service.poll_once().await.unwrap();
    let within = burst(&sandbox, 1, 300).await;
    assert_eq!(service.poll_once().await.unwrap(), 300);
    assert!(
        gaps().await.is_empty(),
        "nothing was lost, nothing recorded"
    );

    // 1,000 more: 200 of them fall out of the window before the listener reads.
    let past = burst(&sandbox, 301, 1_000).await;
    assert_eq!(service.poll_once().await.unwrap(), 800);
    let recorded = gaps().await;
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    let gap: serde_json::Value = serde_json::from_str(&recorded[0].1).unwrap();
    let (after, before) = (
        gap["after_id"].as_str().unwrap(),
        gap["before_id"].as_str().unwrap(),
    );
    assert_eq!(after, within.last().unwrap(), "from the cursor");
    assert_eq!(before, &past[200], "to the oldest mention read");
    let stored = stored().await;
    let mut lost = 0;
    for id in first.iter().chain(&within).chain(&past) {
        if !stored.contains(id) {
            assert!(between(id, after, before), "{id} lost outside the gap");
            lost += 1;
        }
    }
    assert_eq!(lost, 200);

    // The staff group hears of it, once.
    assert!(group.notify_once().await.unwrap());
    let notices: Vec<String> = sqlx::query_scalar::<sqlx::Any, String>(
        "SELECT payload FROM outbox WHERE channel = 'telegram'",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    let about_gap: Vec<&String> = notices
        .iter()
        .filter(|p| p.contains("tidak terbaca"))
        .collect();
    assert_eq!(about_gap.len(), 1, "{notices:?}");
    assert!(about_gap[0].contains(after) && about_gap[0].contains(before));

    // The console's queue warns and the dead-letter page has the range; /metrics counts it.
    let (mut console, session) = Console::signed_in(&store, None).await;
    let queue = console.get("/").await;
    assert!(
        queue.body.contains("tidak sempat terbaca"),
        "{}",
        queue.body
    );
    let letters = console.get("/dead-letters").await;
    assert!(letters.body.contains(&format!("gap {after}..{before}")));
    let metrics = console
        .request(
            axum::http::Request::get("/metrics")
                .header("authorization", format!("Bearer {}", session.token))
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert!(
        metrics.body.contains("kicau_mention_gaps_total 1"),
        "{}",
        metrics.body
    );
    server.stop();
}
