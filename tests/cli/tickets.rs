//! Complaints to agencies end to end through the sandbox (X and Telegram) with the real
//! processes: a pothole without a place, the bot asks, the citizen answers in the thread, the
//! ticket reaches the DPUPRPKP chat, the agency presses Diterima then Selesai, and the citizen's
//! thread gets exactly one tweet per step; "cek laporan" answers with the status.

use std::time::Duration;

use serde_json::{Value, json};

use crate::service::post_as;
use crate::takeover::{deployment_with_console, replies_to, staff, wait_until};

const DPUPRPKP: i64 = -1002000000001;

/// Posts `text` as `user` in reply to `parent`; returns the new tweet's id.
pub async fn reply_as(
    client: &reqwest::Client,
    x: &str,
    user: &str,
    parent: &str,
    text: &str,
) -> String {
    let response: Value = client
        .post(format!("{x}/2/tweets"))
        .header("Authorization", format!("Bearer sandbox-user:{user}"))
        .json(&json!({"text": text, "reply": {"in_reply_to_tweet_id": parent}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    response["data"]["id"].as_str().unwrap().to_owned()
}

pub async fn chat(client: &reqwest::Client, x: &str, chat: i64) -> Vec<Value> {
    client
        .get(format!("{x}/sandbox/telegram/messages?chat_id={chat}"))
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

/// The ids of the account's tweets replying to `parent`, with their texts.
pub async fn account_replies(client: &reqwest::Client, x: &str, parent: &str) -> Vec<String> {
    replies_to(client, x, parent).await
}

pub fn buttons(message: &Value) -> Vec<String> {
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
    let (mut d, console) = deployment_with_console();
    d.start_bot();
    let client = reqwest::Client::new();
    let x = d.x_url.clone();

    // With a photo attached (the sandbox's sample photos).
    let posted: Value = client
        .post(format!("{x}/2/tweets"))
        .header("Authorization", "Bearer sandbox-user:warga11")
        .json(&json!({"text": "@PemkotMalang min jalan depan rumah berlubang besar, bahaya buat motor",
                      "media": {"media_ids": ["sandbox-photo-1"]}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let complaint = posted["data"]["id"].as_str().unwrap().to_owned();
    assert!(
        wait_until(Duration::from_secs(30), || async {
            account_replies(&client, &x, &complaint).await.len() == 1
        })
        .await,
        "no question about the place: {}",
        d.log()
    );
    let ask = account_replies(&client, &x, &complaint).await;
    assert_eq!(
        ask[0],
        "@warga11 Boleh info lokasi lengkapnya: nama jalan, kelurahan?"
    );

    // The citizen answers in the thread, under the bot's question.
    let account: Value = client
        .get(format!("{x}/2/users/by/username/PemkotMalang"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let account_id = account["data"]["id"].as_str().unwrap().to_owned();
    let timeline: Value = client
        .get(format!(
            "{x}/2/users/{account_id}/tweets?tweet.fields=referenced_tweets"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let question = timeline["data"][0]["id"].as_str().unwrap().to_owned();
    let answer = reply_as(
        &client,
        &x,
        "warga11",
        &question,
        "@PemkotMalang di jl danau toba sawojajar min",
    )
    .await;

    // The ticket reaches the DPUPRPKP chat with its buttons, and the citizen gets the number.
    assert!(
        wait_until(Duration::from_secs(30), || async {
            !chat(&client, &x, DPUPRPKP).await.is_empty()
        })
        .await,
        "no ticket in the agency's chat: {}",
        d.log()
    );
    let ticket = chat(&client, &x, DPUPRPKP).await[0].clone();
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
    assert!(
        wait_until(Duration::from_secs(30), || async {
            account_replies(&client, &x, &answer).await.len() == 1
        })
        .await
    );
    assert!(account_replies(&client, &x, &answer).await[0].contains(&number));

    // Someone presses in another agency's chat: refused. The agency presses Diterima, then Selesai.
    let message_id = ticket["message_id"].as_i64().unwrap();
    let press = |state: &str| {
        json!({"chat_id": DPUPRPKP, "message_id": message_id,
               "from": {"id": 9001, "username": "petugas_pu"},
               "data": format!("t:{number}:{state}")})
    };
    client
        .post(format!("{x}/sandbox/telegram/press"))
        .json(&press("acknowledged"))
        .send()
        .await
        .unwrap();
    assert!(
        wait_until(Duration::from_secs(30), || async {
            account_replies(&client, &x, &answer).await.len() == 2
        })
        .await,
        "no 'diterima' tweet: {}",
        d.log()
    );
    assert!(
        wait_until(Duration::from_secs(10), || async {
            buttons(&chat(&client, &x, DPUPRPKP).await[0])
                == ["Diproses", "Selesai", "Bukan wewenang"]
        })
        .await,
        "the agency's message did not show the next steps"
    );
    client
        .post(format!("{x}/sandbox/telegram/press"))
        .json(&press("resolved"))
        .send()
        .await
        .unwrap();
    assert!(
        wait_until(Duration::from_secs(30), || async {
            account_replies(&client, &x, &answer).await.len() == 3
        })
        .await
    );
    let steps = account_replies(&client, &x, &answer).await;
    assert!(
        steps[0].contains(&number) && steps[0].contains("DPUPRPKP"),
        "{steps:?}"
    );
    assert!(steps[1].contains("sudah diterima DPUPRPKP"), "{steps:?}");
    assert!(steps[2].contains("sudah selesai"), "{steps:?}");
    // A press on a finished ticket changes nothing and posts nothing.
    client
        .post(format!("{x}/sandbox/telegram/press"))
        .json(&press("resolved"))
        .send()
        .await
        .ok();
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(account_replies(&client, &x, &answer).await.len(), 3);
    assert_eq!(account_replies(&client, &x, &complaint).await.len(), 1);

    // An agency member's reply to the ticket's message reaches the citizen, without the phone
    // number in it.
    client
        .post(format!("{x}/sandbox/telegram/send"))
        .json(
            &json!({"chat_id": DPUPRPKP, "from": {"id": 9001, "username": "petugas_pu"},
                      "text": "Sudah ditambal tadi siang. Info: 081234567890",
                      "reply_to_message_id": message_id}),
        )
        .send()
        .await
        .unwrap();
    assert!(
        wait_until(Duration::from_secs(30), || async {
            account_replies(&client, &x, &answer).await.len() == 4
        })
        .await,
        "the agency's note did not reach the citizen: {}",
        d.log()
    );
    let note = &account_replies(&client, &x, &answer).await[3];
    assert!(note.contains("Kabar dari DPUPRPKP untuk laporan"), "{note}");
    assert!(note.contains("Sudah ditambal tadi siang"), "{note}");
    assert!(!note.contains("081234567890"), "{note}");

    // "cek laporan" answers with the status.
    let check = post_as(
        &client,
        &x,
        "warga12",
        &format!("@PemkotMalang cek laporan {number}"),
    )
    .await;
    assert!(
        wait_until(Duration::from_secs(30), || async {
            account_replies(&client, &x, &check)
                .await
                .first()
                .is_some_and(|t| t.contains("status selesai"))
        })
        .await,
        "{:?}",
        account_replies(&client, &x, &check).await
    );

    // The tickets API: the documented shape, and the history of each step.
    staff(&d, &["add", "kepala", "--role", "admin"]);
    let token = staff(&d, &["token", "kepala"]);
    let listed: Value = client
        .get(format!(
            "{console}/api/tickets?agency=dpuprpkp&state=resolved"
        ))
        .bearer_auth(token.trim())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
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
    let one: Value = client
        .get(format!("{console}/api/tickets/{number}"))
        .bearer_auth(token.trim())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
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
    let export: Value = client
        .get(format!(
            "{console}/api/open311/requests.json?agency=dpuprpkp"
        ))
        .bearer_auth(token.trim())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
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

/// Files a ticket the way the worker does, for a mention that names its place.
pub async fn file_ticket(
    store: &kicau::store::Store,
    tickets: &kicau::tickets::Tickets,
    id: &str,
    citizen: &str,
) -> String {
    file_ticket_for(store, tickets, id, citizen, "dpuprpkp").await
}

/// As [`file_ticket`], for `agency`.
pub async fn file_ticket_for(
    store: &kicau::store::Store,
    tickets: &kicau::tickets::Tickets,
    id: &str,
    citizen: &str,
    agency: &str,
) -> String {
    use kicau::run::intake;
    use kicau::store::{Mention, NewDecision, NewMention};
    let new = NewMention {
        tweet_id: id.into(),
        author_id: format!("u-{citizen}"),
        author_username: citizen.into(),
        text: "@PemkotMalang jalan berlubang besar di jl tidar".into(),
        conversation_id: Some(id.into()),
        in_reply_to_id: None,
        created_at: 0,
        raw: "{}".into(),
    };
    store
        .store_mentions("x.mentions", std::slice::from_ref(&new), Some(id))
        .await
        .unwrap();
    let mention = Mention {
        tweet_id: new.tweet_id,
        author_id: new.author_id,
        author_username: new.author_username,
        text: new.text,
        conversation_id: new.conversation_id,
        in_reply_to_id: None,
        created_at: 0,
        attempts: 1,
        raw: "{}".into(),
    };
    let decision = NewDecision {
        conversation_id: None,
        kind: "report".into(),
        topic: None,
        agency: Some(agency.into()),
        rule: "complaint_routed".into(),
        evidence: "{}".into(),
    };
    let recorded = intake::record_mention(
        store,
        &mention,
        &intake::Decided {
            decision: &decision,
            replies: &[],
            priority: 0,
            joins: true,
        },
        Some(tickets),
    )
    .await
    .unwrap();
    recorded.ticket.expect("a ticket")
}

#[tokio::test]
async fn deadlines_remind_the_agency_and_put_late_tickets_before_staff_exactly_once() {
    let config = kicau::Config::load(&crate::repo().join("bot.toml")).unwrap();
    let tickets = kicau::tickets::Tickets::load(std::sync::Arc::new(config)).unwrap();
    let backends = crate::store::Backends::new().await;
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
    let config = kicau::Config::load(&crate::repo().join("bot.toml")).unwrap();
    let tickets = kicau::tickets::Tickets::load(std::sync::Arc::new(config)).unwrap();
    let backends = crate::store::Backends::new().await;
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

#[tokio::test]
async fn staff_reroute_a_rejected_ticket_from_the_tickets_page_and_the_api() {
    use axum::body::Body;
    use axum::http::Request;
    use kicau::tickets::{Mover, TicketState};
    let config = kicau::Config::load(&crate::repo().join("bot.toml")).unwrap();
    let engine = std::sync::Arc::new(kicau::Engine::load(&config).unwrap());
    let tickets = kicau::tickets::Tickets::load(std::sync::Arc::new(config)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store =
        kicau::store::Store::connect(&format!("sqlite://{}", dir.path().join("k.db").display()))
            .await
            .unwrap();
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
    let console = StaffConsole::new(&store, &tickets, engine).await;
    let send = |request: Request<Body>| console.send(request);
    let (cookie, token) = (console.cookie.clone(), console.token.clone());
    let (status, page) = send(
        Request::get("/tickets?state=rejected")
            .header("cookie", &cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        page.contains(&format!("/tickets/{first}/reroute")),
        "{page}"
    );
    // Without the form's token nothing happens; with it the ticket goes to DLH.
    let (status, _) = send(
        Request::post(format!("/tickets/{first}/reroute"))
            .header("cookie", &cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from("csrf=forged&agency=dlh"))
            .unwrap(),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(
        tickets.get(&store, &first).await.unwrap().state,
        TicketState::Rejected
    );
    let (status, _) = send(
        Request::post(format!("/tickets/{first}/reroute"))
            .header("cookie", &cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(format!("csrf={}&agency=dlh", console.csrf)))
            .unwrap(),
    )
    .await;
    assert!(status.is_redirection());
    let moved = tickets.get(&store, &first).await.unwrap();
    assert_eq!(
        (moved.state, moved.agency.as_str()),
        (TicketState::Open, "dlh")
    );
    // The API does the same with a bearer token; a ticket that is not rejected is a 409.
    let (status, body) = send(
        Request::post(format!("/api/tickets/{second}/reroute"))
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(Body::from(r#"{"agency":"satpolpp"}"#))
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"agency\":\"satpolpp\""), "{body}");
    let (status, _) = send(
        Request::post(format!("/api/tickets/{second}/reroute"))
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(Body::from(r#"{"agency":"dlh"}"#))
            .unwrap(),
    )
    .await;
    assert_eq!(status, 409);
    store.close().await;
}

/// The console over `store` for oneshot requests, with "sari" (staff) signed in: her session
/// cookie header, the session's CSRF token, and an API token.
pub struct StaffConsole {
    pub state: kicau::console::AppState,
    pub cookie: String,
    pub csrf: String,
    pub token: String,
}

impl StaffConsole {
    pub async fn new(
        store: &kicau::store::Store,
        tickets: &kicau::tickets::Tickets,
        engine: std::sync::Arc<kicau::Engine>,
    ) -> StaffConsole {
        use kicau::desk::{Role, staff as accounts};
        let password = accounts::add(store, "sari", Role::Staff).await.unwrap();
        accounts::change_password(store, "sari", &password, "kata-sandi-baru-sari")
            .await
            .unwrap();
        let session = accounts::login(store, "sari", "kata-sandi-baru-sari")
            .await
            .unwrap()
            .unwrap();
        let token = accounts::new_token(store, "sari").await.unwrap();
        StaffConsole {
            state: kicau::console::AppState {
                desk: kicau::desk::Desk::new(store.clone()),
                engine,
                account: "PemkotMalang".into(),
                secure_cookies: false,
                tickets: Some(tickets.clone()),
                whatsapp: None,
            },
            cookie: format!("kicau_session={}", session.cookie),
            csrf: session.csrf,
            token,
        }
    }

    /// One request through the console's router: its status and body.
    pub async fn send(
        &self,
        request: axum::http::Request<axum::body::Body>,
    ) -> (axum::http::StatusCode, String) {
        use tower::ServiceExt as _;
        let response = kicau::console::app(self.state.clone())
            .oneshot(request)
            .await
            .unwrap();
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 1 << 22)
            .await
            .unwrap();
        (status, String::from_utf8_lossy(&body).into_owned())
    }
}
