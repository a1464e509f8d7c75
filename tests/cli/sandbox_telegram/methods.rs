/*!
The Bot API methods over raw HTTP: the token and method name, chats, inline keyboards,
replies and topics, edits, callback queries, and parameters in every encoding Telegram takes,
each answered with Telegram's exact errors.
*/

use serde_json::{Value, json};

use super::{BOT, STAFF_GROUP, TOKEN, start};

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
