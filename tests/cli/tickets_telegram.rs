//! A complaint to an agency on Telegram, end to end with the real processes: a pothole without a
//! place, the bot asks, the citizen answers in the thread, the ticket reaches the DPUPRPKP chat
//! with its photo, the agency presses Diterima then Selesai and writes a note, and the citizen's
//! thread gets exactly one tweet per step; "cek laporan" answers with the status; the tickets API
//! and the Open311 export show the same.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{Deployment, quiet_period};

const DPUPRPKP: i64 = -1002000000001;

fn buttons(message: &Value) -> Vec<String> {
    message["reply_markup"]["inline_keyboard"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row.as_array().cloned().unwrap_or_default())
        .map(|b| b["text"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pothole_becomes_a_ticket_and_each_step_reaches_the_citizen_once() {
    let mut d = Deployment::start().await;
    d.start_bot().await;
    let x = d.sandbox();

    // With a photo attached (the sandbox's sample photos).
    let complaint = x
        .tweet_as(
            "warga11",
            json!({"text": "@PemkotMalang min jalan depan rumah berlubang besar, bahaya buat motor",
                   "media": {"media_ids": ["1864700000000000001"]}}),
        )
        .await;
    d.wait_until(
        Duration::from_secs(30),
        "a question about the place",
        || async { x.replies_to(&complaint).await.len() == 1 },
    )
    .await;
    let ask = x.replies_to(&complaint).await;
    assert_eq!(
        ask[0],
        "@warga11 Boleh info lokasi lengkapnya: nama jalan, kelurahan?"
    );

    // The citizen answers in the thread, under the bot's question.
    let question = x.account_tweets().await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let answer = x
        .reply_as(
            "warga11",
            &question,
            "@PemkotMalang di jl danau toba sawojajar min",
        )
        .await;

    // The ticket reaches the DPUPRPKP chat with its buttons, and the citizen gets the number.
    d.wait_until(
        Duration::from_secs(30),
        "the ticket in the agency's chat",
        || async { !x.telegram_chat(DPUPRPKP).await.is_empty() },
    )
    .await;
    let ticket = x.telegram_chat(DPUPRPKP).await[0].clone();
    let text = ticket["text"].as_str().unwrap().to_owned();
    assert!(text.contains("Jl. Danau Toba, Sawojajar"), "{text}");
    assert!(text.contains("berlubang besar"), "{text}");
    assert!(text.contains("@warga11"), "{text}");
    assert!(text.contains("Foto: https://"), "the photo's URL: {text}");
    assert_eq!(
        buttons(&ticket),
        ["Diterima", "Diproses", "Selesai", "Bukan wewenang"]
    );
    let number = kicau::tickets::number_in(&text).unwrap();
    d.wait_until(
        Duration::from_secs(30),
        "the ticket's number for the citizen",
        || async { x.replies_to(&answer).await.len() == 1 },
    )
    .await;
    assert!(x.replies_to(&answer).await[0].contains(&number));

    // The agency presses Diterima, then Selesai.
    let message_id = ticket["message_id"].as_i64().unwrap();
    let press = |state: &str| {
        json!({"chat_id": DPUPRPKP, "message_id": message_id,
               "from": {"id": 9001, "username": "petugas_pu"},
               "data": format!("t:{number}:{state}")})
    };
    x.control("/sandbox/telegram/press", press("acknowledged"))
        .await;
    d.wait_until(Duration::from_secs(30), "the 'diterima' tweet", || async {
        x.replies_to(&answer).await.len() == 2
    })
    .await;
    d.wait_until(
        Duration::from_secs(10),
        "the next steps on the agency's message",
        || async {
            buttons(&x.telegram_chat(DPUPRPKP).await[0])
                == ["Diproses", "Selesai", "Bukan wewenang"]
        },
    )
    .await;
    x.control("/sandbox/telegram/press", press("resolved"))
        .await;
    d.wait_until(Duration::from_secs(30), "the 'selesai' tweet", || async {
        x.replies_to(&answer).await.len() == 3
    })
    .await;
    let steps = x.replies_to(&answer).await;
    assert!(
        steps[0].contains(&number) && steps[0].contains("DPUPRPKP"),
        "{steps:?}"
    );
    assert!(steps[1].contains("sudah diterima DPUPRPKP"), "{steps:?}");
    assert!(steps[2].contains("sudah selesai"), "{steps:?}");
    // A press on a finished ticket changes nothing and posts nothing.
    x.control("/sandbox/telegram/press", press("resolved"))
        .await;
    quiet_period(
        Duration::from_secs(2),
        "a tweet for the second press on a finished ticket would be out by now",
    )
    .await;
    assert_eq!(x.replies_to(&answer).await.len(), 3);
    assert_eq!(x.replies_to(&complaint).await.len(), 1);

    // An agency member's reply to the ticket's message reaches the citizen, without the phone
    // number in it.
    x.control(
        "/sandbox/telegram/send",
        json!({"chat_id": DPUPRPKP, "from": {"id": 9001, "username": "petugas_pu"},
               "text": "Sudah ditambal tadi siang. Info: 081234567890",
               "reply_to_message_id": message_id}),
    )
    .await;
    d.wait_until(
        Duration::from_secs(30),
        "the agency's note for the citizen",
        || async { x.replies_to(&answer).await.len() == 4 },
    )
    .await;
    let note = &x.replies_to(&answer).await[3];
    assert!(note.contains("Kabar dari DPUPRPKP untuk laporan"), "{note}");
    assert!(note.contains("Sudah ditambal tadi siang"), "{note}");
    assert!(!note.contains("081234567890"), "{note}");

    // "cek laporan" answers with the status.
    let check = x
        .post_as("warga12", &format!("@PemkotMalang cek laporan {number}"))
        .await;
    d.wait_until(
        Duration::from_secs(30),
        "the status in answer to 'cek laporan'",
        || async {
            x.replies_to(&check)
                .await
                .first()
                .is_some_and(|t| t.contains("status selesai"))
        },
    )
    .await;

    // The tickets API: the documented shape, and the history of each step.
    d.staff(&["add", "kepala", "--role", "admin"]);
    let token = d.staff(&["token", "kepala"]);
    let api = d.api(&token);
    let listed = api.get("/api/tickets?agency=dpuprpkp&state=resolved").await;
    let first = &listed["data"][0];
    assert_eq!(first["number"], number.as_str());
    assert_eq!(first["agency"], "dpuprpkp");
    assert_eq!(first["state"], "resolved");
    assert_eq!(first["location"], "Jl. Danau Toba, Sawojajar");
    assert_eq!(first["reporter"], "warga11");
    assert_eq!(first["photos"].as_array().unwrap().len(), 1, "{first}");
    assert_eq!(first["tweet_id"], answer.as_str());
    assert!(first["due"]["acknowledge"].as_str().unwrap().ends_with('Z'));
    assert_eq!(first["delivery"]["channel"], "telegram");
    assert_eq!(first["delivery"]["chat_id"], DPUPRPKP);
    assert_eq!(first["delivery"]["message_id"], message_id);
    let one = api.get(&format!("/api/tickets/{number}")).await;
    let states: Vec<&str> = one["data"]["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["open", "acknowledged", "resolved", "resolved"]);
    assert_eq!(one["data"]["history"][3]["by"], "DPUPRPKP (@petugas_pu)");
    assert_eq!(one["data"]["history"][1]["by"], "DPUPRPKP (@petugas_pu)");
    // The Open311 GeoReport v2 export.
    let export = api.get("/api/open311/requests.json?agency=dpuprpkp").await;
    let request = &export[0];
    assert_eq!(request["service_request_id"], number.as_str());
    assert_eq!(request["status"], "closed");
    assert_eq!(request["address"], "Jl. Danau Toba, Sawojajar");
    assert!(
        request["status_notes"]
            .as_str()
            .unwrap()
            .contains("Sudah ditambal")
    );
    assert!(
        request["agency_responsible"]
            .as_str()
            .unwrap()
            .starts_with("Dinas Pekerjaan Umum")
    );
    assert!(
        request["media_url"]
            .as_str()
            .unwrap()
            .starts_with("https://")
    );
    assert!(d.stop_bot().success());
}
