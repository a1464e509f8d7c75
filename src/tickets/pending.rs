//! Complaints waiting for their place. A complaint becomes a ticket once the place is known; until
//! then the bot asks for it in the thread (twice at most) and keeps the complaint in
//! `pending_reports`, which the citizen's next tweet in the conversation completes.

use sqlx::Row;

use super::{NewTicket, TicketError, Tickets, messages};
use crate::store::{Mention, Tx};

/// What became of a complaint (or of the answer that completes one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Complaint {
    /// Neither a complaint for an agency that takes tickets nor an answer to the bot's question.
    None,
    /// Filed: the ticket's own tweet (with its number) answers the citizen.
    Filed(String),
    /// The place is still missing: the bot asks for it with these tweets.
    AskPlace(Vec<String>),
    /// Asked twice without a place: the conversation goes to staff, with these tweets.
    ToStaff(Vec<String>),
}

impl Tickets {
    /// Takes a mention in a conversation with the bot: a complaint (`report` for an agency that
    /// takes tickets), or the next tweet after the bot asked for the place. Inside the mention's
    /// transaction.
    pub async fn take_complaint(
        &self,
        tx: &mut Tx<'_>,
        conversation: &str,
        mention: &Mention,
        report_to: Option<(&str, Option<&str>)>,
        now: i64,
    ) -> Result<Complaint, TicketError> {
        let photos_here: Vec<String> = serde_json::from_str::<serde_json::Value>(&mention.raw)
            .ok()
            .and_then(|raw| serde_json::from_value(raw["media_urls"].clone()).ok())
            .unwrap_or_default();
        let pending = sqlx::query(
            "SELECT agency, category, text, asks, photos FROM pending_reports \
             WHERE conversation_id = $1",
        )
        .bind(conversation)
        .fetch_optional(&mut **tx)
        .await?
        .map(|r| {
            (
                r.get::<String, _>(0),
                r.get::<String, _>(1),
                r.get::<String, _>(2),
                r.get::<i64, _>(3),
                serde_json::from_str::<Vec<String>>(&r.get::<String, _>(4)).unwrap_or_default(),
            )
        });
        let pending_photos = pending.as_ref().map(|p| p.4.clone()).unwrap_or_default();
        let photos: Vec<String> = pending_photos.into_iter().chain(photos_here).collect();
        // A complaint waiting for its place is continued by the next mention in its thread,
        // whatever that mention alone looks like ("di jl danau toba" reads like a report too).
        let report = match (pending, report_to) {
            (Some((agency, category, text, asks, _)), _) => {
                Some((agency, category, format!("{text}\n{}", mention.text), asks))
            }
            (None, Some((agency, topic))) if self.agency(agency).is_some_and(|a| a.tickets) => {
                Some((
                    agency.to_owned(),
                    topic.unwrap_or(agency).to_owned(),
                    mention.text.clone(),
                    0,
                ))
            }
            (None, _) => None,
        };
        let Some((agency, category, text, asks)) = report else {
            return Ok(Complaint::None);
        };
        match self.gazetteer.locate(&mention.text) {
            Some(place) => {
                let ticket = self
                    .file(
                        tx,
                        &NewTicket {
                            agency,
                            category,
                            text,
                            location: Some(place),
                            photos,
                            reporter: mention.author_username.clone(),
                            reporter_id: mention.author_id.clone(),
                            tweet_id: mention.tweet_id.clone(),
                            conversation_id: Some(conversation.to_owned()),
                        },
                        now,
                    )
                    .await?;
                clear(tx, conversation).await?;
                Ok(Complaint::Filed(ticket.number))
            }
            None if asks >= 2 => {
                clear(tx, conversation).await?;
                Ok(Complaint::ToStaff(crate::tweet::thread(
                    &mention.author_username,
                    messages::PLACE_TO_STAFF,
                )))
            }
            None => {
                sqlx::query(
                    "INSERT INTO pending_reports (conversation_id, agency, category, text, \
                     tweet_id, asks, created_at, photos) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                     ON CONFLICT (conversation_id) DO UPDATE SET agency = excluded.agency, \
                     category = excluded.category, text = excluded.text, \
                     tweet_id = excluded.tweet_id, asks = excluded.asks, \
                     photos = excluded.photos",
                )
                .bind(conversation)
                .bind(&agency)
                .bind(&category)
                .bind(&text)
                .bind(&mention.tweet_id)
                .bind(asks + 1)
                .bind(now)
                .bind(serde_json::json!(photos).to_string())
                .execute(&mut **tx)
                .await?;
                let ask = if asks == 0 {
                    messages::ASK_PLACE
                } else {
                    messages::ASK_PLACE_AGAIN
                };
                Ok(Complaint::AskPlace(crate::tweet::thread(
                    &mention.author_username,
                    ask,
                )))
            }
        }
    }
}

async fn clear(tx: &mut Tx<'_>, conversation: &str) -> Result<(), TicketError> {
    sqlx::query("DELETE FROM pending_reports WHERE conversation_id = $1")
        .bind(conversation)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
