//! Staff take over, end to end with the real processes: `kicau sandbox`, `kicau run` with its
//! console, and `kicau staff` run while the bot holds the database. A citizen's out-of-scope
//! question is handed off, claimed through the API, answered by a person in the thread; the bot
//! stays silent in that conversation until it is released.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{Deployment, quiet_period};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_take_over_reply_in_the_thread_and_the_bot_stays_silent_until_released() {
    let mut d = Deployment::start().await;
    d.start_bot().await;
    let x = d.sandbox();

    // Accounts are made while the bot runs on the same database.
    let added = d.staff(&["add", "sari", "--role", "staff"]);
    assert!(added.contains("sari"), "{added}");
    let token = d.staff(&["token", "sari"]);
    let token = token.trim();
    assert_eq!(token.lines().count(), 1);
    let other = d.staff(&["token", "sari"]);
    assert_ne!(other.trim(), token, "each token is new");

    let question = x
        .post_as(
            "warga7",
            "@PemkotMalang min kapan jadwal konser band luar negeri di stadion gajayana tahun depan?",
        )
        .await;
    d.wait_until(Duration::from_secs(30), "the hand-off line", || async {
        x.replies_to(&question).await.len() == 1
    })
    .await;

    // The console's API lists it as waiting.
    let api = d.api(token);
    let conversation = d
        .wait_for(
            Duration::from_secs(10),
            "warga7's conversation waiting for staff",
            || async {
                let listed = api.get("/api/conversations?state=waiting_staff").await;
                listed["data"]
                    .as_array()?
                    .iter()
                    .find(|c| c["citizen"] == "warga7")
                    .map(|c| c["id"].as_str().unwrap().to_owned())
            },
        )
        .await;
    let (status, _) = api
        .post(&format!("/api/conversations/{conversation}/claim"), None)
        .await;
    assert_eq!(status, 200);
    let reply = json!({"text": "Halo kak, jadwal konser di stadion belum kami terima. Kami kabari lewat akun ini ya."});
    let (status, _) = api
        .post(
            &format!("/api/conversations/{conversation}/reply"),
            Some(reply),
        )
        .await;
    assert_eq!(status, 202);
    d.wait_until(
        Duration::from_secs(30),
        "the staff reply in the thread",
        || async { x.replies_to(&question).await.len() == 2 },
    )
    .await;
    let thread = x.replies_to(&question).await;
    assert!(
        thread[1].starts_with("@warga7 Halo kak, jadwal konser"),
        "{thread:?}"
    );

    // The citizen asks something the bot could answer: it joins the held conversation, and the
    // bot says nothing.
    let follow_up = x
        .post_as(
            "warga7",
            "@PemkotMalang oke min, terus syarat bikin kk baru apa aja?",
        )
        .await;
    d.wait_until(
        Duration::from_secs(20),
        "the follow-up to join the held conversation",
        || async {
            let detail: Value = api.get(&format!("/api/conversations/{conversation}")).await;
            detail["data"]["messages"]
                .as_array()
                .is_some_and(|m| m.iter().any(|m| m["tweet_id"] == follow_up.as_str()))
        },
    )
    .await;
    quiet_period(
        Duration::from_secs(2),
        "a reply queued with the follow-up's decision would have reached the thread by now",
    )
    .await;
    assert!(
        x.replies_to(&follow_up).await.is_empty(),
        "the bot replied while a person held the conversation"
    );

    // Released, the bot answers again.
    let (status, _) = api
        .post(&format!("/api/conversations/{conversation}/release"), None)
        .await;
    assert_eq!(status, 200);
    let again = x
        .post_as(
            "warga7",
            "@PemkotMalang min syarat bikin kk baru apa aja ya?",
        )
        .await;
    d.wait_until(
        Duration::from_secs(30),
        "the bot's answer after the release",
        || async { x.replies_to(&again).await.len() == 1 },
    )
    .await;
    // Nothing was posted twice anywhere.
    let counts = x.reply_counts().await;
    assert!(counts.values().all(|n| *n <= 2), "{counts:?}");
    assert!(d.stop_bot().success());
}
