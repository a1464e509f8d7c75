/*!
The shipped bot.toml as a value. Tests change it key by key and write it to their own folder;
a key the shipped file does not have, or a value of another type than the shipped one, is a
panic, so a renamed or retyped key fails the test instead of leaving the value unchanged.
*/

use std::path::Path;

use toml::{Table, Value};

use super::repo;

/// bot.toml, parsed; [`BotToml::set`] edits it, [`BotToml::write`] saves it.
#[derive(Clone, Debug)]
pub struct BotToml {
    table: Table,
}

impl BotToml {
    /// The repository's bot.toml, as shipped.
    pub fn shipped() -> BotToml {
        let path = repo().join("bot.toml");
        let text = std::fs::read_to_string(&path).expect("the shipped bot.toml");
        let mut config = BotToml {
            table: text.parse().expect("the shipped bot.toml is TOML"),
        };
        // Every deployment shares the repository's model cache: the same examples train once
        // (see `helpers::warm_model`).
        let cache = repo().join("data/models").display().to_string();
        config.set("triage.model_cache", cache);
        // The tests meet the sandbox as strict as X: a bearer it did not issue is refused.
        config.set("sandbox.strict", true);
        config
    }

    /// Sets the key at `path` (dotted, through tables: `"tickets.approve_notes"`). Panics when
    /// the shipped file has no such key or holds another type there.
    pub fn set(&mut self, path: &str, value: impl Into<Value>) -> &mut BotToml {
        let value = value.into();
        let (table, key) = self.parent_of(path);
        let Some(old) = table.get_mut(key) else {
            panic!("bot.toml has no key {path}: renamed? (tests set only keys it ships)");
        };
        assert!(
            old.same_type(&value),
            "bot.toml's {path} is a {}, not a {}",
            old.type_str(),
            value.type_str()
        );
        *old = value;
        self
    }

    /// Adds a key bot.toml does not know, for tests of the refusal of unknown keys. Panics when
    /// the key exists.
    pub fn add_unknown(&mut self, path: &str, value: impl Into<Value>) -> &mut BotToml {
        let (table, key) = self.parent_of(path);
        assert!(!table.contains_key(key), "bot.toml already has {path}");
        table.insert(key.to_owned(), value.into());
        self
    }

    /// Writes the configuration to `to`.
    pub fn write(&self, to: &Path) {
        let text = toml::to_string(&self.table).expect("bot.toml serializes");
        std::fs::write(to, text).unwrap_or_else(|e| panic!("writing {}: {e}", to.display()));
    }

    /// The table holding the last key of `path`, and that key.
    fn parent_of<'a>(&mut self, path: &'a str) -> (&mut Table, &'a str) {
        let (tables, key) = match path.rsplit_once('.') {
            Some((tables, key)) => (Some(tables), key),
            None => (None, path),
        };
        let mut table = &mut self.table;
        for name in tables.into_iter().flat_map(|t| t.split('.')) {
            table = match table.get_mut(name) {
                Some(Value::Table(inner)) => inner,
                Some(other) => panic!("bot.toml's {name} in {path} is a {}", other.type_str()),
                None => panic!("bot.toml has no table {name} (for {path})"),
            };
        }
        (table, key)
    }
}
