//! Staff's own side of a case (issue 14), on SQLite and PostgreSQL, through the console's pages
//! and API: private notes (masked, never in the audit's text, gone with retention), handing a
//! conversation to a named colleague (the bot stays silent, the colleague's list marks the
//! citizen's tweets new until they open it), the queue's deadline to take a case as a timer,
//! the queue's reasons linking to where they are dealt with, and errors as Indonesian pages.

use kicau::desk::{Actor, Desk, Role, staff};
use kicau::store::Store;

use crate::helpers::{Backends, Console, mention_at};

const DAY: i64 = 24 * 3600 * 1000;

/// A citizen's mention handed to staff at `at`; its conversation.
async fn mention(store: &Store, id: &str, citizen: &str, text: &str, at: i64) -> String {
    mention_at(store, id, citizen, text, ("handoff", "no_kb_match"), at)
        .await
        .unwrap()
}

/// A second staff member with an API token.
async fn colleague(store: &Store, name: &str) -> String {
    let password = staff::add(store, name, Role::Staff).await.unwrap();
    staff::change_password(store, name, &password, "kata-sandi-baru-rekan", None)
        .await
        .unwrap();
    staff::new_token(store, name).await.unwrap()
}

#[tokio::test]
async fn a_private_note_is_kept_masked_and_never_leaves_the_console() {
    let backends = Backends::new().await;
    for (name, store) in &backends.stores {
        let (mut console, sari) = Console::signed_in(store, None).await;
        let now = kicau::store::now_ms();
        let conv = mention(
            store,
            "7101",
            "wargacatat",
            "@PemkotMalang lampu pju mati",
            now,
        )
        .await;
        let nik = "3573012345670001";
        let text = format!("Sudah telepon kelurahan, NIK pelapor {nik}. Tunggu kabar besok.");
        let page = console
            .post_form(
                &format!("/conversations/{conv}/note"),
                &[("csrf", &sari.csrf), ("text", &text)],
            )
            .await;
        assert_eq!(page.status, 303, "{name}: {}", page.body);
        let page = console.get(&format!("/conversations/{conv}")).await;
        assert!(page.body.contains("Catatan internal disimpan."), "{name}");
        assert!(page.body.contains("Sudah telepon kelurahan"), "{name}");
        assert!(
            !page.body.contains(nik),
            "{name}: the NIK is masked on screen"
        );

        // The API: 201 with the note, masked; the list; bad bodies.
        let (status, body) = console
            .api(
                "POST",
                &format!("/api/conversations/{conv}/notes"),
                Some(&sari.token),
                Some(serde_json::json!({"text": "Dari API <b>tebal</b>"})),
            )
            .await;
        assert_eq!(status, 201, "{name}: {body}");
        assert_eq!(body["data"]["author"], "sari");
        let (status, body) = console
            .api(
                "GET",
                &format!("/api/conversations/{conv}/notes"),
                Some(&sari.token),
                None,
            )
            .await;
        assert_eq!(status, 200, "{name}: {body}");
        let notes = body["data"].as_array().unwrap();
        assert_eq!(notes.len(), 2, "{name}");
        assert!(!notes[0]["text"].as_str().unwrap().contains(nik), "{name}");
        let page = console.get(&format!("/conversations/{conv}")).await;
        assert!(
            page.body.contains("Dari API &lt;b&gt;tebal&lt;/b&gt;"),
            "{name}: a note is text, not markup"
        );
        for (body, want) in [
            (serde_json::json!({"text": "   "}), 400),
            (serde_json::json!({"text": "x".repeat(2001)}), 400),
            (serde_json::json!({"teks": "salah"}), 400),
        ] {
            let (status, _) = console
                .api(
                    "POST",
                    &format!("/api/conversations/{conv}/notes"),
                    Some(&sari.token),
                    Some(body),
                )
                .await;
            assert_eq!(status, want, "{name}");
        }
        let (status, _) = console
            .api(
                "GET",
                "/api/conversations/c404/notes",
                Some(&sari.token),
                None,
            )
            .await;
        assert_eq!(status, 404, "{name}");
        let (status, _) = console
            .api(
                "GET",
                &format!("/api/conversations/{conv}/notes"),
                None,
                None,
            )
            .await;
        assert_eq!(status, 401, "{name}");

        // Nothing of it in the outbox (X, Telegram, WhatsApp) nor in the audit's details.
        let outbox: Vec<String> = sqlx::query_scalar("SELECT payload FROM outbox")
            .fetch_all(store.pool())
            .await
            .unwrap();
        assert!(
            outbox.iter().all(|p| !p.contains("telepon kelurahan")),
            "{name}: {outbox:?}"
        );
        let audit: Vec<String> =
            sqlx::query_scalar("SELECT detail FROM audit_log WHERE action = 'note'")
                .fetch_all(store.pool())
                .await
                .unwrap();
        assert_eq!(audit.len(), 2, "{name}");
        assert!(
            audit
                .iter()
                .all(|d| !d.contains("kelurahan") && !d.contains(nik))
        );

        // Retention takes the notes with the conversation's texts.
        let admin = Actor {
            name: "kepala".into(),
            role: Role::Admin,
        };
        Desk::new(store.clone()).close(&conv, &admin).await.unwrap();
        kicau::privacy::retain(store, 90, now + 91 * DAY)
            .await
            .unwrap();
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notes")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(left, 0, "{name}");
    }
    backends.finish().await;
}

/// Budi's list ("Pegangan saya" as he sees it), as sari's browser renders it.
async fn held(console: &mut Console) -> String {
    console.get("/?state=staff&held_by=budi").await.body
}

#[tokio::test]
async fn a_case_handed_to_a_colleague_is_theirs_and_marked_new_until_they_open_it() {
    let backends = Backends::new().await;
    for (name, store) in &backends.stores {
        let (mut console, sari) = Console::signed_in(store, None).await;
        let budi = colleague(store, "budi").await;
        let now = kicau::store::now_ms();
        let conv = mention(
            store,
            "7201",
            "wargaserah",
            "@PemkotMalang izin keramaian gmn",
            now,
        )
        .await;

        // The page offers the colleague (not sari herself), and asks before handing over.
        let page = console.get(&format!("/conversations/{conv}")).await;
        assert!(
            page.body.contains("<option value=\"budi\">budi</option>"),
            "{name}"
        );
        assert!(!page.body.contains("<option value=\"sari\">"), "{name}");
        assert!(page.body.contains("data-confirm=\"Serahkan"), "{name}");
        let page = console
            .post_form(
                &format!("/conversations/{conv}/assign"),
                &[("csrf", &sari.csrf), ("to", "budi")],
            )
            .await;
        assert_eq!(page.status, 303, "{name}: {}", page.body);
        let page = console.get(&format!("/conversations/{conv}")).await;
        assert!(
            page.body.contains("Percakapan diserahkan ke budi"),
            "{name}"
        );
        assert!(page.body.contains("sari menyerahkan ke budi"), "{name}");
        let (_, body) = console
            .api(
                "GET",
                &format!("/api/conversations/{conv}"),
                Some(&budi),
                None,
            )
            .await;
        assert_eq!(body["data"]["state"], "staff", "{name}: {body}");
        assert_eq!(body["data"]["held_by"], "budi", "{name}");

        // Sari no longer holds it: she may not reply, nor hand it on.
        let (status, _) = console
            .api(
                "POST",
                &format!("/api/conversations/{conv}/reply"),
                Some(&sari.token),
                Some(serde_json::json!({"text": "halo"})),
            )
            .await;
        assert_eq!(status, 409, "{name}: sudah ditangani oleh budi");
        let (status, body) = console
            .api(
                "POST",
                &format!("/api/conversations/{conv}/assign"),
                Some(&sari.token),
                Some(serde_json::json!({"to": "sari"})),
            )
            .await;
        assert_eq!(status, 400, "{name}: {body}");

        // In budi's list the citizen's tweet is new until he opens the conversation.
        assert!(held(&mut console).await.contains("TWIT BARU"), "{name}");
        Desk::new(store.clone())
            .mark_seen(
                &conv,
                &Actor {
                    name: "budi".into(),
                    role: Role::Staff,
                },
            )
            .await
            .unwrap();
        assert!(!held(&mut console).await.contains("TWIT BARU"), "{name}");
        // The citizen writes again: new again.
        mention(
            store,
            "7202",
            "wargaserah",
            "@PemkotMalang gimana min?",
            now + 1000,
        )
        .await;
        assert!(held(&mut console).await.contains("TWIT BARU"), "{name}");

        // The API refuses an unknown colleague and a closed conversation.
        let (status, _) = console
            .api(
                "POST",
                &format!("/api/conversations/{conv}/assign"),
                Some(&budi),
                Some(serde_json::json!({"to": "tidakada"})),
            )
            .await;
        assert_eq!(status, 400, "{name}");
        let (status, body) = console
            .api(
                "POST",
                &format!("/api/conversations/{conv}/assign"),
                Some(&budi),
                Some(serde_json::json!({"to": "sari"})),
            )
            .await;
        assert_eq!(status, 200, "{name}: the holder hands it back: {body}");
        assert_eq!(body["data"]["held_by"], "sari", "{name}");
        let events: Vec<String> = sqlx::query_scalar(
            "SELECT kind FROM events WHERE conversation_id = $1 AND kind = 'assign'",
        )
        .bind(&conv)
        .fetch_all(store.pool())
        .await
        .unwrap();
        assert_eq!(events.len(), 2, "{name}");
    }
    backends.finish().await;
}

#[tokio::test]
async fn the_queue_shows_the_deadline_to_take_each_case_and_links_its_reason() {
    let backends = Backends::new().await;
    for (name, store) in &backends.stores {
        let (mut console, _sari) = Console::signed_in(store, None).await;
        let now = kicau::store::now_ms();
        mention(
            store,
            "7301",
            "wargabaru",
            "@PemkotMalang kapan pasar murah?",
            now,
        )
        .await;
        let old = mention(
            store,
            "7302",
            "wargalama",
            "@PemkotMalang trotoar rusak",
            now,
        )
        .await;
        // Two hours pass for this one.
        sqlx::query("UPDATE conversations SET waiting_since = $1 WHERE id = $2")
            .bind(now - 2 * 3600 * 1000)
            .bind(&old)
            .execute(store.pool())
            .await
            .unwrap();
        let page = console.get("/").await;
        assert_eq!(page.status, 200, "{name}");
        // The default target is an hour: the new one has about an hour, the old one is late.
        assert!(
            page.body.contains("ambil dalam 59 menit") || page.body.contains("ambil dalam 1 jam"),
            "{name}: {}",
            page.body
        );
        assert!(
            page.body.contains("batas tanggap lewat 1 jam"),
            "{name}: {}",
            page.body
        );
        assert!(page.body.contains("class=\"due late\""), "{name}");
        // The reason is a link to the case.
        assert!(
            page.body
                .contains("<a href=\"/conversations/c7301\">perlu dijawab petugas"),
            "{name}: {}",
            page.body
        );
    }
    backends.finish().await;
}

#[tokio::test]
async fn a_missing_page_or_a_broken_form_is_an_indonesian_page() {
    let backends = Backends::new().await;
    let store = &backends.stores[0].1;
    let (mut console, _sari) = Console::signed_in(store, None).await;
    for (uri, status, words) in [
        ("/tidak-ada", 404, "Halaman tidak ditemukan"),
        ("/conversations/c404", 404, "percakapan tidak ditemukan"),
    ] {
        let page = console.get(uri).await;
        assert_eq!(page.status, status, "{uri}");
        assert!(
            page.header("content-type").starts_with("text/html"),
            "{uri}"
        );
        assert!(page.body.contains(words), "{uri}: {}", page.body);
        assert!(page.body.contains("Kembali ke antrean"), "{uri}");
    }
    // A form without its fields: no extractor's English.
    let page = console.post_form("/conversations/c404/note", &[]).await;
    assert_eq!(page.status, 400);
    assert!(
        page.body.contains("Permintaan tidak valid"),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("Failed to deserialize"),
        "{}",
        page.body
    );
    // The API stays JSON.
    let (status, body) = console.api("GET", "/api/tidak-ada", None, None).await;
    assert_eq!(status, 404);
    assert!(body["error"].is_string());
    backends.finish().await;
}
