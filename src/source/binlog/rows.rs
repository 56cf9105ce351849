//! Row images of a rows event, decoded straight into [`Cell`]s.
//!
//! A rows event (`WRITE_ROWS`, `UPDATE_ROWS`, `DELETE_ROWS`, v1 and v2) is a
//! header, one or two column bitmaps (which columns each image carries)
//! and then, per row, each image as a null bitmap over the present columns
//! followed by the non-null values, each in its column type's binary form
//! (`log_event.cc`, `Rows_log_event::print_verbose_one_row`). How a value
//! is laid out depends on the column's type and its table-map metadata
//! only.
//!
//! `mysql_common`'s row iterator builds, for every row, a `Column`
//! (database, table and column names, flags) per column and parses the
//! table map's optional metadata again: most of a row's decoding time and
//! allocations. Here the per-column facts (type, metadata, signedness) are
//! gathered once per table map ([`RowLayout`]) and each value is read with
//! `mysql_common`'s own value decoder, borrowed from the event, then
//! turned into a cell. So the values are exactly those the row iterator
//! gives (a property test compares the two over random rows).
//!
//! Partial JSON updates (`PARTIAL_UPDATE_ROWS_EVENT`) are left to the row
//! iterator: the caller asks [`RowLayout::handles`] first.

use mysql_common::binlog::events::{OptionalMetaExtractor, RowsEventData, TableMapEvent};
use mysql_common::binlog::value::BinlogValue;
use mysql_common::constants::ColumnType as MyType;
use mysql_common::io::ParseBuf;

use crate::model::{Cell, TableSchema};
use crate::source::decode::cell_from_binlog;

/// What decoding a value of each column needs, from one table map.
#[derive(Debug, Clone)]
pub(super) struct RowLayout {
    columns: Vec<ColumnLayout>,
}

#[derive(Debug, Clone)]
struct ColumnLayout {
    ty: MyType,
    meta: Vec<u8>,
    unsigned: bool,
}

impl RowLayout {
    /// The layout of `tme`'s rows; `None` when its metadata does not parse
    /// (the row iterator then reports the problem).
    pub(super) fn of(tme: &TableMapEvent<'_>) -> Option<Self> {
        let extractor = OptionalMetaExtractor::new(tme.iter_optional_meta()).ok()?;
        let mut signedness = extractor.iter_signedness();
        let mut columns = Vec::with_capacity(tme.columns_count() as usize);
        for i in 0..tme.columns_count() as usize {
            let ty = tme.get_column_type(i).ok()??;
            // As the row iterator: a numeric column takes the next
            // signedness bit, absent meaning signed.
            let unsigned = ty
                .is_numeric_type()
                .then(|| signedness.next())
                .flatten()
                .unwrap_or_default();
            columns.push(ColumnLayout {
                ty,
                meta: tme.get_column_metadata(i).unwrap_or(&[]).to_vec(),
                unsigned,
            });
        }
        Some(Self { columns })
    }

    /// Whether [`decode`](Self::decode) reads `rows` (everything but partial
    /// JSON updates, whose after image has a shared part).
    pub(super) fn handles(rows: &RowsEventData<'_>) -> bool {
        !matches!(rows, RowsEventData::PartialUpdateRowsEvent(_))
    }

    /// Calls `f(row, before, after)` for each row of `rows`, as cells of
    /// `schema`'s columns. A row image without every column is refused:
    /// the pipeline needs full images.
    pub(super) fn decode(
        &self,
        rows: &RowsEventData<'_>,
        schema: &TableSchema,
        mut f: impl FnMut(usize, Option<Vec<Cell>>, Option<Vec<Cell>>),
    ) -> Result<(), String> {
        if !Self::handles(rows) {
            return Err("partial JSON update read as a full row".into());
        }
        let (before_cols, after_cols) = (rows.columns_before_image(), rows.columns_after_image());
        let n = self.columns.len();
        for cols in [before_cols, after_cols].into_iter().flatten() {
            let present = (0..n).filter(|&i| cols.get(i).is_some_and(|b| *b)).count();
            if present != schema.columns.len() || n != schema.columns.len() {
                return Err(format!(
                    "row image has {present} of {} columns; set binlog_row_image=FULL",
                    schema.columns.len()
                ));
            }
        }
        let mut data = rows.rows_data();
        let mut row = 0;
        while !data.is_empty() {
            let before = match before_cols {
                Some(_) => Some(self.image(&mut data, schema)?),
                None => None,
            };
            let after = match after_cols {
                Some(_) => Some(self.image(&mut data, schema)?),
                None => None,
            };
            f(row, before, after);
            row += 1;
        }
        Ok(())
    }

    /// One full row image: the null bitmap, then each non-null value;
    /// `data` moves past it.
    fn image(&self, data: &mut &[u8], schema: &TableSchema) -> Result<Vec<Cell>, String> {
        let n = self.columns.len();
        let Some((nulls, rest)) = data.split_at_checked(n.div_ceil(8)) else {
            return Err("row image ends inside its null bitmap".into());
        };
        *data = rest;
        let mut out = Vec::with_capacity(n);
        for (i, (c, col)) in self.columns.iter().zip(&schema.columns).enumerate() {
            if nulls[i / 8] & (1 << (i % 8)) != 0 {
                out.push(Cell::Null);
                continue;
            }
            // The value borrows from the event; the metadata lives in the
            // layout, so the parse gets the shorter of the two lifetimes.
            let mut buf = ParseBuf(data);
            let v: BinlogValue<'_> = buf
                .parse((c.ty, c.meta.as_slice(), c.unsigned, false))
                .map_err(|e| e.to_string())?;
            let used = data.len() - buf.0.len();
            out.push(cell_from_binlog(v, &col.ty)?);
            *data = &data[used..];
        }
        Ok(out)
    }
}

/// Each row as `mysql_common`'s row iterator gives it, as cells: the
/// reference the layout decoder is held to.
#[cfg(debug_assertions)]
pub(super) fn by_row_iterator(
    rows: &RowsEventData<'_>,
    tme: &TableMapEvent<'_>,
    schema: &TableSchema,
) -> Result<Vec<RowPair>, String> {
    rows.rows(tme)
        .map(|r| {
            let (b, a) = r.map_err(|e| e.to_string())?;
            let b = b.map(|r| super::cells(r, schema)).transpose()?;
            let a = a.map(|r| super::cells(r, schema)).transpose()?;
            Ok((b, a))
        })
        .collect()
}

/// A row's before and after images.
#[cfg(debug_assertions)]
pub(super) type RowPair = (Option<Vec<Cell>>, Option<Vec<Cell>>);

/// Panics when the layout decoder's rows (`out`) differ from the row
/// iterator's. Names the table, row and column types, never values.
#[cfg(debug_assertions)]
pub(super) fn check_against_row_iterator(
    rows: &RowsEventData<'_>,
    tme: &TableMapEvent<'_>,
    schema: &TableSchema,
    out: &[crate::model::RowChange],
) {
    let table = format!("{}.{}", schema.db, schema.table);
    let old = by_row_iterator(rows, tme, schema).unwrap_or_else(|e| {
        panic!("{table}: the row iterator failed where the layout did not: {e}")
    });
    assert_eq!(old.len(), out.len(), "{table}: row count");
    for (i, ((b, a), c)) in old.iter().zip(out).enumerate() {
        if *b != c.before || *a != c.after {
            let types: Vec<_> = schema.columns.iter().map(|c| &c.ty).collect();
            panic!("{table}: row {i} decodes differently by layout and by the row iterator; column types {types:?}");
        }
    }
}

#[cfg(test)]
#[path = "rows_tests.rs"]
mod tests;
