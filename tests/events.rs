//! Debezium's other record kinds and shaping options against real MariaDB
//! and MySQL: transaction metadata, schema change events for DDL while
//! streaming (with restarts in between), column filters and masks, key
//! overrides, skipped operations, `include.query`, truncate events, and
//! records above the broker's limit.

mod common;

use std::collections::BTreeMap;
use std::time::Instant;

use binlog_poller::offsets::AnyStore;
use binlog_poller::pipeline::poll_once;
use common::*;
use serde_json::{json, Value};
use sha2::Digest as _;

on_both_servers!(
    transaction_metadata_counts_match_the_rows_published,
    ddl_while_streaming_publishes_schema_changes_and_new_shapes,
    column_rules_keys_skipped_operations_query_and_truncate,
    oversize_record_fails_naming_the_table_or_is_skipped_on_request,
);

async fn transaction_metadata_counts_match_the_rows_published(s: &Services, db: &Db) {
    let c = Connector::new(s, db, "txmeta")
        .await
        .with("provide.transaction.metadata", "true")
        // Small polls, so the 10-row transaction is split across three of them.
        .with("poll.max.events", "4");
    c.sql("CREATE TABLE a (id INT PRIMARY KEY, v INT); CREATE TABLE b (id INT PRIMARY KEY, v INT)")
        .await;
    c.poll_until_caught_up().await;
    c.sql(
        "START TRANSACTION; INSERT INTO a VALUES (1,1),(2,2),(3,3); INSERT INTO b VALUES (1,1),(2,2); \
         UPDATE a SET v = 10 WHERE id = 1; DELETE FROM b WHERE id = 2; COMMIT; \
         INSERT INTO a VALUES (4,4); \
         START TRANSACTION; INSERT INTO b VALUES (10,0),(11,0),(12,0),(13,0),(14,0),(15,0),(16,0),(17,0),(18,0),(19,0); COMMIT",
    )
    .await;
    let polls = c.poll_until_caught_up().await;
    assert!(
        polls.len() >= 3,
        "the big transaction spans polls: {polls:?}"
    );

    let tx_topic = format!("{}.transaction", c.prefix);
    let tx = read_topic(s.kafka(), &tx_topic).await;
    let mut data = read_topic(s.kafka(), &c.topic("a")).await;
    data.extend(read_topic(s.kafka(), &c.topic("b")).await);
    // Data events per transaction id, as published (tombstones carry no block).
    let mut per_tx: BTreeMap<String, Vec<(String, u64, u64)>> = BTreeMap::new();
    for r in data.iter().filter(|r| r.value.is_some()) {
        let p = r.payload().unwrap();
        let t = &p["transaction"];
        assert!(t.is_object(), "every data event has the block: {p}");
        let table = format!(
            "{}.{}",
            p["source"]["db"].as_str().unwrap(),
            p["source"]["table"].as_str().unwrap()
        );
        per_tx
            .entry(t["id"].as_str().unwrap().to_string())
            .or_default()
            .push((
                table,
                t["total_order"].as_u64().unwrap(),
                t["data_collection_order"].as_u64().unwrap(),
            ));
    }
    let begins: Vec<&Value> = tx
        .iter()
        .filter_map(|r| r.payload())
        .filter(|p| p["status"] == "BEGIN")
        .collect();
    let ends: Vec<&Value> = tx
        .iter()
        .filter_map(|r| r.payload())
        .filter(|p| p["status"] == "END")
        .collect();
    assert_eq!(begins.len(), 3, "{tx:?}");
    assert_eq!(ends.len(), 3);
    for end in &ends {
        let id = end["id"].as_str().unwrap();
        let events = &per_tx[id];
        assert_eq!(
            end["event_count"].as_u64().unwrap(),
            events.len() as u64,
            "END of {id}"
        );
        // total_order is 1..n, each table's order 1..k.
        let mut totals: Vec<u64> = events.iter().map(|e| e.1).collect();
        totals.sort_unstable();
        assert_eq!(
            totals,
            (1..=events.len() as u64).collect::<Vec<_>>(),
            "{id}"
        );
        for dc in end["data_collections"].as_array().unwrap() {
            let name = dc["data_collection"].as_str().unwrap();
            let mine: Vec<u64> = events.iter().filter(|e| e.0 == name).map(|e| e.2).collect();
            assert_eq!(
                dc["event_count"].as_u64().unwrap(),
                mine.len() as u64,
                "{id} {name}"
            );
            let mut sorted = mine.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, (1..=mine.len() as u64).collect::<Vec<_>>());
        }
        let key = tx
            .iter()
            .find(|r| r.payload() == Some(*end))
            .unwrap()
            .key_json()
            .unwrap();
        assert_eq!(key["payload"]["id"], json!(id));
    }
    let counts: Vec<u64> = ends
        .iter()
        .map(|e| e["event_count"].as_u64().unwrap())
        .collect();
    assert_eq!(
        counts,
        vec![7, 1, 10],
        "first: 5 inserts, 1 update, 1 delete"
    );
    assert_eq!(
        ends[0]["data_collections"],
        json!([{"data_collection": format!("{}.a", c.database), "event_count": 4},
               {"data_collection": format!("{}.b", c.database), "event_count": 3}])
    );
    // BEGIN comes before its transaction's first event, END after the last.
    assert!(begins
        .iter()
        .all(|b| b["event_count"].is_null() && b["data_collections"].is_null()));
    if db.flavor == Flavor::MySql {
        assert!(
            ends[0]["id"].as_str().unwrap().contains(':'),
            "MySQL ids are GTIDs"
        );
    }
}

async fn schema_changes(s: &Services, c: &Connector) -> Vec<Value> {
    read_topic(s.kafka(), &c.prefix)
        .await
        .iter()
        .map(|r| {
            assert_eq!(
                r.key_json().unwrap()["payload"],
                json!({"databaseName": c.database})
            );
            let v = r.value.as_ref().unwrap();
            assert_eq!(
                v["schema"]["name"],
                json!("io.debezium.connector.mysql.SchemaChangeValue")
            );
            v["payload"].clone()
        })
        .collect()
}

fn column_names(change: &Value) -> Vec<String> {
    change["table"]["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

async fn ddl_while_streaming_publishes_schema_changes_and_new_shapes(s: &Services, db: &Db) {
    // Only the captured tables' DDL (by default Debezium, and the poller,
    // publish every database's), with comments.
    let c = Connector::new(s, db, "ddl")
        .await
        .with("poll.max.events", "2")
        .with(
            "schema.history.internal.store.only.captured.tables.ddl",
            "true",
        )
        .with("include.schema.comments", "true");
    c.poll_until_caught_up().await;
    c.sql("CREATE TABLE t (id INT PRIMARY KEY, a INT NOT NULL DEFAULT 7 COMMENT 'the a'); INSERT INTO t VALUES (1, 10)")
        .await;
    c.poll_until_caught_up().await;
    c.sql("ALTER TABLE t ADD COLUMN b VARCHAR(10) AFTER a; INSERT INTO t VALUES (2, 20, 'x')")
        .await;
    c.poll_until_caught_up().await;
    let changes = schema_changes(s, &c).await;
    assert_eq!(changes.len(), 2, "{changes:?}");
    let create = &changes[0];
    assert!(create["ddl"]
        .as_str()
        .unwrap()
        .starts_with("CREATE TABLE t"));
    assert_eq!(create["databaseName"], json!(c.database));
    assert_eq!(create["tableChanges"][0]["type"], json!("CREATE"));
    assert_eq!(
        create["tableChanges"][0]["id"],
        json!(format!("\"{}\".\"t\"", c.database))
    );
    assert_eq!(create["source"]["table"], json!("t"));
    let alter = &changes[1]["tableChanges"][0];
    assert_eq!(alter["type"], json!("ALTER"));
    assert_eq!(column_names(alter), vec!["id", "a", "b"]);
    assert_eq!(alter["table"]["primaryKeyColumnNames"], json!(["id"]));
    let a = &alter["table"]["columns"][1];
    assert_eq!(a["typeName"], json!("INT"));
    assert_eq!(a["jdbcType"], json!(4));
    assert_eq!(a["optional"], json!(false));
    assert_eq!(a["position"], json!(2));
    assert_eq!(a["comment"], json!("the a"));
    assert!(a["defaultValueExpression"].as_str().unwrap().contains('7'));
    let b = &alter["table"]["columns"][2];
    assert_eq!(
        (b["typeName"].clone(), b["length"].clone()),
        (json!("VARCHAR"), json!(10))
    );

    // Several DDL statements in one backlog, read by many small polls (each
    // a fresh decoder): rows decode with the shape they were written with.
    c.sql(
        "ALTER TABLE t MODIFY a BIGINT NOT NULL; INSERT INTO t VALUES (3, 3000000000, 'y'); \
         ALTER TABLE t DROP COLUMN b; INSERT INTO t VALUES (4, 40); \
         RENAME TABLE t TO t2; INSERT INTO t2 VALUES (5, 50); \
         CREATE TABLE u (id INT PRIMARY KEY); INSERT INTO u VALUES (1); DROP TABLE u; \
         TRUNCATE TABLE t2",
    )
    .await;
    let polls = c.poll_until_caught_up().await;
    assert!(polls.len() >= 3, "{polls:?}");
    let t = read_topic(s.kafka(), &c.topic("t")).await;
    let after = |id: i64| {
        t.iter()
            .filter_map(|r| r.payload())
            .find(|p| p["after"]["id"] == json!(id))
            .unwrap_or_else(|| panic!("row {id}"))["after"]
            .clone()
    };
    assert_eq!(after(1), json!({"id": 1, "a": 10}));
    assert_eq!(after(2), json!({"id": 2, "a": 20, "b": "x"}));
    assert_eq!(after(3), json!({"id": 3, "a": 3000000000i64, "b": "y"}));
    assert_eq!(after(4), json!({"id": 4, "a": 40}));
    let t2 = read_topic(s.kafka(), &c.topic("t2")).await;
    assert_eq!(t2[0].payload().unwrap()["after"], json!({"id": 5, "a": 50}));
    // The value schema follows the shape: row 3's `a` is int64 now.
    let schema_a =
        |r: &Rec| r.value.as_ref().unwrap()["schema"]["fields"][1]["fields"][1]["type"].clone();
    let row3 = t
        .iter()
        .find(|r| r.payload().unwrap()["after"]["id"] == json!(3))
        .unwrap();
    assert_eq!(schema_a(row3), json!("int64"));

    let changes = schema_changes(s, &c).await;
    let kinds: Vec<(String, Vec<String>)> = changes
        .iter()
        .map(|ch| {
            let ddl = ch["ddl"].as_str().unwrap();
            let word = ddl
                .split_whitespace()
                .take(2)
                .collect::<Vec<_>>()
                .join(" ")
                .to_uppercase();
            let types = ch["tableChanges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["type"].as_str().unwrap().to_string())
                .collect();
            (word, types)
        })
        .collect();
    let v = |w: &str, t: &[&str]| {
        (
            w.to_string(),
            t.iter().map(|x| x.to_string()).collect::<Vec<_>>(),
        )
    };
    assert_eq!(
        kinds,
        vec![
            v("CREATE TABLE", &["CREATE"]),
            v("ALTER TABLE", &["ALTER"]),
            v("ALTER TABLE", &["ALTER"]),
            v("ALTER TABLE", &["ALTER"]),
            v("RENAME TABLE", &["ALTER"]),
            v("CREATE TABLE", &["CREATE"]),
            v("DROP TABLE", &["DROP"]),
        ]
    );
    // As Debezium: a rename is the table under its new name, a dropped table
    // is named in full, a TRUNCATE is no schema change.
    assert_eq!(
        changes[4]["tableChanges"][0]["id"],
        json!(format!("\"{}\".\"t2\"", c.database))
    );
    assert_eq!(
        column_names(&changes[4]["tableChanges"][0]),
        vec!["id", "a"]
    );
    assert_eq!(
        changes[6]["ddl"],
        json!(format!("DROP TABLE `{}`.`u`", c.database))
    );
    // A table dropped before the poll read it: as its statement declared it.
    assert_eq!(column_names(&changes[5]["tableChanges"][0]), vec!["id"]);
    // DDL of other databases is not published (store.only.captured.tables.ddl).
    db.exec("CREATE DATABASE IF NOT EXISTS bp_unrelated; CREATE TABLE IF NOT EXISTS bp_unrelated.x (id INT)")
        .await;
    c.poll_until_caught_up().await;
    assert_eq!(schema_changes(s, &c).await.len(), changes.len());
}

async fn column_rules_keys_skipped_operations_query_and_truncate(s: &Services, db: &Db) {
    let c = Connector::new(s, db, "shape").await;
    let d = c.database.clone();
    let c = c
        .with("column.exclude.list", &format!("{d}\\.people\\.secret"))
        .with("column.mask.with.5.chars", &format!("{d}\\.people\\.card"))
        .with(
            "column.mask.hash.SHA-256.with.salt.salty",
            &format!("{d}\\.people\\.email"),
        )
        .with(
            "column.truncate.to.3.chars",
            &format!("{d}\\.people\\.note"),
        )
        .with("message.key.columns", &format!("{d}\\.people:code"))
        .with("skipped.operations", "u")
        .with("include.query", "true");
    c.sql(
        "CREATE TABLE people (id INT PRIMARY KEY, code VARCHAR(10), email VARCHAR(50), card VARCHAR(20), \
         secret VARCHAR(20), note TEXT) DEFAULT CHARSET=utf8mb4",
    )
    .await;
    c.poll_until_caught_up().await;
    c.sql("INSERT INTO people VALUES (1, 'A1', 'añ😀b', '1234-5678', 's3cret', 'hello world')")
        .await;
    c.sql("UPDATE people SET note = 'changed' WHERE id = 1")
        .await;
    c.sql("DELETE FROM people WHERE id = 1").await;
    c.sql("TRUNCATE TABLE people").await;
    c.poll_until_caught_up().await;

    let recs = read_topic(s.kafka(), &c.topic("people")).await;
    let ops: Vec<Option<&str>> = recs.iter().map(|r| r.op()).collect();
    assert_eq!(
        ops,
        vec![Some("c"), Some("d"), None, Some("t")],
        "update skipped, delete + tombstone, truncate"
    );
    let ins = &recs[0];
    let mut hash = sha2::Sha256::new();
    hash.update(b"salty");
    hash.update("añ😀b".as_bytes());
    let hex: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        ins.payload().unwrap()["after"],
        json!({"id": 1, "code": "A1", "email": hex[..50], "card": "*****", "note": "hel"})
    );
    assert_eq!(ins.key_json().unwrap()["payload"], json!({"code": "A1"}));
    assert_eq!(
        recs[1].key_json().unwrap()["payload"],
        json!({"code": "A1"})
    );
    let fields = &ins.value.as_ref().unwrap()["schema"]["fields"][1]["fields"];
    let card = fields
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == "card")
        .unwrap();
    assert_eq!(card["parameters"], json!({"masked": "true"}));
    assert!(fields
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["field"] != "secret"));
    let query = ins.payload().unwrap()["source"]["query"].as_str().unwrap();
    assert!(
        query.starts_with("INSERT INTO people VALUES (1, 'A1'"),
        "{query}"
    );
    // The truncate event: no key, no before/after.
    let t = &recs[3];
    assert_eq!(t.key, None);
    assert_eq!(t.payload().unwrap()["before"], Value::Null);
    assert_eq!(t.payload().unwrap()["after"], Value::Null);
}

async fn oversize_record_fails_naming_the_table_or_is_skipped_on_request(s: &Services, db: &Db) {
    let c = Connector::new(s, db, "big")
        .await
        .with("kafka.max.request.size", "4000");
    c.sql("CREATE TABLE docs (id INT PRIMARY KEY, body TEXT)")
        .await;
    c.poll_until_caught_up().await;
    c.sql("INSERT INTO docs VALUES (1, 'small'); INSERT INTO docs VALUES (2, REPEAT('z', 6000)); INSERT INTO docs VALUES (3, 'after')")
        .await;
    let config = c.config();
    let store = AnyStore::open(&config).await.unwrap();
    let err = poll_once(&config, &store, Instant::now() + config.poll_max_duration)
        .await
        .expect_err("a record above the limit fails the poll by default");
    let msg = err.to_string();
    assert!(msg.contains(&format!("{}.docs", c.database)), "{msg}");
    assert!(msg.contains("key columns: id"), "{msg}");
    assert!(msg.contains("kafka.max.request.size"), "{msg}");
    assert!(
        !msg.contains("zzzz"),
        "values never appear in errors: {msg}"
    );
    assert!(!err.is_retryable());
    // Nothing after the bad row was checkpointed: the next poll, told to
    // skip such changes, delivers row 3 (and row 1 again, at least once).
    let c = c.with("event.processing.failure.handling.mode", "warn");
    let summaries = c.poll_until_caught_up().await;
    assert_eq!(summaries.iter().map(|p| p.skipped_events).sum::<u64>(), 1);
    let ids: Vec<i64> = read_topic(s.kafka(), &c.topic("docs"))
        .await
        .iter()
        .map(|r| r.row_field("id").as_i64().unwrap())
        .collect();
    assert!(
        ids.contains(&3) && ids.contains(&1) && !ids.contains(&2),
        "{ids:?}"
    );
}
