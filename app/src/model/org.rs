use crate::model::{ServiceId, TeamId, UserId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TeamMember {
    pub user_id: UserId,
    pub display_name: String,
}

/// A team owns services, incidents, postmortems and action items; its lead tracks the work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Team {
    pub id: TeamId,
    pub name: String,
    pub lead: Option<TeamMember>,
    pub members: Vec<TeamMember>,
}

/// Something that can break: a component on the status page, owned by a team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Service {
    pub id: ServiceId,
    pub name: String,
    pub description: String,
    pub team_id: Option<TeamId>,
    pub team_name: Option<String>,
    /// Listed on the public status page.
    pub public: bool,
}
