//! Runs spread over many machines (Slurm job arrays, Kubernetes Indexed Jobs): the steps
//! `shard` → `dedup` → `filter` → `merge`, all on disk under `OUT/parts/`, whose merged result
//! is byte for byte the result of one `presswash run` with the same config and inputs.
//!
//! ```text
//! shard I/N  (array)  blocks of I → parse, stages before dedup, dedup summaries
//!                     → parts/shard-I-of-N/{records.bin, summaries.bin, tally.json, done.json}
//! dedup      (1 task) every shard's summaries in input order → admit / finish
//!                     → parts/dedup-of-N/{verdicts-I.bin, final.bin, report.json, done.json}
//!   or, split so that no task holds the whole index ([`split`]):
//! buckets J/R (array) the matches one range of LSH bands finds → parts/buckets-of-N/
//! clusters   (1 task) the R match lists → union-find, keep policy → parts/dedup-of-N/
//! filter I/N (array)  records + verdicts → stages after dedup → parts/shard-I-of-N/filtered/
//! merge      (1 task) concatenate the filtered parts in shard order → clean.jsonl, clean.csv,
//!                     duplicates.jsonl, rejects.jsonl, removed.jsonl, report.json
//! ```
//!
//! Why the result equals a single run by construction:
//! - Inputs are cut into blocks ([`crate::input::plan_blocks`]) from the sorted file list and
//!   sizes alone; a plain run also closes its batches at block ends. A shard gets a contiguous
//!   range of whole blocks (balanced by bytes), so its batches are the single run's batches.
//! - Documents are numbered `(block << 40) + position`: the single run's order.
//! - Dedup's sequential part sees the summaries of all shards in that global order; the
//!   `filter` step rebuilds the same batches (records keep batch ends) for the stages after
//!   dedup; keep policies that defer write their kept documents after all others, as a
//!   single run does, so `merge` appends every shard's tail after every shard's main part.
//!
//! Without dedup among the stages a shard writes its filtered part at once and `dedup` and
//! `filter` have nothing to do. Every step writes a done marker last (after its files are
//! renamed into place), holding the hashes of its inputs and config: a rerun skips a step
//! whose marker matches and redoes the others, so a killed array task is just rerun.

pub mod codec;
pub mod split;

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::mpsc::sync_channel;
use std::sync::Arc;
use std::time::Instant;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::Xxh3;

use crate::config::Plan;
use crate::document::{Document, Format};
use crate::error::{ConfigError, RunError};
use crate::input::{self, Block, InputFile, SEQ_BLOCK_SHIFT};
use crate::output::{self, AtomicFile, Chunk, Outputs};
use crate::pipeline::{self, BatchCtx, Batcher, Slot};
use crate::report::{DocCounts, Report, StageReport};
use codec::{Dec, Enc};

/// Which slice of the input this process handles: shard `index` of `count` (0-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardSpec {
    pub index: usize,
    pub count: usize,
}

impl ShardSpec {
    /// `I/N` with `0 <= I < N`.
    pub fn parse(s: &str) -> Result<ShardSpec, ConfigError> {
        ShardSpec::parse_as(s, "--shard")
    }

    /// `I/N` given with flag `flag` (`--shard`, `--range`).
    pub fn parse_as(s: &str, flag: &str) -> Result<ShardSpec, ConfigError> {
        let bad =
            || ConfigError::invalid(flag, format!("`{s}` is not I/N with 0 <= I < N (e.g. 0/4)"));
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: usize = i.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(ShardSpec { index, count })
    }

    /// The shard from the scheduler's environment: Slurm job arrays
    /// (`SLURM_ARRAY_TASK_ID` minus `SLURM_ARRAY_TASK_MIN`, of `SLURM_ARRAY_TASK_COUNT` or
    /// `shards`), else a Kubernetes Indexed Job (`JOB_COMPLETION_INDEX` of `shards`).
    pub fn from_env(
        shards: Option<usize>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<ShardSpec, ConfigError> {
        ShardSpec::from_env_as(shards, env, "--shard", "--shards")
    }

    /// [`ShardSpec::from_env`] for another array (`--range auto` with `--ranges R`).
    pub fn from_env_as(
        shards: Option<usize>,
        env: &dyn Fn(&str) -> Option<String>,
        flag: &str,
        count_flag: &str,
    ) -> Result<ShardSpec, ConfigError> {
        let num = |k: &str| -> Result<Option<usize>, ConfigError> {
            match env(k) {
                None => Ok(None),
                Some(v) if v.trim().is_empty() => Ok(None),
                Some(v) => v
                    .trim()
                    .parse()
                    .map(Some)
                    .map_err(|_| ConfigError::invalid(k, format!("`{v}` is not a number"))),
            }
        };
        let (index, count) = if let Some(id) = num("SLURM_ARRAY_TASK_ID")? {
            let min = num("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
            let count = shards.or(num("SLURM_ARRAY_TASK_COUNT")?).ok_or_else(|| {
                ConfigError::invalid(
                    count_flag,
                    format!("SLURM_ARRAY_TASK_COUNT is not set: give {count_flag} N"),
                )
            })?;
            (
                id.checked_sub(min).ok_or_else(|| {
                    ConfigError::invalid("SLURM_ARRAY_TASK_ID", "below SLURM_ARRAY_TASK_MIN")
                })?,
                count,
            )
        } else if let Some(id) = num("JOB_COMPLETION_INDEX")? {
            let count = shards.ok_or_else(|| {
                ConfigError::invalid(
                    count_flag,
                    format!("JOB_COMPLETION_INDEX needs {count_flag} N"),
                )
            })?;
            (id, count)
        } else {
            return Err(ConfigError::invalid(
                flag,
                format!("none given: pass {flag} I/N, or run as a Slurm array task or Kubernetes Indexed Job"),
            ));
        };
        if count == 0 || index >= count {
            return Err(ConfigError::invalid(
                flag,
                format!("{index} of {count} does not exist"),
            ));
        }
        Ok(ShardSpec { index, count })
    }
}

/// What a step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// Its done marker matched: nothing was redone.
    AlreadyDone,
}

pub fn parts_dir(out: &Path) -> PathBuf {
    out.join("parts")
}

pub fn shard_dir(out: &Path, s: ShardSpec) -> PathBuf {
    parts_dir(out).join(format!("shard-{}-of-{}", s.index, s.count))
}

fn dedup_dir(out: &Path, count: usize) -> PathBuf {
    parts_dir(out).join(format!("dedup-of-{count}"))
}

const DONE: &str = "done.json";
const TALLY: &str = "tally.json";
const RECORDS: &str = "records.bin";
const SUMMARIES: &str = "summaries.bin";
const FILTERED: &str = "filtered";
const MAIN_FILES: [&str; 5] = [
    output::CLEAN_JSONL,
    output::CLEAN_CSV,
    output::DUPLICATES,
    output::REJECTS,
    output::REMOVED,
];
const TAIL_FILES: [&str; 3] = [
    "tail.clean.jsonl",
    "tail.clean.csv",
    "tail.duplicates.jsonl",
];

/// Contiguous ranges of blocks, balanced by bytes: block `b` goes to the shard its middle
/// byte falls in. Depends on the file list and sizes alone.
pub fn assign_blocks(blocks: &[Block], count: usize) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::new(); count.max(1)];
    let total: u64 = blocks.iter().map(|b| b.bytes).sum();
    let mut before = 0u64;
    for (i, b) in blocks.iter().enumerate() {
        let shard = if total == 0 {
            i * count / blocks.len().max(1)
        } else {
            ((before as u128 * 2 + b.bytes as u128) * count as u128 / (total as u128 * 2)) as usize
        };
        out[shard.min(count - 1)].push(i);
        before += b.bytes;
    }
    out
}

/// The done marker of a step: it is valid for exactly these inputs and this config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Marker {
    pub step: String,
    pub shard: usize,
    pub count: usize,
    /// xxh3 of the step's inputs (files with size and mtime, block ranges; or the markers of
    /// the steps it reads).
    pub inputs: String,
    /// xxh3 of the configuration that changes the output.
    pub config: String,
    pub blocks: Vec<usize>,
    /// Files in the whole input list (for the combined report).
    pub input_files: u64,
    pub dedup: bool,
}

fn read_marker(dir: &Path) -> Option<Marker> {
    let bytes = std::fs::read(dir.join(DONE)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn write_json(dir: &Path, name: &str, v: &impl Serialize) -> Result<(), RunError> {
    let mut f = AtomicFile::create(dir, name)?;
    let mut bytes = serde_json::to_vec_pretty(v).map_err(|e| RunError::Other(e.to_string()))?;
    bytes.push(b'\n');
    f.write_all(&bytes)?;
    f.publish()
}

fn hex(h: u64) -> String {
    format!("{h:016x}")
}

/// Hash of the configuration that shapes the output (not where it goes, nor threads), and
/// of the dedup summary format (shards summarised by a presswash that computes summaries
/// otherwise must not be merged with new ones).
pub fn config_hash(plan: &Plan) -> String {
    let mut raw = plan.raw.clone();
    raw.output.dir = PathBuf::new();
    raw.input.paths = Vec::new();
    raw.pipeline.threads = 0;
    let mut bytes = raw.to_toml().into_bytes();
    bytes.extend_from_slice(crate::dedup::SUMMARY_FORMAT);
    hex(xxhash_rust::xxh3::xxh3_64(&bytes))
}

fn mtime_ns(p: &Path) -> u128 {
    std::fs::metadata(p)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

fn inputs_hash(files: &[Arc<InputFile>], blocks: &[Block], mine: &[usize]) -> String {
    let mut h = Xxh3::new();
    h.update(&(blocks.len() as u64).to_le_bytes());
    for &b in mine {
        let block = &blocks[b];
        h.update(&(b as u64).to_le_bytes());
        if let Some((s, e)) = block.range {
            h.update(&s.to_le_bytes());
            h.update(&e.to_le_bytes());
        }
        for f in &files[block.files.clone()] {
            h.update(f.rel.as_bytes());
            h.update(&[0]);
            h.update(&f.size.to_le_bytes());
            h.update(&mtime_ns(&f.path).to_le_bytes());
            if let Some(v) = &f.version {
                // An s3:// object has no mtime: its ETag tells a changed one.
                h.update(v.as_bytes());
            }
        }
    }
    hex(h.digest())
}

/// Start a step's folder afresh (a killed earlier attempt may have left temporary files).
fn fresh_dir(dir: &Path) -> Result<(), RunError> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(RunError::io(dir, e)),
    }
    std::fs::create_dir_all(dir).map_err(|e| RunError::io(dir, e))
}

fn pool(threads: usize) -> Result<rayon::ThreadPool, RunError> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| RunError::Other(format!("cannot start worker threads: {e}")))
}

/// The additive part of a [`Report`], as saved by each step and summed by `merge`.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Tally {
    pub read: u64,
    pub kept: u64,
    pub duplicates: u64,
    pub rejected: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub chars_in: u64,
    pub chars_out: u64,
    pub stages:
        std::collections::BTreeMap<String, (std::collections::BTreeMap<String, u64>, u64, f64)>,
    pub rejects: std::collections::BTreeMap<String, u64>,
    pub encodings: std::collections::BTreeMap<String, u64>,
    pub seconds_read_parse: f64,
    pub seconds_write: f64,
    pub seconds: f64,
}

impl Tally {
    pub fn of(r: &Report, seconds: f64) -> Tally {
        Tally {
            read: r.documents.read,
            kept: r.documents.kept,
            duplicates: r.documents.duplicates,
            rejected: r.documents.rejected,
            bytes_in: r.bytes_in,
            bytes_out: r.bytes_out,
            chars_in: r.chars_in,
            chars_out: r.chars_out,
            stages: r
                .stages
                .iter()
                .map(|(k, s)| (k.clone(), (s.rules.clone(), s.documents_touched, s.seconds)))
                .collect(),
            rejects: r.rejects.clone(),
            encodings: r.encodings.clone(),
            seconds_read_parse: r.seconds_read_parse,
            seconds_write: r.seconds_write,
            seconds,
        }
    }

    pub fn add_to(&self, r: &mut Report) {
        let d: &mut DocCounts = &mut r.documents;
        d.read += self.read;
        d.kept += self.kept;
        d.duplicates += self.duplicates;
        d.rejected += self.rejected;
        r.bytes_in += self.bytes_in;
        r.bytes_out += self.bytes_out;
        r.chars_in += self.chars_in;
        r.chars_out += self.chars_out;
        for (k, (rules, touched, secs)) in &self.stages {
            let st: &mut StageReport = r.stages.entry(k.clone()).or_default();
            for (rule, n) in rules {
                *st.rules.entry(rule.clone()).or_default() += n;
            }
            st.documents_touched += touched;
            st.seconds += secs;
        }
        for (k, n) in &self.rejects {
            *r.rejects.entry(k.clone()).or_default() += n;
        }
        for (k, n) in &self.encodings {
            *r.encodings.entry(k.clone()).or_default() += n;
        }
        r.seconds_read_parse += self.seconds_read_parse;
        r.seconds_write += self.seconds_write;
    }
}

fn read_tally(dir: &Path) -> Result<Tally, RunError> {
    let p = dir.join(TALLY);
    let bytes = std::fs::read(&p).map_err(|e| RunError::io(&p, e))?;
    serde_json::from_slice(&bytes).map_err(|e| RunError::Other(format!("{}: {e}", p.display())))
}

/// The output files of one filtered part: main pass and tail (deferred documents).
struct PartFiles {
    main: Vec<AtomicFile>,
    tail: Vec<AtomicFile>,
}

impl PartFiles {
    fn create(dir: &Path) -> Result<PartFiles, RunError> {
        std::fs::create_dir_all(dir).map_err(|e| RunError::io(dir, e))?;
        Ok(PartFiles {
            main: MAIN_FILES
                .iter()
                .map(|n| AtomicFile::create(dir, n))
                .collect::<Result<_, _>>()?,
            tail: TAIL_FILES
                .iter()
                .map(|n| AtomicFile::create(dir, n))
                .collect::<Result<_, _>>()?,
        })
    }

    fn write_main(&mut self, c: &Chunk) -> Result<(), RunError> {
        write_into(&mut self.main, c, true)
    }

    fn write_tail(&mut self, c: &Chunk) -> Result<(), RunError> {
        write_into(&mut self.tail, c, false)
    }

    fn publish(self) -> Result<(), RunError> {
        for f in self.main.into_iter().chain(self.tail) {
            f.publish()?;
        }
        Ok(())
    }
}

/// Append chunk `c` to `files` (clean.jsonl, clean.csv, duplicates, then with `all` the
/// rejects and removed lines).
fn write_into(files: &mut [AtomicFile], c: &Chunk, all: bool) -> Result<(), RunError> {
    files[0].write_pieces(&c.jsonl)?;
    files[1].write_pieces(&c.csv)?;
    files[2].write_all(&c.duplicates)?;
    if all {
        files[3].write_all(&c.rejects)?;
        files[4].write_all(&c.removed)?;
    }
    Ok(())
}

const TAG_REJECT: u8 = 0;
const TAG_DOC: u8 = 1;
const TAG_BATCH_END: u8 = 2;

/// Step 1: process shard `spec` of the inputs (see the module documentation).
pub fn run_shard(plan: Plan, spec: ShardSpec) -> Result<Outcome, RunError> {
    let start = Instant::now();
    let out = plan.output_dir.clone();
    if plan.dedup.is_some() && plan.raw.stages.dedup.paragraphs.enabled {
        // That pass edits documents while admitting them, which needs their text in the
        // sequential step: not supported across machines (yet).
        return Err(ConfigError::invalid(
            "stages.dedup.paragraphs.enabled",
            "cannot be used with --shard",
        )
        .into());
    }
    let files: Vec<Arc<InputFile>> = input::discover(&plan.inputs)?
        .into_iter()
        .map(Arc::new)
        .collect();
    let blocks = input::plan_blocks(&files, plan.raw.pipeline.block_bytes);
    let mine = assign_blocks(&blocks, spec.count).swap_remove(spec.index);
    let marker = Marker {
        step: "shard".into(),
        shard: spec.index,
        count: spec.count,
        inputs: inputs_hash(&files, &blocks, &mine),
        config: config_hash(&plan),
        blocks: mine.clone(),
        input_files: files.len() as u64,
        dedup: plan.dedup.is_some(),
    };
    let dir = shard_dir(&out, spec);
    if read_marker(&dir).as_ref() == Some(&marker) {
        return Ok(Outcome::AlreadyDone);
    }
    fresh_dir(&dir)?;
    let pool = pool(plan.threads)?;
    let mut report = Report::new(&plan.stage_names, pool.current_num_threads());

    let (btx, brx) = sync_channel::<Vec<input::RawItem>>(2);
    let reader = {
        let files = files.clone();
        let cfg = plan.raw.input.clone();
        let (max_docs, max_bytes) = (plan.raw.pipeline.batch_docs, plan.raw.pipeline.batch_bytes);
        let mine = mine.clone();
        let blocks = blocks.clone();
        std::thread::spawn(move || {
            let mut batcher = Batcher::new(max_docs, max_bytes);
            input::read_blocks(
                &files,
                &blocks,
                &mine,
                &cfg,
                Arc::new(AtomicU64::new(0)),
                true,
                0,
                |ev| match batcher.push(ev) {
                    Some(batch) => btx.send(batch).is_ok(),
                    None => true,
                },
            );
        })
    };

    let ctx = BatchCtx::new(&plan);
    let result = (|| -> Result<(), RunError> {
        if let Some(d) = plan.dedup.as_deref() {
            let mut records = AtomicFile::create(&dir, RECORDS)?;
            let mut sums = AtomicFile::create(&dir, SUMMARIES)?;
            for items in &brx {
                let mut slots = pipeline::front_batch(items, &ctx, &pool, &mut report);
                let t = Instant::now();
                let summaries = pipeline::summarise_batch(&mut slots, d, &pool);
                report
                    .stages
                    .entry(d.name().to_string())
                    .or_default()
                    .seconds += t.elapsed().as_secs_f64();
                // Per slot: its shard record and its summary record.
                type Encoded = Result<(Vec<u8>, Vec<u8>), RunError>;
                let encoded: Vec<Encoded> = pool.install(|| {
                    slots
                        .par_iter()
                        .zip(summaries.into_par_iter())
                        .map(|(slot, summary)| {
                            let mut rec = Vec::new();
                            let mut sum = Vec::new();
                            match (slot, &summary) {
                                (Slot::Live(doc), Some(s)) => {
                                    let bytes = d.encode_summary(s).ok_or_else(|| {
                                        RunError::Other(format!("the `{}` stage cannot be sharded: it cannot encode its summaries", d.name()))
                                    })?;
                                    rec.push(TAG_DOC);
                                    codec::put_doc(&mut Enc(&mut rec), doc);
                                    let mut e = Enc(&mut sum);
                                    e.u8(TAG_DOC);
                                    e.u64(doc.seq);
                                    e.str(&doc.id);
                                    e.bytes(&bytes);
                                }
                                (Slot::Gone(r), _) => {
                                    rec.push(TAG_REJECT);
                                    codec::put_reject(&mut Enc(&mut rec), r);
                                }
                                _ => return Err(RunError::Other("internal: document without summary".into())),
                            }
                            Ok((rec, sum))
                        })
                        .collect()
                });
                for e in encoded {
                    let (rec, sum) = e?;
                    records.write_all(&rec)?;
                    sums.write_all(&sum)?;
                }
                records.write_all(&[TAG_BATCH_END])?;
            }
            crate::storage::take_failure()?;
            records.publish()?;
            sums.publish()?;
            write_json(
                &dir,
                TALLY,
                &Tally::of(&report, start.elapsed().as_secs_f64()),
            )?;
        } else {
            let fdir = dir.join(FILTERED);
            let mut parts = PartFiles::create(&fdir)?;
            for items in &brx {
                let slots = pipeline::front_batch(items, &ctx, &pool, &mut report);
                let (chunk, _spool) = pipeline::back_batch(slots, &ctx, &pool, &mut report);
                parts.write_main(&chunk)?;
            }
            crate::storage::take_failure()?;
            parts.publish()?;
            write_json(
                &fdir,
                TALLY,
                &Tally::of(&report, start.elapsed().as_secs_f64()),
            )?;
            write_json(&dir, TALLY, &Tally::default())?;
            write_json(&fdir, DONE, &filter_marker(&marker, None))?;
        }
        Ok(())
    })();
    drop(brx);
    let _ = reader.join();
    result?;
    write_json(&dir, DONE, &marker)?;
    Ok(Outcome::Done)
}

fn filter_marker(shard: &Marker, dedup: Option<&Marker>) -> Marker {
    let mut h = Xxh3::new();
    h.update(serde_json::to_string(shard).unwrap_or_default().as_bytes());
    if let Some(d) = dedup {
        h.update(serde_json::to_string(d).unwrap_or_default().as_bytes());
    }
    Marker {
        step: "filter".into(),
        inputs: hex(h.digest()),
        ..shard.clone()
    }
}

fn shard_markers(out: &Path, count: usize) -> Result<Vec<Marker>, RunError> {
    (0..count)
        .map(|i| {
            let spec = ShardSpec { index: i, count };
            read_marker(&shard_dir(out, spec)).ok_or_else(|| {
                RunError::Other(format!(
                    "shard {i}/{count} has not finished (no {}): run it first",
                    shard_dir(out, spec).join(DONE).display()
                ))
            })
        })
        .collect()
}

/// The done marker of the dedup verdicts (`dedup` or `clusters`: the same verdicts) for
/// these shards and config.
fn dedup_marker(shards: &[Marker], count: usize, config: &str) -> Marker {
    let mut h = Xxh3::new();
    for m in shards {
        h.update(serde_json::to_string(m).unwrap_or_default().as_bytes());
    }
    Marker {
        step: "dedup".into(),
        shard: 0,
        count,
        inputs: hex(h.digest()),
        config: config.to_string(),
        blocks: Vec::new(),
        input_files: shards.first().map(|m| m.input_files).unwrap_or(0),
        dedup: true,
    }
}

/// After the last verdict: the final verdicts of deferred documents and the report.
fn write_finals(
    dir: &Path,
    d: &mut dyn crate::dedup::BarrierStage,
    ranges: Option<usize>,
) -> Result<(), RunError> {
    let mut fin = AtomicFile::create(dir, "final.bin")?;
    let mut buf = Vec::new();
    for (seq, a) in d.finish() {
        buf.clear();
        let mut e = Enc(&mut buf);
        e.u64(seq);
        codec::put_admission(&mut e, &a);
        fin.write_all(&buf)?;
    }
    fin.publish()?;
    let mut report = d.report();
    if let (Some(r), Some(o)) = (ranges, report.as_object_mut()) {
        // Split form: a candidate found by several band ranges is counted in each.
        o.insert("band_ranges".into(), serde_json::json!(r));
    }
    write_json(dir, "report.json", &report)
}

/// Step 2: admit every shard's summaries in input order; write the verdicts.
pub fn run_dedup(mut plan: Plan, count: usize) -> Result<Outcome, RunError> {
    let d = plan.dedup.take();
    dedup_step(&plan, d, count)
}

fn dedup_step(
    plan: &Plan,
    d: Option<Box<dyn crate::dedup::BarrierStage>>,
    count: usize,
) -> Result<Outcome, RunError> {
    let out = plan.output_dir.clone();
    let shards = shard_markers(&out, count)?;
    let config = config_hash(plan);
    if let Some(m) = shards.iter().find(|m| m.config != config) {
        return Err(RunError::Other(format!(
            "shard {}/{count} was made with another configuration: rerun it",
            m.shard
        )));
    }
    let Some(mut d) = d else {
        return Ok(Outcome::AlreadyDone);
    };
    let marker = dedup_marker(&shards, count, &config);
    let dir = dedup_dir(&out, count);
    if read_marker(&dir).as_ref() == Some(&marker) {
        return Ok(Outcome::AlreadyDone);
    }
    fresh_dir(&dir)?;
    for i in 0..count {
        let src = shard_dir(&out, ShardSpec { index: i, count }).join(SUMMARIES);
        let f = File::open(&src).map_err(|e| RunError::io(&src, e))?;
        let mut dec = Dec {
            r: BufReader::with_capacity(1 << 20, f),
        };
        let mut verdicts = AtomicFile::create(&dir, &format!("verdicts-{i}.bin"))?;
        let mut buf = Vec::new();
        let damaged = |e: std::io::Error| RunError::io(&src, e);
        while let Some(tag) = dec.tag().map_err(damaged)? {
            if tag != TAG_DOC {
                return Err(RunError::Other(format!(
                    "{}: damaged record",
                    src.display()
                )));
            }
            let seq = dec.u64().map_err(damaged)?;
            let id = dec.string().map_err(damaged)?;
            let bytes = dec.bytes().map_err(damaged)?;
            let summary = d.decode_summary(&bytes).ok_or_else(|| {
                RunError::Other(format!("{}: a summary cannot be decoded", src.display()))
            })?;
            // The barrier decides on the summary; the document itself stays on its shard.
            let mut stub = Document::new(seq, id, String::new(), Format::Text, String::new());
            let verdict = d.admit(&mut stub, summary);
            buf.clear();
            codec::put_admission(&mut Enc(&mut buf), &verdict);
            verdicts.write_all(&buf)?;
        }
        verdicts.publish()?;
    }
    write_finals(&dir, d.as_mut(), None)?;
    write_json(&dir, DONE, &marker)?;
    Ok(Outcome::Done)
}

/// Step 3: apply the verdicts to shard `spec`'s documents, run the stages after dedup and
/// write its filtered part.
pub fn run_filter(plan: &Plan, spec: ShardSpec) -> Result<Outcome, RunError> {
    let start = Instant::now();
    let out = &plan.output_dir;
    let sdir = shard_dir(out, spec);
    let shard = read_marker(&sdir).ok_or_else(|| {
        RunError::Other(format!(
            "shard {}/{} has not finished: run it first",
            spec.index, spec.count
        ))
    })?;
    let fdir = sdir.join(FILTERED);
    if !shard.dedup {
        return Ok(Outcome::AlreadyDone);
    }
    let ddir = dedup_dir(out, spec.count);
    let dmarker = read_marker(&ddir)
        .ok_or_else(|| RunError::Other("the dedup step has not finished: run it first".into()))?;
    let marker = filter_marker(&shard, Some(&dmarker));
    if read_marker(&fdir).as_ref() == Some(&marker) {
        return Ok(Outcome::AlreadyDone);
    }
    fresh_dir(&fdir)?;
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |e: std::io::Error| RunError::io(&p, e)
    };
    // Final verdicts of this shard's deferred documents.
    let mine: std::collections::HashSet<u64> = shard.blocks.iter().map(|&b| b as u64).collect();
    let mut finals = pipeline::Verdicts::default();
    {
        let p = ddir.join("final.bin");
        let f = File::open(&p).map_err(io(&p))?;
        let mut dec = Dec {
            r: BufReader::with_capacity(1 << 20, f),
        };
        loop {
            let mut b = [0u8; 8];
            match dec.r.read(&mut b[..1]).map_err(io(&p))? {
                0 => break,
                _ => dec.r.read_exact(&mut b[1..]).map_err(io(&p))?,
            }
            let seq = u64::from_le_bytes(b);
            let a = codec::get_admission(&mut dec).map_err(io(&p))?;
            if mine.contains(&(seq >> SEQ_BLOCK_SHIFT)) {
                finals.insert(seq, a);
            }
        }
    }
    let pool = pool(plan.threads)?;
    let mut report = Report::new(&plan.stage_names, pool.current_num_threads());
    let mut ctx = BatchCtx::new(plan);
    ctx.has_dedup = true;
    let rp = sdir.join(RECORDS);
    let vp = ddir.join(format!("verdicts-{}.bin", spec.index));
    let mut recs = Dec {
        r: BufReader::with_capacity(1 << 20, File::open(&rp).map_err(io(&rp))?),
    };
    let mut verdicts = Dec {
        r: BufReader::with_capacity(1 << 16, File::open(&vp).map_err(io(&vp))?),
    };
    let mut parts = PartFiles::create(&fdir)?;
    let mut spool = std::io::BufWriter::with_capacity(
        1 << 20,
        tempfile::tempfile_in(&fdir).map_err(io(&fdir))?,
    );
    let mut slots: Vec<Slot> = Vec::new();
    while let Some(tag) = recs.tag().map_err(io(&rp))? {
        match tag {
            TAG_REJECT => slots.push(Slot::Gone(codec::get_reject(&mut recs).map_err(io(&rp))?)),
            TAG_DOC => {
                let doc = codec::get_doc(&mut recs).map_err(io(&rp))?;
                let verdict = codec::get_admission(&mut verdicts).map_err(io(&vp))?;
                let mut slot = Slot::Live(doc);
                pipeline::apply_admission(&mut slot, verdict);
                slots.push(slot);
            }
            TAG_BATCH_END => {
                let (chunk, spooled) =
                    pipeline::back_batch(std::mem::take(&mut slots), &ctx, &pool, &mut report);
                parts.write_main(&chunk)?;
                spooled.write_to(&mut spool).map_err(io(&fdir))?;
            }
            _ => return Err(RunError::Other(format!("{}: damaged record", rp.display()))),
        }
    }
    if !slots.is_empty() {
        return Err(RunError::Other(format!(
            "{}: truncated (no batch end)",
            rp.display()
        )));
    }
    let mut spool = spool
        .into_inner()
        .map_err(|e| RunError::io(&fdir, e.into_error()))?;
    spool.seek(SeekFrom::Start(0)).map_err(io(&fdir))?;
    pipeline::resolve_spool(
        &finals,
        spool,
        &pool,
        &mut |c| parts.write_tail(&c),
        &mut report,
    )?;
    parts.publish()?;
    write_json(
        &fdir,
        TALLY,
        &Tally::of(&report, start.elapsed().as_secs_f64()),
    )?;
    write_json(&fdir, DONE, &marker)?;
    Ok(Outcome::Done)
}

/// Step 4: the final corpus files and the combined report from every shard's part. Runs
/// the dedup and filter steps first if they have not run (one machine can do it all).
pub fn merge(mut plan: Plan, count: usize) -> Result<Report, RunError> {
    let start = Instant::now();
    let dedup = plan.dedup.take();
    let out = plan.output_dir.clone();
    let shards = shard_markers(&out, count)?;
    let config = config_hash(&plan);
    if let Some(m) = shards.iter().find(|m| m.config != config) {
        return Err(RunError::Other(format!(
            "shard {}/{count} was made with another configuration: rerun it",
            m.shard
        )));
    }
    let has_dedup = dedup.is_some();
    if shards.iter().any(|m| m.dedup != has_dedup) {
        return Err(RunError::Other(
            "the shards were made with another list of stages: rerun them".into(),
        ));
    }
    let mut dedup_report = serde_json::Value::Null;
    if has_dedup {
        // Each step skips itself when its done marker matches.
        dedup_step(&plan, dedup, count)?;
        for i in 0..count {
            run_filter(&plan, ShardSpec { index: i, count })?;
        }
        let p = dedup_dir(&out, count).join("report.json");
        if let Ok(bytes) = std::fs::read(&p) {
            dedup_report = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        }
    }
    let mut report = Report::new(&plan.stage_names, plan.threads);
    report.input_files = shards.first().map(|m| m.input_files).unwrap_or(0);
    let mut outputs = Outputs::create(&out, &plan.raw.output)?;
    let mut buf = vec![0u8; 1 << 20];
    for tail in [false, true] {
        for i in 0..count {
            let fdir = shard_dir(&out, ShardSpec { index: i, count }).join(FILTERED);
            let names: &[&str] = if tail { &TAIL_FILES } else { &MAIN_FILES };
            for (k, name) in names.iter().enumerate() {
                let target = match k {
                    0 => outputs.jsonl.as_mut(),
                    1 => outputs.csv.as_mut(),
                    2 => Some(&mut outputs.duplicates),
                    3 => Some(&mut outputs.rejects),
                    _ => outputs.removed.as_mut(),
                };
                let Some(target) = target else { continue };
                let p = fdir.join(name);
                let mut f = File::open(&p).map_err(|e| RunError::io(&p, e))?;
                loop {
                    let n = f.read(&mut buf).map_err(|e| RunError::io(&p, e))?;
                    if n == 0 {
                        break;
                    }
                    target.write_all(&buf[..n])?;
                }
            }
        }
    }
    for i in 0..count {
        let sdir = shard_dir(&out, ShardSpec { index: i, count });
        let front = read_tally(&sdir)?;
        let back = read_tally(&sdir.join(FILTERED))?;
        let (kept, dups, rej) = (
            back.kept + front.kept,
            back.duplicates + front.duplicates,
            back.rejected + front.rejected,
        );
        let read = front.read + back.read;
        if read != kept + dups + rej {
            return Err(RunError::Accounting(format!(
                "shard {i}/{count}: read {read} != kept {kept} + duplicates {dups} + rejected {rej}"
            )));
        }
        front.add_to(&mut report);
        back.add_to(&mut report);
    }
    if let Some(o) = dedup_report.as_object_mut() {
        // Repeated paragraphs are removed while summarising, on the shards: their count is
        // in the shards' stage tallies, not in the dedup step's barrier.
        if o.contains_key("repeated_paragraphs_removed") {
            let n = report
                .stages
                .get("dedup")
                .and_then(|st| st.rules.get("repeated-paragraph"))
                .copied()
                .unwrap_or(0);
            o.insert("repeated_paragraphs_removed".into(), serde_json::json!(n));
        }
    }
    report.dedup = dedup_report;
    report.seconds_total = start.elapsed().as_secs_f64();
    if !report.check_accounting() {
        let d = &report.documents;
        return Err(RunError::Accounting(format!(
            "read {} != kept {} + duplicates {} + rejected {}",
            d.read, d.kept, d.duplicates, d.rejected
        )));
    }
    report.complete = true;
    outputs.publish(&report.to_json())?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_spec_parses_and_validates() {
        assert_eq!(
            ShardSpec::parse("2/4").unwrap(),
            ShardSpec { index: 2, count: 4 }
        );
        for bad in ["4/4", "1", "a/2", "0/0", "-1/3"] {
            assert!(ShardSpec::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn shard_from_slurm_and_kubernetes_environment() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(a, _)| *a == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        let slurm = env(&[
            ("SLURM_ARRAY_TASK_ID", "5"),
            ("SLURM_ARRAY_TASK_MIN", "4"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ]);
        assert_eq!(
            ShardSpec::from_env(None, &slurm).unwrap(),
            ShardSpec { index: 1, count: 4 }
        );
        let k8s = env(&[("JOB_COMPLETION_INDEX", "2")]);
        assert_eq!(
            ShardSpec::from_env(Some(3), &k8s).unwrap(),
            ShardSpec { index: 2, count: 3 }
        );
        assert!(ShardSpec::from_env(None, &k8s).is_err());
        assert!(ShardSpec::from_env(Some(2), &k8s).is_err());
        assert!(ShardSpec::from_env(Some(2), &env(&[])).is_err());
    }

    fn block(bytes: u64) -> Block {
        Block {
            files: 0..1,
            range: None,
            bytes,
        }
    }

    #[test]
    fn blocks_are_assigned_in_contiguous_balanced_ranges() {
        let blocks: Vec<Block> = (0..8).map(|_| block(10)).collect();
        let a = assign_blocks(&blocks, 4);
        assert_eq!(a, vec![vec![0, 1], vec![2, 3], vec![4, 5], vec![6, 7]]);
        let uneven = vec![block(100), block(1), block(1), block(1), block(100)];
        let a = assign_blocks(&uneven, 2);
        assert_eq!(a.concat(), vec![0, 1, 2, 3, 4]);
        assert_eq!(a, vec![vec![0, 1], vec![2, 3, 4]]);
        // More shards than blocks: some shards are empty, none gets a block twice.
        let a = assign_blocks(&blocks[..2], 5);
        assert_eq!(a.concat(), vec![0, 1]);
    }
}
