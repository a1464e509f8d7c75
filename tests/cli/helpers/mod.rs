/*!
The one harness the behaviour files share; they import from here and never from each other.

- [`BotToml`]: the shipped bot.toml as a value, edited by key path (a key the shipped file lacks
  is a panic, so a renamed key cannot be skipped silently).
- [`Deployment`]: `kicau sandbox` and `kicau run` as processes in a temporary folder, every
  listener on port 0 and its address read back from the process's output.
- [`KnowledgeFixture`]: the shipped bot.toml reading a knowledge folder the test writes, for
  `kicau kb check`; [`live_on_a_copy`]: the running engine on a copy of the shipped knowledge
  base, for the reload.
- [`Backends`]: a fresh store on SQLite and, with `KICAU_TEST_POSTGRES_URL`, on PostgreSQL.
- [`Console`]: the console's router driven with `oneshot`, with a cookie jar and a signed-in
  staff member; `Deployment::api`: the running bot's console API with a staff token.
- [`Sandbox`]: the sandbox as citizens, agencies and an auditor see it: tweets, replies, the
  Telegram and WhatsApp chats, the control endpoints.
- Records made the way the worker makes them: [`mention_at`], [`file_ticket`],
  [`report_saying`]; what a citizen was told about a ticket: [`citizen_tweets`].
- Waiting: [`wait_until`] and [`wait_for`] poll a condition until a deadline; [`quiet_period`]
  is the one fixed wait, for assertions that something does *not* happen.
*/

mod backends;
mod bot_toml;
mod console;
mod deployment;
mod knowledge;
mod records;
mod sandbox;

use std::fmt::Display;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub use backends::{Backends, engine, shipped_config, sqlite, tickets_with};
pub use bot_toml::BotToml;
pub use console::{Console, Reply};
pub use deployment::{Deployment, Process};
pub use knowledge::{KnowledgeFixture, copy_dir, live_on_a_copy};
pub use records::{
    AGENCY_MEMBER, citizen_tweets, file_ticket, file_ticket_for, file_ticket_saying, mention_at,
    report_saying,
};
pub use sandbox::Sandbox;

/// The repository's root, where the shipped bot.toml and knowledge/ live.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared`, which holds the evaluation set. A developer without it gets a printed warning
/// and the test is skipped; under CI it must be there.
pub fn shared() -> Option<PathBuf> {
    let path = repo().join("../shared");
    if path.join("eval/dev.jsonl").exists() {
        return Some(path);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("../shared/eval/dev.jsonl is missing, and CI needs it");
    }
    eprintln!("warning: ../shared is missing: skipping a test that needs it");
    None
}

/// Makes sure the model learned from the shipped examples is in the shared cache before a
/// process needs it: the first call trains (in this process), every later one finds it, so no
/// deployment waits for a training of its own.
pub fn warm_model() {
    let _ = engine();
}

/// Runs `kicau ARGS` with `--config CONFIG` from the repository root.
pub fn kicau(config: &Path, args: &[&str]) -> Output {
    warm_model();
    Command::new(env!("CARGO_BIN_EXE_kicau"))
        .current_dir(repo())
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("KICAU_CONFIG")
        .output()
        .expect("kicau runs")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("utf-8 output")
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("utf-8 output")
}

/// How often [`wait_for`] and [`wait_until`] look again.
const POLL: Duration = Duration::from_millis(100);

/// Polls `check` until it yields a value, at most `within`; `None` when time ran out.
async fn poll<T, F, Fut>(within: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = check().await {
            return Some(value);
        }
        if Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Polls `check` until it yields a value and returns it; panics after `within`, saying `what`
/// was awaited.
pub async fn wait_for<T, F, Fut>(within: Duration, what: impl Display, check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    match poll(within, check).await {
        Some(value) => value,
        None => panic!("waited {within:?} in vain for {what}"),
    }
}

/// Polls `check` until it is true; panics after `within`, saying `what` was awaited.
pub async fn wait_until<F, Fut>(within: Duration, what: impl Display, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let found = poll(within, || {
        let done = check();
        async move { done.await.then_some(()) }
    })
    .await;
    if found.is_none() {
        panic!("waited {within:?} in vain until {what}");
    }
}

/// Lets `duration` pass before a test asserts that something did *not* happen: there is no
/// event to await for an absence. `why` says what would have happened by then; it is for the
/// reader, and is printed with `--nocapture`.
pub async fn quiet_period(duration: Duration, why: &str) {
    eprintln!("quiet for {duration:?}: {why}");
    tokio::time::sleep(duration).await;
}
