//! Dev tool: run the dedup stage alone over a JSONL file of `{"id","text"}` documents in input
//! order and write the predicted clusters (`{"id","cluster"}`, the cluster named after the
//! kept document) for `score_dedup.py --pred`.
//!
//! `cargo run --release --example eval_dedup -- docs.jsonl pred.jsonl [dedup-config-toml] [threads]`
//! e.g. the third argument `'keep = "longest"\nbands = 32\nrows = 4'`.

use std::collections::HashMap;
use std::io::{BufRead, BufWriter, Write};
use std::time::Instant;

use presswash::dedup::{Admission, BarrierStage, Config};
use presswash::document::{Document, Format};
use rayon::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: eval_dedup IN.jsonl OUT.jsonl [config-toml] [threads]");
        std::process::exit(2);
    }
    let cfg: Config = toml::from_str(
        &args
            .get(3)
            .cloned()
            .unwrap_or_default()
            .replace("\\n", "\n"),
    )?;
    let threads: usize = args.get(4).and_then(|t| t.parse().ok()).unwrap_or(2);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    let mut stage = cfg.build()?;
    let mut docs = Vec::new();
    let mut bytes = 0usize;
    for (i, line) in std::io::BufReader::new(std::fs::File::open(&args[1])?)
        .lines()
        .enumerate()
    {
        let line = line?;
        let v: serde_json::Value = serde_json::from_str(&line)?;
        let id = v["id"].as_str().unwrap_or_default().to_string();
        let text = v["text"].as_str().unwrap_or_default().to_string();
        bytes += text.len();
        docs.push(Document::new(
            i as u64,
            id,
            args[1].clone(),
            Format::Jsonl,
            text,
        ));
    }
    let t = Instant::now();
    let mut verdicts: Vec<Admission> = Vec::with_capacity(docs.len());
    let (mut t_sum, mut t_admit) = (0.0, 0.0);
    for chunk in docs.chunks_mut(1024) {
        let t0 = Instant::now();
        let sums: Vec<_> =
            pool.install(|| chunk.par_iter_mut().map(|d| stage.summarise(d)).collect());
        let t1 = Instant::now();
        for (d, s) in chunk.iter_mut().zip(sums) {
            verdicts.push(stage.admit(d, s));
        }
        t_sum += (t1 - t0).as_secs_f64();
        t_admit += t1.elapsed().as_secs_f64();
    }
    eprintln!("summarise {t_sum:.3}s, admit {t_admit:.3}s");
    let fin: HashMap<u64, Admission> = stage.finish().into_iter().collect();
    let secs = t.elapsed().as_secs_f64();
    let mut of: HashMap<String, String> = HashMap::new();
    let mut sims: Vec<(String, String, f64)> = Vec::new();
    for (d, v) in docs.iter().zip(&verdicts) {
        let v = if *v == Admission::Deferred {
            fin.get(&d.seq).cloned().unwrap_or(Admission::Keep)
        } else {
            v.clone()
        };
        if let Admission::Duplicate { of: o, similarity } = v {
            of.insert(d.id.clone(), o.clone());
            sims.push((d.id.clone(), o, similarity));
        }
    }
    let mut w = BufWriter::new(std::fs::File::create(&args[2])?);
    for d in &docs {
        let mut c = d.id.clone();
        let mut hops = 0;
        while let Some(n) = of.get(&c) {
            c = n.clone();
            hops += 1;
            if hops > docs.len() {
                break;
            }
        }
        writeln!(w, "{}", serde_json::json!({"id": d.id, "cluster": c}))?;
    }
    if let Ok(p) = std::env::var("DEDUP_SIMS") {
        let mut s = BufWriter::new(std::fs::File::create(p)?);
        for (a, b, x) in sims {
            writeln!(
                s,
                "{}",
                serde_json::json!({"id": a, "duplicate_of": b, "similarity": x})
            )?;
        }
    }
    eprintln!(
        "{} docs, {:.1} MB in {:.3}s: {:.0} docs/s, {:.1} MB/s",
        docs.len(),
        bytes as f64 / 1e6,
        secs,
        docs.len() as f64 / secs,
        bytes as f64 / 1e6 / secs
    );
    eprintln!("{}", serde_json::to_string(&stage.report())?);
    Ok(())
}
