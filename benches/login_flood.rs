//! The console under a password-guessing flood.
//!
//! `cargo bench --bench login_flood` serves the console on loopback over a SQLite file, as
//! `kicau run` does, and a second process (this program again) sends 32 concurrent streams of wrong passwords to `POST /login` for
//! 10 seconds: half against one real account, half against names that do not exist (each
//! costing a hash, so names cannot be probed by timing). Meanwhile a staff member's API calls
//! (`GET /api/conversations`) are timed one after another. It prints the API's median and 99th
//! percentile latency, the logins answered by kind, and the process's RSS before, at its
//! highest during, and after the flood. Targets (issue 12): median under 20 ms, RSS under
//! 200 MB. It asserts nothing.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use kicau::Config;
use kicau::console::{AppState, serve};
use kicau::desk::{Desk, Role, staff};
use kicau::store::Store;
use kicau::triage::Engine;

const STREAMS: usize = 32;
const FLOOD: Duration = Duration::from_secs(10);

fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    // The guessers run in a second process (this program again), so that the RSS measured is
    // the console's alone.
    match std::env::var("KICAU_FLOOD_TARGET") {
        Ok(base) => runtime.block_on(guess(base)),
        Err(_) => runtime.block_on(flood()),
    }
}

/// The attacker: `STREAMS` concurrent streams of wrong passwords for `FLOOD`; prints the
/// answers by kind on one line.
async fn guess(base: String) {
    let (refused, waited, other) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
    );
    let running = Arc::new(AtomicBool::new(true));
    let mut streams = Vec::new();
    for i in 0..STREAMS {
        let (base, running) = (base.clone(), running.clone());
        let (refused, waited, other) = (refused.clone(), waited.clone(), other.clone());
        streams.push(tokio::spawn(async move {
            let http = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap();
            let page = http.get(format!("{base}/login")).send().await.unwrap();
            let csrf = page
                .headers()
                .get_all("set-cookie")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .find_map(|v| v.strip_prefix("kicau_login_csrf="))
                .and_then(|v| v.split(';').next())
                .unwrap()
                .to_owned();
            let mut n = 0u64;
            while running.load(Ordering::Relaxed) {
                n += 1;
                let name = if i % 2 == 0 {
                    "sari".to_owned()
                } else {
                    format!("tamu{i}x{n}")
                };
                let r = http
                    .post(format!("{base}/login"))
                    .header("cookie", format!("kicau_login_csrf={csrf}"))
                    .form(&[
                        ("csrf", csrf.as_str()),
                        ("name", &name),
                        ("password", "tebakan-salah"),
                    ])
                    .send()
                    .await
                    .unwrap();
                match r.status().as_u16() {
                    303 => refused.fetch_add(1, Ordering::Relaxed),
                    429 => waited.fetch_add(1, Ordering::Relaxed),
                    _ => other.fetch_add(1, Ordering::Relaxed),
                };
            }
        }));
    }
    tokio::time::sleep(FLOOD).await;
    running.store(false, Ordering::Relaxed);
    for s in streams {
        s.await.unwrap();
    }
    println!(
        "logins answered: {} checked and refused, {} told to wait (429), {} other",
        refused.load(Ordering::Relaxed),
        waited.load(Ordering::Relaxed),
        other.load(Ordering::Relaxed)
    );
}

async fn flood() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = Config::load(&root.join("bot.toml")).unwrap();
    let engine = Arc::new(Engine::load(&config).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&format!(
        "sqlite://{}",
        dir.path().join("flood.db").display()
    ))
    .await
    .unwrap();
    let otp = staff::add(&store, "sari", Role::Staff).await.unwrap();
    staff::change_password(&store, "sari", &otp, "kata-sandi-baru-sari", None)
        .await
        .unwrap();
    let token = staff::new_token(&store, "sari").await.unwrap();
    let state = AppState {
        newsroom: kicau::announce::Newsroom::new(
            config.announce.clone(),
            kicau::tweet::Splitter::new(&config.account.handle, 10),
        ),
        desk: Desk::new(store.clone()),
        engine: Arc::new(kicau::triage::live::Live::new(engine)),
        account: config.account.handle.clone(),
        secure_cookies: false,
        tickets: None,
        whatsapp: None,
        logins: Arc::new(kicau::desk::login::LoginGuard::default()),
        trusted_proxies: Vec::new(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (_stop, shutdown) = tokio::sync::watch::channel(false);
    tokio::spawn(serve(listener, state, shutdown));
    let http = reqwest::Client::new();
    let api = |http: reqwest::Client| {
        let (base, token) = (base.clone(), token.clone());
        async move {
            let start = Instant::now();
            let r = http
                .get(format!("{base}/api/conversations"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success());
            start.elapsed()
        }
    };
    let mut quiet = Vec::new();
    for _ in 0..200 {
        quiet.push(api(http.clone()).await);
    }
    let before = rss_mb();

    let attacker = std::process::Command::new(std::env::current_exe().unwrap())
        .env("KICAU_FLOOD_TARGET", &base)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let mut during = Vec::new();
    let mut peak = before;
    while start.elapsed() < FLOOD {
        during.push(api(http.clone()).await);
        peak = peak.max(rss_mb());
        if std::env::var("KICAU_FLOOD_TRACE").is_ok() && during.len() % 100 == 0 {
            eprintln!(
                "{:>5.1}s RSS {:.0} MB",
                start.elapsed().as_secs_f64(),
                rss_mb()
            );
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let answered = attacker.wait_with_output().unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = rss_mb();
    let ms = |mut v: Vec<Duration>, p: f64| {
        v.sort();
        v[((v.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1000.0
    };
    println!(
        "API latency quiet: median {:.2} ms, p99 {:.2} ms ({} calls)",
        ms(quiet.clone(), 0.5),
        ms(quiet, 0.99),
        200
    );
    println!(
        "API latency during {STREAMS} streams of wrong passwords for {}s: median {:.2} ms, p99 {:.2} ms ({} calls)",
        FLOOD.as_secs(),
        ms(during.clone(), 0.5),
        ms(during.clone(), 0.99),
        during.len()
    );
    print!("{}", String::from_utf8_lossy(&answered.stdout));
    println!(
        "RSS of the console's process: {before:.0} MB before, {peak:.0} MB at most during, {after:.0} MB after"
    );
}
