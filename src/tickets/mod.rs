/*!
Complaints to agencies: tickets, their states and history, what goes out at each step, and their
deadlines.

A ticket is filed in the transaction that records the complaint's decision: it gets a number
readable aloud (`MLG-2026-000123`), its deadlines (working days, [`sla`]), and two outbox rows:
the ticket to the agency's chat and the number to the citizen. Each state change (DESIGN.md,
"States") is one transaction: the conditional update, the history line, the audit entry, exactly
one tweet in the citizen's thread, and the agency's message edited to show the state and the
buttons that may follow.
*/

pub mod location;
pub mod sla;
pub mod whatsapp;

use serde_json::{Value, json};
use sqlx::Row;

use crate::config::{Agency, Config};
use crate::store::{NewOutbox, Store, StoreError, now_ms};

/// A ticket's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketState {
    Open,
    Acknowledged,
    InProgress,
    Resolved,
    Rejected,
}

impl TicketState {
    pub const ALL: [TicketState; 5] = [
        TicketState::Open,
        TicketState::Acknowledged,
        TicketState::InProgress,
        TicketState::Resolved,
        TicketState::Rejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TicketState::Open => "open",
            TicketState::Acknowledged => "acknowledged",
            TicketState::InProgress => "in_progress",
            TicketState::Resolved => "resolved",
            TicketState::Rejected => "rejected",
        }
    }

    pub fn parse(text: &str) -> Option<TicketState> {
        TicketState::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// The button and the word people read.
    pub fn label(self) -> &'static str {
        match self {
            TicketState::Open => "Baru",
            TicketState::Acknowledged => "Diterima",
            TicketState::InProgress => "Diproses",
            TicketState::Resolved => "Selesai",
            TicketState::Rejected => "Bukan wewenang",
        }
    }

    /// Where an agency may move a ticket from here (DESIGN.md: from open to any later state;
    /// from acknowledged to in progress, resolved or rejected; from in progress to resolved or
    /// rejected). Staff may also reopen a resolved ticket.
    pub fn next(self) -> &'static [TicketState] {
        use TicketState::*;
        match self {
            Open => &[Acknowledged, InProgress, Resolved, Rejected],
            Acknowledged => &[InProgress, Resolved, Rejected],
            InProgress => &[Resolved, Rejected],
            Resolved | Rejected => &[],
        }
    }

    /// Whether `self -> to` is allowed; `staff` adds reopening a resolved ticket.
    pub fn may_move(self, to: TicketState, staff: bool) -> bool {
        self.next().contains(&to)
            || (staff && self == TicketState::Resolved && to == TicketState::InProgress)
    }
}

/// Why a ticket operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum TicketError {
    #[error("laporan {0} tidak ditemukan")]
    NotFound(String),
    #[error("laporan {number} sudah berstatus {from}; tidak bisa menjadi {to}")]
    NotAllowed {
        number: String,
        from: &'static str,
        to: &'static str,
    },
    #[error("kabar {0} tidak ditemukan")]
    NoteNotFound(i64),
    #[error("kabar {0} sudah diputuskan sebelumnya")]
    NoteDecided(i64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for TicketError {
    fn from(e: sqlx::Error) -> Self {
        TicketError::Store(StoreError::Database(e))
    }
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
        "requested_datetime": crate::desk::rfc3339(ticket.created_at),
        "updated_datetime": crate::desk::rfc3339(ticket.updated_at),
        "expected_datetime": crate::desk::rfc3339(ticket.due_resolve),
        "address": ticket.location,
        "address_id": null,
        "zipcode": null,
        "lat": null,
        "long": null,
        "media_url": ticket.photos.first(),
    })
}

/// A ticket as the API shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Ticket {
    pub number: String,
    pub agency: String,
    pub category: String,
    pub state: TicketState,
    pub text: String,
    pub location: Option<String>,
    pub photos: Vec<String>,
    pub reporter: String,
    pub tweet_id: String,
    pub conversation_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub due_acknowledge: i64,
    pub due_resolve: i64,
    pub overdue: bool,
    pub delivery: Value,
}

impl Ticket {
    pub fn to_json(&self) -> Value {
        json!({
            "number": self.number,
            "agency": self.agency,
            "state": self.state.as_str(),
            "category": self.category,
            "text": self.text,
            "location": self.location,
            "photos": self.photos,
            "reporter": self.reporter,
            "tweet_id": self.tweet_id,
            "created_at": crate::desk::rfc3339(self.created_at),
            "updated_at": crate::desk::rfc3339(self.updated_at),
            "due": {
                "acknowledge": crate::desk::rfc3339(self.due_acknowledge),
                "resolve": crate::desk::rfc3339(self.due_resolve),
            },
            "overdue": self.overdue,
            "delivery": self.delivery,
        })
    }
}

const COLUMNS: &str = "number, agency, category, state, text, location, photos, reporter, \
                       tweet_id, conversation_id, created_at, updated_at, due_acknowledge, \
                       due_resolve, overdue, delivery";

fn ticket_from_row(r: &sqlx::any::AnyRow) -> Ticket {
    let state: String = r.get(3);
    let photos: String = r.get(6);
    let delivery: Option<String> = r.get(15);
    Ticket {
        number: r.get(0),
        agency: r.get(1),
        category: r.get(2),
        state: TicketState::parse(&state).unwrap_or(TicketState::Open),
        text: r.get(4),
        location: r.get(5),
        photos: serde_json::from_str(&photos).unwrap_or_default(),
        reporter: r.get(7),
        tweet_id: r.get(8),
        conversation_id: r.get(9),
        created_at: r.get(10),
        updated_at: r.get(11),
        due_acknowledge: r.get(12),
        due_resolve: r.get(13),
        overdue: r.get::<i64, _>(14) != 0,
        delivery: delivery
            .and_then(|d| serde_json::from_str(&d).ok())
            .unwrap_or(Value::Null),
    }
}

/// What one pass of the deadline clocks did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SlaPass {
    /// Tickets whose agency was reminded.
    pub reminded: Vec<String>,
    /// Tickets found past a deadline and put before staff.
    pub overdue: Vec<String>,
    /// Tickets unacknowledged for `[sla] warning_letter_days`, marked for a warning letter.
    pub warning_letters: Vec<String>,
}

/// Who moves a ticket: an agency member (`staff: false`) or a staff member, with a note.
#[derive(Debug, Clone, Copy)]
pub struct Mover<'a> {
    pub name: &'a str,
    pub staff: bool,
    pub note: &'a str,
}

/// A complaint ready to become a ticket.
#[derive(Debug, Clone)]
pub struct NewTicket {
    pub agency: String,
    pub category: String,
    /// The citizen's words (personal data is cut out here).
    pub text: String,
    pub location: Option<String>,
    pub photos: Vec<String>,
    pub reporter: String,
    pub reporter_id: String,
    pub tweet_id: String,
    pub conversation_id: Option<String>,
}

/// The ticket desk: the configuration it needs (agencies, deadlines) over the store.
#[derive(Clone, Debug)]
pub struct Tickets {
    pub config: std::sync::Arc<Config>,
    pub calendar: sla::Calendar,
    pub gazetteer: std::sync::Arc<location::Gazetteer>,
}

impl Tickets {
    /// Reads the calendar and the gazetteer (`knowledge/gazetteer.tsv`, beside the entries).
    pub fn load(config: std::sync::Arc<Config>) -> anyhow::Result<Tickets> {
        use anyhow::Context as _;
        let mut days = Vec::new();
        for text in &config.sla.holidays {
            let format = time::macros::format_description!("[year]-[month]-[day]");
            let day = time::Date::parse(text, format)
                .with_context(|| format!("[sla] holidays: {text:?} is not YYYY-MM-DD"))?;
            days.push(day);
        }
        let path = config.knowledge.dir.join("gazetteer.tsv");
        let gazetteer = location::Gazetteer::load(&path)?;
        Ok(Tickets {
            calendar: sla::Calendar::new(days),
            gazetteer: std::sync::Arc::new(gazetteer),
            config,
        })
    }

    pub fn agency(&self, id: &str) -> Option<&Agency> {
        self.config.agencies.iter().find(|a| a.id == id)
    }

    fn resolve_days(&self, agency: &Agency, category: &str) -> u32 {
        self.config
            .sla
            .category_resolve_days
            .get(category)
            .copied()
            .or(agency.resolve_days)
            .unwrap_or(self.config.sla.resolve_days)
    }

    /// Files a ticket inside `tx`: number, deadlines, history, audit, the agency's message and
    /// the citizen's tweet. Returns the ticket and the tweet text (already queued).
    pub async fn file(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        new: &NewTicket,
        now: i64,
    ) -> Result<Ticket, TicketError> {
        let agency = self
            .agency(&new.agency)
            .ok_or_else(|| TicketError::NotFound(new.agency.clone()))?
            .clone();
        let year = time::OffsetDateTime::from_unix_timestamp(now / 1000)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
            .to_offset(sla::WIB)
            .year();
        sqlx::query(
            "INSERT INTO ticket_numbers (year, last) VALUES ($1, 0) ON CONFLICT (year) DO NOTHING",
        )
        .bind(i64::from(year))
        .execute(&mut **tx)
        .await?;
        let seq: i64 =
            sqlx::query("UPDATE ticket_numbers SET last = last + 1 WHERE year = $1 RETURNING last")
                .bind(i64::from(year))
                .fetch_one(&mut **tx)
                .await?
                .get(0);
        let number = format!("MLG-{year}-{seq:06}");
        let ack_days = agency
            .acknowledge_days
            .unwrap_or(self.config.sla.acknowledge_days);
        let due_acknowledge = self.calendar.due(now, ack_days);
        let due_resolve = self
            .calendar
            .due(now, self.resolve_days(&agency, &new.category));
        let text = crate::language::pii::redact(&new.text);
        sqlx::query(
            "INSERT INTO tickets (number, agency, category, state, text, location, photos, reporter, \
             reporter_id, tweet_id, conversation_id, created_at, updated_at, due_acknowledge, \
             due_resolve) VALUES ($1, $2, $3, 'open', $4, $5, $6, $7, $8, $9, $10, $11, $11, $12, $13)",
        )
        .bind(&number)
        .bind(&agency.id)
        .bind(&new.category)
        .bind(&text)
        .bind(&new.location)
        .bind(json!(new.photos).to_string())
        .bind(&new.reporter)
        .bind(&new.reporter_id)
        .bind(&new.tweet_id)
        .bind(&new.conversation_id)
        .bind(now)
        .bind(due_acknowledge)
        .bind(due_resolve)
        .execute(&mut **tx)
        .await?;
        let history_id = history(tx, &number, TicketState::Open, "bot", "", now).await?;
        audit(
            tx,
            "bot",
            "ticket_open",
            &number,
            json!({"agency": agency.id}),
            now,
        )
        .await?;
        let ticket = Ticket {
            number: number.clone(),
            agency: agency.id.clone(),
            category: new.category.clone(),
            state: TicketState::Open,
            text,
            location: new.location.clone(),
            photos: new.photos.clone(),
            reporter: new.reporter.clone(),
            tweet_id: new.tweet_id.clone(),
            conversation_id: new.conversation_id.clone(),
            created_at: now,
            updated_at: now,
            due_acknowledge,
            due_resolve,
            overdue: false,
            delivery: Value::Null,
        };
        self.queue_agency_message(tx, &ticket, &agency, AgencyMessage::First, now)
            .await?;
        queue_citizen_tweet(
            tx,
            &ticket,
            &citizen_text(&ticket, &agency),
            history_id,
            Speaker::Bot,
            now,
        )
        .await?;
        Ok(ticket)
    }

    /// Moves a ticket to `to`, by `by` (an agency member or staff), with an optional note.
    /// Staff reopening a resolved ticket (to in progress) give it a fresh resolution deadline
    /// and send the agency a new message with their note.
    pub async fn transition(
        &self,
        store: &Store,
        number: &str,
        to: TicketState,
        by: &Mover<'_>,
    ) -> Result<Ticket, TicketError> {
        let (staff, note) = (by.staff, by.note);
        let by = by.name;
        let now = now_ms();
        let mut tx = store.pool().begin().await?;
        lock_ticket(&mut tx, number).await?;
        let current = self.get_in(&mut tx, number).await?;
        if !current.state.may_move(to, staff) {
            tx.rollback().await?;
            return Err(TicketError::NotAllowed {
                number: number.to_owned(),
                from: current.state.label(),
                to: to.label(),
            });
        }
        let done = sqlx::query(
            "UPDATE tickets SET state = $1, updated_at = $2 WHERE number = $3 AND state = $4",
        )
        .bind(to.as_str())
        .bind(now)
        .bind(number)
        .bind(current.state.as_str())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            // Someone moved it first (two presses at once): report the state it is in now.
            tx.rollback().await?;
            let now_state = self.get(store, number).await?.state;
            return Err(TicketError::NotAllowed {
                number: number.to_owned(),
                from: now_state.label(),
                to: to.label(),
            });
        }
        let agency = self.agency(&current.agency).cloned();
        let reopen = current.state == TicketState::Resolved;
        let mut ticket = current.clone();
        if reopen {
            let days = agency
                .as_ref()
                .map(|a| self.resolve_days(a, &ticket.category))
                .unwrap_or(self.config.sla.resolve_days);
            ticket.due_resolve = self.calendar.due(now, days);
            ticket.overdue = false;
            sqlx::query(
                "UPDATE tickets SET due_resolve = $1, reminded_resolve = 0, overdue = 0, \
                 assigned_at = $2 WHERE number = $3",
            )
            .bind(ticket.due_resolve)
            .bind(now)
            .bind(number)
            .execute(&mut *tx)
            .await?;
        }
        let history_id = history(&mut tx, number, to, by, note, now).await?;
        audit(
            &mut tx,
            by,
            "ticket_state",
            number,
            json!({"from": current.state.as_str(), "to": to.as_str(), "note": note}),
            now,
        )
        .await?;
        ticket.state = to;
        ticket.updated_at = now;
        if let Some(agency) = &agency {
            let (text, message) = if reopen {
                (
                    format!(
                        "Laporan {} kami buka kembali dan sudah kami teruskan lagi ke {}. Kabar berikutnya kami sampaikan di utas ini.",
                        ticket.number, agency.short_name
                    ),
                    AgencyMessage::Again(history_id, Some(note)),
                )
            } else {
                (
                    citizen_text(&ticket, agency),
                    AgencyMessage::Update(history_id),
                )
            };
            let speaker = if staff {
                Speaker::Staff
            } else {
                Speaker::Agency
            };
            queue_citizen_tweet(&mut tx, &ticket, &text, history_id, speaker, now).await?;
            self.queue_agency_message(&mut tx, &ticket, agency, message, now)
                .await?;
        }
        if to == TicketState::Rejected
            && let Some(conversation) = &ticket.conversation_id
        {
            // Back to staff, to choose another agency or tell the citizen who is responsible.
            put_before_staff(
                &mut tx,
                conversation,
                "ticket_rejected",
                by,
                &json!({"ticket": number, "rule": "ticket_rejected"}),
                now,
            )
            .await?;
        }
        tx.commit().await?;
        tracing::info!(ticket = %number, to = to.as_str(), "ticket moved");
        Ok(ticket)
    }

    /// Sends a rejected ticket to another agency (staff's choice): open again there, with new
    /// deadlines, a new message to that agency, and one tweet telling the citizen.
    pub async fn reroute(
        &self,
        store: &Store,
        number: &str,
        agency_id: &str,
        by: &str,
    ) -> Result<Ticket, TicketError> {
        let agency = self
            .agency(agency_id)
            .filter(|a| a.tickets)
            .cloned()
            .ok_or_else(|| TicketError::NotFound(agency_id.to_owned()))?;
        let now = now_ms();
        let mut tx = store.pool().begin().await?;
        lock_ticket(&mut tx, number).await?;
        let current = self.get_in(&mut tx, number).await?;
        let due_acknowledge = self.calendar.due(
            now,
            agency
                .acknowledge_days
                .unwrap_or(self.config.sla.acknowledge_days),
        );
        let due_resolve = self
            .calendar
            .due(now, self.resolve_days(&agency, &current.category));
        let done = sqlx::query(
            "UPDATE tickets SET state = 'open', agency = $1, updated_at = $2, due_acknowledge = $3, \
             due_resolve = $4, reminded_acknowledge = 0, reminded_resolve = 0, overdue = 0, \
             warning_letter = 0, assigned_at = $2, delivery = NULL \
             WHERE number = $5 AND state = 'rejected'",
        )
        .bind(&agency.id)
        .bind(now)
        .bind(due_acknowledge)
        .bind(due_resolve)
        .bind(number)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            return Err(TicketError::NotAllowed {
                number: number.to_owned(),
                from: current.state.label(),
                to: TicketState::Open.label(),
            });
        }
        let note = format!("dialihkan ke {}", agency.short_name);
        let history_id = history(&mut tx, number, TicketState::Open, by, &note, now).await?;
        audit(
            &mut tx,
            by,
            "ticket_reroute",
            number,
            json!({"from": current.agency, "to": agency.id}),
            now,
        )
        .await?;
        let mut ticket = current;
        ticket.state = TicketState::Open;
        ticket.agency = agency.id.clone();
        ticket.updated_at = now;
        ticket.due_acknowledge = due_acknowledge;
        ticket.due_resolve = due_resolve;
        ticket.overdue = false;
        ticket.delivery = Value::Null;
        self.queue_agency_message(
            &mut tx,
            &ticket,
            &agency,
            AgencyMessage::Again(history_id, None),
            now,
        )
        .await?;
        let text = format!(
            "Laporan {} kami alihkan ke {} yang berwenang. Kabar berikutnya kami sampaikan di utas ini.",
            ticket.number, agency.short_name
        );
        queue_citizen_tweet(&mut tx, &ticket, &text, history_id, Speaker::Staff, now).await?;
        tx.commit().await?;
        tracing::info!(ticket = %number, agency = %agency.id, "ticket rerouted");
        Ok(ticket)
    }

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
        let mut tx = store.pool().begin().await?;
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
        event(
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
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
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

    /// The latest ticket `reporter_id` filed from the X thread `x_conversation`, if any.
    pub async fn in_thread(
        &self,
        store: &Store,
        x_conversation: &str,
        reporter_id: &str,
    ) -> Result<Option<Ticket>, TicketError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM tickets WHERE reporter_id = $1 AND tweet_id IN \
             (SELECT tweet_id FROM inbox WHERE conversation_id = $2) \
             ORDER BY created_at DESC LIMIT 1"
        ))
        .bind(reporter_id)
        .bind(x_conversation)
        .fetch_optional(store.pool())
        .await?;
        Ok(row.as_ref().map(ticket_from_row))
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
        let mut tx = store.pool().begin().await?;
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

    async fn get_in(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        number: &str,
    ) -> Result<Ticket, TicketError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM tickets WHERE number = $1"))
            .bind(number)
            .fetch_optional(&mut **tx)
            .await?;
        row.as_ref()
            .map(ticket_from_row)
            .ok_or_else(|| TicketError::NotFound(number.to_owned()))
    }

    /// One ticket.
    pub async fn get(&self, store: &Store, number: &str) -> Result<Ticket, TicketError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM tickets WHERE number = $1"))
            .bind(number)
            .fetch_optional(store.pool())
            .await?;
        row.as_ref()
            .map(ticket_from_row)
            .ok_or_else(|| TicketError::NotFound(number.to_owned()))
    }

    /// Tickets by agency and state ("open" also matches every state not yet closed when
    /// `state` is `"active"`), overdue first, then oldest.
    pub async fn list(
        &self,
        store: &Store,
        agency: Option<&str>,
        state: Option<&str>,
    ) -> Result<Vec<Ticket>, TicketError> {
        let mut sql = format!("SELECT {COLUMNS} FROM tickets WHERE 1 = 1");
        let mut binds = Vec::new();
        if let Some(agency) = agency {
            binds.push(agency.to_owned());
            sql.push_str(&format!(" AND agency = ${}", binds.len()));
        }
        match state {
            Some("active") => sql.push_str(" AND state IN ('open', 'acknowledged', 'in_progress')"),
            Some(state) => {
                binds.push(state.to_owned());
                sql.push_str(&format!(" AND state = ${}", binds.len()));
            }
            None => {}
        }
        sql.push_str(" ORDER BY overdue DESC, created_at ASC LIMIT 500");
        let mut query = sqlx::query(&sql);
        for b in &binds {
            query = query.bind(b);
        }
        let rows = query.fetch_all(store.pool()).await?;
        Ok(rows.iter().map(ticket_from_row).collect())
    }

    /// A ticket's history, oldest first: (at, state, by, note).
    pub async fn history(
        &self,
        store: &Store,
        number: &str,
    ) -> Result<Vec<(i64, String, String, String)>, TicketError> {
        let rows = sqlx::query(
            "SELECT at, state, by_actor, note FROM ticket_history WHERE number = $1 ORDER BY id",
        )
        .bind(number)
        .fetch_all(store.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
            .collect())
    }

    /// One pass of the deadline clocks at `now` (a parameter, so tests control the clock):
    /// reminds agencies when `[sla] remind_at` of a deadline has passed, and flags tickets past
    /// a deadline, putting their conversation before staff. Each happens once per ticket.
    pub async fn sla_tick(&self, store: &Store, now: i64) -> Result<SlaPass, TicketError> {
        let share = self.config.sla.remind_at;
        let mut pass = SlaPass::default();
        let active = sqlx::query(&format!(
            "SELECT {COLUMNS}, reminded_acknowledge, reminded_resolve, warning_letter, \
             COALESCE(assigned_at, created_at) FROM tickets \
             WHERE state IN ('open', 'acknowledged', 'in_progress') \
             AND (reminded_acknowledge = 0 OR reminded_resolve = 0 OR overdue = 0 \
             OR warning_letter = 0)"
        ))
        .fetch_all(store.pool())
        .await?;
        for row in &active {
            let ticket = ticket_from_row(row);
            let reminded_ack = row.get::<i64, _>(16) != 0;
            let reminded_resolve = row.get::<i64, _>(17) != 0;
            let warned = row.get::<i64, _>(18) != 0;
            // The clocks start at filing, or at the latest reroute or reopening.
            let started = row.get::<i64, _>(19);
            let Some(agency) = self.agency(&ticket.agency).cloned() else {
                continue;
            };
            let waiting_ack = ticket.state == TicketState::Open;
            let remind = if waiting_ack
                && !reminded_ack
                && now >= sla::Calendar::remind_at(started, ticket.due_acknowledge, share)
            {
                Some(("reminded_acknowledge", "diterima", ticket.due_acknowledge))
            } else if !reminded_resolve
                && now >= sla::Calendar::remind_at(started, ticket.due_resolve, share)
            {
                Some(("reminded_resolve", "selesai", ticket.due_resolve))
            } else {
                None
            };
            if let Some((column, what, due)) = remind {
                let mut tx = store.pool().begin().await?;
                let done = sqlx::query(&format!(
                    "UPDATE tickets SET {column} = 1 WHERE number = $1 AND {column} = 0"
                ))
                .bind(&ticket.number)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 1 {
                    if let Some(to) = &agency.whatsapp {
                        let reminder = format!(
                            "PENGINGAT: laporan {} belum {what}. Batas: {}.",
                            ticket.number,
                            wib_day(due)
                        );
                        let choices = next_choices(&ticket);
                        crate::store::insert_outbox(
                            &mut tx,
                            &NewOutbox {
                                channel: "whatsapp".into(),
                                payload: json!({
                                    "to": to,
                                    "ticket": ticket.number,
                                    "text": reminder,
                                    "choices": choices,
                                    "template_params": [ticket.number, reminder, ticket.location.clone().unwrap_or_else(|| "-".into())],
                                    "first": false,
                                })
                                .to_string(),
                                priority: 10,
                                // Per agency and deadline: a rerouted or reopened ticket has new ones.
                                idempotency_key: format!(
                                    "wa:ticket:{}:{column}:{}:{due}",
                                    ticket.number, agency.id
                                ),
                            },
                            now,
                        )
                        .await?;
                    }
                    if let Some(chat) = agency.telegram_chat_id {
                        let html = format!(
                            "⏰ <b>Pengingat</b>: laporan {} belum {what}. Batas: {}.",
                            crate::channels::telegram::escape(&ticket.number),
                            wib_day(due)
                        );
                        crate::store::insert_outbox(
                            &mut tx,
                            &NewOutbox {
                                channel: "telegram".into(),
                                payload: json!({"chat_id": chat, "text": html, "buttons": []})
                                    .to_string(),
                                priority: 10,
                                idempotency_key: format!(
                                    "tg:ticket:{}:{column}:{}:{due}",
                                    ticket.number, agency.id
                                ),
                            },
                            now,
                        )
                        .await?;
                    }
                    audit(
                        &mut tx,
                        "sla",
                        "ticket_reminder",
                        &ticket.number,
                        json!({"before": what}),
                        now,
                    )
                    .await?;
                    pass.reminded.push(ticket.number.clone());
                }
                tx.commit().await?;
            }
            let warning_due = waiting_ack
                && !warned
                && self.calendar.working_days_between(started, now)
                    >= i64::from(self.config.sla.warning_letter_days);
            if warning_due
                && self
                    .flag_for_staff(
                        store,
                        &ticket,
                        "warning_letter",
                        "ticket_warning_letter",
                        now,
                    )
                    .await?
            {
                pass.warning_letters.push(ticket.number.clone());
            }
            let late = (waiting_ack && now > ticket.due_acknowledge) || now > ticket.due_resolve;
            if late
                && !ticket.overdue
                && self
                    .flag_for_staff(store, &ticket, "overdue", "ticket_overdue", now)
                    .await?
            {
                pass.overdue.push(ticket.number.clone());
            }
        }
        Ok(pass)
    }

    /// Sets the ticket's `flag` column once and puts its conversation before staff for
    /// `reason` (also the event and audit action). Returns whether this call set it.
    async fn flag_for_staff(
        &self,
        store: &Store,
        ticket: &Ticket,
        flag: &str,
        reason: &str,
        now: i64,
    ) -> Result<bool, TicketError> {
        let mut tx = store.pool().begin().await?;
        let done = sqlx::query(&format!(
            "UPDATE tickets SET {flag} = 1 WHERE number = $1 AND {flag} = 0"
        ))
        .bind(&ticket.number)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        let detail = json!({"ticket": ticket.number, "agency": ticket.agency});
        if let Some(conversation) = &ticket.conversation_id {
            put_before_staff(&mut tx, conversation, reason, "sla", &detail, now).await?;
        }
        audit(&mut tx, "sla", reason, &ticket.number, detail, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The agency's message: new (a fresh ticket) or an edit of the first one (a state change),
    /// with the buttons of the states that may follow.
    async fn queue_agency_message(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        ticket: &Ticket,
        agency: &Agency,
        message: AgencyMessage<'_>,
        now: i64,
    ) -> Result<(), TicketError> {
        let (suffix, lead) = match message {
            AgencyMessage::First => ("new".to_owned(), None),
            AgencyMessage::Update(id) => (id.to_string(), None),
            AgencyMessage::Again(id, lead) => (format!("new:{id}"), lead),
        };
        let first = !matches!(message, AgencyMessage::Update(_));
        let lead = lead.map(|note| {
            if note.is_empty() {
                "Dibuka kembali oleh petugas.".to_owned()
            } else {
                format!("Dibuka kembali oleh petugas: {note}")
            }
        });
        let (channel, payload) = if let Some(to) = &agency.whatsapp {
            let text = agency_plain(ticket, agency);
            let payload = json!({
                "to": to,
                "ticket": ticket.number,
                "text": match &lead {
                    Some(lead) => truncate_chars(&format!("{lead}\n\n{text}"), 1000),
                    None => text,
                },
                "choices": next_choices(ticket),
                "template_params": [
                    ticket.number,
                    truncate_chars(&ticket.text, 300),
                    ticket.location.clone().unwrap_or_else(|| "-".into()),
                ],
                "first": first,
            });
            ("whatsapp", payload)
        } else if let Some(chat) = agency.telegram_chat_id {
            let html = agency_html(ticket, agency);
            let payload = json!({
                "chat_id": chat,
                "text": match &lead {
                    Some(lead) => format!("🔁 <b>{}</b>\n\n{html}", crate::channels::telegram::escape(lead)),
                    None => html,
                },
                "buttons": next_choices(ticket),
                "ticket": ticket.number,
                "edit": !first,
            });
            ("telegram", payload)
        } else {
            return Ok(());
        };
        let prefix = if channel == "whatsapp" { "wa" } else { "tg" };
        crate::store::insert_outbox(
            tx,
            &NewOutbox {
                channel: channel.into(),
                payload: payload.to_string(),
                priority: 10,
                idempotency_key: format!("{prefix}:ticket:{}:{suffix}", ticket.number),
            },
            now,
        )
        .await?;
        Ok(())
    }
}

/// How a ticket's message reaches its agency.
enum AgencyMessage<'a> {
    /// The first message about the ticket: it becomes the ticket's delivery.
    First,
    /// A state change (history id): Telegram edits the first message, WhatsApp sends anew.
    Update(i64),
    /// A new first message (rerouted, or reopened with staff's note as its lead line).
    Again(i64, Option<&'a str>),
}

/// Who causes a tweet to the citizen: a status tweet caused by the agency (or the bot) waits
/// while a person holds the citizen's conversation; staff's own actions go out at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Speaker {
    Bot,
    Agency,
    Staff,
}

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

/// The buttons of the states a ticket may move to next: (label, `t:<number>:<state>`).
pub fn next_choices(ticket: &Ticket) -> Vec<(String, String)> {
    ticket
        .state
        .next()
        .iter()
        .map(|s| {
            (
                s.label().to_owned(),
                format!("t:{}:{}", ticket.number, s.as_str()),
            )
        })
        .collect()
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

fn truncate_chars(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{cut}…")
}

/// A deadline as people read it: "24-11-2026".
fn wib_day(ms: i64) -> String {
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

async fn queue_citizen_tweet(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    ticket: &Ticket,
    text: &str,
    history_id: i64,
    speaker: Speaker,
    now: i64,
) -> Result<(), TicketError> {
    // A citizen who wrote "stop" gets no automatic tweet; the history keeps the news, and staff
    // may still write to them.
    if speaker != Speaker::Staff {
        let opted_out = sqlx::query(
            "SELECT 1 FROM opt_outs o JOIN tickets t ON t.reporter_id = o.user_id \
             WHERE t.number = $1",
        )
        .bind(&ticket.number)
        .fetch_optional(&mut **tx)
        .await?
        .is_some();
        if opted_out {
            return Ok(());
        }
    }
    // No automatic tweet while a person talks with the citizen: the agency's news waits for
    // the conversation to be released or closed (the holder sees it in the console).
    let held_by_person = match (&ticket.conversation_id, speaker) {
        (Some(conversation), Speaker::Bot | Speaker::Agency) => {
            sqlx::query("SELECT id FROM conversations WHERE id = $1 AND state = 'staff'")
                .bind(conversation)
                .fetch_optional(&mut **tx)
                .await?
                .map(|_| conversation.clone())
        }
        _ => None,
    };
    let parts = crate::tweet::thread(&ticket.reporter, text);
    let key = |n: usize| format!("x:ticket:{}:{history_id}:{n}", ticket.number);
    for (i, part) in parts.iter().enumerate() {
        let payload = json!({
            "text": part,
            "in_reply_to": if i == 0 { Some(ticket.tweet_id.clone()) } else { None },
            "after": if i == 0 { None } else { Some(key(i)) },
            "ticket": ticket.number,
        });
        crate::store::insert_outbox(
            tx,
            &NewOutbox {
                channel: "x".into(),
                payload: payload.to_string(),
                priority: 20,
                idempotency_key: key(i + 1),
            },
            now,
        )
        .await?;
        if let Some(conversation) = &held_by_person {
            if i == 0 {
                event(
                    tx,
                    "ticket_update_held",
                    Some(conversation),
                    "bot",
                    &json!({"ticket": ticket.number, "state": ticket.state.as_str(), "text": text}),
                    now,
                )
                .await?;
            }
            sqlx::query(
                "UPDATE outbox SET state = 'held', hold_for = $1 \
                 WHERE idempotency_key = $2 AND state = 'pending'",
            )
            .bind(conversation)
            .bind(key(i + 1))
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}

/// Writes before reading: on SQLite a transaction that reads first cannot take the write lock
/// once another writer committed (SQLITE_BUSY without waiting); on PostgreSQL it locks the row.
async fn lock_ticket(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    number: &str,
) -> Result<(), TicketError> {
    sqlx::query("UPDATE tickets SET updated_at = updated_at WHERE number = $1")
        .bind(number)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Puts a conversation in the staff queue for `reason` (unless a person already holds or awaits
/// it) and records the event the console and the staff group show.
async fn put_before_staff(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    conversation: &str,
    reason: &str,
    actor: &str,
    detail: &Value,
    now: i64,
) -> Result<(), TicketError> {
    sqlx::query(
        "UPDATE conversations SET state = 'waiting_staff', reason = $1, waiting_since = $2, \
         announced_at = $2, updated_at = $2 WHERE id = $3 AND state IN ('bot', 'closed')",
    )
    .bind(reason)
    .bind(now)
    .bind(conversation)
    .execute(&mut **tx)
    .await?;
    event(tx, reason, Some(conversation), actor, detail, now).await
}

/// Records an event for the console's live view and the staff group.
async fn event(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    kind: &str,
    conversation: Option<&str>,
    actor: &str,
    detail: &Value,
    now: i64,
) -> Result<(), TicketError> {
    sqlx::query(
        "INSERT INTO events (at, kind, conversation_id, actor, detail) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(now)
    .bind(kind)
    .bind(conversation)
    .bind(actor)
    .bind(detail.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn history(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    number: &str,
    state: TicketState,
    by: &str,
    note: &str,
    now: i64,
) -> Result<i64, TicketError> {
    let id: i64 = sqlx::query(
        "INSERT INTO ticket_history (number, at, state, by_actor, note) VALUES ($1, $2, $3, $4, $5) \
         RETURNING id",
    )
    .bind(number)
    .bind(now)
    .bind(state.as_str())
    .bind(by)
    .bind(note)
    .fetch_one(&mut **tx)
    .await?
    .get(0);
    Ok(id)
}

async fn audit(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    actor: &str,
    action: &str,
    number: &str,
    detail: Value,
    now: i64,
) -> Result<(), TicketError> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(now)
    .bind(actor)
    .bind(action)
    .bind(format!("ticket:{number}"))
    .bind(detail.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Finds a ticket number in a text ("cek laporan MLG-2026-000123").
pub fn number_in(text: &str) -> Option<String> {
    static PATTERN: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = PATTERN
        .get_or_init(|| regex::Regex::new(r"(?i)\bMLG-(\d{4})-(\d{6})\b").expect("valid pattern"));
    re.captures(text)
        .map(|c| format!("MLG-{}-{}", &c[1], &c[2]))
}

/// What a citizen's reply in a ticket's thread is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadReply {
    /// Asks how far the ticket got ("laporan saya sudah sampai mana?").
    AsksStatus,
    /// Says the problem is still there ("katanya selesai tapi masih berlubang"): a dispute
    /// when the ticket is resolved, a question about progress while it is not.
    NotFixed,
    /// Something else: the usual triage decides.
    Other,
}

/// Reads a citizen's reply in a ticket's thread. Lower-cased words only; personal data plays no
/// part.
pub fn thread_reply(text: &str) -> ThreadReply {
    static PATTERNS: std::sync::OnceLock<[regex::Regex; 3]> = std::sync::OnceLock::new();
    let [not_fixed, about, question] = PATTERNS.get_or_init(|| {
        let re = |p: &str| regex::Regex::new(p).expect("valid pattern");
        [
            re(r"(?i)\b(masih|tetep|tetap|msh|blm beres|belum beres|ga beres|gak beres|nggak beres|tidak beres|belum selesai|blm selesai|belum diperbaiki|blm diperbaiki|belum ada perbaikan|kambuh|rusak lagi|mati lagi|numpuk lagi)\b"),
            re(r"(?i)\b((laporan|status|progres|progress|perkembangan)\w*|sampai mana|sampe mana|sejauh mana|tindak ?lanjut|ditindak ?lanjuti|diproses|ditangani|dikerjakan|diperbaiki|dibenerin|kapan)\b"),
            re(r"(?i)(\?|\b(gimana|bagaimana|gmn|piye|kapan|apa|apakah|opo|sudah|udah|dah|sdh|belum|blm|kok)\b)"),
        ]
    });
    if not_fixed.is_match(text) {
        ThreadReply::NotFixed
    } else if about.is_match(text) && question.is_match(text) {
        ThreadReply::AsksStatus
    } else {
        ThreadReply::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_in_a_ticket_thread_are_read_as_status_questions_or_disputes() {
        use ThreadReply::*;
        for (text, expected) in [
            (
                "@PemkotMalang min laporan saya sudah sampai mana?",
                AsksStatus,
            ),
            ("@PemkotMalang gimana progresnya min", AsksStatus),
            ("@PemkotMalang kapan diperbaiki min?", AsksStatus),
            (
                "@PemkotMalang katanya selesai tapi lubangnya masih ada",
                NotFixed,
            ),
            ("@PemkotMalang belum beres min, tetep berlubang", NotFixed),
            (
                "@PemkotMalang sudah selesai? kok masih gelap lampunya",
                NotFixed,
            ),
            ("@PemkotMalang makasih min sudah cepat", Other),
            ("@PemkotMalang jalan di depan sekolah juga rusak", Other),
        ] {
            assert_eq!(thread_reply(text), expected, "{text}");
        }
    }

    #[test]
    fn the_allowed_jumps_are_designs() {
        use TicketState::*;
        assert!(Open.may_move(Resolved, false));
        assert!(Acknowledged.may_move(InProgress, false));
        assert!(!Acknowledged.may_move(Open, false));
        assert!(!InProgress.may_move(Acknowledged, false));
        assert!(!Resolved.may_move(InProgress, false));
        assert!(Resolved.may_move(InProgress, true));
        assert!(Rejected.next().is_empty());
    }

    #[test]
    fn numbers_are_found_in_any_case() {
        assert_eq!(
            number_in("min cek laporan mlg-2026-000123 dong").as_deref(),
            Some("MLG-2026-000123")
        );
        assert_eq!(number_in("MLG-26-1"), None);
    }
}
