/*!
Stores for tests: SQLite in a temporary file, and PostgreSQL from `KICAU_TEST_POSTGRES_URL`
(each test in a database of its own). Without that variable the PostgreSQL half is skipped with
a warning on a developer's machine and fails under `CI=true`. Also the shipped configuration,
engine and tickets that in-process tests build on.
*/

use std::sync::{Arc, OnceLock};

use kicau::store::Store;
use kicau::tickets::Tickets;

use super::repo;

/// A store per backend available, each fresh.
pub struct Backends {
    pub stores: Vec<(&'static str, Store)>,
    /// Each store's database URL, in the same order (for the `kicau` command line).
    pub urls: Vec<String>,
    _dir: tempfile::TempDir,
    cleanup: Vec<(String, String)>,
}

impl Backends {
    pub async fn new() -> Backends {
        let dir = tempfile::tempdir().unwrap();
        let sqlite = format!("sqlite://{}", dir.path().join("kicau.db").display());
        let mut stores = vec![("sqlite", Store::connect(&sqlite).await.unwrap())];
        let mut urls = vec![sqlite];
        let mut cleanup = Vec::new();
        match std::env::var("KICAU_TEST_POSTGRES_URL") {
            Ok(admin) => {
                let (url, name) = fresh_postgres(&admin).await;
                stores.push(("postgres", Store::connect(&url).await.unwrap()));
                urls.push(url);
                cleanup.push((admin, name));
            }
            Err(_) if std::env::var("CI").is_ok_and(|v| v == "true") => {
                panic!("KICAU_TEST_POSTGRES_URL is not set, and CI must test PostgreSQL")
            }
            Err(_) => eprintln!("warning: KICAU_TEST_POSTGRES_URL is not set: PostgreSQL skipped"),
        }
        Backends {
            stores,
            urls,
            _dir: dir,
            cleanup,
        }
    }

    /// Closes the stores and drops the PostgreSQL database.
    pub async fn finish(self) {
        for (_, store) in &self.stores {
            store.close().await;
        }
        for (admin, name) in self.cleanup {
            use sqlx::Connection as _;
            if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
                    .execute(&mut conn)
                    .await;
            }
        }
    }
}

/// Creates an empty database next to the one `admin` names and returns its URL and name.
async fn fresh_postgres(admin: &str) -> (String, String) {
    use sqlx::Connection as _;
    let name = format!("kicau_t_{}_{}", std::process::id(), rand_suffix());
    let mut conn = sqlx::PgConnection::connect(admin).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .unwrap();
    let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(admin);
    (format!("{base}/{name}"), name)
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    nanos * 1000 + N.fetch_add(1, Ordering::Relaxed)
}

/// A fresh SQLite store in a temporary folder, for tests that need one backend only; keep the
/// folder while the store is in use.
pub async fn sqlite() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("kicau.db").display());
    (Store::connect(&url).await.unwrap(), dir)
}

/// The shipped bot.toml, loaded.
pub fn shipped_config() -> kicau::Config {
    let mut config = kicau::Config::load(&repo().join("bot.toml")).unwrap();
    // The tests meet the sandbox as strict as X: a bearer it did not issue is refused.
    config.sandbox.strict = true;
    config
}

/// Tickets over the shipped configuration with `edit` applied.
pub fn tickets_with(edit: impl FnOnce(&mut kicau::Config)) -> Tickets {
    let mut config = shipped_config();
    edit(&mut config);
    Tickets::load(Arc::new(config)).unwrap()
}

/// The engine of the shipped configuration, built once per test binary.
pub fn engine() -> Arc<kicau::Engine> {
    static ENGINE: OnceLock<Arc<kicau::Engine>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            Arc::new(kicau::Engine::from_config_path(&repo().join("bot.toml")).unwrap())
        })
        .clone()
}
