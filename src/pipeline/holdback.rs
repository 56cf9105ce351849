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
/// snapshotted with `suppress` (the consumer never saw the table): changes
/// to keys above the snapshot cursor are held back, because a later chunk,
/// read after them, carries their effect. A primary-key change is judged
/// half by half (delete of the old key, create of the new one). Integer
/// keys are compared exactly; for other key types no change is held back,
/// which never loses data but may show an update before the row's snapshot
/// read.
pub(super) fn held_back(snapshot: Option<&SnapshotState>, change: &RowChange) -> Visible {
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
    let Some(cursor) = &entry.cursor else {
        // Nothing of this table read yet: every key is above the cursor.
        return Visible::Nothing;
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
    let cursor_ints: Option<Vec<i128>> = cursor
        .iter()
        .map(|k| match k {
            KeyValue::Int(i) => Some(i128::from(*i)),
            KeyValue::UInt(u) => Some(i128::from(*u)),
            _ => None,
        })
        .collect();
    let Some(cursor_ints) = cursor_ints else {
        return Visible::All;
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
    // `None` (key not comparable) counts as visible: never lose a change.
    let visible = |row: &Option<Vec<Cell>>| key_of(row).is_none_or(|k| k <= cursor_ints);
    let all_or_nothing = |v: bool| if v { Visible::All } else { Visible::Nothing };
    match change.op {
        Op::Truncate => Visible::All,
        Op::Create | Op::Read => all_or_nothing(visible(&change.after)),
        Op::Delete => all_or_nothing(visible(&change.before)),
        Op::Update => {
            let (b, a) = (visible(&change.before), visible(&change.after));
            if key_of(&change.before) == key_of(&change.after) {
                return all_or_nothing(a);
            }
            match (b, a) {
                // Both halves visible: keep it one update (the encoder splits it).
                (true, true) => Visible::All,
                (true, false) => Visible::Part(RowChange {
                    op: Op::Delete,
                    after: None,
                    ..change.clone()
                }),
                (false, true) => Visible::Part(RowChange {
                    op: Op::Create,
                    before: None,
                    ..change.clone()
                }),
                (false, false) => Visible::Nothing,
            }
        }
    }
}
