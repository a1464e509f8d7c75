//! Issue 14: "Ringkasan" draws its figures as charts with text alternatives (day by day in WIB,
//! agencies by name), and `report::build` gives the days on SQLite and PostgreSQL.

use std::sync::Arc;

use kicau::desk::{Actor, Desk, Role};
use kicau::store::{Store, now_ms};
use kicau::tickets::Tickets;

use crate::helpers::{Backends, Console, file_ticket, mention_at, shipped_config, sqlite};

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

#[tokio::test]
async fn the_summary_draws_its_charts_with_text_alternatives() {
    let (store, _dir) = sqlite().await;
    let tickets = Tickets::load(Arc::new(shipped_config())).unwrap();
    file_ticket(&store, &tickets, "910", "warga910").await;
    said(&store, "911", "@PemkotMalang jam buka mpp", "answer").await;
    said(&store, "912", "@PemkotMalang tolong dibantu", "handoff").await;
    let (mut console, _) = Console::signed_in(&store, Some(&tickets)).await;
    let page = console.get("/report?days=7").await;
    assert_eq!(page.status, 200);
    let page = page.body;

    // Five charts, each a named image with a description and its figures in a table.
    for id in [
        "grafik-keputusan",
        "grafik-penjawab",
        "grafik-balasan",
        "grafik-diambil",
        "grafik-instansi",
    ] {
        assert!(
            page.contains(&format!("<figure class=\"chart\" id=\"{id}\">")),
            "{id}\n{page}"
        );
    }
    let drawn = page.matches("role=\"img\"").count();
    assert_eq!(drawn, page.matches("<desc id=\"grafik-").count());
    assert_eq!(
        drawn,
        page.matches("<summary>Data grafik dalam tabel</summary>")
            .count()
    );
    assert!(drawn >= 3, "{page}");
    assert!(page.contains("aria-label=\"Mention per hari menurut keputusan bot\""));
    assert!(page.contains("aria-describedby=\"grafik-keputusan-desc\""));
    assert!(page.contains("viewBox=\"0 0 340 "), "scales with the page");
    // Nothing measured yet: the time charts say so instead of drawing an empty frame.
    assert!(page.contains("Belum ada data pada periode ini."), "{page}");
    // Today's column, labelled as people read the day in Malang.
    let today = kicau::console::wib_day(now_ms());
    assert!(
        page.contains(&format!("<th scope=\"row\">{today}</th>")),
        "{today}\n{page}"
    );
    let (weekday, date) = today.split_once(' ').unwrap();
    assert!(page.contains(&format!(">{weekday}</tspan>")), "{page}");
    // "7 Des", or "7" where the month was written on an earlier label.
    let number = date.split(' ').next().unwrap();
    assert!(
        page.contains(&format!(">{date}</tspan>")) || page.contains(&format!(">{number}</tspan>")),
        "{page}"
    );
    assert!(
        page.contains("3 keputusan dalam 7 hari: dijawab bot 1, laporan 1, ke petugas 1"),
        "{page}"
    );
    // Agencies by the names of bot.toml, never by their ids; no ISO dates on the page.
    assert!(
        page.contains(">DPUPRPKP<title>Dinas Pekerjaan Umum"),
        "{page}"
    );
    assert!(!page.contains("dpuprpkp"), "{page}");
    let iso = regex::Regex::new(r"\d{4}-\d{2}-\d{2}").unwrap();
    assert!(!iso.is_match(&page), "{page}");
    // Patterns as well as colours, defined once.
    assert_eq!(page.matches("<pattern id=\"kc-3\"").count(), 1);
    assert!(page.contains("fill=\"url(#kc-"), "{page}");

    // A quiet console: every chart says there is nothing yet.
    let (empty, _dir) = sqlite().await;
    let (mut console, _) = Console::signed_in(&empty, Some(&tickets)).await;
    let page = console.get("/report?days=1").await.body;
    assert_eq!(
        page.matches("Belum ada data pada periode ini.").count(),
        5,
        "{page}"
    );
    assert!(!page.contains("role=\"img\""), "{page}");
}
