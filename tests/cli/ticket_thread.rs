//! Replies in the thread of a citizen's own ticket: a question gets its status, "still broken"
//! after "selesai" goes to staff, the same complaint again gets the status, not a second ticket.

use std::sync::Arc;
use std::time::Duration;

use kicau::desk::Desk;
use kicau::store::Store;
use kicau::tickets::{TicketState, Tickets};
use serde_json::Value;

use crate::service::post_as;
use crate::ticket_staff::AGENCY;
use crate::tickets::reply_as;

#[tokio::test]
async fn replies_in_a_ticket_thread_get_its_status_or_go_to_staff_when_it_is_not_fixed() {
    use kicau::run::{Service, sandbox_credentials, sandbox_settings};
    let config = kicau::Config::load(&crate::repo().join("bot.toml")).unwrap();
    let sandbox =
        kicau::sandbox::serve_x(sandbox_settings(&config), "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
    let x = sandbox.x_url();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&format!("sqlite://{}", dir.path().join("k.db").display()))
        .await
        .unwrap();
    let client = kicau::channels::x::XClient::new(
        &x,
        kicau::channels::x::Auth::OAuth1(sandbox_credentials(&config.sandbox)),
    );
    let me = client.me().await.unwrap();
    let tickets = Tickets::load(Arc::new(config.clone())).unwrap();
    let service = Service {
        engine: Arc::new(kicau::Engine::load(&config).unwrap()),
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
    let http = reqwest::Client::new();
    let count = || async {
        sqlx::query_scalar::<sqlx::Any, i64>("SELECT COUNT(*) FROM tickets")
            .fetch_one(store.pool())
            .await
            .unwrap()
    };

    let complaint = post_as(
        &http,
        &x,
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
        let (http, x, complaint, run, decided) = (&http, &x, &complaint, &run, &decided);
        async move {
            let tweet = reply_as(http, x, user, complaint, text).await;
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
    let citizen: Value = http
        .get(format!("{x}/2/users/by/username/warga30"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    store
        .opt_out(citizen["data"]["id"].as_str().unwrap(), "warga30")
        .await
        .unwrap();
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
