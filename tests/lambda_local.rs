//! The real Lambda function binary (`target/debug/poller`, built by
//! `scripts/test.sh`) against `cargo lambda watch --only-lambda-apis`,
//! cargo-lambda's emulator of the Lambda runtime API, invoked with `cargo
//! lambda invoke` as Lambda would: a scheduled event, the manual actions
//! (snapshot, status, validate), and a bad action. Checks the responses,
//! the error type, the events in Kafka and the CloudWatch EMF and summary
//! lines the function wrote.
//!
//! The emulator runs with a 60 s invocation timeout and the function with a
//! 500 ms deadline margin.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use serde_json::{json, Value};

fn start(s: &Services, config: &Path, port: u16, log: &Path, env: &[(&str, &str)]) -> Procs {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // The target directory cargo built into (`CARGO_TARGET_DIR` when set).
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let function = target.join("debug/poller");
    assert!(
        function.exists(),
        "{} is missing: run `cargo build -p poller` (scripts/test.sh does)",
        function.display()
    );
    let out = std::fs::File::create(log).unwrap();
    let emulator = Command::new(s.var("BP_CARGO_LAMBDA"))
        .args([
            "lambda",
            "watch",
            "--only-lambda-apis",
            "--timeout",
            "60",
            "--invoke-port",
        ])
        .arg(port.to_string())
        .args(["--manifest-path", "functions/poller/Cargo.toml"])
        .current_dir(root)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .stdin(Stdio::null())
        .spawn()
        .expect("cargo lambda watch");
    let mut procs = Procs(vec![emulator]);
    wait_for_port(port, "cargo lambda watch", Duration::from_secs(60));
    // The variables the emulator tells a function started by hand to set.
    let function = Command::new(function)
        .env(
            "AWS_LAMBDA_RUNTIME_API",
            format!("http://127.0.0.1:{port}/.rt"),
        )
        .env("AWS_LAMBDA_FUNCTION_NAME", "_")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
        .env("BINLOG_POLLER_CONFIG_FILE", config)
        .env("BINLOG_POLLER_DEADLINE_MARGIN_MS", "500")
        .envs(env.iter().copied())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .stdin(Stdio::null())
        .spawn()
        .expect("start the function");
    procs.0.push(function);
    procs
}

/// `cargo lambda invoke`: the response JSON, or the error JSON (with
/// `errorType`) when the function failed.
fn invoke(s: &Services, port: u16, payload: &Value) -> Result<Value, Value> {
    let out = Command::new(s.var("BP_CARGO_LAMBDA"))
        .args([
            "lambda",
            "invoke",
            "_",
            "--output-format",
            "json",
            "--invoke-port",
        ])
        .arg(port.to_string())
        .arg("--data-ascii")
        .arg(payload.to_string())
        .output()
        .expect("cargo lambda invoke");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.success() {
        Ok(serde_json::from_str(stdout.trim())
            .unwrap_or_else(|e| panic!("response is not JSON ({e}): {stdout}")))
    } else {
        // cargo-lambda prints the function's error as `Error: <errorType>`
        // followed by the message.
        let text = format!("{stdout}{stderr}");
        let (_, rest) = text
            .split_once("Error: ")
            .unwrap_or_else(|| panic!("no error in: {text}"));
        let (error_type, message) = rest.split_once('\n').unwrap_or((rest, ""));
        Err(json!({"errorType": error_type.trim(), "errorMessage": message}))
    }
}

/// An EventBridge Scheduler / scheduled rule event, as Lambda receives it.
fn scheduled_event() -> Value {
    json!({
        "version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event", "source": "aws.events",
        "account": "123456789012", "time": "2026-11-24T08:00:00Z", "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/binlog-poller"],
        "detail": {}
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn function_under_the_runtime_emulator_polls_snapshots_and_reports() {
    let Some(s) = Services::get() else { return };
    let db = s.server(Flavor::MariaDb);
    let c = Connector::new(&s, &db, "lambda")
        .await
        .with("snapshot.mode", "initial");
    c.sql("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10)); INSERT INTO t VALUES (1,'a'),(2,'b'),(3,'c')")
        .await;
    let config = c.config_file();
    let port = free_port();
    let log = c.dir.join("watch.log");
    let _procs = start(&s, &config, port, &log, &[]);

    // The schedule: the initial snapshot, then a change from the binlog.
    let first = invoke(&s, port, &scheduled_event()).expect("scheduled poll");
    assert_eq!(first["connector"], c.name.as_str(), "{first}");
    assert_eq!(first["status"], "ok", "{first}");
    assert_eq!(first["snapshot_rows"], 3, "{first}");
    c.sql("UPDATE t SET v = 'bb' WHERE id = 2").await;
    let second = invoke(&s, port, &scheduled_event()).expect("scheduled poll");
    assert_eq!(second["events"], 1, "{second}");

    // A manual ad-hoc snapshot, read by the next poll.
    let queued = invoke(
        &s,
        port,
        &json!({"action": "snapshot", "tables": [format!("{}.t", c.database)]}),
    )
    .expect("snapshot action");
    assert_eq!(
        queued["snapshot_queued"],
        json!([format!("{}.t", c.database)])
    );
    let third = invoke(&s, port, &json!({"action": "poll"})).expect("manual poll");
    assert_eq!(third["snapshot_rows"], 3, "{third}");

    let status = invoke(&s, port, &json!({"action": "status"})).expect("status action");
    assert!(status["state"]["checkpoint"].is_object(), "{status}");
    let validate = invoke(&s, port, &json!({"action": "validate"})).expect("validate action");
    assert_eq!(validate["ok"], true, "{validate}");
    assert!(
        validate["checks"].as_array().unwrap().len() >= 10,
        "{validate}"
    );

    // A payload the function cannot act on is a NonRetryable error.
    let err = invoke(&s, port, &json!({"action": "compact"})).expect_err("unknown action");
    assert_eq!(err["errorType"], "NonRetryable", "{err}");
    assert!(
        err["errorMessage"]
            .as_str()
            .unwrap()
            .contains("unknown action"),
        "{err}"
    );

    // Kafka got the snapshot reads, the update, then the re-read.
    let recs = read_topic(s.kafka(), &c.topic("t")).await;
    let ops: Vec<(String, String)> = recs
        .iter()
        .filter_map(|r| r.payload())
        .map(|p| {
            let row = if p["after"].is_null() {
                &p["before"]
            } else {
                &p["after"]
            };
            (
                p["op"].as_str().unwrap().to_string(),
                row["v"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = [
        ("r", "a"),
        ("r", "b"),
        ("r", "c"),
        ("u", "bb"),
        ("r", "a"),
        ("r", "bb"),
        ("r", "c"),
    ]
    .iter()
    .map(|(o, v)| (o.to_string(), v.to_string()))
    .collect();
    assert_eq!(ops, want);

    // One EMF line per poll, and one summary line per invocation.
    let text = std::fs::read_to_string(&log).unwrap();
    let emf: Vec<Value> = text
        .lines()
        .filter(|l| l.contains("\"_aws\""))
        .map(|l| serde_json::from_str(&l[l.find('{').unwrap()..]).expect("EMF is JSON"))
        .collect();
    assert_eq!(emf.len(), 3, "three polls: {text}");
    assert_eq!(
        emf[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"],
        "BinlogPoller"
    );
    assert_eq!(emf[0]["Connector"], c.name.as_str());
    assert_eq!(emf[0]["SnapshotRows"], 3.0);
    assert_eq!(emf[1]["EventsPublished"], 1.0);
    assert_eq!(emf[2]["SuccessfulPolls"], 1.0);
    let summaries = text
        .lines()
        .filter(|l| l.contains("\"invocation finished\""))
        .count();
    assert_eq!(summaries, 7, "{text}");
    assert!(!text.contains("\"bb\""), "no row values in the logs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_misconfigured_function_answers_non_retryable_and_shows_no_secret() {
    let Some(s) = Services::get() else { return };
    let db = s.server(Flavor::MariaDb);
    let sm = {
        let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(s.aws())
            .region(aws_config::Region::new("us-east-1"))
            .load()
            .await;
        aws_sdk_secretsmanager::Client::new(&conf)
    };
    let secret = unique("bp-lambda-bad");
    let user = unique("cdc-user-xq");
    sm.create_secret()
        .name(&secret)
        .secret_string(json!({ "username": user }).to_string())
        .send()
        .await
        .expect("create secret in moto");
    // The port is the secret's user name (its problem quotes the value),
    // and one key is misspelt.
    let reference = format!("${{secretsmanager:{secret}#username}}");
    let c = Connector::new(&s, &db, "lambdabad")
        .await
        .with("database.user", &reference)
        .with("database.port", &reference)
        .with("database.hostnam", "typo");
    let config = c.config_file();
    let port = free_port();
    let log = c.dir.join("watch.log");
    let _procs = start(
        &s,
        &config,
        port,
        &log,
        &[("AWS_ENDPOINT_URL_SECRETS_MANAGER", s.aws())],
    );

    // The function registered with the runtime and answers each invocation.
    for payload in [scheduled_event(), json!({"action": "status"})] {
        let err = invoke(&s, port, &payload).expect_err("a misconfigured function fails");
        assert_eq!(err["errorType"], "NonRetryable", "{err}");
        let message = err["errorMessage"].as_str().unwrap();
        assert!(
            message.contains("unknown key \"database.hostnam\"")
                && message.contains("database.port"),
            "{err}"
        );
        assert!(!message.contains(&user), "{err}");
    }

    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        !text.contains(&user),
        "a secret in the function's output: {text}"
    );
    let summaries: Vec<Value> = text
        .lines()
        .filter(|l| l.contains("\"invocation finished\""))
        .map(|l| serde_json::from_str(&l[l.find('{').unwrap()..]).expect("summary is JSON"))
        .collect();
    assert_eq!(summaries.len(), 2, "{text}");
    for line in &summaries {
        assert_eq!(line["outcome"], "error", "{line}");
        assert_eq!(line["retryable"], false, "{line}");
        assert_eq!(line["connector"], c.name.as_str(), "{line}");
    }
    let failed = text
        .lines()
        .filter(|l| l.contains("\"_aws\""))
        .map(|l| serde_json::from_str::<Value>(&l[l.find('{').unwrap()..]).expect("EMF is JSON"))
        .filter(|emf| emf["FailedPolls"] == 1.0 && emf["Connector"] == c.name.as_str())
        .count();
    assert_eq!(failed, 2, "one FailedPolls per invocation: {text}");
}
