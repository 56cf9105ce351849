//! `status`: the stored offsets next to the server's end of the log, for
//! people (ISO-8601 times, the lease, snapshot progress, lag) and tools
//! (the raw stored state is kept under `state`).
//!
//! Lag is measured against the server: with GTIDs the connector is caught
//! up when its executed set includes the server's `gtid_executed` (the
//! stored file position of a GTID checkpoint may trail the end by events
//! of no captured table, which a poll passes over without a new position);
//! otherwise when it is at the server's end of the log. Only a connector
//! that is behind reports the bytes (same file) and the seconds since its
//! last handled event.

use serde::Serialize;

use super::offsets::OffsetsView;
use crate::config::Config;
use crate::error::Result;
use crate::model::time::now_us;
use crate::model::SnapshotProgress;
use crate::offsets::{now_ms, OffsetStore};
use crate::source::{connect, ServerInfo};

/// What `status` prints.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// Connector name.
    pub connector: String,
    /// Offset store.
    pub store: String,
    /// The offsets in human form (as `offsets get`).
    pub offsets: OffsetsView,
    /// The snapshot in progress: table, rows, estimate, rate, ETA.
    pub snapshot: Option<SnapshotProgress>,
    /// Current end of the server's binlog, if reachable.
    pub server_position: Option<String>,
    /// Whether the connector has handled everything the server logged.
    pub caught_up: Option<bool>,
    /// Bytes between the checkpoint and the end when both are in one file
    /// (0 when caught up).
    pub behind_bytes: Option<u64>,
    /// Seconds since the last handled event was written, when behind (0
    /// when caught up).
    pub lag_seconds: Option<u64>,
    /// Why the server could not be asked, if it could not.
    pub server_error: Option<String>,
    /// The stored state as it is (checkpoint, lease), for tools.
    pub state: Option<crate::offsets::StoredState>,
}

/// Reads the checkpoint and compares it with the server's end of the log.
pub async fn status<O: OffsetStore>(config: &Config, store: &O) -> Result<Status> {
    // One read: the view and the lag describe the same state.
    let state = store.load().await?;
    let cp = state.as_ref().and_then(|s| s.checkpoint.clone());
    let mut st = Status {
        connector: config.name.clone(),
        store: store.describe(),
        offsets: OffsetsView::of(config, store.describe(), state.clone()),
        snapshot: cp
            .as_ref()
            .and_then(|c| c.snapshot.as_ref())
            .and_then(|s| s.progress(now_ms())),
        server_position: None,
        caught_up: None,
        behind_bytes: None,
        lag_seconds: None,
        server_error: None,
        state,
    };
    match connect(config).await {
        Ok(mut conn) => {
            match ServerInfo::read(&mut conn, &config.server()).await {
                Ok(info) => {
                    if let Some(cp) = &cp {
                        let at = cp.resume_position();
                        // A queued snapshot is work left, however idle the log.
                        let caught_up = cp.transaction.is_none()
                            && cp.snapshot.is_none()
                            && match (&cp.gtid_set, &info.gtid_executed) {
                                (Some(ours), Some(server)) => ours.contains_set(server),
                                _ => *at == info.end,
                            };
                        st.caught_up = Some(caught_up);
                        if caught_up {
                            st.behind_bytes = Some(0);
                            st.lag_seconds = Some(0);
                        } else {
                            if at.file == info.end.file {
                                st.behind_bytes = Some(info.end.pos.saturating_sub(at.pos));
                            }
                            st.lag_seconds = (cp.event_ts > 0).then(|| {
                                ((now_us() / 1_000_000) as u64)
                                    .saturating_sub(u64::from(cp.event_ts))
                            });
                        }
                    }
                    st.server_position = Some(info.end.to_string());
                }
                Err(e) => st.server_error = Some(e.to_string()),
            }
            let _ = conn.disconnect().await;
        }
        Err(e) => st.server_error = Some(e.to_string()),
    }
    Ok(st)
}

impl Status {
    /// The status for a terminal: one fact a line.
    pub fn text(&self) -> String {
        let o = &self.offsets;
        let mut out = format!(
            "connector    {}\nstore        {}\n",
            self.connector, self.store
        );
        let mut line = |k: &str, v: String| out.push_str(&format!("{k:<12} {v}\n"));
        line(
            "position",
            o.position.clone().unwrap_or_else(|| "none".into()),
        );
        if let Some(g) = &o.gtid_set {
            line("gtid set", g.clone());
        }
        if let Some(t) = &o.inside_transaction {
            line("inside", t.clone());
        }
        if let Some(u) = &o.updated {
            line("stored", format!("{} ({} ms)", u.iso, u.ms));
        }
        if let Some(e) = &o.last_event {
            line("last event", format!("{} ({} ms)", e.iso, e.ms));
        }
        line(
            "lease",
            match &o.lease {
                Some(l) => format!(
                    "{} by {}, until {}",
                    if l.live { "held" } else { "expired" },
                    l.holder,
                    l.expires.as_ref().map(|w| w.iso.as_str()).unwrap_or("?")
                ),
                None => "free".into(),
            },
        );
        if let Some(p) = &self.snapshot {
            line(
                "snapshot",
                format!(
                    "{}: {} of ~{} rows{}{}; {} rows and {} table(s) left",
                    p.table,
                    p.rows,
                    p.estimated_rows
                        .map_or_else(|| "?".to_string(), |n| n.to_string()),
                    p.rows_per_second
                        .map(|r| format!(", {r} rows/s"))
                        .unwrap_or_default(),
                    p.eta_seconds
                        .map(|s| format!(", done in ~{s} s"))
                        .unwrap_or_default(),
                    p.rows_remaining,
                    p.tables_left
                ),
            );
        }
        if let Some(end) = &self.server_position {
            line("server end", end.clone());
        }
        match (self.caught_up, self.lag_seconds, self.behind_bytes) {
            (Some(true), ..) => line("lag", "caught up".into()),
            (Some(false), s, b) => line(
                "lag",
                format!(
                    "behind{}{}",
                    s.map(|s| format!(" {s} s")).unwrap_or_default(),
                    b.map(|b| format!(", {b} bytes")).unwrap_or_default()
                ),
            ),
            _ => {}
        }
        if let Some(e) = &self.server_error {
            line("server", format!("unreachable: {e}"));
        }
        line("next poll", o.next_poll.clone());
        out
    }
}
