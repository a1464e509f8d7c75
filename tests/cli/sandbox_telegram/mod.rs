/*!
The Telegram sandbox against the published Bot API: over raw HTTP for Telegram's exact errors
and parameter encodings, and with the real teloxide client (the bot's production client,
unchanged but for its base URL) to prove every answer deserializes into teloxide's types.
*/

mod flood;
mod html;
mod methods;
mod teloxide_client;
mod updates;

use std::net::SocketAddr;

use kicau::sandbox::{TelegramSandbox, TelegramSettings};
use serde_json::{Value, json};
use teloxide::prelude::*;

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
