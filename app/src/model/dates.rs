//! The dates Foghorn takes from people: years 1970 to 2200. Wider than any incident,
//! due date or meeting, and narrow enough that adding a meeting's length or a day to
//! one never leaves what `time` and PostgreSQL can hold (a meeting typed as
//! `9999-12-31T23:30Z` once took the calendar feed down for everyone).

use crate::error::AppError;
use time::{Date, OffsetDateTime, UtcOffset};

pub const EARLIEST_YEAR: i32 = 1970;
pub const LATEST_YEAR: i32 = 2200;

/// The range as date-input bounds (`min`, `max`), so browsers offer only dates the
/// server accepts.
pub fn input_bounds() -> (String, String) {
    (format!("{EARLIEST_YEAR}-01-01"), format!("{LATEST_YEAR}-12-31"))
}

/// The range as `datetime-local` input bounds.
pub fn datetime_input_bounds() -> (String, String) {
    let (first, last) = input_bounds();
    (format!("{first}T00:00"), format!("{last}T23:59"))
}

fn out_of_range(field: &str) -> AppError {
    AppError::invalid(field, format!("Use a date between {EARLIEST_YEAR} and {LATEST_YEAR}."))
}

/// `date` if it is in the range; otherwise a field error for `field`.
pub fn check_date(field: &str, date: Date) -> Result<Date, AppError> {
    if (EARLIEST_YEAR..=LATEST_YEAR).contains(&date.year()) { Ok(date) } else { Err(out_of_range(field)) }
}

/// `at` if its date in UTC is in the range; otherwise a field error for `field`.
pub fn check_time(field: &str, at: OffsetDateTime) -> Result<OffsetDateTime, AppError> {
    // Checked: near year 9999 the UTC equivalent may not exist.
    let utc = at.checked_to_offset(UtcOffset::UTC).ok_or_else(|| out_of_range(field))?;
    check_date(field, utc.date()).map(|_| at)
}
