//! The desk and the console's handlers, driven with `oneshot` over a real database (both
//! backends where it matters): the API's shapes and statuses, CSRF on cookie sessions, login
//! with a one-time password, escaping of citizens' text, and atomic claims under contention.

use std::time::Duration;

use kicau::desk::{Actor, Desk, DeskError, Role, staff};
use kicau::store::Store;
use serde_json::{Value, json};

use crate::helpers::{Backends, Console, Reply, mention_at, sqlite, wait_for};

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
        for (who, role) in [
            ("sari", Role::Staff),
            ("budi", Role::Staff),
            ("kepala", Role::Admin),
        ] {
            staff::add(store, who, role).await.unwrap();
            // A token works once the one-time password is gone.
            staff::set_password(store, who, "kata-sandi-yang-panjang")
                .await
                .unwrap();
        }
        let sari = staff::new_token(store, "sari").await.unwrap();
        let budi = staff::new_token(store, "budi").await.unwrap();
        let admin = staff::new_token(store, "kepala").await.unwrap();
        let s = Console::new(store, None);

        let (status, body) = s
            .api("GET", "/api/conversations?state=waiting_staff", None, None)
            .await;
        assert_eq!(status, 401, "{name}");
        assert!(body["error"].is_string());
        let (status, _) = s
            .api("GET", "/api/conversations", Some("kicau_wrong"), None)
            .await;
        assert_eq!(status, 401, "{name}");

        let (status, body) = s
            .api(
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
        let (status, _) = s
            .api("GET", "/api/conversations?state=open", Some(&sari), None)
            .await;
        assert_eq!(status, 400);

        let (status, body) = s
            .api(
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
        let (status, _) = s
            .api("GET", "/api/conversations/nope", Some(&sari), None)
            .await;
        assert_eq!(status, 404);

        // Replying before claiming is refused.
        let reply = json!({"text": "Festival diumumkan di kanal resmi, kak."});
        let (status, _) = s
            .api(
                "POST",
                &format!("/api/conversations/{conv}/reply"),
                Some(&sari),
                Some(reply.clone()),
            )
            .await;
        assert_eq!(status, 403);

        let (status, body) = s
            .api(
                "POST",
                &format!("/api/conversations/{conv}/claim"),
                Some(&sari),
                None,
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["data"]["state"], "staff");
        assert_eq!(body["data"]["held_by"], "sari");
        let (status, body) = s
            .api(
                "POST",
                &format!("/api/conversations/{conv}/claim"),
                Some(&budi),
                None,
            )
            .await;
        assert_eq!(status, 409);
        assert_eq!(body["error"], "sudah ditangani oleh sari");
        let (status, _) = s
            .api(
                "POST",
                &format!("/api/conversations/{conv}/reply"),
                Some(&budi),
                Some(reply.clone()),
            )
            .await;
        assert_eq!(status, 409);
        let (status, _) = s
            .api(
                "POST",
                &format!("/api/conversations/{conv}/release"),
                Some(&budi),
                None,
            )
            .await;
        assert_eq!(status, 409);

        let (status, _) = s
            .api(
                "POST",
                &format!("/api/conversations/{conv}/reply"),
                Some(&sari),
                Some(json!({"text": ""})),
            )
            .await;
        assert_eq!(status, 400);
        let (status, body) = s
            .api(
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
        let (status, body) = s
            .api(
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
        let (status, body) = s
            .api(
                "POST",
                &format!("/api/conversations/{conv}/close"),
                Some(&admin),
                None,
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["data"]["state"], "closed");
        let (status, body) = s
            .api(
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
        s.api(
            "POST",
            &format!("/api/conversations/{other}/claim"),
            Some(&budi),
            None,
        )
        .await;
        let (status, body) = s
            .api(
                "POST",
                &format!("/api/conversations/{other}/release"),
                Some(&budi),
                None,
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(body["data"]["state"], "bot");
        let (status, body) = s
            .api(
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
        let (status, _) = s.api("GET", "/api/conversations", Some(&budi), None).await;
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

fn hidden_csrf(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    page[at..].split('"').next().unwrap().to_owned()
}

#[tokio::test]
async fn login_one_time_password_csrf_and_escaping_in_the_pages() {
    let (store, _dir) = sqlite().await;
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
    let mut browser = Console::new(&store, None);

    let Reply {
        status, location, ..
    } = browser.send("GET", "/", None, &[]).await;
    assert!(status.is_redirection());
    assert_eq!(location.as_deref(), Some("/login"));
    let Reply { body: page, .. } = browser.send("GET", "/login", None, &[]).await;
    let token = hidden_csrf(&page);
    // A forged login form (no matching cookie) is refused.
    let mut stranger = Console::new(&store, None);
    let Reply { location, .. } = stranger
        .send(
            "POST",
            "/login",
            Some(&[("csrf", &token), ("name", "sari"), ("password", &password)]),
            &[],
        )
        .await;
    assert_eq!(location.as_deref(), Some("/login?n=form"));
    // A wrong password is refused without saying which part was wrong.
    let Reply { location, .. } = browser
        .send(
            "POST",
            "/login",
            Some(&[("csrf", &token), ("name", "sari"), ("password", "salah")]),
            &[],
        )
        .await;
    assert_eq!(location.as_deref(), Some("/login?n=wrong"));
    let Reply { body: page, .. } = browser.send("GET", "/login?n=wrong", None, &[]).await;
    assert!(page.contains("Nama pengguna atau kata sandi salah."));
    let token = hidden_csrf(&page);
    let Reply { location, .. } = browser
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
    let session = browser.cookie("kicau_session").unwrap().to_owned();
    let Reply { location, .. } = browser.send("GET", "/", None, &[]).await;
    assert_eq!(location.as_deref(), Some("/password"));
    // The API refuses a session that still has the one-time password.
    let Reply { body: page, .. } = browser.send("GET", "/password", None, &[]).await;
    let csrf = hidden_csrf(&page);
    let Reply { location, .. } = browser
        .send(
            "POST",
            "/password",
            Some(&[("csrf", &csrf), ("current", &password), ("new", "pendek")]),
            &[],
        )
        .await;
    assert_eq!(location.as_deref(), Some("/password"));
    let Reply { body: page, .. } = browser.send("GET", "/password", None, &[]).await;
    assert!(
        page.contains("minimal 12 karakter"),
        "the notice shows once"
    );
    let Reply { body: page, .. } = browser.send("GET", "/password", None, &[]).await;
    assert!(!page.contains("class=\"flash\""), "and only once");
    let Reply { location, .. } = browser
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
    assert_eq!(location.as_deref(), Some("/"));

    // The queue shows the citizen's text as text.
    let Reply {
        status, body: page, ..
    } = browser.send("GET", "/", None, &[]).await;
    assert_eq!(status, 200);
    assert!(
        page.contains(
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &lt;b&gt;halo&lt;/b&gt;"
        ),
        "{page}"
    );
    assert!(!page.contains("<script>alert"));
    let Reply { body: page, .. } = browser
        .send("GET", &format!("/conversations/{conv}"), None, &[])
        .await;
    assert!(!page.contains("<script>alert"));
    assert!(page.contains("Ambil alih"));

    // A form without the session's CSRF token does nothing.
    let Reply { status, .. } = browser
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
    let Reply { status, .. } = browser
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
            .body,
    );
    let Reply { status, body, .. } = browser
        .send(
            "POST",
            &format!("/api/conversations/{conv}/claim"),
            None,
            &[("x-csrf-token", &csrf)],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let Reply { location, .. } = browser
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
    assert_eq!(location.unwrap(), format!("/conversations/{conv}"));
    let Reply { body: page, .. } = browser
        .send("GET", &format!("/conversations/{conv}"), None, &[])
        .await;
    assert!(page.contains("Balasan diantrekan (1 twit)."), "the notice");
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
    let Reply { location, .. } = browser.send("GET", "/", None, &[]).await;
    assert_eq!(location.as_deref(), Some("/login"));

    // The OpenAPI document is served and names every endpoint.
    let (status, body) = browser.api("GET", "/api/openapi.json", None, None).await;
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
    let (store, _dir) = sqlite().await;
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
    let again = wait_for(
        Duration::from_secs(5),
        "the hand-off to wait 10 ms and be announced again",
        || async { Some(desk.reannounce(10).await.unwrap()).filter(|a| !a.is_empty()) },
    )
    .await;
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
    // Not even a period of zero makes a claimed hand-off due.
    assert!(desk.reannounce(0).await.unwrap().is_empty());
    store.close().await;
}
