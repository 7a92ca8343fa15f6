//! Incremental runs for cron (`presswash run --state DIR`): DIR remembers the input files
//! already processed (path, size, mtime, content hash) and the dedup index of every document
//! kept so far. A run processes only new or changed files and dedups their documents
//! against everything kept before, so yesterday's stories do not come back today.
//!
//! Layout of DIR: `CURRENT` names the live generation folder `gen-<n>/` holding
//! `state.json` and `index.bin`. A run writes the next generation beside it and switches
//! `CURRENT` (an atomic rename) only after the run's outputs are published: a crash at any
//! point leaves the previous state in force. `lock` (created with O_EXCL, holding the pid)
//! keeps two runs from overlapping; a lock whose process is gone is taken over.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::cli::RunArgs;
use crate::config::Plan;
use crate::error::RunError;
use crate::input::{self, InputFile};
use crate::pipeline::{self, RunExt, RunOptions};
use crate::report::Report;

/// Start of the message of the error "another run holds the lock" (exit code 3).
pub const LOCKED: &str = "another run holds the lock";

/// One input file as seen by an earlier run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    pub size: u64,
    pub mtime_ns: u128,
    /// xxh3 of the content.
    pub hash: String,
}

/// `state.json`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct State {
    pub files: BTreeMap<String, Seen>,
    /// First document number of the next run (numbers never repeat across runs).
    pub next_seq: u64,
    pub runs: u64,
    /// Documents kept over all runs.
    pub kept_total: u64,
}

/// Holds `DIR/lock` while alive.
pub struct Lock {
    path: PathBuf,
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn alive(pid: u32) -> bool {
    pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists()
}

/// Take `dir/lock`, or fail with [`LOCKED`] if a live process holds it.
pub fn lock(dir: &Path) -> Result<Lock, RunError> {
    std::fs::create_dir_all(dir).map_err(|e| RunError::io(dir, e))?;
    let path = dir.join("lock");
    for _ in 0..2 {
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut f) => {
                let _ = writeln!(f, "{}", std::process::id());
                return Ok(Lock { path });
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let holder = std::fs::read_to_string(&path).unwrap_or_default();
                match holder.trim().parse::<u32>() {
                    Ok(pid) if alive(pid) => {
                        return Err(RunError::Other(format!(
                            "{LOCKED} {} (pid {pid})",
                            path.display()
                        )));
                    }
                    Ok(_) => {
                        // The holder died without cleaning up: take the lock over.
                        let _ = std::fs::remove_file(&path);
                    }
                    // Being written this very moment, or not ours: do not touch it.
                    Err(_) => {
                        return Err(RunError::Other(format!(
                            "{LOCKED} {} (unreadable)",
                            path.display()
                        )))
                    }
                }
            }
            Err(e) => return Err(RunError::io(&path, e)),
        }
    }
    Err(RunError::Other(format!("{LOCKED} {}", path.display())))
}

fn current_gen(dir: &Path) -> Option<String> {
    let s = std::fs::read_to_string(dir.join("CURRENT")).ok()?;
    let s = s.trim();
    (!s.is_empty() && !s.contains('/')).then(|| s.to_string())
}

/// The state in force (empty for a first run).
pub fn load(dir: &Path) -> Result<(State, Option<PathBuf>), RunError> {
    let Some(gen) = current_gen(dir) else {
        return Ok((State::default(), None));
    };
    let gdir = dir.join(&gen);
    let p = gdir.join("state.json");
    let bytes = std::fs::read(&p).map_err(|e| RunError::io(&p, e))?;
    let st = serde_json::from_slice(&bytes)
        .map_err(|e| RunError::Other(format!("{}: {e}", p.display())))?;
    Ok((st, Some(gdir)))
}

fn mtime_ns(m: &std::fs::Metadata) -> u128 {
    m.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

fn hash_file(p: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(p)?;
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(format!("{:016x}", h.digest()))
}

fn key(f: &InputFile) -> String {
    std::fs::canonicalize(&f.path)
        .unwrap_or_else(|_| f.path.clone())
        .to_string_lossy()
        .into_owned()
}

/// What an incremental run did.
#[derive(Debug, Clone)]
pub struct Incremental {
    pub report: Report,
    pub new_files: u64,
    pub skipped_files: u64,
}

/// Run `plan` over the inputs not seen before; update the state in `dir` after publishing.
pub fn run_with_state(plan: Plan, dir: &Path, opts: RunOptions) -> Result<Incremental, RunError> {
    let _lock = lock(dir)?;
    let (mut state, gdir) = load(dir)?;
    let mut plan = plan;
    if let Some(d) = plan.dedup.as_ref() {
        // Fail before doing any work if the index could not be kept afterwards.
        d.save_index(&mut std::io::sink()).map_err(|e| {
            RunError::Other(format!(
                "--state needs a dedup stage that can save its index: {e}"
            ))
        })?;
    }
    if let (Some(d), Some(g)) = (plan.dedup.as_mut(), gdir.as_ref()) {
        let p = g.join("index.bin");
        if p.exists() {
            let f = std::fs::File::open(&p).map_err(|e| RunError::io(&p, e))?;
            d.load_index(&mut std::io::BufReader::with_capacity(1 << 20, f))
                .map_err(|e| RunError::io(&p, e))?;
        }
    }
    let all = input::discover(&plan.inputs)?;
    let mut todo = Vec::new();
    let mut seen_now: Vec<(String, Seen)> = Vec::new();
    let mut skipped = 0u64;
    for f in all {
        // an entry that could not be listed is rejected in every run until it can be
        if f.error.is_some() {
            todo.push(f);
            continue;
        }
        let k = key(&f);
        let old = state.files.get(&k);
        // An s3:// object is known by its size and ETag (no mtime, and no download to hash it).
        let (size, mtime, hash) = if let Some(etag) = &f.version {
            (f.size, 0, format!("etag:{etag}"))
        } else {
            let meta = std::fs::metadata(&f.path).map_err(|e| RunError::io(&f.path, e))?;
            let (size, mtime) = (meta.len(), mtime_ns(&meta));
            if old.is_some_and(|o| o.size == size && o.mtime_ns == mtime) {
                skipped += 1;
                continue;
            }
            (
                size,
                mtime,
                hash_file(&f.path).map_err(|e| RunError::io(&f.path, e))?,
            )
        };
        if old.is_some_and(|o| o.size == size && o.hash == hash) {
            // Touched but not changed.
            skipped += 1;
            seen_now.push((
                k,
                Seen {
                    size,
                    mtime_ns: mtime,
                    hash,
                },
            ));
            continue;
        }
        seen_now.push((
            k,
            Seen {
                size,
                mtime_ns: mtime,
                hash,
            },
        ));
        todo.push(f);
    }
    let new_files = todo.len() as u64;
    let ext = RunExt {
        files: Some(todo),
        first_seq: state.next_seq,
        input_files_seen: Some(new_files),
    };
    let (report, dedup) = pipeline::run_ext(plan, opts, ext)?;

    // The outputs are published: now write the next generation and switch to it.
    let next = format!("gen-{}", state.runs + 1);
    let ndir = dir.join(&next);
    let _ = std::fs::remove_dir_all(&ndir);
    std::fs::create_dir_all(&ndir).map_err(|e| RunError::io(&ndir, e))?;
    if let Some(d) = dedup.as_ref() {
        let p = ndir.join("index.bin");
        let f = std::fs::File::create(&p).map_err(|e| RunError::io(&p, e))?;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
        d.save_index(&mut w).map_err(|e| RunError::io(&p, e))?;
        let f = w
            .into_inner()
            .map_err(|e| RunError::io(&p, e.into_error()))?;
        f.sync_all().map_err(|e| RunError::io(&p, e))?;
    }
    for (k, s) in seen_now {
        state.files.insert(k, s);
    }
    state.next_seq += report.documents.read;
    state.runs += 1;
    state.kept_total += report.documents.kept;
    let p = ndir.join("state.json");
    let mut bytes =
        serde_json::to_vec_pretty(&state).map_err(|e| RunError::Other(e.to_string()))?;
    bytes.push(b'\n');
    write_synced(&p, &bytes)?;
    let tmp = dir.join(".CURRENT.tmp");
    write_synced(&tmp, format!("{next}\n").as_bytes())?;
    std::fs::rename(&tmp, dir.join("CURRENT")).map_err(|e| RunError::io(dir.join("CURRENT"), e))?;
    if let Some(old) = gdir {
        let _ = std::fs::remove_dir_all(old);
    }
    Ok(Incremental {
        report,
        new_files,
        skipped_files: skipped,
    })
}

fn write_synced(p: &Path, bytes: &[u8]) -> Result<(), RunError> {
    let mut f = std::fs::File::create(p).map_err(|e| RunError::io(p, e))?;
    f.write_all(bytes).map_err(|e| RunError::io(p, e))?;
    f.sync_all().map_err(|e| RunError::io(p, e))
}

/// One line for cron mail.
pub fn summary_line(r: &Report, files: Option<(u64, u64)>) -> String {
    let d = &r.documents;
    let files = match files {
        Some((new, skipped)) => format!("{new} new files ({skipped} already seen)"),
        None => format!("{} files", r.input_files),
    };
    format!(
        "presswash: {}: {files}, {} read, {} kept, {} duplicates, {} rejected, {:.1} MB in {:.1} s",
        if r.complete && r.accounting_ok {
            "ok"
        } else {
            "INCOMPLETE"
        },
        d.read,
        d.kept,
        d.duplicates,
        d.rejected,
        r.bytes_in as f64 / 1e6,
        r.seconds_total
    )
}

/// `presswash run --state DIR`.
pub fn run_incremental(args: &RunArgs, plan: Plan) -> anyhow::Result<()> {
    use anyhow::Context;
    let Some(dir) = args.state.as_ref() else {
        return Ok(());
    };
    let t = Instant::now();
    let out_dir = plan.output_dir.clone();
    let inc = run_with_state(
        plan,
        dir,
        RunOptions {
            progress: !args.quiet && !args.summary_line,
        },
    )
    .with_context(|| format!("incremental run with state {}", dir.display()))?;
    let _ = t;
    if args.summary_line {
        println!(
            "{}",
            summary_line(&inc.report, Some((inc.new_files, inc.skipped_files)))
        );
    }
    if !args.quiet {
        eprint!("{}", inc.report.summary(&out_dir));
        eprintln!(
            "  state: {} ({} new files, {} already seen)",
            dir.display(),
            inc.new_files,
            inc.skipped_files
        );
    }
    Ok(())
}
