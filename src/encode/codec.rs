//! Per-table codecs: which columns are emitted and how (filters, masks,
//! hashes, truncation, key columns), with the key and value schemas
//! rendered once per table shape.

use std::sync::atomic::AtomicUsize;
use std::sync::Arc;

use serde_json::{Map, Value as Json};

use super::envelope::write_json_str;
use super::options::{ColumnMask, ColumnRules, HashAlgorithm, TypeOptions};
use super::types::write_cell;
use crate::model::{Cell, Column, ColumnType, Op, TableSchema};

pub(super) type Half<'a> = (Op, Option<&'a [Cell]>, Option<&'a [Cell]>, &'a [Cell]);

/// How one emitted column's value is rewritten.
#[derive(Debug, Clone)]
pub(super) enum Shape {
    /// As it is.
    Plain,
    /// `column.mask.with.N.chars`: this fixed text.
    Fixed(String),
    /// `column.mask.hash.*`: hex digest of salt ‖ value, cut to `max_chars`.
    Hash {
        algorithm: HashAlgorithm,
        salt: String,
        max_chars: Option<usize>,
    },
    /// `column.truncate.to.N.chars`.
    Truncate(usize),
}

/// Per-table pieces that do not change from record to record: which
/// columns are emitted and how, the key, the rendered schemas.
#[derive(Debug)]
pub struct TableCodec {
    pub(super) schema: Arc<TableSchema>,
    pub(super) topic: Arc<str>,
    /// `db.table`, Debezium's data collection id.
    pub(super) data_collection: Arc<str>,
    /// Key columns (the primary key or `message.key.columns`) with the
    /// shaping their value gets (an excluded key column is written as is).
    pub(super) key: Vec<(usize, Shape)>,
    /// Emitted columns, in table order.
    pub(super) cols: Vec<(usize, Shape)>,
    pub(super) key_schema: Option<String>,
    pub(super) value_schema: String,
    /// Per column, the schema's `default` as JSON text: what a NULL is
    /// written as under `replace.null.with.default`.
    pub(super) defaults: Vec<Option<String>>,
    /// Per operation (create or read, update, delete), the length of the
    /// last value written: the next one's buffer starts that large (plus
    /// slack), so a record is usually written without growing (copying)
    /// its buffer. The last, not the longest: one huge row must not make
    /// every later buffer huge.
    pub(super) value_hint: [AtomicUsize; 3],
}

impl TableCodec {
    /// The key column names, for messages (never their values).
    pub fn key_columns(&self) -> Vec<&str> {
        self.key
            .iter()
            .map(|(i, _)| self.schema.columns[*i].name.as_str())
            .collect()
    }

    /// Whether an update moves the row to another record key: Debezium then
    /// emits a delete (and tombstone) of the old key and a create of the
    /// new one. A keyless table's records all have the null key.
    pub fn changes_key(&self, before: &[Cell], after: &[Cell]) -> bool {
        self.key
            .iter()
            .any(|(i, _)| before.get(*i) != after.get(*i))
    }
}

pub(super) fn is_text(c: &Column) -> bool {
    matches!(c.ty, ColumnType::String { .. })
}

/// The shaping rule of a column (masks before truncation, as Debezium's
/// column mappers are consulted in that order).
pub(super) fn shape_for(rules: &ColumnRules, qualified: &str, c: &Column) -> Shape {
    if !is_text(c) {
        return Shape::Plain;
    }
    if let Some((_, mask)) = rules.masks.iter().find(|(p, _)| p.matches(qualified)) {
        return match mask {
            ColumnMask::Stars(n) => Shape::Fixed("*".repeat(*n)),
            ColumnMask::Hash { algorithm, salt } => Shape::Hash {
                algorithm: *algorithm,
                salt: salt.clone(),
                max_chars: c.source.length.map(|l| l as usize).filter(|l| *l > 0),
            },
        };
    }
    match rules.truncates.iter().find(|(p, _)| p.matches(qualified)) {
        Some((_, n)) => Shape::Truncate(*n),
        None => Shape::Plain,
    }
}

/// Extra schema parameters: `masked` for masked columns, and the
/// `__debezium.source.column.*` parameters of `column.propagate.source.type`
/// / `datatype.propagate.source.type`.
pub(super) fn schema_params(
    rules: &ColumnRules,
    qualified: &str,
    c: &Column,
    shape: &Shape,
) -> Option<Map<String, Json>> {
    let mut m = Map::new();
    if matches!(shape, Shape::Fixed(_) | Shape::Hash { .. }) {
        m.insert("masked".into(), "true".into());
    }
    let propagate = rules
        .propagate_source_type
        .as_ref()
        .is_some_and(|p| p.matches(qualified))
        || rules
            .propagate_datatype
            .as_ref()
            .is_some_and(|p| !c.source.name.is_empty() && p.matches(&c.source.name));
    if propagate && !c.source.name.is_empty() {
        m.insert(
            "__debezium.source.column.type".into(),
            c.source.name.clone().into(),
        );
        if let Some(l) = c.source.length {
            m.insert(
                "__debezium.source.column.length".into(),
                l.to_string().into(),
            );
        }
        if let Some(s) = c.source.scale {
            m.insert(
                "__debezium.source.column.scale".into(),
                s.to_string().into(),
            );
        }
    }
    (!m.is_empty()).then_some(m)
}

/// Writes the listed columns of a row as a JSON object.
pub(super) fn write_row<'a>(
    buf: &mut Vec<u8>,
    t: &TableSchema,
    row: &[Cell],
    cols: impl Iterator<Item = (usize, &'a Shape)>,
    types: &TypeOptions,
    defaults: &[Option<String>],
) {
    buf.push(b'{');
    let mut first = true;
    for (i, shape) in cols {
        if !first {
            buf.push(b',');
        }
        first = false;
        let col = &t.columns[i];
        write_json_str(buf, &col.name);
        buf.push(b':');
        let cell = row.get(i).unwrap_or(&Cell::Null);
        let at = buf.len();
        match (shape, cell) {
            (Shape::Plain, _) | (_, Cell::Null) => write_cell(buf, col, cell, types),
            (Shape::Fixed(text), _) => write_json_str(buf, text),
            (
                Shape::Hash {
                    algorithm,
                    salt,
                    max_chars,
                },
                Cell::Text(s),
            ) => {
                let mut h = hash_hex(*algorithm, salt.as_bytes(), s.as_bytes());
                if let Some(n) = max_chars {
                    h.truncate(*n);
                }
                write_json_str(buf, &h);
            }
            (Shape::Truncate(n), Cell::Text(s)) => {
                // Java's substring counts UTF-16 units; characters are the
                // same for everything outside the astral planes.
                match s.char_indices().nth(*n) {
                    Some((at, _)) => write_json_str(buf, &s[..at]),
                    None => write_json_str(buf, s),
                }
            }
            _ => write_cell(buf, col, cell, types),
        }
        // Kafka's JsonConverter (`replace.null.with.default`, on by default)
        // writes a field's schema default where the value is null (a NULL,
        // or a zero date that Debezium turns into null).
        if let Some(Some(d)) = defaults.get(i) {
            if &buf[at..] == b"null" {
                buf.truncate(at);
                buf.extend_from_slice(d.as_bytes());
            }
        }
    }
    buf.push(b'}');
}

/// Hex digest of `salt ‖ value`, as Debezium's `MaskStrings` hashing.
pub(super) fn hash_hex(algorithm: HashAlgorithm, salt: &[u8], value: &[u8]) -> String {
    fn run<D: sha2::Digest>(salt: &[u8], value: &[u8]) -> Vec<u8> {
        let mut d = D::new();
        d.update(salt);
        d.update(value);
        d.finalize().to_vec()
    }
    let digest = match algorithm {
        HashAlgorithm::Sha1 => run::<sha1::Sha1>(salt, value),
        HashAlgorithm::Sha256 => run::<sha2::Sha256>(salt, value),
        HashAlgorithm::Sha384 => run::<sha2::Sha384>(salt, value),
        HashAlgorithm::Sha512 => run::<sha2::Sha512>(salt, value),
    };
    digest.iter().map(|b| format!("{b:02x}")).collect()
}
