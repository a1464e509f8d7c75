//! `kicau kb check`: every problem is reported as `file:line: level: message`, errors exit 1,
//! warnings exit 0 unless `--strict`.

use crate::helpers::{KnowledgeFixture as Fixture, copy_dir, kicau, repo, shared, stderr, stdout};

/// A valid entry; tests replace parts of it.
fn entry(id: &str) -> String {
    format!(
        "+++\n\
         id = \"{id}\"\n\
         title = \"Kartu Keluarga\"\n\
         category = \"layanan\"\n\
         agency = \"dispendukcapil\"\n\
         questions = [\"gmn cara bikin kk baru?\"]\n\
         keywords = [\"kk\", \"kartu keluarga\"]\n\
         links = [\"https://dispendukcapil.malangkota.go.id\"]\n\
         reviewed = 2026-11-01\n\
         +++\n\
         Halo kak, KK diurus di Dispendukcapil atau MPP, gratis.\n\
         \n\
         Rincian untuk petugas.\n"
    )
}

fn assert_reports(output: &str, expected: &str) {
    assert!(
        output.lines().any(|l| l == expected),
        "expected the line\n  {expected}\nin\n{output}"
    );
}

#[test]
fn the_shipped_knowledge_base_passes() {
    let output = kicau(&repo().join("bot.toml"), &["kb", "check"]);
    assert!(
        output.status.success(),
        "kb check failed on the shipped base:\n{}",
        stdout(&output)
    );
    assert!(!stdout(&output).contains(": error:"), "{}", stdout(&output));
}

#[test]
fn the_shipped_base_has_one_entry_per_catalogue_topic() {
    let Some(shared) = shared() else {
        return;
    };
    let catalogue = std::fs::read_to_string(shared.join("eval/topics.toml")).unwrap();
    let catalogue: toml::Value = toml::from_str(&catalogue).unwrap();
    let loaded = kicau::knowledge::load(&repo().join("knowledge")).unwrap();
    let ids: Vec<&str> = loaded.entries.iter().map(|e| e.id.as_str()).collect();
    let topics = catalogue["topic"].as_array().unwrap();
    assert_eq!(topics.len(), 57);
    for topic in topics {
        let id = topic["id"].as_str().unwrap();
        let entry = loaded
            .entries
            .iter()
            .find(|e| e.id == id)
            .unwrap_or_else(|| panic!("no entry for topic {id}; have {ids:?}"));
        assert_eq!(entry.agency, topic["agency"].as_str().unwrap(), "{id}");
        assert_eq!(entry.category, topic["category"].as_str().unwrap(), "{id}");
    }
}

#[test]
fn a_clean_fixture_passes() {
    let fixture = Fixture::new(&[("layanan/kk.md", &entry("kk"))]);
    let (ok, output) = fixture.check(&[]);
    assert!(ok, "{output}");
    assert_eq!(output, "");
}

#[test]
fn an_unknown_front_matter_key_names_file_and_line() {
    let text = entry("kk").replace("links =", "colour = \"merah\"\nlinks =");
    let fixture = Fixture::new(&[("kk.md", &text)]);
    let (ok, output) = fixture.check(&[]);
    assert!(!ok);
    let prefix = format!(
        "{}:8: error: front matter: unknown field `colour`",
        fixture.path("kk.md")
    );
    assert!(output.starts_with(&prefix), "{output}");
}

#[test]
fn a_malformed_front_matter_names_file_and_line() {
    let text = entry("kk").replace("category = \"layanan\"", "category = layanan");
    let fixture = Fixture::new(&[("kk.md", &text)]);
    let (ok, output) = fixture.check(&[]);
    assert!(!ok);
    assert!(
        output.starts_with(&format!("{}:4: error:", fixture.path("kk.md"))),
        "{output}"
    );
}

#[test]
fn a_missing_front_matter_is_an_error() {
    let fixture = Fixture::new(&[("kk.md", "Halo kak, tanpa front matter.\n")]);
    let (ok, output) = fixture.check(&[]);
    assert!(!ok);
    assert!(output.starts_with(&format!(
        "{}:1: error: the file must start",
        fixture.path("kk.md")
    )));
}

#[test]
fn a_duplicate_id_names_the_first_file() {
    let fixture = Fixture::new(&[("a.md", &entry("kk")), ("b.md", &entry("kk"))]);
    let (ok, output) = fixture.check(&[]);
    assert!(!ok);
    assert_reports(
        &output,
        &format!(
            "{}:2: error: duplicate id \"kk\": already used by {}",
            fixture.path("b.md"),
            fixture.path("a.md")
        ),
    );
}

#[test]
fn an_unknown_agency_is_an_error() {
    let text = entry("kk").replace("\"dispendukcapil\"", "\"dinas-rahasia\"");
    let fixture = Fixture::new(&[("kk.md", &text)]);
    let (ok, output) = fixture.check(&[]);
    assert!(!ok);
    assert_reports(
        &output,
        &format!(
            "{}:5: error: unknown agency \"dinas-rahasia\": not an [[agency]] id in bot.toml",
            fixture.path("kk.md")
        ),
    );
}

#[test]
fn a_short_answer_over_the_limit_is_an_error() {
    // 263 weighted characters are allowed after the 17 counted for "@handle ".
    let fits = entry("kk").replace(
        "Halo kak, KK diurus di Dispendukcapil atau MPP, gratis.",
        &"a".repeat(263),
    );
    let fixture = Fixture::new(&[("kk.md", &fits)]);
    assert!(fixture.check(&[]).0);
    let long = entry("kk").replace(
        "Halo kak, KK diurus di Dispendukcapil atau MPP, gratis.",
        &format!(
            "{} https://dispendukcapil.malangkota.go.id/a/very/long/path",
            "a".repeat(240)
        ),
    );
    let fixture = Fixture::new(&[("kk.md", &long)]);
    let (ok, output) = fixture.check(&[]);
    assert!(!ok);
    assert_reports(
        &output,
        &format!(
            "{}:11: error: short answer is 281 weighted characters with the @handle (at most 280): shorten it by 1",
            fixture.path("kk.md")
        ),
    );
}

#[test]
fn a_link_that_is_not_https_is_an_error() {
    let text = entry("kk").replace("https://dispendukcapil", "http://dispendukcapil");
    let fixture = Fixture::new(&[("kk.md", &text)]);
    let (ok, output) = fixture.check(&[]);
    assert!(!ok);
    assert_reports(
        &output,
        &format!(
            "{}:8: error: link \"http://dispendukcapil.malangkota.go.id\" is not an https:// address",
            fixture.path("kk.md")
        ),
    );
}

#[test]
fn a_bad_line_of_links_tsv_is_an_error_and_an_unnamed_host_a_warning() {
    let answer = "Halo kak, KK diurus di Dispendukcapil atau MPP, gratis.";
    let text = entry("kk").replace(
        answer,
        "Halo kak, KK diurus di MPP atau https://siapel.malangkota.go.id, info di malangkota.go.id.",
    );
    let links =
        "# host\tname\nsiapel.malangkota.go.id\tsitus Si Apel\nmalangkota.go.id situs resmi\n";
    let fixture = Fixture::new(&[("kk.md", &text), ("links.tsv", links)]);
    let (ok, output) = fixture.check(&[]);
    assert!(!ok, "{output}");
    assert_reports(
        &output,
        &format!(
            "{}:3: error: expected 2 tab-separated columns (host, name), found 1",
            fixture.path("links.tsv")
        ),
    );
    assert_reports(
        &output,
        &format!(
            "{}:11: warning: malangkota.go.id has no name in links.tsv: replies without links will \
             say \"situs MALANGKOTA\"",
            fixture.path("kk.md")
        ),
    );
    assert!(!output.contains("siapel"), "{output}");

    // Without the bad line, the unnamed host is only a warning: the check passes unless
    // --strict.
    let links = "siapel.malangkota.go.id\tsitus Si Apel\n";
    let fixture = Fixture::new(&[("kk.md", &text), ("links.tsv", links)]);
    let (ok, output) = fixture.check(&[]);
    assert!(ok, "{output}");
    assert!(output.contains(": warning: malangkota.go.id"), "{output}");
    assert!(!fixture.check(&["--strict"]).0);
}

#[test]
fn an_empty_body_is_an_error() {
    let text = entry("kk");
    let text = &text[..text.find("Halo kak").unwrap()];
    let fixture = Fixture::new(&[("kk.md", text)]);
    let (ok, output) = fixture.check(&[]);
    assert!(!ok);
    assert!(output.contains(": error: empty body"), "{output}");
}

#[test]
fn an_unknown_category_is_an_error() {
    let text = entry("kk").replace("\"layanan\"", "\"gosip\"");
    let fixture = Fixture::new(&[("kk.md", &text)]);
    let (ok, output) = fixture.check(&[]);
    assert!(!ok);
    assert!(output.starts_with(&format!(
        "{}:4: error: unknown category",
        fixture.path("kk.md")
    )));
}

#[test]
fn dates_are_warnings_and_strict_makes_them_errors() {
    let expired = entry("a").replace(
        "reviewed = 2026-11-01",
        "reviewed = 2026-11-01\nexpires = 2020-01-01",
    );
    let stale = entry("b")
        .replace("reviewed = 2026-11-01", "reviewed = 2019-01-01")
        .replace("gmn cara bikin kk baru?", "kk hilang ngurusnya gmn?");
    let fixture = Fixture::new(&[("a.md", &expired), ("b.md", &stale)]);
    let (ok, output) = fixture.check(&[]);
    assert!(ok, "warnings must not fail the check:\n{output}");
    assert_reports(
        &output,
        &format!(
            "{}:10: warning: expired on 2020-01-01: not used for automatic answers until reviewed",
            fixture.path("a.md")
        ),
    );
    assert_reports(
        &output,
        &format!(
            "{}:9: warning: last reviewed on 2019-01-01, more than a year ago: check the facts",
            fixture.path("b.md")
        ),
    );
    let (ok, _) = fixture.check(&["--strict"]);
    assert!(!ok, "--strict makes warnings errors");
}

#[test]
fn an_entry_expiring_within_30_days_is_a_warning() {
    let soon = kicau::knowledge::today() + time::Duration::days(10);
    let text = entry("kk").replace(
        "reviewed = 2026-11-01",
        &format!("reviewed = 2026-11-01\nexpires = {soon}"),
    );
    let fixture = Fixture::new(&[("kk.md", &text)]);
    let (ok, output) = fixture.check(&[]);
    assert!(ok);
    assert!(
        output.contains(&format!(": warning: expires on {soon}, within 30 days")),
        "{output}"
    );
}

#[test]
fn a_malformed_lexicon_file_names_file_and_line() {
    let fixture = Fixture::new(&[("kk.md", &entry("kk"))]);
    let lexicon = fixture.dir.path().join("lexicon");
    copy_dir(&repo().join("knowledge/lexicon"), &lexicon);
    let slang = lexicon.join("slang.tsv");
    let mut text = std::fs::read_to_string(&slang).unwrap();
    let line = text.lines().count() + 1;
    text.push_str("kolom tanpa tab\n");
    std::fs::write(&slang, text).unwrap();
    fixture.configure(|c| {
        c.set("knowledge.lexicon_dir", "lexicon");
    });
    let (ok, output) = fixture.check(&[]);
    assert!(!ok);
    assert!(
        output.starts_with(&format!(
            "{}:{line}: error: expected two columns",
            slang.display()
        )),
        "{output}"
    );
}

#[test]
fn a_gazetteer_street_named_with_a_common_word_is_an_error() {
    // "numpuk" is a common word of complaints: it would end the street's name in every tweet.
    let gazetteer = "kind\tname\tkecamatan\taliases\njalan\tKawi\t\t\njalan\tKawi Numpuk\t\t\n";
    let fixture = Fixture::new(&[("kk.md", &entry("kk")), ("gazetteer.tsv", gazetteer)]);
    let (ok, output) = fixture.check(&[]);
    assert!(!ok);
    assert!(
        output.starts_with(&format!(
            "{}:3: error: \"Kawi Numpuk\" holds \"numpuk\", a common word",
            fixture.path("gazetteer.tsv")
        )),
        "{output}"
    );
}

#[test]
fn an_unknown_key_in_bot_toml_is_named() {
    let fixture = Fixture::new(&[("kk.md", &entry("kk"))]);
    fixture.configure(|c| {
        c.add_unknown("triage.mood", "ceria");
    });
    let output = kicau(&fixture.config(), &["kb", "check"]);
    assert!(!output.status.success());
    let err = stderr(&output);
    assert!(err.contains("unknown field `mood`"), "{err}");
}

#[test]
fn bad_example_files_name_file_and_line() {
    let fixture = Fixture::new(&[
        ("layanan/kk.md", &entry("kk")),
        (
            "examples/topics/kk.txt",
            "# how citizens ask about KK\nsyarat pecah kk apa min\n\nSYARAT PECAH KK APA MIN??\n",
        ),
        ("examples/topics/nope.txt", "apa ini\n"),
        ("examples/agencies/dlh.txt", "sampah numpuk di tps pasar\n"),
        ("examples/agencies/dinas-hiu.txt", "hiu di alun alun\n"),
        (
            "examples/handoff.txt",
            "kapan konser di gajayana\nsampah numpuk di tps pasar\n",
        ),
        (
            "examples/lookalikes.txt",
            "report dlh: pohon miring depan rumah, takut roboh\nemergency: kebakaran\npohon tumbang kemarin\n",
        ),
        ("examples/notes.txt", "anything\n"),
    ]);
    let (ok, output) = fixture.check(&[]);
    assert!(!ok, "{output}");
    let at = |name: &str, line: usize| format!("{}:{line}: error:", fixture.path(name));
    for (name, line, words) in [
        ("examples/topics/kk.txt", 4, "duplicate of the example at"),
        (
            "examples/topics/nope.txt",
            1,
            "no knowledge entry has the id \"nope\"",
        ),
        (
            "examples/agencies/dinas-hiu.txt",
            1,
            "no [[agency]] with the id \"dinas-hiu\"",
        ),
        ("examples/handoff.txt", 2, "is labelled report dlh at"),
        ("examples/lookalikes.txt", 2, "\"emergency\" is not a label"),
        ("examples/lookalikes.txt", 3, "no label"),
        ("examples/notes.txt", 1, "not an example file"),
    ] {
        assert!(
            output
                .lines()
                .any(|l| l.starts_with(&at(name, line)) && l.contains(words)),
            "expected {name}:{line} ({words}) in\n{output}"
        );
    }
}

#[test]
fn the_examples_folder_holds_its_own_readme_and_files_not_entries() {
    let fixture = Fixture::new(&[
        ("layanan/kk.md", &entry("kk")),
        (
            "examples/README.md",
            "# Labelled examples\n\nNot an entry.\n",
        ),
        ("examples/topics/kk.txt", "kk baru syaratnya apa aja min\n"),
    ]);
    let (ok, output) = fixture.check(&[]);
    assert!(ok, "{output}");
    assert!(!output.contains("error"), "{output}");
}

/// A valid saved reply; tests replace parts of it.
fn saved_reply(shortcut: &str) -> String {
    format!(
        "+++\n\
         shortcut = \"{shortcut}\"\n\
         title = \"Minta lokasi persis\"\n\
         +++\n\
         Boleh dibantu lokasi persisnya, kak?\n\
         Nama jalan, kelurahan, dan patokan terdekat.\n"
    )
}

#[test]
fn saved_replies_beside_the_entries_are_checked_and_never_read_as_entries() {
    let fixture = Fixture::new(&[
        ("layanan/kk.md", &entry("kk")),
        ("replies/lokasi.md", &saved_reply("lokasi")),
        ("replies/README.md", "# Balasan tersimpan\n\nNot a reply.\n"),
    ]);
    let output = kicau(&fixture.config(), &["kb", "check"]);
    assert!(output.status.success(), "{}", stdout(&output));
    assert_eq!(stdout(&output), "");
    assert!(
        stderr(&output).contains("1 entries, 1 saved replies, 0 broadcasts, 0 error(s)"),
        "{}",
        stderr(&output)
    );
    let loaded = kicau::knowledge::load(&fixture.dir.path().join("kb")).unwrap();
    assert_eq!(loaded.entries.len(), 1);
}

#[test]
fn bad_saved_replies_name_file_and_line() {
    let long = "Kalimat yang cukup panjang untuk mengisi satu twit penuh. ".repeat(12);
    let fixture = Fixture::new(&[
        ("layanan/kk.md", &entry("kk")),
        ("replies/lokasi.md", &saved_reply("lokasi")),
        ("replies/lokasi-lagi.md", &saved_reply("lokasi")),
        ("replies/huruf.md", &saved_reply("Lokasi_Persis")),
        ("replies/kosong.md", "+++\ntitle = \"Kosong\"\n+++\n\n"),
        (
            "replies/nik.md",
            &saved_reply("nik").replace("patokan terdekat.", "NIK 3573010101010005."),
        ),
        (
            "replies/hp.md",
            &saved_reply("hp").replace("patokan terdekat.", "hubungi 0812-3456-7890."),
        ),
        (
            "replies/panjang.md",
            &saved_reply("panjang").replace("patokan terdekat.", &long),
        ),
        ("replies/catatan.txt", "bukan balasan\n"),
    ]);
    fixture.configure(|c| {
        c.set("desk.max_thread_parts", 2);
    });
    let (ok, output) = fixture.check(&[]);
    assert!(!ok, "{output}");
    let at = |name: &str, line: usize| format!("{}:{line}: error: ", fixture.path(name));
    for (name, line, message) in [
        (
            "replies/lokasi.md",
            2,
            format!(
                "duplicate shortcut \"lokasi\": already used by {}:2",
                fixture.path("replies/lokasi-lagi.md")
            ),
        ),
        (
            "replies/huruf.md",
            2,
            "shortcut \"Lokasi_Persis\" must be lower-case letters, digits and dashes".into(),
        ),
        (
            "replies/kosong.md",
            1,
            "missing shortcut: add `shortcut = \"...\"` to the front matter".into(),
        ),
        (
            "replies/kosong.md",
            4,
            "empty text: write the reply after the second `+++` line".into(),
        ),
        (
            "replies/nik.md",
            6,
            "the text holds a NIK/KK number: personal data never goes into a public reply".into(),
        ),
        (
            "replies/hp.md",
            6,
            "the text holds a phone number: personal data never goes into a public reply".into(),
        ),
        (
            "replies/catatan.txt",
            1,
            "not a saved reply: saved replies are .md files".into(),
        ),
    ] {
        assert_reports(&output, &format!("{}{message}", at(name, line)));
    }
    assert!(
        output
            .lines()
            .any(|l| l.starts_with(&at("replies/panjang.md", 5))
                && l.contains(
                    "tweets with the longest @handle in front; the desk allows at most 2"
                )),
        "{output}"
    );
    // The personal data itself is not repeated in the report.
    assert!(!output.contains("3573010101010005"), "{output}");
    assert!(!output.contains("0812-3456-7890"), "{output}");
}
