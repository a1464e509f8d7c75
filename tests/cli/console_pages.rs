//! The console's pages as staff see them, in headless Chromium at a laptop's 1366x900 and as a
//! phone (chromedriver's mobileEmulation, 390x844): the queue with an emergency and a hand-off,
//! a conversation with its ticket and a staff reply X refused (403), sent again once with
//! "Kirim ulang", the tickets page, "Ringkasan" and the audit log. Each page fits its width
//! (no sideways scrolling), shows no machine timestamp and no agency id, and raises no browser
//! error; a screenshot of each goes to `target/console-screenshots/` (or `KICAU_SCREENSHOTS`)
//! for a person to look at.

use std::path::PathBuf;
use std::time::Duration;

use fantoccini::{Client, Locator};
use regex::Regex;
use serde_json::{Value, json};

use crate::browser::{Viewport, arrive, sized_driver, text_of};
use crate::helpers::{Deployment, repo, wait_until};

/// Where the screenshots go.
fn screenshots() -> PathBuf {
    std::env::var_os("KICAU_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target/console-screenshots"))
}

/// chromedriver's browser log (`POST /session/{id}/se/log`), which fantoccini has no call for.
#[derive(Debug)]
struct BrowserLog;

impl fantoccini::wd::WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(json!({"type": "browser"}).to_string()),
        )
    }
}

/// The browser's errors since the last call (a missing favicon aside).
async fn browser_errors(c: &Client) -> Vec<String> {
    let log = c.issue_cmd(BrowserLog).await.unwrap_or(Value::Null);
    log.as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["level"] == "SEVERE")
        .filter_map(|e| e["message"].as_str().map(str::to_owned))
        .filter(|m| !m.contains("favicon.ico"))
        .collect()
}

/// The agencies' ids from the shipped bot.toml, which no page may show.
fn agency_ids() -> Vec<String> {
    let config: toml::Value =
        toml::from_str(&std::fs::read_to_string(repo().join("bot.toml")).unwrap()).unwrap();
    config["agency"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Looks at the page open in `c` as a person would: it fits, reads in words, has no errors;
/// writes its screenshot as `<name>-<width>.png`.
pub(crate) async fn look(c: &Client, name: &str, viewport: Viewport) {
    let width = c
        .execute("return window.innerWidth", vec![])
        .await
        .unwrap()
        .as_i64()
        .unwrap();
    let expected = match viewport {
        Viewport::Desktop => 1366,
        Viewport::Phone => 390,
    };
    assert_eq!(width, expected, "{name}: the window");
    let scroll = c
        .execute("return document.documentElement.scrollWidth", vec![])
        .await
        .unwrap()
        .as_i64()
        .unwrap();
    let shot = c.screenshot().await.unwrap();
    let dir = screenshots();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}-{width}.png")), shot).unwrap();
    assert!(
        scroll <= width,
        "{name} at {width} px is {scroll} px wide: it scrolls sideways"
    );
    let text = text_of(c, "body").await;
    let iso = Regex::new(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}").unwrap();
    assert!(
        !iso.is_match(&text),
        "{name}: a machine timestamp in\n{text}"
    );
    for id in agency_ids() {
        let word = Regex::new(&format!(r"(^|[^\w-]){}($|[^\w-])", regex::escape(&id))).unwrap();
        assert!(
            !word.is_match(&text),
            "{name}: the agency id {id} in\n{text}"
        );
    }
    let here = c.current_url().await.unwrap().to_string();
    let errors: Vec<String> = browser_errors(c)
        .await
        .into_iter()
        // The missing page's own 404 is what it shows, not a fault of the page.
        .filter(|e| !(name == "halaman-tidak-ada" && e.starts_with(&here) && e.contains(" 404 ")))
        .collect();
    assert!(errors.is_empty(), "{name} at {width} px: {errors:?}");
}

pub(crate) async fn log_in(c: &Client, console: &str, name: &str, password: &str) {
    c.goto(&format!("{console}/login")).await.unwrap();
    c.find(Locator::Id("name"))
        .await
        .unwrap()
        .send_keys(name)
        .await
        .unwrap();
    c.find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(password)
        .await
        .unwrap();
    c.find(Locator::Css("form.login button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    arrive(c, "the queue", |p| p == "/").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_fits_a_laptop_and_a_phone_and_a_refused_reply_is_sent_again_once() {
    let Some(desktop) = sized_driver(Viewport::Desktop).await else {
        return;
    };
    let Some(phone) = sized_driver(Viewport::Phone).await else {
        return;
    };
    let mut d = Deployment::start().await;
    d.start_bot().await;
    let x = d.sandbox();
    d.staff(&["add", "sari", "--role", "admin"]);
    let api = d.api(&d.staff(&["token", "sari"]));

    // An emergency, a hand-off and a complaint with its place, which becomes a ticket.
    x.post_as(
        "warga31",
        "@PemkotMalang tolong ada kebakaran rumah di jl kawi sekarang apinya gede!!",
    )
    .await;
    x.post_as(
        "warga30",
        "@PemkotMalang min kapan konser band luar negeri di stadion gajayana?",
    )
    .await;
    let complaint = x
        .post_as(
            "warga32",
            "@PemkotMalang min jalan di jl danau toba sawojajar berlubang besar, bahaya buat motor",
        )
        .await;
    d.wait_until(
        Duration::from_secs(60),
        "the complaint's ticket",
        || async {
            let tickets = api.get("/api/tickets").await;
            tickets.to_string().contains("\"reporter\":\"warga32\"")
        },
    )
    .await;
    let listed = api.get("/api/conversations?state=bot").await;
    let conversation = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["citizen"] == "warga32")
        .unwrap_or_else(|| panic!("no conversation of warga32 in {listed}"))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    d.wait_until(Duration::from_secs(30), "the ticket's tweet", || async {
        x.replies_to(&complaint).await.len() == 1
    })
    .await;

    // Sari takes the complaint over and replies; X refuses the tweet once (403).
    let (status, body) = api
        .post(&format!("/api/conversations/{conversation}/claim"), None)
        .await;
    assert_eq!(status, 200, "{body}");
    let fault = json!({"method": "POST", "path": "/2/tweets", "status": 403, "times": 1});
    assert!(
        x.control("/sandbox/x/faults", fault)
            .await
            .status()
            .is_success()
    );
    let reply = "Terima kasih kak, laporan sudah kami teruskan dan kami pantau.";
    let (status, body) = api
        .post(
            &format!("/api/conversations/{conversation}/reply"),
            Some(json!({ "text": reply })),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    d.wait_until(Duration::from_secs(30), "the refused reply", || async {
        let detail = api.get(&format!("/api/conversations/{conversation}")).await;
        detail.to_string().contains("\"state\":\"failed\"")
    })
    .await;

    // An agency's announcement, for the "Kabar" pages.
    x.control(
        "/sandbox/telegram/send",
        json!({"chat_id": -1002000000001_i64, "from": {"id": 9001, "username": "petugas_pu"},
               "text": "/kabar Penutupan Jalan Ijen untuk perbaikan saluran, Senin 14 Desember \
                        2026 pukul 08.00-16.00 bagi pengendara. Info: bit.ly/ijen"}),
    )
    .await;
    d.wait_until(Duration::from_secs(30), "the draft's checklist", || async {
        x.telegram_message(-1002000000001, "draf #1")
            .await
            .is_some()
    })
    .await;

    let console = d.console_url();
    let page = format!("{console}/conversations/{conversation}");
    for (browser, viewport) in [(&desktop, Viewport::Desktop), (&phone, Viewport::Phone)] {
        let c = &browser.client;
        log_in(c, &console, "sari", "kata-sandi-sari-uji").await;
        d.wait_until(Duration::from_secs(10), "the queue's cases", || async {
            let queue = text_of(c, "main").await;
            queue.contains("@warga30") && queue.contains("@warga31")
        })
        .await;
        look(c, "antrean", viewport).await;

        c.goto(&page).await.unwrap();
        let shown = text_of(c, "main").await;
        assert!(shown.contains("Laporan ke instansi"), "{shown}");
        assert!(shown.contains("kabar laporan"), "{shown}");
        assert!(shown.contains("DPUPRPKP"), "{shown}");
        if viewport == Viewport::Desktop {
            assert!(shown.contains("gagal terkirim"), "{shown}");
            look(c, "percakapan-gagal", viewport).await;
            // "Kirim ulang": the reply reaches X, once.
            c.find(Locator::Css(".msg.failed button"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            wait_until(Duration::from_secs(10), "the resend's notice", || async {
                text_of(c, ".flash").await.contains("diantrekan lagi")
            })
            .await;
            d.wait_until(Duration::from_secs(30), "the reply on X", || async {
                x.replies_to(&complaint)
                    .await
                    .iter()
                    .any(|t| t.ends_with(reply))
            })
            .await;
            c.goto(&page).await.unwrap();
            wait_until(Duration::from_secs(10), "the sent state", || async {
                let thread = text_of(c, ".thread").await;
                thread.contains("lihat di X") && !thread.contains("gagal terkirim")
            })
            .await;
            // A long reply: the preview under the box shows the tweets it becomes, and exactly
            // those reach X.
            let long = "Terima kasih sudah melapor, kak. Tim DPUPRPKP sudah menerima laporan \
                        jalan berlubang di Sawojajar dan akan mengecek lokasinya. Mohon berhati-hati \
                        saat melintas, terutama malam hari karena penerangan di sana masih kurang. \
                        Bila ada foto terbaru, kirimkan di utas ini agar petugas lebih mudah \
                        menemukan titiknya. Kabar perbaikannya akan kami sampaikan di sini.";
            let area = c.find(Locator::Id("text")).await.unwrap();
            area.send_keys(long).await.unwrap();
            wait_until(Duration::from_secs(10), "the preview's tweets", || async {
                c.find_all(Locator::Css("#preview li")).await.unwrap().len() >= 2
            })
            .await;
            let mut previewed = Vec::new();
            for item in c.find_all(Locator::Css("#preview li")).await.unwrap() {
                previewed.push(item.text().await.unwrap());
            }
            c.find(Locator::Css("form.reply button[type=submit]"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            let posted = || async {
                let mut texts: Vec<String> = x
                    .account_tweets()
                    .await
                    .iter()
                    .filter_map(|t| t["text"].as_str().map(str::to_owned))
                    .filter(|t| previewed.contains(t))
                    .collect();
                texts.reverse();
                texts
            };
            d.wait_until(Duration::from_secs(30), "the long reply on X", || async {
                posted().await.len() >= previewed.len()
            })
            .await;
            let posted = posted().await;
            assert_eq!(posted, previewed, "the preview is what X got");
            c.find(Locator::Id("note-text"))
                .await
                .unwrap()
                .send_keys("Sudah dicek ke DPUPRPKP lewat telepon, tunggu jadwal tambal.")
                .await
                .unwrap();
            c.find(Locator::Css("form.note-form button"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            wait_until(Duration::from_secs(10), "the note", || async {
                text_of(c, ".private-notes")
                    .await
                    .contains("tunggu jadwal tambal")
            })
            .await;
        }
        look(c, "percakapan", viewport).await;

        for (path, name) in [
            ("/tickets", "laporan"),
            ("/report", "ringkasan"),
            ("/report/gaps", "celah-pengetahuan"),
            ("/search?q=warga32", "cari"),
            ("/kabar", "kabar"),
            ("/kabar/1", "draf-kabar"),
            ("/tidak-ada", "halaman-tidak-ada"),
            ("/audit", "log-audit"),
            ("/dead-letters", "surat-mati"),
        ] {
            c.goto(&format!("{console}{path}")).await.unwrap();
            look(c, name, viewport).await;
        }
    }
    let sent: Vec<String> = x
        .replies_to(&complaint)
        .await
        .into_iter()
        .filter(|t| t.ends_with(reply))
        .collect();
    assert_eq!(sent.len(), 1, "the reply once: {sent:?}");
    desktop.client.clone().close().await.unwrap();
    phone.client.clone().close().await.unwrap();
    assert!(d.stop_bot().success());
}
