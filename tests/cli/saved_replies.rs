//! Saved replies ("balasan tersimpan", `knowledge/replies/`): `GET /api/replies` for signed-in
//! staff (bearer token or session) and 401 for anyone else; the list under the reply box; the
//! running bot's reload picking up a new file and keeping the previous set when a file is
//! broken; and, in headless Chromium, `/lok` + Enter in the middle of a draft inserting the reply
//! at the cursor, the preview following, on a laptop and on a phone.

use std::time::Duration;

use fantoccini::actions::{InputSource as _, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::{Client, Locator};
use kicau::desk::Desk;
use kicau::knowledge::replies::Reply;
use kicau::store::Store;
use serde_json::{Value, json};

use crate::browser::{Viewport, arrive, sized_driver, text_of};
use crate::helpers::{
    Console, live_on_a_copy, mention_at, repo, shipped_config, sqlite, wait_for, wait_until,
};

/// The shipped saved replies, as the files say.
fn shipped() -> Vec<Reply> {
    let loaded = kicau::knowledge::replies::load(&shipped_config()).unwrap();
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    loaded.replies
}

fn shipped_reply(shortcut: &str) -> Reply {
    shipped()
        .into_iter()
        .find(|r| r.shortcut == shortcut)
        .unwrap_or_else(|| panic!("no shipped saved reply /{shortcut}"))
}

/// The shortcuts `GET /api/replies` lists for `token`.
async fn shortcuts(console: &Console, token: &str) -> Vec<String> {
    let (status, body) = console.api("GET", "/api/replies", Some(token), None).await;
    assert_eq!(status, 200, "{body}");
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["shortcut"].as_str().unwrap().to_owned())
        .collect()
}

/// A citizen's hand-off that sari, signed in on `console`, has claimed; its conversation.
async fn claimed(store: &Store, console: &Console, token: &str, citizen: &str) -> String {
    let now = kicau::store::now_ms();
    let text = "@PemkotMalang min jalan depan rumah berlubang, bahaya buat motor";
    let id = mention_at(
        store,
        "9100",
        citizen,
        text,
        ("handoff", "no_kb_match"),
        now,
    )
    .await
    .unwrap();
    let path = format!("/api/conversations/{id}/claim");
    let (status, body) = console.api("POST", &path, Some(token), None).await;
    assert_eq!(status, 200, "{body}");
    id
}

#[tokio::test]
async fn staff_get_the_saved_replies_and_nobody_else_does() {
    let (store, _db) = sqlite().await;
    let (mut browser, staff) = Console::signed_in(&store, None).await;

    let (status, body) = browser
        .api("GET", "/api/replies", Some(&staff.token), None)
        .await;
    assert_eq!(status, 200, "{body}");
    let replies = shipped();
    assert!(replies.len() >= 8, "{replies:?}");
    let expected: Vec<Value> = replies
        .iter()
        .map(|r| json!({"shortcut": r.shortcut, "title": r.title, "text": r.text}))
        .collect();
    assert_eq!(body, json!({ "data": expected }));
    // Exactly the properties openapi.json's SavedReply names.
    let spec: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("src/console/openapi.json")).unwrap(),
    )
    .unwrap();
    let schema = &spec["components"]["schemas"]["SavedReply"];
    assert_eq!(schema["required"], json!(["shortcut", "title", "text"]));
    assert_eq!(schema["additionalProperties"], json!(false));
    assert!(spec["paths"]["/api/replies"]["get"]["responses"]["401"].is_object());

    // The console's own script asks with the session cookie.
    let page = browser.get("/api/replies").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.json(), body);

    // Without a session or a valid token: 401, as JSON.
    for token in [None, Some("bukan-token")] {
        let (status, body) = browser.api("GET", "/api/replies", token, None).await;
        assert_eq!(status, 401, "{body}");
        assert!(body["error"].is_string(), "{body}");
    }
    store.close().await;
}

#[tokio::test]
async fn the_reply_box_lists_the_saved_replies_and_loads_their_script() {
    let (store, _db) = sqlite().await;
    let (mut browser, staff) = Console::signed_in(&store, None).await;
    let id = claimed(&store, &browser, &staff.token, "warga40").await;

    let page = browser.get(&format!("/conversations/{id}")).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains("<script src=\"/static/replies.js\" defer></script>")
    );
    assert!(
        page.body.contains(
            "<details class=\"saved-replies\"><summary>Balasan tersimpan (ketik /)</summary>"
        ),
        "{}",
        page.body
    );
    for reply in shipped() {
        assert!(
            page.body.contains(&format!(
                "data-shortcut=\"{0}\"><span class=\"shortcut\">/{0}</span>",
                reply.shortcut
            )),
            "/{} is not listed",
            reply.shortcut
        );
    }
    let script = browser.get("/static/replies.js").await;
    assert_eq!(script.status, 200);
    assert!(script.header("content-type").starts_with("text/javascript"));
    assert!(script.body.contains("setupSavedReplies"));
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_takes_a_new_reply_and_a_broken_file_keeps_the_previous_set() {
    // The running engine reads its own copy of the knowledge base, which the test edits.
    let (knowledge, config, live) = live_on_a_copy().await;
    let (store, _db) = sqlite().await;
    let (mut console, staff) = Console::signed_in(&store, None).await;
    console.state.engine = live.clone();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let watcher = tokio::spawn(kicau::run::reload::watch(
        config.clone(),
        Desk::new(store.clone()),
        live.clone(),
        stopped,
    ));
    let within = Duration::from_secs(180);

    let replies = knowledge.path().join("replies");
    std::fs::write(
        replies.join("terima-kasih.md"),
        "+++\nshortcut = \"terima-kasih\"\ntitle = \"Ucapan terima kasih\"\n+++\n\
         Terima kasih atas kesabarannya, kak.\n",
    )
    .unwrap();
    // As the admin's button does: the watcher may not have looked at the files yet.
    live.request_reload();
    wait_until(within, "the new saved reply after the reload", || async {
        shortcuts(&console, &staff.token)
            .await
            .contains(&"terima-kasih".to_owned())
    })
    .await;
    let before = shortcuts(&console, &staff.token).await;
    let generation = live.status().generation;

    // A broken file, seen by the watcher: the reload fails with its file and line, and the
    // previous set stays.
    let broken = replies.join("rusak.md");
    std::fs::write(
        &broken,
        "+++\nshortcut = \"Rusak Sekali\"\ntitle = \"Rusak\"\n+++\nTeks.\n",
    )
    .unwrap();
    let error = wait_for(within, "the failed reload's error", || async {
        live.status().error
    })
    .await;
    assert!(
        error.contains(&format!("{}:2", broken.display())),
        "{error}"
    );
    assert!(
        error.contains("\"Rusak Sekali\" must be lower-case"),
        "{error}"
    );
    assert_eq!(shortcuts(&console, &staff.token).await, before);
    assert_eq!(live.status().generation, generation);

    stop.send(true).unwrap();
    watcher.await.unwrap();
    store.close().await;
}

/// Types `keys` into whatever has the focus, one key at a time (WebDriver's key actions: unlike
/// an element's send-keys, they never move the cursor first).
async fn press(c: &Client, keys: &str) {
    let mut actions = KeyActions::new("keyboard".into());
    for key in keys.chars() {
        actions = actions
            .then(KeyAction::Down { value: key })
            .then(KeyAction::Up { value: key });
    }
    c.perform_actions(actions).await.unwrap();
}

fn key(key: Key) -> String {
    char::from(key).to_string()
}

/// The reply box's value and where its cursor is (in characters; the texts here are ASCII).
async fn draft(c: &Client) -> (String, u64) {
    let found = c
        .execute(
            "const a = document.getElementById('text'); return [a.value, a.selectionStart];",
            vec![],
        )
        .await
        .unwrap();
    (
        found[0].as_str().unwrap().to_owned(),
        found[1].as_u64().unwrap(),
    )
}

/// What the counter under the box shows once the server previewed `text`.
async fn counted(console: &Console, token: &str, conversation: &str, text: &str) -> String {
    let body = json!({"text": text, "conversation": conversation});
    let (status, preview) = console
        .api("POST", "/api/preview", Some(token), Some(body))
        .await;
    assert_eq!(status, 200, "{preview}");
    let data = &preview["data"];
    if data["count"].as_u64().unwrap() > 1 {
        data["count"].to_string()
    } else {
        data["parts"][0]["weighted_length"].to_string()
    }
}

async fn log_in(c: &Client, console: &str) {
    c.goto(&format!("{console}/login")).await.unwrap();
    let field = |id: &'static str| c.find(Locator::Id(id));
    field("name")
        .await
        .unwrap()
        .send_keys("sari")
        .await
        .unwrap();
    field("password")
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
}

/// The menu's options as shown: their text.
async fn options(c: &Client) -> Vec<String> {
    let mut texts = Vec::new();
    for option in c
        .find_all(Locator::Css("#saved-replies-menu [role=option]"))
        .await
        .unwrap()
    {
        texts.push(option.text().await.unwrap());
    }
    texts
}

async fn menu_hidden(c: &Client) -> bool {
    c.execute(
        "return document.getElementById('saved-replies-menu').hidden",
        vec![],
    )
    .await
    .unwrap()
        == json!(true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slash_shortcut_inserts_the_saved_reply_at_the_cursor_in_headless_chromium() {
    let Some(desktop) = sized_driver(Viewport::Desktop).await else {
        return;
    };
    let (store, _db) = sqlite().await;
    let (console, staff) = Console::signed_in(&store, None).await;
    let id = claimed(&store, &console, &staff.token, "warga41").await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let server = tokio::spawn(kicau::console::serve(
        listener,
        console.state.clone(),
        stopped,
    ));
    let lokasi = shipped_reply("lokasi").text;
    let within = Duration::from_secs(10);

    let c = &desktop.client;
    log_in(c, &url).await;
    c.goto(&format!("{url}/conversations/{id}")).await.unwrap();
    c.find(Locator::Id("text"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let (before, after) = ("Halo kak, terima kasih. ", "Kami bantu cek ya.");
    press(c, &format!("{before}{after}")).await;
    press(c, &key(Key::Left).repeat(after.len())).await;
    assert_eq!(
        draft(c).await,
        (format!("{before}{after}"), before.len() as u64)
    );
    let want = counted(&console, &staff.token, &id, &format!("{before}{after}")).await;
    wait_until(within, "the draft's preview", || async {
        text_of(c, "#count").await == want
    })
    .await;

    // "/lok" in the middle: one option, highlighted; Enter puts the reply in place of "/lok".
    press(c, "/lok").await;
    let shown = wait_for(within, "the saved replies' menu", || async {
        Some(options(c).await).filter(|o| !o.is_empty())
    })
    .await;
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert!(shown[0].starts_with("/lokasi"), "{shown:?}");
    screenshot(c, "saved-replies-menu-1366").await;
    let area = c.find(Locator::Id("text")).await.unwrap();
    assert_eq!(
        area.attr("aria-activedescendant").await.unwrap().as_deref(),
        Some("saved-reply-lokasi")
    );
    press(c, &key(Key::Enter)).await;
    let inserted = format!("{before}{lokasi}{after}");
    assert_eq!(
        draft(c).await,
        (inserted.clone(), (before.len() + lokasi.len()) as u64),
        "the reply goes at the cursor, in place of /lok only"
    );
    assert!(menu_hidden(c).await);
    let want = counted(&console, &staff.token, &id, &inserted).await;
    wait_until(
        within,
        "the preview of the draft with the reply",
        || async { text_of(c, "#count").await == want },
    )
    .await;

    // Escape closes the menu and leaves what was typed.
    press(c, &format!("{} /fo", key(Key::End))).await;
    wait_until(within, "the menu for /fo", || async {
        options(c).await.iter().any(|o| o.starts_with("/foto"))
    })
    .await;
    press(c, &key(Key::Escape)).await;
    assert!(menu_hidden(c).await);
    assert_eq!(draft(c).await.0, format!("{inserted} /fo"));

    // The list under the box inserts at the cursor too (here: the end).
    c.find(Locator::Css("details.saved-replies summary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::Css(
        "details.saved-replies button[data-shortcut=penutup]",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    let penutup = shipped_reply("penutup").text;
    assert_eq!(draft(c).await.0, format!("{inserted} /fo{penutup}"));
    desktop.client.clone().close().await.unwrap();

    // On a phone: the menu fits the width, each option is a finger's size, a tap inserts.
    let Some(phone) = sized_driver(Viewport::Phone).await else {
        return;
    };
    let c = &phone.client;
    log_in(c, &url).await;
    c.goto(&format!("{url}/conversations/{id}")).await.unwrap();
    c.find(Locator::Id("text"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    press(c, "/").await;
    let shown = wait_for(within, "the whole menu on a phone", || async {
        Some(options(c).await).filter(|o| !o.is_empty())
    })
    .await;
    assert_eq!(shown.len(), shipped().len(), "{shown:?}");
    let sizes = c
        .execute(
            "return [document.documentElement.scrollWidth, window.innerWidth, \
             ...[...document.querySelectorAll('#saved-replies-menu [role=option], \
             details.saved-replies summary')].map((e) => e.getBoundingClientRect().height)];",
            vec![],
        )
        .await
        .unwrap();
    let sizes: Vec<f64> = sizes
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert!(sizes[0] <= sizes[1], "the page scrolls sideways: {sizes:?}");
    assert!(sizes[2..].iter().all(|h| *h >= 40.0), "{sizes:?}");
    screenshot(c, "saved-replies-menu-390").await;
    c.find(Locator::Id("saved-reply-foto"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_eq!(draft(c).await.0, shipped_reply("foto").text);
    assert!(menu_hidden(c).await);
    phone.client.clone().close().await.unwrap();

    stop.send(true).unwrap();
    server.await.unwrap().unwrap();
    store.close().await;
}

/// Writes what `c` shows as `<name>.png` beside the console's other screenshots (for a person
/// to look at).
async fn screenshot(c: &Client, name: &str) {
    let dir = std::env::var_os("KICAU_SCREENSHOTS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| repo().join("target/console-screenshots"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join(format!("{name}.png")),
        c.screenshot().await.unwrap(),
    )
    .unwrap();
}
