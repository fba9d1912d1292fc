//! Calendar arithmetic for log timestamps, without time-zone lookups: a log's
//! local wall-clock time is kept as microseconds since 1970 "as if UTC" until the
//! file's zone is known.

/// Days from 1970-01-01 to the given proleptic Gregorian date.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// Microseconds since 1970 for a validated civil date-time; `None` when any field
/// is out of range (February 30th, hour 25, ...).
pub fn civil_to_us(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32, us: u32) -> Option<i64> {
    if !(1970..=9999).contains(&y) || !(1..=12).contains(&mo) || d == 0 {
        return None;
    }
    if d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 59 || us > 999_999 {
        return None;
    }
    let secs = days_from_civil(y, mo, d) * 86_400 + (h * 3600 + mi * 60 + s) as i64;
    Some(secs * 1_000_000 + us as i64)
}

fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0u32, |n, &c| n * 10 + (c - b'0') as u32))
}

/// Parses `YYYY-MM-DD?HH:MM:SS` (any single separator in the middle) followed by an
/// optional `.fraction` of 1 to 9 digits. Returns the time and the bytes consumed.
pub fn parse_datetime(b: &[u8]) -> Option<(i64, usize)> {
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let y = digits(&b[0..4])? as i64;
    let mo = digits(&b[5..7])?;
    let d = digits(&b[8..10])?;
    let h = digits(&b[11..13])?;
    let mi = digits(&b[14..16])?;
    let s = digits(&b[17..19])?;
    let mut used = 19;
    let mut us = 0u32;
    if b.get(19) == Some(&b'.') {
        let frac = b[20..].iter().take_while(|c| c.is_ascii_digit()).count();
        if frac == 0 || frac > 9 {
            return None;
        }
        let kept = &b[20..20 + frac.min(6)];
        us = digits(kept)? * 10u32.pow(6 - kept.len() as u32);
        used = 20 + frac;
    }
    Some((civil_to_us(y, mo, d, h, mi, s, us)?, used))
}

/// Civil date (year, month, day) of a day count since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Appends `n` as exactly `width` decimal digits, zero-padded.
pub fn push_digits(out: &mut Vec<u8>, mut n: u64, width: usize) {
    let at = out.len();
    out.resize(at + width, b'0');
    for i in (0..width).rev() {
        out[at + i] = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

/// Formats UTC microseconds as `2017-03-01T00:00:06.137911Z`.
pub fn format_utc_us(ts_us: i64) -> String {
    let mut out = Vec::with_capacity(27);
    push_utc_us(&mut out, ts_us);
    String::from_utf8(out).expect("a formatted time is ASCII")
}

/// Appends `2017-03-01T00:00:06.137911Z`; written by hand for years 1970 to 9999
/// because export formats one per row.
pub fn push_utc_us(out: &mut Vec<u8>, ts_us: i64) {
    if !(0..END_OF_9999_US).contains(&ts_us) {
        let dt = chrono::DateTime::from_timestamp_micros(ts_us).unwrap_or_default();
        out.extend_from_slice(dt.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string().as_bytes());
        return;
    }
    push_date_time(out, ts_us / 1_000_000);
    out.push(b'.');
    push_digits(out, (ts_us % 1_000_000) as u64, 6);
    out.push(b'Z');
}

/// Formats UTC microseconds as `2017-03-01T00:00:06Z`, the fraction dropped
/// (toward zero, as SQL's integer division does).
pub fn format_utc_seconds(ts_us: i64) -> String {
    let secs = ts_us / 1_000_000;
    if !(0..END_OF_9999_US).contains(&ts_us) {
        let dt = chrono::DateTime::from_timestamp(secs, 0).unwrap_or_default();
        return dt.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    }
    let mut out = Vec::with_capacity(20);
    push_date_time(&mut out, secs);
    out.push(b'Z');
    String::from_utf8(out).expect("a formatted time is ASCII")
}

/// The first microsecond of year 10 000: times before it (and from 1970) are
/// formatted by hand.
const END_OF_9999_US: i64 = 253_402_300_800_000_000;

/// Appends `2017-03-01T00:00:06` for seconds since 1970.
fn push_date_time(out: &mut Vec<u8>, secs: i64) {
    let (y, m, d) = civil_from_days(secs / 86_400);
    let sod = secs % 86_400;
    push_digits(out, y as u64, 4);
    out.push(b'-');
    push_digits(out, m as u64, 2);
    out.push(b'-');
    push_digits(out, d as u64, 2);
    out.push(b'T');
    push_digits(out, (sod / 3600) as u64, 2);
    out.push(b':');
    push_digits(out, (sod / 60 % 60) as u64, 2);
    out.push(b':');
    push_digits(out, (sod % 60) as u64, 2);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_formatting_agrees_with_chrono() {
        let chrono = |us: i64| {
            chrono::DateTime::from_timestamp_micros(us)
                .unwrap()
                .format("%Y-%m-%dT%H:%M:%S%.6fZ")
                .to_string()
        };
        let mut us = 0i64;
        while us < 253_402_300_800_000_000 {
            assert_eq!(format_utc_us(us), chrono(us), "{us}");
            us += 1_727_999_999_999 + (us % 7_919) * 1_000_003;
        }
        for us in [
            -1,
            253_402_300_799_999_999,
            253_402_300_800_000_000,
            999_999_999_999_000_000,
        ] {
            assert_eq!(format_utc_us(us), chrono(us), "{us}");
        }
    }

    #[test]
    fn seconds_are_formatted_as_chrono_does_with_the_fraction_dropped() {
        let chrono = |secs: i64| {
            chrono::DateTime::from_timestamp(secs, 0)
                .unwrap()
                .format("%Y-%m-%dT%H:%M:%SZ")
                .to_string()
        };
        let mut us = 0i64;
        while us < 253_402_300_800_000_000 {
            assert_eq!(format_utc_seconds(us), chrono(us / 1_000_000), "{us}");
            us += 1_727_999_999_999 + (us % 7_919) * 1_000_003;
        }
        assert_eq!(
            format_utc_seconds(1_502_496_000_999_999),
            "2017-08-12T00:00:00Z"
        );
        // Toward zero before 1970, as `first_ts_us / 1000000` is in SQL.
        assert_eq!(format_utc_seconds(-1), "1970-01-01T00:00:00Z");
        assert_eq!(format_utc_seconds(-1_000_001), "1969-12-31T23:59:59Z");
        assert_eq!(
            format_utc_seconds(253_402_300_800_000_000),
            "+10000-01-01T00:00:00Z"
        );
    }

    #[test]
    fn parses_log_timestamps() {
        let (us, n) = parse_datetime(b"2017-03-01T00:00:06.137911 #63119").unwrap();
        assert_eq!(n, 26);
        assert_eq!(format_utc_us(us), "2017-03-01T00:00:06.137911Z");
        let (us, n) = parse_datetime(b"2017-08-11 23:06:19 UTC").unwrap();
        assert_eq!(n, 19);
        assert_eq!(format_utc_us(us), "2017-08-11T23:06:19.000000Z");
        let (us, _) = parse_datetime(b"2016-02-29T23:59:59.5").unwrap();
        assert_eq!(format_utc_us(us), "2016-02-29T23:59:59.500000Z");
    }

    #[test]
    fn rejects_impossible_dates() {
        for bad in [
            &b"2017-02-29T00:00:00.000000"[..],
            b"2017-02-30T25:61:00.000000",
            b"2017-13-01T00:00:00.000000",
            b"2017-00-01T00:00:00.000000",
            b"2017-04-31T00:00:00.000000",
            b"2017-03-01T24:00:00.000000",
            b"2017-03-01T00:00:60.000000",
            b"2017-03-01T00:00:00.",
            b"2017-3-01T00:00:00.000000",
            b"1969-12-31T23:59:59.000000",
            b"2017-03-01",
        ] {
            assert_eq!(
                parse_datetime(bad),
                None,
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn agrees_with_chrono_on_every_day() {
        let mut day = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
        let end = chrono::NaiveDate::from_ymd_opt(2101, 1, 1).unwrap();
        while day < end {
            let text = format!("{}T13:14:15.000001", day.format("%Y-%m-%d"));
            let (us, _) = parse_datetime(text.as_bytes()).unwrap();
            let expect = day.and_hms_micro_opt(13, 14, 15, 1).unwrap().and_utc();
            assert_eq!(us, expect.timestamp_micros(), "{text}");
            day = day.succ_opt().unwrap();
        }
    }
}
