//! The RDS half of the preflight: what the RDS API says about the
//! database, where SQL cannot see it or cannot fix it.
//!
//! SQL shows the values in effect; the API shows where they come from (the
//! DB cluster parameter group for Aurora and Multi-AZ clusters, the DB
//! parameter group for an instance), whether a change waits for a reboot
//! (`pending-reboot` on the instance, or on the cluster member), and the
//! settings SQL cannot see at all: automated backups, which RDS for
//! MySQL/MariaDB ties binary logging to ("Turning on binary logging": the
//! binlog is on only while `BackupRetentionPeriod` > 0), IAM database
//! authentication, the engine's support status. Every failing line carries
//! the `aws rds` command that fixes it.
//!
//! The judgement is pure over [`RdsApi`] answers, so it is unit-tested on
//! [`crate::platform::rds::MemoryRds`]; the integration tests run it on
//! moto's RDS API.

use super::validate::Check;
use crate::config::{Config, RdsTarget};
use crate::platform::rds::{ClusterFacts, InstanceFacts, Parameter, RdsApi, RdsResource};

/// The binlog parameters read from the parameter group.
const PARAMETERS: &[&str] = &[
    "binlog_format",
    "binlog_row_image",
    "binlog_row_metadata",
    "binlog_row_value_options",
    "binlog_transaction_compression",
    "log_bin_compress",
    "aurora_enhanced_binlog",
    "binlog_backup",
    "binlog_replication_globaldb",
];

/// What the database is, as far as the parameters are concerned.
struct Subject<'a> {
    engine: &'a str,
    version: &'a str,
    /// The Aurora / Multi-AZ cluster, when there is one.
    cluster: Option<&'a ClusterFacts>,
    /// The instance, when the target is one.
    instance: Option<&'a InstanceFacts>,
}

impl Subject<'_> {
    fn aurora(&self) -> bool {
        self.engine.starts_with("aurora")
    }

    fn mariadb(&self) -> bool {
        self.engine == "mariadb"
    }

    /// The instance to reboot for a parameter change: the instance, or the
    /// cluster's writer.
    fn reboot_target(&self) -> Option<&str> {
        match (self.instance, self.cluster) {
            (Some(i), _) => Some(&i.id),
            (None, Some(c)) => c.writer().map(|w| w.id.as_str()),
            (None, None) => None,
        }
    }

    /// The parameter group family of the engine version, for creating a
    /// custom group (`aurora-mysql8.0`, `mysql8.4`, `mariadb10.11`).
    fn family(&self) -> String {
        let mut parts = self.version.split('.');
        let major_minor = format!(
            "{}.{}",
            parts.next().unwrap_or(""),
            parts.next().unwrap_or("")
        );
        format!("{}{major_minor}", self.engine)
    }
}

/// The parameter group the binlog parameters live in.
struct Group {
    name: String,
    /// A cluster parameter group (else a DB parameter group).
    cluster: bool,
}

/// The RDS checks for `target`, one [`Check`] per line; the first failing
/// API call ends them with its error (nothing else can be judged).
pub async fn rds_checks(config: &Config, target: &RdsTarget, api: &impl RdsApi) -> Vec<Check> {
    let mut checks = Vec::new();
    let mut push = |name: &str, r: std::result::Result<String, String>| {
        checks.push(Check::new(name, r));
    };
    let (cluster, instance) = match &target.resource {
        RdsResource::Cluster(id) => match api.cluster(id).await {
            Ok(c) => (Some(c), None),
            Err(e) => {
                push("rds", Err(e.to_string()));
                return checks;
            }
        },
        RdsResource::Instance(id) => match api.instance(id).await {
            Ok(i) => {
                let cluster = match &i.cluster {
                    Some(c) => match api.cluster(c).await {
                        Ok(c) => Some(c),
                        Err(e) => {
                            push("rds", Err(e.to_string()));
                            return checks;
                        }
                    },
                    None => None,
                };
                (cluster, Some(i))
            }
            Err(e) => {
                push("rds", Err(e.to_string()));
                return checks;
            }
        },
    };
    let (engine, version) = match (&instance, &cluster) {
        (Some(i), _) => (i.engine.as_str(), i.engine_version.as_str()),
        (None, Some(c)) => (c.engine.as_str(), c.engine_version.as_str()),
        (None, None) => unreachable!("one of them was described"),
    };
    let subject = Subject {
        engine,
        version,
        cluster: cluster.as_ref(),
        instance: instance.as_ref(),
    };
    push("rds endpoint", endpoint_check(config, target, &subject));
    push("rds engine", engine_check(&subject));

    // Aurora and Multi-AZ clusters keep the binlog parameters in the
    // cluster parameter group; an instance in its DB parameter group.
    let group = match (&subject.cluster, &subject.instance) {
        (Some(c), _) => c.parameter_group.clone().map(|name| Group {
            name,
            cluster: true,
        }),
        (None, Some(i)) => i.parameter_group.clone().map(|(name, _)| Group {
            name,
            cluster: false,
        }),
        (None, None) => None,
    };
    match &group {
        None => push(
            "rds parameter group",
            Err(format!("{} reports no parameter group", target.resource)),
        ),
        Some(g) => {
            let listed = if g.cluster {
                api.cluster_parameters(&g.name, PARAMETERS).await
            } else {
                api.instance_parameters(&g.name, PARAMETERS).await
            };
            match listed {
                Ok(params) => {
                    for (name, result) in parameter_checks(&subject, g, &params) {
                        push(&format!("rds {name}"), result);
                    }
                }
                Err(e) => push("rds parameter group", Err(e.to_string())),
            }
        }
    }
    push("rds pending reboot", reboot_check(&subject));
    push("rds backups", backup_check(&subject));
    if config.iam_auth.is_some() {
        push("rds iam auth", iam_check(&subject));
    }
    checks
}

/// Where the connector connects, and that it is the writer.
fn endpoint_check(
    config: &Config,
    target: &RdsTarget,
    s: &Subject<'_>,
) -> std::result::Result<String, String> {
    let server = config.server();
    let call = match target.resource {
        RdsResource::Cluster(_) => "DescribeDBClusters",
        RdsResource::Instance(_) => "DescribeDBInstances",
    };
    if let (Some(i), Some(c)) = (s.instance, s.cluster) {
        if c.writer().is_some_and(|w| w.id != i.id) {
            return Err(format!(
                "{} is a reader of Aurora cluster {:?}, and Aurora readers have no binlog; set rds.cluster.identifier={:?} instead",
                target.resource, c.id, c.id
            ));
        }
    }
    if let Some(c) = s.cluster {
        let reader = c.reader_endpoint.as_deref() == Some(config.hostname.as_str())
            || config.hostname.contains(".cluster-ro-");
        if reader {
            return Err(format!(
                "database.hostname {:?} is the cluster's reader endpoint, and Aurora readers have no binlog; remove database.hostname to use the writer endpoint{}",
                config.hostname,
                c.endpoint
                    .as_deref()
                    .map(|e| format!(" ({e})"))
                    .unwrap_or_default()
            ));
        }
    }
    if target.discovered {
        Ok(format!(
            "writer {server} of {} (found with {call})",
            target.resource
        ))
    } else {
        let writer = match (s.cluster, s.instance) {
            (Some(c), None) => c
                .endpoint
                .as_deref()
                .map(|e| format!("; its writer endpoint is {e}")),
            _ => None,
        };
        Ok(format!(
            "{server} from database.hostname ({}{})",
            target.resource,
            writer.unwrap_or_default()
        ))
    }
}

/// The engine and version, against what the connector supports.
fn engine_check(s: &Subject<'_>) -> std::result::Result<String, String> {
    let (engine, version) = (s.engine, s.version);
    let major_minor = |v: &str| -> (u32, u32) {
        let mut it = v.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
        (it.next().unwrap_or(0), it.next().unwrap_or(0))
    };
    let modify = match (s.cluster, s.instance) {
        (Some(c), _) if s.aurora() || s.instance.is_none() => {
            format!("aws rds modify-db-cluster --db-cluster-identifier {}", c.id)
        }
        (_, Some(i)) => format!(
            "aws rds modify-db-instance --db-instance-identifier {}",
            i.id
        ),
        _ => "aws rds modify-db-instance".into(),
    };
    match engine {
        "aurora-mysql" => {
            // 8.0.mysql_aurora.3.05.2 (Aurora 3); 5.7.mysql_aurora.2.11.2 (Aurora 2).
            let aurora_major = version
                .split_once("mysql_aurora.")
                .and_then(|(_, v)| v.split('.').next())
                .and_then(|m| m.parse::<u32>().ok())
                .unwrap_or(0);
            if aurora_major >= 3 {
                Ok(format!("Aurora MySQL {aurora_major} ({version})"))
            } else {
                Err(format!(
                    "Aurora MySQL 2 ({version}, MySQL 5.7 compatible) is end of life and not supported; upgrade to Aurora MySQL 3: {modify} --engine-version 8.0.mysql_aurora.3.08.0 --allow-major-version-upgrade --apply-immediately"
                ))
            }
        }
        "mysql" => match major_minor(version) {
            (8, 0) | (8, 4) => Ok(format!("RDS for MySQL {version}")),
            (m, _) if m >= 9 => Ok(format!("RDS for MySQL {version} (innovation release)")),
            _ => Err(format!(
                "RDS for MySQL {version} is not supported (MySQL 8.0 or 8.4 is); upgrade: {modify} --engine-version 8.4.6 --allow-major-version-upgrade --apply-immediately"
            )),
        },
        "mariadb" => match major_minor(version) {
            (m, n) if m > 10 || (m == 10 && n >= 6) => Ok(format!("RDS for MariaDB {version}")),
            _ => Err(format!(
                "RDS for MariaDB {version} is not supported (10.6 or later is); upgrade: {modify} --engine-version 10.11.13 --allow-major-version-upgrade --apply-immediately"
            )),
        },
        other => Err(format!(
            "engine {other:?} is not MySQL or MariaDB; the connector reads MySQL's binlog"
        )),
    }
}

/// One line per binlog parameter of the group.
fn parameter_checks(
    s: &Subject<'_>,
    g: &Group,
    params: &[Parameter],
) -> Vec<(&'static str, std::result::Result<String, String>)> {
    let value = |name: &str| -> Option<&str> {
        params
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| p.value.as_deref())
    };
    let kind = if g.cluster {
        "cluster parameter group"
    } else {
        "parameter group"
    };
    let fix = |name: &str, want: &str| fix_command(s, g, name, want);
    let mut out = Vec::new();

    out.push((
        "binlog_format",
        match value("binlog_format") {
            Some(v) if v.eq_ignore_ascii_case("ROW") => Ok(format!("ROW ({kind} {})", g.name)),
            // Aurora's default cluster parameter group has binlog_format OFF:
            // binary logging is off until a custom group sets it.
            None if s.aurora() => Err(format!(
                "not set in {kind} {}, so Aurora's default OFF applies and there is no binlog; {}",
                g.name,
                fix("binlog_format", "ROW")
            )),
            None => Ok(format!(
                "not set in {kind} {}: the engine default applies (the binlog settings check reads the value in effect)",
                g.name
            )),
            Some(v) => Err(format!(
                "{v} in {kind} {}; the connector needs ROW; {}",
                g.name,
                fix("binlog_format", "ROW")
            )),
        },
    ));
    out.push((
        "binlog_row_image",
        match value("binlog_row_image") {
            None => Ok(format!("not set in {kind} {}: default FULL", g.name)),
            Some(v) if v.eq_ignore_ascii_case("FULL") => Ok(format!("FULL ({kind} {})", g.name)),
            Some(v) => Err(format!(
                "{v} in {kind} {}; updates and deletes need whole rows (FULL); {}",
                g.name,
                fix("binlog_row_image", "FULL")
            )),
        },
    ));
    out.push((
        "binlog_row_metadata",
        match value("binlog_row_metadata") {
            Some(v) if v.eq_ignore_ascii_case("FULL") => Ok(format!("FULL ({kind} {})", g.name)),
            v => Ok(format!(
                "{} in {kind} {}: usable; FULL lets rows decode with the schema they were written with: {}",
                v.unwrap_or("default MINIMAL"),
                g.name,
                fix("binlog_row_metadata", "FULL")
            )),
        },
    ));
    if let Some(v) = value("binlog_row_value_options") {
        out.push((
            "binlog_row_value_options",
            if v.to_ascii_uppercase().contains("PARTIAL_JSON") {
                Err(format!(
                    "{v} in {kind} {}: partial JSON updates log diffs, not values; {}",
                    g.name,
                    fix("binlog_row_value_options", "")
                ))
            } else {
                Ok(format!("{v:?} ({kind} {})", g.name))
            },
        ));
    }
    if s.mariadb() {
        out.push((
            "log_bin_compress",
            Ok(format!(
                "{} ({kind} {}; compressed events are inflated)",
                value("log_bin_compress").unwrap_or("OFF by default"),
                g.name
            )),
        ));
    } else {
        out.push((
            "binlog_transaction_compression",
            Ok(format!(
                "{} ({kind} {}; compressed transactions are decoded)",
                value("binlog_transaction_compression").unwrap_or("OFF by default"),
                g.name
            )),
        ));
    }
    if s.aurora() {
        let on = value("aurora_enhanced_binlog") == Some("1");
        let backup = value("binlog_backup").unwrap_or("1");
        let globaldb = value("binlog_replication_globaldb").unwrap_or("1");
        out.push((
            "aurora_enhanced_binlog",
            Ok(match (on, backup == "0" && globaldb == "0") {
                (false, _) => format!("off ({kind} {}): the standard binlog is read", g.name),
                (true, true) => format!(
                    "on, with binlog_backup=0 and binlog_replication_globaldb=0 ({kind} {}): read like the standard binlog",
                    g.name
                ),
                (true, false) => format!(
                    "set, but not in effect until binlog_backup=0 and binlog_replication_globaldb=0 (now {backup} and {globaldb}) in {kind} {}",
                    g.name
                ),
            }),
        ));
    }
    out
}

/// The commands that set `name` to `want` where `g` is, and apply it.
fn fix_command(s: &Subject<'_>, g: &Group, name: &str, want: &str) -> String {
    let setting = format!("ParameterName={name},ParameterValue={want},ApplyMethod=pending-reboot");
    let reboot = s
        .reboot_target()
        .map(|id| {
            format!(", then reboot: aws rds reboot-db-instance --db-instance-identifier {id}")
        })
        .unwrap_or_default();
    let (kind, modify_resource, resource_id) = if g.cluster {
        (
            "cluster-parameter-group",
            "modify-db-cluster --db-cluster-identifier",
            s.cluster.map(|c| c.id.as_str()).unwrap_or(""),
        )
    } else {
        (
            "parameter-group",
            "modify-db-instance --db-instance-identifier",
            s.instance.map(|i| i.id.as_str()).unwrap_or(""),
        )
    };
    let flag = if g.cluster {
        "--db-cluster-parameter-group-name"
    } else {
        "--db-parameter-group-name"
    };
    if g.name.starts_with("default.") {
        // Default groups cannot be modified: a custom group replaces it.
        let custom = format!("{resource_id}-cdc");
        format!(
            "{} is a default group, which cannot be changed; run: aws rds create-db-{kind} {flag} {custom} --db-parameter-group-family {} --description \"binlog for CDC\"; aws rds modify-db-{kind} {flag} {custom} --parameters \"{setting}\"; aws rds {modify_resource} {resource_id} {flag} {custom}{reboot}",
            g.name,
            s.family()
        )
    } else {
        format!(
            "run: aws rds modify-db-{kind} {flag} {} --parameters \"{setting}\"{reboot}",
            g.name
        )
    }
}

/// Whether parameter group changes wait for a reboot.
fn reboot_check(s: &Subject<'_>) -> std::result::Result<String, String> {
    let pending: Vec<&str> = match (s.instance, s.cluster) {
        (Some(i), _)
            if i.parameter_group.as_ref().and_then(|(_, st)| st.as_deref())
                == Some("pending-reboot") =>
        {
            vec![i.id.as_str()]
        }
        (_, Some(c)) => c
            .members
            .iter()
            .filter(|m| m.parameter_status.as_deref() == Some("pending-reboot"))
            .filter(|m| s.instance.is_none_or(|i| i.id == m.id))
            .map(|m| m.id.as_str())
            .collect(),
        _ => Vec::new(),
    };
    if pending.is_empty() {
        Ok("parameter groups in sync".into())
    } else {
        Err(format!(
            "parameter group changes wait for a reboot of {}; until then the values in effect are the old ones; run: {}",
            pending.join(", "),
            pending
                .iter()
                .map(|id| format!("aws rds reboot-db-instance --db-instance-identifier {id}"))
                .collect::<Vec<_>>()
                .join("; ")
        ))
    }
}

/// RDS for MySQL/MariaDB logs binlogs only with automated backups on.
fn backup_check(s: &Subject<'_>) -> std::result::Result<String, String> {
    if s.aurora() {
        return Ok("Aurora: binary logging follows binlog_format, not backups".into());
    }
    let (days, modify) = match (s.instance, s.cluster) {
        (Some(i), _) => (
            i.backup_retention_days,
            format!(
                "aws rds modify-db-instance --db-instance-identifier {}",
                i.id
            ),
        ),
        (None, Some(c)) => (
            c.backup_retention_days,
            format!("aws rds modify-db-cluster --db-cluster-identifier {}", c.id),
        ),
        (None, None) => return Ok("unknown".into()),
    };
    if days > 0 {
        Ok(format!(
            "automated backups kept {days} day(s), so binary logging is on"
        ))
    } else {
        Err(format!(
            "automated backups are off (BackupRetentionPeriod 0), and RDS turns binary logging off with them; run: {modify} --backup-retention-period 7 --apply-immediately"
        ))
    }
}

/// IAM database authentication, when `database.iam.auth` is on.
fn iam_check(s: &Subject<'_>) -> std::result::Result<String, String> {
    // Aurora enables it on the cluster; an instance on itself.
    let (enabled, modify) = match (s.cluster, s.instance) {
        (Some(c), _) if s.aurora() || s.instance.is_none() => (
            c.iam_auth,
            format!("aws rds modify-db-cluster --db-cluster-identifier {}", c.id),
        ),
        (_, Some(i)) => (
            i.iam_auth,
            format!(
                "aws rds modify-db-instance --db-instance-identifier {}",
                i.id
            ),
        ),
        _ => (false, String::new()),
    };
    if enabled {
        Ok("IAM database authentication enabled".into())
    } else {
        Err(format!(
            "database.iam.auth=true, but IAM database authentication is off; run: {modify} --enable-iam-database-authentication --apply-immediately"
        ))
    }
}

#[cfg(test)]
#[path = "rds_preflight_tests.rs"]
mod tests;
