//! `title` stage (first version: to be filled in).

use crate::document::{Document, Reject};
use crate::error::ConfigError;
use crate::stages::{BatchState, DocStage};

/// `[stages.title]` options.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {}

impl Config {
    pub fn build(&self) -> Result<Stage, ConfigError> {
        Ok(Stage {})
    }
}

pub struct Stage {}

impl DocStage for Stage {
    fn name(&self) -> &'static str {
        "title"
    }

    fn apply(&self, _doc: &mut Document, _batch: Option<&BatchState>) -> Result<(), Reject> {
        Ok(())
    }
}
