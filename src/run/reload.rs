//! Keeps the running engine current: reloads it when a file under `knowledge/` (entries,
//! examples, lexicons, saved replies) changes, when an accepted correction appears in the database (any
//! instance's), on SIGHUP and on the console's button. The files are watched by polling their
//! sizes and modification times every [`WATCH_EVERY`]: cheap, and it works the same on every
//! file system, network mounts and editors that replace files included. A load that fails
//! `kb check` keeps the running engine and records the error with its `file:line`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::watch;

use crate::desk::Desk;
use crate::knowledge::examples::files_under;
use crate::knowledge::examples::{Example, Label};
use crate::triage::Engine;
use crate::triage::live::Live;

/// How often the files and the corrections are looked at.
pub const WATCH_EVERY: Duration = Duration::from_secs(1);

/// What the reload compares: every file's path, size and modification time, and the accepted
/// corrections' version.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Seen {
    files: Vec<(PathBuf, u64, Option<SystemTime>)>,
    corrections: (i64, i64),
}

fn files_of(config: &crate::Config) -> Vec<(PathBuf, u64, Option<SystemTime>)> {
    [&config.knowledge.dir, &config.knowledge.lexicon_dir]
        .into_iter()
        .flat_map(|dir| files_under(dir).unwrap_or_default())
        .map(|path| {
            let meta = std::fs::metadata(&path).ok();
            let size = meta.as_ref().map_or(0, |m| m.len());
            let modified = meta.and_then(|m| m.modified().ok());
            (path, size, modified)
        })
        .collect()
}

/// The accepted corrections as training examples (a correction whose label no longer parses is
/// skipped with a warning; `kb check` of the files is what refuses).
pub fn examples_of(corrections: &[crate::desk::corrections::Correction]) -> Vec<Example> {
    corrections
        .iter()
        .filter_map(|c| match Label::parse(&c.label) {
            Some(label) => Some(Example {
                text: c.text.clone(),
                label,
                path: PathBuf::from(format!("correction {}", c.id)),
                line: 1,
            }),
            None => {
                tracing::warn!(correction = c.id, label = %c.label, "a correction's label is unknown");
                None
            }
        })
        .collect()
}

/// Loads the engine from the files and the accepted corrections in the database.
pub async fn load(config: &crate::Config, desk: &Desk) -> anyhow::Result<Engine> {
    let corrections = examples_of(&desk.accepted_corrections().await?);
    let config = config.clone();
    let engine =
        tokio::task::spawn_blocking(move || Engine::load_with(&config, &corrections)).await??;
    Ok(engine)
}

/// Watches and reloads until `shutdown`.
pub async fn watch(
    config: crate::Config,
    desk: Desk,
    live: Arc<Live>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut hangup = hangup_signal();
    let mut seen = Seen {
        files: files_of(&config),
        corrections: desk.corrections_version().await.unwrap_or_default(),
    };
    loop {
        let requested = tokio::select! {
            _ = shutdown.changed() => return,
            _ = tokio::time::sleep(WATCH_EVERY) => false,
            _ = live.reload_requested() => true,
            _ = recv(&mut hangup) => {
                tracing::info!("SIGHUP: reloading the knowledge base");
                true
            }
        };
        if *shutdown.borrow() {
            return;
        }
        let now = Seen {
            files: files_of(&config),
            corrections: match desk.corrections_version().await {
                Ok(version) => version,
                Err(error) => {
                    tracing::warn!(%error, "cannot read the corrections' version");
                    seen.corrections
                }
            },
        };
        if !requested && now == seen {
            continue;
        }
        seen = now;
        match load(&config, &desk).await {
            Ok(engine) => {
                let info = engine.model_info().clone();
                tracing::info!(
                    examples = info.examples,
                    corrections = info.corrections,
                    cached = info.cached,
                    load_ms = info.load_ms,
                    "the knowledge base was reloaded"
                );
                live.replace(engine);
            }
            Err(error) => {
                let error = format!("{error:#}");
                tracing::error!(%error, "the knowledge base did not reload: the running one stays");
                live.failed(error);
            }
        }
    }
}

#[cfg(unix)]
type Hangup = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Hangup = Option<()>;

#[cfg(unix)]
fn hangup_signal() -> Hangup {
    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok()
}

#[cfg(not(unix))]
fn hangup_signal() -> Hangup {
    None
}

#[cfg(unix)]
async fn recv(hangup: &mut Hangup) {
    match hangup {
        Some(signal) => {
            signal.recv().await;
        }
        None => std::future::pending().await,
    }
}

#[cfg(not(unix))]
async fn recv(_: &mut Hangup) {
    std::future::pending().await
}
