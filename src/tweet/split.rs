/*!
The one tweet splitter: every reply the bot, staff or an announcement posts goes through
[`Splitter::split`].

- A text that fits with its "@handle " is one tweet.
- A longer one becomes a numbered thread, "@handle (1/3) ...": parts end at sentence ends when
  that leaves the part at least half full, otherwise between words; a word longer than a part
  (a run of digits, a pasted token) is broken between grapheme clusters. URLs are never broken
  (any URL weighs 23).
- The numbering is sized for the count it ends with ("(1/9)" to "(100/120)"), not assumed.
- No part is a fragment: a part under [`MIN_PART_CHARS`] characters (unless the whole text is)
  takes words from the part before it.
- The account's own handle is never written into a reply (a reply that names the account would
  mention itself).
- At most `max_parts` parts: a longer text is refused ([`TooLong`]) before anything is queued.
*/

use unicode_segmentation::UnicodeSegmentation;

use super::{MAX_WEIGHTED_LENGTH, weighted_length};

/// The shortest part of a thread, in characters (unless the whole text is shorter).
pub const MIN_PART_CHARS: usize = 20;
/// The default cap on the parts of one reply (`[desk] max_thread_parts`).
pub const DEFAULT_MAX_PARTS: usize = 10;

/// A text too long for the cap on parts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "balasan terlalu panjang: menjadi {parts} twit, paling banyak {max} twit. Persingkat teksnya atau kirim dalam beberapa balasan."
)]
pub struct TooLong {
    /// How many parts the text would need.
    pub parts: usize,
    /// The cap.
    pub max: usize,
}

/// The splitter of one account: its own handle (never written into a reply) and the cap on parts.
#[derive(Debug, Clone)]
pub struct Splitter {
    account: String,
    max_parts: usize,
}

impl Default for Splitter {
    fn default() -> Self {
        Splitter::new("", DEFAULT_MAX_PARTS)
    }
}

impl Splitter {
    /// `account`: the account's own handle, with or without "@"; `max_parts` at least 1.
    pub fn new(account: &str, max_parts: usize) -> Splitter {
        Splitter {
            account: account.trim_start_matches('@').to_owned(),
            max_parts: max_parts.max(1),
        }
    }

    pub fn max_parts(&self) -> usize {
        self.max_parts
    }

    /// The tweets of a reply to `@handle` saying `body`; empty when there is nothing to say.
    pub fn split(&self, handle: &str, body: &str) -> Result<Vec<String>, TooLong> {
        let parts = self.split_unbounded(handle, body);
        if parts.len() > self.max_parts {
            return Err(TooLong {
                parts: parts.len(),
                max: self.max_parts,
            });
        }
        Ok(parts)
    }

    /// The tweets of a post of the account's own (an announcement: no one to reply to), a
    /// numbered thread when long; empty when there is nothing to say.
    pub fn split_post(&self, body: &str) -> Result<Vec<String>, TooLong> {
        let body = body.replace('\u{FF20}', "@");
        let body = without_handle(&body, &self.account, false);
        let parts = numbered("", body.trim());
        if parts.len() > self.max_parts {
            return Err(TooLong {
                parts: parts.len(),
                max: self.max_parts,
            });
        }
        Ok(parts)
    }

    /// As [`Splitter::split`], with no cap (texts the bot wrote itself, known to be short).
    pub fn split_unbounded(&self, handle: &str, body: &str) -> Vec<String> {
        let handle = handle.trim_start_matches('@');
        // A full-width "＠" mentions as "@" does on X.
        let body = body.replace('\u{FF20}', "@");
        let body = without_handle(&body, handle, true);
        let body = without_handle(&body, &self.account, false);
        numbered(&format!("@{handle} "), body.trim())
    }
}

/// `body` after `at` in one tweet, or as a numbered thread "(i/n) " each part after `at`.
fn numbered(at: &str, body: &str) -> Vec<String> {
    if body.is_empty() {
        return Vec::new();
    }
    let single = format!("{at}{body}");
    if weighted_length(&single) <= MAX_WEIGHTED_LENGTH {
        return vec![single];
    }
    // Size the numbering for the count it ends with: "(i/n) " takes 2·digits(n) + 4.
    let mut digits = 1;
    loop {
        let budget = MAX_WEIGHTED_LENGTH - weighted_length(at) - (2 * digits + 4);
        let mut parts = pack(body, budget);
        let n = parts.len();
        if n == 1 {
            // Only the spacing made it long: one tweet, unnumbered.
            return vec![format!("{at}{}", parts.remove(0))];
        }
        if n.to_string().len() <= digits {
            return parts
                .into_iter()
                .enumerate()
                .map(|(i, part)| format!("{at}({}/{n}) {part}", i + 1))
                .collect();
        }
        digits = n.to_string().len();
    }
}

/// The splitter with no account handle and the default cap.
pub fn thread(handle: &str, body: &str) -> Vec<String> {
    Splitter::default().split_unbounded(handle, body)
}

/// `text` without "@handle" mentions of `handle` (case-insensitive, whole handles only); with
/// `leading_only`, only one at its start (a staff member typing the citizen's handle first).
fn without_handle(text: &str, handle: &str, leading_only: bool) -> String {
    if handle.is_empty() {
        return text.to_owned();
    }
    let mention = format!("@{handle}");
    if leading_only {
        let trimmed = text.trim_start();
        return match find_mention(trimmed, &mention) {
            Some(0) => trimmed[mention.len()..].trim_start().to_owned(),
            _ => text.to_owned(),
        };
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut removed = false;
    while let Some(i) = find_mention(rest, &mention) {
        out.push_str(&rest[..i]);
        rest = &rest[i + mention.len()..];
        removed = true;
    }
    out.push_str(rest);
    if !removed {
        return out;
    }
    // Two spaces where a mention stood become one.
    let mut tidy = String::with_capacity(out.len());
    for c in out.chars() {
        if !(c == ' ' && tidy.ends_with(' ')) {
            tidy.push(c);
        }
    }
    tidy
}

/// The byte offset of `mention` in `text` as a whole handle (not the start of a longer one).
fn find_mention(text: &str, mention: &str) -> Option<usize> {
    // Handles are ASCII: ASCII lower case keeps every byte offset (full lower-casing would not,
    // for "İ" and a few others).
    let lower = text.to_ascii_lowercase();
    let wanted = mention.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find(&wanted) {
        let start = from + i;
        let end = start + wanted.len();
        let before_ok = text[..start]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '@'));
        let after_ok = text[end..]
            .chars()
            .next()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        if before_ok && after_ok {
            return Some(start);
        }
        from = end;
    }
    None
}

/// The pieces of `body` that may end a part: sentences (with their closing punctuation), each
/// as its words.
fn sentences(body: &str) -> Vec<Vec<&str>> {
    let mut out: Vec<Vec<&str>> = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in body.split('\n') {
        for word in line.split_whitespace() {
            current.push(word);
            let ends = word
                .trim_end_matches(['"', '\'', ')', '»', '”', '’'])
                .ends_with(['.', '!', '?', '…', ':', ';']);
            if ends {
                out.push(std::mem::take(&mut current));
            }
        }
        if !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
    }
    out
}

/// Packs `body` into parts of at most `budget` weighted characters (see the module).
fn pack(body: &str, budget: usize) -> Vec<String> {
    let mut parts: Vec<String> = Vec::new();
    let mut current = String::new();
    let fits = |text: &str| weighted_length(text) <= budget;
    for sentence in sentences(body) {
        let whole = sentence.join(" ");
        let joined = join(&current, &whole);
        if fits(&joined) {
            current = joined;
            continue;
        }
        // The sentence does not fit in what is left: end the part here when it is at least
        // half full and the sentence fits in a part of its own; otherwise go on word by word.
        if !current.is_empty() && weighted_length(&current) * 2 >= budget && fits(&whole) {
            parts.push(std::mem::take(&mut current));
            current = whole;
            continue;
        }
        for word in sentence {
            let joined = join(&current, word);
            if fits(&joined) {
                current = joined;
                continue;
            }
            if fits(word) {
                if !current.is_empty() {
                    parts.push(std::mem::take(&mut current));
                }
                current = word.to_owned();
            } else {
                // A word longer than a part: cut between grapheme clusters, starting in the
                // room left in this part (so that what came before is no fragment).
                let mut piece = if current.is_empty() {
                    String::new()
                } else {
                    std::mem::take(&mut current) + " "
                };
                for g in word.graphemes(true) {
                    let longer = format!("{piece}{g}");
                    if fits(&longer) || piece.is_empty() {
                        piece = longer;
                    } else {
                        // Not the space after a full part (T5 in fuzz/FINDINGS.md).
                        parts.push(piece.trim_end().to_owned());
                        piece = g.to_owned();
                    }
                }
                current = piece;
            }
        }
    }
    if !current.is_empty() {
        parts.push(current);
    }
    mend_fragment(&mut parts, budget);
    parts
}

fn join(a: &str, b: &str) -> String {
    if a.is_empty() {
        b.to_owned()
    } else {
        format!("{a} {b}")
    }
}

/// Gives a last part under [`MIN_PART_CHARS`] characters words from the part before it (as
/// long as that part keeps at least as many).
fn mend_fragment(parts: &mut Vec<String>, budget: usize) {
    let chars = |s: &str| s.chars().count();
    while parts.len() >= 2 {
        let n = parts.len();
        if chars(&parts[n - 1]) >= MIN_PART_CHARS {
            return;
        }
        let Some((head, moved)) = parts[n - 2].rsplit_once(' ') else {
            // One unbreakable word before: merge when it fits, or leave the short part.
            let merged = format!("{} {}", parts[n - 2], parts[n - 1]);
            if weighted_length(&merged) <= budget {
                parts[n - 2] = merged;
                parts.pop();
            }
            return;
        };
        let last = format!("{moved} {}", parts[n - 1]);
        if weighted_length(&last) > budget || chars(head) < MIN_PART_CHARS {
            return;
        }
        let head = head.to_owned();
        parts[n - 2] = head;
        parts[n - 1] = last;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tweet::fits;

    fn body_of(part: &str) -> &str {
        // "@h (i/n) rest" → "rest"
        let after_handle = part.split_once(' ').map_or("", |(_, r)| r);
        after_handle
            .strip_prefix('(')
            .and_then(|r| r.split_once(") "))
            .map_or(after_handle, |(_, r)| r)
    }

    #[test]
    fn a_short_reply_is_one_tweet_and_an_empty_one_nothing() {
        let s = Splitter::default();
        assert_eq!(s.split("warga1", "Halo kak").unwrap(), ["@warga1 Halo kak"]);
        assert!(s.split("warga1", "   ").unwrap().is_empty());
        assert_eq!(
            s.split("warga1", "@warga1 Halo kak").unwrap(),
            ["@warga1 Halo kak"],
            "a handle typed first is not doubled"
        );
    }

    #[test]
    fn the_accounts_own_handle_is_never_written() {
        let s = Splitter::new("PemkotMalang", 10);
        assert_eq!(
            s.split(
                "warga1",
                "@pemkotmalang siap kak, sudah @PemkotMalang teruskan"
            )
            .unwrap(),
            ["@warga1 siap kak, sudah teruskan"]
        );
        assert_eq!(
            s.split("warga1", "lihat @PemkotMalangKota ya").unwrap(),
            ["@warga1 lihat @PemkotMalangKota ya"],
            "a longer handle is someone else"
        );
    }

    #[test]
    fn a_hundred_thousand_characters_make_valid_parts_numbered_for_their_count() {
        let s = Splitter::new("PemkotMalang", 10_000);
        let body = "Informasi layanan publik kota Malang. ".repeat(2_700);
        let parts = s.split("warga_kota_malang", &body).unwrap();
        assert!(parts.len() > 100, "{}", parts.len());
        let n = parts.len();
        for (i, part) in parts.iter().enumerate() {
            assert!(fits(part), "part {i} over the limit: {part}");
            assert!(part.starts_with(&format!("@warga_kota_malang ({}/{n}) ", i + 1)));
        }
    }

    #[test]
    fn a_word_longer_than_a_tweet_is_broken() {
        let body = format!("Nomor: {} selesai.", "7".repeat(700));
        let parts = thread("warga1", &body);
        assert!(parts.len() >= 3, "{parts:?}");
        assert!(parts.iter().all(|p| fits(p)), "{parts:?}");
        let digits: usize = parts
            .iter()
            .map(|p| body_of(p).chars().filter(|c| *c == '7').count())
            .sum();
        assert_eq!(digits, 700, "nothing lost");
    }

    #[test]
    fn no_part_is_a_fragment() {
        // A text that would leave two words in the last part.
        for extra in ["ya.", "ya kak.", "terima kasih.", "salam dari Malang."] {
            let body = format!(
                "{}{extra}",
                "Mohon maaf atas ketidaknyamanannya. ".repeat(8)
            );
            let parts = thread("warga1", &body);
            assert!(parts.len() >= 2);
            for p in &parts {
                assert!(body_of(p).chars().count() >= MIN_PART_CHARS, "{parts:#?}");
                assert!(fits(p));
            }
        }
    }

    #[test]
    fn parts_end_at_sentences_when_they_can() {
        let body = "Kalimat pertama cukup panjang untuk mengisi separuh lebih dari satu twit, \
                    dengan banyak kata yang menjelaskan layanan kependudukan di kota Malang \
                    serta syarat yang perlu dibawa. Kalimat kedua juga panjang, menjelaskan \
                    jam layanan, lokasi kantor, dan kanal resmi yang dapat dihubungi warga \
                    bila ada pertanyaan lanjutan tentang dokumen.";
        let parts = thread("warga1", body);
        assert_eq!(parts.len(), 2, "{parts:#?}");
        assert!(body_of(&parts[0]).ends_with("dibawa."), "{parts:#?}");
        assert!(body_of(&parts[1]).starts_with("Kalimat kedua"));
    }

    #[test]
    fn the_fuzzers_findings_stay_fixed() {
        // fuzz/FINDINGS.md T1: spaces alone made it long: one tweet, not "(1/1)".
        let spaced = format!("Halo kak,{}terima kasih.", " ".repeat(280));
        assert_eq!(
            thread("warga1", &spaced),
            ["@warga1 Halo kak, terima kasih."]
        );
        // T2, T3: the account's handle in full-width or beside a dotted capital I.
        let s = Splitter::new("PemkotMalang", 10);
        assert_eq!(
            s.split("warga1", "lihat ＠PemkotMalang ya").unwrap(),
            ["@warga1 lihat ya"]
        );
        assert_eq!(
            s.split("warga1", "İstanbul @pemkotmalang ok").unwrap(),
            ["@warga1 İstanbul ok"]
        );
        // T4: no fragment before a word longer than a part.
        let parts = thread("warga1", &format!("Ok {}", "x".repeat(600)));
        assert!(body_of(&parts[0]).starts_with("Ok x"), "{parts:?}");
        assert!(parts.iter().all(|p| fits(p)));
        // T5: a part that ended full before a word longer than a part kept the space after
        // it, one character over the limit.
        let full = "kata ".repeat(53) + "a";
        let parts = thread("warga7", &format!("{full} {}", "x".repeat(300)));
        assert!(parts.iter().all(|p| fits(p)), "{parts:?}");
        assert!(parts.iter().all(|p| !p.ends_with(' ')), "{parts:?}");
    }

    #[test]
    fn the_cap_refuses_before_anything_is_queued() {
        let s = Splitter::new("PemkotMalang", 10);
        let body = "kata ".repeat(2_000);
        let error = s.split("warga1", &body).unwrap_err();
        assert_eq!(error.max, 10);
        assert!(error.parts > 10);
        assert!(error.to_string().contains("paling banyak 10"));
    }

    #[test]
    fn nothing_is_lost_or_reordered() {
        let body = "Satu dua tiga. Empat lima enam tujuh! Delapan sembilan? ".repeat(30);
        let parts = thread("warga1", &body);
        let back: Vec<&str> = parts
            .iter()
            .flat_map(|p| body_of(p).split_whitespace())
            .collect();
        let want: Vec<&str> = body.split_whitespace().collect();
        assert_eq!(back, want);
    }
}
