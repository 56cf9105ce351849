//! `${secretsmanager:...}` references resolved from moto's Secrets Manager
//! by the real CLI, against real MySQL and the broker; the secret values
//! never appear in its logs (at debug level), errors or `status` output.

mod common;

use common::*;
use serde_json::json;

async fn secrets_client(s: &Services) -> aws_sdk_secretsmanager::Client {
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(s.aws())
        .region(aws_config::Region::new("us-east-1"))
        .load()
        .await;
    aws_sdk_secretsmanager::Client::new(&conf)
}

fn all_output(out: &std::process::Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_resolve_from_secrets_manager_and_never_show() {
    let Some(s) = Services::get() else { return };
    let db = s.server(Flavor::MySql);
    let sm = secrets_client(&s).await;
    let login = unique("bp-login");
    sm.create_secret()
        .name(&login)
        .secret_string(json!({"username": db.user, "password": db.password}).to_string())
        .send()
        .await
        .expect("create secret in moto");
    let env = [
        ("AWS_ENDPOINT_URL_SECRETS_MANAGER", s.aws()),
        ("RUST_LOG", "debug"),
    ];

    let c = Connector::new(&s, &db, "secret")
        .await
        .with(
            "database.user",
            &format!("${{secretsmanager:{login}#username}}"),
        )
        .with(
            "database.password",
            &format!("${{secretsmanager:{login}#password}}"),
        );
    c.sql("CREATE TABLE t (id INT PRIMARY KEY)").await;
    let first = c.cli(&["run", "--once"], &env);
    assert!(first.status.success(), "{}", all_output(&first));
    c.sql("INSERT INTO t VALUES (1), (2)").await;
    let run = c.cli(&["run", "--once"], &env);
    assert!(run.status.success(), "{}", all_output(&run));
    assert_eq!(summary_of(&run)["events"], json!(2));
    assert_eq!(read_topic(s.kafka(), &c.topic("t")).await.len(), 2);
    let status = c.cli(&["status"], &env);
    let validate = c.cli(&["validate"], &env);
    for out in [&first, &run, &status, &validate] {
        let text = all_output(out);
        assert!(!text.contains(&db.password), "the password leaked: {text}");
    }
    assert!(status.status.success(), "{}", all_output(&status));

    // A value from a secret that ends up in an error message is hidden.
    let host = unique("secret-host");
    sm.create_secret()
        .name(&host)
        .secret_string(format!("{host}.invalid"))
        .send()
        .await
        .unwrap();
    let bad = c
        .clone()
        .with("database.hostname", &format!("${{secretsmanager:{host}}}"))
        .with("connect.timeout.ms", "2000");
    let out = bad.cli(&["run", "--once"], &env);
    let text = all_output(&out);
    assert!(!out.status.success());
    assert!(
        text.contains("cannot connect to MySQL at ********"),
        "{text}"
    );
    assert!(!text.contains(&format!("{host}.invalid")), "{text}");

    // A missing secret names the reference and the fix, and is not retried.
    let missing = c.clone().with(
        "database.password",
        "${secretsmanager:bp-no-such-secret#password}",
    );
    let out = missing.cli(&["run", "--once"], &env);
    let text = all_output(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("\"bp-no-such-secret\""), "{text}");
    assert!(text.contains("secretsmanager:GetSecretValue"), "{text}");
}
