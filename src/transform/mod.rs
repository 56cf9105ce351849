//! Single message transforms, applied as Kafka Connect applies a source
//! connector's `transforms` chain: to every record (change events,
//! tombstones, heartbeats, schema changes, transaction records), in the
//! configured order, after the record is built and before it is
//! partitioned, so the partition follows the transformed key and topic.
//!
//! A stage whose predicate does not hold (`negate` flips it) passes the
//! record on unchanged; a stage that drops the record ends the chain for it
//! (`TransformationChain.apply`, `TransformationStage.apply`).
//!
//! A record is taken apart into Kafka Connect's view of it: per key and
//! value, a schema (as the JSON converter writes it, when schemas are on)
//! and a payload, where a null payload with a schema is not a Kafka
//! tombstone (JsonConverter writes `null` or `{"schema":…,"payload":null}`)
//! and only a null payload without one is. It is put back together as the
//! JSON converter would write it; what a transform leaves alone comes out
//! byte for byte as the encoder wrote it ([`json`]).

pub mod json;
mod router;
mod unwrap;

use std::sync::Arc;

use crate::config::{Config, PredicateKind, TransformKind, TransformStage};
use crate::encode::{Headers, Record};
use crate::error::{Error, Result};
use json::Json;

/// Why a transform could not handle a record.
#[derive(Debug)]
pub(crate) struct TransformError(pub(crate) String);

/// One side (key or value) as Kafka Connect sees it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Side {
    /// The schema, when schemas are written (`None` with schemas off).
    schema: Option<Json>,
    /// The payload; `None` is a null value.
    payload: Option<Json>,
    /// Whether the side has a schema at all (with schemas off it is not
    /// written, but decides whether a null value is a Kafka tombstone).
    has_schema: bool,
}

impl Side {
    /// No schema, no value: a Kafka null.
    fn null() -> Self {
        Side {
            schema: None,
            payload: None,
            has_schema: false,
        }
    }

    fn read(bytes: Option<&[u8]>, schemas: bool) -> std::result::Result<Self, json::NotJson> {
        let Some(bytes) = bytes else {
            return Ok(Side::null());
        };
        let v = Json::parse(bytes)?;
        if !schemas {
            return Ok(Side {
                schema: None,
                payload: Some(v).filter(|v| !v.is_null()),
                has_schema: true,
            });
        }
        let schema = v.get("schema").filter(|s| !s.is_null()).cloned();
        Ok(Side {
            has_schema: schema.is_some(),
            schema,
            payload: v.get("payload").filter(|p| !p.is_null()).cloned(),
        })
    }

    /// As Kafka's JsonConverter writes it (`fromConnectData`).
    fn write(&self, schemas: bool) -> Option<Vec<u8>> {
        if !self.has_schema && self.payload.is_none() {
            return None;
        }
        let payload = self.payload.clone().unwrap_or(Json::Null);
        Some(if schemas {
            Json::Object(vec![
                (
                    json::quoted("schema"),
                    self.schema.clone().unwrap_or(Json::Null),
                ),
                (json::quoted("payload"), payload),
            ])
            .to_bytes()
        } else {
            payload.to_bytes()
        })
    }
}

/// A record as the transforms see it.
#[derive(Debug, Clone)]
pub(crate) struct TRecord {
    topic: String,
    key: Side,
    value: Side,
    headers: Headers,
}

/// The configured chain.
#[derive(Debug, Clone, Default)]
pub struct Chain {
    stages: Vec<TransformStage>,
    key_schemas: bool,
    value_schemas: bool,
}

impl Chain {
    /// The chain `config` asks for (empty without `transforms`).
    pub fn new(config: &Config) -> Self {
        Chain {
            stages: config.transforms.clone(),
            key_schemas: config.key_schemas,
            value_schemas: config.value_schemas,
        }
    }

    /// Whether no transform is configured.
    pub fn is_empty(&self) -> bool {
        self.stages.is_empty()
    }

    /// Runs every record through the chain; dropped records are left out.
    pub fn apply(&self, records: Vec<Record>) -> Result<Vec<Record>> {
        if self.stages.is_empty() {
            return Ok(records);
        }
        let mut out = Vec::with_capacity(records.len());
        let mut state = vec![None; self.stages.len()];
        for rec in records {
            if let Some(r) = self.apply_one(rec, &mut state)? {
                out.push(r);
            }
        }
        Ok(out)
    }

    /// One record through the chain; `state` is each stage's memory of
    /// the record before (a delete's headers, for its tombstone).
    fn apply_one(&self, rec: Record, state: &mut [Option<Headers>]) -> Result<Option<Record>> {
        let unreadable = |e: json::NotJson| Error::Transform {
            transform: "(reading the record)".into(),
            reason: format!("the encoded record is not JSON at byte {}", e.0),
        };
        let mut r = TRecord {
            topic: rec.topic.to_string(),
            key: Side::read(rec.key.as_deref(), self.key_schemas).map_err(unreadable)?,
            value: Side::read(rec.value.as_deref(), self.value_schemas).map_err(unreadable)?,
            headers: rec.headers,
        };
        for (stage, last_delete) in self.stages.iter().zip(state.iter_mut()) {
            if let Some((p, negate)) = &stage.predicate {
                if holds(p, &r) == *negate {
                    continue;
                }
            }
            let done = match &stage.kind {
                TransformKind::Unwrap(o) => unwrap::apply(o, r, last_delete),
                TransformKind::RegexRouter {
                    regex,
                    find,
                    replacement,
                } => router::regex_router(regex, find, replacement, r),
            };
            match done {
                Ok(Some(next)) => r = next,
                Ok(None) => return Ok(None),
                Err(TransformError(reason)) => {
                    return Err(Error::Transform {
                        transform: stage.name.clone(),
                        reason,
                    })
                }
            }
        }
        let topic: Arc<str> = if *rec.topic == *r.topic {
            rec.topic
        } else {
            r.topic.into()
        };
        Ok(Some(Record {
            topic,
            key: r.key.write(self.key_schemas),
            value: r.value.write(self.value_schemas),
            headers: r.headers,
            timestamp_ms: rec.timestamp_ms,
        }))
    }
}

/// Whether a predicate holds for a record as it reaches the stage.
fn holds(p: &PredicateKind, r: &TRecord) -> bool {
    match p {
        PredicateKind::TopicNameMatches(re) => re.is_match(&r.topic),
        PredicateKind::RecordIsTombstone => r.value.payload.is_none(),
        PredicateKind::HasHeaderKey(name) => r.headers.iter().any(|(k, _)| k == name),
    }
}

#[cfg(test)]
mod tests;
