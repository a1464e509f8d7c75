//! Agencies' announcements (issue 15), on SQLite and PostgreSQL: a draft asks for what it lacks
//! and is completed by the agency's reply; the person who edited it cannot approve it, a second
//! one can; personal data blocks approval; a scheduled draft is queued for X once, at its time,
//! as a numbered thread of the account's own posts; the console shows the editor.

use kicau::announce::checklist::{Point, chat_reply};
use kicau::announce::{AnnounceError, DraftState, NewDraft, Newsroom};
use kicau::tweet::Splitter;

use crate::helpers::{Backends, Console};

fn newsroom() -> Newsroom {
    Newsroom::new(Default::default(), Splitter::new("PemkotMalang", 10))
}

const HOUR: i64 = 3600 * 1000;

#[tokio::test]
async fn a_draft_is_completed_by_the_agency_and_approved_by_a_second_person() {
    let backends = Backends::new().await;
    let room = newsroom();
    for (name, store) in &backends.stores {
        // The agency's first message lacks the place.
        let draft = room
            .start(
                store,
                NewDraft {
                    agency: Some("dinkes"),
                    source: "telegram",
                    by: "Bu Rina (Dinkes)",
                    staff: false,
                    text: "Vaksinasi polio gratis untuk balita, Sabtu 12 Desember 2026 pukul 08.00. \
                           Info: https://dinkes.malangkota.go.id",
                },
                Some("tg:-100200:41"),
            )
            .await
            .unwrap();
        assert_eq!(draft.state, DraftState::PerluData, "{name}");
        let review = room.review(&draft);
        assert_eq!(review.missing, [Point::Where], "{name}");
        let reply = chat_reply(draft.id, &review);
        assert!(reply.contains("tempat atau wilayahnya"), "{reply}");
        // The agency answers in the chain: the draft is complete.
        let linked = room.by_link(store, "tg:-100200:41").await.unwrap();
        assert_eq!(linked, Some(draft.id), "{name}");
        let draft = room
            .add_from_agency(
                store,
                draft.id,
                "Bu Rina (Dinkes)",
                "Tempatnya di Puskesmas Kendalkerep.",
                Some("tg:-100200:43"),
            )
            .await
            .unwrap();
        assert_eq!(draft.state, DraftState::SiapTinjau, "{name}");
        assert!(draft.text.ends_with("Puskesmas Kendalkerep."), "{name}");

        // Sari shapes it; she may not approve it herself, Budi may.
        let text = format!("{} Ajak keluarga, ya!", draft.text);
        room.edit(store, draft.id, "sari", &text).await.unwrap();
        let refused = room.approve(store, draft.id, "sari", None).await;
        assert!(
            matches!(refused, Err(AnnounceError::OwnEdit)),
            "{name}: {refused:?}"
        );
        let now = kicau::store::now_ms();
        let approved = room
            .approve(store, draft.id, "budi", Some(now + HOUR))
            .await
            .unwrap();
        assert_eq!(approved.state, DraftState::Terjadwal, "{name}");
        assert_eq!(approved.approved_by.as_deref(), Some("budi"));
        // Approved drafts no longer change.
        assert!(matches!(
            room.edit(store, draft.id, "sari", "lain").await,
            Err(AnnounceError::Closed(_))
        ));

        // Not before its time; once at its time; never twice.
        assert_eq!(room.publish_due(store, now).await.unwrap(), 0, "{name}");
        assert_eq!(room.publish_due(store, now + 2 * HOUR).await.unwrap(), 1);
        assert_eq!(room.publish_due(store, now + 3 * HOUR).await.unwrap(), 0);
        let published = room.get(store, draft.id).await.unwrap();
        assert_eq!(published.state, DraftState::Terbit, "{name}");
        let posts = room.posts(store, draft.id).await.unwrap();
        let expected = room.preview(&published.text).unwrap();
        assert_eq!(posts.len(), expected.len(), "{name}");
        let payloads: Vec<String> = sqlx::query_scalar(
            "SELECT payload FROM outbox WHERE idempotency_key LIKE 'x:kabar:%' ORDER BY id",
        )
        .fetch_all(store.pool())
        .await
        .unwrap();
        let first: serde_json::Value = serde_json::from_str(&payloads[0]).unwrap();
        assert_eq!(first["post"], true, "{name}: the account's own post");
        assert!(first["in_reply_to"].is_null(), "{name}");
        assert_eq!(first["text"], expected[0].as_str(), "{name}");
        assert!(!expected[0].starts_with('@'), "{name}: {}", expected[0]);
    }
    backends.finish().await;
}

#[tokio::test]
async fn personal_data_blocks_approval_until_it_is_removed() {
    let backends = Backends::new().await;
    let room = newsroom();
    for (name, store) in &backends.stores {
        let draft = room
            .start(
                store,
                NewDraft {
                    agency: None,
                    source: "console",
                    by: "sari",
                    staff: true,
                    text: "Pendaftaran bantuan UMKM bagi warga Kota Malang dibuka Senin 14 Desember \
                           di Balai Kota. Contoh isian NIK 3573012345670001. Info: \
                           https://malangkota.go.id",
                },
                None,
            )
            .await
            .unwrap();
        assert_eq!(draft.state, DraftState::PerluData, "{name}");
        let refused = room.approve(store, draft.id, "budi", None).await;
        assert!(
            matches!(refused, Err(AnnounceError::PersonalData)),
            "{name}: {refused:?}"
        );
        let clean = draft
            .text
            .replace(" Contoh isian NIK 3573012345670001.", "");
        room.edit(store, draft.id, "sari", &clean).await.unwrap();
        let approved = room.approve(store, draft.id, "budi", None).await.unwrap();
        assert_eq!(approved.state, DraftState::Disetujui, "{name}");
    }
    backends.finish().await;
}

#[tokio::test]
async fn the_console_edits_comments_and_approves_with_four_eyes() {
    let backends = Backends::new().await;
    let store = &backends.stores[0].1;
    let (mut console, sari) = Console::signed_in(store, None).await;
    let page = console
        .post_form(
            "/kabar/new",
            &[
                ("csrf", &sari.csrf),
                ("text", "Car free day ditiadakan sementara"),
            ],
        )
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    let at = page.location.clone().unwrap();
    let page = console.get(&at).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Draf #1 dibuat."), "{}", page.body);
    assert!(page.body.contains("✗ belum ada: Kapan"), "{}", page.body);
    assert!(page.body.contains("Pratinjau twit"));
    // She wrote it: no approval form for her, the rule says why.
    assert!(page.body.contains("prinsip empat mata"), "{}", page.body);
    assert!(!page.body.contains("/kabar/1/approve"));
    let page = console
        .post_form(
            "/kabar/1/edit",
            &[
                ("csrf", &sari.csrf),
                (
                    "text",
                    "Car free day di Jalan Ijen ditiadakan Minggu 13 Desember bagi warga. Info: \
                     https://malangkota.go.id dan bit.ly/cfd",
                ),
                ("event", "2026-12-13"),
                ("category", "terkini"),
            ],
        )
        .await;
    assert_eq!(page.status, 303);
    let page = console.get("/kabar/1").await.body;
    assert!(page.contains("Perubahan disimpan."), "{page}");
    assert!(page.contains("Tautan bukan situs resmi: bit.ly"), "{page}");
    assert!(page.contains("perkiraan biaya X"), "{page}");
    let page = console
        .post_form(
            "/kabar/1/comment",
            &[
                ("csrf", &sari.csrf),
                ("text", "Mohon dicek <b>tanggalnya</b>"),
            ],
        )
        .await;
    assert_eq!(page.status, 303);
    let page = console.get("/kabar/1").await.body;
    assert!(
        page.contains("Mohon dicek &lt;b&gt;tanggalnya&lt;/b&gt;"),
        "{page}"
    );
    // A forged approval changes nothing; sari's own is refused.
    let page = console
        .post_form("/kabar/1/approve", &[("csrf", "palsu")])
        .await;
    assert_eq!(page.status, 403);
    let page = console
        .post_form("/kabar/1/approve", &[("csrf", &sari.csrf)])
        .await;
    assert_eq!(page.status, 303);
    let page = console.get("/kabar/1").await.body;
    assert!(page.contains("harus disetujui petugas lain"), "{page}");
    let list = console.get("/kabar?state=siap_tinjau").await.body;
    assert!(list.contains("Draf #1"), "{list}");
    backends.finish().await;
}

const DPUPRPKP: i64 = -1002000000001;

/// An agency member's message in DPUPRPKP's chat, through the sandbox.
fn agency_says(text: &str, reply_to: Option<i64>) -> serde_json::Value {
    let mut body = serde_json::json!({"chat_id": DPUPRPKP,
        "from": {"id": 9001, "username": "petugas_pu"}, "text": text});
    if let Some(id) = reply_to {
        body["reply_to_message_id"] = serde_json::json!(id);
    }
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agency_sends_kabar_completes_it_in_the_chat_and_it_is_published_as_the_account() {
    use std::time::Duration;
    let mut d = crate::helpers::Deployment::start().await;
    d.start_bot().await;
    let x = d.sandbox();
    // The agency sends an announcement without its contact.
    x.control(
        "/sandbox/telegram/send",
        agency_says(
            "/kabar Penutupan Jalan Ijen untuk perbaikan saluran, Senin 14 Desember 2026 pukul \
             08.00-16.00. Pengendara diminta lewat Jalan Semeru.",
            None,
        ),
    )
    .await;
    let answer = d
        .wait_for(Duration::from_secs(30), "the checklist in the chat", || {
            x.telegram_message(DPUPRPKP, "draf #1")
        })
        .await;
    let text = answer["text"].as_str().unwrap();
    assert!(text.contains("❌ Kontak atau tautan resmi"), "{text}");
    assert!(text.contains("✅ Kapan"), "{text}");
    // The agency answers the bot's message: the draft is complete.
    let answered = answer["message_id"].as_i64().unwrap();
    x.control(
        "/sandbox/telegram/send",
        agency_says(
            "Info lebih lanjut: https://dpuprpkp.malangkota.go.id",
            Some(answered),
        ),
    )
    .await;
    d.wait_for(Duration::from_secs(30), "the complete checklist", || {
        x.telegram_message(DPUPRPKP, "Lengkap.")
    })
    .await;

    // Sari shapes it, Budi approves it; the publisher posts it as the account's own post.
    let store = kicau::store::Store::connect(&d.database_url())
        .await
        .unwrap();
    let room = newsroom();
    let draft = room.get(&store, 1).await.unwrap();
    assert_eq!(draft.state, DraftState::SiapTinjau);
    assert_eq!(draft.agency.as_deref(), Some("dpuprpkp"));
    assert!(
        draft.text.ends_with("https://dpuprpkp.malangkota.go.id"),
        "{}",
        draft.text
    );
    let shaped = draft.text.replace("Penutupan", "[INFO] Penutupan");
    room.edit(&store, 1, "sari", &shaped).await.unwrap();
    room.approve(&store, 1, "budi", None).await.unwrap();
    let posted = d
        .wait_for(Duration::from_secs(60), "the announcement on X", || async {
            x.account_tweets().await.into_iter().find(|t| {
                t["text"]
                    .as_str()
                    .unwrap_or("")
                    .contains("[INFO] Penutupan")
            })
        })
        .await;
    assert!(
        posted["referenced_tweets"].is_null(),
        "the account's own post answers nobody: {posted}"
    );
    let posts = room.posts(&store, 1).await.unwrap();
    assert!(
        posts
            .iter()
            .all(|(_, state, id)| state == "sent" && id.is_some()),
        "{posts:?}"
    );
    // The agency is told, with the link to the post.
    let told = d
        .wait_for(Duration::from_secs(60), "the agency told", || {
            x.telegram_message(DPUPRPKP, "sudah terbit di X")
        })
        .await;
    let link = format!(
        "https://x.com/PemkotMalang/status/{}",
        posted["id"].as_str().unwrap()
    );
    assert!(told["text"].as_str().unwrap().contains(&link), "{told}");
    store.close().await;
    assert!(d.stop_bot().success());
}

#[tokio::test]
async fn retention_empties_closed_drafts_but_keeps_what_was_published() {
    let backends = Backends::new().await;
    let room = newsroom();
    for (name, store) in &backends.stores {
        let start = |text: &'static str| NewDraft {
            agency: Some("dinkes"),
            source: "telegram",
            by: "Bu Rina (Dinkes)",
            staff: false,
            text,
        };
        let published = room
            .start(
                store,
                start(
                    "Posyandu balita di Balai RW 3 Kelurahan Dinoyo, Rabu 16 Desember 2026 pukul \
                     08.00 bagi warga. Info: https://dinkes.malangkota.go.id",
                ),
                Some("tg:-100200:51"),
            )
            .await
            .unwrap();
        room.comment(store, published.id, "sari", "cek jamnya")
            .await
            .unwrap();
        room.approve(store, published.id, "budi", None)
            .await
            .unwrap();
        let now = kicau::store::now_ms();
        room.publish_due(store, now).await.unwrap();
        let rejected = room
            .start(
                store,
                start("Hubungi Bu Rina 0812-3456-7890 untuk daftar"),
                None,
            )
            .await
            .unwrap();
        room.reject(store, rejected.id, "budi", "data pribadi")
            .await
            .unwrap();

        let done = kicau::privacy::retain(store, 90, now + 91 * 24 * HOUR)
            .await
            .unwrap();
        assert_eq!(done.draft_versions, 2, "{name}: {done:?}");
        assert!(room.edits(store, published.id).await.unwrap().is_empty());
        assert!(room.comments(store, published.id).await.unwrap().is_empty());
        assert_eq!(room.by_link(store, "tg:-100200:51").await.unwrap(), None);
        let kept = room.get(store, published.id).await.unwrap();
        assert!(
            kept.text.starts_with("Posyandu"),
            "{name}: the published text stays"
        );
        let emptied = room.get(store, rejected.id).await.unwrap();
        assert_eq!(emptied.text, "", "{name}");
    }
    backends.finish().await;
}
