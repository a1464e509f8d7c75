//! Full-text search over conversations and tickets (issue 14), on SQLite and PostgreSQL:
//! `GET /api/search` and the `/search` page over the database's own index. A word's prefix, a
//! citizen's handle, a ticket's number and an agency's name find what they should; snippets
//! mask personal data and escape markup, and a NIK is never searchable; equal matches list the
//! newest first; what `kicau privacy forget` and retention remove is no longer found.

use kicau::desk::{Actor, Desk, Role};
use kicau::store::Store;
use kicau::tickets::Tickets;
use serde_json::Value;

use crate::helpers::{
    Backends, Console, file_ticket_for, file_ticket_saying, kicau, mention_at, repo, stderr,
    tickets_with,
};

const DAY: i64 = 24 * 3600 * 1000;

/// A citizen's mention handed to staff, now; its conversation.
async fn mention(store: &Store, id: &str, citizen: &str, text: &str) -> String {
    let now = kicau::store::now_ms();
    mention_at(store, id, citizen, text, ("handoff", "no_kb_match"), now)
        .await
        .unwrap()
}

/// `GET /api/search?q=QUERY` with `token`: the status and `data`.
async fn search(console: &Console, token: &str, query: &str) -> (u16, Value) {
    let uri = format!(
        "/api/search?q={}",
        kicau::channels::x::oauth1::percent_encode(query)
    );
    let (status, body) = console.api("GET", &uri, Some(token), None).await;
    let data = if status == 200 {
        body["data"].clone()
    } else {
        body
    };
    (status.as_u16(), data)
}

/// The values of `field` in the results of `kind` ("conversations" or "tickets").
fn field(data: &Value, kind: &str, field: &str) -> Vec<String> {
    data[kind]
        .as_array()
        .unwrap_or_else(|| panic!("no {kind} in {data}"))
        .iter()
        .map(|hit| hit[field].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Checks that `value` has exactly the properties openapi.json's schema `name` requires.
fn follows_schema(value: &Value, name: &str) {
    let spec: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("src/console/openapi.json")).unwrap(),
    )
    .unwrap();
    let mut required: Vec<&str> = spec["components"]["schemas"][name]["required"]
        .as_array()
        .unwrap_or_else(|| panic!("no schema {name}"))
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    let mut keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    required.sort();
    keys.sort();
    assert_eq!(keys, required, "{name}: {value}");
}

#[tokio::test]
async fn a_prefix_finds_the_word_and_a_handle_finds_the_citizens_conversations() {
    let tickets = tickets_with(|_| {});
    let backends = Backends::new().await;
    for (name, store) in &backends.stores {
        let (console, staff) = Console::signed_in(store, Some(&tickets)).await;
        let mine = mention(
            store,
            "9301",
            "Warga9",
            "@PemkotMalang sampahnya numpuk di gang mawar sudah 3 hari",
        )
        .await;
        let other = mention(store, "9302", "wargalain", "@PemkotMalang jam buka mpp?").await;

        let (status, data) = search(&console, &staff.token, "sampa").await;
        assert_eq!(status, 200, "{name}: {data}");
        assert_eq!(
            field(&data, "conversations", "id"),
            [mine.as_str()],
            "{name}"
        );
        let hit = &data["conversations"][0];
        assert_eq!(hit["citizen"], "Warga9", "{name}");
        assert_eq!(hit["state"], "waiting_staff", "{name}");
        assert_eq!(hit["state_label"], "menunggu petugas", "{name}");
        assert!(
            hit["snippet_html"]
                .as_str()
                .unwrap()
                .contains("<mark>sampahnya</mark> numpuk"),
            "{name}: {hit}"
        );
        assert!(hit["at_wib"].as_str().unwrap().ends_with(" WIB"), "{name}");
        assert!(hit["at"].as_str().unwrap().ends_with('Z'), "{name}");
        assert_eq!(data["more_conversations"], false, "{name}");

        // Every word must match, each as a prefix.
        let (_, data) = search(&console, &staff.token, "SAMPAH maw").await;
        assert_eq!(
            field(&data, "conversations", "id"),
            [mine.as_str()],
            "{name}"
        );
        let (_, data) = search(&console, &staff.token, "sampah mpp").await;
        assert!(
            field(&data, "conversations", "id").is_empty(),
            "{name}: {data}"
        );

        for handle in ["@warga9", "Warga9", "@WARGA9"] {
            let (_, data) = search(&console, &staff.token, handle).await;
            assert_eq!(
                field(&data, "conversations", "id"),
                [mine.as_str()],
                "{name}: {handle}"
            );
        }
        let (_, data) = search(&console, &staff.token, "@wargalain").await;
        assert_eq!(
            field(&data, "conversations", "id"),
            [other.as_str()],
            "{name}"
        );
    }
    backends.finish().await;
}

#[tokio::test]
async fn a_ticket_is_found_by_its_number_and_by_its_agencys_name_shown_never_as_its_id() {
    let tickets = tickets_with(|_| {});
    let backends = Backends::new().await;
    for (name, store) in &backends.stores {
        let (console, staff) = Console::signed_in(store, Some(&tickets)).await;
        let road = file_ticket_for(store, &tickets, "9311", "pelaporjalan", "dpuprpkp").await;
        let rubbish = file_ticket_saying(
            store,
            &tickets,
            "9312",
            "pelaporsampah",
            "dlh",
            "@PemkotMalang sampah liar menumpuk di jl tidar",
        )
        .await;
        let sequence = road.rsplit('-').next().unwrap().trim_start_matches('0');
        for query in [road.as_str(), &road.to_lowercase(), &road[4..], sequence] {
            let (status, data) = search(&console, &staff.token, query).await;
            assert_eq!(status, 200, "{name}: {data}");
            assert_eq!(
                field(&data, "tickets", "number"),
                [road.as_str()],
                "{name}: {query:?}"
            );
        }

        let (_, data) = search(&console, &staff.token, "lingkungan").await;
        assert_eq!(
            field(&data, "tickets", "number"),
            [rubbish.as_str()],
            "{name}"
        );
        let hit = &data["tickets"][0];
        assert_eq!(hit["agency"], "Dinas Lingkungan Hidup", "{name}");
        assert_eq!(hit["agency_short_name"], "DLH", "{name}");
        assert!(!hit.to_string().contains("\"dlh\""), "{name}: {hit}");
        assert_eq!(hit["state"], "open", "{name}");
        assert_eq!(hit["state_label"], "Baru", "{name}");
        assert_eq!(hit["deadline"]["for"], "diterima", "{name}");
        assert!(
            hit["deadline"]["at_wib"]
                .as_str()
                .unwrap()
                .ends_with(" WIB")
        );
        assert_eq!(hit["reporter"], "pelaporsampah", "{name}");
        // A word of too many agencies' names ("dinas") names none of them.
        let (_, data) = search(&console, &staff.token, "dinas").await;
        assert!(
            field(&data, "tickets", "number").is_empty(),
            "{name}: {data}"
        );
        // The place and the words find both, the newer first among equals.
        let (_, data) = search(&console, &staff.token, "tidar").await;
        assert_eq!(field(&data, "tickets", "number").len(), 2, "{name}: {data}");
        // The answer has the documented shape.
        follows_schema(&data, "SearchResults");
        follows_schema(&data["conversations"][0], "ConversationHit");
        follows_schema(&data["tickets"][0], "TicketHit");

        // The page shows the agency by name, as a card.
        let mut browser = console;
        let page = browser.get("/search?q=lingkungan").await;
        assert_eq!(page.status, 200, "{name}");
        assert!(page.body.contains("Dinas Lingkungan Hidup (DLH)"), "{name}");
        assert!(
            page.body.contains(&format!("<strong>{rubbish}</strong>")),
            "{name}"
        );
        assert!(page.body.contains("class=\"card"), "{name}");
        assert!(!page.body.contains(">dlh<"), "{name}");
    }
    backends.finish().await;
}

#[tokio::test]
async fn a_nik_is_masked_in_snippets_and_searching_by_it_finds_nothing() {
    let tickets = tickets_with(|_| {});
    let backends = Backends::new().await;
    for (name, store) in &backends.stores {
        let (mut console, staff) = Console::signed_in(store, Some(&tickets)).await;
        let secret = "3573042103990005";
        let conv = mention(
            store,
            "9321",
            "wargaktp",
            &format!("@PemkotMalang KTP saya hilang, NIK {secret}, hp 0812-3456-7890"),
        )
        .await;
        let (_, data) = search(&console, &staff.token, "ktp hilang").await;
        assert_eq!(
            field(&data, "conversations", "id"),
            [conv.as_str()],
            "{name}"
        );
        let snippet = data["conversations"][0]["snippet"].as_str().unwrap();
        assert!(snippet.contains("3573••••••••0005"), "{name}: {snippet}");
        assert!(!data.to_string().contains(secret), "{name}: {data}");
        assert!(!data.to_string().contains("3456-7890"), "{name}: {data}");

        for query in [
            secret,
            "3573 0421 0399 0005",
            "0812-3456-7890",
            "ktp 3573042103990005",
        ] {
            let (status, data) = search(&console, &staff.token, query).await;
            assert_eq!(status, 200, "{name}: {query}: {data}");
            assert_eq!(data["personal_data_ignored"], true, "{name}: {query}");
            let found = field(&data, "conversations", "id");
            // What is left of the query after its personal data still searches.
            let expected: &[&str] = if query.starts_with("ktp") {
                &[&conv]
            } else {
                &[]
            };
            assert_eq!(found, expected, "{name}: {query}");
        }
        // Parts of the number are not in the index either.
        for part in ["3573", "35730421", "0421", "0005", "0812"] {
            let (_, data) = search(&console, &staff.token, part).await;
            assert!(
                field(&data, "conversations", "id").is_empty(),
                "{name}: {part}"
            );
        }

        let page = console.get(&format!("/search?q={secret}")).await;
        assert_eq!(page.status, 200, "{name}");
        assert!(page.body.contains("tidak ikut dicari"), "{name}");
    }
    backends.finish().await;
}

#[tokio::test]
async fn markup_in_a_tweet_is_escaped_in_the_snippet_the_page_and_the_api() {
    let backends = Backends::new().await;
    for (name, store) in &backends.stores {
        let (mut console, staff) = Console::signed_in(store, None).await;
        mention(
            store,
            "9331",
            "wargajahil",
            "@PemkotMalang <script>alert('x')</script> lampu <b>mati</b>",
        )
        .await;
        let (_, data) = search(&console, &staff.token, "lampu").await;
        let html = data["conversations"][0]["snippet_html"].as_str().unwrap();
        assert_eq!(
            html,
            "@PemkotMalang &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; <mark>lampu</mark> \
             &lt;b&gt;mati&lt;/b&gt;",
            "{name}"
        );
        let page = console.get("/search?q=%3Cscript%3E+lampu").await;
        assert_eq!(page.status, 200, "{name}");
        assert!(
            page.body.contains("&lt;<mark>script</mark>&gt;alert"),
            "{name}"
        );
        assert!(!page.body.contains("<script>alert"), "{name}");
        assert!(
            page.body.contains("value=\"&lt;script&gt; lampu\""),
            "{name}"
        );
        // No tickets configured: the API answers an empty list, the page no section.
        assert_eq!(data["tickets"], serde_json::json!([]), "{name}");
    }
    backends.finish().await;
}

#[tokio::test]
async fn equal_matches_list_the_newest_first_and_a_better_match_before_them() {
    let backends = Backends::new().await;
    for (name, store) in &backends.stores {
        let (console, staff) = Console::signed_in(store, None).await;
        let best = mention(
            store,
            "9341",
            "wargac",
            "@PemkotMalang lampu lampu lampu mati",
        )
        .await;
        let older = mention(store, "9342", "wargaa", "@PemkotMalang lampu jalan mati").await;
        let newer = mention(store, "9343", "wargab", "@PemkotMalang lampu jalan mati").await;
        let (_, data) = search(&console, &staff.token, "lampu").await;
        assert_eq!(
            field(&data, "conversations", "id"),
            [best.as_str(), newer.as_str(), older.as_str()],
            "{name}"
        );
    }
    backends.finish().await;
}

#[tokio::test]
async fn the_api_refuses_an_empty_a_long_or_a_wordless_query_and_bad_limits() {
    let backends = Backends::new().await;
    let (_, store) = &backends.stores[0];
    let (console, staff) = Console::signed_in(store, None).await;
    let long = "a".repeat(101);
    for uri in [
        "/api/search".to_owned(),
        "/api/search?q=".to_owned(),
        "/api/search?q=%20%20".to_owned(),
        format!("/api/search?q={long}"),
        "/api/search?q=%40%23%21".to_owned(),
        "/api/search?q=a+b+c+d+e+f+g+h+i+j+k".to_owned(),
        "/api/search?q=sampah&limit=0".to_owned(),
        "/api/search?q=sampah&limit=51".to_owned(),
        "/api/search?q=sampah&limit=-1".to_owned(),
        "/api/search?q=sampah&limit=banyak".to_owned(),
    ] {
        let (status, body) = console.api("GET", &uri, Some(&staff.token), None).await;
        assert_eq!(status, 400, "{uri}: {body}");
        assert!(body["error"].is_string(), "{uri}: {body}");
    }
    let (status, body) = console.api("GET", "/api/search?q=sampah", None, None).await;
    assert_eq!(status, 401, "{body}");
    let (status, body) = console
        .api(
            "GET",
            "/api/search?q=sampah&limit=50",
            Some(&staff.token),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    backends.finish().await;
}

/// Asks `query` and returns the conversations and the tickets found.
async fn found(console: &Console, token: &str, query: &str) -> (Vec<String>, Vec<String>) {
    let (status, data) = search(console, token, query).await;
    assert_eq!(status, 200, "{query}: {data}");
    (
        field(&data, "conversations", "id"),
        field(&data, "tickets", "number"),
    )
}

#[tokio::test]
async fn after_privacy_forget_and_retention_the_removed_words_are_not_found() {
    let tickets: Tickets = tickets_with(|_| {});
    let backends = Backends::new().await;
    for ((name, store), url) in backends.stores.iter().zip(&backends.urls) {
        let (console, staff) = Console::signed_in(store, Some(&tickets)).await;
        // The complaint first: a mention handed to staff would take in the next one.
        let number = file_ticket_for(store, &tickets, "9352", "wargalupa", "dpuprpkp").await;
        let conv = mention(
            store,
            "9351",
            "wargalupa",
            "@PemkotMalang sampah liar numpuk di gang kenanga",
        )
        .await;
        let (mut conversations, numbers) = found(&console, &staff.token, "wargalupa").await;
        conversations.sort();
        assert_eq!(conversations, [conv.as_str(), "c9352"], "{name}");
        assert_eq!(numbers, [number.as_str()], "{name}");

        // The raw pages of SQLite's indexes hold the handle now, and must not after.
        let in_pages = || async {
            let mut found = 0;
            for table in ["messages_search_data", "tickets_search_data"] {
                found += sqlx::query_scalar::<sqlx::Any, i64>(&format!(
                    "SELECT COUNT(*) FROM {table} WHERE instr(block, CAST('wargalupa' AS BLOB)) > 0"
                ))
                .fetch_one(store.pool())
                .await
                .unwrap();
            }
            found
        };
        if *name == "sqlite" {
            assert!(in_pages().await > 0, "the check below would prove nothing");
        }

        // The command line, as an officer runs it.
        let config = repo().join("bot.toml");
        let out = kicau(
            &config,
            &["--database-url", url, "privacy", "forget", "@wargalupa"],
        );
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        for query in ["wargalupa", "kenanga", "sampah liar"] {
            assert_eq!(
                found(&console, &staff.token, query).await,
                (vec![], vec![]),
                "{name}: {query}"
            );
        }
        // The ticket stays for the agency's figures, anonymised, found by its number.
        let (_, data) = search(&console, &staff.token, &number).await;
        assert_eq!(field(&data, "tickets", "reporter"), ["anonim"], "{name}");

        // Retention: a closed conversation past the period.
        let old = mention(
            store,
            "9353",
            "wargalama",
            "@PemkotMalang pohon tumbang di jalan ijen",
        )
        .await;
        assert_eq!(
            found(&console, &staff.token, "tumbang").await.0,
            [old.as_str()],
            "{name}"
        );
        let admin = Actor {
            name: "kepala".into(),
            role: Role::Admin,
        };
        Desk::new(store.clone()).close(&old, &admin).await.unwrap();
        let now = kicau::store::now_ms();
        let done = kicau::privacy::retain(store, 90, now + 91 * DAY)
            .await
            .unwrap();
        assert!(done.conversations >= 1, "{name}: {done:?}");
        for query in ["tumbang", "wargalama", "ijen"] {
            assert_eq!(
                found(&console, &staff.token, query).await,
                (vec![], vec![]),
                "{name}: {query}"
            );
        }
        // Not only left out of the results (purged conversations are): gone from the index.
        for word in ["wargalupa", "kenanga", "wargalama", "tumbang"] {
            let sql = if *name == "sqlite" {
                format!("SELECT COUNT(*) FROM messages_search WHERE messages_search MATCH '{word}'")
            } else {
                format!(
                    "SELECT COUNT(*) FROM messages WHERE search @@ to_tsquery('simple', '{word}')"
                )
            };
            let left: i64 = sqlx::query_scalar::<sqlx::Any, i64>(&sql)
                .fetch_one(store.pool())
                .await
                .unwrap();
            assert_eq!(left, 0, "{name}: {word} is still indexed");
        }
        if *name == "sqlite" {
            // Deleted entries leave the index's pages at once (secure-delete), not at the next
            // merge.
            assert_eq!(
                in_pages().await,
                0,
                "the handle is left in the index's pages"
            );
            for table in ["messages_search_config", "tickets_search_config"] {
                let on: i64 = sqlx::query_scalar::<sqlx::Any, i64>(&format!(
                    "SELECT v FROM {table} WHERE k = 'secure-delete'"
                ))
                .fetch_one(store.pool())
                .await
                .unwrap();
                assert_eq!(on, 1, "{table}");
            }
        }
    }
    backends.finish().await;
}

#[tokio::test]
async fn messages_stored_before_the_search_existed_are_indexed_at_start() {
    let backends = Backends::new().await;
    for (name, store) in &backends.stores {
        let (console, staff) = Console::signed_in(store, None).await;
        let conv = mention(store, "9361", "wargalawas", "@PemkotMalang drainase mampet").await;
        // As a database migrated from before 0018 holds them.
        sqlx::query("UPDATE messages SET search_text = NULL")
            .execute(store.pool())
            .await
            .unwrap();
        assert!(found(&console, &staff.token, "drainase").await.0.is_empty());
        let indexed = kicau::desk::search::index_earlier_messages(store)
            .await
            .unwrap();
        assert_eq!(indexed, 2, "{name}: the mention and the bot's reply");
        assert_eq!(
            found(&console, &staff.token, "drainase").await.0,
            [conv.as_str()],
            "{name}"
        );
    }
    backends.finish().await;
}
