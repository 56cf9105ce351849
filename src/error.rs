//! Errors, split by what the caller does with them.
//!
//! A poll either fails in a way that a later attempt may cure (a broker that
//! is restarting, a lease held by another invocation, a network timeout) or
//! in a way that needs a human (bad configuration, a purged binlog, a server
//! with `binlog_format=STATEMENT`). [`Error::is_retryable`] is the single
//! place that decides; the CLI maps it to exit codes and the Lambda function
//! to its Retryable/NonRetryable error types.
//!
//! Every variant names the thing that failed and, where there is one, the fix.
//! Row values and passwords never appear in an error: they are built from
//! identifiers and positions only.

use std::time::Duration;

use std::fmt;

/// Every problem found in a configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblems(pub Vec<String>);

impl fmt::Display for ConfigProblems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid configuration ({} problem", self.0.len())?;
        if self.0.len() != 1 {
            f.write_str("s")?;
        }
        f.write_str("):")?;
        for p in &self.0 {
            write!(f, "\n  - {p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigProblems {}

/// A library error kept as the [`source`](std::error::Error::source) of one
/// of ours, for variants whose cause comes from more than one library (or
/// from a generic one, such as the AWS SDK's `SdkError<E, R>`).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can stop a poll.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    // ---- Needs a person: nothing changes until someone acts on the message. ----
    /// The configuration is invalid; nothing was contacted.
    #[error("{0}")]
    Config(#[from] ConfigProblems),

    /// The configuration file is missing or unreadable.
    #[error("cannot read the configuration file {path}: {source}; check the path (binlog-poller --config, or BINLOG_POLLER_CONFIG_FILE for Lambda) and that the file is readable")]
    ConfigFile {
        path: String,
        #[source]
        source: std::io::Error,
    },

    /// TLS to MySQL could not be set up as `database.ssl.mode` asks.
    #[error("TLS to MySQL at {server} failed (database.ssl.mode={mode}): {reason}; {hint}")]
    Tls {
        server: String,
        mode: &'static str,
        /// The TLS failure in words (the text of the error inside `source`).
        reason: String,
        hint: &'static str,
        /// The driver's error (boxed: it would double the size of `Error`).
        #[source]
        source: Box<mysql_async::Error>,
    },

    /// The server is not configured for row-based CDC.
    #[error("MySQL at {server} is not ready for change data capture: {problems}")]
    ServerSettings { server: String, problems: String },

    /// The MySQL user lacks a privilege a statement needs (server error
    /// 1227, `ER_SPECIFIC_ACCESS_DENIED_ERROR`). `grant` is the statement
    /// that adds it, phrased as `validate` phrases it.
    #[error("MySQL user {user} at {server} lacks the {privilege} privilege, which {statement} needs ({source}); run: {grant}")]
    MissingPrivilege {
        server: String,
        /// `CURRENT_USER()`, as `name@host`.
        user: String,
        /// The privilege as this server names it.
        privilege: &'static str,
        /// The statement that was refused.
        statement: &'static str,
        /// The exact `GRANT ... ON *.* TO ...;` that fixes it.
        grant: String,
        /// The server's refusal (boxed: it would double the size of `Error`).
        #[source]
        source: Box<mysql_async::Error>,
    },

    /// The stored resume point is no longer on the server.
    #[error("the stored binlog position {position} is no longer available on {server} (purged); raise binlog retention (on RDS: CALL mysql.rds_set_configuration('binlog retention hours', 168)) and re-snapshot: snapshot.mode=when_needed does it by itself; otherwise run `binlog-poller offsets reset` (Lambda: {{\"action\": \"offsets-reset\"}}) and the next poll starts as snapshot.mode says")]
    PositionPurged { server: String, position: String },

    /// A binlog event could not be decoded.
    #[error("cannot decode binlog event at {position}: {reason}")]
    Decode { position: String, reason: String },

    /// A binlog event this reader does not handle on purpose: the poll stops
    /// before it and the checkpoint stays where it was (fail closed).
    #[error("binlog event {name} (type {code}) at {position}: {reason}; the poll stopped before it and the checkpoint was not moved past it; {fix}")]
    UnsupportedEvent {
        /// The event type number.
        code: u8,
        /// The server's name for the type.
        name: &'static str,
        position: String,
        /// Why it cannot be passed over.
        reason: String,
        /// What a person can do.
        fix: String,
    },

    /// A transform could not handle a record (a `route.by.field` column
    /// that is not a string, a replacement naming a missing group): the
    /// poll stops before publishing it, and nothing is checkpointed past it.
    #[error("transform {transform}: {reason}; the poll stopped and the checkpoint was not moved; fix transforms.{transform}.*")]
    Transform { transform: String, reason: String },

    /// A record exceeds what the broker accepts.
    #[error("a change of table {table} (key columns: {key}) at {position} makes a {size}-byte record for topic {topic}, above kafka.max.request.size ({limit} bytes); raise the broker's message.max.bytes and kafka.max.request.size, exclude or truncate the large column (column.exclude.list, column.truncate.to.N.chars), or set event.processing.failure.handling.mode=warn to skip such changes")]
    RecordTooLarge {
        topic: String,
        table: String,
        key: String,
        position: String,
        size: usize,
        limit: usize,
    },

    /// The DynamoDB offsets table does not exist (`ResourceNotFoundException`).
    #[error("offset store {store} failed during {during}: DynamoDB table {table:?} does not exist in this account and region ({reason}); create it with `binlog-poller init` or deploy the infrastructure (infra/terraform, infra/cdk), or fix offset.storage.dynamodb.table and the region")]
    OffsetsTableMissing {
        store: String,
        table: String,
        during: &'static str,
        /// The service's error code, message and request id.
        reason: String,
        /// The SDK's `SdkError`.
        #[source]
        source: BoxError,
    },

    /// IAM denies us the offsets table (`AccessDeniedException`).
    #[error("offset store {store} failed during {during}: access to DynamoDB table {table:?} is denied ({reason}); allow this role dynamodb:GetItem and dynamodb:UpdateItem on the table's ARN (dynamodb:CreateTable too for `binlog-poller init`)")]
    OffsetsAccessDenied {
        store: String,
        table: String,
        during: &'static str,
        /// The service's error code, message and request id.
        reason: String,
        /// The SDK's `SdkError`.
        #[source]
        source: BoxError,
    },

    /// The stored checkpoint (or the offsets file holding it) cannot be
    /// parsed: retrying reads the same bytes.
    #[error("the stored checkpoint in offset store {store} is corrupt: {reason}; {fix}")]
    CorruptCheckpoint {
        store: String,
        reason: String,
        /// What a person can do.
        fix: String,
        #[source]
        source: Option<BoxError>,
    },

    // ---- May heal: a later attempt, with nothing changed, may succeed. ----
    /// Kafka failed or did not answer in time.
    ///
    /// `reason` is the message (the client's error text, with the fix when
    /// one is known); `source` is the client's error itself (an
    /// `rskafka::client::error::Error`, or what made the TLS setup fail),
    /// for code that needs to tell failures apart.
    #[error("Kafka {during} failed on {brokers}: {reason}")]
    Kafka {
        brokers: String,
        during: String,
        reason: String,
        #[source]
        source: Option<BoxError>,
    },

    /// The offset store failed in a way that may heal: DynamoDB throttling,
    /// the service's 5xx, a timeout or network failure, local I/O, a held
    /// lease. (A missing table, an IAM denial and a corrupt checkpoint have
    /// variants of their own above.)
    ///
    /// `reason` is the message; `source` the library error behind it (the
    /// DynamoDB SDK's `SdkError`, an I/O error of the offsets file), absent
    /// when the store itself refused (a held lease).
    #[error("offset store {store} failed during {during}: {reason}")]
    Offsets {
        store: String,
        during: &'static str,
        reason: String,
        #[source]
        source: Option<BoxError>,
    },

    /// Another invocation fenced us off: our lease epoch is stale.
    #[error("the lease on connector {connector} was taken over by another poller (our epoch {epoch}); this poll's results will be re-delivered by the new owner")]
    Fenced { connector: String, epoch: u64 },

    /// A bounded operation ran past its deadline.
    #[error("{what} did not finish within {limit:?}")]
    Timeout { what: String, limit: Duration },

    // ---- Either, decided by the cause: a server error code, the SDK error type. ----
    /// MySQL could not be reached or refused us.
    #[error("cannot connect to MySQL at {server}: {}", connect_problem(source))]
    Connect {
        server: String,
        #[source]
        source: mysql_async::Error,
    },

    /// A MySQL call failed after the connection was established.
    #[error("MySQL at {server} failed during {during}: {source}")]
    Mysql {
        server: String,
        during: &'static str,
        #[source]
        source: mysql_async::Error,
    },

    /// A `${secretsmanager:...}` reference could not be resolved. Names the
    /// secret, never a value.
    #[error("cannot read secret {id:?} from AWS Secrets Manager: {reason}; check the name or ARN, the region, and that the role may call secretsmanager:GetSecretValue on it")]
    Secret {
        id: String,
        /// What went wrong, in words (never the secret's value).
        reason: String,
        retryable: bool,
        /// The Secrets Manager SDK's error, when the call failed.
        #[source]
        source: Option<BoxError>,
    },

    /// An IAM auth token (RDS database auth, MSK) could not be made.
    #[error("cannot make the {what}: {reason}; {hint}")]
    IamToken {
        /// Which token.
        what: &'static str,
        /// What went wrong.
        reason: String,
        /// What to do about it.
        hint: &'static str,
        /// Credentials that failed to load may load on the next attempt.
        retryable: bool,
        /// The credential provider's or the signer's error, when there is one.
        #[source]
        source: Option<BoxError>,
    },

    /// An RDS API call (endpoint discovery, the preflight) failed.
    #[error("RDS {call} for {resource} failed: {reason}; {hint}")]
    RdsApi {
        /// The API operation.
        call: &'static str,
        /// What it asked about (`cluster "x"`, `parameter group "y"`).
        resource: String,
        /// The service's error code and message, or the cause chain.
        reason: String,
        /// What to do about it.
        hint: String,
        /// Throttling, timeouts and network errors heal; a missing resource
        /// or a denied call does not.
        retryable: bool,
        /// The SDK's error.
        #[source]
        source: Option<BoxError>,
    },
}

impl Error {
    /// Whether a later attempt, with nothing changed by a human, may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Config(_)
            | Error::ConfigFile { .. }
            | Error::Tls { .. }
            | Error::ServerSettings { .. }
            | Error::MissingPrivilege { .. }
            | Error::PositionPurged { .. }
            | Error::Decode { .. }
            | Error::UnsupportedEvent { .. }
            | Error::Transform { .. }
            | Error::RecordTooLarge { .. }
            | Error::OffsetsTableMissing { .. }
            | Error::OffsetsAccessDenied { .. }
            | Error::CorruptCheckpoint { .. } => false,
            Error::Kafka { .. }
            | Error::Offsets { .. }
            | Error::Fenced { .. }
            | Error::Timeout { .. } => true,
            Error::Connect { source, .. } | Error::Mysql { source, .. } => {
                // Access denied, unknown database and similar server errors
                // will not heal by themselves; I/O and driver errors may.
                !matches!(source, mysql_async::Error::Server(e) if is_fatal_server_code(e.code))
            }
            Error::Secret { retryable, .. }
            | Error::IamToken { retryable, .. }
            | Error::RdsApi { retryable, .. } => *retryable,
        }
    }

    /// Exit code for the CLI: 2 for configuration problems, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Config(_) | Error::ConfigFile { .. } => 2,
            _ => 1,
        }
    }
}

/// Why a connection failed, in words, and what to check: the driver's
/// I/O errors print their kind twice ("Input/output error: Input/output
/// error: Connection refused"), so the underlying OS error is named here.
fn connect_problem(e: &mysql_async::Error) -> String {
    use std::io::ErrorKind;
    let io = match e {
        mysql_async::Error::Io(mysql_async::IoError::Io(io)) => Some(io),
        _ => None,
    };
    match io.map(|io| (io.kind(), io)) {
        Some((ErrorKind::ConnectionRefused, _)) => "connection refused: nothing listens there; check database.hostname and database.port, and that the server runs".into(),
        Some((ErrorKind::TimedOut, _)) => "no answer (timed out); check database.hostname, and that a firewall or security group lets this host reach the port".into(),
        Some((_, io)) if io.to_string().contains("lookup address") => format!("{io}; check database.hostname"),
        Some((_, io)) => format!("{io}; check database.hostname and database.port, and that the server is reachable"),
        None => match e {
            mysql_async::Error::Server(s) if s.code == 1045 => format!("{}; check database.user and database.password (or the IAM token's user)", s.message),
            mysql_async::Error::Server(s) => format!("{} (error {}); check database.user and its grants", s.message, s.code),
            other => format!("{other}; check database.hostname, database.port, database.user and database.password, and that the server is reachable"),
        },
    }
}

/// MySQL server error codes that no retry will cure.
fn is_fatal_server_code(code: u16) -> bool {
    matches!(
        code,
        1044 // ER_DBACCESS_DENIED_ERROR
        | 1045 // ER_ACCESS_DENIED_ERROR
        | 1049 // ER_BAD_DB_ERROR
        | 1227 // ER_SPECIFIC_ACCESS_DENIED_ERROR
        | 1236 // ER_MASTER_FATAL_ERROR_READING_BINLOG (purged log, bad position)
        | 1142 // ER_TABLEACCESS_DENIED_ERROR
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_errors_are_fatal_and_exit_2() {
        let e = Error::Config(ConfigProblems(vec!["x".into()]));
        assert!(!e.is_retryable());
        assert_eq!(e.exit_code(), 2);
    }

    #[test]
    fn kafka_errors_are_retryable_and_exit_1() {
        let e = Error::Kafka {
            brokers: "b:9092".into(),
            during: "produce".into(),
            reason: "timeout".into(),
            source: None,
        };
        assert!(e.is_retryable());
        assert_eq!(e.exit_code(), 1);
        assert!(e.to_string().contains("b:9092"));
    }

    #[test]
    fn purged_position_names_retention_setting() {
        let e = Error::PositionPurged {
            server: "db:3306".into(),
            position: "mysql-bin.000001:4".into(),
        };
        assert!(e.to_string().contains("binlog retention hours"));
        assert!(!e.is_retryable());
    }

    #[test]
    fn a_missing_privilege_is_fatal_and_names_the_grant() {
        let e = Error::MissingPrivilege {
            server: "db:3306".into(),
            user: "cdc@%".into(),
            privilege: "REPLICATION CLIENT",
            statement: "SHOW BINARY LOG STATUS",
            grant: "GRANT REPLICATION CLIENT ON *.* TO 'cdc'@'%';".into(),
            source: Box::new(mysql_async::Error::Server(mysql_async::ServerError {
                code: 1227,
                message: "Access denied; you need (at least one of) the SUPER, REPLICATION CLIENT privilege(s) for this operation".into(),
                state: "42000".into(),
            })),
        };
        assert!(!e.is_retryable());
        let msg = e.to_string();
        assert!(
            msg.contains(
                "lacks the REPLICATION CLIENT privilege, which SHOW BINARY LOG STATUS needs"
            ) && msg.ends_with("run: GRANT REPLICATION CLIENT ON *.* TO 'cdc'@'%';"),
            "{msg}"
        );
        assert!(std::error::Error::source(&e).is_some());
    }

    #[test]
    fn a_missing_config_file_is_a_configuration_error() {
        let e = crate::Config::load_file("/nonexistent/bp-connector.json");
        let e = futures_util::FutureExt::now_or_never(e)
            .expect("reading a file does not wait")
            .unwrap_err();
        assert!(!e.is_retryable(), "{e}");
        assert_eq!(e.exit_code(), 2);
        let msg = e.to_string();
        assert!(
            msg.contains("/nonexistent/bp-connector.json") && msg.contains("--config"),
            "{msg}"
        );
    }

    #[test]
    fn a_refused_connection_says_so_once_and_what_to_check() {
        let e = Error::Connect {
            server: "127.0.0.1:1".into(),
            source: mysql_async::Error::Io(mysql_async::IoError::Io(std::io::Error::from(
                std::io::ErrorKind::ConnectionRefused,
            ))),
        };
        let msg = e.to_string();
        assert_eq!(
            msg,
            "cannot connect to MySQL at 127.0.0.1:1: connection refused: nothing listens there; check database.hostname and database.port, and that the server runs"
        );
        assert!(e.is_retryable());
    }
}
