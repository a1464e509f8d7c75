//! The Telegram staff group end to end: `kicau sandbox` (X and Telegram), `kicau run`, and people
//! acting in the group through the sandbox's control endpoints. A hand-off arrives with an "Ambil
//! alih" button; a stranger's press is refused; a mapped staff member's press claims; their reply
//! to the bot's message is posted to X in the citizen's thread, HTML and all as plain text;
//! a reply that repeats a knowledge entry proposes it as a correction; /antrian lists; /selesai
//! closes; an emergency reaches the group at once.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{Deployment, wait_until};

const GROUP: i64 = -1001000000001;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_staff_group_claims_replies_lists_and_closes_through_the_desk() {
    let mut d = Deployment::start().await;
    d.staff(&["add", "sari", "--telegram-id", "5001"]);
    d.start_bot().await;
    let x = d.sandbox();
    let question = x
        .post_as(
            "warga9",
            "@PemkotMalang min kapan konser band luar negeri di stadion gajayana?",
        )
        .await;
    let handoff = x.wait_for_telegram_message(GROUP, "Perlu petugas").await;
    let text = handoff["text"].as_str().unwrap();
    assert!(text.contains("@warga9"), "{text}");
    assert!(
        text.contains(&format!("https://x.com/warga9/status/{question}")),
        "{text}"
    );
    let button = &handoff["reply_markup"]["inline_keyboard"][0][0];
    assert_eq!(button["text"], "Ambil alih");
    let data = button["callback_data"].as_str().unwrap().to_owned();
    let message_id = handoff["message_id"].as_i64().unwrap();

    // Someone who is not a staff member presses: refused, nothing changes.
    let press = |user: i64, name: &str| json!({"chat_id": GROUP, "message_id": message_id, "from": {"id": user, "username": name}, "data": data});
    let r = x
        .control("/sandbox/telegram/press", press(777, "orang_lain"))
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    wait_until(
        Duration::from_secs(10),
        "the stranger's press to be refused",
        || async {
            let answers = x.get("/sandbox/telegram/callback-answers").await;
            answers.to_string().contains("belum terhubung")
        },
    )
    .await;

    // Sari presses: the conversation is hers, the button goes, the group is told.
    x.control("/sandbox/telegram/press", press(5001, "sari"))
        .await;
    x.wait_for_telegram_message(GROUP, "diambil alih oleh sari")
        .await;
    wait_until(
        Duration::from_secs(10),
        "the claim button to go",
        || async {
            let m = x.telegram_message(GROUP, "Perlu petugas").await.unwrap();
            m["reply_markup"].is_null()
                || m["reply_markup"]["inline_keyboard"]
                    .as_array()
                    .is_none_or(|rows| rows.iter().all(|r| r.as_array().is_none_or(Vec::is_empty)))
        },
    )
    .await;

    // The message says who took it.
    x.wait_for_telegram_message(GROUP, "Diambil alih oleh sari")
        .await;

    // Her reply to the bot's message goes to X as the account, in the citizen's thread.
    x.control(
        "/sandbox/telegram/send",
        json!({"chat_id": GROUP, "from": {"id": 5001, "username": "sari"},
               "text": "<b>Halo</b> kak, jadwalnya belum ada. Kami kabari ya.",
               "reply_to_message_id": message_id}),
    )
    .await;
    d.wait_until(
        Duration::from_secs(30),
        "the reply from Telegram on X",
        || async {
            x.replies_to(&question)
                .await
                .iter()
                .any(|t| t == "@warga9 <b>Halo</b> kak, jadwalnya belum ada. Kami kabari ya.")
        },
    )
    .await;
    x.wait_for_telegram_message(GROUP, "Terkirim ke @warga9")
        .await;
    let token = d.staff(&["token", "sari"]);
    let api = d.api(&token);
    let corrections = api.get("/api/corrections").await;
    assert_eq!(
        corrections["data"].as_array().map(Vec::len),
        Some(0),
        "a reply of her own words suggests nothing: {corrections}"
    );

    // A reply that repeats a knowledge entry's answer proposes that entry for review, as in
    // the console.
    let found = api.get("/api/knowledge?q=wisata").await;
    let answer = found["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == "wisata")
        .unwrap_or_else(|| panic!("no wisata entry in {found}"))["answer"]
        .as_str()
        .unwrap()
        .to_owned();
    x.control(
        "/sandbox/telegram/send",
        json!({"chat_id": GROUP, "from": {"id": 5001, "username": "sari"},
               "text": answer, "reply_to_message_id": message_id}),
    )
    .await;
    let suggestion = d
        .wait_for(
            Duration::from_secs(30),
            "the staff group reply's suggestion",
            || async {
                let listed = api.get("/api/corrections").await;
                listed["data"]
                    .as_array()?
                    .iter()
                    .find(|c| c["tweet_id"] == question.as_str())
                    .cloned()
            },
        )
        .await;
    assert_eq!(suggestion["label"], "answer wisata", "{suggestion}");
    assert_eq!(suggestion["state"], "pending", "{suggestion}");
    assert_eq!(suggestion["decided"], "handoff", "{suggestion}");

    // /antrian answers in the group.
    x.control(
        "/sandbox/telegram/send",
        json!({"chat_id": GROUP, "from": {"id": 5001, "username": "sari"}, "text": "/antrian"}),
    )
    .await;
    x.wait_for_telegram_message(GROUP, "Antrean kosong").await;

    // /selesai as a reply closes it.
    x.control(
        "/sandbox/telegram/send",
        json!({"chat_id": GROUP, "from": {"id": 5001, "username": "sari"},
               "text": "/selesai", "reply_to_message_id": message_id}),
    )
    .await;
    x.wait_for_telegram_message(GROUP, "ditutup oleh sari")
        .await;
    let closed = api.get("/api/conversations?state=closed").await;
    assert_eq!(closed["data"][0]["citizen"], "warga9");
    let audit = closed["data"][0]["id"].as_str().unwrap().to_owned();
    let detail: Value = api.get(&format!("/api/conversations/{audit}")).await;
    assert!(
        detail["data"]["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["author"] == "sari")
    );

    // An emergency reaches the group at once.
    x.post_as(
        "warga10",
        "@PemkotMalang tolong ada kebakaran rumah di jl kawi sekarang apinya gede!!",
    )
    .await;
    let alarm = x.wait_for_telegram_message(GROUP, "DARURAT").await;
    assert!(alarm["text"].as_str().unwrap().contains("@warga10"));
    assert_eq!(
        alarm["reply_markup"]["inline_keyboard"][0][0]["text"],
        "Ambil alih"
    );

    // Taken over in the console instead: the group's message loses its button all the same.
    let open = api.get("/api/conversations?state=waiting_staff").await;
    let emergency = open["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["citizen"] == "warga10")
        .unwrap_or_else(|| panic!("no emergency in {open}"))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = api
        .post(&format!("/api/conversations/{emergency}/claim"), None)
        .await;
    assert_eq!(status, 200, "{body}");
    wait_until(
        Duration::from_secs(30),
        "the emergency's button to go",
        || async {
            let m = x.telegram_message(GROUP, "DARURAT").await.unwrap();
            m["text"]
                .as_str()
                .unwrap()
                .contains("Diambil alih oleh sari")
                && m["reply_markup"]["inline_keyboard"]
                    .as_array()
                    .is_none_or(|rows| rows.iter().all(|r| r.as_array().is_none_or(Vec::is_empty)))
        },
    )
    .await;
    assert!(d.stop_bot().success());
}
