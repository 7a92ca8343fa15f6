//! input

pub mod decode;
