//! The WhatsApp sandbox against the published Cloud API, over raw HTTP: Graph's errors, the
//! 24-hour customer-service window, and the webhooks a small stand-in for the bot's endpoint
//! receives, whose `X-Hub-Signature-256` the test checks on its own.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac};
use kicau::sandbox::{WhatsAppSandbox, WhatsAppSettings};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::sync::mpsc;

const TOKEN: &str = "test-whatsapp-token";
const APP_SECRET: &str = "test-app-secret";
const PHONE_NUMBER_ID: &str = "106540352242922";
const DISPLAY_NUMBER: &str = "6281100000000";
const WABA_ID: &str = "102290129340398";
const VERIFY_TOKEN: &str = "rahasia-verifikasi";
const CITIZEN: &str = "6281234567890";

/// What the bot's webhook endpoint received.
#[derive(Debug)]
struct Delivery {
    /// The body exactly as it arrived.
    raw: Vec<u8>,
    body: Value,
    content_type: Option<String>,
    signature: Option<String>,
}

/// The stand-in for the bot's endpoint: it passes on each delivery (checked by the test, so a
/// bad one fails the test rather than the connection) and answers 500 while `failures` is above
/// zero.
#[derive(Clone)]
struct Receiver {
    failures: Arc<AtomicUsize>,
    deliveries: mpsc::UnboundedSender<Delivery>,
}

async fn receive(State(receiver): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let delivery = Delivery {
        raw: body.to_vec(),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        content_type: header("content-type"),
        signature: header("x-hub-signature-256"),
    };
    let _ = receiver.deliveries.send(delivery);
    let failing = receiver
        .failures
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    if failing {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    }
}

/// `sha256=` and the lowercase hex HMAC-SHA256 of `body` with the app secret, computed here
/// independently of the sandbox.
fn expected_signature(body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(APP_SECRET.as_bytes()).unwrap();
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

/// Checks one delivery's headers and signature.
fn check(delivery: &Delivery) {
    assert_eq!(delivery.content_type.as_deref(), Some("application/json"));
    assert_eq!(
        delivery.signature.as_deref(),
        Some(expected_signature(&delivery.raw).as_str()),
        "a valid X-Hub-Signature-256"
    );
    assert!(delivery.body.is_object(), "a JSON body");
}

/// Meta's verification handshake, as the bot answers it.
async fn verify(
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> (StatusCode, String) {
    let subscribe = query.get("hub.mode").map(String::as_str) == Some("subscribe");
    let token = query.get("hub.verify_token").map(String::as_str) == Some(VERIFY_TOKEN);
    match (subscribe && token, query.get("hub.challenge")) {
        (true, Some(challenge)) => (StatusCode::OK, challenge.clone()),
        _ => (StatusCode::FORBIDDEN, String::new()),
    }
}

struct Sandbox {
    api: String,
    control: String,
    http: reqwest::Client,
    failures: Arc<AtomicUsize>,
    received: mpsc::UnboundedReceiver<Delivery>,
}

async fn serve(router: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

/// Serves the Cloud API, the control endpoints and the bot's webhook endpoint on ports of their
/// own, and points the sandbox's webhooks at the last.
async fn start() -> Sandbox {
    let whatsapp = WhatsAppSandbox::new(WhatsAppSettings {
        access_token: TOKEN.into(),
        app_secret: APP_SECRET.into(),
        webhook_url: "http://127.0.0.1:9/unused".into(),
        ..WhatsAppSettings::default()
    });
    let api = serve(whatsapp.api_router()).await;
    let control = serve(whatsapp.control_router()).await;
    let (deliveries, received) = mpsc::unbounded_channel();
    let failures = Arc::new(AtomicUsize::new(0));
    let receiver = axum::Router::new()
        .route(
            "/webhooks/whatsapp",
            axum::routing::post(receive).get(verify),
        )
        .with_state(Receiver {
            failures: failures.clone(),
            deliveries,
        });
    let receiver = serve(receiver).await;
    whatsapp.set_webhook_url(format!("http://{receiver}/webhooks/whatsapp"));
    Sandbox {
        api: format!("http://{api}"),
        control: format!("http://{control}"),
        http: reqwest::Client::new(),
        failures,
        received,
    }
}

impl Sandbox {
    /// `POST /v23.0/<phone-number-id>/messages` with the bot's token.
    async fn send(&self, body: Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}/v23.0/{PHONE_NUMBER_ID}/messages", self.api))
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(response.headers().contains_key("x-fb-trace-id"));
        (response.status().as_u16(), response.json().await.unwrap())
    }

    /// Sends a message that must be accepted; answers its id.
    async fn sent(&self, body: Value) -> String {
        let (status, answer) = self.send(body).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["messaging_product"], "whatsapp");
        let id = answer["messages"][0]["id"].as_str().unwrap().to_owned();
        assert!(id.starts_with("wamid."), "{id}");
        id
    }

    /// Sends a message that must be refused; answers the HTTP status and the Graph error.
    async fn refused(&self, body: Value) -> (u16, Value) {
        let (status, answer) = self.send(body).await;
        assert_ne!(status, 200, "{answer}");
        assert_eq!(answer["error"]["type"], "OAuthException", "{answer}");
        (status, answer["error"].clone())
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

    /// A person writes; answers the control endpoint's reply, given once the webhook arrived.
    async fn reply(&self, body: Value) -> Value {
        let (status, answer) = self.control_post("/sandbox/whatsapp/reply", body).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["ok"], true);
        answer
    }

    async fn listing(&self, to: &str) -> Vec<Value> {
        let listing = self
            .control_get(&format!("/sandbox/whatsapp/messages?to={to}"))
            .await;
        listing.as_array().unwrap().clone()
    }

    /// The next webhook, checked for Meta's envelope; answers the change's value.
    async fn webhook(&mut self) -> Value {
        let delivery = self.delivery().await;
        let body = &delivery.body;
        assert_eq!(body["object"], "whatsapp_business_account");
        assert_eq!(body["entry"][0]["id"], WABA_ID);
        let change = &body["entry"][0]["changes"][0];
        assert_eq!(change["field"], "messages");
        let value = &change["value"];
        assert_eq!(value["messaging_product"], "whatsapp");
        assert_eq!(
            value["metadata"],
            json!({"display_phone_number": DISPLAY_NUMBER, "phone_number_id": PHONE_NUMBER_ID})
        );
        value.clone()
    }

    /// The next delivery to the bot's endpoint, its signature checked.
    async fn delivery(&mut self) -> Delivery {
        let delivery = tokio::time::timeout(Duration::from_secs(10), self.received.recv())
            .await
            .expect("a webhook arrives")
            .unwrap();
        check(&delivery);
        delivery
    }

    /// The next webhook, which must be a status of `id`; answers the status entry.
    async fn status(&mut self, id: &str, status: &str) -> Value {
        let value = self.webhook().await;
        let entry = value["statuses"][0].clone();
        assert_eq!(entry["id"], id, "{value}");
        assert_eq!(entry["status"], status, "{value}");
        assert_eq!(entry["recipient_id"], CITIZEN);
        // Status webhooks name the person too (Meta, 2026).
        assert_eq!(value["contacts"][0]["wa_id"], CITIZEN, "{value}");
        assert!(value["contacts"][0]["user_id"].is_string(), "{value}");
        assert!(
            entry["timestamp"]
                .as_str()
                .is_some_and(|t| t.parse::<i64>().is_ok())
        );
        entry
    }

    /// The next webhook, which must be the person's message `id`; answers the message object.
    async fn incoming(&mut self, id: &str) -> Value {
        let value = self.webhook().await;
        assert_eq!(value["contacts"][0]["wa_id"], CITIZEN, "{value}");
        let message = value["messages"][0].clone();
        assert_eq!(message["id"], id, "{value}");
        assert_eq!(message["from"], CITIZEN);
        message
    }
}

fn text(body: &str) -> Value {
    json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": CITIZEN,
        "type": "text",
        "text": {"preview_url": false, "body": body},
    })
}

fn template(name: &str) -> Value {
    json!({
        "messaging_product": "whatsapp",
        "to": CITIZEN,
        "type": "template",
        "template": {
            "name": name,
            "language": {"code": "id"},
            "components": [
                {"type": "body", "parameters": [{"type": "text", "text": "KC-0042"}]},
                {"type": "button", "sub_type": "quick_reply", "index": "0",
                 "parameters": [{"type": "payload", "payload": "TERIMA_KC-0042"}]},
            ],
        },
    })
}

fn buttons(titles: &[&str]) -> Value {
    let buttons: Vec<Value> = titles
        .iter()
        .enumerate()
        .map(|(i, title)| json!({"type": "reply", "reply": {"id": format!("pilih-{i}"), "title": title}}))
        .collect();
    json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": CITIZEN,
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": "Tiket KC-0042: apakah masalahnya sudah selesai?"},
            "action": {"buttons": buttons},
        },
    })
}

/// The failed status of a free-form message outside the window, as reference/apis.md 5.2 quotes
/// it from a real webhook.
fn reengagement_error() -> Value {
    json!([{
        "code": 131047,
        "title": "Re-engagement message",
        "message": "Re-engagement message",
        "error_data": {"details": "Message failed to send because more than 24 hours have passed since the customer last replied to this number."},
        "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
    }])
}

#[tokio::test]
async fn a_wrong_or_missing_token_gets_401_with_code_190() {
    let sandbox = start().await;
    for token in [Some("wrong-token"), None] {
        let mut request = sandbox
            .http
            .post(format!("{}/v23.0/{PHONE_NUMBER_ID}/messages", sandbox.api))
            .json(&text("halo"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401);
        assert!(response.headers().contains_key("www-authenticate"));
        let answer: Value = response.json().await.unwrap();
        let error = &answer["error"];
        assert_eq!(
            error["message"],
            "Invalid OAuth access token - Cannot parse access token"
        );
        assert_eq!(error["type"], "OAuthException");
        assert_eq!(error["code"], 190);
        assert!(error["fbtrace_id"].as_str().is_some_and(|t| !t.is_empty()));
    }

    let response = sandbox
        .http
        .post(format!("{}/v23.0/999999/messages", sandbox.api))
        .bearer_auth(TOKEN)
        .json(&text("halo"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["error"]["code"], 100);
    assert_eq!(answer["error"]["error_subcode"], 33);
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Object with ID '999999' does not exist")
    );

    let response = sandbox
        .http
        .post(format!("{}/v19.0/{PHONE_NUMBER_ID}/messages", sandbox.api))
        .bearer_auth(TOKEN)
        .json(&text("halo"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert!(sandbox.listing(CITIZEN).await.is_empty());
}

#[tokio::test]
async fn a_template_outside_the_window_is_delivered_with_sent_and_delivered() {
    let mut sandbox = start().await;
    let mut body = template("kicau_tiket_baru");
    body["to"] = json!(format!("+{CITIZEN}"));
    let (status, answer) = sandbox.send(body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["contacts"],
        json!([{"input": format!("+{CITIZEN}"), "wa_id": CITIZEN}])
    );
    let id = answer["messages"][0]["id"].as_str().unwrap().to_owned();

    let sent = sandbox.status(&id, "sent").await;
    assert_eq!(
        sent["pricing"],
        json!({"billable": true, "pricing_model": "PMP", "category": "utility", "type": "regular"})
    );
    sandbox.status(&id, "delivered").await;

    let listing = sandbox.listing(CITIZEN).await;
    assert_eq!(listing.len(), 1);
    assert_eq!(listing[0]["id"], id.as_str());
    assert_eq!(listing[0]["type"], "template");
    assert_eq!(listing[0]["template"]["name"], "kicau_tiket_baru");
    assert_eq!(listing[0]["status"], "delivered");
    assert_eq!(
        listing[0]["statuses"],
        json!(["accepted", "sent", "delivered"])
    );
    assert!(listing[0].get("errors").is_none());
}

#[tokio::test]
async fn free_form_messages_outside_the_window_are_accepted_then_fail_with_131047() {
    let mut sandbox = start().await;
    let id = sandbox
        .sent(text("Laporan Anda sudah kami teruskan."))
        .await;
    let failed = sandbox.status(&id, "failed").await;
    assert_eq!(failed["errors"], reengagement_error());
    assert!(failed.get("pricing").is_none());

    let buttons_id = sandbox.sent(buttons(&["Sudah", "Belum"])).await;
    sandbox.status(&buttons_id, "failed").await;

    let listing = sandbox.listing(CITIZEN).await;
    assert_eq!(listing.len(), 2);
    assert_eq!(listing[0]["type"], "text");
    assert_eq!(
        listing[0]["text"]["body"],
        "Laporan Anda sudah kami teruskan."
    );
    assert_eq!(listing[0]["status"], "failed");
    assert_eq!(listing[0]["errors"], reengagement_error());
    assert_eq!(listing[1]["type"], "interactive");
    assert_eq!(listing[1]["status"], "failed");

    // A failed message never reached the person, so its buttons cannot be pressed.
    let (status, _) = sandbox
        .control_post(
            "/sandbox/whatsapp/reply",
            json!({"from": CITIZEN, "button_reply": {"id": "pilih-0"}, "context_id": buttons_id}),
        )
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn a_reply_opens_the_window_and_button_presses_carry_their_context() {
    let mut sandbox = start().await;
    // Non-ASCII text and a slash: Meta escapes both on the wire, and signs what it sends.
    let words = "Jalan berlubang di Jl. Soekarno–Hatta 🙏 / dekat kampus";
    let written = sandbox
        .reply(json!({"from": CITIZEN, "name": "Siti Rahma", "text": words}))
        .await;
    let incoming_id = written["message_id"].as_str().unwrap().to_owned();
    assert!(incoming_id.starts_with("wamid."));
    assert_eq!(written["delivered"], true);
    // The control endpoint answered after the delivery, so it is already here.
    let delivery = sandbox
        .received
        .try_recv()
        .expect("delivered before the answer");
    check(&delivery);
    assert!(delivery.raw.is_ascii());
    let raw = String::from_utf8(delivery.raw).unwrap();
    assert!(
        raw.contains(r"Soekarno\u2013Hatta \ud83d\ude4f \/ dekat"),
        "{raw}"
    );
    let value = &delivery.body["entry"][0]["changes"][0]["value"];
    // Meta, 2026: the contact and the message also carry the business-scoped user id.
    let user_id = value["contacts"][0]["user_id"].as_str().unwrap().to_owned();
    assert!(user_id.starts_with("ID."), "{user_id}");
    assert_eq!(
        value["contacts"],
        json!([{"profile": {"name": "Siti Rahma"}, "wa_id": CITIZEN, "user_id": user_id}])
    );
    let message = &value["messages"][0];
    assert_eq!(message["from_user_id"], user_id.as_str());
    assert_eq!(message["id"], incoming_id.as_str());
    assert_eq!(message["type"], "text");
    assert_eq!(message["text"]["body"], words);
    assert!(message.get("context").is_none());

    // The window is open: free-form messages, buttons included, are delivered.
    let mut question = buttons(&["Sudah selesai", "Belum", "Hubungi petugas"]);
    question["context"] = json!({"message_id": incoming_id});
    let question_id = sandbox.sent(question).await;
    let sent = sandbox.status(&question_id, "sent").await;
    // Since 1 October 2026 Meta charges service messages inside the window too.
    assert_eq!(
        sent["pricing"],
        json!({"billable": true, "pricing_model": "PMP", "category": "service", "type": "regular"})
    );
    sandbox.status(&question_id, "delivered").await;
    assert_eq!(
        sandbox.listing(CITIZEN).await[0]["context_id"],
        incoming_id.as_str()
    );

    // The bot marks the person's message read.
    let (status, answer) = sandbox
        .send(json!({"messaging_product": "whatsapp", "status": "read", "message_id": incoming_id}))
        .await;
    assert_eq!((status, answer), (200, json!({"success": true})));
    let (status, error) = sandbox
        .refused(
            json!({"messaging_product": "whatsapp", "status": "read", "message_id": question_id}),
        )
        .await;
    assert_eq!((status, error["code"].clone()), (400, json!(100)));

    // The person reads the question, then presses a button.
    let (status, read) = sandbox
        .control_post("/sandbox/whatsapp/read", json!({"message_id": question_id}))
        .await;
    assert_eq!(status, 200, "{read}");
    sandbox.status(&question_id, "read").await;
    let pressed = sandbox
        .reply(json!({"from": CITIZEN, "button_reply": {"id": "pilih-1", "title": "Belum"}, "context_id": question_id}))
        .await;
    let message = sandbox
        .incoming(pressed["message_id"].as_str().unwrap())
        .await;
    assert_eq!(message["type"], "interactive");
    assert_eq!(
        message["interactive"],
        json!({"type": "button_reply", "button_reply": {"id": "pilih-1", "title": "Belum"}})
    );
    assert_eq!(
        message["context"],
        json!({"from": DISPLAY_NUMBER, "id": question_id})
    );

    // Presses must name a real message and a real button.
    for body in [
        json!({"from": CITIZEN, "button_reply": {"id": "pilih-1"}, "context_id": "wamid.tidak-ada"}),
        json!({"from": CITIZEN, "button_reply": {"id": "pilih-9"}, "context_id": question_id}),
        json!({"from": CITIZEN, "button_reply": {"id": "pilih-1", "title": "Salah"}, "context_id": question_id}),
        json!({"from": CITIZEN, "button_reply": {"id": "pilih-1"}}),
        json!({"from": CITIZEN, "text": "halo", "context_id": "wamid.tidak-ada"}),
        json!({"from": CITIZEN, "text": "halo", "button": {"payload": "X"}}),
    ] {
        let (status, answer) = sandbox
            .control_post("/sandbox/whatsapp/reply", body.clone())
            .await;
        assert_eq!(status, 400, "{body} -> {answer}");
        assert!(answer["error"].is_string());
    }

    let listing = sandbox.listing(CITIZEN).await;
    assert_eq!(listing[0]["status"], "read");
    assert_eq!(
        listing[0]["statuses"],
        json!(["accepted", "sent", "delivered", "read"])
    );

    // A day passes: free-form fails again, templates still go through.
    let (status, closed) = sandbox
        .control_post("/sandbox/whatsapp/close-window", json!({"number": CITIZEN}))
        .await;
    assert_eq!((status, closed["was_open"].clone()), (200, json!(true)));
    let late = sandbox.sent(text("Ada kabar terbaru?")).await;
    let failed = sandbox.status(&late, "failed").await;
    assert_eq!(failed["errors"], reengagement_error());
    let reminder = sandbox.sent(template("kicau_pengingat")).await;
    sandbox.status(&reminder, "sent").await;
    sandbox.status(&reminder, "delivered").await;

    // A press on the template's quick-reply button opens the window again.
    let quick = sandbox
        .reply(json!({"from": CITIZEN, "button": {"payload": "TERIMA_KC-0042", "text": "Terima"}, "context_id": reminder}))
        .await;
    let message = sandbox
        .incoming(quick["message_id"].as_str().unwrap())
        .await;
    assert_eq!(message["type"], "button");
    assert_eq!(
        message["button"],
        json!({"payload": "TERIMA_KC-0042", "text": "Terima"})
    );
    assert_eq!(
        message["context"],
        json!({"from": DISPLAY_NUMBER, "id": reminder})
    );
    let again = sandbox.sent(text("Terima kasih, tiket ditutup.")).await;
    sandbox.status(&again, "sent").await;
    sandbox.status(&again, "delivered").await;

    let statuses: Vec<Value> = sandbox
        .listing(CITIZEN)
        .await
        .iter()
        .map(|m| m["status"].clone())
        .collect();
    assert_eq!(
        statuses,
        vec![
            json!("read"),
            json!("failed"),
            json!("delivered"),
            json!("delivered")
        ]
    );
}

#[tokio::test]
async fn a_receiver_answering_500_once_gets_a_retry() {
    let mut sandbox = start().await;
    sandbox.failures.store(1, Ordering::SeqCst);
    let written = sandbox
        .reply(json!({"from": CITIZEN, "text": "Lampu jalan mati"}))
        .await;
    assert_eq!(written["delivered"], true);
    assert_eq!(written["receiver_status"], 200);
    let first = sandbox.delivery().await;
    let second = sandbox.delivery().await;
    assert_eq!(first.raw, second.raw, "the same signed body again");

    let webhooks = sandbox.control_get("/sandbox/whatsapp/webhooks").await;
    let last = webhooks.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["kind"], "message");
    assert_eq!(last["attempts"], 2);
    assert_eq!(last["receiver_status"], 200);
    assert_eq!(last["delivered"], true);
    assert_eq!(last["body"], second.body);
    assert!(last["signature"].as_str().unwrap().starts_with("sha256="));
}

#[tokio::test]
async fn a_receiver_that_keeps_failing_is_recorded_and_the_queue_moves_on() {
    let mut sandbox = start().await;
    sandbox.failures.store(usize::MAX, Ordering::SeqCst);
    let written = sandbox
        .reply(json!({"from": CITIZEN, "text": "Sampah belum diangkut"}))
        .await;
    assert_eq!(written["delivered"], false);
    assert_eq!(written["receiver_status"], 500);
    let webhooks = sandbox.control_get("/sandbox/whatsapp/webhooks").await;
    assert_eq!(webhooks[0]["attempts"], 4);
    assert_eq!(webhooks[0]["delivered"], false);
    assert!(webhooks[0]["error"].as_str().unwrap().contains("500"));
    for _ in 0..4 {
        sandbox.delivery().await;
    }

    sandbox.failures.store(0, Ordering::SeqCst);
    let next = sandbox
        .reply(json!({"from": CITIZEN, "text": "Masih belum"}))
        .await;
    assert_eq!(next["delivered"], true);
    let message = sandbox.incoming(next["message_id"].as_str().unwrap()).await;
    assert_eq!(message["text"]["body"], "Masih belum");
}

#[tokio::test]
async fn invalid_messages_are_refused_with_graphs_codes() {
    let sandbox = start().await;
    let (status, error) = sandbox
        .refused(buttons(&["Satu", "Dua", "Tiga", "Empat"]))
        .await;
    assert_eq!((status, error["code"].clone()), (400, json!(131009)));
    assert_eq!(error["message"], "(#131009) Parameter value is not valid");
    assert!(
        error["error_data"]["details"]
            .as_str()
            .unwrap()
            .contains("Max allowed buttons: 3")
    );
    assert_eq!(error["error_data"]["messaging_product"], "whatsapp");

    let (status, error) = sandbox.refused(buttons(&["Dua puluh satu huruf!!"])).await;
    assert_eq!((status, error["code"].clone()), (400, json!(131009)));
    assert!(
        error["error_data"]["details"]
            .as_str()
            .unwrap()
            .contains("Button title length invalid")
    );

    let (status, error) = sandbox.refused(template("hello_world")).await;
    assert_eq!((status, error["code"].clone()), (400, json!(132001)));
    assert_eq!(
        error["message"],
        "(#132001) Template name does not exist in the translation"
    );
    assert_eq!(
        error["error_data"]["details"],
        "template name (hello_world) does not exist in id"
    );

    let (status, error) = sandbox.refused(text(&"a".repeat(4097))).await;
    assert_eq!((status, error["code"].clone()), (400, json!(100)));
    let mut image = text("x");
    image["type"] = json!("image");
    assert_eq!(sandbox.refused(image).await.1["code"], 100);
    let mut product = text("x");
    product["messaging_product"] = json!("instagram");
    assert_eq!(sandbox.refused(product).await.1["code"], 100);

    assert!(sandbox.listing(CITIZEN).await.is_empty());
    assert_eq!(
        sandbox.control_get("/sandbox/whatsapp/webhooks").await,
        json!([])
    );
}

#[tokio::test]
async fn faults_fail_the_next_sends_then_sends_succeed() {
    let sandbox = start().await;
    let (status, _) = sandbox
        .control_post(
            "/sandbox/whatsapp/faults",
            json!({"status": 429, "times": 1}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, error) = sandbox.refused(template("kicau_tiket_baru")).await;
    assert_eq!(status, 429);
    assert_eq!(error["code"], 130429);
    assert_eq!(error["message"], "(#130429) Rate limit hit");
    sandbox.sent(template("kicau_tiket_baru")).await;

    sandbox
        .control_post(
            "/sandbox/whatsapp/faults",
            json!({"status": 500, "times": 2}),
        )
        .await;
    for _ in 0..2 {
        let (status, error) = sandbox.refused(template("kicau_tiket_baru")).await;
        assert_eq!((status, error["code"].clone()), (500, json!(131000)));
    }
    sandbox.sent(template("kicau_tiket_baru")).await;
    assert_eq!(sandbox.listing(CITIZEN).await.len(), 2);
}

#[tokio::test]
async fn the_bots_verification_handshake_and_reset() {
    let mut sandbox = start().await;
    let (status, answer) = sandbox
        .control_post(
            "/sandbox/whatsapp/verify-webhook",
            json!({"verify_token": VERIFY_TOKEN}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["verified"], true);
    assert_eq!(answer["body"], answer["challenge"]);
    let (_, answer) = sandbox
        .control_post(
            "/sandbox/whatsapp/verify-webhook",
            json!({"verify_token": "salah"}),
        )
        .await;
    assert_eq!(answer["verified"], false);
    assert_eq!(answer["receiver_status"], 403);

    let written = sandbox
        .reply(json!({"from": CITIZEN, "text": "halo"}))
        .await;
    sandbox
        .incoming(written["message_id"].as_str().unwrap())
        .await;
    let (status, _) = sandbox
        .control_post("/sandbox/whatsapp/reset", json!({}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        sandbox.control_get("/sandbox/whatsapp/webhooks").await,
        json!([])
    );
    // The window closed with everything else.
    let id = sandbox.sent(text("halo lagi")).await;
    sandbox.status(&id, "failed").await;
}

/// Meta, from 1 October 2026: every delivered message is charged, templates as utility and
/// free-form messages as service, inside the window too. The usage endpoint counts each message
/// once, when its `delivered` status goes out; failed messages are not counted.
#[tokio::test]
async fn delivered_messages_are_counted_by_pricing_category() {
    let mut sandbox = start().await;
    let today = || {
        let date = time::OffsetDateTime::now_utc().date();
        format!(
            "{:04}-{:02}-{:02}",
            date.year(),
            u8::from(date.month()),
            date.day()
        )
    };
    assert_eq!(
        sandbox.control_get("/sandbox/whatsapp/usage").await,
        json!({"days": [], "total": {"service": 0, "utility": 0}})
    );
    let first_day = today();
    // Outside the window: the free-form text fails (not counted), the template is delivered.
    let failed = sandbox
        .sent(text("Laporan Anda sudah kami teruskan."))
        .await;
    sandbox.status(&failed, "failed").await;
    let template_id = sandbox.sent(template("kicau_tiket_baru")).await;
    sandbox.status(&template_id, "sent").await;
    let delivered = sandbox.status(&template_id, "delivered").await;
    assert_eq!(delivered["pricing"]["category"], "utility");

    // The person writes: inside the window a text and buttons are delivered, as service.
    sandbox
        .reply(json!({"from": CITIZEN, "text": "Baik, terima kasih"}))
        .await;
    sandbox.webhook().await;
    for body in [text("Sama-sama."), buttons(&["Sudah", "Belum"])] {
        let id = sandbox.sent(body).await;
        sandbox.status(&id, "sent").await;
        let delivered = sandbox.status(&id, "delivered").await;
        assert_eq!(
            delivered["pricing"],
            json!({"billable": true, "pricing_model": "PMP", "category": "service", "type": "regular"})
        );
    }
    // Reading a message does not count it again.
    let (status, _) = sandbox
        .control_post("/sandbox/whatsapp/read", json!({"message_id": template_id}))
        .await;
    assert_eq!(status, 200);
    let read = sandbox.status(&template_id, "read").await;
    assert_eq!(read["pricing"]["category"], "utility");

    let usage = sandbox.control_get("/sandbox/whatsapp/usage").await;
    let date = usage["days"][0]["date"].as_str().unwrap().to_owned();
    assert!(date == first_day || date == today(), "{usage}");
    assert_eq!(
        usage,
        json!({"days": [{"date": date, "delivered": {"service": 2, "utility": 1}}],
               "total": {"service": 2, "utility": 1}})
    );
    // The sandbox's reset forgets the counts.
    let (status, _) = sandbox
        .control_post("/sandbox/whatsapp/reset", json!({}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        sandbox.control_get("/sandbox/whatsapp/usage").await["total"],
        json!({"service": 0, "utility": 0})
    );
}
