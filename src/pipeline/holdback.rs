//! Hold-back: what a consumer may see of a streamed change while its table
//! is being snapshotted (DESIGN section 4).

use crate::model::{Cell, KeyValue, Op, RowChange, SnapshotState};

/// What a consumer may see of a streamed change.
#[derive(Debug)]
pub(super) enum Visible {
    /// The change as it is (the common case: no clone).
    All,
    /// Nothing: held back.
    Nothing,
    /// One half of a primary-key change.
    Part(RowChange),
}

/// What a consumer may see of a streamed change while its table is being
/// snapshotted with `suppress` (the consumer never saw the table).
///
/// An insert or update of a key above the snapshot cursor is held back: a
/// later chunk, read after it, carries its effect. That stays true after a
/// crash: a chunk published but not checkpointed is read again, after the
/// change, and so carries it too.
///
/// A delete is never held back, nor the delete half of a primary-key change.
/// A consumer may hold the row even above the stored cursor (a chunk was
/// published, acknowledged or not, before the poll died), and the chunk
/// read again is a SELECT of rows that exist: it cannot carry a delete. A
/// delete of a key the consumer never saw is harmless (a sink deletes
/// nothing; compaction keeps the tombstone).
///
/// Whether an update is a key change is the encoder's judgement
/// (`changes_key`: the record key, primary key or `message.key.columns`),
/// not the snapshot's chunk key: the snapshot learns a table's chunk key
/// only when it reaches the table, and a key change of a table still
/// waiting behind another must still publish its delete. (The crash test
/// found this: a chunk of the second table published before a crash, then
/// a key change streamed while the first table was re-read, left the old
/// key in the topic for good.)
///
/// Integer keys are compared with the cursor exactly; for other key types
/// no insert or update is held back once the first chunk is read, which
/// never loses data but may show an update before the row's snapshot read.
pub(super) fn held_back(
    snapshot: Option<&SnapshotState>,
    change: &RowChange,
    changes_key: impl FnOnce() -> bool,
) -> Visible {
    if matches!(change.op, Op::Delete | Op::Truncate) {
        return Visible::All;
    }
    let Some(st) = snapshot else {
        return Visible::All;
    };
    let t = &*change.table;
    let Some(entry) = st
        .tables
        .iter()
        .find(|e| e.suppress && e.db == t.db && e.table == t.table)
    else {
        return Visible::All;
    };
    let idx: Option<Vec<usize>> = entry
        .key_columns
        .iter()
        .map(|k| {
            t.columns
                .iter()
                .position(|c| c.name.eq_ignore_ascii_case(k))
        })
        .collect();
    let Some(idx) = idx else {
        return Visible::All;
    };
    // `None`: nothing of the table read yet, every key is above the cursor.
    let cursor_ints: Option<Vec<i128>> = match &entry.cursor {
        None => None,
        Some(cursor) => {
            let ints: Option<Vec<i128>> = cursor
                .iter()
                .map(|k| match k {
                    KeyValue::Int(i) => Some(i128::from(*i)),
                    KeyValue::UInt(u) => Some(i128::from(*u)),
                    _ => None,
                })
                .collect();
            let Some(ints) = ints else {
                return Visible::All;
            };
            Some(ints)
        }
    };
    let key_of = |row: &Option<Vec<Cell>>| -> Option<Vec<i128>> {
        let row = row.as_ref()?;
        idx.iter()
            .map(|&i| match row.get(i)? {
                Cell::Int(v) => Some(i128::from(*v)),
                Cell::UInt(v) => Some(i128::from(*v)),
                _ => None,
            })
            .collect()
    };
    // A key not comparable with an integer cursor counts as visible: never
    // lose a change.
    let visible = |row: &Option<Vec<Cell>>| {
        cursor_ints
            .as_ref()
            .is_some_and(|c| key_of(row).is_none_or(|k| k <= *c))
    };
    let all_or_nothing = |v: bool| if v { Visible::All } else { Visible::Nothing };
    match change.op {
        Op::Delete | Op::Truncate => Visible::All,
        Op::Create | Op::Read => all_or_nothing(visible(&change.after)),
        Op::Update if !changes_key() => all_or_nothing(visible(&change.after)),
        // A key change: the delete of the old key always goes out; the
        // create of the new one only at or below the cursor (the encoder
        // splits a whole update into both).
        Op::Update if visible(&change.after) => Visible::All,
        Op::Update => Visible::Part(RowChange {
            op: Op::Delete,
            after: None,
            ..change.clone()
        }),
    }
}
