//! `[costs]`: what the platforms charge, the month's budget, and what happens when it is spent.
//!
//! The defaults are the published prices on the dates they carry: X's pay-per-use price list
//! (docs.x.com, 6 Feb 2026) and Meta's WhatsApp rate card for Indonesia (+62) in US dollars.
//! Prices change: the dates are shown beside every figure, so a stale table is visible.

use serde::{Deserialize, Serialize};

/// What happens once the month's spending reaches the budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AtBudget {
    /// Everything goes on; the staff group was warned.
    Keep,
    /// Only what was promised or is urgent goes out: reading mentions, emergency replies, staff
    /// replies and ticket status tweets. Automatic knowledge answers and hand-off
    /// acknowledgements stop (the hand-off still reaches staff).
    Essential,
}

/// Prices (US dollars per unit) and the monthly budget.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CostsConfig {
    /// The date of X's price list below (YYYY-MM-DD).
    pub x_prices_date: String,
    /// A post returned by the account's own mentions timeline.
    pub x_own_mention_read: f64,
    /// Any other post read.
    pub x_post_read: f64,
    /// A user object read.
    pub x_user_read: f64,
    /// A post created (not a summoned reply, no URL).
    pub x_post_created: f64,
    /// A reply to a citizen who mentioned the account.
    pub x_summoned_reply: f64,
    /// A post that contains a URL.
    pub x_post_with_url: f64,
    /// The date of the WhatsApp rate card below (YYYY-MM-DD).
    pub whatsapp_prices_date: String,
    /// A delivered message per pricing category (Indonesia).
    pub whatsapp_service: f64,
    pub whatsapp_utility: f64,
    pub whatsapp_marketing: f64,
    pub whatsapp_authentication: f64,
    /// The month's budget in US dollars; 0 means none (no warnings, nothing stops).
    pub monthly_budget_usd: f64,
    /// At 100% of the budget: `keep` or `essential`.
    pub at_budget: AtBudget,
    /// Rupiah per US dollar, to show spending in rupiah too; 0 shows dollars only.
    pub idr_per_usd: f64,
}

impl Default for CostsConfig {
    fn default() -> Self {
        CostsConfig {
            x_prices_date: "2026-02-06".into(),
            x_own_mention_read: 0.001,
            x_post_read: 0.005,
            x_user_read: 0.010,
            x_post_created: 0.015,
            x_summoned_reply: 0.010,
            x_post_with_url: 0.200,
            whatsapp_prices_date: "2025-07-01".into(),
            whatsapp_service: 0.019,
            whatsapp_utility: 0.020,
            whatsapp_marketing: 0.0411,
            whatsapp_authentication: 0.030,
            monthly_budget_usd: 0.0,
            at_budget: AtBudget::Keep,
            idr_per_usd: 0.0,
        }
    }
}

impl CostsConfig {
    /// Every price with its key, for validation.
    pub(super) fn prices(&self) -> [(&'static str, f64); 10] {
        [
            ("x_own_mention_read", self.x_own_mention_read),
            ("x_post_read", self.x_post_read),
            ("x_user_read", self.x_user_read),
            ("x_post_created", self.x_post_created),
            ("x_summoned_reply", self.x_summoned_reply),
            ("x_post_with_url", self.x_post_with_url),
            ("whatsapp_service", self.whatsapp_service),
            ("whatsapp_utility", self.whatsapp_utility),
            ("whatsapp_marketing", self.whatsapp_marketing),
            ("whatsapp_authentication", self.whatsapp_authentication),
        ]
    }

    /// Why the section does not make sense, if it does not.
    pub(super) fn problem(&self) -> Option<String> {
        for (key, price) in self.prices() {
            if !(0.0..=100.0).contains(&price) || price.is_nan() {
                return Some(format!(
                    "costs.{key} = {price} is not a price in US dollars (0 to 100)"
                ));
            }
        }
        for (key, value) in [
            ("monthly_budget_usd", self.monthly_budget_usd),
            ("idr_per_usd", self.idr_per_usd),
        ] {
            if !(value >= 0.0 && value.is_finite()) {
                return Some(format!("costs.{key} = {value} must be 0 or more"));
            }
        }
        for (key, date) in [
            ("x_prices_date", &self.x_prices_date),
            ("whatsapp_prices_date", &self.whatsapp_prices_date),
        ] {
            if parse_date(date).is_none() {
                return Some(format!("costs.{key} = {date:?} is not a date (YYYY-MM-DD)"));
            }
        }
        None
    }
}

/// A `YYYY-MM-DD` date.
fn parse_date(text: &str) -> Option<time::Date> {
    let mut parts = text.splitn(3, '-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let month = time::Month::try_from(m.parse::<u8>().ok()?).ok()?;
    time::Date::from_calendar_date(y.parse().ok()?, month, d.parse().ok()?).ok()
}
