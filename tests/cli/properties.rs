//! Properties over generated input (proptest): personal numbers (NIK/KK, mobiles, Malang
//! landlines) never survive redaction, in any surrounding text and any common spelling, nor
//! leave the core by any path (outbox on every channel, tickets, notes, history, events, audit,
//! log lines); redaction is stable; triage and its replies take any text, and what the bot
//! would post fits in tweets and never carries the citizen's numbers; threads keep every word;
//! the knowledge-base parser refuses bad files without panicking.

use proptest::prelude::*;

use kicau::language::pii::redact;

use crate::helpers::engine;

/// A NIK or KK number: a province code (11 to 94), then 14 digits; plain or in groups.
fn id_number() -> impl Strategy<Value = String> {
    (
        11u32..=94,
        proptest::collection::vec(0u8..10, 14),
        prop_oneof![Just(""), Just(" "), Just("."), Just("-")],
    )
        .prop_map(|(province, rest, sep)| {
            let digits: String = format!("{province}")
                .chars()
                .chain(rest.iter().map(|d| char::from(b'0' + d)))
                .collect();
            digits
                .as_bytes()
                .chunks(4)
                .map(|c| std::str::from_utf8(c).unwrap())
                .collect::<Vec<_>>()
                .join(sep)
        })
}

/// An Indonesian mobile number: 08…, 628… or +628…, 10 to 13 digits in all, plain or grouped.
fn mobile() -> impl Strategy<Value = String> {
    (
        prop_oneof![Just("08"), Just("628"), Just("+628")],
        1u8..10,
        proptest::collection::vec(0u8..10, 7..=9),
        prop_oneof![Just(""), Just(" "), Just("-"), Just(".")],
    )
        .prop_map(|(prefix, first, rest, sep)| {
            let tail: String = rest.iter().map(|d| char::from(b'0' + d)).collect();
            let (a, b) = tail.split_at(3);
            format!("{prefix}{first}{a}{sep}{b}")
        })
}

/// A Malang landline: (0341) and six digits, bracketed, separated or plain.
fn landline() -> impl Strategy<Value = String> {
    (
        proptest::collection::vec(0u8..10, 6),
        prop_oneof![Just("(0341) "), Just("0341-"), Just("0341 "), Just("0341")],
    )
        .prop_map(|(rest, area)| {
            let number: String = rest.iter().map(|d| char::from(b'0' + d)).collect();
            format!("{area}{}{number}", if area == "0341" { "7" } else { "" })
        })
}

/// Words and punctuation around the number, never glued to it.
fn filler() -> impl Strategy<Value = String> {
    "[a-zA-Z ,!?:]{0,60}"
}

/// The ASCII digits of `text`, reading the spellings [`spelled`] writes as the digits they are.
fn digits(text: &str) -> String {
    text.chars()
        .filter_map(|c| {
            let n = c as u32;
            [0x30, 0xFF10, 0x0660, 0x1D7CE]
                .iter()
                .find(|&&zero| (zero..zero + 10).contains(&n))
                .map(|zero| char::from(b'0' + (n - zero) as u8))
        })
        .collect()
}

/// `number` as people and their phones write it: as is, glued to its label, in full-width or
/// Arabic-Indic or mathematical digits, groups spaced with dashes, or with invisible marks.
fn spelled(number: String) -> impl Strategy<Value = String> {
    let digit_in = |zero: u32| {
        move |s: &str| {
            s.chars()
                .map(|c| match c.to_digit(10) {
                    Some(d) => char::from_u32(zero + d).unwrap(),
                    None => c,
                })
                .collect::<String>()
        }
    };
    let n = number.clone();
    prop_oneof![
        Just(n.clone()),
        prop_oneof![
            Just("NIK"),
            Just("nik:"),
            Just("hp"),
            Just("WA"),
            Just("telp.")
        ]
        .prop_map(move |label| format!("{label}{n}")),
        Just(digit_in(0xFF10)(&number)),
        Just(digit_in(0x0660)(&number)),
        Just(digit_in(0x1D7CE)(&number)),
        Just(number.replace([' ', '-', '.'], " - ")),
        Just(number.replace([' ', '-', '.'], " – ")),
        Just(
            number
                .chars()
                .flat_map(|c| [c, '\u{200B}'])
                .collect::<String>()
        ),
    ]
}

proptest! {
    // 256 cases each (proptest's default); PROPTEST_CASES=5000 for a longer search.
    #[test]
    fn personal_numbers_never_survive_redaction(
        before in filler(),
        number in prop_oneof![id_number(), mobile(), landline()],
        after in filler(),
    ) {
        let text = format!("{before} {number} {after}");
        let out = redact(&text);
        let secret = digits(&number);
        // Not even its last seven digits remain anywhere, whatever the separators.
        prop_assert!(
            !digits(&out).contains(&secret[secret.len() - 7..]),
            "{text:?} -> {out:?}"
        );
    }

    #[test]
    fn personal_numbers_in_odd_spellings_never_survive_redaction(
        before in filler(),
        number in prop_oneof![id_number(), mobile()].prop_flat_map(spelled),
        after in filler(),
    ) {
        let text = format!("{before} {number} {after}");
        let out = redact(&text);
        let secret = digits(&number);
        prop_assert!(
            !digits(&out).contains(&secret[secret.len() - 7..]),
            "{text:?} -> {out:?}"
        );
    }

    #[test]
    fn redaction_is_stable(text in "\\PC{0,200}") {
        let once = redact(&text);
        prop_assert_eq!(redact(&once), once);
    }

    #[test]
    fn what_the_bot_would_post_fits_and_never_repeats_a_citizens_number(
        before in "[a-z ]{0,80}",
        number in prop_oneof![id_number(), mobile()],
        after in "[a-z ?]{0,80}",
    ) {
        let text = format!("@PemkotMalang {before} {number} {after}");
        let engine = engine();
        let decision = engine.triage(&text);
        let evidence = serde_json::to_string(&decision.evidence).unwrap();
        prop_assert!(!evidence.contains(&digits(&number)), "{evidence}");
        for tweet in engine.reply_thread(&decision, "warga") {
            prop_assert!(kicau::tweet::fits(&tweet), "{tweet}");
            prop_assert!(!digits(&tweet).contains(&digits(&number)), "{tweet}");
        }
    }

    #[test]
    fn triage_takes_any_text(text in "\\PC{0,400}") {
        let engine = engine();
        let decision = engine.triage(&text);
        for tweet in engine.reply_thread(&decision, "warga") {
            prop_assert!(kicau::tweet::fits(&tweet), "{tweet}");
        }
    }

    #[test]
    fn threads_fit_and_keep_every_word(
        words in proptest::collection::vec("[a-zA-Z0-9.,éü😀]{1,30}", 0..150),
    ) {
        let body = words.join(" ");
        let parts = kicau::tweet::thread("warga", &body);
        for part in &parts {
            prop_assert!(kicau::tweet::fits(part), "{part}");
        }
        let kept: Vec<&str> = parts
            .iter()
            .flat_map(|p| {
                let rest = p.strip_prefix("@warga ").unwrap();
                let rest = if parts.len() > 1 {
                    rest.split_once(") ").unwrap().1
                } else {
                    rest
                };
                rest.split_whitespace()
            })
            .collect();
        prop_assert_eq!(kept, body.split_whitespace().collect::<Vec<_>>());
    }

    #[test]
    fn the_knowledge_parser_refuses_bad_files_without_panicking(
        text in prop_oneof![
            "\\PC{0,300}",
            "---\n[a-z_]{1,10} = \"[^\"\n]{0,20}\"\n(---\n)?\\PC{0,100}",
        ],
    ) {
        if let Err(e) = kicau::knowledge::entry::parse(std::path::Path::new("x.md"), &text) {
            prop_assert!(e.line >= 1, "{e}");
            prop_assert!(e.to_string().starts_with("x.md:"), "{e}");
        }
    }
}

/// Everything that leaves the core, or stays in it for staff, after a citizen's report, an
/// agency's note and a staff member's reopening note each carried `number`: the outbox (X,
/// Telegram, WhatsApp), the tickets' texts, notes and history, events, the audit log and every
/// log line written meanwhile.
fn outgoing_after_a_report_carrying(number: &str) -> Vec<String> {
    use std::sync::{Arc, Mutex};

    use kicau::tickets::{Mover, TicketState};

    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Lines {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let lines = Lines::default();
    let writer = lines.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .finish();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut out = tracing::subscriber::with_default(subscriber, || {
        runtime.block_on(async {
            let (store, _dir) = crate::helpers::sqlite().await;
            let tickets = crate::helpers::tickets_with(|_| {});
            let desk = kicau::desk::Desk::new(store.clone());
            let group = kicau::staff_group::StaffGroup {
                desk: desk.clone(),
                // Never called: notices only become outbox rows here.
                client: kicau::channels::telegram::TelegramClient::new("1:x", "http://127.0.0.1:9")
                    .unwrap(),
                staff_chat: -1001000000001,
                command_centre: None,
                tickets: Some(tickets.clone()),
                weekly_report: None,
                lessons: None,
            };
            group.notify_once().await.unwrap();
            for (id, agency) in [("801", "dpuprpkp"), ("802", "tugu-tirta")] {
                let text =
                    format!("@PemkotMalang jalan berlubang di jl tidar, hubungi {number} ya");
                let ticket = crate::helpers::file_ticket_saying(
                    &store, &tickets, id, "warga80", agency, &text,
                )
                .await;
                let note = format!("sudah kami hubungi di {number}, segera diperbaiki");
                tickets
                    .add_note(&store, &ticket, "DPUPRPKP (@petugas_pu)", &note, "telegram")
                    .await
                    .unwrap();
                tickets
                    .transition(
                        &store,
                        &ticket,
                        TicketState::Resolved,
                        &crate::helpers::AGENCY_MEMBER,
                    )
                    .await
                    .unwrap();
                let note = format!("warga {number} bilang belum beres");
                let staff = Mover {
                    name: "sari",
                    staff: true,
                    note: &note,
                };
                tickets
                    .transition(&store, &ticket, TicketState::InProgress, &staff)
                    .await
                    .unwrap();
            }
            while group.notify_once().await.unwrap() {}
            let mut out = Vec::new();
            for sql in [
                "SELECT payload FROM outbox",
                "SELECT text FROM tickets",
                "SELECT note FROM ticket_history",
                "SELECT note || COALESCE(sent_text, '') FROM ticket_notes",
                "SELECT detail FROM events",
                "SELECT detail FROM audit_log",
            ] {
                let rows: Vec<String> = sqlx::query_scalar::<sqlx::Any, String>(sql)
                    .fetch_all(store.pool())
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
                out.extend(rows);
            }
            assert!(
                out.iter().any(|p| p.contains("-1002000000001")),
                "the agency's Telegram message is among them: {out:?}"
            );
            assert!(
                out.iter().any(|p| p.contains("6281200000005")),
                "the agency's WhatsApp message is among them"
            );
            out
        })
    });
    let log = String::from_utf8_lossy(&lines.0.lock().unwrap()).into_owned();
    assert!(log.contains("ticket moved"), "the log is captured: {log}");
    out.push(log);
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// The bar of issue 12: no generated NIK or phone number, in any of the spellings above,
    /// survives any path out of the core.
    #[test]
    fn personal_numbers_never_leave_through_any_path(
        number in prop_oneof![id_number(), mobile()].prop_flat_map(spelled),
    ) {
        let secret = digits(&number);
        let tail = &secret[secret.len() - 7..];
        for text in outgoing_after_a_report_carrying(&number) {
            prop_assert!(!digits(&text).contains(tail), "{number:?} left in {text:?}");
        }
    }
}
