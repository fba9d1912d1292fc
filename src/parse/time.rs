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

/// Formats UTC microseconds as `2017-03-01T00:00:06.137911Z`.
pub fn format_utc_us(ts_us: i64) -> String {
    let dt = chrono::DateTime::from_timestamp_micros(ts_us).unwrap_or_default();
    dt.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

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
