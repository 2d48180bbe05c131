//! The one error type that crosses the server-function boundary.
//!
//! It is serializable so the browser can show it, and opaque for internal failures:
//! details of those are logged on the server and never sent to the client.
//!
//! On the wire every error has one shape, whoever answers (a server function, the
//! session layer, the origin check, a live stream): `{"error": code, "message": text}`,
//! plus `"field"` for bad input (the form field the message belongs next to), and the
//! current `version`, `author` and `content` for an edit conflict.

use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(into = "WireError", from = "WireError")]
pub enum AppError {
    #[error("Sign in to continue.")]
    Unauthenticated,
    #[error("You do not have permission to do that.")]
    Forbidden,
    /// A refusal that says why (and what would allow it): still a 403 `forbidden`.
    #[error("{0}")]
    Refused(String),
    #[error("{0} was not found.")]
    NotFound(String),
    /// Bad input: `field` names the form field the message belongs next to.
    #[error("{message}")]
    Invalid { field: String, message: String },
    #[error("{0}")]
    Conflict(String),
    /// A save based on an old version of a document (postmortem, runbook). It carries
    /// the current version so the editor can show it beside the text the user kept.
    #[error(
        "{author} saved version {version} while you were editing. Your text is kept: compare, merge and save again."
    )]
    EditConflict { version: i32, author: String, content: String },
    #[error("{0}")]
    TooManyRequests(String),
    #[error("Something went wrong on our side; it has been logged. Please try again.")]
    Internal,
    /// The database could not be reached (restarting, cut off, every connection busy):
    /// nothing was changed, and the same request will work once it is back.
    #[error("Foghorn cannot reach its database at the moment; nothing was changed. Please try again shortly.")]
    Unavailable,
    #[error("Could not reach Foghorn: {0}")]
    Transport(String),
}

impl AppError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        AppError::Invalid { field: field.to_owned(), message: message.into() }
    }

    /// The same refusal named by `field`, for input checked on its own that sits in a
    /// larger form (one rule in a list of rules); any other error is unchanged.
    pub fn in_field(self, field: &str) -> Self {
        match self {
            AppError::Invalid { message, .. } => AppError::Invalid { field: field.to_owned(), message },
            other => other,
        }
    }

    /// The HTTP status this error is answered with.
    pub fn status(&self) -> u16 {
        match self {
            AppError::Unauthenticated => 401,
            AppError::Forbidden | AppError::Refused(_) => 403,
            AppError::NotFound(_) => 404,
            AppError::Invalid { .. } => 422,
            AppError::Conflict(_) | AppError::EditConflict { .. } => 409,
            AppError::TooManyRequests(_) => 429,
            AppError::Internal => 500,
            AppError::Unavailable => 503,
            AppError::Transport(_) => 502,
        }
    }

    /// A stable machine-readable code, for the JSON API and tests.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthenticated => "unauthenticated",
            AppError::Forbidden | AppError::Refused(_) => "forbidden",
            AppError::NotFound(_) => "not_found",
            AppError::Invalid { .. } => "invalid",
            AppError::Conflict(_) => "conflict",
            AppError::EditConflict { .. } => "edit_conflict",
            AppError::TooManyRequests(_) => "too_many_requests",
            AppError::Internal => "internal",
            AppError::Unavailable => "unavailable",
            AppError::Transport(_) => "transport",
        }
    }

    /// The message for one form field, if this error is about it.
    pub fn for_field(&self, name: &str) -> Option<String> {
        match self {
            AppError::Invalid { field, message } if field == name => Some(message.clone()),
            _ => None,
        }
    }
}

/// [`AppError`] as it travels.
#[derive(Serialize, Deserialize)]
struct WireError {
    error: String,
    message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    field: Option<String>,
    /// What was not found, or what could not be reached: the variant's own text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    version: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    author: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    content: Option<String>,
}

impl From<AppError> for WireError {
    fn from(err: AppError) -> Self {
        let mut wire = WireError {
            error: err.code().to_owned(),
            message: err.to_string(),
            field: None,
            detail: None,
            version: None,
            author: None,
            content: None,
        };
        match err {
            AppError::Invalid { field, .. } => wire.field = Some(field),
            AppError::NotFound(what) | AppError::Transport(what) => wire.detail = Some(what),
            AppError::EditConflict { version, author, content } => {
                (wire.version, wire.author, wire.content) = (Some(version), Some(author), Some(content));
            }
            _ => {}
        }
        wire
    }
}

impl From<WireError> for AppError {
    fn from(wire: WireError) -> Self {
        let detail = || wire.detail.clone().unwrap_or_else(|| wire.message.clone());
        match wire.error.as_str() {
            "unauthenticated" => AppError::Unauthenticated,
            "forbidden" if wire.message == AppError::Forbidden.to_string() => AppError::Forbidden,
            "forbidden" => AppError::Refused(wire.message),
            "not_found" => AppError::NotFound(detail()),
            "invalid" => AppError::Invalid { field: wire.field.unwrap_or_default(), message: wire.message },
            "conflict" => AppError::Conflict(wire.message),
            "edit_conflict" => AppError::EditConflict {
                version: wire.version.unwrap_or_default(),
                author: wire.author.unwrap_or_default(),
                content: wire.content.unwrap_or_default(),
            },
            "too_many_requests" => AppError::TooManyRequests(wire.message),
            "internal" => AppError::Internal,
            "unavailable" => AppError::Unavailable,
            "transport" => AppError::Transport(detail()),
            // A code this version does not know (a newer server): still an error, shown as sent.
            _ => AppError::Conflict(wire.message),
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Request(msg) => AppError::Transport(msg),
            ServerFnErrorErr::Args(msg) | ServerFnErrorErr::MissingArg(msg) => {
                AppError::invalid("", format!("The request was malformed: {msg}"))
            }
            // On the server this is a request body (JSON arguments) that did not decode;
            // in the browser it would be a response that did not, which is our fault.
            #[cfg(feature = "ssr")]
            ServerFnErrorErr::Deserialization(msg) => {
                AppError::invalid("", format!("The request was malformed: {msg}"))
            }
            _ => AppError::Internal,
        }
    }
}

/// Answers a plain HTTP handler's request with this error, in the one wire shape.
#[cfg(feature = "ssr")]
impl axum::response::IntoResponse for AppError {
    fn into_response(self) -> axum::response::Response {
        let status = http::StatusCode::from_u16(self.status()).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
        (status, axum::Json(self)).into_response()
    }
}

#[cfg(feature = "ssr")]
impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> Self {
        // PostgreSQL text cannot hold a NUL character (SQLSTATE 22021), wherever in a
        // form it was pasted: the writer is told, and nothing was written.
        if err.as_database_error().and_then(|e| e.code()).as_deref() == Some("22021") {
            return AppError::invalid("", "Text cannot contain NUL characters (\\0). Remove them and try again.");
        }
        if database_unreachable(&err) {
            tracing::warn!(error = %err, "database unavailable");
            return AppError::Unavailable;
        }
        tracing::error!(error = %err, "database error");
        AppError::Internal
    }
}

/// The database did not answer or went away mid-request — an outage to wait out,
/// not a query that failed. SQLSTATE class 08 is a connection exception; 57P01–57P03
/// a server shutting down, crashed, or not yet accepting connections.
#[cfg(feature = "ssr")]
fn database_unreachable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::AppError;

    #[test]
    fn every_error_has_one_wire_shape_and_reads_back_the_same() {
        let errors = [
            AppError::Unauthenticated,
            AppError::Forbidden,
            AppError::Refused("Take comms first.".into()),
            AppError::NotFound("INC-4".into()),
            AppError::invalid("title", "Give the incident a title."),
            AppError::Conflict("Already resolved.".into()),
            AppError::EditConflict { version: 3, author: "Ana".into(), content: "text".into() },
            AppError::TooManyRequests("Wait.".into()),
            AppError::Internal,
            AppError::Unavailable,
            AppError::Transport("offline".into()),
        ];
        for err in errors {
            let json = serde_json::to_value(&err).unwrap();
            assert_eq!(json["error"], err.code(), "{json}");
            assert_eq!(json["message"], err.to_string(), "{json}");
            assert_eq!(serde_json::from_value::<AppError>(json).unwrap(), err);
        }
        let invalid = serde_json::to_value(AppError::invalid("title", "Too long.")).unwrap();
        assert_eq!(invalid, serde_json::json!({ "error": "invalid", "message": "Too long.", "field": "title" }));
    }
}
