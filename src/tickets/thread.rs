//! A citizen's words about their own ticket: a ticket number in a tweet ("cek laporan
//! MLG-2026-000123"), and what a reply in a ticket's thread asks (its status, or a dispute).

/// Finds a ticket number in a text ("cek laporan MLG-2026-000123").
pub fn number_in(text: &str) -> Option<String> {
    static PATTERN: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = PATTERN
        .get_or_init(|| regex::Regex::new(r"(?i)\bMLG-(\d{4})-(\d{6})\b").expect("valid pattern"));
    re.captures(text)
        .map(|c| format!("MLG-{}-{}", &c[1], &c[2]))
}

/// What a citizen's reply in a ticket's thread is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadReply {
    /// Asks how far the ticket got ("laporan saya sudah sampai mana?").
    AsksStatus,
    /// Says the problem is still there ("katanya selesai tapi masih berlubang"): a dispute
    /// when the ticket is resolved, a question about progress while it is not.
    NotFixed,
    /// Something else: the usual triage decides.
    Other,
}

/// Reads a citizen's reply in a ticket's thread. Lower-cased words only; personal data plays no
/// part.
pub fn thread_reply(text: &str) -> ThreadReply {
    static PATTERNS: std::sync::OnceLock<[regex::Regex; 3]> = std::sync::OnceLock::new();
    let [not_fixed, about, question] = PATTERNS.get_or_init(|| {
        let re = |p: &str| regex::Regex::new(p).expect("valid pattern");
        [
            re(r"(?i)\b(masih|tetep|tetap|msh|blm beres|belum beres|ga beres|gak beres|nggak beres|tidak beres|belum selesai|blm selesai|belum diperbaiki|blm diperbaiki|belum ada perbaikan|kambuh|rusak lagi|mati lagi|numpuk lagi)\b"),
            re(r"(?i)\b((laporan|status|progres|progress|perkembangan)\w*|sampai mana|sampe mana|sejauh mana|tindak ?lanjut|ditindak ?lanjuti|diproses|ditangani|dikerjakan|diperbaiki|dibenerin|kapan)\b"),
            re(r"(?i)(\?|\b(gimana|bagaimana|gmn|piye|kapan|apa|apakah|opo|sudah|udah|dah|sdh|belum|blm|kok)\b)"),
        ]
    });
    if not_fixed.is_match(text) {
        ThreadReply::NotFixed
    } else if about.is_match(text) && question.is_match(text) {
        ThreadReply::AsksStatus
    } else {
        ThreadReply::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tickets::TicketState;

    #[test]
    fn replies_in_a_ticket_thread_are_read_as_status_questions_or_disputes() {
        use ThreadReply::*;
        for (text, expected) in [
            (
                "@PemkotMalang min laporan saya sudah sampai mana?",
                AsksStatus,
            ),
            ("@PemkotMalang gimana progresnya min", AsksStatus),
            ("@PemkotMalang kapan diperbaiki min?", AsksStatus),
            (
                "@PemkotMalang katanya selesai tapi lubangnya masih ada",
                NotFixed,
            ),
            ("@PemkotMalang belum beres min, tetep berlubang", NotFixed),
            (
                "@PemkotMalang sudah selesai? kok masih gelap lampunya",
                NotFixed,
            ),
            ("@PemkotMalang makasih min sudah cepat", Other),
            ("@PemkotMalang jalan di depan sekolah juga rusak", Other),
        ] {
            assert_eq!(thread_reply(text), expected, "{text}");
        }
    }

    #[test]
    fn the_allowed_jumps_are_designs() {
        use TicketState::*;
        assert!(Open.may_move(Resolved, false));
        assert!(Acknowledged.may_move(InProgress, false));
        assert!(!Acknowledged.may_move(Open, false));
        assert!(!InProgress.may_move(Acknowledged, false));
        assert!(!Resolved.may_move(InProgress, false));
        assert!(Resolved.may_move(InProgress, true));
        assert!(Rejected.next().is_empty());
    }

    #[test]
    fn numbers_are_found_in_any_case() {
        assert_eq!(
            number_in("min cek laporan mlg-2026-000123 dong").as_deref(),
            Some("MLG-2026-000123")
        );
        assert_eq!(number_in("MLG-26-1"), None);
    }
}
