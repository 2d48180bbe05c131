//! Ids, one type each, so that passing a person's id where a team's is meant, or an
//! incident's number where an action item's id is, does not compile.
//!
//! On the wire and in the database each is a plain integer (`serde` and `sqlx`
//! transparent), so addresses, forms and JSON stay as they are. sqlx's checked queries
//! compare a parameter's type with the column's own (`i64`), so they take an id as
//! `.0`; a row's id is read back typed with an override (`AS "id: UserId"`) or wrapped.
//! The incident's row id (`IncidentId`) is not here: it never leaves the server
//! (`server::db`).

/// Declares an integer id: transparent serde, sqlx and OpenAPI schema, `Display` and
/// `FromStr` as the bare number (forms' option values and addresses carry it so).
/// `Default` (0, which names no row) lets the forms that hold one derive `Default`.
macro_rules! id_type {
    ($($(#[$meta:meta])* $name:ident;)+) => {$(
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        #[cfg_attr(feature = "ssr", derive(sqlx::Type, utoipa::ToSchema), sqlx(transparent))]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        /// What a checked query's row gives (`query_as!` converts each column with `From`).
        impl From<i64> for $name {
            fn from(id: i64) -> Self {
                $name(id)
            }
        }

        impl From<$name> for i64 {
            fn from(id: $name) -> i64 {
                id.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.trim().parse().map($name)
            }
        }
    )+};
}

id_type! {
    /// An incident's number: what people see and type (`INC-42`), what addresses carry.
    IncidentNumber;
    /// A person's account.
    UserId;
    /// A team.
    TeamId;
    /// A service on the catalogue.
    ServiceId;
    /// A remediation action item.
    ActionItemId;
    /// A runbook.
    RunbookId;
}

/// A form's choice of one id from a list: empty is none; anything else that is not an
/// id is refused, naming the field.
pub fn parse_choice<I: std::str::FromStr>(field: &str, value: &str) -> Result<Option<I>, crate::error::AppError> {
    match value.trim() {
        "" => Ok(None),
        v => v.parse().map(Some).map_err(|_| crate::error::AppError::invalid(field, "Choose from the list.")),
    }
}

/// A list of ids as a checked query's `bigint[]` parameter.
pub fn bare_ids<I: Copy + Into<i64>>(ids: &[I]) -> Vec<i64> {
    ids.iter().map(|&id| id.into()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_bare_numbers_on_the_wire_and_in_text() {
        assert_eq!(serde_json::to_string(&TeamId(7)).unwrap(), "7");
        assert_eq!(serde_json::from_str::<UserId>("12").unwrap(), UserId(12));
        assert_eq!(" 42 ".parse::<IncidentNumber>(), Ok(IncidentNumber(42)));
        assert!("abc".parse::<ServiceId>().is_err());
        assert_eq!(ActionItemId(3).to_string(), "3");
    }
}
