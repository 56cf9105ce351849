//! MySQL column types in Kafka Connect JSON, as Debezium's MySQL connector
//! maps them (its `BinlogValueConverters` / `JdbcValueConverters`), with the
//! modes it offers. Defaults in bold.
//!
//! | MySQL | Connect type | logical name | JSON payload |
//! |---|---|---|---|
//! | TINYINT, SMALLINT | int16 (SMALLINT UNSIGNED: int32) | | number |
//! | MEDIUMINT, INT | int32 (INT UNSIGNED: int64) | | number |
//! | BIGINT | int64 | | number |
//! | BIGINT UNSIGNED | **`long`**: int64 (wraps as Java's long); `precise`: bytes | `Decimal` (scale 0) | |
//! | FLOAT / DOUBLE | float32 / float64 | | number, as Java prints it |
//! | DECIMAL(p,s) | **`precise`**: bytes; `string`: string; `double`: float64 | `org.apache.kafka.connect.data.Decimal` | base64 of the unscaled two's-complement big-endian integer |
//! | CHAR, VARCHAR, TEXT | string | | string |
//! | BINARY, VARBINARY, BLOB | **`bytes`**: bytes; `base64`, `base64-url-safe`, `hex`: string | | base64 / the encoding; BINARY(n) padded to n |
//! | DATE | int32 | `io.debezium.time.Date` (`connect`: `org.apache.kafka.connect.data.Date`) | days since the epoch |
//! | DATETIME(0-3) / (4-6) | int64 | `io.debezium.time.Timestamp` / `MicroTimestamp` (`connect`: `org.apache.kafka.connect.data.Timestamp`, ms) | ms / µs since the epoch, no time zone |
//! | TIMESTAMP(n) | string | `io.debezium.time.ZonedTimestamp` | ISO-8601 in UTC with exactly n fraction digits |
//! | TIME(n) | int64 | `io.debezium.time.MicroTime` (`connect`: int32 `org.apache.kafka.connect.data.Time`, ms) | µs, may be negative or above a day |
//! | YEAR | int32 | `io.debezium.time.Year` | number |
//! | JSON | string | `io.debezium.data.Json` | the document as a string |
//! | ENUM / SET | string | `io.debezium.data.Enum` / `EnumSet` | the label(s) |
//! | BIT(1) / BIT(n) | boolean / bytes | `io.debezium.data.Bits` | bool / base64, little-endian, ⌈n/8⌉ bytes |
//! | GEOMETRY / POINT | struct | `io.debezium.data.geometry.Geometry` / `Point` | `{wkb, srid}` / `{x, y, wkb, srid}`; SRID 0 is null |
//!
//! Zero dates (`0000-00-00`) and zero-in-date values become null in
//! nullable columns and the epoch in NOT NULL ones, as Debezium does.

use base64::Engine as _;
use serde_json::{json, Map, Value as Json};

use super::envelope::write_json_str;
use super::options::{BigIntUnsignedMode, BinaryMode, DecimalMode, TimePrecisionMode, TypeOptions};
use crate::model::number::{java_double, java_float};
use crate::model::time::{days_from_civil_checked, zoned_timestamp};
use crate::model::{Cell, Column, ColumnDefault, ColumnType};

const DECIMAL: &str = "org.apache.kafka.connect.data.Decimal";

/// The Kafka Connect schema of one column, as JsonConverter renders it
/// (field order: type, fields, optional, name, version, doc, parameters,
/// field). `params` are extra schema parameters (masking, source type).
pub fn column_schema(col: &Column, o: &TypeOptions, params: Option<Map<String, Json>>) -> Json {
    let connect = o.time == TimePrecisionMode::Connect;
    let decimal = |precision: u32, scale: u32| json!({"scale": scale.to_string(), "connect.decimal.precision": precision.to_string()});
    let (ty, name, mut p): (&str, Option<&str>, Option<Json>) = match &col.ty {
        ColumnType::TinyInt { .. } => ("int16", None, None),
        ColumnType::SmallInt { unsigned } => {
            (if *unsigned { "int32" } else { "int16" }, None, None)
        }
        ColumnType::MediumInt { .. } => ("int32", None, None),
        ColumnType::Int { unsigned } => (if *unsigned { "int64" } else { "int32" }, None, None),
        ColumnType::BigInt { unsigned: true }
            if o.bigint_unsigned == BigIntUnsignedMode::Precise =>
        {
            ("bytes", Some(DECIMAL), Some(decimal(20, 0)))
        }
        ColumnType::BigInt { .. } => ("int64", None, None),
        ColumnType::Float => ("float", None, None),
        ColumnType::Double => ("double", None, None),
        ColumnType::Decimal { precision, scale } => match o.decimal {
            DecimalMode::Precise => (
                "bytes",
                Some(DECIMAL),
                Some(decimal(u32::from(*precision), u32::from(*scale))),
            ),
            DecimalMode::String => ("string", None, None),
            DecimalMode::Double => ("double", None, None),
        },
        ColumnType::String { .. } | ColumnType::Unsupported { .. } => ("string", None, None),
        ColumnType::Bytes { .. } if o.binary == BinaryMode::Bytes => ("bytes", None, None),
        ColumnType::Bytes { .. } => ("string", None, None),
        ColumnType::Date if connect => ("int32", Some("org.apache.kafka.connect.data.Date"), None),
        ColumnType::Date => ("int32", Some("io.debezium.time.Date"), None),
        ColumnType::DateTime { .. } if connect => (
            "int64",
            Some("org.apache.kafka.connect.data.Timestamp"),
            None,
        ),
        ColumnType::DateTime { fsp } if *fsp <= 3 => {
            ("int64", Some("io.debezium.time.Timestamp"), None)
        }
        ColumnType::DateTime { .. } => ("int64", Some("io.debezium.time.MicroTimestamp"), None),
        ColumnType::Timestamp { .. } => ("string", Some("io.debezium.time.ZonedTimestamp"), None),
        ColumnType::Time { .. } if connect => {
            ("int32", Some("org.apache.kafka.connect.data.Time"), None)
        }
        ColumnType::Time { .. } => ("int64", Some("io.debezium.time.MicroTime"), None),
        ColumnType::Year => ("int32", Some("io.debezium.time.Year"), None),
        ColumnType::Json => ("string", Some("io.debezium.data.Json"), None),
        ColumnType::Enum { values } => (
            "string",
            Some("io.debezium.data.Enum"),
            Some(json!({"allowed": values.join(",")})),
        ),
        ColumnType::Set { values } => (
            "string",
            Some("io.debezium.data.EnumSet"),
            Some(json!({"allowed": values.join(",")})),
        ),
        ColumnType::Bit { bits: 1 } => ("boolean", None, None),
        ColumnType::Bit { bits } => (
            "bytes",
            Some("io.debezium.data.Bits"),
            Some(json!({"length": bits.to_string()})),
        ),
        ColumnType::Geometry | ColumnType::Point => {
            let point = matches!(col.ty, ColumnType::Point);
            let mut fields = Vec::new();
            if point {
                fields.push(json!({"type": "double", "optional": false, "field": "x"}));
                fields.push(json!({"type": "double", "optional": false, "field": "y"}));
            }
            fields.push(json!({"type": "bytes", "optional": point, "field": "wkb"}));
            fields.push(json!({"type": "int32", "optional": true, "field": "srid"}));
            let mut m = Map::new();
            m.insert("type".into(), "struct".into());
            m.insert("fields".into(), Json::Array(fields));
            m.insert("optional".into(), col.nullable.into());
            m.insert(
                "name".into(),
                if point {
                    "io.debezium.data.geometry.Point"
                } else {
                    "io.debezium.data.geometry.Geometry"
                }
                .into(),
            );
            m.insert("version".into(), 1.into());
            m.insert(
                "doc".into(),
                if point {
                    "Geometry (POINT)"
                } else {
                    "Geometry"
                }
                .into(),
            );
            if let Some(extra) = params {
                m.insert("parameters".into(), Json::Object(extra));
            }
            m.insert("field".into(), col.name.clone().into());
            return Json::Object(m);
        }
    };
    if let Some(extra) = params {
        match p.as_mut().and_then(Json::as_object_mut) {
            Some(existing) => existing.extend(extra),
            None => p = Some(Json::Object(extra)),
        }
    }
    let mut m = Map::new();
    m.insert("type".into(), ty.into());
    m.insert("optional".into(), col.nullable.into());
    if let Some(n) = name {
        m.insert("name".into(), n.into());
        m.insert("version".into(), 1.into());
    }
    if let Some(p) = p {
        m.insert("parameters".into(), p);
    }
    if let Some(d) = col.default.as_ref().and_then(|d| default_json(col, d, o)) {
        m.insert("default".into(), d);
    }
    m.insert("field".into(), col.name.clone().into());
    Json::Object(m)
}

/// A column DEFAULT as the field schema's `default`: the constant converted
/// like a value of the column; `CURRENT_TIMESTAMP` as the epoch, as
/// Debezium's default value converter does. `None` when the constant does
/// not parse as the column's type.
fn default_json(col: &Column, d: &ColumnDefault, o: &TypeOptions) -> Option<Json> {
    let text = match d {
        ColumnDefault::CurrentTimestamp => {
            return match &col.ty {
                ColumnType::Timestamp { fsp } => Some(zoned_timestamp(0, 0, *fsp).into()),
                ColumnType::DateTime { .. } | ColumnType::Date => Some(0.into()),
                _ => None,
            }
        }
        // Debezium gives a nullable column's zero-date DEFAULT no default.
        ColumnDefault::Literal(t) if col.nullable && t.starts_with("0000-00-00") => return None,
        ColumnDefault::Literal(t) => t.as_str(),
    };
    let mut cell = default_cell(&col.ty, text)?;
    // Debezium's default converter reads a BIGINT UNSIGNED DEFAULT above
    // Long.MAX_VALUE as Long.MAX_VALUE in `long` mode (a row's value wraps).
    if let (Cell::UInt(u), ColumnType::BigInt { unsigned: true }) = (&cell, &col.ty) {
        if o.bigint_unsigned == BigIntUnsignedMode::Long && *u > i64::MAX as u64 {
            cell = Cell::Int(i64::MAX);
        }
    }
    let mut buf = Vec::new();
    // A NOT NULL rendering, so zero dates and the epoch keep their value.
    let as_required = Column {
        nullable: false,
        ..col.clone()
    };
    write_cell(&mut buf, &as_required, &cell, o);
    serde_json::from_slice(&buf)
        .ok()
        .filter(|j: &Json| !j.is_null())
}

/// Parses a DEFAULT constant as the server prints it into a cell.
fn default_cell(ty: &ColumnType, text: &str) -> Option<Cell> {
    let ymd = |s: &str| -> Option<(u16, u8, u8)> {
        let mut it = s.split('-');
        Some((
            it.next()?.parse().ok()?,
            it.next()?.parse().ok()?,
            it.next()?.parse().ok()?,
        ))
    };
    // `H:MM:SS[.ffffff]`; hours may exceed a day (TIME).
    let hms = |s: &str| -> Option<(u32, u8, u8, u32)> {
        let (main, frac) = s.split_once('.').unwrap_or((s, ""));
        let mut it = main.split(':');
        let micros = format!("{frac:0<6}").get(..6)?.parse().ok()?;
        Some((
            it.next()?.parse().ok()?,
            it.next()?.parse().ok()?,
            it.next()?.parse().ok()?,
            micros,
        ))
    };
    Some(match ty {
        t if t.is_unsigned() => Cell::UInt(text.parse().ok()?),
        ColumnType::TinyInt { .. }
        | ColumnType::SmallInt { .. }
        | ColumnType::MediumInt { .. }
        | ColumnType::Int { .. }
        | ColumnType::BigInt { .. } => Cell::Int(text.parse().ok()?),
        ColumnType::Float => Cell::Float(text.parse().ok()?),
        ColumnType::Double => Cell::Double(text.parse().ok()?),
        ColumnType::Decimal { .. } => {
            text.parse::<f64>().ok()?;
            Cell::Decimal(text.to_string())
        }
        ColumnType::String { .. } => Cell::Text(text.to_string()),
        ColumnType::Date => {
            let (year, month, day) = ymd(text)?;
            Cell::Date { year, month, day }
        }
        ColumnType::DateTime { .. } | ColumnType::Timestamp { .. } => {
            let (date, time) = text.split_once(' ').unwrap_or((text, "00:00:00"));
            let (year, month, day) = ymd(date)?;
            let (hour, minute, second, micros) = hms(time)?;
            let hour = u8::try_from(hour).ok()?;
            if let (ColumnType::Timestamp { .. }, 0) = (ty, year) {
                // The zero date: Debezium's default converter gives the epoch
                // (for a nullable column, no default: see `default_json`).
                Cell::Timestamp { secs: 0, micros: 0 }
            } else if let ColumnType::Timestamp { .. } = ty {
                Cell::timestamp_utc(year, month, day, hour, minute, second, micros)
            } else {
                Cell::DateTime {
                    year,
                    month,
                    day,
                    hour,
                    minute,
                    second,
                    micros,
                }
            }
        }
        ColumnType::Time { .. } => {
            let (neg, rest) = match text.strip_prefix('-') {
                Some(r) => (true, r),
                None => (false, text),
            };
            let (h, m, s, us) = hms(rest)?;
            Cell::time(neg, h / 24, (h % 24) as u8, m, s, us)
        }
        ColumnType::Year => Cell::Year(text.parse().ok()?),
        ColumnType::Enum { values } => {
            Cell::Enum(values.iter().position(|v| v == text)? as u16 + 1)
        }
        ColumnType::Set { values } => {
            let mut bits = 0u64;
            for part in text.split(',').filter(|p| !p.is_empty()) {
                bits |= 1u64 << values.iter().position(|v| v == part)?;
            }
            Cell::Set(bits)
        }
        // MySQL prints a binary constant as hex (`0x0102`).
        ColumnType::Bytes { .. } => {
            let hex = text.strip_prefix("0x")?.as_bytes();
            if hex.len() % 2 != 0 || !hex.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            let digit = |b: u8| (b as char).to_digit(16).unwrap_or(0) as u8;
            Cell::Bytes(
                hex.chunks(2)
                    .map(|p| digit(p[0]) << 4 | digit(p[1]))
                    .collect(),
            )
        }
        ColumnType::Bit { bits } => {
            // `b'101'` (MySQL) or a number.
            let v = match text.strip_prefix("b'").and_then(|x| x.strip_suffix('\'')) {
                Some(b) => u64::from_str_radix(b, 2).ok()?,
                None => text.parse().ok()?,
            };
            let width = usize::from(bits.div_ceil(8)).max(1);
            Cell::Bytes(v.to_be_bytes()[8 - width.min(8)..].to_vec())
        }
        _ => return None,
    })
}

/// Writes one cell's JSON payload value.
pub fn write_cell(buf: &mut Vec<u8>, col: &Column, cell: &Cell, o: &TypeOptions) {
    use std::io::Write as _;
    let null = |buf: &mut Vec<u8>| buf.extend_from_slice(b"null");
    let connect = o.time == TimePrecisionMode::Connect;
    match (cell, &col.ty) {
        (Cell::Null, _) => null(buf),
        (Cell::Int(v), ColumnType::Bit { bits: 1 }) => {
            buf.extend_from_slice(if *v != 0 { b"true" } else { b"false" })
        }
        (Cell::Int(v), _) => {
            let _ = write!(buf, "{v}");
        }
        (Cell::UInt(v), ColumnType::BigInt { .. }) => match o.bigint_unsigned {
            BigIntUnsignedMode::Precise => match decimal_unscaled_bytes(&v.to_string(), 0) {
                Some(bytes) => write_b64(buf, &bytes),
                None => null(buf),
            },
            // Java's long wraps.
            BigIntUnsignedMode::Long => {
                let _ = write!(buf, "{}", *v as i64);
            }
        },
        (Cell::UInt(v), _) => {
            let _ = write!(buf, "{v}");
        }
        // A FLOAT(M,D) column typed DOUBLE (as Debezium does): the float's
        // exact value as a double.
        (Cell::Float(v), ColumnType::Double) => {
            buf.extend_from_slice(java_double(f64::from(*v)).as_bytes())
        }
        (Cell::Float(v), _) => buf.extend_from_slice(java_float(*v).as_bytes()),
        (Cell::Double(v), _) => buf.extend_from_slice(java_double(*v).as_bytes()),
        (Cell::Decimal(s), ColumnType::Decimal { scale, .. }) => match o.decimal {
            DecimalMode::Precise => match decimal_unscaled_bytes(s, *scale) {
                Some(bytes) => write_b64(buf, &bytes),
                None => null(buf),
            },
            DecimalMode::String => write_json_str(buf, s),
            DecimalMode::Double => match s.trim().parse::<f64>() {
                Ok(d) => buf.extend_from_slice(java_double(d).as_bytes()),
                Err(_) => null(buf),
            },
        },
        (Cell::Decimal(s), _) => write_json_str(buf, s),
        (Cell::Text(s), _) => write_json_str(buf, s),
        (Cell::Bytes(b), ColumnType::Bit { bits }) => {
            if *bits == 1 {
                let on = b.iter().any(|&x| x != 0);
                buf.extend_from_slice(if on { b"true" } else { b"false" });
            } else {
                // MySQL sends BIT big-endian; Debezium reverses it to
                // little-endian and pads to the column's ⌈n/8⌉ bytes.
                let width = usize::from(bits.div_ceil(8)).max(1);
                let mut le: Vec<u8> = b.iter().rev().copied().collect();
                le.resize(width.max(le.len()), 0);
                write_b64(buf, &le);
            }
        }
        (Cell::Bytes(b), ColumnType::Geometry | ColumnType::Point) => {
            // MySQL stores a 4-byte little-endian SRID before the WKB.
            if b.len() >= 4 {
                let srid = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                let wkb = &b[4..];
                buf.push(b'{');
                if matches!(col.ty, ColumnType::Point) {
                    let (x, y) = point_xy(wkb).unwrap_or((0.0, 0.0));
                    let _ = write!(buf, "\"x\":{},\"y\":{},", java_double(x), java_double(y));
                }
                buf.extend_from_slice(b"\"wkb\":");
                write_b64(buf, wkb);
                if srid == 0 {
                    buf.extend_from_slice(b",\"srid\":null}");
                } else {
                    let _ = write!(buf, ",\"srid\":{srid}}}");
                }
            } else {
                null(buf);
            }
        }
        (Cell::Bytes(b), ColumnType::String { .. } | ColumnType::Unsupported { .. }) => {
            write_json_str(buf, &String::from_utf8_lossy(b))
        }
        (Cell::Bytes(b), ColumnType::Bytes { fixed }) => {
            let padded;
            let b = match fixed {
                Some(n) if b.len() < usize::from(*n) => {
                    let mut v = b.clone();
                    v.resize(usize::from(*n), 0);
                    padded = v;
                    &padded
                }
                _ => b,
            };
            write_binary(buf, b, o.binary)
        }
        (Cell::Bytes(b), _) => write_b64(buf, b),
        (Cell::Date { year, month, day }, _) => {
            match days_from_civil_checked(*year, *month, *day) {
                Some(d) => {
                    let _ = write!(buf, "{d}");
                }
                None => zero_date(buf, col),
            }
        }
        (
            Cell::DateTime {
                year,
                month,
                day,
                hour,
                minute,
                second,
                micros,
            },
            ColumnType::DateTime { fsp },
        ) => match days_from_civil_checked(*year, *month, *day) {
            Some(d) => {
                let us = d * 86_400_000_000
                    + i64::from(*hour) * 3_600_000_000
                    + i64::from(*minute) * 60_000_000
                    + i64::from(*second) * 1_000_000
                    + i64::from(*micros);
                let v = if connect || *fsp <= 3 {
                    us.div_euclid(1000)
                } else {
                    us
                };
                let _ = write!(buf, "{v}");
            }
            None => zero_date(buf, col),
        },
        (Cell::DateTime { .. }, _) => null(buf),
        (Cell::Timestamp { secs: 0, micros: 0 }, _) if col.nullable => {
            // MySQL's zero TIMESTAMP (`0000-00-00 00:00:00`) is stored as 0.
            null(buf)
        }
        (Cell::Timestamp { secs, micros }, ColumnType::Timestamp { .. }) if o.snapshot_read => {
            let full = zoned_timestamp(*secs, *micros, 6);
            let trimmed = full[..full.len() - 1]
                .trim_end_matches('0')
                .trim_end_matches('.');
            write_json_str(buf, &format!("{trimmed}Z"));
        }
        (Cell::Timestamp { secs, micros }, ColumnType::Timestamp { fsp }) => {
            write_json_str(buf, &zoned_timestamp(*secs, *micros, *fsp));
        }
        (Cell::Timestamp { secs, micros }, _) => {
            write_json_str(buf, &zoned_timestamp(*secs, *micros, 6))
        }
        // Kafka Connect's `Time` is a time of day: Debezium writes null for a
        // TIME outside [00:00, 24:00).
        (Cell::Time { micros }, _) if connect && !(0..86_400_000_000).contains(micros) => null(buf),
        (Cell::Time { micros }, _) if connect => {
            let _ = write!(buf, "{}", micros / 1000);
        }
        (Cell::Time { micros }, _) => {
            let _ = write!(buf, "{micros}");
        }
        (Cell::Year(y), _) => {
            let _ = write!(buf, "{y}");
        }
        (Cell::Json(s), _) => write_json_str(buf, s),
        (Cell::Enum(i), ColumnType::Enum { values }) => {
            let label = (*i as usize).checked_sub(1).and_then(|i| values.get(i));
            match label {
                Some(l) => write_json_str(buf, l),
                None if *i == 0 => write_json_str(buf, ""),
                None => write_json_str(buf, &i.to_string()),
            }
        }
        (Cell::Enum(i), _) => write_json_str(buf, &i.to_string()),
        (Cell::Set(bits), ColumnType::Set { values }) => {
            let labels: Vec<&str> = values
                .iter()
                .enumerate()
                .filter(|(i, _)| *i < 64 && bits & (1u64 << i) != 0)
                .map(|(_, v)| v.as_str())
                .collect();
            write_json_str(buf, &labels.join(","));
        }
        (Cell::Set(bits), _) => write_json_str(buf, &bits.to_string()),
    }
}

/// x and y of a 2D POINT in WKB (byte order, type 1, two doubles).
fn point_xy(wkb: &[u8]) -> Option<(f64, f64)> {
    if wkb.len() != 21 {
        return None;
    }
    let le = wkb[0] == 1;
    let f = |b: &[u8]| {
        let a: [u8; 8] = b.try_into().ok()?;
        Some(if le {
            f64::from_le_bytes(a)
        } else {
            f64::from_be_bytes(a)
        })
    };
    Some((f(&wkb[5..13])?, f(&wkb[13..21])?))
}

fn write_binary(buf: &mut Vec<u8>, b: &[u8], mode: BinaryMode) {
    match mode {
        BinaryMode::Bytes | BinaryMode::Base64 => write_b64(buf, b),
        BinaryMode::Base64UrlSafe => {
            buf.push(b'"');
            buf.extend_from_slice(
                base64::engine::general_purpose::URL_SAFE
                    .encode(b)
                    .as_bytes(),
            );
            buf.push(b'"');
        }
        BinaryMode::Hex => {
            buf.push(b'"');
            for byte in b {
                buf.extend_from_slice(format!("{byte:02x}").as_bytes());
            }
            buf.push(b'"');
        }
    }
}

fn zero_date(buf: &mut Vec<u8>, col: &Column) {
    if col.nullable {
        buf.extend_from_slice(b"null");
    } else {
        buf.push(b'0');
    }
}

fn write_b64(buf: &mut Vec<u8>, bytes: &[u8]) {
    buf.push(b'"');
    let start = buf.len();
    buf.resize(start + bytes.len().div_ceil(3) * 4, 0);
    let n = base64::engine::general_purpose::STANDARD
        .encode_slice(bytes, &mut buf[start..])
        .unwrap_or(0);
    buf.truncate(start + n);
    buf.push(b'"');
}

/// The unscaled value of a decimal string at `scale`, as Kafka Connect's
/// `Decimal` logical type stores it: minimal two's-complement big-endian.
pub fn decimal_unscaled_bytes(s: &str, scale: u8) -> Option<Vec<u8>> {
    let s = s.trim();
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let scale = usize::from(scale);
    if frac.len() > scale && frac[scale..].bytes().any(|b| b != b'0') {
        return None;
    }
    let mut all: Vec<u8> = Vec::with_capacity(int.len() + scale);
    all.extend(int.bytes());
    all.extend(frac.bytes().take(scale));
    all.extend(std::iter::repeat_n(b'0', scale.saturating_sub(frac.len())));
    // Big-endian base-256 magnitude.
    let mut mag: Vec<u8> = vec![0];
    for c in all {
        if !c.is_ascii_digit() {
            return None;
        }
        let mut carry = u32::from(c - b'0');
        for byte in mag.iter_mut().rev() {
            let v = u32::from(*byte) * 10 + carry;
            *byte = (v & 0xff) as u8;
            carry = v >> 8;
        }
        while carry > 0 {
            mag.insert(0, (carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    while mag.len() > 1 && mag[0] == 0 {
        mag.remove(0);
    }
    if neg && mag.iter().any(|&b| b != 0) {
        // Two's complement: invert and add one.
        for b in mag.iter_mut() {
            *b = !*b;
        }
        for b in mag.iter_mut().rev() {
            let (v, overflow) = b.overflowing_add(1);
            *b = v;
            if !overflow {
                break;
            }
        }
        if mag[0] & 0x80 == 0 {
            mag.insert(0, 0xff);
        }
        while mag.len() > 1 && mag[0] == 0xff && mag[1] & 0x80 != 0 {
            mag.remove(0);
        }
    } else if mag[0] & 0x80 != 0 {
        mag.insert(0, 0);
    }
    Some(mag)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn col(ty: ColumnType, nullable: bool) -> Column {
        Column::new("c", ty, nullable)
    }

    fn cell_json(ty: ColumnType, nullable: bool, cell: Cell) -> String {
        let mut b = Vec::new();
        write_cell(&mut b, &col(ty, nullable), &cell, &TypeOptions::default());
        String::from_utf8(b).unwrap()
    }

    #[test]
    fn decimal_bytes_match_java_biginteger() {
        // BigInteger.valueOf(x).toByteArray()
        assert_eq!(decimal_unscaled_bytes("0", 0).unwrap(), vec![0]);
        assert_eq!(decimal_unscaled_bytes("1.00", 2).unwrap(), vec![0x64]);
        assert_eq!(decimal_unscaled_bytes("1.28", 2).unwrap(), vec![0x00, 0x80]);
        assert_eq!(decimal_unscaled_bytes("-1.28", 2).unwrap(), vec![0x80]);
        assert_eq!(
            decimal_unscaled_bytes("-1.29", 2).unwrap(),
            vec![0xff, 0x7f]
        );
        assert_eq!(decimal_unscaled_bytes("-0.01", 2).unwrap(), vec![0xff]);
        assert_eq!(decimal_unscaled_bytes("12.3", 2).unwrap(), vec![0x04, 0xce]);
        assert_eq!(decimal_unscaled_bytes("abc", 2), None);
    }

    #[test]
    fn temporal_payloads() {
        let dt = Cell::DateTime {
            year: 2024,
            month: 5,
            day: 1,
            hour: 10,
            minute: 11,
            second: 12,
            micros: 345_678,
        };
        assert_eq!(
            cell_json(ColumnType::DateTime { fsp: 3 }, true, dt.clone()),
            "1714558272345"
        );
        assert_eq!(
            cell_json(ColumnType::DateTime { fsp: 6 }, true, dt),
            "1714558272345678"
        );
        assert_eq!(
            cell_json(
                ColumnType::Date,
                true,
                Cell::Date {
                    year: 0,
                    month: 0,
                    day: 0
                }
            ),
            "null"
        );
        assert_eq!(
            cell_json(
                ColumnType::Date,
                false,
                Cell::Date {
                    year: 0,
                    month: 0,
                    day: 0
                }
            ),
            "0"
        );
        assert_eq!(
            cell_json(
                ColumnType::Timestamp { fsp: 6 },
                true,
                Cell::Timestamp { secs: 1, micros: 5 }
            ),
            "\"1970-01-01T00:00:01.000005Z\""
        );
        assert_eq!(
            cell_json(
                ColumnType::Time { fsp: 0 },
                true,
                Cell::Time {
                    micros: -3_600_000_000
                }
            ),
            "-3600000000"
        );
    }

    #[test]
    fn numeric_payloads() {
        assert_eq!(
            cell_json(
                ColumnType::BigInt { unsigned: true },
                true,
                Cell::UInt(u64::MAX)
            ),
            "-1"
        );
        assert_eq!(
            cell_json(
                ColumnType::Int { unsigned: true },
                true,
                Cell::UInt(4_294_967_295)
            ),
            "4294967295"
        );
        assert_eq!(cell_json(ColumnType::Float, true, Cell::Float(1.5)), "1.5");
        assert_eq!(
            cell_json(
                ColumnType::Decimal {
                    precision: 10,
                    scale: 2
                },
                true,
                Cell::Decimal("1.00".into())
            ),
            "\"ZA==\""
        );
        assert_eq!(
            cell_json(
                ColumnType::Bytes { fixed: None },
                true,
                Cell::Bytes(vec![1, 2, 3])
            ),
            "\"AQID\""
        );
        assert_eq!(
            cell_json(ColumnType::Bit { bits: 1 }, true, Cell::Bytes(vec![1])),
            "true"
        );
    }

    #[test]
    fn bits_are_little_endian_and_padded() {
        let ty = ColumnType::Bit { bits: 12 };
        assert_eq!(
            cell_json(ty.clone(), true, Cell::Bytes(vec![0x00, 0x01])),
            "\"AQA=\""
        );
        assert_eq!(cell_json(ty, true, Cell::Bytes(vec![0x01])), "\"AQA=\"");
    }

    fn parse_biginteger(bytes: &[u8]) -> i128 {
        let mut v: i128 = if bytes[0] & 0x80 != 0 { -1 } else { 0 };
        for &b in bytes {
            v = (v << 8) | i128::from(b);
        }
        v
    }

    proptest! {
        #[test]
        fn decimal_bytes_round_trip(unscaled in -10i128.pow(30)..10i128.pow(30), scale in 0u8..10) {
            let abs = unscaled.unsigned_abs().to_string();
            let s = usize::from(scale);
            let padded = format!("{:0>width$}", abs, width = s + 1);
            let (i, f) = padded.split_at(padded.len() - s);
            let text = format!("{}{}{}{}", if unscaled < 0 { "-" } else { "" }, i, if s > 0 { "." } else { "" }, f);
            let bytes = decimal_unscaled_bytes(&text, scale).unwrap();
            prop_assert_eq!(parse_biginteger(&bytes), unscaled);
            // minimal: no redundant sign byte
            if bytes.len() > 1 {
                prop_assert!(!(bytes[0] == 0 && bytes[1] & 0x80 == 0));
                prop_assert!(!(bytes[0] == 0xff && bytes[1] & 0x80 != 0));
            }
        }

    }
}
