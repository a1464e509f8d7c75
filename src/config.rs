/*!
The deployment's settings: `bot.toml`.

The file names the account, the knowledge directory, the triage thresholds and the agencies that
receive reports. Unknown keys are errors that name the key, so a typo never silently falls back to
a default. Secrets never live here: they come from the environment (see SANDBOX.md).
*/

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;

mod announce;
mod costs;
pub use announce::AnnounceConfig;
pub use costs::{AtBudget, CostsConfig};

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: cannot read the configuration")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML, or has an unknown or missing key.
    #[error("{path}:{line}: {message}")]
    Syntax {
        path: PathBuf,
        line: usize,
        message: String,
    },
    /// The values are well-formed but do not make sense together.
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// The whole of `bot.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub account: Account,
    pub knowledge: KnowledgeConfig,
    pub triage: Thresholds,
    #[serde(default)]
    pub store: StoreConfig,
    #[serde(default)]
    pub x: XConfig,
    #[serde(default)]
    pub sandbox: SandboxConfig,
    #[serde(default)]
    pub console: ConsoleConfig,
    #[serde(default)]
    pub privacy: PrivacyConfig,
    #[serde(default)]
    pub desk: DeskConfig,
    #[serde(default)]
    pub telegram: TelegramConfig,
    #[serde(default)]
    pub sla: SlaConfig,
    #[serde(default)]
    pub whatsapp: WhatsAppConfig,
    #[serde(default)]
    pub tickets: TicketsConfig,
    #[serde(default)]
    pub report: ReportConfig,
    #[serde(default)]
    pub costs: CostsConfig,
    #[serde(default)]
    pub announce: AnnounceConfig,
    #[serde(rename = "agency")]
    pub agencies: Vec<Agency>,
}

/// How long citizens' data is kept (UU PDP 27/2022: no longer than needed).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrivacyConfig {
    /// Days after a conversation and every ticket born from it closed before its texts and the
    /// citizen's handle are removed (the counts stay); also how long delivered messages'
    /// payloads, dead letters' payloads and the live events are kept.
    pub retention_days: i64,
}

impl Default for PrivacyConfig {
    fn default() -> Self {
        PrivacyConfig { retention_days: 90 }
    }
}

/// The staff console (and its JSON API and webhooks).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleConfig {
    /// Where it listens, e.g. "127.0.0.1:8080"; an empty string turns it off.
    pub listen: String,
    /// Mark the session cookie `Secure` (behind HTTPS, as in production).
    #[serde(default)]
    pub secure_cookies: bool,
    /// Reverse proxies in front of the console: for connections from them, the client's
    /// address (counted by the login guard) is read from `X-Forwarded-For`.
    #[serde(default)]
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        ConsoleConfig {
            listen: "127.0.0.1:8080".into(),
            secure_cookies: false,
            trusted_proxies: Vec::new(),
        }
    }
}

/// The Telegram staff group (optional). The bot token comes from `KICAU_TELEGRAM_TOKEN` with the
/// real service, or from `[sandbox] telegram_token`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelegramConfig {
    /// The staff group's chat id (negative for groups); absent: no staff group.
    pub staff_chat_id: Option<i64>,
    /// A command centre's chat (e.g. Malang's 112 centre) that also gets every emergency.
    pub command_centre_chat_id: Option<i64>,
    /// The real Bot API, used when `[sandbox] mode = "off"`.
    #[serde(default = "default_telegram_api")]
    pub api_url: String,
}

fn default_telegram_api() -> String {
    "https://api.telegram.org".into()
}

/// The WhatsApp business number that sends tickets to agencies using WhatsApp. The access token,
/// app secret and verify token come from `KICAU_WHATSAPP_*` with the real service, or from
/// `[sandbox]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WhatsAppConfig {
    /// The Graph API (used when `[sandbox] mode = "off"`).
    pub api_url: String,
    pub api_version: String,
    /// The business number's id (not a secret).
    pub phone_number_id: String,
    /// The approved template that carries a new ticket outside the 24-hour window.
    pub ticket_template: String,
    pub template_language: String,
}

impl Default for WhatsAppConfig {
    fn default() -> Self {
        WhatsAppConfig {
            api_url: "https://graph.facebook.com".into(),
            api_version: "v23.0".into(),
            phone_number_id: "106540352242922".into(),
            ticket_template: "kicau_tiket_baru".into(),
            template_language: "id".into(),
        }
    }
}

/// Ticket deadlines (DESIGN.md, "Deadlines the city already knows"), in working days.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaConfig {
    /// Acknowledgement, for every agency unless it says otherwise.
    pub acknowledge_days: u32,
    /// Resolution, for an agency that names none.
    pub resolve_days: u32,
    /// Per category (the ticket's category, e.g. a knowledge-base topic), overriding the agency.
    #[serde(default)]
    pub category_resolve_days: std::collections::BTreeMap<String, u32>,
    /// The share of the time to a deadline after which the agency is reminded.
    pub remind_at: f64,
    /// Working days without acknowledgement after which staff are asked for a warning letter.
    #[serde(default = "default_warning_days")]
    pub warning_letter_days: u32,
    /// Days off besides weekends, "YYYY-MM-DD".
    #[serde(default)]
    pub holidays: Vec<String>,
}

impl Default for SlaConfig {
    fn default() -> Self {
        SlaConfig {
            acknowledge_days: 3,
            resolve_days: 14,
            category_resolve_days: Default::default(),
            remind_at: 0.75,
            warning_letter_days: default_warning_days(),
            holidays: Vec::new(),
        }
    }
}

fn default_warning_days() -> u32 {
    10
}

/// How tickets treat what agencies write.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketsConfig {
    /// Hold an agency's note on a ticket for staff approval before it reaches the citizen
    /// (an agency may say otherwise with its own `approve_notes`).
    #[serde(default)]
    pub approve_notes: bool,
}

/// The office lead's weekly summary, posted to the Telegram staff group.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportConfig {
    /// Post the past week's summary (the console's "Ringkasan") to the staff group.
    pub weekly: bool,
    /// On this day, at `weekly_hour` o'clock WIB.
    pub weekly_day: Day,
    pub weekly_hour: u8,
}

impl Default for ReportConfig {
    fn default() -> Self {
        ReportConfig {
            weekly: true,
            weekly_day: Day::Monday,
            weekly_hour: 8,
        }
    }
}

/// A day of the week, as bot.toml spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Day {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl Day {
    pub fn weekday(self) -> time::Weekday {
        match self {
            Day::Monday => time::Weekday::Monday,
            Day::Tuesday => time::Weekday::Tuesday,
            Day::Wednesday => time::Weekday::Wednesday,
            Day::Thursday => time::Weekday::Thursday,
            Day::Friday => time::Weekday::Friday,
            Day::Saturday => time::Weekday::Saturday,
            Day::Sunday => time::Weekday::Sunday,
        }
    }
}

/// How the desk treats hand-offs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeskConfig {
    /// A hand-off nobody claimed is announced again after this many seconds.
    pub reannounce_after_secs: u64,
    /// The most tweets one staff reply may become; a longer reply is refused before it is
    /// queued (422 in the API). Default 10 (`tweet::DEFAULT_MAX_PARTS`).
    pub max_thread_parts: usize,
    /// A waiting conversation should be taken within this many minutes (the queue's timer).
    pub respond_within_mins: u32,
    /// The same for an emergency.
    pub respond_urgent_within_mins: u32,
}

impl Default for DeskConfig {
    fn default() -> Self {
        DeskConfig {
            reannounce_after_secs: 600,
            max_thread_parts: 10,
            respond_within_mins: 60,
            respond_urgent_within_mins: 5,
        }
    }
}

/// Where Kicau keeps its state.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// `sqlite://PATH` (relative to the working folder) or `postgres://...`; overridden by
    /// `--database-url` or `KICAU_DATABASE_URL`.
    pub database_url: String,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            database_url: "sqlite://data/kicau.db".into(),
        }
    }
}

/// The X API as the bot uses it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct XConfig {
    /// The real API, used when `[sandbox] mode = "off"`.
    pub base_url: String,
    /// How often the listener asks for new mentions, in milliseconds.
    pub poll_interval_ms: u64,
    /// OAuth 2.0 (when `KICAU_X_CLIENT_ID` is set): the page where a person authorizes the app.
    #[serde(default = "default_authorize_url")]
    pub authorize_url: String,
    /// OAuth 2.0: where X sends the person back; `kicau x authorize` listens there. It must be
    /// registered, exactly, as a callback URL of the app in X's developer portal.
    #[serde(default = "default_redirect_uri")]
    pub redirect_uri: String,
    /// Whether knowledge answers keep their links (X bills a post with a URL twenty times a
    /// reply without one).
    #[serde(default)]
    pub links_in_replies: LinksInReplies,
}

/// What happens to the links in a knowledge answer (`[x] links_in_replies`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinksInReplies {
    /// The answer goes out as written.
    Always,
    /// Every link becomes the name of its channel (`knowledge/links.tsv`).
    Never,
    /// The links stay when the citizen's tweet asks for one, else as `Never`.
    #[default]
    OnRequest,
}

fn default_authorize_url() -> String {
    "https://x.com/i/oauth2/authorize".into()
}

fn default_redirect_uri() -> String {
    "http://127.0.0.1:8085/callback".into()
}

impl Default for XConfig {
    fn default() -> Self {
        XConfig {
            base_url: "https://api.x.com".into(),
            poll_interval_ms: 2000,
            authorize_url: default_authorize_url(),
            redirect_uri: default_redirect_uri(),
            links_in_replies: LinksInReplies::default(),
        }
    }
}

/// Which services the bot talks to: the sandbox inside the process, a sandbox run apart
/// (`kicau sandbox`), or the real services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SandboxMode {
    Embedded,
    External,
    Off,
}

/// The sandbox's addresses, its public stand-in credentials and its limits (SANDBOX.md).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SandboxConfig {
    pub mode: SandboxMode,
    /// Where the X sandbox listens (embedded and `kicau sandbox`), e.g. "127.0.0.1:8090".
    pub x_listen: String,
    /// Where the bot finds an external X sandbox.
    pub x_url: String,
    pub consumer_key: String,
    pub consumer_secret: String,
    pub access_token: String,
    pub access_secret: String,
    /// How the bot authenticates to the sandbox: `oauth1` (signed requests) or `oauth2` (bearer
    /// tokens from `kicau x authorize`, refreshed with the rotating refresh token).
    #[serde(default)]
    pub x_auth: XAuth,
    /// The sandbox's OAuth 2.0 client (public stand-in values).
    #[serde(default = "default_client_id")]
    pub client_id: String,
    #[serde(default = "default_client_secret")]
    pub client_secret: String,
    /// How long the sandbox's OAuth 2.0 access tokens live (X: two hours).
    #[serde(default = "default_token_ttl")]
    pub oauth2_token_ttl_secs: u64,
    /// Where the Telegram sandbox listens (embedded and `kicau sandbox`).
    #[serde(default = "default_telegram_listen")]
    pub telegram_listen: String,
    /// Where the bot finds an external Telegram sandbox.
    #[serde(default = "default_telegram_url")]
    pub telegram_url: String,
    /// The sandbox's bot token (a public stand-in value).
    #[serde(default = "default_telegram_token")]
    pub telegram_token: String,
    /// Whether the Telegram sandbox enforces Telegram's flood limits.
    #[serde(default = "yes")]
    pub telegram_flood_limits: bool,
    /// Where the WhatsApp sandbox listens, and where the bot finds an external one.
    #[serde(default = "default_whatsapp_listen")]
    pub whatsapp_listen: String,
    #[serde(default = "default_whatsapp_url")]
    pub whatsapp_url: String,
    /// The WhatsApp sandbox's public stand-in secrets.
    #[serde(default = "default_whatsapp_token")]
    pub whatsapp_token: String,
    #[serde(default = "default_whatsapp_app_secret")]
    pub whatsapp_app_secret: String,
    #[serde(default = "default_whatsapp_verify_token")]
    pub whatsapp_verify_token: String,
    /// Where the WhatsApp sandbox posts its webhooks: the console's `/webhooks/whatsapp`.
    #[serde(default = "default_whatsapp_webhook")]
    pub whatsapp_webhook_url: String,
    /// `generous` (limits below) or `realistic` (X's published per-user limits).
    #[serde(default)]
    pub rate_profile: RateProfile,
    /// Requests per endpoint and caller in each window (generous by default; X's are lower).
    pub rate_limit: u32,
    pub rate_window_secs: u64,
    /// As on X, a bearer token the sandbox did not issue gets 401 (otherwise it reads as an
    /// app's token, for people trying the sandbox with curl). The tests run strict.
    #[serde(default)]
    pub strict: bool,
}

/// Which user-context authentication the bot uses against the sandbox.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum XAuth {
    #[default]
    Oauth1,
    Oauth2,
}

fn default_telegram_listen() -> String {
    "127.0.0.1:8091".into()
}

fn default_telegram_url() -> String {
    "http://127.0.0.1:8091".into()
}

fn default_telegram_token() -> String {
    "123456:sandbox-telegram-token".into()
}

fn default_whatsapp_listen() -> String {
    "127.0.0.1:8092".into()
}

fn default_whatsapp_url() -> String {
    "http://127.0.0.1:8092".into()
}

fn default_whatsapp_token() -> String {
    "sandbox-whatsapp-token".into()
}

fn default_whatsapp_app_secret() -> String {
    "sandbox-app-secret".into()
}

fn default_whatsapp_verify_token() -> String {
    "sandbox-verify-token".into()
}

fn default_whatsapp_webhook() -> String {
    "http://127.0.0.1:8080/webhooks/whatsapp".into()
}

fn default_client_id() -> String {
    "sandbox-client-id".into()
}

fn default_client_secret() -> String {
    "sandbox-client-secret".into()
}

fn default_token_ttl() -> u64 {
    7200
}

/// How strict the sandbox's rate limits are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RateProfile {
    #[default]
    Generous,
    Realistic,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            mode: SandboxMode::Embedded,
            x_listen: "127.0.0.1:8090".into(),
            x_url: "http://127.0.0.1:8090".into(),
            consumer_key: "sandbox-consumer-key".into(),
            consumer_secret: "sandbox-consumer-secret".into(),
            access_token: "sandbox-access-token".into(),
            access_secret: "sandbox-access-secret".into(),
            telegram_listen: default_telegram_listen(),
            telegram_url: default_telegram_url(),
            telegram_token: default_telegram_token(),
            telegram_flood_limits: true,
            whatsapp_listen: default_whatsapp_listen(),
            whatsapp_url: default_whatsapp_url(),
            whatsapp_token: default_whatsapp_token(),
            whatsapp_app_secret: default_whatsapp_app_secret(),
            whatsapp_verify_token: default_whatsapp_verify_token(),
            whatsapp_webhook_url: default_whatsapp_webhook(),
            x_auth: XAuth::Oauth1,
            client_id: default_client_id(),
            client_secret: default_client_secret(),
            oauth2_token_ttl_secs: default_token_ttl(),
            rate_profile: RateProfile::Generous,
            rate_limit: 100_000,
            rate_window_secs: 900,
            strict: false,
        }
    }
}

/// The X account Kicau speaks for.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    /// The handle without `@`, e.g. "PemkotMalang".
    pub handle: String,
    /// How the account calls itself in replies, e.g. "Pemkot Malang".
    pub display_name: String,
}

/// Where the knowledge base lives.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnowledgeConfig {
    /// The folder of Markdown entries, relative to the configuration file.
    pub dir: PathBuf,
    /// The folder of lexicon files, relative to the configuration file.
    pub lexicon_dir: PathBuf,
}

/// The gate on the learned model's calibrated probabilities (0 to 1), and where trained models
/// are kept. Set from cross-validation of the examples and checked on the evaluation set
/// (README, "How the bot decides").
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// An emergency when its probability reaches this, whatever ranks first: a missed emergency
    /// is the worst outcome.
    pub emergency_min: f32,
    /// An automatic answer only when the best topic's probability reaches this.
    pub answer_min: f32,
    /// A report to the best agency only when its probability reaches this.
    pub report_min: f32,
    /// Ignored (no reply, not queued) only when that is this likely.
    pub ignore_min: f32,
    /// Where trained models are cached, keyed by a hash of what they learned from, relative to
    /// this file; "" turns the cache off (every start trains, about 6 s).
    #[serde(default = "default_model_cache")]
    pub model_cache: PathBuf,
}

fn default_model_cache() -> PathBuf {
    PathBuf::from("data/models")
}

/// An agency (OPD) that receives complaint reports.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Agency {
    /// Stable id used by knowledge entries and tickets, e.g. "dpuprpkp".
    pub id: String,
    /// Full name, as citizens read it.
    pub name: String,
    /// Short name for replies, e.g. "DPUPRPKP".
    pub short_name: String,
    /// What the agency handles, in plain words (shown to staff).
    pub handles: String,
    /// Words and short phrases of complaints that belong to this agency, informal spellings
    /// welcome: they go through the same normaliser as tweets.
    #[serde(default)]
    pub remit: Vec<String>,
    /// Places the agency runs (a hospital, the public-service mall): a complaint that names one
    /// belongs to it more surely than any remit word says.
    #[serde(default)]
    pub places: Vec<String>,
    /// False for pseudo-agencies that never receive tickets (e.g. "luar-kewenangan").
    #[serde(default = "yes")]
    pub tickets: bool,
    /// The agency's Telegram chat for tickets (negative for groups).
    #[serde(default)]
    pub telegram_chat_id: Option<i64>,
    /// The agency's WhatsApp number for tickets, digits with country code (e.g. "62812...").
    #[serde(default)]
    pub whatsapp: Option<String>,
    /// Working days to acknowledge a ticket (default: `[sla] acknowledge_days`).
    #[serde(default)]
    pub acknowledge_days: Option<u32>,
    /// Working days to resolve a ticket (default: `[sla] resolve_days`).
    #[serde(default)]
    pub resolve_days: Option<u32>,
    /// Hold this agency's notes for staff approval (default: `[tickets] approve_notes`).
    #[serde(default)]
    pub approve_notes: Option<bool>,
}

fn yes() -> bool {
    true
}

impl Config {
    /// Loads and checks a configuration file. Relative paths inside it are resolved against the
    /// file's folder, so `kicau --config deploy/bot.toml` works from anywhere.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut config = Config::parse(path, &text)?;
        let base = path.parent().unwrap_or(Path::new("."));
        config.knowledge.dir = base.join(&config.knowledge.dir);
        config.knowledge.lexicon_dir = base.join(&config.knowledge.lexicon_dir);
        if !config.triage.model_cache.as_os_str().is_empty() {
            config.triage.model_cache = base.join(&config.triage.model_cache);
        }
        Ok(config)
    }

    /// Parses configuration text; `path` only names the source in errors.
    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            path: path.to_path_buf(),
            line: e.span().map(|span| line_of(text, span.start)).unwrap_or(1),
            message: e.message().to_owned(),
        })?;
        config.validate(path)?;
        Ok(config)
    }

    fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let handle = &self.account.handle;
        if handle.is_empty()
            || handle.len() > 15
            || !handle
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(invalid(format!(
                "account.handle {handle:?} is not an X username (1 to 15 letters, digits or _)"
            )));
        }
        if !(1..=3650).contains(&self.privacy.retention_days) {
            return Err(invalid(format!(
                "privacy.retention_days = {} must be between 1 and 3650",
                self.privacy.retention_days
            )));
        }
        for (name, value) in [
            ("respond_within_mins", self.desk.respond_within_mins),
            (
                "respond_urgent_within_mins",
                self.desk.respond_urgent_within_mins,
            ),
        ] {
            if !(1..=7 * 24 * 60).contains(&value) {
                return Err(invalid(format!(
                    "desk.{name} = {value} must be between 1 and 10080 (a week)"
                )));
            }
        }
        if !(1..=100).contains(&self.desk.max_thread_parts) {
            return Err(invalid(format!(
                "desk.max_thread_parts = {} must be between 1 and 100",
                self.desk.max_thread_parts
            )));
        }
        if self.report.weekly_hour > 23 {
            return Err(invalid(format!(
                "report.weekly_hour {} is not an hour of the day (0 to 23)",
                self.report.weekly_hour
            )));
        }
        if let Some(problem) = self.costs.problem() {
            return Err(invalid(problem));
        }
        let mut seen = HashSet::new();
        for agency in &self.agencies {
            if !seen.insert(agency.id.as_str()) {
                return Err(invalid(format!("agency {:?} is listed twice", agency.id)));
            }
        }
        let t = &self.triage;
        for (name, value) in [
            ("emergency_min", t.emergency_min),
            ("answer_min", t.answer_min),
            ("report_min", t.report_min),
            ("ignore_min", t.ignore_min),
        ] {
            if !(0.0..=1.0).contains(&value) {
                return Err(invalid(format!(
                    "triage.{name} = {value} must be between 0 and 1"
                )));
            }
        }
        Ok(())
    }

    /// The agency with this id.
    pub fn agency(&self, id: &str) -> Option<&Agency> {
        self.agencies.iter().find(|a| a.id == id)
    }
}

/// The 1-based line of a byte offset.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

#[cfg(test)]
mod tests;
