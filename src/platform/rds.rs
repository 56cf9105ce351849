//! What the RDS API says about the database: the writer endpoint, the
//! engine, backups, IAM database authentication, and the binlog parameters
//! of its (cluster) parameter group.
//!
//! Two uses:
//! * **Endpoint discovery.** With `rds.cluster.identifier` or
//!   `rds.instance.identifier` and no `database.hostname`, each cold start
//!   asks `DescribeDBClusters` / `DescribeDBInstances` for the endpoint. A
//!   cluster's `Endpoint` is its writer endpoint: Aurora moves that name to
//!   the new writer on failover, and Aurora readers have no binlog to read.
//! * **The preflight** (`ops::rds_preflight`), which reads the parameter
//!   groups with `DescribeDBClusterParameters` / `DescribeDBParameters`.
//!
//! Every call sits behind [`RdsApi`], so the preflight's judgement is tested
//! on [`RdsFacts`] without a network; [`AwsRds`] is the real one, tested
//! against moto's RDS API.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

use crate::error::{Error, Result};

/// Which RDS resource the database is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RdsResource {
    /// `rds.cluster.identifier`: an Aurora or Multi-AZ DB cluster.
    Cluster(String),
    /// `rds.instance.identifier`: a DB instance.
    Instance(String),
}

impl RdsResource {
    /// The config key that names it.
    pub fn key(&self) -> &'static str {
        match self {
            RdsResource::Cluster(_) => "rds.cluster.identifier",
            RdsResource::Instance(_) => "rds.instance.identifier",
        }
    }

    /// The identifier.
    pub fn id(&self) -> &str {
        match self {
            RdsResource::Cluster(id) | RdsResource::Instance(id) => id,
        }
    }
}

impl std::fmt::Display for RdsResource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RdsResource::Cluster(id) => write!(f, "DB cluster {id:?}"),
            RdsResource::Instance(id) => write!(f, "DB instance {id:?}"),
        }
    }
}

/// A DB cluster, as `DescribeDBClusters` reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClusterFacts {
    pub id: String,
    /// `aurora-mysql`, `mysql` (Multi-AZ DB cluster), ...
    pub engine: String,
    pub engine_version: String,
    /// The writer (cluster) endpoint.
    pub endpoint: Option<String>,
    /// The reader endpoint (`...cluster-ro-...`).
    pub reader_endpoint: Option<String>,
    pub port: Option<u16>,
    /// The DB cluster parameter group.
    pub parameter_group: Option<String>,
    /// Member instances: identifier, whether it is the writer, and the
    /// cluster parameter group's status on it (`pending-reboot`).
    pub members: Vec<ClusterMember>,
    pub iam_auth: bool,
    pub backup_retention_days: i32,
}

/// One instance of a cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClusterMember {
    pub id: String,
    pub writer: bool,
    /// `in-sync`, `pending-reboot`, `applying`.
    pub parameter_status: Option<String>,
}

impl ClusterFacts {
    /// The writer instance, when the cluster has one.
    pub fn writer(&self) -> Option<&ClusterMember> {
        self.members.iter().find(|m| m.writer)
    }
}

/// A DB instance, as `DescribeDBInstances` reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstanceFacts {
    pub id: String,
    pub engine: String,
    pub engine_version: String,
    pub address: Option<String>,
    pub port: Option<u16>,
    /// The DB parameter group and its status on the instance
    /// (`in-sync`, `pending-reboot`, `applying`).
    pub parameter_group: Option<(String, Option<String>)>,
    pub iam_auth: bool,
    pub backup_retention_days: i32,
    /// The cluster the instance belongs to (Aurora).
    pub cluster: Option<String>,
    /// The instance this one is a read replica of.
    pub replica_of: Option<String>,
}

/// One parameter of a parameter group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parameter {
    pub name: String,
    /// `None` when the group leaves it without a value.
    pub value: Option<String>,
    /// `immediate` or `pending-reboot`: how a change to it is applied.
    pub apply_method: Option<String>,
    /// `user`, `engine-default`, `system`.
    pub source: Option<String>,
}

/// The RDS calls the connector makes; all read-only.
#[allow(async_fn_in_trait)]
pub trait RdsApi {
    /// `DescribeDBClusters` of one cluster.
    async fn cluster(&self, id: &str) -> Result<ClusterFacts>;
    /// `DescribeDBInstances` of one instance.
    async fn instance(&self, id: &str) -> Result<InstanceFacts>;
    /// `DescribeDBClusterParameters` of a DB cluster parameter group: the
    /// parameters among `names` it lists.
    async fn cluster_parameters(&self, group: &str, names: &[&str]) -> Result<Vec<Parameter>>;
    /// `DescribeDBParameters` of a DB parameter group: the parameters among
    /// `names` it lists.
    async fn instance_parameters(&self, group: &str, names: &[&str]) -> Result<Vec<Parameter>>;
}

/// Where the database's writer is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
}

/// The writer endpoint of `resource`: a cluster's endpoint (the writer
/// endpoint), or an instance's address. Refuses an Aurora reader instance,
/// which has no binlog.
pub async fn writer_endpoint(api: &impl RdsApi, resource: &RdsResource) -> Result<Endpoint> {
    let missing = |what: &str| Error::RdsApi {
        call: match resource {
            RdsResource::Cluster(_) => "DescribeDBClusters",
            RdsResource::Instance(_) => "DescribeDBInstances",
        },
        resource: resource.to_string(),
        reason: format!("it reports no {what} (is it still being created?)"),
        hint: "wait until the database is available, or set database.hostname and database.port"
            .into(),
        retryable: true,
        source: None,
    };
    match resource {
        RdsResource::Cluster(id) => {
            let c = api.cluster(id).await?;
            Ok(Endpoint {
                host: c.endpoint.ok_or_else(|| missing("endpoint"))?,
                port: c.port.ok_or_else(|| missing("port"))?,
            })
        }
        RdsResource::Instance(id) => {
            let i = api.instance(id).await?;
            if let Some(cluster) = &i.cluster {
                // Only the writer has a binlog, and which instance writes
                // changes on failover: a member must be the writer now, and
                // the cluster is the name to give.
                let c = api.cluster(cluster).await?;
                if c.writer().is_none_or(|w| w.id != i.id) {
                    return Err(Error::Config(crate::error::ConfigProblems(vec![format!(
                        "rds.instance.identifier: {id:?} is not the writer of cluster {cluster:?} \
                         (readers have no binlog, and the writer changes on failover); set \
                         rds.cluster.identifier={cluster:?} instead"
                    )])));
                }
            }
            Ok(Endpoint {
                host: i.address.ok_or_else(|| missing("endpoint address"))?,
                port: i.port.ok_or_else(|| missing("port"))?,
            })
        }
    }
}

/// The RDS API through the AWS SDK, with the process's shared SDK
/// configuration (`rds.region` over the chain's; `AWS_ENDPOINT_URL_RDS`
/// for a local endpoint).
#[derive(Debug, Clone)]
pub struct AwsRds {
    client: aws_sdk_rds::Client,
}

impl AwsRds {
    /// A client for `region` (default: the AWS chain's).
    pub async fn connect(region: Option<&str>) -> Result<Self> {
        let conf = super::aws::service_config(region, None, &["AWS_ENDPOINT_URL_RDS"])
            .await
            .ok_or_else(|| {
                Error::Config(crate::error::ConfigProblems(vec![
                    "no AWS region for the RDS API; set rds.region or AWS_REGION".into(),
                ]))
            })?;
        Ok(Self {
            client: aws_sdk_rds::Client::new(&conf),
        })
    }
}

/// Service error codes a later attempt may get past: throttling and the
/// service's own trouble.
const RETRYABLE_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "ServiceUnavailable",
    "InternalFailure",
    "InternalError",
];

fn api_error<E>(
    call: &'static str,
    resource: String,
    e: aws_sdk_rds::error::SdkError<E, HttpResponse>,
) -> Error
where
    E: aws_sdk_rds::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let code = e
        .as_service_error()
        .and_then(|s| s.code())
        .map(str::to_string);
    // Fail closed: only what heals by itself is retried (throttling, the
    // service's own faults, timeouts and network errors).
    let status = e.raw_response().map(|r| r.status().as_u16());
    let retryable = match code.as_deref() {
        None => status.is_none_or(|s| s >= 500),
        Some(c) if RETRYABLE_CODES.contains(&c) => true,
        Some(_) => status.is_some_and(|s| s >= 500),
    };
    let hint = match code.as_deref() {
        Some("DBClusterNotFoundFault" | "DBInstanceNotFound" | "DBParameterGroupNotFound") => {
            "check the identifier and the region (rds.region, else AWS_REGION)".to_string()
        }
        Some(c) if c.starts_with("AccessDenied") || c == "UnauthorizedOperation" => format!(
            "allow the function's role rds:{call} on it (the CDK construct and the Terraform module grant it)"
        ),
        _ if retryable => "the call is retried at the next poll".to_string(),
        _ => "check the AWS credentials and the region; nothing is retried until then".to_string(),
    };
    Error::RdsApi {
        call,
        resource,
        reason: super::aws::sdk_error_text(&e),
        hint,
        retryable,
        source: Some(Box::new(e)),
    }
}

fn port(p: Option<i32>) -> Option<u16> {
    p.and_then(|p| u16::try_from(p).ok())
}

/// Every page of a `Describe*Parameters` request, keeping `names`. A group
/// lists a few hundred parameters, 100 a page at most: a handful of pages,
/// each bounded by the SDK's operation timeout. (A macro: the two
/// operations' paginators share no trait.)
macro_rules! list_parameters {
    ($request:expr, $call:literal, $resource:expr, $names:expr) => {{
        let mut found = Vec::new();
        let mut pages = $request.max_records(100).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| api_error($call, $resource, e))?;
            found.extend(page.parameters().iter().filter_map(|p| pick(p, $names)));
        }
        Ok(found)
    }};
}

impl RdsApi for AwsRds {
    async fn cluster(&self, id: &str) -> Result<ClusterFacts> {
        let out = self
            .client
            .describe_db_clusters()
            .db_cluster_identifier(id)
            .send()
            .await
            .map_err(|e| api_error("DescribeDBClusters", format!("DB cluster {id:?}"), e))?;
        let c = out.db_clusters().first().ok_or_else(|| Error::RdsApi {
            call: "DescribeDBClusters",
            resource: format!("DB cluster {id:?}"),
            reason: "no such cluster".into(),
            hint: "check the identifier and the region (rds.region, else AWS_REGION)".into(),
            retryable: false,
            source: None,
        })?;
        Ok(ClusterFacts {
            id: c.db_cluster_identifier().unwrap_or(id).to_string(),
            engine: c.engine().unwrap_or_default().to_string(),
            engine_version: c.engine_version().unwrap_or_default().to_string(),
            endpoint: c.endpoint().map(str::to_string),
            reader_endpoint: c.reader_endpoint().map(str::to_string),
            port: port(c.port()),
            parameter_group: c.db_cluster_parameter_group().map(str::to_string),
            members: c
                .db_cluster_members()
                .iter()
                .map(|m| ClusterMember {
                    id: m.db_instance_identifier().unwrap_or_default().to_string(),
                    writer: m.is_cluster_writer().unwrap_or(false),
                    parameter_status: m.db_cluster_parameter_group_status().map(str::to_string),
                })
                .collect(),
            iam_auth: c.iam_database_authentication_enabled().unwrap_or(false),
            backup_retention_days: c.backup_retention_period().unwrap_or(0),
        })
    }

    async fn instance(&self, id: &str) -> Result<InstanceFacts> {
        let out = self
            .client
            .describe_db_instances()
            .db_instance_identifier(id)
            .send()
            .await
            .map_err(|e| api_error("DescribeDBInstances", format!("DB instance {id:?}"), e))?;
        let i = out.db_instances().first().ok_or_else(|| Error::RdsApi {
            call: "DescribeDBInstances",
            resource: format!("DB instance {id:?}"),
            reason: "no such instance".into(),
            hint: "check the identifier and the region (rds.region, else AWS_REGION)".into(),
            retryable: false,
            source: None,
        })?;
        Ok(InstanceFacts {
            id: i.db_instance_identifier().unwrap_or(id).to_string(),
            engine: i.engine().unwrap_or_default().to_string(),
            engine_version: i.engine_version().unwrap_or_default().to_string(),
            address: i.endpoint().and_then(|e| e.address()).map(str::to_string),
            port: port(i.endpoint().and_then(|e| e.port()).or(i.db_instance_port())),
            parameter_group: i.db_parameter_groups().first().and_then(|g| {
                Some((
                    g.db_parameter_group_name()?.to_string(),
                    g.parameter_apply_status().map(str::to_string),
                ))
            }),
            iam_auth: i.iam_database_authentication_enabled().unwrap_or(false),
            backup_retention_days: i.backup_retention_period().unwrap_or(0),
            cluster: i.db_cluster_identifier().map(str::to_string),
            replica_of: i
                .read_replica_source_db_instance_identifier()
                .map(str::to_string),
        })
    }

    async fn cluster_parameters(&self, group: &str, names: &[&str]) -> Result<Vec<Parameter>> {
        list_parameters!(
            self.client
                .describe_db_cluster_parameters()
                .db_cluster_parameter_group_name(group),
            "DescribeDBClusterParameters",
            format!("DB cluster parameter group {group:?}"),
            names
        )
    }

    async fn instance_parameters(&self, group: &str, names: &[&str]) -> Result<Vec<Parameter>> {
        list_parameters!(
            self.client
                .describe_db_parameters()
                .db_parameter_group_name(group),
            "DescribeDBParameters",
            format!("DB parameter group {group:?}"),
            names
        )
    }
}

/// `p` when it is one of `names`.
fn pick(p: &aws_sdk_rds::types::Parameter, names: &[&str]) -> Option<Parameter> {
    let name = p.parameter_name()?;
    names.contains(&name).then(|| Parameter {
        name: name.to_string(),
        value: p.parameter_value().map(str::to_string),
        apply_method: p.apply_method().map(|m| m.as_str().to_string()),
        source: p.source().map(str::to_string),
    })
}

/// An [`RdsApi`] answering from memory, for unit tests.
#[cfg(any(test, feature = "testing"))]
#[derive(Debug, Clone, Default)]
pub struct MemoryRds {
    pub clusters: Vec<ClusterFacts>,
    pub instances: Vec<InstanceFacts>,
    /// Parameter group name → its parameters (cluster and instance groups
    /// share the map: their names never collide in a test).
    pub groups: std::collections::HashMap<String, Vec<Parameter>>,
}

#[cfg(any(test, feature = "testing"))]
impl MemoryRds {
    fn not_found(call: &'static str, resource: String) -> Error {
        Error::RdsApi {
            call,
            resource,
            reason: "not found".into(),
            hint: "check the identifier".into(),
            retryable: false,
            source: None,
        }
    }

    fn params(&self, call: &'static str, group: &str, names: &[&str]) -> Result<Vec<Parameter>> {
        let all = self
            .groups
            .get(group)
            .ok_or_else(|| Self::not_found(call, format!("parameter group {group:?}")))?;
        Ok(all
            .iter()
            .filter(|p| names.contains(&p.name.as_str()))
            .cloned()
            .collect())
    }
}

#[cfg(any(test, feature = "testing"))]
impl RdsApi for MemoryRds {
    async fn cluster(&self, id: &str) -> Result<ClusterFacts> {
        self.clusters
            .iter()
            .find(|c| c.id == id)
            .cloned()
            .ok_or_else(|| Self::not_found("DescribeDBClusters", format!("DB cluster {id:?}")))
    }

    async fn instance(&self, id: &str) -> Result<InstanceFacts> {
        self.instances
            .iter()
            .find(|i| i.id == id)
            .cloned()
            .ok_or_else(|| Self::not_found("DescribeDBInstances", format!("DB instance {id:?}")))
    }

    async fn cluster_parameters(&self, group: &str, names: &[&str]) -> Result<Vec<Parameter>> {
        self.params("DescribeDBClusterParameters", group, names)
    }

    async fn instance_parameters(&self, group: &str, names: &[&str]) -> Result<Vec<Parameter>> {
        self.params("DescribeDBParameters", group, names)
    }
}
