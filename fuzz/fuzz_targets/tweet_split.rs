//! The tweet splitter (`kicau::tweet::Splitter`, src/tweet/split.rs), as the shipped account
//! uses it: `Splitter::new("PemkotMalang", DEFAULT_MAX_PARTS)`.
//!
//! Input: `handle\nbody`; the handle is cut to what X allows (1 to 15 of `A-Za-z0-9_`, "warga1"
//! when nothing is left), the body is any text. Checks: no panic; `split` refuses exactly when
//! `split_unbounded` gives more than the cap, saying how many; no parts only for a blank body;
//! every part starts with `@handle `, is numbered `(i/n) ` when there are several, and fits
//! (`kicau::tweet::fits`); no part mentions the account itself (as twitter-text reads a
//! mention: `@` or `＠`, case-insensitive, a whole handle); the parts carry the body's
//! characters, in order (white space aside; bodies with `@` or `＠` skip this, since mentions
//! of the handle and the account are removed on purpose).

#![no_main]

use kicau::tweet::{self, DEFAULT_MAX_PARTS, Splitter};
use libfuzzer_sys::fuzz_target;

const ACCOUNT: &str = "PemkotMalang";

fuzz_target!(|input: &str| {
    let (handle, body) = input.split_once('\n').unwrap_or(("", input));
    let mut handle: String = handle
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(15)
        .collect();
    if handle.is_empty() {
        handle = "warga1".into();
    }
    let splitter = Splitter::new(ACCOUNT, DEFAULT_MAX_PARTS);
    let parts = splitter.split_unbounded(&handle, body);
    match splitter.split(&handle, body) {
        Ok(capped) => assert_eq!(capped, parts),
        Err(e) => assert!(e.parts == parts.len() && e.parts > e.max && e.max == DEFAULT_MAX_PARTS),
    }
    let plain = !body.contains(['@', '＠']);
    if plain {
        assert_eq!(parts.is_empty(), body.trim().is_empty(), "{parts:?}");
    }

    let at = format!("@{handle} ");
    let mut carried = String::new();
    for (i, part) in parts.iter().enumerate() {
        assert!(part.starts_with(&at), "part {i} lacks {at:?}: {part:?}");
        let mut text = &part[at.len()..];
        if parts.len() > 1 {
            let numbering = format!("({}/{}) ", i + 1, parts.len());
            assert!(
                text.starts_with(&numbering),
                "part {i} unnumbered: {part:?}"
            );
            text = &text[numbering.len()..];
        }
        let weight = tweet::weighted_length(part);
        assert!(
            tweet::fits(part),
            "part {} of {} weighs {weight}: {part:?}",
            i + 1,
            parts.len()
        );
        if mentions_account(text) {
            panic!("part {i} mentions the account: {part:?}");
        }
        carried.extend(text.chars().filter(|c| !c.is_whitespace()));
    }
    if plain {
        let expected: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        if carried != expected {
            let same = carried
                .chars()
                .zip(expected.chars())
                .take_while(|(a, b)| a == b)
                .count();
            let near = |s: &str| {
                s.chars()
                    .skip(same.saturating_sub(10))
                    .take(30)
                    .collect::<String>()
            };
            panic!(
                "the parts do not carry the body: after {same} characters, {:?} instead of {:?}",
                near(&carried),
                near(&expected)
            );
        }
    }
});

/// Whether `text` mentions @PemkotMalang the way twitter-text finds mentions.
fn mentions_account(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    let handle = ACCOUNT.to_ascii_lowercase();
    lower.match_indices(&handle).any(|(at, _)| {
        let mut before = lower[..at].chars().rev();
        let sign = before.next().is_some_and(|c| c == '@' || c == '＠');
        let start = before
            .next()
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || "_!#$%&*@＠".contains(c)));
        let end = lower[at + handle.len()..]
            .chars()
            .next()
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'));
        sign && start && end
    })
}
