//! Profiling aid: each stage's own time, on one thread, over the documents of a JSONL dump
//! (the `text`, `id` and `source` fields of every line), without reading, parsing or writing
//! costs around it. Good under `perf record` and for A/B runs of two builds.
//!
//! ```sh
//! cargo run --release --example prof_stages -- DUMP.jsonl            # every stage once
//! cargo run --release --example prof_stages -- DUMP.jsonl boilerplate 5   # best of 5
//! cargo run --release --example prof_stages -- DUMP.jsonl dedup 3     # summarise / admit
//! ```
//! The stages run in the default order on the output of the ones before, in batches of 2048
//! documents as in the pipeline (a stage's `prepare` sees one batch, and is timed apart: it
//! runs on rayon's threads). Not a benchmark against anything: `bench/run.sh` is.

use std::time::Instant;

use presswash::dedup::BarrierStage;
use presswash::document::{Document, Format};
use presswash::stages::StagesConfig;

/// The binary's allocator, so that allocation costs are those of a real run.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn load(path: &str) -> Res<Vec<Document>> {
    let text = std::fs::read_to_string(path)?;
    let mut docs = Vec::new();
    for (i, l) in text.lines().enumerate() {
        let v: serde_json::Value =
            serde_json::from_str(l).map_err(|e| format!("{path}:{}: {e}", i + 1))?;
        let field = |k: &str| v[k].as_str().unwrap_or("").to_string();
        let mut d = Document::new(
            i as u64,
            field("id"),
            format!("{path}:{}", i + 1),
            Format::Jsonl,
            field("text"),
        );
        d.source = field("source");
        docs.push(d);
    }
    Ok(docs)
}

fn main() -> Res<()> {
    // the binary's allocator settings (see `main.rs`): pages kept, no transparent huge pages
    // SAFETY: plain integer options, set before any thread starts.
    unsafe { libmimalloc_sys::mi_option_set(15, -1) };
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and only changes this process's policy.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
    let args: Vec<String> = std::env::args().collect();
    let Some(path) = args.get(1) else {
        return Err("usage: prof_stages DUMP.jsonl [STAGE] [REPEATS]".into());
    };
    let only = args.get(2).cloned().unwrap_or_default();
    let reps: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1).max(1);
    let mut docs = load(path)?;
    let bytes: usize = docs.iter().map(|d| d.text.len()).sum();
    let cfg = StagesConfig::default();
    for name in presswash::stages::DOC_STAGE_NAMES {
        let Some(stage) = cfg.build(name).transpose()? else {
            continue;
        };
        // the whole stage's time and, within it, its batch preparation's
        let run = |docs: &mut [Document]| {
            let t = Instant::now();
            let mut prep = 0.0;
            for chunk in docs.chunks_mut(2048) {
                let p = Instant::now();
                let state = {
                    let batch: Vec<&Document> = chunk.iter().collect();
                    stage.prepare(&batch)
                };
                prep += p.elapsed().as_secs_f64();
                for d in chunk.iter_mut() {
                    let _ = stage.apply(d, state.as_ref());
                }
            }
            (t.elapsed().as_secs_f64(), prep)
        };
        let show = |(secs, prep): (f64, f64)| {
            if prep > 0.001 {
                format!("{secs:.3} s (prepare {prep:.3} s)")
            } else {
                format!("{secs:.3} s")
            }
        };
        if *name == only {
            let best = (0..reps)
                .map(|_| run(&mut docs.clone()))
                .fold((f64::MAX, 0.0), |a, b| if b.0 < a.0 { b } else { a });
            println!(
                "{name}: {}, {:.1} MB/s",
                show(best),
                bytes as f64 / 1e6 / best.0
            );
        }
        let secs = run(&mut docs);
        if only.is_empty() {
            println!("{name}: {}", show(secs));
        }
    }
    if only.is_empty() || only == "dedup" {
        let dcfg = presswash::dedup::Config::default();
        let (mut sum, mut admit) = (f64::MAX, f64::MAX);
        for _ in 0..reps {
            let mut st = dcfg.build()?;
            let mut c = docs.clone();
            let t = Instant::now();
            let sums: Vec<_> = c.iter_mut().map(|d| st.summarise(d)).collect();
            sum = sum.min(t.elapsed().as_secs_f64());
            let t = Instant::now();
            for (d, s) in c.iter_mut().zip(sums) {
                std::hint::black_box(st.admit(d, s));
            }
            admit = admit.min(t.elapsed().as_secs_f64());
        }
        println!("dedup: summarise {sum:.3} s, admit {admit:.3} s");
    }
    Ok(())
}
