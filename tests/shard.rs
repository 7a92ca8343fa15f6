//! Sharded runs: N shards + dedup step + merge give the single run's corpus byte for byte;
//! a killed shard is redone on rerun while finished shards are skipped; the shard can come
//! from the Slurm or Kubernetes environment.

mod common;
#[path = "common/barrier.rs"]
mod barrier;

use std::path::Path;

use barrier::{story, ExactDedup};
use common::{presswash, stderr, Scratch};
use presswash::config::{Overrides, Plan, RawConfig};
use presswash::shard::{self, Outcome, ShardSpec};

const OUTPUTS: [&str; 5] = ["clean.jsonl", "clean.csv", "duplicates.jsonl", "rejects.jsonl", "removed.jsonl"];

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
        s.write(&format!("in/b/{i:03}.txt"), format!("Headline {i}\n\n{}", story(if i % 9 == 0 { 5 } else { 5000 + i })));
    }
    s.write("in/c/more.jsonl.gz", common::gzip(format!("{{\"id\":\"z\",\"text\":{}}}\n", serde_json::json!(story(7))).as_bytes()));
    s.write("in/c/notes.pdf", b"%PDF-1.4");
}

const CONFIG: &str = "[pipeline]\nstages = [\"repair\", \"dedup\", \"title\"]\nblock_bytes = 30000\nbatch_docs = 50\n[output]\nremoved = true\n";

fn plan(s: &Scratch, out: &str, keep_last: bool) -> Plan {
    let raw = RawConfig::parse(CONFIG, Path::new("p.toml")).unwrap();
    let ov = Overrides { inputs: vec![s.path("in")], output: Some(s.path(out)), threads: Some(2), ..Default::default() };
    let mut p = Plan::build(raw, ov, s.dir.path()).unwrap();
    p.dedup = Some(Box::new(ExactDedup::new(keep_last)));
    p
}

fn assert_same_corpus(s: &Scratch, a: &str, b: &str) {
    for f in OUTPUTS {
        let (x, y) = (std::fs::read(s.path(&format!("{a}/{f}"))).unwrap(), std::fs::read(s.path(&format!("{b}/{f}"))).unwrap());
        assert!(x == y, "{f} differs between {a} and {b}");
    }
    let ra: serde_json::Value = serde_json::from_str(&s.read(&format!("{a}/report.json"))).unwrap();
    let rb: serde_json::Value = serde_json::from_str(&s.read(&format!("{b}/report.json"))).unwrap();
    for k in ["documents", "bytes_in", "bytes_out", "chars_in", "chars_out", "input_files", "rejects", "encodings", "complete", "accounting_ok"] {
        assert_eq!(ra[k], rb[k], "report.{k}");
    }
    for (name, st) in ra["stages"].as_object().unwrap() {
        assert_eq!(st["rules"], rb["stages"][name]["rules"], "stage {name} rules");
        assert_eq!(st["documents_touched"], rb["stages"][name]["documents_touched"], "stage {name}");
    }
}

fn sharded(s: &Scratch, out: &str, n: usize, keep_last: bool) -> Vec<Outcome> {
    let outcomes = (0..n).map(|i| shard::run_shard(plan(s, out, keep_last), ShardSpec { index: i, count: n }).unwrap()).collect();
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
        assert!(dups >= 10, "fixture must have duplicates across files, got {dups}");
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
    assert!(sharded(&s, "out", 4, false).iter().all(|o| *o == Outcome::Done));
    // Shard 2 "killed": no done marker, a half-written temporary file left behind.
    let dir = shard::shard_dir(&s.path("out"), ShardSpec { index: 2, count: 4 });
    std::fs::remove_file(dir.join("done.json")).unwrap();
    std::fs::write(dir.join(".records.bin.tmp-99999"), b"partial").unwrap();
    let again = sharded(&s, "out", 4, false);
    assert_eq!(again, vec![Outcome::AlreadyDone, Outcome::AlreadyDone, Outcome::Done, Outcome::AlreadyDone]);
    assert!(!dir.join(".records.bin.tmp-99999").exists());
    assert_same_corpus(&s, "single", "out");
    // A changed input invalidates the shards that read it, and only those.
    std::fs::write(s.path("in/b/039.txt"), "Changed\n\nA new body for the last text file.").unwrap();
    let after = (0..4).map(|i| shard::run_shard(plan(&s, "out", false), ShardSpec { index: i, count: 4 }).unwrap()).collect::<Vec<_>>();
    assert_eq!(after.iter().filter(|o| **o == Outcome::Done).count(), 1, "{after:?}");
}

#[test]
fn cli_shards_after_kill_9_match_a_single_run() {
    let s = Scratch::new();
    fixture(&s);
    // Make the dump large enough that a shard is still running when it is killed.
    let mut big = String::new();
    for i in 0..20000u64 {
        big.push_str(&format!("{{\"id\":\"big{i}\",\"text\":{}}}\n", serde_json::json!(story(90_000 + i))));
    }
    s.write("in/a/dump-9.jsonl", big);
    s.write("p.toml", "[pipeline]\nstages = [\"repair\", \"typography\", \"dedup\"]\nblock_bytes = 200000\n");
    let cwd = s.dir.path();
    let o = presswash(cwd, &["run", "-c", "p.toml", "-i", "in", "-o", "single", "-q"]);
    assert!(o.status.success(), "{}", stderr(&o));
    for i in 0..3 {
        let o = presswash(cwd, &["run", "-c", "p.toml", "-i", "in", "-o", "out", "--shard", &format!("{i}/3")]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_presswash"))
        .current_dir(cwd)
        .args(["run", "-c", "p.toml", "-i", "in", "-o", "out", "--shard", "3/4"])
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(40));
    let _ = child.kill(); // SIGKILL
    let _ = child.wait();
    let marker = shard::shard_dir(&s.path("out"), ShardSpec { index: 0, count: 3 }).join("done.json");
    let before = std::fs::metadata(&marker).unwrap().modified().unwrap();
    for i in 0..4 {
        let o = presswash(cwd, &["run", "-c", "p.toml", "-i", "in", "-o", "out", "--shard", &format!("{i}/4")]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    // The 3-shard parts are a different split: untouched by the 4-shard run.
    assert_eq!(std::fs::metadata(&marker).unwrap().modified().unwrap(), before);
    let o = presswash(cwd, &["run", "-c", "p.toml", "-i", "in", "-o", "out", "--shard", "1/4"]);
    assert!(stderr(&o).contains("already done"), "{}", stderr(&o));
    for args in [&["dedup", "-c", "p.toml", "-o", "out", "--shards", "4"][..], &["merge", "-c", "p.toml", "-o", "out", "--shards", "4", "-q"]] {
        let o = presswash(cwd, args);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    for f in ["clean.jsonl", "clean.csv", "duplicates.jsonl", "rejects.jsonl"] {
        assert!(std::fs::read(s.path(&format!("single/{f}"))).unwrap() == std::fs::read(s.path(&format!("out/{f}"))).unwrap(), "{f}");
    }
}

#[test]
fn shard_from_slurm_and_kubernetes_environment() {
    let s = Scratch::new();
    fixture(&s);
    let run = |envs: &[(&str, &str)], extra: &[&str]| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_presswash"));
        c.current_dir(s.dir.path()).args(["run", "-i", "in", "-o", "out", "--stages", "repair", "-q", "--shard", "auto"]).args(extra);
        for k in ["SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_TASK_MIN", "JOB_COMPLETION_INDEX"] {
            c.env_remove(k);
        }
        c.envs(envs.iter().copied()).output().unwrap()
    };
    let o = run(&[("SLURM_ARRAY_TASK_ID", "1"), ("SLURM_ARRAY_TASK_COUNT", "2")], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(s.path("out/parts/shard-1-of-2/done.json").exists());
    let o = run(&[("JOB_COMPLETION_INDEX", "2")], &["--shards", "3"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(s.path("out/parts/shard-2-of-3/done.json").exists());
    let o = run(&[("JOB_COMPLETION_INDEX", "2")], &[]);
    assert_eq!(o.status.code(), Some(2), "JOB_COMPLETION_INDEX without --shards is a usage error");
    let o = run(&[], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--shard"), "{}", stderr(&o));
}

#[test]
fn merge_refuses_missing_shards() {
    let s = Scratch::new();
    fixture(&s);
    let cwd = s.dir.path();
    let o = presswash(cwd, &["run", "-i", "in", "-o", "out", "--stages", "repair", "-q", "--shard", "0/2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = presswash(cwd, &["merge", "-i", "in", "-o", "out", "--stages", "repair", "--shards", "2"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("shard 1/2 has not finished"), "{}", stderr(&o));
    assert!(!s.path("out/clean.jsonl").exists());
}
