//! Unit tests of the configuration parser.

use super::kafka::jaas_option;
use super::reader::levenshtein;
use super::*;
use crate::encode::ColumnMask;

fn no_env(_: &str) -> Option<String> {
    None
}

const MINIMAL: &str = r#"{"name": "inv", "config": {
        "connector.class": "io.debezium.connector.mysql.MySqlConnector",
        "database.hostname": "db", "database.user": "cdc", "database.password": "pw",
        "topic.prefix": "dbserver1", "kafka.bootstrap.servers": "k:9092",
        "offset.storage.file.filename": "/tmp/o.json"}}"#;

#[test]
fn minimal_config_has_debezium_defaults() {
    let c = Config::from_json(MINIMAL, no_env).unwrap();
    assert_eq!(c.port, 3306);
    assert_eq!(c.snapshot_mode, SnapshotMode::Initial);
    assert!(c.tombstones_on_delete && c.key_schemas && c.value_schemas);
    assert_eq!(c.kafka_bootstrap, vec!["k:9092"]);
    assert!((5400..6400).contains(&c.server_id));
    assert!(
        !format!("{c:?}").contains("\"pw\""),
        "password leaked into Debug"
    );
}

#[test]
fn all_problems_reported_at_once_with_suggestion() {
    let text = r#"{"name": "inv", "config": {"database.hostnam": "db",
            "database.port": "abc", "snapshot.mode": "sometimes"}}"#;
    let err = Config::from_json(text, no_env).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("did you mean \"database.hostname\""), "{msg}");
    assert!(msg.contains("database.port"), "{msg}");
    assert!(msg.contains("snapshot.mode"), "{msg}");
    assert!(msg.contains("database.user: required"), "{msg}");
    assert!(msg.contains("topic.prefix"), "{msg}");
    assert!(msg.contains("kafka.bootstrap.servers: required"), "{msg}");
    assert!(err.0.len() >= 6, "{msg}");
}

#[test]
fn env_substitution() {
    let text = MINIMAL.replace("\"pw\"", "\"${env:DB_PW}\"");
    let c = Config::from_json(&text, |k| (k == "DB_PW").then(|| "s3cret".to_string())).unwrap();
    assert_eq!(c.password.expose(), "s3cret");
    let err = Config::from_json(&text, no_env).unwrap_err();
    assert!(err.to_string().contains("DB_PW"));
}

#[test]
fn old_names_and_numbers_accepted() {
    let text = MINIMAL
            .replace("\"topic.prefix\"", "\"database.server.name\"")
            .replace("\"database.hostname\"", "\"snapshot.mode\": \"schema_only\", \"database.port\": 3307, \"tombstones.on.delete\": false, \"database.hostname\"");
    let c = Config::from_json(&text, no_env).unwrap();
    assert_eq!(c.topic_prefix, "dbserver1");
    assert_eq!(c.port, 3307);
    assert_eq!(c.snapshot_mode, SnapshotMode::NoData);
    assert!(!c.tombstones_on_delete);
}

#[test]
fn filters_are_anchored_regexes() {
    let f = TableFilter::from_lists([
        None,
        None,
        Some("inventory\\.cust.*, shop.orders".into()),
        None,
    ])
    .unwrap();
    assert!(TableFilter::from_signature(&f.signature())
        .unwrap()
        .includes("shop", "orders"));
    assert!(f.includes("inventory", "customers"));
    assert!(f.includes("shop", "orders"));
    assert!(!f.includes("shop", "orders2"));
    assert!(!f.includes("xinventory", "customers"));
    assert!(!TableFilter::default().includes("mysql", "user"));
}

#[test]
fn shaping_keys_and_modes() {
    let text = MINIMAL.replace(
            "\"topic.prefix\"",
            r#""decimal.handling.mode": "string", "binary.handling.mode": "base64-url-safe",
               "column.mask.with.8.chars": "db\\.t\\.card", "column.mask.hash.SHA-256.with.salt.s4lt": "db\\.t\\.email",
               "column.truncate.to.10.chars": "db\\.t\\.note", "message.key.columns": "db.t:a,b;db.u:c",
               "skipped.operations": "c,d", "provide.transaction.metadata": true, "column.exclude.list": "db\\.t\\.secret",
               "topic.prefix""#,
        );
    let c = Config::from_json(&text, no_env).unwrap();
    assert_eq!(c.decimal_mode, DecimalMode::String);
    assert_eq!(c.binary_mode, BinaryMode::Base64UrlSafe);
    assert_eq!(c.columns.masks.len(), 2);
    assert!(c
        .columns
        .masks
        .iter()
        .any(|(p, m)| p.matches("db.t.card") && *m == ColumnMask::Stars(8)));
    assert_eq!(c.columns.truncates[0].1, 10);
    assert_eq!(c.columns.key_for("db.u"), Some(&["c".to_string()][..]));
    assert_eq!(
        c.columns.key_for("db.t"),
        Some(&["a".to_string(), "b".to_string()][..])
    );
    assert!(!c.columns.keeps("db.t.secret") && c.columns.keeps("db.t.other"));
    assert!(
        c.skipped_operations.create
            && c.skipped_operations.delete
            && !c.skipped_operations.truncate
    );
    assert!(c.provide_transaction_metadata && c.include_schema_changes);
    // Debezium's default skips truncates.
    assert!(
        Config::from_json(MINIMAL, no_env)
            .unwrap()
            .skipped_operations
            .truncate
    );
}

/// MINIMAL without its password, with `extra` JSON members added.
fn with(extra: &str) -> std::result::Result<Config, String> {
    let text = MINIMAL
        .replace(r#""database.password": "pw","#, "")
        .replace("\"topic.prefix\"", &format!("{extra}, \"topic.prefix\""));
    Config::from_json(&text, no_env).map_err(|e| e.to_string())
}

#[test]
fn iam_auth_forces_tls_and_excludes_a_password() {
    let c = with(r#""database.iam.auth": "true""#).unwrap();
    assert_eq!(c.iam_auth, Some(IamAuth { region: None }));
    assert_eq!(
        c.ssl_mode,
        SslMode::Required,
        "preferred is upgraded: a token is a password"
    );
    let c = with(r#""database.iam.auth": "true", "database.iam.region": "eu-west-1", "database.ssl.mode": "verify_identity""#).unwrap();
    assert_eq!(c.ssl_mode, SslMode::VerifyIdentity);
    assert_eq!(c.iam_auth.unwrap().region.as_deref(), Some("eu-west-1"));
    let msg = with(
        r#""database.iam.auth": "true", "database.ssl.mode": "disabled", "database.password": "x""#,
    )
    .unwrap_err();
    assert!(
        msg.contains("needs TLS") && msg.contains("remove one of them"),
        "{msg}"
    );
}

#[test]
fn kafka_security_settings() {
    let c = with(r#""tasks.max": "1""#).unwrap();
    assert_eq!(
        c.kafka_security.protocol,
        KafkaProtocol::Plaintext,
        "Kafka's default"
    );
    assert!(c.kafka_security.sasl.is_none() && c.kafka_security.verify_hostname);

    let c = with(r#""kafka.security.protocol": "SASL_SSL", "kafka.sasl.mechanism": "SCRAM-SHA-512",
            "kafka.sasl.jaas.config": "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"alice\" password=\"pa ss\";""#).unwrap();
    assert_eq!(
        c.kafka_security.sasl,
        Some(KafkaSasl::Password {
            mechanism: SaslMechanism::ScramSha512,
            username: "alice".into(),
            password: Secret::new("pa ss"),
        })
    );
    assert!(
        !format!("{c:?}").contains("pa ss"),
        "the password stays hidden"
    );

    let c = with(
        r#""kafka.security.protocol": "SASL_SSL", "kafka.sasl.mechanism": "AWS_MSK_IAM",
            "kafka.ssl.endpoint.identification.algorithm": "", "kafka.ssl.ca": "/ca.pem""#,
    )
    .unwrap();
    assert_eq!(
        c.kafka_security.sasl,
        Some(KafkaSasl::AwsMskIam { region: None })
    );
    assert!(!c.kafka_security.verify_hostname);
    assert_eq!(c.kafka_security.ssl_ca.as_deref(), Some("/ca.pem"));

    for (extra, want) in [
        (
            r#""kafka.security.protocol": "SASL_SSL""#,
            "needs kafka.sasl.mechanism",
        ),
        (
            r#""kafka.sasl.mechanism": "PLAIN""#,
            "needs kafka.security.protocol=SASL_SSL",
        ),
        (
            r#""kafka.security.protocol": "SASL_PLAINTEXT", "kafka.sasl.mechanism": "AWS_MSK_IAM""#,
            "TLS only",
        ),
        (
            r#""kafka.security.protocol": "SASL_SSL", "kafka.sasl.mechanism": "SCRAM-SHA-256", "kafka.sasl.username": "u""#,
            "needs kafka.sasl.username and kafka.sasl.password",
        ),
        (
            r#""kafka.security.protocol": "SASL_SSL", "kafka.sasl.mechanism": "GSSAPI""#,
            "unsupported \"GSSAPI\"",
        ),
        (r#""kafka.ssl.ca": "/ca.pem""#, "has no TLS"),
        (
            r#""kafka.security.protocol": "TLS""#,
            "one of PLAINTEXT, SSL",
        ),
    ] {
        let msg = with(extra).unwrap_err();
        assert!(msg.contains(want), "{extra}: {msg}");
    }
}

#[test]
fn jaas_options_are_read_by_name() {
    let j = r#"x.ScramLoginModule required  username = "u1" password="p=\"" ;"#;
    assert_eq!(jaas_option(j, "username").as_deref(), Some("u1"));
    assert_eq!(jaas_option(j, "password").as_deref(), Some("p=\\"));
    assert_eq!(jaas_option("myusername=\"x\"", "username"), None);
}

#[test]
fn tls_settings() {
    let c = Config::from_json(MINIMAL, no_env).unwrap();
    assert_eq!(c.ssl_mode, SslMode::Preferred, "Debezium's default");
    let text = MINIMAL.replace(
        "\"topic.prefix\"",
        r#""database.ssl.mode": "verify_identity", "database.ssl.ca": "/etc/rds.pem",
               "database.ssl.cert": "c.pem", "database.ssl.key": "k.pem", "topic.prefix""#,
    );
    let c = Config::from_json(&text, no_env).unwrap();
    assert_eq!(c.ssl_mode, SslMode::VerifyIdentity);
    assert_eq!(c.ssl_ca.as_deref(), Some("/etc/rds.pem"));
    assert!(!format!("{c:?}").contains("k.pem"), "the key stays hidden");
    let bad = MINIMAL.replace(
            "\"topic.prefix\"",
            r#""database.ssl.mode": "disabled", "database.ssl.ca": "x", "database.ssl.cert": "c", "topic.prefix""#,
        );
    let msg = Config::from_json(&bad, no_env).unwrap_err().to_string();
    assert!(
        msg.contains("go together") && msg.contains("disabled but"),
        "{msg}"
    );
}

#[test]
fn bad_shaping_values_are_reported_together() {
    let text = MINIMAL.replace(
            "\"topic.prefix\"",
            r#""decimal.handling.mode": "exact", "column.mask.hash.MD4.with.salt.x": "a", "column.mask.with.x.chars": "b",
               "skipped.operations": "c,z", "message.key.columns": "nocolon", "topic.prefix""#,
        );
    let msg = Config::from_json(&text, no_env).unwrap_err().to_string();
    for needle in [
        "decimal.handling.mode",
        "MD4",
        "column.mask.with.x.chars",
        "\"z\"",
        "nocolon",
    ] {
        assert!(msg.contains(needle), "{needle} in {msg}");
    }
}

#[test]
fn levenshtein_basics() {
    assert_eq!(levenshtein("kitten", "sitting"), 3);
    assert_eq!(levenshtein("", "ab"), 2);
}

/// The key reader replaced a hand-kept list of known keys: every key that
/// list held is still asked for, whatever the other keys say (a DynamoDB
/// key with file offsets, a SASL user without SASL), so none is reported as
/// unknown.
#[test]
fn every_documented_key_is_known_whatever_the_others_say() {
    let keys = [
        "database.hostname",
        "database.port",
        "database.user",
        "database.password",
        "database.server.id",
        "topic.prefix",
        "database.server.name",
        "database.include.list",
        "database.exclude.list",
        "table.include.list",
        "table.exclude.list",
        "snapshot.mode",
        "tombstones.on.delete",
        "key.converter.schemas.enable",
        "value.converter.schemas.enable",
        "kafka.bootstrap.servers",
        "kafka.compression.type",
        "kafka.request.timeout.ms",
        "kafka.max.request.size",
        "topic.creation.default.partitions",
        "topic.creation.default.replication.factor",
        "offset.storage",
        "offset.storage.dynamodb.table",
        "offset.storage.dynamodb.endpoint",
        "offset.storage.dynamodb.region",
        "offset.storage.file.filename",
        "offset.flush.interval.ms",
        "poll.max.duration.ms",
        "poll.max.events",
        "poll.interval.ms",
        "max.batch.size",
        "connect.timeout.ms",
        "snapshot.fetch.size",
        "heartbeat.interval.ms",
        "heartbeat.topics.prefix",
        "incremental.snapshot.chunk.size",
        "snapshot.lock.timeout.ms",
        "snapshot.include.collection.list",
        "snapshot.select.statement.overrides",
        "database.ssl.mode",
        "database.ssl.ca",
        "database.ssl.cert",
        "database.ssl.key",
        "database.iam.auth",
        "database.iam.region",
        "kafka.security.protocol",
        "kafka.ssl.ca",
        "kafka.ssl.endpoint.identification.algorithm",
        "kafka.sasl.mechanism",
        "kafka.sasl.username",
        "kafka.sasl.password",
        "kafka.sasl.jaas.config",
        "kafka.sasl.aws.region",
        "decimal.handling.mode",
        "bigint.unsigned.handling.mode",
        "binary.handling.mode",
        "time.precision.mode",
        "include.schema.changes",
        "provide.transaction.metadata",
        "include.query",
        "skipped.operations",
        "event.processing.failure.handling.mode",
        "column.include.list",
        "column.exclude.list",
        "column.propagate.source.type",
        "datatype.propagate.source.type",
        "message.key.columns",
        "connector.class",
        "tasks.max",
        "key.converter",
        "value.converter",
    ];
    let mut config: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str::<serde_json::Value>(MINIMAL).unwrap()["config"]
            .as_object()
            .unwrap()
            .clone();
    for k in keys {
        config.entry(k).or_insert_with(|| "x".into());
    }
    let json = serde_json::json!({"name": "inv", "config": config}).to_string();
    let err = Config::from_json(&json, no_env).unwrap_err();
    let unknown: Vec<&String> = err
        .0
        .iter()
        .filter(|p| p.starts_with("unknown key"))
        .collect();
    assert!(unknown.is_empty(), "{unknown:?}");
    // The reader still reports the others, and a typo gets a suggestion.
    let typo = MINIMAL.replace("\"database.user\"", "\"database.usr\"");
    let err = Config::from_json(&typo, no_env).unwrap_err().to_string();
    assert!(err.contains("did you mean \"database.user\""), "{err}");
}

/// The base config with `extra` keys (JSON members) added.
fn with_keys(extra: &str) -> std::result::Result<Config, String> {
    let text = MINIMAL.replace("\"topic.prefix\"", &format!("{extra}, \"topic.prefix\""));
    Config::from_json(&text, no_env).map_err(|e| e.to_string())
}

#[test]
fn jdbc_tls_switches_asking_for_more_are_refused_not_ignored() {
    for asked in [
        r#""database.useSSL": "true""#,
        r#""database.requireSSL": "true""#,
        r#""database.verifyServerCertificate": "true""#,
        r#""database.sslMode": "VERIFY_IDENTITY""#,
    ] {
        let msg = with_keys(asked).unwrap_err();
        assert!(
            msg.contains("TLS is set by database.ssl.mode (required, verify_ca, verify_identity)"),
            "{asked}: {msg}"
        );
    }
    for weaker in [
        r#""database.useSSL": "false""#,
        r#""database.requireSSL": "false""#,
        r#""database.sslMode": "PREFERRED""#,
    ] {
        assert!(with_keys(weaker).is_ok(), "{weaker}");
    }
}

#[test]
fn comments_and_bad_numbers_are_explained_in_words() {
    let text =
        "{\"name\": \"x\",\n  // the database\n  \"config\": {\"database.port\": \"99999\"}}";
    let e = Config::from_json(text, no_env).unwrap_err().to_string();
    assert!(e.contains("line 2 has a // or /* comment"), "{e}");
    let text = r#"{"name": "x", "config": {"database.hostname": "h://not-a-comment",
        "database.port": "99999"}}"#;
    let e = Config::from_json(text, no_env).unwrap_err().to_string();
    assert!(
        e.contains("database.port: \"99999\" is not a whole number from 0 to 65535"),
        "{e}"
    );
    assert!(!e.contains("u16") && !e.contains("comment"), "{e}");
}

#[test]
fn iam_auth_user_names_stay_within_what_the_token_carries() {
    let text = r#"{"name": "x", "config": {"database.hostname": "db.abc.eu-west-1.rds.amazonaws.com",
        "database.user": "cdc user", "database.iam.auth": "true", "database.ssl.mode": "verify_identity",
        "topic.prefix": "p", "kafka.bootstrap.servers": "k:9092", "offset.storage.file.filename": "/tmp/o"}}"#;
    let e = Config::from_json(text, no_env).unwrap_err().to_string();
    assert!(e.contains("database.user \"cdc user\""), "{e}");
    assert!(Config::from_json(&text.replace("cdc user", "cdc_app-1.x"), no_env).is_ok());
}
