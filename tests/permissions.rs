//! Problems that need a person stop the poll with a non-retryable error
//! that names the fix: a MySQL user without the grant for binlog positions
//! (real MariaDB 10.11 and MySQL 9.7), a DynamoDB offsets table that does
//! not exist (moto).

mod common;

use std::time::Instant;

use binlog_poller::offsets::AnyStore;
use binlog_poller::pipeline::poll_once;
use binlog_poller::Error;
use common::*;

on_both_servers!(a_user_without_replication_client_is_told_the_grant);

/// MySQL 8.4+ refuses `SHOW BINARY LOG STATUS` with 1227; asking the
/// removed `SHOW MASTER STATUS` instead used to replace that with a
/// retryable syntax error. MariaDB refuses `SHOW MASTER STATUS` the same
/// way for want of `BINLOG MONITOR`.
async fn a_user_without_replication_client_is_told_the_grant(s: &Services, db: &Db) {
    let user = unique("nrc");
    db.exec(&format!(
        "CREATE USER '{user}'@'%' IDENTIFIED BY 'nrc-pass'; GRANT SELECT, LOCK TABLES, REPLICATION SLAVE ON *.* TO '{user}'@'%'"
    ))
    .await;
    let mut c = Connector::new(s, db, "norc").await;
    c.db.user = user.clone();
    c.db.password = "nrc-pass".into();
    let (privilege, grant) = match db.flavor {
        Flavor::MySql => (
            "REPLICATION CLIENT",
            format!("GRANT REPLICATION CLIENT ON *.* TO '{user}'@'%';"),
        ),
        Flavor::MariaDb => (
            "BINLOG MONITOR",
            format!("GRANT BINLOG MONITOR ON *.* TO '{user}'@'%';"),
        ),
    };

    let config = c.config();
    let store = AnyStore::open(&config).await.expect("offset store");
    let err = poll_once(&config, &store, Instant::now() + config.poll_max_duration)
        .await
        .expect_err("the user may not read binlog positions");
    let msg = err.to_string();
    assert!(
        matches!(&err, Error::MissingPrivilege { privilege: p, .. } if *p == privilege),
        "{err:?}"
    );
    assert!(!err.is_retryable(), "needs a person: {msg}");
    assert!(
        msg.contains(&format!("lacks the {privilege} privilege")) && msg.ends_with(&grant),
        "names the grant and the exact GRANT: {msg}"
    );
    assert!(
        !msg.contains("syntax"),
        "the refusal, not a syntax error: {msg}"
    );

    // The CLI: exit code 1 (not a configuration error), the same line.
    let out = c.cli(&["run", "--once"], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&grant), "{stderr}");

    // With the grant the same user polls.
    db.exec(&format!("GRANT REPLICATION CLIENT ON *.* TO '{user}'@'%'"))
        .await;
    c.poll().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_dynamodb_table_is_not_retried_and_names_init() {
    let Some(s) = Services::get() else { return };
    let db = s.server(Flavor::MySql);
    let table = unique("no_such_offsets");
    let c = Connector::new(&s, &db, "notable")
        .await
        .with("offset.storage", "dynamodb")
        .with("offset.storage.dynamodb.table", &table)
        .with("offset.storage.dynamodb.endpoint", s.aws())
        .with("offset.storage.dynamodb.region", "us-east-1");
    let config = c.config();
    let store = AnyStore::open(&config).await.expect("no call is made yet");
    let err = poll_once(&config, &store, Instant::now() + config.poll_max_duration)
        .await
        .expect_err("the table does not exist");
    let msg = err.to_string();
    assert!(
        matches!(&err, Error::OffsetsTableMissing { table: t, .. } if *t == table),
        "{err:?}"
    );
    assert!(!err.is_retryable(), "{msg}");
    assert!(
        msg.contains(&format!("{table:?}"))
            && msg.contains("ResourceNotFoundException")
            && msg.contains("binlog-poller init"),
        "{msg}"
    );
    assert!(msg.len() < 600, "one short line, no SDK dump: {msg}");

    let out = c.cli(&["run", "--once"], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("binlog-poller init"), "{stderr}");
    assert!(!stderr.contains("SdkBody"), "no debug dump: {stderr}");
}
