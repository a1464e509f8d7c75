//! What staff do around tickets, on SQLite and PostgreSQL: approve, edit or drop an agency's
//! note when bot.toml holds notes; reopen a resolved ticket; ticket news waiting while a person
//! holds the citizen's conversation; a WhatsApp message that cannot be handled kept in the dead
//! letters while the others go on. Then the same through the real processes: a Telegram update
//! that fails goes to the dead letters, a held note is approved from the staff group, a ticket
//! reopened through the API.

use std::sync::Arc;
use std::time::Duration;

use kicau::desk::{Actor, Desk, Role};
use kicau::store::Store;
use kicau::tickets::{Mover, NoteDecision, NoteOutcome, TicketError, TicketState, Tickets};
use serde_json::{Value, json};

use crate::service::post_as;
use crate::takeover::{replies_to, staff, wait_until};
use crate::tickets::{chat, file_ticket, file_ticket_for};

pub const AGENCY: Mover<'static> = Mover {
    name: "DPUPRPKP (@petugas_pu)",
    staff: false,
    note: "",
};

pub fn tickets_with(edit: impl FnOnce(&mut kicau::Config)) -> Tickets {
    let mut config = kicau::Config::load(&crate::repo().join("bot.toml")).unwrap();
    edit(&mut config);
    Tickets::load(Arc::new(config)).unwrap()
}

/// The tweets queued for the citizen about `number`, oldest first: (state, text).
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

#[tokio::test]
async fn agency_notes_wait_for_staff_approval_when_bot_toml_says_so() {
    let tickets = tickets_with(|c| {
        c.tickets.approve_notes = true;
        let dlh = c.agencies.iter_mut().find(|a| a.id == "dlh").unwrap();
        dlh.approve_notes = Some(false);
    });
    let backends = crate::store::Backends::new().await;
    for (name, store) in &backends.stores {
        let number = file_ticket(store, &tickets, "700", "warga21").await;
        assert_eq!(citizen_tweets(store, &number).await.len(), 1, "{name}");

        let outcome = tickets
            .add_note(
                store,
                &number,
                AGENCY.name,
                "Sudah ditambal. Info 081234567890",
                "tg:-1002000000001:41",
            )
            .await
            .unwrap();
        let NoteOutcome::Held(id) = outcome else {
            panic!("{name}: the note was not held: {outcome:?}")
        };
        // The same Telegram message again (a replayed update): nothing more.
        let again = tickets
            .add_note(
                store,
                &number,
                AGENCY.name,
                "Sudah ditambal.",
                "tg:-1002000000001:41",
            )
            .await
            .unwrap();
        assert_eq!(again, NoteOutcome::Repeated, "{name}");
        // Nothing reaches the citizen, nor the ticket's history, before a decision.
        assert_eq!(citizen_tweets(store, &number).await.len(), 1, "{name}");
        assert_eq!(tickets.history(store, &number).await.unwrap().len(), 1);
        let held = tickets.held_notes(store).await.unwrap();
        assert_eq!(held.len(), 1, "{name}");
        assert_eq!(held[0].number, number);
        assert!(held[0].note.starts_with("Sudah ditambal."), "{held:?}");
        assert!(!held[0].note.contains("081234567890"), "{held:?}");

        // Approved as staff edited it (personal data removed again): one tweet.
        tickets
            .decide_note(
                store,
                id,
                "sari",
                NoteDecision::Approve(Some("Sudah ditambal kemarin sore. Hub 081299998888")),
            )
            .await
            .unwrap();
        let tweets = citizen_tweets(store, &number).await;
        assert_eq!(tweets.len(), 2, "{name}: {tweets:?}");
        assert!(
            tweets[1].1.contains(&format!(
                "Kabar dari DPUPRPKP untuk laporan {number}: Sudah ditambal kemarin sore"
            )),
            "{tweets:?}"
        );
        assert!(!tweets[1].1.contains("081299998888"), "{tweets:?}");
        let history = tickets.history(store, &number).await.unwrap();
        assert_eq!(history.last().unwrap().2, AGENCY.name, "{name}");
        assert!(history.last().unwrap().3.contains("kemarin sore"));

        // Decided once; an unknown note is not found.
        assert!(matches!(
            tickets
                .decide_note(store, id, "budi", NoteDecision::Drop)
                .await,
            Err(TicketError::NoteDecided(_))
        ));
        assert!(matches!(
            tickets
                .decide_note(store, 9999, "budi", NoteDecision::Drop)
                .await,
            Err(TicketError::NoteNotFound(9999))
        ));

        // A dropped note never reaches the citizen.
        let NoteOutcome::Held(second) = tickets
            .add_note(
                store,
                &number,
                AGENCY.name,
                "salah kirim, abaikan",
                "tg:-1002000000001:42",
            )
            .await
            .unwrap()
        else {
            panic!("{name}: not held")
        };
        tickets
            .decide_note(store, second, "sari", NoteDecision::Drop)
            .await
            .unwrap();
        assert_eq!(citizen_tweets(store, &number).await.len(), 2, "{name}");
        assert!(tickets.held_notes(store).await.unwrap().is_empty());

        // An agency that bot.toml exempts is relayed at once.
        let dlh = file_ticket_for(store, &tickets, "701", "warga22", "dlh").await;
        assert_eq!(
            tickets
                .add_note(
                    store,
                    &dlh,
                    "DLH (@petugas_dlh)",
                    "Sudah diangkut.",
                    "tg:-1002000000002:7"
                )
                .await
                .unwrap(),
            NoteOutcome::Relayed
        );
        assert_eq!(citizen_tweets(store, &dlh).await.len(), 2, "{name}");
    }
    backends.finish().await;
}

#[tokio::test]
async fn staff_reopen_a_resolved_ticket_with_a_fresh_deadline_and_a_new_agency_message() {
    let tickets = tickets_with(|_| {});
    let backends = crate::store::Backends::new().await;
    for (name, store) in &backends.stores {
        let number = file_ticket(store, &tickets, "710", "warga23").await;
        tickets
            .transition(store, &number, TicketState::Resolved, &AGENCY)
            .await
            .unwrap();
        // Only staff reopen.
        assert!(matches!(
            tickets
                .transition(store, &number, TicketState::InProgress, &AGENCY)
                .await,
            Err(TicketError::NotAllowed { .. })
        ));
        // Its old deadline had passed.
        sqlx::query("UPDATE tickets SET due_resolve = 1, overdue = 1 WHERE number = $1")
            .bind(&number)
            .execute(store.pool())
            .await
            .unwrap();
        let reopened = tickets
            .transition(
                store,
                &number,
                TicketState::InProgress,
                &Mover {
                    name: "sari",
                    staff: true,
                    note: "warga: lubangnya masih ada",
                },
            )
            .await
            .unwrap();
        assert_eq!(reopened.state, TicketState::InProgress);
        assert!(reopened.due_resolve > kicau::store::now_ms(), "{name}");
        let stored = tickets.get(store, &number).await.unwrap();
        assert!(!stored.overdue && stored.due_resolve == reopened.due_resolve);

        // A new message to the agency, led by the reason, with the buttons that follow.
        let payload: String = sqlx::query_scalar::<sqlx::Any, String>(&format!(
            "SELECT payload FROM outbox WHERE idempotency_key LIKE 'tg:ticket:{number}:new:%'"
        ))
        .fetch_one(store.pool())
        .await
        .unwrap();
        let payload: Value = serde_json::from_str(&payload).unwrap();
        let text = payload["text"].as_str().unwrap();
        assert!(
            text.starts_with("🔁 <b>Dibuka kembali oleh petugas: warga: lubangnya masih ada</b>"),
            "{text}"
        );
        assert_eq!(payload["edit"], false);
        let buttons: Vec<&str> = payload["buttons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b[0].as_str().unwrap())
            .collect();
        assert_eq!(buttons, ["Selesai", "Bukan wewenang"], "{name}");
        // One tweet per step: filed, resolved, reopened.
        let tweets = citizen_tweets(store, &number).await;
        assert_eq!(tweets.len(), 3, "{name}: {tweets:?}");
        assert!(tweets[2].1.contains("kami buka kembali"), "{tweets:?}");
        let history = tickets.history(store, &number).await.unwrap();
        assert_eq!(
            (history[2].1.as_str(), history[2].2.as_str()),
            ("in_progress", "sari")
        );
        assert_eq!(history[2].3, "warga: lubangnya masih ada");
    }
    backends.finish().await;
}

#[tokio::test]
async fn ticket_news_waits_while_a_person_holds_the_conversation() {
    let tickets = tickets_with(|_| {});
    let backends = crate::store::Backends::new().await;
    for (name, store) in &backends.stores {
        let number = file_ticket(store, &tickets, "720", "warga24").await;
        let conversation = tickets
            .get(store, &number)
            .await
            .unwrap()
            .conversation_id
            .expect("a conversation");
        let desk = Desk::new(store.clone());
        let sari = Actor {
            name: "sari".into(),
            role: Role::Staff,
        };
        desk.claim(&conversation, &sari).await.unwrap();

        // The agency's steps wait while sari talks with the citizen.
        tickets
            .transition(store, &number, TicketState::Acknowledged, &AGENCY)
            .await
            .unwrap();
        tickets
            .transition(store, &number, TicketState::Rejected, &AGENCY)
            .await
            .unwrap();
        let states: Vec<String> = citizen_tweets(store, &number)
            .await
            .into_iter()
            .map(|t| t.0)
            .collect();
        assert_eq!(states[1..], ["held", "held"], "{name}");
        let waiting = desk.held_updates(&conversation).await.unwrap();
        assert_eq!(waiting.len(), 2, "{name}");
        assert!(
            waiting[0].contains("sudah diterima DPUPRPKP"),
            "{waiting:?}"
        );
        // Sari's own action goes out at once.
        tickets
            .reroute(store, &number, "dlh", "sari")
            .await
            .unwrap();
        let tweets = citizen_tweets(store, &number).await;
        assert_eq!(tweets[3].0, "pending", "{name}: {tweets:?}");
        assert!(tweets[3].1.contains("kami alihkan ke DLH"));

        // Released: the news goes out, once each, in order.
        desk.release(&conversation, &sari).await.unwrap();
        assert!(desk.held_updates(&conversation).await.unwrap().is_empty());
        let states: Vec<String> = citizen_tweets(store, &number)
            .await
            .into_iter()
            .map(|t| t.0)
            .collect();
        assert_eq!(states, ["pending"; 4], "{name}");
        // The console and the staff group hear of each held update.
        let events: i64 = sqlx::query_scalar::<sqlx::Any, i64>(
            "SELECT COUNT(*) FROM events WHERE kind = 'ticket_update_held'",
        )
        .fetch_one(store.pool())
        .await
        .unwrap();
        assert_eq!(events, 2, "{name}");
    }
    backends.finish().await;
}

#[tokio::test]
async fn a_citizen_who_wrote_stop_gets_no_automatic_ticket_tweets() {
    let tickets = tickets_with(|_| {});
    let backends = crate::store::Backends::new().await;
    for (name, store) in &backends.stores {
        let number = file_ticket(store, &tickets, "750", "warga28").await;
        store.opt_out("u-warga28", "warga28").await.unwrap();
        for to in [TicketState::Acknowledged, TicketState::Resolved] {
            tickets
                .transition(store, &number, to, &AGENCY)
                .await
                .unwrap();
        }
        // The history has both steps; the citizen heard only of the filing, before "stop".
        assert_eq!(tickets.history(store, &number).await.unwrap().len(), 3);
        assert_eq!(citizen_tweets(store, &number).await.len(), 1, "{name}");
        // A person may still write: staff reopening it is told.
        tickets
            .transition(
                store,
                &number,
                TicketState::InProgress,
                &Mover {
                    name: "sari",
                    staff: true,
                    note: "dicek ulang",
                },
            )
            .await
            .unwrap();
        assert_eq!(citizen_tweets(store, &number).await.len(), 2, "{name}");
    }
    backends.finish().await;
}

const TUGU_TIRTA: &str = "6281200000005";

fn press(id: &str, data: &str) -> Value {
    json!({"from": TUGU_TIRTA, "id": id, "timestamp": "1767225600", "type": "interactive",
           "interactive": {"type": "button_reply", "button_reply": {"id": data, "title": "x"}}})
}

#[tokio::test]
async fn a_whatsapp_message_that_cannot_be_handled_goes_to_dead_letters_and_the_rest_go_on() {
    let tickets = tickets_with(|_| {});
    let backends = crate::store::Backends::new().await;
    for (name, store) in &backends.stores {
        let number = file_ticket_for(store, &tickets, "730", "warga25", "tugu-tirta").await;
        // A fault only the acknowledgement meets.
        let poison: &[&str] = if *name == "sqlite" {
            &["CREATE TRIGGER poison BEFORE INSERT ON ticket_history \
               WHEN NEW.state = 'acknowledged' BEGIN SELECT RAISE(ABORT, 'poisoned history'); END"]
        } else {
            &[
                "CREATE FUNCTION poison() RETURNS trigger AS $$ BEGIN \
                 IF NEW.state = 'acknowledged' THEN RAISE EXCEPTION 'poisoned history'; END IF; \
                 RETURN NEW; END $$ LANGUAGE plpgsql",
                "CREATE TRIGGER poison BEFORE INSERT ON ticket_history \
                 FOR EACH ROW EXECUTE FUNCTION poison()",
            ]
        };
        for sql in poison {
            sqlx::query(sql).execute(store.pool()).await.unwrap();
        }
        let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{
        "field": "messages",
        "value": {"messaging_product": "whatsapp", "messages": [
            press("wamid.poison", &format!("t:{number}:acknowledged")),
            press("wamid.next", &format!("t:{number}:in_progress")),
        ]}}]}]});
        kicau::tickets::whatsapp::handle_webhook(&tickets, store, &body)
            .await
            .unwrap();
        assert_eq!(
            tickets.get(store, &number).await.unwrap().state,
            TicketState::InProgress,
            "{name}"
        );
        let letters = store.dead_letters().await.unwrap();
        assert_eq!(letters.len(), 1, "{name}: {letters:?}");
        assert_eq!(
            (letters[0].source.as_str(), letters[0].reference.as_str()),
            ("whatsapp", "wamid.poison")
        );
        assert!(letters[0].payload.contains("acknowledged"));
        assert!(letters[0].error.contains("poisoned history"), "{letters:?}");
        // WhatsApp delivers the webhook again: nothing is acted on or kept twice.
        kicau::tickets::whatsapp::handle_webhook(&tickets, store, &body)
            .await
            .unwrap();
        assert_eq!(store.dead_letters().await.unwrap().len(), 1, "{name}");
        assert_eq!(tickets.history(store, &number).await.unwrap().len(), 2);
    }
    backends.finish().await;
}

const DPUPRPKP: i64 = -1002000000001;
const GROUP: i64 = -1001000000001;

async fn find(client: &reqwest::Client, x: &str, in_chat: i64, needle: &str) -> Option<Value> {
    chat(client, x, in_chat)
        .await
        .into_iter()
        .find(|m| m["text"].as_str().is_some_and(|t| t.contains(needle)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_approve_notes_in_the_group_reopen_through_the_api_and_bad_updates_are_kept() {
    let mut d = crate::service::Deployment::start_with(|config| {
        config.replace("approve_notes = false", "approve_notes = true")
    });
    staff(&d, &["add", "sari", "--telegram-id", "5001"]);
    let token = staff(&d, &["token", "sari"]);
    let token = token.trim();
    d.start_bot();
    let client = reqwest::Client::new();
    let x = d.x_url.clone();
    let console = d.console_url.clone();

    let complaint = post_as(
        &client,
        &x,
        "warga26",
        "@PemkotMalang min jalan berlubang besar di jl tidar, bahaya",
    )
    .await;
    assert!(
        wait_until(Duration::from_secs(30), || async {
            find(&client, &x, DPUPRPKP, "MLG-").await.is_some()
        })
        .await,
        "no ticket in the agency's chat: {}",
        d.log()
    );
    let ticket = find(&client, &x, DPUPRPKP, "MLG-").await.unwrap();
    let message_id = ticket["message_id"].as_i64().unwrap();
    let text = ticket["text"].as_str().unwrap();
    let number = kicau::tickets::number_in(text).unwrap();
    assert!(
        wait_until(Duration::from_secs(30), || async {
            replies_to(&client, &x, &complaint).await.len() == 1
        })
        .await
    );

    // An update the bot cannot handle (the database refuses it) goes to the dead letters, and
    // the reader goes on to the next one.
    let store = Store::connect(&d.database_url()).await.unwrap();
    sqlx::query(
        "CREATE TRIGGER poison BEFORE INSERT ON ticket_notes WHEN NEW.note LIKE '%RACUN%' \
         BEGIN SELECT RAISE(ABORT, 'poisoned note'); END",
    )
    .execute(store.pool())
    .await
    .unwrap();
    let agency_reply = |text: &str| {
        json!({"chat_id": DPUPRPKP, "from": {"id": 9001, "username": "petugas_pu"},
               "text": text, "reply_to_message_id": message_id})
    };
    for text in ["RACUN", "Sudah ditambal tadi siang. Info: 081234567890"] {
        client
            .post(format!("{x}/sandbox/telegram/send"))
            .json(&agency_reply(text))
            .send()
            .await
            .unwrap();
    }
    let held = wait_until(Duration::from_secs(30), || async {
        find(&client, &x, GROUP, "menunggu persetujuan")
            .await
            .is_some()
    })
    .await;
    assert!(held, "no held note in the staff group: {}", d.log());
    let letters: Value = client
        .get(format!("{console}/api/dead-letters"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let letters = letters["data"].as_array().unwrap();
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert_eq!(letters[0]["source"], "telegram");
    assert!(
        letters[0]["error"]
            .as_str()
            .unwrap()
            .contains("poisoned note"),
        "{letters:?}"
    );
    // The agency is told the note waits; the citizen has heard nothing more.
    assert!(
        wait_until(Duration::from_secs(10), || async {
            find(&client, &x, DPUPRPKP, "menunggu persetujuan petugas")
                .await
                .is_some()
        })
        .await
    );
    let listed: Value = client
        .get(format!("{console}/api/ticket-notes"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["data"][0]["ticket"], number.as_str(), "{listed}");
    assert!(
        !listed["data"][0]["note"]
            .as_str()
            .unwrap()
            .contains("081234567890")
    );
    let answer_tweets = || async {
        let first = replies_to(&client, &x, &complaint).await;
        first.len()
    };
    assert_eq!(answer_tweets().await, 1);

    // Sari approves from the group: one tweet, the buttons go.
    let note = find(&client, &x, GROUP, "menunggu persetujuan")
        .await
        .unwrap();
    let approve = note["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(approve.ends_with(":approve"), "{note}");
    client
        .post(format!("{x}/sandbox/telegram/press"))
        .json(&json!({"chat_id": GROUP, "message_id": note["message_id"],
                      "from": {"id": 5001, "username": "sari"}, "data": approve}))
        .send()
        .await
        .unwrap();
    assert!(
        wait_until(Duration::from_secs(30), || async {
            answer_tweets().await == 2
        })
        .await,
        "the approved note did not reach the citizen: {}",
        d.log()
    );
    let tweets = replies_to(&client, &x, &complaint).await;
    assert!(
        tweets[1].contains("Sudah ditambal tadi siang"),
        "{tweets:?}"
    );
    assert!(!tweets[1].contains("081234567890"), "{tweets:?}");

    // The agency resolves it; the citizen says it is not fixed; sari reopens it by the API.
    client
        .post(format!("{x}/sandbox/telegram/press"))
        .json(&json!({"chat_id": DPUPRPKP, "message_id": message_id,
                      "from": {"id": 9001, "username": "petugas_pu"},
                      "data": format!("t:{number}:resolved")}))
        .send()
        .await
        .unwrap();
    assert!(
        wait_until(Duration::from_secs(30), || async {
            answer_tweets().await == 3
        })
        .await
    );
    let refused = client
        .post(format!("{console}/api/tickets/{number}/reopen"))
        .bearer_auth(token)
        .json(&json!({"note": "  "}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    let reopened: Value = client
        .post(format!("{console}/api/tickets/{number}/reopen"))
        .bearer_auth(token)
        .json(&json!({"note": "warga: lubangnya masih ada"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(reopened["data"]["state"], "in_progress", "{reopened}");
    assert!(
        wait_until(Duration::from_secs(30), || async {
            find(&client, &x, DPUPRPKP, "Dibuka kembali")
                .await
                .is_some()
                && answer_tweets().await == 4
        })
        .await,
        "{}",
        d.log()
    );
    let again = find(&client, &x, DPUPRPKP, "Dibuka kembali").await.unwrap();
    assert_ne!(again["message_id"].as_i64().unwrap(), message_id);
    assert!(
        again["text"]
            .as_str()
            .unwrap()
            .contains("warga: lubangnya masih ada")
    );
    assert_eq!(
        again["reply_markup"]["inline_keyboard"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|row| row.as_array().unwrap().iter())
            .map(|b| b["text"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["Selesai", "Bukan wewenang"]
    );
    // Reopening twice is refused.
    let twice = client
        .post(format!("{console}/api/tickets/{number}/reopen"))
        .bearer_auth(token)
        .json(&json!({"note": "lagi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(twice.status(), 409);
    store.close().await;
    assert!(d.stop_bot().success());
}
