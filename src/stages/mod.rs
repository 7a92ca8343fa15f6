//! Per-document stages and their registry.
//!
//! A per-document stage is a pure function of one document (plus, optionally, statistics of
//! the batch it arrives in): rayon runs it freely over a batch. Dedup, which must see the
//! whole corpus, is a barrier stage with its own interface in [`crate::dedup`].
//!
//! Adding a stage: write `src/stages/<name>.rs` with a serde `Config` (Default,
//! `deny_unknown_fields`) whose `build()` returns a type implementing [`DocStage`], then add
//! one line to the `registry!` invocation below.

use std::any::Any;

use crate::document::{Document, Reject};

pub mod boilerplate;
pub mod extract;
pub mod repair;
pub mod title;
pub mod typography;

/// Statistics a stage computed over a whole batch before processing its documents
/// (e.g. lines repeated across documents of the same source).
pub type BatchState = Box<dyn Any + Send + Sync>;

/// One per-document transformation.
pub trait DocStage: Send + Sync {
    /// The stage name used in the config, on the command line and in the report.
    fn name(&self) -> &'static str;

    /// Look at the whole batch (its live documents, in input order) before any document of it
    /// is processed.
    /// Batches are formed from the input alone, so the result does not depend on threads.
    fn prepare(&self, _batch: &[&Document]) -> Option<BatchState> {
        None
    }

    /// Transform one document in place. `Err` rejects it with a reason.
    fn apply(&self, doc: &mut Document, batch: Option<&BatchState>) -> Result<(), Reject>;
}

/// The registry: `stage-name => module`. Generates the `[stages.*]` config table type and
/// the builder that turns an ordered list of names into runnable stages.
macro_rules! registry {
    ($($name:literal => $module:ident),* $(,)?) => {
        /// `[stages.<name>]` tables of `pipeline.toml`, one per stage, each with defaults.
        #[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct StagesConfig {
            $(pub $module: $module::Config,)*
            pub dedup: crate::dedup::Config,
        }

        /// Names of the per-document stages, in registry order.
        pub const DOC_STAGE_NAMES: &[&str] = &[$($name),*];

        impl StagesConfig {
            /// Build the per-document stage called `name`; `None` if there is none.
            pub fn build(&self, name: &str) -> Option<Result<Box<dyn DocStage>, crate::error::ConfigError>> {
                match name {
                    $($name => Some(self.$module.build().map(|s| Box::new(s) as Box<dyn DocStage>)),)*
                    _ => None,
                }
            }
        }
    };
}

registry! {
    "extract" => extract,
    "repair" => repair,
    "typography" => typography,
    "boilerplate" => boilerplate,
    "title" => title,
}

/// Every stage name the `stages` list accepts (per-document stages and `dedup`).
pub fn all_stage_names() -> Vec<&'static str> {
    let mut v = DOC_STAGE_NAMES.to_vec();
    v.push("dedup");
    v
}
