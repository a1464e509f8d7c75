//! What 1,000 mentions cost on X, end to end, under each `[x] links_in_replies` setting.
//!
//! `cargo bench --bench costs` posts 1,000 citizen mentions to an in-process X sandbox (the
//! texts of ../shared/eval/dev.jsonl in turn, from 600 citizens: some write more than once),
//! and runs the bot's listener, worker and dispatcher over them with the shipped bot.toml, on
//! SQLite. The bot records what X bills for every request; the sandbox counts the same as X's
//! price list does. It prints both, and the cost in US dollars at the shipped prices, per
//! setting. Agencies' progress on tickets (each ticket's later status tweets) is not simulated:
//! the README's estimate adds it. It prints figures; it asserts nothing but that the bot's
//! counts and the sandbox's agree.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use kicau::Config;
use kicau::channels::billing::Unit;
use kicau::channels::x::XClient;
use kicau::config::LinksInReplies;
use kicau::run::{Service, record_billed, sandbox_credentials, sandbox_settings};
use kicau::sandbox::serve_x;
use kicau::store::Store;
use kicau::triage::Engine;

const MENTIONS: usize = 1_000;
const CITIZENS: usize = 600;
const ROUND: usize = 250;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let texts: Vec<String> = std::fs::read_to_string(root.join("../shared/eval/dev.jsonl"))
        .expect("../shared/eval/dev.jsonl")
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["text"].as_str().map(str::to_owned))
        .collect();
    for setting in [
        LinksInReplies::Always,
        LinksInReplies::OnRequest,
        LinksInReplies::Never,
    ] {
        let mut config = Config::load(&root.join("bot.toml")).unwrap();
        config.x.links_in_replies = setting;
        let (units, sandbox_units) = runtime.block_on(run(&config, &texts));
        let mut usd = 0.0;
        println!("links_in_replies = {setting:?}: {MENTIONS} mentions from {CITIZENS} citizens");
        for unit in Unit::ALL {
            let n = units.get(unit.name()).copied().unwrap_or(0);
            if n == 0 {
                continue;
            }
            let price = kicau::costs::price(&config.costs, unit);
            usd += n as f64 * price;
            let theirs = sandbox_units
                .get(unit.name().trim_start_matches("x."))
                .copied()
                .unwrap_or(0);
            println!(
                "  {:<22} bot {n:>5}  sandbox {theirs:>5}  x ${price:.3} = ${:.2}",
                unit.name(),
                n as f64 * price
            );
            assert_eq!(
                n,
                theirs,
                "the bot and the sandbox disagree on {}",
                unit.name()
            );
        }
        println!("  total ${usd:.2} per {MENTIONS} mentions");
    }
}

/// Runs the bot over the mentions; the bot's units and the sandbox's.
async fn run(config: &Config, texts: &[String]) -> (BTreeMap<String, i64>, BTreeMap<String, i64>) {
    let engine = Arc::new(Engine::load(config).unwrap());
    let mut settings = sandbox_settings(config);
    settings.rate_limit = 1_000_000;
    let sandbox = serve_x(settings, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("costs.db").display());
    let store = Store::connect(&url).await.unwrap();
    let x = XClient::new(
        &sandbox.x_url(),
        kicau::channels::x::Auth::OAuth1(sandbox_credentials(&config.sandbox)),
    );
    let (me, billed) = x.me().await.unwrap();
    record_billed(&store, &billed).await;
    let service = Service {
        engine: Arc::new(kicau::triage::live::Live::new(engine)),
        store: store.clone(),
        x,
        account_id: me.id,
        account: me.username,
        poll_interval: std::time::Duration::from_millis(200),
        desk: kicau::desk::Desk::new(store.clone()),
        tickets: Some(kicau::tickets::Tickets::load(Arc::new(config.clone())).unwrap()),
        mention_lease: None,
        budget: kicau::costs::Budget::new(store.clone(), Default::default()),
    };
    let http = reqwest::Client::new();
    let mut posted = 0;
    while posted < MENTIONS {
        for i in posted..(posted + ROUND).min(MENTIONS) {
            let text = format!("{} (#{i})", texts[i % texts.len()]);
            http.post(format!("{}/2/tweets", sandbox.x_url()))
                .header(
                    "Authorization",
                    format!("Bearer sandbox-user:warga{}", i % CITIZENS),
                )
                .json(&serde_json::json!({"text": text}))
                .send()
                .await
                .unwrap();
        }
        posted = (posted + ROUND).min(MENTIONS);
        service.poll_once().await.unwrap();
        while service.work_once().await.unwrap() {}
        while service.dispatch_once().await.unwrap() {}
    }
    let day = kicau::store::usage::utc_day(kicau::store::now_ms());
    let ours = store
        .usage_between(&day, &day)
        .await
        .unwrap()
        .into_iter()
        .collect();
    let usage: serde_json::Value = http
        .get(format!("{}/sandbox/x/usage", sandbox.x_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let theirs = usage["total"]["units"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.as_i64().unwrap_or(0)))
        .collect();
    store.close().await;
    sandbox.stop();
    (ours, theirs)
}
