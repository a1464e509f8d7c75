//! A street spelled out after "jl./jalan": a street of the gazetteer, or a name of its own, and
//! the house number after it.

use super::words::{Class, Gap, STREET_PARTS, Word};
use super::{Found, Gazetteer, PlaceKind};

/// The most words a spelled-out street name has ("Jl. Bendungan Sigura-gura", "Jl. Letjen S.
/// Parman"); a longer run of words that are not common is read as prose, not as a name.
pub const MAX_WORDS: usize = 4;

/// Words that announce a house number.
const NUMBER_WORDS: &[&str] = &["no", "nomor", "nmr", "nomer"];

/// One word of a name and the parts joined to it ("sigura-gura"), as word indices.
struct Unit {
    first: usize,
    last: usize,
    name_like: bool,
}

impl Gazetteer {
    /// The street named after the street word at `at`, if the words after it make one.
    pub(super) fn street_at(&self, words: &[Word<'_>], at: usize, aware: bool) -> Option<Found> {
        let first = at + 1;
        if !matches!(words.get(first)?.gap, Gap::Space | Gap::Dot) {
            return None;
        }
        let known = self
            .places_at(words, first, &[PlaceKind::Jalan])
            .max_by_key(|(_, len)| *len);
        let (mut name, mut end) = match known {
            Some((place, len)) => {
                let mut name = place.name.clone();
                let mut end = first + len;
                // What the writer adds with capitals: "Jl. Kawi Atas" (lower-case words after a
                // known street are the complaint's, not the name's).
                while end < words.len()
                    && end - first < MAX_WORDS
                    && words[end].gap == Gap::Space
                    && aware
                    && words[end].capitalised()
                    && self.classifier.class(&words[end].lower) != Class::Common
                    && self.area_len_at(words, end).is_none()
                {
                    name.push(' ');
                    name.push_str(&display(&words[end], true));
                    end += 1;
                }
                (name, end)
            }
            None => self.spelled(words, first, aware)?,
        };
        if let Some((number, after)) = house_number(words, end) {
            name.push_str(" No. ");
            name.push_str(&number);
            end = after;
        }
        Some(Found {
            start: at,
            end,
            priority: 0,
            order: PlaceKind::Jalan.order(),
            shown: format!("Jl. {name}"),
        })
    }

    /// A name of the writer's own from `first`: words that are not common, at least one of them
    /// name-like, at most [`MAX_WORDS`]. Returns the name as shown and where it ends.
    fn spelled(&self, words: &[Word<'_>], first: usize, aware: bool) -> Option<(String, usize)> {
        let mut units: Vec<Unit> = Vec::new();
        let mut j = first;
        while j < words.len() {
            let word = &words[j];
            let joined = j > first && word.gap == Gap::Joined;
            let continues = j == first
                || match word.gap {
                    Gap::Space | Gap::Joined => true,
                    Gap::Dot => words[j - 1].is_initial(),
                    Gap::Break => false,
                };
            if !continues {
                break;
            }
            // A kelurahan's name is taken whole ("Oro-oro Dowo"); after a name it begins the
            // area, not the street: "jl danau toba sawojajar".
            if let Some(len) = self.area_len_at(words, j).filter(|_| !joined) {
                if units.iter().any(|u| u.name_like) || units.len() == MAX_WORDS {
                    break;
                }
                units.push(Unit {
                    first: j,
                    last: j + len - 1,
                    name_like: true,
                });
                j += len;
                continue;
            }
            let class = self.classifier.class(&word.lower);
            if class == Class::Common {
                break;
            }
            let name_like = class == Class::Unknown || (aware && word.capitalised());
            if joined {
                let unit = units.last_mut().expect("a joined part follows a word");
                unit.last = j;
                unit.name_like |= name_like;
            } else {
                if units.len() == MAX_WORDS {
                    return None;
                }
                units.push(Unit {
                    first: j,
                    last: j,
                    name_like,
                });
            }
            j += 1;
        }
        // Known words at the end are the complaint's ("jl kembang turi sepi"), except the
        // words streets end with ("Jl. Kawi Atas").
        while let Some(unit) = units.last() {
            let part = STREET_PARTS.contains(&words[unit.first].lower.as_str());
            if unit.name_like || part {
                break;
            }
            units.pop();
        }
        // A name needs a proper word, more than an initial.
        let proper = units
            .iter()
            .any(|u| u.name_like && (u.first..=u.last).any(|k| !words[k].is_initial()));
        if !proper {
            return None;
        }
        let end = units.last().map(|u| u.last + 1)?;
        // A kelurahan's name alone after "jalan" is the kelurahan, which the gazetteer gives.
        if self.area_len_at(words, first) == Some(end - first) {
            return None;
        }
        let mut name = String::new();
        for (k, word) in words[first..end].iter().enumerate() {
            if k > 0 {
                name.push_str(match word.gap {
                    Gap::Joined => "-",
                    Gap::Dot => ". ",
                    _ => " ",
                });
            }
            name.push_str(&display(word, k == 0 || word.gap != Gap::Joined));
        }
        Some((name, end))
    }

    /// How many words the longest kelurahan or kecamatan name at `start` has, if one begins
    /// there.
    fn area_len_at(&self, words: &[Word<'_>], start: usize) -> Option<usize> {
        self.places_at(words, start, &[PlaceKind::Kelurahan, PlaceKind::Kecamatan])
            .map(|(_, len)| len)
            .max()
    }
}

/// The house number after a name ("no 5", "nomor 12", "no.5a"): shown as written, in capitals,
/// with the index after it.
fn house_number(words: &[Word<'_>], end: usize) -> Option<(String, usize)> {
    let word = words.get(end)?;
    let number = words.get(end + 1)?;
    let announced = matches!(word.gap, Gap::Space | Gap::Dot)
        && NUMBER_WORDS.contains(&word.lower.as_str())
        && matches!(number.gap, Gap::Space | Gap::Dot)
        && number.lower.starts_with(|c: char| c.is_ascii_digit());
    announced.then(|| (number.text.to_uppercase(), end + 2))
}

/// A word of a name as a ticket shows it: abbreviations in capitals ("MT", "KH"), other words
/// with a capital first letter when written all in one case; mixed case kept as written.
fn display(word: &Word<'_>, starts_word: bool) -> String {
    let text = word.text;
    let one_case = text == text.to_lowercase() || text == text.to_uppercase();
    if !one_case {
        return text.to_owned();
    }
    if word.is_initial() {
        return text.to_uppercase();
    }
    let lower = text.to_lowercase();
    if !starts_word {
        return lower;
    }
    let mut chars = lower.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
