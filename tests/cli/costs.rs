//! What the platforms cost: billed units recorded once per resource and day on both stores; the
//! month's spending in the report, on "Ringkasan" and in /metrics; the staff group warned once
//! per budget threshold; at a spent budget with `essential`, answers go to staff untweeted while
//! emergencies are still answered; and the bot's own accounting of a running deployment against
//! the sandbox's, which counts as X does.

use std::time::Duration;

use kicau::config::{AtBudget, CostsConfig};
use kicau::store::usage::UsageUnit;
use kicau::store::{Store, now_ms};
use sqlx::Row as _;

use crate::helpers::{Backends, Deployment, Sandbox};

const DAY: i64 = 24 * 3600 * 1000;

fn unit<'a>(unit: &'a str, resource: &'a str, daily: bool) -> UsageUnit<'a> {
    UsageUnit {
        unit,
        resource,
        daily,
    }
}

#[tokio::test]
async fn a_resource_is_counted_once_a_day_and_priced_in_the_report() {
    let backends = Backends::new().await;
    let costs = CostsConfig {
        monthly_budget_usd: 1.0,
        idr_per_usd: 16_000.0,
        ..CostsConfig::default()
    };
    for (name, store) in &backends.stores {
        // Noon UTC on the 10th, so that "tomorrow" is the same month.
        let now = 1_796_904_000_000; // 2026-12-10T12:00:00Z
        let read = [
            unit("x.own_mentions_read", "1001", true),
            unit("x.own_mentions_read", "1002", true),
            unit("x.users_read", "42", true),
        ];
        assert_eq!(store.record_usage(&read, now).await.unwrap(), 3, "{name}");
        // The same posts and user again that day: X bills them once.
        assert_eq!(
            store.record_usage(&read, now + 1000).await.unwrap(),
            0,
            "{name}"
        );
        // The next day they are billed again.
        assert_eq!(
            store.record_usage(&read, now + DAY).await.unwrap(),
            3,
            "{name}"
        );
        // A reply with a link, and a WhatsApp status delivered twice (a redelivered webhook).
        let sent = [
            unit("x.posts_with_url", "2001", false),
            unit("whatsapp.utility", "wamid.A", false),
            unit("whatsapp.utility", "wamid.A", false),
        ];
        assert_eq!(
            store.record_usage(&sent, now + DAY).await.unwrap(),
            2,
            "{name}"
        );
        let spending = kicau::costs::month_to_date(store, &costs, now + DAY)
            .await
            .unwrap();
        // 4 mentions x 0.001 + 2 users x 0.010 + 1 URL post x 0.200 = 0.224; 1 utility 0.020.
        assert!(
            (spending.x_usd - 0.224).abs() < 1e-9,
            "{name}: {spending:?}"
        );
        assert!((spending.whatsapp_usd - 0.020).abs() < 1e-9, "{name}");
        assert!(spending.projected_usd > spending.total_usd, "{name}");
        assert_eq!(spending.threshold(), None, "{name}: 24% of the budget");
        let text = spending.text();
        assert!(text.contains("post berisi tautan: 1 x US$0,200"), "{text}");
        assert!(text.contains("terpakai 24%"), "{text}");
        assert!(text.contains("Rp"), "{text}");
        // The report carries it, as text and as JSON.
        let report = kicau::report::build(store, &[], now, now + DAY)
            .await
            .unwrap()
            .with_costs(store, &costs, now + DAY)
            .await
            .unwrap();
        assert!(report.text().contains("Biaya platform bulan ini"), "{name}");
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["spending"]["lines"][0]["unit"], "x.own_mentions_read");
        // Retention keeps the counts and drops the ids once their day is over.
        assert_eq!(store.prune_usage(now + 4 * DAY).await.unwrap(), 8, "{name}");
        let after = kicau::costs::month_to_date(store, &costs, now + DAY)
            .await
            .unwrap();
        assert_eq!(after.total_usd, spending.total_usd, "{name}");
        // /metrics shows the month.
        let metrics = kicau::report::metrics(store, &costs).await.unwrap();
        assert!(
            metrics.contains("kicau_cost_budget_usd 1.000000"),
            "{metrics}"
        );
    }
    backends.finish().await;
}

/// The staff group's budget warnings queued so far.
async fn warnings(store: &Store) -> Vec<String> {
    sqlx::query(
        "SELECT idempotency_key FROM outbox WHERE idempotency_key LIKE 'tg:budget:%' ORDER BY id",
    )
    .fetch_all(store.pool())
    .await
    .unwrap()
    .iter()
    .map(|r| r.get::<String, _>(0))
    .collect()
}

#[tokio::test]
async fn the_staff_group_is_warned_once_per_threshold() {
    let backends = Backends::new().await;
    let costs = CostsConfig {
        monthly_budget_usd: 1.0,
        at_budget: AtBudget::Essential,
        ..CostsConfig::default()
    };
    for (name, store) in &backends.stores {
        let desk = kicau::desk::Desk::new(store.clone());
        let group = kicau::staff_group::StaffGroup {
            desk,
            // Never called: warnings only become outbox rows here.
            client: kicau::channels::telegram::TelegramClient::new("1:x", "http://127.0.0.1:9")
                .unwrap(),
            staff_chat: -1001000000001,
            command_centre: None,
            tickets: None,
            weekly_report: None,
            lessons: None,
        };
        let now = now_ms();
        let spend = |n: usize, from: usize| {
            (from..from + n)
                .map(|i| format!("p{i}"))
                .collect::<Vec<String>>()
        };
        let record = |ids: Vec<String>| async move {
            let units: Vec<UsageUnit> = ids
                .iter()
                .map(|id| unit("x.posts_created", id, false))
                .collect();
            store.record_usage(&units, now).await.unwrap();
        };
        assert!(!group.budget_once(&costs, now).await.unwrap(), "{name}");
        // 30 posts x 0.015 = 0.45: under half.
        record(spend(30, 0)).await;
        assert!(!group.budget_once(&costs, now).await.unwrap(), "{name}");
        // 34 posts: 0.51, past 50%: one warning, and only one however often it is asked.
        record(spend(4, 30)).await;
        assert!(group.budget_once(&costs, now).await.unwrap(), "{name}");
        assert!(!group.budget_once(&costs, now).await.unwrap(), "{name}");
        // 54 posts: 0.81, past 80%.
        record(spend(20, 34)).await;
        assert!(group.budget_once(&costs, now).await.unwrap(), "{name}");
        assert!(!group.budget_once(&costs, now).await.unwrap(), "{name}");
        // 67 posts: 1.005, spent.
        record(spend(13, 54)).await;
        assert!(group.budget_once(&costs, now).await.unwrap(), "{name}");
        assert!(!group.budget_once(&costs, now).await.unwrap(), "{name}");
        let keys = warnings(store).await;
        let month = &kicau::store::usage::utc_day(now)[..7];
        assert_eq!(
            keys,
            [50, 80, 100]
                .iter()
                .map(|t| format!("tg:budget:{month}:{t}:-1001000000001"))
                .collect::<Vec<_>>(),
            "{name}"
        );
        let last: String = sqlx::query(
            "SELECT payload FROM outbox WHERE idempotency_key LIKE 'tg:budget:%:100:%'",
        )
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get(0);
        assert!(last.contains("100% dari anggaran"), "{last}");
        assert!(last.contains("hanya yang penting dikirim"), "{last}");
        // No budget, no warnings.
        let none = CostsConfig::default();
        assert!(!group.budget_once(&none, now).await.unwrap(), "{name}");
    }
    backends.finish().await;
}

/// The bot's month as it recorded it, read from its database.
async fn bot_units(d: &Deployment) -> std::collections::BTreeMap<String, i64> {
    let store = Store::connect(&d.database_url()).await.unwrap();
    let now = now_ms();
    let day = kicau::store::usage::utc_day(now);
    let units = store
        .usage_between(&format!("{}-01", &day[..7]), &day)
        .await
        .unwrap()
        .into_iter()
        .collect();
    store.close().await;
    units
}

#[tokio::test]
async fn at_a_spent_budget_answers_go_to_staff_and_emergencies_are_still_answered() {
    // A budget the first mention read spends.
    let mut d = Deployment::start_with(|toml| {
        toml.set("costs.monthly_budget_usd", 0.001)
            .set("costs.at_budget", "essential");
    })
    .await;
    d.start_bot().await;
    let sandbox = d.sandbox();
    let question = sandbox
        .post_as(
            "warga_hemat",
            "@PemkotMalang min syarat bikin kk baru apa aja?",
        )
        .await;
    let store = Store::connect(&d.database_url()).await.unwrap();
    let state = || async {
        sqlx::query("SELECT c.state, c.reason FROM conversations c WHERE c.id = $1")
            .bind(format!("c{question}"))
            .fetch_optional(store.pool())
            .await
            .unwrap()
            .map(|r| (r.get::<String, _>(0), r.get::<Option<String>, _>(1)))
    };
    let (conversation_state, reason) = d
        .wait_for(
            Duration::from_secs(60),
            "the question to reach staff",
            || async { state().await.filter(|(s, _)| s == "waiting_staff") },
        )
        .await;
    assert_eq!(conversation_state, "waiting_staff");
    assert_eq!(reason.as_deref(), Some("budget_essential"));
    let emergency = sandbox
        .post_as(
            "warga_darurat",
            "@PemkotMalang tolong ada kebakaran rumah di jl kawi sekarang apinya gede!!",
        )
        .await;
    let replies = d
        .wait_for(Duration::from_secs(60), "the emergency's reply", || async {
            let replies = sandbox.replies_to(&emergency).await;
            (!replies.is_empty()).then_some(replies)
        })
        .await;
    assert!(replies[0].contains("112"), "{replies:?}");
    assert!(
        sandbox.replies_to(&question).await.is_empty(),
        "the knowledge answer was posted at a spent budget"
    );
    let units = bot_units(&d).await;
    assert_eq!(units.get("x.summoned_replies"), Some(&1), "{units:?}");
    store.close().await;
}

#[tokio::test]
async fn the_bots_accounting_matches_the_sandboxs() {
    let mut d = Deployment::start().await;
    d.start_bot().await;
    let sandbox: &Sandbox = d.sandbox();
    let texts = [
        "@PemkotMalang min syarat bikin kk baru apa aja?",
        "@PemkotMalang gimana cara bayar pbb online?",
        "@PemkotMalang halo min, makasih",
        "@PemkotMalang jual followers murah cek bio",
        "@PemkotMalang min ada lowongan kerja di pemkot gak?",
    ];
    let mut posted = Vec::new();
    for (i, text) in texts.iter().enumerate() {
        // Two citizens, so users are read once each.
        posted.push(
            sandbox
                .post_as(&format!("warga_biaya{}", i % 2), text)
                .await,
        );
    }
    let store = Store::connect(&d.database_url()).await.unwrap();
    d.wait_until(
        Duration::from_secs(90),
        "every mention decided and sent",
        || async {
            let done: i64 = sqlx::query("SELECT COUNT(*) FROM inbox WHERE state = 'done'")
                .fetch_one(store.pool())
                .await
                .unwrap()
                .get(0);
            let open: i64 = sqlx::query(
            "SELECT COUNT(*) FROM outbox WHERE channel = 'x' AND state IN ('pending', 'sending')",
        )
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get(0);
            done as usize >= posted.len() && open == 0
        },
    )
    .await;
    store.close().await;
    let ours = bot_units(&d).await;
    let theirs = sandbox.get("/sandbox/x/usage").await;
    for unit in [
        "own_mentions_read",
        "posts_read",
        "users_read",
        "posts_created",
        "summoned_replies",
        "posts_with_url",
    ] {
        let sandbox_count = theirs["total"]["units"][unit].as_i64().unwrap_or(0);
        let bot_count = ours.get(&format!("x.{unit}")).copied().unwrap_or(0);
        assert_eq!(
            bot_count, sandbox_count,
            "{unit}: the bot counted {bot_count}, the sandbox {sandbox_count} ({theirs})"
        );
    }
    assert_eq!(
        ours.get("x.own_mentions_read"),
        Some(&(posted.len() as i64))
    );
}
