//! The console's edges: the security headers on every kind of response (pages, forms, JSON,
//! errors, static files, the login page), on both store backends.

use crate::helpers::{Backends, Console, Reply};
use serde_json::json;

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
        for uri in [
            "/static/console.css",
            "/static/console.js",
            "/static/replies.js",
        ] {
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
                    assert_eq!(reply.location.as_deref(), Some("/login?n=wrong"));
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
        let Attempt::Opened(first) = guard.login(store, "budi", &otp, None).await.unwrap() else {
            panic!("{name}: the one-time password opens one session");
        };
        let again = guard.login(store, "budi", &otp, None).await.unwrap();
        assert!(
            matches!(again, Attempt::OneTimeSpent),
            "{name}: and only one: {again:?}"
        );
        assert!(matches!(
            staff::change_password(store, "budi", &otp, &otp, None).await,
            Err(staff::StaffError::SamePassword)
        ));
        assert!(matches!(
            staff::change_password(store, "budi", &otp, "sebelas-kar", None).await,
            Err(staff::StaffError::WeakPassword)
        ));
        assert!(matches!(
            staff::change_password(store, "budi", &otp, "password1234", None).await,
            Err(staff::StaffError::CommonPassword)
        ));
        assert!(
            staff::change_password(store, "budi", &otp, "kata-sandi-budi-lama", None)
                .await
                .unwrap()
        );
        let mut sessions = vec![first];
        for _ in 0..2 {
            match guard
                .login(store, "budi", "kata-sandi-budi-lama", None)
                .await
                .unwrap()
            {
                Attempt::Opened(session) => sessions.push(session),
                other => panic!("{name}: {other:?}"),
            }
        }
        assert!(
            staff::session(store, &sessions[0].cookie)
                .await
                .unwrap()
                .is_none(),
            "{name}: the one-time session ended with the change"
        );
        sessions.remove(0);
        assert!(
            staff::change_password(
                store,
                "budi",
                "kata-sandi-budi-lama",
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

#[tokio::test]
async fn a_one_time_password_expires_after_a_day_and_a_reset_gives_a_new_one() {
    use kicau::desk::login::{Attempt, Clock, LoginGuard};
    use kicau::desk::{Role, staff};
    let backends = Backends::new().await;
    for (name, store) in &backends.stores {
        let otp = staff::add(store, "dewi", Role::Staff).await.unwrap();
        let clock = Clock::manual(kicau::store::now_ms());
        let guard = LoginGuard::new(clock.clone());
        clock.advance(staff::ONE_TIME_TTL_MS + 1);
        let late = guard.login(store, "dewi", &otp, None).await.unwrap();
        assert!(matches!(late, Attempt::OneTimeSpent), "{name}: {late:?}");
        let fresh = staff::reset(store, "dewi", clock.now()).await.unwrap();
        assert_ne!(fresh, otp);
        let old = guard.login(store, "dewi", &otp, None).await.unwrap();
        assert!(matches!(old, Attempt::Refused), "{name}: {old:?}");
        let opened = guard.login(store, "dewi", &fresh, None).await.unwrap();
        assert!(
            matches!(opened, Attempt::Opened(ref s) if s.must_change),
            "{name}: {opened:?}"
        );
        assert_eq!(audited(store, "password_reset", None).await, 1, "{name}");
    }
}

#[tokio::test]
async fn no_page_prints_text_from_its_address() {
    let backends = Backends::new().await;
    for (name, store) in &backends.stores {
        let mut stranger = Console::new(store, None);
        let phishing = "Akun%20diblokir%2C%20hubungi%20WA%200812";
        for uri in [
            format!("/login?msg={phishing}"),
            format!("/login?n={phishing}"),
        ] {
            let page = stranger.get(&uri).await;
            assert_eq!(page.status, 200, "{name} {uri}");
            assert!(!page.body.contains("diblokir"), "{name} {uri}");
            assert!(!page.body.contains("class=\"flash\""), "{name} {uri}");
        }
        let known = stranger.get("/login?n=out").await;
        assert!(known.body.contains("Anda sudah keluar."), "{name}");
        let (mut console, _) = Console::signed_in(store, None).await;
        for uri in ["/", "/corrections", "/staff", "/tickets"] {
            let page = console.get(&format!("{uri}?msg={phishing}")).await;
            assert!(!page.body.contains("diblokir"), "{name} {uri}");
        }
    }
}

#[tokio::test]
async fn an_admin_unlocks_a_locked_account_from_the_staff_page() {
    use kicau::desk::login::LOCK_AFTER;
    use kicau::desk::{Role, staff};
    let backends = Backends::new().await;
    for (name, store) in &backends.stores {
        let (mut admin, session) = Console::signed_in(store, None).await;
        sqlx::query("UPDATE staff SET role = 'admin' WHERE name = 'sari'")
            .execute(store.pool())
            .await
            .unwrap();
        staff::add(store, "budi", Role::Staff).await.unwrap();
        staff::set_password(store, "budi", "kata-sandi-budi-baru")
            .await
            .unwrap();
        sqlx::query("UPDATE staff SET locked_until = $1 WHERE name = 'budi'")
            .bind(kicau::store::now_ms() + 600_000)
            .execute(store.pool())
            .await
            .unwrap();
        let page = admin.get("/staff").await;
        assert!(page.body.contains("Terkunci sampai"), "{name}");
        assert!(
            page.body.contains(&format!("{LOCK_AFTER} kali gagal")),
            "{name}"
        );
        let done = admin
            .post_form("/staff/budi/unlock", &[("csrf", &session.csrf)])
            .await;
        assert_eq!(done.location.as_deref(), Some("/staff"), "{name}");
        let page = admin.get("/staff").await;
        assert!(page.body.contains("Akun budi dibuka"), "{name}: the notice");
        assert!(!page.body.contains("Terkunci sampai"), "{name}");
        assert_eq!(
            audited(store, "account_unlocked", Some("sari")).await,
            1,
            "{name}"
        );
        let mut stranger = Console::new(store, None);
        let opened = log_in(&mut stranger, "budi", "kata-sandi-budi-baru").await;
        assert_eq!(opened.location.as_deref(), Some("/"), "{name}");
    }
}

#[tokio::test]
async fn a_reply_over_the_cap_is_refused_before_queueing_and_the_preview_shows_the_exact_parts() {
    let backends = Backends::new().await;
    for (name, store) in &backends.stores {
        let conv = crate::helpers::mention_at(
            store,
            "700",
            "warga7",
            "@PemkotMalang kapan festival?",
            ("handoff", "no_kb_match"),
            0,
        )
        .await
        .unwrap();
        let (console, session) = Console::signed_in(store, None).await;
        let token = session.token.as_str();
        let claim = format!("/api/conversations/{conv}/claim");
        let (status, _) = console.api("POST", &claim, Some(token), None).await;
        assert_eq!(status, 200, "{name}");
        let outbox = || async {
            sqlx::query_scalar::<sqlx::Any, i64>("SELECT COUNT(*) FROM outbox WHERE channel = 'x'")
                .fetch_one(store.pool())
                .await
                .unwrap()
        };
        let before = outbox().await;

        // 100,000 characters: refused whole, nothing queued.
        let huge = "Informasi layanan publik kota Malang. ".repeat(2_700);
        let reply = format!("/api/conversations/{conv}/reply");
        let (status, body) = console
            .api("POST", &reply, Some(token), Some(json!({"text": huge})))
            .await;
        assert_eq!(status, 422, "{name}: {body}");
        assert!(
            body["error"].as_str().unwrap().contains("paling banyak 10"),
            "{body}"
        );
        assert_eq!(outbox().await, before, "{name}: nothing queued");

        // The preview is the split the reply gets: the same parts, in order.
        let text = "Terima kasih sudah menghubungi @PemkotMalang. ".to_owned()
            + &"Syarat dan jadwal layanan ada di kanal resmi dinas terkait. ".repeat(9);
        let (status, body) = console
            .api(
                "POST",
                "/api/preview",
                Some(token),
                Some(json!({"text": text, "conversation": conv})),
            )
            .await;
        assert_eq!(status, 200, "{name}: {body}");
        let preview: Vec<String> = body["data"]["parts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["text"].as_str().unwrap().to_owned())
            .collect();
        assert!(preview.len() >= 2, "{body}");
        assert_eq!(body["data"]["within_limit"], true);
        assert_eq!(body["data"]["max_parts"], 10);
        let (status, _) = console
            .api("POST", &reply, Some(token), Some(json!({"text": text})))
            .await;
        assert_eq!(status, 202, "{name}");
        let queued: Vec<String> = sqlx::query_scalar::<sqlx::Any, String>(
            "SELECT payload FROM outbox WHERE channel = 'x' ORDER BY id",
        )
        .fetch_all(store.pool())
        .await
        .unwrap()
        .into_iter()
        .skip(before as usize)
        .map(|p| {
            serde_json::from_str::<serde_json::Value>(&p).unwrap()["text"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
        assert_eq!(queued, preview, "{name}");
        for part in &queued {
            assert!(part.starts_with("@warga7 ("), "{part}");
            assert!(kicau::tweet::fits(part), "{part}");
            assert!(
                !part.contains("@PemkotMalang"),
                "{name}: never the account's own handle"
            );
        }
    }
}

#[tokio::test]
async fn personal_numbers_are_masked_on_screen_and_only_an_admin_reveals_them() {
    use kicau::desk::{Role, staff};
    let backends = Backends::new().await;
    for (name, store) in &backends.stores {
        let text = "@PemkotMalang KTP saya hilang, NIK 3573042103990005 hp 0812-3456-7890";
        let conv =
            crate::helpers::mention_at(store, "710", "warga8", text, ("handoff", "no_kb_match"), 0)
                .await
                .unwrap();
        let (mut console, session) = Console::signed_in(store, None).await;
        for uri in ["/".to_owned(), format!("/conversations/{conv}")] {
            let page = console.get(&uri).await;
            assert!(page.body.contains("3573••••••••0005"), "{name} {uri}");
            assert!(page.body.contains("0812••••••90"), "{name} {uri}");
            assert!(!page.body.contains("3573042103990005"), "{name} {uri}");
            assert!(
                !page.body.contains("Tampilkan data pribadi"),
                "{name}: staff"
            );
        }
        let detail = format!("/api/conversations/{conv}");
        let (_, body) = console
            .api("GET", &detail, Some(&session.token), None)
            .await;
        let json = body.to_string();
        assert!(json.contains("3573••••••••0005"), "{name}: {json}");
        assert!(!json.contains("3573042103990005"), "{name}: {json}");
        let reveal = format!("/api/conversations/{conv}/reveal");
        let asked = json!({"tweet_id": "710"});
        let (status, _) = console
            .api("POST", &reveal, Some(&session.token), Some(asked.clone()))
            .await;
        assert_eq!(status, 403, "{name}: staff may not reveal");

        staff::add(store, "kepala", Role::Admin).await.unwrap();
        staff::set_password(store, "kepala", "kata-sandi-kepala-uji")
            .await
            .unwrap();
        let admin = staff::new_token(store, "kepala").await.unwrap();
        let (status, body) = console
            .api("POST", &reveal, Some(&admin), Some(asked))
            .await;
        assert_eq!(status, 200, "{name}: {body}");
        assert_eq!(body["data"]["text"], text);
        assert_eq!(audited(store, "pii_reveal", Some("kepala")).await, 1);
        // The admin's page has the button; pressing it shows the number, audited again.
        let mut boss = Console::new(store, None);
        log_in(&mut boss, "kepala", "kata-sandi-kepala-uji").await;
        let page = boss.get(&format!("/conversations/{conv}")).await;
        assert!(page.body.contains("Tampilkan data pribadi"), "{name}");
        let csrf = page
            .body
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap()
            .to_owned();
        let shown = boss
            .post_form(
                &format!("/conversations/{conv}/reveal"),
                &[("csrf", &csrf), ("tweet_id", "710")],
            )
            .await;
        assert!(shown.body.contains("3573042103990005"), "{name}");
        assert_eq!(shown.header("cache-control"), "no-store");
        assert_eq!(audited(store, "pii_reveal", Some("kepala")).await, 2);
    }
}

/// A staff reply is public: it may not carry a NIK/KK or repeat the citizen's own number or
/// address, however spelled; an office's number passes. The preview says so first.
#[tokio::test]
async fn a_staff_reply_that_would_publish_personal_data_is_refused() {
    let backends = Backends::new().await;
    for (name, store) in &backends.stores {
        let text = "@PemkotMalang tolong hubungi saya di 0812-3456-7890 atau warga9@mail.com";
        let conv =
            crate::helpers::mention_at(store, "720", "warga9", text, ("handoff", "no_kb_match"), 0)
                .await
                .unwrap();
        let (console, session) = Console::signed_in(store, None).await;
        let token = session.token.as_str();
        let claim = format!("/api/conversations/{conv}/claim");
        assert_eq!(console.api("POST", &claim, Some(token), None).await.0, 200);
        let reply = format!("/api/conversations/{conv}/reply");
        let queued = || async {
            sqlx::query_scalar::<sqlx::Any, i64>("SELECT COUNT(*) FROM outbox WHERE channel = 'x'")
                .fetch_one(store.pool())
                .await
                .unwrap()
        };
        let before = queued().await;
        for (said, why) in [
            (
                "Baik, kami telepon ke +62 812 3456 7890 ya",
                "nomor telepon warga",
            ),
            ("Kami kirim ke WARGA9@mail.com", "alamat e-mail warga"),
            ("NIK 3573042103990005 sudah aktif", "NIK/KK"),
            ("NIK ３５７３０４２１０３９９０００５ sudah aktif", "NIK/KK"),
        ] {
            let (status, body) = console
                .api("POST", &reply, Some(token), Some(json!({"text": said})))
                .await;
            assert_eq!(status, 422, "{name}: {said}: {body}");
            let error = body["error"].as_str().unwrap();
            assert!(error.contains(why), "{name}: {error}");
            let (_, preview) = console
                .api(
                    "POST",
                    "/api/preview",
                    Some(token),
                    Some(json!({"text": said, "conversation": conv})),
                )
                .await;
            assert_eq!(preview["data"]["personal_data"], error, "{name}");
        }
        assert_eq!(queued().await, before, "{name}: nothing queued");
        // The office's own line is no citizen's data.
        let office = "Silakan hubungi Dispendukcapil di (0341) 751535 pada jam kerja.";
        let (_, preview) = console
            .api(
                "POST",
                "/api/preview",
                Some(token),
                Some(json!({"text": office, "conversation": conv})),
            )
            .await;
        assert_eq!(preview["data"]["personal_data"], serde_json::Value::Null);
        let (status, body) = console
            .api("POST", &reply, Some(token), Some(json!({"text": office})))
            .await;
        assert_eq!(status, 202, "{name}: {body}");
    }
}

#[tokio::test]
async fn every_api_error_is_json_with_a_documented_status() {
    let (store, _dir) = crate::helpers::sqlite().await;
    let (console, session) = Console::signed_in(&store, None).await;
    let token = Some(session.token.as_str());
    for (method, uri, body, status) in [
        ("GET", "/api/conversations?state=a&state=b", None, 400),
        ("GET", "/api/conversations?state=", None, 400),
        ("GET", "/api/report?days=x", None, 400),
        ("GET", "/events?after=x", None, 400),
        ("POST", "/api/corrections/x/accept", None, 400),
        (
            "POST",
            "/api/ticket-notes/1/approve",
            Some(json!({"text": {}})),
            400,
        ),
        (
            "POST",
            "/api/conversations/c1/reply",
            Some(json!({"text": 5})),
            400,
        ),
    ] {
        let (got, answer) = console.api(method, uri, token, body).await;
        assert_eq!(got.as_u16(), status, "{method} {uri}: {answer}");
        assert!(answer["error"].is_string(), "{method} {uri}: {answer}");
    }
}
