//! From binlog table maps and row values to [`TableSchema`] and [`Cell`].
//!
//! A `TABLE_MAP_EVENT` precedes the rows events of every table in every
//! transaction. Its column types and per-type metadata (DECIMAL precision
//! and scale, fractional-second precision, BIT length, the real type of
//! STRING columns) are always present; with `binlog_row_metadata=FULL` its
//! optional metadata adds column names, signedness of numeric columns,
//! character sets (63 = `binary` tells BLOB from TEXT), ENUM/SET labels and
//! the primary key. That is the schema the row was written with, which is
//! why it wins over `information_schema` (the schema of *now*), used only as
//! a fallback when the optional metadata is missing.
//!
//! `mysql_common` decodes the wire format into its `Value`s; here they are
//! mapped to [`Cell`]s by the column type, fixing what the wire format
//! leaves ambiguous (integers without signedness, TIMESTAMP as a decimal
//! string, YEAR 0, SET bitmaps).

use mysql_common::binlog::events::{OptionalMetaExtractor, OptionalMetadataField, TableMapEvent};
use mysql_common::binlog::value::BinlogValue;
use mysql_common::constants::{ColumnType as MyType, GeometryType};
use mysql_common::value::Value;

use super::json_text::{write_json_dom, write_jsonb};
use crate::model::{Cell, Column, ColumnType, SourceType, TableSchema};

/// MySQL's `binary` character set id: a string column with it is BINARY,
/// VARBINARY or BLOB.
const BINARY_CHARSET: u16 = 63;

/// Builds a table schema from a table map. `fallback` (from
/// `information_schema`) supplies names, signedness, key and labels when
/// the table map has no optional metadata. Returns `None` when the table
/// map has no column names and there is no usable fallback.
pub fn table_schema_from_tme(
    tme: &TableMapEvent<'_>,
    fallback: Option<&TableSchema>,
) -> Result<TableSchema, String> {
    let n = tme.columns_count() as usize;
    let extractor =
        OptionalMetaExtractor::new(tme.iter_optional_meta()).map_err(|e| e.to_string())?;
    let names: Vec<String> = extractor
        .iter_column_name()
        .map(|r| r.map(|c| c.name().into_owned()))
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    let mut signedness = extractor.iter_signedness();
    let mut charsets = extractor.iter_charset();
    let key_from_meta: Vec<usize> = extractor
        .iter_primary_key()
        .map(|r| r.map(|i| i as usize))
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    let mut enum_labels: Vec<Vec<String>> = Vec::new();
    let mut set_labels: Vec<Vec<String>> = Vec::new();
    let mut geometry_types: Vec<GeometryType> = Vec::new();
    for field in tme.iter_optional_meta() {
        match field.map_err(|e| e.to_string())? {
            OptionalMetadataField::GeometryType(g) => {
                for t in g.iter_geometry_types() {
                    geometry_types.push(t.map_err(|e| e.to_string())?);
                }
            }
            OptionalMetadataField::EnumStrValue(v) => {
                for e in v.iter_values() {
                    let e = e.map_err(|e| e.to_string())?;
                    enum_labels.push(e.values().iter().map(|s| s.value().into_owned()).collect());
                }
            }
            OptionalMetadataField::SetStrValue(v) => {
                for s in v.iter_values() {
                    let s = s.map_err(|e| e.to_string())?;
                    set_labels.push(s.values().iter().map(|s| s.value().into_owned()).collect());
                }
            }
            _ => {}
        }
    }
    let have_meta = names.len() == n;
    let fallback = fallback.filter(|f| f.columns.len() == n);
    if !have_meta && fallback.is_none() {
        return Err(format!(
            "table map of {}.{} has no column names (binlog_row_metadata is not FULL) and information_schema does not match its {n} columns",
            tme.database_name(),
            tme.table_name()
        ));
    }
    let nulls = tme.null_bitmask();
    let (mut enums, mut sets) = (enum_labels.into_iter(), set_labels.into_iter());
    let mut geometries = geometry_types.into_iter();
    let mut columns = Vec::with_capacity(n);
    // `i` indexes the table map, the names, the fallback and the null bitmap alike.
    #[allow(clippy::needless_range_loop)]
    for i in 0..n {
        let my = tme
            .get_column_type(i)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("column {i} has no type"))?;
        let meta = tme.get_column_metadata(i).unwrap_or(&[]);
        let fb = fallback.map(|f| &f.columns[i]);
        let unsigned = if my.is_numeric_type() {
            match signedness.next() {
                Some(u) if have_meta => u,
                _ => fb.is_some_and(|c| is_unsigned(&c.ty)),
            }
        } else {
            false
        };
        let charset = if my.is_character_type() {
            match charsets.next() {
                Some(Ok(cs)) if have_meta => Some(cs),
                _ => None,
            }
        } else {
            None
        };
        let binary = match (charset, fb) {
            (Some(cs), _) => cs == BINARY_CHARSET,
            (None, Some(c)) => matches!(c.ty, ColumnType::Bytes { .. }),
            (None, None) => false,
        };
        let ty = match my {
            MyType::MYSQL_TYPE_TINY => ColumnType::TinyInt { unsigned },
            MyType::MYSQL_TYPE_SHORT => ColumnType::SmallInt { unsigned },
            MyType::MYSQL_TYPE_INT24 => ColumnType::MediumInt { unsigned },
            MyType::MYSQL_TYPE_LONG => ColumnType::Int { unsigned },
            MyType::MYSQL_TYPE_LONGLONG => ColumnType::BigInt { unsigned },
            MyType::MYSQL_TYPE_FLOAT => ColumnType::Float,
            MyType::MYSQL_TYPE_DOUBLE => ColumnType::Double,
            MyType::MYSQL_TYPE_NEWDECIMAL | MyType::MYSQL_TYPE_DECIMAL => ColumnType::Decimal {
                precision: meta.first().copied().unwrap_or(10),
                scale: meta.get(1).copied().unwrap_or(0),
            },
            MyType::MYSQL_TYPE_VARCHAR
            | MyType::MYSQL_TYPE_VAR_STRING
            | MyType::MYSQL_TYPE_STRING
            | MyType::MYSQL_TYPE_BLOB
            | MyType::MYSQL_TYPE_TINY_BLOB
            | MyType::MYSQL_TYPE_MEDIUM_BLOB
            | MyType::MYSQL_TYPE_LONG_BLOB => match fb.map(|c| &c.ty) {
                // MariaDB logs JSON as LONGTEXT; keep the fallback's verdict.
                Some(ColumnType::Json) if !have_meta => ColumnType::Json,
                _ if binary => ColumnType::Bytes {
                    fixed: (my == MyType::MYSQL_TYPE_STRING).then(|| string_length(meta) as u16),
                },
                _ => ColumnType::String {
                    charset: charset.unwrap_or(match fb.map(|c| &c.ty) {
                        Some(ColumnType::String { charset }) => *charset,
                        _ => 255,
                    }),
                },
            },
            MyType::MYSQL_TYPE_DATE | MyType::MYSQL_TYPE_NEWDATE => ColumnType::Date,
            MyType::MYSQL_TYPE_DATETIME => ColumnType::DateTime { fsp: 0 },
            MyType::MYSQL_TYPE_DATETIME2 => ColumnType::DateTime {
                fsp: meta.first().copied().unwrap_or(0),
            },
            MyType::MYSQL_TYPE_TIMESTAMP => ColumnType::Timestamp { fsp: 0 },
            MyType::MYSQL_TYPE_TIMESTAMP2 => ColumnType::Timestamp {
                fsp: meta.first().copied().unwrap_or(0),
            },
            MyType::MYSQL_TYPE_TIME => ColumnType::Time { fsp: 0 },
            MyType::MYSQL_TYPE_TIME2 => ColumnType::Time {
                fsp: meta.first().copied().unwrap_or(0),
            },
            MyType::MYSQL_TYPE_YEAR => ColumnType::Year,
            MyType::MYSQL_TYPE_JSON => ColumnType::Json,
            MyType::MYSQL_TYPE_ENUM => ColumnType::Enum {
                values: enums.next().filter(|_| have_meta).unwrap_or_else(|| {
                    match fb.map(|c| &c.ty) {
                        Some(ColumnType::Enum { values }) => values.clone(),
                        _ => Vec::new(),
                    }
                }),
            },
            MyType::MYSQL_TYPE_SET => ColumnType::Set {
                values: sets.next().filter(|_| have_meta).unwrap_or_else(|| {
                    match fb.map(|c| &c.ty) {
                        Some(ColumnType::Set { values }) => values.clone(),
                        _ => Vec::new(),
                    }
                }),
            },
            MyType::MYSQL_TYPE_BIT => ColumnType::Bit {
                bits: u16::from(meta.get(1).copied().unwrap_or(0)) * 8
                    + u16::from(meta.first().copied().unwrap_or(1)),
            },
            MyType::MYSQL_TYPE_GEOMETRY => match geometries.next().filter(|_| have_meta) {
                Some(GeometryType::GEOM_POINT) => ColumnType::Point,
                Some(_) => ColumnType::Geometry,
                None => match fb.map(|c| &c.ty) {
                    Some(ColumnType::Point) => ColumnType::Point,
                    _ => ColumnType::Geometry,
                },
            },
            other => ColumnType::Unsupported {
                mysql_type: other as u8,
            },
        };
        let name = if have_meta {
            names[i].clone()
        } else {
            fb.map(|c| c.name.clone())
                .unwrap_or_else(|| format!("@{i}"))
        };
        let source = match fb {
            // information_schema knows the declared type exactly.
            Some(c) if !have_meta => c.source.clone(),
            _ => source_type(my, &ty, meta, charset),
        };
        columns.push(Column {
            name,
            ty,
            nullable: nulls.get(i).map(|b| *b).unwrap_or(true),
            source,
            default: fb.and_then(|c| c.default.clone()),
        });
    }
    let key = if have_meta && !key_from_meta.is_empty() {
        key_from_meta
    } else {
        fallback.map(|f| f.key.clone()).unwrap_or_default()
    };
    Ok(TableSchema {
        db: tme.database_name().into_owned(),
        table: tme.table_name().into_owned(),
        columns,
        key,
    })
}

/// The declared length of a CHAR/BINARY column from its table-map metadata
/// (two bytes: the real type with the length's high bits folded in, then
/// the length's low byte; MySQL's `Field_string::do_save_field_metadata`).
fn string_length(meta: &[u8]) -> u32 {
    match meta {
        [hi, lo, ..] if hi & 0x30 != 0x30 => (u32::from((hi & 0x30) ^ 0x30) << 4) | u32::from(*lo),
        [_, lo, ..] => u32::from(*lo),
        _ => 0,
    }
}

/// Bytes per character of a collation id, to turn the table map's byte
/// lengths into declared character lengths.
fn charset_max_bytes(collation: u16) -> u32 {
    match collation {
        c if is_latin1(c) => 1,
        // ascii and binary.
        11 | 63 | 65 => 1,
        // utf8mb3 collations.
        33 | 76 | 83 | 192..=223 => 3,
        // utf8mb4 and anything else: MySQL 8's default.
        _ => 4,
    }
}

/// The declared type of a table-map column, in Debezium's names.
fn source_type(my: MyType, ty: &ColumnType, meta: &[u8], charset: Option<u16>) -> SourceType {
    let unsigned = |name: &str| {
        if is_unsigned(ty) {
            format!("{name} UNSIGNED")
        } else {
            name.to_string()
        }
    };
    let chars = |bytes: u32| bytes / charset.map_or(4, charset_max_bytes).max(1);
    let (name, length, scale): (String, Option<u32>, Option<u32>) = match ty {
        ColumnType::TinyInt { .. } => (unsigned("TINYINT"), None, None),
        ColumnType::SmallInt { .. } => (unsigned("SMALLINT"), None, None),
        ColumnType::MediumInt { .. } => (unsigned("MEDIUMINT"), None, None),
        ColumnType::Int { .. } => (unsigned("INT"), None, None),
        ColumnType::BigInt { .. } => (unsigned("BIGINT"), None, None),
        ColumnType::Float => ("FLOAT".into(), None, None),
        ColumnType::Double => ("DOUBLE".into(), None, None),
        ColumnType::Decimal { precision, scale } => (
            "DECIMAL".into(),
            Some(u32::from(*precision)),
            Some(u32::from(*scale)),
        ),
        ColumnType::Date => ("DATE".into(), None, None),
        ColumnType::DateTime { fsp } => ("DATETIME".into(), Some(u32::from(*fsp)), None),
        ColumnType::Timestamp { fsp } => ("TIMESTAMP".into(), Some(u32::from(*fsp)), None),
        ColumnType::Time { fsp } => ("TIME".into(), Some(u32::from(*fsp)), None),
        ColumnType::Year => ("YEAR".into(), None, None),
        ColumnType::Json => ("JSON".into(), None, None),
        ColumnType::Enum { .. } => ("ENUM".into(), Some(1), None),
        ColumnType::Set { .. } => ("SET".into(), None, None),
        ColumnType::Bit { bits } => ("BIT".into(), Some(u32::from(*bits)), None),
        ColumnType::Geometry => ("GEOMETRY".into(), None, None),
        ColumnType::Point => ("POINT".into(), None, None),
        ColumnType::Bytes { .. } | ColumnType::String { .. } => {
            let binary = matches!(ty, ColumnType::Bytes { .. });
            let blob = |text: &str, bin: &str| if binary { bin } else { text }.to_string();
            match my {
                MyType::MYSQL_TYPE_VARCHAR | MyType::MYSQL_TYPE_VAR_STRING => {
                    let bytes = u32::from(u16::from_le_bytes([
                        meta.first().copied().unwrap_or(0),
                        meta.get(1).copied().unwrap_or(0),
                    ]));
                    (
                        blob("VARCHAR", "VARBINARY"),
                        Some(if binary { bytes } else { chars(bytes) }),
                        None,
                    )
                }
                MyType::MYSQL_TYPE_STRING => {
                    let bytes = string_length(meta);
                    (
                        blob("CHAR", "BINARY"),
                        Some(if binary { bytes } else { chars(bytes) }),
                        None,
                    )
                }
                _ => {
                    let kind = match meta.first().copied().unwrap_or(2) {
                        1 => ("TINYTEXT", "TINYBLOB"),
                        3 => ("MEDIUMTEXT", "MEDIUMBLOB"),
                        4 => ("LONGTEXT", "LONGBLOB"),
                        _ => ("TEXT", "BLOB"),
                    };
                    (blob(kind.0, kind.1), None, None)
                }
            }
        }
        ColumnType::Unsupported { mysql_type } => (format!("TYPE {mysql_type}"), None, None),
    };
    SourceType {
        name,
        length,
        scale,
    }
}

fn is_unsigned(ty: &ColumnType) -> bool {
    ty.is_unsigned()
}

/// Converts one decoded binlog value to a [`Cell`] for a column of type `ty`.
pub fn cell_from_binlog(value: BinlogValue<'_>, ty: &ColumnType) -> Result<Cell, String> {
    let v = match value {
        BinlogValue::Value(v) => v,
        BinlogValue::Jsonb(j) => {
            let mut text = String::new();
            if write_jsonb(&mut text, &j).is_none() {
                text.clear();
                let dom = j.parse().map_err(|e| format!("JSON value: {e}"))?;
                write_json_dom(&mut text, &dom);
            }
            return Ok(Cell::Json(text));
        }
        BinlogValue::JsonDiff(_) => {
            return Err(
                "partial JSON update (binlog_row_value_options=PARTIAL_JSON) cannot be turned into a full row; set binlog_row_value_options=''"
                    .into(),
            )
        }
    };
    Ok(match (v, ty) {
        (Value::NULL, _) => Cell::Null,
        (Value::Int(i), t) if is_unsigned(t) && i < 0 => Cell::UInt(widen_unsigned(i, t)),
        // mysql_common reads a signed MEDIUMINT's three bytes without sign
        // extension (-8388608 arrives as 8388608).
        (Value::Int(i), ColumnType::MediumInt { unsigned: false }) if i >= 0x80_0000 => {
            Cell::Int(i - 0x100_0000)
        }
        (Value::Int(i), ColumnType::Timestamp { .. }) => Cell::Timestamp { secs: i, micros: 0 },
        (Value::Int(i), ColumnType::Enum { .. }) => Cell::Enum(i as u16),
        (Value::Int(i), t) if is_unsigned(t) => Cell::UInt(i as u64),
        (Value::Int(i), _) => Cell::Int(i),
        (Value::UInt(u), _) => Cell::UInt(u),
        (Value::Float(f), _) => Cell::Float(f),
        (Value::Double(d), _) => Cell::Double(d),
        (Value::Bytes(b), ColumnType::Decimal { .. }) => Cell::Decimal(utf8_or_lossy(b)),
        (Value::Bytes(b), ColumnType::String { charset }) => Cell::Text(decode_text(b, *charset)),
        (Value::Bytes(b), ColumnType::Json) => Cell::Json(utf8_or_lossy(b)),
        (Value::Bytes(b), ColumnType::Timestamp { .. }) => {
            let s = String::from_utf8_lossy(&b);
            let (secs, frac) = s.split_once('.').unwrap_or((&s, "0"));
            // The fraction's first six digits, padded with zeros: micros.
            let mut micros = 0;
            for k in 0..6 {
                let d = frac.as_bytes().get(k).copied().unwrap_or(b'0');
                if !d.is_ascii_digit() {
                    return Err(format!("TIMESTAMP value {s:?}"));
                }
                micros = micros * 10 + u32::from(d - b'0');
            }
            Cell::Timestamp {
                secs: secs.parse().map_err(|_| format!("TIMESTAMP value {s:?}"))?,
                micros,
            }
        }
        // A TIME(1)/TIME(2) column read as TIMESTAMP(0) (see `time2_workaround`): the
        // four bytes of MySQL's TIME2 format as one big-endian number (printed as an i32).
        (Value::Bytes(b), ColumnType::Time { fsp: 1 | 2 }) => {
            let raw: i32 = std::str::from_utf8(&b)
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| "TIME(1|2) value".to_string())?;
            Cell::Time {
                micros: time2_fsp12_micros(raw.to_be_bytes()),
            }
        }
        (Value::Bytes(b), ColumnType::Year) => {
            let y: u16 = String::from_utf8_lossy(&b)
                .parse()
                .map_err(|_| "YEAR value".to_string())?;
            // mysql_common adds 1900 to the stored byte; 0 stands for 0000.
            Cell::Year(if y == 1900 { 0 } else { y })
        }
        (Value::Bytes(b), ColumnType::Set { .. }) => {
            let mut bits = 0u64;
            for (i, byte) in b.iter().take(8).enumerate() {
                bits |= u64::from(*byte) << (8 * i);
            }
            Cell::Set(bits)
        }
        (Value::Bytes(mut b), ColumnType::Bytes { fixed: Some(n) }) => {
            // The binlog drops BINARY(n)'s trailing zero bytes; SELECT and
            // Debezium keep them.
            if b.len() < usize::from(*n) {
                b.resize(usize::from(*n), 0);
            }
            Cell::Bytes(b)
        }
        (Value::Bytes(b), _) => Cell::Bytes(b),
        (Value::Date(y, m, d, ..), ColumnType::Date) => Cell::Date {
            year: y,
            month: m,
            day: d,
        },
        (Value::Date(year, month, day, hour, minute, second, micros), _) => Cell::DateTime {
            year,
            month,
            day,
            hour,
            minute,
            second,
            micros,
        },
        (Value::Time(neg, days, h, m, s, us), _) => Cell::time(neg, days, h, m, s, us),
    })
}

/// MySQL's `MYSQL_TYPE_TIMESTAMP2`, whose four bytes at precision 0 have the width of a
/// TIME2 value at precision 1 or 2.
const MYSQL_TYPE_TIMESTAMP2: u8 = 17;

/// A copy of `tme` to decode rows with when it has TIME(1) or TIME(2) columns: those
/// columns are declared TIMESTAMP(0) there. `mysql_common` 0.37 decodes a negative
/// TIME(1)/TIME(2) with an unsigned subtraction (a panic in debug builds, a wrong value
/// in release ones: -01:02:03.4 comes out as 2246536377216 µs). TIMESTAMP2 at precision 0
/// is four big-endian bytes, the same width as TIME2 at precision 1 or 2, so the row
/// image still parses, and the column's value arrives as that number, which
/// [`time2_fsp12_micros`] decodes as MySQL does (`my_time_packed_from_binary`).
/// `Ok(None)` when the table has no such column; an error when the copy does
/// not come out as intended (the rows are not decoded wrongly instead).
pub fn time2_workaround(tme: &TableMapEvent<'_>) -> Result<Option<TableMapEvent<'static>>, String> {
    use mysql_common::binlog::events::FormatDescriptionEvent;
    use mysql_common::binlog::BinlogCtx;
    use mysql_common::io::ParseBuf;
    use mysql_common::proto::{MyDeserialize, MySerialize};

    let count = tme.columns_count() as usize;
    let mut patch = Vec::new(); // (column, offset of its metadata)
    let mut meta_at = 0usize;
    for i in 0..count {
        let meta = tme.get_column_metadata(i).unwrap_or(&[]);
        if matches!(tme.get_column_type(i), Ok(Some(MyType::MYSQL_TYPE_TIME2)))
            && matches!(meta, [1 | 2])
        {
            patch.push((i, meta_at));
        }
        meta_at += meta.len();
    }
    if patch.is_empty() {
        return Ok(None);
    }
    let mut buf = Vec::new();
    tme.serialize(&mut buf);
    // Table id (6), flags (2), database and table names (length byte, bytes, NUL each),
    // the column count (length-encoded), the types (one byte each), then the metadata
    // block (length-encoded size, then bytes).
    let db = tme.database_name_raw().len();
    let table = tme.table_name_raw().len();
    let types_at = 6 + 2 + (1 + db + 1) + (1 + table + 1) + lenenc_len(count as u64);
    let meta_len_at = types_at + count;
    let meta_block_at = meta_len_at + lenenc_len(meta_at as u64);
    let failed = || {
        format!("table {}: TIME(1)/TIME(2) columns cannot be decoded (their table map could not be rewritten)", tme.table_name())
    };
    for (i, at) in &patch {
        *buf.get_mut(types_at + i).ok_or_else(failed)? = MYSQL_TYPE_TIMESTAMP2;
        *buf.get_mut(meta_block_at + at).ok_or_else(failed)? = 0;
    }
    let fde = FormatDescriptionEvent::new(mysql_common::binlog::consts::BinlogVersion::Version4);
    let ctx = BinlogCtx::new(
        buf.len(),
        &fde,
        mysql_common::binlog::consts::EventType::TABLE_MAP_EVENT as u8,
    );
    let patched = TableMapEvent::deserialize(ctx, &mut ParseBuf(&buf))
        .map_err(|_| failed())?
        .into_owned();
    // Every column as intended: the patched ones TIMESTAMP(0), the others
    // untouched (a wrong offset would show here).
    for i in 0..count {
        let want = if patch.iter().any(|(p, _)| *p == i) {
            (Ok(Some(MyType::MYSQL_TYPE_TIMESTAMP2)), Some(&[0u8][..]))
        } else {
            (tme.get_column_type(i), tme.get_column_metadata(i))
        };
        if (patched.get_column_type(i), patched.get_column_metadata(i)) != want {
            return Err(failed());
        }
    }
    Ok(Some(patched))
}

fn lenenc_len(n: u64) -> usize {
    match n {
        0..=250 => 1,
        251..=0xFFFF => 3,
        0x1_0000..=0xFF_FFFF => 4,
        _ => 9,
    }
}

/// Microseconds of a TIME2 value at precision 1 or 2 from its four stored bytes: three
/// bytes of packed hours/minutes/seconds offset by 0x800000, one byte of hundredths
/// (MySQL's `my_time_packed_from_binary` and `TIME_from_longlong_time_packed`).
pub fn time2_fsp12_micros(b: [u8; 4]) -> i64 {
    let mut int_part = (i64::from(b[0]) << 16 | i64::from(b[1]) << 8 | i64::from(b[2])) - 0x80_0000;
    let mut frac = i64::from(b[3]);
    if int_part < 0 && frac > 0 {
        int_part += 1;
        frac -= 0x100;
    }
    let packed = (int_part << 24) + frac * 10_000;
    let (negative, abs) = (packed < 0, packed.abs());
    let hms = abs >> 24;
    let micros = ((hms >> 12) % (1 << 10) * 3600 + (hms >> 6) % (1 << 6) * 60 + hms % (1 << 6))
        * 1_000_000
        + abs % (1 << 24);
    if negative {
        -micros
    } else {
        micros
    }
}

/// The exact value of a finite double in plain decimal notation, as Java's
/// `new BigDecimal(d).toPlainString()` writes it (`1e-7` is
/// `0.000000099999999999999995474811182588625868561393872369080781936645507812 5`
/// without the space). A double is `m · 2^e`; for `e < 0` that is
/// `m · 5^-e / 10^-e`, so the digits are those of an integer either way.
pub fn exact_plain_decimal(x: f64) -> String {
    if !x.is_finite() {
        return "null".into();
    }
    let bits = x.to_bits();
    let negative = bits >> 63 == 1;
    let exp_bits = ((bits >> 52) & 0x7ff) as i32;
    let frac = bits & ((1u64 << 52) - 1);
    let (mut m, mut e) = if exp_bits == 0 {
        (frac, -1074)
    } else {
        (frac | (1u64 << 52), exp_bits - 1075)
    };
    if m == 0 {
        return if negative { "-0".into() } else { "0".into() };
    }
    while m % 2 == 0 {
        m /= 2;
        e += 1;
    }
    // Little-endian limbs of base 10^9.
    let mut limbs: Vec<u64> = vec![
        m % 1_000_000_000,
        m / 1_000_000_000 % 1_000_000_000,
        m / 1_000_000_000_000_000_000,
    ];
    let (factor, times) = if e >= 0 { (2u64, e) } else { (5u64, -e) };
    for _ in 0..times {
        let mut carry = 0u64;
        for limb in &mut limbs {
            let v = *limb * factor + carry;
            *limb = v % 1_000_000_000;
            carry = v / 1_000_000_000;
        }
        if carry > 0 {
            limbs.push(carry);
        }
    }
    while limbs.len() > 1 && limbs.last() == Some(&0) {
        limbs.pop();
    }
    let mut digits = limbs.last().map(u64::to_string).unwrap_or_default();
    for limb in limbs.iter().rev().skip(1) {
        digits.push_str(&format!("{limb:09}"));
    }
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    if e >= 0 {
        out.push_str(&digits);
    } else {
        let scale = (-e) as usize;
        if digits.len() <= scale {
            out.push_str("0.");
            out.push_str(&"0".repeat(scale - digits.len()));
            out.push_str(&digits);
        } else {
            let (int, fraction) = digits.split_at(digits.len() - scale);
            out.push_str(int);
            out.push('.');
            out.push_str(fraction);
        }
    }
    out
}

/// Reinterprets a sign-extended integer as the unsigned value of its width,
/// for servers that did not log signedness.
fn widen_unsigned(i: i64, ty: &ColumnType) -> u64 {
    match ty {
        ColumnType::TinyInt { .. } => u64::from(i as u8),
        ColumnType::SmallInt { .. } => u64::from(i as u16),
        ColumnType::MediumInt { .. } => (i as u64) & 0xff_ffff,
        ColumnType::Int { .. } => u64::from(i as u32),
        _ => i as u64,
    }
}

/// MySQL character set ids that are single-byte Latin-1 (`latin1_*`).
fn is_latin1(charset: u16) -> bool {
    matches!(charset, 5 | 8 | 15 | 31 | 47 | 48 | 49 | 94)
}

fn decode_text(b: Vec<u8>, charset: u16) -> String {
    if is_latin1(charset) {
        // MySQL's latin1 is Windows-1252; the C1 range differs only in 0x80-0x9f.
        b.into_iter().map(char::from).collect()
    } else {
        utf8_or_lossy(b)
    }
}

/// The bytes as a string without copying them, unless they are not UTF-8.
fn utf8_or_lossy(b: Vec<u8>) -> String {
    String::from_utf8(b).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(test)]
#[path = "decode_tests.rs"]
mod tests;
