//! Communication: comms updates on incidents, the public services' state, and admins'
//! notification settings and delivery log.

use crate::error::AppError;
use crate::model::*;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::server::{
    self,
    db::{audit, comms, notifications, outbox, status},
    policy::Permission,
};
#[cfg(feature = "ssr")]
use serde_json::json;

/// What the comms form sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct CommsForm {
    pub number: IncidentNumber,
    pub affected: String,
    pub known: String,
    pub doing: String,
    /// Minutes; empty for no promise.
    pub next_update_minutes: String,
    pub internal: bool,
    pub public: bool,
    pub public_text: String,
}

#[server(endpoint = "post_comms_update", input = Json)]
pub async fn post_comms_update(update: CommsForm) -> Result<(), AppError> {
    let (state, me) = server::authorized_on(Permission::RespondToIncidents, update.number).await?;
    let input = comms::UpdateInput::parse(
        &update.affected,
        &update.known,
        &update.doing,
        &update.next_update_minutes,
        update.internal,
        update.public,
        &update.public_text,
    )?;
    comms::post(&state.pool, &me, update.number, &input).await
}

#[server(endpoint = "list_comms_updates")]
pub async fn list_comms_updates(number: IncidentNumber) -> Result<Vec<CommsUpdate>, AppError> {
    let (state, _) = server::authorized_on(Permission::ReadIncidents, number).await?;
    comms::for_incident(&state.pool, number).await
}

/// Active SEV1/SEV2 incidents, for the banner every signed-in page shows.
#[server(endpoint = "list_major_incidents")]
pub async fn list_major_incidents() -> Result<Vec<MajorIncident>, AppError> {
    let (state, me) = server::authorized(Permission::ReadIncidents).await?;
    comms::major_incidents(&state.pool, me.id).await
}

/// Sets a public service's state by hand, for incident `number` (see
/// [`status::override_state`] for who may); an empty `state` returns it to the state
/// derived from incidents.
#[server(endpoint = "override_service_state")]
pub async fn override_service_state(
    number: IncidentNumber,
    service_id: ServiceId,
    state: String,
) -> Result<(), AppError> {
    let (app, me) = server::authorized_on(Permission::RespondToIncidents, number).await?;
    let state = match state.trim() {
        "" => None,
        s => Some(s.parse::<ServiceState>().map_err(|m| AppError::invalid("state", m))?),
    };
    status::override_state(&app.pool, &me, number, service_id, state).await
}

/// The public services as the status page shows them, for the comms controls.
#[server(endpoint = "get_public_status")]
pub async fn get_public_status() -> Result<PublicStatus, AppError> {
    let (state, _) = server::authorized(Permission::ReadIncidents).await?;
    status::current(&state.pool, time::OffsetDateTime::now_utc()).await
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct PolicyForm {
    pub name: String,
    pub severities: Vec<String>,
    pub events: Vec<String>,
    /// Addresses separated by commas, spaces or lines.
    pub recipients: String,
    pub owning_team: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct WebhookForm {
    pub name: String,
    pub url: String,
    pub format: String,
    pub severities: Vec<String>,
    pub events: Vec<String>,
    /// Also for private incidents (their title and updates leave Foghorn through it).
    pub private_incidents: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotificationSettings {
    pub policies: Vec<NotificationPolicy>,
    pub webhooks: Vec<Webhook>,
    pub deliveries: Vec<Delivery>,
}

#[server(endpoint = "get_notification_settings")]
pub async fn get_notification_settings() -> Result<NotificationSettings, AppError> {
    let (state, _) = server::authorized(Permission::ManageNotifications).await?;
    Ok(NotificationSettings {
        policies: notifications::policies(&state.pool).await?,
        webhooks: notifications::webhooks(&state.pool).await?,
        deliveries: outbox::recent(&state.pool, 200).await?,
    })
}

#[server(endpoint = "create_notification_policy", input = Json)]
pub async fn create_notification_policy(policy: PolicyForm) -> Result<i64, AppError> {
    let (state, me) = server::authorized(Permission::ManageNotifications).await?;
    let mut tx = state.pool.begin().await?;
    let id = notifications::create_policy(
        &mut *tx,
        &policy.name,
        &policy.severities,
        &policy.events,
        &policy.recipients,
        policy.owning_team,
    )
    .await?;
    let details = json!({ "policy_id": id, "severities": policy.severities, "events": policy.events,
        "recipients": policy.recipients, "owning_team": policy.owning_team });
    let target = format!("notification policy {}", policy.name.trim());
    audit::record(&mut *tx, &server::actor(&me), AuditKind::NotificationPolicyCreated, &target, details).await?;
    tx.commit().await?;
    tracing::info!(target: "foghorn::audit", by = me.id.0, policy = id, "notification policy created");
    Ok(id)
}

#[server(endpoint = "delete_notification_policy")]
pub async fn delete_notification_policy(id: i64) -> Result<(), AppError> {
    let (state, me) = server::authorized(Permission::ManageNotifications).await?;
    let mut tx = state.pool.begin().await?;
    if let Some(name) = notifications::delete_policy(&mut *tx, id).await? {
        let target = format!("notification policy {name}");
        let details = json!({ "policy_id": id });
        audit::record(&mut *tx, &server::actor(&me), AuditKind::NotificationPolicyDeleted, &target, details).await?;
    }
    Ok(tx.commit().await?)
}

#[server(endpoint = "create_webhook", input = Json)]
pub async fn create_webhook(webhook: WebhookForm) -> Result<i64, AppError> {
    let (state, me) = server::authorized(Permission::ManageNotifications).await?;
    let mut tx = state.pool.begin().await?;
    let id = notifications::create_webhook(
        &mut *tx,
        &webhook.name,
        &webhook.url,
        &webhook.format,
        &webhook.severities,
        &webhook.events,
        webhook.private_incidents,
    )
    .await?;
    // Not the address: a chat webhook's URL is itself a secret.
    let details = json!({ "webhook_id": id, "format": webhook.format, "severities": webhook.severities,
        "events": webhook.events, "private_incidents": webhook.private_incidents });
    let target = format!("webhook {}", webhook.name.trim());
    audit::record(&mut *tx, &server::actor(&me), AuditKind::WebhookCreated, &target, details).await?;
    tx.commit().await?;
    tracing::info!(target: "foghorn::audit", by = me.id.0, webhook = id, "webhook created");
    Ok(id)
}

#[server(endpoint = "delete_webhook")]
pub async fn delete_webhook(id: i64) -> Result<(), AppError> {
    let (state, me) = server::authorized(Permission::ManageNotifications).await?;
    let mut tx = state.pool.begin().await?;
    if let Some(name) = notifications::delete_webhook(&mut *tx, id).await? {
        let target = format!("webhook {name}");
        audit::record(&mut *tx, &server::actor(&me), AuditKind::WebhookDeleted, &target, json!({ "webhook_id": id }))
            .await?;
    }
    Ok(tx.commit().await?)
}

#[server(endpoint = "retry_delivery")]
pub async fn retry_delivery(id: i64) -> Result<(), AppError> {
    let (state, _) = server::authorized(Permission::ManageNotifications).await?;
    outbox::retry(&state.pool, id).await
}

#[server(endpoint = "set_service_public")]
pub async fn set_service_public(id: ServiceId, public: bool) -> Result<(), AppError> {
    let (state, me) = server::authorized(Permission::ManageServices).await?;
    let mut tx = state.pool.begin().await?;
    let name = notifications::set_service_public(&mut *tx, id, public).await?;
    let details = json!({ "service_id": id, "public": public });
    audit::record(&mut *tx, &server::actor(&me), AuditKind::ServiceChanged, &format!("service {name}"), details)
        .await?;
    Ok(tx.commit().await?)
}
