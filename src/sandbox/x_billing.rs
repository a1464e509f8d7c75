/*!
X's pay-per-use counters (SANDBOX.md, X): since February 2026 X bills self-serve apps per
resource. The sandbox counts what the city's app would pay, so the bot's own cost accounting can
be checked against `GET /sandbox/x/usage`.

The price list, per unit:

| kind | what | USD |
|---|---|---|
| `own_mentions_read` | a post read from the account's own mentions timeline | 0.001 |
| `posts_read` | any other post read (a post by id, a user's posts, another user's mentions, posts in `includes.tweets`/`includes.posts`) | 0.005 |
| `users_read` | a user object (`users/me`, a user by username, each user in `includes.users`) | 0.010 |
| `posts_created` | a post created | 0.015 |
| `summoned_replies` | a reply to a post whose author mentioned the account, instead of `posts_created` | 0.010 |
| `posts_with_url` | a post containing a URL, instead of either of the two above | 0.200 |

The same resource (kind and id) is billed once per UTC day. Only the city's app is billed (the
account, and app-only callers); citizens are the simulated public. Callers bill only answers
that succeeded. Amounts are kept in millionths of a dollar, so sums are exact to six decimals.
*/

use std::collections::{BTreeMap, HashSet};

use serde_json::{Map, Value, json};

use crate::sandbox::common::utc_date;

/// What X bills for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Charge {
    OwnMentionsRead,
    PostsRead,
    UsersRead,
    PostsCreated,
    SummonedReplies,
    PostsWithUrl,
}

impl Charge {
    /// Every kind, in the order the usage document lists them.
    const ALL: [Charge; 6] = [
        Charge::OwnMentionsRead,
        Charge::PostsRead,
        Charge::UsersRead,
        Charge::PostsCreated,
        Charge::SummonedReplies,
        Charge::PostsWithUrl,
    ];

    /// The key in the usage document.
    fn name(self) -> &'static str {
        match self {
            Charge::OwnMentionsRead => "own_mentions_read",
            Charge::PostsRead => "posts_read",
            Charge::UsersRead => "users_read",
            Charge::PostsCreated => "posts_created",
            Charge::SummonedReplies => "summoned_replies",
            Charge::PostsWithUrl => "posts_with_url",
        }
    }

    /// The price of one unit in millionths of a US dollar.
    fn micro_usd(self) -> u64 {
        match self {
            Charge::OwnMentionsRead => 1_000,
            Charge::PostsRead => 5_000,
            Charge::UsersRead => 10_000,
            Charge::PostsCreated => 15_000,
            Charge::SummonedReplies => 10_000,
            Charge::PostsWithUrl => 200_000,
        }
    }

    fn index(self) -> usize {
        Charge::ALL
            .iter()
            .position(|c| *c == self)
            .expect("every kind is listed")
    }
}

/// One UTC day's counts, and what was billed that day (billed once per kind and id).
#[derive(Debug, Default)]
struct Day {
    units: [u64; 6],
    seen: HashSet<(Charge, String)>,
}

/// The counters of one sandbox, by UTC day.
#[derive(Debug, Default)]
pub(super) struct Billing {
    /// Keyed by `YYYY-MM-DD`, which sorts oldest first.
    days: BTreeMap<String, Day>,
}

impl Billing {
    /// Bills `charge` for the resource `id` at `now_ms`, unless it was billed already that UTC
    /// day.
    pub(super) fn charge(&mut self, now_ms: u64, charge: Charge, id: &str) {
        let day = self.days.entry(utc_date(now_ms)).or_default();
        if day.seen.insert((charge, id.to_owned())) {
            day.units[charge.index()] += 1;
        }
    }

    /// Bills what a successful read answered: each item of `data` (one object or an array) as
    /// `primary`, each post in `includes.tweets` or `includes.posts` as a post read and each
    /// user in `includes.users` as a user read.
    pub(super) fn charge_read(&mut self, now_ms: u64, body: &Value, primary: Charge) {
        let ids = |value: &Value| -> Vec<String> {
            let items = match value {
                Value::Array(items) => items.iter().collect(),
                Value::Object(_) => vec![value],
                _ => Vec::new(),
            };
            items
                .into_iter()
                .filter_map(|item| item["id"].as_str().map(str::to_owned))
                .collect()
        };
        for id in ids(&body["data"]) {
            self.charge(now_ms, primary, &id);
        }
        let includes = &body["includes"];
        for key in ["tweets", "posts"] {
            for id in ids(&includes[key]) {
                self.charge(now_ms, Charge::PostsRead, &id);
            }
        }
        for id in ids(&includes["users"]) {
            self.charge(now_ms, Charge::UsersRead, &id);
        }
    }

    /// The body of `GET /sandbox/x/usage`: the price list, each day's units and dollars (oldest
    /// first, UTC dates) and the totals.
    pub(super) fn usage(&self) -> Value {
        let prices: Map<String, Value> = Charge::ALL
            .iter()
            .map(|c| (c.name().to_owned(), dollars(c.micro_usd())))
            .collect();
        let mut total = [0u64; 6];
        let days: Vec<Value> = self
            .days
            .iter()
            .map(|(date, day)| {
                for (sum, units) in total.iter_mut().zip(day.units) {
                    *sum += units;
                }
                json!({"date": date, "units": units_json(&day.units), "usd": cost(&day.units)})
            })
            .collect();
        json!({
            "prices_usd": prices,
            "days": days,
            "total": {"units": units_json(&total), "usd": cost(&total)},
        })
    }
}

fn units_json(units: &[u64; 6]) -> Value {
    let map: Map<String, Value> = Charge::ALL
        .iter()
        .map(|c| (c.name().to_owned(), json!(units[c.index()])))
        .collect();
    Value::Object(map)
}

fn cost(units: &[u64; 6]) -> Value {
    dollars(
        Charge::ALL
            .iter()
            .map(|c| units[c.index()] * c.micro_usd())
            .sum(),
    )
}

/// Millionths of a dollar as a JSON number of dollars (six decimals at most, by construction).
fn dollars(micro: u64) -> Value {
    json!(micro as f64 / 1_000_000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-06T23:59:59Z and one second later.
    const LATE: u64 = 1_796_601_599_000;
    const NEXT_DAY: u64 = LATE + 1_000;

    #[test]
    fn the_same_resource_is_billed_once_per_utc_day() {
        let mut billing = Billing::default();
        billing.charge(LATE, Charge::OwnMentionsRead, "1");
        billing.charge(LATE, Charge::OwnMentionsRead, "1");
        billing.charge(LATE, Charge::PostsRead, "1");
        billing.charge(NEXT_DAY, Charge::OwnMentionsRead, "1");
        let usage = billing.usage();
        assert_eq!(usage["days"][0]["date"], "2026-12-06");
        assert_eq!(usage["days"][0]["units"]["own_mentions_read"], 1);
        assert_eq!(usage["days"][0]["units"]["posts_read"], 1);
        assert_eq!(usage["days"][0]["usd"], 0.006);
        assert_eq!(usage["days"][1]["date"], "2026-12-07");
        assert_eq!(usage["days"][1]["usd"], 0.001);
        assert_eq!(usage["total"]["units"]["own_mentions_read"], 2);
        assert_eq!(usage["total"]["usd"], 0.007);
    }

    #[test]
    fn reads_bill_their_data_and_includes() {
        let mut billing = Billing::default();
        let body = json!({
            "data": [{"id": "10"}, {"id": "11"}],
            "includes": {"users": [{"id": "7"}], "posts": [{"id": "9"}], "media": [{"media_key": "3_1"}]},
        });
        billing.charge_read(LATE, &body, Charge::OwnMentionsRead);
        billing.charge_read(LATE, &json!({"data": {"id": "7"}}), Charge::UsersRead);
        let total = &billing.usage()["total"];
        assert_eq!(
            total["units"],
            json!({"own_mentions_read": 2, "posts_read": 1, "users_read": 1,
                   "posts_created": 0, "summoned_replies": 0, "posts_with_url": 0})
        );
        assert_eq!(total["usd"], 0.017);
    }

    #[test]
    fn the_price_list_and_an_empty_usage() {
        let usage = Billing::default().usage();
        assert_eq!(
            usage["prices_usd"],
            json!({"own_mentions_read": 0.001, "posts_read": 0.005, "users_read": 0.01,
                   "posts_created": 0.015, "summoned_replies": 0.01, "posts_with_url": 0.2})
        );
        assert_eq!(usage["days"], json!([]));
        assert_eq!(usage["total"]["usd"], 0.0);
    }
}
