//! Sharded runs: N shards + dedup step + merge give the single run's corpus byte for byte;
//! a killed shard is redone on rerun while finished shards are skipped; the shard can come
//! from the Slurm or Kubernetes environment.

#[path = "common/barrier.rs"]
mod barrier;
mod common;

use std::path::Path;

use barrier::{story, ExactDedup};
use common::{presswash, stderr, Scratch};
use presswash::config::{Overrides, Plan, RawConfig};
use presswash::shard::{self, Outcome, ShardSpec};

const OUTPUTS: [&str; 5] = [
    "clean.jsonl",
    "clean.csv",
    "duplicates.jsonl",
    "rejects.jsonl",
    "removed.jsonl",
];

/// A dump with every kind of input: large JSONL files cut into line ranges (with bad lines,
/// blank lines and copies of earlier stories across files), small text files grouped into
/// blocks, a gzip file and an unsupported file.
fn fixture(s: &Scratch) {
    for f in 0..3u64 {
        let mut out = String::new();
        for i in 0..300u64 {
            match i % 41 {
                5 => out.push_str("{\"id\": broken\n"),
                9 => out.push('\n'),
                13 => out.push_str(&format!("{{\"id\":\"copy-{f}-{i}\",\"text\":{}}}\n", serde_json::json!(story(i / 2)))),
                _ => out.push_str(&format!(
                    "{{\"id\":\"d{f}-{i}\",\"title\":\"T{i}\",\"text\":{},\"source\":\"site{}\"}}\n",
                    serde_json::json!(story(f * 1000 + i)),
                    i % 7
                )),
            }
        }
        s.write(&format!("in/a/dump-{f}.jsonl"), out);
    }
    for i in 0..40u64 {
        s.write(
            &format!("in/b/{i:03}.txt"),
            format!(
                "Headline {i}\n\n{}",
                story(if i % 9 == 0 { 5 } else { 5000 + i })
            ),
        );
    }
    s.write(
        "in/c/more.jsonl.gz",
        common::gzip(
            format!(
                "{{\"id\":\"z\",\"text\":{}}}\n",
                serde_json::json!(story(7))
            )
            .as_bytes(),
        ),
    );
    s.write("in/c/notes.pdf", b"%PDF-1.4");
}

const CONFIG: &str = "[pipeline]\nstages = [\"repair\", \"dedup\", \"title\"]\nblock_bytes = 30000\nbatch_docs = 50\n[output]\nremoved = true\n";

fn plan(s: &Scratch, out: &str, keep_last: bool) -> Plan {
    let raw = RawConfig::parse(CONFIG, Path::new("p.toml")).unwrap();
    let ov = Overrides {
        inputs: vec![s.path("in")],
        output: Some(s.path(out)),
        threads: Some(2),
        ..Default::default()
    };
    let mut p = Plan::build(raw, ov, s.dir.path()).unwrap();
    p.dedup = Some(Box::new(ExactDedup::new(keep_last)));
    p
}

fn assert_same_corpus(s: &Scratch, a: &str, b: &str) {
    for f in OUTPUTS {
        let (x, y) = (
            std::fs::read(s.path(&format!("{a}/{f}"))).unwrap(),
            std::fs::read(s.path(&format!("{b}/{f}"))).unwrap(),
        );
        assert!(x == y, "{f} differs between {a} and {b}");
    }
    let ra: serde_json::Value = serde_json::from_str(&s.read(&format!("{a}/report.json"))).unwrap();
    let rb: serde_json::Value = serde_json::from_str(&s.read(&format!("{b}/report.json"))).unwrap();
    for k in [
        "documents",
        "bytes_in",
        "bytes_out",
        "chars_in",
        "chars_out",
        "input_files",
        "rejects",
        "encodings",
        "complete",
        "accounting_ok",
    ] {
        assert_eq!(ra[k], rb[k], "report.{k}");
    }
    for (name, st) in ra["stages"].as_object().unwrap() {
        assert_eq!(
            st["rules"], rb["stages"][name]["rules"],
            "stage {name} rules"
        );
        assert_eq!(
            st["documents_touched"], rb["stages"][name]["documents_touched"],
            "stage {name}"
        );
    }
}

fn sharded(s: &Scratch, out: &str, n: usize, keep_last: bool) -> Vec<Outcome> {
    let outcomes = (0..n)
        .map(|i| {
            shard::run_shard(plan(s, out, keep_last), ShardSpec { index: i, count: n }).unwrap()
        })
        .collect();
    shard::run_dedup(plan(s, out, keep_last), n).unwrap();
    shard::merge(plan(s, out, keep_last), n).unwrap();
    outcomes
}

#[test]
fn shards_plus_dedup_plus_merge_equal_one_run() {
    let s = Scratch::new();
    fixture(&s);
    for keep_last in [false, true] {
        presswash::pipeline::run(plan(&s, "single", keep_last), Default::default()).unwrap();
        let dups = s.read("single/duplicates.jsonl").lines().count();
        assert!(
            dups >= 10,
            "fixture must have duplicates across files, got {dups}"
        );
        assert!(s.read("single/rejects.jsonl").contains("bad-json"));
        for n in [1, 3, 4, 7] {
            let out = format!("sharded-{n}-{keep_last}");
            sharded(&s, &out, n, keep_last);
            assert_same_corpus(&s, "single", &out);
        }
    }
}

#[test]
fn rerun_skips_finished_shards_and_redoes_a_killed_one() {
    let s = Scratch::new();
    fixture(&s);
    presswash::pipeline::run(plan(&s, "single", false), Default::default()).unwrap();
    assert!(sharded(&s, "out", 4, false)
        .iter()
        .all(|o| *o == Outcome::Done));
    // Shard 2 "killed": no done marker, a half-written temporary file left behind.
    let dir = shard::shard_dir(&s.path("out"), ShardSpec { index: 2, count: 4 });
    std::fs::remove_file(dir.join("done.json")).unwrap();
    std::fs::write(dir.join(".records.bin.tmp-99999"), b"partial").unwrap();
    let again = sharded(&s, "out", 4, false);
    assert_eq!(
        again,
        vec![
            Outcome::AlreadyDone,
            Outcome::AlreadyDone,
            Outcome::Done,
            Outcome::AlreadyDone
        ]
    );
    assert!(!dir.join(".records.bin.tmp-99999").exists());
    assert_same_corpus(&s, "single", "out");
    // A changed input invalidates the shards that read it, and only those.
    std::fs::write(
        s.path("in/b/039.txt"),
        "Changed\n\nA new body for the last text file.",
    )
    .unwrap();
    let after = (0..4)
        .map(|i| {
            shard::run_shard(plan(&s, "out", false), ShardSpec { index: i, count: 4 }).unwrap()
        })
        .collect::<Vec<_>>();
    assert_eq!(
        after.iter().filter(|o| **o == Outcome::Done).count(),
        1,
        "{after:?}"
    );
}

#[test]
fn cli_shards_after_kill_9_match_a_single_run() {
    let s = Scratch::new();
    fixture(&s);
    // Make the dump large enough that a shard is still running when it is killed.
    let mut big = String::new();
    for i in 0..20000u64 {
        big.push_str(&format!(
            "{{\"id\":\"big{i}\",\"text\":{}}}\n",
            serde_json::json!(story(90_000 + i))
        ));
    }
    s.write("in/a/dump-9.jsonl", big);
    s.write(
        "p.toml",
        "[pipeline]\nstages = [\"repair\", \"typography\", \"dedup\"]\nblock_bytes = 200000\n",
    );
    let cwd = s.dir.path();
    let o = presswash(
        cwd,
        &["run", "-c", "p.toml", "-i", "in", "-o", "single", "-q"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    for i in 0..3 {
        let o = presswash(
            cwd,
            &[
                "run",
                "-c",
                "p.toml",
                "-i",
                "in",
                "-o",
                "out",
                "--shard",
                &format!("{i}/3"),
            ],
        );
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_presswash"))
        .current_dir(cwd)
        .args([
            "run", "-c", "p.toml", "-i", "in", "-o", "out", "--shard", "3/4",
        ])
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(40));
    let _ = child.kill(); // SIGKILL
    let _ = child.wait();
    let marker =
        shard::shard_dir(&s.path("out"), ShardSpec { index: 0, count: 3 }).join("done.json");
    let before = std::fs::metadata(&marker).unwrap().modified().unwrap();
    for i in 0..4 {
        let o = presswash(
            cwd,
            &[
                "run",
                "-c",
                "p.toml",
                "-i",
                "in",
                "-o",
                "out",
                "--shard",
                &format!("{i}/4"),
            ],
        );
        assert!(o.status.success(), "{}", stderr(&o));
    }
    // The 3-shard parts are a different split: untouched by the 4-shard run.
    assert_eq!(
        std::fs::metadata(&marker).unwrap().modified().unwrap(),
        before
    );
    let o = presswash(
        cwd,
        &[
            "run", "-c", "p.toml", "-i", "in", "-o", "out", "--shard", "1/4",
        ],
    );
    assert!(stderr(&o).contains("already done"), "{}", stderr(&o));
    for args in [
        &["dedup", "-c", "p.toml", "-o", "out", "--shards", "4"][..],
        &["merge", "-c", "p.toml", "-o", "out", "--shards", "4", "-q"],
    ] {
        let o = presswash(cwd, args);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    for f in [
        "clean.jsonl",
        "clean.csv",
        "duplicates.jsonl",
        "rejects.jsonl",
    ] {
        assert!(
            std::fs::read(s.path(&format!("single/{f}"))).unwrap()
                == std::fs::read(s.path(&format!("out/{f}"))).unwrap(),
            "{f}"
        );
    }
}

#[test]
fn shard_from_slurm_and_kubernetes_environment() {
    let s = Scratch::new();
    fixture(&s);
    let run = |envs: &[(&str, &str)], extra: &[&str]| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_presswash"));
        c.current_dir(s.dir.path())
            .args([
                "run", "-i", "in", "-o", "out", "--stages", "repair", "-q", "--shard", "auto",
            ])
            .args(extra);
        for k in [
            "SLURM_ARRAY_TASK_ID",
            "SLURM_ARRAY_TASK_COUNT",
            "SLURM_ARRAY_TASK_MIN",
            "JOB_COMPLETION_INDEX",
        ] {
            c.env_remove(k);
        }
        c.envs(envs.iter().copied()).output().unwrap()
    };
    let o = run(
        &[
            ("SLURM_ARRAY_TASK_ID", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "2"),
        ],
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(s.path("out/parts/shard-1-of-2/done.json").exists());
    let o = run(&[("JOB_COMPLETION_INDEX", "2")], &["--shards", "3"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(s.path("out/parts/shard-2-of-3/done.json").exists());
    let o = run(&[("JOB_COMPLETION_INDEX", "2")], &[]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "JOB_COMPLETION_INDEX without --shards is a usage error"
    );
    let o = run(&[], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--shard"), "{}", stderr(&o));
}

#[test]
fn merge_refuses_missing_shards() {
    let s = Scratch::new();
    fixture(&s);
    let cwd = s.dir.path();
    let o = presswash(
        cwd,
        &[
            "run", "-i", "in", "-o", "out", "--stages", "repair", "-q", "--shard", "0/2",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = presswash(
        cwd,
        &[
            "merge", "-i", "in", "-o", "out", "--stages", "repair", "--shards", "2",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("shard 1/2 has not finished"),
        "{}",
        stderr(&o)
    );
    assert!(!s.path("out/clean.jsonl").exists());
}

/// A news-like report of `paras` paragraphs from a vocabulary of 400 words (unrelated
/// reports share almost no 3-word shingles).
fn report(seed: u64, paras: usize) -> String {
    const SYL: &[&str] = &[
        "ka", "lo", "mer", "tis", "dan", "vor", "pel", "sun", "ri", "gal", "mon", "bre", "tha",
        "cu", "zen", "ol", "fa", "nik", "sa", "dor",
    ];
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = String::new();
    for p in 0..paras {
        if p > 0 {
            out.push_str("\n\n");
        }
        for i in 0..30 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if i > 0 {
                out.push(' ');
            }
            out.push_str(SYL[(x % 20) as usize]);
            out.push_str(SYL[((x >> 8) % 20) as usize]);
        }
        out.push('.');
    }
    out
}

/// Real near-duplicates for the MinHash dedup, spread over files so that copies land in
/// other shards than their originals: exact copies (also in other case and spacing),
/// truncated copies, edited copies, a lead-only copy (too short to count as a copy), and one
/// story republished many times (more copies than `max_bucket_scan`).
fn near_dup_fixture(s: &Scratch) {
    let edit = |t: &str, k: u64| -> String {
        let mut w: Vec<String> = t.split(' ').map(String::from).collect();
        for j in 0..4 {
            let at = ((k * 31 + j * 17) as usize) % w.len();
            w[at] = format!("edit{k}x{j}");
        }
        w.join(" ")
    };
    let truncate = |t: &str, keep: f64| -> String {
        let w: Vec<&str> = t.split(' ').collect();
        w[..(w.len() as f64 * keep) as usize].join(" ")
    };
    for f in 0..4u64 {
        let mut out = String::new();
        for i in 0..120u64 {
            let k = f * 120 + i;
            // Earlier stories (from this or earlier files) to copy.
            let src = |d: u64| report((k.saturating_sub(d)) % 480 + 1, 5);
            let (id, text) = match i % 12 {
                1 if k >= 40 => (format!("exact-{k}"), src(37)),
                2 if k >= 90 => (
                    format!("case-{k}"),
                    src(85).to_uppercase().replace(' ', "  "),
                ),
                3 if k >= 15 => (
                    format!("trunc-{k}"),
                    truncate(&src(13), 0.6 + (k % 4) as f64 * 0.1),
                ),
                4 if k >= 150 => (format!("edit-{k}"), edit(&src(140), k)),
                5 if k >= 7 => (
                    format!("lead-{k}"),
                    src(5).split("\n\n").next().unwrap_or_default().to_string(),
                ),
                6 | 7 => (
                    format!("popular-{k}"),
                    if k % 3 == 0 {
                        truncate(&report(999, 6), 0.9)
                    } else {
                        edit(&report(999, 6), k)
                    },
                ),
                9 => {
                    // A paragraph repeated inside the document (removed while summarising).
                    let t = report(k + 1, 3);
                    let first = t.split("\n\n").next().unwrap_or_default().to_string();
                    (format!("rep-{k}"), format!("{t}\n\n{first}"))
                }
                8 if k >= 200 => (
                    format!("longer-{k}"),
                    format!("{}\n\n{}", src(190), report(5000 + k, 2)),
                ),
                _ => (format!("r{k}"), report(k + 1, 3 + (k % 4) as usize)),
            };
            out.push_str(&format!(
                "{{\"id\":\"{id}\",\"text\":{}}}\n",
                serde_json::json!(text)
            ));
        }
        s.write(&format!("in/news-{f}.jsonl"), out);
    }
}

fn dedup_plan(s: &Scratch, out: &str, keep: &str) -> Plan {
    let cfg = format!(
        "[output]\nremoved = true\n[pipeline]\nstages = [\"repair\", \"dedup\", \"title\"]\nblock_bytes = 40000\nbatch_docs = 40\n\
         [stages.dedup]\nkeep = \"{keep}\"\nmax_bucket_scan = 4\n"
    );
    let raw = RawConfig::parse(&cfg, Path::new("p.toml")).unwrap();
    let ov = Overrides {
        inputs: vec![s.path("in")],
        output: Some(s.path(out)),
        threads: Some(2),
        ..Default::default()
    };
    Plan::build(raw, ov, s.dir.path()).unwrap()
}

#[test]
fn shards_plus_buckets_plus_clusters_equal_one_run() {
    let s = Scratch::new();
    near_dup_fixture(&s);
    for keep in ["first", "longest"] {
        let single = format!("single-{keep}");
        presswash::pipeline::run(dedup_plan(&s, &single, keep), Default::default()).unwrap();
        let dups = s.jsonl(&format!("{single}/duplicates.jsonl"));
        for kind in ["exact-", "case-", "trunc-", "edit-", "popular-", "longer-"] {
            let n = dups
                .iter()
                .filter(|d| {
                    d["id"].as_str().unwrap_or_default().starts_with(kind)
                        || d["duplicate_of"]
                            .as_str()
                            .unwrap_or_default()
                            .starts_with(kind)
                })
                .count();
            assert!(
                n >= 3,
                "{keep}: the fixture must have {kind} duplicates, got {n}"
            );
        }
        for n in [1, 3] {
            for ranges in [1, 3, 32] {
                let out = format!("split-{keep}-{n}-{ranges}");
                for i in 0..n {
                    shard::run_shard(dedup_plan(&s, &out, keep), ShardSpec { index: i, count: n })
                        .unwrap();
                }
                for j in 0..ranges {
                    let o = shard::split::run_buckets(
                        dedup_plan(&s, &out, keep),
                        n,
                        ShardSpec {
                            index: j,
                            count: ranges,
                        },
                    )
                    .unwrap();
                    assert_eq!(o, Outcome::Done);
                }
                assert_eq!(
                    shard::split::run_clusters(dedup_plan(&s, &out, keep), n, ranges).unwrap(),
                    Outcome::Done
                );
                for i in 0..n {
                    shard::run_filter(
                        &dedup_plan(&s, &out, keep),
                        ShardSpec { index: i, count: n },
                    )
                    .unwrap();
                }
                shard::merge(dedup_plan(&s, &out, keep), n).unwrap();
                assert_same_corpus(&s, &single, &out);
                // The verdicts are the clusters step's (merge did not redo them in one task).
                let r: serde_json::Value =
                    serde_json::from_str(&s.read(&format!("{out}/parts/dedup-of-{n}/report.json")))
                        .unwrap();
                assert_eq!(r["band_ranges"], ranges, "{out}");
                let rs: serde_json::Value =
                    serde_json::from_str(&s.read(&format!("{single}/report.json"))).unwrap();
                let rs_dedup = &rs["dedup"];
                assert!(
                    rs_dedup["repeated_paragraphs_removed"]
                        .as_u64()
                        .unwrap_or(0)
                        >= 10,
                    "{rs_dedup}"
                );
                let merged: serde_json::Value =
                    serde_json::from_str(&s.read(&format!("{out}/report.json"))).unwrap();
                for k in [
                    "documents",
                    "clusters",
                    "duplicate_clusters",
                    "exact_duplicates",
                    "near_duplicates",
                    "cluster_size_histogram",
                    "repeated_paragraphs_removed",
                ] {
                    assert_eq!(merged["dedup"][k], rs_dedup[k], "{out}: report.dedup.{k}");
                }
                for k in [
                    "documents",
                    "clusters",
                    "duplicate_clusters",
                    "exact_duplicates",
                    "near_duplicates",
                    "cluster_size_histogram",
                ] {
                    assert_eq!(r[k], rs["dedup"][k], "{out}: dedup.{k}");
                }
            }
        }
    }
}

#[test]
fn buckets_and_clusters_rerun_refuse_and_report_damage() {
    let s = Scratch::new();
    near_dup_fixture(&s);
    let cwd = s.dir.path();
    s.write(
        "p.toml",
        "[pipeline]\nstages = [\"dedup\"]\nblock_bytes = 40000\n",
    );
    let pw = |args: &[&str]| {
        let mut a = vec![args[0], "-c", "p.toml", "-i", "in", "-o", "out"];
        a.extend_from_slice(&args[1..]);
        presswash(cwd, &a)
    };
    let o = presswash(
        cwd,
        &["run", "-c", "p.toml", "-i", "in", "-o", "single", "-q"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    for i in 0..2 {
        assert!(pw(&["run", "--shard", &format!("{i}/2")]).status.success());
    }
    // A bucket range from the Slurm environment; clusters refuses while one is missing.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_presswash"))
        .current_dir(cwd)
        .args([
            "buckets", "-c", "p.toml", "-i", "in", "-o", "out", "--shards", "2", "--range", "auto",
        ])
        .env_remove("JOB_COMPLETION_INDEX")
        .env_remove("SLURM_ARRAY_TASK_MIN")
        .envs([
            ("SLURM_ARRAY_TASK_ID", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "3"),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(s
        .path("out/parts/buckets-of-2/range-1-of-3/done.json")
        .exists());
    let o = pw(&["clusters", "--shards", "2", "--ranges", "3"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("bucket range 0/3 has not finished"),
        "{}",
        stderr(&o)
    );
    for j in [0, 2] {
        let o = pw(&["buckets", "--shards", "2", "--range", &format!("{j}/3")]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let o = pw(&["buckets", "--shards", "2", "--range", "2/3"]);
    assert!(stderr(&o).contains("already done"), "{}", stderr(&o));
    // Another number of ranges is another split: its ranges are missing.
    let o = pw(&["clusters", "--shards", "2", "--ranges", "2"]);
    assert!(
        stderr(&o).contains("bucket range 0/2 has not finished"),
        "{}",
        stderr(&o)
    );
    // Bad flags are usage errors.
    for bad in [
        &["buckets", "--shards", "2", "--range", "3/3"][..],
        &["buckets", "--shards", "2"],
        &["clusters", "--shards", "2", "--ranges", "33"],
    ] {
        assert_eq!(pw(bad).status.code(), Some(2), "{bad:?}");
    }
    // A damaged match list: an error naming the file, no panic, no verdicts.
    let m = s.path("out/parts/buckets-of-2/range-1-of-3/matches.bin");
    let good = std::fs::read(&m).unwrap();
    assert!(good.len() > 16, "range 1/3 must have found matches");
    for cut in [good.len() - 3, 12, 9] {
        std::fs::write(&m, &good[..cut]).unwrap();
        let o = pw(&["clusters", "--shards", "2", "--ranges", "3"]);
        assert_eq!(o.status.code(), Some(1));
        assert!(
            stderr(&o).contains("matches.bin") && !stderr(&o).contains("panicked"),
            "{}",
            stderr(&o)
        );
    }
    let mut flipped = good.clone();
    flipped[8] ^= 0x40;
    std::fs::write(&m, &flipped).unwrap();
    let o = pw(&["clusters", "--shards", "2", "--ranges", "3"]);
    assert!(
        stderr(&o).contains("matches.bin") && !stderr(&o).contains("panicked"),
        "{}",
        stderr(&o)
    );
    std::fs::write(&m, &good).unwrap();
    // A damaged summaries file: the buckets task names it.
    let sp = s.path("out/parts/shard-1-of-2/summaries.bin");
    let sums = std::fs::read(&sp).unwrap();
    std::fs::write(&sp, &sums[..sums.len() - 5]).unwrap();
    std::fs::remove_file(s.path("out/parts/buckets-of-2/range-0-of-3/done.json")).unwrap();
    let o = pw(&["buckets", "--shards", "2", "--range", "0/3"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("summaries.bin") && !stderr(&o).contains("panicked"),
        "{}",
        stderr(&o)
    );
    std::fs::write(&sp, &sums).unwrap();
    let o = pw(&["buckets", "--shards", "2", "--range", "0/3"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Then clusters, filter and merge: the single run's corpus; a second clusters is skipped
    // and `dedup` sees the verdicts as done.
    for args in [
        &["clusters", "--shards", "2", "--ranges", "3"][..],
        &["merge", "--shards", "2", "-q"],
    ] {
        let o = pw(args);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    for args in [
        &["clusters", "--shards", "2", "--ranges", "3"][..],
        &["dedup", "--shards", "2"],
    ] {
        let o = pw(args);
        assert!(
            stderr(&o).contains("already done"),
            "{args:?}: {}",
            stderr(&o)
        );
    }
    for f in [
        "clean.jsonl",
        "clean.csv",
        "duplicates.jsonl",
        "rejects.jsonl",
    ] {
        assert!(
            std::fs::read(s.path(&format!("single/{f}"))).unwrap()
                == std::fs::read(s.path(&format!("out/{f}"))).unwrap(),
            "{f}"
        );
    }
}
