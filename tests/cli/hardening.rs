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

/// How many audit entries record `action` (by `actor`, when given).
async fn audited(store: &kicau::store::Store, action: &str, actor: Option<&str>) -> usize {
    store
        .audit_log(1000)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.action == action && actor.is_none_or(|a| e.actor == a))
        .count()
}

/// One login through the console's form, as a browser that first opened the login page.
async fn log_in(console: &mut Console, name: &str, password: &str) -> Reply {
    console.get("/login").await;
    let csrf = console.cookie("kicau_login_csrf").unwrap().to_owned();
    console
        .post_form(
            "/login",
            &[("csrf", &csrf), ("name", name), ("password", password)],
        )
        .await
}

#[tokio::test]
async fn guessing_a_password_meets_growing_waits_then_a_lock_that_an_admin_can_lift() {
    use kicau::desk::login::{Clock, LoginGuard};
    use kicau::desk::{Role, staff};
    let backends = Backends::new().await;
    for (name, store) in &backends.stores {
        let first = staff::add(store, "sari", Role::Staff).await.unwrap();
        staff::change_password(store, "sari", &first, "kata-sandi-baru-sari", None)
            .await
            .unwrap();
        let clock = Clock::manual(1_796_500_000_000);
        let mut console = Console::new(store, None);
        console.state.logins = std::sync::Arc::new(LoginGuard::new(clock.clone()));

        // Three free failures, then each attempt must wait, twice as long each time: a wrong
        // password that comes too early is refused with 429 and not even checked.
        let (mut failures, mut waits) = (0, Vec::new());
        while failures < 10 {
            let reply = log_in(&mut console, "sari", "tebakan-salah").await;
            match reply.status.as_u16() {
                303 => {
                    assert!(reply.location.as_deref().unwrap().contains("salah"));
                    failures += 1;
                }
                429 => {
                    assert!(failures >= 3, "{name}: the first three failures are free");
                    assert!(reply.body.contains("Coba lagi dalam"), "{}", reply.body);
                    let wait: i64 = reply.header("retry-after").parse().unwrap();
                    waits.push(wait);
                    clock.advance(wait * 1000);
                }
                other => panic!("{name}: {other} {}", reply.body),
            }
        }
        assert_eq!(waits.first(), Some(&1), "{name}: {waits:?}");
        assert_eq!(
            waits.len(),
            7,
            "{name}: one wait after each failure past three"
        );
        assert!(
            waits.windows(2).all(|w| w[1] > w[0]),
            "{name}: Retry-After grows: {waits:?}"
        );

        // Ten failures in a row: locked, even for the right password, for 15 minutes.
        clock.advance(60_000);
        let locked = log_in(&mut console, "sari", "kata-sandi-baru-sari").await;
        assert_eq!(locked.status, 429, "{name}: {}", locked.body);
        assert!(locked.body.contains("dikunci"), "{}", locked.body);
        let retry: i64 = locked.header("retry-after").parse().unwrap();
        assert!((13 * 60..=15 * 60).contains(&retry), "{name}: {retry}");
        assert_eq!(
            audited(store, "account_locked", None).await,
            1,
            "{name}: the lock is audited once"
        );
        assert_eq!(
            audited(store, "login_failed", None).await,
            0,
            "{name}: single failures do not fill the audit log"
        );

        // The lock ends by itself after 15 minutes.
        clock.advance(15 * 60 * 1000);
        let opened = log_in(&mut console, "sari", "kata-sandi-baru-sari").await;
        assert_eq!(opened.status, 303, "{name}");
        assert_eq!(opened.location.as_deref(), Some("/"), "{name}");

        // Locked again; an admin lifts it at once (audited), and the right password works.
        let mut stranger = Console::new(store, None);
        stranger.state.logins = console.state.logins.clone();
        for _ in 0..10 {
            let reply = log_in(&mut stranger, "sari", "tebakan-salah").await;
            if reply.status == 429 {
                let wait: i64 = reply.header("retry-after").parse().unwrap();
                clock.advance(wait * 1000);
                log_in(&mut stranger, "sari", "tebakan-salah").await;
            }
        }
        let still = log_in(&mut stranger, "sari", "kata-sandi-baru-sari").await;
        assert_eq!(still.status, 429, "{name}: locked again");
        assert_eq!(audited(store, "account_locked", None).await, 2, "{name}");
        assert!(
            kicau::desk::login::unlock(store, "kepala", "sari", clock.now())
                .await
                .unwrap()
        );
        let opened = log_in(&mut stranger, "sari", "kata-sandi-baru-sari").await;
        assert_eq!(opened.location.as_deref(), Some("/"), "{name}: unlocked");
        assert_eq!(
            audited(store, "account_unlocked", Some("kepala")).await,
            1,
            "{name}"
        );
    }
}

#[tokio::test]
async fn a_new_password_is_long_and_new_ends_the_other_sessions_and_unlocks_tokens() {
    use kicau::desk::login::{Attempt, LoginGuard};
    use kicau::desk::{Role, staff};
    let backends = Backends::new().await;
    for (name, store) in &backends.stores {
        let otp = staff::add(store, "budi", Role::Staff).await.unwrap();
        let token = staff::new_token(store, "budi").await.unwrap();
        assert!(
            staff::by_token(store, &token).await.unwrap().is_none(),
            "{name}: no API until the one-time password is changed"
        );
        let guard = LoginGuard::default();
        let mut sessions = Vec::new();
        for _ in 0..2 {
            match guard.login(store, "budi", &otp, None).await.unwrap() {
                Attempt::Opened(session) => sessions.push(session),
                other => panic!("{name}: {other:?}"),
            }
        }
        assert!(matches!(
            staff::change_password(store, "budi", &otp, &otp, None).await,
            Err(staff::StaffError::SamePassword)
        ));
        assert!(matches!(
            staff::change_password(store, "budi", &otp, "sebelas-kar", None).await,
            Err(staff::StaffError::WeakPassword)
        ));
        assert!(
            staff::change_password(
                store,
                "budi",
                &otp,
                "kata-sandi-budi-baru",
                Some(&sessions[0].cookie)
            )
            .await
            .unwrap()
        );
        assert!(
            staff::session(store, &sessions[0].cookie)
                .await
                .unwrap()
                .is_some(),
            "{name}: the session that changed it goes on"
        );
        assert!(
            staff::session(store, &sessions[1].cookie)
                .await
                .unwrap()
                .is_none(),
            "{name}: every other session ends"
        );
        assert!(staff::by_token(store, &token).await.unwrap().is_some());
    }
}

#[tokio::test]
async fn expired_sessions_are_pruned_and_live_ones_kept() {
    use kicau::desk::login::{Attempt, Clock, LoginGuard};
    use kicau::desk::{Role, staff};
    let backends = Backends::new().await;
    for (name, store) in &backends.stores {
        staff::add(store, "sari", Role::Staff).await.unwrap();
        staff::set_password(store, "sari", "kata-sandi-baru-sari")
            .await
            .unwrap();
        let start = 1_796_500_000_000;
        let clock = Clock::manual(start);
        let guard = LoginGuard::new(clock.clone());
        // One session now, one a session's lifetime later.
        for _ in 0..2 {
            let attempt = guard
                .login(store, "sari", "kata-sandi-baru-sari", None)
                .await
                .unwrap();
            assert!(matches!(attempt, Attempt::Opened(_)), "{name}: {attempt:?}");
            clock.advance(staff::SESSION_TTL_MS);
        }
        let pruned = staff::prune_sessions(store, start + staff::SESSION_TTL_MS + 1)
            .await
            .unwrap();
        assert_eq!(pruned, 1, "{name}: only the expired one");
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(left, 1, "{name}: the younger one is kept");
    }
}
