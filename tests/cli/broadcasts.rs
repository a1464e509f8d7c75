//! Emergency broadcasts (`knowledge/broadcasts/`): the shipped ones pass `kicau kb check` and,
//! filled with realistic values, fit in three tweets; `kb check` names each problem with its
//! `file:line`; the knowledge base never reads them as entries; the running bot's reload picks up
//! an edit and keeps the previous set when a file is broken.

use std::collections::BTreeMap;
use std::time::Duration;

use kicau::desk::Desk;
use kicau::knowledge::broadcasts::{self, Broadcast, HAZARDS, MAX_PARTS};

use crate::helpers::{
    KnowledgeFixture, kicau, live_on_a_copy, repo, sqlite, stderr, stdout, wait_for, wait_until,
};

/// Values staff could type in a real emergency, longer than most.
fn realistic(broadcast: &Broadcast) -> BTreeMap<String, String> {
    let value = |name: &str| match name {
        "tempat" => {
            "Perumahan Griya Shanta dan sekitarnya, Kelurahan Mojolangu, Kecamatan Lowokwaru"
        }
        "waktu" => "Minggu, 1 Maret 2026 mulai pukul 19.45 WIB",
        "posko" => {
            "Gedung Serbaguna Kelurahan Mojolangu dan Masjid Al-Ikhlas (dapur umum tersedia)"
        }
        "kontak" => "Ngalam Command Center 112 atau petugas kelurahan setempat",
        "keterangan" => {
            "Genangan sudah surut dan jalan kembali bisa dilalui; petugas masih membersihkan \
             lumpur di beberapa gang."
        }
        other => panic!("no realistic value for {{{other}}}"),
    };
    broadcast
        .placeholders
        .iter()
        .map(|name| (name.clone(), value(name).to_owned()))
        .collect()
}

#[test]
fn the_shipped_broadcasts_pass_kb_check_and_fill_within_three_tweets() {
    let output = kicau(&repo().join("bot.toml"), &["kb", "check"]);
    let printed = stdout(&output);
    assert!(output.status.success(), "{printed}");
    assert!(
        !printed
            .lines()
            .any(|l| l.contains("broadcasts/") && l.contains(": error:")),
        "{printed}"
    );
    let shipped = broadcasts::load(&repo().join("knowledge").join(broadcasts::FOLDER)).unwrap();
    assert!(
        stderr(&output).contains(&format!("{} broadcasts, 0 error(s)", shipped.len())),
        "{}",
        stderr(&output)
    );
    for hazard in HAZARDS {
        assert!(
            shipped.iter().any(|b| b.hazard == hazard),
            "no broadcast for {hazard}"
        );
    }
    let today = kicau::knowledge::today();
    for broadcast in &shipped {
        let problems = broadcasts::check(std::slice::from_ref(broadcast), today);
        assert!(
            problems
                .iter()
                .all(|p| p.severity == kicau::knowledge::Severity::Warning),
            "{problems:?}"
        );
        let text = broadcast
            .fill(&realistic(broadcast))
            .unwrap_or_else(|e| panic!("{}: {e}", broadcast.id));
        assert!(!text.contains(['{', '}']), "{text}");
        // Posted as a reply to a citizen with the longest handle X allows, or on its own.
        let splitter = kicau::tweet::Splitter::new("PemkotMalang", MAX_PARTS);
        let tweets = splitter.split("abcdefghijklmno", &text).unwrap();
        eprintln!("{}: {} tweet(s)", broadcast.id, tweets.len());
        assert!(
            tweets.iter().all(|t| kicau::tweet::is_valid(t)),
            "{tweets:?}"
        );
    }
}

/// The shipped texts state no number but the VERIFIED service numbers of
/// ../shared/reference/malang-facts.md §4.2 and §5.8 (112 free and 24 hours, ambulance 119, PLN
/// 123): any other would be a fact nobody checked.
#[test]
fn the_shipped_broadcasts_state_only_the_verified_service_numbers() {
    let shipped = broadcasts::load(&repo().join("knowledge").join(broadcasts::FOLDER)).unwrap();
    for broadcast in &shipped {
        let numbers: Vec<&str> = broadcast
            .text
            .split(|c: char| !c.is_ascii_digit())
            .filter(|n| !n.is_empty())
            .collect();
        for number in numbers {
            assert!(
                ["112", "119", "123", "24"].contains(&number),
                "{}: {number}",
                broadcast.id
            );
        }
    }
}

/// Today in WIB, as `kb check` reads the calendar: the fixtures' review date, so that they stay
/// free of warnings whenever the tests run.
fn today() -> String {
    kicau::knowledge::today().to_string()
}

/// A valid broadcast, reviewed today; tests replace parts of it.
fn broadcast(id: &str) -> String {
    let today = today();
    format!(
        "+++\n\
         id = \"{id}\"\n\
         title = \"Peringatan banjir\"\n\
         hazard = \"banjir\"\n\
         reviewed = {today}\n\
         review_every_days = 365\n\
         placeholders = [\"tempat\", \"waktu\"]\n\
         +++\n\
         BANJIR di {{tempat}} ({{waktu}}).\n\
         Segera pindah ke tempat yang lebih tinggi. Darurat: 112.\n"
    )
}

#[test]
fn broadcasts_beside_the_entries_are_checked_and_never_read_as_entries() {
    let fixture = KnowledgeFixture::new(&[
        ("layanan/kk.md", &entry()),
        ("broadcasts/banjir.md", &broadcast("banjir")),
        (
            "broadcasts/README.md",
            "# Pesan kunci\n\nNot a broadcast.\n",
        ),
    ]);
    let output = kicau(&fixture.config(), &["kb", "check"]);
    assert!(output.status.success(), "{}", stdout(&output));
    assert_eq!(stdout(&output), "");
    assert!(
        stderr(&output).contains("1 entries, 0 saved replies, 1 broadcasts, 0 error(s)"),
        "{}",
        stderr(&output)
    );
    let loaded = kicau::knowledge::load(&fixture.dir.path().join("kb")).unwrap();
    assert_eq!(loaded.entries.len(), 1);
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
}

#[test]
fn bad_broadcasts_name_file_and_line() {
    let long = "Ikuti arahan petugas di lapangan dan tetap tenang. ".repeat(14);
    let fixture = KnowledgeFixture::new(&[
        ("layanan/kk.md", &entry()),
        ("broadcasts/a.md", &broadcast("banjir")),
        ("broadcasts/b.md", &broadcast("banjir")),
        ("broadcasts/tanpa.md", "BANJIR di {tempat}.\n"),
        (
            "broadcasts/rusak.md",
            &broadcast("rusak").replace("hazard = \"banjir\"", "hazard = banjir"),
        ),
        (
            "broadcasts/isian.md",
            &broadcast("isian")
                .replace("({waktu})", "({lokasi})")
                .replace("Darurat: 112.", "Posko: {posko}."),
        ),
        (
            "broadcasts/masa-depan.md",
            &broadcast("masa-depan").replace(&today(), "2099-01-01"),
        ),
        (
            "broadcasts/tanggal.md",
            &broadcast("tanggal").replace(&today(), "\"kemarin\""),
        ),
        (
            "broadcasts/panjang.md",
            &broadcast("panjang").replace("Darurat: 112.", &long),
        ),
        (
            "broadcasts/hp.md",
            &broadcast("hp").replace("Darurat: 112.", "Hubungi 0812-3456-7890."),
        ),
        ("broadcasts/catatan.txt", "bukan pesan\n"),
    ]);
    let (ok, output) = fixture.check(&[]);
    assert!(!ok, "{output}");
    let at = |name: &str, line: usize| {
        format!(
            "{}:{line}: error: ",
            fixture.path(&format!("broadcasts/{name}"))
        )
    };
    for (name, line, message) in [
        (
            "b.md",
            2,
            format!(
                "duplicate id \"banjir\": already used by {}:2",
                fixture.path("broadcasts/a.md")
            ),
        ),
        (
            "tanpa.md",
            1,
            "the file must start with a `+++` line that opens the front matter".into(),
        ),
        (
            "isian.md",
            9,
            "unknown placeholder {lokasi}: use one of {tempat}, {waktu}, {posko}, {kontak}, \
             {keterangan}"
                .into(),
        ),
        (
            "isian.md",
            10,
            "{posko} is not in `placeholders`: add \"posko\" to the list".into(),
        ),
        (
            "isian.md",
            7,
            "\"waktu\" is in `placeholders` but the text never uses {waktu}: remove it".into(),
        ),
        (
            "masa-depan.md",
            5,
            "reviewed 2099-01-01 is in the future: write the date the text was last checked".into(),
        ),
        (
            "tanggal.md",
            5,
            "reviewed must be a date such as 2026-12-01 (no quotes, no time)".into(),
        ),
        (
            "hp.md",
            10,
            "the text holds a phone number: personal data never goes into a broadcast".into(),
        ),
        (
            "catatan.txt",
            1,
            "not a broadcast: broadcasts are .md files".into(),
        ),
    ] {
        let expected = format!("{}{message}", at(name, line));
        assert!(
            output.lines().any(|l| l == expected),
            "expected the line\n  {expected}\nin\n{output}"
        );
    }
    assert!(
        output
            .lines()
            .any(|l| l.starts_with(&format!("{}front matter:", at("rusak.md", 4)))),
        "{output}"
    );
    assert!(
        output.lines().any(|l| l.starts_with(&at("panjang.md", 9))
            && l.contains("filled with the example values, the text becomes")
            && l.ends_with("a broadcast is at most 3: shorten it")),
        "{output}"
    );
    // The personal data itself is not repeated in the report.
    assert!(!output.contains("0812-3456-7890"), "{output}");
}

#[test]
fn an_overdue_review_is_a_warning_and_fails_only_with_strict() {
    let old = broadcast("banjir")
        .replace(&today(), "2020-01-05")
        .replace("= 365", "= 30");
    let fixture =
        KnowledgeFixture::new(&[("layanan/kk.md", &entry()), ("broadcasts/banjir.md", &old)]);
    let (ok, output) = fixture.check(&[]);
    assert!(ok, "{output}");
    assert_eq!(
        output.trim_end(),
        format!(
            "{}:5: warning: review overdue since 2020-02-04: last reviewed on 2020-01-05, every \
             30 days; check the text and its advice, then update `reviewed`",
            fixture.path("broadcasts/banjir.md")
        )
    );
    let (ok, _) = fixture.check(&["--strict"]);
    assert!(!ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_takes_an_edited_broadcast_and_a_broken_file_keeps_the_previous_set() {
    // The running engine reads its own copy of the knowledge base, which the test edits.
    let (knowledge, config, live) = live_on_a_copy().await;
    let titles = || -> Vec<String> {
        let engine = live.get();
        engine
            .broadcasts()
            .iter()
            .map(|b| b.title.clone())
            .collect()
    };
    assert!(titles().contains(&"Peringatan banjir".to_owned()));
    let (store, _db) = sqlite().await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let watcher = tokio::spawn(kicau::run::reload::watch(
        config.clone(),
        Desk::new(store.clone()),
        live.clone(),
        stopped,
    ));
    let within = Duration::from_secs(180);

    let folder = knowledge.path().join(broadcasts::FOLDER);
    let banjir = folder.join("banjir.md");
    let edited = std::fs::read_to_string(&banjir).unwrap().replace(
        "title = \"Peringatan banjir\"",
        "title = \"Peringatan dini banjir\"",
    );
    std::fs::write(&banjir, edited).unwrap();
    live.request_reload();
    wait_until(within, "the edited title after the reload", || async {
        titles().contains(&"Peringatan dini banjir".to_owned())
    })
    .await;
    let before = titles();
    let generation = live.status().generation;

    // A broken file, seen by the watcher: the reload fails with its file and line, and the
    // previous set stays.
    let broken = folder.join("rusak.md");
    std::fs::write(&broken, broadcast("rusak").replace("{waktu}", "{jam}")).unwrap();
    let error = wait_for(within, "the failed reload's error", || async {
        live.status().error
    })
    .await;
    assert!(
        error.contains(&format!("{}:9", broken.display())),
        "{error}"
    );
    assert!(error.contains("unknown placeholder {jam}"), "{error}");
    assert_eq!(titles(), before);
    assert_eq!(live.status().generation, generation);

    stop.send(true).unwrap();
    watcher.await.unwrap();
    store.close().await;
}

/// A valid entry, reviewed today, so that the fixture's knowledge base is not empty.
fn entry() -> String {
    let today = today();
    format!(
        "+++\n\
         id = \"kk\"\n\
         title = \"Kartu Keluarga\"\n\
         category = \"layanan\"\n\
         agency = \"dispendukcapil\"\n\
         questions = [\"gmn cara bikin kk baru?\"]\n\
         keywords = [\"kk\", \"kartu keluarga\"]\n\
         links = [\"https://dispendukcapil.malangkota.go.id\"]\n\
         reviewed = {today}\n\
         +++\n\
         Halo kak, KK diurus di Dispendukcapil atau MPP, gratis.\n"
    )
}
