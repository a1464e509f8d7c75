//! The engine the running bot decides with, replaced whole when the knowledge base, the
//! examples or the accepted corrections change. A load that fails leaves the running engine
//! in place and keeps its error (each `file:line`) for the console and the log.

use std::sync::{Arc, RwLock};

use serde::Serialize;

use super::{Engine, ModelInfo};

/// The current engine and how the last load went.
pub struct Live {
    engine: RwLock<Arc<Engine>>,
    status: RwLock<Status>,
    reload: tokio::sync::Notify,
}

/// What the console shows about the engine.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// The serving engine's model.
    pub model: ModelInfo,
    /// When the serving engine was loaded (milliseconds since the epoch).
    pub loaded_at: i64,
    /// How many engines this process has loaded (1 at start).
    pub generation: u64,
    /// The last failed load's error, until a load succeeds.
    pub error: Option<String>,
    /// When that load failed.
    pub failed_at: Option<i64>,
}

impl Live {
    pub fn new(engine: impl Into<Arc<Engine>>) -> Live {
        let engine: Arc<Engine> = engine.into();
        let status = Status {
            model: engine.model_info().clone(),
            loaded_at: now_ms(),
            generation: 1,
            error: None,
            failed_at: None,
        };
        Live {
            engine: RwLock::new(engine),
            status: RwLock::new(status),
            reload: tokio::sync::Notify::new(),
        }
    }

    /// The engine to decide with now (a decision keeps the one it started with).
    pub fn get(&self) -> Arc<Engine> {
        self.engine
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Serves `engine` from now on.
    pub fn replace(&self, engine: Engine) {
        let mut status = self.status.write().unwrap_or_else(|e| e.into_inner());
        status.model = engine.model_info().clone();
        status.loaded_at = now_ms();
        status.generation += 1;
        status.error = None;
        status.failed_at = None;
        *self.engine.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(engine);
    }

    /// Records a failed load; the running engine stays.
    pub fn failed(&self, error: String) {
        let mut status = self.status.write().unwrap_or_else(|e| e.into_inner());
        status.error = Some(error);
        status.failed_at = Some(now_ms());
    }

    pub fn status(&self) -> Status {
        self.status
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Asks the reloader to load again now (SIGHUP, the console's button, an accepted
    /// correction).
    pub fn request_reload(&self) {
        self.reload.notify_one();
    }

    /// Resolves when a reload was requested.
    pub async fn reload_requested(&self) {
        self.reload.notified().await
    }
}

fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}
