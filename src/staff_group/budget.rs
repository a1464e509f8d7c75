//! The month's budget warnings to the staff group: at 50%, 80% and 100% of `[costs]
//! monthly_budget_usd`, once each per month (the highest reached, when spending jumps past
//! several at once). The cursor holds the month and the last threshold warned, and moves in
//! the transaction that queues the message, whose idempotency key names both again.

use super::{StaffGroup, post};
use crate::channels::telegram::escape;
use crate::config::CostsConfig;
use crate::desk::DeskError;
use crate::store::now_ms;

const BUDGET_CURSOR: &str = "telegram.budget_warning";

impl StaffGroup {
    /// Queues a warning when the month's spending reached a threshold not yet warned this
    /// month. Returns whether it queued one.
    pub async fn budget_once(&self, costs: &CostsConfig, now: i64) -> Result<bool, DeskError> {
        if costs.monthly_budget_usd <= 0.0 {
            return Ok(false);
        }
        let store = self.desk.store();
        let spending = crate::costs::month_to_date(store, costs, now).await?;
        let Some(threshold) = spending.threshold() else {
            return Ok(false);
        };
        let month = spending.from_day.get(..7).unwrap_or("").to_owned();
        let warned = store.cursor(BUDGET_CURSOR).await?.and_then(|v| {
            let (m, t) = v.split_once(':')?;
            (m == month).then(|| t.parse::<u8>().ok()).flatten()
        });
        if warned.is_some_and(|t| t >= threshold) {
            return Ok(false);
        }
        let what = match threshold {
            100 if spending.essential() => {
                "Mulai sekarang hanya yang penting dikirim: balasan darurat, balasan petugas dan \
                 kabar tiket. Jawaban otomatis dan tanda terima hand-off berhenti sampai bulan \
                 depan atau sampai anggaran dinaikkan (bot.toml [costs]); pertanyaan warga masuk \
                 antrean petugas."
            }
            100 => "Semua tetap berjalan (bot.toml [costs] at_budget = \"keep\").",
            _ if costs.at_budget == crate::config::AtBudget::Essential => {
                "Pada 100%, jawaban otomatis dan tanda terima hand-off akan berhenti; darurat, \
                 balasan petugas dan kabar tiket tetap dikirim."
            }
            _ => "Pada 100%, semua tetap berjalan (at_budget = \"keep\").",
        };
        let html = format!(
            "💰 <b>Biaya platform {threshold}% dari anggaran</b>\n\
             Terpakai {spent} dari {budget} ({from} s.d. {to}); perkiraan akhir bulan {projected}.\n\
             {what}\nRincian: halaman Ringkasan di konsol.",
            spent = escape(&spending.money(spending.total_usd)),
            budget = escape(&spending.money(costs.monthly_budget_usd)),
            from = escape(&spending.from_day),
            to = escape(&spending.to_day),
            projected = escape(&spending.money(spending.projected_usd)),
            what = escape(what),
        );
        let key = format!("tg:budget:{month}:{threshold}:{}", self.staff_chat);
        let mut tx = store.begin().await?;
        crate::store::set_cursor(&mut tx, BUDGET_CURSOR, &format!("{month}:{threshold}"), now)
            .await?;
        crate::store::insert_outbox(
            &mut tx,
            &post(self.staff_chat, html).outbox(key, 0),
            now_ms(),
        )
        .await?;
        tx.commit().await?;
        tracing::warn!(threshold, month = %month, "the month's platform budget reached a warning threshold");
        Ok(true)
    }
}
