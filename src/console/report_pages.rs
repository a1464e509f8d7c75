//! "Ringkasan", the office lead's summary page: the period's figures, their charts (decisions
//! per day, who answered, reply and claim times, the agencies on time and late), the agencies'
//! table and the month's platform costs. The figures come from [`crate::report`]; the charts
//! are drawn by [`super::charts`].

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::auth::PageSession;
use super::charts::{self, Bar, Chart, Column, Layout, Unit};
use super::pages::{layout, must_change};
use super::{AppState, esc, wib_day};
use crate::desk::staff::Session;
use crate::report::{AgencyFigures, Durations, Report, human};
use crate::store::now_ms;

#[derive(Deserialize)]
pub struct ReportQuery {
    days: Option<i64>,
}

/// The decision kinds in the order the charts pile them, with their names and styles.
const KINDS: [(&str, &str, usize); 5] = [
    ("answer", "Dijawab bot", 0),
    ("report", "Laporan", 1),
    ("handoff", "Ke petugas", 2),
    ("emergency", "Darurat", 3),
    ("ignore", "Diabaikan", 4),
];

/// The office lead's summary of the last `days` days (7 unless asked): volumes, the bot's
/// share, response times, and the agencies, latest first.
pub async fn report(
    State(state): State<AppState>,
    PageSession(session): PageSession,
    Query(query): Query<ReportQuery>,
) -> Response {
    if let Some(redirect) = must_change(&session) {
        return redirect;
    }
    let days = query.days.unwrap_or(7).clamp(1, 366);
    let report = match super::api::report_of(&state, days, now_ms()).await {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    page(&session, &report, days)
}

/// A page's period links (`PATH?days=N`), the current one marked.
pub(super) fn periods(path: &str, days: i64, choices: &[i64]) -> String {
    let mut links = String::new();
    for n in choices {
        links.push_str(&format!(
            "<a href=\"{path}?days={n}\"{}>{n} hari</a> ",
            if *n == days {
                " aria-current=\"page\""
            } else {
                ""
            }
        ));
    }
    format!("<p class=\"filters\">Periode: {links}</p>")
}

fn page(session: &Session, report: &Report, days: i64) -> Response {
    let d = |d: &Durations| match (d.median_ms, d.p90_ms) {
        (Some(m), Some(p)) => format!(
            "{} <small>(90% dalam {}; n={})</small>",
            human(m),
            human(p),
            d.count
        ),
        _ => "<small>belum ada data</small>".to_owned(),
    };
    let kind = |k: &str| *report.decisions.get(k).unwrap_or(&0);
    let mut rows = String::new();
    for a in report.agencies.iter().filter(|a| a.active()) {
        let cell = |label: &str, value: String| format!("<td data-label=\"{label}\">{value}</td>");
        rows.push_str(&format!(
            "<tr class=\"{class}\"><td>{name}</td>{}{}{}{}{}{}{}{}{}</tr>",
            cell("Laporan baru", a.filed.to_string()),
            cell("Diterima tepat waktu", a.acknowledged_in_time.to_string()),
            cell("Diterima terlambat", a.acknowledged_late.to_string()),
            cell("Belum diterima", a.unacknowledged.to_string()),
            cell("Waktu menerima", d(&a.time_to_acknowledge)),
            cell("Selesai", a.resolved.to_string()),
            cell("Aktif sekarang", a.active_now.to_string()),
            cell("Lewat batas", a.overdue_now.to_string()),
            cell("Surat teguran", a.warning_letters_now.to_string()),
            class = if a.overdue_now > 0 { "urgent" } else { "" },
            name = esc(&a.short_name),
        ));
    }
    let corrected = esc(&report.corrected_text());
    let body = format!(
        "{periods}<p>{from} s.d. {to}</p>\
         <table class=\"figures\"><tbody>\
         <tr><th>Mention masuk</th><td>{mentions}</td></tr>\
         <tr><th>Dijawab bot</th><td>{answers}{share}</td></tr>\
         <tr><th>Laporan jadi tiket</th><td>{reports}</td></tr>\
         <tr><th>Darurat</th><td>{emergencies}</td></tr>\
         <tr><th>Diteruskan ke petugas (termasuk darurat)</th><td>{handoffs}</td></tr>\
         <tr><th>Keputusan bot yang dikoreksi petugas</th><td>{corrected}</td></tr>\
         <tr><th>Diabaikan</th><td>{ignored}</td></tr>\
         <tr><th>Waktu balasan bot</th><td>{bot}</td></tr>\
         <tr><th>Waktu sampai diambil petugas</th><td>{claim}</td></tr>\
         <tr><th>Menunggu petugas sekarang</th><td>{waiting}</td></tr>\
         </tbody></table>\
         <p class=\"next\"><a href=\"/report/gaps?days={gap_days}\">Celah pengetahuan</a>: \
         pertanyaan yang diteruskan ke petugas, dikelompokkan, untuk menentukan entri basis \
         pengetahuan yang perlu ditulis berikutnya.</p>\
         {charts}\
         <h2>Instansi</h2><p class=\"note\">Yang lewat batas waktu di atas.</p>{agency_chart}\
         <table class=\"stack compact\"><thead><tr><th>Instansi</th><th>Laporan baru</th><th>Diterima tepat waktu</th>\
         <th>Diterima terlambat</th><th>Belum diterima</th><th>Waktu menerima</th><th>Selesai</th>\
         <th>Aktif sekarang</th><th>Lewat batas</th><th>Surat teguran</th></tr></thead><tbody>{rows}</tbody></table>{quiet}\
         {costs}<p class=\"note\">Juga sebagai JSON di <code>/api/report?days={days}</code> dan untuk Prometheus di <code>/metrics</code>.</p>",
        periods = periods("/report", days, &[1, 7, 30, 90]),
        from = esc(&super::wib_time(report.from)),
        to = esc(&super::wib_time(report.to)),
        mentions = report.mentions,
        answers = kind("answer"),
        share = report
            .answered_share
            .map(|s| format!(
                " <small>({:.0}% dari yang perlu ditanggapi)</small>",
                s * 100.0
            ))
            .unwrap_or_default(),
        reports = report.tickets_filed,
        emergencies = kind("emergency"),
        handoffs = report.handed_off,
        ignored = kind("ignore"),
        bot = d(&report.bot_reply),
        claim = d(&report.time_to_claim),
        waiting = report.waiting_now,
        gap_days = days.max(7),
        charts = daily_charts(report, days),
        agency_chart = agency_chart(&report.agencies),
        costs = report
            .spending
            .as_ref()
            .map(super::cost_pages::spending_section)
            .unwrap_or_default(),
        quiet = if report.agencies.iter().any(|a| a.active()) {
            ""
        } else {
            "<p class=\"empty\">Tidak ada laporan pada periode ini.</p>"
        },
    );
    layout("Ringkasan", Some(session), None, &body).into_response()
}

/// The charts of the period day by day (week by week past a month: 90 thin columns say less
/// than 13), with the patterns they share.
fn daily_charts(report: &Report, days: i64) -> String {
    let (buckets, per, unit_name, busiest_word) = if days > 31 {
        (
            &report.weekly,
            "per minggu",
            "Minggu",
            "Minggu tersibuk: mulai",
        )
    } else {
        (&report.daily, "per hari", "Hari", "Hari tersibuk:")
    };
    let labels: Vec<String> = buckets.iter().map(|d| wib_day(d.start)).collect();
    let column = |i: usize, values: Vec<Option<i64>>| Column {
        label: labels[i].clone(),
        values,
    };

    let series: Vec<(&str, usize)> = KINDS.iter().map(|(_, name, s)| (*name, *s)).collect();
    let per_kind: Vec<Column> = (0..buckets.len())
        .map(|i| {
            let day = &buckets[i];
            column(
                i,
                KINDS
                    .iter()
                    .map(|(k, _, _)| Some(day.decisions.get(*k).copied().unwrap_or(0)))
                    .collect(),
            )
        })
        .collect();
    let total: i64 = report.decisions.values().sum();
    let busiest = buckets
        .iter()
        .enumerate()
        .map(|(i, d)| (d.decisions.values().sum::<i64>(), i))
        .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)))
        .filter(|(n, _)| *n > 0)
        .map(|(n, i)| format!(" {busiest_word} {} ({n}).", labels[i]))
        .unwrap_or_default();
    let parts: Vec<String> = KINDS
        .iter()
        .map(|(k, name, _)| {
            format!(
                "{} {}",
                name.to_lowercase(),
                report.decisions.get(*k).unwrap_or(&0)
            )
        })
        .collect();
    let kinds_summary = format!(
        "{total} keputusan dalam {days} hari: {}.{busiest}",
        parts.join(", ")
    );
    let title = format!("Mention {per} menurut keputusan bot");
    let decisions = charts::columns(
        &Chart {
            id: "grafik-keputusan",
            title: &title,
            summary: &kinds_summary,
            series: &series,
            unit: Unit::Count,
        },
        Layout::Stacked,
        &per_kind,
    );

    let by_bot: i64 = buckets.iter().map(|d| d.answered_by_bot).sum();
    let by_staff: i64 = buckets.iter().map(|d| d.answered_by_staff).sum();
    let share_summary = if by_bot + by_staff > 0 {
        format!(
            "Bot menjawab sendiri {by_bot} mention; petugas membalas di {by_staff} percakapan. \
             Bagian bot: {:.0}%.",
            100.0 * by_bot as f64 / (by_bot + by_staff) as f64
        )
    } else {
        String::new()
    };
    let who = charts::columns(
        &Chart {
            id: "grafik-penjawab",
            title: "Siapa yang menjawab: bot atau petugas",
            summary: &share_summary,
            series: &[("Dijawab bot", 0), ("Dibalas petugas", 5)],
            unit: Unit::Count,
        },
        Layout::Stacked,
        &buckets
            .iter()
            .enumerate()
            .map(|(i, d)| column(i, vec![Some(d.answered_by_bot), Some(d.answered_by_staff)]))
            .collect::<Vec<_>>(),
    );

    let times = |id: &str,
                 title: &str,
                 whole: &Durations,
                 of: fn(&crate::report::Day) -> &Durations| {
        let summary = match (whole.median_ms, whole.p90_ms) {
            (Some(m), Some(p)) => format!(
                "Seluruh periode: median {}, 90% dalam {} (n={}). {unit_name} tanpa data dibiarkan kosong.",
                human(m),
                human(p),
                whole.count
            ),
            _ => String::new(),
        };
        let per_day: Vec<Column> = buckets
            .iter()
            .enumerate()
            .map(|(i, d)| column(i, vec![of(d).median_ms, of(d).p90_ms]))
            .collect();
        charts::columns(
            &Chart {
                id,
                title,
                summary: &summary,
                series: &[("Median", 0), ("90% selesai dalam", 5)],
                unit: Unit::Millis,
            },
            Layout::Grouped,
            &per_day,
        )
    };
    let reply = times(
        "grafik-balasan",
        &format!("Waktu balasan bot {per}"),
        &report.bot_reply,
        |d| &d.bot_reply,
    );
    let claim = times(
        "grafik-diambil",
        &format!("Waktu sampai diambil petugas {per}"),
        &report.time_to_claim,
        |d| &d.time_to_claim,
    );
    format!(
        "<section class=\"charts\" aria-labelledby=\"grafik\"><h2 id=\"grafik\">Grafik</h2>{defs}\
         <div class=\"chart-grid\">{decisions}{who}{reply}{claim}</div></section>",
        defs = charts::defs(),
    )
}

/// The agencies' tickets of the period: on time, late, not yet acknowledged; by name, the
/// latest first.
fn agency_chart(agencies: &[AgencyFigures]) -> String {
    let mut filed: Vec<&AgencyFigures> = agencies.iter().filter(|a| a.filed > 0).collect();
    // Most late tickets first; of two as many, the one late with the larger share of its own
    // (late/filed, compared crosswise in integers), then the one with more unacknowledged.
    filed.sort_by(|a, b| {
        b.acknowledged_late
            .cmp(&a.acknowledged_late)
            .then((b.acknowledged_late * a.filed).cmp(&(a.acknowledged_late * b.filed)))
            .then((b.unacknowledged, b.filed).cmp(&(a.unacknowledged, a.filed)))
            .then_with(|| a.short_name.cmp(&b.short_name))
    });
    let late: i64 = filed.iter().map(|a| a.acknowledged_late).sum();
    let pending: i64 = filed.iter().map(|a| a.unacknowledged).sum();
    let total: i64 = filed.iter().map(|a| a.filed).sum();
    let worst = filed
        .first()
        .filter(|a| a.acknowledged_late > 0)
        .map(|a| {
            format!(
                " Paling sering terlambat: {} ({} dari {}).",
                a.short_name, a.acknowledged_late, a.filed
            )
        })
        .unwrap_or_default();
    let summary = format!(
        "{total} laporan baru ke {} instansi: {} diterima tepat waktu, {late} terlambat, \
         {pending} belum diterima.{worst}",
        filed.len(),
        filed.iter().map(|a| a.acknowledged_in_time).sum::<i64>(),
    );
    let bars: Vec<Bar> = filed
        .iter()
        .map(|a| Bar {
            label: a.short_name.clone(),
            name: a.name.clone(),
            values: vec![
                a.acknowledged_in_time,
                a.acknowledged_late,
                a.unacknowledged,
            ],
        })
        .collect();
    format!(
        "<div class=\"chart-grid\">{}</div>",
        charts::bars(
            &Chart {
                id: "grafik-instansi",
                title: "Laporan baru per instansi: diterima tepat waktu atau terlambat",
                summary: &summary,
                series: &[("Tepat waktu", 2), ("Terlambat", 3), ("Belum diterima", 4)],
                unit: Unit::Count,
            },
            &bars,
            "laporan",
        )
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agency(short: &str, filed: i64, late: i64) -> AgencyFigures {
        AgencyFigures {
            agency: short.to_lowercase(),
            name: format!("Dinas {short}"),
            short_name: short.to_owned(),
            filed,
            acknowledged_in_time: filed - late,
            acknowledged_late: late,
            unacknowledged: 0,
            time_to_acknowledge: Durations::default(),
            resolved: 0,
            active_now: filed,
            overdue_now: 0,
            warning_letters_now: 0,
        }
    }

    #[test]
    fn the_latest_agency_is_named_by_count_then_by_share() {
        let html = agency_chart(&[
            agency("DLH", 5, 1),
            agency("Dishub", 3, 1),
            agency("BPBD", 4, 0),
        ]);
        assert!(
            html.contains("Paling sering terlambat: Dishub (1 dari 3)."),
            "{html}"
        );
        // Bars in that order, by name, never by id.
        let order: Vec<usize> = ["Dishub", "DLH", "BPBD"]
            .iter()
            .map(|name| html.find(&format!(">{name}<title>")).unwrap())
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{html}");
        assert!(!html.contains(">dishub<"), "{html}");
    }
}
