//! What the console's pages say instead of the machine's names: agencies by their names from
//! bot.toml, triage's decisions as sentences ("Diteruskan ke DPUPRPKP: Jalan rusak"), the
//! evidence behind them for people (the words that decided, the scores as bars), and the audit
//! log's actions in Indonesian. No page shows an agency id, a rule name or raw JSON; the API
//! keeps them.

use serde_json::Value;

use super::esc;
use crate::config::Config;
use crate::desk::{DecisionRecord, reason_label};

/// An agency as staff read it: its short name from bot.toml ("DPUPRPKP"). An id bot.toml no
/// longer knows is shown in capitals, never as the lowercase id.
pub fn agency(config: &Config, id: &str) -> String {
    config
        .agencies
        .iter()
        .find(|a| a.id == id)
        .map(|a| a.short_name.clone())
        .unwrap_or_else(|| id.to_uppercase())
}

/// A knowledge entry by its title ("KTP elektronik baru"); an id the base no longer has is
/// written as words.
pub fn topic(engine: &crate::triage::Engine, id: &str) -> String {
    engine
        .entry(id)
        .map(|e| e.title.clone())
        .unwrap_or_else(|| id.replace('-', " "))
}

/// A model label as an action: "jawab: KTP elektronik baru", "teruskan ke DPUPRPKP",
/// "serahkan ke petugas", "darurat", "abaikan".
pub fn label(engine: &crate::triage::Engine, label: &str) -> String {
    match label.split_once(' ') {
        Some(("answer", id)) => format!("jawab: {}", topic(engine, id)),
        Some(("report", id)) => format!("teruskan ke {}", agency(engine.config(), id)),
        _ => match label {
            "handoff" => "serahkan ke petugas".to_owned(),
            "emergency" => "darurat".to_owned(),
            "ignore" => "abaikan".to_owned(),
            other => other.replace('_', " "),
        },
    }
}

/// Why the bot kept quiet, for the decisions of kind `ignore`.
fn ignored(rule: &str) -> &'static str {
    match rule {
        "own_tweet" => "twit akun sendiri",
        "retweet" => "retweet, bukan pertanyaan",
        "not_a_mention" => "tidak menyebut akun",
        "opted_out" => "warga sudah menulis \"stop\"",
        _ => "spam, hinaan atau bukan untuk dijawab",
    }
}

/// A decision as one sentence: what the bot did and why.
pub fn decision(engine: &crate::triage::Engine, d: &DecisionRecord) -> String {
    let learned = if d.rule == "example" {
        " (dari contoh yang sudah dikoreksi)"
    } else {
        ""
    };
    match d.kind.as_str() {
        "answer" => match d.rule.as_str() {
            "ticket_status" => "Dijawab bot: status laporan".to_owned(),
            "opt_out" => "Warga menulis \"stop\": balasan otomatis dihentikan".to_owned(),
            "opt_in" => "Warga menulis \"mulai\": balasan otomatis aktif lagi".to_owned(),
            _ => match d.topic.as_deref() {
                Some(t) => format!("Dijawab bot: {}{learned}", topic(engine, t)),
                None => format!("Dijawab bot{learned}"),
            },
        },
        "report" => {
            let to = d
                .agency
                .as_deref()
                .map(|a| agency(engine.config(), a))
                .unwrap_or_else(|| "instansi".to_owned());
            match d.topic.as_deref() {
                Some(t) => format!("Diteruskan ke {to}: {}{learned}", topic(engine, t)),
                None => format!("Diteruskan ke {to}{learned}"),
            }
        }
        "emergency" => format!("Darurat: balasan 112 dikirim, petugas diberi tahu{learned}"),
        "handoff" => format!("Diserahkan ke petugas: {}{learned}", reason_label(&d.rule)),
        "ignore" => format!("Diabaikan: {}", ignored(&d.rule)),
        other => format!("Keputusan {}", other.replace('_', " ")),
    }
}

/// A share (0..1) as a bar with its percentage, for people and screen readers alike.
fn bar(share: f64) -> String {
    // A meter, not a styled span: the console's CSP allows no inline style.
    let share = share.clamp(0.0, 1.0);
    let pct = (share * 100.0).round();
    format!(
        "<meter class=\"bar\" min=\"0\" max=\"1\" value=\"{share:.2}\" \
         aria-label=\"{pct:.0} persen\">{pct:.0}%</meter> {pct:.0}%"
    )
}

/// The words of the features that weighed for the decision ("word saya", "stem anak"),
/// without character fragments and repeats.
fn deciding_words(evidence: &Value) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for item in evidence["weighed"].as_array().into_iter().flatten() {
        let (Some(name), Some(weight)) = (item[0].as_str(), item[1].as_f64()) else {
            continue;
        };
        let Some((kind, value)) = name.split_once(' ') else {
            continue;
        };
        if weight > 0.0
            && matches!(kind, "word" | "stem" | "phrase" | "bigram")
            && !words.iter().any(|w| w == value)
        {
            words.push(value.replace('_', " "));
        }
    }
    words.truncate(8);
    words
}

/// The evidence behind a decision, for people: the model's leading choices as bars, the words
/// that decided, the nearest knowledge entries, corrected typos, and which kinds of personal data
/// the tweet held (never the data). Empty when the decision carries none (the worker's own).
pub fn evidence(engine: &crate::triage::Engine, evidence: &Value) -> String {
    let mut out = String::new();
    let labels: Vec<String> = evidence["labels"]
        .as_array()
        .into_iter()
        .flatten()
        .take(3)
        .filter_map(|l| Some((l[0].as_str()?, l[1].as_f64()?)))
        .map(|(l, p)| format!("<li>{} {}</li>", esc(&label(engine, l)), bar(p)))
        .collect();
    if !labels.is_empty() {
        out.push_str(&format!(
            "<p>Pilihan model:</p><ul class=\"scores\">{}</ul>",
            labels.concat()
        ));
    }
    let words = deciding_words(evidence);
    if !words.is_empty() {
        let words: Vec<String> = words.iter().map(|w| format!("«{}»", esc(w))).collect();
        out.push_str(&format!(
            "<p>Kata yang paling menentukan: {}</p>",
            words.join(", ")
        ));
    }
    let candidates: Vec<String> = evidence["candidates"]
        .as_array()
        .into_iter()
        .flatten()
        .take(3)
        .filter_map(|c| Some((c["topic"].as_str()?, c["coverage"].as_f64()?)))
        .map(|(t, coverage)| {
            format!(
                "<li>{} · kata yang cocok {}</li>",
                esc(&topic(engine, t)),
                bar(coverage)
            )
        })
        .collect();
    if !candidates.is_empty() {
        out.push_str(&format!(
            "<p>Jawaban terdekat di basis pengetahuan:</p><ul class=\"scores\">{}</ul>",
            candidates.concat()
        ));
    }
    let corrected: Vec<String> = evidence["corrected"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| Some((c[0].as_str()?, c[1].as_str()?)))
        .map(|(written, read)| format!("«{}» dibaca «{}»", esc(written), esc(read)))
        .collect();
    if !corrected.is_empty() {
        out.push_str(&format!("<p>Salah ketik: {}.</p>", corrected.join(", ")));
    }
    let personal: Vec<&str> = evidence["personal_data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(personal_kind)
        .collect();
    if !personal.is_empty() {
        out.push_str(&format!(
            "<p>Twit ini memuat data pribadi ({}); di konsol ditampilkan tersamar.</p>",
            personal.join(", ")
        ));
    }
    out
}

fn personal_kind(kind: &str) -> &'static str {
    match kind {
        "nik" => "NIK",
        "phone" => "nomor telepon",
        "email" => "alamat email",
        "kk" => "nomor KK",
        _ => "data pribadi lain",
    }
}

/// An audit action in Indonesian.
pub fn audit_action(action: &str) -> &'static str {
    match action {
        "claim" => "mengambil alih percakapan",
        "release" => "mengembalikan percakapan ke bot",
        "close" => "menutup percakapan",
        "reply" => "membalas warga",
        "released_tweets" => "mengirim balasan yang tertahan",
        "handoff" => "menyerahkan percakapan ke petugas",
        "correction" => "mengusulkan koreksi keputusan",
        "correction_accept" => "menerima koreksi keputusan",
        "correction_drop" => "menolak koreksi keputusan",
        "pii_reveal" => "membuka data pribadi warga",
        "privacy_forget" => "menghapus data warga atas permintaan",
        "privacy_retention" => "menghapus data lama (masa simpan habis)",
        "opt_out" => "warga menghentikan balasan otomatis",
        "opt_in" => "warga mengaktifkan lagi balasan otomatis",
        "ticket_open" => "membuat laporan ke instansi",
        "ticket_state" => "mengubah status laporan",
        "ticket_reroute" => "mengalihkan laporan ke instansi lain",
        "ticket_reminder" => "mengingatkan instansi soal batas waktu",
        "ticket_note" => "meneruskan kabar instansi",
        "ticket_note_held" => "menahan kabar instansi untuk disetujui",
        "ticket_note_approved" => "menyetujui kabar instansi",
        "ticket_note_dropped" => "tidak meneruskan kabar instansi",
        "ticket_place" => "membetulkan lokasi laporan",
        "staff_add" => "menambah akun petugas",
        "password_reset" => "mengatur ulang kata sandi",
        "token_issue" => "membuat token API",
        "token_revoke" => "mencabut token API",
        "account_locked" => "akun terkunci karena salah kata sandi",
        "account_unlocked" => "membuka kunci akun",
        "login" => "masuk ke konsol",
        "note" => "menulis catatan internal",
        "assign" => "menyerahkan percakapan ke rekan",
        _ => "tindakan lain",
    }
}

/// What an audit detail's keys mean, for the "rincian" of a log line; unknown keys are left out.
fn detail_key(key: &str) -> Option<&'static str> {
    Some(match key {
        "rule" => "alasan",
        "agency" => "instansi",
        "from" => "dari",
        "to" => "ke",
        "note" => "catatan",
        "label" => "keputusan yang benar",
        "decided" => "keputusan bot",
        "tweets" => "jumlah twit",
        "place" => "lokasi",
        "reason" => "alasan",
        "count" => "jumlah",
        "role" => "peran",
        "state" => "status",
        _ => return None,
    })
}

/// An audit log line's subject and detail, for people: `conversation:ID` becomes a link to the
/// conversation, `ticket:N` the ticket's number; the detail's known keys in Indonesian, agency ids
/// as names and rule names as reasons.
pub fn audit_subject(subject: &str) -> String {
    match subject.split_once(':') {
        Some(("conversation", id)) => {
            format!("<a href=\"/conversations/{}\">percakapan</a>", esc(id))
        }
        Some(("ticket", number)) => format!(
            "laporan <a href=\"/tickets?q={n}\">{n}</a>",
            n = esc(number)
        ),
        Some(("staff", name)) => format!("petugas {}", esc(name)),
        Some(("citizen", handle)) => format!("warga {}", esc(handle)),
        _ => esc(subject),
    }
}

/// See [`audit_subject`].
pub fn audit_detail(config: &Config, detail: &str) -> String {
    let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(detail) else {
        return String::new();
    };
    let mut parts = Vec::new();
    for (key, value) in &fields {
        let Some(name) = detail_key(key) else {
            continue;
        };
        let text = match value {
            Value::String(s) => match key.as_str() {
                "rule" | "reason" => reason_label(s).to_owned(),
                "agency" | "from" | "to" if config.agencies.iter().any(|a| &a.id == s) => {
                    agency(config, s)
                }
                "label" | "decided" => s.replace('_', " "),
                _ => s.clone(),
            },
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => if *b { "ya" } else { "tidak" }.to_owned(),
            _ => continue,
        };
        parts.push(format!(
            "{name}: {}",
            esc(&crate::language::pii::mask(&text))
        ));
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_clamped_and_labelled() {
        assert!(bar(0.42).contains("aria-label=\"42 persen\""));
        assert!(bar(1.7).contains("value=\"1.00\""));
        assert!(bar(-1.0).contains("value=\"0.00\""));
    }

    #[test]
    fn deciding_words_skip_fragments_and_negative_weights() {
        let evidence = serde_json::json!({"weighed": [
            ["word saya", 0.5], ["chars |_ta|", 0.4], ["stem anak", 0.3],
            ["word bukan", -0.2], ["word saya", 0.1]
        ]});
        assert_eq!(deciding_words(&evidence), ["saya", "anak"]);
    }

    #[test]
    fn audit_subjects_hide_conversation_ids() {
        let html = audit_subject("conversation:c1234567890");
        assert!(
            html.contains("href=\"/conversations/c1234567890\""),
            "{html}"
        );
        assert!(html.ends_with(">percakapan</a>"), "{html}");
        assert_eq!(
            audit_subject("ticket:MLG-1"),
            "laporan <a href=\"/tickets?q=MLG-1\">MLG-1</a>"
        );
    }

    #[test]
    fn every_known_action_reads_in_indonesian() {
        for action in ["claim", "ticket_reroute", "privacy_forget", "token_revoke"] {
            assert_ne!(audit_action(action), "tindakan lain", "{action}");
        }
        assert_eq!(audit_action("something_new"), "tindakan lain");
    }
}
