//! The in-memory tantivy index over the knowledge base, and the search that triage asks.
//!
//! Text goes through [`Analyzer`](crate::language::Analyzer) before tantivy sees it, on both
//! sides: entries when the index is built, tweets when it is searched. Tantivy therefore only
//! splits on white space; [`register_tokenizers`] is the one place that registers that analyzer,
//! and it must be called on every index opened.

use std::collections::{HashMap, HashSet};

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, STORED, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::tokenizer::{TextAnalyzer, WhitespaceTokenizer};
use tantivy::{IndexReader, TantivyDocument, Term, doc};

use super::{Entry, KnowledgeError};
use crate::language::Analyzer;

/// The name of the whitespace analyzer that indexes pre-analysed terms.
const TOKENIZER: &str = "kicau_terms";

/// How many candidates a search returns at most.
const CANDIDATES: usize = 5;

/// Words that every tweet to the account may carry ("min", "kak", "pemkot", "tolong"): they say
/// nothing about the topic, so they are neither searched nor counted for coverage.
const GENERIC: &[&str] = &[
    "admin",
    "pemkot",
    "pemerintah",
    "kota",
    "malang",
    "kak",
    "kakak",
    "mas",
    "mbak",
    "pak",
    "bapak",
    "bu",
    "ibu",
    "sam",
    "cak",
    "tolong",
    "mohon",
    "bantu",
    "sih",
    "dong",
    "nih",
    "deh",
    "ya",
    "iya",
    "kah",
    "tanya",
    "nanya",
    "mau",
    "ingin",
    "bisa",
    "cara",
    "gimana",
    "bagaimana",
    "apa",
    "apakah",
    "kalau",
    "kalo",
    "hari",
    "ini",
    "itu",
    "saya",
    "aku",
    "kami",
    "kita",
];

/// Greetings, thanks and praise: around a question they are not searched; alone they are what
/// the greeting entry answers (triage reads the same list).
pub const GREETING: &[&str] = &[
    "selamat pagi",
    "selamat siang",
    "selamat sore",
    "selamat malam",
    "halo",
    "hai",
    "hallo",
    "terima kasih",
    "makasih",
    "suwun",
    "nuwun",
    "thanks",
    "thank",
    "assalamualaikum",
    "salam",
    "punten",
    "permisi",
    "sugeng",
    "siang",
    "pagi",
    "sore",
    "malam",
    "mbois",
    "keren",
    "mantap",
    "semangat",
    "sukses",
    "salam satu jiwa",
    "hebat",
    "bagus",
];

/// Adjacent pairs of terms, joined by `_`.
fn pairs_of(terms: &[String]) -> Vec<String> {
    terms
        .windows(2)
        .map(|w| format!("{}_{}", w[0], w[1]))
        .collect()
}

/// Registers the analyzer that every Kicau index needs. Call it on every index opened.
pub fn register_tokenizers(index: &tantivy::Index) {
    index.tokenizers().register(
        TOKENIZER,
        TextAnalyzer::from(WhitespaceTokenizer::default()),
    );
}

struct Fields {
    ord: Field,
    title: Field,
    keywords: Field,
    questions: Field,
    answer: Field,
    /// Adjacent term pairs ("ktp_pertama") from title, keywords and each question.
    pairs: Field,
}

/// The searchable knowledge base.
pub struct Index {
    reader: IndexReader,
    fields: Fields,
    /// Per entry, in the order given to [`Index::build`]: its stemmed terms.
    entry_terms: Vec<HashSet<String>>,
    /// In how many entries each term occurs (for term weights and typo correction).
    doc_freq: HashMap<String, usize>,
    generic: HashSet<String>,
    greeting: HashSet<String>,
    /// Knowledge-base terms of four letters or more by their length in characters, for typo
    /// correction.
    by_length: HashMap<usize, Vec<String>>,
    /// Stems of words known to be correct Indonesian: never "corrected" as typos.
    known: HashSet<String>,
}

/// One candidate entry for a query.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Match {
    /// The entry's position in the slice given to [`Index::build`].
    pub entry: usize,
    /// Tantivy's BM25 score.
    pub bm25: f32,
    /// The weighted share of the query's terms that the entry holds (0 to 1).
    pub coverage: f32,
    /// The query terms found in the entry.
    pub matched: Vec<String>,
}

impl Match {
    /// The ranking score: BM25 scaled by coverage.
    pub fn combined(&self) -> f32 {
        self.bm25 * self.coverage
    }
}

/// What a search found.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct SearchResult {
    /// The terms searched, after typo correction and without generic words.
    pub terms: Vec<String>,
    /// Terms corrected to a near knowledge-base term: (as written, corrected).
    pub corrected: Vec<(String, String)>,
    /// Candidates, best first.
    pub matches: Vec<Match>,
}

impl Index {
    /// Builds the index in RAM from `entries`.
    pub fn build(entries: &[Entry], analyzer: &Analyzer) -> Result<Index, KnowledgeError> {
        let mut schema = Schema::builder();
        let text = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(TOKENIZER)
                .set_index_option(IndexRecordOption::WithFreqs),
        );
        let fields = Fields {
            ord: schema.add_u64_field("ord", STORED),
            title: schema.add_text_field("title", text.clone()),
            keywords: schema.add_text_field("keywords", text.clone()),
            questions: schema.add_text_field("questions", text.clone()),
            answer: schema.add_text_field("answer", text.clone()),
            pairs: schema.add_text_field("pairs", text),
        };
        let index = tantivy::Index::create_in_ram(schema.build());
        register_tokenizers(&index);
        let mut writer = index.writer_with_num_threads(1, 15_000_000)?;
        let generic: HashSet<String> = GENERIC.iter().map(|w| analyzer.stem(w)).collect();
        let greeting: HashSet<String> = GREETING
            .iter()
            .flat_map(|w| analyzer.analyze(w).terms)
            .collect();
        let known: HashSet<String> = analyzer
            .lexicon()
            .vocabulary
            .iter()
            .map(|w| analyzer.stem(w))
            .collect();
        let mut entry_terms = Vec::with_capacity(entries.len());
        let mut doc_freq: HashMap<String, usize> = HashMap::new();
        for (ord, entry) in entries.iter().enumerate() {
            let terms_of = |text: &str| analyzer.analyze(text).terms;
            let title = terms_of(&entry.title);
            let keywords: Vec<String> = entry.keywords.iter().flat_map(|k| terms_of(k)).collect();
            let questions: Vec<String> = entry.questions.iter().flat_map(|q| terms_of(q)).collect();
            let answer = terms_of(&entry.short_answer);
            let pairs: Vec<String> = std::iter::once(&entry.title)
                .chain(&entry.keywords)
                .chain(&entry.questions)
                .flat_map(|text| pairs_of(&terms_of(text)))
                .collect();
            let all: HashSet<String> = title
                .iter()
                .chain(&keywords)
                .chain(&questions)
                .chain(&answer)
                .cloned()
                .collect();
            for term in &all {
                *doc_freq.entry(term.clone()).or_default() += 1;
            }
            entry_terms.push(all);
            writer.add_document(doc!(
                fields.ord => ord as u64,
                fields.title => title.join(" "),
                fields.keywords => keywords.join(" "),
                fields.questions => questions.join(" "),
                fields.answer => answer.join(" "),
                fields.pairs => pairs.join(" "),
            ))?;
        }
        writer.commit()?;
        // Built once and never written again (a reload builds a new index), so the reader
        // needs no watcher thread.
        let reader = index
            .reader_builder()
            .reload_policy(tantivy::ReloadPolicy::Manual)
            .try_into()?;
        let mut by_length: HashMap<usize, Vec<String>> = HashMap::new();
        for term in doc_freq.keys() {
            let n = term.chars().count();
            if n >= 4 {
                by_length.entry(n).or_default().push(term.clone());
            }
        }
        Ok(Index {
            reader,
            fields,
            entry_terms,
            doc_freq,
            generic,
            greeting,
            by_length,
            known,
        })
    }

    /// How many entries the index holds.
    pub fn len(&self) -> usize {
        self.entry_terms.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entry_terms.is_empty()
    }

    /// Every term the knowledge base uses (for the analyzer's vocabulary and tests).
    pub fn vocabulary(&self) -> impl Iterator<Item = &str> {
        self.doc_freq.keys().map(String::as_str)
    }

    /// Searches with a tweet's analysed terms.
    pub fn search(&self, terms: &[String]) -> Result<SearchResult, KnowledgeError> {
        let mut result = SearchResult::default();
        let mut seen = HashSet::new();
        // Greetings and thanks around a question say nothing about its topic; alone, they are
        // the topic (the greeting entry answers them).
        let only_greeting = !terms.iter().any(|t| {
            !self.generic.contains(t) && !self.greeting.contains(t) && self.doc_freq.contains_key(t)
        });
        for term in terms {
            if self.generic.contains(term) || (!only_greeting && self.greeting.contains(term)) {
                continue;
            }
            let term = match self.correct(term) {
                Some(fixed) => {
                    result.corrected.push((term.clone(), fixed.clone()));
                    fixed
                }
                None => term.clone(),
            };
            if seen.insert(term.clone()) {
                result.terms.push(term);
            }
        }
        if result.terms.is_empty() {
            return Ok(result);
        }
        let boosts = [
            (self.fields.keywords, 2.0),
            (self.fields.title, 1.5),
            (self.fields.questions, 1.0),
            (self.fields.answer, 0.5),
        ];
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for term in &result.terms {
            for (field, boost) in boosts {
                let query = TermQuery::new(
                    Term::from_field_text(field, term),
                    IndexRecordOption::WithFreqs,
                );
                clauses.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(Box::new(query), boost)),
                ));
            }
        }
        for pair in pairs_of(&result.terms) {
            let query = TermQuery::new(
                Term::from_field_text(self.fields.pairs, &pair),
                IndexRecordOption::WithFreqs,
            );
            clauses.push((
                Occur::Should,
                Box::new(BoostQuery::new(Box::new(query), 1.5)),
            ));
        }
        let query = BooleanQuery::new(clauses);
        let searcher = self.reader.searcher();
        let top = searcher.search(&query, &TopDocs::with_limit(CANDIDATES).order_by_score())?;
        let total_weight: f32 = result.terms.iter().map(|t| self.weight(t)).sum();
        for (score, address) in top {
            let doc: TantivyDocument = searcher.doc(address)?;
            let ord = doc
                .get_first(self.fields.ord)
                .and_then(|v| v.as_u64())
                .expect("every document has its ord") as usize;
            let own = &self.entry_terms[ord];
            let matched: Vec<String> = result
                .terms
                .iter()
                .filter(|t| own.contains(*t))
                .cloned()
                .collect();
            let covered: f32 = matched.iter().map(|t| self.weight(t)).sum();
            result.matches.push(Match {
                entry: ord,
                bm25: score,
                coverage: if total_weight > 0.0 {
                    covered / total_weight
                } else {
                    0.0
                },
                matched,
            });
        }
        // BM25 rewards repeated and boosted terms; coverage rewards answering the whole question.
        // Their product ranks better than either alone on the evaluation set.
        result
            .matches
            .sort_by(|a, b| b.combined().total_cmp(&a.combined()));
        Ok(result)
    }

    /// A term's weight for coverage: rarer terms in the knowledge base weigh more, and a term
    /// the knowledge base does not know at all weighs as much as the rarest.
    fn weight(&self, term: &str) -> f32 {
        let n = self.entry_terms.len() as f32;
        let df = self.doc_freq.get(term).copied().unwrap_or(1) as f32;
        (1.0 + n / df).ln()
    }

    /// A misspelt term (not in the knowledge base, five letters or more) corrected to the one
    /// knowledge-base term at edit distance 1, when there is exactly one.
    fn correct(&self, term: &str) -> Option<String> {
        if term.chars().count() < 5 || self.doc_freq.contains_key(term) || self.known.contains(term)
        {
            return None;
        }
        let len = term.chars().count();
        let mut found = (len - 1..=len + 1)
            .filter_map(|n| self.by_length.get(&n))
            .flatten()
            .filter(|candidate| within_one_edit(term, candidate));
        let first = found.next()?;
        found.next().is_none().then(|| first.clone())
    }
}

/// Whether two words are at most one insertion, deletion, substitution or swap of neighbours
/// apart (Damerau-Levenshtein distance <= 1).
pub fn within_one_edit(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        return within_one_edit_in(a.as_bytes(), b.as_bytes());
    }
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    within_one_edit_in(&a, &b)
}

fn within_one_edit_in<T: PartialEq>(a: &[T], b: &[T]) -> bool {
    if a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    if prefix == a.len() && prefix == b.len() {
        return true;
    }
    let (ra, rb) = (&a[prefix..], &b[prefix..]);
    match a.len().cmp(&b.len()) {
        std::cmp::Ordering::Equal => {
            ra[1..] == rb[1..]
                || (ra.len() >= 2 && ra[0] == rb[1] && ra[1] == rb[0] && ra[2..] == rb[2..])
        }
        std::cmp::Ordering::Less => ra == &rb[1..],
        std::cmp::Ordering::Greater => &ra[1..] == rb,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_edit_covers_the_four_kinds_of_typo() {
        assert!(within_one_edit("puskesmas", "puskesmas"));
        assert!(within_one_edit("puskesms", "puskesmas"));
        assert!(within_one_edit("puskesmass", "puskesmas"));
        assert!(within_one_edit("puskesnas", "puskesmas"));
        assert!(within_one_edit("puksesmas", "puskesmas"));
        assert!(!within_one_edit("pukesms", "puskesmas"));
    }
}
