//! `io.debezium.transforms.ExtractNewRecordState` ("unwrap"), as Debezium
//! 3.6.3 runs it (`ExtractNewRecordState.java`,
//! `DefaultDeleteHandlingStrategy.java`):
//!
//! * a change event becomes its `after` image; which kind it is follows the
//!   images, not `op`: `after` set is an insert, read or update, only
//!   `before` set a delete, neither (a truncate) is dropped;
//! * a delete becomes, by `delete.tombstone.handling.mode`: nothing
//!   (`drop`), a null value that keeps the `after` schema (`tombstone`, the
//!   default: with schemas off the value is the text `null`, not a Kafka
//!   tombstone), its `before` image with `__deleted: "true"` (`rewrite`,
//!   `rewrite-with-tombstone`), or a Kafka tombstone
//!   (`delete-to-tombstone`); the rewrite modes add `__deleted: "false"`
//!   to the other events;
//! * the tombstone after a delete passes only under
//!   `rewrite-with-tombstone`;
//! * heartbeats, schema changes and transaction records pass unchanged;
//! * the unwrapped value schema keeps the `<topic>.Value` name and becomes
//!   required (Kafka's `SchemaUtil.copySchemaBasics` drops `optional`);
//!   `add.fields` are appended after the columns (and `__deleted`), each
//!   optional, without a default; `add.headers` are headers, `op` also on
//!   the tombstone (as `d`).

use super::json::Json;
use super::{Side, TRecord, TransformError};
use crate::config::{DeleteMode, FieldRef, UnwrapOptions};
use crate::encode::Headers;

/// Applies the transform: `None` drops the record.
/// Applies the transform: `None` drops the record. `last_delete` holds
/// the headers this stage added to the delete just before (Debezium's
/// tombstone shares its delete's header list, so it shows them too).
pub(super) fn apply(
    o: &UnwrapOptions,
    mut r: TRecord,
    last_delete: &mut Option<Headers>,
) -> Result<Option<TRecord>, TransformError> {
    let tombstone = r.value.payload.is_none();
    let envelope = is_envelope(&r.value);
    if (envelope || tombstone) && !o.add_headers.is_empty() {
        let had = r.headers.len();
        add_headers(o, &mut r, last_delete.take());
        let is_delete = r.value.payload.as_ref().is_some_and(|p| {
            p.get("after").is_some_and(Json::is_null)
                && p.get("before").is_some_and(|b| !b.is_null())
        });
        if is_delete {
            *last_delete = Some(r.headers[had..].to_vec());
        }
    }
    if tombstone {
        return Ok((o.mode == DeleteMode::RewriteWithTombstone).then_some(r));
    }
    if !envelope {
        return Ok(Some(r));
    }
    let payload = r.value.payload.take().expect("not a tombstone");
    let envelope_schema = r.value.schema.take();
    let image = |name: &str| payload.get(name).filter(|v| !v.is_null()).cloned();
    let image_schema = |name: &str| {
        envelope_schema
            .as_ref()
            .and_then(|s| field_schema(s, name))
            .cloned()
    };
    let rewrite = matches!(
        o.mode,
        DeleteMode::Rewrite | DeleteMode::RewriteWithTombstone
    );
    let (after, before) = (image("after"), image("before"));
    let mut out = match (after, before) {
        (None, None) => return Ok(None),
        (None, Some(before)) => {
            let deleted = match o.mode {
                DeleteMode::Drop => return Ok(None),
                DeleteMode::Tombstone => Side {
                    schema: image_schema("after").map(|s| top_level(s, true)),
                    payload: None,
                    has_schema: true,
                },
                DeleteMode::DeleteToTombstone => Side::null(),
                DeleteMode::Rewrite | DeleteMode::RewriteWithTombstone => {
                    rewritten(o, before.clone(), image_schema("before"), "true")
                }
            };
            if let Some(topic) = route(o, &before)? {
                r.topic = topic;
            }
            deleted
        }
        (Some(after), _) => {
            let side = if rewrite {
                rewritten(o, after, image_schema("after"), "false")
            } else {
                Side {
                    schema: image_schema("after").map(|s| top_level(s, false)),
                    payload: Some(after),
                    has_schema: true,
                }
            };
            if let Some(topic) = side
                .payload
                .as_ref()
                .map(|v| route(o, v))
                .transpose()?
                .flatten()
            {
                r.topic = topic;
            }
            side
        }
    };
    if out.payload.is_some() {
        add_fields(o, &payload, envelope_schema.as_ref(), &mut out);
    }
    r.value = out;
    Ok(Some(r))
}

/// Whether a value is a change-event envelope: by its schema's name
/// (`….Envelope`, Debezium's `SmtManager.isValidEnvelope`), or with
/// schemas off by its shape.
fn is_envelope(v: &Side) -> bool {
    match (&v.schema, &v.payload) {
        (Some(s), _) => s
            .get("name")
            .and_then(Json::as_str)
            .is_some_and(|n| n.ends_with(".Envelope")),
        (None, Some(p)) => ["before", "after", "source", "op"]
            .iter()
            .all(|k| p.get(k).is_some()),
        (None, None) => false,
    }
}

/// The schema of field `name` of a struct schema (with its `field` key).
fn field_schema<'a>(schema: &'a Json, name: &str) -> Option<&'a Json> {
    match schema.get("fields")? {
        Json::Array(fields) => fields
            .iter()
            .find(|f| f.get("field").and_then(Json::as_str).as_deref() == Some(name)),
        _ => None,
    }
}

/// A field's schema as a record's own: no `field` key, `optional` as
/// given, no default (`copySchemaBasics` keeps name, version, doc and
/// parameters only).
fn top_level(mut s: Json, optional: bool) -> Json {
    s.remove("field");
    s.remove("default");
    s.set("optional", Json::Scalar(optional.to_string().into()));
    s
}

/// An image with `__deleted` (Kafka's `InsertField` with a static value):
/// the schema rebuilt required with an optional string field appended;
/// with `replace.null.with.default`, null columns that have a default take
/// it (InsertField copies with `Struct.get`).
fn rewritten(o: &UnwrapOptions, mut value: Json, schema: Option<Json>, deleted: &str) -> Side {
    let schema = schema.map(|s| {
        let mut s = top_level(s, false);
        if let Some(Json::Array(fields)) = s.get_mut("fields") {
            if o.replace_null_with_default {
                for f in fields.iter() {
                    if let (Some(name), Some(default)) =
                        (f.get("field").and_then(Json::as_str), f.get("default"))
                    {
                        if value.get(&name).is_some_and(Json::is_null) {
                            value.set(&name, default.clone());
                        }
                    }
                }
            }
            fields.push(Json::Object(vec![
                (super::json::quoted("type"), Json::string("string")),
                (super::json::quoted("optional"), Json::Scalar("true".into())),
                (super::json::quoted("field"), Json::string("__deleted")),
            ]));
        }
        s
    });
    value.set("__deleted", Json::string(deleted));
    Side {
        schema,
        payload: Some(value),
        has_schema: true,
    }
}

/// `route.by.field`: the topic named by the image's column; a null or
/// blank value keeps the topic, a column that is not a string is an error
/// (Debezium's `DataException`).
fn route(o: &UnwrapOptions, image: &Json) -> Result<Option<String>, TransformError> {
    let Some(field) = &o.route_by_field else {
        return Ok(None);
    };
    match image.get(field) {
        None => Err(TransformError(format!(
            "route.by.field: the table has no column {field:?}"
        ))),
        Some(Json::Null) => Ok(None),
        Some(v) => match v.as_str() {
            Some(s) if s.trim().is_empty() => Ok(None),
            Some(s) => Ok(Some(s)),
            None => Err(TransformError(format!(
                "route.by.field: column {field:?} is not a string"
            ))),
        },
    }
}

/// The value (and schema) of an `add.fields`/`add.headers` entry in an
/// envelope; `None` when neither its struct nor the root has the field
/// (Debezium skips it then).
fn lookup(f: &FieldRef, payload: &Json, schema: Option<&Json>) -> Option<(Json, Option<Json>)> {
    if let Some(parent) = &f.parent {
        let value = payload.get(parent);
        let parent_schema = schema.and_then(|s| field_schema(s, parent));
        let in_struct = match value {
            Some(Json::Object(_)) => value.and_then(|v| v.get(&f.field)).cloned(),
            // A null struct (no transaction block): its fields read null.
            Some(Json::Null) => Some(Json::Null),
            _ => None,
        };
        if let Some(mut v) = in_struct {
            // `source.snapshot` is null while streaming; the encoder wrote
            // its schema default `"false"` (JsonConverter's
            // replace.null.with.default), which a copied field, without
            // the default, does not get.
            if parent == "source" && f.field == "snapshot" && v.as_str().as_deref() == Some("false")
            {
                v = Json::Null;
            }
            return Some((
                v,
                parent_schema
                    .and_then(|p| field_schema(p, &f.field))
                    .cloned(),
            ));
        }
    }
    let v = payload.get(&f.field)?.clone();
    Some((v, schema.and_then(|s| field_schema(s, &f.field)).cloned()))
}

fn add_fields(o: &UnwrapOptions, envelope: &Json, envelope_schema: Option<&Json>, out: &mut Side) {
    for f in &o.add_fields {
        let Some((value, field_schema)) = lookup(f, envelope, envelope_schema) else {
            continue;
        };
        if let Some(Json::Array(fields)) = out.schema.as_mut().and_then(|s| s.get_mut("fields")) {
            if let Some(mut fs) = field_schema {
                fs.remove("default");
                fs.set("optional", Json::Scalar("true".into()));
                fs.remove("field");
                fs.set("field", Json::string(&f.name));
                fields.push(fs);
            }
        }
        if let Some(p) = out.payload.as_mut() {
            p.set(&f.name, value);
        }
    }
}

/// `add.headers`, after the record's own headers; on a tombstone only `op`
/// (as `d`). Values as Kafka Connect's `SimpleHeaderConverter` writes
/// them: a string's UTF-8, a number or boolean's text, null as no value.
fn add_headers(o: &UnwrapOptions, r: &mut TRecord, of_delete: Option<Headers>) {
    let Some(payload) = r.value.payload.as_ref() else {
        r.headers.extend(of_delete.unwrap_or_default());
        for f in &o.add_headers {
            if f.parent.is_none() && f.field == "op" {
                r.headers.push((f.name.clone(), Some(b"d".to_vec())));
            }
        }
        return;
    };
    let mut added = Vec::new();
    for f in &o.add_headers {
        let Some((value, _)) = lookup(f, payload, r.value.schema.as_ref()) else {
            continue;
        };
        let bytes = match &value {
            Json::Null => None,
            Json::Scalar(_) => Some(
                value
                    .as_str()
                    .map(String::into_bytes)
                    .unwrap_or_else(|| value.to_bytes()),
            ),
            other => Some(other.to_bytes()),
        };
        added.push((f.name.clone(), bytes));
    }
    r.headers.extend(added);
}
