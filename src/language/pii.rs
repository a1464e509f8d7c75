/*!
Detection of personal data in a citizen's text: 16-digit NIK or KK numbers, phone numbers and
e-mail addresses. Found before anything is stored in a public place or written to a log, so that
[`redact`] can replace them.
*/

use std::sync::LazyLock;

use regex::Regex;

/// The kind of personal data found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PiiKind {
    /// A 16-digit population number (NIK) or family-card number (KK).
    IdNumber,
    /// A mobile or landline phone number.
    Phone,
    /// An e-mail address.
    Email,
}

impl PiiKind {
    /// What a redacted span reads, in Indonesian, since staff and citizens see it.
    pub fn placeholder(self) -> &'static str {
        match self {
            PiiKind::IdNumber => "[NIK/KK disamarkan]",
            PiiKind::Phone => "[nomor telepon disamarkan]",
            PiiKind::Email => "[email disamarkan]",
        }
    }
}

/// One piece of personal data: its kind and its byte range in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PiiSpan {
    pub kind: PiiKind,
    pub start: usize,
    pub end: usize,
}

/// Digits with optional single separators (space, dot, dash) between them.
static DIGIT_RUN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\+?\(?\d(?:[ .\-()]{0,2}\d)+").expect("digit-run pattern"));
static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b[a-z0-9._%+\-]+@[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.[a-z]{2,}\b")
        .expect("e-mail pattern")
});

/// Finds personal data in `text`, in order of position, without overlaps.
pub fn detect(text: &str) -> Vec<PiiSpan> {
    let mut spans: Vec<PiiSpan> = EMAIL
        .find_iter(text)
        .map(|m| PiiSpan {
            kind: PiiKind::Email,
            start: m.start(),
            end: m.end(),
        })
        .collect();
    for m in DIGIT_RUN.find_iter(text) {
        if spans.iter().any(|s| s.start < m.end() && m.start() < s.end) {
            continue;
        }
        // Do not take a number that is glued to letters, such as an id in "SBT-2026-0087x".
        let before = text[..m.start()].chars().next_back();
        let after = text[m.end()..].chars().next();
        if before.is_some_and(char::is_alphanumeric) || after.is_some_and(char::is_alphanumeric) {
            continue;
        }
        let raw = m.as_str();
        let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
        let kind = classify(raw, &digits);
        if let Some(kind) = kind {
            spans.push(PiiSpan {
                kind,
                start: m.start(),
                end: m.end(),
            });
        }
    }
    spans.sort_by_key(|s| s.start);
    spans
}

fn classify(raw: &str, digits: &str) -> Option<PiiKind> {
    let grouped = raw.contains([' ', '.', '-']);
    match digits.len() {
        // A NIK or KK starts with a province code (11 to 94); written plain or in groups.
        16 if !digits.starts_with('0') => Some(PiiKind::IdNumber),
        // Mobile numbers: 08..., 628..., +628..., 10 to 14 digits.
        10..=14 if digits.starts_with("08") || digits.starts_with("628") => Some(PiiKind::Phone),
        // Landlines with an area code: (0341) 751535, 0341-751535; Malang's own (0341) also
        // written plain.
        9..=12
            if digits.starts_with('0')
                && (grouped || raw.starts_with('(') || digits.starts_with("0341")) =>
        {
            Some(PiiKind::Phone)
        }
        _ => None,
    }
}

/// Replaces every piece of personal data in `text` with a placeholder.
pub fn redact(text: &str) -> String {
    let spans = detect(text);
    if spans.is_empty() {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for span in spans {
        out.push_str(&text[last..span.start]);
        out.push_str(span.kind.placeholder());
        last = span.end;
    }
    out.push_str(&text[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<PiiKind> {
        detect(text).into_iter().map(|s| s.kind).collect()
    }

    #[test]
    fn finds_a_plain_and_a_grouped_nik() {
        assert_eq!(kinds("NIK 3573042103990002 hilang"), [PiiKind::IdNumber]);
        assert_eq!(kinds("kk saya 3573 0421 0399 0002"), [PiiKind::IdNumber]);
        assert_eq!(kinds("no kk: 3573.0421.0399.0002."), [PiiKind::IdNumber]);
    }

    #[test]
    fn finds_mobile_numbers_in_their_usual_shapes() {
        assert_eq!(kinds("hubungi 081234567890 ya"), [PiiKind::Phone]);
        assert_eq!(kinds("WA +62 812-3456-7890"), [PiiKind::Phone]);
        assert_eq!(kinds("wa 6281234567890"), [PiiKind::Phone]);
        assert_eq!(kinds("telp 0812 3456 789"), [PiiKind::Phone]);
    }

    #[test]
    fn finds_landlines_with_area_code() {
        assert_eq!(kinds("kantor (0341) 751535"), [PiiKind::Phone]);
        assert_eq!(kinds("0341-751535"), [PiiKind::Phone]);
    }

    #[test]
    fn finds_email_addresses() {
        assert_eq!(kinds("email: warga.malang@gmail.com"), [PiiKind::Email]);
    }

    #[test]
    fn leaves_ordinary_numbers_alone() {
        assert!(kinds("umurku 17, antre 3 jam, Rp300.000, RT 04 RW 3").is_empty());
        assert!(kinds("tiket SBT-2026-0087 dan MLG-2026-000123").is_empty());
        assert!(kinds("nomor sambungan 0412345").is_empty());
        assert!(kinds("tanggal 21-03-1999").is_empty());
        assert!(kinds("telp 112 atau 119").is_empty());
    }

    #[test]
    fn redaction_replaces_every_span_and_keeps_the_rest() {
        let text = "NIK saya 3573015208790003, hp 081234567890, mail a@b.co";
        assert_eq!(
            redact(text),
            "NIK saya [NIK/KK disamarkan], hp [nomor telepon disamarkan], mail [email disamarkan]"
        );
        assert_eq!(redact("tanpa data pribadi"), "tanpa data pribadi");
    }
}
