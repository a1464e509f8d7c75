/*!
Complaints to agencies: tickets, their states and history, what goes out at each step, and their
deadlines.

A ticket is filed in the transaction that records the complaint's decision: it gets a number
readable aloud (`MLG-2026-000123`), its deadlines (working days, [`sla`]), and two outbox rows:
the ticket to the agency's chat and the number to the citizen. Each state change (DESIGN.md,
"States") is one transaction: the conditional update, the history line, the audit entry, exactly
one tweet in the citizen's thread, and the agency's message edited to show the state and the
buttons that may follow. Staff may correct a ticket's place at any time ([`place`]).
*/

mod delivery;

pub mod messages;
mod notes;
pub mod pending;
pub mod place;
pub mod privacy;
pub mod search;
pub mod sla;
pub mod telegram;
mod thread;
pub mod whatsapp;

use delivery::{AgencyMessage, Speaker, queue_citizen_tweet};
pub use messages::{
    StateButton, agency_html, agency_plain, citizen_text, next_choices, open311, status_text,
};
pub use notes::{HeldNote, NoteDecision, NoteOutcome};
pub use pending::Complaint;
pub use sla::SlaPass;
pub use thread::{ThreadReply, number_in, thread_reply};

use serde_json::{Value, json};
use sqlx::Row;

use crate::config::{Agency, Config};
use crate::desk::conversation::insert_event;
use crate::store::{Store, StoreError, Tx, now_ms};

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

    /// Whether `self -> to` is allowed: an agency along [`TicketState::next`]; staff only
    /// reopen a resolved ticket (to in progress).
    pub fn may_move(self, to: TicketState, staff: bool) -> bool {
        if staff {
            self == TicketState::Resolved && to == TicketState::InProgress
        } else {
            self.next().contains(&to)
        }
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
    /// Staff reopen only resolved tickets.
    #[error(
        "laporan {number} berstatus {from}: hanya laporan yang sudah selesai yang dapat dibuka kembali"
    )]
    NotResolved { number: String, from: &'static str },
    /// A rejected ticket is not sent back to the agency that rejected it, unless staff say so.
    #[error(
        "{agency} sudah menolak laporan {number}; pilih instansi lain (atau nyatakan dengan jelas bahwa laporan dikirim ulang ke instansi yang sama)"
    )]
    RejectedBy { number: String, agency: String },
    #[error("kabar {0} tidak ditemukan")]
    NoteNotFound(i64),
    #[error("kabar {0} sudah diputuskan sebelumnya")]
    NoteDecided(i64),
    /// A place staff wrote that cannot be one (empty, or too long).
    #[error("{0}")]
    InvalidPlace(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for TicketError {
    fn from(e: sqlx::Error) -> Self {
        TicketError::Store(StoreError::Database(e))
    }
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
            "created_at": crate::store::rfc3339(self.created_at),
            "updated_at": crate::store::rfc3339(self.updated_at),
            "due": {
                "acknowledge": crate::store::rfc3339(self.due_acknowledge),
                "resolve": crate::store::rfc3339(self.due_resolve),
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
    pub gazetteer: std::sync::Arc<crate::knowledge::places::Gazetteer>,
}

impl Tickets {
    /// Reads the calendar, the gazetteer (`knowledge/gazetteer.tsv`, beside the entries) and the
    /// lexicon the place reader needs.
    pub fn load(config: std::sync::Arc<Config>) -> anyhow::Result<Tickets> {
        use anyhow::Context as _;
        let mut days = Vec::new();
        for text in &config.sla.holidays {
            let format = time::macros::format_description!("[year]-[month]-[day]");
            let day = time::Date::parse(text, format)
                .with_context(|| format!("[sla] holidays: {text:?} is not YYYY-MM-DD"))?;
            days.push(day);
        }
        // The lexicon tells a street's name from the common words of the complaint around it.
        let lexicon = crate::language::Lexicon::load(&config.knowledge.lexicon_dir)?;
        let path = config.knowledge.dir.join("gazetteer.tsv");
        let gazetteer = crate::knowledge::places::Gazetteer::load(&path, lexicon)?;
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
        tx: &mut Tx<'_>,
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
        // A note goes to the agency and into the history: personal data never does.
        let note = crate::language::pii::redact(by.note);
        let (staff, note) = (by.staff, note.as_str());
        let by = by.name;
        let now = now_ms();
        let mut tx = store.begin().await?;
        lock_ticket(&mut tx, number).await?;
        let current = self.get_in(&mut tx, number).await?;
        if staff && !current.state.may_move(to, staff) {
            tx.rollback().await?;
            return Err(TicketError::NotResolved {
                number: number.to_owned(),
                from: current.state.label(),
            });
        }
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
        if staff
            && current.state == TicketState::Resolved
            && let Some(conversation) = &ticket.conversation_id
        {
            // Staff reopened the ticket the citizen disputed: nothing left to do in the queue.
            crate::desk::conversation::settle(&mut tx, conversation, &["ticket_disputed"], by, now)
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
    /// deadlines, a new message to that agency, and one tweet telling the citizen. Back to the
    /// agency that rejected it only when staff say so (`again`).
    pub async fn reroute(
        &self,
        store: &Store,
        number: &str,
        agency_id: &str,
        by: &str,
        again: bool,
    ) -> Result<Ticket, TicketError> {
        let agency = self
            .agency(agency_id)
            .filter(|a| a.tickets)
            .cloned()
            .ok_or_else(|| TicketError::NotFound(agency_id.to_owned()))?;
        let now = now_ms();
        let mut tx = store.begin().await?;
        lock_ticket(&mut tx, number).await?;
        let current = self.get_in(&mut tx, number).await?;
        if current.state == TicketState::Rejected && current.agency == agency.id && !again {
            tx.rollback().await?;
            return Err(TicketError::RejectedBy {
                number: number.to_owned(),
                agency: agency.short_name.clone(),
            });
        }
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
        if let Some(conversation) = &ticket.conversation_id {
            // What the conversation waited for is done.
            crate::desk::conversation::settle(&mut tx, conversation, &["ticket_rejected"], by, now)
                .await?;
        }
        tx.commit().await?;
        tracing::info!(ticket = %number, agency = %agency.id, "ticket rerouted");
        Ok(ticket)
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

    async fn get_in(&self, tx: &mut Tx<'_>, number: &str) -> Result<Ticket, TicketError> {
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

    /// The tickets born from a desk conversation, newest first.
    pub async fn of_conversation(
        &self,
        store: &Store,
        conversation: &str,
    ) -> Result<Vec<Ticket>, TicketError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM tickets WHERE conversation_id = $1 ORDER BY created_at DESC"
        ))
        .bind(conversation)
        .fetch_all(store.pool())
        .await?;
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
}

/// Writes before reading: on SQLite a transaction that reads first cannot take the write lock
/// once another writer committed (SQLITE_BUSY without waiting); on PostgreSQL it locks the row.
async fn lock_ticket(tx: &mut Tx<'_>, number: &str) -> Result<(), TicketError> {
    sqlx::query("UPDATE tickets SET updated_at = updated_at WHERE number = $1")
        .bind(number)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Puts a conversation in the staff queue for `reason` (unless a person already holds or awaits
/// it) and records the event the console and the staff group show.
async fn put_before_staff(
    tx: &mut Tx<'_>,
    conversation: &str,
    reason: &str,
    actor: &str,
    detail: &Value,
    now: i64,
) -> Result<(), TicketError> {
    crate::desk::conversation::hand_off(tx, conversation, reason, None, now).await?;
    insert_event(tx, reason, Some(conversation), actor, detail, now).await?;
    Ok(())
}

async fn history(
    tx: &mut Tx<'_>,
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
    tx: &mut Tx<'_>,
    actor: &str,
    action: &str,
    number: &str,
    detail: Value,
    now: i64,
) -> Result<(), TicketError> {
    let subject = format!("ticket:{number}");
    crate::store::insert_audit(tx, actor, action, &subject, &detail.to_string(), now).await?;
    Ok(())
}
