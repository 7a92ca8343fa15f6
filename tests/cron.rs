//! Incremental cron runs with `--state DIR`: only new files are processed, old stories do
//! not come back, overlapping runs are locked out, a failed run leaves the state as it was.

#[path = "common/barrier.rs"]
mod barrier;
mod common;

use std::path::Path;

use barrier::{story, ExactDedup};
use common::{presswash, stderr, Scratch};
use presswash::config::{Overrides, Plan, RawConfig};
use presswash::state;

fn plan(s: &Scratch, out: &str) -> Plan {
    let raw = RawConfig::parse(
        "[pipeline]\nstages = [\"repair\", \"dedup\"]\n",
        Path::new("p.toml"),
    )
    .unwrap();
    let ov = Overrides {
        inputs: vec![s.path("in")],
        output: Some(s.path(out)),
        threads: Some(2),
        ..Default::default()
    };
    let mut p = Plan::build(raw, ov, s.dir.path()).unwrap();
    p.dedup = Some(Box::new(ExactDedup::new(false)));
    p
}

fn day(s: &Scratch, name: &str, stories: std::ops::Range<u64>) {
    let mut out = String::new();
    for i in stories {
        out.push_str(&format!(
            "{{\"id\":\"{name}-{i}\",\"text\":{}}}\n",
            serde_json::json!(story(i))
        ));
    }
    s.write(&format!("in/{name}.jsonl"), out);
}

fn ids(s: &Scratch, f: &str) -> Vec<String> {
    s.jsonl(f)
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn second_run_processes_only_new_files_and_old_stories_do_not_come_back() {
    let s = Scratch::new();
    for d in 0..10u64 {
        day(&s, &format!("day{d:02}"), d * 20..d * 20 + 20);
    }
    let st = s.path("state");
    let first = state::run_with_state(plan(&s, "run1"), &st, Default::default()).unwrap();
    assert_eq!((first.new_files, first.skipped_files), (10, 0));
    assert_eq!(first.report.documents.kept, 200);

    // 10% new files: one new day with 15 new stories and 5 republished old ones.
    let mut out = String::new();
    for i in 500..515u64 {
        out.push_str(&format!(
            "{{\"id\":\"new-{i}\",\"text\":{}}}\n",
            serde_json::json!(story(i))
        ));
    }
    for i in [3u64, 47, 88, 150, 199] {
        out.push_str(&format!(
            "{{\"id\":\"again-{i}\",\"text\":{}}}\n",
            serde_json::json!(story(i).to_uppercase())
        ));
    }
    s.write("in/day10.jsonl", out);
    let second = state::run_with_state(plan(&s, "run2"), &st, Default::default()).unwrap();
    assert_eq!((second.new_files, second.skipped_files), (1, 10));
    assert_eq!(
        second.report.documents.read, 20,
        "only the new file is read"
    );
    let kept = ids(&s, "run2/clean.jsonl");
    assert_eq!(kept.len(), 15);
    assert!(kept.iter().all(|id| id.starts_with("new-")), "{kept:?}");
    let dups = s.jsonl("run2/duplicates.jsonl");
    assert_eq!(dups.len(), 5);
    assert_eq!(dups[0]["duplicate_of"], "day00-3");

    // Nothing new: nothing read. A touched but unchanged file is not new either.
    let f = std::fs::File::options()
        .append(true)
        .open(s.path("in/day03.jsonl"))
        .unwrap();
    f.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(5))
        .unwrap();
    let third = state::run_with_state(plan(&s, "run3"), &st, Default::default()).unwrap();
    assert_eq!((third.new_files, third.report.documents.read), (0, 0));
    // A changed file is processed again; its unchanged stories are now duplicates.
    day(&s, "day05", 100..120);
    let extra = format!(
        "{{\"id\":\"day05-900\",\"text\":{}}}\n",
        serde_json::json!(story(900))
    );
    let mut body = s.read("in/day05.jsonl");
    body.push_str(&extra);
    s.write("in/day05.jsonl", body);
    let fourth = state::run_with_state(plan(&s, "run4"), &st, Default::default()).unwrap();
    assert_eq!((fourth.new_files, fourth.report.documents.read), (1, 21));
    assert_eq!(ids(&s, "run4/clean.jsonl"), vec!["day05-900"]);
}

#[test]
fn a_failed_run_leaves_the_state_as_it_was() {
    let s = Scratch::new();
    day(&s, "a", 0..10);
    let st = s.path("state");
    state::run_with_state(plan(&s, "run1"), &st, Default::default()).unwrap();
    let snapshot = |p: &Path| -> Vec<(String, Vec<u8>)> {
        let mut v: Vec<_> = walkdir::WalkDir::new(p)
            .into_iter()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_file())
            .map(|e| {
                (
                    e.path().display().to_string(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let before = snapshot(&st);
    day(&s, "b", 10..20);
    s.write("blocked", "a file where the output folder should be");
    assert!(state::run_with_state(plan(&s, "blocked/out"), &st, Default::default()).is_err());
    assert_eq!(snapshot(&st), before, "state changed by a failed run");
    let next = state::run_with_state(plan(&s, "run2"), &st, Default::default()).unwrap();
    assert_eq!(next.new_files, 1, "the failed run's file is still new");
}

#[test]
fn overlapping_runs_are_locked_out_with_exit_code_3() {
    let s = Scratch::new();
    day(&s, "a", 0..5);
    let cwd = s.dir.path();
    std::fs::create_dir_all(s.path("state")).unwrap();
    // A live holder: this test process.
    s.write("state/lock", format!("{}\n", std::process::id()));
    let o = presswash(
        cwd,
        &[
            "run", "-i", "in", "-o", "out", "--stages", "repair", "--state", "state", "-q",
        ],
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("another run holds the lock"),
        "{}",
        stderr(&o)
    );
    assert!(!s.path("out/clean.jsonl").exists());
    // A stale lock (its process is gone) is taken over; one line for cron mail on stdout.
    s.write("state/lock", "4194303\n");
    let o = presswash(
        cwd,
        &[
            "run",
            "-i",
            "in",
            "-o",
            "out",
            "--stages",
            "repair",
            "--state",
            "state",
            "-q",
            "--summary-line",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let line = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(line.lines().count(), 1, "{line}");
    assert!(
        line.starts_with("presswash: ok: 1 new files (0 already seen), 5 read, 5 kept"),
        "{line}"
    );
    assert!(!s.path("state/lock").exists(), "lock released");
    let o = presswash(
        cwd,
        &[
            "run",
            "-i",
            "in",
            "-o",
            "out2",
            "--stages",
            "repair",
            "--state",
            "state",
            "-q",
            "--summary-line",
        ],
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("0 new files (1 already seen), 0 read"));
}

/// A made-up report: `paras` paragraphs of varied invented words (seeded, deterministic).
fn report(seed: u64, paras: usize) -> Vec<String> {
    const SYL: &[&str] = &[
        "ka", "lo", "mi", "ren", "tu", "sa", "vel", "do", "ne", "ri", "bo", "chan", "ti", "mar",
        "gu", "pe",
    ];
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..paras)
        .map(|_| {
            let words: Vec<String> = (0..28)
                .map(|_| {
                    let r = next();
                    (0..1 + r % 3)
                        .map(|k| SYL[((r >> (8 + 4 * k)) & 15) as usize])
                        .collect()
                })
                .collect();
            let mut p = words.join(" ");
            p.push('.');
            p
        })
        .collect()
}

fn line(id: &str, title: &str, paras: &[String]) -> String {
    format!(
        "{}\n",
        serde_json::json!({"id": id, "title": title, "text": paras.join("\n\n")})
    )
}

#[test]
fn cron_with_the_real_dedup_lets_no_republished_story_back() {
    let s = Scratch::new();
    let cwd = s.dir.path();
    for f in 0..10u64 {
        let mut body = String::new();
        for k in 0..6u64 {
            let n = f * 6 + k;
            body.push_str(&line(
                &format!("d{f}-{k}"),
                &format!("Story {n}"),
                &report(n, 6),
            ));
        }
        s.write(&format!("in/day{f:02}.jsonl"), body);
    }
    let run = |out: &str| {
        presswash(
            cwd,
            &[
                "run",
                "-i",
                "in",
                "-o",
                out,
                "--stages",
                "dedup",
                "--state",
                "state",
                "-q",
                "--summary-line",
            ],
        )
    };
    let o = run("run1");
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(ids(&s, "run1/clean.jsonl").len(), 60);
    assert!(s.path("state").read_dir().unwrap().count() > 0);

    // The next night: one new file with new stories and republished copies of old ones
    // (other headline, a dateline and site chrome added, the last paragraph cut, a typo).
    let mut body = String::new();
    for n in 100..106u64 {
        body.push_str(&line(
            &format!("new-{n}"),
            &format!("Story {n}"),
            &report(n, 6),
        ));
    }
    for (n, of) in [(3u64, "d0-3"), (17, "d2-5"), (42, "d7-0"), (59, "d9-5")] {
        let mut p = report(n, 6);
        p.truncate(5);
        p[0] = format!("PORT ELVAN (Wire) - {}", p[0]);
        p[2] = p[2].replacen('a', "e", 1);
        p.insert(0, "Home | World | Sport | Weather".to_string());
        body.push_str(&line(
            &format!("again-{of}"),
            &format!("UPDATE 2-Other headline for {n}"),
            &p,
        ));
    }
    s.write("in/day10.jsonl", body);
    let o = run("run2");
    assert!(o.status.success(), "{}", stderr(&o));
    let summary = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        summary.contains("1 new files (10 already seen), 10 read, 6 kept"),
        "{summary}"
    );
    let kept = ids(&s, "run2/clean.jsonl");
    assert_eq!(
        kept,
        (100..106).map(|n| format!("new-{n}")).collect::<Vec<_>>()
    );
    let dups = s.jsonl("run2/duplicates.jsonl");
    assert_eq!(dups.len(), 4);
    for d in &dups {
        let id = d["id"].as_str().unwrap();
        assert_eq!(
            d["duplicate_of"].as_str().unwrap(),
            id.trim_start_matches("again-"),
            "{d}"
        );
    }

    // A third night with nothing new reads nothing; a new copy of a new-run story is caught too.
    let mut p = report(103, 6);
    p.pop();
    s.write(
        "in/day11.jsonl",
        line("again-new-103", "Yet another headline", &p),
    );
    let o = run("run3");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(ids(&s, "run3/clean.jsonl").is_empty());
    assert_eq!(
        s.jsonl("run3/duplicates.jsonl")[0]["duplicate_of"],
        "new-103"
    );
}

#[test]
fn a_state_index_of_another_format_stops_the_run_with_one_clear_error() {
    let s = Scratch::new();
    let cwd = s.dir.path();
    s.write("in/a.jsonl", line("a-0", "Story", &report(1, 4)));
    let run = |out: &str| {
        presswash(
            cwd,
            &[
                "run", "-i", "in", "-o", out, "--stages", "dedup", "--state", "state", "-q",
            ],
        )
    };
    assert!(run("run1").status.success());
    // The format version follows the 8-byte magic.
    let index = walk(&s.path("state"))
        .into_iter()
        .find(|p| p.ends_with("index.bin"))
        .expect("index.bin");
    let mut bytes = std::fs::read(&index).unwrap();
    bytes[8..12].copy_from_slice(&999u32.to_le_bytes());
    std::fs::write(&index, &bytes).unwrap();
    s.write("in/b.jsonl", line("b-0", "Other story", &report(2, 4)));
    let o = run("run2");
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("index.bin") && err.contains("format version 999"),
        "{err}"
    );
    assert_eq!(
        err.matches("format version").count(),
        1,
        "said twice: {err}"
    );
    assert!(!s.path("run2/clean.jsonl").exists());
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
