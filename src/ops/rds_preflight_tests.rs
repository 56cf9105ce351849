//! The RDS preflight's judgement on fixed API answers.

use super::*;
use crate::platform::rds::{ClusterMember, MemoryRds};

fn config(rds: &str, extra: &str) -> Config {
    let text = format!(
        r#"{{"name": "inv", "config": {{
        "database.user": "cdc", "topic.prefix": "p", "kafka.bootstrap.servers": "k:9092",
        "offset.storage.file.filename": "/tmp/o.json", {rds} {extra}}}}}"#
    );
    Config::from_json(&text, |_| None).unwrap()
}

fn param(name: &str, value: &str) -> Parameter {
    Parameter {
        name: name.into(),
        value: Some(value.into()),
        apply_method: Some("pending-reboot".into()),
        source: Some("user".into()),
    }
}

fn aurora(params: Vec<Parameter>) -> MemoryRds {
    let mut api = MemoryRds {
        clusters: vec![ClusterFacts {
            id: "orders".into(),
            engine: "aurora-mysql".into(),
            engine_version: "8.0.mysql_aurora.3.05.2".into(),
            endpoint: Some("orders.cluster-abc.eu-west-1.rds.amazonaws.com".into()),
            reader_endpoint: Some("orders.cluster-ro-abc.eu-west-1.rds.amazonaws.com".into()),
            port: Some(3306),
            parameter_group: Some("orders-cdc".into()),
            members: vec![
                ClusterMember {
                    id: "orders-1".into(),
                    writer: true,
                    parameter_status: Some("in-sync".into()),
                },
                ClusterMember {
                    id: "orders-2".into(),
                    writer: false,
                    parameter_status: Some("in-sync".into()),
                },
            ],
            iam_auth: true,
            backup_retention_days: 1,
        }],
        instances: vec![InstanceFacts {
            id: "orders-2".into(),
            engine: "aurora-mysql".into(),
            engine_version: "8.0.mysql_aurora.3.05.2".into(),
            address: Some("orders-2.abc.eu-west-1.rds.amazonaws.com".into()),
            port: Some(3306),
            cluster: Some("orders".into()),
            ..Default::default()
        }],
        ..Default::default()
    };
    api.groups.insert("orders-cdc".into(), params);
    api
}

fn rds_instance(retention: i32, group: &str, status: &str) -> MemoryRds {
    let mut api = MemoryRds {
        instances: vec![InstanceFacts {
            id: "shop".into(),
            engine: "mysql".into(),
            engine_version: "8.0.35".into(),
            address: Some("shop.abc.us-east-1.rds.amazonaws.com".into()),
            port: Some(3306),
            parameter_group: Some((group.into(), Some(status.into()))),
            iam_auth: false,
            backup_retention_days: retention,
            ..Default::default()
        }],
        ..Default::default()
    };
    api.groups
        .insert(group.into(), vec![param("binlog_format", "ROW")]);
    api
}

fn check<'a>(checks: &'a [Check], name: &str) -> &'a Check {
    checks
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no {name} in {checks:#?}"))
}

async fn discovered(rds: &str, api: &MemoryRds) -> Config {
    let mut c = config(rds, "");
    c.discover_endpoint_with(api).await.unwrap();
    c
}

#[tokio::test]
async fn a_cluster_in_good_order_passes_and_names_its_writer() {
    let api = aurora(vec![
        param("binlog_format", "ROW"),
        param("binlog_row_metadata", "FULL"),
    ]);
    let c = discovered(r#""rds.cluster.identifier": "orders""#, &api).await;
    assert_eq!(c.hostname, "orders.cluster-abc.eu-west-1.rds.amazonaws.com");
    let checks = rds_checks(&c, c.rds.as_ref().unwrap(), &api).await;
    assert!(checks.iter().all(|c| c.ok), "{checks:#?}");
    assert!(check(&checks, "rds endpoint").detail.starts_with(
        "writer orders.cluster-abc.eu-west-1.rds.amazonaws.com:3306 of DB cluster \"orders\""
    ));
    assert_eq!(
        check(&checks, "rds engine").detail,
        "Aurora MySQL 3 (8.0.mysql_aurora.3.05.2)"
    );
    // No IAM database authentication configured: no line about it.
    assert!(checks.iter().all(|c| c.name != "rds iam auth"));
}

#[tokio::test]
async fn mixed_format_fails_with_the_modify_command_and_the_reboot() {
    let api = aurora(vec![param("binlog_format", "MIXED")]);
    let c = discovered(r#""rds.cluster.identifier": "orders""#, &api).await;
    let checks = rds_checks(&c, c.rds.as_ref().unwrap(), &api).await;
    let f = check(&checks, "rds binlog_format");
    assert!(!f.ok);
    assert!(
        f.detail.contains(
            "aws rds modify-db-cluster-parameter-group --db-cluster-parameter-group-name orders-cdc --parameters \"ParameterName=binlog_format,ParameterValue=ROW,ApplyMethod=pending-reboot\""
        ),
        "{}",
        f.detail
    );
    assert!(f
        .detail
        .contains("aws rds reboot-db-instance --db-instance-identifier orders-1"));
}

#[tokio::test]
async fn aurora_without_binlog_format_has_no_binlog_and_a_default_group_gets_a_custom_one() {
    let mut api = aurora(Vec::new());
    api.clusters[0].parameter_group = Some("default.aurora-mysql8.0".into());
    api.groups
        .insert("default.aurora-mysql8.0".into(), Vec::new());
    let c = discovered(r#""rds.cluster.identifier": "orders""#, &api).await;
    let checks = rds_checks(&c, c.rds.as_ref().unwrap(), &api).await;
    let f = check(&checks, "rds binlog_format");
    assert!(!f.ok);
    assert!(f.detail.contains("Aurora's default OFF"), "{}", f.detail);
    assert!(
        f.detail.contains("aws rds create-db-cluster-parameter-group --db-cluster-parameter-group-name orders-cdc --db-parameter-group-family aurora-mysql8.0"),
        "{}",
        f.detail
    );
    assert!(f.detail.contains(
        "aws rds modify-db-cluster --db-cluster-identifier orders --db-cluster-parameter-group-name orders-cdc"
    ));
}

#[tokio::test]
async fn an_instance_without_backups_has_no_binlog() {
    let api = rds_instance(0, "shop-cdc", "in-sync");
    let c = discovered(r#""rds.instance.identifier": "shop""#, &api).await;
    assert_eq!(c.server(), "shop.abc.us-east-1.rds.amazonaws.com:3306");
    let checks = rds_checks(&c, c.rds.as_ref().unwrap(), &api).await;
    let b = check(&checks, "rds backups");
    assert!(!b.ok);
    assert!(b.detail.contains(
        "aws rds modify-db-instance --db-instance-identifier shop --backup-retention-period 7 --apply-immediately"
    ));
    assert!(check(&checks, "rds binlog_format").ok);
    assert_eq!(check(&checks, "rds engine").detail, "RDS for MySQL 8.0.35");
}

#[tokio::test]
async fn a_pending_reboot_is_reported() {
    let api = rds_instance(7, "shop-cdc", "pending-reboot");
    let c = discovered(r#""rds.instance.identifier": "shop""#, &api).await;
    let checks = rds_checks(&c, c.rds.as_ref().unwrap(), &api).await;
    let r = check(&checks, "rds pending reboot");
    assert!(!r.ok);
    assert!(r
        .detail
        .contains("aws rds reboot-db-instance --db-instance-identifier shop"));
}

#[tokio::test]
async fn iam_auth_off_on_the_database_fails_when_the_config_uses_it() {
    let api = rds_instance(7, "shop-cdc", "in-sync");
    let mut c = config(
        r#""rds.instance.identifier": "shop", "database.iam.auth": "true","#,
        r#""database.ssl.mode": "verify_identity""#,
    );
    c.discover_endpoint_with(&api).await.unwrap();
    let checks = rds_checks(&c, c.rds.as_ref().unwrap(), &api).await;
    let i = check(&checks, "rds iam auth");
    assert!(!i.ok);
    assert!(i.detail.contains(
        "aws rds modify-db-instance --db-instance-identifier shop --enable-iam-database-authentication"
    ));
}

#[tokio::test]
async fn an_aurora_reader_is_refused_by_instance_and_by_endpoint() {
    let api = aurora(vec![param("binlog_format", "ROW")]);
    let mut c = config(r#""rds.instance.identifier": "orders-2""#, "");
    let e = c
        .discover_endpoint_with(&api)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("set rds.cluster.identifier=\"orders\""), "{e}");

    let c = config(
        r#""rds.cluster.identifier": "orders","#,
        r#""database.hostname": "orders.cluster-ro-abc.eu-west-1.rds.amazonaws.com""#,
    );
    let checks = rds_checks(&c, c.rds.as_ref().unwrap(), &api).await;
    let f = check(&checks, "rds endpoint");
    assert!(!f.ok);
    assert!(f.detail.contains("reader endpoint"), "{}", f.detail);
}

#[tokio::test]
async fn end_of_life_and_foreign_engines_fail() {
    let mut api = aurora(vec![param("binlog_format", "ROW")]);
    api.clusters[0].engine_version = "5.7.mysql_aurora.2.11.2".into();
    let c = discovered(r#""rds.cluster.identifier": "orders""#, &api).await;
    let checks = rds_checks(&c, c.rds.as_ref().unwrap(), &api).await;
    let e = check(&checks, "rds engine");
    assert!(!e.ok && e.detail.contains("Aurora MySQL 2"), "{}", e.detail);

    let mut api = rds_instance(7, "shop-cdc", "in-sync");
    api.instances[0].engine = "postgres".into();
    let c = discovered(r#""rds.instance.identifier": "shop""#, &api).await;
    let checks = rds_checks(&c, c.rds.as_ref().unwrap(), &api).await;
    assert!(!check(&checks, "rds engine").ok);
}

#[tokio::test]
async fn a_missing_resource_is_one_failing_line() {
    let api = MemoryRds::default();
    let c = config(
        r#""rds.cluster.identifier": "nope","#,
        r#""database.hostname": "db""#,
    );
    let checks = rds_checks(&c, c.rds.as_ref().unwrap(), &api).await;
    assert_eq!(checks.len(), 1);
    assert!(!checks[0].ok && checks[0].detail.contains("nope"));
}

#[test]
fn config_keys_are_checked_together() {
    let text = r#"{"name": "inv", "config": {"database.user": "cdc", "topic.prefix": "p",
        "kafka.bootstrap.servers": "k:9092", "offset.storage.file.filename": "/tmp/o.json",
        "rds.cluster.identifier": "a", "rds.instance.identifier": "b"}}"#;
    let e = Config::from_json(text, |_| None).unwrap_err().to_string();
    assert!(e.contains("are both set"), "{e}");
    assert!(e.contains("database.hostname: required"), "{e}");

    let c = config(
        r#""rds.cluster.identifier": "a", "rds.region": "eu-west-1""#,
        "",
    );
    let rds = c.rds.unwrap();
    assert_eq!(rds.region.as_deref(), Some("eu-west-1"));
    assert!(c.hostname.is_empty() && !rds.discovered);

    let text = r#"{"name": "inv", "config": {"database.user": "cdc", "topic.prefix": "p",
        "kafka.bootstrap.servers": "k:9092", "offset.storage.file.filename": "/tmp/o.json",
        "rds.cluster.identifier": "a", "database.port": "3307"}}"#;
    let e = Config::from_json(text, |_| None).unwrap_err().to_string();
    assert!(
        e.contains("database.port is set but database.hostname is not"),
        "{e}"
    );
}
