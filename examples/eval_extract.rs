//! Run the extractor over a folder of `.html` pages and write `{"id","title","text"}` JSONL
//! (id = file stem), for scoring with the shared scorer. Prints pages/s and MB/s.
//!
//!     cargo run --release --example eval_extract -- DIR OUT.jsonl
//!     TRACE=<id prefix> cargo run --example eval_extract -- DIR /dev/null   # explain one page

use std::io::Write;

use presswash::stages::extract::{extract, Options};

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: eval_extract DIR OUT.jsonl");
        std::process::exit(2);
    }
    let mut paths: Vec<_> = std::fs::read_dir(&args[1])?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .map(|x| x == "html" || x == "htm")
                .unwrap_or(false)
        })
        .collect();
    paths.sort();
    let pages: Vec<(String, String)> = paths
        .iter()
        .map(|p| {
            let bytes = std::fs::read(p)?;
            let id = p
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            Ok((id, String::from_utf8_lossy(&bytes).into_owned()))
        })
        .collect::<std::io::Result<_>>()?;
    if let Ok(want) = std::env::var("TRACE") {
        for (id, html) in &pages {
            if id.starts_with(&want) {
                print!(
                    "{}",
                    presswash::stages::extract::trace(html, &Options::default())
                );
            }
        }
        return Ok(());
    }
    let bytes: usize = pages.iter().map(|p| p.1.len()).sum();
    let opts = Options::default();
    let reps = std::env::var("REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1usize);
    let t0 = std::time::Instant::now();
    let mut results = Vec::new();
    for _ in 0..reps {
        results = pages.iter().map(|(_, html)| extract(html, &opts)).collect();
    }
    let secs = t0.elapsed().as_secs_f64() / reps as f64;
    let mut out = std::io::BufWriter::new(std::fs::File::create(&args[2])?);
    for ((id, _), ex) in pages.iter().zip(&results) {
        let line = serde_json::json!({"id": id, "title": ex.title, "text": ex.text});
        writeln!(out, "{line}")?;
    }
    eprintln!(
        "{} pages, {:.1} MB in {:.3}s: {:.0} pages/s, {:.1} MB/s (1 thread)",
        pages.len(),
        bytes as f64 / 1e6,
        secs,
        pages.len() as f64 / secs,
        bytes as f64 / 1e6 / secs
    );
    Ok(())
}
