//! The Telegram sandbox against the published Bot API: over raw HTTP for Telegram's exact errors
//! and parameter encodings, and with the real teloxide client (the bot's production client,
//! unchanged but for its base URL) to prove every answer deserializes into teloxide's types.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use kicau::sandbox::{TelegramSandbox, TelegramSettings};
use serde_json::{Value, json};
use teloxide::adaptors::throttle::Limits;
use teloxide::prelude::*;
use teloxide::types::{
    BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, MessageEntityKind,
    MessageId, ParseMode, ReplyParameters, ThreadId, UpdateKind,
};
use teloxide::{ApiError, RequestError};

const TOKEN: &str = "123456:sandbox-telegram-token";
const BOT: &str = "kicau_test_bot";
/// The staff group, configured in bot.toml before anyone writes there.
const STAFF_GROUP: i64 = -1_001_234_567_890;

struct Sandbox {
    api: String,
    control: String,
    http: reqwest::Client,
}

async fn serve(router: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

/// Serves the Bot API and the control endpoints on ports of their own, as `kicau` does.
async fn start(flood_limits: bool) -> Sandbox {
    let telegram = TelegramSandbox::new(TelegramSettings {
        token: TOKEN.into(),
        bot_username: BOT.into(),
        flood_limits,
        group_messages_per_minute: 20,
    });
    let api = serve(telegram.api_router()).await;
    let control = serve(telegram.control_router()).await;
    Sandbox {
        api: format!("http://{api}"),
        control: format!("http://{control}"),
        http: reqwest::Client::new(),
    }
}

impl Sandbox {
    /// Calls a Bot API method with a JSON body, as teloxide does.
    async fn call(&self, method: &str, body: Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}/bot{TOKEN}/{method}", self.api))
            .json(&body)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }

    async fn ok(&self, method: &str, body: Value) -> Value {
        let (status, answer) = self.call(method, body).await;
        assert_eq!(status, 200, "{method}: {answer}");
        assert_eq!(answer["ok"], true);
        answer["result"].clone()
    }

    /// Calls a method that must fail; answers the HTTP status and Telegram's description.
    async fn error(&self, method: &str, body: Value) -> (u16, String) {
        let (status, answer) = self.call(method, body).await;
        assert_eq!(answer["ok"], false, "{method}: {answer}");
        assert_eq!(answer["error_code"], status, "{answer}");
        (status, answer["description"].as_str().unwrap().to_owned())
    }

    async fn control_post(&self, path: &str, body: Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.control))
            .json(&body)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }

    async fn control_get(&self, path: &str) -> Value {
        let response = self
            .http
            .get(format!("{}{path}", self.control))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    /// A person writes in a chat; answers the control endpoint's reply.
    async fn writes(&self, chat_id: i64, from_id: i64, text: &str) -> Value {
        let (status, answer) = self
            .control_post(
                "/sandbox/telegram/send",
                json!({"chat_id": chat_id, "from": {"id": from_id, "username": format!("warga{from_id}")}, "text": text}),
            )
            .await;
        assert_eq!(status, 200, "{answer}");
        answer
    }

    async fn sent(&self, chat_id: i64) -> Vec<Value> {
        let listing = self
            .control_get(&format!("/sandbox/telegram/messages?chat_id={chat_id}"))
            .await;
        listing.as_array().unwrap().clone()
    }

    /// The production client, pointed at the sandbox.
    fn bot(&self) -> Bot {
        Bot::new(TOKEN).set_api_url(reqwest::Url::parse(&format!("{}/", self.api)).unwrap())
    }
}

// --- Raw HTTP -----------------------------------------------------------------------------------

#[tokio::test]
async fn a_wrong_token_gets_401_and_an_unknown_method_404() {
    let sandbox = start(false).await;
    let response = sandbox
        .http
        .post(format!("{}/bot123456:wrong/getMe", sandbox.api))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"ok": false, "error_code": 401, "description": "Unauthorized"})
    );
    let (status, answer) = sandbox.call("sendTelepathy", json!({})).await;
    assert_eq!(status, 404);
    assert_eq!(
        answer,
        json!({"ok": false, "error_code": 404, "description": "Not Found: method not found"})
    );
    // Method names are case-insensitive, and GET works as well as POST.
    let me = sandbox.ok("GETME", json!({})).await;
    assert_eq!(me["id"], 123456);
    assert_eq!(me["is_bot"], true);
    assert_eq!(me["username"], BOT);
    let response = sandbox
        .http
        .get(format!("{}/bot{TOKEN}/getMe", sandbox.api))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn private_chats_exist_once_the_person_wrote_and_groups_from_the_start() {
    let sandbox = start(false).await;
    assert_eq!(
        sandbox
            .error("sendMessage", json!({"chat_id": 555, "text": "halo"}))
            .await,
        (400, "Bad Request: chat not found".to_owned())
    );
    assert_eq!(
        sandbox
            .error(
                "sendMessage",
                json!({"chat_id": "@warga555", "text": "halo"})
            )
            .await,
        (400, "Bad Request: chat not found".to_owned())
    );
    sandbox.writes(555, 555, "halo bot").await;
    let sent = sandbox
        .ok("sendMessage", json!({"chat_id": 555, "text": "halo juga"}))
        .await;
    assert_eq!(sent["chat"]["type"], "private");
    assert_eq!(sent["chat"]["username"], "warga555");
    assert_eq!(sent["from"]["username"], BOT);
    // The person's message had id 1 in this chat; the bot's is the next.
    assert_eq!(sent["message_id"], 2);

    let group = sandbox
        .ok(
            "sendMessage",
            json!({"chat_id": STAFF_GROUP, "text": "Tiket baru"}),
        )
        .await;
    assert_eq!(group["chat"]["type"], "supergroup");
    assert!(group["chat"]["title"].is_string());
    assert_eq!(group["message_id"], 1);
}

#[tokio::test]
async fn html_is_checked_the_way_telegram_checks_it() {
    let sandbox = start(false).await;
    let sent = sandbox
        .ok(
            "sendMessage",
            json!({
                "chat_id": STAFF_GROUP,
                "parse_mode": "HTML",
                "text": "<b>Tiket #17</b> jalan rusak 🚧 &amp; <a href=\"https://malangkota.go.id\">detail</a> <code>t17</code>",
            }),
        )
        .await;
    assert_eq!(sent["text"], "Tiket #17 jalan rusak 🚧 & detail t17");
    assert_eq!(
        sent["entities"],
        json!([
            {"type": "bold", "offset": 0, "length": 9},
            {"type": "text_link", "offset": 27, "length": 6, "url": "https://malangkota.go.id/"},
            {"type": "code", "offset": 34, "length": 3},
        ])
    );
    let refused = [
        (
            "<b>x<i>y</b></i>",
            "Bad Request: can't parse entities: Unmatched end tag at byte offset 8, expected \"</i>\", found \"</b>\"",
        ),
        (
            "<div>x</div>",
            "Bad Request: can't parse entities: Unsupported start tag \"div\" at byte offset 0",
        ),
        (
            "<b>tebal",
            "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\"",
        ),
        (
            "harga < 5000",
            "Bad Request: can't parse entities: Unsupported start tag \"\" at byte offset 6",
        ),
        ("<b> </b>", "Bad Request: message text is empty"),
    ];
    for (text, description) in refused {
        assert_eq!(
            sandbox
                .error(
                    "sendMessage",
                    json!({"chat_id": STAFF_GROUP, "parse_mode": "HTML", "text": text})
                )
                .await,
            (400, description.to_owned()),
            "{text}"
        );
    }
    // The limit counts characters after parsing: 4096 fit even with tags around them.
    let long = "é".repeat(4096);
    sandbox
        .ok(
            "sendMessage",
            json!({"chat_id": STAFF_GROUP, "parse_mode": "HTML", "text": format!("<b>{long}</b>")}),
        )
        .await;
    assert_eq!(
        sandbox
            .error(
                "sendMessage",
                json!({"chat_id": STAFF_GROUP, "text": format!("{long}x")})
            )
            .await,
        (400, "Bad Request: message is too long".to_owned())
    );
    assert_eq!(
        sandbox
            .error("sendMessage", json!({"chat_id": STAFF_GROUP}))
            .await,
        (400, "Bad Request: message text is empty".to_owned())
    );
}

#[tokio::test]
async fn inline_keyboards_replies_and_topics_are_validated() {
    let sandbox = start(false).await;
    let button =
        |data: &str| json!({"inline_keyboard": [[{"text": "Terima", "callback_data": data}]]});
    for data in ["", &"x".repeat(65)] {
        assert_eq!(
            sandbox
                .error(
                    "sendMessage",
                    json!({"chat_id": STAFF_GROUP, "text": "t", "reply_markup": button(data)})
                )
                .await,
            (400, "Bad Request: BUTTON_DATA_INVALID".to_owned())
        );
    }
    let first = sandbox
        .ok(
            "sendMessage",
            json!({"chat_id": STAFF_GROUP, "text": "Tiket #1", "reply_markup": button(&"x".repeat(64))}),
        )
        .await;
    assert_eq!(first["reply_markup"], button(&"x".repeat(64)));

    assert_eq!(
        sandbox
            .error(
                "sendMessage",
                json!({"chat_id": STAFF_GROUP, "text": "t", "reply_parameters": {"message_id": 99}})
            )
            .await,
        (
            400,
            "Bad Request: message to be replied not found".to_owned()
        )
    );
    assert_eq!(
        sandbox
            .error(
                "sendMessage",
                json!({"chat_id": STAFF_GROUP, "text": "t", "reply_to_message_id": 99})
            )
            .await,
        (
            400,
            "Bad Request: message to be replied not found".to_owned()
        )
    );
    let without = sandbox
        .ok(
            "sendMessage",
            json!({"chat_id": STAFF_GROUP, "text": "t", "reply_parameters": {"message_id": 99, "allow_sending_without_reply": true}}),
        )
        .await;
    assert!(without.get("reply_to_message").is_none());
    let reply = sandbox
        .ok(
            "sendMessage",
            json!({"chat_id": STAFF_GROUP, "text": "balasan", "reply_to_message_id": 1}),
        )
        .await;
    assert_eq!(reply["reply_to_message"]["message_id"], 1);
    assert_eq!(reply["reply_to_message"]["text"], "Tiket #1");

    let topic = sandbox
        .ok(
            "sendMessage",
            json!({"chat_id": STAFF_GROUP, "text": "di topik", "message_thread_id": 42, "disable_notification": true}),
        )
        .await;
    assert_eq!(topic["message_thread_id"], 42);
    assert_eq!(topic["is_topic_message"], true);
    assert_eq!(topic["chat"]["is_forum"], true);
    assert_eq!(
        sandbox
            .error(
                "sendMessage",
                json!({"chat_id": STAFF_GROUP, "text": "t", "message_thread_id": 1})
            )
            .await,
        (400, "Bad Request: message thread not found".to_owned())
    );
    let listing = sandbox.sent(STAFF_GROUP).await;
    assert_eq!(listing.len(), 4);
    assert_eq!(listing[2]["reply_to_message_id"], 1);
    assert_eq!(listing[3]["message_thread_id"], 42);
}

#[tokio::test]
async fn edits_show_in_the_listing_and_unchanged_edits_are_refused() {
    let sandbox = start(false).await;
    let keyboard = json!({"inline_keyboard": [[{"text": "Terima", "callback_data": "t:1:acc"}]]});
    let sent = sandbox
        .ok(
            "sendMessage",
            json!({"chat_id": STAFF_GROUP, "text": "Tiket #1 baru", "reply_markup": keyboard}),
        )
        .await;
    let id = sent["message_id"].clone();
    let edited = sandbox
        .ok(
            "editMessageText",
            json!({"chat_id": STAFF_GROUP, "message_id": id, "text": "<i>Tiket #1 diterima</i>", "parse_mode": "HTML", "reply_markup": keyboard}),
        )
        .await;
    assert_eq!(edited["text"], "Tiket #1 diterima");
    assert!(edited["edit_date"].is_i64());
    let not_modified = "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message";
    assert_eq!(
        sandbox
            .error(
                "editMessageText",
                json!({"chat_id": STAFF_GROUP, "message_id": id, "text": "<i>Tiket #1 diterima</i>", "parse_mode": "HTML", "reply_markup": keyboard}),
            )
            .await,
        (400, not_modified.to_owned())
    );
    assert_eq!(
        sandbox
            .error(
                "editMessageReplyMarkup",
                json!({"chat_id": STAFF_GROUP, "message_id": id, "reply_markup": keyboard}),
            )
            .await,
        (400, not_modified.to_owned())
    );
    assert_eq!(
        sandbox
            .error(
                "editMessageText",
                json!({"chat_id": STAFF_GROUP, "message_id": 77, "text": "x"})
            )
            .await,
        (400, "Bad Request: message to edit not found".to_owned())
    );
    // Without reply_markup the keyboard goes, as on Telegram.
    let cleared = sandbox
        .ok(
            "editMessageReplyMarkup",
            json!({"chat_id": STAFF_GROUP, "message_id": id}),
        )
        .await;
    assert!(cleared.get("reply_markup").is_none());

    let listing = sandbox.sent(STAFF_GROUP).await;
    assert_eq!(listing.len(), 1);
    assert_eq!(listing[0]["message_id"], id);
    assert_eq!(listing[0]["text"], "Tiket #1 diterima");
    assert_eq!(listing[0]["edited"], true);
    assert_eq!(listing[0]["reply_markup"], Value::Null);
    assert!(listing[0]["date"].is_i64());
}

#[tokio::test]
async fn a_press_becomes_a_callback_query_that_can_be_answered_once() {
    let sandbox = start(false).await;
    let sent = sandbox
        .ok(
            "sendMessage",
            json!({"chat_id": STAFF_GROUP, "text": "Tiket #5", "reply_markup": {"inline_keyboard": [[{"text": "Terima", "callback_data": "t:5:acc"}]]}}),
        )
        .await;
    let id = sent["message_id"].as_i64().unwrap();
    let press = |data: &str, message_id: i64| json!({"chat_id": STAFF_GROUP, "message_id": message_id, "from": {"id": 42, "username": "petugas_dinas"}, "data": data});
    let (status, answer) = sandbox
        .control_post("/sandbox/telegram/press", press("t:5:rej", id))
        .await;
    assert_eq!(status, 400);
    assert!(answer["error"].as_str().unwrap().contains("t:5:rej"));
    let (status, _) = sandbox
        .control_post("/sandbox/telegram/press", press("t:5:acc", 99))
        .await;
    assert_eq!(status, 400);
    let (status, pressed) = sandbox
        .control_post("/sandbox/telegram/press", press("t:5:acc", id))
        .await;
    assert_eq!(status, 200, "{pressed}");

    let updates = sandbox.ok("getUpdates", json!({})).await;
    let query = &updates[0]["callback_query"];
    assert_eq!(query["id"], pressed["callback_query_id"]);
    assert_eq!(query["data"], "t:5:acc");
    assert_eq!(query["from"]["username"], "petugas_dinas");
    assert_eq!(query["from"]["first_name"], "petugas_dinas");
    assert_eq!(query["from"]["is_bot"], false);
    assert!(query["chat_instance"].is_string());
    assert_eq!(query["message"]["text"], "Tiket #5");
    assert_eq!(query["message"]["reply_markup"], sent["reply_markup"]);

    sandbox
        .ok(
            "answerCallbackQuery",
            json!({"callback_query_id": query["id"], "text": "Tiket diterima"}),
        )
        .await;
    let too_old =
        "Bad Request: query is too old and response timeout expired or query ID is invalid";
    assert_eq!(
        sandbox
            .error(
                "answerCallbackQuery",
                json!({"callback_query_id": query["id"]})
            )
            .await,
        (400, too_old.to_owned())
    );
    assert_eq!(
        sandbox
            .error("answerCallbackQuery", json!({"callback_query_id": "123"}))
            .await,
        (400, too_old.to_owned())
    );
    let answers = sandbox
        .control_get("/sandbox/telegram/callback-answers")
        .await;
    assert_eq!(answers[0]["text"], "Tiket diterima");
    assert_eq!(answers[0]["data"], "t:5:acc");
    assert_eq!(answers[0]["message_id"], id);
}

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

#[tokio::test]
async fn parameters_arrive_as_json_form_or_query_string() {
    let sandbox = start(false).await;
    let url = format!("{}/bot{TOKEN}/sendMessage", sandbox.api);
    let form: Value = sandbox
        .http
        .post(&url)
        .form(&[
            ("chat_id", STAFF_GROUP.to_string()),
            ("text", "<b>dari form</b>".to_owned()),
            ("parse_mode", "HTML".to_owned()),
            (
                "reply_markup",
                r#"{"inline_keyboard":[[{"text":"Buka","url":"https://malangkota.go.id"}]]}"#
                    .to_owned(),
            ),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(form["result"]["text"], "dari form");
    assert_eq!(
        form["result"]["reply_markup"]["inline_keyboard"][0][0]["url"],
        "https://malangkota.go.id"
    );
    let query: Value = sandbox
        .http
        .get(format!("{url}?chat_id={STAFF_GROUP}&text=dari%20query"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(query["result"]["text"], "dari query");
    let response = sandbox
        .http
        .post(&url)
        .header("content-type", "text/plain")
        .body("chat_id=1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn flood_limits_answer_429_with_retry_after() {
    let sandbox = start(true).await;
    sandbox.writes(321, 321, "halo").await;
    for i in 0..3 {
        sandbox
            .ok(
                "sendMessage",
                json!({"chat_id": 321, "text": format!("pesan {i}")}),
            )
            .await;
    }
    let (status, answer) = sandbox
        .call("sendMessage", json!({"chat_id": 321, "text": "pesan 3"}))
        .await;
    assert_eq!(status, 429);
    assert_eq!(
        answer,
        json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 1", "parameters": {"retry_after": 1}})
    );
    // Another chat has its own allowance.
    sandbox
        .ok(
            "sendMessage",
            json!({"chat_id": STAFF_GROUP, "text": "grup"}),
        )
        .await;

    // An injected fault fails the next matching call, then the method works again.
    let (status, _) = sandbox
        .control_post(
            "/sandbox/telegram/faults",
            json!({"method": "getMe", "status": 429, "retry_after": 7, "times": 1}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, answer) = sandbox.call("getMe", json!({})).await;
    assert_eq!(status, 429);
    assert_eq!(answer["parameters"]["retry_after"], 7);
    assert_eq!(answer["description"], "Too Many Requests: retry after 7");
    sandbox.ok("getMe", json!({})).await;
    sandbox
        .control_post(
            "/sandbox/telegram/faults",
            json!({"method": "sendMessage", "status": 403, "description": "Forbidden: bot was blocked by the user"}),
        )
        .await;
    assert_eq!(
        sandbox
            .error("sendMessage", json!({"chat_id": STAFF_GROUP, "text": "x"}))
            .await,
        (403, "Forbidden: bot was blocked by the user".to_owned())
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

// --- The production client: teloxide ------------------------------------------------------------

#[tokio::test]
async fn teloxide_talks_to_the_sandbox_unchanged() {
    let sandbox = start(false).await;
    let bot = sandbox.bot();

    let me = bot.get_me().await.unwrap();
    assert_eq!(me.username(), BOT);
    assert_eq!(me.id, UserId(123456));
    let info = bot.get_webhook_info().await.unwrap();
    assert!(info.url.is_none());
    bot.delete_webhook().await.unwrap();
    bot.set_my_commands(vec![BotCommand::new("tiket", "Lihat tiket")])
        .await
        .unwrap();
    assert_eq!(bot.get_my_commands().await.unwrap()[0].command, "tiket");

    // A staff member writes to the bot privately.
    sandbox.writes(777, 777, "/start").await;
    let updates = bot.get_updates().timeout(5).await.unwrap();
    let UpdateKind::Message(start) = &updates[0].kind else {
        panic!("a message update: {:?}", updates[0]);
    };
    assert_eq!(start.text(), Some("/start"));
    assert_eq!(start.chat.id, ChatId(777));
    assert!(start.chat.is_private());
    let from = start.from.as_ref().unwrap();
    assert_eq!(from.username.as_deref(), Some("warga777"));
    assert_eq!(from.first_name, "warga777");
    assert_eq!(
        start.entities().unwrap()[0].kind,
        MessageEntityKind::BotCommand
    );

    // The bot answers with HTML, an inline keyboard and a reply.
    let keyboard = InlineKeyboardMarkup::new([[
        InlineKeyboardButton::callback("Terima", "t:17:acc"),
        InlineKeyboardButton::callback("Tolak", "t:17:rej"),
    ]]);
    let sent = bot
        .send_message(
            ChatId(777),
            "<b>Tiket #17</b> jalan rusak 🚧 <a href=\"https://malangkota.go.id/\">detail</a>",
        )
        .parse_mode(ParseMode::Html)
        .reply_markup(keyboard.clone())
        .reply_parameters(ReplyParameters::new(start.id))
        .await
        .unwrap();
    assert_eq!(sent.text(), Some("Tiket #17 jalan rusak 🚧 detail"));
    let entities = sent.entities().unwrap();
    assert_eq!(
        (
            entities[0].kind.clone(),
            entities[0].offset,
            entities[0].length
        ),
        (MessageEntityKind::Bold, 0, 9)
    );
    assert_eq!(
        (entities[1].offset, entities[1].length),
        (25, 6),
        "UTF-16 offsets, the emoji counting twice"
    );
    assert!(
        matches!(&entities[1].kind, MessageEntityKind::TextLink { url } if url.as_str() == "https://malangkota.go.id/")
    );
    assert_eq!(sent.reply_markup(), Some(&keyboard));
    assert_eq!(sent.reply_to_message().unwrap().id, start.id);
    assert!(sent.from.as_ref().unwrap().is_bot);

    let edited = bot
        .edit_message_text(ChatId(777), sent.id, "<i>Tiket #17 diteruskan</i>")
        .parse_mode(ParseMode::Html)
        .reply_markup(keyboard.clone())
        .await
        .unwrap();
    assert_eq!(edited.text(), Some("Tiket #17 diteruskan"));
    assert!(edited.edit_date().is_some());
    let unchanged = bot
        .edit_message_text(ChatId(777), sent.id, "<i>Tiket #17 diteruskan</i>")
        .parse_mode(ParseMode::Html)
        .reply_markup(keyboard.clone())
        .await
        .unwrap_err();
    assert!(
        matches!(unchanged, RequestError::Api(ApiError::MessageNotModified)),
        "{unchanged:?}"
    );

    // The staff member presses "Terima"; the bot gets the callback query and answers it.
    let (status, pressed) = sandbox
        .control_post(
            "/sandbox/telegram/press",
            json!({"chat_id": 777, "message_id": sent.id.0, "data": "t:17:acc"}),
        )
        .await;
    assert_eq!(status, 200, "{pressed}");
    let offset = updates.last().unwrap().id.0 as i32 + 1;
    let updates = bot.get_updates().offset(offset).await.unwrap();
    let UpdateKind::CallbackQuery(query) = &updates[0].kind else {
        panic!("a callback query: {:?}", updates[0]);
    };
    assert_eq!(query.data.as_deref(), Some("t:17:acc"));
    assert_eq!(query.from.id, UserId(777));
    let message = query.regular_message().unwrap();
    assert_eq!(message.id, sent.id);
    assert_eq!(message.text(), Some("Tiket #17 diteruskan"));
    assert_eq!(message.reply_markup(), Some(&keyboard));
    bot.answer_callback_query(query.id.clone())
        .text("Diterima")
        .await
        .unwrap();
    let twice = bot
        .answer_callback_query(query.id.clone())
        .await
        .unwrap_err();
    assert!(twice.to_string().contains("query is too old"), "{twice:?}");

    let cleared = bot
        .edit_message_reply_markup(ChatId(777), sent.id)
        .await
        .unwrap();
    assert!(cleared.reply_markup().is_none());
    let unchanged = bot
        .edit_message_reply_markup(ChatId(777), sent.id)
        .await
        .unwrap_err();
    assert!(matches!(
        unchanged,
        RequestError::Api(ApiError::MessageNotModified)
    ));

    // Telegram's errors map to teloxide's variants.
    let missing = bot.send_message(ChatId(999), "halo").await.unwrap_err();
    assert!(matches!(missing, RequestError::Api(ApiError::ChatNotFound)));
    let missing = bot
        .edit_message_text(ChatId(777), MessageId(999), "x")
        .await
        .unwrap_err();
    assert!(matches!(
        missing,
        RequestError::Api(ApiError::MessageToEditNotFound)
    ));
    let bad = bot
        .send_message(ChatId(777), "<b>x</i>")
        .parse_mode(ParseMode::Html)
        .await
        .unwrap_err();
    assert!(matches!(
        bad,
        RequestError::Api(ApiError::CantParseEntities(_))
    ));
    let bad = bot
        .send_message(ChatId(777), "x")
        .reply_markup(InlineKeyboardMarkup::new([[
            InlineKeyboardButton::callback("x", "x".repeat(65)),
        ]]))
        .await
        .unwrap_err();
    assert!(matches!(
        bad,
        RequestError::Api(ApiError::ButtonDataInvalid)
    ));

    // A forum topic of the staff group, and photos (teloxide sends those as multipart).
    let topic = bot
        .send_message(ChatId(STAFF_GROUP), "Tiket baru di topik")
        .message_thread_id(ThreadId(MessageId(42)))
        .await
        .unwrap();
    assert_eq!(topic.thread_id, Some(ThreadId(MessageId(42))));
    assert!(topic.is_topic_message);
    assert!(topic.chat.is_supergroup());
    let photo = bot
        .send_photo(
            ChatId(STAFF_GROUP),
            InputFile::url(reqwest::Url::parse("https://example.com/jalan.jpg").unwrap()),
        )
        .caption("<b>Foto</b> laporan")
        .parse_mode(ParseMode::Html)
        .await
        .unwrap();
    assert_eq!(photo.caption(), Some("Foto laporan"));
    let file_id = photo.photo().unwrap()[0].file.id.clone();
    let uploaded = bot
        .send_photo(
            ChatId(STAFF_GROUP),
            InputFile::memory(vec![0xff, 0xd8, 0xff]).file_name("a.jpg"),
        )
        .await
        .unwrap();
    assert_eq!(uploaded.photo().unwrap()[0].file.size, 3);
    bot.send_photo(ChatId(STAFF_GROUP), InputFile::file_id(file_id))
        .await
        .unwrap();

    let listing = sandbox.sent(777).await;
    assert_eq!(listing.len(), 1);
    assert_eq!(listing[0]["text"], "Tiket #17 diteruskan");
    assert_eq!(listing[0]["edited"], true);
    assert_eq!(listing[0]["reply_to_message_id"], 1);
    let answers = sandbox
        .control_get("/sandbox/telegram/callback-answers")
        .await;
    assert_eq!(answers[0]["text"], "Diterima");
}

#[tokio::test]
async fn teloxide_long_polls_and_its_dispatcher_answers_a_person() {
    let sandbox = start(false).await;
    let bot = sandbox.bot();
    let (replied, mut replies) = tokio::sync::mpsc::unbounded_channel::<MessageId>();
    let handler = Update::filter_message().endpoint(
        |bot: Bot, message: Message, replied: tokio::sync::mpsc::UnboundedSender<MessageId>| async move {
            let answer = bot
                .send_message(message.chat.id, format!("Diterima: {}", message.text().unwrap_or("")))
                .await?;
            replied.send(answer.id).unwrap();
            Ok::<(), RequestError>(())
        },
    );
    let mut dispatcher = Dispatcher::builder(bot, handler)
        .dependencies(dptree::deps![replied])
        .build();
    let shutdown = dispatcher.shutdown_token();
    let running = tokio::spawn(async move { dispatcher.dispatch().await });

    // The dispatcher starts with getMe, getWebhookInfo and a long poll; the message reaches it
    // within the poll, not after the poll's 10 seconds.
    let started = Instant::now();
    sandbox.writes(4242, 4242, "jalan berlubang").await;
    let reply = tokio::time::timeout(Duration::from_secs(8), replies.recv())
        .await
        .expect("the dispatcher answers")
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(8));
    let listing = sandbox.sent(4242).await;
    assert_eq!(listing[0]["message_id"], reply.0);
    assert_eq!(listing[0]["text"], "Diterima: jalan berlubang");

    // teloxide confirms what it handled with a last getUpdates while stopping.
    shutdown.shutdown().unwrap().await;
    running.await.unwrap();
}

#[tokio::test]
async fn teloxide_throttle_keeps_within_the_flood_limits_and_retries_after_429() {
    let sandbox = start(true).await;
    sandbox.writes(778, 778, "halo").await;
    sandbox.writes(779, 779, "halo").await;

    // The plain client meets the limit at the fourth message in a second.
    let bot = sandbox.bot();
    for i in 0..3 {
        bot.send_message(ChatId(778), format!("pesan {i}"))
            .await
            .unwrap();
    }
    let flooded = bot.send_message(ChatId(778), "pesan 3").await.unwrap_err();
    assert!(
        matches!(flooded, RequestError::RetryAfter(after) if after.seconds() >= 1),
        "{flooded:?}"
    );

    // The Throttle adaptor paces messages so none is refused.
    let throttled = sandbox.bot().throttle(Limits::default());
    for i in 0..5 {
        throttled
            .send_message(ChatId(779), format!("pesan {i}"))
            .await
            .unwrap();
    }
    assert_eq!(sandbox.sent(779).await.len(), 5);

    // After a 429 it waits `retry_after` and sends the same request again.
    let (status, _) = sandbox
        .control_post(
            "/sandbox/telegram/faults",
            json!({"method": "sendMessage", "status": 429, "retry_after": 1}),
        )
        .await;
    assert_eq!(status, 200);
    throttled
        .send_message(ChatId(STAFF_GROUP), "setelah jeda")
        .await
        .unwrap();
    let listing = sandbox.sent(STAFF_GROUP).await;
    assert_eq!(listing.len(), 1);
    assert_eq!(listing[0]["text"], "setelah jeda");
}
