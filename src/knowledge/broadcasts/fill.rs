//! Filling a broadcast's placeholders with what staff typed: the last look at the values before
//! a public post, so each refusal says, in Indonesian, which value to fix.

use std::collections::{BTreeMap, HashMap};

use crate::language::pii::{PiiKind, detect};

use super::{Broadcast, Token, split, substitute, tokens};

/// Why a broadcast could not be filled in. The messages are for staff, in Indonesian.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FillError {
    /// A placeholder the text uses has no value.
    #[error("isian {{{0}}} belum diisi")]
    Missing(String),
    /// A placeholder's value is empty or only spaces.
    #[error("isian {{{0}}} masih kosong")]
    Empty(String),
    /// A value was given for a placeholder the text does not use.
    #[error("pesan ini tidak memakai isian {{{0}}}")]
    Unknown(String),
    /// A value holds a character that must not go into a public post: a control character
    /// (a line break included), one that is invisible or turns the text around, or markup
    /// (`<`, `>`, braces).
    #[error("isian {{{placeholder}}} memuat karakter yang tidak boleh dipakai: {}", shown(*.character))]
    Character {
        placeholder: String,
        character: char,
    },
    /// A value holds personal data (a NIK/KK number, a phone number, an e-mail address).
    #[error("isian {{{placeholder}}} memuat {}: data pribadi tidak boleh ada di pesan publik", what(*.kind))]
    PersonalData { placeholder: String, kind: PiiKind },
    /// Values that are clean alone make personal data with the text around them.
    #[error("teks yang sudah diisi memuat {}: periksa isian yang berisi angka", what(*.kind))]
    PersonalDataInText { kind: PiiKind },
    /// The filled text needs more than [`super::MAX_PARTS`] tweets.
    #[error("teks yang sudah diisi menjadi {parts} twit, paling banyak {max}: persingkat isiannya")]
    TooLong { parts: usize, max: usize },
}

impl Broadcast {
    /// The text to publish: each `{placeholder}` replaced by its value in `values`, trimmed.
    /// Refused when a placeholder the text uses has no value or an empty one, when a key is not
    /// a placeholder the text uses, when a value holds personal data or a character that does
    /// not belong in a post ([`FillError::Character`]), and when the result needs more than
    /// [`super::MAX_PARTS`] tweets (measured as a reply to the longest @handle).
    pub fn fill(&self, values: &BTreeMap<String, String>) -> Result<String, FillError> {
        let mut used: Vec<&str> = Vec::new();
        for token in tokens(&self.text) {
            if let Token::Placeholder(name) = token
                && !used.contains(&name)
            {
                used.push(name);
            }
        }
        if let Some(key) = values.keys().find(|k| !used.contains(&k.as_str())) {
            return Err(FillError::Unknown(key.clone()));
        }
        let mut clean: HashMap<&str, &str> = HashMap::new();
        for name in used {
            let placeholder = || name.to_owned();
            let value = values
                .get(name)
                .ok_or_else(|| FillError::Missing(placeholder()))?
                .trim();
            if value.is_empty() {
                return Err(FillError::Empty(placeholder()));
            }
            if let Some(character) = value.chars().find(|&c| forbidden(c)) {
                let placeholder = placeholder();
                return Err(FillError::Character {
                    placeholder,
                    character,
                });
            }
            if let Some(found) = detect(value).first() {
                let placeholder = placeholder();
                let kind = found.kind;
                return Err(FillError::PersonalData { placeholder, kind });
            }
            clean.insert(name, value);
        }
        let filled = substitute(&self.text, |name| clean.get(name).copied());
        if let Some(found) = detect(&filled).first() {
            return Err(FillError::PersonalDataInText { kind: found.kind });
        }
        if let Err(too_long) = split(&filled) {
            return Err(FillError::TooLong {
                parts: too_long.parts,
                max: too_long.max,
            });
        }
        Ok(filled)
    }
}

/// Whether `c` must not stand in a value: control characters (line breaks and tabs too: a value
/// goes inside a sentence), characters that are invisible or reorder text (zero-width, soft
/// hyphen, bidirectional controls, the byte-order mark), the ones X refuses, and markup: `<` and
/// `>` (HTML where the text is shown) and braces (a placeholder typed into a value).
pub(super) fn forbidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '<' | '>'
                | '{'
                | '}'
                | '\u{00AD}'
                | '\u{061C}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
                | '\u{FFFE}'
                | '\u{FFFF}'
        )
}

/// A character as a message shows it: visible ones quoted, every one with its code point.
fn shown(c: char) -> String {
    let code = format!("U+{:04X}", u32::from(c));
    if c.is_control() || c.is_whitespace() || (forbidden(c) && !matches!(c, '<' | '>' | '{' | '}'))
    {
        code
    } else {
        format!("\"{c}\" ({code})")
    }
}

/// What a kind of personal data is called, in Indonesian.
fn what(kind: PiiKind) -> &'static str {
    match kind {
        PiiKind::IdNumber => "NIK/KK",
        PiiKind::Phone => "nomor telepon",
        PiiKind::Email => "alamat email",
    }
}
