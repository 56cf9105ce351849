//! Unit and property tests of the binlog value decoding.

use super::*;
use proptest::prelude::*;

fn val(v: Value) -> BinlogValue<'static> {
    BinlogValue::Value(v)
}

#[test]
fn doubles_in_binlog_json_print_as_debezium_does() {
    assert_eq!(
        exact_plain_decimal(-12_345_678_901_234_567_890.0),
        "-12345678901234567168"
    );
    assert_eq!(
        exact_plain_decimal(1e-7),
        "0.0000000999999999999999954748111825886258685613938723690807819366455078125"
    );
    assert_eq!(exact_plain_decimal(0.5), "0.5");
    assert_eq!(exact_plain_decimal(3.0), "3");
    let tiny = exact_plain_decimal(5e-324);
    assert!(
        tiny.starts_with(&format!("0.{}494065645841246544", "0".repeat(323))),
        "{tiny}"
    );
}

/// MySQL's `my_time_packed_to_binary` at precision 1 or 2 (C's `>>` and `%`).
fn time2_bytes(negative: bool, hms: (i64, i64, i64), hundredths: i64) -> [u8; 4] {
    let packed = ((hms.0 << 12 | hms.1 << 6 | hms.2) << 24) + hundredths * 10_000;
    let nr = if negative { -packed } else { packed };
    let int_part = (nr >> 24) + 0x80_0000;
    let frac = (nr % (1 << 24)) / 10_000;
    [
        (int_part >> 16) as u8,
        (int_part >> 8) as u8,
        int_part as u8,
        frac as u8,
    ]
}

#[test]
fn negative_time_with_one_or_two_digits_decodes() {
    // -01:02:03.4: mysql_common 0.37 turns it into 2246536377216 µs.
    assert_eq!(
        time2_fsp12_micros(time2_bytes(true, (1, 2, 3), 40)),
        -3_723_400_000
    );
    assert_eq!(
        time2_fsp12_micros(time2_bytes(true, (838, 59, 59), 0)),
        -3_020_399_000_000
    );
    assert_eq!(time2_fsp12_micros(time2_bytes(true, (0, 0, 0), 1)), -10_000);
    // Through the column: the value arrives as TIMESTAMP(0) seconds.
    let raw = i32::from_be_bytes(time2_bytes(false, (10, 20, 30), 12));
    assert_eq!(
        cell_from_binlog(
            val(Value::Bytes(raw.to_string().into_bytes())),
            &ColumnType::Time { fsp: 2 }
        )
        .unwrap(),
        Cell::Time {
            micros: 37_230_120_000
        }
    );
    let raw = i32::from_be_bytes(time2_bytes(true, (10, 20, 30), 12));
    assert_eq!(
        cell_from_binlog(
            val(Value::Bytes(raw.to_string().into_bytes())),
            &ColumnType::Time { fsp: 2 }
        )
        .unwrap(),
        Cell::Time {
            micros: -37_230_120_000
        }
    );
}

#[test]
fn time2_workaround_declares_only_time_1_and_2_as_timestamp() {
    use mysql_common::binlog::consts::{BinlogVersion, EventType};
    use mysql_common::binlog::events::FormatDescriptionEvent;
    use mysql_common::binlog::BinlogCtx;
    use mysql_common::io::ParseBuf;
    use mysql_common::proto::MyDeserialize;
    // Table id 7, flags 0, `db`.`t`, columns INT, TIME(2), TIME(5), TIME(1); metadata
    // one byte per TIME2 column; null bitmap.
    let mut raw = vec![7, 0, 0, 0, 0, 0, 0, 0, 2, b'd', b'b', 0, 1, b't', 0, 4];
    raw.extend([3, 19, 19, 19, 3, 2, 5, 1, 0b1111]);
    let fde = FormatDescriptionEvent::new(BinlogVersion::Version4);
    let ctx = BinlogCtx::new(raw.len(), &fde, EventType::TABLE_MAP_EVENT as u8);
    let tme = TableMapEvent::deserialize(ctx, &mut ParseBuf(&raw)).unwrap();
    let patched = time2_workaround(&tme).unwrap().expect("TIME(1|2) columns");
    let ty = |t: &TableMapEvent<'_>, i| {
        (
            t.get_column_type(i).unwrap().unwrap(),
            t.get_column_metadata(i).unwrap().to_vec(),
        )
    };
    assert_eq!(ty(&patched, 0), (MyType::MYSQL_TYPE_LONG, vec![]));
    assert_eq!(ty(&patched, 1), (MyType::MYSQL_TYPE_TIMESTAMP2, vec![0]));
    assert_eq!(ty(&patched, 2), (MyType::MYSQL_TYPE_TIME2, vec![5]));
    assert_eq!(ty(&patched, 3), (MyType::MYSQL_TYPE_TIMESTAMP2, vec![0]));
    assert_eq!(patched.table_name(), "t");
    assert_eq!(patched.table_id(), 7);
    let unchanged = time2_workaround(&patched).unwrap();
    assert!(unchanged.is_none(), "nothing left to patch");
}

#[test]
fn unsigned_without_metadata_is_widened() {
    let t = ColumnType::TinyInt { unsigned: true };
    assert_eq!(
        cell_from_binlog(val(Value::Int(-1)), &t).unwrap(),
        Cell::UInt(255)
    );
    let t = ColumnType::Int { unsigned: true };
    assert_eq!(
        cell_from_binlog(val(Value::Int(-1)), &t).unwrap(),
        Cell::UInt(4_294_967_295)
    );
    let t = ColumnType::MediumInt { unsigned: true };
    assert_eq!(
        cell_from_binlog(val(Value::Int(-1)), &t).unwrap(),
        Cell::UInt(16_777_215)
    );
}

#[test]
fn timestamp_strings() {
    let t = ColumnType::Timestamp { fsp: 3 };
    assert_eq!(
        cell_from_binlog(val(Value::Bytes(b"1700000000.123000".to_vec())), &t).unwrap(),
        Cell::Timestamp {
            secs: 1_700_000_000,
            micros: 123_000
        }
    );
    assert_eq!(
        cell_from_binlog(val(Value::Bytes(b"5".to_vec())), &t).unwrap(),
        Cell::Timestamp { secs: 5, micros: 0 }
    );
    assert_eq!(
        cell_from_binlog(val(Value::Bytes(b"5.12".to_vec())), &t).unwrap(),
        Cell::Timestamp {
            secs: 5,
            micros: 120_000
        }
    );
    assert!(cell_from_binlog(val(Value::Bytes(b"5.1x".to_vec())), &t).is_err());
}

#[test]
fn time_with_days_and_sign() {
    let c = cell_from_binlog(
        val(Value::Time(true, 1, 2, 3, 4, 5)),
        &ColumnType::Time { fsp: 6 },
    )
    .unwrap();
    assert_eq!(
        c,
        Cell::Time {
            micros: -((26 * 3600 + 3 * 60 + 4) * 1_000_000 + 5)
        }
    );
}

#[test]
fn latin1_and_utf8_text() {
    assert_eq!(decode_text(vec![0xe9], 8), "é");
    assert_eq!(decode_text("é".as_bytes().to_vec(), 255), "é");
    assert_eq!(
        cell_from_binlog(val(Value::Bytes(b"1900".to_vec())), &ColumnType::Year).unwrap(),
        Cell::Year(0)
    );
}

proptest! {
    #[test]
    fn exact_plain_decimals_read_back(bits in any::<u64>()) {
        let x = f64::from_bits(bits);
        prop_assume!(x.is_finite());
        let text = exact_plain_decimal(x);
        prop_assert_eq!(text.parse::<f64>().unwrap(), x);
        prop_assert!(!text.contains('e') && !text.contains('E'));
    }

    #[test]
    fn time2_one_or_two_digits_round_trips(negative in any::<bool>(), h in 0i64..=838, m in 0i64..60, sec in 0i64..60, hundredths in 0i64..100) {
        let micros = ((h * 3600 + m * 60 + sec) * 1_000_000) + hundredths * 10_000;
        let expected = if negative { -micros } else { micros };
        prop_assert_eq!(time2_fsp12_micros(time2_bytes(negative, (h, m, sec), hundredths)), expected);
    }

    #[test]
    fn conversion_never_panics(i in any::<i64>(), bytes in proptest::collection::vec(any::<u8>(), 0..16)) {
        for t in [
            ColumnType::TinyInt { unsigned: true }, ColumnType::BigInt { unsigned: false },
            ColumnType::Timestamp { fsp: 6 }, ColumnType::Year, ColumnType::Set { values: vec![] },
            ColumnType::Decimal { precision: 10, scale: 2 }, ColumnType::String { charset: 8 },
        ] {
            let _ = cell_from_binlog(val(Value::Int(i)), &t);
            let _ = cell_from_binlog(val(Value::Bytes(bytes.clone())), &t);
        }
    }
}
