/*!
What to do with one tweet: [`Engine::triage`] returns a [`Decision`] (answer, report, emergency,
handoff or ignore) with the evidence that led there, and [`Engine::reply`] the exact text the
account would post.

The rules run in order of cost of a mistake: danger first (a missed emergency is the worst
outcome), then what must not be answered (spam, pure insults, chatter not addressed to the
account), then a person's own case or a request for a person, then complaints to agencies, then
the knowledge base behind its confidence gate. Whatever is left goes to staff.
*/

mod cues;
pub mod model;
mod reply;
mod rules;

use std::path::Path;

use serde::Serialize;

pub use cues::{CueSet, Stems};

use crate::config::Config;
use crate::knowledge::{self, Entry, Index, Severity};
use crate::language::{Analyzer, Lexicon, PiiKind};

/// The five things Kicau can do with a tweet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Answer,
    Report,
    Emergency,
    Handoff,
    Ignore,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Answer => "answer",
            Kind::Report => "report",
            Kind::Emergency => "emergency",
            Kind::Handoff => "handoff",
            Kind::Ignore => "ignore",
        }
    }

    pub fn parse(text: &str) -> Option<Kind> {
        [
            Kind::Answer,
            Kind::Report,
            Kind::Emergency,
            Kind::Handoff,
            Kind::Ignore,
        ]
        .into_iter()
        .find(|k| k.as_str() == text)
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A decision and why it was taken.
#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    pub kind: Kind,
    /// The knowledge-base entry answered with (answers only).
    pub topic: Option<String>,
    /// The agency that receives the report, or the answered entry's agency.
    pub agency: Option<String>,
    /// The rule that decided, e.g. `kb_confident`, `emergency_critical`, `spam`.
    pub rule: &'static str,
    /// Whether an emergency is medical (the reply then gives 119 too).
    pub medical: bool,
    pub evidence: Evidence,
}

/// What a decision rests on, for `kicau ask`, logs and staff.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Evidence {
    /// The tweet's formal words after normalisation.
    pub words: Vec<String>,
    /// Cues that fired, as `set:cue`.
    pub cues: Vec<String>,
    /// The best knowledge-base candidates.
    pub candidates: Vec<Candidate>,
    /// The gate's inputs for the best candidate.
    pub score: f32,
    pub margin: f32,
    pub coverage: f32,
    /// Agencies whose remit matched, best first, with their scores.
    pub agencies: Vec<(String, f32)>,
    /// Terms corrected for typos: (written, corrected).
    pub corrected: Vec<(String, String)>,
    /// Kinds of personal data in the tweet (never the data itself).
    pub personal_data: Vec<PiiKind>,
}

/// One knowledge-base candidate in the evidence.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    pub topic: String,
    pub bm25: f32,
    pub score: f32,
    pub coverage: f32,
    pub matched: Vec<String>,
}

/// Why the engine could not be built.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A lexicon file is missing or malformed.
    #[error(transparent)]
    Lexicon(#[from] crate::language::LexiconError),
    /// The knowledge folder could not be read or indexed.
    #[error(transparent)]
    Knowledge(#[from] knowledge::KnowledgeError),
    /// Knowledge entries have errors; each is one `file:line: message`.
    #[error("the knowledge base has {} error(s):\n{}", .0.len(), .0.join("\n"))]
    Entries(Vec<String>),
}

/// Everything triage needs, loaded once: the analyzer, the entries and their index, the rules.
pub struct Engine {
    config: Config,
    analyzer: Analyzer,
    entries: Vec<Entry>,
    index: Index,
    rules: rules::Rules,
}

impl Engine {
    /// Loads the lexicon and the knowledge base named by `config`, refusing a base with errors
    /// (warnings, such as an entry near its expiry date, are logged).
    pub fn load(config: &Config) -> Result<Engine, EngineError> {
        let lexicon = Lexicon::load(&config.knowledge.lexicon_dir)?;
        let loaded = knowledge::load(&config.knowledge.dir)?;
        let today = knowledge::today();
        let mut problems = loaded.problems;
        problems.extend(knowledge::check(&loaded.entries, config, today));
        let errors: Vec<String> = problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
            .map(ToString::to_string)
            .collect();
        if !errors.is_empty() {
            return Err(EngineError::Entries(errors));
        }
        for warning in &problems {
            tracing::warn!(%warning, "knowledge base");
        }
        Engine::build(config.clone(), lexicon, loaded.entries)
    }

    /// Builds an engine from parts already loaded (tests and benchmarks use it too).
    pub fn build(
        config: Config,
        mut lexicon: Lexicon,
        entries: Vec<Entry>,
    ) -> Result<Engine, EngineError> {
        // The knowledge base's own formal words (titles, answers) are standard words.
        let formal: Vec<String> = entries
            .iter()
            .flat_map(|e| {
                format!("{} {} {}", e.title, e.short_answer, e.details)
                    .to_lowercase()
                    .split(|c: char| !c.is_alphabetic())
                    .filter(|w| w.len() > 2)
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .collect();
        lexicon.extend_vocabulary(formal);
        let analyzer = Analyzer::new(lexicon);
        // Expired entries stay in the index, so that a question about them is recognised, but
        // triage never answers with one (it checks the date at every decision: the process may
        // run for months).
        let index = Index::build(&entries, &analyzer)?;
        let rules = rules::Rules::compile(&analyzer, &config);
        Ok(Engine {
            config,
            analyzer,
            entries,
            index,
            rules,
        })
    }

    /// Loads an engine from a configuration file path.
    pub fn from_config_path(path: &Path) -> anyhow::Result<Engine> {
        let config = Config::load(path)?;
        Ok(Engine::load(&config)?)
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The learned model's features with the engine's cue lists and remits.
    pub fn featurizer(&self) -> model::Featurizer<'_> {
        model::Featurizer {
            analyzer: &self.analyzer,
            rules: Some(&self.rules),
        }
    }

    pub fn analyzer(&self) -> &Analyzer {
        &self.analyzer
    }

    /// Every entry of the knowledge base, in index order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The entry with this id.
    pub fn entry(&self, id: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.id == id)
    }

    /// Decides what to do with one tweet's text.
    pub fn triage(&self, text: &str) -> Decision {
        rules::decide(self, text)
    }

    /// The exact text the account posts in reply to `citizen` for `decision`, or `None` when
    /// nothing is posted.
    pub fn reply(&self, decision: &Decision, citizen: &str) -> Option<String> {
        let body = reply::compose(self, decision)?;
        Some(crate::tweet::thread(citizen, &body).join("\n"))
    }

    /// The tweets the account posts for `decision`: one, or a numbered thread when the text is
    /// longer than one tweet. Empty when nothing is posted.
    pub fn reply_thread(&self, decision: &Decision, citizen: &str) -> Vec<String> {
        reply::compose(self, decision)
            .map(|body| crate::tweet::thread(citizen, &body))
            .unwrap_or_default()
    }
}

/// A readable account of a decision for `kicau ask`: kind, topic or agency, rule, scores, cues
/// and the reply.
pub fn describe(decision: &Decision, reply: Option<&str>) -> String {
    use std::fmt::Write as _;
    let e = &decision.evidence;
    let mut out = String::new();
    let _ = writeln!(out, "decision: {}", decision.kind);
    if let Some(topic) = &decision.topic {
        let _ = writeln!(out, "topic:    {topic}");
    }
    if let Some(agency) = &decision.agency {
        let _ = writeln!(out, "agency:   {agency}");
    }
    let _ = writeln!(out, "rule:     {}", decision.rule);
    let _ = writeln!(
        out,
        "scores:   score {:.3}, margin {:.3}, coverage {:.3}",
        e.score, e.margin, e.coverage
    );
    for c in &e.candidates {
        let _ = writeln!(
            out,
            "  candidate {:<20} bm25 {:>6.2}  score {:.3}  coverage {:.3}  matched [{}]",
            c.topic,
            c.bm25,
            c.score,
            c.coverage,
            c.matched.join(" ")
        );
    }
    if !e.agencies.is_empty() {
        let list: Vec<String> = e
            .agencies
            .iter()
            .map(|(id, s)| format!("{id} {s:.2}"))
            .collect();
        let _ = writeln!(out, "agencies: {}", list.join(", "));
    }
    if !e.cues.is_empty() {
        let _ = writeln!(out, "cues:     {}", e.cues.join(", "));
    }
    if !e.corrected.is_empty() {
        let list: Vec<String> = e
            .corrected
            .iter()
            .map(|(a, b)| format!("{a}->{b}"))
            .collect();
        let _ = writeln!(out, "typos:    {}", list.join(", "));
    }
    if !e.personal_data.is_empty() {
        let _ = writeln!(
            out,
            "personal data found (not shown): {:?}",
            e.personal_data
        );
    }
    let _ = writeln!(out, "words:    {}", e.words.join(" "));
    match reply {
        Some(text) => {
            let _ = writeln!(
                out,
                "reply ({} weighted characters):\n{text}",
                crate::tweet::weighted_length(text)
            );
        }
        None => {
            let _ = writeln!(out, "reply:    no reply");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn shipped() -> (Config, Lexicon, Vec<Entry>) {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let config = Config::load(&root.join("bot.toml")).unwrap();
        let lexicon = Lexicon::load(&config.knowledge.lexicon_dir).unwrap();
        let entries = knowledge::load(&config.knowledge.dir).unwrap().entries;
        (config, lexicon, entries)
    }

    #[test]
    fn an_expired_entry_is_recognised_but_never_answered_with() {
        let question = "syarat bikin kk baru apa aja min?";
        let (config, lexicon, mut entries) = shipped();
        let engine = Engine::build(config.clone(), lexicon.clone(), entries.clone()).unwrap();
        assert_eq!(engine.triage(question).topic.as_deref(), Some("kk"));

        let kk = entries.iter_mut().find(|e| e.id == "kk").unwrap();
        kk.expires = Some(time::macros::date!(2020 - 01 - 01));
        let engine = Engine::build(config, lexicon, entries).unwrap();
        let decision = engine.triage(question);
        assert_eq!(decision.kind, Kind::Handoff);
        assert_eq!(decision.rule, "kb_expired");
    }
}
