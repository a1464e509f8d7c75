//! Agencies' notes on their tickets: relayed to the citizen as one tweet, or held for staff to
//! approve (perhaps edited) or drop.

use serde_json::json;
use sqlx::Row;

use super::{
    Speaker, Ticket, TicketError, Tickets, audit, history, lock_ticket, queue_citizen_tweet,
};
use crate::desk::conversation::insert_event;
use crate::store::{Store, Tx, now_ms};

/// What became of an agency's note.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteOutcome {
    /// Queued for the citizen.
    Relayed,
    /// Waiting for staff approval (the note's id).
    Held(i64),
    /// The same message was handled before.
    Repeated,
}

/// Staff's decision on a held note.
#[derive(Debug, Clone, Copy)]
pub enum NoteDecision<'a> {
    /// Relay it, as written or as `Some(edited text)`.
    Approve(Option<&'a str>),
    Drop,
}

/// An agency note waiting for staff approval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldNote {
    pub id: i64,
    pub number: String,
    pub by: String,
    pub note: String,
    pub created_at: i64,
}

impl Tickets {
    /// An agency's note on a ticket (a reply to its message), personal data removed. Relayed
    /// to the citizen as one tweet in the thread, or, when bot.toml asks for approval
    /// (`approve_notes`), kept for staff to approve (perhaps edited) or drop.
    pub async fn add_note(
        &self,
        store: &Store,
        number: &str,
        by: &str,
        note: &str,
        origin: &str,
    ) -> Result<NoteOutcome, TicketError> {
        let note = crate::language::pii::redact(note.trim());
        let now = now_ms();
        let mut tx = store.begin().await?;
        lock_ticket(&mut tx, number).await?;
        let ticket = self.get_in(&mut tx, number).await?;
        let approval = self
            .agency(&ticket.agency)
            .and_then(|a| a.approve_notes)
            .unwrap_or(self.config.tickets.approve_notes);
        let id: Option<i64> = sqlx::query(
            "INSERT INTO ticket_notes (number, by_actor, note, origin, state, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (origin) DO NOTHING RETURNING id",
        )
        .bind(number)
        .bind(by)
        .bind(&note)
        .bind(origin)
        .bind(if approval { "pending" } else { "relayed" })
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| r.get(0));
        let Some(id) = id else {
            // The same message again (a replayed update or webhook): done the first time.
            tx.rollback().await?;
            return Ok(NoteOutcome::Repeated);
        };
        if !approval {
            self.relay_note(&mut tx, &ticket, by, &note, Speaker::Agency)
                .await?;
            tx.commit().await?;
            return Ok(NoteOutcome::Relayed);
        }
        audit(
            &mut tx,
            by,
            "ticket_note_held",
            number,
            json!({"note": note, "id": id}),
            now,
        )
        .await?;
        insert_event(
            &mut tx,
            "ticket_note_held",
            ticket.conversation_id.as_deref(),
            by,
            &json!({"ticket": number, "note_id": id, "note": note, "agency": ticket.agency}),
            now,
        )
        .await?;
        tx.commit().await?;
        tracing::info!(ticket = %number, note = id, "agency note held for staff approval");
        Ok(NoteOutcome::Held(id))
    }

    /// The history entry, audit entry and citizen's tweet of a note that may reach the citizen.
    async fn relay_note(
        &self,
        tx: &mut Tx<'_>,
        ticket: &Ticket,
        by: &str,
        note: &str,
        speaker: Speaker,
    ) -> Result<(), TicketError> {
        let number = &ticket.number;
        let now = now_ms();
        let history_id = history(tx, number, ticket.state, by, note, now).await?;
        audit(tx, by, "ticket_note", number, json!({"note": note}), now).await?;
        let agency = self
            .agency(&ticket.agency)
            .map(|a| a.short_name.clone())
            .unwrap_or_default();
        let text = format!("Kabar dari {agency} untuk laporan {number}: {note}");
        queue_citizen_tweet(tx, ticket, &text, history_id, speaker, now).await
    }

    /// Agency notes waiting for staff approval, oldest first.
    pub async fn held_notes(&self, store: &Store) -> Result<Vec<HeldNote>, TicketError> {
        let rows = sqlx::query(
            "SELECT id, number, by_actor, note, created_at FROM ticket_notes \
             WHERE state = 'pending' ORDER BY id",
        )
        .fetch_all(store.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| HeldNote {
                id: r.get(0),
                number: r.get(1),
                by: r.get(2),
                note: r.get(3),
                created_at: r.get(4),
            })
            .collect())
    }

    /// Staff decide on a held note: relay it to the citizen (as `text` when they edited it;
    /// personal data removed again) or drop it. Each note is decided once.
    pub async fn decide_note(
        &self,
        store: &Store,
        id: i64,
        staff: &str,
        decision: NoteDecision<'_>,
    ) -> Result<HeldNote, TicketError> {
        let now = now_ms();
        let mut tx = store.begin().await?;
        let (state, text) = match decision {
            NoteDecision::Approve(text) => (
                "approved",
                text.map(|t| crate::language::pii::redact(t.trim())),
            ),
            NoteDecision::Drop => ("dropped", None),
        };
        let row = sqlx::query(
            "UPDATE ticket_notes SET state = $1, decided_by = $2, decided_at = $3, \
             sent_text = $4 WHERE id = $5 AND state = 'pending' \
             RETURNING id, number, by_actor, note, created_at",
        )
        .bind(state)
        .bind(staff)
        .bind(now)
        .bind(&text)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            tx.rollback().await?;
            let exists = sqlx::query("SELECT id FROM ticket_notes WHERE id = $1")
                .bind(id)
                .fetch_optional(store.pool())
                .await?
                .is_some();
            return Err(if exists {
                TicketError::NoteDecided(id)
            } else {
                TicketError::NoteNotFound(id)
            });
        };
        let held = HeldNote {
            id: row.get(0),
            number: row.get(1),
            by: row.get(2),
            note: row.get(3),
            created_at: row.get(4),
        };
        lock_ticket(&mut tx, &held.number).await?;
        let ticket = self.get_in(&mut tx, &held.number).await?;
        if state == "approved" {
            let text = text.filter(|t| !t.is_empty()).unwrap_or(held.note.clone());
            self.relay_note(&mut tx, &ticket, &held.by, &text, Speaker::Staff)
                .await?;
        }
        audit(
            &mut tx,
            staff,
            if state == "approved" {
                "ticket_note_approved"
            } else {
                "ticket_note_dropped"
            },
            &held.number,
            json!({"id": id}),
            now,
        )
        .await?;
        tx.commit().await?;
        tracing::info!(ticket = %held.number, note = id, decision = state, "held note decided");
        Ok(held)
    }
}
