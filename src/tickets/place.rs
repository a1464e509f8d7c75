//! Staff correct a ticket's place, before or after the agency got the ticket: the ticket, its
//! history and the audit log record the change, and the agency's message follows it (Telegram:
//! the ticket's message is edited; WhatsApp, which cannot edit: a short correction). The citizen
//! is not told: the place is theirs, only the agency's copy was wrong.

use serde_json::json;

use super::delivery::AgencyMessage;
use super::{Ticket, TicketError, Tickets, audit, history, lock_ticket, messages};
use crate::store::{Store, now_ms};

/// The longest place staff may write, in characters.
pub const PLACE_MAX_CHARS: usize = 200;

impl Tickets {
    /// Sets ticket `number`'s place to `place` (by staff member `by`): history, audit and the
    /// agency's message in one transaction. Personal data is cut out of the place, since the
    /// agency reads it. The same place again changes nothing and sends nothing.
    pub async fn correct_place(
        &self,
        store: &Store,
        number: &str,
        place: &str,
        by: &str,
    ) -> Result<Ticket, TicketError> {
        let place = parse_place(place)?;
        let now = now_ms();
        let mut tx = store.begin().await?;
        lock_ticket(&mut tx, number).await?;
        let current = self.get_in(&mut tx, number).await?;
        if current.location.as_deref() == Some(place.as_str()) {
            tx.rollback().await?;
            return Ok(current);
        }
        sqlx::query("UPDATE tickets SET location = $1, updated_at = $2 WHERE number = $3")
            .bind(&place)
            .bind(now)
            .bind(number)
            .execute(&mut *tx)
            .await?;
        let before = current.location.clone();
        let note = messages::place_note(before.as_deref(), &place);
        let history_id = history(&mut tx, number, current.state, by, &note, now).await?;
        audit(
            &mut tx,
            by,
            "ticket_place",
            number,
            json!({"from": before, "to": place}),
            now,
        )
        .await?;
        let mut ticket = current;
        ticket.location = Some(place);
        ticket.updated_at = now;
        if let Some(agency) = self.agency(&ticket.agency).cloned() {
            self.queue_agency_message(
                &mut tx,
                &ticket,
                &agency,
                AgencyMessage::Place(history_id),
                now,
            )
            .await?;
        }
        tx.commit().await?;
        tracing::info!(ticket = %number, by = %by, "ticket place corrected");
        Ok(ticket)
    }
}

/// A place as staff wrote it, on one line, without personal data; refused when empty or longer
/// than [`PLACE_MAX_CHARS`] as written.
fn parse_place(text: &str) -> Result<String, TicketError> {
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if one_line.is_empty() {
        return Err(TicketError::InvalidPlace(
            "tuliskan lokasi yang benar: nama jalan, kelurahan".into(),
        ));
    }
    if one_line.chars().count() > PLACE_MAX_CHARS {
        return Err(TicketError::InvalidPlace(format!(
            "lokasi terlalu panjang: paling banyak {PLACE_MAX_CHARS} karakter"
        )));
    }
    Ok(crate::language::pii::redact(&one_line))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_place_is_one_line_without_personal_data() {
        assert_eq!(
            parse_place("  Jl. Ijen\nNo. 5,\tKlojen ").unwrap(),
            "Jl. Ijen No. 5, Klojen"
        );
        assert_eq!(
            parse_place("Jl. Kawi, hub 081234567890").unwrap(),
            "Jl. Kawi, hub [nomor telepon disamarkan]"
        );
        assert!(matches!(
            parse_place(" \u{0}\n "),
            Err(TicketError::InvalidPlace(_))
        ));
        assert!(parse_place(&"a".repeat(PLACE_MAX_CHARS)).is_ok());
        assert!(matches!(
            parse_place(&"a".repeat(PLACE_MAX_CHARS + 1)),
            Err(TicketError::InvalidPlace(_))
        ));
    }
}
