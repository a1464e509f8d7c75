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
        from = esc(&s.from_day),
        to = esc(&s.to_day),
        total = esc(&s.money(s.total_usd)),
        x = esc(&s.money(s.x_usd)),
        wa = esc(&s.money(s.whatsapp_usd)),
        projected = esc(&s.money(s.projected_usd)),
        x_date = esc(&s.x_prices_date),
        wa_date = esc(&s.whatsapp_prices_date),
    )
}
