//! Configuration in two levels, as ripgrep does: [`RawConfig`] is a faithful serde record of
//! `pipeline.toml` (unknown keys are errors that name the key and line), and [`Plan`] is the
//! validated, built form (inputs resolved, stages compiled). Nothing runs until the plan is valid.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::dedup::{self, BarrierStage};
use crate::error::ConfigError;
use crate::stages::{self, DocStage, StagesConfig};

/// `pipeline.toml` as written by the user, every default filled in.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawConfig {
    pub input: InputConfig,
    pub output: OutputConfig,
    pub pipeline: PipelineConfig,
    pub stages: StagesConfig,
}

/// `[input]`: what to read and how to find id, text and title in records.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct InputConfig {
    /// Files or folders (read recursively, in sorted order). Relative paths are relative to the
    /// folder of the config file.
    pub paths: Vec<PathBuf>,
    /// JSONL field / CSV column holding the document id.
    pub id_field: String,
    /// JSONL field / CSV column holding the text.
    pub text_field: String,
    /// JSONL field / CSV column holding a title; when present it wins over the `title` stage.
    pub title_field: String,
    /// JSONL field / CSV column naming the document's source (site, URL); used as `source`.
    pub source_field: String,
    /// Documents (whole files, JSONL lines, CSV records) larger than this many bytes are
    /// rejected with reason `too-large` instead of being read into memory.
    pub max_doc_bytes: u64,
}

impl Default for InputConfig {
    fn default() -> Self {
        InputConfig {
            paths: vec![PathBuf::from("seeds")],
            id_field: "id".into(),
            text_field: "text".into(),
            title_field: "title".into(),
            source_field: "source".into(),
            max_doc_bytes: 64 * 1024 * 1024,
        }
    }
}

/// `[output]`: where and what to write.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutputConfig {
    /// Output folder (created if missing). Relative to the config file's folder.
    pub dir: PathBuf,
    /// Write `clean.jsonl`.
    pub jsonl: bool,
    /// Write `clean.csv`.
    pub csv: bool,
    /// Write the audit file `removed.jsonl`: one line per removed line/paragraph with its rule.
    pub removed: bool,
}

impl Default for OutputConfig {
    fn default() -> Self {
        OutputConfig {
            dir: PathBuf::from("out"),
            jsonl: true,
            csv: true,
            removed: false,
        }
    }
}

/// `[pipeline]`: which stages run, in which order, and how the work is batched.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct PipelineConfig {
    /// Stages in the order they run. Reading and writing always run.
    pub stages: Vec<String>,
    /// Worker threads; 0 = one per core.
    pub threads: usize,
    /// Documents per batch. Batches are cut from the input alone, so output does not depend
    /// on the thread count.
    pub batch_docs: usize,
    /// Bytes per batch (a batch closes at whichever limit comes first).
    pub batch_bytes: usize,
    /// Documents whose cleaned text has fewer characters than this are rejected as `empty`.
    pub min_chars: usize,
    /// Size of the input blocks batches never cross: small files are grouped up to this
    /// size, large uncompressed JSONL files are cut into line ranges of it. Sharded runs
    /// hand out whole blocks, so they reproduce a single run made with the same value.
    pub block_bytes: u64,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            stages: stages::all_stage_names()
                .iter()
                .map(|s| s.to_string())
                .collect(),
            threads: 0,
            batch_docs: 2048,
            batch_bytes: 16 * 1024 * 1024,
            min_chars: 1,
            block_bytes: 8 * 1024 * 1024,
        }
    }
}

impl RawConfig {
    /// Read and parse a config file. A missing default `pipeline.toml` is an error only if
    /// `required`; otherwise the defaults are used.
    pub fn load(path: &Path, required: bool) -> Result<RawConfig, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(RawConfig::default())
            }
            Err(e) => {
                return Err(ConfigError::Read {
                    path: path.to_path_buf(),
                    error: e,
                })
            }
        };
        Self::parse(&text, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<RawConfig, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    }

    /// The effective configuration as TOML (for `presswash config`).
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# cannot print config: {e}\n"))
    }
}

/// Overrides from the command line.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub inputs: Vec<PathBuf>,
    pub output: Option<PathBuf>,
    pub threads: Option<usize>,
    pub stages: Option<Vec<String>>,
    pub removed: bool,
}

/// The validated, built run: everything needed to run, compiled once.
pub struct Plan {
    pub raw: RawConfig,
    pub inputs: Vec<PathBuf>,
    pub output_dir: PathBuf,
    pub threads: usize,
    /// Names of the stages that run, in order (including `dedup` if it runs).
    pub stage_names: Vec<String>,
    pub doc_stages: Vec<Box<dyn DocStage>>,
    pub dedup: Option<Box<dyn BarrierStage>>,
    /// Position of dedup among the stages: per-document stages after it run on its survivors.
    pub dedup_position: usize,
}

impl Plan {
    /// Validate `raw` with the command-line overrides; `base` is the folder relative config
    /// paths are resolved against.
    pub fn build(mut raw: RawConfig, ov: Overrides, base: &Path) -> Result<Plan, ConfigError> {
        let p = &raw.pipeline;
        if p.batch_docs == 0 {
            return Err(ConfigError::invalid(
                "pipeline.batch_docs",
                "must be at least 1",
            ));
        }
        if p.block_bytes == 0 {
            return Err(ConfigError::invalid(
                "pipeline.block_bytes",
                "must be at least 1",
            ));
        }
        if p.batch_bytes == 0 {
            return Err(ConfigError::invalid(
                "pipeline.batch_bytes",
                "must be at least 1",
            ));
        }
        if raw.input.text_field.is_empty() {
            return Err(ConfigError::invalid(
                "input.text_field",
                "must not be empty",
            ));
        }
        if raw.input.max_doc_bytes == 0 {
            return Err(ConfigError::invalid(
                "input.max_doc_bytes",
                "must be at least 1",
            ));
        }
        let known = stages::all_stage_names();
        let mut seen = Vec::new();
        for s in &p.stages {
            if !known.contains(&s.as_str()) {
                return Err(ConfigError::invalid(
                    "pipeline.stages",
                    format!("unknown stage `{s}` (known: {})", known.join(", ")),
                ));
            }
            if seen.contains(s) {
                return Err(ConfigError::invalid(
                    "pipeline.stages",
                    format!("stage `{s}` listed twice"),
                ));
            }
            seen.push(s.clone());
        }
        let mut names: Vec<String> = p.stages.clone();
        // `--stages "repair, typography"`: names are trimmed and case-folded, empty ones ignored
        let selected: Option<Vec<String>> = ov.stages.as_ref().map(|sel| {
            sel.iter()
                .map(|s| s.trim().to_ascii_lowercase())
                .filter(|s| !s.is_empty())
                .collect()
        });
        if let Some(sel) = &selected {
            for s in sel {
                if !known.contains(&s.as_str()) {
                    return Err(ConfigError::invalid(
                        "--stages",
                        format!("unknown stage `{s}` (known: {})", known.join(", ")),
                    ));
                }
            }
            // The config's order for the stages it lists, then the others in registry order.
            let mut ordered: Vec<String> =
                names.iter().filter(|n| sel.contains(n)).cloned().collect();
            for k in &known {
                if sel.iter().any(|s| s == k) && !ordered.iter().any(|o| o == k) {
                    ordered.push(k.to_string());
                }
            }
            names = ordered;
        }
        let mut doc_stages = Vec::new();
        let mut dedup = None;
        let mut dedup_position = usize::MAX;
        for n in &names {
            if n == "dedup" {
                dedup_position = doc_stages.len();
                dedup = Some(Box::new(raw.stages.dedup.build()?) as Box<dyn BarrierStage>);
            } else if let Some(stage) = raw.stages.build(n) {
                doc_stages.push(stage?);
            }
        }
        if !ov.inputs.is_empty() {
            raw.input.paths = ov.inputs.clone();
        } else {
            // `s3://` URLs are kept as they are; relative paths are relative to the config.
            raw.input.paths = raw
                .input
                .paths
                .iter()
                .map(|p| {
                    if crate::storage::is_remote(p) {
                        p.clone()
                    } else {
                        base.join(p)
                    }
                })
                .collect();
        }
        if raw.input.paths.is_empty() {
            return Err(ConfigError::invalid("input.paths", "no input given"));
        }
        let output_dir = match &ov.output {
            Some(o) => o.clone(),
            None if crate::storage::is_remote(&raw.output.dir) => raw.output.dir.clone(),
            None => base.join(&raw.output.dir),
        };
        raw.output.dir = output_dir.clone();
        if ov.removed {
            raw.output.removed = true;
        }
        let threads = ov.threads.unwrap_or(raw.pipeline.threads);
        raw.pipeline.threads = threads;
        raw.pipeline.stages = names.clone();
        let _ = dedup::Config::default;
        Ok(Plan {
            inputs: raw.input.paths.clone(),
            output_dir,
            threads,
            stage_names: names,
            doc_stages,
            dedup,
            dedup_position,
            raw,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_round_trip_through_toml() {
        let raw = RawConfig::default();
        let text = raw.to_toml();
        let back = RawConfig::parse(&text, Path::new("x.toml")).expect("defaults parse");
        assert_eq!(back.pipeline.stages, raw.pipeline.stages);
        assert_eq!(back.input.paths, raw.input.paths);
    }

    #[test]
    fn unknown_key_is_named() {
        let err = RawConfig::parse("[pipeline]\nthreds = 2\n", Path::new("p.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("threds"), "{err}");
        assert!(err.contains("line 2"), "{err}");
    }

    #[test]
    fn unknown_stage_is_rejected() {
        let raw = RawConfig::parse(
            "[pipeline]\nstages = [\"repair\", \"nope\"]\n",
            Path::new("p.toml"),
        )
        .unwrap();
        let err = Plan::build(raw, Overrides::default(), Path::new("."))
            .err()
            .expect("must fail")
            .to_string();
        assert!(
            err.contains("pipeline.stages") && err.contains("nope"),
            "{err}"
        );
    }

    #[test]
    fn stage_subset_keeps_config_order() {
        let raw = RawConfig::default();
        let ov = Overrides {
            stages: Some(vec!["typography".into(), "repair".into()]),
            ..Default::default()
        };
        let plan = Plan::build(raw, ov, Path::new(".")).unwrap();
        assert_eq!(plan.stage_names, vec!["repair", "typography"]);
        assert!(plan.dedup.is_none());
    }
}
