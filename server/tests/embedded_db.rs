//! The embedded default database: with DATABASE_URL unset, `foghorn serve` runs its own
//! PostgreSQL cluster in the data directory, and the data survives a restart.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const BIN: &str = env!("CARGO_BIN_EXE_foghorn");

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn foghorn(data_dir: &Path, port: u16) -> Command {
    let mut command = Command::new(BIN);
    command
        .env_remove("DATABASE_URL")
        .env("FOGHORN_DATA_DIR", data_dir)
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("FOGHORN_LOG", "warn")
        .stdout(Stdio::null());
    command
}

/// A bare HTTP/1.1 exchange: enough for health checks and a form post.
async fn http(port: u16, method: &str, path: &str, body: &str, cookie: Option<&str>) -> std::io::Result<(u16, String)> {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    let cookie = cookie.map(|c| format!("Cookie: {c}\r\n")).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: http://127.0.0.1:{port}\r\nConnection: close\r\nAccept: application/json\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n{cookie}\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    let status = response.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    Ok((status, response))
}

async fn wait_healthy(port: u16, server: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Ok((200, body)) = http(port, "GET", "/healthz", "", None).await {
            assert!(body.contains("\"database\":\"up\""), "{body}");
            return;
        }
        if let Some(status) = server.try_wait().unwrap() {
            panic!("foghorn exited early: {status}");
        }
        assert!(Instant::now() < deadline, "foghorn did not become healthy");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn terminate(server: &mut Child) -> std::process::ExitStatus {
    let pid = nix::unistd::Pid::from_raw(server.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = server.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "foghorn did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn session_cookie(response: &str) -> Option<String> {
    response
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie: foghorn_session="))
        .map(|l| l["set-cookie: ".len()..].split(';').next().unwrap().to_owned())
}

#[tokio::test]
async fn serve_without_database_url_runs_and_keeps_its_own_postgres() {
    let data_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("embedded-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data_dir);
    let port = free_port();

    // First start: the cluster is created.
    let mut server = foghorn(&data_dir, port).spawn().unwrap();
    wait_healthy(port, &mut server).await;
    assert!(data_dir.join("postgres/PG_VERSION").exists(), "cluster in the data directory");

    // `foghorn user add` joins the running cluster.
    let mut add = foghorn(&data_dir, port)
        .args(["user", "add", "--email", "ops@example.com", "--name", "Ops", "--role", "admin"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    add.stdin.take().unwrap().write_all(b"embedded passphrase\n").unwrap();
    assert!(add.wait().unwrap().success(), "user add");

    assert!(terminate(&mut server).success(), "SIGTERM exits 0");
    assert!(!data_dir.join("postgres/postmaster.pid").exists(), "the cluster was stopped");

    // Second start on the same data: the user is still there and can sign in.
    let mut server = foghorn(&data_dir, port).spawn().unwrap();
    wait_healthy(port, &mut server).await;
    let (_, signed_in) =
        http(port, "POST", "/api/sign_in", "email=ops%40example.com&password=embedded+passphrase", None).await.unwrap();
    let cookie = session_cookie(&signed_in).unwrap_or_else(|| panic!("signed in: {signed_in}"));
    let (status, viewer) = http(port, "POST", "/api/get_viewer", "", Some(&cookie)).await.unwrap();
    assert_eq!(status, 200);
    assert!(viewer.contains("ops@example.com"), "{viewer}");

    assert!(terminate(&mut server).success());
    let _ = std::fs::remove_dir_all(&data_dir);
}

#[test]
fn a_missing_postgres_installation_is_one_clear_line() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("no-postgres");
    let output =
        foghorn(&dir, free_port()).env("FOGHORN_PG_BIN", "/nonexistent").stderr(Stdio::piped()).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    let line = stderr.lines().find(|l| l.starts_with("foghorn:")).unwrap_or_else(|| panic!("{stderr}"));
    assert!(line.contains("apt-get install postgresql"), "{line}");
}
