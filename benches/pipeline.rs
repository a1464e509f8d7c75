//! Mentions per second through the listener, triage and into the outbox.
//!
//! `cargo bench --bench pipeline` posts 10,000 citizen mentions to an in-process X sandbox, in
//! rounds of 500 (under X's 800-mention window), and times the bot reading them (all pages, one
//! transaction with the cursor) and deciding each one (decision, conversation, ticket or location
//! question, and replies in one transaction), with tickets on as `kicau run` has them.
//! It runs on SQLite, and on PostgreSQL too when `KICAU_BENCH_POSTGRES_URL` (or
//! `KICAU_TEST_POSTGRES_URL`) names a database whose user may create databases. It prints figures;
//! it asserts nothing.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kicau::Config;
use kicau::channels::x::XClient;
use kicau::run::{Service, sandbox_credentials, sandbox_settings};
use kicau::sandbox::serve_x;
use kicau::store::Store;
use kicau::triage::Engine;

const MENTIONS: usize = 10_000;
const ROUND: usize = 500;
const TEXTS: [&str; 6] = [
    "min syarat bikin kk baru apa aja?",
    "lampu jalan di jl tidar mati semua, tolong diperbaiki",
    "pemkot ada beasiswa kuliah gak?",
    "gimana cara bayar pbb online?",
    "sampah di tps deket pasar numpuk gak diangkut",
    "tolong ada kebakaran rumah di jl kawi sekarang apinya gede!!",
];

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = Config::load(&root.join("bot.toml")).unwrap();
    let engine = Arc::new(Engine::load(&config).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let mut targets = vec![(
        "sqlite",
        format!("sqlite://{}", dir.path().join("bench.db").display()),
    )];
    if let Ok(admin) = std::env::var("KICAU_BENCH_POSTGRES_URL")
        .or_else(|_| std::env::var("KICAU_TEST_POSTGRES_URL"))
    {
        let url = runtime.block_on(fresh_postgres(&admin));
        targets.push(("postgres", url));
    } else {
        eprintln!("PostgreSQL skipped: set KICAU_BENCH_POSTGRES_URL to include it");
    }
    for (name, url) in targets {
        let rate = runtime.block_on(run(&config, engine.clone(), &url));
        println!(
            "{name}: {MENTIONS} mentions through listener, triage and outbox: {rate:.0} mentions/s"
        );
    }
}

async fn run(config: &Config, engine: Arc<Engine>, url: &str) -> f64 {
    let mut settings = sandbox_settings(config);
    settings.rate_limit = 1_000_000;
    let sandbox = serve_x(settings, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let store = Store::connect(url).await.unwrap();
    let x = XClient::new(
        &sandbox.x_url(),
        kicau::channels::x::Auth::OAuth1(sandbox_credentials(&config.sandbox)),
    );
    let (me, _) = x.me().await.unwrap();
    let service = Service {
        engine: Arc::new(kicau::triage::live::Live::new(engine)),
        store: store.clone(),
        x,
        account_id: me.id,
        account: me.username,
        poll_interval: Duration::from_millis(200),
        desk: kicau::desk::Desk::new(store.clone()),
        tickets: Some(kicau::tickets::Tickets::load(Arc::new(config.clone())).unwrap()),
        mention_lease: None,
        budget: kicau::costs::Budget::new(store.clone(), Default::default()),
    };
    let http = reqwest::Client::new();
    let mut busy = Duration::ZERO;
    let mut posted = 0;
    while posted < MENTIONS {
        for i in posted..(posted + ROUND).min(MENTIONS) {
            let text = format!(
                "@{} {} (#{i})",
                config.account.handle,
                TEXTS[i % TEXTS.len()]
            );
            http.post(format!("{}/2/tweets", sandbox.x_url()))
                .header(
                    "Authorization",
                    format!("Bearer sandbox-user:warga{}", i % 200),
                )
                .json(&serde_json::json!({"text": text}))
                .send()
                .await
                .unwrap();
        }
        posted = (posted + ROUND).min(MENTIONS);
        let start = Instant::now();
        service.poll_once().await.unwrap();
        while service.work_once().await.unwrap() {}
        busy += start.elapsed();
    }
    store.close().await;
    sandbox.stop();
    MENTIONS as f64 / busy.as_secs_f64()
}

async fn fresh_postgres(admin: &str) -> String {
    use sqlx::Connection as _;
    let name = format!("kicau_bench_{}", std::process::id());
    let mut conn = sqlx::PgConnection::connect(admin).await.unwrap();
    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
        .execute(&mut conn)
        .await;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .unwrap();
    let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(admin);
    format!("{base}/{name}")
}
