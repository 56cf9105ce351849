//! The layout decoder against `mysql_common`'s row iterator on rows events
//! captured from real servers. (Debug builds also compare the two on every
//! rows event the integration tests read: `BinlogSource::decode_rows`.)

use std::collections::HashMap;

use mysql_common::binlog::events::{EventData, RowsEventData, TableMapEvent};

use super::super::machine::tests::replay;
use super::*;
use crate::source::decode::table_schema_from_tme;

/// Each row as the layout decoder gives it.
fn by_layout(
    rows: &RowsEventData<'_>,
    tme: &TableMapEvent<'_>,
    schema: &TableSchema,
) -> Result<Vec<RowPair>, String> {
    let layout = RowLayout::of(tme).ok_or("no layout")?;
    let mut out = Vec::new();
    layout.decode(rows, schema, |i, b, a| {
        assert_eq!(i, out.len());
        out.push((b, a));
    })?;
    Ok(out)
}

#[test]
fn the_layout_decodes_what_the_row_iterator_decodes() {
    let mut compared = 0;
    for name in [
        "mysql_pos.bin",
        "mysql_gtid.bin",
        "mysql_resume.bin",
        "mariadb_gtid.bin",
    ] {
        let mut maps: HashMap<u64, TableMapEvent<'static>> = HashMap::new();
        for ev in replay(name) {
            match ev.read_data().unwrap() {
                Some(EventData::TableMapEvent(t)) => {
                    maps.insert(t.table_id(), t.into_owned());
                }
                Some(EventData::RowsEvent(rows)) => {
                    let tme = &maps[&rows.table_id()];
                    let schema = table_schema_from_tme(tme, None).unwrap();
                    let old = by_row_iterator(&rows, tme, &schema).unwrap();
                    assert!(!old.is_empty());
                    assert_eq!(by_layout(&rows, tme, &schema).unwrap(), old, "{name}");
                    compared += 1;
                }
                _ => {}
            }
        }
    }
    assert!(compared >= 10, "{compared} rows events compared");
}
