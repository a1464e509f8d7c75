//! `kicau eval`: the table, the JSON keys of ../shared/eval/README.md, clear errors.

use crate::helpers::{kicau, repo, shared, stderr, stdout};

const KEYS: [&str; 13] = [
    "cases",
    "accuracy",
    "answer_precision",
    "answer_recall",
    "false_answer_rate",
    "routing_accuracy",
    "report_recall",
    "emergency_recall",
    "emergency_false_alarm_rate",
    "latency_us",
    "index_build_ms",
    "confusion",
    "failures",
];

fn write_cases(text: &str) -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), text).unwrap();
    file
}

#[test]
fn json_has_exactly_the_documented_keys() {
    let cases = write_cases(concat!(
        r#"{"id":"a","text":"@PemkotMalang syarat bikin kk baru apa aja?","expect":"answer","topic":"kk"}"#,
        "\n",
        r#"{"id":"b","text":"jual followers murah cek bio","expect":"ignore"}"#,
        "\n",
        r#"{"id":"c","text":"min kapan car free day ijen buka lagi?","expect":"handoff"}"#,
        "\n",
    ));
    let output = kicau(
        &repo().join("bot.toml"),
        &["eval", cases.path().to_str().unwrap(), "--json"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let v: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    let mut expected = KEYS.to_vec();
    expected.sort_unstable();
    assert_eq!(keys, expected);
    assert_eq!(v["cases"], 3);
    for key in ["p50", "p99", "max"] {
        assert!(v["latency_us"][key].is_u64(), "{key}");
    }
    assert!(v["failures"].is_array());
    assert!(v["confusion"]["answer"].is_object());
}

#[test]
fn a_ratio_over_zero_cases_is_zero() {
    let cases = write_cases(r#"{"id":"a","text":"jual followers murah","expect":"ignore"}"#);
    let output = kicau(
        &repo().join("bot.toml"),
        &["eval", cases.path().to_str().unwrap(), "--json"],
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(v["answer_precision"], 0.0);
    assert_eq!(v["routing_accuracy"], 0.0);
}

#[test]
fn a_malformed_cases_file_is_a_clear_error_naming_the_line() {
    let cases = write_cases(concat!(
        r#"{"id":"a","text":"halo","expect":"answer","topic":"sapaan"}"#,
        "\n",
        r#"{"id":"b","text":"halo","expect":"maybe"}"#,
        "\n",
    ));
    let output = kicau(
        &repo().join("bot.toml"),
        &["eval", cases.path().to_str().unwrap()],
    );
    assert!(!output.status.success());
    let err = stderr(&output);
    assert!(
        err.contains(&format!("{}:2: expect \"maybe\"", cases.path().display())),
        "{err}"
    );
    assert_eq!(stdout(&output), "");
}

#[test]
fn the_table_shows_figures_confusion_and_failures() {
    let cases =
        write_cases(r#"{"id":"a","text":"jual followers murah cek bio","expect":"handoff"}"#);
    let output = kicau(
        &repo().join("bot.toml"),
        &["eval", cases.path().to_str().unwrap()],
    );
    assert!(output.status.success(), "eval exits 0 whatever the scores");
    let text = stdout(&output);
    for part in ["answer_precision", "confusion", "failures (1)", "a "] {
        assert!(text.contains(part), "missing {part:?} in\n{text}");
    }
}

/// The dev set's bars, as a regression guard on quality (speed is measured by the benchmark).
#[test]
fn the_dev_set_meets_the_quality_bars() {
    let Some(shared) = shared() else {
        return;
    };
    assert_meets_bars(&shared.join("eval/dev.jsonl"));
}

/// The same bars on tweets written apart from the dev set and never tuned on
/// (tests/fixtures/probe.jsonl, read once to find general weaknesses, not tuned case by case):
/// a guard against overfitting the dev set.
#[test]
fn held_out_probe_tweets_meet_the_quality_bars() {
    assert_meets_bars(&repo().join("tests/fixtures/probe.jsonl"));
}

fn assert_meets_bars(cases: &std::path::Path) {
    let output = kicau(
        &repo().join("bot.toml"),
        &["eval", cases.to_str().unwrap(), "--json"],
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let at_least = [
        ("answer_precision", 0.92),
        ("answer_recall", 0.80),
        ("routing_accuracy", 0.85),
        ("emergency_recall", 0.95),
    ];
    for (key, bar) in at_least {
        assert!(
            v[key].as_f64().unwrap() >= bar,
            "{key} = {} < {bar}",
            v[key]
        );
    }
    let at_most = [
        ("false_answer_rate", 0.04),
        ("emergency_false_alarm_rate", 0.02),
    ];
    for (key, bar) in at_most {
        assert!(
            v[key].as_f64().unwrap() <= bar,
            "{key} = {} > {bar}",
            v[key]
        );
    }
}
