/*!
"Celah pengetahuan" (knowledge gaps): the questions the bot handed to staff in a period, grouped
so that the office sees which knowledge entries to write next.

The grouping is meant to be explained in one sentence on the page:

1. A hand-off whose closest knowledge entry covers it confidently (the caller decides what is
   confident: the console asks the same search as its knowledge search) joins the other
   hand-offs close to that entry: "mirip topik: KTP baru". An entry that exists and still
   leaves questions to staff needs more questions or a fuller answer. A topic met once falls
   through to step 2.
2. The others are read as salient words: the language module's formal words without
   stopwords, numbers, very short words and the words every tweet to the account carries
   ("min", "tolong", "pemkot"), each with its stem. Repeatedly, the stem found in the most
   remaining hand-offs (at least two) makes a group of every remaining hand-off that uses it;
   the group's title is the words all its members share, commonest first.
3. What shares no word with another hand-off stays "belum berkelompok".

Texts are shown through [`crate::language::pii::mask`]: no NIK, phone number or e-mail
address reaches the page. Hand-offs whose text was forgotten (retention, `privacy forget`) are
counted, never read.
*/

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;
use sqlx::Row;

use crate::language::Analyzer;
use crate::store::{Store, StoreError};

/// At most this many hand-offs (the latest) are read for one page.
pub const MAX_HANDOFFS: i64 = 500;
/// Examples shown per group.
const EXAMPLES: usize = 3;
/// An example's length on the page, in characters.
const EXAMPLE_CHARS: usize = 220;
/// Words of a title.
const TITLE_WORDS: usize = 4;

/// Words nearly every tweet to the account carries (greetings, forms of address, the city's
/// name, "please", "how"): they say nothing about what was asked.
const GENERIC: &[&str] = &[
    "admin",
    "min",
    "mimin",
    "pemkot",
    "pemerintah",
    "kota",
    "malang",
    "kak",
    "kakak",
    "mas",
    "mbak",
    "pak",
    "bapak",
    "bu",
    "ibu",
    "sam",
    "cak",
    "tolong",
    "mohon",
    "bantu",
    "bantuan",
    "sih",
    "dong",
    "nih",
    "deh",
    "ya",
    "iya",
    "kah",
    "tanya",
    "nanya",
    "bertanya",
    "mau",
    "ingin",
    "bisa",
    "cara",
    "gimana",
    "bagaimana",
    "apa",
    "apakah",
    "kalau",
    "hari",
    "ini",
    "itu",
    "saya",
    "aku",
    "kami",
    "kita",
    "info",
    "informasi",
    "terima",
    "kasih",
    "halo",
    "selamat",
    "pagi",
    "siang",
    "sore",
    "malam",
    "kenapa",
    "mengapa",
    "kapan",
    "berapa",
    "mana",
    "dimana",
    "siapa",
    "tidak",
    "belum",
    "sudah",
    "ada",
    "harus",
    "boleh",
    "gak",
];

/// One hand-off read from the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handoff {
    pub tweet_id: String,
    /// When the bot decided to hand it off, milliseconds since the epoch.
    pub at: i64,
    /// What the citizen wrote, as received (masked only when shown).
    pub text: String,
}

/// A word that one hand-off uses: its stem (what is compared) and the formal word it came from
/// (what is shown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub stem: String,
    pub word: String,
}

/// A knowledge entry close to a hand-off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Topic {
    pub id: String,
    pub title: String,
}

/// How one hand-off reads: its salient words, and the entry it is confidently close to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reading {
    pub terms: Vec<Term>,
    pub topic: Option<Topic>,
}

/// One example of a group, masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Example {
    pub at: i64,
    pub text: String,
}

/// Hand-offs that belong together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gap {
    /// The words every member uses, commonest first (the group's title).
    pub words: Vec<String>,
    /// The knowledge entry they are close to, for a group made by topic.
    pub topic: Option<Topic>,
    pub count: usize,
    /// The latest member's moment.
    pub last_at: i64,
    /// The latest few, masked.
    pub examples: Vec<Example>,
}

/// Hand-offs that share nothing with another.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Ungrouped {
    pub count: usize,
    pub examples: Vec<Example>,
}

/// The knowledge gaps of `[from, to)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gaps {
    pub from: i64,
    pub to: i64,
    /// Hand-offs decided in the period (the latest [`MAX_HANDOFFS`] are read).
    pub handoffs: usize,
    /// Of those, how many had their text forgotten (privacy) and were not read.
    pub forgotten: usize,
    /// Largest first.
    pub groups: Vec<Gap>,
    pub ungrouped: Ungrouped,
}

/// The latest hand-off decisions of `[from, to)` (at most [`MAX_HANDOFFS`]), newest first,
/// with their texts; and how many were decided in all.
pub async fn handoffs(
    store: &Store,
    from: i64,
    to: i64,
) -> Result<(Vec<Handoff>, usize), StoreError> {
    let pool = store.pool();
    let total: i64 = sqlx::query(
        "SELECT COUNT(*) FROM decisions WHERE kind = 'handoff' AND created_at >= $1 \
         AND created_at < $2",
    )
    .bind(from)
    .bind(to)
    .fetch_one(pool)
    .await?
    .get(0);
    let rows = sqlx::query(
        "SELECT d.tweet_id, d.created_at, i.text FROM decisions d \
         JOIN inbox i ON i.tweet_id = d.tweet_id \
         WHERE d.kind = 'handoff' AND d.created_at >= $1 AND d.created_at < $2 \
         ORDER BY d.created_at DESC, d.id DESC LIMIT $3",
    )
    .bind(from)
    .bind(to)
    .bind(MAX_HANDOFFS)
    .fetch_all(pool)
    .await?;
    let list = rows
        .iter()
        .map(|r| Handoff {
            tweet_id: r.get(0),
            at: r.get(1),
            text: r.get(2),
        })
        .collect();
    Ok((list, usize::try_from(total).unwrap_or(0)))
}

/// The salient words of one text, each once, in reading order (see the module's step 2).
pub fn salient_terms(analyzer: &Analyzer, text: &str) -> Vec<Term> {
    let analysis = analyzer.analyze(text);
    let stopwords = &analyzer.lexicon().stopwords;
    let mut seen = HashSet::new();
    let mut terms = Vec::new();
    for word in analysis.words {
        if word.chars().count() < 3
            || word.chars().any(|c| c.is_ascii_digit())
            || stopwords.contains(&word)
            || GENERIC.contains(&word.as_str())
        {
            continue;
        }
        let stem = analyzer.stem(&word);
        if GENERIC.contains(&stem.as_str()) || !seen.insert(stem.clone()) {
            continue;
        }
        terms.push(Term { stem, word });
    }
    terms
}

/// Groups hand-offs (newest first, as [`handoffs`] gives them) by their readings; see the
/// module's documentation for the steps. `total` is how many were decided in the period.
pub fn group(from: i64, to: i64, total: usize, items: Vec<(Handoff, Reading)>) -> Gaps {
    let (read, forgotten): (Vec<_>, Vec<_>) = items
        .into_iter()
        .partition(|(h, _)| !h.text.trim().is_empty());
    let mut groups = Vec::new();

    // 1. By the closest entry, for topics met at least twice.
    let mut by_topic: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, (_, reading)) in read.iter().enumerate() {
        if let Some(topic) = &reading.topic {
            by_topic.entry(topic.id.clone()).or_default().push(i);
        }
    }
    let mut taken = vec![false; read.len()];
    for members in by_topic.values().filter(|m| m.len() >= 2) {
        for &i in members {
            taken[i] = true;
        }
        let topic = read[members[0]].1.topic.clone();
        groups.push(gap(&read, members, topic));
    }

    // 2. By the stem most remaining hand-offs share, again and again.
    loop {
        let mut frequency: HashMap<&str, usize> = HashMap::new();
        for (i, (_, reading)) in read.iter().enumerate() {
            if !taken[i] {
                for term in &reading.terms {
                    *frequency.entry(term.stem.as_str()).or_default() += 1;
                }
            }
        }
        // The most shared; among equals the longer word (more specific), then the first in
        // alphabetical order, so that the same hand-offs always give the same groups.
        let best = frequency
            .into_iter()
            .filter(|(_, n)| *n >= 2)
            .max_by(|a, b| {
                a.1.cmp(&b.1)
                    .then(a.0.chars().count().cmp(&b.0.chars().count()))
                    .then(b.0.cmp(a.0))
            })
            .map(|(stem, _)| stem.to_owned());
        let Some(stem) = best else {
            break;
        };
        let members: Vec<usize> = (0..read.len())
            .filter(|&i| !taken[i] && read[i].1.terms.iter().any(|t| t.stem == stem))
            .collect();
        for &i in &members {
            taken[i] = true;
        }
        groups.push(gap(&read, &members, None));
    }

    // 3. The rest.
    let rest: Vec<usize> = (0..read.len()).filter(|&i| !taken[i]).collect();
    groups.sort_by(|a, b| b.count.cmp(&a.count).then(b.last_at.cmp(&a.last_at)));
    Gaps {
        from,
        to,
        handoffs: total,
        forgotten: forgotten.len(),
        groups,
        ungrouped: Ungrouped {
            count: rest.len(),
            examples: examples(&read, &rest),
        },
    }
}

/// The group of `members` (indices into `read`, newest first).
fn gap(read: &[(Handoff, Reading)], members: &[usize], topic: Option<Topic>) -> Gap {
    // The stems every member uses, with how often each surface word stands for it.
    let mut shared: Option<HashSet<&str>> = None;
    for &i in members {
        let own: HashSet<&str> = read[i].1.terms.iter().map(|t| t.stem.as_str()).collect();
        shared = Some(match shared {
            None => own,
            Some(before) => before.intersection(&own).copied().collect(),
        });
    }
    let shared = shared.unwrap_or_default();
    let mut surfaces: HashMap<&str, BTreeMap<&str, usize>> = HashMap::new();
    let mut first_seen: HashMap<&str, usize> = HashMap::new();
    for &i in members {
        for (position, term) in read[i].1.terms.iter().enumerate() {
            if shared.contains(term.stem.as_str()) {
                *surfaces
                    .entry(term.stem.as_str())
                    .or_default()
                    .entry(term.word.as_str())
                    .or_default() += 1;
                let at = first_seen.entry(term.stem.as_str()).or_insert(position);
                *at = (*at).min(position);
            }
        }
    }
    // Shared words in the order the citizens tend to write them.
    let mut stems: Vec<&str> = shared.into_iter().collect();
    stems.sort_by_key(|s| (first_seen.get(s).copied().unwrap_or(usize::MAX), *s));
    let words = stems
        .into_iter()
        .take(TITLE_WORDS)
        .filter_map(|stem| {
            surfaces.get(stem).and_then(|forms| {
                forms
                    .iter()
                    .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                    .map(|(word, _)| (*word).to_owned())
            })
        })
        .collect();
    Gap {
        words,
        topic,
        count: members.len(),
        last_at: members.iter().map(|&i| read[i].0.at).max().unwrap_or(0),
        examples: examples(read, members),
    }
}

/// The first few of `members` (newest first) with different texts, masked, without the
/// handles a reply starts with, and shortened.
fn examples(read: &[(Handoff, Reading)], members: &[usize]) -> Vec<Example> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for &i in members {
        let text = crate::language::pii::mask(without_leading_handles(&read[i].0.text));
        if !seen.insert(text.to_lowercase()) {
            continue;
        }
        let text = if text.chars().count() > EXAMPLE_CHARS {
            let cut: String = text.chars().take(EXAMPLE_CHARS - 1).collect();
            format!("{cut}…")
        } else {
            text
        };
        out.push(Example {
            at: read[i].0.at,
            text,
        });
        if out.len() == EXAMPLES {
            break;
        }
    }
    out
}

/// `text` after the @handles it starts with (X puts the account's there in every reply).
fn without_leading_handles(text: &str) -> &str {
    let mut rest = text.trim();
    while let Some(after) = rest.strip_prefix('@') {
        let end = after
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        rest = after[end..].trim_start();
    }
    rest
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::language::tests::analyzer;

    fn handoff(n: i64, text: &str) -> Handoff {
        Handoff {
            tweet_id: n.to_string(),
            at: 1_000_000 - n,
            text: text.to_owned(),
        }
    }

    /// Hand-offs read by words only (no entry close to any).
    fn by_words(texts: &[&str]) -> Gaps {
        let items = texts
            .iter()
            .enumerate()
            .map(|(n, text)| {
                let reading = Reading {
                    terms: salient_terms(analyzer(), text),
                    topic: None,
                };
                (handoff(n as i64, text), reading)
            })
            .collect();
        group(0, 1, texts.len(), items)
    }

    #[test]
    fn salient_words_leave_out_greetings_addresses_and_numbers() {
        let terms = salient_terms(
            analyzer(),
            "@PemkotMalang min tolong, lampu jalan di Jl. Ijen 12 mati sudah 3 hari",
        );
        let words: Vec<&str> = terms.iter().map(|t| t.word.as_str()).collect();
        assert!(words.contains(&"lampu"), "{words:?}");
        assert!(words.contains(&"mati"), "{words:?}");
        for generic in ["min", "tolong", "pemkotmalang", "12", "3", "hari", "di"] {
            assert!(!words.contains(&generic), "{generic} in {words:?}");
        }
    }

    #[test]
    fn hand_offs_that_share_words_form_a_group_titled_by_them() {
        let gaps = by_words(&[
            "min lampu jalan di depan rumah mati",
            "lampu jalan mati total min, gelap banget",
            "kak, lampu penerangan jalan di Sawojajar mati",
            "jadwal vaksin anak di puskesmas kapan ya",
            "vaksin anak bisa di puskesmas mana",
            "kenapa kucing saya suka tidur",
        ]);
        assert_eq!(gaps.handoffs, 6);
        assert_eq!(gaps.groups.len(), 2, "{:#?}", gaps.groups);
        let lights = &gaps.groups[0];
        assert_eq!(lights.count, 3);
        assert_eq!(lights.words, ["lampu", "jalan", "mati"], "{lights:?}");
        let vaccines = &gaps.groups[1];
        assert_eq!(vaccines.count, 2);
        assert!(
            vaccines.words.contains(&"vaksin".to_owned()),
            "{vaccines:?}"
        );
        assert!(
            vaccines.words.contains(&"puskesmas".to_owned()),
            "{vaccines:?}"
        );
        assert_eq!(gaps.ungrouped.count, 1);
        assert_eq!(
            gaps.ungrouped.examples[0].text,
            "kenapa kucing saya suka tidur"
        );
        // Examples are the latest first.
        assert_eq!(
            lights.examples[0].text,
            "min lampu jalan di depan rumah mati"
        );
    }

    #[test]
    fn informal_spellings_group_with_formal_ones() {
        // "gimana bikin" and "cara buat": the normaliser reads both as formal words.
        let gaps = by_words(&["gimana bikin ktp baru", "cara buat ktp yang baru"]);
        assert_eq!(gaps.groups.len(), 1, "{gaps:#?}");
        assert!(gaps.groups[0].words.contains(&"ktp".to_owned()));
    }

    #[test]
    fn a_confident_topic_groups_before_words_and_a_lone_topic_falls_through() {
        let ktp = Topic {
            id: "ktp-baru".into(),
            title: "KTP baru".into(),
        };
        let read = |text: &str, topic: Option<&Topic>| Reading {
            terms: salient_terms(analyzer(), text),
            topic: topic.cloned(),
        };
        let items = vec![
            (
                handoff(1, "rekam e-ktp dimana"),
                read("rekam e-ktp dimana", Some(&ktp)),
            ),
            (
                handoff(2, "ktp anak sekolah"),
                read("ktp anak sekolah", Some(&ktp)),
            ),
            (
                handoff(3, "sampah belum diangkut"),
                read(
                    "sampah belum diangkut",
                    Some(&Topic {
                        id: "sampah".into(),
                        title: "Sampah".into(),
                    }),
                ),
            ),
            (
                handoff(4, "sampah numpuk di pasar"),
                read("sampah numpuk di pasar", None),
            ),
        ];
        let gaps = group(0, 1, 4, items);
        assert_eq!(gaps.groups.len(), 2, "{gaps:#?}");
        let by_topic = gaps.groups.iter().find(|g| g.topic.is_some()).unwrap();
        assert_eq!((by_topic.count, &by_topic.topic), (2, &Some(ktp)));
        let by_word = gaps.groups.iter().find(|g| g.topic.is_none()).unwrap();
        assert_eq!(
            (by_word.count, by_word.words.as_slice()),
            (2, &["sampah".to_owned()][..])
        );
    }

    #[test]
    fn personal_data_is_masked_and_forgotten_texts_are_only_counted() {
        let gaps = by_words(&[
            "ktp hilang, NIK 3573015108900001 hp 081234567890",
            "ktp hilang di angkot",
            "",
        ]);
        assert_eq!((gaps.handoffs, gaps.forgotten), (3, 1));
        let example = &gaps.groups[0].examples[0].text;
        assert!(!example.contains("3573015108900001"), "{example}");
        assert!(!example.contains("081234567890"), "{example}");
        assert!(example.starts_with("ktp hilang"), "{example}");
    }

    #[test]
    fn examples_differ_and_skip_the_handles_a_reply_starts_with() {
        let gaps = by_words(&[
            "@PemkotMalang @DishubKotaMalang parkir liar di alun-alun",
            "@PemkotMalang @DishubKotaMalang parkir liar di alun-alun",
            "parkir liar lagi di depan @MalangTownSquare",
        ]);
        let texts: Vec<&str> = gaps.groups[0]
            .examples
            .iter()
            .map(|e| e.text.as_str())
            .collect();
        assert_eq!(
            texts,
            [
                "parkir liar di alun-alun",
                "parkir liar lagi di depan @MalangTownSquare"
            ]
        );
        assert_eq!(gaps.groups[0].count, 3);
    }

    #[test]
    fn no_hand_offs_no_groups() {
        let gaps = by_words(&[]);
        assert!(gaps.groups.is_empty());
        assert_eq!(gaps.ungrouped, Ungrouped::default());
    }
}
