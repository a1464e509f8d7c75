//! The normaliser (`kicau::language::Analyzer`) with the shipped lexicon, on any text.
//!
//! Checks: no panic; the personal-data spans are in order, apart and on character boundaries;
//! every formal word is non-empty, holds no white space and differs from the word before it
//! (`normalize` deduplicates); no word made of digits is, taken alone, personal data (it was
//! cut out before the words were made); `normalize_surface` gives single-spaced words.
//! Not checked: idempotence, which does not hold (FINDINGS.md, "normalise").

#![no_main]

use std::path::Path;
use std::sync::LazyLock;

use kicau::language::{Analyzer, Lexicon, PiiSpan, pii};
use libfuzzer_sys::fuzz_target;

static ANALYZER: LazyLock<Analyzer> = LazyLock::new(|| {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../knowledge/lexicon");
    Analyzer::new(Lexicon::load(&dir).expect("the shipped lexicon loads"))
});

fuzz_target!(|text: &str| {
    let analysis = ANALYZER.analyze(text);
    spans_are_sound(text, &analysis.pii);

    for (i, word) in analysis.words.iter().enumerate() {
        assert!(!word.is_empty(), "empty word in {:?}", analysis.words);
        assert!(
            !word.chars().any(char::is_whitespace),
            "white space inside word {word:?}"
        );
        if i > 0 {
            assert_ne!(&analysis.words[i - 1], word, "a word twice in a row");
        }
        // Only numbers: a word such as "kk55555555" (from "KKK55555555") reads as labelled
        // personal data on its own though the text was not (FINDINGS.md, N7).
        if !word.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        let leaked = pii::detect(word);
        if !leaked.is_empty() {
            panic!(
                "personal data {:?} reached the words as {word:?}",
                leaked[0].kind
            );
        }
    }
    assert!(analysis.terms.len() <= analysis.words.len());

    let surface = ANALYZER.normalize_surface(text);
    assert!(
        !surface.starts_with(' ') && !surface.ends_with(' ') && !surface.contains("  "),
        "surface not single-spaced: {surface:?}"
    );
});

fn spans_are_sound(text: &str, spans: &[PiiSpan]) {
    let mut last = 0;
    for s in spans {
        assert!(s.start < s.end && s.end <= text.len(), "{s:?}");
        assert!(
            s.start >= last,
            "spans overlap or are out of order: {spans:?}"
        );
        assert!(text.is_char_boundary(s.start) && text.is_char_boundary(s.end));
        last = s.end;
    }
}
