//! Reading incidents for pages: the dashboard, the incident page, and the summary rows
//! the history shares. Every query filters by who is reading (see `policy`).

use super::{IncidentId, person, severity_of, timeline};
use crate::error::AppError;
use crate::model::*;
use crate::server::policy;
use sqlx::PgPool;
use time::OffsetDateTime;

#[derive(sqlx::FromRow)]
pub(super) struct SummaryRow {
    pub(super) id: i64,
    number: IncidentNumber,
    title: String,
    severity: i16,
    status: String,
    is_drill: bool,
    private: bool,
    team_name: Option<String>,
    point_id: Option<i64>,
    point_name: Option<String>,
    comms_id: Option<i64>,
    comms_name: Option<String>,
    pub(super) declared_at: OffsetDateTime,
    resolved_at: Option<OffsetDateTime>,
    updated_at: OffsetDateTime,
    next_update_at: Option<OffsetDateTime>,
}

/// A stored status; the schema constrains it, so the fallback is never used in practice.
fn status_of(stored: &str) -> Status {
    stored.parse().unwrap_or(Status::Investigating)
}

impl From<SummaryRow> for IncidentSummary {
    fn from(r: SummaryRow) -> Self {
        IncidentSummary {
            number: r.number,
            title: r.title,
            severity: severity_of(r.severity),
            status: status_of(&r.status),
            is_drill: r.is_drill,
            private: r.private,
            team_name: r.team_name,
            point: person(r.point_id, r.point_name),
            comms: person(r.comms_id, r.comms_name),
            declared_at: r.declared_at,
            resolved_at: r.resolved_at,
            updated_at: r.updated_at,
            next_update_at: r.next_update_at,
        }
    }
}

pub(super) const SUMMARY_SELECT: &str = "
    SELECT i.id, i.number, i.title, i.severity, i.status, i.is_drill, i.private, t.name AS team_name,
           p.user_id AS point_id, pu.display_name AS point_name,
           c.user_id AS comms_id, cu.display_name AS comms_name,
           i.declared_at, i.resolved_at, i.updated_at, i.next_update_at
      FROM incidents i
      LEFT JOIN teams t ON t.id = i.team_id
      LEFT JOIN incident_roles p ON p.incident_id = i.id AND p.role = 'point' AND p.ended_at IS NULL
      LEFT JOIN users pu ON pu.id = p.user_id
      LEFT JOIN incident_roles c ON c.incident_id = i.id AND c.role = 'comms' AND c.ended_at IS NULL
      LEFT JOIN users cu ON cu.id = c.user_id";

/// The signed-in home page: what is burning, what I hold, what just ended.
pub async fn dashboard(pool: &PgPool, user_id: UserId) -> Result<Dashboard, AppError> {
    let visible = policy::incident_visible("i", "$1");
    // Dynamic: the visibility rule is spliced in (see `policy::incident_visible`); sqlx's macros take one literal.
    let active: Vec<SummaryRow> = sqlx::query_as(&format!(
        "{SUMMARY_SELECT} WHERE i.status <> 'resolved' AND {visible} ORDER BY i.severity, i.declared_at LIMIT 200"
    ))
    .bind(user_id)
    .fetch_all(pool)
    .await?;
    // Holding a role makes an incident visible: no further filter needed.
    // Dynamic: the visibility rule is spliced in (see `policy::incident_visible`); sqlx's macros take one literal.
    let mine: Vec<SummaryRow> = sqlx::query_as(&format!(
        "{SUMMARY_SELECT} WHERE i.status <> 'resolved'
           AND EXISTS (SELECT 1 FROM incident_roles r WHERE r.incident_id = i.id AND r.user_id = $1 AND r.ended_at IS NULL)
         ORDER BY i.severity, i.declared_at LIMIT 100"
    ))
    .bind(user_id)
    .fetch_all(pool)
    .await?;
    // Dynamic: the visibility rule is spliced in (see `policy::incident_visible`); sqlx's macros take one literal.
    let resolved: Vec<SummaryRow> = sqlx::query_as(&format!(
        "{SUMMARY_SELECT} WHERE i.status = 'resolved' AND i.resolved_at > now() - interval '7 days' AND {visible}
         ORDER BY i.resolved_at DESC LIMIT 50"
    ))
    .bind(user_id)
    .fetch_all(pool)
    .await?;
    Ok(Dashboard {
        active: active.into_iter().map(Into::into).collect(),
        mine: mine.into_iter().map(Into::into).collect(),
        recently_resolved: resolved.into_iter().map(Into::into).collect(),
    })
}

/// The whole incident page: header, the timeline (and how many entries it has in all),
/// role history. The timeline is the latest [`TIMELINE_PAGE`] entries, or with
/// `timeline_from` every entry from that sequence number on (the newest [`TIMELINE_MAX`]).
pub async fn view(
    pool: &PgPool,
    number: IncidentNumber,
    timeline_from: Option<i64>,
    viewer: UserId,
) -> Result<(IncidentDetail, (Vec<TimelineEntry>, i64), Vec<RoleAssignment>), AppError> {
    let (detail, id, roles) = detail(pool, number, viewer).await?;
    // Sequence numbers have no gaps, so the last one is how many entries there are.
    let timeline = match timeline_from {
        None => timeline::latest(pool, id, 1, TIMELINE_PAGE).await?,
        Some(from) => timeline::latest(pool, id, from, TIMELINE_MAX).await?,
    };
    let total = detail.last_seq;
    Ok((detail, (timeline, total), roles))
}

/// The incident as its page's header shows it (for `viewer`: 404 when they may not see
/// it), its id, and who held which role: [`view`] without the timeline.
pub async fn detail(
    pool: &PgPool,
    number: IncidentNumber,
    viewer: UserId,
) -> Result<(IncidentDetail, IncidentId, Vec<RoleAssignment>), AppError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: i64,
        title: String,
        summary: String,
        severity: i16,
        status: String,
        is_drill: bool,
        private: bool,
        team_can_see: bool,
        team_id: Option<TeamId>,
        team_name: Option<String>,
        resolution: String,
        started_at: Option<OffsetDateTime>,
        detected_at: Option<OffsetDateTime>,
        declared_at: OffsetDateTime,
        acknowledged_at: Option<OffsetDateTime>,
        mitigated_at: Option<OffsetDateTime>,
        resolved_at: Option<OffsetDateTime>,
        version: i32,
        last_seq: i64,
        postmortem_status: Option<String>,
        next_update_at: Option<OffsetDateTime>,
        alert: Option<String>,
        alert_resolved: Option<bool>,
    }
    // Dynamic: the visibility rule is spliced in (see `policy::incident_visible`); sqlx's macros take one literal.
    let row: Row = sqlx::query_as(&format!(
        "SELECT i.id, i.title, i.summary, i.severity, i.status, i.is_drill, i.private, i.team_can_see, i.team_id,
                t.name AS team_name, i.resolution, i.started_at, i.detected_at, i.declared_at, i.acknowledged_at,
                i.mitigated_at, i.resolved_at, i.version, i.last_seq,
                (SELECT p.status FROM postmortems p WHERE p.incident_id = i.id) AS postmortem_status, i.next_update_at,
                i.alert::text AS alert,
                (SELECT g.status = 'resolved' FROM alert_groups g WHERE g.incident_id = i.id
                  ORDER BY g.updated_at DESC LIMIT 1) AS alert_resolved
           FROM incidents i LEFT JOIN teams t ON t.id = i.team_id WHERE i.number = $1 AND {}",
        policy::incident_visible("i", "$2")
    ))
    .bind(number)
    .bind(viewer)
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| AppError::NotFound(incident_ref(number)))?;

    let services = sqlx::query_as!(
        ServiceRef,
        "SELECT s.id, s.name FROM incident_services x JOIN services s ON s.id = x.service_id
          WHERE x.incident_id = $1 ORDER BY lower(s.name)",
        row.id
    )
    .fetch_all(pool)
    .await?;

    struct RoleRow {
        role: String,
        user_id: UserId,
        display_name: String,
        by_id: Option<i64>,
        by_name: Option<String>,
        started_at: OffsetDateTime,
        ended_at: Option<OffsetDateTime>,
    }
    let role_rows: Vec<RoleRow> = sqlx::query_as!(RoleRow, r#"SELECT r.role, r.user_id, u.display_name, r.assigned_by AS by_id, b.display_name AS "by_name?", r.started_at, r.ended_at
           FROM incident_roles r JOIN users u ON u.id = r.user_id LEFT JOIN users b ON b.id = r.assigned_by
          WHERE r.incident_id = $1 ORDER BY r.started_at, r.id"#, row.id)
    .fetch_all(pool)
    .await?;
    let roles: Vec<RoleAssignment> = role_rows
        .into_iter()
        .filter_map(|r| {
            Some(RoleAssignment {
                role: r.role.parse().ok()?,
                person: Person { id: r.user_id, display_name: r.display_name },
                assigned_by: person(r.by_id, r.by_name),
                started_at: r.started_at,
                ended_at: r.ended_at,
            })
        })
        .collect();
    let current =
        |role: IncidentRole| roles.iter().find(|r| r.role == role && r.ended_at.is_none()).map(|r| r.person.clone());
    let detail = IncidentDetail {
        number,
        title: row.title,
        summary: row.summary,
        severity: severity_of(row.severity),
        status: status_of(&row.status),
        is_drill: row.is_drill,
        privacy: Privacy { private: row.private, team_can_see: row.team_can_see },
        team_id: row.team_id,
        team_name: row.team_name,
        services,
        point: current(IncidentRole::Point),
        comms: current(IncidentRole::Comms),
        participants: roles
            .iter()
            .filter(|r| r.role == IncidentRole::Participant && r.ended_at.is_none())
            .map(|r| r.person.clone())
            .collect(),
        resolution: row.resolution,
        timestamps: Timestamps {
            started: row.started_at,
            detected: row.detected_at,
            declared: row.declared_at,
            acknowledged: row.acknowledged_at,
            mitigated: row.mitigated_at,
            resolved: row.resolved_at,
        },
        version: row.version,
        last_seq: row.last_seq,
        postmortem: row.postmortem_status.and_then(|s| s.parse().ok()),
        next_update_at: row.next_update_at,
        alert: row.alert.as_deref().and_then(|a| super::alerts::origin(a, row.alert_resolved.unwrap_or(false))),
    };
    Ok((detail, IncidentId(row.id), roles))
}
