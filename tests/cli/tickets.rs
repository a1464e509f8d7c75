//! Complaints to agencies end to end through the sandbox (X and Telegram) with the real
//! processes: a pothole without a place, the bot asks, the citizen answers in the thread, the
//! ticket reaches the DPUPRPKP chat, the agency presses Diterima then Selesai, and the citizen's
//! thread gets exactly one tweet per step; "cek laporan" answers with the status.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{
    Backends, Console, Deployment, file_ticket, quiet_period, sqlite, tickets_with,
};

const DPUPRPKP: i64 = -1002000000001;

fn buttons(message: &Value) -> Vec<String> {
    message["reply_markup"]["inline_keyboard"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row.as_array().cloned().unwrap_or_default())
        .map(|b| b["text"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pothole_becomes_a_ticket_and_each_step_reaches_the_citizen_once() {
    let mut d = Deployment::start().await;
    d.start_bot().await;
    let x = d.sandbox();

    // With a photo attached (the sandbox's sample photos).
    let complaint = x
        .tweet_as(
            "warga11",
            json!({"text": "@PemkotMalang min jalan depan rumah berlubang besar, bahaya buat motor",
                   "media": {"media_ids": ["sandbox-photo-1"]}}),
        )
        .await;
    d.wait_until(
        Duration::from_secs(30),
        "a question about the place",
        || async { x.replies_to(&complaint).await.len() == 1 },
    )
    .await;
    let ask = x.replies_to(&complaint).await;
    assert_eq!(
        ask[0],
        "@warga11 Boleh info lokasi lengkapnya: nama jalan, kelurahan?"
    );

    // The citizen answers in the thread, under the bot's question.
    let question = x.account_tweets().await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let answer = x
        .reply_as(
            "warga11",
            &question,
            "@PemkotMalang di jl danau toba sawojajar min",
        )
        .await;

    // The ticket reaches the DPUPRPKP chat with its buttons, and the citizen gets the number.
    d.wait_until(
        Duration::from_secs(30),
        "the ticket in the agency's chat",
        || async { !x.telegram_chat(DPUPRPKP).await.is_empty() },
    )
    .await;
    let ticket = x.telegram_chat(DPUPRPKP).await[0].clone();
    let text = ticket["text"].as_str().unwrap().to_owned();
    assert!(text.contains("Jl. Danau Toba, Sawojajar"), "{text}");
    assert!(text.contains("berlubang besar"), "{text}");
    assert!(text.contains("@warga11"), "{text}");
    assert!(text.contains("Foto: https://"), "the photo's URL: {text}");
    assert_eq!(
        buttons(&ticket),
        ["Diterima", "Diproses", "Selesai", "Bukan wewenang"]
    );
    let number = kicau::tickets::number_in(&text).unwrap();
    d.wait_until(
        Duration::from_secs(30),
        "the ticket's number for the citizen",
        || async { x.replies_to(&answer).await.len() == 1 },
    )
    .await;
    assert!(x.replies_to(&answer).await[0].contains(&number));

    // The agency presses Diterima, then Selesai.
    let message_id = ticket["message_id"].as_i64().unwrap();
    let press = |state: &str| {
        json!({"chat_id": DPUPRPKP, "message_id": message_id,
               "from": {"id": 9001, "username": "petugas_pu"},
               "data": format!("t:{number}:{state}")})
    };
    x.control("/sandbox/telegram/press", press("acknowledged"))
        .await;
    d.wait_until(Duration::from_secs(30), "the 'diterima' tweet", || async {
        x.replies_to(&answer).await.len() == 2
    })
    .await;
    d.wait_until(
        Duration::from_secs(10),
        "the next steps on the agency's message",
        || async {
            buttons(&x.telegram_chat(DPUPRPKP).await[0])
                == ["Diproses", "Selesai", "Bukan wewenang"]
        },
    )
    .await;
    x.control("/sandbox/telegram/press", press("resolved"))
        .await;
    d.wait_until(Duration::from_secs(30), "the 'selesai' tweet", || async {
        x.replies_to(&answer).await.len() == 3
    })
    .await;
    let steps = x.replies_to(&answer).await;
    assert!(
        steps[0].contains(&number) && steps[0].contains("DPUPRPKP"),
        "{steps:?}"
    );
    assert!(steps[1].contains("sudah diterima DPUPRPKP"), "{steps:?}");
    assert!(steps[2].contains("sudah selesai"), "{steps:?}");
    // A press on a finished ticket changes nothing and posts nothing.
    x.control("/sandbox/telegram/press", press("resolved"))
        .await;
    quiet_period(
        Duration::from_secs(2),
        "a tweet for the second press on a finished ticket would be out by now",
    )
    .await;
    assert_eq!(x.replies_to(&answer).await.len(), 3);
    assert_eq!(x.replies_to(&complaint).await.len(), 1);

    // An agency member's reply to the ticket's message reaches the citizen, without the phone
    // number in it.
    x.control(
        "/sandbox/telegram/send",
        json!({"chat_id": DPUPRPKP, "from": {"id": 9001, "username": "petugas_pu"},
               "text": "Sudah ditambal tadi siang. Info: 081234567890",
               "reply_to_message_id": message_id}),
    )
    .await;
    d.wait_until(
        Duration::from_secs(30),
        "the agency's note for the citizen",
        || async { x.replies_to(&answer).await.len() == 4 },
    )
    .await;
    let note = &x.replies_to(&answer).await[3];
    assert!(note.contains("Kabar dari DPUPRPKP untuk laporan"), "{note}");
    assert!(note.contains("Sudah ditambal tadi siang"), "{note}");
    assert!(!note.contains("081234567890"), "{note}");

    // "cek laporan" answers with the status.
    let check = x
        .post_as("warga12", &format!("@PemkotMalang cek laporan {number}"))
        .await;
    d.wait_until(
        Duration::from_secs(30),
        "the status in answer to 'cek laporan'",
        || async {
            x.replies_to(&check)
                .await
                .first()
                .is_some_and(|t| t.contains("status selesai"))
        },
    )
    .await;

    // The tickets API: the documented shape, and the history of each step.
    d.staff(&["add", "kepala", "--role", "admin"]);
    let token = d.staff(&["token", "kepala"]);
    let api = d.api(&token);
    let listed = api.get("/api/tickets?agency=dpuprpkp&state=resolved").await;
    let first = &listed["data"][0];
    assert_eq!(first["number"], number.as_str());
    assert_eq!(first["agency"], "dpuprpkp");
    assert_eq!(first["state"], "resolved");
    assert_eq!(first["location"], "Jl. Danau Toba, Sawojajar");
    assert_eq!(first["reporter"], "warga11");
    assert_eq!(first["photos"].as_array().unwrap().len(), 1, "{first}");
    assert_eq!(first["tweet_id"], answer.as_str());
    assert!(first["due"]["acknowledge"].as_str().unwrap().ends_with('Z'));
    assert_eq!(first["delivery"]["channel"], "telegram");
    assert_eq!(first["delivery"]["chat_id"], DPUPRPKP);
    assert_eq!(first["delivery"]["message_id"], message_id);
    let one = api.get(&format!("/api/tickets/{number}")).await;
    let states: Vec<&str> = one["data"]["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["open", "acknowledged", "resolved", "resolved"]);
    assert_eq!(one["data"]["history"][3]["by"], "DPUPRPKP (@petugas_pu)");
    assert_eq!(one["data"]["history"][1]["by"], "DPUPRPKP (@petugas_pu)");
    // The Open311 GeoReport v2 export.
    let export = api.get("/api/open311/requests.json?agency=dpuprpkp").await;
    let request = &export[0];
    assert_eq!(request["service_request_id"], number.as_str());
    assert_eq!(request["status"], "closed");
    assert_eq!(request["address"], "Jl. Danau Toba, Sawojajar");
    assert!(
        request["status_notes"]
            .as_str()
            .unwrap()
            .contains("Sudah ditambal")
    );
    assert!(
        request["agency_responsible"]
            .as_str()
            .unwrap()
            .starts_with("Dinas Pekerjaan Umum")
    );
    assert!(
        request["media_url"]
            .as_str()
            .unwrap()
            .starts_with("https://")
    );
    assert!(d.stop_bot().success());
}

#[tokio::test]
async fn deadlines_remind_the_agency_and_put_late_tickets_before_staff_exactly_once() {
    let tickets = tickets_with(|_| {});
    let backends = Backends::new().await;
    for (name, store) in &backends.stores {
        let number = file_ticket(store, &tickets, "500", "warga13").await;
        let ticket = tickets.get(store, &number).await.unwrap();
        assert!(
            number.starts_with("MLG-") && number.ends_with("-000001"),
            "{name}: {number}"
        );
        assert_eq!(ticket.location.as_deref(), Some("Jl. Tidar"));
        let created = ticket.created_at;
        let at = |share: f64| created + ((ticket.due_acknowledge - created) as f64 * share) as i64;

        // Halfway: nothing. At 80 %: one reminder, once.
        let pass = tickets.sla_tick(store, at(0.5)).await.unwrap();
        assert_eq!(pass, kicau::tickets::SlaPass::default(), "{name}");
        let pass = tickets.sla_tick(store, at(0.8)).await.unwrap();
        assert_eq!(pass.reminded, vec![number.clone()], "{name}");
        let pass = tickets.sla_tick(store, at(0.9)).await.unwrap();
        assert!(
            pass.reminded.is_empty() && pass.overdue.is_empty(),
            "{name}: {pass:?}"
        );

        // Past the acknowledgement deadline: before staff, once.
        let pass = tickets
            .sla_tick(store, ticket.due_acknowledge + 1)
            .await
            .unwrap();
        assert_eq!(pass.overdue, vec![number.clone()], "{name}");
        let pass = tickets
            .sla_tick(store, ticket.due_acknowledge + 60_000)
            .await
            .unwrap();
        assert!(pass.overdue.is_empty(), "{name}");
        let desk = kicau::desk::Desk::new(store.clone());
        let waiting = desk
            .list(&kicau::desk::Filter {
                state: Some(kicau::desk::State::WaitingStaff),
                held_by: None,
            })
            .await
            .unwrap();
        assert_eq!(waiting.len(), 1, "{name}");
        assert_eq!(waiting[0].reason.as_deref(), Some("ticket_overdue"));
        assert!(tickets.get(store, &number).await.unwrap().overdue);
        // Ten working days without acknowledgement: marked for a warning letter, once.
        let later = created + 16 * 24 * 3600 * 1000;
        let pass = tickets.sla_tick(store, later).await.unwrap();
        assert_eq!(pass.warning_letters, vec![number.clone()], "{name}");
        let pass = tickets.sla_tick(store, later + 3_600_000).await.unwrap();
        assert!(pass.warning_letters.is_empty(), "{name}");

        // The agency's reminder is queued once for its chat.
        let reminders: i64 = sqlx::query_scalar::<sqlx::Any, i64>(
            "SELECT COUNT(*) FROM outbox WHERE idempotency_key LIKE 'tg:ticket:%:reminded_%'",
        )
        .fetch_one(store.pool())
        .await
        .unwrap();
        assert_eq!(reminders, 1, "{name}");
        // The next number follows.
        assert!(
            file_ticket(store, &tickets, "501", "warga14")
                .await
                .ends_with("-000002")
        );
    }
    backends.finish().await;
}

#[tokio::test]
async fn a_rejected_ticket_goes_to_staff_who_send_it_to_another_agency() {
    use kicau::tickets::{Mover, TicketState};
    let tickets = tickets_with(|_| {});
    let backends = Backends::new().await;
    for (name, store) in &backends.stores {
        let number = file_ticket(store, &tickets, "600", "warga15").await;
        let agency = Mover {
            name: "DPUPRPKP (@petugas_pu)",
            staff: false,
            note: "",
        };
        // DPUPRPKP is reminded before its deadline.
        let filed = tickets.get(store, &number).await.unwrap();
        let soon = filed.created_at + (filed.due_acknowledge - filed.created_at) * 4 / 5;
        assert_eq!(
            tickets.sla_tick(store, soon).await.unwrap().reminded,
            std::slice::from_ref(&number)
        );
        // Not yet rejected: staff cannot reroute it.
        assert!(
            tickets
                .reroute(store, &number, "dlh", "sari")
                .await
                .is_err()
        );
        tickets
            .transition(store, &number, TicketState::Rejected, &agency)
            .await
            .unwrap();
        // A rejected ticket moves no further by the agency's hand.
        assert!(
            tickets
                .transition(store, &number, TicketState::Resolved, &agency)
                .await
                .is_err()
        );
        let desk = kicau::desk::Desk::new(store.clone());
        let waiting = desk
            .list(&kicau::desk::Filter {
                state: Some(kicau::desk::State::WaitingStaff),
                held_by: None,
            })
            .await
            .unwrap();
        assert_eq!(
            waiting[0].reason.as_deref(),
            Some("ticket_rejected"),
            "{name}"
        );

        let ticket = tickets
            .reroute(store, &number, "dlh", "sari")
            .await
            .unwrap();
        assert_eq!(ticket.state, TicketState::Open);
        assert_eq!(ticket.agency, "dlh");
        let history = tickets.history(store, &number).await.unwrap();
        let states: Vec<&str> = history.iter().map(|h| h.1.as_str()).collect();
        assert_eq!(states, ["open", "rejected", "open"], "{name}");
        assert_eq!(history[2].3, "dialihkan ke DLH");
        // One tweet per step for the citizen; a new message in DLH's chat.
        let tweets: i64 = sqlx::query_scalar::<sqlx::Any, i64>(&format!(
            "SELECT COUNT(*) FROM outbox WHERE idempotency_key LIKE 'x:ticket:{number}:%:1'"
        ))
        .fetch_one(store.pool())
        .await
        .unwrap();
        assert_eq!(tweets, 3, "{name}");
        let dlh_chat = tickets.agency("dlh").unwrap().telegram_chat_id.unwrap();
        let to_dlh: i64 = sqlx::query_scalar::<sqlx::Any, i64>(&format!(
            "SELECT COUNT(*) FROM outbox WHERE channel = 'telegram' AND payload LIKE '%\"chat_id\":{dlh_chat}%'"
        ))
        .fetch_one(store.pool())
        .await
        .unwrap();
        assert_eq!(to_dlh, 1, "{name}");
        // DLH has deadlines of its own and is reminded of them too.
        let soon = ticket.updated_at + (ticket.due_acknowledge - ticket.updated_at) * 4 / 5;
        assert_eq!(
            tickets.sla_tick(store, soon).await.unwrap().reminded,
            std::slice::from_ref(&number),
            "{name}"
        );
        let reminders: i64 = sqlx::query_scalar::<sqlx::Any, i64>(&format!(
            "SELECT COUNT(*) FROM outbox WHERE channel = 'telegram' \
             AND idempotency_key LIKE 'tg:ticket:%:reminded_acknowledge:%' \
             AND payload LIKE '%\"chat_id\":{dlh_chat}%'"
        ))
        .fetch_one(store.pool())
        .await
        .unwrap();
        assert_eq!(reminders, 1, "{name}");
    }
    backends.finish().await;
}

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
    x.control(
        "/sandbox/whatsapp/reply",
        json!({"from": TUGU_TIRTA, "button_reply": {"id": format!("t:{number}:resolved"), "title": "Selesai"},
               "context_id": second["id"]}),
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

#[tokio::test]
async fn staff_reroute_a_rejected_ticket_from_the_tickets_page_and_the_api() {
    use kicau::tickets::{Mover, TicketState};
    let tickets = tickets_with(|_| {});
    let (store, _dir) = sqlite().await;
    let first = file_ticket(&store, &tickets, "700", "warga18").await;
    let second = file_ticket(&store, &tickets, "701", "warga19").await;
    let agency = Mover {
        name: "DPUPRPKP (@petugas_pu)",
        staff: false,
        note: "",
    };
    for number in [&first, &second] {
        tickets
            .transition(&store, number, TicketState::Rejected, &agency)
            .await
            .unwrap();
    }
    let (mut console, sari) = Console::signed_in(&store, Some(&tickets)).await;
    let page = console.get("/tickets?state=rejected").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains(&format!("/tickets/{first}/reroute")),
        "{}",
        page.body
    );
    // Without the form's token nothing happens; with it the ticket goes to DLH.
    let reroute = format!("/tickets/{first}/reroute");
    let forged = console
        .post_form(&reroute, &[("csrf", "forged"), ("agency", "dlh")])
        .await;
    assert_eq!(forged.status, 403);
    assert_eq!(
        tickets.get(&store, &first).await.unwrap().state,
        TicketState::Rejected
    );
    let sent = console
        .post_form(&reroute, &[("csrf", &sari.csrf), ("agency", "dlh")])
        .await;
    assert!(sent.status.is_redirection());
    let moved = tickets.get(&store, &first).await.unwrap();
    assert_eq!(
        (moved.state, moved.agency.as_str()),
        (TicketState::Open, "dlh")
    );
    // The API does the same with a bearer token; a ticket that is not rejected is a 409.
    let reroute = format!("/api/tickets/{second}/reroute");
    let (status, body) = console
        .api(
            "POST",
            &reroute,
            Some(&sari.token),
            Some(json!({"agency": "satpolpp"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.to_string().contains("\"agency\":\"satpolpp\""),
        "{body}"
    );
    let (status, _) = console
        .api(
            "POST",
            &reroute,
            Some(&sari.token),
            Some(json!({"agency": "dlh"})),
        )
        .await;
    assert_eq!(status, 409);
    store.close().await;
}
