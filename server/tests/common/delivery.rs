//! The outbox's peers and worker for the mail and webhook tests: a real SMTP server on
//! loopback (mailin-embedded), a delivery worker pointed at it, and the outbox's rows.

use super::TestApp;
use axum::http::StatusCode;
use foghorn::delivery::{DeliverySettings, Worker};
use serde_json::{Value, json};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

// ---- a real SMTP server (mailin-embedded) ------------------------------------------

#[derive(Debug, Clone)]
pub struct Mail {
    pub to: Vec<String>,
    pub data: String,
}

#[derive(Clone, Default)]
pub struct Inbox {
    mails: Arc<Mutex<Vec<Mail>>>,
    to: Vec<String>,
    data: Vec<u8>,
}

impl mailin_embedded::Handler for Inbox {
    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, to: &[String]) -> mailin_embedded::Response {
        self.to = to.to_vec();
        self.data.clear();
        mailin_embedded::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> mailin_embedded::Response {
        let mail = Mail { to: self.to.clone(), data: String::from_utf8_lossy(&self.data).into_owned() };
        self.mails.lock().unwrap().push(mail);
        mailin_embedded::response::OK
    }
}

impl Inbox {
    pub fn mails(&self) -> Vec<Mail> {
        self.mails.lock().unwrap().clone()
    }
}

/// Starts an SMTP server on `listener` (it runs until the test process ends).
pub fn smtp_server(listener: TcpListener) -> Inbox {
    let inbox = Inbox::default();
    let mut server = mailin_embedded::Server::new(inbox.clone());
    server.with_name("mail.test").with_ssl(mailin_embedded::SslConfig::None).unwrap().with_tcp_listener(listener);
    std::thread::spawn(move || {
        let _ = server.serve();
    });
    inbox
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A worker that may deliver to internal addresses: the receivers here listen on
/// 127.0.0.1, as a company's own chat server on its network would.
pub fn worker(app: &TestApp, smtp_port: u16, max_attempts: i32) -> Worker {
    worker_with(app, smtp_port, max_attempts, true)
}

pub fn worker_with(app: &TestApp, smtp_port: u16, max_attempts: i32, allow_private_webhooks: bool) -> Worker {
    Worker::new(app.pool.clone(), delivery_settings(smtp_port, max_attempts, allow_private_webhooks)).unwrap()
}

pub fn delivery_settings(smtp_port: u16, max_attempts: i32, allow_private_webhooks: bool) -> DeliverySettings {
    DeliverySettings {
        smtp_url: Some(format!("smtp://127.0.0.1:{smtp_port}")),
        mail_from: "Foghorn <foghorn@example.com>".into(),
        base_url: "https://foghorn.example.com".into(),
        max_attempts,
        first_backoff: Duration::ZERO,
        poll: Duration::from_millis(50),
        allow_private_webhooks,
    }
}

pub async fn outbox_statuses(app: &TestApp) -> Vec<(String, String, i32)> {
    sqlx::query_as("SELECT recipient, status, attempts FROM outbox ORDER BY recipient, id")
        .fetch_all(&app.pool)
        .await
        .unwrap()
}

pub async fn policy(app: &TestApp, admin: &str, body: Value) {
    let response = app.call_json("create_notification_policy", json!({ "policy": body }), Some(admin)).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
}
