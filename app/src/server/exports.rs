//! What leaves Foghorn as a file: the action items' CSV, a postmortem as Markdown and
//! the audit trail as CSV or JSON Lines.
//! Formatting only; the data layer reads the rows (`db::tracker::csv_batch`,
//! `db::postmortems::view`) and the server streams or sends the result.

use crate::model::*;

/// The CSV export's columns, in their documented, stable order.
pub const CSV_COLUMNS: [&str; 15] = [
    "id",
    "incident",
    "incident_title",
    "title",
    "status",
    "priority",
    "owner",
    "team",
    "due_date",
    "overdue",
    "unscheduled",
    "created_at",
    "closed_at",
    "wont_do_reason",
    "description",
];

/// The CSV's first line (RFC 4180 line ends).
pub fn csv_header() -> String {
    format!("{}\r\n", CSV_COLUMNS.join(","))
}

/// Items as CSV lines (RFC 4180). Cells that a spreadsheet would run as a formula
/// (starting with `=`, `+`, `-`, `@`, tab or carriage return) are prefixed with `'`.
pub fn csv_rows(items: &[ActionItem]) -> String {
    let mut out = String::new();
    for i in items {
        let cells = [
            i.id.to_string(),
            incident_ref(i.incident_number),
            i.incident_title.clone(),
            i.title.clone(),
            i.status.as_str().to_owned(),
            i.priority.label().to_owned(),
            i.owner.as_ref().map(|p| p.display_name.clone()).unwrap_or_default(),
            i.team_name.clone().unwrap_or_default(),
            i.due_date.map(format_date).unwrap_or_default(),
            i.overdue.to_string(),
            i.unscheduled.to_string(),
            format_time(i.created_at),
            i.closed_at.map(format_time).unwrap_or_default(),
            i.wont_do_reason.clone(),
            i.description.clone(),
        ];
        out.push_str(&cells.iter().map(|c| csv_cell(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

fn csv_cell(value: &str) -> String {
    let value =
        if value.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{value}") } else { value.to_owned() };
    if value.contains([',', '"', '\n', '\r']) { format!("\"{}\"", value.replace('"', "\"\"")) } else { value }
}

/// The audit export's columns, in their documented, stable order.
pub const AUDIT_CSV_COLUMNS: [&str; 8] = ["id", "at", "actor_id", "actor", "kind", "target", "ip", "details"];

pub fn audit_csv_header() -> String {
    format!("{}\r\n", AUDIT_CSV_COLUMNS.join(","))
}

/// Events as CSV lines; times in RFC 3339 (UTC), details as their JSON text.
pub fn audit_csv_rows(events: &[AuditEvent]) -> String {
    let mut out = String::new();
    for e in events {
        let cells = [
            e.id.to_string(),
            rfc3339(e.at),
            e.actor_id.map(|id| id.to_string()).unwrap_or_default(),
            e.actor.clone(),
            e.kind.clone(),
            e.target.clone(),
            e.ip.clone(),
            e.details.clone(),
        ];
        out.push_str(&cells.iter().map(|c| csv_cell(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

/// Events as JSON Lines: one object per line, the same fields as the CSV, details as JSON.
pub fn audit_json_lines(events: &[AuditEvent]) -> String {
    let mut out = String::new();
    for e in events {
        let details: serde_json::Value = serde_json::from_str(&e.details).unwrap_or(serde_json::Value::Null);
        let line = serde_json::json!({
            "id": e.id, "at": rfc3339(e.at), "actor_id": e.actor_id, "actor": e.actor, "kind": e.kind,
            "target": e.target, "ip": e.ip, "details": details,
        });
        out.push_str(&line.to_string());
        out.push('\n');
    }
    out
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC).format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// The whole postmortem as one Markdown document, for a wiki or a repository.
pub fn to_markdown(p: &Postmortem) -> String {
    let mut doc = format!("# Postmortem: {} {}\n\n", incident_ref(p.incident_number), p.incident_title);
    doc += &format!("- **Severity:** {}\n- **Status:** {}\n", p.severity.label(), p.status.label());
    if let Some(team) = &p.team_name {
        doc += &format!("- **Owning team:** {team}\n");
    }
    if let Some(at) = p.published_at {
        doc += &format!("- **Published:** {}\n", format_time(at));
    }
    if let Some(at) = p.corrected_at {
        doc += &format!("- **Updated:** {}\n", format_time(at));
    }
    doc += &format!("- **Version:** {}\n", p.version);
    for section in Section::ALL {
        doc += &format!("\n## {}\n\n", section.title());
        let text = p.sections.get(section).trim();
        doc += if text.is_empty() { "_Nothing written._" } else { text };
        doc += "\n";
        if section == Section::GotLucky {
            doc += "\n## Action items\n\n";
            if p.no_action_items_reason.is_empty() {
                doc += "_See the incident in Foghorn for the live list._\n";
            } else {
                doc += &format!("No action items: {}\n", p.no_action_items_reason);
            }
        }
    }
    doc
}
