/*!
Telegram's HTML parse mode: text with tags becomes the plain text and its formatting entities,
following the rules of the parser Telegram's servers run (tdlib's `parse_html`), with Telegram's
error descriptions. Offsets and lengths count UTF-16 units, as the Bot API does.
*/

use std::collections::HashMap;

use serde_json::{Value, json};

use super::Person;

/// The HTML tags Telegram's parse mode accepts.
const SUPPORTED_TAGS: [&str; 16] = [
    "a",
    "b",
    "strong",
    "i",
    "em",
    "s",
    "strike",
    "del",
    "u",
    "ins",
    "tg-spoiler",
    "tg-emoji",
    "span",
    "pre",
    "code",
    "blockquote",
];

/// A formatting entity: offset and length in UTF-16 code units, as the Bot API counts them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Entity {
    kind: EntityKind,
    offset: usize,
    length: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum EntityKind {
    Bold,
    Italic,
    Underline,
    Strikethrough,
    Spoiler,
    /// While parsing, the language a `<code class="language-...">` named.
    Code(String),
    /// With the language of a `<pre><code class="language-...">` block, or empty.
    Pre(String),
    TextLink(String),
    /// A `tg://user?id=` link.
    TextMention(i64),
    CustomEmoji(String),
    Blockquote,
    ExpandableBlockquote,
}

impl EntityKind {
    fn name(&self) -> &'static str {
        match self {
            EntityKind::Bold => "bold",
            EntityKind::Italic => "italic",
            EntityKind::Underline => "underline",
            EntityKind::Strikethrough => "strikethrough",
            EntityKind::Spoiler => "spoiler",
            EntityKind::Code(_) => "code",
            EntityKind::Pre(_) => "pre",
            EntityKind::TextLink(_) => "text_link",
            EntityKind::TextMention(_) => "text_mention",
            EntityKind::CustomEmoji(_) => "custom_emoji",
            EntityKind::Blockquote => "blockquote",
            EntityKind::ExpandableBlockquote => "expandable_blockquote",
        }
    }

    /// The order of entities sharing a range, as Telegram sorts them.
    fn priority(&self) -> u8 {
        match self {
            EntityKind::Blockquote | EntityKind::ExpandableBlockquote => 0,
            EntityKind::Pre(language) if !language.is_empty() => 10,
            EntityKind::Pre(_) => 11,
            EntityKind::Code(_) => 20,
            EntityKind::TextLink(_) | EntityKind::TextMention(_) => 49,
            EntityKind::Bold => 90,
            EntityKind::Italic => 91,
            EntityKind::Underline => 92,
            EntityKind::Strikethrough => 93,
            EntityKind::Spoiler => 94,
            EntityKind::CustomEmoji(_) => 99,
        }
    }
}

impl Entity {
    /// The Bot API's MessageEntity; a mention of someone the sandbox does not know is dropped.
    pub(super) fn json(&self, people: &HashMap<i64, Person>) -> Option<Value> {
        let mut v = json!({"type": self.kind.name(), "offset": self.offset, "length": self.length});
        match &self.kind {
            EntityKind::Pre(language) if !language.is_empty() => v["language"] = json!(language),
            EntityKind::TextLink(url) => v["url"] = json!(url),
            EntityKind::TextMention(id) => v["user"] = people.get(id)?.json(),
            EntityKind::CustomEmoji(id) => v["custom_emoji_id"] = json!(id),
            _ => {}
        }
        Some(v)
    }
}

/// A start tag waiting for its end tag.
struct OpenTag {
    tag: String,
    argument: String,
    /// Where its entity starts, in UTF-16 units of the output.
    offset: usize,
    /// Where its content starts, in bytes of the output (for `<a>` without `href`).
    byte: usize,
}

/// Telegram's whitespace inside tags; the end of the text counts as one, as in tdlib.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n' | 0 | 0x0b | 0x0c)
}

/// Parses text in Telegram's HTML parse mode into the plain text and its entities, following
/// the rules of Telegram's parser (tdlib `parse_html`): only the supported tags, properly nested
/// and closed (`</>` closes the innermost); attribute values quoted or name tokens; the named
/// references `&lt; &gt; &amp; &quot;` and numeric ones decode, while any other `&` stays
/// literal text, as on Telegram. Errors are Telegram's descriptions, with byte offsets into the
/// input, to follow "Bad Request: can't parse entities: ".
pub(super) fn parse_html(text: &str) -> Result<(String, Vec<Entity>), String> {
    let bytes = text.as_bytes();
    let at = |i: usize| bytes.get(i).copied().unwrap_or(0);
    let mut out = String::with_capacity(text.len());
    let mut utf16 = 0;
    let mut open: Vec<OpenTag> = Vec::new();
    let mut entities: Vec<Entity> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'&'
            && let Some((code, next)) = decode_reference(bytes, i)
        {
            let Some(ch) = char::from_u32(code) else {
                return Err("Text contains invalid Unicode characters after decoding HTML entities, check for unmatched surrogate code units".to_owned());
            };
            out.push(ch);
            utf16 += ch.len_utf16();
            i = next;
            continue;
        }
        if c != b'<' {
            let ch = text[i..]
                .chars()
                .next()
                .expect("i is on a character boundary");
            out.push(ch);
            utf16 += ch.len_utf16();
            i += ch.len_utf8();
            continue;
        }
        let begin = i;
        i += 1;
        if at(i) != b'/' {
            while !is_space(at(i)) && at(i) != b'>' {
                i += 1;
            }
            if at(i) == 0 {
                return Err(format!("Unclosed start tag at byte offset {begin}"));
            }
            let tag = text[begin + 1..i].to_ascii_lowercase();
            if !SUPPORTED_TAGS.contains(&tag.as_str()) {
                return Err(format!(
                    "Unsupported start tag \"{tag}\" at byte offset {begin}"
                ));
            }
            let mut argument = String::new();
            while at(i) != b'>' {
                while at(i) != 0 && is_space(at(i)) {
                    i += 1;
                }
                if at(i) == b'>' {
                    break;
                }
                let name_begin = i;
                while !is_space(at(i)) && !matches!(at(i), b'=' | b'>' | b'/' | b'"' | b'\'') {
                    i += 1;
                }
                let name = &text[name_begin..i];
                if name.is_empty() {
                    return Err(format!(
                        "Empty attribute name in the tag \"{tag}\" at byte offset {begin}"
                    ));
                }
                while at(i) != 0 && is_space(at(i)) {
                    i += 1;
                }
                if at(i) != b'=' {
                    if at(i) == 0 {
                        return Err(format!(
                            "Unclosed start tag \"{tag}\" at byte offset {begin}"
                        ));
                    }
                    if tag == "blockquote" && name == "expandable" {
                        argument = "1".to_owned();
                    }
                    continue;
                }
                i += 1;
                while at(i) != 0 && is_space(at(i)) {
                    i += 1;
                }
                if at(i) == 0 {
                    return Err(format!(
                        "Unclosed start tag \"{tag}\" at byte offset {begin}"
                    ));
                }
                let value = if at(i) != b'\'' && at(i) != b'"' {
                    let token_begin = i;
                    while at(i).is_ascii_alphanumeric() || at(i) == b'.' || at(i) == b'-' {
                        i += 1;
                    }
                    if !is_space(at(i)) && at(i) != b'>' {
                        return Err(format!(
                            "Unexpected end of name token at byte offset {token_begin}"
                        ));
                    }
                    text[token_begin..i].to_ascii_lowercase()
                } else {
                    let quote = at(i);
                    i += 1;
                    let mut value = Vec::new();
                    while at(i) != quote && at(i) != 0 {
                        if at(i) == b'&'
                            && let Some((code, next)) = decode_reference(bytes, i)
                        {
                            let ch = char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER);
                            value.extend_from_slice(ch.encode_utf8(&mut [0; 4]).as_bytes());
                            i = next;
                            continue;
                        }
                        value.push(at(i));
                        i += 1;
                    }
                    if at(i) == quote {
                        i += 1;
                    }
                    String::from_utf8_lossy(&value).into_owned()
                };
                if at(i) == 0 {
                    return Err(format!("Unclosed start tag at byte offset {begin}"));
                }
                match (tag.as_str(), name) {
                    ("a", "href") | ("tg-emoji", "emoji-id") => argument = value,
                    ("code", "class") if value.starts_with("language-") => {
                        argument = value["language-".len()..].to_owned();
                    }
                    ("span", "class") if value.starts_with("tg-") => {
                        argument = value["tg-".len()..].to_owned();
                    }
                    ("blockquote", "expandable") => argument = "1".to_owned(),
                    _ => {}
                }
            }
            if tag == "span" && argument != "spoiler" {
                return Err(format!(
                    "Tag \"span\" must have class \"tg-spoiler\" at byte offset {begin}"
                ));
            }
            open.push(OpenTag {
                tag,
                argument,
                offset: utf16,
                byte: out.len(),
            });
            i += 1;
        } else {
            if open.is_empty() {
                return Err(format!("Unexpected end tag at byte offset {begin}"));
            }
            while !is_space(at(i)) && at(i) != b'>' {
                i += 1;
            }
            let end_tag = text[begin + 2..i].to_ascii_lowercase();
            while at(i) != 0 && is_space(at(i)) {
                i += 1;
            }
            if at(i) != b'>' {
                return Err(format!("Unclosed end tag at byte offset {begin}"));
            }
            let top = open.pop().expect("checked non-empty");
            if !end_tag.is_empty() && end_tag != top.tag {
                return Err(format!(
                    "Unmatched end tag at byte offset {begin}, expected \"</{}>\", found \"</{end_tag}>\"",
                    top.tag
                ));
            }
            if utf16 > top.offset {
                close_tag(&mut entities, top, utf16, &out)?;
            }
            i += 1;
        }
    }
    if let Some(top) = open.last() {
        return Err(format!(
            "Can't find end tag corresponding to start tag \"{}\"",
            top.tag
        ));
    }
    for entity in &mut entities {
        if let EntityKind::Code(language) = &mut entity.kind {
            language.clear();
        }
    }
    entities.sort_by(|a, b| {
        a.offset
            .cmp(&b.offset)
            .then(b.length.cmp(&a.length))
            .then(a.kind.priority().cmp(&b.kind.priority()))
    });
    Ok((out, entities))
}

/// Turns a closed, non-empty tag into its entity. `<pre><code class="language-x">` becomes one
/// `pre` entity with a language, whichever of the two closes last.
fn close_tag(
    entities: &mut Vec<Entity>,
    top: OpenTag,
    end: usize,
    out: &str,
) -> Result<(), String> {
    let offset = top.offset;
    let length = end - offset;
    let same_range = |e: &Entity| e.offset == offset && e.length == length;
    let kind = match top.tag.as_str() {
        "i" | "em" => EntityKind::Italic,
        "b" | "strong" => EntityKind::Bold,
        "s" | "strike" | "del" => EntityKind::Strikethrough,
        "u" | "ins" => EntityKind::Underline,
        "tg-spoiler" | "span" => EntityKind::Spoiler,
        "tg-emoji" => match top.argument.parse::<i64>() {
            Ok(id) if id != 0 => EntityKind::CustomEmoji(top.argument),
            _ => return Err("Invalid custom emoji identifier specified".to_owned()),
        },
        "a" => {
            let url = if top.argument.is_empty() {
                out[top.byte..].to_owned()
            } else {
                top.argument
            };
            match link_target(&url) {
                Some(kind) => kind,
                // Telegram keeps the text and drops a link it cannot use.
                None => return Ok(()),
            }
        }
        "pre" => {
            if let Some(last) = entities.last_mut()
                && same_range(last)
                && let EntityKind::Code(language) = &last.kind
                && !language.is_empty()
            {
                last.kind = EntityKind::Pre(language.clone());
                return Ok(());
            }
            EntityKind::Pre(String::new())
        }
        "code" => {
            if let Some(last) = entities.last_mut()
                && same_range(last)
                && last.kind == EntityKind::Pre(String::new())
                && !top.argument.is_empty()
            {
                last.kind = EntityKind::Pre(top.argument);
                return Ok(());
            }
            EntityKind::Code(top.argument)
        }
        "blockquote" if top.argument.is_empty() => EntityKind::Blockquote,
        "blockquote" => EntityKind::ExpandableBlockquote,
        _ => return Ok(()),
    };
    entities.push(Entity {
        kind,
        offset,
        length,
    });
    Ok(())
}

/// What an `<a href>` points at: a person (`tg://user?id=`) or a URL, normalized as Telegram
/// does (a bare domain becomes `http://...`); `None` for what Telegram would not link.
fn link_target(url: &str) -> Option<EntityKind> {
    let url = url.trim();
    if url.is_empty() {
        return None;
    }
    let lower = url.to_ascii_lowercase();
    if let Some(id) = lower.strip_prefix("tg://user?id=") {
        return id.parse().ok().map(EntityKind::TextMention);
    }
    let candidate = if url.contains("://") {
        url.to_owned()
    } else {
        format!("http://{url}")
    };
    let parsed = reqwest::Url::parse(&candidate).ok()?;
    let usable = match parsed.scheme() {
        "http" | "https" => parsed.host_str().is_some_and(|h| h.contains('.')),
        "tg" | "ton" | "tonsite" => true,
        _ => false,
    };
    usable.then(|| EntityKind::TextLink(parsed.to_string()))
}

/// Decodes the character reference at `pos` (which holds `&`), as Telegram does: `&#N;`,
/// `&#xH;`, `&lt;`, `&gt;`, `&amp;`, `&quot;`, the `;` optional. Answers the code point and where
/// the text continues, or `None` when the `&` is literal text.
fn decode_reference(bytes: &[u8], pos: usize) -> Option<(u32, usize)> {
    let at = |i: usize| bytes.get(i).copied().unwrap_or(0);
    let mut end = pos + 1;
    let code = if at(pos + 1) == b'#' {
        end += 1;
        let mut value: u64 = 0;
        if at(pos + 2) == b'x' {
            end += 1;
            while let Some(digit) = (at(end) as char).to_digit(16) {
                value = value.saturating_mul(16).saturating_add(u64::from(digit));
                end += 1;
            }
        } else {
            while let Some(digit) = (at(end) as char).to_digit(10) {
                value = value.saturating_mul(10).saturating_add(u64::from(digit));
                end += 1;
            }
        }
        if value == 0 || value >= 0x10_FFFF || end - pos >= 10 {
            return None;
        }
        value as u32
    } else {
        while at(end).is_ascii_alphabetic() {
            end += 1;
        }
        match &bytes[pos + 1..end] {
            b"lt" => u32::from('<'),
            b"gt" => u32::from('>'),
            b"amp" => u32::from('&'),
            b"quot" => u32::from('"'),
            _ => return None,
        }
    };
    let next = if at(end) == b';' { end + 1 } else { end };
    Some((code, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The text and (type, offset, length) of each entity.
    fn parsed(html: &str) -> (String, Vec<(&'static str, usize, usize)>) {
        let (text, entities) = parse_html(html).expect("valid HTML");
        let entities = entities
            .iter()
            .map(|e| (e.kind.name(), e.offset, e.length))
            .collect();
        (text, entities)
    }

    /// Each input is refused with its description.
    fn assert_refused(cases: &[(&str, &str)]) {
        for (html, description) in cases {
            assert_eq!(parse_html(html).unwrap_err(), *description, "{html}");
        }
    }

    #[test]
    fn html_tags_become_entities_and_leave_the_text() {
        let (text, entities) = parsed("<b>Tiket</b> <i>baru</i> <code>#17</code>");
        assert_eq!(text, "Tiket baru #17");
        assert_eq!(
            entities,
            vec![("bold", 0, 5), ("italic", 6, 4), ("code", 11, 3)]
        );
    }

    #[test]
    fn nested_tags_are_allowed_when_properly_closed() {
        let (text, entities) = parsed("<b>a <i>b</i> c</b><strong><em>d</em></strong>");
        assert_eq!(text, "a b cd");
        assert_eq!(
            entities,
            vec![
                ("bold", 0, 5),
                ("italic", 2, 1),
                ("bold", 5, 1),
                ("italic", 5, 1)
            ]
        );
        // `</>` closes the innermost tag, as Telegram allows.
        assert_eq!(parsed("<b>x</>").1, vec![("bold", 0, 1)]);
    }

    #[test]
    fn crossed_or_unclosed_tags_are_refused_with_telegrams_descriptions() {
        assert_refused(&[
            (
                "<b>x<i>y</b></i>",
                "Unmatched end tag at byte offset 8, expected \"</i>\", found \"</b>\"",
            ),
            (
                "<b>x",
                "Can't find end tag corresponding to start tag \"b\"",
            ),
            ("x</b>", "Unexpected end tag at byte offset 1"),
            ("<b>x</b", "Unclosed end tag at byte offset 4"),
            ("ends with <b", "Unclosed start tag at byte offset 10"),
        ]);
    }

    #[test]
    fn unknown_tags_and_bare_angle_brackets_are_refused() {
        assert_refused(&[
            (
                "<div>x</div>",
                "Unsupported start tag \"div\" at byte offset 0",
            ),
            ("<br/>", "Unsupported start tag \"br/\" at byte offset 0"),
            // A citizen's "<" the bot forgot to escape.
            (
                "harga < 5000",
                "Unsupported start tag \"\" at byte offset 6",
            ),
            (
                "<span>x</span>",
                "Tag \"span\" must have class \"tg-spoiler\" at byte offset 0",
            ),
        ]);
        assert_eq!(
            parse_html("<span class=\"tg-spoiler\">x</span>").unwrap().1[0].kind,
            EntityKind::Spoiler
        );
    }

    #[test]
    fn only_telegrams_named_references_decode() {
        let (text, _) = parsed("&lt;b&gt; &amp; &quot;q&quot; &#65;&#x42; &#128512;");
        assert_eq!(text, "<b> & \"q\" AB 😀");
        // Any other reference, and a bare "&", stays literal text, as on Telegram: only "<" must
        // be escaped for Telegram to accept a message.
        let (text, _) = parsed("&nbsp; AT&T &copy &#0; &#xZZ;");
        assert_eq!(text, "&nbsp; AT&T &copy &#0; &#xZZ;");
        assert_refused(&[(
            "&#xD83D;",
            "Text contains invalid Unicode characters after decoding HTML entities, check for unmatched surrogate code units",
        )]);
    }

    #[test]
    fn links_take_href_and_become_text_links() {
        let (text, entities) = parse_html(
            "<a href=\"https://malangkota.go.id/layanan?a=1&amp;b=2\">layanan</a> <a href=malangkota.go.id>x</a>",
        )
        .unwrap();
        assert_eq!(text, "layanan x");
        assert_eq!(
            entities[0].kind,
            EntityKind::TextLink("https://malangkota.go.id/layanan?a=1&b=2".into())
        );
        assert_eq!(
            entities[1].kind,
            EntityKind::TextLink("http://malangkota.go.id/".into())
        );
        // Without href the text is the link; an unusable link leaves plain text.
        let (_, entities) = parse_html("<a>https://example.com</a>").unwrap();
        assert_eq!(
            entities[0].kind,
            EntityKind::TextLink("https://example.com/".into())
        );
        let (text, entities) = parse_html("<a href=\"javascript:alert(1)\">x</a>").unwrap();
        assert_eq!((text.as_str(), entities.len()), ("x", 0));
        assert_refused(&[
            (
                "<a href=x/>y</a>",
                "Unexpected end of name token at byte offset 8",
            ),
            (
                "<a =\"x\">y</a>",
                "Empty attribute name in the tag \"a\" at byte offset 0",
            ),
        ]);
    }

    #[test]
    fn pre_with_a_language_is_one_entity() {
        let (_, entities) =
            parse_html("<pre><code class=\"language-rust\">fn x()</code></pre>").unwrap();
        assert_eq!(
            entities,
            vec![Entity {
                kind: EntityKind::Pre("rust".into()),
                offset: 0,
                length: 6
            }]
        );
        let people = HashMap::new();
        assert_eq!(
            entities[0].json(&people).unwrap(),
            json!({"type": "pre", "offset": 0, "length": 6, "language": "rust"})
        );
    }

    #[test]
    fn offsets_count_utf16_units_so_emoji_count_twice() {
        // 😀 and 🚧 are outside the BMP: two UTF-16 units each; é is one.
        let (text, entities) = parsed("😀 <b>Jalan 🚧</b> é <i>x</i>");
        assert_eq!(text, "😀 Jalan 🚧 é x");
        assert_eq!(entities, vec![("bold", 3, 8), ("italic", 14, 1)]);
    }
}
