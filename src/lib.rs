//! presswash: turn scraped news dumps into clean, deduplicated, training-ready corpora.
//!
//! The crate is laid out one module per concept: `config` (raw TOML to a validated plan),
//! `input` (finding, reading and decoding documents), `stages` (one file per per-document
//! stage), `dedup` (the barrier stage), `output` (atomic writers), `report`, `pipeline`
//! (the driver that streams batches through the stages) and `cli`.

pub mod app;
pub mod cli;
pub mod config;
pub mod dedup;
pub mod document;
pub mod error;
pub mod input;
pub mod output;
pub mod pipeline;
pub mod report;
pub mod shard;
pub mod stages;
pub mod state;
pub mod storage;
