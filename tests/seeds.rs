//! The default job on the sample reports: what issue 2 says must hold on `out/`.
//! (The strings below are checks of the output, not rules: the stages know nothing of them.)

mod common;

use common::*;
use serde_json::Value;

fn run_seeds(s: &Scratch, extra: &[&str]) -> Vec<Value> {
    let repo = repo();
    let out = s.path("out");
    let mut args = vec![
        "run",
        "--config",
        "pipeline.toml",
        "--output",
        out.to_str().unwrap(),
        "-q",
    ];
    args.extend_from_slice(extra);
    let o = presswash(&repo, &args);
    assert!(o.status.success(), "{}", stderr(&o));
    s.jsonl("out/clean.jsonl")
}

fn full(doc: &Value) -> String {
    format!(
        "{}\n{}",
        doc["title"].as_str().unwrap_or(""),
        doc["text"].as_str().unwrap_or("")
    )
}

#[test]
fn all_five_reports_kept_and_accounted_for() {
    let s = Scratch::new();
    let docs = run_seeds(&s, &[]);
    assert_eq!(
        docs.len(),
        5,
        "the five reports are different reports of one story: all kept"
    );
    assert!(s.read("out/duplicates.jsonl").is_empty());
    let report: Value = serde_json::from_str(&s.read("out/report.json")).unwrap();
    assert_eq!(report["accounting_ok"], Value::Bool(true));
}

#[test]
fn boilerplate_lines_are_gone() {
    let s = Scratch::new();
    let docs = run_seeds(&s, &[]);
    let all: String = docs.iter().map(full).collect::<Vec<_>>().join("\n");
    for gone in [
        "RU  UA  EN",
        "ugc_banner",
        "main img",
        "Story highlights",
        "- Advertisment -",
        "- Advertisement -",
        "Please enter your comment!",
        "Please enter your name here",
        "Latest news",
        "Must read",
        "You might also likeRELATED",
        "Recommended to you",
        "Leave a Reply",
        "Your email address will not be published.",
        "648x415",
        "Watch: Ukraine-Russia Tensions",
    ] {
        let lines: Vec<&str> = all.lines().filter(|l| l.contains(gone)).collect();
        assert!(lines.is_empty(), "`{gone}` still in the output: {lines:?}");
    }
    assert!(!all.contains('\u{a0}'), "NBSP left in the output");
    assert!(
        all.lines().all(|l| l == l.trim_end()),
        "trailing spaces left"
    );
}

#[test]
fn reported_content_kept_once() {
    let s = Scratch::new();
    let docs = run_seeds(&s, &[]);
    let by = |prefix: &str| {
        docs.iter()
            .find(|d| d["id"].as_str().unwrap().starts_with(prefix))
            .map(full)
            .unwrap()
    };
    let d0 = by("000_");
    let count = |hay: &str, needle: &str| hay.matches(needle).count();
    assert_eq!(
        count(
            &d0.to_lowercase(),
            "stoltenberg discusses latest developments with ukraine's zelenskyy by phone"
        ),
        1,
        "{d0}"
    );
    assert_eq!(
        count(
            &d0,
            "he expressed NATO's support for Ukraine and urged Russia"
        ),
        1,
        "{d0}"
    );
    let d2 = by("002_");
    assert_eq!(
        count(&d2, "On Twitter, the foreign ministers of Latvia"),
        1,
        "{d2}"
    );
    let d3 = by("003_");
    assert!(d3.contains("Avoid the error of 2014"), "subhead lost: {d3}");
    assert!(d3.contains("immediately,” he said"), "{d3}");
    // Reported content stays: the paragraphs quoting officials in every report.
    for (p, needle) in [
        ("001_", "Stoltenberg"),
        ("002_", "NATO foreign ministers met by video conference"),
        ("004_", "Blinken is scheduled to start the tour"),
    ] {
        assert!(by(p).contains(needle), "{p}: lost `{needle}`");
    }
}

#[test]
fn seeds_output_does_not_depend_on_threads() {
    let a = Scratch::new();
    let b = Scratch::new();
    run_seeds(&a, &["--threads", "1"]);
    run_seeds(&b, &["--threads", "2"]);
    assert_eq!(a.read("out/clean.jsonl"), b.read("out/clean.jsonl"));
    assert_eq!(a.read("out/clean.csv"), b.read("out/clean.csv"));
}
