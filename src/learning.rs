/*!
Staff teach the bot: a correction of one of its decisions, proposed from the console's form, the
API, or a staff reply that repeats a knowledge entry (in the console or the Telegram staff
group). The console's pages and the staff group both call these; the corrections table is the
desk's, the labels are the engine's.
*/

use crate::desk::corrections::{Correction, NewCorrection};
use crate::desk::{Actor, DecisionRecord, Desk, DeskError};
use crate::triage::Engine;

/// Every label staff may choose, as stored (`answer <topic>`, ...) with how it reads.
pub fn label_choices(engine: &Engine) -> Vec<(String, String)> {
    let mut out = vec![
        ("emergency".to_owned(), "Darurat (112)".to_owned()),
        ("handoff".to_owned(), "Serahkan ke petugas".to_owned()),
        ("ignore".to_owned(), "Abaikan (spam, ejekan)".to_owned()),
    ];
    for agency in &engine.config().agencies {
        out.push((
            format!("report {}", agency.id),
            format!("Laporkan ke {}", agency.short_name),
        ));
    }
    for entry in engine.entries() {
        out.push((
            format!("answer {}", entry.id),
            format!("Jawab: {}", entry.title),
        ));
    }
    out
}

/// Whether `label` names something the engine knows.
pub fn valid_label(engine: &Engine, label: &str) -> bool {
    label_choices(engine)
        .iter()
        .any(|(value, _)| value == label)
}

/// A decision as a label: `answer kk`, `report dlh`, `handoff`...
pub fn decided_label(d: &DecisionRecord) -> String {
    match (d.kind.as_str(), &d.topic, &d.agency) {
        ("answer", Some(topic), _) => format!("answer {topic}"),
        ("report", _, Some(agency)) => format!("report {agency}"),
        (kind, _, _) => kind.to_owned(),
    }
}

/// What a front end beside the console (the staff group) needs to propose corrections: the
/// running engine and the account's handle.
#[derive(Clone)]
pub struct Lessons {
    pub engine: std::sync::Arc<crate::triage::live::Live>,
    pub account: String,
}

impl std::fmt::Debug for Lessons {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lessons")
            .field("account", &self.account)
            .finish_non_exhaustive()
    }
}

impl Lessons {
    /// After a staff reply: see [`Teacher::suggest_from_reply`].
    pub async fn suggest_from_reply(
        &self,
        desk: &Desk,
        actor: &Actor,
        conversation: &str,
        reply: &str,
    ) {
        let engine = self.engine.get();
        Teacher {
            desk,
            engine: &engine,
            account: &self.account,
        }
        .suggest_from_reply(actor, conversation, reply)
        .await;
    }
}

/// Where a correction is proposed: the desk that stores it, the engine whose labels it uses,
/// and the account's handle (not part of what a citizen asked).
pub struct Teacher<'a> {
    pub desk: &'a Desk,
    pub engine: &'a Engine,
    pub account: &'a str,
}

impl Teacher<'_> {
    /// Proposes `label` as the right decision on `tweet_id` in `conversation`; the text is
    /// stored with personal data removed (the desk's job), for an admin to review.
    pub async fn propose(
        &self,
        actor: &Actor,
        conversation: &str,
        tweet_id: &str,
        label: &str,
        note: &str,
    ) -> Result<Correction, DeskError> {
        if !valid_label(self.engine, label) {
            return Err(DeskError::Invalid(format!(
                "keputusan tidak dikenal: {label}"
            )));
        }
        let detail = self.desk.detail(conversation).await?;
        let decision = detail
            .decisions
            .iter()
            .find(|d| d.tweet_id == tweet_id)
            .ok_or_else(|| DeskError::Invalid("twit ini tidak ada di percakapan ini".into()))?;
        let text = detail
            .messages
            .iter()
            .find(|m| m.direction == "in" && m.tweet_id.as_deref() == Some(tweet_id))
            .map(|m| m.text.clone())
            .ok_or_else(|| DeskError::Invalid("teks twit tidak ditemukan".into()))?;
        let handle = format!("@{}", self.account);
        let text = text
            .split_whitespace()
            .filter(|w| !w.eq_ignore_ascii_case(&handle))
            .collect::<Vec<_>>()
            .join(" ");
        let decided = decided_label(decision);
        self.desk
            .propose_correction(
                actor,
                &NewCorrection {
                    conversation_id: Some(conversation),
                    tweet_id: Some(tweet_id),
                    text: &text,
                    label,
                    decided: &decided,
                    decided_kind: &decision.kind,
                    note,
                },
            )
            .await
    }

    /// After a staff reply (console, API or staff group): when it repeats a knowledge entry and
    /// the bot had handed the conversation's last such tweet to staff, proposes that entry as the
    /// right decision. Failures are logged; the reply itself has gone out.
    pub async fn suggest_from_reply(&self, actor: &Actor, conversation: &str, reply: &str) {
        let Some(entry) = entry_in_reply(self.engine, reply) else {
            return;
        };
        let Ok(detail) = self.desk.detail(conversation).await else {
            return;
        };
        let Some(decision) = detail.decisions.iter().rev().find(|d| d.kind == "handoff") else {
            return;
        };
        let label = format!("answer {}", entry.id);
        let note = format!("saran otomatis: balasan {} memakai jawaban ini", actor.name);
        if let Err(error) = self
            .propose(actor, conversation, &decision.tweet_id, &label, &note)
            .await
        {
            tracing::warn!(%error, conversation, "the reply's entry could not be suggested");
        }
    }
}

/// The entry a staff reply repeats: most of its short answer's words are in the reply (staff
/// often insert it from the console's knowledge search, then adapt it).
pub fn entry_in_reply<'e>(engine: &'e Engine, reply: &str) -> Option<&'e crate::knowledge::Entry> {
    let words = |text: &str| -> std::collections::HashSet<String> {
        text.to_lowercase()
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.len() > 2)
            .map(str::to_owned)
            .collect()
    };
    let said = words(reply);
    engine
        .entries()
        .iter()
        .map(|entry| {
            let answer = words(&entry.short_answer);
            let shared = answer.intersection(&said).count();
            (entry, shared as f64 / answer.len().max(1) as f64)
        })
        .filter(|(_, share)| *share >= 0.8)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(entry, _)| entry)
}
