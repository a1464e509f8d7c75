/*!
The production client, teloxide, unchanged but for its base URL: every answer the sandbox
gives deserializes into teloxide's types, its long polling and dispatcher work, and its
throttle keeps within the flood limits.
*/

use std::time::{Duration, Instant};

use serde_json::json;
use teloxide::adaptors::throttle::Limits;
use teloxide::prelude::*;
use teloxide::types::{
    BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, MessageEntityKind,
    MessageId, ParseMode, ReplyParameters, ThreadId, UpdateKind,
};
use teloxide::{ApiError, RequestError};

use super::{BOT, STAFF_GROUP, start};

#[tokio::test]
async fn teloxide_talks_to_the_sandbox_unchanged() {
    let sandbox = start(false).await;
    let bot = sandbox.bot();

    let me = bot.get_me().await.unwrap();
    assert_eq!(me.username(), BOT);
    assert_eq!(me.id, UserId(123456));
    let info = bot.get_webhook_info().await.unwrap();
    assert!(info.url.is_none());
    bot.delete_webhook().await.unwrap();
    bot.set_my_commands(vec![BotCommand::new("tiket", "Lihat tiket")])
        .await
        .unwrap();
    assert_eq!(bot.get_my_commands().await.unwrap()[0].command, "tiket");

    // A staff member writes to the bot privately.
    sandbox.writes(777, 777, "/start").await;
    let updates = bot.get_updates().timeout(5).await.unwrap();
    let UpdateKind::Message(start) = &updates[0].kind else {
        panic!("a message update: {:?}", updates[0]);
    };
    assert_eq!(start.text(), Some("/start"));
    assert_eq!(start.chat.id, ChatId(777));
    assert!(start.chat.is_private());
    let from = start.from.as_ref().unwrap();
    assert_eq!(from.username.as_deref(), Some("warga777"));
    assert_eq!(from.first_name, "warga777");
    assert_eq!(
        start.entities().unwrap()[0].kind,
        MessageEntityKind::BotCommand
    );

    // The bot answers with HTML, an inline keyboard and a reply.
    let keyboard = InlineKeyboardMarkup::new([[
        InlineKeyboardButton::callback("Terima", "t:17:acc"),
        InlineKeyboardButton::callback("Tolak", "t:17:rej"),
    ]]);
    let sent = bot
        .send_message(
            ChatId(777),
            "<b>Tiket #17</b> jalan rusak 🚧 <a href=\"https://malangkota.go.id/\">detail</a>",
        )
        .parse_mode(ParseMode::Html)
        .reply_markup(keyboard.clone())
        .reply_parameters(ReplyParameters::new(start.id))
        .await
        .unwrap();
    assert_eq!(sent.text(), Some("Tiket #17 jalan rusak 🚧 detail"));
    let entities = sent.entities().unwrap();
    assert_eq!(
        (
            entities[0].kind.clone(),
            entities[0].offset,
            entities[0].length
        ),
        (MessageEntityKind::Bold, 0, 9)
    );
    assert_eq!(
        (entities[1].offset, entities[1].length),
        (25, 6),
        "UTF-16 offsets, the emoji counting twice"
    );
    assert!(
        matches!(&entities[1].kind, MessageEntityKind::TextLink { url } if url.as_str() == "https://malangkota.go.id/")
    );
    assert_eq!(sent.reply_markup(), Some(&keyboard));
    assert_eq!(sent.reply_to_message().unwrap().id, start.id);
    assert!(sent.from.as_ref().unwrap().is_bot);

    let edited = bot
        .edit_message_text(ChatId(777), sent.id, "<i>Tiket #17 diteruskan</i>")
        .parse_mode(ParseMode::Html)
        .reply_markup(keyboard.clone())
        .await
        .unwrap();
    assert_eq!(edited.text(), Some("Tiket #17 diteruskan"));
    assert!(edited.edit_date().is_some());
    let unchanged = bot
        .edit_message_text(ChatId(777), sent.id, "<i>Tiket #17 diteruskan</i>")
        .parse_mode(ParseMode::Html)
        .reply_markup(keyboard.clone())
        .await
        .unwrap_err();
    assert!(
        matches!(unchanged, RequestError::Api(ApiError::MessageNotModified)),
        "{unchanged:?}"
    );

    // The staff member presses "Terima"; the bot gets the callback query and answers it.
    let (status, pressed) = sandbox
        .control_post(
            "/sandbox/telegram/press",
            json!({"chat_id": 777, "message_id": sent.id.0, "data": "t:17:acc"}),
        )
        .await;
    assert_eq!(status, 200, "{pressed}");
    let offset = updates.last().unwrap().id.0 as i32 + 1;
    let updates = bot.get_updates().offset(offset).await.unwrap();
    let UpdateKind::CallbackQuery(query) = &updates[0].kind else {
        panic!("a callback query: {:?}", updates[0]);
    };
    assert_eq!(query.data.as_deref(), Some("t:17:acc"));
    assert_eq!(query.from.id, UserId(777));
    let message = query.regular_message().unwrap();
    assert_eq!(message.id, sent.id);
    assert_eq!(message.text(), Some("Tiket #17 diteruskan"));
    assert_eq!(message.reply_markup(), Some(&keyboard));
    bot.answer_callback_query(query.id.clone())
        .text("Diterima")
        .await
        .unwrap();
    let twice = bot
        .answer_callback_query(query.id.clone())
        .await
        .unwrap_err();
    assert!(twice.to_string().contains("query is too old"), "{twice:?}");

    let cleared = bot
        .edit_message_reply_markup(ChatId(777), sent.id)
        .await
        .unwrap();
    assert!(cleared.reply_markup().is_none());
    let unchanged = bot
        .edit_message_reply_markup(ChatId(777), sent.id)
        .await
        .unwrap_err();
    assert!(matches!(
        unchanged,
        RequestError::Api(ApiError::MessageNotModified)
    ));

    // Telegram's errors map to teloxide's variants.
    let missing = bot.send_message(ChatId(999), "halo").await.unwrap_err();
    assert!(matches!(missing, RequestError::Api(ApiError::ChatNotFound)));
    let missing = bot
        .edit_message_text(ChatId(777), MessageId(999), "x")
        .await
        .unwrap_err();
    assert!(matches!(
        missing,
        RequestError::Api(ApiError::MessageToEditNotFound)
    ));
    let bad = bot
        .send_message(ChatId(777), "<b>x</i>")
        .parse_mode(ParseMode::Html)
        .await
        .unwrap_err();
    assert!(matches!(
        bad,
        RequestError::Api(ApiError::CantParseEntities(_))
    ));
    let bad = bot
        .send_message(ChatId(777), "x")
        .reply_markup(InlineKeyboardMarkup::new([[
            InlineKeyboardButton::callback("x", "x".repeat(65)),
        ]]))
        .await
        .unwrap_err();
    assert!(matches!(
        bad,
        RequestError::Api(ApiError::ButtonDataInvalid)
    ));

    // A forum topic of the staff group, and photos (teloxide sends those as multipart).
    let topic = bot
        .send_message(ChatId(STAFF_GROUP), "Tiket baru di topik")
        .message_thread_id(ThreadId(MessageId(42)))
        .await
        .unwrap();
    assert_eq!(topic.thread_id, Some(ThreadId(MessageId(42))));
    assert!(topic.is_topic_message);
    assert!(topic.chat.is_supergroup());
    let photo = bot
        .send_photo(
            ChatId(STAFF_GROUP),
            InputFile::url(reqwest::Url::parse("https://example.com/jalan.jpg").unwrap()),
        )
        .caption("<b>Foto</b> laporan")
        .parse_mode(ParseMode::Html)
        .await
        .unwrap();
    assert_eq!(photo.caption(), Some("Foto laporan"));
    let file_id = photo.photo().unwrap()[0].file.id.clone();
    let uploaded = bot
        .send_photo(
            ChatId(STAFF_GROUP),
            InputFile::memory(vec![0xff, 0xd8, 0xff]).file_name("a.jpg"),
        )
        .await
        .unwrap();
    assert_eq!(uploaded.photo().unwrap()[0].file.size, 3);
    bot.send_photo(ChatId(STAFF_GROUP), InputFile::file_id(file_id))
        .await
        .unwrap();

    let listing = sandbox.sent(777).await;
    assert_eq!(listing.len(), 1);
    assert_eq!(listing[0]["text"], "Tiket #17 diteruskan");
    assert_eq!(listing[0]["edited"], true);
    assert_eq!(listing[0]["reply_to_message_id"], 1);
    let answers = sandbox
        .control_get("/sandbox/telegram/callback-answers")
        .await;
    assert_eq!(answers[0]["text"], "Diterima");
}

#[tokio::test]
async fn teloxide_long_polls_and_its_dispatcher_answers_a_person() {
    let sandbox = start(false).await;
    let bot = sandbox.bot();
    let (replied, mut replies) = tokio::sync::mpsc::unbounded_channel::<MessageId>();
    let handler = Update::filter_message().endpoint(
        |bot: Bot, message: Message, replied: tokio::sync::mpsc::UnboundedSender<MessageId>| async move {
            let answer = bot
                .send_message(message.chat.id, format!("Diterima: {}", message.text().unwrap_or("")))
                .await?;
            replied.send(answer.id).unwrap();
            Ok::<(), RequestError>(())
        },
    );
    let mut dispatcher = Dispatcher::builder(bot, handler)
        .dependencies(dptree::deps![replied])
        .build();
    let shutdown = dispatcher.shutdown_token();
    let running = tokio::spawn(async move { dispatcher.dispatch().await });

    // The dispatcher starts with getMe, getWebhookInfo and a long poll; the message reaches it
    // within the poll, not after the poll's 10 seconds.
    let started = Instant::now();
    sandbox.writes(4242, 4242, "jalan berlubang").await;
    let reply = tokio::time::timeout(Duration::from_secs(8), replies.recv())
        .await
        .expect("the dispatcher answers")
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(8));
    let listing = sandbox.sent(4242).await;
    assert_eq!(listing[0]["message_id"], reply.0);
    assert_eq!(listing[0]["text"], "Diterima: jalan berlubang");

    // teloxide confirms what it handled with a last getUpdates while stopping.
    shutdown.shutdown().unwrap().await;
    running.await.unwrap();
}

#[tokio::test]
async fn teloxide_throttle_keeps_within_the_flood_limits_and_retries_after_429() {
    let sandbox = start(true).await;
    sandbox.writes(778, 778, "halo").await;
    sandbox.writes(779, 779, "halo").await;

    // The plain client meets the limit at the fourth message in a second.
    let bot = sandbox.bot();
    for i in 0..3 {
        bot.send_message(ChatId(778), format!("pesan {i}"))
            .await
            .unwrap();
    }
    let flooded = bot.send_message(ChatId(778), "pesan 3").await.unwrap_err();
    assert!(
        matches!(flooded, RequestError::RetryAfter(after) if after.seconds() >= 1),
        "{flooded:?}"
    );

    // The Throttle adaptor paces messages so none is refused.
    let throttled = sandbox.bot().throttle(Limits::default());
    for i in 0..5 {
        throttled
            .send_message(ChatId(779), format!("pesan {i}"))
            .await
            .unwrap();
    }
    assert_eq!(sandbox.sent(779).await.len(), 5);

    // After a 429 it waits `retry_after` and sends the same request again.
    let (status, _) = sandbox
        .control_post(
            "/sandbox/telegram/faults",
            json!({"method": "sendMessage", "status": 429, "retry_after": 1}),
        )
        .await;
    assert_eq!(status, 200);
    throttled
        .send_message(ChatId(STAFF_GROUP), "setelah jeda")
        .await
        .unwrap();
    let listing = sandbox.sent(STAFF_GROUP).await;
    assert_eq!(listing.len(), 1);
    assert_eq!(listing[0]["text"], "setelah jeda");
}
