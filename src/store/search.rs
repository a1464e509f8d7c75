//! The full-text query both owners run (`desk::search` over messages, `tickets::search` over
//! tickets; migration 0018): what staff typed, parsed into terms; the same terms as an FTS5
//! query on SQLite and as a `tsquery` on PostgreSQL; the words an index is given; and the
//! snippet that shows a hit.
//!
//! A word is a run of letters and digits; everything else separates words, as FTS5's
//! `unicode61` tokenizer and PostgreSQL's parser (after the migration turns punctuation into
//! spaces) both read it. So `MLG-2026-000123` is `mlg 2026 000123`, `@warga_9` is `warga 9`.
//! Every term must match (AND), each as a prefix ("sampa" finds "sampah"), a single letter or
//! digit only as itself; a number of fewer than six digits also finds itself padded with zeros
//! as a ticket's sequence is ("123" finds MLG-2026-000123). Nothing here sees the raw query in
//! SQL: the terms hold only letters and digits, so the query syntax of neither engine can be
//! injected.

use std::ops::Range;

/// The longest query, in characters.
pub const MAX_CHARS: usize = 100;
/// The most terms a query may have.
pub const MAX_TERMS: usize = 10;
/// Digits in a ticket number's sequence (`MLG-2026-000123`).
const SEQUENCE_DIGITS: usize = 6;

/// Why a query cannot be searched. The messages are what staff read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// Nothing but spaces.
    #[error("kata kunci kosong")]
    Empty,
    /// Over [`MAX_CHARS`] characters.
    #[error("kata kunci terlalu panjang: paling banyak {MAX_CHARS} karakter")]
    TooLong,
    /// Only punctuation or symbols.
    #[error("kata kunci harus memuat huruf atau angka")]
    NoWords,
    /// Over [`MAX_TERMS`] different words.
    #[error("kata kunci terlalu banyak: paling banyak {MAX_TERMS} kata")]
    TooManyWords,
}

/// The words of `text` (runs of letters and digits) with their byte ranges.
pub fn words(text: &str) -> impl Iterator<Item = (Range<usize>, &str)> {
    let mut rest = text.char_indices().peekable();
    std::iter::from_fn(move || {
        let (start, _) = rest.find(|(_, c)| c.is_alphanumeric())?;
        let mut end = text.len();
        while let Some(&(i, c)) = rest.peek() {
            if !c.is_alphanumeric() {
                end = i;
                break;
            }
            rest.next();
        }
        Some((start..end, &text[start..end]))
    })
}

/// The text an index is given for `parts`: their words in lower case, one space apart.
pub fn index_text<'a>(parts: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for part in parts {
        for (_, word) in words(part) {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(&word.to_lowercase());
        }
    }
    out
}

/// A field an alternative is restricted to: its column in the FTS5 table and its weight in
/// the PostgreSQL `tsvector`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub column: &'static str,
    pub weight: char,
}

/// Another way a term is satisfied: these exact words in a row, in `field` or anywhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alternative {
    words: Vec<String>,
    field: Option<Field>,
}

impl Alternative {
    /// The words of `text` as a phrase (none: the alternative is dropped).
    pub fn phrase(text: &str, field: Option<Field>) -> Alternative {
        Alternative {
            words: words(text).map(|(_, w)| w.to_lowercase()).collect(),
            field,
        }
    }
}

/// A parsed query: its terms, lower case, without repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    terms: Vec<String>,
}

impl SearchQuery {
    /// Parses what staff typed.
    pub fn parse(q: &str) -> Result<SearchQuery, QueryError> {
        let q = q.trim();
        if q.is_empty() {
            return Err(QueryError::Empty);
        }
        if q.chars().count() > MAX_CHARS {
            return Err(QueryError::TooLong);
        }
        let mut terms: Vec<String> = Vec::new();
        for (_, word) in words(q) {
            let word = word.to_lowercase();
            if !terms.contains(&word) {
                terms.push(word);
            }
        }
        match terms.len() {
            0 => Err(QueryError::NoWords),
            n if n > MAX_TERMS => Err(QueryError::TooManyWords),
            _ => Ok(SearchQuery { terms }),
        }
    }

    /// The terms, in the order typed.
    pub fn terms(&self) -> &[String] {
        &self.terms
    }

    /// The FTS5 `MATCH` expression: every term, each as a prefix or one of its alternatives
    /// (the zero-padded sequence, and whatever `more` adds for the term).
    pub fn fts5(&self, more: impl Fn(&str) -> Vec<Alternative>) -> String {
        let groups: Vec<String> = self
            .terms
            .iter()
            .map(|term| {
                let mut options = vec![if is_prefix(term) {
                    format!("\"{term}\"*")
                } else {
                    format!("\"{term}\"")
                }];
                for alt in alternatives(term, &more) {
                    let phrase = format!("\"{}\"", alt.words.join(" "));
                    options.push(match alt.field {
                        Some(field) => format!("{} : {phrase}", field.column),
                        None => phrase,
                    });
                }
                format!("({})", options.join(" OR "))
            })
            .collect();
        groups.join(" AND ")
    }

    /// The same query as text for `to_tsquery('simple', ...)`.
    pub fn tsquery(&self, more: impl Fn(&str) -> Vec<Alternative>) -> String {
        let groups: Vec<String> = self
            .terms
            .iter()
            .map(|term| {
                let mut options = vec![if is_prefix(term) {
                    format!("{term}:*")
                } else {
                    term.clone()
                }];
                for alt in alternatives(term, &more) {
                    let weight = alt.field.map(|f| format!(":{}", f.weight));
                    let words: Vec<String> = alt
                        .words
                        .iter()
                        .map(|w| format!("{w}{}", weight.as_deref().unwrap_or("")))
                        .collect();
                    options.push(words.join(" <-> "));
                }
                format!("({})", options.join(" | "))
            })
            .collect();
        groups.join(" & ")
    }

    /// Whether `word` (one word of a text) is what a term found.
    pub fn hits(&self, word: &str) -> bool {
        let word = word.to_lowercase();
        self.terms.iter().any(|term| {
            let found = if is_prefix(term) {
                word.starts_with(term.as_str())
            } else {
                word == *term
            };
            found || padded(term).is_some_and(|p| word == p)
        })
    }

    /// At most `max_chars` characters of `text` around its first hit, spaces collapsed, with
    /// the hits marked; "…" where it was cut.
    pub fn snippet(&self, text: &str, max_chars: usize) -> Snippet {
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let marks: Vec<Range<usize>> = words(&flat)
            .filter(|(_, w)| self.hits(w))
            .map(|(r, _)| r)
            .collect();
        if flat.chars().count() <= max_chars {
            return Snippet { text: flat, marks };
        }
        // Start a little before the first hit, at a word's beginning; end at a word's end.
        let first = marks.first().map_or(0, |m| m.start);
        let lead = flat[..first].chars().count().saturating_sub(max_chars / 4);
        let mut start = flat.char_indices().nth(lead).map_or(0, |(i, _)| i);
        if start > 0 && !flat[..start].ends_with(' ') {
            start = flat[start..first]
                .find(' ')
                .map_or(first, |i| start + i + 1);
        }
        let mut end = flat[start..]
            .char_indices()
            .nth(max_chars)
            .map_or(flat.len(), |(i, _)| start + i);
        if end < flat.len()
            && let Some(space) = flat[start..end].rfind(' ')
            && start + space > first
        {
            end = start + space;
        }
        let head = if start > 0 { "… " } else { "" };
        let tail = if end < flat.len() { " …" } else { "" };
        let marks = marks
            .into_iter()
            .filter(|m| m.start >= start && m.end <= end)
            .map(|m| m.start - start + head.len()..m.end - start + head.len())
            .collect();
        Snippet {
            text: format!("{head}{}{tail}", &flat[start..end]),
            marks,
        }
    }
}

/// A piece of a text with the words a query found marked (byte ranges, in order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snippet {
    pub text: String,
    pub marks: Vec<Range<usize>>,
}

/// What a search found: the best hits, and whether there were more than asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found<T> {
    pub hits: Vec<T>,
    pub more: bool,
}

impl<T> Found<T> {
    /// Nothing found.
    pub fn none() -> Found<T> {
        Found {
            hits: Vec::new(),
            more: false,
        }
    }

    /// The first `limit` of `hits`, which were fetched with one more than `limit`.
    pub fn first(mut hits: Vec<T>, limit: usize) -> Found<T> {
        let more = hits.len() > limit;
        hits.truncate(limit);
        Found { hits, more }
    }
}

/// Terms of two characters or more match as prefixes; a single one only itself (a prefix of
/// one letter would match most of the index).
fn is_prefix(term: &str) -> bool {
    term.chars().nth(1).is_some()
}

/// A short number padded as a ticket's sequence is.
fn padded(term: &str) -> Option<String> {
    (term.len() < SEQUENCE_DIGITS && term.bytes().all(|b| b.is_ascii_digit()))
        .then(|| format!("{term:0>SEQUENCE_DIGITS$}"))
}

fn alternatives(term: &str, more: &impl Fn(&str) -> Vec<Alternative>) -> Vec<Alternative> {
    let mut all: Vec<Alternative> = padded(term)
        .map(|p| Alternative::phrase(&p, None))
        .into_iter()
        .collect();
    all.extend(more(term).into_iter().filter(|a| !a.words.is_empty()));
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none(_: &str) -> Vec<Alternative> {
        Vec::new()
    }

    #[test]
    fn words_are_runs_of_letters_and_digits() {
        let found: Vec<&str> = words("@warga_9: MLG-2026-000123, sampah!! 😡 café")
            .map(|(_, w)| w)
            .collect();
        assert_eq!(
            found,
            ["warga", "9", "MLG", "2026", "000123", "sampah", "café"]
        );
        assert_eq!(
            index_text(["@Warga9", "Jalan  RUSAK\n#123"]),
            "warga9 jalan rusak 123"
        );
    }

    #[test]
    fn queries_are_checked_and_deduplicated() {
        assert_eq!(SearchQuery::parse("  "), Err(QueryError::Empty));
        assert_eq!(SearchQuery::parse("@#!"), Err(QueryError::NoWords));
        assert_eq!(
            SearchQuery::parse(&"a".repeat(101)),
            Err(QueryError::TooLong)
        );
        assert!(SearchQuery::parse(&"é".repeat(100)).is_ok());
        assert_eq!(
            SearchQuery::parse("a b c d e f g h i j k"),
            Err(QueryError::TooManyWords)
        );
        let q = SearchQuery::parse("Sampah sampah @Warga9").unwrap();
        assert_eq!(q.terms(), ["sampah", "warga9"]);
    }

    #[test]
    fn both_engines_get_the_same_query() {
        let q = SearchQuery::parse("sampa 123 x").unwrap();
        assert_eq!(
            q.fts5(none),
            "(\"sampa\"*) AND (\"123\"* OR \"000123\") AND (\"x\")"
        );
        assert_eq!(q.tsquery(none), "(sampa:*) & (123:* | 000123) & (x)");
        let agency = Field {
            column: "agency",
            weight: 'B',
        };
        let more = |t: &str| {
            if t == "tirta" {
                vec![Alternative::phrase("tugu-tirta", Some(agency))]
            } else {
                Vec::new()
            }
        };
        let q = SearchQuery::parse("tirta").unwrap();
        assert_eq!(q.fts5(more), "(\"tirta\"* OR agency : \"tugu tirta\")");
        assert_eq!(q.tsquery(more), "(tirta:* | tugu:B <-> tirta:B)");
    }

    #[test]
    fn snippets_mark_the_hits_around_the_first() {
        let q = SearchQuery::parse("sampa 123").unwrap();
        let s = q.snippet("Sampah\nnumpuk, laporan MLG-2026-000123", 200);
        assert_eq!(s.text, "Sampah numpuk, laporan MLG-2026-000123");
        let marked: Vec<&str> = s.marks.iter().map(|m| &s.text[m.clone()]).collect();
        assert_eq!(marked, ["Sampah", "000123"]);

        let long = format!(
            "{} sampah di sini {}",
            "awal ".repeat(40),
            "akhir ".repeat(40)
        );
        let s = q.snippet(&long, 60);
        assert!(s.text.starts_with("… awal"), "{}", s.text);
        assert!(s.text.ends_with(" …"), "{}", s.text);
        assert!(s.text.chars().count() <= 60 + 4);
        let marked: Vec<&str> = s.marks.iter().map(|m| &s.text[m.clone()]).collect();
        assert_eq!(marked, ["sampah"]);
    }
}
