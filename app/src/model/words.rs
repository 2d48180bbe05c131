//! Closed sets of words that Foghorn stores and sends as text (roles, statuses,
//! timeline kinds…), declared once each with [`word_enum!`] instead of four
//! hand-written matches that can drift apart.

/// Declares an enum whose values are words: each variant's stored and wire word and
/// its label for people. It generates `ALL`, `as_str` (the word), `label`, serde as the
/// word, decoding from a text column (server side), `Display` (the word) and `FromStr`
/// (trimmed, case-insensitive; an unknown word is refused with `Unknown <what> "<word>"`
/// and the hint, when there is one).
///
/// ```ignore
/// word_enum! {
///     /// Where the response stands.
///     pub enum Status ("status", "") {
///         Investigating = "investigating", "Investigating";
///         Resolved = "resolved", "Resolved";
///     }
/// }
/// ```
macro_rules! word_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident ($what:literal, $hint:literal) {
            $( $(#[$variant_meta:meta])* $variant:ident = $word:literal, $label:literal; )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        $vis enum $name {
            $( $(#[$variant_meta])* #[serde(rename = $word)] $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: [$name; [$($word),+].len()] = [$($name::$variant),+];

            /// The word as stored and sent.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $word,)+
                }
            }

            /// The word as people read it.
            pub fn label(self) -> &'static str {
                match self {
                    $($name::$variant => $label,)+
                }
            }
        }

        // Written out rather than derived: the derive does not see the words through
        // this macro, and the document must say exactly what travels.
        #[cfg(feature = "ssr")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($word),+]))
                    .into()
            }
        }

        #[cfg(feature = "ssr")]
        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(stringify!($name))
            }
        }

        // Read straight from a text column (`AS "status: Status"` in a checked query); a
        // word this Foghorn does not know is a decoding error, never a silent default.
        #[cfg(feature = "ssr")]
        impl sqlx::Type<sqlx::Postgres> for $name {
            fn type_info() -> sqlx::postgres::PgTypeInfo {
                <&str as sqlx::Type<sqlx::Postgres>>::type_info()
            }

            fn compatible(ty: &sqlx::postgres::PgTypeInfo) -> bool {
                <&str as sqlx::Type<sqlx::Postgres>>::compatible(ty)
            }
        }

        #[cfg(feature = "ssr")]
        impl<'r> sqlx::Decode<'r, sqlx::Postgres> for $name {
            fn decode(value: sqlx::postgres::PgValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
                Ok(<&str as sqlx::Decode<'r, sqlx::Postgres>>::decode(value)?.parse::<$name>()?)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let word = s.trim().to_ascii_lowercase();
                $name::ALL.into_iter().find(|v| v.as_str() == word).ok_or_else(|| {
                    if $hint.is_empty() {
                        format!("Unknown {} \"{}\".", $what, s.trim())
                    } else {
                        format!("Unknown {} \"{}\": {}.", $what, s.trim(), $hint)
                    }
                })
            }
        }
    };
}
