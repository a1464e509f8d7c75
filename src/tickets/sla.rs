//! Working-day deadlines. A deadline of N working days ends at the close of the Nth working day
//! after the day the ticket was filed (Western Indonesian Time, UTC+7), skipping Saturdays,
//! Sundays and the holidays listed in bot.toml. A reminder goes when a share of the time between
//! filing and deadline has passed (three quarters by default).

use std::collections::BTreeSet;

use serde_json::json;
use sqlx::Row;
use time::{Date, Duration, OffsetDateTime, Weekday};

use super::messages::{next_choices, wib_day};
use super::{COLUMNS, Ticket, TicketError, TicketState, audit, put_before_staff, ticket_from_row};
use crate::store::{NewOutbox, Store};

pub use crate::wib::WIB;

/// Which days count as working days.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calendar {
    holidays: BTreeSet<Date>,
}

impl Calendar {
    pub fn new(holidays: impl IntoIterator<Item = Date>) -> Calendar {
        Calendar {
            holidays: holidays.into_iter().collect(),
        }
    }

    /// Whether `day` is a working day.
    pub fn is_working_day(&self, day: Date) -> bool {
        !matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday)
            && !self.holidays.contains(&day)
    }

    /// Whether the list holds any holiday in `year` (an empty year is probably a forgotten update).
    pub fn knows_year(&self, year: i32) -> bool {
        self.holidays.iter().any(|d| d.year() == year)
    }

    /// The deadline `days` working days after `filed_ms` (milliseconds since the epoch): the end
    /// of that working day in WIB, as milliseconds since the epoch.
    pub fn due(&self, filed_ms: i64, days: u32) -> i64 {
        let filed = OffsetDateTime::from_unix_timestamp_nanos(i128::from(filed_ms) * 1_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
            .to_offset(WIB);
        let mut day = filed.date();
        let mut left = days;
        while left > 0 {
            day = day.next_day().unwrap_or(day);
            if self.is_working_day(day) {
                left -= 1;
            }
        }
        let end = day
            .with_hms(23, 59, 59)
            .expect("a valid time")
            .assume_offset(WIB);
        (end.unix_timestamp_nanos() / 1_000_000) as i64
    }

    /// The moment `share` (0..1) of the way from `filed_ms` to `due_ms`.
    pub fn remind_at(filed_ms: i64, due_ms: i64, share: f64) -> i64 {
        filed_ms + ((due_ms - filed_ms) as f64 * share) as i64
    }

    /// Whole working days from `from_ms` to `to_ms` (how late a ticket is, for staff).
    pub fn working_days_between(&self, from_ms: i64, to_ms: i64) -> i64 {
        let day = |ms: i64| {
            OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
                .unwrap_or(OffsetDateTime::UNIX_EPOCH)
                .to_offset(WIB)
                .date()
        };
        let (mut d, end) = (day(from_ms), day(to_ms));
        let mut n = 0;
        while d < end {
            d += Duration::days(1);
            if self.is_working_day(d) {
                n += 1;
            }
        }
        n
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

impl super::Tickets {
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
                && now >= Calendar::remind_at(started, ticket.due_acknowledge, share)
            {
                Some(("reminded_acknowledge", "diterima", ticket.due_acknowledge))
            } else if !reminded_resolve
                && now >= Calendar::remind_at(started, ticket.due_resolve, share)
            {
                Some(("reminded_resolve", "selesai", ticket.due_resolve))
            } else {
                None
            };
            if let Some((column, what, due)) = remind {
                let mut tx = store.begin().await?;
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
        let mut tx = store.begin().await?;
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    fn ms(t: OffsetDateTime) -> i64 {
        (t.unix_timestamp_nanos() / 1_000_000) as i64
    }

    #[test]
    fn three_working_days_skip_the_weekend() {
        let calendar = Calendar::default();
        // Thursday 2026-11-19, 10:00 WIB -> Tuesday 2026-11-24, end of day WIB.
        let filed = ms(datetime!(2026-11-19 10:00 +7));
        assert_eq!(
            calendar.due(filed, 3),
            ms(datetime!(2026-11-24 23:59:59 +7))
        );
    }

    #[test]
    fn holidays_do_not_count_and_a_weekend_filing_starts_on_monday() {
        let calendar = Calendar::new([date!(2026 - 12 - 25)]);
        // Thursday 2026-12-24 -> Friday 25 is a holiday -> Monday 28, Tuesday 29.
        let filed = ms(datetime!(2026-12-24 09:00 +7));
        assert_eq!(
            calendar.due(filed, 2),
            ms(datetime!(2026-12-29 23:59:59 +7))
        );
        // Saturday 2026-11-21 -> Monday 23 is the first working day.
        let saturday = ms(datetime!(2026-11-21 20:00 +7));
        assert_eq!(
            calendar.due(saturday, 1),
            ms(datetime!(2026-11-23 23:59:59 +7))
        );
        assert!(calendar.knows_year(2026));
        assert!(!calendar.knows_year(2027));
    }

    #[test]
    fn the_day_boundary_is_wib_not_utc() {
        // 2026-11-19 20:00 UTC is already Friday 03:00 WIB: one working day -> Monday.
        let calendar = Calendar::default();
        let filed = ms(datetime!(2026-11-19 20:00 UTC));
        assert_eq!(
            calendar.due(filed, 1),
            ms(datetime!(2026-11-23 23:59:59 +7))
        );
    }

    #[test]
    fn reminders_and_lateness() {
        assert_eq!(Calendar::remind_at(0, 1000, 0.75), 750);
        let calendar = Calendar::default();
        let monday = ms(datetime!(2026-11-23 09:00 +7));
        let next_monday = ms(datetime!(2026-11-30 09:00 +7));
        assert_eq!(calendar.working_days_between(monday, next_monday), 5);
    }
}
