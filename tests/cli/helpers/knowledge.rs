//! A deployment whose knowledge folder a test writes: what `kb check` tests and the broadcasts'
//! tests share.

use std::path::PathBuf;

use super::{BotToml, kicau, repo, stdout};

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
