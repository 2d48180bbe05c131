//! Alerts from Prometheus Alertmanager and Grafana, and the rules that route them.

use super::Severity;
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
pub struct AlertRoute {
    #[serde(default)]
    pub id: i64,
    pub name: String,
    #[serde(default)]
    pub matchers: Vec<Matcher>,
    #[serde(default)]
    pub service_id: Option<i64>,
    #[serde(default)]
    pub team_id: Option<i64>,
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
pub struct AlertOrigin {
    pub source: AlertSource,
    pub labels: Vec<(String, String)>,
    pub annotations: Vec<(String, String)>,
    /// Every alert of the group has resolved (the page then suggests monitoring).
    pub all_resolved: bool,
}
