/*!
Saved replies ("balasan tersimpan"): texts staff insert into a reply on the console by typing
`/` and their shortcut. One Markdown file per reply under `knowledge/replies/`, with a front
matter like an entry's ([`super::entry`]):

```text
+++
shortcut = "lokasi"
title = "Minta lokasi persis"
+++
Boleh dibantu lokasi persisnya, kak? ...
```

- `shortcut`: lower-case letters, digits and dashes, at most [`MAX_SHORTCUT`] characters, unique
  across the files (what staff type after `/`).
- `title`: what the menu shows beside the shortcut.
- The text after the second `+++`: the lines of a paragraph join into one; an empty line starts
  a new paragraph. It must not hold personal data (a NIK/KK, a phone number, an e-mail address),
  must fit the desk's cap on a reply's tweets (`[desk] max_thread_parts`) with the longest
  @handle in front, and holds no `{placeholder}`: nothing is filled in, and the reply already
  starts with the citizen's @handle.

A `README.md` in the folder is documentation, not a reply. Saved replies are not knowledge
entries: never indexed, never answered with, never learned from (the model's cache ignores
them, see `triage::training::fingerprint`). `kicau kb check` checks them with the rest, and the
engine carries them, so they load at start and reload with the knowledge base, a broken file
keeping the previous set.
*/

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{KnowledgeError, Problem, entry, error, examples::files_under};
use crate::config::Config;
use crate::tweet::Splitter;

/// The folder under the knowledge base that holds the saved replies.
pub const FOLDER: &str = "replies";
/// The longest shortcut, in characters.
pub const MAX_SHORTCUT: usize = 30;
/// The longest title, in characters (the menu is narrow on a phone).
pub const MAX_TITLE: usize = 80;
/// What a saved reply becomes, in the message about personal data.
const PUBLIC_REPLY: &str = "a public reply";
/// The longest handle X allows: the check splits each text as a reply to it (broadcasts' too).
pub(super) const LONGEST_HANDLE: &str = "abcdefghijklmno";

/// One saved reply, as the console's menu and `GET /api/replies` show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reply {
    /// What staff type after `/`.
    pub shortcut: String,
    /// What the menu shows beside the shortcut.
    pub title: String,
    /// What is inserted into the reply.
    pub text: String,
    /// The file it came from.
    #[serde(skip)]
    pub path: PathBuf,
    /// The line of its `shortcut`.
    #[serde(skip)]
    pub line: usize,
}

/// The front matter as written; unknown keys are refused. Both keys are optional here so that
/// a missing one gets a message of its own.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontMatter {
    shortcut: Option<String>,
    title: Option<String>,
}

/// Every reply that passed, sorted by shortcut, and a problem for every one that did not.
#[derive(Debug, Default)]
pub struct Loaded {
    pub replies: Vec<Reply>,
    pub problems: Vec<Problem>,
}

/// Reads and checks `<knowledge>/replies/` as the desk of `config` would send the texts (its
/// account, its cap on parts). No folder: no replies. A reply with a problem is left out, and
/// so is every file that repeats a shortcut.
pub fn load(config: &Config) -> Result<Loaded, KnowledgeError> {
    let dir = config.knowledge.dir.join(FOLDER);
    let mut loaded = Loaded::default();
    if !dir.is_dir() {
        return Ok(loaded);
    }
    let splitter = Splitter::new(&config.account.handle, config.desk.max_thread_parts);
    let mut first_seen: HashMap<String, (PathBuf, usize)> = HashMap::new();
    for path in files_under(&dir)? {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let name = name.unwrap_or_default();
        if name.starts_with('.') || name == "README.md" {
            continue;
        }
        if !name.ends_with(".md") {
            loaded.problems.push(error(
                &path,
                1,
                "not a saved reply: saved replies are .md files".into(),
            ));
            continue;
        }
        let text = std::fs::read_to_string(&path).map_err(|source| KnowledgeError::Io {
            path: path.clone(),
            source,
        })?;
        let reply = match parse(&path, &text, &splitter) {
            Ok(reply) => reply,
            Err(problems) => {
                loaded.problems.extend(problems);
                continue;
            }
        };
        if let Some((other, line)) = first_seen.get(&reply.shortcut) {
            loaded.problems.push(error(
                &path,
                reply.line,
                format!(
                    "duplicate shortcut {:?}: already used by {}:{line}",
                    reply.shortcut,
                    other.display()
                ),
            ));
            continue;
        }
        first_seen.insert(reply.shortcut.clone(), (path.clone(), reply.line));
        loaded.replies.push(reply);
    }
    loaded.replies.sort_by(|a, b| a.shortcut.cmp(&b.shortcut));
    Ok(loaded)
}

/// Parses and checks one reply file (`text`, read from `path`) for the desk's `splitter`; every
/// problem found, each at its line.
pub fn parse(path: &Path, text: &str, splitter: &Splitter) -> Result<Reply, Vec<Problem>> {
    let fenced = entry::fenced::<FrontMatter>(path, text)
        .map_err(|e| vec![error(&e.path, e.line, e.message)])?;
    let mut problems = Vec::new();
    let shortcut_line = fenced.key_line("shortcut");
    let shortcut = fenced.value.shortcut.as_deref().map(str::trim);
    match shortcut {
        None => problems.push(error(
            path,
            1,
            "missing shortcut: add `shortcut = \"...\"` to the front matter".into(),
        )),
        Some(shortcut) => {
            if let Err(message) = check_shortcut(shortcut) {
                problems.push(error(path, shortcut_line, message));
            }
        }
    }
    let title = fenced.value.title.as_deref().map(str::trim).unwrap_or("");
    if fenced.value.title.is_none() {
        problems.push(error(
            path,
            1,
            "missing title: add `title = \"...\"` (what the menu shows) to the front matter".into(),
        ));
    } else if title.is_empty() {
        problems.push(error(path, fenced.key_line("title"), "empty title".into()));
    } else if title.chars().count() > MAX_TITLE {
        problems.push(error(
            path,
            fenced.key_line("title"),
            format!("title is longer than {MAX_TITLE} characters"),
        ));
    }
    let (body, first_line) = fenced.body();
    let (text, text_line) = paragraphs(body, first_line);
    if text.is_empty() {
        problems.push(error(
            path,
            text_line,
            "empty text: write the reply after the second `+++` line".into(),
        ));
    }
    let before = problems.len();
    for (i, line) in body.iter().enumerate() {
        let found = personal_data(line, PUBLIC_REPLY)
            .into_iter()
            .chain(placeholder_problem(line));
        problems.extend(found.map(|m| error(path, first_line + i, m)));
    }
    if problems.len() == before && !text.is_empty() {
        // Personal data across a line break, and the length, are the whole text's.
        let found = personal_data(&text, PUBLIC_REPLY).or_else(|| too_long(&text, splitter));
        problems.extend(found.map(|m| error(path, text_line, m)));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Reply {
        shortcut: shortcut.unwrap_or_default().to_owned(),
        title: title.to_owned(),
        text,
        path: path.to_path_buf(),
        line: shortcut_line,
    })
}

/// Why `shortcut` cannot be one, if it cannot.
fn check_shortcut(shortcut: &str) -> Result<(), String> {
    if shortcut.is_empty() {
        return Err("empty shortcut".into());
    }
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
    if !shortcut.chars().all(allowed) {
        return Err(format!(
            "shortcut {shortcut:?} must be lower-case letters, digits and dashes"
        ));
    }
    if shortcut.chars().count() > MAX_SHORTCUT {
        return Err(format!(
            "shortcut {shortcut:?} is longer than {MAX_SHORTCUT} characters"
        ));
    }
    Ok(())
}

/// Why `text` may not go out for the personal data in it (a NIK/KK number, a phone number, an
/// e-mail address), if it holds any; the message names what the text `goes_into` and does not
/// repeat the data. Broadcasts are checked with it too.
pub(super) fn personal_data(text: &str, goes_into: &str) -> Option<String> {
    use crate::language::pii::{PiiKind, detect};
    let what = match detect(text).first()?.kind {
        PiiKind::IdNumber => "a NIK/KK number",
        PiiKind::Phone => "a phone number",
        PiiKind::Email => "an e-mail address",
    };
    Some(format!(
        "the text holds {what}: personal data never goes into {goes_into}"
    ))
}

/// Why a `{placeholder}` in `text` is refused, if there is one.
fn placeholder_problem(text: &str) -> Option<String> {
    placeholder(text).map(|p| {
        format!(
            "{p} is not filled in: write the text as it is sent (the reply already starts \
             with the citizen's @handle)"
        )
    })
}

/// The first `{word}` in `text`.
fn placeholder(text: &str) -> Option<&str> {
    let mut from = 0;
    while let Some(i) = text[from..].find('{') {
        let start = from + i;
        let len = text[start + 1..].find('}')?;
        let inner = &text[start + 1..start + 1 + len];
        if !inner.is_empty() && inner.chars().all(|c| c.is_alphanumeric() || c == '_') {
            return Some(&text[start..start + len + 2]);
        }
        from = start + 1;
    }
    None
}

/// Why `text` is too long for the desk, if it is: split as a reply to the longest handle, it
/// becomes more tweets than `[desk] max_thread_parts`.
fn too_long(text: &str, splitter: &Splitter) -> Option<String> {
    let too_long = splitter.split(LONGEST_HANDLE, text).err()?;
    Some(format!(
        "the text becomes {} tweets with the longest @handle in front; the desk allows at most \
         {} ([desk] max_thread_parts): shorten it",
        too_long.parts, too_long.max
    ))
}

/// The body's paragraphs (each one's lines joined by a space, paragraphs by an empty line), and
/// the line its text starts on (`first_line` when there is none). Broadcasts read theirs the
/// same way.
pub(super) fn paragraphs(body: &[&str], first_line: usize) -> (String, usize) {
    let start = body.iter().position(|l| !l.trim().is_empty());
    let mut text = String::new();
    let mut paragraph: Vec<&str> = Vec::new();
    for line in body.iter().map(|l| l.trim()) {
        if line.is_empty() {
            flush(&mut text, &mut paragraph);
        } else {
            paragraph.push(line);
        }
    }
    flush(&mut text, &mut paragraph);
    (text, first_line + start.unwrap_or(0))
}

fn flush(text: &mut String, paragraph: &mut Vec<&str>) {
    if paragraph.is_empty() {
        return;
    }
    if !text.is_empty() {
        text.push_str("\n\n");
    }
    text.push_str(&paragraph.join(" "));
    paragraph.clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn splitter() -> Splitter {
        Splitter::new("PemkotMalang", 2)
    }

    fn parse_text(text: &str) -> Result<Reply, Vec<Problem>> {
        parse(Path::new("lokasi.md"), text, &splitter())
    }

    /// The problems' `line: message`, for assertions.
    fn problems(text: &str) -> Vec<String> {
        parse_text(text)
            .unwrap_err()
            .iter()
            .map(|p| format!("{}: {}", p.line, p.message))
            .collect()
    }

    const GOOD: &str = "+++\nshortcut = \"lokasi\"\ntitle = \"Minta lokasi persis\"\n+++\n\nBoleh dibantu lokasinya, kak?\nNama jalan dan kelurahannya.\n\nTerima kasih.\n";

    #[test]
    fn reads_shortcut_title_and_paragraphs() {
        let reply = parse_text(GOOD).unwrap();
        assert_eq!(reply.shortcut, "lokasi");
        assert_eq!(reply.title, "Minta lokasi persis");
        assert_eq!(
            reply.text,
            "Boleh dibantu lokasinya, kak? Nama jalan dan kelurahannya.\n\nTerima kasih."
        );
        assert_eq!(reply.line, 2);
    }

    #[test]
    fn a_missing_shortcut_and_an_empty_text_are_each_named() {
        let text = "+++\ntitle = \"Foto\"\n+++\n\n";
        assert_eq!(
            problems(text),
            [
                "1: missing shortcut: add `shortcut = \"...\"` to the front matter",
                "4: empty text: write the reply after the second `+++` line",
            ]
        );
    }

    #[test]
    fn a_bad_shortcut_names_its_line() {
        let text = GOOD.replace("\"lokasi\"", "\"Lokasi Persis\"");
        let found = problems(&text);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("2: shortcut \"Lokasi Persis\" must be"));
    }

    #[test]
    fn personal_data_in_the_text_is_refused() {
        for (data, what) in [
            ("NIK 3573010101010005", "a NIK/KK number"),
            ("0812-3456-7890", "a phone number"),
        ] {
            let text = GOOD.replace("Terima kasih.", &format!("Hubungi {data}."));
            let found = problems(&text);
            assert_eq!(
                found,
                [format!(
                    "9: the text holds {what}: personal data never goes into a public reply"
                )]
            );
        }
        // A number broken over two lines is the paragraph's.
        let text = GOOD.replace("Terima kasih.", "3573010101\n010005");
        assert!(problems(&text)[0].starts_with("6: the text holds a NIK/KK number"));
    }

    #[test]
    fn a_text_over_the_cap_on_parts_is_refused() {
        let long = "Kalimat panjang untuk mengisi twit. ".repeat(20);
        let text = GOOD.replace("Terima kasih.", &long);
        let found = problems(&text);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].contains("tweets with the longest @handle"),
            "{found:?}"
        );
        assert!(found[0].contains("at most 2"), "{found:?}");
    }

    #[test]
    fn a_placeholder_is_refused() {
        let text = GOOD.replace("Terima kasih.", "Terima kasih {warga}.");
        let found = problems(&text);
        assert!(
            found[0].starts_with("9: {warga} is not filled in"),
            "{found:?}"
        );
        assert_eq!(placeholder("a {} b {x-y} {ok}"), Some("{ok}"));
        assert_eq!(placeholder("kurung {tutup"), None);
    }

    #[test]
    fn an_unknown_key_names_its_line() {
        let text = GOOD.replace("title =", "colour = \"merah\"\ntitle =");
        let found = problems(&text);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("3: front matter: unknown field `colour`"));
    }
}
