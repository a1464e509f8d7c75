//! The desk and the console's handlers, driven with `oneshot` over a real database (both
//! backends where it matters): the API's shapes and statuses, CSRF on cookie sessions, login
//! with a one-time password, escaping of citizens' text, and atomic claims under contention.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use kicau::console::{AppState, app};
use kicau::desk::{Actor, Desk, DeskError, Role, staff};
use kicau::run::intake;
use kicau::store::{Mention, NewDecision, NewMention, Store};
use serde_json::{Value, json};
use tower::ServiceExt as _;

use crate::repo;
use crate::store::Backends;

fn engine() -> Arc<kicau::Engine> {
    static ENGINE: OnceLock<Arc<kicau::Engine>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            Arc::new(kicau::Engine::from_config_path(&repo().join("bot.toml")).unwrap())
        })
        .clone()
}

/// Stores a citizen's mention and records `kind`/`rule` for it, as the worker does. Returns
/// the conversation id.
async fn mention(
    store: &Store,
    id: &str,
    citizen: &str,
    text: &str,
    kind: &str,
    rule: &str,
) -> Option<String> {
    mention_at(store, id, citizen, text, (kind, rule), 0).await
}

/// As [`mention`], for a tweet posted at `created_at` (milliseconds since the epoch).
pub async fn mention_at(
    store: &Store,
    id: &str,
    citizen: &str,
    text: &str,
    (kind, rule): (&str, &str),
    created_at: i64,
) -> Option<String> {
    let new = NewMention {
        tweet_id: id.into(),
        author_id: format!("u-{citizen}"),
        author_username: citizen.into(),
        text: text.into(),
        conversation_id: Some(id.into()),
        in_reply_to_id: None,
        created_at,
        raw: "{}".into(),
    };
    store
        .store_mentions("x.mentions", std::slice::from_ref(&new), Some(id))
        .await
        .unwrap();
    let m = Mention {
        tweet_id: new.tweet_id,
        author_id: new.author_id,
        author_username: new.author_username,
        text: new.text,
        conversation_id: new.conversation_id,
        in_reply_to_id: None,
        created_at,
        attempts: 1,
        raw: "{}".into(),
    };
    let decision = NewDecision {
        conversation_id: None,
        kind: kind.into(),
        topic: None,
        agency: None,
        rule: rule.into(),
        evidence: json!({"score": 0.1}).to_string(),
    };
    let replies = vec![format!(
        "@{citizen} Pertanyaan kakak kami teruskan ke petugas."
    )];
    intake::record_mention(
        store,
        &m,
        &intake::Decided {
            decision: &decision,
            replies: &replies,
            priority: 0,
            joins: true,
        },
        None,
    )
    .await
    .unwrap()
    .conversation
}

fn state(store: &Store) -> AppState {
    AppState {
        desk: Desk::new(store.clone()),
        engine: engine(),
        account: "PemkotMalang".into(),
        secure_cookies: false,
        tickets: None,
        whatsapp: None,
    }
}

async fn call(
    state: &AppState,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let request = match body {
        Some(body) => request
            .header("content-type", "application/json")
            .body(Body::from(body.to_string())),
        None => request.body(Body::empty()),
    }
    .unwrap();
    let response = app(state.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn the_api_lists_claims_replies_releases_and_closes_with_the_documented_shapes() {
    let backends = Backends::new().await;
    for (name, store) in &backends.stores {
        let conv = mention(
            store,
            "100",
            "warga3",
            "@PemkotMalang kapan festival?",
            "handoff",
            "no_kb_match",
        )
        .await
        .unwrap();
        staff::add(store, "sari", Role::Staff).await.unwrap();
        staff::add(store, "budi", Role::Staff).await.unwrap();
        staff::add(store, "kepala", Role::Admin).await.unwrap();
        let sari = staff::new_token(store, "sari").await.unwrap();
        let budi = staff::new_token(store, "budi").await.unwrap();
        let admin = staff::new_token(store, "kepala").await.unwrap();
        let s = state(store);

        let (status, body) = call(
            &s,
            "GET",
            "/api/conversations?state=waiting_staff",
            None,
            None,
        )
        .await;
        assert_eq!(status, 401, "{name}");
        assert!(body["error"].is_string());
        let (status, _) = call(&s, "GET", "/api/conversations", Some("kicau_wrong"), None).await;
        assert_eq!(status, 401, "{name}");

        let (status, body) = call(
            &s,
            "GET",
            "/api/conversations?state=waiting_staff",
            Some(&sari),
            None,
        )
        .await;
        assert_eq!(status, 200, "{name}: {body}");
        let first = &body["data"][0];
        assert_eq!(first["id"], conv.as_str());
        assert_eq!(first["state"], "waiting_staff");
        assert_eq!(first["citizen"], "warga3");
        assert_eq!(first["held_by"], Value::Null);
        assert!(first["waiting_since"].as_str().unwrap().ends_with('Z'));
        assert_eq!(first["reason"], "no_kb_match");
        assert_eq!(first["last_text"], "@PemkotMalang kapan festival?");
        let (status, _) = call(
            &s,
            "GET",
            "/api/conversations?state=open",
            Some(&sari),
            None,
        )
        .await;
        assert_eq!(status, 400);

        let (status, body) = call(
            &s,
            "GET",
            &format!("/api/conversations/{conv}"),
            Some(&sari),
            None,
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(body["data"]["messages"][0]["direction"], "in");
        assert_eq!(body["data"]["messages"][1]["author"], "bot");
        assert_eq!(body["data"]["decisions"][0]["rule"], "no_kb_match");
        let (status, _) = call(&s, "GET", "/api/conversations/nope", Some(&sari), None).await;
        assert_eq!(status, 404);

        // Replying before claiming is refused.
        let reply = json!({"text": "Festival diumumkan di kanal resmi, kak."});
        let (status, _) = call(
            &s,
            "POST",
            &format!("/api/conversations/{conv}/reply"),
            Some(&sari),
            Some(reply.clone()),
        )
        .await;
        assert_eq!(status, 403);

        let (status, body) = call(
            &s,
            "POST",
            &format!("/api/conversations/{conv}/claim"),
            Some(&sari),
            None,
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["data"]["state"], "staff");
        assert_eq!(body["data"]["held_by"], "sari");
        let (status, body) = call(
            &s,
            "POST",
            &format!("/api/conversations/{conv}/claim"),
            Some(&budi),
            None,
        )
        .await;
        assert_eq!(status, 409);
        assert_eq!(body["error"], "sudah ditangani oleh sari");
        let (status, _) = call(
            &s,
            "POST",
            &format!("/api/conversations/{conv}/reply"),
            Some(&budi),
            Some(reply.clone()),
        )
        .await;
        assert_eq!(status, 409);
        let (status, _) = call(
            &s,
            "POST",
            &format!("/api/conversations/{conv}/release"),
            Some(&budi),
            None,
        )
        .await;
        assert_eq!(status, 409);

        let (status, _) = call(
            &s,
            "POST",
            &format!("/api/conversations/{conv}/reply"),
            Some(&sari),
            Some(json!({"text": ""})),
        )
        .await;
        assert_eq!(status, 400);
        let (status, body) = call(
            &s,
            "POST",
            &format!("/api/conversations/{conv}/reply"),
            Some(&sari),
            Some(reply),
        )
        .await;
        assert_eq!(status, 202, "{body}");
        assert_eq!(body["data"]["queued"], 1);
        let long = "Informasi lengkap festival: ".to_owned()
            + &"jadwal, lokasi dan tiket diumumkan resmi. ".repeat(12);
        let (status, body) = call(
            &s,
            "POST",
            &format!("/api/conversations/{conv}/reply"),
            Some(&sari),
            Some(json!({"text": long})),
        )
        .await;
        assert_eq!(status, 202);
        assert!(body["data"]["queued"].as_i64().unwrap() >= 2, "{body}");
        let outbox = store.outbox_counts().await.unwrap();
        let pending: i64 = outbox
            .iter()
            .filter(|(c, st, _)| c == "x" && st == "pending")
            .map(|(_, _, n)| n)
            .sum();
        // The bot's hand-off line and the staff replies, nothing else.
        assert_eq!(
            pending,
            1 + 1 + body["data"]["queued"].as_i64().unwrap(),
            "{name}"
        );

        // While staff hold it, a new tweet from the citizen joins it and the bot stays quiet.
        let same = mention(
            store,
            "101",
            "warga3",
            "@PemkotMalang makasih min, syarat ktp apa?",
            "answer",
            "kb_confident",
        )
        .await;
        assert_eq!(same.as_deref(), Some(conv.as_str()));
        let pending_after: i64 = store
            .outbox_counts()
            .await
            .unwrap()
            .iter()
            .filter(|(c, st, _)| c == "x" && st == "pending")
            .map(|(_, _, n)| n)
            .sum();
        assert_eq!(
            pending_after, pending,
            "{name}: the bot spoke while a person held the conversation"
        );

        // Only the holder or an admin closes; the admin may.
        let (status, body) = call(
            &s,
            "POST",
            &format!("/api/conversations/{conv}/close"),
            Some(&admin),
            None,
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["data"]["state"], "closed");
        let (status, body) = call(
            &s,
            "POST",
            &format!("/api/conversations/{conv}/claim"),
            Some(&budi),
            None,
        )
        .await;
        assert_eq!(status, 409);
        assert_eq!(body["error"], "percakapan sudah ditutup");

        // Release goes back to the bot.
        let other = mention(
            store,
            "102",
            "warga4",
            "@PemkotMalang mau bicara dengan petugas",
            "handoff",
            "asks_for_person",
        )
        .await
        .unwrap();
        call(
            &s,
            "POST",
            &format!("/api/conversations/{other}/claim"),
            Some(&budi),
            None,
        )
        .await;
        let (status, body) = call(
            &s,
            "POST",
            &format!("/api/conversations/{other}/release"),
            Some(&budi),
            None,
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(body["data"]["state"], "bot");
        let (status, body) = call(
            &s,
            "GET",
            "/api/conversations?state=staff&held_by=budi",
            Some(&budi),
            None,
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(body["data"].as_array().unwrap().len(), 0);

        // Every transition is in the audit log.
        let log = store.audit_log(100).await.unwrap();
        for action in ["handoff", "claim", "reply", "close", "release"] {
            assert!(
                log.iter().any(|e| e.action == action),
                "{name}: no {action} in the audit log"
            );
        }
        // Revoked tokens stop working.
        staff::revoke(store, "budi").await.unwrap();
        let (status, _) = call(&s, "GET", "/api/conversations", Some(&budi), None).await;
        assert_eq!(status, 401);
    }
    backends.finish().await;
}

#[tokio::test]
async fn two_staff_claiming_at_once_a_hundred_times_exactly_one_wins_each_time() {
    let backends = Backends::new().await;
    for (name, store) in &backends.stores {
        let desk = Desk::new(store.clone());
        let a = Actor {
            name: "sari".into(),
            role: Role::Staff,
        };
        let b = Actor {
            name: "budi".into(),
            role: Role::Staff,
        };
        for round in 0..100 {
            let id = format!("{}", 1000 + round);
            let conv = mention(
                store,
                &id,
                &format!("w{round}"),
                "@PemkotMalang tolong",
                "handoff",
                "no_kb_match",
            )
            .await
            .unwrap();
            let (d1, d2) = (desk.clone(), desk.clone());
            let (c1, c2) = (conv.clone(), conv.clone());
            let (a1, b1) = (a.clone(), b.clone());
            let first = tokio::spawn(async move { d1.claim(&c1, &a1).await });
            let second = tokio::spawn(async move { d2.claim(&c2, &b1).await });
            let results = [first.await.unwrap(), second.await.unwrap()];
            let wins = results.iter().filter(|r| r.is_ok()).count();
            assert_eq!(wins, 1, "{name}: round {round}: {results:?}");
            let loser = results.iter().find_map(|r| r.as_ref().err()).unwrap();
            let winner = results.iter().find_map(|r| r.as_ref().ok()).unwrap();
            match loser {
                DeskError::HeldBy(holder) => assert_eq!(Some(holder), winner.held_by.as_ref()),
                other => panic!("{name}: {other:?}"),
            }
        }
    }
    backends.finish().await;
}

/// A browser-like session: cookies kept between calls.
struct Browser {
    state: AppState,
    cookies: Vec<(String, String)>,
}

impl Browser {
    async fn send(
        &mut self,
        method: &str,
        uri: &str,
        form: Option<&[(&str, &str)]>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, String, Option<String>) {
        let mut request = Request::builder().method(method).uri(uri);
        let cookie: Vec<String> = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        if !cookie.is_empty() {
            request = request.header("cookie", cookie.join("; "));
        }
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let request = match form {
            Some(form) => {
                let body: Vec<String> = form
                    .iter()
                    .map(|(k, v)| format!("{k}={}", kicau::channels::x::oauth1::percent_encode(v)))
                    .collect();
                request
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(Body::from(body.join("&")))
            }
            None => request.body(Body::empty()),
        }
        .unwrap();
        let response = app(self.state.clone()).oneshot(request).await.unwrap();
        for value in response.headers().get_all("set-cookie") {
            let text = value.to_str().unwrap();
            let (pair, _) = text.split_once(';').unwrap_or((text, ""));
            let (k, v) = pair.split_once('=').unwrap();
            self.cookies.retain(|(name, _)| name != k);
            if !v.is_empty() {
                self.cookies.push((k.to_owned(), v.to_owned()));
            }
        }
        let location = response
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned());
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 22)
            .await
            .unwrap();
        (
            status,
            String::from_utf8_lossy(&bytes).into_owned(),
            location,
        )
    }
}

fn hidden_csrf(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    page[at..].split('"').next().unwrap().to_owned()
}

#[tokio::test]
async fn login_one_time_password_csrf_and_escaping_in_the_pages() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&format!("sqlite://{}", dir.path().join("k.db").display()))
        .await
        .unwrap();
    let conv = mention(
        &store,
        "200",
        "warga5",
        "@PemkotMalang <script>alert('x')</script> & <b>halo</b>",
        "handoff",
        "no_kb_match",
    )
    .await
    .unwrap();
    let password = staff::add(&store, "sari", Role::Staff).await.unwrap();
    let mut browser = Browser {
        state: state(&store),
        cookies: Vec::new(),
    };

    let (status, _, location) = browser.send("GET", "/", None, &[]).await;
    assert!(status.is_redirection());
    assert_eq!(location.as_deref(), Some("/login"));
    let (_, page, _) = browser.send("GET", "/login", None, &[]).await;
    let token = hidden_csrf(&page);
    // A forged login form (no matching cookie) is refused.
    let mut stranger = Browser {
        state: state(&store),
        cookies: Vec::new(),
    };
    let (_, _, location) = stranger
        .send(
            "POST",
            "/login",
            Some(&[("csrf", &token), ("name", "sari"), ("password", &password)]),
            &[],
        )
        .await;
    assert!(location.unwrap().starts_with("/login?msg="));
    // A wrong password is refused without saying which part was wrong.
    let (_, _, location) = browser
        .send(
            "POST",
            "/login",
            Some(&[("csrf", &token), ("name", "sari"), ("password", "salah")]),
            &[],
        )
        .await;
    assert!(
        location
            .unwrap()
            .contains("Nama%20pengguna%20atau%20kata%20sandi%20salah")
    );
    let (_, page, _) = browser.send("GET", "/login", None, &[]).await;
    let token = hidden_csrf(&page);
    let (_, _, location) = browser
        .send(
            "POST",
            "/login",
            Some(&[("csrf", &token), ("name", "sari"), ("password", &password)]),
            &[],
        )
        .await;
    assert_eq!(
        location.as_deref(),
        Some("/password"),
        "the one-time password must be changed first"
    );
    let session = browser
        .cookies
        .iter()
        .find(|(k, _)| k == "kicau_session")
        .unwrap()
        .1
        .clone();
    let (_, _, location) = browser.send("GET", "/", None, &[]).await;
    assert_eq!(location.as_deref(), Some("/password"));
    // The API refuses a session that still has the one-time password.
    let (_, page, _) = browser.send("GET", "/password", None, &[]).await;
    let csrf = hidden_csrf(&page);
    let (_, _, location) = browser
        .send(
            "POST",
            "/password",
            Some(&[("csrf", &csrf), ("current", &password), ("new", "pendek")]),
            &[],
        )
        .await;
    assert!(location.unwrap().contains("minimal"));
    let (_, _, location) = browser
        .send(
            "POST",
            "/password",
            Some(&[
                ("csrf", &csrf),
                ("current", &password),
                ("new", "kata-sandi-baru-yang-panjang"),
            ]),
            &[],
        )
        .await;
    assert_eq!(location.as_deref(), Some("/?msg=Kata%20sandi%20tersimpan."));

    // The queue shows the citizen's text as text.
    let (status, page, _) = browser.send("GET", "/", None, &[]).await;
    assert_eq!(status, 200);
    assert!(
        page.contains(
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &lt;b&gt;halo&lt;/b&gt;"
        ),
        "{page}"
    );
    assert!(!page.contains("<script>alert"));
    let (_, page, _) = browser
        .send("GET", &format!("/conversations/{conv}"), None, &[])
        .await;
    assert!(!page.contains("<script>alert"));
    assert!(page.contains("Ambil alih"));

    // A form without the session's CSRF token does nothing.
    let (status, _, _) = browser
        .send(
            "POST",
            &format!("/conversations/{conv}/claim"),
            Some(&[("csrf", "forged")]),
            &[],
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(
        Desk::new(store.clone()).get(&conv).await.unwrap().held_by,
        None
    );
    // Nor does an API call on the cookie session without the header.
    let (status, _, _) = browser
        .send(
            "POST",
            &format!("/api/conversations/{conv}/claim"),
            None,
            &[],
        )
        .await;
    assert_eq!(status, 403);
    let csrf = hidden_csrf(
        &browser
            .send("GET", &format!("/conversations/{conv}"), None, &[])
            .await
            .1,
    );
    let (status, body, _) = browser
        .send(
            "POST",
            &format!("/api/conversations/{conv}/claim"),
            None,
            &[("x-csrf-token", &csrf)],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, _, location) = browser
        .send(
            "POST",
            &format!("/conversations/{conv}/reply"),
            Some(&[
                ("csrf", &csrf),
                ("text", "Halo kak, <i>kami</i> bantu cek."),
            ]),
            &[],
        )
        .await;
    assert!(location.unwrap().contains("Balasan%20diantrekan"));
    let (_, page, _) = browser
        .send("GET", &format!("/conversations/{conv}"), None, &[])
        .await;
    // Staff text (from the console or a Telegram message) is shown as text too.
    assert!(
        page.contains("@warga5 Halo kak, &lt;i&gt;kami&lt;/i&gt; bantu cek."),
        "{page}"
    );

    // Logging out ends the session for good.
    browser
        .send("POST", "/logout", Some(&[("csrf", &csrf)]), &[])
        .await;
    assert!(staff::session(&store, &session).await.unwrap().is_none());
    let (_, _, location) = browser.send("GET", "/", None, &[]).await;
    assert_eq!(location.as_deref(), Some("/login"));

    // The OpenAPI document is served and names every endpoint.
    let (status, body) = call(&state(&store), "GET", "/api/openapi.json", None, None).await;
    assert_eq!(status, 200);
    for path in [
        "/api/conversations",
        "/api/conversations/{id}",
        "/api/conversations/{id}/claim",
        "/api/conversations/{id}/reply",
        "/api/conversations/{id}/release",
        "/api/conversations/{id}/close",
    ] {
        assert!(body["paths"][path].is_object(), "{path}");
    }
    store.close().await;
}

#[tokio::test]
async fn an_unclaimed_handoff_is_announced_again() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&format!("sqlite://{}", dir.path().join("k.db").display()))
        .await
        .unwrap();
    let desk = Desk::new(store.clone());
    let conv = mention(
        &store,
        "300",
        "warga6",
        "@PemkotMalang halo?",
        "handoff",
        "no_kb_match",
    )
    .await
    .unwrap();
    assert!(
        desk.reannounce(60_000).await.unwrap().is_empty(),
        "not yet due"
    );
    tokio::time::sleep(Duration::from_millis(30)).await;
    let again = desk.reannounce(10).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].id, conv);
    assert!(
        desk.reannounce(60_000).await.unwrap().is_empty(),
        "announced once per period"
    );
    let events = desk.events_after(0, 100).await.unwrap();
    assert!(events.iter().any(|e| e.kind == "reannounced"));
    // Once claimed, nothing more.
    desk.claim(
        &conv,
        &Actor {
            name: "sari".into(),
            role: Role::Staff,
        },
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(30)).await;
    assert!(desk.reannounce(10).await.unwrap().is_empty());
    store.close().await;
}
