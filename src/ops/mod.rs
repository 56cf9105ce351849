//! What an operator asks of a connector besides a poll: the preflight
//! ([`validate`], with the RDS API's view in [`rds_checks`]), the offsets
//! ([`offsets_get`], [`offsets_set`], [`offsets_reset`]), the state of its offsets ([`status`]) and ad-hoc
//! snapshots ([`request_snapshot`]).

mod offsets;
mod rds_preflight;
mod snapshot;
mod status;
mod validate;

pub use offsets::{
    offsets_get, offsets_reset, offsets_set, start_target, LeaseView, OffsetsView, When,
};
pub use rds_preflight::rds_checks;
pub use snapshot::request_snapshot;
pub use status::{status, Status};
pub use validate::{validate, Check};
