//! MariaDB's compressed binlog events (`log_bin_compress=ON`), rebuilt as the
//! ordinary events they stand for.
//!
//! With `log_bin_compress=ON` MariaDB (10.2+) writes a QUERY or rows event
//! whose compressible part is at least `log_bin_compress_min_len` bytes
//! (default 256) as its compressed twin:
//!
//! | compressed type                          | ordinary type             |
//! |------------------------------------------|---------------------------|
//! | `QUERY_COMPRESSED_EVENT` 165             | `QUERY_EVENT` 2           |
//! | `WRITE/UPDATE/DELETE_ROWS_COMPRESSED_EVENT_V1` 166-168 | `*_ROWS_EVENT_V1` 23-25 |
//! | `WRITE/UPDATE/DELETE_ROWS_COMPRESSED_EVENT` 169-171    | `*_ROWS_EVENT` 30-32    |
//!
//! The header, post-header and every field before the variable part are
//! those of the ordinary event; only the variable part is compressed: the
//! statement text of a QUERY (after status variables and the NUL-terminated
//! database name), the row images of a rows event (after table id, flags,
//! extra data, column count and column bitmaps; `Rows_log_event::uncompress_buf`
//! and `Query_compressed_log_event` in MariaDB's `log_event.cc`). The
//! compressed part (`binlog_buf_compress`) is:
//!
//! ```text
//! 1 byte   0x80 | algorithm << 4 | n     (algorithm 0 = zlib; n = 1..=4)
//! n bytes  uncompressed length, big-endian
//! ...      a zlib stream (RFC 1950, what zlib's compress() writes)
//! ```
//!
//! We find where the variable part starts by letting mysql_common parse the
//! event as its ordinary type (the parser reads the variable part as "the
//! rest of the body"), inflate that part, and hand mysql_common an ordinary
//! event with the same header fields (size and CRC32 recomputed), so row
//! decoding, DDL handling and everything downstream see what an
//! uncompressed binlog would have given them.
//!
//! Inflating is bounded: the declared length is checked against a limit
//! (the dump connection's `max_allowed_packet`, the largest event the server
//! may send us uncompressed) before anything is allocated, and the inflater
//! never produces more than the declared length plus one byte, so a corrupt
//! or hostile length cannot make the poller allocate without bound.

use std::io::Read;

use mysql_common::binlog::consts::EventType;
use mysql_common::binlog::events::{Event, EventData};

/// The common event header length (binlog v4).
const HEADER_LEN: usize = 19;

/// The ordinary event type a MariaDB compressed event type stands for.
pub(crate) fn plain_type(raw: u8) -> Option<EventType> {
    Some(match raw {
        165 => EventType::QUERY_EVENT,
        166 => EventType::WRITE_ROWS_EVENT_V1,
        167 => EventType::UPDATE_ROWS_EVENT_V1,
        168 => EventType::DELETE_ROWS_EVENT_V1,
        169 => EventType::WRITE_ROWS_EVENT,
        170 => EventType::UPDATE_ROWS_EVENT,
        171 => EventType::DELETE_ROWS_EVENT,
        _ => return None,
    })
}

/// The ordinary event equivalent to the compressed event `ev` (of a type
/// [`plain_type`] knows), inflating at most `limit` bytes.
pub(crate) fn uncompress_event(
    ev: &Event,
    plain: EventType,
    limit: usize,
) -> Result<Event, String> {
    let h = ev.header();
    let body = ev.data();
    // What the reader cut off the body: the CRC32 when checksums are on.
    // The rebuilt event carries one too, so it is read the same way.
    let trailer = (h.event_size() as usize)
        .checked_sub(HEADER_LEN + body.len())
        .filter(|t| *t == 0 || *t == 4)
        .ok_or("event size does not match its body")?;
    // Parse as the ordinary type to find where the compressed part starts.
    let as_plain = rebuild(ev, plain, body, &[], trailer)?;
    let compressed_len = match as_plain.read_data() {
        Ok(Some(EventData::QueryEvent(q))) => q.query_raw().len(),
        Ok(Some(EventData::RowsEvent(r))) => r.rows_data().len(),
        Ok(_) => return Err("not a QUERY or rows event".into()),
        Err(e) => return Err(format!("cannot read its uncompressed fields: {e}")),
    };
    let split = body.len() - compressed_len;
    let inflated = uncompress_part(&body[split..], limit)?;
    rebuild(ev, plain, &body[..split], &inflated, trailer)
}

/// Inflates one compressed part (`binlog_buf_uncompress`).
pub(crate) fn uncompress_part(part: &[u8], limit: usize) -> Result<Vec<u8>, String> {
    let (&first, rest) = part.split_first().ok_or("empty compressed part")?;
    let n = usize::from(first & 0x07);
    if first & 0x80 == 0 || !(1..=4).contains(&n) || rest.len() < n {
        return Err(format!("bad compression header byte {first:#04x}"));
    }
    let algorithm = (first & 0x70) >> 4;
    if algorithm != 0 {
        return Err(format!(
            "unknown compression algorithm {algorithm} (only zlib, 0, exists)"
        ));
    }
    let len = rest[..n]
        .iter()
        .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
    if len > limit {
        return Err(format!(
            "it inflates to {len} bytes, above the {limit}-byte limit (max_allowed_packet of the dump connection)"
        ));
    }
    // Grown as the data inflates, not reserved from the header: a small
    // corrupt event must not allocate the declared size up front. zlib
    // expands at most ~1032:1, which bounds a reasonable first guess.
    let mut out = Vec::with_capacity(len.min(rest.len().saturating_mul(8)));
    flate2::read::ZlibDecoder::new(&rest[n..])
        .take(len as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("zlib: {e}"))?;
    if out.len() != len {
        return Err(format!(
            "it inflated to {}{} bytes, but its header says {len}",
            out.len(),
            if out.len() > len { "+" } else { "" }
        ));
    }
    Ok(out)
}

/// `ev`'s header with type `ty`, the body `a` + `b`, and (when the stream
/// has checksums, `trailer` = 4) a CRC32 of the new event, read back through
/// mysql_common with the stream's FORMAT_DESCRIPTION.
fn rebuild(ev: &Event, ty: EventType, a: &[u8], b: &[u8], trailer: usize) -> Result<Event, String> {
    let h = ev.header();
    let size = u32::try_from(HEADER_LEN + a.len() + b.len() + trailer)
        .map_err(|_| "rebuilt event above 4 GiB".to_string())?;
    let mut raw = Vec::with_capacity(size as usize);
    raw.extend_from_slice(&h.timestamp().to_le_bytes());
    raw.push(ty as u8);
    raw.extend_from_slice(&h.server_id().to_le_bytes());
    raw.extend_from_slice(&size.to_le_bytes());
    raw.extend_from_slice(&h.log_pos().to_le_bytes());
    raw.extend_from_slice(&h.flags_raw().to_le_bytes());
    raw.extend_from_slice(a);
    raw.extend_from_slice(b);
    if trailer == 4 {
        let crc = crc32fast::hash(&raw);
        raw.extend_from_slice(&crc.to_le_bytes());
    }
    Event::read(ev.fde(), &raw[..]).map_err(|e| format!("rebuilt event unreadable: {e}"))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn compress(data: &[u8], n: u8) -> Vec<u8> {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(data).unwrap();
        let mut out = vec![0x80 | n];
        let len = (data.len() as u64).to_be_bytes();
        out.extend_from_slice(&len[8 - usize::from(n)..]);
        out.extend(z.finish().unwrap());
        out
    }

    #[test]
    fn parts_inflate_with_every_length_width() {
        let data = b"INSERT INTO t VALUES (1, 'a long enough text to compress')".repeat(3);
        for n in 1..=4 {
            if n == 1 && data.len() > 255 {
                continue;
            }
            assert_eq!(uncompress_part(&compress(&data, n), 1 << 20).unwrap(), data);
        }
    }

    #[test]
    fn parts_are_bounded_and_checked() {
        let data = vec![b'x'; 100_000];
        let part = compress(&data, 3);
        // Above the limit: refused before inflating.
        let e = uncompress_part(&part, 99_999).unwrap_err();
        assert!(
            e.contains("100000 bytes, above the 99999-byte limit"),
            "{e}"
        );
        // A header that understates the length cannot make it inflate more.
        let mut lying = part.clone();
        lying[1..4].copy_from_slice(&[0, 0, 10]);
        let e = uncompress_part(&lying, 1 << 20).unwrap_err();
        assert!(
            e.contains("inflated to 11+ bytes, but its header says 10"),
            "{e}"
        );
        // Not compressed, another algorithm, a broken stream.
        assert!(uncompress_part(&[0x01, 5], 1 << 20).is_err());
        let mut other = part.clone();
        other[0] |= 0x10;
        assert!(uncompress_part(&other, 1 << 20)
            .unwrap_err()
            .contains("algorithm 1"));
        let mut broken = part;
        broken.truncate(20);
        assert!(uncompress_part(&broken, 1 << 20)
            .unwrap_err()
            .contains("zlib"));
    }

    #[test]
    fn only_mariadb_compressed_types_map() {
        assert_eq!(plain_type(165), Some(EventType::QUERY_EVENT));
        assert_eq!(plain_type(167), Some(EventType::UPDATE_ROWS_EVENT_V1));
        assert_eq!(plain_type(171), Some(EventType::DELETE_ROWS_EVENT));
        assert_eq!(plain_type(164), None);
        assert_eq!(plain_type(172), None);
        assert_eq!(plain_type(2), None);
    }
}
