/*!
From labelled examples to the model the engine decides with: training with calibration, the
cache that spares a restart the training, and the gate that turns probabilities into a decision.

The cache holds one file per set of inputs, named by a SHA-256 of everything that changes what
is learned: the examples (files, entries' questions, accepted corrections), the lexicon and the
knowledge base (their words become features), the agencies' remits and places, the training
options and the feature code's version. Anything else that changed trains anew.
*/

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::Kind;
use super::model::{Featurizer, Model, Prediction, TrainOptions};
use crate::config::{Config, Thresholds};
use crate::knowledge::examples::{Example, Label, files_under};

/// Changes whenever features or training change in code, so old cache files are not used.
const FEATURES_VERSION: &str = "kicau-features-2";

/// The gate on the model's calibrated probabilities (`[triage]` in bot.toml).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gate {
    /// An emergency at this probability or more, whatever ranks first (recall first).
    pub emergency_min: f32,
    /// An answer only at this probability or more; otherwise a hand-off.
    pub answer_min: f32,
    /// A report at this probability or more; otherwise a hand-off.
    pub report_min: f32,
    /// Ignored at this probability or more; otherwise a hand-off.
    pub ignore_min: f32,
}

impl Gate {
    pub fn of(thresholds: &Thresholds) -> Gate {
        Gate {
            emergency_min: thresholds.emergency_min,
            answer_min: thresholds.answer_min,
            report_min: thresholds.report_min,
            ignore_min: thresholds.ignore_min,
        }
    }

    /// The kind, topic or agency, and rule the model's probabilities come to.
    pub fn decide(&self, prediction: &Prediction) -> Gated {
        let gated = |kind, topic: Option<&str>, agency: Option<&str>, rule| Gated {
            kind,
            topic: topic.map(str::to_owned),
            agency: agency.map(str::to_owned),
            rule,
        };
        if prediction.probability(&Label::Emergency) >= self.emergency_min {
            return gated(Kind::Emergency, None, None, "model_emergency");
        }
        let (label, p) = prediction.best();
        match label {
            Label::Answer(topic) if p >= self.answer_min => {
                gated(Kind::Answer, Some(topic), None, "model_answer")
            }
            Label::Report(agency) if p >= self.report_min => {
                gated(Kind::Report, None, Some(agency), "model_report")
            }
            Label::Ignore if p >= self.ignore_min => {
                gated(Kind::Ignore, None, None, "model_ignore")
            }
            Label::Handoff => gated(Kind::Handoff, None, None, "model_handoff"),
            _ => gated(Kind::Handoff, None, None, "model_unsure"),
        }
    }
}

impl Gated {
    /// The decision a label asks for (an example's or a correction's).
    pub fn of_label(label: &Label, rule: &'static str) -> Gated {
        let (kind, topic, agency) = match label {
            Label::Answer(topic) => (Kind::Answer, Some(topic.clone()), None),
            Label::Report(agency) => (Kind::Report, None, Some(agency.clone())),
            Label::Emergency => (Kind::Emergency, None, None),
            Label::Handoff => (Kind::Handoff, None, None),
            Label::Ignore => (Kind::Ignore, None, None),
        };
        Gated {
            kind,
            topic,
            agency,
            rule,
        }
    }
}

/// What the gate decided.
#[derive(Debug, Clone, PartialEq)]
pub struct Gated {
    pub kind: Kind,
    pub topic: Option<String>,
    pub agency: Option<String>,
    pub rule: &'static str,
}

/// Trains on nine tenths of `examples` and calibrates the probabilities on the last tenth (every
/// tenth example, so each label is represented in both).
pub fn train_calibrated(
    featurizer: Featurizer<'_>,
    examples: &[(&str, &Label)],
    options: TrainOptions,
) -> Model {
    let (calibration, fit): (Vec<_>, Vec<_>) =
        examples.iter().enumerate().partition(|(i, _)| i % 10 == 0);
    let fit: Vec<(&str, &Label)> = fit.into_iter().map(|(_, e)| *e).collect();
    let calibration: Vec<(&str, &Label)> = calibration.into_iter().map(|(_, e)| *e).collect();
    let mut model = Model::train(featurizer, &fit, options);
    model.fit_temperature(featurizer, &calibration);
    model
}

/// Where a model came from, for the log and the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provenance {
    /// Read from the cache: nothing it was learned from has changed.
    Cached,
    /// Trained now (and written to the cache when one is configured).
    Trained,
}

/// The model for `examples`: read from the cache in `cache_dir` when the inputs are unchanged,
/// else trained and written there. A cache that cannot be written is logged, never fatal.
pub fn model_for(
    featurizer: Featurizer<'_>,
    config: &Config,
    examples: &[Example],
    options: TrainOptions,
    cache_dir: Option<&Path>,
) -> (Model, Provenance, String) {
    let key = fingerprint(config, examples, options);
    let path: Option<PathBuf> = cache_dir.map(|dir| dir.join(format!("{key}.model")));
    if let Some(path) = &path
        && let Some(model) = Model::load(path)
    {
        return (model, Provenance::Cached, key);
    }
    let pairs: Vec<(&str, &Label)> = examples
        .iter()
        .map(|e| (e.text.as_str(), &e.label))
        .collect();
    let model = train_calibrated(featurizer, &pairs, options);
    if let Some(path) = &path {
        match model.save(path) {
            Ok(()) => prune_cache(path),
            Err(error) => {
                tracing::warn!(path = %path.display(), %error, "the trained model could not be cached")
            }
        }
    }
    (model, Provenance::Trained, key)
}

/// How many models the cache keeps: each edit of the examples and each accepted correction
/// trains a new one (some tens of megabytes), and only the latest few can be wanted again.
const CACHE_KEEPS: usize = 4;

/// Deletes all but the [`CACHE_KEEPS`] most recently written models beside `kept` (which is
/// always kept).
fn prune_cache(kept: &Path) {
    let Some(dir) = kept.parent() else {
        return;
    };
    let Ok(read) = std::fs::read_dir(dir) else {
        return;
    };
    let mut models: Vec<(std::time::SystemTime, PathBuf)> = read
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "model") && p != kept)
        .filter_map(|p| Some((std::fs::metadata(&p).ok()?.modified().ok()?, p)))
        .collect();
    models.sort_by_key(|m| std::cmp::Reverse(m.0));
    for (_, old) in models.into_iter().skip(CACHE_KEEPS - 1) {
        if let Err(error) = std::fs::remove_file(&old) {
            tracing::warn!(path = %old.display(), %error, "an old cached model could not be removed");
        }
    }
}

/// A SHA-256 (hex) of everything the model is learned from (see the module's documentation).
pub fn fingerprint(config: &Config, examples: &[Example], options: TrainOptions) -> String {
    let mut hash = Sha256::new();
    let mut field = |bytes: &[u8]| {
        hash.update((bytes.len() as u64).to_le_bytes());
        hash.update(bytes);
    };
    field(FEATURES_VERSION.as_bytes());
    field(format!("{options:?}").as_bytes());
    for example in examples {
        field(example.text.as_bytes());
        field(example.label.to_string().as_bytes());
    }
    for agency in &config.agencies {
        field(agency.id.as_bytes());
        field(format!("{}{:?}{:?}", agency.tickets, agency.remit, agency.places).as_bytes());
    }
    // The saved replies and the emergency broadcasts are texts for staff: the model never sees
    // them, and editing one must not cost a training.
    let for_staff = [
        config.knowledge.dir.join(crate::knowledge::replies::FOLDER),
        config
            .knowledge
            .dir
            .join(crate::knowledge::broadcasts::FOLDER),
    ];
    for dir in [&config.knowledge.lexicon_dir, &config.knowledge.dir] {
        // A folder that cannot be read hashes as empty; loading it reports the error.
        for path in files_under(dir).unwrap_or_default() {
            if for_staff.iter().any(|folder| path.starts_with(folder)) {
                continue;
            }
            let relative = path.strip_prefix(dir).unwrap_or(&path);
            field(relative.to_string_lossy().as_bytes());
            field(&std::fs::read(&path).unwrap_or_default());
        }
    }
    let digest = hash.finalize();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prediction(ranked: &[(Label, f32)]) -> Prediction {
        Prediction {
            ranked: ranked.to_vec(),
        }
    }

    #[test]
    fn editing_a_saved_reply_or_a_broadcast_costs_no_training_and_editing_an_entry_does() {
        let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("bot.toml");
        let mut config = Config::load(&shipped).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write("layanan/kk.md", "KK diurus di Dispendukcapil.");
        write("replies/lokasi.md", "Boleh dibantu lokasinya, kak?");
        write("broadcasts/banjir.md", "BANJIR di {tempat}.");
        config.knowledge.dir = dir.path().to_path_buf();
        config.knowledge.lexicon_dir = dir.path().join("lexicon");
        let print = || fingerprint(&config, &[], TrainOptions::default());
        let before = print();
        write("replies/lokasi.md", "Mohon lokasinya, kak.");
        write("broadcasts/banjir.md", "PERINGATAN BANJIR di {tempat}.");
        write("broadcasts/gempa.md", "GEMPA di {tempat}.");
        assert_eq!(print(), before);
        write("layanan/kk.md", "KK diurus di Dispendukcapil atau MPP.");
        assert_ne!(print(), before);
    }

    #[test]
    fn the_cache_keeps_only_the_latest_models() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..7 {
            std::fs::write(dir.path().join(format!("{i}.model")), b"x").unwrap();
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        std::fs::write(dir.path().join("notes.txt"), b"not a model").unwrap();
        let kept = dir.path().join("3.model");
        prune_cache(&kept);
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            ["3.model", "4.model", "5.model", "6.model", "notes.txt"]
        );
    }

    #[test]
    fn the_gate_puts_emergencies_first_and_hands_off_when_unsure() {
        let gate = Gate {
            emergency_min: 0.3,
            answer_min: 0.7,
            report_min: 0.4,
            ignore_min: 0.5,
        };
        let kk = Label::Answer("kk".into());
        let dlh = Label::Report("dlh".into());
        let d = gate.decide(&prediction(&[(kk.clone(), 0.6), (Label::Emergency, 0.35)]));
        assert_eq!(d.kind, Kind::Emergency);
        let d = gate.decide(&prediction(&[(kk.clone(), 0.75), (Label::Emergency, 0.2)]));
        assert_eq!((d.kind, d.topic.as_deref()), (Kind::Answer, Some("kk")));
        let d = gate.decide(&prediction(&[(kk, 0.65), (dlh.clone(), 0.3)]));
        assert_eq!((d.kind, d.rule), (Kind::Handoff, "model_unsure"));
        let d = gate.decide(&prediction(&[(dlh, 0.45)]));
        assert_eq!((d.kind, d.agency.as_deref()), (Kind::Report, Some("dlh")));
        let d = gate.decide(&prediction(&[(Label::Ignore, 0.45)]));
        assert_eq!(d.kind, Kind::Handoff);
    }
}
