//! The preflight: every check `validate` prints, one line each.

use std::sync::Arc;

use serde::Serialize;

use crate::config::Config;
use crate::offsets::OffsetStore;
use crate::sink::KafkaSink;
use crate::source::{connect, ServerInfo};

/// One line of `validate`.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// What was checked.
    pub name: String,
    /// Whether it passed.
    pub ok: bool,
    /// Details, or the problem and its fix.
    pub detail: String,
}

impl Check {
    /// A line that passed (`Ok(detail)`) or failed (`Err(problem and fix)`).
    pub fn new(name: &str, result: std::result::Result<String, String>) -> Self {
        let (ok, detail) = match result {
            Ok(d) => (true, d),
            Err(d) => (false, d),
        };
        Self {
            name: name.into(),
            ok,
            detail,
        }
    }
}

/// The preflight: MySQL login, TLS and auth method, server version, binlog
/// settings and retention, privileges (with the GRANT that adds what is
/// missing), Kafka reachability, TLS and topic creation, the offset store.
/// With `rds.*` set, the RDS API's view comes first ([`super::rds_checks`]:
/// the endpoint, engine, parameter group, backups, IAM auth).
/// One [`Check`] per line; never stops at the first failure.
///
/// Plaintext to a server that is not on loopback fails the check: row
/// values and credentials would cross the network in clear.
pub async fn validate(config: &Config) -> Vec<Check> {
    let mut checks = Vec::new();
    if let Some(target) = &config.rds {
        match crate::platform::rds::AwsRds::connect(target.region.as_deref()).await {
            Ok(api) => checks.extend(super::rds_checks(config, target, &api).await),
            Err(e) => checks.push(Check::new("rds", Err(e.to_string()))),
        }
    } else if config.hostname.contains(".cluster-ro-") {
        // The reader endpoint of an Aurora cluster: the name says it.
        checks.push(Check::new(
            "rds endpoint",
            Err(format!(
                "database.hostname {:?} is an Aurora reader endpoint, and Aurora readers have no binlog; use the cluster endpoint (without -ro), or set rds.cluster.identifier",
                config.hostname
            )),
        ));
    }
    let mut push = |name: &str, r: std::result::Result<String, String>| {
        checks.push(Check::new(name, r));
    };
    let server = config.server();
    match connect(config).await {
        Ok(mut conn) => {
            push("mysql connect", Ok(server.clone()));
            let mode = config.ssl_mode.as_str();
            push(
                "mysql tls",
                match crate::source::tls_session(&mut conn, &server).await {
                    Ok(Some(tls)) => Ok(format!("{tls} (database.ssl.mode={mode})")),
                    Ok(None) if crate::platform::tls::is_loopback(&config.hostname) => {
                        Ok(format!("plaintext on loopback (database.ssl.mode={mode})"))
                    }
                    Ok(None) => Err(format!(
                        "plaintext to {server}; enable TLS on the server and set database.ssl.mode=verify_identity with database.ssl.ca"
                    )),
                    Err(e) => Err(e.to_string()),
                },
            );
            push(
                "mysql auth",
                Ok(match &config.iam_auth {
                    Some(_) => format!("RDS IAM database auth token as {}", config.user),
                    None => format!("password as {}", config.user),
                }),
            );
            let mut flavor = crate::source::Flavor::MySql;
            match ServerInfo::read(&mut conn, &server).await {
                Ok(info) => {
                    flavor = info.flavor;
                    push(
                        "mysql version",
                        Ok(format!("{} ({:?})", info.version, info.flavor)),
                    );
                    // The compression in effect is named either way: it
                    // decides which compressed event types the dump carries.
                    let compression = info.compression();
                    match info.check(config.include_query) {
                        Ok(w) if w.is_empty() => push(
                            "binlog settings",
                            Ok(format!("ROW, FULL row image, FULL metadata; {compression}")),
                        ),
                        Ok(w) => push(
                            "binlog settings",
                            Ok(format!("usable; {}; {compression}", w.join("; "))),
                        ),
                        Err(e) => push("binlog settings", Err(format!("{e}; {compression}"))),
                    }
                    push(
                        "binlog position",
                        Ok(format!(
                            "{}{}",
                            info.end,
                            if info.gtid_mode() { " (GTID mode)" } else { "" }
                        )),
                    );
                }
                Err(e) => push("binlog settings", Err(e.to_string())),
            }
            push(
                "binlog retention",
                match crate::source::binlog_retention(&mut conn, &server).await {
                    Ok(r) => r.check(flavor),
                    Err(e) => Err(e.to_string()),
                },
            );
            match crate::source::missing_privileges(&mut conn, &config.server()).await {
                Ok(None) => push(
                    "privileges",
                    Ok(crate::source::REQUIRED_PRIVILEGES.join(", ")),
                ),
                Ok(Some((missing, grant))) => push(
                    "privileges",
                    Err(format!("missing {}; run: {grant}", missing.join(", "))),
                ),
                Err(e) => push("privileges", Err(e.to_string())),
            }
            let _ = conn.disconnect().await;
        }
        Err(e) => push("mysql connect", Err(e.to_string())),
    }
    if config.sink == crate::config::SinkType::Stdout {
        push(
            "sink",
            Ok("stdout: one JSON line per record (sink.type=stdout); no broker is used".into()),
        );
    } else {
        let sec = &config.kafka_security;
        let brokers = config.kafka_bootstrap.join(",");
        let remote: Vec<&String> = config
            .kafka_bootstrap
            .iter()
            .filter(|b| {
                !crate::platform::tls::is_loopback(
                    b.rsplit_once(':').map_or(b.as_str(), |(h, _)| h),
                )
            })
            .collect();
        push(
            "kafka tls",
            match (sec.protocol.tls(), remote.is_empty()) {
                (true, _) => Ok(format!(
                    "{}{}",
                    sec.protocol.as_str(),
                    if sec.verify_hostname { "" } else { " (host names not checked)" }
                )),
                (false, true) => Ok(format!("{} on loopback", sec.protocol.as_str())),
                (false, false) => Err(format!(
                    "{} to {}; set kafka.security.protocol=SSL or SASL_SSL (MSK: port 9094 TLS, 9096 SCRAM, 9098 IAM)",
                    sec.protocol.as_str(),
                    remote.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",")
                )),
            },
        );
        match KafkaSink::connect(config.into()).await {
            Ok(mut sink) => {
                let how = crate::sink::describe_kafka_security(sec);
                match tokio::time::timeout(config.kafka_timeout, sink.client().list_topics()).await
                {
                    Ok(Ok(t)) => {
                        push(
                            "kafka",
                            Ok(format!(
                                "{brokers} ({how}; {} topic{})",
                                t.len(),
                                if t.len() == 1 { "" } else { "s" }
                            )),
                        );
                        // The schema change topic is one the connector creates
                        // anyway, so creating it proves the right without
                        // leaving anything foreign behind.
                        let probe: Arc<str> = Arc::from(config.topic_prefix.as_str());
                        push(
                            "kafka topic creation",
                            if t.iter().any(|x| *x.name == *probe) {
                                Ok(format!("topic {probe} exists"))
                            } else if !config.include_schema_changes {
                                Ok("not exercised (include.schema.changes=false; topics are created on first use)".into())
                            } else {
                                sink.topic(&probe)
                                    .await
                                    .map(|_| format!("created topic {probe}"))
                                    .map_err(|e| format!("{e}; the connector creates a topic per table: grant CreateTopic on {probe}* (MSK IAM: kafka-cluster:CreateTopic)"))
                            },
                        );
                    }
                    Ok(Err(e)) => push("kafka", Err(format!("{brokers} ({how}): {e}"))),
                    Err(_) => push(
                        "kafka",
                        Err(format!("no answer within {:?}", config.kafka_timeout)),
                    ),
                }
            }
            Err(e) => push("kafka", Err(e.to_string())),
        }
    }
    match crate::offsets::AnyStore::open(config).await {
        Ok(store) => match store.load().await {
            Ok(s) => push(
                "offset store",
                Ok(format!(
                    "{} ({})",
                    store.describe(),
                    if s.and_then(|s| s.checkpoint).is_some() {
                        "has a checkpoint"
                    } else {
                        "no checkpoint yet"
                    }
                )),
            ),
            Err(e) => push(
                "offset store",
                Err(format!("{e}; run `binlog-poller init` to create it")),
            ),
        },
        Err(e) => push("offset store", Err(e.to_string())),
    }
    checks
}
