//! `/api/v1/chat/slack/command` (and `/chat/mattermost/command`): the `/incident`
//! slash command, for Slack (requests signed with the app's signing secret) and
//! Mattermost (requests carrying the command's token).
//!
//! The person who typed the command acts as the Foghorn user who entered their chat
//! user id on their account page, with that user's rights. The work is committed before
//! the answer, which is an ephemeral message (or, for a declaration, one to the channel)
//! well within Slack's three seconds.

use super::problem::ProblemDocument;
use super::{Api, Problem};
use crate::links::base_url;
use app::error::AppError;
use app::model::*;
use app::server::db::{self, audit::Actor, incident_pages, incident_people, incidents};
use app::server::policy::{self, Permission};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::HashMap;

/// Slack refuses to replay requests older than this; so do we.
const MAX_AGE_SECS: i64 = 5 * 60;

/// Whether `signature` (`v0=<hex>`) is Slack's signature of `body` sent at `timestamp`,
/// compared in constant time; `now` in Unix seconds.
pub fn slack_signature_valid(
    secret: &str,
    timestamp: &str,
    body: &[u8],
    signature: &str,
    now: i64,
) -> Result<(), String> {
    let sent: i64 = timestamp.trim().parse().map_err(|_| "The request has no valid X-Slack-Request-Timestamp.")?;
    if (now - sent).abs() > MAX_AGE_SECS {
        return Err(
            "The request is older than five minutes (or the clocks disagree): refused as a possible replay.".into()
        );
    }
    let hex = signature.strip_prefix("v0=").ok_or("The X-Slack-Signature is not a v0 signature.")?;
    let bytes: Option<Vec<u8>> =
        (0..hex.len()).step_by(2).map(|i| hex.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok())).collect();
    let bytes = bytes.ok_or("The X-Slack-Signature is not hexadecimal.")?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).map_err(|_| "No signing secret.")?;
    mac.update(format!("v0:{}:", timestamp.trim()).as_bytes());
    mac.update(body);
    mac.verify_slice(&bytes).map_err(|_| "The X-Slack-Signature does not match: check the signing secret.".to_owned())
}

/// Equal strings, in time that does not depend on where they differ.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// What Slack and Mattermost show: to the person who typed (`ephemeral`) or the channel.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ChatReply {
    pub response_type: String,
    pub text: String,
}

fn reply(text: impl Into<String>) -> Response {
    axum::Json(ChatReply { response_type: "ephemeral".into(), text: text.into() }).into_response()
}

fn refuse(status: StatusCode, detail: impl Into<String>) -> Response {
    Problem::new(status, if status == StatusCode::NOT_FOUND { "not_found" } else { "unauthenticated" }, detail)
        .into_response()
}

/// `POST`: verifies who sent the command, then runs it.
#[utoipa::path(post, path = "/chat/slack/command", tag = "chat", request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "Slack's (or Mattermost's) slash command form"), responses((status = 200, description = "The message to show", body = ChatReply), (status = "default", description = "A problem (RFC 9457): 400, 401, 403, 404, 412, 415, 422, 428, 429", body = ProblemDocument, content_type = "application/problem+json")))]
pub async fn command(State(api): State<Api>, headers: HeaderMap, body: Bytes) -> Response {
    let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    let settings = &api.settings;
    if let Some(signature) = headers.get("x-slack-signature").and_then(|v| v.to_str().ok()) {
        let Some(secret) = &settings.slack_signing_secret else {
            return refuse(StatusCode::NOT_FOUND, "Slack commands are not enabled on this Foghorn.");
        };
        let timestamp = headers.get("x-slack-request-timestamp").and_then(|v| v.to_str().ok()).unwrap_or("");
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        if let Err(why) = slack_signature_valid(secret, timestamp, &body, signature, now) {
            tracing::warn!(target: "foghorn::audit", %why, "refused: Slack command");
            return refuse(StatusCode::UNAUTHORIZED, why);
        }
    } else if let Some(expected) = &settings.mattermost_token {
        if !form.get("token").is_some_and(|t| same_secret(t, expected)) {
            tracing::warn!(target: "foghorn::audit", "refused: Mattermost command with a wrong token");
            return refuse(StatusCode::UNAUTHORIZED, "The command's token does not match FOGHORN_MATTERMOST_TOKEN.");
        }
    } else if settings.slack_signing_secret.is_some() {
        return refuse(StatusCode::UNAUTHORIZED, "The request is not signed (X-Slack-Signature).");
    } else {
        return refuse(StatusCode::NOT_FOUND, "Chat commands are not enabled on this Foghorn.");
    }

    let chat_user = form.get("user_id").map(String::as_str).unwrap_or_default();
    let user = match db::users::find_by_chat_user_id(&api.state.pool, chat_user).await {
        Ok(Some(user)) => user,
        Ok(None) => {
            return reply(format!(
                "Foghorn does not know you yet. Open Foghorn, go to Account, and enter your chat user id `{chat_user}` \
                 under \"Chat\"; then try again."
            ));
        }
        Err(err) => return reply(err.to_string()),
    };
    let base = base_url(&api.web, &headers);
    let text = form.get("text").map(String::as_str).unwrap_or_default();
    let ip = format!("chat {}", form.get("user_name").map(String::as_str).unwrap_or(chat_user));
    match run(&api, &user, text, &base, &ip).await {
        Ok(response) => response,
        Err(err) => reply(err.to_string()),
    }
}

const HELP: &str = "Usage:\n\
    • `/incident declare SEV2 Checkout is failing`: declares an incident (you take point)\n\
    • `/incident note INC-42 Rolled back the deploy`: posts a note to its timeline\n\
    • `/incident status INC-42`: where it stands";

/// Runs the command `text` as `user`.
async fn run(api: &Api, user: &db::users::UserRecord, text: &str, base: &str, ip: &str) -> Result<Response, AppError> {
    let me = user.caller();
    let (verb, rest) = text.trim().split_once(char::is_whitespace).unwrap_or((text.trim(), ""));
    let rest = rest.trim();
    let pool = &api.state.pool;
    match verb.to_ascii_lowercase().as_str() {
        "declare" => {
            let me = policy::authorize(Some(me), Permission::RespondToIncidents)?;
            let (severity, title) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            let severity: Severity =
                severity.parse().map_err(|m| AppError::invalid("severity", format!("{m} Start with SEV1 to SEV4.")))?;
            let fields = incidents::IncidentFields::parse(title, "", None, Vec::new())?;
            let actor = Actor::user(&me, ip);
            let number = incidents::declare(
                pool,
                &me,
                &incidents::NewIncident {
                    fields: &fields,
                    severity,
                    point: Some(me.id),
                    is_drill: false,
                    privacy: Privacy::default(),
                },
                &actor,
            )
            .await?;
            let text = format!(
                "{} declared {} ({severity}): {} — {base}/incidents/{number}",
                me.display_name,
                incident_ref(number),
                fields.title
            );
            Ok(axum::Json(ChatReply { response_type: "in_channel".into(), text }).into_response())
        }
        "note" => {
            let me = policy::authorize(Some(me), Permission::RespondToIncidents)?;
            let (number, body) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            let number = parse_number(number)?;
            incident_people::visible_id(pool, number, Some(me.id)).await?;
            incidents::post_note(pool, number, me.id, body).await?;
            Ok(reply(format!("Noted on {}: {base}/incidents/{number}", incident_ref(number))))
        }
        "status" => {
            let me = policy::authorize(Some(me), Permission::ReadIncidents)?;
            let number = parse_number(rest)?;
            let (i, _, _) = incident_pages::detail(pool, number, me.id).await?;
            let name =
                |p: &Option<Person>| p.as_ref().map(|p| p.display_name.clone()).unwrap_or_else(|| "nobody".into());
            Ok(reply(format!(
                "{} ({}, {}): {}\nPoint: {}. Comms: {}.\n{base}/incidents/{number}",
                incident_ref(number),
                i.severity,
                i.status.label(),
                i.title,
                name(&i.point),
                name(&i.comms)
            )))
        }
        _ => Ok(reply(HELP)),
    }
}

fn parse_number(text: &str) -> Result<IncidentNumber, AppError> {
    parse_incident_ref(text).ok_or_else(|| {
        AppError::invalid("number", format!("\"{}\" is not an incident like INC-42.\n{HELP}", text.trim()))
    })
}
