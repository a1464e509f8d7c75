//! The console for real, in headless Chromium driven through chromedriver (Debian's `chromium`
//! and `chromium-driver`, which .ci/run installs): log in with the one-time password, change it,
//! see a hand-off arrive in the queue without reloading, open it (the citizen's `<script>` shows
//! as text), claim, reply with the live counter, and find the reply in the sandbox thread.
//! Without chromedriver the test is skipped with a warning on a developer's machine and fails
//! under `CI=true`.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::service::post_as;
use crate::takeover::{deployment_with_console, free_port, replies_to, staff, wait_until};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

struct Driver {
    process: Child,
    _profile: tempfile::TempDir,
    client: Client,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

async fn driver() -> Option<Driver> {
    if !std::path::Path::new(CHROMEDRIVER).exists() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{CHROMEDRIVER} is missing, and CI must run the browser tests");
        }
        eprintln!("warning: {CHROMEDRIVER} is missing: browser test skipped");
        return None;
    }
    let port = free_port();
    let process = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let profile = tempfile::tempdir().unwrap();
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                format!("--user-data-dir={}", profile.path().display()),
            ],
        }),
    );
    let url = format!("http://127.0.0.1:{port}");
    let mut last = None;
    for _ in 0..50 {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(capabilities.clone())
            .connect(&url)
            .await
        {
            Ok(client) => {
                return Some(Driver {
                    process,
                    _profile: profile,
                    client,
                });
            }
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("chromedriver did not start: {last:?}");
}

/// Waits for the browser to arrive at a path that `check` accepts (a form's navigation is not
/// always over when the click returns).
async fn arrive(client: &Client, check: impl Fn(&str) -> bool) {
    let mut path = String::new();
    for _ in 0..100 {
        path = client.current_url().await.unwrap().path().to_owned();
        if check(&path) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the browser stayed at {path}");
}

async fn text_of(client: &Client, css: &str) -> String {
    match client.find(Locator::Css(css)).await {
        Ok(element) => element.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_logs_in_claims_and_replies_in_headless_chromium() {
    let Some(browser) = driver().await else {
        return;
    };
    let (mut d, console) = deployment_with_console();
    d.start_bot();
    let x = d.x_url.clone();
    let http = reqwest::Client::new();
    let added = staff(&d, &["add", "sari"]);
    let password = added.lines().nth(1).unwrap().trim().to_owned();

    // The console answers once the bot has started.
    assert!(
        wait_until(Duration::from_secs(60), || async {
            http.get(format!("{console}/login")).send().await.is_ok()
        })
        .await,
        "the console did not start: {}",
        d.log()
    );
    let c = &browser.client;
    c.goto(&format!("{console}/")).await.unwrap();
    arrive(c, |p| p.ends_with("/login")).await;
    c.find(Locator::Id("name"))
        .await
        .unwrap()
        .send_keys("sari")
        .await
        .unwrap();
    c.find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(&password)
        .await
        .unwrap();
    c.find(Locator::Css("form.login button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    arrive(c, |p| p.ends_with("/password")).await;
    c.find(Locator::Id("current"))
        .await
        .unwrap()
        .send_keys(&password)
        .await
        .unwrap();
    c.find(Locator::Id("new"))
        .await
        .unwrap()
        .send_keys("kata-sandi-baru-sari")
        .await
        .unwrap();
    c.find(Locator::Css("form.login button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    arrive(c, |p| p == "/").await;
    assert!(text_of(c, ".flash").await.contains("Kata sandi tersimpan"));
    assert!(text_of(c, "main").await.contains("Tidak ada percakapan"));

    // A hand-off arrives while the queue is open: it appears without a reload.
    let question = post_as(
        &http,
        &x,
        "warga8",
        "@PemkotMalang <script>alert('x')</script> min kapan konser band luar negeri di stadion gajayana?",
    )
    .await;
    assert!(
        wait_until(Duration::from_secs(30), || async {
            text_of(c, "table.queue").await.contains("@warga8")
        })
        .await,
        "the queue did not update live: {}",
        d.log()
    );
    let queue = text_of(c, "table.queue").await;
    assert!(queue.contains("<script>alert('x')</script>"), "{queue}");
    c.find(Locator::Css("table.queue a"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    arrive(c, |p| p.starts_with("/conversations/")).await;
    assert!(
        text_of(c, ".thread")
            .await
            .contains("<script>alert('x')</script>")
    );
    c.find(Locator::Css("button[value=claim]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert!(
        wait_until(Duration::from_secs(5), || async {
            text_of(c, ".flash").await.contains("Anda pegang")
        })
        .await,
        "{:?}: {}",
        c.current_url().await,
        text_of(c, "main").await
    );
    // A knowledge-base answer can start the reply.
    c.find(Locator::Id("kbq"))
        .await
        .unwrap()
        .send_keys("syarat kk baru")
        .await
        .unwrap();
    assert!(
        wait_until(Duration::from_secs(10), || async {
            c.find(Locator::Css("#kbresults button")).await.is_ok()
        })
        .await,
        "no knowledge-base suggestions"
    );
    c.find(Locator::Css("#kbresults button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let area = c.find(Locator::Id("text")).await.unwrap();
    let inserted = area.prop("value").await.unwrap().unwrap_or_default();
    assert!(inserted.contains("F1.02"), "{inserted}");
    area.clear().await.unwrap();
    area.send_keys("Halo kak, jadwal konser belum kami terima. Pantau akun ini ya.")
        .await
        .unwrap();
    let count: usize = text_of(c, "#count").await.parse().unwrap();
    assert_eq!(
        count,
        "@warga8 Halo kak, jadwal konser belum kami terima. Pantau akun ini ya."
            .chars()
            .count()
    );
    c.find(Locator::Css("button[value=reply]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert!(
        wait_until(Duration::from_secs(5), || async {
            text_of(c, ".flash")
                .await
                .contains("Balasan diantrekan (1 twit)")
        })
        .await,
        "{}",
        text_of(c, "main").await
    );

    assert!(
        wait_until(Duration::from_secs(30), || async {
            replies_to(&http, &x, &question).await.iter().any(|t| {
                t == "@warga8 Halo kak, jadwal konser belum kami terima. Pantau akun ini ya."
            })
        })
        .await,
        "the reply is not in the sandbox thread: {}",
        d.log()
    );
    // The hand-off line and the person's reply; the bot said nothing else there.
    assert_eq!(replies_to(&http, &x, &question).await.len(), 2);
    browser.client.clone().close().await.unwrap();
    assert!(d.stop_bot().success());
}
