//! The console for real, in headless Chromium driven through chromedriver (Debian's `chromium`
//! and `chromium-driver`, which .ci/run installs): log in with the one-time password, change it,
//! see a hand-off arrive in the queue without reloading, open it (the citizen's `<script>` shows
//! as text), claim, reply with the live counter, and find the reply in the sandbox thread.
//! Without chromedriver the test is skipped with a warning on a developer's machine and fails
//! under `CI=true`.

use std::process::Command;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::helpers::{Deployment, Process, wait_for, wait_until};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

pub(crate) struct Driver {
    // Dropped in this order: the client, chromedriver (killed), the profile.
    pub(crate) client: Client,
    _process: Process,
    _profile: tempfile::TempDir,
}

/// The size the browser renders at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Viewport {
    /// A laptop's window: 1366x900.
    Desktop,
    /// A phone, by chromedriver's mobileEmulation: 390x844 CSS pixels (a plain headless window
    /// does not go below about 500 px).
    Phone,
}

async fn driver() -> Option<Driver> {
    sized_driver(Viewport::Desktop).await
}

/// A headless Chromium at `viewport`, its browser log kept for [`browser_errors`]; None (with a
/// warning) without chromedriver outside CI.
pub(crate) async fn sized_driver(viewport: Viewport) -> Option<Driver> {
    if !std::path::Path::new(CHROMEDRIVER).exists() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{CHROMEDRIVER} is missing, and CI must run the browser tests");
        }
        eprintln!("warning: {CHROMEDRIVER} is missing: browser test skipped");
        return None;
    }
    let profile = tempfile::tempdir().unwrap();
    // Port 0: chromedriver binds a free port and says which.
    let mut command = Command::new(CHROMEDRIVER);
    command.arg("--port=0");
    let mut process = Process::spawn(command, &profile.path().join("chromedriver.log"));
    let started = process
        .line_starting_with(
            "ChromeDriver was started successfully on port ",
            Duration::from_secs(30),
        )
        .await;
    let port = started
        .trim_start_matches("ChromeDriver was started successfully on port ")
        .trim_end_matches('.');
    let mut capabilities = serde_json::Map::new();
    let mut options = json!({
        "binary": CHROMIUM,
        "args": [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--window-size=1366,900",
            "--hide-scrollbars",
            format!("--user-data-dir={}", profile.path().display()),
        ],
    });
    if viewport == Viewport::Phone {
        options["mobileEmulation"] = json!({
            "deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 3.0, "touch": true},
            "userAgent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 \
                          (KHTML, like Gecko) Chrome/156.0 Mobile Safari/537.36",
        });
    }
    capabilities.insert("goog:chromeOptions".into(), options);
    capabilities.insert("goog:loggingPrefs".into(), json!({"browser": "ALL"}));
    let url = format!("http://127.0.0.1:{port}");
    let client = wait_for(
        Duration::from_secs(10),
        "a Chromium session from chromedriver",
        || async {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            ClientBuilder::new(connector)
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
                .inspect_err(|e| eprintln!("chromedriver: {e}"))
                .ok()
        },
    )
    .await;
    Some(Driver {
        client,
        _process: process,
        _profile: profile,
    })
}

/// Waits for the browser to arrive at a path that `check` accepts (a form's navigation is not
/// always over when the click returns).
pub(crate) async fn arrive(client: &Client, what: &str, check: impl Fn(&str) -> bool) {
    wait_until(Duration::from_secs(10), what, || async {
        check(client.current_url().await.unwrap().path())
    })
    .await
}

pub(crate) async fn text_of(client: &Client, css: &str) -> String {
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
    let mut d = Deployment::start().await;
    d.start_bot().await;
    let console = d.console_url();
    let x = d.sandbox();
    let added = d.staff(&["add", "sari"]);
    let password = added.lines().nth(1).unwrap().trim().to_owned();

    let c = &browser.client;
    c.goto(&format!("{console}/")).await.unwrap();
    arrive(c, "the login page", |p| p.ends_with("/login")).await;
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
    arrive(c, "the password page", |p| p.ends_with("/password")).await;
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
    arrive(c, "the queue", |p| p == "/").await;
    assert!(text_of(c, ".flash").await.contains("Kata sandi tersimpan"));
    assert!(text_of(c, "main").await.contains("Tidak ada percakapan"));

    // A hand-off arrives while the queue is open: it appears without a reload.
    let question = x
        .post_as(
            "warga8",
            "@PemkotMalang <script>alert('x')</script> min kapan konser band luar negeri di stadion gajayana?",
        )
        .await;
    d.wait_until(
        Duration::from_secs(30),
        "the hand-off in the open queue, without a reload",
        || async { text_of(c, "table.queue").await.contains("@warga8") },
    )
    .await;
    let queue = text_of(c, "table.queue").await;
    assert!(queue.contains("<script>alert('x')</script>"), "{queue}");
    c.find(Locator::Css("table.queue a"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    arrive(c, "the conversation", |p| p.starts_with("/conversations/")).await;
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
    wait_until(Duration::from_secs(5), "the claim's flash", || async {
        text_of(c, ".flash").await.contains("Anda pegang")
    })
    .await;
    // A knowledge-base answer can start the reply.
    c.find(Locator::Id("kbq"))
        .await
        .unwrap()
        .send_keys("syarat kk baru")
        .await
        .unwrap();
    wait_until(
        Duration::from_secs(10),
        "knowledge-base suggestions",
        || async { c.find(Locator::Css("#kbresults button")).await.is_ok() },
    )
    .await;
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
    // The counter is the server's split (POST /api/preview), shortly after typing stops.
    let want = "@warga8 Halo kak, jadwal konser belum kami terima. Pantau akun ini ya."
        .chars()
        .count()
        .to_string();
    wait_until(Duration::from_secs(10), "the reply's preview", || async {
        text_of(c, "#count").await == want
    })
    .await;
    c.find(Locator::Css("button[value=reply]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_until(Duration::from_secs(5), "the reply's flash", || async {
        text_of(c, ".flash")
            .await
            .contains("Balasan diantrekan (1 twit)")
    })
    .await;

    d.wait_until(
        Duration::from_secs(30),
        "the reply in the sandbox thread",
        || async {
            x.replies_to(&question).await.iter().any(|t| {
                t == "@warga8 Halo kak, jadwal konser belum kami terima. Pantau akun ini ya."
            })
        },
    )
    .await;
    // The hand-off line and the person's reply; the bot said nothing else there.
    assert_eq!(x.replies_to(&question).await.len(), 2);
    browser.client.clone().close().await.unwrap();
    assert!(d.stop_bot().success());
}
