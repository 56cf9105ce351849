//! What the pipeline runs on: the AWS SDK (one config for every client, RDS
//! and MSK IAM tokens), the RDS API (endpoint discovery, settings), Secrets Manager references and redaction, TLS
//! (one rustls crypto provider, trust stores), telemetry (JSON logs,
//! CloudWatch Embedded Metric Format) and fault injection for the crash
//! tests.

pub mod aws;
pub(crate) mod fault;
pub mod rds;
pub mod secrets;
pub mod telemetry;
pub(crate) mod tls;
