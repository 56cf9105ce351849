//! The parts of every record that do not depend on a table: the
//! `{"schema", "payload"}` wrapper, JSON string escaping, and the schemas of
//! the `source` block, the `transaction` block and schema change values.

use serde_json::{json, Value as Json};

pub(super) fn wrap(schemas: bool, schema: &str, payload: &str) -> Vec<u8> {
    if schemas {
        format!(r#"{{"schema":{schema},"payload":{payload}}}"#).into_bytes()
    } else {
        payload.as_bytes().to_vec()
    }
}

/// A JSON string as Kafka's JsonConverter (Jackson's UTF-8 generator) writes
/// it: `"`, `\\` and the short escapes `\b \f \n \r \t`, other control
/// characters as `\u00XX`, characters outside the Basic Multilingual Plane
/// as a surrogate pair of `\uXXXX` escapes (upper-case hex), the rest as
/// UTF-8.
pub(crate) fn write_json_str(buf: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let unit = |buf: &mut Vec<u8>, u: u16| {
        buf.extend_from_slice(b"\\u");
        for shift in [12, 8, 4, 0] {
            buf.push(HEX[usize::from((u >> shift) & 0xF)]);
        }
    };
    buf.push(b'"');
    let mut plain = 0;
    for (i, c) in s.char_indices() {
        let short: Option<&[u8]> = match c {
            '"' => Some(b"\\\""),
            '\\' => Some(b"\\\\"),
            '\n' => Some(b"\\n"),
            '\r' => Some(b"\\r"),
            '\t' => Some(b"\\t"),
            '\u{8}' => Some(b"\\b"),
            '\u{c}' => Some(b"\\f"),
            _ => None,
        };
        if short.is_none() && c >= ' ' && (c as u32) < 0x1_0000 {
            continue;
        }
        buf.extend_from_slice(&s.as_bytes()[plain..i]);
        plain = i + c.len_utf8();
        match short {
            Some(esc) => buf.extend_from_slice(esc),
            None => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    unit(buf, *u);
                }
            }
        }
    }
    buf.extend_from_slice(&s.as_bytes()[plain..]);
    buf.push(b'"');
}

pub(super) fn source_schema() -> Json {
    let f = |ty: &str, optional: bool, name: &str| json!({"type": ty, "optional": optional, "field": name});
    json!({
        "type": "struct",
        "fields": [
            f("string", false, "version"),
            f("string", false, "connector"),
            f("string", false, "name"),
            f("int64", false, "ts_ms"),
            {"type": "string", "optional": true, "name": "io.debezium.data.Enum", "version": 1,
             "parameters": {"allowed": "true,first,first_in_data_collection,last_in_data_collection,last,false,incremental"},
             "default": "false", "field": "snapshot"},
            f("string", false, "db"),
            f("string", true, "sequence"),
            f("int64", true, "ts_us"),
            f("int64", true, "ts_ns"),
            f("string", true, "table"),
            f("int64", false, "server_id"),
            f("string", true, "gtid"),
            f("string", false, "file"),
            f("int64", false, "pos"),
            f("int32", false, "row"),
            f("int64", true, "thread"),
            f("string", true, "query")
        ],
        "optional": false,
        "name": "io.debezium.connector.mysql.Source",
        "version": 1,
        "field": "source"
    })
}

pub(super) fn transaction_schema() -> Json {
    json!({
        "type": "struct",
        "fields": [
            {"type": "string", "optional": false, "field": "id"},
            {"type": "int64", "optional": false, "field": "total_order"},
            {"type": "int64", "optional": false, "field": "data_collection_order"}
        ],
        "optional": true,
        "name": "event.block",
        "version": 1,
        "field": "transaction"
    })
}

/// Debezium's `SchemaChangeValue` schema (`SchemaFactory`), rendered once.
pub(super) fn schema_change_value_schema() -> String {
    let f = |ty: &str, optional: bool, name: &str| json!({"type": ty, "optional": optional, "field": name});
    let column = json!({
        "type": "struct",
        "fields": [
            f("string", false, "name"), f("int32", false, "jdbcType"), f("int32", true, "nativeType"),
            f("string", false, "typeName"), f("string", true, "typeExpression"), f("string", true, "charsetName"),
            f("int32", true, "length"), f("int32", true, "scale"), f("int32", false, "position"),
            f("boolean", true, "optional"), f("boolean", true, "autoIncremented"), f("boolean", true, "generated"),
            f("string", true, "comment"), f("string", true, "defaultValueExpression"),
            {"type": "array", "items": {"type": "string", "optional": false}, "optional": true, "field": "enumValues"}
        ],
        "optional": false,
        "name": "io.debezium.connector.schema.Column",
        "version": 1
    });
    let table = json!({
        "type": "struct",
        "fields": [
            f("string", true, "defaultCharsetName"),
            {"type": "array", "items": {"type": "string", "optional": false}, "optional": true, "field": "primaryKeyColumnNames"},
            {"type": "array", "items": column, "optional": false, "field": "columns"},
            f("string", true, "comment")
        ],
        "optional": true,
        "name": "io.debezium.connector.schema.Table",
        "version": 1,
        "field": "table"
    });
    let mut source = source_schema();
    source["field"] = "source".into();
    json!({
        "type": "struct",
        "fields": [
            source,
            f("int64", false, "ts_ms"),
            f("string", true, "databaseName"),
            f("string", true, "schemaName"),
            f("string", true, "ddl"),
            {"type": "array", "items": {
                "type": "struct",
                "fields": [f("string", false, "type"), f("string", false, "id"), table],
                "optional": false,
                "name": "io.debezium.connector.schema.Change",
                "version": 1
            }, "optional": false, "field": "tableChanges"}
        ],
        "optional": false,
        "name": "io.debezium.connector.mysql.SchemaChangeValue",
        "version": 1
    })
    .to_string()
}
