/*!
Agencies' announcements through the office (issue 15): collect, process, publish.

A draft starts from an agency's message in its chat (`/kabar` in Telegram, "kabar" in WhatsApp)
or from staff in the console. The bot answers in the chat with the draft's number and the
checklist ([`checklist`]); the agency's replies in that chain complete it. Staff shape the text
(every version is kept with who wrote it), comment to each other, and one who did not edit the
text approves it (four-eyes, `[announce]`), now or for a time; personal data blocks approval.
Approved drafts become the account's posts through the outbox ([`publish`]).

The module owns `drafts`, `draft_edits`, `draft_comments` and `draft_links`.
*/

pub mod checklist;
pub mod collect;
mod drafts;
pub mod publish;
pub mod retention;

use serde::Serialize;

pub use drafts::{Comment, Edit, NewDraft, Newsroom, TEXT_MAX_CHARS};

use crate::store::StoreError;

/// Where a draft stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DraftState {
    /// Received, not yet reviewed against the checklist.
    Masuk,
    /// The agency was asked for what is missing.
    PerluData,
    /// Complete: waiting for a reviewer.
    SiapTinjau,
    /// Approved, to be published at once.
    Disetujui,
    /// Approved, to be published at its time.
    Terjadwal,
    /// Published.
    Terbit,
    /// Rejected, with a reason.
    Ditolak,
}

impl DraftState {
    pub const ALL: [DraftState; 7] = [
        DraftState::Masuk,
        DraftState::PerluData,
        DraftState::SiapTinjau,
        DraftState::Disetujui,
        DraftState::Terjadwal,
        DraftState::Terbit,
        DraftState::Ditolak,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DraftState::Masuk => "masuk",
            DraftState::PerluData => "perlu_data",
            DraftState::SiapTinjau => "siap_tinjau",
            DraftState::Disetujui => "disetujui",
            DraftState::Terjadwal => "terjadwal",
            DraftState::Terbit => "terbit",
            DraftState::Ditolak => "ditolak",
        }
    }

    pub fn parse(text: &str) -> Option<DraftState> {
        DraftState::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// As staff read it.
    pub fn label(self) -> &'static str {
        match self {
            DraftState::Masuk => "masuk",
            DraftState::PerluData => "perlu data",
            DraftState::SiapTinjau => "siap tinjau",
            DraftState::Disetujui => "disetujui",
            DraftState::Terjadwal => "terjadwal",
            DraftState::Terbit => "terbit",
            DraftState::Ditolak => "ditolak",
        }
    }

    /// Whether its text may still change and it may be approved or rejected.
    pub fn open(self) -> bool {
        matches!(
            self,
            DraftState::Masuk | DraftState::PerluData | DraftState::SiapTinjau
        )
    }
}

/// One announcement on its way to the public.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Draft {
    pub id: i64,
    /// bot.toml's agency id; None for the office's own.
    pub agency: Option<String>,
    /// telegram, whatsapp or console.
    pub source: String,
    pub state: DraftState,
    pub text: String,
    pub category: Option<String>,
    pub event_at: Option<i64>,
    /// Sent less than `[announce] lead_days` before its event.
    pub late: bool,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub approved_by: Option<String>,
    pub scheduled_at: Option<i64>,
    pub published_at: Option<i64>,
    pub reason: Option<String>,
}

/// Why an action on a draft was refused, in Indonesian for staff.
#[derive(Debug, thiserror::Error)]
pub enum AnnounceError {
    #[error("draf tidak ditemukan")]
    NotFound,
    #[error("draf ini sudah {0}: tidak bisa diubah lagi")]
    Closed(&'static str),
    #[error(
        "draf ini harus disetujui petugas lain: Anda ikut menyunting teksnya (prinsip empat mata)"
    )]
    OwnEdit,
    #[error(
        "draf masih memuat data pribadi (NIK atau nomor pribadi): hapus dulu sebelum disetujui"
    )]
    PersonalData,
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for AnnounceError {
    fn from(e: sqlx::Error) -> Self {
        AnnounceError::Store(StoreError::Database(e))
    }
}
