//! Knowledge-entry parsing (`kicau::knowledge::entry::parse`) on any text.
//!
//! Checks: no panic; an error names the path it was given and a line between 1 and the text's
//! line count (at least 1); a parsed entry's recorded lines are at least 1 and its short
//! answer is one line.

#![no_main]

use std::path::Path;

use kicau::knowledge::entry;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let path = Path::new("knowledge/layanan/fuzz.md");
    let lines = text
        .strip_prefix('\u{feff}')
        .unwrap_or(text)
        .lines()
        .count()
        .max(1);
    match entry::parse(path, text) {
        Ok(e) => {
            let l = &e.lines;
            for n in [
                l.id, l.agency, l.category, l.links, l.reviewed, l.expires, l.body,
            ] {
                assert!(n >= 1, "{l:?}");
            }
            assert!(!e.short_answer.contains('\n'), "{:?}", e.short_answer);
        }
        Err(e) => {
            assert_eq!(e.path, path);
            assert!(
                (1..=lines).contains(&e.line),
                "error on line {} of a {lines}-line text: {e}",
                e.line
            );
            let _ = e.to_string();
        }
    }
});
