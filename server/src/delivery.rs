//! The delivery worker: sends what the outbox holds — email over SMTP, chat webhooks
//! over HTTP — with retries and backoff.
//!
//! Each batch is claimed with `FOR UPDATE SKIP LOCKED` inside one transaction that also
//! records the outcome, so several instances share the work and a message is marked
//! sent only by the transaction that sent it. If `foghorn` dies between sending and
//! committing, the message is sent again after a restart with the same Message-ID /
//! `X-Foghorn-Message-Id`, so receivers can drop the duplicate.

use crate::webhook_target::{CheckedResolver, literal_refusal, refused_by};
use app::model::{Channel, WebhookFormat, incident_ref};
use app::server::db::outbox::{self, Payload, Pending};
use hmac::{Hmac, Mac};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde_json::json;
use sha2::Sha256;
use sqlx::PgPool;
use std::time::Duration;

/// How the worker sends.
#[derive(Debug, Clone)]
pub struct DeliverySettings {
    /// `smtp://host:25`, `smtp://user:pass@host:587?tls=required` (STARTTLS) or
    /// `smtps://user:pass@host:465` (TLS). Without it, mail waits (and is retried).
    pub smtp_url: Option<String>,
    pub mail_from: String,
    /// Where links in messages point (the public address of Foghorn).
    pub base_url: String,
    /// Attempts before a message is marked failed.
    pub max_attempts: i32,
    /// The first retry waits this long; each later one twice as long (at most an hour).
    pub first_backoff: Duration,
    /// How often the queue is checked.
    pub poll: Duration,
    /// Let webhooks reach loopback, private, link-local and unique-local addresses
    /// (a chat server on the company network). Off, an admin's webhook cannot be
    /// turned into a probe of the network Foghorn runs in.
    pub allow_private_webhooks: bool,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        Self {
            smtp_url: None,
            mail_from: "Foghorn <foghorn@localhost>".into(),
            base_url: "http://localhost:3000".into(),
            max_attempts: 8,
            first_backoff: Duration::from_secs(30),
            poll: Duration::from_secs(1),
            allow_private_webhooks: false,
        }
    }
}

pub struct Worker {
    pool: PgPool,
    settings: DeliverySettings,
    smtp: Option<AsyncSmtpTransport<Tokio1Executor>>,
    http: reqwest::Client,
    /// Signalled when messages are queued (see `live::Hub::outbox_queued`).
    queued: Option<std::sync::Arc<tokio::sync::Notify>>,
}

/// Why a send failed, and whether trying again could help.
struct Failure {
    error: String,
    retry: bool,
}

impl Worker {
    pub fn new(pool: PgPool, settings: DeliverySettings) -> Result<Self, String> {
        let smtp = match &settings.smtp_url {
            Some(url) => Some(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| format!("FOGHORN_SMTP_URL is not a usable SMTP address: {e}"))?
                    .timeout(Some(Duration::from_secs(15)))
                    .build(),
            ),
            None => None,
        };
        settings.mail_from.parse::<Mailbox>().map_err(|e| format!("FOGHORN_MAIL_FROM is not an address: {e}"))?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .user_agent("Foghorn")
            // A redirect would lead the request to an address nobody checked.
            .redirect(reqwest::redirect::Policy::none())
            // Straight to the checked address: through a proxy, the check would be of the proxy.
            .no_proxy()
            .dns_resolver(std::sync::Arc::new(CheckedResolver { allow_private: settings.allow_private_webhooks }))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self { pool, settings, smtp, http, queued: None })
    }

    /// Starts sending as soon as `queued` is signalled, not only at the next poll.
    pub fn woken_by(mut self, queued: std::sync::Arc<tokio::sync::Notify>) -> Self {
        self.queued = Some(queued);
        self
    }

    /// Delivers until `stop` turns true.
    pub async fn run(self, mut stop: tokio::sync::watch::Receiver<bool>) {
        loop {
            match self.deliver_due().await {
                // A full batch: there may be more waiting.
                Ok(n) if n >= BATCH as usize => continue,
                Ok(_) => {}
                Err(err) => tracing::warn!(error = %err, "delivery: could not read the outbox"),
            }
            let queued = async {
                match &self.queued {
                    Some(queued) => queued.notified().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(self.settings.poll) => {}
                _ = queued => {}
                _ = stop.changed() => return,
            }
        }
    }

    /// Sends every message that is due now (one batch); returns how many it tried.
    pub async fn deliver_due(&self) -> Result<usize, app::error::AppError> {
        let mut tx = self.pool.begin().await?;
        let batch = outbox::claim(&mut tx, BATCH).await?;
        for message in &batch {
            match self.send(message).await {
                Ok(()) => {
                    outbox::mark_sent(&mut tx, message.id).await?;
                    tracing::info!(target: "foghorn::delivery", id = message.id, channel = %message.channel, recipient = ?message.recipient, "sent");
                }
                Err(failure) => {
                    let attempt = message.attempts + 1;
                    let retry_in =
                        (failure.retry && attempt < self.settings.max_attempts).then(|| self.backoff(attempt));
                    tracing::warn!(target: "foghorn::delivery", id = message.id, attempt, error = ?failure.error, retry = retry_in.is_some(), "not sent");
                    outbox::mark_failed(&mut tx, message.id, &failure.error, retry_in).await?;
                }
            }
        }
        tx.commit().await?;
        Ok(batch.len())
    }

    fn backoff(&self, attempt: i32) -> time::Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1).clamp(0, 16) as u32);
        let wait = self.settings.first_backoff.saturating_mul(factor).min(Duration::from_secs(3600));
        time::Duration::try_from(wait).unwrap_or(time::Duration::HOUR)
    }

    async fn send(&self, message: &Pending) -> Result<(), Failure> {
        let payload: Payload = serde_json::from_str(&message.body_json)
            .map_err(|e| Failure { error: format!("unreadable message: {e}"), retry: false })?;
        let link = format!(
            "{}/incidents/{}",
            self.settings.base_url.trim_end_matches('/'),
            incident_ref(payload.incident_number)
        );
        match message.channel {
            Channel::Email => self.send_email(message, &payload, &link).await,
            Channel::Webhook => self.send_webhook(message, &payload, &link).await,
        }
    }

    async fn send_email(&self, message: &Pending, payload: &Payload, link: &str) -> Result<(), Failure> {
        let Some(smtp) = &self.smtp else {
            return Err(Failure { error: "no SMTP server is configured (FOGHORN_SMTP_URL)".into(), retry: true });
        };
        let to: Mailbox = message
            .recipient
            .parse()
            .map_err(|e| Failure { error: format!("bad recipient address: {e}"), retry: false })?;
        let from: Mailbox =
            self.settings.mail_from.parse().map_err(|e| Failure { error: format!("{e}"), retry: false })?;
        let domain = from.email.domain().to_owned();
        let (text, html) = email_bodies(payload, link);
        let email = Message::builder()
            .from(from)
            .to(to)
            .subject(&message.subject)
            .message_id(Some(format!("<{}@{domain}>", message.message_id)))
            .multipart(MultiPart::alternative_plain_html(text, html))
            .map_err(|e| Failure { error: format!("could not build the mail: {e}"), retry: false })?;
        smtp.send(email).await.map(|_| ()).map_err(|e| Failure {
            error: format!("SMTP: {e}"),
            // A permanent rejection (5xx) will not change by retrying.
            retry: !e.is_permanent(),
        })
    }

    async fn send_webhook(&self, message: &Pending, payload: &Payload, link: &str) -> Result<(), Failure> {
        let (Some(url), Some(format), Some(secret)) =
            (&message.webhook_url, &message.webhook_format, &message.webhook_secret)
        else {
            return Err(Failure { error: "the webhook was deleted".into(), retry: false });
        };
        let url = reqwest::Url::parse(url).map_err(|e| Failure { error: format!("not a URL: {e}"), retry: false })?;
        if let Some(why) = literal_refusal(&url, self.settings.allow_private_webhooks) {
            return Err(Failure { error: why, retry: false });
        }
        let body = webhook_body(*format, &message.message_id, payload, link).to_string();
        let timestamp = time::OffsetDateTime::now_utc().unix_timestamp().to_string();
        let response = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .header("x-foghorn-message-id", &message.message_id)
            .header("x-foghorn-timestamp", &timestamp)
            .header("x-foghorn-signature", format!("sha256={}", sign(secret, &timestamp, &body)))
            .body(body)
            .send()
            .await
            .map_err(|e| match refused_by(&e) {
                Some(why) => Failure { error: why, retry: false },
                None => Failure { error: format!("HTTP: {e}"), retry: true },
            })?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(Failure {
                error: format!("the receiver answered {status}"),
                retry: status.is_server_error() || status.as_u16() == 429 || status.as_u16() == 408,
            })
        }
    }
}

const BATCH: i64 = 20;

/// `hex(HMAC-SHA256(secret, "<timestamp>.<body>"))`: what `X-Foghorn-Signature`
/// carries (after `sha256=`). The timestamp lets receivers refuse old replays.
pub fn sign(secret: &str, timestamp: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

fn email_bodies(p: &Payload, link: &str) -> (String, String) {
    let reference = incident_ref(p.incident_number);
    let drill = if p.is_drill { "[DRILL] This is a rehearsal, not a real incident.\n\n" } else { "" };
    let mut text =
        format!("{drill}{reference} {} — {} — {}\n\n{}\n", p.title, p.severity.label(), p.status.label(), p.headline);
    if !p.details.is_empty() {
        text += &format!("\n{}\n", p.details);
    }
    text += &format!("\nOpen the incident: {link}\n");
    let escape = crate::escape_html;
    let html = format!(
        "<!doctype html><html><body style=\"font-family:sans-serif\">{}<h2>{} {}</h2><p><strong>{}</strong> · {}</p><p>{}</p>{}<p><a href=\"{}\">Open {} in Foghorn</a></p></body></html>",
        if p.is_drill {
            "<p style=\"background:#fde68a;padding:6px\"><strong>DRILL</strong>: a rehearsal, not a real incident.</p>"
        } else {
            ""
        },
        escape(&reference),
        escape(&p.title),
        p.severity.label(),
        p.status.label(),
        escape(&p.headline),
        if p.details.is_empty() {
            String::new()
        } else {
            format!("<pre style=\"white-space:pre-wrap;font-family:inherit\">{}</pre>", escape(&p.details))
        },
        escape(link),
        escape(&reference),
    );
    (text, html)
}

/// Text people typed, as Slack shows it literally. Slack reads `&`, `<` and `>` as
/// control characters (`<!channel>` pings everyone, `<https://…|bank>` disguises a
/// link), and asks for exactly these three to be escaped.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The request body: Slack-compatible (`text` plus `blocks`) or Foghorn's generic JSON.
pub fn webhook_body(format: WebhookFormat, message_id: &str, p: &Payload, link: &str) -> serde_json::Value {
    let reference = incident_ref(p.incident_number);
    let drill = if p.is_drill { "[DRILL] " } else { "" };
    if format == WebhookFormat::Slack {
        let (title, headline) = (slack_escape(&p.title), slack_escape(&p.headline));
        let text = format!("{drill}[{}] {reference} {title}: {headline}", p.severity.label());
        let mut blocks = vec![json!({
            "type": "section",
            "text": { "type": "mrkdwn", "text": format!("{drill}*<{link}|{reference}> {title}*\n{} · {}\n{headline}", p.severity.label(), p.status.label()) }
        })];
        if !p.details.is_empty() {
            blocks.push(json!({ "type": "section", "text": { "type": "mrkdwn", "text": slack_escape(&p.details) } }));
        }
        json!({ "text": text, "blocks": blocks })
    } else {
        json!({
            "message_id": message_id,
            "event": p.event.as_str(),
            "incident": {
                "number": p.incident_number,
                "ref": reference,
                "title": p.title,
                "severity": p.severity.label(),
                "status": p.status.as_str(),
                "drill": p.is_drill,
                "url": link,
            },
            "headline": p.headline,
            "details": p.details,
        })
    }
}
