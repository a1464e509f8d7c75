/*!
Local stand-ins for X, Telegram and WhatsApp that speak their published wire formats, so the
bot's production clients run unchanged against them in demos, training and every test. See
../shared/SANDBOX.md. State lives in memory.

x.rs is the X API (with x_media.rs, its media upload, x_billing.rs, its pay-per-use counters,
and x_fields.rs, its field vocabularies), telegram/ the Telegram Bot API and whatsapp/ the
WhatsApp Cloud API, each with its control endpoints; control.rs holds what those control
endpoints share (reset, fault injection, JSON bodies and answers) and common.rs the small
helpers the stand-ins share. This module starts them: the X port also carries every control
endpoint.

The sandbox knows nothing of the bot: it uses no module of the crate outside this folder.
*/

mod common;
mod control;
pub mod telegram;
pub mod whatsapp;
pub mod x;
mod x_billing;
mod x_fields;
mod x_media;

use std::net::SocketAddr;

use axum::Router;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use telegram::{TelegramSandbox, TelegramSettings};
pub use whatsapp::{WhatsAppSandbox, WhatsAppSettings};
pub use x::{XSandbox, XSettings};

/// A running sandbox: the X API (with every control endpoint) and, when asked for, the
/// Telegram Bot API and the WhatsApp Cloud API, each on a port of its own.
pub struct Running {
    pub addr: SocketAddr,
    pub x: XSandbox,
    /// The Telegram stand-in and its address, when it runs.
    pub telegram: Option<(TelegramSandbox, SocketAddr)>,
    /// The WhatsApp stand-in and its address, when it runs.
    pub whatsapp: Option<(WhatsAppSandbox, SocketAddr)>,
    handles: Vec<JoinHandle<()>>,
}

impl Running {
    /// The base URL of the X API, e.g. `http://127.0.0.1:8090`.
    pub fn x_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The base URL of the Telegram Bot API, e.g. `http://127.0.0.1:8091`.
    pub fn telegram_url(&self) -> Option<String> {
        self.telegram
            .as_ref()
            .map(|(_, addr)| format!("http://{addr}"))
    }

    /// The base URL of the WhatsApp Cloud API, e.g. `http://127.0.0.1:8092`.
    pub fn whatsapp_url(&self) -> Option<String> {
        self.whatsapp
            .as_ref()
            .map(|(_, addr)| format!("http://{addr}"))
    }

    /// Stops the servers.
    pub fn stop(self) {
        for handle in self.handles {
            handle.abort();
        }
    }
}

/// Binds the X sandbox to `addr` (port 0 picks a free one) and serves it in the background.
pub async fn serve_x(settings: XSettings, addr: SocketAddr) -> std::io::Result<Running> {
    serve(settings, addr, None, None).await
}

/// Binds the X sandbox to `x_addr` and, if given, the Telegram and WhatsApp sandboxes to their
/// addresses; their control endpoints join the X port, as SANDBOX.md lays out.
pub async fn serve(
    settings: XSettings,
    x_addr: SocketAddr,
    telegram: Option<(TelegramSettings, SocketAddr)>,
    whatsapp: Option<(WhatsAppSettings, SocketAddr)>,
) -> std::io::Result<Running> {
    let (listener, addr) = bind(x_addr).await?;
    let x = XSandbox::new(settings);
    let mut router = x.router();
    let mut handles = Vec::new();
    let mut running_telegram = None;
    if let Some((tg_settings, tg_addr)) = telegram {
        let (tg_listener, tg_addr) = bind(tg_addr).await?;
        let tg = TelegramSandbox::new(tg_settings);
        router = router.merge(tg.control_router());
        handles.push(spawn(tg_listener, tg.api_router(), "Telegram"));
        running_telegram = Some((tg, tg_addr));
    }
    let mut running_whatsapp = None;
    if let Some((wa_settings, wa_addr)) = whatsapp {
        let (wa_listener, wa_addr) = bind(wa_addr).await?;
        let wa = WhatsAppSandbox::new(wa_settings);
        router = router.merge(wa.control_router());
        handles.push(spawn(wa_listener, wa.api_router(), "WhatsApp"));
        running_whatsapp = Some((wa, wa_addr));
    }
    handles.push(spawn(listener, router, "X"));
    Ok(Running {
        addr,
        x,
        telegram: running_telegram,
        whatsapp: running_whatsapp,
        handles,
    })
}

/// Binds `addr`, answering the listener and the address it got (port 0 picks a free one).
async fn bind(addr: SocketAddr) -> std::io::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    Ok((listener, addr))
}

/// Serves `router` in the background; `name` says in the log which stand-in stopped.
fn spawn(listener: TcpListener, router: Router, name: &'static str) -> JoinHandle<()> {
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!(error = %e, "{name} sandbox stopped");
        }
    })
}
