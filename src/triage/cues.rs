//! Cue lists: short phrases that triage rules look for, written in plain or informal words.
//!
//! A cue is one phrase ("air masuk rumah") or several joined with `+` ("kecelakaan + berdarah"),
//! which all must occur, anywhere in the tweet. Each phrase goes through the same analyzer as
//! tweets, so a cue written "tidak sadar" also matches "gk sadar", and matching compares stems.

use crate::language::{Analysis, Analyzer};

/// A compiled list of cues with a name for evidence.
#[derive(Debug, Clone)]
pub struct CueSet {
    name: &'static str,
    cues: Vec<Cue>,
}

#[derive(Debug, Clone)]
struct Cue {
    text: String,
    /// Each part is a sequence of stems that must occur contiguously.
    parts: Vec<Vec<String>>,
}

/// A tweet's words, stemmed, stopwords kept: what cues are matched against.
pub struct Stems(pub Vec<String>);

impl Stems {
    pub fn of(analysis: &Analysis, analyzer: &Analyzer) -> Stems {
        Stems(analysis.words.iter().map(|w| analyzer.stem(w)).collect())
    }

    fn contains(&self, phrase: &[String]) -> bool {
        !phrase.is_empty() && self.0.windows(phrase.len()).any(|window| window == phrase)
    }
}

impl CueSet {
    pub fn compile(name: &'static str, analyzer: &Analyzer, cues: &[&str]) -> CueSet {
        let cues = cues
            .iter()
            .map(|text| Cue {
                text: (*text).to_owned(),
                parts: text
                    .split('+')
                    .map(|part| {
                        analyzer
                            .analyze(part)
                            .words
                            .iter()
                            .map(|w| analyzer.stem(w))
                            .collect::<Vec<_>>()
                    })
                    .filter(|p| !p.is_empty())
                    .collect(),
            })
            .filter(|cue| !cue.parts.is_empty())
            .collect();
        CueSet { name, cues }
    }

    /// The set's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The cues that occur in `stems`, as `name:cue` for evidence.
    pub fn find(&self, stems: &Stems) -> Vec<String> {
        self.cues
            .iter()
            .filter(|cue| cue.parts.iter().all(|part| stems.contains(part)))
            .map(|cue| format!("{}:{}", self.name, cue.text))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_informal_spellings_and_co_occurrence() {
        let analyzer = crate::language::tests::analyzer();
        let set = CueSet::compile(
            "critical",
            analyzer,
            &["tidak sadar", "kecelakaan + berdarah"],
        );
        let stems = |t: &str| Stems::of(&analyzer.analyze(t), analyzer);
        assert_eq!(
            set.find(&stems("bapaknya gk sadar")),
            ["critical:tidak sadar"]
        );
        assert_eq!(
            set.find(&stems("ada kecelakaan, korbannya berdarah")),
            ["critical:kecelakaan + berdarah"]
        );
        assert!(set.find(&stems("demam berdarah")).is_empty());
    }
}
