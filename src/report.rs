//! `report.json`: what came in, what went out, what every stage and rule removed, why
//! documents were rejected, which encodings were seen, and how long each stage took.
//! The accounting identity `read = kept + duplicates + rejected` is checked here.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::document::Document;
use crate::input::RejectRecord;

#[derive(Debug, Default, Clone, Serialize)]
pub struct DocCounts {
    pub read: u64,
    pub kept: u64,
    pub duplicates: u64,
    pub rejected: u64,
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct StageReport {
    /// Actions per rule (removed lines, fixed characters, ...), summed over documents.
    pub rules: BTreeMap<String, u64>,
    /// Documents the stage changed in any way it counted.
    pub documents_touched: u64,
    /// Wall-clock seconds spent in the stage (all threads together count once).
    pub seconds: f64,
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct Report {
    pub presswash_version: String,
    /// True once the run finished and every output file was renamed into place.
    pub complete: bool,
    pub documents: DocCounts,
    /// `read == kept + duplicates + rejected`.
    pub accounting_ok: bool,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub chars_in: u64,
    pub chars_out: u64,
    pub input_files: u64,
    pub stages_run: Vec<String>,
    pub stages: BTreeMap<String, StageReport>,
    pub rejects: BTreeMap<String, u64>,
    pub encodings: BTreeMap<String, u64>,
    pub dedup: serde_json::Value,
    pub threads: usize,
    pub seconds_total: f64,
    pub seconds_read_parse: f64,
    pub seconds_write: f64,
    /// The second pass of a keep policy that needs the whole corpus (`most-complete`,
    /// `longest`): reading the spool back and writing each document where it goes.
    pub seconds_resolve: f64,
    pub mb_per_s: f64,
}

/// Add `n` to `map`'s count of `key`. Why not `entry`: it takes an owned key, and every
/// document's log made and dropped a dozen `String`s on the sequential back thread.
fn add_count(map: &mut BTreeMap<String, u64>, key: &str, n: u64) {
    match map.get_mut(key) {
        Some(v) => *v += n,
        None => {
            map.insert(key.to_string(), n);
        }
    }
}

impl Report {
    pub fn new(stages_run: &[String], threads: usize) -> Report {
        let mut r = Report {
            presswash_version: env!("CARGO_PKG_VERSION").to_string(),
            stages_run: stages_run.to_vec(),
            threads,
            ..Default::default()
        };
        for s in stages_run {
            r.stages.entry(s.clone()).or_default();
        }
        r
    }

    /// Account for a document that was read and parsed (kept or not later).
    pub fn doc_read(&mut self, doc: &Document) {
        add_count(&mut self.encodings, doc.encoding, 1);
        self.chars_in += doc.chars_in as u64;
    }

    /// Add a document's per-stage log.
    pub fn doc_log(&mut self, doc: &Document) {
        let counts = &doc.log.counts;
        for (i, c) in counts.iter().enumerate() {
            // a handful of counts: the stage's first one is found by looking back
            let first = !counts[..i].iter().any(|p| p.stage == c.stage);
            if !self.stages.contains_key(c.stage) {
                self.stages
                    .insert(c.stage.to_string(), StageReport::default());
            }
            if let Some(st) = self.stages.get_mut(c.stage) {
                add_count(&mut st.rules, &c.rule, c.n);
                st.documents_touched += u64::from(first);
            }
        }
    }

    pub fn kept(&mut self, doc: &Document) {
        self.kept_counted(doc, doc.text.chars().count());
    }

    /// [`Report::kept`] with the text's characters already counted.
    pub fn kept_counted(&mut self, doc: &Document, chars: usize) {
        self.kept_bytes(doc.text.len(), chars);
    }

    /// A kept document of `bytes` bytes and `chars` characters of text.
    pub fn kept_bytes(&mut self, bytes: usize, chars: usize) {
        self.documents.kept += 1;
        self.bytes_out += bytes as u64;
        self.chars_out += chars as u64;
    }

    pub fn reject(&mut self, r: &RejectRecord) {
        self.documents.rejected += 1;
        *self.rejects.entry(r.reject.reason.to_string()).or_default() += 1;
    }

    /// Add the counts of `other` (a part of the same run) to this report.
    pub fn add(&mut self, other: &Report) {
        crate::shard::Tally::of(other, 0.0).add_to(self);
    }

    pub fn check_accounting(&mut self) -> bool {
        let d = &self.documents;
        self.accounting_ok = d.read == d.kept + d.duplicates + d.rejected;
        self.accounting_ok
    }

    pub fn to_json(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).unwrap_or_default();
        v.push(b'\n');
        v
    }

    /// The one-screen summary printed on stderr at the end of a run.
    pub fn summary(&self, out_dir: &std::path::Path) -> String {
        let d = &self.documents;
        let mut s = String::new();
        s.push_str(&format!(
            "presswash: {} documents read from {} files: {} kept, {} duplicates, {} rejected{}\n",
            d.read,
            self.input_files,
            d.kept,
            d.duplicates,
            d.rejected,
            if self.accounting_ok {
                ""
            } else {
                "  (ACCOUNTING MISMATCH)"
            }
        ));
        s.push_str(&format!(
            "  {:.1} MB in, {:.1} MB out, {:.2} s, {:.1} MB/s, {} threads\n",
            self.bytes_in as f64 / 1e6,
            self.bytes_out as f64 / 1e6,
            self.seconds_total,
            self.mb_per_s,
            self.threads
        ));
        // what reading mended (damaged UTF-8) first, when anything; it is not a timed stage
        let read = Some(crate::input::READ).filter(|r| self.stages.contains_key(*r));
        for name in read
            .into_iter()
            .chain(self.stages_run.iter().map(String::as_str))
        {
            if let Some(st) = self.stages.get(name) {
                let mut rules: Vec<_> = st.rules.iter().collect();
                rules.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
                let top: Vec<String> = rules
                    .iter()
                    .take(4)
                    .map(|(k, v)| format!("{k} {v}"))
                    .collect();
                let seconds = if read == Some(name) {
                    String::new()
                } else {
                    format!("{:.2} s", st.seconds)
                };
                s.push_str(&format!(
                    "  {:<12} {:>9}  {} docs touched{}{}\n",
                    name,
                    seconds,
                    st.documents_touched,
                    if top.is_empty() { "" } else { ": " },
                    top.join(", ")
                ));
            }
        }
        if !self.rejects.is_empty() {
            let r: Vec<String> = self
                .rejects
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect();
            s.push_str(&format!("  rejects: {}\n", r.join(", ")));
        }
        s.push_str(&format!("  output: {}\n", out_dir.display()));
        s
    }
}
