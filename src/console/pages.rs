//! The console's pages, rendered on the server in Indonesian. Every string from outside (tweets,
//! handles, evidence, audit details) goes through [`esc`]; the script adds live updates, the
//! weighted character counter and the knowledge-base search, and the pages work without it.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::auth::{PageSession, same_secret};
use super::{AppState, esc};
use crate::desk::staff::{self, Session};
use crate::desk::{Conversation, DeskError, Filter, State as ConvState, reason_label};
use crate::store::now_ms;

fn age(ms: i64) -> String {
    let minutes = (now_ms() - ms).max(0) / 60_000;
    match minutes {
        0 => "baru saja".into(),
        m if m < 60 => format!("{m} menit"),
        m if m < 24 * 60 => format!("{} jam {} menit", m / 60, m % 60),
        m => format!("{} hari", m / (24 * 60)),
    }
}

pub(super) fn layout(
    title: &str,
    session: Option<&Session>,
    flash: Option<&str>,
    body: &str,
) -> Html<String> {
    let attention = session.and_then(|s| s.attention).unwrap_or_default();
    let count = |n: i64, class: &str, what: &str| {
        if n > 0 {
            format!(
                " <span class=\"count{class}\" data-count=\"{what}\" title=\"{n} {what}\">{n}</span>"
            )
        } else {
            format!(" <span class=\"count{class}\" data-count=\"{what}\" hidden></span>")
        }
    };
    let nav = match session {
        Some(s) => format!(
            "<nav><div class=\"links\"><a href=\"/\" data-key=\"g a\">Antrean{waiting}{emergencies}</a> \
             <a href=\"/?state=staff&amp;held_by={name}\" data-key=\"g s\">Pegangan saya</a> \
             <a href=\"/?state=bot\">Dijawab bot</a> <a href=\"/?state=closed\">Selesai</a> \
             <a href=\"/tickets\" data-key=\"g l\">Laporan</a> <a href=\"/kabar\">Kabar</a> <a href=\"/report\" data-key=\"g r\">Ringkasan</a> \
             <a href=\"/corrections\" data-key=\"g k\">Koreksi</a> <a href=\"/staff\">Petugas</a> <a href=\"/audit\">Log audit</a> <a href=\"/dead-letters\">Surat mati{failed}{dead}</a></div>\
             <form method=\"get\" action=\"/search\" class=\"search\" role=\"search\">\
             <input type=\"search\" name=\"q\" maxlength=\"100\" placeholder=\"Cari kasus\" \
             aria-label=\"Cari percakapan dan laporan\" data-key=\"/\"> <button type=\"submit\">Cari</button></form>\
             <div class=\"who\"><a href=\"/help\" title=\"Bantuan dan pintasan papan ketik (tekan ?)\">Bantuan</a> \
             {name} ({role}) \
             <form method=\"post\" action=\"/logout\" class=\"inline\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <button type=\"submit\">Keluar</button></form></div></nav>{overlay}",
            name = esc(&s.actor.name),
            role = s.actor.role.as_str(),
            csrf = esc(&s.csrf),
            waiting = count(attention.waiting, " calm", "menunggu petugas"),
            emergencies = count(attention.emergencies, "", "darurat"),
            failed = count(attention.failed_sends, "", "twit gagal terkirim"),
            dead = count(attention.dead_letters, " calm", "surat mati minggu ini"),
            overlay = super::help_pages::overlay(),
        ),
        None => String::new(),
    };
    let csrf_meta = session
        .map(|s| format!("<meta name=\"csrf\" content=\"{}\">", esc(&s.csrf)))
        .unwrap_or_default();
    // A page's notice: the caller's (the login page's), or the one the session left for it.
    let flash = flash
        .or_else(|| session.and_then(|s| s.notice.as_deref()))
        .map(|m| format!("<p class=\"flash\" role=\"status\">{}</p>", esc(m)))
        .unwrap_or_default();
    Html(format!(
        "<!doctype html><html lang=\"id\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">{csrf_meta}\
         <title>{counted}{title} · Kicau</title><link rel=\"stylesheet\" href=\"/static/console.css\">\
         <script src=\"/static/console.js\" defer></script>\
         <script src=\"/static/keys.js\" defer></script>\
         <script src=\"/static/replies.js\" defer></script></head>\
         <body><header><strong>Kicau</strong> · konsol petugas</header>{nav}<main>{flash}\
         <h1>{title}</h1>{body}</main></body></html>",
        title = esc(title),
        counted = match (attention.emergencies, attention.waiting) {
            (0, 0) => String::new(),
            (0, w) => format!("({w}) "),
            (e, w) => format!("({w}, {e} darurat) "),
        },
    ))
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    state: Option<String>,
    held_by: Option<String>,
}

use crate::language::pii::mask;

/// An admin's button that shows a citizen's message with its personal data (audited); nothing
/// for staff or for a message without any.
fn reveal_form(session: &Session, conversation: &str, m: &crate::desk::Message) -> String {
    let Some(tweet) = m.tweet_id.as_deref() else {
        return String::new();
    };
    if session.actor.role != crate::desk::Role::Admin
        || crate::language::pii::detect(&m.text).is_empty()
    {
        return String::new();
    }
    format!(
        "<form method=\"post\" action=\"/conversations/{id}/reveal\" class=\"inline reveal\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <input type=\"hidden\" name=\"tweet_id\" value=\"{tweet}\">\
         <button type=\"submit\">Tampilkan data pribadi (tercatat di log audit)</button></form>",
        id = esc(conversation),
        csrf = esc(&session.csrf),
        tweet = esc(tweet),
    )
}

/// Sends a visitor who still has the one-time password to the password page.
pub(super) fn must_change(session: &Session) -> Option<Response> {
    session
        .must_change
        .then(|| Redirect::to("/password").into_response())
}

pub async fn queue(
    State(state): State<AppState>,
    PageSession(session): PageSession,
    Query(query): Query<PageQuery>,
) -> Response {
    if let Some(redirect) = must_change(&session) {
        return redirect;
    }
    let which = query
        .state
        .as_deref()
        .and_then(ConvState::parse)
        .unwrap_or(ConvState::WaitingStaff);
    let filter = Filter {
        state: Some(which),
        held_by: query.held_by.clone().filter(|h| !h.is_empty()),
    };
    let conversations = match state.desk.list(&filter).await {
        Ok(c) => c,
        Err(e) => return super::ApiError::from(e).into_response(),
    };
    let title = match which {
        ConvState::WaitingStaff => "Antrean: menunggu petugas",
        ConvState::Staff => "Sedang ditangani",
        ConvState::Bot => "Dijawab bot",
        ConvState::Closed => "Selesai",
    };
    let mut rows = String::new();
    let now = crate::store::now_ms();
    for c in &conversations {
        rows.push_str(&row(c, state.desk.respond_by(c), now));
    }
    let week_ago = crate::store::now_ms() - 7 * 24 * 3600 * 1000;
    let gaps = match state
        .desk
        .store()
        .count_dead_letters("x.mentions", "gap ", week_ago)
        .await
    {
        Ok(n) => n,
        Err(e) => return super::ApiError::from(e).into_response(),
    };
    let warning = if gaps > 0 {
        format!(
            "<p class=\"warning\" role=\"alert\">Dalam 7 hari terakhir {gaps} kali ada mention yang \
             tidak sempat terbaca (X hanya menyimpan 800 mention terbaru). Rentangnya ada di \
             <a href=\"/dead-letters\">Surat mati</a>: cari mention itu di X dan tangani manual.</p>"
        )
    } else {
        String::new()
    };
    let body = if conversations.is_empty() {
        "<p class=\"empty\">Tidak ada percakapan di sini.</p>".to_owned()
    } else {
        format!(
            "<table class=\"queue stack\"><thead><tr><th>Menunggu</th><th>Warga</th>\
             <th>Alasan</th><th>Twit terakhir</th><th>Pemegang</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    };
    layout(
        title,
        Some(&session),
        None,
        &format!("{warning}<div data-live=\"queue\">{body}</div>"),
    )
    .into_response()
}

/// A queue row: how long it has waited and, while it waits, the deadline to take it as a timer
/// ("ambil dalam 12 menit", "lewat 5 menit"); a held case with a citizen tweet its holder has not
/// opened is marked "twit baru". The reason links to the place on the case's page where it is
/// dealt with.
fn row(c: &Conversation, respond_by: Option<i64>, now: i64) -> String {
    let waited = c
        .waiting_since
        .map(age)
        .unwrap_or_else(|| age(c.updated_at));
    let due = respond_by
        .map(|at| {
            let late = at <= now;
            format!(
                "<br><small class=\"due{}\">{}</small>",
                if late { " late" } else { "" },
                if late {
                    format!("batas tanggap lewat {}", esc(&crate::wib::span(now - at)))
                } else {
                    format!("ambil dalam {}", esc(&crate::wib::span(at - now)))
                }
            )
        })
        .unwrap_or_default();
    let id = crate::channels::x::oauth1::percent_encode(&c.id);
    let reason = c.reason.as_deref().unwrap_or("");
    let anchor = if reason.starts_with("ticket_") {
        "#laporan"
    } else {
        ""
    };
    format!(
        "<tr class=\"{class}\" data-id=\"{data_id}\" data-item><td data-label=\"Menunggu\">{urgent}{waited}{due}</td>\
         <td data-label=\"Warga\">@{citizen}</td>\
         <td data-label=\"Alasan\">{reason}</td>\
         <td data-label=\"Twit terakhir\">{new}<a href=\"/conversations/{id}\">{text}</a></td>\
         <td data-label=\"Pemegang\">{held}</td></tr>",
        class = if c.urgent { "urgent" } else { "" },
        urgent = if c.urgent {
            "<span class=\"badge\">DARURAT</span> "
        } else {
            ""
        },
        data_id = esc(&c.id),
        citizen = esc(&c.citizen),
        reason = if reason.is_empty() {
            String::new()
        } else {
            format!(
                "<a href=\"/conversations/{id}{anchor}\">{}</a>",
                esc(reason_label(reason))
            )
        },
        new = if c.has_unseen() {
            "<span class=\"badge new\">TWIT BARU</span> "
        } else {
            ""
        },
        text = esc(&mask(&c.last_text)),
        held = esc(c.held_by.as_deref().unwrap_or("-")),
    )
}

pub async fn conversation(
    State(state): State<AppState>,
    PageSession(session): PageSession,
    Path(id): Path<String>,
) -> Response {
    if let Some(redirect) = must_change(&session) {
        return redirect;
    }
    let detail = match state.desk.detail(&id).await {
        Ok(d) => d,
        Err(e) => return super::ApiError::from(e).into_response(),
    };
    let c = &detail.conversation;
    let me = &session.actor.name;
    let csrf = esc(&session.csrf);
    let mut thread = String::new();
    for m in &detail.messages {
        thread.push_str(&super::thread_view::message(
            &state.account,
            &session,
            &c.id,
            m,
            &reveal_form(&session, &c.id, m),
        ));
    }
    let mut decisions = String::new();
    let engine = state.engine.get();
    for d in &detail.decisions {
        let details = super::words::evidence(&engine, &d.evidence);
        decisions.push_str(&format!(
            "<div class=\"decision\"><p>{at} · {said}</p>{details}{correct}</div>",
            at = esc(&crate::wib::moment(d.created_at, now_ms())),
            said = esc(&super::words::decision(&engine, d)),
            details = if details.is_empty() {
                String::new()
            } else {
                format!("<details><summary>rincian</summary>{details}</details>")
            },
            correct = super::learning_pages::correction_form(&engine, &c.id, d, &session.csrf),
        ));
    }
    let mut earlier = String::new();
    for e in &detail.earlier {
        earlier.push_str(&format!(
            "<li><a href=\"/conversations/{id}\">{at}</a> · {state} · {text}</li>",
            id = esc(&e.id),
            at = esc(&super::wib_time(e.created_at)),
            state = e.state.label(),
            text = esc(&mask(&e.last_text)),
        ));
    }
    // `extra`: the form's hooks for keys.js (a shortcut, a question before it is sent).
    let action = |name: &str, label: &str, extra: &str| {
        format!(
            "<form method=\"post\" action=\"/conversations/{id}/{name}\" class=\"inline\"{extra}>\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <button type=\"submit\" name=\"do\" value=\"{name}\">{label}</button></form>",
            id = esc(&c.id),
        )
    };
    let holds = c.state == ConvState::Staff && c.held_by.as_deref() == Some(me.as_str());
    let admin = session.actor.role == crate::desk::Role::Admin;
    let mut actions = String::new();
    if matches!(c.state, ConvState::Bot | ConvState::WaitingStaff) {
        actions.push_str(&action("claim", "Ambil alih", " data-key=\"c\""));
    }
    if holds || (admin && c.state == ConvState::Staff) {
        actions.push_str(&action("release", "Kembalikan ke bot", ""));
    }
    if holds || (admin && c.state != ConvState::Closed) {
        // Closing frees the citizen's held ticket news, and their next tweet gets the bot.
        actions.push_str(&action(
            "close",
            "Tutup percakapan",
            " data-confirm=\"Tutup percakapan ini? Bot akan kembali menjawab warga ini.\"",
        ));
    }
    let reply = if holds {
        format!(
            "<form method=\"post\" action=\"/conversations/{id}/reply\" class=\"reply\" id=\"reply\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <label for=\"text\">Balasan sebagai @{account} (diawali @{citizen} otomatis)</label>\
             <textarea id=\"text\" name=\"text\" rows=\"5\" required data-conversation=\"{id}\" data-key=\"r\"></textarea>\
             <p class=\"counter\" aria-live=\"polite\"><span id=\"count\">0</span><span id=\"parts\"> / 280 karakter</span></p>\
             <ol id=\"preview\" class=\"preview\"></ol>\
             <button type=\"submit\" name=\"do\" value=\"reply\">Kirim balasan</button></form>\
             {saved}<section class=\"kb\"><label for=\"kbq\">Sisipkan jawaban dari basis pengetahuan</label>\
             <input id=\"kbq\" type=\"search\" placeholder=\"cari topik, mis. syarat KTP\">\
             <ul id=\"kbresults\"></ul></section>",
            id = esc(&c.id),
            account = esc(&state.account),
            citizen = esc(&c.citizen),
            saved = saved_replies(engine.replies()),
        )
    } else {
        match (&c.state, &c.held_by) {
            (ConvState::Staff, Some(holder)) => format!(
                "<p class=\"note\">Sedang ditangani oleh {}.</p>",
                esc(holder)
            ),
            (ConvState::Closed, _) => "<p class=\"note\">Percakapan sudah ditutup.</p>".into(),
            _ => "<p class=\"note\">Ambil alih dulu untuk membalas; selama dipegang petugas, bot diam.</p>".into(),
        }
    };
    if holds && let Err(e) = state.desk.mark_seen(&c.id, &session.actor).await {
        tracing::warn!(error = %e, "could not mark a conversation read");
    }
    let tickets = super::case_view::tickets(&state, &session, &c.id).await;
    let notes = super::case_view::notes(&state, &session, &c.id).await;
    let handover = super::case_view::handover(&state, &session, c).await;
    let waiting = state.desk.held_updates(&c.id).await.unwrap_or_default();
    let waiting = if waiting.is_empty() {
        String::new()
    } else {
        format!(
            "<section class=\"held-updates\"><h2>Kabar laporan yang tertahan</h2>\
             <p class=\"note\">Dikirim otomatis ke warga saat percakapan dikembalikan ke bot atau ditutup.</p><ul>{}</ul></section>",
            waiting
                .iter()
                .map(|t| format!("<li>{}</li>", esc(t)))
                .collect::<String>()
        )
    };
    let body = format!(
        "<div data-live=\"conversation\" data-id=\"{id}\">\
         <p class=\"back\"><a href=\"/\" data-key=\"u\">← Kembali ke antrean</a></p>\
         <p class=\"status\">Status: <strong>{label}</strong>{held}{reason}</p>\
         <div class=\"actions\">{actions}</div>{handover}\
         {tickets}<h2>Utas</h2><ol class=\"thread\">{thread}</ol>{waiting}{reply}{notes}\
         <h2>Keputusan bot</h2>{decisions}\
         <h2>Percakapan sebelumnya</h2><ul>{earlier}</ul></div>",
        id = esc(&c.id),
        label = c.state.label(),
        held = c
            .held_by
            .as_deref()
            .map(|h| format!(" oleh {}", esc(h)))
            .unwrap_or_default(),
        reason = c
            .reason
            .as_deref()
            .map(|r| format!(" · alasan: {}", esc(reason_label(r))))
            .unwrap_or_default(),
        earlier = if earlier.is_empty() {
            "<li>tidak ada</li>".to_owned()
        } else {
            earlier
        },
    );
    layout(
        &format!("Percakapan dengan @{}", c.citizen),
        Some(&session),
        None,
        &body,
    )
    .into_response()
}

#[derive(Deserialize)]
pub struct ActionForm {
    csrf: String,
    #[serde(default)]
    text: String,
    /// "Kirim ulang": the failed tweet's key.
    #[serde(default)]
    key: String,
    /// "Serahkan ke": the colleague's name.
    #[serde(default)]
    to: String,
}

/// The forms of the conversation page: claim, reply, release, close, resend, a private note,
/// handing over to a colleague.
pub async fn act(
    State(state): State<AppState>,
    PageSession(session): PageSession,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<ActionForm>,
) -> Response {
    if let Some(refused) = refuse_form(&session, &form.csrf) {
        return refused;
    }
    let actor = &session.actor;
    let result: Result<String, DeskError> = match action.as_str() {
        "claim" => state
            .desk
            .claim(&id, actor)
            .await
            .map(|_| "Percakapan sudah Anda pegang; bot diam.".into()),
        "reply" => match state.desk.reply(&id, actor, &form.text).await {
            Ok(n) => {
                super::learning_pages::suggest_from_reply(&state, actor, &id, &form.text).await;
                Ok(format!("Balasan diantrekan ({n} twit)."))
            }
            Err(e) => Err(e),
        },
        "release" => state
            .desk
            .release(&id, actor)
            .await
            .map(|_| "Percakapan dikembalikan ke bot.".into()),
        "close" => state
            .desk
            .close(&id, actor)
            .await
            .map(|_| "Percakapan ditutup.".into()),
        "note" => state
            .desk
            .add_note(&id, actor, &form.text)
            .await
            .map(|_| "Catatan internal disimpan.".into()),
        "assign" => state.desk.assign(&id, actor, &form.to).await.map(|c| {
            format!(
                "Percakapan diserahkan ke {}; bot tetap diam.",
                c.held_by.unwrap_or_default()
            )
        }),
        "resend" => state
            .desk
            .resend(&id, &form.key, actor)
            .await
            .map(|_| "Twit yang gagal diantrekan lagi; statusnya tampil di utas.".into()),
        _ => return super::ApiError::NotFound("aksi tidak dikenal".into()).into_response(),
    };
    let message = match result {
        Ok(m) => m,
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

/// A redirect to `path` whose page shows `message` once (after a form was handled); the
/// message waits with the session ([`staff::leave_notice`]), not in the address.
pub(super) async fn back_with(
    state: &AppState,
    session: &Session,
    path: &str,
    message: &str,
) -> Response {
    if let Err(e) = staff::leave_notice(state.desk.store(), &session.cookie, message).await {
        return super::ApiError::from(e).into_response();
    }
    Redirect::to(path).into_response()
}

/// `text` with its first letter in upper case (errors read as sentences on a page).
pub(super) fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect::<String>() + "."
    })
}

/// What an action form gets instead of acting: 403 without the session's CSRF token, the
/// password page while a one-time password is unchanged. None: go on.
pub(super) fn refuse_form(session: &Session, csrf: &str) -> Option<Response> {
    if !same_secret(csrf, &session.csrf) {
        return Some(
            (
                axum::http::StatusCode::FORBIDDEN,
                layout(
                    "Ditolak",
                    Some(session),
                    None,
                    "<p>Token formulir tidak valid. Muat ulang halaman lalu coba lagi.</p>",
                ),
            )
                .into_response(),
        );
    }
    must_change(session)
}

pub async fn css() -> Response {
    (
        [
            ("content-type", "text/css; charset=utf-8"),
            ("cache-control", "public, max-age=300"),
        ],
        include_str!("assets/console.css"),
    )
        .into_response()
}

/// The saved replies under the reply box, each a button that inserts its text at the cursor
/// (`replies.js`, which also opens them as a menu on `/` in the box); nothing without any.
fn saved_replies(replies: &[crate::knowledge::replies::Reply]) -> String {
    if replies.is_empty() {
        return String::new();
    }
    let items: String = replies
        .iter()
        .map(|r| {
            format!(
                "<li><button type=\"button\" data-shortcut=\"{shortcut}\">\
                 <span class=\"shortcut\">/{shortcut}</span> <span class=\"title\">{title}</span>\
                 </button><p class=\"text\">{text}</p></li>",
                shortcut = esc(&r.shortcut),
                title = esc(&r.title),
                text = esc(&r.text),
            )
        })
        .collect();
    format!(
        "<details class=\"saved-replies\"><summary>Balasan tersimpan (ketik /)</summary>\
         <p class=\"note\">Ketik / di awal balasan atau setelah spasi, lalu beberapa huruf \
         pintasannya (mis. /lokasi): panah atas dan bawah memilih, Enter atau Tab menyisipkan \
         di posisi kursor, Esc menutup. Atau pilih di sini.</p><ul>{items}</ul></details>"
    )
}

pub async fn js() -> Response {
    (
        [
            ("content-type", "text/javascript; charset=utf-8"),
            ("cache-control", "public, max-age=300"),
        ],
        include_str!("assets/console.js"),
    )
        .into_response()
}

/// `keys.js`: the keyboard shortcuts, their overlay, and the questions before forms that
/// carry `data-confirm`.
pub async fn keys_js() -> Response {
    script(include_str!("assets/keys.js"))
}

/// The saved replies' menu in the reply box (`/` and a shortcut).
pub async fn replies_js() -> Response {
    script(include_str!("assets/replies.js"))
}

fn script(source: &'static str) -> Response {
    (
        [
            ("content-type", "text/javascript; charset=utf-8"),
            ("cache-control", "public, max-age=300"),
        ],
        source,
    )
        .into_response()
}
