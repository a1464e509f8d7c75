//! The Telegram staff group end to end: `kicau sandbox` (X and Telegram), `kicau run`, and people
//! acting in the group through the sandbox's control endpoints. A hand-off arrives with an "Ambil
//! alih" button; a stranger's press is refused; a mapped staff member's press claims; their reply
//! to the bot's message is posted to X in the citizen's thread, HTML and all as plain text;
//! /antrian lists; /selesai closes; an emergency reaches the group at once.

use std::time::Duration;

use serde_json::{Value, json};

use crate::service::post_as;
use crate::takeover::{deployment_with_console, replies_to, staff, wait_until};

const GROUP: i64 = -1001000000001;

async fn group_messages(client: &reqwest::Client, x: &str) -> Vec<Value> {
    crate::tickets::chat(client, x, GROUP).await
}

async fn message_containing(client: &reqwest::Client, x: &str, needle: &str) -> Option<Value> {
    group_messages(client, x)
        .await
        .into_iter()
        .find(|m| m["text"].as_str().is_some_and(|t| t.contains(needle)))
}

async fn wait_message(client: &reqwest::Client, x: &str, needle: &str) -> Value {
    for _ in 0..150 {
        if let Some(m) = message_containing(client, x, needle).await {
            return m;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!(
        "no group message with {needle:?}: {:?}",
        group_messages(client, x).await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_staff_group_claims_replies_lists_and_closes_through_the_desk() {
    let (mut d, console) = deployment_with_console();
    staff(&d, &["add", "sari", "--telegram-id", "5001"]);
    d.start_bot();
    let client = reqwest::Client::new();
    let x = d.x_url.clone();
    let question = post_as(
        &client,
        &x,
        "warga9",
        "@PemkotMalang min kapan konser band luar negeri di stadion gajayana?",
    )
    .await;
    let handoff = wait_message(&client, &x, "Perlu petugas").await;
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
    let r = client
        .post(format!("{x}/sandbox/telegram/press"))
        .json(&press(777, "orang_lain"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert!(
        wait_until(Duration::from_secs(10), || async {
            let answers: Value = client
                .get(format!("{x}/sandbox/telegram/callback-answers"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            answers.to_string().contains("belum terhubung")
        })
        .await
    );

    // Sari presses: the conversation is hers, the button goes, the group is told.
    client
        .post(format!("{x}/sandbox/telegram/press"))
        .json(&press(5001, "sari"))
        .send()
        .await
        .unwrap();
    wait_message(&client, &x, "diambil alih oleh sari").await;
    assert!(
        wait_until(Duration::from_secs(10), || async {
            let m = message_containing(&client, &x, "Perlu petugas")
                .await
                .unwrap();
            m["reply_markup"].is_null()
                || m["reply_markup"]["inline_keyboard"]
                    .as_array()
                    .is_none_or(|rows| rows.iter().all(|r| r.as_array().is_none_or(Vec::is_empty)))
        })
        .await,
        "the claim button stayed"
    );

    // Her reply to the bot's message goes to X as the account, in the citizen's thread.
    client
        .post(format!("{x}/sandbox/telegram/send"))
        .json(
            &json!({"chat_id": GROUP, "from": {"id": 5001, "username": "sari"},
                      "text": "<b>Halo</b> kak, jadwalnya belum ada. Kami kabari ya.",
                      "reply_to_message_id": message_id}),
        )
        .send()
        .await
        .unwrap();
    assert!(
        wait_until(Duration::from_secs(30), || async {
            replies_to(&client, &x, &question)
                .await
                .iter()
                .any(|t| t == "@warga9 <b>Halo</b> kak, jadwalnya belum ada. Kami kabari ya.")
        })
        .await,
        "the reply from Telegram did not reach X: {}",
        d.log()
    );
    wait_message(&client, &x, "Terkirim ke @warga9").await;

    // /antrian answers in the group.
    client
        .post(format!("{x}/sandbox/telegram/send"))
        .json(&json!({"chat_id": GROUP, "from": {"id": 5001, "username": "sari"}, "text": "/antrian"}))
        .send()
        .await
        .unwrap();
    wait_message(&client, &x, "Antrean kosong").await;

    // /selesai as a reply closes it.
    client
        .post(format!("{x}/sandbox/telegram/send"))
        .json(
            &json!({"chat_id": GROUP, "from": {"id": 5001, "username": "sari"},
                      "text": "/selesai", "reply_to_message_id": message_id}),
        )
        .send()
        .await
        .unwrap();
    wait_message(&client, &x, "ditutup oleh sari").await;
    let token = staff(&d, &["token", "sari"]);
    let closed: Value = client
        .get(format!("{console}/api/conversations?state=closed"))
        .bearer_auth(token.trim())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(closed["data"][0]["citizen"], "warga9");
    let audit = closed["data"][0]["id"].as_str().unwrap().to_owned();
    let detail: Value = client
        .get(format!("{console}/api/conversations/{audit}"))
        .bearer_auth(token.trim())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        detail["data"]["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["author"] == "sari")
    );

    // An emergency reaches the group at once.
    post_as(
        &client,
        &x,
        "warga10",
        "@PemkotMalang tolong ada kebakaran rumah di jl kawi sekarang apinya gede!!",
    )
    .await;
    let alarm = wait_message(&client, &x, "DARURAT").await;
    assert!(alarm["text"].as_str().unwrap().contains("@warga10"));
    assert!(d.stop_bot().success());
}
