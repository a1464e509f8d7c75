/*!
Informal Indonesian, Javanese and Malang walikan text to search terms.

[`Analyzer::analyze`] turns one tweet into an [`Analysis`]: the formal words in order (what the
triage rules read), the stemmed search terms without stopwords (what the knowledge index reads),
and the mentions, hashtags, links, emoji and personal data it found. Pure: no I/O after the
lexicon is loaded.

The steps, in order: Unicode NFKC and case folding; URLs, @mentions and emoji set aside; hashtag
words split and kept; stretched letters (tolooong); reduplication with 2 (anak2); informal and
slang words and phrases (the project's table, then IndoCollex); informal affixes (-in, ng-/ny-,
di-...-in); Javanese (Malang's daily words, then NusaX); walikan (table, then the reversal rule);
stopwords that keep question words and negation; the Snowball Indonesian stemmer.
*/

pub mod lexicon;
pub mod pii;
pub mod stif;
mod words;

use std::sync::LazyLock;

use regex::Regex;
use unicode_normalization::UnicodeNormalization;

pub use lexicon::{Lexicon, LexiconError};
pub use pii::{PiiKind, PiiSpan};

/// Normalises and stems text with one loaded [`Lexicon`].
pub struct Analyzer {
    lexicon: Lexicon,
    stemmer: frostem::Stemmer,
}

/// What [`Analyzer::analyze`] found in one text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Analysis {
    /// Formal words in reading order, before stopwords and stemming (numbers included).
    pub words: Vec<String>,
    /// Search terms: stemmed `words` without stopwords and numbers.
    pub terms: Vec<String>,
    /// Handles mentioned, without the `@`, lower-cased.
    pub mentions: Vec<String>,
    /// Hashtags, without the `#`, as written.
    pub hashtags: Vec<String>,
    /// How many links the text holds.
    pub links: usize,
    /// The emoji, in order.
    pub emoji: Vec<char>,
    /// Personal data found in the original text.
    pub pii: Vec<PiiSpan>,
}

impl Analysis {
    /// Whether `word` (a formal word) occurs in the text.
    pub fn has_word(&self, word: &str) -> bool {
        self.words.iter().any(|w| w == word)
    }

    /// The formal words joined by single spaces, for phrase rules.
    pub fn joined(&self) -> String {
        self.words.join(" ")
    }
}

static URL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(?:https?://|www\.)\S+|\b[a-z0-9\-]+\.(?:ly|com|id|co|me|link|xyz|net|org)/\S*",
    )
    .expect("url pattern")
});
/// `@` and a whole word: a mention when the word is a handle (at most 15 characters, as X
/// allows); a longer one is no handle and is dropped whole, so that no cut of it (a NIK glued
/// to its end, N3 in fuzz/FINDINGS.md) becomes a word.
static MENTION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:^|[^\w@])@(\w+)").expect("mention pattern"));
const HANDLE_MAX_CHARS: usize = 15;
static HASHTAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:^|[^\w#])#(\w+)").expect("hashtag pattern"));
static CAMEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\p{Lu}+(?:\p{Ll}+)?|\p{Ll}+|\p{N}+").expect("camel-case pattern")
});
static TOKEN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[\p{L}\p{N}]+(?:['’\-][\p{L}\p{N}]+)*").expect("token pattern"));

impl Lexicon {
    /// The formal words one lower-case word reads as ("bolong" gives "berlubang", "wingi"
    /// "kemarin", "10rb" "10 ribu"); the word itself when no table or rule changes it.
    pub fn formal_words(&self, word: &str) -> Vec<String> {
        words::normalize(self, &[word])
    }
}

impl Analyzer {
    pub fn new(lexicon: Lexicon) -> Analyzer {
        Analyzer {
            lexicon,
            stemmer: frostem::Stemmer::new(frostem::Algorithm::Indonesian),
        }
    }

    pub fn lexicon(&self) -> &Lexicon {
        &self.lexicon
    }

    /// Analyses one text. See the module documentation for the steps.
    pub fn analyze(&self, text: &str) -> Analysis {
        let pii = pii::detect(text);
        // Personal data is located, then cut out: no word, term or evidence carries it.
        let mut clean = String::with_capacity(text.len());
        let mut last = 0;
        for span in &pii {
            clean.push_str(&text[last..span.start]);
            clean.push(' ');
            last = span.end;
        }
        clean.push_str(&text[last..]);
        let text: String = clean.nfkc().collect();
        let mut analysis = Analysis {
            pii,
            ..Analysis::default()
        };
        let without_urls = URL.replace_all(&text, |_: &regex::Captures| {
            analysis.links += 1;
            " "
        });
        for caps in MENTION.captures_iter(&without_urls) {
            if caps[1].chars().count() <= HANDLE_MAX_CHARS {
                analysis.mentions.push(caps[1].to_lowercase());
            }
        }
        let without_mentions = MENTION.replace_all(&without_urls, " ");
        // A hashtag's words are kept: #MalangDaruratSampah reads "malang darurat sampah".
        let mut body = String::with_capacity(without_mentions.len());
        let mut last = 0;
        for caps in HASHTAG.captures_iter(&without_mentions) {
            let tag = caps.get(1).expect("group 1");
            analysis.hashtags.push(tag.as_str().to_owned());
            body.push_str(&without_mentions[last..tag.start() - 1]);
            for part in CAMEL.find_iter(tag.as_str()) {
                body.push(' ');
                body.push_str(part.as_str());
            }
            body.push(' ');
            last = tag.end();
        }
        body.push_str(&without_mentions[last..]);
        analysis.emoji = body.chars().filter(|c| is_emoji(*c)).collect();

        let lower = body.to_lowercase();
        let raw: Vec<&str> = TOKEN.find_iter(&lower).map(|m| m.as_str()).collect();
        analysis.words = words::normalize(&self.lexicon, &raw);
        analysis.terms = self.terms(&analysis.words);
        analysis
    }

    /// Stems the words that search should see: no stopwords, no numbers.
    pub fn terms(&self, words: &[String]) -> Vec<String> {
        words
            .iter()
            .filter(|w| !self.lexicon.stopwords.contains(w.as_str()))
            .filter(|w| !w.chars().all(|c| c.is_ascii_digit()))
            .map(|w| self.stem(w))
            .collect()
    }

    /// The Snowball Indonesian stem of one lower-case word.
    pub fn stem(&self, word: &str) -> String {
        self.stemmer.stem(word).into_owned()
    }

    /// The normalised surface text, words joined by spaces: what the STIF measurement compares
    /// with the formal rewrite.
    pub fn normalize_surface(&self, text: &str) -> String {
        let lower: String = text.nfkc().collect::<String>().to_lowercase();
        let raw: Vec<&str> = TOKEN.find_iter(&lower).map(|m| m.as_str()).collect();
        words::normalize(&self.lexicon, &raw).join(" ")
    }
}

/// Pictographs and symbols that tweets use as emoji.
pub fn is_emoji(c: char) -> bool {
    matches!(c as u32,
        0x1F000..=0x1FAFF | 0x2600..=0x27BF | 0x2B00..=0x2BFF | 0x3297 | 0x3299)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::path::Path;
    use std::sync::OnceLock;

    /// The shipped lexicon, loaded once for the unit tests of every module.
    pub(crate) fn analyzer() -> &'static Analyzer {
        static ANALYZER: OnceLock<Analyzer> = OnceLock::new();
        ANALYZER.get_or_init(|| {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge/lexicon");
            Analyzer::new(Lexicon::load(&dir).expect("shipped lexicon loads"))
        })
    }

    fn words(text: &str) -> String {
        analyzer().analyze(text).words.join(" ")
    }

    #[test]
    fn folds_case_and_unicode_compatibility_forms() {
        assert_eq!(words("ＫＴＰ Hilang"), "ktp hilang");
    }

    #[test]
    fn sets_aside_urls_mentions_and_emoji_but_keeps_hashtag_words() {
        let a = analyzer()
            .analyze("@PemkotMalang sampah numpuk 😡 https://t.co/abc #MalangDaruratSampah");
        assert_eq!(a.mentions, ["pemkotmalang"]);
        assert_eq!(a.links, 1);
        assert_eq!(a.emoji, ['😡']);
        assert_eq!(a.hashtags, ["MalangDaruratSampah"]);
        assert!(
            a.words
                .ends_with(&["malang".into(), "darurat".into(), "sampah".into()])
        );
        assert!(
            !a.words
                .iter()
                .any(|w| w.contains("http") || w.contains("pemkot"))
        );
    }

    #[test]
    fn shortens_stretched_letters() {
        assert_eq!(words("tolooong"), "tolong");
        assert_eq!(words("maaaaf"), "maaf");
        assert_eq!(words("gedeeee bangeettt"), "besar sekali");
    }

    #[test]
    fn undoes_reduplication_with_two() {
        assert_eq!(words("anak2"), "anak");
        assert_eq!(words("jalan2"), "jalan");
        assert_eq!(words("anak-anak"), "anak");
    }

    #[test]
    fn expands_abbreviations_and_service_slang() {
        assert_eq!(
            words("gmn cara bikin ktp yg baru"),
            "bagaimana cara buat ktp yang baru"
        );
        assert_eq!(words("e-ktp"), "ktp");
        assert_eq!(words("jukir liar"), "juru parkir liar");
    }

    #[test]
    fn handles_informal_affixes() {
        assert_eq!(words("matiin"), "matikan");
        assert_eq!(words("dibenerin"), "diperbaiki");
        assert_eq!(words("nyari"), "mencari");
        assert_eq!(words("ngecek"), "cek");
    }

    #[test]
    fn reads_javanese_and_walikan() {
        assert_eq!(words("piye carane"), "bagaimana caranya");
        assert_eq!(words("ayas kadit ngerti"), "saya tidak mengerti");
        assert_eq!(words("nang endi"), "di mana");
        assert_eq!(words("ngalam"), "malang");
        // The reversal rule keeps only known words: "kudus" reversed is not one.
        assert_eq!(words("kudus"), "kudus");
        // A walikan word that reverses into Javanese reads as Indonesian: ublem, mlebu, masuk.
        assert_eq!(words("ublem"), "masuk");
    }

    #[test]
    fn stopwords_keep_question_words_and_negation() {
        let a = analyzer().analyze("kapan dan berapa biayanya, tidak ada yang tahu");
        // Snowball stems "berapa" to "apa": still a question word.
        for w in ["kapan", "apa", "tidak"] {
            assert!(
                a.terms.iter().any(|t| t == w),
                "{w} missing from {:?}",
                a.terms
            );
        }
        assert!(!a.terms.iter().any(|t| t == "dan" || t == "yang"));
    }

    #[test]
    fn stems_with_snowball_indonesian() {
        let a = analyzer().analyze("perbaikan jalanan");
        assert_eq!(a.terms, ["baik", "jalan"]);
    }

    #[test]
    fn reports_personal_data() {
        let a = analyzer().analyze("NIK 3573042103990002 wa 081234567890");
        let kinds: Vec<_> = a.pii.iter().map(|p| p.kind).collect();
        assert_eq!(kinds, [PiiKind::IdNumber, PiiKind::Phone]);
    }

    /// N3 in fuzz/FINDINGS.md: a NIK glued to the end of an over-long "handle".
    #[test]
    fn an_over_long_handle_frees_no_number() {
        for text in [
            "@warga_malang_123573042103990002 jalan rusak",
            "j\u{0}@22222220000V6171178737961038279",
        ] {
            let a = analyzer().analyze(text);
            assert!(
                a.words
                    .iter()
                    .all(|w| !w.chars().any(|c| c.is_ascii_digit())),
                "{text:?} gave {:?}",
                a.words
            );
            assert!(a.mentions.is_empty(), "{:?}", a.mentions);
        }
        let a = analyzer().analyze("@dinas_pu jalan rusak");
        assert_eq!(a.mentions, ["dinas_pu"]);
    }
}
