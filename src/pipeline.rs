//! The driver: streams the input through the stages in batches and hands serialised batches
//! to the writer, so that memory holds a few batches and the dedup index, never the corpus.
//!
//! ```text
//! reader thread ──batches──▶ main thread (rayon: parse, stages, dedup summaries;
//!                            sequential: dedup admit) ──chunks──▶ writer thread
//! ```
//! Batches are cut from the input alone (`pipeline.batch_docs` / `batch_bytes`) and every
//! sequential step runs in input order, so output is byte-identical for any thread count.

use std::io::{Seek, SeekFrom};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::sync_channel;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::config::Plan;
use crate::dedup::{Admission, BarrierStage};
use crate::document::{Document, Reject};
use crate::error::RunError;
use crate::input::{self, InputFile, RawItem, RejectRecord};
use crate::output::{self, Chunk, Outputs, Pieces};
use crate::report::Report;
use crate::shard::codec::{self, Dec, Enc};
use crate::stages::DocStage;

/// How the run talks to the terminal.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunOptions {
    /// Show a progress bar (only honoured on a terminal).
    pub progress: bool,
}

/// Where a document stands after the stages.
pub(crate) enum Slot {
    Live(Document),
    Dup(Document, String, f64),
    Deferred(Document),
    /// A certain duplicate whose keeper is named at the end ([`Admission::Outranked`]).
    Outranked(Document),
    Gone(RejectRecord),
}

impl Slot {
    pub(crate) fn live_mut(&mut self) -> Option<&mut Document> {
        match self {
            Slot::Live(d) => Some(d),
            _ => None,
        }
    }
}

/// Run the whole pipeline described by `plan`.
pub fn run(plan: Plan, opts: RunOptions) -> Result<Report, RunError> {
    run_ext(plan, opts, RunExt::default()).map(|(r, _)| r)
}

/// Hooks for incremental runs (see [`crate::state`]).
#[derive(Default)]
pub struct RunExt {
    /// Read only these files (already discovered) instead of discovering `plan.inputs`.
    pub files: Option<Vec<InputFile>>,
    /// Sequence number of the first document (documents of earlier runs keep theirs).
    pub first_seq: u64,
    /// Extra lines for `report.json` (e.g. files skipped as already seen).
    pub input_files_seen: Option<u64>,
}

/// [`run`] with hooks; also hands back the barrier stage (with its index) after publishing.
pub fn run_ext(
    plan: Plan,
    opts: RunOptions,
    ext: RunExt,
) -> Result<(Report, Option<Box<dyn BarrierStage>>), RunError> {
    let start = Instant::now();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(plan.threads)
        .build()
        .map_err(|e| RunError::Other(format!("cannot start worker threads: {e}")))?;
    let threads = pool.current_num_threads();
    let found = match ext.files {
        Some(f) => f,
        None => input::discover(&plan.inputs)?,
    };
    let files: Vec<Arc<InputFile>> = found.into_iter().map(Arc::new).collect();
    let blocks = input::plan_blocks(&files, plan.raw.pipeline.block_bytes);
    let total_bytes: u64 = files.iter().map(|f| f.size).sum();
    let mut report = Report::new(&plan.stage_names, threads);
    report.input_files = files.len() as u64;

    let mut outputs = Outputs::create(&plan.output_dir, &plan.raw.output)?;
    let streaming = plan.dedup.as_ref().map(|d| d.streaming()).unwrap_or(true);
    let spool_file = if streaming {
        None
    } else {
        Some(tempfile::tempfile_in(outputs.dir()).map_err(|e| RunError::io(outputs.dir(), e))?)
    };

    // Reader thread: I/O and batching only.
    let counter = Arc::new(AtomicU64::new(0));
    let (btx, brx) = sync_channel::<Vec<RawItem>>(2);
    let reader = {
        let files = files.clone();
        let cfg = plan.raw.input.clone();
        let counter = counter.clone();
        let (max_docs, max_bytes) = (plan.raw.pipeline.batch_docs, plan.raw.pipeline.batch_bytes);
        let which: Vec<usize> = (0..blocks.len()).collect();
        let first_seq = ext.first_seq;
        std::thread::spawn(move || {
            let mut batcher = Batcher::new(max_docs, max_bytes);
            input::read_blocks(
                &files,
                &blocks,
                &which,
                &cfg,
                counter,
                false,
                first_seq,
                |ev| match batcher.push(ev) {
                    Some(batch) => btx.send(batch).is_ok(),
                    None => true,
                },
            );
        })
    };

    // Writer threads: append serialised chunks in order. `clean.csv` has a thread of its own
    // (it is as big as `clean.jsonl`), so the two big files are copied and throttled by the
    // kernel side by side instead of one after the other.
    let (wtx, wrx) = sync_channel::<ToWriter>(3);
    let writer = std::thread::spawn(move || -> Result<(Outputs, f64), RunError> {
        // Deferred documents' records go around the page cache like the corpus files (at 1 GB
        // the spool is 600 MB the cache has no use for), from a thread of their own as
        // `clean.csv` does: a direct write waits for the disk.
        let mut spool = spool_file.map(|f| {
            pieces_thread(output::BlockWriter::new(f), |w, p: &Pieces| {
                p.iter().try_for_each(|b| w.write_all(b))
            })
        });
        let mut secs = 0.0;
        let csv_writer = outputs
            .csv
            .take()
            .map(|file| pieces_thread(file, |f, p: &Pieces| f.write_pieces(p)));
        let mut result = Ok(());
        for msg in wrx {
            let (mut chunk, spooled) = match msg {
                ToWriter::Batch(chunk, spooled) => (chunk, spooled),
                ToWriter::TakeSpool(back) => {
                    let finished = spool.take().map(|(stx, handle)| {
                        drop(stx);
                        match handle.join() {
                            Ok((w, Ok(()))) => w.finish(),
                            Ok((_, Err(e))) => Err(e),
                            Err(_) => Err(std::io::Error::other("spool writer thread panicked")),
                        }
                    });
                    let file = match finished {
                        Some(Ok(f)) => Some(f),
                        Some(Err(e)) => {
                            result = Err(RunError::io("spool", e));
                            let _ = back.send(None);
                            break;
                        }
                        None => None,
                    };
                    let _ = back.send(file);
                    continue;
                }
            };
            let t = Instant::now();
            if let Some((ctx, _)) = &csv_writer {
                if ctx.send(std::mem::take(&mut chunk.csv)).is_err() {
                    result = Err(RunError::Other("csv writer stopped early".into()));
                    break;
                }
            }
            if let Err(e) = outputs.write(&chunk) {
                result = Err(e);
                break;
            }
            if let Some((stx, _)) = &spool {
                if stx.send(spooled).is_err() {
                    // the spool's thread stopped on an error: that error is the run's
                    let stopped = spool.take().map(|(_, h)| h.join());
                    result = Err(match stopped {
                        Some(Ok((_, Err(e)))) => RunError::io("spool", e),
                        _ => RunError::Other("spool writer stopped early".into()),
                    });
                    break;
                }
            }
            secs += t.elapsed().as_secs_f64();
        }
        if let Some((ctx, handle)) = csv_writer {
            drop(ctx);
            let (file, r) = handle
                .join()
                .map_err(|_| RunError::Other("csv writer thread panicked".into()))?;
            outputs.csv = Some(file);
            result = result.and(r);
        }
        result?;
        Ok((outputs, secs))
    });

    let bar = progress_bar(opts.progress, total_bytes);
    let mut dedup = plan.dedup;
    let ctx = BatchCtx {
        stages: &plan.doc_stages,
        dedup_position: plan.dedup_position.min(plan.doc_stages.len()),
        has_dedup: dedup.is_some(),
        input: &plan.raw.input,
        audit: plan.raw.output.removed,
        min_chars: plan.raw.pipeline.min_chars,
    };
    let _ = BatchCtx::new;
    // Two steps overlap: this thread parses batch N+1 and runs its stages before dedup while
    // the back thread takes batch N through dedup (its sequential admit included), the
    // stages after it and serialisation. Both hand their parallel work to the same rayon
    // pool, so a core left idle by the sequential admit goes to the next batch. Batches still
    // pass admit one by one in input order, so the output does not depend on the threads.
    let (ftx, frx) = sync_channel::<Vec<Slot>>(1);
    let (back_report, send_failed) = std::thread::scope(|scope| {
        let back = scope.spawn(|| {
            let mut back_report = Report::default();
            for slots in frx {
                let chunk =
                    finish_batch(slots, &ctx, &pool, &mut back_report, dedup.as_deref_mut());
                if wtx.send(ToWriter::Batch(chunk.0, chunk.1)).is_err() {
                    return (back_report, true);
                }
            }
            (back_report, false)
        });
        for items in brx {
            let slots = front_batch(items, &ctx, &pool, &mut report);
            if let Some(b) = &bar {
                b.set_position(counter.load(Ordering::Relaxed));
            }
            if ftx.send(slots).is_err() {
                break;
            }
        }
        drop(ftx);
        back.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
    });
    report.add(&back_report);
    // A keep policy that needed the whole corpus: the writer hands the spool back once every
    // batch before is in it, and the resolved documents go to the same writer threads, so
    // reading and serialising the next batch overlaps writing this one.
    let t_resolve = Instant::now();
    let mut resolved = Ok(());
    if let (Some(d), false) = (dedup.as_mut(), streaming) {
        let (stx, srx) = sync_channel(1);
        if wtx.send(ToWriter::TakeSpool(stx)).is_ok() {
            if let Ok(Some(spool)) = srx.recv() {
                let verdicts: Verdicts = d.finish().into_iter().collect();
                let mut send = |c: Chunk| {
                    wtx.send(ToWriter::Batch(c, Pieces::default()))
                        .map_err(|_| RunError::Other("writer stopped early".into()))
                };
                resolved = resolve_spool(&verdicts, spool, &pool, &mut send, &mut report);
            }
        }
    }
    drop(wtx);
    let written = writer
        .join()
        .map_err(|_| RunError::Other("writer thread panicked".into()))?;
    let _ = reader.join();
    let (outputs, write_secs) = written?;
    resolved?;
    if send_failed {
        return Err(RunError::Other("writer stopped early".into()));
    }
    if !streaming {
        report.seconds_resolve = t_resolve.elapsed().as_secs_f64();
    }
    if let Some(b) = &bar {
        b.finish_and_clear();
    }

    if let Some(d) = &dedup {
        report.dedup = d.report();
    }
    report.seconds_write = write_secs;
    report.seconds_total = start.elapsed().as_secs_f64();
    report.mb_per_s = if report.seconds_total > 0.0 {
        report.bytes_in as f64 / 1e6 / report.seconds_total
    } else {
        0.0
    };
    if !report.check_accounting() {
        let d = &report.documents;
        return Err(RunError::Accounting(format!(
            "read {} != kept {} + duplicates {} + rejected {}",
            d.read, d.kept, d.duplicates, d.rejected
        )));
    }
    if let Some(n) = ext.input_files_seen {
        report.input_files = n;
    }
    report.complete = true;
    outputs.publish(&report.to_json())?;
    Ok((report, dedup))
}

/// A thread that writes the pieces it is sent to `sink` with `write`, in order, and stops at
/// the first error; joined, it hands back the sink and that error.
#[allow(clippy::type_complexity)]
fn pieces_thread<W: Send + 'static, E: Send + 'static>(
    mut sink: W,
    write: impl Fn(&mut W, &Pieces) -> Result<(), E> + Send + 'static,
) -> (
    std::sync::mpsc::SyncSender<Pieces>,
    std::thread::JoinHandle<(W, Result<(), E>)>,
) {
    let (tx, rx) = sync_channel::<Pieces>(3);
    let handle = std::thread::spawn(move || {
        for pieces in rx {
            if let Err(e) = write(&mut sink, &pieces) {
                return (sink, Err(e));
            }
        }
        (sink, Ok(()))
    });
    (tx, handle)
}

/// Cuts the item stream into batches: at `max_docs` items, `max_bytes` bytes, or the end of
/// an input block, whichever comes first. Depends on the input alone.
pub(crate) struct Batcher {
    batch: Vec<RawItem>,
    bytes: usize,
    max_docs: usize,
    max_bytes: usize,
}

impl Batcher {
    pub(crate) fn new(max_docs: usize, max_bytes: usize) -> Batcher {
        Batcher {
            batch: Vec::new(),
            bytes: 0,
            max_docs,
            max_bytes,
        }
    }

    /// Feed one event; a full batch comes back.
    pub(crate) fn push(&mut self, ev: input::BlockEvent) -> Option<Vec<RawItem>> {
        match ev {
            input::BlockEvent::Item(item) => {
                self.bytes += item.bytes();
                self.batch.push(item);
                if self.batch.len() >= self.max_docs || self.bytes >= self.max_bytes {
                    self.bytes = 0;
                    return Some(std::mem::take(&mut self.batch));
                }
                None
            }
            input::BlockEvent::End(_) => {
                self.bytes = 0;
                if self.batch.is_empty() {
                    None
                } else {
                    Some(std::mem::take(&mut self.batch))
                }
            }
        }
    }
}

pub(crate) struct BatchCtx<'a> {
    pub(crate) stages: &'a [Box<dyn DocStage>],
    pub(crate) dedup_position: usize,
    pub(crate) has_dedup: bool,
    pub(crate) input: &'a crate::config::InputConfig,
    pub(crate) audit: bool,
    pub(crate) min_chars: usize,
}

impl<'a> BatchCtx<'a> {
    pub(crate) fn new(plan: &'a Plan) -> BatchCtx<'a> {
        BatchCtx {
            stages: &plan.doc_stages,
            dedup_position: plan.dedup_position.min(plan.doc_stages.len()),
            has_dedup: plan.dedup.is_some(),
            input: &plan.raw.input,
            audit: plan.raw.output.removed,
            min_chars: plan.raw.pipeline.min_chars,
        }
    }
}

fn progress_bar(wanted: bool, total: u64) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if !wanted || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(total);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}, eta {eta})",
    ) {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    Some(bar)
}

/// Run one per-document stage over the live documents of a batch.
fn run_stage(stage: &dyn DocStage, slots: &mut [Slot], report: &mut Report) {
    let t = Instant::now();
    let state = {
        let live: Vec<&Document> = slots
            .iter()
            .filter_map(|s| if let Slot::Live(d) = s { Some(d) } else { None })
            .collect();
        if live.is_empty() {
            return;
        }
        stage.prepare(&live)
    };
    slots.par_iter_mut().for_each(|slot| {
        if let Some(doc) = slot.live_mut() {
            // A bug in a stage must cost one document, not the run: a panic becomes a reject.
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                stage.apply(doc, state.as_ref())
            }))
            .unwrap_or_else(|p| {
                Err(Reject::new(
                    "internal-error",
                    format!(
                        "{}: stage {} failed: {}",
                        doc.input,
                        stage.name(),
                        panic_text(&p)
                    ),
                ))
            });
            if let Err(r) = outcome {
                let rec = RejectRecord {
                    seq: doc.seq,
                    id: doc.id.clone(),
                    source: doc.input.clone(),
                    reject: r,
                };
                *slot = Slot::Gone(rec);
            }
        }
    });
    report
        .stages
        .entry(stage.name().to_string())
        .or_default()
        .seconds += t.elapsed().as_secs_f64();
}

/// Reject documents left without text.
fn reject_empty(slots: &mut [Slot], min_chars: usize, after_stages: bool) {
    for slot in slots.iter_mut() {
        let Slot::Live(doc) = slot else { continue };
        let trimmed = doc.text.trim();
        let short = trimmed.is_empty() || (min_chars > 1 && trimmed.chars().count() < min_chars);
        if short {
            let detail = if after_stages {
                format!("{}: no text left after cleaning", doc.input)
            } else {
                format!("{}: no text in input", doc.input)
            };
            *slot = Slot::Gone(RejectRecord {
                seq: doc.seq,
                id: doc.id.clone(),
                source: doc.input.clone(),
                reject: Reject::new("empty", detail),
            });
        }
    }
}

/// Everything after [`front_batch`]: dedup (parallel summaries, then admit in input order),
/// the stages after it, serialisation.
fn finish_batch(
    mut slots: Vec<Slot>,
    ctx: &BatchCtx,
    pool: &rayon::ThreadPool,
    report: &mut Report,
    dedup: Option<&mut (dyn BarrierStage + 'static)>,
) -> (Chunk, Pieces) {
    if let Some(d) = dedup {
        let t = Instant::now();
        barrier_batch(&mut slots, d, pool);
        report
            .stages
            .entry(d.name().to_string())
            .or_default()
            .seconds += t.elapsed().as_secs_f64();
    }
    back_batch(slots, ctx, pool, report)
}

/// Parse a batch and run the stages before dedup.
pub(crate) fn front_batch(
    items: Vec<RawItem>,
    ctx: &BatchCtx,
    pool: &rayon::ThreadPool,
    report: &mut Report,
) -> Vec<Slot> {
    report.bytes_in += items.iter().map(|i| i.bytes() as u64).sum::<u64>();
    report.documents.read += items.len() as u64;
    let t = Instant::now();
    let mut slots: Vec<Slot> = pool.install(|| {
        items
            .into_par_iter()
            .map(|it| match input::parse_item(it, ctx.input) {
                Ok(mut d) => {
                    d.log.audit = ctx.audit;
                    Slot::Live(d)
                }
                Err(r) => Slot::Gone(r),
            })
            .collect()
    });
    report.seconds_read_parse += t.elapsed().as_secs_f64();
    for s in &slots {
        if let Slot::Live(d) = s {
            report.doc_read(d);
        }
    }
    reject_empty(&mut slots, 1, false);
    pool.install(|| {
        for stage in &ctx.stages[..ctx.dedup_position] {
            run_stage(stage.as_ref(), &mut slots, report);
        }
    });
    reject_empty(&mut slots, ctx.min_chars, true);
    slots
}

/// The barrier's parallel part: one summary per live document.
pub(crate) fn summarise_batch(
    slots: &mut [Slot],
    d: &(dyn BarrierStage + 'static),
    pool: &rayon::ThreadPool,
) -> Vec<Option<crate::dedup::Summary>> {
    pool.install(|| {
        slots
            .par_iter_mut()
            .map(|s| s.live_mut().map(|doc| d.summarise(doc)))
            .collect()
    })
}

/// The barrier over a batch's live documents ([`BarrierStage::run_batch`]), each sent where
/// its verdict says.
pub(crate) fn barrier_batch(
    slots: &mut [Slot],
    d: &mut (dyn BarrierStage + 'static),
    pool: &rayon::ThreadPool,
) {
    let mut at = Vec::new();
    let mut docs = Vec::new();
    for (k, slot) in slots.iter_mut().enumerate() {
        if let Slot::Live(doc) = slot {
            at.push(k);
            docs.push(doc);
        }
    }
    let verdicts = d.run_batch(docs, pool);
    for (k, verdict) in at.into_iter().zip(verdicts) {
        apply_admission(&mut slots[k], verdict);
    }
}

/// Move a live document to where its admission sends it.
pub(crate) fn apply_admission(slot: &mut Slot, verdict: Admission) {
    match verdict {
        Admission::Keep => {}
        Admission::Duplicate { of, similarity } => {
            if let Slot::Live(doc) = std::mem::replace(slot, Slot::Gone(placeholder())) {
                *slot = Slot::Dup(doc, of, similarity);
            }
        }
        Admission::Deferred => {
            if let Slot::Live(doc) = std::mem::replace(slot, Slot::Gone(placeholder())) {
                *slot = Slot::Deferred(doc);
            }
        }
        Admission::Outranked => {
            if let Slot::Live(doc) = std::mem::replace(slot, Slot::Gone(placeholder())) {
                *slot = Slot::Outranked(doc);
            }
        }
    }
}

/// Run the stages after dedup and serialise the batch: the chunk for the outputs, and the
/// spool records of deferred documents.
pub(crate) fn back_batch(
    mut slots: Vec<Slot>,
    ctx: &BatchCtx,
    pool: &rayon::ThreadPool,
    report: &mut Report,
) -> (Chunk, Pieces) {
    if ctx.has_dedup && ctx.dedup_position < ctx.stages.len() {
        pool.install(|| {
            for stage in &ctx.stages[ctx.dedup_position..] {
                run_stage(stage.as_ref(), &mut slots, report);
            }
        });
        reject_empty(&mut slots, ctx.min_chars, true);
    }

    // Serialise in parallel, then assemble in order.
    let t = Instant::now();
    // Per slot: its line (or spool head), a deferred document's text, its removed lines, and
    // the characters of a kept document.
    type SlotBytes = (Vec<u8>, Vec<u8>, Vec<u8>, usize);
    let pieces: Vec<SlotBytes> = pool.install(|| {
        slots
            .par_iter_mut()
            .map(|s| match s {
                Slot::Live(d) => {
                    let (j, c, chars) = output::serialize_kept_counted(d);
                    (j, c, output::removed_lines(d), chars)
                }
                Slot::Deferred(d) => {
                    let removed = output::removed_lines(d);
                    let (head, text) = spool_record(d);
                    (head, text, removed, 0)
                }
                Slot::Outranked(d) => (spool_outranked(d), Vec::new(), output::removed_lines(d), 0),
                Slot::Dup(d, of, sim) => (
                    output::duplicate_line(&d.id, &d.source, of, *sim),
                    Vec::new(),
                    output::removed_lines(d),
                    0,
                ),
                Slot::Gone(r) => (output::reject_line(r), Vec::new(), Vec::new(), 0),
            })
            .collect()
    });
    // Each buffer sized once (grown by doubling, it would be copied again by every
    // reallocation); the corpus files and the spool take the pieces as they are.
    let mut chunk = Chunk::default();
    let mut spool = Pieces::default();
    let (mut duplicates, mut rejects, mut removed) = (0, 0, 0);
    for (slot, p) in slots.iter().zip(&pieces) {
        removed += p.2.len();
        match slot {
            Slot::Live(_) | Slot::Deferred(_) | Slot::Outranked(_) => {}
            Slot::Dup(..) => duplicates += p.0.len(),
            Slot::Gone(_) => rejects += p.0.len(),
        }
    }
    chunk.duplicates.reserve_exact(duplicates);
    chunk.rejects.reserve_exact(rejects);
    chunk.removed.reserve_exact(removed);
    for (slot, (a, b, removed, chars)) in slots.iter().zip(pieces) {
        chunk.removed.extend_from_slice(&removed);
        match slot {
            Slot::Live(d) => {
                report.doc_log(d);
                report.kept_counted(d, chars);
                chunk.jsonl.push(a);
                chunk.csv.push(b);
            }
            Slot::Deferred(d) | Slot::Outranked(d) => {
                report.doc_log(d);
                spool.push(a);
                spool.push(b);
            }
            Slot::Dup(d, _, _) => {
                report.doc_log(d);
                report.documents.duplicates += 1;
                chunk.duplicates.extend_from_slice(&a);
            }
            Slot::Gone(r) => {
                report.reject(r);
                chunk.rejects.extend_from_slice(&a);
            }
        }
    }
    report.seconds_write += t.elapsed().as_secs_f64();
    (chunk, spool)
}

fn panic_text(p: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".into()
    }
}

fn placeholder() -> RejectRecord {
    RejectRecord {
        seq: 0,
        id: String::new(),
        source: String::new(),
        reject: Reject::new("", ""),
    }
}

/// The final verdicts of the documents admitted as pending, by sequence number. Why not
/// SipHash: the map is filled and read on the way to the end of a run, with nothing to defend
/// against (the keys are our own numbers).
pub(crate) type Verdicts = rustc_hash::FxHashMap<u64, Admission>;

/// Tag of a deferred document on the spool.
const SPOOL_DOC: u8 = 1;
/// Tag of an outranked document on the spool: only what its duplicate line needs.
const SPOOL_OUTRANKED: u8 = 2;
/// Bytes of spool records resolved together in the second pass: enough to keep both cores
/// busy, little next to the dedup index.
const RESOLVE_BATCH_BYTES: usize = 4 << 20;
/// Bytes of a spool record's length prefix.
const FRAME: usize = 8;

/// Messages to the writer thread.
enum ToWriter {
    /// A serialised chunk for the outputs, and spool records.
    Batch(Chunk, Pieces),
    /// Hand the spool back; every batch sent before is in it.
    TakeSpool(std::sync::mpsc::SyncSender<Option<std::fs::File>>),
}

/// A spool record: its length (little-endian `u64`), then its tag and what `body` writes,
/// then `tail` bytes that follow in a piece of their own.
/// Why the length: the second pass cuts a block of the spool into whole records without
/// decoding them, so that the decoding is shared out with the serialising.
fn spool_frame(tag: u8, capacity: usize, tail: usize, body: impl FnOnce(&mut Enc)) -> Vec<u8> {
    let mut v = Vec::with_capacity(FRAME + 1 + capacity);
    v.extend_from_slice(&[0; FRAME]);
    v.push(tag);
    body(&mut Enc(&mut v));
    let n = (v.len() - FRAME + tail) as u64;
    v[..FRAME].copy_from_slice(&n.to_le_bytes());
    v
}

/// A deferred document on the spool: the document itself, not its JSONL line and CSV row,
/// so that its text is on the spool once (half the bytes through the page cache) and only
/// the documents that stay are serialised, in parallel, by [`resolve_spool`]. Two pieces:
/// the document without its text (`put_doc` of an empty text) and the text's length, then
/// the text itself, moved out of the document rather than copied into the record. The
/// removed lines are left out: they are in the audit output already.
fn spool_record(d: &mut Document) -> (Vec<u8>, Vec<u8>) {
    d.log.removals = Vec::new();
    let text = std::mem::take(&mut d.text).into_bytes();
    let capacity = d.id.len() + d.source.len() + d.input.len() + 256;
    let head = spool_frame(SPOOL_DOC, capacity, text.len(), |e| {
        codec::put_doc(e, d);
        e.u64(text.len() as u64);
    });
    (head, text)
}

/// An outranked document on the spool: its number, id and source, so that its duplicate
/// line comes out in input order with the others once its keeper is known.
fn spool_outranked(d: &Document) -> Vec<u8> {
    spool_frame(SPOOL_OUTRANKED, d.id.len() + d.source.len() + 32, 0, |e| {
        e.u64(d.seq);
        e.str(&d.id);
        e.str(&d.source);
    })
}

/// What a spool record comes to once its final verdict is known.
enum Resolved {
    /// A kept document: its JSONL line, CSV row, characters and text bytes.
    Kept(Vec<u8>, Vec<u8>, usize, usize),
    /// A duplicate's line.
    Duplicate(Vec<u8>),
}

/// Second pass for keep policies that needed the whole corpus: read the spool back in
/// input order, block by block, and hand each document, serialised where its final verdict
/// sends it (kept when it has none), to `write`. A thread of its own reads the next block
/// while the records of this one are decoded and serialised in parallel, each on the
/// thread that then drops it.
pub(crate) fn resolve_spool(
    verdicts: &Verdicts,
    mut spool: std::fs::File,
    pool: &rayon::ThreadPool,
    write: &mut dyn FnMut(Chunk) -> Result<(), RunError>,
    report: &mut Report,
) -> Result<(), RunError> {
    spool
        .seek(SeekFrom::Start(0))
        .map_err(|e| RunError::io("spool", e))?;
    let (btx, brx) = sync_channel::<Result<SpoolBlock, RunError>>(1);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let mut blocks = SpoolBlocks::new(spool);
            loop {
                let block = blocks.next_block();
                let end = !matches!(&block, Ok(b) if !b.recs.is_empty());
                if btx.send(block).is_err() || end {
                    return;
                }
            }
        });
        for block in brx {
            let block = block?;
            if block.recs.is_empty() {
                break;
            }
            let resolved: Vec<Resolved> = pool.install(|| {
                block
                    .recs
                    .par_iter()
                    .map(|r| resolve_record(&block.buf[r.clone()], verdicts))
                    .collect::<Result<_, RunError>>()
            })?;
            let mut chunk = Chunk::default();
            let dl = resolved
                .iter()
                .map(|r| match r {
                    Resolved::Duplicate(l) => l.len(),
                    Resolved::Kept(..) => 0,
                })
                .sum();
            chunk.duplicates.reserve_exact(dl);
            for r in resolved {
                match r {
                    Resolved::Kept(j, c, chars, bytes) => {
                        report.kept_bytes(bytes, chars);
                        chunk.jsonl.push(j);
                        chunk.csv.push(c);
                    }
                    Resolved::Duplicate(dup) => {
                        report.documents.duplicates += 1;
                        chunk.duplicates.extend_from_slice(&dup);
                    }
                }
            }
            write(chunk)?;
        }
        Ok(())
    })
}

/// One spool record (tag and body, without its length) resolved against `verdicts`.
fn resolve_record(rec: &[u8], verdicts: &Verdicts) -> Result<Resolved, RunError> {
    let damaged = |e: std::io::Error| RunError::io("spool", e);
    let mut dec = Dec { r: rec };
    let resolved = match dec.u8().map_err(damaged)? {
        SPOOL_DOC => {
            let mut d = codec::get_doc(&mut dec).map_err(damaged)?;
            d.text = dec.string().map_err(damaged)?;
            match verdicts.get(&d.seq) {
                Some(Admission::Duplicate { of, similarity }) => {
                    Resolved::Duplicate(output::duplicate_line(&d.id, &d.source, of, *similarity))
                }
                _ => {
                    let (j, c, chars) = output::serialize_kept_counted(&d);
                    Resolved::Kept(j, c, chars, d.text.len())
                }
            }
        }
        SPOOL_OUTRANKED => {
            let seq = dec.u64().map_err(damaged)?;
            let id = dec.string().map_err(damaged)?;
            let source = dec.string().map_err(damaged)?;
            match verdicts.get(&seq) {
                Some(Admission::Duplicate { of, similarity }) => {
                    Resolved::Duplicate(output::duplicate_line(&id, &source, of, *similarity))
                }
                _ => {
                    return Err(RunError::Other(format!(
                        "dedup: document {id} was outranked but has no keeper at the end"
                    )))
                }
            }
        }
        t => return Err(RunError::Other(format!("spool: damaged record (tag {t})"))),
    };
    if !dec.r.is_empty() {
        return Err(RunError::Other(format!(
            "spool: damaged record ({} bytes left over)",
            dec.r.len()
        )));
    }
    Ok(resolved)
}

/// Whole spool records read in one go: each a range of `buf` (tag and body).
struct SpoolBlock {
    buf: Vec<u8>,
    recs: Vec<std::ops::Range<usize>>,
}

/// Reads the spool in blocks of whole records.
struct SpoolBlocks {
    file: Box<dyn std::io::Read + Send>,
    /// The start of a record the last block cut short.
    carry: Vec<u8>,
    eof: bool,
}

impl SpoolBlocks {
    fn new(file: std::fs::File) -> SpoolBlocks {
        SpoolBlocks {
            file: input::read_around_cache(file),
            carry: Vec::new(),
            eof: false,
        }
    }

    /// Append up to `n` more bytes of the file to `buf`.
    fn read_more(&mut self, buf: &mut Vec<u8>, n: usize) -> Result<(), RunError> {
        use std::io::Read;
        let got = (&mut self.file)
            .take(n as u64)
            .read_to_end(buf)
            .map_err(|e| RunError::io("spool", e))?;
        self.eof |= got < n;
        Ok(())
    }

    /// The next block: about [`RESOLVE_BATCH_BYTES`], more if one record is longer; no
    /// records at the end of the spool.
    fn next_block(&mut self) -> Result<SpoolBlock, RunError> {
        let mut buf = Vec::with_capacity(RESOLVE_BATCH_BYTES + self.carry.len());
        buf.append(&mut self.carry);
        loop {
            if !self.eof && buf.len() < RESOLVE_BATCH_BYTES {
                let n = RESOLVE_BATCH_BYTES - buf.len();
                self.read_more(&mut buf, n)?;
            }
            let (recs, used) = frames(&buf)?;
            if !recs.is_empty() || self.eof {
                if self.eof && used < buf.len() {
                    return Err(RunError::Other(format!(
                        "spool: damaged record (truncated: {} bytes at the end)",
                        buf.len() - used
                    )));
                }
                self.carry = buf[used..].to_vec();
                buf.truncate(used);
                return Ok(SpoolBlock { buf, recs });
            }
            // one record longer than a block: read the rest of it
            let need = frame_len(&buf).transpose()?.unwrap_or(FRAME);
            let n = need.saturating_sub(buf.len()).max(1);
            self.read_more(&mut buf, n)?;
        }
    }
}

/// Most bytes of one spool record: anything longer is damage, not a document.
const MAX_RECORD: u64 = 1 << 40;

/// The total length (prefix included) of the record whose prefix starts `b`, when `b` holds
/// the whole prefix and the length is possible.
fn frame_len(b: &[u8]) -> Option<Result<usize, RunError>> {
    let n = u64::from_le_bytes(b.get(..FRAME)?.try_into().ok()?);
    Some(if n == 0 || n > MAX_RECORD {
        Err(RunError::Other(format!(
            "spool: damaged record (length {n})"
        )))
    } else {
        Ok(FRAME + n as usize)
    })
}

/// The ranges (tag and body) of the whole records at the start of `buf`, and the bytes they
/// take.
fn frames(buf: &[u8]) -> Result<(Vec<std::ops::Range<usize>>, usize), RunError> {
    let (mut recs, mut at) = (Vec::new(), 0);
    while let Some(n) = frame_len(&buf[at..]) {
        let n = n?;
        if buf.len() - at < n {
            break;
        }
        recs.push(at + FRAME..at + n);
        at += n;
    }
    Ok((recs, at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::Format;
    use std::io::Write;

    fn doc(seq: u64, text: &str) -> Document {
        let mut d = Document::new(
            seq,
            format!("d{seq}"),
            format!("in.jsonl:{}", seq + 1),
            Format::Jsonl,
            text.to_string(),
        );
        d.title = Some(format!("Title {seq}"));
        d.meta.insert(
            "url".into(),
            serde_json::json!(format!("https://example.org/{seq}")),
        );
        d.fields.insert("byline".into(), "By A. Writer".into());
        d.log.counts.push(crate::document::Count {
            stage: "typography",
            rule: "space-run".into(),
            n: 2,
        });
        d
    }

    fn resolve(docs: &[Document], verdicts: &Verdicts) -> (Vec<Chunk>, Report) {
        let mut spool = tempfile::tempfile().unwrap();
        for d in docs {
            let (head, text) = spool_record(&mut d.clone());
            spool.write_all(&[head, text].concat()).unwrap();
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let (mut chunks, mut report) = (Vec::new(), Report::default());
        resolve_spool(
            verdicts,
            spool,
            &pool,
            &mut |c| {
                chunks.push(c);
                Ok(())
            },
            &mut report,
        )
        .unwrap();
        (chunks, report)
    }

    /// The second pass writes exactly what the first would have written for a kept
    /// document (JSONL line, CSV row, counts), a duplicate line for the rest, in input
    /// order, across several read batches.
    #[test]
    fn spooled_documents_come_back_as_the_streaming_writer_would_write_them() {
        let big = "Paragraph of a long report, with \"quotes\", commas and ünïcödé.\n"
            .repeat(RESOLVE_BATCH_BYTES / 40);
        let docs = vec![
            doc(0, "A short kept report."),
            doc(1, &big),
            doc(2, "A copy that lost."),
            doc(3, &big),
        ];
        let mut verdicts = Verdicts::default();
        verdicts.insert(
            2,
            Admission::Duplicate {
                of: "d1".into(),
                similarity: 0.9,
            },
        );
        verdicts.insert(3, Admission::Keep);
        let (chunks, report) = resolve(&docs, &verdicts);
        assert!(
            chunks.len() >= 2,
            "the big documents span more than one batch"
        );
        let cat = |f: fn(&Chunk) -> Vec<u8>| chunks.iter().flat_map(f).collect::<Vec<u8>>();
        let (mut jsonl, mut csv) = (Vec::new(), Vec::new());
        let mut chars = 0;
        for d in [&docs[0], &docs[1], &docs[3]] {
            let (j, c, n) = output::serialize_kept_counted(d);
            jsonl.extend(j);
            csv.extend(c);
            chars += n as u64;
        }
        assert_eq!(cat(|c| c.jsonl.to_vec()), jsonl);
        assert_eq!(cat(|c| c.csv.to_vec()), csv);
        assert_eq!(
            cat(|c| c.duplicates.clone()),
            output::duplicate_line("d2", "in.jsonl:3", "d1", 0.9)
        );
        assert_eq!((report.documents.kept, report.documents.duplicates), (3, 1));
        assert_eq!(report.chars_out, chars);
    }

    /// An outranked document holds only its duplicate line's place on the spool: the line
    /// comes out in input order with the keeper named at the end; one left without a
    /// keeper is an error, not a document silently kept or lost.
    #[test]
    fn outranked_documents_come_back_as_duplicate_lines_in_order() {
        let docs = [
            doc(0, "The first report."),
            doc(1, "A copy that cannot win."),
            doc(2, "A second copy that lost in the end."),
        ];
        let mut spool = tempfile::tempfile().unwrap();
        let rec = |d: &Document| {
            let (head, text) = spool_record(&mut d.clone());
            [head, text].concat()
        };
        spool.write_all(&rec(&docs[0])).unwrap();
        spool.write_all(&spool_outranked(&docs[1])).unwrap();
        spool.write_all(&rec(&docs[2])).unwrap();
        let mut verdicts = Verdicts::default();
        verdicts.insert(
            1,
            Admission::Duplicate {
                of: "d0".into(),
                similarity: 0.95,
            },
        );
        verdicts.insert(
            2,
            Admission::Duplicate {
                of: "d0".into(),
                similarity: 0.8,
            },
        );
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let (mut chunks, mut report) = (Vec::new(), Report::default());
        let mut sp = spool.try_clone().unwrap();
        resolve_spool(
            &verdicts,
            spool,
            &pool,
            &mut |c| {
                chunks.push(c);
                Ok(())
            },
            &mut report,
        )
        .unwrap();
        let dups: Vec<u8> = chunks.iter().flat_map(|c| c.duplicates.clone()).collect();
        let mut want = output::duplicate_line("d1", "in.jsonl:2", "d0", 0.95);
        want.extend(output::duplicate_line("d2", "in.jsonl:3", "d0", 0.8));
        assert_eq!(dups, want);
        assert_eq!((report.documents.kept, report.documents.duplicates), (1, 2));

        verdicts.insert(1, Admission::Keep);
        sp.seek(SeekFrom::Start(0)).unwrap();
        let err = resolve_spool(
            &verdicts,
            sp,
            &pool,
            &mut |_| Ok(()),
            &mut Report::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("d1"), "{err}");
    }

    /// A damaged spool is an error naming the spool, never a panic or a silent stop.
    #[test]
    fn a_damaged_spool_is_an_error() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let error_of = |bytes: &[u8]| {
            let mut spool = tempfile::tempfile().unwrap();
            spool.write_all(bytes).unwrap();
            resolve_spool(
                &Verdicts::default(),
                spool,
                &pool,
                &mut |_| Ok(()),
                &mut Report::default(),
            )
            .unwrap_err()
            .to_string()
        };
        // a record cut short
        let (head, text) = spool_record(&mut doc(0, "Some text of a report."));
        let mut rec = [head, text].concat();
        rec.truncate(rec.len() - 5);
        let err = error_of(&rec);
        assert!(err.contains("spool"), "{err}");
        // a length that does not match the record, lengths no record has, garbage
        let (head, text) = spool_record(&mut doc(0, "Some text of a report."));
        let mut rec = [head, text].concat();
        let n = u64::from_le_bytes(rec[..FRAME].try_into().unwrap());
        rec[..FRAME].copy_from_slice(&(n - 3).to_le_bytes());
        for bytes in [
            rec,
            vec![0; FRAME],
            u64::MAX.to_le_bytes().to_vec(),
            vec![7, 0, 0],
        ] {
            let err = error_of(&bytes);
            assert!(err.contains("damaged"), "{err}");
        }
    }
}
