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

use aws_config::Region;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, ReturnValue,
    ScalarAttributeType,
};
use aws_sdk_dynamodb::Client;

use super::{now_ms, Acquire, Lease, OffsetStore, StoredState};
use crate::error::{Error, Result};
use crate::model::Checkpoint;

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
        let mut conf = crate::platform::aws::sdk_config(region, endpoint).await;
        if conf.region().is_none() {
            if endpoint.is_some() {
                // A local endpoint ignores the region; any valid one signs.
                conf = conf.into_builder().region(Region::new("us-east-1")).build();
            } else {
                return Err(Error::Offsets {
                    store: format!("dynamodb:{table}"),
                    during: "configure",
                    reason: "no AWS region; set AWS_REGION or offset.storage.dynamodb.region"
                        .into(),
                    source: None,
                });
            }
        }
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

    /// An [`Error::Offsets`] for a failed SDK call. The message spells out
    /// the whole cause chain, as the SDK's own `Display` says only
    /// "service error".
    fn sdk_err<E, R>(&self, during: &'static str, e: SdkError<E, R>) -> Error
    where
        E: std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        Error::Offsets {
            store: self.describe(),
            during,
            reason: DisplayErrorContext(&e).to_string(),
            source: Some(Box::new(e)),
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
            Some(text) => Some(
                text.parse::<Checkpoint>()
                    .map_err(|e| self.err("read checkpoint", e))?,
            ),
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
            .client
            .update_item()
            .table_name(&self.table)
            .key("connector", s(&self.connector))
            .update_expression("SET checkpoint = :cp, lease_expires_ms = :exp, updated_ms = :now")
            .condition_expression("epoch = :e AND lease_owner = :o")
            .expression_attribute_values(":cp", s(cp.to_string()))
            .expression_attribute_values(":exp", n(now + ttl.as_millis() as u64))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":e", n(lease.epoch))
            .expression_attribute_values(":o", s(&lease.owner))
            .send()
            .await;
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
            Err(e) => Err(self.sdk_err("commit checkpoint", e)),
        }
    }

    async fn renew(&self, lease: &Lease, ttl: Duration) -> Result<()> {
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("connector", s(&self.connector))
            .update_expression("SET lease_expires_ms = :exp")
            .condition_expression("epoch = :e AND lease_owner = :o")
            .expression_attribute_values(":exp", n(now_ms() + ttl.as_millis() as u64))
            .expression_attribute_values(":e", n(lease.epoch))
            .expression_attribute_values(":o", s(&lease.owner))
            .send()
            .await;
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
            Err(e) => Err(self.sdk_err("renew the lease", e)),
        }
    }

    async fn release(&self, lease: &Lease) -> Result<()> {
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("connector", s(&self.connector))
            .update_expression("REMOVE lease_owner SET lease_expires_ms = :zero")
            .condition_expression("epoch = :e AND lease_owner = :o")
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":e", n(lease.epoch))
            .expression_attribute_values(":o", s(&lease.owner))
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            // Already taken over: nothing of ours to release.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(self.sdk_err("release lease", e)),
        }
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

    use aws_sdk_dynamodb::operation::update_item::UpdateItemError;

    use super::*;

    #[test]
    fn sdk_failures_keep_their_source_and_the_full_message() {
        let conf = aws_sdk_dynamodb::Config::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .build();
        let store = DynamoDbStore {
            client: Client::from_conf(conf),
            table: "offsets".into(),
            connector: "c".into(),
        };
        let sdk: SdkError<UpdateItemError, ()> = SdkError::timeout_error("no answer");
        let expected = DisplayErrorContext(&sdk).to_string();
        let e = store.sdk_err("commit checkpoint", sdk);
        assert_eq!(
            e.to_string(),
            format!("offset store dynamodb:offsets#c failed during commit checkpoint: {expected}")
        );
        // The whole chain, not the SDK's bare "request has timed out".
        assert!(e.to_string().contains("no answer"), "{e}");
        let source = e.source().expect("the SDK error is the source");
        assert!(source.is::<SdkError<UpdateItemError, ()>>(), "{source:?}");
        assert!(e.is_retryable());
    }
}
