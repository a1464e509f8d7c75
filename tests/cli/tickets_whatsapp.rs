//! Complaints to an agency on WhatsApp (Perumda Tugu Tirta): end to end, the ticket goes as the
//! approved template, then as reply buttons inside the 24-hour window, and as the template again
//! when the window closed; forged webhooks are refused; the agency is recognised by its
//! business-scoped user id when a webhook carries no number. On both backends, a WhatsApp
//! message the bot cannot handle goes to the dead letters while the ones after it are handled.

use std::time::Duration;

use kicau::tickets::TicketState;
use serde_json::{Value, json};

use crate::helpers::{Backends, Deployment, file_ticket_for, tickets_with};

const TUGU_TIRTA: &str = "6281200000005";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_over_whatsapp_template_then_buttons_refusing_bad_signatures() {
    use hmac::Mac as _;
    let mut d = Deployment::start().await;
    d.start_bot().await;
    let console = d.console_url();
    let client = reqwest::Client::new();
    let x = d.sandbox();
    let complaint = x
        .post_as(
            "warga16",
            "@PemkotMalang air pdam mati sejak pagi di jl kawi, tolong dicek",
        )
        .await;
    // The agency's number has not written: the ticket goes as the approved template.
    d.wait_until(Duration::from_secs(30), "a WhatsApp message", || async {
        !x.whatsapp_chat(TUGU_TIRTA).await.is_empty()
    })
    .await;
    let first = x.whatsapp_chat(TUGU_TIRTA).await[0].clone();
    assert_eq!(first["type"], "template", "{first}");
    let params = first["template"]["components"][0]["parameters"].to_string();
    let number = kicau::tickets::number_in(&params).unwrap();
    assert!(params.contains("Jl. Kawi"), "{params}");

    // A forged webhook (wrong signature) is refused and changes nothing.
    let forged = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"display_phone_number": "6281100000000", "phone_number_id": "106540352242922"},
        "messages": [{"from": TUGU_TIRTA, "id": "wamid.forged", "timestamp": "1", "type": "button",
                      "button": {"payload": format!("t:{number}:resolved"), "text": "Selesai"}}]}}]}]});
    let body = forged.to_string();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"not-the-app-secret").unwrap();
    mac.update(body.as_bytes());
    let wrong: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    for signature in [Some(format!("sha256={wrong}")), None] {
        let mut request = client
            .post(format!("{console}/webhooks/whatsapp"))
            .header("content-type", "application/json")
            .body(body.clone());
        if let Some(s) = signature {
            request = request.header("x-hub-signature-256", s);
        }
        assert_eq!(request.send().await.unwrap().status(), 401);
    }
    // The subscription handshake answers the challenge only with the right token.
    let ok = client
        .get(format!("{console}/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=sandbox-verify-token&hub.challenge=12345"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await.unwrap(), "12345");
    let bad = client
        .get(format!(
            "{console}/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 403);
    // The ticket's tweet and its WhatsApp message leave through different queues: wait for
    // the tweet, then check the forged webhooks added nothing to it.
    d.wait_until(
        Duration::from_secs(30),
        "the ticket number in the thread",
        || async { !x.replies_to(&complaint).await.is_empty() },
    )
    .await;
    assert_eq!(
        x.replies_to(&complaint).await.len(),
        1,
        "only the ticket number"
    );

    // The agency answers the template with a quick reply: acknowledged.
    let r: Value = x
        .control(
            "/sandbox/whatsapp/reply",
            json!({"from": TUGU_TIRTA, "button": {"payload": format!("t:{number}:acknowledged"), "text": "Diterima"},
                   "context_id": first["id"]}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["ok"], true, "{r}");
    d.wait_until(Duration::from_secs(30), "the 'diterima' tweet", || async {
        x.replies_to(&complaint).await.len() == 2
    })
    .await;
    // Now inside the window: reply buttons for the next states (at most three).
    d.wait_until(
        Duration::from_secs(30),
        "the second WhatsApp message",
        || async { x.whatsapp_chat(TUGU_TIRTA).await.len() == 2 },
    )
    .await;
    let second = x.whatsapp_chat(TUGU_TIRTA).await[1].clone();
    assert_eq!(second["type"], "interactive", "{second}");
    let titles: Vec<String> = second["interactive"]["action"]["buttons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["reply"]["title"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(titles, ["Diproses", "Selesai", "Bukan wewenang"]);
    // The agency's staff now use a WhatsApp username: the webhook names them by their
    // business-scoped user id only, which the first press taught the bot.
    x.control(
        "/sandbox/whatsapp/reply",
        json!({"from": TUGU_TIRTA, "button_reply": {"id": format!("t:{number}:resolved"), "title": "Selesai"},
               "context_id": second["id"], "username_only": true}),
    )
    .await;
    d.wait_until(Duration::from_secs(30), "the 'selesai' tweet", || async {
        x.replies_to(&complaint).await.len() == 3
    })
    .await;
    let steps = x.replies_to(&complaint).await;
    assert!(steps[0].contains(&number), "{steps:?}");
    assert!(steps[1].contains("sudah diterima"), "{steps:?}");
    assert!(steps[2].contains("sudah selesai"), "{steps:?}");

    // A typed reply quoting the bot's message is a note for the citizen (without the number).
    d.wait_until(
        Duration::from_secs(30),
        "the third WhatsApp message",
        || async { x.whatsapp_chat(TUGU_TIRTA).await.len() >= 3 },
    )
    .await;
    let done_message = x.whatsapp_chat(TUGU_TIRTA).await[2].clone();
    x.control(
        "/sandbox/whatsapp/reply",
        json!({"from": TUGU_TIRTA, "text": "Pipa sudah diganti, hubungi 081298765432 bila mati lagi",
               "context_id": done_message["id"]}),
    )
    .await;
    d.wait_until(
        Duration::from_secs(30),
        "the note for the citizen",
        || async { x.replies_to(&complaint).await.len() == 4 },
    )
    .await;
    let note = &x.replies_to(&complaint).await[3];
    assert!(
        note.contains("Pipa sudah diganti") && !note.contains("081298765432"),
        "{note}"
    );

    // The window closes (a day passes) while the bot still thinks it open: the next ticket's
    // buttons fail with 131047, and the bot sends the template instead.
    // The agency is told the ticket is done (plain text: nothing follows a resolved ticket),
    // and that its note went to the citizen.
    d.wait_until(
        Duration::from_secs(30),
        "the fourth WhatsApp message",
        || async { x.whatsapp_chat(TUGU_TIRTA).await.len() == 4 },
    )
    .await;
    let told = x.whatsapp_chat(TUGU_TIRTA).await;
    assert_eq!(told[2]["type"], "text");
    assert_eq!(told[3]["type"], "text");
    assert!(
        told[3]
            .to_string()
            .contains("Kabar diteruskan ke pelapor laporan"),
        "{}",
        told[3]
    );
    let before = 4;
    x.control(
        "/sandbox/whatsapp/close-window",
        json!({"number": TUGU_TIRTA}),
    )
    .await;
    x.post_as(
        "warga17",
        "@PemkotMalang pipa bocor di jl ijen airnya muncrat ke jalan",
    )
    .await;
    d.wait_until(
        Duration::from_secs(40),
        "a template after 131047",
        || async {
            let all = x.whatsapp_chat(TUGU_TIRTA).await;
            all.len() >= before + 2
                && all[before]["status"] == "failed"
                && all[before + 1]["type"] == "template"
        },
    )
    .await;
    assert!(d.stop_bot().success());
}

fn press(id: &str, data: &str) -> Value {
    json!({"from": TUGU_TIRTA, "id": id, "timestamp": "1767225600", "type": "interactive",
           "interactive": {"type": "button_reply", "button_reply": {"id": data, "title": "x"}}})
}

#[tokio::test]
async fn a_whatsapp_message_that_cannot_be_handled_goes_to_dead_letters_and_the_rest_go_on() {
    let tickets = tickets_with(|_| {});
    let backends = Backends::new().await;
    for (name, store) in &backends.stores {
        let number = file_ticket_for(store, &tickets, "730", "warga25", "tugu-tirta").await;
        // A fault only the acknowledgement meets.
        let poison: &[&str] = if *name == "sqlite" {
            &["CREATE TRIGGER poison BEFORE INSERT ON ticket_history \
               WHEN NEW.state = 'acknowledged' BEGIN SELECT RAISE(ABORT, 'poisoned history'); END"]
        } else {
            &[
                "CREATE FUNCTION poison() RETURNS trigger AS $$ BEGIN \
                 IF NEW.state = 'acknowledged' THEN RAISE EXCEPTION 'poisoned history'; END IF; \
                 RETURN NEW; END $$ LANGUAGE plpgsql",
                "CREATE TRIGGER poison BEFORE INSERT ON ticket_history \
                 FOR EACH ROW EXECUTE FUNCTION poison()",
            ]
        };
        for sql in poison {
            sqlx::query(sql).execute(store.pool()).await.unwrap();
        }
        let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{
        "field": "messages",
        "value": {"messaging_product": "whatsapp", "messages": [
            press("wamid.poison", &format!("t:{number}:acknowledged")),
            press("wamid.next", &format!("t:{number}:in_progress")),
        ]}}]}]});
        kicau::tickets::whatsapp::handle_webhook(&tickets, store, &body)
            .await
            .unwrap();
        assert_eq!(
            tickets.get(store, &number).await.unwrap().state,
            TicketState::InProgress,
            "{name}"
        );
        let letters = store.dead_letters().await.unwrap();
        assert_eq!(letters.len(), 1, "{name}: {letters:?}");
        assert_eq!(
            (letters[0].source.as_str(), letters[0].reference.as_str()),
            ("whatsapp", "wamid.poison")
        );
        assert!(letters[0].payload.contains("acknowledged"));
        assert!(letters[0].error.contains("poisoned history"), "{letters:?}");
        // WhatsApp delivers the webhook again: nothing is acted on or kept twice.
        kicau::tickets::whatsapp::handle_webhook(&tickets, store, &body)
            .await
            .unwrap();
        assert_eq!(store.dead_letters().await.unwrap().len(), 1, "{name}");
        assert_eq!(tickets.history(store, &number).await.unwrap().len(), 2);
    }
    backends.finish().await;
}

/// Meta's business-scoped user ids (2026): a webhook may name the sender by `user_id` only. The
/// bot recognises an agency by the id an earlier webhook carried with its number, and keeps a
/// message from an id it never saw with a number for staff; a citizen's pair is never kept.
#[tokio::test]
async fn an_agency_is_recognised_by_its_user_id_alone() {
    let tickets = tickets_with(|_| {});
    let backends = Backends::new().await;
    for (name, store) in &backends.stores {
        let number = file_ticket_for(store, &tickets, "740", "warga26", "tugu-tirta").await;
        let webhook = |contacts: Value, message: Value| {
            json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{
                "field": "messages", "value": {"messaging_product": "whatsapp",
                "contacts": contacts, "messages": [message]}}]}]})
        };
        let by_id = |id: &str, user: &str, data: &str| {
            json!({"from_user_id": user, "id": id, "timestamp": "1767225600", "type": "interactive",
                   "interactive": {"type": "button_reply", "button_reply": {"id": data, "title": "x"}}})
        };
        // Unknown id: nothing moves, staff see it.
        let unknown = webhook(
            json!([{"profile": {"name": "PDAM"}, "user_id": "ID.1"}]),
            by_id("wamid.u1", "ID.1", &format!("t:{number}:acknowledged")),
        );
        kicau::tickets::whatsapp::handle_webhook(&tickets, store, &unknown)
            .await
            .unwrap();
        assert_eq!(
            tickets.get(store, &number).await.unwrap().state,
            TicketState::Open,
            "{name}"
        );
        let letters = store.dead_letters().await.unwrap();
        assert_eq!(letters.len(), 1, "{name}: {letters:?}");
        assert!(letters[0].error.contains("user id"), "{letters:?}");
        // A citizen's number with an id is not kept; the agency's is.
        let both = webhook(
            json!([{"profile": {"name": "Warga"}, "user_id": "ID.9", "wa_id": "6281234567890"},
                   {"profile": {"name": "PDAM"}, "user_id": "ID.1", "wa_id": TUGU_TIRTA}]),
            json!({"from": TUGU_TIRTA, "from_user_id": "ID.1", "id": "wamid.u2",
                   "timestamp": "1767225600", "type": "text", "text": {"body": "siap"}}),
        );
        kicau::tickets::whatsapp::handle_webhook(&tickets, store, &both)
            .await
            .unwrap();
        let kept: Vec<(String, String)> = sqlx::query_as::<sqlx::Any, (String, String)>(
            "SELECT user_id, number FROM whatsapp_contacts",
        )
        .fetch_all(store.pool())
        .await
        .unwrap();
        assert_eq!(kept, [("ID.1".to_owned(), TUGU_TIRTA.to_owned())], "{name}");
        // Now the id alone is the agency.
        let later = webhook(
            json!([{"profile": {"name": "PDAM"}, "user_id": "ID.1"}]),
            by_id("wamid.u3", "ID.1", &format!("t:{number}:acknowledged")),
        );
        kicau::tickets::whatsapp::handle_webhook(&tickets, store, &later)
            .await
            .unwrap();
        assert_eq!(
            tickets.get(store, &number).await.unwrap().state,
            TicketState::Acknowledged,
            "{name}"
        );
        // Delivered again: no second dead letter, no second move.
        kicau::tickets::whatsapp::handle_webhook(&tickets, store, &unknown)
            .await
            .unwrap();
        assert_eq!(store.dead_letters().await.unwrap().len(), 1, "{name}");
    }
    backends.finish().await;
}
