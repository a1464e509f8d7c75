//! One message of the conversation page's thread. The citizen's tweets as they came; what the
//! account posts (the bot, staff, a ticket's news) as the tweets it went out as, each with its
//! state: queued, held, sent (with a link to it on X) or failed, with X's reason and a "Kirim
//! ulang" button.

use super::esc;
use crate::desk::Message;
use crate::desk::staff::Session;
use crate::desk::thread::{Part, PartState};
use crate::language::pii::mask;

/// Who wrote a message, as staff read it; a ticket's news says which ticket.
fn author(m: &Message) -> String {
    if m.direction == "in" {
        return format!("@{}", m.author);
    }
    let ticket = m
        .parts
        .first()
        .and_then(|p| p.key.strip_prefix("x:ticket:"))
        .and_then(|rest| rest.split(':').next());
    match (m.author.as_str(), ticket) {
        ("bot", Some(number)) => format!("bot · kabar laporan {number}"),
        ("bot", None) => "bot".to_owned(),
        (name, _) => format!("petugas {name}"),
    }
}

fn state_line(account: &str, session: &Session, conversation: &str, part: &Part) -> String {
    match part.state {
        PartState::Sent => match &part.tweet_id {
            Some(tweet) => format!(
                "terkirim · <a href=\"https://x.com/{}/status/{}\" rel=\"noopener\" \
                 target=\"_blank\">lihat di X</a>",
                esc(account),
                esc(tweet)
            ),
            None => "terkirim".to_owned(),
        },
        PartState::Failed => {
            let reason = part
                .error
                .as_deref()
                .map(|e| format!(": {}", esc(e)))
                .unwrap_or_default();
            format!(
                "gagal terkirim{reason}<form method=\"post\" action=\"/conversations/{id}/resend\">\
                 <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
                 <input type=\"hidden\" name=\"key\" value=\"{key}\">\
                 <button type=\"submit\">Kirim ulang</button></form>",
                id = esc(conversation),
                csrf = esc(&session.csrf),
                key = esc(&part.key),
            )
        }
        state => esc(state.label()),
    }
}

/// A message as list items of the thread: one per tweet.
pub fn message(
    account: &str,
    session: &Session,
    conversation: &str,
    m: &Message,
    reveal: &str,
) -> String {
    let who = esc(&author(m));
    let at = esc(&super::wib_time(m.created_at));
    if m.parts.is_empty() {
        return format!(
            "<li class=\"msg {dir}\"><div class=\"meta\">{who} · {at}</div>\
             <div class=\"text\">{text}</div>{reveal}</li>",
            dir = if m.direction == "in" { "in" } else { "out" },
            text = esc(&mask(&m.text)),
        );
    }
    let total = m.parts.len();
    m.parts
        .iter()
        .enumerate()
        .map(|(i, part)| {
            let class = match part.state {
                PartState::Failed => " failed",
                PartState::Queued | PartState::Held => " queued",
                PartState::Sent => "",
            };
            let count = if total > 1 {
                format!(" · twit {}/{total}", i + 1)
            } else {
                String::new()
            };
            format!(
                "<li class=\"msg out{class}\"><div class=\"meta\">{who} · {at}{count}</div>\
                 <div class=\"text\">{text}</div><div class=\"state\">{state}</div></li>",
                text = esc(&mask(&part.text)),
                state = state_line(account, session, conversation, part),
            )
        })
        .collect()
}
