//! Run the pure `repair` function over a JSONL file and print `{"id","text"}` predictions:
//! `cargo run --release --example eval_repair -- cases.jsonl [field]` (field defaults to `input`).

use std::io::{BufRead, Write};

use presswash::stages::repair::{repair, Options};

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().unwrap_or_default();
    let field = args.next().unwrap_or_else(|| "input".into());
    let Ok(f) = std::fs::File::open(&path) else {
        eprintln!("cannot open {path}");
        std::process::exit(2);
    };
    let opts = Options::default();
    let out = std::io::stdout();
    // Buffered: the row measures the function, not a write(2) per line of a LineWriter.
    let mut out = std::io::BufWriter::with_capacity(1 << 20, out.lock());
    for line in std::io::BufReader::new(f).lines().map_while(Result::ok) {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        let text = v.get(&field).and_then(|t| t.as_str()).unwrap_or("");
        let (fixed, _) = repair(text, &opts);
        let _ = writeln!(out, "{}", serde_json::json!({"id": v["id"], "text": fixed}));
    }
}
