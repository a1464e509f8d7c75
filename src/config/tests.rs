use super::*;

const MINIMAL: &str = r#"
[account]
handle = "PemkotMalang"
display_name = "Pemkot Malang"

[knowledge]
dir = "knowledge"
lexicon_dir = "knowledge/lexicon"

[triage]
emergency_min = 0.4
answer_min = 0.7
report_min = 0.4
ignore_min = 0.5

[[agency]]
id = "dlh"
name = "Dinas Lingkungan Hidup"
short_name = "DLH"
handles = "sampah"
remit = ["sampah"]
"#;

#[test]
fn parses_a_minimal_file() {
    let config = Config::parse(Path::new("bot.toml"), MINIMAL).unwrap();
    assert_eq!(config.account.handle, "PemkotMalang");
    assert!(config.agency("dlh").unwrap().tickets);
}

#[test]
fn an_unknown_key_is_an_error_naming_the_key_and_line() {
    let text = MINIMAL.replace(
        "handles = \"sampah\"",
        "handles = \"sampah\"\ncolour = \"green\"",
    );
    let err = Config::parse(Path::new("bot.toml"), &text)
        .unwrap_err()
        .to_string();
    assert!(err.contains("colour"), "{err}");
    assert!(err.starts_with("bot.toml:21:"), "{err}");
}

#[test]
fn a_threshold_out_of_range_is_refused() {
    let text = MINIMAL.replace("answer_min = 0.7", "answer_min = 5.0");
    let err = Config::parse(Path::new("bot.toml"), &text)
        .unwrap_err()
        .to_string();
    assert!(err.contains("answer_min"), "{err}");
    // The old cascade's keys are gone: a file that still has them is refused by name.
    let text = MINIMAL.replace("answer_min = 0.7", "answer_min_score = 0.65");
    let err = Config::parse(Path::new("bot.toml"), &text)
        .unwrap_err()
        .to_string();
    assert!(err.contains("answer_min_score"), "{err}");
}

#[test]
fn links_in_replies_defaults_to_on_request_and_refuses_other_values() {
    let config = Config::parse(Path::new("bot.toml"), MINIMAL).unwrap();
    assert_eq!(config.x.links_in_replies, LinksInReplies::OnRequest);
    let text = format!(
        "{MINIMAL}\n[x]\nbase_url = \"https://api.x.com\"\npoll_interval_ms = 2000\n\
         links_in_replies = \"never\"\n"
    );
    let config = Config::parse(Path::new("bot.toml"), &text).unwrap();
    assert_eq!(config.x.links_in_replies, LinksInReplies::Never);
    let err = Config::parse(Path::new("bot.toml"), &text.replace("never", "sometimes"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("sometimes") && err.contains("on_request"),
        "{err}"
    );
}

#[test]
fn the_shipped_file_loads() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("bot.toml");
    let config = Config::load(&path).unwrap();
    assert!(config.agency("dpuprpkp").is_some());
    assert!(!config.agency("luar-kewenangan").unwrap().tickets);
}
