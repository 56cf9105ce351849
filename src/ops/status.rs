//! `status`: the stored checkpoint next to the server's end of the log.

use serde::Serialize;

use crate::config::Config;
use crate::error::Result;
use crate::model::time::now_us;
use crate::offsets::OffsetStore;
use crate::source::{connect, ServerInfo};

/// What `status` prints.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// Connector name.
    pub connector: String,
    /// Offset store.
    pub store: String,
    /// Stored state (checkpoint, lease).
    pub state: Option<crate::offsets::StoredState>,
    /// Current end of the server's binlog, if reachable.
    pub server_position: Option<String>,
    /// Bytes between the checkpoint and the end when both are in one file.
    pub behind_bytes: Option<u64>,
    /// Seconds since the last checkpointed event was written.
    pub seconds_since_last_event: Option<u64>,
    /// Why the server could not be asked, if it could not.
    pub server_error: Option<String>,
}

/// Reads the checkpoint and compares it with the server's end of the log.
pub async fn status<O: OffsetStore>(config: &Config, store: &O) -> Result<Status> {
    let state = store.load().await?;
    let cp = state.as_ref().and_then(|s| s.checkpoint.clone());
    let mut st = Status {
        connector: config.name.clone(),
        store: store.describe(),
        state,
        server_position: None,
        behind_bytes: None,
        seconds_since_last_event: cp
            .as_ref()
            .filter(|c| c.event_ts > 0)
            .map(|c| ((now_us() / 1_000_000) as u64).saturating_sub(u64::from(c.event_ts))),
        server_error: None,
    };
    match connect(config).await {
        Ok(mut conn) => {
            match ServerInfo::read(&mut conn, &config.server()).await {
                Ok(info) => {
                    if let Some(cp) = &cp {
                        let at = cp.resume_position();
                        if at.file == info.end.file {
                            st.behind_bytes = Some(info.end.pos.saturating_sub(at.pos));
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
