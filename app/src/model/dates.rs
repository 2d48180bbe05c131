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

/// "3h 05m", "12m 40s": how long something took or has been going on.
pub fn format_duration(d: time::Duration) -> String {
    let secs = d.whole_seconds().max(0);
    let (days, hours, minutes, seconds) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    if days > 0 {
        format!("{days}d {hours}h {minutes:02}m")
    } else if hours > 0 {
        format!("{hours}h {minutes:02}m")
    } else if minutes > 0 {
        format!("{minutes}m {seconds:02}s")
    } else {
        format!("{seconds}s")
    }
}

/// A timestamp as people read it, with its zone named: `2026-11-25 14:03:07 UTC`.
pub fn format_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_a_clock() {
        assert_eq!(format_duration(time::Duration::seconds(42)), "42s");
        assert_eq!(format_duration(time::Duration::seconds(754)), "12m 34s");
        assert_eq!(format_duration(time::Duration::seconds(3 * 3600 + 5 * 60)), "3h 05m");
    }
}
