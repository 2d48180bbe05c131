use super::on_unique;
use crate::error::AppError;
use crate::model::{AuditKind, Service, ServiceId, TeamId};
use sqlx::PgPool;

/// A service as an admin submits it, validated.
pub struct ServiceInput {
    pub name: String,
    pub description: String,
    pub team_id: Option<TeamId>,
}

impl ServiceInput {
    pub fn parse(name: &str, description: &str, team_id: &str) -> Result<Self, AppError> {
        let name = crate::model::ServiceName::parse(name)?.into_inner();
        let description = crate::model::ServiceDescription::parse(description)?.into_inner();
        let team_id = match team_id.trim() {
            "" => None,
            id => Some(id.parse().map_err(|_| AppError::invalid("team_id", "Choose a team."))?),
        };
        Ok(Self { name: name.to_owned(), description: description.to_owned(), team_id })
    }
}

fn on_write_error(err: sqlx::Error) -> AppError {
    match &err {
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
            AppError::invalid("team_id", "Choose an existing team.")
        }
        _ => on_unique(err, "services_name_key", "name", "A service with this name already exists."),
    }
}

pub async fn list(pool: &PgPool) -> Result<Vec<Service>, AppError> {
    Ok(sqlx::query_as!(
        Service,
        r#"SELECT s.id, s.name, s.description, s.team_id AS "team_id: TeamId", t.name AS "team_name?", s.public
             FROM services s LEFT JOIN teams t ON t.id = s.team_id
            ORDER BY lower(s.name)"#
    )
    .fetch_all(pool)
    .await?)
}

/// Creates a service, recorded in the audit trail as `actor`'s doing.
pub async fn create(pool: &PgPool, actor: &super::audit::Actor, input: &ServiceInput) -> Result<i64, AppError> {
    let mut tx = pool.begin().await?;
    let id: i64 = sqlx::query_scalar!(
        "INSERT INTO services (name, description, team_id) VALUES ($1, $2, $3) RETURNING id",
        &input.name,
        &input.description,
        input.team_id.map(|v| v.0)
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(on_write_error)?;
    let details = serde_json::json!({ "service_id": id, "team_id": input.team_id });
    let target = format!("service {}", input.name);
    super::audit::record(&mut *tx, actor, AuditKind::ServiceCreated, &target, details).await?;
    tx.commit().await?;
    Ok(id)
}

/// Changes a service, recorded in the audit trail as `actor`'s doing.
pub async fn update(
    pool: &PgPool,
    actor: &super::audit::Actor,
    id: ServiceId,
    input: &ServiceInput,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let previous: Option<String> = sqlx::query_scalar!("SELECT name FROM services WHERE id = $1 FOR UPDATE", id.0)
        .fetch_optional(&mut *tx)
        .await?;
    let previous = previous.ok_or_else(|| AppError::NotFound("That service".into()))?;
    sqlx::query!(
        "UPDATE services SET name = $2, description = $3, team_id = $4 WHERE id = $1",
        id.0,
        &input.name,
        &input.description,
        input.team_id.map(|v| v.0)
    )
    .execute(&mut *tx)
    .await
    .map_err(on_write_error)?;
    let details = serde_json::json!({ "service_id": id, "name": { "from": previous, "to": input.name }, "team_id": input.team_id });
    let target = format!("service {}", input.name);
    super::audit::record(&mut *tx, actor, AuditKind::ServiceChanged, &target, details).await?;
    tx.commit().await?;
    Ok(())
}
