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
    /// Sharded runs, step 2: admit every shard's dedup summaries in input order (one task).
    Dedup(RunArgs),
    /// Sharded runs, step 2 split in two (a job array, then one small task): band range J
    /// of R of the dedup LSH bands over every shard's summaries → verified matches.
    Buckets(RunArgs),
    /// Sharded runs, after every `buckets` range: clusters and verdicts from the match lists
    /// (replaces `dedup`; writes what `filter` reads).
    Clusters(RunArgs),
    /// Sharded runs, step 3 (optional, an array like `run --shard`): apply the dedup
    /// verdicts to one shard's documents. `merge` does it for shards that skipped it.
    Filter(RunArgs),
    /// Sharded runs, last step: turn the shards' parts into the final corpus and report.
    Merge(RunArgs),
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Configuration file (TOML). Missing `./pipeline.toml` means all defaults.
    #[arg(
        long,
        short = 'c',
        value_name = "FILE",
        default_value = "pipeline.toml"
    )]
    pub config: PathBuf,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Configuration file (TOML). Missing `./pipeline.toml` means all defaults.
    #[arg(
        long,
        short = 'c',
        value_name = "FILE",
        default_value = "pipeline.toml"
    )]
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
    /// Process shard I of N (0-based, e.g. `0/4`) into OUT/parts/; `auto` takes it from
    /// SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT or JOB_COMPLETION_INDEX with --shards.
    #[arg(long, value_name = "I/N|auto")]
    pub shard: Option<String>,
    /// Number of shards (with `--shard auto`, or for `dedup`, `filter` and `merge`).
    #[arg(long, value_name = "N")]
    pub shards: Option<usize>,
    /// `buckets`: band range J of R (0-based, e.g. `0/4`); `auto` takes it from
    /// SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT or JOB_COMPLETION_INDEX with --ranges.
    #[arg(long, value_name = "J/R|auto")]
    pub range: Option<String>,
    /// Number of band ranges (with `--range auto`, or for `clusters`).
    #[arg(long, value_name = "R")]
    pub ranges: Option<usize>,
    /// Incremental runs: keep the inputs already seen and the dedup index in DIR; process
    /// only new or changed inputs and dedup them against everything kept before.
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
    /// Print one line for cron mail on stdout (counts, time), even with --quiet.
    #[arg(long)]
    pub summary_line: bool,
}
