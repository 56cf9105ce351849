//! [`Config::from_json`]: a registration JSON to a validated [`Config`].
//!
//! Sections of keys are read one after another through the key
//! [`Reader`], which collects every problem instead of stopping at the
//! first; the keys nobody asked for are reported as unknown at the end.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value as Json;

use super::reader::{
    substitute_env, Reader, Recorded, MASK_CHARS, MASK_HASH, OVERRIDE_PREFIX, TRUNCATE_CHARS,
};
use super::*;
use crate::encode::{ColumnMask, HashAlgorithm};

const JSON_CONVERTER: &str = "org.apache.kafka.connect.json.JsonConverter";
const MYSQL_CONNECTOR: &str = "io.debezium.connector.mysql.MySqlConnector";

impl Config {
    /// Parses a registration JSON (`{"name": ..., "config": {...}}`), or a bare
    /// config object with a `name` key, substituting `${env:NAME}` from
    /// `env`. Returns every problem at once.
    pub fn from_json(
        text: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigProblems> {
        Self::from_json_recorded(text, env).0
    }

    /// [`Config::from_json`], with what the parse saw: the keys it asked
    /// for and its warnings (empty when the text is not a JSON object).
    pub(super) fn from_json_recorded(
        text: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> (Result<Self, ConfigProblems>, Recorded) {
        match Self::parse_text(text, env) {
            Ok((result, recorded)) => (result, recorded),
            Err(problems) => (Err(problems), Recorded::default()),
        }
    }

    fn parse_text(
        text: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<(Result<Self, ConfigProblems>, Recorded), ConfigProblems> {
        let root: Json = serde_json::from_str(text).map_err(|e| {
            ConfigProblems(vec![match super::reader::comment_line(text) {
                // Debezium's documentation (and many registrations copied
                // from it) annotate JSON with comments, which JSON has not.
                Some(line) => format!(
                    "config is not valid JSON: line {line} has a // or /* comment, which JSON does not allow; remove the comments ({e})"
                ),
                None => format!("config is not valid JSON: {e}"),
            }])
        })?;
        let Json::Object(mut root) = root else {
            return Err(ConfigProblems(vec![
                "config must be a JSON object {\"name\": ..., \"config\": {...}}".into(),
            ]));
        };
        let mut problems = Vec::new();
        let (name, obj) = match root.remove("config") {
            Some(Json::Object(cfg)) => {
                let name = match root.remove("name") {
                    Some(Json::String(s)) => Some(s),
                    _ => None,
                };
                for k in root.keys() {
                    problems.push(format!(
                        "unknown top-level key {k:?}; expected \"name\" and \"config\""
                    ));
                }
                (name, cfg)
            }
            Some(_) => {
                return Err(ConfigProblems(vec![
                    "\"config\" must be a JSON object".into()
                ]));
            }
            None => {
                let name = match root.remove("name") {
                    Some(Json::String(s)) => Some(s),
                    _ => None,
                };
                (name, root)
            }
        };

        let mut raw: BTreeMap<String, String> = BTreeMap::new();
        for (k, v) in obj {
            let s = match v {
                Json::String(s) => s,
                Json::Number(n) => n.to_string(),
                Json::Bool(b) => b.to_string(),
                Json::Null => continue,
                _ => {
                    problems.push(format!("{k}: value must be a string, number or boolean"));
                    continue;
                }
            };
            match substitute_env(&s, &env) {
                Ok(s) => {
                    raw.insert(k, s);
                }
                Err(var) => problems.push(format!(
                    "{k}: environment variable {var} referenced by ${{env:{var}}} is not set"
                )),
            }
        }

        // Unknown keys are reported where they always were: before the
        // problems of the keys that were read.
        let unknown_at = problems.len();
        let mut r = Reader::new(&raw, &mut problems);
        // Kafka Connect also accepts the name inside "config".
        let name = match (name.filter(|n| !n.is_empty()), r.opt_str("name")) {
            (Some(outer), Some(inner)) if outer != inner => {
                r.problems.push(format!(
                    "name is {outer:?} but config.name is {inner:?}; they must agree"
                ));
                outer
            }
            (Some(n), _) | (None, Some(n)) => n,
            (None, None) => String::new(),
        };
        if name.is_empty() {
            r.problems.push(
                "name: the connector needs a non-empty \"name\" (it keys the stored offsets)"
                    .into(),
            );
        }
        if let Some(c) = r.opt_str("connector.class") {
            if c != MYSQL_CONNECTOR {
                r.problems.push(format!(
                    "connector.class: only {MYSQL_CONNECTOR} is supported, got {c:?}"
                ));
            }
        }
        if let Some(t) = r.opt_str("tasks.max") {
            if t != "1" {
                r.problems.push(
                    "tasks.max: the MySQL connector always runs one task; set 1 or remove it"
                        .into(),
                );
            }
        }
        for key in ["key.converter", "value.converter"] {
            if let Some(c) = r.opt_str(key) {
                if c != JSON_CONVERTER {
                    r.problems.push(format!(
                        "{key}: only {JSON_CONVERTER} is supported, got {c:?}"
                    ));
                }
            }
        }

        let rds = rds_target(&mut r);
        let hostname = match (&rds, r.opt_str("database.hostname")) {
            (_, Some(h)) => h,
            // Looked up from the RDS API by Config::load.
            (Some(_), None) => {
                if r.opt_str("database.port").is_some() {
                    r.problems.push(
                        "database.port is set but database.hostname is not: the endpoint and its port come from the RDS API (rds.*); remove database.port, or set both".into(),
                    );
                }
                String::new()
            }
            (None, None) => {
                r.problems.push(
                    "database.hostname: required (or rds.cluster.identifier / rds.instance.identifier, to look the writer endpoint up with the RDS API)".into(),
                );
                String::new()
            }
        };
        let port = r.parse_or("database.port", 3306u16);
        let user = r.required("database.user");
        let password = Secret::new(r.opt_str("database.password").unwrap_or_default());
        let server_id = r.parse_or("database.server.id", default_server_id(&name));
        if server_id == 0 {
            r.problems.push(
                "database.server.id: must be a positive number, unique among the server's replicas"
                    .into(),
            );
        }
        let topic_prefix = match r.renamed("topic.prefix", "database.server.name") {
            Some(p) => p,
            None => {
                r.problems.push(
                    "topic.prefix: required (the prefix of every topic name, e.g. \"dbserver1\")"
                        .into(),
                );
                String::new()
            }
        };
        if !topic_prefix.is_empty()
            && !topic_prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            r.problems.push(format!(
                "topic.prefix: {topic_prefix:?} may only contain letters, digits, '.', '_' and '-' (Kafka topic rules)"
            ));
        }
        // Debezium 1.x's names (whitelist, blacklist) are read as aliases.
        let lists = [
            r.renamed("database.include.list", "database.whitelist"),
            r.renamed("database.exclude.list", "database.blacklist"),
            r.renamed("table.include.list", "table.whitelist"),
            r.renamed("table.exclude.list", "table.blacklist"),
        ];
        let filter = TableFilter {
            database_include: r.patterns_of("database.include.list", lists[0].clone()),
            database_exclude: r.patterns_of("database.exclude.list", lists[1].clone()),
            table_include: r.patterns_of("table.include.list", lists[2].clone()),
            table_exclude: r.patterns_of("table.exclude.list", lists[3].clone()),
            raw: lists,
        };
        if filter.database_include.is_some() && filter.database_exclude.is_some() {
            r.problems
                .push("database.include.list and database.exclude.list cannot both be set".into());
        }
        if filter.table_include.is_some() && filter.table_exclude.is_some() {
            r.problems
                .push("table.include.list and table.exclude.list cannot both be set".into());
        }
        let snapshot_mode = match r.opt_str("snapshot.mode") {
            None => SnapshotMode::Initial,
            Some(s) => SnapshotMode::parse(&s).unwrap_or_else(|| {
                r.problems.push(match s.to_ascii_lowercase().as_str() {
                    "custom" => "snapshot.mode: custom snapshotters are not supported; use one of initial, initial_only, when_needed, no_data, recovery, never, always".into(),
                    "configuration_based" => "snapshot.mode: configuration_based is not supported; use one of initial, initial_only, when_needed, no_data, recovery, never, always".into(),
                    _ => format!("snapshot.mode: unknown mode {s:?}; one of initial, initial_only, when_needed, no_data, recovery, never, always"),
                });
                SnapshotMode::Initial
            }),
        };
        let snapshot_locking_mode = snapshot_locking_mode(&mut r);
        let tombstones_on_delete = r.bool_or("tombstones.on.delete", true);
        let key_schemas = r.bool_or("key.converter.schemas.enable", true);
        let value_schemas = r.bool_or("value.converter.schemas.enable", true);
        let replace_null_with_default =
            r.bool_or("value.converter.replace.null.with.default", true);
        let key_replace_null_with_default =
            r.bool_or("key.converter.replace.null.with.default", true);
        let sink = match r.opt_str("sink.type").as_deref() {
            None | Some("kafka") => SinkType::Kafka,
            Some("stdout") => SinkType::Stdout,
            Some(other) => {
                r.problems.push(format!(
                    "sink.type: unknown {other:?}; one of kafka (the default), stdout"
                ));
                SinkType::Kafka
            }
        };
        let bootstrap = match sink {
            SinkType::Kafka => r.required("kafka.bootstrap.servers"),
            // Records go to stdout: no broker is needed.
            SinkType::Stdout => r.opt_str("kafka.bootstrap.servers").unwrap_or_default(),
        };
        let kafka_bootstrap: Vec<String> = bootstrap
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        for b in &kafka_bootstrap {
            if !b
                .rsplit_once(':')
                .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok())
            {
                r.problems
                    .push(format!("kafka.bootstrap.servers: {b:?} is not host:port"));
            }
        }
        let compression = match r.opt_str("kafka.compression.type") {
            None => Compression::None,
            Some(name) => match Compression::ALL.into_iter().find(|c| c.name() == name) {
                Some(c) if c.compiled_in() => c,
                Some(c) => {
                    r.problems.push(format!(
                        "kafka.compression.type: this build has no {name} codec (built without the \
                         compression-{name} cargo feature); rebuild with --features compression-{name}, \
                         or pick one of {}",
                        compiled_codecs()
                    ));
                    c
                }
                None => {
                    r.problems.push(format!(
                        "kafka.compression.type: unknown {name:?}; one of {}",
                        compiled_codecs()
                    ));
                    Compression::None
                }
            },
        };
        let kafka_timeout = r.millis_or("kafka.request.timeout.ms", 30_000);
        let kafka_max_record_bytes = r.parse_or("kafka.max.request.size", 1_048_576usize);
        let partitions = r.parse_or("topic.creation.default.partitions", 1i32);
        if partitions < 1 {
            r.problems
                .push("topic.creation.default.partitions: must be at least 1".into());
        }
        let replication_factor = r.parse_or("topic.creation.default.replication.factor", -1i16);
        if replication_factor == 0 || replication_factor < -1 {
            r.problems.push("topic.creation.default.replication.factor: must be -1 (broker default) or at least 1".into());
        }
        // Every key of every storage is asked for, so a key of the storage
        // not chosen is not reported as unknown.
        let dynamodb_table = r.opt_str("offset.storage.dynamodb.table");
        let dynamodb_endpoint = r.opt_str("offset.storage.dynamodb.endpoint");
        let dynamodb_region = r.opt_str("offset.storage.dynamodb.region");
        let offsets_file = r.opt_str("offset.storage.file.filename");
        let offsets = match r.opt_str("offset.storage").as_deref() {
            Some("dynamodb") => OffsetStorage::DynamoDb {
                table: dynamodb_table.unwrap_or_else(|| "binlog-poller-offsets".into()),
                endpoint: dynamodb_endpoint,
                region: dynamodb_region,
            },
            Some("file") | None => match offsets_file {
                Some(path) => OffsetStorage::File { path },
                None => {
                    r.problems.push(
                        "offset.storage.file.filename: required with offset.storage=file (the default); or set offset.storage=dynamodb".into(),
                    );
                    OffsetStorage::File {
                        path: String::new(),
                    }
                }
            },
            Some(other) => {
                r.problems.push(format!(
                    "offset.storage: unknown {other:?}; one of dynamodb, file"
                ));
                OffsetStorage::File {
                    path: String::new(),
                }
            }
        };
        let offset_flush_interval = r.millis_or("offset.flush.interval.ms", 10_000);
        let lease_ttl = r.millis_or("offset.lease.ttl.ms", DEFAULT_LEASE_TTL.as_millis() as u64);
        if lease_ttl < Duration::from_millis(1000) {
            r.problems
                .push("offset.lease.ttl.ms: must be at least 1000".into());
        }
        let poll_max_duration = r.millis_or("poll.max.duration.ms", 60_000);
        if poll_max_duration < Duration::from_millis(100) {
            r.problems
                .push("poll.max.duration.ms: must be at least 100".into());
        }
        let poll_max_events = r.opt_parse::<u64>("poll.max.events").filter(|&n| n > 0);
        let poll_interval = r.millis_or("poll.interval.ms", 1_000);
        let max_batch_records = r.parse_or("max.batch.size", 8192usize);
        if max_batch_records == 0 {
            r.problems.push("max.batch.size: must be at least 1".into());
        }
        let connect_timeout = r.millis_or("connect.timeout.ms", 30_000);
        let fetch_size = r.opt_parse::<usize>("snapshot.fetch.size");
        let chunk_size = r.parse_or("incremental.snapshot.chunk.size", 4096usize);
        let snapshot_chunk_size = fetch_size.unwrap_or(chunk_size);
        if snapshot_chunk_size == 0 {
            r.problems
                .push("snapshot.fetch.size: must be at least 1".into());
        }
        let snapshot_lock_timeout = r.millis_or("snapshot.lock.timeout.ms", 10_000);
        let heartbeat_interval =
            Some(r.millis_or("heartbeat.interval.ms", 0)).filter(|d| !d.is_zero());
        let heartbeat_topics_prefix = r
            .renamed("topic.heartbeat.prefix", "heartbeat.topics.prefix")
            .unwrap_or_else(|| "__debezium-heartbeat".into());
        let snapshot_include = r.patterns("snapshot.include.collection.list");
        let mut snapshot_overrides = BTreeMap::new();
        let listed: Vec<String> = r
            .opt_str("snapshot.select.statement.overrides")
            .map(|l| {
                l.split(',')
                    .map(|t| t.trim().to_string())
                    .filter(|t| !t.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        for t in &listed {
            match r.opt_str(&format!("{OVERRIDE_PREFIX}{t}")) {
                Some(sql) => {
                    snapshot_overrides.insert(t.clone(), sql);
                }
                None => r.problems.push(format!(
                    "snapshot.select.statement.overrides lists {t:?} but {OVERRIDE_PREFIX}{t} is not set"
                )),
            }
        }
        for k in raw.keys().filter_map(|k| k.strip_prefix(OVERRIDE_PREFIX)) {
            if !listed.iter().any(|t| t == k) {
                r.problems.push(format!(
                    "{OVERRIDE_PREFIX}{k} is set but {k:?} is not listed in snapshot.select.statement.overrides"
                ));
            }
        }

        let ssl_mode = r.choice(
            "database.ssl.mode",
            SslMode::Preferred,
            &[
                ("disabled", SslMode::Disabled),
                ("preferred", SslMode::Preferred),
                ("required", SslMode::Required),
                ("verify_ca", SslMode::VerifyCa),
                ("verify_identity", SslMode::VerifyIdentity),
            ],
        );
        let ssl_ca = r.opt_str("database.ssl.ca");
        let ssl_client = match (
            r.opt_str("database.ssl.cert"),
            r.opt_str("database.ssl.key"),
        ) {
            (Some(c), Some(k)) => Some((c, Secret::new(k))),
            (None, None) => None,
            _ => {
                r.problems.push(
                    "database.ssl.cert and database.ssl.key go together (a client certificate and its key)".into(),
                );
                None
            }
        };
        if ssl_mode == SslMode::Disabled && (ssl_ca.is_some() || ssl_client.is_some()) {
            r.problems.push(
                "database.ssl.mode=disabled but database.ssl.ca/cert/key are set; pick a TLS mode (verify_identity) or remove them".into(),
            );
        }
        let iam_region = r.opt_str("database.iam.region");
        let iam_auth = r
            .bool_or("database.iam.auth", false)
            .then_some(IamAuth { region: iam_region });
        let ssl_mode = match (&iam_auth, ssl_mode) {
            (Some(_), SslMode::Disabled) => {
                r.problems.push(
                    "database.iam.auth=true needs TLS (RDS accepts IAM tokens only over TLS); set database.ssl.mode=verify_identity with database.ssl.ca=<global-bundle.pem>".into(),
                );
                ssl_mode
            }
            // The token is a password in clear text: never send it without
            // TLS, even to a server that offers none.
            (Some(_), SslMode::Preferred) => SslMode::Required,
            _ => ssl_mode,
        };
        if iam_auth.is_some() && !password.expose().is_empty() {
            r.problems.push(
                "database.password is set but database.iam.auth=true signs a token instead; remove one of them".into(),
            );
        }
        // aws-sdk-rds's token generator puts the user into the signed URL
        // as it is: other characters would sign for another name.
        if iam_auth.is_some()
            && !user
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        {
            r.problems.push(format!(
                "database.user {user:?}: with database.iam.auth=true the user name may use letters, digits, '_', '.' and '-' only (the RDS auth token carries it unencoded)"
            ));
        }
        let kafka_security = KafkaSecurity::read(&mut r);
        let transforms = super::transforms::read(&mut r);
        let decimal_mode = r.choice(
            "decimal.handling.mode",
            DecimalMode::Precise,
            &[
                ("precise", DecimalMode::Precise),
                ("string", DecimalMode::String),
                ("double", DecimalMode::Double),
            ],
        );
        let bigint_unsigned_mode = r.choice(
            "bigint.unsigned.handling.mode",
            BigIntUnsignedMode::Long,
            &[
                ("long", BigIntUnsignedMode::Long),
                ("precise", BigIntUnsignedMode::Precise),
            ],
        );
        let binary_mode = r.choice(
            "binary.handling.mode",
            BinaryMode::Bytes,
            &[
                ("bytes", BinaryMode::Bytes),
                ("base64", BinaryMode::Base64),
                ("base64-url-safe", BinaryMode::Base64UrlSafe),
                ("hex", BinaryMode::Hex),
            ],
        );
        let time_precision_mode = r.choice(
            "time.precision.mode",
            TimePrecisionMode::AdaptiveTimeMicroseconds,
            &[
                (
                    "adaptive_time_microseconds",
                    TimePrecisionMode::AdaptiveTimeMicroseconds,
                ),
                ("connect", TimePrecisionMode::Connect),
            ],
        );
        let include_schema_changes = r.bool_or("include.schema.changes", true);
        let include_schema_comments = r.bool_or("include.schema.comments", false);
        let store_only_captured_tables_ddl = r.renamed_bool(
            "schema.history.internal.store.only.captured.tables.ddl",
            "database.history.store.only.captured.tables.ddl",
            false,
        );
        let store_only_captured_databases_ddl = r.renamed_bool(
            "schema.history.internal.store.only.captured.databases.ddl",
            "database.history.store.only.captured.databases.ddl",
            false,
        );
        let provide_transaction_metadata = r.bool_or("provide.transaction.metadata", false);
        let include_query = r.bool_or("include.query", false);
        let skipped_operations = match r.opt_str("skipped.operations") {
            None => SkippedOps {
                truncate: true,
                ..SkippedOps::default()
            },
            Some(list) => {
                let mut ops = SkippedOps::default();
                for op in list.split(',').map(str::trim).filter(|o| !o.is_empty()) {
                    match op {
                        "c" => ops.create = true,
                        "u" => ops.update = true,
                        "d" => ops.delete = true,
                        "t" => ops.truncate = true,
                        "none" => {}
                        other => r.problems.push(format!(
                            "skipped.operations: unknown operation {other:?}; a comma-separated list of c, u, d, t, or none"
                        )),
                    }
                }
                ops
            }
        };
        // Debezium still reads event.deserialization.failure.handling.mode,
        // the deprecated name, with the same values.
        let failure_value = r.renamed(
            "event.processing.failure.handling.mode",
            "event.deserialization.failure.handling.mode",
        );
        let failure_mode = r.choice_of(
            "event.processing.failure.handling.mode",
            failure_value,
            FailureMode::Fail,
            &[
                ("fail", FailureMode::Fail),
                ("warn", FailureMode::Warn),
                ("skip", FailureMode::Skip),
                ("ignore", FailureMode::Skip),
            ],
        );
        let column_include = r.renamed("column.include.list", "column.whitelist");
        let column_exclude = r.renamed("column.exclude.list", "column.blacklist");
        let mut columns = ColumnRules {
            include: r.patterns_of("column.include.list", column_include),
            exclude: r.patterns_of("column.exclude.list", column_exclude),
            propagate_source_type: r.patterns("column.propagate.source.type"),
            propagate_datatype: r.patterns("datatype.propagate.source.type"),
            ..ColumnRules::default()
        };
        if columns.include.is_some() && columns.exclude.is_some() {
            r.problems
                .push("column.include.list and column.exclude.list cannot both be set".into());
        }
        for k in raw.keys() {
            if let Some(rest) = k.strip_prefix(MASK_HASH) {
                let rest = rest.strip_prefix("v2.").unwrap_or(rest);
                match rest.split_once(".with.salt.") {
                    Some((algo, salt)) => match (HashAlgorithm::parse(algo), r.patterns(k)) {
                        (Some(algorithm), Some(p)) => columns.masks.push((
                            p,
                            ColumnMask::Hash {
                                algorithm,
                                salt: salt.to_string(),
                            },
                        )),
                        (None, _) => r.problems.push(format!(
                            "{k}: unsupported hash algorithm {algo:?}; one of SHA-1, SHA-256, SHA-384, SHA-512"
                        )),
                        _ => {}
                    },
                    None => r.problems.push(format!(
                        "{k}: expected column.mask.hash.<algorithm>.with.salt.<salt>"
                    )),
                }
            } else if let Some((n, p)) = r.chars_rule(k, MASK_CHARS) {
                columns.masks.push((p, ColumnMask::Stars(n)));
            } else if let Some((n, p)) = r.chars_rule(k, TRUNCATE_CHARS) {
                columns.truncates.push((p, n));
            }
        }
        if let Some(spec) = r.opt_str("message.key.columns") {
            for entry in spec.split(';').map(str::trim).filter(|e| !e.is_empty()) {
                let parsed = entry.rsplit_once(':').and_then(|(table, cols)| {
                    let cols: Vec<String> = cols
                        .split(',')
                        .map(|c| c.trim().to_string())
                        .filter(|c| !c.is_empty())
                        .collect();
                    (!cols.is_empty()).then(|| (table.trim(), cols))
                });
                match parsed.map(|(t, cols)| (Patterns::parse(t), cols)) {
                    Some((Ok(p), cols)) => columns.key_columns.push((p, cols)),
                    Some((Err(e), _)) => r.problems.push(format!(
                        "message.key.columns: invalid regular expression {e}"
                    )),
                    None => r.problems.push(format!(
                        "message.key.columns: {entry:?} is not <db>.<table>:<column>[,<column>...]"
                    )),
                }
            }
        }

        let recorded = r.finish(unknown_at);
        if !problems.is_empty() {
            return Ok((Err(ConfigProblems(problems)), recorded));
        }
        Ok((
            Ok(Config {
                name,
                hostname,
                port,
                user,
                password,
                server_id,
                topic_prefix,
                filter,
                snapshot_mode,
                snapshot_locking_mode,
                tombstones_on_delete,
                key_schemas,
                value_schemas,
                replace_null_with_default,
                key_replace_null_with_default,
                kafka_bootstrap,
                sink,
                compression,
                kafka_timeout,
                kafka_max_record_bytes,
                partitions,
                replication_factor,
                offsets,
                offset_flush_interval,
                lease_ttl,
                poll_max_duration,
                poll_max_events,
                poll_interval,
                max_batch_records,
                connect_timeout,
                snapshot_chunk_size,
                snapshot_lock_timeout,
                snapshot_include,
                snapshot_overrides,
                transforms,
                heartbeat_interval,
                heartbeat_topics_prefix,
                ssl_mode,
                ssl_ca,
                ssl_client,
                iam_auth,
                rds,
                kafka_security,
                decimal_mode,
                bigint_unsigned_mode,
                binary_mode,
                time_precision_mode,
                include_schema_changes,
                include_schema_comments,
                store_only_captured_tables_ddl,
                store_only_captured_databases_ddl,
                provide_transaction_metadata,
                include_query,
                skipped_operations,
                failure_mode,
                columns,
                redactor: crate::platform::secrets::Redactor::default(),
            }),
            recorded,
        ))
    }
}

pub(super) fn read_config_file(path: &str) -> Result<String, crate::Error> {
    std::fs::read_to_string(path).map_err(|source| crate::Error::ConfigFile {
        path: path.to_string(),
        source,
    })
}

/// `snapshot.locking.mode`, or Debezium 1.x's `snapshot.locking.minimal`
/// (true: minimal, false: extended); both set and disagreeing is a problem.
fn snapshot_locking_mode(r: &mut Reader<'_>) -> SnapshotLockingMode {
    const KEY: &str = "snapshot.locking.mode";
    const OLD: &str = "snapshot.locking.minimal";
    r.old_name(OLD, KEY);
    let old = r.bool_opt(OLD).map(|minimal| {
        if minimal {
            SnapshotLockingMode::Minimal
        } else {
            SnapshotLockingMode::Extended
        }
    });
    let Some(value) = r.opt_str(KEY) else {
        return old.unwrap_or(SnapshotLockingMode::Minimal);
    };
    let mode = match value.to_ascii_lowercase().as_str() {
        "minimal" | "minimal_percona" | "minimal_at_least_once" => SnapshotLockingMode::Minimal,
        "extended" => SnapshotLockingMode::Extended,
        "none" | "minimal_percona_no_table_locks" => {
            r.warn(
                KEY,
                format!("{value} still reads each snapshot chunk under LOCK TABLES t READ: without the lock a chunk could not be placed in the binlog stream without loss"),
            );
            SnapshotLockingMode::None
        }
        "custom" => {
            r.problems.push(format!(
                "{KEY}: custom locking is not supported; use minimal (the default): each snapshot chunk is read under a short LOCK TABLES t READ"
            ));
            return SnapshotLockingMode::Minimal;
        }
        _ => {
            r.problems.push(format!(
                "{KEY}: unknown mode {value:?}; one of minimal, extended, none"
            ));
            return SnapshotLockingMode::Minimal;
        }
    };
    if let Some(o) = old.filter(|o| *o != mode) {
        r.problems.push(format!(
            "{KEY} is {value:?} but its old form {OLD} says {}; keep {KEY} alone",
            if o == SnapshotLockingMode::Minimal {
                "minimal"
            } else {
                "extended"
            }
        ));
    }
    mode
}

/// Debezium picks a random id in 5400..6400; we derive one from the name so
/// it is stable across invocations.
fn default_server_id(name: &str) -> u32 {
    let h = name
        .bytes()
        .fold(2166136261u32, |h, b| (h ^ b as u32).wrapping_mul(16777619));
    5400 + h % 1000
}

/// The codecs this build has, for messages.
fn compiled_codecs() -> String {
    Compression::ALL
        .into_iter()
        .filter(|c| c.compiled_in())
        .map(Compression::name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `rds.cluster.identifier` / `rds.instance.identifier` / `rds.region`.
fn rds_target(r: &mut Reader<'_>) -> Option<RdsTarget> {
    use crate::platform::rds::RdsResource;
    let cluster = r.opt_str("rds.cluster.identifier");
    let instance = r.opt_str("rds.instance.identifier");
    let region = r.opt_str("rds.region");
    let resource = match (cluster, instance) {
        (Some(_), Some(_)) => {
            r.problems.push(
                "rds.cluster.identifier and rds.instance.identifier are both set; set one: the cluster for Aurora and Multi-AZ clusters, the instance otherwise".into(),
            );
            return None;
        }
        (Some(c), None) => RdsResource::Cluster(c),
        (None, Some(i)) => RdsResource::Instance(i),
        (None, None) => {
            if region.is_some() {
                r.problems.push(
                    "rds.region is set without rds.cluster.identifier or rds.instance.identifier"
                        .into(),
                );
            }
            return None;
        }
    };
    Some(RdsTarget {
        resource,
        region,
        discovered: false,
    })
}
