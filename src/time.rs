//! Dates and times for people, in the browser's time zone.

use js_sys::Date;
use natter_protocol::Millis;

fn date(ms: Millis) -> Date {
    Date::new(&(ms as f64).into())
}

/// "14:05".
pub fn clock(ms: Millis) -> String {
    let d = date(ms);
    format!("{:02}:{:02}", d.get_hours(), d.get_minutes())
}

/// A number that changes exactly when the local calendar day does.
pub fn day_number(ms: Millis) -> u32 {
    let d = date(ms);
    d.get_full_year() * 400 + d.get_month() * 32 + d.get_date()
}

const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// "Today", "Yesterday" or "Mon 3 Nov" (with the year when it is not this
/// year's).
pub fn day_label(ms: Millis, now: Millis) -> String {
    let today = day_number(now);
    let day = day_number(ms);
    if day == today {
        return "Today".to_owned();
    }
    if day == day_number(now - 24 * 3600 * 1000) {
        return "Yesterday".to_owned();
    }
    let d = date(ms);
    let mut label = format!(
        "{} {} {}",
        WEEKDAYS[d.get_day() as usize % 7],
        d.get_date(),
        MONTHS[d.get_month() as usize % 12]
    );
    if d.get_full_year() != date(now).get_full_year() {
        label.push_str(&format!(" {}", d.get_full_year()));
    }
    label
}

/// The conversation list's time: the clock today, the day otherwise.
pub fn list_time(ms: Millis, now: Millis) -> String {
    if day_number(ms) == day_number(now) {
        clock(ms)
    } else {
        day_label(ms, now)
    }
}
