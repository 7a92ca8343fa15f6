//! Input: finding files, reading them (plain, gzip, zstd) in a streaming way, cutting the
//! stream into batches, and turning raw payloads into [`Document`]s.
//!
//! The reader thread only does I/O and line splitting; parsing JSON, decoding bytes and
//! building documents happen in parallel in [`parse_item`]. Every failure becomes a
//! [`Reject`] that names the file and line, and the run goes on.

pub mod decode;

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use crate::config::InputConfig;
use crate::document::{Document, Format, Reject};
use crate::error::RunError;

/// Compression wrapper of an input file, from its last extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// One input file and how to read it.
#[derive(Debug, Clone)]
pub struct InputFile {
    pub path: PathBuf,
    /// Path relative to the input root it was found under (the file name for a file input).
    pub rel: String,
    /// `None` for files of an unsupported type (they become rejects, never silently skipped).
    pub format: Option<Format>,
    pub compression: Compression,
    pub size: u64,
    /// For an `s3://` object: its ETag (changes with the content); `None` for local files.
    pub version: Option<String>,
    /// Why the entry could not be listed (a broken link, a link loop, a folder that cannot
    /// be read): it becomes a `read-error` reject and the rest of the input is read.
    pub error: Option<String>,
}

impl InputFile {
    /// Document id for whole-file inputs: the relative path without its extensions.
    pub fn stem_id(&self) -> String {
        let mut s = self.rel.as_str();
        for ext in [".gz", ".zst"] {
            if let Some(x) = s.strip_suffix(ext) {
                s = x;
            }
        }
        match s.rfind('.') {
            Some(i) if !s[i..].contains('/') => s[..i].to_string(),
            _ => s.to_string(),
        }
    }
}

/// Classify a path by its extensions: `(format, compression)`.
pub fn classify(path: &Path) -> (Option<Format>, Compression) {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let (inner, comp) = if let Some(x) = name.strip_suffix(".gz") {
        (x.to_string(), Compression::Gzip)
    } else if let Some(x) = name.strip_suffix(".zst") {
        (x.to_string(), Compression::Zstd)
    } else {
        (name.clone(), Compression::None)
    };
    let ext = inner.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    let fmt = match ext {
        "txt" | "text" => Some(Format::Text),
        "html" | "htm" | "xhtml" => Some(Format::Html),
        // `.json`: JSON Lines, or one JSON array of records (told apart by the first byte)
        "jsonl" | "ndjson" | "json" => Some(Format::Jsonl),
        "csv" => Some(Format::Csv),
        _ => None,
    };
    (fmt, comp)
}

/// Format of a file whose name does not tell, from its first bytes (decompressed): JSON
/// (one object per line, or one array of objects) or an HTML page; with `explicit` (the user
/// named the file), anything else is read as text (binary data is then refused by the
/// decoder with reason `binary`). `None` leaves an unrecognised file found in a folder to
/// be rejected as `unsupported-format`: a folder of a dump holds other things too.
fn sniff(path: &Path, compression: Compression, explicit: bool) -> Option<Format> {
    let file = InputFile {
        path: path.to_path_buf(),
        rel: String::new(),
        format: None,
        compression,
        size: 0,
        version: None,
        error: None,
    };
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    if let Ok(r) = open(&file, Arc::new(AtomicU64::new(0))) {
        let _ = r.take(SNIFF_BYTES as u64).read_to_end(&mut head);
    }
    sniff_bytes(&head).or(explicit.then_some(Format::Text))
}

/// How much of a file [`sniff`] looks at.
const SNIFF_BYTES: usize = 16 << 10;

/// The decision of [`sniff`] on a file's first bytes.
fn sniff_bytes(head: &[u8]) -> Option<Format> {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = head.iter().position(|b| !b.is_ascii_whitespace())?;
    let body = &head[start..];
    match body[0] {
        b'{' => {
            // The first line must be a JSON object (or longer than the sniffed bytes).
            let line = memchr::memchr(b'\n', body).map_or(body, |i| &body[..i]);
            let complete = line.len() < body.len() || head.len() < SNIFF_BYTES;
            let ok = !complete
                || serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(line)
                    .is_ok();
            ok.then_some(Format::Jsonl)
        }
        b'[' => {
            let next = body[1..].iter().find(|b| !b.is_ascii_whitespace());
            matches!(next, Some(b'{' | b']')).then_some(Format::Jsonl)
        }
        b'<' => {
            let lower = body[..body.len().min(4096)].to_ascii_lowercase();
            let tags: [&[u8]; 6] = [
                b"<!doctype html",
                b"<html",
                b"<head",
                b"<body",
                b"<article",
                b"<meta",
            ];
            tags.iter()
                .any(|t| memchr::memmem::find(&lower, t).is_some())
                .then_some(Format::Html)
        }
        _ => None,
    }
}

/// Expand the input paths into a sorted, deterministic list of files.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<InputFile>, RunError> {
    let mut out = Vec::new();
    for root in paths {
        if crate::storage::is_remote(root) {
            out.extend(discover_remote(root)?);
            continue;
        }
        let meta = std::fs::metadata(root).map_err(|_| RunError::MissingInput(root.clone()))?;
        if meta.is_file() {
            let (format, compression) = classify(root);
            // A file named on the command line is read whatever its name: its content decides.
            let format = format.or_else(|| sniff(root, compression, true));
            let rel = root
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            out.push(InputFile {
                path: root.clone(),
                rel,
                format,
                compression,
                size: meta.len(),
                version: None,
                error: None,
            });
            continue;
        }
        let mut files = Vec::new();
        for entry in walkdir::WalkDir::new(root)
            .follow_links(true)
            .sort_by_file_name()
        {
            let entry = match entry {
                Ok(e) => e,
                // below the root (a broken link, a link loop, a folder that cannot be read):
                // a reject of its own, the rest is read
                Err(e) if e.depth() > 0 && e.path().is_some() => {
                    let path = e.path().map(Path::to_path_buf).unwrap_or_default();
                    let rel = rel_path(&path, root);
                    if !is_hidden(&rel) {
                        files.push(InputFile {
                            path,
                            rel,
                            format: None,
                            compression: Compression::None,
                            size: 0,
                            version: None,
                            error: Some(e.to_string()),
                        });
                    }
                    continue;
                }
                Err(e) => {
                    let p = e
                        .path()
                        .map(Path::to_path_buf)
                        .unwrap_or_else(|| root.clone());
                    return Err(RunError::io(p, io::Error::other(e.to_string())));
                }
            };
            if !entry.file_type().is_file() {
                continue;
            }
            let path = entry.path().to_path_buf();
            let rel = rel_path(&path, root);
            if is_hidden(&rel) {
                continue;
            }
            let (format, compression) = classify(&path);
            let format = format.or_else(|| sniff(&path, compression, false));
            let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
            files.push(InputFile {
                path,
                rel,
                format,
                compression,
                size,
                version: None,
                error: None,
            });
        }
        out.extend(files);
    }
    Ok(out)
}

/// `path` relative to the input folder `root`, with `/` between its parts.
fn rel_path(path: &Path, root: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

/// Hidden files (editor and OS droppings) are not documents.
fn is_hidden(rel: &str) -> bool {
    rel.split('/').any(|c| c.starts_with('.'))
}

/// The objects of an `s3://` input, with the rules of a file (one object named) or a
/// folder (a prefix: hidden objects skipped, unknown names sniffed but not forced to text).
fn discover_remote(root: &Path) -> Result<Vec<InputFile>, RunError> {
    let listed = crate::storage::list(root)?;
    let single = listed.len() == 1 && listed[0].url == crate::storage::S3Url::parse(root)?.url();
    let mut out = Vec::with_capacity(listed.len());
    for obj in listed {
        let path = PathBuf::from(&obj.url);
        let (format, compression) = classify(Path::new(&obj.rel));
        let format = format.or_else(|| sniff(&path, compression, single));
        out.push(InputFile {
            path,
            rel: obj.rel,
            format,
            compression,
            size: obj.size,
            version: obj.etag,
            error: None,
        });
    }
    Ok(out)
}

/// A reader that counts the compressed bytes it pulls from the file (for progress and MB/s).
struct Counting<R> {
    inner: R,
    counter: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.counter.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Open a file (or an `s3://` object, streamed) with its decompressor.
pub fn open(file: &InputFile, counter: Arc<AtomicU64>) -> io::Result<Box<dyn BufRead + Send>> {
    if crate::storage::is_remote(&file.path) {
        let r = crate::storage::open(&file.path)?;
        return decompressed(file, Counting { inner: r, counter });
    }
    let f = File::open(&file.path)?;
    if let Some(r) = DirectReader::for_file(file, &f, &counter) {
        return Ok(Box::new(r));
    }
    decompressed(file, Counting { inner: f, counter })
}

/// Smallest uncompressed local file read with [`DirectReader`].
const DIRECT_MIN: u64 = crate::output::BLOCK as u64;

/// Reads a large uncompressed local file in aligned blocks with `O_DIRECT` where the file
/// system takes it: the disk writes into our buffer, and the file's bytes never go through
/// the page cache. Why: on this kind of virtual machine, putting a dump's pages into the
/// page cache cost more kernel CPU than reading them (a 1 GB dump not in the cache: 1.3 s
/// more system time than one that was, the run 10% slower), and a dump read once has no use
/// for the cache. A file system that refuses direct I/O, at `fcntl` or at a read, gets
/// ordinary reads from then on; the bytes are the same either way. Small files (a folder
/// of one-document files) are read the ordinary way: a direct read waits for the disk
/// every time.
struct DirectReader {
    file: File,
    /// `BLOCK + ALIGN` bytes; the block is the aligned window at `start`.
    mem: Vec<u8>,
    start: usize,
    /// Bytes of the window handed out, and read into it.
    pos: usize,
    len: usize,
    direct: bool,
    eof: bool,
    counter: Arc<AtomicU64>,
}

impl DirectReader {
    /// A direct reader of `f` (the uncompressed local `file`), if it is large enough and
    /// direct I/O can be switched on.
    fn for_file(file: &InputFile, f: &File, counter: &Arc<AtomicU64>) -> Option<DirectReader> {
        if file.compression != Compression::None || file.size < DIRECT_MIN {
            return None;
        }
        DirectReader::new(f.try_clone().ok()?, counter.clone()).ok()
    }

    /// A direct reader of `file` from its current offset (aligned), or the file back if
    /// direct I/O cannot be switched on.
    fn new(file: File, counter: Arc<AtomicU64>) -> Result<DirectReader, File> {
        if !crate::output::set_direct(&file, true) {
            return Err(file);
        }
        let (mem, start) = crate::output::aligned_block();
        Ok(DirectReader {
            file,
            mem,
            start,
            pos: 0,
            len: 0,
            direct: true,
            eof: false,
            counter,
        })
    }
}

/// A reader of a whole temporary file of ours (the second pass's spool, read from its
/// start) that keeps it out of the page cache where the file system allows ([`DirectReader`]).
pub(crate) fn read_around_cache(file: File) -> Box<dyn Read + Send> {
    match DirectReader::new(file, Arc::new(AtomicU64::new(0))) {
        Ok(r) => Box::new(r),
        Err(f) => Box::new(f),
    }
}

impl BufRead for DirectReader {
    /// The rest of the window; a new window of up to `BLOCK` bytes once it is used up. Each
    /// read asks for whole aligned blocks at an aligned offset; a read the kernel refuses
    /// or answers with an unaligned count (the end of the file) turns direct I/O off.
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        use crate::output::{set_direct, ALIGN, BLOCK, EINVAL};
        if self.pos == self.len && !self.eof {
            (self.pos, self.len) = (0, 0);
            while self.len < BLOCK && !self.eof {
                let window = &mut self.mem[self.start + self.len..self.start + BLOCK];
                match self.file.read(window) {
                    Ok(0) => self.eof = true,
                    Ok(n) => {
                        self.len += n;
                        self.counter.fetch_add(n as u64, Ordering::Relaxed);
                        if self.direct && n % ALIGN != 0 {
                            self.direct = set_direct(&self.file, false);
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) if self.direct && e.raw_os_error() == Some(EINVAL) => {
                        self.direct = set_direct(&self.file, false);
                        if self.direct {
                            return Err(e);
                        }
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(&self.mem[self.start + self.pos..self.start + self.len])
    }

    fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.len);
    }
}

/// `Read` for a reader whose own buffer is the source ([`BufRead`] first).
fn read_through_buffer(r: &mut impl BufRead, out: &mut [u8]) -> io::Result<usize> {
    let avail = r.fill_buf()?;
    let n = avail.len().min(out.len());
    out[..n].copy_from_slice(&avail[..n]);
    r.consume(n);
    Ok(n)
}

impl Read for DirectReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        read_through_buffer(self, out)
    }
}

fn decompressed<R: Read + Send + 'static>(
    file: &InputFile,
    raw: Counting<R>,
) -> io::Result<Box<dyn BufRead + Send>> {
    Ok(match file.compression {
        Compression::None => Box::new(BufReader::with_capacity(1 << 20, raw)),
        Compression::Gzip => Box::new(BufReader::with_capacity(
            1 << 20,
            flate2::read::MultiGzDecoder::new(BufReader::with_capacity(1 << 16, raw)),
        )),
        Compression::Zstd => Box::new(BufReader::with_capacity(1 << 20, ZstdStream::new(raw)?)),
    })
}

/// A zstd decoder whose errors tell a damaged stream from a failed read. The zstd crate
/// reports its own errors ("Data corruption detected", "Unknown frame descriptor") as
/// `ErrorKind::Other`, which would make a corrupt `.zst` a `read-error` where a corrupt `.gz`
/// is a `corrupt-archive`; the errors of the file itself pass through as they are.
struct ZstdStream<R: Read> {
    decoder: zstd::stream::read::Decoder<'static, BufReader<RawErrors<R>>>,
    raw_failed: Arc<AtomicBool>,
}

/// The compressed bytes' reader, noting whether a read failed.
struct RawErrors<R> {
    inner: R,
    failed: Arc<AtomicBool>,
}

impl<R: Read> Read for RawErrors<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).inspect_err(|_| {
            self.failed.store(true, Ordering::Relaxed);
        })
    }
}

impl<R: Read> ZstdStream<R> {
    fn new(raw: R) -> io::Result<Self> {
        let raw_failed = Arc::new(AtomicBool::new(false));
        let raw = RawErrors {
            inner: raw,
            failed: raw_failed.clone(),
        };
        Ok(ZstdStream {
            decoder: zstd::stream::read::Decoder::new(raw)?,
            raw_failed,
        })
    }
}

impl<R: Read> Read for ZstdStream<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.decoder.read(buf).map_err(|e| {
            if e.kind() == io::ErrorKind::Other && !self.raw_failed.load(Ordering::Relaxed) {
                io::Error::new(io::ErrorKind::InvalidData, e.to_string())
            } else {
                e
            }
        })
    }
}

/// What the reader hands to the parsers.
#[derive(Debug)]
pub enum Payload {
    /// A whole file that is one document (`.txt`, `.html`).
    File(Vec<u8>),
    /// One JSONL line (without its line break).
    JsonLine(Vec<u8>),
    /// One CSV record, with the file's header.
    CsvRecord(csv::ByteRecord, Arc<csv::ByteRecord>),
    /// Nothing usable could be read: the reason is already known.
    Failed(Reject),
}

/// One unit of input: a payload and where it came from.
#[derive(Debug)]
pub struct RawItem {
    pub seq: u64,
    pub file: Arc<InputFile>,
    /// 1-based line (JSONL) or record line (CSV); 0 for whole files.
    pub line: u64,
    pub payload: Payload,
}

impl RawItem {
    /// `path` or `path:line`, for messages and the `input` field.
    pub fn location(&self) -> String {
        if self.line == 0 {
            self.file.rel.clone()
        } else {
            format!("{}:{}", self.file.rel, self.line)
        }
    }

    /// Bytes of input this item stands for (for batching and the report).
    pub fn bytes(&self) -> usize {
        match &self.payload {
            Payload::File(b) | Payload::JsonLine(b) => b.len(),
            Payload::CsvRecord(r, _) => r.as_slice().len(),
            Payload::Failed(_) => 0,
        }
    }
}

/// A rejected input, as written to `rejects.jsonl`.
#[derive(Debug, Clone)]
pub struct RejectRecord {
    pub seq: u64,
    pub id: String,
    pub source: String,
    pub reject: Reject,
}

/// Read every input file in order, calling `emit` for each raw item. I/O problems of one
/// file become `Failed` items naming the file (and line), and reading goes on.
pub fn read_all(
    files: &[Arc<InputFile>],
    cfg: &InputConfig,
    counter: Arc<AtomicU64>,
    mut emit: impl FnMut(RawItem) -> bool,
) {
    let mut seq = 0u64;
    let mut push = |file: &Arc<InputFile>,
                    line: u64,
                    payload: Payload,
                    emit: &mut dyn FnMut(RawItem) -> bool| {
        let item = RawItem {
            seq,
            file: file.clone(),
            line,
            payload,
        };
        seq += 1;
        emit(item)
    };
    for file in files {
        if remote_failed(file) {
            return;
        }
        if !read_file(
            file,
            None,
            cfg,
            &counter,
            &mut None,
            &mut |line, payload| push(file, line, payload, &mut emit),
        ) {
            return;
        }
    }
}

/// Has reading an `s3://` object failed? Then the run stops reading (it will not publish,
/// see [`crate::storage::take_failure`]) instead of trying every remaining object.
fn remote_failed(file: &InputFile) -> bool {
    crate::storage::is_remote(&file.path) && crate::storage::failed()
}

/// Where reading a split JSONL file stopped at the end of a block (at the first line that
/// starts at or after `end`): the next block of the same file goes on from this reader,
/// instead of reading the file again from its start to find its first line.
struct Carry {
    file: Arc<InputFile>,
    end: u64,
    /// 1-based number of the next line, and its byte offset.
    line: u64,
    pos: u64,
    reader: Box<dyn BufRead + Send>,
}

/// Read one file (or, for a split JSONL file, the lines that start inside `range`).
fn read_file(
    file: &Arc<InputFile>,
    range: Option<(u64, u64)>,
    cfg: &InputConfig,
    counter: &Arc<AtomicU64>,
    carry: &mut Option<Carry>,
    push: &mut dyn FnMut(u64, Payload) -> bool,
) -> bool {
    if let Some(e) = &file.error {
        let r = Reject::new("read-error", format!("{}: {e}", file.rel));
        return push(0, Payload::Failed(r));
    }
    let Some(format) = file.format else {
        let r = Reject::new(
            "unsupported-format",
            format!(
                "{}: not .txt, .html, .jsonl, .json or .csv (optionally .gz/.zst)",
                file.rel
            ),
        );
        return push(0, Payload::Failed(r));
    };
    if let (Some((start, end)), Format::Jsonl) = (range, format) {
        let resumed = carry
            .take()
            .filter(|c| Arc::ptr_eq(&c.file, file) && c.end == start);
        let (mut reader, first_line, pos) = match resumed {
            Some(c) => (c.reader, c.line, c.pos),
            None => match open_range(file, start, counter.clone()) {
                Ok(opened) => opened,
                Err(e) => {
                    return push(
                        0,
                        Payload::Failed(Reject::new("read-error", format!("{}: {e}", file.rel))),
                    )
                }
            },
        };
        let budget = end.saturating_sub(pos);
        let (go_on, stopped) = read_lines_from(
            &mut *reader,
            cfg.max_doc_bytes,
            first_line,
            Some(budget),
            &mut *push,
            &file.rel,
        );
        if let Some((line, consumed)) = stopped.filter(|_| end < file.size) {
            *carry = Some(Carry {
                file: file.clone(),
                end,
                line,
                pos: pos + consumed,
                reader,
            });
        }
        return go_on;
    }
    let reader = match open(file, counter.clone()) {
        Ok(r) => r,
        Err(e) => {
            let r = Reject::new("read-error", format!("{}: {e}", file.rel));
            return push(0, Payload::Failed(r));
        }
    };
    match format {
        Format::Text | Format::Html => {
            let payload = match read_whole(reader, cfg.max_doc_bytes) {
                Ok(b) => Payload::File(b),
                Err(r) => {
                    Payload::Failed(Reject::new(r.reason, format!("{}: {}", file.rel, r.detail)))
                }
            };
            push(0, payload)
        }
        Format::Jsonl => {
            let mut reader = reader;
            if starts_with_array(&mut reader) {
                read_json_array(reader, cfg.max_doc_bytes, &mut *push, &file.rel)
            } else if first_line_is_part_of_a_value(&mut reader) {
                read_json_value(reader, cfg.max_doc_bytes, &mut *push, &file.rel)
            } else {
                read_lines(reader, cfg.max_doc_bytes, &mut *push, &file.rel)
            }
        }
        Format::Csv => read_csv(reader, cfg.max_doc_bytes, &mut *push, &file.rel),
    }
}

/// A contiguous piece of the input: a run of whole files (`range == None`), or the lines of
/// one large uncompressed JSONL file that start inside a byte range. Blocks depend on the
/// file list and sizes alone (never on the content), so every machine computes the same ones;
/// batches never span two blocks, which is what lets a sharded run reproduce a single run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// Indexes into the file list.
    pub files: std::ops::Range<usize>,
    /// Byte range of the single file `files.start` (lines starting at `start <= p < end`).
    pub range: Option<(u64, u64)>,
    /// Input bytes the block stands for (for balancing shards).
    pub bytes: u64,
}

/// Can this file be read by byte ranges? (Uncompressed JSON Lines only: a `.json` file may
/// be one array.)
pub fn splittable(file: &InputFile) -> bool {
    let name = file.rel.to_ascii_lowercase();
    file.format == Some(Format::Jsonl)
        && file.compression == Compression::None
        && (name.ends_with(".jsonl") || name.ends_with(".ndjson"))
}

/// Does the stream start (after a BOM and white space) with `[`, i.e. hold one JSON array?
fn starts_with_array(reader: &mut Box<dyn BufRead + Send>) -> bool {
    loop {
        let buf = match reader.fill_buf() {
            Ok(b) if !b.is_empty() => b,
            _ => return false,
        };
        let skip = if buf.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            buf.iter().take_while(|b| b.is_ascii_whitespace()).count()
        };
        if skip == 0 {
            return buf[0] == b'[';
        }
        reader.consume(skip);
    }
}

/// Does the stream (after [`starts_with_array`] skipped a BOM and white space) start with a
/// line that opens an object but is no JSON value by itself, i.e. one record spread over
/// lines (a pretty-printed `.json` file)? A first line longer than the read buffer is taken
/// for a JSON line.
fn first_line_is_part_of_a_value(reader: &mut Box<dyn BufRead + Send>) -> bool {
    let Ok(buf) = reader.fill_buf() else {
        return false;
    };
    let Some(end) = memchr::memchr(b'\n', buf) else {
        return false;
    };
    buf.first() == Some(&b'{')
        && serde_json::from_slice::<serde::de::IgnoredAny>(&buf[..end]).is_err()
}

/// A file holding one JSON record over many lines: one record (line 1 in messages). When the
/// whole file is no JSON value after all (a JSON Lines file whose first line is broken) or
/// is over `limit`, it is read line by line as JSON Lines, so that its good lines are kept.
fn read_json_value(
    mut reader: Box<dyn BufRead + Send>,
    limit: u64,
    mut emit: impl FnMut(u64, Payload) -> bool,
    rel: &str,
) -> bool {
    let mut head = Vec::new();
    if let Err(e) = (&mut reader)
        .take(limit.saturating_add(1))
        .read_to_end(&mut head)
    {
        let r = Reject::new(io_reason(&e), format!("{rel}: {e}"));
        return emit(1, Payload::Failed(r));
    }
    if head.len() as u64 <= limit && serde_json::from_slice::<serde::de::IgnoredAny>(&head).is_ok()
    {
        return emit(1, Payload::JsonLine(head));
    }
    let rest = io::BufReader::new(io::Cursor::new(head).chain(reader));
    read_lines(Box::new(rest), limit, emit, rel)
}

/// A `.json` file holding one array of records: each element becomes one record (its
/// "line" in messages is its 1-based position in the array). The array is streamed: one
/// element is in memory at a time, an element over `limit` is a `too-large` reject, and when
/// the array breaks off (bad JSON, a truncated file) the elements before the break are kept
/// and the break is one reject naming the element and the file's line and column.
fn read_json_array(
    reader: Box<dyn BufRead + Send>,
    limit: u64,
    mut emit: impl FnMut(u64, Payload) -> bool,
    rel: &str,
) -> bool {
    let mut records = ArrayRecords {
        emit: &mut emit,
        limit,
        rel,
        count: 0,
        stopped: false,
    };
    let mut de = serde_json::Deserializer::from_reader(reader);
    let array = serde::Deserializer::deserialize_seq(&mut de, &mut records);
    let whole = array.is_ok();
    let (count, stopped) = (records.count, records.stopped);
    match array.and_then(|()| de.end()) {
        Ok(()) => true,
        Err(_) if stopped => false,
        Err(e) => {
            let reason = match e.io_error_kind() {
                Some(kind) => io_reason(&io::Error::from(kind)),
                None if e.is_eof() => "truncated",
                None => "bad-json",
            };
            let what = if whole {
                "text after the array".to_string()
            } else if count == 0 {
                "not a JSON array of records".to_string()
            } else {
                format!("the array breaks off after record {count}")
            };
            let r = Reject::new(
                reason,
                format!("{rel}: {what}: {e}; the rest of the file could not be read"),
            );
            emit(count + 1, Payload::Failed(r))
        }
    }
}

/// The visitor of [`read_json_array`]: hands each element on as it is parsed.
struct ArrayRecords<'a, F> {
    emit: &'a mut F,
    limit: u64,
    rel: &'a str,
    /// Elements handed on so far.
    count: u64,
    /// `emit` asked to stop (the run is being cancelled).
    stopped: bool,
}

impl<'de, F: FnMut(u64, Payload) -> bool> serde::de::Visitor<'de> for &mut ArrayRecords<'_, F> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of records")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(rec) = seq.next_element::<Box<serde_json::value::RawValue>>()? {
            self.count += 1;
            let bytes = rec.get().as_bytes();
            let payload = if bytes.len() as u64 > self.limit {
                Payload::Failed(Reject::new(
                    "too-large",
                    format!(
                        "{}:{}: record larger than input.max_doc_bytes = {}",
                        self.rel, self.count, self.limit
                    ),
                ))
            } else {
                Payload::JsonLine(bytes.to_vec())
            };
            if !(self.emit)(self.count, payload) {
                self.stopped = true;
                return Err(serde::de::Error::custom("stopped"));
            }
        }
        Ok(())
    }
}

/// Cut the sorted file list into blocks of about `block_bytes`: small files are grouped until
/// the group reaches `block_bytes`; a larger splittable file is cut into byte ranges of
/// `block_bytes`; any other large file is a block of its own.
pub fn plan_blocks(files: &[Arc<InputFile>], block_bytes: u64) -> Vec<Block> {
    let block_bytes = block_bytes.max(1);
    let mut out = Vec::new();
    let mut group_start = 0usize;
    let mut group_bytes = 0u64;
    for (i, f) in files.iter().enumerate() {
        if f.size > block_bytes {
            if i > group_start {
                out.push(Block {
                    files: group_start..i,
                    range: None,
                    bytes: group_bytes,
                });
            }
            if splittable(f) {
                let mut start = 0u64;
                while start < f.size {
                    let end = (start + block_bytes).min(f.size);
                    out.push(Block {
                        files: i..i + 1,
                        range: Some((start, end)),
                        bytes: end - start,
                    });
                    start = end;
                }
            } else {
                out.push(Block {
                    files: i..i + 1,
                    range: None,
                    bytes: f.size,
                });
            }
            group_start = i + 1;
            group_bytes = 0;
            continue;
        }
        group_bytes += f.size;
        if group_bytes >= block_bytes {
            out.push(Block {
                files: group_start..i + 1,
                range: None,
                bytes: group_bytes,
            });
            group_start = i + 1;
            group_bytes = 0;
        }
    }
    if group_start < files.len() {
        out.push(Block {
            files: group_start..files.len(),
            range: None,
            bytes: group_bytes,
        });
    }
    out
}

/// What [`read_blocks`] hands on: items, and the end of each block.
#[derive(Debug)]
pub enum BlockEvent {
    Item(RawItem),
    /// Every item of block `.0` has been emitted.
    End(usize),
}

/// First sequence number of block `b` in a sharded run: blocks are read on different
/// machines, so a document's `seq` is `(block << SEQ_BLOCK_SHIFT) + position in block`.
/// It orders documents exactly as the single run's running count does.
pub const SEQ_BLOCK_SHIFT: u32 = 40;

/// Read the blocks `which` (indexes into `blocks`, ascending) in order. With `block_seq`,
/// item `k` of block `b` gets `seq = (b << SEQ_BLOCK_SHIFT) + k`; otherwise `seq` counts up
/// from `first_seq` as in [`read_all`].
#[allow(clippy::too_many_arguments)]
pub fn read_blocks(
    files: &[Arc<InputFile>],
    blocks: &[Block],
    which: &[usize],
    cfg: &InputConfig,
    counter: Arc<AtomicU64>,
    block_seq: bool,
    first_seq: u64,
    mut emit: impl FnMut(BlockEvent) -> bool,
) {
    let mut seq = first_seq;
    let mut carry = None;
    for &b in which {
        let Some(block) = blocks.get(b) else { continue };
        if block_seq {
            seq = (b as u64) << SEQ_BLOCK_SHIFT;
        }
        for file in &files[block.files.clone()] {
            if remote_failed(file) {
                return;
            }
            let mut push = |line: u64, payload: Payload| {
                let item = RawItem {
                    seq,
                    file: file.clone(),
                    line,
                    payload,
                };
                seq += 1;
                emit(BlockEvent::Item(item))
            };
            if !read_file(file, block.range, cfg, &counter, &mut carry, &mut push) {
                return;
            }
        }
        if !emit(BlockEvent::End(b)) {
            return;
        }
    }
}

/// Open an uncompressed file at the first line that starts at or after `start`:
/// `(reader, 1-based number of that line, its byte offset)`.
fn open_range(
    file: &InputFile,
    start: u64,
    counter: Arc<AtomicU64>,
) -> io::Result<(Box<dyn BufRead + Send>, u64, u64)> {
    if crate::storage::is_remote(&file.path) {
        let r = crate::storage::open(&file.path)?;
        return skip_to_line(
            BufReader::with_capacity(1 << 20, Counting { inner: r, counter }),
            start,
        );
    }
    let f = File::open(&file.path)?;
    if let Some(r) = DirectReader::for_file(file, &f, &counter) {
        return skip_to_line(r, start);
    }
    skip_to_line(
        BufReader::with_capacity(1 << 20, Counting { inner: f, counter }),
        start,
    )
}

/// Read `r` up to the first line that starts at or after `start` (see [`open_range`]).
fn skip_to_line<R: BufRead + Send + 'static>(
    mut r: R,
    start: u64,
) -> io::Result<(Box<dyn BufRead + Send>, u64, u64)> {
    let mut newlines = 0u64;
    let mut pos = 0u64;
    // Count the lines before `start` (line numbers are those of the whole file).
    while pos < start {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            break;
        }
        let take = (buf.len() as u64).min(start - pos) as usize;
        newlines += memchr::memchr_iter(b'\n', &buf[..take]).count() as u64;
        let last = buf[take - 1];
        r.consume(take);
        pos += take as u64;
        if pos == start && last != b'\n' {
            // `start` falls inside a line: it belongs to the block where it starts.
            let mut sink = Vec::new();
            loop {
                sink.clear();
                let n = (&mut r).take(1 << 20).read_until(b'\n', &mut sink)?;
                pos += n as u64;
                if n == 0 || sink.last() == Some(&b'\n') {
                    if n > 0 {
                        newlines += 1;
                    }
                    break;
                }
            }
        }
    }
    Ok((Box::new(r), newlines + 1, pos))
}

fn io_reason(e: &io::Error) -> &'static str {
    match e.kind() {
        io::ErrorKind::UnexpectedEof => "truncated",
        io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput => "corrupt-archive",
        io::ErrorKind::FileTooLarge => "too-large",
        _ => "read-error",
    }
}

/// Read a whole-file document, refusing files over the size limit.
fn read_whole(reader: Box<dyn BufRead + Send>, limit: u64) -> Result<Vec<u8>, Reject> {
    let mut buf = Vec::new();
    let mut limited = reader.take(limit + 1);
    match limited.read_to_end(&mut buf) {
        Ok(_) if buf.len() as u64 > limit => Err(Reject::new(
            "too-large",
            format!("larger than input.max_doc_bytes = {limit}"),
        )),
        Ok(_) => Ok(buf),
        Err(e) => Err(Reject::new(io_reason(&e), e.to_string())),
    }
}

/// Split a JSONL stream into lines. Blank lines are not documents and are skipped.
fn read_lines(
    reader: Box<dyn BufRead + Send>,
    limit: u64,
    emit: impl FnMut(u64, Payload) -> bool,
    rel: &str,
) -> bool {
    let mut reader = reader;
    read_lines_from(&mut *reader, limit, 1, None, emit, rel).0
}

/// [`read_lines`] from line number `first_line`, stopping before a line that starts
/// `budget` bytes or more after the reader's position. Returns whether to go on, and, when
/// it stopped for the budget, `(number of the next line, bytes consumed)`: the reader then
/// stands at the start of that line.
fn read_lines_from(
    reader: &mut dyn BufRead,
    limit: u64,
    first_line: u64,
    budget: Option<u64>,
    mut emit: impl FnMut(u64, Payload) -> bool,
    rel: &str,
) -> (bool, Option<(u64, u64)>) {
    let mut line_no = first_line.saturating_sub(1);
    let mut consumed = 0u64;
    loop {
        if budget.is_some_and(|b| consumed >= b) {
            return (true, Some((line_no + 1, consumed)));
        }
        let mut buf = Vec::new();
        line_no += 1;
        // Read at most limit+1 bytes of this line; a longer line is skipped to its end.
        let res = read_line_limited(reader, limit.saturating_add(1), &mut buf);
        match res {
            Ok(0) => return (true, None),
            Ok(n) => {
                consumed += n as u64;
                if buf.last() != Some(&b'\n') && buf.len() as u64 > limit {
                    let mut skipped = buf.len() as u64;
                    loop {
                        let mut sink = Vec::new();
                        match (&mut *reader).take(1 << 20).read_until(b'\n', &mut sink) {
                            Ok(0) => break,
                            Ok(n) => {
                                skipped += n as u64;
                                consumed += n as u64;
                                if sink.last() == Some(&b'\n') {
                                    break;
                                }
                            }
                            Err(_) => break,
                        }
                    }
                    let r = Reject::new("too-large", format!("{rel}:{line_no}: line of {skipped} bytes is larger than input.max_doc_bytes = {limit}"));
                    if !emit(line_no, Payload::Failed(r)) {
                        return (false, None);
                    }
                    continue;
                }
                while matches!(buf.last(), Some(b'\n' | b'\r')) {
                    buf.pop();
                }
                if line_no == 1 && buf.starts_with(b"\xEF\xBB\xBF") {
                    buf.drain(..3);
                }
                if buf.iter().all(|b| b.is_ascii_whitespace()) {
                    continue;
                }
                if !emit(line_no, Payload::JsonLine(buf)) {
                    return (false, None);
                }
            }
            Err(e) => {
                let r = Reject::new(
                    io_reason(&e),
                    format!("{rel}:{line_no}: {e}; the rest of the file could not be read"),
                );
                return (emit(line_no, Payload::Failed(r)), None);
            }
        }
    }
}

/// `reader.take(max).read_until(b'\n', buf)`, but a line that lies whole in the reader's
/// buffer (nearly all of them) is copied with one exact-size allocation instead of a
/// doubling `Vec` (the reallocations were a visible share of reading).
fn read_line_limited(reader: &mut dyn BufRead, max: u64, buf: &mut Vec<u8>) -> io::Result<usize> {
    let mut read = 0usize;
    loop {
        let room = (max - read as u64).min(usize::MAX as u64) as usize;
        if room == 0 {
            return Ok(read);
        }
        let avail = match reader.fill_buf() {
            Ok(a) => a,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if avail.is_empty() {
            return Ok(read);
        }
        let avail = &avail[..avail.len().min(room)];
        let (take, done) = match memchr::memchr(b'\n', avail) {
            Some(i) => (i + 1, true),
            None => (avail.len(), false),
        };
        if buf.is_empty() {
            buf.reserve_exact(take);
        }
        buf.extend_from_slice(&avail[..take]);
        reader.consume(take);
        read += take;
        if done {
            return Ok(read);
        }
    }
}

/// Stream CSV records (header row first).
fn read_csv(
    mut reader: Box<dyn BufRead + Send>,
    limit: u64,
    mut emit: impl FnMut(u64, Payload) -> bool,
    rel: &str,
) -> bool {
    // The csv crate counts lines by `\n` alone. It starts a record that follows a CR LF at
    // that LF and numbers it one line early: in a file whose header row ends in CR LF, every
    // record line is moved by one. In a file of bare CRs (old Mac) every record would be line
    // 1: its CRs are read as LFs (a line break inside a quoted field becomes `\n`).
    let first_break = reader
        .fill_buf()
        .ok()
        .and_then(|b| memchr::memchr2(b'\n', b'\r', b).map(|i| (b[i], b.get(i + 1).copied())));
    let crlf = first_break == Some((b'\r', Some(b'\n')));
    let cr_only = matches!(first_break, Some((b'\r', Some(next))) if next != b'\n');
    let reader: Box<dyn BufRead + Send> = if cr_only {
        Box::new(CrAsLf::new(reader))
    } else {
        reader
    };
    let line_of = |p: Option<&csv::Position>| p.map_or(0, |p| p.line() + u64::from(crlf));
    let reader = LastByte::new(reader, limit);
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
    let headers = match rdr.byte_headers() {
        Ok(h) => Arc::new(h.clone()),
        Err(e) => {
            let r = Reject::new("bad-csv", format!("{rel}: cannot read header row: {e}"));
            return emit(1, Payload::Failed(r));
        }
    };
    let record = |line: u64, rec: csv::ByteRecord| {
        if rec.as_slice().len() as u64 > limit {
            Payload::Failed(Reject::new(
                "too-large",
                format!("{rel}:{line}: record larger than input.max_doc_bytes = {limit}"),
            ))
        } else {
            Payload::CsvRecord(rec, headers.clone())
        }
    };
    let Some(mut tail) = csv_records(&mut rdr, line_of, &mut emit, &record, rel) else {
        return false;
    };
    let ends_with_quote = rdr.get_ref().last == b'"';
    // A field with a line break was quoted; when the file does not end with a quote, that
    // quote was never closed and the field ran to the end of the file, swallowing every
    // record after it (pandas: "EOF inside string"). The record is rejected and the lines
    // after its first are read again as records: the field holds them as they were (in an
    // open quote, `""` is the only way to write a quote, so each `"` was `""`).
    loop {
        let Some((line, last)) = tail else {
            return true;
        };
        let field = last.iter().next_back().unwrap_or_default();
        let Some(nl) = memchr::memchr(b'\n', field).filter(|_| !ends_with_quote) else {
            return emit(line, record(line, last));
        };
        let before: usize = last
            .iter()
            .rev()
            .skip(1)
            .map(|f| memchr::memchr_iter(b'\n', f).count())
            .sum();
        let r = Reject::new(
            "bad-csv",
            format!("{rel}:{line}: a quoted field opened in this record is never closed (it ran to the end of the file); the lines after it are read again as records"),
        );
        if !emit(line, Payload::Failed(r)) {
            return false;
        }
        let mut rest = Vec::with_capacity(field.len() - nl + 16);
        for &b in &field[nl + 1..] {
            rest.push(b);
            if b == b'"' {
                rest.push(b'"');
            }
        }
        let first = line + before as u64 + 1;
        let mut sub = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(LastByte::new(io::Cursor::new(rest), limit));
        // (the crate's CR LF quirk, as above, for every record but the first)
        let sub_line = |p: Option<&csv::Position>| {
            p.map_or(0, |p| {
                p.line() + first - 1 + u64::from(crlf && p.byte() > 0)
            })
        };
        tail = match csv_records(&mut sub, sub_line, &mut emit, &record, rel) {
            Some(t) => t,
            None => return false,
        };
    }
}

/// The records of a CSV stream, each handed on when the next one is read; returns the last
/// record (for [`read_csv`]'s check of the end), or `None` when `emit` asked to stop.
#[allow(clippy::option_option)]
fn csv_records<R: Read>(
    rdr: &mut csv::Reader<LastByte<R>>,
    line_of: impl Fn(Option<&csv::Position>) -> u64,
    emit: &mut impl FnMut(u64, Payload) -> bool,
    record: &impl Fn(u64, csv::ByteRecord) -> Payload,
    rel: &str,
) -> Option<Option<(u64, csv::ByteRecord)>> {
    let mut pending: Option<(u64, csv::ByteRecord)> = None;
    let mut rec = csv::ByteRecord::new();
    loop {
        let start = rdr.position().clone();
        let read = rdr.read_byte_record(&mut rec);
        let next = rdr.position().byte();
        rdr.get_mut().start = next;
        match read {
            Ok(false) => return Some(pending),
            Ok(true) => {
                let line = line_of(rec.position());
                if let Some((l, r)) = pending.replace((line, rec.clone())) {
                    if !emit(l, record(l, r)) {
                        return None;
                    }
                }
            }
            Err(e) => {
                if let Some((l, r)) = pending.take() {
                    if !emit(l, record(l, r)) {
                        return None;
                    }
                }
                // (an error of the stream has no position: the record it cut off starts
                // where the last one ended)
                let line = line_of(e.position().or(Some(&start)));
                let fatal = matches!(e.kind(), csv::ErrorKind::Io(_));
                let reason = match e.kind() {
                    csv::ErrorKind::Io(ioe) => io_reason(ioe),
                    _ => "bad-csv",
                };
                let r = Reject::new(reason, format!("{rel}:{line}: {e}"));
                if !emit(line, Payload::Failed(r)) {
                    return None;
                }
                if fatal {
                    // The stream itself is broken: nothing more can be read from this file.
                    return Some(None);
                }
            }
        }
    }
}

/// The reader under [`read_csv`]'s parser: remembers the last byte it read that is not
/// white space (for the check of a quote left open at the end of the file), and fails with
/// `FileTooLarge` when one record runs past `limit` (and some read-ahead): the csv crate
/// would otherwise hold a record of any size, the whole rest of a file after a stray quote.
struct LastByte<R> {
    inner: R,
    last: u8,
    /// Bytes read so far, and the offset where the record being read starts.
    read: u64,
    start: u64,
    limit: u64,
}

impl<R> LastByte<R> {
    fn new(inner: R, limit: u64) -> Self {
        LastByte {
            inner,
            last: 0,
            read: 0,
            start: 0,
            limit,
        }
    }
}

impl<R: Read> Read for LastByte<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.read.saturating_sub(self.start) > self.limit.saturating_add(1 << 20) {
            return Err(io::Error::new(
                io::ErrorKind::FileTooLarge,
                format!(
                    "a record runs past input.max_doc_bytes = {} (a quote never closed?); the rest of the file could not be read",
                    self.limit
                ),
            ));
        }
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if let Some(&b) = buf[..n].iter().rev().find(|b| !b.is_ascii_whitespace()) {
            self.last = b;
        }
        Ok(n)
    }
}

/// Reads a stream with every CR turned into LF (same bytes, same offsets): for CSV files of
/// bare CR line ends, whose lines the csv crate would not count.
struct CrAsLf {
    inner: Box<dyn BufRead + Send>,
    buf: Vec<u8>,
    pos: usize,
}

impl CrAsLf {
    fn new(inner: Box<dyn BufRead + Send>) -> Self {
        CrAsLf {
            inner,
            buf: Vec::new(),
            pos: 0,
        }
    }
}

impl Read for CrAsLf {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        read_through_buffer(self, out)
    }
}

impl BufRead for CrAsLf {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos == self.buf.len() {
            let chunk = self.inner.fill_buf()?;
            self.buf.clear();
            self.buf
                .extend(chunk.iter().map(|&b| if b == b'\r' { b'\n' } else { b }));
            let n = chunk.len();
            self.inner.consume(n);
            self.pos = 0;
        }
        Ok(&self.buf[self.pos..])
    }

    fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.buf.len());
    }
}

/// Turn one raw item into a document (or a reject). Pure: runs in parallel.
pub fn parse_item(item: RawItem, cfg: &InputConfig) -> Result<Document, RejectRecord> {
    let loc = item.location();
    let rej = |id: String, r: Reject| RejectRecord {
        seq: item.seq,
        id,
        source: loc.clone(),
        reject: r,
    };
    let format = item.file.format.unwrap_or(Format::Text);
    match item.payload {
        Payload::Failed(r) => {
            let id = if item.line == 0 {
                item.file.stem_id()
            } else {
                loc.clone()
            };
            Err(rej(id, r))
        }
        Payload::File(bytes) => {
            let id = item.file.stem_id();
            let decoded = if format == Format::Html {
                decode::decode_html(&bytes)
            } else {
                decode::decode(&bytes)
            };
            match decoded {
                Ok(d) => {
                    let mut doc = Document::new(item.seq, id, loc.clone(), format, d.text);
                    doc.encoding = d.encoding;
                    log_fixes(&mut doc, d.fixes);
                    Ok(doc)
                }
                Err(e) => Err(rej(id, decode_reject(e, &loc))),
            }
        }
        Payload::JsonLine(bytes) => parse_json_line(&bytes, item.seq, &loc, cfg)
            .map_err(|(id, r)| rej(id.unwrap_or_else(|| loc.clone()), r)),
        Payload::CsvRecord(rec, headers) => parse_csv_record(&rec, &headers, item.seq, &loc, cfg)
            .map_err(|(id, r)| rej(id.unwrap_or_else(|| loc.clone()), r)),
    }
}

fn decode_reject(e: decode::DecodeError, loc: &str) -> Reject {
    match e {
        decode::DecodeError::Binary(d) => Reject::new("binary", format!("{loc}: {d}")),
        decode::DecodeError::Undecodable(d) => Reject::new("undecodable", format!("{loc}: {d}")),
    }
}

fn json_to_string(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// [`json_to_string`] of a value the caller owns: a string is moved, not copied.
fn json_into_string(v: serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s),
        other => json_to_string(&other),
    }
}

type ParseErr = (Option<String>, Reject);

/// The name under which reading counts what it mended in a document's log (`changes` of the
/// corpus line, the report's stages).
pub const READ: &str = "read";

/// Say in the document's log what reading its bytes mended ([`decode::nearly_utf8`]).
fn log_fixes(doc: &mut Document, fixes: decode::Utf8Fixes) {
    for (rule, n) in fixes.named() {
        doc.log.count(READ, rule, n);
    }
}

fn parse_json_line(
    bytes: &[u8],
    seq: u64,
    loc: &str,
    cfg: &InputConfig,
) -> Result<Document, ParseErr> {
    // JSON is UTF-8 by definition; a line in a legacy encoding is decoded first and the
    // encoding recorded, rather than the document lost.
    let (text, encoding, fixes): (std::borrow::Cow<str>, &'static str, _) =
        match simdutf8::basic::from_utf8(bytes) {
            Ok(s) => (s.into(), "UTF-8", decode::Utf8Fixes::default()),
            Err(_) => match decode::decode(bytes) {
                Ok(d) => (d.text.into(), d.encoding, d.fixes),
                Err(e) => return Err((None, decode_reject(e, loc))),
            },
        };
    let mut lone = 0;
    let bad = |e: serde_json::Error| (None, Reject::new("bad-json", format!("{loc}: {e}")));
    let value: serde_json::Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        // JSON written from UTF-16 strings cut in the middle of a pair (or by Python, whose
        // `json` writes lone surrogates): read them as U+FFFD; when that is not all that is
        // wrong, the error named is the one left
        Err(e) => match mend_lone_surrogates(&text) {
            None => return Err(bad(e)),
            Some((mended, n)) => match serde_json::from_str(&mended) {
                Ok(v) => {
                    lone = n;
                    v
                }
                Err(e) => return Err(bad(e)),
            },
        },
    };
    let serde_json::Value::Object(mut obj) = value else {
        return Err((
            None,
            Reject::new("bad-json", format!("{loc}: not a JSON object")),
        ));
    };
    let id = obj
        .remove(&cfg.id_field)
        .and_then(json_into_string)
        .unwrap_or_else(|| loc.to_string());
    let body = match obj.remove(&cfg.text_field) {
        Some(serde_json::Value::String(s)) => s,
        Some(serde_json::Value::Null) | None => {
            return Err((
                Some(id),
                Reject::new(
                    "missing-text",
                    format!("{loc}: no `{}` field", cfg.text_field),
                ),
            ))
        }
        Some(other) => {
            return Err((
                Some(id),
                Reject::new(
                    "missing-text",
                    format!(
                        "{loc}: `{}` is not a string but {}",
                        cfg.text_field,
                        kind_of(&other)
                    ),
                ),
            ))
        }
    };
    let mut doc = Document::new(seq, id, loc.to_string(), Format::Jsonl, body);
    doc.encoding = encoding;
    log_fixes(&mut doc, fixes);
    doc.log.count(READ, "lone-surrogate", lone);
    if let Some(t) = obj.remove(&cfg.title_field).and_then(json_into_string) {
        if !t.trim().is_empty() {
            doc.title = Some(t);
        }
    }
    if let Some(s) = obj.get(&cfg.source_field).and_then(json_to_string) {
        obj.remove(&cfg.source_field);
        doc.source = s;
    }
    doc.meta = obj;
    Ok(doc)
}

/// `json` with every `\u` escape of a surrogate that is not half of a pair replaced by
/// `\ufffd`, and how many; `None` when it has none.
fn mend_lone_surrogates(json: &str) -> Option<(String, u64)> {
    let b = json.as_bytes();
    let unit = |i: usize| -> Option<u16> {
        let hex = b.get(i..i + 6).filter(|h| h.starts_with(b"\\u"))?;
        u16::from_str_radix(std::str::from_utf8(&hex[2..]).ok()?, 16).ok()
    };
    let mut out = Vec::new();
    let (mut n, mut copied, mut i) = (0, 0, 0);
    while let Some(k) = memchr::memchr(b'\\', &b[i..]) {
        let at = i + k;
        match unit(at) {
            Some(0xD800..=0xDBFF) if matches!(unit(at + 6), Some(0xDC00..=0xDFFF)) => i = at + 12,
            Some(0xD800..=0xDFFF) => {
                out.extend_from_slice(&b[copied..at]);
                out.extend_from_slice(b"\\ufffd");
                n += 1;
                i = at + 6;
                copied = i;
            }
            // any other escape: its next character cannot start one
            _ => i = at + 2,
        }
        if i >= b.len() {
            break;
        }
    }
    if n == 0 {
        return None;
    }
    out.extend_from_slice(&b[copied.min(b.len())..]);
    String::from_utf8(out).ok().map(|s| (s, n))
}

fn kind_of(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

fn parse_csv_record(
    rec: &csv::ByteRecord,
    headers: &csv::ByteRecord,
    seq: u64,
    loc: &str,
    cfg: &InputConfig,
) -> Result<Document, ParseErr> {
    let mut encoding: &'static str = "UTF-8";
    let mut fixes = decode::Utf8Fixes::default();
    let mut field = |b: &[u8]| -> Result<String, Reject> {
        match std::str::from_utf8(b) {
            Ok(s) => Ok(s.to_string()),
            Err(_) => {
                let d = decode::decode(b).map_err(|e| decode_reject(e, loc))?;
                encoding = d.encoding;
                fixes.add(d.fixes);
                Ok(d.text)
            }
        }
    };
    let mut id = None;
    let mut text = None;
    let mut title = None;
    let mut source = None;
    let mut meta = serde_json::Map::new();
    for (i, h) in headers.iter().enumerate() {
        let name = String::from_utf8_lossy(h).into_owned();
        let Some(value) = rec.get(i) else { continue };
        let value = field(value).map_err(|r| (None, r))?;
        if name == cfg.id_field {
            id = Some(value);
        } else if name == cfg.text_field {
            text = Some(value);
        } else if name == cfg.title_field {
            title = Some(value);
        } else if name == cfg.source_field {
            source = Some(value);
        } else {
            meta.insert(name, serde_json::Value::String(value));
        }
    }
    let id = id
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| loc.to_string());
    let Some(text) = text else {
        return Err((
            Some(id),
            Reject::new(
                "missing-text",
                format!("{loc}: no `{}` column", cfg.text_field),
            ),
        ));
    };
    let mut doc = Document::new(seq, id, loc.to_string(), Format::Csv, text);
    doc.encoding = encoding;
    log_fixes(&mut doc, fixes);
    doc.title = title.filter(|t| !t.trim().is_empty());
    if let Some(s) = source {
        doc.source = s;
    }
    doc.meta = meta;
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_record_lines_are_right_with_crlf_too() {
        for data in [
            "id,text\na,x\nb,\"y\nz\"\nc,w\n",
            "id,text\r\na,x\r\nb,\"y\r\nz\"\r\nc,w\r\n",
            "id,text\ra,x\rb,\"y\rz\"\rc,w\r",
        ] {
            let mut lines = Vec::new();
            let reader = Box::new(io::Cursor::new(data.as_bytes().to_vec()));
            let push = |l, _| {
                lines.push(l);
                true
            };
            read_csv(reader, 1 << 20, push, "t.csv");
            assert_eq!(lines, [2, 3, 5], "{data:?}");
        }
    }

    #[test]
    fn a_quote_never_closed_costs_its_record_only() {
        for eol in ["\n", "\r\n", "\r"] {
            // (a quote left open before another lone quote pairs with it: the csv crate reads
            // one field across the lines between, and that is not caught)
            let data = ["id,text", "a,x", "b,\"y", "c,said \"\"hi\"\"", "d,v"].join(eol);
            let mut got = Vec::new();
            let reader = Box::new(io::Cursor::new(data.into_bytes()));
            let push = |l, p: Payload| {
                got.push(match p {
                    Payload::CsvRecord(r, _) => {
                        format!("{l}:{}", String::from_utf8_lossy(&r[1]))
                    }
                    Payload::Failed(r) => format!("{l}:{}", r.reason),
                    _ => unreachable!(),
                });
                true
            };
            assert!(read_csv(reader, 1 << 20, push, "t.csv"));
            let want = ["2:x", "3:bad-csv", "4:said \"\"hi\"\"", "5:v"];
            assert_eq!(got, want, "{eol:?}");
        }
        // a quote left open in a file much larger than the limit: the record is cut off there
        let data = format!("id,text\na,x\nb,\"y\n{}", "c,w\n".repeat(1 << 19));
        let mut got = Vec::new();
        let push = |l, p: Payload| {
            got.push(match p {
                Payload::Failed(r) => format!("{l}:{}", r.reason),
                _ => format!("{l}"),
            });
            true
        };
        read_csv(
            Box::new(io::Cursor::new(data.into_bytes())),
            1000,
            push,
            "t.csv",
        );
        assert_eq!(got, ["2", "3:too-large"]);
        // a last field of many lines, its quote closed: kept
        let data = "id,text\na,\"x\ny\"  \n";
        let mut got = Vec::new();
        let push = |l, p: Payload| {
            got.push((l, matches!(p, Payload::CsvRecord(..))));
            true
        };
        read_csv(
            Box::new(io::Cursor::new(data.as_bytes().to_vec())),
            1 << 20,
            push,
            "t.csv",
        );
        assert_eq!(got, [(2, true)]);
    }

    #[test]
    fn json_arrays_are_streamed_record_by_record() {
        let data = r#"[{"t": "a"}, {"t": "a much longer record"}, {"t": "b"}, {"t": "c"}]"#;
        let mut got = Vec::new();
        let reader = Box::new(io::Cursor::new(data.as_bytes().to_vec()));
        let push = |l, p: Payload| {
            got.push(match p {
                Payload::JsonLine(b) => format!("{l}:{}", String::from_utf8(b).unwrap()),
                Payload::Failed(r) => format!("{l}:{}", r.reason),
                _ => unreachable!(),
            });
            l < 3 // stop after the third record
        };
        assert!(!read_json_array(reader, 12, push, "t.json"));
        assert_eq!(got, [r#"1:{"t": "a"}"#, "2:too-large", r#"3:{"t": "b"}"#]);
    }

    #[test]
    fn lone_surrogate_escapes_become_replacement_characters() {
        let json = r#"{"t": "a \ud83d b \udc00 c \ud83d\ude00 d \\ud800 e \ud800"}"#;
        let (mended, n) = mend_lone_surrogates(json).unwrap();
        assert_eq!(n, 3);
        let v: serde_json::Value = serde_json::from_str(&mended).unwrap();
        assert_eq!(
            v["t"],
            "a \u{FFFD} b \u{FFFD} c \u{1F600} d \\ud800 e \u{FFFD}"
        );
        // a pair, an escaped backslash, a truncated escape: nothing to mend
        assert!(mend_lone_surrogates(r#"{"t": "\ud83d\ude00 \\ud800 \u00e9 \ud8"}"#).is_none());
    }

    /// A large file read around the page cache gives exactly its bytes, through the
    /// buffered and the plain interface, from its start and from a line in its middle,
    /// whether or not the file system takes direct I/O.
    #[test]
    fn direct_reads_give_the_file_as_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.jsonl");
        let mut want = Vec::new();
        let mut k = 0;
        while want.len() < DIRECT_MIN as usize + 3 * crate::output::ALIGN + 17 {
            want.extend_from_slice(format!("{{\"id\":{k},\"text\":\"line {k} ü\"}}\n").as_bytes());
            k += 1;
        }
        std::fs::write(&path, &want).unwrap();
        let f = InputFile {
            path: path.clone(),
            rel: "big.jsonl".into(),
            format: Some(Format::Jsonl),
            compression: Compression::None,
            size: want.len() as u64,
            version: None,
            error: None,
        };
        let counter = Arc::new(AtomicU64::new(0));
        let mut got = Vec::new();
        open(&f, counter.clone())
            .unwrap()
            .read_to_end(&mut got)
            .unwrap();
        assert!(got == want, "{} of {} bytes", got.len(), want.len());
        assert_eq!(counter.load(Ordering::Relaxed), want.len() as u64);
        let mut lines = 0;
        for l in open(&f, counter.clone()).unwrap().lines() {
            l.unwrap();
            lines += 1;
        }
        assert_eq!(lines, k);
        let mid = want.len() as u64 / 2;
        let (mut r, line, at) = open_range(&f, mid, counter).unwrap();
        let mut rest = Vec::new();
        r.read_to_end(&mut rest).unwrap();
        assert!(
            at >= mid && rest == want[at as usize..],
            "line {line} at {at}"
        );
        assert_eq!(
            line,
            1 + want[..at as usize].iter().filter(|&&b| b == b'\n').count() as u64
        );
    }

    fn file(rel: &str) -> InputFile {
        let (format, compression) = classify(Path::new(rel));
        InputFile {
            path: PathBuf::from(rel),
            rel: rel.into(),
            format,
            compression,
            size: 0,
            version: None,
            error: None,
        }
    }

    #[test]
    fn classifies_compressed_and_plain() {
        assert_eq!(
            classify(Path::new("a/b.jsonl.gz")),
            (Some(Format::Jsonl), Compression::Gzip)
        );
        assert_eq!(
            classify(Path::new("b.TXT")),
            (Some(Format::Text), Compression::None)
        );
        assert_eq!(
            classify(Path::new("b.csv.zst")),
            (Some(Format::Csv), Compression::Zstd)
        );
        assert_eq!(classify(Path::new("b.pdf")).0, None);
    }

    #[test]
    fn sniffs_unnamed_formats_from_content() {
        assert_eq!(
            sniff_bytes(b"\xEF\xBB\xBF {\"id\":1,\"text\":\"a\"}\n{\"id\":2"),
            Some(Format::Jsonl)
        );
        assert_eq!(sniff_bytes(b"[\n {\"id\":1}]"), Some(Format::Jsonl));
        assert_eq!(
            sniff_bytes(b"<!DOCTYPE html><html><p>x</p>"),
            Some(Format::Html)
        );
        // Text that only starts like JSON is not JSON.
        assert_eq!(sniff_bytes(b"{Updated} Council votes\nMore text"), None);
        assert_eq!(sniff_bytes(b"[Updated] Council votes"), None);
        assert_eq!(sniff_bytes(b"<3 this story"), None);
        assert_eq!(sniff_bytes(b"Plain text"), None);
        assert_eq!(sniff_bytes(b""), None);
    }

    #[test]
    fn stem_id_drops_extensions_keeps_folders() {
        assert_eq!(file("2024/a.b.txt.gz").stem_id(), "2024/a.b");
        assert_eq!(file("x.html").stem_id(), "x");
    }

    #[test]
    fn line_reader_matches_take_read_until() {
        let data: &[u8] = b"abc\n\nlonger line here\nx\r\nlast-no-newline";
        for max in [1u64, 2, 3, 4, 5, 10, 100] {
            for cap in [1usize, 2, 3, 7, 64] {
                let mut a = std::io::BufReader::with_capacity(cap, data);
                let mut b = std::io::BufReader::with_capacity(cap, data);
                loop {
                    let (mut x, mut y) = (Vec::new(), Vec::new());
                    let nx = read_line_limited(&mut a, max, &mut x).unwrap();
                    let ny = (&mut b).take(max).read_until(b'\n', &mut y).unwrap();
                    assert_eq!((nx, &x), (ny, &y), "max {max} cap {cap}");
                    if nx == 0 {
                        break;
                    }
                }
            }
        }
    }

    #[test]
    fn json_line_fields() {
        let cfg = InputConfig::default();
        let doc = parse_json_line(
            br#"{"id":7,"text":"hi","title":"T","source":"s.com","lang":"en"}"#,
            0,
            "f:1",
            &cfg,
        )
        .unwrap();
        assert_eq!(doc.id, "7");
        assert_eq!(doc.title.as_deref(), Some("T"));
        assert_eq!(doc.source, "s.com");
        assert_eq!(doc.meta.get("lang").and_then(|v| v.as_str()), Some("en"));
        let err = parse_json_line(b"{\"id\":1,", 0, "f:3", &cfg).unwrap_err();
        assert_eq!(err.1.reason, "bad-json");
        assert!(err.1.detail.contains("f:3"));
        let err = parse_json_line(br#"{"id":1}"#, 0, "f:4", &cfg).unwrap_err();
        assert_eq!(err.1.reason, "missing-text");
    }
}
