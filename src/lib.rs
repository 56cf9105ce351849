pub mod config;
pub mod encode;
pub mod error;
pub mod model;
pub mod offsets;
pub mod ops;
pub mod pipeline;
pub mod platform;
pub mod sink;
pub mod source;

pub use config::Config;
pub use error::{Error, Result};
