//! "Celah pengetahuan" (knowledge gaps): the period's hand-offs grouped by
//! [`crate::report::gaps`], as a page linked from "Ringkasan" (`/report/gaps`) and as JSON
//! (`/api/report/gaps`). Each hand-off is read with the engine in use: its salient words
//! through the language module, and the closest knowledge entry through the same search the
//! console's knowledge search asks, kept only when it is confident.

use axum::Json;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::{Caller, PageSession};
use super::pages::{layout, must_change};
use super::report_pages::periods;
use super::{ApiError, AppState, esc, wib_time};
use crate::report::gaps::{self, Example, Gaps, Reading, Topic};
use crate::triage::Engine;

/// The closest entry names a group ("mirip topik") when it holds at least this weighted share
/// of the hand-off's search terms: most of what was asked is in the entry.
const CONFIDENT_COVERAGE: f32 = 0.75;
/// The period unless asked, in days.
const DEFAULT_DAYS: i64 = 30;

#[derive(Deserialize)]
pub struct GapsQuery {
    days: Option<i64>,
}

/// How one hand-off reads with `engine`.
fn read(engine: &Engine, text: &str) -> Reading {
    if text.trim().is_empty() {
        return Reading::default();
    }
    let decision = engine.triage(text);
    let topic = decision
        .evidence
        .candidates
        .first()
        .filter(|c| c.coverage >= CONFIDENT_COVERAGE && !c.matched.is_empty())
        .and_then(|c| engine.entry(&c.topic))
        .map(|entry| Topic {
            id: entry.id.clone(),
            title: entry.title.clone(),
        });
    Reading {
        terms: gaps::salient_terms(engine.analyzer(), text),
        topic,
    }
}

/// The gaps of the `days` days before `to`. Reading runs the engine once per hand-off, so it
/// runs beside the request handlers, not on them.
async fn gaps_of(state: &AppState, days: i64, to: i64) -> Result<Gaps, ApiError> {
    let from = to - days * 86_400_000;
    let (list, total) = gaps::handoffs(state.desk.store(), from, to).await?;
    let engine = state.engine.get();
    tokio::task::spawn_blocking(move || {
        let items = list
            .into_iter()
            .map(|handoff| {
                let reading = read(&engine, &handoff.text);
                (handoff, reading)
            })
            .collect();
        gaps::group(from, to, total, items)
    })
    .await
    .map_err(|e| ApiError::Internal(format!("grouping the hand-offs failed: {e}")))
}

/// `GET /api/report/gaps?days=30`: the knowledge gaps as JSON.
pub async fn api(
    State(state): State<AppState>,
    _caller: Caller,
    Query(query): Query<GapsQuery>,
) -> Result<Json<Value>, ApiError> {
    let days = query.days.unwrap_or(DEFAULT_DAYS);
    if !(1..=366).contains(&days) {
        return Err(ApiError::BadRequest("days harus 1 sampai 366".into()));
    }
    let gaps = gaps_of(&state, days, crate::store::now_ms()).await?;
    Ok(Json(json!({ "data": gaps })))
}

/// `GET /report/gaps?days=30`: the knowledge gaps as a page, largest group first.
pub async fn page(
    State(state): State<AppState>,
    PageSession(session): PageSession,
    Query(query): Query<GapsQuery>,
) -> Response {
    if let Some(redirect) = must_change(&session) {
        return redirect;
    }
    let days = query.days.unwrap_or(DEFAULT_DAYS).clamp(1, 366);
    let gaps = match gaps_of(&state, days, crate::store::now_ms()).await {
        Ok(gaps) => gaps,
        Err(e) => return e.into_response(),
    };
    layout(
        "Celah pengetahuan",
        Some(&session),
        None,
        &body(&gaps, days),
    )
    .into_response()
}

/// The page's content.
fn body(gaps: &Gaps, days: i64) -> String {
    let grouped: usize = gaps.groups.iter().map(|g| g.count).sum();
    let mut out = format!(
        "<p><a href=\"/report?days={days}\">← Ringkasan</a></p>{periods}\
         <p>{from} s.d. {to}</p>\
         <p class=\"note\">Pertanyaan yang diteruskan bot ke petugas karena belum bisa dijawab \
         sendiri (hand-off; darurat tidak termasuk), dikelompokkan: menurut entri basis \
         pengetahuan yang paling mirip bila pencarian yakin (\"mirip topik\": entrinya ada, \
         tetapi perlu contoh pertanyaan atau jawaban yang lebih lengkap), selain itu menurut \
         kata yang dipakai bersama (judul kelompok). Kelompok terbesar di atas: tulis entrinya \
         lebih dulu. Data pribadi disamarkan.</p>",
        periods = periods("/report/gaps", days, &[7, 30, 90]),
        from = esc(&wib_time(gaps.from)),
        to = esc(&wib_time(gaps.to)),
    );
    if gaps.handoffs == 0 {
        out.push_str("<p class=\"empty\">Belum ada hand-off pada periode ini.</p>");
        return out;
    }
    let mut summary = format!(
        "{} hand-off: {grouped} dalam {} kelompok, {} belum berkelompok.",
        gaps.handoffs,
        gaps.groups.len(),
        gaps.ungrouped.count
    );
    if gaps.forgotten > 0 {
        summary.push_str(&format!(
            " {} tidak dibaca karena teksnya sudah dihapus (privasi).",
            gaps.forgotten
        ));
    }
    let read = grouped + gaps.ungrouped.count + gaps.forgotten;
    if read < gaps.handoffs {
        summary.push_str(&format!(" Yang dibaca: {read} terbaru."));
    }
    out.push_str(&format!("<p class=\"gaps-summary\">{}</p>", esc(&summary)));
    out.push_str("<ol class=\"gaps\">");
    for gap in &gaps.groups {
        let words = gap.words.join(", ");
        let (title, detail) = match &gap.topic {
            Some(topic) => (
                format!("Mirip topik: {}", topic.title),
                if words.is_empty() {
                    String::new()
                } else {
                    format!("Kata yang sama: {words}")
                },
            ),
            None => (words, String::new()),
        };
        out.push_str(&format!(
            "<li><h2>{title} <small>{count} hand-off</small></h2>{detail}{examples}{more}</li>",
            title = esc(&title),
            count = gap.count,
            detail = if detail.is_empty() {
                String::new()
            } else {
                format!("<p class=\"note\">{}</p>", esc(&detail))
            },
            examples = examples(&gap.examples),
            more = more(gap.count, gap.examples.len()),
        ));
    }
    out.push_str("</ol>");
    if gaps.ungrouped.count > 0 {
        out.push_str(&format!(
            "<h2>Belum berkelompok <small>{} hand-off</small></h2>\
             <p class=\"note\">Tidak berbagi kata dengan pertanyaan lain pada periode ini.</p>{}{}",
            gaps.ungrouped.count,
            examples(&gaps.ungrouped.examples),
            more(gaps.ungrouped.count, gaps.ungrouped.examples.len()),
        ));
    }
    out.push_str(&format!(
        "<p class=\"note\">Juga sebagai JSON di <code>/api/report/gaps?days={days}</code>.</p>"
    ));
    out
}

/// A group's examples, latest first.
fn examples(list: &[Example]) -> String {
    let items: String = list
        .iter()
        .map(|e| {
            format!(
                "<li><span class=\"meta\">{}</span> <span class=\"text\">{}</span></li>",
                esc(&wib_time(e.at)),
                esc(&e.text)
            )
        })
        .collect();
    format!("<ul class=\"examples\">{items}</ul>")
}

/// "dan N lainnya" under a group whose examples are not all of it.
fn more(count: usize, shown: usize) -> String {
    if count > shown {
        format!("<p class=\"note\">dan {} lainnya</p>", count - shown)
    } else {
        String::new()
    }
}
