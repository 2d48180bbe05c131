//! Errors of the REST API as RFC 9457 problem details (`application/problem+json`).
//!
//! Every refusal the pages know ([`AppError`]) keeps its code and message; the API adds
//! the statuses only HTTP needs: 400 for a body that is not JSON, 412 and 428 for
//! `If-Match`, 415 for a body that is not JSON at all.

use app::error::AppError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug)]
pub struct Problem {
    pub status: StatusCode,
    /// The stable code (the same words as the pages' errors); also the `type`'s anchor.
    pub code: &'static str,
    pub detail: String,
    /// Bad input: the fields and what is wrong with each.
    pub errors: Vec<(String, String)>,
    /// Seconds to wait (429).
    pub retry_after: Option<i64>,
}

impl Problem {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self { status, code, detail: detail.into(), errors: Vec::new(), retry_after: None }
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", detail)
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "There is nothing at this address.")
    }

    /// The title for a code: the same for every problem of that type.
    fn title(&self) -> &'static str {
        match self.code {
            "unauthenticated" => "Not authenticated",
            "forbidden" => "Not allowed",
            "not_found" => "Not found",
            "invalid" => "Invalid input",
            "conflict" | "edit_conflict" => "Conflict",
            "too_many_requests" => "Too many requests",
            "unavailable" => "Service unavailable",
            "bad_request" => "Malformed request",
            "unsupported_media_type" => "Unsupported media type",
            "stale_version" => "Changed since you read it",
            "version_required" => "Version required",
            _ => "Internal error",
        }
    }
}

impl From<AppError> for Problem {
    fn from(err: AppError) -> Self {
        let status = StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut problem = Problem::new(status, err.code(), err.to_string());
        if let AppError::Invalid { field, message } = &err {
            problem.errors.push((field.clone(), message.clone()));
        }
        problem
    }
}

impl From<sqlx::Error> for Problem {
    fn from(err: sqlx::Error) -> Self {
        AppError::from(err).into()
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut body = json!({
            "type": format!("/api/v1/docs#problem-{}", self.code),
            "title": self.title(),
            "status": self.status.as_u16(),
            "detail": self.detail,
            "code": self.code,
        });
        if !self.errors.is_empty() {
            body["errors"] =
                self.errors.iter().map(|(field, message)| json!({ "field": field, "message": message })).collect();
        }
        let mut response = (self.status, body.to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"foghorn\""));
        }
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
        }
        response
    }
}

/// How the OpenAPI document describes a [`Problem`].
#[derive(utoipa::ToSchema)]
#[schema(as = Problem)]
pub struct ProblemDocument {
    /// `/api/v1/docs#problem-<code>`: where the reference explains it.
    #[schema(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    /// What went wrong, for people.
    pub detail: String,
    /// The stable code: `unauthenticated`, `forbidden`, `not_found`, `invalid`, `conflict`,
    /// `too_many_requests`, `bad_request`, `unsupported_media_type`, `stale_version`,
    /// `version_required`, `unavailable`, `internal`.
    pub code: String,
    /// Bad input: each field and what is wrong with it.
    pub errors: Option<Vec<FieldProblem>>,
}

#[derive(utoipa::ToSchema)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}
