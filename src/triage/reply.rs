//! The text the account posts for a decision: warm, short Indonesian, never a fact the knowledge
//! base does not hold. Every reply starts with the citizen's @handle.

use super::{Decision, Engine, Kind};
use crate::tweet::{HANDLE_ALLOWANCE, MAX_WEIGHTED_LENGTH, weighted_length};

/// Added when the citizen wrote personal data in public, if it still fits in the tweet.
const PRIVACY_NOTE: &str =
    " Demi keamanan, mohon jangan menulis NIK atau nomor HP di kolom publik ya.";

/// The reply's text without the leading @handle, or `None` when nothing is posted.
pub(super) fn compose(engine: &Engine, decision: &Decision) -> Option<String> {
    let body = match decision.kind {
        Kind::Ignore => return None,
        Kind::Emergency => {
            let numbers = if decision.medical {
                "112 atau 119 (ambulans)"
            } else {
                "112"
            };
            format!(
                "Segera telepon {numbers}: gratis, 24 jam. Utamakan keselamatan dan \
                 menjauh dari bahaya. Petugas kami sudah kami beri tahu dan akan memantau \
                 laporan kakak."
            )
        }
        Kind::Answer => {
            let entry = engine.entry(decision.topic.as_deref()?)?;
            entry.short_answer.clone()
        }
        Kind::Report => {
            let agency = engine.config().agency(decision.agency.as_deref()?)?;
            if !agency.tickets {
                return Some(
                    "Halo kak, terima kasih laporannya. Hal ini di luar kewenangan Pemerintah \
                     Kota Malang; petugas kami akan membalas di utas ini ke instansi mana kakak \
                     bisa melapor."
                        .to_owned(),
                );
            }
            format!(
                "Halo kak, terima kasih laporannya. Laporan ini kami teruskan ke {} untuk \
                 ditindaklanjuti, dan perkembangannya kami kabarkan di utas ini.",
                agency.short_name
            )
        }
        Kind::Handoff => "Halo kak, terima kasih sudah menghubungi kami. Pesan kakak sudah \
                          kami teruskan ke petugas, yang akan membalas langsung di utas ini \
                          secepatnya."
            .to_owned(),
    };
    let mut reply = body;
    if !decision.evidence.personal_data.is_empty() && decision.kind != Kind::Emergency {
        let with_note = format!("{reply}{PRIVACY_NOTE}");
        if weighted_length(&with_note) + HANDLE_ALLOWANCE <= MAX_WEIGHTED_LENGTH {
            reply = with_note;
        }
    }
    Some(reply)
}
