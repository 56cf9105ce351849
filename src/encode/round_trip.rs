//! Round trip: random rows of random column types, under random type modes,
//! through the encoder and back from the JSON to the values inserted.

use super::*;
use crate::model::time::{civil_from_days, days_from_civil};
use crate::model::BinlogPosition;
use crate::model::{Column, ColumnType, SourceInfo};
use base64::Engine as _;
use proptest::prelude::*;

const LABELS: [&str; 4] = ["a", "bé", "c d", "x'y"];

fn arb_date() -> impl Strategy<Value = (u16, u8, u8)> {
    (1u16..=9999, 1u8..=12, 1u8..=28)
}

/// A column type and a value of it, as the decoders produce them.
fn arb_cell() -> impl Strategy<Value = (ColumnType, Cell)> {
    prop_oneof![
        (-128i64..=127).prop_map(|v| (ColumnType::TinyInt { unsigned: false }, Cell::Int(v))),
        (0u64..=255).prop_map(|v| (ColumnType::TinyInt { unsigned: true }, Cell::UInt(v))),
        (-32768i64..=32767).prop_map(|v| (ColumnType::SmallInt { unsigned: false }, Cell::Int(v))),
        (0u64..=65535).prop_map(|v| (ColumnType::SmallInt { unsigned: true }, Cell::UInt(v))),
        (-8388608i64..=8388607)
            .prop_map(|v| (ColumnType::MediumInt { unsigned: false }, Cell::Int(v))),
        any::<i32>().prop_map(|v| (ColumnType::Int { unsigned: false }, Cell::Int(i64::from(v)))),
        any::<u32>().prop_map(|v| (ColumnType::Int { unsigned: true }, Cell::UInt(u64::from(v)))),
        any::<i64>().prop_map(|v| (ColumnType::BigInt { unsigned: false }, Cell::Int(v))),
        any::<u64>().prop_map(|v| (ColumnType::BigInt { unsigned: true }, Cell::UInt(v))),
        any::<f32>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|v| (ColumnType::Float, Cell::Float(v))),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|v| (ColumnType::Double, Cell::Double(v))),
        (1u8..=30, 0u8..=10, any::<i64>()).prop_map(|(p, s, raw)| {
            let s = s.min(p);
            let limit = 10i128.pow(u32::from(p.min(18)));
            let unscaled = i128::from(raw) % limit;
            (
                ColumnType::Decimal {
                    precision: p,
                    scale: s,
                },
                Cell::Decimal(decimal_text(unscaled, s)),
            )
        }),
        ".{0,12}".prop_map(|v| (ColumnType::String { charset: 255 }, Cell::Text(v))),
        proptest::collection::vec(any::<u8>(), 0..12)
            .prop_map(|v| (ColumnType::Bytes { fixed: None }, Cell::Bytes(v))),
        arb_date()
            .prop_map(|(year, month, day)| (ColumnType::Date, Cell::Date { year, month, day })),
        (
            arb_date(),
            0u8..24,
            0u8..60,
            0u8..60,
            0u32..1_000_000,
            0u8..=6
        )
            .prop_map(|((year, month, day), hour, minute, second, micros, fsp)| {
                let micros = truncate_micros(micros, fsp);
                (
                    ColumnType::DateTime { fsp },
                    Cell::DateTime {
                        year,
                        month,
                        day,
                        hour,
                        minute,
                        second,
                        micros,
                    },
                )
            }),
        (1i64..2_147_483_647, 0u32..1_000_000, 0u8..=6).prop_map(|(secs, micros, fsp)| {
            (
                ColumnType::Timestamp { fsp },
                Cell::Timestamp {
                    secs,
                    micros: truncate_micros(micros, fsp),
                },
            )
        }),
        (-3_020_399_000_000i64..=3_020_399_000_000).prop_map(|v| {
            // Millisecond-exact, so connect mode keeps it too.
            (
                ColumnType::Time { fsp: 6 },
                Cell::Time {
                    micros: v - v % 1000,
                },
            )
        }),
        (1901u16..=2155).prop_map(|y| (ColumnType::Year, Cell::Year(y))),
        (1u16..=4).prop_map(|i| (
            ColumnType::Enum {
                values: LABELS.iter().map(|s| s.to_string()).collect()
            },
            Cell::Enum(i)
        )),
        (0u64..16).prop_map(|bits| (
            ColumnType::Set {
                values: LABELS.iter().map(|s| s.to_string()).collect()
            },
            Cell::Set(bits)
        )),
        (2u16..=64, any::<u64>()).prop_map(|(n, v)| {
            let v = if n == 64 { v } else { v & ((1u64 << n) - 1) };
            let width = usize::from(n.div_ceil(8));
            let be = v.to_be_bytes()[8 - width..].to_vec();
            (ColumnType::Bit { bits: n }, Cell::Bytes(be))
        }),
        (any::<i32>(), any::<i32>(), 0u32..5000).prop_map(|(x, y, srid)| {
            let mut b = srid.to_le_bytes().to_vec();
            b.push(1);
            b.extend_from_slice(&1u32.to_le_bytes());
            b.extend_from_slice(&f64::from(x).to_le_bytes());
            b.extend_from_slice(&f64::from(y).to_le_bytes());
            (ColumnType::Point, Cell::Bytes(b))
        }),
    ]
}

fn truncate_micros(micros: u32, fsp: u8) -> u32 {
    let unit = 10u32.pow(6 - u32::from(fsp.min(6)));
    micros - micros % unit
}

fn decimal_text(unscaled: i128, scale: u8) -> String {
    let digits = format!(
        "{:0>width$}",
        unscaled.unsigned_abs(),
        width = usize::from(scale) + 1
    );
    let (i, f) = digits.split_at(digits.len() - usize::from(scale));
    let sign = if unscaled < 0 { "-" } else { "" };
    if scale == 0 {
        format!("{sign}{i}")
    } else {
        format!("{sign}{i}.{f}")
    }
}

fn arb_modes() -> impl Strategy<Value = TypeOptions> {
    (0..3u8, any::<bool>(), 0..4u8, any::<bool>()).prop_map(|(d, b, bin, t)| TypeOptions {
        decimal: [
            DecimalMode::Precise,
            DecimalMode::String,
            DecimalMode::Double,
        ][usize::from(d)],
        bigint_unsigned: if b {
            BigIntUnsignedMode::Precise
        } else {
            BigIntUnsignedMode::Long
        },
        binary: [
            BinaryMode::Bytes,
            BinaryMode::Base64,
            BinaryMode::Base64UrlSafe,
            BinaryMode::Hex,
        ][usize::from(bin)],
        time: if t {
            TimePrecisionMode::Connect
        } else {
            TimePrecisionMode::AdaptiveTimeMicroseconds
        },
        snapshot_read: false,
    })
}

fn b64(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

fn big_int(bytes: &[u8]) -> i128 {
    let mut v: i128 = if bytes[0] & 0x80 != 0 { -1 } else { 0 };
    for &b in bytes {
        v = (v << 8) | i128::from(b);
    }
    v
}

/// What a consumer reads back from the JSON, as the cell it came from.
fn decode(ty: &ColumnType, v: &Json, o: &TypeOptions) -> Cell {
    let connect = o.time == TimePrecisionMode::Connect;
    match ty {
        ColumnType::BigInt { unsigned: true } => match o.bigint_unsigned {
            BigIntUnsignedMode::Long => Cell::UInt(v.as_i64().unwrap() as u64),
            BigIntUnsignedMode::Precise => Cell::UInt(big_int(&b64(v.as_str().unwrap())) as u64),
        },
        t if t.is_unsigned() => Cell::UInt(v.as_u64().unwrap()),
        ColumnType::TinyInt { .. }
        | ColumnType::SmallInt { .. }
        | ColumnType::MediumInt { .. }
        | ColumnType::Int { .. }
        | ColumnType::BigInt { .. } => Cell::Int(v.as_i64().unwrap()),
        ColumnType::Float => Cell::Float(v.as_f64().unwrap() as f32),
        ColumnType::Double => Cell::Double(v.as_f64().unwrap()),
        ColumnType::Decimal { scale, .. } => Cell::Decimal(match o.decimal {
            DecimalMode::Precise => decimal_text(big_int(&b64(v.as_str().unwrap())), *scale),
            DecimalMode::String => v.as_str().unwrap().to_string(),
            // A double keeps 15-17 significant digits; compare through it.
            DecimalMode::Double => format!("{:.*}", usize::from(*scale), v.as_f64().unwrap()),
        }),
        ColumnType::String { .. } => Cell::Text(v.as_str().unwrap().to_string()),
        ColumnType::Bytes { .. } => {
            let s = v.as_str().unwrap();
            Cell::Bytes(match o.binary {
                BinaryMode::Bytes | BinaryMode::Base64 => b64(s),
                BinaryMode::Base64UrlSafe => {
                    base64::engine::general_purpose::URL_SAFE.decode(s).unwrap()
                }
                BinaryMode::Hex => (0..s.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
                    .collect(),
            })
        }
        ColumnType::Date => {
            let (y, m, d) = civil_from_days(v.as_i64().unwrap());
            Cell::Date {
                year: y as u16,
                month: m as u8,
                day: d as u8,
            }
        }
        ColumnType::DateTime { fsp } => {
            let us = if connect || *fsp <= 3 {
                v.as_i64().unwrap() * 1000
            } else {
                v.as_i64().unwrap()
            };
            let (days, rem) = (us.div_euclid(86_400_000_000), us.rem_euclid(86_400_000_000));
            let (y, m, d) = civil_from_days(days);
            Cell::DateTime {
                year: y as u16,
                month: m as u8,
                day: d as u8,
                hour: (rem / 3_600_000_000) as u8,
                minute: (rem / 60_000_000 % 60) as u8,
                second: (rem / 1_000_000 % 60) as u8,
                micros: (rem % 1_000_000) as u32,
            }
        }
        ColumnType::Timestamp { .. } => {
            let s = v.as_str().unwrap().strip_suffix('Z').unwrap();
            let (date, time) = s.split_once('T').unwrap();
            let p: Vec<i64> = date.split('-').map(|x| x.parse().unwrap()).collect();
            let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
            let t: Vec<i64> = hms.split(':').map(|x| x.parse().unwrap()).collect();
            let days = days_from_civil(p[0], p[1] as u32, p[2] as u32);
            Cell::Timestamp {
                secs: days * 86_400 + t[0] * 3600 + t[1] * 60 + t[2],
                micros: format!("{frac:0<6}").parse().unwrap(),
            }
        }
        ColumnType::Time { .. } if v.is_null() => Cell::Null,
        ColumnType::Time { .. } => Cell::Time {
            micros: if connect {
                v.as_i64().unwrap() * 1000
            } else {
                v.as_i64().unwrap()
            },
        },
        ColumnType::Year => Cell::Year(v.as_u64().unwrap() as u16),
        ColumnType::Enum { values } => Cell::Enum(
            values
                .iter()
                .position(|l| l == v.as_str().unwrap())
                .unwrap() as u16
                + 1,
        ),
        ColumnType::Set { values } => {
            let s = v.as_str().unwrap();
            let mut bits = 0u64;
            for (i, l) in values.iter().enumerate() {
                if !s.is_empty() && s.split(',').any(|x| x == l) {
                    bits |= 1 << i;
                }
            }
            Cell::Set(bits)
        }
        ColumnType::Bit { bits } => {
            let le = b64(v.as_str().unwrap());
            assert_eq!(
                le.len(),
                usize::from(bits.div_ceil(8)),
                "padded to the column"
            );
            Cell::Bytes(le.into_iter().rev().collect())
        }
        ColumnType::Point => {
            let mut b = (v["srid"].as_u64().unwrap_or(0) as u32)
                .to_le_bytes()
                .to_vec();
            let wkb = b64(v["wkb"].as_str().unwrap());
            assert_eq!(
                f64::from_le_bytes(wkb[5..13].try_into().unwrap()),
                v["x"].as_f64().unwrap()
            );
            b.extend(wkb);
            Cell::Bytes(b)
        }
        other => panic!("not generated: {other:?}"),
    }
}

/// The inserted value as the decoder can see it (modes that lose
/// precision by design are compared at the precision they keep).
fn expected(ty: &ColumnType, cell: &Cell, o: &TypeOptions) -> Cell {
    match (ty, cell, o.decimal) {
        // Connect's `Time` is a time of day; Debezium writes null outside it.
        (ColumnType::Time { .. }, Cell::Time { micros }, _)
            if o.time == TimePrecisionMode::Connect && !(0..86_400_000_000).contains(micros) =>
        {
            Cell::Null
        }
        (ColumnType::Decimal { scale, .. }, Cell::Decimal(s), DecimalMode::Double) => {
            Cell::Decimal(format!(
                "{:.*}",
                usize::from(*scale),
                s.parse::<f64>().unwrap()
            ))
        }
        (
            ColumnType::DateTime { .. },
            Cell::DateTime {
                micros,
                year,
                month,
                day,
                hour,
                minute,
                second,
            },
            _,
        ) if o.time == TimePrecisionMode::Connect => Cell::DateTime {
            micros: micros - micros % 1000,
            year: *year,
            month: *month,
            day: *day,
            hour: *hour,
            minute: *minute,
            second: *second,
        },
        _ => cell.clone(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn random_rows_round_trip(row in proptest::collection::vec(arb_cell(), 1..12), modes in arb_modes(), schemas in any::<bool>()) {
        let mut columns = vec![Column::new("id", ColumnType::Int { unsigned: false }, false)];
        let mut cells = vec![Cell::Int(1)];
        for (i, (ty, cell)) in row.iter().enumerate() {
            columns.push(Column::new(format!("c{i}"), ty.clone(), true));
            cells.push(cell.clone());
        }
        let table = Arc::new(TableSchema { db: "d".into(), table: "t".into(), columns, key: vec![0] });
        let mut o = EncoderOptions::new("p");
        o.types = modes;
        o.value_schemas = schemas;
        let mut enc = EventEncoder::new(o);
        let change = RowChange {
            table: Arc::clone(&table),
            op: Op::Create,
            before: None,
            after: Some(cells),
            source: SourceInfo {
                position: BinlogPosition::new("b.000001", 4), row: 0, ts_sec: 0, server_id: 1,
                gtid: None, thread: None, snapshot: None, query: None,
            },
        };
        let mut out = Vec::new();
        enc.encode(&change, 0, None, &mut out);
        let v: Json = serde_json::from_slice(out[0].value.as_ref().unwrap()).unwrap();
        let after = if schemas { &v["payload"]["after"] } else { &v["after"] };
        for (i, (ty, cell)) in row.iter().enumerate() {
            let got = decode(ty, &after[format!("c{i}")], &modes);
            prop_assert_eq!(got, expected(ty, cell, &modes), "column c{} of type {:?}", i, ty);
        }
    }
}
