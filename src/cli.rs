//! Command line (clap). Every flag is defined once here; `--help` text comes from these
//! doc comments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// presswash: clean, deduplicate and audit scraped news dumps into training-ready corpora.
#[derive(Debug, Parser)]
#[command(name = "presswash", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read the inputs, run the stages, write the corpus, duplicates, rejects and report.
    Run(RunArgs),
    /// Print the effective configuration with every default filled in.
    Config(ConfigArgs),
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Configuration file (TOML). Missing `./pipeline.toml` means all defaults.
    #[arg(long, short = 'c', value_name = "FILE", default_value = "pipeline.toml")]
    pub config: PathBuf,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Configuration file (TOML). Missing `./pipeline.toml` means all defaults.
    #[arg(long, short = 'c', value_name = "FILE", default_value = "pipeline.toml")]
    pub config: PathBuf,
    /// Input file or folder (repeatable); replaces the config's `input.paths`.
    #[arg(long, short = 'i', value_name = "PATH")]
    pub input: Vec<PathBuf>,
    /// Output folder; replaces the config's `output.dir`.
    #[arg(long, short = 'o', value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// Worker threads (0 = one per core); output is identical for any value.
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,
    /// Comma-separated subset of the stages to run (extract, repair, typography,
    /// boilerplate, title, dedup), in the config's order. Reading and writing always run.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub stages: Option<Vec<String>>,
    /// Also write `removed.jsonl`: every removed line with its document, stage and rule.
    #[arg(long)]
    pub audit: bool,
    /// No progress bar and no summary on stderr (errors are still printed).
    #[arg(long, short = 'q')]
    pub quiet: bool,
}
