//! Photos, documents and albums on Telegram and images on WhatsApp, sent through the sandbox's
//! control endpoints as an agency would send them, and read and downloaded by the bot's
//! production clients (`TelegramClient` over teloxide, `WhatsAppClient` over reqwest), unchanged
//! but for their base URLs: the exact bytes come back, and unknown ids and wrong tokens fail as
//! the platforms fail them (docs/sandbox-media.md).

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use base64::Engine as _;
use kicau::channels::telegram::{Attachment, Incoming, TelegramClient, TelegramError};
use kicau::channels::whatsapp::{
    InboundContent, WhatsAppClient, WhatsAppError, inbound_messages, verified_messages,
};
use kicau::sandbox::{TelegramSandbox, TelegramSettings, WhatsAppSandbox, WhatsAppSettings};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

const TG_TOKEN: &str = "123456:sandbox-telegram-token";
/// An agency's group chat and one of its staff.
const AGENCY_CHAT: i64 = -1_002_000_000_001;
const AGENCY_MEMBER: i64 = 4242;

const WA_TOKEN: &str = "test-whatsapp-token";
const APP_SECRET: &str = "test-app-secret";
const PHONE_NUMBER_ID: &str = "106540352242922";
const AGENCY_NUMBER: &str = "6281200000005";

async fn serve(router: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// `n` bytes that look like nothing in particular (xorshift), so that a byte lost, added or
/// reordered anywhere shows.
fn noise(seed: u64, n: usize) -> Vec<u8> {
    let mut state = seed | 1;
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// A PNG header of the given size followed by `n` bytes of noise.
fn png(width: u32, height: u32, seed: u64, n: usize) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    bytes.extend(width.to_be_bytes());
    bytes.extend(height.to_be_bytes());
    bytes.extend([8, 2, 0, 0, 0]);
    bytes.extend(noise(seed, n));
    bytes
}

/// A JPEG whose frame header gives its size, followed by `n` bytes of noise.
fn jpeg(width: u16, height: u16, seed: u64, n: usize) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 0x08];
    bytes.extend(height.to_be_bytes());
    bytes.extend(width.to_be_bytes());
    bytes.extend([3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
    bytes.extend(noise(seed, n));
    bytes
}

/// The Telegram sandbox on ports of its own, and the production client pointed at it.
struct Telegram {
    api: String,
    control: String,
    http: reqwest::Client,
    client: TelegramClient,
}

async fn telegram() -> Telegram {
    let sandbox = TelegramSandbox::new(TelegramSettings {
        token: TG_TOKEN.into(),
        flood_limits: false,
        ..TelegramSettings::default()
    });
    let api = format!("http://{}", serve(sandbox.api_router()).await);
    let control = format!("http://{}", serve(sandbox.control_router()).await);
    let client = TelegramClient::new(TG_TOKEN, &api).unwrap();
    Telegram {
        api,
        control,
        http: reqwest::Client::new(),
        client,
    }
}

impl Telegram {
    /// `POST /sandbox/telegram/send` as the agency's member; answers the status and the body.
    async fn send(&self, mut body: Value) -> (u16, Value) {
        body["chat_id"] = json!(AGENCY_CHAT);
        body["from"] = json!({"id": AGENCY_MEMBER, "username": "humas_dlh"});
        let response = self
            .http
            .post(format!("{}/sandbox/telegram/send", self.control))
            .json(&body)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }

    async fn sent(&self, body: Value) -> Value {
        let (status, answer) = self.send(body).await;
        assert_eq!(status, 200, "{answer}");
        answer
    }

    /// What the client reads from getUpdates until `n` items came.
    async fn incoming(&self, n: usize) -> Vec<Incoming> {
        let mut offset = 0;
        let mut items = Vec::new();
        while items.len() < n {
            let (next, batch) = self
                .client
                .updates(offset, Duration::from_secs(5))
                .await
                .unwrap();
            assert!(next > offset || !batch.is_empty(), "no update came");
            offset = next;
            items.extend(batch);
        }
        assert_eq!(items.len(), n);
        items
    }
}

/// A media item's fields, for short assertions.
fn media(item: &Incoming) -> (i32, Option<&str>, Option<i32>, Option<&str>, &Attachment) {
    let Incoming::Media {
        chat_id,
        message_id,
        user_id,
        username,
        caption,
        reply_to,
        media_group_id,
        attachment,
    } = item
    else {
        panic!("a photo or a document: {item:?}");
    };
    assert_eq!(
        (*chat_id, *user_id, username.as_str()),
        (AGENCY_CHAT, AGENCY_MEMBER as u64, "humas_dlh")
    );
    (
        *message_id,
        caption.as_deref(),
        *reply_to,
        media_group_id.as_deref(),
        attachment,
    )
}

#[tokio::test]
async fn telegram_photos_documents_and_albums_download_byte_for_byte() {
    let tg = telegram().await;
    let asked = tg
        .client
        .send(AGENCY_CHAT, "Kirim pengumuman Anda di sini.", &[], None)
        .await
        .unwrap();

    // A photo with a caption, answering the bot: the client takes the largest size.
    let small = png(90, 68, 1, 2_000);
    let large = png(1280, 960, 2, 400_000);
    let photo = tg
        .sent(json!({
            "photo": [{"data": b64(&large)}, {"data": b64(&small)}],
            "caption": "Kerja bakti Minggu pagi",
            "reply_to_message_id": asked,
        }))
        .await;
    let sizes = &photo["messages"][0]["photo"];
    assert_eq!(
        sizes[0]["width"], 90,
        "smallest first, as on Telegram: {sizes}"
    );
    assert_eq!(sizes[1]["file_size"], large.len());

    // A document.
    let pdf = [b"%PDF-1.7\n".as_slice(), &noise(3, 1_500_000)].concat();
    tg.sent(json!({
        "document": {"data": b64(&pdf), "file_name": "Surat Edaran Banjir.pdf", "mime_type": "application/pdf"},
        "caption": "Surat edaran",
    }))
    .await;

    // An album of three photos: one caption, on the first.
    let album: Vec<Vec<u8>> = (0..3)
        .map(|i| jpeg(800 + i as u16, 600, 10 + i, 50_000 + i as usize))
        .collect();
    let group = tg
        .sent(json!({
            "media_group": album.iter().map(|b| json!({"photo": [{"data": b64(b)}]})).collect::<Vec<_>>(),
            "caption": "Dokumentasi posyandu",
        }))
        .await;
    assert_eq!(group["message_ids"].as_array().unwrap().len(), 3);

    let items = tg.incoming(5).await;
    let (id, caption, reply_to, group_id, attachment) = media(&items[0]);
    assert_eq!(
        (caption, reply_to, group_id),
        (Some("Kerja bakti Minggu pagi"), Some(asked), None)
    );
    assert_eq!(id, photo["message_id"]);
    let Attachment::Photo {
        width,
        height,
        file_size,
        ..
    } = attachment
    else {
        panic!("a photo: {attachment:?}");
    };
    assert_eq!(
        (*width, *height, *file_size),
        (1280, 960, Some(large.len() as u32))
    );
    let downloaded = tg.client.download(attachment.file_id()).await.unwrap();
    assert!(downloaded.bytes == large, "the photo's bytes, exactly");
    assert_eq!(downloaded.mime_type, "image/png");
    assert!(
        downloaded.file_path.starts_with("photos/file_") && downloaded.file_path.ends_with(".png"),
        "{}",
        downloaded.file_path
    );

    let (_, caption, reply_to, _, attachment) = media(&items[1]);
    assert_eq!((caption, reply_to), (Some("Surat edaran"), None));
    let Attachment::Document {
        file_name,
        mime_type,
        file_size,
        ..
    } = attachment
    else {
        panic!("a document: {attachment:?}");
    };
    assert_eq!(
        (file_name.as_deref(), mime_type.as_deref(), *file_size),
        (
            Some("Surat Edaran Banjir.pdf"),
            Some("application/pdf"),
            Some(pdf.len() as u32)
        )
    );
    let downloaded = tg.client.download(attachment.file_id()).await.unwrap();
    assert!(downloaded.bytes == pdf, "the document's bytes, exactly");
    assert_eq!(downloaded.mime_type, "application/pdf");
    assert!(downloaded.file_path.ends_with(".pdf"));
    assert_eq!(
        Some(downloaded.file_name.as_str()),
        downloaded.file_path.rsplit('/').next()
    );

    // The album: consecutive ids, one group id, the caption on the first only.
    let album_items: Vec<_> = items[2..].iter().map(media).collect();
    let first = album_items[0].0;
    let group_id = album_items[0].3.expect("a media_group_id");
    assert_eq!(group["media_group_id"], group_id);
    for (i, (id, caption, _, item_group, attachment)) in album_items.iter().enumerate() {
        assert_eq!(*id, first + i as i32);
        assert_eq!(*item_group, Some(group_id));
        assert_eq!(*caption, (i == 0).then_some("Dokumentasi posyandu"));
        let downloaded = tg.client.download(attachment.file_id()).await.unwrap();
        assert!(downloaded.bytes == album[i], "album item {i}, exactly");
        assert_eq!(downloaded.mime_type, "image/jpeg");
    }

    // Refusals: an unknown file id, a limit below the file, another bot's token.
    let refused = tg.client.download("sbx-photo-999999").await.unwrap_err();
    assert!(
        matches!(&refused, TelegramError::Rejected(e) if e.contains("invalid file_id")),
        "{refused:?}"
    );
    let pdf_id = media(&items[1]).4.file_id().to_owned();
    let refused = tg
        .client
        .download_at_most(&pdf_id, 1024 * 1024)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, TelegramError::TooLarge { size, limit: 1_048_576 } if size == pdf.len() as u64),
        "{refused:?}"
    );
    let stranger = TelegramClient::new("123456:not-the-token", &tg.api).unwrap();
    let refused = stranger.download(&pdf_id).await.unwrap_err();
    assert!(matches!(refused, TelegramError::Rejected(_)), "{refused:?}");
}

#[tokio::test]
async fn telegram_file_route_and_sends_refuse_as_documented() {
    let tg = telegram().await;
    let bytes = png(640, 480, 7, 1000);
    tg.sent(json!({"photo": [{"data": b64(&bytes)}]})).await;
    let items = tg.incoming(1).await;
    let (_, caption, _, _, attachment) = media(&items[0]);
    assert_eq!(caption, None);
    let file_id = attachment.file_id().to_owned();

    // getFile, then the route by hand: the path with its slash as teloxide escapes it and as
    // people type it, another token, a path no getFile gave.
    let file: Value = tg
        .http
        .get(format!(
            "{}/bot{TG_TOKEN}/getFile?file_id={file_id}",
            tg.api
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(file["ok"], true, "{file}");
    let path = file["result"]["file_path"].as_str().unwrap().to_owned();
    assert_eq!(file["result"]["file_size"], bytes.len());
    for url in [
        format!("{}/file/bot{TG_TOKEN}/{path}", tg.api),
        format!("{}/file/bot{TG_TOKEN}/{}", tg.api, path.replace('/', "%2F")),
    ] {
        let response = tg.http.get(&url).send().await.unwrap();
        assert_eq!(response.status(), 200, "{url}");
        assert_eq!(response.headers()["content-type"], "image/png");
        assert!(response.bytes().await.unwrap() == bytes);
    }
    let get = |url: String| {
        let http = tg.http.clone();
        async move {
            let response = http.get(url).send().await.unwrap();
            (
                response.status().as_u16(),
                response.json::<Value>().await.unwrap(),
            )
        }
    };
    let (status, body) = get(format!("{}/file/bot123456:wrong/{path}", tg.api)).await;
    assert_eq!(
        (status, body),
        (
            401,
            json!({"ok": false, "error_code": 401, "description": "Unauthorized"})
        )
    );
    let (status, body) = get(format!("{}/file/bot{TG_TOKEN}/photos/file_0.png", tg.api)).await;
    assert_eq!(
        (status, body["description"].as_str()),
        (404, Some("Not Found"))
    );

    // What the control endpoint refuses.
    let one = json!({"photo": [{"data": b64(&bytes)}]});
    for (body, expected) in [
        (
            json!({"media_group": [one.clone()]}),
            "media_group must have 2 to 10 items",
        ),
        (
            json!({"media_group": [one, {"document": {"data": b64(b"%PDF-1.7")}}]}),
            "photos only or documents only",
        ),
        (
            json!({"text": "halo", "photo": [{"data": b64(&bytes)}]}),
            "exactly one of",
        ),
        (
            json!({"text": "halo", "caption": "x"}),
            "a caption goes with",
        ),
        (
            json!({"photo": [{"data": b64(b"not an image")}]}),
            "width and height",
        ),
        (
            json!({"photo": [{"data": b64(&bytes)}], "caption": "a".repeat(1025)}),
            "caption must have at most 1024",
        ),
        (json!({"photo": [{"data": "%%%"}]}), "not base64"),
    ] {
        let (status, answer) = tg.send(body).await;
        assert_eq!(status, 400, "{answer}");
        let error = answer["error"].as_str().unwrap();
        assert!(
            error.contains(expected),
            "{error:?} should say {expected:?}"
        );
    }
}

/// What the bot's webhook endpoint received: the raw body and its signature header.
type Delivery = (Vec<u8>, Option<String>);

async fn receive(
    State(deliveries): State<mpsc::UnboundedSender<Delivery>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let signature = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let _ = deliveries.send((body.to_vec(), signature));
    StatusCode::OK
}

/// The WhatsApp sandbox, a stand-in for the bot's webhook endpoint, and the production client.
struct WhatsApp {
    api: String,
    control: String,
    http: reqwest::Client,
    received: mpsc::UnboundedReceiver<Delivery>,
    client: WhatsAppClient,
}

async fn whatsapp() -> WhatsApp {
    let sandbox = WhatsAppSandbox::new(WhatsAppSettings {
        access_token: WA_TOKEN.into(),
        app_secret: APP_SECRET.into(),
        ..WhatsAppSettings::default()
    });
    let api = format!("http://{}", serve(sandbox.api_router()).await);
    let control = format!("http://{}", serve(sandbox.control_router()).await);
    let (deliveries, received) = mpsc::unbounded_channel();
    let endpoint = axum::Router::new()
        .route("/webhooks/whatsapp", axum::routing::post(receive))
        .with_state(deliveries);
    let endpoint = serve(endpoint).await;
    sandbox.set_webhook_url(format!("http://{endpoint}/webhooks/whatsapp"));
    let client = WhatsAppClient::new(&api, "v23.0", PHONE_NUMBER_ID, WA_TOKEN);
    WhatsApp {
        api,
        control,
        http: reqwest::Client::new(),
        received,
        client,
    }
}

impl WhatsApp {
    /// The agency answers through `POST /sandbox/whatsapp/reply`; the status and the body.
    async fn reply(&self, mut body: Value) -> (u16, Value) {
        body["from"] = json!(AGENCY_NUMBER);
        let response = self
            .http
            .post(format!("{}/sandbox/whatsapp/reply", self.control))
            .json(&body)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }

    async fn delivery(&mut self) -> Delivery {
        tokio::time::timeout(Duration::from_secs(10), self.received.recv())
            .await
            .expect("a webhook arrives")
            .unwrap()
    }
}

#[tokio::test]
async fn whatsapp_images_reach_the_client_signed_and_download_byte_for_byte() {
    let mut wa = whatsapp().await;
    let image = jpeg(1600, 1200, 21, 900_000);
    let (status, answer) = wa
        .reply(json!({"image": {"data": b64(&image), "mime_type": "image/jpeg", "caption": "Jadwal pemadaman air"}}))
        .await;
    assert_eq!(
        (status, answer["delivered"].as_bool()),
        (200, Some(true)),
        "{answer}"
    );
    let (raw, signature) = wa.delivery().await;

    // The production reader checks the signature, then reads the image.
    let messages = verified_messages(APP_SECRET, &raw, signature.as_deref()).unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].id, answer["message_id"]);
    assert_eq!(messages[0].from.as_deref(), Some(AGENCY_NUMBER));
    let InboundContent::Image(media) = &messages[0].content else {
        panic!("an image: {:?}", messages[0]);
    };
    let sha256 = b64(&Sha256::digest(&image));
    assert_eq!(media.mime_type, "image/jpeg");
    assert_eq!(media.caption.as_deref(), Some("Jadwal pemadaman air"));
    assert_eq!(media.sha256, sha256);
    assert!(matches!(
        verified_messages("another-secret", &raw, signature.as_deref()),
        Err(WhatsAppError::Unauthorized(_))
    ));

    // Two requests: the URL (the sandbox's own), then the bytes.
    let info = wa.client.media_info(&media.id).await.unwrap();
    assert!(info.url.starts_with(&wa.api), "{}", info.url);
    assert_eq!(
        (info.file_size, info.sha256.as_str()),
        (Some(image.len() as u64), sha256.as_str())
    );
    let downloaded = wa.client.download_media(&media.id).await.unwrap();
    assert!(downloaded.bytes == image, "the image's bytes, exactly");
    assert_eq!(
        (downloaded.mime_type.as_str(), downloaded.sha256.as_str()),
        ("image/jpeg", sha256.as_str())
    );

    // Text still reads beside images.
    let (status, _) = wa.reply(json!({"text": "Sudah kami kirim"})).await;
    assert_eq!(status, 200);
    let (raw, _) = wa.delivery().await;
    let body: Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(
        inbound_messages(&body)[0].content,
        InboundContent::Text {
            body: "Sudah kami kirim".into()
        }
    );

    // Refusals through the client: an unknown media id, a wrong token, a limit below the size.
    let refused = wa
        .client
        .download_media("1000000000000001")
        .await
        .unwrap_err();
    assert!(
        matches!(&refused, WhatsAppError::Rejected(e) if e.contains("(100)") && e.contains("Unsupported get request")),
        "{refused:?}"
    );
    let stranger = WhatsAppClient::new(&wa.api, "v23.0", PHONE_NUMBER_ID, "wrong-token");
    let refused = stranger.download_media(&media.id).await.unwrap_err();
    assert!(
        matches!(&refused, WhatsAppError::Unauthorized(e) if e.contains("(190)")),
        "{refused:?}"
    );
    let refused = wa
        .client
        .download_media_at_most(&media.id, 1000)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, WhatsAppError::TooLarge { size, limit: 1000 } if size == image.len() as u64),
        "{refused:?}"
    );

    // The media URL by hand: no token or a wrong one gets Graph's 401, an altered URL 404.
    let get = |token: Option<&str>, url: &str| {
        let mut request = wa.http.get(url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move {
            let response = request.send().await.unwrap();
            (
                response.status().as_u16(),
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    for token in [None, Some("wrong-token")] {
        let (status, body) = get(token, &info.url).await;
        assert_eq!(status, 401, "{body}");
        assert_eq!(body["error"]["code"], 190, "{body}");
        assert_eq!(body["error"]["type"], "OAuthException", "{body}");
    }
    let altered = info.url.replace("&hash=", "&hash=x");
    let (status, body) = get(Some(WA_TOKEN), &altered).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (404, &json!(100)),
        "{body}"
    );
    let (status, body) = get(None, &format!("{}/v23.0/{}", wa.api, media.id)).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (401, &json!(190)),
        "{body}"
    );

    // What the control endpoint refuses.
    for (image, expected) in [
        (
            json!({"data": b64(&image), "mime_type": "image/png"}),
            "is not a image/png",
        ),
        (
            json!({"data": b64(&image), "mime_type": "image/gif"}),
            "must be one of",
        ),
        (
            json!({"data": b64(&[0xFF, 0xD8, 0xFF]), "mime_type": "image/jpeg", "caption": "a".repeat(1025)}),
            "caption",
        ),
    ] {
        let (status, answer) = wa.reply(json!({"image": image})).await;
        assert_eq!(status, 400, "{answer}");
        let error = answer["error"].as_str().unwrap();
        assert!(
            error.contains(expected),
            "{error:?} should say {expected:?}"
        );
    }
}
