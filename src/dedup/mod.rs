//! The `dedup` barrier stage: repeated paragraphs inside a document, and exact and near
//! duplicate documents across the corpus.
//!
//! Unlike per-document stages, dedup must see every document. It has two parts:
//! a pure per-document part ([`BarrierStage::summarise`], run in parallel: intra-document
//! dedup, normalisation, hashing, MinHash signature) and a part in input order
//! ([`BarrierStage::admit`], or [`BarrierStage::admit_batch`] whose candidate look-ups run in
//! parallel) that keeps only bounded-size summaries.
//!
//! # How a document is judged
//! 1. Inside the document ([`text`]): a line that repeats an earlier one, exactly or nearly
//!    (the lead again behind a dateline, a headline in other case, a missing final period, a
//!    typo), is kept once, the fuller text at the first position. A first paragraph equal to
//!    the title goes.
//! 2. Exact duplicates: xxh3 of the normalised token stream (case, punctuation, spacing,
//!    quotes and number separators ignored).
//! 3. Near duplicates: word shingles of the content lines (lines of at least
//!    `min_line_words` tokens: menus, labels and headlines left over from site chrome weigh
//!    nothing), MinHash signature cut into `bands` × `rows` LSH band keys; every earlier
//!    document sharing a band key is a candidate, verified on its bottom-k sketch: a
//!    duplicate if the estimated Jaccard similarity reaches `jaccard_threshold`, or if the
//!    smaller document (of at least `min_containment_shingles` shingles) lies for at least
//!    `containment_threshold` inside the larger (a truncated copy). Verified pairs are
//!    joined with union-find, except that a fragment of one of its matches joins only its
//!    best match's cluster ([`glues`]); candidates are visited in input order, so the clusters
//!    do not depend on the number of threads.
//! 4. One document per cluster is kept by the `keep` policy: `most-complete` (the
//!    default) and `longest` decide after the last document; `first` decides at once
//!    (streaming, no second pass, but a cluster joined late can keep two documents).
//!
//! # Example `pipeline.toml`
//! ```toml
//! [stages.dedup]
//! shingle_size = 3
//! num_hashes = 64
//! bands = 32
//! rows = 2
//! jaccard_threshold = 0.5
//! containment_threshold = 0.8
//! keep = "most-complete"  # or "longest", "first" (streaming)
//! [stages.dedup.intra]
//! enabled = true
//! [stages.dedup.paragraphs]
//! enabled = false         # drop paragraphs seen in many kept documents
//! min_docs = 10
//! ```
//!
//! # Memory
//! The index keeps, per document, never its text but:
//! - its bottom-k sketch: at most `4 * sketch_size` bytes (1,024 B at the default 256): its
//!   first 48 values in a fixed, cache-line aligned 192 B block (what the first look at a
//!   candidate reads), the rest only as long as the document needs,
//! - its place in one bucket per band: nothing beyond the band-key table entry while it is
//!   alone in its bucket, else 4 B in a block of seven (a two-document bucket takes a whole
//!   32 B block: at most 16 B per band), plus at most one band-key table entry per band
//!   (a 16 B slot, ~27 B with the table's slack): at most ≈ 1.4 KB, in practice far less;
//!   an exact copy of an earlier document joins no bucket,
//! - its exact-hash entry (~24 B), union-find parent, sizes and scores (~60 B) and its id.
//!
//! So at the defaults at most ≈ 2.5 KB per document plus the id's bytes (measured: the whole
//! default run peaks at 887 MiB on a 1 GB generated dump of 374,075 documents, batches,
//! spool buffers and the other stages included). All of it grows by fixed-size chunks and a 64-way partitioned band table
//! (`store.rs`), never by doubling and copying, so the peak is the index plus one chunk. The
//! MinHash signature itself is dropped once the band keys are made. The optional
//! paragraph-level pass adds ~16 B per distinct paragraph, capped by `paragraphs.max_entries`.
//!
//! The saved index of `--state` runs ([`BarrierStage::save_index`], format in `persist.rs`)
//! holds the same: per document 29 B of fields plus its id, `4 * sketch length` B of sketch,
//! the bucket blocks (32 B each) and 12 B per band key and per text hash. Measured on the dev
//! set of 2,872 news reports (most under 256 distinct shingles): 1,385 B per document.

mod persist;
pub mod sketch;
mod store;
pub mod text;

use store::Slices;
pub(crate) use store::{Buckets, Chunked};

use rayon::prelude::*;
use std::any::Any;
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

use xxhash_rust::xxh3::Xxh3;

use crate::document::Document;
use crate::error::ConfigError;
use sketch::MinHasher;
use text::{IntraOptions, LineFate};

/// The per-document summary a barrier stage keeps (signatures, hashes: never the text).
pub type Summary = Box<dyn Any + Send>;

/// A barrier's verdict on one document.
#[derive(Debug, Clone, PartialEq)]
pub enum Admission {
    Keep,
    Duplicate {
        of: String,
        similarity: f64,
    },
    /// Not decidable until the whole corpus has been seen (keep policies other than `first`).
    Deferred,
    /// A duplicate for certain, whose keeper is named only at the end (keep policies other
    /// than `first`): its cluster already holds a member at least as good as it by the keep
    /// policy, and earlier, and clusters only grow, so it can never be the one kept. The
    /// pipeline need not hold its text until the end, only its duplicate line.
    Outranked,
}

impl Admission {
    /// Whether the final verdict comes from [`BarrierStage::finish`].
    pub fn pending(&self) -> bool {
        matches!(self, Admission::Deferred | Admission::Outranked)
    }
}

/// A stage that must see the whole corpus before it can decide on every document.
pub trait BarrierStage: Send + Sync {
    fn name(&self) -> &'static str;
    /// Parallel, pure: may edit the document (intra-document dedup) and returns its summary.
    fn summarise(&self, doc: &mut Document) -> Summary;
    /// Sequential, in input order. May still edit the document (dedup's optional
    /// paragraph-level pass drops paragraphs already seen in many kept documents).
    fn admit(&mut self, doc: &mut Document, summary: Summary) -> Admission;
    /// A batch of documents, in input order, summarised and admitted on `pool`: the
    /// verdicts of `summarise` and then `admit` one by one. The default summarises in
    /// parallel, then admits in order; a stage may overlap the two (dedup: see
    /// [`Dedup::run_batch`]).
    fn run_batch(
        &mut self,
        mut docs: Vec<&mut Document>,
        pool: &rayon::ThreadPool,
    ) -> Vec<Admission> {
        let this = &*self;
        let sums: Vec<Summary> =
            pool.install(|| docs.par_iter_mut().map(|d| this.summarise(d)).collect());
        docs.into_iter()
            .zip(sums)
            .map(|(d, s)| self.admit(d, s))
            .collect()
    }
    /// True when `admit` decides at once (never returns `Deferred`): the pipeline then writes
    /// in one pass; otherwise the documents are spooled to disk until [`BarrierStage::finish`].
    fn streaming(&self) -> bool {
        true
    }
    /// After the last document: final verdicts for every document admitted as `Deferred`,
    /// as `(seq, admission)`.
    fn finish(&mut self) -> Vec<(u64, Admission)> {
        Vec::new()
    }
    /// Serialise a summary so sharded runs can compute summaries on many machines and admit
    /// them later in input order (`None`: this barrier cannot be sharded).
    fn encode_summary(&self, _summary: &Summary) -> Option<Vec<u8>> {
        None
    }
    /// Inverse of [`BarrierStage::encode_summary`].
    fn decode_summary(&self, _bytes: &[u8]) -> Option<Summary> {
        None
    }
    /// Save the index of admitted documents (for incremental `--state` runs).
    fn save_index(&self, _w: &mut dyn std::io::Write) -> std::io::Result<()> {
        Err(std::io::Error::other(
            "this barrier stage cannot save its index",
        ))
    }
    /// Load an index saved by [`BarrierStage::save_index`]; later documents are checked
    /// against everything in it.
    fn load_index(&mut self, _r: &mut dyn std::io::Read) -> std::io::Result<()> {
        Err(std::io::Error::other(
            "this barrier stage cannot load an index",
        ))
    }
    /// Statistics for `report.json`.
    fn report(&self) -> serde_json::Value {
        serde_json::Value::Null
    }
    /// The MinHash dedup stage itself, for the split form of the cross-shard step
    /// (`presswash buckets` / `clusters`); other barriers can only use `presswash dedup`.
    fn as_dedup(&mut self) -> Option<&mut Dedup> {
        None
    }
}

/// Which document of a duplicate cluster is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeepPolicy {
    /// The first one in input order (streaming: decided as each document arrives, so a
    /// later copy that joins two clusters, each with a document already kept, cannot
    /// take one of them back).
    First,
    /// The one with the most characters of text (decided after the last document).
    Longest,
    /// The one with the most distinct content shingles, i.e. the fullest copy of the story,
    /// not cut short (decided after the last document). The default: it keeps the best
    /// copy for training, and the clusters it keeps one of are whole (a full copy seen after
    /// two partial ones links them), which `first` cannot undo.
    #[default]
    MostComplete,
}

/// `[stages.dedup.intra]`: repeated lines inside one document.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct IntraConfig {
    /// Run the in-document pass.
    pub enabled: bool,
    /// Lines of fewer tokens are never treated as repeats (short labels repeat legitimately).
    pub min_words: usize,
    /// A line contained in another (the lead behind a dateline) is a repeat when it makes up
    /// at least this share of the other's tokens.
    pub containment: f64,
    /// Two lines of about the same length are a repeat when this share of their tokens
    /// agree (typos, small edits).
    pub similarity: f64,
    /// Drop a first paragraph that repeats the document's title.
    pub title: bool,
}

impl Default for IntraConfig {
    fn default() -> Self {
        IntraConfig {
            enabled: true,
            min_words: 4,
            containment: 0.6,
            similarity: 0.9,
            title: true,
        }
    }
}

/// `[stages.dedup.paragraphs]`: paragraph-level dedup across documents (off by default).
/// A paragraph found in at least `min_docs` earlier kept documents (documents that were not
/// themselves duplicates, so copies of one story count once) is boilerplate and is dropped.
/// A lead shared by a few different reports stays, and a document is never dropped by it.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ParagraphConfig {
    pub enabled: bool,
    /// Kept documents a paragraph must have been seen in before it counts as boilerplate.
    pub min_docs: u32,
    /// Paragraphs of fewer tokens are left alone.
    pub min_words: usize,
    /// Most distinct paragraphs counted (bounds the memory: ~16 B each).
    pub max_entries: usize,
}

impl Default for ParagraphConfig {
    fn default() -> Self {
        ParagraphConfig {
            enabled: false,
            min_docs: 10,
            min_words: 3,
            max_entries: 2_000_000,
        }
    }
}

/// `[stages.dedup]` options.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Words per shingle.
    pub shingle_size: usize,
    /// MinHash functions; must equal `bands * rows`.
    pub num_hashes: usize,
    /// LSH bands. More bands of fewer rows find pairs of lower similarity (truncated copies)
    /// at the cost of more candidates to verify.
    pub bands: usize,
    /// Signature values per band.
    pub rows: usize,
    /// Verified duplicate when the estimated Jaccard similarity of the shingle sets reaches this.
    pub jaccard_threshold: f64,
    /// ...or when this share of the smaller document's shingles is in the larger one.
    pub containment_threshold: f64,
    /// The containment test only applies when the smaller document has at least this many
    /// distinct shingles (a lone lead paragraph is not enough to call a story a copy).
    pub min_containment_shingles: usize,
    /// The containment test also needs this Jaccard similarity: a copy is cut short to a
    /// sizeable part of the story, while a long follow-up that quotes a whole short report
    /// holds it as a small part of its own text.
    pub containment_min_jaccard: f64,
    /// Shingle hashes kept per document for verification (bottom-k sketch).
    pub sketch_size: usize,
    /// Lines of fewer tokens (menus, labels, headlines) do not contribute shingles, unless
    /// the document has no longer line.
    pub min_line_words: usize,
    /// Most entries of one LSH bucket visited per band (newest first): bounds the work on
    /// keys shared by very many documents. A bucket only fills with documents that share
    /// the two MinHash values of its band, i.e. text many documents have in common (a lead
    /// or quote reused across stories); the text a copy shares with its original alone puts
    /// them in small buckets of their own (at Jaccard 0.4 about five of the 32 bands), so
    /// the newest few of a crowded bucket lose no copy there. Without a tight bound the
    /// look-ups grow with the square of the dump, and the candidates a crowded bucket adds
    /// are other stories that chain into one cluster. On generated dumps with true clusters
    /// (copies spread over 5,000 stories), from 256 down to 2 the recall stays the same
    /// (0.985 at 1 GB, 0.984 at 200 MB) while the unique stories dropped fall (1 GB: 14,384
    /// at 256, 11,982 at 8, 10,174 at 4, 8,172 at 2) and the duplicates left rise a little
    /// (586, 592, 599, 624 of 261,689 stories): pairwise F1 at 1 GB goes 0.35, 0.53, 0.63,
    /// 0.74 (200 MB: 0.911 at 8, 0.921 at 4, 0.931 at 2), and the dev set's clusters are the
    /// same for all four. 2 checks 4.0 M candidates at 1 GB where 256 checked 29.9 M: the
    /// look-ups, the one part of the run that grows faster than the dump, grow least.
    pub max_bucket_scan: usize,
    /// Which document of a cluster is kept: `first`, `longest` or `most-complete`.
    pub keep: KeepPolicy,
    pub intra: IntraConfig,
    pub paragraphs: ParagraphConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            shingle_size: 3,
            num_hashes: 64,
            bands: 32,
            rows: 2,
            jaccard_threshold: 0.4,
            containment_threshold: 0.7,
            min_containment_shingles: 50,
            containment_min_jaccard: 0.25,
            sketch_size: 256,
            min_line_words: 6,
            max_bucket_scan: 2,
            keep: KeepPolicy::MostComplete,
            intra: IntraConfig::default(),
            paragraphs: ParagraphConfig::default(),
        }
    }
}

fn check_unit(key: &str, v: f64) -> Result<(), ConfigError> {
    if !(v > 0.0 && v <= 1.0) {
        return Err(ConfigError::invalid(
            format!("stages.dedup.{key}"),
            format!("must be in (0, 1], got {v}"),
        ));
    }
    Ok(())
}

impl Config {
    pub fn build(&self) -> Result<Dedup, ConfigError> {
        let bad = |k: &str, m: String| Err(ConfigError::invalid(format!("stages.dedup.{k}"), m));
        if self.shingle_size == 0 || self.shingle_size > 32 {
            return bad(
                "shingle_size",
                format!("must be 1..=32, got {}", self.shingle_size),
            );
        }
        if self.rows == 0 || self.rows > 64 {
            return bad("rows", format!("must be 1..=64, got {}", self.rows));
        }
        if self.bands == 0 {
            return bad("bands", "must be at least 1".into());
        }
        if self.bands * self.rows != self.num_hashes {
            return bad(
                "num_hashes",
                format!(
                    "must equal bands * rows ({} * {} = {}), got {}",
                    self.bands,
                    self.rows,
                    self.bands * self.rows,
                    self.num_hashes
                ),
            );
        }
        if self.num_hashes > MinHasher::MAX_BINS {
            return bad(
                "num_hashes",
                format!("at most {}, got {}", MinHasher::MAX_BINS, self.num_hashes),
            );
        }
        if self.sketch_size < 16 || self.sketch_size > 65_535 {
            return bad(
                "sketch_size",
                format!("must be 16..=65535, got {}", self.sketch_size),
            );
        }
        if self.max_bucket_scan == 0 {
            return bad("max_bucket_scan", "must be at least 1".into());
        }
        check_unit("jaccard_threshold", self.jaccard_threshold)?;
        check_unit("containment_threshold", self.containment_threshold)?;
        if !(0.0..=1.0).contains(&self.containment_min_jaccard) {
            return bad(
                "containment_min_jaccard",
                format!("must be in [0, 1], got {}", self.containment_min_jaccard),
            );
        }
        check_unit("intra.containment", self.intra.containment)?;
        check_unit("intra.similarity", self.intra.similarity)?;
        if self.intra.min_words == 0 {
            return bad("intra.min_words", "must be at least 1".into());
        }
        if self.paragraphs.min_docs < 2 {
            return bad(
                "paragraphs.min_docs",
                format!("must be at least 2, got {}", self.paragraphs.min_docs),
            );
        }
        Ok(Dedup {
            minhash: MinHasher::new(self.num_hashes),
            intra: IntraOptions {
                min_words: self.intra.min_words,
                containment: self.intra.containment,
                similarity: self.intra.similarity,
                title: self.intra.title,
            },
            cfg: self.clone(),
            index: Index::default(),
            repeated_lines: AtomicU64::new(0),
            paragraphs: KeyMap::default(),
            paragraphs_dropped: 0,
        })
    }
}

/// What `summarise` hands to `admit`: hashes and sketches only.
#[derive(Debug, Clone, PartialEq)]
pub struct DocSummary {
    /// xxh3 over the normalised token stream of the whole text.
    pub exact: u64,
    /// Distinct content shingles.
    pub shingles: u32,
    /// Bottom-k sketch of the content shingles (sorted).
    pub sketch: Vec<u32>,
    /// One LSH key per band.
    pub bands: Vec<u64>,
    /// Characters of text (for `keep = "longest"`).
    pub chars: u32,
    /// Hashes of the paragraphs (only with the paragraph-level pass on).
    pub paragraphs: Vec<u64>,
}

pub(crate) const NONE: u32 = u32::MAX;

/// Where an encoded summary's sketch starts (after exact hash, sizes and the three counts):
/// its values are little-endian `u32`s from there on.
pub const SUMMARY_SKETCH_AT: usize = 28;

/// Version of how a document's dedup summary is computed (word hashes, shingles, sketches).
/// Bumped with every change that makes summaries of the same text differ: a saved index
/// ([`Dedup::save_index`]) and the files of a sharded job made under another version are
/// refused instead of being compared with new summaries.
pub const SUMMARY_FORMAT: &[u8] = b"dedup-summary-v3";

/// Length of the sketch prefix of the first look at a candidate pair.
pub(crate) const QUICK: usize = 48;

/// Add document `me` to the buckets of its band `keys`; the buckets' handles from before
/// (where the walks for `me` start) go to `before` (a key an earlier band of `me` already had
/// gets none: the 64-bit keys are seeded by band, so that is a hash collision).
pub(crate) fn link_bands(buckets: &mut Buckets, me: u32, keys: &[u64], before: &mut Vec<u32>) {
    before.clear();
    for &key in keys {
        buckets.prefetch(key);
    }
    for (b, &key) in keys.iter().enumerate() {
        before.push(if keys[..b].contains(&key) {
            NONE
        } else {
            buckets.push(key, me)
        });
    }
}

/// The candidates of a document from its buckets' handles: up to `max_scan` earlier
/// documents of each band's bucket (newest first), sorted, each once. The result is a union
/// over the bands: a range of bands gives a subset, and the union of the subsets of a
/// partition of the bands is the whole.
pub(crate) fn walk_bands(buckets: &Buckets, before: &[u32], max_scan: usize, cands: &mut Vec<u32>) {
    cands.clear();
    buckets.walk_all(before, max_scan, cands);
    cands.sort_unstable();
    cands.dedup();
}

/// Ask the CPU to bring `x` into the cache (a hint: no effect on results).
#[inline(always)]
pub(crate) fn prefetch<T>(x: &T) {
    prefetch_ptr(x as *const T);
}

/// [`prefetch`] of whatever is at `p`: nothing is read, so `p` needs no borrow (nor any
/// lock that guards what it points to).
#[inline(always)]
pub(crate) fn prefetch_ptr<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch never faults, reads nothing the program sees and has no visible
    // effect, whatever the address; SSE is part of x86_64.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p as *const i8)
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Hasher for keys that are already uniform 64-bit hashes (band keys, text hashes).
#[derive(Default)]
pub(crate) struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ b as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

pub(crate) type KeyMap<V> = HashMap<u64, V, BuildHasherDefault<KeyHasher>>;

/// One admitted document in the index.
#[derive(Debug, Clone)]
struct Entry {
    id: Box<str>,
    seq: u64,
    shingles: u32,
    chars: u32,
    /// Best similarity to another member of its cluster (1.0 for an exact copy).
    best: f32,
    /// Kept (written to the corpus): a later run never lets a copy of it back in.
    published: bool,
}

impl Entry {
    fn new(id: Box<str>, seq: u64, shingles: u32, chars: u32) -> Entry {
        Entry {
            id,
            seq,
            shingles,
            chars,
            best: 0.0,
            published: false,
        }
    }
}

/// The bounded-size index: sketches, band buckets (linked lists through `next`), exact
/// hashes and the union-find forest. Document `i` is the `i`-th admitted.
#[derive(Debug, Default)]
struct Index {
    entries: Chunked<Entry>,
    /// The first [`QUICK`] values of every document's sketch, one cache-line aligned block
    /// each: the first look at a candidate reads only this (and `sizes`), found from the
    /// document number alone.
    prefixes: Chunked<Prefix>,
    /// Sizes of every document's set and sketch, and where its sketch's tail is.
    sizes: Chunked<Sizes>,
    /// The rest of every sketch (its values after the first [`QUICK`]).
    sketches: Slices,
    buckets: Buckets,
    exact: KeyMap<u32>,
    parent: Chunked<u32>,
    /// At a root of the union-find forest: the member its cluster keeps so far under the keep
    /// policy ([`Dedup::rank`]; ties go to the earlier document). Elsewhere stale.
    top: Chunked<u32>,
    /// Documents read from a saved index (earlier runs): they come first.
    loaded: u32,
    candidates_checked: u64,
    exact_dups: u64,
    near_dups: u64,
}

impl Index {
    fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let p = self.parent[x as usize];
            self.parent[x as usize] = self.parent[p as usize];
            x = p;
        }
        x
    }

    /// Join two clusters; the root is the earlier document (so under `first` the root of a
    /// cluster is always its kept document).
    fn union(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.parent[hi as usize] = lo;
        }
    }

    /// The sequential first part of admitting document `me` (the next one to join): it joins
    /// its first `nb` band buckets (their handles from before are where its walks start, one
    /// hash table access per band), the exact-copy table and the sketches. What a later
    /// document's look-up reads of it is then in place; the decision on it is not taken yet.
    fn link(&mut self, nb: usize, me: u32, s: &DocSummary) -> Linked {
        let exact_of = match self.exact.entry(s.exact) {
            std::collections::hash_map::Entry::Occupied(o) => Some(*o.get()),
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(me);
                None
            }
        };
        // An exact copy joins no bucket: a later document finds its first copy there, which
        // has its text, so the copy would only be the same candidate again (one document in
        // eight of a 1 GB generated dump is an exact copy).
        let mut handles = Vec::new();
        if exact_of.is_none() {
            handles.reserve(nb);
            link_bands(
                &mut self.buckets,
                me,
                &s.bands[..nb.min(s.bands.len())],
                &mut handles,
            );
        }
        self.push_sketch(&s.sketch, s.shingles);
        Linked { handles, exact_of }
    }

    /// Store the next document's sketch.
    fn push_sketch(&mut self, sketch: &[u32], shingles: u32) {
        let n = sketch.len().min(QUICK);
        let mut p = Prefix([0; QUICK]);
        p.0[..n].copy_from_slice(&sketch[..n]);
        self.prefixes.push(p);
        let tail = self.sketches.push(&sketch[n..]);
        self.sizes.push(Sizes {
            shingles,
            len: sketch.len() as u32,
            tail,
        });
    }

    /// The first [`QUICK`] values of document `i`'s sketch.
    fn prefix(&self, i: u32) -> &[u32] {
        let n = self.sizes[i as usize].len as usize;
        &self.prefixes[i as usize].0[..n.min(QUICK)]
    }

    /// The rest of document `i`'s sketch.
    fn tail(&self, i: u32) -> &[u32] {
        let z = self.sizes[i as usize];
        self.sketches
            .get(z.tail, (z.len as usize).saturating_sub(QUICK))
    }

    /// Document `i`'s whole sketch, into `out`.
    fn sketch_into(&self, i: u32, out: &mut Vec<u32>) {
        out.clear();
        out.extend_from_slice(self.prefix(i));
        out.extend_from_slice(self.tail(i));
    }
}

/// A document's number of distinct shingles, its sketch length and the start of the
/// sketch's tail in `Index::sketches`.
#[derive(Debug, Clone, Copy)]
struct Sizes {
    shingles: u32,
    len: u32,
    tail: u64,
}

/// The first [`QUICK`] values of a sketch (unused places are 0), 3 cache lines.
#[derive(Debug, Clone, Copy)]
#[repr(C, align(64))]
pub(crate) struct Prefix(pub(crate) [u32; QUICK]);

/// The dedup barrier stage; build it from [`Config`].
pub struct Dedup {
    cfg: Config,
    minhash: MinHasher,
    intra: IntraOptions,
    index: Index,
    repeated_lines: AtomicU64,
    /// Paragraph hash -> number of kept documents it was seen in.
    paragraphs: KeyMap<u32>,
    paragraphs_dropped: u64,
}

/// Scratch space of the candidate look-up.
#[derive(Debug, Default)]
struct Bufs {
    cands: Vec<u32>,
    other: Vec<u32>,
    close: Vec<u32>,
}

/// What joining the band buckets tells of a batch's document before its candidates are
/// looked up ([`Dedup::admit_batch`]): where its walks start and the exact copy it is of.
struct Linked {
    handles: Vec<u32>,
    exact_of: Option<u32>,
}

/// Hash of a run of normalised tokens (a paragraph, a whole text): xxh3 of their
/// little-endian bytes.
fn hash_tokens(tokens: &[u64]) -> u64 {
    #[cfg(target_endian = "little")]
    {
        // SAFETY: a `u64` slice is readable as `8 * len` bytes (no padding, any byte is a
        // valid `u8`), which on little-endian are the tokens' little-endian bytes.
        let bytes =
            unsafe { std::slice::from_raw_parts(tokens.as_ptr() as *const u8, tokens.len() * 8) };
        xxhash_rust::xxh3::xxh3_64(bytes)
    }
    #[cfg(not(target_endian = "little"))]
    {
        let mut h = Xxh3::new();
        for t in tokens {
            h.update(&t.to_le_bytes());
        }
        h.digest()
    }
}

/// Per-thread buffers of `summarise` and of the parallel candidate look-ups (so that no
/// document allocates them anew).
#[derive(Default)]
struct Scratch {
    look: Bufs,
    toks: text::Tokens,
    /// The title's tokens (intra pass).
    title: text::Tokens,
    stream: Vec<u64>,
    sh: Vec<u64>,
    keys: Vec<u32>,
    sig: Vec<u32>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

/// Paragraphs of a text: runs of non-blank lines, as `(first line, end line)`.
fn paragraph_spans(lines: &[&str]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, l) in lines.iter().enumerate() {
        if l.trim().is_empty() {
            if let Some(s) = start.take() {
                out.push((s, i));
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        out.push((s, lines.len()));
    }
    out
}

impl Dedup {
    /// Hash of the settings a saved index depends on (summaries made with other settings
    /// cannot be compared with it).
    fn fingerprint(&self) -> u64 {
        let c = &self.cfg;
        let mut h = Xxh3::new();
        h.update(SUMMARY_FORMAT);
        for v in [
            c.shingle_size,
            c.num_hashes,
            c.bands,
            c.rows,
            c.sketch_size,
            c.min_line_words,
            c.paragraphs.min_words,
        ] {
            h.update(&(v as u64).to_le_bytes());
        }
        h.digest()
    }

    /// The pure per-document computation, exposed for tools and tests.
    pub fn summarise_doc(&self, doc: &mut Document) -> DocSummary {
        let mut toks = SCRATCH.with_borrow_mut(|sc| std::mem::take(&mut sc.toks));
        text::tokenize_into(&doc.text, &mut toks);
        let mut fates: Option<Vec<LineFate>> = None;
        let mut old_text = None;
        if self.cfg.intra.enabled {
            let mut title_toks = SCRATCH.with_borrow_mut(|sc| std::mem::take(&mut sc.title));
            let title = match doc.title.as_deref() {
                Some(t) if self.intra.title => {
                    text::tokenize_into(t, &mut title_toks);
                    Some(title_toks.hashes.as_slice())
                }
                _ => None,
            };
            let f = text::intra_fates(&doc.text, &toks, title, &self.intra);
            SCRATCH.with_borrow_mut(|sc| sc.title = title_toks);
            if f.iter().any(|x| *x != LineFate::Keep) {
                let first_unit = toks.lines.iter().position(|&(a, b)| b > a);
                let mut n = 0u64;
                for (i, x) in f.iter().enumerate() {
                    if *x == LineFate::Drop {
                        let rule = if Some(i) == first_unit {
                            "repeated-title"
                        } else {
                            "repeated-paragraph"
                        };
                        n += u64::from(rule == "repeated-paragraph");
                        if doc.log.audit {
                            doc.log
                                .removed("dedup", rule, i + 1, toks.text_line(&doc.text, i));
                        } else {
                            doc.log.count("dedup", rule, 1);
                        }
                    }
                }
                self.repeated_lines.fetch_add(n, Ordering::Relaxed);
                let new_text =
                    text::apply_fates(&f, |i| toks.text_line(&doc.text, i), doc.text.len());
                old_text = Some(std::mem::replace(&mut doc.text, new_text));
                fates = Some(f);
            }
        }
        // Token ranges refer to the text as tokenised: follow the fates through it.
        let src = old_text.as_deref().unwrap_or(&doc.text);
        let content = text::content_lines(src, &toks, fates.as_deref(), self.cfg.min_line_words);
        let parts = SCRATCH.with_borrow_mut(|sc| {
            // The exact hash: all the tokens left, in order (without fates, all of them).
            let exact = match &fates {
                None => hash_tokens(&toks.hashes),
                Some(f) => {
                    sc.stream.clear();
                    for (i, fate) in f.iter().enumerate() {
                        match *fate {
                            LineFate::Drop => {}
                            LineFate::ReplaceWith(j) => sc.stream.extend_from_slice(toks.line(j)),
                            LineFate::Keep => sc.stream.extend_from_slice(toks.line(i)),
                        }
                    }
                    hash_tokens(&sc.stream)
                }
            };
            // The content lines' tokens (all the tokens left when no line is content).
            if !content.is_empty() {
                sc.stream.clear();
                for &l in &content {
                    sc.stream.extend_from_slice(toks.line(l));
                }
            } else if fates.is_none() {
                sc.stream.clear();
                sc.stream.extend_from_slice(&toks.hashes);
            }
            let Scratch {
                stream,
                sh,
                keys,
                sig,
                ..
            } = sc;
            sketch::shingles(stream, self.cfg.shingle_size, sh);
            let (bk, n) = sketch::bottom_k(sh, self.cfg.sketch_size, keys);
            let mut bands = Vec::with_capacity(self.cfg.bands);
            if !sh.is_empty() {
                self.minhash.signature(sh, sig);
                sketch::band_keys(sig, self.cfg.rows, &mut bands);
            }
            (exact, bk, n, bands)
        });
        let summary = self.finish_summary(doc, &toks, parts, old_text.is_some());
        SCRATCH.with_borrow_mut(|sc| sc.toks = toks);
        summary
    }

    fn finish_summary(
        &self,
        doc: &Document,
        toks: &text::Tokens,
        parts: (u64, Vec<u32>, u32, Vec<u64>),
        retokenize: bool,
    ) -> DocSummary {
        let (exact, bk, n, bands) = parts;
        let paragraphs = if self.cfg.paragraphs.enabled {
            let new_toks;
            let toks = if retokenize {
                new_toks = text::tokenize(&doc.text);
                &new_toks
            } else {
                toks
            };
            let lines: Vec<&str> = crate::document::split_lines(&doc.text).collect();
            paragraph_spans(&lines)
                .into_iter()
                .map(|(a, b)| {
                    let (s, e) = (toks.lines[a].0, toks.lines[b - 1].1);
                    let t = &toks.hashes[s as usize..e as usize];
                    if t.len() < self.cfg.paragraphs.min_words {
                        0
                    } else {
                        hash_tokens(t) | 1
                    }
                })
                .collect()
        } else {
            Vec::new()
        };
        DocSummary {
            exact,
            shingles: n,
            sketch: bk,
            bands,
            chars: doc.text.chars().count().min(u32::MAX as usize) as u32,
            paragraphs,
        }
    }

    /// The sequential decision for one summarised document (exposed for tools and tests).
    ///
    /// Three parts, shared with the split form of the cross-shard dedup (`presswash buckets`
    /// and `clusters`, see [`crate::shard`]): the band buckets give the candidates
    /// ([`link_bands`], [`walk_bands`]); each candidate is verified by a pure function of the
    /// two documents' sketches and sizes ([`Dedup::quick_look`], [`Dedup::verify`]); the
    /// verified matches are recorded and decided on ([`Dedup::record`], [`Dedup::verdict`]).
    pub fn admit_summary(&mut self, doc: &mut Document, s: DocSummary) -> Admission {
        let me = self.index.entries.len() as u32;
        let l = self.index.link(self.cfg.bands, me, &s);
        let (matches, checked) = self.matches_of(&s, &l);
        self.index.candidates_checked += checked;
        self.decide(doc, &s, l.exact_of.is_some(), &matches)
    }

    /// The read-only middle part: the verified matches of a linked document (only its first
    /// copy for an exact copy) and the number of candidates looked at. It reads nothing of
    /// documents linked after it, so a batch's look-ups can run in parallel.
    fn matches_of(&self, s: &DocSummary, l: &Linked) -> (Vec<(u32, f64)>, u64) {
        if let Some(j) = l.exact_of {
            return (vec![(j, 1.0)], 0);
        }
        let mut bufs = SCRATCH.with_borrow_mut(|sc| std::mem::take(&mut sc.look));
        let mut matches = Vec::new();
        let checked = self.find_matches(s, &l.handles, &mut bufs, &mut matches);
        SCRATCH.with_borrow_mut(|sc| sc.look = bufs);
        (matches, checked)
    }

    /// The sequential last part, in input order: record the document with its matches and
    /// decide (the paragraph-level pass edits only documents that start a cluster).
    fn decide(
        &mut self,
        doc: &mut Document,
        s: &DocSummary,
        exact: bool,
        matches: &[(u32, f64)],
    ) -> Admission {
        let me = self.index.entries.len() as u32;
        let entry = Entry::new(
            doc.id.clone().into_boxed_str(),
            doc.seq,
            s.shingles,
            s.chars,
        );
        let best = self.record(entry, exact, matches);
        if self.cfg.paragraphs.enabled && best.is_none() {
            self.paragraph_pass(doc, &s.paragraphs);
        }
        self.verdict(me, best)
    }

    /// The verified near matches of a document whose bucket walks start at `handles`:
    /// `(earlier document, similarity)` in index order, into `matches`. Returns the number of
    /// candidates looked at. Reads the index only.
    fn find_matches(
        &self,
        s: &DocSummary,
        handles: &[u32],
        bufs: &mut Bufs,
        matches: &mut Vec<(u32, f64)>,
    ) -> u64 {
        let Bufs {
            cands,
            other,
            close,
        } = bufs;
        // Candidates: every earlier document sharing a band key, in index order.
        walk_bands(
            &self.index.buckets,
            handles,
            self.cfg.max_bucket_scan,
            cands,
        );
        self.check_candidates(s, cands, other, close, matches)
    }

    /// Verify `cands` (sorted) against `s`, appending the matches in that order; returns
    /// their number.
    fn check_candidates(
        &self,
        s: &DocSummary,
        cands: &[u32],
        other: &mut Vec<u32>,
        close: &mut Vec<u32>,
        matches: &mut Vec<(u32, f64)>,
    ) -> u64 {
        // First look at every candidate on the bottom-48 prefixes: clearly unrelated
        // pairs stop here. Then the whole sketches of the rest.
        close.clear();
        for (k, &c) in cands.iter().enumerate() {
            // Fetch ahead the first-look data of the candidate 8 on.
            if let Some(&f) = cands.get(k + 8) {
                prefetch(&self.index.sizes[f as usize]);
                let p = &self.index.prefixes[f as usize].0;
                for at in (0..QUICK).step_by(16) {
                    prefetch(&p[at]);
                }
            }
            if self.quick_look(
                &s.sketch,
                s.shingles,
                self.index.prefix(c),
                self.index.sizes[c as usize].shingles,
            ) {
                close.push(c);
            }
        }
        for (k, &c) in close.iter().enumerate() {
            if let Some(&f) = close.get(k + 2) {
                let t = self.index.tail(f);
                for at in (0..t.len()).step_by(16) {
                    prefetch(&t[at]);
                }
            }
            self.index.sketch_into(c, other);
            if let Some(sim) = self.verify(
                &s.sketch,
                s.shingles,
                other,
                self.index.sizes[c as usize].shingles,
            ) {
                matches.push((c, sim));
            }
        }
        cands.len() as u64
    }

    /// The first look at a candidate pair, on the first [`QUICK`] values of the candidate's
    /// sketch (`prefix`): false when the pair is clearly unrelated. Pure.
    pub(crate) fn quick_look(
        &self,
        sketch: &[u32],
        shingles: u32,
        prefix: &[u32],
        prefix_shingles: u32,
    ) -> bool {
        let quick = sketch::similarity(
            sketch::prefix(sketch, QUICK),
            shingles,
            prefix,
            prefix_shingles,
        );
        quick.jaccard >= self.cfg.jaccard_threshold * 0.4
            || quick.containment >= self.cfg.containment_threshold * 0.5
    }

    /// A candidate pair verified on the whole sketches: its similarity if the two documents
    /// are duplicates. Pure.
    pub(crate) fn verify(
        &self,
        sketch: &[u32],
        shingles: u32,
        other: &[u32],
        other_shingles: u32,
    ) -> Option<f64> {
        let sim = sketch::similarity(sketch, shingles, other, other_shingles);
        let small = shingles.min(other_shingles) as usize;
        let by_j = sim.jaccard >= self.cfg.jaccard_threshold;
        let by_c = small >= self.cfg.min_containment_shingles
            && sim.containment >= self.cfg.containment_threshold
            && sim.jaccard >= self.cfg.containment_min_jaccard;
        (by_j || by_c).then(|| sim.jaccard.max(if by_c { sim.containment } else { 0.0 }))
    }

    /// Record the next document (number `len()` of the index) with its verified matches
    /// (`(earlier document, similarity)` in candidate order; only `(first copy, 1.0)` for an
    /// exact copy): union-find, best similarities, counters. Returns its best match. Touches
    /// no sketch, no band table and no exact-copy table.
    ///
    /// The document joins the cluster of every match only if it is no fragment of any of
    /// them ([`glues`]); otherwise it joins the cluster of its best match alone.
    fn record(&mut self, entry: Entry, exact: bool, matches: &[(u32, f64)]) -> Option<(u32, f64)> {
        let me = self.index.entries.len() as u32;
        let shingles = entry.shingles;
        self.index.entries.push(entry);
        self.index.parent.push(me);
        self.index.top.push(me);
        // The best match: highest similarity, the earliest in candidate order on a tie.
        let mut best: Option<(u32, f64)> = None;
        for &(c, sim) in matches {
            if best.is_none_or(|(_, b)| sim > b) {
                best = Some((c, sim));
            }
        }
        let all = matches
            .iter()
            .all(|&(c, _)| glues(shingles, self.index.entries[c as usize].shingles));
        for &(c, sim) in matches {
            if all || best.is_some_and(|(b, _)| b == c) {
                self.join(me, c);
                let e = &mut self.index.entries[c as usize];
                e.best = e.best.max(sim as f32);
            }
        }
        if let Some((_, sim)) = best {
            self.index.entries[me as usize].best = sim as f32;
            if exact {
                self.index.exact_dups += 1;
            } else {
                self.index.near_dups += 1;
            }
        }
        best
    }

    /// The verdict on document `me` just recorded with best match `best` (the keep policy).
    pub(crate) fn verdict(&mut self, me: u32, best: Option<(u32, f64)>) -> Admission {
        match self.cfg.keep {
            KeepPolicy::First => match best {
                None => {
                    self.index.entries[me as usize].published = true;
                    Admission::Keep
                }
                Some((_, sim)) => {
                    let root = self.index.find(me);
                    Admission::Duplicate {
                        of: self.index.entries[root as usize].id.to_string(),
                        similarity: round_sim(sim),
                    }
                }
            },
            _ => {
                let root = self.index.find(me);
                if self.index.top[root as usize] == me {
                    Admission::Deferred
                } else {
                    Admission::Outranked
                }
            }
        }
    }

    /// How good a keeper a document is under the keep policy (higher is better): a document
    /// kept by an earlier run (published) always wins.
    fn rank(&self, i: u32) -> (bool, u32, u32) {
        let e = &self.index.entries[i as usize];
        match self.cfg.keep {
            KeepPolicy::Longest => (e.published, e.chars, 0),
            _ => (e.published, e.shingles, e.chars),
        }
    }

    /// The better keeper of `a` and `b` ([`Dedup::rank`]; the earlier on a tie).
    fn better_of(&self, a: u32, b: u32) -> u32 {
        let (lo, hi) = if a < b { (a, b) } else { (b, a) };
        if self.rank(hi) > self.rank(lo) {
            hi
        } else {
            lo
        }
    }

    /// Join the clusters of `a` and `b` ([`Index::union`]), keeping the joined cluster's
    /// best member at its root.
    fn join(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.index.find(a), self.index.find(b));
        if ra != rb {
            let top = self.better_of(self.index.top[ra as usize], self.index.top[rb as usize]);
            self.index.union(ra, rb);
            let r = ra.min(rb);
            self.index.top[r as usize] = top;
        }
    }

    /// [`Index::top`] of an index read from disk, where only the forest is saved.
    fn rebuild_top(&mut self) {
        let n = self.index.entries.len() as u32;
        self.index.top = (0..n).collect();
        for i in 0..n {
            let r = self.index.find(i);
            let t = self.better_of(self.index.top[r as usize], i);
            self.index.top[r as usize] = t;
        }
    }

    /// The split form's decision ([`crate::shard`]'s `clusters` step): the next document,
    /// with the verified near-duplicate `matches` found by the band ranges (merged in
    /// candidate order), decided exactly as [`Dedup::admit_summary`] does: an exact copy of
    /// an earlier document matches only that one (its band candidates are not used).
    pub fn admit_matches(
        &mut self,
        id: &str,
        seq: u64,
        shingles: u32,
        chars: u32,
        exact: u64,
        matches: &[(u32, f64)],
    ) -> Admission {
        let me = self.index.entries.len() as u32;
        let exact_of = *self.index.exact.entry(exact).or_insert(me);
        let entry = Entry::new(id.into(), seq, shingles, chars);
        let best = if exact_of != me {
            self.record(entry, true, &[(exact_of, 1.0)])
        } else {
            self.record(entry, false, matches)
        };
        self.verdict(me, best)
    }

    /// Summarise and admit a batch (the pipeline's form of [`BarrierStage::run_batch`]), in
    /// three steps, with the verdicts of [`Dedup::admit_summary`] one by one:
    /// 1. the documents are summarised in parallel, a chunk at a time in input order, and
    ///    whichever worker finishes the next chunk in order links it into the index
    ///    ([`Index::link`]) while the others summarise on: the sequential part overlaps the
    ///    parallel one (summaries never read the index, so it is moved out meanwhile);
    /// 2. every document's candidates are looked up and verified in parallel (each reads
    ///    only documents linked before it, all in place by then);
    /// 3. the decisions are taken in input order.
    pub fn run_batch(
        &mut self,
        mut docs: Vec<&mut Document>,
        pool: &rayon::ThreadPool,
    ) -> Vec<Admission> {
        use std::sync::atomic::AtomicUsize;
        use std::sync::Mutex;
        /// Documents per chunk: small enough for the linking to follow the summaries
        /// closely, big enough that the locks cost nothing.
        const CHUNK: usize = 32;
        struct Linker {
            index: Index,
            next: usize,
            sums: Vec<DocSummary>,
            linked: Vec<Linked>,
        }
        let n = docs.len();
        let nb = self.cfg.bands;
        let base = self.index.entries.len() as u32;
        let linker = Mutex::new(Linker {
            index: std::mem::take(&mut self.index),
            next: 0,
            sums: Vec::with_capacity(n),
            linked: Vec::with_capacity(n),
        });
        let done: Mutex<BTreeMap<usize, Vec<DocSummary>>> = Mutex::new(BTreeMap::new());
        let chunks: Vec<Mutex<&mut [&mut Document]>> =
            docs.chunks_mut(CHUNK).map(Mutex::new).collect();
        let taken = AtomicUsize::new(0);
        let this = &*self;
        // Link every chunk that is next in order; a worker that finds the linker busy leaves
        // its chunk to it (the holder looks again after letting go, so none is left behind).
        let link_ready = || loop {
            let Ok(mut l) = linker.try_lock() else { return };
            loop {
                let Some(sums) = done
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&l.next)
                else {
                    break;
                };
                for s in sums {
                    let me = base + l.linked.len() as u32;
                    let Linker { index, linked, .. } = &mut *l;
                    linked.push(index.link(nb, me, &s));
                    l.sums.push(s);
                }
                l.next += 1;
            }
            let next = l.next;
            drop(l);
            if !done
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .contains_key(&next)
            {
                return;
            }
        };
        pool.install(|| {
            (0..pool.current_num_threads().max(1))
                .into_par_iter()
                .for_each(|_| loop {
                    // Chunks are taken in input order, whichever worker is free.
                    let k = taken.fetch_add(1, Ordering::Relaxed);
                    let Some(chunk) = chunks.get(k) else { return };
                    let mut chunk = chunk.lock().unwrap_or_else(|e| e.into_inner());
                    let sums: Vec<DocSummary> =
                        chunk.iter_mut().map(|d| this.summarise_doc(d)).collect();
                    done.lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(k, sums);
                    link_ready();
                })
        });
        drop(chunks);
        let Linker {
            index,
            sums,
            linked,
            ..
        } = linker.into_inner().unwrap_or_else(|e| e.into_inner());
        self.index = index;
        debug_assert_eq!(sums.len(), n, "every chunk linked");
        let this = &*self;
        let found: Vec<(Vec<(u32, f64)>, u64)> = pool.install(|| {
            sums.par_iter()
                .zip(&linked)
                .map(|(s, l)| this.matches_of(s, l))
                .collect()
        });
        let mut out = Vec::with_capacity(n);
        for (((doc, s), l), (matches, checked)) in
            docs.iter_mut().zip(&sums).zip(&linked).zip(found)
        {
            self.index.candidates_checked += checked;
            out.push(self.decide(doc, s, l.exact_of.is_some(), &matches));
        }
        out
    }

    /// A summary as this stage made it; one it did not make (cannot happen in the pipeline)
    /// is made again from the document.
    fn own_summary(&self, doc: &mut Document, summary: Summary) -> DocSummary {
        match summary.downcast::<DocSummary>() {
            Ok(s) => *s,
            Err(_) => self.summarise_doc(doc),
        }
    }

    /// Decode a summary made by `encode_summary` (`None`: damaged, or made with another
    /// number of bands). Its sketch starts [`SUMMARY_SKETCH_AT`] bytes into `bytes`.
    pub fn decode_doc_summary(&self, bytes: &[u8]) -> Option<DocSummary> {
        let mut r = bytes;
        let mut take = |n: usize| -> Option<&[u8]> {
            if r.len() < n {
                return None;
            }
            let (a, b) = r.split_at(n);
            r = b;
            Some(a)
        };
        let u64_at = |b: &[u8]| u64::from_le_bytes(b.try_into().unwrap_or([0; 8]));
        let u32_at = |b: &[u8]| u32::from_le_bytes(b.try_into().unwrap_or([0; 4]));
        let exact = u64_at(take(8)?);
        let shingles = u32_at(take(4)?);
        let chars = u32_at(take(4)?);
        let ns = u32_at(take(4)?) as usize;
        let nb = u32_at(take(4)?) as usize;
        let np = u32_at(take(4)?) as usize;
        if nb != self.cfg.bands && nb != 0 {
            return None;
        }
        let sketch = take(ns.checked_mul(4)?)?
            .chunks_exact(4)
            .map(u32_at)
            .collect();
        let bands = take(nb.checked_mul(8)?)?
            .chunks_exact(8)
            .map(u64_at)
            .collect();
        let paragraphs = take(np.checked_mul(8)?)?
            .chunks_exact(8)
            .map(u64_at)
            .collect();
        Some(DocSummary {
            exact,
            shingles,
            sketch,
            bands,
            chars,
            paragraphs,
        })
    }

    /// Documents recorded so far.
    pub fn documents(&self) -> u32 {
        self.index.entries.len() as u32
    }

    /// Count candidate pairs checked elsewhere (the split form's band ranges) in the report.
    pub fn add_candidates_checked(&mut self, n: u64) {
        self.index.candidates_checked += n;
    }

    /// The dedup settings.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    fn paragraph_pass(&mut self, doc: &mut Document, hashes: &[u64]) {
        let min_docs = self.cfg.paragraphs.min_docs;
        let mut drop = vec![false; hashes.len()];
        let mut any = false;
        let mut seen_here: Vec<u64> = Vec::with_capacity(hashes.len());
        for (i, &h) in hashes.iter().enumerate() {
            if h == 0 || seen_here.contains(&h) {
                continue;
            }
            seen_here.push(h);
            let full = self.paragraphs.len() >= self.cfg.paragraphs.max_entries;
            let count = match self.paragraphs.get_mut(&h) {
                Some(c) => {
                    *c = c.saturating_add(1);
                    *c
                }
                None if !full => {
                    self.paragraphs.insert(h, 1);
                    1
                }
                None => 0,
            };
            // Seen in at least `min_docs` earlier kept documents.
            if count > min_docs {
                drop[i] = true;
                any = true;
            }
        }
        // Never empty a document: keep it whole if every paragraph would go.
        if !any || drop.iter().zip(hashes).all(|(d, &h)| *d || h == 0) {
            return;
        }
        let lines: Vec<&str> = crate::document::split_lines(&doc.text).collect();
        let spans = paragraph_spans(&lines);
        if spans.len() != hashes.len() {
            return;
        }
        let mut fates = vec![LineFate::Keep; lines.len()];
        for (k, &(a, b)) in spans.iter().enumerate() {
            if drop[k] {
                for (line, fate) in fates.iter_mut().enumerate().take(b).skip(a) {
                    *fate = LineFate::Drop;
                    if doc.log.audit {
                        doc.log
                            .removed("dedup", "boilerplate-paragraph", line + 1, lines[line]);
                    }
                }
                if !doc.log.audit {
                    doc.log.count("dedup", "boilerplate-paragraph", 1);
                }
                self.paragraphs_dropped += 1;
            }
        }
        let text = text::apply_fates(&fates, |i| lines[i], doc.text.len());
        doc.text = text;
    }

    /// Final verdicts for `longest` / `most-complete`.
    fn resolve(&mut self) -> Vec<(u64, Admission)> {
        let n = self.index.entries.len() as u32;
        // The keeper of each cluster is the best member at its root (see `Dedup::join`).
        let rep = |ix: &mut Index, i: u32| {
            let r = ix.find(i);
            ix.top[r as usize]
        };
        for i in self.index.loaded..n {
            self.index.entries[i as usize].published = rep(&mut self.index, i) == i;
        }
        let mut out = Vec::with_capacity(n as usize);
        for i in 0..n {
            let k = rep(&mut self.index, i);
            let e = &self.index.entries[i as usize];
            if k == i {
                out.push((e.seq, Admission::Keep));
            } else {
                let sim = if e.best > 0.0 {
                    e.best as f64
                } else {
                    self.index.entries[k as usize].best as f64
                };
                out.push((
                    e.seq,
                    Admission::Duplicate {
                        of: self.index.entries[k as usize].id.to_string(),
                        similarity: round_sim(sim),
                    },
                ));
            }
        }
        out
    }
}

/// A document of `shingles` distinct shingles can join a cluster it matches to the clusters
/// of its other matches when it is at least this share of the matched document's size.
pub(crate) const GLUE_SHARE: f64 = 0.6;

/// Whether a document of `shingles` shingles that matches one of `other` shingles may link
/// that one's cluster with its other matches' clusters. Why: single-link clustering lets one
/// fragment chain unrelated stories. A truncated copy that holds little beyond a lead shared
/// by several different stories is contained in each of them, and joining them all glued
/// those stories into one cluster: on a 1 GB generated dump one cluster of 3,852 reports,
/// and one story in eleven lost. A fragment belongs to one story (its best match); a document
/// about as full as each of its matches (a whole copy that arrives after two partial ones)
/// still unites them.
pub(crate) fn glues(shingles: u32, other: u32) -> bool {
    f64::from(shingles) >= GLUE_SHARE * f64::from(other)
}

fn round_sim(s: f64) -> f64 {
    (s * 1000.0).round() / 1000.0
}

impl BarrierStage for Dedup {
    fn name(&self) -> &'static str {
        "dedup"
    }

    fn summarise(&self, doc: &mut Document) -> Summary {
        Box::new(self.summarise_doc(doc))
    }

    fn admit(&mut self, doc: &mut Document, summary: Summary) -> Admission {
        let s = self.own_summary(doc, summary);
        self.admit_summary(doc, s)
    }

    fn run_batch(&mut self, docs: Vec<&mut Document>, pool: &rayon::ThreadPool) -> Vec<Admission> {
        Dedup::run_batch(self, docs, pool)
    }

    fn streaming(&self) -> bool {
        self.cfg.keep == KeepPolicy::First
    }

    fn finish(&mut self) -> Vec<(u64, Admission)> {
        if self.cfg.keep == KeepPolicy::First {
            return Vec::new();
        }
        self.resolve()
    }

    fn encode_summary(&self, summary: &Summary) -> Option<Vec<u8>> {
        let s = summary.downcast_ref::<DocSummary>()?;
        let mut v =
            Vec::with_capacity(24 + 4 * s.sketch.len() + 8 * (s.bands.len() + s.paragraphs.len()));
        v.extend_from_slice(&s.exact.to_le_bytes());
        v.extend_from_slice(&s.shingles.to_le_bytes());
        v.extend_from_slice(&s.chars.to_le_bytes());
        for (n, _) in [
            (s.sketch.len(), 0),
            (s.bands.len(), 0),
            (s.paragraphs.len(), 0),
        ] {
            v.extend_from_slice(&(n as u32).to_le_bytes());
        }
        s.sketch
            .iter()
            .for_each(|x| v.extend_from_slice(&x.to_le_bytes()));
        s.bands
            .iter()
            .for_each(|x| v.extend_from_slice(&x.to_le_bytes()));
        s.paragraphs
            .iter()
            .for_each(|x| v.extend_from_slice(&x.to_le_bytes()));
        Some(v)
    }

    fn decode_summary(&self, bytes: &[u8]) -> Option<Summary> {
        Some(Box::new(self.decode_doc_summary(bytes)?))
    }

    fn save_index(&self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        persist::save(
            &self.index,
            &self.paragraphs,
            self.cfg.bands,
            self.fingerprint(),
            w,
        )
    }

    fn load_index(&mut self, r: &mut dyn std::io::Read) -> std::io::Result<()> {
        if !self.index.entries.is_empty() {
            return Err(std::io::Error::other(
                "dedup index: load into a fresh stage only",
            ));
        }
        let fp = self.fingerprint();
        persist::load(&mut self.index, &mut self.paragraphs, self.cfg.bands, fp, r)?;
        self.rebuild_top();
        Ok(())
    }

    fn as_dedup(&mut self) -> Option<&mut Dedup> {
        Some(self)
    }

    fn report(&self) -> serde_json::Value {
        let mut sizes: HashMap<u32, u32> = HashMap::new();
        let n = self.index.entries.len() as u32;
        let parent = &self.index.parent;
        let find = |p: &Chunked<u32>, mut x: u32| {
            while p[x as usize] != x {
                x = p[x as usize];
            }
            x
        };
        for i in 0..n {
            let r = find(parent, i);
            *sizes.entry(r).or_default() += 1;
        }
        let mut hist: BTreeMap<u32, u32> = BTreeMap::new();
        for &s in sizes.values() {
            *hist.entry(s).or_default() += 1;
        }
        let dup_clusters = sizes.values().filter(|&&s| s > 1).count();
        serde_json::json!({
            "documents": n,
            "clusters": sizes.len(),
            "duplicate_clusters": dup_clusters,
            "cluster_size_histogram": hist.iter().map(|(k, v)| (k.to_string(), serde_json::json!(v))).collect::<serde_json::Map<_, _>>(),
            "exact_duplicates": self.index.exact_dups,
            "band_links_dropped": self.index.buckets.dropped,
            "near_duplicates": self.index.near_dups,
            "candidates_checked": self.index.candidates_checked,
            "documents_from_state": self.index.loaded,
            "repeated_paragraphs_removed": self.repeated_lines.load(Ordering::Relaxed),
            "boilerplate_paragraphs_removed": self.paragraphs_dropped,
            "keep": self.cfg.keep,
        })
    }
}

#[cfg(test)]
mod tests;
