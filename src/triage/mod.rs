/*!
What to do with one tweet: [`Engine::triage`] returns a [`Decision`] (answer, report, emergency,
handoff or ignore) with the evidence that led there, and [`Engine::reply`] the exact text the
account would post.

A model learned from the labelled examples ([`model`], trained in [`training`]) gives every
label a calibrated probability; the gate of bot.toml's `[triage]` turns them into a decision
(emergency first, at a low threshold; an answer or a report only when sure, else staff). Then the
safety net ([`rules`]) may raise the decision to an emergency or keep an answer from going out
automatically; it never picks a topic or an agency.
*/

mod cues;
pub mod live;
pub mod model;
mod reply;
mod rules;
pub mod training;

use std::path::Path;

use serde::Serialize;

pub use cues::{CueSet, Stems};

use crate::config::Config;
use crate::knowledge::examples::{Example, Label};
use crate::knowledge::{self, Entry, Index, Links, Severity};
use crate::language::{Analyzer, Lexicon, PiiKind};
use model::{Model, TrainOptions};
use training::{Gate, Provenance};

/// The least probability of an emergency at which the safety net's danger words raise a
/// decision to an emergency.
const NET_EMERGENCY_FLOOR: f32 = 0.1;

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
    /// What decided: `model_answer`, `model_report`, `model_emergency`, `model_handoff`,
    /// `model_ignore`, `model_unsure` (nothing sure enough: staff), or the safety net's
    /// `net_emergency`, `net_own_case`, `net_asks_for_person`, `net_sensitive`, `kb_expired`;
    /// `example` (the text reads exactly like a labelled example or an accepted correction);
    /// and `empty`.
    pub rule: &'static str,
    /// Whether an emergency is medical (the reply then gives 119 too).
    pub medical: bool,
    pub evidence: Evidence,
}

/// What a decision rests on, for `kicau ask`, `/api/ask`, the console and logs.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Evidence {
    /// The tweet's formal words after normalisation.
    pub words: Vec<String>,
    /// The model's most likely labels with their calibrated probabilities, best first.
    pub labels: Vec<(String, f32)>,
    /// The features that weighed most for the label decided (or the best one, when the gate
    /// handed the tweet to staff), with their weights.
    pub weighed: Vec<(String, f32)>,
    /// Cue lists that matched, as `set:cue`, and the safety net's hits.
    pub cues: Vec<String>,
    /// The knowledge entries closest to the words (BM25), for staff to answer with.
    pub candidates: Vec<Candidate>,
    /// Terms corrected for typos: (written, corrected).
    pub corrected: Vec<(String, String)>,
    /// Kinds of personal data in the tweet (never the data itself).
    pub personal_data: Vec<PiiKind>,
    /// Whether the tweet asks for a link or a website: with `[x] links_in_replies =
    /// "on_request"` an answer then keeps its links.
    pub link_requested: bool,
}

/// One knowledge-base candidate in the evidence.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    pub topic: String,
    pub bm25: f32,
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
    /// Knowledge entries or examples have errors; each is one `file:line: message`.
    #[error("the knowledge base has {} error(s):\n{}", .0.len(), .0.join("\n"))]
    Entries(Vec<String>),
}

/// How the engine's model was obtained, for the log, the console and `/api/ask`.
#[derive(Debug, Clone, Serialize)]
pub struct ModelInfo {
    /// Examples it learned from (files, entries' questions and accepted corrections).
    pub examples: usize,
    /// Of which accepted corrections.
    pub corrections: usize,
    /// Labels it knows.
    pub labels: usize,
    /// Read from the cache rather than trained.
    pub cached: bool,
    /// The hash of its inputs (its cache key).
    pub fingerprint: String,
    /// How long loading (and training, when not cached) took.
    pub load_ms: u64,
}

/// Everything triage needs, loaded once: the analyzer, the entries and their index, the rules
/// and the model learned from the examples.
pub struct Engine {
    config: Config,
    analyzer: Analyzer,
    entries: Vec<Entry>,
    /// The names of the links in the entries' answers (knowledge/links.tsv).
    links: Links,
    /// The saved replies staff insert (knowledge/replies/): not triage's, but loaded and
    /// reloaded with the knowledge base, so one load serves both.
    replies: Vec<knowledge::replies::Reply>,
    /// The emergency broadcasts (knowledge/broadcasts/), carried the same way.
    broadcasts: Vec<knowledge::broadcasts::Broadcast>,
    index: Index,
    rules: rules::Rules,
    model: Model,
    gate: Gate,
    info: ModelInfo,
    /// Every example's normalised words and label: a tweet that reads exactly like an example
    /// (or an accepted correction, which wins) gets that example's label, whatever the model
    /// weighs. Staff who labelled a text have the last word on it.
    memory: std::collections::HashMap<String, Label>,
}

impl Engine {
    /// Loads the lexicon, the knowledge base, its examples, the saved replies and the emergency
    /// broadcasts named by `config`, refusing a base with errors (warnings, such as an entry near its expiry date, are logged), and learns the
    /// model (or reads it from the cache).
    pub fn load(config: &Config) -> Result<Engine, EngineError> {
        Engine::load_with(config, &[])
    }

    /// [`Engine::load`] with more examples: the corrections staff made and an admin accepted.
    pub fn load_with(config: &Config, corrections: &[Example]) -> Result<Engine, EngineError> {
        let started = std::time::Instant::now();
        let report = knowledge::check_all(config, knowledge::today())?;
        let errors: Vec<String> = report
            .problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
            .map(ToString::to_string)
            .collect();
        if !errors.is_empty() {
            return Err(EngineError::Entries(errors));
        }
        for warning in &report.problems {
            tracing::warn!(%warning, "knowledge base");
        }
        let lexicon = Lexicon::load(&config.knowledge.lexicon_dir)?;
        let loaded = knowledge::load(&config.knowledge.dir)?;
        let agencies: Vec<&str> = config.agencies.iter().map(|a| a.id.as_str()).collect();
        let mut examples =
            knowledge::examples::load(&config.knowledge.dir, &loaded.entries, &agencies)?.examples;
        examples.extend(corrections.iter().cloned());
        let (links, _) = Links::load(&config.knowledge.dir)?;
        let replies = knowledge::replies::load(config)?.replies;
        let broadcasts = config.knowledge.dir.join(knowledge::broadcasts::FOLDER);
        // `check_all` passed, so this fails only if a file changed in between.
        let broadcasts = knowledge::broadcasts::load(&broadcasts).map_err(|problems| {
            EngineError::Entries(problems.iter().map(ToString::to_string).collect())
        })?;
        let mut engine = Engine::build(config.clone(), lexicon, loaded.entries, &examples)?
            .with_links(links)
            .with_replies(replies)
            .with_broadcasts(broadcasts);
        engine.info.corrections = corrections.len();
        engine.info.load_ms = started.elapsed().as_millis() as u64;
        Ok(engine)
    }

    /// Builds an engine from parts already loaded (tests and benchmarks use it too), with no
    /// names for the links in its answers ([`Engine::with_links`]), no saved replies
    /// ([`Engine::with_replies`]) and no broadcasts ([`Engine::with_broadcasts`]).
    pub fn build(
        config: Config,
        mut lexicon: Lexicon,
        entries: Vec<Entry>,
        examples: &[Example],
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
        let featurizer = model::Featurizer {
            analyzer: &analyzer,
            rules: Some(&rules),
            knowledge: Some((&index, &entries)),
        };
        if examples.is_empty() {
            return Err(EngineError::Entries(vec![format!(
                "{}: no labelled examples to learn from",
                config.knowledge.dir.join("examples").display()
            )]));
        }
        let cache = &config.triage.model_cache;
        let cache = (!cache.as_os_str().is_empty()).then_some(cache.as_path());
        let (model, provenance, fingerprint) = training::model_for(
            featurizer,
            &config,
            examples,
            TrainOptions::default(),
            cache,
        );
        let info = ModelInfo {
            examples: examples.len(),
            corrections: 0,
            labels: model.classes().len(),
            cached: provenance == Provenance::Cached,
            fingerprint,
            load_ms: 0,
        };
        let gate = Gate::of(&config.triage);
        let memory = examples
            .iter()
            .map(|e| {
                let key = memory_key(&analyzer, &e.text, &analyzer.analyze(&e.text));
                (key, e.label.clone())
            })
            .filter(|(key, _)| !key.is_empty())
            .collect();
        Ok(Engine {
            config,
            analyzer,
            entries,
            links: Links::default(),
            replies: Vec::new(),
            broadcasts: Vec::new(),
            index,
            rules,
            model,
            gate,
            info,
            memory,
        })
    }

    /// The engine with `links` naming the links in its answers.
    pub fn with_links(mut self, links: Links) -> Engine {
        self.links = links;
        self
    }

    /// The names of the links in the answers.
    pub fn links(&self) -> &Links {
        &self.links
    }

    /// The engine with `replies` as its saved replies.
    pub fn with_replies(mut self, replies: Vec<knowledge::replies::Reply>) -> Engine {
        self.replies = replies;
        self
    }

    /// The saved replies staff insert on the console, by shortcut.
    pub fn replies(&self) -> &[knowledge::replies::Reply] {
        &self.replies
    }

    /// The engine with `broadcasts` as its emergency broadcasts.
    pub fn with_broadcasts(mut self, broadcasts: Vec<knowledge::broadcasts::Broadcast>) -> Engine {
        self.broadcasts = broadcasts;
        self
    }

    /// The emergency broadcasts of the running knowledge base, by id: what the console lists
    /// and the announcements fill in ([`knowledge::broadcasts::Broadcast::fill`]).
    pub fn broadcasts(&self) -> &[knowledge::broadcasts::Broadcast] {
        &self.broadcasts
    }

    /// Loads an engine from a configuration file path.
    pub fn from_config_path(path: &Path) -> anyhow::Result<Engine> {
        let config = Config::load(path)?;
        Ok(Engine::load(&config)?)
    }

    /// How the model was obtained.
    pub fn model_info(&self) -> &ModelInfo {
        &self.info
    }

    /// The learned model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The gate in use.
    pub fn gate(&self) -> Gate {
        self.gate
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The learned model's features with the engine's cue lists and remits.
    pub fn featurizer(&self) -> model::Featurizer<'_> {
        model::Featurizer {
            analyzer: &self.analyzer,
            rules: Some(&self.rules),
            knowledge: Some((&self.index, &self.entries)),
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

    /// Decides what to do with one tweet's text: the model behind its gate, then the safety net.
    pub fn triage(&self, text: &str) -> Decision {
        self.triage_with(&self.model, self.gate, true, text)
    }

    /// [`Engine::triage`] with another model or gate (cross-validation and tuning), and with or
    /// without the examples' exact texts (`recall`: cross-validation must not look its held-out
    /// examples up).
    pub fn triage_with(&self, model: &Model, gate: Gate, recall: bool, text: &str) -> Decision {
        let analysis = self.analyzer.analyze(text);
        let mut evidence = Evidence {
            words: analysis.words.clone(),
            personal_data: analysis.pii.iter().map(|p| p.kind).collect(),
            link_requested: self.rules.asks_for_link(&analysis, &self.analyzer),
            ..Evidence::default()
        };
        let decision = |kind, rule, evidence: Evidence| Decision {
            kind,
            topic: None,
            agency: None,
            rule,
            medical: false,
            evidence,
        };
        if analysis.words.is_empty() {
            return decision(Kind::Ignore, "empty", evidence);
        }
        let featurizer = self.featurizer();
        let features = model::featurize(featurizer, &analysis, model.bits());
        let prediction = model.predict_featurized(&features);
        let remembered = recall
            .then(|| {
                self.memory
                    .get(&memory_key(&self.analyzer, text, &analysis))
            })
            .flatten();
        let gated = match remembered {
            Some(label) => training::Gated::of_label(label, "example"),
            None => gate.decide(&prediction),
        };
        evidence.labels = prediction
            .ranked
            .iter()
            .take(3)
            .map(|(label, p)| (label.to_string(), *p))
            .collect();
        let weighed_for = match gated.kind {
            Kind::Emergency => Label::Emergency,
            _ => prediction.best().0.clone(),
        };
        evidence.weighed = model.explain(&features, &weighed_for, 8);
        evidence.cues = features
            .cues
            .into_iter()
            .filter(|cue| !cue.starts_with("set:"))
            .collect();
        let search = features.search.unwrap_or_default();
        evidence.corrected = search.corrected.clone();
        evidence.candidates = search
            .matches
            .iter()
            .take(3)
            .map(|m| Candidate {
                topic: self.entries[m.entry].id.clone(),
                bm25: m.bm25,
                coverage: m.coverage,
                matched: m.matched.clone(),
            })
            .collect();

        let net = self.rules.net(&analysis, &self.analyzer, text);
        // Danger words alone raise a decision only when the model sees some chance of an
        // emergency: the words also occur in complaints about the past ("air hanyut", "sesak
        // napas" in a letter about last week's wait at the ER). Measured on the unseen set, the
        // floor halves the net's false alarms and keeps every emergency it catches.
        if gated.kind != Kind::Emergency
            && !net.danger.is_empty()
            && prediction.probability(&Label::Emergency) >= NET_EMERGENCY_FLOOR
        {
            evidence.cues.extend(net.danger);
            let mut d = decision(Kind::Emergency, "net_emergency", evidence);
            d.medical = net.medical;
            return d;
        }
        match gated.kind {
            Kind::Emergency => {
                let mut d = decision(Kind::Emergency, gated.rule, evidence);
                d.medical = net.medical;
                d
            }
            Kind::Answer => {
                let entry = gated.topic.as_deref().and_then(|id| self.entry(id));
                let Some(entry) = entry else {
                    return decision(Kind::Handoff, "model_unsure", evidence);
                };
                if !net.no_answer.is_empty() && remembered.is_none() {
                    evidence.cues.extend(net.no_answer);
                    return decision(Kind::Handoff, net.no_answer_rule, evidence);
                }
                if !knowledge::is_current(entry, knowledge::today()) {
                    evidence.cues.push(format!("expired:{}", entry.id));
                    return decision(Kind::Handoff, "kb_expired", evidence);
                }
                let mut d = decision(Kind::Answer, gated.rule, evidence);
                d.topic = Some(entry.id.clone());
                d.agency = Some(entry.agency.clone());
                d
            }
            Kind::Report => {
                let mut d = decision(Kind::Report, gated.rule, evidence);
                d.agency = gated.agency;
                d
            }
            kind => decision(kind, gated.rule, evidence),
        }
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

/// The key under which an example is remembered: its normalised words.
/// The exact-text memory's key: the normalised words, with personal data replaced as the desk
/// stores it, so that a correction (stored redacted) matches the tweet it corrects.
fn memory_key(analyzer: &Analyzer, text: &str, analysis: &crate::language::Analysis) -> String {
    if analysis.pii.is_empty() {
        analysis.words.join(" ")
    } else {
        analyzer
            .analyze(&crate::language::pii::redact(text))
            .words
            .join(" ")
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
    for (label, p) in &e.labels {
        let _ = writeln!(out, "  model {label:<30} {p:.3}");
    }
    if !e.weighed.is_empty() {
        let list: Vec<String> = e
            .weighed
            .iter()
            .map(|(name, w)| format!("{name} {w:+.2}"))
            .collect();
        let _ = writeln!(out, "weighed:  {}", list.join(", "));
    }
    for c in &e.candidates {
        let _ = writeln!(
            out,
            "  entry {:<20} bm25 {:>6.2}  coverage {:.3}  matched [{}]",
            c.topic,
            c.bm25,
            c.coverage,
            c.matched.join(" ")
        );
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
    let asked = if e.link_requested { "yes" } else { "no" };
    let _ = writeln!(out, "link requested: {asked}");
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

    fn shipped() -> (Config, Lexicon, Vec<Entry>, Vec<Example>) {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let config = Config::load(&root.join("bot.toml")).unwrap();
        let lexicon = Lexicon::load(&config.knowledge.lexicon_dir).unwrap();
        let entries = knowledge::load(&config.knowledge.dir).unwrap().entries;
        let agencies: Vec<&str> = config.agencies.iter().map(|a| a.id.as_str()).collect();
        let examples = knowledge::examples::load(&config.knowledge.dir, &entries, &agencies)
            .unwrap()
            .examples;
        (config, lexicon, entries, examples)
    }

    #[test]
    fn a_tweet_asking_for_the_link_gets_it_under_on_request() {
        let (config, lexicon, entries, examples) = shipped();
        assert_eq!(
            config.x.links_in_replies,
            crate::config::LinksInReplies::OnRequest
        );
        let (links, problems) = Links::load(&config.knowledge.dir).unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        let engine = Engine::build(config, lexicon, entries, &examples)
            .unwrap()
            .with_links(links);
        let urls = crate::tweet::urls;

        let plain = engine.triage("syarat bikin kk baru apa aja min?");
        assert_eq!(
            (plain.kind, plain.topic.as_deref()),
            (Kind::Answer, Some("kk"))
        );
        assert!(!plain.evidence.link_requested);
        let reply = engine.reply(&plain, "warga1").unwrap();
        assert!(urls(&reply).is_empty(), "{reply}");
        assert!(reply.contains("atau situs Si Apel, gratis."), "{reply}");

        let asking = engine.triage("syarat bikin kk baru apa aja min? sekalian linknya ya");
        assert_eq!(
            (asking.kind, asking.topic.as_deref()),
            (Kind::Answer, Some("kk"))
        );
        assert!(asking.evidence.link_requested);
        let reply = engine.reply(&asking, "warga1").unwrap();
        assert!(
            reply.contains("atau https://siapel.malangkota.go.id, gratis."),
            "{reply}"
        );
        assert!(describe(&asking, Some(&reply)).contains("link requested: yes"));

        for text in [
            "website nya apa min?",
            "linkny mana",
            "link e endi",
            "minta link",
            "ada tautannya?",
            "webnya apa",
            "alamat webnya apa",
            "situsnya apa",
            "url nya dong",
            "urlnya dong",
            "lamannya apa",
            "what's the website?",
            "send the link pls",
            "knil e endi",
            "websitenya apa",
            "webe opo",
        ] {
            assert!(engine.triage(text).evidence.link_requested, "{text}");
        }
        for text in [
            "syarat kk apa min",
            "alamat kantornya di mana",
            "jam buka puskesmas arjuno",
            "kok linglung ya",
        ] {
            assert!(!engine.triage(text).evidence.link_requested, "{text}");
        }
    }

    #[test]
    fn an_expired_entry_is_recognised_but_never_answered_with() {
        let question = "syarat bikin kk baru apa aja min?";
        let (config, lexicon, mut entries, examples) = shipped();
        let engine =
            Engine::build(config.clone(), lexicon.clone(), entries.clone(), &examples).unwrap();
        assert_eq!(engine.triage(question).topic.as_deref(), Some("kk"));

        let kk = entries.iter_mut().find(|e| e.id == "kk").unwrap();
        kk.expires = Some(time::macros::date!(2020 - 01 - 01));
        let engine = Engine::build(config, lexicon, entries, &examples).unwrap();
        let decision = engine.triage(question);
        assert_eq!(decision.kind, Kind::Handoff);
        assert_eq!(decision.rule, "kb_expired");
    }
}
