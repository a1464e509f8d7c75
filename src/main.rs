//! The `kicau` command line: parses arguments and calls the library. Logs go to standard error;
//! standard output carries only what the command produces.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::{Parser, Subcommand};

use kicau::Config;
use kicau::knowledge::{self, Severity};
use kicau::language::{Analyzer, Lexicon};
use kicau::triage::Engine;

#[derive(Parser)]
#[command(
    name = "kicau",
    version,
    about = "Helpdesk bot for a city government's X account"
)]
struct Cli {
    /// The deployment's configuration file.
    #[arg(long, global = true, env = "KICAU_CONFIG", default_value = "bot.toml")]
    config: PathBuf,
    /// The database (sqlite://PATH or postgres://...); overrides bot.toml's [store].
    #[arg(long, global = true, env = "KICAU_DATABASE_URL")]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the bot: listen to mentions, decide, reply (sandbox or X, as bot.toml says).
    Run,
    /// Run the sandbox alone (X API stand-in), for tests that restart the bot.
    Sandbox,
    /// Decide what to do with one tweet and print the reply the account would post.
    Ask {
        /// The tweet's text.
        text: String,
        /// The citizen's handle, for the reply.
        #[arg(long, default_value = "warga")]
        from: String,
        /// Print the decision as JSON.
        #[arg(long)]
        json: bool,
    },
    /// The knowledge base.
    Kb {
        #[command(subcommand)]
        command: KbCommand,
    },
    /// Measure triage on a labelled cases file, or by cross-validation of the examples.
    Eval {
        /// One JSON case a line (see ../shared/eval/README.md).
        #[arg(required_unless_present = "cv")]
        cases: Option<PathBuf>,
        /// Print one JSON object with the figures instead of a table.
        #[arg(long)]
        json: bool,
        /// Cross-validate on knowledge/examples with N folds (no FILE): each fold judged by a
        /// model trained without it.
        #[arg(long, value_name = "N", conflicts_with = "cases")]
        cv: Option<usize>,
        /// Tuning: answer when the best topic's probability reaches this (else [triage]).
        #[arg(long)]
        answer_min: Option<f32>,
        /// Tuning: report when the best agency's probability reaches this.
        #[arg(long)]
        report_min: Option<f32>,
        /// Tuning: an emergency when its probability reaches this, whatever ranks first.
        #[arg(long)]
        emergency_min: Option<f32>,
        /// Tuning: ignore when that is this likely.
        #[arg(long)]
        ignore_min: Option<f32>,
        /// Training epochs of the cross-validated models.
        #[arg(long, default_value_t = kicau::triage::model::TrainOptions::default().epochs)]
        epochs: usize,
        /// Training: the first epoch's step of the cross-validated models.
        #[arg(long, default_value_t = kicau::triage::model::TrainOptions::default().rate)]
        rate: f32,
        /// Training: the L2 penalty of the cross-validated models.
        #[arg(long, default_value_t = kicau::triage::model::TrainOptions::default().l2)]
        l2: f32,
        /// Training: feature slots of the cross-validated models, as a power of two.
        #[arg(long, default_value_t = kicau::triage::model::TrainOptions::default().bits)]
        bits: u32,
    },
    /// The text normaliser.
    Lang {
        #[command(subcommand)]
        command: LangCommand,
    },
    /// The office lead's figures for the last days: volumes, the bot's share, response times,
    /// and which agencies are late (also the console's "Ringkasan" page).
    Report {
        /// How many days back from now.
        #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(i64).range(1..=366))]
        days: i64,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Staff accounts for the console and the API.
    Staff {
        #[command(subcommand)]
        command: StaffCommand,
    },
    /// Citizens' personal data.
    Privacy {
        #[command(subcommand)]
        command: PrivacyCommand,
    },
    /// The X account's authorization.
    X {
        #[command(subcommand)]
        command: XCommand,
    },
}

#[derive(Subcommand)]
enum PrivacyCommand {
    /// Remove a citizen's personal data everywhere at once (a request under UU PDP 27/2022):
    /// their tweets' texts, their handle and id, open conversations closed; tickets stay with
    /// the reporter anonymised. Audited.
    Forget { handle: String },
}

#[derive(Subcommand)]
enum StaffCommand {
    /// Create an account and print its one-time password (changed at first login).
    Add {
        name: String,
        /// `staff` or `admin` (admins may release and close conversations others hold).
        #[arg(long, default_value = "staff")]
        role: String,
        /// The person's numeric Telegram user id, for the staff group's buttons.
        #[arg(long)]
        telegram_id: Option<i64>,
    },
    /// Map a Telegram user to an account (for the staff group's buttons and replies).
    Link {
        name: String,
        #[arg(long)]
        telegram_id: i64,
    },
    /// Print a new API token, alone on one line (earlier tokens stay valid).
    Token { name: String },
    /// Revoke every API token and session of an account.
    Revoke { name: String },
    /// Give an account a new one-time password (valid 24 hours, for one login) in place of its
    /// password, and end its sessions: for a forgotten or expired password.
    Reset { name: String },
    /// Lift the lock that repeated failed logins put on an account (before its 15 minutes).
    Unlock { name: String },
    /// Set an account's password, read from standard input (at least 12 characters); ends its
    /// sessions and retires the one-time password.
    Password { name: String },
    /// List the accounts.
    List,
}

#[derive(Subcommand)]
enum XCommand {
    /// Let the bot act as the account with OAuth 2.0 (once; needs KICAU_X_CLIENT_ID and
    /// KICAU_X_CLIENT_SECRET, or [sandbox] x_auth = "oauth2" with an external sandbox).
    Authorize {
        /// Where X sends the browser back (default: [x] redirect_uri of bot.toml).
        #[arg(long)]
        redirect_uri: Option<String>,
        /// How long to wait for the browser, in seconds.
        #[arg(long, default_value_t = 600)]
        timeout_secs: u64,
    },
}

#[derive(Subcommand)]
enum KbCommand {
    /// Validate every entry and print each problem as `file:line: message`.
    Check {
        /// Treat warnings (expiry, stale review) as errors.
        #[arg(long)]
        strict: bool,
    },
    /// The labelled examples.
    Examples {
        #[command(subcommand)]
        command: ExamplesCommand,
    },
}

#[derive(Subcommand)]
enum ExamplesCommand {
    /// Append the accepted corrections not yet exported to knowledge/examples/ (one line each,
    /// in the file of its label) and mark them exported; commit the files to share them.
    Export,
}

#[derive(Subcommand)]
enum LangCommand {
    /// Print a text's normalised words and search terms.
    Normalize { text: String },
    /// Measure the normaliser on a STIF split: token F1 against the formal rewrite.
    Stif {
        /// The informal file (e.g. ../shared/data/nlp/stif/test.inf).
        informal: PathBuf,
        /// The formal file, line-aligned (e.g. ../shared/data/nlp/stif/test.for).
        formal: PathBuf,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "kicau=info".into()),
        )
        .init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = Config::load(&cli.config)?;
    match cli.command {
        Command::Run => {
            let database_url = cli
                .database_url
                .clone()
                .unwrap_or_else(|| config.store.database_url.clone());
            runtime()?.block_on(async {
                let shutdown = kicau::run::shutdown_signal();
                kicau::run::run(config, &database_url, shutdown).await
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::X {
            command:
                XCommand::Authorize {
                    redirect_uri,
                    timeout_secs,
                },
        } => {
            let database_url = cli
                .database_url
                .clone()
                .unwrap_or_else(|| config.store.database_url.clone());
            runtime()?.block_on(kicau::run::authorize_x(
                &config,
                &database_url,
                redirect_uri,
                std::time::Duration::from_secs(timeout_secs),
            ))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Staff { command } => {
            let database_url = cli
                .database_url
                .clone()
                .unwrap_or_else(|| config.store.database_url.clone());
            runtime()?.block_on(staff(command, &database_url))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Privacy {
            command: PrivacyCommand::Forget { handle },
        } => {
            let database_url = cli
                .database_url
                .clone()
                .unwrap_or_else(|| config.store.database_url.clone());
            let done = runtime()?.block_on(async {
                let store = kicau::store::Store::connect(&database_url)
                    .await
                    .with_context(|| {
                        format!("opening {}", kicau::store::redact_url(&database_url))
                    })?;
                let done =
                    kicau::privacy::forget(&store, &handle, "cli", kicau::store::now_ms()).await?;
                store.close().await;
                anyhow::Ok(done)
            })?;
            println!(
                "Forgotten: {} conversations, {} tweets, {} tickets (kept, reporter anonymised).",
                done.conversations, done.tweets, done.tickets
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Report { days, json } => {
            let database_url = cli
                .database_url
                .clone()
                .unwrap_or_else(|| config.store.database_url.clone());
            let report = runtime()?.block_on(async {
                let store = kicau::store::Store::connect(&database_url)
                    .await
                    .with_context(|| {
                        format!(
                            "opening the database {}",
                            kicau::store::redact_url(&database_url)
                        )
                    })?;
                let to = kicau::store::now_ms();
                let report = match kicau::report::build(
                    &store,
                    &config.agencies,
                    to - days * 86_400_000,
                    to,
                )
                .await
                {
                    Ok(report) => report.with_costs(&store, &config.costs, to).await,
                    Err(e) => Err(e),
                };
                store.close().await;
                anyhow::Ok(report?)
            })?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", report.text());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Sandbox => {
            runtime()?.block_on(async {
                let shutdown = kicau::run::shutdown_signal();
                kicau::run::run_sandbox(config, shutdown).await
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Ask { text, from, json } => {
            let engine = Engine::load(&config)?;
            let decision = engine.triage(&text);
            let reply = engine.reply(&decision, &from);
            if json {
                let value = serde_json::json!({ "decision": decision, "reply": reply });
                println!("{}", serde_json::to_string_pretty(&value)?);
            } else {
                print!("{}", kicau::triage::describe(&decision, reply.as_deref()));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Kb {
            command:
                KbCommand::Examples {
                    command: ExamplesCommand::Export,
                },
        } => {
            let database_url = cli
                .database_url
                .clone()
                .unwrap_or_else(|| config.store.database_url.clone());
            let written = runtime()?.block_on(export_examples(&config, &database_url))?;
            println!("{written} accepted correction(s) written to the example files");
            Ok(ExitCode::SUCCESS)
        }
        Command::Kb {
            command: KbCommand::Check { strict },
        } => {
            let report = knowledge::check_all(&config, knowledge::today())?;
            for problem in &report.problems {
                println!("{problem}");
            }
            let (errors, warnings) = (
                report.count(Severity::Error),
                report.count(Severity::Warning),
            );
            eprintln!(
                "{} entries, {} saved replies, {} broadcasts, {errors} error(s), {warnings} warning(s)",
                report.entries, report.replies, report.broadcasts
            );
            let failed = errors > 0 || (strict && warnings > 0);
            Ok(if failed {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Eval {
            cases,
            json,
            cv,
            answer_min,
            report_min,
            emergency_min,
            ignore_min,
            epochs,
            rate,
            l2,
            bits,
        } => {
            let start = Instant::now();
            let engine = Engine::load(&config)?;
            let build_ms = start.elapsed().as_millis() as u64;
            let configured = engine.gate();
            let gate = kicau::triage::training::Gate {
                answer_min: answer_min.unwrap_or(configured.answer_min),
                report_min: report_min.unwrap_or(configured.report_min),
                emergency_min: emergency_min.unwrap_or(configured.emergency_min),
                ignore_min: ignore_min.unwrap_or(configured.ignore_min),
            };
            let options = kicau::triage::model::TrainOptions {
                epochs,
                rate,
                l2,
                bits,
                ..kicau::triage::model::TrainOptions::default()
            };
            let report = match (cases, cv) {
                (_, Some(folds)) => {
                    let examples = kicau::eval::load_examples(&config)?;
                    kicau::eval::cross_validate(&engine, &examples, folds, options, gate)
                }
                (Some(cases), None) => {
                    let cases = kicau::eval::read_cases(&cases)?;
                    kicau::eval::evaluate(&engine, gate, &cases, build_ms)
                }
                (None, None) => anyhow::bail!("name a cases file, or --cv N"),
            };
            if json {
                println!("{}", serde_json::to_string(&report.to_json())?);
            } else {
                print!("{}", report.table());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Lang { command } => {
            let lexicon = Lexicon::load(&config.knowledge.lexicon_dir)?;
            let analyzer = Analyzer::new(lexicon);
            match command {
                LangCommand::Normalize { text } => {
                    let analysis = analyzer.analyze(&text);
                    println!("words: {}", analysis.words.join(" "));
                    println!("terms: {}", analysis.terms.join(" "));
                    if !analysis.pii.is_empty() {
                        let kinds: Vec<_> = analysis.pii.iter().map(|p| p.kind).collect();
                        println!("personal data: {kinds:?}");
                    }
                }
                LangCommand::Stif { informal, formal } => {
                    let read = |p: &PathBuf| {
                        std::fs::read_to_string(p)
                            .with_context(|| format!("reading {}", p.display()))
                    };
                    let figures = kicau::language::stif::measure(
                        &analyzer,
                        &read(&informal)?,
                        &read(&formal)?,
                    )?;
                    println!("{figures}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `kicau kb examples export`: accepted corrections into the example files, once each.
async fn export_examples(config: &kicau::Config, database_url: &str) -> anyhow::Result<usize> {
    use kicau::knowledge::examples::Label;
    let store = kicau::store::Store::connect(database_url)
        .await
        .with_context(|| format!("opening {}", kicau::store::redact_url(database_url)))?;
    let desk = kicau::desk::Desk::new(store.clone());
    let accepted = desk.accepted_corrections().await?;
    let dir = config.knowledge.dir.join("examples");
    let mut exported = Vec::new();
    let mut by_file: std::collections::BTreeMap<std::path::PathBuf, Vec<String>> =
        Default::default();
    for c in accepted.iter().filter(|c| !c.exported) {
        let Some(label) = Label::parse(&c.label) else {
            eprintln!("correction {}: unknown label {:?}, skipped", c.id, c.label);
            continue;
        };
        let file = match &label {
            Label::Answer(topic) => dir.join("topics").join(format!("{topic}.txt")),
            Label::Report(agency) => dir.join("agencies").join(format!("{agency}.txt")),
            Label::Emergency => dir.join("emergency.txt"),
            Label::Handoff => dir.join("handoff.txt"),
            Label::Ignore => dir.join("ignore.txt"),
        };
        let line = c.text.split_whitespace().collect::<Vec<_>>().join(" ");
        let existing = std::fs::read_to_string(&file).unwrap_or_default();
        if !existing.lines().any(|l| l.trim() == line) {
            by_file.entry(file).or_default().push(line);
        }
        exported.push(c.id);
    }
    let today = kicau::knowledge::today();
    for (file, lines) in &by_file {
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut existing = std::fs::read_to_string(file).unwrap_or_default();
        if !existing.is_empty() && !existing.ends_with('\n') {
            existing.push('\n');
        }
        existing.push_str(&format!("# accepted corrections, exported {today}\n"));
        for line in lines {
            existing.push_str(line);
            existing.push('\n');
        }
        std::fs::write(file, existing).with_context(|| format!("writing {}", file.display()))?;
        println!("{}: {} line(s)", file.display(), lines.len());
    }
    desk.mark_exported(&exported).await?;
    store.close().await;
    Ok(exported.len())
}

async fn staff(command: StaffCommand, database_url: &str) -> anyhow::Result<()> {
    use kicau::desk::{Role, staff};
    let store = kicau::store::Store::connect(database_url)
        .await
        .with_context(|| format!("opening {}", kicau::store::redact_url(database_url)))?;
    match command {
        StaffCommand::Add {
            name,
            role,
            telegram_id,
        } => {
            let role = Role::parse(&role)
                .with_context(|| format!("unknown role {role:?}: use staff or admin"))?;
            let password = staff::add(&store, &name, role).await?;
            if let Some(id) = telegram_id {
                staff::link_telegram(&store, &name, id).await?;
            }
            println!(
                "Account {name} ({}) created. One-time password (change it at first login):",
                role.as_str()
            );
            println!("{password}");
        }
        StaffCommand::Link { name, telegram_id } => {
            staff::link_telegram(&store, &name, telegram_id).await?;
            println!("{name} is Telegram user {telegram_id} in the staff group.");
        }
        StaffCommand::Token { name } => println!("{}", staff::new_token(&store, &name).await?),
        StaffCommand::Revoke { name } => {
            let n = staff::revoke(&store, &name).await?;
            println!("Revoked {n} token(s) and every session of {name}.");
        }
        StaffCommand::Password { name } => {
            let mut line = String::new();
            std::io::stdin()
                .read_line(&mut line)
                .context("reading the new password from standard input")?;
            staff::set_password(&store, &name, line.trim_end_matches(['\r', '\n'])).await?;
            println!("{name}'s password is set; every session of {name} has ended.");
        }
        StaffCommand::Reset { name } => {
            let password = staff::reset(&store, &name, kicau::store::now_ms()).await?;
            println!(
                "{name} has a new one-time password (valid 24 hours, for one login; every session of {name} has ended):"
            );
            println!("{password}");
        }
        StaffCommand::Unlock { name } => {
            let was =
                kicau::desk::login::unlock(&store, "cli", &name, kicau::store::now_ms()).await?;
            if was {
                println!("{name} is unlocked: the next login is checked as usual.");
            } else {
                println!("{name} was not locked; its count of failed logins is cleared.");
            }
        }
        StaffCommand::List => {
            for a in staff::list(&store).await? {
                println!(
                    "{}\t{}\t{}\t{}",
                    a.name,
                    a.role.as_str(),
                    if a.must_change {
                        "one-time password"
                    } else {
                        "password set"
                    },
                    a.telegram_user_id.as_deref().unwrap_or("-")
                );
            }
        }
    }
    store.close().await;
    Ok(())
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}
