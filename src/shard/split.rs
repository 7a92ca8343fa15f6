//! The cross-shard dedup as separate steps, each runnable as a job array (the shape
//! datatrove uses), instead of the one-task `dedup` step that holds the whole index:
//!
//! ```text
//! buckets J/R (array) every shard's summaries in input order; only the LSH bands of band
//!                     range J → the verified near-duplicate matches those bands find
//!                     → parts/buckets-of-N/range-J-of-R/{matches.bin, stats.json, done.json}
//! clusters   (1 task) the summaries again (exact hashes, ids, sizes) + the R match lists
//!                     → union-find, keep policy → parts/dedup-of-N/ (what `dedup` writes)
//! ```
//!
//! Why the verdicts are the single run's: dedup's sequential part ([`Dedup::admit_summary`])
//! finds a document's candidates as a union over its bands (up to `max_bucket_scan` earlier
//! documents of each band's bucket), verifies each by a pure function of the two sketches and
//! sizes, and records the verified matches in candidate order. A band range keeps the
//! buckets of its bands only and finds a subset of the candidates, which it verifies with
//! the same functions ([`Dedup::quick_look`], [`Dedup::verify`]); the union over a partition
//! of the bands, sorted by candidate, is the single run's list of matches. `clusters` then
//! applies the exact-hash precedence and the same record/keep code
//! ([`Dedup::admit_matches`]). (Band keys are xxh3 seeded with the band number; the single
//! run keeps all bands' keys in one table, so the two agree unless two keys of *different*
//! bands collide in 64 bits.)
//!
//! Memory. `buckets` keeps per document the first 48 sketch values (192 B, the first look
//! at a candidate), its sizes and where its summary is on disk (16 B), one bucket link per
//! band of its range and the band-key tables of its range (~28 B per band), and a set of
//! the exact hashes seen (~16 B): the rest of a candidate's sketch is read back from the
//! shard's `summaries.bin` by offset (`pread`; the page cache is not the process's memory).
//! At 32 bands in 8 ranges that is about 0.35 KB per document, against ≈ 2 KB in the one-task
//! step. `clusters` keeps no sketch and no band table: per document its id, sizes, cluster
//! link and exact-hash entry (≈ 80 B plus the id).
//!
//! `matches.bin`: magic `PWMATCH1`, then for every document with matches `doc u32, n u32,
//! n × (candidate u32, similarity f64)` in document order (candidates ascending), then
//! `u32::MAX, documents u32`. Readers check every number: a damaged file is an error naming
//! it, never a panic.

use std::fs::File;
use std::io::{BufReader, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use xxhash_rust::xxh3::Xxh3;

use super::codec::{Dec, Enc};
use super::{
    config_hash, dedup_dir, dedup_marker, fresh_dir, hex, parts_dir, read_marker, shard_dir,
    shard_markers, write_finals, write_json, Marker, Outcome, ShardSpec, DONE, SUMMARIES, TAG_DOC,
};
use crate::config::Plan;
use crate::dedup::{self, Buckets, Chunked, Dedup, KeyHasher, Prefix, QUICK, SUMMARY_SKETCH_AT};
use crate::error::{ConfigError, RunError};
use crate::output::AtomicFile;

const MAGIC: &[u8; 8] = b"PWMATCH1";
const MATCHES: &str = "matches.bin";
const STATS: &str = "stats.json";
const END: u32 = u32::MAX;

pub fn buckets_dir(out: &Path, count: usize) -> PathBuf {
    parts_dir(out).join(format!("buckets-of-{count}"))
}

pub fn range_dir(out: &Path, count: usize, range: ShardSpec) -> PathBuf {
    buckets_dir(out, count).join(format!("range-{}-of-{}", range.index, range.count))
}

/// Bands `lo..hi` of range `range` of `bands` bands.
fn band_range(bands: usize, range: ShardSpec) -> (usize, usize) {
    (
        range.index * bands / range.count,
        (range.index + 1) * bands / range.count,
    )
}

/// Reads every shard's `summaries.bin` in shard order (the global input order), with the
/// file offset of each summary.
struct Summaries {
    out: PathBuf,
    count: usize,
    next_shard: usize,
    /// The shard being read, its file and its reader.
    cur: Option<(usize, PathBuf, SumDec)>,
}

type SumDec = Dec<Counting<BufReader<File>>>;

/// One document's summary record.
struct Rec {
    shard: usize,
    seq: u64,
    id: String,
    bytes: Vec<u8>,
    /// Offset of `bytes` in the shard's `summaries.bin`.
    at: u64,
}

/// A reader that counts the bytes read through it.
struct Counting<R> {
    r: R,
    pos: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.r.read(buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Summaries {
    fn new(out: &Path, count: usize) -> Summaries {
        Summaries {
            out: out.to_path_buf(),
            count,
            next_shard: 0,
            cur: None,
        }
    }

    fn path(&self, shard: usize) -> PathBuf {
        shard_dir(
            &self.out,
            ShardSpec {
                index: shard,
                count: self.count,
            },
        )
        .join(SUMMARIES)
    }

    /// The next record; `Ok(None)` after the last shard's last one.
    fn next(&mut self) -> Result<Option<Rec>, RunError> {
        loop {
            if self.cur.is_none() {
                if self.next_shard == self.count {
                    return Ok(None);
                }
                let p = self.path(self.next_shard);
                let f = File::open(&p).map_err(|e| RunError::io(&p, e))?;
                self.cur = Some((
                    self.next_shard,
                    p,
                    Dec {
                        r: Counting {
                            r: BufReader::with_capacity(1 << 20, f),
                            pos: 0,
                        },
                    },
                ));
                self.next_shard += 1;
            }
            let Some((shard, p, dec)) = self.cur.as_mut() else {
                continue;
            };
            let p: &Path = p;
            let damaged = |e: std::io::Error| RunError::io(p, e);
            match dec.tag().map_err(damaged)? {
                None => {
                    self.cur = None;
                    continue;
                }
                Some(TAG_DOC) => {}
                Some(_) => return Err(RunError::Other(format!("{}: damaged record", p.display()))),
            }
            let seq = dec.u64().map_err(damaged)?;
            let id = dec.string().map_err(damaged)?;
            let bytes = dec.bytes().map_err(damaged)?;
            let at = dec.r.pos - bytes.len() as u64;
            return Ok(Some(Rec {
                shard: *shard,
                seq,
                id,
                bytes,
                at,
            }));
        }
    }
}

/// The barrier of the plan as the MinHash dedup stage (`None`: no dedup among the stages).
fn dedup_of(plan: &mut Plan) -> Result<Option<Box<dyn dedup::BarrierStage>>, RunError> {
    let Some(mut d) = plan.dedup.take() else {
        return Ok(None);
    };
    if d.as_dedup().is_none() {
        return Err(RunError::Other(format!(
            "the `{}` stage cannot be split into buckets and clusters: use `presswash dedup`",
            d.name()
        )));
    }
    Ok(Some(d))
}

fn check_ranges(d: &Dedup, ranges: usize) -> Result<(), ConfigError> {
    let bands = d.config().bands;
    if ranges == 0 || ranges > bands {
        return Err(ConfigError::invalid(
            "--ranges",
            format!("must be 1..={bands} (the number of bands), got {ranges}"),
        ));
    }
    Ok(())
}

/// The done marker of band range `range` for these shards and config.
fn range_marker(
    shards: &[Marker],
    count: usize,
    config: &str,
    bands: (usize, usize),
    range: ShardSpec,
) -> Marker {
    let mut h = Xxh3::new();
    h.update(b"buckets-v1");
    h.update(&(count as u64).to_le_bytes());
    h.update(&(bands.0 as u64).to_le_bytes());
    h.update(&(bands.1 as u64).to_le_bytes());
    for m in shards {
        h.update(serde_json::to_string(m).unwrap_or_default().as_bytes());
    }
    Marker {
        step: "buckets".into(),
        shard: range.index,
        count: range.count,
        inputs: hex(h.digest()),
        config: config.to_string(),
        blocks: Vec::new(),
        input_files: shards.first().map(|m| m.input_files).unwrap_or(0),
        dedup: true,
    }
}

fn finished_shards(plan: &Plan, count: usize) -> Result<(Vec<Marker>, String), RunError> {
    let shards = shard_markers(&plan.output_dir, count)?;
    let config = config_hash(plan);
    if let Some(m) = shards.iter().find(|m| m.config != config) {
        return Err(RunError::Other(format!(
            "shard {}/{count} was made with another configuration: rerun it",
            m.shard
        )));
    }
    if shards.iter().any(|m| m.dedup != plan.dedup.is_some()) {
        return Err(RunError::Other(
            "the shards were made with another list of stages: rerun them".into(),
        ));
    }
    Ok((shards, config))
}

/// Where a document's summary is and its sizes.
#[derive(Clone, Copy)]
struct Place {
    shingles: u32,
    len: u32,
    shard: u32,
    /// Offset of the sketch in the shard's `summaries.bin`.
    at: u64,
}

/// `presswash buckets`: the verified matches that band range `range` finds (see the module
/// documentation).
pub fn run_buckets(mut plan: Plan, count: usize, range: ShardSpec) -> Result<Outcome, RunError> {
    let (shards, config) = finished_shards(&plan, count)?;
    let Some(mut d) = dedup_of(&mut plan)? else {
        return Ok(Outcome::AlreadyDone);
    };
    let d = d
        .as_dedup()
        .ok_or_else(|| RunError::Other("internal: not the dedup stage".into()))?;
    check_ranges(d, range.count)?;
    let bands = d.config().bands;
    let (lo, hi) = band_range(bands, range);
    let max_scan = d.config().max_bucket_scan;
    let marker = range_marker(&shards, count, &config, (lo, hi), range);
    let out = plan.output_dir.clone();
    let dir = range_dir(&out, count, range);
    if read_marker(&dir).as_ref() == Some(&marker) {
        return Ok(Outcome::AlreadyDone);
    }
    fresh_dir(&dir)?;

    let paths: Vec<PathBuf> = (0..count)
        .map(|i| shard_dir(&out, ShardSpec { index: i, count }).join(SUMMARIES))
        .collect();
    let files: Vec<File> = paths
        .iter()
        .map(|p| File::open(p).map_err(|e| RunError::io(p, e)))
        .collect::<Result<_, _>>()?;
    let mut prefixes: Chunked<Prefix> = Chunked::new();
    let mut places: Chunked<Place> = Chunked::new();
    let mut buckets = Buckets::default();
    let mut exact: std::collections::HashSet<u64, std::hash::BuildHasherDefault<KeyHasher>> =
        Default::default();
    let (mut handles, mut cands, mut close) = (Vec::new(), Vec::new(), Vec::new());
    let mut other: Vec<u32> = Vec::new();
    let mut raw: Vec<u8> = Vec::new();
    let mut matches: Vec<(u32, f64)> = Vec::new();
    let mut file = AtomicFile::create(&dir, MATCHES)?;
    file.write_all(MAGIC)?;
    let mut buf = Vec::with_capacity(1 << 12);
    let (mut checked, mut verified, mut found) = (0u64, 0u64, 0u64);
    let mut reader = Summaries::new(&out, count);
    let mut me: u32 = 0;
    while let Some(rec) = reader.next()? {
        let p = &paths[rec.shard];
        let s = d.decode_doc_summary(&rec.bytes).ok_or_else(|| {
            RunError::Other(format!("{}: a summary cannot be decoded", p.display()))
        })?;
        if me == END {
            return Err(RunError::Other(
                "more than 4,294,967,294 documents: too many for one dedup".into(),
            ));
        }
        let keys = if s.bands.is_empty() {
            &[][..]
        } else {
            &s.bands[lo..hi]
        };
        matches.clear();
        // An exact copy of an earlier document matches only that one: no candidates, and it
        // joins no bucket (as in a single run).
        if exact.insert(s.exact) {
            dedup::link_bands(&mut buckets, me, keys, &mut handles);
            dedup::walk_bands(&buckets, &handles, max_scan, &mut cands);
            checked += cands.len() as u64;
            close.clear();
            for &c in &cands {
                let z = &places[c as usize];
                let pre = &prefixes[c as usize].0[..(z.len as usize).min(QUICK)];
                if d.quick_look(&s.sketch, s.shingles, pre, z.shingles) {
                    close.push(c);
                }
            }
            for &c in &close {
                let z = places[c as usize];
                raw.resize(z.len as usize * 4, 0);
                let cp = &paths[z.shard as usize];
                files[z.shard as usize]
                    .read_exact_at(&mut raw, z.at)
                    .map_err(|e| RunError::io(cp, e))?;
                other.clear();
                other.extend(
                    raw.chunks_exact(4)
                        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
                );
                verified += 1;
                if let Some(sim) = d.verify(&s.sketch, s.shingles, &other, z.shingles) {
                    matches.push((c, sim));
                }
            }
        }
        let n = s.sketch.len().min(QUICK);
        let mut pre = Prefix([0; QUICK]);
        pre.0[..n].copy_from_slice(&s.sketch[..n]);
        prefixes.push(pre);
        places.push(Place {
            shingles: s.shingles,
            len: s.sketch.len() as u32,
            shard: rec.shard as u32,
            at: rec.at + SUMMARY_SKETCH_AT as u64,
        });
        if !matches.is_empty() {
            found += matches.len() as u64;
            buf.clear();
            let mut e = Enc(&mut buf);
            put_u32(&mut e, me);
            put_u32(&mut e, matches.len() as u32);
            for &(c, sim) in &matches {
                put_u32(&mut e, c);
                e.f64(sim);
            }
            file.write_all(&buf)?;
        }
        me += 1;
    }
    buf.clear();
    put_u32(&mut Enc(&mut buf), END);
    put_u32(&mut Enc(&mut buf), me);
    file.write_all(&buf)?;
    file.publish()?;
    let stats = serde_json::json!({
        "range": format!("{}/{}", range.index, range.count),
        "bands": [lo, hi],
        "documents": me,
        "candidates_checked": checked,
        "pairs_verified_on_whole_sketch": verified,
        "matches": found,
    });
    write_json(&dir, STATS, &stats)?;
    write_json(&dir, DONE, &marker)?;
    Ok(Outcome::Done)
}

fn put_u32(e: &mut Enc, v: u32) {
    e.0.extend_from_slice(&v.to_le_bytes());
}

/// One band range's `matches.bin`, read one document at a time.
struct MatchReader {
    path: PathBuf,
    r: BufReader<File>,
    /// The next document with matches (`END` at the end) and how many.
    doc: u32,
    n: u32,
}

impl MatchReader {
    fn open(path: PathBuf) -> Result<MatchReader, RunError> {
        let f = File::open(&path).map_err(|e| RunError::io(&path, e))?;
        let mut m = MatchReader {
            path,
            r: BufReader::with_capacity(1 << 16, f),
            doc: 0,
            n: 0,
        };
        let mut magic = [0u8; 8];
        m.read(&mut magic)?;
        if &magic != MAGIC {
            return Err(m.damaged("not a match list"));
        }
        m.advance(None)?;
        Ok(m)
    }

    fn damaged(&self, what: &str) -> RunError {
        RunError::Other(format!(
            "{}: damaged match list ({what}): rerun its buckets task",
            self.path.display()
        ))
    }

    fn read(&mut self, b: &mut [u8]) -> Result<(), RunError> {
        self.r.read_exact(b).map_err(|e| {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                self.damaged("cut short")
            } else {
                RunError::io(&self.path, e)
            }
        })
    }

    fn u32(&mut self) -> Result<u32, RunError> {
        let mut b = [0u8; 4];
        self.read(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    /// Read the next record's head (after document `prev`).
    fn advance(&mut self, prev: Option<u32>) -> Result<(), RunError> {
        let doc = self.u32()?;
        let n = self.u32()?;
        if doc != END && (prev.is_some_and(|p| doc <= p) || n == 0 || n > doc) {
            return Err(self.damaged("document numbers out of order"));
        }
        (self.doc, self.n) = (doc, n);
        Ok(())
    }

    /// Append document `me`'s matches to `out` (none if it has no record).
    fn take(&mut self, me: u32, out: &mut Vec<(u32, f64)>) -> Result<(), RunError> {
        if self.doc < me {
            return Err(self.damaged("document numbers out of order"));
        }
        if self.doc != me || self.doc == END {
            return Ok(());
        }
        let mut prev = None;
        for _ in 0..self.n {
            let c = self.u32()?;
            let mut b = [0u8; 8];
            self.read(&mut b)?;
            let sim = f64::from_le_bytes(b);
            if c >= me || prev.is_some_and(|p| c <= p) || !(sim > 0.0 && sim <= 1.0) {
                return Err(self.damaged("candidate or similarity out of range"));
            }
            prev = Some(c);
            out.push((c, sim));
        }
        self.advance(Some(me))
    }

    /// At the end: the list must cover exactly `documents` documents and nothing follow.
    fn finish(mut self, documents: u32) -> Result<(), RunError> {
        if self.doc != END {
            return Err(self.damaged("matches of documents beyond the summaries"));
        }
        if self.n != documents {
            return Err(self.damaged(&format!(
                "made from {} documents, the summaries hold {documents}",
                self.n
            )));
        }
        let mut rest = [0u8; 1];
        if self
            .r
            .read(&mut rest)
            .map_err(|e| RunError::io(&self.path, e))?
            != 0
        {
            return Err(self.damaged("trailing bytes"));
        }
        Ok(())
    }
}

/// `presswash clusters`: the verdicts from the summaries and the `ranges` match lists (see
/// the module documentation), into the folder and format of the `dedup` step.
pub fn run_clusters(mut plan: Plan, count: usize, ranges: usize) -> Result<Outcome, RunError> {
    let (shards, config) = finished_shards(&plan, count)?;
    let Some(mut stage) = dedup_of(&mut plan)? else {
        return Ok(Outcome::AlreadyDone);
    };
    let d = stage
        .as_dedup()
        .ok_or_else(|| RunError::Other("internal: not the dedup stage".into()))?;
    check_ranges(d, ranges)?;
    let out = plan.output_dir.clone();
    let bands = d.config().bands;
    let mut checked = 0u64;
    let mut readers = Vec::with_capacity(ranges);
    for j in 0..ranges {
        let range = ShardSpec {
            index: j,
            count: ranges,
        };
        let rdir = range_dir(&out, count, range);
        let want = range_marker(&shards, count, &config, band_range(bands, range), range);
        match read_marker(&rdir) {
            None => {
                return Err(RunError::Other(format!(
                    "bucket range {j}/{ranges} has not finished (no {}): run `presswash buckets --range {j}/{ranges}` first",
                    rdir.join(DONE).display()
                )))
            }
            Some(m) if m != want => {
                return Err(RunError::Other(format!(
                    "bucket range {j}/{ranges} was made from other shards or with another configuration: rerun it"
                )))
            }
            Some(_) => {}
        }
        let sp = rdir.join(STATS);
        let stats: serde_json::Value = std::fs::read(&sp)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| {
                RunError::Other(format!(
                    "{}: missing or damaged: rerun bucket range {j}/{ranges}",
                    sp.display()
                ))
            })?;
        checked += stats["candidates_checked"].as_u64().unwrap_or(0);
        readers.push(MatchReader::open(rdir.join(MATCHES))?);
    }
    let marker = dedup_marker(&shards, count, &config);
    let dir = dedup_dir(&out, count);
    if read_marker(&dir).as_ref() == Some(&marker) {
        return Ok(Outcome::AlreadyDone);
    }
    fresh_dir(&dir)?;
    let mut reader = Summaries::new(&out, count);
    // The verdict file of every shard, in order (an empty shard gets an empty one).
    let mut verdicts: Option<AtomicFile> = None;
    let mut opened = 0usize;
    let mut open_upto = |shard: usize, verdicts: &mut Option<AtomicFile>| -> Result<(), RunError> {
        while opened <= shard {
            if let Some(f) = verdicts.take() {
                f.publish()?;
            }
            *verdicts = Some(AtomicFile::create(&dir, &format!("verdicts-{opened}.bin"))?);
            opened += 1;
        }
        Ok(())
    };
    let mut matches: Vec<(u32, f64)> = Vec::new();
    let mut buf = Vec::new();
    let mut me: u32 = 0;
    while let Some(rec) = reader.next()? {
        open_upto(rec.shard, &mut verdicts)?;
        let s = d.decode_doc_summary(&rec.bytes).ok_or_else(|| {
            RunError::Other(format!(
                "{}: a summary cannot be decoded",
                reader.path(rec.shard).display()
            ))
        })?;
        matches.clear();
        for r in readers.iter_mut() {
            r.take(me, &mut matches)?;
        }
        // The same pair found by several ranges has the same similarity (a pure function).
        matches.sort_by_key(|m| m.0);
        matches.dedup_by_key(|m| m.0);
        let verdict = d.admit_matches(&rec.id, rec.seq, s.shingles, s.chars, s.exact, &matches);
        buf.clear();
        super::codec::put_admission(&mut Enc(&mut buf), &verdict);
        if let Some(f) = verdicts.as_mut() {
            f.write_all(&buf)?;
        }
        me = me
            .checked_add(1)
            .filter(|&m| m != END)
            .ok_or_else(|| RunError::Other("too many documents for one dedup".into()))?;
    }
    open_upto(count - 1, &mut verdicts)?;
    if let Some(f) = verdicts.take() {
        f.publish()?;
    }
    for r in readers {
        r.finish(me)?;
    }
    d.add_candidates_checked(checked);
    write_finals(&dir, stage.as_mut(), Some(ranges))?;
    write_json(&dir, DONE, &marker)?;
    Ok(Outcome::Done)
}
