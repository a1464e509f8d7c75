//! `kicau run` and `kicau sandbox` as separate processes: a citizen's tweet answered in the
//! thread; 1,000 mentions through two SIGKILLs with every reply sent exactly once; the same
//! through 429 storms, 5xx and slow responses on both endpoints.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::repo;

/// A deployment in a temporary folder: the shipped bot.toml with the sandbox external at a port
/// of its own, a SQLite file, and a fast poll.
pub struct Deployment {
    dir: tempfile::TempDir,
    sandbox: Option<Child>,
    bot: Option<Child>,
    pub x_url: String,
    /// The staff console of the bot, once it runs.
    pub console_url: String,
}

impl Deployment {
    pub fn start() -> Deployment {
        Deployment::start_with(|config| config)
    }

    /// As [`Deployment::start`], with `edit` applied to the configuration first.
    pub fn start_with(edit: impl Fn(String) -> String) -> Deployment {
        let console_port = crate::takeover::free_port();
        let dir = tempfile::tempdir().unwrap();
        let root = repo();
        let shipped = std::fs::read_to_string(root.join("bot.toml")).unwrap();
        let config = shipped
            .replace(
                "dir = \"knowledge\"",
                &format!("dir = {:?}", root.join("knowledge").display().to_string()),
            )
            .replace(
                "lexicon_dir = \"knowledge/lexicon\"",
                &format!(
                    "lexicon_dir = {:?}",
                    root.join("knowledge/lexicon").display().to_string()
                ),
            )
            .replace("mode = \"embedded\"", "mode = \"external\"")
            .replace(
                "x_listen = \"127.0.0.1:8090\"",
                "x_listen = \"127.0.0.1:0\"",
            )
            .replace(
                "telegram_listen = \"127.0.0.1:8091\"",
                "telegram_listen = \"127.0.0.1:0\"",
            )
            .replace(
                "whatsapp_listen = \"127.0.0.1:8092\"",
                "whatsapp_listen = \"127.0.0.1:0\"",
            )
            .replace(
                "whatsapp_webhook_url = \"http://127.0.0.1:8080/webhooks/whatsapp\"",
                &format!(
                    "whatsapp_webhook_url = \"http://127.0.0.1:{console_port}/webhooks/whatsapp\""
                ),
            )
            .replace(
                "listen = \"127.0.0.1:8080\"",
                &format!("listen = \"127.0.0.1:{console_port}\""),
            )
            .replace("poll_interval_ms = 2000", "poll_interval_ms = 200");
        let config = edit(config);
        std::fs::write(dir.path().join("bot.toml"), &config).unwrap();
        let mut sandbox = Command::new(env!("CARGO_BIN_EXE_kicau"))
            .arg("--config")
            .arg(dir.path().join("bot.toml"))
            .arg("sandbox")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut reader = BufReader::new(sandbox.stdout.take().unwrap());
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let x_url = line.trim().rsplit(' ').next().unwrap().to_owned();
        assert!(x_url.starts_with("http://127.0.0.1:"), "{line}");
        line.clear();
        reader.read_line(&mut line).unwrap();
        let telegram_url = line.trim().rsplit(' ').next().unwrap().to_owned();
        assert!(
            line.starts_with("Telegram sandbox at http://127.0.0.1:"),
            "{line}"
        );
        line.clear();
        reader.read_line(&mut line).unwrap();
        let whatsapp_url = line.trim().rsplit(' ').next().unwrap().to_owned();
        assert!(
            line.starts_with("WhatsApp sandbox at http://127.0.0.1:"),
            "{line}"
        );
        // Keep reading, so the sandbox never writes into a closed pipe.
        std::thread::spawn(move || for _ in reader.lines() {});
        let config = config
            .replace(
                "x_url = \"http://127.0.0.1:8090\"",
                &format!("x_url = {x_url:?}"),
            )
            .replace(
                "telegram_url = \"http://127.0.0.1:8091\"",
                &format!("telegram_url = {telegram_url:?}"),
            )
            .replace(
                "whatsapp_url = \"http://127.0.0.1:8092\"",
                &format!("whatsapp_url = {whatsapp_url:?}"),
            );
        std::fs::write(dir.path().join("bot.toml"), config).unwrap();
        Deployment {
            dir,
            sandbox: Some(sandbox),
            bot: None,
            x_url,
            console_url: format!("http://127.0.0.1:{console_port}"),
        }
    }

    fn database(&self) -> PathBuf {
        self.dir.path().join("kicau.db")
    }

    pub fn database_url(&self) -> String {
        format!("sqlite://{}", self.database().display())
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("bot.toml")
    }

    pub fn start_bot(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("bot.log"))
            .unwrap();
        let bot = Command::new(env!("CARGO_BIN_EXE_kicau"))
            .arg("--config")
            .arg(self.dir.path().join("bot.toml"))
            .arg("--database-url")
            .arg(format!("sqlite://{}", self.database().display()))
            .arg("run")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.bot = Some(bot);
    }

    /// SIGKILL: no chance to finish anything.
    pub fn kill_bot(&mut self) {
        if let Some(mut bot) = self.bot.take() {
            bot.kill().unwrap();
            bot.wait().unwrap();
        }
    }

    /// SIGTERM, and the exit status.
    pub fn stop_bot(&mut self) -> std::process::ExitStatus {
        let mut bot = self.bot.take().unwrap();
        unsafe_sigterm(bot.id());
        bot.wait().unwrap()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("bot.log")).unwrap_or_default()
    }
}

impl Drop for Deployment {
    fn drop(&mut self) {
        for child in [self.bot.take(), self.sandbox.take()].into_iter().flatten() {
            let mut child = child;
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn unsafe_sigterm(pid: u32) {
    Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status()
        .unwrap();
}

pub async fn post_as(client: &reqwest::Client, base: &str, user: &str, text: &str) -> String {
    for _ in 0..50 {
        let r = client
            .post(format!("{base}/2/tweets"))
            .header("Authorization", format!("Bearer sandbox-user:{user}"))
            .json(&json!({"text": text}))
            .send()
            .await;
        if let Ok(r) = r
            && r.status() == 201
        {
            let v: Value = r.json().await.unwrap();
            return v["data"]["id"].as_str().unwrap().to_owned();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("could not post as {user}");
}

/// Every reply of the account: the tweet it answers -> how many replies.
pub async fn replies(client: &reqwest::Client, base: &str) -> HashMap<String, usize> {
    let account: Value = client
        .get(format!("{base}/2/users/by/username/PemkotMalang"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = account["data"]["id"].as_str().unwrap();
    let mut counts = HashMap::new();
    let mut token: Option<String> = None;
    loop {
        let mut url =
            format!("{base}/2/users/{id}/tweets?max_results=100&tweet.fields=referenced_tweets");
        if let Some(t) = &token {
            url.push_str(&format!("&pagination_token={t}"));
        }
        let page: Value = match client
            .get(&url)
            .header("Authorization", "Bearer sandbox-user:auditor")
            .send()
            .await
        {
            Ok(r) if r.status() == 200 => r.json().await.unwrap(),
            _ => {
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        for tweet in page["data"].as_array().into_iter().flatten() {
            if let Some(parent) = tweet["referenced_tweets"][0]["id"].as_str() {
                *counts.entry(parent.to_owned()).or_insert(0) += 1;
            }
        }
        match page["meta"]["next_token"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
    }
    counts
}

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
fn post_mentions(base: String, n: usize) -> tokio::task::JoinHandle<Vec<(String, String)>> {
    tokio::spawn(async move {
        let client = reqwest::Client::new();
        let mut posted = Vec::with_capacity(n);
        for i in 0..n {
            let user = format!("warga{}", i % 50);
            // Each citizen's texts differ (X refuses duplicates), and stay in the same topic.
            let text = format!("{} (#{i})", TEXTS[i % TEXTS.len()]);
            let id = post_as(&client, &base, &user, &text).await;
            posted.push((id, text));
            tokio::time::sleep(Duration::from_millis(3)).await;
        }
        posted
    })
}

/// Waits until the bot has decided every posted mention and sent everything it queued for X,
/// then returns the mentions it chose to answer. Which ones those are depends on the order the
/// worker met them (a citizen waiting for a person gets no automatic reply), so they come from
/// the database; the decisions themselves are checked against the engine the bot runs.
async fn settled(d: &Deployment, posted: &[(String, String)], limit: Duration) -> Vec<String> {
    use sqlx::Row as _;
    let store = kicau::store::Store::connect(&d.database_url())
        .await
        .unwrap();
    let start = Instant::now();
    loop {
        let done: i64 = sqlx::query("SELECT COUNT(*) FROM inbox WHERE state = 'done'")
            .fetch_one(store.pool())
            .await
            .unwrap()
            .get(0);
        let open: i64 = sqlx::query(
            "SELECT COUNT(*) FROM outbox WHERE channel = 'x' AND state IN ('pending', 'sending')",
        )
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get(0);
        if done as usize >= posted.len() && open == 0 {
            break;
        }
        assert!(
            start.elapsed() < limit,
            "not settled: {done} of {} mentions done, {open} tweets still queued\n{}",
            posted.len(),
            d.log()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
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

pub async fn wait_for(
    client: &reqwest::Client,
    base: &str,
    at_least: usize,
    limit: Duration,
) -> HashMap<String, usize> {
    let start = Instant::now();
    loop {
        let counts = replies(client, base).await;
        if counts.values().sum::<usize>() >= at_least || start.elapsed() > limit {
            return counts;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
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
    let mut d = Deployment::start();
    d.start_bot();
    let client = reqwest::Client::new();
    let id = post_as(
        &client,
        &d.x_url,
        "warga1",
        "@PemkotMalang min syarat bikin kk baru apa aja?",
    )
    .await;
    let counts = wait_for(&client, &d.x_url, 1, Duration::from_secs(30)).await;
    assert_eq!(counts.get(&id), Some(&1), "{}", d.log());
    // A tweet that does not mention the account gets nothing.
    let other = post_as(&client, &d.x_url, "warga1", "cuaca malang cerah hari ini").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(!replies(&client, &d.x_url).await.contains_key(&other));
    let status = d.stop_bot();
    assert!(status.success(), "exit status {status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_mentions_through_two_sigkills_get_exactly_one_reply_each() {
    let mut d = Deployment::start();
    d.start_bot();
    let client = reqwest::Client::new();
    let poster = post_mentions(d.x_url.clone(), 1000);
    for threshold in [250, 600] {
        wait_for(&client, &d.x_url, threshold, Duration::from_secs(120)).await;
        d.kill_bot();
        d.start_bot();
    }
    let posted = poster.await.unwrap();
    let expected = settled(&d, &posted, Duration::from_secs(240)).await;
    assert!(
        expected.len() >= 50,
        "every citizen's first mention is answered"
    );
    let counts = wait_for(&client, &d.x_url, expected.len(), Duration::from_secs(60)).await;
    assert_exactly_once(&counts, &posted, &expected, &d.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_on_both_endpoints_change_nothing_in_the_outcome() {
    let mut d = Deployment::start();
    d.start_bot();
    let client = reqwest::Client::new();
    let poster = post_mentions(d.x_url.clone(), 300);
    let faults = [
        json!({"method": "GET", "path": "/2/users/:id/mentions", "status": 429, "times": 4}),
        json!({"method": "POST", "path": "/2/tweets", "status": 429, "times": 4}),
        json!({"method": "GET", "path": "/2/users/:id/mentions", "status": 503, "times": 3}),
        json!({"method": "POST", "path": "/2/tweets", "status": 500, "times": 3}),
        json!({"method": "POST", "path": "/2/tweets", "delay_ms": 1500, "times": 2}),
        json!({"method": "GET", "path": "/2/users/:id/mentions", "delay_ms": 1500, "times": 2}),
    ];
    for fault in faults {
        // The bot posts as the account, so faults on POST /2/tweets are scoped to it below.
        client
            .post(format!("{}/sandbox/x/faults", d.x_url))
            .json(&fault)
            .send()
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
    let posted = poster.await.unwrap();
    let expected = settled(&d, &posted, Duration::from_secs(240)).await;
    assert!(
        expected.len() >= 50,
        "every citizen's first mention is answered"
    );
    let counts = wait_for(&client, &d.x_url, expected.len(), Duration::from_secs(60)).await;
    assert_exactly_once(&counts, &posted, &expected, &d.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_silences_automatic_replies_until_mulai() {
    let mut d = Deployment::start();
    d.start_bot();
    let client = reqwest::Client::new();
    let base = d.x_url.clone();
    let stop = post_as(&client, &base, "warga7", "@PemkotMalang stop").await;
    wait_for(&client, &base, 1, Duration::from_secs(30)).await;
    let question = post_as(
        &client,
        &base,
        "warga7",
        "@PemkotMalang min syarat bikin kk baru apa aja?",
    )
    .await;
    let start = post_as(&client, &base, "warga7", "@PemkotMalang mulai").await;
    let counts = wait_for(&client, &base, 2, Duration::from_secs(30)).await;
    assert_eq!(counts.get(&stop), Some(&1), "the stop is confirmed once");
    assert_eq!(counts.get(&start), Some(&1), "mulai is confirmed once");
    assert!(
        !counts.contains_key(&question),
        "no automatic reply while stopped"
    );
    let again = post_as(
        &client,
        &base,
        "warga7",
        "@PemkotMalang gimana cara bayar pbb online?",
    )
    .await;
    let counts = wait_for(&client, &base, 3, Duration::from_secs(30)).await;
    assert_eq!(counts.get(&again), Some(&1));
}
