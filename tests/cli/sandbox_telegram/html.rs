/*!
Telegram's HTML parse mode over raw HTTP: tags become entities, and what Telegram refuses is
refused with its description.
*/

use serde_json::json;

use super::{STAFF_GROUP, start};

#[tokio::test]
async fn html_is_checked_the_way_telegram_checks_it() {
    let sandbox = start(false).await;
    let sent = sandbox
        .ok(
            "sendMessage",
            json!({
                "chat_id": STAFF_GROUP,
                "parse_mode": "HTML",
                "text": "<b>Tiket #17</b> jalan rusak 🚧 &amp; <a href=\"https://malangkota.go.id\">detail</a> <code>t17</code>",
            }),
        )
        .await;
    assert_eq!(sent["text"], "Tiket #17 jalan rusak 🚧 & detail t17");
    assert_eq!(
        sent["entities"],
        json!([
            {"type": "bold", "offset": 0, "length": 9},
            {"type": "text_link", "offset": 27, "length": 6, "url": "https://malangkota.go.id/"},
            {"type": "code", "offset": 34, "length": 3},
        ])
    );
    let refused = [
        (
            "<b>x<i>y</b></i>",
            "Bad Request: can't parse entities: Unmatched end tag at byte offset 8, expected \"</i>\", found \"</b>\"",
        ),
        (
            "<div>x</div>",
            "Bad Request: can't parse entities: Unsupported start tag \"div\" at byte offset 0",
        ),
        (
            "<b>tebal",
            "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\"",
        ),
        (
            "harga < 5000",
            "Bad Request: can't parse entities: Unsupported start tag \"\" at byte offset 6",
        ),
        ("<b> </b>", "Bad Request: message text is empty"),
    ];
    for (text, description) in refused {
        assert_eq!(
            sandbox
                .error(
                    "sendMessage",
                    json!({"chat_id": STAFF_GROUP, "parse_mode": "HTML", "text": text})
                )
                .await,
            (400, description.to_owned()),
            "{text}"
        );
    }
    // The limit counts characters after parsing: 4096 fit even with tags around them.
    let long = "é".repeat(4096);
    sandbox
        .ok(
            "sendMessage",
            json!({"chat_id": STAFF_GROUP, "parse_mode": "HTML", "text": format!("<b>{long}</b>")}),
        )
        .await;
    assert_eq!(
        sandbox
            .error(
                "sendMessage",
                json!({"chat_id": STAFF_GROUP, "text": format!("{long}x")})
            )
            .await,
        (400, "Bad Request: message is too long".to_owned())
    );
    assert_eq!(
        sandbox
            .error("sendMessage", json!({"chat_id": STAFF_GROUP}))
            .await,
        (400, "Bad Request: message text is empty".to_owned())
    );
}
