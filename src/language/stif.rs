//! The normaliser measured on STIF (line-aligned informal tweets and their formal rewrites):
//! lower-case both sides, split on white space and punctuation, and average over lines the F1 of
//! the multiset overlap between the normalised informal line and the formal line.

use std::collections::HashMap;
use std::fmt;

use super::Analyzer;

/// The figures of one measurement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StifFigures {
    pub lines: usize,
    /// Mean F1 of the unchanged informal text against the formal text.
    pub unchanged_f1: f64,
    /// Mean F1 of the normalised text against the formal text.
    pub normalized_f1: f64,
}

impl fmt::Display for StifFigures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "lines: {}\nunchanged F1: {:.4}\nnormalised F1: {:.4}",
            self.lines, self.unchanged_f1, self.normalized_f1
        )
    }
}

/// The two files do not line up.
#[derive(Debug, thiserror::Error)]
#[error("the informal file has {informal} lines but the formal file has {formal}")]
pub struct Misaligned {
    pub informal: usize,
    pub formal: usize,
}

/// Measures `analyzer` on aligned informal and formal texts.
pub fn measure(
    analyzer: &Analyzer,
    informal: &str,
    formal: &str,
) -> Result<StifFigures, Misaligned> {
    let informal: Vec<&str> = informal.lines().collect();
    let formal: Vec<&str> = formal.lines().collect();
    if informal.len() != formal.len() {
        return Err(Misaligned {
            informal: informal.len(),
            formal: formal.len(),
        });
    }
    let (mut unchanged, mut normalized) = (0.0, 0.0);
    for (inf, form) in informal.iter().zip(&formal) {
        let reference = tokens(form);
        unchanged += f1(&tokens(inf), &reference);
        normalized += f1(&tokens(&analyzer.normalize_surface(inf)), &reference);
    }
    let n = informal.len().max(1) as f64;
    Ok(StifFigures {
        lines: informal.len(),
        unchanged_f1: unchanged / n,
        normalized_f1: normalized / n,
    })
}

fn tokens(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| c.is_whitespace() || (c.is_ascii_punctuation()) || !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

/// F1 of the multiset overlap of two token lists (1 when both are empty).
fn f1(predicted: &[String], reference: &[String]) -> f64 {
    if predicted.is_empty() && reference.is_empty() {
        return 1.0;
    }
    let mut counts: HashMap<&str, i64> = HashMap::new();
    for t in reference {
        *counts.entry(t).or_default() += 1;
    }
    let mut overlap = 0;
    for t in predicted {
        if let Some(c) = counts.get_mut(t.as_str())
            && *c > 0
        {
            *c -= 1;
            overlap += 1;
        }
    }
    if overlap == 0 {
        return 0.0;
    }
    let precision = overlap as f64 / predicted.len() as f64;
    let recall = overlap as f64 / reference.len() as f64;
    2.0 * precision * recall / (precision + recall)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn f1_counts_repeated_tokens_once_each() {
        assert_eq!(f1(&owned(&["a", "a"]), &owned(&["a"])), 2.0 * 0.5 / 1.5);
        assert_eq!(f1(&owned(&["a", "b"]), &owned(&["a", "b"])), 1.0);
        assert_eq!(f1(&owned(&["x"]), &owned(&["a"])), 0.0);
    }

    #[test]
    fn tokens_split_on_punctuation() {
        assert_eq!(
            tokens("Halo, min! yg-itu?"),
            owned(&["halo", "min", "yg", "itu"])
        );
    }
}
