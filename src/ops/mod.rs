//! What an operator asks of a connector besides a poll: the preflight
//! ([`validate`]), the state of its offsets ([`status`]) and ad-hoc
//! snapshots ([`request_snapshot`]).

mod snapshot;
mod status;
mod validate;

pub use snapshot::request_snapshot;
pub use status::{status, Status};
pub use validate::{validate, Check};
