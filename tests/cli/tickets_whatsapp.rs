//! A ticket for an agency on WhatsApp: the approved template outside the 24-hour window, reply
//! buttons inside it, typed words, forged webhook signatures refused, and the 131047 fallback.

use std::time::Duration;

use serde_json::{Value, json};

use crate::service::post_as;
use crate::takeover::{deployment_with_console, staff, wait_until};
use crate::tickets::account_replies;

const TUGU_TIRTA: &str = "6281200000005";

async fn wa_messages(client: &reqwest::Client, x: &str) -> Vec<Value> {
    client
        .get(format!("{x}/sandbox/whatsapp/messages?to={TUGU_TIRTA}"))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_over_whatsapp_template_then_buttons_refusing_bad_signatures() {
    use hmac::Mac as _;
    let (mut d, console) = deployment_with_console();
    d.start_bot();
    let client = reqwest::Client::new();
    let x = d.x_url.clone();
    let complaint = post_as(
        &client,
        &x,
        "warga16",
        "@PemkotMalang air pdam mati sejak pagi di jl kawi, tolong dicek",
    )
    .await;
    // The agency's number has not written: the ticket goes as the approved template.
    assert!(
        wait_until(Duration::from_secs(30), || async {
            !wa_messages(&client, &x).await.is_empty()
        })
        .await,
        "no WhatsApp message: {}",
        d.log()
    );
    let first = wa_messages(&client, &x).await[0].clone();
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
    assert_eq!(
        account_replies(&client, &x, &complaint).await.len(),
        1,
        "only the ticket number"
    );

    // The agency answers the template with a quick reply: acknowledged.
    let r: Value = client
        .post(format!("{x}/sandbox/whatsapp/reply"))
        .json(&json!({"from": TUGU_TIRTA, "button": {"payload": format!("t:{number}:acknowledged"), "text": "Diterima"},
                      "context_id": first["id"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["ok"], true, "{r}");
    assert!(
        wait_until(Duration::from_secs(30), || async {
            account_replies(&client, &x, &complaint).await.len() == 2
        })
        .await,
        "no 'diterima' tweet: {}",
        d.log()
    );
    // Now inside the window: reply buttons for the next states (at most three).
    assert!(
        wait_until(Duration::from_secs(30), || async {
            wa_messages(&client, &x).await.len() == 2
        })
        .await
    );
    let second = wa_messages(&client, &x).await[1].clone();
    assert_eq!(second["type"], "interactive", "{second}");
    let titles: Vec<String> = second["interactive"]["action"]["buttons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["reply"]["title"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(titles, ["Diproses", "Selesai", "Bukan wewenang"]);
    client
        .post(format!("{x}/sandbox/whatsapp/reply"))
        .json(&json!({"from": TUGU_TIRTA, "button_reply": {"id": format!("t:{number}:resolved"), "title": "Selesai"},
                      "context_id": second["id"]}))
        .send()
        .await
        .unwrap();
    assert!(
        wait_until(Duration::from_secs(30), || async {
            account_replies(&client, &x, &complaint).await.len() == 3
        })
        .await
    );
    let steps = account_replies(&client, &x, &complaint).await;
    assert!(steps[0].contains(&number), "{steps:?}");
    assert!(steps[1].contains("sudah diterima"), "{steps:?}");
    assert!(steps[2].contains("sudah selesai"), "{steps:?}");

    // A typed reply quoting the bot's message is a note for the citizen (without the number).
    let third = wa_messages(&client, &x).await;
    assert!(
        third.len() >= 3
            || wait_until(Duration::from_secs(30), || async {
                wa_messages(&client, &x).await.len() >= 3
            })
            .await
    );
    let done_message = wa_messages(&client, &x).await[2].clone();
    client
        .post(format!("{x}/sandbox/whatsapp/reply"))
        .json(&json!({"from": TUGU_TIRTA, "text": "Pipa sudah diganti, hubungi 081298765432 bila mati lagi",
                      "context_id": done_message["id"]}))
        .send()
        .await
        .unwrap();
    assert!(
        wait_until(Duration::from_secs(30), || async {
            account_replies(&client, &x, &complaint).await.len() == 4
        })
        .await,
        "the note did not reach the citizen: {}",
        d.log()
    );
    let note = &account_replies(&client, &x, &complaint).await[3];
    assert!(
        note.contains("Pipa sudah diganti") && !note.contains("081298765432"),
        "{note}"
    );

    // The window closes (a day passes) while the bot still thinks it open: the next ticket's
    // buttons fail with 131047, and the bot sends the template instead.
    // The agency is told the ticket is done (plain text: nothing follows a resolved ticket),
    // and that its note went to the citizen.
    assert!(
        wait_until(Duration::from_secs(30), || async {
            wa_messages(&client, &x).await.len() == 4
        })
        .await
    );
    let told = wa_messages(&client, &x).await;
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
    client
        .post(format!("{x}/sandbox/whatsapp/close-window"))
        .json(&json!({"number": TUGU_TIRTA}))
        .send()
        .await
        .unwrap();
    post_as(
        &client,
        &x,
        "warga17",
        "@PemkotMalang pipa bocor di jl ijen airnya muncrat ke jalan",
    )
    .await;
    assert!(
        wait_until(Duration::from_secs(40), || async {
            let all = wa_messages(&client, &x).await;
            all.len() >= before + 2
                && all[before]["status"] == "failed"
                && all[before + 1]["type"] == "template"
        })
        .await,
        "no template after 131047: {:?}\n{}",
        &wa_messages(&client, &x).await[before..],
        d.log()
    );
    let _ = staff;
    assert!(d.stop_bot().success());
}
