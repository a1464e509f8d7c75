/*!
The rules of interactive messages: a body of at most 1,024 characters, an optional text header and
footer, and either reply buttons (one to three, unique ids and titles of at most 20 characters) or
a list (one to ten sections, at most ten rows across them). A message that breaks them gets
WhatsApp's code 131009.
*/

use std::collections::HashSet;

use serde_json::Value;

use super::errors::GraphError;
use super::requests::check_length;

/// Longest body of an interactive message, in characters.
const MAX_INTERACTIVE_BODY: usize = 1024;
/// Longest text header or footer of an interactive message, in characters.
const MAX_HEADER_FOOTER: usize = 60;
/// Most reply buttons in an interactive message.
const MAX_BUTTONS: usize = 3;
/// Longest reply button id, in characters.
const MAX_BUTTON_ID: usize = 256;
/// Longest reply button title, and longest list button label, in characters.
const MAX_BUTTON_TITLE: usize = 20;
/// Most sections in a list message, and most rows across its sections.
const MAX_SECTIONS: usize = 10;
const MAX_ROWS: usize = 10;
/// Longest list row id, row title, row description and section title, in characters.
const MAX_ROW_ID: usize = 200;
const MAX_ROW_TITLE: usize = 24;
const MAX_ROW_DESCRIPTION: usize = 72;
const MAX_SECTION_TITLE: usize = 24;

pub(super) fn check_interactive(interactive: &Value) -> Result<(), GraphError> {
    let kind = match interactive.get("type").and_then(Value::as_str) {
        None => return Err(GraphError::required("interactive['type']")),
        Some(kind @ ("button" | "list")) => kind,
        Some(other) => {
            return Err(GraphError::invalid(format!(
                "interactive type {other:?} is not supported by the sandbox; use button or list"
            )));
        }
    };
    let Some(body) = interactive["body"].get("text").and_then(Value::as_str) else {
        return Err(GraphError::required("interactive['body']['text']"));
    };
    check_length(
        "interactive.body.text",
        body,
        MAX_INTERACTIVE_BODY,
        GraphError::not_valid,
    )?;
    if let Some(header) = interactive.get("header") {
        match header["type"].as_str() {
            Some("text") => {
                let text = header["text"].as_str().unwrap_or_default();
                check_length(
                    "interactive.header.text",
                    text,
                    MAX_HEADER_FOOTER,
                    GraphError::not_valid,
                )?;
            }
            Some("image" | "video" | "document") if kind == "button" => {}
            _ => {
                return Err(GraphError::not_valid(
                    "interactive.header.type must be text (or, with reply buttons, image, video or document)",
                ));
            }
        }
    }
    if let Some(footer) = interactive.get("footer") {
        let text = footer["text"].as_str().unwrap_or_default();
        check_length(
            "interactive.footer.text",
            text,
            MAX_HEADER_FOOTER,
            GraphError::not_valid,
        )?;
    }
    let Some(action) = interactive.get("action").filter(|a| a.is_object()) else {
        return Err(GraphError::required("interactive['action']"));
    };
    if kind == "button" {
        check_buttons(action)
    } else {
        check_list(action)
    }
}

fn check_buttons(action: &Value) -> Result<(), GraphError> {
    let Some(buttons) = action.get("buttons").and_then(Value::as_array) else {
        return Err(GraphError::required("interactive['action']['buttons']"));
    };
    if buttons.is_empty() || buttons.len() > MAX_BUTTONS {
        return Err(GraphError::not_valid(format!(
            "Invalid buttons count. Min allowed buttons: 1, Max allowed buttons: {MAX_BUTTONS}; got {}",
            buttons.len()
        )));
    }
    let mut ids = HashSet::new();
    let mut titles = HashSet::new();
    for button in buttons {
        if button["type"] != "reply" {
            return Err(GraphError::not_valid(
                "Invalid button type: reply buttons have type \"reply\"",
            ));
        }
        let (Some(id), Some(title)) = (
            button["reply"]["id"].as_str(),
            button["reply"]["title"].as_str(),
        ) else {
            return Err(GraphError::not_valid(
                "Each reply button needs reply.id and reply.title",
            ));
        };
        let id_length = id.chars().count();
        if id_length == 0 || id_length > MAX_BUTTON_ID || id.trim() != id {
            return Err(GraphError::not_valid(format!(
                "Button id length invalid. Min length: 1, Max length: {MAX_BUTTON_ID}, no leading or trailing spaces; got {id:?}"
            )));
        }
        let title_length = title.chars().count();
        if title.trim().is_empty() || title_length > MAX_BUTTON_TITLE {
            return Err(GraphError::not_valid(format!(
                "Button title length invalid. Min length: 1, Max length: {MAX_BUTTON_TITLE}; {title:?} has {title_length}"
            )));
        }
        if !ids.insert(id) {
            return Err(GraphError::not_valid(format!("Duplicate button id {id:?}")));
        }
        if !titles.insert(title) {
            return Err(GraphError::not_valid(format!(
                "Duplicate button title {title:?}"
            )));
        }
    }
    Ok(())
}

fn check_list(action: &Value) -> Result<(), GraphError> {
    let Some(button) = action.get("button").and_then(Value::as_str) else {
        return Err(GraphError::required("interactive['action']['button']"));
    };
    check_length(
        "action.button",
        button,
        MAX_BUTTON_TITLE,
        GraphError::not_valid,
    )?;
    let Some(sections) = action.get("sections").and_then(Value::as_array) else {
        return Err(GraphError::required("interactive['action']['sections']"));
    };
    if sections.is_empty() || sections.len() > MAX_SECTIONS {
        return Err(GraphError::not_valid(format!(
            "Invalid sections count. Min allowed sections: 1, Max allowed sections: {MAX_SECTIONS}"
        )));
    }
    let mut ids = HashSet::new();
    for section in sections {
        match section.get("title").and_then(Value::as_str) {
            Some(title) => check_length(
                "section title",
                title,
                MAX_SECTION_TITLE,
                GraphError::not_valid,
            )?,
            None if sections.len() > 1 => {
                return Err(GraphError::not_valid(
                    "Each section needs a title when there is more than one",
                ));
            }
            None => {}
        }
        let rows = section["rows"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        if rows.is_empty() {
            return Err(GraphError::not_valid("Each section needs at least one row"));
        }
        for row in rows {
            let id = row["id"].as_str().unwrap_or_default();
            check_length("row id", id, MAX_ROW_ID, GraphError::not_valid)?;
            check_length(
                "row title",
                row["title"].as_str().unwrap_or_default(),
                MAX_ROW_TITLE,
                GraphError::not_valid,
            )?;
            if let Some(description) = row.get("description") {
                let description = description.as_str().unwrap_or_default();
                if description.chars().count() > MAX_ROW_DESCRIPTION {
                    return Err(GraphError::not_valid(format!(
                        "Row description length invalid. Max length: {MAX_ROW_DESCRIPTION}"
                    )));
                }
            }
            if !ids.insert(id) {
                return Err(GraphError::not_valid(format!("Duplicate row id {id:?}")));
            }
        }
    }
    if ids.len() > MAX_ROWS {
        return Err(GraphError::not_valid(format!(
            "Invalid rows count. Max allowed rows across sections: {MAX_ROWS}; got {}",
            ids.len()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::super::requests::tests::{error, parse};

    fn buttons(titles: &[&str]) -> Value {
        let buttons: Vec<Value> = titles
            .iter()
            .enumerate()
            .map(|(i, title)| json!({"type": "reply", "reply": {"id": format!("b{i}"), "title": title}}))
            .collect();
        json!({
            "messaging_product": "whatsapp",
            "to": "6281234567890",
            "type": "interactive",
            "interactive": {"type": "button", "body": {"text": "Pilih"}, "action": {"buttons": buttons}},
        })
    }

    #[test]
    fn reply_buttons_are_limited_to_three_with_short_titles() {
        assert!(parse(buttons(&["Ya", "Tidak", "Nanti"])).is_ok());
        let (code, details) = error(buttons(&["a", "b", "c", "d"]));
        assert_eq!(code, 131009);
        assert!(details.contains("Max allowed buttons: 3"), "{details}");
        assert_eq!(error(buttons(&[])).0, 131009);
        assert!(parse(buttons(&["x".repeat(20).as_str()])).is_ok());
        let (code, details) = error(buttons(&["x".repeat(21).as_str()]));
        assert_eq!(code, 131009);
        assert!(details.contains("Max length: 20"), "{details}");
        assert_eq!(error(buttons(&[""])).0, 131009);
        let (_, details) = error(buttons(&["Ya", "Ya"]));
        assert!(details.contains("Duplicate button title"), "{details}");
        let mut body = buttons(&["Ya"]);
        body["interactive"]["action"]["buttons"][0]["reply"]["id"] = json!("x".repeat(257));
        assert_eq!(error(body).0, 131009);
        let mut body = buttons(&["Ya"]);
        body["interactive"]["action"]["buttons"][0]["reply"]["id"] = json!(" padded");
        assert_eq!(error(body).0, 131009);
    }

    #[test]
    fn lists_are_checked_and_accepted() {
        let list = |rows: usize| {
            let rows: Vec<Value> = (0..rows)
                .map(|i| json!({"id": format!("r{i}"), "title": format!("Dinas {i}"), "description": "Pilihan"}))
                .collect();
            json!({
                "messaging_product": "whatsapp",
                "to": "6281234567890",
                "type": "interactive",
                "interactive": {
                    "type": "list",
                    "header": {"type": "text", "text": "Tiket"},
                    "body": {"text": "Pilih dinas"},
                    "footer": {"text": "Kicau"},
                    "action": {"button": "Daftar dinas", "sections": [{"title": "Dinas", "rows": rows}]},
                },
            })
        };
        assert!(parse(list(10)).is_ok());
        assert_eq!(error(list(11)).0, 131009);
        assert_eq!(error(list(0)).0, 131009);
        let mut body = list(1);
        body["interactive"]["type"] = json!("product");
        assert_eq!(error(body).0, 100);
    }
}
