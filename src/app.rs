//! The edge between the command line and the library: builds the plan from the config and
//! flags, runs it, prints the summary, and maps errors to exit codes. `anyhow` lives here.

use std::path::Path;

use anyhow::Context;

use crate::cli::{ConfigArgs, RunArgs};
use crate::config::{Overrides, Plan, RawConfig};
use crate::error::{ConfigError, RunError};
use crate::pipeline::{self, RunOptions};
use crate::shard::{Outcome, ShardSpec};

fn load(config: &Path) -> Result<(RawConfig, std::path::PathBuf), ConfigError> {
    // Only the implicit default may be missing; a file named on the command line must exist.
    let required = config != Path::new("pipeline.toml");
    let raw = RawConfig::load(config, required)?;
    let base = config
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    Ok((raw, base))
}

fn plan_of(args: &RunArgs) -> Result<Plan, ConfigError> {
    let (raw, base) = load(&args.config)?;
    let ov = Overrides {
        inputs: args.input.clone(),
        output: args.output.clone(),
        threads: args.threads,
        stages: args.stages.clone(),
        removed: args.audit,
    };
    Plan::build(raw, ov, &base)
}

/// The shard this process runs, if any.
fn shard_of(args: &RunArgs) -> Result<Option<ShardSpec>, ConfigError> {
    match args.shard.as_deref() {
        Some("auto") => ShardSpec::from_env(args.shards, &|k| std::env::var(k).ok()).map(Some),
        Some(s) => {
            let spec = ShardSpec::parse(s)?;
            if args.shards.is_some_and(|n| n != spec.count) {
                return Err(ConfigError::invalid(
                    "--shards",
                    format!("disagrees with --shard {s}"),
                ));
            }
            Ok(Some(spec))
        }
        None => Ok(None),
    }
}

fn shard_count(args: &RunArgs) -> Result<usize, ConfigError> {
    if let Some(spec) = shard_of(args)? {
        return Ok(spec.count);
    }
    match args.shards {
        Some(n) if n > 0 => Ok(n),
        _ => std::env::var("SLURM_ARRAY_TASK_COUNT")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .filter(|&n: &usize| n > 0)
            .ok_or_else(|| {
                ConfigError::invalid("--shards", "give the number of shards (--shards N)")
            }),
    }
}

/// Sharded steps share `OUT/parts/` between their tasks: the output must be a local (shared)
/// folder, not an `s3://` URL.
fn local_output(plan: &Plan, step: &str) -> Result<(), ConfigError> {
    if crate::storage::is_remote(&plan.output_dir) {
        return Err(ConfigError::invalid(
            "--output",
            format!(
                "{step} needs a local output folder that all its tasks share (OUT/parts/), not {}: \
                 run the sharded steps into a shared folder and copy the merged corpus to S3, \
                 or use `presswash run --output s3://...` without --shard",
                plan.output_dir.display()
            ),
        ));
    }
    Ok(())
}

fn say(args: &RunArgs, what: &str, outcome: Outcome, t: std::time::Instant) {
    let line = match outcome {
        Outcome::Done => format!(
            "presswash: {what}: done in {:.2} s",
            t.elapsed().as_secs_f64()
        ),
        Outcome::AlreadyDone => {
            format!("presswash: {what}: already done (done marker matches), skipped")
        }
    };
    if args.summary_line {
        println!("{line}");
    } else if !args.quiet {
        eprintln!("{line}");
    }
}

/// `presswash dedup` (sharded runs).
pub fn dedup_step(args: RunArgs) -> anyhow::Result<()> {
    let t = std::time::Instant::now();
    let count = shard_count(&args)?;
    let plan = plan_of(&args)?;
    local_output(&plan, "dedup")?;
    let outcome = crate::shard::run_dedup(plan, count).context("dedup step")?;
    say(&args, &format!("dedup of {count} shards"), outcome, t);
    Ok(())
}

/// `presswash buckets` (sharded runs, split dedup): one band range.
pub fn buckets_step(args: RunArgs) -> anyhow::Result<()> {
    let t = std::time::Instant::now();
    // Not from SLURM_ARRAY_TASK_COUNT: in this array that is the number of ranges.
    let count = args.shards.filter(|&n| n > 0).ok_or_else(|| {
        ConfigError::invalid("--shards", "give the number of shards (--shards N)")
    })?;
    let range = match args.range.as_deref() {
        Some("auto") => ShardSpec::from_env_as(
            args.ranges,
            &|k| std::env::var(k).ok(),
            "--range",
            "--ranges",
        )?,
        Some(s) => {
            let spec = ShardSpec::parse_as(s, "--range")?;
            if args.ranges.is_some_and(|n| n != spec.count) {
                return Err(ConfigError::invalid(
                    "--ranges",
                    format!("disagrees with --range {s}"),
                )
                .into());
            }
            spec
        }
        None => {
            return Err(ConfigError::invalid("--range", "give the band range (J/R or auto)").into())
        }
    };
    let plan = plan_of(&args)?;
    let outcome = crate::shard::split::run_buckets(plan, count, range).context("buckets step")?;
    say(
        &args,
        &format!("buckets {}/{} of {count} shards", range.index, range.count),
        outcome,
        t,
    );
    Ok(())
}

/// `presswash clusters` (sharded runs, split dedup): verdicts from every range's matches.
pub fn clusters_step(args: RunArgs) -> anyhow::Result<()> {
    let t = std::time::Instant::now();
    let count = args.shards.filter(|&n| n > 0).ok_or_else(|| {
        ConfigError::invalid("--shards", "give the number of shards (--shards N)")
    })?;
    let ranges = args.ranges.ok_or_else(|| {
        ConfigError::invalid("--ranges", "give the number of band ranges (--ranges R)")
    })?;
    let plan = plan_of(&args)?;
    let outcome =
        crate::shard::split::run_clusters(plan, count, ranges).context("clusters step")?;
    say(
        &args,
        &format!("clusters of {count} shards, {ranges} band ranges"),
        outcome,
        t,
    );
    Ok(())
}

/// `presswash filter` (sharded runs).
pub fn filter_step(args: RunArgs) -> anyhow::Result<()> {
    let t = std::time::Instant::now();
    let spec = shard_of(&args)?
        .ok_or_else(|| ConfigError::invalid("--shard", "give the shard (I/N or auto)"))?;
    let plan = plan_of(&args)?;
    local_output(&plan, "filter")?;
    let outcome = crate::shard::run_filter(&plan, spec).context("filter step")?;
    say(
        &args,
        &format!("filter {}/{}", spec.index, spec.count),
        outcome,
        t,
    );
    Ok(())
}

/// `presswash merge` (sharded runs).
pub fn merge(args: RunArgs) -> anyhow::Result<()> {
    let count = shard_count(&args)?;
    let plan = plan_of(&args)?;
    local_output(&plan, "merge")?;
    let out_dir = plan.output_dir.clone();
    let report = crate::shard::merge(plan, count)
        .with_context(|| format!("merge into {}", out_dir.display()))?;
    print_outcome(&args, &report, &out_dir);
    Ok(())
}

/// The one-line summary (with `--summary-line`) on stdout and the one-screen summary on stderr.
fn print_outcome(args: &RunArgs, report: &crate::report::Report, out_dir: &Path) {
    if args.summary_line {
        println!("{}", crate::state::summary_line(report, None));
    }
    if !args.quiet {
        eprint!("{}", report.summary(out_dir));
    }
}

/// `presswash run`.
pub fn run(args: RunArgs) -> anyhow::Result<()> {
    if let Some(state) = &args.state {
        if crate::storage::is_remote(state) {
            return Err(ConfigError::invalid(
                "--state",
                format!(
                    "needs a local folder (it holds a lock and is switched by an atomic rename), not {}; \
                     s3:// inputs and outputs work with a local --state",
                    state.display()
                ),
            )
            .into());
        }
        return crate::state::run_incremental(&args, plan_of(&args)?);
    }
    if let Some(spec) = shard_of(&args)? {
        let t = std::time::Instant::now();
        let plan = plan_of(&args)?;
        local_output(&plan, "run --shard")?;
        let outcome = crate::shard::run_shard(plan, spec)
            .with_context(|| format!("shard {}/{}", spec.index, spec.count))?;
        say(
            &args,
            &format!("shard {}/{}", spec.index, spec.count),
            outcome,
            t,
        );
        return Ok(());
    }
    let plan = plan_of(&args)?;
    let out_dir = plan.output_dir.clone();
    let report = pipeline::run(
        plan,
        RunOptions {
            progress: !args.quiet,
        },
    )
    .with_context(|| format!("run writing to {}", out_dir.display()))?;
    print_outcome(&args, &report, &out_dir);
    Ok(())
}

/// `presswash config`.
pub fn print_config(args: ConfigArgs) -> anyhow::Result<()> {
    let (raw, base) = load(&args.config)?;
    // Validate too, so `presswash config` doubles as a config check.
    let plan = Plan::build(raw.clone(), Overrides::default(), &base)?;
    drop(plan);
    print!("{}", raw.to_toml());
    Ok(())
}

/// Exit code for an error: 2 for what the user must fix in the command or config
/// (including a missing input), 1 for everything else (I/O failures).
pub fn exit_code(e: &anyhow::Error) -> u8 {
    for cause in e.chain() {
        if cause.downcast_ref::<ConfigError>().is_some() {
            return 2;
        }
        if let Some(r) = cause.downcast_ref::<RunError>() {
            return match r {
                RunError::Config(_) | RunError::MissingInput(_) => 2,
                RunError::Other(m) if m.starts_with(crate::state::LOCKED) => 3,
                _ => 1,
            };
        }
    }
    1
}
