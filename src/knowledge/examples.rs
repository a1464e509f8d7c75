/*!
Labelled examples: how citizens write what the bot must answer, report, treat as an emergency,
hand to staff or ignore. The triage model learns from them. They are plain text files under
`knowledge/examples/`, one example a line, labelled by the file they stand in:

```text
knowledge/examples/topics/<topic id>.txt      answered with that knowledge entry
knowledge/examples/agencies/<agency id>.txt   reported to that agency (an [[agency]] of bot.toml)
knowledge/examples/emergency.txt              danger now: 112 at once
knowledge/examples/handoff.txt                a person must answer
knowledge/examples/ignore.txt                 spam, advertising, insults, empty mentions
knowledge/examples/lookalikes.txt             sound like an emergency but are not: each line
                                              says what it really is, `report dlh: <text>`,
                                              `answer banjir-info: <text>`, `handoff: <text>`,
                                              `ignore: <text>`
```

Blank lines and lines starting with `#` are comments. Each entry's `questions` count as examples
of its topic too. `kicau kb check` refuses an example whose topic or agency does not exist, a
malformed look-alike line, a duplicate, and the same text under two labels (each with its
`file:line`); a near-duplicate (the same words in another order or spelling) is a warning.
*/

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use super::{Entry, KnowledgeError, Problem, Severity, error};
use crate::language::Analyzer;

/// What the bot should do with an example's text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Label {
    /// Answer with this knowledge entry (its id).
    Answer(String),
    /// Report to this agency (its id in bot.toml).
    Report(String),
    Emergency,
    Handoff,
    Ignore,
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Label::Answer(topic) => write!(f, "answer {topic}"),
            Label::Report(agency) => write!(f, "report {agency}"),
            Label::Emergency => f.write_str("emergency"),
            Label::Handoff => f.write_str("handoff"),
            Label::Ignore => f.write_str("ignore"),
        }
    }
}

impl Label {
    /// Reads a label as [`Label`]'s `Display` writes it: `answer <topic>`, `report <agency>`,
    /// `emergency`, `handoff` or `ignore`.
    pub fn parse(text: &str) -> Option<Label> {
        if text.trim() == "emergency" {
            return Some(Label::Emergency);
        }
        Label::parse_lookalike(text)
    }

    /// Reads a label as written in `lookalikes.txt`: `answer <topic>`, `report <agency>`,
    /// `handoff` or `ignore` (a look-alike is by definition not an emergency).
    pub fn parse_lookalike(text: &str) -> Option<Label> {
        let mut words = text.split_whitespace();
        let label = match (words.next()?, words.next()) {
            ("answer", Some(topic)) => Label::Answer(topic.to_owned()),
            ("report", Some(agency)) => Label::Report(agency.to_owned()),
            ("handoff", None) => Label::Handoff,
            ("ignore", None) => Label::Ignore,
            _ => return None,
        };
        words.next().is_none().then_some(label)
    }
}

/// One labelled example and where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    pub text: String,
    pub label: Label,
    pub path: PathBuf,
    pub line: usize,
}

/// Every example that parsed, and a problem for every line or file that did not.
#[derive(Debug, Default)]
pub struct Examples {
    pub examples: Vec<Example>,
    pub problems: Vec<Problem>,
}

impl Examples {
    /// How many examples each label has.
    pub fn counts(&self) -> HashMap<&Label, usize> {
        let mut counts = HashMap::new();
        for example in &self.examples {
            *counts.entry(&example.label).or_insert(0) += 1;
        }
        counts
    }
}

/// Reads `<knowledge>/examples/` and the entries' questions. Topics must be among `entries`,
/// agencies among `agencies`; anything else is a problem at its `file:line`.
pub fn load(
    knowledge_dir: &Path,
    entries: &[Entry],
    agencies: &[&str],
) -> Result<Examples, KnowledgeError> {
    let mut out = Examples::default();
    for entry in entries {
        for question in &entry.questions {
            out.examples.push(Example {
                text: question.clone(),
                label: Label::Answer(entry.id.clone()),
                path: entry.path.clone(),
                line: 1,
            });
        }
    }
    let dir = knowledge_dir.join("examples");
    if !dir.is_dir() {
        return Ok(out);
    }
    let topics: Vec<&str> = entries.iter().map(|e| e.id.as_str()).collect();
    for path in files_under(&dir)? {
        let relative = path.strip_prefix(&dir).unwrap_or(&path);
        let parts: Vec<String> = relative
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        let stem = |name: &str| name.strip_suffix(".txt").map(str::to_owned);
        let file_label: Result<Option<Label>, String> = match parts.as_slice() {
            [dir, name] if dir == "topics" => match stem(name) {
                Some(id) if topics.contains(&id.as_str()) => Ok(Some(Label::Answer(id))),
                Some(id) => Err(format!("no knowledge entry has the id {id:?}")),
                None => Err("example files end in .txt".into()),
            },
            [dir, name] if dir == "agencies" => match stem(name) {
                Some(id) if agencies.contains(&id.as_str()) => Ok(Some(Label::Report(id))),
                Some(id) => Err(format!("bot.toml has no [[agency]] with the id {id:?}")),
                None => Err("example files end in .txt".into()),
            },
            [name] if name == "emergency.txt" => Ok(Some(Label::Emergency)),
            [name] if name == "handoff.txt" => Ok(Some(Label::Handoff)),
            [name] if name == "ignore.txt" => Ok(Some(Label::Ignore)),
            [name] if name == "lookalikes.txt" => Ok(None),
            [name] if name.ends_with(".md") || name == "README" => continue,
            _ => Err(
                "not an example file: use topics/<id>.txt, agencies/<id>.txt, emergency.txt, \
                 handoff.txt, ignore.txt or lookalikes.txt"
                    .into(),
            ),
        };
        let file_label = match file_label {
            Ok(label) => label,
            Err(message) => {
                out.problems.push(error(&path, 1, message));
                continue;
            }
        };
        let text = std::fs::read_to_string(&path).map_err(|source| KnowledgeError::Io {
            path: path.clone(),
            source,
        })?;
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let (label, text) = match &file_label {
                Some(label) => (label.clone(), trimmed),
                None => match lookalike(trimmed, &topics, agencies) {
                    Ok(pair) => pair,
                    Err(message) => {
                        out.problems.push(error(&path, line, message));
                        continue;
                    }
                },
            };
            out.examples.push(Example {
                text: text.to_owned(),
                label,
                path: path.clone(),
                line,
            });
        }
    }
    Ok(out)
}

/// A line of `lookalikes.txt`: `<label>: <text>`.
fn lookalike<'a>(
    line: &'a str,
    topics: &[&str],
    agencies: &[&str],
) -> Result<(Label, &'a str), String> {
    let usage = "write `answer <topic>: <text>`, `report <agency>: <text>`, `handoff: <text>` \
                 or `ignore: <text>`";
    let Some((head, text)) = line.split_once(':') else {
        return Err(format!("no label: {usage}"));
    };
    let Some(label) = Label::parse_lookalike(head) else {
        return Err(format!("{:?} is not a label: {usage}", head.trim()));
    };
    match &label {
        Label::Answer(topic) if !topics.contains(&topic.as_str()) => {
            return Err(format!("no knowledge entry has the id {topic:?}"));
        }
        Label::Report(agency) if !agencies.contains(&agency.as_str()) => {
            return Err(format!("bot.toml has no [[agency]] with the id {agency:?}"));
        }
        _ => {}
    }
    let text = text.trim();
    if text.is_empty() {
        return Err("the example's text is empty".into());
    }
    Ok((label, text))
}

/// Every file under `dir`, at any depth, sorted.
pub fn files_under(dir: &Path) -> Result<Vec<PathBuf>, KnowledgeError> {
    let mut files = Vec::new();
    collect_files(dir, &mut files)?;
    files.sort();
    Ok(files)
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), KnowledgeError> {
    let io = |source| KnowledgeError::Io {
        path: dir.to_path_buf(),
        source,
    };
    for item in std::fs::read_dir(dir).map_err(io)? {
        let path = item.map_err(io)?.path();
        if path.is_dir() {
            collect_files(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// Duplicates (an error), the same text under two labels (an error) and near-duplicates (the
/// same search terms in any order: a warning), each pointing at the first occurrence.
pub fn check(examples: &[Example], analyzer: &Analyzer) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut exact: HashMap<String, &Example> = HashMap::new();
    let mut near: HashMap<Vec<String>, &Example> = HashMap::new();
    for example in examples {
        let at = |first: &Example| format!("{}:{}", first.path.display(), first.line);
        let key = surface_key(&example.text);
        if let Some(first) = exact.get(&key) {
            let message = if first.label == example.label {
                format!("duplicate of the example at {}", at(first))
            } else {
                format!(
                    "the same text is labelled {} at {}, and {} here",
                    first.label,
                    at(first),
                    example.label
                )
            };
            problems.push(error(&example.path, example.line, message));
            continue;
        }
        exact.insert(key, example);
        let mut terms = analyzer.analyze(&example.text).terms;
        terms.sort();
        terms.dedup();
        if terms.len() < 2 {
            continue;
        }
        match near.get(&terms) {
            Some(first) if first.label != example.label => problems.push(error(
                &example.path,
                example.line,
                format!(
                    "says what the example at {} says ({}), but is labelled {}",
                    at(first),
                    first.label,
                    example.label
                ),
            )),
            Some(first) => problems.push(Problem {
                severity: Severity::Warning,
                path: example.path.clone(),
                line: example.line,
                message: format!(
                    "near-duplicate of the example at {}: vary the wording",
                    at(first)
                ),
            }),
            None => {
                near.insert(terms, example);
            }
        }
    }
    problems
}

/// The text as compared for duplicates: lower case, letters and digits only, handles dropped.
fn surface_key(text: &str) -> String {
    text.split_whitespace()
        .filter(|w| !w.starts_with('@'))
        .map(|w| {
            w.chars()
                .filter(|c| c.is_alphanumeric())
                .flat_map(char::to_lowercase)
                .collect::<String>()
        })
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(text: &str, label: Label, line: usize) -> Example {
        Example {
            text: text.into(),
            label,
            path: PathBuf::from("knowledge/examples/handoff.txt"),
            line,
        }
    }

    #[test]
    fn lookalike_labels_are_read_strictly() {
        assert_eq!(
            Label::parse_lookalike("report dlh"),
            Some(Label::Report("dlh".into()))
        );
        assert_eq!(Label::parse_lookalike(" handoff "), Some(Label::Handoff));
        assert_eq!(Label::parse_lookalike("emergency"), None);
        assert_eq!(Label::parse_lookalike("answer"), None);
        assert_eq!(Label::parse_lookalike("ignore this"), None);
        let topics = ["banjir-info"];
        let agencies = ["dlh"];
        assert_eq!(
            lookalike(
                "answer banjir-info: daerah rawan banjir mana aja min",
                &topics,
                &agencies
            ),
            Ok((
                Label::Answer("banjir-info".into()),
                "daerah rawan banjir mana aja min"
            ))
        );
        assert!(lookalike("answer nope: x", &topics, &agencies).is_err());
        assert!(lookalike("report dlh:   ", &topics, &agencies).is_err());
        assert!(lookalike("pohon miring depan rumah", &topics, &agencies).is_err());
    }

    #[test]
    fn duplicates_and_conflicting_labels_are_errors_with_the_first_place() {
        let analyzer = Analyzer::new(crate::language::Lexicon::default());
        let examples = vec![
            example("@PemkotMalang Konser kapan?", Label::Handoff, 1),
            example("konser kapan", Label::Handoff, 2),
            example("KONSER, kapan!!", Label::Ignore, 3),
            example(
                "lampu jalan mati di jl tidar",
                Label::Report("dpuprpkp".into()),
                4,
            ),
            example(
                "di jl tidar lampu jalan mati",
                Label::Report("dpuprpkp".into()),
                5,
            ),
        ];
        let problems = check(&examples, &analyzer);
        let lines: Vec<(usize, Severity)> = problems.iter().map(|p| (p.line, p.severity)).collect();
        assert_eq!(
            lines,
            [
                (2, Severity::Error),
                (3, Severity::Error),
                (5, Severity::Warning)
            ]
        );
        assert!(
            problems[0].message.contains("handoff.txt:1"),
            "{problems:?}"
        );
        assert!(
            problems[1].message.contains("labelled handoff"),
            "{problems:?}"
        );
    }
}
