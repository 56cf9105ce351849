//! Numbers as Java prints them.
//!
//! Kafka Connect's JsonConverter serialises floats and doubles with Jackson,
//! which writes Java's `Double.toString` / `Float.toString`. Both the
//! encoder (FLOAT and DOUBLE columns) and the binlog JSON decoder (doubles
//! inside a JSON document) print numbers this way, so the function lives
//! with the plain data types.

/// A double as Java's `Double.toString` prints it (what Jackson writes for
/// Kafka Connect): plain between 10^-3 and 10^7, else `d.dddE±n`; always
/// at least one fraction digit; NaN and infinities become `null`.
pub fn java_double(v: f64) -> String {
    java_number(
        v.is_finite(),
        v == 0.0,
        v.abs(),
        || format!("{v}"),
        || format!("{v:e}"),
        || format!("{v:.1e}"),
    )
}

/// A float as Java's `Float.toString` prints it.
pub fn java_float(v: f32) -> String {
    java_number(
        v.is_finite(),
        v == 0.0,
        f64::from(v.abs()),
        || format!("{v}"),
        || format!("{v:e}"),
        || format!("{v:.1e}"),
    )
}

fn java_number(
    finite: bool,
    zero: bool,
    abs: f64,
    plain: impl Fn() -> String,
    sci: impl Fn() -> String,
    sci_two_digits: impl Fn() -> String,
) -> String {
    if !finite {
        return "null".into();
    }
    if zero || (1e-3..1e7).contains(&abs) {
        let mut s = plain();
        if !s.contains('.') {
            s.push_str(".0");
        }
        return s;
    }
    // Rust's `{:e}` gives the shortest digits: `1.5e10`, `1e-7`. Java
    // writes at least two digits, and of the two-digit decimals that read
    // back as the number it picks the closest (4.9E-324, not 5.0E-324).
    let mut s = sci();
    if !s.split('e').next().unwrap_or("").contains('.') {
        s = sci_two_digits();
    }
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let mantissa = mantissa.to_string();
    format!("{mantissa}E{exp}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_as_java_does() {
        assert_eq!(java_double(1.0), "1.0");
        assert_eq!(java_double(0.5), "0.5");
        assert_eq!(java_double(1234567.0), "1234567.0");
        assert_eq!(java_double(1e7), "1.0E7");
        assert_eq!(java_double(1e300), "1.0E300");
        assert_eq!(java_double(0.001), "0.001");
        assert_eq!(java_double(1e-4), "1.0E-4");
        assert_eq!(java_double(-2.5e-7), "-2.5E-7");
        assert_eq!(java_double(-0.0), "-0.0");
        assert_eq!(java_double(f64::NAN), "null");
        assert_eq!(java_float(0.1), "0.1");
        assert_eq!(java_float(-3.4e38), "-3.4E38");
        assert_eq!(java_float(16777216.0), "1.6777216E7");
        assert_eq!(java_double(5e-324), "4.9E-324");
        assert_eq!(java_double(-2e-7), "-2.0E-7");
        assert_eq!(java_float(1e-45), "1.4E-45");
    }
}
