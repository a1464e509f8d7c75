/*!
What the paid platforms cost the office: the month's spending from the billed units the store
counted, priced with `[costs]`, projected to the month's end, and held against the monthly budget.

The month is the UTC calendar month, as X and Meta bill. The projection assumes the rest of the
month goes as the part already past: spending so far divided by the days elapsed (at least one),
times the days of the month. Shown on the console's "Ringkasan", by `kicau report`, in the weekly
staff-group summary and as Prometheus gauges; the staff group is warned at 50%, 80% and 100% of
the budget (`staff_group`), and at 100% `[costs] at_budget = "essential"` stops what can wait
([`Budget::essential_now`]).
*/

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::channels::billing::Unit;
use crate::config::{AtBudget, CostsConfig};
use crate::store::{Store, StoreError, usage::utc_day};

/// The shares of the budget at which the staff group is warned, in percent.
pub const THRESHOLDS: [u8; 3] = [50, 80, 100];

const DAY_MS: i64 = 24 * 3600 * 1000;

/// The price of one unit in US dollars.
pub fn price(costs: &CostsConfig, unit: Unit) -> f64 {
    match unit {
        Unit::XOwnMentionRead => costs.x_own_mention_read,
        Unit::XPostRead => costs.x_post_read,
        Unit::XUserRead => costs.x_user_read,
        Unit::XPostCreated => costs.x_post_created,
        Unit::XSummonedReply => costs.x_summoned_reply,
        Unit::XPostWithUrl => costs.x_post_with_url,
        Unit::WhatsAppService => costs.whatsapp_service,
        Unit::WhatsAppUtility => costs.whatsapp_utility,
        Unit::WhatsAppMarketing => costs.whatsapp_marketing,
        Unit::WhatsAppAuthentication => costs.whatsapp_authentication,
    }
}

/// A unit as the office reads it.
pub fn label(unit: Unit) -> &'static str {
    match unit {
        Unit::XOwnMentionRead => "mention dibaca",
        Unit::XPostRead => "post lain dibaca",
        Unit::XUserRead => "profil akun dibaca",
        Unit::XPostCreated => "post dibuat",
        Unit::XSummonedReply => "balasan ke warga",
        Unit::XPostWithUrl => "post berisi tautan",
        Unit::WhatsAppService => "pesan layanan WhatsApp",
        Unit::WhatsAppUtility => "template utilitas WhatsApp",
        Unit::WhatsAppMarketing => "template pemasaran WhatsApp",
        Unit::WhatsAppAuthentication => "template autentikasi WhatsApp",
    }
}

/// One unit's line of the month.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Line {
    pub unit: &'static str,
    pub label: &'static str,
    pub count: i64,
    pub price_usd: f64,
    pub usd: f64,
}

/// The month's spending so far.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spending {
    /// The first and last UTC day counted (YYYY-MM-DD).
    pub from_day: String,
    pub to_day: String,
    /// Units with a count this month, in the price list's order.
    pub lines: Vec<Line>,
    pub x_usd: f64,
    pub whatsapp_usd: f64,
    pub total_usd: f64,
    /// The total at the month's end if the rest goes as the part past.
    pub projected_usd: f64,
    /// The monthly budget (None: none set).
    pub budget_usd: Option<f64>,
    /// Spending over the budget (1.0 = all of it).
    pub budget_share: Option<f64>,
    /// What happens at 100%.
    pub at_budget: AtBudget,
    pub x_prices_date: String,
    pub whatsapp_prices_date: String,
    /// Rupiah per dollar for display (0: dollars only).
    pub idr_per_usd: f64,
}

/// The first day of `now`'s UTC month and how many days the month has.
fn month_of(now: i64) -> (time::Date, u8) {
    let today = time::OffsetDateTime::from_unix_timestamp(now.div_euclid(1000))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .date();
    let first = today.replace_day(1).expect("day 1 exists");
    (first, today.month().length(today.year()))
}

/// The month's spending at `now` (milliseconds since the epoch).
pub async fn month_to_date(
    store: &Store,
    costs: &CostsConfig,
    now: i64,
) -> Result<Spending, StoreError> {
    let (first, days) = month_of(now);
    let start_ms = first.midnight().assume_utc().unix_timestamp() * 1000;
    let from_day = utc_day(start_ms);
    let to_day = utc_day(now);
    let counted: BTreeMap<Unit, i64> = store
        .usage_between(&from_day, &to_day)
        .await?
        .into_iter()
        .filter_map(|(name, n)| Some((Unit::of_name(&name)?, n)))
        .collect();
    let lines: Vec<Line> = Unit::ALL
        .into_iter()
        .filter_map(|unit| {
            let count = *counted.get(&unit)?;
            let price_usd = price(costs, unit);
            Some(Line {
                unit: unit.name(),
                label: label(unit),
                count,
                price_usd,
                usd: count as f64 * price_usd,
            })
        })
        .collect();
    let sum = |prefix: &str| -> f64 {
        lines
            .iter()
            .filter(|l| l.unit.starts_with(prefix))
            .map(|l| l.usd)
            .sum()
    };
    let (x_usd, whatsapp_usd) = (sum("x."), sum("whatsapp."));
    let total_usd = x_usd + whatsapp_usd;
    let elapsed_days = ((now - start_ms) as f64 / DAY_MS as f64).max(1.0);
    let projected_usd = (total_usd * f64::from(days) / elapsed_days).max(total_usd);
    let budget_usd = (costs.monthly_budget_usd > 0.0).then_some(costs.monthly_budget_usd);
    Ok(Spending {
        from_day,
        to_day,
        lines,
        x_usd,
        whatsapp_usd,
        total_usd,
        projected_usd,
        budget_usd,
        budget_share: budget_usd.map(|b| total_usd / b),
        at_budget: costs.at_budget,
        x_prices_date: costs.x_prices_date.clone(),
        whatsapp_prices_date: costs.whatsapp_prices_date.clone(),
        idr_per_usd: costs.idr_per_usd,
    })
}

impl Spending {
    /// The highest warning threshold reached (50, 80 or 100), if any.
    pub fn threshold(&self) -> Option<u8> {
        let share = self.budget_share?;
        THRESHOLDS
            .into_iter()
            .rev()
            .find(|t| share * 100.0 >= f64::from(*t))
    }

    /// Whether the budget is spent and only what is essential goes out.
    pub fn essential(&self) -> bool {
        self.at_budget == AtBudget::Essential && self.threshold() == Some(100)
    }

    /// An amount as the office reads it: "US$12,34 (± Rp203.610)".
    pub fn money(&self, usd: f64) -> String {
        // An empty sum of floats is -0.0, which would read "US$-0,00".
        let usd = if usd == 0.0 { 0.0 } else { usd };
        let dollars = format!("US${}", decimal(usd, 2));
        if self.idr_per_usd > 0.0 {
            format!(
                "{dollars} (± Rp{})",
                thousands((usd * self.idr_per_usd).round() as i64)
            )
        } else {
            dollars
        }
    }

    /// The spending as plain Indonesian text (`kicau report`, the weekly summary).
    pub fn text(&self) -> String {
        let mut out = format!(
            "Biaya platform bulan ini ({} s.d. {}, UTC): {} (X {}, WhatsApp {}); \
             perkiraan sampai akhir bulan {}.\n",
            self.from_day,
            self.to_day,
            self.money(self.total_usd),
            self.money(self.x_usd),
            self.money(self.whatsapp_usd),
            self.money(self.projected_usd),
        );
        match (self.budget_usd, self.budget_share) {
            (Some(budget), Some(share)) => out.push_str(&format!(
                "Anggaran bulanan {}: terpakai {:.0}%{}.\n",
                self.money(budget),
                share * 100.0,
                if self.essential() {
                    " (habis: hanya yang penting dikirim)"
                } else {
                    ""
                }
            )),
            _ => out.push_str("Anggaran bulanan belum ditetapkan.\n"),
        }
        for line in &self.lines {
            out.push_str(&format!(
                "- {}: {} x US${} = {}\n",
                line.label,
                line.count,
                decimal(line.price_usd, 3),
                self.money(line.usd)
            ));
        }
        out.push_str(&format!(
            "Harga: X per {}, WhatsApp per {} (bot.toml [costs]).\n",
            self.x_prices_date, self.whatsapp_prices_date
        ));
        out
    }
}

/// `value` with `places` decimals and a decimal comma.
pub fn decimal(value: f64, places: usize) -> String {
    format!("{value:.places$}").replace('.', ",")
}

/// An integer with dots between thousands: 1234567 -> "1.234.567".
fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// The budget as the running bot consults it: whether only what is essential goes out now.
/// The answer is kept for a few seconds, so deciding a burst of mentions costs one query.
#[derive(Clone, Debug)]
pub struct Budget {
    store: Store,
    costs: Arc<CostsConfig>,
    cached: Arc<Mutex<Option<(i64, bool)>>>,
}

/// How long an answer of [`Budget::essential_now`] is reused.
const CACHE_MS: i64 = 5_000;

impl Budget {
    pub fn new(store: Store, costs: CostsConfig) -> Budget {
        Budget {
            store,
            costs: Arc::new(costs),
            cached: Arc::new(Mutex::new(None)),
        }
    }

    /// Whether the month's budget is spent and `at_budget = "essential"`. A failed read of the
    /// counts keeps everything going (and is logged): a database hiccup must not mute the bot.
    pub async fn essential_now(&self) -> bool {
        if self.costs.at_budget == AtBudget::Keep || self.costs.monthly_budget_usd <= 0.0 {
            return false;
        }
        let now = crate::store::now_ms();
        if let Some((at, essential)) = *self.cached.lock().expect("budget cache lock")
            && now - at < CACHE_MS
        {
            return essential;
        }
        let essential = match month_to_date(&self.store, &self.costs, now).await {
            Ok(spending) => spending.essential(),
            Err(e) => {
                tracing::warn!(error = %e, "the month's spending could not be read");
                false
            }
        };
        *self.cached.lock().expect("budget cache lock") = Some((now, essential));
        essential
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spending(total: f64, budget: f64, at_budget: AtBudget) -> Spending {
        Spending {
            from_day: "2026-12-01".into(),
            to_day: "2026-12-06".into(),
            lines: Vec::new(),
            x_usd: total,
            whatsapp_usd: 0.0,
            total_usd: total,
            projected_usd: total,
            budget_usd: (budget > 0.0).then_some(budget),
            budget_share: (budget > 0.0).then_some(total / budget),
            at_budget,
            x_prices_date: "2026-02-06".into(),
            whatsapp_prices_date: "2025-07-01".into(),
            idr_per_usd: 16_500.0,
        }
    }

    #[test]
    fn thresholds_are_the_highest_reached() {
        assert_eq!(spending(4.9, 10.0, AtBudget::Keep).threshold(), None);
        assert_eq!(spending(5.0, 10.0, AtBudget::Keep).threshold(), Some(50));
        assert_eq!(spending(8.0, 10.0, AtBudget::Keep).threshold(), Some(80));
        assert_eq!(spending(12.0, 10.0, AtBudget::Keep).threshold(), Some(100));
        assert_eq!(spending(12.0, 0.0, AtBudget::Keep).threshold(), None);
        assert!(!spending(12.0, 10.0, AtBudget::Keep).essential());
        assert!(spending(10.0, 10.0, AtBudget::Essential).essential());
        assert!(!spending(9.99, 10.0, AtBudget::Essential).essential());
    }

    #[test]
    fn money_reads_in_indonesian() {
        let s = spending(0.0, 0.0, AtBudget::Keep);
        assert_eq!(s.money(12.346), "US$12,35 (± Rp203.709)");
        assert_eq!(thousands(1_234_567), "1.234.567");
        assert_eq!(s.money(-0.0), "US$0,00 (± Rp0)");
        assert_eq!(thousands(999), "999");
    }

    #[test]
    fn the_month_runs_from_its_first_utc_day() {
        // 2026-12-06T00:00:00Z.
        let (first, days) = month_of(1_796_515_200_000);
        assert_eq!(first.to_string(), "2026-12-01");
        assert_eq!(days, 31);
    }
}
