/*!
Records made the way the worker makes them, for in-process tests: a citizen's mention with its
decision, and a complaint filed as a ticket; an agency member acting on tickets; what the
citizen was told about a ticket.
*/

use kicau::run::intake;
use kicau::store::{Mention, NewDecision, NewMention, Store};
use kicau::tickets::{Mover, Tickets};
use serde_json::{Value, json};

/// A DPUPRPKP member acting on its tickets from the agency's chat.
pub const AGENCY_MEMBER: Mover<'static> = Mover {
    name: "DPUPRPKP (@petugas_pu)",
    staff: false,
    note: "",
};

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
            kind: kicau::Kind::parse(kind).expect("a decision kind"),
            replies: &replies,
            priority: 0,
            joins: true,
            essential: false,
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
    file_ticket_saying(store, tickets, id, citizen, agency, text).await
}

/// As [`file_ticket_for`], the citizen's tweet saying `text`.
pub async fn file_ticket_saying(
    store: &Store,
    tickets: &Tickets,
    id: &str,
    citizen: &str,
    agency: &str,
    text: &str,
) -> String {
    let recorded = report_saying(store, tickets, id, citizen, agency, text).await;
    recorded.ticket.expect("a ticket")
}

/// Records `citizen`'s tweet `id` saying `text` as a complaint for `agency`, the way the worker
/// does: filed as a ticket when it names its place, else the bot asks for the place.
pub async fn report_saying(
    store: &Store,
    tickets: &Tickets,
    id: &str,
    citizen: &str,
    agency: &str,
    text: &str,
) -> intake::Recorded {
    let mention = store_mention(store, id, citizen, text, 0).await;
    let decision = NewDecision {
        conversation_id: None,
        kind: "report".into(),
        topic: None,
        agency: Some(agency.into()),
        rule: "complaint_routed".into(),
        evidence: "{}".into(),
    };
    intake::record_mention(
        store,
        &mention,
        &intake::Decided {
            decision: &decision,
            kind: kicau::Kind::Report,
            replies: &[],
            priority: 0,
            joins: true,
            essential: false,
        },
        Some(tickets),
    )
    .await
    .unwrap()
}

/// The tweets queued for the citizen about ticket `number`, oldest first: (state, text).
pub async fn citizen_tweets(store: &Store, number: &str) -> Vec<(String, String)> {
    use sqlx::Row as _;
    sqlx::query(&format!(
        "SELECT state, payload FROM outbox WHERE idempotency_key LIKE 'x:ticket:{number}:%' \
         ORDER BY id"
    ))
    .fetch_all(store.pool())
    .await
    .unwrap()
    .iter()
    .map(|r| {
        let payload: Value = serde_json::from_str(&r.get::<String, _>(1)).unwrap();
        (
            r.get::<String, _>(0),
            payload["text"].as_str().unwrap().to_owned(),
        )
    })
    .collect()
}
