//! `foghorn`: serve the web app, or manage it from the command line.

// Leptos views are deeply nested types; release builds (no type erasure) need room.
#![recursion_limit = "512"]

use app::model::{AuditKind, Role, parse_display_name, parse_email};
use app::server::{AuthSettings, db, passwords};
use clap::Parser;
use foghorn::config::{Cli, Command, ExportCommand, LogFormat, ServeArgs, TokenCommand, UserCommand};
use foghorn::embedded_db::EmbeddedPostgres;
use foghorn::{WebSettings, migrate, router, session_store};
use leptos::prelude::LeptosOptions;
use sqlx::PgPool;
use sqlx::postgres::PgConnectOptions;
use std::io::{Read, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;
use tower_sessions::ExpiredDeletion;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn init_logging(filter: &str, format: LogFormat) {
    let filter =
        tracing_subscriber::EnvFilter::try_new(filter).unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}

/// The database Foghorn talks to: the configured one, or its own embedded cluster.
struct Database {
    pool: PgPool,
    embedded: Option<EmbeddedPostgres>,
}

impl Database {
    async fn open(cli: &Cli) -> Result<Self, BoxError> {
        let (options, embedded) = match &cli.database.database_url {
            Some(url) => (url.parse::<PgConnectOptions>()?, None),
            None => {
                let embedded = EmbeddedPostgres::start(&cli.database.data_dir).await?;
                (embedded.connect_options(), Some(embedded))
            }
        };
        let pool = foghorn::pool_options().connect_with(options).await;
        match pool {
            Ok(pool) => Ok(Database { pool, embedded }),
            Err(err) => {
                if let Some(embedded) = embedded {
                    let _ = embedded.stop().await;
                }
                Err(format!("could not connect to the database: {err}").into())
            }
        }
    }

    async fn close(self) {
        self.pool.close().await;
        if let Some(embedded) = self.embedded {
            if let Err(err) = embedded.stop().await {
                tracing::error!(error = %err, "could not stop the embedded database");
            }
        }
    }
}

/// An empty Foghorn prints a one-time code that the first-administrator form asks
/// for, so that only whoever can read this process's output can take it over. The
/// code is also written to `<data dir>/setup-code` (readable by its owner only).
async fn announce_setup_code(pool: &PgPool, data_dir: &Path) -> Result<(), BoxError> {
    let Some(code) = db::users::issue_setup_code(pool).await? else { return Ok(()) };
    let file = data_dir.join("setup-code");
    std::fs::create_dir_all(data_dir)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(&file)?.write_all(format!("{code}\n").as_bytes())?;
    println!(
        "Foghorn has no users yet. Open it in a browser and create the administrator with this setup code: {code}"
    );
    tracing::warn!(setup_code = %code, file = %file.display(), "no users yet: the first administrator needs this setup code");
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli.log, cli.log_format);
    let result = match &cli.command {
        None => match ServeArgs::from_env() {
            Ok(args) => serve(&cli, args).await,
            Err(err) => Err(err.into()),
        },
        Some(Command::Serve(args)) => serve(&cli, args.clone()).await,
        Some(Command::User(UserCommand::Add { email, name, role })) => add_user(&cli, email, name, role).await,
        Some(Command::Export(ExportCommand::Runbooks { out })) => export_runbooks(&cli, out).await,
        Some(Command::Migrate) => migrate_only(&cli).await,
        Some(Command::Token(command)) => token(&cli, command).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("foghorn: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(cli: &Cli, args: ServeArgs) -> Result<(), BoxError> {
    let database = Database::open(cli).await?;
    let served = serve_with(&database.pool, &args, &cli.database.data_dir).await;
    database.close().await;
    served
}

/// Single sign-on as configured, or `None` when no provider is.
fn single_sign_on(args: &ServeArgs) -> Result<Option<std::sync::Arc<foghorn::sso::Sso>>, BoxError> {
    let Some(issuer) = args.oidc_issuer.clone().filter(|i| !i.trim().is_empty()) else {
        if !args.password_sign_in {
            return Err("FOGHORN_PASSWORD_SIGN_IN=false needs single sign-on (FOGHORN_OIDC_ISSUER)".into());
        }
        return Ok(None);
    };
    let public = args
        .public_url
        .as_deref()
        .ok_or("single sign-on needs FOGHORN_PUBLIC_URL (the redirect URL is built from it)")?;
    let public = public.trim_end_matches('/');
    let settings = foghorn::sso::SsoSettings {
        issuer: issuer.trim().trim_end_matches('/').to_owned(),
        client_id: args.oidc_client_id.clone().ok_or("single sign-on needs FOGHORN_OIDC_CLIENT_ID")?,
        client_secret: args.oidc_client_secret.clone().ok_or("single sign-on needs FOGHORN_OIDC_CLIENT_SECRET")?,
        scopes: args.oidc_scopes.split([' ', ',']).filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        groups_claim: args.oidc_groups_claim.clone(),
        label: args.oidc_label.clone(),
        default_role: args.oidc_default_role.parse::<Role>()?,
        role_map: foghorn::sso::parse_role_map(&args.oidc_role_map)?,
        redirect_url: format!("{public}/auth/oidc/callback"),
        after_sign_out_url: format!("{public}/login"),
    };
    Ok(Some(std::sync::Arc::new(foghorn::sso::Sso::new(settings)?)))
}

async fn migrate_only(cli: &Cli) -> Result<(), BoxError> {
    let database = Database::open(cli).await?;
    let migrated = migrate(&database.pool).await;
    database.close().await;
    migrated?;
    println!("the database schema is up to date");
    Ok(())
}

async fn serve_with(pool: &PgPool, args: &ServeArgs, data_dir: &Path) -> Result<(), BoxError> {
    if args.migrate {
        migrate(pool).await?;
    }
    announce_setup_code(pool, data_dir).await?;

    let auth = AuthSettings {
        session_idle: Duration::from_secs(args.session_idle_minutes * 60),
        session_absolute: Duration::from_secs(args.session_absolute_minutes * 60),
        trust_proxy: args.trust_proxy,
        sso_label: args.oidc_issuer.as_ref().map(|_| args.oidc_label.clone()),
        password_sign_in: args.password_sign_in,
    };
    let sso = single_sign_on(args)?;
    let api = foghorn::rest::ApiSettings {
        rate_per_minute: args.api_rate_limit.max(1),
        slack_signing_secret: args.slack_signing_secret.clone().filter(|s| !s.is_empty()),
        mattermost_token: args.mattermost_token.clone().filter(|s| !s.is_empty()),
    };
    let web = WebSettings { secure: args.secure(), public_origin: args.public_url.clone(), sso: sso.clone(), api };
    let leptos_options = LeptosOptions::builder()
        .output_name(std::env::var("LEPTOS_OUTPUT_NAME").unwrap_or_else(|_| "foghorn".to_owned()))
        .site_root(args.site_root.clone())
        .site_pkg_dir(std::env::var("LEPTOS_SITE_PKG_DIR").unwrap_or_else(|_| "pkg".to_owned()))
        .site_addr(args.addr)
        .env(leptos::config::Env::PROD)
        .hash_files(foghorn::built_with_hashed_names())
        .build();

    let deletion = tokio::spawn(session_store(pool).continuously_delete_expired(Duration::from_secs(600)));
    let hub = foghorn::live::start(pool.clone()).await?;
    hub.limit_streams(foghorn::live::StreamLimits {
        per_user: args.live_streams_per_user.max(1),
        overall: args.live_streams.max(1),
    });
    let delivery = foghorn::delivery::Worker::new(
        pool.clone(),
        foghorn::delivery::DeliverySettings {
            smtp_url: args.smtp_url.clone(),
            mail_from: args.mail_from.clone(),
            base_url: args.public_url.clone().unwrap_or_else(|| format!("http://{}", args.addr)),
            max_attempts: args.delivery_attempts.max(1),
            first_backoff: Duration::from_secs(args.delivery_backoff_seconds),
            allow_private_webhooks: args.webhook_allow_private,
            ..Default::default()
        },
    )?
    .woken_by(hub.outbox_queued());
    let (stop_delivery, delivery_stopped) = tokio::sync::watch::channel(false);
    let delivery = tokio::spawn(delivery.run(delivery_stopped.clone()));
    let export = args.runbook_export_dir.clone().map(|dir| {
        let every = Duration::from_secs(args.runbook_export_minutes.max(1) * 60);
        tokio::spawn(foghorn::runbook_export::schedule(pool.clone(), dir, every, delivery_stopped.clone()))
    });
    let pruning = (args.audit_retention_days > 0).then(|| {
        let every = Duration::from_secs(3600);
        tokio::spawn(foghorn::audit::prune_schedule(
            pool.clone(),
            args.audit_retention_days,
            every,
            delivery_stopped.clone(),
        ))
    });
    let app = router(
        app::server::AppState::new(pool.clone(), auth).with_p1_schedule_days(args.p1_schedule_days),
        web,
        leptos_options,
        hub.clone(),
    );
    let listener = tokio::net::TcpListener::bind(args.addr).await?;
    tracing::info!(addr = %listener.local_addr()?, "Foghorn is listening");
    foghorn::serve::serve(listener, app, async move {
        shutdown_signal().await;
        // Live streams never end on their own: end them so the drain can finish.
        hub.close();
    })
    .await;
    deletion.abort();
    // Finishes the batch in hand: what it sent is recorded, the rest stays queued.
    let _ = stop_delivery.send(true);
    let _ = delivery.await;
    if let Some(export) = export {
        let _ = export.await;
    }
    if let Some(pruning) = pruning {
        let _ = pruning.await;
    }
    tracing::info!("Foghorn stopped");
    Ok(())
}

/// SIGINT or SIGTERM: stop accepting, let in-flight requests finish.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: draining in-flight requests");
}

async fn export_runbooks(cli: &Cli, out: &std::path::Path) -> Result<(), BoxError> {
    let database = Database::open(cli).await?;
    let result = async {
        migrate(&database.pool).await?;
        let files = foghorn::runbook_export::current_bundle(&database.pool).await?;
        foghorn::runbook_export::write_dir(out, &files)?;
        println!("exported {} files to {}", files.len(), out.display());
        Ok::<_, BoxError>(())
    }
    .await;
    database.close().await;
    result
}

async fn add_user(cli: &Cli, email: &str, name: &str, role: &str) -> Result<(), BoxError> {
    let email = parse_email(email)?;
    let name = parse_display_name(name)?;
    let role: Role = role.parse()?;
    let mut password = String::new();
    std::io::stdin().read_to_string(&mut password)?;
    // A trailing newline comes from `echo` or a terminal, not from the password.
    let password = password.strip_suffix('\n').map(|p| p.strip_suffix('\r').unwrap_or(p)).unwrap_or(&password);
    passwords::check_password_policy(password)?;

    let database = Database::open(cli).await?;
    let result = async {
        migrate(&database.pool).await?;
        let hash = passwords::PasswordHasher::new().hash(password).await?;
        let mut tx = database.pool.begin().await?;
        let id = db::users::insert(&mut *tx, &email, &name, role, &hash).await?;
        let target = db::audit::user_target_of(&name, &email);
        let details = serde_json::json!({ "user_id": id, "role": role });
        db::audit::record(
            &mut *tx,
            &db::audit::Actor::server("command line"),
            AuditKind::UserCreated,
            &target,
            details,
        )
        .await?;
        tx.commit().await?;
        println!("created user {id}: {name} <{email}> ({role})");
        Ok::<_, BoxError>(())
    }
    .await;
    database.close().await;
    result
}

/// `foghorn token create|revoke`.
async fn token(cli: &Cli, command: &TokenCommand) -> Result<(), BoxError> {
    use app::model::TokenRequest;
    use db::api_tokens::{self, Owner};
    let database = Database::open(cli).await?;
    let actor = db::audit::Actor::server("command line");
    let result = async {
        migrate(&database.pool).await?;
        match command {
            TokenCommand::Create { name, user, service, read_only, expires_days } => {
                let owner = match (user, service) {
                    (Some(email), _) => {
                        let user = db::users::find_by_email(&database.pool, email)
                            .await?
                            .ok_or_else(|| format!("no user has the email {email}"))?;
                        Owner::Person(user.id)
                    }
                    (None, Some(role)) => Owner::Service(role.parse::<Role>()?),
                    (None, None) => return Err("name --user EMAIL or --service ROLE".into()),
                };
                let request = TokenRequest {
                    name: name.clone(),
                    read_only: *read_only,
                    expires_days: *expires_days,
                    service_role: None,
                };
                let created = api_tokens::create(&database.pool, &actor, owner, &request).await?;
                println!("{}", created.secret);
            }
            TokenCommand::Revoke { name } => {
                let id = api_tokens::live_id_by_name(&database.pool, name).await?;
                api_tokens::revoke(&database.pool, &actor, id, None).await?;
                eprintln!("revoked the token {name}");
            }
        }
        Ok::<_, BoxError>(())
    }
    .await;
    database.close().await;
    result
}
