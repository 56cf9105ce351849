//! The in-place walk against `mysql_common`'s document tree, over random
//! documents written in MySQL's binary JSON form.

use mysql_common::io::ParseBuf;
use proptest::prelude::*;

use super::*;

/// A JSON document as MySQL would store it.
#[derive(Debug, Clone)]
enum Doc {
    Null,
    Bool(bool),
    I16(i16),
    U16(u16),
    I32(i32),
    U32(u32),
    I64(i64),
    U64(u64),
    F64(f64),
    Str(String),
    Array(Vec<Doc>),
    /// Members in the order written (MySQL writes them sorted).
    Object(Vec<(String, Doc)>),
}

const T_SMALL_OBJECT: u8 = 0x00;
const T_LARGE_OBJECT: u8 = 0x01;
const T_SMALL_ARRAY: u8 = 0x02;
const T_LARGE_ARRAY: u8 = 0x03;

/// Writes `d` as `json_binary.cc` does: a type byte, then the value.
fn binary(d: &Doc, large: bool) -> Vec<u8> {
    let mut out = vec![type_of(d, large)];
    out.extend(body(d, large));
    out
}

fn type_of(d: &Doc, large: bool) -> u8 {
    match d {
        Doc::Null | Doc::Bool(_) => 0x04,
        Doc::I16(_) => 0x05,
        Doc::U16(_) => 0x06,
        Doc::I32(_) => 0x07,
        Doc::U32(_) => 0x08,
        Doc::I64(_) => 0x09,
        Doc::U64(_) => 0x0a,
        Doc::F64(_) => 0x0b,
        Doc::Str(_) => 0x0c,
        Doc::Array(_) if large => T_LARGE_ARRAY,
        Doc::Array(_) => T_SMALL_ARRAY,
        Doc::Object(_) if large => T_LARGE_OBJECT,
        Doc::Object(_) => T_SMALL_OBJECT,
    }
}

/// The value without its type byte.
fn body(d: &Doc, large: bool) -> Vec<u8> {
    match d {
        Doc::Null => vec![0],
        Doc::Bool(b) => vec![if *b { 1 } else { 2 }],
        Doc::I16(x) => x.to_le_bytes().to_vec(),
        Doc::U16(x) => x.to_le_bytes().to_vec(),
        Doc::I32(x) => x.to_le_bytes().to_vec(),
        Doc::U32(x) => x.to_le_bytes().to_vec(),
        Doc::I64(x) => x.to_le_bytes().to_vec(),
        Doc::U64(x) => x.to_le_bytes().to_vec(),
        Doc::F64(x) => x.to_le_bytes().to_vec(),
        Doc::Str(s) => {
            let mut out = Vec::new();
            let mut n = s.len();
            loop {
                let byte = (n & 0x7f) as u8;
                n >>= 7;
                if n == 0 {
                    out.push(byte);
                    break;
                }
                out.push(byte | 0x80);
            }
            out.extend_from_slice(s.as_bytes());
            out
        }
        Doc::Array(items) => container(None, items.iter().collect(), large),
        Doc::Object(members) => container(
            Some(members.iter().map(|(k, _)| k.as_str()).collect()),
            members.iter().map(|(_, v)| v).collect(),
            large,
        ),
    }
}

/// An object or array: count, size, key entries, value entries, keys,
/// values; offsets from the start of the count.
fn container(keys: Option<Vec<&str>>, values: Vec<&Doc>, large: bool) -> Vec<u8> {
    let w = if large { 4 } else { 2 };
    let put = |out: &mut Vec<u8>, x: usize| {
        out.extend_from_slice(&(x as u32).to_le_bytes()[..w]);
    };
    let n = values.len();
    let key_entries = keys.as_ref().map_or(0, |_| n * (w + 2));
    let header = 2 * w + key_entries + n * (1 + w);
    let mut tail = Vec::new();
    let mut key_table = Vec::new();
    if let Some(keys) = &keys {
        for k in keys {
            put(&mut key_table, header + tail.len());
            key_table.extend_from_slice(&(k.len() as u16).to_le_bytes());
            tail.extend_from_slice(k.as_bytes());
        }
    }
    let mut value_table = Vec::new();
    for v in values {
        let inlined = match v {
            Doc::Null | Doc::Bool(_) | Doc::I16(_) | Doc::U16(_) => true,
            Doc::I32(_) | Doc::U32(_) => large,
            _ => false,
        };
        value_table.push(type_of(v, large));
        if inlined {
            let mut b = body(v, large);
            b.resize(w, 0);
            value_table.extend_from_slice(&b);
        } else {
            put(&mut value_table, header + tail.len());
            tail.extend(body(v, large));
        }
    }
    let mut out = Vec::new();
    put(&mut out, n);
    put(&mut out, header + tail.len());
    out.extend(key_table);
    out.extend(value_table);
    out.extend(tail);
    out
}

fn doc() -> impl Strategy<Value = Doc> {
    let leaf = prop_oneof![
        Just(Doc::Null),
        any::<bool>().prop_map(Doc::Bool),
        any::<i16>().prop_map(Doc::I16),
        any::<u16>().prop_map(Doc::U16),
        any::<i32>().prop_map(Doc::I32),
        any::<u32>().prop_map(Doc::U32),
        any::<i64>().prop_map(Doc::I64),
        any::<u64>().prop_map(Doc::U64),
        any::<f64>()
            .prop_filter("finite", |x| x.is_finite())
            .prop_map(Doc::F64),
        ".{0,12}".prop_map(Doc::Str),
        // Control characters and quotes, which need escaping.
        "[\\x00-\\x1f\"\\\\a\u{e9}\u{1f600}]{0,6}".prop_map(Doc::Str),
    ];
    leaf.prop_recursive(3, 40, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Doc::Array),
            prop::collection::vec(("[a-c\u{e9}\"]{0,3}", inner), 0..6).prop_map(|m| {
                // As MySQL stores them: unique keys, by length, then bytes.
                let mut m: Vec<(String, Doc)> = m;
                m.sort_by(|a, b| (a.0.len(), a.0.as_bytes()).cmp(&(b.0.len(), b.0.as_bytes())));
                m.dedup_by(|a, b| a.0 == b.0);
                Doc::Object(m)
            }),
        ]
    })
}

/// Both writers over one binary value: (walk, tree).
fn both(bytes: &[u8]) -> (Option<String>, String) {
    let v: Jsonb<'_> = ParseBuf(bytes).parse(()).unwrap();
    let mut walked = String::new();
    let walked = write_jsonb(&mut walked, &v).map(|()| walked);
    let mut tree = String::new();
    write_json_dom(&mut tree, &v.parse().unwrap());
    (walked, tree)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_walk_writes_what_the_tree_writes(d in doc(), large in any::<bool>()) {
        let (walked, tree) = both(&binary(&d, large));
        prop_assert_eq!(walked, Some(tree));
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them(s in "\\PC{0,8}|[\\x00-\\x7f]{0,8}") {
        let mut out = String::new();
        push_json_str(&mut out, &s);
        prop_assert_eq!(out, serde_json::to_string(&s).unwrap());
    }
}

#[test]
fn members_out_of_storage_order_go_to_the_tree() {
    let d = Doc::Object(vec![("bb".into(), Doc::I16(1)), ("a".into(), Doc::I16(2))]);
    let (walked, tree) = both(&binary(&d, false));
    assert_eq!(walked, None);
    assert_eq!(tree, r#"{"a":2,"bb":1}"#);
}

#[test]
fn a_document_reads_as_mysql_prints_it() {
    let d = Doc::Object(vec![
        ("n".into(), Doc::F64(1e-7)),
        ("ok".into(), Doc::Bool(true)),
        (
            "tags".into(),
            Doc::Array(vec![Doc::Str("x\"y".into()), Doc::Null]),
        ),
    ]);
    let (walked, _) = both(&binary(&d, true));
    assert_eq!(
        walked.unwrap(),
        r#"{"n":0.0000000999999999999999954748111825886258685613938723690807819366455078125,"ok":true,"tags":["x\"y",null]}"#
    );
}
