//! `[x] links_in_replies`, through `kicau run` and the X sandbox: a knowledge answer with a link
//! is posted with it (`always`), with the name of its channel instead (`never`), or with it only
//! when the citizen's tweet asks for a link (`on_request`, the shipped setting).

use std::time::Duration;

use kicau::tweet::urls;

use crate::helpers::Deployment;

/// A question the `kk` entry answers; its short answer links https://siapel.malangkota.go.id.
const QUESTION: &str = "@PemkotMalang min syarat bikin kk baru apa aja?";
/// The same question, asking for the link.
const ASKING: &str = "@PemkotMalang min syarat bikin kk baru apa aja? sekalian linknya ya";

const LINK: &str = "https://siapel.malangkota.go.id";
const NAME: &str = "situs Si Apel";

/// Runs the bot with `links_in_replies = setting`, posts each text as its own citizen, and
/// returns the account's reply to each (its tweets joined by newlines).
async fn replies_under(setting: &str, texts: &[&str]) -> Vec<String> {
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
    replies
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn always_posts_the_link_as_the_answer_has_it() {
    for reply in replies_under("always", &[QUESTION, ASKING]).await {
        assert!(reply.contains(LINK), "{reply}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_posts_the_channels_name_instead_of_the_link() {
    for reply in replies_under("never", &[QUESTION, ASKING]).await {
        assert!(urls(&reply).is_empty(), "{reply}");
        assert!(reply.contains(NAME), "{reply}");
        assert!(reply.starts_with("@warga"), "{reply}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_request_posts_the_link_only_to_the_citizen_who_asked_for_it() {
    let replies = replies_under("on_request", &[QUESTION, ASKING]).await;
    assert!(urls(&replies[0]).is_empty(), "{}", replies[0]);
    assert!(replies[0].contains(NAME), "{}", replies[0]);
    assert!(replies[1].contains(LINK), "{}", replies[1]);
}
