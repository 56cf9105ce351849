//! Connecting to MySQL and checking that it can feed CDC.
//!
//! Row-based CDC needs (MySQL reference manual, "Replication and Binary
//! Logging Options and Variables"):
//! * `log_bin=ON`: there is a binlog at all;
//! * `binlog_format=ROW`: changes are logged as row images, not statements;
//! * `binlog_row_image=FULL`: every column in before and after images, so
//!   updates and deletes carry the whole row and the key;
//! * `binlog_row_metadata=FULL` (recommended): table maps carry column
//!   names, signedness, primary key and ENUM/SET labels, so rows decode
//!   without asking `information_schema`, which reflects the schema of *now*
//!   rather than of the event;
//! * `binlog_row_value_options` without `PARTIAL_JSON`: partial JSON updates
//!   log only a diff, which cannot become a full `after` image.
//!
//! The current end of the log comes from `SHOW BINARY LOG STATUS` (MySQL
//! 8.2+, where `SHOW MASTER STATUS` was removed in 8.4), falling back to
//! `SHOW MASTER STATUS` only when the server does not know the first
//! (syntax error: MariaDB, older MySQL). A user without `REPLICATION
//! CLIENT` (MariaDB: `BINLOG MONITOR`) gets [`Error::MissingPrivilege`]
//! with the exact `GRANT`. Whether a stored position is
//! still on the server comes from `SHOW BINARY LOGS` and `@@gtid_purged`.

use std::collections::HashMap;

use mysql_async::prelude::Queryable;
use mysql_async::{ClientIdentity, Conn, OptsBuilder, Row, SslOpts};

use super::privileges::{statement_error, unknown_statement};
use crate::config::{Config, SslMode};
use crate::error::{Error, Result};
use crate::model::{BinlogPosition, Checkpoint, GtidSet};

/// Which server family we talk to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// Oracle MySQL (RDS MySQL, Aurora MySQL).
    MySql,
    /// MariaDB (RDS for MariaDB).
    MariaDb,
}

impl Flavor {
    /// The family a `@@version` string belongs to.
    pub fn of_version(version: &str) -> Self {
        if version.to_ascii_lowercase().contains("mariadb") {
            Flavor::MariaDb
        } else {
            Flavor::MySql
        }
    }
}

/// `max_allowed_packet` of our connections: the largest binlog event the
/// server may send on the dump connection, and so also the most a MariaDB
/// compressed event may inflate to (the server's own limit for a replica,
/// `slave_max_allowed_packet`, defaults to the same 1 GiB).
pub(crate) const MAX_PACKET: usize = 1 << 30;

/// What we learned about the server before reading.
#[derive(Debug, Clone)]
pub struct ServerInfo {
    /// `host:port`.
    pub server: String,
    /// Server family.
    pub flavor: Flavor,
    /// `@@version`.
    pub version: String,
    /// Global variables we care about, lower-cased names.
    pub vars: HashMap<String, String>,
    /// Current end of the binlog.
    pub end: BinlogPosition,
    /// `gtid_executed` when MySQL runs with `gtid_mode=ON`.
    pub gtid_executed: Option<GtidSet>,
}

/// Opens a connection with the configured timeouts and TLS mode.
///
/// `preferred` (the default) asks for TLS without verifying the certificate
/// and falls back to plaintext only when the server offers no TLS at all;
/// `required` insists on TLS; `verify_ca` checks the certificate chain
/// against `database.ssl.ca` (else the public web roots); `verify_identity`
/// also checks that the certificate names `database.hostname`.
pub async fn connect(config: &Config) -> Result<Conn> {
    crate::platform::tls::install_crypto_provider();
    let ssl = ssl_opts(config);
    match try_connect(config, ssl.clone()).await {
        Err(Error::Connect {
            source: mysql_async::Error::Driver(mysql_async::DriverError::NoClientSslFlagFromServer),
            ..
        }) if config.ssl_mode == SslMode::Preferred => {
            tracing::debug!(server = %config.server(), "server offers no TLS; connecting without (database.ssl.mode=preferred)");
            try_connect(config, None).await
        }
        other => other,
    }
}

/// A PEM given inline or as a path (the driver's `PathOrBuf`, which it
/// does not export by name).
fn pem<T: From<std::path::PathBuf> + From<Vec<u8>>>(value: &str) -> T {
    if crate::platform::tls::is_inline_pem(value) {
        T::from(value.as_bytes().to_vec())
    } else {
        T::from(std::path::PathBuf::from(value))
    }
}

fn ssl_opts(config: &Config) -> Option<SslOpts> {
    let mut o = SslOpts::default();
    match config.ssl_mode {
        SslMode::Disabled => return None,
        SslMode::Preferred | SslMode::Required => {
            o = o
                .with_danger_accept_invalid_certs(true)
                .with_danger_skip_domain_validation(true);
        }
        SslMode::VerifyCa => o = o.with_danger_skip_domain_validation(true),
        SslMode::VerifyIdentity => {}
    }
    if let Some(ca) = &config.ssl_ca {
        o = o.with_root_certs(vec![pem(ca)]);
    }
    if let Some((cert, key)) = &config.ssl_client {
        o = o.with_client_identity(Some(ClientIdentity::new(pem(cert), pem(key.expose()))));
    }
    Some(o)
}

/// The signer for RDS IAM tokens, loaded once per process: the credential
/// chain caches and refreshes credentials, so every connection after the
/// first signs without I/O.
static IAM_SIGNER: tokio::sync::OnceCell<crate::platform::aws::IamSigner> =
    tokio::sync::OnceCell::const_new();

/// The password for a new connection: `database.password`, or a freshly
/// signed RDS IAM token (valid 15 minutes, checked only at login).
async fn password(config: &Config) -> Result<String> {
    let Some(iam) = &config.iam_auth else {
        return Ok(config.password.expose().to_string());
    };
    let signer = IAM_SIGNER
        .get_or_try_init(|| {
            crate::platform::aws::IamSigner::load(
                "RDS IAM database auth token",
                iam.region.as_deref(),
                &config.hostname,
            )
        })
        .await?;
    crate::platform::aws::rds_token(signer, &config.hostname, config.port, &config.user).await
}

async fn try_connect(config: &Config, ssl: Option<SslOpts>) -> Result<Conn> {
    let opts = OptsBuilder::default()
        .ip_or_hostname(config.hostname.clone())
        .tcp_port(config.port)
        .user(Some(config.user.clone()))
        .pass(Some(password(config).await?))
        // RDS asks for the token through mysql_clear_password; the
        // connection is TLS (config validation insists on it).
        .enable_cleartext_plugin(config.iam_auth.is_some())
        .prefer_socket(false)
        .ssl_opts(ssl)
        .max_allowed_packet(Some(MAX_PACKET))
        .wait_timeout(Some(
            usize::try_from(config.poll_max_duration.as_secs() + 60).unwrap_or(usize::MAX),
        ));
    match tokio::time::timeout(config.connect_timeout, Conn::new(opts)).await {
        Ok(Ok(c)) => Ok(c),
        Ok(Err(source)) => Err(connect_error(config, source)),
        Err(_) => Err(Error::Timeout {
            what: format!(
                "connecting to MySQL at {} (connect.timeout.ms)",
                config.server()
            ),
            limit: config.connect_timeout,
        }),
    }
}

/// MySQL's `ER_SECURE_TRANSPORT_REQUIRED`.
const SECURE_TRANSPORT_REQUIRED: u16 = 3159;

fn connect_error(config: &Config, source: mysql_async::Error) -> Error {
    const UNTRUSTED: &str = "set database.ssl.ca to the CA bundle that signed the server's certificate (RDS and Aurora: AWS's global-bundle.pem), and database.hostname to a name the certificate carries";
    let tls = match &source {
        // The driver reports handshake failures either as its TLS error or
        // as an I/O error carrying rustls's.
        mysql_async::Error::Io(mysql_async::IoError::Tls(e)) => Some((e.to_string(), UNTRUSTED)),
        mysql_async::Error::Io(mysql_async::IoError::Io(e)) => e
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            .map(|e| (e.to_string(), UNTRUSTED)),
        mysql_async::Error::Driver(mysql_async::DriverError::NoClientSslFlagFromServer)
            if config.ssl_mode != SslMode::Preferred =>
        {
            Some((
                "the server offers no TLS".to_string(),
                "enable TLS on the server (ssl_cert/ssl_key), or set database.ssl.mode=preferred to allow plaintext",
            ))
        }
        mysql_async::Error::Server(e) if e.code == SECURE_TRANSPORT_REQUIRED => Some((
            e.message.clone(),
            "the server requires TLS; set database.ssl.mode=verify_identity (or required)",
        )),
        _ => None,
    };
    match tls {
        Some((reason, hint)) => Error::Tls {
            server: config.server(),
            mode: config.ssl_mode.as_str(),
            reason,
            hint,
            source: Box::new(source),
        },
        None => Error::Connect {
            server: config.server(),
            source,
        },
    }
}

/// Maps a driver error to [`Error::Mysql`] naming the server and the step.
pub(crate) fn qerr(server: &str, during: &'static str) -> impl FnOnce(mysql_async::Error) -> Error {
    let server = server.to_string();
    move |source| Error::Mysql {
        server,
        during,
        source,
    }
}

const VARS: &[&str] = &[
    "version",
    "version_comment",
    "log_bin",
    "binlog_format",
    "binlog_row_image",
    "binlog_row_metadata",
    "binlog_row_value_options",
    "gtid_mode",
    "server_id",
    "server_uuid",
    "binlog_checksum",
    "binlog_transaction_compression",
    "binlog_rows_query_log_events",
    "binlog_annotate_row_events",
    "log_bin_compress",
    "log_bin_compress_min_len",
];

impl ServerInfo {
    /// Reads version, settings and the current end of the log.
    pub async fn read(conn: &mut Conn, server: &str) -> Result<Self> {
        let list = VARS
            .iter()
            .map(|v| format!("'{v}'"))
            .collect::<Vec<_>>()
            .join(",");
        let rows: Vec<(String, String)> = conn
            .query(format!(
                "SHOW GLOBAL VARIABLES WHERE Variable_name IN ({list})"
            ))
            .await
            .map_err(qerr(server, "reading server variables"))?;
        let vars: HashMap<String, String> = rows
            .into_iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect();
        let version = vars.get("version").cloned().unwrap_or_default();
        let flavor = Flavor::of_version(&version);
        let (end, executed) = current_position(conn, server).await?;
        let gtid_on = flavor == Flavor::MySql
            && vars
                .get("gtid_mode")
                .is_some_and(|m| m.eq_ignore_ascii_case("ON"));
        let gtid_executed = if gtid_on {
            let text = match executed {
                Some(t) => t,
                None => conn
                    .query_first::<String, _>("SELECT @@GLOBAL.gtid_executed")
                    .await
                    .map_err(qerr(server, "reading gtid_executed"))?
                    .unwrap_or_default(),
            };
            Some(text.parse().map_err(|e| Error::ServerSettings {
                server: server.to_string(),
                problems: format!("cannot parse gtid_executed: {e}"),
            })?)
        } else {
            None
        };
        Ok(Self {
            server: server.to_string(),
            flavor,
            version,
            vars,
            end,
            gtid_executed,
        })
    }

    fn var(&self, name: &str) -> &str {
        self.vars.get(name).map(String::as_str).unwrap_or("")
    }

    /// Whether GTID-based resume is available.
    pub fn gtid_mode(&self) -> bool {
        self.gtid_executed.is_some()
    }

    /// The binlog compression settings found, in words: MariaDB's
    /// `log_bin_compress` (per-event zlib, types 165-171) or MySQL's
    /// `binlog_transaction_compression` (zstd transaction payloads). Both
    /// are decoded; `validate` shows which one is in effect.
    pub fn compression(&self) -> String {
        let on = |name: &str| {
            let v = self.var(name);
            v.eq_ignore_ascii_case("ON") || v == "1"
        };
        match self.flavor {
            Flavor::MariaDb if on("log_bin_compress") => format!(
                "log_bin_compress=ON (events of {} bytes or more are zlib-compressed; decoded)",
                self.var("log_bin_compress_min_len")
            ),
            Flavor::MariaDb => "log_bin_compress=OFF".to_string(),
            Flavor::MySql if self.vars.contains_key("binlog_transaction_compression") => {
                if on("binlog_transaction_compression") {
                    "binlog_transaction_compression=ON (zstd transaction payloads; decoded)"
                        .to_string()
                } else {
                    "binlog_transaction_compression=OFF".to_string()
                }
            }
            Flavor::MySql => "no binlog compression (before MySQL 8.0.20)".to_string(),
        }
    }

    /// Checks the binlog settings; returns warnings for what is merely
    /// suboptimal and an error naming every blocking problem.
    pub fn check(&self, include_query: bool) -> Result<Vec<String>> {
        let mut problems = Vec::new();
        let mut warnings = Vec::new();
        if !self.var("log_bin").eq_ignore_ascii_case("ON") && self.var("log_bin") != "1" {
            problems.push(
                "log_bin is OFF; enable binary logging (on RDS: set backup retention > 0)"
                    .to_string(),
            );
        }
        if !self.var("binlog_format").eq_ignore_ascii_case("ROW") {
            problems.push(format!(
                "binlog_format is {:?}; set binlog_format=ROW (RDS: in the DB parameter group)",
                self.var("binlog_format")
            ));
        }
        if !self.var("binlog_row_image").eq_ignore_ascii_case("FULL") {
            problems.push(format!(
                "binlog_row_image is {:?}; set binlog_row_image=FULL so updates and deletes carry whole rows",
                self.var("binlog_row_image")
            ));
        }
        if self
            .var("binlog_row_value_options")
            .to_ascii_uppercase()
            .contains("PARTIAL_JSON")
        {
            problems.push(
                "binlog_row_value_options=PARTIAL_JSON logs JSON diffs, not values; set it to ''"
                    .to_string(),
            );
        }
        if !self.var("binlog_row_metadata").eq_ignore_ascii_case("FULL") {
            warnings.push(format!(
                "binlog_row_metadata is {:?}; set it to FULL so rows decode with the schema they were written with (falling back to information_schema)",
                self.var("binlog_row_metadata")
            ));
        }
        if self
            .var("binlog_transaction_compression")
            .eq_ignore_ascii_case("ON")
        {
            warnings.push(
                "binlog_transaction_compression=ON: compressed transactions are decoded, but checkpoints inside them fall back to the transaction start".to_string(),
            );
        }
        if include_query
            && !self
                .var("binlog_rows_query_log_events")
                .eq_ignore_ascii_case("ON")
            && !self
                .var("binlog_annotate_row_events")
                .eq_ignore_ascii_case("ON")
        {
            warnings.push(
                "include.query is set but the server does not log statements; set binlog_rows_query_log_events=ON (MariaDB: binlog_annotate_row_events=ON), else source.query stays null".to_string(),
            );
        }
        if problems.is_empty() {
            Ok(warnings)
        } else {
            Err(Error::ServerSettings {
                server: self.server.clone(),
                problems: problems.join("; "),
            })
        }
    }

    /// Whether the checkpoint's resume point is still on the server.
    pub async fn resume_point_available(&self, conn: &mut Conn, cp: &Checkpoint) -> Result<bool> {
        if let (Some(stored), true) = (&cp.gtid_set, self.gtid_mode()) {
            let purged: String = conn
                .query_first("SELECT @@GLOBAL.gtid_purged")
                .await
                .map_err(qerr(&self.server, "reading gtid_purged"))?
                .unwrap_or_default();
            let purged: GtidSet = purged.parse().unwrap_or_default();
            return Ok(stored.contains_set(&purged));
        }
        let logs = binary_logs(conn, &self.server).await?;
        Ok(logs.iter().any(|f| **f == *cp.resume_position().file))
    }
}

/// The TLS protocol and cipher of this session (`Ssl_version`,
/// `Ssl_cipher`), `None` when the session is plaintext.
pub async fn tls_session(conn: &mut Conn, server: &str) -> Result<Option<String>> {
    let rows: Vec<(String, String)> = conn
        .query("SHOW SESSION STATUS WHERE Variable_name IN ('Ssl_version', 'Ssl_cipher')")
        .await
        .map_err(qerr(server, "reading TLS status"))?;
    let get = |name: &str| {
        rows.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    Ok(get("Ssl_version").map(|v| match get("Ssl_cipher") {
        Some(c) => format!("{v} {c}"),
        None => v,
    }))
}

/// How long the server keeps binlogs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retention {
    /// RDS/Aurora's `binlog retention hours` (`None`: NULL, the default,
    /// which purges binlogs as soon as RDS can).
    Rds { hours: Option<u64> },
    /// `binlog_expire_logs_seconds` (0: never purged automatically).
    Seconds(u64),
}

/// Binlogs must outlive the longest pause of the poller (an outage, a
/// disabled schedule) or the checkpoint points at a purged file and a new
/// snapshot is needed; a day is the least AWS recommends for CDC.
pub const MIN_RETENTION_HOURS: u64 = 24;

impl Retention {
    /// `Ok(detail)` when long enough, else `Err(problem and fix)`.
    pub fn check(self, flavor: Flavor) -> std::result::Result<String, String> {
        let min = MIN_RETENTION_HOURS;
        match self {
            Retention::Rds { hours: Some(h) } if h >= min => Ok(format!("{h} h (RDS binlog retention hours)")),
            Retention::Rds { hours } => Err(format!(
                "RDS binlog retention hours is {}, so binlogs may be purged before the poller reads them; run: CALL mysql.rds_set_configuration('binlog retention hours', 168);",
                hours.map_or("NULL (purge as soon as possible)".to_string(), |h| h.to_string())
            )),
            Retention::Seconds(0) => Ok("binlogs are not purged automatically".into()),
            Retention::Seconds(s) if s >= min * 3600 => Ok(format!("{} h (binlog_expire_logs_seconds)", s / 3600)),
            Retention::Seconds(s) => Err(format!(
                "binlog_expire_logs_seconds is {s} ({} h), under {min} h; run: {}",
                s / 3600,
                match flavor {
                    Flavor::MySql => "SET PERSIST binlog_expire_logs_seconds = 604800;",
                    Flavor::MariaDb => "SET GLOBAL binlog_expire_logs_seconds = 604800; (and the same in the server's option file)",
                }
            )),
        }
    }
}

/// Reads the binlog retention: on RDS and Aurora (their binaries live under
/// `/rdsdbbin/`) from `mysql.rds_show_configuration`, elsewhere from the
/// server variable.
pub async fn binlog_retention(conn: &mut Conn, server: &str) -> Result<Retention> {
    // Retention of a binlog that is not written means nothing.
    let log_bin: Option<String> = conn
        .query_first("SELECT @@GLOBAL.log_bin")
        .await
        .map_err(qerr(server, "reading log_bin"))?;
    if matches!(log_bin.as_deref(), Some("0") | Some("OFF")) {
        return Err(binlog_off(server));
    }
    let basedir: String = conn
        .query_first("SELECT @@GLOBAL.basedir")
        .await
        .map_err(qerr(server, "reading basedir"))?
        .unwrap_or_default();
    if basedir.starts_with("/rdsdbbin/") {
        let rows: Vec<(String, Option<String>, Option<String>)> = conn
            .query("CALL mysql.rds_show_configuration")
            .await
            .map_err(qerr(
                server,
                "reading RDS binlog retention (CALL mysql.rds_show_configuration)",
            ))?;
        let hours = rows
            .iter()
            .find(|(name, _, _)| name == "binlog retention hours")
            .and_then(|(_, v, _)| v.as_deref()?.trim().parse().ok());
        return Ok(Retention::Rds { hours });
    }
    let seconds: Option<u64> = match conn
        .query_first("SELECT @@GLOBAL.binlog_expire_logs_seconds")
        .await
    {
        Ok(v) => v,
        // MariaDB before 10.6 has only expire_logs_days.
        Err(_) => conn
            .query_first::<f64, _>("SELECT @@GLOBAL.expire_logs_days")
            .await
            .map_err(qerr(server, "reading binlog expiry"))?
            .map(|d| (d * 86_400.0) as u64),
    };
    Ok(Retention::Seconds(seconds.unwrap_or(0)))
}

/// File names from `SHOW BINARY LOGS`, oldest first.
pub async fn binary_logs(conn: &mut Conn, server: &str) -> Result<Vec<String>> {
    const STATEMENT: &str = "SHOW BINARY LOGS";
    let rows: Vec<Row> = match conn.query(STATEMENT).await {
        Ok(rows) => rows,
        Err(e) => {
            let during = "listing binary logs";
            return Err(
                statement_error(conn, server, STATEMENT, "REPLICATION CLIENT", during, e).await,
            );
        }
    };
    Ok(rows
        .into_iter()
        .filter_map(|mut r| r.take::<String, _>(0))
        .collect())
}

/// The server writes no binlog: nothing for CDC to read.
pub(crate) fn binlog_off(server: &str) -> Error {
    Error::ServerSettings {
        server: server.to_string(),
        problems: "binary logging is off (log_bin=OFF), so there is no binlog to read; turn it on (MySQL: log_bin, on by default since 8.0; MariaDB: log_bin in the server's configuration, then restart; RDS: automated backups on; Aurora: binlog_format in the cluster parameter group)".into(),
    }
}

pub(crate) async fn current_position(
    conn: &mut Conn,
    server: &str,
) -> Result<(BinlogPosition, Option<String>)> {
    const STATUS: &str = "SHOW BINARY LOG STATUS";
    const LEGACY: &str = "SHOW MASTER STATUS";
    const DURING: &str = "reading the binlog position";
    let privilege = "REPLICATION CLIENT";
    let row: Option<Row> = match conn.query_first(STATUS).await {
        Ok(r) => r,
        // Only a server that does not know the statement (MySQL before 8.2,
        // MariaDB) is asked the old one, which MySQL 8.4 removed: any other
        // failure, a missing grant above all, is the answer.
        Err(e) if unknown_statement(&e) => match conn.query_first(LEGACY).await {
            Ok(r) => r,
            Err(e) => return Err(statement_error(conn, server, LEGACY, privilege, DURING, e).await),
        },
        Err(e) => return Err(statement_error(conn, server, STATUS, privilege, DURING, e).await),
    };
    let Some(mut row) = row else {
        return Err(binlog_off(server));
    };
    let file: String = row.take("File").unwrap_or_default();
    let pos: u64 = row.take("Position").unwrap_or(4);
    let gtid: Option<String> = row.take::<Option<String>, _>("Executed_Gtid_Set").flatten();
    Ok((BinlogPosition::new(file, pos), gtid))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(flavor: Flavor, vars: &[(&str, &str)]) -> ServerInfo {
        ServerInfo {
            server: "db:3306".into(),
            flavor,
            version: String::new(),
            vars: vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            end: BinlogPosition::new("b.000001", 4),
            gtid_executed: None,
        }
    }

    #[test]
    fn compression_settings_are_reported() {
        let maria = |v: &str| {
            info(
                Flavor::MariaDb,
                &[("log_bin_compress", v), ("log_bin_compress_min_len", "256")],
            )
            .compression()
        };
        assert_eq!(
            maria("ON"),
            "log_bin_compress=ON (events of 256 bytes or more are zlib-compressed; decoded)"
        );
        assert_eq!(maria("OFF"), "log_bin_compress=OFF");
        let mysql = |v: &[(&str, &str)]| info(Flavor::MySql, v).compression();
        assert!(mysql(&[("binlog_transaction_compression", "ON")])
            .starts_with("binlog_transaction_compression=ON"));
        assert_eq!(
            mysql(&[("binlog_transaction_compression", "OFF")]),
            "binlog_transaction_compression=OFF"
        );
        assert!(mysql(&[]).contains("8.0.20"));
    }

    #[test]
    fn retention_names_the_fix() {
        assert!(Retention::Rds { hours: Some(168) }
            .check(Flavor::MySql)
            .is_ok());
        let e = Retention::Rds { hours: None }
            .check(Flavor::MySql)
            .unwrap_err();
        assert!(
            e.contains("NULL")
                && e.contains("CALL mysql.rds_set_configuration('binlog retention hours', 168);"),
            "{e}"
        );
        assert!(Retention::Rds { hours: Some(2) }
            .check(Flavor::MySql)
            .is_err());
        assert!(Retention::Seconds(0).check(Flavor::MariaDb).is_ok());
        assert!(Retention::Seconds(2_592_000).check(Flavor::MySql).is_ok());
        let e = Retention::Seconds(3600).check(Flavor::MySql).unwrap_err();
        assert!(e.contains("SET PERSIST binlog_expire_logs_seconds"), "{e}");
    }
}
