//! Word-level normalisation: raw lower-case tokens to formal Indonesian words.

use super::lexicon::{Lexicon, Table};

/// Normalises a sequence of raw lower-case tokens (as the tokenizer cut them) into formal words.
/// Phrases of up to three tokens are looked up before single words, so "nang endi" reads "di mana".
pub(super) fn normalize(lexicon: &Lexicon, raw: &[&str]) -> Vec<String> {
    // First the per-token shape rules that do not need the dictionary: reduplication and
    // hyphenated compounds.
    let mut tokens: Vec<String> = Vec::with_capacity(raw.len());
    for token in raw {
        tokens.extend(split_token(lexicon, token));
    }
    let longest = lexicon
        .slang
        .longest_key()
        .max(lexicon.javanese.longest_key())
        .max(lexicon.walikan.longest_key())
        .max(1);
    let mut out = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        let mut matched = false;
        for len in (2..=longest.min(tokens.len() - i)).rev() {
            let phrase = tokens[i..i + len].join(" ");
            let hit = lexicon
                .slang
                .get(&phrase)
                .or_else(|| lexicon.javanese.get(&phrase))
                .or_else(|| lexicon.walikan.get(&phrase));
            if let Some(value) = hit {
                out.extend(value.iter().cloned());
                i += len;
                matched = true;
                break;
            }
        }
        if matched {
            continue;
        }
        match map_word(lexicon, &tokens[i]) {
            Some(value) => out.extend(value),
            None => out.push(tokens[i].clone()),
        }
        i += 1;
    }
    // Reduplicated forms ("anak-anak", "anak2") and dictionary output can leave a word twice in
    // a row; once is enough for meaning and for search.
    out.dedup();
    out
}

/// Splits one raw token by its shape: "anak2" and "anak-anak" give "anak"; "e-ktp" stays whole
/// when the dictionary knows it; other hyphenated words are split.
fn split_token(lexicon: &Lexicon, token: &str) -> Vec<String> {
    let token = token.replace('’', "'");
    if let Some(stem) = token.strip_suffix('2')
        && stem.chars().count() >= 2
        && stem.chars().all(char::is_alphabetic)
    {
        return vec![stem.to_owned()];
    }
    if !token.contains('-') || known(lexicon, &token) {
        return vec![token];
    }
    let parts: Vec<&str> = token.split('-').filter(|p| !p.is_empty()).collect();
    if parts.len() == 2 && parts[0] == parts[1] {
        return vec![parts[0].to_owned()];
    }
    parts.into_iter().map(str::to_owned).collect()
}

fn known(lexicon: &Lexicon, word: &str) -> bool {
    lexicon.slang.get(word).is_some()
        || lexicon.vocabulary.contains(word)
        || lexicon.javanese.get(word).is_some()
}

/// Maps one word through the dictionaries and rules; `None` leaves it as it is.
fn map_word(lexicon: &Lexicon, word: &str) -> Option<Vec<String>> {
    if word.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    if let Some(hit) = lookup(lexicon, word) {
        return Some(hit);
    }
    for candidate in destretch(word) {
        if let Some(hit) = lookup(lexicon, &candidate) {
            return Some(hit);
        }
        if let Some(hit) = affixes(lexicon, &candidate) {
            return Some(hit);
        }
    }
    if let Some(hit) = affixes(lexicon, word) {
        return Some(hit);
    }
    if let Some(hit) = reversed(lexicon, word) {
        return Some(hit);
    }
    // A stretched word that no rule recognises still reads better with its long runs shortened
    // (a doubled letter may be real: "meteranny").
    let squeezed = squeeze(word, 2);
    (squeezed != word).then(|| vec![squeezed])
}

/// Dictionary look-up: the project's slang table (wins), standard words (kept), Javanese, walikan.
fn lookup(lexicon: &Lexicon, word: &str) -> Option<Vec<String>> {
    if let Some(value) = lexicon.slang.get(word) {
        return Some(value.to_vec());
    }
    if lexicon.vocabulary.contains(word) {
        return Some(vec![word.to_owned()]);
    }
    if let Some(value) = table(&lexicon.javanese, word) {
        return Some(value);
    }
    // A walikan word may reverse into a Javanese one: "ublem" is "mlebu", which is "masuk".
    let value = table(&lexicon.walikan, word)?;
    Some(
        value
            .into_iter()
            .flat_map(|w| table(&lexicon.javanese, &w).unwrap_or_else(|| vec![w]))
            .collect(),
    )
}

fn table(table: &Table, word: &str) -> Option<Vec<String>> {
    table.get(word).map(<[String]>::to_vec)
}

/// Variants of a word with stretched letters: runs of three or more shortened to one, then to
/// two ("maaaaf" gives "maf", "maaf"). Empty when the word has no such run.
fn destretch(word: &str) -> Vec<String> {
    let has_run = word
        .as_bytes()
        .windows(3)
        .any(|w| w[0] == w[1] && w[1] == w[2]);
    let has_double = word.as_bytes().windows(2).any(|w| w[0] == w[1]);
    let mut out = Vec::new();
    if has_run {
        out.push(squeeze(word, 1));
        out.push(squeeze(word, 2));
    } else if has_double {
        // "bangett", "gedee": a doubled final or inner letter is often a stretch too.
        out.push(squeeze(word, 1));
    }
    out
}

/// Shortens every run of one letter to at most `keep` letters.
fn squeeze(word: &str, keep: usize) -> String {
    let mut out = String::with_capacity(word.len());
    let mut last = None;
    let mut run = 0;
    for c in word.chars() {
        if Some(c) == last {
            run += 1;
        } else {
            run = 1;
            last = Some(c);
        }
        if run <= keep || !c.is_alphabetic() {
            out.push(c);
        }
    }
    out
}

/// Informal affixes: "-in" for "-kan" (matiin, dibenerin), the nasal prefixes ng-/ny-/nge-
/// (ngurus, nyapu, ngecek), and the informal possessive "-ny".
fn affixes(lexicon: &Lexicon, word: &str) -> Option<Vec<String>> {
    let chars = word.chars().count();
    if chars < 5 {
        return None;
    }
    let root_of = |root: &str| -> Option<String> {
        if root.chars().count() < 3 {
            return None;
        }
        let mapped = lookup(lexicon, root)?;
        (mapped.len() == 1).then(|| mapped.into_iter().next().expect("one word"))
    };
    if let Some(stem) = word.strip_suffix("in") {
        let (prefix, body) = match stem.strip_prefix("di") {
            Some(body) if body.chars().count() >= 3 => ("di", body),
            _ => ("", stem),
        };
        // dibenerin: "benerin" is in the slang table as a whole verb.
        if let Some(value) = lexicon.slang.get(&format!("{body}in")) {
            let mut value = value.to_vec();
            if !prefix.is_empty() && value.len() == 1 {
                value[0] = with_di(&value[0]);
            }
            return Some(value);
        }
        if let Some(root) = root_of(body) {
            return Some(vec![format!("{prefix}{root}kan")]);
        }
    }
    if let Some(stem) = word.strip_suffix("ny")
        && let Some(root) = root_of(stem)
    {
        return Some(vec![format!("{root}nya")]);
    }
    // Javanese possessives: "syarate", "omahe" (-e, -ne for -nya); "omahku" (a Javanese root
    // with an Indonesian -ku or -mu).
    for (suffix, formal, root_may_stay) in [
        ("ne", "nya", true),
        ("e", "nya", true),
        ("ku", "ku", false),
        ("mu", "mu", false),
    ] {
        if let Some(stem) = word.strip_suffix(suffix)
            && let Some(root) = root_of(stem)
            && (root_may_stay || root != stem)
        {
            return Some(vec![format!("{root}{formal}")]);
        }
    }
    for (prefix, replacements) in [
        ("nge", &[""][..]),
        ("ny", &["s", "ny"][..]),
        ("ng", &["k", "", "ng"][..]),
    ] {
        let Some(rest) = word.strip_prefix(prefix) else {
            continue;
        };
        if lexicon.vocabulary.contains(&format!("me{word}")) {
            return Some(vec![format!("me{word}")]);
        }
        for replacement in replacements {
            if prefix != "nge" && !rest.starts_with(is_vowel) && !replacement.is_empty() {
                continue;
            }
            if let Some(root) = root_of(&format!("{replacement}{rest}")) {
                return Some(vec![root]);
            }
        }
    }
    None
}

/// "perbaiki" with the passive prefix: "diperbaiki"; words that already carry it stay.
fn with_di(word: &str) -> String {
    if word.starts_with("di") {
        word.to_owned()
    } else {
        format!("di{word}")
    }
}

fn is_vowel(c: char) -> bool {
    matches!(c, 'a' | 'e' | 'i' | 'o' | 'u')
}

/// The walikan reversal rule: reverse the letters, keeping "ng" and "ny" as one letter, and keep
/// the result when it is a known word. Short words are left alone: too many collide by chance.
fn reversed(lexicon: &Lexicon, word: &str) -> Option<Vec<String>> {
    if word.chars().count() < 4 || !word.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let mut units: Vec<&str> = Vec::new();
    let mut rest = word;
    while !rest.is_empty() {
        let take = if rest.starts_with("ng") || rest.starts_with("ny") {
            2
        } else {
            1
        };
        units.push(&rest[..take]);
        rest = &rest[take..];
    }
    units.reverse();
    let candidate: String = units.concat();
    if candidate == word {
        return None;
    }
    if lexicon.vocabulary.contains(&candidate) {
        return Some(vec![candidate]);
    }
    table(&lexicon.javanese, &candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn squeeze_keeps_the_asked_run_length() {
        assert_eq!(squeeze("tolooong", 1), "tolong");
        assert_eq!(squeeze("maaaaf", 2), "maaf");
    }

    #[test]
    fn reversal_keeps_ng_and_ny_whole() {
        let lexicon = &crate::language::tests::analyzer().lexicon();
        // "ngalam" reversed by units is "malang".
        assert_eq!(reversed(lexicon, "ngalam"), Some(vec!["malang".to_owned()]));
        assert_eq!(reversed(lexicon, "kampret"), None);
    }
}
