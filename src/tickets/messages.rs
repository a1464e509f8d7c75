//! Every text agencies and citizens read about tickets: the ticket in the agency's chat
//! (Telegram HTML, WhatsApp plain text), the citizen's tweets at each state, the status reply,
//! the questions for the place, and the Open311 export. Edit wording here.

use serde_json::{Value, json};

use super::{Ticket, TicketState, sla};
use crate::config::Agency;

/// What the bot asks when a complaint names no place.
pub const ASK_PLACE: &str = "Boleh info lokasi lengkapnya: nama jalan, kelurahan?";

/// The second question for the place.
pub const ASK_PLACE_AGAIN: &str =
    "Maaf kak, lokasinya belum kami kenali. Boleh info lokasi lengkapnya: nama jalan, kelurahan?";

/// After two questions without a place, the complaint goes to staff.
pub const PLACE_TO_STAFF: &str = "Terima kasih kak. Lokasinya belum bisa kami pastikan, jadi \
                                  laporan ini kami teruskan ke petugas yang akan membalas di utas ini.";

/// What a WhatsApp agency reads when staff correct a ticket's place (WhatsApp cannot edit the
/// ticket's message, as Telegram does).
pub fn place_correction(ticket: &Ticket) -> String {
    truncate_chars(
        &format!(
            "Koreksi lokasi laporan {}: {}",
            ticket.number,
            ticket.location.as_deref().unwrap_or("-")
        ),
        1000,
    )
}

/// The history line of a corrected place.
pub fn place_note(before: Option<&str>, after: &str) -> String {
    format!("lokasi dikoreksi: {} → {after}", before.unwrap_or("-"))
}

/// The reply to "cek laporan NUMBER" for a number that does not exist.
pub fn not_found_text(number: &str) -> String {
    format!("Nomor laporan {number} tidak kami temukan. Mohon cek lagi nomornya, ya.")
}

/// The status reply for a ticket whose agency is no longer in bot.toml.
pub fn bare_status_text(ticket: &Ticket) -> String {
    format!(
        "Laporan {}: status {}.",
        ticket.number,
        ticket.state.label()
    )
}

/// The reply to a citizen who says a "selesai" problem is not fixed.
pub fn disputed_text(ticket: &Ticket, agency: &Agency) -> String {
    format!(
        "Terima kasih kabarnya, kak. Laporan {} kami teruskan ke petugas untuk dicek dan dibuka \
         kembali ke {} bila perlu.",
        ticket.number, agency.short_name
    )
}

/// A ticket as an Open311 GeoReport v2 service request (the export format of issue 5).
pub fn open311(ticket: &Ticket, agency: Option<&Agency>, status_notes: &str) -> Value {
    let closed = matches!(ticket.state, TicketState::Resolved | TicketState::Rejected);
    json!({
        "service_request_id": ticket.number,
        "status": if closed { "closed" } else { "open" },
        "status_notes": status_notes,
        "service_name": agency.map(|a| a.short_name.clone()).unwrap_or_else(|| ticket.agency.clone()),
        "service_code": ticket.category,
        "description": ticket.text,
        "agency_responsible": agency.map(|a| a.name.clone()).unwrap_or_else(|| ticket.agency.clone()),
        "service_notice": ticket.state.label(),
        "requested_datetime": crate::store::rfc3339(ticket.created_at),
        "updated_datetime": crate::store::rfc3339(ticket.updated_at),
        "expected_datetime": crate::store::rfc3339(ticket.due_resolve),
        "address": ticket.location,
        "address_id": null,
        "zipcode": null,
        "lat": null,
        "long": null,
        "media_url": ticket.photos.first(),
    })
}

/// The ticket as the agency reads it in Telegram (HTML, every outside string escaped).
pub fn agency_html(ticket: &Ticket, agency: &Agency) -> String {
    use crate::channels::telegram::escape;
    let photos = if ticket.photos.is_empty() {
        String::new()
    } else {
        format!("\nFoto: {}", escape(&ticket.photos.join(" ")))
    };
    format!(
        "📋 <b>Laporan {number}</b> · {agency}\nStatus: <b>{state}</b>\n\n<i>{text}</i>\n\n\
         Lokasi: {location}{photos}\nPelapor: @{reporter} · https://x.com/{reporter}/status/{tweet}\n\
         Batas diterima: {ack} · batas selesai: {resolve}",
        number = escape(&ticket.number),
        agency = escape(&agency.short_name),
        state = ticket.state.label(),
        text = escape(&ticket.text),
        location = escape(ticket.location.as_deref().unwrap_or("-")),
        reporter = escape(&ticket.reporter),
        tweet = escape(&ticket.tweet_id),
        ack = wib_day(ticket.due_acknowledge),
        resolve = wib_day(ticket.due_resolve),
    )
}

/// The buttons of the states a ticket may move to next: (label, callback data).
pub fn next_choices(ticket: &Ticket) -> Vec<(String, String)> {
    ticket
        .state
        .next()
        .iter()
        .map(|&to| {
            let button = StateButton {
                number: ticket.number.clone(),
                to,
            };
            (to.label().to_owned(), button.data())
        })
        .collect()
}

/// A ticket's state button, as Telegram callback data or a WhatsApp reply id:
/// `t:<number>:<state>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateButton {
    pub number: String,
    pub to: TicketState,
}

impl StateButton {
    /// The callback data.
    pub fn data(&self) -> String {
        format!("t:{}:{}", self.number, self.to.as_str())
    }

    /// Reads callback data; None when it is not a ticket button or names no known state.
    pub fn parse(data: &str) -> Option<StateButton> {
        let rest = data.strip_prefix("t:")?;
        let (number, state) = rest.rsplit_once(':')?;
        Some(StateButton {
            number: number.to_owned(),
            to: TicketState::parse(state)?,
        })
    }

    /// Whether callback data is meant as a ticket button (known state or not).
    pub fn is_ticket(data: &str) -> bool {
        data.starts_with("t:")
    }
}

/// The ticket as the agency reads it on WhatsApp (plain text; states it may move to follow).
pub fn agency_plain(ticket: &Ticket, agency: &Agency) -> String {
    let next: Vec<&str> = ticket.state.next().iter().map(|s| s.label()).collect();
    let steps = if next.is_empty() {
        String::new()
    } else {
        format!(
            "\n\nBalas dengan tombol atau ketik: {}.",
            next.iter()
                .map(|s| s.to_lowercase())
                .collect::<Vec<_>>()
                .join(" / ")
        )
    };
    truncate_chars(
        &format!(
            "Laporan {} ({})\nStatus: {}\n\n{}\n\nLokasi: {}\nPelapor: @{} https://x.com/{}/status/{}\nBatas diterima {} · selesai {}{steps}",
            ticket.number,
            agency.short_name,
            ticket.state.label(),
            ticket.text,
            ticket.location.as_deref().unwrap_or("-"),
            ticket.reporter,
            ticket.reporter,
            ticket.tweet_id,
            wib_day(ticket.due_acknowledge),
            wib_day(ticket.due_resolve),
        ),
        1000,
    )
}

pub(super) fn truncate_chars(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{cut}…")
}

/// A deadline as people read it: "24-11-2026".
pub(super) fn wib_day(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(ms / 1000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .to_offset(sla::WIB);
    format!("{:02}-{:02}-{}", t.day(), u8::from(t.month()), t.year())
}

/// The tweet the citizen gets for the ticket's current state.
pub fn citizen_text(ticket: &Ticket, agency: &Agency) -> String {
    let (n, a) = (&ticket.number, &agency.short_name);
    match ticket.state {
        TicketState::Open => format!(
            "Laporan kakak sudah kami teruskan ke {a} dengan nomor {n}. Kabar berikutnya kami sampaikan di utas ini. Cek status kapan saja: \"cek laporan {n}\"."
        ),
        TicketState::Acknowledged => {
            format!("Laporan {n} sudah diterima {a} dan akan ditindaklanjuti.")
        }
        TicketState::InProgress => format!("Laporan {n} sedang dikerjakan oleh {a}."),
        TicketState::Resolved => format!(
            "Laporan {n} sudah selesai ditangani {a}. Terima kasih sudah melapor. Kalau masalahnya belum beres, balas utas ini ya."
        ),
        TicketState::Rejected => format!(
            "Laporan {n} ternyata bukan wewenang {a}. Petugas kami sedang meneruskannya ke pihak yang tepat."
        ),
    }
}

/// The status reply for "cek laporan NUMBER".
pub fn status_text(ticket: &Ticket, agency: &Agency) -> String {
    format!(
        "Laporan {} ({}): status {}. Batas selesai {}.",
        ticket.number,
        agency.short_name,
        ticket.state.label().to_lowercase(),
        wib_day(ticket.due_resolve)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_buttons_round_trip_and_refuse_unknown_states() {
        let button = StateButton {
            number: "MLG-2026-000001".into(),
            to: TicketState::InProgress,
        };
        assert_eq!(button.data(), "t:MLG-2026-000001:in_progress");
        assert_eq!(StateButton::parse(&button.data()), Some(button));
        assert_eq!(StateButton::parse("t:MLG-2026-000001:flying"), None);
        assert!(StateButton::is_ticket("t:MLG-2026-000001:flying"));
        assert!(!StateButton::is_ticket("claim:c1"));
    }
}
