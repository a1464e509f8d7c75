/*!
Emergency broadcasts ("pesan kunci darurat"): key messages prepared in advance, one Markdown file
each under `knowledge/broadcasts/`, so that in an emergency the office fills in the place, the
time, the shelter and the contact instead of writing advice under pressure. The front matter is
written like an entry's ([`super::entry`]):

```text
+++
id = "banjir"
title = "Peringatan banjir"
hazard = "banjir"
reviewed = 2026-12-06
review_every_days = 180
placeholders = ["tempat", "waktu", "posko", "kontak"]
+++
PERINGATAN BANJIR di {tempat} ({waktu}). ...
```

- `id`: lower-case letters, digits and dashes, unique across the files.
- `title`: what a list of broadcasts shows, at most [`MAX_TITLE`] characters.
- `hazard`: one of [`HAZARDS`]; `umum` for a message any hazard may use (the all-clear).
- `reviewed`: the date someone last checked the text and its advice; never in the future.
- `review_every_days`: how often it must be checked again, 1 to [`MAX_REVIEW_EVERY_DAYS`]. Past
  that, `kb check` warns ([`Broadcast::overdue_review`]), and `--strict` fails.
- `placeholders`: exactly the `{name}`s the text uses, each one of [`PLACEHOLDERS`]; the text
  holds no other braces.
- The text after the second `+++`: paragraphs as in saved replies (the lines of a paragraph join
  into one). No personal data. Filled with the [`PLACEHOLDERS`]' long-ish examples it must fit in
  [`MAX_PARTS`] tweets, measured as a reply to the longest @handle: what fits that way fits as a
  post of its own too.

A `README.md` in the folder is documentation. Broadcasts are not knowledge entries: never
indexed, answered with or learned from (the model's cache ignores them too, see
`triage::training::fingerprint`). `kicau kb check` checks them ([`read`], then [`check`] for the
dates), and the engine carries the set [`load`] gives, so a reload picks up edits and a broken
file keeps the previous set. [`Broadcast::fill`] makes the text to publish.
*/

mod fill;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize, Serializer};
use time::{Date, Duration};

pub use fill::FillError;

use super::replies::{LONGEST_HANDLE, paragraphs};
use super::{KnowledgeError, Problem, Severity, entry, error, examples::files_under};
use crate::tweet::Splitter;

/// The folder under the knowledge base that holds the broadcasts.
pub const FOLDER: &str = "broadcasts";
/// The most tweets a filled broadcast may take: one, or a short numbered thread.
pub const MAX_PARTS: usize = 3;
/// The longest title, in characters.
pub const MAX_TITLE: usize = 80;
/// The longest `review_every_days`: a key message is checked at least once a year.
pub const MAX_REVIEW_EVERY_DAYS: i64 = 365;
/// The hazards a broadcast is for; `umum` is any hazard (the all-clear).
pub const HAZARDS: [&str; 8] = [
    "banjir",
    "kebakaran",
    "gempa",
    "abu-vulkanik",
    "tanah-longsor",
    "angin-kencang",
    "wabah",
    "umum",
];

/// A placeholder a broadcast's text may hold as `{name}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Placeholder {
    /// What stands between the braces.
    pub name: &'static str,
    /// What a form asking for the value shows (Indonesian).
    pub label: &'static str,
    /// A realistic, long-ish value: `kb check` fills every text with these to make sure it
    /// still fits in [`MAX_PARTS`] tweets.
    pub example: &'static str,
}

/// Every placeholder a broadcast may use.
pub const PLACEHOLDERS: [Placeholder; 5] = [
    Placeholder {
        name: "tempat",
        label: "Tempat kejadian",
        example: "RW 05 Kelurahan Purwantoro, Kecamatan Blimbing, sekitar Jl. Sulfat",
    },
    Placeholder {
        name: "waktu",
        label: "Waktu",
        example: "Sabtu, 14 Februari 2026 pukul 16.30 WIB",
    },
    Placeholder {
        name: "posko",
        label: "Posko pengungsian",
        example: "Kantor Kelurahan Purwantoro dan Balai RW 05 Purwantoro",
    },
    Placeholder {
        name: "kontak",
        label: "Kontak",
        example: "Call Center 112 (gratis, 24 jam) atau petugas kelurahan",
    },
    Placeholder {
        name: "keterangan",
        label: "Keterangan",
        example: "Air setinggi 50 sampai 70 cm masih menggenangi permukiman warga di tepi sungai.",
    },
];

/// One broadcast, as the files say and the console lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Broadcast {
    pub id: String,
    /// What a list shows (Indonesian).
    pub title: String,
    /// One of [`HAZARDS`].
    pub hazard: String,
    /// When the text and its advice were last checked.
    #[serde(serialize_with = "iso_date")]
    pub reviewed: Date,
    /// How often they must be checked again.
    pub review_every_days: u32,
    /// The placeholders the text uses, as the front matter lists them.
    pub placeholders: Vec<String>,
    /// The text with its `{placeholders}`.
    pub text: String,
    /// The file it came from.
    #[serde(skip)]
    pub path: PathBuf,
    /// Where its keys are, for problems found after parsing.
    #[serde(skip)]
    pub lines: Lines,
}

/// Lines (1-based) of a broadcast's keys.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Lines {
    pub id: usize,
    pub reviewed: usize,
}

impl Broadcast {
    /// The last day the broadcast counts as reviewed: `reviewed` plus `review_every_days`.
    pub fn review_due(&self) -> Date {
        self.reviewed
            .saturating_add(Duration::days(i64::from(self.review_every_days)))
    }

    /// Whether its review is overdue on `today` (the day after [`Broadcast::review_due`] on).
    pub fn overdue_review(&self, today: Date) -> bool {
        today > self.review_due()
    }
}

/// The front matter as written; unknown keys are refused. Every key is optional here so that a
/// missing one gets a message of its own.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontMatter {
    id: Option<String>,
    title: Option<String>,
    hazard: Option<String>,
    reviewed: Option<toml::Value>,
    review_every_days: Option<i64>,
    placeholders: Option<Vec<String>>,
}

/// The broadcasts in `dir` (the `broadcasts/` folder), sorted by id, if every file passes the
/// checks that do not depend on the date; otherwise every problem found. No folder: none.
pub fn load(dir: &Path) -> Result<Vec<Broadcast>, Vec<Problem>> {
    let (broadcasts, problems) = read(dir);
    if problems.is_empty() {
        Ok(broadcasts)
    } else {
        Err(problems)
    }
}

/// Every broadcast in `dir` that passed, sorted by id, and a problem for every one that did not
/// (a file that repeats an id is left out).
pub fn read(dir: &Path) -> (Vec<Broadcast>, Vec<Problem>) {
    let mut broadcasts: Vec<Broadcast> = Vec::new();
    let mut problems = Vec::new();
    if !dir.is_dir() {
        return (broadcasts, problems);
    }
    let paths = match files_under(dir) {
        Ok(paths) => paths,
        Err(KnowledgeError::Io { path, source }) => {
            problems.push(error(&path, 1, format!("cannot read: {source}")));
            return (broadcasts, problems);
        }
        Err(other) => {
            problems.push(error(dir, 1, other.to_string()));
            return (broadcasts, problems);
        }
    };
    let mut first_seen: HashMap<String, (PathBuf, usize)> = HashMap::new();
    for path in paths {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let name = name.unwrap_or_default();
        if name.starts_with('.') || name == "README.md" {
            continue;
        }
        if !name.ends_with(".md") {
            let message = "not a broadcast: broadcasts are .md files".to_owned();
            problems.push(error(&path, 1, message));
            continue;
        }
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(source) => {
                problems.push(error(&path, 1, format!("cannot read: {source}")));
                continue;
            }
        };
        let broadcast = match parse(&path, &text) {
            Ok(broadcast) => broadcast,
            Err(found) => {
                problems.extend(found);
                continue;
            }
        };
        if let Some((other, line)) = first_seen.get(&broadcast.id) {
            let message = format!(
                "duplicate id {:?}: already used by {}:{line}",
                broadcast.id,
                other.display()
            );
            problems.push(error(&path, broadcast.lines.id, message));
            continue;
        }
        first_seen.insert(broadcast.id.clone(), (path.clone(), broadcast.lines.id));
        broadcasts.push(broadcast);
    }
    broadcasts.sort_by(|a, b| a.id.cmp(&b.id));
    (broadcasts, problems)
}

/// What depends on `today`: a `reviewed` date in the future (an error) and an overdue review (a
/// warning, so that the calendar alone never turns CI red; `kb check --strict` fails on it).
pub fn check(broadcasts: &[Broadcast], today: Date) -> Vec<Problem> {
    let mut problems = Vec::new();
    for broadcast in broadcasts {
        let at = |severity, message| Problem {
            severity,
            path: broadcast.path.clone(),
            line: broadcast.lines.reviewed,
            message,
        };
        if broadcast.reviewed > today {
            problems.push(at(
                Severity::Error,
                format!(
                    "reviewed {} is in the future: write the date the text was last checked",
                    broadcast.reviewed
                ),
            ));
        } else if broadcast.overdue_review(today) {
            problems.push(at(
                Severity::Warning,
                format!(
                    "review overdue since {}: last reviewed on {}, every {} days; check the text \
                     and its advice, then update `reviewed`",
                    broadcast.review_due(),
                    broadcast.reviewed,
                    broadcast.review_every_days
                ),
            ));
        }
    }
    problems
}

/// Parses and checks one broadcast file (`text`, read from `path`); every problem found, each
/// at its line.
pub fn parse(path: &Path, text: &str) -> Result<Broadcast, Vec<Problem>> {
    let fenced = entry::fenced::<FrontMatter>(path, text)
        .map_err(|e| vec![error(&e.path, e.line, e.message)])?;
    let mut problems = Vec::new();
    let mut problem = |line: usize, message: String| problems.push(error(path, line, message));
    let missing = |key: &str, hint: &str| format!("missing {key}: add `{key} = {hint}`");
    let front = &fenced.value;
    let line = |key: &str| fenced.key_line(key);

    let id = front.id.as_deref().map(str::trim).unwrap_or("");
    let id_ok = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
    if front.id.is_none() {
        problem(1, missing("id", "\"...\""));
    } else if id.is_empty() || !id.chars().all(id_ok) {
        let message = format!("id {id:?} must be lower-case letters, digits and dashes");
        problem(line("id"), message);
    }

    let title = front.title.as_deref().map(str::trim).unwrap_or("");
    if front.title.is_none() {
        problem(1, missing("title", "\"...\" (what a list shows)"));
    } else if title.is_empty() {
        problem(line("title"), "empty title".into());
    } else if title.chars().count() > MAX_TITLE {
        let message = format!("title is longer than {MAX_TITLE} characters");
        problem(line("title"), message);
    }

    let hazard = front.hazard.as_deref().map(str::trim).unwrap_or("");
    if front.hazard.is_none() {
        problem(1, missing("hazard", "\"banjir\""));
    } else if !HAZARDS.contains(&hazard) {
        let message = format!(
            "unknown hazard {hazard:?}: use one of {}",
            HAZARDS.join(", ")
        );
        problem(line("hazard"), message);
    }

    let reviewed = match &front.reviewed {
        None => {
            problem(1, missing("reviewed", "2026-12-01"));
            None
        }
        Some(value) => match date(value) {
            Ok(date) => Some(date),
            Err(message) => {
                problem(line("reviewed"), message);
                None
            }
        },
    };

    let every = front.review_every_days;
    match every {
        None => problem(1, missing("review_every_days", "180")),
        Some(days) if !(1..=MAX_REVIEW_EVERY_DAYS).contains(&days) => problem(
            line("review_every_days"),
            format!("review_every_days must be 1 to {MAX_REVIEW_EVERY_DAYS}, not {days}"),
        ),
        Some(_) => {}
    }

    let declared: Vec<String> = front.placeholders.clone().unwrap_or_default();
    let declared_line = line("placeholders");
    if front.placeholders.is_none() {
        let message = "missing placeholders: add `placeholders = [\"tempat\", ...]` (the ones the \
                       text uses; `[]` for none)";
        problem(1, message.into());
    }
    for (i, name) in declared.iter().enumerate() {
        if known(name).is_none() {
            let message = format!(
                "unknown placeholder {name:?} in `placeholders`: use one of {}",
                names()
            );
            problem(declared_line, message);
        } else if declared[..i].contains(name) {
            problem(
                declared_line,
                format!("{name:?} is listed twice in `placeholders`"),
            );
        }
    }

    let (body, first_line) = fenced.body();
    let (text, text_line) = paragraphs(body, first_line);
    if text.is_empty() {
        let message = "empty text: write the message after the second `+++` line".into();
        problem(text_line, message);
    }
    let mut used: Vec<&str> = Vec::new();
    for (i, body_line) in body.iter().enumerate() {
        for token in tokens(body_line) {
            match token {
                Token::Text(_) => {}
                Token::Stray(shown) => problem(first_line + i, stray(shown)),
                Token::Placeholder(name) if known(name).is_none() => problem(
                    first_line + i,
                    format!("unknown placeholder {{{name}}}: use one of {}", names()),
                ),
                Token::Placeholder(name) => {
                    if front.placeholders.is_some() && !declared.iter().any(|d| d == name) {
                        let message = format!(
                            "{{{name}}} is not in `placeholders`: add {name:?} to the list"
                        );
                        problem(first_line + i, message);
                    }
                    used.push(name);
                }
            }
        }
        if let Some(message) = personal_data(body_line) {
            problem(first_line + i, message);
        }
    }
    for name in declared.iter().filter(|d| known(d).is_some()) {
        if !used.contains(&name.as_str()) {
            let message = format!(
                "{name:?} is in `placeholders` but the text never uses {{{name}}}: remove it"
            );
            problem(declared_line, message);
        }
    }
    if problems.is_empty() {
        // Personal data across a line break, and the length, are the whole text's.
        let found = personal_data(&text).or_else(|| too_long(&text));
        problems.extend(found.map(|m| error(path, text_line, m)));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Broadcast {
        id: id.to_owned(),
        title: title.to_owned(),
        hazard: hazard.to_owned(),
        reviewed: reviewed.expect("checked above"),
        review_every_days: u32::try_from(every.unwrap_or_default()).expect("checked above"),
        placeholders: declared,
        text,
        path: path.to_path_buf(),
        lines: Lines {
            id: line("id"),
            reviewed: line("reviewed"),
        },
    })
}

/// `reviewed` as a date, or why it is none.
fn date(value: &toml::Value) -> Result<Date, String> {
    let wrong = || "reviewed must be a date such as 2026-12-01 (no quotes, no time)".to_owned();
    let toml::Value::Datetime(datetime) = value else {
        return Err(wrong());
    };
    let Some(d) = datetime.date.filter(|_| datetime.time.is_none()) else {
        return Err(wrong());
    };
    let month = time::Month::try_from(d.month).map_err(|_| wrong())?;
    Date::from_calendar_date(i32::from(d.year), month, d.day)
        .map_err(|e| format!("reviewed {d} is no date: {e}"))
}

/// The placeholder named `name`, if there is one.
fn known(name: &str) -> Option<&'static Placeholder> {
    PLACEHOLDERS.iter().find(|p| p.name == name)
}

/// "{tempat}, {waktu}, ..." for messages.
fn names() -> String {
    let names: Vec<String> = PLACEHOLDERS
        .iter()
        .map(|p| format!("{{{}}}", p.name))
        .collect();
    names.join(", ")
}

fn stray(shown: &str) -> String {
    format!(
        "`{shown}` is not a placeholder: write placeholders as {{tempat}} (lower-case, no \
         spaces); the text holds no other braces"
    )
}

/// A piece of a text: words as they are, a `{name}` to fill, or a brace that belongs to no
/// placeholder (with what follows it up to its closing brace, for the message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token<'a> {
    Text(&'a str),
    Placeholder(&'a str),
    Stray(&'a str),
}

/// The pieces of `text`. A name is lower-case ASCII letters, digits, `_` and `-`; `{Tempat}`,
/// `{ tempat }`, `{}` and a lone brace are stray.
fn tokens(text: &str) -> Vec<Token<'_>> {
    let is_name = |s: &str| {
        let ok = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-';
        !s.is_empty() && s.chars().all(ok)
    };
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(['{', '}']) {
        if i > 0 {
            out.push(Token::Text(&rest[..i]));
        }
        let at = &rest[i..];
        let close = at[1..]
            .find(['{', '}'])
            .filter(|&j| at[1 + j..].starts_with('}'));
        match close {
            Some(j) if at.starts_with('{') => {
                let inner = &at[1..1 + j];
                out.push(if is_name(inner) {
                    Token::Placeholder(inner)
                } else {
                    Token::Stray(&at[..j + 2])
                });
                rest = &at[j + 2..];
            }
            _ => {
                out.push(Token::Stray(&at[..1]));
                rest = &at[1..];
            }
        }
    }
    if !rest.is_empty() {
        out.push(Token::Text(rest));
    }
    out
}

/// `text` with each `{name}` replaced by `value(name)`; a placeholder without a value, and
/// anything stray, stay as written.
fn substitute<'v>(text: &str, value: impl Fn(&str) -> Option<&'v str>) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for token in tokens(text) {
        match token {
            Token::Text(s) | Token::Stray(s) => out.push_str(s),
            Token::Placeholder(name) => match value(name) {
                Some(v) => out.push_str(v),
                None => {
                    out.push('{');
                    out.push_str(name);
                    out.push('}');
                }
            },
        }
    }
    out
}

/// The tweets `text` becomes as a reply to the longest handle, or how many it would need when
/// that is more than [`MAX_PARTS`].
fn split(text: &str) -> Result<Vec<String>, crate::tweet::TooLong> {
    Splitter::new("", MAX_PARTS).split(LONGEST_HANDLE, text)
}

/// Why `text` is too long once filled with the examples, if it is.
fn too_long(text: &str) -> Option<String> {
    let filled = substitute(text, |name| known(name).map(|p| p.example));
    let too_long = split(&filled).err()?;
    Some(format!(
        "filled with the example values, the text becomes {} tweets with the longest @handle in \
         front; a broadcast is at most {MAX_PARTS}: shorten it",
        too_long.parts
    ))
}

/// Why `text` may not go out for the personal data in it, if it holds any.
fn personal_data(text: &str) -> Option<String> {
    super::replies::personal_data(text, "a broadcast")
}

fn iso_date<S: Serializer>(date: &Date, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(date)
}

#[cfg(test)]
mod tests;
