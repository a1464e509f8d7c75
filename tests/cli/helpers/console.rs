/*!
The staff console's router over a store, driven with `oneshot` (no socket): as a browser that
keeps its cookies, optionally with "sari" (staff) already signed in, and as an API client with a
bearer token.
*/

use axum::body::Body;
use axum::http::{Request, StatusCode};
use kicau::console::{AppState, app};
use kicau::desk::{Desk, Role, staff};
use kicau::store::Store;
use kicau::tickets::Tickets;
use serde_json::Value;
use tower::ServiceExt as _;

use super::engine;

/// The console over one store, with a browser's cookie jar.
pub struct Console {
    pub state: AppState,
    cookies: Vec<(String, String)>,
}

/// What a signed-in staff member holds besides the session cookie: the session's CSRF token
/// for forms, and an API token.
pub struct StaffSession {
    pub csrf: String,
    pub token: String,
}

/// A response: its status, headers, body, and where it redirects to.
pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
    pub location: Option<String>,
}

impl Reply {
    /// The header `name` as text ("" when absent).
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

impl Reply {
    /// The body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

impl Console {
    /// The console over `store` (with `tickets`, for their pages and API), nobody signed in.
    pub fn new(store: &Store, tickets: Option<&Tickets>) -> Console {
        Console {
            state: AppState {
                newsroom: kicau::announce::Newsroom::new(
                    Default::default(),
                    kicau::tweet::Splitter::new("PemkotMalang", 10),
                ),
                desk: Desk::new(store.clone())
                    .with_splitter(kicau::tweet::Splitter::new("PemkotMalang", 10)),
                engine: std::sync::Arc::new(kicau::triage::live::Live::new(engine())),
                account: "PemkotMalang".into(),
                secure_cookies: false,
                tickets: tickets.cloned(),
                whatsapp: None,
                logins: std::sync::Arc::new(kicau::desk::login::LoginGuard::default()),
                trusted_proxies: Vec::new(),
            },
            cookies: Vec::new(),
        }
    }

    /// As [`Console::new`], with "sari" (staff, her one-time password already changed) signed
    /// in: her session cookie is in the jar.
    pub async fn signed_in(store: &Store, tickets: Option<&Tickets>) -> (Console, StaffSession) {
        let password = staff::add(store, "sari", Role::Staff).await.unwrap();
        staff::change_password(store, "sari", &password, "kata-sandi-baru-sari", None)
            .await
            .unwrap();
        let kicau::desk::login::Attempt::Opened(session) =
            kicau::desk::login::LoginGuard::default()
                .login(store, "sari", "kata-sandi-baru-sari", None)
                .await
                .unwrap()
        else {
            panic!("sari's login was refused");
        };
        let token = staff::new_token(store, "sari").await.unwrap();
        let mut console = Console::new(store, tickets);
        console
            .cookies
            .push(("kicau_session".into(), session.cookie));
        let session = StaffSession {
            csrf: session.csrf,
            token,
        };
        (console, session)
    }

    /// The value of the cookie `name` in the jar.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `request` exactly as given (no cookies).
    pub async fn request(&self, request: Request<Body>) -> Reply {
        self.exchange(request).await.0
    }

    /// `request` through the router: the reply, and the cookies it sets (`name=value`).
    async fn exchange(&self, request: Request<Body>) -> (Reply, Vec<String>) {
        let response = app(self.state.clone()).oneshot(request).await.unwrap();
        let set_cookies = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| {
                let text = v.to_str().unwrap();
                text.split_once(';')
                    .map_or(text, |(pair, _)| pair)
                    .to_owned()
            })
            .collect();
        let location = response
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned());
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 22)
            .await
            .unwrap();
        let reply = Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
            location,
        };
        (reply, set_cookies)
    }

    /// A request as the browser: the jar's cookies go with it, and the cookies it sets are
    /// kept. `form` is sent URL-encoded.
    pub async fn send(
        &mut self,
        method: &str,
        uri: &str,
        form: Option<&[(&str, &str)]>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(uri);
        let cookie: Vec<String> = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        if !cookie.is_empty() {
            request = request.header("cookie", cookie.join("; "));
        }
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let request = match form {
            Some(form) => {
                let body: Vec<String> = form
                    .iter()
                    .map(|(k, v)| format!("{k}={}", kicau::channels::x::oauth1::percent_encode(v)))
                    .collect();
                request
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(Body::from(body.join("&")))
            }
            None => request.body(Body::empty()),
        }
        .unwrap();
        let (reply, set_cookies) = self.exchange(request).await;
        for pair in set_cookies {
            let (k, v) = pair.split_once('=').unwrap();
            self.cookies.retain(|(name, _)| name != k);
            if !v.is_empty() {
                self.cookies.push((k.to_owned(), v.to_owned()));
            }
        }
        reply
    }

    /// `GET uri` as the browser.
    pub async fn get(&mut self, uri: &str) -> Reply {
        self.send("GET", uri, None, &[]).await
    }

    /// A form posted to `uri` as the browser.
    pub async fn post_form(&mut self, uri: &str, form: &[(&str, &str)]) -> Reply {
        self.send("POST", uri, Some(form), &[]).await
    }

    /// An API call with `token` as bearer (none: anonymous) and `body` as JSON, without
    /// cookies; the status and the JSON answer (`Null` when there is none).
    pub async fn api(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let request = match body {
            Some(body) => request
                .header("content-type", "application/json")
                .body(Body::from(body.to_string())),
            None => request.body(Body::empty()),
        }
        .unwrap();
        let reply = self.request(request).await;
        (reply.status, reply.json())
    }
}
