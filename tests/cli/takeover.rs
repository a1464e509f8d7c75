//! Staff take over, end to end with the real processes: `kicau sandbox`, `kicau run` with its
//! console, and `kicau staff` run while the bot holds the database. A citizen's out-of-scope
//! question is handed off, claimed through the API, answered by a person in the thread; the bot
//! stays silent in that conversation until it is released.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::service::{Deployment, post_as, replies};

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A deployment (its console on a port of its own) and the console's URL.
pub fn deployment_with_console() -> (Deployment, String) {
    let deployment = Deployment::start();
    let console = deployment.console_url.clone();
    (deployment, console)
}

/// `kicau staff ARGS` on the deployment's database; its standard output.
pub fn staff(deployment: &Deployment, args: &[&str]) -> String {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_kicau"))
        .arg("--config")
        .arg(deployment.config_path())
        .arg("--database-url")
        .arg(deployment.database_url())
        .arg("staff")
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "kicau staff {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The account's replies to `tweet`, oldest first, as texts.
pub async fn replies_to(client: &reqwest::Client, base: &str, tweet: &str) -> Vec<String> {
    let account: Value = client
        .get(format!("{base}/2/users/by/username/PemkotMalang"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = account["data"]["id"].as_str().unwrap();
    let page: Value = client
        .get(format!(
            "{base}/2/users/{id}/tweets?max_results=100&tweet.fields=referenced_tweets"
        ))
        .header("Authorization", "Bearer sandbox-user:auditor")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut texts: Vec<String> = page["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| t["referenced_tweets"][0]["id"].as_str() == Some(tweet))
        .map(|t| t["text"].as_str().unwrap().to_owned())
        .collect();
    texts.reverse();
    texts
}

pub async fn wait_until<F, Fut>(limit: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while start.elapsed() < limit {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_take_over_reply_in_the_thread_and_the_bot_stays_silent_until_released() {
    let (mut d, console) = deployment_with_console();
    d.start_bot();
    let client = reqwest::Client::new();
    let x = d.x_url.clone();

    // Accounts are made while the bot runs on the same database.
    let added = staff(&d, &["add", "sari", "--role", "staff"]);
    assert!(added.contains("sari"), "{added}");
    let token = staff(&d, &["token", "sari"]);
    let token = token.trim();
    assert_eq!(token.lines().count(), 1);
    let other = staff(&d, &["token", "sari"]);
    assert_ne!(other.trim(), token, "each token is new");

    let question = post_as(
        &client,
        &x,
        "warga7",
        "@PemkotMalang min kapan jadwal konser band luar negeri di stadion gajayana tahun depan?",
    )
    .await;
    assert!(
        wait_until(Duration::from_secs(30), || async {
            replies_to(&client, &x, &question).await.len() == 1
        })
        .await,
        "no hand-off line: {}",
        d.log()
    );

    // The console's API lists it as waiting.
    let api = |path: &str| format!("{console}{path}");
    let mut conversation = String::new();
    assert!(
        wait_until(Duration::from_secs(10), || {
            let client = client.clone();
            let url = api("/api/conversations?state=waiting_staff");
            let token = token.to_owned();
            async move {
                let Ok(r) = client.get(url).bearer_auth(token).send().await else {
                    return false;
                };
                let body: Value = r.json().await.unwrap_or(Value::Null);
                body["data"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|c| c["citizen"] == "warga7"))
            }
        })
        .await
    );
    let listed: Value = client
        .get(api("/api/conversations?state=waiting_staff"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for c in listed["data"].as_array().unwrap() {
        if c["citizen"] == "warga7" {
            conversation = c["id"].as_str().unwrap().to_owned();
        }
    }
    let claimed = client
        .post(api(&format!("/api/conversations/{conversation}/claim")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(claimed.status(), 200);
    let reply = client
        .post(api(&format!("/api/conversations/{conversation}/reply")))
        .bearer_auth(token)
        .json(&json!({"text": "Halo kak, jadwal konser di stadion belum kami terima. Kami kabari lewat akun ini ya."}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 202);
    assert!(
        wait_until(Duration::from_secs(30), || async {
            replies_to(&client, &x, &question).await.len() == 2
        })
        .await,
        "the staff reply did not reach the thread: {}",
        d.log()
    );
    let thread = replies_to(&client, &x, &question).await;
    assert!(
        thread[1].starts_with("@warga7 Halo kak, jadwal konser"),
        "{thread:?}"
    );

    // The citizen asks something the bot could answer: it joins the held conversation, and the
    // bot says nothing.
    let follow_up = post_as(
        &client,
        &x,
        "warga7",
        "@PemkotMalang oke min, terus syarat bikin kk baru apa aja?",
    )
    .await;
    assert!(
        wait_until(Duration::from_secs(20), || {
            let client = client.clone();
            let url = api(&format!("/api/conversations/{conversation}"));
            let token = token.to_owned();
            let follow_up = follow_up.clone();
            async move {
                let Ok(r) = client.get(url).bearer_auth(token).send().await else {
                    return false;
                };
                let body: Value = r.json().await.unwrap_or(Value::Null);
                body["data"]["messages"]
                    .as_array()
                    .is_some_and(|m| m.iter().any(|m| m["tweet_id"] == follow_up.as_str()))
            }
        })
        .await,
        "the follow-up did not join the conversation"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        replies_to(&client, &x, &follow_up).await.is_empty(),
        "the bot replied while a person held the conversation"
    );

    // Released, the bot answers again.
    let released = client
        .post(api(&format!("/api/conversations/{conversation}/release")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(released.status(), 200);
    let again = post_as(
        &client,
        &x,
        "warga7",
        "@PemkotMalang min syarat bikin kk baru apa aja ya?",
    )
    .await;
    assert!(
        wait_until(Duration::from_secs(30), || async {
            replies_to(&client, &x, &again).await.len() == 1
        })
        .await,
        "the bot did not answer after release: {}",
        d.log()
    );
    // Nothing was posted twice anywhere.
    let counts = replies(&client, &x).await;
    assert!(counts.values().all(|n| *n <= 2), "{counts:?}");
    assert!(d.stop_bot().success());
}
