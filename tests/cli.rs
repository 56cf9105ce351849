//! The command line as a person meets it: help with examples on every
//! command, `--config` from `BINLOG_POLLER_CONFIG_FILE`, and an error
//! printed once with the documented exit code.

mod common;

use std::process::Command;

use common::*;

fn cli(args: &[&str]) -> std::process::Output {
    Command::new(cli_binary())
        .args(args)
        .env_remove("BINLOG_POLLER_CONFIG_FILE")
        .env_remove("BINLOG_POLLER_LOG_FORMAT")
        .output()
        .expect("run binlog-poller")
}

#[test]
fn every_command_has_help_with_examples_exit_codes_and_logging() {
    for cmd in [
        &["run"][..],
        &["status"],
        &["validate"],
        &["snapshot"],
        &["init"],
        &["offsets"],
    ] {
        let mut args = cmd.to_vec();
        args.push("--help");
        let out = cli(&args);
        assert!(out.status.success(), "{args:?}");
        let help = String::from_utf8_lossy(&out.stdout);
        for want in [
            "Examples:",
            "Exit codes:",
            "RUST_LOG",
            "BINLOG_POLLER_LOG_FORMAT",
            "BINLOG_POLLER_CONFIG_FILE",
        ] {
            assert!(help.contains(want), "{args:?} help lacks {want}:\n{help}");
        }
        if cmd[0] != "offsets" {
            assert!(help.contains("--config <FILE>"), "{args:?}:\n{help}");
        }
    }
}

#[test]
fn a_missing_config_file_is_a_configuration_error_said_once() {
    let out = cli(&["validate", "--config", "/nonexistent/connector.json"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.matches("/nonexistent/connector.json").count(),
        1,
        "{err}"
    );
    assert!(err.starts_with("error: "), "{err}");
    // With JSON logs the error is one structured line instead.
    let out = Command::new(cli_binary())
        .args(["validate", "--config", "/nonexistent/connector.json"])
        .env("BINLOG_POLLER_LOG_FORMAT", "json")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{err}");
    let v: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(v["retryable"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_config_file_can_come_from_the_environment() {
    let Some(s) = Services::get() else { return };
    let c = Connector::new(&s, &s.server(Flavor::MariaDb), "cfgenv").await;
    let path = c.config_file();
    let out = Command::new(cli_binary())
        .args(["offsets", "get"])
        .env("BINLOG_POLLER_CONFIG_FILE", &path)
        .output()
        .unwrap();
    assert_ok(&out);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["connector"], c.name.as_str());
}
