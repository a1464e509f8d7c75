//! `[x] links_in_replies`, through `kicau run` and the X sandbox: a knowledge answer with a link
//! is posted with it (`always`), with the name of its channel instead (`never`), or with it only
//! when the citizen's tweet asks for a link (`on_request`, the shipped setting); each reply
//! recorded as the unit X bills for it (a post with a URL costs twenty times a summoned reply),
//! as the sandbox counted it too.

use std::time::Duration;

use kicau::tweet::urls;

use crate::helpers::Deployment;

/// A question the `kk` entry answers; its short answer links https://siapel.malangkota.go.id.
const QUESTION: &str = "@PemkotMalang min syarat bikin kk baru apa aja?";
/// The same question, asking for the link.
const ASKING: &str = "@PemkotMalang min syarat bikin kk baru apa aja? sekalian linknya ya";

const LINK: &str = "https://siapel.malangkota.go.id";
const NAME: &str = "situs Si Apel";

/// The replies posted, and the replies billed (posts with a URL, summoned replies) as the bot
/// recorded them and as the sandbox counted them.
struct Posted {
    replies: Vec<String>,
    bot: (i64, i64),
    sandbox: (i64, i64),
}

/// Runs the bot with `links_in_replies = setting`, posts each text as its own citizen, and
/// returns the account's reply to each (its tweets joined by newlines) with what was billed.
async fn replies_under(setting: &str, texts: &[&str]) -> Posted {
    let mut d = Deployment::start_with(|config| {
        config.set("x.links_in_replies", setting);
    })
    .await;
    d.start_bot().await;
    let x = d.sandbox().clone();
    let mut ids = Vec::new();
    for (i, text) in texts.iter().enumerate() {
        ids.push(x.post_as(&format!("warga{i}"), text).await);
    }
    let mut replies = Vec::new();
    for (id, text) in ids.iter().zip(texts) {
        let what = format!("the reply to {text:?} under {setting}");
        let reply = d
            .wait_for(Duration::from_secs(30), what, || async {
                let tweets = x.replies_to(id).await;
                (!tweets.is_empty()).then(|| tweets.join("\n"))
            })
            .await;
        replies.push(reply);
    }
    // The bot records a post's unit once X answered it: wait for every reply's.
    let store = kicau::store::Store::connect(&d.database_url())
        .await
        .unwrap();
    let billed = || async {
        let day = kicau::store::usage::utc_day(kicau::store::now_ms());
        let units = store.usage_between(&day, &day).await.unwrap();
        let of = |unit: &str| {
            units
                .iter()
                .find(|(u, _)| u == unit)
                .map(|(_, n)| *n)
                .unwrap_or(0)
        };
        (of("x.posts_with_url"), of("x.summoned_replies"))
    };
    let bot = d
        .wait_for(Duration::from_secs(30), "every reply billed", || async {
            let (url, summoned) = billed().await;
            (url + summoned >= texts.len() as i64).then_some((url, summoned))
        })
        .await;
    store.close().await;
    let usage = x.get("/sandbox/x/usage").await;
    let of = |unit: &str| usage["total"]["units"][unit].as_i64().unwrap_or(0);
    Posted {
        replies,
        bot,
        sandbox: (of("posts_with_url"), of("summoned_replies")),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn always_posts_the_link_as_the_answer_has_it() {
    let posted = replies_under("always", &[QUESTION, ASKING]).await;
    for reply in &posted.replies {
        assert!(reply.contains(LINK), "{reply}");
    }
    // Two posts with a URL ($0.200 each), no summoned reply ($0.010).
    assert_eq!(posted.bot, (2, 0));
    assert_eq!(posted.sandbox, posted.bot);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_posts_the_channels_name_instead_of_the_link() {
    let posted = replies_under("never", &[QUESTION, ASKING]).await;
    assert_eq!(posted.bot, (0, 2));
    assert_eq!(posted.sandbox, posted.bot);
    for reply in posted.replies {
        assert!(urls(&reply).is_empty(), "{reply}");
        assert!(reply.contains(NAME), "{reply}");
        assert!(reply.starts_with("@warga"), "{reply}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_request_posts_the_link_only_to_the_citizen_who_asked_for_it() {
    let posted = replies_under("on_request", &[QUESTION, ASKING]).await;
    assert_eq!(posted.bot, (1, 1));
    assert_eq!(posted.sandbox, posted.bot);
    let replies = posted.replies;
    assert!(urls(&replies[0]).is_empty(), "{}", replies[0]);
    assert!(replies[0].contains(NAME), "{}", replies[0]);
    assert!(replies[1].contains(LINK), "{}", replies[1]);
}
