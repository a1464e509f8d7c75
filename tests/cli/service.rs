//! `kicau run` and `kicau sandbox` as separate processes: a citizen's tweet answered in the
//! thread; 1,000 mentions through two SIGKILLs with every reply sent exactly once; the same
//! through 429 storms, 5xx and slow responses on both endpoints.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{Deployment, Sandbox, quiet_period, repo};

const TEXTS: [&str; 8] = [
    "@PemkotMalang min syarat bikin kk baru apa aja?",
    "@PemkotMalang lampu jalan di jl tidar mati semua, tolong diperbaiki",
    "@PemkotMalang min pemkot ada beasiswa kuliah gak?",
    "@PemkotMalang jual followers murah cek bio",
    "@PemkotMalang gimana cara bayar pbb online?",
    "@PemkotMalang sampah di tps deket pasar numpuk gak diangkut",
    "@PemkotMalang halo min, makasih",
    "@PemkotMalang tolong ada kebakaran rumah di jl kawi sekarang apinya gede!!",
];

/// Posts `n` mentions from 50 citizens in the background, a few milliseconds apart.
fn post_mentions(sandbox: Sandbox, n: usize) -> tokio::task::JoinHandle<Vec<(String, String)>> {
    tokio::spawn(async move {
        let mut posted = Vec::with_capacity(n);
        for i in 0..n {
            let user = format!("warga{}", i % 50);
            // Each citizen's texts differ (X refuses duplicates), and stay in the same topic.
            let text = format!("{} (#{i})", TEXTS[i % TEXTS.len()]);
            let id = sandbox.post_as(&user, &text).await;
            posted.push((id, text));
            // Pacing, not waiting: the mentions arrive as a stream the bot reads while the test
            // kills it or injects faults, rather than as one burst.
            tokio::time::sleep(Duration::from_millis(3)).await;
        }
        posted
    })
}

/// How many mentions the bot has decided.
async fn decided(store: &kicau::store::Store) -> usize {
    use sqlx::Row as _;
    let done: i64 = sqlx::query("SELECT COUNT(*) FROM inbox WHERE state = 'done'")
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get(0);
    done as usize
}

/// Waits until the bot has decided at least `at_least` mentions.
async fn wait_for_decided(d: &Deployment, at_least: usize, within: Duration) {
    let store = kicau::store::Store::connect(&d.database_url())
        .await
        .unwrap();
    let what = format!("the bot to decide {at_least} mentions");
    d.wait_until(within, what, || async { decided(&store).await >= at_least })
        .await;
    store.close().await;
}

/// Waits until the bot has decided every posted mention and sent everything it queued for X,
/// then returns the mentions it chose to answer. Which ones those are depends on the order the
/// worker met them (a citizen waiting for a person gets no automatic reply), so they come from
/// the database; the decisions themselves are checked against the engine the bot runs.
async fn settled(d: &Deployment, posted: &[(String, String)], within: Duration) -> Vec<String> {
    use sqlx::Row as _;
    let store = kicau::store::Store::connect(&d.database_url())
        .await
        .unwrap();
    let what = format!(
        "the bot to decide all {} mentions and send every tweet it queued",
        posted.len()
    );
    d.wait_until(within, what, || async {
        let done = decided(&store).await;
        let open: i64 = sqlx::query(
            "SELECT COUNT(*) FROM outbox WHERE channel = 'x' AND state IN ('pending', 'sending')",
        )
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get(0);
        done >= posted.len() && open == 0
    })
    .await;
    let dead: i64 =
        sqlx::query("SELECT COUNT(*) FROM outbox WHERE channel = 'x' AND state = 'dead'")
            .fetch_one(store.pool())
            .await
            .unwrap()
            .get(0);
    assert_eq!(dead, 0, "replies went to the dead letters");
    let engine = kicau::Engine::from_config_path(&repo().join("bot.toml")).unwrap();
    for (id, text) in posted {
        let kind: String = sqlx::query("SELECT kind FROM decisions WHERE tweet_id = $1")
            .bind(id)
            .fetch_one(store.pool())
            .await
            .unwrap()
            .get(0);
        assert_eq!(kind, engine.triage(text).kind.to_string(), "{text}");
    }
    let rows = sqlx::query(
        "SELECT payload FROM outbox WHERE channel = 'x' \
         AND (idempotency_key LIKE 'x:reply:%:1' OR idempotency_key LIKE 'x:ticket:%:1')",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    store.close().await;
    rows.into_iter()
        .map(|r| {
            let payload: Value = serde_json::from_str(&r.get::<String, _>(0)).unwrap();
            payload["in_reply_to"].as_str().unwrap().to_owned()
        })
        .collect()
}

fn assert_exactly_once(
    counts: &HashMap<String, usize>,
    posted: &[(String, String)],
    expected: &[String],
    log: &str,
) {
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "replied more than once: {twice:?}");
    let missing: Vec<_> = expected
        .iter()
        .filter(|id| !counts.contains_key(*id))
        .collect();
    let tail: String = log.lines().rev().take(30).collect::<Vec<_>>().join("\n");
    assert!(
        missing.is_empty(),
        "{} of {} mentions got no reply: {:?}\nlog tail:\n{tail}",
        missing.len(),
        expected.len(),
        &missing[..missing.len().min(5)]
    );
    let ignored: Vec<&String> = posted
        .iter()
        .map(|(id, _)| id)
        .filter(|id| !expected.contains(id))
        .collect();
    assert!(
        ignored.iter().all(|id| !counts.contains_key(*id)),
        "an ignored mention got a reply"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizens_question_is_answered_in_the_thread_and_sigterm_exits_cleanly() {
    let mut d = Deployment::start().await;
    d.start_bot().await;
    let x = d.sandbox();
    let id = x
        .post_as("warga1", "@PemkotMalang min syarat bikin kk baru apa aja?")
        .await;
    let counts = x.wait_for_replies(1, Duration::from_secs(30)).await;
    assert_eq!(counts.get(&id), Some(&1), "{}", d.log());
    // A tweet that does not mention the account gets nothing.
    let other = x.post_as("warga1", "cuaca malang cerah hari ini").await;
    quiet_period(
        Duration::from_secs(1),
        "the bot reads mentions every 200 ms: a reply to the tweet would be out by now",
    )
    .await;
    assert!(!x.reply_counts().await.contains_key(&other));
    let status = d.stop_bot();
    assert!(status.success(), "exit status {status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_mentions_through_two_sigkills_get_exactly_one_reply_each() {
    let mut d = Deployment::start().await;
    d.start_bot().await;
    let x = d.sandbox().clone();
    let poster = post_mentions(x.clone(), 1000);
    // Killed mid-stream: after a quarter of the mentions, then after more than half.
    for threshold in [250, 600] {
        wait_for_decided(&d, threshold, Duration::from_secs(120)).await;
        d.kill_bot();
        d.start_bot().await;
    }
    let posted = poster.await.unwrap();
    let expected = settled(&d, &posted, Duration::from_secs(240)).await;
    assert!(
        expected.len() >= 50,
        "every citizen's first mention is answered"
    );
    let counts = x
        .wait_for_replies(expected.len(), Duration::from_secs(60))
        .await;
    assert_exactly_once(&counts, &posted, &expected, &d.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_on_both_endpoints_change_nothing_in_the_outcome() {
    let mut d = Deployment::start().await;
    d.start_bot().await;
    let x = d.sandbox().clone();
    let poster = post_mentions(x.clone(), 300);
    let faults = [
        json!({"method": "GET", "path": "/2/users/:id/mentions", "status": 429, "times": 4}),
        json!({"method": "POST", "path": "/2/tweets", "status": 429, "times": 4}),
        json!({"method": "GET", "path": "/2/users/:id/mentions", "status": 503, "times": 3}),
        json!({"method": "POST", "path": "/2/tweets", "status": 500, "times": 3}),
        json!({"method": "POST", "path": "/2/tweets", "delay_ms": 1500, "times": 2}),
        json!({"method": "GET", "path": "/2/users/:id/mentions", "delay_ms": 1500, "times": 2}),
    ];
    // Each fault goes in once the bot has answered five more mentions, so every fault meets a
    // bot at work (the citizens' posts may meet the ones on POST /2/tweets too, and retry).
    for (i, fault) in faults.into_iter().enumerate() {
        let added = x.control("/sandbox/x/faults", fault).await;
        assert_eq!(added.status(), 200);
        x.wait_for_replies(5 * (i + 1), Duration::from_secs(120))
            .await;
    }
    let posted = poster.await.unwrap();
    let expected = settled(&d, &posted, Duration::from_secs(240)).await;
    assert!(
        expected.len() >= 50,
        "every citizen's first mention is answered"
    );
    let counts = x
        .wait_for_replies(expected.len(), Duration::from_secs(60))
        .await;
    assert_exactly_once(&counts, &posted, &expected, &d.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_silences_automatic_replies_until_mulai() {
    let mut d = Deployment::start().await;
    d.start_bot().await;
    let x = d.sandbox();
    let stop = x.post_as("warga7", "@PemkotMalang stop").await;
    x.wait_for_replies(1, Duration::from_secs(30)).await;
    let question = x
        .post_as("warga7", "@PemkotMalang min syarat bikin kk baru apa aja?")
        .await;
    let start = x.post_as("warga7", "@PemkotMalang mulai").await;
    let counts = x.wait_for_replies(2, Duration::from_secs(30)).await;
    assert_eq!(counts.get(&stop), Some(&1), "the stop is confirmed once");
    assert_eq!(counts.get(&start), Some(&1), "mulai is confirmed once");
    assert!(
        !counts.contains_key(&question),
        "no automatic reply while stopped"
    );
    let again = x
        .post_as("warga7", "@PemkotMalang gimana cara bayar pbb online?")
        .await;
    let counts = x.wait_for_replies(3, Duration::from_secs(30)).await;
    assert_eq!(counts.get(&again), Some(&1));
}
