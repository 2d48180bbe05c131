//! The embedded default database: a private PostgreSQL cluster in Foghorn's data
//! directory, started from the system's PostgreSQL binaries when `DATABASE_URL` is unset.
//!
//! The cluster listens only on a Unix socket (no TCP port to collide with, reachable
//! only by its owner), runs as an unprivileged user (PostgreSQL refuses root: when
//! Foghorn runs as root the cluster runs as `postgres`), and is stopped cleanly on
//! shutdown. Its data survives restarts.

use sqlx::postgres::PgConnectOptions;
use std::path::{Path, PathBuf};
use std::process::Output;
use tokio::process::Command;

#[derive(Debug, thiserror::Error)]
pub enum EmbeddedDbError {
    #[error(
        "PostgreSQL server programs (initdb, pg_ctl) were not found: install them with \
         `sudo apt-get install postgresql`, or set DATABASE_URL to use an existing server"
    )]
    NotInstalled,
    #[error(
        "Foghorn runs as root, and PostgreSQL refuses to: the embedded database needs a \
         `postgres` system user (created by `apt-get install postgresql`), or run Foghorn as an \
         ordinary user"
    )]
    NoUnprivilegedUser,
    #[error("could not prepare the data directory {path}: {source}")]
    DataDir { path: PathBuf, source: std::io::Error },
    #[error("{program} failed: {detail}")]
    Command { program: String, detail: String },
}

/// A running private cluster.
#[derive(Debug)]
pub struct EmbeddedPostgres {
    bin_dir: PathBuf,
    cluster_dir: PathBuf,
    socket_dir: PathBuf,
    run_as: Option<nix::unistd::User>,
    /// False when the cluster was already running (another Foghorn process on this
    /// data directory): then it is not ours to stop.
    started_here: bool,
}

const SUPERUSER: &str = "foghorn";
const DATABASE: &str = "foghorn";
/// Unix socket paths are limited to 107 bytes; leave room for `/.s.PGSQL.5432`.
const MAX_SOCKET_DIR_LEN: usize = 90;

/// The directory holding `initdb`, `pg_ctl` and `postgres`: `FOGHORN_PG_BIN`, the newest
/// `/usr/lib/postgresql/<version>/bin` (Debian, Ubuntu), or the directory of `pg_ctl` on `PATH`.
pub fn find_bin_dir() -> Option<PathBuf> {
    let complete = |dir: &Path| ["initdb", "pg_ctl", "postgres"].iter().all(|p| dir.join(p).is_file());
    if let Some(dir) = std::env::var_os("FOGHORN_PG_BIN").map(PathBuf::from) {
        return complete(&dir).then_some(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            complete(&bin).then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .find(|dir| complete(dir))
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> EmbeddedDbError + '_ {
    move |source| EmbeddedDbError::DataDir { path: path.to_owned(), source }
}

impl EmbeddedPostgres {
    /// Initializes the cluster on first use, starts it (or joins it if already running),
    /// and makes sure Foghorn's database exists.
    pub async fn start(data_dir: &Path) -> Result<Self, EmbeddedDbError> {
        let bin_dir = find_bin_dir().ok_or(EmbeddedDbError::NotInstalled)?;
        let run_as = if nix::unistd::geteuid().is_root() {
            Some(nix::unistd::User::from_name("postgres").ok().flatten().ok_or(EmbeddedDbError::NoUnprivilegedUser)?)
        } else {
            None
        };

        std::fs::create_dir_all(data_dir).map_err(io_error(data_dir))?;
        let data_dir = data_dir.canonicalize().map_err(io_error(data_dir))?;
        let cluster_dir = data_dir.join("postgres");
        std::fs::create_dir_all(&cluster_dir).map_err(io_error(&cluster_dir))?;
        let socket_dir = if cluster_dir.as_os_str().len() <= MAX_SOCKET_DIR_LEN {
            cluster_dir.clone()
        } else {
            let short = std::env::temp_dir()
                .join(format!("foghorn-pg-{:x}", fnv1a(cluster_dir.as_os_str().as_encoded_bytes())));
            std::fs::create_dir_all(&short).map_err(io_error(&short))?;
            short
        };
        for dir in [&cluster_dir, &socket_dir] {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io_error(dir))?;
            if let Some(user) = &run_as {
                std::os::unix::fs::chown(dir, Some(user.uid.as_raw()), Some(user.gid.as_raw()))
                    .map_err(io_error(dir))?;
            }
        }

        let mut db = EmbeddedPostgres { bin_dir, cluster_dir, socket_dir, run_as, started_here: false };
        if !db.cluster_dir.join("PG_VERSION").exists() {
            tracing::info!(dir = %db.cluster_dir.display(), "creating the embedded PostgreSQL cluster");
            let cluster = db.cluster_dir.to_string_lossy().into_owned();
            db.run("initdb", &["-D", &cluster, "-U", SUPERUSER, "--auth=trust", "--encoding=UTF8", "--no-locale"])
                .await?;
        }
        if db.is_running().await {
            tracing::info!("joining the embedded PostgreSQL cluster that is already running");
        } else {
            db.pg_ctl_start().await?;
            db.started_here = true;
        }
        db.create_database().await?;
        Ok(db)
    }

    /// How to connect to Foghorn's database in this cluster.
    pub fn connect_options(&self) -> PgConnectOptions {
        PgConnectOptions::new().socket(&self.socket_dir).username(SUPERUSER).database(DATABASE)
    }

    /// Stops the cluster if this process started it (fast shutdown: sessions end,
    /// committed data is safe).
    pub async fn stop(self) -> Result<(), EmbeddedDbError> {
        if !self.started_here {
            return Ok(());
        }
        let cluster = self.cluster_dir.to_string_lossy().into_owned();
        self.run("pg_ctl", &["-D", &cluster, "-m", "fast", "-w", "stop"]).await?;
        tracing::info!("embedded PostgreSQL stopped");
        Ok(())
    }

    async fn is_running(&self) -> bool {
        let cluster = self.cluster_dir.to_string_lossy().into_owned();
        self.run("pg_ctl", &["-D", &cluster, "status"]).await.is_ok()
    }

    async fn pg_ctl_start(&self) -> Result<(), EmbeddedDbError> {
        let cluster = self.cluster_dir.to_string_lossy().into_owned();
        let log = self.cluster_dir.join("server.log").to_string_lossy().into_owned();
        let options = format!(
            "-c listen_addresses='' -c unix_socket_directories='{}' -c unix_socket_permissions=0700",
            self.socket_dir.display()
        );
        self.run("pg_ctl", &["-D", &cluster, "-l", &log, "-o", &options, "-w", "-t", "60", "start"]).await.map_err(
            |err| match err {
                EmbeddedDbError::Command { program, detail } => {
                    EmbeddedDbError::Command { program, detail: format!("{detail} (see {log})") }
                }
                other => other,
            },
        )?;
        tracing::info!(socket = %self.socket_dir.display(), "embedded PostgreSQL started");
        Ok(())
    }

    async fn create_database(&self) -> Result<(), EmbeddedDbError> {
        use sqlx::{ConnectOptions, Connection};
        let failed = |e: sqlx::Error| EmbeddedDbError::Command { program: "postgres".into(), detail: e.to_string() };
        let mut conn = self.connect_options().database("postgres").connect().await.map_err(failed)?;
        let exists: bool = sqlx::query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS "exists!""#,
            DATABASE
        )
        .fetch_one(&mut conn)
        .await
        .map_err(failed)?;
        if !exists {
            // Dynamic: a database's name cannot be a bind parameter (it is a constant here).
            sqlx::query(&format!("CREATE DATABASE {DATABASE}")).execute(&mut conn).await.map_err(failed)?;
        }
        conn.close().await.map_err(failed)?;
        Ok(())
    }

    /// Runs one of the PostgreSQL programs, as the unprivileged user when we are root.
    async fn run(&self, program: &str, args: &[&str]) -> Result<Output, EmbeddedDbError> {
        let mut command = Command::new(self.bin_dir.join(program));
        command.args(args).current_dir(&self.cluster_dir).kill_on_drop(true);
        // pg_ctl's server inherits our stdout/stderr unless told otherwise; it logs to its file.
        command.stdin(std::process::Stdio::null());
        if let Some(user) = &self.run_as {
            command.uid(user.uid.as_raw()).gid(user.gid.as_raw()).env("HOME", &user.dir);
        }
        let output = command
            .output()
            .await
            .map_err(|e| EmbeddedDbError::Command { program: program.to_owned(), detail: e.to_string() })?;
        if output.status.success() {
            Ok(output)
        } else {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let stdout = String::from_utf8_lossy(&output.stdout);
            Err(EmbeddedDbError::Command {
                program: program.to_owned(),
                detail: format!("{}{}", stderr.trim(), stdout.trim()).trim().to_owned(),
            })
        }
    }
}

/// A short stable hash for naming the fallback socket directory.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100000001b3))
}
