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

/// Digits with separators (up to three of space, dot, dash, brackets) between them: "0812 - 3456
/// - 7890" is one run. A run may hold several numbers; [`split_run`] finds them.
static DIGIT_RUN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\+?\(?\d(?:[ .\-()]{0,3}\d)+").expect("digit-run pattern"));
static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    // No word boundary after the top-level domain: "warga@gmail.com081234567890" is an address
    // glued to a number.
    Regex::new(r"(?i)\b[a-z0-9._%+\-]+@[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.[a-z]{2,}")
        .expect("e-mail pattern")
});
/// The rest of an address glued to the end of another (no word boundary before it).
static GLUED_EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^[a-z0-9._%+\-]+@[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.[a-z]{2,}")
        .expect("glued e-mail pattern")
});
/// A label that says the number after it is personal, whatever its shape ("NIK:", "no hp",
/// "WA"), at the end of the text before the number.
static LABEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?:^|[^\p{L}])(nik|e-?ktp|ktp|nkk|kk|no\.?\s*kk|hp|no\.?\s*hp|wa|no\.?\s*wa|whatsapp|telp|tlp|telepon|telpon|kontak)\s*[:.=#]?\s*$",
    )
    .expect("label pattern")
});

/// Digits a labelled number needs at least.
const LABELLED_DIGITS: usize = 8;

/// `text` with the spellings that hide a number folded to plain ASCII (full-width and other
/// scripts' digits, mathematical digits, odd dashes and spaces, invisible characters removed),
/// and, for each byte of the folded text, the byte of `text` it came from.
struct Folded {
    text: String,
    origin: Vec<usize>,
}

impl Folded {
    fn new(text: &str) -> Folded {
        use unicode_normalization::UnicodeNormalization as _;
        let mut out = String::with_capacity(text.len());
        let mut origin = Vec::with_capacity(text.len() + 1);
        for (i, c) in text.char_indices() {
            let mut push = |f: char| {
                let before = out.len();
                out.push(f);
                origin.extend(std::iter::repeat_n(i, out.len() - before));
            };
            if c.is_ascii() {
                push(c);
                continue;
            }
            // NFKC per character: full-width, circled and mathematical digits and letters.
            let mut buffer = [0u8; 4];
            for k in c.encode_utf8(&mut buffer).nfkc() {
                // Invisible characters fold to nothing.
                if let Some(f) = fold_char(k) {
                    push(f);
                }
            }
        }
        origin.push(text.len());
        Folded { text: out, origin }
    }

    /// The byte range of the original text that `start..end` of the folded text came from.
    fn original(&self, start: usize, end: usize, text: &str) -> (usize, usize) {
        let from = self.origin[start];
        // The end: the start of the first original character after the span's last one.
        let last = self.origin[end - 1];
        let to = text[last..]
            .chars()
            .next()
            .map_or(text.len(), |c| last + c.len_utf8());
        (from, to)
    }
}

/// What one character becomes when folded; `None` drops it.
fn fold_char(c: char) -> Option<char> {
    // Decimal digits of other scripts (Unicode Nd blocks), each block's zero first.
    const ZEROS: [u32; 22] = [
        0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6,
        0x0D66, 0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0xFF10,
    ];
    let n = c as u32;
    if let Some(zero) = ZEROS.iter().find(|&&z| (z..z + 10).contains(&n)) {
        return char::from_digit(n - zero, 10);
    }
    match c {
        '\u{00AD}' | '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' => None,
        '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE58}' | '\u{FE63}' | '\u{FF0D}' => Some('-'),
        '\u{00A0}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}' => Some(' '),
        '\u{00B7}' | '\u{2022}' | '\u{2027}' | '\u{30FB}' | '\u{FF61}' => Some('.'),
        other => Some(other),
    }
}

/// Finds personal data in `text`, in order of position, without overlaps.
pub fn detect(text: &str) -> Vec<PiiSpan> {
    let folded = Folded::new(text);
    let f = folded.text.as_str();
    let mut found: Vec<(PiiKind, usize, usize)> = Vec::new();
    let mut from = 0;
    while let Some(m) = EMAIL.find_at(f, from) {
        // An address glued to another ("a@b.mal7ng@gmail.com"): the first match stops at its
        // top-level domain, and the second, with no word boundary before it, would only be
        // found once the first is replaced. Both are one span.
        let mut end = m.end();
        while let Some(more) = GLUED_EMAIL.find(&f[end..]) {
            end += more.end();
        }
        found.push((PiiKind::Email, m.start(), end));
        from = end;
    }
    // Numbers are looked for with the addresses blanked out (same length, so the offsets hold):
    // a number next to an address is neither swallowed by it nor glued to it.
    let mut blanked = f.to_owned();
    for (_, start, end) in &found {
        blanked.replace_range(*start..*end, &"_".repeat(end - start));
    }
    let f = blanked.as_str();
    for m in DIGIT_RUN.find_iter(f) {
        let labelled = label_before(f, m.start());
        for (kind, start, end) in split_run(f, m.start(), m.end(), labelled) {
            found.push((kind, start, end));
        }
    }
    found.sort_by_key(|s| s.1);
    found
        .into_iter()
        .map(|(kind, start, end)| {
            let (start, end) = folded.original(start, end, text);
            PiiSpan { kind, start, end }
        })
        .collect()
}

/// The kind a label just before `at` announces, if any.
fn label_before(text: &str, at: usize) -> Option<PiiKind> {
    let mut from = at.saturating_sub(24);
    while !text.is_char_boundary(from) {
        from -= 1;
    }
    let caps = LABEL.captures(&text[from..at])?;
    let label = caps.get(1)?.as_str().to_lowercase();
    Some(
        if label.contains("nik") || label.contains("ktp") || label.contains("kk") {
            PiiKind::IdNumber
        } else {
            PiiKind::Phone
        },
    )
}

/// The personal numbers in the digit run `start..end` of `text`: its digit groups, taken
/// left to right, each time the longest sequence of groups that reads as a NIK or a phone
/// number (so that "0812 3456 7890 - 3573 0421 0399 0002" is two numbers, not one too long).
fn split_run(
    text: &str,
    start: usize,
    end: usize,
    labelled: Option<PiiKind>,
) -> Vec<(PiiKind, usize, usize)> {
    let run = &text[start..end];
    // Byte ranges (within the run) of its digit groups.
    let mut groups: Vec<(usize, usize)> = Vec::new();
    for (i, c) in run.char_indices() {
        if c.is_ascii_digit() {
            match groups.last_mut() {
                Some(g) if g.1 == i => g.1 = i + 1,
                _ => groups.push((i, i + 1)),
            }
        }
    }
    let lead = |g: usize| {
        // A leading "+" or "(" belongs to the number: the run's, or a bracket just before a
        // later group ("0341 751535 (022765432)").
        let s = groups[g].0;
        if g == 0 {
            0
        } else if run[..s].ends_with('(') {
            s - 1
        } else {
            s
        }
    };
    let mut out = Vec::new();
    let mut g = 0;
    while g < groups.len() {
        let mut taken = None;
        for last in (g..groups.len()).rev() {
            let (from, to) = (lead(g), groups[last].1);
            let raw = &run[from..to];
            let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
            let glued = glued(text, start + from, start + to);
            let kind = classify(raw, &digits, glued).or_else(|| {
                (g == 0 && digits.len() >= LABELLED_DIGITS && digits.len() <= 20)
                    .then_some(labelled)
                    .flatten()
            });
            if let Some(kind) = kind {
                taken = Some((kind, start + from, start + to, last));
                break;
            }
        }
        match taken {
            Some((kind, from, to, last)) => {
                out.push((kind, from, to));
                g = last + 1;
            }
            None => g += 1,
        }
    }
    out
}

/// Whether `start..end` of `text` touches a letter or digit on either side.
fn glued(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    before.is_some_and(char::is_alphanumeric) || after.is_some_and(char::is_alphanumeric)
}

fn classify(raw: &str, digits: &str, glued: bool) -> Option<PiiKind> {
    let grouped = raw.contains([' ', '.', '-']);
    match digits.len() {
        // A NIK or KK starts with a province code (11 to 94); written plain or in groups, or
        // glued to its label ("NIK3573...").
        16 if !digits.starts_with('0') => Some(PiiKind::IdNumber),
        // Mobile numbers: 08..., 628..., +628..., 10 to 14 digits, glued or not.
        10..=14 if digits.starts_with("08") || digits.starts_with("628") => Some(PiiKind::Phone),
        // Landlines with an area code: (0341) 751535, 0341-751535; Malang's own (0341) also
        // written plain. Not when glued to letters: an id such as "SBT-0341-751535x" is no
        // telephone.
        9..=12
            if !glued
                && digits.starts_with('0')
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

/// `text` with every piece of personal data cut out (a space in its place): what a search
/// index may hold, and what is left of a query to search for.
pub fn cut(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for span in detect(text) {
        out.push_str(&text[last..span.start]);
        out.push(' ');
        last = span.end;
    }
    out.push_str(&text[last..]);
    out
}

/// The personal data of `text` in a form two spellings of it share: a NIK's 16 digits, a phone
/// number's last nine digits (so that `0812…` and `+62 812…` meet), an e-mail address in lower
/// case. For telling whether a text repeats someone's data.
pub fn identities(text: &str) -> Vec<(PiiKind, String)> {
    detect(text)
        .into_iter()
        .map(|span| {
            let raw = &text[span.start..span.end];
            let key = match span.kind {
                PiiKind::Email => raw.to_lowercase(),
                kind => {
                    let digits: String = Folded::new(raw)
                        .text
                        .chars()
                        .filter(char::is_ascii_digit)
                        .collect();
                    let keep = if kind == PiiKind::Phone { 9 } else { 16 };
                    digits[digits.len().saturating_sub(keep)..].to_owned()
                }
            };
            (span.kind, key)
        })
        .collect()
}

/// `text` with every piece of personal data masked for a screen: a NIK keeps its first and
/// last four digits (`3573••••••••0005`), a phone number its first four and last two, an e-mail
/// address its first letter and its domain. Staff see that a number was given and can tell two
/// apart; the whole number needs an admin's audited reveal.
pub fn mask(text: &str) -> String {
    let spans = detect(text);
    if spans.is_empty() {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for span in spans {
        out.push_str(&text[last..span.start]);
        let raw = &text[span.start..span.end];
        out.push_str(&match span.kind {
            PiiKind::IdNumber => masked_digits(raw, 4, 4),
            PiiKind::Phone => masked_digits(raw, 4, 2),
            PiiKind::Email => {
                let (local, domain) = raw.split_once('@').unwrap_or((raw, ""));
                let first: String = local.chars().take(1).collect();
                format!("{first}•••@{domain}")
            }
        });
        last = span.end;
    }
    out.push_str(&text[last..]);
    out
}

/// The digits of `raw` (however spelled) with all but the first `head` and last `tail` masked.
fn masked_digits(raw: &str, head: usize, tail: usize) -> String {
    let digits: Vec<char> = Folded::new(raw)
        .text
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let n = digits.len();
    // At least half of the digits are masked, whatever the number's length.
    let (head, tail) = if head + tail <= n / 2 {
        (head, tail)
    } else {
        (head.min(n / 4), tail.min(n / 4))
    };
    digits
        .iter()
        .enumerate()
        .map(|(i, d)| if i < head || i >= n - tail { *d } else { '•' })
        .collect()
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
    fn finds_numbers_in_odd_spellings() {
        // Glued to a label, full-width, spaced dashes, other scripts' digits, invisible marks.
        assert_eq!(kinds("NIK3573042103990002 hilang"), [PiiKind::IdNumber]);
        assert_eq!(kinds("hp081234567890"), [PiiKind::Phone]);
        assert_eq!(
            kinds("ＮＩＫ ３５７３０４２１０３９９０００２"),
            [PiiKind::IdNumber]
        );
        assert_eq!(kinds("wa 0812 - 3456 - 7894 ya"), [PiiKind::Phone]);
        assert_eq!(kinds("telp 0812–3456–7894"), [PiiKind::Phone]);
        assert_eq!(kinds("no ٠٨١٢٣٤٥٦٧٨٩٠"), [PiiKind::Phone]);
        assert_eq!(
            kinds("3573\u{200B}0421\u{200B}0399\u{200B}0002"),
            [PiiKind::IdNumber]
        );
        assert_eq!(kinds("𝟎𝟖𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗𝟎"), [PiiKind::Phone]);
        // Labelled: whatever the shape after "NIK:" or "no hp".
        assert_eq!(kinds("NIK: 357304210399000"), [PiiKind::IdNumber]);
        assert_eq!(kinds("no hp 8123456789"), [PiiKind::Phone]);
        // Two numbers in one run are two.
        assert_eq!(
            kinds("0812 3456 7890 - 3573 0421 0399 0002"),
            [PiiKind::Phone, PiiKind::IdNumber]
        );
    }

    #[test]
    fn the_fuzzers_findings_stay_fixed() {
        // fuzz/FINDINGS.md R1 to R5: a number next to an address, a bracketed second number,
        // a second labelled number glued to the first; each redacted in one pass.
        for (text, kinds_wanted) in [
            (
                "hp 0812-3456-7890 2warga@mail.com",
                vec![PiiKind::Phone, PiiKind::Email],
            ),
            (
                "NIK 3573042103990002 1warga@mail.com",
                vec![PiiKind::IdNumber, PiiKind::Email],
            ),
            (
                "email warga@gmail.com081234567890",
                vec![PiiKind::Email, PiiKind::Phone],
            ),
            (
                "kantor 0341 751535 (022765432)",
                vec![PiiKind::Phone, PiiKind::Phone],
            ),
            (
                "kk02800907kk05107107",
                vec![PiiKind::IdNumber, PiiKind::IdNumber],
            ),
            // R6: an address glued to another.
            (
                "l wqam.rgalan@emarga.mal7ng@gmail.com",
                vec![PiiKind::Email],
            ),
            ("a@b.co.id2c@d.com x", vec![PiiKind::Email]),
        ] {
            assert_eq!(kinds(text), kinds_wanted, "{text}");
            let once = redact(text);
            assert_eq!(redact(&once), once, "{text}: one pass");
        }
        for text in [
            "a@a.al(034151530",
            "6280628080kk 11226280",
            "0 00027401 7@a.om",
        ] {
            let once = redact(text);
            assert_eq!(redact(&once), once, "{text}: one pass");
        }
        // M1: a short labelled number keeps at most half of its digits on screen.
        assert_eq!(mask("NIK: 357304210"), "NIK: 35•••••10");
    }

    #[test]
    fn spans_cover_the_original_spelling() {
        let text = "nik ３５７３０４２１０３９９０００２.";
        let out = redact(text);
        assert_eq!(out, "nik [NIK/KK disamarkan].");
    }

    #[test]
    fn masking_keeps_the_ends_only() {
        assert_eq!(
            mask("NIK 3573 0421 0399 0005 hilang"),
            "NIK 3573••••••••0005 hilang"
        );
        assert_eq!(mask("wa +62 812-3456-7890"), "wa 6281•••••••90");
        assert_eq!(mask("mail warga.malang@gmail.com"), "mail w•••@gmail.com");
        assert_eq!(
            mask("NIK３５７３０４２１０３９９０００５"),
            "NIK3573••••••••0005"
        );
        assert_eq!(mask("tanpa data"), "tanpa data");
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

    #[test]
    fn identities_meet_across_spellings() {
        let a =
            identities("wa 0812-3456-7890, NIK ３５７３０４２１０３９９０００２, Warga@Mail.com");
        let b = identities("+62 812 3456 7890 / 3573042103990002 / warga@mail.com");
        assert_eq!(a, b);
        assert_eq!(a[0], (PiiKind::Phone, "234567890".into()));
    }
}
