//! Unit tests of the encoder: envelopes, keys, shaping, transaction metadata.

use super::*;
use crate::model::BinlogPosition;
use crate::model::{Column, ColumnType, SourceInfo};

fn table() -> Arc<TableSchema> {
    Arc::new(TableSchema {
        db: "inventory".into(),
        table: "customers".into(),
        columns: vec![
            Column::new("id", ColumnType::Int { unsigned: false }, false),
            Column::new("email", ColumnType::String { charset: 255 }, true),
        ],
        key: vec![0],
    })
}

fn change(op: Op, before: Option<Vec<Cell>>, after: Option<Vec<Cell>>) -> RowChange {
    RowChange {
        table: table(),
        op,
        before,
        after,
        source: SourceInfo {
            position: BinlogPosition::new("mysql-bin.000003", 154),
            row: 0,
            ts_sec: 1_700_000_000,
            server_id: 1,
            gtid: None,
            thread: Some(7),
            snapshot: None,
            query: None,
        },
    }
}

fn enc(schemas: bool) -> EventEncoder {
    let mut o = EncoderOptions::new("dbserver1");
    o.key_schemas = schemas;
    o.value_schemas = schemas;
    EventEncoder::new(o)
}

#[test]
fn heartbeat_has_debeziums_shape() {
    let hb = enc(true).heartbeat(1_565_787_098_802);
    assert_eq!(&*hb.topic, "__debezium-heartbeat.dbserver1");
    let key: Json = serde_json::from_slice(hb.key.as_ref().unwrap()).unwrap();
    assert_eq!(
        key["schema"]["name"],
        "io.debezium.connector.common.ServerNameKey"
    );
    assert_eq!(
        key["payload"],
        serde_json::json!({"serverName": "dbserver1"})
    );
    let value: Json = serde_json::from_slice(hb.value.as_ref().unwrap()).unwrap();
    assert_eq!(
        value["schema"]["name"],
        "io.debezium.connector.common.Heartbeat"
    );
    assert_eq!(
        value["payload"],
        serde_json::json!({"ts_ms": 1_565_787_098_802i64})
    );
    let bare = enc(false).heartbeat(7);
    assert_eq!(bare.value.as_deref(), Some(&br#"{"ts_ms":7}"#[..]));
}

fn parse(b: &Option<Vec<u8>>) -> Json {
    serde_json::from_slice(b.as_ref().unwrap()).unwrap()
}

#[test]
fn insert_without_schemas() {
    let mut out = vec![];
    let row = vec![Cell::Int(1001), Cell::Text("a\"b@x".into())];
    enc(false).encode(
        &change(Op::Create, None, Some(row)),
        1_700_000_001_000_000,
        None,
        &mut out,
    );
    assert_eq!(out.len(), 1);
    assert_eq!(&*out[0].topic, "dbserver1.inventory.customers");
    assert_eq!(out[0].key.as_deref(), Some(&b"{\"id\":1001}"[..]));
    let v = parse(&out[0].value);
    assert_eq!(v["op"], "c");
    assert_eq!(v["before"], Json::Null);
    assert_eq!(v["after"]["email"], "a\"b@x");
    assert_eq!(v["source"]["connector"], "mysql");
    assert_eq!(v["source"]["name"], "dbserver1");
    assert_eq!(v["source"]["ts_ms"], 1_700_000_000_000i64);
    assert_eq!(v["source"]["file"], "mysql-bin.000003");
    assert_eq!(v["source"]["pos"], 154);
    assert_eq!(v["source"]["snapshot"], "false");
    assert_eq!(v["ts_ms"], 1_700_000_001_000i64);
}

#[test]
fn key_with_schema_matches_json_converter_bytes() {
    let mut out = vec![];
    let row = vec![Cell::Int(1001), Cell::Null];
    enc(true).encode(&change(Op::Create, None, Some(row)), 0, None, &mut out);
    assert_eq!(
        String::from_utf8(out[0].key.clone().unwrap()).unwrap(),
        r#"{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"}],"optional":false,"name":"dbserver1.inventory.customers.Key"},"payload":{"id":1001}}"#
    );
    let v = parse(&out[0].value);
    assert_eq!(
        v["schema"]["name"],
        "dbserver1.inventory.customers.Envelope"
    );
    assert_eq!(v["schema"]["fields"][0]["field"], "before");
    assert_eq!(v["schema"]["fields"][1]["fields"][1]["optional"], true);
    assert_eq!(v["payload"]["after"]["email"], Json::Null);
}

#[test]
fn delete_is_followed_by_tombstone() {
    let mut out = vec![];
    let row = vec![Cell::Int(5), Cell::Null];
    enc(false).encode(&change(Op::Delete, Some(row), None), 0, None, &mut out);
    assert_eq!(out.len(), 2);
    assert_eq!(parse(&out[0].value)["op"], "d");
    assert_eq!(out[1].value, None);
    assert_eq!(out[1].key, out[0].key);
}

#[test]
fn primary_key_change_is_delete_tombstone_create() {
    let mut out = vec![];
    let before = vec![Cell::Int(1), Cell::Null];
    let after = vec![Cell::Int(2), Cell::Null];
    enc(false).encode(
        &change(Op::Update, Some(before), Some(after)),
        0,
        None,
        &mut out,
    );
    let ops: Vec<_> = out
        .iter()
        .map(|r| {
            r.value
                .as_ref()
                .map(|_| parse(&r.value)["op"].as_str().unwrap().to_string())
        })
        .collect();
    assert_eq!(ops, vec![Some("d".into()), None, Some("c".into())]);
    assert_eq!(out[0].key.as_deref(), Some(&b"{\"id\":1}"[..]));
    assert_eq!(out[2].key.as_deref(), Some(&b"{\"id\":2}"[..]));
}

#[test]
fn table_without_key_has_null_key_and_a_null_keyed_tombstone() {
    let mut t = (*table()).clone();
    t.key.clear();
    let mut c = change(Op::Delete, Some(vec![Cell::Int(5), Cell::Null]), None);
    c.table = Arc::new(t);
    let mut out = vec![];
    enc(false).encode(&c, 0, None, &mut out);
    // As Debezium: the delete, then a tombstone, both with a null key.
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].key, None);
    assert_eq!((out[1].key.as_ref(), out[1].value.as_ref()), (None, None));
}

#[test]
fn strings_are_escaped_as_kafkas_json_converter_does() {
    let esc = |s: &str| {
        let mut b = Vec::new();
        super::envelope::write_json_str(&mut b, s);
        String::from_utf8(b).unwrap()
    };
    // Jackson writes astral characters as an upper-case surrogate pair and
    // other control characters as \u00XX.
    assert_eq!(esc("a🌍b"), r#""a\uD83C\uDF0Db""#);
    assert_eq!(
        esc("q\"\\\n\r\t\u{8}\u{c}\u{1f}é"),
        "\"q\\\"\\\\\\n\\r\\t\\b\\f\\u001Fé\""
    );
}

proptest::proptest! {
    #[test]
    fn escaped_strings_parse_back(s in ".*") {
        let mut b = Vec::new();
        super::envelope::write_json_str(&mut b, &s);
        let back: String = serde_json::from_slice(&b).unwrap();
        proptest::prop_assert_eq!(back, s);
    }
}
