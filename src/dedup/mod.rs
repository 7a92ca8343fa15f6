//! The `dedup` barrier stage: repeated paragraphs inside a document, and exact and near
//! duplicate documents across the corpus.
//!
//! Unlike per-document stages, dedup must see every document. It has two parts:
//! a pure per-document part ([`BarrierStage::summarise`], run in parallel: intra-document
//! dedup, normalisation, hashing, MinHash signature) and a sequential part
//! ([`BarrierStage::admit`], called in input order) that keeps only bounded-size summaries.

use std::any::Any;

use crate::document::Document;
use crate::error::ConfigError;

/// The per-document summary a barrier stage keeps (signatures, hashes: never the text).
pub type Summary = Box<dyn Any + Send>;

/// A barrier's verdict on one document.
#[derive(Debug, Clone, PartialEq)]
pub enum Admission {
    Keep,
    Duplicate { of: String, similarity: f64 },
    /// Not decidable until the whole corpus has been seen (keep policies other than `first`).
    Deferred,
}

/// A stage that must see the whole corpus before it can decide on every document.
pub trait BarrierStage: Send + Sync {
    fn name(&self) -> &'static str;
    /// Parallel, pure: may edit the document (intra-document dedup) and returns its summary.
    fn summarise(&self, doc: &mut Document) -> Summary;
    /// Sequential, in input order.
    fn admit(&mut self, doc: &Document, summary: Summary) -> Admission;
    /// True when `admit` decides at once (never returns `Deferred`): the pipeline then writes
    /// in one pass; otherwise kept documents are spooled to disk until [`BarrierStage::finish`].
    fn streaming(&self) -> bool {
        true
    }
    /// After the last document: final verdicts for every document admitted as `Deferred`,
    /// as `(seq, admission)`.
    fn finish(&mut self) -> Vec<(u64, Admission)> {
        Vec::new()
    }
    /// Serialise a summary so sharded runs can compute summaries on many machines and admit
    /// them later in input order (`None`: this barrier cannot be sharded).
    fn encode_summary(&self, _summary: &Summary) -> Option<Vec<u8>> {
        None
    }
    /// Inverse of [`BarrierStage::encode_summary`].
    fn decode_summary(&self, _bytes: &[u8]) -> Option<Summary> {
        None
    }
    /// Save the index of admitted documents (for incremental `--state` runs).
    fn save_index(&self, _w: &mut dyn std::io::Write) -> std::io::Result<()> {
        Err(std::io::Error::other("this barrier stage cannot save its index"))
    }
    /// Load an index saved by [`BarrierStage::save_index`]; later documents are checked
    /// against everything in it.
    fn load_index(&mut self, _r: &mut dyn std::io::Read) -> std::io::Result<()> {
        Err(std::io::Error::other("this barrier stage cannot load an index"))
    }
    /// Statistics for `report.json`.
    fn report(&self) -> serde_json::Value {
        serde_json::Value::Null
    }
}

/// `[stages.dedup]` options.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {}

impl Config {
    pub fn build(&self) -> Result<Dedup, ConfigError> {
        Ok(Dedup {})
    }
}

pub struct Dedup {}

impl BarrierStage for Dedup {
    fn name(&self) -> &'static str {
        "dedup"
    }
    fn summarise(&self, _doc: &mut Document) -> Summary {
        Box::new(())
    }
    fn admit(&mut self, _doc: &Document, _summary: Summary) -> Admission {
        Admission::Keep
    }
}
