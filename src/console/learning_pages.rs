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
use crate::desk::{DecisionRecord, DeskError, Role};
use crate::learning::{Teacher, decided_label, label_choices};
use crate::triage::Engine;

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
        &state,
        &session,
        &format!(
            "/conversations/{}",
            crate::channels::x::oauth1::percent_encode(&id)
        ),
        &message,
    )
    .await
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
    teacher(state, &engine)
        .propose(actor, id, tweet_id, label, note)
        .await
}

/// The corrections' side of the console's state.
fn teacher<'a>(state: &'a AppState, engine: &'a Engine) -> Teacher<'a> {
    Teacher {
        desk: &state.desk,
        engine,
        account: &state.account,
    }
}

#[derive(Deserialize, Default)]
pub struct CorrectionsQuery {
    state: Option<String>,
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
            "<tr><td data-label=\"No.\">#{id}</td><td class=\"text\" data-label=\"Twit warga\">{text}{note}\
             <div class=\"meta\">{conversation}</div></td><td data-label=\"Keputusan bot\">{decided}</td>\
             <td data-label=\"Keputusan yang benar\"><strong>{label}</strong></td>\
             <td data-label=\"Dari\">{by}<div class=\"meta\">{at}</div></td><td>{actions}</td></tr>",
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
            at = esc(&super::wib_time(c.created_at)),
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
            "<div class=\"scroll\"><table class=\"stack\"><thead><tr><th>No.</th><th>Twit warga</th><th>Keputusan bot</th>\
             <th>Keputusan yang benar</th><th>Dari</th><th></th></tr></thead><tbody>{rows}</tbody></table></div>"
        )
    };
    let body = format!(
        "<p>Koreksi dari petugas atas keputusan bot. Setelah diterima admin, koreksi langsung menjadi \
         contoh belajar bot di semua instans; <code>kicau kb examples export</code> menuliskannya ke \
         berkas contoh.</p><p class=\"tabs\">{tabs}</p>{table}{engine}",
        engine = engine_section(&state, admin, &csrf),
    );
    layout("Koreksi keputusan bot", Some(&session), None, &body).into_response()
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
                at = esc(&super::wib_time(status.failed_at.unwrap_or(0))),
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
        at = esc(&super::wib_time(status.loaded_at)),
        cached = if status.model.cached {
            " dari cache"
        } else {
            ""
        },
    )
}

/// `POST /corrections/{id}/{accept|drop}` (admins).
pub async fn review(
    State(state): State<AppState>,
    PageSession(session): PageSession,
    Path((id, action)): Path<(i64, String)>,
    Form(form): Form<super::login_pages::CsrfForm>,
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
    back_with(&state, &session, "/corrections", &message).await
}

/// `POST /knowledge/reload` (admins): loads the knowledge base again now.
pub async fn reload(
    State(state): State<AppState>,
    PageSession(session): PageSession,
    Form(form): Form<super::login_pages::CsrfForm>,
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
    back_with(&state, &session, "/corrections", message).await
}

/// After a staff reply in the console or the API: see [`Teacher::suggest_from_reply`].
pub async fn suggest_from_reply(
    state: &AppState,
    actor: &crate::desk::Actor,
    conversation: &str,
    reply: &str,
) {
    let engine = state.engine.get();
    teacher(state, &engine)
        .suggest_from_reply(actor, conversation, reply)
        .await;
}
