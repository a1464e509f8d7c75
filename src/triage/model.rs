/*!
The learned part of triage: multinomial logistic regression over hashed sparse features of the
normalised text, trained from the labelled examples (`knowledge::examples`). Deterministic: the
same examples and options give the same weights, in any process.

Features, each hashed into `2^bits` slots and scaled so that every text has unit length:
- the formal words the normaliser produced, and their stems without stopwords;
- pairs of neighbouring stems;
- character 3- to 5-grams of the normalised words (typos and unseen spellings share most of
  them);
- the kinds of personal data present (a person's own case often carries a number).

Training is stochastic gradient descent on the cross-entropy with a decaying step, examples
visited in a fixed pseudo-random order, and a small L2 penalty applied lazily to the weights a
text touches.
*/

use std::collections::HashMap;

use crate::knowledge::examples::Label;
use crate::language::Analyzer;

/// Turns a text into the model's features: the analyzer's words, stems and character n-grams,
/// and, when the engine's rules are given, the cue lists and agencies' remits that match (what
/// the old keyword cascade knew, now evidence the model weighs).
#[derive(Clone, Copy)]
pub struct Featurizer<'a> {
    pub analyzer: &'a Analyzer,
    pub(super) rules: Option<&'a super::rules::Rules>,
    /// The knowledge index and its entries: the closest entries by BM25 become features.
    pub(super) knowledge: Option<(&'a crate::knowledge::Index, &'a [crate::knowledge::Entry])>,
}

impl<'a> Featurizer<'a> {
    /// Features from the text alone (no cue lists).
    pub fn plain(analyzer: &'a Analyzer) -> Featurizer<'a> {
        Featurizer {
            analyzer,
            rules: None,
            knowledge: None,
        }
    }
}

/// How to train.
#[derive(Debug, Clone, Copy)]
pub struct TrainOptions {
    /// Feature slots: `2^bits`.
    pub bits: u32,
    pub epochs: usize,
    /// The first epoch's step; later epochs take `rate / (1 + epoch / 2)`.
    pub rate: f32,
    /// L2 penalty per update.
    pub l2: f32,
    /// Seeds the order in which examples are visited.
    pub seed: u64,
}

impl Default for TrainOptions {
    fn default() -> TrainOptions {
        TrainOptions {
            bits: 17,
            epochs: 30,
            rate: 5.0,
            l2: 1e-5,
            seed: 0x6b69_6361_7521,
        }
    }
}

/// A trained model.
#[derive(Debug, Clone)]
pub struct Model {
    bits: u32,
    classes: Vec<Label>,
    /// `weights[slot * classes + class]`.
    weights: Vec<f32>,
    bias: Vec<f32>,
    /// Scores are divided by this before the softmax ([`Model::fit_temperature`]).
    temperature: f32,
}

/// The model's view of one text: every class with its probability, most likely first.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    pub ranked: Vec<(Label, f32)>,
}

impl Prediction {
    /// The most likely label and its probability.
    pub fn best(&self) -> (&Label, f32) {
        let (label, p) = &self.ranked[0];
        (label, *p)
    }

    /// The probability of `label`.
    pub fn probability(&self, label: &Label) -> f32 {
        self.ranked
            .iter()
            .find(|(l, _)| l == label)
            .map_or(0.0, |(_, p)| *p)
    }
}

impl Model {
    /// Trains on `(text, label)` pairs. Panics on an empty training set.
    pub fn train(
        featurizer: Featurizer<'_>,
        examples: &[(&str, &Label)],
        options: TrainOptions,
    ) -> Model {
        assert!(!examples.is_empty(), "training needs examples");
        let mut classes: Vec<Label> = examples.iter().map(|(_, l)| (*l).clone()).collect();
        classes.sort();
        classes.dedup();
        let class_of: HashMap<&Label, usize> =
            classes.iter().enumerate().map(|(i, l)| (l, i)).collect();
        let n = classes.len();
        let data: Vec<(Vec<(u32, f32)>, usize)> = examples
            .iter()
            .map(|(text, label)| (features(featurizer, text, options.bits), class_of[label]))
            .collect();
        let mut model = Model {
            bits: options.bits,
            classes: classes.clone(),
            weights: vec![0.0; (1usize << options.bits) * n],
            bias: vec![0.0; n],
            temperature: 1.0,
        };
        let mut order: Vec<usize> = (0..data.len()).collect();
        let mut state = options.seed | 1;
        let mut scores = vec![0.0f32; n];
        for epoch in 0..options.epochs {
            // Fisher-Yates with a xorshift generator: the same order in every process.
            for i in (1..order.len()).rev() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                order.swap(i, (state % (i as u64 + 1)) as usize);
            }
            let rate = options.rate / (1.0 + epoch as f32 / 2.0);
            for &i in &order {
                let (x, y) = &data[i];
                model.scores_into(x, &mut scores);
                softmax(&mut scores);
                for (c, p) in scores.iter().enumerate() {
                    let gradient = p - if c == *y { 1.0 } else { 0.0 };
                    model.bias[c] -= rate * gradient;
                    for &(slot, value) in x {
                        let w = &mut model.weights[slot as usize * n + c];
                        *w -= rate * (gradient * value + options.l2 * *w);
                    }
                }
            }
        }
        model
    }

    /// Calibrates the probabilities on examples the model was not trained on: the one
    /// temperature (dividing every score) that minimises their cross-entropy, searched on a grid
    /// from 0.05 to 3. A model trained to fit its examples is too sure of itself, or, stopped
    /// early, not sure enough; either way the gate's thresholds then mean less than they say.
    /// Returns the temperature chosen.
    pub fn fit_temperature(
        &mut self,
        featurizer: Featurizer<'_>,
        held_out: &[(&str, &Label)],
    ) -> f32 {
        let class_of: HashMap<&Label, usize> = self
            .classes
            .iter()
            .enumerate()
            .map(|(i, l)| (l, i))
            .collect();
        let n = self.classes.len();
        let logits: Vec<(Vec<f32>, usize)> = held_out
            .iter()
            .filter_map(|(text, label)| {
                let y = *class_of.get(label)?;
                let mut scores = vec![0.0f32; n];
                self.scores_into(&features(featurizer, text, self.bits), &mut scores);
                Some((scores, y))
            })
            .collect();
        if logits.is_empty() {
            return self.temperature;
        }
        let loss = |t: f32| -> f32 {
            logits
                .iter()
                .map(|(scores, y)| {
                    let mut p: Vec<f32> = scores.iter().map(|s| s / t).collect();
                    softmax(&mut p);
                    -p[*y].max(1e-9).ln()
                })
                .sum::<f32>()
        };
        let best = (1..=60)
            .map(|i| i as f32 * 0.05)
            .min_by(|a, b| loss(*a).total_cmp(&loss(*b)))
            .unwrap_or(1.0);
        self.temperature = best;
        best
    }

    /// The labels the model knows.
    pub fn classes(&self) -> &[Label] {
        &self.classes
    }

    /// Every class's probability for `text`.
    pub fn predict(&self, featurizer: Featurizer<'_>, text: &str) -> Prediction {
        let analysis = featurizer.analyzer.analyze(text);
        self.predict_analysed(featurizer, &analysis)
    }

    /// [`Model::predict`] for a text already analysed.
    pub fn predict_analysed(
        &self,
        featurizer: Featurizer<'_>,
        analysis: &crate::language::Analysis,
    ) -> Prediction {
        self.predict_featurized(&featurize(featurizer, analysis, self.bits))
    }

    /// The feature slots this model hashes into (`2^bits`): [`featurize`] takes it.
    pub fn bits(&self) -> u32 {
        self.bits
    }

    /// [`Model::predict`] for features already computed with [`Model::bits`].
    pub fn predict_featurized(&self, features: &Featurized) -> Prediction {
        let x = &features.x;
        let mut scores = vec![0.0f32; self.classes.len()];
        self.scores_into(x, &mut scores);
        for s in &mut scores {
            *s /= self.temperature;
        }
        softmax(&mut scores);
        let mut ranked: Vec<(Label, f32)> = self.classes.iter().cloned().zip(scores).collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Prediction { ranked }
    }

    /// The features that weigh most for `label` against the other classes, heaviest first, at
    /// most `limit`: evidence for staff and logs. A feature's weight is its value times how much
    /// more it counts for `label` than for the average class.
    pub fn explain(
        &self,
        features: &Featurized,
        label: &Label,
        limit: usize,
    ) -> Vec<(String, f32)> {
        let Some(class) = self.classes.iter().position(|l| l == label) else {
            return Vec::new();
        };
        let n = self.classes.len();
        let value_of: HashMap<u32, f32> = features.x.iter().copied().collect();
        let mut out: Vec<(String, f32)> = features
            .names
            .iter()
            .filter_map(|(slot, name)| {
                let row = &self.weights[*slot as usize * n..(*slot as usize + 1) * n];
                let mean = row.iter().sum::<f32>() / n as f32;
                let weight = value_of.get(slot).copied().unwrap_or(0.0) * (row[class] - mean);
                (weight > 0.0).then(|| (name.clone(), weight))
            })
            .collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        out.truncate(limit);
        out
    }

    /// Writes the model to `path` (through a temporary file renamed into place, so a reader
    /// never sees half a model).
    pub fn save(&self, path: &std::path::Path) -> std::io::Result<()> {
        let n = self.classes.len();
        let mut out = Vec::with_capacity(self.weights.len() * 2);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.bits.to_le_bytes());
        out.extend_from_slice(&self.temperature.to_le_bytes());
        out.extend_from_slice(&(n as u32).to_le_bytes());
        for class in &self.classes {
            let name = class.to_string();
            out.extend_from_slice(&(name.len() as u32).to_le_bytes());
            out.extend_from_slice(name.as_bytes());
        }
        for b in &self.bias {
            out.extend_from_slice(&b.to_le_bytes());
        }
        // Only the slots some example touched: most of the table is zero.
        let rows: Vec<usize> = (0..1usize << self.bits)
            .filter(|slot| {
                self.weights[slot * n..(slot + 1) * n]
                    .iter()
                    .any(|w| *w != 0.0)
            })
            .collect();
        out.extend_from_slice(&(rows.len() as u32).to_le_bytes());
        for slot in rows {
            out.extend_from_slice(&(slot as u32).to_le_bytes());
            for w in &self.weights[slot * n..(slot + 1) * n] {
                out.extend_from_slice(&w.to_le_bytes());
            }
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let temporary = path.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&temporary, &out)?;
        std::fs::rename(&temporary, path)
    }

    /// Reads a model written by [`Model::save`]; `None` when the file is missing, truncated or
    /// of another format (the caller then trains again).
    pub fn load(path: &std::path::Path) -> Option<Model> {
        let bytes = std::fs::read(path).ok()?;
        let mut r = Reader {
            bytes: &bytes,
            at: 0,
        };
        if r.take(MAGIC.len())? != MAGIC {
            return None;
        }
        let bits = r.u32()?;
        if !(8..=24).contains(&bits) {
            return None;
        }
        let temperature = r.f32()?;
        let n = r.u32()? as usize;
        let mut classes = Vec::with_capacity(n);
        for _ in 0..n {
            let len = r.u32()? as usize;
            let name = std::str::from_utf8(r.take(len)?).ok()?;
            classes.push(Label::parse(name)?);
        }
        let bias = (0..n).map(|_| r.f32()).collect::<Option<Vec<f32>>>()?;
        let mut weights = vec![0.0f32; (1usize << bits) * n];
        let rows = r.u32()? as usize;
        for _ in 0..rows {
            let slot = r.u32()? as usize;
            if slot >= 1 << bits {
                return None;
            }
            for w in &mut weights[slot * n..(slot + 1) * n] {
                *w = r.f32()?;
            }
        }
        (r.at == bytes.len()).then_some(Model {
            bits,
            classes,
            weights,
            bias,
            temperature,
        })
    }

    fn scores_into(&self, x: &[(u32, f32)], scores: &mut [f32]) {
        let n = self.classes.len();
        scores.copy_from_slice(&self.bias);
        for &(slot, value) in x {
            let row = &self.weights[slot as usize * n..(slot as usize + 1) * n];
            for (s, w) in scores.iter_mut().zip(row) {
                *s += w * value;
            }
        }
    }
}

/// The first bytes of a saved model; the number changes with the format.
const MAGIC: &[u8] = b"KICAU-MODEL-1\n";

/// Reads little-endian numbers from a saved model.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, len: usize) -> Option<&[u8]> {
        let slice = self.bytes.get(self.at..self.at.checked_add(len)?)?;
        self.at += len;
        Some(slice)
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }

    fn f32(&mut self) -> Option<f32> {
        Some(f32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
}

fn softmax(scores: &mut [f32]) {
    let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for s in scores.iter_mut() {
        *s = (*s - max).exp();
        sum += *s;
    }
    for s in scores.iter_mut() {
        *s /= sum;
    }
}

/// The hashed, unit-length feature vector of `text` (see the module's documentation).
pub fn features(featurizer: Featurizer<'_>, text: &str, bits: u32) -> Vec<(u32, f32)> {
    let analysis = featurizer.analyzer.analyze(text);
    features_of(featurizer, &analysis, bits)
}

/// [`features`] of a text already analysed.
pub fn features_of(
    featurizer: Featurizer<'_>,
    analysis: &crate::language::Analysis,
    bits: u32,
) -> Vec<(u32, f32)> {
    featurize(featurizer, analysis, bits).x
}

/// A text's features, hashed and by name: computed once per decision, for the prediction and
/// for the evidence.
#[derive(Debug, Clone)]
pub struct Featurized {
    /// The hashed, unit-length vector.
    pub x: Vec<(u32, f32)>,
    /// Each feature's slot and readable name.
    names: Vec<(u32, String)>,
    /// The cue lists' and remits' hits (`set:cue`, `remit:<agency>`), when the featurizer has
    /// rules.
    pub cues: Vec<String>,
    /// The knowledge search behind the `entry` features, when the featurizer has the index.
    pub search: Option<crate::knowledge::SearchResult>,
}

/// Computes an analysed text's features (see the module's documentation).
pub fn featurize(
    featurizer: Featurizer<'_>,
    analysis: &crate::language::Analysis,
    bits: u32,
) -> Featurized {
    let mut counts: HashMap<u32, f32> = HashMap::new();
    let mut names = Vec::new();
    let mask = (1u64 << bits) - 1;
    let search = featurizer
        .knowledge
        .and_then(|(index, _)| match index.search(&analysis.terms) {
            Ok(found) => Some(found),
            Err(error) => {
                tracing::error!(%error, "knowledge search failed");
                None
            }
        });
    let cues = emit(
        featurizer,
        analysis,
        search.as_ref(),
        &mut |kind, value, weight| {
            let slot = (fnv1a(kind.as_bytes(), value.as_bytes()) & mask) as u32;
            let count = counts.entry(slot).or_insert(0.0);
            if *count == 0.0 {
                names.push((slot, feature_name(kind, value)));
            }
            *count += weight;
        },
    );
    let norm = counts.values().map(|v| v * v).sum::<f32>().sqrt().max(1e-6);
    let mut x: Vec<(u32, f32)> = counts.into_iter().map(|(k, v)| (k, v / norm)).collect();
    x.sort_unstable_by_key(|(k, _)| *k);
    Featurized {
        x,
        names,
        cues,
        search,
    }
}

/// Calls `add(kind, value, weight)` for every feature of the analysed text, before hashing;
/// returns the cue hits among them.
fn emit(
    featurizer: Featurizer<'_>,
    analysis: &crate::language::Analysis,
    search: Option<&crate::knowledge::SearchResult>,
    add: &mut dyn FnMut(&str, &str, f32),
) -> Vec<String> {
    for word in &analysis.words {
        add("w", word, 1.0);
    }
    for term in &analysis.terms {
        add("t", term, 1.0);
    }
    for pair in analysis.terms.windows(2) {
        add("b", &format!("{} {}", pair[0], pair[1]), 1.0);
    }
    let joined: Vec<char> = format!(" {} ", analysis.words.join(" ")).chars().collect();
    for n in 3..=5 {
        for gram in joined.windows(n) {
            let gram: String = gram.iter().collect();
            add("c", &gram, 0.5);
        }
    }
    for span in &analysis.pii {
        add("p", &format!("{:?}", span.kind), 1.0);
    }
    if analysis.words.is_empty() {
        add("e", "empty", 1.0);
    }
    // The entries closest to the words (BM25 squashed to 0..1, times the share of the words
    // they cover), best first and less for each next one: what the knowledge base itself says.
    if let (Some((_, entries)), Some(found)) = (featurizer.knowledge, search) {
        for (rank, m) in found.matches.iter().take(3).enumerate() {
            let strength = m.bm25 / (m.bm25 + 10.0) * m.coverage / (1.0 + rank as f32);
            add("kb", &entries[m.entry].id, 2.0 * strength);
        }
    }
    let Some(rules) = featurizer.rules else {
        return Vec::new();
    };
    let cues = rules.features(analysis, featurizer.analyzer);
    for cue in &cues {
        add("k", cue, 1.0);
    }
    cues
}

/// How a feature reads in evidence: words and stems as written, pairs quoted, character
/// n-grams between bars, cues as `set:cue`.
fn feature_name(kind: &str, value: &str) -> String {
    match kind {
        "w" => format!("word {value}"),
        "t" => format!("stem {value}"),
        "b" => format!("pair \"{value}\""),
        "c" => format!("chars |{}|", value.replace(' ', "_")),
        "p" => format!("personal data {value}"),
        "k" => format!("cue {value}"),
        "kb" => format!("entry {value}"),
        _ => format!("{kind} {value}"),
    }
}

/// A hash of `text` that is the same in every process and on every platform (FNV-1a), for
/// splitting examples into folds.
pub fn stable_hash(text: &str) -> u64 {
    fnv1a(b"", text.as_bytes())
}

/// FNV-1a over a kind and a value (64 bits): stable across processes and platforms.
fn fnv1a(kind: &[u8], value: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in kind.iter().chain(&[0u8]).chain(value) {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analyzer() -> Analyzer {
        Analyzer::new(crate::language::Lexicon::default())
    }

    #[test]
    fn features_are_unit_length_and_stable() {
        let a = analyzer();
        let f = Featurizer::plain(&a);
        let x = features(f, "lampu jalan mati di depan sd", 16);
        let norm: f32 = x.iter().map(|(_, v)| v * v).sum();
        assert!((norm - 1.0).abs() < 1e-4, "{norm}");
        assert_eq!(x, features(f, "lampu jalan mati di depan sd", 16));
        assert!(!features(f, "", 16).is_empty());
    }

    #[test]
    fn a_small_model_learns_its_examples_and_generalises_a_little() {
        let a = analyzer();
        let kk = Label::Answer("kk".into());
        let dlh = Label::Report("dlh".into());
        let fire = Label::Emergency;
        let data: Vec<(&str, &Label)> = vec![
            ("syarat bikin kk baru apa", &kk),
            ("cara pecah kk gimana min", &kk),
            ("kk hilang ngurusnya dimana", &kk),
            ("sampah numpuk di tps belum diangkut", &dlh),
            ("tumpukan sampah bau banget depan pasar", &dlh),
            ("sampah liar di pinggir kali", &dlh),
            ("kebakaran rumah apinya besar tolong", &fire),
            ("ada kebakaran di ruko asap hitam", &fire),
            ("tolong api sudah masuk rumah tetangga", &fire),
        ];
        let options = TrainOptions {
            bits: 14,
            ..TrainOptions::default()
        };
        let f = Featurizer::plain(&a);
        let model = Model::train(f, &data, options);
        for (text, label) in &data {
            assert_eq!(model.predict(f, text).best().0, *label, "{text}");
        }
        assert_eq!(model.predict(f, "syarat kk baru").best().0, &kk);
        assert_eq!(model.predict(f, "sampahnya numpuk bau").best().0, &dlh);
        let p = model.predict(f, "kebakaran apinya gede");
        assert_eq!(p.best().0, &fire);
        let total: f32 = p.ranked.iter().map(|(_, p)| p).sum();
        assert!((total - 1.0).abs() < 1e-4);
        // Deterministic: the same data trains the same model.
        let again = Model::train(f, &data, options);
        assert_eq!(model.weights, again.weights);

        // Calibration rescales the probabilities, never the ranking.
        let mut calibrated = model.clone();
        let held: Vec<(&str, &Label)> = vec![
            ("syarat kk", &kk),
            ("sampah bau numpuk", &dlh),
            ("ada kebakaran apinya gede", &fire),
        ];
        let t = calibrated.fit_temperature(f, &held);
        assert!((0.05..=3.0).contains(&t), "{t}");
        for (text, _) in &held {
            let before = model.predict(f, text);
            let after = calibrated.predict(f, text);
            assert_eq!(before.best().0, after.best().0, "{text}");
        }

        // Saved and loaded, it predicts exactly the same; a damaged file is refused.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.bin");
        calibrated.save(&path).unwrap();
        let loaded = Model::load(&path).unwrap();
        assert_eq!(loaded.classes, calibrated.classes);
        assert_eq!(loaded.weights, calibrated.weights);
        assert_eq!(
            loaded.predict(f, "kebakaran apinya gede"),
            calibrated.predict(f, "kebakaran apinya gede")
        );
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        assert!(Model::load(&path).is_none());
        std::fs::write(&path, b"something else").unwrap();
        assert!(Model::load(&path).is_none());

        // The evidence names what weighed for the decision.
        let analysis = a.analyze("sampahnya numpuk bau");
        let why = model.explain(&featurize(f, &analysis, model.bits()), &dlh, 5);
        assert!(!why.is_empty() && why.len() <= 5);
        assert!(
            why.iter()
                .any(|(name, _)| name.contains("sampah") || name.contains("numpuk")),
            "{why:?}"
        );
    }
}
