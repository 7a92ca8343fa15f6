//! Object storage: `s3://bucket/prefix` inputs and outputs through the `object_store`
//! crate's S3 client (AWS S3 or any S3-compatible server).
//!
//! * Inputs: [`list`] expands `s3://bucket/key` (one object) or `s3://bucket/prefix` (every
//!   object under `prefix/`, like a folder) into objects; [`open`] streams one object
//!   through a bounded channel (a tokio task pulls the GET body, the reading thread blocks
//!   on the channel), so a multi-GB object is never held in memory. A body that breaks off
//!   is resumed with a ranged GET from where it stopped (guarded by the ETag).
//! * Outputs: the run writes into a local staging folder with the usual atomic rules;
//!   [`RemoteOutput::publish`] then deletes the old `report.json`, uploads the data files
//!   (multipart above [`part_bytes`]) and uploads `report.json` last, so a reader that sees
//!   a `report.json` with `"complete": true` sees a complete run.
//!
//! Configuration comes from the standard AWS environment (`AmazonS3Builder::from_env`):
//! `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION` /
//! `AWS_DEFAULT_REGION`, `AWS_ENDPOINT_URL` (S3-compatible servers), `AWS_ALLOW_HTTP=true`
//! (plain-HTTP endpoints). `PRESSWASH_S3_RETRIES` bounds the retries of one request.
//!
//! A failed read of an object is fatal for the run (unlike a corrupt local file, which
//! becomes a reject): a network outage must not turn into a "successful" corpus with
//! missing documents. The first failure is remembered ([`take_failure`]) and checked
//! before anything is published.

use std::collections::HashMap;
use std::io::{self, Read};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Buf, Bytes};
use futures_util::StreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjPath;
use object_store::{
    BackoffConfig, GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig,
    WriteMultipart,
};
use once_cell::sync::Lazy;

use crate::error::{ConfigError, RunError};

/// The URL scheme handled here.
pub const SCHEME: &str = "s3://";

/// Is this path an `s3://` URL?
pub fn is_remote(p: &Path) -> bool {
    p.to_str().is_some_and(|s| s.starts_with(SCHEME))
}

/// A parsed `s3://bucket/key` URL. `key` has no leading, trailing or doubled slashes;
/// `folder` tells whether the URL ended with `/` (or named the whole bucket).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Url {
    pub bucket: String,
    pub key: String,
    pub folder: bool,
}

impl S3Url {
    pub fn parse(p: &Path) -> Result<S3Url, ConfigError> {
        let s = p.to_str().unwrap_or_default();
        let Some(rest) = s.strip_prefix(SCHEME) else {
            return Err(ConfigError::invalid(
                "s3 URL",
                format!("`{}` is not an s3:// URL", p.display()),
            ));
        };
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(ConfigError::invalid(
                "s3 URL",
                format!("`{s}` names no bucket (s3://BUCKET/PREFIX)"),
            ));
        }
        let folder = key.is_empty() || key.ends_with('/');
        let key = key
            .split('/')
            .filter(|c| !c.is_empty())
            .collect::<Vec<_>>()
            .join("/");
        let folder = folder || key.is_empty();
        Ok(S3Url {
            bucket: bucket.to_string(),
            key,
            folder,
        })
    }

    /// `s3://bucket/key` (`s3://bucket` for the whole bucket).
    pub fn url(&self) -> String {
        if self.key.is_empty() {
            format!("{SCHEME}{}", self.bucket)
        } else {
            format!("{SCHEME}{}/{}", self.bucket, self.key)
        }
    }

    /// The object `name` under this URL taken as a folder.
    pub fn child(&self, name: &str) -> S3Url {
        let key = if self.key.is_empty() {
            name.to_string()
        } else {
            format!("{}/{name}", self.key)
        };
        S3Url {
            bucket: self.bucket.clone(),
            key,
            folder: false,
        }
    }

    fn path(&self) -> ObjPath {
        ObjPath::parse(&self.key).unwrap_or_else(|_| ObjPath::from(self.key.as_str()))
    }
}

// ---------------------------------------------------------------------------------------
// Client and runtime

static RUNTIME: Lazy<Result<tokio::runtime::Runtime, String>> = Lazy::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("presswash-s3")
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
});

fn runtime() -> Result<&'static tokio::runtime::Runtime, RunError> {
    RUNTIME
        .as_ref()
        .map_err(|e| RunError::Other(format!("cannot start the s3 client runtime: {e}")))
}

static STORES: Lazy<Mutex<HashMap<String, Arc<AmazonS3>>>> = Lazy::new(Default::default);

fn env_true(k: &str) -> bool {
    std::env::var(k)
        .is_ok_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "true" | "1" | "yes"))
}

/// Retries of one request (object_store retries connection errors, 5xx and throttling with
/// exponential backoff); `PRESSWASH_S3_RETRIES` overrides the default of 10.
fn retry_config() -> RetryConfig {
    let max_retries = std::env::var("PRESSWASH_S3_RETRIES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(10);
    RetryConfig {
        max_retries,
        retry_timeout: Duration::from_secs(180),
        backoff: BackoffConfig::default(),
    }
}

/// The client for `bucket`, from the AWS environment (built once per bucket).
fn store(bucket: &str) -> Result<Arc<AmazonS3>, RunError> {
    let mut stores = STORES.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(s) = stores.get(bucket) {
        return Ok(s.clone());
    }
    for var in ["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT"] {
        if let Ok(ep) = std::env::var(var) {
            if ep.trim().starts_with("http://") && !env_true("AWS_ALLOW_HTTP") {
                return Err(ConfigError::invalid(
                    var,
                    format!("`{ep}` is plain HTTP: set AWS_ALLOW_HTTP=true to allow it"),
                )
                .into());
            }
        }
    }
    // TLS (https endpoints) through rustls with ring; a no-op when already installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let s3 = AmazonS3Builder::from_env()
        .with_bucket_name(bucket)
        .with_retry(retry_config())
        .build()
        .map_err(|e| {
            ConfigError::invalid(
                "s3",
                format!("cannot set up the S3 client for bucket `{bucket}`: {e}"),
            )
        })?;
    let s3 = Arc::new(s3);
    stores.insert(bucket.to_string(), s3.clone());
    Ok(s3)
}

/// `url: error`, the error shortened to its first lines (object_store chains are long).
fn describe(url: &str, e: &object_store::Error) -> String {
    let mut msg = e.to_string();
    let mut src = std::error::Error::source(e);
    // Bring the root cause (connection refused, access denied, ...) into the message.
    while let Some(s) = src {
        let t = s.to_string();
        if !msg.contains(&t) {
            msg.push_str(": ");
            msg.push_str(&t);
        }
        src = s.source();
    }
    format!("{url}: {}", shorten_xml(&msg))
}

/// S3 error bodies are XML documents: keep their `<Code>` and `<Message>` only.
fn shorten_xml(msg: &str) -> String {
    let Some(start) = msg.find("<?xml").or_else(|| msg.find("<Error>")) else {
        return msg.to_string();
    };
    let tag = |t: &str| {
        let open = format!("<{t}>");
        let i = msg[start..].find(&open)? + start + open.len();
        let j = msg[i..].find("</")? + i;
        Some(msg[i..j].to_string())
    };
    let end = msg
        .rfind("</Error>")
        .map(|i| i + "</Error>".len())
        .unwrap_or(msg.len());
    let summary = match (tag("Code"), tag("Message")) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        (Some(c), None) => c,
        _ => "error".to_string(),
    };
    format!("{}{summary}{}", &msg[..start], &msg[end..])
}

/// A request to a bucket that does not exist (object_store reports it as a generic error).
fn no_such_bucket(e: &object_store::Error) -> bool {
    let text = describe("", e);
    text.contains("NoSuchBucket") || text.contains("bucket does not exist")
}

fn remote_error(url: &str, e: object_store::Error) -> RunError {
    RunError::Other(format!("s3 error on {}", describe(url, &e)))
}

fn is_not_found(e: &object_store::Error) -> bool {
    matches!(e, object_store::Error::NotFound { .. })
}

// ---------------------------------------------------------------------------------------
// Inputs

/// One object found by [`list`].
#[derive(Debug, Clone)]
pub struct Listed {
    /// `s3://bucket/key`
    pub url: String,
    /// Key relative to the listed prefix (the last key segment for a single object).
    pub rel: String,
    pub size: u64,
    /// ETag: changes when the content does.
    pub etag: Option<String>,
}

/// Expand an `s3://` input into its objects, sorted like a folder walk (segment by segment,
/// bytewise), hidden objects (a key segment starting with `.`) skipped. A missing bucket,
/// object or empty prefix is [`RunError::MissingInput`].
pub fn list(root: &Path) -> Result<Vec<Listed>, RunError> {
    let u = S3Url::parse(root)?;
    let store = store(&u.bucket)?;
    let rt = runtime()?;
    rt.block_on(async {
        if !u.folder {
            match store.head(&u.path()).await {
                Ok(m) => {
                    let rel = u.key.rsplit('/').next().unwrap_or(&u.key).to_string();
                    return Ok(vec![Listed {
                        url: u.url(),
                        rel,
                        size: m.size,
                        etag: m.e_tag,
                    }]);
                }
                Err(e) if is_not_found(&e) => {}
                Err(e) => return Err(remote_error(&u.url(), e)),
            }
        }
        let prefix = (!u.key.is_empty()).then(|| u.path());
        let mut objects = store.list(prefix.as_ref());
        let mut out = Vec::new();
        while let Some(m) = objects.next().await {
            let m = match m {
                Ok(m) => m,
                Err(e) if is_not_found(&e) => {
                    return Err(RunError::MissingInput(root.to_path_buf()))
                }
                Err(e) if no_such_bucket(&e) => {
                    return Err(RunError::MissingInput(
                        format!("{} (no such bucket `{}`)", root.display(), u.bucket).into(),
                    ))
                }
                Err(e) => return Err(remote_error(&u.url(), e)),
            };
            let key = m.location.as_ref();
            let rel = match &prefix {
                Some(p) => key
                    .strip_prefix(p.as_ref())
                    .unwrap_or(key)
                    .trim_start_matches('/'),
                None => key,
            };
            if rel.is_empty() || rel.ends_with('/') || rel.split('/').any(|c| c.starts_with('.')) {
                continue;
            }
            out.push(Listed {
                url: format!("{SCHEME}{}/{key}", u.bucket),
                rel: rel.to_string(),
                size: m.size,
                etag: m.e_tag,
            });
        }
        if out.is_empty() {
            return Err(RunError::MissingInput(root.to_path_buf()));
        }
        // As walkdir sorts a folder: by path segments, so `a/b` comes before `a.txt`.
        out.sort_by(|a, b| a.rel.split('/').cmp(b.rel.split('/')));
        Ok(out)
    })
}

/// Bytes in flight between the download task and the reader: this many body chunks
/// (a few KiB to a few hundred KiB each).
const CHANNEL_CHUNKS: usize = 64;
/// Times a broken-off body is resumed (each resumption is itself retried by the client).
const RESUMES: usize = 5;

enum Piece {
    Data(Bytes),
    End,
}

/// A streaming reader of one object (see [`open`]).
pub struct RemoteReader {
    rx: tokio::sync::mpsc::Receiver<io::Result<Piece>>,
    cur: Bytes,
    done: bool,
    url: String,
    task: tokio::task::JoinHandle<()>,
}

/// Open `s3://bucket/key` for streaming reads. Errors (the object is gone, the network
/// failed after the client's retries) come from the reads and name the object.
pub fn open(p: &Path) -> io::Result<RemoteReader> {
    let u =
        S3Url::parse(p).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
    let store = store(&u.bucket).map_err(|e| io::Error::other(e.to_string()))?;
    open_in(store, &u)
}

fn open_in(store: Arc<dyn ObjectStore>, u: &S3Url) -> io::Result<RemoteReader> {
    let rt = runtime().map_err(|e| io::Error::other(e.to_string()))?;
    let (tx, rx) = tokio::sync::mpsc::channel(CHANNEL_CHUNKS);
    let url = u.url();
    let task = rt.spawn(download(store, u.path(), url.clone(), tx));
    Ok(RemoteReader {
        rx,
        cur: Bytes::new(),
        done: false,
        url,
        task,
    })
}

/// Stream one object into `tx`. A body that breaks off (a reset connection, the client's
/// 30 s request timeout on a slowly consumed body) is resumed with a ranged GET from where
/// it stopped; only resumptions that bring no new byte count against [`RESUMES`].
async fn download(
    store: Arc<dyn ObjectStore>,
    path: ObjPath,
    url: String,
    tx: tokio::sync::mpsc::Sender<io::Result<Piece>>,
) {
    let mut offset = 0u64;
    let mut etag: Option<String> = None;
    let mut size: Option<u64> = None;
    let mut resumes = 0usize;
    loop {
        let offset_before = offset;
        if size.is_some_and(|s| offset >= s) {
            let _ = tx.send(Ok(Piece::End)).await;
            return;
        }
        let mut opts = GetOptions::default();
        if offset > 0 {
            // Resume where the body broke off, from the same version of the object.
            opts.range = Some(GetRange::Offset(offset));
            opts.if_match = etag.clone();
        }
        let res = match store.get_opts(&path, opts).await {
            Ok(r) => r,
            Err(e) => {
                let kind = if is_not_found(&e) {
                    io::ErrorKind::NotFound
                } else {
                    io::ErrorKind::Other
                };
                let _ = tx.send(Err(io::Error::new(kind, describe(&url, &e)))).await;
                return;
            }
        };
        if etag.is_none() {
            etag = res.meta.e_tag.clone();
        }
        size = Some(res.meta.size);
        let mut body = res.into_stream();
        let mut broken = None;
        while let Some(chunk) = body.next().await {
            match chunk {
                Ok(b) => {
                    offset += b.len() as u64;
                    if tx.send(Ok(Piece::Data(b))).await.is_err() {
                        return; // the reader is gone
                    }
                }
                Err(e) => {
                    broken = Some(e);
                    break;
                }
            }
        }
        let complete = broken.is_none() && size.is_none_or(|s| offset >= s);
        if complete {
            let _ = tx.send(Ok(Piece::End)).await;
            return;
        }
        if offset > offset_before {
            resumes = 0;
            continue;
        }
        if resumes < RESUMES {
            resumes += 1;
            tokio::time::sleep(Duration::from_millis(100 << resumes)).await;
            continue;
        }
        let why = match broken {
            Some(e) => describe(&url, &e),
            None => format!("{url}: the body ended early"),
        };
        let msg = format!(
            "{why} (after {offset} of {} bytes, {resumes} resumptions)",
            size.unwrap_or(0)
        );
        let _ = tx.send(Err(io::Error::other(msg))).await;
        return;
    }
}

impl Read for RemoteReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.cur.is_empty() {
            if self.done {
                return Ok(0);
            }
            match self.rx.blocking_recv() {
                Some(Ok(Piece::Data(b))) => self.cur = b,
                Some(Ok(Piece::End)) => self.done = true,
                Some(Err(e)) => {
                    note_failure(e.to_string());
                    return Err(e);
                }
                None => {
                    // The task ended without saying so (it cannot, short of a panic).
                    let msg = format!("{}: download stopped unexpectedly", self.url);
                    note_failure(msg.clone());
                    return Err(io::Error::other(msg));
                }
            }
        }
        let n = buf.len().min(self.cur.len());
        buf[..n].copy_from_slice(&self.cur[..n]);
        self.cur.advance(n);
        Ok(n)
    }
}

impl Drop for RemoteReader {
    fn drop(&mut self) {
        self.task.abort();
    }
}

static FAILURE: Mutex<Option<String>> = Mutex::new(None);

fn note_failure(msg: String) {
    let mut f = FAILURE.lock().unwrap_or_else(|p| p.into_inner());
    if f.is_none() {
        *f = Some(msg);
    }
}

/// Has reading an object failed in this process (since the last [`take_failure`])?
pub fn failed() -> bool {
    FAILURE.lock().unwrap_or_else(|p| p.into_inner()).is_some()
}

/// The first failed object read, as an error that stops the run before publishing.
pub fn take_failure() -> Result<(), RunError> {
    match FAILURE.lock().unwrap_or_else(|p| p.into_inner()).take() {
        Some(msg) => Err(RunError::Other(format!(
            "s3 read failed: {msg}; nothing was published"
        ))),
        None => Ok(()),
    }
}

// ---------------------------------------------------------------------------------------
// Outputs

/// Files up to this size are uploaded with one PUT, larger ones as multipart uploads of
/// parts this size (16 MiB; `PRESSWASH_S3_PART_BYTES` overrides it, at least 5 MiB as S3
/// requires).
pub fn part_bytes() -> usize {
    std::env::var("PRESSWASH_S3_PART_BYTES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(16 << 20usize)
        .max(5 << 20)
}

/// Parts of one file uploaded at the same time.
const PARTS_IN_FLIGHT: usize = 4;

/// An `s3://` output: the local staging folder the run writes into, and where it goes.
pub struct RemoteOutput {
    url: S3Url,
    staging: tempfile::TempDir,
}

impl RemoteOutput {
    /// Check that the bucket can be listed (before any work is done) and make the staging
    /// folder (under `$TMPDIR`).
    pub fn prepare(dir: &Path) -> Result<RemoteOutput, RunError> {
        let mut url = S3Url::parse(dir)?;
        url.folder = true;
        let store = store(&url.bucket)?;
        let rt = runtime()?;
        let prefix = (!url.key.is_empty()).then(|| url.path());
        match rt.block_on(store.list_with_delimiter(prefix.as_ref())) {
            Ok(_) => {}
            Err(e) if is_not_found(&e) || no_such_bucket(&e) => {
                return Err(ConfigError::invalid(
                    "output",
                    format!("{}: no such bucket `{}`", url.url(), url.bucket),
                )
                .into())
            }
            Err(e) => return Err(remote_error(&url.url(), e)),
        }
        let staging = tempfile::Builder::new()
            .prefix("presswash-staging-")
            .tempdir()
            .map_err(|e| RunError::io(std::env::temp_dir(), e))?;
        Ok(RemoteOutput { url, staging })
    }

    /// Where the run writes its files.
    pub fn staging(&self) -> &Path {
        self.staging.path()
    }

    /// The output URL.
    pub fn url(&self) -> String {
        self.url.url()
    }

    /// Upload the finished run: the old `report` object is deleted first, then the `data`
    /// files are uploaded, and `report` comes last. Any failure is fatal and names the
    /// object; the prefix is then left without a report, so it never looks complete.
    pub fn publish(&self, data: &[&str], report: &str) -> Result<(), RunError> {
        let store = store(&self.url.bucket)?;
        runtime()?.block_on(publish_to(
            store.as_ref(),
            self.staging.path(),
            &self.url,
            data,
            report,
        ))
    }
}

/// [`RemoteOutput::publish`] of the files in `staging` to `url` on `store`.
async fn publish_to(
    store: &dyn ObjectStore,
    staging: &Path,
    url: &S3Url,
    data: &[&str],
    report: &str,
) -> Result<(), RunError> {
    let old = url.child(report);
    match store.delete(&old.path()).await {
        Ok(()) => {}
        Err(e) if is_not_found(&e) => {}
        Err(e) => return Err(remote_error(&old.url(), e)),
    }
    for name in data.iter().chain([&report]) {
        upload(store, &staging.join(name), &url.child(name)).await?;
    }
    Ok(())
}

/// Upload one local file to `dest`: one PUT up to [`part_bytes`], multipart above.
pub async fn upload(store: &dyn ObjectStore, local: &Path, dest: &S3Url) -> Result<(), RunError> {
    let url = dest.url();
    let path = dest.path();
    let mut f = std::fs::File::open(local).map_err(|e| RunError::io(local, e))?;
    let size = f.metadata().map_err(|e| RunError::io(local, e))?.len();
    let part = part_bytes();
    if size <= part as u64 {
        let mut buf = Vec::with_capacity(size as usize);
        f.read_to_end(&mut buf)
            .map_err(|e| RunError::io(local, e))?;
        store
            .put(&path, PutPayload::from(buf))
            .await
            .map_err(|e| upload_error(&url, e))?;
        return Ok(());
    }
    let upload = store
        .put_multipart(&path)
        .await
        .map_err(|e| upload_error(&url, e))?;
    let mut w = WriteMultipart::new_with_chunk_size(upload, part);
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let _ = w.abort().await;
                return Err(RunError::io(local, e));
            }
        };
        if let Err(e) = w.wait_for_capacity(PARTS_IN_FLIGHT).await {
            let _ = w.abort().await;
            return Err(upload_error(&url, e));
        }
        w.write(&buf[..n]);
    }
    w.finish().await.map_err(|e| upload_error(&url, e))?;
    Ok(())
}

fn upload_error(url: &str, e: object_store::Error) -> RunError {
    RunError::Other(format!("upload failed: {}", describe(url, &e)))
}

// ---------------------------------------------------------------------------------------
// Small helpers for tests and tools

/// Upload `bytes` to `s3://bucket/key`.
pub fn put(url: &Path, bytes: Vec<u8>) -> Result<(), RunError> {
    let u = S3Url::parse(url)?;
    let store = store(&u.bucket)?;
    runtime()?
        .block_on(store.put(&u.path(), PutPayload::from(bytes)))
        .map_err(|e| upload_error(&u.url(), e))?;
    Ok(())
}

/// Download `s3://bucket/key` whole (`None` if there is no such object).
pub fn get(url: &Path) -> Result<Option<Vec<u8>>, RunError> {
    let u = S3Url::parse(url)?;
    let store = store(&u.bucket)?;
    runtime()?.block_on(async {
        match store.get(&u.path()).await {
            Ok(r) => r
                .bytes()
                .await
                .map(|b| Some(b.to_vec()))
                .map_err(|e| remote_error(&u.url(), e)),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(remote_error(&u.url(), e)),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls() {
        let u = S3Url::parse(Path::new("s3://b/dump/2024/")).unwrap();
        assert_eq!(
            (u.bucket.as_str(), u.key.as_str(), u.folder),
            ("b", "dump/2024", true)
        );
        assert_eq!(u.url(), "s3://b/dump/2024");
        let u = S3Url::parse(Path::new("s3://b//a.jsonl")).unwrap();
        assert_eq!((u.key.as_str(), u.folder), ("a.jsonl", false));
        let u = S3Url::parse(Path::new("s3://b")).unwrap();
        assert_eq!(
            (u.key.as_str(), u.folder, u.url().as_str()),
            ("", true, "s3://b")
        );
        assert_eq!(u.child("report.json").url(), "s3://b/report.json");
        assert!(S3Url::parse(Path::new("s3:///x")).is_err());
        assert!(is_remote(Path::new("s3://b/x")) && !is_remote(Path::new("s3/x")));
    }

    /// An in-memory store that refuses to store objects whose key ends with `fail`, and
    /// records the order of the objects stored.
    #[derive(Debug)]
    struct Flaky {
        inner: object_store::memory::InMemory,
        fail: &'static str,
        order: Mutex<Vec<String>>,
        /// GET bodies break off after this many bytes (0: never).
        break_after: usize,
    }

    impl std::fmt::Display for Flaky {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "Flaky")
        }
    }

    impl Flaky {
        fn check(&self, location: &ObjPath) -> object_store::Result<()> {
            self.order.lock().unwrap().push(location.to_string());
            if location.as_ref().ends_with(self.fail) {
                return Err(object_store::Error::Generic {
                    store: "Flaky",
                    source: "connection reset by peer".into(),
                });
            }
            Ok(())
        }
    }

    #[async_trait::async_trait]
    impl ObjectStore for Flaky {
        async fn put_opts(
            &self,
            location: &ObjPath,
            payload: PutPayload,
            opts: object_store::PutOptions,
        ) -> object_store::Result<object_store::PutResult> {
            self.check(location)?;
            self.inner.put_opts(location, payload, opts).await
        }
        async fn put_multipart_opts(
            &self,
            location: &ObjPath,
            opts: object_store::PutMultipartOptions,
        ) -> object_store::Result<Box<dyn object_store::MultipartUpload>> {
            self.check(location)?;
            self.inner.put_multipart_opts(location, opts).await
        }
        async fn get_opts(
            &self,
            location: &ObjPath,
            options: GetOptions,
        ) -> object_store::Result<object_store::GetResult> {
            let mut res = self.inner.get_opts(location, options).await?;
            if self.break_after > 0 {
                let body = res.bytes().await?;
                let cut = body.slice(..body.len().min(self.break_after));
                let meta = self.inner.head(location).await?;
                let range = 0..cut.len() as u64;
                let stream = futures_util::stream::iter(vec![
                    Ok(cut),
                    Err(object_store::Error::Generic {
                        store: "Flaky",
                        source: "connection reset by peer".into(),
                    }),
                ]);
                res = object_store::GetResult {
                    payload: object_store::GetResultPayload::Stream(Box::pin(stream)),
                    meta,
                    range,
                    attributes: Default::default(),
                    extensions: Default::default(),
                };
            }
            Ok(res)
        }
        fn delete_stream(
            &self,
            locations: futures_util::stream::BoxStream<'static, object_store::Result<ObjPath>>,
        ) -> futures_util::stream::BoxStream<'static, object_store::Result<ObjPath>> {
            self.inner.delete_stream(locations)
        }
        fn list(
            &self,
            prefix: Option<&ObjPath>,
        ) -> futures_util::stream::BoxStream<'static, object_store::Result<object_store::ObjectMeta>>
        {
            self.inner.list(prefix)
        }
        async fn list_with_delimiter(
            &self,
            prefix: Option<&ObjPath>,
        ) -> object_store::Result<object_store::ListResult> {
            self.inner.list_with_delimiter(prefix).await
        }
        async fn copy_opts(
            &self,
            from: &ObjPath,
            to: &ObjPath,
            options: object_store::CopyOptions,
        ) -> object_store::Result<()> {
            self.inner.copy_opts(from, to, options).await
        }
    }

    fn content(store: &Flaky, key: &str) -> Option<Vec<u8>> {
        runtime().unwrap().block_on(async {
            match store.get(&ObjPath::from(key)).await {
                Ok(r) => Some(r.bytes().await.unwrap().to_vec()),
                Err(_) => None,
            }
        })
    }

    #[test]
    fn publish_uploads_report_last_and_a_failure_leaves_no_report() {
        let staging = tempfile::tempdir().unwrap();
        // Larger than a part: goes up as a multipart upload.
        let big: Vec<u8> = (0..(part_bytes() + 12345))
            .map(|i| (i % 251) as u8)
            .collect();
        std::fs::write(staging.path().join("clean.jsonl"), &big).unwrap();
        std::fs::write(staging.path().join("duplicates.jsonl"), b"{}\n").unwrap();
        std::fs::write(staging.path().join("report.json"), b"{\"complete\": true}").unwrap();
        let url = S3Url::parse(Path::new("s3://b/runs/1")).unwrap();
        let data = ["clean.jsonl", "duplicates.jsonl"];
        for fail in ["duplicates.jsonl", "nothing"] {
            let store = Flaky {
                inner: Default::default(),
                fail,
                order: Mutex::new(Vec::new()),
                break_after: 0,
            };
            runtime()
                .unwrap()
                .block_on(store.put(
                    &ObjPath::from("runs/1/report.json"),
                    PutPayload::from(b"old".to_vec()),
                ))
                .unwrap();
            store.order.lock().unwrap().clear();
            let res = runtime().unwrap().block_on(publish_to(
                &store,
                staging.path(),
                &url,
                &data,
                "report.json",
            ));
            if fail == "nothing" {
                res.unwrap();
                assert_eq!(
                    *store.order.lock().unwrap(),
                    [
                        "runs/1/clean.jsonl",
                        "runs/1/duplicates.jsonl",
                        "runs/1/report.json"
                    ]
                );
                assert_eq!(
                    content(&store, "runs/1/report.json").as_deref(),
                    Some(&b"{\"complete\": true}"[..])
                );
                assert!(content(&store, "runs/1/clean.jsonl").unwrap() == big);
            } else {
                let err = res.unwrap_err().to_string();
                assert!(
                    err.contains("s3://b/runs/1/duplicates.jsonl")
                        && err.contains("connection reset"),
                    "{err}"
                );
                // The old report is gone and the new one was never uploaded.
                assert_eq!(content(&store, "runs/1/report.json"), None);
            }
        }
    }

    #[test]
    fn a_broken_off_body_is_resumed_where_it_stopped() {
        let data: Vec<u8> = (0..100_000u32).flat_map(|i| i.to_le_bytes()).collect();
        let store = Arc::new(Flaky {
            inner: Default::default(),
            fail: "-",
            order: Mutex::new(Vec::new()),
            break_after: 7_777,
        });
        runtime()
            .unwrap()
            .block_on(
                store
                    .inner
                    .put(&ObjPath::from("k"), PutPayload::from(data.clone())),
            )
            .unwrap();
        let url = S3Url::parse(Path::new("s3://b/k")).unwrap();
        let mut got = Vec::new();
        open_in(store, &url).unwrap().read_to_end(&mut got).unwrap();
        assert!(got == data, "{} of {} bytes", got.len(), data.len());
    }

    #[test]
    fn s3_error_bodies_are_shortened() {
        let msg = "list: 404 Not Found: <?xml version=\"1.0\"?>\n<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message><RequestId>x</RequestId></Error> (tail)";
        assert_eq!(
            shorten_xml(msg),
            "list: 404 Not Found: NoSuchBucket: The specified bucket does not exist (tail)"
        );
        assert_eq!(shorten_xml("connection refused"), "connection refused");
    }
}
