//! What a citizen hears in a ticket's thread: the agency's news waits while a person holds the
//! conversation and goes out on release; none after "stop" (a person may still write); a reply
//! in the thread gets the ticket's status, and "still broken" after it was resolved goes to
//! staff (on SQLite and PostgreSQL, and through the worker against the X sandbox).

use std::time::Duration;

use kicau::desk::{Actor, Desk, Role};
use kicau::tickets::{Mover, TicketState};
use serde_json::Value;

use crate::helpers::{
    AGENCY_MEMBER, Backends, Sandbox, citizen_tweets, engine, file_ticket, shipped_config, sqlite,
    tickets_with,
};

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
            .transition(store, &number, TicketState::Acknowledged, &AGENCY_MEMBER)
            .await
            .unwrap();
        tickets
            .transition(store, &number, TicketState::Rejected, &AGENCY_MEMBER)
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
            .reroute(store, &number, "dlh", "sari", false)
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
                .transition(store, &number, to, &AGENCY_MEMBER)
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

#[tokio::test]
async fn replies_in_a_ticket_thread_get_its_status_or_go_to_staff_when_it_is_not_fixed() {
    use kicau::run::{Service, sandbox_credentials, sandbox_settings};
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
    let (me, _) = client.me().await.unwrap();
    let tickets = tickets_with(|_| {});
    let service = Service {
        engine: std::sync::Arc::new(kicau::triage::live::Live::new(engine())),
        store: store.clone(),
        x: client,
        account_id: me.id,
        account: me.username,
        poll_interval: Duration::from_millis(200),
        desk: Desk::new(store.clone()),
        tickets: Some(tickets.clone()),
        mention_lease: None,
        budget: kicau::costs::Budget::new(store.clone(), Default::default()),
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
        .transition(&store, &number, TicketState::Resolved, &AGENCY_MEMBER)
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
