//! Alerts from Prometheus Alertmanager and Grafana, and the rules that route them.

use super::Severity;
use crate::model::{ServiceId, TeamId};
use serde::{Deserialize, Serialize};

word_enum! {
    /// Who sent an alert notification (both send Alertmanager's webhook body).
    pub enum AlertSource ("alert source", "") {
        Alertmanager = "alertmanager", "Alertmanager";
        Grafana = "grafana", "Grafana";
    }
}

word_enum! {
    /// How a routing rule compares one label, as in Alertmanager's own matchers.
    pub enum MatchOp ("matcher", "use =, !=, =~ or !~") {
        Equal = "=", "equals";
        NotEqual = "!=", "does not equal";
        /// The whole value matches the regular expression.
        Matches = "=~", "matches";
        NotMatches = "!~", "does not match";
    }
}

/// `label op value`, e.g. `team = payments` or `alertname =~ "Disk.*"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Matcher {
    pub label: String,
    pub op: MatchOp,
    pub value: String,
}

impl std::fmt::Display for Matcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}\"{}\"", self.label, self.op, self.value)
    }
}

/// One routing rule. Rules are tried in order; the first whose matchers all hold decides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AlertRoute {
    #[serde(default)]
    pub id: i64,
    pub name: String,
    #[serde(default)]
    pub matchers: Vec<Matcher>,
    #[serde(default)]
    pub service_id: Option<ServiceId>,
    #[serde(default)]
    pub team_id: Option<TeamId>,
    /// `None`: from the alerts' `severity` label ([`severity_from_label`]).
    #[serde(default)]
    pub severity: Option<Severity>,
    /// Declare an incident; otherwise only record the alerts.
    #[serde(default = "yes")]
    pub declare: bool,
}

fn yes() -> bool {
    true
}

/// The incident severity an alert's `severity` label stands for: the words Prometheus
/// rules commonly use, or SEV1…SEV4 themselves. Anything else (or no label): SEV3.
pub fn severity_from_label(label: Option<&str>) -> Severity {
    match label.map(|l| l.trim().to_ascii_lowercase()).as_deref() {
        Some("critical" | "page" | "p1" | "sev1" | "1" | "emergency" | "disaster") => Severity::Sev1,
        Some("high" | "error" | "major" | "p2" | "sev2" | "2") => Severity::Sev2,
        Some("info" | "low" | "p4" | "sev4" | "4" | "none") => Severity::Sev4,
        _ => Severity::Sev3,
    }
}

/// Where an incident an alert declared came from, as its page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AlertOrigin {
    pub source: AlertSource,
    /// `[name, value]` pairs, sorted by name.
    #[cfg_attr(feature = "ssr", schema(value_type = Vec<Vec<String>>))]
    pub labels: Vec<(String, String)>,
    #[cfg_attr(feature = "ssr", schema(value_type = Vec<Vec<String>>))]
    pub annotations: Vec<(String, String)>,
    /// Every alert of the group has resolved (the page then suggests monitoring).
    pub all_resolved: bool,
}

/// Reads matchers written as Alertmanager writes them: `team="storage", env!~"dev|test"`
/// (braces optional, quotes optional for simple values).
pub fn parse_matchers(text: &str) -> Result<Vec<Matcher>, String> {
    let text = text.trim().trim_start_matches('{').trim_end_matches('}');
    let mut matchers = Vec::new();
    for part in split_outside_quotes(text) {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let at = part.find(['=', '!']).ok_or_else(|| format!("\"{part}\" has no operator: use =, !=, =~ or !~."))?;
        let label = part[..at].trim();
        let rest = &part[at..];
        let op = ["=~", "!~", "!=", "="]
            .into_iter()
            .find(|op| rest.starts_with(op))
            .ok_or_else(|| format!("\"{part}\" has no operator: use =, !=, =~ or !~."))?;
        let value = rest[op.len()..].trim();
        let value = match value.strip_prefix('"') {
            Some(quoted) => {
                quoted.strip_suffix('"').ok_or_else(|| format!("\"{part}\": close the quotes."))?.replace("\\\"", "\"")
            }
            None => value.to_owned(),
        };
        let label_ok = label.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !label_ok {
            return Err(format!("\"{label}\" is not a label name (letters, digits and _)."));
        }
        matchers.push(Matcher { label: label.to_owned(), op: op.parse()?, value });
    }
    Ok(matchers)
}

/// `a="x,y", b=z` → `a="x,y"`, ` b=z`.
fn split_outside_quotes(text: &str) -> Vec<&str> {
    let (mut parts, mut start, mut quoted, mut escaped) = (Vec::new(), 0, false, false);
    for (i, c) in text.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ',' if !quoted => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// Matchers as [`parse_matchers`] reads them.
pub fn format_matchers(matchers: &[Matcher]) -> String {
    matchers
        .iter()
        .map(|m| format!("{}{}\"{}\"", m.label, m.op, m.value.replace('"', "\\\"")))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matchers_read_as_alertmanager_writes_them() {
        let m = parse_matchers(r#"{team="storage, eu", env!~"dev|test", severity=critical}"#).unwrap();
        assert_eq!(m.len(), 3);
        assert_eq!((m[0].label.as_str(), m[0].op, m[0].value.as_str()), ("team", MatchOp::Equal, "storage, eu"));
        assert_eq!((m[1].op, m[1].value.as_str()), (MatchOp::NotMatches, "dev|test"));
        assert_eq!(m[2].value, "critical");
        assert_eq!(parse_matchers(&format_matchers(&m)).unwrap(), m);
        assert!(parse_matchers("").unwrap().is_empty());
        assert!(parse_matchers("team storage").is_err());
        assert!(parse_matchers("9x=\"a\"").is_err());
        assert!(parse_matchers("team=\"open").is_err());
    }

    #[test]
    fn severity_labels_map_to_severities() {
        assert_eq!(severity_from_label(Some("critical")), Severity::Sev1);
        assert_eq!(severity_from_label(Some("Error")), Severity::Sev2);
        assert_eq!(severity_from_label(Some("warning")), Severity::Sev3);
        assert_eq!(severity_from_label(Some("info")), Severity::Sev4);
        assert_eq!(severity_from_label(None), Severity::Sev3);
    }
}
