/*!
Tweet length under twitter-text v3 rules (`config/v3.json`): 280 weighted characters, where code
points in the Latin and common-punctuation ranges weigh 1, everything else 2, an emoji (one
grapheme cluster, however many code points) weighs 2, and every URL weighs 23 whatever its length.
Text is measured in Unicode NFC, as twitter-text does.
*/

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;
use unicode_normalization::UnicodeNormalization;
use unicode_segmentation::UnicodeSegmentation;

mod split;
pub use split::{DEFAULT_MAX_PARTS, MIN_PART_CHARS, Splitter, TooLong, thread};

/// The longest tweet, in weighted characters.
pub const MAX_WEIGHTED_LENGTH: usize = 280;

/// What a reply's leading "@handle " may weigh at most: `@`, up to 15 characters, a space.
pub const HANDLE_ALLOWANCE: usize = 17;

/// How much any URL weighs.
const URL_WEIGHT: usize = 23;

/// Code point ranges that weigh 1 (v3.json `ranges`); the rest weigh 2.
const LIGHT_RANGES: [(u32, u32); 4] = [(0, 4351), (8192, 8205), (8208, 8223), (8242, 8247)];

/// Candidate URLs: an optional scheme, dotted host labels, an optional port and path. Each
/// candidate is then checked the way twitter-text checks it ([`valid_url`]).
static URL_CANDIDATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?:https?://)?(?:[\p{L}\p{N}_](?:[\p{L}\p{N}_\-]*[\p{L}\p{N}_])?\.)+[\p{L}\p{N}]+(?::[0-9]{1,5})?(?:/[^\s\p{Cf}]*)?",
    )
    .expect("url pattern")
});

/// twitter-text's top-level domains.
static TLDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("tlds.txt")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect()
});

/// Characters that make a tweet invalid wherever they stand.
const INVALID_CHARS: [char; 3] = ['\u{FFFE}', '\u{FEFF}', '\u{FFFF}'];

/// Characters that keep a URL from being linked when they stand right before it: an e-mail's
/// `@` ("pengaduan@gmail.com" links nothing), a mention's, a hashtag's and a cashtag's
/// (twitter-text's `validPrecedingChars`; extract.yml, "DO NOT extract URLs in hashtag or
/// @mention", "... preceded by $").
const INVALID_BEFORE_URL: [char; 5] = ['@', '\u{FF20}', '#', '\u{FF03}', '$'];

/// The byte ranges of the URLs in `text`, as twitter-text would link them.
pub fn urls(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut found = Vec::new();
    for m in URL_CANDIDATE.find_iter(text) {
        let glued_before = text[..m.start()]
            .chars()
            .next_back()
            .is_some_and(|c| INVALID_BEFORE_URL.contains(&c));
        // The part of an e-mail address before its "@" ("john.doe.gov@mail.com") is no URL.
        let glued_after = text[m.end()..].starts_with(['@', '\u{FF20}']);
        if glued_before || glued_after {
            continue;
        }
        // A URL does not end with sentence punctuation: "lihat malangkota.go.id." ends at "id".
        let trimmed = m
            .as_str()
            .trim_end_matches(['.', ',', ';', ':', '!', '?', ')', '\'', '"']);
        if valid_url(trimmed) {
            found.push(m.start()..m.start() + trimmed.len());
        }
    }
    found
}

/// Whether a candidate is a URL: a known top-level domain, and host labels of at most 63
/// characters once punycode-encoded, none starting or ending with a dash.
fn valid_url(candidate: &str) -> bool {
    let lower = candidate.to_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .unwrap_or(&lower);
    let host = rest.split(['/', ':']).next().unwrap_or("");
    let Some(tld) = host.rsplit('.').next() else {
        return false;
    };
    if !TLDS.contains(tld) {
        return false;
    }
    let Ok(ascii) = idna::domain_to_ascii(host) else {
        return false;
    };
    ascii.split('.').all(|label| {
        !label.is_empty() && label.len() <= 63 && !label.starts_with('-') && !label.ends_with('-')
    })
}

/// The weighted length of `text`.
pub fn weighted_length(text: &str) -> usize {
    let text: String = text.nfc().collect();
    let mut total = 0;
    let mut last = 0;
    for url in urls(&text) {
        total += weigh_plain(&text[last..url.start]) + URL_WEIGHT;
        last = url.end;
    }
    total + weigh_plain(&text[last..])
}

/// Whether X accepts `text` as a tweet: some text, at most 280 weighted characters, and none of
/// the characters twitter-text refuses.
pub fn is_valid(text: &str) -> bool {
    !text.trim().is_empty()
        && !text.contains(INVALID_CHARS)
        && weighted_length(text) <= MAX_WEIGHTED_LENGTH
}

fn weigh_plain(text: &str) -> usize {
    text.graphemes(true)
        .map(|g| {
            // An emoji sequence weighs 2 however many code points it has, including keycaps
            // ("1" + U+20E3) and presentation selectors (U+FE0F).
            if g.chars()
                .any(|c| is_emoji_char(c) || c == '\u{20E3}' || c == '\u{FE0F}')
            {
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
    fn a_long_reply_becomes_a_numbered_thread_of_valid_tweets() {
        let body = "Halo kak, ".to_owned() + &"informasi layanan publik ".repeat(40);
        let parts = thread("warga1", &body);
        assert!(parts.len() >= 3, "{parts:?}");
        for (i, part) in parts.iter().enumerate() {
            assert!(fits(part), "{part}");
            assert!(part.starts_with(&format!("@warga1 ({}/{}) ", i + 1, parts.len())));
        }
        assert_eq!(thread("warga1", "Halo kak"), ["@warga1 Halo kak"]);
    }

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
    fn an_email_address_a_mention_or_a_hashtag_links_nothing() {
        // extract.yml: "DO NOT extract URL with gTLD followed by @ sign", "DO NOT extract URLs
        // in hashtag or @mention", "DO NOT extract URL if preceded by $".
        for text in [
            "pengaduanrsudkotamalang@gmail.com",
            "john.doe.gov@mail.com",
            "#test.com @test.com #http://test.com @http://test.com",
            "$twitter.com $http://t.co/abcde",
        ] {
            assert!(urls(text).is_empty(), "{text}");
        }
        let text = "surel a@gmail.com atau malangkota.go.id";
        let found: Vec<&str> = urls(text).into_iter().map(|url| &text[url]).collect();
        assert_eq!(found, ["malangkota.go.id"]);
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
