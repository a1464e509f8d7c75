//! The store on both backends (SQLite, and PostgreSQL from `KICAU_TEST_POSTGRES_URL`): mentions
//! stored once with their cursor, leases on mentions and outbox rows, urgent messages first,
//! dead letters, concurrent workers, and the audit log.

use std::time::Duration;

use kicau::store::{NewDecision, NewMention, NewOutbox};

use crate::helpers::{Backends, wait_for};

fn mention(id: &str) -> NewMention {
    NewMention {
        tweet_id: id.to_owned(),
        author_id: "42".into(),
        author_username: "warga1".into(),
        text: "@PemkotMalang syarat kk?".into(),
        conversation_id: Some(id.to_owned()),
        in_reply_to_id: None,
        created_at: 1_700_000_000_000,
        raw: format!("{{\"id\":\"{id}\"}}"),
    }
}

fn reply(key: &str, priority: i64) -> NewOutbox {
    NewOutbox {
        channel: "x".into(),
        payload: format!("{{\"key\":\"{key}\"}}"),
        priority,
        idempotency_key: key.to_owned(),
    }
}

fn decision() -> NewDecision {
    NewDecision {
        conversation_id: None,
        kind: "answer".into(),
        topic: Some("kk".into()),
        agency: Some("dispendukcapil".into()),
        rule: "kb_confident".into(),
        evidence: "{}".into(),
    }
}

#[tokio::test]
async fn mentions_are_stored_once_and_the_cursor_moves_with_them() {
    let backends = Backends::new().await;
    for (name, store) in &backends.stores {
        assert_eq!(store.cursor("x.mentions").await.unwrap(), None, "{name}");
        let batch = [mention("100"), mention("101")];
        assert_eq!(
            store
                .store_mentions("x.mentions", &batch, Some("101"))
                .await
                .unwrap(),
            2
        );
        // The same page read again (a restart before the cursor moved) adds nothing.
        assert_eq!(
            store
                .store_mentions("x.mentions", &batch, Some("101"))
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            store.cursor("x.mentions").await.unwrap().as_deref(),
            Some("101")
        );
        let counts = store.inbox_counts().await.unwrap();
        assert_eq!(counts, vec![("pending".to_owned(), 2)], "{name}");
    }
    backends.finish().await;
}

#[tokio::test]
async fn a_claimed_mention_is_leased_and_completed_exactly_once() {
    let backends = Backends::new().await;
    for (name, store) in &backends.stores {
        store
            .store_mentions("x.mentions", &[mention("9"), mention("10")], Some("10"))
            .await
            .unwrap();
        // Oldest first, by numeric id even though ids are text ("9" before "10").
        let first = store
            .claim_mention(Duration::from_secs(60))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(first.tweet_id, "9", "{name}");
        let second = store
            .claim_mention(Duration::from_secs(60))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(second.tweet_id, "10", "{name}");
        assert!(
            store
                .claim_mention(Duration::from_secs(60))
                .await
                .unwrap()
                .is_none()
        );

        let queued = store
            .complete_mention("9", &decision(), &[reply("x:reply:9:1", 0)])
            .await
            .unwrap();
        assert_eq!(queued, 1);
        // A replay after a crash between commit and acknowledgement queues nothing new.
        let queued = store
            .complete_mention("9", &decision(), &[reply("x:reply:9:1", 0)])
            .await
            .unwrap();
        assert_eq!(queued, 0, "{name}");
    }
    backends.finish().await;
}

#[tokio::test]
async fn an_expired_lease_lets_another_worker_take_the_mention() {
    let backends = Backends::new().await;
    for (name, store) in &backends.stores {
        store
            .store_mentions("c", &[mention("7")], Some("7"))
            .await
            .unwrap();
        let taken = store
            .claim_mention(Duration::from_millis(1))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(taken.attempts, 1);
        let again = wait_for(
            Duration::from_secs(5),
            format!("{name}: the 1 ms lease to expire"),
            || async { store.claim_mention(Duration::from_secs(60)).await.unwrap() },
        )
        .await;
        assert_eq!(
            (again.tweet_id.as_str(), again.attempts),
            ("7", 2),
            "{name}"
        );
    }
    backends.finish().await;
}

#[tokio::test]
async fn the_outbox_sends_urgent_first_and_never_queues_a_key_twice() {
    let backends = Backends::new().await;
    for (name, store) in &backends.stores {
        assert!(store.enqueue(&reply("a", 0)).await.unwrap());
        assert!(store.enqueue(&reply("b", 100)).await.unwrap());
        assert!(!store.enqueue(&reply("a", 0)).await.unwrap(), "{name}");
        let lease = Duration::from_secs(60);
        let first = store.claim_outbox("x", lease).await.unwrap().unwrap();
        assert_eq!(first.idempotency_key, "b", "{name}: emergencies go first");
        store
            .mark_sent(first.id, "1900000000000000000")
            .await
            .unwrap();
        let second = store.claim_outbox("x", lease).await.unwrap().unwrap();
        assert_eq!(second.idempotency_key, "a");
        // A retry waits for its time.
        let later = kicau::store::now_ms() + 60_000;
        store
            .mark_retry(second.id, later, "503 from X")
            .await
            .unwrap();
        assert!(
            store.claim_outbox("x", lease).await.unwrap().is_none(),
            "{name}"
        );
        let sent = store.outbox_by_key("b").await.unwrap().unwrap();
        assert_eq!(sent.state, "sent");
        assert_eq!(sent.remote_id.as_deref(), Some("1900000000000000000"));
    }
    backends.finish().await;
}

#[tokio::test]
async fn a_message_that_can_never_be_sent_becomes_a_visible_dead_letter() {
    let backends = Backends::new().await;
    for (name, store) in &backends.stores {
        store.enqueue(&reply("dup", 0)).await.unwrap();
        let item = store
            .claim_outbox("x", Duration::from_secs(60))
            .await
            .unwrap()
            .unwrap();
        store
            .mark_dead(item.id, "403 duplicate content")
            .await
            .unwrap();
        let dead = store.dead_letters().await.unwrap();
        assert_eq!(dead.len(), 1, "{name}");
        assert_eq!(dead[0].source, "outbox");
        assert_eq!(dead[0].reference, "dup");
        assert_eq!(dead[0].error, "403 duplicate content");
        assert!(
            store
                .claim_outbox("x", Duration::from_secs(60))
                .await
                .unwrap()
                .is_none()
        );

        store
            .store_mentions("c", &[mention("5")], Some("5"))
            .await
            .unwrap();
        store.bury_mention("5", "unparseable").await.unwrap();
        assert!(
            store
                .claim_mention(Duration::from_secs(60))
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(store.dead_letters().await.unwrap()[0].source, "inbox");
    }
    backends.finish().await;
}

#[tokio::test]
async fn concurrent_workers_never_claim_the_same_message() {
    let backends = Backends::new().await;
    for (name, store) in &backends.stores {
        for i in 0..40 {
            store
                .enqueue(&reply(&format!("k{i}"), i % 3))
                .await
                .unwrap();
        }
        let mut tasks = Vec::new();
        for _ in 0..6 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let mut mine = Vec::new();
                while let Some(item) = store
                    .claim_outbox("x", Duration::from_secs(60))
                    .await
                    .unwrap()
                {
                    mine.push(item.idempotency_key.clone());
                    store.mark_sent(item.id, "1").await.unwrap();
                }
                mine
            }));
        }
        let mut all = Vec::new();
        for task in tasks {
            all.extend(task.await.unwrap());
        }
        all.sort();
        let before = all.len();
        all.dedup();
        assert_eq!((before, all.len()), (40, 40), "{name}");
    }
    backends.finish().await;
}

#[tokio::test]
async fn the_audit_log_keeps_who_did_what() {
    let backends = Backends::new().await;
    for (name, store) in &backends.stores {
        store
            .audit("dina", "claim", "conversation:1", "from the console")
            .await
            .unwrap();
        let log = store.audit_log(10).await.unwrap();
        assert_eq!(log.len(), 1, "{name}");
        assert_eq!(
            (log[0].actor.as_str(), log[0].action.as_str()),
            ("dina", "claim")
        );
    }
    backends.finish().await;
}
