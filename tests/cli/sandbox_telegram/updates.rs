/*!
How updates reach the bot: long-polled `getUpdates` with its offset and its 409 for a second
poller, and webhooks with their secret header, retried, blocking `getUpdates` while set.
*/

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

use super::{TOKEN, serve, start};

#[tokio::test]
async fn get_updates_long_polls_and_offset_confirms() {
    let sandbox = start(false).await;
    // Nothing to read: the poll waits out its timeout and answers an empty list.
    let started = Instant::now();
    assert_eq!(
        sandbox.ok("getUpdates", json!({"timeout": 1})).await,
        json!([])
    );
    assert!(started.elapsed() >= Duration::from_millis(900));

    let api = sandbox.api.clone();
    let poll = tokio::spawn(async move {
        let started = Instant::now();
        let answer: Value = reqwest::Client::new()
            .post(format!("{api}/bot{TOKEN}/getUpdates"))
            .json(&json!({"timeout": 10, "allowed_updates": ["message", "callback_query"]}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        (answer, started.elapsed())
    });
    // Let the poll reach its wait; the sandbox offers no signal for that, and a message sent
    // earlier would only make the poll answer at once, which the assertion below also accepts.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let written = sandbox.writes(888, 888, "/start").await;
    let (answer, waited) = poll.await.unwrap();
    assert!(
        waited < Duration::from_secs(5),
        "the poll waited {waited:?}"
    );
    let update = &answer["result"][0];
    assert_eq!(update["update_id"], written["update_id"]);
    assert_eq!(update["message"]["text"], "/start");
    assert_eq!(update["message"]["chat"]["type"], "private");
    assert_eq!(
        update["message"]["entities"],
        json!([{"type": "bot_command", "offset": 0, "length": 6}])
    );

    // Unconfirmed updates come again; an offset past them confirms and drops them.
    let second = sandbox.writes(888, 888, "kedua").await;
    let again = sandbox.ok("getUpdates", json!({"limit": 1})).await;
    assert_eq!(again.as_array().unwrap().len(), 1);
    assert_eq!(again[0]["update_id"], written["update_id"]);
    let next = written["update_id"].as_i64().unwrap() + 1;
    let rest = sandbox.ok("getUpdates", json!({"offset": next})).await;
    assert_eq!(rest.as_array().unwrap().len(), 1);
    assert_eq!(rest[0]["update_id"], second["update_id"]);
    let after = second["update_id"].as_i64().unwrap() + 1;
    assert_eq!(
        sandbox.ok("getUpdates", json!({"offset": after})).await,
        json!([])
    );
    // A reply carries the replied-to message, as Telegram fills it in.
    let (status, replied) = sandbox
        .control_post(
            "/sandbox/telegram/send",
            json!({"chat_id": 888, "text": "balas", "reply_to_message_id": 1}),
        )
        .await;
    assert_eq!(status, 200, "{replied}");
    let updates = sandbox.ok("getUpdates", json!({"offset": after})).await;
    assert_eq!(updates[0]["message"]["reply_to_message"]["text"], "/start");
}

#[tokio::test]
async fn a_newer_poll_ends_an_older_one_with_409() {
    let sandbox = start(false).await;
    let api = sandbox.api.clone();
    let older = tokio::spawn(async move {
        reqwest::Client::new()
            .post(format!("{api}/bot{TOKEN}/getUpdates"))
            .json(&json!({"timeout": 10}))
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    });
    // As above: the older poll must be waiting before the newer one comes.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sandbox.ok("getUpdates", json!({})).await, json!([]));
    let answer = older.await.unwrap();
    assert_eq!(answer["error_code"], 409);
    assert_eq!(
        answer["description"],
        "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
    );
}

/// What the bot's webhook endpoint received: the secret header and the update.
#[derive(Clone)]
struct Hook {
    attempts: Arc<AtomicUsize>,
    deliveries: tokio::sync::mpsc::UnboundedSender<(Option<String>, Value)>,
}

/// Fails the first delivery, so the sandbox must retry.
async fn hook(
    State(hook): State<Hook>,
    headers: HeaderMap,
    axum::Json(update): axum::Json<Value>,
) -> StatusCode {
    let secret = headers
        .get("x-telegram-bot-api-secret-token")
        .map(|v| v.to_str().unwrap().to_owned());
    let attempt = hook.attempts.fetch_add(1, Ordering::SeqCst);
    hook.deliveries.send((secret, update)).unwrap();
    if attempt == 0 {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    }
}

#[tokio::test]
async fn a_webhook_receives_updates_with_its_secret_and_blocks_get_updates() {
    let sandbox = start(false).await;
    let (deliveries, mut received) = tokio::sync::mpsc::unbounded_channel();
    let receiver = axum::Router::new()
        .route("/webhooks/telegram", axum::routing::post(hook))
        .with_state(Hook {
            attempts: Arc::new(AtomicUsize::new(0)),
            deliveries,
        });
    let receiver = serve(receiver).await;
    let url = format!("http://{receiver}/webhooks/telegram");

    assert_eq!(
        sandbox
            .error(
                "setWebhook",
                json!({"url": url, "secret_token": "bukan rahasia!"})
            )
            .await,
        (
            400,
            "Bad Request: secret token contains unallowed characters".to_owned()
        )
    );
    assert_eq!(
        sandbox
            .ok(
                "setWebhook",
                json!({"url": url, "secret_token": "rahasia_Kicau-1"})
            )
            .await,
        json!(true)
    );
    assert_eq!(
        sandbox.error("getUpdates", json!({})).await,
        (
            409,
            "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first".to_owned()
        )
    );
    let info = sandbox.ok("getWebhookInfo", json!({})).await;
    assert_eq!(info["url"], url.as_str());

    let written = sandbox.writes(654, 654, "lewat webhook").await;
    for attempt in 0..2 {
        let (secret, update) = tokio::time::timeout(Duration::from_secs(10), received.recv())
            .await
            .expect("the webhook is called")
            .unwrap();
        assert_eq!(
            secret.as_deref(),
            Some("rahasia_Kicau-1"),
            "attempt {attempt}"
        );
        assert_eq!(update["update_id"], written["update_id"]);
        assert_eq!(update["message"]["text"], "lewat webhook");
    }

    sandbox
        .ok("deleteWebhook", json!({"drop_pending_updates": true}))
        .await;
    assert_eq!(sandbox.ok("getWebhookInfo", json!({})).await["url"], "");
    assert_eq!(sandbox.ok("getUpdates", json!({})).await, json!([]));
}
