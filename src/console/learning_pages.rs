//! Where staff teach the bot: the "Keputusan yang benar" form under each of the bot's decisions
//! on a conversation page, the "Koreksi" page where an admin accepts or drops corrections, and
//! the state of the running engine with its reload button (and the error of a failed load, with
//! its `file:line`).

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::auth::PageSession;
use super::pages::{back_with, layout, must_change, refuse_form};
use super::{AppState, esc};
use crate::desk::corrections::NewCorrection;
use crate::desk::{DecisionRecord, DeskError, Role};
use crate::triage::Engine;

/// Every label staff may choose, as stored (`answer <topic>`, ...) with how it reads.
pub fn label_choices(engine: &Engine) -> Vec<(String, String)> {
    let mut out = vec![
        ("emergency".to_owned(), "Darurat (112)".to_owned()),
        ("handoff".to_owned(), "Serahkan ke petugas".to_owned()),
        ("ignore".to_owned(), "Abaikan (spam, ejekan)".to_owned()),
    ];
    for agency in &engine.config().agencies {
        out.push((
            format!("report {}", agency.id),
            format!("Laporkan ke {}", agency.short_name),
        ));
    }
    for entry in engine.entries() {
        out.push((
            format!("answer {}", entry.id),
            format!("Jawab: {} ({})", entry.title, entry.id),
        ));
    }
    out
}

/// Whether `label` names something the engine knows.
pub fn valid_label(engine: &Engine, label: &str) -> bool {
    label_choices(engine)
        .iter()
        .any(|(value, _)| value == label)
}

/// A decision as a label: `answer kk`, `report dlh`, `handoff`...
pub fn decided_label(d: &DecisionRecord) -> String {
    match (d.kind.as_str(), &d.topic, &d.agency) {
        ("answer", Some(topic), _) => format!("answer {topic}"),
        ("report", _, Some(agency)) => format!("report {agency}"),
        (kind, _, _) => kind.to_owned(),
    }
}

/// The form under one of the bot's decisions on a conversation page.
pub fn correction_form(
    engine: &Engine,
    conversation: &str,
    d: &DecisionRecord,
    csrf: &str,
) -> String {
    let decided = decided_label(d);
    let options: String = label_choices(engine)
        .into_iter()
        .map(|(value, text)| {
            format!(
                "<option value=\"{v}\"{selected}>{t}</option>",
                v = esc(&value),
                t = esc(&text),
                selected = if value == decided { " selected" } else { "" },
            )
        })
        .collect();
    format!(
        "<form method=\"post\" action=\"/conversations/{id}/correct\" class=\"correct\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <input type=\"hidden\" name=\"tweet_id\" value=\"{tweet}\">\
         <label>Keputusan yang benar <select name=\"label\">{options}</select></label>\
         <input name=\"note\" placeholder=\"catatan (opsional)\" maxlength=\"200\">\
         <button type=\"submit\">Kirim koreksi</button></form>",
        id = esc(conversation),
        csrf = esc(csrf),
        tweet = esc(&d.tweet_id),
    )
}

#[derive(Deserialize)]
pub struct CorrectForm {
    csrf: String,
    tweet_id: String,
    label: String,
    #[serde(default)]
    note: String,
}

/// `POST /conversations/{id}/correct`: proposes a correction of the decision on one of the
/// conversation's tweets.
pub async fn correct(
    State(state): State<AppState>,
    PageSession(session): PageSession,
    Path(id): Path<String>,
    Form(form): Form<CorrectForm>,
) -> Response {
    if let Some(refused) = refuse_form(&session, &form.csrf) {
        return refused;
    }
    let message = match propose(
        &state,
        &session.actor,
        &id,
        &form.tweet_id,
        &form.label,
        &form.note,
    )
    .await
    {
        Ok(c) => format!("Koreksi #{} dikirim untuk ditinjau admin.", c.id),
        Err(DeskError::Store(e)) => return super::ApiError::from(e).into_response(),
        Err(e) => e.to_string(),
    };
    back_with(
        &format!(
            "/conversations/{}",
            crate::channels::x::oauth1::percent_encode(&id)
        ),
        &message,
    )
}

/// Proposes a correction of the decision on `tweet_id` in conversation `id` (the console's form
/// and the API share it).
pub async fn propose(
    state: &AppState,
    actor: &crate::desk::Actor,
    id: &str,
    tweet_id: &str,
    label: &str,
    note: &str,
) -> Result<crate::desk::corrections::Correction, DeskError> {
    let engine = state.engine.get();
    if !valid_label(&engine, label) {
        return Err(DeskError::Invalid(format!(
            "keputusan tidak dikenal: {label}"
        )));
    }
    let detail = state.desk.detail(id).await?;
    let decision = detail
        .decisions
        .iter()
        .find(|d| d.tweet_id == tweet_id)
        .ok_or_else(|| DeskError::Invalid("twit ini tidak ada di percakapan ini".into()))?;
    let text = detail
        .messages
        .iter()
        .find(|m| m.direction == "in" && m.tweet_id.as_deref() == Some(tweet_id))
        .map(|m| m.text.clone())
        .ok_or_else(|| DeskError::Invalid("teks twit tidak ditemukan".into()))?;
    // The account's own handle is not part of what the citizen asked.
    let handle = format!("@{}", state.account);
    let text = text
        .split_whitespace()
        .filter(|w| !w.eq_ignore_ascii_case(&handle))
        .collect::<Vec<_>>()
        .join(" ");
    let decided = decided_label(decision);
    state
        .desk
        .propose_correction(
            actor,
            &NewCorrection {
                conversation_id: Some(id),
                tweet_id: Some(tweet_id),
                text: &text,
                label,
                decided: &decided,
                decided_kind: &decision.kind,
                note,
            },
        )
        .await
}

#[derive(Deserialize, Default)]
pub struct CorrectionsQuery {
    state: Option<String>,
    msg: Option<String>,
}

/// `GET /corrections`: the corrections waiting for review (or another state), and the engine.
pub async fn corrections(
    State(state): State<AppState>,
    PageSession(session): PageSession,
    Query(query): Query<CorrectionsQuery>,
) -> Response {
    if let Some(redirect) = must_change(&session) {
        return redirect;
    }
    let wanted = query.state.as_deref().unwrap_or("pending");
    let filter = (wanted != "all").then_some(wanted);
    let list = match state.desk.corrections(filter, 200).await {
        Ok(list) => list,
        Err(e) => return super::ApiError::from(e).into_response(),
    };
    let admin = session.actor.role == Role::Admin;
    let csrf = esc(&session.csrf);
    let engine = state.engine.get();
    let texts: std::collections::HashMap<String, String> =
        label_choices(&engine).into_iter().collect();
    let readable = |label: &str| {
        texts
            .get(label)
            .cloned()
            .unwrap_or_else(|| label.to_owned())
    };
    let mut rows = String::new();
    for c in &list {
        let actions = if admin && c.state == "pending" {
            format!(
                "<form method=\"post\" action=\"/corrections/{id}/accept\" class=\"inline\">\
                 <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
                 <button type=\"submit\">Terima</button></form>\
                 <form method=\"post\" action=\"/corrections/{id}/drop\" class=\"inline\">\
                 <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
                 <button type=\"submit\" class=\"secondary\">Tolak</button></form>",
                id = c.id
            )
        } else {
            let state = match c.state.as_str() {
                "accepted" if c.exported => "diterima, sudah di berkas contoh",
                "accepted" => "diterima",
                "dropped" => "ditolak",
                _ => "menunggu admin",
            };
            format!(
                "{state}{by}",
                by = c
                    .reviewed_by
                    .as_deref()
                    .map(|b| format!(" oleh {}", esc(b)))
                    .unwrap_or_default()
            )
        };
        let conversation = c
            .conversation_id
            .as_deref()
            .map(|id| {
                format!(
                    "<a href=\"/conversations/{0}\">lihat percakapan</a>",
                    esc(id)
                )
            })
            .unwrap_or_default();
        rows.push_str(&format!(
            "<tr><td>#{id}</td><td class=\"text\">{text}{note}<div class=\"meta\">{conversation}</div></td>\
             <td>{decided}</td><td><strong>{label}</strong></td><td>{by}<div class=\"meta\">{at}</div></td>\
             <td>{actions}</td></tr>",
            id = c.id,
            text = esc(&c.text),
            note = if c.note.is_empty() {
                String::new()
            } else {
                format!("<div class=\"meta\">catatan: {}</div>", esc(&c.note))
            },
            decided = esc(&readable(&c.decided)),
            label = esc(&readable(&c.label)),
            by = esc(&c.created_by),
            at = esc(&crate::store::rfc3339(c.created_at)),
        ));
    }
    let tabs: String = [
        ("pending", "Menunggu"),
        ("accepted", "Diterima"),
        ("dropped", "Ditolak"),
        ("all", "Semua"),
    ]
    .iter()
    .map(|(value, text)| {
        if *value == wanted {
            format!("<strong>{text}</strong> ")
        } else {
            format!("<a href=\"/corrections?state={value}\">{text}</a> ")
        }
    })
    .collect();
    let table = if list.is_empty() {
        "<p class=\"empty\">Tidak ada koreksi di sini.</p>".to_owned()
    } else {
        format!(
            "<div class=\"scroll\"><table><thead><tr><th>No.</th><th>Twit warga</th><th>Keputusan bot</th>\
             <th>Keputusan yang benar</th><th>Dari</th><th></th></tr></thead><tbody>{rows}</tbody></table></div>"
        )
    };
    let body = format!(
        "<p>Koreksi dari petugas atas keputusan bot. Setelah diterima admin, koreksi langsung menjadi \
         contoh belajar bot di semua instans; <code>kicau kb examples export</code> menuliskannya ke \
         berkas contoh.</p><p class=\"tabs\">{tabs}</p>{table}{engine}",
        engine = engine_section(&state, admin, &csrf),
    );
    layout(
        "Koreksi keputusan bot",
        Some(&session),
        query.msg.as_deref(),
        &body,
    )
    .into_response()
}

/// The running engine: what it learned from, when, and the last failed load's error.
fn engine_section(state: &AppState, admin: bool, csrf: &str) -> String {
    let status = state.engine.status();
    let error = status
        .error
        .as_deref()
        .map(|e| {
            format!(
                "<div class=\"error\" role=\"alert\"><p><strong>Basis pengetahuan terakhir gagal dimuat \
                 ({at}); bot tetap memakai versi sebelumnya.</strong> Perbaiki berkas berikut:</p>\
                 <pre>{e}</pre></div>",
                at = esc(&crate::store::rfc3339(status.failed_at.unwrap_or(0))),
                e = esc(e),
            )
        })
        .unwrap_or_default();
    let button = if admin {
        format!(
            "<form method=\"post\" action=\"/knowledge/reload\" class=\"inline\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <button type=\"submit\">Muat ulang basis pengetahuan</button></form>"
        )
    } else {
        String::new()
    };
    format!(
        "<section class=\"engine\"><h2>Mesin keputusan</h2>{error}\
         <p>Belajar dari {examples} contoh (termasuk {corrections} koreksi yang diterima), \
         {labels} label; dimuat {at}{cached}. Perubahan berkas di <code>knowledge/</code> dimuat \
         otomatis.</p>{button}</section>",
        examples = status.model.examples,
        corrections = status.model.corrections,
        labels = status.model.labels,
        at = esc(&crate::store::rfc3339(status.loaded_at)),
        cached = if status.model.cached {
            " dari cache"
        } else {
            ""
        },
    )
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    csrf: String,
}

/// `POST /corrections/{id}/{accept|drop}` (admins).
pub async fn review(
    State(state): State<AppState>,
    PageSession(session): PageSession,
    Path((id, action)): Path<(i64, String)>,
    Form(form): Form<CsrfOnly>,
) -> Response {
    if let Some(refused) = refuse_form(&session, &form.csrf) {
        return refused;
    }
    let accept = match action.as_str() {
        "accept" => true,
        "drop" => false,
        _ => return super::ApiError::NotFound("aksi tidak dikenal".into()).into_response(),
    };
    let message = match state
        .desk
        .review_correction(id, &session.actor, accept)
        .await
    {
        Ok(_) if accept => {
            state.engine.request_reload();
            format!("Koreksi #{id} diterima; bot belajar ulang dalam beberapa detik.")
        }
        Ok(_) => format!("Koreksi #{id} ditolak."),
        Err(DeskError::Store(e)) => return super::ApiError::from(e).into_response(),
        Err(e) => e.to_string(),
    };
    back_with("/corrections", &message)
}

/// `POST /knowledge/reload` (admins): loads the knowledge base again now.
pub async fn reload(
    State(state): State<AppState>,
    PageSession(session): PageSession,
    Form(form): Form<CsrfOnly>,
) -> Response {
    if let Some(refused) = refuse_form(&session, &form.csrf) {
        return refused;
    }
    let message = if session.actor.role == Role::Admin {
        state.engine.request_reload();
        "Basis pengetahuan dimuat ulang; hasilnya tampil di sini dalam beberapa detik."
    } else {
        "Hanya admin yang dapat memuat ulang basis pengetahuan."
    };
    back_with("/corrections", message)
}

/// The entry a staff reply repeats: most of its short answer's words are in the reply (staff
/// often insert it from the console's knowledge search, then adapt it).
pub fn entry_in_reply<'e>(engine: &'e Engine, reply: &str) -> Option<&'e crate::knowledge::Entry> {
    let words = |text: &str| -> std::collections::HashSet<String> {
        text.to_lowercase()
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.len() > 2)
            .map(str::to_owned)
            .collect()
    };
    let said = words(reply);
    engine
        .entries()
        .iter()
        .map(|entry| {
            let answer = words(&entry.short_answer);
            let shared = answer.intersection(&said).count();
            (entry, shared as f64 / answer.len().max(1) as f64)
        })
        .filter(|(_, share)| *share >= 0.8)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(entry, _)| entry)
}

/// After a staff reply: when it repeats a knowledge entry and the bot had handed the tweet to
/// staff, proposes that entry as the right decision (an admin still reviews it). Failures are
/// logged; the reply itself has gone out.
pub async fn suggest_from_reply(
    state: &AppState,
    actor: &crate::desk::Actor,
    conversation: &str,
    reply: &str,
) {
    let engine = state.engine.get();
    let Some(entry) = entry_in_reply(&engine, reply) else {
        return;
    };
    let Ok(detail) = state.desk.detail(conversation).await else {
        return;
    };
    let Some(decision) = detail.decisions.iter().rev().find(|d| d.kind == "handoff") else {
        return;
    };
    let label = format!("answer {}", entry.id);
    let note = format!("saran otomatis: balasan {} memakai jawaban ini", actor.name);
    if let Err(error) = propose(
        state,
        actor,
        conversation,
        &decision.tweet_id,
        &label,
        &note,
    )
    .await
    {
        tracing::warn!(%error, conversation, "the reply's entry could not be suggested");
    }
}
