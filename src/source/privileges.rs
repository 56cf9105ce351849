//! The privileges the connector needs, how each server names them, and
//! the one phrasing of a missing grant (`validate` and a refused statement
//! print the same `GRANT`).

use mysql_async::prelude::Queryable;
use mysql_async::Conn;

use super::server::{qerr, Flavor};
use crate::error::{Error, Result};

/// Privileges the connector needs: `SELECT` and `LOCK TABLES` for snapshot
/// chunks, `REPLICATION SLAVE` for the binlog dump, `REPLICATION CLIENT`
/// (MariaDB: `BINLOG MONITOR`) for positions and `SHOW BINARY LOGS`. No
/// `RELOAD`: no global read lock is ever taken.
pub const REQUIRED_PRIVILEGES: &[&str] = &[
    "SELECT",
    "LOCK TABLES",
    "REPLICATION SLAVE",
    "REPLICATION CLIENT",
];

/// How the server of `version` names one of [`REQUIRED_PRIVILEGES`]:
/// MariaDB 10.5 split `REPLICATION CLIENT` into `BINLOG MONITOR` (for the
/// binlog statements we use) and `SLAVE MONITOR`.
pub fn privilege_name(privilege: &'static str, version: &str) -> &'static str {
    let maria_10_5 = Flavor::of_version(version) == Flavor::MariaDb && {
        let mut parts = version
            .split(['.', '-'])
            .map(|p| p.parse::<u32>().unwrap_or(0));
        (parts.next().unwrap_or(0), parts.next().unwrap_or(0)) >= (10, 5)
    };
    match privilege {
        "REPLICATION CLIENT" if maria_10_5 => "BINLOG MONITOR",
        other => other,
    }
}

/// The `GRANT` that gives `user` (`CURRENT_USER()`, `name@host`) the
/// `privileges`, named as the server of `version` names them. The one
/// phrasing of a missing grant, for `validate` and for a refused statement.
pub fn grant_statement(privileges: &[&'static str], user: &str, version: &str) -> String {
    let names: Vec<&str> = privileges
        .iter()
        .map(|p| privilege_name(p, version))
        .collect();
    let (name, host) = user.rsplit_once('@').unwrap_or((user, "%"));
    format!("GRANT {} ON *.* TO '{name}'@'{host}';", names.join(", "))
}

/// `CURRENT_USER()` and `@@version`, which a grant is phrased from.
async fn user_and_version(conn: &mut Conn, server: &str) -> Result<(String, String)> {
    let row: Option<(String, String)> = conn
        .query_first("SELECT CURRENT_USER(), @@version")
        .await
        .map_err(qerr(server, "reading the current user"))?;
    Ok(row.unwrap_or_default())
}

/// The required privileges the current user lacks, as the server names
/// them, and the `GRANT` that adds them (`None` when nothing is missing).
pub async fn missing_privileges(
    conn: &mut Conn,
    server: &str,
) -> Result<Option<(Vec<&'static str>, String)>> {
    let (user, version) = user_and_version(conn, server).await?;
    let grants: Vec<String> = conn
        .query("SHOW GRANTS")
        .await
        .map_err(qerr(server, "reading grants"))?;
    let missing = missing_from_grants(&grants);
    if missing.is_empty() {
        return Ok(None);
    }
    let grant = grant_statement(&missing, &user, &version);
    let names = missing
        .iter()
        .map(|p| privilege_name(p, &version))
        .collect();
    Ok(Some((names, grant)))
}

/// `ER_PARSE_ERROR`: the server does not know the statement.
const PARSE_ERROR: u16 = 1064;
/// `ER_SPECIFIC_ACCESS_DENIED_ERROR`: the user lacks a global privilege.
const SPECIFIC_ACCESS_DENIED: u16 = 1227;

/// Whether `e` says the server does not know the statement (so an older
/// spelling of it may work), rather than refusing or failing it.
pub(super) fn unknown_statement(e: &mysql_async::Error) -> bool {
    matches!(e, mysql_async::Error::Server(se) if se.code == PARSE_ERROR)
}

/// The error for `statement` failing with `e`: a refusal for want of
/// `privilege` (one of [`REQUIRED_PRIVILEGES`]) becomes
/// [`Error::MissingPrivilege`] with the exact `GRANT`; anything else an
/// [`Error::Mysql`] during `during`.
pub(super) async fn statement_error(
    conn: &mut Conn,
    server: &str,
    statement: &'static str,
    privilege: &'static str,
    during: &'static str,
    e: mysql_async::Error,
) -> Error {
    if !matches!(&e, mysql_async::Error::Server(se) if se.code == SPECIFIC_ACCESS_DENIED) {
        return qerr(server, during)(e);
    }
    let (user, version) = user_and_version(conn, server).await.unwrap_or_default();
    Error::MissingPrivilege {
        server: server.to_string(),
        grant: grant_statement(&[privilege], &user, &version),
        user,
        privilege: privilege_name(privilege, &version),
        statement,
        source: Box::new(e),
    }
}

/// Which of [`REQUIRED_PRIVILEGES`] `SHOW GRANTS` lines do not give.
pub fn missing_from_grants(grants: &[String]) -> Vec<&'static str> {
    let mut have: Vec<String> = Vec::new();
    for g in grants {
        let up = g.to_ascii_uppercase();
        let Some(rest) = up.strip_prefix("GRANT ") else {
            continue;
        };
        let Some((privs, scope)) = rest.split_once(" ON ") else {
            continue;
        };
        let global = scope.trim_start().starts_with("*.*");
        for p in privs.split(',').map(str::trim) {
            let p = match p {
                "BINLOG MONITOR" => "REPLICATION CLIENT",
                "REPLICATION REPLICA" => "REPLICATION SLAVE",
                other => other,
            };
            if p == "ALL PRIVILEGES" || p == "ALL" {
                if global {
                    return Vec::new();
                }
                have.push("SELECT".into());
                have.push("LOCK TABLES".into());
            } else if global || matches!(p, "SELECT" | "LOCK TABLES") {
                have.push(p.to_string());
            }
        }
    }
    REQUIRED_PRIVILEGES
        .iter()
        .copied()
        .filter(|p| !have.iter().any(|h| h == p))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_are_read_like_the_server_prints_them() {
        let g = |lines: &[&str]| {
            missing_from_grants(&lines.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        };
        assert!(g(&["GRANT ALL PRIVILEGES ON *.* TO `bp`@`%` WITH GRANT OPTION"]).is_empty());
        assert!(g(&[
            "GRANT SELECT, LOCK TABLES, REPLICATION SLAVE, BINLOG MONITOR ON *.* TO `cdc`@`%`"
        ])
        .is_empty());
        assert_eq!(
            g(&["GRANT SELECT, REPLICATION SLAVE ON *.* TO `cdc`@`%`"]),
            vec!["LOCK TABLES", "REPLICATION CLIENT"]
        );
        assert_eq!(
            g(&[
                "GRANT USAGE ON *.* TO `cdc`@`%`",
                "GRANT SELECT, LOCK TABLES ON `shop`.* TO `cdc`@`%`",
                "GRANT REPLICATION SLAVE ON `shop`.* TO x"
            ]),
            vec!["REPLICATION SLAVE", "REPLICATION CLIENT"]
        );
    }

    fn server_error(code: u16, message: &str) -> mysql_async::Error {
        mysql_async::Error::Server(mysql_async::ServerError {
            code,
            message: message.into(),
            state: "42000".into(),
        })
    }

    #[test]
    fn grants_are_phrased_as_each_server_names_them() {
        let mysql = "9.7.0";
        let maria = "10.11.6-MariaDB-0+deb12u1-log";
        assert_eq!(
            grant_statement(&["REPLICATION CLIENT"], "cdc@%", mysql),
            "GRANT REPLICATION CLIENT ON *.* TO 'cdc'@'%';"
        );
        assert_eq!(
            grant_statement(
                &["LOCK TABLES", "REPLICATION CLIENT"],
                "cdc@10.0.0.%",
                maria
            ),
            "GRANT LOCK TABLES, BINLOG MONITOR ON *.* TO 'cdc'@'10.0.0.%';"
        );
        assert_eq!(
            privilege_name("REPLICATION CLIENT", "10.4.32-MariaDB"),
            "REPLICATION CLIENT"
        );
        assert_eq!(
            privilege_name("REPLICATION SLAVE", maria),
            "REPLICATION SLAVE"
        );
    }

    #[test]
    fn only_an_unknown_statement_falls_back_to_show_master_status() {
        assert!(unknown_statement(&server_error(
            1064,
            "You have an error in your SQL syntax"
        )));
        // MySQL 8.4+ refusing SHOW BINARY LOG STATUS for want of
        // REPLICATION CLIENT: asking SHOW MASTER STATUS (removed) would
        // hide the refusal behind a syntax error.
        assert!(!unknown_statement(&server_error(
            1227,
            "Access denied; you need (at least one of) the SUPER, REPLICATION CLIENT privilege(s) for this operation"
        )));
        assert!(!unknown_statement(&server_error(1142, "denied")));
        assert!(!unknown_statement(&mysql_async::Error::Driver(
            mysql_async::DriverError::ConnectionClosed
        )));
    }
}
