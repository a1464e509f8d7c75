/*!
What the messages endpoint accepts, checked the way the Cloud API checks it: a read receipt, or a
text, template or interactive message to a phone number (`to`, 7 to 15 digits), with Graph's code
100 for a missing or wrong parameter and 132001 for a template that is not approved. Interactive
messages have rules of their own (interactive.rs).
*/

use serde_json::Value;

use super::errors::GraphError;
use super::interactive::check_interactive;
use super::{Kind, MAX_TEXT};

/// What the bot asked to send, checked against the published rules.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Outgoing {
    /// `to` as the bot wrote it.
    pub(super) to: String,
    /// The recipient's digits.
    pub(super) wa_id: String,
    pub(super) kind: Kind,
    /// The `text`, `template` or `interactive` object, as sent.
    pub(super) content: Value,
    pub(super) context_id: Option<String>,
}

/// A request to the messages endpoint.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Request {
    Message(Outgoing),
    /// `{"messaging_product":"whatsapp","status":"read","message_id":...}`.
    MarkRead {
        message_id: String,
    },
}

/// Checks a request to the messages endpoint the way the Cloud API does.
pub(super) fn parse_request(body: &Value, templates: &[String]) -> Result<Request, GraphError> {
    let Some(fields) = body.as_object() else {
        return Err(GraphError::invalid(
            "the request body must be a JSON object",
        ));
    };
    match fields.get("messaging_product") {
        None => return Err(GraphError::required("messaging_product")),
        Some(Value::String(product)) if product == "whatsapp" => {}
        Some(other) => {
            return Err(GraphError::invalid(format!(
                "messaging_product must be \"whatsapp\", not {other}"
            )));
        }
    }
    if let Some(status) = fields.get("status") {
        if status != "read" {
            return Err(GraphError::invalid(format!(
                "status must be \"read\", not {status}"
            )));
        }
        let Some(message_id) = fields.get("message_id").and_then(Value::as_str) else {
            return Err(GraphError::required("message_id"));
        };
        if let Some(indicator) = fields.get("typing_indicator")
            && indicator["type"] != "text"
        {
            return Err(GraphError::invalid(
                "typing_indicator.type must be \"text\"",
            ));
        }
        return Ok(Request::MarkRead {
            message_id: message_id.to_owned(),
        });
    }
    match fields.get("recipient_type") {
        None => {}
        Some(Value::String(kind)) if kind == "individual" => {}
        Some(other) => {
            return Err(GraphError::invalid(format!(
                "recipient_type must be \"individual\" in the sandbox, not {other}"
            )));
        }
    }
    let to = match fields.get("to") {
        None => return Err(GraphError::required("to")),
        Some(Value::String(to)) => to.clone(),
        Some(other) => {
            return Err(GraphError::invalid(format!(
                "to must be a string, not {other}"
            )));
        }
    };
    let Some(wa_id) = phone_digits(&to) else {
        return Err(GraphError::invalid(format!(
            "to must be a phone number of 7 to 15 digits, not {to:?}"
        )));
    };
    let kind = match fields.get("type").map(|t| t.as_str()) {
        None | Some(Some("text")) => Kind::Text,
        Some(Some("template")) => Kind::Template,
        Some(Some("interactive")) => Kind::Interactive,
        Some(Some(other)) => {
            return Err(GraphError::invalid(format!(
                "type {other:?} is not supported by the sandbox; use text, template or interactive"
            )));
        }
        Some(None) => return Err(GraphError::invalid("type must be a string")),
    };
    let context_id = match fields.get("context") {
        None => None,
        Some(context) => match context.get("message_id").and_then(Value::as_str) {
            Some(id) if !id.is_empty() => Some(id.to_owned()),
            _ => return Err(GraphError::required("context['message_id']")),
        },
    };
    let Some(content) = fields.get(kind.name()) else {
        return Err(GraphError::required(kind.name()));
    };
    if !content.is_object() {
        return Err(GraphError::invalid(format!(
            "{} must be an object",
            kind.name()
        )));
    }
    match kind {
        Kind::Text => check_text(content)?,
        Kind::Template => check_template(content, templates)?,
        Kind::Interactive => check_interactive(content)?,
    }
    Ok(Request::Message(Outgoing {
        to,
        wa_id,
        kind,
        content: content.clone(),
        context_id,
    }))
}

fn check_text(text: &Value) -> Result<(), GraphError> {
    let Some(body) = text.get("body") else {
        return Err(GraphError::required("text['body']"));
    };
    let Some(body) = body.as_str() else {
        return Err(GraphError::invalid("text.body must be a string"));
    };
    check_length("text.body", body, MAX_TEXT, GraphError::invalid)?;
    if text.get("preview_url").is_some_and(|p| !p.is_boolean()) {
        return Err(GraphError::invalid(
            "text.preview_url must be true or false",
        ));
    }
    Ok(())
}

fn check_template(template: &Value, templates: &[String]) -> Result<(), GraphError> {
    let Some(name) = template.get("name").and_then(Value::as_str) else {
        return Err(GraphError::required("template['name']"));
    };
    let Some(language) = template["language"].get("code").and_then(Value::as_str) else {
        return Err(GraphError::required("template['language']['code']"));
    };
    if !templates.iter().any(|t| t == name) {
        return Err(GraphError::unknown_template(name, language));
    }
    let Some(components) = template.get("components") else {
        return Ok(());
    };
    let Some(components) = components.as_array() else {
        return Err(GraphError::invalid("template.components must be an array"));
    };
    // Meta accepts component types and button sub-types in either case: the documentation
    // writes `body`, client libraries (pywa) send `BODY` and `QUICK_REPLY`.
    let lower = |v: &Value| v.as_str().map(str::to_ascii_lowercase);
    for component in components {
        match lower(&component["type"]).as_deref() {
            Some("header" | "body") => {}
            Some("button") => {
                if !matches!(
                    lower(&component["sub_type"]).as_deref(),
                    Some("quick_reply" | "url" | "catalog" | "copy_code" | "flow")
                ) {
                    return Err(GraphError::invalid(
                        "a button component needs sub_type quick_reply, url, catalog, copy_code or flow",
                    ));
                }
                let index = component["index"]
                    .as_str()
                    .map(str::to_owned)
                    .or_else(|| component["index"].as_u64().map(|i| i.to_string()));
                if index
                    .and_then(|i| i.parse::<u8>().ok())
                    .is_none_or(|i| i > 9)
                {
                    return Err(GraphError::invalid(
                        "a button component needs an index from 0 to 9",
                    ));
                }
            }
            _ => {
                return Err(GraphError::invalid(
                    "template components have type header, body or button",
                ));
            }
        }
        if component.get("parameters").is_some_and(|p| !p.is_array()) {
            return Err(GraphError::invalid(
                "a template component's parameters must be an array",
            ));
        }
    }
    Ok(())
}

/// Refuses an empty `text`, or one longer than `max` characters.
pub(super) fn check_length(
    field: &str,
    text: &str,
    max: usize,
    error: fn(String) -> GraphError,
) -> Result<(), GraphError> {
    let length = text.chars().count();
    if text.trim().is_empty() || length > max {
        return Err(error(format!(
            "{field} length invalid. Min length: 1, Max length: {max}; got {length}"
        )));
    }
    Ok(())
}

/// The digits of a phone number written with an optional leading `+`, if it has 7 to 15.
pub(super) fn phone_digits(number: &str) -> Option<String> {
    let digits = number.strip_prefix('+').unwrap_or(number);
    let valid = (7..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit());
    valid.then(|| digits.to_owned())
}

#[cfg(test)]
pub(super) mod tests {
    use axum::http::StatusCode;
    use serde_json::json;

    use super::super::WhatsAppSettings;
    use super::*;

    fn templates() -> Vec<String> {
        WhatsAppSettings::default().templates
    }

    /// The request the messages endpoint makes of `body`, with the default templates.
    pub(in crate::sandbox::whatsapp) fn parse(body: Value) -> Result<Request, GraphError> {
        parse_request(&body, &templates())
    }

    /// The code and details of the error `body` is refused with.
    pub(in crate::sandbox::whatsapp) fn error(body: Value) -> (u32, String) {
        let error = parse(body).expect_err("refused");
        assert_eq!(error.status, StatusCode::BAD_REQUEST);
        (error.code, error.details.unwrap_or(error.message))
    }

    #[test]
    fn a_text_message_is_accepted_with_its_context() {
        let request = parse(json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "+6281234567890",
            "type": "text",
            "context": {"message_id": "wamid.abc"},
            "text": {"body": "Laporan diterima", "preview_url": false},
        }))
        .unwrap();
        let Request::Message(outgoing) = request else {
            panic!("a message");
        };
        assert_eq!(outgoing.to, "+6281234567890");
        assert_eq!(outgoing.wa_id, "6281234567890");
        assert_eq!(outgoing.kind, Kind::Text);
        assert_eq!(outgoing.context_id.as_deref(), Some("wamid.abc"));
        assert_eq!(outgoing.content["body"], "Laporan diterima");
        // `type` defaults to text.
        assert!(parse(json!({"messaging_product": "whatsapp", "to": "6281234567890", "text": {"body": "x"}})).is_ok());
    }

    #[test]
    fn bodies_break_the_published_rules_with_code_100() {
        let base = || json!({"messaging_product": "whatsapp", "to": "6281234567890", "type": "text", "text": {"body": "halo"}});
        let mut body = base();
        body.as_object_mut().unwrap().remove("messaging_product");
        assert_eq!(
            parse(body).unwrap_err().message,
            "(#100) The parameter messaging_product is required."
        );
        let mut body = base();
        body["messaging_product"] = json!("instagram");
        assert_eq!(error(body).0, 100);
        let mut body = base();
        body["to"] = json!("0812-345");
        assert_eq!(error(body).0, 100);
        let mut body = base();
        body["type"] = json!("image");
        assert_eq!(error(body).0, 100);
        let mut body = base();
        body["text"]["body"] = json!("");
        assert_eq!(error(body).0, 100);
        let mut body = base();
        body["text"]["body"] = json!("a".repeat(4097));
        assert_eq!(error(body).0, 100);
        let mut body = base();
        body["text"]["body"] = json!("é".repeat(4096));
        assert!(parse(body).is_ok(), "4096 characters, not bytes");
        let mut body = base();
        body["context"] = json!({});
        assert_eq!(error(body).0, 100);
        let mut body = base();
        body["recipient_type"] = json!("group");
        assert_eq!(error(body).0, 100);
    }

    #[test]
    fn templates_must_be_approved() {
        let template = |name: &str| {
            json!({
                "messaging_product": "whatsapp",
                "to": "6281234567890",
                "type": "template",
                "template": {
                    "name": name,
                    "language": {"code": "id"},
                    "components": [
                        {"type": "body", "parameters": [{"type": "text", "text": "KC-0001"}]},
                        {"type": "button", "sub_type": "quick_reply", "index": "0", "parameters": [{"type": "payload", "payload": "TERIMA"}]},
                    ],
                },
            })
        };
        let Ok(Request::Message(outgoing)) = parse(template("kicau_tiket_baru")) else {
            panic!("an approved template is accepted");
        };
        assert_eq!(outgoing.kind, Kind::Template);
        // Upper case, as pywa sends it, is what Meta accepts too.
        let mut upper = template("kicau_tiket_baru");
        upper["template"]["components"][0]["type"] = json!("BODY");
        upper["template"]["components"][1]["type"] = json!("BUTTON");
        upper["template"]["components"][1]["sub_type"] = json!("QUICK_REPLY");
        assert!(matches!(parse(upper), Ok(Request::Message(_))));
        let error = parse(template("hello_world")).unwrap_err();
        assert_eq!(error.code, 132001);
        assert_eq!(
            error.message,
            "(#132001) Template name does not exist in the translation"
        );
        assert_eq!(
            error.details.as_deref(),
            Some("template name (hello_world) does not exist in id")
        );
        let mut body = template("kicau_pengingat");
        body["template"]["components"][1]["index"] = json!("x");
        assert_eq!(self::error(body).0, 100);
    }

    #[test]
    fn read_receipts_are_their_own_request() {
        assert_eq!(
            parse(json!({"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.x", "typing_indicator": {"type": "text"}})).unwrap(),
            Request::MarkRead {
                message_id: "wamid.x".to_owned()
            }
        );
        assert_eq!(
            error(json!({"messaging_product": "whatsapp", "status": "delivered", "message_id": "wamid.x"})).0,
            100
        );
    }
}
