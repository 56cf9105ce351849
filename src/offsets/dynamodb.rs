//! Offsets in DynamoDB, for Lambda.
//!
//! One item per connector, keyed by `connector` (string):
//!
//! | attribute | meaning |
//! |---|---|
//! | `epoch` (N) | lease generation, +1 on every acquire |
//! | `lease_owner` (S) | current holder; absent when released |
//! | `lease_expires_ms` (N) | holder's expiry |
//! | `checkpoint` (S) | [`Checkpoint`] as JSON |
//! | `updated_ms` (N) | when the checkpoint was written |
//!
//! Acquire is one `UpdateItem` conditional on the lease being absent or
//! expired; commit and release are `UpdateItem`s conditional on
//! `epoch = :ours AND lease_owner = :us`. DynamoDB evaluates the condition
//! and the write atomically, which is the whole fencing argument. Reads for
//! `status` are strongly consistent.

use std::time::Duration;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::create_table::CreateTableError;
use aws_sdk_dynamodb::operation::get_item::GetItemError;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::operation::update_item::{UpdateItemError, UpdateItemOutput};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, ReturnValue,
    ScalarAttributeType,
};
use aws_sdk_dynamodb::Client;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

use super::{now_ms, Acquire, Lease, OffsetStore, StoredState};
use crate::error::{Error, Result};
use crate::model::Checkpoint;

/// The error of one DynamoDB operation, as [`DynamoDbStore::sdk_err`]
/// classifies it.
trait OperationError: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static {
    /// `ResourceNotFoundException`: the table is not there.
    fn missing_table(&self) -> bool;
}

impl OperationError for UpdateItemError {
    fn missing_table(&self) -> bool {
        self.is_resource_not_found_exception()
    }
}

impl OperationError for GetItemError {
    fn missing_table(&self) -> bool {
        self.is_resource_not_found_exception()
    }
}

impl OperationError for CreateTableError {
    fn missing_table(&self) -> bool {
        false
    }
}

/// A [`OffsetStore`] in a DynamoDB table.
#[derive(Debug, Clone)]
pub struct DynamoDbStore {
    client: Client,
    table: String,
    connector: String,
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: u64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

impl DynamoDbStore {
    /// A client for `table` with the default AWS credential chain, an
    /// optional endpoint override (moto, DynamoDB Local) and region.
    pub async fn connect(
        table: &str,
        connector: &str,
        endpoint: Option<&str>,
        region: Option<&str>,
    ) -> Result<Self> {
        let Some(conf) =
            crate::platform::aws::service_config(region, endpoint, &["AWS_ENDPOINT_URL_DYNAMODB"])
                .await
        else {
            // Nothing a retry changes: a configuration problem.
            return Err(Error::Config(crate::error::ConfigProblems(vec![format!(
                "no AWS region for DynamoDB table {table:?}; set AWS_REGION or offset.storage.dynamodb.region"
            )])));
        };
        Ok(Self {
            client: Client::new(&conf),
            table: table.to_string(),
            connector: connector.to_string(),
        })
    }

    /// An [`Error::Offsets`] keeping `e` as its source.
    fn err(
        &self,
        during: &'static str,
        e: impl std::error::Error + Send + Sync + 'static,
    ) -> Error {
        Error::Offsets {
            store: self.describe(),
            during,
            reason: e.to_string(),
            source: Some(Box::new(e)),
        }
    }

    /// The error for a failed SDK call, chosen by the SDK's error type: a
    /// missing table and an IAM denial need a person
    /// ([`Error::OffsetsTableMissing`], [`Error::OffsetsAccessDenied`]);
    /// throttling, the service's 5xx, timeouts and network failures may
    /// heal ([`Error::Offsets`]). The message is the service's code,
    /// message and request id (or the cause chain), never the SDK's debug
    /// dump; the `SdkError` itself is the source.
    fn sdk_err<E, R>(&self, during: &'static str, e: SdkError<E, R>) -> Error
    where
        E: OperationError,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        let reason = crate::platform::aws::sdk_error_text(&e);
        let store = self.describe();
        let table = self.table.clone();
        match e.as_service_error() {
            Some(op) if op.missing_table() => Error::OffsetsTableMissing {
                store,
                table,
                during,
                reason,
                source: Box::new(e),
            },
            // Access denial is not a modelled error of any DynamoDB
            // operation: the SDK keeps it as an unhandled error whose handle
            // is the service's error code (a protocol field, not text).
            Some(op) if op.code() == Some("AccessDeniedException") => Error::OffsetsAccessDenied {
                store,
                table,
                during,
                reason,
                source: Box::new(e),
            },
            _ => Error::Offsets {
                store,
                during,
                reason,
                source: Some(Box::new(e)),
            },
        }
    }

    /// Creates the table (on-demand) if it does not exist; for local use.
    pub async fn create_table(&self) -> Result<()> {
        let res = self
            .client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name("connector")
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .map_err(|e| self.err("create table", e))?,
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name("connector")
                    .key_type(KeyType::Hash)
                    .build()
                    .map_err(|e| self.err("create table", e))?,
            )
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_in_use_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(self.sdk_err("create table", e)),
        }
    }

    fn parse_item(
        &self,
        item: &std::collections::HashMap<String, AttributeValue>,
    ) -> Result<StoredState> {
        let num = |k: &str| {
            item.get(k)
                .and_then(|v| v.as_n().ok())
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        let checkpoint = match item.get("checkpoint").and_then(|v| v.as_s().ok()) {
            Some(text) => Some(text.parse::<Checkpoint>().map_err(|e| {
                Error::CorruptCheckpoint {
                    store: self.describe(),
                    reason: e.to_string(),
                    fix: format!(
                        "fix or remove the checkpoint attribute of item connector={:?} in table {:?} (without it the connector starts as configured by snapshot.mode)",
                        self.connector, self.table
                    ),
                    source: Some(Box::new(e)),
                }
            })?),
            None => None,
        };
        Ok(StoredState {
            epoch: num("epoch"),
            owner: item.get("lease_owner").and_then(|v| v.as_s().ok()).cloned(),
            expires_ms: num("lease_expires_ms"),
            checkpoint,
            updated_ms: num("updated_ms"),
        })
    }
}

impl DynamoDbStore {
    /// An UpdateItem of this connector's item that succeeds only while
    /// `lease` holds it (the epoch and owner it was taken with).
    fn update_as_holder(&self, lease: &Lease) -> UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("connector", s(&self.connector))
            .condition_expression("epoch = :e AND lease_owner = :o")
            .expression_attribute_values(":e", n(lease.epoch))
            .expression_attribute_values(":o", s(&lease.owner))
    }

    /// The outcome of an [`Self::update_as_holder`]: a failed condition means
    /// another poller took the lease over ([`Error::Fenced`]).
    fn fenced_unless_held(
        &self,
        lease: &Lease,
        during: &'static str,
        res: std::result::Result<UpdateItemOutput, SdkError<UpdateItemError, HttpResponse>>,
    ) -> Result<()> {
        match res {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Err(Error::Fenced {
                    connector: self.connector.clone(),
                    epoch: lease.epoch,
                })
            }
            Err(e) => Err(self.sdk_err(during, e)),
        }
    }
}

impl OffsetStore for DynamoDbStore {
    async fn acquire(&self, owner: &str, ttl: Duration) -> Result<Acquire> {
        let now = now_ms();
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("connector", s(&self.connector))
            .update_expression(
                "SET lease_owner = :o, lease_expires_ms = :exp, epoch = if_not_exists(epoch, :zero) + :one",
            )
            .condition_expression(
                "attribute_not_exists(connector) OR attribute_not_exists(lease_owner) OR lease_expires_ms < :now",
            )
            .expression_attribute_values(":o", s(owner))
            .expression_attribute_values(":exp", n(now + ttl.as_millis() as u64))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":now", n(now))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match res {
            Ok(out) => {
                let st = self.parse_item(out.attributes().unwrap_or(&Default::default()))?;
                Ok(Acquire::Acquired(Lease {
                    owner: owner.to_string(),
                    epoch: st.epoch,
                    checkpoint: st.checkpoint,
                }))
            }
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                let st = self.load().await?.unwrap_or_default();
                Ok(Acquire::Held {
                    owner: st.owner.unwrap_or_default(),
                    expires_ms: st.expires_ms,
                })
            }
            Err(e) => Err(self.sdk_err("acquire lease", e)),
        }
    }

    async fn commit(&self, lease: &Lease, cp: &Checkpoint, ttl: Duration) -> Result<()> {
        let now = now_ms();
        let res = self
            .update_as_holder(lease)
            .update_expression("SET checkpoint = :cp, lease_expires_ms = :exp, updated_ms = :now")
            .expression_attribute_values(":cp", s(cp.to_string()))
            .expression_attribute_values(":exp", n(now + ttl.as_millis() as u64))
            .expression_attribute_values(":now", n(now))
            .send()
            .await;
        self.fenced_unless_held(lease, "commit checkpoint", res)
    }

    async fn renew(&self, lease: &Lease, ttl: Duration) -> Result<()> {
        let res = self
            .update_as_holder(lease)
            .update_expression("SET lease_expires_ms = :exp")
            .expression_attribute_values(":exp", n(now_ms() + ttl.as_millis() as u64))
            .send()
            .await;
        self.fenced_unless_held(lease, "renew the lease", res)
    }

    async fn release(&self, lease: &Lease) -> Result<()> {
        let res = self
            .update_as_holder(lease)
            .update_expression("REMOVE lease_owner SET lease_expires_ms = :zero")
            .expression_attribute_values(":zero", n(0))
            .send()
            .await;
        match self.fenced_unless_held(lease, "release lease", res) {
            // Already taken over: nothing of ours to release.
            Err(Error::Fenced { .. }) => Ok(()),
            other => other,
        }
    }

    async fn take_over(&self, owner: &str, ttl: Duration) -> Result<Lease> {
        // Unconditional: the epoch moves on whoever held the lease, so the
        // holder's next conditional write fails.
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("connector", s(&self.connector))
            .update_expression(
                "SET lease_owner = :o, lease_expires_ms = :exp, epoch = if_not_exists(epoch, :zero) + :one",
            )
            .expression_attribute_values(":o", s(owner))
            .expression_attribute_values(":exp", n(now_ms() + ttl.as_millis() as u64))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            // Only the lease: a take-over must work on a corrupt checkpoint
            // too (`offsets reset` is how a person clears one).
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|e| self.sdk_err("take over the lease", e))?;
        let epoch = out
            .attributes()
            .and_then(|a| a.get("epoch"))
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| Error::Offsets {
                store: self.describe(),
                during: "take over the lease",
                reason: "the update returned no epoch".into(),
                source: None,
            })?;
        Ok(Lease {
            owner: owner.to_string(),
            epoch,
            checkpoint: None,
        })
    }

    async fn clear(&self, lease: &Lease) -> Result<()> {
        let res = self
            .update_as_holder(lease)
            .update_expression("REMOVE checkpoint SET updated_ms = :now")
            .expression_attribute_values(":now", n(now_ms()))
            .send()
            .await;
        self.fenced_unless_held(lease, "clear the checkpoint", res)
    }

    async fn load(&self) -> Result<Option<StoredState>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("connector", s(&self.connector))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.sdk_err("read", e))?;
        out.item().map(|i| self.parse_item(i)).transpose()
    }

    fn describe(&self) -> String {
        format!("dynamodb:{}#{}", self.table, self.connector)
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use aws_sdk_dynamodb::error::ErrorMetadata;
    use aws_sdk_dynamodb::types::error::ResourceNotFoundException;
    use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;

    use super::*;

    fn store() -> DynamoDbStore {
        let conf = aws_sdk_dynamodb::Config::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .build();
        DynamoDbStore {
            client: Client::from_conf(conf),
            table: "offsets".into(),
            connector: "c".into(),
        }
    }

    /// The raw response as the SDK keeps it, with a body large enough that
    /// a debug dump of it would show.
    fn raw(status: u16) -> HttpResponse {
        HttpResponse::new(
            StatusCode::try_from(status).unwrap(),
            SdkBody::from(format!(
                "{{\"__type\": \"x\", \"padding\": \"{}\"}}",
                "p".repeat(1500)
            )),
        )
    }

    /// Error metadata as the SDK's deserialiser records it.
    fn meta(code: &str, message: &str) -> ErrorMetadata {
        ErrorMetadata::builder()
            .code(code)
            .message(message)
            .custom("aws_request_id", "RID123")
            .build()
    }

    #[test]
    fn a_missing_table_needs_a_person_and_names_the_fix() {
        let sdk = SdkError::service_error(
            UpdateItemError::ResourceNotFoundException(
                ResourceNotFoundException::builder()
                    .message("Requested resource not found")
                    .meta(meta(
                        "ResourceNotFoundException",
                        "Requested resource not found",
                    ))
                    .build(),
            ),
            raw(400),
        );
        let e = store().sdk_err("acquire lease", sdk);
        assert!(!e.is_retryable(), "{e}");
        let msg = e.to_string();
        assert!(
            msg.contains("\"offsets\"")
                && msg.contains(
                    "ResourceNotFoundException: Requested resource not found (request id RID123)"
                )
                && msg.contains("binlog-poller init"),
            "{msg}"
        );
        assert!(msg.len() < 600, "short, no debug dump: {msg}");
        let source = e.source().expect("the SDK error is the source");
        assert!(
            source.is::<SdkError<UpdateItemError, HttpResponse>>(),
            "{source:?}"
        );

        // The same for GetItem (status, load).
        let sdk = SdkError::service_error(
            GetItemError::ResourceNotFoundException(
                ResourceNotFoundException::builder()
                    .meta(meta(
                        "ResourceNotFoundException",
                        "Requested resource not found",
                    ))
                    .build(),
            ),
            raw(400),
        );
        assert!(!store().sdk_err("read", sdk).is_retryable());
    }

    #[test]
    fn access_denied_needs_a_person_and_names_the_actions() {
        let sdk = SdkError::service_error(
            UpdateItemError::generic(meta(
                "AccessDeniedException",
                "User: arn:aws:sts::1:assumed-role/r/f is not authorized to perform: dynamodb:UpdateItem",
            )),
            raw(400),
        );
        let e = store().sdk_err("commit checkpoint", sdk);
        assert!(!e.is_retryable(), "{e}");
        let msg = e.to_string();
        assert!(
            msg.contains("AccessDeniedException: User:")
                && msg.contains("dynamodb:GetItem and dynamodb:UpdateItem")
                && msg.contains("\"offsets\""),
            "{msg}"
        );
        assert!(msg.len() < 600, "{msg}");
        assert!(e.source().is_some());
    }

    #[test]
    fn throttling_5xx_and_timeouts_stay_retryable_and_short() {
        let throttled = SdkError::service_error(
            UpdateItemError::ProvisionedThroughputExceededException(
                aws_sdk_dynamodb::types::error::ProvisionedThroughputExceededException::builder()
                    .meta(meta("ProvisionedThroughputExceededException", "slow down"))
                    .build(),
            ),
            raw(400),
        );
        let e = store().sdk_err("commit checkpoint", throttled);
        assert!(e.is_retryable(), "{e}");
        assert!(e.to_string().len() < 300, "{e}");
        let fault = SdkError::service_error(
            GetItemError::InternalServerError(
                aws_sdk_dynamodb::types::error::InternalServerError::builder()
                    .message("internal")
                    .meta(meta("InternalServerError", "internal"))
                    .build(),
            ),
            raw(500),
        );
        assert!(store().sdk_err("read", fault).is_retryable());
        let sdk: SdkError<UpdateItemError, HttpResponse> = SdkError::timeout_error("no answer");
        let e = store().sdk_err("commit checkpoint", sdk);
        assert!(e.is_retryable());
        // The cause chain, not the SDK's bare "request has timed out".
        assert!(e.to_string().contains("no answer"), "{e}");
        let source = e.source().expect("the SDK error is the source");
        assert!(
            source.is::<SdkError<UpdateItemError, HttpResponse>>(),
            "{source:?}"
        );
    }

    #[test]
    fn a_corrupt_stored_checkpoint_needs_a_person() {
        let item = std::collections::HashMap::from([
            ("epoch".to_string(), n(3)),
            ("checkpoint".to_string(), s("{not json")),
        ]);
        let e = store().parse_item(&item).unwrap_err();
        assert!(!e.is_retryable(), "{e}");
        let msg = e.to_string();
        assert!(
            msg.contains("corrupt") && msg.contains("connector=\"c\""),
            "{msg}"
        );
    }
}
