//! Staff reopen a resolved ticket, on SQLite and PostgreSQL: only staff may, the ticket gets a
//! fresh deadline, the agency a new message led by the reason, and the citizen one tweet.

use kicau::tickets::{Mover, TicketError, TicketState};
use serde_json::Value;

use crate::helpers::{AGENCY_MEMBER, Backends, citizen_tweets, file_ticket, tickets_with};

#[tokio::test]
async fn staff_reopen_a_resolved_ticket_with_a_fresh_deadline_and_a_new_agency_message() {
    let tickets = tickets_with(|_| {});
    let backends = Backends::new().await;
    for (name, store) in &backends.stores {
        let number = file_ticket(store, &tickets, "710", "warga23").await;
        tickets
            .transition(store, &number, TicketState::Resolved, &AGENCY_MEMBER)
            .await
            .unwrap();
        // Only staff reopen.
        assert!(matches!(
            tickets
                .transition(store, &number, TicketState::InProgress, &AGENCY_MEMBER)
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
