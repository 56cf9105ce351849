//! The RDS API side of the connector, against moto's RDS API: a config that
//! names only `rds.cluster.identifier` resolves the cluster's writer
//! endpoint and port (validate prints them and connects there), and the
//! preflight flags a parameter group with `binlog_format=MIXED` and an
//! instance without automated backups, each with the command that fixes it.
//!
//! moto's endpoints do not resolve, so the connection attempt fails; what
//! the test checks is that it was made to the endpoint the API named. The
//! SQL side of the preflight is tested on the real servers (streaming.rs).

mod common;

use aws_sdk_rds::types::{ApplyMethod, Parameter};
use common::*;

async fn rds(s: &Services) -> aws_sdk_rds::Client {
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(s.aws())
        .region(aws_config::Region::new("us-east-1"))
        .load()
        .await;
    aws_sdk_rds::Client::new(&conf)
}

fn setting(name: &str, value: &str) -> Parameter {
    Parameter::builder()
        .parameter_name(name)
        .parameter_value(value)
        .apply_method(ApplyMethod::PendingReboot)
        .build()
}

/// The CLI on `c`'s config without `drop` and with `add`, the RDS API
/// pointed at moto.
fn cli_with(
    s: &Services,
    c: &Connector,
    drop: &[&str],
    add: &[(&str, &str)],
    args: &[&str],
) -> std::process::Output {
    let mut c = c.clone();
    for k in drop {
        c = c.without(k);
    }
    for (k, v) in add {
        c = c.with(k, v);
    }
    c.cli(args, &[("AWS_ENDPOINT_URL_RDS", s.aws())])
}

fn line<'a>(text: &'a str, check: &str) -> &'a str {
    text.lines()
        .find(|l| {
            l.get(5..)
                .is_some_and(|rest| rest.starts_with(&format!("{check} ")))
        })
        .unwrap_or_else(|| panic!("no {check} line in:\n{text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_identifier_finds_the_writer_and_mixed_format_is_flagged() {
    let Some(s) = Services::get() else { return };
    let db = s.server(Flavor::MySql);
    let api = rds(&s).await;
    let id = unique("orders").replace('_', "-");
    let group = format!("{id}-cdc");
    api.create_db_cluster_parameter_group()
        .db_cluster_parameter_group_name(&group)
        .db_parameter_group_family("aurora-mysql8.0")
        .description("binlog for CDC")
        .send()
        .await
        .expect("create cluster parameter group in moto");
    api.modify_db_cluster_parameter_group()
        .db_cluster_parameter_group_name(&group)
        .parameters(setting("binlog_format", "MIXED"))
        .parameters(setting("binlog_row_image", "full"))
        .send()
        .await
        .unwrap();
    // A port of its own, so the connection attempt below is recognisably
    // the one the API named.
    let port = 3000 + (std::process::id() % 1000) as i32;
    let cluster = api
        .create_db_cluster()
        .db_cluster_identifier(&id)
        .engine("aurora-mysql")
        .engine_version("8.0.mysql_aurora.3.05.2")
        .master_username("admin")
        .master_user_password("not-used-12345")
        .db_cluster_parameter_group_name(&group)
        .port(port)
        .backup_retention_period(1)
        .send()
        .await
        .expect("create cluster in moto");
    let endpoint = cluster
        .db_cluster()
        .and_then(|c| c.endpoint())
        .expect("moto names the writer endpoint")
        .to_string();
    api.create_db_instance()
        .db_instance_identifier(format!("{id}-1"))
        .db_cluster_identifier(&id)
        .engine("aurora-mysql")
        .db_instance_class("db.r6g.large")
        .send()
        .await
        .unwrap();

    let c = Connector::new(&s, &db, "rdsapi").await;
    let out = cli_with(
        &s,
        &c,
        &["database.hostname", "database.port"],
        &[("rds.cluster.identifier", &id), ("rds.region", "us-east-1")],
        &["validate"],
    );
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(1), "{text}\n{err}");

    let ep = line(&text, "rds endpoint");
    assert!(
        ep.starts_with("ok")
            && ep.contains(&format!("writer {endpoint}:{port} of DB cluster \"{id}\"")),
        "{ep}"
    );
    assert!(line(&text, "rds engine").contains("Aurora MySQL 3 (8.0.mysql_aurora.3.05.2)"));
    let fmt = line(&text, "rds binlog_format");
    assert!(fmt.starts_with("FAIL") && fmt.contains("MIXED"), "{fmt}");
    assert!(
        fmt.contains(&format!(
            "run: aws rds modify-db-cluster-parameter-group --db-cluster-parameter-group-name {group} --parameters \"ParameterName=binlog_format,ParameterValue=ROW,ApplyMethod=pending-reboot\", then reboot: aws rds reboot-db-instance --db-instance-identifier {id}-1"
        )),
        "{fmt}"
    );
    assert!(line(&text, "rds binlog_row_image").starts_with("ok"));
    assert!(line(&text, "rds backups").starts_with("ok"));
    // The connection went where the API said (moto's names do not resolve).
    let connect = line(&text, "mysql connect");
    assert!(
        connect.starts_with("FAIL") && connect.contains(&format!("{endpoint}:{port}")),
        "{connect}"
    );
    assert!(
        err.contains("found the writer endpoint with the rds api"),
        "{err}"
    );

    // A cluster that is not there: the load fails naming it and the fix.
    let out = cli_with(
        &s,
        &c,
        &["database.hostname", "database.port"],
        &[("rds.cluster.identifier", "no-such-cluster")],
        &["validate"],
    );
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success());
    assert!(
        err.contains("DBClusterNotFoundFault")
            && err.contains("check the identifier and the region"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_without_backups_is_flagged_and_the_sql_side_still_runs() {
    let Some(s) = Services::get() else { return };
    let db = s.server(Flavor::MySql);
    let api = rds(&s).await;
    let id = unique("shop").replace('_', "-");
    let group = format!("{id}-cdc");
    api.create_db_parameter_group()
        .db_parameter_group_name(&group)
        .db_parameter_group_family("mysql8.0")
        .description("binlog for CDC")
        .send()
        .await
        .expect("create parameter group in moto");
    api.modify_db_parameter_group()
        .db_parameter_group_name(&group)
        .parameters(setting("binlog_format", "ROW"))
        .send()
        .await
        .unwrap();
    api.create_db_instance()
        .db_instance_identifier(&id)
        .engine("mysql")
        .engine_version("8.0.35")
        .db_instance_class("db.t4g.micro")
        .master_username("admin")
        .master_user_password("not-used-12345")
        .db_parameter_group_name(&group)
        .backup_retention_period(0)
        .send()
        .await
        .expect("create instance in moto");

    // database.hostname set: the connector connects to the real server,
    // and the preflight still reads the instance's settings.
    let c = Connector::new(&s, &db, "rdsinst").await;
    let out = cli_with(
        &s,
        &c,
        &[],
        &[("rds.instance.identifier", &id)],
        &["validate"],
    );
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(1), "{text}");
    let failed: Vec<&str> = text.lines().filter(|l| l.starts_with("FAIL")).collect();
    assert_eq!(failed.len(), 1, "only the backups fail: {text}");
    assert!(
        failed[0].starts_with("FAIL rds backups")
            && failed[0].contains(&format!(
                "aws rds modify-db-instance --db-instance-identifier {id} --backup-retention-period 7 --apply-immediately"
            )),
        "{text}"
    );
    assert!(line(&text, "rds endpoint").contains("from database.hostname"));
    assert!(line(&text, "rds binlog_format").starts_with("ok"));
    assert!(line(&text, "mysql connect").starts_with("ok"));
    assert!(line(&text, "privileges").starts_with("ok"));
}
