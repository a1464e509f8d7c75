/*!
The names of the official channels behind the links in knowledge answers, from
`knowledge/links.tsv` (a host, a tab, the name people read; `#` comments).

Since February 2026 X bills a post that holds a URL twenty times a plain reply, so with
`[x] links_in_replies` set to `never` (or `on_request`, when the tweet did not ask for a link) the
bot writes "situs Si Apel" where the answer says `https://siapel.malangkota.go.id`:
[`Links::unlinked`]. What counts as a link is what X links ([`crate::tweet::urls`]), bare domains
such as `malangkota.go.id` included; a name must not be one. A host the file does not name reads
"situs <FIRST LABEL>", and `kicau kb check` warns about it ([`check`]).
*/

use std::collections::HashMap;
use std::path::Path;

use super::{Entry, KnowledgeError, Problem, Severity, error};
use crate::config::{Config, LinksInReplies};
use crate::tweet::{HANDLE_ALLOWANCE, MAX_WEIGHTED_LENGTH, urls, weighted_length};

/// The file's name in the knowledge folder.
pub const FILE: &str = "links.tsv";

/// Every named host (lower case, without `www.`) and its name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Links {
    names: HashMap<String, String>,
}

impl Links {
    /// Reads `dir/links.tsv`: the table, and a problem for every line it could not read (those
    /// lines are left out). A folder without the file has no names: every host reads as its
    /// fallback.
    pub fn load(dir: &Path) -> Result<(Links, Vec<Problem>), KnowledgeError> {
        let path = dir.join(FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(Links::parse(&text, &path)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok((Links::default(), vec![])),
            Err(source) => Err(KnowledgeError::Io { path, source }),
        }
    }

    /// Parses the file's text; `path` names it in the problems.
    pub fn parse(text: &str, path: &Path) -> (Links, Vec<Problem>) {
        let mut links = Links::default();
        let mut problems = Vec::new();
        let mut first_line: HashMap<String, usize> = HashMap::new();
        for (i, line) in text.lines().enumerate() {
            let line_no = i + 1;
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            let mut problem = |message: String| problems.push(error(path, line_no, message));
            let columns: Vec<&str> = line.split('\t').collect();
            let [host, name] = columns[..] else {
                problem(format!(
                    "expected 2 tab-separated columns (host, name), found {}",
                    columns.len()
                ));
                continue;
            };
            let (written, name) = (host.trim(), name.trim());
            let host = normalise(written);
            let linked_whole = matches!(urls(&host).as_slice(), [url] if *url == (0..host.len()));
            if written.contains("://") || written.contains('/') || !linked_whole {
                problem(format!(
                    "{written:?} is not a host such as siapel.malangkota.go.id"
                ));
                continue;
            }
            if name.is_empty() {
                problem(format!("{written} has an empty name"));
                continue;
            }
            if let Some(url) = urls(name).first() {
                problem(format!(
                    "the name {name:?} holds {:?}, which X links: name the channel, not its \
                     address",
                    &name[url.clone()]
                ));
                continue;
            }
            if let Some(first) = first_line.get(&host) {
                problem(format!("{host} is named twice (first on line {first})"));
                continue;
            }
            first_line.insert(host.clone(), line_no);
            links.names.insert(host, name.to_owned());
        }
        (links, problems)
    }

    /// Whether the file names `host` (as written in a link: any case, with or without `www.`).
    pub fn knows(&self, host: &str) -> bool {
        self.names.contains_key(&normalise(host))
    }

    /// The name people read for `host`: the file's, else "situs" and the host's first label in
    /// capitals ("situs PUSKARJUNO").
    pub fn name(&self, host: &str) -> String {
        let host = normalise(host);
        if let Some(name) = self.names.get(&host) {
            return name.clone();
        }
        let label = host.split('.').next().unwrap_or_default();
        format!("situs {}", label.to_uppercase())
    }

    /// `text` with every link X would make replaced by its channel's name, the punctuation
    /// around it kept: "Info: https://siapel.malangkota.go.id." becomes "Info: situs Si Apel.".
    /// Where the words before the link already are the name ("lewat SIMBG: https://simbg.pu.go.id")
    /// the link and its colon are dropped instead ("lewat SIMBG"), so that nothing is said twice.
    pub fn unlinked(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for url in urls(text) {
            out.push_str(&text[last..url.start]);
            last = url.end;
            let name = self.name(&host_of(&text[url]));
            if let Some(end) = named_before(&out, &name) {
                out.truncate(end);
                continue;
            }
            // A new sentence begins after a full stop and a space (not after "pusk<nama>.").
            let said = out.trim_end();
            let sentence_start =
                said.is_empty() || (said.len() < out.len() && said.ends_with(['.', '!', '?']));
            if sentence_start {
                let mut chars = name.chars();
                out.extend(chars.next().into_iter().flat_map(char::to_uppercase));
                out.push_str(chars.as_str());
            } else {
                out.push_str(&name);
            }
        }
        out.push_str(&text[last..]);
        out
    }
}

/// The hosts of the links X would make in `text`, lower case, in order, each once.
pub fn hosts_in(text: &str) -> Vec<String> {
    let mut hosts: Vec<String> = Vec::new();
    for url in urls(text) {
        let host = host_of(&text[url]);
        if !hosts.contains(&host) {
            hosts.push(host);
        }
    }
    hosts
}

/// What `kicau kb check` says about the links of the entries' short answers: a warning for every
/// host links.tsv does not name, and, unless `[x] links_in_replies = "always"`, for a short
/// answer that no longer fits in one tweet once its links are names.
pub fn check(entries: &[Entry], links: &Links, config: &Config) -> Vec<Problem> {
    let mut problems = Vec::new();
    for entry in entries {
        let mut warning = |message: String| {
            problems.push(Problem {
                severity: Severity::Warning,
                path: entry.path.clone(),
                line: entry.lines.body,
                message,
            })
        };
        for host in hosts_in(&entry.short_answer) {
            if !links.knows(&host) {
                warning(format!(
                    "{host} has no name in {FILE}: replies without links will say {:?}",
                    links.name(&host)
                ));
            }
        }
        if config.x.links_in_replies == LinksInReplies::Always {
            continue;
        }
        let length = weighted_length(&links.unlinked(&entry.short_answer)) + HANDLE_ALLOWANCE;
        if length > MAX_WEIGHTED_LENGTH {
            warning(format!(
                "without its links the short answer is {length} weighted characters with the \
                 @handle (at most {MAX_WEIGHTED_LENGTH}): it goes out as a thread"
            ));
        }
    }
    problems
}

/// A link's host, lower case: "https://www.lapor.go.id/x" -> "www.lapor.go.id".
fn host_of(url: &str) -> String {
    let lower = url.to_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .unwrap_or(&lower);
    rest.split(['/', ':', '?', '#'])
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// A host as the table keys it: lower case, without a leading `www.`.
fn normalise(host: &str) -> String {
    let lower = host.trim().to_lowercase();
    match lower.strip_prefix("www.") {
        Some(rest) => rest.to_owned(),
        None => lower,
    }
}

/// Where `out` would end without a trailing colon if its last words are already `name` (without
/// its leading "situs "), as whole words; `None` otherwise.
fn named_before(out: &str, name: &str) -> Option<usize> {
    let said = name.strip_prefix("situs ").unwrap_or(name);
    let trimmed = out.trim_end();
    let trimmed = trimmed.strip_suffix(':').unwrap_or(trimmed).trim_end();
    let start = trimmed.len().checked_sub(said.len())?;
    let tail = trimmed.get(start..)?;
    let whole_word = trimmed[..start]
        .chars()
        .next_back()
        .is_none_or(|c| !c.is_alphanumeric());
    (whole_word && !said.is_empty() && tail.to_lowercase() == said.to_lowercase())
        .then_some(trimmed.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "# host\tname\n\
                         siapel.malangkota.go.id\tsitus Si Apel\n\
                         malangkota.go.id\tsitus resmi Pemkot Malang\n\
                         www.lapor.go.id\tsitus SP4N-LAPOR!\n\
                         simbg.pu.go.id\tsitus SIMBG\n";

    fn table() -> Links {
        let (links, problems) = Links::parse(TABLE, Path::new("links.tsv"));
        assert_eq!(problems, []);
        links
    }

    #[test]
    fn a_link_becomes_its_channels_name_and_keeps_its_punctuation() {
        let links = table();
        assert_eq!(
            links.unlinked("Urus di MPP atau https://siapel.malangkota.go.id, gratis."),
            "Urus di MPP atau situs Si Apel, gratis."
        );
        assert_eq!(
            links.unlinked("Info: https://siapel.malangkota.go.id."),
            "Info: situs Si Apel."
        );
        assert_eq!(
            links.unlinked("laporkan lewat https://www.lapor.go.id atau SMS 1708"),
            "laporkan lewat situs SP4N-LAPOR! atau SMS 1708"
        );
        assert_eq!(
            links.unlinked("(https://siapel.malangkota.go.id/)"),
            "(situs Si Apel)"
        );
    }

    #[test]
    fn a_bare_domain_is_a_link_too() {
        let links = table();
        assert_eq!(
            links.unlinked("berita ada di malangkota.go.id ya, atau lapor.go.id"),
            "berita ada di situs resmi Pemkot Malang ya, atau situs SP4N-LAPOR!"
        );
        // An e-mail address is not linked by X, so it stays.
        assert_eq!(
            links.unlinked("Pengaduan: rsud@gmail.com"),
            "Pengaduan: rsud@gmail.com"
        );
    }

    #[test]
    fn a_name_already_said_is_not_said_twice() {
        let links = table();
        assert_eq!(
            links.unlinked("Pengajuannya online lewat SIMBG: https://simbg.pu.go.id. Di kota"),
            "Pengajuannya online lewat SIMBG. Di kota"
        );
        // Only whole words count: "XSIMBG" is not "SIMBG".
        assert_eq!(
            links.unlinked("lewat XSIMBG https://simbg.pu.go.id"),
            "lewat XSIMBG situs SIMBG"
        );
    }

    #[test]
    fn a_link_that_starts_a_sentence_gives_a_capitalised_name() {
        assert_eq!(
            table().unlinked("Gratis. https://siapel.malangkota.go.id melayani 24 jam."),
            "Gratis. Situs Si Apel melayani 24 jam."
        );
        assert_eq!(
            table().unlinked("https://siapel.malangkota.go.id, gratis"),
            "Situs Si Apel, gratis"
        );
    }

    #[test]
    fn an_unnamed_host_reads_as_its_first_label() {
        let links = table();
        assert!(!links.knows("puskarjuno.malangkota.go.id"));
        assert_eq!(
            links.unlinked("cek https://puskarjuno.malangkota.go.id"),
            "cek situs PUSKARJUNO"
        );
        assert_eq!(links.name("WWW.Lapor.go.id"), "situs SP4N-LAPOR!");
    }

    #[test]
    fn bad_lines_are_reported_with_their_numbers_and_the_rest_is_kept() {
        let text = "# comment\n\
                    siapel.malangkota.go.id\tsitus Si Apel\n\
                    dinkes.malangkota.go.id situs Dinkes\n\
                    https://ppid.malangkota.go.id\tsitus PPID\n\
                    jdih.malangkota.go.id\t\n\
                    bpbd.malangkota.go.id\tbpbd.malangkota.go.id\n\
                    SIAPEL.malangkota.go.id\tsitus SIAPEL\n\
                    tidak ada titik\tsitus X\n";
        let (links, problems) = Links::parse(text, Path::new("kb/links.tsv"));
        let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "kb/links.tsv:3: error: expected 2 tab-separated columns (host, name), found 1",
                "kb/links.tsv:4: error: \"https://ppid.malangkota.go.id\" is not a host such as siapel.malangkota.go.id",
                "kb/links.tsv:5: error: jdih.malangkota.go.id has an empty name",
                "kb/links.tsv:6: error: the name \"bpbd.malangkota.go.id\" holds \"bpbd.malangkota.go.id\", which X links: name the channel, not its address",
                "kb/links.tsv:7: error: siapel.malangkota.go.id is named twice (first on line 2)",
                "kb/links.tsv:8: error: \"tidak ada titik\" is not a host such as siapel.malangkota.go.id",
            ]
        );
        assert_eq!(links.name("siapel.malangkota.go.id"), "situs Si Apel");
    }

    #[test]
    fn every_host_in_the_shipped_answers_has_a_name_nobody_can_click() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge");
        let (links, problems) = Links::load(&dir).unwrap();
        assert_eq!(problems, [], "knowledge/{FILE} has bad lines");
        let loaded = super::super::load(&dir).unwrap();
        assert!(loaded.entries.len() > 50);
        let mut unnamed = Vec::new();
        for entry in &loaded.entries {
            for host in hosts_in(&entry.short_answer) {
                if !links.knows(&host) {
                    unnamed.push(format!("{host} ({})", entry.path.display()));
                }
            }
            let unlinked = links.unlinked(&entry.short_answer);
            assert!(
                urls(&unlinked).is_empty(),
                "{}: {unlinked}",
                entry.path.display()
            );
        }
        assert!(
            unnamed.is_empty(),
            "hosts without a name in knowledge/{FILE}: {}",
            unnamed.join(", ")
        );
        for name in links.names.values() {
            assert!(urls(name).is_empty(), "{name}");
        }
    }
}
