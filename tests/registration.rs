//! Registration JSONs written for Debezium validate against the real servers with warnings only:
//! the one from Debezium 3.x's MySQL tutorial (`schema.history.internal.kafka.*`) and the seed's
//! 1.x form (`database.history.kafka.*`), each given only where the servers are and our Kafka and
//! offset keys. `validate` exits 0 and logs why each Debezium-only key is ignored.

mod common;

use common::*;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debezium_registrations_validate_with_warnings_only() {
    let Some(s) = Services::get() else { return };
    let db = s.server(Flavor::MySql);
    for (fixture, ignored) in [
        (
            include_str!("fixtures/registration/debezium-3-tutorial.json"),
            "schema.history.internal.kafka.topic",
        ),
        (
            include_str!("fixtures/registration/debezium-1x-seed.json"),
            "database.history.kafka.topic",
        ),
    ] {
        let dir = scratch(&unique("registration"));
        let mut reg: Value = serde_json::from_str(fixture).unwrap();
        let cfg = reg["config"].as_object_mut().unwrap();
        for (k, v) in [
            ("database.hostname", db.host.clone()),
            ("database.port", db.port.to_string()),
            ("database.user", db.user.clone()),
            ("database.password", db.password.clone()),
            ("kafka.bootstrap.servers", s.kafka().to_string()),
            (
                "offset.storage.file.filename",
                dir.join("offsets.json").display().to_string(),
            ),
        ] {
            cfg.insert(k.into(), v.into());
        }
        let file = dir.join("registration.json");
        std::fs::write(&file, reg.to_string()).unwrap();
        let out = std::process::Command::new(cli_binary())
            .args(["validate", "--config"])
            .arg(&file)
            .output()
            .unwrap();
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
        assert!(stdout.lines().all(|l| !l.starts_with("FAIL")), "{stdout}");
        assert!(
            stderr
                .lines()
                .any(|l| l.contains("WARN")
                    && l.contains(&format!("key={ignored} reason=ignored: "))),
            "the ignored key is named with its reason: {stderr}"
        );
    }
}
