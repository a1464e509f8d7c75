//! A ticket the agency rejects as not its own goes before staff, who send it to another agency:
//! on SQLite and PostgreSQL through the tickets, and from the console's tickets page and API.

use kicau::tickets::TicketState;
use serde_json::json;

use crate::helpers::{AGENCY_MEMBER, Backends, Console, file_ticket, sqlite, tickets_with};

#[tokio::test]
async fn a_rejected_ticket_goes_to_staff_who_send_it_to_another_agency() {
    let tickets = tickets_with(|_| {});
    let backends = Backends::new().await;
    for (name, store) in &backends.stores {
        let number = file_ticket(store, &tickets, "600", "warga15").await;
        // DPUPRPKP is reminded before its deadline.
        let filed = tickets.get(store, &number).await.unwrap();
        let soon = filed.created_at + (filed.due_acknowledge - filed.created_at) * 4 / 5;
        assert_eq!(
            tickets.sla_tick(store, soon).await.unwrap().reminded,
            std::slice::from_ref(&number)
        );
        // Not yet rejected: staff cannot reroute it.
        assert!(
            tickets
                .reroute(store, &number, "dlh", "sari", false)
                .await
                .is_err()
        );
        tickets
            .transition(store, &number, TicketState::Rejected, &AGENCY_MEMBER)
            .await
            .unwrap();
        // A rejected ticket moves no further by the agency's hand.
        assert!(
            tickets
                .transition(store, &number, TicketState::Resolved, &AGENCY_MEMBER)
                .await
                .is_err()
        );
        let desk = kicau::desk::Desk::new(store.clone());
        let waiting = desk
            .list(&kicau::desk::Filter {
                state: Some(kicau::desk::State::WaitingStaff),
                held_by: None,
            })
            .await
            .unwrap();
        assert_eq!(
            waiting[0].reason.as_deref(),
            Some("ticket_rejected"),
            "{name}"
        );

        // Not back to the agency that rejected it, unless staff say so.
        let rejecting = tickets.get(store, &number).await.unwrap().agency;
        let refused = tickets
            .reroute(store, &number, &rejecting, "sari", false)
            .await
            .unwrap_err();
        assert!(
            matches!(refused, kicau::tickets::TicketError::RejectedBy { .. }),
            "{name}: {refused:?}"
        );
        assert!(refused.to_string().contains("sudah menolak"), "{refused}");

        let ticket = tickets
            .reroute(store, &number, "dlh", "sari", false)
            .await
            .unwrap();
        assert_eq!(ticket.state, TicketState::Open);
        // An open ticket cannot be "reopened" (it would tell the citizen work goes on).
        let reopened = tickets
            .transition(
                store,
                &number,
                TicketState::InProgress,
                &kicau::tickets::Mover {
                    name: "sari",
                    staff: true,
                    note: "belum beres",
                },
            )
            .await
            .unwrap_err();
        assert!(
            matches!(reopened, kicau::tickets::TicketError::NotResolved { .. }),
            "{name}: {reopened:?}"
        );
        assert_eq!(ticket.agency, "dlh");
        let history = tickets.history(store, &number).await.unwrap();
        let states: Vec<&str> = history.iter().map(|h| h.1.as_str()).collect();
        assert_eq!(states, ["open", "rejected", "open"], "{name}");
        assert_eq!(history[2].3, "dialihkan ke DLH");
        // One tweet per step for the citizen; a new message in DLH's chat.
        let tweets: i64 = sqlx::query_scalar::<sqlx::Any, i64>(&format!(
            "SELECT COUNT(*) FROM outbox WHERE idempotency_key LIKE 'x:ticket:{number}:%:1'"
        ))
        .fetch_one(store.pool())
        .await
        .unwrap();
        assert_eq!(tweets, 3, "{name}");
        let dlh_chat = tickets.agency("dlh").unwrap().telegram_chat_id.unwrap();
        let to_dlh: i64 = sqlx::query_scalar::<sqlx::Any, i64>(&format!(
            "SELECT COUNT(*) FROM outbox WHERE channel = 'telegram' AND payload LIKE '%\"chat_id\":{dlh_chat}%'"
        ))
        .fetch_one(store.pool())
        .await
        .unwrap();
        assert_eq!(to_dlh, 1, "{name}");
        // DLH has deadlines of its own and is reminded of them too.
        let soon = ticket.updated_at + (ticket.due_acknowledge - ticket.updated_at) * 4 / 5;
        assert_eq!(
            tickets.sla_tick(store, soon).await.unwrap().reminded,
            std::slice::from_ref(&number),
            "{name}"
        );
        let reminders: i64 = sqlx::query_scalar::<sqlx::Any, i64>(&format!(
            "SELECT COUNT(*) FROM outbox WHERE channel = 'telegram' \
             AND idempotency_key LIKE 'tg:ticket:%:reminded_acknowledge:%' \
             AND payload LIKE '%\"chat_id\":{dlh_chat}%'"
        ))
        .fetch_one(store.pool())
        .await
        .unwrap();
        assert_eq!(reminders, 1, "{name}");
    }
    backends.finish().await;
}

#[tokio::test]
async fn staff_reroute_a_rejected_ticket_from_the_tickets_page_and_the_api() {
    let tickets = tickets_with(|_| {});
    let (store, _dir) = sqlite().await;
    let first = file_ticket(&store, &tickets, "700", "warga18").await;
    let second = file_ticket(&store, &tickets, "701", "warga19").await;
    for number in [&first, &second] {
        tickets
            .transition(&store, number, TicketState::Rejected, &AGENCY_MEMBER)
            .await
            .unwrap();
    }
    let (mut console, sari) = Console::signed_in(&store, Some(&tickets)).await;
    let page = console.get("/tickets?state=rejected").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains(&format!("/tickets/{first}/reroute")),
        "{}",
        page.body
    );
    // Without the form's token nothing happens; with it the ticket goes to DLH.
    let reroute = format!("/tickets/{first}/reroute");
    let forged = console
        .post_form(&reroute, &[("csrf", "forged"), ("agency", "dlh")])
        .await;
    assert_eq!(forged.status, 403);
    assert_eq!(
        tickets.get(&store, &first).await.unwrap().state,
        TicketState::Rejected
    );
    let sent = console
        .post_form(&reroute, &[("csrf", &sari.csrf), ("agency", "dlh")])
        .await;
    assert!(sent.status.is_redirection());
    let moved = tickets.get(&store, &first).await.unwrap();
    assert_eq!(
        (moved.state, moved.agency.as_str()),
        (TicketState::Open, "dlh")
    );
    // The API does the same with a bearer token; a ticket that is not rejected is a 409.
    let reroute = format!("/api/tickets/{second}/reroute");
    let (status, body) = console
        .api(
            "POST",
            &reroute,
            Some(&sari.token),
            Some(json!({"agency": "satpolpp"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.to_string().contains("\"agency\":\"satpolpp\""),
        "{body}"
    );
    let (status, _) = console
        .api(
            "POST",
            &reroute,
            Some(&sari.token),
            Some(json!({"agency": "dlh"})),
        )
        .await;
    assert_eq!(status, 409);
    store.close().await;
}
