/*!
A deployment as an operator runs it, in a temporary folder: `kicau sandbox` (X, Telegram and
WhatsApp stand-ins) and `kicau run` as separate processes, on the shipped bot.toml with a few
test settings, and a SQLite file. Every listener binds port 0 and the process reports the
address it got on its standard output, so no port is picked before it is bound.
*/

use std::fmt::Display;
use std::future::Future;
use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use super::{BotToml, Sandbox, poll, repo};

/// Any free port, chosen by the process that binds it.
const ANY_PORT: &str = "127.0.0.1:0";
/// Where the WhatsApp sandbox posts webhooks until the bot's console reports its address:
/// the discard port, where nothing listens.
const NOWHERE: &str = "http://127.0.0.1:9/webhooks/whatsapp";
/// How long a process may take to report its address.
const START: Duration = Duration::from_secs(60);

/// A child process whose standard output is read line by line, each line also appended to its
/// log file with its standard error. Killed when dropped.
pub struct Process {
    child: Child,
    log: PathBuf,
    lines: tokio::sync::mpsc::UnboundedReceiver<String>,
}

impl Process {
    /// Spawns `command`, its output going to `log` (appended).
    pub fn spawn(mut command: Command, log: &Path) -> Process {
        let open = || {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log)
                .unwrap_or_else(|e| panic!("opening {}: {e}", log.display()))
        };
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(open())
            .spawn()
            .unwrap_or_else(|e| panic!("spawning {command:?}: {e}"));
        let stdout = child.stdout.take().unwrap();
        let (sender, lines) = tokio::sync::mpsc::unbounded_channel();
        let mut file = open();
        // Read to the end whoever listens, so the process never writes into a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = writeln!(file, "{line}");
                let _ = sender.send(line);
            }
        });
        Process {
            child,
            log: log.to_owned(),
            lines,
        }
    }

    /// Waits for the next line of standard output that starts with `prefix` and returns it;
    /// panics, with the log, when the process ends or `within` passes first.
    pub async fn line_starting_with(&mut self, prefix: &str, within: Duration) -> String {
        let found = tokio::time::timeout(within, async {
            while let Some(line) = self.lines.recv().await {
                if line.starts_with(prefix) {
                    return Some(line);
                }
            }
            None
        })
        .await;
        match found {
            Ok(Some(line)) => line,
            Ok(None) => panic!(
                "the process ended before printing {prefix:?}:\n{}",
                self.log()
            ),
            Err(_) => panic!("no {prefix:?} within {within:?}:\n{}", self.log()),
        }
    }

    /// As [`super::wait_until`], with the end of the process's log in the panic.
    pub async fn wait_until<F, Fut>(&self, within: Duration, what: impl Display, check: F)
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = bool>,
    {
        wait_showing_log(within, what, &self.log, check).await
    }

    /// Everything the process wrote so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL: no chance to finish anything.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, and the exit status.
    pub fn terminate(&mut self) -> ExitStatus {
        let sent = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(sent.success(), "kill -TERM {}", self.child.id());
        self.child.wait().unwrap()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Polls `check` until it is true; panics after `within` with `what` and the end of `log`.
async fn wait_showing_log<F, Fut>(within: Duration, what: impl Display, log: &Path, mut check: F)
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
        panic!("waited {within:?} in vain until {what}{}", log_tail(log));
    }
}

/// The last lines of a log, for a panic message.
fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let tail = &lines[lines.len().saturating_sub(40)..];
    format!("; {} ends:\n{}", log.display(), tail.join("\n"))
}

/// The URL in a line such as `Staff console: http://127.0.0.1:PORT/ (...)`, without its
/// trailing slash.
fn url_in(line: &str) -> String {
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"));
    url.trim_end_matches('/').to_owned()
}

/// `kicau run`, and the console address it reported.
struct Bot {
    process: Process,
    console: String,
}

/// `kicau sandbox` and, once started, `kicau run`, in a temporary folder.
pub struct Deployment {
    dir: tempfile::TempDir,
    config: BotToml,
    sandbox_process: Process,
    sandbox: Sandbox,
    bot: Option<Bot>,
}

impl Deployment {
    /// The sandbox running; the bot not yet ([`Deployment::start_bot`]).
    pub async fn start() -> Deployment {
        Deployment::start_with(|_| {}).await
    }

    /// As [`Deployment::start`], with `edit` applied to the configuration first.
    pub async fn start_with(edit: impl FnOnce(&mut BotToml)) -> Deployment {
        // Blocks this test's runtime before anything runs on it: nothing waits meanwhile.
        super::warm_model();
        let dir = tempfile::tempdir().unwrap();
        let root = repo();
        let path_of = |p: &str| root.join(p).display().to_string();
        let mut config = BotToml::shipped();
        config
            .set("knowledge.dir", path_of("knowledge"))
            .set("knowledge.lexicon_dir", path_of("knowledge/lexicon"))
            .set("sandbox.mode", "external")
            .set("sandbox.x_listen", ANY_PORT)
            .set("sandbox.telegram_listen", ANY_PORT)
            .set("sandbox.whatsapp_listen", ANY_PORT)
            .set("sandbox.whatsapp_webhook_url", NOWHERE)
            .set("console.listen", ANY_PORT)
            .set("x.poll_interval_ms", 200);
        edit(&mut config);
        let path = dir.path().join("bot.toml");
        config.write(&path);
        let mut command = kicau_with(&path);
        command.arg("sandbox");
        let mut sandbox_process = Process::spawn(command, &dir.path().join("sandbox.log"));
        let x_url = url_in(&sandbox_process.line_starting_with("X sandbox", START).await);
        let telegram_url = url_in(
            &sandbox_process
                .line_starting_with("Telegram sandbox at", START)
                .await,
        );
        let whatsapp_url = url_in(
            &sandbox_process
                .line_starting_with("WhatsApp sandbox at", START)
                .await,
        );
        config
            .set("sandbox.x_url", x_url.as_str())
            .set("sandbox.telegram_url", telegram_url)
            .set("sandbox.whatsapp_url", whatsapp_url);
        config.write(&path);
        Deployment {
            dir,
            config,
            sandbox_process,
            sandbox: Sandbox::at(&x_url),
            bot: None,
        }
    }

    /// The sandbox, as citizens, agencies and auditors see it.
    pub fn sandbox(&self) -> &Sandbox {
        &self.sandbox
    }

    /// The X API's base URL.
    pub fn x_url(&self) -> &str {
        self.sandbox.x_url()
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("bot.toml")
    }

    pub fn database_url(&self) -> String {
        format!("sqlite://{}", self.dir.path().join("kicau.db").display())
    }

    /// Starts `kicau run` and waits for its console's address; the WhatsApp sandbox is then
    /// pointed at that console's webhook. A restarted bot listens elsewhere: see
    /// [`Deployment::console_url`].
    pub async fn start_bot(&mut self) {
        assert!(self.bot.is_none(), "the bot runs already");
        let mut process = Process::spawn(self.run_command(&self.config_path()), &self.log_path());
        let line = process.line_starting_with("Staff console:", START).await;
        let console = url_in(&line);
        let registered = self
            .sandbox
            .control(
                "/sandbox/whatsapp/webhook-url",
                json!({"url": format!("{console}/webhooks/whatsapp")}),
            )
            .await;
        assert_eq!(registered.status(), 200, "registering the WhatsApp webhook");
        self.bot = Some(Bot { process, console });
    }

    /// The running bot's console, e.g. `http://127.0.0.1:PORT`.
    pub fn console_url(&self) -> String {
        let bot = self.bot.as_ref().expect("the bot runs (start_bot)");
        bot.console.clone()
    }

    /// SIGKILL: no chance to finish anything.
    pub fn kill_bot(&mut self) {
        if let Some(mut bot) = self.bot.take() {
            bot.process.kill();
        }
    }

    /// SIGTERM, and the exit status.
    /// Stops the bot with SIGTERM; its exit status. When it did not exit cleanly, the end of its
    /// log goes to the test's output, where a failing test shows it.
    pub fn stop_bot(&mut self) -> ExitStatus {
        let mut bot = self.bot.take().expect("the bot runs");
        let status = bot.process.terminate();
        if !status.success() {
            eprintln!("the bot exited with {status}{}", log_tail(&self.log_path()));
        }
        status
    }

    /// Another `kicau run` on the same database and sandbox, its configuration edited by
    /// `edit` and its files named after `name`; returned once it runs for the account.
    pub async fn start_instance(&self, name: &str, edit: impl FnOnce(&mut BotToml)) -> Process {
        let mut config = self.config.clone();
        edit(&mut config);
        let path = self.dir.path().join(format!("{name}.toml"));
        config.write(&path);
        let log = self.dir.path().join(format!("{name}.log"));
        let mut process = Process::spawn(self.run_command(&path), &log);
        process
            .line_starting_with("Kicau is running for", START)
            .await;
        process
    }

    /// What the bot wrote, over all its runs.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// `kicau staff ARGS` on the deployment's database; its standard output. Before `token
    /// NAME`, the account's password is set (`staff password`), as an API token works only once
    /// the one-time password is gone.
    pub fn staff(&self, args: &[&str]) -> String {
        if let ["token", name] = args {
            self.staff_with_input(&["password", name], &format!("kata-sandi-{name}-uji\n"));
        }
        self.staff_with_input(args, "")
    }

    /// `kicau staff ARGS` with `input` on its standard input; its standard output.
    pub fn staff_with_input(&self, args: &[&str], input: &str) -> String {
        use std::io::Write as _;
        let mut child = kicau_with(&self.config_path())
            .arg("--database-url")
            .arg(self.database_url())
            .arg("staff")
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "kicau staff {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    /// The running console's API with a staff member's `token`.
    pub fn api(&self, token: &str) -> Api<'_> {
        Api {
            deployment: self,
            token: token.trim().to_owned(),
            http: reqwest::Client::new(),
        }
    }

    /// As [`super::wait_until`], with the end of the bot's log in the panic.
    pub async fn wait_until<F, Fut>(&self, within: Duration, what: impl Display, check: F)
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = bool>,
    {
        wait_showing_log(within, what, &self.log_path(), check).await
    }

    /// As [`super::wait_for`], with the end of the bot's log in the panic.
    pub async fn wait_for<T, F, Fut>(&self, within: Duration, what: impl Display, check: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Option<T>>,
    {
        match poll(within, check).await {
            Some(value) => value,
            None => panic!(
                "waited {within:?} in vain for {what}{}",
                log_tail(&self.log_path())
            ),
        }
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("bot.log")
    }

    fn run_command(&self, config: &Path) -> Command {
        let mut command = kicau_with(config);
        command
            .arg("--database-url")
            .arg(self.database_url())
            .arg("run");
        command
    }
}

impl Drop for Deployment {
    fn drop(&mut self) {
        self.kill_bot();
        self.sandbox_process.kill();
    }
}

/// `kicau --config CONFIG`, without the caller's KICAU_CONFIG.
fn kicau_with(config: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kicau"));
    command
        .arg("--config")
        .arg(config)
        .env_remove("KICAU_CONFIG");
    command
}

/// The running bot's console API as one staff member (a bearer token); every call goes to the
/// console's current address.
pub struct Api<'a> {
    deployment: &'a Deployment,
    token: String,
    http: reqwest::Client,
}

impl Api<'_> {
    /// `GET path`; panics unless it answers 200 with JSON.
    pub async fn get(&self, path: &str) -> Value {
        let url = format!("{}{path}", self.deployment.console_url());
        let response = self
            .http
            .get(&url)
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let status = response.status();
        let body = response.text().await.unwrap();
        assert_eq!(status, 200, "GET {path}: {body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
    }

    /// `POST path` with `body` as JSON; the status and the JSON answer (`Null` when none).
    pub async fn post(&self, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = format!("{}{path}", self.deployment.console_url());
        let mut request = self.http.post(&url).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}
