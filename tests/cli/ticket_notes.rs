//! An agency's note on a ticket, held for staff approval when bot.toml says so: approved (as
//! edited), dropped or exempted per agency on SQLite and PostgreSQL; approved from the Telegram
//! staff group with the real processes (where a note the database refuses goes to the dead
//! letters and the ticket is then reopened through the API); approved and reopened from the
//! console's pages, which also show ticket news held for a conversation.

use std::time::Duration;

use kicau::desk::{Actor, Role};
use kicau::store::Store;
use kicau::tickets::{NoteDecision, NoteOutcome, TicketError, TicketState};
use serde_json::json;

use crate::helpers::{
    AGENCY_MEMBER, Backends, Console, Deployment, citizen_tweets, file_ticket, file_ticket_for,
    sqlite, tickets_with, wait_until,
};

const DPUPRPKP: i64 = -1002000000001;
const GROUP: i64 = -1001000000001;

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
                AGENCY_MEMBER.name,
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
                AGENCY_MEMBER.name,
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
        assert_eq!(history.last().unwrap().2, AGENCY_MEMBER.name, "{name}");
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
                AGENCY_MEMBER.name,
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
            AGENCY_MEMBER.name,
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
    // The conversation the ticket came from offers the same decision, and comes back to itself.
    let conversation: String =
        sqlx::query_scalar("SELECT conversation_id FROM tickets WHERE number = $1")
            .bind(&number)
            .fetch_one(store.pool())
            .await
            .unwrap();
    let case = format!("/conversations/{conversation}");
    let page = console.get(&case).await.body;
    assert!(
        page.contains("Kabar instansi menunggu persetujuan"),
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
                ("back", &case),
            ],
        )
        .await;
    assert!(approved.status.is_redirection(), "{}", approved.status);
    assert_eq!(approved.location.as_deref(), Some(case.as_str()));
    let page = console.get(&case).await.body;
    assert!(
        page.contains("Kabar instansi diteruskan ke pelapor."),
        "{page}"
    );
    assert!(
        !page.contains("Kabar instansi menunggu persetujuan"),
        "{page}"
    );
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
        .transition(&store, &number, TicketState::Resolved, &AGENCY_MEMBER)
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
        .transition(&store, &number, TicketState::Resolved, &AGENCY_MEMBER)
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
