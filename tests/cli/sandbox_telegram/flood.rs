/*!
Telegram's flood limits over raw HTTP: 429 with `retry_after`, per chat and per group.
*/

use serde_json::json;

use super::{STAFF_GROUP, start};

#[tokio::test]
async fn flood_limits_answer_429_with_retry_after() {
    let sandbox = start(true).await;
    sandbox.writes(321, 321, "halo").await;
    for i in 0..3 {
        sandbox
            .ok(
                "sendMessage",
                json!({"chat_id": 321, "text": format!("pesan {i}")}),
            )
            .await;
    }
    let (status, answer) = sandbox
        .call("sendMessage", json!({"chat_id": 321, "text": "pesan 3"}))
        .await;
    assert_eq!(status, 429);
    assert_eq!(
        answer,
        json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 1", "parameters": {"retry_after": 1}})
    );
    // Another chat has its own allowance.
    sandbox
        .ok(
            "sendMessage",
            json!({"chat_id": STAFF_GROUP, "text": "grup"}),
        )
        .await;

    // An injected fault fails the next matching call, then the method works again.
    let (status, _) = sandbox
        .control_post(
            "/sandbox/telegram/faults",
            json!({"method": "getMe", "status": 429, "retry_after": 7, "times": 1}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, answer) = sandbox.call("getMe", json!({})).await;
    assert_eq!(status, 429);
    assert_eq!(answer["parameters"]["retry_after"], 7);
    assert_eq!(answer["description"], "Too Many Requests: retry after 7");
    sandbox.ok("getMe", json!({})).await;
    sandbox
        .control_post(
            "/sandbox/telegram/faults",
            json!({"method": "sendMessage", "status": 403, "description": "Forbidden: bot was blocked by the user"}),
        )
        .await;
    assert_eq!(
        sandbox
            .error("sendMessage", json!({"chat_id": STAFF_GROUP, "text": "x"}))
            .await,
        (403, "Forbidden: bot was blocked by the user".to_owned())
    );
}
