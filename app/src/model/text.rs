//! Text people type, each kind checked in one place: its length limit (counted in
//! characters, as people count, not bytes), whether it may be empty, and the message
//! that says what to do instead. The server parses every input into one of these before
//! it is stored, and forms take the same `MAX` for their `maxlength`, so the browser
//! shows the limit the server keeps.

use crate::error::AppError;

/// How much surrounding whitespace a kind of text keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trim {
    /// Names and one-liners: none.
    Both,
    /// Markdown: leading indentation means something, trailing blank lines do not.
    End,
    /// Documents edited in place (runbooks): kept exactly as written, or the editor's
    /// copy would differ from the saved one and look like someone else's change.
    Kept,
}

/// Declares a kind of text: a newtype with `parse` (the one constructor), `MAX`,
/// `FIELD` (the form field its errors name), `as_str` and `into_inner`.
macro_rules! text_kind {
    (
        $(#[$meta:meta])*
        $name:ident { field: $field:literal, max: $max:expr, trim: $trim:ident, empty: $empty:expr, too_long: $too_long:expr $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            /// The most characters it may have.
            pub const MAX: usize = $max;
            /// The form field its errors belong next to.
            pub const FIELD: &'static str = $field;

            /// Trims it as this kind keeps text, and refuses it (naming [`Self::FIELD`])
            /// when it is empty but required, or too long.
            pub fn parse(input: &str) -> Result<Self, AppError> {
                let text = match Trim::$trim {
                    Trim::Both => input.trim(),
                    Trim::End => input.trim_end(),
                    Trim::Kept => input,
                };
                let empty: Option<&str> = $empty;
                if let Some(message) = empty
                    && text.trim().is_empty()
                {
                    return Err(AppError::invalid($field, message));
                }
                if text.chars().count() > $max {
                    return Err(AppError::invalid($field, $too_long));
                }
                Ok(Self(text.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_inner(self) -> String {
                self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

text_kind! {
    /// What is broken, in a line.
    IncidentTitle { field: "title", max: 200, trim: Both, empty: Some("Give the incident a title: what is broken?"),
        too_long: "Keep the title under 200 characters; put details in the summary." }
}

text_kind! {
    /// An incident's summary: what is known, for whoever arrives.
    Summary { field: "summary", max: 20_000, trim: Both, empty: None,
        too_long: "Keep the summary under 20000 characters." }
}

text_kind! {
    /// How it was resolved; required when resolving, which the status change checks.
    Resolution { field: "resolution", max: 20_000, trim: Both, empty: None,
        too_long: "Keep the resolution summary shorter." }
}

text_kind! {
    /// A note on the timeline (Markdown).
    NoteBody { field: "body", max: 20_000, trim: End, empty: Some("Write something before posting."),
        too_long: "Notes are limited to 20000 characters; split it in two." }
}

text_kind! {
    ItemTitle { field: "title", max: 200, trim: Both, empty: Some("Say what needs doing."),
        too_long: "Keep the title under 200 characters; put detail in the description." }
}

text_kind! {
    ItemDescription { field: "description", max: 20_000, trim: End, empty: None,
        too_long: "Keep the description under 20000 characters." }
}

text_kind! {
    TeamName { field: "name", max: 80, trim: Both, empty: Some("Enter a team name."),
        too_long: "Use at most 80 characters." }
}

text_kind! {
    ServiceName { field: "name", max: 80, trim: Both, empty: Some("Enter a service name."),
        too_long: "Use at most 80 characters." }
}

text_kind! {
    ServiceDescription { field: "description", max: 2_000, trim: Both, empty: None,
        too_long: "Use at most 2000 characters." }
}

text_kind! {
    RunbookTitle { field: "title", max: 200, trim: Both,
        empty: Some("Give the runbook a title of up to 200 characters."),
        too_long: "Give the runbook a title of up to 200 characters." }
}

text_kind! {
    /// A runbook's Markdown.
    RunbookBody { field: "body", max: 100_000, trim: Kept, empty: None,
        too_long: "Keep a runbook under 100000 characters; split it." }
}

text_kind! {
    /// What colleagues see on incidents and timelines.
    DisplayName { field: "display_name", max: 100, trim: Both, empty: Some("Enter a name."),
        too_long: "Use at most 100 characters." }
}

text_kind! {
    MeetingPlace { field: "place", max: 500, trim: Both, empty: None,
        too_long: "Keep the place under 500 characters." }
}

text_kind! {
    TokenName { field: "name", max: 80, trim: Both,
        empty: Some("Name the token after what uses it, e.g. \"deploy bot\"."),
        too_long: "Keep the name under 80 characters." }
}

text_kind! {
    /// Why an action item won't be done; required for that, which the status change checks.
    WontDoReason { field: "reason", max: 2_000, trim: Both, empty: None,
        too_long: "Keep the reason under 2000 characters." }
}

text_kind! {
    /// Why a postmortem has no action items.
    NoActionItemsReason { field: "reason", max: 2_000, trim: Both, empty: None,
        too_long: "Keep it under 2000 characters." }
}

text_kind! {
    /// A notification policy's or a webhook's name.
    NotificationName { field: "name", max: 80, trim: Both, empty: Some("Give it a name of up to 80 characters."),
        too_long: "Give it a name of up to 80 characters." }
}

text_kind! {
    /// The id a chat tool (Slack, Mattermost) knows a person by; one word, checked by
    /// the caller, or empty to forget it.
    ChatUserId { field: "chat_user_id", max: 64, trim: Both, empty: None,
        too_long: "A chat user id is one word, like U024BE7LH." }
}

/// An email address as Foghorn stores it: trimmed and lower-cased, so that
/// `Ana@Example.com` and `ana@example.com` are one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// The most characters an address may have (RFC 5321's path limit).
    pub const MAX: usize = 254;

    pub fn parse(input: &str) -> Result<Self, AppError> {
        let email = input.trim().to_lowercase();
        let valid = email.len() <= Self::MAX
            && !email.chars().any(char::is_whitespace)
            && matches!(email.split_once('@'), Some((local, domain)) if !local.is_empty() && !domain.is_empty() && !domain.contains('@'));
        if valid {
            Ok(Self(email))
        } else {
            Err(AppError::invalid("email", "Enter an email address like name@example.com."))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A new password's length rule (NIST SP 800-63B: length only, no composition rules,
/// never truncated). The server also refuses the most common passwords.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub const MIN: usize = 8;
    /// Long enough for any passphrase; bounded so one request cannot make us hash megabytes.
    pub const MAX: usize = 256;

    pub fn parse(input: &str) -> Result<Self, AppError> {
        let chars = input.chars().count();
        if chars < Self::MIN {
            return Err(AppError::invalid("password", format!("Use at least {} characters.", Self::MIN)));
        }
        if chars > Self::MAX {
            return Err(AppError::invalid("password", format!("Use at most {} characters.", Self::MAX)));
        }
        Ok(Self(input.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Never printed: a password in a log line is a leaked password.
impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password([redacted])")
    }
}

text_kind! {
    /// A comms update's "what is affected", in a line or two. Every part of an update
    /// may be empty on its own; the update checks that it says something.
    CommsAffected { field: "affected", max: 2_000, trim: Both, empty: None,
        too_long: "Keep it under 2000 characters." }
}

text_kind! {
    /// A comms update's "what we know".
    CommsKnown { field: "known", max: 5_000, trim: Both, empty: None,
        too_long: "Keep it under 5000 characters." }
}

text_kind! {
    /// A comms update's "what we are doing".
    CommsDoing { field: "doing", max: 5_000, trim: Both, empty: None,
        too_long: "Keep it under 5000 characters." }
}

text_kind! {
    /// What customers read on the status page; required for a public update, which the
    /// update checks.
    PublicWording { field: "public_text", max: 5_000, trim: Both, empty: None,
        too_long: "Keep it under 5000 characters." }
}

text_kind! {
    /// An alert routing rule's name. Its errors are renamed to the rule's place in the
    /// list (`routes.2.name`) by the rules' check.
    RouteName { field: "name", max: 80, trim: Both, empty: Some("Name the rule (at most 80 characters)."),
        too_long: "Name the rule (at most 80 characters)." }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_trims_refuses_empty_and_counts_characters() {
        assert_eq!(IncidentTitle::parse("  Checkout down ").unwrap().as_str(), "Checkout down");
        let empty = IncidentTitle::parse("   ").unwrap_err();
        assert_eq!(empty, AppError::invalid("title", "Give the incident a title: what is broken?"));
        // 200 characters of four bytes each is within the limit: people count characters.
        assert!(IncidentTitle::parse(&"🔥".repeat(200)).is_ok());
        assert!(
            matches!(IncidentTitle::parse(&"x".repeat(201)), Err(AppError::Invalid { field, .. }) if field == "title")
        );
        assert_eq!(NoteBody::parse("  - indented\n\n").unwrap().as_str(), "  - indented");
        assert!(Summary::parse("").is_ok(), "a summary may be empty");
    }

    #[test]
    fn a_rule_in_a_list_is_named_by_its_place() {
        let err = RouteName::parse(" ").unwrap_err().in_field("routes.2.name");
        assert_eq!(err, AppError::invalid("routes.2.name", "Name the rule (at most 80 characters)."));
        assert_eq!(CommsAffected::parse(" db ").unwrap().as_str(), "db");
        assert!(CommsAffected::parse("").is_ok(), "each part of an update may be empty");
        assert_eq!(
            CommsKnown::parse(&"x".repeat(5_001)).unwrap_err(),
            AppError::invalid("known", "Keep it under 5000 characters.")
        );
    }

    #[test]
    fn emails_are_one_account_whatever_their_case() {
        assert_eq!(Email::parse(" Ana@Example.COM ").unwrap().as_str(), "ana@example.com");
        assert!(Email::parse("ana").is_err());
        assert!(Email::parse("a@b@c").is_err());
        assert!(Email::parse("a b@c").is_err());
    }

    #[test]
    fn passwords_are_checked_by_length_only_and_never_shown() {
        assert!(Password::parse("seven77").is_err());
        assert!(Password::parse("correct horse battery").is_ok());
        assert_eq!(format!("{:?}", Password::parse("correct horse battery").unwrap()), "Password([redacted])");
    }
}
