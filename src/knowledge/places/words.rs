//! The words of a text as the place reader sees them: runs of letters and digits, each with what
//! separates it from the word before (a space joins a name, a comma ends it), and what kind of
//! word each is: a common word that ends a name, a word the lexicon knows, or an unknown one,
//! which is what proper names are.

use std::collections::HashSet;

use crate::language::Lexicon;

/// One word of the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Word<'a> {
    /// As written.
    pub text: &'a str,
    pub lower: String,
    /// What stands between the previous word and this one.
    pub gap: Gap,
    /// The previous separator ended with `@` or `#`: a handle or a hashtag, not prose.
    pub tagged: bool,
}

/// What separates a word from the one before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Gap {
    /// White space on one line (or the start of the text).
    Space,
    /// A hyphen or an apostrophe: one word written in parts ("sigura-gura", "ma'arif").
    Joined,
    /// A full stop, perhaps with spaces: after "jl", "no" or an initial it belongs to the name.
    Dot,
    /// Anything else (a comma, a line break, brackets): a name never runs across it.
    Break,
}

impl Word<'_> {
    /// Whether the word starts with a capital letter.
    pub fn capitalised(&self) -> bool {
        self.text.chars().next().is_some_and(char::is_uppercase)
    }

    /// Whether the word has a digit: a number, an amount ("5rb"), a house or RT number.
    pub fn has_digit(&self) -> bool {
        self.lower.chars().any(|c| c.is_ascii_digit())
    }

    /// An initial or an abbreviation, which a full stop may follow inside a name ("A. Yani",
    /// "Dr. Cipto", "KH"): one letter, or a few letters without a vowel.
    pub fn is_initial(&self) -> bool {
        let letters = self.lower.chars().count();
        letters == 1 || (letters <= 3 && !self.lower.chars().any(is_vowel))
    }
}

fn is_vowel(c: char) -> bool {
    matches!(c, 'a' | 'e' | 'i' | 'o' | 'u')
}

/// Cuts `text` into words.
pub(super) fn words(text: &str) -> Vec<Word<'_>> {
    let mut out = Vec::new();
    let mut gap_start = 0;
    let mut word_start: Option<usize> = None;
    for (i, c) in text.char_indices().chain([(text.len(), ' ')]) {
        let in_word = c.is_alphanumeric() && i < text.len();
        match (in_word, word_start) {
            (true, None) => word_start = Some(i),
            (false, Some(start)) => {
                let gap = &text[gap_start..start];
                out.push(Word {
                    text: &text[start..i],
                    lower: text[start..i].to_lowercase(),
                    gap: gap_of(gap),
                    tagged: gap.ends_with(['@', '#']),
                });
                word_start = None;
                gap_start = i;
            }
            _ => {}
        }
    }
    out
}

fn gap_of(gap: &str) -> Gap {
    let trimmed = gap.trim_matches(|c: char| c.is_whitespace() && c != '\n');
    match trimmed {
        "" => Gap::Space,
        "-" | "'" | "’" if trimmed == gap => Gap::Joined,
        "." => Gap::Dot,
        _ => Gap::Break,
    }
}

/// Whether the writer uses capitals as capitals: at least half of the prose words start in
/// lower case. In a tweet in capitals or in Title Case a capital says nothing of a name.
pub(super) fn case_aware(words: &[Word<'_>]) -> bool {
    let prose: Vec<&Word<'_>> = words
        .iter()
        .filter(|w| !w.tagged && w.lower.chars().count() >= 2 && !w.has_digit())
        .collect();
    let lower = prose.iter().filter(|w| !w.capitalised()).count();
    !prose.is_empty() && lower * 2 >= prose.len()
}

/// What a word can be in a place's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Class {
    /// A common word of complaints (or a number): it ends a name, and no name starts with it.
    Common,
    /// A word the lexicon knows ("raya", "kembang", "besar"): part of a name beside a proper
    /// one, never a name alone unless written with a capital.
    Known,
    /// A word no list knows: a proper name as far as the reader can tell.
    Unknown,
}

/// Words that name a part or a kind of street ("Jl. Raya Langsep", "Jl. Kawi Atas",
/// "Jl. Terusan Dieng"). The stopword list holds some of them; here they are [`Class::Known`]
/// words, which may stand in a name beside a proper one (even last), never alone.
pub(super) const STREET_PARTS: &[&str] = &[
    "raya", "utara", "selatan", "timur", "barat", "tengah", "atas", "bawah", "dalam", "luar",
    "baru", "lama", "besar", "kecil", "wetan", "kulon", "lor", "kidul", "terusan", "simpang",
];

/// Sorts words into [`Class`]es with the lexicon.
#[derive(Debug, Clone)]
pub(super) struct Classifier {
    lexicon: Lexicon,
    common: HashSet<String>,
}

impl Classifier {
    /// The common words are `common-words.txt` and the stopwords, less [`STREET_PARTS`].
    pub fn new(lexicon: Lexicon) -> Classifier {
        let common = lexicon
            .common
            .iter()
            .chain(&lexicon.stopwords)
            .filter(|w| !STREET_PARTS.contains(&w.as_str()))
            .cloned()
            .collect();
        Classifier { lexicon, common }
    }

    /// The class of a lower-case word.
    pub fn class(&self, lower: &str) -> Class {
        if lower.chars().any(|c| c.is_ascii_digit()) || self.is_common(lower) {
            return Class::Common;
        }
        if STREET_PARTS.contains(&lower) {
            return Class::Known;
        }
        // What the informal, Javanese and walikan tables and the stretch and affix rules make
        // of the word: "bolong" is "berlubang", "rusakk" is "rusak", "lampune" is "lampunya".
        let formal = self.lexicon.formal_words(lower);
        let changed = formal.len() != 1 || formal[0] != lower;
        if changed
            && formal
                .iter()
                .any(|f| f.chars().any(|c| c.is_ascii_digit()) || self.is_common(f))
        {
            return Class::Common;
        }
        if changed || self.lexicon.is_known(lower) {
            Class::Known
        } else {
            Class::Unknown
        }
    }

    /// Whether the word is on the lists of common words itself (not through the tables).
    pub fn is_listed(&self, word: &str) -> bool {
        self.common.contains(word)
    }

    fn is_common(&self, word: &str) -> bool {
        if self.common.contains(word) {
            return true;
        }
        // The possessive "-nya" ("lampunya", "jalannya") keeps a common word common.
        word.strip_suffix("nya")
            .is_some_and(|stem| stem.chars().count() >= 3 && self.common.contains(stem))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_carry_their_separators() {
        let w = words("@PemkotMalang di Jl.veteran, no. 5A sigura-gura\nlagi");
        let seen: Vec<(&str, Gap)> = w.iter().map(|w| (w.text, w.gap)).collect();
        assert_eq!(
            seen,
            [
                ("PemkotMalang", Gap::Break),
                ("di", Gap::Space),
                ("Jl", Gap::Space),
                ("veteran", Gap::Dot),
                ("no", Gap::Break),
                ("5A", Gap::Dot),
                ("sigura", Gap::Space),
                ("gura", Gap::Joined),
                ("lagi", Gap::Break),
            ]
        );
        assert!(w[0].tagged && !w[1].tagged);
        assert!(w[5].has_digit());
    }

    #[test]
    fn capitals_count_only_where_the_writer_uses_them() {
        assert!(case_aware(&words("lubang di Jl. Cengger Ayam bikin jatuh")));
        assert!(!case_aware(&words("JALAN BERLUBANG GEDE BANGET MIN")));
        assert!(!case_aware(&words("Jalan Licin Habis Hujan")));
        assert!(case_aware(&words("@PemkotMalang @DLH jalan e rusak")));
    }

    #[test]
    fn initials_are_short_or_without_vowels() {
        let w = words("A Yani KH Dr Toba");
        let initials: Vec<bool> = w.iter().map(Word::is_initial).collect();
        assert_eq!(initials, [true, false, true, true, false]);
    }
}
