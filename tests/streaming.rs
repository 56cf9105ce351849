//! Streaming CDC end to end against real MariaDB 10.11 and MySQL 9.7, the
//! tansu broker and moto's DynamoDB (see `tests/common`).

mod common;

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use binlog_poller::offsets::{AnyStore, OffsetStore};
use binlog_poller::pipeline::{poll_once, LEASE_TTL};
use binlog_poller::sink::partition_for;
use common::*;
use serde_json::{json, Value};

on_both_servers!(
    crud_and_transactions_reach_kafka,
    resume_publishes_exactly_the_new_changes,
    large_transaction_completes_over_several_polls_with_flat_memory,
    concurrent_polls_one_runs_the_other_exits_cleanly,
    killed_after_publish_before_checkpoint_redelivers,
    broker_down_fails_within_budget_and_loses_nothing,
    bad_config_is_reported_with_the_key_or_server,
    compressed_batches_read_back_with_both_clients,
    sigterm_finishes_the_batch_checkpoints_and_exits_zero,
    heartbeats_while_captured_tables_are_quiet,
);

async fn crud_and_transactions_reach_kafka(s: &Services, db: &Db) {
    let c = Connector::new(s, db, "crud")
        .await
        .with("topic.creation.default.partitions", "3");
    c.sql(
        "CREATE TABLE customers (id INT PRIMARY KEY, email VARCHAR(100) CHARACTER SET utf8mb4, balance DECIMAL(10,2), \
         created DATETIME(3), seen TIMESTAMP(6) NULL, big BIGINT UNSIGNED, small SMALLINT, ratio DOUBLE, \
         data JSON, raw VARBINARY(16), born DATE, dur TIME(6))",
    )
    .await;
    let first = c.poll().await;
    assert_eq!(first.events, 0);
    c.sql(
        "SET time_zone = '+00:00'; \
         INSERT INTO customers VALUES (1, 'añb@x.io', 12.34, '2024-05-01 10:11:12.345', '2024-05-01 10:11:12.123456', \
            18446744073709551615, -32768, 0.5, '{\"k\": [1, 2, {\"n\": null}]}', X'00FF10', '1999-12-31', '-838:59:59.000000'), \
           (2, 'b@x.io', -0.01, NULL, NULL, 0, 32767, NULL, NULL, NULL, NULL, NULL), \
           (3, 'c@x.io', 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL); \
         UPDATE customers SET email = 'new@x.io' WHERE id = 1; \
         DELETE FROM customers WHERE id = 2; \
         START TRANSACTION; INSERT INTO customers (id, email) VALUES (10, 'ten@x.io'); \
           UPDATE customers SET balance = 99.99 WHERE id = 3; COMMIT",
    )
    .await;
    let summary = c.poll().await;
    assert_eq!(summary.events, 7, "{summary:?}");
    assert_eq!(
        summary.records, 8,
        "7 changes and one tombstone: {summary:?}"
    );
    assert!(summary.caught_up && !summary.partial_transaction);

    let topic = c.topic("customers");
    let recs = read_topic(s.kafka(), &topic).await;
    assert_eq!(recs.len(), 8);
    // Partition = Kafka's Java default partitioner on the key bytes.
    for r in &recs {
        assert_eq!(
            r.partition,
            partition_for(r.key.as_deref(), 3),
            "partition of {:?}",
            r.key_json()
        );
    }
    // Per key, events arrive in binlog order.
    let mut by_key: BTreeMap<i64, Vec<Option<String>>> = BTreeMap::new();
    let mut ordered = recs.clone();
    ordered.sort_by_key(|r| (r.partition, r.offset));
    for r in &ordered {
        let id = r.key_json().unwrap()["payload"]["id"].as_i64().unwrap();
        by_key
            .entry(id)
            .or_default()
            .push(r.op().map(str::to_string));
    }
    let ops = |v: &[&str]| {
        v.iter()
            .map(|s| {
                if s.is_empty() {
                    None
                } else {
                    Some(s.to_string())
                }
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(by_key[&1], ops(&["c", "u"]));
    assert_eq!(by_key[&2], ops(&["c", "d", ""]), "delete then tombstone");
    assert_eq!(by_key[&3], ops(&["c", "u"]));
    assert_eq!(by_key[&10], ops(&["c"]));

    // The key and envelope of the first insert, field by field.
    let ins = ordered
        .iter()
        .find(|r| r.op() == Some("c") && r.row_field("id") == json!(1))
        .unwrap();
    assert_eq!(
        ins.key_json().unwrap(),
        json!({"schema": {"type": "struct", "fields": [{"type": "int32", "optional": false, "field": "id"}],
                "optional": false, "name": format!("{}.{}.customers.Key", c.prefix, c.database)},
               "payload": {"id": 1}})
    );
    let v = ins.value.as_ref().unwrap();
    assert_eq!(
        v["schema"]["name"],
        json!(format!("{}.{}.customers.Envelope", c.prefix, c.database))
    );
    let p = ins.payload().unwrap();
    assert_eq!(p["op"], "c");
    assert_eq!(p["before"], Value::Null);
    let a = &p["after"];
    assert_eq!(a["email"], "añb@x.io");
    assert_eq!(
        a["balance"], "BNI=",
        "DECIMAL 12.34 precise: unscaled 1234 as bytes"
    );
    assert_eq!(
        a["created"], 1_714_558_272_345i64,
        "DATETIME(3) as epoch millis"
    );
    assert_eq!(
        a["seen"], "2024-05-01T10:11:12.123456Z",
        "TIMESTAMP(6) as UTC ISO-8601"
    );
    assert_eq!(
        a["big"], -1,
        "BIGINT UNSIGNED max wraps like Debezium's long mode"
    );
    assert_eq!(a["small"], -32768);
    assert_eq!(a["ratio"], 0.5);
    let doc: Value = serde_json::from_str(a["data"].as_str().unwrap()).unwrap();
    assert_eq!(doc, json!({"k": [1, 2, {"n": null}]}));
    assert_eq!(a["raw"], "AP8Q", "VARBINARY as base64");
    assert_eq!(a["born"], 10_956, "DATE as days since epoch");
    assert_eq!(a["dur"], -3_020_399_000_000i64, "TIME as signed micros");
    let neg = ordered
        .iter()
        .find(|r| r.op() == Some("c") && r.row_field("id") == json!(2))
        .unwrap();
    assert_eq!(
        neg.payload().unwrap()["after"]["balance"],
        "/w==",
        "-0.01 as two's complement"
    );
    assert_eq!(neg.payload().unwrap()["after"]["created"], Value::Null);
    let src = &p["source"];
    assert_eq!(src["connector"], "mysql");
    assert_eq!(src["name"], json!(c.prefix));
    assert_eq!(src["db"], json!(c.database));
    assert_eq!(src["table"], "customers");
    assert_eq!(src["snapshot"], "false");
    assert!(src["file"].as_str().unwrap().contains("-bin."));
    assert!(src["pos"].as_i64().unwrap() > 4);
    assert!(src["ts_ms"].as_i64().unwrap() > 1_700_000_000_000);
    match db.flavor {
        Flavor::MySql => assert!(
            src["gtid"].as_str().unwrap().contains(':'),
            "MySQL GTID uuid:n"
        ),
        Flavor::MariaDb => assert_eq!(
            src["gtid"].as_str().unwrap().split('-').count(),
            3,
            "MariaDB GTID d-s-n"
        ),
    }
    // The update carries both images.
    let upd = ordered
        .iter()
        .find(|r| r.op() == Some("u") && r.row_field("id") == json!(1))
        .unwrap();
    assert_eq!(upd.payload().unwrap()["before"]["email"], "añb@x.io");
    assert_eq!(upd.payload().unwrap()["after"]["email"], "new@x.io");

    // The same records through an independent client (librdkafka).
    let other = read_with_confluent(s, &topic);
    assert_eq!(other.len(), recs.len());
    for o in &other {
        let mine = recs
            .iter()
            .find(|r| {
                r.partition == o["partition"].as_i64().unwrap() as i32
                    && r.offset == o["offset"].as_i64().unwrap()
            })
            .expect("same partition/offset");
        assert_eq!(mine.value.clone().unwrap_or(Value::Null), o["value"]);
        assert_eq!(mine.key_json().unwrap(), o["key"]);
    }
}

async fn resume_publishes_exactly_the_new_changes(s: &Services, db: &Db) {
    let c = Connector::new(s, db, "resume").await;
    c.sql("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20))")
        .await;
    c.poll().await;
    c.sql("INSERT INTO t VALUES (1,'a'),(2,'b'),(3,'c'),(4,'d'),(5,'e')")
        .await;
    assert_eq!(c.poll().await.events, 5);
    assert_eq!(c.poll().await.events, 0, "nothing new");
    c.sql("INSERT INTO t VALUES (6,'f'); INSERT INTO t VALUES (7,'g'); UPDATE t SET v = 'z' WHERE id = 1").await;
    let s2 = c.poll().await;
    assert_eq!(s2.events, 3);
    let recs = read_topic(s.kafka(), &c.topic("t")).await;
    let ids: Vec<i64> = recs
        .iter()
        .map(|r| r.row_field("id").as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![1, 2, 3, 4, 5, 6, 7, 1]);
}

async fn large_transaction_completes_over_several_polls_with_flat_memory(s: &Services, db: &Db) {
    // Schemas off: this test is about delivery and memory, and 100k schema
    // copies would only slow down reading them back.
    let c = Connector::new(s, db, "bigtx")
        .await
        .with("poll.max.events", "10000")
        .with("key.converter.schemas.enable", "false")
        .with("value.converter.schemas.enable", "false");
    c.sql(
        "CREATE TABLE digits (d INT PRIMARY KEY); INSERT INTO digits VALUES (0),(1),(2),(3),(4),(5),(6),(7),(8),(9); \
         CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(64))",
    )
    .await;
    let out = c.cli(&["run", "--once"], &[]);
    assert_ok(&out);
    c.sql(
        "INSERT INTO t SELECT a.d*10000 + b.d*1000 + c.d*100 + d.d*10 + e.d, REPEAT('x', 64) \
         FROM digits a, digits b, digits c, digits d, digits e ORDER BY 1",
    )
    .await;
    let mut summaries = Vec::new();
    loop {
        let out = c.cli(&["run", "--once"], &[]);
        assert_ok(&out);
        let sm = summary_of(&out);
        let done = sm["caught_up"] == true && sm["partial_transaction"] == false;
        summaries.push(sm);
        if done || summaries.len() > 30 {
            break;
        }
    }
    let events: Vec<u64> = summaries
        .iter()
        .map(|s| s["events"].as_u64().unwrap())
        .collect();
    let rss: Vec<u64> = summaries
        .iter()
        .map(|s| s["peak_rss_kb"].as_u64().unwrap())
        .collect();
    let ms: Vec<u64> = summaries
        .iter()
        .map(|s| s["duration_ms"].as_u64().unwrap())
        .collect();
    eprintln!(
        "events per poll: {events:?}\npeak RSS per poll (KiB): {rss:?}\npoll duration (ms): {ms:?}"
    );
    assert!(events.iter().all(|&e| e <= 10_000), "{events:?}");
    assert_eq!(events.iter().sum::<u64>(), 100_000);
    assert!(summaries.len() >= 10);
    let (lo, hi) = (*rss.iter().min().unwrap(), *rss.iter().max().unwrap());
    assert!(
        hi - lo < 32 * 1024,
        "peak RSS must not grow with the transaction: {rss:?}"
    );

    let recs = read_topic(s.kafka(), &c.topic("t")).await;
    let ids: Vec<i64> = recs
        .iter()
        .map(|r| r.row_field("id").as_i64().unwrap())
        .collect();
    assert_eq!(
        ids,
        (0..100_000).collect::<Vec<_>>(),
        "every row once, in order"
    );
}

async fn concurrent_polls_one_runs_the_other_exits_cleanly(s: &Services, db: &Db) {
    let table = unique("offsets");
    let c = Connector::new(s, db, "lease")
        .await
        .with("offset.storage", "dynamodb")
        .with("offset.storage.dynamodb.table", &table)
        .with("offset.storage.dynamodb.endpoint", s.aws())
        .with("offset.storage.dynamodb.region", "us-east-1");
    let init = c.cli(&["init"], &[]);
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    c.sql("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(64))")
        .await;
    let first = c.cli(&["run", "--once"], &[]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let store = AnyStore::open(&c.config()).await.unwrap();
    let mut last = store.load().await.unwrap().unwrap().checkpoint.unwrap();
    for round in 0..3 {
        let base = round * 5000;
        let values: Vec<String> = (0..5000)
            .map(|i| format!("({}, REPEAT('y', 60))", base + i))
            .collect();
        c.sql(&format!("INSERT INTO t VALUES {}", values.join(",")))
            .await;
        let cfg = c.config_file();
        let spawn = || {
            Command::new(env!("CARGO_BIN_EXE_binlog-poller"))
                .args(["run", "--once", "--config"])
                .arg(&cfg)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (a, b) = (spawn(), spawn());
        let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
        assert!(
            a.status.success() && b.status.success(),
            "both exit 0:\n{}\n{}",
            String::from_utf8_lossy(&a.stderr),
            String::from_utf8_lossy(&b.stderr)
        );
        let mut statuses = vec![
            summary_of(&a)["status"].as_str().unwrap().to_string(),
            summary_of(&b)["status"].as_str().unwrap().to_string(),
        ];
        statuses.sort();
        // Usually one runs while the other finds the lease held; if the
        // first finished before the second started, both ran in turn.
        assert!(
            statuses == ["lease_held", "ok"] || statuses == ["ok", "ok"],
            "{statuses:?}"
        );
        if statuses == ["lease_held", "ok"] {
            let held = if summary_of(&a)["status"] == "lease_held" {
                &a
            } else {
                &b
            };
            assert!(summary_of(held)["lease_holder"]
                .as_str()
                .is_some_and(|h| !h.is_empty()));
        }
        let now = store.load().await.unwrap().unwrap().checkpoint.unwrap();
        assert!(
            now.position >= last.position,
            "offset moved backwards: {} -> {}",
            last.position,
            now.position
        );
        last = now;
    }
    // Drain what is left and check nothing is missing.
    c.poll_until_caught_up().await;
    let recs = read_topic(s.kafka(), &c.topic("t")).await;
    let mut ids: Vec<i64> = recs
        .iter()
        .map(|r| r.row_field("id").as_i64().unwrap())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids, (0..15_000).collect::<Vec<_>>());
}

async fn killed_after_publish_before_checkpoint_redelivers(s: &Services, db: &Db) {
    let c = Connector::new(s, db, "kill")
        .await
        .with("poll.max.duration.ms", "3000")
        .with("kafka.request.timeout.ms", "2000");
    c.sql("CREATE TABLE t (id INT PRIMARY KEY)").await;
    c.poll().await;
    let before = c
        .file_store()
        .load()
        .await
        .unwrap()
        .unwrap()
        .checkpoint
        .unwrap();
    let values: Vec<String> = (1..=20).map(|i| format!("({i})")).collect();
    c.sql(&format!("INSERT INTO t VALUES {}", values.join(",")))
        .await;

    let mut child = c.cli_paused_at("after_publish");
    child.kill().unwrap(); // SIGKILL: no destructor, no checkpoint, no lease release
    child.wait().unwrap();
    let killed = Instant::now();

    assert_eq!(
        read_topic(s.kafka(), &c.topic("t")).await.len(),
        20,
        "published before the crash"
    );
    let after = c
        .file_store()
        .load()
        .await
        .unwrap()
        .unwrap()
        .checkpoint
        .unwrap();
    assert_eq!(after, before, "the crash happened before the checkpoint");

    // The dead poller's short lease expires; then the next poll re-delivers
    // (issue 13, finding 7: within LEASE_TTL, not the dead poll's budget).
    let summary = c
        .poll_once_the_lease_is_free(killed, LEASE_TTL + Duration::from_secs(5))
        .await;
    eprintln!(
        "a dead poller blocked the next one for {:?}",
        killed.elapsed()
    );
    assert_eq!(summary.events, 20);
    let recs = read_topic(s.kafka(), &c.topic("t")).await;
    assert_eq!(recs.len(), 40, "20 originals and 20 re-deliveries");
    let mut ids: Vec<i64> = recs
        .iter()
        .map(|r| r.row_field("id").as_i64().unwrap())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids, (1..=20).collect::<Vec<_>>());
}

/// A private broker this test may stop and start.
struct Broker {
    child: std::process::Child,
}

impl Broker {
    fn start(s: &Services, port: u16) -> Self {
        let url = format!("tcp://127.0.0.1:{port}");
        let child = Command::new(s.var("BP_TANSU_BIN"))
            .args([
                "broker",
                "--storage-engine",
                "memory://tansu/",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_for_port(port, "private broker", Duration::from_secs(20));
        Self { child }
    }

    fn stop(mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.child.kill().ok();
    }
}

async fn broker_down_fails_within_budget_and_loses_nothing(s: &Services, db: &Db) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let broker = Broker::start(s, port);
    let mut c = Connector::new(s, db, "down")
        .await
        .with("poll.max.duration.ms", "8000")
        .with("kafka.request.timeout.ms", "2000");
    c.kafka = format!("127.0.0.1:{port}");
    c.sql("CREATE TABLE t (id INT PRIMARY KEY)").await;
    c.poll().await;
    c.sql("INSERT INTO t VALUES (1),(2),(3)").await;
    assert_eq!(c.poll().await.events, 3);
    let before = c
        .file_store()
        .load()
        .await
        .unwrap()
        .unwrap()
        .checkpoint
        .unwrap();

    broker.stop();
    c.sql("INSERT INTO t VALUES (4),(5),(6)").await;
    let config = c.config();
    let store = AnyStore::open(&config).await.unwrap();
    let started = Instant::now();
    let err = poll_once(&config, &store, Instant::now() + config.poll_max_duration)
        .await
        .expect_err("the broker is down");
    let took = started.elapsed();
    let msg = err.to_string();
    assert!(msg.contains(&c.kafka), "error names the broker: {msg}");
    assert!(err.is_retryable(), "{msg}");
    assert!(
        took < config.poll_max_duration + Duration::from_secs(2),
        "took {took:?}"
    );
    let after = c
        .file_store()
        .load()
        .await
        .unwrap()
        .unwrap()
        .checkpoint
        .unwrap();
    assert_eq!(
        after, before,
        "nothing checkpointed while the broker was down"
    );

    let _broker = Broker::start(s, port);
    // The failed poll released its lease; the next one delivers everything.
    let summary = c.poll().await;
    assert_eq!(summary.events, 3);
    let recs = read_topic(&c.kafka, &c.topic("t")).await;
    let ids: Vec<i64> = recs
        .iter()
        .map(|r| r.row_field("id").as_i64().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![4, 5, 6],
        "the new (memory) broker has exactly the rows written while it was down"
    );
}

async fn bad_config_is_reported_with_the_key_or_server(s: &Services, db: &Db) {
    let c = Connector::new(s, db, "badcfg").await;
    let run = |c: &Connector| c.cli(&["run", "--once"], &[]);
    let stderr = |o: &std::process::Output| String::from_utf8_lossy(&o.stderr).to_string();

    let typo = c.clone().with("database.hostnme", "x");
    let o = run(&typo);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("did you mean \"database.hostname\""),
        "{}",
        stderr(&o)
    );

    let mut missing = c.clone();
    missing.db.host = String::new();
    let o = run(&missing);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("database.hostname: required"),
        "{}",
        stderr(&o)
    );

    let wrong_port = c.clone().with("database.port", "1");
    let o = run(&wrong_port);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("127.0.0.1:1"),
        "names the server: {}",
        stderr(&o)
    );

    let bad_pw = c.clone().with("database.password", "wrong-password");
    let o = run(&bad_pw);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.contains(&format!("127.0.0.1:{}", db.port)) && e.contains("Access denied"),
        "{e}"
    );
    assert!(
        !e.contains("wrong-password"),
        "the password must never be printed: {e}"
    );
}

async fn compressed_batches_read_back_with_both_clients(s: &Services, db: &Db) {
    for codec in ["gzip", "snappy", "lz4", "zstd"] {
        let c = Connector::new(s, db, &format!("comp_{codec}"))
            .await
            .with("kafka.compression.type", codec);
        c.sql("CREATE TABLE t (id INT PRIMARY KEY, v TEXT)").await;
        c.poll().await;
        c.sql("INSERT INTO t VALUES (1, REPEAT('a', 5000)), (2, REPEAT('b', 5000))")
            .await;
        assert_eq!(c.poll().await.events, 2);
        let recs = read_topic(s.kafka(), &c.topic("t")).await;
        assert_eq!(recs.len(), 2, "{codec}");
        assert_eq!(
            recs[1].row_field("v").as_str().unwrap().len(),
            5000,
            "{codec}"
        );
        assert_eq!(
            read_with_confluent(s, &c.topic("t")).len(),
            2,
            "{codec} via librdkafka"
        );
    }
}

async fn sigterm_finishes_the_batch_checkpoints_and_exits_zero(s: &Services, db: &Db) {
    let c = Connector::new(s, db, "sigterm")
        .await
        .with("poll.interval.ms", "200");
    c.sql("CREATE TABLE t (id INT PRIMARY KEY)").await;
    let child = Command::new(env!("CARGO_BIN_EXE_binlog-poller"))
        .args(["run", "--config"])
        .arg(c.config_file())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // Two polls that publish (an idle poll prints no summary line): wait
    // for each batch on the topic, then ask politely.
    let until = Instant::now() + Duration::from_secs(20);
    for (sql, total) in [
        ("INSERT INTO t VALUES (1),(2)", 2),
        ("INSERT INTO t VALUES (3)", 3),
    ] {
        c.sql(sql).await;
        while read_topic(s.kafka(), &c.topic("t")).await.len() < total {
            assert!(Instant::now() < until, "the running poller never published");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "exit 0 on SIGTERM");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let summaries = stdout.lines().filter(|l| l.starts_with('{')).count();
    assert!(
        summaries >= 2,
        "one summary line per poll that published:\n{stdout}"
    );
    let cp = c
        .file_store()
        .load()
        .await
        .unwrap()
        .unwrap()
        .checkpoint
        .unwrap();
    assert!(cp.transaction.is_none());
    c.sql("INSERT INTO t VALUES (4)").await;
    assert_eq!(
        c.poll().await.events,
        1,
        "resumes after the rows the stopped poller published"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_names_missing_grants_and_passes_with_them() {
    let Some(s) = Services::get() else { return };
    for flavor in [Flavor::MariaDb, Flavor::MySql] {
        let db = s.server(flavor);
        let user = unique("lim");
        db.exec(&format!(
            "CREATE USER '{user}'@'%' IDENTIFIED BY 'lim-pass'; GRANT SELECT, LOCK TABLES, REPLICATION SLAVE ON *.* TO '{user}'@'%'"
        ))
        .await;
        let mut limited = Connector::new(&s, &db, "validate").await;
        limited.db.user = user.clone();
        limited.db.password = "lim-pass".into();
        let out = limited.cli(&["validate"], &[]);
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert_eq!(out.status.code(), Some(1), "{text}");
        // One line per check; what fails is the missing grant (MariaDB:
        // BINLOG MONITOR): the privileges line and the binlog position.
        let failed: Vec<&str> = text.lines().filter(|l| l.starts_with("FAIL")).collect();
        let p = match flavor {
            Flavor::MariaDb => "BINLOG MONITOR",
            Flavor::MySql => "REPLICATION CLIENT",
        };
        let grant = format!("GRANT {p} ON *.* TO '{user}'@'%';");
        assert!(
            failed.iter().any(|l| l.starts_with("FAIL privileges")
                && l.contains(&format!("missing {p}; run: {grant}"))),
            "names the missing grant and prints the exact GRANT: {text}"
        );
        assert!(
            failed.iter().all(|l| l.starts_with("FAIL privileges")
                || (l.starts_with("FAIL binlog settings") && l.contains(&grant))),
            "{text}"
        );
        for check in [
            "mysql tls",
            "mysql auth",
            "binlog retention",
            "kafka tls",
            "kafka topic creation",
            "offset store",
        ] {
            assert!(
                text.lines().any(|l| l[5..].starts_with(check)),
                "no {check} line: {text}"
            );
        }
        db.exec(&format!("GRANT REPLICATION CLIENT ON *.* TO '{user}'@'%'"))
            .await;
        let out = limited.cli(&["validate"], &[]);
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert_ok(&out);
        assert!(text.lines().all(|l| l.starts_with("ok")), "{text}");
        // Those grants are enough for a snapshot and streaming: no RELOAD, no SUPER.
        db.exec(&format!(
            "CREATE TABLE {}.t (id INT PRIMARY KEY); INSERT INTO {}.t VALUES (1),(2),(3)",
            limited.database, limited.database
        ))
        .await;
        let snap = limited.clone().with("snapshot.mode", "initial");
        let out = snap.cli(&["run", "--once"], &[]);
        assert_ok(&out);
        assert_eq!(summary_of(&out)["snapshot_rows"], 3);
        db.exec(&format!("DROP USER '{user}'@'%'")).await;
    }
}

async fn heartbeats_while_captured_tables_are_quiet(s: &Services, db: &Db) {
    let c = Connector::new(s, db, "heartbeat")
        .await
        .with("heartbeat.interval.ms", "1");
    let c = c
        .clone()
        .with("table.include.list", &format!("{}\\.quiet", c.database));
    c.sql("CREATE TABLE quiet (id INT PRIMARY KEY); CREATE TABLE busy (id INT PRIMARY KEY)")
        .await;
    c.poll().await;
    let before = c
        .file_store()
        .load()
        .await
        .unwrap()
        .unwrap()
        .checkpoint
        .unwrap();
    let values: Vec<String> = (1..=200).map(|i| format!("({i})")).collect();
    c.sql(&format!("INSERT INTO busy VALUES {}", values.join(",")))
        .await;
    let sm = c.poll().await;
    assert_eq!(sm.events, 0, "busy is not captured");
    assert!(sm.heartbeats >= 1, "{sm:?}");
    let after = c
        .file_store()
        .load()
        .await
        .unwrap()
        .unwrap()
        .checkpoint
        .unwrap();
    assert!(
        after.position > before.position,
        "the offset moves past filtered traffic"
    );
    let hb = read_topic(s.kafka(), &format!("__debezium-heartbeat.{}", c.prefix)).await;
    assert!(!hb.is_empty());
    let last = hb.last().unwrap();
    assert_eq!(
        last.key_json().unwrap()["payload"],
        json!({"serverName": c.prefix})
    );
    assert_eq!(
        last.value.as_ref().unwrap()["schema"]["name"],
        "io.debezium.connector.common.Heartbeat"
    );
    assert!(last.payload().unwrap()["ts_ms"].as_i64().unwrap() > 1_700_000_000_000);
}

/// Issue 13, finding 3: inside a compressed transaction
/// (`binlog_transaction_compression=ON`, MySQL only) every row change keeps
/// distinct, increasing `(source.file, source.pos, source.row)` coordinates,
/// the ones consumers de-duplicate by.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_compressed_transactions_keep_distinct_coordinates() {
    let Some(s) = Services::get() else { return };
    let db = s.server(Flavor::MySql);
    let c = Connector::new(&s, &db, "compressed_tx").await;
    c.sql("CREATE TABLE t (id INT PRIMARY KEY, v INT)").await;
    c.poll().await;
    c.sql(
        "SET SESSION binlog_transaction_compression = ON; START TRANSACTION; \
         INSERT INTO t VALUES (1, 1), (2, 2); UPDATE t SET v = 3 WHERE id = 1; \
         INSERT INTO t VALUES (3, 3); DELETE FROM t WHERE id = 2; COMMIT",
    )
    .await;
    assert_eq!(c.poll().await.events, 5);
    let recs = read_topic(s.kafka(), &c.topic("t")).await;
    let changes: Vec<&Value> = recs.iter().filter_map(Rec::payload).collect();
    let ops: Vec<&str> = changes.iter().map(|p| p["op"].as_str().unwrap()).collect();
    assert_eq!(ops, ["c", "c", "u", "c", "d"]);
    let coordinates: Vec<(String, u64, u64)> = changes
        .iter()
        .map(|p| {
            let src = &p["source"];
            (
                src["file"].as_str().unwrap().to_string(),
                src["pos"].as_u64().unwrap(),
                src["row"].as_u64().unwrap(),
            )
        })
        .collect();
    let mut sorted = coordinates.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(
        sorted, coordinates,
        "distinct and increasing: {coordinates:?}"
    );
}

/// Issue 13, finding 6: a broker that accepts connections and never
/// answers fails the poll within the poll's budget (3 s here), not within
/// `kafka.request.timeout.ms` (30 s by default), and checkpoints nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_broker_fails_within_the_poll_budget() {
    let Some(s) = Services::get() else { return };
    let db = s.server(Flavor::MariaDb);
    // Accepts TCP connections (the kernel's backlog) and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut c = Connector::new(&s, &db, "silent")
        .await
        .with("poll.max.duration.ms", "3000");
    c.sql("CREATE TABLE t (id INT PRIMARY KEY)").await;
    c.poll().await;
    let before = c.file_store().load().await.unwrap().unwrap().checkpoint;
    c.sql("INSERT INTO t VALUES (1)").await;
    c.kafka = silent.local_addr().unwrap().to_string();
    let config = c.config();
    let store = AnyStore::open(&config).await.unwrap();
    let started = Instant::now();
    let err = poll_once(&config, &store, Instant::now() + config.poll_max_duration)
        .await
        .expect_err("the broker never answers");
    let took = started.elapsed();
    assert!(err.is_retryable(), "{err}");
    assert!(
        took < config.poll_max_duration + Duration::from_millis(1500),
        "took {took:?} for a {:?} budget: {err}",
        config.poll_max_duration
    );
    let after = c.file_store().load().await.unwrap().unwrap().checkpoint;
    assert_eq!(after, before, "nothing checkpointed");
}
