//! Personal-data detection, redaction and masking (`kicau::language::pii`) on any text.
//!
//! Checks: no panic; `detect` gives non-empty spans in order, without overlaps, on character
//! boundaries; `redact` keeps the text between spans as it was; its output holds nothing that
//! `detect` would flag as a NIK/KK number; redacting twice changes nothing more; `mask` (what
//! the console shows) does not panic and leaves a text without personal data alone.

#![no_main]

use kicau::language::{PiiKind, PiiSpan, pii};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let spans = pii::detect(text);
    let mut last = 0;
    let mut kept = Vec::new();
    for s in &spans {
        assert!(s.start < s.end && s.end <= text.len(), "{s:?}");
        assert!(
            s.start >= last,
            "spans overlap or are out of order: {spans:?}"
        );
        assert!(text.is_char_boundary(s.start) && text.is_char_boundary(s.end));
        kept.push(&text[last..s.start]);
        last = s.end;
    }
    kept.push(&text[last..]);

    let once = pii::redact(text);
    // Every stretch between spans is in the output, in order.
    let mut rest = once.as_str();
    for piece in kept {
        let at = rest.find(piece).expect("unredacted text kept");
        rest = &rest[at + piece.len()..];
    }
    // The screen's mask: no panic, and nothing changed where nothing was found.
    let masked = pii::mask(text);
    assert!(!spans.is_empty() || masked == text, "{masked:?}");
    let left: Vec<_> = pii::detect(&once)
        .into_iter()
        .filter(|s| s.kind == PiiKind::IdNumber)
        .map(|s| &once[s.start..s.end])
        .collect();
    assert!(
        left.is_empty(),
        "redacted text still holds NIK/KK {left:?}: {once:?}"
    );
    assert_eq!(pii::redact(&once), once, "redaction is not idempotent");
});
