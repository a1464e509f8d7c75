//! The console's edges: the security headers on every kind of response (pages, forms, JSON,
//! errors, static files, the login page), on both store backends.

use crate::helpers::{Backends, Console, Reply};

/// The headers every response carries, whatever it is.
fn assert_guarded(what: &str, reply: &Reply) {
    let csp = reply.header("content-security-policy");
    for directive in [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
    ] {
        assert!(
            csp.contains(directive),
            "{what}: CSP lacks {directive}: {csp:?}"
        );
    }
    assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
    assert_eq!(reply.header("x-frame-options"), "DENY", "{what}");
    assert_eq!(reply.header("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(reply.header("referrer-policy"), "no-referrer", "{what}");
    assert_eq!(
        reply.header("strict-transport-security"),
        "",
        "{what}: no HSTS over plain HTTP"
    );
}

#[tokio::test]
async fn every_console_response_carries_the_security_headers() {
    let backends = Backends::new().await;
    for (name, store) in &backends.stores {
        let (mut console, session) = Console::signed_in(store, None).await;
        let mut pages = Vec::new();
        for uri in ["/", "/corrections", "/report", "/audit", "/dead-letters"] {
            pages.push((uri.to_owned(), console.get(uri).await));
        }
        pages.push(("a missing page".into(), console.get("/no/such/page").await));
        pages.push((
            "a form with a wrong CSRF token".into(),
            console
                .post_form("/knowledge/reload", &[("csrf", "wrong")])
                .await,
        ));
        for (what, reply) in &pages {
            let what = format!("{name} {what}");
            assert_guarded(&what, reply);
            assert_eq!(reply.header("cache-control"), "no-store", "{what}");
        }
        for uri in ["/static/console.css", "/static/console.js"] {
            let reply = console.get(uri).await;
            assert_guarded(uri, &reply);
            assert!(
                reply.header("cache-control").starts_with("public"),
                "{uri}: static files may be cached"
            );
        }
        let mut stranger = Console::new(store, None);
        let login = stranger.get("/login").await;
        assert_guarded("the login page", &login);
        assert_eq!(login.header("cache-control"), "no-store");
        // JSON with citizens' data, and the API's errors.
        let reply = console
            .request(
                axum::http::Request::get("/api/conversations")
                    .header("authorization", format!("Bearer {}", session.token))
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(reply.status, 200);
        assert_guarded("the API", &reply);
        assert_eq!(reply.header("cache-control"), "no-store");
        let anonymous = console
            .request(
                axum::http::Request::get("/api/conversations")
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(anonymous.status, 401);
        assert_guarded("the API's 401", &anonymous);
    }
}

#[tokio::test]
async fn behind_https_the_console_asks_for_https_only() {
    let backends = Backends::new().await;
    let (_, store) = &backends.stores[0];
    let mut console = Console::new(store, None);
    console.state.secure_cookies = true;
    let login = console.get("/login").await;
    assert_eq!(
        login.header("strict-transport-security"),
        "max-age=31536000; includeSubDomains"
    );
}
