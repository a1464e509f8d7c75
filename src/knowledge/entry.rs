//! One knowledge-base entry: a Markdown file with TOML front matter between `+++` lines.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use time::Date;

/// The categories the city's account publishes under.
pub const CATEGORIES: [&str; 8] = [
    "kebijakan",
    "layanan",
    "kesehatan",
    "lalu-lintas",
    "bencana",
    "budaya",
    "terkini",
    "lainnya",
];

/// A parsed entry. Only [`parse`] makes one, so every `Entry` has its front matter and both parts
/// of its body.
#[derive(Debug, Clone)]
pub struct Entry {
    pub path: PathBuf,
    pub id: String,
    pub title: String,
    pub category: String,
    pub agency: String,
    pub questions: Vec<String>,
    pub keywords: Vec<String>,
    pub links: Vec<String>,
    pub sources: Vec<String>,
    pub reviewed: Date,
    pub expires: Option<Date>,
    /// The tweet the account posts (the body's first paragraph).
    pub short_answer: String,
    /// Everything after the first paragraph.
    pub details: String,
    /// Line numbers, for problems found after parsing.
    pub lines: Lines,
}

/// Where things are in the file (1-based), so problems can point at them.
#[derive(Debug, Clone, Default)]
pub struct Lines {
    pub id: usize,
    pub agency: usize,
    pub category: usize,
    pub links: usize,
    pub reviewed: usize,
    pub expires: usize,
    pub body: usize,
}

/// The front matter as written; unknown keys are refused.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontMatter {
    id: String,
    title: String,
    category: String,
    agency: String,
    #[serde(default)]
    questions: Vec<String>,
    #[serde(default)]
    keywords: Vec<String>,
    #[serde(default)]
    links: Vec<String>,
    #[serde(default)]
    sources: Vec<String>,
    reviewed: toml::value::Datetime,
    expires: Option<toml::value::Datetime>,
}

/// A problem that stops a file from being read as an entry at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub path: PathBuf,
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.path.display(), self.line, self.message)
    }
}

/// A file's front matter (TOML between its first line, `+++`, and the next `+++` line) parsed as
/// `T`, with the file's lines: what entries and saved replies ([`super::replies`]) share.
pub(super) struct Fenced<'a, T> {
    pub value: T,
    /// Every line of the file (a leading byte-order mark left out).
    pub lines: Vec<&'a str>,
    /// The index in `lines` of the closing `+++` line.
    pub close: usize,
}

impl<T> Fenced<'_, T> {
    /// The 1-based line of `key = ...` in the front matter; 1 when the key is absent.
    pub fn key_line(&self, key: &str) -> usize {
        self.lines[1..self.close]
            .iter()
            .position(|l| {
                l.trim_start()
                    .strip_prefix(key)
                    .is_some_and(|rest| rest.trim_start().starts_with('='))
            })
            .map(|i| i + 2)
            .unwrap_or(1)
    }

    /// The lines after the closing `+++`, and the 1-based line number of the first of them.
    pub fn body(&self) -> (&[&str], usize) {
        (&self.lines[self.close + 1..], self.close + 2)
    }
}

/// Splits `text` (the file at `path`) into its front matter, parsed as `T`, and the rest; a
/// missing fence or a TOML error is a [`ParseError`] at its line.
pub(super) fn fenced<'a, T: serde::de::DeserializeOwned>(
    path: &Path,
    text: &'a str,
) -> Result<Fenced<'a, T>, ParseError> {
    let err = |line: usize, message: String| ParseError {
        path: path.to_path_buf(),
        line,
        message,
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text.lines().collect();
    if lines.first().map(|l| l.trim_end()) != Some("+++") {
        return Err(err(
            1,
            "the file must start with a `+++` line that opens the front matter".into(),
        ));
    }
    let Some(close) = lines.iter().skip(1).position(|l| l.trim_end() == "+++") else {
        return Err(err(
            1,
            "the front matter opened on line 1 is never closed by a `+++` line".into(),
        ));
    };
    let close = close + 1; // index of the closing line
    let front = lines[1..close].join("\n");
    let value: T = toml::from_str(&front).map_err(|e| {
        let line = e
            .span()
            .map(|s| crate::config::line_of(&front, s.start) + 1)
            .unwrap_or(1);
        err(line, format!("front matter: {}", e.message().trim_end()))
    })?;
    Ok(Fenced {
        value,
        lines,
        close,
    })
}

/// Parses the text of one entry file.
pub fn parse(path: &Path, text: &str) -> Result<Entry, ParseError> {
    let err = |line: usize, message: String| ParseError {
        path: path.to_path_buf(),
        line,
        message,
    };
    let fenced = fenced::<FrontMatter>(path, text)?;
    let key_line = |key: &str| fenced.key_line(key);
    let date = |value: &toml::value::Datetime, key: &str| -> Result<Date, ParseError> {
        let Some(d) = value.date.filter(|_| value.time.is_none()) else {
            return Err(err(
                key_line(key),
                format!("{key} must be a date such as 2026-11-22"),
            ));
        };
        let month = time::Month::try_from(d.month)
            .map_err(|_| err(key_line(key), format!("{key}: no month {}", d.month)))?;
        Date::from_calendar_date(i32::from(d.year), month, d.day)
            .map_err(|e| err(key_line(key), format!("{key}: {e}")))
    };
    let reviewed = date(&fenced.value.reviewed, "reviewed")?;
    let expires = fenced
        .value
        .expires
        .as_ref()
        .map(|d| date(d, "expires"))
        .transpose()?;

    // The body: its first paragraph is the short answer, the rest the details.
    let (body_lines, first_body_line) = fenced.body();
    let first = body_lines.iter().position(|l| !l.trim().is_empty());
    let (short_answer, details, body_line) = match first {
        None => (String::new(), String::new(), first_body_line),
        Some(start) => {
            let end = body_lines[start..]
                .iter()
                .position(|l| l.trim().is_empty())
                .map(|n| start + n)
                .unwrap_or(body_lines.len());
            let short = body_lines[start..end]
                .iter()
                .map(|l| l.trim())
                .collect::<Vec<_>>()
                .join(" ");
            let details = body_lines[end..].join("\n").trim().to_owned();
            (short, details, first_body_line + start)
        }
    };
    let lines = Lines {
        id: key_line("id"),
        agency: key_line("agency"),
        category: key_line("category"),
        links: key_line("links"),
        reviewed: key_line("reviewed"),
        expires: key_line("expires"),
        body: body_line,
    };
    let fm = fenced.value;
    Ok(Entry {
        path: path.to_path_buf(),
        lines,
        id: fm.id,
        title: fm.title,
        category: fm.category,
        agency: fm.agency,
        questions: fm.questions,
        keywords: fm.keywords,
        links: fm.links,
        sources: fm.sources,
        reviewed,
        expires,
        short_answer,
        details,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "+++\nid = \"kk\"\ntitle = \"Kartu Keluarga\"\ncategory = \"layanan\"\nagency = \"dispendukcapil\"\nquestions = [\"cara bikin kk?\"]\nkeywords = [\"kk\"]\nlinks = [\"https://dispendukcapil.malangkota.go.id\"]\nreviewed = 2026-11-22\n+++\nHalo kak, KK diurus di Dispendukcapil.\nBaris kedua paragraf pertama.\n\nDetail panjang.\n";

    #[test]
    fn splits_front_matter_short_answer_and_details() {
        let entry = parse(Path::new("kk.md"), GOOD).unwrap();
        assert_eq!(entry.id, "kk");
        assert_eq!(
            entry.short_answer,
            "Halo kak, KK diurus di Dispendukcapil. Baris kedua paragraf pertama."
        );
        assert_eq!(entry.details, "Detail panjang.");
        assert_eq!(entry.lines.body, 11);
        assert_eq!(entry.lines.links, 8);
        assert_eq!(entry.reviewed, time::macros::date!(2026 - 11 - 22));
    }

    #[test]
    fn an_unknown_key_names_its_line() {
        let text = GOOD.replace("links =", "colour = \"red\"\nlinks =");
        let e = parse(Path::new("kk.md"), &text).unwrap_err();
        assert_eq!(e.line, 8, "{e}");
        assert!(e.message.contains("colour"), "{e}");
    }

    #[test]
    fn a_missing_closing_fence_is_reported() {
        let e = parse(Path::new("kk.md"), "+++\nid = \"kk\"\n").unwrap_err();
        assert!(
            e.to_string().starts_with("kk.md:1: the front matter"),
            "{e}"
        );
    }

    #[test]
    fn a_datetime_is_not_a_date() {
        let text = GOOD.replace("reviewed = 2026-11-22", "reviewed = 2026-11-22T10:00:00");
        let e = parse(Path::new("kk.md"), &text).unwrap_err();
        assert_eq!(e.line, 9, "{e}");
    }
}
