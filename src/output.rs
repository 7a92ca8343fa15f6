//! Output: the corpus files, written under temporary names and renamed only when the run
//! is complete, so a crash never leaves a corpus that looks complete but is not.
//!
//! Documents are serialised in parallel (see [`serialize_kept`]) and the writer thread only
//! appends bytes, in input order.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use crate::config::OutputConfig;
use crate::document::Document;
use crate::error::RunError;
use crate::input::RejectRecord;

pub const CLEAN_JSONL: &str = "clean.jsonl";
pub const CLEAN_CSV: &str = "clean.csv";
pub const DUPLICATES: &str = "duplicates.jsonl";
pub const REJECTS: &str = "rejects.jsonl";
pub const REMOVED: &str = "removed.jsonl";
pub const REPORT: &str = "report.json";

/// Columns of `clean.csv`. Carried metadata and recognised fields go, as one JSON object,
/// into `meta` so every row has the same columns.
pub const CSV_COLUMNS: &[&str] = &[
    "id",
    "source",
    "title",
    "text",
    "encoding",
    "chars_in",
    "chars_out",
    "input",
    "meta",
];

/// Keys `clean.jsonl` sets itself; a carried metadata field of the same name is renamed `meta_<key>`.
const RESERVED: &[&str] = &[
    "id",
    "source",
    "title",
    "text",
    "encoding",
    "input",
    "chars_in",
    "chars_out",
    "changes",
];

/// A file being written under a temporary name next to its final name.
pub struct AtomicFile {
    tmp: PathBuf,
    dest: PathBuf,
    w: Option<BlockWriter>,
}

impl AtomicFile {
    pub fn create(dir: &Path, name: &str) -> Result<AtomicFile, RunError> {
        let dest = dir.join(name);
        let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
        let f = File::create(&tmp).map_err(|e| RunError::io(&tmp, e))?;
        Ok(AtomicFile {
            tmp,
            dest,
            w: Some(BlockWriter::new(f)),
        })
    }

    pub fn write_all(&mut self, bytes: &[u8]) -> Result<(), RunError> {
        match self.w.as_mut() {
            Some(w) => w.write_all(bytes).map_err(|e| RunError::io(&self.tmp, e)),
            None => Ok(()),
        }
    }

    /// [`AtomicFile::write_all`] of each piece in turn.
    pub fn write_pieces(&mut self, pieces: &Pieces) -> Result<(), RunError> {
        pieces.iter().try_for_each(|b| self.write_all(b))
    }

    /// Flush and fsync; the file keeps its temporary name until [`AtomicFile::publish`].
    pub fn finish(&mut self) -> Result<(), RunError> {
        if let Some(w) = self.w.take() {
            let f = w.finish().map_err(|e| RunError::io(&self.tmp, e))?;
            f.sync_all().map_err(|e| RunError::io(&self.tmp, e))?;
        }
        Ok(())
    }

    pub fn publish(mut self) -> Result<(), RunError> {
        self.finish()?;
        std::fs::rename(&self.tmp, &self.dest).map_err(|e| RunError::io(&self.dest, e))?;
        self.tmp = PathBuf::new();
        Ok(())
    }
}

/// Bytes of a [`BlockWriter`] buffer, written out whenever it is full.
pub(crate) const BLOCK: usize = 4 << 20;
/// Alignment of memory, sizes and offsets that direct I/O asks for (the largest logical block
/// size of common disks).
pub(crate) const ALIGN: usize = 4096;

/// A buffer of `BLOCK + ALIGN` bytes and the start of its aligned `BLOCK`, as direct I/O
/// needs.
pub(crate) fn aligned_block() -> (Vec<u8>, usize) {
    let mem = vec![0u8; BLOCK + ALIGN];
    let start = mem.as_ptr().align_offset(ALIGN).min(ALIGN);
    (mem, start)
}

/// Buffered writer of an output file that hands whole aligned blocks to the disk with
/// `O_DIRECT` where the file system takes it (Linux).
///
/// Why: a buffered `write` copies every byte into the page cache, and on a machine where
/// those pages are new to the process (a virtual machine's memory, a page cache kept full by
/// the dump being read) that copy cost more CPU than serialising the corpus: up to a second
/// per 277 MB of output here. A direct write lets the disk read the buffer itself. The last
/// partial block goes through the page cache (direct I/O only takes whole blocks), and a file
/// system that refuses direct I/O, at `fcntl` or at a write, gets ordinary buffered writes
/// from then on; either way the bytes are the same.
pub(crate) struct BlockWriter {
    file: File,
    /// `BLOCK + ALIGN` bytes; the block is the aligned window at `start`.
    mem: Vec<u8>,
    start: usize,
    len: usize,
    direct: bool,
}

impl BlockWriter {
    pub(crate) fn new(file: File) -> BlockWriter {
        let (mem, start) = aligned_block();
        let direct = set_direct(&file, true);
        BlockWriter {
            file,
            mem,
            start,
            len: 0,
            direct,
        }
    }

    pub(crate) fn write_all(&mut self, mut bytes: &[u8]) -> std::io::Result<()> {
        while !bytes.is_empty() {
            let n = (BLOCK - self.len).min(bytes.len());
            let at = self.start + self.len;
            self.mem[at..at + n].copy_from_slice(&bytes[..n]);
            self.len += n;
            bytes = &bytes[n..];
            if self.len == BLOCK {
                self.write_block()?;
            }
        }
        Ok(())
    }

    /// Write the buffered bytes and empty the buffer. A direct write that the kernel refuses
    /// or takes only in part (leaving the file offset unaligned) turns direct I/O off for
    /// the rest of the file.
    fn write_block(&mut self) -> std::io::Result<()> {
        let mut done = 0;
        while done < self.len {
            let part = &self.mem[self.start + done..self.start + self.len];
            match (&self.file).write(part) {
                Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    done += n;
                    if self.direct && done % ALIGN != 0 {
                        self.direct = set_direct(&self.file, false);
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) if self.direct && e.raw_os_error() == Some(EINVAL) => {
                    self.direct = set_direct(&self.file, false);
                    if self.direct {
                        return Err(e);
                    }
                }
                Err(e) => return Err(e),
            }
        }
        self.len = 0;
        Ok(())
    }

    /// Write what is left (through the page cache: it is not a whole block) and hand back
    /// the file.
    pub(crate) fn finish(mut self) -> std::io::Result<File> {
        if self.direct {
            self.direct = set_direct(&self.file, false);
        }
        self.write_block()?;
        Ok(self.file)
    }
}

#[cfg(target_os = "linux")]
pub(crate) const EINVAL: i32 = libc::EINVAL;
#[cfg(not(target_os = "linux"))]
pub(crate) const EINVAL: i32 = 22;

/// Turn `O_DIRECT` on or off for `file`; returns whether it is on afterwards.
#[cfg(target_os = "linux")]
pub(crate) fn set_direct(file: &File, on: bool) -> bool {
    use std::os::fd::AsRawFd;
    let fd = file.as_raw_fd();
    // SAFETY: `fd` is the open descriptor of `file`, which outlives these calls; F_GETFL and
    // F_SETFL read and set its status flags and touch no memory of ours.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags < 0 {
            return false;
        }
        let want = if on {
            flags | libc::O_DIRECT
        } else {
            flags & !libc::O_DIRECT
        };
        if libc::fcntl(fd, libc::F_SETFL, want) < 0 {
            return flags & libc::O_DIRECT != 0;
        }
        on
    }
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn set_direct(_file: &File, _on: bool) -> bool {
    false
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.tmp.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Serialised output of one batch, appended by the writer in order. The corpus files come
/// as the documents' own serialised pieces: the writer copies them into its block buffer,
/// so gathering them into one buffer first would copy the whole corpus once more.
#[derive(Default)]
pub struct Chunk {
    pub jsonl: Pieces,
    pub csv: Pieces,
    pub duplicates: Vec<u8>,
    pub rejects: Vec<u8>,
    pub removed: Vec<u8>,
}

/// Byte strings to be written one after the other.
#[derive(Debug, Default)]
pub struct Pieces {
    parts: Vec<Vec<u8>>,
}

impl Pieces {
    /// Append `bytes` (no copy).
    pub fn push(&mut self, bytes: Vec<u8>) {
        if !bytes.is_empty() {
            self.parts.push(bytes);
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.parts.iter().map(Vec::as_slice)
    }

    /// All the bytes in one buffer.
    pub fn to_vec(&self) -> Vec<u8> {
        self.parts.concat()
    }

    /// Write the pieces to `w` one after the other.
    pub fn write_to(&self, w: &mut impl Write) -> std::io::Result<()> {
        self.iter().try_for_each(|b| w.write_all(b))
    }
}

/// The set of output files of one run.
pub struct Outputs {
    pub jsonl: Option<AtomicFile>,
    pub csv: Option<AtomicFile>,
    pub duplicates: AtomicFile,
    pub rejects: AtomicFile,
    pub removed: Option<AtomicFile>,
    dir: PathBuf,
    /// For an `s3://` output: `dir` is its local staging folder, uploaded on publish.
    remote: Option<crate::storage::RemoteOutput>,
}

impl Outputs {
    /// Create the output files in `dir`, or, for an `s3://` URL, in a local staging folder
    /// that [`Outputs::publish`] uploads (the bucket is checked here, before any work).
    pub fn create(dir: &Path, cfg: &OutputConfig) -> Result<Outputs, RunError> {
        let remote = if crate::storage::is_remote(dir) {
            Some(crate::storage::RemoteOutput::prepare(dir)?)
        } else {
            None
        };
        let staging = remote.as_ref().map(|r| r.staging().to_path_buf());
        let dir = staging.as_deref().unwrap_or(dir);
        std::fs::create_dir_all(dir).map_err(|e| RunError::io(dir, e))?;
        let mut csv = if cfg.csv {
            Some(AtomicFile::create(dir, CLEAN_CSV)?)
        } else {
            None
        };
        if let Some(c) = csv.as_mut() {
            let mut w = csv::Writer::from_writer(Vec::new());
            let _ = w.write_record(CSV_COLUMNS);
            let header = w.into_inner().unwrap_or_default();
            c.write_all(&header)?;
        }
        Ok(Outputs {
            jsonl: if cfg.jsonl {
                Some(AtomicFile::create(dir, CLEAN_JSONL)?)
            } else {
                None
            },
            csv,
            duplicates: AtomicFile::create(dir, DUPLICATES)?,
            rejects: AtomicFile::create(dir, REJECTS)?,
            removed: if cfg.removed {
                Some(AtomicFile::create(dir, REMOVED)?)
            } else {
                None
            },
            dir: dir.to_path_buf(),
            remote,
        })
    }

    /// The local folder the files are written in (the staging folder of an `s3://` output).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn write(&mut self, c: &Chunk) -> Result<(), RunError> {
        if let Some(f) = self.jsonl.as_mut() {
            f.write_pieces(&c.jsonl)?;
        }
        if let Some(f) = self.csv.as_mut() {
            f.write_pieces(&c.csv)?;
        }
        self.duplicates.write_all(&c.duplicates)?;
        self.rejects.write_all(&c.rejects)?;
        if let Some(f) = self.removed.as_mut() {
            f.write_all(&c.removed)?;
        }
        Ok(())
    }

    /// Make the run visible: the old report goes first, then every data file is renamed
    /// into place, and the new report (which says the run is complete) comes last. An
    /// `s3://` output is then uploaded in the same order. Nothing is published if reading
    /// an `s3://` input failed.
    pub fn publish(self, report: &[u8]) -> Result<(), RunError> {
        crate::storage::take_failure()?;
        let mut rep = AtomicFile::create(&self.dir, REPORT)?;
        rep.write_all(report)?;
        rep.finish()?;
        let old = self.dir.join(REPORT);
        if old.exists() {
            std::fs::remove_file(&old).map_err(|e| RunError::io(&old, e))?;
        }
        let mut names = Vec::new();
        for f in [
            self.jsonl,
            self.csv,
            Some(self.duplicates),
            Some(self.rejects),
            self.removed,
        ]
        .into_iter()
        .flatten()
        {
            names.push(
                f.dest
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default()
                    .to_string(),
            );
            f.publish()?;
        }
        rep.publish()?;
        if let Some(remote) = &self.remote {
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            remote.publish(&names, REPORT)?;
        }
        Ok(())
    }
}

/// One `clean.jsonl` object, fields in a fixed order.
pub fn doc_json(doc: &Document) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("id".into(), Value::String(doc.id.clone()));
    m.insert("source".into(), Value::String(doc.source.clone()));
    m.insert(
        "title".into(),
        doc.title.clone().map(Value::String).unwrap_or(Value::Null),
    );
    m.insert("text".into(), Value::String(doc.text.clone()));
    m.insert("encoding".into(), Value::String(doc.encoding.to_string()));
    for (k, v) in &doc.fields {
        m.insert(meta_key(k), Value::String(v.clone()));
    }
    for (k, v) in &doc.meta {
        m.insert(meta_key(k), v.clone());
    }
    m.insert("input".into(), Value::String(doc.input.clone()));
    m.insert("chars_in".into(), json!(doc.chars_in));
    m.insert("chars_out".into(), json!(doc.text.chars().count()));
    m.insert("changes".into(), changes(doc));
    m
}

/// What the stages did to this document, `{stage: {rule: n}}` in the order they did it (the
/// same counts `report.json` sums per stage): each fix and each removal is auditable per
/// document, not only in aggregate.
pub fn changes(doc: &Document) -> Value {
    let mut by_stage = Map::new();
    for c in &doc.log.counts {
        if let Value::Object(rules) = by_stage
            .entry(c.stage)
            .or_insert_with(|| Value::Object(Map::new()))
        {
            rules.insert(c.rule.to_string(), json!(c.n));
        }
    }
    Value::Object(by_stage)
}

/// [`changes`] written straight into `out`, byte for byte what serialising it gives. Why:
/// the map was built for every kept document, with a hashed index and an allocation per
/// stage and rule, to be written once.
fn write_changes(out: &mut Vec<u8>, doc: &Document) {
    let counts = &doc.log.counts;
    let same = crate::document::same_name;
    out.push(b'{');
    for (i, c) in counts.iter().enumerate() {
        // each stage once, where it first appears, with its rules in the same way: a rule
        // counted twice keeps its first place and its last count (a map's insert)
        if counts[..i].iter().any(|e| same(e.stage, c.stage)) {
            continue;
        }
        if i > 0 {
            out.push(b',');
        }
        json_string(out, c.stage);
        out.extend_from_slice(b":{");
        let mine = || counts[i..].iter().filter(|e| same(e.stage, c.stage));
        for (k, r) in mine().enumerate() {
            if mine().take(k).any(|e| same(&e.rule, &r.rule)) {
                continue;
            }
            if k > 0 {
                out.push(b',');
            }
            json_string(out, &r.rule);
            out.push(b':');
            let n = mine()
                .rfind(|e| same(&e.rule, &r.rule))
                .map_or(r.n, |e| e.n);
            let _ = serde_json::to_writer(&mut *out, &n);
        }
        out.push(b'}');
    }
    out.push(b'}');
}

fn meta_key(k: &str) -> String {
    if RESERVED.contains(&k) {
        format!("meta_{k}")
    } else {
        k.to_string()
    }
}

/// `(jsonl line, csv row)` of a kept document.
pub fn serialize_kept(doc: &Document) -> (Vec<u8>, Vec<u8>) {
    let (j, c, _) = serialize_kept_counted(doc);
    (j, c)
}

/// The sink of a reused CSV writer: the row's bytes are taken out after each flush.
#[derive(Clone, Default)]
struct RowSink(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

impl Write for RowSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn row_writer() -> (csv::Writer<RowSink>, RowSink) {
    let sink = RowSink::default();
    (
        csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(sink.clone()),
        sink,
    )
}

/// Rows up to this size go through the reused writer (its buffer is the csv crate's 8 KiB).
const BIG_ROW: usize = 256 << 10;

thread_local! {
    /// One CSV writer per thread, reused for every row (a writer per row cost its buffers).
    static CSV_ROW: std::cell::RefCell<(csv::Writer<RowSink>, RowSink)> = std::cell::RefCell::new(row_writer());
}

/// [`serialize_kept`] and the characters of the text (counted once, for the report too).
pub fn serialize_kept_counted(doc: &Document) -> (Vec<u8>, Vec<u8>, usize) {
    let chars_out_n = doc.text.chars().count();
    let chars_out = chars_out_n;
    let line = jsonl_line(doc, chars_out);
    let meta = if doc.fields.is_empty() && doc.meta.is_empty() {
        String::new()
    } else {
        let mut meta = Map::new();
        for (k, v) in &doc.fields {
            meta.insert(k.clone(), Value::String(v.clone()));
        }
        for (k, v) in &doc.meta {
            meta.insert(k.clone(), v.clone());
        }
        Value::Object(meta).to_string()
    };
    let chars_in = doc.chars_in.to_string();
    let chars_out = chars_out.to_string();
    let row = [
        doc.id.as_str(),
        doc.source.as_str(),
        doc.title.as_deref().unwrap_or(""),
        doc.text.as_str(),
        doc.encoding,
        &chars_in,
        &chars_out,
        doc.input.as_str(),
        &meta,
    ];
    let size = row.iter().map(|f| f.len() + 3).sum::<usize>() + 2;
    // A field longer than the writer's buffer is written a buffer at a time, and csv_core
    // searches the rest of the field for a quote at each step: quadratic in the field's
    // length (a 50 MB text took 7 s). A large row gets a writer whose buffer holds it.
    let csv_row = (size <= BIG_ROW)
        .then(|| {
            CSV_ROW.try_with(|cell| {
                let mut guard = cell.try_borrow_mut().ok()?;
                let (w, sink) = &mut *guard;
                *sink.0.borrow_mut() = Vec::with_capacity(size + size / 64);
                let ok = w.write_record(row).is_ok() && w.flush().is_ok();
                let bytes = std::mem::take(&mut *sink.0.borrow_mut());
                if ok {
                    Some(bytes)
                } else {
                    // Start the next row from a fresh writer: this one may hold part of a record.
                    *guard = row_writer();
                    None
                }
            })
        })
        .and_then(|r| r.ok().flatten())
        .unwrap_or_else(|| {
            let mut w = csv::WriterBuilder::new()
                .has_headers(false)
                .buffer_capacity(size.max(BIG_ROW) + size / 8)
                .from_writer(Vec::with_capacity(size));
            let _ = w.write_record(row);
            w.into_inner().unwrap_or_default()
        });
    (line, csv_row, chars_out_n)
}

/// The `clean.jsonl` line of [`doc_json`], written straight into one buffer: no copy of
/// the text into a `Value` tree (that copy and its allocations were a tenth of a run).
/// Byte-identical to serialising `doc_json`; when carried keys collide after renaming (the
/// map would merge them) it falls back to building the map.
fn jsonl_line(doc: &Document, chars_out: usize) -> Vec<u8> {
    let extra = doc.fields.len() + doc.meta.len();
    let distinct = extra <= 32 && {
        let keys: Vec<std::borrow::Cow<str>> = doc
            .fields
            .keys()
            .chain(doc.meta.keys())
            .map(|k| meta_key_cow(k))
            .collect();
        keys.iter().enumerate().all(|(i, k)| !keys[..i].contains(k))
    };
    let mut out = Vec::with_capacity(
        doc.text.len() + doc.id.len() + doc.source.len() + doc.input.len() + 160,
    );
    if !distinct {
        let mut m = doc_json(doc);
        m.insert("chars_out".into(), json!(chars_out));
        m.insert("changes".into(), changes(doc));
        let _ = serde_json::to_writer(&mut out, &Value::Object(m));
        out.push(b'\n');
        return out;
    }
    fn key(out: &mut Vec<u8>, first: bool, k: &str) {
        if !first {
            out.push(b',');
        }
        let _ = serde_json::to_writer(&mut *out, k);
        out.push(b':');
    }
    fn string(out: &mut Vec<u8>, v: &str) {
        json_string(out, v);
    }
    out.push(b'{');
    key(&mut out, true, "id");
    string(&mut out, &doc.id);
    key(&mut out, false, "source");
    string(&mut out, &doc.source);
    key(&mut out, false, "title");
    match &doc.title {
        Some(t) => string(&mut out, t),
        None => out.extend_from_slice(b"null"),
    }
    key(&mut out, false, "text");
    string(&mut out, &doc.text);
    key(&mut out, false, "encoding");
    string(&mut out, doc.encoding);
    for (k, v) in &doc.fields {
        key(&mut out, false, &meta_key_cow(k));
        string(&mut out, v);
    }
    for (k, v) in &doc.meta {
        key(&mut out, false, &meta_key_cow(k));
        let _ = serde_json::to_writer(&mut out, v);
    }
    key(&mut out, false, "input");
    string(&mut out, &doc.input);
    key(&mut out, false, "chars_in");
    let _ = serde_json::to_writer(&mut out, &doc.chars_in);
    key(&mut out, false, "chars_out");
    let _ = serde_json::to_writer(&mut out, &chars_out);
    key(&mut out, false, "changes");
    write_changes(&mut out, doc);
    out.push(b'}');
    out.push(b'\n');
    out
}

/// `v` as a JSON string, byte-identical to `serde_json::to_writer(out, v)`: the runs of
/// bytes that need no escape, found 16 at a time ([`next_escape`]), are copied whole.
pub fn json_string(out: &mut Vec<u8>, v: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let b = v.as_bytes();
    out.reserve(b.len() + 2);
    out.push(b'"');
    let mut start = 0;
    loop {
        let i = next_escape(b, start);
        out.extend_from_slice(&b[start..i]);
        let Some(&x) = b.get(i) else { break };
        match x {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0C => out.extend_from_slice(b"\\f"),
            _ => out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(x >> 4) as usize],
                HEX[(x & 0xF) as usize],
            ]),
        }
        start = i + 1;
    }
    out.push(b'"');
}

/// Position of the first byte at or after `from` that JSON must escape (a control byte,
/// `"` or `\`), or `b.len()`.
#[inline]
fn next_escape(b: &[u8], from: usize) -> usize {
    let needs = |x: u8| (x < 0x20) | (x == b'"') | (x == b'\\');
    let mut i = from;
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        // SAFETY: SSE2 is part of x86_64; every load reads 16 bytes inside `b`.
        unsafe {
            let (low, quote, slash) = (
                _mm_set1_epi8(0x1F),
                _mm_set1_epi8(b'"' as i8),
                _mm_set1_epi8(b'\\' as i8),
            );
            while i + 16 <= b.len() {
                let v = _mm_loadu_si128(b.as_ptr().add(i) as *const __m128i);
                // `max(v, 0x1F) == 0x1F` is `v <= 0x1F` for unsigned bytes.
                let ctrl = _mm_cmpeq_epi8(_mm_max_epu8(v, low), low);
                let hit = _mm_or_si128(
                    ctrl,
                    _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, slash)),
                );
                let mask = _mm_movemask_epi8(hit) as u32;
                if mask != 0 {
                    return i + mask.trailing_zeros() as usize;
                }
                i += 16;
            }
        }
    }
    while i < b.len() && !needs(b[i]) {
        i += 1;
    }
    i
}

fn meta_key_cow(k: &str) -> std::borrow::Cow<'_, str> {
    if RESERVED.contains(&k) {
        std::borrow::Cow::Owned(format!("meta_{k}"))
    } else {
        std::borrow::Cow::Borrowed(k)
    }
}

/// A `duplicates.jsonl` line.
pub fn duplicate_line(id: &str, source: &str, of: &str, similarity: f64) -> Vec<u8> {
    let sim = (similarity * 10000.0).round() / 10000.0;
    let mut v = serde_json::to_vec(
        &json!({"id": id, "duplicate_of": of, "similarity": sim, "source": source}),
    )
    .unwrap_or_default();
    v.push(b'\n');
    v
}

/// A `rejects.jsonl` line.
pub fn reject_line(r: &RejectRecord) -> Vec<u8> {
    let mut v = serde_json::to_vec(&json!({
        "id": r.id, "source": r.source, "reason": r.reject.reason, "detail": r.reject.detail
    }))
    .unwrap_or_default();
    v.push(b'\n');
    v
}

/// The `removed.jsonl` lines of a document (empty unless auditing).
pub fn removed_lines(doc: &Document) -> Vec<u8> {
    let mut out = Vec::new();
    for r in &doc.log.removals {
        let _ = serde_json::to_writer(
            &mut out,
            &json!({"id": doc.id, "stage": r.stage, "rule": r.rule, "line": r.line, "text": r.text}),
        );
        out.push(b'\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::Format;

    fn via_map(doc: &Document) -> Vec<u8> {
        let mut v = serde_json::to_vec(&Value::Object(doc_json(doc))).unwrap();
        v.push(b'\n');
        v
    }

    /// Pieces of every size around the block and alignment sizes, written one after the
    /// other, read back whole: direct where the file system takes it, and buffered.
    #[test]
    fn block_writer_keeps_every_byte_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let sizes = [
            0,
            1,
            7,
            ALIGN - 1,
            ALIGN,
            ALIGN + 1,
            BLOCK - 3,
            BLOCK,
            BLOCK + 5,
            3 * BLOCK / 2,
            100_000,
        ];
        for direct in [true, false] {
            let path = dir.path().join(format!("out-{direct}"));
            let mut w = BlockWriter::new(File::create(&path).unwrap());
            if !direct {
                w.direct = set_direct(&w.file, false);
                assert!(!w.direct);
            }
            let mut want = Vec::new();
            let mut st = 7u32;
            for (k, &n) in sizes.iter().chain(sizes.iter().rev()).enumerate() {
                let piece: Vec<u8> = (0..n)
                    .map(|_| {
                        st = st.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                        (st >> 24) as u8 ^ k as u8
                    })
                    .collect();
                w.write_all(&piece).unwrap();
                want.extend_from_slice(&piece);
            }
            w.finish().unwrap().sync_all().unwrap();
            let got = std::fs::read(&path).unwrap();
            assert_eq!(got.len(), want.len(), "direct {direct}");
            assert!(got == want, "direct {direct}: bytes differ");
        }
    }

    #[test]
    fn atomic_file_appears_only_when_published() {
        let dir = tempfile::tempdir().unwrap();
        let mut f = AtomicFile::create(dir.path(), "x.jsonl").unwrap();
        f.write_all(&vec![b'a'; BLOCK + 10]).unwrap();
        assert!(!dir.path().join("x.jsonl").exists());
        f.publish().unwrap();
        assert_eq!(
            std::fs::read(dir.path().join("x.jsonl")).unwrap().len(),
            BLOCK + 10
        );
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file left"
        );
        let mut g = AtomicFile::create(dir.path(), "y.jsonl").unwrap();
        g.write_all(b"half").unwrap();
        drop(g);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "an unpublished file is removed"
        );
    }

    #[test]
    fn json_string_finds_every_escape_at_every_offset() {
        // One byte to escape at each place of a text longer than two SIMD blocks, and texts
        // made only of them.
        for special in ['"', '\\', '\n', '\u{1}', '\u{1f}', '\t'] {
            for at in 0..40 {
                let mut t: String = "abcdefghijklmnopqrstuvwxyz é 0123456789 "
                    .chars()
                    .take(40)
                    .collect();
                t.replace_range(
                    t.char_indices()
                        .nth(at)
                        .map(|(i, c)| i..i + c.len_utf8())
                        .unwrap(),
                    &special.to_string(),
                );
                let mut got = Vec::new();
                json_string(&mut got, &t);
                assert_eq!(
                    String::from_utf8(got).unwrap(),
                    serde_json::to_string(&t).unwrap(),
                    "{t:?}"
                );
            }
            let all: String = std::iter::repeat_n(special, 37).collect();
            let mut got = Vec::new();
            json_string(&mut got, &all);
            assert_eq!(
                String::from_utf8(got).unwrap(),
                serde_json::to_string(&all).unwrap()
            );
        }
    }

    #[test]
    fn json_string_matches_serde_json() {
        let mut all = String::new();
        for c in (0u32..0x200).chain([0x2028, 0x2029, 0xFEFF, 0x1F600]) {
            if let Some(c) = char::from_u32(c) {
                all.push(c);
            }
        }
        let long = "plain text of some length, \"quoted\" and \\ back\nslashed\t".repeat(7);
        for s in [
            "",
            "a",
            "\"",
            "\\",
            "\u{1}\u{1f}\u{7f}",
            "x\ny\r\n\u{8}\u{c}",
            all.as_str(),
            long.as_str(),
        ] {
            let mut got = Vec::new();
            json_string(&mut got, s);
            assert_eq!(
                String::from_utf8(got).unwrap(),
                serde_json::to_string(s).unwrap(),
                "{s:?}"
            );
        }
    }

    #[test]
    fn reused_csv_writer_matches_a_fresh_one() {
        // rows larger than `BIG_ROW` go through a writer of their own
        let big = "A \"long\" text, of many lines.\n".repeat(BIG_ROW / 10);
        let texts = [
            "plain",
            "with \"quotes\", commas\nand lines",
            "",
            "x\r\ny",
            "é €",
            big.as_str(),
        ];
        for t in texts {
            let mut d = Document::new(1, "id,1".into(), "f:1".into(), Format::Jsonl, t.into());
            d.title = Some("T\"".into());
            d.meta.insert("k".into(), json!([1, "a,b"]));
            let (_, row, chars) = serialize_kept_counted(&d);
            let mut w = csv::WriterBuilder::new()
                .has_headers(false)
                .from_writer(Vec::new());
            let chars_s = t.chars().count().to_string();
            w.write_record([
                "id,1",
                "f:1",
                "T\"",
                t,
                "UTF-8",
                &chars_s,
                &chars_s,
                "f:1",
                r#"{"k":[1,"a,b"]}"#,
            ])
            .unwrap();
            assert!(row == w.into_inner().unwrap(), "{t:.80?}");
            assert_eq!(chars, t.chars().count());
        }
    }

    #[test]
    fn direct_jsonl_line_matches_the_map() {
        let mut d = Document::new(
            3,
            "a\"1".into(),
            "f.jsonl:4".into(),
            Format::Jsonl,
            "Line one\n\nZweite «Zeile» \u{1}\t€".into(),
        );
        assert_eq!(serialize_kept(&d).0, via_map(&d));
        d.title = Some("T \\ t".into());
        d.encoding = "windows-1252";
        d.meta.insert("lang".into(), json!("de"));
        d.meta.insert("id".into(), json!(7));
        d.meta.insert("tags".into(), json!(["a", {"b": 1.5}]));
        d.fields.insert("byline".into(), "By X".into());
        d.fields.insert("text".into(), "shadow".into());
        assert_eq!(serialize_kept(&d).0, via_map(&d));
        // Keys that merge in the map after renaming take the fallback, still identical.
        d.meta.insert("byline".into(), json!("other"));
        d.meta.insert("meta_id".into(), json!(null));
        assert_eq!(serialize_kept(&d).0, via_map(&d));
    }

    #[test]
    fn changes_per_document_grouped_by_stage_in_order() {
        let mut d = Document::new(0, "a".into(), "f".into(), Format::Jsonl, "x".into());
        let line = |d: &Document| serde_json::from_slice::<Value>(&serialize_kept(d).0).unwrap();
        assert_eq!(line(&d)["changes"], json!({}));
        d.log.count("repair", "mojibake", 2);
        d.log.count("typography", "space-run", 1);
        d.log.count("repair", "html-entity", 3);
        d.log.count("repair", "mojibake", 1);
        d.meta.insert("changes".into(), json!("carried"));
        let v = line(&d);
        assert_eq!(
            v["changes"],
            json!({"repair": {"mojibake": 3, "html-entity": 3}, "typography": {"space-run": 1}})
        );
        assert_eq!(v["meta_changes"], "carried");
        let text = String::from_utf8(serialize_kept(&d).0).unwrap();
        assert!(text.contains(r#""changes":{"repair":{"mojibake":3,"html-entity":3},"typography":{"space-run":1}}"#), "{text}");
        assert_eq!(serialize_kept(&d).0, via_map(&d));
    }

    /// Written straight or through the map, the same bytes, even for counts not merged (a
    /// rule listed twice, stages interleaved, names that need escapes).
    #[test]
    fn changes_written_as_the_map_would_be() {
        use crate::document::Count;
        let mut d = Document::new(0, "a".into(), "f".into(), Format::Jsonl, "x".into());
        let mut out = Vec::new();
        write_changes(&mut out, &d);
        assert_eq!(out, b"{}");
        for (stage, rule, n) in [
            ("repair", "mojibake", 2),
            ("typography", "quote \"x\"", 1),
            ("repair", "html-entity", 3),
            ("repair", "mojibake", 7),
            ("boilerplate", "é", 1),
            ("typography", "dash", 4),
        ] {
            d.log.counts.push(Count {
                stage,
                rule: rule.into(),
                n,
            });
        }
        out.clear();
        write_changes(&mut out, &d);
        assert_eq!(out, serde_json::to_vec(&changes(&d)).unwrap());
        assert_eq!(serialize_kept(&d).0, via_map(&d));
    }
}
