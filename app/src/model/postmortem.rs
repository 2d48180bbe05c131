//! Postmortems: the blameless write-up of an incident, versioned so no edit is lost.

use super::{Person, Severity};
use crate::model::{IncidentNumber, TeamId, UserId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

word_enum! {
    /// Where a postmortem is in its life. Published ones are readable by everyone.
    pub enum PostmortemStatus ("postmortem status", "use draft, in_review or published") {
        Draft = "draft", "Draft";
        InReview = "in_review", "In review";
        Published = "published", "Published";
    }
}

impl PostmortemStatus {
    /// `draft → in review → published`; review can send it back to draft. Published is
    /// final: corrections are new versions, marked "updated".
    pub fn can_move_to(self, to: Self) -> Result<(), String> {
        use PostmortemStatus::*;
        match (self, to) {
            (Draft, InReview) | (InReview, Draft) | (InReview, Published) => Ok(()),
            (Draft, Published) => Err("Send it for review before publishing.".into()),
            (Published, _) => Err("It is published; corrections are saved as new versions.".into()),
            _ => Err(format!("It is already {}.", to.label().to_lowercase())),
        }
    }
}

/// The written sections of the template, in document order. (Action items are not
/// text: the document shows the linked items live.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    Summary,
    Impact,
    Timeline,
    ContributingFactors,
    WentWell,
    WentWrong,
    GotLucky,
    Lessons,
}

impl Section {
    pub const ALL: [Section; 8] = [
        Self::Summary,
        Self::Impact,
        Self::Timeline,
        Self::ContributingFactors,
        Self::WentWell,
        Self::WentWrong,
        Self::GotLucky,
        Self::Lessons,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Self::Summary => "summary",
            Self::Impact => "impact",
            Self::Timeline => "timeline",
            Self::ContributingFactors => "contributing_factors",
            Self::WentWell => "went_well",
            Self::WentWrong => "went_wrong",
            Self::GotLucky => "got_lucky",
            Self::Lessons => "lessons",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Self::Summary => "Summary",
            Self::Impact => "Impact",
            Self::Timeline => "Timeline",
            Self::ContributingFactors => "Contributing factors",
            Self::WentWell => "What went well",
            Self::WentWrong => "What went wrong",
            Self::GotLucky => "Where we got lucky",
            Self::Lessons => "Lessons",
        }
    }

    /// Sections that must say something before the postmortem can be published.
    pub fn required(self) -> bool {
        matches!(self, Self::Summary | Self::Impact | Self::Timeline | Self::ContributingFactors | Self::Lessons)
    }

    /// The prompt shown in an empty section.
    pub fn hint(self) -> &'static str {
        match self {
            Self::Summary => "A few sentences a newcomer can follow: what broke, for whom, how it was fixed.",
            Self::Impact => "Who and what was affected, how badly, for how long.",
            Self::Timeline => "Key moments, with times.",
            Self::ContributingFactors => "What made this possible? Systems and conditions, not people.",
            Self::WentWell => "What helped: alerts that fired, tools that worked, people who knew.",
            Self::WentWrong => "What slowed us down or made it worse.",
            Self::GotLucky => "What could have made it much worse, and did not.",
            Self::Lessons => "What we learned and will do differently.",
        }
    }
}

/// The text of every section (markdown).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Sections {
    pub summary: String,
    pub impact: String,
    pub timeline: String,
    pub contributing_factors: String,
    pub went_well: String,
    pub went_wrong: String,
    pub got_lucky: String,
    pub lessons: String,
}

impl Sections {
    pub fn get(&self, section: Section) -> &str {
        match section {
            Section::Summary => &self.summary,
            Section::Impact => &self.impact,
            Section::Timeline => &self.timeline,
            Section::ContributingFactors => &self.contributing_factors,
            Section::WentWell => &self.went_well,
            Section::WentWrong => &self.went_wrong,
            Section::GotLucky => &self.got_lucky,
            Section::Lessons => &self.lessons,
        }
    }

    pub fn get_mut(&mut self, section: Section) -> &mut String {
        match section {
            Section::Summary => &mut self.summary,
            Section::Impact => &mut self.impact,
            Section::Timeline => &mut self.timeline,
            Section::ContributingFactors => &mut self.contributing_factors,
            Section::WentWell => &mut self.went_well,
            Section::WentWrong => &mut self.went_wrong,
            Section::GotLucky => &mut self.got_lucky,
            Section::Lessons => &mut self.lessons,
        }
    }

    /// Sections whose text differs between the two.
    pub fn changed_from(&self, other: &Sections) -> Vec<Section> {
        Section::ALL.into_iter().filter(|s| self.get(*s) != other.get(*s)).collect()
    }

    /// Required sections that are still blank.
    pub fn missing_required(&self) -> Vec<Section> {
        Section::ALL.into_iter().filter(|s| s.required() && self.get(*s).trim().is_empty()).collect()
    }

    /// Three-way merge by section of `mine` and `theirs`, both edited from `base`:
    /// a section only one side changed takes that side's text. Returns the merge and the
    /// sections both sides changed differently, which keep `mine` and need a person.
    pub fn merge(base: &Sections, mine: &Sections, theirs: &Sections) -> (Sections, Vec<Section>) {
        let mut merged = mine.clone();
        let mut clashes = Vec::new();
        for s in Section::ALL {
            let (b, m, t) = (base.get(s), mine.get(s), theirs.get(s));
            if m == b {
                *merged.get_mut(s) = t.to_owned();
            } else if t != b && t != m {
                clashes.push(s);
            }
        }
        (merged, clashes)
    }
}

/// One line of the postmortem list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostmortemSummary {
    pub incident_number: IncidentNumber,
    pub incident_title: String,
    pub severity: Severity,
    pub team_name: Option<String>,
    pub status: PostmortemStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub published_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub meeting_at: Option<OffsetDateTime>,
}

/// An upcoming postmortem meeting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meeting {
    pub incident_number: IncidentNumber,
    pub incident_title: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub place: String,
    pub attendees: Vec<Person>,
}

/// `/postmortems`: the list (filtered) and the upcoming meetings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostmortemIndex {
    pub postmortems: Vec<PostmortemSummary>,
    pub meetings: Vec<Meeting>,
    pub can_edit: bool,
    pub viewer_id: UserId,
}

/// A move between statuses, for the record on the page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct StatusMove {
    pub from: PostmortemStatus,
    pub to: PostmortemStatus,
    pub by: Option<Person>,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// The postmortem page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Postmortem {
    pub incident_number: IncidentNumber,
    /// The incident timeline's last sequence number: the page follows it live from there.
    pub incident_last_seq: i64,
    pub incident_title: String,
    pub severity: Severity,
    pub is_drill: bool,
    /// Its incident is private: so is the postmortem.
    pub private: bool,
    pub team_id: Option<TeamId>,
    pub team_name: Option<String>,
    pub status: PostmortemStatus,
    pub version: i32,
    pub sections: Sections,
    /// Each section rendered (sanitised), in [`Section::ALL`] order.
    pub sections_html: Vec<String>,
    pub no_action_items_reason: String,
    #[serde(with = "time::serde::rfc3339::option")]
    pub meeting_at: Option<OffsetDateTime>,
    pub meeting_place: String,
    pub attendees: Vec<Person>,
    pub updated_by: Option<Person>,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub published_at: Option<OffsetDateTime>,
    /// Set when a published postmortem was changed afterwards: the visible "updated" mark.
    #[serde(with = "time::serde::rfc3339::option")]
    pub corrected_at: Option<OffsetDateTime>,
    pub moves: Vec<StatusMove>,
    pub can_edit: bool,
    pub viewer_id: UserId,
}

/// A version as the history lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionSummary {
    pub version: i32,
    pub author: Option<Person>,
    #[serde(with = "time::serde::rfc3339")]
    pub saved_at: OffsetDateTime,
    /// Why it exists when it was not a plain save (e.g. "restored version 3").
    pub note: String,
    /// Sections that differ from the version before it.
    pub changed: Vec<Section>,
}

/// One line of a diff between two texts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DiffLine {
    Same(String),
    Added(String),
    Removed(String),
}

/// A version in full, with what it changed against the version before it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionDetail {
    pub summary: VersionSummary,
    pub sections: Sections,
    /// For each changed section, its line diff against the previous version.
    pub diffs: Vec<(Section, Vec<DiffLine>)>,
}

/// What a successful save returns: the version it became.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Saved {
    pub version: i32,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(summary: &str, impact: &str, lessons: &str) -> Sections {
        Sections { summary: summary.into(), impact: impact.into(), lessons: lessons.into(), ..Default::default() }
    }

    #[test]
    fn merge_takes_each_side_where_only_it_changed() {
        let base = doc("s", "i", "l");
        let mine = doc("s mine", "i", "l");
        let theirs = doc("s", "i theirs", "l");
        let (merged, clashes) = Sections::merge(&base, &mine, &theirs);
        assert_eq!(merged, doc("s mine", "i theirs", "l"));
        assert!(clashes.is_empty());
    }

    #[test]
    fn merge_reports_sections_both_changed_and_keeps_mine() {
        let base = doc("s", "i", "l");
        let (merged, clashes) = Sections::merge(&base, &doc("mine", "i", "l"), &doc("theirs", "i", "l2"));
        assert_eq!(merged, doc("mine", "i", "l2"));
        assert_eq!(clashes, vec![Section::Summary]);
        // The same change on both sides is no clash.
        let (_, clashes) = Sections::merge(&base, &doc("same", "i", "l"), &doc("same", "i", "l"));
        assert!(clashes.is_empty());
    }

    #[test]
    fn status_moves() {
        use PostmortemStatus::*;
        assert!(Draft.can_move_to(InReview).is_ok());
        assert!(InReview.can_move_to(Published).is_ok());
        assert!(InReview.can_move_to(Draft).is_ok());
        assert!(Draft.can_move_to(Published).is_err());
        assert!(Published.can_move_to(Draft).is_err());
        assert!(Draft.can_move_to(Draft).is_err());
    }
}
