//! Who is calling: an API token (`Authorization: Bearer`) or a console session cookie. Unsafe
//! requests on a cookie session must carry its CSRF token (the `X-CSRF-Token` header for API
//! calls, the `csrf` form field for pages); bearer calls need none.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Redirect, Response};

use super::{ApiError, AppState};
use crate::desk::Actor;
use crate::desk::staff::{self, Session};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "kicau_session";
/// The login form's double-submit CSRF cookie (there is no session yet to hold a token).
pub const LOGIN_CSRF_COOKIE: &str = "kicau_login_csrf";

/// An authenticated API caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub actor: Actor,
}

/// A cookie value by name.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// Compares secrets in constant time.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let store = state.desk.store();
        if let Some(value) = parts
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
        {
            let Some(token) = value.strip_prefix("Bearer ") else {
                return Err(ApiError::Unauthorized);
            };
            return match staff::by_token(store, token.trim()).await? {
                Some(actor) => Ok(Caller { actor }),
                None => Err(ApiError::Unauthorized),
            };
        }
        let Some(value) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(ApiError::Unauthorized);
        };
        let Some(session) = staff::session(store, &value).await? else {
            return Err(ApiError::Unauthorized);
        };
        if !matches!(parts.method, Method::GET | Method::HEAD) {
            let sent = parts
                .headers
                .get("x-csrf-token")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !same_secret(sent, &session.csrf) {
                return Err(ApiError::Forbidden(
                    "token CSRF tidak valid; muat ulang halaman".into(),
                ));
            }
        }
        if session.must_change {
            return Err(ApiError::Forbidden(
                "ganti kata sandi sekali pakai dulu di /password".into(),
            ));
        }
        Ok(Caller {
            actor: session.actor,
        })
    }
}

/// A signed-in console page visitor; anyone else is sent to the login page.
#[derive(Debug, Clone)]
pub struct PageSession(pub Session);

/// Where an unauthenticated page visit goes.
pub struct ToLogin;

impl IntoResponse for ToLogin {
    fn into_response(self) -> Response {
        Redirect::to("/login").into_response()
    }
}

impl FromRequestParts<AppState> for PageSession {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Some(value) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(ToLogin.into_response());
        };
        match staff::session(state.desk.store(), &value).await {
            Ok(Some(mut session)) => {
                // A page shown to the person takes the notice left for it; the live refresh of
                // a page (console.js, marked by its header) and forms do not.
                let live = parts.headers.contains_key("x-kicau-live");
                if parts.method == Method::GET && !live {
                    session.notice = staff::take_notice(state.desk.store(), &value)
                        .await
                        .map_err(|e| ApiError::from(e).into_response())?;
                }
                if parts.method == Method::GET {
                    session.attention = Some(
                        state
                            .desk
                            .attention()
                            .await
                            .map_err(|e| ApiError::from(e).into_response())?,
                    );
                }
                Ok(PageSession(session))
            }
            Ok(None) => Err(ToLogin.into_response()),
            Err(e) => Err(ApiError::from(e).into_response()),
        }
    }
}

/// The `Set-Cookie` value of a session cookie (or of its removal when `value` is empty).
pub fn session_cookie(value: &str, secure: bool) -> String {
    let max_age = if value.is_empty() {
        0
    } else {
        staff::SESSION_TTL_MS / 1000
    };
    format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` value of the login form's CSRF cookie.
pub fn login_csrf_cookie(value: &str, secure: bool) -> String {
    format!(
        "{LOGIN_CSRF_COOKIE}={value}; Path=/login; HttpOnly; SameSite=Strict; Max-Age=3600{}",
        if secure { "; Secure" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert("cookie", "a=1; kicau_session=abc; b=2".parse().unwrap());
        assert_eq!(cookie(&headers, SESSION_COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie(&headers, "c"), None);
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
    }

    #[test]
    fn session_cookies_are_httponly_and_samesite() {
        let c = session_cookie("v", true);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax") && c.contains("Secure"));
        assert!(session_cookie("", false).contains("Max-Age=0"));
    }
}

/// The client's address: the connection's peer, or, when the peer is one of the trusted
/// proxies, the last address in `X-Forwarded-For` that is not itself a trusted proxy.
pub fn client_address(
    peer: Option<std::net::IpAddr>,
    headers: &axum::http::HeaderMap,
    trusted: &[std::net::IpAddr],
) -> Option<std::net::IpAddr> {
    let peer = peer?;
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    let forwarded: Vec<std::net::IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|part| part.trim().parse().ok())
        .collect();
    forwarded
        .into_iter()
        .rev()
        .find(|ip| !trusted.contains(ip))
        .or(Some(peer))
}

#[cfg(test)]
mod client_address_tests {
    use super::*;

    #[test]
    fn the_client_is_the_peer_unless_a_trusted_proxy_forwards_it() {
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        let mut headers = axum::http::HeaderMap::new();
        headers.insert("x-forwarded-for", "203.0.113.9, 10.0.0.2".parse().unwrap());
        let proxies = [ip("10.0.0.1"), ip("10.0.0.2")];
        // A stranger's X-Forwarded-For is ignored: anyone can write one.
        assert_eq!(
            client_address(Some(ip("198.51.100.7")), &headers, &proxies),
            Some(ip("198.51.100.7"))
        );
        // Through the proxies, the last address that is not one of them.
        assert_eq!(
            client_address(Some(ip("10.0.0.1")), &headers, &proxies),
            Some(ip("203.0.113.9"))
        );
        assert_eq!(
            client_address(
                Some(ip("10.0.0.1")),
                &axum::http::HeaderMap::new(),
                &proxies
            ),
            Some(ip("10.0.0.1"))
        );
        assert_eq!(client_address(None, &headers, &proxies), None);
    }
}
