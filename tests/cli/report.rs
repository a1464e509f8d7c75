//! The office lead's figures: `report::build` on SQLite and PostgreSQL over a known set of
//! mentions, tickets and claims; the console's "Ringkasan" page, `/api/report` and `/metrics`;
//! `kicau report` as a process.

use std::sync::Arc;

use kicau::desk::{Actor, Desk, Role};
use kicau::store::{Store, now_ms};
use kicau::tickets::{Mover, TicketState, Tickets};

use crate::helpers::{
    Backends, Console, file_ticket, file_ticket_for, mention_at, repo, shipped_config,
};

/// A mention posted two seconds ago, recorded with `kind`/`rule`; its conversation.
async fn record(store: &Store, id: &str, citizen: &str, kind: &str, rule: &str) -> String {
    mention_at(
        store,
        id,
        citizen,
        "@PemkotMalang min tanya",
        (kind, rule),
        now_ms() - 2_000,
    )
    .await
    .expect("a conversation")
}

#[tokio::test]
async fn the_report_counts_decisions_response_times_and_late_agencies() {
    let config = shipped_config();
    let tickets = Tickets::load(Arc::new(config.clone())).unwrap();
    let agency = Mover {
        name: "DPUPRPKP (@petugas_pu)",
        staff: false,
        note: "",
    };
    let backends = Backends::new().await;
    for (name, store) in &backends.stores {
        let on_time = file_ticket(store, &tickets, "800", "warga40").await;
        let late = file_ticket(store, &tickets, "801", "warga41").await;
        tickets
            .transition(store, &on_time, TicketState::Acknowledged, &agency)
            .await
            .unwrap();
        let due = tickets.get(store, &late).await.unwrap().due_acknowledge;
        tickets.sla_tick(store, due + 1).await.unwrap();
        file_ticket_for(store, &tickets, "802", "warga42", "dlh").await;
        // A hand-off that sari claims, and an answer whose reply went out 1.5 s later.
        let conversation = record(store, "803", "warga43", "handoff", "no_kb_match").await;
        Desk::new(store.clone())
            .claim(
                &conversation,
                &Actor {
                    name: "sari".into(),
                    role: Role::Staff,
                },
            )
            .await
            .unwrap();
        record(store, "804", "warga44", "answer", "kb_answer").await;
        sqlx::query(
            "UPDATE outbox SET state = 'sent', updated_at = $1 WHERE idempotency_key = 'x:reply:804:1'",
        )
        .bind(now_ms() - 500)
        .execute(store.pool())
        .await
        .unwrap();

        let now = now_ms();
        let report = kicau::report::build(store, &config.agencies, now - 3_600_000, now + 1)
            .await
            .unwrap();
        assert_eq!(report.mentions, 5, "{name}");
        assert_eq!(report.decisions.get("report"), Some(&3), "{name}");
        assert_eq!(report.decisions.get("handoff"), Some(&1));
        assert_eq!(report.decisions.get("answer"), Some(&1));
        assert_eq!(report.answered_share, Some(0.2));
        assert_eq!(report.bot_reply.count, 1, "{name}");
        let waited = report.bot_reply.median_ms.unwrap();
        assert!((1_000..3_000).contains(&waited), "{name}: {waited}");
        assert_eq!((report.handed_off, report.time_to_claim.count), (1, 1));
        assert_eq!(report.tickets_filed, 3, "{name}");
        // The late ticket's conversation waits for staff.
        assert_eq!(report.waiting_now, 1, "{name}");
        let first = &report.agencies[0];
        assert_eq!(first.agency, "dpuprpkp", "late agencies first: {name}");
        assert_eq!(
            (
                first.filed,
                first.acknowledged_in_time,
                first.unacknowledged,
                first.active_now,
                first.overdue_now
            ),
            (2, 1, 1, 2, 1),
            "{name}"
        );
        let dlh = report.agencies.iter().find(|a| a.agency == "dlh").unwrap();
        assert_eq!((dlh.filed, dlh.overdue_now), (1, 0));
        // A period before all this is empty.
        let before =
            kicau::report::build(store, &config.agencies, now - 7_200_000, now - 3_600_000)
                .await
                .unwrap();
        assert_eq!((before.mentions, before.bot_reply.count), (0, 0));
        assert!(before.agencies.iter().all(|a| a.filed == 0));

        let metrics = kicau::report::metrics(store, &Default::default())
            .await
            .unwrap();
        for line in [
            "kicau_mentions 5",
            "kicau_decisions{kind=\"report\"} 3",
            "kicau_tickets_overdue{agency=\"dpuprpkp\"} 1",
            "kicau_conversations{state=\"staff\"} 1",
            "# TYPE kicau_outbox gauge",
        ] {
            assert!(
                metrics.lines().any(|l| l == line),
                "{name}: {line}\n{metrics}"
            );
        }
    }
    backends.finish().await;
}

#[tokio::test]
async fn the_summary_page_the_report_api_metrics_and_the_command() {
    use axum::body::Body;
    use axum::http::Request;
    let tickets = Tickets::load(Arc::new(shipped_config())).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("k.db").display());
    let store = Store::connect(&url).await.unwrap();
    file_ticket(&store, &tickets, "810", "warga45").await;
    let (mut console, sari) = Console::signed_in(&store, Some(&tickets)).await;
    let page = console.get("/report?days=30").await;
    assert_eq!(page.status, 200);
    let page = page.body;
    assert!(page.contains("<h1>Ringkasan</h1>"), "{page}");
    assert!(page.contains("DPUPRPKP"), "{page}");
    assert!(page.contains("aria-current=\"page\">30 hari"), "{page}");

    let (status, json) = console
        .api("GET", "/api/report?days=7", Some(&sari.token), None)
        .await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["data"]["decisions"]["report"], 1, "{json}");
    let (status, _) = console
        .api("GET", "/api/report?days=0", Some(&sari.token), None)
        .await;
    assert_eq!(status, 400);

    let metrics = |bearer: bool| {
        let mut request = Request::get("/metrics");
        if bearer {
            request = request.header("authorization", format!("Bearer {}", sari.token));
        }
        console.request(request.body(Body::empty()).unwrap())
    };
    assert_eq!(metrics(false).await.status, 401);
    let text = metrics(true).await;
    assert_eq!(text.status, 200);
    assert!(
        text.body
            .contains("kicau_tickets{agency=\"dpuprpkp\",state=\"open\"} 1"),
        "{}",
        text.body
    );
    store.close().await;

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_kicau"))
        .current_dir(repo())
        .args(["--database-url", &url, "report", "--days", "7"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.starts_with("Ringkasan "), "{text}");
    assert!(text.contains("Laporan jadi tiket: 1"), "{text}");
    assert!(!text.contains("DLH"), "quiet agencies are left out: {text}");
    assert!(text.contains("- DPUPRPKP: 1 laporan baru"), "{text}");
}

#[tokio::test]
async fn the_weekly_summary_reaches_the_staff_group_once_per_week() {
    use time::macros::datetime;
    let config = shipped_config();
    let tickets = Tickets::load(Arc::new(config)).unwrap();
    let backends = Backends::new().await;
    for (name, store) in &backends.stores {
        file_ticket(store, &tickets, "820", "warga46").await;
        let group = kicau::staff_group::StaffGroup {
            desk: Desk::new(store.clone()),
            // Never called: the summary only queues an outbox row.
            client: kicau::channels::telegram::TelegramClient::new("1:x", "http://127.0.0.1:9")
                .unwrap(),
            staff_chat: -1001000000001,
            command_centre: None,
            tickets: Some(tickets.clone()),
            weekly_report: Some((time::Weekday::Monday, 8)),
            lessons: None,
        };
        let ms = |t: time::OffsetDateTime| t.unix_timestamp() * 1000;
        // The first start only notes the week; the next Monday 08:00 WIB sends, once.
        assert!(
            !group
                .weekly_once(ms(datetime!(2026-11-25 10:00 +7)))
                .await
                .unwrap()
        );
        assert!(
            !group
                .weekly_once(ms(datetime!(2026-11-30 07:59 +7)))
                .await
                .unwrap()
        );
        assert!(
            group
                .weekly_once(ms(datetime!(2026-11-30 08:00 +7)))
                .await
                .unwrap()
        );
        assert!(
            !group
                .weekly_once(ms(datetime!(2026-11-30 09:00 +7)))
                .await
                .unwrap()
        );
        let rows: Vec<String> = sqlx::query_scalar::<sqlx::Any, String>(
            "SELECT payload FROM outbox WHERE idempotency_key LIKE 'tg:weekly:%'",
        )
        .fetch_all(store.pool())
        .await
        .unwrap();
        assert_eq!(rows.len(), 1, "{name}");
        let payload: serde_json::Value = serde_json::from_str(&rows[0]).unwrap();
        assert_eq!(payload["chat_id"], -1001000000001i64);
        let text = payload["text"].as_str().unwrap();
        assert!(text.starts_with("📊 <b>Ringkasan mingguan</b>"), "{text}");
        assert!(
            text.contains("Ringkasan 2026-11-23T01:00:00Z s.d. 2026-11-30T01:00:00Z"),
            "{text}"
        );
        // The week after.
        assert!(
            group
                .weekly_once(ms(datetime!(2026-12-07 08:00 +7)))
                .await
                .unwrap()
        );
    }
    backends.finish().await;
}
