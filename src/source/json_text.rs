//! MySQL's binary JSON (the `JSON` column type in a rows event) as the
//! compact text Debezium's binlog reader writes.
//!
//! MySQL stores a JSON document in a binary form (`json_binary.h`): objects
//! and arrays as an element count, a size, key and value entry tables and
//! then the data; scalars inline or behind an offset. Object keys are
//! stored sorted by length, then bytes, which is also the order `SELECT`
//! prints and Debezium writes.
//!
//! [`write_jsonb`] walks that form in place and writes the text straight
//! out: no document tree, so no allocation per member. What the walk does
//! not take on (a key out of storage order, a string that is not UTF-8, an
//! entry that does not parse) makes it give up, and the caller writes the
//! value through `mysql_common`'s document tree with [`write_json_dom`],
//! which decides what such a value becomes. The two agree on everything
//! else; a property test checks it over random documents.

use std::fmt::Write as _;

use mysql_common::binlog::jsonb::{
    ComplexValue, JsonContainer, JsonDom, JsonNumber, JsonScalar, Value as Jsonb,
};

use crate::model::number::java_double;

/// Writes a binary JSON value as compact text. `None` (with `out` holding
/// part of the text) when the walk gave up; the caller then truncates
/// `out` and writes the document tree instead.
pub fn write_jsonb(out: &mut String, v: &Jsonb<'_>) -> Option<()> {
    match v {
        Jsonb::Null => out.push_str("null"),
        Jsonb::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Jsonb::I16(x) => write_int(out, i64::from(*x)),
        Jsonb::I32(x) => write_int(out, i64::from(*x)),
        Jsonb::I64(x) => write_int(out, *x),
        Jsonb::U16(x) => write_uint(out, u64::from(*x)),
        Jsonb::U32(x) => write_uint(out, u64::from(*x)),
        Jsonb::U64(x) => write_uint(out, *x),
        Jsonb::F64(x) => write_double(out, *x),
        Jsonb::String(s) => push_json_str(out, std::str::from_utf8(s.str_raw()).ok()?),
        Jsonb::SmallArray(a) => write_array(out, a)?,
        Jsonb::LargeArray(a) => write_array(out, a)?,
        Jsonb::SmallObject(o) => write_object(out, o)?,
        Jsonb::LargeObject(o) => write_object(out, o)?,
        // Decimals, dates and times and other opaque scalars are rare; the
        // document tree's formatting of them is the one definition.
        Jsonb::Opaque(_) => write_json_dom(out, &v.clone().parse().ok()?),
    }
    Some(())
}

fn write_array<T: mysql_common::binlog::jsonb::StorageFormat>(
    out: &mut String,
    a: &ComplexValue<'_, T, mysql_common::binlog::jsonb::Array>,
) -> Option<()> {
    out.push('[');
    for (i, item) in a.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_jsonb(out, &item.ok()?)?;
    }
    out.push(']');
    Some(())
}

fn write_object<T: mysql_common::binlog::jsonb::StorageFormat>(
    out: &mut String,
    o: &ComplexValue<'_, T, mysql_common::binlog::jsonb::Object>,
) -> Option<()> {
    out.push('{');
    let mut previous: Option<Vec<u8>> = None;
    for (i, member) in o.iter().enumerate() {
        let (key, value) = member.ok()?;
        let raw = key.value_raw();
        // Storage order is (length, bytes), strictly increasing; anything
        // else goes to the tree, which sorts and de-duplicates.
        if previous
            .as_deref()
            .is_some_and(|p| (p.len(), p) >= (raw.len(), raw))
        {
            return None;
        }
        if i > 0 {
            out.push(',');
        }
        push_json_str(out, std::str::from_utf8(raw).ok()?);
        out.push(':');
        write_jsonb(out, &value)?;
        match &mut previous {
            Some(p) => {
                p.clear();
                p.extend_from_slice(raw);
            }
            None => previous = Some(raw.to_vec()),
        }
    }
    out.push('}');
    Some(())
}

fn write_int(out: &mut String, i: i64) {
    let _ = write!(out, "{i}");
}

fn write_uint(out: &mut String, u: u64) {
    let _ = write!(out, "{u}");
}

/// Debezium's binlog JSON formatter: `Double.toString`, unless that has an
/// exponent; then the double's exact value, written plain
/// (`new BigDecimal(d).toPlainString()`).
fn write_double(out: &mut String, x: f64) {
    let java = java_double(x);
    if java.contains('E') {
        out.push_str(&super::decode::exact_plain_decimal(x));
    } else {
        out.push_str(&java);
    }
}

/// Writes a JSON document tree as compact text, as Debezium's binlog reader
/// does: object members in MySQL's storage order (by key length, then
/// bytes; also the order `SELECT` prints), DECIMAL members as bare numbers,
/// doubles as Java prints them, dates and times as strings, other opaque
/// values as `base64:type<N>:<data>`.
pub fn write_json_dom(out: &mut String, dom: &JsonDom) {
    match dom {
        JsonDom::Container(JsonContainer::Array(items)) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_dom(out, item);
            }
            out.push(']');
        }
        JsonDom::Container(JsonContainer::Object(members)) => {
            let mut sorted: Vec<(&String, &JsonDom)> = members.iter().collect();
            sorted.sort_by(|a, b| (a.0.len(), a.0.as_bytes()).cmp(&(b.0.len(), b.0.as_bytes())));
            out.push('{');
            for (i, (k, v)) in sorted.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_json_str(out, k);
                out.push(':');
                write_json_dom(out, v);
            }
            out.push('}');
        }
        JsonDom::Scalar(s) => match s {
            JsonScalar::Null => out.push_str("null"),
            JsonScalar::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
            JsonScalar::String(x) => push_json_str(out, x),
            // Debezium's binlog JSON formatter drops a fraction's trailing
            // zeros (`10:00:00.25`), and a zero fraction.
            JsonScalar::DateTime(t) => {
                let full = format!("{t:.6}");
                let text = match full.rsplit_once('.') {
                    Some((main, frac))
                        if frac.len() == 6 && frac.bytes().all(|b| b.is_ascii_digit()) =>
                    {
                        let frac = frac.trim_end_matches('0');
                        if frac.is_empty() {
                            main.to_string()
                        } else {
                            format!("{main}.{frac}")
                        }
                    }
                    _ => full,
                };
                push_json_str(out, &text)
            }
            JsonScalar::Opaque(o) => push_json_str(out, &o.to_string()),
            JsonScalar::Number(JsonNumber::Int(i)) => write_int(out, *i),
            JsonScalar::Number(JsonNumber::Uint(u)) => write_uint(out, *u),
            JsonScalar::Number(JsonNumber::Decimal(d)) => {
                let _ = write!(out, "{d}");
            }
            JsonScalar::Number(JsonNumber::Double(x)) => write_double(out, *x),
        },
    }
}

/// A JSON string literal, escaped as `serde_json` escapes it: quote,
/// backslash and control characters only (`\u001f` in lower-case hex),
/// everything else as is.
fn push_json_str(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    let mut plain = 0;
    for (i, b) in s.bytes().enumerate() {
        let esc: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[plain..i]);
        plain = i + 1;
        if esc.is_empty() {
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        } else {
            out.push_str(esc);
        }
    }
    out.push_str(&s[plain..]);
    out.push('"');
}

#[cfg(test)]
#[path = "json_text_tests.rs"]
mod tests;
