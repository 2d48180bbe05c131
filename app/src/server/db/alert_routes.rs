//! Alert routing rules: ordered label matchers (as Alertmanager writes them) deciding
//! the service, team and severity of an alert group's incident, or that it is only
//! recorded. Admin → Integrations and `PUT /api/v1/alert-routes` replace them.

use super::alerts::Labels;
use super::audit;
use crate::error::AppError;
use crate::model::*;
use sqlx::{PgConnection, PgPool};

/// Without a matching rule: declare, severity from the `severity` label.
fn default_route() -> AlertRoute {
    AlertRoute { name: "default".into(), declare: true, ..Default::default() }
}

fn regex(pattern: &str) -> Result<regex::Regex, regex::Error> {
    // Anchored, as Alertmanager's matchers are.
    regex::Regex::new(&format!("^(?:{pattern})$"))
}

fn holds(m: &Matcher, labels: &Labels) -> bool {
    let value = labels.get(&m.label).map(String::as_str).unwrap_or("");
    match m.op {
        MatchOp::Equal => value == m.value,
        MatchOp::NotEqual => value != m.value,
        MatchOp::Matches => regex(&m.value).is_ok_and(|re| re.is_match(value)),
        MatchOp::NotMatches => regex(&m.value).is_ok_and(|re| !re.is_match(value)),
    }
}

/// The first rule whose matchers all hold for `labels`.
pub(crate) async fn route_for(tx: &mut PgConnection, labels: &Labels) -> Result<AlertRouteChoice, AppError> {
    let route = list_in(tx).await?.into_iter().find(|r| r.matchers.iter().all(|m| holds(m, labels)));
    Ok(match route {
        Some(r) => AlertRouteChoice { id: Some(r.id), ..AlertRouteChoice::from(r) },
        None => AlertRouteChoice::from(default_route()),
    })
}

/// The rule a notification follows.
pub(crate) struct AlertRouteChoice {
    pub id: Option<i64>,
    pub service_id: Option<ServiceId>,
    pub team_id: Option<TeamId>,
    pub severity: Option<Severity>,
    pub declare: bool,
}

impl From<AlertRoute> for AlertRouteChoice {
    fn from(r: AlertRoute) -> Self {
        Self { id: None, service_id: r.service_id, team_id: r.team_id, severity: r.severity, declare: r.declare }
    }
}

async fn list_in(db: &mut PgConnection) -> Result<Vec<AlertRoute>, AppError> {
    let rows = sqlx::query!(
        r#"SELECT id, name, matchers::text AS "matchers!", service_id, team_id, severity, declare
             FROM alert_routes ORDER BY position, id"#
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| AlertRoute {
            id: r.id,
            name: r.name,
            matchers: serde_json::from_str(&r.matchers).unwrap_or_default(),
            service_id: r.service_id.map(ServiceId),
            team_id: r.team_id.map(TeamId),
            severity: r.severity.and_then(Severity::from_level),
            declare: r.declare,
        })
        .collect())
}

/// The routing rules, in order.
pub async fn routes(pool: &PgPool) -> Result<Vec<AlertRoute>, AppError> {
    list_in(&mut *pool.acquire().await?).await
}

const MAX_ROUTES: usize = 200;

fn check_route(index: usize, route: &AlertRoute) -> Result<(), AppError> {
    let field = |name: &str| format!("routes.{index}.{name}");
    RouteName::parse(&route.name).map_err(|e| e.in_field(&field("name")))?;
    for m in &route.matchers {
        let label_ok = m.label.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && m.label.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !label_ok {
            return Err(AppError::invalid(
                &field("matchers"),
                format!("\"{}\" is not a label name (letters, digits and _).", m.label),
            ));
        }
        if matches!(m.op, MatchOp::Matches | MatchOp::NotMatches)
            && let Err(e) = regex(&m.value)
        {
            return Err(AppError::invalid(
                &field("matchers"),
                format!("\"{}\" is not a regular expression: {e}", m.value),
            ));
        }
    }
    Ok(())
}

/// Replaces the routing rules with `routes`, in that order.
pub async fn save_routes(pool: &PgPool, actor: &audit::Actor, routes: &[AlertRoute]) -> Result<(), AppError> {
    if routes.len() > MAX_ROUTES {
        return Err(AppError::invalid("routes", format!("At most {MAX_ROUTES} rules.")));
    }
    for (i, route) in routes.iter().enumerate() {
        check_route(i, route)?;
    }
    let mut tx = pool.begin().await?;
    sqlx::query!("SELECT pg_advisory_xact_lock(hashtext('foghorn.alert_routes'))").execute(&mut *tx).await?;
    sqlx::query!("DELETE FROM alert_routes").execute(&mut *tx).await?;
    for (position, r) in routes.iter().enumerate() {
        sqlx::query!(
            "INSERT INTO alert_routes (position, name, matchers, service_id, team_id, severity, declare)
             VALUES ($1, $2, $3::text::jsonb, $4, $5, $6, $7)",
            position as i32,
            r.name.trim(),
            serde_json::to_string(&r.matchers).unwrap_or_else(|_| "[]".into()),
            r.service_id.map(|v| v.0),
            r.team_id.map(|v| v.0),
            r.severity.map(Severity::level),
            r.declare
        )
        .execute(&mut *tx)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                AppError::invalid(&format!("routes.{position}"), "Choose an existing service and team.")
            }
            _ => AppError::from(e),
        })?;
    }
    let details = serde_json::json!({ "rules": routes.iter().map(|r| &r.name).collect::<Vec<_>>() });
    audit::record(&mut *tx, actor, AuditKind::AlertRoutesChanged, "alert routing", details).await?;
    tx.commit().await?;
    Ok(())
}
