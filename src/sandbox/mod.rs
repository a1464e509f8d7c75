/*!
Local stand-ins for X (and, later, Telegram and WhatsApp) that speak their published wire formats,
so the bot's production clients run unchanged against them in demos, training and every test.
See ../shared/SANDBOX.md. State lives in memory.
*/

pub mod telegram;
pub mod x;

use std::net::SocketAddr;

pub use telegram::{TelegramSandbox, TelegramSettings};
pub use x::{XSandbox, XSettings};

/// A running sandbox server.
pub struct Running {
    pub addr: SocketAddr,
    pub x: XSandbox,
    handle: tokio::task::JoinHandle<()>,
}

impl Running {
    /// The base URL of the X API, e.g. `http://127.0.0.1:8090`.
    pub fn x_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the server.
    pub fn stop(self) {
        self.handle.abort();
    }
}

/// Binds the X sandbox to `addr` (port 0 picks a free one) and serves it in the background.
pub async fn serve_x(settings: XSettings, addr: SocketAddr) -> std::io::Result<Running> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let x = XSandbox::new(settings);
    let router = x.router();
    let handle = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!(error = %e, "X sandbox stopped");
        }
    });
    Ok(Running { addr, x, handle })
}
