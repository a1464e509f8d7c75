use std::collections::BTreeMap;

use time::macros::date;

use super::*;
use crate::language::pii::PiiKind;

const GOOD: &str = "+++\n\
id = \"banjir\"\n\
title = \"Peringatan banjir\"\n\
hazard = \"banjir\"\n\
reviewed = 2026-12-01\n\
review_every_days = 180\n\
placeholders = [\"tempat\", \"waktu\", \"posko\"]\n\
+++\n\
\n\
BANJIR di {tempat} ({waktu}).\n\
Segera pindah ke tempat yang lebih tinggi.\n\
\n\
Posko: {posko}. Darurat: 112.\n";

fn parse_text(text: &str) -> Result<Broadcast, Vec<Problem>> {
    parse(Path::new("banjir.md"), text)
}

/// The problems' `line: message`, for assertions.
fn problems(text: &str) -> Vec<String> {
    parse_text(text)
        .unwrap_err()
        .iter()
        .map(|p| format!("{}: {}", p.line, p.message))
        .collect()
}

fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn good_values() -> BTreeMap<String, String> {
    values(&[
        ("tempat", "  Kelurahan Purwantoro "),
        ("waktu", "Sabtu 16.30 WIB"),
        ("posko", "Balai RW 05"),
    ])
}

#[test]
fn reads_the_front_matter_and_the_paragraphs() {
    let broadcast = parse_text(GOOD).unwrap();
    assert_eq!(broadcast.id, "banjir");
    assert_eq!(broadcast.title, "Peringatan banjir");
    assert_eq!(broadcast.hazard, "banjir");
    assert_eq!(broadcast.reviewed, date!(2026 - 12 - 01));
    assert_eq!(broadcast.review_every_days, 180);
    assert_eq!(broadcast.placeholders, ["tempat", "waktu", "posko"]);
    assert_eq!(
        broadcast.text,
        "BANJIR di {tempat} ({waktu}). Segera pindah ke tempat yang lebih tinggi.\n\n\
         Posko: {posko}. Darurat: 112."
    );
    assert_eq!(broadcast.lines, Lines { id: 2, reviewed: 5 });
}

#[test]
fn every_missing_key_and_an_empty_text_are_named() {
    let found = problems("+++\n+++\n\n");
    assert_eq!(
        found,
        [
            "1: missing id: add `id = \"...\"`",
            "1: missing title: add `title = \"...\" (what a list shows)`",
            "1: missing hazard: add `hazard = \"banjir\"`",
            "1: missing reviewed: add `reviewed = 2026-12-01`",
            "1: missing review_every_days: add `review_every_days = 180`",
            "1: missing placeholders: add `placeholders = [\"tempat\", ...]` (the ones the text \
             uses; `[]` for none)",
            "3: empty text: write the message after the second `+++` line",
        ]
    );
}

#[test]
fn bad_values_name_their_lines() {
    let text = GOOD
        .replace("\"banjir\"\ntitle", "\"Banjir Besar\"\ntitle")
        .replace("hazard = \"banjir\"", "hazard = \"tsunami\"")
        .replace("= 180", "= 0");
    let found = problems(&text);
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(
        found[0].starts_with("2: id \"Banjir Besar\" must be"),
        "{found:?}"
    );
    assert!(found[1].starts_with("4: unknown hazard \"tsunami\": use one of banjir,"));
    assert_eq!(found[2], "6: review_every_days must be 1 to 365, not 0");
    let text = GOOD.replace("= 180", "= 400");
    assert_eq!(
        problems(&text),
        ["6: review_every_days must be 1 to 365, not 400"]
    );
}

#[test]
fn a_reviewed_date_must_be_a_date() {
    let wrong = "5: reviewed must be a date such as 2026-12-01 (no quotes, no time)";
    for written in ["\"2026-12-01\"", "2026-12-01T10:00:00", "20261201"] {
        let text = GOOD.replace("2026-12-01", written);
        assert_eq!(problems(&text), [wrong], "{written}");
    }
    // TOML itself refuses a day or a month that does not exist, at its line.
    for written in ["2026-02-30", "2026-13-01"] {
        let text = GOOD.replace("2026-12-01", written);
        let found = problems(&text);
        assert!(
            found[0].starts_with("5: front matter: invalid date-time"),
            "{found:?}"
        );
    }
}

#[test]
fn an_unknown_key_names_its_line() {
    let text = GOOD.replace("hazard =", "colour = \"merah\"\nhazard =");
    let found = problems(&text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("4: front matter: unknown field `colour`"));
}

#[test]
fn placeholders_in_the_text_and_in_the_list_must_agree() {
    // Used but not declared, declared but not used.
    let text = GOOD.replace("\"posko\"]", "\"kontak\"]");
    assert_eq!(
        problems(&text),
        [
            "13: {posko} is not in `placeholders`: add \"posko\" to the list",
            "7: \"kontak\" is in `placeholders` but the text never uses {kontak}: remove it",
        ]
    );
    // A name that is no placeholder at all, in the text and in the list; one listed twice.
    let text = GOOD
        .replace("{posko}", "{lokasi}")
        .replace("\"posko\"]", "\"posko\", \"alamat\", \"waktu\"]");
    let found = problems(&text);
    assert!(
        found.contains(
            &"7: unknown placeholder \"alamat\" in `placeholders`: use one of \
                        {tempat}, {waktu}, {posko}, {kontak}, {keterangan}"
                .to_owned()
        ),
        "{found:?}"
    );
    assert!(found.contains(&"7: \"waktu\" is listed twice in `placeholders`".to_owned()));
    assert!(
        found
            .iter()
            .any(|p| p.starts_with("13: unknown placeholder {lokasi}: use one of"))
    );
    assert!(
        found
            .iter()
            .any(|p| p.starts_with("7: \"posko\" is in `placeholders` but"))
    );
}

#[test]
fn a_brace_that_is_no_placeholder_is_refused() {
    for (written, shown) in [
        ("{Tempat}", "{Tempat}"),
        ("{ tempat }", "{ tempat }"),
        ("{tempat", "{"),
        ("tempat}", "}"),
        ("{}", "{}"),
    ] {
        let text = GOOD.replace("{tempat}", written);
        let found = problems(&text);
        assert!(
            found.contains(&format!(
                "10: `{shown}` is not a placeholder: write placeholders as {{tempat}} \
                 (lower-case, no spaces); the text holds no other braces"
            )),
            "{written}: {found:?}"
        );
    }
}

#[test]
fn personal_data_in_the_text_is_refused() {
    for (data, what) in [
        ("NIK 3573010101010005", "a NIK/KK number"),
        ("0812-3456-7890", "a phone number"),
        ("posko@gmail.com", "an e-mail address"),
    ] {
        let text = GOOD.replace("Darurat: 112.", &format!("Hubungi {data}."));
        assert_eq!(
            problems(&text),
            [format!(
                "13: the text holds {what}: personal data never goes into a broadcast"
            )]
        );
    }
    // A number broken over two lines is the paragraph's.
    let text = GOOD.replace("Darurat: 112.", "3573010101\n010005");
    assert_eq!(
        problems(&text),
        ["10: the text holds a NIK/KK number: personal data never goes into a broadcast"]
    );
}

#[test]
fn a_text_over_three_tweets_once_filled_is_refused() {
    let long = "Ikuti arahan petugas di lapangan dan tetap tenang. ".repeat(12);
    let text = GOOD.replace("Darurat: 112.", &long);
    let found = problems(&text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("10: filled with the example values, the text becomes 4 tweets"),
        "{found:?}"
    );
    assert!(found[0].ends_with("a broadcast is at most 3: shorten it"));
}

#[test]
fn the_review_is_overdue_the_day_after_it_is_due() {
    let broadcast = parse_text(GOOD).unwrap();
    assert_eq!(broadcast.review_due(), date!(2027 - 05 - 30));
    assert!(!broadcast.overdue_review(date!(2026 - 12 - 01)));
    assert!(!broadcast.overdue_review(date!(2027 - 05 - 30)));
    assert!(broadcast.overdue_review(date!(2027 - 05 - 31)));
}

#[test]
fn check_refuses_a_future_date_and_warns_of_an_overdue_review() {
    let broadcast = parse_text(GOOD).unwrap();
    let found = check(std::slice::from_ref(&broadcast), date!(2026 - 11 - 30));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].severity, Severity::Error);
    assert_eq!(found[0].line, 5);
    assert_eq!(
        found[0].message,
        "reviewed 2026-12-01 is in the future: write the date the text was last checked"
    );
    assert!(check(std::slice::from_ref(&broadcast), date!(2027 - 05 - 30)).is_empty());
    let found = check(&[broadcast], date!(2027 - 06 - 01));
    assert_eq!(found[0].severity, Severity::Warning);
    assert_eq!(
        found[0].message,
        "review overdue since 2027-05-30: last reviewed on 2026-12-01, every 180 days; check the \
         text and its advice, then update `reviewed`"
    );
}

#[test]
fn fill_replaces_every_placeholder_with_its_trimmed_value() {
    let broadcast = parse_text(GOOD).unwrap();
    let text = broadcast.fill(&good_values()).unwrap();
    assert_eq!(
        text,
        "BANJIR di Kelurahan Purwantoro (Sabtu 16.30 WIB). Segera pindah ke tempat yang lebih \
         tinggi.\n\nPosko: Balai RW 05. Darurat: 112."
    );
    // A placeholder used twice takes its value twice.
    let twice = GOOD.replace("Darurat: 112.", "Sekali lagi: {posko}.");
    let text = parse_text(&twice).unwrap().fill(&good_values()).unwrap();
    assert!(text.ends_with("Posko: Balai RW 05. Sekali lagi: Balai RW 05."));
}

#[test]
fn fill_refuses_a_missing_an_empty_and_an_unknown_value() {
    let broadcast = parse_text(GOOD).unwrap();
    let mut missing = good_values();
    missing.remove("posko");
    let error = broadcast.fill(&missing).unwrap_err();
    assert_eq!(error, FillError::Missing("posko".into()));
    assert_eq!(error.to_string(), "isian {posko} belum diisi");

    for empty in ["", "   ", "\u{3000}"] {
        let mut values = good_values();
        values.insert("waktu".into(), empty.into());
        let error = broadcast.fill(&values).unwrap_err();
        assert_eq!(error, FillError::Empty("waktu".into()), "{empty:?}");
        assert_eq!(error.to_string(), "isian {waktu} masih kosong");
    }

    // A placeholder this text does not use, known elsewhere or not.
    for key in ["kontak", "nama"] {
        let mut values = good_values();
        values.insert(key.into(), "isi".into());
        let error = broadcast.fill(&values).unwrap_err();
        assert_eq!(error, FillError::Unknown(key.into()));
        assert_eq!(
            error.to_string(),
            format!("pesan ini tidak memakai isian {{{key}}}")
        );
    }
}

#[test]
fn fill_refuses_personal_data_in_a_value() {
    let broadcast = parse_text(GOOD).unwrap();
    for (value, kind, what) in [
        ("Pak Budi 0812-3456-7890", PiiKind::Phone, "nomor telepon"),
        ("NIK 3573010101010005", PiiKind::IdNumber, "NIK/KK"),
        ("(0341) 751535", PiiKind::Phone, "nomor telepon"),
        ("budi@gmail.com", PiiKind::Email, "alamat email"),
    ] {
        let mut values = good_values();
        values.insert("posko".into(), value.into());
        let error = broadcast.fill(&values).unwrap_err();
        let placeholder = "posko".to_owned();
        assert_eq!(
            error,
            FillError::PersonalData { placeholder, kind },
            "{value}"
        );
        let message = error.to_string();
        assert_eq!(
            message,
            format!("isian {{posko}} memuat {what}: data pribadi tidak boleh ada di pesan publik")
        );
        assert!(!message.contains(value), "{message}");
    }
    // Short service numbers are no personal data.
    let mut values = good_values();
    values.insert("posko".into(), "Balai RW 05, hubungi 112 atau 119".into());
    assert!(broadcast.fill(&values).is_ok());
}

#[test]
fn fill_refuses_personal_data_made_where_values_meet() {
    let text = GOOD.replace("Darurat: 112.", "Info {waktu}{tempat}.");
    let broadcast = parse_text(&text).unwrap();
    let values = values(&[
        ("tempat", "3456-7890"),
        ("waktu", "0812-"),
        ("posko", "Balai RW 05"),
    ]);
    // Each value alone is no number anybody could call.
    let error = broadcast.fill(&values).unwrap_err();
    assert_eq!(
        error,
        FillError::PersonalDataInText {
            kind: PiiKind::Phone
        }
    );
}

#[test]
fn fill_refuses_control_invisible_and_markup_characters() {
    let broadcast = parse_text(GOOD).unwrap();
    for (value, character, shown) in [
        ("Balai\nRW 05", '\n', "U+000A"),
        ("Balai\tRW 05", '\t', "U+0009"),
        ("Balai \u{202E}50 WR", '\u{202E}', "U+202E"),
        ("Balai\u{200B}RW", '\u{200B}', "U+200B"),
        ("Balai\u{2066}RW", '\u{2066}', "U+2066"),
        ("<b>Balai RW</b>", '<', "\"<\" (U+003C)"),
        ("Balai {tempat}", '{', "\"{\" (U+007B)"),
    ] {
        let mut values = good_values();
        values.insert("posko".into(), value.into());
        let error = broadcast.fill(&values).unwrap_err();
        let placeholder = "posko".to_owned();
        assert_eq!(
            error,
            FillError::Character {
                placeholder,
                character
            },
            "{value:?}"
        );
        assert_eq!(
            error.to_string(),
            format!("isian {{posko}} memuat karakter yang tidak boleh dipakai: {shown}")
        );
    }
    // Leading and trailing line breaks are trimmed, not refused; Indonesian punctuation passes.
    let mut values = good_values();
    values.insert(
        "posko".into(),
        "\nBalai RW 05 & Masjid \"Al-Ikhlas\" (lt. 2)\n".into(),
    );
    assert!(broadcast.fill(&values).is_ok());
}

#[test]
fn fill_refuses_a_text_over_three_tweets() {
    let broadcast = parse_text(GOOD).unwrap();
    let mut values = good_values();
    values.insert(
        "posko".into(),
        "Balai RW 05 Kelurahan Purwantoro. ".repeat(25),
    );
    let error = broadcast.fill(&values).unwrap_err();
    let FillError::TooLong { parts, max } = &error else {
        panic!("{error:?}");
    };
    assert!(*parts > 3, "{parts}");
    assert_eq!(*max, 3);
    assert!(
        error.to_string().starts_with(&format!(
            "teks yang sudah diisi menjadi {parts} twit, paling banyak 3"
        )),
        "{error}"
    );
}

#[test]
fn tokens_split_text_placeholders_and_stray_braces() {
    use Token::*;
    assert_eq!(
        tokens("di {tempat}, {Waktu} {x_1-b} { } }"),
        [
            Text("di "),
            Placeholder("tempat"),
            Text(", "),
            Stray("{Waktu}"),
            Text(" "),
            Placeholder("x_1-b"),
            Text(" "),
            Stray("{ }"),
            Text(" "),
            Stray("}"),
        ]
    );
    assert_eq!(
        tokens("{{tempat}}"),
        [Stray("{"), Placeholder("tempat"), Stray("}")]
    );
}

#[test]
fn load_names_both_files_of_a_duplicate_id_and_skips_the_readme() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.md"), GOOD).unwrap();
    std::fs::write(dir.path().join("b.md"), GOOD).unwrap();
    std::fs::write(dir.path().join("README.md"), "# Pesan kunci\n").unwrap();
    let problems = load(dir.path()).unwrap_err();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(
        problems[0].to_string(),
        format!(
            "{}:2: error: duplicate id \"banjir\": already used by {}:2",
            dir.path().join("b.md").display(),
            dir.path().join("a.md").display()
        )
    );
    std::fs::remove_file(dir.path().join("b.md")).unwrap();
    std::fs::write(dir.path().join("catatan.txt"), "bukan pesan").unwrap();
    let problems = load(dir.path()).unwrap_err();
    assert_eq!(
        problems[0].message,
        "not a broadcast: broadcasts are .md files"
    );
    std::fs::remove_file(dir.path().join("catatan.txt")).unwrap();
    let loaded = load(dir.path()).unwrap();
    assert_eq!(loaded.len(), 1);
    assert_eq!(loaded[0].path, dir.path().join("a.md"));
    // No folder, no broadcasts.
    assert_eq!(load(&dir.path().join("tidak-ada")), Ok(Vec::new()));
}

#[test]
fn a_broadcast_serializes_without_its_file() {
    let broadcast = parse_text(GOOD).unwrap();
    let json = serde_json::to_value(&broadcast).unwrap();
    assert_eq!(json["reviewed"], "2026-12-01");
    assert_eq!(json["review_every_days"], 180);
    assert!(
        json.get("path").is_none() && json.get("lines").is_none(),
        "{json}"
    );
}

#[test]
fn every_placeholder_has_a_label_and_an_example_free_of_personal_data() {
    for placeholder in PLACEHOLDERS {
        assert!(!placeholder.label.is_empty());
        assert!(placeholder.example.chars().count() >= 30, "{placeholder:?}");
        assert!(
            personal_data(placeholder.example).is_none(),
            "{placeholder:?}"
        );
        assert!(!placeholder.example.chars().any(fill::forbidden));
    }
}
