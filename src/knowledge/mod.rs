/*!
The knowledge base: one Markdown file per topic under `knowledge/`, validated by `kicau kb check`
and searched through an in-memory tantivy index.

[`load`] reads every `knowledge/**/*.md` file but the labelled examples' folder, the saved
replies' ([`replies`]: texts staff insert, not entries) and the emergency broadcasts'
([`broadcasts`]: key messages prepared in advance, not entries either); [`check`] finds every problem and says whether it
is an error (the entry is wrong: exit status 1) or a warning (a date is near or past: exit 0 unless
`--strict`), so the shipped base never turns CI red because of the calendar.
*/

pub mod broadcasts;
pub mod entry;
pub mod examples;
pub mod index;
pub mod links;
pub mod places;
pub mod replies;

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use time::{Date, Duration};

pub use entry::{Entry, ParseError};
pub use index::{Index, Match, SearchResult};
pub use links::Links;

use crate::config::Config;
use crate::tweet::{HANDLE_ALLOWANCE, MAX_WEIGHTED_LENGTH, weighted_length};

/// How serious a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

/// One problem, located at `path:line`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub severity: Severity,
    pub path: PathBuf,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(
            f,
            "{}:{}: {level}: {}",
            self.path.display(),
            self.line,
            self.message
        )
    }
}

/// An error at `path:line`: what the checks of every kind of file report.
pub(super) fn error(path: &Path, line: usize, message: String) -> Problem {
    Problem {
        severity: Severity::Error,
        path: path.to_path_buf(),
        line,
        message,
    }
}

/// Reading the folder failed (not a problem inside a file).
#[derive(Debug, thiserror::Error)]
pub enum KnowledgeError {
    /// A file or folder could not be read.
    #[error("{path}: cannot read")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The index could not be built.
    #[error("building the search index: {0}")]
    Index(#[from] tantivy::TantivyError),
}

/// Every entry that parsed, and a problem for every file that did not.
#[derive(Debug, Default)]
pub struct Loaded {
    pub entries: Vec<Entry>,
    pub problems: Vec<Problem>,
}

/// Reads every `*.md` file below `dir` (except the `examples/`, `replies/` and `broadcasts/`
/// folders), in path order.
pub fn load(dir: &Path) -> Result<Loaded, KnowledgeError> {
    let mut paths = Vec::new();
    collect_markdown(dir, &mut paths)?;
    paths.sort();
    let mut loaded = Loaded::default();
    for path in paths {
        let text = std::fs::read_to_string(&path).map_err(|source| KnowledgeError::Io {
            path: path.clone(),
            source,
        })?;
        match entry::parse(&path, &text) {
            Ok(entry) => loaded.entries.push(entry),
            Err(e) => loaded.problems.push(Problem {
                severity: Severity::Error,
                path: e.path,
                line: e.line,
                message: e.message,
            }),
        }
    }
    Ok(loaded)
}

fn collect_markdown(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), KnowledgeError> {
    let io = |source| KnowledgeError::Io {
        path: dir.to_path_buf(),
        source,
    };
    for item in std::fs::read_dir(dir).map_err(io)? {
        let path = item.map_err(io)?.path();
        // The labelled examples, the saved replies and the broadcasts have their own folders,
        // formats and READMEs.
        if path.is_dir()
            && path
                .file_name()
                .is_some_and(|n| n == "examples" || n == replies::FOLDER || n == broadcasts::FOLDER)
        {
            continue;
        }
        if path.is_dir() {
            collect_markdown(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "md") {
            out.push(path);
        }
    }
    Ok(())
}

/// Days before `expires` from which an entry is flagged.
const EXPIRY_WARNING_DAYS: i64 = 30;
/// Days after `reviewed` from which an entry is flagged as stale.
const REVIEW_WARNING_DAYS: i64 = 365;

/// Checks parsed entries against each other, the configuration and today's date.
pub fn check(entries: &[Entry], config: &Config, today: Date) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut first_seen: HashMap<&str, &Entry> = HashMap::new();
    for entry in entries {
        let mut problem = |severity, line, message: String| {
            problems.push(Problem {
                severity,
                path: entry.path.clone(),
                line,
                message,
            })
        };
        let lines = &entry.lines;
        let id_ok = !entry.id.is_empty()
            && entry
                .id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !id_ok {
            problem(
                Severity::Error,
                lines.id,
                format!(
                    "id {:?} must be lower-case letters, digits and dashes",
                    entry.id
                ),
            );
        }
        if let Some(other) = first_seen.get(entry.id.as_str()) {
            problem(
                Severity::Error,
                lines.id,
                format!(
                    "duplicate id {:?}: already used by {}",
                    entry.id,
                    other.path.display()
                ),
            );
        } else {
            first_seen.insert(&entry.id, entry);
        }
        if config.agency(&entry.agency).is_none() {
            problem(
                Severity::Error,
                lines.agency,
                format!(
                    "unknown agency {:?}: not an [[agency]] id in bot.toml",
                    entry.agency
                ),
            );
        }
        if !entry::CATEGORIES.contains(&entry.category.as_str()) {
            problem(
                Severity::Error,
                lines.category,
                format!(
                    "unknown category {:?}: use one of {}",
                    entry.category,
                    entry::CATEGORIES.join(", ")
                ),
            );
        }
        for link in &entry.links {
            if !link.starts_with("https://") || link.len() <= "https://".len() {
                problem(
                    Severity::Error,
                    lines.links,
                    format!("link {link:?} is not an https:// address"),
                );
            }
        }
        if entry.short_answer.is_empty() {
            problem(
                Severity::Error,
                lines.body,
                "empty body: the first paragraph must be the short answer".into(),
            );
        } else {
            let length = weighted_length(&entry.short_answer) + HANDLE_ALLOWANCE;
            if length > MAX_WEIGHTED_LENGTH {
                problem(
                    Severity::Error,
                    lines.body,
                    format!(
                        "short answer is {length} weighted characters with the @handle \
                         (at most {MAX_WEIGHTED_LENGTH}): shorten it by {}",
                        length - MAX_WEIGHTED_LENGTH
                    ),
                );
            }
            for link in entry.short_answer.split_whitespace() {
                if link.starts_with("http://") {
                    problem(
                        Severity::Error,
                        lines.body,
                        format!("link {link:?} in the short answer is not https://"),
                    );
                }
            }
        }
        if let Some(expires) = entry.expires {
            if expires < today {
                problem(
                    Severity::Warning,
                    lines.expires,
                    format!("expired on {expires}: not used for automatic answers until reviewed"),
                );
            } else if expires - today <= Duration::days(EXPIRY_WARNING_DAYS) {
                problem(
                    Severity::Warning,
                    lines.expires,
                    format!("expires on {expires}, within {EXPIRY_WARNING_DAYS} days"),
                );
            }
        }
        if today - entry.reviewed > Duration::days(REVIEW_WARNING_DAYS) {
            problem(
                Severity::Warning,
                lines.reviewed,
                format!(
                    "last reviewed on {}, more than a year ago: check the facts",
                    entry.reviewed
                ),
            );
        }
    }
    problems
}

/// What `kicau kb check` found in the whole knowledge folder.
#[derive(Debug, Default)]
pub struct CheckReport {
    /// How many entries parsed.
    pub entries: usize,
    /// How many saved replies passed.
    pub replies: usize,
    /// How many emergency broadcasts passed.
    pub broadcasts: usize,
    /// Every problem, in file order.
    pub problems: Vec<Problem>,
}

impl CheckReport {
    /// How many problems are of this severity.
    pub fn count(&self, severity: Severity) -> usize {
        self.problems
            .iter()
            .filter(|p| p.severity == severity)
            .count()
    }
}

/// Checks everything under the configured knowledge folders: every entry, the names of the
/// links in their answers (links.tsv), the saved replies, the emergency broadcasts (their review
/// dates against `today` too), the labelled examples, the lexicon files (whose loader
/// stops at the first bad line), and the gazetteer when there is one (its lines, and no street
/// or kelurahan named with a common word).
pub fn check_all(config: &Config, today: Date) -> Result<CheckReport, KnowledgeError> {
    let loaded = load(&config.knowledge.dir)?;
    let mut problems = loaded.problems;
    problems.extend(check(&loaded.entries, config, today));
    let (links, bad_lines) = Links::load(&config.knowledge.dir)?;
    problems.extend(bad_lines);
    problems.extend(links::check(&loaded.entries, &links, config));
    let saved = replies::load(config)?;
    problems.extend(saved.problems);
    let (broadcasts, bad) = broadcasts::read(&config.knowledge.dir.join(broadcasts::FOLDER));
    problems.extend(bad);
    problems.extend(broadcasts::check(&broadcasts, today));
    let agencies: Vec<&str> = config.agencies.iter().map(|a| a.id.as_str()).collect();
    let examples = examples::load(&config.knowledge.dir, &loaded.entries, &agencies)?;
    problems.extend(examples.problems);
    let lexicon = crate::language::Lexicon::load(&config.knowledge.lexicon_dir);
    // Duplicates are judged on normalised words; without the lexicon, on the plain words.
    let analyzer = crate::language::Analyzer::new(lexicon.as_ref().cloned().unwrap_or_default());
    problems.extend(examples::check(&examples.examples, &analyzer));
    let gazetteer = config.knowledge.dir.join("gazetteer.tsv");
    if let (Ok(lexicon), true) = (&lexicon, gazetteer.exists()) {
        problems.extend(check_gazetteer(&gazetteer, lexicon.clone()));
    }
    if let Err(e) = lexicon {
        let (path, line, message) = match e {
            crate::language::LexiconError::Io { path, source } => {
                (path, 1, format!("cannot read: {source}"))
            }
            crate::language::LexiconError::Line {
                path,
                line,
                message,
            } => (path, line, message),
        };
        problems.push(Problem {
            severity: Severity::Error,
            path,
            line,
            message,
        });
    }
    Ok(CheckReport {
        entries: loaded.entries.len(),
        replies: saved.replies.len(),
        broadcasts: broadcasts.len(),
        problems,
    })
}

/// The gazetteer's bad lines, and its names that the common words would cut.
fn check_gazetteer(path: &Path, lexicon: crate::language::Lexicon) -> Vec<Problem> {
    let problem = |line, message| Problem {
        severity: Severity::Error,
        path: path.to_path_buf(),
        line,
        message,
    };
    match places::Gazetteer::load(path, lexicon) {
        Ok(gazetteer) => gazetteer
            .problems()
            .into_iter()
            .map(|(line, message)| problem(line, message))
            .collect(),
        Err(places::GazetteerError::Line { line, message, .. }) => vec![problem(line, message)],
        Err(places::GazetteerError::Read { source, .. }) => {
            vec![problem(1, format!("cannot read: {source}"))]
        }
    }
}

/// Whether an entry may be used for an automatic answer today.
pub fn is_current(entry: &Entry, today: Date) -> bool {
    entry.expires.is_none_or(|expires| expires >= today)
}

/// Today's date in Indonesia's western time zone (WIB, UTC+7), where the account's day turns.
pub fn today() -> Date {
    let wib = time::UtcOffset::from_hms(7, 0, 0).expect("valid offset");
    time::OffsetDateTime::now_utc().to_offset(wib).date()
}
