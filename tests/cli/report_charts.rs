//! Issue 14: "Ringkasan" draws its figures as charts with text alternatives (day by day in WIB,
//! agencies by name), `report::build` gives the days on SQLite and PostgreSQL, and "Celah
//! pengetahuan" groups the period's hand-offs, as a page and as JSON.

use std::sync::Arc;

use kicau::desk::{Actor, Desk, Role};
use kicau::store::{Store, now_ms};
use kicau::tickets::Tickets;
use serde_json::Value;

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
    // Patterns as well as colours, defined once; the way to the knowledge gaps.
    assert_eq!(page.matches("<pattern id=\"kc-3\"").count(), 1);
    assert!(page.contains("fill=\"url(#kc-"), "{page}");
    assert!(page.contains("<a href=\"/report/gaps?days=7\">Celah pengetahuan</a>"));

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

/// The hand-offs of the gaps test: two about a first KTP (an entry exists), three about
/// swimming pools (none), one about nothing else, with a phone number.
const HANDOFFS: [(&str, &str); 6] = [
    (
        "921",
        "@PemkotMalang anak saya sudah 17 tahun, bikin ktp pertama kali gimana caranya",
    ),
    (
        "922",
        "@PemkotMalang cara rekam ktp pemula untuk anak umur 17 tahun",
    ),
    (
        "923",
        "@PemkotMalang kolam renang umum di kota malang buka jam berapa",
    ),
    (
        "924",
        "@PemkotMalang kolam renang yang murah di malang dimana ya",
    ),
    (
        "925",
        "@PemkotMalang tiket kolam renang gajayana berapa sekarang",
    ),
    (
        "926",
        "@PemkotMalang kucing tetangga hilang, hubungi 081234567890",
    ),
];

#[tokio::test]
async fn the_knowledge_gaps_group_hand_offs_by_topic_and_by_shared_words() {
    let (store, _dir) = sqlite().await;
    for (id, text) in HANDOFFS {
        said(&store, id, text, "handoff").await;
    }
    said(&store, "927", "@PemkotMalang kolam renang buka?", "answer").await;
    let (mut console, sari) = Console::signed_in(&store, None).await;

    let (status, json) = console
        .api("GET", "/api/report/gaps?days=30", Some(&sari.token), None)
        .await;
    assert_eq!(status, 200, "{json}");
    let data = &json["data"];
    assert_eq!(data["handoffs"], 6, "answers are no gaps: {json}");
    let groups = data["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2, "{json:#}");
    let pools = &groups[0];
    assert_eq!(pools["count"], 3, "{json:#}");
    assert_eq!(pools["topic"], Value::Null);
    assert_eq!(pools["words"][0], "kolam", "{json:#}");
    assert_eq!(pools["words"][1], "renang", "{json:#}");
    assert_eq!(pools["examples"].as_array().unwrap().len(), 3);
    let ktp = &groups[1];
    assert_eq!(ktp["count"], 2, "{json:#}");
    assert_eq!(ktp["topic"]["id"], "ktp-baru", "{json:#}");
    assert_eq!(data["ungrouped"]["count"], 1);
    let lone = data["ungrouped"]["examples"][0]["text"].as_str().unwrap();
    assert!(
        lone.starts_with("kucing") && !lone.contains("081234567890"),
        "{lone}"
    );

    let page = console.get("/report/gaps?days=30").await;
    assert_eq!(page.status, 200);
    let page = page.body;
    assert!(page.contains("<h1>Celah pengetahuan</h1>"), "{page}");
    assert!(
        page.contains("6 hand-off: 5 dalam 2 kelompok, 1 belum berkelompok."),
        "{page}"
    );
    assert!(page.contains("<h2>kolam, renang"), "{page}");
    assert!(
        page.contains("<h2>Mirip topik: Membuat KTP-el pertama kali <small>2 hand-off</small>"),
        "{page}"
    );
    assert!(page.contains("kucing tetangga hilang"), "{page}");
    assert!(!page.contains("081234567890"), "{page}");
    assert!(page.contains("aria-current=\"page\">30 hari"), "{page}");

    // The period is checked as the report's is; a token is needed.
    for bad in ["0", "367", "abc"] {
        let (status, json) = console
            .api(
                "GET",
                &format!("/api/report/gaps?days={bad}"),
                Some(&sari.token),
                None,
            )
            .await;
        assert_eq!(status, 400, "{bad}: {json}");
        assert!(json["error"].is_string(), "{bad}: {json}");
    }
    let (status, json) = console.api("GET", "/api/report/gaps", None, None).await;
    assert_eq!(status, 401, "{json}");
    // A period without hand-offs.
    let (empty, _dir) = sqlite().await;
    let (mut console, _) = Console::signed_in(&empty, None).await;
    let page = console.get("/report/gaps").await.body;
    assert!(
        page.contains("Belum ada hand-off pada periode ini."),
        "{page}"
    );
}
