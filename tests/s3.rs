//! `s3://` inputs and outputs against a local S3-compatible server: moto (`moto_server`,
//! PyPI package `moto[server]`), started on a free localhost port by each test and killed
//! when the test ends. `.ci/run` installs moto into a venv and sets `PRESSWASH_MOTO` to its
//! `moto_server`; then the tests must run (a broken server fails them). Without the
//! variable, `moto_server` is looked up on PATH, and without one the tests say "skipped".

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;
use object_store::ObjectStoreExt;
use serde_json::Value;

/// A running moto server, killed on drop.
struct Moto {
    child: Child,
    port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn moto_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PRESSWASH_MOTO").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        assert!(p.is_file(), "PRESSWASH_MOTO={} is not a file", p.display());
        return Some(p);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("moto_server"))
        .find(|p| p.is_file())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Start moto, or `None` (with a "skipped" line) when it is not installed and not required.
fn start_moto(test: &str) -> Option<Moto> {
    let Some(bin) = moto_binary() else {
        eprintln!("{test}: skipped: moto_server not found (set PRESSWASH_MOTO or put moto_server on PATH; .ci/run installs it)");
        return None;
    };
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("moto.log");
    let port = free_port();
    let child = Command::new(&bin)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(std::fs::File::create(dir.path().join("moto.err")).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
    let mut moto = Moto {
        child,
        port,
        log,
        _dir: dir,
    };
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Ok(Some(status)) = moto.child.try_wait() {
            let err =
                std::fs::read_to_string(moto._dir.path().join("moto.err")).unwrap_or_default();
            panic!("moto_server exited with {status} before serving:\n{err}");
        }
        if TcpStream::connect(("127.0.0.1", port)).is_ok() && http(port, "GET", "/", b"").0 == 200 {
            return Some(moto);
        }
        assert!(
            Instant::now() < deadline,
            "moto_server did not answer on port {port} within 90 s"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// One plain HTTP/1.1 request to moto (it does not check signatures): `(status, body)`.
fn http(port: u16, method: &str, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return (0, Vec::new());
    };
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    if s.write_all(head.as_bytes())
        .and_then(|_| s.write_all(body))
        .is_err()
    {
        return (0, Vec::new());
    }
    let mut resp = Vec::new();
    let _ = s.read_to_end(&mut resp);
    let Some(split) = resp.windows(4).position(|w| w == b"\r\n\r\n") else {
        return (0, Vec::new());
    };
    let head = String::from_utf8_lossy(&resp[..split]).to_ascii_lowercase();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut body = resp[split + 4..].to_vec();
    if head.contains("transfer-encoding: chunked") {
        let mut out = Vec::new();
        let mut rest = &body[..];
        while let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") {
            let n = usize::from_str_radix(String::from_utf8_lossy(&rest[..eol]).trim(), 16)
                .unwrap_or(0);
            if n == 0 {
                break;
            }
            out.extend_from_slice(&rest[eol + 2..eol + 2 + n]);
            rest = &rest[eol + 2 + n + 2..];
        }
        body = out;
    }
    (status, body)
}

impl Moto {
    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
    fn create_bucket(&self, bucket: &str) {
        let (status, body) = http(self.port, "PUT", &format!("/{bucket}"), b"");
        assert_eq!(
            status,
            200,
            "create bucket {bucket}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    /// A signed client of this server (moto keeps objects private to signed requests).
    fn client(&self, bucket: &str) -> object_store::aws::AmazonS3 {
        // presswash builds reqwest without a default TLS provider: install ring's (a no-op if done).
        let _ = rustls::crypto::ring::default_provider().install_default();
        object_store::aws::AmazonS3Builder::new()
            .with_endpoint(self.endpoint())
            .with_allow_http(true)
            .with_region("us-east-1")
            .with_access_key_id("testing")
            .with_secret_access_key("testing")
            .with_bucket_name(bucket)
            .build()
            .unwrap()
    }
    fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    }
    fn put(&self, bucket: &str, key: &str, bytes: &[u8]) {
        let store = self.client(bucket);
        Self::block_on(store.put(&key.into(), bytes.to_vec().into()))
            .unwrap_or_else(|e| panic!("put {bucket}/{key}: {e}"));
    }
    /// The object's bytes, `None` if it does not exist.
    fn get(&self, bucket: &str, key: &str) -> Option<Vec<u8>> {
        let store = self.client(bucket);
        Self::block_on(async {
            match store.get(&key.into()).await {
                Ok(r) => Some(r.bytes().await.unwrap().to_vec()),
                Err(object_store::Error::NotFound { .. }) => None,
                Err(e) => panic!("get {bucket}/{key}: {e}"),
            }
        })
    }

    /// `presswash ARGS` in `cwd` with the AWS environment pointing at this server.
    fn presswash(&self, cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_presswash"));
        cmd.current_dir(cwd).args(args);
        for (k, _) in std::env::vars() {
            if k.starts_with("AWS_") {
                cmd.env_remove(k);
            }
        }
        cmd.env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ENDPOINT_URL", self.endpoint())
            .env("AWS_ALLOW_HTTP", "true");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("run presswash");
        if !out.status.success() {
            eprintln!("presswash {args:?}: {}\n{}", out.status, stderr(&out));
            eprintln!("moto log tail:\n{}", tail(&self.log, 20));
        }
        out
    }
}

fn tail(p: &Path, n: usize) -> String {
    let s = std::fs::read_to_string(p).unwrap_or_default();
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

const STORY: &str = "The city council approved the new budget on Tuesday after a long debate.\n\nMayor Jane Doe said the plan would fund schools, parks and road repairs over the next three years.";

/// `n` distinct stories of about `words` words (a fixed pseudo-random stream of real words,
/// so near-duplicate detection keeps them apart).
fn stories(n: usize, words: usize, seed: u64) -> Vec<String> {
    const WORDS: &[&str] = &[
        "council",
        "budget",
        "minister",
        "river",
        "harbour",
        "election",
        "school",
        "hospital",
        "storm",
        "market",
        "farmers",
        "police",
        "court",
        "museum",
        "bridge",
        "railway",
        "festival",
        "workers",
        "union",
        "village",
        "approved",
        "rejected",
        "announced",
        "delayed",
        "opened",
        "closed",
        "reported",
        "warned",
        "said",
        "agreed",
        "yesterday",
        "today",
        "north",
        "south",
        "coastal",
        "rural",
        "local",
        "national",
        "new",
        "old",
        "plan",
        "tax",
        "water",
        "energy",
        "prices",
        "homes",
        "roads",
        "trains",
        "fishing",
        "weather",
    ];
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 33) as usize
    };
    (0..n)
        .map(|_| {
            let mut s = String::new();
            for w in 0..words {
                if w > 0 {
                    s.push_str(if w % 60 == 0 {
                        ".\n\n"
                    } else if w % 12 == 0 {
                        ". "
                    } else {
                        " "
                    });
                }
                let word = WORDS[next() % WORDS.len()];
                if w % 12 == 0 {
                    let mut c = word.chars();
                    s.extend(c.next().map(|f| f.to_ascii_uppercase()));
                    s.push_str(c.as_str());
                } else {
                    s.push_str(word);
                }
            }
            s.push('.');
            s
        })
        .collect()
}

/// The test dump: `(relative path, bytes)`, the same locally and under `s3://inputs/dump/`.
fn dump() -> Vec<(String, Vec<u8>)> {
    let mut a = String::new();
    for (i, t) in stories(40, 120, 1).iter().enumerate() {
        a += &(serde_json::json!({"id": format!("a{i}"), "text": t, "lang": "en"}).to_string()
            + "\n");
    }
    // A duplicate of a0 and a record without text (a reject).
    a += &(serde_json::json!({"id": "a0-again", "text": stories(1, 120, 1)[0]}).to_string() + "\n");
    a += "{\"id\":\"no-text\"}\n";
    let mut b = String::new();
    for (i, t) in stories(30, 200, 2).iter().enumerate() {
        b += &(serde_json::json!({"id": format!("b{i}"), "text": t, "title": format!("Story {i}")})
            .to_string() + "\n");
    }
    let mut sniffed = String::new();
    for (i, t) in stories(5, 80, 3).iter().enumerate() {
        sniffed += &(serde_json::json!({"id": format!("s{i}"), "text": t}).to_string() + "\n");
    }
    // Big enough for several input blocks (block_bytes = 1 MiB below) and for a multipart
    // upload of clean.jsonl (parts of 5 MiB).
    let mut big = String::new();
    for (i, t) in stories(2400, 450, 4).iter().enumerate() {
        big += &(serde_json::json!({"id": format!("big{i}"), "text": t, "source": "wire"})
            .to_string()
            + "\n");
    }
    let paragraphs: Vec<String> = stories(6, 40, 5)
        .iter()
        .map(|p| format!("<p>{p}</p>"))
        .collect();
    let html = format!("<html><head><title>Budget</title></head><body><nav>Home | News</nav><article><h1>Budget passes</h1>{}</article></body></html>", paragraphs.join("\n"));
    vec![
        ("a.jsonl".into(), a.into_bytes()),
        ("big.jsonl".into(), big.into_bytes()),
        ("news/2024/b.jsonl.gz".into(), gzip(b.as_bytes())),
        ("news/c.txt".into(), STORY.as_bytes().to_vec()),
        ("news/page.html".into(), html.into_bytes()),
        ("news/feed-dump".into(), sniffed.into_bytes()),
        ("news/.hidden.txt".into(), b"editor droppings".to_vec()),
        (
            "news.txt".into(),
            "A story filed next to the news folder.\n\nIt sorts after news/ like a folder walk."
                .as_bytes()
                .to_vec(),
        ),
    ]
}

const CONFIG: &str = "[pipeline]\nblock_bytes = 1048576\n";
const OUTPUTS: &[&str] = &[
    "clean.jsonl",
    "clean.csv",
    "duplicates.jsonl",
    "rejects.jsonl",
];
const PART: &str = "5242880";

fn report_of(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).expect("report.json is JSON")
}

#[test]
fn s3_inputs_and_outputs_match_a_local_run() {
    let Some(moto) = start_moto("s3_inputs_and_outputs_match_a_local_run") else {
        return;
    };
    let s = Scratch::new();
    s.write("cfg.toml", CONFIG);
    moto.create_bucket("inputs");
    moto.create_bucket("outputs");
    for (rel, bytes) in dump() {
        s.write(&format!("dump/{rel}"), &bytes);
        moto.put("inputs", &format!("dump/{rel}"), &bytes);
    }
    let cwd = s.dir.path();

    let local = presswash(
        cwd,
        &["run", "-c", "cfg.toml", "-i", "dump", "-o", "local", "-q"],
    );
    assert!(local.status.success(), "{}", stderr(&local));
    let remote = moto.presswash(
        cwd,
        &[
            "run",
            "-c",
            "cfg.toml",
            "-i",
            "s3://inputs/dump",
            "-o",
            "s3://outputs/runs/one",
            "-q",
        ],
        &[("PRESSWASH_S3_PART_BYTES", PART)],
    );
    assert!(remote.status.success(), "{}", stderr(&remote));

    for name in OUTPUTS {
        let want = std::fs::read(s.path(&format!("local/{name}"))).unwrap();
        let got = moto
            .get("outputs", &format!("runs/one/{name}"))
            .unwrap_or_else(|| panic!("s3://outputs/runs/one/{name} missing"));
        assert!(
            got == want,
            "{name}: the s3 run differs from the local run ({} vs {} bytes)",
            got.len(),
            want.len()
        );
    }
    let clean = std::fs::read(s.path("local/clean.jsonl")).unwrap();
    assert!(
        clean.len() > 5242880,
        "clean.jsonl ({} bytes) is too small to need a multipart upload",
        clean.len()
    );
    let local_report = report_of(&std::fs::read(s.path("local/report.json")).unwrap());
    let report = report_of(
        &moto
            .get("outputs", "runs/one/report.json")
            .expect("report.json uploaded"),
    );
    assert_eq!(report["complete"], Value::Bool(true));
    assert_eq!(report["accounting_ok"], Value::Bool(true));
    assert_eq!(report["documents"], local_report["documents"]);
    assert_eq!(report["input_files"], local_report["input_files"]);
    let d = &report["documents"];
    assert!(
        d["duplicates"].as_u64().unwrap() >= 1 && d["rejected"].as_u64().unwrap() >= 1,
        "{d}"
    );
    // Every input object, in folder-walk order, named by its key under the prefix.
    let lines: Vec<Value> = clean
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    let rejects = std::fs::read_to_string(s.path("local/rejects.jsonl")).unwrap();
    let rejected: Vec<Value> = rejects
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let inputs: Vec<&str> = lines
        .iter()
        .map(|o| o["input"].as_str().unwrap())
        .chain(rejected.iter().map(|o| o["source"].as_str().unwrap()))
        .collect();
    for want in [
        "a.jsonl:1",
        "big.jsonl:2400",
        "news/2024/b.jsonl.gz:1",
        "news/c.txt",
        "news/page.html",
        "news/feed-dump:1",
        "news.txt",
    ] {
        assert!(inputs.contains(&want), "no document from {want}");
    }
    assert!(
        !inputs.iter().any(|i| i.contains(".hidden")),
        "hidden object read"
    );
    let pos = |p: &str| inputs.iter().position(|i| i.starts_with(p)).unwrap();
    assert!(
        pos("news/c.txt") < pos("news.txt"),
        "objects not in folder-walk order"
    );

    // One object named on its own; `input` names it like a file.
    let local = presswash(
        cwd,
        &[
            "run",
            "-i",
            "dump/news/2024/b.jsonl.gz",
            "-o",
            "local-one",
            "-q",
        ],
    );
    assert!(local.status.success(), "{}", stderr(&local));
    let remote = moto.presswash(
        cwd,
        &[
            "run",
            "-i",
            "s3://inputs/dump/news/2024/b.jsonl.gz",
            "-o",
            "s3://outputs/one-object/",
            "-q",
        ],
        &[],
    );
    assert!(remote.status.success(), "{}", stderr(&remote));
    assert!(
        moto.get("outputs", "one-object/clean.jsonl").unwrap()
            == std::fs::read(s.path("local-one/clean.jsonl")).unwrap()
    );

    // s3 URLs in pipeline.toml (not joined to the config's folder); s3 input, local output.
    s.write("conf/s3.toml", "[input]\npaths = [\"s3://inputs/dump/news\"]\n[output]\ndir = \"s3://outputs/from-config\"\n");
    let remote = moto.presswash(cwd, &["run", "-c", "conf/s3.toml", "-q"], &[]);
    assert!(remote.status.success(), "{}", stderr(&remote));
    let report = report_of(
        &moto
            .get("outputs", "from-config/report.json")
            .expect("report.json from the config's output.dir"),
    );
    assert_eq!(report["complete"], Value::Bool(true));
    assert_eq!(report["input_files"], Value::from(4));
    let local_out = moto.presswash(
        cwd,
        &[
            "run",
            "-i",
            "s3://inputs/dump/news",
            "-o",
            "news-local",
            "-q",
        ],
        &[],
    );
    assert!(local_out.status.success(), "{}", stderr(&local_out));
    assert!(
        moto.get("outputs", "from-config/clean.jsonl").unwrap()
            == std::fs::read(s.path("news-local/clean.jsonl")).unwrap()
    );

    // Rerunning into the same prefix replaces the run; nothing is left in the staging area.
    let again = moto.presswash(
        cwd,
        &["run", "-c", "conf/s3.toml", "-q", "--stages", "repair"],
        &[],
    );
    assert!(again.status.success(), "{}", stderr(&again));
    let report = report_of(&moto.get("outputs", "from-config/report.json").unwrap());
    assert_eq!(
        report["stages_run"].as_array().map(|a| a.len()),
        Some(1),
        "{report}"
    );

    // --state keeps s3 objects by ETag: a second run reads nothing new.
    let first = moto.presswash(
        cwd,
        &[
            "run",
            "-i",
            "s3://inputs/dump/news",
            "-o",
            "s3://outputs/cron/1",
            "--state",
            "state",
            "-q",
            "--summary-line",
        ],
        &[],
    );
    assert!(first.status.success(), "{}", stderr(&first));
    let second = moto.presswash(
        cwd,
        &[
            "run",
            "-i",
            "s3://inputs/dump/news",
            "-o",
            "s3://outputs/cron/2",
            "--state",
            "state",
            "-q",
            "--summary-line",
        ],
        &[],
    );
    assert!(second.status.success(), "{}", stderr(&second));
    let line = String::from_utf8_lossy(&second.stdout);
    assert!(line.contains("0 new files (4 already seen)"), "{line}");
    moto.put(
        "inputs",
        "dump/news/c.txt",
        b"An updated story replaces the old one.\n\nIt has new words in it.",
    );
    let third = moto.presswash(
        cwd,
        &[
            "run",
            "-i",
            "s3://inputs/dump/news",
            "-o",
            "s3://outputs/cron/3",
            "--state",
            "state",
            "-q",
            "--summary-line",
        ],
        &[],
    );
    assert!(third.status.success(), "{}", stderr(&third));
    let line = String::from_utf8_lossy(&third.stdout);
    assert!(line.contains("1 new files (3 already seen)"), "{line}");
}

#[test]
fn s3_errors_are_clear() {
    let Some(moto) = start_moto("s3_errors_are_clear") else {
        return;
    };
    let s = Scratch::new();
    let cwd = s.dir.path();
    moto.create_bucket("inputs");
    moto.put("inputs", "dump/a.txt", STORY.as_bytes());
    let code = |o: &Output| o.status.code().unwrap_or(-1);

    // Missing bucket, prefix or object: exit 2 naming the URL, like a missing local input.
    for url in [
        "s3://no-such-bucket/dump",
        "s3://inputs/nothing-here",
        "s3://inputs/dump/missing.jsonl",
    ] {
        let o = moto.presswash(cwd, &["run", "-i", url, "-o", "outputs", "-q"], &[]);
        assert_eq!(code(&o), 2, "{url}: {}", stderr(&o));
        assert!(stderr(&o).contains(url), "{url}: {}", stderr(&o));
    }
    // A missing output bucket is found before any work.
    let o = moto.presswash(
        cwd,
        &[
            "run",
            "-i",
            "s3://inputs/dump",
            "-o",
            "s3://no-such-bucket/out",
            "-q",
        ],
        &[],
    );
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("no-such-bucket"), "{}", stderr(&o));
    // Unsupported combinations say what to do.
    let o = moto.presswash(
        cwd,
        &[
            "run",
            "-i",
            "s3://inputs/dump",
            "-o",
            "outputs",
            "--state",
            "s3://inputs/state",
            "-q",
        ],
        &[],
    );
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--state needs a local folder") || stderr(&o).contains("--state"),
        "{}",
        stderr(&o)
    );
    for step in [
        &["run", "--shard", "0/2"][..],
        &["merge", "--shards", "2"][..],
    ] {
        let mut args = step.to_vec();
        args.extend(["-i", "s3://inputs/dump", "-o", "s3://inputs/out", "-q"]);
        let o = moto.presswash(cwd, &args, &[]);
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("local output folder"), "{}", stderr(&o));
    }
    // Plain HTTP needs AWS_ALLOW_HTTP.
    let o = moto.presswash(
        cwd,
        &["run", "-i", "s3://inputs/dump", "-o", "outputs", "-q"],
        &[("AWS_ALLOW_HTTP", "false")],
    );
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("AWS_ALLOW_HTTP"), "{}", stderr(&o));
    // An unreachable endpoint is an I/O error (exit 1) naming the URL.
    let dead = format!("http://127.0.0.1:{}", free_port());
    let o = moto.presswash(
        cwd,
        &["run", "-i", "s3://inputs/dump", "-o", "outputs", "-q"],
        &[("AWS_ENDPOINT_URL", &dead), ("PRESSWASH_S3_RETRIES", "0")],
    );
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("s3://inputs/dump"), "{}", stderr(&o));
    assert!(!s.path("outputs/report.json").exists());
}
