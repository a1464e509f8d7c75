//! The sandbox's settings from bot.toml, and `kicau sandbox`, which runs the stand-ins for X,
//! Telegram and WhatsApp alone (tests kill and restart the bot while it stays up).

use std::time::Duration;

use tokio::sync::watch;

/// The X sandbox's settings from `bot.toml`.
pub fn sandbox_settings(config: &crate::Config) -> crate::sandbox::XSettings {
    let c = &config.sandbox;
    crate::sandbox::XSettings {
        account: config.account.handle.clone(),
        account_name: config.account.display_name.clone(),
        consumer_key: c.consumer_key.clone(),
        consumer_secret: c.consumer_secret.clone(),
        access_token: c.access_token.clone(),
        access_secret: c.access_secret.clone(),
        rate_limit: c.rate_limit,
        rate_window: Duration::from_secs(c.rate_window_secs),
        realistic: c.rate_profile == crate::config::RateProfile::Realistic,
        client_id: c.client_id.clone(),
        client_secret: c.client_secret.clone(),
        token_ttl: Duration::from_secs(c.oauth2_token_ttl_secs),
        strict: c.strict,
    }
}

/// The Telegram sandbox's settings and address from `bot.toml`.
pub(super) fn telegram_sandbox(
    config: &crate::Config,
) -> anyhow::Result<(crate::sandbox::TelegramSettings, std::net::SocketAddr)> {
    use anyhow::Context as _;
    let c = &config.sandbox;
    let addr = c
        .telegram_listen
        .parse()
        .with_context(|| format!("[sandbox] telegram_listen = {:?}", c.telegram_listen))?;
    Ok((
        crate::sandbox::TelegramSettings {
            token: c.telegram_token.clone(),
            flood_limits: c.telegram_flood_limits,
            ..Default::default()
        },
        addr,
    ))
}

/// The WhatsApp sandbox's settings and address from `bot.toml`.
pub(super) fn whatsapp_sandbox(
    config: &crate::Config,
) -> anyhow::Result<(crate::sandbox::WhatsAppSettings, std::net::SocketAddr)> {
    use anyhow::Context as _;
    let c = &config.sandbox;
    let addr = c
        .whatsapp_listen
        .parse()
        .with_context(|| format!("[sandbox] whatsapp_listen = {:?}", c.whatsapp_listen))?;
    Ok((
        crate::sandbox::WhatsAppSettings {
            access_token: c.whatsapp_token.clone(),
            app_secret: c.whatsapp_app_secret.clone(),
            phone_number_id: config.whatsapp.phone_number_id.clone(),
            webhook_url: c.whatsapp_webhook_url.clone(),
            templates: vec![config.whatsapp.ticket_template.clone()],
            api_version: config.whatsapp.api_version.clone(),
            ..Default::default()
        },
        addr,
    ))
}

/// `kicau sandbox`: the X sandbox alone, until `shutdown`.
pub async fn run_sandbox(
    config: crate::Config,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let c = &config.sandbox;
    let addr = c
        .x_listen
        .parse()
        .with_context(|| format!("[sandbox] x_listen = {:?}", c.x_listen))?;
    let settings = sandbox_settings(&config);
    let running = crate::sandbox::serve(
        settings,
        addr,
        Some(telegram_sandbox(&config)?),
        Some(whatsapp_sandbox(&config)?),
    )
    .await
    .with_context(|| format!("starting the sandbox on {addr}"))?;
    println!(
        "X sandbox for @{} at {}",
        config.account.handle,
        running.x_url()
    );
    if let Some(url) = running.telegram_url() {
        println!("Telegram sandbox at {url}");
    }
    if let Some(url) = running.whatsapp_url() {
        println!("WhatsApp sandbox at {url}");
    }
    println!("Control endpoints: {}/sandbox", running.x_url());
    while !*shutdown.borrow() {
        if shutdown.changed().await.is_err() {
            break;
        }
    }
    running.stop();
    Ok(())
}
