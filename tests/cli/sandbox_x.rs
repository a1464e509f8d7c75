//! The X sandbox against its published formats, driven over HTTP with the production OAuth
//! signer where the account speaks.

use std::collections::HashSet;
use std::time::Duration;

use kicau::channels::x::oauth1::{Credentials, authorization, authorization_now};
use kicau::sandbox::{Running, XSettings, serve_x};
use serde_json::{Value, json};

fn settings() -> XSettings {
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
        token_ttl: Duration::from_secs(7200),
        strict: true,
    }
}

fn credentials() -> Credentials {
    let s = settings();
    Credentials {
        consumer_key: s.consumer_key,
        consumer_secret: s.consumer_secret,
        access_token: s.access_token,
        access_secret: s.access_secret,
    }
}

async fn start() -> (Running, reqwest::Client) {
    let running = serve_x(settings(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    (running, reqwest::Client::new())
}

async fn citizen_tweet(
    client: &reqwest::Client,
    base: &str,
    user: &str,
    body: Value,
) -> reqwest::Response {
    client
        .post(format!("{base}/2/tweets"))
        .header("Authorization", format!("Bearer sandbox-user:{user}"))
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn account_tweet(client: &reqwest::Client, base: &str, body: Value) -> reqwest::Response {
    let url = format!("{base}/2/tweets");
    client
        .post(&url)
        .header(
            "Authorization",
            authorization_now(&credentials(), "POST", &url),
        )
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_citizens_mention_shows_in_the_mentions_timeline_with_expansions() {
    let (sandbox, client) = start().await;
    let base = sandbox.x_url();
    let created = citizen_tweet(&client, &base, "warga1", json!({"text": "@PemkotMalang syarat kk apa?", "media": {"media_ids": ["1864700000000000001"]}})).await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    let id = created["data"]["id"].as_str().unwrap().to_owned();

    let me: Value = client
        .get(format!("{base}/2/users/by/username/PemkotMalang"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let account = me["data"]["id"].as_str().unwrap();
    let url = format!(
        "{base}/2/users/{account}/mentions?max_results=100&expansions=author_id,attachments.media_keys\
         &tweet.fields=created_at,conversation_id,author_id,entities,attachments&user.fields=username,name"
    );
    let page: Value = client.get(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(page["meta"]["result_count"], 1);
    let tweet = &page["data"][0];
    assert_eq!(tweet["id"], id.as_str());
    assert_eq!(tweet["conversation_id"], id.as_str());
    assert_eq!(tweet["edit_history_tweet_ids"][0], id.as_str());
    assert_eq!(tweet["entities"]["mentions"][0]["username"], "PemkotMalang");
    assert_eq!(tweet["entities"]["mentions"][0]["start"], 0);
    assert_eq!(tweet["entities"]["mentions"][0]["end"], 13);
    assert_eq!(page["includes"]["users"][0]["username"], "warga1");
    assert_eq!(page["includes"]["media"][0]["type"], "photo");
    // Media ids are digits and photo keys `3_<digits>`, as on X; the sample photos are listed.
    assert_eq!(
        page["includes"]["media"][0]["media_key"],
        "3_1864700000000000001"
    );
    let photos: Value = client
        .get(format!("{base}/sandbox/x/photos"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(photos["data"].as_array().unwrap().len(), 4);
    assert_eq!(photos["data"][0]["id"], "1864700000000000001");
    assert_eq!(photos["data"][0]["media_key"], "3_1864700000000000001");
    // The newest spec's spelling of the field parameter works too.
    let url = format!("{base}/2/users/{account}/mentions?post.fields=author_id");
    let page: Value = client.get(&url).send().await.unwrap().json().await.unwrap();
    assert!(page["data"][0]["author_id"].is_string());
    sandbox.stop();
}

#[tokio::test]
async fn mentions_paginate_newest_first_and_honour_since_id() {
    let (sandbox, client) = start().await;
    let base = sandbox.x_url();
    let mut ids = Vec::new();
    for i in 0..7 {
        let r: Value = citizen_tweet(
            &client,
            &base,
            "warga2",
            json!({"text": format!("@PemkotMalang pertanyaan {i}")}),
        )
        .await
        .json()
        .await
        .unwrap();
        ids.push(r["data"]["id"].as_str().unwrap().to_owned());
    }
    let account = sandbox.x.account_id();
    let first: Value = client
        .get(format!("{base}/2/users/{account}/mentions?max_results=5"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(first["meta"]["result_count"], 5);
    assert_eq!(first["data"][0]["id"], ids[6].as_str());
    let token = first["meta"]["next_token"].as_str().unwrap();
    let second: Value = client
        .get(format!(
            "{base}/2/users/{account}/mentions?max_results=5&pagination_token={token}"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(second["meta"]["result_count"], 2);
    assert!(second["meta"].get("next_token").is_none());
    let newer: Value = client
        .get(format!(
            "{base}/2/users/{account}/mentions?max_results=5&since_id={}",
            ids[4]
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(newer["meta"]["result_count"], 2);
    let none: Value = client
        .get(format!(
            "{base}/2/users/{account}/mentions?since_id={}",
            ids[6]
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(none, json!({"meta": {"result_count": 0}}));
    let bad = client
        .get(format!(
            "{base}/2/users/{account}/mentions?max_results=1000"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    sandbox.stop();
}

#[tokio::test]
async fn only_the_800_newest_mentions_are_reachable() {
    let (sandbox, client) = start().await;
    let base = sandbox.x_url();
    for i in 0..805 {
        citizen_tweet(
            &client,
            &base,
            &format!("w{}", i % 50),
            json!({"text": format!("@PemkotMalang no {i}")}),
        )
        .await;
    }
    let account = sandbox.x.account_id();
    let mut seen = 0;
    let mut token: Option<String> = None;
    loop {
        let mut url = format!("{base}/2/users/{account}/mentions?max_results=100");
        if let Some(t) = &token {
            url.push_str(&format!("&pagination_token={t}"));
        }
        let page: Value = client.get(&url).send().await.unwrap().json().await.unwrap();
        seen += page["meta"]["result_count"].as_u64().unwrap();
        match page["meta"]["next_token"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, 800);
    sandbox.stop();
}

#[tokio::test]
async fn oauth_signatures_are_verified() {
    let (sandbox, client) = start().await;
    let base = sandbox.x_url();
    let url = format!("{base}/2/users/me");
    let ok = client
        .get(&url)
        .header(
            "Authorization",
            authorization_now(&credentials(), "GET", &url),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let me: Value = ok.json().await.unwrap();
    assert_eq!(me["data"]["username"], "PemkotMalang");

    let mut wrong = credentials();
    wrong.access_secret = "not-the-secret".into();
    let bad = client
        .get(&url)
        .header("Authorization", authorization_now(&wrong, "GET", &url))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    let body: Value = bad.json().await.unwrap();
    assert_eq!(body["title"], "Unauthorized");

    // A replayed nonce is refused.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let header = authorization(&credentials(), "GET", &url, "fixednonce123", now);
    assert_eq!(
        client
            .get(&url)
            .header("Authorization", &header)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        client
            .get(&url)
            .header("Authorization", &header)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    // An old timestamp is refused.
    let old = authorization(&credentials(), "GET", &url, "othernonce456", now - 3600);
    assert_eq!(
        client
            .get(&url)
            .header("Authorization", &old)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    // App-only callers cannot post.
    let app = client
        .post(format!("{base}/2/tweets"))
        .json(&json!({"text": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(app.status(), 403);
    sandbox.stop();
}

#[tokio::test]
async fn the_account_follows_xs_reply_duplicate_and_length_rules() {
    let (sandbox, client) = start().await;
    let base = sandbox.x_url();
    let mention: Value = citizen_tweet(
        &client,
        &base,
        "warga3",
        json!({"text": "@PemkotMalang halo"}),
    )
    .await
    .json()
    .await
    .unwrap();
    let mention_id = mention["data"]["id"].as_str().unwrap();
    let other: Value = citizen_tweet(&client, &base, "warga3", json!({"text": "hari ini cerah"}))
        .await
        .json()
        .await
        .unwrap();
    let other_id = other["data"]["id"].as_str().unwrap();

    let reply = account_tweet(
        &client,
        &base,
        json!({"text": "@warga3 Halo kak!", "reply": {"in_reply_to_tweet_id": mention_id}}),
    )
    .await;
    assert_eq!(reply.status(), 201);
    let reply: Value = reply.json().await.unwrap();
    let reply_id = reply["data"]["id"].as_str().unwrap();
    // A numbered thread: the account may reply to its own tweet.
    let part2 = account_tweet(
        &client,
        &base,
        json!({"text": "@warga3 (2/2) lanjutan", "reply": {"in_reply_to_tweet_id": reply_id}}),
    )
    .await;
    assert_eq!(part2.status(), 201);
    // Not summoned: refused.
    let unsummoned = account_tweet(
        &client,
        &base,
        json!({"text": "@warga3 halo lagi", "reply": {"in_reply_to_tweet_id": other_id}}),
    )
    .await;
    assert_eq!(unsummoned.status(), 403);
    // The same text twice: refused.
    let dup = account_tweet(
        &client,
        &base,
        json!({"text": "@warga3 Halo kak!", "reply": {"in_reply_to_tweet_id": mention_id}}),
    )
    .await;
    assert_eq!(dup.status(), 403);
    let body: Value = dup.json().await.unwrap();
    assert_eq!(
        body["detail"],
        "You are not allowed to create a Tweet with duplicate content."
    );
    // Too long: refused.
    let long = account_tweet(&client, &base, json!({"text": "a".repeat(281)})).await;
    assert_eq!(long.status(), 403);
    // Unknown keys: 400, as the spec's additionalProperties: false says.
    let unknown = account_tweet(&client, &base, json!({"text": "x", "colour": "red"})).await;
    assert_eq!(unknown.status(), 400);

    // The reply shows in the account's timeline with what it answers.
    let account = sandbox.x.account_id();
    let timeline: Value = client
        .get(format!(
            "{base}/2/users/{account}/tweets?tweet.fields=referenced_tweets,conversation_id"
        ))
        .header("Authorization", "Bearer sandbox-user:warga3")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let first = &timeline["data"][1];
    assert_eq!(first["referenced_tweets"][0]["type"], "replied_to");
    assert_eq!(first["referenced_tweets"][0]["id"], mention_id);
    assert_eq!(first["conversation_id"], mention_id);

    let url = format!("{base}/2/tweets/{reply_id}");
    let deleted = client
        .delete(&url)
        .header(
            "Authorization",
            authorization_now(&credentials(), "DELETE", &url),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 200);
    assert_eq!(
        deleted.json::<Value>().await.unwrap(),
        json!({"data": {"deleted": true}})
    );
    sandbox.stop();
}

#[tokio::test]
async fn rate_limit_headers_and_injected_faults() {
    let (sandbox, client) = start().await;
    let base = sandbox.x_url();
    let account = sandbox.x.account_id();
    let url = format!("{base}/2/users/{account}/mentions");
    let ok = client.get(&url).send().await.unwrap();
    for header in [
        "x-rate-limit-limit",
        "x-rate-limit-remaining",
        "x-rate-limit-reset",
    ] {
        assert!(ok.headers().contains_key(header), "{header}");
    }
    client
        .post(format!("{base}/sandbox/x/faults"))
        .json(&json!({"method": "GET", "path": "/2/users/:id/mentions", "status": 429, "times": 2}))
        .send()
        .await
        .unwrap();
    for _ in 0..2 {
        let limited = client.get(&url).send().await.unwrap();
        assert_eq!(limited.status(), 429);
        assert!(limited.headers().get("retry-after").is_none());
        let reset: u64 = limited.headers()["x-rate-limit-reset"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert!(reset > now && reset <= now + 5, "reset a few seconds ahead");
        assert_eq!(limited.headers()["x-rate-limit-remaining"], "0");
        let body: Value = limited.json().await.unwrap();
        assert_eq!(body["title"], "Too Many Requests");
    }
    assert_eq!(client.get(&url).send().await.unwrap().status(), 200);
    client
        .post(format!("{base}/sandbox/x/faults"))
        .json(&json!({"path": "/2/tweets", "status": 503, "times": 1}))
        .send()
        .await
        .unwrap();
    let failed = citizen_tweet(
        &client,
        &base,
        "warga4",
        json!({"text": "@PemkotMalang tes"}),
    )
    .await;
    assert_eq!(failed.status(), 503);
    assert_eq!(
        citizen_tweet(
            &client,
            &base,
            "warga4",
            json!({"text": "@PemkotMalang tes"})
        )
        .await
        .status(),
        201
    );
    sandbox.stop();
}

/// The faults endpoint is the one the Telegram and WhatsApp stand-ins share: a fault that hits
/// nothing, one with a status that is not an error, and a body that does not parse are refused
/// with 400 and `{"error": ...}`.
#[tokio::test]
async fn faults_that_cannot_hit_are_refused() {
    let (sandbox, client) = start().await;
    let url = format!("{}/sandbox/x/faults", sandbox.x_url());
    let refused = |fault: Value| {
        let request = client.post(&url).json(&fault);
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 400);
            let body: Value = response.json().await.unwrap();
            body["error"].as_str().unwrap_or_default().to_owned()
        }
    };
    assert_eq!(
        refused(json!({"path": "/2/tweets", "status": 503, "times": 0})).await,
        "times must be at least 1"
    );
    assert_eq!(
        refused(json!({"path": "/2/tweets", "status": 200})).await,
        "status must be an error status"
    );
    let error = refused(json!({"status": 503})).await;
    assert!(error.starts_with("invalid body: "), "{error}");
    sandbox.stop();
}

/// A sample of responses checked against data/x-api/openapi-v2.159.json: every key the sandbox
/// sends is one the spec defines, and the required ones are there.
#[tokio::test]
async fn responses_follow_the_openapi_spec() {
    let Some(shared) = crate::shared() else {
        return;
    };
    let spec: Value = serde_json::from_str(
        &std::fs::read_to_string(shared.join("data/x-api/openapi-v2.159.json")).unwrap(),
    )
    .unwrap();
    let schemas = &spec["components"]["schemas"];
    let keys = |name: &str| -> HashSet<String> {
        schemas[name]["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    };
    let (sandbox, client) = start().await;
    let base = sandbox.x_url();
    citizen_tweet(
        &client,
        &base,
        "warga5",
        json!({"text": "@PemkotMalang halo", "media": {"media_ids": ["1864700000000000002"]}}),
    )
    .await;
    let account = sandbox.x.account_id();
    let page: Value = client
        .get(format!("{base}/2/users/{account}/mentions?expansions=author_id,attachments.media_keys&tweet.fields=created_at,conversation_id,author_id,in_reply_to_user_id,referenced_tweets,entities,attachments"))
        .send().await.unwrap().json().await.unwrap();
    let response_keys: HashSet<String> = keys("Get2UsersIdMentionsResponse");
    for key in page.as_object().unwrap().keys() {
        assert!(response_keys.contains(key), "response key {key}");
    }
    let meta_keys: HashSet<String> =
        schemas["Get2UsersIdMentionsResponse"]["properties"]["meta"]["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
    for key in page["meta"].as_object().unwrap().keys() {
        assert!(meta_keys.contains(key), "meta key {key}");
    }
    let tweet_keys = keys("Tweet");
    for key in page["data"][0].as_object().unwrap().keys() {
        assert!(tweet_keys.contains(key), "tweet key {key}");
    }
    let user_keys = keys("User");
    for required in schemas["User"]["required"].as_array().unwrap() {
        assert!(
            page["includes"]["users"][0]
                .get(required.as_str().unwrap())
                .is_some()
        );
    }
    for key in page["includes"]["users"][0].as_object().unwrap().keys() {
        assert!(user_keys.contains(key), "user key {key}");
    }
    let expansion_keys = keys("Expansions");
    for key in page["includes"].as_object().unwrap().keys() {
        assert!(expansion_keys.contains(key), "includes key {key}");
    }
    let created: Value = citizen_tweet(&client, &base, "warga5", json!({"text": "lagi"}))
        .await
        .json()
        .await
        .unwrap();
    let create_keys: HashSet<String> =
        schemas["TweetCreateResponse"]["properties"]["data"]["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
    for key in created["data"].as_object().unwrap().keys() {
        assert!(create_keys.contains(key), "create key {key}");
    }
    sandbox.stop();
}

#[tokio::test]
async fn the_realistic_profile_enforces_xs_published_limits() {
    let mut strict = settings();
    strict.realistic = true;
    let sandbox = serve_x(strict, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let client = reqwest::Client::new();
    let url = format!("{}/2/users/me", sandbox.x_url());
    for i in 0..75 {
        let r = client
            .get(&url)
            .header(
                "Authorization",
                authorization_now(&credentials(), "GET", &url),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "request {i}");
        assert_eq!(r.headers()["x-rate-limit-limit"], "75");
    }
    let over = client
        .get(&url)
        .header(
            "Authorization",
            authorization_now(&credentials(), "GET", &url),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(over.status(), 429);
    assert_eq!(over.headers()["x-rate-limit-remaining"], "0");
    sandbox.stop();
}

/// X in 2026: problem types on api.x.com, a 200 that carries `errors[]` as plain JSON, and the
/// account's display name from bot.toml.
#[tokio::test]
async fn problems_name_api_x_com_and_the_account_its_display_name() {
    let (sandbox, client) = start().await;
    let base = sandbox.x_url();
    let account = sandbox.x.account_id();
    let invalid = client
        .get(format!(
            "{base}/2/users/{account}/mentions?max_results=1000"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(invalid.status(), 400);
    assert_eq!(
        invalid.headers()["content-type"],
        "application/problem+json"
    );
    let body: Value = invalid.json().await.unwrap();
    assert_eq!(body["type"], "https://api.x.com/2/problems/invalid-request");
    let missing = client
        .get(format!("{base}/2/users/by/username/nobody_here"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 200);
    assert_eq!(missing.headers()["content-type"], "application/json");
    let body: Value = missing.json().await.unwrap();
    assert_eq!(
        body["errors"][0]["type"],
        "https://api.x.com/2/problems/resource-not-found"
    );
    let me: Value = client
        .get(format!("{base}/2/users/by/username/PemkotMalang"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["data"]["name"], "Pemkot Malang");
    assert_eq!(me["data"]["username"], "PemkotMalang");
    sandbox.stop();
}

/// Strict, as X is (and as the tests run): a bearer token the sandbox did not issue gets 401;
/// without strict it reads as an app's token, for people trying the sandbox with curl.
#[tokio::test]
async fn a_bearer_the_sandbox_did_not_issue_is_refused_when_strict() {
    let client = reqwest::Client::new();
    for strict in [true, false] {
        let running = serve_x(
            XSettings {
                strict,
                ..settings()
            },
            "127.0.0.1:0".parse().unwrap(),
        )
        .await
        .unwrap();
        let url = format!("{}/2/users/by/username/PemkotMalang", running.x_url());
        let unknown = client
            .get(&url)
            .bearer_auth("AAAAAAAAAAAAAAAAAAAAAMLheAAAAAAA0%2BuSeid")
            .send()
            .await
            .unwrap();
        assert_eq!(unknown.status(), if strict { 401 } else { 200 });
        // Without a token, the sandbox still serves a reader (a person with curl).
        assert_eq!(client.get(&url).send().await.unwrap().status(), 200);
        running.stop();
    }
}

/// X's two vocabularies: a request in posts (`post.fields`, `referenced_posts`) is answered in
/// posts, one in tweets in tweets; values outside the spec's enumerations get 400 naming them.
#[tokio::test]
async fn answers_speak_the_requests_vocabulary_and_unknown_fields_are_refused() {
    let (sandbox, client) = start().await;
    let base = sandbox.x_url();
    let account = sandbox.x.account_id();
    let asked: Value = citizen_tweet(
        &client,
        &base,
        "warga31",
        json!({"text": "@PemkotMalang jam buka mpp?"}),
    )
    .await
    .json()
    .await
    .unwrap();
    let asked = asked["data"]["id"].as_str().unwrap().to_owned();
    let reply: Value = citizen_tweet(
        &client,
        &base,
        "warga31",
        json!({"text": "@PemkotMalang tambahan: hari sabtu?", "reply": {"in_reply_to_tweet_id": asked}}),
    )
    .await
    .json()
    .await
    .unwrap();
    let reply = reply["data"]["id"].as_str().unwrap().to_owned();
    let get = |query: &str| {
        let url = format!("{base}/2/tweets/{reply}?{query}");
        let client = client.clone();
        async move { client.get(url).send().await.unwrap() }
    };
    let posts: Value = get("post.fields=referenced_posts,author_id&expansions=referenced_posts")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        posts["data"]["referenced_posts"][0]["id"],
        asked.as_str(),
        "{posts}"
    );
    assert!(posts["data"]["edit_history_post_ids"].is_array(), "{posts}");
    assert!(posts["data"].get("referenced_tweets").is_none(), "{posts}");
    assert_eq!(
        posts["includes"]["posts"][0]["id"],
        asked.as_str(),
        "{posts}"
    );
    let tweets: Value = get("tweet.fields=referenced_tweets&expansions=referenced_tweets.id")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(tweets["data"]["referenced_tweets"][0]["id"], asked.as_str());
    assert!(tweets["data"]["edit_history_tweet_ids"].is_array());
    assert_eq!(tweets["includes"]["tweets"][0]["id"], asked.as_str());

    for (query, parameter, value) in [
        (
            "tweet.fields=created_at,bogus_field",
            "tweet.fields",
            "bogus_field",
        ),
        (
            "post.fields=referenced_tweets",
            "post.fields",
            "referenced_tweets",
        ),
        (
            "expansions=author_id,bogus.expansion",
            "expansions",
            "bogus.expansion",
        ),
    ] {
        let refused = client
            .get(format!("{base}/2/users/{account}/mentions?{query}"))
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 400, "{query}");
        let body: Value = refused.json().await.unwrap();
        assert_eq!(
            body["errors"][0]["parameters"][parameter][0], value,
            "{body}"
        );
        assert_eq!(body["type"], "https://api.x.com/2/problems/invalid-request");
    }
    sandbox.stop();
}

// --- Media upload (reference/apis.md 1.3a) -------------------------------------------------------

/// A PNG of `width` by `height`: the signature, the IHDR chunk and IEND (the sandbox reads the
/// header, as X's limits need; the pixels do not matter here).
fn png(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR".to_vec();
    bytes.extend(width.to_be_bytes());
    bytes.extend(height.to_be_bytes());
    bytes.extend([8, 2, 0, 0, 0, 0, 0, 0, 0]);
    bytes.extend(b"\x00\x00\x00\x00IEND\xaeB`\x82");
    bytes
}

/// A GIF of `width` by `height`: the header and the logical screen descriptor, then the trailer.
fn gif(width: u16, height: u16) -> Vec<u8> {
    let mut bytes = b"GIF89a".to_vec();
    bytes.extend(width.to_le_bytes());
    bytes.extend(height.to_le_bytes());
    bytes.extend([0, 0, 0, b';']);
    bytes
}

fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A multipart/form-data body written by hand, as tweepy's requests sends it: `media` as a file
/// part, the other fields as text parts. Answers the content type and the body.
fn multipart(media: &[u8], fields: &[(&str, &str)]) -> (String, Vec<u8>) {
    let boundary = "kicau-test-boundary-7f3a";
    let mut body = Vec::new();
    body.extend(format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"media\"; filename=\"photo.png\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    ).bytes());
    body.extend(media);
    body.extend(b"\r\n");
    for (name, value) in fields {
        body.extend(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .bytes(),
        );
    }
    body.extend(format!("--{boundary}--\r\n").bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// The account's request to `path`, signed with the bot's own OAuth 1.0a signer (the body, JSON
/// or multipart, is not part of the signature).
fn signed(
    client: &reqwest::Client,
    method: reqwest::Method,
    base: &str,
    path: &str,
) -> reqwest::RequestBuilder {
    let url = format!("{base}{path}");
    let header = authorization_now(&credentials(), method.as_str(), &url);
    client.request(method, &url).header("Authorization", header)
}

/// The account uploads `bytes` in one JSON request; answers the status and the body.
async fn account_upload(
    client: &reqwest::Client,
    base: &str,
    body: Value,
) -> (reqwest::StatusCode, Value) {
    let response = signed(client, reqwest::Method::POST, base, "/2/media/upload")
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn images_upload_in_one_request_as_json_or_multipart() {
    let (sandbox, client) = start().await;
    let base = sandbox.x_url();
    // JSON with base64, as xdk sends it, signed by the account.
    let (status, body) = account_upload(
        &client,
        &base,
        json!({"media": base64(&png(640, 480)), "media_category": "tweet_image", "media_type": "image/png"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let id = body["data"]["id"].as_str().unwrap();
    assert!(id.bytes().all(|b| b.is_ascii_digit()), "{id}");
    assert_eq!(
        body,
        json!({"data": {"id": id, "media_key": format!("3_{id}"), "size": png(640, 480).len(),
                        "expires_after_secs": 86400,
                        "image": {"image_type": "image/png", "w": 640, "h": 480}}})
    );

    // Multipart with the raw bytes, as tweepy's requests sends it, signed by the account: the
    // multipart body is not part of the OAuth 1.0a signature.
    let (content_type, form) = multipart(
        &png(2, 3),
        &[
            ("media_category", "tweet_image"),
            ("additional_owners", "1234567890"),
        ],
    );
    let response = signed(&client, reqwest::Method::POST, &base, "/2/media/upload")
        .header("Content-Type", content_type)
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["data"]["image"],
        json!({"image_type": "image/png", "w": 2, "h": 3})
    );

    // A citizen may upload too; a GIF in a GIF category is an animated GIF (`16_`).
    let response = client
        .post(format!("{base}/2/media/upload"))
        .header("Authorization", "Bearer sandbox-user:warga40")
        .json(&json!({"media": base64(&gif(320, 240)), "media_category": "tweet_gif"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let gif_id = body["data"]["id"].as_str().unwrap();
    assert_eq!(body["data"]["media_key"], format!("16_{gif_id}"));
    assert_eq!(body["data"]["image"]["image_type"], "image/gif");
    // Every media answer carries X's rate-limit headers like the rest of the API.
    let status = signed(
        &client,
        reqwest::Method::GET,
        &base,
        &format!("/2/media/upload?media_id={id}&command=STATUS"),
    )
    .send()
    .await
    .unwrap();
    assert!(status.headers().contains_key("x-rate-limit-remaining"));
    let status: Value = status.json().await.unwrap();
    assert_eq!(
        status["data"]["processing_info"],
        json!({"state": "succeeded", "progress_percent": 100})
    );
    assert_eq!(status["data"]["media_key"], format!("3_{id}"));
    sandbox.stop();
}

#[tokio::test]
async fn a_chunked_upload_is_initialized_appended_and_finalized() {
    let (sandbox, client) = start().await;
    let base = sandbox.x_url();
    let image = png(1200, 675);
    let (first, second) = image.split_at(20);
    let init: Value = signed(&client, reqwest::Method::POST, &base, "/2/media/upload/initialize")
        .json(&json!({"media_type": "image/png", "total_bytes": image.len(), "media_category": "tweet_image"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = init["data"]["id"].as_str().unwrap().to_owned();
    assert_eq!(init["data"]["media_key"], format!("3_{id}"));
    assert_eq!(init["data"]["expires_after_secs"], 86400);

    // Not finalized yet: the status says so, and a post cannot use it.
    let pending: Value = signed(
        &client,
        reqwest::Method::GET,
        &base,
        &format!("/2/media/upload?media_id={id}&command=STATUS"),
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(pending["data"]["processing_info"]["state"], "pending");

    // Segments in JSON (base64) and in multipart; segment_index is checked (0..=999).
    let append = format!("/2/media/upload/{id}/append");
    let out_of_range = signed(&client, reqwest::Method::POST, &base, &append)
        .json(&json!({"media": base64(first), "segment_index": 1000}))
        .send()
        .await
        .unwrap();
    assert_eq!(out_of_range.status(), 400);
    let appended = signed(&client, reqwest::Method::POST, &base, &append)
        .json(&json!({"media": base64(first), "segment_index": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(appended.status(), 200);
    let appended: Value = appended.json().await.unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let expires_at = appended["data"]["expires_at"].as_u64().unwrap();
    assert!(expires_at.abs_diff(now + 86400) <= 5, "{appended}");

    // Finalizing before the segments add up to total_bytes is refused.
    let finalize = format!("/2/media/upload/{id}/finalize");
    let early = signed(&client, reqwest::Method::POST, &base, &finalize)
        .send()
        .await
        .unwrap();
    assert_eq!(early.status(), 400);
    let (content_type, form) = multipart(second, &[("segment_index", "1")]);
    let appended = signed(&client, reqwest::Method::POST, &base, &append)
        .header("Content-Type", content_type)
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(appended.status(), 200);

    let done = signed(&client, reqwest::Method::POST, &base, &finalize)
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    let done: Value = done.json().await.unwrap();
    assert_eq!(done["data"]["id"], id.as_str());
    assert_eq!(done["data"]["size"], image.len());
    assert_eq!(
        done["data"]["image"],
        json!({"image_type": "image/png", "w": 1200, "h": 675})
    );
    let posted = account_tweet(
        &client,
        &base,
        json!({"text": "Peta banjir hari ini", "media": {"media_ids": [id]}}),
    )
    .await;
    assert_eq!(posted.status(), 201);

    // A chunked upload whose bytes are not the declared type is refused at finalize.
    let init: Value = signed(
        &client,
        reqwest::Method::POST,
        &base,
        "/2/media/upload/initialize",
    )
    .json(&json!({"media_type": "image/jpeg", "total_bytes": image.len()}))
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let other = init["data"]["id"].as_str().unwrap();
    signed(
        &client,
        reqwest::Method::POST,
        &base,
        &format!("/2/media/upload/{other}/append"),
    )
    .json(&json!({"media": base64(&image), "segment_index": 0}))
    .send()
    .await
    .unwrap();
    let wrong = signed(
        &client,
        reqwest::Method::POST,
        &base,
        &format!("/2/media/upload/{other}/finalize"),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(wrong.status(), 400);
    let body: Value = wrong.json().await.unwrap();
    assert_eq!(
        body["errors"][0]["parameters"]["media_type"][0],
        "image/jpeg"
    );
    sandbox.stop();
}

#[tokio::test]
async fn alt_text_shows_in_includes_media_of_the_post_that_uses_the_upload() {
    let (sandbox, client) = start().await;
    let base = sandbox.x_url();
    let (_, uploaded) = account_upload(
        &client,
        &base,
        json!({"media": base64(&png(800, 600)), "media_category": "tweet_image"}),
    )
    .await;
    let id = uploaded["data"]["id"].as_str().unwrap().to_owned();
    let key = format!("3_{id}");
    let alt = "Jalan berlubang di depan Pasar Besar";
    let response = signed(&client, reqwest::Method::POST, &base, "/2/media/metadata")
        .json(&json!({"id": id, "metadata": {"alt_text": {"text": alt}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"data": {"id": id, "associated_metadata": {"alt_text": {"text": alt}}}})
    );
    let too_long = signed(&client, reqwest::Method::POST, &base, "/2/media/metadata")
        .json(&json!({"id": id, "metadata": {"alt_text": {"text": "a".repeat(1001)}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(too_long.status(), 400);

    let posted: Value = account_tweet(
        &client,
        &base,
        json!({"text": "Perbaikan jalan dimulai", "media": {"media_ids": [id, "1864700000000000003"]}}),
    )
    .await
    .json()
    .await
    .unwrap();
    let post = posted["data"]["id"].as_str().unwrap();
    let read = |query: &'static str| {
        let url = format!("{base}/2/tweets/{post}?{query}");
        let client = client.clone();
        async move {
            client
                .get(url)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let full = read(
        "tweet.fields=attachments&expansions=attachments.media_keys&media.fields=url,type,width,height,alt_text",
    )
    .await;
    assert_eq!(
        full["data"]["attachments"]["media_keys"],
        json!([key, "3_1864700000000000003"])
    );
    assert_eq!(
        full["includes"]["media"][0],
        json!({"media_key": key, "type": "photo", "url": format!("https://pbs.twimg.com/media/{key}.png"),
               "width": 800, "height": 600, "alt_text": alt})
    );
    // The sample photos are media too, with their fixed size.
    assert_eq!(full["includes"]["media"][1]["width"], 1280);
    assert_eq!(full["includes"]["media"][1]["height"], 960);
    assert!(full["includes"]["media"][1].get("alt_text").is_none());
    // Without media.fields: today's default of media_key, type and url.
    let plain = read("expansions=attachments.media_keys").await;
    assert_eq!(
        plain["includes"]["media"][0],
        json!({"media_key": key, "type": "photo", "url": format!("https://pbs.twimg.com/media/{key}.png")})
    );
    sandbox.stop();
}

#[tokio::test]
async fn uploads_and_attachments_are_refused_as_x_refuses_them() {
    let (sandbox, client) = start().await;
    let base = sandbox.x_url();
    let refused = |body: Value| {
        let client = client.clone();
        let base = base.clone();
        async move {
            let (status, body) = account_upload(&client, &base, body).await;
            assert_eq!(status, 400, "{body}");
            assert_eq!(body["type"], "https://api.x.com/2/problems/invalid-request");
            body["errors"][0].clone()
        }
    };
    // The declared type must be what the bytes are.
    let error = refused(
        json!({"media": base64(&png(4, 4)), "media_category": "tweet_image", "media_type": "image/jpeg"}),
    )
    .await;
    assert_eq!(error["parameters"]["media_type"][0], "image/jpeg");
    // Images only: video categories and bytes that are no image are refused, naming why.
    let error =
        refused(json!({"media": base64(&png(4, 4)), "media_category": "tweet_video"})).await;
    assert!(
        error["message"].as_str().unwrap().contains("images only"),
        "{error}"
    );
    let error = refused(
        json!({"media": base64(b"\x00\x00\x00\x18ftypmp42 not a picture"), "media_category": "tweet_image"}),
    )
    .await;
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .starts_with("media type unrecognized"),
        "{error}"
    );
    // Images are at most 5 MB (5,242,880 bytes).
    let mut large = png(4000, 3000);
    large.resize(5_242_881, 0);
    let error = refused(json!({"media": base64(&large), "media_category": "tweet_image"})).await;
    assert_eq!(error["message"], "File size exceeds 5242880 bytes.");
    // Unknown keys, as the spec's additionalProperties: false.
    refused(json!({"media": base64(&png(4, 4)), "media_category": "tweet_image", "colour": "red"}))
        .await;

    // App-only callers get the 403 of POST /2/tweets.
    let app = client
        .post(format!("{base}/2/media/upload"))
        .json(&json!({"media": base64(&png(4, 4)), "media_category": "tweet_image"}))
        .send()
        .await
        .unwrap();
    assert_eq!(app.status(), 403);

    // Unknown media ids.
    for (method, path, body) in [
        (
            reqwest::Method::POST,
            "/2/media/upload/999/finalize".to_owned(),
            None,
        ),
        (
            reqwest::Method::GET,
            "/2/media/upload?media_id=999&command=STATUS".to_owned(),
            None,
        ),
        (
            reqwest::Method::POST,
            "/2/media/metadata".to_owned(),
            Some(json!({"id": "999", "metadata": {"alt_text": {"text": "x"}}})),
        ),
    ] {
        let mut request = signed(&client, method, &base, &path);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 400, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body["errors"][0]["message"], "BadRequest: Not found",
            "{path}"
        );
    }

    // Another user's upload cannot be attached, nor given alt text; X's 400 for media ids.
    let (_, mine) = account_upload(
        &client,
        &base,
        json!({"media": base64(&png(4, 4)), "media_category": "tweet_image"}),
    )
    .await;
    let mine = mine["data"]["id"].as_str().unwrap().to_owned();
    let theirs = citizen_tweet(
        &client,
        &base,
        "warga41",
        json!({"text": "@PemkotMalang foto saya", "media": {"media_ids": [mine]}}),
    )
    .await;
    assert_eq!(theirs.status(), 400);
    let body: Value = theirs.json().await.unwrap();
    assert_eq!(body["errors"][0]["message"], "Your media IDs are invalid.");
    let metadata = client
        .post(format!("{base}/2/media/metadata"))
        .header("Authorization", "Bearer sandbox-user:warga41")
        .json(&json!({"id": mine, "metadata": {"alt_text": {"text": "bukan milik saya"}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(metadata.status(), 400);
    // At most four photos, and a GIF goes alone.
    let five = account_tweet(
        &client,
        &base,
        json!({"text": "lima foto", "media": {"media_ids": [mine, "1864700000000000001", "1864700000000000002", "1864700000000000003", "1864700000000000004"]}}),
    )
    .await;
    assert_eq!(five.status(), 400);
    let (_, gif_upload) = account_upload(
        &client,
        &base,
        json!({"media": base64(&gif(10, 10)), "media_category": "tweet_gif"}),
    )
    .await;
    let gif_id = gif_upload["data"]["id"].as_str().unwrap();
    let mixed = account_tweet(
        &client,
        &base,
        json!({"text": "gif dan foto", "media": {"media_ids": [gif_id, mine]}}),
    )
    .await;
    assert_eq!(mixed.status(), 400);
    let alone = account_tweet(
        &client,
        &base,
        json!({"text": "gif saja", "media": {"media_ids": [gif_id]}}),
    )
    .await;
    assert_eq!(alone.status(), 201);
    sandbox.stop();
}

// --- Pay-per-use counters -------------------------------------------------------------------------

async fn usage(client: &reqwest::Client, base: &str) -> Value {
    client
        .get(format!("{base}/sandbox/x/usage"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn usage_counts_what_x_bills_the_citys_app() {
    let (sandbox, client) = start().await;
    let base = sandbox.x_url();
    let account = sandbox.x.account_id();
    let before = usage(&client, &base).await;
    assert_eq!(before["days"], json!([]));
    assert_eq!(
        before["prices_usd"],
        json!({"own_mentions_read": 0.001, "posts_read": 0.005, "users_read": 0.01,
               "posts_created": 0.015, "summoned_replies": 0.01, "posts_with_url": 0.2})
    );

    let mut mentions = Vec::new();
    for i in 0..3 {
        let created: Value = citizen_tweet(
            &client,
            &base,
            &format!("warga5{i}"),
            json!({"text": format!("@PemkotMalang lampu mati nomor {i}")}),
        )
        .await
        .json()
        .await
        .unwrap();
        mentions.push(created["data"]["id"].as_str().unwrap().to_owned());
    }
    // Citizens are the simulated public: their reads and posts are not billed.
    client
        .get(format!("{base}/2/users/{account}/mentions"))
        .header("Authorization", "Bearer sandbox-user:warga50")
        .send()
        .await
        .unwrap();
    assert_eq!(usage(&client, &base).await["days"], json!([]));

    // The account reads its mentions twice the same day: 3 own mentions read, once each; the
    // expansion's users are user reads.
    for _ in 0..2 {
        let page: Value = signed(
            &client,
            reqwest::Method::GET,
            &base,
            &format!("/2/users/{account}/mentions?expansions=author_id"),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        assert_eq!(page["meta"]["result_count"], 3);
    }
    // A reply to a mention is a summoned reply; a post with a URL costs posts_with_url (even
    // as a reply); a plain post is posts_created; users/me is a user read.
    let reply = account_tweet(
        &client,
        &base,
        json!({"text": "@warga50 Terima kasih, kami cek", "reply": {"in_reply_to_tweet_id": mentions[0]}}),
    )
    .await;
    assert_eq!(reply.status(), 201);
    let with_url = account_tweet(
        &client,
        &base,
        json!({"text": "@warga51 Info lengkap: https://malangkota.go.id/layanan", "reply": {"in_reply_to_tweet_id": mentions[1]}}),
    )
    .await;
    assert_eq!(with_url.status(), 201);
    assert_eq!(
        account_tweet(
            &client,
            &base,
            json!({"text": "Pengumuman layanan hari ini"})
        )
        .await
        .status(),
        201
    );
    signed(&client, reqwest::Method::GET, &base, "/2/users/me")
        .send()
        .await
        .unwrap();
    // A failed request is not billed.
    assert_eq!(
        account_tweet(
            &client,
            &base,
            json!({"text": "Pengumuman layanan hari ini"})
        )
        .await
        .status(),
        403
    );

    let today = time::OffsetDateTime::now_utc().date();
    let today = format!(
        "{:04}-{:02}-{:02}",
        today.year(),
        u8::from(today.month()),
        today.day()
    );
    let after = usage(&client, &base).await;
    let units = json!({"own_mentions_read": 3, "posts_read": 0, "users_read": 4,
                       "posts_created": 1, "summoned_replies": 1, "posts_with_url": 1});
    // 3 x 0.001 + 4 x 0.010 + 0.015 + 0.010 + 0.200
    let usd = 0.268;
    assert_eq!(
        after["days"],
        json!([{"date": today, "units": units, "usd": usd}]),
        "{after}"
    );
    assert_eq!(after["total"], json!({"units": units, "usd": usd}));

    // Another user's mentions are post reads (warga50 is mentioned by the account's reply and
    // by warga53); POST /sandbox/reset clears the counters.
    citizen_tweet(
        &client,
        &base,
        "warga53",
        json!({"text": "@warga50 lampunya sudah nyala?"}),
    )
    .await;
    let other: Value = client
        .get(format!("{base}/2/users/by/username/warga50"))
        .header("Authorization", "Bearer sandbox-user:warga53")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let other = other["data"]["id"].as_str().unwrap();
    let page: Value = signed(
        &client,
        reqwest::Method::GET,
        &base,
        &format!("/2/users/{other}/mentions"),
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(page["meta"]["result_count"], 2);
    let after = usage(&client, &base).await;
    assert_eq!(after["total"]["units"]["posts_read"], 2);
    assert_eq!(after["total"]["units"]["own_mentions_read"], 3);
    client
        .post(format!("{base}/sandbox/reset"))
        .send()
        .await
        .unwrap();
    assert_eq!(usage(&client, &base).await["days"], json!([]));
    sandbox.stop();
}

#[tokio::test]
async fn the_bots_client_posts_a_photo_with_its_alternative_text() {
    use kicau::channels::billing::Unit;
    use kicau::channels::x::{Auth, Parent, XClient};
    let (sandbox, client) = start().await;
    let base = sandbox.x_url();
    let x = XClient::new(&base, Auth::OAuth1(credentials()));
    let alt = "Petugas menambal jalan berlubang di Jl. Danau Toba";
    let photo = x
        .upload_photo(&png(1200, 800), "image/png", alt)
        .await
        .unwrap();
    assert_eq!(photo.media_key, format!("3_{}", photo.id));
    let posted = x
        .create_post(
            "Perbaikan jalan di Sawojajar hari ini.",
            Parent::None,
            std::slice::from_ref(&photo.id),
        )
        .await
        .unwrap();
    // A post with a photo and no link is an ordinary post for X's price list.
    assert_eq!(posted.billed.len(), 1);
    assert_eq!(posted.billed[0].unit, Unit::XPostCreated);
    let read: Value = client
        .get(format!(
            "{base}/2/tweets/{}?tweet.fields=attachments&expansions=attachments.media_keys\
             &media.fields=url,type,alt_text",
            posted.id
        ))
        .header("Authorization", "Bearer sandbox-user:auditor")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        read["data"]["attachments"]["media_keys"],
        json!([photo.media_key])
    );
    assert_eq!(read["includes"]["media"][0]["alt_text"], alt, "{read}");
    // An image X does not take is refused for good, not retried.
    let refused = x
        .upload_photo(b"not an image", "image/png", alt)
        .await
        .unwrap_err();
    assert!(
        matches!(
            refused,
            kicau::channels::x::XError::Rejected { status: 400, .. }
        ),
        "{refused:?}"
    );
    sandbox.stop();
}
