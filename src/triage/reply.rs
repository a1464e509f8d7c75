//! The text the account posts for a decision: warm, short Indonesian, never a fact the knowledge
//! base does not hold. Every reply starts with the citizen's @handle.

use super::{Decision, Engine, Kind};
use crate::config::LinksInReplies;
use crate::knowledge::Links;
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
            answer_text(
                &entry.short_answer,
                engine.config().x.links_in_replies,
                decision.evidence.link_requested,
                engine.links(),
            )
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

/// A knowledge answer as posted under `[x] links_in_replies`: as written, or with every link
/// replaced by its channel's name. X bills a post with a URL twenty times a reply without one, so
/// under `on_request` the links stay only when the tweet asked for one (`link_requested`).
fn answer_text(
    short_answer: &str,
    setting: LinksInReplies,
    link_requested: bool,
    links: &Links,
) -> String {
    match setting {
        LinksInReplies::Always => short_answer.to_owned(),
        LinksInReplies::OnRequest if link_requested => short_answer.to_owned(),
        LinksInReplies::Never | LinksInReplies::OnRequest => links.unlinked(short_answer),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::tweet::{Splitter, urls};

    const KK: &str = "Halo kak, KK baru butuh formulir F1.02 & F1.01. Bisa di Dispendukcapil, MPP \
                      Merdeka, atau https://siapel.malangkota.go.id, gratis.";

    fn links() -> Links {
        let table =
            "siapel.malangkota.go.id\tsitus Si Apel\nmalangkota.go.id\tsitus resmi Pemkot Malang\n";
        let (links, problems) = Links::parse(table, Path::new("links.tsv"));
        assert_eq!(problems, []);
        links
    }

    #[test]
    fn always_posts_the_answer_as_written() {
        for asked in [false, true] {
            assert_eq!(answer_text(KK, LinksInReplies::Always, asked, &links()), KK);
        }
    }

    #[test]
    fn never_names_the_channel_and_keeps_the_punctuation() {
        for asked in [false, true] {
            let text = answer_text(KK, LinksInReplies::Never, asked, &links());
            assert!(
                text.ends_with("MPP Merdeka, atau situs Si Apel, gratis."),
                "{text}"
            );
            assert!(urls(&text).is_empty(), "{text}");
        }
    }

    #[test]
    fn on_request_keeps_the_link_only_when_asked() {
        let asked = answer_text(KK, LinksInReplies::OnRequest, true, &links());
        assert_eq!(asked, KK);
        let not_asked = answer_text(KK, LinksInReplies::OnRequest, false, &links());
        assert!(not_asked.contains("situs Si Apel"), "{not_asked}");
        assert!(urls(&not_asked).is_empty(), "{not_asked}");
    }

    #[test]
    fn a_bare_domain_is_replaced_too() {
        let text = "Halo kak, berita resmi ada di malangkota.go.id ya.";
        assert_eq!(
            answer_text(text, LinksInReplies::Never, false, &links()),
            "Halo kak, berita resmi ada di situs resmi Pemkot Malang ya."
        );
    }

    #[test]
    fn a_name_longer_than_its_link_still_leaves_tweets_x_accepts() {
        // A link weighs 23 however long it is; a name weighs its letters. An answer at the limit
        // with its link becomes a thread of valid tweets without it, as any long reply does.
        let long = format!("{}https://malangkota.go.id", "a ".repeat(120));
        assert!(crate::tweet::fits(&format!("@warga_malang_01 {long}")));
        let text = answer_text(&long, LinksInReplies::Never, false, &links());
        let parts = Splitter::default().split_unbounded("warga_malang_01", &text);
        assert_eq!(parts.len(), 2, "{parts:?}");
        assert!(parts.iter().all(|p| crate::tweet::fits(p)), "{parts:?}");
        assert!(parts.iter().all(|p| urls(p).is_empty()), "{parts:?}");
    }
}
