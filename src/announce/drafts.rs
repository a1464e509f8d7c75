//! Drafts in the store: started by an agency or staff, completed by the agency's replies, shaped
//! by staff (each version kept with its writer), commented on, approved by a second person or
//! rejected. Every change is one transaction with its audit line.

use serde::Serialize;
use serde_json::json;
use sqlx::Row;

use super::checklist::{Review, review};
use super::{AnnounceError, Draft, DraftState};
use crate::config::AnnounceConfig;
use crate::store::{Store, Tx, now_ms};
use crate::tweet::Splitter;

const DAY: i64 = 24 * 3600 * 1000;

/// The longest draft text, in characters (a long thread at most).
pub const TEXT_MAX_CHARS: usize = 5000;

/// How a draft starts.
#[derive(Debug, Clone)]
pub struct NewDraft<'a> {
    /// bot.toml's agency id; None for the office's own.
    pub agency: Option<&'a str>,
    /// telegram, whatsapp or console.
    pub source: &'a str,
    /// The agency member's or staff member's name.
    pub by: &'a str,
    /// Whether `by` is on staff (their text counts as an edit for the four-eyes rule).
    pub staff: bool,
    pub text: &'a str,
}

/// One version of a draft's text and who wrote it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Edit {
    pub by: String,
    pub staff: bool,
    pub at: i64,
    pub text: String,
}

/// A comment between staff.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comment {
    pub by: String,
    pub at: i64,
    pub text: String,
}

const COLUMNS: &str = "id, agency, source, state, text, category, event_at, late, created_by, \
                       created_at, updated_at, approved_by, scheduled_at, published_at, reason";

fn from_row(r: &sqlx::any::AnyRow) -> Draft {
    let state: String = r.get(3);
    Draft {
        id: r.get(0),
        agency: r.get(1),
        source: r.get(2),
        state: DraftState::parse(&state).unwrap_or(DraftState::Masuk),
        text: r.get(4),
        category: r.get(5),
        event_at: r.get(6),
        late: r.get::<i64, _>(7) != 0,
        created_by: r.get(8),
        created_at: r.get(9),
        updated_at: r.get(10),
        approved_by: r.get(11),
        scheduled_at: r.get(12),
        published_at: r.get(13),
        reason: r.get(14),
    }
}

/// The office's newsroom: its `[announce]` settings, the account's splitter, and what X
/// charges for a post (`[costs]`), for the editor's estimate.
#[derive(Debug, Clone)]
pub struct Newsroom {
    pub config: AnnounceConfig,
    pub splitter: Splitter,
    /// US dollars per post without a link, and with one.
    pub post_price: f64,
    pub link_post_price: f64,
}

impl Newsroom {
    /// With the default prices of `[costs]`.
    pub fn new(config: AnnounceConfig, splitter: Splitter) -> Newsroom {
        let costs = crate::config::CostsConfig::default();
        Newsroom {
            config,
            splitter,
            post_price: costs.x_post_created,
            link_post_price: costs.x_post_with_url,
        }
    }

    /// With the deployment's prices.
    pub fn with_prices(mut self, costs: &crate::config::CostsConfig) -> Newsroom {
        self.post_price = costs.x_post_created;
        self.link_post_price = costs.x_post_with_url;
        self
    }

    /// The draft against the checklist and the other checks.
    pub fn review(&self, draft: &Draft) -> Review {
        review(&draft.text, draft.event_at.is_some(), &self.config)
    }

    /// The exact posts `text` becomes.
    pub fn preview(&self, text: &str) -> Result<Vec<String>, crate::tweet::TooLong> {
        self.splitter.split_post(text)
    }

    /// The state a draft whose text is `review`ed should be in.
    fn settled(review: &Review) -> DraftState {
        if review.missing.is_empty() && review.personal_data.is_empty() {
            DraftState::SiapTinjau
        } else {
            DraftState::PerluData
        }
    }

    /// Starts a draft. Returns it with its checklist state.
    pub async fn start(
        &self,
        store: &Store,
        new: NewDraft<'_>,
        link: Option<&str>,
    ) -> Result<Draft, AnnounceError> {
        let text = checked_text(new.text)?;
        let now = now_ms();
        let state = Self::settled(&review(&text, false, &self.config));
        let mut tx = store.begin().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO drafts (agency, source, state, text, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
        )
        .bind(new.agency)
        .bind(new.source)
        .bind(state.as_str())
        .bind(&text)
        .bind(new.by)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?
        .get(0);
        add_edit(&mut tx, id, new.by, new.staff, &text, now).await?;
        if let Some(link) = link {
            link_in(&mut tx, link, id).await?;
        }
        audit(
            &mut tx,
            new.by,
            "draft_start",
            id,
            json!({"source": new.source}),
            now,
        )
        .await?;
        tx.commit().await?;
        tracing::info!(
            draft = id,
            source = new.source,
            "announcement draft started"
        );
        self.get(store, id).await
    }

    /// The agency's later message in the draft's chain: added to the text as a new paragraph.
    pub async fn add_from_agency(
        &self,
        store: &Store,
        id: i64,
        by: &str,
        text: &str,
        link: Option<&str>,
    ) -> Result<Draft, AnnounceError> {
        let current = self.get(store, id).await?;
        if !current.state.open() {
            return Err(AnnounceError::Closed(current.state.label()));
        }
        let addition = checked_text(text)?;
        let joined = checked_text(&format!("{}\n\n{addition}", current.text))?;
        self.write_text(store, &current, by, false, &joined, "draft_agency", link)
            .await
    }

    /// Staff's version of the text.
    pub async fn edit(
        &self,
        store: &Store,
        id: i64,
        by: &str,
        text: &str,
    ) -> Result<Draft, AnnounceError> {
        let current = self.get(store, id).await?;
        if !current.state.open() {
            return Err(AnnounceError::Closed(current.state.label()));
        }
        let text = checked_text(text)?;
        if text == current.text {
            return Ok(current);
        }
        self.write_text(store, &current, by, true, &text, "draft_edit", None)
            .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn write_text(
        &self,
        store: &Store,
        current: &Draft,
        by: &str,
        staff: bool,
        text: &str,
        action: &str,
        link: Option<&str>,
    ) -> Result<Draft, AnnounceError> {
        let now = now_ms();
        let state = Self::settled(&review(text, current.event_at.is_some(), &self.config));
        let mut tx = store.begin().await?;
        sqlx::query("UPDATE drafts SET text = $1, state = $2, updated_at = $3 WHERE id = $4")
            .bind(text)
            .bind(state.as_str())
            .bind(now)
            .bind(current.id)
            .execute(&mut *tx)
            .await?;
        add_edit(&mut tx, current.id, by, staff, text, now).await?;
        if let Some(link) = link {
            link_in(&mut tx, link, current.id).await?;
        }
        audit(&mut tx, by, action, current.id, json!({}), now).await?;
        tx.commit().await?;
        self.get(store, current.id).await
    }

    /// Staff set the event's day (for "when" and the lead time) and the knowledge category
    /// (for the four-eyes waiver).
    pub async fn set_details(
        &self,
        store: &Store,
        id: i64,
        by: &str,
        event_at: Option<i64>,
        category: Option<&str>,
    ) -> Result<Draft, AnnounceError> {
        let current = self.get(store, id).await?;
        if !current.state.open() {
            return Err(AnnounceError::Closed(current.state.label()));
        }
        let lead = i64::from(self.config.lead_days) * DAY;
        let late = event_at.is_some_and(|at| at - current.created_at < lead);
        let state = Self::settled(&review(&current.text, event_at.is_some(), &self.config));
        let now = now_ms();
        let mut tx = store.begin().await?;
        sqlx::query(
            "UPDATE drafts SET event_at = $1, category = $2, late = $3, state = $4, \
             updated_at = $5 WHERE id = $6",
        )
        .bind(event_at)
        .bind(category.filter(|c| !c.is_empty()))
        .bind(i64::from(late))
        .bind(state.as_str())
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        audit(
            &mut tx,
            by,
            "draft_details",
            id,
            json!({"late": late, "category": category}),
            now,
        )
        .await?;
        tx.commit().await?;
        self.get(store, id).await
    }

    /// A comment between staff on the draft.
    pub async fn comment(
        &self,
        store: &Store,
        id: i64,
        by: &str,
        text: &str,
    ) -> Result<(), AnnounceError> {
        let text = text.trim();
        if text.is_empty() || text.chars().count() > 2000 {
            return Err(AnnounceError::Invalid(
                "komentar kosong atau lebih dari 2000 karakter".into(),
            ));
        }
        self.get(store, id).await?;
        let now = now_ms();
        let mut tx = store.begin().await?;
        sqlx::query(
            "INSERT INTO draft_comments (draft_id, by_actor, at, text) VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(by)
        .bind(now)
        .bind(text)
        .execute(&mut *tx)
        .await?;
        audit(&mut tx, by, "draft_comment", id, json!({}), now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Approves a draft for publication now (`at` None) or at `at`. Refused to whoever edited
    /// its text when its category needs a second person, while it holds personal data, or when
    /// it would need more posts than the splitter allows.
    pub async fn approve(
        &self,
        store: &Store,
        id: i64,
        by: &str,
        at: Option<i64>,
    ) -> Result<Draft, AnnounceError> {
        let current = self.get(store, id).await?;
        if !current.state.open() {
            return Err(AnnounceError::Closed(current.state.label()));
        }
        if !self.review(&current).personal_data.is_empty() {
            return Err(AnnounceError::PersonalData);
        }
        self.preview(&current.text)
            .map_err(|e| AnnounceError::Invalid(e.to_string()))?;
        if self.config.needs_second_person(current.category.as_deref())
            && self
                .edits(store, id)
                .await?
                .iter()
                .any(|e| e.staff && e.by == by)
        {
            return Err(AnnounceError::OwnEdit);
        }
        let now = now_ms();
        if at.is_some_and(|at| at <= now) {
            return Err(AnnounceError::Invalid(
                "waktu terbit sudah lewat: pilih waktu yang akan datang".into(),
            ));
        }
        let state = if at.is_some() {
            DraftState::Terjadwal
        } else {
            DraftState::Disetujui
        };
        let mut tx = store.begin().await?;
        let done = sqlx::query(
            "UPDATE drafts SET state = $1, approved_by = $2, approved_at = $3, scheduled_at = $4, \
             updated_at = $3 WHERE id = $5 AND state IN ('masuk', 'perlu_data', 'siap_tinjau') \
             AND text = $6",
        )
        .bind(state.as_str())
        .bind(by)
        .bind(now)
        .bind(at)
        .bind(id)
        .bind(&current.text)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            return Err(AnnounceError::Invalid(
                "draf berubah saat Anda meninjau: muat ulang lalu periksa lagi".into(),
            ));
        }
        audit(&mut tx, by, "draft_approve", id, json!({"at": at}), now).await?;
        tx.commit().await?;
        tracing::info!(
            draft = id,
            by,
            scheduled = at.is_some(),
            "announcement approved"
        );
        self.get(store, id).await
    }

    /// Rejects a draft, with the reason the agency is given.
    pub async fn reject(
        &self,
        store: &Store,
        id: i64,
        by: &str,
        reason: &str,
    ) -> Result<Draft, AnnounceError> {
        let reason = crate::language::pii::redact(reason.trim());
        if reason.is_empty() {
            return Err(AnnounceError::Invalid("tuliskan alasan penolakan".into()));
        }
        let current = self.get(store, id).await?;
        if !current.state.open() {
            return Err(AnnounceError::Closed(current.state.label()));
        }
        let now = now_ms();
        let mut tx = store.begin().await?;
        sqlx::query(
            "UPDATE drafts SET state = 'ditolak', reason = $1, updated_at = $2 WHERE id = $3",
        )
        .bind(&reason)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        audit(
            &mut tx,
            by,
            "draft_reject",
            id,
            json!({"reason": reason}),
            now,
        )
        .await?;
        tx.commit().await?;
        self.get(store, id).await
    }

    pub async fn get(&self, store: &Store, id: i64) -> Result<Draft, AnnounceError> {
        sqlx::query(&format!("SELECT {COLUMNS} FROM drafts WHERE id = $1"))
            .bind(id)
            .fetch_optional(store.pool())
            .await?
            .as_ref()
            .map(from_row)
            .ok_or(AnnounceError::NotFound)
    }

    /// Drafts in `state` (all without one), the latest change first.
    pub async fn list(
        &self,
        store: &Store,
        state: Option<DraftState>,
    ) -> Result<Vec<Draft>, AnnounceError> {
        let rows = match state {
            Some(state) => sqlx::query(&format!(
                "SELECT {COLUMNS} FROM drafts WHERE state = $1 ORDER BY updated_at DESC, id DESC \
                     LIMIT 200"
            ))
            .bind(state.as_str())
            .fetch_all(store.pool())
            .await?,
            None => {
                sqlx::query(&format!(
                    "SELECT {COLUMNS} FROM drafts ORDER BY updated_at DESC, id DESC LIMIT 200"
                ))
                .fetch_all(store.pool())
                .await?
            }
        };
        Ok(rows.iter().map(from_row).collect())
    }

    /// How many drafts are in each state.
    pub async fn counts(&self, store: &Store) -> Result<Vec<(DraftState, i64)>, AnnounceError> {
        let rows = sqlx::query("SELECT state, COUNT(*) FROM drafts GROUP BY state")
            .fetch_all(store.pool())
            .await?;
        Ok(DraftState::ALL
            .into_iter()
            .map(|s| {
                let n = rows
                    .iter()
                    .find(|r| r.get::<String, _>(0) == s.as_str())
                    .map_or(0, |r| r.get::<i64, _>(1));
                (s, n)
            })
            .collect())
    }

    /// The versions of a draft's text, oldest first.
    pub async fn edits(&self, store: &Store, id: i64) -> Result<Vec<Edit>, AnnounceError> {
        let rows = sqlx::query(
            "SELECT by_actor, staff, at, text FROM draft_edits WHERE draft_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(store.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| Edit {
                by: r.get(0),
                staff: r.get::<i64, _>(1) != 0,
                at: r.get(2),
                text: r.get(3),
            })
            .collect())
    }

    /// Staff's comments on a draft, oldest first.
    pub async fn comments(&self, store: &Store, id: i64) -> Result<Vec<Comment>, AnnounceError> {
        let rows = sqlx::query(
            "SELECT by_actor, at, text FROM draft_comments WHERE draft_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(store.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| Comment {
                by: r.get(0),
                at: r.get(1),
                text: r.get(2),
            })
            .collect())
    }

    /// The draft a chat message belongs to (`tg:CHAT:MESSAGE`, `wa:NUMBER:WAMID`).
    pub async fn by_link(
        &self,
        store: &Store,
        chat_ref: &str,
    ) -> Result<Option<i64>, AnnounceError> {
        Ok(
            sqlx::query("SELECT draft_id FROM draft_links WHERE chat_ref = $1")
                .bind(chat_ref)
                .fetch_optional(store.pool())
                .await?
                .map(|r| r.get(0)),
        )
    }

    /// Links a chat message (the bot's answer in the chat, say) to a draft.
    pub async fn link(&self, store: &Store, chat_ref: &str, id: i64) -> Result<(), AnnounceError> {
        let mut tx = store.begin().await?;
        link_in(&mut tx, chat_ref, id).await?;
        tx.commit().await?;
        Ok(())
    }
}

fn checked_text(text: &str) -> Result<String, AnnounceError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(AnnounceError::Invalid("teks kabar kosong".into()));
    }
    if text.chars().count() > TEXT_MAX_CHARS {
        return Err(AnnounceError::Invalid(format!(
            "teks kabar terlalu panjang (paling banyak {TEXT_MAX_CHARS} karakter)"
        )));
    }
    Ok(text.to_owned())
}

async fn add_edit(
    tx: &mut Tx<'_>,
    id: i64,
    by: &str,
    staff: bool,
    text: &str,
    now: i64,
) -> Result<(), AnnounceError> {
    sqlx::query(
        "INSERT INTO draft_edits (draft_id, by_actor, staff, at, text) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(by)
    .bind(i64::from(staff))
    .bind(now)
    .bind(text)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn link_in(tx: &mut Tx<'_>, chat_ref: &str, id: i64) -> Result<(), AnnounceError> {
    sqlx::query(
        "INSERT INTO draft_links (chat_ref, draft_id) VALUES ($1, $2) ON CONFLICT (chat_ref) DO NOTHING",
    )
    .bind(chat_ref)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn audit(
    tx: &mut Tx<'_>,
    by: &str,
    action: &str,
    id: i64,
    detail: serde_json::Value,
    now: i64,
) -> Result<(), AnnounceError> {
    crate::store::insert_audit(
        tx,
        by,
        action,
        &format!("draft:{id}"),
        &detail.to_string(),
        now,
    )
    .await?;
    Ok(())
}
