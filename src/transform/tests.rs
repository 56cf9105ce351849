//! The chain on hand-made records; `tests/transforms.rs` compares it with
//! Debezium's own transforms on real change events.

use super::*;
use crate::encode::Headers;

fn config(transforms: &str, schemas: bool) -> Config {
    let text = format!(
        r#"{{"name": "t", "config": {{"database.hostname": "db", "database.user": "u",
        "topic.prefix": "srv", "kafka.bootstrap.servers": "k:9092",
        "offset.storage.file.filename": "/tmp/o.json",
        "key.converter.schemas.enable": "{schemas}", "value.converter.schemas.enable": "{schemas}"
        {transforms}}}}}"#
    );
    Config::from_json(&text, |_| None).unwrap()
}

fn problems(transforms: &str) -> String {
    let text = format!(
        r#"{{"name": "t", "config": {{"database.hostname": "db", "database.user": "u",
        "topic.prefix": "srv", "kafka.bootstrap.servers": "k:9092",
        "offset.storage.file.filename": "/tmp/o.json" {transforms}}}}}"#
    );
    Config::from_json(&text, |_| None).unwrap_err().to_string()
}

fn record(topic: &str, key: Option<&str>, value: Option<&str>) -> Record {
    Record {
        topic: topic.into(),
        key: key.map(|k| k.as_bytes().to_vec()),
        value: value.map(|v| v.as_bytes().to_vec()),
        headers: Vec::new(),
        timestamp_ms: 7,
    }
}

const TOPIC: &str = "srv.inv.t";
const KEY: &str = r#"{"id":1}"#;

fn envelope(op: &str, before: &str, after: &str) -> String {
    format!(
        r#"{{"before":{before},"after":{after},"source":{{"version":"x","connector":"mysql","name":"srv","ts_ms":5,"snapshot":"false","db":"inv","table":"t","server_id":1,"file":"b.000001","pos":4,"row":0}},"transaction":null,"op":"{op}","ts_ms":9,"ts_us":9000,"ts_ns":9000000}}"#
    )
}

/// (topic, value text or None, headers) of what the chain gives.
fn run(chain: &Chain, recs: Vec<Record>) -> Vec<(String, Option<String>, Headers)> {
    chain
        .apply(recs)
        .unwrap()
        .into_iter()
        .map(|r| {
            (
                r.topic.to_string(),
                r.value.map(|v| String::from_utf8(v).unwrap()),
                r.headers,
            )
        })
        .collect()
}

fn unwrap_chain(extra: &str) -> Chain {
    Chain::new(&config(
        &format!(
            r#","transforms": "unwrap", "transforms.unwrap.type": "io.debezium.transforms.ExtractNewRecordState" {extra}"#
        ),
        false,
    ))
}

fn change_and_delete() -> Vec<Record> {
    vec![
        record(
            TOPIC,
            Some(KEY),
            Some(&envelope("u", r#"{"id":1,"v":"a"}"#, r#"{"id":1,"v":"b"}"#)),
        ),
        record(
            TOPIC,
            Some(KEY),
            Some(&envelope("d", r#"{"id":1,"v":"b"}"#, "null")),
        ),
        record(TOPIC, Some(KEY), None),
        record(
            "srv",
            Some(r#"{"databaseName":""}"#),
            Some(r#"{"ddl":"x"}"#),
        ),
    ]
}

#[test]
fn unwrap_modes_follow_debezium() {
    let out = run(&unwrap_chain(""), change_and_delete());
    // tombstone (default): the delete's value is null text, not a Kafka
    // null; the tombstone is dropped; a schema change passes.
    let values: Vec<_> = out.iter().map(|o| o.1.as_deref()).collect();
    assert_eq!(
        values,
        [
            Some(r#"{"id":1,"v":"b"}"#),
            Some("null"),
            Some(r#"{"ddl":"x"}"#)
        ]
    );
    let out = run(
        &unwrap_chain(
            r#","transforms.unwrap.delete.tombstone.handling.mode": "rewrite-with-tombstone""#,
        ),
        change_and_delete(),
    );
    let values: Vec<_> = out.iter().map(|o| o.1.as_deref()).collect();
    assert_eq!(
        values,
        [
            Some(r#"{"id":1,"v":"b","__deleted":"false"}"#),
            Some(r#"{"id":1,"v":"b","__deleted":"true"}"#),
            None,
            Some(r#"{"ddl":"x"}"#)
        ]
    );
    let out = run(
        &unwrap_chain(
            r#","transforms.unwrap.delete.tombstone.handling.mode": "delete-to-tombstone""#,
        ),
        change_and_delete(),
    );
    assert_eq!(out.len(), 3);
    assert_eq!(out[1].1, None, "a real tombstone");
    let out = run(
        &unwrap_chain(r#","transforms.unwrap.delete.tombstone.handling.mode": "drop""#),
        change_and_delete(),
    );
    assert_eq!(out.len(), 2);
}

#[test]
fn unwrap_adds_fields_and_headers() {
    let chain = unwrap_chain(
        r#","transforms.unwrap.add.fields": "op,source.ts_ms,table:tbl,id,lsn",
           "transforms.unwrap.add.headers": "op,db", "transforms.unwrap.add.headers.prefix": "h_""#,
    );
    let out = run(&chain, change_and_delete());
    // `lsn` is in no struct: skipped; `id` reads the null transaction.
    assert_eq!(
        out[0].1.as_deref(),
        Some(r#"{"id":1,"v":"b","__op":"u","__source_ts_ms":5,"__tbl":"t","__id":null}"#)
    );
    assert_eq!(
        out[0].2,
        [
            ("h_op".to_string(), Some(b"u".to_vec())),
            ("h_db".to_string(), Some(b"inv".to_vec()))
        ]
    );
    // The delete (tombstone mode) gets headers, not fields.
    assert_eq!(out[1].2.len(), 2);
}

#[test]
fn unwrap_with_schemas_keeps_the_value_name_and_makes_it_required() {
    let chain = Chain::new(&config(
        r#","transforms": "u", "transforms.u.type": "io.debezium.transforms.ExtractNewRecordState",
           "transforms.u.add.fields": "op""#,
        true,
    ));
    let row = r#"{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"}],"optional":true,"name":"srv.inv.t.Value","field":"#;
    let schema = format!(
        r#"{{"type":"struct","fields":[{row}"before"}},{row}"after"}},{{"type":"string","optional":false,"field":"op"}}],"optional":false,"name":"srv.inv.t.Envelope","version":2}}"#
    );
    let value = format!(
        r#"{{"schema":{schema},"payload":{{"before":null,"after":{{"id":1}},"source":{{}},"op":"c"}}}}"#
    );
    let out = run(&chain, vec![record(TOPIC, None, Some(&value))]);
    assert_eq!(
        out[0].1.as_deref(),
        Some(
            r#"{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"},{"type":"string","optional":true,"field":"__op"}],"optional":false,"name":"srv.inv.t.Value"},"payload":{"id":1,"__op":"c"}}"#
        )
    );
}

#[test]
fn regex_router_replaces_as_java_does() {
    let route = |regex: &str, replacement: &str, topic: &str| {
        let chain = Chain::new(&config(
            &format!(
                r#","transforms": "r", "transforms.r.type": "org.apache.kafka.connect.transforms.RegexRouter",
                   "transforms.r.regex": {}, "transforms.r.replacement": {}"#,
                serde_json::to_string(regex).unwrap(),
                serde_json::to_string(replacement).unwrap()
            ),
            false,
        ));
        chain
            .apply(vec![record(topic, None, Some("1"))])
            .map(|r| r[0].topic.to_string())
            .map_err(|e| e.to_string())
    };
    // Whole-topic match only; replaceFirst's first find() wins.
    assert_eq!(route("inv", "x", TOPIC).unwrap(), TOPIC);
    assert_eq!(
        route(r"(s)(.*)", "$2-$1-$0", TOPIC).unwrap(),
        "rv.inv.t-s-srv.inv.t"
    );
    assert_eq!(route(r"srv|srv\.inv\.t", "X", TOPIC).unwrap(), "X.inv.t");
    assert_eq!(
        route(r"(?<t>.*)", r"a.${t}.\$x", TOPIC).unwrap(),
        "a.srv.inv.t.$x"
    );
    assert_eq!(route(r"srv\.(.*)", "$12", TOPIC).unwrap(), "inv.t2");
    assert!(route(r"(.*)", "$2", TOPIC)
        .unwrap_err()
        .contains("no group 2"));
}

#[test]
fn predicates_gate_their_transform() {
    let chain = Chain::new(&config(
        r#","transforms": "r", "transforms.r.type": "org.apache.kafka.connect.transforms.RegexRouter",
           "transforms.r.regex": ".*", "transforms.r.replacement": "moved",
           "transforms.r.predicate": "tomb", "transforms.r.negate": "true",
           "predicates": "tomb", "predicates.tomb.type": "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone""#,
        false,
    ));
    let out = run(
        &chain,
        vec![
            record(TOPIC, Some(KEY), None),
            record(TOPIC, Some(KEY), Some("1")),
        ],
    );
    assert_eq!(out[0].0, TOPIC);
    assert_eq!(out[1].0, "moved");
}

#[test]
fn bad_transform_configs_are_named_with_the_fix() {
    let p = problems(
        r#","transforms": "a,b,c", "transforms.a.type": "io.debezium.transforms.outbox.Nope",
           "transforms.b.type": "io.debezium.transforms.ExtractNewRecordState",
           "transforms.b.delete.handling.mode": "rewrite", "transforms.b.negate": "true",
           "transforms.c.type": "org.apache.kafka.connect.transforms.RegexRouter""#,
    );
    assert!(p.contains("Nope is not supported; the supported transforms are io.debezium.transforms.ExtractNewRecordState"), "{p}");
    assert!(
        p.contains("transforms.b.delete.handling.mode: removed in Debezium 3.2"),
        "{p}"
    );
    assert!(
        p.contains("transforms.b.negate: set, but there is no transforms.b.predicate"),
        "{p}"
    );
    assert!(
        p.contains("RegexRouter needs transforms.c.regex and transforms.c.replacement"),
        "{p}"
    );
    let p = problems(
        r#","transforms": "a", "transforms.a.type": "org.apache.kafka.connect.transforms.RegexRouter",
           "transforms.a.regex": "(?<=x)y", "transforms.a.replacement": "z", "transforms.a.predicate": "p""#,
    );
    assert!(
        p.contains("not a regular expression this reader understands"),
        "{p}"
    );
    assert!(
        p.contains("predicate \"p\" is not listed in predicates"),
        "{p}"
    );
}
