//! The edge between the command line and the library: builds the plan from the config and
//! flags, runs it, prints the summary, and maps errors to exit codes. `anyhow` lives here.

use std::path::Path;

use anyhow::Context;

use crate::cli::{ConfigArgs, RunArgs};
use crate::config::{Overrides, Plan, RawConfig};
use crate::error::{ConfigError, RunError};
use crate::pipeline::{self, RunOptions};

fn load(config: &Path) -> Result<(RawConfig, std::path::PathBuf), ConfigError> {
    // Only the implicit default may be missing; a file named on the command line must exist.
    let required = config != Path::new("pipeline.toml");
    let raw = RawConfig::load(config, required)?;
    let base = config.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf();
    Ok((raw, base))
}

/// `presswash run`.
pub fn run(args: RunArgs) -> anyhow::Result<()> {
    let (raw, base) = load(&args.config)?;
    let ov = Overrides {
        inputs: args.input.clone(),
        output: args.output.clone(),
        threads: args.threads,
        stages: args.stages.clone(),
        removed: args.audit,
    };
    let plan = Plan::build(raw, ov, &base)?;
    let out_dir = plan.output_dir.clone();
    let report = pipeline::run(plan, RunOptions { progress: !args.quiet })
        .with_context(|| format!("run writing to {}", out_dir.display()))?;
    if !args.quiet {
        eprint!("{}", report.summary(&out_dir));
    }
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
                _ => 1,
            };
        }
    }
    1
}
