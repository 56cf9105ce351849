//! Decoding without `binlog_row_metadata=FULL`: column names, signedness,
//! key and labels come from `information_schema`.
//!
//! This binary flips a global server setting, so it is a test binary of its
//! own: cargo runs test binaries one after another, never beside
//! `tests/streaming.rs`.

mod common;

use common::*;
use serde_json::json;

async fn decodes_with_information_schema_when_table_maps_lack_names(s: &Services, db: &Db) {
    let c = Connector::new(s, db, "minimal").await;
    c.sql("CREATE TABLE t (id INT UNSIGNED PRIMARY KEY, tiny TINYINT UNSIGNED, label VARCHAR(10), raw VARBINARY(4))").await;
    c.poll().await;
    db.exec("SET GLOBAL binlog_row_metadata = 'MINIMAL'").await;
    // New sessions pick up the global value.
    c.sql("INSERT INTO t VALUES (4294967295, 255, 'héllo', X'0102')")
        .await;
    db.exec("SET GLOBAL binlog_row_metadata = 'FULL'").await;
    let summary = c.poll().await;
    assert_eq!(summary.events, 1);
    let recs = read_topic(s.kafka(), &c.topic("t")).await;
    let after = &recs[0].payload().unwrap()["after"];
    assert_eq!(
        after,
        &json!({"id": 4294967295u64, "tiny": 255, "label": "héllo", "raw": "AQI="})
    );
    assert_eq!(
        recs[0].key_json().unwrap()["payload"],
        json!({"id": 4294967295u64})
    );
}

on_both_servers!(decodes_with_information_schema_when_table_maps_lack_names);
