//! The Lambda handler against the real servers (MariaDB, tansu, offsets in a
//! file): a scheduled event polls, an unknown action is NonRetryable, too
//! little time before the deadline is refused; the offsets actions.

#[path = "../../../tests/common/mod.rs"]
mod common;

use std::time::Duration;

use common::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lambda_handler_polls_on_a_scheduled_event_and_rejects_unknown_actions() {
    let Some(s) = Services::get() else { return };
    let db = s.server(Flavor::MariaDb);
    let c = Connector::new(&s, &db, "lambda").await;
    c.sql("CREATE TABLE t (id INT PRIMARY KEY)").await;
    let config = c.config();
    let deadline = std::time::SystemTime::now() + Duration::from_secs(30);
    let scheduled = json!({"version": "0", "detail-type": "Scheduled Event", "source": "aws.events", "detail": {}});
    let first = poller::handle_invocation(&config, scheduled.clone(), deadline)
        .await
        .unwrap();
    assert_eq!(first["status"], "ok");
    c.sql("INSERT INTO t VALUES (1),(2)").await;
    let second = poller::handle_invocation(&config, json!({"action": "poll"}), deadline)
        .await
        .unwrap();
    assert_eq!(second["events"], 2);
    let err = poller::handle_invocation(&config, json!({"action": "dance"}), deadline)
        .await
        .unwrap_err();
    assert!(
        !err.is_retryable() && err.to_string().contains("unknown action"),
        "{err}"
    );
    // Too little time left before the deadline: refuse instead of being killed mid-poll.
    let late = std::time::SystemTime::now() + Duration::from_secs(2);
    let err = poller::handle_invocation(&config, scheduled, late)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("Lambda deadline"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lambda_offsets_actions_get_set_and_reset() {
    let Some(s) = Services::get() else { return };
    let db = s.server(Flavor::MariaDb);
    let c = Connector::new(&s, &db, "lambdaoff").await;
    c.sql("CREATE TABLE t (id INT PRIMARY KEY)").await;
    let config = c.config();
    let deadline = std::time::SystemTime::now() + Duration::from_secs(30);
    let polled = poller::handle_invocation(&config, json!({"action": "poll"}), deadline)
        .await
        .unwrap();
    assert_eq!(polled["status"], "ok");
    let got = poller::handle_invocation(&config, json!({"action": "offsets-get"}), deadline)
        .await
        .unwrap();
    let position = got["position"].as_str().expect("a position").to_string();
    let set = poller::handle_invocation(
        &config,
        json!({"action": "offsets-set", "to": position}),
        deadline,
    )
    .await
    .unwrap();
    assert_eq!(set["position"], json!(position));
    let err = poller::handle_invocation(&config, json!({"action": "offsets-set"}), deadline)
        .await
        .unwrap_err();
    assert!(
        !err.is_retryable() && err.to_string().contains("\"to\""),
        "{err}"
    );
    let reset = poller::handle_invocation(&config, json!({"action": "offsets-reset"}), deadline)
        .await
        .unwrap();
    assert_eq!(reset["position"], serde_json::Value::Null);
}

#[test]
fn the_stdout_sink_is_refused_in_lambda() {
    let text = r#"{"name": "x", "config": {"database.hostname": "h", "database.user": "u",
        "topic.prefix": "p", "sink.type": "stdout", "offset.storage": "dynamodb"}}"#;
    let config = binlog_poller::Config::from_json(text, |_| None).unwrap();
    let err = poller::check_for_lambda(&config).unwrap_err();
    assert!(
        !err.is_retryable() && err.to_string().contains("CloudWatch Logs"),
        "{err}"
    );
}
