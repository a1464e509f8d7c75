//! Issue 14: `report::build` gives the period day by day in WIB, on SQLite and PostgreSQL.

use kicau::desk::{Actor, Desk, Role};
use kicau::store::{Store, now_ms};

use crate::helpers::{Backends, mention_at, shipped_config};

/// Records mention `id` of citizen `warga<id>` saying `text`, decided `kind`, a minute ago.
async fn said(store: &Store, id: &str, text: &str, kind: &str) -> Option<String> {
    let rule = match kind {
        "answer" => "kb_answer",
        "handoff" => "model_unsure",
        _ => "model_report",
    };
    mention_at(
        store,
        id,
        &format!("warga{id}"),
        text,
        (kind, rule),
        now_ms() - 60_000,
    )
    .await
}

#[tokio::test]
async fn the_report_counts_each_day_in_wib_on_both_backends() {
    let backends = Backends::new().await;
    for (name, store) in &backends.stores {
        said(
            store,
            "901",
            "@PemkotMalang jadwal samsat keliling",
            "answer",
        )
        .await;
        said(
            store,
            "902",
            "@PemkotMalang jadwal samsat hari ini",
            "answer",
        )
        .await;
        let conversation = said(store, "903", "@PemkotMalang minta tolong", "handoff")
            .await
            .expect("a conversation");
        let sari = Actor {
            name: "sari".into(),
            role: Role::Staff,
        };
        let desk =
            Desk::new(store.clone()).with_splitter(kicau::tweet::Splitter::new("PemkotMalang", 10));
        desk.claim(&conversation, &sari).await.unwrap();
        desk.reply(&conversation, &sari, "Baik kak, kami cek dulu ya.")
            .await
            .unwrap();

        let now = now_ms();
        let config = shipped_config();
        let report = kicau::report::build(store, &config.agencies, now - 7 * 86_400_000, now)
            .await
            .unwrap();
        // Seven days back from now cover eight calendar days in Malang (unless now is midnight).
        assert!(
            (7..=8).contains(&report.daily.len()),
            "{name}: {:?}",
            report.daily
        );
        let today = report.daily.last().unwrap();
        assert_eq!(
            today.start,
            kicau::report::day_start(kicau::report::day_of(now))
        );
        assert_eq!(today.decisions.get("answer"), Some(&2), "{name}: {today:?}");
        assert_eq!(today.decisions.get("handoff"), Some(&1), "{name}");
        assert_eq!(
            (today.answered_by_bot, today.answered_by_staff),
            (2, 1),
            "{name}"
        );
        assert_eq!(today.time_to_claim.count, 1, "{name}");
        let earlier: i64 = report.daily[..report.daily.len() - 1]
            .iter()
            .map(|d| d.decisions.values().sum::<i64>() + d.answered_by_staff)
            .sum();
        assert_eq!(earlier, 0, "{name}");
        // The day's date is the calendar day in Malang.
        let wib = time::OffsetDateTime::from_unix_timestamp(now / 1000)
            .unwrap()
            .to_offset(time::UtcOffset::from_hms(7, 0, 0).unwrap());
        assert_eq!(
            today.date,
            format!(
                "{}-{:02}-{:02}",
                wib.year(),
                u8::from(wib.month()),
                wib.day()
            )
        );
    }
    backends.finish().await;
}
