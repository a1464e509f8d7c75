//! Where a complaint is: the places of Kota Malang it names (knowledge/gazetteer.tsv: kelurahan,
//! kecamatan, streets, landmarks) and any "jl./jalan <name>" it spells out. The result is what
//! the ticket shows the agency, e.g. "Jl. Danau Toba, Sawojajar".

use std::path::Path;

use regex::Regex;

/// A place the gazetteer knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub kind: String,
    pub name: String,
    /// Lowercase spellings to look for (the name and its aliases).
    spellings: Vec<String>,
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

/// The gazetteer and the street pattern.
#[derive(Debug, Clone)]
pub struct Gazetteer {
    places: Vec<Place>,
    street: Regex,
}

fn normalise(text: &str) -> String {
    let lower = text.to_lowercase();
    let mut out = String::with_capacity(lower.len() + 2);
    out.push(' ');
    for c in lower.chars() {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.ends_with(' ') {
            out.push(' ');
        }
    }
    if !out.ends_with(' ') {
        out.push(' ');
    }
    out
}

/// Words that end a spelled-out street name.
const STOP: &[&str] = &[
    "dekat",
    "depan",
    "samping",
    "belakang",
    "sebelah",
    "kel",
    "kelurahan",
    "kec",
    "kecamatan",
    "no",
    "nomor",
    "rt",
    "rw",
    "gang",
    "gg",
    "arah",
    "min",
    "tolong",
    "sudah",
    "udah",
    "belum",
    "yang",
    "itu",
    "ini",
    "dan",
    "di",
    "ke",
    "dari",
    "sejak",
    "kok",
    "ya",
    "pak",
    "bu",
    "mas",
    "mbak",
    "kak",
    "lubang",
    "rusak",
    "berlubang",
    "banyak",
    "parah",
    "sekali",
    "banget",
    "pas",
    "tepat",
    "persis",
    "ujung",
    "pojok",
    "perempatan",
    "pertigaan",
    "simpang",
    "sekitar",
];

impl Gazetteer {
    /// Reads `path` (tab-separated: kind, name, kecamatan, aliases; `#` comments; a header).
    pub fn load(path: &Path) -> Result<Gazetteer, GazetteerError> {
        let text = std::fs::read_to_string(path).map_err(|source| GazetteerError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Gazetteer::parse(&text, &path.display().to_string())
    }

    /// Parses the file's text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Gazetteer, GazetteerError> {
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
            if !matches!(kind, "kelurahan" | "kecamatan" | "jalan" | "tempat") {
                return Err(GazetteerError::Line {
                    path: origin.to_owned(),
                    line: line_no,
                    message: format!("unknown kind {kind:?} (kelurahan, kecamatan, jalan, tempat)"),
                });
            }
            let name = columns[1].trim();
            let mut spellings = vec![normalise(name)];
            spellings.extend(
                columns[3]
                    .split(',')
                    .map(str::trim)
                    .filter(|a| !a.is_empty())
                    .map(normalise),
            );
            places.push(Place {
                kind: kind.to_owned(),
                name: name.to_owned(),
                spellings,
            });
        }
        let street = Regex::new(
            r"(?i)\b(?:jl|jln|jalan)\b\.?\s*([a-z0-9][a-z0-9'\-]*(?:\s+[a-z0-9][a-z0-9'\-]*){0,3})",
        )
        .expect("a valid street pattern");
        Ok(Gazetteer { places, street })
    }

    pub fn len(&self) -> usize {
        self.places.len()
    }

    pub fn is_empty(&self) -> bool {
        self.places.is_empty()
    }

    /// The location a text names, if any: a street (spelled out or known), then a kelurahan or
    /// landmark, joined with commas, e.g. "Jl. Danau Toba, Sawojajar".
    pub fn locate(&self, text: &str) -> Option<String> {
        let haystack = normalise(text);
        let mut parts: Vec<String> = Vec::new();
        // A spelled-out street wins over a known one: it carries the citizen's own detail.
        if let Some(street) = self.spelled_street(text) {
            parts.push(street);
        }
        for kind in ["jalan", "tempat", "kelurahan", "kecamatan"] {
            for place in self.places.iter().filter(|p| p.kind == kind) {
                if !place
                    .spellings
                    .iter()
                    .any(|s| haystack.contains(s.as_str()))
                {
                    continue;
                }
                let shown = if kind == "jalan" {
                    format!("Jl. {}", place.name)
                } else {
                    place.name.clone()
                };
                let already = parts
                    .iter()
                    .any(|p| normalise(p).contains(&normalise(&place.name)));
                if !already {
                    parts.push(shown);
                }
            }
        }
        if parts.is_empty() {
            None
        } else {
            Some(parts.join(", "))
        }
    }

    fn spelled_street(&self, text: &str) -> Option<String> {
        let captures = self.street.captures(text)?;
        // The name ends at a word that cannot be part of it, or where a kelurahan begins.
        let area_starts: Vec<&str> = self
            .places
            .iter()
            .filter(|p| p.kind == "kelurahan" || p.kind == "kecamatan")
            .filter_map(|p| p.spellings.first()?.split_whitespace().next())
            .collect();
        let words: Vec<&str> = captures[1]
            .split_whitespace()
            .take_while(|w| {
                let w = w.to_lowercase();
                !STOP.contains(&w.as_str()) && !area_starts.contains(&w.as_str())
            })
            .collect();
        if words.is_empty() {
            return None;
        }
        let name = words
            .iter()
            .map(|w| {
                let mut chars = w.chars();
                match chars.next() {
                    Some(first) => first.to_uppercase().collect::<String>() + chars.as_str(),
                    None => String::new(),
                }
            })
            .collect::<Vec<_>>()
            .join(" ");
        Some(format!("Jl. {name}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> Gazetteer {
        Gazetteer::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge/gazetteer.tsv"))
            .unwrap()
    }

    #[test]
    fn the_shipped_gazetteer_holds_every_kelurahan() {
        let g = shipped();
        assert!(g.places.iter().filter(|p| p.kind == "kelurahan").count() >= 57);
        assert_eq!(g.places.iter().filter(|p| p.kind == "kecamatan").count(), 5);
    }

    #[test]
    fn streets_kelurahan_and_landmarks_are_found() {
        let g = shipped();
        assert_eq!(
            g.locate("jalan danau toba sawojajar min, depan indomaret")
                .as_deref(),
            Some("Jl. Danau Toba, Sawojajar")
        );
        assert_eq!(
            g.locate("lubang besar di jl. tidar dekat sekolah")
                .as_deref(),
            Some("Jl. Tidar")
        );
        assert_eq!(
            g.locate("sampah numpuk di pasar besar").as_deref(),
            Some("Pasar Besar")
        );
        assert_eq!(g.locate("jalan berlubang parah tolong").as_deref(), None);
        assert_eq!(g.locate("lampu mati semua min").as_deref(), None);
        assert!(
            g.locate("di kelurahan Bunulrejo rt 3")
                .unwrap()
                .contains("Bunulrejo")
        );
    }

    #[test]
    fn a_bad_line_names_the_file_and_line() {
        let e = Gazetteer::parse(
            "kind\tname\tkecamatan\taliases\nkota\tMalang\t\t\n",
            "g.tsv",
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "g.tsv:2: unknown kind \"kota\" (kelurahan, kecamatan, jalan, tempat)"
        );
        let e = Gazetteer::parse("jalan\tIjen\n", "g.tsv").unwrap_err();
        assert!(e.to_string().starts_with("g.tsv:1: expected 4"));
    }
}
