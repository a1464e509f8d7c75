//! Citizens' personal data on the desk: shown masked (`3573••••••••0005`) wherever staff read
//! it, and revealed whole only to an admin, audited.

use sqlx::Row as _;

use super::{Actor, Desk, DeskError, Role};

/// Serializes a citizen's text with personal numbers masked (`3573••••••••0005`).
pub(super) fn ser_masked<S: serde::Serializer>(text: &str, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::language::pii::mask(text))
}

impl Desk {
    /// A citizen's message as written, personal data included, for an admin; audited, since
    /// the console and the API otherwise show it masked.
    pub async fn reveal(
        &self,
        id: &str,
        tweet_id: &str,
        actor: &Actor,
    ) -> Result<String, DeskError> {
        if actor.role != Role::Admin {
            return Err(DeskError::AdminOnly);
        }
        let row = sqlx::query(
            "SELECT text FROM messages WHERE conversation_id = $1 AND tweet_id = $2 \
             AND direction = 'in'",
        )
        .bind(id)
        .bind(tweet_id)
        .fetch_optional(self.store.pool())
        .await?;
        let Some(row) = row else {
            return Err(DeskError::NotFound);
        };
        self.store
            .audit(
                &actor.name,
                "pii_reveal",
                &format!("conversation:{id}"),
                &format!("tweet {tweet_id}"),
            )
            .await?;
        Ok(row.get(0))
    }
}
