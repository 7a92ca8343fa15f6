//! Profiling aid: the stop-word tally of `boilerplate` alone (the facts of a line the memo
//! has not seen start with it), over the distinct trimmed lines of a JSONL dump, best of 5.
//!
//! ```sh
//! cargo run --release --example prof_tally -- DUMP.jsonl
//! ```
//! Prints a checksum of the counts, so that two builds can be compared for equal results.

use std::collections::HashSet;
use std::time::Instant;

use presswash::stages::boilerplate::lang::{Lang, StopWords};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: prof_tally DUMP.jsonl")?;
    let text = std::fs::read_to_string(&path)?;
    let mut seen = HashSet::new();
    let mut lines: Vec<String> = Vec::new();
    for l in text.lines() {
        let v: serde_json::Value = serde_json::from_str(l)?;
        for line in v["text"].as_str().unwrap_or("").lines() {
            let t = line.trim();
            if !t.is_empty() && seen.insert(t.to_string()) {
                lines.push(t.to_string());
            }
        }
    }
    let sw = StopWords::builtin();
    let bytes: usize = lines.iter().map(|l| l.len()).sum();
    let (mut best, mut check) = (f64::MAX, 0u64);
    for _ in 0..5 {
        let mut buf = String::new();
        let mut hits = [0u32; 32];
        check = 0;
        let t = Instant::now();
        for l in &lines {
            let c = sw.tally(l, &mut hits, &mut buf).counts(Lang::Words(0));
            check = check.wrapping_mul(31).wrapping_add(
                (c.words + 7 * c.stops + 13 * c.cased + 17 * c.upper) as u64,
            );
        }
        best = best.min(t.elapsed().as_secs_f64());
        check = check.wrapping_add(hits.iter().map(|&h| h as u64).sum::<u64>());
    }
    println!(
        "{} distinct lines, {:.1} MB: best {best:.3} s ({:.0} MB/s), checksum {check}",
        lines.len(),
        bytes as f64 / 1e6,
        bytes as f64 / best / 1e6
    );
    Ok(())
}
