//! The learning loop in a running bot: a correction staff make is reviewed by an admin and,
//! once accepted, changes the bot's decision on that text without a restart; an edited example
//! file does the same through the reload; a broken file keeps the running engine and shows its
//! error with `file:line`.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{Deployment, repo};

/// How long a reload may take: a new model is trained (seconds in a release build, tens of
/// seconds in the tests' build while other tests run beside it).
const RELOAD: Duration = Duration::from_secs(300);

fn decided(v: &Value) -> String {
    let d = &v["decision"];
    match d["kind"].as_str().unwrap() {
        "answer" => format!("answer {}", d["topic"].as_str().unwrap()),
        "report" => format!("report {}", d["agency"].as_str().unwrap()),
        kind => kind.to_owned(),
    }
}

fn ask_path(text: &str) -> String {
    format!(
        "/api/ask?text={}",
        kicau::channels::x::oauth1::percent_encode(text)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accepted_correction_changes_the_running_bots_decision_on_that_text() {
    let mut d = Deployment::start().await;
    d.start_bot().await;
    let x = d.sandbox();
    d.staff(&["add", "sari", "--role", "staff"]);
    d.staff(&["add", "kepala", "--role", "admin"]);
    let sari = d.api(&d.staff(&["token", "sari"]));
    let admin = d.api(&d.staff(&["token", "kepala"]));

    // A question the bot does not answer by itself; NIK written in public.
    let text = "min kalo mau pasang spanduk acara 17an di gang perlu izin ke siapa ya, NIK 3573012345678901";
    let tweet = x.post_as("warga21", &format!("@PemkotMalang {text}")).await;
    let before = sari.get(&ask_path(text)).await;
    assert_ne!(decided(&before), "answer izin-usaha", "{before}");
    assert!(
        before["decision"]["evidence"]["labels"].is_array(),
        "{before}"
    );
    assert!(
        before["decision"]["evidence"]["weighed"].is_array(),
        "{before}"
    );
    let conversation = d
        .wait_for(
            Duration::from_secs(30),
            "warga21's conversation",
            || async {
                let listed = sari.get("/api/conversations").await;
                listed["data"]
                    .as_array()?
                    .iter()
                    .find(|c| c["citizen"] == "warga21")
                    .map(|c| c["id"].as_str().unwrap().to_owned())
            },
        )
        .await;

    // Staff say what the right decision was; it waits for an admin, personal data removed.
    let path = format!("/api/conversations/{conversation}/corrections");
    let (status, body) = sari
        .post(
            &path,
            Some(json!({"tweet_id": tweet, "label": "answer nosuchtopic"})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = sari
        .post(
            &path,
            Some(json!({"tweet_id": tweet, "label": "answer izin-usaha"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let correction = body["data"]["id"].as_i64().unwrap();
    assert_eq!(body["data"]["state"], "pending");
    let stored = body["data"]["text"].as_str().unwrap();
    assert!(!stored.contains("3573012345678901"), "{stored}");
    assert!(!stored.contains("@PemkotMalang"), "{stored}");
    let pending = sari.get("/api/corrections").await;
    assert!(
        pending["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == correction),
        "{pending}"
    );

    // Only an admin reviews it; until then nothing changes.
    let review = format!("/api/corrections/{correction}/accept");
    let (status, _) = sari.post(&review, None).await;
    assert_eq!(status, 403);
    assert_eq!(decided(&sari.get(&ask_path(text)).await), decided(&before));
    let (status, body) = admin.post(&review, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["state"], "accepted");
    let (status, _) = admin.post(&review, None).await;
    assert_eq!(status, 409, "reviewed once");

    // The running bot learns it, without a restart.
    d.wait_until(RELOAD, "the corrected decision", || async {
        decided(&sari.get(&ask_path(text)).await) == "answer izin-usaha"
    })
    .await;
    // The exact text, personal data and all, is remembered, whatever the retrained model says.
    let after = sari.get(&ask_path(text)).await;
    assert_eq!(after["decision"]["rule"], "example", "{after}");
    let engine = sari.get("/api/engine").await;
    assert_eq!(engine["data"]["model"]["corrections"], 1, "{engine}");
    assert!(engine["data"]["error"].is_null(), "{engine}");

    // The office lead's report counts it against the bot's decisions of that kind.
    let kind = d
        .wait_for(
            Duration::from_secs(10),
            "the tweet's recorded decision",
            || async {
                let detail = sari
                    .get(&format!("/api/conversations/{conversation}"))
                    .await;
                detail["data"]["decisions"][0]["kind"]
                    .as_str()
                    .map(str::to_owned)
            },
        )
        .await;
    let report = sari.get("/api/report?days=1").await;
    let share = &report["data"]["corrected"][kind.as_str()];
    assert_eq!(share["corrected"], 1, "{report}");
    assert!(share["decided"].as_i64().unwrap() >= 1, "{report}");

    // A staff reply to a hand-off that repeats a knowledge entry suggests that entry.
    let handed = x
        .post_as(
            "warga22",
            "@PemkotMalang permisi, mau tanya soal urusan anak saya yang baru 17 tahun",
        )
        .await;
    let other = d
        .wait_for(
            Duration::from_secs(30),
            "warga22's conversation",
            || async {
                let listed = sari.get("/api/conversations?state=waiting_staff").await;
                listed["data"]
                    .as_array()?
                    .iter()
                    .find(|c| c["citizen"] == "warga22")
                    .map(|c| c["id"].as_str().unwrap().to_owned())
            },
        )
        .await;
    let entry = sari.get("/api/knowledge?q=ktp%20baru").await;
    let entry = entry["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == "ktp-baru")
        .unwrap()["answer"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = sari
        .post(&format!("/api/conversations/{other}/claim"), None)
        .await;
    assert_eq!(status, 200);
    let (status, body) = sari
        .post(
            &format!("/api/conversations/{other}/reply"),
            Some(json!({ "text": entry })),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let suggested = sari.get("/api/corrections").await;
    let suggestion = suggested["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["tweet_id"] == handed.as_str())
        .unwrap_or_else(|| {
            let log = d.log();
            let tail: Vec<&str> = log.lines().rev().take(30).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            panic!(
                "no suggestion in {suggested}; the bot's log ends:\n{}",
                tail.join("\n")
            )
        });
    assert_eq!(suggestion["label"], "answer ktp-baru");
    assert_eq!(suggestion["state"], "pending");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edited_example_file_reloads_and_a_broken_one_keeps_the_running_engine() {
    // The bot reads its own copy of the knowledge base, which the test edits.
    let knowledge = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("knowledge"), knowledge.path());
    let dir = knowledge.path().display().to_string();
    let mut d = Deployment::start_with(|config| {
        config
            .set("knowledge.dir", dir.as_str())
            .set("knowledge.lexicon_dir", format!("{dir}/lexicon"));
    })
    .await;
    d.start_bot().await;
    d.staff(&["add", "sari", "--role", "staff"]);
    let sari = d.api(&d.staff(&["token", "sari"]));

    let text = "rek jadwal senam lansia nang balai rw 4 bunulrejo iku dina opo yo";
    let before = decided(&sari.get(&ask_path(text)).await);
    assert_ne!(before, "answer puskesmas");
    let examples = knowledge.path().join("examples/topics/puskesmas.txt");
    let mut lines = std::fs::read_to_string(&examples).unwrap();
    lines.push_str(&format!("{text}\n"));
    std::fs::write(&examples, lines).unwrap();
    d.wait_until(RELOAD, "the edited examples in the running bot", || async {
        decided(&sari.get(&ask_path(text)).await) == "answer puskesmas"
    })
    .await;

    // A line with an unknown label: the running engine stays, the error names file and line.
    let lookalikes = knowledge.path().join("examples/lookalikes.txt");
    let mut content = std::fs::read_to_string(&lookalikes).unwrap();
    let line = content.lines().count() + 1;
    content.push_str("jawab sesukanya: teks dengan label yang tidak ada\n");
    std::fs::write(&lookalikes, content).unwrap();
    let error = d
        .wait_for(RELOAD, "the failed reload's error", || async {
            let engine = sari.get("/api/engine").await;
            engine["data"]["error"].as_str().map(str::to_owned)
        })
        .await;
    assert!(error.contains(&format!("lookalikes.txt:{line}")), "{error}");
    assert_eq!(
        decided(&sari.get(&ask_path(text)).await),
        "answer puskesmas",
        "the previous engine still serves"
    );
    assert!(d.log().contains(&format!("lookalikes.txt:{line}")));
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
