//! Kafka over TLS and SASL/SCRAM against a real broker.
//!
//! tansu 0.6 accepts `--cert/--key` but does not serve TLS with them, so
//! TLS is terminated by `socat` (OpenSSL) in front of a private tansu that
//! advertises the TLS port: every broker connection, bootstrap and after,
//! goes through TLS. SCRAM users live in tansu's SQLite storage (its memory
//! storage keeps no users): the broker first runs open to create them, then
//! restarts with `--authentication` on the same database. Records are read
//! back by librdkafka (confluent-kafka) with the same TLS and SCRAM
//! settings, an implementation independent of ours.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use binlog_poller::offsets::AnyStore;
use binlog_poller::pipeline::poll_once;
use common::*;

fn tansu(s: &Services, dir: &Path, port: u16, tls_port: u16, auth: bool) -> Child {
    let log = std::fs::File::create(dir.join(format!("tansu-{auth}.log"))).unwrap();
    let mut cmd = Command::new(s.var("BP_TANSU_BIN"));
    cmd.args(["broker", "--silent"])
        .arg("--listener-url")
        .arg(format!("tcp://127.0.0.1:{port}"))
        .arg("--advertised-listener-url")
        .arg(format!("tcp://localhost:{tls_port}"))
        // tansu resolves the SQLite path against its working directory.
        .args(["--storage-engine", "sqlite://tansu.db"])
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(log);
    if auth {
        cmd.arg("--authentication");
    }
    let child = cmd.spawn().expect("start tansu");
    wait_for_port(port, "tansu", Duration::from_secs(30));
    child
}

fn socat(dir: &Path, tls_port: u16, port: u16) -> Child {
    let child = Command::new("socat")
        .arg(format!(
            "OPENSSL-LISTEN:{tls_port},bind=127.0.0.1,reuseaddr,fork,cert={},key={},verify=0",
            dir.join("server.pem").display(),
            dir.join("server.key").display()
        ))
        .arg(format!("TCP:127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("socat on PATH");
    wait_for_port(tls_port, "socat", Duration::from_secs(30));
    child
}

fn create_user(s: &Services, port: u16, mechanism: &str, user: &str, password: &str) {
    run_ok(
        Command::new(s.var("BP_TANSU_BIN"))
            .args(["user", "create", "--broker"])
            .arg(format!("tcp://127.0.0.1:{port}"))
            .args(["--mechanism", mechanism, user, password]),
        "tansu user create",
    );
}

async fn poll(c: &Connector) -> Result<binlog_poller::pipeline::PollSummary, binlog_poller::Error> {
    let config = c.config();
    let store = AnyStore::open(&config).await.unwrap();
    poll_once(&config, &store, Instant::now() + config.poll_max_duration).await
}

/// A poll that must fail within 8 s (the connector's request timeout is
/// 3 s); its error text.
async fn fails_fast(c: &Connector, what: &str) -> String {
    let started = Instant::now();
    let err = poll(c)
        .await
        .expect_err(&format!("{what} must fail"))
        .to_string();
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{what}: took {:?}",
        started.elapsed()
    );
    err
}

fn ca(dir: &Path, name: &str) -> String {
    dir.join(name).display().to_string()
}

/// librdkafka's reading of `c`'s topics with `settings`.
fn read_back(s: &Services, c: &Connector, settings: &[String]) -> Vec<serde_json::Value> {
    read_with_confluent_from(s, &c.kafka, &format!("{}.", c.prefix), settings)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_over_tls_and_scram_publishes_and_refuses_bad_credentials() {
    let Some(s) = Services::get() else { return };
    let dir: PathBuf = scratch("kafka-security");
    make_certs(&dir);
    let (port, tls_port) = (free_port(), free_port());
    let mut procs = Procs(Vec::new());
    procs.0.push(socat(&dir, tls_port, port));
    procs.0.push(tansu(&s, &dir, port, tls_port, false));

    let db = s.server(Flavor::MariaDb);
    let mut c = Connector::new(&s, &db, "kafkasec").await;
    c.kafka = format!("localhost:{tls_port}");
    c.sql("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20))")
        .await;

    // SSL: TLS with the test CA, no SASL.
    let c = c
        .with("kafka.security.protocol", "SSL")
        .with("kafka.ssl.ca", &ca(&dir, "ca.pem"))
        .with("kafka.request.timeout.ms", "3000");
    // A new connector starts at the end of the binlog.
    poll(&c).await.expect("first poll over TLS");
    c.sql("INSERT INTO t VALUES (1, 'tls')").await;
    let summary = poll(&c).await.expect("poll over TLS");
    assert_eq!(summary.events, 1, "{summary:?}");
    let tls_settings = vec![
        "security.protocol=SSL".to_string(),
        format!("ssl.ca.location={}", ca(&dir, "ca.pem")),
    ];
    let got = read_back(&s, &c, &tls_settings);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["value"]["payload"]["after"]["v"], "tls");

    // A CA that did not sign the broker's certificate fails clearly.
    let wrong_ca = c.clone().with("kafka.ssl.ca", &ca(&dir, "other-ca.pem"));
    let err = fails_fast(&wrong_ca, "wrong CA").await;
    assert!(
        err.contains(&format!("localhost:{tls_port}")) && err.contains("kafka.ssl.ca"),
        "{err}"
    );

    // SCRAM users, then the broker again with authentication required.
    create_user(&s, port, "scram512", "alice", "alice-pw-512");
    create_user(&s, port, "scram256", "bob", "bob-pw-256");
    procs.stop_last();
    procs.0.push(tansu(&s, &dir, port, tls_port, true));

    for (mechanism, user, password) in [
        ("SCRAM-SHA-512", "alice", "alice-pw-512"),
        ("SCRAM-SHA-256", "bob", "bob-pw-256"),
    ] {
        let c = c
            .clone()
            .with("kafka.security.protocol", "SASL_SSL")
            .with("kafka.sasl.mechanism", mechanism)
            .with("kafka.sasl.username", user)
            .with("kafka.sasl.password", password);
        let id = if user == "alice" { 2 } else { 3 };
        c.sql(&format!("INSERT INTO t VALUES ({id}, '{mechanism}')"))
            .await;
        let summary = poll(&c)
            .await
            .unwrap_or_else(|e| panic!("{mechanism}: {e}"));
        assert_eq!(summary.events, 1, "{mechanism}: {summary:?}");

        // Wrong password: refused within the budget, naming broker and mechanism.
        let bad = c.clone().with("kafka.sasl.password", "not-the-password");
        let err = fails_fast(&bad, &format!("{mechanism} wrong password")).await;
        assert!(
            err.contains(&format!("localhost:{tls_port}"))
                && err.contains(mechanism)
                && err.contains("authentication failed")
                && !err.contains("not-the-password"),
            "{err}"
        );
    }

    // Everything published, read back by librdkafka logging in as alice.
    let mut scram = tls_settings.clone();
    scram[0] = "security.protocol=SASL_SSL".into();
    scram.extend([
        "sasl.mechanism=SCRAM-SHA-512".into(),
        "sasl.username=alice".into(),
        "sasl.password=alice-pw-512".into(),
    ]);
    let got: Vec<_> = read_back(&s, &c, &scram)
        .into_iter()
        .filter(|r| r["value"].is_object())
        .map(|r| {
            r["value"]["payload"]["after"]["v"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(got, ["tls", "SCRAM-SHA-512", "SCRAM-SHA-256"]);
}
