//! OAuth 2.0 user context against the sandbox: the authorization code with PKCE, the token
//! endpoint's refusals, the rotating refresh token kept in the database (both backends, two
//! instances sharing it), a 401 answered with one refresh, and `kicau x authorize` end to end.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use kicau::channels::x::authorize;
use kicau::channels::x::oauth2::{Client, Session, basic_authorization, code_challenge};
use kicau::channels::x::{Auth, XClient};
use kicau::sandbox::{Running, XSettings, serve_x};
use serde_json::Value;

use crate::helpers::{Backends, Deployment, wait_until};

fn settings(ttl: Duration) -> XSettings {
    XSettings {
        account: "PemkotMalang".into(),
        account_name: "Pemkot Malang".into(),
        consumer_key: "sandbox-consumer-key".into(),
        consumer_secret: "sandbox-consumer-secret".into(),
        access_token: "sandbox-access-token".into(),
        access_secret: "sandbox-access-secret".into(),
        rate_limit: 100_000,
        rate_window: Duration::from_secs(900),
        realistic: false,
        client_id: "sandbox-client-id".into(),
        client_secret: "sandbox-client-secret".into(),
        token_ttl: ttl,
        strict: true,
    }
}

async fn sandbox(ttl: Duration) -> Running {
    serve_x(settings(ttl), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

fn client(running: &Running) -> Client {
    Client::new(
        "sandbox-client-id",
        "sandbox-client-secret",
        &format!("{}/2/oauth2/token", running.x_url()),
    )
}

/// The redirect the sandbox answers the authorize URL with, as query pairs.
async fn consent(url: &str) -> HashMap<String, String> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = http.get(url).send().await.unwrap();
    assert_eq!(response.status(), 302, "{url}");
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("http://127.0.0.1:9/cb?"), "{location}");
    reqwest::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

async fn token_request(running: &Running, basic: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let body: String = form
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                kicau::channels::x::oauth1::percent_encode(k),
                kicau::channels::x::oauth1::percent_encode(v)
            )
        })
        .collect::<Vec<_>>()
        .join("&");
    let response = reqwest::Client::new()
        .post(format!("{}/2/oauth2/token", running.x_url()))
        .header("Authorization", basic)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    (
        response.status().as_u16(),
        response.json().await.unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn the_sandbox_runs_the_authorization_code_flow_with_pkce_and_rotation() {
    let running = sandbox(Duration::from_secs(7200)).await;
    let base = running.x_url();
    let basic = basic_authorization("sandbox-client-id", "sandbox-client-secret");
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let url = kicau::channels::x::oauth2::authorize_url(
        &format!("{base}/i/oauth2/authorize"),
        "sandbox-client-id",
        "http://127.0.0.1:9/cb",
        "state-1",
        verifier,
    );
    assert!(url.contains(&code_challenge(verifier)));
    let back = consent(&url).await;
    assert_eq!(back["state"], "state-1");
    let code = back["code"].clone();

    // A wrong client secret, a wrong verifier and a wrong redirect URI are refused.
    let wrong = basic_authorization("sandbox-client-id", "nope");
    let exchange = |verifier: &'static str, redirect: &'static str| {
        [
            ("grant_type", "authorization_code"),
            ("code", ""),
            ("redirect_uri", redirect),
            ("code_verifier", verifier),
        ]
    };
    let mut form = exchange(verifier, "http://127.0.0.1:9/cb");
    form[1].1 = &code;
    assert_eq!(token_request(&running, &wrong, &form).await.0, 401);

    // A code is single use, so each refusal below needs a fresh one.
    let fresh_code = || async {
        consent(&kicau::channels::x::oauth2::authorize_url(
            &format!("{base}/i/oauth2/authorize"),
            "sandbox-client-id",
            "http://127.0.0.1:9/cb",
            "s",
            verifier,
        ))
        .await["code"]
            .clone()
    };
    let other = fresh_code().await;
    let mut bad_verifier = exchange(
        "another-verifier-another-verifier-another-ver",
        "http://127.0.0.1:9/cb",
    );
    bad_verifier[1].1 = &other;
    let (status, body) = token_request(&running, &basic, &bad_verifier).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_request");
    let third = fresh_code().await;
    let mut bad_redirect = exchange(verifier, "http://127.0.0.1:9/other");
    bad_redirect[1].1 = &third;
    assert_eq!(token_request(&running, &basic, &bad_redirect).await.0, 400);

    // The right exchange gives bearer, access and refresh tokens with the asked scopes.
    let (status, tokens) = token_request(&running, &basic, &form).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "bearer");
    assert_eq!(tokens["expires_in"], 7200);
    assert_eq!(tokens["scope"], kicau::channels::x::oauth2::SCOPES);
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    // The code worked once.
    assert_eq!(token_request(&running, &basic, &form).await.0, 400);

    // The access token acts as the account.
    let me: Value = reqwest::Client::new()
        .get(format!("{base}/2/users/me"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["data"]["username"], "PemkotMalang");

    // A refresh token works once: the new pair replaces it.
    let refresh_form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
    ];
    let (status, rotated) = token_request(&running, &basic, &refresh_form).await;
    assert_eq!(status, 200);
    assert_ne!(rotated["refresh_token"].as_str().unwrap(), refresh);
    let (status, body) = token_request(&running, &basic, &refresh_form).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error_description"],
        "Value passed for the token was invalid."
    );
}

#[tokio::test]
async fn tokens_without_write_scope_cannot_post_and_expired_tokens_get_401() {
    let running = sandbox(Duration::from_secs(1)).await;
    let base = running.x_url();
    let basic = basic_authorization("sandbox-client-id", "sandbox-client-secret");
    let verifier = "a-verifier-of-enough-length-for-pkce-rules-0123456789";
    let url = format!(
        "{base}/i/oauth2/authorize?response_type=code&client_id=sandbox-client-id\
         &redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb&scope=tweet.read%20users.read&state=s\
         &code_challenge={}&code_challenge_method=S256",
        code_challenge(verifier)
    );
    let code = consent(&url).await["code"].clone();
    let (status, tokens) = token_request(
        &running,
        &basic,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:9/cb"),
            ("code_verifier", verifier),
        ],
    )
    .await;
    assert_eq!(status, 200);
    // No offline.access, no refresh token.
    assert!(tokens.get("refresh_token").is_none());
    let access = tokens["access_token"].as_str().unwrap();
    let post = reqwest::Client::new()
        .post(format!("{base}/2/tweets"))
        .bearer_auth(access)
        .json(&serde_json::json!({"text": "halo"}))
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 403);
    // The token lives one second; then it is refused.
    wait_until(
        Duration::from_secs(10),
        "the expired access token to get 401",
        || async {
            let me = reqwest::Client::new()
                .get(format!("{base}/2/users/me"))
                .bearer_auth(access)
                .send()
                .await
                .unwrap();
            me.status() == 401
        },
    )
    .await;
}

/// Authorizes the account against `running` and stores the tokens in `store`.
async fn authorize_into(running: &Running, store: &kicau::store::Store) {
    let pending = authorize::begin(
        &format!("{}/i/oauth2/authorize", running.x_url()),
        "sandbox-client-id",
        "http://127.0.0.1:9/cb",
    );
    let code = authorize::consent_in_sandbox(&pending).await.unwrap();
    let token = pending.exchange(&client(running), &code).await.unwrap();
    store
        .put_x_token("PemkotMalang", &token.into())
        .await
        .unwrap();
}

#[tokio::test]
async fn the_rotating_refresh_token_lives_in_the_database_shared_by_instances() {
    // Tokens live one second, less than the minute the session keeps in hand: every request
    // refreshes, which is the hardest case for rotation.
    let running = sandbox(Duration::from_secs(1)).await;
    let backends = Backends::new().await;
    for (name, store) in &backends.stores {
        authorize_into(&running, store).await;
        let first = store.x_token("PemkotMalang").await.unwrap().unwrap();
        let instance = |store: &kicau::store::Store| {
            XClient::new(
                &running.x_url(),
                Auth::OAuth2(std::sync::Arc::new(Session::new(
                    client(&running),
                    store.clone(),
                    "PemkotMalang",
                ))),
            )
        };
        let a = instance(store);
        let b = instance(store);
        let mut seen = std::collections::HashSet::new();
        seen.insert(first.refresh_token.clone().unwrap());
        for round in 0..4 {
            for (which, x) in [("a", &a), ("b", &b)] {
                let (me, _) = x
                    .me()
                    .await
                    .unwrap_or_else(|e| panic!("{name}: round {round}, instance {which}: {e}"));
                assert_eq!(me.username, "PemkotMalang");
                let stored = store.x_token("PemkotMalang").await.unwrap().unwrap();
                assert!(
                    seen.insert(stored.refresh_token.clone().unwrap()),
                    "{name}: each refresh stores a new refresh token"
                );
            }
        }
        // The first refresh token was used up long ago: the sandbox refuses it, as X does.
        let refused = client(&running)
            .refresh(first.refresh_token.as_deref().unwrap())
            .await;
        assert!(refused.is_err(), "{name}");
    }
    backends.finish().await;
}

#[tokio::test]
async fn a_401_gets_one_refresh_and_one_retry() {
    let running = sandbox(Duration::from_secs(7200)).await;
    let backends = Backends::new().await;
    for (name, store) in &backends.stores {
        authorize_into(&running, store).await;
        let x = XClient::new(
            &running.x_url(),
            Auth::OAuth2(std::sync::Arc::new(Session::new(
                client(&running),
                store.clone(),
                "PemkotMalang",
            ))),
        );
        x.me().await.unwrap();
        let before = store.x_token("PemkotMalang").await.unwrap().unwrap();
        // The access token dies early (revoked): the next call refreshes once and succeeds.
        reqwest::Client::new()
            .post(format!("{}/2/oauth2/revoke", running.x_url()))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(format!(
                "token={}&client_id=sandbox-client-id",
                before.access_token
            ))
            .send()
            .await
            .unwrap();
        let id = x
            .create_tweet(
                &format!("Info resmi hari ini ({name})."),
                kicau::channels::x::Parent::None,
            )
            .await
            .unwrap()
            .id;
        assert!(!id.is_empty(), "{name}");
        let after = store.x_token("PemkotMalang").await.unwrap().unwrap();
        assert_ne!(after.access_token, before.access_token, "{name}");
        assert_ne!(after.refresh_token, before.refresh_token, "{name}");
        // A used-up refresh token and a dead access token: unauthorized, never a dead letter.
        store
            .put_x_token(
                "PemkotMalang",
                &kicau::store::XToken {
                    access_token: "revoked".into(),
                    access_expires_at: 0,
                    refresh_token: before.refresh_token.clone(),
                    scope: before.scope.clone(),
                    updated_at: 0,
                },
            )
            .await
            .unwrap();
        let fresh = XClient::new(
            &running.x_url(),
            Auth::OAuth2(std::sync::Arc::new(Session::new(
                client(&running),
                store.clone(),
                "PemkotMalang",
            ))),
        );
        match fresh.me().await {
            Err(kicau::channels::x::XError::Unauthorized(detail)) => {
                assert!(detail.contains("kicau x authorize"), "{detail}")
            }
            other => panic!("{name}: {other:?}"),
        }
    }
    backends.finish().await;
}

/// Starts `kicau x authorize` waiting on loopback at a port the system picks (port 0 in the
/// redirect URI: the command binds first and sends the bound address to the sandbox).
fn authorize_command(
    deployment: &Deployment,
) -> (std::process::Child, BufReader<std::process::ChildStdout>) {
    let mut authorize = Command::new(env!("CARGO_BIN_EXE_kicau"))
        .arg("--config")
        .arg(deployment.config_path())
        .arg("--database-url")
        .arg(deployment.database_url())
        .args([
            "x",
            "authorize",
            "--redirect-uri",
            "http://127.0.0.1:0/callback",
            "--timeout-secs",
            "60",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(authorize.stdout.take().unwrap());
    (authorize, stdout)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kicau_x_authorize_stores_tokens_the_bot_then_uses() {
    let mut deployment = Deployment::start_with(|config| {
        config
            .set("sandbox.x_auth", "oauth2")
            .set("sandbox.oauth2_token_ttl_secs", 62);
    })
    .await;
    let (mut authorize, stdout) = authorize_command(&deployment);
    let mut lines = stdout.lines();
    let intro = lines.next().unwrap().unwrap();
    assert!(intro.contains("@PemkotMalang"), "{intro}");
    let url = lines.next().unwrap().unwrap();
    assert!(url.starts_with(deployment.x_url()), "{url}");
    assert!(url.contains("offline.access"), "{url}");
    // The person's browser: the sandbox consents and redirects to the waiting command.
    let page = reqwest::get(&url).await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("Kicau sudah mendapat izin")
    );
    let status = authorize.wait().unwrap();
    let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
    assert!(status.success(), "{rest:?}");
    assert!(
        rest.iter()
            .any(|l| l.starts_with("Authorized: @PemkotMalang")),
        "{rest:?}"
    );

    // The bot runs on the stored tokens. They live 62 s and the session keeps a minute in hand,
    // so it refreshes them (rotating the refresh token) two seconds after they were issued.
    deployment.start_bot().await;
    let x = deployment.sandbox();
    let id = x
        .post_as("warga1", "@PemkotMalang min syarat bikin kk baru apa aja?")
        .await;
    let counts = x.wait_for_replies(1, Duration::from_secs(30)).await;
    assert_eq!(counts.get(&id), Some(&1), "{}", deployment.log());
    deployment
        .wait_until(
            Duration::from_secs(30),
            "the bot to refresh its access token",
            || async { deployment.log().contains("X access token refreshed") },
        )
        .await;
    assert!(deployment.stop_bot().success());
}
