//! Command line and environment configuration. Every flag has an environment variable;
//! the README lists them.

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(name = "foghorn", version, about = "Self-hosted incident management")]
pub struct Cli {
    #[command(flatten)]
    pub database: DatabaseArgs,

    /// Log filter, e.g. `info`, `debug`, `foghorn=debug,sqlx=warn`.
    #[arg(long, env = "FOGHORN_LOG", default_value = "info,sqlx=warn", global = true)]
    pub log: String,

    /// Log format: `text` for people, `json` for log shippers.
    #[arg(long, env = "FOGHORN_LOG_FORMAT", default_value = "text", global = true)]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct DatabaseArgs {
    /// PostgreSQL to use. When unset, Foghorn runs its own private PostgreSQL
    /// cluster in the data directory.
    #[arg(long, env = "DATABASE_URL", global = true)]
    pub database_url: Option<String>,

    /// Where Foghorn keeps its own files (the embedded database among them).
    #[arg(long, env = "FOGHORN_DATA_DIR", default_value = "foghorn-data", global = true)]
    pub data_dir: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply pending migrations and serve the web app (the default).
    Serve(ServeArgs),
    /// Apply pending migrations and exit: for operators who run `serve` under a role
    /// that may not change the schema (`serve --migrate=false`).
    Migrate,
    /// Manage users from the command line (first set-up, scripts).
    #[command(subcommand)]
    User(UserCommand),
    /// Write data out of Foghorn (e.g. an offline copy of the runbooks).
    #[command(subcommand)]
    Export(ExportCommand),
    /// Create and revoke API tokens, for automation set up without a browser.
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it on standard output (one line, nothing else): a
    /// personal token of `--user`, or a service token acting as its own bot.
    Create {
        #[arg(long)]
        name: String,
        /// The person whose rights the token carries (their email).
        #[arg(long, conflicts_with = "service", required_unless_present = "service")]
        user: Option<String>,
        /// A service token with this role, shown as "bot: <name>".
        #[arg(long, value_parser = ["admin", "responder", "viewer"])]
        service: Option<String>,
        #[arg(long)]
        read_only: bool,
        /// Days until it stops working (default: until revoked).
        #[arg(long)]
        expires_days: Option<u32>,
    },
    /// Revoke the live token called `--name`: it stops working at once.
    Revoke {
        #[arg(long)]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Write every runbook as a static site (index, pages, Markdown, manifest.json)
    /// that opens from `file://`; the directory is replaced as a whole, so it must be
    /// new, empty, or an earlier export.
    Runbooks {
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is read from standard input.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = ["admin", "responder", "viewer"])]
        role: String,
    },
}

#[derive(Debug, Args, Clone)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "LEPTOS_SITE_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,

    /// The built site (wasm, JavaScript, CSS) to serve under `/pkg`.
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: String,

    /// Minutes of inactivity after which a session ends.
    #[arg(long, env = "FOGHORN_SESSION_IDLE_MINUTES", default_value_t = 720)]
    pub session_idle_minutes: u64,

    /// Minutes after sign-in after which a session ends, used or not.
    #[arg(long, env = "FOGHORN_SESSION_ABSOLUTE_MINUTES", default_value_t = 720)]
    pub session_absolute_minutes: u64,

    /// Days a P1 action item may stay without an owner or due date before the tracker flags it.
    #[arg(long, env = "FOGHORN_P1_SCHEDULE_DAYS", default_value_t = app::server::DEFAULT_P1_SCHEDULE_DAYS)]
    pub p1_schedule_days: i64,

    /// SMTP server for notification mail: `smtp://host:25` (plain, e.g. a local relay),
    /// `smtp://user:pass@host:587?tls=required` (STARTTLS) or `smtps://user:pass@host:465`.
    #[arg(long, env = "FOGHORN_SMTP_URL")]
    pub smtp_url: Option<String>,

    /// The sender of notification mail.
    #[arg(long, env = "FOGHORN_MAIL_FROM", default_value = "Foghorn <foghorn@localhost>")]
    pub mail_from: String,

    /// Attempts to deliver a message (mail or webhook) before it is marked failed.
    #[arg(long, env = "FOGHORN_DELIVERY_ATTEMPTS", default_value_t = 8)]
    pub delivery_attempts: i32,

    /// Seconds before the first retry of a failed delivery (doubling each time, at most an hour).
    #[arg(long, env = "FOGHORN_DELIVERY_BACKOFF_SECONDS", default_value_t = 30)]
    pub delivery_backoff_seconds: u64,

    /// Let webhooks reach loopback, private, link-local and unique-local addresses (a
    /// chat server on the company network). Cloud metadata addresses stay refused.
    #[arg(long, env = "FOGHORN_WEBHOOK_ALLOW_PRIVATE", default_value_t = false)]
    pub webhook_allow_private: bool,

    /// Keep an offline copy of the runbooks in this directory (see `foghorn export runbooks`).
    #[arg(long, env = "FOGHORN_RUNBOOK_EXPORT_DIR")]
    pub runbook_export_dir: Option<PathBuf>,

    /// Minutes between scheduled runbook exports.
    #[arg(long, env = "FOGHORN_RUNBOOK_EXPORT_MINUTES", default_value_t = 60)]
    pub runbook_export_minutes: u64,

    /// Days the audit log keeps an event; older ones are deleted (and that is audited).
    /// 0 keeps every event.
    #[arg(long, env = "FOGHORN_AUDIT_RETENTION_DAYS", default_value_t = 400)]
    pub audit_retention_days: i32,

    /// Apply pending migrations before serving. Off when Foghorn runs under a role
    /// without schema rights, and the owner runs `foghorn migrate` instead.
    #[arg(long, env = "FOGHORN_MIGRATE", default_value_t = true, action = clap::ArgAction::Set)]
    pub migrate: bool,

    /// Single sign-on: the OpenID Connect provider's issuer URL (discovery is read from
    /// `<issuer>/.well-known/openid-configuration`). Unset: no single sign-on.
    #[arg(long, env = "FOGHORN_OIDC_ISSUER")]
    pub oidc_issuer: Option<String>,

    /// The client id Foghorn is registered under at the provider.
    #[arg(long, env = "FOGHORN_OIDC_CLIENT_ID")]
    pub oidc_client_id: Option<String>,

    /// The client secret (prefer the environment variable to the flag).
    #[arg(long, env = "FOGHORN_OIDC_CLIENT_SECRET", hide_env_values = true)]
    pub oidc_client_secret: Option<String>,

    /// Scopes to ask for, separated by spaces or commas.
    #[arg(long, env = "FOGHORN_OIDC_SCOPES", default_value = "openid email profile")]
    pub oidc_scopes: String,

    /// The ID token claim that lists a person's groups.
    #[arg(long, env = "FOGHORN_OIDC_GROUPS_CLAIM", default_value = "groups")]
    pub oidc_groups_claim: String,

    /// The provider's name on the sign-in page: "Sign in with <label>".
    #[arg(long, env = "FOGHORN_OIDC_LABEL", default_value = "single sign-on")]
    pub oidc_label: String,

    /// The role of someone's new account at their first single sign-on.
    #[arg(long, env = "FOGHORN_OIDC_DEFAULT_ROLE", default_value = "viewer", value_parser = ["admin", "responder", "viewer"])]
    pub oidc_default_role: String,

    /// Groups to roles, e.g. `sre=admin,eng=responder,*=viewer`, applied at every sign-in.
    #[arg(long, env = "FOGHORN_OIDC_ROLE_MAP", default_value = "")]
    pub oidc_role_map: String,

    /// Requests per minute one API token may make (429 past it).
    #[arg(long, env = "FOGHORN_API_RATE_LIMIT", default_value_t = 600)]
    pub api_rate_limit: u32,

    /// Slack's signing secret: enables the `/incident` slash command from Slack.
    #[arg(long, env = "FOGHORN_SLACK_SIGNING_SECRET", hide_env_values = true)]
    pub slack_signing_secret: Option<String>,

    /// The token of Mattermost's slash command: enables `/incident` from Mattermost.
    #[arg(long, env = "FOGHORN_MATTERMOST_TOKEN", hide_env_values = true)]
    pub mattermost_token: Option<String>,

    /// Whether people may sign in with a password (`false`: single sign-on only).
    #[arg(long, env = "FOGHORN_PASSWORD_SIGN_IN", default_value_t = true, action = clap::ArgAction::Set)]
    pub password_sign_in: bool,

    /// The URL people reach Foghorn at, e.g. `https://foghorn.example.com`.
    #[arg(long, env = "FOGHORN_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Secure cookies and HSTS. Defaults to on when the public URL is `https://`.
    #[arg(long, env = "FOGHORN_SECURE_COOKIES")]
    pub secure_cookies: Option<bool>,

    /// Trust `X-Forwarded-For` for the client address (only behind your own proxy).
    #[arg(long, env = "FOGHORN_TRUST_PROXY", default_value_t = false)]
    pub trust_proxy: bool,

    /// Live streams (open incident pages and dashboards) one person may hold at once.
    #[arg(long, env = "FOGHORN_LIVE_STREAMS_PER_USER", default_value_t = crate::live::DEFAULT_STREAMS_PER_USER)]
    pub live_streams_per_user: usize,

    /// Live streams this instance serves at once, everyone together.
    #[arg(long, env = "FOGHORN_LIVE_STREAMS", default_value_t = crate::live::DEFAULT_STREAMS)]
    pub live_streams: usize,
}

impl ServeArgs {
    /// `foghorn` with no subcommand serves, configured from the environment alone.
    pub fn from_env() -> Result<Self, clap::Error> {
        let command = <Self as Args>::augment_args(clap::Command::new("serve"));
        let matches = command.try_get_matches_from(["serve"])?;
        <Self as clap::FromArgMatches>::from_arg_matches(&matches)
    }

    pub fn secure(&self) -> bool {
        self.secure_cookies.unwrap_or_else(|| self.public_url.as_deref().is_some_and(|u| u.starts_with("https://")))
    }
}
