//! Citizens' data kept only as long as needed: after the retention period (a clock the test
//! sets), no text or handle of a closed conversation is left in any table and the report counts
//! the same; a request to be forgotten removes one citizen's data at once, tickets kept with
//! the reporter anonymised (on SQLite and PostgreSQL).

use kicau::desk::{Actor, Desk, Role};
use kicau::store::Store;
use kicau::tickets::TicketState;

use crate::helpers::{
    AGENCY_MEMBER, Backends, file_ticket, mention_at, shipped_config, tickets_with,
};

const DAY: i64 = 24 * 3600 * 1000;

/// Every (table, column) whose text holds `needle` (any case).
async fn traces(store: &Store, backend: &str, needle: &str) -> Vec<String> {
    let columns_sql = if backend.contains("postgres") {
        "SELECT table_name::text, column_name::text FROM information_schema.columns \
         WHERE table_schema = current_schema() AND data_type = 'text'"
    } else {
        "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND p.type = 'TEXT'"
    };
    let columns: Vec<(String, String)> = sqlx::query_as::<sqlx::Any, (String, String)>(columns_sql)
        .fetch_all(store.pool())
        .await
        .unwrap();
    let mut found = Vec::new();
    for (table, column) in columns {
        if table.starts_with("_sqlx") {
            continue;
        }
        let n: i64 = sqlx::query_scalar::<sqlx::Any, i64>(&format!(
            "SELECT COUNT(*) FROM {table} WHERE LOWER({column}) LIKE $1"
        ))
        .bind(format!("%{}%", needle.to_lowercase()))
        .fetch_one(store.pool())
        .await
        .unwrap();
        if n > 0 {
            found.push(format!("{table}.{column} ({n})"));
        }
    }
    found
}

#[tokio::test]
async fn after_the_retention_period_no_text_or_handle_of_a_closed_conversation_is_left() {
    let tickets = tickets_with(|_| {});
    let config = shipped_config();
    let agencies: Vec<_> = config
        .agencies
        .iter()
        .filter(|a| a.tickets)
        .cloned()
        .collect();
    let backends = Backends::new().await;
    for (name, store) in &backends.stores {
        let now = kicau::store::now_ms();
        let secret = "3573042103990005";
        let conv = mention_at(
            store,
            "9100",
            "wargarahasia",
            &format!("@PemkotMalang KTP hilang kak, NIK {secret}, tolong bantu kunjungan"),
            ("handoff", "no_kb_match"),
            now,
        )
        .await
        .unwrap();
        let number = file_ticket(store, &tickets, "9101", "pelaporjalan").await;
        let desk = Desk::new(store.clone());
        let admin = Actor {
            name: "kepala".into(),
            role: Role::Admin,
        };
        desk.close(&conv, &admin).await.unwrap();
        let ticket_conv = tickets
            .get(store, &number)
            .await
            .unwrap()
            .conversation_id
            .unwrap();
        let report = || async {
            kicau::report::build(store, &agencies, 0, now + DAY)
                .await
                .unwrap()
        };

        // The ticket is still open: its conversation must keep the citizen's handle.
        let early = kicau::privacy::retain(store, 90, now + 91 * DAY)
            .await
            .unwrap();
        assert_eq!(
            early.conversations, 1,
            "{name}: only the closed conversation"
        );
        assert!(
            !traces(store, name, "pelaporjalan").await.is_empty(),
            "{name}"
        );
        assert!(
            traces(store, name, "wargarahasia").await.is_empty(),
            "{name}: {:?}",
            traces(store, name, "wargarahasia").await
        );
        // Resolved now: 90 days later it goes too, not a day before.
        tickets
            .transition(store, &number, TicketState::Resolved, &AGENCY_MEMBER)
            .await
            .unwrap();
        desk.close(&ticket_conv, &admin).await.ok();
        let resolved_at = tickets.get(store, &number).await.unwrap().updated_at;
        let waiting = kicau::privacy::retain(store, 90, resolved_at + 89 * DAY)
            .await
            .unwrap();
        assert_eq!(waiting.conversations, 0, "{name}");
        let before = report().await;
        let late = kicau::privacy::retain(store, 90, resolved_at + 91 * DAY)
            .await
            .unwrap();
        assert_eq!(late.conversations, 1, "{name}");

        for needle in [
            "wargarahasia",
            "pelaporjalan",
            secret,
            "KTP hilang",
            "jalan berlubang besar",
        ] {
            if needle == "jalan berlubang besar" {
                // The ticket keeps the complaint's words (redacted of personal data) for the
                // agency's figures; nothing else does.
                let left = traces(store, name, needle).await;
                assert_eq!(left, ["tickets.text (1)"], "{name}: {left:?}");
                continue;
            }
            let left = traces(store, name, needle).await;
            assert!(left.is_empty(), "{name}: {needle} left in {left:?}");
        }
        let ticket = tickets.get(store, &number).await.unwrap();
        assert_eq!(ticket.reporter, "anonim");
        let after = report().await;
        assert_eq!(
            format!("{before:?}"),
            format!("{after:?}"),
            "{name}: the counts stay"
        );
    }
}

#[tokio::test]
async fn a_citizen_who_asks_to_be_forgotten_is_forgotten_everywhere_at_once() {
    let tickets = tickets_with(|_| {});
    let backends = Backends::new().await;
    for (name, store) in &backends.stores {
        let now = kicau::store::now_ms();
        let number = file_ticket(store, &tickets, "9201", "WargaLupa").await;
        mention_at(
            store,
            "9203",
            "WargaLupa",
            "@PemkotMalang halo, hp saya 0812-3456-7890, mohon dihubungi",
            ("handoff", "no_kb_match"),
            now,
        )
        .await
        .unwrap();
        mention_at(
            store,
            "9202",
            "wargalain",
            "@PemkotMalang jam buka dispendukcapil?",
            ("handoff", "no_kb_match"),
            now,
        )
        .await
        .unwrap();
        let done = kicau::privacy::forget(store, "@wargalupa", "kepala", now)
            .await
            .unwrap();
        assert_eq!(done.conversations, 2, "{name}: {done:?}");
        assert_eq!(done.tickets, 1, "{name}");
        for needle in ["wargalupa", "3456-7890", "mohon dihubungi"] {
            let left = traces(store, name, needle).await;
            assert!(left.is_empty(), "{name}: {needle} left in {left:?}");
        }
        assert!(
            !traces(store, name, "wargalain").await.is_empty(),
            "{name}: others stay"
        );
        let ticket = tickets.get(store, &number).await.unwrap();
        assert_eq!(ticket.reporter, "anonim");
        let audit = store.audit_log(100).await.unwrap();
        let forgotten: Vec<_> = audit
            .iter()
            .filter(|e| e.action == "privacy_forget")
            .collect();
        assert_eq!(forgotten.len(), 1, "{name}");
        assert_eq!(forgotten[0].actor, "kepala");
        assert!(
            kicau::privacy::forget(store, "not a handle!", "kepala", now)
                .await
                .is_err()
        );
    }
}
