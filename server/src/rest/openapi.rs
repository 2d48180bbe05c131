//! The OpenAPI 3.1 document of `/api/v1/`, generated from the handlers' annotations and
//! the model types (so it cannot drift from what the code accepts and answers), and the
//! reference page people read, rendered from that same document.

use super::{action_items, alerts, chat, directory, incidents, postmortems, problem, timeline};
use crate::escape_html;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use base64::Engine as _;
use sha2::{Digest, Sha256};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Foghorn API",
        version = "1",
        description = "Declare and work incidents, read and write their timelines and comms, receive alerts. \
                       Authenticate with an API token: `Authorization: Bearer fhn_…` (create one on your account \
                       page, or `foghorn token create`). Errors are problem details (RFC 9457)."
    ),
    servers((url = "/api/v1")),
    paths(
        incidents::list, incidents::declare, incidents::get, incidents::update, incidents::change_status,
        incidents::change_severity, incidents::assign_role, incidents::join,
        timeline::list, timeline::post_note, timeline::set_key_event, timeline::comms, timeline::post_comms,
        action_items::list, action_items::get, action_items::create, action_items::update, action_items::change_status,
        postmortems::get, postmortems::markdown,
        directory::services, directory::create_service, directory::update_service, directory::teams,
        directory::create_team, directory::add_member, directory::remove_member, directory::set_lead,
        directory::public_status,
        alerts::alertmanager, alerts::grafana, alerts::routes, alerts::save_routes,
        chat::command,
    ),
    components(schemas(problem::ProblemDocument, problem::FieldProblem)),
    modifiers(&TokenAuth),
    tags(
        (name = "incidents", description = "Declaring and working incidents: the history's filters, one incident, its status, severity and roles."),
        (name = "timeline", description = "The live record of an incident."),
        (name = "comms", description = "Updates to the company and the public, with the same rules as the incident page."),
        (name = "action items", description = "The remediation work incidents leave behind, with the tracker's filters."),
        (name = "postmortems", description = "An incident's postmortem, as its page shows it or as Markdown."),
        (name = "directory", description = "Services, teams and the public status."),
        (name = "alerts", description = "Alertmanager's and Grafana's webhooks, and the rules that route them (admins)."),
        (name = "chat", description = "The `/incident` slash command for Slack and Mattermost."),
    )
)]
pub struct ApiDoc;

struct TokenAuth;

impl Modify for TokenAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            let scheme = HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("fhn_ token").build();
            components.add_security_scheme("token", SecurityScheme::Http(scheme));
        }
    }
}

/// `GET /api/v1/openapi.json`.
pub async fn document() -> Response {
    match ApiDoc::openapi().to_json() {
        Ok(json) => ([(header::CONTENT_TYPE, "application/json")], json).into_response(),
        Err(err) => {
            tracing::error!(error = %err, "the OpenAPI document does not serialize");
            problem::Problem::from(app::error::AppError::Internal).into_response()
        }
    }
}

/// `GET /api/v1/docs`: the reference, as a plain page (no scripts, nothing fetched
/// from elsewhere).
pub async fn reference() -> Response {
    let doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    let text = |v: &serde_json::Value| escape_html(v.as_str().unwrap_or_default());
    let mut html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width, initial-scale=1\"><title>Foghorn API</title><style>{STYLE}</style></head>\
         <body><main>"
    );
    html.push_str(&format!(
        "<h1>{}</h1><p>{}</p><p>Base address: <code>/api/v1</code>. The machine-readable document: \
         <a href=\"/api/v1/openapi.json\">openapi.json</a> (OpenAPI {}).</p>",
        text(&doc["info"]["title"]),
        text(&doc["info"]["description"]),
        text(&doc["openapi"])
    ));
    let mut operations: Vec<(String, String, serde_json::Value)> = Vec::new();
    if let Some(paths) = doc["paths"].as_object() {
        for (path, item) in paths {
            for method in ["get", "post", "put", "patch", "delete"] {
                if let Some(op) = item.get(method) {
                    operations.push((path.clone(), method.to_uppercase(), op.clone()));
                }
            }
        }
    }
    for tag in doc["tags"].as_array().cloned().unwrap_or_default() {
        let name = tag["name"].as_str().unwrap_or_default();
        html.push_str(&format!("<h2 id=\"{0}\">{0}</h2><p>{1}</p>", escape_html(name), text(&tag["description"])));
        for (path, method, op) in operations.iter().filter(|(_, _, op)| op["tags"][0] == name) {
            html.push_str(&format!(
                "<h3><span class=\"method\">{method}</span> <code>{}</code></h3><p>{}</p>",
                escape_html(path),
                text(&op["description"]).replace("\n\n", "</p><p>")
            ));
            if let Some(params) = op["parameters"].as_array().filter(|p| !p.is_empty()) {
                html.push_str("<table><tr><th>Parameter</th><th>In</th><th>Meaning</th></tr>");
                for p in params {
                    html.push_str(&format!(
                        "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                        text(&p["name"]),
                        text(&p["in"]),
                        text(&p["description"])
                    ));
                }
                html.push_str("</table>");
            }
            if let Some(body) = op["requestBody"]["content"].as_object().and_then(|c| c.iter().next()) {
                html.push_str(&format!("<p>Body ({}): {}</p>", escape_html(body.0), schema_name(&body.1["schema"])));
            }
            if let Some(responses) = op["responses"].as_object() {
                html.push_str("<ul>");
                for (status, response) in responses {
                    let schema = response["content"]
                        .as_object()
                        .and_then(|c| c.values().next())
                        .map(|c| schema_name(&c["schema"]));
                    html.push_str(&format!(
                        "<li><strong>{}</strong>: {}{}</li>",
                        escape_html(status),
                        text(&response["description"]),
                        schema.map(|s| format!(" — {s}")).unwrap_or_default()
                    ));
                }
                html.push_str("</ul>");
            }
        }
    }
    html.push_str("<h2 id=\"problems\">Problems</h2><p>Every error is <code>application/problem+json</code> with \
        <code>type</code>, <code>title</code>, <code>status</code>, <code>detail</code> and a stable <code>code</code>:</p><dl>");
    for (code, meaning) in PROBLEMS {
        html.push_str(&format!("<dt id=\"problem-{code}\"><code>{code}</code></dt><dd>{meaning}</dd>"));
    }
    html.push_str("</dl></main></body></html>");
    // The page's one style sheet is allowed by its hash; nothing else may load or run.
    let digest = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(STYLE.as_bytes()));
    let csp = format!(
        "default-src 'none'; style-src 'sha256-{digest}'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"
    );
    ([(header::CONTENT_SECURITY_POLICY, csp)], Html(html)).into_response()
}

const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;\
                     color:#1a1a1a;background:#fff}code,pre{font-family:ui-monospace,monospace;background:#f0f0f0;\
                     padding:0 .2em}h3{margin-top:2rem}.method{display:inline-block;min-width:4.5rem;font-weight:bold}\
                     table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:left}";

/// `#/components/schemas/Name` → `Name`; arrays as `[Name]`.
fn schema_name(schema: &serde_json::Value) -> String {
    if let Some(reference) = schema["$ref"].as_str() {
        return format!("<code>{}</code>", escape_html(reference.rsplit('/').next().unwrap_or(reference)));
    }
    if schema["type"] == "array" {
        return format!("list of {}", schema_name(&schema["items"]));
    }
    format!("<code>{}</code>", escape_html(schema["type"].as_str().unwrap_or("value")))
}

const PROBLEMS: &[(&str, &str)] = &[
    (
        "bad_request",
        "400: the body is not JSON (or not the notification an alert source sends), or the query string does not fit.",
    ),
    ("unauthenticated", "401: no API token, or one that is unknown, expired or revoked, or whose user is deactivated."),
    ("forbidden", "403: the token's role (or a read-only token) does not allow this."),
    ("not_found", "404: nothing there — or an incident the token's user may not see (private incidents)."),
    ("conflict", "409: the change contradicts the current state."),
    ("stale_version", "412: the incident changed since the version named in If-Match: read it again."),
    ("unsupported_media_type", "415: send JSON, with Content-Type: application/json."),
    ("invalid", "422: a field is wrong; errors names it, as the page's form would."),
    ("version_required", "428: this update needs If-Match with the ETag the resource was read with."),
    ("too_many_requests", "429: the token's rate limit; Retry-After says when to try again."),
    ("internal", "500: logged on the server; try again."),
    ("unavailable", "503: the database cannot be reached; nothing was changed."),
];
