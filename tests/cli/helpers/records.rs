/*!
Records made the way the worker makes them, for in-process tests: a citizen's mention with its
decision, and a complaint filed as a ticket.
*/

use kicau::desk::intake;
use kicau::store::{Mention, NewDecision, NewMention, Store};
use kicau::tickets::Tickets;
use serde_json::json;

/// Stores `citizen`'s tweet `id` as a mention posted at `created_at` (milliseconds since the
/// epoch), claimed once.
async fn store_mention(
    store: &Store,
    id: &str,
    citizen: &str,
    text: &str,
    created_at: i64,
) -> Mention {
    let new = NewMention {
        tweet_id: id.into(),
        author_id: format!("u-{citizen}"),
        author_username: citizen.into(),
        text: text.into(),
        conversation_id: Some(id.into()),
        in_reply_to_id: None,
        created_at,
        raw: "{}".into(),
    };
    store
        .store_mentions("x.mentions", std::slice::from_ref(&new), Some(id))
        .await
        .unwrap();
    Mention {
        tweet_id: new.tweet_id,
        author_id: new.author_id,
        author_username: new.author_username,
        text: new.text,
        conversation_id: new.conversation_id,
        in_reply_to_id: None,
        created_at,
        attempts: 1,
        raw: "{}".into(),
    }
}

/// Stores a citizen's mention posted at `created_at` and records `kind`/`rule` for it, with a
/// hand-off line as its reply, as the worker does. Returns the conversation id.
pub async fn mention_at(
    store: &Store,
    id: &str,
    citizen: &str,
    text: &str,
    (kind, rule): (&str, &str),
    created_at: i64,
) -> Option<String> {
    let mention = store_mention(store, id, citizen, text, created_at).await;
    let decision = NewDecision {
        conversation_id: None,
        kind: kind.into(),
        topic: None,
        agency: None,
        rule: rule.into(),
        evidence: json!({"score": 0.1}).to_string(),
    };
    let replies = vec![format!(
        "@{citizen} Pertanyaan kakak kami teruskan ke petugas."
    )];
    intake::record_mention(
        store,
        &mention,
        &intake::Decided {
            decision: &decision,
            replies: &replies,
            priority: 0,
            joins: true,
        },
        None,
    )
    .await
    .unwrap()
    .conversation
}

/// Files a ticket for DPUPRPKP the way the worker does, for a mention that names its place;
/// returns its number.
pub async fn file_ticket(store: &Store, tickets: &Tickets, id: &str, citizen: &str) -> String {
    file_ticket_for(store, tickets, id, citizen, "dpuprpkp").await
}

/// As [`file_ticket`], for `agency`.
pub async fn file_ticket_for(
    store: &Store,
    tickets: &Tickets,
    id: &str,
    citizen: &str,
    agency: &str,
) -> String {
    let text = "@PemkotMalang jalan berlubang besar di jl tidar";
    let mention = store_mention(store, id, citizen, text, 0).await;
    let decision = NewDecision {
        conversation_id: None,
        kind: "report".into(),
        topic: None,
        agency: Some(agency.into()),
        rule: "complaint_routed".into(),
        evidence: "{}".into(),
    };
    let recorded = intake::record_mention(
        store,
        &mention,
        &intake::Decided {
            decision: &decision,
            replies: &[],
            priority: 0,
            joins: true,
        },
        Some(tickets),
    )
    .await
    .unwrap();
    recorded.ticket.expect("a ticket")
}
