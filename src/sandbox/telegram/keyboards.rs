/*!
Inline keyboards (`reply_markup`), checked the way Telegram checks them: rows of buttons that each
carry exactly one action, `callback_data` of 1 to 64 bytes, usable URLs.
*/

use serde_json::{Map, Value, json};

use super::errors::ApiError;
use super::params::Params;

/// Inline button fields that give the button an action; a button needs exactly one.
const BUTTON_ACTIONS: [&str; 10] = [
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
];

/// Longest `callback_data` of an inline button, in bytes.
const MAX_CALLBACK_DATA: usize = 64;

/// `reply_markup`, checked the way Telegram checks inline keyboards. Answers the inline
/// keyboard to store (`None` when absent, empty, or a reply keyboard, which messages do not
/// carry). Edits accept inline keyboards only.
pub(super) fn reply_markup(p: &Params, inline_only: bool) -> Result<Option<Value>, ApiError> {
    let Some(markup) = p.object("reply_markup")? else {
        return Ok(None);
    };
    let Some(markup) = markup.as_object() else {
        return Err(ApiError::bad(
            "can't parse reply keyboard markup JSON object",
        ));
    };
    let Some(rows) = markup.get("inline_keyboard") else {
        if inline_only {
            return Err(ApiError::bad("inline keyboard expected"));
        }
        return Ok(None);
    };
    let Some(rows) = rows.as_array() else {
        return Err(ApiError::bad(
            "field \"inline_keyboard\" of the InlineKeyboardMarkup must be an Array",
        ));
    };
    let mut clean_rows = Vec::new();
    for row in rows {
        let Some(row) = row.as_array() else {
            return Err(ApiError::bad(
                "field \"inline_keyboard\" of the InlineKeyboardMarkup must be an Array of Arrays",
            ));
        };
        let mut clean_row = Vec::new();
        for button in row {
            clean_row.push(inline_button(button)?);
        }
        if !clean_row.is_empty() {
            clean_rows.push(Value::Array(clean_row));
        }
    }
    if clean_rows.is_empty() {
        return Ok(None);
    }
    Ok(Some(json!({"inline_keyboard": clean_rows})))
}

fn inline_button(button: &Value) -> Result<Value, ApiError> {
    let Some(fields) = button.as_object() else {
        return Err(ApiError::bad(
            "can't parse inline keyboard button: InlineKeyboardButton must be an Object",
        ));
    };
    let Some(text) = fields.get("text").and_then(Value::as_str) else {
        return Err(ApiError::bad(
            "can't parse inline keyboard button: Field \"text\" must be of type String",
        ));
    };
    let mut clean = Map::new();
    clean.insert("text".to_owned(), json!(text));
    for action in BUTTON_ACTIONS {
        if let Some(value) = fields.get(action).filter(|v| !v.is_null()) {
            clean.insert(action.to_owned(), value.clone());
        }
    }
    if clean.len() == 1 {
        return Err(ApiError::bad(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard",
        ));
    }
    if let Some(data) = clean.get("callback_data") {
        let length = data.as_str().map(str::len).unwrap_or(0);
        if length == 0 || length > MAX_CALLBACK_DATA {
            return Err(ApiError::bad("BUTTON_DATA_INVALID"));
        }
    }
    if let Some(url) = clean.get("url") {
        let valid = url
            .as_str()
            .and_then(|u| reqwest::Url::parse(u).ok())
            .is_some_and(|u| matches!(u.scheme(), "http" | "https" | "tg"));
        if !valid {
            return Err(ApiError::bad("BUTTON_URL_INVALID"));
        }
    }
    Ok(Value::Object(clean))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_buttons_need_short_callback_data() {
        let button = |data: &str| inline_button(&json!({"text": "Terima", "callback_data": data}));
        assert!(button("t:1:acc").is_ok());
        assert!(button(&"x".repeat(64)).is_ok());
        for bad in ["", &"x".repeat(65)] {
            assert_eq!(
                button(bad).unwrap_err().description,
                "Bad Request: BUTTON_DATA_INVALID"
            );
        }
        assert_eq!(
            inline_button(&json!({"text": "x"}))
                .unwrap_err()
                .description,
            "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        );
    }
}
