//! The office lead's figures (DESIGN.md, "Who uses it"): how many mentions came, what the bot did
//! with them, how fast citizens got an answer from the bot and from a person, and which agencies
//! acknowledge late. Read from the store for a period; shown on the console's "Ringkasan" page,
//! printed by `kicau report`, and exported as Prometheus gauges at `/metrics`.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use sqlx::Row;

use crate::config::Agency;
use crate::store::{Store, StoreError};

pub mod gaps;
mod series;

pub use series::{Day, day_of, day_start};

/// Durations in milliseconds: how many, and their median and 90th percentile.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Durations {
    pub count: usize,
    pub median_ms: Option<i64>,
    pub p90_ms: Option<i64>,
}

impl Durations {
    fn of(mut values: Vec<i64>) -> Durations {
        values.sort_unstable();
        let at = |q: f64| {
            (!values.is_empty()).then(|| {
                let rank = ((values.len() as f64) * q).ceil() as usize;
                values[rank.clamp(1, values.len()) - 1]
            })
        };
        Durations {
            count: values.len(),
            median_ms: at(0.5),
            p90_ms: at(0.9),
        }
    }
}

/// One agency's tickets: filed in the period, and where they stand now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgencyFigures {
    pub agency: String,
    /// The agency's full and short names from bot.toml (pages show these, never the id).
    pub name: String,
    pub short_name: String,
    /// Filed in the period.
    pub filed: i64,
    /// Of those, acknowledged by their deadline, after it, and not yet.
    pub acknowledged_in_time: i64,
    pub acknowledged_late: i64,
    pub unacknowledged: i64,
    /// Filing to acknowledgement, for those filed in the period.
    pub time_to_acknowledge: Durations,
    /// Resolved in the period (whenever filed).
    pub resolved: i64,
    /// Now: open, acknowledged or in progress; of those past a deadline; marked for a warning
    /// letter.
    pub active_now: i64,
    pub overdue_now: i64,
    pub warning_letters_now: i64,
}

/// The figures of one period `[from, to)` (milliseconds since the epoch).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub from: i64,
    pub to: i64,
    /// Mentions read in the period.
    pub mentions: i64,
    /// Decisions made in the period, by kind (answer, report, emergency, handoff, ignore).
    pub decisions: BTreeMap<String, i64>,
    /// Answers over every decision that was not an ignore.
    pub answered_share: Option<f64>,
    /// From the citizen's tweet to the bot's first reply on X.
    pub bot_reply: Durations,
    /// Tickets filed in the period (a complaint waiting for its place is not one yet).
    pub tickets_filed: i64,
    /// Conversations handed to staff (hand-offs and emergencies) in the period.
    pub handed_off: i64,
    /// From the hand-off to a person's claim, for those claimed.
    pub time_to_claim: Durations,
    /// Conversations waiting for a person now.
    pub waiting_now: i64,
    /// Per agency that receives tickets, latest first by how late it is now.
    pub agencies: Vec<AgencyFigures>,
    /// The bot's decisions of the period that staff corrected (accepted corrections), by the
    /// bot's kind.
    pub corrected: BTreeMap<String, crate::desk::corrections::CorrectedShare>,
    /// What the platforms cost this month so far, when asked for ([`Report::with_costs`]).
    pub spending: Option<crate::costs::Spending>,
    /// The period day by day (WIB), oldest first: what the summary's charts draw.
    pub daily: Vec<Day>,
    /// The same by week (Monday to Sunday, WIB), for charts of long periods.
    pub weekly: Vec<Day>,
}

impl Report {
    /// The report with the month's platform spending at `now`.
    pub async fn with_costs(
        mut self,
        store: &Store,
        costs: &crate::config::CostsConfig,
        now: i64,
    ) -> Result<Report, StoreError> {
        self.spending = Some(crate::costs::month_to_date(store, costs, now).await?);
        Ok(self)
    }

    /// "jawab 2 dari 40 (5%), ..." for each kind with decisions, or "belum ada".
    pub fn corrected_text(&self) -> String {
        let parts: Vec<String> = ["answer", "report", "emergency", "handoff", "ignore"]
            .iter()
            .filter_map(|kind| {
                let share = self.corrected.get(*kind)?;
                (share.decided > 0).then(|| {
                    format!(
                        "{} {} dari {} ({:.0}%)",
                        kind_label(kind),
                        share.corrected,
                        share.decided,
                        100.0 * share.corrected as f64 / share.decided as f64
                    )
                })
            })
            .collect();
        if parts.is_empty() {
            "belum ada keputusan".to_owned()
        } else {
            parts.join(", ")
        }
    }
}

/// A decision kind as the office reads it.
fn kind_label(kind: &str) -> &'static str {
    match kind {
        "answer" => "jawaban",
        "report" => "laporan",
        "emergency" => "darurat",
        "handoff" => "ke petugas",
        _ => "diabaikan",
    }
}

/// Builds the report of `[from, to)`.
pub async fn build(
    store: &Store,
    agencies: &[Agency],
    from: i64,
    to: i64,
) -> Result<Report, StoreError> {
    let pool = store.pool();
    let mentions: i64 =
        sqlx::query("SELECT COUNT(*) FROM inbox WHERE received_at >= $1 AND received_at < $2")
            .bind(from)
            .bind(to)
            .fetch_one(pool)
            .await?
            .get(0);
    let mut decisions = BTreeMap::new();
    for row in sqlx::query(
        "SELECT kind, COUNT(*) FROM decisions WHERE created_at >= $1 AND created_at < $2 \
         GROUP BY kind",
    )
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await?
    {
        decisions.insert(row.get::<String, _>(0), row.get::<i64, _>(1));
    }
    let considered: i64 = decisions
        .iter()
        .filter(|(kind, _)| kind.as_str() != "ignore")
        .map(|(_, n)| n)
        .sum();
    let answered_share =
        (considered > 0).then(|| *decisions.get("answer").unwrap_or(&0) as f64 / considered as f64);

    // The bot's reply: the first part of `x:reply:<tweet>`, once sent.
    let replies = sqlx::query(&format!(
        "SELECT i.created_at, o.updated_at FROM decisions d \
         JOIN inbox i ON i.tweet_id = d.tweet_id \
         JOIN outbox o ON o.idempotency_key = {} \
         WHERE d.created_at >= $1 AND d.created_at < $2 AND o.state = 'sent'",
        crate::store::first_reply_key_sql("d.tweet_id")
    ))
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await?;
    // (posted, reply time) of each, so that the days can have their own figures.
    let reply_waits: Vec<(i64, i64)> = replies
        .iter()
        .map(|r| {
            let posted: i64 = r.get(0);
            (posted, (r.get::<i64, _>(1) - posted).max(0))
        })
        .collect();
    let bot_reply = Durations::of(reply_waits.iter().map(|(_, wait)| *wait).collect());

    // Hand-offs in the period, and the first claim of each after it.
    let handoffs = sqlx::query(
        "SELECT conversation_id, at FROM events WHERE kind IN ('handoff', 'emergency') \
         AND at >= $1 AND at < $2 AND conversation_id IS NOT NULL ORDER BY at",
    )
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await?;
    let mut claims: HashMap<String, Vec<i64>> = HashMap::new();
    for row in sqlx::query(
        "SELECT conversation_id, at FROM events WHERE kind = 'claim' AND at >= $1 \
         AND conversation_id IS NOT NULL ORDER BY at",
    )
    .bind(from)
    .fetch_all(pool)
    .await?
    {
        claims
            .entry(row.get::<String, _>(0))
            .or_default()
            .push(row.get::<i64, _>(1));
    }
    // (handed off, wait for a claim) of each claimed hand-off.
    let waits: Vec<(i64, i64)> = handoffs
        .iter()
        .filter_map(|r| {
            let (conversation, at): (String, i64) = (r.get(0), r.get(1));
            claims
                .get(&conversation)?
                .iter()
                .find(|claimed| **claimed >= at)
                .map(|claimed| (at, claimed - at))
        })
        .collect();
    let waiting_now: i64 =
        sqlx::query("SELECT COUNT(*) FROM conversations WHERE state = 'waiting_staff'")
            .fetch_one(pool)
            .await?
            .get(0);

    let agencies = agency_figures(store, agencies, from, to).await?;
    let daily = series::daily(store, from, to, &reply_waits, &waits).await?;
    let weekly = series::weekly(&daily, &reply_waits, &waits);
    let corrected = match crate::desk::Desk::new(store.clone())
        .corrected_shares(from, to)
        .await
    {
        Ok(shares) => shares,
        Err(crate::desk::DeskError::Store(e)) => return Err(e),
        Err(e) => {
            tracing::warn!(error = %e, "the corrected shares could not be counted");
            BTreeMap::new()
        }
    };
    Ok(Report {
        from,
        to,
        corrected,
        tickets_filed: agencies.iter().map(|a| a.filed).sum(),
        mentions,
        answered_share,
        decisions,
        bot_reply,
        handed_off: handoffs.len() as i64,
        time_to_claim: Durations::of(waits.iter().map(|(_, wait)| *wait).collect()),
        waiting_now,
        agencies,
        spending: None,
        daily,
        weekly,
    })
}

async fn agency_figures(
    store: &Store,
    agencies: &[Agency],
    from: i64,
    to: i64,
) -> Result<Vec<AgencyFigures>, StoreError> {
    let pool = store.pool();
    let mut figures: Vec<AgencyFigures> = agencies
        .iter()
        .filter(|a| a.tickets)
        .map(|a| AgencyFigures {
            agency: a.id.clone(),
            name: a.name.clone(),
            short_name: a.short_name.clone(),
            filed: 0,
            acknowledged_in_time: 0,
            acknowledged_late: 0,
            unacknowledged: 0,
            time_to_acknowledge: Durations::default(),
            resolved: 0,
            active_now: 0,
            overdue_now: 0,
            warning_letters_now: 0,
        })
        .collect();
    let index: HashMap<String, usize> = figures
        .iter()
        .enumerate()
        .map(|(i, f)| (f.agency.clone(), i))
        .collect();
    // Filed in the period, with the first step past `open` (acknowledged, or straight to a
    // later state) as the acknowledgement.
    let filed = sqlx::query(
        "SELECT t.agency, t.created_at, t.due_acknowledge, \
         (SELECT MIN(h.at) FROM ticket_history h WHERE h.number = t.number AND h.state <> 'open') \
         FROM tickets t WHERE t.created_at >= $1 AND t.created_at < $2",
    )
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await?;
    let mut waits: HashMap<usize, Vec<i64>> = HashMap::new();
    for row in &filed {
        let Some(&i) = index.get(&row.get::<String, _>(0)) else {
            continue;
        };
        let (created, due): (i64, i64) = (row.get(1), row.get(2));
        let f = &mut figures[i];
        f.filed += 1;
        match row.get::<Option<i64>, _>(3) {
            Some(at) if at <= due => f.acknowledged_in_time += 1,
            Some(_) => f.acknowledged_late += 1,
            None => f.unacknowledged += 1,
        }
        if let Some(at) = row.get::<Option<i64>, _>(3) {
            waits.entry(i).or_default().push(at - created);
        }
    }
    for (i, values) in waits {
        figures[i].time_to_acknowledge = Durations::of(values);
    }
    for row in sqlx::query(
        "SELECT t.agency, COUNT(DISTINCT h.number) FROM ticket_history h \
         JOIN tickets t ON t.number = h.number WHERE h.state = 'resolved' \
         AND h.at >= $1 AND h.at < $2 GROUP BY t.agency",
    )
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await?
    {
        if let Some(&i) = index.get(&row.get::<String, _>(0)) {
            figures[i].resolved = row.get(1);
        }
    }
    for row in sqlx::query(
        "SELECT agency, COUNT(*), SUM(CASE WHEN overdue <> 0 THEN 1 ELSE 0 END), \
         SUM(CASE WHEN warning_letter <> 0 THEN 1 ELSE 0 END) FROM tickets \
         WHERE state IN ('open', 'acknowledged', 'in_progress') GROUP BY agency",
    )
    .fetch_all(pool)
    .await?
    {
        if let Some(&i) = index.get(&row.get::<String, _>(0)) {
            let f = &mut figures[i];
            f.active_now = row.get(1);
            f.overdue_now = row.get::<Option<i64>, _>(2).unwrap_or(0);
            f.warning_letters_now = row.get::<Option<i64>, _>(3).unwrap_or(0);
        }
    }
    figures.sort_by(|a, b| {
        (b.overdue_now, b.acknowledged_late, b.active_now)
            .cmp(&(a.overdue_now, a.acknowledged_late, a.active_now))
            .then_with(|| a.agency.cmp(&b.agency))
    });
    Ok(figures)
}

/// The latest `day` at `hour`:00 WIB at or before `now` (milliseconds since the epoch): when the
/// weekly summary of the seven days before it is due.
pub fn last_slot(now: i64, day: time::Weekday, hour: u8) -> i64 {
    use crate::tickets::sla::WIB;
    let local = time::OffsetDateTime::from_unix_timestamp(now.div_euclid(1000))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .to_offset(WIB);
    let back = (i64::from(local.weekday().number_days_from_monday())
        - i64::from(day.number_days_from_monday()))
    .rem_euclid(7);
    let mut date = local.date() - time::Duration::days(back);
    let at = |date: time::Date| {
        date.with_hms(hour.min(23), 0, 0)
            .expect("a valid hour")
            .assume_offset(WIB)
            .unix_timestamp()
            * 1000
    };
    if at(date) > now {
        date -= time::Duration::days(7);
    }
    at(date)
}

/// A duration as people read it: "45 dtk", "12 mnt", "3,5 jam", "2,1 hari".
pub fn human(ms: i64) -> String {
    let s = ms as f64 / 1000.0;
    let one = |v: f64| format!("{v:.1}").replace('.', ",");
    if s < 60.0 {
        format!("{s:.0} dtk")
    } else if s < 3600.0 {
        format!("{:.0} mnt", s / 60.0)
    } else if s < 86_400.0 {
        format!("{} jam", one(s / 3600.0))
    } else {
        format!("{} hari", one(s / 86_400.0))
    }
}

impl AgencyFigures {
    /// Whether the agency had anything to do with tickets in the period or has some now.
    pub fn active(&self) -> bool {
        self.filed + self.resolved + self.active_now > 0
    }
}

impl Report {
    /// The report as plain text (Indonesian, for the office lead): `kicau report`.
    pub fn text(&self) -> String {
        let d = |d: &Durations| match (d.median_ms, d.p90_ms) {
            (Some(m), Some(p)) => format!(
                "median {}, 90% dalam {} (n={})",
                human(m),
                human(p),
                d.count
            ),
            _ => "belum ada data".to_owned(),
        };
        let kind = |k: &str| *self.decisions.get(k).unwrap_or(&0);
        let mut out = format!(
            "Ringkasan {} s.d. {}\n\nMention masuk: {}\nDijawab bot: {}{}\nLaporan jadi tiket: {}\n\
             Darurat: {}\nDiteruskan ke petugas (termasuk darurat): {}\nDiabaikan: {}\n\n\
             Dikoreksi petugas: {}\n\
             Balasan bot: {}\nHand-off sampai diambil petugas: {}\nMenunggu petugas sekarang: {}\n\n\
             Instansi (terlambat dulu):\n",
            crate::store::rfc3339(self.from),
            crate::store::rfc3339(self.to),
            self.mentions,
            kind("answer"),
            self.answered_share
                .map(|s| format!(" ({:.0}% dari yang perlu ditanggapi)", s * 100.0))
                .unwrap_or_default(),
            self.tickets_filed,
            kind("emergency"),
            self.handed_off,
            kind("ignore"),
            self.corrected_text(),
            d(&self.bot_reply),
            d(&self.time_to_claim),
            self.waiting_now,
        );
        let active: Vec<&AgencyFigures> = self.agencies.iter().filter(|a| a.active()).collect();
        if active.is_empty() {
            out.push_str("- tidak ada laporan\n");
        }
        for a in active {
            out.push_str(&format!(
                "- {}: {} laporan baru; diterima tepat waktu {}, terlambat {}, belum {}; \
                 waktu menerima {}; selesai {}; aktif {}, lewat batas {}, surat teguran {}\n",
                a.short_name,
                a.filed,
                a.acknowledged_in_time,
                a.acknowledged_late,
                a.unacknowledged,
                d(&a.time_to_acknowledge),
                a.resolved,
                a.active_now,
                a.overdue_now,
                a.warning_letters_now,
            ));
        }
        if let Some(spending) = &self.spending {
            out.push('\n');
            out.push_str(&spending.text());
        }
        out
    }
}

/// Prometheus text exposition of the store's current counts: `/metrics`.
pub async fn metrics(
    store: &Store,
    costs: &crate::config::CostsConfig,
) -> Result<String, StoreError> {
    use std::fmt::Write as _;
    let pool = store.pool();
    let mut out = String::new();
    costs_metrics(&mut out, store, costs).await?;
    let mut family = |name: &str, help: &str, rows: Vec<(Vec<(&str, String)>, i64)>| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        for (labels, value) in rows {
            let labels: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")))
                .collect();
            if labels.is_empty() {
                let _ = writeln!(out, "{name} {value}");
            } else {
                let _ = writeln!(out, "{name}{{{}}} {value}", labels.join(","));
            }
        }
    };
    let count = |sql: &'static str| async move {
        sqlx::query(sql)
            .fetch_one(pool)
            .await
            .map(|r| r.get::<i64, _>(0))
    };
    let grouped = |sql: &'static str| async move {
        sqlx::query(sql).fetch_all(pool).await.map(|rows| {
            rows.iter()
                .map(|r| {
                    let n = r.len() - 1;
                    (
                        (0..n).map(|i| r.get::<String, _>(i)).collect::<Vec<_>>(),
                        r.get::<i64, _>(n),
                    )
                })
                .collect::<Vec<_>>()
        })
    };
    let label = |names: &[&'static str], rows: Vec<(Vec<String>, i64)>| {
        rows.into_iter()
            .map(|(values, n)| (names.iter().copied().zip(values).collect(), n))
            .collect::<Vec<_>>()
    };
    family(
        "kicau_mentions",
        "Mentions read from X, ever.",
        vec![(vec![], count("SELECT COUNT(*) FROM inbox").await?)],
    );
    family(
        "kicau_inbox_pending",
        "Mentions read but not yet decided.",
        vec![(
            vec![],
            count("SELECT COUNT(*) FROM inbox WHERE state = 'pending'").await?,
        )],
    );
    family(
        "kicau_decisions",
        "Decisions by kind, ever.",
        label(
            &["kind"],
            grouped("SELECT kind, COUNT(*) FROM decisions GROUP BY kind").await?,
        ),
    );
    family(
        "kicau_outbox",
        "Outgoing messages by channel and state.",
        label(
            &["channel", "state"],
            grouped("SELECT channel, state, COUNT(*) FROM outbox GROUP BY channel, state").await?,
        ),
    );
    family(
        "kicau_dead_letters",
        "Work kept for staff because it could not be done, by source.",
        label(
            &["source"],
            grouped("SELECT source, COUNT(*) FROM dead_letters GROUP BY source").await?,
        ),
    );
    family(
        "kicau_mention_gaps_total",
        "Times the listener found mentions gone past X's 800-mention window (each a dead letter).",
        vec![(
            vec![],
            count(
                "SELECT COUNT(*) FROM dead_letters WHERE source = 'x.mentions' \
                 AND reference LIKE 'gap %'",
            )
            .await?,
        )],
    );
    family(
        "kicau_conversations",
        "Conversations by state.",
        label(
            &["state"],
            grouped("SELECT state, COUNT(*) FROM conversations GROUP BY state").await?,
        ),
    );
    family(
        "kicau_tickets",
        "Tickets by agency and state.",
        label(
            &["agency", "state"],
            grouped("SELECT agency, state, COUNT(*) FROM tickets GROUP BY agency, state").await?,
        ),
    );
    family(
        "kicau_tickets_overdue",
        "Active tickets past a deadline, by agency.",
        label(
            &["agency"],
            grouped(
                "SELECT agency, COUNT(*) FROM tickets WHERE overdue <> 0 \
                 AND state IN ('open', 'acknowledged', 'in_progress') GROUP BY agency",
            )
            .await?,
        ),
    );
    family(
        "kicau_ticket_notes_held",
        "Agency notes waiting for staff approval.",
        vec![(
            vec![],
            count("SELECT COUNT(*) FROM ticket_notes WHERE state = 'pending'").await?,
        )],
    );
    Ok(out)
}

/// The month's platform spending as gauges (US dollars; the budget when one is set).
async fn costs_metrics(
    out: &mut String,
    store: &Store,
    costs: &crate::config::CostsConfig,
) -> Result<(), StoreError> {
    use std::fmt::Write as _;
    let spending = crate::costs::month_to_date(store, costs, crate::store::now_ms()).await?;
    let _ = writeln!(
        out,
        "# HELP kicau_cost_month_usd Platform spending this UTC month so far, by platform, in US dollars.\n\
         # TYPE kicau_cost_month_usd gauge\n\
         kicau_cost_month_usd{{platform=\"x\"}} {:.6}\n\
         kicau_cost_month_usd{{platform=\"whatsapp\"}} {:.6}",
        spending.x_usd, spending.whatsapp_usd
    );
    let _ = writeln!(
        out,
        "# HELP kicau_cost_month_projected_usd Spending projected to the month's end, in US dollars.\n\
         # TYPE kicau_cost_month_projected_usd gauge\n\
         kicau_cost_month_projected_usd {:.6}",
        spending.projected_usd
    );
    let _ = writeln!(
        out,
        "# HELP kicau_billed_units_month Billable units counted this UTC month, by unit.\n\
         # TYPE kicau_billed_units_month gauge"
    );
    for line in &spending.lines {
        let _ = writeln!(
            out,
            "kicau_billed_units_month{{unit=\"{}\"}} {}",
            line.unit, line.count
        );
    }
    if let Some(budget) = spending.budget_usd {
        let _ = writeln!(
            out,
            "# HELP kicau_cost_budget_usd The monthly budget ([costs] monthly_budget_usd).\n\
             # TYPE kicau_cost_budget_usd gauge\n\
             kicau_cost_budget_usd {budget:.6}"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let d = Durations::of(vec![5, 1, 4, 2, 3, 10, 9, 8, 7, 6]);
        assert_eq!((d.count, d.median_ms, d.p90_ms), (10, Some(5), Some(9)));
        assert_eq!(Durations::of(vec![]).median_ms, None);
        assert_eq!(Durations::of(vec![7]).p90_ms, Some(7));
    }

    #[test]
    fn the_weekly_slot_is_the_last_monday_eight_wib() {
        use time::macros::datetime;
        let ms = |t: time::OffsetDateTime| t.unix_timestamp() * 1000;
        let monday = ms(datetime!(2026-11-23 08:00 +7));
        // Monday 08:00 WIB itself, later that week, and just before the next one.
        for now in [
            monday,
            ms(datetime!(2026-11-25 13:30 +7)),
            ms(datetime!(2026-11-30 07:59 +7)),
        ] {
            assert_eq!(last_slot(now, time::Weekday::Monday, 8), monday);
        }
        // Monday 07:59: still last week's.
        assert_eq!(
            last_slot(ms(datetime!(2026-11-23 07:59 +7)), time::Weekday::Monday, 8),
            monday - 7 * 86_400_000
        );
        // 01:30 UTC is 08:30 in Malang.
        assert_eq!(
            last_slot(
                ms(datetime!(2026-11-23 01:30 UTC)),
                time::Weekday::Monday,
                8
            ),
            monday
        );
    }

    #[test]
    fn durations_read_in_indonesian_units() {
        assert_eq!(human(45_000), "45 dtk");
        assert_eq!(human(12 * 60_000), "12 mnt");
        assert_eq!(human(3 * 3_600_000 + 1_800_000), "3,5 jam");
        assert_eq!(human(2 * 86_400_000 + 8_640_000), "2,1 hari");
    }
}
