/*!
The word lists behind the normaliser: informal-to-formal tables, Javanese and walikan tables,
stopwords and a vocabulary of standard Indonesian words.

They live as plain text files under `knowledge/lexicon/` so that staff can correct them without a
programmer. Each loader reports a bad line as `file:line: message`, the same way `kicau kb check`
reports knowledge entries.
*/

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// A problem in a lexicon file, located by file and line.
#[derive(Debug, thiserror::Error)]
pub enum LexiconError {
    /// The file could not be read.
    #[error("{path}: cannot read")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A line does not have the shape the file needs.
    #[error("{path}:{line}: {message}")]
    Line {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

/// A mapping from informal words or short phrases (up to [`MAX_PHRASE`] words) to their
/// replacement, which may be several words or none (a word to drop, such as "wkwk").
#[derive(Debug, Default, Clone)]
pub struct Table {
    entries: HashMap<String, Vec<String>>,
    longest: usize,
}

/// The longest informal phrase, in words, that a table may hold.
pub const MAX_PHRASE: usize = 3;

impl Table {
    /// The replacement of `key`, if the table has one.
    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.entries.get(key).map(Vec::as_slice)
    }

    /// The number of words of the longest key.
    pub fn longest_key(&self) -> usize {
        self.longest
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every replacement word, which are formal words by construction.
    pub fn values(&self) -> impl Iterator<Item = &str> {
        self.entries.values().flatten().map(String::as_str)
    }

    /// Adds an entry unless the key is already present: earlier tables win.
    fn insert_first(&mut self, key: String, value: Vec<String>) {
        let words = key.split(' ').count();
        if let std::collections::hash_map::Entry::Vacant(slot) = self.entries.entry(key) {
            self.longest = self.longest.max(words);
            slot.insert(value);
        }
    }

    /// Parses a two-column TSV table (`informal<TAB>formal`, `#` comments, blank lines).
    /// Within one file a key may appear once.
    pub fn parse(path: &Path, text: &str) -> Result<Table, LexiconError> {
        let mut table = Table::default();
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            let err = |message: String| LexiconError::Line {
                path: path.to_path_buf(),
                line,
                message,
            };
            if raw.trim().is_empty() || raw.starts_with('#') {
                continue;
            }
            let mut columns = raw.split('\t');
            let (Some(key), Some(value), None) = (columns.next(), columns.next(), columns.next())
            else {
                return Err(err(format!(
                    "expected two columns separated by one tab, found {:?}",
                    raw
                )));
            };
            let key = fold(key);
            if key.is_empty() {
                return Err(err("the informal word (first column) is empty".into()));
            }
            let words = key.split(' ').count();
            if words > MAX_PHRASE {
                return Err(err(format!(
                    "{key:?} has {words} words; at most {MAX_PHRASE} are matched"
                )));
            }
            if table.entries.contains_key(&key) {
                return Err(err(format!("{key:?} is listed twice in this file")));
            }
            let value: Vec<String> = fold(value)
                .split(' ')
                .filter(|w| !w.is_empty())
                .map(str::to_owned)
                .collect();
            table.longest = table.longest.max(words);
            table.entries.insert(key, value);
        }
        Ok(table)
    }

    /// Merges `later` into `self`; keys already present keep their value.
    pub fn merge(&mut self, later: Table) {
        for (key, value) in later.entries {
            self.insert_first(key, value);
        }
    }
}

/// Lower-cases, trims and collapses internal white space.
fn fold(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Parses a one-word-a-line list (`#` comments, blank lines).
pub fn parse_word_list(path: &Path, text: &str) -> Result<HashSet<String>, LexiconError> {
    let mut words = HashSet::new();
    for (index, raw) in text.lines().enumerate() {
        let word = raw.trim();
        if word.is_empty() || word.starts_with('#') {
            continue;
        }
        if word.contains(char::is_whitespace) {
            return Err(LexiconError::Line {
                path: path.to_path_buf(),
                line: index + 1,
                message: format!("expected one word, found {word:?}"),
            });
        }
        words.insert(word.to_lowercase());
    }
    Ok(words)
}

/// Every list the normaliser needs, loaded from one folder.
#[derive(Debug, Clone, Default)]
pub struct Lexicon {
    /// Informal Indonesian and service-domain slang, checked first.
    pub slang: Table,
    /// Javanese words, checked for words that are not standard Indonesian.
    pub javanese: Table,
    /// Walikan words with a known plain form.
    pub walikan: Table,
    /// Words removed before search (question words and negations are kept).
    pub stopwords: HashSet<String>,
    /// Words known to be standard Indonesian.
    pub vocabulary: HashSet<String>,
    /// Common words of complaints that are never part of a place's name (what is wrong, what
    /// it is about, times, numbers, particles): they end a street's name in the place reader.
    pub common: HashSet<String>,
}

/// The files of `knowledge/lexicon/`, in the order their entries win.
pub const SLANG_FILES: [&str; 4] = [
    "slang.tsv",
    "english.tsv",
    "indocollex-dictionary.tsv",
    "indocollex-transformations.tsv",
];
pub const JAVANESE_FILES: [&str; 2] = ["javanese-malang.tsv", "nusax-javanese.tsv"];
pub const WALIKAN_FILE: &str = "walikan.tsv";
pub const STOPWORDS_FILE: &str = "stopwords.txt";
pub const VOCABULARY_FILE: &str = "indonesian-words.txt";
pub const COMMON_FILE: &str = "common-words.txt";

/// Question words and negations: stopword lists carry them, FAQ matching needs them.
const KEEP_WORDS: &[&str] = &[
    "tidak",
    "belum",
    "bukan",
    "jangan",
    "kapan",
    "berapa",
    "bagaimana",
    "apa",
    "apakah",
    "siapa",
    "kenapa",
    "mengapa",
    "mana",
    "dimana",
    "bisa",
    "boleh",
    "harus",
    "baru",
    "lama",
    "hilang",
    "rusak",
    "pindah",
    "masuk",
    "keluar",
    "buka",
    "tutup",
    "jam",
    "hari",
    "tahun",
    "bulan",
];

impl Lexicon {
    /// Loads every list from `dir` (usually `knowledge/lexicon`).
    pub fn load(dir: &Path) -> Result<Lexicon, LexiconError> {
        let read = |name: &str| -> Result<(PathBuf, String), LexiconError> {
            let path = dir.join(name);
            std::fs::read_to_string(&path)
                .map(|text| (path.clone(), text))
                .map_err(|source| LexiconError::Io { path, source })
        };
        let mut lexicon = Lexicon::default();
        for name in SLANG_FILES {
            let (path, text) = read(name)?;
            lexicon.slang.merge(Table::parse(&path, &text)?);
        }
        for name in JAVANESE_FILES {
            let (path, text) = read(name)?;
            lexicon.javanese.merge(Table::parse(&path, &text)?);
        }
        let (path, text) = read(WALIKAN_FILE)?;
        lexicon.walikan = Table::parse(&path, &text)?;
        let (path, text) = read(STOPWORDS_FILE)?;
        lexicon.stopwords = parse_word_list(&path, &text)?;
        for word in KEEP_WORDS {
            lexicon.stopwords.remove(*word);
        }
        let (path, text) = read(VOCABULARY_FILE)?;
        lexicon.vocabulary = parse_word_list(&path, &text)?;
        let (path, text) = read(COMMON_FILE)?;
        lexicon.common = parse_word_list(&path, &text)?;
        let formal: Vec<String> = lexicon
            .slang
            .values()
            .chain(lexicon.javanese.values())
            .filter(|w| w.chars().all(char::is_alphabetic))
            .map(str::to_owned)
            .collect();
        lexicon.vocabulary.extend(formal);
        lexicon.vocabulary.extend(lexicon.stopwords.iter().cloned());
        lexicon
            .vocabulary
            .extend(KEEP_WORDS.iter().map(|w| (*w).to_owned()));
        Ok(lexicon)
    }

    /// Whether `word` (lower case) is a word the lexicon knows: standard Indonesian, a stopword,
    /// or an informal, Javanese or walikan word of its tables.
    pub fn is_known(&self, word: &str) -> bool {
        self.vocabulary.contains(word)
            || self.stopwords.contains(word)
            || self.slang.get(word).is_some()
            || self.javanese.get(word).is_some()
            || self.walikan.get(word).is_some()
    }

    /// Adds words known to be right, such as the knowledge base's own vocabulary.
    pub fn extend_vocabulary<I: IntoIterator<Item = String>>(&mut self, words: I) {
        self.vocabulary.extend(words);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_parses_pairs_phrases_and_drops() {
        let text = "# comment\ngmn\tbagaimana\nnang endi\tdi mana\nwkwk\t\n";
        let table = Table::parse(Path::new("t.tsv"), text).unwrap();
        assert_eq!(table.get("gmn").unwrap(), ["bagaimana"]);
        assert_eq!(table.get("nang endi").unwrap(), ["di", "mana"]);
        assert!(table.get("wkwk").unwrap().is_empty());
        assert_eq!(table.longest_key(), 2);
    }

    #[test]
    fn table_names_file_and_line_of_a_bad_line() {
        let err = Table::parse(Path::new("x/slang.tsv"), "gmn\tbagaimana\nrusak\n").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("x/slang.tsv:2: expected two columns"),
            "{err}"
        );
    }

    #[test]
    fn table_refuses_a_key_listed_twice() {
        let err = Table::parse(Path::new("s.tsv"), "yg\tyang\n\nyg\tyang\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "s.tsv:3: \"yg\" is listed twice in this file"
        );
    }

    #[test]
    fn word_list_refuses_two_words_on_a_line() {
        let err = parse_word_list(Path::new("w.txt"), "ada\nada apa\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "w.txt:2: expected one word, found \"ada apa\""
        );
    }
}
