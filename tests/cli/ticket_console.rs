//! The console's tickets page: approving (and editing) held agency notes, reopening a ticket with
//! a reason, and ticket news held while a person holds the conversation.

use std::sync::Arc;

use kicau::desk::{Actor, Role};
use kicau::store::Store;
use kicau::tickets::{NoteOutcome, TicketState, Tickets};

use crate::ticket_staff::{AGENCY, citizen_tweets};
use crate::tickets::file_ticket;

#[tokio::test]
async fn the_console_pages_approve_notes_reopen_tickets_and_show_news_held_for_a_conversation() {
    use axum::body::Body;
    use axum::http::Request;
    let config = {
        let mut c = kicau::Config::load(&crate::repo().join("bot.toml")).unwrap();
        c.tickets.approve_notes = true;
        c
    };
    let engine = Arc::new(kicau::Engine::load(&config).unwrap());
    let tickets = Tickets::load(Arc::new(config)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&format!("sqlite://{}", dir.path().join("k.db").display()))
        .await
        .unwrap();
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
    let console = crate::tickets::StaffConsole::new(&store, &tickets, engine).await;
    let send = |request: Request<Body>| console.send(request);
    let cookie = console.cookie.clone();
    let form = |path: String, body: String| {
        Request::post(path)
            .header("cookie", &cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap()
    };

    // The held note heads the tickets page, escaped, with its forms.
    let (status, page) = send(
        Request::get("/tickets")
            .header("cookie", &cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
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
    let (status, _) = send(form(
        format!("/ticket-notes/{note}/approve"),
        "csrf=forged&text=x".into(),
    ))
    .await;
    assert_eq!(status, 403);
    assert_eq!(tickets.held_notes(&store).await.unwrap().len(), 1);
    let (status, _) = send(form(
        format!("/ticket-notes/{note}/approve"),
        format!(
            "csrf={}&text=Tim+meluncur+besok+pagi+pukul+08.00",
            console.csrf
        ),
    ))
    .await;
    assert!(status.is_redirection(), "{status}");
    let tweets = citizen_tweets(&store, &number).await;
    assert!(
        tweets[1].1.ends_with("Tim meluncur besok pagi pukul 08.00"),
        "{tweets:?}"
    );
    let (_, page) = send(form(
        format!("/ticket-notes/{note}/drop"),
        format!("csrf={}", console.csrf),
    ))
    .await;
    assert!(page.contains("sudah diputuskan"), "{page}");

    // A resolved ticket offers "Buka kembali"; a reason is required.
    tickets
        .transition(&store, &number, TicketState::Resolved, &AGENCY)
        .await
        .unwrap();
    let (_, page) = send(
        Request::get("/tickets?state=resolved")
            .header("cookie", &cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert!(
        page.contains(&format!("/tickets/{number}/reopen")),
        "{page}"
    );
    let (_, page) = send(form(
        format!("/tickets/{number}/reopen"),
        format!("csrf={}&note=", console.csrf),
    ))
    .await;
    assert!(page.contains("tuliskan alasan"), "{page}");
    assert_eq!(
        tickets.get(&store, &number).await.unwrap().state,
        TicketState::Resolved
    );
    let (status, _) = send(form(
        format!("/tickets/{number}/reopen"),
        format!("csrf={}&note=warga+bilang+belum+beres", console.csrf),
    ))
    .await;
    assert!(status.is_redirection());
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
    let sari = Actor {
        name: "sari".into(),
        role: Role::Staff,
    };
    console
        .state
        .desk
        .claim(&conversation, &sari)
        .await
        .unwrap();
    tickets
        .transition(&store, &number, TicketState::Resolved, &AGENCY)
        .await
        .unwrap();
    let (_, page) = send(
        Request::get(format!("/conversations/{conversation}"))
            .header("cookie", &cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert!(page.contains("Kabar laporan yang tertahan"), "{page}");
    assert!(page.contains("sudah selesai ditangani DPUPRPKP"), "{page}");
    store.close().await;
}
