/*!
The messages people send, read from a Cloud API webhook body (`entry[].changes[].value.messages[]`,
reference/apis.md 5.2): who sent it (`from`, `from_user_id`), its id and time, the message it
answers, and what it is: text, an image (its media id, MIME type, SHA-256 and caption, to download
with [`super::WhatsAppClient::download_media`]), or another kind, named. Statuses and everything
else in the body are left to their readers.
*/

use serde_json::Value;

use super::WhatsAppError;

/// One message a person sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMessage {
    /// The message's `wamid.` id.
    pub id: String,
    /// The sender's number (`from`), absent when they use a WhatsApp username.
    pub from: Option<String>,
    /// The sender's business-scoped user id (`from_user_id`), when Meta sends it.
    pub from_user_id: Option<String>,
    /// Unix seconds.
    pub timestamp: i64,
    /// The id of the message it answers (`context.id`), if any.
    pub context_id: Option<String>,
    pub content: InboundContent,
}

/// What a person's message is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboundContent {
    Text {
        body: String,
    },
    Image(MediaRef),
    /// Any other `type` (`interactive`, `button`, `document`, `location`...), by its name.
    Other {
        kind: String,
    },
}

/// A medium a message carries, to download by its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaRef {
    /// The media id: `GET /{version}/{id}` gives its URL.
    pub id: String,
    pub mime_type: String,
    /// Base64 SHA-256 of the bytes, as Meta computed it.
    pub sha256: String,
    pub caption: Option<String>,
}

/// The messages people sent in a webhook body, in order; statuses and malformed entries are
/// skipped (a message without an id or a type is not one the bot can answer).
pub fn inbound_messages(body: &Value) -> Vec<InboundMessage> {
    let values = body["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|entry| entry["changes"].as_array())
        .flatten()
        .filter(|change| change["field"] == "messages")
        .map(|change| &change["value"]);
    let mut messages = Vec::new();
    for value in values {
        for message in value["messages"].as_array().into_iter().flatten() {
            if let Some(message) = inbound_message(message) {
                messages.push(message);
            }
        }
    }
    messages
}

/// The messages of a webhook body after its `X-Hub-Signature-256` is checked: a body that is
/// not signed with `app_secret` is [`WhatsAppError::Unauthorized`], one that is not JSON
/// [`WhatsAppError::Rejected`].
pub fn verified_messages(
    app_secret: &str,
    body: &[u8],
    signature: Option<&str>,
) -> Result<Vec<InboundMessage>, WhatsAppError> {
    if !super::signature_ok(app_secret, body, signature) {
        return Err(WhatsAppError::Unauthorized(
            "the webhook's X-Hub-Signature-256 does not match its body".to_owned(),
        ));
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| WhatsAppError::Rejected(format!("the webhook body is not JSON: {e}")))?;
    Ok(inbound_messages(&value))
}

fn inbound_message(message: &Value) -> Option<InboundMessage> {
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let id = text(&message["id"])?;
    let kind = text(&message["type"])?;
    let content = match kind.as_str() {
        "text" => InboundContent::Text {
            body: text(&message["text"]["body"])?,
        },
        "image" => {
            let image = &message["image"];
            InboundContent::Image(MediaRef {
                id: text(&image["id"])?,
                mime_type: text(&image["mime_type"]).unwrap_or_default(),
                sha256: text(&image["sha256"]).unwrap_or_default(),
                caption: text(&image["caption"]),
            })
        }
        _ => InboundContent::Other { kind },
    };
    Some(InboundMessage {
        id,
        from: text(&message["from"]),
        from_user_id: text(&message["from_user_id"]),
        timestamp: message["timestamp"]
            .as_str()
            .and_then(|t| t.parse().ok())
            .or_else(|| message["timestamp"].as_i64())
            .unwrap_or(0),
        context_id: text(&message["context"]["id"]),
        content,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_published_image_example_reads() {
        // The spec's "Image Message" webhook example, with a text beside it and a status.
        let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "419561257915477",
            "changes": [{"field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
                "contacts": [{"profile": {"name": "Sheena Nelson"}, "wa_id": "16505551234"}],
                "messages": [
                    {"from": "16505551234", "id": "wamid.A", "timestamp": "1744344496", "type": "image",
                     "image": {"caption": "Taj Mahal", "mime_type": "image/jpeg",
                               "sha256": "SfInY0gGKTsJlUWbwxC1k+FAD0FZHvzwfpvO0zX0GUI=", "id": "1003383421387256"}},
                    {"from_user_id": "US.1", "id": "wamid.B", "timestamp": "1744344497", "type": "text",
                     "text": {"body": "Halo"}, "context": {"from": "15550783881", "id": "wamid.Z"}},
                    {"from": "16505551234", "id": "wamid.C", "timestamp": "1744344498", "type": "location",
                     "location": {"latitude": -7.98, "longitude": 112.63}},
                    {"from": "16505551234", "type": "text", "text": {"body": "no id"}}
                ],
                "statuses": [{"id": "wamid.X", "status": "sent"}]}}]}]});
        let messages = inbound_messages(&body);
        assert_eq!(messages.len(), 3);
        assert_eq!(
            messages[0],
            InboundMessage {
                id: "wamid.A".into(),
                from: Some("16505551234".into()),
                from_user_id: None,
                timestamp: 1_744_344_496,
                context_id: None,
                content: InboundContent::Image(MediaRef {
                    id: "1003383421387256".into(),
                    mime_type: "image/jpeg".into(),
                    sha256: "SfInY0gGKTsJlUWbwxC1k+FAD0FZHvzwfpvO0zX0GUI=".into(),
                    caption: Some("Taj Mahal".into()),
                }),
            }
        );
        assert_eq!(messages[1].from, None);
        assert_eq!(messages[1].from_user_id.as_deref(), Some("US.1"));
        assert_eq!(messages[1].context_id.as_deref(), Some("wamid.Z"));
        assert_eq!(
            messages[1].content,
            InboundContent::Text {
                body: "Halo".into()
            }
        );
        assert_eq!(
            messages[2].content,
            InboundContent::Other {
                kind: "location".into()
            }
        );
        assert!(inbound_messages(&json!({"entry": "nope"})).is_empty());
    }

    #[test]
    fn an_unsigned_body_is_refused() {
        let body = br#"{"object":"whatsapp_business_account","entry":[]}"#;
        let signature = "sha256=02fe0c96d28c59ddb7cf81eff0ca05809b360ba73b63c28210b5906a0a107d1f";
        assert_eq!(
            verified_messages("app_secret_123", body, Some(signature)).unwrap(),
            vec![]
        );
        assert!(matches!(
            verified_messages("other", body, Some(signature)),
            Err(WhatsAppError::Unauthorized(_))
        ));
        assert!(matches!(
            verified_messages("app_secret_123", body, None),
            Err(WhatsAppError::Unauthorized(_))
        ));
    }
}
