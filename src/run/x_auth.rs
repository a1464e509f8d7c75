//! The bot's credentials for X: OAuth 1.0a from the environment (or the sandbox's stand-in
//! values), or OAuth 2.0 user context with its refreshing session over the database-kept
//! rotating refresh token; and `kicau x authorize`, which a person runs once for OAuth 2.0.

use std::time::Duration;

use serde_json::Value;

use crate::channels::x::oauth2;
use crate::config::SandboxMode;
use crate::store::Store;

/// Where OAuth 2.0 user context comes from, when the bot uses it: the client (id, secret, token
/// endpoint) and the page where a person authorizes it. The sandbox's client is in bot.toml
/// (`[sandbox] x_auth = "oauth2"`); X's comes from `KICAU_X_CLIENT_ID` and
/// `KICAU_X_CLIENT_SECRET`, which take precedence over the OAuth 1.0a variables.
pub fn oauth2_setup(
    config: &crate::Config,
    base: &str,
) -> anyhow::Result<Option<(crate::channels::x::oauth2::Client, String)>> {
    use crate::channels::x::oauth2::Client;
    let token_url = format!("{}/2/oauth2/token", base.trim_end_matches('/'));
    if config.sandbox.mode != SandboxMode::Off {
        if config.sandbox.x_auth != crate::config::XAuth::Oauth2 {
            return Ok(None);
        }
        let c = &config.sandbox;
        return Ok(Some((
            Client::new(&c.client_id, &c.client_secret, &token_url),
            format!("{}/i/oauth2/authorize", base.trim_end_matches('/')),
        )));
    }
    let Ok(client_id) = std::env::var("KICAU_X_CLIENT_ID") else {
        return Ok(None);
    };
    let client_secret = std::env::var("KICAU_X_CLIENT_SECRET").map_err(|_| {
        anyhow::anyhow!("KICAU_X_CLIENT_ID is set but KICAU_X_CLIENT_SECRET is not")
    })?;
    Ok(Some((
        Client::new(&client_id, &client_secret, &token_url),
        config.x.authorize_url.clone(),
    )))
}

/// How the bot authenticates to the X API at `base`, and a phrase saying so. With OAuth 2.0
/// against a sandbox that holds no token yet, the bot authorizes itself (the sandbox's account
/// holder always agrees); against X, a person runs `kicau x authorize` once.
pub async fn x_auth(
    config: &crate::Config,
    store: &Store,
    base: &str,
) -> anyhow::Result<(crate::channels::x::Auth, &'static str)> {
    use crate::channels::x::{Auth, authorize};
    use anyhow::Context as _;
    let account = &config.account.handle;
    if let Some((client, authorize_url)) = oauth2_setup(config, base)? {
        // An embedded sandbox starts empty with each process, so earlier tokens mean nothing.
        let fresh_sandbox = config.sandbox.mode == SandboxMode::Embedded;
        if fresh_sandbox || store.x_token(account).await?.is_none() {
            if config.sandbox.mode == SandboxMode::Off {
                anyhow::bail!(
                    "no OAuth 2.0 token for @{account} in the database: run `kicau x authorize` once"
                );
            }
            let pending =
                authorize::begin(&authorize_url, &client.client_id, &config.x.redirect_uri);
            let code = authorize::consent_in_sandbox(&pending)
                .await
                .context("authorizing against the sandbox")?;
            let token = pending.exchange(&client, &code).await?;
            store.put_x_token(account, &token.into()).await?;
            tracing::info!("authorized against the sandbox with OAuth 2.0");
        }
        let session = oauth2::Session::new(client, store.clone(), account);
        return Ok((
            Auth::OAuth2(std::sync::Arc::new(session)),
            "OAuth 2.0 user context",
        ));
    }
    if config.sandbox.mode != SandboxMode::Off {
        return Ok((
            Auth::OAuth1(sandbox_credentials(&config.sandbox)),
            "OAuth 1.0a",
        ));
    }
    let var = |name: &str| {
        std::env::var(name).with_context(|| {
            format!(
                "{name} is not set (mode = \"off\" needs X credentials: the four KICAU_X_* OAuth \
                 1.0a variables, or KICAU_X_CLIENT_ID and KICAU_X_CLIENT_SECRET)"
            )
        })
    };
    Ok((
        Auth::OAuth1(crate::channels::x::oauth1::Credentials {
            consumer_key: var("KICAU_X_CONSUMER_KEY")?,
            consumer_secret: var("KICAU_X_CONSUMER_SECRET")?,
            access_token: var("KICAU_X_ACCESS_TOKEN")?,
            access_secret: var("KICAU_X_ACCESS_SECRET")?,
        }),
        "OAuth 1.0a",
    ))
}

/// `kicau x authorize`: a person lets the bot act as the account with OAuth 2.0, once. Prints
/// the URL to open, waits at the redirect URI for the code, checks that the tokens belong to the
/// configured account, and stores them.
pub async fn authorize_x(
    config: &crate::Config,
    database_url: &str,
    redirect_uri: Option<String>,
    timeout: Duration,
) -> anyhow::Result<()> {
    use crate::channels::x::authorize;
    use anyhow::Context as _;
    let base = match config.sandbox.mode {
        SandboxMode::Embedded => anyhow::bail!(
            "with [sandbox] mode = \"embedded\", `kicau run` authorizes itself against its own \
             sandbox; `kicau x authorize` is for X (mode = \"off\") or an external sandbox"
        ),
        SandboxMode::External => config.sandbox.x_url.clone(),
        SandboxMode::Off => config.x.base_url.clone(),
    };
    let Some((client, authorize_url)) = oauth2_setup(config, &base)? else {
        anyhow::bail!(
            "OAuth 2.0 is not configured: set KICAU_X_CLIENT_ID and KICAU_X_CLIENT_SECRET \
             (mode = \"off\"), or [sandbox] x_auth = \"oauth2\" for the sandbox"
        );
    };
    let store = Store::connect(database_url)
        .await
        .with_context(|| format!("opening {}", crate::store::redact_url(database_url)))?;
    let redirect_uri = redirect_uri.unwrap_or_else(|| config.x.redirect_uri.clone());
    let (pending, callback) =
        authorize::begin_listening(&authorize_url, &client.client_id, &redirect_uri).await?;
    let handle = &config.account.handle;
    println!(
        "Open this address in a browser signed in to X as @{handle} and press \"Authorize app\":"
    );
    println!("{}", pending.url);
    println!(
        "Waiting at {} (registered as the app's callback URL) ...",
        pending.redirect_uri
    );
    let code = callback.code(timeout).await?;
    let token = pending.exchange(&client, &code).await?;
    let me: Value = reqwest::Client::new()
        .get(format!("{}/2/users/me", base.trim_end_matches('/')))
        .bearer_auth(&token.access_token)
        .send()
        .await
        .context("asking X whose token this is")?
        .json()
        .await
        .context("reading /2/users/me")?;
    let username = me["data"]["username"].as_str().unwrap_or_default();
    if !username.eq_ignore_ascii_case(handle) {
        anyhow::bail!(
            "the browser was signed in as @{username}, but bot.toml speaks for @{handle}: \
             nothing stored; sign in as @{handle} and run this again"
        );
    }
    store.put_x_token(handle, &token.clone().into()).await?;
    println!(
        "Authorized: @{username} (id {}). Tokens stored in {}; the access token is refreshed \
         automatically{}.",
        me["data"]["id"].as_str().unwrap_or_default(),
        crate::store::redact_url(database_url),
        if token.refresh_token.is_some() {
            ""
        } else {
            ", but X gave no refresh token: grant offline.access and authorize again"
        }
    );
    store.close().await;
    Ok(())
}

/// The credentials the bot signs with against the sandbox (its public stand-in values).
pub fn sandbox_credentials(
    c: &crate::config::SandboxConfig,
) -> crate::channels::x::oauth1::Credentials {
    crate::channels::x::oauth1::Credentials {
        consumer_key: c.consumer_key.clone(),
        consumer_secret: c.consumer_secret.clone(),
        access_token: c.access_token.clone(),
        access_secret: c.access_secret.clone(),
    }
}

/// The database keeps the account's OAuth 2.0 tokens for every instance (`store::tokens`).
impl oauth2::TokenStore for Store {
    fn load<'a>(&'a self, account: &'a str) -> oauth2::TokenFuture<'a, Option<oauth2::XToken>> {
        Box::pin(async move {
            let token = self.x_token(account).await.map_err(|e| e.to_string())?;
            Ok(token.map(oauth2::XToken::from))
        })
    }

    fn replace<'a>(
        &'a self,
        account: &'a str,
        token: &'a oauth2::XToken,
    ) -> oauth2::TokenFuture<'a, ()> {
        Box::pin(async move {
            let token = crate::store::XToken::from(token.clone());
            self.put_x_token(account, &token)
                .await
                .map_err(|e| e.to_string())
        })
    }

    fn rotate<'a>(
        &'a self,
        account: &'a str,
        used: &'a str,
        token: &'a oauth2::XToken,
    ) -> oauth2::TokenFuture<'a, bool> {
        Box::pin(async move {
            let token = crate::store::XToken::from(token.clone());
            self.rotate_x_token(account, used, &token)
                .await
                .map_err(|e| e.to_string())
        })
    }
}

impl From<crate::store::XToken> for oauth2::XToken {
    fn from(t: crate::store::XToken) -> oauth2::XToken {
        oauth2::XToken {
            access_token: t.access_token,
            access_expires_at: t.access_expires_at,
            refresh_token: t.refresh_token,
            scope: t.scope,
            updated_at: t.updated_at,
        }
    }
}

impl From<oauth2::XToken> for crate::store::XToken {
    fn from(t: oauth2::XToken) -> crate::store::XToken {
        crate::store::XToken {
            access_token: t.access_token,
            access_expires_at: t.access_expires_at,
            refresh_token: t.refresh_token,
            scope: t.scope,
            updated_at: t.updated_at,
        }
    }
}
