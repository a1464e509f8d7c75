/*!
Where a complaint is: the places of Kota Malang it names (knowledge/gazetteer.tsv: kelurahan,
kecamatan, streets, landmarks) and any "jl./jalan <name>" it spells out. The result is what the
ticket shows the agency, e.g. "Jl. Danau Toba, Sawojajar"; no result means the bot asks the
citizen (`tickets/pending.rs`), so a doubtful place is left out rather than guessed.

How a text is read (issue 14, point 6):

- A street is a street word ("jl", "jln", "jalan", Javanese "dalan") followed by a name: a street
  of the gazetteer, or name-like words (unknown to the lexicon, or capitalised by a writer who
  uses capitals) with perhaps known words beside them ("Jl. Raya Langsep", "Jl. Danau Toba").
  A common word of complaints (`knowledge/lexicon/common-words.txt`, the stopwords, numbers and
  money, and informal words the lexicon turns into one) ends the name, and a street word followed
  by one is no street: "lampu jalan mati" and "jalan rusak" name none, "sampah di jl kawi numpuk
  3 hari" names Jl. Kawi. A name has at most [`street::MAX_WORDS`] words; a longer run is doubtful.
- A house number is kept, as "No. 5", when "no"/"nomor" and a number follow the name ("jln ijen
  no 5" is "Jl. Ijen No. 5"); a bare number after a name is not one ("jl kawi 3 hari").
- A place of the gazetteer is found anywhere by its name or aliases, whole words only. A name of
  one word that is also a common or known word ("Bareng", "Samaan") counts only after a word that
  introduces a place ("di", "nang", "kelurahan"...) or written with a capital.
- Where two readings overlap, the longer wins, then a spelled-out street, a landmark, a
  kelurahan, a kecamatan, and last a street named without "jl" (so "di sumbersari" is the
  kelurahan and "jl sumbersari" the street). The places found are listed streets first, then
  landmarks, kelurahan and kecamatan.
*/

mod street;
#[cfg(test)]
mod tests;
mod words;

use std::cmp::Reverse;
use std::path::Path;

use crate::language::Lexicon;
use words::{Class, Classifier, Gap, Word};

/// The kinds of place the gazetteer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaceKind {
    Kelurahan,
    Kecamatan,
    Jalan,
    Tempat,
}

impl PlaceKind {
    pub fn parse(text: &str) -> Option<PlaceKind> {
        match text {
            "kelurahan" => Some(PlaceKind::Kelurahan),
            "kecamatan" => Some(PlaceKind::Kecamatan),
            "jalan" => Some(PlaceKind::Jalan),
            "tempat" => Some(PlaceKind::Tempat),
            _ => None,
        }
    }

    /// Where a place of this kind stands in the result: streets first.
    fn order(self) -> u8 {
        match self {
            PlaceKind::Jalan => 0,
            PlaceKind::Tempat => 1,
            PlaceKind::Kelurahan => 2,
            PlaceKind::Kecamatan => 3,
        }
    }

    /// Which reading wins an overlap of equal length (lower first); a spelled-out street is 0.
    fn priority(self) -> u8 {
        match self {
            PlaceKind::Tempat => 1,
            PlaceKind::Kelurahan => 2,
            PlaceKind::Kecamatan => 3,
            PlaceKind::Jalan => 4,
        }
    }
}

/// A place the gazetteer knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub kind: PlaceKind,
    pub name: String,
    /// Its line in the gazetteer.
    pub line: usize,
    /// The lower-case words of each spelling to look for (the name and its aliases).
    spellings: Vec<Vec<String>>,
}

impl Place {
    /// The place as a ticket shows it: streets with "Jl.".
    fn shown(&self) -> String {
        match self.kind {
            PlaceKind::Jalan => format!("Jl. {}", self.name),
            _ => self.name.clone(),
        }
    }
}

/// Why the gazetteer could not be read.
#[derive(Debug, thiserror::Error)]
pub enum GazetteerError {
    #[error("{path}: cannot read")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A line without the four tab-separated columns, or an unknown kind.
    #[error("{path}:{line}: {message}")]
    Line {
        path: String,
        line: usize,
        message: String,
    },
}

/// The gazetteer, and the lexicon that tells names from common words.
#[derive(Debug, Clone)]
pub struct Gazetteer {
    places: Vec<Place>,
    classifier: Classifier,
}

/// Words that make the next words a street's name.
const STREET_WORDS: &[&str] = &["jl", "jln", "jlan", "jalan", "dalan"];

/// Words after which a one-word place name that is also a common word is meant as the place
/// ("di bareng", "kelurahan samaan"; not "mati bareng").
const PLACE_CUES: &[&str] = &[
    "di",
    "nang",
    "ning",
    "neng",
    "ke",
    "dari",
    "daerah",
    "kawasan",
    "wilayah",
    "sekitar",
    "sekitaran",
    "seputar",
    "area",
    "kel",
    "kelurahan",
    "kec",
    "kecamatan",
    "desa",
    "dekat",
    "depan",
    "sepanjang",
    "arah",
];

/// One reading of a stretch of the text as a place: words `start..end`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Found {
    start: usize,
    end: usize,
    priority: u8,
    order: u8,
    shown: String,
}

/// The lower-case words of a name: "Oro-oro Dowo" is oro, oro, dowo.
fn spelling(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

impl Gazetteer {
    /// Reads `path` (tab-separated: kind, name, kecamatan, aliases; `#` comments; a header);
    /// `lexicon` tells names from common words.
    pub fn load(path: &Path, lexicon: Lexicon) -> Result<Gazetteer, GazetteerError> {
        let text = std::fs::read_to_string(path).map_err(|source| GazetteerError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Gazetteer::parse(&text, &path.display().to_string(), lexicon)
    }

    /// Parses the file's text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str, lexicon: Lexicon) -> Result<Gazetteer, GazetteerError> {
        let mut places = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line_no = i + 1;
            if line.trim().is_empty() || line.starts_with('#') || line.starts_with("kind\t") {
                continue;
            }
            let columns: Vec<&str> = line.split('\t').collect();
            if columns.len() != 4 {
                return Err(GazetteerError::Line {
                    path: origin.to_owned(),
                    line: line_no,
                    message: format!("expected 4 tab-separated columns, found {}", columns.len()),
                });
            }
            let kind = columns[0].trim();
            let Some(kind) = PlaceKind::parse(kind) else {
                return Err(GazetteerError::Line {
                    path: origin.to_owned(),
                    line: line_no,
                    message: format!("unknown kind {kind:?} (kelurahan, kecamatan, jalan, tempat)"),
                });
            };
            let name = columns[1].trim();
            let mut spellings = vec![spelling(name)];
            spellings.extend(
                columns[3]
                    .split(',')
                    .map(spelling)
                    .filter(|a| !a.is_empty()),
            );
            places.push(Place {
                kind,
                name: name.to_owned(),
                line: line_no,
                spellings,
            });
        }
        Ok(Gazetteer {
            places,
            classifier: Classifier::new(lexicon),
        })
    }

    pub fn len(&self) -> usize {
        self.places.len()
    }

    pub fn is_empty(&self) -> bool {
        self.places.is_empty()
    }

    /// The location a text names, if any: its streets (spelled out or known), then landmarks,
    /// kelurahan and kecamatan, joined with commas, e.g. "Jl. Danau Toba, Sawojajar". None when
    /// it names no place for sure (see the module's documentation).
    pub fn locate(&self, text: &str) -> Option<String> {
        let words = words::words(text);
        let aware = words::case_aware(&words);
        let mut found: Vec<Found> = Vec::new();
        for (i, word) in words.iter().enumerate() {
            if !word.tagged
                && STREET_WORDS.contains(&word.lower.as_str())
                && let Some(street) = self.street_at(&words, i, aware)
            {
                found.push(street);
            }
        }
        for start in 0..words.len() {
            for place in &self.places {
                let Some(len) = self.spelled_at(&words, start, place) else {
                    continue;
                };
                if len == 1 && !self.cued(&words, start, aware) {
                    continue;
                }
                found.push(Found {
                    start,
                    end: start + len,
                    priority: place.kind.priority(),
                    order: place.kind.order(),
                    shown: place.shown(),
                });
            }
        }
        // The longest readings first; of two equally long, the more specific.
        found.sort_by_key(|f| (Reverse(f.end - f.start), f.priority, f.start));
        let mut chosen: Vec<Found> = Vec::new();
        for f in found {
            if chosen.iter().all(|c| c.end <= f.start || f.end <= c.start) {
                chosen.push(f);
            }
        }
        chosen.sort_by_key(|f| (f.order, f.start));
        let mut parts: Vec<String> = Vec::new();
        for f in chosen {
            if !parts.contains(&f.shown) {
                parts.push(f.shown);
            }
        }
        (!parts.is_empty()).then(|| parts.join(", "))
    }

    /// How many words of `place`'s longest spelling the text holds at `start`, if any: the
    /// same words, with nothing but spaces, hyphens or full stops between them.
    fn spelled_at(&self, words: &[Word<'_>], start: usize, place: &Place) -> Option<usize> {
        place
            .spellings
            .iter()
            .filter(|s| {
                start + s.len() <= words.len()
                    && s.iter().zip(&words[start..]).all(|(a, w)| *a == w.lower)
                    && words[start + 1..start + s.len()]
                        .iter()
                        .all(|w| w.gap != Gap::Break)
            })
            .map(Vec::len)
            .max()
    }

    /// Whether a one-word place name at `start` is meant as the place: a word no list knows,
    /// one written with a capital, or one after a word that introduces a place.
    fn cued(&self, words: &[Word<'_>], start: usize, aware: bool) -> bool {
        let word = &words[start];
        if self.classifier.class(&word.lower) == Class::Unknown || (aware && word.capitalised()) {
            return true;
        }
        start > 0
            && matches!(word.gap, Gap::Space | Gap::Dot)
            && PLACE_CUES.contains(&words[start - 1].lower.as_str())
    }

    /// The places of `kinds` whose spelling the text holds at `start`, with its length.
    fn places_at<'g>(
        &'g self,
        words: &[Word<'_>],
        start: usize,
        kinds: &[PlaceKind],
    ) -> impl Iterator<Item = (&'g Place, usize)> {
        self.places
            .iter()
            .filter(move |p| kinds.contains(&p.kind))
            .filter_map(move |p| Some((p, self.spelled_at(words, start, p)?)))
    }

    /// Problems with the gazetteer for `kicau kb check`: a street, kelurahan or kecamatan whose
    /// name holds a common word (the common words would then cut names they should not).
    /// Each is (line, message).
    pub fn problems(&self) -> Vec<(usize, String)> {
        let mut out = Vec::new();
        for place in self.places.iter().filter(|p| p.kind != PlaceKind::Tempat) {
            for word in &place.spellings[0] {
                if self.classifier.is_listed(word) {
                    out.push((
                        place.line,
                        format!(
                            "{:?} holds {word:?}, a common word that ends street names (lexicon/common-words.txt or the stopwords): take the word out of the list",
                            place.name
                        ),
                    ));
                }
            }
        }
        out
    }
}
