//! MariaDB with `log_bin_compress=ON` streams every change (issue 13,
//! finding 2: before the fix, compressed events were passed over silently).
//!
//! `log_bin_compress` is a global-only variable, so turning it on in the
//! shared dev MariaDB would change what every other test running in parallel
//! reads. This test starts a private MariaDB instead (Debian's `mariadbd`,
//! flags as in `scripts/dev-services.sh`, plus `log_bin_compress=ON` and
//! `log_bin_compress_min_len=10` so every rows event is compressed) on a free
//! port with its data in a scratch directory, killed when the test ends. The
//! broker is the shared one. A second private MariaDB runs without a
//! binlog, for what `validate` says of that.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use mysql_async::prelude::Queryable;
use serde_json::{json, Value};

/// Flags of a private MariaDB with binlog compression on.
const COMPRESSED: &[&str] = &[
    "--log-bin=mariadb-bin",
    "--binlog-format=ROW",
    "--binlog-row-image=FULL",
    "--binlog-row-metadata=FULL",
    "--binlog-annotate-row-events=ON",
    "--log-bin-compress=ON",
    "--log-bin-compress-min-len=10",
];

/// A private MariaDB started with `flags`, or `None` (test skipped) when
/// the binaries are missing and services are not required.
fn private_mariadb(name: &str, flags: &[&str]) -> Option<(Procs, Db)> {
    let required = std::env::var("BP_REQUIRE_SERVICES").is_ok_and(|v| v == "1");
    if Command::new("mariadbd").arg("--version").output().is_err() {
        assert!(
            !required,
            "BP_REQUIRE_SERVICES=1 but mariadbd is not installed"
        );
        eprintln!("skipped: mariadbd is not installed");
        return None;
    }
    let dir = scratch(name);
    let data = dir.join("data");
    let sock = dir.join("mariadb.sock");
    // A temporary directory of its own: two servers bootstrapping at once
    // in a shared /tmp collide on their temporary tables' names.
    let tmp = dir.join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let user = whoami();
    run_ok(
        Command::new("mariadb-install-db")
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--tmpdir={}", tmp.display()))
            .arg(format!("--user={user}"))
            .args(["--auth-root-authentication-method=normal", "--skip-test-db"]),
        "mariadb-install-db",
    );
    let port = free_port();
    let child = Command::new("mariadbd")
        .arg("--no-defaults")
        .arg(format!("--datadir={}", data.display()))
        .arg(format!("--tmpdir={}", tmp.display()))
        .arg(format!("--user={user}"))
        .arg(format!("--port={port}"))
        .arg(format!("--socket={}", sock.display()))
        .arg(format!("--log-error={}", dir.join("error.log").display()))
        .args([
            "--bind-address=127.0.0.1",
            "--server-id=1",
            "--skip-name-resolve",
            "--innodb-buffer-pool-size=64M",
        ])
        .args(flags)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start mariadbd");
    let procs = Procs(vec![child]);
    wait_for_port(port, "private mariadbd", Duration::from_secs(60));
    run_ok(
        Command::new("mariadb")
            .arg("--no-defaults")
            .args(["-uroot", &format!("--socket={}", sock.display()), "-e"])
            .arg(
                "CREATE USER 'bp'@'%' IDENTIFIED BY 'bp-pass'; \
                 GRANT ALL PRIVILEGES ON *.* TO 'bp'@'%'; FLUSH PRIVILEGES",
            ),
        "creating the test user",
    );
    let db = Db {
        flavor: Flavor::MariaDb,
        host: "127.0.0.1".into(),
        port,
        user: "bp".into(),
        password: "bp-pass".into(),
    };
    Some((procs, db))
}

fn whoami() -> String {
    let out = Command::new("id").arg("-un").output().expect("id -un");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_compressed_binlog_streams_every_change() {
    let Some(s) = Services::get() else { return };
    let Some((_server, db)) = private_mariadb("mariadb_compressed", COMPRESSED) else {
        return;
    };
    let c = Connector::new(&s, &db, "mcomp").await;
    c.sql("CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(50), note TEXT)")
        .await;
    assert_eq!(c.poll().await.events, 0);
    c.sql(
        "INSERT INTO items VALUES (1, 'one', REPEAT('x', 300)); \
         START TRANSACTION; INSERT INTO items VALUES (2, 'two', 'short'); \
           UPDATE items SET name = 'TWO' WHERE id = 2; COMMIT; \
         DELETE FROM items WHERE id = 1; \
         INSERT INTO items VALUES (3, 'three', NULL), (4, 'four', 'f')",
    )
    .await;

    // The server did write compressed rows events.
    let mut conn = db.conn().await;
    let status: mysql_async::Row = conn
        .query_first("SHOW MASTER STATUS")
        .await
        .unwrap()
        .unwrap();
    let current: String = status.get("File").unwrap();
    let kinds: Vec<String> = conn
        .query_map(
            format!("SHOW BINLOG EVENTS IN '{current}'"),
            |r: mysql_async::Row| r.get::<String, _>("Event_type").unwrap_or_default(),
        )
        .await
        .unwrap();
    conn.disconnect().await.ok();
    for k in [
        "Write_rows_compressed_v1",
        "Update_rows_compressed_v1",
        "Delete_rows_compressed_v1",
    ] {
        assert!(kinds.iter().any(|e| e == k), "{k} in {kinds:?}");
    }

    let summary = c.poll().await;
    assert_eq!(summary.events, 6, "{summary:?}");
    assert_eq!(
        summary.records, 7,
        "6 changes and one tombstone: {summary:?}"
    );
    assert!(summary.caught_up && !summary.partial_transaction);

    let mut recs = read_topic(s.kafka(), &c.topic("items")).await;
    recs.sort_by_key(|r| (r.partition, r.offset));
    let changes: Vec<(Value, Option<&str>, Value, Value)> = recs
        .iter()
        .filter(|r| r.value.is_some())
        .map(|r| {
            (
                r.row_field("id"),
                r.op(),
                r.row_field("name"),
                r.row_field("note"),
            )
        })
        .collect();
    let x300 = "x".repeat(300);
    let mut expected = vec![
        (json!(1), Some("c"), json!("one"), json!(x300)),
        (json!(2), Some("c"), json!("two"), json!("short")),
        (json!(2), Some("u"), json!("TWO"), json!("short")),
        (json!(1), Some("d"), json!("one"), json!(x300)),
        (json!(3), Some("c"), json!("three"), Value::Null),
        (json!(4), Some("c"), json!("four"), json!("f")),
    ];
    // Per key, in binlog order (a stable sort by key keeps each key's order).
    let mut got = changes.clone();
    got.sort_by_key(|c| c.0.as_i64());
    expected.sort_by_key(|c| c.0.as_i64());
    assert_eq!(got, expected);
    // The update carries the row before it too.
    let update = recs.iter().find(|r| r.op() == Some("u")).unwrap();
    assert_eq!(update.payload().unwrap()["before"]["name"], json!("two"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mariadb_without_binlog_is_named_as_such() {
    let Some(s) = Services::get() else { return };
    let Some((_server, db)) = private_mariadb("mariadb_no_binlog", &[]) else {
        return;
    };
    let c = Connector::new(&s, &db, "nobinlog").await;
    let out = c.cli(&["validate"], &[]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(1), "{text}");
    for check in ["binlog settings", "binlog retention"] {
        let line = text
            .lines()
            .find(|l| l[5..].starts_with(check))
            .unwrap_or_else(|| panic!("no {check} line: {text}"));
        assert!(
            line.starts_with("FAIL") && line.contains("binary logging is off"),
            "{line}"
        );
    }
    assert!(!text.contains("SHOW BINARY LOG STATUS"), "{text}");
}
