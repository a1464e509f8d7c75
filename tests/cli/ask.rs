//! `kicau ask`: the decision, its evidence and the exact reply, on the shipped knowledge base.

use crate::helpers::{kicau, repo, stderr, stdout};

fn ask(text: &str) -> serde_json::Value {
    let output = kicau(
        &repo().join("bot.toml"),
        &["ask", "--json", "--from", "warga1", text],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    serde_json::from_str(&stdout(&output)).expect("ask --json prints JSON")
}

#[test]
fn a_question_the_base_covers_is_answered_with_its_short_answer() {
    let v = ask("@PemkotMalang min gmn cara bikin ktp, umurku baru 17");
    assert_eq!(v["decision"]["kind"], "answer");
    assert_eq!(v["decision"]["topic"], "ktp-baru");
    let reply = v["reply"].as_str().unwrap();
    assert!(reply.starts_with("@warga1 Halo kak, "), "{reply}");
    // The shipped `[x] links_in_replies = "on_request"`: no link was asked for, so the answer
    // names the official channel instead of linking it (a post with a URL costs 20 times more).
    assert_eq!(v["decision"]["evidence"]["link_requested"], false);
    assert!(kicau::tweet::urls(reply).is_empty(), "{reply}");
    assert!(reply.contains("situs Dispendukcapil"), "{reply}");
    assert!(kicau::tweet::weighted_length(reply) <= 280);
}

#[test]
fn a_question_asking_for_the_link_gets_it() {
    let v = ask("@PemkotMalang min gmn cara bikin ktp, umurku baru 17. website nya apa?");
    assert_eq!(v["decision"]["kind"], "answer");
    assert_eq!(v["decision"]["topic"], "ktp-baru");
    assert_eq!(v["decision"]["evidence"]["link_requested"], true);
    let reply = v["reply"].as_str().unwrap();
    assert!(
        reply.contains("https://dispendukcapil.malangkota.go.id"),
        "an answer to a request for the link carries it: {reply}"
    );
}

#[test]
fn an_emergency_reply_gives_112_in_its_first_words() {
    let v = ask("@PemkotMalang tolong ada kebakaran rumah di jl kawi sekarang apinya gede!!");
    assert_eq!(v["decision"]["kind"], "emergency");
    let reply = v["reply"].as_str().unwrap();
    let first: Vec<&str> = reply
        .split_whitespace()
        .take(4)
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
        .collect();
    assert!(first.contains(&"112"), "{reply}");
}

#[test]
fn a_medical_emergency_also_gives_119() {
    let v = ask("@PemkotMalang tolong bapak saya pingsan tidak sadarkan diri di jalan ijen");
    assert_eq!(v["decision"]["kind"], "emergency");
    let reply = v["reply"].as_str().unwrap();
    let head: String = reply
        .split_whitespace()
        .take(7)
        .collect::<Vec<_>>()
        .join(" ");
    assert!(head.contains("112") && head.contains("119"), "{reply}");
}

#[test]
fn a_look_alike_that_is_not_urgent_is_not_an_emergency() {
    for text in [
        "min nomor damkar malang berapa ya? buat jaga-jaga",
        "kemarin ada kebakaran di pasar, sekarang sudah padam, ada info bantuan?",
        "kalau ada banjir masuk rumah harus ngapain ya min?",
        "kejebak macet parah di jalan soekarno hatta tiap sore",
    ] {
        assert_ne!(ask(text)["decision"]["kind"], "emergency", "{text}");
    }
}

#[test]
fn a_complaint_names_the_agency_that_receives_it() {
    let v = ask(
        "@PemkotMalang lampu PJU di jalan tidar mati semua seminggu, gelap banget tolong diperbaiki",
    );
    assert_eq!(v["decision"]["kind"], "report");
    assert_eq!(v["decision"]["agency"], "dpuprpkp");
    let reply = v["reply"].as_str().unwrap();
    assert!(reply.contains("DPUPRPKP"), "{reply}");
}

#[test]
fn an_out_of_scope_question_is_handed_off_honestly() {
    let v = ask("@PemkotMalang min pemkot ada beasiswa kuliah buat mahasiswa gak mampu?");
    assert_eq!(v["decision"]["kind"], "handoff");
    let reply = v["reply"].as_str().unwrap();
    assert!(reply.contains("petugas"), "{reply}");
}

#[test]
fn asking_for_a_person_is_a_handoff() {
    for text in [
        "min aku mau bicara dengan petugas",
        "bisa sambungkan ke petugas? bukan bot",
    ] {
        assert_eq!(ask(text)["decision"]["kind"], "handoff", "{text}");
    }
}

#[test]
fn spam_insults_and_empty_mentions_get_no_reply() {
    for text in [
        "@PemkotMalang jual followers murah cek bio",
        "@PemkotMalang goblok",
        "@PemkotMalang",
    ] {
        let v = ask(text);
        assert_eq!(v["decision"]["kind"], "ignore", "{text}");
        assert!(v["reply"].is_null(), "{text}");
    }
}

#[test]
fn personal_data_never_reaches_the_reply_or_the_evidence() {
    let nik = "3573042103990002";
    let phone = "081234567890";
    let text = format!("@PemkotMalang ktp ku ilang, NIK {nik}, hp {phone}. gimana ngurusnya?");
    let output = kicau(&repo().join("bot.toml"), &["ask", "--json", &text]);
    let out = stdout(&output) + &stderr(&output);
    assert!(!out.contains(nik) && !out.contains(phone), "{out}");
    // Where the reply has room, it asks the citizen not to post such data in public.
    let v = ask(&format!(
        "NIK saya {nik}, mohon dicek apakah saya terdaftar penerima BLT"
    ));
    assert_eq!(v["decision"]["kind"], "handoff");
    let reply = v["reply"].as_str().unwrap();
    assert!(reply.contains("jangan menulis NIK"), "{reply}");
    assert!(!reply.contains(nik));
}

#[test]
fn the_readable_output_shows_decision_evidence_and_reply() {
    let output = kicau(
        &repo().join("bot.toml"),
        &["ask", "@PemkotMalang syarat bikin kk baru apa aja?"],
    );
    let text = stdout(&output);
    for part in [
        "decision: answer",
        "topic:    kk",
        "rule:     model_answer",
        "model answer kk",
        "weighed:  ",
        "entry kk",
        "reply (",
    ] {
        assert!(text.contains(part), "missing {part:?} in\n{text}");
    }
}
