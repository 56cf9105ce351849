//! Differential test against the real Debezium 3.6 MySQL connector.
//!
//! Debezium's `MySqlConnector` (its jars, run by `scripts/debezium/DebeziumCapture.java`
//! under Java 17, both installed by `scripts/dev-services.sh`) and binlog-poller capture
//! the same MySQL 9.7 database: both snapshot the rows of `fixtures/parity/snapshot.sql`,
//! then both stream the changes of `fixtures/parity/stream.sql` (every type family, every
//! key shape, DEFAULTs, DDL). Every record is compared byte for byte, per topic and in
//! order: topic, key, value (schema and payload) and tombstones. Only the times of capture
//! (`ts_ms`, `ts_us`, `ts_ns`, in the envelope and in `source`) and `source.version` are
//! blanked before comparing. Each scenario runs one Debezium engine and one binlog-poller
//! connector with the same settings and topic prefix; the test prints `N/M records
//! identical` per scenario and fails on any difference not listed in [`DELIBERATE`] (the
//! list of deliberate differences in docs/event-format.md).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

/// One side-by-side run: connector keys both sides get, and the JsonConverter's settings
/// (Debezium's engine gets them as `converter.*`, binlog-poller as
/// `key.converter.*`/`value.converter.*`, as in a registration JSON).
struct Scenario {
    name: &'static str,
    connector: &'static [(&'static str, &'static str)],
    converter: &'static [(&'static str, &'static str)],
}

const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "default",
        connector: &[],
        converter: &[],
    },
    Scenario {
        name: "schemas_off",
        connector: &[("binary.handling.mode", "base64")],
        converter: &[("schemas.enable", "false")],
    },
    Scenario {
        name: "modes",
        connector: &[
            ("decimal.handling.mode", "string"),
            ("time.precision.mode", "connect"),
            ("bigint.unsigned.handling.mode", "precise"),
            ("binary.handling.mode", "hex"),
        ],
        converter: &[],
    },
    Scenario {
        name: "modes_double",
        connector: &[
            ("decimal.handling.mode", "double"),
            ("binary.handling.mode", "base64-url-safe"),
            (
                "schema.history.internal.store.only.captured.tables.ddl",
                "true",
            ),
        ],
        converter: &[],
    },
    // Single message transforms (issue 18): the same `transforms` keys on both sides.
    Scenario {
        name: "unwrap",
        connector: &[
            ("transforms", "unwrap"),
            (
                "transforms.unwrap.type",
                "io.debezium.transforms.ExtractNewRecordState",
            ),
            (
                "transforms.unwrap.add.fields",
                "op,table,source.file:binlog,id,lsn",
            ),
            ("transforms.unwrap.add.headers", "op,db,snapshot"),
        ],
        converter: &[],
    },
    Scenario {
        name: "unwrap_rewrite",
        connector: &[
            ("transforms", "unwrap"),
            (
                "transforms.unwrap.type",
                "io.debezium.transforms.ExtractNewRecordState",
            ),
            (
                "transforms.unwrap.delete.tombstone.handling.mode",
                "rewrite-with-tombstone",
            ),
            ("transforms.unwrap.add.fields", "op,source.pos"),
            ("transforms.unwrap.add.fields.prefix", "cdc_"),
            ("transforms.unwrap.add.headers", "op,snapshot"),
        ],
        converter: &[("schemas.enable", "false")],
    },
    Scenario {
        name: "unwrap_route",
        connector: &[
            ("transforms", "unwrap,route"),
            (
                "transforms.unwrap.type",
                "io.debezium.transforms.ExtractNewRecordState",
            ),
            (
                "transforms.unwrap.delete.tombstone.handling.mode",
                "delete-to-tombstone",
            ),
            ("transforms.unwrap.add.headers", "snapshot"),
            (
                "transforms.route.type",
                "org.apache.kafka.connect.transforms.RegexRouter",
            ),
            ("transforms.route.regex", "([^.]+)\\.([^.]+)\\.(.*)"),
            ("transforms.route.replacement", "$1.routed_$3"),
            ("transforms.route.predicate", "tomb"),
            ("transforms.route.negate", "true"),
            ("predicates", "tomb"),
            (
                "predicates.tomb.type",
                "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone",
            ),
        ],
        converter: &[],
    },
];

/// Differences kept on purpose, each listed with its reason in docs/event-format.md
/// ("Differences from Debezium"). A record that differs only in places some
/// rule covers counts as deliberate; any other difference fails the test.
struct Deliberate {
    /// Its name in docs/event-format.md.
    name: &'static str,
    /// Whether a difference at `path` (JSON path of the key or value, e.g.
    /// `value.schema.fields[after].fields[f].default`) of a record of `topic`
    /// is this one; `theirs`/`ours` are the values there (`None`: absent).
    covers: fn(topic: &str, path: &str, theirs: Option<&Value>, ours: Option<&Value>) -> bool,
}

const DELIBERATE: &[Deliberate] = &[
    Deliberate {
        name: "DEFAULT after MODIFY COLUMN",
        // `ALTER TABLE nums MODIFY COLUMN f DOUBLE` drops the column's DEFAULT
        // 1.25 in MySQL; Debezium's schema keeps it (and writes 1.25 for a NULL).
        covers: |topic, path, theirs, ours| {
            table_is(topic, "nums")
                && ((path.ends_with(".fields[f].default") && ours.is_none())
                    || (is_column(path, "f")
                        && theirs.and_then(Value::as_f64) == Some(1.25)
                        && ours.is_some_and(Value::is_null)))
        },
    },
    Deliberate {
        name: "negative TIME inside JSON",
        // Debezium's binlog JSON formatter prints each part of a negative TIME
        // with its own sign and the hours off by one (`-13:35:57.000005` comes
        // out as `"14:0-36:0-58.00000-5"`); binlog-poller prints the value.
        covers: |topic, path, theirs, ours| {
            let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("").to_string();
            table_is(topic, "docs")
                && is_column(path, "j")
                && text(ours).contains(r#""nt":"-13:35:57.000005""#)
                && text(theirs).replace(
                    r#""nt":"14:0-36:0-58.00000-5""#,
                    r#""nt":"-13:35:57.000005""#,
                ) == text(ours)
        },
    },
];

/// Whether `topic` is table `name`'s, as named or as the `unwrap_route`
/// scenario's RegexRouter renames it.
fn table_is(topic: &str, name: &str) -> bool {
    topic.ends_with(&format!(".{name}")) || topic.ends_with(&format!(".routed_{name}"))
}

/// Whether `path` is column `name` of a row image: in an envelope's
/// `after`, or in a value `ExtractNewRecordState` unwrapped (with schemas
/// on or off).
fn is_column(path: &str, name: &str) -> bool {
    path.ends_with(&format!("after.{name}"))
        || path == format!("value.payload.{name}")
        || path == format!("value.{name}")
}

/// Paths where two JSON documents differ (key order included), with the
/// values there.
type Diff = (String, Option<Value>, Option<Value>);

fn differences(a: &Value, b: &Value, path: &str, out: &mut Vec<Diff>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let (kx, ky): (Vec<&String>, Vec<&String>) = (x.keys().collect(), y.keys().collect());
            if kx != ky && kx.len() == ky.len() && kx.iter().all(|k| y.contains_key(*k)) {
                out.push((format!("{path} (key order)"), None, None));
            }
            for (k, v) in x {
                match y.get(k) {
                    Some(w) => differences(v, w, &format!("{path}.{k}"), out),
                    None => out.push((format!("{path}.{k}"), Some(v.clone()), None)),
                }
            }
            for (k, w) in y {
                if !x.contains_key(k) {
                    out.push((format!("{path}.{k}"), None, Some(w.clone())));
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                let name = v
                    .get("field")
                    .and_then(Value::as_str)
                    .map_or(i.to_string(), str::to_string);
                differences(v, w, &format!("{path}[{name}]"), out);
            }
        }
        _ if a == b => {}
        _ => out.push((path.to_string(), Some(a.clone()), Some(b.clone()))),
    }
}

/// The deliberate difference that covers every difference of the record, if any.
fn deliberate(topic: &str, theirs: &Record, ours: &Record) -> Option<&'static str> {
    let mut diffs = Vec::new();
    for (part, a, b) in [("key", &theirs.0, &ours.0), ("value", &theirs.1, &ours.1)] {
        let parse = |s: &Option<String>| {
            s.as_deref()
                .map(|t| serde_json::from_str::<Value>(t).expect("JSON"))
        };
        match (parse(a), parse(b)) {
            (Some(x), Some(y)) => differences(&x, &y, part, &mut diffs),
            (None, None) => {}
            _ => return None,
        }
    }
    let mut name = None;
    for (path, a, b) in &diffs {
        let rule = DELIBERATE
            .iter()
            .find(|r| (r.covers)(topic, path, a.as_ref(), b.as_ref()))?;
        name = Some(rule.name);
    }
    name
}

/// A record as on a topic: key and value as text (`None`: null), and its
/// headers as `name=value` lines, sorted by name (rskafka, our Kafka
/// client, sends headers as a map: one value per name, a null header as
/// an empty value; docs/event-format.md lists this difference).
type Record = (Option<String>, Option<String>, String);

/// Headers as [`Record`] holds them. Debezium 3's context headers
/// (`__debezium.context.*`, `extended.headers.enabled`) are left out: a
/// deliberate difference (docs/event-format.md).
fn header_text(headers: impl IntoIterator<Item = (String, Option<String>)>) -> String {
    let map: BTreeMap<String, String> = headers
        .into_iter()
        .filter(|(k, _)| !k.starts_with("__debezium.context."))
        .map(|(k, v)| (k, v.unwrap_or_default()))
        .collect();
    map.iter().map(|(k, v)| format!("{k}={v}\n")).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn records_equal_debeziums() {
    let Some(services) = Services::get() else {
        return;
    };
    let db = services.server(Flavor::MySql);
    let database = unique("parity");
    db.exec(&format!("CREATE DATABASE {database}")).await;
    db.exec(&format!(
        "USE {database}; {}",
        include_str!("fixtures/parity/snapshot.sql")
    ))
    .await;
    let dir = scratch(&database);
    let ours: Vec<Connector> = SCENARIOS
        .iter()
        .enumerate()
        .map(|(i, sc)| our_connector(&services, &db, &database, &dir, i, sc))
        .collect();

    // Both snapshots read the same data: ours first, then Debezium's (nothing is written
    // to the server in between, so both snapshots sit at the same binlog position).
    for c in &ours {
        c.poll_until_caught_up().await;
    }
    let out = dir.join("debezium");
    let mut engine = DebeziumRun::start(&services, &db, &database, &dir, &out, &ours);
    for (c, sc) in ours.iter().zip(SCENARIOS) {
        // An unwrapped value has no `source`: those scenarios carry the
        // marker as a header (`add.headers` with `snapshot`).
        let last = if sc.connector.iter().any(|(k, _)| *k == "transforms") {
            r#""__snapshot","last""#
        } else {
            r#"\"snapshot\":\"last\""#
        };
        engine.wait_for(sc.name, last, &c.prefix);
    }

    db.exec(&format!(
        "USE {database}; {}",
        include_str!("fixtures/parity/stream.sql")
    ))
    .await;
    db.exec(&format!("INSERT INTO {database}.sentinel VALUES (1)"))
        .await;
    for (c, sc) in ours.iter().zip(SCENARIOS) {
        let routed = sc
            .connector
            .iter()
            .any(|(k, _)| *k == "transforms.route.type");
        let topic = match routed {
            true => format!("\"topic\":\"{}.routed_sentinel\"", c.prefix),
            false => format!("\"topic\":\"{}.{database}.sentinel\"", c.prefix),
        };
        engine.wait_for(sc.name, &topic, &c.prefix);
    }
    engine.stop();
    for c in &ours {
        c.poll_until_caught_up().await;
    }

    let mut failures = Vec::new();
    for (c, sc) in ours.iter().zip(SCENARIOS) {
        let theirs = debezium_records(&out.join(format!("{}.jsonl", sc.name)));
        let mine = our_records(&services, &c.prefix).await;
        write_records(&dir.join(format!("ours-{}.jsonl", sc.name)), &mine);
        let report = compare(&theirs, &mine);
        println!(
            "{}: {}/{} records identical; {} differ on purpose {:?}",
            sc.name, report.identical, report.total, report.deliberate, report.by_rule
        );
        let path = dir.join(format!("report-{}.txt", sc.name));
        std::fs::write(&path, report.text.join("\n")).unwrap();
        if report.identical + report.deliberate != report.total {
            failures.push(format!(
                "{}: {} records differ; first differences:\n{}\n(full report: {})",
                sc.name,
                report.total - report.identical - report.deliberate,
                report
                    .text
                    .iter()
                    .take(6)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("\n"),
                path.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn our_connector(
    services: &Services,
    db: &Db,
    database: &str,
    dir: &Path,
    i: usize,
    sc: &Scenario,
) -> Connector {
    let prefix = format!("{database}_{}", sc.name);
    let mut c = Connector {
        db: db.clone(),
        database: database.to_string(),
        prefix: prefix.clone(),
        name: prefix.clone(),
        dir: dir.join(format!("ours-{}", sc.name)),
        settings: Vec::new(),
        removed: Vec::new(),
        kafka: services.kafka().to_string(),
    };
    std::fs::create_dir_all(&c.dir).unwrap();
    c = c
        .with("snapshot.mode", "initial")
        .with("database.server.id", &(5500 + i).to_string())
        .with("poll.max.duration.ms", "30000");
    for (k, v) in sc.connector {
        c = c.with(k, v);
    }
    for (k, v) in sc.converter {
        c = c
            .with(&format!("key.converter.{k}"), v)
            .with(&format!("value.converter.{k}"), v);
    }
    c
}

/// Debezium's embedded engines, one per scenario, in one JVM.
struct DebeziumRun {
    child: Child,
    out: PathBuf,
    log: PathBuf,
}

impl DebeziumRun {
    fn start(
        services: &Services,
        db: &Db,
        database: &str,
        dir: &Path,
        out: &Path,
        ours: &[Connector],
    ) -> Self {
        let mut args = vec![out.display().to_string()];
        for (i, (c, sc)) in ours.iter().zip(SCENARIOS).enumerate() {
            let state = dir.join(format!("debezium-{}", sc.name));
            std::fs::create_dir_all(&state).unwrap();
            let mut props = vec![
                ("name".to_string(), sc.name.to_string()),
                (
                    "connector.class".into(),
                    "io.debezium.connector.mysql.MySqlConnector".into(),
                ),
                ("database.hostname".into(), db.host.clone()),
                ("database.port".into(), db.port.to_string()),
                ("database.user".into(), db.user.clone()),
                ("database.password".into(), db.password.clone()),
                ("database.server.id".into(), (5600 + i).to_string()),
                ("topic.prefix".into(), c.prefix.clone()),
                ("database.include.list".into(), database.to_string()),
                ("snapshot.mode".into(), "initial".into()),
                ("include.schema.changes".into(), "true".into()),
                (
                    "offset.storage".into(),
                    "org.apache.kafka.connect.storage.FileOffsetBackingStore".into(),
                ),
                (
                    "offset.storage.file.filename".into(),
                    state.join("offsets.dat").display().to_string(),
                ),
                ("offset.flush.interval.ms".into(), "0".into()),
                (
                    "schema.history.internal".into(),
                    "io.debezium.storage.file.history.FileSchemaHistory".into(),
                ),
                (
                    "schema.history.internal.file.filename".into(),
                    state.join("history.dat").display().to_string(),
                ),
            ];
            for (k, v) in sc.connector {
                props.push((k.to_string(), v.to_string()));
            }
            for (k, v) in sc.converter {
                props.push((format!("converter.{k}"), v.to_string()));
            }
            let text: String = props
                .iter()
                .map(|(k, v)| format!("{k}={}\n", v.replace('\\', "\\\\")))
                .collect();
            let file = state.join("connector.properties");
            std::fs::write(&file, text).unwrap();
            args.push(format!("{}={}", sc.name, file.display()));
        }
        let log = dir.join("debezium.log");
        let child = Command::new(services.var("BP_JAVA"))
            .arg("-cp")
            .arg(services.var("BP_DEBEZIUM_CLASSPATH"))
            .arg("DebeziumCapture")
            .args(&args)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start Java (scripts/dev-services.sh up installs it)");
        Self {
            child,
            out: out.to_path_buf(),
            log,
        }
    }

    /// Waits until scenario `name`'s output holds `needle` (a snapshot's last record, or a
    /// streamed sentinel row). The bound is generous: it only turns a hang into a failure.
    fn wait_for(&mut self, name: &str, needle: &str, prefix: &str) {
        let file = self.out.join(format!("{name}.jsonl"));
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            if text.contains(needle) {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "Debezium exited ({status}) before {prefix} wrote {needle}: {}",
                    self.log_tail()
                );
            }
            assert!(
                Instant::now() < deadline,
                "Debezium's {name} engine did not write {needle} within 300 s: {}",
                self.log_tail()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let errors: Vec<&str> = std::fs::read_dir(&self.out)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "error"))
            .map(|_| "an engine failed (see its .error file)")
            .collect();
        let tail: String = text
            .lines()
            .rev()
            .take(40)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n");
        format!("{} {tail}", errors.join(", "))
    }

    fn stop(mut self) {
        std::fs::write(self.out.join("stop"), b"").unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match self.child.try_wait().unwrap() {
                Some(status) => {
                    assert!(status.success(), "Debezium failed: {}", self.log_tail());
                    return;
                }
                None if Instant::now() > deadline => {
                    let _ = self.child.kill();
                    panic!("Debezium did not stop within 60 s: {}", self.log_tail());
                }
                None => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }
}

impl Drop for DebeziumRun {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// Debezium's records per topic, in the order it produced them.
fn debezium_records(path: &Path) -> BTreeMap<String, Vec<Record>> {
    let mut out: BTreeMap<String, Vec<Record>> = BTreeMap::new();
    for line in std::fs::read_to_string(path).unwrap().lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let text = |f: &str| v[f].as_str().map(str::to_string);
        let headers = v["headers"].as_array().into_iter().flatten().map(|h| {
            (
                h[0].as_str().unwrap().to_string(),
                h[1].as_str().map(str::to_string),
            )
        });
        out.entry(text("topic").unwrap()).or_default().push((
            text("key"),
            text("value"),
            header_text(headers),
        ));
    }
    out
}

/// Records in the capture program's format, for a look at a failure.
fn write_records(path: &Path, records: &BTreeMap<String, Vec<Record>>) {
    let mut text = String::new();
    for (topic, recs) in records {
        for (k, v, h) in recs {
            let line = serde_json::json!({"topic": topic, "key": k, "value": v, "headers": h});
            text.push_str(&line.to_string());
            text.push('\n');
        }
    }
    std::fs::write(path, text).unwrap();
}

/// binlog-poller's records per topic, read back from the broker.
async fn our_records(services: &Services, prefix: &str) -> BTreeMap<String, Vec<Record>> {
    let mut out = BTreeMap::new();
    for topic in topics_with_prefix(services.kafka(), prefix).await {
        let recs = read_topic_raw(services.kafka(), &topic).await;
        let text = |b: Option<Vec<u8>>| b.map(|b| String::from_utf8(b).expect("UTF-8 JSON"));
        out.insert(
            topic,
            recs.into_iter()
                .map(|r| {
                    let headers = r
                        .headers
                        .into_iter()
                        .map(|(k, v)| (k, Some(String::from_utf8_lossy(&v).into_owned())));
                    (text(r.key), text(r.value), header_text(headers))
                })
                .collect(),
        );
    }
    out
}

#[derive(Default)]
struct Report {
    identical: usize,
    deliberate: usize,
    by_rule: BTreeMap<&'static str, usize>,
    total: usize,
    text: Vec<String>,
}

fn compare(theirs: &BTreeMap<String, Vec<Record>>, mine: &BTreeMap<String, Vec<Record>>) -> Report {
    let mut r = Report::default();
    let empty = Vec::new();
    let topics: std::collections::BTreeSet<&String> = theirs.keys().chain(mine.keys()).collect();
    for topic in topics {
        let a = theirs.get(topic).unwrap_or(&empty);
        let b = mine.get(topic).unwrap_or(&empty);
        let n = a.len().max(b.len());
        r.total += n;
        if a.len() != b.len() {
            r.text.push(format!(
                "{topic}: Debezium wrote {} records, binlog-poller {}",
                a.len(),
                b.len()
            ));
        }
        for i in 0..n {
            let (x, y) = (a.get(i), b.get(i));
            let norm = |(k, v, h): &Record| -> Record {
                (k.as_deref().map(blank), v.as_deref().map(blank), h.clone())
            };
            let (nx, ny) = (x.map(norm), y.map(norm));
            if nx == ny {
                r.identical += 1;
                continue;
            }
            if let (Some(nx), Some(ny)) = (&nx, &ny) {
                if nx.2 != ny.2 {
                    r.text.push(describe(topic, i, Some(nx), Some(ny)));
                    continue;
                }
                if let Some(name) = deliberate(topic, nx, ny) {
                    r.deliberate += 1;
                    *r.by_rule.entry(name).or_default() += 1;
                    continue;
                }
            }
            r.text.push(describe(topic, i, nx.as_ref(), ny.as_ref()));
        }
    }
    r
}

/// The capture times and Debezium's version string blanked.
fn blank(s: &str) -> String {
    let mut out = s.to_string();
    for field in ["\"ts_ms\":", "\"ts_us\":", "\"ts_ns\":"] {
        out = blank_after(&out, field, |c| c.is_ascii_digit() || c == '-');
    }
    blank_after(&out, "\"version\":\"", |c| c != '"')
}

fn blank_after(s: &str, marker: &str, part: impl Fn(char) -> bool) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(marker) {
        out.push_str(&rest[..i + marker.len()]);
        rest = &rest[i + marker.len()..];
        let end = rest.find(|c| !part(c)).unwrap_or(rest.len());
        if end > 0 {
            out.push('0');
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

fn describe(topic: &str, i: usize, theirs: Option<&Record>, mine: Option<&Record>) -> String {
    let show = |r: Option<&Record>| match r {
        None => "(no record)".to_string(),
        Some((k, v, h)) => format!(
            "headers {h:?} key {} value {}",
            k.as_deref().unwrap_or("null"),
            v.as_deref().unwrap_or("null")
        ),
    };
    let (a, b) = (show(theirs), show(mine));
    let at = a
        .char_indices()
        .zip(b.chars())
        .find(|((_, x), y)| x != y)
        .map(|((i, _), _)| i)
        .unwrap_or(a.len().min(b.len()));
    let from = a[..at].char_indices().rev().nth(150).map_or(0, |(i, _)| i);
    let cut = |s: &str| {
        s.get(from..)
            .unwrap_or("")
            .chars()
            .take(400)
            .collect::<String>()
    };
    format!(
        "{topic} #{i}: differs at char {at}\n  debezium:      …{}\n  binlog-poller: …{}",
        cut(&a),
        cut(&b)
    )
}
