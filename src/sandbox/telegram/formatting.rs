/*!
A message's text or caption as Telegram stores it: parsed in the parse mode the bot asked for (HTML
only, see html.rs) or taken with the entities the bot gave, trimmed, and checked for length; and
the `bot_command` entities Telegram marks in what a person writes.
*/

use std::collections::HashMap;

use serde_json::{Value, json};

use super::errors::ApiError;
use super::html::parse_html;
use super::params::Params;
use super::{MAX_TEXT, Person};

/// Longest media caption, in characters, after entity parsing.
const MAX_CAPTION: usize = 1024;

/// Which formatted field a method carries.
#[derive(Debug, Clone, Copy)]
pub(super) enum Field {
    Text,
    Caption,
}

/// The text or caption after Telegram's entity parsing: tags stripped, entities with UTF-16
/// offsets, surrounding whitespace trimmed, length checked.
pub(super) fn formatted(
    people: &HashMap<i64, Person>,
    p: &Params,
    field: Field,
) -> Result<(String, Vec<Value>), ApiError> {
    let (key, entities_key, max) = match field {
        Field::Text => ("text", "entities", MAX_TEXT),
        Field::Caption => ("caption", "caption_entities", MAX_CAPTION),
    };
    let raw = p.string(key).unwrap_or_default();
    let mode = p.string("parse_mode").unwrap_or_default();
    let (text, mut entities) = match mode.to_ascii_lowercase().as_str() {
        "" => {
            let given = explicit_entities(p, entities_key, &raw)?;
            (raw, given)
        }
        "html" => {
            let (text, parsed) = parse_html(&raw)
                .map_err(|e| ApiError::bad(&format!("can't parse entities: {e}")))?;
            let values = parsed.iter().filter_map(|e| e.json(people)).collect();
            (text, values)
        }
        "markdown" | "markdownv2" => {
            return Err(ApiError::bad(
                "can't parse entities: the sandbox implements parse_mode HTML only",
            ));
        }
        _ => return Err(ApiError::bad("unsupported parse_mode")),
    };
    let text = trim_text(&text, &mut entities);
    match field {
        Field::Text if text.is_empty() => Err(ApiError::bad("message text is empty")),
        Field::Text if text.chars().count() > max => Err(ApiError::bad("message is too long")),
        Field::Caption if text.chars().count() > max => {
            Err(ApiError::bad("message caption is too long"))
        }
        _ => Ok((text, entities)),
    }
}

/// Entities the client gave instead of a parse mode; malformed or out-of-range ones are dropped,
/// as Telegram drops them.
fn explicit_entities(p: &Params, key: &str, text: &str) -> Result<Vec<Value>, ApiError> {
    let Some(list) = p.object(key)? else {
        return Ok(Vec::new());
    };
    let length = text.encode_utf16().count() as u64;
    Ok(list
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|e| {
                    let offset = e["offset"].as_u64();
                    let len = e["length"].as_u64();
                    e["type"].is_string()
                        && matches!((offset, len), (Some(o), Some(l)) if l > 0 && o + l <= length)
                })
                .cloned()
                .collect()
        })
        .unwrap_or_default())
}

/// Trims whitespace around the text, moving and clipping entities to match.
fn trim_text(text: &str, entities: &mut Vec<Value>) -> String {
    let is_blank = |c: char| matches!(c, ' ' | '\t' | '\n' | '\r' | '\u{b}' | '\u{c}');
    let start_trimmed = text.trim_start_matches(is_blank);
    let left = text[..text.len() - start_trimmed.len()]
        .encode_utf16()
        .count() as u64;
    let result = start_trimmed.trim_end_matches(is_blank).to_owned();
    let length = result.encode_utf16().count() as u64;
    entities.retain_mut(|e| {
        let offset = e["offset"].as_u64().unwrap_or(0);
        let end = offset + e["length"].as_u64().unwrap_or(0);
        let start = offset.saturating_sub(left).min(length);
        let end = end.saturating_sub(left).min(length);
        if end <= start {
            return false;
        }
        e["offset"] = json!(start);
        e["length"] = json!(end - start);
        true
    });
    result
}

/// `bot_command` entities in a person's text, as Telegram marks them: `/command` or
/// `/command@botname` standing alone.
pub(super) fn bot_commands(text: &str) -> Vec<Value> {
    let chars: Vec<char> = text.chars().collect();
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out = Vec::new();
    let mut utf16 = 0;
    let mut i = 0;
    while i < chars.len() {
        let starts = chars[i] == '/' && (i == 0 || chars[i - 1].is_whitespace());
        if starts {
            let mut j = i + 1;
            while j < chars.len() && word(chars[j]) && j - i <= 64 {
                j += 1;
            }
            if j > i + 1 && j < chars.len() && chars[j] == '@' {
                let mut k = j + 1;
                while k < chars.len() && word(chars[k]) {
                    k += 1;
                }
                if (3..=32).contains(&(k - j - 1)) {
                    j = k;
                }
            }
            if j > i + 1 && chars.get(j).is_none_or(|c| c.is_whitespace()) {
                let length: usize = chars[i..j].iter().map(|c| c.len_utf16()).sum();
                out.push(json!({"type": "bot_command", "offset": utf16, "length": length}));
            }
        }
        utf16 += chars[i].len_utf16();
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn surrounding_whitespace_is_trimmed_and_entities_follow() {
        let (text, entities) = parse_html("\n  <b>halo</b>  \n").unwrap();
        let mut values: Vec<Value> = entities
            .iter()
            .filter_map(|e| e.json(&HashMap::new()))
            .collect();
        let text = trim_text(&text, &mut values);
        assert_eq!(text, "halo");
        assert_eq!(
            values,
            vec![json!({"type": "bold", "offset": 0, "length": 4})]
        );
    }

    #[test]
    fn bot_commands_are_marked_in_a_persons_text() {
        assert_eq!(
            bot_commands("/start"),
            vec![json!({"type": "bot_command", "offset": 0, "length": 6})]
        );
        assert_eq!(
            bot_commands("😀 /tiket@kicau_bot 17 a/b"),
            vec![json!({"type": "bot_command", "offset": 3, "length": 16})]
        );
        assert!(bot_commands("dan/atau").is_empty());
    }
}
