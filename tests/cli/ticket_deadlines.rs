//! Ticket deadlines on SQLite and PostgreSQL: the agency is reminded before its deadline, a late
//! ticket goes before staff, and one unacknowledged for ten working days is marked for a warning
//! letter, each exactly once; ticket numbers follow each other.

use crate::helpers::{Backends, file_ticket, tickets_with};

#[tokio::test]
async fn deadlines_remind_the_agency_and_put_late_tickets_before_staff_exactly_once() {
    let tickets = tickets_with(|_| {});
    let backends = Backends::new().await;
    for (name, store) in &backends.stores {
        let number = file_ticket(store, &tickets, "500", "warga13").await;
        let ticket = tickets.get(store, &number).await.unwrap();
        assert!(
            number.starts_with("MLG-") && number.ends_with("-000001"),
            "{name}: {number}"
        );
        assert_eq!(ticket.location.as_deref(), Some("Jl. Tidar"));
        let created = ticket.created_at;
        let at = |share: f64| created + ((ticket.due_acknowledge - created) as f64 * share) as i64;

        // Halfway: nothing. At 80 %: one reminder, once.
        let pass = tickets.sla_tick(store, at(0.5)).await.unwrap();
        assert_eq!(pass, kicau::tickets::SlaPass::default(), "{name}");
        let pass = tickets.sla_tick(store, at(0.8)).await.unwrap();
        assert_eq!(pass.reminded, vec![number.clone()], "{name}");
        let pass = tickets.sla_tick(store, at(0.9)).await.unwrap();
        assert!(
            pass.reminded.is_empty() && pass.overdue.is_empty(),
            "{name}: {pass:?}"
        );

        // Past the acknowledgement deadline: before staff, once.
        let pass = tickets
            .sla_tick(store, ticket.due_acknowledge + 1)
            .await
            .unwrap();
        assert_eq!(pass.overdue, vec![number.clone()], "{name}");
        let pass = tickets
            .sla_tick(store, ticket.due_acknowledge + 60_000)
            .await
            .unwrap();
        assert!(pass.overdue.is_empty(), "{name}");
        let desk = kicau::desk::Desk::new(store.clone());
        let waiting = desk
            .list(&kicau::desk::Filter {
                state: Some(kicau::desk::State::WaitingStaff),
                held_by: None,
            })
            .await
            .unwrap();
        assert_eq!(waiting.len(), 1, "{name}");
        assert_eq!(waiting[0].reason.as_deref(), Some("ticket_overdue"));
        assert!(tickets.get(store, &number).await.unwrap().overdue);
        // Ten working days without acknowledgement: marked for a warning letter, once.
        let later = created + 16 * 24 * 3600 * 1000;
        let pass = tickets.sla_tick(store, later).await.unwrap();
        assert_eq!(pass.warning_letters, vec![number.clone()], "{name}");
        let pass = tickets.sla_tick(store, later + 3_600_000).await.unwrap();
        assert!(pass.warning_letters.is_empty(), "{name}");

        // The agency's reminder is queued once for its chat.
        let reminders: i64 = sqlx::query_scalar::<sqlx::Any, i64>(
            "SELECT COUNT(*) FROM outbox WHERE idempotency_key LIKE 'tg:ticket:%:reminded_%'",
        )
        .fetch_one(store.pool())
        .await
        .unwrap();
        assert_eq!(reminders, 1, "{name}");
        // The next number follows.
        assert!(
            file_ticket(store, &tickets, "501", "warga14")
                .await
                .ends_with("-000002")
        );
    }
    backends.finish().await;
}
