//! Alerts from Prometheus Alertmanager and Grafana: routed by the admins' rules,
//! grouped by the sender's group key, declaring at most one open incident per group.
//!
//! A notification is applied under its group's row lock, and only what changed since
//! the group's last notification (an alert firing, one resolving) reaches the timeline:
//! a retry, or a replay of a notification already applied, changes nothing. Foghorn
//! never resolves an incident by itself; when every alert has resolved it says so.

use super::{alert_routes, audit, incidents, timeline};
use crate::error::AppError;
use crate::model::*;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use std::collections::BTreeMap;

pub(crate) type Labels = BTreeMap<String, String>;

/// Alertmanager's webhook body (version 4). Grafana's webhook contact point sends the
/// same shape with more fields, which are ignored.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    pub group_key: String,
    pub status: String,
    #[serde(default)]
    pub receiver: String,
    pub alerts: Vec<Alert>,
    #[serde(default)]
    pub common_labels: Labels,
    #[serde(default)]
    pub common_annotations: Labels,
    /// How many alerts the sender left out (its `max_alerts`).
    #[serde(default)]
    pub truncated_alerts: u64,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    pub status: String,
    #[serde(default)]
    pub labels: Labels,
    #[serde(default)]
    pub annotations: Labels,
    #[serde(default, rename = "generatorURL")]
    pub generator_url: String,
    #[serde(default)]
    pub fingerprint: String,
}

impl Notification {
    /// Reads a request body; a clear message for anything that is not a notification.
    pub fn parse(body: &[u8]) -> Result<Self, AppError> {
        let n: Notification = serde_json::from_slice(body).map_err(|e| {
            AppError::invalid("body", format!("This is not an Alertmanager webhook notification: {e}."))
        })?;
        if n.group_key.trim().is_empty() {
            return Err(AppError::invalid("groupKey", "The notification has no groupKey."));
        }
        for status in std::iter::once(&n.status).chain(n.alerts.iter().map(|a| &a.status)) {
            if status != "firing" && status != "resolved" {
                return Err(AppError::invalid(
                    "status",
                    format!("Unknown alert status \"{status}\": firing or resolved."),
                ));
            }
        }
        Ok(n)
    }

    /// The labels routing rules are matched against: those of the group's first firing
    /// alert (or its first alert), which include the labels every alert shares.
    fn route_labels(&self) -> Labels {
        let first = self.alerts.iter().find(|a| a.status == "firing").or(self.alerts.first());
        let mut labels = first.map(|a| a.labels.clone()).unwrap_or_default();
        labels.extend(self.common_labels.clone());
        labels
    }

    fn first_annotation(&self, name: &str) -> Option<&str> {
        self.common_annotations
            .get(name)
            .or_else(|| self.alerts.iter().find_map(|a| a.annotations.get(name)))
            .map(String::as_str)
            .filter(|s| !s.trim().is_empty())
    }
}

/// What Foghorn remembers of one alert between notifications.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Seen {
    status: String,
    name: String,
    /// Which one of the group's alerts (its `instance` label), when it says.
    #[serde(default)]
    instance: String,
    summary: String,
    url: String,
}

impl Seen {
    fn of(alert: &Alert) -> Self {
        let text = |map: &Labels, key: &str| map.get(key).cloned().unwrap_or_default();
        Seen {
            status: alert.status.clone(),
            name: alert.labels.get("alertname").cloned().unwrap_or_else(|| "alert".to_owned()),
            instance: text(&alert.labels, "instance"),
            summary: [text(&alert.annotations, "summary"), text(&alert.annotations, "description")]
                .into_iter()
                .find(|s| !s.trim().is_empty())
                .unwrap_or_default(),
            url: alert.generator_url.clone(),
        }
    }
}

/// The sender's fingerprint, or (from a sender without one) the alert's labels.
fn fingerprint(alert: &Alert) -> String {
    if alert.fingerprint.is_empty() {
        alert.labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",")
    } else {
        alert.fingerprint.clone()
    }
}

/// What applying a notification did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Received {
    /// The group's open incident (`INC-<n>`), if it has one.
    pub incident: Option<String>,
    pub declared: bool,
    /// Alerts that started firing or resolved with this notification.
    pub changes: usize,
}

/// Applies one notification, as `by` (the service token's bot).
pub async fn receive(
    pool: &PgPool,
    by: &Caller,
    actor: &audit::Actor,
    source: AlertSource,
    n: &Notification,
) -> Result<Received, AppError> {
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "INSERT INTO alert_groups (source, group_key, status) VALUES ($1, $2, $3)
         ON CONFLICT (source, group_key) DO NOTHING",
        source.as_str(),
        &n.group_key,
        &n.status
    )
    .execute(&mut *tx)
    .await?;
    let group = sqlx::query!(
        r#"SELECT g.id, g.incident_id, g.alerts::text AS "seen!", i.number AS "number?", i.status AS "status?"
             FROM alert_groups g LEFT JOIN incidents i ON i.id = g.incident_id
            WHERE g.source = $1 AND g.group_key = $2 FOR UPDATE OF g"#,
        source.as_str(),
        &n.group_key
    )
    .fetch_one(&mut *tx)
    .await?;
    let (group_id, mut incident_id, seen, number, status) =
        (group.id, group.incident_id, group.seen, group.number, group.status);
    let mut seen: BTreeMap<String, Seen> = serde_json::from_str(&seen).unwrap_or_default();
    let was_all_resolved = !seen.is_empty() && seen.values().all(|s| s.status == "resolved");
    let (mut firing, mut resolved) = (Vec::new(), Vec::new());
    for alert in &n.alerts {
        let now = Seen::of(alert);
        let key = fingerprint(alert);
        if seen.get(&key).is_none_or(|before| before.status != now.status) {
            if now.status == "firing" { firing.push(now.clone()) } else { resolved.push(now.clone()) }
        }
        seen.insert(key, now);
    }
    let all_resolved = seen.values().all(|s| s.status == "resolved");
    let labels = n.route_labels();
    let route = alert_routes::route_for(&mut tx, &labels).await?;
    let open = number.is_some() && status.as_deref() != Some(Status::Resolved.as_str());
    let changes = firing.len() + resolved.len();
    let mut received = Received { incident: None, declared: false, changes };

    if open {
        let number = number.unwrap_or_default();
        if changes > 0 {
            let incident = incidents::lock(&mut tx, IncidentNumber(number)).await?;
            let text = changes_text(source, n, &firing, &resolved);
            timeline::append(&mut tx, incident.id, EntryKind::Alert, Some(by.id), &text).await?;
            if all_resolved && !was_all_resolved {
                let text = "Every alert of this group has resolved. If the service has recovered, move the incident \
                            to monitoring: resolving it stays a person's decision.";
                timeline::append(&mut tx, incident.id, EntryKind::Alert, Some(by.id), text).await?;
            }
        }
        received.incident = Some(incident_ref(IncidentNumber(number)));
    } else if !firing.is_empty() && route.declare {
        let severity =
            route.severity.unwrap_or_else(|| severity_from_label(labels.get("severity").map(String::as_str)));
        let title = n.first_annotation("summary").or(labels.get("alertname").map(String::as_str)).unwrap_or("Alert");
        let summary = n.first_annotation("description").unwrap_or_default();
        let fields = incidents::IncidentFields::parse(
            &clip(title, IncidentTitle::MAX),
            &clip(summary, Summary::MAX),
            route.team_id,
            route.service_id.into_iter().collect(),
        )?;
        let (id, number) = incidents::declare_in(
            &mut tx,
            by,
            &incidents::NewIncident {
                fields: &fields,
                severity,
                point: None,
                is_drill: false,
                privacy: Privacy::default(),
            },
            actor,
        )
        .await?;
        let origin = serde_json::json!({
            "source": source, "labels": labels, "annotations": n.common_annotations,
        });
        sqlx::query!("UPDATE incidents SET alert = $2::text::jsonb WHERE id = $1", id.0, origin.to_string())
            .execute(&mut *tx)
            .await?;
        timeline::append(&mut tx, id, EntryKind::Alert, Some(by.id), &changes_text(source, n, &firing, &resolved))
            .await?;
        incident_id = Some(id.0);
        received.incident = Some(incident_ref(IncidentNumber(number)));
        received.declared = true;
    }

    sqlx::query!(
        "UPDATE alert_groups SET incident_id = $2, route_id = $3, status = $4, common_labels = $5::text::jsonb,
                common_annotations = $6::text::jsonb, alerts = $7::text::jsonb, updated_at = now()
          WHERE id = $1",
        group_id,
        incident_id,
        route.id.filter(|id| *id > 0),
        if all_resolved { "resolved" } else { "firing" },
        serde_json::to_string(&n.common_labels).unwrap_or_default(),
        serde_json::to_string(&n.common_annotations).unwrap_or_default(),
        serde_json::to_string(&seen).unwrap_or_default()
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(received)
}

fn clip(text: &str, chars: usize) -> String {
    text.trim().chars().take(chars).collect()
}

/// Text from an alert, safe inside Markdown (its punctuation shown as typed).
fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' | '!') {
            out.push('\\');
        }
        out.push(if c == '\n' { ' ' } else { c });
    }
    out
}

/// The timeline's account of what changed: each alert with its summary and a link to
/// where it comes from.
fn changes_text(source: AlertSource, n: &Notification, firing: &[Seen], resolved: &[Seen]) -> String {
    let mut text = String::new();
    let list = |text: &mut String, alerts: &[Seen]| {
        for a in alerts {
            text.push_str(&format!("\n- **{}**", md(&a.name)));
            if !a.instance.is_empty() {
                text.push_str(&format!(" on {}", md(&a.instance)));
            }
            if !a.summary.is_empty() {
                text.push_str(&format!(": {}", md(&a.summary)));
            }
            if a.url.starts_with("https://") || a.url.starts_with("http://") {
                let url = a.url.replace(' ', "%20").replace('(', "%28").replace(')', "%29");
                text.push_str(&format!(" ([source]({url}))"));
            }
        }
    };
    let count = |n: usize| if n == 1 { "1 alert".to_owned() } else { format!("{n} alerts") };
    if !firing.is_empty() {
        text.push_str(&format!("**{} firing** ({})", count(firing.len()), source.label()));
        list(&mut text, firing);
    }
    if !resolved.is_empty() {
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        text.push_str(&format!("**{} resolved** ({})", count(resolved.len()), source.label()));
        list(&mut text, resolved);
    }
    if n.truncated_alerts > 0 {
        text.push_str(&format!(
            "\n\n_{} more left out of this notification by {} (its max\\_alerts)._",
            count(n.truncated_alerts as usize),
            source.label()
        ));
    }
    text
}

/// The incident page's view of the alert that declared it (stored as JSON text).
pub fn origin(stored: &str, all_resolved: bool) -> Option<AlertOrigin> {
    #[derive(Deserialize)]
    struct Stored {
        source: AlertSource,
        #[serde(default)]
        labels: Labels,
        #[serde(default)]
        annotations: Labels,
    }
    let s: Stored = serde_json::from_str(stored).ok()?;
    Some(AlertOrigin {
        source: s.source,
        labels: s.labels.into_iter().collect(),
        annotations: s.annotations.into_iter().collect(),
        all_resolved,
    })
}
