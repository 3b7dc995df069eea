//! The server's timestamps (`createdAt`, `updatedAt`, event times), read and written once for
//! every crate: the server writes ISO 8601 with microseconds and an offset
//! (`2026-11-22T22:28:59.047371+00:00`), and compares them as instants, not as text.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Days from 1970-01-01 to the civil date (proleptic Gregorian; H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day count from 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

fn number(s: &str) -> Option<i64> {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// Microseconds since the Unix epoch of a server timestamp: `YYYY-MM-DDTHH:MM:SS[.ffffff]`
/// followed by `Z`, `±HH:MM` or nothing (UTC, as the server's naive event times are). `None`
/// for anything else.
pub fn parse_server_time_micros(text: &str) -> Option<i64> {
    let text = text.trim();
    let (date, rest) = text.split_once(['T', ' '])?;
    let mut ymd = date.splitn(3, '-');
    let (y, m, d) = (
        number(ymd.next()?)?,
        number(ymd.next()?)?,
        number(ymd.next()?)?,
    );
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let (clock, offset_secs) = match rest.find(['Z', 'z', '+', '-']) {
        None => (rest, 0),
        Some(at) => {
            let (clock, zone) = rest.split_at(at);
            let offset = match zone {
                "Z" | "z" => 0,
                _ => {
                    let sign = if zone.starts_with('-') { -1 } else { 1 };
                    let (h, mm) = zone[1..].split_once(':').unwrap_or((&zone[1..], "0"));
                    sign * (number(h)? * 3600 + number(mm)? * 60)
                }
            };
            (clock, offset)
        }
    };
    let (hms, fraction) = clock.split_once('.').unwrap_or((clock, ""));
    let mut parts = hms.splitn(3, ':');
    let (h, mi, s) = (
        number(parts.next()?)?,
        number(parts.next()?)?,
        number(parts.next()?)?,
    );
    if h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let micros = if fraction.is_empty() {
        0
    } else {
        let digits: String = fraction.chars().chain("000000".chars()).take(6).collect();
        number(&digits)?
    };
    let secs = days_from_civil(y, m, d) * 86_400 + h * 3600 + mi * 60 + s - offset_secs;
    Some(secs * 1_000_000 + micros)
}

/// A server timestamp as a [`SystemTime`]; `None` when it does not parse or is before 1970.
pub fn parse_server_time(text: &str) -> Option<SystemTime> {
    let micros = u64::try_from(parse_server_time_micros(text)?).ok()?;
    Some(UNIX_EPOCH + Duration::from_micros(micros))
}

/// A time as the server writes it: `2026-11-22T22:28:59.047371+00:00` (UTC, microseconds).
pub fn format_server_time(time: SystemTime) -> String {
    let micros = time
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0);
    let (secs, frac) = (micros.div_euclid(1_000_000), micros.rem_euclid(1_000_000));
    let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{frac:06}+00:00",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_compares_instants_not_text() {
        let t = "2026-11-22T22:28:59.047371+00:00";
        let parsed = parse_server_time(t).expect("parses");
        assert_eq!(format_server_time(parsed), t);
        // The same instant in another offset, in `Z`, and naive (event times).
        let a = parse_server_time_micros("2026-11-22T23:28:59.047371+01:00");
        assert_eq!(a, parse_server_time_micros(t));
        assert_eq!(
            parse_server_time_micros("2026-11-22T22:28:59.047371Z"),
            parse_server_time_micros(t)
        );
        assert_eq!(
            parse_server_time_micros("2026-11-22T22:28:59.047371"),
            parse_server_time_micros(t)
        );
        // Fewer fraction digits mean tenths, not microseconds.
        assert_eq!(
            parse_server_time_micros("2026-11-22T22:28:59.5Z"),
            parse_server_time_micros("2026-11-22T22:28:59.500000+00:00")
        );
        // As text `+01:00` sorts after `+00:00`; as instants it is an hour earlier.
        assert!(
            parse_server_time_micros("2026-11-22T22:28:59+01:00")
                < parse_server_time_micros("2026-11-22T22:28:59+00:00")
        );
        assert_eq!(
            format_server_time(UNIX_EPOCH),
            "1970-01-01T00:00:00.000000+00:00"
        );
    }

    #[test]
    fn rejects_what_is_not_a_timestamp() {
        for bad in [
            "",
            "yesterday",
            "2026-13-01T00:00:00Z",
            "2026-11-22",
            "2026-11-22Tab:00:00",
        ] {
            assert_eq!(parse_server_time_micros(bad), None, "{bad}");
        }
    }
}
