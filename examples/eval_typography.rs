//! Dev tool: run the `typography` function over a JSONL file and write predictions, or time it.
//!
//! cargo run --release --example eval_typography -- IN.jsonl OUT.jsonl [--field input]
//! cargo run --release --example eval_typography -- --bench IN.jsonl [--field input] [--kind clean]

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::time::Instant;

use presswash::stages::typography::{quick_clean, typography, Options};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let field = flag("--field").unwrap_or_else(|| "input".into());
    let kind = flag("--kind");
    let lang = flag("--lang");
    let bench = args.iter().any(|a| a == "--bench");
    let pos: Vec<&String> = args
        .iter()
        .enumerate()
        .filter(|(i, a)| {
            !a.starts_with("--")
                && (*i == 0 || !matches!(args[i - 1].as_str(), "--field" | "--kind" | "--lang"))
        })
        .map(|(_, a)| a)
        .collect();
    let input = pos
        .first()
        .ok_or_else(|| anyhow::anyhow!("usage: eval_typography IN.jsonl OUT.jsonl"))?;
    let opts = Options::default();
    let mut docs = Vec::new();
    for line in BufReader::new(std::fs::File::open(input)?).lines() {
        let v: serde_json::Value = serde_json::from_str(&line?)?;
        if let Some(k) = &kind {
            if v.get("kind").and_then(|x| x.as_str()) != Some(k.as_str()) {
                continue;
            }
        }
        if let Some(l) = &lang {
            if v.get("lang").and_then(|x| x.as_str()) != Some(l.as_str()) {
                continue;
            }
        }
        let id = v.get("id").cloned().unwrap_or(serde_json::Value::Null);
        let text = v
            .get(&field)
            .and_then(|x| x.as_str())
            .unwrap_or("")
            .to_string();
        docs.push((id, text));
    }
    if bench {
        let quick = docs.iter().filter(|d| quick_clean(&d.1, &opts)).count();
        println!("quick-clean: {quick} of {}", docs.len());
        let bytes: usize = docs.iter().map(|d| d.1.len()).sum();
        let reps = (200_000_000 / bytes.max(1)).max(1);
        // Calibration on the same data, to read the result on a busy machine.
        let t = Instant::now();
        let mut n = 0usize;
        for _ in 0..reps {
            n += docs.iter().map(|d| d.1.chars().count()).sum::<usize>();
        }
        println!(
            "calibration, chars().count(): {:.1} MB/s ({n})",
            (bytes * reps) as f64 / t.elapsed().as_secs_f64() / 1e6
        );
        let t = Instant::now();
        let mut changed = 0usize;
        for _ in 0..reps {
            for (_, text) in &docs {
                if let std::borrow::Cow::Owned(_) = typography(text, &opts).0 {
                    changed += 1;
                }
            }
        }
        let secs = t.elapsed().as_secs_f64();
        println!(
            "{} docs, {} bytes x {} reps: {:.1} MB/s ({} changed per rep)",
            docs.len(),
            bytes,
            reps,
            (bytes * reps) as f64 / secs / 1e6,
            changed / reps
        );
        return Ok(());
    }
    let out = pos
        .get(1)
        .ok_or_else(|| anyhow::anyhow!("missing OUT.jsonl"))?;
    let mut w = BufWriter::new(std::fs::File::create(out)?);
    for (id, text) in &docs {
        let (t, _) = typography(text, &opts);
        serde_json::to_writer(&mut w, &serde_json::json!({"id": id, "text": t}))?;
        w.write_all(b"\n")?;
    }
    Ok(())
}
