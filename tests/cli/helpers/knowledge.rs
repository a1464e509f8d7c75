//! Knowledge folders tests write: a deployment for `kb check`, and a running engine on a copy of
//! the shipped knowledge base for the reload.

use std::path::PathBuf;
use std::sync::Arc;

use kicau::triage::live::Live;

use super::{BotToml, kicau, repo, shipped_config, stdout};

/// A deployment in a temporary folder: the shipped bot.toml with its knowledge folder replaced by
/// the given files, and the shipped lexicon (or a copy, when a test breaks it).
pub struct KnowledgeFixture {
    /// The deployment's folder: bot.toml, and the knowledge folder `kb/`.
    pub dir: tempfile::TempDir,
}

impl KnowledgeFixture {
    /// The fixture with `files` (paths under the knowledge folder, texts) written.
    pub fn new(files: &[(&str, &str)]) -> KnowledgeFixture {
        let fixture = KnowledgeFixture {
            dir: tempfile::tempdir().unwrap(),
        };
        fixture.configure(|_| {});
        let dir = &fixture.dir;
        for (name, text) in files {
            let path = dir.path().join("kb").join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        std::fs::create_dir_all(dir.path().join("kb")).unwrap();
        fixture
    }

    /// Writes the shipped bot.toml, reading the fixture's knowledge folder and the shipped
    /// lexicon, with `edit` applied last.
    pub fn configure(&self, edit: impl FnOnce(&mut BotToml)) {
        let mut config = BotToml::shipped();
        config.set("knowledge.dir", "kb").set(
            "knowledge.lexicon_dir",
            repo().join("knowledge/lexicon").display().to_string(),
        );
        edit(&mut config);
        config.write(&self.config());
    }

    /// The fixture's bot.toml.
    pub fn config(&self) -> PathBuf {
        self.dir.path().join("bot.toml")
    }

    /// Where `name` (under the knowledge folder) is, as `kb check` prints it.
    pub fn path(&self, name: &str) -> String {
        self.dir.path().join("kb").join(name).display().to_string()
    }

    /// Runs `kicau kb check EXTRA`: whether it passed, and its standard output.
    pub fn check(&self, extra: &[&str]) -> (bool, String) {
        let mut args = vec!["kb", "check"];
        args.extend(extra);
        let output = kicau(&self.config(), &args);
        (output.status.success(), stdout(&output))
    }
}

/// Copies the folder `from` to `to`, subfolders included.
pub fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for item in std::fs::read_dir(from).unwrap() {
        let item = item.unwrap();
        let target = to.join(item.file_name());
        if item.file_type().unwrap().is_dir() {
            copy_dir(&item.path(), &target);
        } else {
            std::fs::copy(item.path(), target).unwrap();
        }
    }
}

/// The engine as the running bot holds it, loaded from a copy of the shipped knowledge base that
/// the test may edit: the copy (which must outlive the test's use of it), the configuration
/// reading it, and the engine.
pub async fn live_on_a_copy() -> (tempfile::TempDir, kicau::Config, Arc<Live>) {
    let knowledge = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("knowledge"), knowledge.path());
    let mut config = shipped_config();
    config.knowledge.dir = knowledge.path().to_path_buf();
    config.knowledge.lexicon_dir = knowledge.path().join("lexicon");
    super::warm_model();
    let engine = {
        let config = config.clone();
        tokio::task::spawn_blocking(move || kicau::Engine::load(&config))
    }
    .await
    .unwrap()
    .unwrap();
    (knowledge, config, Arc::new(Live::new(engine)))
}
