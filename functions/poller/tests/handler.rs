//! The Lambda handler against the real servers (MariaDB, tansu, offsets in a
//! file): a scheduled event polls, an unknown action is NonRetryable, too
//! little time before the deadline is refused.

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
