//! Unit tests of whole registrations: Debezium 3.x's and 1.x's
//! registration JSONs, every key of Debezium 3.x's MySQL connector handled
//! exactly one way, old names and their conflicts, `snapshot.locking.mode`,
//! refused keys, and the generated list of handled keys in docs/configuration.md.

use std::collections::BTreeSet;

use super::keys::{Keys, IGNORED, PARAMETERIZED, REFUSED};
use super::*;

fn no_env(_: &str) -> Option<String> {
    None
}

/// Debezium's MySQL tutorial registration (Debezium 3.x docs,
/// `tutorial/proc-registering-connector-monitor-inventory-database.adoc`)
/// with our Kafka and offset keys added.
const DEBEZIUM_3: &str = include_str!("../../tests/fixtures/registration/debezium-3-tutorial.json");
/// The seed document's Debezium 1.x registration (its `//` comments
/// removed: JSON has none) with our Kafka and offset keys added.
const DEBEZIUM_1X: &str = include_str!("../../tests/fixtures/registration/debezium-1x-seed.json");

const MINIMAL: &str = r#"{"name": "inv", "config": {
        "database.hostname": "db", "database.user": "cdc",
        "topic.prefix": "dbserver1", "kafka.bootstrap.servers": "k:9092",
        "offset.storage.file.filename": "/tmp/o.json"}}"#;

/// MINIMAL with `extra` JSON members added to its config.
fn with(extra: &str) -> (std::result::Result<Config, String>, Vec<(String, String)>) {
    let text = MINIMAL.replace(
        "\"database.hostname\"",
        &format!("{extra}, \"database.hostname\""),
    );
    let (result, recorded) = Config::from_json_recorded(&text, no_env);
    let warnings = recorded
        .warnings
        .into_iter()
        .map(|w| (w.key, w.reason))
        .collect();
    (result.map_err(|e| e.to_string()), warnings)
}

fn warned_keys(warnings: &[(String, String)]) -> BTreeSet<&str> {
    warnings.iter().map(|(k, _)| k.as_str()).collect()
}

#[test]
fn debezium_3_tutorial_registration_parses_with_warnings_only() {
    let (result, recorded) = Config::from_json_recorded(DEBEZIUM_3, no_env);
    let c = result.unwrap();
    assert_eq!(c.name, "inventory-connector");
    assert_eq!(c.topic_prefix, "dbserver1");
    assert_eq!(c.server_id, 184054);
    assert!(c.filter.includes("inventory", "customers"));
    assert!(!c.filter.includes("other", "customers"));
    let warned: BTreeSet<&str> = recorded.warnings.iter().map(|w| w.key.as_str()).collect();
    assert_eq!(
        warned,
        BTreeSet::from([
            "schema.history.internal.kafka.bootstrap.servers",
            "schema.history.internal.kafka.topic"
        ])
    );
    assert!(recorded.warnings[0]
        .reason
        .starts_with("ignored: no schema history"));
}

#[test]
fn debezium_1x_seed_registration_parses_with_warnings_only() {
    let (result, recorded) = Config::from_json_recorded(DEBEZIUM_1X, no_env);
    let c = result.unwrap();
    assert_eq!(c.topic_prefix, "fullfillment", "database.server.name");
    assert!(c.include_schema_changes);
    assert!(c.filter.includes("inventory", "orders"));
    let warned: BTreeSet<&str> = recorded.warnings.iter().map(|w| w.key.as_str()).collect();
    assert_eq!(
        warned,
        BTreeSet::from([
            "database.history.kafka.bootstrap.servers",
            "database.history.kafka.topic"
        ])
    );
}

#[test]
fn conflicting_topic_prefix_and_server_name_is_a_problem_naming_both() {
    let (err, _) = with(r#""database.server.name": "legacy1""#);
    let msg = err.unwrap_err();
    assert!(
        msg.contains("\"dbserver1\"")
            && msg.contains("\"legacy1\"")
            && msg.contains("database.server.name"),
        "{msg}"
    );
    let (ok, _) = with(r#""database.server.name": "dbserver1""#);
    assert_eq!(
        ok.unwrap().topic_prefix,
        "dbserver1",
        "equal values are fine"
    );
}

#[test]
fn snapshot_locking_modes() {
    let mode = |extra: &str| with(extra).0.map(|c| c.snapshot_locking_mode);
    assert_eq!(
        with("\"tasks.max\": 1").0.unwrap().snapshot_locking_mode,
        SnapshotLockingMode::Minimal,
        "Debezium's default"
    );
    for (value, want) in [
        ("minimal", SnapshotLockingMode::Minimal),
        ("MINIMAL", SnapshotLockingMode::Minimal),
        ("minimal_percona", SnapshotLockingMode::Minimal),
        ("minimal_at_least_once", SnapshotLockingMode::Minimal),
        ("extended", SnapshotLockingMode::Extended),
        ("none", SnapshotLockingMode::None),
        ("minimal_percona_no_table_locks", SnapshotLockingMode::None),
    ] {
        assert_eq!(
            mode(&format!(r#""snapshot.locking.mode": "{value}""#)),
            Ok(want),
            "{value}"
        );
    }
    // none is accepted with a warning that the table lock is still taken.
    let (ok, warnings) = with(r#""snapshot.locking.mode": "none""#);
    assert!(ok.is_ok());
    assert_eq!(
        warned_keys(&warnings),
        BTreeSet::from(["snapshot.locking.mode"])
    );
    assert!(warnings[0].1.contains("LOCK TABLES t READ"), "{warnings:?}");
    assert!(with(r#""snapshot.locking.mode": "minimal""#).1.is_empty());

    let msg =
        mode(r#""snapshot.locking.mode": "custom", "snapshot.locking.mode.custom.name": "x""#)
            .unwrap_err();
    assert!(
        msg.contains("custom locking is not supported")
            && msg.contains("snapshot.locking.mode.custom.name"),
        "{msg}"
    );
    let msg = mode(r#""snapshot.locking.mode": "sometimes""#).unwrap_err();
    assert!(msg.contains("one of minimal, extended, none"), "{msg}");

    // Debezium 1.x's boolean, and a conflict with the new key.
    assert_eq!(
        mode(r#""snapshot.locking.minimal": false"#),
        Ok(SnapshotLockingMode::Extended)
    );
    assert_eq!(
        mode(r#""snapshot.locking.minimal": "true""#),
        Ok(SnapshotLockingMode::Minimal)
    );
    assert_eq!(
        mode(r#""snapshot.locking.minimal": false, "snapshot.locking.mode": "extended""#),
        Ok(SnapshotLockingMode::Extended)
    );
    let msg = mode(r#""snapshot.locking.minimal": true, "snapshot.locking.mode": "extended""#)
        .unwrap_err();
    assert!(msg.contains("snapshot.locking.minimal"), "{msg}");
}

#[test]
fn transforms_are_read_and_converters_refused() {
    // A registration with transforms is read (their behaviour: transform::tests).
    let (ok, _) = with(
        r#""transforms": "unwrap", "transforms.unwrap.type": "io.debezium.transforms.ExtractNewRecordState",
           "transforms.unwrap.delete.tombstone.handling.mode": "rewrite""#,
    );
    assert_eq!(ok.unwrap().transforms.len(), 1);
    // An empty transforms (Kafka Connect's default) is fine, and so are
    // keys of names it does not list (Kafka Connect ignores them).
    assert!(with(r#""transforms": """#).0.is_ok());
    assert!(
        with(r#""transforms": " ", "predicates": "", "transforms.x.type": "y""#)
            .0
            .is_ok()
    );
    let msg = with(r#""predicates": "isTombstone", "predicates.isTombstone.type": "x""#)
        .0
        .unwrap_err();
    assert!(
        msg.contains("x is not supported; the supported predicates are"),
        "{msg}"
    );
    let msg = with(
        r#""converters": "boolean", "boolean.type": "io.debezium.connector.binlog.converters.TinyIntOneToBooleanConverter",
           "boolean.selector": "db.t.flag""#,
    )
    .0
    .unwrap_err();
    assert!(
        msg.contains(
            "boolean.selector, boolean.type, converters: custom converters are not supported"
        ),
        "{msg}"
    );
    assert!(!msg.contains("unknown key"), "{msg}");
}

#[test]
fn refused_values_and_accepted_defaults() {
    for extra in [
        r#""topic.naming.strategy": "io.debezium.schema.DefaultTopicNamingStrategy""#,
        r#""key.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter.decimal.format": "base64""#,
        r#""snapshot.query.mode": "select_all", "table.ignore.builtin": true, "skip.messages.without.change": false"#,
        r#""schema.name.adjustment.mode": "none", "source.struct.version": "v2", "exactly.once.support": "requested""#,
        r#""heartbeat.action.query": "", "gtid.source.includes": """#,
    ] {
        let (result, warnings) = with(extra);
        assert!(result.is_ok(), "{extra}: {result:?}");
        assert!(warnings.is_empty(), "{extra}: {warnings:?}");
    }
    for (extra, want) in [
        (
            r#""topic.naming.strategy": "io.debezium.schema.SchemaTopicNamingStrategy""#,
            "DefaultTopicNamingStrategy",
        ),
        (
            r#""snapshot.mode": "custom", "snapshot.mode.custom.name": "x""#,
            "custom snapshotters are not supported",
        ),
        (
            r#""snapshot.mode": "configuration_based", "snapshot.mode.configuration.based.snapshot.data": true"#,
            "configuration_based is not supported",
        ),
        (
            r#""value.converter.decimal.format": "NUMERIC""#,
            "decimal.handling.mode=double",
        ),
        (r#""table.ignore.builtin": false"#, "never captured"),
        (
            r#""heartbeat.action.query": "INSERT INTO hb VALUES (now())""#,
            "never writes",
        ),
        (
            r#""gtid.source.includes": "abc.*""#,
            "GTID source filtering",
        ),
        (
            r#""database.ssl.truststore": "/x.jks""#,
            "set database.ssl.ca",
        ),
        (
            r#""producer.override.compression.type": "lz4""#,
            "set the kafka.* keys",
        ),
        (r#""exactly.once.support": "required""#, "at least once"),
        (
            r#""key.converter": "io.confluent.connect.avro.AvroConverter""#,
            "only org.apache.kafka.connect.json.JsonConverter",
        ),
    ] {
        let msg = with(extra).0.unwrap_err();
        assert!(msg.contains(want), "{extra}: {msg}");
    }
}

#[test]
fn jdbc_pass_through_and_worker_keys_are_ignored_with_reasons() {
    let (result, warnings) = with(
        r#""database.allowPublicKeyRetrieval": "true", "database.connectionTimeZone": "UTC",
           "database.characterEncoding": "utf8", "driver.useCursorFetch": "true",
           "schema.history.internal": "io.debezium.storage.file.history.FileSchemaHistory",
           "schema.history.internal.file.filename": "/tmp/h.dat", "errors.tolerance": "all",
           "topic.creation.default.cleanup.policy": "compact", "topic.creation.default.partitions": 3,
           "key.converter.schemas.enable": false, "value.converter.schema.registry.url": "http://r",
           "signal.data.collection": "db.signals", "max.queue.size": 8192, "tasks.max": 1"#,
    );
    let c = result.unwrap();
    assert_eq!(
        c.partitions, 3,
        "a key the parser reads inside an ignored family is read"
    );
    assert!(!c.key_schemas);
    let reason = |k: &str| {
        warnings
            .iter()
            .find(|(w, _)| w == k)
            .map(|(_, r)| r.as_str())
            .unwrap_or_else(|| panic!("{k} not warned: {warnings:?}"))
    };
    assert!(reason("database.allowPublicKeyRetrieval").contains("RSA key"));
    assert!(reason("database.connectionTimeZone").contains("UTC"));
    assert!(reason("database.characterEncoding").contains("JDBC pass-through"));
    assert!(reason("driver.useCursorFetch").contains("JDBC pass-through"));
    assert!(reason("schema.history.internal").contains("no schema history"));
    assert!(reason("schema.history.internal.file.filename").contains("no schema history"));
    assert!(reason("topic.creation.default.cleanup.policy").contains("broker"));
    for k in [
        "errors.tolerance",
        "value.converter.schema.registry.url",
        "signal.data.collection",
        "max.queue.size",
    ] {
        reason(k);
    }
    assert!(!warned_keys(&warnings).contains("topic.creation.default.partitions"));
    // A misspelt Debezium key is still unknown, not a JDBC option.
    let msg = with(r#""database.hostnam": "db""#).0.unwrap_err();
    assert!(
        msg.contains("unknown key \"database.hostnam\"; did you mean \"database.hostname\""),
        "{msg}"
    );
    let msg = with(r#""database.ssl.moed": "required""#).0.unwrap_err();
    assert!(msg.contains("did you mean \"database.ssl.mode\""), "{msg}");
}

#[test]
fn converter_and_schema_history_fields_have_debezium_defaults() {
    let c = with("\"tasks.max\": 1").0.unwrap();
    assert!(
        c.replace_null_with_default && c.key_replace_null_with_default,
        "JsonConverter's default"
    );
    assert!(
        !c.store_only_captured_tables_ddl && !c.store_only_captured_databases_ddl,
        "Debezium's default"
    );

    let c = with(
        r#""value.converter.replace.null.with.default": false, "key.converter.replace.null.with.default": "false",
           "schema.history.internal.store.only.captured.tables.ddl": true,
           "database.history.store.only.captured.databases.ddl": "true""#,
    )
    .0
    .unwrap();
    assert!(!c.replace_null_with_default && !c.key_replace_null_with_default);
    assert!(c.store_only_captured_tables_ddl, "3.x name");
    assert!(c.store_only_captured_databases_ddl, "1.x name");

    // The same value under both names is fine (case aside); different ones are a problem.
    let c = with(
        r#""schema.history.internal.store.only.captured.tables.ddl": "TRUE",
           "database.history.store.only.captured.tables.ddl": "true""#,
    )
    .0
    .unwrap();
    assert!(c.store_only_captured_tables_ddl);
    let msg = with(
        r#""schema.history.internal.store.only.captured.databases.ddl": true,
           "database.history.store.only.captured.databases.ddl": false, "value.converter.replace.null.with.default": "maybe""#,
    )
    .0
    .unwrap_err();
    assert!(
        msg.contains("schema.history.internal.store.only.captured.databases.ddl is true but its old name database.history.store.only.captured.databases.ddl is false"),
        "{msg}"
    );
    assert!(
        msg.contains("value.converter.replace.null.with.default: \"maybe\""),
        "{msg}"
    );
}

#[test]
fn old_names_are_read_and_conflicts_reported() {
    let c = with(
        r#""database.whitelist": "inventory", "table.blacklist": "inventory\\.audit",
           "column.blacklist": "inventory\\.customers\\.ssn", "heartbeat.topics.prefix": "hb",
           "event.deserialization.failure.handling.mode": "warn""#,
    )
    .0
    .unwrap();
    assert!(
        c.filter.includes("inventory", "customers") && !c.filter.includes("inventory", "audit")
    );
    assert!(!c.filter.includes("shop", "orders"));
    assert!(!c.columns.keeps("inventory.customers.ssn"));
    assert_eq!(c.heartbeat_topics_prefix, "hb");
    assert_eq!(c.failure_mode, FailureMode::Warn);
    let c = with(r#""topic.heartbeat.prefix": "beat""#).0.unwrap();
    assert_eq!(c.heartbeat_topics_prefix, "beat", "3.x name");

    let msg = with(
        r#""database.whitelist": "a", "database.include.list": "b",
           "event.processing.failure.handling.mode": "fail", "event.deserialization.failure.handling.mode": "ignore",
           "name": "other""#,
    )
    .0
    .unwrap_err();
    for want in [
        "database.include.list is \"b\" but its old name database.whitelist is \"a\"",
        "event.processing.failure.handling.mode is \"fail\" but its old name event.deserialization.failure.handling.mode is \"ignore\"",
        "name is \"inv\" but config.name is \"other\"",
    ] {
        assert!(msg.contains(want), "{want} in {msg}");
    }
    // Kafka Connect's copy of the name inside config is fine when it agrees.
    assert_eq!(with(r#""name": "inv""#).0.unwrap().name, "inv");
}

#[test]
fn every_problem_is_reported_at_once_with_refusals() {
    let msg = with(
        r#""transforms": "route", "transforms.route.type": "x", "database.hostnam": "db",
           "snapshot.locking.mode": "custom", "database.server.name": "other", "converters": "c", "c.type": "x",
           "database.port": "abc""#,
    )
    .0
    .unwrap_err();
    for want in [
        "transforms.route.type: x is not supported",
        "did you mean \"database.hostname\"",
        "custom locking",
        "database.server.name is \"other\"",
        "custom converters",
        "database.port",
    ] {
        assert!(msg.contains(want), "{want} in {msg}");
    }
    assert!(msg.contains("(6 problems)"), "{msg}");
}

/// Every key of Debezium 3.x's MySQL connector documentation (connector,
/// advanced, schema history and pass-through properties), the Kafka Connect
/// keys a registration carries, and Debezium 1.x's old names.
const DEBEZIUM_KEYS: &[&str] = &[
    // Required and basic connector properties.
    "bigint.unsigned.handling.mode",
    "binary.handling.mode",
    "column.exclude.list",
    "column.include.list",
    "column.mask.hash.SHA-256.with.salt.s4lt",
    "column.mask.hash.v2.SHA-256.with.salt.s4lt",
    "column.mask.with.8.chars",
    "column.propagate.source.type",
    "column.truncate.to.20.chars",
    "connect.timeout.ms",
    "connector.class",
    "database.exclude.list",
    "database.hostname",
    "database.include.list",
    "database.jdbc.driver",
    "database.password",
    "database.port",
    "database.protocol",
    "database.server.id",
    "database.user",
    "decimal.handling.mode",
    "event.deserialization.failure.handling.mode",
    "field.name.adjustment.mode",
    "gtid.source.excludes",
    "gtid.source.includes",
    "gtid.ignore.on.recovery",
    "include.query",
    "include.schema.changes",
    "include.schema.comments",
    "inconsistent.schema.handling.mode",
    "message.key.columns",
    "name",
    "schema.name.adjustment.mode",
    "skip.messages.without.change",
    "table.exclude.list",
    "table.include.list",
    "tasks.max",
    "time.precision.mode",
    "tombstones.on.delete",
    "topic.prefix",
    "datatype.propagate.source.type",
    // Advanced connector properties.
    "binlog.buffer.size",
    "binlog.net.read.timeout",
    "binlog.net.write.timeout",
    "connect.keep.alive",
    "connect.keep.alive.interval.ms",
    "converters",
    "custom.metric.tags",
    "custom.sanitize.pattern",
    "database.initial.statements",
    "database.query.timeout.ms",
    "database.ssl.keystore",
    "database.ssl.keystore.password",
    "database.ssl.mode",
    "database.ssl.truststore",
    "database.ssl.truststore.password",
    "ddl.parser.type",
    "enable.time.adjuster",
    "errors.max.retries",
    "event.converting.failure.handling.mode",
    "event.processing.failure.handling.mode",
    "heartbeat.action.query",
    "heartbeat.interval.ms",
    "incremental.snapshot.allow.schema.changes",
    "incremental.snapshot.chunk.size",
    "incremental.snapshot.watermarking.strategy",
    "max.batch.size",
    "max.queue.size",
    "max.queue.size.in.bytes",
    "min.row.count.to.stream.results",
    "notification.enabled.channels",
    "notification.sink.topic.name",
    "poll.interval.ms",
    "poll.dispatch.interval.ms",
    "provide.transaction.metadata",
    "read.only",
    "signal.data.collection",
    "signal.enabled.channels",
    "signal.kafka.topic",
    "signal.kafka.groupId",
    "signal.kafka.bootstrap.servers",
    "signal.kafka.poll.timeout.ms",
    "signal.consumer.security.protocol",
    "signal.poll.interval.ms",
    "signal.emit.failure.backoff.ms",
    "signal.emit.failure.max.retries",
    "skipped.operations",
    "snapshot.delay.ms",
    "snapshot.fetch.size",
    "snapshot.include.collection.list",
    "snapshot.lock.timeout.ms",
    "snapshot.locking.mode",
    "snapshot.locking.mode.custom.name",
    "snapshot.max.threads",
    "legacy.snapshot.max.threads",
    "snapshot.max.threads.multiplier",
    "snapshot.mode",
    "snapshot.mode.configuration.based.snapshot.data",
    "snapshot.mode.configuration.based.snapshot.on.data.error",
    "snapshot.mode.configuration.based.snapshot.on.schema.error",
    "snapshot.mode.configuration.based.snapshot.schema",
    "snapshot.mode.configuration.based.start.stream",
    "snapshot.mode.custom.name",
    "snapshot.query.mode",
    "snapshot.query.mode.custom.name",
    "snapshot.select.statement.overrides",
    "snapshot.tables.order.by.row.count",
    "source.struct.version",
    "statistics.metrics.enabled",
    "streaming.delay.ms",
    "table.ignore.builtin",
    "topic.cache.size",
    "topic.delimiter",
    "topic.heartbeat.prefix",
    "topic.heartbeat.name",
    "topic.naming.strategy",
    "topic.transaction",
    "use.nongraceful.disconnect",
    "guardrail.collections.max",
    "guardrail.collections.limit.action",
    "heartbeat.topics.prefix",
    "database.server.id.offset",
    "resolve.create.table.like.schema",
    "gtid.source.filter.dml.events",
    "connection.validation.timeout.ms",
    "executor.shutdown.timeout.ms",
    "extended.headers.enabled",
    "post.processors",
    "query.fetch.size",
    "queue.provider.type",
    "retriable.restart.connector.wait.ms",
    "sourceinfo.struct.maker",
    "transaction.metadata.factory",
    "unavailable.value.placeholder",
    "openlineage.integration.enabled",
    "openlineage.integration.config.file.path",
    // Schema history and its pass-through clients.
    "schema.history.internal",
    "schema.history.internal.kafka.topic",
    "schema.history.internal.kafka.bootstrap.servers",
    "schema.history.internal.kafka.recovery.poll.interval.ms",
    "schema.history.internal.kafka.query.timeout.ms",
    "schema.history.internal.kafka.create.timeout.ms",
    "schema.history.internal.kafka.recovery.attempts",
    "schema.history.internal.skip.unparseable.ddl",
    "schema.history.internal.store.only.captured.tables.ddl",
    "schema.history.internal.store.only.captured.databases.ddl",
    "schema.history.internal.memory.optimization",
    "schema.history.internal.prefer.ddl",
    "schema.history.internal.ddl.filter",
    "schema.history.internal.file.filename",
    "schema.history.internal.producer.security.protocol",
    "schema.history.internal.consumer.ssl.keystore.location",
    // Pass-through database driver properties (3.x driver.*, 2.x database.*).
    "driver.allowPublicKeyRetrieval",
    "database.allowPublicKeyRetrieval",
    "database.connectionTimeZone",
    "database.serverTimezone",
    "database.useSSL",
    "database.sslMode",
    "database.characterEncoding",
    "database.zeroDateTimeBehavior",
    "database.tinyInt1isBit",
    // Kafka Connect keys of a registration.
    "key.converter",
    "value.converter",
    "key.converter.schemas.enable",
    "value.converter.schemas.enable",
    "key.converter.replace.null.with.default",
    "value.converter.replace.null.with.default",
    "value.converter.decimal.format",
    "value.converter.schema.registry.url",
    "header.converter",
    "config.action.reload",
    "transforms",
    "transforms.unwrap.type",
    "predicates",
    "predicates.p.type",
    "errors.tolerance",
    "errors.retry.timeout",
    "errors.retry.delay.max.ms",
    "errors.log.enable",
    "errors.log.include.messages",
    "topic.creation.groups",
    "topic.creation.default.partitions",
    "topic.creation.default.replication.factor",
    "topic.creation.default.cleanup.policy",
    "topic.creation.enable",
    "exactly.once.support",
    "transaction.boundary",
    "transaction.boundary.interval.ms",
    "offsets.storage.topic",
    "producer.override.compression.type",
    "consumer.override.auto.offset.reset",
    "admin.override.request.timeout.ms",
    // Debezium 1.x names.
    "database.server.name",
    "database.whitelist",
    "database.blacklist",
    "table.whitelist",
    "table.blacklist",
    "column.whitelist",
    "column.blacklist",
    "database.history",
    "database.history.kafka.bootstrap.servers",
    "database.history.kafka.topic",
    "database.history.skip.unparseable.ddl",
    "database.history.store.only.captured.tables.ddl",
    "database.history.store.only.captured.databases.ddl",
    "database.history.producer.security.protocol",
    "snapshot.locking.minimal",
    "snapshot.new.tables",
    "gtid.new.channel.position",
];

/// Each key is read, ignored or refused: none is unknown, whatever the value.
#[test]
fn every_debezium_key_is_handled() {
    let mut config: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str::<serde_json::Value>(MINIMAL).unwrap()["config"]
            .as_object()
            .unwrap()
            .clone();
    for k in DEBEZIUM_KEYS {
        config.entry(*k).or_insert_with(|| "x".into());
    }
    config.insert("snapshot.select.statement.overrides".into(), "".into());
    let json = serde_json::json!({"name": "inv", "config": config}).to_string();
    let err = Config::from_json(&json, no_env).unwrap_err();
    let unknown: Vec<&String> = err
        .0
        .iter()
        .filter(|p| p.starts_with("unknown key"))
        .collect();
    assert!(unknown.is_empty(), "{unknown:?}");
}

/// A key the parser reads is not also ignored or refused, and no key is
/// both ignored and refused: each key has exactly one handling.
#[test]
fn every_key_has_exactly_one_handling() {
    let (_, recorded) = Config::from_json_recorded(MINIMAL, no_env);
    let raw = Default::default();
    for k in &recorded.asked {
        for (keys, _) in IGNORED {
            assert!(keys.root() != Some(k.as_str()), "{k} is read and ignored");
        }
        for r in REFUSED {
            assert!(!r.keys.covers(k, &raw), "{k} is read and refused");
        }
    }
    for (keys, _) in IGNORED {
        if let Keys::One(k) = keys {
            assert!(
                !REFUSED.iter().any(|r| r.keys.covers(k, &raw)),
                "{k} is ignored and refused"
            );
        }
    }
    let mut seen = BTreeSet::new();
    for d in IGNORED
        .iter()
        .map(|(k, _)| k.display())
        .chain(REFUSED.iter().map(|r| r.keys.display()))
    {
        assert!(seen.insert(d.clone()), "{d} listed twice");
    }
}

/// The list of handled keys in docs/configuration.md, built from the code:
/// the keys the parser reads, the keys read by pattern, and the ignored and
/// refused tables.
fn key_list() -> String {
    let (_, recorded) = Config::from_json_recorded(MINIMAL, no_env);
    let raw = Default::default();
    // A family some of whose keys are read lists "the others".
    let display = |keys: Keys| {
        let read_inside = recorded
            .asked
            .iter()
            .any(|k| keys.covers(k, &raw) && keys.root() != Some(k.as_str()));
        match read_inside {
            true => format!("{} (the others)", keys.display()),
            false => keys.display(),
        }
    };
    let mut rows: Vec<(String, String, String)> = Vec::new();
    for k in &recorded.asked {
        let handling = match recorded.old_names.get(k) {
            Some(new) => format!("implemented: old name of `{new}`"),
            None => "implemented".into(),
        };
        rows.push((k.clone(), format!("`{k}`"), handling));
    }
    for k in PARAMETERIZED {
        rows.push((k.to_string(), format!("`{k}`"), "implemented".into()));
    }
    for (keys, why) in IGNORED {
        rows.push((keys.sort_key(), display(*keys), format!("ignored: {why}")));
    }
    for r in REFUSED {
        rows.push((r.keys.sort_key(), display(r.keys), r.handling()));
    }
    rows.sort();
    let mut out = String::from("| key | handling |\n|---|---|\n");
    for (_, key, handling) in rows {
        out.push_str(&format!("| {key} | {} |\n", markdown_text(&handling)));
    }
    out
}

/// `text` for a Markdown table cell: outside code spans, `<` and `>` are
/// not HTML and `*` is not emphasis.
fn markdown_text(text: &str) -> String {
    let mut out = String::new();
    for (i, part) in text.split('`').enumerate() {
        if i > 0 {
            out.push('`');
        }
        if i % 2 == 1 {
            out.push_str(part);
        } else {
            out.push_str(
                &part
                    .replace('<', "&lt;")
                    .replace('>', "&gt;")
                    .replace('*', "\\*"),
            );
        }
    }
    out
}

const BEGIN: &str = "<!-- config-keys:begin -->\n";
const END: &str = "<!-- config-keys:end -->";

/// docs/configuration.md ("Every key of a Debezium registration") holds
/// exactly [`key_list`] between its markers. With `BP_UPDATE_README=1` the
/// block is rewritten instead (the name is older than the file's move out
/// of the README).
#[test]
fn readme_key_list() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/configuration.md");
    let readme = std::fs::read_to_string(path).unwrap();
    let start = readme
        .find(BEGIN)
        .expect("docs/configuration.md lacks <!-- config-keys:begin -->")
        + BEGIN.len();
    let end = start
        + readme[start..]
            .find(END)
            .expect("docs/configuration.md lacks <!-- config-keys:end -->");
    let want = key_list();
    if std::env::var_os("BP_UPDATE_README").is_some_and(|v| v == "1") {
        std::fs::write(
            path,
            format!("{}{want}{}", &readme[..start], &readme[end..]),
        )
        .unwrap();
        return;
    }
    assert!(
        readme[start..end] == want,
        "docs/configuration.md's key list is stale: run BP_UPDATE_README=1 cargo test --lib config::tests_registration::readme_key_list"
    );
}
