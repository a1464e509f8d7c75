//! Integration tests: the real `kicau` binary, run as a user runs it, on the shipped files and on
//! fixtures written to temporary folders.

mod ask;
mod browser;
mod desk;
mod eval;
mod instances;
mod kb_check;
mod oauth2;
mod properties;
mod report;
mod sandbox_telegram;
mod sandbox_whatsapp;
mod sandbox_x;
mod service;
mod staff_group;
mod store;
mod takeover;
mod ticket_console;
mod ticket_staff;
mod ticket_thread;
mod tickets;
mod tickets_whatsapp;
mod twitter_text;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository's root, where the shipped bot.toml and knowledge/ live.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared`, which holds the evaluation set. A developer without it gets a printed warning
/// and the test is skipped; under CI it must be there.
pub fn shared() -> Option<PathBuf> {
    let path = repo().join("../shared");
    if path.join("eval/dev.jsonl").exists() {
        return Some(path);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("../shared/eval/dev.jsonl is missing, and CI needs it");
    }
    eprintln!("warning: ../shared is missing: skipping a test that needs it");
    None
}

/// Runs `kicau ARGS` with `--config CONFIG` from the repository root.
pub fn kicau(config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kicau"))
        .current_dir(repo())
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("KICAU_CONFIG")
        .output()
        .expect("kicau runs")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("utf-8 output")
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("utf-8 output")
}
