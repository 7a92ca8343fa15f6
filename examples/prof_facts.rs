//! Profiling aid: what `boilerplate` computes for a line its memo has not seen (the stop-word
//! tally, the length in characters, the rule packs, the byline and timestamp tests), each
//! part alone over the distinct trimmed lines of a JSONL dump, best of 3.
//!
//! ```sh
//! cargo run --release --example prof_facts -- DUMP.jsonl          # every part
//! cargo run --release --example prof_facts -- DUMP.jsonl tally    # one part (for perf)
//! ```
//! Each part prints a checksum of its results, so that two builds can be compared.

use std::collections::HashSet;
use std::time::Instant;

use presswash::stages::boilerplate::lang::{Lang, StopWords};
use presswash::stages::boilerplate::{fields, rules};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// The distinct trimmed non-blank lines of the `text` fields of a JSONL dump.
fn distinct_lines(path: &str) -> Res<Vec<String>> {
    let text = std::fs::read_to_string(path)?;
    let mut seen = HashSet::new();
    let mut lines = Vec::new();
    for l in text.lines() {
        let v: serde_json::Value = serde_json::from_str(l)?;
        for line in v["text"].as_str().unwrap_or("").lines() {
            let t = line.trim();
            if !t.is_empty() && seen.insert(t.to_string()) {
                lines.push(t.to_string());
            }
        }
    }
    Ok(lines)
}

fn main() -> Res<()> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or("usage: prof_facts DUMP.jsonl [tally|chars|rules|byline|timestamp]")?;
    let only = args.next().unwrap_or_default();
    let lines = distinct_lines(&path)?;
    let bytes: usize = lines.iter().map(|l| l.len()).sum();
    println!(
        "{} distinct lines, {:.1} MB",
        lines.len(),
        bytes as f64 / 1e6
    );
    let stop = StopWords::builtin();
    let rules = rules::RuleSet::compile(&rules::merge_rules(rules::builtin_rules()?, &[], &[])?)?;
    fields::init();
    let chars: Vec<usize> = lines.iter().map(|l| l.chars().count()).collect();
    let (mut buf, mut sc, mut hits) = (String::new(), rules::Scratch::default(), [0u32; 32]);
    for part in ["tally", "chars", "rules", "byline", "timestamp"] {
        if !only.is_empty() && only != part {
            continue;
        }
        let (mut best, mut check) = (f64::MAX, 0u64);
        for _ in 0..3 {
            check = 0;
            let t = Instant::now();
            for (l, &c) in lines.iter().zip(&chars) {
                let x = match part {
                    "tally" => {
                        let n = stop.tally(l, &mut hits, &mut buf).counts(Lang::Words(0));
                        (n.words + 7 * n.stops + 13 * n.cased + 17 * n.upper) as u64
                    }
                    "chars" => l.chars().count() as u64,
                    "rules" => rules.matches(l, c, &mut sc).map_or(0, |r| r as u64 + 1),
                    "byline" => fields::byline_trimmed(l, c).map_or(0, |b| b.len() as u64),
                    _ => fields::timestamp(l) as u64,
                };
                check = check.wrapping_mul(31).wrapping_add(x);
            }
            best = best.min(t.elapsed().as_secs_f64());
        }
        if part == "tally" {
            check = check.wrapping_add(hits.iter().map(|&h| h as u64).sum::<u64>());
        }
        println!(
            "{part}: best {best:.3} s ({:.0} MB/s), checksum {check}",
            bytes as f64 / best / 1e6
        );
    }
    Ok(())
}
