/*!
The sandbox as the people around the bot see it: citizens tweeting, an auditor reading the
account's replies, the Telegram chats and WhatsApp numbers the bot writes to, and the control
endpoints through which agencies and staff act (all on the X port, SANDBOX.md).
*/

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Value, json};

use super::wait_for;

/// A client of one running sandbox, by its X URL.
#[derive(Clone)]
pub struct Sandbox {
    http: reqwest::Client,
    x: String,
}

impl Sandbox {
    pub fn at(x_url: &str) -> Sandbox {
        Sandbox {
            http: reqwest::Client::new(),
            x: x_url.trim_end_matches('/').to_owned(),
        }
    }

    /// The X API's base URL.
    pub fn x_url(&self) -> &str {
        &self.x
    }

    /// Tweets `body` (X's `POST /2/tweets` JSON) as `user`; the new tweet's id. Retried until
    /// the sandbox accepts it, since tests inject faults on that endpoint.
    pub async fn tweet_as(&self, user: &str, body: Value) -> String {
        let what = format!("the sandbox to accept a tweet from {user}");
        wait_for(Duration::from_secs(30), what, || async {
            let response = self
                .http
                .post(format!("{}/2/tweets", self.x))
                .header("Authorization", format!("Bearer sandbox-user:{user}"))
                .json(&body)
                .send()
                .await
                .ok()?;
            if response.status() != 201 {
                return None;
            }
            let created: Value = response.json().await.ok()?;
            created["data"]["id"].as_str().map(str::to_owned)
        })
        .await
    }

    /// Tweets `text` as `user`; the new tweet's id.
    pub async fn post_as(&self, user: &str, text: &str) -> String {
        self.tweet_as(user, json!({"text": text})).await
    }

    /// Tweets `text` as `user` in reply to `parent`; the new tweet's id.
    pub async fn reply_as(&self, user: &str, parent: &str, text: &str) -> String {
        let body = json!({"text": text, "reply": {"in_reply_to_tweet_id": parent}});
        self.tweet_as(user, body).await
    }

    /// A user's id, by handle.
    pub async fn user_id(&self, handle: &str) -> String {
        // As a citizen (the auditor): X bills the city's app, not the public's reads, so the
        // sandbox's cost accounting sees only what the bot asked for.
        let user: Value = self
            .http
            .get(format!("{}/2/users/by/username/{handle}", self.x))
            .header("Authorization", "Bearer sandbox-user:auditor")
            .send()
            .await
            .unwrap_or_else(|e| panic!("user {handle}: {e}"))
            .json()
            .await
            .unwrap_or_else(|e| panic!("user {handle}: {e}"));
        user["data"]["id"].as_str().unwrap().to_owned()
    }

    /// Every tweet of the account, newest first, with what each refers to.
    pub async fn account_tweets(&self) -> Vec<Value> {
        let id = self.user_id("PemkotMalang").await;
        let mut tweets = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut url = format!(
                "{}/2/users/{id}/tweets?max_results=100&tweet.fields=referenced_tweets",
                self.x
            );
            if let Some(t) = &token {
                url.push_str(&format!("&pagination_token={t}"));
            }
            let page: Value = wait_for(
                Duration::from_secs(30),
                "a page of the account's tweets",
                || async {
                    let response = self
                        .http
                        .get(&url)
                        .header("Authorization", "Bearer sandbox-user:auditor")
                        .send()
                        .await
                        .ok()?;
                    if response.status() != 200 {
                        return None;
                    }
                    response.json().await.ok()
                },
            )
            .await;
            tweets.extend(page["data"].as_array().into_iter().flatten().cloned());
            match page["meta"]["next_token"].as_str() {
                Some(t) => token = Some(t.to_owned()),
                None => return tweets,
            }
        }
    }

    /// The account's replies to `tweet`, oldest first, as texts.
    pub async fn replies_to(&self, tweet: &str) -> Vec<String> {
        let mut texts: Vec<String> = self
            .account_tweets()
            .await
            .iter()
            .filter(|t| t["referenced_tweets"][0]["id"].as_str() == Some(tweet))
            .map(|t| t["text"].as_str().unwrap().to_owned())
            .collect();
        texts.reverse();
        texts
    }

    /// Every reply of the account: the tweet it answers -> how many replies.
    pub async fn reply_counts(&self) -> HashMap<String, usize> {
        let mut counts = HashMap::new();
        for tweet in self.account_tweets().await {
            if let Some(parent) = tweet["referenced_tweets"][0]["id"].as_str() {
                *counts.entry(parent.to_owned()).or_insert(0) += 1;
            }
        }
        counts
    }

    /// Waits until the account has posted at least `at_least` replies in all; the counts then.
    pub async fn wait_for_replies(
        &self,
        at_least: usize,
        within: Duration,
    ) -> HashMap<String, usize> {
        let what = format!("{at_least} replies from the account");
        wait_for(within, what, || async {
            let counts = self.reply_counts().await;
            (counts.values().sum::<usize>() >= at_least).then_some(counts)
        })
        .await
    }

    /// What the bot sent to a Telegram chat, oldest first.
    pub async fn telegram_chat(&self, chat_id: i64) -> Vec<Value> {
        let messages = self
            .get(&format!("/sandbox/telegram/messages?chat_id={chat_id}"))
            .await;
        messages.as_array().cloned().unwrap_or_default()
    }

    /// The first message in a Telegram chat whose text contains `needle`.
    pub async fn telegram_message(&self, chat_id: i64, needle: &str) -> Option<Value> {
        self.telegram_chat(chat_id)
            .await
            .into_iter()
            .find(|m| m["text"].as_str().is_some_and(|t| t.contains(needle)))
    }

    /// Waits for a message containing `needle` in a Telegram chat and returns it.
    pub async fn wait_for_telegram_message(&self, chat_id: i64, needle: &str) -> Value {
        let what = format!("a message with {needle:?} in Telegram chat {chat_id}");
        wait_for(Duration::from_secs(30), what, || {
            self.telegram_message(chat_id, needle)
        })
        .await
    }

    /// What the bot sent to a WhatsApp number, oldest first, each with its latest status.
    pub async fn whatsapp_chat(&self, to: &str) -> Vec<Value> {
        let messages = self
            .get(&format!("/sandbox/whatsapp/messages?to={to}"))
            .await;
        messages.as_array().cloned().unwrap_or_default()
    }

    /// `GET` on the X port (the API or a control endpoint), as JSON.
    pub async fn get(&self, path: &str) -> Value {
        self.http
            .get(format!("{}{path}", self.x))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
            .json()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    /// `POST` of `body` to a control endpoint (`/sandbox/...`), e.g. a press in a Telegram chat
    /// or an agency's WhatsApp reply.
    pub async fn control(&self, path: &str, body: Value) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.x))
            .json(&body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"))
    }
}
