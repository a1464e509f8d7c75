//! The platform costs on "Ringkasan": the month's spending so far, its projection, the budget
//! as a bar, and each billed unit with its price (`crate::costs`).

use super::esc;
use crate::costs::{Spending, decimal};

/// The "Biaya platform" section of the summary page.
pub fn spending_section(s: &Spending) -> String {
    let budget = match (s.budget_usd, s.budget_share) {
        (Some(budget), Some(share)) => {
            let percent = share * 100.0;
            let state = match s.threshold() {
                Some(100) if s.essential() => {
                    "<p class=\"urgent\">Anggaran habis: balasan otomatis dan tanda terima \
                     hand-off berhenti; darurat, balasan petugas dan kabar tiket tetap dikirim.</p>"
                }
                Some(100) => {
                    "<p class=\"urgent\">Anggaran habis; semua tetap berjalan \
                              (bot.toml: at_budget = \"keep\").</p>"
                }
                Some(_) => "<p class=\"note\">Peringatan sudah dikirim ke grup petugas.</p>",
                None => "",
            };
            format!(
                "<tr><th>Anggaran bulanan</th><td>{money} \
                 <meter min=\"0\" max=\"100\" low=\"50\" high=\"80\" optimum=\"0\" value=\"{bar:.0}\" \
                 aria-label=\"terpakai {percent:.0}%\">{percent:.0}%</meter> \
                 <small>terpakai {percent:.0}%</small></td></tr></tbody></table>{state}",
                money = esc(&s.money(budget)),
                bar = percent.min(100.0),
            )
        }
        _ => "<tr><th>Anggaran bulanan</th><td><small>belum ditetapkan \
              (bot.toml: [costs] monthly_budget_usd)</small></td></tr></tbody></table>"
            .to_owned(),
    };
    let mut rows = String::new();
    for line in &s.lines {
        rows.push_str(&format!(
            "<tr><td>{label}<br><small>{count} × US${price}</small></td><td>{usd}</td></tr>",
            label = esc(line.label),
            count = line.count,
            price = decimal(line.price_usd, 3),
            usd = esc(&s.money(line.usd)),
        ));
    }
    let units = if rows.is_empty() {
        "<p class=\"empty\">Belum ada pemakaian berbayar bulan ini.</p>".to_owned()
    } else {
        format!(
            "<table><thead><tr><th>Pemakaian <small>(jumlah × harga satuan)</small></th>\
             <th>Biaya</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    };
    format!(
        "<h2>Biaya platform bulan ini</h2>\
         <table class=\"figures\"><tbody>\
         <tr><th>Terpakai ({from} s.d. {to})</th><td>{total} <small>X {x}, WhatsApp {wa}</small></td></tr>\
         <tr><th>Perkiraan sampai akhir bulan</th><td>{projected}</td></tr>{budget}{units}\
         <p class=\"note\">Harga X per {x_date}, WhatsApp per {wa_date} (bot.toml [costs]); \
         X menagih satu kali per sumber per hari (UTC). Telegram gratis.</p>",
        from = esc(&day(&s.from_day)),
        to = esc(&day(&s.to_day)),
        total = esc(&s.money(s.total_usd)),
        x = esc(&s.money(s.x_usd)),
        wa = esc(&s.money(s.whatsapp_usd)),
        projected = esc(&s.money(s.projected_usd)),
        x_date = esc(&day(&s.x_prices_date)),
        wa_date = esc(&day(&s.whatsapp_prices_date)),
    )
}

/// A `YYYY-MM-DD` day as pages write days, `6 Feb 2026` (as given when it is no such day).
fn day(iso: &str) -> String {
    let parts: Vec<&str> = iso.splitn(3, '-').collect();
    match parts[..] {
        [year, month, day] => match (
            month.parse::<usize>().ok().filter(|m| (1..=12).contains(m)),
            day.parse::<u8>(),
        ) {
            (Some(month), Ok(day)) => format!("{day} {} {year}", super::MONTHS[month - 1]),
            _ => iso.to_owned(),
        },
        _ => iso.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn days_read_as_people_write_them() {
        assert_eq!(super::day("2026-02-06"), "6 Feb 2026");
        assert_eq!(super::day("2025-12-31"), "31 Des 2025");
        assert_eq!(super::day("kemarin"), "kemarin");
    }
}
