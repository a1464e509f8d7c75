//! The login, logout and password pages: a one-time password is changed at the first login;
//! the login form carries its own CSRF cookie; failures go through the login guard.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::auth::{
    LOGIN_CSRF_COOKIE, PageSession, cookie, login_csrf_cookie, same_secret, session_cookie,
};
use super::pages::{back_with, capitalised, layout};
use super::{AppState, esc};
use crate::desk::staff;

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
