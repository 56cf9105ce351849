//! Calendar arithmetic without a time-zone database.
//!
//! Dates and timestamps travel as day counts and epoch seconds (Debezium's
//! `io.debezium.time.*` logical types); these proleptic Gregorian
//! conversions serve the decoder, the snapshot reader and the encoder.

/// Microseconds since the Unix epoch, now.
pub fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or_default()
}

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date for a day count (inverse of [`days_from_civil`]).
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

/// Days since the epoch, or `None` for a zero date or zero-in-date value.
pub fn days_from_civil_checked(y: u16, m: u8, d: u8) -> Option<i64> {
    // Zero dates and zero-in-date values (2024-00-10) have no day count.
    if m == 0 || d == 0 || m > 12 || d > 31 {
        return None;
    }
    Some(days_from_civil(i64::from(y), u32::from(m), u32::from(d)))
}

/// `2024-05-01T10:11:12.345Z`: UTC with `fsp` fraction digits.
pub fn zoned_timestamp(secs: i64, micros: u32, fsp: u8) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let mut s = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    );
    if fsp > 0 {
        let frac = format!("{micros:06}");
        s.push('.');
        s.push_str(&frac[..usize::from(fsp.min(6))]);
    }
    s.push('Z');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn civil_conversions() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
        assert_eq!(civil_from_days(11_017), (2000, 3, 1));
        assert_eq!(zoned_timestamp(0, 0, 0), "1970-01-01T00:00:00Z");
        assert_eq!(
            zoned_timestamp(1_714_558_272, 345_000, 3),
            "2024-05-01T10:11:12.345Z"
        );
    }

    proptest! {
        #[test]
        fn civil_round_trip(days in -1_000_000i64..1_000_000) {
            let (y, m, d) = civil_from_days(days);
            prop_assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
