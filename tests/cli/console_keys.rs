//! The console's keyboard in headless Chromium: `?` opens the shortcuts' overlay (a modal
//! dialog holding the focus) and Escape closes it; `g l` goes to the tickets, `g a` back to the
//! queue; `j`/`k` choose a case and Enter opens it; on a conversation `c` takes it over, `r`
//! goes to the reply box and Ctrl+Enter sends the reply; "Tutup percakapan" asks first, and a
//! "no" leaves the conversation open; `u` goes back to the queue. And "Bantuan" (`/help`) at a
//! laptop's and a phone's width, with the overlay over it, each looked at as
//! `console_pages` looks at every page (screenshots beside theirs).

use std::time::Duration;

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::{Client, Locator};

use crate::browser::{Viewport, arrive, sized_driver, text_of};
use crate::console_pages::{log_in, look};
use crate::helpers::{Deployment, quiet_period, wait_until};

/// Types `keys` on whatever has the focus, one key after the other, as a person would.
async fn press(c: &Client, keys: &[char]) {
    let mut actions = KeyActions::new("keyboard".into());
    for &key in keys {
        actions = actions
            .then(KeyAction::Down { value: key })
            .then(KeyAction::Up { value: key });
    }
    c.perform_actions(actions).await.unwrap();
}

/// `key` pressed with Control held.
async fn press_with_control(c: &Client, key: char) {
    let control: char = Key::Control.into();
    let actions = KeyActions::new("keyboard".into())
        .then(KeyAction::Down { value: control })
        .then(KeyAction::Down { value: key })
        .then(KeyAction::Up { value: key })
        .then(KeyAction::Up { value: control });
    c.perform_actions(actions).await.unwrap();
}

/// A script's answer as a boolean.
async fn truth(c: &Client, script: &str) -> bool {
    c.execute(script, vec![]).await.unwrap().as_bool() == Some(true)
}

const OVERLAY_OPEN: &str = "return document.getElementById('shortcuts').open";

/// Opens the overlay with `?` and waits until it is open, the focus inside it.
async fn open_overlay(c: &Client) {
    press(c, &['?']).await;
    wait_until(Duration::from_secs(5), "the overlay, open", || async {
        truth(c, OVERLAY_OPEN).await
            && truth(
                c,
                "return document.getElementById('shortcuts').contains(document.activeElement)",
            )
            .await
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shortcuts_overlay_confirmation_and_the_help_page_in_headless_chromium() {
    let Some(desktop) = sized_driver(Viewport::Desktop).await else {
        return;
    };
    let Some(phone) = sized_driver(Viewport::Phone).await else {
        return;
    };
    let mut d = Deployment::start().await;
    d.start_bot().await;
    let x = d.sandbox();
    d.staff(&["add", "sari"]);
    let api = d.api(&d.staff(&["token", "sari"]));
    let console = d.console_url();

    // Two hand-offs, the older first in the queue.
    x.post_as(
        "warga41",
        "@PemkotMalang min kapan konser band luar negeri di stadion gajayana?",
    )
    .await;
    d.wait_until(Duration::from_secs(60), "the first hand-off", || async {
        api.get("/api/conversations?state=waiting_staff")
            .await
            .to_string()
            .contains("\"citizen\":\"warga41\"")
    })
    .await;
    x.post_as(
        "warga42",
        "@PemkotMalang min kapan konser band luar negeri di stadion gajayana?",
    )
    .await;
    d.wait_until(Duration::from_secs(60), "the second hand-off", || async {
        api.get("/api/conversations?state=waiting_staff")
            .await
            .to_string()
            .contains("\"citizen\":\"warga42\"")
    })
    .await;
    let waiting = api.get("/api/conversations?state=waiting_staff").await;
    let first = waiting["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["citizen"] == "warga41")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // "Bantuan" and the overlay at both widths; the page lists what the overlay lists.
    for (browser, viewport) in [(&desktop, Viewport::Desktop), (&phone, Viewport::Phone)] {
        let c = &browser.client;
        log_in(c, &console, "sari", "kata-sandi-sari-uji").await;
        c.find(Locator::Css("nav a[href='/help']"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        arrive(c, "the help page", |p| p == "/help").await;
        let help = text_of(c, "main").await;
        for words in [
            "Bantuan",
            "DARURAT",
            "Ambil alih",
            "bot diam",
            "paling banyak 10 twit",
            "knowledge/replies/",
            "kicau kb check",
            "/api/search?q=",
            "Catatan internal",
            "Serahkan ke",
            "Notifikasi darurat",
        ] {
            assert!(help.contains(words), "{words} in\n{help}");
        }
        let same = c
            .execute(
                "const keys = (root) => [...root.querySelectorAll('[data-keys]')]\
                 .map((row) => row.dataset.keys).join(' ');\
                 return keys(document.querySelector('main')) === keys(document.getElementById('shortcuts'))\
                 && keys(document.querySelector('main')).includes('g l');",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(
            same.as_bool(),
            Some(true),
            "the page and the overlay differ"
        );
        look(c, "bantuan", viewport).await;
        c.execute(
            "document.getElementById('pintasan').scrollIntoView()",
            vec![],
        )
        .await
        .unwrap();
        look(c, "bantuan-pintasan", viewport).await;
        open_overlay(c).await;
        look(c, "pintasan", viewport).await;
        press(c, &[Key::Escape.into()]).await;
        wait_until(Duration::from_secs(5), "the overlay, closed", || async {
            !truth(c, OVERLAY_OPEN).await
        })
        .await;
    }
    phone.client.clone().close().await.unwrap();

    let c = &desktop.client;
    c.goto(&format!("{console}/")).await.unwrap();
    // `?` again closes what `?` opened; Escape closes it too (above).
    open_overlay(c).await;
    press(c, &['?']).await;
    wait_until(
        Duration::from_secs(5),
        "the overlay, closed by ?",
        || async { !truth(c, OVERLAY_OPEN).await },
    )
    .await;

    press(c, &['g', 'l']).await;
    arrive(c, "the tickets, by g l", |p| p == "/tickets").await;
    press(c, &['g', 'a']).await;
    arrive(c, "the queue, by g a", |p| p == "/").await;

    // j, j, k: the first case is chosen, visibly; Enter opens it.
    press(c, &['j', 'j', 'k']).await;
    let chosen = c
        .execute(
            "return [...document.querySelectorAll('table.queue tbody tr')]\
             .map((row) => row.classList.contains('key-selected'))",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(chosen, serde_json::json!([true, false]), "the chosen rows");
    look(c, "antrean-dipilih", Viewport::Desktop).await;
    press(c, &[Key::Enter.into()]).await;
    arrive(c, "the first case, by Enter", |p| {
        p == format!("/conversations/{first}")
    })
    .await;

    // c takes it over.
    press(c, &['c']).await;
    wait_until(Duration::from_secs(10), "the claim's notice", || async {
        text_of(c, ".flash").await.contains("Anda pegang")
    })
    .await;
    let detail = api.get(&format!("/api/conversations/{first}")).await;
    assert_eq!(detail["data"]["state"], "staff", "{detail}");
    assert_eq!(detail["data"]["held_by"], "sari", "{detail}");
    look(c, "percakapan-diambil", Viewport::Desktop).await;

    // r goes to the reply box; Ctrl+Enter sends what was written there.
    press(c, &['r']).await;
    assert!(truth(c, "return document.activeElement.id === 'text'").await);
    let reply = "Halo kak, jadwal konser belum kami terima. Pantau akun ini ya.";
    c.find(Locator::Id("text"))
        .await
        .unwrap()
        .send_keys(reply)
        .await
        .unwrap();
    let typed = c
        .find(Locator::Id("text"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default();
    assert_eq!(typed, reply, "r itself is not typed into the box");
    press_with_control(c, Key::Enter.into()).await;
    wait_until(Duration::from_secs(10), "the reply's notice", || async {
        text_of(c, ".flash")
            .await
            .contains("Balasan diantrekan (1 twit)")
    })
    .await;

    // "Tutup percakapan" asks; "no" leaves the conversation as it was.
    c.execute(
        "window.asked = null; window.confirm = (q) => { window.asked = q; return false; }",
        vec![],
    )
    .await
    .unwrap();
    c.find(Locator::Css("button[value=close]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let asked = c.execute("return window.asked", vec![]).await.unwrap();
    assert_eq!(
        asked, "Tutup percakapan ini? Bot akan kembali menjawab warga ini.",
        "the question"
    );
    quiet_period(Duration::from_secs(1), "a refused close sends nothing").await;
    assert_eq!(
        c.current_url().await.unwrap().path(),
        format!("/conversations/{first}")
    );
    assert!(
        truth(c, "return window.asked !== undefined").await,
        "the page was not left"
    );
    let detail = api.get(&format!("/api/conversations/{first}")).await;
    assert_eq!(detail["data"]["state"], "staff", "{detail}");
    // "Yes" closes it.
    c.execute("window.confirm = () => true", vec![])
        .await
        .unwrap();
    c.find(Locator::Css("button[value=close]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_until(Duration::from_secs(10), "the close's notice", || async {
        text_of(c, ".flash").await.contains("Percakapan ditutup")
    })
    .await;
    let detail = api.get(&format!("/api/conversations/{first}")).await;
    assert_eq!(detail["data"]["state"], "closed", "{detail}");

    // u goes back to the queue, where the other case still waits.
    press(c, &['u']).await;
    arrive(c, "the queue, by u", |p| p == "/").await;
    assert!(text_of(c, "table.queue").await.contains("@warga42"));
    desktop.client.clone().close().await.unwrap();
    assert!(d.stop_bot().success());
}
