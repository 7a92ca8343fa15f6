//! Decode every file of a folder and print `{"id","text","encoding"}` lines (id = file stem), for
//! scoring the decoder against a truth file: `cargo run --release --example eval_decode -- DIR`.

use std::io::Write;

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| ".".into());
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    paths.sort();
    let out = std::io::stdout();
    let mut out = out.lock();
    for p in paths {
        let Ok(bytes) = std::fs::read(&p) else {
            continue;
        };
        let id = p
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let (text, enc) = match presswash::input::decode::decode(&bytes) {
            Ok(d) => (d.text, d.encoding.to_string()),
            Err(e) => (String::new(), format!("error: {e}")),
        };
        let line = serde_json::json!({"id": id, "text": text, "encoding": enc});
        let _ = writeln!(out, "{line}");
    }
}
