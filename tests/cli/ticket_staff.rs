//! What staff do around tickets, on SQLite and PostgreSQL: approve, edit or drop an agency's
//! note when bot.toml holds notes; reopen a resolved ticket; ticket news waiting while a person
//! holds the citizen's conversation; a WhatsApp message that cannot be handled kept in the dead
//! letters while the others go on. Then the same through the real processes: a Telegram update
//! that fails goes to the dead letters, a held note is approved from the staff group, a ticket
//! reopened through the API.

use std::time::Duration;

use kicau::desk::{Actor, Desk, Role};
use kicau::store::Store;
use kicau::tickets::{Mover, NoteDecision, NoteOutcome, TicketError, TicketState};
use serde_json::{Value, json};

use crate::helpers::{
    Backends, Console, Deployment, Sandbox, engine, file_ticket, file_ticket_for, shipped_config,
    sqlite, tickets_with, wait_until,
};

const AGENCY: Mover<'static> = Mover {
    name: "DPUPRPKP (@petugas_pu)",
    staff: false,
    note: "",
};

/// The tweets queued for the citizen about `number`, oldest first: (state, text).
async fn citizen_tweets(store: &Store, number: &str) -> Vec<(String, String)> {
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
    let backends = Backends::new().await;
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
    let backends = Backends::new().await;
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
    let backends = Backends::new().await;
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
    let backends = Backends::new().await;
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
    let backends = Backends::new().await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_approve_notes_in_the_group_reopen_through_the_api_and_bad_updates_are_kept() {
    let mut d = Deployment::start_with(|config| {
        config.set("tickets.approve_notes", true);
    })
    .await;
    d.staff(&["add", "sari", "--telegram-id", "5001"]);
    let token = d.staff(&["token", "sari"]);
    d.start_bot().await;
    let x = d.sandbox();

    let complaint = x
        .post_as(
            "warga26",
            "@PemkotMalang min jalan berlubang besar di jl tidar, bahaya",
        )
        .await;
    let ticket = d
        .wait_for(
            Duration::from_secs(30),
            "the ticket in the agency's chat",
            || x.telegram_message(DPUPRPKP, "MLG-"),
        )
        .await;
    let message_id = ticket["message_id"].as_i64().unwrap();
    let text = ticket["text"].as_str().unwrap();
    let number = kicau::tickets::number_in(text).unwrap();
    d.wait_until(
        Duration::from_secs(30),
        "the ticket's number for the citizen",
        || async { x.replies_to(&complaint).await.len() == 1 },
    )
    .await;

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
        x.control("/sandbox/telegram/send", agency_reply(text))
            .await;
    }
    d.wait_until(
        Duration::from_secs(30),
        "the held note in the staff group",
        || async {
            x.telegram_message(GROUP, "menunggu persetujuan")
                .await
                .is_some()
        },
    )
    .await;
    let api = d.api(&token);
    let letters = api.get("/api/dead-letters").await;
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
    wait_until(
        Duration::from_secs(10),
        "the agency to be told the note waits",
        || async {
            x.telegram_message(DPUPRPKP, "menunggu persetujuan petugas")
                .await
                .is_some()
        },
    )
    .await;
    let listed = api.get("/api/ticket-notes").await;
    assert_eq!(listed["data"][0]["ticket"], number.as_str(), "{listed}");
    assert!(
        !listed["data"][0]["note"]
            .as_str()
            .unwrap()
            .contains("081234567890")
    );
    let answer_tweets = || async { x.replies_to(&complaint).await.len() };
    assert_eq!(answer_tweets().await, 1);

    // Sari approves from the group: one tweet, the buttons go.
    let note = x
        .telegram_message(GROUP, "menunggu persetujuan")
        .await
        .unwrap();
    let approve = note["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(approve.ends_with(":approve"), "{note}");
    x.control(
        "/sandbox/telegram/press",
        json!({"chat_id": GROUP, "message_id": note["message_id"],
               "from": {"id": 5001, "username": "sari"}, "data": approve}),
    )
    .await;
    d.wait_until(
        Duration::from_secs(30),
        "the approved note for the citizen",
        || async { answer_tweets().await == 2 },
    )
    .await;
    let tweets = x.replies_to(&complaint).await;
    assert!(
        tweets[1].contains("Sudah ditambal tadi siang"),
        "{tweets:?}"
    );
    assert!(!tweets[1].contains("081234567890"), "{tweets:?}");

    // The agency resolves it; the citizen says it is not fixed; sari reopens it by the API.
    x.control(
        "/sandbox/telegram/press",
        json!({"chat_id": DPUPRPKP, "message_id": message_id,
               "from": {"id": 9001, "username": "petugas_pu"},
               "data": format!("t:{number}:resolved")}),
    )
    .await;
    d.wait_until(Duration::from_secs(30), "the 'selesai' tweet", || async {
        answer_tweets().await == 3
    })
    .await;
    let reopen = format!("/api/tickets/{number}/reopen");
    let (status, _) = api.post(&reopen, Some(json!({"note": "  "}))).await;
    assert_eq!(status, 400);
    let (_, reopened) = api
        .post(&reopen, Some(json!({"note": "warga: lubangnya masih ada"})))
        .await;
    assert_eq!(reopened["data"]["state"], "in_progress", "{reopened}");
    d.wait_until(
        Duration::from_secs(30),
        "the reopened ticket in the agency's chat and the citizen's thread",
        || async {
            x.telegram_message(DPUPRPKP, "Dibuka kembali")
                .await
                .is_some()
                && answer_tweets().await == 4
        },
    )
    .await;
    let again = x
        .telegram_message(DPUPRPKP, "Dibuka kembali")
        .await
        .unwrap();
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
    let (status, _) = api.post(&reopen, Some(json!({"note": "lagi"}))).await;
    assert_eq!(status, 409);
    store.close().await;
    assert!(d.stop_bot().success());
}

#[tokio::test]
async fn the_console_pages_approve_notes_reopen_tickets_and_show_news_held_for_a_conversation() {
    let tickets = tickets_with(|c| c.tickets.approve_notes = true);
    let (store, _dir) = sqlite().await;
    let number = file_ticket(&store, &tickets, "740", "warga27").await;
    let NoteOutcome::Held(note) = tickets
        .add_note(
            &store,
            &number,
            AGENCY.name,
            "Tim <b>meluncur</b> besok pagi",
            "tg:-1002000000001:43",
        )
        .await
        .unwrap()
    else {
        panic!("not held")
    };
    let (mut console, sari) = Console::signed_in(&store, Some(&tickets)).await;

    // The held note heads the tickets page, escaped, with its forms.
    let page = console.get("/tickets").await;
    assert_eq!(page.status, 200);
    let page = page.body;
    assert!(
        page.contains("Kabar instansi menunggu persetujuan (1)"),
        "{page}"
    );
    assert!(
        page.contains("Tim &lt;b&gt;meluncur&lt;/b&gt; besok pagi"),
        "{page}"
    );
    assert!(page.contains(&format!("/ticket-notes/{note}/approve")));
    // A forged form changes nothing; the real one relays the edited text.
    let approve = format!("/ticket-notes/{note}/approve");
    let forged = console
        .post_form(&approve, &[("csrf", "forged"), ("text", "x")])
        .await;
    assert_eq!(forged.status, 403);
    assert_eq!(tickets.held_notes(&store).await.unwrap().len(), 1);
    let approved = console
        .post_form(
            &approve,
            &[
                ("csrf", &sari.csrf),
                ("text", "Tim meluncur besok pagi pukul 08.00"),
            ],
        )
        .await;
    assert!(approved.status.is_redirection(), "{}", approved.status);
    let tweets = citizen_tweets(&store, &number).await;
    assert!(
        tweets[1].1.ends_with("Tim meluncur besok pagi pukul 08.00"),
        "{tweets:?}"
    );
    let dropped = console
        .post_form(
            &format!("/ticket-notes/{note}/drop"),
            &[("csrf", &sari.csrf)],
        )
        .await;
    assert!(
        dropped.body.contains("sudah diputuskan"),
        "{}",
        dropped.body
    );

    // A resolved ticket offers "Buka kembali"; a reason is required.
    tickets
        .transition(&store, &number, TicketState::Resolved, &AGENCY)
        .await
        .unwrap();
    let page = console.get("/tickets?state=resolved").await.body;
    assert!(
        page.contains(&format!("/tickets/{number}/reopen")),
        "{page}"
    );
    let reopen = format!("/tickets/{number}/reopen");
    let page = console
        .post_form(&reopen, &[("csrf", &sari.csrf), ("note", "")])
        .await
        .body;
    assert!(page.contains("tuliskan alasan"), "{page}");
    assert_eq!(
        tickets.get(&store, &number).await.unwrap().state,
        TicketState::Resolved
    );
    let reopened = console
        .post_form(
            &reopen,
            &[("csrf", &sari.csrf), ("note", "warga bilang belum beres")],
        )
        .await;
    assert!(reopened.status.is_redirection());
    assert_eq!(
        tickets.get(&store, &number).await.unwrap().state,
        TicketState::InProgress
    );

    // While sari holds the citizen's conversation, the agency's news waits and the page says so.
    let conversation = tickets
        .get(&store, &number)
        .await
        .unwrap()
        .conversation_id
        .unwrap();
    let holder = Actor {
        name: "sari".into(),
        role: Role::Staff,
    };
    console
        .state
        .desk
        .claim(&conversation, &holder)
        .await
        .unwrap();
    tickets
        .transition(&store, &number, TicketState::Resolved, &AGENCY)
        .await
        .unwrap();
    let page = console
        .get(&format!("/conversations/{conversation}"))
        .await
        .body;
    assert!(page.contains("Kabar laporan yang tertahan"), "{page}");
    assert!(page.contains("sudah selesai ditangani DPUPRPKP"), "{page}");
    store.close().await;
}

#[tokio::test]
async fn replies_in_a_ticket_thread_get_its_status_or_go_to_staff_when_it_is_not_fixed() {
    use kicau::service::{Service, sandbox_credentials, sandbox_settings};
    let config = shipped_config();
    let sandbox =
        kicau::sandbox::serve_x(sandbox_settings(&config), "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
    let x = sandbox.x_url();
    let (store, _dir) = sqlite().await;
    let client = kicau::channels::x::XClient::new(
        &x,
        kicau::channels::x::Auth::OAuth1(sandbox_credentials(&config.sandbox)),
    );
    let me = client.me().await.unwrap();
    let tickets = tickets_with(|_| {});
    let service = Service {
        engine: engine(),
        store: store.clone(),
        x: client,
        account_id: me.id,
        account: me.username,
        poll_interval: Duration::from_millis(200),
        desk: Desk::new(store.clone()),
        tickets: Some(tickets.clone()),
        mention_lease: None,
    };
    let run = || async {
        service.poll_once().await.unwrap();
        while service.work_once().await.unwrap() {}
    };
    // What the bot decided for `tweet`, and the text it queued in reply.
    let decided = |tweet: String| {
        let store = store.clone();
        async move {
            use sqlx::Row as _;
            let rule: String = sqlx::query("SELECT rule FROM decisions WHERE tweet_id = $1")
                .bind(&tweet)
                .fetch_one(store.pool())
                .await
                .unwrap()
                .get(0);
            let reply = sqlx::query(
                "SELECT payload FROM outbox WHERE channel = 'x' AND idempotency_key LIKE $1",
            )
            .bind(format!("x:reply:{tweet}:%"))
            .fetch_optional(store.pool())
            .await
            .unwrap()
            .map(|r| {
                let p: Value = serde_json::from_str(&r.get::<String, _>(0)).unwrap();
                p["text"].as_str().unwrap().to_owned()
            })
            .unwrap_or_default();
            (rule, reply)
        }
    };
    let citizens = Sandbox::at(&x);
    let count = || async {
        sqlx::query_scalar::<sqlx::Any, i64>("SELECT COUNT(*) FROM tickets")
            .fetch_one(store.pool())
            .await
            .unwrap()
    };

    let complaint = citizens
        .post_as(
            "warga30",
            "@PemkotMalang lampu jalan di jl tidar mati semua, gelap banget",
        )
        .await;
    run().await;
    assert_eq!(count().await, 1);
    let number: String = sqlx::query_scalar::<sqlx::Any, String>("SELECT number FROM tickets")
        .fetch_one(store.pool())
        .await
        .unwrap();
    // `user` replies in the complaint's thread; what the bot decided and queued.
    let say = |user: &'static str, text: &'static str| {
        let (citizens, complaint, run, decided) = (&citizens, &complaint, &run, &decided);
        async move {
            let tweet = citizens.reply_as(user, complaint, text).await;
            run().await;
            decided(tweet).await
        }
    };

    // A question in the thread: the status.
    let (rule, reply) = say(
        "warga30",
        "@PemkotMalang min laporan saya sudah sampai mana?",
    )
    .await;
    assert_eq!(rule, "ticket_status");
    assert!(
        reply.contains(&number) && reply.contains("status baru"),
        "{reply}"
    );
    // The same complaint again while it is handled: its status, not a second ticket.
    let again = say(
        "warga30",
        "@PemkotMalang lampu jalan jl tidar mati semua, tolong diperbaiki",
    )
    .await;
    assert_eq!(again.0, "ticket_status");
    assert_eq!(count().await, 1);

    // Resolved, then "still broken": before staff, to reopen it.
    tickets
        .transition(&store, &number, TicketState::Resolved, &AGENCY)
        .await
        .unwrap();
    let (rule, reply) = say(
        "warga30",
        "@PemkotMalang katanya selesai tapi lampunya masih mati min",
    )
    .await;
    assert_eq!(rule, "ticket_disputed");
    assert!(reply.contains("dibuka kembali"), "{reply}");
    let waiting = service
        .desk
        .list(&kicau::desk::Filter {
            state: Some(kicau::desk::State::WaitingStaff),
            held_by: None,
        })
        .await
        .unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].reason.as_deref(), Some("ticket_disputed"));
    assert_eq!(count().await, 1);

    // After "stop": a question gets no reply; "still broken" still reaches staff, silently.
    let citizen = citizens.user_id("warga30").await;
    store.opt_out(&citizen, "warga30").await.unwrap();
    let quiet = say("warga30", "@PemkotMalang laporan saya gimana min?").await;
    assert_eq!(quiet, ("opted_out".to_owned(), String::new()));
    let quiet_dispute = say("warga30", "@PemkotMalang lampunya masih mati lagi min").await;
    assert_eq!(quiet_dispute, ("ticket_disputed".to_owned(), String::new()));

    // Someone else in that thread is not its reporter: the usual triage decides.
    let other = say(
        "warga31",
        "@PemkotMalang laporan ini sudah sampai mana min?",
    )
    .await;
    assert_ne!(other.0, "ticket_status");
    store.close().await;
    sandbox.stop();
}
