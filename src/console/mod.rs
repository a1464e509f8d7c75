/*!
The staff console: server-rendered Indonesian pages, the JSON API they share with outside tools
(`/api`, described at `/api/openapi.json`), and the live event stream (`/events`).

Everything here calls the desk ([`crate::desk`]); the console holds no state of its own beyond the
signed-in sessions in the database. Sessions are cookies (HttpOnly, SameSite=Lax) whose forms and
unsafe API calls carry a CSRF token; API clients use `Authorization: Bearer <token>` and need no
CSRF token, since a browser never sends that header on its own.
*/

mod admin_pages;
mod api;
mod auth;
mod case_api;
mod case_view;
mod charts;
mod cost_pages;
mod gaps_pages;
mod help_pages;
mod kabar_pages;
mod learning_api;
mod learning_pages;
mod login_pages;
mod pages;
mod report_pages;
mod search_pages;
mod thread_view;
mod ticket_pages;
mod webhooks;
mod words;

use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use crate::desk::{Desk, DeskError};

pub use auth::{Caller, SESSION_COOKIE};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub desk: Desk,
    /// Agencies' announcements: the "Kabar" pages.
    pub newsroom: crate::announce::Newsroom,
    /// For "insert a knowledge-base answer" and the reply's citizen handle rules.
    /// The engine in use (`/api/ask`, the corrections' labels, the reload button).
    pub engine: Arc<crate::triage::live::Live>,
    /// The account's handle, for page titles and links.
    pub account: String,
    /// Mark cookies `Secure` (behind HTTPS).
    pub secure_cookies: bool,
    /// Complaint tickets, for their page and API.
    pub tickets: Option<crate::tickets::Tickets>,
    /// The WhatsApp webhook's secrets, when agencies use WhatsApp.
    pub whatsapp: Option<WhatsAppHook>,
    /// Failed logins, waits and locks (`desk::login`), with the clock they count by.
    pub logins: Arc<crate::desk::login::LoginGuard>,
    /// Proxies whose `X-Forwarded-For` names the client (`[console] trusted_proxies`).
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

/// What the WhatsApp webhook checks: the app secret that signs bodies and the verify token of
/// the subscription handshake.
#[derive(Clone)]
pub struct WhatsAppHook {
    pub app_secret: String,
    pub verify_token: String,
}

/// The console's router: pages, API, events and static assets.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/", get(pages::queue))
        .route(
            "/login",
            get(login_pages::login_form).post(login_pages::login),
        )
        .route("/logout", post(login_pages::logout))
        .route(
            "/password",
            get(login_pages::password_form).post(login_pages::password),
        )
        .route("/conversations/{id}", get(pages::conversation))
        .route("/conversations/{id}/correct", post(learning_pages::correct))
        .route("/conversations/{id}/reveal", post(admin_pages::reveal))
        .route("/conversations/{id}/{action}", post(pages::act))
        .route("/corrections", get(learning_pages::corrections))
        .route("/corrections/{id}/{action}", post(learning_pages::review))
        .route("/knowledge/reload", post(learning_pages::reload))
        .route("/api/ask", get(learning_api::ask))
        .route("/api/engine", get(learning_api::engine))
        .route("/api/corrections", get(learning_api::corrections))
        .route(
            "/api/conversations/{id}/corrections",
            post(learning_api::propose_correction),
        )
        .route(
            "/api/corrections/{id}/{action}",
            post(learning_api::review_correction),
        )
        .route("/api/knowledge/reload", post(learning_api::reload))
        .route("/audit", get(admin_pages::audit))
        .route("/staff", get(admin_pages::accounts))
        .route("/staff/{name}/unlock", post(admin_pages::unlock))
        .route("/privacy/forget", post(admin_pages::forget))
        .route("/kabar", get(kabar_pages::list))
        .route("/kabar/new", post(kabar_pages::create))
        .route("/kabar/{id}", get(kabar_pages::draft))
        .route("/kabar/{id}/{action}", post(kabar_pages::act))
        .route("/report", get(report_pages::report))
        .route("/report/gaps", get(gaps_pages::page))
        .route("/search", get(search_pages::search))
        .route("/api/search", get(api::search))
        .route("/metrics", get(api::metrics))
        .route("/api/report", get(api::report))
        .route("/api/report/gaps", get(gaps_pages::api))
        .route("/dead-letters", get(admin_pages::dead_letters))
        .route("/events", get(api::events))
        .route("/static/console.css", get(pages::css))
        .route("/static/console.js", get(pages::js))
        .route("/static/keys.js", get(pages::keys_js))
        .route("/help", get(help_pages::help))
        .route("/static/replies.js", get(pages::replies_js))
        .route(
            "/webhooks/whatsapp",
            get(webhooks::verify).post(webhooks::whatsapp),
        )
        .route("/api/openapi.json", get(api::openapi))
        .route("/api/conversations", get(api::list))
        .route("/api/conversations/{id}", get(api::detail))
        .route("/api/conversations/{id}/claim", post(api::claim))
        .route("/api/conversations/{id}/reply", post(api::reply))
        .route("/api/preview", post(api::preview))
        .route("/api/conversations/{id}/reveal", post(api::reveal))
        .route("/api/conversations/{id}/release", post(api::release))
        .route("/api/conversations/{id}/close", post(api::close))
        .route(
            "/api/conversations/{id}/notes",
            get(case_api::notes).post(case_api::add_note),
        )
        .route("/api/conversations/{id}/assign", post(case_api::assign))
        .route("/api/knowledge", get(api::knowledge))
        .route("/api/replies", get(api::replies))
        .route("/api/tickets", get(api::tickets))
        .route("/api/tickets/{number}", get(api::ticket))
        .route("/api/tickets/{number}/reroute", post(api::reroute))
        .route("/api/tickets/{number}/reopen", post(api::reopen))
        .route("/api/tickets/{number}/place", post(api::place))
        .route("/api/ticket-notes", get(api::held_notes))
        .route("/api/ticket-notes/{id}/{action}", post(api::decide_note))
        .route("/api/open311/requests.json", get(api::open311))
        .route("/tickets", get(ticket_pages::tickets))
        .route("/tickets/{number}/{action}", post(ticket_pages::ticket_act))
        .route("/ticket-notes/{id}/{action}", post(ticket_pages::note_act))
        .route("/api/dead-letters", get(api::dead_letters))
        .fallback(|| async { ApiError::NotFound("halaman tidak ditemukan".into()) })
        .layer(axum::middleware::from_fn(json_errors))
        .layer(axum::middleware::map_response_with_state(
            state.secure_cookies,
            security_headers,
        ))
        .with_state(state)
}

/// Every error of the API is JSON (`{"error": "..."}`), as openapi.json says: the rejections of
/// axum's extractors (a malformed query, path or body) are plain text, so they are rewrapped,
/// with the status 400 (the API's own 422, a reply over the cap on parts, is JSON already).
async fn json_errors(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let path = request.uri().path();
    let api = path.starts_with("/api/") || path == "/events" || path == "/metrics";
    let machine = path.starts_with("/webhooks/") || path.starts_with("/static/");
    let response = next.run(request).await;
    let status = response.status();
    let content_type = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let is_json = content_type.starts_with("application/json");
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    if !api {
        if machine || content_type.starts_with("text/html") {
            return response;
        }
        return error_page(response).await;
    }
    if is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let message = if text.is_empty() {
        parts
            .status
            .canonical_reason()
            .unwrap_or("permintaan ditolak")
            .to_owned()
    } else {
        format!("permintaan tidak valid: {text}")
    };
    // An extractor's 422 (JSON of the wrong shape) is a malformed request like any other: 400.
    let status = if parts.status == StatusCode::UNPROCESSABLE_ENTITY {
        StatusCode::BAD_REQUEST
    } else {
        parts.status
    };
    let mut fixed = (status, axum::Json(json!({ "error": message }))).into_response();
    for (name, value) in &parts.headers {
        if name != axum::http::header::CONTENT_TYPE && name != axum::http::header::CONTENT_LENGTH {
            fixed.headers_mut().insert(name.clone(), value.clone());
        }
    }
    fixed
}

/// A page's error (a missing page, a conversation that is not there, a form the server could
/// not read) as a page in Indonesian, with the same status: the API's JSON message when there is
/// one, never an extractor's English text.
async fn error_page(response: Response) -> Response {
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024)
        .await
        .unwrap_or_default();
    let said = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_owned));
    // An extractor's 422 (a form without its fields) is a malformed request like any other.
    let status = match parts.status {
        StatusCode::UNPROCESSABLE_ENTITY if said.is_none() => StatusCode::BAD_REQUEST,
        s => s,
    };
    let (title, fallback) = match status {
        StatusCode::NOT_FOUND => ("Halaman tidak ditemukan", "Alamat ini tidak ada di konsol."),
        StatusCode::FORBIDDEN => ("Tidak diizinkan", "Anda tidak boleh melakukan ini."),
        StatusCode::CONFLICT => ("Tidak bisa dilakukan", "Keadaan sudah berubah."),
        StatusCode::TOO_MANY_REQUESTS => (
            "Terlalu banyak permintaan",
            "Tunggu sebentar lalu coba lagi.",
        ),
        s if s.is_server_error() => (
            "Terjadi kesalahan",
            "Terjadi kesalahan di server; coba lagi.",
        ),
        _ => (
            "Permintaan tidak valid",
            "Formulir tidak lengkap atau rusak. Muat ulang halaman lalu coba lagi.",
        ),
    };
    let message = said.unwrap_or_else(|| fallback.to_owned());
    let body = format!(
        "<p class=\"error-page\">{}</p><p><a href=\"/\">Kembali ke antrean</a></p>",
        esc(&message)
    );
    let mut page = (status, pages::layout(title, None, None, &body)).into_response();
    for (name, value) in &parts.headers {
        if name != axum::http::header::CONTENT_TYPE && name != axum::http::header::CONTENT_LENGTH {
            page.headers_mut().insert(name.clone(), value.clone());
        }
    }
    page
}

/// The content security policy of every response: scripts, styles and connections from the
/// console itself only (no inline script or style anywhere), never inside a frame, forms posted
/// only back to the console.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
                   frame-ancestors 'none'";

/// Adds the security headers to every response of the console: the policy above, no framing, no
/// sniffing, no referrer, nothing cached but the static assets (pages and JSON carry citizens'
/// data), and HSTS when the console is behind HTTPS (`secure_cookies`).
async fn security_headers(
    axum::extract::State(https): axum::extract::State<bool>,
    mut response: Response,
) -> Response {
    use axum::http::header::{self, HeaderValue};
    let headers = response.headers_mut();
    let mut set = |name: header::HeaderName, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(header::CONTENT_SECURITY_POLICY, CSP);
    set(header::X_FRAME_OPTIONS, "DENY");
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::REFERRER_POLICY, "no-referrer");
    if https {
        set(
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000; includeSubDomains",
        );
    }
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// Serves the console on `listener` until `shutdown` turns true.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<()> {
    let service = app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(async move {
            while !*shutdown.borrow() {
                if shutdown.changed().await.is_err() {
                    break;
                }
            }
        })
        .await
}

/// An API error: `{"error": "..."}` with the usual status. Client errors are not logged;
/// server errors are, once.
#[derive(Debug)]
pub enum ApiError {
    BadRequest(String),
    Unauthorized,
    Forbidden(String),
    NotFound(String),
    Conflict(String),
    /// Well formed but not acceptable as it stands (a reply over the cap on thread parts).
    Unprocessable(String),
    Internal(String),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            ApiError::BadRequest(m) => (StatusCode::BAD_REQUEST, m),
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "perlu masuk (login) atau token API".to_owned(),
            ),
            ApiError::Forbidden(m) => (StatusCode::FORBIDDEN, m),
            ApiError::NotFound(m) => (StatusCode::NOT_FOUND, m),
            ApiError::Conflict(m) => (StatusCode::CONFLICT, m),
            ApiError::Unprocessable(m) => (StatusCode::UNPROCESSABLE_ENTITY, m),
            ApiError::Internal(m) => {
                tracing::error!(error = %m, "console request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "terjadi kesalahan di server; coba lagi".to_owned(),
                )
            }
        };
        (status, axum::Json(json!({"error": message}))).into_response()
    }
}

impl From<DeskError> for ApiError {
    fn from(e: DeskError) -> Self {
        match e {
            DeskError::NotFound => ApiError::NotFound(e.to_string()),
            DeskError::HeldBy(_) | DeskError::Closed => ApiError::Conflict(e.to_string()),
            DeskError::NotHolder | DeskError::AdminOnly => ApiError::Forbidden(e.to_string()),
            DeskError::Invalid(m) => ApiError::BadRequest(m),
            DeskError::TooLong(m) | DeskError::PersonalData(m) => ApiError::Unprocessable(m),
            DeskError::Store(e) => ApiError::Internal(e.to_string()),
        }
    }
}

impl From<crate::announce::AnnounceError> for ApiError {
    fn from(e: crate::announce::AnnounceError) -> Self {
        use crate::announce::AnnounceError;
        match e {
            AnnounceError::NotFound => ApiError::NotFound(e.to_string()),
            AnnounceError::Store(e) => ApiError::Internal(e.to_string()),
            other => ApiError::BadRequest(other.to_string()),
        }
    }
}

impl From<crate::desk::staff::StaffError> for ApiError {
    fn from(e: crate::desk::staff::StaffError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl From<crate::tickets::TicketError> for ApiError {
    fn from(e: crate::tickets::TicketError) -> Self {
        match e {
            crate::tickets::TicketError::NotFound(_)
            | crate::tickets::TicketError::NoteNotFound(_) => ApiError::NotFound(e.to_string()),
            crate::tickets::TicketError::NotAllowed { .. }
            | crate::tickets::TicketError::NotResolved { .. }
            | crate::tickets::TicketError::RejectedBy { .. }
            | crate::tickets::TicketError::NoteDecided(_) => ApiError::Conflict(e.to_string()),
            crate::tickets::TicketError::InvalidPlace(m) => ApiError::BadRequest(m),
            crate::tickets::TicketError::Store(e) => ApiError::Internal(e.to_string()),
        }
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

/// HTML-escapes text from outside (tweets, names, evidence) for any element or quoted
/// attribute.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Months as pages abbreviate them.
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des",
];

/// A moment (milliseconds since the epoch) in Malang's time zone.
fn in_wib(ms: i64) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .map(|t| t.to_offset(crate::tickets::sla::WIB))
}

/// A moment (milliseconds since the epoch) as staff read it: the date and time in Malang,
/// `6 Des 2026 06.53 WIB` (see [`crate::wib`]).
pub fn wib_time(ms: i64) -> String {
    crate::wib::time(ms)
}

/// The day of a moment in Malang as a chart labels it: weekday and date, `Sen 7 Des`.
pub fn wib_day(ms: i64) -> String {
    const DAYS: [&str; 7] = ["Sen", "Sel", "Rab", "Kam", "Jum", "Sab", "Min"];
    let Some(t) = in_wib(ms) else {
        return "-".to_owned();
    };
    format!(
        "{} {} {}",
        DAYS[usize::from(t.weekday().number_days_from_monday())],
        t.day(),
        MONTHS[usize::from(u8::from(t.month())) - 1],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_read_in_malang() {
        // 2026-12-06T17:00:00Z is Monday 7 December, midnight in Malang.
        assert_eq!(wib_day(1_796_576_400_000), "Sen 7 Des");
        assert_eq!(wib_day(1_796_576_400_000 - 1), "Min 6 Des");
    }

    #[test]
    fn times_read_in_malang() {
        // 2026-12-05T23:53:29Z is the next morning in Malang.
        assert_eq!(wib_time(1_796_514_809_000), "6 Des 2026 06.53 WIB");
        assert_eq!(wib_time(0), "1 Jan 1970 07.00 WIB");
    }

    #[test]
    fn escaping_covers_elements_and_attributes() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
    }
}
