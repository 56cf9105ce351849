//! Shared helpers for integration tests against the real servers started by
//! `scripts/dev-services.sh up` (addresses in `target/dev-services.env`).
//!
//! When the servers are not running a test prints why and returns early,
//! unless `BP_REQUIRE_SERVICES=1` (set by `scripts/test.sh` and CI), where a
//! missing server is a failure.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use binlog_poller::offsets::{AnyStore, FileStore};
use binlog_poller::pipeline::{poll_once, PollStatus, PollSummary};
use binlog_poller::Config;
use mysql_async::prelude::Queryable;
use rskafka::client::partition::UnknownTopicHandling;
use rskafka::client::ClientBuilder;
use serde_json::Value;

/// The workspace root (this file also serves `functions/poller`'s tests,
/// whose manifest dir is two levels down).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .find(|d| d.join("scripts/dev-services.sh").exists())
        .expect("the workspace root holds scripts/dev-services.sh")
        .to_path_buf()
}

/// Addresses of the running dev services.
#[derive(Debug, Clone)]
pub struct Services {
    pub vars: HashMap<String, String>,
}

impl Services {
    /// Loads `target/dev-services.env`; `None` (test skipped) when the
    /// services are not running and `BP_REQUIRE_SERVICES` is not set.
    pub fn get() -> Option<Self> {
        let path = workspace_root().join("target/dev-services.env");
        let required = std::env::var("BP_REQUIRE_SERVICES").is_ok_and(|v| v == "1");
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                if required {
                    panic!("BP_REQUIRE_SERVICES=1 but {} is missing ({e}); run scripts/dev-services.sh up", path.display());
                }
                eprintln!("skipping: dev services not running (run scripts/dev-services.sh up)");
                return None;
            }
        };
        let vars: HashMap<String, String> = text
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        let s = Self { vars };
        // The env file may be stale: check the broker answers.
        let kafka = s.kafka().to_string();
        if std::net::TcpStream::connect_timeout(
            &kafka.parse().expect("kafka addr"),
            Duration::from_secs(2),
        )
        .is_err()
        {
            if required {
                panic!("BP_REQUIRE_SERVICES=1 but the broker at {kafka} is down; run scripts/dev-services.sh up");
            }
            eprintln!("skipping: dev services not running (run scripts/dev-services.sh up)");
            return None;
        }
        for (k, v) in &s.vars {
            if k.starts_with("AWS_") {
                std::env::set_var(k, v);
            }
        }
        Some(s)
    }

    pub fn var(&self, k: &str) -> &str {
        self.vars
            .get(k)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("{k} missing from dev-services.env"))
    }

    pub fn kafka(&self) -> &str {
        self.var("BP_KAFKA_BOOTSTRAP")
    }

    pub fn aws(&self) -> &str {
        self.var("BP_AWS_ENDPOINT")
    }

    pub fn python(&self) -> &str {
        self.var("BP_PYTHON")
    }

    pub fn server(&self, flavor: Flavor) -> Db {
        let url = match flavor {
            Flavor::MariaDb => self.var("BP_MARIADB_URL"),
            Flavor::MySql => self.var("BP_MYSQL_URL"),
        };
        Db::parse(url, flavor)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    MariaDb,
    MySql,
}

/// A database server and its credentials.
#[derive(Debug, Clone)]
pub struct Db {
    pub flavor: Flavor,
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
}

impl Db {
    fn parse(url: &str, flavor: Flavor) -> Self {
        let rest = url.strip_prefix("mysql://").expect("mysql:// url");
        let (cred, hostport) = rest.split_once('@').expect("user@host");
        let (user, password) = cred.split_once(':').expect("user:pass");
        let (host, port) = hostport.split_once(':').expect("host:port");
        Self {
            flavor,
            host: host.into(),
            port: port.parse().expect("port"),
            user: user.into(),
            password: password.into(),
        }
    }

    pub fn opts(&self) -> mysql_async::Opts {
        mysql_async::OptsBuilder::default()
            .ip_or_hostname(self.host.clone())
            .tcp_port(self.port)
            .user(Some(self.user.clone()))
            .pass(Some(self.password.clone()))
            .prefer_socket(false)
            .into()
    }

    pub async fn conn(&self) -> mysql_async::Conn {
        mysql_async::Conn::new(self.opts())
            .await
            .expect("connect to test database")
    }

    /// Runs statements separated by `;` on one connection.
    pub async fn exec(&self, sql: &str) {
        let mut c = self.conn().await;
        c.query_drop(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        c.disconnect().await.ok();
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A unique lower-case name for databases, topics, connectors.
pub fn unique(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        % 100_000_000;
    format!("{prefix}_{}_{t}_{n}", std::process::id())
}

/// A scratch directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join("binlog-poller-tests").join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// One connector under test: its database, topic prefix and config.
#[derive(Debug, Clone)]
pub struct Connector {
    pub db: Db,
    pub database: String,
    pub prefix: String,
    pub name: String,
    pub dir: PathBuf,
    pub settings: Vec<(String, String)>,
    /// Keys left out of the config (even the base ones).
    pub removed: Vec<String>,
    pub kafka: String,
}

impl Connector {
    /// A fresh database `<name>` on `db` and a connector capturing it,
    /// starting at the current end of the binlog, offsets in a file.
    pub async fn new(services: &Services, db: &Db, name: &str) -> Self {
        let tag = match db.flavor {
            Flavor::MariaDb => "maria",
            Flavor::MySql => "mysql",
        };
        let database = unique(&format!("{name}_{tag}"));
        db.exec(&format!("CREATE DATABASE {database}")).await;
        let dir = scratch(&database);
        let c = Self {
            db: db.clone(),
            prefix: database.replace('_', "-"),
            name: database.clone(),
            database,
            dir,
            settings: Vec::new(),
            removed: Vec::new(),
            kafka: services.kafka().to_string(),
        };
        // Tests share the servers and run in parallel: by Debezium's default every
        // database's DDL (and, in an initial snapshot, every database's schema)
        // would reach each connector's schema change topic, so what a test sees
        // would depend on the others. A test of that default sets it back.
        c.with("poll.max.duration.ms", "30000").with(
            "schema.history.internal.store.only.captured.tables.ddl",
            "true",
        )
    }

    pub fn with(mut self, k: &str, v: &str) -> Self {
        self.settings.retain(|(key, _)| key != k);
        self.removed.retain(|key| key != k);
        self.settings.push((k.into(), v.into()));
        self
    }

    /// The config without `k` (a base key such as `database.hostname` too).
    pub fn without(mut self, k: &str) -> Self {
        self.settings.retain(|(key, _)| key != k);
        self.removed.push(k.into());
        self
    }

    pub fn json(&self) -> String {
        let mut cfg = serde_json::Map::new();
        let base = [
            (
                "connector.class",
                "io.debezium.connector.mysql.MySqlConnector".to_string(),
            ),
            ("database.hostname", self.db.host.clone()),
            ("database.port", self.db.port.to_string()),
            ("database.user", self.db.user.clone()),
            ("database.password", self.db.password.clone()),
            ("topic.prefix", self.prefix.clone()),
            ("database.include.list", self.database.clone()),
            ("snapshot.mode", "never".into()),
            ("kafka.bootstrap.servers", self.kafka.clone()),
            ("kafka.request.timeout.ms", "10000".into()),
            ("offset.storage", "file".into()),
            (
                "offset.storage.file.filename",
                self.dir.join("offsets.json").display().to_string(),
            ),
        ];
        for (k, v) in base {
            cfg.insert(k.into(), v.into());
        }
        for (k, v) in &self.settings {
            cfg.insert(k.clone(), v.clone().into());
        }
        for k in &self.removed {
            cfg.remove(k);
        }
        serde_json::json!({"name": self.name, "config": cfg}).to_string()
    }

    pub fn config(&self) -> Config {
        Config::from_json(&self.json(), |_| None).expect("valid test config")
    }

    pub fn config_file(&self) -> PathBuf {
        let p = self.dir.join("connector.json");
        std::fs::write(&p, self.json()).unwrap();
        p
    }

    pub async fn sql(&self, sql: &str) {
        self.db.exec(&format!("USE {}; {sql}", self.database)).await;
    }

    /// One in-process poll.
    pub async fn poll(&self) -> PollSummary {
        let config = self.config();
        let store = AnyStore::open(&config).await.expect("offset store");
        poll_once(&config, &store, Instant::now() + config.poll_max_duration)
            .await
            .unwrap_or_else(|e| panic!("poll failed: {e}"))
    }

    /// Polls until the binlog is drained and no transaction is partial.
    pub async fn poll_until_caught_up(&self) -> Vec<PollSummary> {
        let mut out = Vec::new();
        loop {
            let s = self.poll().await;
            let done = s.caught_up && !s.partial_transaction;
            out.push(s);
            if done || out.len() > 200 {
                return out;
            }
        }
    }

    pub fn file_store(&self) -> FileStore {
        FileStore::new(self.dir.join("offsets.json"), &self.name)
    }

    pub fn topic(&self, table: &str) -> String {
        format!("{}.{}.{}", self.prefix, self.database, table)
    }

    /// Runs the CLI with this connector's config file.
    pub fn cli(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let cfg = self.config_file();
        let mut cmd = Command::new(cli_binary());
        cmd.args(args).arg("--config").arg(&cfg);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().expect("run binlog-poller")
    }

    /// Starts `run --once` with `BINLOG_POLLER_FAULT=pause:<point>` and
    /// returns once the poll sits at that point (Kafka acknowledged, nothing
    /// checkpointed), for the test to kill or freeze it there.
    pub fn cli_paused_at(&self, point: &str) -> std::process::Child {
        let mut child = Command::new(cli_binary())
            .args(["run", "--once", "--config"])
            .arg(self.config_file())
            .env("BINLOG_POLLER_FAULT", format!("pause:{point}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let reached = std::io::BufRead::lines(std::io::BufReader::new(stderr)).any(|l| {
            l.unwrap()
                .contains(&format!("fault point reached: {point}"))
        });
        assert!(reached, "the poll never reached the fault point {point}");
        child
    }

    /// Polls until one runs (a dead or frozen poller's lease expired), which
    /// must happen within `limit` of `since`.
    pub async fn poll_once_the_lease_is_free(
        &self,
        since: Instant,
        limit: Duration,
    ) -> PollSummary {
        loop {
            let sm = self.poll().await;
            if sm.status == PollStatus::Ok {
                return sm;
            }
            assert!(since.elapsed() < limit, "the lease never expired: {sm:?}");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}

/// The CLI binary. Cargo sets the variable for the root crate's tests
/// only; this file also serves `functions/poller`'s, which never run it.
pub fn cli_binary() -> &'static str {
    let Some(bin) = option_env!("CARGO_BIN_EXE_binlog-poller") else {
        panic!("the CLI is built for the root crate's integration tests only")
    };
    bin
}

/// A record read back from Kafka.
#[derive(Debug, Clone)]
pub struct Rec {
    pub partition: i32,
    pub offset: i64,
    pub key: Option<Vec<u8>>,
    pub value: Option<Value>,
}

impl Rec {
    /// The envelope payload (works with and without schemas).
    pub fn payload(&self) -> Option<&Value> {
        self.value.as_ref().map(|v| v.get("payload").unwrap_or(v))
    }

    pub fn op(&self) -> Option<&str> {
        self.payload().and_then(|p| p["op"].as_str())
    }

    pub fn key_json(&self) -> Option<Value> {
        self.key
            .as_ref()
            .map(|k| serde_json::from_slice(k).unwrap())
    }

    /// `after.<col>` or, for deletes, `before.<col>`.
    pub fn row_field(&self, col: &str) -> Value {
        let p = self.payload().expect("not a tombstone");
        if p["after"].is_null() {
            p["before"][col].clone()
        } else {
            p["after"][col].clone()
        }
    }
}

/// Reads every record of `topic` with rskafka, partitions in order.
pub async fn read_topic(bootstrap: &str, topic: &str) -> Vec<Rec> {
    read_topic_raw(bootstrap, topic)
        .await
        .into_iter()
        .map(|r| Rec {
            partition: r.partition,
            offset: r.offset,
            key: r.key,
            value: r
                .value
                .map(|v| serde_json::from_slice(&v).expect("value is JSON")),
        })
        .collect()
}

/// A record read back from Kafka, its value as the bytes on the topic.
#[derive(Debug, Clone)]
pub struct RawRec {
    pub partition: i32,
    pub offset: i64,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub headers: std::collections::BTreeMap<String, Vec<u8>>,
}

/// The names of the topics `prefix` and `prefix.*`.
pub async fn topics_with_prefix(bootstrap: &str, prefix: &str) -> Vec<String> {
    let client = ClientBuilder::new(vec![bootstrap.to_string()])
        .build()
        .await
        .expect("kafka client");
    let dotted = format!("{prefix}.");
    let mut names: Vec<String> = client
        .list_topics()
        .await
        .expect("list topics")
        .into_iter()
        .map(|t| t.name)
        .filter(|n| n == prefix || n.starts_with(&dotted))
        .collect();
    names.sort();
    names
}

/// Reads every record of `topic` as bytes with rskafka, partitions in order,
/// up to the high watermark (an empty answer below it is retried, not taken
/// for the end).
pub async fn read_topic_raw(bootstrap: &str, topic: &str) -> Vec<RawRec> {
    let client = ClientBuilder::new(vec![bootstrap.to_string()])
        .build()
        .await
        .expect("kafka client");
    let topics = client.list_topics().await.expect("list topics");
    let Some(t) = topics.iter().find(|t| t.name == topic) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for &p in &t.partitions {
        let pc = client
            .partition_client(topic.to_string(), p, UnknownTopicHandling::Retry)
            .await
            .expect("partition client");
        let mut offset = 0i64;
        let mut empty_fetches = 0;
        loop {
            let (records, high_watermark) = pc
                .fetch_records(offset, 1..50_000_000, 500)
                .await
                .expect("fetch");
            // An empty answer below the high watermark may be the broker
            // still writing a batch it has counted: asked again, not taken
            // for the end. Empty for two seconds, it is a hole at the end (a
            // produce cut off with its client, never acknowledged).
            if records.is_empty() && offset < high_watermark {
                empty_fetches += 1;
                if empty_fetches < 20 {
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
                eprintln!("{topic}/{p}: no records from offset {offset} to the high watermark {high_watermark}");
                break;
            }
            empty_fetches = 0;
            for r in &records {
                // No compaction or transactions here, but a produce the
                // broker dropped half-way (its client killed) may leave a
                // hole of offsets nobody was acknowledged: worth a note,
                // not a failure.
                if r.offset != offset {
                    eprintln!("{topic}/{p}: no records at offsets {offset}..{}", r.offset);
                }
                out.push(RawRec {
                    partition: p,
                    offset: r.offset,
                    key: r.record.key.clone(),
                    value: r.record.value.clone(),
                    headers: r.record.headers.clone(),
                });
                offset = r.offset + 1;
            }
            if offset >= high_watermark || records.is_empty() {
                break;
            }
        }
    }
    out
}

/// Reads `prefix*` topics with the independent Python client (librdkafka).
pub fn read_with_confluent(services: &Services, prefix: &str) -> Vec<Value> {
    read_with_confluent_from(services, services.kafka(), prefix, &[])
}

/// As [`read_with_confluent`] from `bootstrap`, with extra librdkafka
/// settings (`security.protocol=SSL`, ...).
pub fn read_with_confluent_from(
    services: &Services,
    bootstrap: &str,
    prefix: &str,
    settings: &[String],
) -> Vec<Value> {
    let script = workspace_root().join("scripts/kafka_read.py");
    run_ok(
        Command::new(services.python())
            .arg(script)
            .args(["--bootstrap", bootstrap, "--topic-prefix", prefix])
            .args(settings.iter().flat_map(|s| ["--config", s.as_str()])),
        "kafka_read.py",
    )
    .lines()
    .map(|l| serde_json::from_str(l).unwrap())
    .collect()
}

pub fn openssl(dir: &Path, args: &[&str]) {
    run_ok(
        Command::new("openssl").args(args).current_dir(dir),
        &format!("openssl {args:?}"),
    );
}

/// Runs a helper program to completion and returns its stdout; panics with
/// its stderr, naming `what`, when it cannot start or fails.
#[track_caller]
pub fn run_ok(cmd: &mut Command, what: &str) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// Asserts that a CLI run succeeded, showing both its streams when not.
#[track_caller]
pub fn assert_ok(out: &Output) {
    assert!(
        out.status.success(),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA, a server certificate it signs for `localhost` only, and an
/// unrelated CA.
pub fn make_certs(dir: &Path) {
    let days = ["-days", "2"];
    let self_signed_ca = |key: &str, pem: &str, cn: &str| {
        let subject = format!("/CN={cn}");
        openssl(
            dir,
            &[
                &[
                    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", pem,
                    "-subj", &subject,
                ][..],
                &days,
            ]
            .concat(),
        );
    };
    self_signed_ca("ca.key", "ca.pem", "binlog-poller test CA");
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ],
    );
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "server.pem",
                "-extfile",
                "ext.cnf",
            ][..],
            &days,
        ]
        .concat(),
    );
    self_signed_ca("other.key", "other-ca.pem", "some other CA");
}

/// Child processes a test started, killed when the test ends, however it
/// ends.
pub struct Procs(pub Vec<std::process::Child>);

impl Drop for Procs {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Procs {
    /// Stops the most recently started process.
    pub fn stop_last(&mut self) {
        if let Some(mut c) = self.0.pop() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Waits until something listens on loopback `port`, failing the test
/// after `limit`; `what` names the server in the failure.
pub fn wait_for_port(port: u16, what: &str, limit: Duration) {
    let deadline = Instant::now() + limit;
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "{what} did not listen on {port}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A TCP port free on loopback right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Parses the summary JSON line a CLI run printed.
pub fn summary_of(out: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| {
            panic!(
                "no summary line; stdout: {stdout}\nstderr: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    serde_json::from_str(line).unwrap()
}

/// Defines a MariaDB and a MySQL variant of an async test case
/// `async fn case(services: &Services, db: &Db)`.
#[macro_export]
macro_rules! on_both_servers {
    ($($case:ident),* $(,)?) => {
        mod mariadb {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let Some(s) = $crate::common::Services::get() else { return };
                    let db = s.server($crate::common::Flavor::MariaDb);
                    super::$case(&s, &db).await;
                }
            )*
        }
        mod mysql {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let Some(s) = $crate::common::Services::get() else { return };
                    let db = s.server($crate::common::Flavor::MySql);
                    super::$case(&s, &db).await;
                }
            )*
        }
    };
}
