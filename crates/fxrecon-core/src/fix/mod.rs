//! FIX tag=value handling: the decoder that turns one message into an [`ExecEvent`].
//!
//! [`ExecEvent`]: crate::event::ExecEvent

pub mod decoder;
mod simd;

pub use decoder::{DATA_FIELDS, DataField, DecodeError, decode};
