//! Places on tickets (issue 14, point 6). Every phrase of the place reader's list
//! (src/knowledge/places/phrases.tsv) through the worker's intake: without a place name the bot
//! asks and files nothing, with one the ticket carries exactly that place. Staff correct a
//! ticket's place on SQLite and PostgreSQL, from the tickets page and the API, and the agency's
//! message follows: Telegram's is edited (end to end with `kicau run` against the sandbox),
//! WhatsApp gets a short correction.

use std::time::Duration;

use kicau::tickets::{TicketError, TicketState};
use serde_json::{Value, json};

use crate::helpers::{
    AGENCY_MEMBER, Backends, Console, Deployment, citizen_tweets, file_ticket, file_ticket_for,
    report_saying, sqlite, tickets_with,
};

const DPUPRPKP: i64 = -1002000000001;

/// The place reader's phrase list: (text, expected place, "-" for none).
const PHRASES: &str = include_str!("../../src/knowledge/places/phrases.tsv");

/// The payloads of the outbox rows whose key is like `pattern`, oldest first.
async fn payloads(store: &kicau::store::Store, pattern: &str) -> Vec<Value> {
    sqlx::query_scalar::<sqlx::Any, String>(
        "SELECT payload FROM outbox WHERE idempotency_key LIKE $1 ORDER BY id",
    )
    .bind(pattern)
    .fetch_all(store.pool())
    .await
    .unwrap()
    .iter()
    .map(|p| serde_json::from_str(p).unwrap())
    .collect()
}

#[tokio::test]
async fn a_complaint_without_a_place_is_asked_for_and_one_with_a_place_is_filed_there() {
    let tickets = tickets_with(|_| {});
    let (store, _dir) = sqlite().await;
    let (mut asked, mut filed) = (0, 0);
    let lines = PHRASES
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty());
    for (i, line) in lines.enumerate() {
        let (text, place) = line.split_once('\t').unwrap();
        let id = (990_000 + i).to_string();
        let citizen = format!("warga_tempat{i}");
        let tweet = format!("@PemkotMalang {text}");
        let recorded = report_saying(&store, &tickets, &id, &citizen, "dpuprpkp", &tweet).await;
        match (place, recorded.ticket) {
            ("-", None) => {
                // The bot asks in the thread and keeps the complaint for the answer.
                let question = payloads(&store, &kicau::store::reply_key(&id, 1)).await;
                assert_eq!(
                    question[0]["text"],
                    format!("@{citizen} {}", kicau::tickets::messages::ASK_PLACE),
                    "{text:?}"
                );
                let waiting: i64 = sqlx::query_scalar::<sqlx::Any, i64>(
                    "SELECT COUNT(*) FROM pending_reports WHERE tweet_id = $1",
                )
                .bind(&id)
                .fetch_one(store.pool())
                .await
                .unwrap();
                assert_eq!(waiting, 1, "{text:?}");
                asked += 1;
            }
            (place, Some(number)) if place != "-" => {
                let ticket = tickets.get(&store, &number).await.unwrap();
                assert_eq!(ticket.location.as_deref(), Some(place), "{text:?}");
                filed += 1;
            }
            (place, ticket) => panic!("{text:?}: expected {place}, the ticket is {ticket:?}"),
        }
    }
    assert!(asked >= 40 && filed >= 40, "asked {asked}, filed {filed}");
    store.close().await;
}

#[tokio::test]
async fn staff_correct_a_place_and_the_agency_message_follows_on_both_channels() {
    let tickets = tickets_with(|_| {});
    let backends = Backends::new().await;
    for (name, store) in &backends.stores {
        let number = file_ticket(store, &tickets, "810", "warga40").await;
        let filed = tickets.get(store, &number).await.unwrap();
        assert_eq!(filed.location.as_deref(), Some("Jl. Tidar"), "{name}");
        tickets
            .transition(store, &number, TicketState::Acknowledged, &AGENCY_MEMBER)
            .await
            .unwrap();

        let corrected = tickets
            .correct_place(
                store,
                &number,
                " Jl. Tidar No. 8,\n Kelurahan Sukun ",
                "sari",
            )
            .await
            .unwrap();
        let place = "Jl. Tidar No. 8, Kelurahan Sukun";
        assert_eq!(corrected.location.as_deref(), Some(place), "{name}");
        assert_eq!(corrected.state, TicketState::Acknowledged);
        assert_eq!(
            tickets
                .get(store, &number)
                .await
                .unwrap()
                .location
                .as_deref(),
            Some(place)
        );
        // The history and the audit log say who changed what.
        let history = tickets.history(store, &number).await.unwrap();
        let last = history.last().unwrap();
        assert_eq!(
            (last.1.as_str(), last.2.as_str(), last.3.as_str()),
            (
                "acknowledged",
                "sari",
                "lokasi dikoreksi: Jl. Tidar → Jl. Tidar No. 8, Kelurahan Sukun"
            ),
            "{name}"
        );
        let (actor, detail): (String, String) = sqlx::query_as::<sqlx::Any, (String, String)>(
            "SELECT actor, detail FROM audit_log WHERE action = 'ticket_place' AND subject = $1",
        )
        .bind(format!("ticket:{number}"))
        .fetch_one(store.pool())
        .await
        .unwrap();
        assert_eq!(actor, "sari");
        let detail: Value = serde_json::from_str(&detail).unwrap();
        assert_eq!(detail, json!({"from": "Jl. Tidar", "to": place}), "{name}");
        // DPUPRPKP's message is edited to the new place, with the buttons it had.
        let edits = payloads(store, &format!("tg:ticket:{number}:place:%")).await;
        assert_eq!(edits.len(), 1, "{name}");
        assert_eq!(edits[0]["edit"], true);
        let text = edits[0]["text"].as_str().unwrap();
        assert!(text.contains(&format!("Lokasi: {place}")), "{text}");
        assert!(text.contains("Status: <b>Diterima</b>"), "{text}");
        let buttons: Vec<&str> = edits[0]["buttons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b[0].as_str().unwrap())
            .collect();
        assert_eq!(buttons, ["Diproses", "Selesai", "Bukan wewenang"]);
        // The citizen is not told: filed and acknowledged only.
        assert_eq!(citizen_tweets(store, &number).await.len(), 2, "{name}");

        // The same place again changes nothing and sends nothing.
        tickets
            .correct_place(store, &number, place, "budi")
            .await
            .unwrap();
        assert_eq!(
            tickets.history(store, &number).await.unwrap().len(),
            history.len()
        );
        assert_eq!(
            payloads(store, &format!("tg:ticket:{number}:place:%"))
                .await
                .len(),
            1
        );
        // Nothing to set, or no such ticket.
        let empty = tickets.correct_place(store, &number, " \n ", "sari").await;
        assert!(
            matches!(empty, Err(TicketError::InvalidPlace(_))),
            "{empty:?}"
        );
        let long = "x".repeat(kicau::tickets::place::PLACE_MAX_CHARS + 1);
        let long = tickets.correct_place(store, &number, &long, "sari").await;
        assert!(
            matches!(long, Err(TicketError::InvalidPlace(_))),
            "{long:?}"
        );
        let missing = tickets
            .correct_place(store, "MLG-2000-000001", "Jl. Ijen", "sari")
            .await;
        assert!(
            matches!(missing, Err(TicketError::NotFound(_))),
            "{missing:?}"
        );
        // A phone number written into the place never reaches the agency.
        let with_phone = tickets
            .correct_place(store, &number, "Jl. Tidar 8, hubungi 081234567890", "sari")
            .await
            .unwrap();
        assert_eq!(
            with_phone.location.as_deref(),
            Some("Jl. Tidar 8, hubungi [nomor telepon disamarkan]")
        );
        let all = payloads(store, &format!("%:ticket:{number}:%")).await;
        assert!(!json!(all).to_string().contains("081234567890"), "{name}");

        // Perumda Tugu Tirta is on WhatsApp, which cannot edit: a short correction, no buttons.
        let water = file_ticket_for(store, &tickets, "811", "warga41", "tugu-tirta").await;
        tickets
            .correct_place(store, &water, "Jl. Bandung No. 3", "sari")
            .await
            .unwrap();
        let sent = payloads(store, &format!("wa:ticket:{water}:place:%")).await;
        assert_eq!(sent.len(), 1, "{name}");
        assert_eq!(
            sent[0]["text"],
            format!("Koreksi lokasi laporan {water}: Jl. Bandung No. 3")
        );
        assert_eq!(sent[0]["choices"], json!([]));
        assert_eq!(sent[0]["first"], false);
        // Outside the 24-hour window the template carries the corrected place.
        assert_eq!(sent[0]["template_params"][2], "Jl. Bandung No. 3");
    }
    backends.finish().await;
}

#[tokio::test]
async fn staff_correct_a_place_from_the_tickets_page_and_the_api() {
    let tickets = tickets_with(|_| {});
    let (store, _dir) = sqlite().await;
    let number = file_ticket(&store, &tickets, "820", "warga42").await;
    let (mut console, sari) = Console::signed_in(&store, Some(&tickets)).await;
    let page = console.get("/tickets").await;
    assert_eq!(page.status, 200);
    let action = format!("/tickets/{number}/place");
    assert!(
        page.body.contains(&format!("action=\"{action}\"")),
        "{}",
        page.body
    );
    assert!(page.body.contains("value=\"Jl. Tidar\""), "{}", page.body);
    assert!(page.body.contains("Ubah lokasi"));

    // Without the form's token nothing happens; with it the place changes.
    let forged = console
        .post_form(&action, &[("csrf", "forged"), ("place", "Jl. Tidar No. 2")])
        .await;
    assert_eq!(forged.status, 403);
    let location = |t: kicau::tickets::Ticket| t.location;
    assert_eq!(
        location(tickets.get(&store, &number).await.unwrap()).as_deref(),
        Some("Jl. Tidar")
    );
    let sent = console
        .post_form(
            &action,
            &[("csrf", &sari.csrf), ("place", "Jl. Tidar No. 2")],
        )
        .await;
    assert!(sent.status.is_redirection(), "{}", sent.body);
    assert_eq!(
        location(tickets.get(&store, &number).await.unwrap()).as_deref(),
        Some("Jl. Tidar No. 2")
    );
    let history = tickets.history(&store, &number).await.unwrap();
    assert_eq!(history.last().unwrap().2, "sari");
    // An empty place is refused on the page, kindly.
    let refused = console
        .post_form(&action, &[("csrf", &sari.csrf), ("place", "  ")])
        .await;
    assert_eq!(refused.status, 200);
    assert!(
        refused.body.contains("tuliskan lokasi yang benar"),
        "{}",
        refused.body
    );

    // The API: the documented answers.
    let api = format!("/api/tickets/{number}/place");
    let token = Some(sari.token.as_str());
    let (status, body) = console
        .api(
            "POST",
            &api,
            token,
            Some(json!({"place": "Jl. Tidar No. 4"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["location"], "Jl. Tidar No. 4");
    assert_eq!(body["data"]["number"], number.as_str());
    for bad in [
        json!({"place": " "}),
        json!({"tempat": "Jl. Ijen"}),
        json!({"place": 5}),
    ] {
        let (status, body) = console.api("POST", &api, token, Some(bad)).await;
        assert_eq!(status, 400, "{body}");
        assert!(body["error"].is_string(), "{body}");
    }
    let (status, body) = console
        .api(
            "POST",
            "/api/tickets/MLG-2000-000001/place",
            token,
            Some(json!({"place": "Jl. Ijen"})),
        )
        .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"], "laporan MLG-2000-000001 tidak ditemukan");
    let (status, _) = console
        .api("POST", &api, None, Some(json!({"place": "Jl. Ijen"})))
        .await;
    assert_eq!(status, 401);
    // The operation is in the OpenAPI document.
    let (_, spec) = console.api("GET", "/api/openapi.json", token, None).await;
    let operation = &spec["paths"]["/api/tickets/{number}/place"]["post"];
    for code in ["200", "400", "401", "404"] {
        assert!(operation["responses"][code].is_object(), "{code}");
    }
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrected_place_edits_the_ticket_message_in_the_agency_telegram_chat() {
    let mut d = Deployment::start().await;
    d.start_bot().await;
    let x = d.sandbox();
    let complaint = x
        .post_as(
            "warga43",
            "@PemkotMalang min jalan berlubang besar di jl kawi, bahaya buat motor",
        )
        .await;
    d.wait_until(
        Duration::from_secs(30),
        "the ticket in DPUPRPKP's chat",
        || async { !x.telegram_chat(DPUPRPKP).await.is_empty() },
    )
    .await;
    let message = x.telegram_chat(DPUPRPKP).await[0].clone();
    let text = message["text"].as_str().unwrap().to_owned();
    assert!(text.contains("Lokasi: Jl. Kawi\n"), "{text}");
    let number = kicau::tickets::number_in(&text).unwrap();
    d.wait_until(
        Duration::from_secs(30),
        "the ticket's number for the citizen",
        || async { x.replies_to(&complaint).await.len() == 1 },
    )
    .await;

    // Staff correct the place through the API.
    d.staff(&["add", "kepala", "--role", "admin"]);
    let token = d.staff(&["token", "kepala"]);
    let api = d.api(&token);
    let place = "Jl. Kawi Atas No. 12, Oro-oro Dowo";
    let (status, body) = api
        .post(
            &format!("/api/tickets/{number}/place"),
            Some(json!({"place": place})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["location"], place);

    // The same message in the agency's chat now shows the new place, buttons and all.
    let edited = d
        .wait_for(
            Duration::from_secs(30),
            "the ticket's message edited to the new place",
            || async {
                let chat = x.telegram_chat(DPUPRPKP).await;
                chat.iter()
                    .find(|m| m["text"].as_str().unwrap_or("").contains(place))
                    .cloned()
            },
        )
        .await;
    assert_eq!(edited["message_id"], message["message_id"]);
    assert_eq!(edited["reply_markup"], message["reply_markup"]);
    assert_eq!(x.telegram_chat(DPUPRPKP).await.len(), 1);
    let one = api.get(&format!("/api/tickets/{number}")).await;
    let last = one["data"]["history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["by"], "kepala");
    assert_eq!(
        last["note"],
        format!("lokasi dikoreksi: Jl. Kawi → {place}")
    );
    // The citizen's thread holds the ticket's number only.
    assert_eq!(x.replies_to(&complaint).await.len(), 1);
    assert!(d.stop_bot().success());
}
