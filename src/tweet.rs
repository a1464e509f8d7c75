/*!
Tweet length under twitter-text v3 rules (`config/v3.json`): 280 weighted characters, where code
points in the Latin and common-punctuation ranges weigh 1, everything else 2, an emoji (one
grapheme cluster, however many code points) weighs 2, and every URL weighs 23 whatever its length.
Text is measured in Unicode NFC, as twitter-text does.
*/

use std::sync::LazyLock;

use regex::Regex;
use unicode_normalization::UnicodeNormalization;
use unicode_segmentation::UnicodeSegmentation;

/// The longest tweet, in weighted characters.
pub const MAX_WEIGHTED_LENGTH: usize = 280;

/// What a reply's leading "@handle " may weigh at most: `@`, up to 15 characters, a space.
pub const HANDLE_ALLOWANCE: usize = 17;

/// How much any URL weighs.
const URL_WEIGHT: usize = 23;

/// Code point ranges that weigh 1 (v3.json `ranges`); the rest weigh 2.
const LIGHT_RANGES: [(u32, u32); 4] = [(0, 4351), (8192, 8205), (8208, 8223), (8242, 8247)];

static URL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\bhttps?://[^\s<>]+|\b(?:www\.)?[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?)*\.(?:com|id|net|org|co|go\.id|ly|io|me|info|gov|edu|app|link|xyz)\b(?:/[^\s<>]*)?",
    )
    .expect("url pattern")
});

/// The weighted length of `text`.
pub fn weighted_length(text: &str) -> usize {
    let text: String = text.nfc().collect();
    let mut total = 0;
    let mut last = 0;
    for url in URL.find_iter(&text) {
        total += weigh_plain(&text[last..url.start()]) + URL_WEIGHT;
        last = url.end();
    }
    total + weigh_plain(&text[last..])
}

fn weigh_plain(text: &str) -> usize {
    text.graphemes(true)
        .map(|g| {
            if g.chars().any(is_emoji_char) {
                2
            } else {
                g.chars().map(weigh_char).sum()
            }
        })
        .sum()
}

fn weigh_char(c: char) -> usize {
    let code = c as u32;
    if LIGHT_RANGES
        .iter()
        .any(|(start, end)| (*start..=*end).contains(&code))
    {
        1
    } else {
        2
    }
}

fn is_emoji_char(c: char) -> bool {
    crate::language::is_emoji(c)
}

/// Whether `text` fits in one tweet.
pub fn fits(text: &str) -> bool {
    weighted_length(text) <= MAX_WEIGHTED_LENGTH
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin_text_weighs_one_a_character() {
        assert_eq!(weighted_length("Halo kak"), 8);
    }

    #[test]
    fn every_url_weighs_23() {
        assert_eq!(
            weighted_length("https://dispendukcapil.malangkota.go.id"),
            23
        );
        assert_eq!(
            weighted_length("cek siapel.malangkota.go.id ya"),
            4 + 23 + 3
        );
    }

    #[test]
    fn emoji_and_cjk_weigh_two() {
        assert_eq!(weighted_length("😊"), 2);
        assert_eq!(weighted_length("👨‍👩‍👧"), 2);
        assert_eq!(weighted_length("日本"), 4);
    }

    #[test]
    fn the_limit_is_280() {
        assert!(fits(&"a".repeat(280)));
        assert!(!fits(&"a".repeat(281)));
    }
}
