//! The keys the parser does not read: Debezium 3.x (and 1.x) MySQL connector
//! and Kafka Connect keys that a registration JSON carries, each either
//! ignored here with the reason (logged at warn when set) or refused with
//! why and what to use instead. Every other key is read by `parse`, or is
//! unknown. The list of handled keys in docs/configuration.md is generated from these
//! tables and the keys the parser reads (`tests::readme_key_list`).

/// Which keys an entry covers.
#[derive(Debug, Clone, Copy)]
pub(super) enum Keys {
    /// One key.
    One(&'static str),
    /// Every key under `<name>.` (a family such as `errors.`); keys of the
    /// family that the parser reads stay read (they are asked first).
    Family(&'static str),
    /// `<name>` itself and every key under `<name>.` (`transforms`,
    /// `transforms.unwrap.type`).
    RootAndFamily(&'static str),
    /// `<name>`, whose value lists symbolic names, and the keys under each
    /// listed `<symbolic name>.` (`converters` with `boolean.type`).
    Listing(&'static str),
    /// MySQL Connector/J options passed through as `database.<camelCaseName>`
    /// (Debezium 1.x/2.x pass-through: `database.allowPublicKeyRetrieval`).
    /// Debezium's own `database.*` keys are lower-case and dotted, so a
    /// misspelt one is still reported as unknown.
    JdbcPassThrough,
}

impl Keys {
    /// Whether `key` (with the raw config, for listings) is covered.
    pub(super) fn covers(
        self,
        key: &str,
        raw: &std::collections::BTreeMap<String, String>,
    ) -> bool {
        match self {
            Self::One(k) => key == k,
            Self::Family(p) => key.strip_prefix(p).is_some_and(|r| r.starts_with('.')),
            Self::RootAndFamily(p) => {
                key == p || key.strip_prefix(p).is_some_and(|r| r.starts_with('.'))
            }
            Self::Listing(k) => {
                key == k
                    || raw.get(k).is_some_and(|names| {
                        names
                            .split(',')
                            .map(str::trim)
                            .filter(|n| !n.is_empty())
                            .any(|n| key.strip_prefix(n).is_some_and(|r| r.starts_with('.')))
                    })
            }
            Self::JdbcPassThrough => key
                .strip_prefix("database.")
                .is_some_and(|r| !r.contains('.') && r.bytes().any(|b| b.is_ascii_uppercase())),
        }
    }

    /// The key itself, when the entry is about one key (or a family's root)
    /// whose value may be acceptable.
    pub(super) fn root(self) -> Option<&'static str> {
        match self {
            Self::One(k) | Self::RootAndFamily(k) | Self::Listing(k) => Some(k),
            Self::Family(_) | Self::JdbcPassThrough => None,
        }
    }

    /// How docs/configuration.md names the keys.
    #[cfg(test)]
    pub(super) fn display(self) -> String {
        match self {
            Self::One(k) => format!("`{k}`"),
            Self::Family(p) => format!("`{p}.*`"),
            Self::RootAndFamily(p) => format!("`{p}`, `{p}.*`"),
            Self::Listing(k) => format!("`{k}` and `<name>.*` of each name it lists"),
            Self::JdbcPassThrough => "`database.<camelCaseName>` (JDBC pass-through)".into(),
        }
    }

    /// Sort key for docs/configuration.md: a key, its family's own keys, then the
    /// family's other keys.
    #[cfg(test)]
    pub(super) fn sort_key(self) -> String {
        match self {
            Self::One(k) | Self::Listing(k) => k.to_string(),
            Self::Family(p) | Self::RootAndFamily(p) => format!("{p}.~"),
            Self::JdbcPassThrough => "database.~".into(),
        }
    }
}

const JDBC: &str =
    "the poller connects with its own client: JDBC pass-through options do not apply";
const HISTORY: &str = "no schema history is kept: rows decode with the binlog's table metadata and information_schema";
const ONE_TASK: &str = "one poll is one task: snapshot chunks are read one at a time";
const QUEUE: &str = "no queue between the binlog and Kafka: max.batch.size bounds memory";
const METRICS: &str = "no JMX metrics: each poll logs a summary and CloudWatch EMF metrics";
const RETRY: &str = "a failed poll is retried by the next poll";
const TLS_BY_SSL_MODE: &str = "TLS is set by database.ssl.mode (required, verify_ca, verify_identity) and database.ssl.ca; set those and remove this key";
const TIME_ZONE: &str =
    "sessions run in UTC: TIMESTAMP values are read as UTC and DATETIME carries no zone";
const DDL: &str =
    "DDL is classified by the poller's own tokenizer; tables are read from information_schema";
const OFFSETS: &str = "offsets live in offset.storage (file or dynamodb)";
const GTID_RESUME: &str =
    "a poll resumes by GTID set when the server has GTID mode on, else by file and position";
const NO_TX: &str =
    "Kafka transactions are not used: delivery is at least once, checkpointed after Kafka acknowledged";

/// Debezium and Kafka Connect keys with no meaning here, with the reason
/// logged when one is set: a registration JSON works unchanged.
pub(super) const IGNORED: &[(Keys, &str)] = &[
    (Keys::One("database.allowPublicKeyRetrieval"), "the client asks the server for its RSA key itself when caching_sha2_password runs without TLS"),
    (Keys::One("database.connectionTimeZone"), TIME_ZONE),
    (Keys::One("database.serverTimezone"), TIME_ZONE),
    (Keys::JdbcPassThrough, JDBC),
    (Keys::Family("driver"), JDBC),
    (Keys::One("database.jdbc.driver"), JDBC),
    (Keys::One("database.protocol"), JDBC),
    (Keys::One("database.initial.statements"), "the poller sets up its own sessions (UTC time zone, lock wait bound)"),
    (Keys::One("database.query.timeout.ms"), "a JDBC setting: chunk reads and the dump are bounded by the poll's deadline"),
    (Keys::One("database.server.id.offset"), ONE_TASK),
    (Keys::RootAndFamily("schema.history.internal"), HISTORY),
    (Keys::RootAndFamily("database.history"), HISTORY),
    (Keys::One("ddl.parser.type"), DDL),
    (Keys::One("resolve.create.table.like.schema"), DDL),
    (Keys::One("inconsistent.schema.handling.mode"), "no schema history can fall out of step: rows decode with the binlog's table metadata"),
    (Keys::One("event.converting.failure.handling.mode"), "a value the poller cannot decode follows event.processing.failure.handling.mode"),
    (Keys::One("unavailable.value.placeholder"), "rows are read with a FULL row image: no value is unavailable"),
    (Keys::One("enable.time.adjuster"), "dates are published as stored (MySQL widens two-digit years on insert)"),
    (Keys::One("binlog.buffer.size"), "a tuning of Debezium's binlog reader with no counterpart here"),
    (Keys::One("binlog.net.read.timeout"), "the dump keeps the server's timeouts; its reads are bounded by the poll's deadline"),
    (Keys::One("binlog.net.write.timeout"), "the dump keeps the server's timeouts; its reads are bounded by the poll's deadline"),
    (Keys::One("connect.keep.alive"), "a poll is short: a lost connection ends it and the next poll reconnects"),
    (Keys::One("connect.keep.alive.interval.ms"), "a poll is short: a lost connection ends it and the next poll reconnects"),
    (Keys::One("use.nongraceful.disconnect"), "the poller closes its dump at the poll's end"),
    (Keys::One("connection.validation.timeout.ms"), "connections are bounded by connect.timeout.ms"),
    (Keys::One("executor.shutdown.timeout.ms"), "a poll ends within its budget; there is no executor to shut down"),
    (Keys::One("gtid.ignore.on.recovery"), GTID_RESUME),
    (Keys::One("gtid.new.channel.position"), GTID_RESUME),
    (Keys::One("gtid.source.filter.dml.events"), "acts only with gtid.source.includes/excludes, which are refused"),
    (Keys::One("incremental.snapshot.allow.schema.changes"), "a chunk is read under a table lock, which DDL on the table waits for"),
    (Keys::One("incremental.snapshot.watermarking.strategy"), "chunks are placed at the binlog position read under their table lock, not by watermarks"),
    (Keys::One("snapshot.max.threads"), ONE_TASK),
    (Keys::One("snapshot.max.threads.multiplier"), ONE_TASK),
    (Keys::One("legacy.snapshot.max.threads"), ONE_TASK),
    (Keys::One("snapshot.delay.ms"), "snapshot chunks interleave with streaming in every poll: there is no start-up snapshot to delay"),
    (Keys::One("streaming.delay.ms"), "streaming starts at once in every poll"),
    (Keys::One("snapshot.tables.order.by.row.count"), "the order does not matter: snapshot chunks interleave with streaming"),
    (Keys::One("snapshot.new.tables"), "newly captured tables are always snapshotted"),
    (Keys::One("min.row.count.to.stream.results"), "snapshot reads are bounded by snapshot.fetch.size"),
    (Keys::One("query.fetch.size"), "snapshot reads are bounded by snapshot.fetch.size"),
    (Keys::One("max.queue.size"), QUEUE),
    (Keys::One("max.queue.size.in.bytes"), QUEUE),
    (Keys::One("poll.dispatch.interval.ms"), QUEUE),
    (Keys::One("queue.provider.type"), QUEUE),
    (Keys::One("read.only"), "the poller never writes to the database"),
    (Keys::Family("signal"), "signals are not read: start ad-hoc snapshots with `binlog-poller snapshot` or the Lambda payload"),
    (Keys::Family("notification"), "no notifications are sent: each poll logs a summary"),
    (Keys::Family("openlineage"), "no OpenLineage events are emitted"),
    (Keys::One("custom.metric.tags"), METRICS),
    (Keys::One("statistics.metrics.enabled"), METRICS),
    (Keys::One("custom.sanitize.pattern"), "config values are never logged"),
    (Keys::One("topic.cache.size"), "topic names need no cache"),
    (Keys::One("extended.headers.enabled"), "records carry no Debezium context headers"),
    (Keys::One("header.converter"), "records carry no headers"),
    (Keys::One("guardrail.collections.max"), "no limit on the number of captured tables"),
    (Keys::One("guardrail.collections.limit.action"), "no limit on the number of captured tables"),
    (Keys::One("retriable.restart.connector.wait.ms"), RETRY),
    (Keys::Family("errors"), "a failed poll is retried by the next poll; an event that cannot be decoded follows event.processing.failure.handling.mode"),
    (Keys::One("config.action.reload"), "each poll reads the config at its start"),
    (Keys::Family("topic.creation"), "topics are created with topic.creation.default.partitions and .replication.factor only; other settings are the broker's (or create topics beforehand)"),
    (Keys::One("transaction.boundary"), NO_TX),
    (Keys::One("transaction.boundary.interval.ms"), NO_TX),
    (Keys::One("offsets.storage.topic"), OFFSETS),
    (Keys::One("offset.storage.topic"), OFFSETS),
    (Keys::One("offset.storage.partitions"), OFFSETS),
    (Keys::One("offset.storage.replication.factor"), OFFSETS),
    (Keys::One("offset.flush.timeout.ms"), "a checkpoint is written once Kafka acknowledged; kafka.request.timeout.ms bounds the sends"),
    (Keys::Family("consumer.override"), "the poller runs no Kafka consumer"),
    (Keys::Family("key.converter"), "not an option of the JSON encoding (JsonConverter is the only converter)"),
    (Keys::Family("value.converter"), "not an option of the JSON encoding (JsonConverter is the only converter)"),
];

/// A key refused when set, unless its value is one of `accept` (compared
/// ignoring ASCII case and surrounding blanks; `""` accepts an empty value).
/// `accept` applies to the key itself; the members of a family are always
/// refused.
pub(super) struct Refused {
    pub(super) keys: Keys,
    pub(super) accept: &'static [&'static str],
    /// Why, and what to use instead.
    pub(super) why: &'static str,
}

const fn refused(keys: Keys, accept: &'static [&'static str], why: &'static str) -> Refused {
    Refused { keys, accept, why }
}

const EMPTY: &[&str] = &[""];

/// Keys whose setting asks for something the poller does not do: refused
/// with why and what to use instead, so no registration silently loses a
/// behaviour it asked for.
pub(super) const REFUSED: &[Refused] = &[
    refused(Keys::Listing("converters"), EMPTY, "custom converters are not supported; remove converters and its <name>.* keys (values are encoded as Debezium's defaults)"),
    refused(Keys::One("post.processors"), EMPTY, "post processors are not supported; remove the key"),
    refused(Keys::One("heartbeat.action.query"), EMPTY, "the poller never writes to the database; run the statement from a scheduler, or remove the key"),
    refused(Keys::One("snapshot.mode.custom.name"), EMPTY, "custom snapshotters are not supported; use a named snapshot.mode"),
    refused(Keys::Family("snapshot.mode.configuration.based"), &[], "snapshot.mode=configuration_based is not supported; use a named snapshot.mode"),
    refused(Keys::One("snapshot.locking.mode.custom.name"), EMPTY, "custom snapshot locking is not supported; each chunk is read under LOCK TABLES t READ"),
    refused(Keys::One("snapshot.query.mode"), &["select_all"], "custom snapshot queries are not supported; use snapshot.select.statement.overrides"),
    refused(Keys::One("snapshot.query.mode.custom.name"), EMPTY, "custom snapshot queries are not supported; use snapshot.select.statement.overrides"),
    refused(Keys::One("topic.naming.strategy"), &["io.debezium.schema.DefaultTopicNamingStrategy"], "topics are named <topic.prefix>.<db>.<table> (DefaultTopicNamingStrategy); rename them downstream"),
    refused(Keys::One("topic.delimiter"), &["."], "topic names are joined with '.'"),
    refused(Keys::One("topic.transaction"), &["transaction"], "transaction metadata goes to <topic.prefix>.transaction"),
    refused(Keys::One("topic.heartbeat.name"), EMPTY, "heartbeats go to <topic.heartbeat.prefix>.<topic.prefix>; set topic.heartbeat.prefix"),
    refused(Keys::One("source.struct.version"), &["v2"], "only the v2 source block is produced"),
    refused(Keys::One("sourceinfo.struct.maker"), &["io.debezium.connector.mysql.MySqlSourceInfoStructMaker"], "the source block is Debezium's MySQL one"),
    refused(Keys::One("transaction.metadata.factory"), &["io.debezium.pipeline.txmetadata.DefaultTransactionMetadataFactory"], "transaction metadata is Debezium's default"),
    refused(Keys::One("schema.name.adjustment.mode"), &["none"], "schema names are not adjusted (Debezium's default, none): JSON needs no Avro-safe names"),
    refused(Keys::One("field.name.adjustment.mode"), &["none"], "field names are not adjusted (Debezium's default, none): JSON needs no Avro-safe names"),
    refused(Keys::One("skip.messages.without.change"), &["false"], "every update is published; skipping updates without a change in the included columns is not supported yet"),
    refused(Keys::One("table.ignore.builtin"), &["true"], "system tables (mysql, sys, performance_schema, information_schema) are never captured"),
    refused(Keys::One("gtid.source.includes"), EMPTY, "GTID source filtering is not supported: every source's transactions are captured; remove the key"),
    refused(Keys::One("gtid.source.excludes"), EMPTY, "GTID source filtering is not supported: every source's transactions are captured; remove the key"),
    // JDBC's TLS switches: one asking for TLS or a verified server is refused rather than
    // ignored, so that no registration runs with less TLS than it asked for.
    refused(Keys::One("database.useSSL"), &["false"], TLS_BY_SSL_MODE),
    refused(Keys::One("database.requireSSL"), &["false"], TLS_BY_SSL_MODE),
    refused(Keys::One("database.verifyServerCertificate"), &["false"], TLS_BY_SSL_MODE),
    refused(Keys::One("database.sslMode"), &["disabled", "preferred"], TLS_BY_SSL_MODE),
    refused(Keys::One("database.ssl.keystore"), EMPTY, "Java key stores are not read; set database.ssl.cert and database.ssl.key (PEM)"),
    refused(Keys::One("database.ssl.keystore.password"), EMPTY, "Java key stores are not read; set database.ssl.cert and database.ssl.key (PEM)"),
    refused(Keys::One("database.ssl.truststore"), EMPTY, "Java trust stores are not read; set database.ssl.ca (PEM)"),
    refused(Keys::One("database.ssl.truststore.password"), EMPTY, "Java trust stores are not read; set database.ssl.ca (PEM)"),
    refused(Keys::One("exactly.once.support"), &["requested"], "delivery is at least once (a poll that dies is redone from its last checkpoint); use requested or remove the key"),
    refused(Keys::Family("producer.override"), &[], "per-connector producer overrides are not read; set the kafka.* keys"),
    refused(Keys::Family("admin.override"), &[], "per-connector admin client overrides are not read; set the kafka.* keys"),
    refused(Keys::One("key.converter.decimal.format"), &["BASE64"], "decimals are written as JsonConverter's BASE64; for JSON numbers set decimal.handling.mode=double or string"),
    refused(Keys::One("value.converter.decimal.format"), &["BASE64"], "decimals are written as JsonConverter's BASE64; for JSON numbers set decimal.handling.mode=double or string"),
];

impl Refused {
    /// Whether `value` of the entry's own key is acceptable.
    pub(super) fn accepts(&self, key: &str, value: &str) -> bool {
        self.keys.root() == Some(key)
            && self
                .accept
                .iter()
                .any(|a| a.eq_ignore_ascii_case(value.trim()))
    }

    /// How docs/configuration.md states the handling.
    #[cfg(test)]
    pub(super) fn handling(&self) -> String {
        if self.accept.is_empty() {
            return format!("refused: {}", self.why);
        }
        let values: Vec<String> = self
            .accept
            .iter()
            .map(|a| {
                if a.is_empty() {
                    "empty".to_string()
                } else {
                    format!("`{a}`")
                }
            })
            .collect();
        format!("refused unless {}: {}", values.join(" or "), self.why)
    }
}

/// Keys with a parameter inside their name, read by pattern: how the
/// docs/configuration.md names them.
#[cfg(test)]
pub(super) const PARAMETERIZED: &[&str] = &[
    "column.mask.hash.<algorithm>.with.salt.<salt>",
    "column.mask.hash.v2.<algorithm>.with.salt.<salt>",
    "column.mask.with.<N>.chars",
    "column.truncate.to.<N>.chars",
    "snapshot.select.statement.overrides.<db>.<table>",
];
