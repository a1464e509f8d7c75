/*!
`kicau eval`: triage measured on labelled tweets.

A cases file holds one JSON object a line (`id`, `text`, `expect`, and `topic` for answers,
`agency` for reports). [`evaluate`] runs triage on each and computes the figures that
`../shared/eval/README.md` defines; [`Report::to_json`] gives exactly those keys and
[`Report::table`] a table for people.
*/

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::knowledge::examples::{Example, Label};
use crate::triage::model::TrainOptions;
use crate::triage::training::{Gate, train_calibrated};
use crate::triage::{Engine, Kind};

/// A cases file or a set of examples that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// The knowledge base could not be read.
    #[error(transparent)]
    Knowledge(#[from] crate::knowledge::KnowledgeError),
    /// An example file has an error (`kicau kb check` lists them all).
    #[error("{0} (run `kicau kb check`)")]
    Examples(String),
    /// The file could not be read.
    #[error("{path}: cannot read")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A line is not a valid case.
    #[error("{path}:{line}: {message}")]
    Case {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

/// One labelled tweet.
#[derive(Debug, Clone)]
pub struct Case {
    pub id: String,
    pub text: String,
    pub expect: Kind,
    pub topic: Option<String>,
    pub agency: Option<String>,
}

#[derive(Deserialize)]
struct RawCase {
    id: String,
    text: String,
    expect: String,
    topic: Option<String>,
    agency: Option<String>,
}

/// Reads a cases file; every bad line is an error that names it.
pub fn read_cases(path: &Path) -> Result<Vec<Case>, EvalError> {
    let text = std::fs::read_to_string(path).map_err(|source| EvalError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_cases(path, &text)
}

/// Parses the text of a cases file; `path` names it in errors.
pub fn parse_cases(path: &Path, text: &str) -> Result<Vec<Case>, EvalError> {
    let mut cases = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let err = |message: String| EvalError::Case {
            path: path.to_path_buf(),
            line: index + 1,
            message,
        };
        if line.trim().is_empty() {
            continue;
        }
        let raw: RawCase =
            serde_json::from_str(line).map_err(|e| err(format!("not a valid case: {e}")))?;
        let expect = Kind::parse(&raw.expect).ok_or_else(|| {
            err(format!(
                "expect {:?} is not one of answer, report, emergency, handoff, ignore",
                raw.expect
            ))
        })?;
        if expect == Kind::Answer && raw.topic.is_none() {
            return Err(err(format!(
                "case {:?} expects an answer but names no topic",
                raw.id
            )));
        }
        if expect == Kind::Report && raw.agency.is_none() {
            return Err(err(format!(
                "case {:?} expects a report but names no agency",
                raw.id
            )));
        }
        cases.push(Case {
            id: raw.id,
            text: raw.text,
            expect,
            topic: raw.topic,
            agency: raw.agency,
        });
    }
    Ok(cases)
}

/// One wrong case.
#[derive(Debug, Clone)]
pub struct Failure {
    pub id: String,
    pub expect: String,
    pub got: String,
    pub text: String,
    pub rule: &'static str,
}

/// The figures of one evaluation.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub cases: usize,
    pub accuracy: f64,
    pub answer_precision: f64,
    pub answer_recall: f64,
    pub false_answer_rate: f64,
    pub routing_accuracy: f64,
    pub report_recall: f64,
    pub emergency_recall: f64,
    pub emergency_false_alarm_rate: f64,
    pub latency_p50_us: u64,
    pub latency_p99_us: u64,
    pub latency_max_us: u64,
    pub index_build_ms: u64,
    /// expected kind -> decided kind -> count.
    pub confusion: BTreeMap<Kind, BTreeMap<Kind, usize>>,
    /// Per expected topic or agency: (correct, total).
    pub per_label: BTreeMap<String, (usize, usize)>,
    pub failures: Vec<Failure>,
}

fn ratio(numerator: usize, denominator: usize) -> f64 {
    if denominator == 0 {
        0.0
    } else {
        numerator as f64 / denominator as f64
    }
}

/// What a decider said about one text: enough to score it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub kind: Kind,
    pub topic: Option<String>,
    pub agency: Option<String>,
    pub rule: &'static str,
}

impl Outcome {
    /// The parts of a decision that are scored.
    pub fn of(decision: &crate::triage::Decision) -> Outcome {
        Outcome {
            kind: decision.kind,
            topic: decision.topic.clone(),
            agency: decision.agency.clone(),
            rule: decision.rule,
        }
    }
}

/// Measures the engine on `cases` (the triage in production) with its model and `gate`.
pub fn evaluate(engine: &Engine, gate: Gate, cases: &[Case], index_build_ms: u64) -> Report {
    evaluate_with(cases, index_build_ms, |text| {
        Outcome::of(&engine.triage_with(engine.model(), gate, true, text))
    })
}

/// Measures any decider on `cases`: the figures of `../shared/eval/README.md`.
pub fn evaluate_with(
    cases: &[Case],
    index_build_ms: u64,
    mut decide: impl FnMut(&str) -> Outcome,
) -> Report {
    let mut report = Report {
        cases: cases.len(),
        index_build_ms,
        ..Report::default()
    };
    let mut latencies = Vec::with_capacity(cases.len());
    let (mut correct, mut answers_given, mut answers_right) = (0, 0, 0);
    let (mut answer_cases, mut answer_cases_right) = (0, 0);
    let (mut non_answer_cases, mut false_answers) = (0, 0);
    let (mut report_cases, mut routed_right, mut reported) = (0, 0, 0);
    let (mut emergency_cases, mut emergencies_found) = (0, 0);
    let (mut non_emergency_cases, mut false_alarms) = (0, 0);
    for case in cases {
        let start = Instant::now();
        let decision = decide(&case.text);
        latencies.push(start.elapsed().as_micros() as u64);
        let got = decision.kind;
        let topic_right = decision.topic == case.topic;
        let agency_right = decision.agency == case.agency;
        let is_correct = got == case.expect
            && match case.expect {
                Kind::Answer => topic_right,
                Kind::Report => agency_right,
                _ => true,
            };
        if is_correct {
            correct += 1;
        }
        *report
            .confusion
            .entry(case.expect)
            .or_default()
            .entry(got)
            .or_default() += 1;
        let label = match case.expect {
            Kind::Answer => format!("answer:{}", case.topic.as_deref().unwrap_or("")),
            Kind::Report => format!("report:{}", case.agency.as_deref().unwrap_or("")),
            kind => kind.to_string(),
        };
        let slot = report.per_label.entry(label).or_default();
        slot.1 += 1;
        if is_correct {
            slot.0 += 1;
        }
        if got == Kind::Answer {
            answers_given += 1;
            if case.expect == Kind::Answer && topic_right {
                answers_right += 1;
            }
        }
        if case.expect == Kind::Answer {
            answer_cases += 1;
            if got == Kind::Answer && topic_right {
                answer_cases_right += 1;
            }
        } else {
            non_answer_cases += 1;
            if got == Kind::Answer {
                false_answers += 1;
            }
        }
        if case.expect == Kind::Report {
            report_cases += 1;
            if got == Kind::Report {
                reported += 1;
                if agency_right {
                    routed_right += 1;
                }
            }
        }
        if case.expect == Kind::Emergency {
            emergency_cases += 1;
            if got == Kind::Emergency {
                emergencies_found += 1;
            }
        } else {
            non_emergency_cases += 1;
            if got == Kind::Emergency {
                false_alarms += 1;
            }
        }
        if !is_correct {
            let describe = |kind: Kind, topic: &Option<String>, agency: &Option<String>| match kind
            {
                Kind::Answer => format!("answer:{}", topic.as_deref().unwrap_or("?")),
                Kind::Report => format!("report:{}", agency.as_deref().unwrap_or("?")),
                kind => kind.to_string(),
            };
            report.failures.push(Failure {
                id: case.id.clone(),
                expect: describe(case.expect, &case.topic, &case.agency),
                got: describe(got, &decision.topic, &decision.agency),
                text: case.text.clone(),
                rule: decision.rule,
            });
        }
    }
    report.accuracy = ratio(correct, cases.len());
    report.answer_precision = ratio(answers_right, answers_given);
    report.answer_recall = ratio(answer_cases_right, answer_cases);
    report.false_answer_rate = ratio(false_answers, non_answer_cases);
    report.routing_accuracy = ratio(routed_right, report_cases);
    report.report_recall = ratio(reported, report_cases);
    report.emergency_recall = ratio(emergencies_found, emergency_cases);
    report.emergency_false_alarm_rate = ratio(false_alarms, non_emergency_cases);
    latencies.sort_unstable();
    report.latency_p50_us = percentile(&latencies, 0.50);
    report.latency_p99_us = percentile(&latencies, 0.99);
    report.latency_max_us = latencies.last().copied().unwrap_or(0);
    report
}

/// Every labelled example (files and the entries' questions) of the configured knowledge base;
/// refuses a base whose examples have errors.
pub fn load_examples(config: &crate::Config) -> Result<Vec<Example>, EvalError> {
    let loaded = crate::knowledge::load(&config.knowledge.dir)?;
    let agencies: Vec<&str> = config.agencies.iter().map(|a| a.id.as_str()).collect();
    let examples =
        crate::knowledge::examples::load(&config.knowledge.dir, &loaded.entries, &agencies)?;
    if let Some(problem) = examples.problems.first() {
        return Err(EvalError::Examples(problem.to_string()));
    }
    Ok(examples.examples)
}

/// The labelled examples as evaluation cases.
pub fn cases_from_examples(examples: &[Example]) -> Vec<Case> {
    examples
        .iter()
        .map(|e| {
            let expected = crate::triage::training::Gated::of_label(&e.label, "example");
            let (expect, topic, agency) = (expected.kind, expected.topic, expected.agency);
            Case {
                id: format!("{}:{}", e.path.display(), e.line),
                text: e.text.clone(),
                expect,
                topic,
                agency,
            }
        })
        .collect()
}

/// `folds`-fold cross-validation of the engine on its examples: each fold is judged by the
/// engine's gate and safety net over a model trained on nine tenths of the other folds and
/// calibrated on the last tenth; the figures are the folds' averages (failures and confusion are
/// pooled). Folds are cut by a hash of each text, so the split is the same on every run.
pub fn cross_validate(
    engine: &Engine,
    examples: &[Example],
    folds: usize,
    options: TrainOptions,
    gate: Gate,
) -> Report {
    let folds = folds.max(2);
    let fold_of = |text: &str| (crate::triage::model::stable_hash(text) % folds as u64) as usize;
    let mut reports = Vec::new();
    for fold in 0..folds {
        let train: Vec<(&str, &Label)> = examples
            .iter()
            .filter(|e| fold_of(&e.text) != fold)
            .map(|e| (e.text.as_str(), &e.label))
            .collect();
        let held: Vec<Example> = examples
            .iter()
            .filter(|e| fold_of(&e.text) == fold)
            .cloned()
            .collect();
        let model = train_calibrated(engine.featurizer(), &train, options);
        let cases = cases_from_examples(&held);
        reports.push(evaluate_with(&cases, 0, |text| {
            Outcome::of(&engine.triage_with(&model, gate, false, text))
        }));
    }
    average(reports)
}

/// The folds' figures averaged; counts, confusion and failures added up.
fn average(reports: Vec<Report>) -> Report {
    let n = reports.len().max(1) as f64;
    let mut total = Report::default();
    for r in reports {
        total.cases += r.cases;
        total.accuracy += r.accuracy / n;
        total.answer_precision += r.answer_precision / n;
        total.answer_recall += r.answer_recall / n;
        total.false_answer_rate += r.false_answer_rate / n;
        total.routing_accuracy += r.routing_accuracy / n;
        total.report_recall += r.report_recall / n;
        total.emergency_recall += r.emergency_recall / n;
        total.emergency_false_alarm_rate += r.emergency_false_alarm_rate / n;
        total.latency_p50_us = total.latency_p50_us.max(r.latency_p50_us);
        total.latency_p99_us = total.latency_p99_us.max(r.latency_p99_us);
        total.latency_max_us = total.latency_max_us.max(r.latency_max_us);
        for (expected, row) in r.confusion {
            for (got, count) in row {
                *total
                    .confusion
                    .entry(expected)
                    .or_default()
                    .entry(got)
                    .or_default() += count;
            }
        }
        for (label, (right, all)) in r.per_label {
            let slot = total.per_label.entry(label).or_default();
            slot.0 += right;
            slot.1 += all;
        }
        total.failures.extend(r.failures);
    }
    total
}

/// The nearest-rank percentile of sorted values.
fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

impl Report {
    /// Exactly the keys of `../shared/eval/README.md`.
    pub fn to_json(&self) -> Value {
        let confusion: serde_json::Map<String, Value> = self
            .confusion
            .iter()
            .map(|(expected, row)| {
                let row: serde_json::Map<String, Value> = row
                    .iter()
                    .map(|(got, n)| (got.to_string(), json!(n)))
                    .collect();
                (expected.to_string(), Value::Object(row))
            })
            .collect();
        json!({
            "cases": self.cases,
            "accuracy": self.accuracy,
            "answer_precision": self.answer_precision,
            "answer_recall": self.answer_recall,
            "false_answer_rate": self.false_answer_rate,
            "routing_accuracy": self.routing_accuracy,
            "report_recall": self.report_recall,
            "emergency_recall": self.emergency_recall,
            "emergency_false_alarm_rate": self.emergency_false_alarm_rate,
            "latency_us": {
                "p50": self.latency_p50_us,
                "p99": self.latency_p99_us,
                "max": self.latency_max_us,
            },
            "index_build_ms": self.index_build_ms,
            "confusion": confusion,
            "failures": self.failures.iter().map(|f| json!({
                "id": f.id, "expect": f.expect, "got": f.got,
            })).collect::<Vec<_>>(),
        })
    }

    /// A table for people: the figures, the confusion matrix, per-label results, the failures.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{:<28} {:>8}", "figure", "value");
        let rows = [
            ("cases", self.cases as f64),
            ("accuracy", self.accuracy),
            ("answer_precision", self.answer_precision),
            ("answer_recall", self.answer_recall),
            ("false_answer_rate", self.false_answer_rate),
            ("routing_accuracy", self.routing_accuracy),
            ("report_recall", self.report_recall),
            ("emergency_recall", self.emergency_recall),
            (
                "emergency_false_alarm_rate",
                self.emergency_false_alarm_rate,
            ),
        ];
        for (name, value) in rows {
            if name == "cases" {
                let _ = writeln!(out, "{name:<28} {:>8}", value as usize);
            } else {
                let _ = writeln!(out, "{name:<28} {value:>8.3}");
            }
        }
        let _ = writeln!(
            out,
            "{:<28} {:>8}",
            "latency_us p50/p99/max",
            format!(
                "{}/{}/{}",
                self.latency_p50_us, self.latency_p99_us, self.latency_max_us
            )
        );
        let _ = writeln!(out, "{:<28} {:>8}", "index_build_ms", self.index_build_ms);
        let kinds = [
            Kind::Answer,
            Kind::Report,
            Kind::Emergency,
            Kind::Handoff,
            Kind::Ignore,
        ];
        let _ = writeln!(out, "\nconfusion (rows: expected, columns: decided)");
        let _ = write!(out, "{:<10}", "");
        for k in kinds {
            let _ = write!(out, "{:>10}", k.as_str());
        }
        let _ = writeln!(out);
        for expected in kinds {
            let _ = write!(out, "{:<10}", expected.as_str());
            for got in kinds {
                let n = self
                    .confusion
                    .get(&expected)
                    .and_then(|row| row.get(&got))
                    .copied()
                    .unwrap_or(0);
                let _ = write!(out, "{n:>10}");
            }
            let _ = writeln!(out);
        }
        let _ = writeln!(out, "\nper kind and topic/agency (correct/total)");
        for (label, (right, total)) in &self.per_label {
            let mark = if right == total { " " } else { "*" };
            let _ = writeln!(out, "{mark} {label:<40} {right}/{total}");
        }
        let _ = writeln!(out, "\nfailures ({})", self.failures.len());
        for f in &self.failures {
            let text: String = f.text.chars().take(90).collect();
            let _ = writeln!(
                out,
                "{:<10} expect {:<28} got {:<28} [{}] {}",
                f.id, f.expect, f.got, f.rule, text
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_malformed_line_is_named() {
        let text =
            "{\"id\":\"a\",\"text\":\"x\",\"expect\":\"handoff\"}\n{\"id\":\"b\",\"text\":\n";
        let err = parse_cases(Path::new("c.jsonl"), text)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("c.jsonl:2: not a valid case"), "{err}");
    }

    #[test]
    fn an_unknown_kind_or_missing_label_is_named() {
        let err = parse_cases(
            Path::new("c.jsonl"),
            "{\"id\":\"a\",\"text\":\"x\",\"expect\":\"reply\"}",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("c.jsonl:1: expect \"reply\""), "{err}");
        let err = parse_cases(
            Path::new("c.jsonl"),
            "\n{\"id\":\"a\",\"text\":\"x\",\"expect\":\"answer\"}",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("c.jsonl:2: case \"a\" expects an answer"),
            "{err}"
        );
    }

    #[test]
    fn percentile_is_nearest_rank() {
        let values: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&values, 0.5), 50);
        assert_eq!(percentile(&values, 0.99), 99);
        assert_eq!(percentile(&[], 0.99), 0);
    }
}
