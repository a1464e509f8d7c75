//! The console's pages, rendered on the server in Indonesian. Every string from outside (tweets,
//! handles, evidence, audit details) goes through [`esc`]; the script adds live updates, the
//! weighted character counter and the knowledge-base search, and the pages work without it.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::auth::{
    LOGIN_CSRF_COOKIE, PageSession, cookie, login_csrf_cookie, same_secret, session_cookie,
};
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
    let nav = match session {
        Some(s) => format!(
            "<nav><a href=\"/\">Antrean</a> <a href=\"/?state=staff&amp;held_by={name}\">Pegangan saya</a> \
             <a href=\"/?state=bot\">Dijawab bot</a> <a href=\"/?state=closed\">Selesai</a> \
             <a href=\"/tickets\">Laporan</a> <a href=\"/report\">Ringkasan</a> <a href=\"/corrections\">Koreksi</a> <a href=\"/staff\">Petugas</a> <a href=\"/audit\">Log audit</a> <a href=\"/dead-letters\">Surat mati</a>\
             <span class=\"who\">{name} ({role})</span>\
             <form method=\"post\" action=\"/logout\" class=\"inline\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <button type=\"submit\">Keluar</button></form></nav>",
            name = esc(&s.actor.name),
            role = s.actor.role.as_str(),
            csrf = esc(&s.csrf),
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
         <title>{title} · Kicau</title><link rel=\"stylesheet\" href=\"/static/console.css\">\
         <script src=\"/static/console.js\" defer></script></head>\
         <body><header><strong>Kicau</strong> · konsol petugas</header>{nav}<main>{flash}\
         <h1>{title}</h1>{body}</main></body></html>",
        title = esc(title),
    ))
}

/// The login page's notices, by the code in its address (`/login?n=wrong`): only these known
/// texts are ever shown, whatever the address says.
fn login_notice(code: &str) -> Option<&'static str> {
    Some(match code {
        "form" => "Formulir kedaluwarsa, coba lagi.",
        "wrong" => "Nama pengguna atau kata sandi salah.",
        "out" => "Anda sudah keluar.",
        "spent" => {
            "Kata sandi sekali pakai ini sudah dipakai atau sudah lewat 24 jam. Minta admin \
             membuat yang baru."
        }
        _ => return None,
    })
}

#[derive(Deserialize, Default)]
pub struct LoginQuery {
    n: Option<String>,
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
    for c in &conversations {
        rows.push_str(&row(c));
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
            "<table class=\"queue\"><thead><tr><th>Menunggu</th><th>Warga</th>\
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

fn row(c: &Conversation) -> String {
    let waited = c
        .waiting_since
        .map(age)
        .unwrap_or_else(|| age(c.updated_at));
    format!(
        "<tr class=\"{class}\" data-id=\"{id}\"><td>{urgent}{waited}</td><td>@{citizen}</td>\
         <td>{reason}</td><td><a href=\"/conversations/{id}\">{text}</a></td><td>{held}</td></tr>",
        class = if c.urgent { "urgent" } else { "" },
        urgent = if c.urgent {
            "<span class=\"badge\">DARURAT</span> "
        } else {
            ""
        },
        id = esc(&c.id),
        citizen = esc(&c.citizen),
        reason = esc(c.reason.as_deref().map(reason_label).unwrap_or("")),
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
        let who = if m.direction == "in" {
            format!("@{}", m.author)
        } else if m.author == "bot" {
            "bot".to_owned()
        } else {
            format!("petugas {}", m.author)
        };
        thread.push_str(&format!(
            "<li class=\"msg {dir}\"><div class=\"meta\">{who} · {at}</div><div class=\"text\">{text}</div>{reveal}</li>",
            dir = if m.direction == "in" { "in" } else { "out" },
            who = esc(&who),
            at = esc(&super::wib_time(m.created_at)),
            text = esc(&mask(&m.text)),
            reveal = reveal_form(&session, &c.id, m),
        ));
    }
    let mut decisions = String::new();
    let engine = state.engine.get();
    for d in &detail.decisions {
        decisions.push_str(&format!(
            "<details><summary>{kind} · {rule}{topic}</summary><pre>{evidence}</pre></details>{correct}",
            correct = super::learning_pages::correction_form(&engine, &c.id, d, &session.csrf),
            kind = esc(&d.kind),
            rule = esc(&d.rule),
            topic = d
                .topic
                .as_deref()
                .or(d.agency.as_deref())
                .map(|t| format!(" · {}", esc(t)))
                .unwrap_or_default(),
            evidence = esc(&serde_json::to_string_pretty(&d.evidence).unwrap_or_default()),
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
    let action = |name: &str, label: &str| {
        format!(
            "<form method=\"post\" action=\"/conversations/{id}/{name}\" class=\"inline\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <button type=\"submit\" name=\"do\" value=\"{name}\">{label}</button></form>",
            id = esc(&c.id),
        )
    };
    let holds = c.state == ConvState::Staff && c.held_by.as_deref() == Some(me.as_str());
    let admin = session.actor.role == crate::desk::Role::Admin;
    let mut actions = String::new();
    if matches!(c.state, ConvState::Bot | ConvState::WaitingStaff) {
        actions.push_str(&action("claim", "Ambil alih"));
    }
    if holds || (admin && c.state == ConvState::Staff) {
        actions.push_str(&action("release", "Kembalikan ke bot"));
    }
    if holds || (admin && c.state != ConvState::Closed) {
        actions.push_str(&action("close", "Tutup percakapan"));
    }
    let reply = if holds {
        format!(
            "<form method=\"post\" action=\"/conversations/{id}/reply\" class=\"reply\" id=\"reply\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <label for=\"text\">Balasan sebagai @{account} (diawali @{citizen} otomatis)</label>\
             <textarea id=\"text\" name=\"text\" rows=\"5\" required data-conversation=\"{id}\"></textarea>\
             <p class=\"counter\" aria-live=\"polite\"><span id=\"count\">0</span><span id=\"parts\"> / 280 karakter</span></p>\
             <ol id=\"preview\" class=\"preview\"></ol>\
             <button type=\"submit\" name=\"do\" value=\"reply\">Kirim balasan</button></form>\
             <section class=\"kb\"><label for=\"kbq\">Sisipkan jawaban dari basis pengetahuan</label>\
             <input id=\"kbq\" type=\"search\" placeholder=\"cari topik, mis. syarat KTP\">\
             <ul id=\"kbresults\"></ul></section>",
            id = esc(&c.id),
            account = esc(&state.account),
            citizen = esc(&c.citizen),
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
         <p class=\"status\">Status: <strong>{label}</strong>{held}{reason}</p>\
         <div class=\"actions\">{actions}</div>\
         <h2>Utas</h2><ol class=\"thread\">{thread}</ol>{waiting}{reply}\
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
}

/// The forms of the conversation page: claim, reply, release, close.
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

pub async fn login_form(
    State(state): State<AppState>,
    Query(query): Query<LoginQuery>,
) -> Response {
    let token = staff::random_secret();
    let body = format!(
        "<form method=\"post\" action=\"/login\" class=\"login\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{token}\">\
         <label for=\"name\">Nama pengguna</label><input id=\"name\" name=\"name\" autocomplete=\"username\" required>\
         <label for=\"password\">Kata sandi</label>\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
         <button type=\"submit\">Masuk</button></form>"
    );
    (
        [(
            "set-cookie",
            login_csrf_cookie(&token, state.secure_cookies),
        )],
        layout(
            "Masuk",
            None,
            query.n.as_deref().and_then(login_notice),
            &body,
        ),
    )
        .into_response()
}

#[derive(Deserialize)]
pub struct LoginForm {
    csrf: String,
    name: String,
    password: String,
}

pub async fn login(
    State(state): State<AppState>,
    extensions: axum::http::Extensions,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    use crate::desk::login::Attempt;
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if expected.is_empty() || !same_secret(&form.csrf, &expected) {
        return Redirect::to("/login?n=form").into_response();
    }
    let peer = extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0.ip());
    let client = super::auth::client_address(peer, &headers, &state.trusted_proxies);
    let attempt = state
        .logins
        .login(state.desk.store(), form.name.trim(), &form.password, client)
        .await;
    let too_many = |seconds: u64, message: String| {
        (
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", seconds.max(1).to_string())],
            layout("Masuk", None, Some(&message), ""),
        )
            .into_response()
    };
    match attempt {
        Ok(Attempt::Opened(session)) => {
            let to = if session.must_change {
                "/password"
            } else {
                "/"
            };
            (
                [(
                    "set-cookie",
                    session_cookie(&session.cookie, state.secure_cookies),
                )],
                Redirect::to(to),
            )
                .into_response()
        }
        Ok(Attempt::Refused) => Redirect::to("/login?n=wrong").into_response(),
        Ok(Attempt::OneTimeSpent) => Redirect::to("/login?n=spent").into_response(),
        Ok(Attempt::Wait(seconds)) => too_many(
            seconds,
            format!("Terlalu banyak percobaan masuk yang gagal. Coba lagi dalam {seconds} detik."),
        ),
        Ok(Attempt::Locked(until)) => {
            let now = state.logins.clock().now();
            too_many(
                ((until - now).max(0) / 1000) as u64,
                format!(
                    "Akun ini dikunci sementara karena terlalu banyak percobaan gagal, sampai {}. \
                     Admin dapat membukanya lebih awal.",
                    super::wib_time(until)
                ),
            )
        }
        Err(e) => super::ApiError::from(e).into_response(),
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    pub(super) csrf: String,
}

pub async fn logout(
    State(state): State<AppState>,
    PageSession(session): PageSession,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !same_secret(&form.csrf, &session.csrf) {
        return Redirect::to("/").into_response();
    }
    if let Err(e) = staff::logout(state.desk.store(), &session.cookie).await {
        return super::ApiError::from(e).into_response();
    }
    (
        [("set-cookie", session_cookie("", state.secure_cookies))],
        Redirect::to("/login?n=out"),
    )
        .into_response()
}

pub async fn password_form(PageSession(session): PageSession) -> Response {
    let intro = if session.must_change {
        "<p>Anda masuk dengan kata sandi sekali pakai; kata sandi itu tidak bisa dipakai masuk lagi. \
         Buat kata sandi baru sekarang: minimal 12 karakter, berbeda dari kata sandi sementara, dan \
         bukan kata sandi umum. Beberapa kata acak yang mudah Anda ingat adalah pilihan yang baik.</p>"
    } else {
        "<p>Minimal 12 karakter dan bukan kata sandi umum. Sesi Anda di perangkat lain akan berakhir.</p>"
    };
    let body = format!(
        "{intro}<form method=\"post\" action=\"/password\" class=\"login\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <label for=\"current\">Kata sandi sekarang</label>\
         <input id=\"current\" name=\"current\" type=\"password\" autocomplete=\"current-password\" required>\
         <label for=\"new\">Kata sandi baru</label>\
         <input id=\"new\" name=\"new\" type=\"password\" autocomplete=\"new-password\" minlength=\"12\" required>\
         <button type=\"submit\">Simpan</button></form>",
        csrf = esc(&session.csrf),
    );
    layout("Ganti kata sandi", Some(&session), None, &body).into_response()
}

#[derive(Deserialize)]
pub struct PasswordForm {
    csrf: String,
    current: String,
    new: String,
}

pub async fn password(
    State(state): State<AppState>,
    PageSession(session): PageSession,
    Form(form): Form<PasswordForm>,
) -> Response {
    if !same_secret(&form.csrf, &session.csrf) {
        return Redirect::to("/password").into_response();
    }
    match staff::change_password(
        state.desk.store(),
        &session.actor.name,
        &form.current,
        &form.new,
        Some(&session.cookie),
    )
    .await
    {
        Ok(true) => back_with(&state, &session, "/", "Kata sandi tersimpan.").await,
        Ok(false) => back_with(&state, &session, "/password", "Kata sandi sekarang salah.").await,
        Err(
            e @ (staff::StaffError::WeakPassword
            | staff::StaffError::SamePassword
            | staff::StaffError::CommonPassword),
        ) => back_with(&state, &session, "/password", &capitalised(&e.to_string())).await,
        Err(e) => super::ApiError::from(e).into_response(),
    }
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
fn capitalised(text: &str) -> String {
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
